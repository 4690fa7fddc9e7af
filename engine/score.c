/*
 * score.c - the behaviour score: rule matching, caps and event-time decay.
 *
 * The score is kept as of the lead's latest event time (last_ms) as a set
 * of per-rule contributions, so it can always be explained rule by rule and
 * the total is their sum. A newer event first decays every contribution to
 * its own time; an older, out-of-order event adds its points already
 * decayed to last_ms. Both paths are pure arithmetic on the stored state
 * and the event, so replaying the same events gives bit-identical results.
 *
 * Caps count matches, not points. A match over a cap scores nothing and is
 * not counted. Per-day caps are tracked for the latest UTC day a rule fired
 * on; a late event from an earlier day is charged to that latest day's
 * allowance, which can only ever score less, never let a backdating
 * producer past the cap.
 */
#include <math.h>
#include <string.h>

#include "lead_internal.h"
#include "score_index.h"

/* Score rules may test traits the event does not carry (track events
 * rarely repeat traits), so a trait or e-mail domain absent from the event
 * falls back to the lead's merged traits. */
struct score_ctx {
	const struct event *ev;
	const struct lead *lead;
};

static bool score_lookup_cb(void *arg, enum field_src src, const char *name,
			    struct jval *out, char *scratch, size_t cap)
{
	const struct score_ctx *ctx = arg;

	if (cond_event_lookup_cb((void *)ctx->ev, src, name, out, scratch, cap))
		return true;
	if (src == FIELD_TRAIT || src == FIELD_EMAIL_DOMAIN)
		return lead_lookup_cb((void *)ctx->lead, src, name, out,
				      scratch, cap);
	return false;
}

int32_t lead_day_of(int64_t ts_ms)
{
	int64_t d = ts_ms / LEAD_DAY_MS;

	if (ts_ms % LEAD_DAY_MS < 0)
		d--;
	return (int32_t)d;
}

double lead_decay_factor(const struct scoring_config *sc, int64_t dt_ms)
{
	if (sc->half_life_days <= 0 || dt_ms <= 0)
		return 1.0;
	return exp2(-(double)dt_ms /
		    (sc->half_life_days * (double)LEAD_DAY_MS));
}

double lead_score_sum(const struct lead *l)
{
	const struct lead_rec *r = lead_recs(l);
	double s = 0;

	for (size_t i = 0; i < l->nrecs; i++)
		s += r[i].contrib;
	return s;
}

void lead_score_advance(const struct scoring_config *sc, struct lead *l,
			int64_t ts_ms)
{
	struct lead_rec *r = lead_recs(l);
	double f;

	if (ts_ms <= l->last_ms)
		return;
	if (l->nrecs == 0) { /* nothing to decay: skip the exp2 */
		l->last_ms = ts_ms;
		return;
	}
	f = lead_decay_factor(sc, ts_ms - l->last_ms);
	if (f != 1.0)
		for (size_t i = 0; i < l->nrecs; i++)
			r[i].contrib *= f;
	l->last_ms = ts_ms;
}

/* Where rule idx's record is, or would go to keep rule order. */
static size_t score_rec_pos(const struct lead *l, uint16_t idx)
{
	const struct lead_rec *r = lead_recs(l);
	size_t i, n = l->nrecs;

	for (i = 0; i < n && r[i].rule < idx; i++)
		;
	return i;
}

/* A fresh record for rule idx at position i (from score_rec_pos). */
static struct lead_rec *score_rec_insert(struct lead_table *t, struct lead *l,
					 size_t i, uint16_t idx)
{
	struct lead_rec *r;
	size_t n = l->nrecs;

	if (n >= LEAD_RECS_MAX ||
	    lead_ext_resize(t, l, n + 1, l->traits_len) < 0)
		return NULL;
	r = lead_recs(l);
	memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
	memset(&r[i], 0, sizeof(*r));
	r[i].rule = idx;
	return &r[i];
}

/* The event's own slice for a name, path or url condition, whose lookup
 * never falls back to the lead; false for every other source. */
static bool score_event_slice(const struct event *ev, enum field_src src,
			      struct strv *out)
{
	enum score_gate g = score_gate_of_src(src);

	if (g == SCORE_GATES)
		return false;
	*out = score_gate_slice(ev, g);
	return true;
}

/* Most score conditions test the event name or path: those are tested
 * on the slice at hand, as cond_eval would after score_lookup_cb, without
 * the two calls through the lookup and its scratch buffer. */
static bool score_cond_holds(const struct cond *c, const struct score_ctx *ctx)
{
	struct strv s;

	if (!score_event_slice(ctx->ev, c->src, &s))
		return cond_eval(c, score_lookup_cb, (void *)ctx);
	return cond_test_str(c, s);
}

static bool score_conds_hold(const struct score_rule *rule,
			     const struct score_ctx *ctx)
{
	for (size_t i = 0; i < rule->nconds; i++)
		if (!score_cond_holds(&rule->conds[i], ctx))
			return false;
	return true;
}

static bool score_rule_matches(const struct score_rule *rule,
			       const struct score_ctx *ctx)
{
	if (rule->types && !(rule->types & (1u << ctx->ev->type)))
		return false;
	return score_conds_hold(rule, ctx);
}

/* Would one more match of rule count, given its record (may be NULL)? */
static bool score_under_caps(const struct score_rule *rule,
			     const struct lead_rec *rec, int32_t day)
{
	if (!rec)
		return true;
	if (rule->cap_total && rec->total >= rule->cap_total)
		return false;
	if (rule->cap_per_day && day <= rec->day &&
	    rec->day_count >= rule->cap_per_day)
		return false;
	return true;
}

static bool score_rule_apply(const struct scoring_config *sc,
			     struct lead_table *t, struct lead *l, size_t idx,
			     int64_t ts_ms)
{
	const struct score_rule *rule = &sc->rules[idx];
	int32_t day = lead_day_of(ts_ms);
	size_t pos = score_rec_pos(l, (uint16_t)idx);
	struct lead_rec *rec = NULL;

	/* one scan finds the record or where a new one goes */
	if (pos < l->nrecs && lead_recs(l)[pos].rule == idx)
		rec = &lead_recs(l)[pos];
	if (!score_under_caps(rule, rec, day))
		return false;
	if (!rec) {
		rec = score_rec_insert(t, l, pos, (uint16_t)idx);
		if (!rec)
			return false;
		rec->day = day;
	}
	if (day > rec->day) {
		rec->day = day;
		rec->day_count = 0;
	}
	rec->day_count++;
	rec->total++;
	rec->contrib +=
		rule->points * lead_decay_factor(sc, l->last_ms - ts_ms);
	return true;
}

/* Which of rules [base, min(base + 64, n)) match, as a bit mask. */
static uint64_t score_match64(const struct scoring_config *sc,
			      const struct score_ctx *ctx, size_t base,
			      size_t n)
{
	uint64_t mask = 0;

	for (size_t i = base; i < n && i < base + 64; i++)
		if (score_rule_matches(&sc->rules[i], ctx))
			mask |= UINT64_C(1) << (i - base);
	return mask;
}

static bool score_apply64(const struct scoring_config *sc, struct lead_table *t,
			  struct lead *l, size_t base, uint64_t mask,
			  int64_t ts_ms)
{
	bool changed = false;

	for (; mask; mask &= mask - 1)
		changed |= score_rule_apply(
			sc, t, l, base + (size_t)__builtin_ctzll(mask), ts_ms);
	return changed;
}

/* Which of the candidates (rules base + bit) match. The index has
 * already checked their types. */
static uint64_t score_match_cands(const struct scoring_config *sc,
				  const struct score_ctx *ctx, size_t base,
				  uint64_t cands)
{
	uint64_t mask = 0;

	for (; cands; cands &= cands - 1) {
		unsigned b = (unsigned)__builtin_ctzll(cands);
		if (score_conds_hold(&sc->rules[base + b], ctx))
			mask |= UINT64_C(1) << b;
	}
	return mask;
}

/* lead_score_event over the index's candidates only; same order, same
 * results, since a rule left out could not have matched. */
static bool score_event_indexed(const struct scoring_config *sc,
				const struct score_index *ix,
				struct lead_table *t, struct lead *l,
				const struct score_ctx *ctx)
{
	int64_t ts_ms = ctx->ev->ts_ms;
	struct score_rows rows;
	uint64_t first = 0;
	bool changed;

	score_index_rows(ix, ctx->ev, &rows);
	if (ix->nwords)
		first = score_match_cands(sc, ctx, 0,
					  score_rows_word(&rows, 0));
	lead_score_advance(sc, l, ts_ms);
	changed = score_apply64(sc, t, l, 0, first, ts_ms);
	for (size_t w = 1; w < ix->nwords; w++)
		changed |= score_apply64(
			sc, t, l, w * 64,
			score_match_cands(sc, ctx, w * 64,
					  score_rows_word(&rows, w)),
			ts_ms);
	return changed;
}

/*
 * Matching reads the event and the traits, never the score records, so
 * the first 64 rules are matched before the records are touched: their
 * block, which lead_event_apply has begun to fetch, then arrives while
 * the rules are evaluated instead of stalling the decay. Applying in rule
 * order after matching gives the same result as interleaving the two.
 */
bool lead_score_event(const struct scoring_config *sc, struct lead_table *t,
		      struct lead *l, const struct event *ev)
{
	struct score_ctx ctx = {ev, l};
	const struct score_index *ix = score_index_of(sc);
	size_t n = sc->nrules < UINT16_MAX ? sc->nrules : UINT16_MAX;
	uint64_t first;
	bool changed;

	if (ix && (unsigned)ev->type < EVENT_TYPE_COUNT)
		return score_event_indexed(sc, ix, t, l, &ctx);
	first = score_match64(sc, &ctx, 0, n);
	lead_score_advance(sc, l, ev->ts_ms);
	changed = score_apply64(sc, t, l, 0, first, ev->ts_ms);
	for (size_t base = 64; base < n; base += 64)
		changed |= score_apply64(sc, t, l, base,
					 score_match64(sc, &ctx, base, n),
					 ev->ts_ms);
	return changed;
}
