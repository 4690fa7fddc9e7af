/*
 * score_index.c - building the candidate masks of score_index.h.
 *
 * Building is the only place that reasons about what a condition can
 * accept; lead_score_event then evaluates the candidates exactly as it
 * evaluates every rule without an index.
 */
#include "score_index.h"

#include <stdlib.h>
#include <string.h>

/* The slice a condition reads, when it is one the index can key on: a
 * plain (not negated) EQ, IN or PREFIX of the event name, path or url,
 * which fails on an absent slice and needs one of its strings at every
 * position. */
static bool score_index_gate_of(const struct cond *c, enum score_gate *g)
{
	if (c->negate)
		return false;
	if (c->op != COND_IN && c->op != COND_PREFIX &&
	    !(c->op == COND_EQ && !c->is_num))
		return false;
	*g = score_gate_of_src(c->src);
	return *g != SCORE_GATES;
}

/* The rule's first condition the index can key on, or NULL. */
static const struct cond *score_index_rule_gate(const struct score_rule *r,
						enum score_gate *g)
{
	for (size_t i = 0; i < r->nconds; i++)
		if (score_index_gate_of(&r->conds[i], g))
			return &r->conds[i];
	return NULL;
}

/* cond.c folds A-Z only; equal under its folding is what EQ/IN test. */
static unsigned char score_index_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Can a slice with this key at pos satisfy string w of gate condition c?
 * EQ and IN need the whole slice equal to w ignoring case, so the same
 * length and a byte that folds alike; PREFIX needs w's bytes exactly, and
 * says nothing about a position past w's end but that the slice exists. */
static bool score_index_str_admits(enum cond_op op, const char *w, unsigned pos,
				   unsigned key)
{
	size_t len = strlen(w);

	if (op == COND_PREFIX) {
		if (len <= pos)
			return key != SCORE_KEY_ABSENT;
		return key == (unsigned char)w[pos];
	}
	if (len <= pos)
		return key == SCORE_KEY_SHORT;
	return key < 256 && score_index_lower((unsigned char)key) ==
				    score_index_lower((unsigned char)w[pos]);
}

static bool score_index_admits(const struct cond *c, unsigned pos, unsigned key)
{
	for (size_t i = 0; i < c->nstrs; i++)
		if (score_index_str_admits(c->op, c->strs[i], pos, key))
			return true;
	return false;
}

/* The position for gate g that leaves the fewest candidates, by the sum
 * over keys of the squared number of rules filed under the key: the
 * expected work if events spread over the keys like the rules do. */
static unsigned score_index_pos_choose(const struct scoring_config *sc,
				       size_t n, enum score_gate g)
{
	uint64_t best = UINT64_MAX;
	unsigned best_pos = 0;

	for (unsigned pos = 0; pos < SCORE_KEY_POS_MAX; pos++) {
		uint64_t cnt[SCORE_KEYS] = {0}, cost = 0;

		for (size_t i = 0; i < n; i++) {
			enum score_gate rg;
			const struct cond *c =
				score_index_rule_gate(&sc->rules[i], &rg);
			if (!c || rg != g)
				continue;
			for (unsigned key = 0; key < SCORE_KEYS; key++)
				cnt[key] += score_index_admits(c, pos, key);
		}
		for (unsigned key = 0; key < SCORE_KEYS; key++)
			cost += cnt[key] * cnt[key];
		if (cost < best) {
			best = cost;
			best_pos = pos;
		}
	}
	return best_pos;
}

static void score_index_bit_set(uint64_t *row, size_t i)
{
	row[i / 64] |= UINT64_C(1) << (i % 64);
}

static void score_index_rule_add(struct score_index *ix,
				 const struct score_rule *r, size_t i)
{
	const struct cond *c;
	enum score_gate g;

	for (unsigned t = 0; t < EVENT_TYPE_COUNT; t++)
		if (!r->types || (r->types & (1u << t)))
			score_index_bit_set(ix->type + t * ix->nwords, i);
	c = score_index_rule_gate(r, &g);
	if (!c) {
		score_index_bit_set(ix->ungated, i);
		return;
	}
	for (unsigned key = 0; key < SCORE_KEYS; key++)
		if (score_index_admits(c, ix->pos[g], key))
			score_index_bit_set(ix->gate[g] + key * ix->nwords, i);
}

int scoring_config_index(struct scoring_config *sc)
{
	/* lead_score_event visits no rule past UINT16_MAX (a record's index) */
	size_t n = sc->nrules < UINT16_MAX ? sc->nrules : UINT16_MAX;
	size_t nwords = (n + 63) / 64, rows;
	struct score_index *ix;
	uint64_t *w;

	scoring_config_index_free(sc);
	rows = EVENT_TYPE_COUNT + 1 + (size_t)SCORE_GATES * SCORE_KEYS;
	ix = calloc(1, sizeof(*ix) + rows * nwords * sizeof(uint64_t));
	if (!ix)
		return -1;
	ix->nrules = sc->nrules;
	ix->nindexed = n;
	ix->nwords = nwords;
	w = ix->words;
	ix->type = w;
	w += EVENT_TYPE_COUNT * nwords;
	ix->ungated = w;
	w += nwords;
	for (unsigned g = 0; g < SCORE_GATES; g++) {
		ix->gate[g] = w;
		w += SCORE_KEYS * nwords;
		ix->pos[g] = score_index_pos_choose(sc, n, (enum score_gate)g);
	}
	for (size_t i = 0; i < n; i++)
		score_index_rule_add(ix, &sc->rules[i], i);
	sc->index = ix;
	return 0;
}

void scoring_config_index_free(struct scoring_config *sc)
{
	free(sc->index);
	sc->index = NULL;
}
