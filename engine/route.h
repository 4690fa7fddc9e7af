/*
 * route.h - stage 2: pick the rep for a qualified lead and build the handoff.
 *
 * Routing state (round-robin weights, per-day counts, open leads) lives in a
 * team_state the caller owns: one per team, so the Kafka stage keeps it with
 * the team's partition and the simulator keeps all of them. Decisions use the
 * lead's qualification time, never the wall clock, so the same input always
 * routes the same way.
 */
#ifndef LR_ROUTE_H
#define LR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "strv.h"

struct team_state; /* opaque; per team */

/* Why a rep was (or was not) chosen. */
enum route_strategy {
	ROUTE_NAMED_ACCOUNT,
	ROUTE_WEIGHTED_ROUND_ROBIN,
	ROUTE_OVERFLOW,
};

struct route_decision {
	const struct team *team;
	const struct rep *rep; /* NULL when the lead went to overflow */
	const char *rep_id;    /* rep->id, or team->overflow_queue */
	enum route_strategy strategy;
	char reason[256]; /* human explanation, no personal data */
};

/* A handoff ready to publish: key = rep_id, value = json (caller frees). */
struct handoff {
	char *json;
	size_t len;
	const char *team;   /* points into the config */
	const char *rep_id; /* points into the config */
	enum route_strategy strategy;
	char handoff_id[48];
};

/* The handoff id of a lead's cycle and routing attempt:
 * "<16 hex digits of XXH3-64 over lead + "\n" + cycle>-<attempt>". Returns
 * 0, or -1 when out of memory. */
int route_handoff_id_make(struct strv lead, int64_t cycle, unsigned attempt,
			  char *out, size_t outlen);
/* True when id has that form. */
bool route_handoff_id_valid(struct strv id);
/* True when two valid ids name the same lead and cycle (any attempt). */
bool route_handoff_id_same_cycle(struct strv a, struct strv b);

/* "named_account", "weighted_round_robin" or "overflow", as in the handoff. */
const char *route_strategy_name(enum route_strategy s);

struct team_state *team_state_new(const struct team *team);
void team_state_free(struct team_state *ts);

/* Availability of one rep at ts_ms (working hours in the rep's time zone,
 * out of office, paused), with a short reason when unavailable. */
bool route_rep_available(const struct rep *rep, int64_t ts_ms,
			 const char **why);

/*
 * Route an assign command (the JSON object stage 1 built) for team ts and
 * produce the handoff. Updates ts (cursor, counts). Returns 0, or -1 with
 * err filled when the command is malformed or names an unknown team.
 */
int route_assign_apply(const struct engine_config *cfg, struct team_state *ts,
		       const char *cmd_json, size_t len, struct handoff *out,
		       char *err, size_t errlen);

/* Lower-level: choose a rep, given the lead's e-mail domain / groupId. */
void route_choose(const struct team *team, struct team_state *ts,
		  struct strv email_domain, struct strv group_id, int64_t ts_ms,
		  struct route_decision *d);

/* Feedback that frees a rep's slot ("accepted", "rejected", "converted"
 * close an open lead). Returns 0, or -1 when rep_id is unknown. */
int team_state_feedback(struct team_state *ts, const char *rep_id,
			const char *outcome);

/* Changelog: one JSON record per team; decode replaces the state. */
int team_state_encode(const struct team_state *ts, char **out, size_t *len);
int team_state_decode(struct team_state *ts, const char *val, size_t len);

#endif
