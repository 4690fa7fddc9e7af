/*
 * test_state.c - the daemon's per-partition lead state: the expiry clock
 * of a part. A lead read back from the changelog dated far ahead (written
 * before event times were bounded) keeps its time but moves the clock only
 * up to the cap, so expiry leaves the other leads alone; a duplicate event
 * changes neither the lead, the dirty set nor the clock.
 *
 * state.c is a daemon source, not in libleadrouter.a; it knows nothing of
 * Kafka (GLib and the engine only), so it is compiled into this test
 * directly.
 */
#include <stdlib.h>

#include "testutil.h"

#include "../../daemon/state.c"
#include "lead_fixture.h"

#define TTL_MS (90 * DAY_MS) /* lead_idle_ttl_days' default */

struct sfx {
	struct fx_config f;
	struct state *st;
	struct assign_cmd cmd;
};

static int setup(void **state)
{
	struct sfx *s = calloc(1, sizeof(*s));

	fx_config_init(&s->f);
	s->st = state_new(1, 0);
	assert_non_null(s->st);
	assert_true(state_leads_ref(s->st, 0, STATE_REF_EVENTS));
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sfx *s = *state;

	free(s->cmd.json);
	state_free(s->st);
	free(s);
	return 0;
}

/* A /pricing page view (10 + 1 points) for key at ts. */
static struct event *page(const char *key, int64_t ts, const char *msg_id)
{
	struct event *ev = fx_event(EVENT_PAGE, key, ts);

	ev->path = strv_from("/pricing");
	ev->message_id = strv_from(msg_id);
	return ev;
}

static enum lead_outcome apply(struct sfx *s, struct event *ev)
{
	struct lead *l = NULL;

	free(s->cmd.json);
	s->cmd.json = NULL;
	return state_lead_event_apply(s->st, 0, &s->f.cfg, ev, &l, &s->cmd);
}

static int flush_nop(int p, struct strv key, const struct lead *l, void *arg)
{
	(void)p, (void)key, (void)l, (void)arg;
	return 0;
}

/* Read back one lead of src into part 0 the way txn_restore_lead_fn does:
 * decode its changelog record, then advance the clock capped. */
static void restore(struct sfx *s, struct lead_table *src, const char *key,
		    int64_t cap_ms)
{
	struct lead_table *t = state_leads_table(s->st, 0);
	const struct lead *l = lead_table_find(src, strv_from(key));
	char *rec = NULL;
	size_t len = 0;

	assert_non_null(l);
	assert_int_equal(lead_encode(&s->f.cfg, l, &rec, &len), 0);
	assert_int_equal(lead_decode(&s->f.cfg, t, strv_from(key), rec, len),
			 0);
	free(rec);
	l = lead_table_find(t, strv_from(key));
	assert_non_null(l);
	state_leads_advance_capped(s->st, 0, lead_last_seen(l), cap_ms);
}

/* Three leads as a daemon without the bound left them: alice and bob seen
 * at T0, skew dated ten years ahead. */
static struct lead_table *old_changelog(struct sfx *s)
{
	struct lead_table *src = lead_table_new();

	assert_int_equal(lead_event_apply(&s->f.cfg, src,
					  page("alice", T0, "a1"), NULL, NULL),
			 LEAD_UPDATED);
	assert_int_equal(lead_event_apply(&s->f.cfg, src, page("bob", T0, "b1"),
					  NULL, NULL),
			 LEAD_UPDATED);
	assert_int_equal(
		lead_event_apply(&s->f.cfg, src,
				 page("skew", T0 + 3650 * DAY_MS, "s1"), NULL,
				 NULL),
		LEAD_UPDATED);
	return src;
}

static void restore_all(struct sfx *s, struct lead_table *src, int64_t cap)
{
	state_leads_reset(s->st, 0);
	restore(s, src, "alice", cap);
	restore(s, src, "skew", cap);
	restore(s, src, "bob", cap);
}

/* The daemon's clock at restore is T0 and the bound 1 day: the part's
 * clock stops at T0 + 1 day, alice and bob (seen at T0) are not idle and
 * survive an expiry pass, and skew keeps its own time. */
static void test_restore_future_lead_clock_capped(void **state)
{
	struct sfx *s = *state;
	struct lead_table *src = old_changelog(s);
	struct lead_table *t;

	restore_all(s, src, T0 + DAY_MS);
	t = state_leads_table(s->st, 0);
	assert_int_equal(lead_table_count(t), 3);
	assert_int_equal(state_leads_now(s->st, 0), T0 + DAY_MS);
	assert_int_equal(lead_last_seen(lead_table_find(t, strv_from("skew"))),
			 T0 + 3650 * DAY_MS);
	assert_int_equal(
		state_leads_expire(s->st, 0, &s->f.cfg, TTL_MS, 1.0, 1000), 0);
	assert_int_equal(lead_table_count(t), 3);
	assert_int_equal(state_leads_dirty_count(s->st, 0), 0);

	/* Without the bound (cap 0) the clock follows skew, and the same
	 * pass deletes alice and bob: what the cap prevents. */
	restore_all(s, src, 0);
	assert_int_equal(state_leads_now(s->st, 0), T0 + 3650 * DAY_MS);
	assert_int_equal(
		state_leads_expire(s->st, 0, &s->f.cfg, TTL_MS, 1.0, 1000), 2);
	t = state_leads_table(s->st, 0);
	assert_int_equal(lead_table_count(t), 1);
	assert_non_null(lead_table_find(t, strv_from("skew")));
	lead_table_free(src);
}

/* A lead dated before the cap moves the clock to its own time. */
static void test_restore_clock_below_cap(void **state)
{
	struct sfx *s = *state;
	struct lead_table *src = old_changelog(s);

	state_leads_reset(s->st, 0);
	restore(s, src, "alice", T0 + DAY_MS);
	assert_int_equal(state_leads_now(s->st, 0), T0);
	lead_table_free(src);
}

/* A messageId seen before, even with a later time, changes nothing: not
 * the lead, not the dirty set, not the part's expiry clock. */
static void test_duplicate_keeps_clock(void **state)
{
	struct sfx *s = *state;

	assert_int_equal(apply(s, page("a", T0, "m1")), LEAD_UPDATED);
	assert_int_equal(state_leads_now(s->st, 0), T0);
	assert_int_equal(state_leads_dirty_count(s->st, 0), 1);
	assert_int_equal(state_leads_flush(s->st, 0, flush_nop, NULL), 0);
	assert_int_equal(state_leads_dirty_count(s->st, 0), 0);

	assert_int_equal(apply(s, page("a", T0 + 3650 * DAY_MS, "m1")),
			 LEAD_DUPLICATE);
	assert_int_equal(state_leads_now(s->st, 0), T0);
	assert_int_equal(state_leads_dirty_count(s->st, 0), 0);

	assert_int_equal(apply(s, page("a", T0 + HOUR, "m2")), LEAD_UPDATED);
	assert_int_equal(state_leads_now(s->st, 0), T0 + HOUR);
	assert_int_equal(state_leads_dirty_count(s->st, 0), 1);
}

/* An identify with 30 traits of 85 bytes: past the 2048-byte cap. */
static struct event *big_identify(const char *key, int64_t ts,
				  const char *msg_id)
{
	static char names[30][8], val[86];
	struct event *ev = fx_event(EVENT_IDENTIFY, key, ts);

	memset(val, 'x', 85);
	val[85] = '\0';
	ev->user_id = strv_from(key);
	ev->message_id = strv_from(msg_id);
	for (int i = 0; i < 30; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02u",
			 (unsigned)i % 100u);
		fx_trait_str(ev, names[i], val);
	}
	return ev;
}

/* The dropped-traits count the daemon exports survives the tables it came
 * from: a rebuild after an abort and a revoked partition keep it, so the
 * counter never goes back. */
static void test_traits_dropped_kept(void **state)
{
	struct sfx *s = *state;
	uint64_t n;

	assert_int_equal(state_traits_dropped(s->st), 0);
	assert_int_equal(apply(s, big_identify("u1", T0, "i1")), LEAD_UPDATED);
	n = state_traits_dropped(s->st);
	assert_true(n > 0);
	assert_int_equal(
		n, lead_table_traits_dropped(state_leads_table(s->st, 0)));
	state_leads_reset(s->st, 0);
	assert_int_equal(state_traits_dropped(s->st), n);
	assert_int_equal(apply(s, big_identify("u2", T0, "i2")), LEAD_UPDATED);
	assert_int_equal(state_traits_dropped(s->st), 2 * n);
	assert_true(state_leads_unref(s->st, 0, STATE_REF_EVENTS));
	assert_int_equal(state_traits_dropped(s->st), 2 * n);
	assert_true(state_leads_ref(s->st, 0, STATE_REF_EVENTS));
	assert_int_equal(state_traits_dropped(s->st), 2 * n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_traits_dropped_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_restore_future_lead_clock_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_clock_below_cap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_keeps_clock,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
