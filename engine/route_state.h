/*
 * route_state.h - private to engine/route*.c: the layout of a team_state.
 *
 * Counters are keyed by rep id rather than by the rep's index in the team, so
 * a config reload that adds, removes or reorders reps keeps the counters of
 * the reps that stay. Slots of reps that left the config are kept: their open
 * leads still get feedback, and they come back intact if the rep returns.
 */
#ifndef LR_ROUTE_STATE_H
#define LR_ROUTE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

/*
 * The rep's UTC offset over [lo, hi] UTC seconds, known to lie in one
 * interval of its time zone. glib looks intervals up with a linear scan
 * (about 0.5 us for Europe/Berlin in 2026), and a decision may need several
 * per rep. Not part of the changelog: it is derived from the config. tz_name
 * guards against a reloaded config whose zone reuses a freed address.
 */
struct tz_cache {
	const GTimeZone *tz;
	int interval;
	int32_t offset;
	int64_t lo, hi;
	char tz_name[64];
};

struct rep_slot {
	char *id;
	int64_t current_weight; /* smooth weighted round robin */
	int64_t day;            /* latest rep-local day handed a lead */
	uint32_t day_count;     /* handoffs counted on it, late ones too */
	uint32_t open;          /* handed off, not yet answered */
	uint64_t total;         /* handoffs ever (for operators) */
	struct tz_cache tzc;
};

struct team_state {
	char *team;
	struct rep_slot *slots;
	size_t nslots, cap;
	uint64_t seq;      /* routing decisions made for this team */
	uint64_t handoffs; /* decisions that reached a rep (not overflow) */
};

/* The slot of rep id, or NULL; hint is the index to try first. */
struct rep_slot *team_state_slot_find(const struct team_state *ts,
				      const char *id, size_t hint);
/* The slot of rep id, created at zero when missing; NULL on OOM. */
struct rep_slot *team_state_slot_get(struct team_state *ts, const char *id,
				     size_t hint);

/* Local calendar day number (days since 1970-01-01 local) of a rep; s,
 * when not NULL, caches the time zone lookup. */
int64_t route_rep_local_day(const struct rep *rep, struct rep_slot *s,
			    int64_t ts_ms);

#endif
