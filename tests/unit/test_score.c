/*
 * test_score.c - behaviour scoring: rule matching by type and condition,
 * negative points, per-day and total caps, event-time decay and
 * out-of-order events, and determinism.
 */
#include <math.h>

#include "testutil.h"

#include "lead_fixture.h"

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
	s->t = lead_table_new();
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sfx *s = *state;

	lead_table_free(s->t);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
