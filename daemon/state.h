/*
 * state.h - the daemon's in-memory state, partitioned as the input is.
 *
 * Stage 1 keeps one lead table per partition of the events topic (partition
 * p of the feedback topic shares table p: the two are co-partitioned). Stage
 * 2 keeps one team table per partition of the assign topic. Each part tracks
 * what changed since the last commit, so a commit writes one changelog record
 * per changed lead or team (as Kafka Streams' record cache does), and knows
 * nothing of Kafka: the pipeline restores and flushes it.
 */
#ifndef LR_STATE_H
#define LR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/lead.h"
#include "../engine/strv.h"

struct team_state;
struct engine_config;

/* Which inputs hold a lead part open (both may). */
#define STATE_REF_EVENTS   0x1u
#define STATE_REF_FEEDBACK 0x2u

struct state;

struct state *state_new(int nleads, int nteams);
void state_free(struct state *st);
int state_leads_count(const struct state *st);
int state_teams_count(const struct state *st);

/*
 * Lead parts. state_leads_ref adds an input's reference and returns true
 * when the part was closed before (the caller restores it); unref returns
 * true when the part closed (its table is gone).
 */
bool state_leads_ref(struct state *st, int p, unsigned ref);
bool state_leads_unref(struct state *st, int p, unsigned ref);
bool state_leads_open(const struct state *st, int p);
/* Drop the table and dirty set and start empty (abort, restore). */
void state_leads_reset(struct state *st, int p);
struct lead_table *state_leads_table(struct state *st, int p);
void state_lead_dirty(struct state *st, int p, struct strv key);
/* Latest event time seen in the part: the expiry clock. */
int64_t state_leads_now(const struct state *st, int p);
void state_leads_advance(struct state *st, int p, int64_t ts_ms);
/* The same, but not past cap_ms (0: no cap): a lead read back from the
 * changelog may be dated far ahead (written before event times were
 * bounded); it keeps its time, the part's clock does not follow it. */
void state_leads_advance_capped(struct state *st, int p, int64_t ts_ms,
				int64_t cap_ms);

/*
 * Apply an event to part p's table (lead_event_apply): the lead, the dirty
 * set and the part's clock change together, or, for a duplicate, none of
 * them. *lead and cmd as lead_event_apply leaves them.
 */
enum lead_outcome state_lead_event_apply(struct state *st, int p,
					 const struct engine_config *cfg,
					 const struct event *ev,
					 struct lead **lead,
					 struct assign_cmd *cmd);

/*
 * Call fn for each dirty lead of part p (l is NULL when the lead is gone:
 * write a tombstone), then clear the set. fn returns -1 to stop; the set is
 * cleared anyway, since a failed commit aborts and restores.
 */
typedef int(state_lead_flush_fn)(int p, struct strv key, const struct lead *l,
				 void *arg);
int state_leads_flush(struct state *st, int p, state_lead_flush_fn *fn,
		      void *arg);
size_t state_leads_dirty_count(const struct state *st, int p);

/*
 * Expire at most max leads of part p (lead_is_expired at the part's clock):
 * removed from the table and marked dirty for a tombstone. Returns the count.
 */
size_t state_leads_expire(struct state *st, int p,
			  const struct engine_config *cfg, int64_t ttl_ms,
			  double min_score, size_t max);

/* Team parts, one per assign partition. */
void state_teams_open(struct state *st, int q);
void state_teams_close(struct state *st, int q);
bool state_teams_is_open(const struct state *st, int q);
void state_teams_reset(struct state *st, int q);
/* The team's state, created (empty) on first use; NULL for an unknown
 * team. */
struct team_state *state_team_get(struct state *st, int q,
				  const struct engine_config *cfg,
				  const char *name);
/* Replace the team's state with ts (restore); takes ownership. */
void state_team_put(struct state *st, int q, const char *name,
		    struct team_state *ts);
void state_team_remove(struct state *st, int q, const char *name);
void state_team_dirty(struct state *st, int q, const char *name);

typedef int(state_team_flush_fn)(int q, const char *name,
				 const struct team_state *ts, void *arg);
int state_teams_flush(struct state *st, int q, state_team_flush_fn *fn,
		      void *arg);
size_t state_teams_dirty_count(const struct state *st, int q);

/* Totals for logs and metrics. */
size_t state_leads_total(const struct state *st);
size_t state_teams_total(const struct state *st);
/* Traits dropped at the lead tables' size cap since start, the tables
 * since freed included (lead_table_traits_dropped). */
uint64_t state_traits_dropped(const struct state *st);

#endif
