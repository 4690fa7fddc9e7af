/*
 * test_score.c - behaviour scoring: rule matching by type and condition,
 * negative points, per-day and total caps, event-time decay and
 * out-of-order events, and determinism.
 */
#include <math.h>

#include "testutil.h"

#include "lead_fixture.h"

#include "../../engine/cond.h"
#include "../../engine/score_index.h"

struct sfx {
	struct fx_config f;
	struct lead_table *t;
};

static int setup(void **state)
{
	struct sfx *s = calloc(1, sizeof(*s));

	fx_config_init(&s->f);
	s->f.cfg.scoring.half_life_days = 0; /* exact sums unless a test
						 asks for decay */
	s->f.cfg.scoring.nrules = 3;         /* without the "any" rule */
	assert_int_equal(scoring_config_index(&s->f.cfg.scoring), 0);
	s->t = lead_table_new();
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sfx *s = *state;

	lead_table_free(s->t);
	scoring_config_index_free(&s->f.cfg.scoring);
	free(s);
	return 0;
}

static double score(struct sfx *s, const char *key, int64_t at)
{
	struct lead *l = lead_table_find(s->t, strv_from(key));

	assert_non_null(l);
	return lead_score_at(&s->f.cfg, l, at);
}

static enum lead_outcome apply(struct sfx *s, struct event *ev)
{
	struct assign_cmd cmd;
	enum lead_outcome o = lead_event_apply(&s->f.cfg, s->t, ev, NULL, &cmd);
	free(cmd.json);
	return o;
}

static void page(struct sfx *s, const char *key, const char *path, int64_t ts)
{
	struct event *ev = fx_event(EVENT_PAGE, key, ts);

	ev->path = strv_from(path);
	apply(s, ev);
}

static void track(struct sfx *s, const char *key, const char *name, int64_t ts)
{
	struct event *ev = fx_event(EVENT_TRACK, key, ts);

	ev->name = strv_from(name);
	apply(s, ev);
}

static void test_type_and_conditions(void **state)
{
	struct sfx *s = *state;
	struct event *ev;

	page(s, "a", "/pricing/pro", T0);
	assert_float_equal(score(s, "a", T0), 10, 1e-12);
	page(s, "a", "/about", T0);
	assert_float_equal(score(s, "a", T0), 10, 1e-12);
	ev = fx_event(EVENT_TRACK, "a", T0); /* right path, wrong type */
	ev->path = strv_from("/pricing");
	apply(s, ev);
	assert_float_equal(score(s, "a", T0), 10, 1e-12);
	track(s, "a", "demo requested", T0);
	assert_float_equal(score(s, "a", T0), 50, 1e-12);
}

static void test_any_type_rule(void **state)
{
	struct sfx *s = *state;

	s->f.cfg.scoring.nrules = 4;
	assert_null(score_index_of(&s->f.cfg.scoring)); /* stale: unused */
	assert_int_equal(scoring_config_index(&s->f.cfg.scoring), 0);
	apply(s, fx_event(EVENT_IDENTIFY, "a", T0));
	apply(s, fx_event(EVENT_GROUP, "a", T0));
	apply(s, fx_event(EVENT_SCREEN, "a", T0));
	assert_float_equal(score(s, "a", T0), 3, 1e-12);
}

static void test_negative_points(void **state)
{
	struct sfx *s = *state;

	page(s, "a", "/careers/jobs", T0);
	assert_float_equal(score(s, "a", T0), -15, 1e-12);
	page(s, "a", "/pricing", T0);
	assert_float_equal(score(s, "a", T0), -5, 1e-12);
}

static void test_cap_per_day_rollover(void **state)
{
	struct sfx *s = *state;
	int64_t day1 = T0 - 10 * HOUR; /* 00:00 UTC */

	for (int i = 0; i < 3; i++)
		page(s, "a", "/pricing", day1 + i * HOUR);
	assert_float_equal(score(s, "a", T0), 20, 1e-12);
	page(s, "a", "/pricing", day1 + 23 * HOUR + 59 * 60000);
	assert_float_equal(score(s, "a", T0), 20, 1e-12);
	page(s, "a", "/pricing", day1 + DAY_MS); /* next UTC day */
	page(s, "a", "/pricing", day1 + DAY_MS + 1);
	page(s, "a", "/pricing", day1 + DAY_MS + 2);
	assert_float_equal(score(s, "a", T0), 40, 1e-12);
}

static void test_cap_total(void **state)
{
	struct sfx *s = *state;

	track(s, "a", "Demo Requested", T0);
	track(s, "a", "Demo Requested", T0 + 3 * DAY_MS);
	assert_float_equal(score(s, "a", T0), 40, 1e-12);
}

static void test_late_event_counts_against_latest_day(void **state)
{
	struct sfx *s = *state;

	page(s, "a", "/pricing", T0 + DAY_MS);
	page(s, "a", "/pricing", T0 + DAY_MS);
	page(s, "a", "/pricing", T0); /* yesterday, but today's cap is full */
	assert_float_equal(score(s, "a", T0 + DAY_MS), 20, 1e-12);
}

static void test_decay_half_life(void **state)
{
	struct sfx *s = *state;

	s->f.cfg.scoring.half_life_days = 7;
	page(s, "a", "/pricing", T0);
	assert_float_equal(score(s, "a", T0 + 7 * DAY_MS), 5, 1e-9);
	assert_float_equal(score(s, "a", T0 + 14 * DAY_MS), 2.5, 1e-9);
	/* a newer event decays the stored score before adding */
	page(s, "a", "/about", T0 + 7 * DAY_MS);
	assert_float_equal(score(s, "a", T0 + 7 * DAY_MS), 5, 1e-9);
	page(s, "a", "/pricing", T0 + 7 * DAY_MS);
	assert_float_equal(score(s, "a", T0 + 7 * DAY_MS), 15, 1e-9);
	assert_float_equal(score(s, "a", T0 + 14 * DAY_MS), 7.5, 1e-9);
}

static void test_out_of_order(void **state)
{
	struct sfx *s = *state;
	struct lead *l;

	s->f.cfg.scoring.half_life_days = 7;
	page(s, "a", "/pricing", T0 + 7 * DAY_MS);
	page(s, "b", "/pricing", T0 + 7 * DAY_MS);
	page(s, "a", "/pricing", T0); /* late: half its points */
	assert_float_equal(score(s, "a", T0 + 7 * DAY_MS), 15, 1e-9);
	l = lead_table_find(s->t, strv_from("a"));
	assert_int_equal(lead_last_seen(l), T0 + 7 * DAY_MS);
	/* the same events in time order land within rounding */
	page(s, "c", "/pricing", T0);
	page(s, "c", "/pricing", T0 + 7 * DAY_MS);
	assert_float_equal(score(s, "c", T0 + 7 * DAY_MS), 15, 1e-9);
}

static void test_deterministic(void **state)
{
	struct sfx *s = *state;
	struct lead_table *t2 = lead_table_new();
	char *a, *b;
	size_t alen, blen;

	s->f.cfg.scoring.half_life_days = 3.5;
	for (int pass = 0; pass < 2; pass++) {
		struct lead_table *t = pass ? t2 : s->t;
		for (int i = 0; i < 50; i++) {
			struct event *ev = fx_event(
				EVENT_PAGE, "a", T0 + (i * 7919 % 97) * HOUR);
			ev->path = strv_from(i % 3 ? "/pricing" : "/careers");
			lead_event_apply(&s->f.cfg, t, ev, NULL, NULL);
		}
	}
	assert_int_equal(lead_encode(&s->f.cfg,
				     lead_table_find(s->t, strv_from("a")), &a,
				     &alen),
			 0);
	assert_int_equal(lead_encode(&s->f.cfg,
				     lead_table_find(t2, strv_from("a")), &b,
				     &blen),
			 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	lead_table_free(t2);
}

/* ---- the rule index against the plain loop ---- */

/* Values chosen to collide: shared first bytes, case variants, prefixes
 * of each other, the empty string, bytes past the ASCII letters. */
static char *const rnd_strs[] = {
	"",       "a",     "A",     "ab",           "aB",           "abc",
	"b",      "/",     "/d",    "/docs",        "/Docs",        "/demo",
	"/docs/", "Email", "email", "Email Opened", "EMAIL OPENED", "@",
	"[",      "`",     "{",     "\xc3\xa9",     "x\xc3\xa9"};
#define RND_NSTRS (sizeof(rnd_strs) / sizeof(rnd_strs[0]))

#define RND_RULES_MAX 150 /* three mask words */
#define RND_CONDS_MAX 3

struct rnd_rules {
	struct score_rule rules[RND_RULES_MAX];
	struct cond conds[RND_RULES_MAX][RND_CONDS_MAX];
	char *strs[RND_RULES_MAX][RND_CONDS_MAX][3];
};

static unsigned rnd_next(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(*st >> 33);
}

static struct strv rnd_slice(uint64_t *st)
{
	unsigned r = rnd_next(st) % (RND_NSTRS + 2);

	if (r == RND_NSTRS)
		return STRV_NULL;
	if (r == RND_NSTRS + 1) /* a prefix of some string, maybe cut */
		return (struct strv){"/docs/api", rnd_next(st) % 10};
	return strv_from(rnd_strs[r]);
}

static void rnd_cond(uint64_t *st, struct cond *c, char **strs)
{
	static const enum field_src srcs[] = {
		FIELD_EVENT_NAME, FIELD_EVENT_NAME, FIELD_PATH,
		FIELD_PATH,       FIELD_URL,        FIELD_PROPERTY};
	static const enum cond_op ops[] = {COND_EQ,       COND_IN,
					   COND_PREFIX,   COND_PREFIX,
					   COND_CONTAINS, COND_EXISTS};
	size_t n = rnd_next(st) % 4; /* 0: IN over nothing */

	for (size_t i = 0; i < n; i++)
		strs[i] = rnd_strs[rnd_next(st) % RND_NSTRS];
	*c = fx_cond(srcs[rnd_next(st) % 6], "p", ops[rnd_next(st) % 6], strs,
		     n);
	if (c->op == COND_EQ)
		c->nstrs = n ? 1 : 0;
	c->negate = rnd_next(st) % 6 == 0;
	if (c->op == COND_EQ && rnd_next(st) % 8 == 0) {
		c->is_num = true;
		c->num = 1;
	}
}

static size_t rnd_rules_fill(uint64_t *st, struct rnd_rules *r)
{
	size_t n = 1 + rnd_next(st) % RND_RULES_MAX;

	for (size_t i = 0; i < n; i++) {
		struct score_rule *rule = &r->rules[i];
		rule->name = "r";
		rule->types = rnd_next(st) % 3 ? 0 : rnd_next(st) % 32;
		rule->nconds = rnd_next(st) % (RND_CONDS_MAX + 1);
		rule->conds = r->conds[i];
		for (size_t j = 0; j < rule->nconds; j++)
			rnd_cond(st, &r->conds[i][j], r->strs[i][j]);
		rule->points = 1 + (double)(rnd_next(st) % 7);
		rule->cap_per_day = rnd_next(st) % 3;
		rule->cap_total = rnd_next(st) % 4;
	}
	return n;
}

static void rnd_event_fill(uint64_t *st, struct event *ev)
{
	ev->name = rnd_slice(st);
	ev->path = rnd_slice(st);
	ev->url = rnd_slice(st);
	if (rnd_next(st) % 2)
		fx_prop_str(ev, "p", rnd_strs[rnd_next(st) % RND_NSTRS]);
}

/* What the engine means by a match, spelt out without the index: the type
 * admits the event and every condition holds on the event alone. */
static bool rnd_rule_matches(const struct score_rule *r, const struct event *ev)
{
	if (r->types && !(r->types & (1u << ev->type)))
		return false;
	for (size_t i = 0; i < r->nconds; i++) {
		const struct cond *c = &r->conds[i];
		struct strv s;
		bool ok;

		switch (c->src) {
		case FIELD_EVENT_NAME:
			s = ev->name;
			break;
		case FIELD_PATH:
			s = ev->path;
			break;
		case FIELD_URL:
			s = ev->url;
			break;
		default:
			s = STRV_NULL;
			break;
		}
		if (c->src <= FIELD_URL)
			ok = cond_test_str(c, s);
		else
			ok = cond_eval(c, cond_event_lookup_cb, (void *)ev);
		if (!ok)
			return false;
	}
	return true;
}

/* Every rule that matches an event is among the index's candidates. */
static void test_index_candidates_cover_matches(void **state)
{
	struct rnd_rules *r = calloc(1, sizeof(*r));
	uint64_t st = 42;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct scoring_config sc = {r->rules, rnd_rules_fill(&st, r), 0,
					    NULL};
		const struct score_index *ix;

		assert_int_equal(scoring_config_index(&sc), 0);
		ix = score_index_of(&sc);
		assert_non_null(ix);
		assert_int_equal(ix->nwords, (sc.nrules + 63) / 64);
		for (int k = 0; k < 500; k++) {
			struct event *ev =
				fx_event((enum event_type)(rnd_next(&st) %
							   EVENT_TYPE_COUNT),
					 "a", T0);
			struct score_rows rows;

			rnd_event_fill(&st, ev);
			score_index_rows(ix, ev, &rows);
			for (size_t i = 0; i < sc.nrules; i++) {
				uint64_t w = score_rows_word(&rows, i / 64);
				if (rnd_rule_matches(&sc.rules[i], ev))
					assert_true(w >> (i % 64) & 1);
			}
		}
		scoring_config_index_free(&sc);
		assert_null(sc.index);
	}
	free(r);
}

/* The same events give byte-identical leads with and without the index,
 * caps, decay and out-of-order times included. */
static void test_index_same_leads(void **state)
{
	struct sfx *s = *state;
	struct rnd_rules *r = calloc(1, sizeof(*r));
	uint64_t st = 7;

	for (int round = 0; round < 30; round++) {
		struct engine_config plain;
		struct lead_table *t2 = lead_table_new();
		char key[8];

		lead_table_free(s->t);
		s->t = lead_table_new();
		s->f.cfg.scoring.rules = r->rules;
		s->f.cfg.scoring.nrules = rnd_rules_fill(&st, r);
		s->f.cfg.scoring.half_life_days = round % 3 ? 2.5 : 0;
		assert_int_equal(scoring_config_index(&s->f.cfg.scoring), 0);
		plain = s->f.cfg;
		plain.scoring.index = NULL;
		for (int k = 0; k < 400; k++) {
			int64_t ts = T0 + (int64_t)(rnd_next(&st) % 96) * HOUR;
			struct event *ev;

			snprintf(key, sizeof(key), "k%u", rnd_next(&st) % 8);
			ev = fx_event((enum event_type)(rnd_next(&st) %
							EVENT_TYPE_COUNT),
				      key, ts);
			rnd_event_fill(&st, ev);
			lead_event_apply(&s->f.cfg, s->t, ev, NULL, NULL);
			lead_event_apply(&plain, t2, ev, NULL, NULL);
		}
		for (unsigned k = 0; k < 8; k++) {
			struct lead *a, *b;
			char *ja, *jb;
			size_t la, lb;

			snprintf(key, sizeof(key), "k%u", k);
			a = lead_table_find(s->t, strv_from(key));
			b = lead_table_find(t2, strv_from(key));
			assert_true((a == NULL) == (b == NULL));
			if (!a)
				continue;
			assert_int_equal(lead_encode(&s->f.cfg, a, &ja, &la),
					 0);
			assert_int_equal(lead_encode(&plain, b, &jb, &lb), 0);
			assert_int_equal(la, lb);
			assert_memory_equal(ja, jb, la);
			free(ja);
			free(jb);
		}
		lead_table_free(t2);
	}
	free(r);
}

/* A config nobody indexed scores every rule the plain way. */
static void test_unindexed_config(void **state)
{
	struct sfx *s = *state;

	scoring_config_index_free(&s->f.cfg.scoring);
	scoring_config_index_free(&s->f.cfg.scoring); /* twice is harmless */
	page(s, "a", "/pricing", T0);
	track(s, "a", "Demo Requested", T0);
	assert_float_equal(score(s, "a", T0), 50, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_type_and_conditions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_any_type_rule, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_negative_points, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cap_per_day_rollover,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_total, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_late_event_counts_against_latest_day, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_decay_half_life, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup,
						teardown),
		cmocka_unit_test(test_index_candidates_cover_matches),
		cmocka_unit_test_setup_teardown(test_index_same_leads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unindexed_config, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
