/*
 * score_index.h - which score rules an event can match, as bit masks.
 *
 * Built from the rules once, when the config is loaded. For every event
 * type it holds the rules whose types admit it. Most rules also test the
 * event name, path or url with EQ, IN or PREFIX; such a rule is "gated"
 * on that slice and filed under the byte its strings require at one
 * position (or under "absent" / "shorter than the position"), so one
 * table row per slice names the gated rules still possible. The masks
 * only ever over-approximate: every candidate is still evaluated in full,
 * so an index changes which rules are visited, never a result.
 */
#ifndef LR_SCORE_INDEX_H
#define LR_SCORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rules.h"

enum score_gate {
	SCORE_GATE_NAME,
	SCORE_GATE_PATH,
	SCORE_GATE_URL,
	SCORE_GATES
};

/* The gate of a condition source that reads the event's own slice (the
 * event name, path or url, never looked up on the lead), or SCORE_GATES
 * for every other source. */
static inline enum score_gate score_gate_of_src(enum field_src src)
{
	switch (src) {
	case FIELD_EVENT_NAME:
		return SCORE_GATE_NAME;
	case FIELD_PATH:
		return SCORE_GATE_PATH;
	case FIELD_URL:
		return SCORE_GATE_URL;
	default:
		return SCORE_GATES;
	}
}

/* The event's slice for gate g (one of the three). */
static inline struct strv score_gate_slice(const struct event *ev,
					   enum score_gate g)
{
	return g == SCORE_GATE_NAME   ? ev->name
	       : g == SCORE_GATE_PATH ? ev->path
				      : ev->url;
}

#define SCORE_KEY_ABSENT  256u /* the event has no such slice */
#define SCORE_KEY_SHORT   257u /* the slice ends at or before the position */
#define SCORE_KEYS        258u
#define SCORE_KEY_POS_MAX 8u /* positions tried when choosing one */

struct score_index {
	size_t nrules;   /* sc->nrules it was built for */
	size_t nindexed; /* rules it covers: those lead_score_event visits */
	size_t nwords;   /* 64-rule words per mask */
	unsigned pos[SCORE_GATES];   /* byte position each gate keys on */
	uint64_t *type;              /* [EVENT_TYPE_COUNT][nwords] */
	uint64_t *ungated;           /* [nwords] */
	uint64_t *gate[SCORE_GATES]; /* [SCORE_KEYS][nwords] */
	uint64_t words[];            /* storage for the masks above */
};

/* The rows of the tables that one event selects. */
struct score_rows {
	const uint64_t *type, *ungated, *gate[SCORE_GATES];
};

/* The key of a slice for a gate keyed on byte position pos. */
static inline unsigned score_index_key(struct strv s, unsigned pos)
{
	if (!s.p)
		return SCORE_KEY_ABSENT;
	if (s.len <= pos)
		return SCORE_KEY_SHORT;
	return (unsigned char)s.p[pos];
}

static inline void score_index_rows(const struct score_index *ix,
				    const struct event *ev,
				    struct score_rows *r)
{
	r->type = ix->type + (size_t)ev->type * ix->nwords;
	r->ungated = ix->ungated;
	for (unsigned g = 0; g < SCORE_GATES; g++)
		r->gate[g] =
			ix->gate[g] +
			score_index_key(score_gate_slice(ev, g), ix->pos[g]) *
				ix->nwords;
}

/* Candidates among rules [64 * w, 64 * w + 64). */
static inline uint64_t score_rows_word(const struct score_rows *r, size_t w)
{
	return r->type[w] &
	       (r->ungated[w] | r->gate[SCORE_GATE_NAME][w] |
		r->gate[SCORE_GATE_PATH][w] | r->gate[SCORE_GATE_URL][w]);
}

/* The index, when built for sc as it is now; NULL otherwise. */
static inline const struct score_index *
score_index_of(const struct scoring_config *sc)
{
	const struct score_index *ix = sc->index;

	return ix && ix->nrules == sc->nrules ? ix : NULL;
}

#endif
