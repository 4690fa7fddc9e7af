/*
 * lead.h - stage 1: the lead table, scoring, fit grade, qualification and
 * the territory that picks a lead's team.
 *
 * One lead_table holds the leads of one input partition (or, in simulate,
 * all of them). The caller owns the table; nothing here is global, so the
 * Kafka stage keeps one per partition and drops it on revocation. A lead's
 * state serializes to one changelog record (lead_encode / lead_decode) that
 * restores it exactly.
 */
#ifndef LR_LEAD_H
#define LR_LEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rules.h"
#include "strv.h"

enum lead_lifecycle {
	LEAD_ANONYMOUS, /* no e-mail / userId seen yet */
	LEAD_KNOWN,     /* identified, nurturing */
	LEAD_MQL,       /* qualified, handoff not yet confirmed */
	LEAD_HANDED_OFF,
	LEAD_ACCEPTED,
	LEAD_REJECTED,
	LEAD_CONVERTED,
	LEAD_RECYCLED,
	LEAD_LIFECYCLE_COUNT
};

/* Why a lead may not qualify whatever its score: the first disqualifier
 * (fit.disqualify) its traits meet, in this order. */
enum lead_disq {
	LEAD_DISQ_NONE,
	LEAD_DISQ_FREEMAIL,
	LEAD_DISQ_COMPETITOR,
	LEAD_DISQ_EXCLUDED,
	LEAD_DISQ_TITLE,
	LEAD_DISQ_COUNT
};

/*
 * Where a lead stands against qualification now (lead_qual_check): the
 * first check it fails, in the order qualification applies them, or
 * LEAD_QUAL_OK. Qualification is this and nothing else: a lead qualifies
 * on an event exactly when the check says LEAD_QUAL_OK after it.
 */
enum lead_qual {
	LEAD_QUAL_OK,           /* qualifies */
	LEAD_QUAL_HANDED_OFF,   /* past qualification for this cycle */
	LEAD_QUAL_DISQUALIFIED, /* lead_disq_get says which disqualifier */
	LEAD_QUAL_GRADE,        /* fit grade worse than min_grade */
	LEAD_QUAL_THRESHOLD,    /* score below score_threshold */
	LEAD_QUAL_TRAIT,        /* one of required_traits missing */
	LEAD_QUAL_COUNT
};

struct lead;       /* opaque outside engine/lead*.c */
struct lead_table; /* open-addressing table of leads */

/* What applying one event did. */
enum lead_outcome {
	LEAD_DUPLICATE, /* messageId seen before: nothing changed */
	LEAD_UPDATED,   /* state changed, no handoff */
	LEAD_QUALIFIED, /* became an MQL now: an assign command was built */
};

/*
 * The command stage 1 sends to stage 2 when a lead qualifies (topic
 * leadrouter.assign, key = team). json is a complete JSON object (see
 * README, "assign command"); the caller frees it with free().
 */
struct assign_cmd {
	char *json;
	size_t len;
	const char *team; /* points into the config; the record key */
};

struct lead_table *lead_table_new(void);
void lead_table_free(struct lead_table *t);
size_t lead_table_count(const struct lead_table *t);
/* Approximate bytes held by the table and its leads (for benchmarks). */
size_t lead_table_bytes(const struct lead_table *t);
/* Traits dropped or evicted at a lead's trait cap (LEAD_TRAITS_MAX) since
 * the table was made: a what-if run shows whether its leads hit it. */
uint64_t lead_table_traits_dropped(const struct lead_table *t);
struct lead *lead_table_find(const struct lead_table *t, struct strv key);
/*
 * Hints, no effect on state. At a million leads a lookup waits on two
 * dependent cache (and TLB) misses: the table slot, then the lead it
 * points to. A caller that knows upcoming keys while it still has work to
 * do (parsing, output) can hide both by pipelining: for event i, call
 * lead_table_prefetch for the key of event i + 2 and
 * lead_table_prefetch_lead for the key of event i + 1 (whose slot the
 * earlier call brought in), then apply event i. Calling only
 * lead_table_prefetch one event ahead hides the slot miss alone. The
 * lead's ext block is a third miss: see lead_table_prefetch_ext_hashed.
 */
void lead_table_prefetch(const struct lead_table *t, struct strv key);
void lead_table_prefetch_lead(const struct lead_table *t, struct strv key);
/*
 * The same calls on a key hashed once by lead_key_hash: a pipelining
 * caller looks each key up as often as three or four times (the hints and
 * the apply), and hashing a UUID each time cost as much as the rest of
 * the lookup. h must be lead_key_hash(key) of the
 * event's lead_key; anything else breaks the table.
 */
uint64_t lead_key_hash(struct strv key);
void lead_table_prefetch_hashed(const struct lead_table *t, uint64_t h);
void lead_table_prefetch_lead_hashed(const struct lead_table *t,
				     struct strv key, uint64_t h);
/* A third stage, for a caller that looks three events ahead: the lead's
 * variable-size block (score records, traits), once
 * lead_table_prefetch_lead_hashed has had an event's time to bring the
 * lead in. It reads the slot and the lead, so called too early it waits
 * on them instead of hiding anything. */
void lead_table_prefetch_ext_hashed(const struct lead_table *t, uint64_t h);
void lead_table_remove(struct lead_table *t, struct strv key);
/* Calls fn for each lead; fn must not add or remove leads. */
void lead_table_foreach(const struct lead_table *t,
			void (*fn)(const struct lead *l, void *arg), void *arg);

/*
 * Apply one parsed event to its lead (created on first sight). Returns the
 * outcome; on LEAD_QUALIFIED, *cmd holds the assign command. The lead, if
 * non-NULL, is stored in *out for the caller's dirty tracking.
 */
enum lead_outcome lead_event_apply(const struct engine_config *cfg,
				   struct lead_table *t, const struct event *ev,
				   struct lead **out, struct assign_cmd *cmd);
enum lead_outcome lead_event_apply_hashed(const struct engine_config *cfg,
					  struct lead_table *t,
					  const struct event *ev, uint64_t h,
					  struct lead **out,
					  struct assign_cmd *cmd);

/* Sales feedback for a lead ("accepted", "rejected", "converted",
 * "recycled"), at event time ts_ms. Returns 0, or -1 when unknown. */
int lead_feedback_apply(const struct engine_config *cfg, struct lead_table *t,
			struct strv key, const char *outcome, int64_t ts_ms);

/* Accessors (tests, simulate summary, the daemon). */
struct strv lead_key(const struct lead *l);
double lead_score_at(const struct engine_config *cfg, const struct lead *l,
		     int64_t ts_ms);
char lead_grade(const struct lead *l); /* 'A'..'D', or 0 without traits */
enum lead_lifecycle lead_lifecycle_get(const struct lead *l);
enum lead_disq lead_disq_get(const struct lead *l);
const char *lead_disq_name(enum lead_disq d); /* "none", "freemail", ... */
unsigned lead_cycle(const struct lead *l);    /* 1, then +1 per restart */
const char *lead_lifecycle_name(enum lead_lifecycle s);
int64_t lead_last_seen(const struct lead *l);
/*
 * Why l does not qualify under cfg now (pure: reads l, changes nothing).
 * A lead in nurture (anonymous, known) gets the first failing check:
 * disqualified, then grade, then score, then required traits. Any other
 * state is LEAD_QUAL_HANDED_OFF, whatever its score or traits: mql,
 * handed_off, accepted and converted leads are with sales, and rejected
 * and recycled last only inside the feedback call that sends the lead
 * back to nurture (known or anonymous, a new cycle).
 */
enum lead_qual lead_qual_check(const struct engine_config *cfg,
			       const struct lead *l);
/* "qualified", "handed_off", "disqualified", "grade_below_min",
 * "below_threshold", "missing_trait" */
const char *lead_qual_name(enum lead_qual q);
/* True when the lead may be deleted: idle since before now - ttl, its
 * decayed score below min_score in absolute value, and never handed off
 * (those keep their cycle, hence distinct handoff ids, for good). */
bool lead_is_expired(const struct engine_config *cfg, const struct lead *l,
		     int64_t now_ms, int64_t ttl_ms, double min_score);

/*
 * Changelog: lead_encode writes the lead's full state as a JSON object into
 * a malloc'd buffer (*out, *len); lead_decode restores a lead under key from
 * such a record (replacing any lead with that key). Returns 0 or -1.
 * Score records name their rule, so both take the config: a record
 * restored after a reload that reorders the rules credits the same rules,
 * and the record of a rule the config no longer has is dropped with its
 * points. The grade and disqualification are recomputed from the stored
 * traits under cfg (new fit rules and disqualifiers apply at once). A
 * malformed record is refused and leaves the table alone.
 */
int lead_encode(const struct engine_config *cfg, const struct lead *l,
		char **out, size_t *len);
int lead_decode(const struct engine_config *cfg, struct lead_table *t,
		struct strv key, const char *val, size_t len);

#endif
