/*
 * test_route.c - unit tests for stage 2 routing (engine/route*.c): rep
 * availability across time zones and DST, named accounts, smooth weighted
 * round robin under caps, overflow, state kept across config reloads, the
 * changelog encoding and the handoff record.
 *
 * Teams are built by hand; instants are written as UTC calendar times so
 * each test names the exact moment it checks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <jansson.h>
#include <xxhash.h>

#include "testutil.h"

#include "../../engine/iso_time.h"
#include "../../engine/jtext.h"
#include "../../engine/route.h"

/* Milliseconds since the epoch of a UTC calendar time. */
static int64_t utc_ms(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};

	return (int64_t)timegm(&tm) * 1000;
}

static void rep_init(struct rep *r, const char *id, unsigned weight)
{
	memset(r, 0, sizeof(*r));
	r->id = (char *)id;
	r->name = (char *)"Secret Name";
	r->weight = weight;
}

/* Same shift every day of the week. */
static void rep_hours_daily(struct rep *r, int start_h, int end_h)
{
	r->has_hours = true;
	for (int i = 0; i < 7; i++) {
		r->hours[i].start_min = (uint16_t)(start_h * 60);
		r->hours[i].end_min = (uint16_t)(end_h * 60);
	}
}

static void team_init(struct team *t, const char *name, struct rep *reps,
		      size_t n)
{
	memset(t, 0, sizeof(*t));
	t->name = (char *)name;
	t->reps = reps;
	t->nreps = n;
	t->overflow_queue = (char *)"queue-overflow";
}

static struct route_decision choose(const struct team *t, struct team_state *ts,
				    int64_t ms)
{
	struct route_decision d;

	route_choose(t, ts, STRV_NULL, STRV_NULL, ms, &d);
	return d;
}

static char *state_dump(const struct team_state *ts)
{
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(team_state_encode(ts, &s, &len), 0);
	assert_int_equal(strlen(s), len);
	return s;
}

/* One counter of one rep, read back from the changelog encoding. */
static json_int_t state_counter(const struct team_state *ts, const char *id,
				const char *field)
{
	char *s = state_dump(ts);
	json_t *root = json_loads(s, 0, NULL), *reps, *r;
	json_int_t v = -1;
	size_t i;

	assert_non_null(root);
	reps = json_object_get(root, "reps");
	json_array_foreach(reps, i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "id")), id) ==
		    0)
			v = json_integer_value(json_object_get(r, field));
	}
	json_decref(root);
	free(s);
	return v;
}

/* ---- availability ---- */

static void test_available_paused_and_ooo(void **state)
{
	struct rep r;
	struct rep_ooo ooo = {utc_ms(2026, 4, 6, 0, 0),
			      utc_ms(2026, 4, 10, 0, 0)};
	const char *why = NULL;

	(void)state;
	rep_init(&r, "rep-a", 1);
	assert_true(route_rep_available(&r, utc_ms(2026, 4, 6, 12, 0), &why));
	assert_null(why);
	r.ooo = &ooo;
	r.nooo = 1;
	/* [from, to): the first instant is out, the last one is back. */
	assert_true(route_rep_available(&r, ooo.from_ms - 1, &why));
	assert_false(route_rep_available(&r, ooo.from_ms, &why));
	assert_string_equal(why, "out of office");
	assert_false(route_rep_available(&r, ooo.to_ms - 1, &why));
	assert_true(route_rep_available(&r, ooo.to_ms, &why));
	r.paused = true;
	assert_false(route_rep_available(&r, ooo.to_ms, &why));
	assert_string_equal(why, "paused");
	assert_false(route_rep_available(&r, ooo.from_ms, &why));
	assert_string_equal(why, "paused");
}

static void test_hours_dst_berlin(void **state)
{
	struct rep r;
	const char *why = NULL;

	(void)state;
	rep_init(&r, "rep-a", 1);
	r.tz = g_time_zone_new_identifier("Europe/Berlin");
	assert_non_null(r.tz);
	rep_hours_daily(&r, 8, 17);
	/* 06:30 UTC is 07:30 CET on Saturday, 08:30 CEST on Sunday. */
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 28, 6, 30), &why));
	assert_string_equal(why, "outside working hours");
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 29, 6, 30), &why));
	/* 15:30 UTC is 16:30 CET on Saturday, 17:30 CEST on Sunday. */
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 28, 15, 30), &why));
	assert_false(
		route_rep_available(&r, utc_ms(2026, 3, 29, 15, 30), &why));
	/* Exact shift edges on the DST day: 08:00 CEST = 06:00 UTC. */
	assert_false(
		route_rep_available(&r, utc_ms(2026, 3, 29, 6, 0) - 1, &why));
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 29, 6, 0), &why));
	/* And back in October: 07:30 UTC is 09:30 CEST, then 08:30 CET;
	 * 06:30 UTC is 08:30 CEST on Saturday, 07:30 CET on Sunday. */
	assert_true(route_rep_available(&r, utc_ms(2026, 10, 24, 6, 30), &why));
	assert_false(
		route_rep_available(&r, utc_ms(2026, 10, 25, 6, 30), &why));
	g_time_zone_unref(r.tz);
}

static void test_hours_dst_new_york(void **state)
{
	struct rep r;
	const char *why = NULL;

	(void)state;
	rep_init(&r, "rep-a", 1);
	r.tz = g_time_zone_new_identifier("America/New_York");
	assert_non_null(r.tz);
	rep_hours_daily(&r, 9, 17);
	/* 13:30 UTC is 08:30 EST on 7 March, 09:30 EDT on 8 March. */
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 7, 13, 30), &why));
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 8, 13, 30), &why));
	/* 21:30 UTC is 16:30 EST on 7 March, 17:30 EDT on 8 March. */
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 7, 21, 30), &why));
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 8, 21, 30), &why));
	assert_string_equal(why, "outside working hours");
	g_time_zone_unref(r.tz);
}

static void test_hours_weekdays(void **state)
{
	struct rep r;
	const char *why = NULL;

	(void)state;
	rep_init(&r, "rep-a", 1);
	r.tz = g_time_zone_new_identifier("Europe/Berlin");
	r.has_hours = true;
	for (int i = 0; i < 5; i++) /* Monday..Friday 09:00-17:00 */
		r.hours[i] = (struct rep_hours){9 * 60, 17 * 60};
	/* Friday 2026-03-27, CET: 16:59 in, 17:00 out. */
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 27, 15, 59), &why));
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 27, 16, 0), &why));
	/* Saturday and Sunday are off (start == end). */
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 28, 10, 0), &why));
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 29, 10, 0), &why));
	/* Monday 2026-03-30, CEST: 08:59 out, 09:00 in. */
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 30, 6, 59), &why));
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 30, 7, 0), &why));
	g_time_zone_unref(r.tz);
}

static void test_hours_local_weekday(void **state)
{
	struct rep r;

	(void)state;
	rep_init(&r, "rep-a", 1);
	r.tz = g_time_zone_new_identifier("Asia/Tokyo");
	r.has_hours = true;
	r.hours[0] = (struct rep_hours){0, 60}; /* Monday 00:00-01:00 only */
	/* Sunday 15:30 UTC is Monday 00:30 in Tokyo. */
	assert_true(route_rep_available(&r, utc_ms(2026, 3, 29, 15, 30), NULL));
	/* Monday 00:30 UTC is Monday 09:30 in Tokyo. */
	assert_false(route_rep_available(&r, utc_ms(2026, 3, 30, 0, 30), NULL));
	g_time_zone_unref(r.tz);
}

static void test_hours_utc_and_overnight(void **state)
{
	struct rep r;

	(void)state;
	rep_init(&r, "rep-a", 1);
	rep_hours_daily(&r, 9, 17); /* tz NULL: UTC */
	assert_true(route_rep_available(&r, utc_ms(2026, 1, 1, 9, 0), NULL));
	assert_false(route_rep_available(&r, utc_ms(2026, 1, 1, 8, 59), NULL));
	/* Overnight shifts are documented as unsupported: the day is off. */
	rep_hours_daily(&r, 22, 6);
	assert_false(route_rep_available(&r, utc_ms(2026, 1, 1, 23, 0), NULL));
	assert_false(route_rep_available(&r, utc_ms(2026, 1, 1, 3, 0), NULL));
	/* Before the epoch still gets the weekday right (Wednesday). */
	r.has_hours = true;
	memset(r.hours, 0, sizeof(r.hours));
	r.hours[2] = (struct rep_hours){0, 24 * 60};
	assert_true(route_rep_available(&r, utc_ms(1969, 12, 31, 12, 0), NULL));
	assert_false(route_rep_available(&r, utc_ms(1970, 1, 1, 12, 0), NULL));
}

/* A lone rep is chosen exactly when route_rep_available says so; walks in
 * 7-minute steps from 'from' (backwards when step < 0), so the state's time
 * zone cache is crossed by DST changes in both directions. */
static void check_walk(const struct team *t, struct team_state *ts,
		       int64_t from, int64_t step, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t ms = from + step * i;
		struct route_decision d = choose(t, ts, ms);
		bool avail = route_rep_available(&t->reps[0], ms, NULL);

		assert_int_equal(d.strategy == ROUTE_WEIGHTED_ROUND_ROBIN,
				 avail);
	}
}

static void test_hours_cached_lookup_matches(void **state)
{
	struct rep r;
	struct team t;
	struct team_state *ts;
	int64_t step = 7 * 60 * 1000;

	(void)state;
	rep_init(&r, "rep-a", 1);
	r.tz = g_time_zone_new_identifier("Europe/Berlin");
	rep_hours_daily(&r, 1, 4); /* around the change at 02:00 local */
	team_init(&t, "emea", &r, 1);
	ts = team_state_new(&t);
	check_walk(&t, ts, utc_ms(2026, 3, 27, 0, 0), step, 1200);
	check_walk(&t, ts, utc_ms(2026, 10, 27, 0, 0), -step, 1200);
	check_walk(&t, ts, utc_ms(2026, 3, 30, 0, 0), -step, 1200);
	/* A reload moves the rep to another zone; the state stays. */
	g_time_zone_unref(r.tz);
	r.tz = g_time_zone_new_identifier("America/New_York");
	check_walk(&t, ts, utc_ms(2026, 3, 6, 0, 0), step, 1200);
	g_time_zone_unref(r.tz);
	team_state_free(ts);
}

/* ---- weighted round robin ---- */

static void test_wrr_distribution(void **state)
{
	struct rep reps[3];
	struct team t;
	struct team_state *ts;
	int counts[3] = {0};
	int64_t ms = utc_ms(2026, 1, 5, 10, 0);

	(void)state;
	rep_init(&reps[0], "rep-a", 3);
	rep_init(&reps[1], "rep-b", 2);
	rep_init(&reps[2], "rep-c", 1);
	team_init(&t, "emea", reps, 3);
	ts = team_state_new(&t);
	for (int i = 0; i < 10000; i++) {
		struct route_decision d = choose(&t, ts, ms + i);

		assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
		counts[d.rep - reps]++;
	}
	assert_in_range(counts[0], 4999, 5001);
	assert_in_range(counts[1], 3332, 3334);
	assert_in_range(counts[2], 1666, 1668);
	assert_int_equal(counts[0] + counts[1] + counts[2], 10000);
	team_state_free(ts);
}

static void test_wrr_smooth_sequence(void **state)
{
	struct rep reps[3];
	struct team t;
	struct team_state *ts;
	char seq[15] = {0};

	(void)state;
	rep_init(&reps[0], "a", 5);
	rep_init(&reps[1], "b", 1);
	rep_init(&reps[2], "c", 1);
	team_init(&t, "emea", reps, 3);
	ts = team_state_new(&t);
	for (int i = 0; i < 14; i++)
		seq[i] = choose(&t, ts, 0).rep_id[0];
	/* nginx's documented sequence for weights 5,1,1, twice. */
	assert_string_equal(seq, "aabacaaaabacaa");
	team_state_free(ts);
}

static void test_wrr_equal_weights_interleave(void **state)
{
	struct rep reps[2];
	struct team t;
	struct team_state *ts;
	const struct rep *prev = NULL;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	team_init(&t, "emea", reps, 2);
	ts = team_state_new(&t);
	for (int i = 0; i < 1000; i++) {
		struct route_decision d = choose(&t, ts, 0);

		assert_ptr_not_equal(d.rep, prev);
		if (i == 0) /* ties go to config order */
			assert_ptr_equal(d.rep, &reps[0]);
		prev = d.rep;
	}
	team_state_free(ts);
}

static void test_daily_cap_resets_on_local_day(void **state)
{
	struct rep reps[2];
	struct team t;
	struct team_state *ts;
	int a = 0;
	/* Wednesday 2026-0114 22:00 UTC = 23:00 CET; local midnight is at
	 * 23:00 UTC, an hour before the UTC day ends. */
	int64_t evening = utc_ms(2026, 1, 14, 22, 0);

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	reps[0].daily_cap = 2;
	reps[0].tz = g_time_zone_new_identifier("Europe/Berlin");
	team_init(&t, "emea", reps, 2);
	ts = team_state_new(&t);
	for (int i = 0; i < 10; i++)
		a += choose(&t, ts, evening + i).rep == &reps[0];
	assert_int_equal(a, 2);
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 2);
	/* 22:59 UTC is still the same local day. */
	assert_ptr_equal(choose(&t, ts, utc_ms(2026, 1, 14, 22, 59)).rep,
			 &reps[1]);
	/* 23:00 UTC is local midnight: rep-a is back, though UTC is not on
	 * a new day yet. */
	a = 0;
	for (int i = 0; i < 10; i++)
		a += choose(&t, ts, utc_ms(2026, 1, 14, 23, 0) + i).rep ==
		     &reps[0];
	assert_int_equal(a, 2);
	assert_int_equal(state_counter(ts, "rep-a", "total"), 4);
	g_time_zone_unref(reps[0].tz);
	team_state_free(ts);
}

/* Days since the epoch of a UTC calendar date, as the changelog's "day"
 * holds it for a rep without a time zone. */
static json_int_t utc_day(int y, int mo, int d)
{
	return utc_ms(y, mo, d, 0, 0) / 86400000;
}

/* A lead dated before the rep's latest day (a late event) counts against
 * that latest day: at the cap it overflows instead of resetting the count,
 * so the 11 March allowance of 1 is never exceeded. */
static void test_daily_cap_late_lead_after_cap(void **state)
{
	struct rep reps[1];
	struct team t;
	struct team_state *ts;
	struct route_decision d;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	reps[0].daily_cap = 1;
	team_init(&t, "emea", reps, 1);
	ts = team_state_new(&t);
	assert_ptr_equal(choose(&t, ts, utc_ms(2026, 3, 11, 10, 0)).rep,
			 &reps[0]);
	d = choose(&t, ts, utc_ms(2026, 3, 10, 15, 0));
	assert_int_equal(d.strategy, ROUTE_OVERFLOW);
	assert_string_equal(d.reason, "no rep available: 1 at daily cap");
	assert_int_equal(state_counter(ts, "rep-a", "day"),
			 utc_day(2026, 3, 11));
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 1);
	/* The audit's repro: later leads of 11 March stay capped. */
	assert_int_equal(choose(&t, ts, utc_ms(2026, 3, 11, 12, 0)).strategy,
			 ROUTE_OVERFLOW);
	assert_int_equal(state_counter(ts, "rep-a", "total"), 1);
	/* A new day still resets the count. */
	assert_ptr_equal(choose(&t, ts, utc_ms(2026, 3, 12, 9, 0)).rep,
			 &reps[0]);
	assert_int_equal(state_counter(ts, "rep-a", "day"),
			 utc_day(2026, 3, 12));
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 1);
	team_state_free(ts);
}

/* Under the cap, a late lead is handed off and uses the latest day's
 * allowance: the day and its count move on, never back. */
static void test_daily_cap_late_lead_counts_on_latest_day(void **state)
{
	struct rep reps[1];
	struct team t;
	struct team_state *ts;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	reps[0].daily_cap = 2;
	team_init(&t, "emea", reps, 1);
	ts = team_state_new(&t);
	assert_ptr_equal(choose(&t, ts, utc_ms(2026, 3, 11, 10, 0)).rep,
			 &reps[0]);
	assert_ptr_equal(choose(&t, ts, utc_ms(2026, 3, 10, 15, 0)).rep,
			 &reps[0]);
	assert_int_equal(state_counter(ts, "rep-a", "day"),
			 utc_day(2026, 3, 11));
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 2);
	assert_int_equal(choose(&t, ts, utc_ms(2026, 3, 11, 11, 0)).strategy,
			 ROUTE_OVERFLOW);
	team_state_free(ts);
}

/* Leads alternating between two local days around midnight (Berlin), as
 * two partitions merged out of step give: with cap 1 the rep gets one lead
 * on each day and no more (it used to get one per day switch). */
static void test_daily_cap_alternating_days(void **state)
{
	struct rep reps[1];
	struct team t;
	struct team_state *ts;
	/* 22:59 UTC on 14 January is 23:59 CET; 23:00 UTC is local
	 * midnight. */
	int64_t before = utc_ms(2026, 1, 14, 22, 59) + 58000;
	int64_t after = utc_ms(2026, 1, 14, 23, 0);
	int on_day[2] = {0};

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	reps[0].daily_cap = 1;
	reps[0].tz = g_time_zone_new_identifier("Europe/Berlin");
	team_init(&t, "emea", reps, 1);
	ts = team_state_new(&t);
	for (int i = 0; i < 20; i++) {
		int later = i % 2;
		int64_t ms = (later ? after : before) + (i / 2) * 100;

		on_day[later] += choose(&t, ts, ms).rep == &reps[0];
	}
	assert_int_equal(on_day[0], 1);
	assert_int_equal(on_day[1], 1);
	assert_int_equal(state_counter(ts, "rep-a", "total"), 2);
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 1);
	g_time_zone_unref(reps[0].tz);
	team_state_free(ts);
}

/* Two leads of one day count the same whichever arrives first. */
static void test_daily_cap_same_day_either_order(void **state)
{
	static const int hours[2][3] = {{10, 12, 11}, {12, 10, 11}};
	struct rep reps[2];
	struct team t;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	reps[0].daily_cap = 1;
	reps[1].daily_cap = 1;
	team_init(&t, "emea", reps, 2);
	for (int o = 0; o < 2; o++) {
		struct team_state *ts = team_state_new(&t);
		int64_t ms[3];

		for (int i = 0; i < 3; i++)
			ms[i] = utc_ms(2026, 3, 11, hours[o][i], 0);
		assert_ptr_equal(choose(&t, ts, ms[0]).rep, &reps[0]);
		assert_ptr_equal(choose(&t, ts, ms[1]).rep, &reps[1]);
		assert_int_equal(choose(&t, ts, ms[2]).strategy,
				 ROUTE_OVERFLOW);
		assert_int_equal(state_counter(ts, "rep-a", "day_count"), 1);
		assert_int_equal(state_counter(ts, "rep-b", "day_count"), 1);
		assert_int_equal(state_counter(ts, "rep-a", "day"),
				 utc_day(2026, 3, 11));
		team_state_free(ts);
	}
}

static void test_max_open_and_feedback(void **state)
{
	struct rep reps[2];
	struct team t;
	struct team_state *ts;
	struct route_decision d;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	reps[0].max_open = 1;
	reps[1].max_open = 1;
	team_init(&t, "emea", reps, 2);
	ts = team_state_new(&t);
	assert_ptr_equal(choose(&t, ts, 0).rep, &reps[0]);
	assert_ptr_equal(choose(&t, ts, 0).rep, &reps[1]);
	d = choose(&t, ts, 0);
	assert_int_equal(d.strategy, ROUTE_OVERFLOW);
	assert_null(d.rep);
	assert_string_equal(d.rep_id, "queue-overflow");
	assert_string_equal(d.reason, "no rep available: 2 at max open leads");

	assert_int_equal(team_state_feedback(ts, "rep-b", "accepted"), 0);
	assert_ptr_equal(choose(&t, ts, 0).rep, &reps[1]);
	/* recycled does not free a slot; rejected and converted do. */
	assert_int_equal(team_state_feedback(ts, "rep-a", "recycled"), 0);
	assert_int_equal(choose(&t, ts, 0).strategy, ROUTE_OVERFLOW);
	assert_int_equal(team_state_feedback(ts, "rep-a", "rejected"), 0);
	assert_int_equal(team_state_feedback(ts, "rep-b", "converted"), 0);
	assert_int_equal(state_counter(ts, "rep-a", "open"), 0);
	assert_int_equal(state_counter(ts, "rep-b", "open"), 0);
	/* Never below zero. */
	assert_int_equal(team_state_feedback(ts, "rep-a", "accepted"), 0);
	assert_int_equal(state_counter(ts, "rep-a", "open"), 0);
	assert_int_equal(team_state_feedback(ts, "rep-zz", "accepted"), -1);
	team_state_free(ts);
}

/* ---- named accounts, overflow ---- */

/* A listed domain owns its subdomains, the nearest listing first; a
 * top-level domain or a look-alike owns nothing. */
static void test_named_account_subdomains(void **state)
{
	char *acc_a[] = {"acme.com"}, *acc_b[] = {"eu.acme.com"},
	     *acc_c[] = {"com"};
	struct rep reps[3];
	struct team t;
	struct team_state *ts;
	struct route_decision d;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	rep_init(&reps[2], "rep-c", 1);
	reps[0].accounts = acc_a;
	reps[0].naccounts = 1;
	reps[1].accounts = acc_b;
	reps[1].naccounts = 1;
	reps[2].accounts = acc_c;
	reps[2].naccounts = 1;
	team_init(&t, "emea", reps, 3);
	ts = team_state_new(&t);
	route_choose(&t, ts, strv_from("sales.de.acme.com"), STRV_NULL, 0, &d);
	assert_ptr_equal(d.rep, &reps[0]);
	assert_string_equal(d.reason,
			    "named account owner rep-a (parent email domain)");
	route_choose(&t, ts, strv_from("mail.eu.acme.com"), STRV_NULL, 0, &d);
	assert_ptr_equal(d.rep, &reps[1]);
	assert_string_equal(d.reason,
			    "named account owner rep-b (parent email domain)");
	route_choose(&t, ts, strv_from("EU.acme.com"), STRV_NULL, 0, &d);
	assert_ptr_equal(d.rep, &reps[1]);
	assert_string_equal(d.reason,
			    "named account owner rep-b (email domain)");
	route_choose(&t, ts, strv_from("notacme.com"), STRV_NULL, 0, &d);
	assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
	route_choose(&t, ts, STRV_NULL, STRV_NULL, 0, &d);
	assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
	team_state_free(ts);
}

static void test_named_account_domain_and_group(void **state)
{
	char *acc[] = {"acme.com", "grp-42"};
	struct rep reps[3];
	struct team t;
	struct team_state *ts;
	struct route_decision d;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-anna", 1);
	rep_init(&reps[2], "rep-c", 1);
	reps[1].accounts = acc;
	reps[1].naccounts = 2;
	team_init(&t, "emea", reps, 3);
	ts = team_state_new(&t);
	route_choose(&t, ts, strv_from("ACME.com"), STRV_NULL, 0, &d);
	assert_int_equal(d.strategy, ROUTE_NAMED_ACCOUNT);
	assert_ptr_equal(d.rep, &reps[1]);
	assert_string_equal(d.rep_id, "rep-anna");
	assert_string_equal(d.reason,
			    "named account owner rep-anna (email domain)");
	route_choose(&t, ts, strv_from("other.org"), strv_from("GRP-42"), 0,
		     &d);
	assert_int_equal(d.strategy, ROUTE_NAMED_ACCOUNT);
	assert_ptr_equal(d.rep, &reps[1]);
	assert_string_equal(d.reason, "named account owner rep-anna (groupId)");
	/* No match: round robin, unaffected by the named handoffs. */
	route_choose(&t, ts, strv_from("other.org"), strv_from("grp-4"), 0, &d);
	assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
	assert_ptr_equal(d.rep, &reps[0]);
	assert_int_equal(state_counter(ts, "rep-anna", "open"), 2);
	team_state_free(ts);
}

static void test_named_owner_unavailable(void **state)
{
	char *acc[] = {"acme.com"};
	struct rep reps[4];
	struct rep_ooo ooo = {0, utc_ms(2030, 1, 1, 0, 0)};
	struct team t;
	struct team_state *ts;
	struct route_decision d;

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-anna", 1);
	rep_init(&reps[2], "rep-c", 1);
	rep_init(&reps[3], "rep-d", 1);
	reps[1].accounts = acc;
	reps[1].naccounts = 1;
	reps[1].ooo = &ooo;
	reps[1].nooo = 1;
	team_init(&t, "emea", reps, 4);
	ts = team_state_new(&t);
	route_choose(&t, ts, strv_from("acme.com"), STRV_NULL,
		     utc_ms(2026, 5, 4, 10, 0), &d);
	assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
	assert_ptr_equal(d.rep, &reps[0]);
	assert_string_equal(d.reason, "owner rep-anna out of office; weighted "
				      "round robin among 3 available");
	assert_null(strstr(d.reason, "Secret"));
	/* Owner at its cap counts as unavailable too. */
	reps[1].nooo = 0;
	reps[1].max_open = 1;
	route_choose(&t, ts, strv_from("acme.com"), STRV_NULL, 0, &d);
	assert_int_equal(d.strategy, ROUTE_NAMED_ACCOUNT);
	route_choose(&t, ts, strv_from("acme.com"), STRV_NULL, 0, &d);
	assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
	assert_string_equal(d.reason, "owner rep-anna at max open leads; "
				      "weighted round robin among 3 available");
	team_state_free(ts);
}

static void test_overflow_reasons(void **state)
{
	char *acc[] = {"acme.com"};
	struct rep reps[3];
	struct team t;
	struct team_state *ts;
	struct route_decision d;
	int64_t noon = utc_ms(2026, 5, 4, 12, 0);

	(void)state;
	rep_init(&reps[0], "rep-a", 1);
	rep_init(&reps[1], "rep-b", 1);
	rep_init(&reps[2], "rep-c", 1);
	rep_hours_daily(&reps[0], 0, 1);
	rep_hours_daily(&reps[1], 0, 1);
	reps[2].daily_cap = 1;
	reps[2].accounts = acc;
	reps[2].naccounts = 1;
	team_init(&t, "emea", reps, 3);
	ts = team_state_new(&t);
	assert_ptr_equal(choose(&t, ts, noon).rep, &reps[2]);
	d = choose(&t, ts, noon);
	assert_int_equal(d.strategy, ROUTE_OVERFLOW);
	assert_null(d.rep);
	assert_string_equal(d.rep_id, "queue-overflow");
	assert_string_equal(d.reason, "no rep available: 2 outside working "
				      "hours, 1 at daily cap");
	route_choose(&t, ts, strv_from("acme.com"), STRV_NULL, noon, &d);
	assert_int_equal(d.strategy, ROUTE_OVERFLOW);
	assert_string_equal(d.reason,
			    "owner rep-c at daily cap; no rep available: 2 "
			    "outside working hours, 1 at daily cap");
	reps[0].paused = true;
	reps[1].weight = 0;
	rep_hours_daily(&reps[1], 0, 24);
	d = choose(&t, ts, noon);
	assert_string_equal(d.reason, "no rep available: 1 paused, 1 at daily "
				      "cap, 1 weight 0");

	t.nreps = 0;
	d = choose(&t, ts, noon);
	assert_int_equal(d.strategy, ROUTE_OVERFLOW);
	assert_string_equal(d.reason, "no rep available: team has no reps");
	team_state_free(ts);
}

/* ---- state across config reloads, changelog ---- */

static void test_state_survives_reload(void **state)
{
	struct rep v1[3], v2[3];
	struct team t1, t2;
	struct team_state *ts;
	int d_count = 0;

	(void)state;
	rep_init(&v1[0], "rep-a", 1);
	rep_init(&v1[1], "rep-b", 1);
	rep_init(&v1[2], "rep-c", 1);
	v1[0].daily_cap = 2;
	team_init(&t1, "emea", v1, 3);
	ts = team_state_new(&t1);
	for (int i = 0; i < 6; i++) /* a, b, c, a, b, c */
		choose(&t1, ts, 0);
	assert_int_equal(state_counter(ts, "rep-a", "day_count"), 2);

	/* The reload drops rep-b, reorders, adds rep-d. */
	rep_init(&v2[0], "rep-d", 1);
	rep_init(&v2[1], "rep-c", 1);
	rep_init(&v2[2], "rep-a", 1);
	v2[2].daily_cap = 2;
	team_init(&t2, "emea", v2, 3);
	for (int i = 0; i < 10; i++) {
		struct route_decision d = choose(&t2, ts, 1000);

		assert_int_equal(d.strategy, ROUTE_WEIGHTED_ROUND_ROBIN);
		assert_string_not_equal(d.rep_id, "rep-a"); /* still capped */
		d_count += d.rep == &v2[0];
	}
	assert_int_equal(d_count, 5);
	assert_int_equal(state_counter(ts, "rep-c", "open"), 2 + 5);
	assert_int_equal(state_counter(ts, "rep-d", "open"), 5);
	/* A rep that left still receives its feedback. */
	assert_int_equal(team_state_feedback(ts, "rep-b", "accepted"), 0);
	assert_int_equal(state_counter(ts, "rep-b", "open"), 1);
	team_state_free(ts);
}

static void test_state_encode_roundtrip(void **state)
{
	struct rep reps[3];
	struct team t;
	struct team_state *a, *b;
	char *s1, *s2, *s3;

	(void)state;
	rep_init(&reps[0], "rep-a", 3);
	rep_init(&reps[1], "rep-b", 2);
	rep_init(&reps[2], "rep-c", 1);
	reps[1].max_open = 4;
	reps[2].daily_cap = 3;
	reps[2].tz = g_time_zone_new_identifier("America/New_York");
	team_init(&t, "emea", reps, 3);
	a = team_state_new(&t);
	for (int i = 0; i < 17; i++)
		choose(&t, a, utc_ms(2026, 3, 8, 3, 0) + i * 600000);
	team_state_feedback(a, "rep-b", "accepted");
	s1 = state_dump(a);
	b = team_state_new(&t);
	assert_int_equal(team_state_decode(b, s1, strlen(s1)), 0);
	s2 = state_dump(b);
	assert_string_equal(s1, s2);
	for (int i = 0; i < 50; i++) {
		int64_t ms = utc_ms(2026, 3, 8, 6, 0) + i * 600000;
		struct route_decision da = choose(&t, a, ms);
		struct route_decision db = choose(&t, b, ms);

		assert_ptr_equal(da.rep, db.rep);
		assert_string_equal(da.reason, db.reason);
	}
	free(s2);
	s2 = state_dump(a);
	s3 = state_dump(b);
	assert_string_equal(s2, s3);

	/* Bad records leave the state alone. */
	assert_int_equal(team_state_decode(b, "{", 1), -1);
	assert_int_equal(team_state_decode(b, "[]", 2), -1);
	free(s1);
	s1 = strdup("{\"v\":1,\"team\":\"apac\",\"seq\":0,\"handoffs\":0,"
		    "\"reps\":[]}");
	assert_int_equal(team_state_decode(b, s1, strlen(s1)), -1);
	free(s1);
	s1 = strdup("{\"v\":1,\"team\":\"emea\",\"seq\":0,\"handoffs\":0,"
		    "\"reps\":[{\"id\":\"x\",\"cw\":0,\"day\":0,\"day_count\":"
		    "0,\"open\":-1,\"total\":0}]}");
	assert_int_equal(team_state_decode(b, s1, strlen(s1)), -1);
	free(s1);
	s1 = state_dump(b);
	assert_string_equal(s1, s3);
	free(s1);
	free(s2);
	free(s3);
	g_time_zone_unref(reps[2].tz);
	team_state_free(a);
	team_state_free(b);
}

/* ---- route_assign_apply ---- */

static json_t *json_get2(json_t *j, const char *a, const char *b)
{
	return json_object_get(json_object_get(j, a), b);
}

struct fixture {
	char *acc[1];
	struct rep reps[3];
	struct team teams[2];
	struct engine_config cfg;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->acc[0] = "acme.com";
	rep_init(&f->reps[0], "rep-a", 2);
	rep_init(&f->reps[1], "rep-b", 1);
	rep_init(&f->reps[2], "rep-x", 1);
	f->reps[1].accounts = f->acc;
	f->reps[1].naccounts = 1;
	team_init(&f->teams[0], "emea", f->reps, 2);
	f->teams[0].sla_ms = 4 * 3600 * 1000;
	team_init(&f->teams[1], "apac", &f->reps[2], 1);
	f->cfg.routing.teams = f->teams;
	f->cfg.routing.nteams = 2;
	return f;
}

static char *assign_cmd(const char *lead, int cycle, const char *team,
			const char *domain, int64_t ms)
{
	char *s = NULL;
	char dom[64];

	if (domain)
		snprintf(dom, sizeof(dom), "\"%s\"", domain);
	else
		snprintf(dom, sizeof(dom), "null");
	assert_true(
		asprintf(&s,
			 "{\"kind\":\"assign\",\"lead\":\"%s\",\"cycle\":%d,"
			 "\"team\":\"%s\",\"territory\":{\"rule\":\"eu\","
			 "\"reason\":\"country DE\"},\"qualified_at\":"
			 "\"2026-03-29T10:00:00.000Z\",\"qualified_at_ms\":"
			 "%" PRId64 ",\"score\":73.45,\"grade\":\"A\","
			 "\"email_domain\":%s,\"group_id\":null,"
			 "\"traits\":{\"title\":\"CTO\"},\"reasons\":{"
			 "\"score\":[\"pricing +20\"],\"grade\":[\"cto\"]}}",
			 lead, cycle, team, ms, dom) > 0);
	return s;
}

static void test_assign_apply_fields(void **state)
{
	struct fixture *f = fixture_new();
	struct team_state *ts = team_state_new(&f->teams[0]);
	int64_t ms = utc_ms(2026, 3, 29, 10, 0);
	char *cmd = assign_cmd("lead-1", 2, "emea", "acme.com", ms);
	char err[128] = "", expect_id[48], *keys = NULL;
	struct handoff h;
	json_t *j, *r, *v;
	const char *k;
	size_t klen = 0;
	FILE *fk = open_memstream(&keys, &klen);

	(void)state;
	assert_int_equal(
		route_assign_apply(&f->cfg, ts, cmd, strlen(cmd), &h, err, 128),
		0);
	snprintf(expect_id, sizeof(expect_id), "%016" PRIx64 "-1",
		 (uint64_t)XXH3_64bits("lead-1\n2", 8));
	assert_string_equal(h.handoff_id, expect_id);
	{
		/* Stage 1 recomputes it to tell stale feedback (stage.c). */
		char again[48], other[48];

		assert_int_equal(route_handoff_id_make(strv_from("lead-1"), 2,
						       1, again, sizeof(again)),
				 0);
		assert_string_equal(again, expect_id);
		assert_int_equal(route_handoff_id_make(strv_from("lead-1"), 3,
						       1, other, sizeof(other)),
				 0);
		assert_string_not_equal(other, expect_id);
		assert_true(route_handoff_id_valid(strv_from(again)));
		assert_true(route_handoff_id_same_cycle(strv_from(again),
							strv_from(expect_id)));
		assert_false(route_handoff_id_same_cycle(strv_from(other),
							 strv_from(expect_id)));
		/* another attempt of the same cycle is the same cycle */
		again[strlen(again) - 1] = '2';
		assert_true(route_handoff_id_same_cycle(strv_from(again),
							strv_from(expect_id)));
		assert_false(route_handoff_id_valid(strv_from("h-123")));
		assert_false(route_handoff_id_valid(
			strv_from("0123456789ABCDEF-1")));
		assert_false(
			route_handoff_id_valid(strv_from("0123456789abcdef-")));
		assert_false(route_handoff_id_valid(
			strv_from("0123456789abcdef-1x")));
		assert_true(route_handoff_id_valid(
			strv_from("0123456789abcdef-12")));
	}
	assert_string_equal(h.rep_id, "rep-b");
	assert_string_equal(h.team, "emea");
	assert_int_equal(strlen(h.json), h.len);
	j = json_loads(h.json, 0, NULL);
	assert_non_null(j);
	json_object_foreach(j, k, v) fprintf(fk, "%s,", k);
	fclose(fk);
	assert_string_equal(keys,
			    "handoff_id,attempt,lead,cycle,team,territory,"
			    "qualified_at,qualified_at_ms,score,grade,"
			    "email_domain,group_id,traits,reasons,rep,routing,"
			    "handed_off_at,sla_deadline,");
	assert_null(json_object_get(j, "kind"));
	assert_non_null(strstr(h.json, "\"score\":73.45,"));
	assert_string_equal(json_string_value(json_object_get(j, "handoff_id")),
			    expect_id);
	assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "rep")),
			    "rep-b");
	assert_string_equal(
		json_string_value(json_object_get(j, "handed_off_at")),
		"2026-03-29T10:00:00.000Z");
	assert_string_equal(
		json_string_value(json_object_get(j, "sla_deadline")),
		"2026-03-29T14:00:00.000Z");
	assert_string_equal(json_string_value(json_get2(j, "traits", "title")),
			    "CTO");
	r = json_object_get(j, "routing");
	assert_string_equal(json_string_value(json_object_get(r, "team")),
			    "emea");
	assert_string_equal(json_string_value(json_object_get(r, "strategy")),
			    "named_account");
	assert_string_equal(
		json_string_value(json_get2(r, "territory", "rule")), "eu");
	assert_non_null(strstr(json_string_value(json_object_get(r, "reason")),
			       "rep-b"));
	json_decref(j);
	free(h.json);
	free(keys);

	/* No SLA and overflow: deadline null, rep is the queue. */
	team_state_free(ts);
	f->reps[2].paused = true;
	ts = team_state_new(&f->teams[1]);
	free(cmd);
	cmd = assign_cmd("lead-2", 1, "apac", NULL, ms);
	assert_int_equal(
		route_assign_apply(&f->cfg, ts, cmd, strlen(cmd), &h, err, 128),
		0);
	j = json_loads(h.json, 0, NULL);
	assert_true(json_is_null(json_object_get(j, "sla_deadline")));
	assert_string_equal(json_string_value(json_object_get(j, "rep")),
			    "queue-overflow");
	assert_string_equal(
		json_string_value(json_get2(j, "routing", "strategy")),
		"overflow");
	assert_string_equal(h.rep_id, "queue-overflow");
	json_decref(j);
	free(h.json);
	free(cmd);
	team_state_free(ts);
	free(f);
}

/* Every time written is RFC 3339: four year digits, no sign. */
static void test_iso_time_format_range(void **state)
{
	char buf[80];

	(void)state;
	assert_true(iso_time_format(ISO_TIME_MAX_MS, buf, sizeof(buf)));
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	assert_true(iso_time_format(ISO_TIME_MIN_MS, buf, sizeof(buf)));
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
	assert_true(iso_time_format(-1, buf, sizeof(buf)));
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	assert_false(iso_time_format(ISO_TIME_MAX_MS + 1, buf, sizeof(buf)));
	assert_false(iso_time_format(ISO_TIME_MIN_MS - 1, buf, sizeof(buf)));
}

/* The SLA deadline of a lead qualified near the end of 9999 would need a
 * fifth year digit, which RFC 3339 cannot write: it is written as the last
 * time it can (a deadline that fits exactly is written as it is). */
static char *sla_deadline_at(struct fixture *f, int64_t ms)
{
	struct team_state *ts = team_state_new(&f->teams[0]);
	char *cmd = assign_cmd("lead-9999", 1, "emea", "acme.com", ms);
	char err[128] = "", *out;
	struct handoff h;
	json_t *j, *d;

	assert_int_equal(
		route_assign_apply(&f->cfg, ts, cmd, strlen(cmd), &h, err, 128),
		0);
	j = json_loads(h.json, 0, NULL);
	assert_non_null(j);
	d = json_object_get(j, "sla_deadline");
	assert_true(json_is_string(d));
	out = strdup(json_string_value(d));
	json_decref(j);
	free(h.json);
	free(cmd);
	team_state_free(ts);
	return out;
}

static void test_assign_apply_sla_deadline_max(void **state)
{
	struct fixture *f = fixture_new();
	char *d;

	(void)state;
	/* 23:30 + the team's 4 h SLA: 10000-01-01T03:30 */
	d = sla_deadline_at(f, utc_ms(9999, 12, 31, 23, 30));
	assert_string_equal(d, "9999-12-31T23:59:59.999Z");
	free(d);
	d = sla_deadline_at(f, utc_ms(9999, 12, 31, 20, 0) - 1);
	assert_string_equal(d, "9999-12-31T23:59:59.999Z");
	free(d);
	d = sla_deadline_at(f, utc_ms(9999, 12, 31, 19, 0));
	assert_string_equal(d, "9999-12-31T23:00:00.000Z");
	free(d);
	free(f);
}

/* A reload that removes a team: an assign command already on the topic,
 * applied to the state the team had under the old config, is refused
 * (the daemon sends it to the DLQ) and leaves the state alone. */
static void test_assign_apply_team_removed(void **state)
{
	struct fixture *f = fixture_new();
	struct team_state *ts = team_state_new(&f->teams[1]);
	int64_t ms = utc_ms(2026, 3, 29, 10, 0);
	char *cmd = assign_cmd("lead-3", 1, "apac", NULL, ms);
	char err[128] = "", *before, *after;
	size_t blen, alen;
	struct handoff h;

	(void)state;
	assert_int_equal(team_state_encode(ts, &before, &blen), 0);
	f->cfg.routing.nteams = 1; /* apac is gone */
	assert_int_equal(
		route_assign_apply(&f->cfg, ts, cmd, strlen(cmd), &h, err, 128),
		-1);
	assert_non_null(strstr(err, "unknown team"));
	assert_int_equal(team_state_encode(ts, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
	free(cmd);
	team_state_free(ts);
	free(f);
}

static void test_assign_apply_deterministic(void **state)
{
	struct fixture *f = fixture_new();
	struct team_state *a = team_state_new(&f->teams[0]);
	struct team_state *b = team_state_new(&f->teams[0]);
	char err[128];
	int to_b = 0;

	(void)state;
	f->reps[0].daily_cap = 7;
	f->reps[0].tz = g_time_zone_new_identifier("Europe/Berlin");
	for (int i = 0; i < 200; i++) {
		char lead[32];
		char *cmd;
		struct handoff ha, hb;

		snprintf(lead, sizeof(lead), "lead-%d", i);
		cmd = assign_cmd(lead, 1, "emea", i % 5 ? "x.io" : "acme.com",
				 utc_ms(2026, 3, 28, 20, 0) + i * 300000LL);
		assert_int_equal(route_assign_apply(&f->cfg, a, cmd,
						    strlen(cmd), &ha, err, 128),
				 0);
		assert_int_equal(route_assign_apply(&f->cfg, b, cmd,
						    strlen(cmd), &hb, err, 128),
				 0);
		assert_string_equal(ha.json, hb.json);
		assert_string_equal(ha.handoff_id, hb.handoff_id);
		to_b += strcmp(ha.rep_id, "rep-b") == 0;
		free(ha.json);
		free(hb.json);
		free(cmd);
	}
	/* Every fifth lead is rep-b's named account, plus its WRR share. */
	assert_true(to_b > 40);
	g_time_zone_unref(f->reps[0].tz);
	team_state_free(a);
	team_state_free(b);
	free(f);
}

static void test_assign_apply_malformed(void **state)
{
	static const char *const bad[] = {
		"{\"kind\":\"assign\"",
		"[1,2]",
		"{\"kind\":\"feedback\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"emea\",\"qualified_at\":\"x\",\"qualified_at_ms\":1}",
		"{\"kind\":\"assign\",\"cycle\":1,\"team\":\"emea\","
		"\"qualified_at\":\"x\",\"qualified_at_ms\":1}",
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":\"1\",\"team\":"
		"\"emea\",\"qualified_at\":\"x\",\"qualified_at_ms\":1}",
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"emea\",\"qualified_at\":\"x\",\"qualified_at_ms\":1.5}",
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"emea\",\"qualified_at\":\"x\",\"qualified_at_ms\":1,"
		"\"email_domain\":7}",
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"nope\",\"qualified_at\":\"x\",\"qualified_at_ms\":1}",
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"apac\",\"qualified_at\":\"x\",\"qualified_at_ms\":1}",
		"{\"kind\":\"assign\",\"kind\":\"assign\",\"lead\":\"l\"}",
		/* read with JSON_ALLOW_NUL for the key, but a team name with a
		 * NUL must not pass strcmp as "emea" */
		"{\"kind\":\"assign\",\"lead\":\"l\",\"cycle\":1,\"team\":"
		"\"emea\\u0000x\",\"qualified_at\":\"x\",\"qualified_at_ms\":"
		"1}",
	};
	static const char *const expect[] = {
		"invalid JSON",
		"not an object",
		"kind",
		"lead",
		"cycle",
		"qualified_at_ms",
		"email_domain",
		"unknown team",
		"another team",
		"invalid JSON",
		"team: missing, not a string or with a NUL",
	};
	struct fixture *f = fixture_new();
	struct team_state *ts = team_state_new(&f->teams[0]);
	char *before = state_dump(ts), *after;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128] = "";
		struct handoff h = {0};

		assert_int_equal(route_assign_apply(&f->cfg, ts, bad[i],
						    strlen(bad[i]), &h, err,
						    sizeof(err)),
				 -1);
		assert_non_null(strstr(err, expect[i]));
		assert_null(h.json);
	}
	after = state_dump(ts);
	assert_string_equal(before, after);
	free(before);
	free(after);
	team_state_free(ts);
	free(f);
}

/* A command as stage 1 writes it (compact) takes the text path; the same
 * command indented takes the DOM path. Both must give the same handoff
 * bytes, or the same error, and leave the same state, for commands with
 * odd strings and reals, missing, extra and reserved members. */
static void test_assign_apply_text_matches_dom(void **state)
{
	static const char *const cmds[] = {
		/* the base command, then variants of it */
		"{}",
		"{\"territory\":{\"rule\":\"q\\\"\\\\/\\u0001\\u001f\\n\","
		"\"reason\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}",
		"{\"traits\":{\"t\":\"a\\u0000b\",\"u\":-0.0,\"v\":1e-5,"
		"\"w\":1e20,\"x\":123456789012345.0,\"y\":[true,false,null],"
		"\"z\":{}},\"score\":-19.78}",
		"{\"lead\":\"l\\u0000k\\\"\"}",
		"{\"lead\":\"\xc3\xa9l\xf0\x9f\x98\x80\"}",
		"{\"email_domain\":\"acme.com\"}",
		"{\"email_domain\":\"ac\\u0000me.com\"}",
		"{\"group_id\":\"g\\n1\"}",
		"{\"territory\":null}",
		"{\"territory\":\"flat\"}",
		"{\"extra\":[1,2.5,\"x\"],\"z_last\":{\"a\":{\"b\":[]}}}",
		"{\"rep\":\"someone\"}",
		"{\"handoff_id\":\"x\"}",
		"{\"routing\":1}",
		"{\"sla_deadline\":null}",
		"{\"attempt\":7}",
		"{\"handed_off_at\":\"now\"}",
		"{\"kind\":\"feedback\"}",
		"{\"kind\":\"assign\\u0000\"}",
		"{\"team\":\"nope\"}",
		"{\"team\":\"apac\"}",
		"{\"team\":\"em\\u0065a\"}",
		"{\"team\":\"\"}",
		"{\"lead\":\"\"}",
		"{\"lead\":5}",
		"{\"cycle\":-1}",
		"{\"cycle\":0}",
		"{\"cycle\":1.0}",
		"{\"qualified_at_ms\":-5}",
		"{\"qualified_at_ms\":253402300799999}",
		"{\"qualified_at\":\"2026-03-29T10:00:00.000Z\\u0000\"}",
		"{\"qualified_at\":\"\\t2026\"}",
		"{\"email_domain\":7}",
		"{\"group_id\":false}",
	};
	struct fixture *f = fixture_new();
	int64_t ms = utc_ms(2026, 3, 29, 10, 0);
	char *base = assign_cmd("lead-1", 2, "emea", NULL, ms);
	struct jtext_member m[JTEXT_MEMBERS_MAX];
	struct team_state *ta = team_state_new(&f->teams[0]);
	struct team_state *tb = team_state_new(&f->teams[0]);

	(void)state;
	for (size_t i = 0; i < 2 * sizeof(cmds) / sizeof(cmds[0]); i++) {
		json_t *o = json_loads(base, 0, NULL);
		json_t *patch =
			json_loads(cmds[i % (sizeof(cmds) / sizeof(cmds[0]))],
				   JSON_ALLOW_NUL, NULL);
		char ea[128] = "", eb[128] = "", *text, *dom, *sa, *sb;
		struct handoff ha = {0}, hb = {0};
		int ra, rb;

		/* The second round names the reps in invalid UTF-8, which
		 * jansson will not write: the text path hands over to the
		 * DOM, which leaves "rep" and the reason out. */
		if (i == sizeof(cmds) / sizeof(cmds[0])) {
			f->reps[0].id = (char *)"rep-a\xff";
			f->reps[1].id = (char *)"rep-b\xc0\x80";
		}

		assert_non_null(patch);
		json_object_update(o, patch);
		text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
		dom = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
		assert_true(jtext_object_scan(text, strlen(text), m) > 0);
		assert_int_equal(jtext_object_scan(dom, strlen(dom), m), -1);
		ra = route_assign_apply(&f->cfg, ta, text, strlen(text), &ha,
					ea, sizeof(ea));
		rb = route_assign_apply(&f->cfg, tb, dom, strlen(dom), &hb, eb,
					sizeof(eb));
		assert_int_equal(ra, rb);
		assert_string_equal(ea, eb);
		if (ra == 0) {
			assert_int_equal(ha.len, hb.len);
			assert_memory_equal(ha.json, hb.json, ha.len);
			assert_int_equal(strlen(ha.json), ha.len);
			assert_string_equal(ha.handoff_id, hb.handoff_id);
			assert_string_equal(ha.rep_id, hb.rep_id);
			assert_int_equal(ha.strategy, hb.strategy);
		}
		/* (state_dump cannot write the second round's rep ids) */
		if (i < sizeof(cmds) / sizeof(cmds[0])) {
			sa = state_dump(ta);
			sb = state_dump(tb);
			assert_string_equal(sa, sb);
			free(sa);
			free(sb);
		}
		free(ha.json);
		free(hb.json);
		free(text);
		free(dom);
		json_decref(patch);
		json_decref(o);
	}
	free(base);
	team_state_free(ta);
	team_state_free(tb);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_available_paused_and_ooo),
		cmocka_unit_test(test_hours_dst_berlin),
		cmocka_unit_test(test_hours_dst_new_york),
		cmocka_unit_test(test_hours_weekdays),
		cmocka_unit_test(test_hours_local_weekday),
		cmocka_unit_test(test_hours_utc_and_overnight),
		cmocka_unit_test(test_hours_cached_lookup_matches),
		cmocka_unit_test(test_wrr_distribution),
		cmocka_unit_test(test_wrr_smooth_sequence),
		cmocka_unit_test(test_wrr_equal_weights_interleave),
		cmocka_unit_test(test_daily_cap_resets_on_local_day),
		cmocka_unit_test(test_daily_cap_late_lead_after_cap),
		cmocka_unit_test(test_daily_cap_late_lead_counts_on_latest_day),
		cmocka_unit_test(test_daily_cap_alternating_days),
		cmocka_unit_test(test_daily_cap_same_day_either_order),
		cmocka_unit_test(test_max_open_and_feedback),
		cmocka_unit_test(test_named_account_domain_and_group),
		cmocka_unit_test(test_named_account_subdomains),
		cmocka_unit_test(test_named_owner_unavailable),
		cmocka_unit_test(test_overflow_reasons),
		cmocka_unit_test(test_state_survives_reload),
		cmocka_unit_test(test_state_encode_roundtrip),
		cmocka_unit_test(test_assign_apply_fields),
		cmocka_unit_test(test_iso_time_format_range),
		cmocka_unit_test(test_assign_apply_sla_deadline_max),
		cmocka_unit_test(test_assign_apply_deterministic),
		cmocka_unit_test(test_assign_apply_team_removed),
		cmocka_unit_test(test_assign_apply_malformed),
		cmocka_unit_test(test_assign_apply_text_matches_dom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
