/*
 * test_lead_ext.c - a lead's variable-size part (score records, then
 * packed traits) through lead_ext_resize: growing and shrinking keeps
 * the records and trait bytes it promises, across slab size classes and
 * past LEAD_SLAB_MAX (malloc'd blocks); the table still finds every
 * lead; a resized lead survives the changelog round trip; and many
 * leads under churn (events, cycle resets, removals) keep their traits
 * and re-encode identically after a decode. White-box: the layout is
 * lead_internal.h's, so a change of layout is checked here first.
 */
#include "testutil.h"

#include "../../engine/lead_internal.h"
#include "lead_fixture.h"

struct xfx {
	struct fx_config f;
	struct lead_table *t;
};

static int setup(void **state)
{
	struct xfx *s = calloc(1, sizeof(*s));

	fx_config_init(&s->f);
	s->t = lead_table_new();
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct xfx *s = *state;

	lead_table_free(s->t);
	free(s);
	return 0;
}

/* Packs one string trait (type, name, NUL, value, NUL) at b + n. */
static size_t pack_trait(char *b, size_t n, const char *name, const char *val)
{
	b[n++] = (char)JVAL_STRING;
	memcpy(b + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	memcpy(b + n, val, strlen(val) + 1);
	return n + strlen(val) + 1;
}

/* A record whose every field tells which one it is. */
static void rec_fill(struct lead_rec *r, unsigned i)
{
	r->contrib = 0.5 + i;
	r->day_count = 100 + i;
	r->total = 200 + i;
	r->day = 20000 + (int32_t)i;
	r->rule = (uint16_t)i;
}

static void rec_check(const struct lead_rec *r, unsigned i)
{
	assert_true(r->contrib == 0.5 + i);
	assert_int_equal(r->day_count, 100 + i);
	assert_int_equal(r->total, 200 + i);
	assert_int_equal(r->day, 20000 + (int32_t)i);
	assert_int_equal(r->rule, i);
}

static void trait_check(const struct lead *l, const char *name,
			const char *want)
{
	struct jval v;

	assert_true(lead_trait_get(l, name, &v));
	assert_int_equal(v.kind, JVAL_STRING);
	assert_int_equal(v.str.len, strlen(want));
	assert_memory_equal(v.str.p, want, v.str.len);
}

/* Records and traits survive each grow and shrink, the records keeping
 * their place and the traits following them. */
static void test_resize_keeps_recs_and_traits(void **state)
{
	struct xfx *s = *state;
	struct lead *l = lead_table_insert(s->t, strv_from("resize-me"));
	char packed[128];
	size_t n = 0;

	assert_non_null(l);
	assert_int_equal(lead_ext_size(l), 0);
	n = pack_trait(packed, n, "title", "VP Sales");
	n = pack_trait(packed, n, "country", "DE");
	assert_int_equal(lead_traits_replace(s->t, l, packed, n), 0);
	assert_int_equal(l->traits_len, n);
	assert_int_equal(l->nrecs, 0);

	/* grow: three records in front of the traits */
	assert_int_equal(lead_ext_resize(s->t, l, 3, l->traits_len), 0);
	assert_int_equal(l->nrecs, 3);
	for (unsigned i = 0; i < 3; i++)
		rec_fill(&lead_recs(l)[i], i);
	assert_memory_equal(lead_traits(l), packed, n);
	trait_check(l, "title", "VP Sales");
	trait_check(l, "country", "DE");

	/* grow by one record more: the first three keep their place */
	assert_int_equal(lead_ext_resize(s->t, l, 4, l->traits_len), 0);
	rec_fill(&lead_recs(l)[3], 3);
	for (unsigned i = 0; i < 4; i++)
		rec_check(&lead_recs(l)[i], i);
	assert_memory_equal(lead_traits(l), packed, n);

	/* shrink the records: the first one survives, the traits move up */
	assert_int_equal(lead_ext_resize(s->t, l, 1, l->traits_len), 0);
	assert_int_equal(l->nrecs, 1);
	rec_check(&lead_recs(l)[0], 0);
	assert_memory_equal(lead_traits(l), packed, n);
	trait_check(l, "country", "DE");

	/* shrink the traits to the first entry: the record stays */
	size_t first = 1 + sizeof("title") + sizeof("VP Sales");
	assert_int_equal(lead_ext_resize(s->t, l, 1, first), 0);
	assert_int_equal(l->traits_len, first);
	rec_check(&lead_recs(l)[0], 0);
	trait_check(l, "title", "VP Sales");
	assert_false(lead_trait_get(l, "country", &(struct jval){0}));

	/* the table still finds it, under its key */
	assert_ptr_equal(lead_table_find(s->t, strv_from("resize-me")), l);
	assert_int_equal(lead_key(l).len, strlen("resize-me"));

	/* empty again: no records, no traits */
	assert_int_equal(lead_ext_resize(s->t, l, 0, 0), 0);
	assert_int_equal(lead_ext_size(l), 0);
	assert_int_equal(lead_grade(l), 0);
	assert_ptr_equal(lead_table_find(s->t, strv_from("resize-me")), l);
}

/* Out of range: nothing changes. */
static void test_resize_refuses_out_of_range(void **state)
{
	struct xfx *s = *state;
	struct lead *l = lead_table_insert(s->t, strv_from("k"));

	assert_int_equal(lead_ext_resize(s->t, l, 2, 0), 0);
	rec_fill(&lead_recs(l)[0], 0);
	rec_fill(&lead_recs(l)[1], 1);
	assert_int_equal(lead_ext_resize(s->t, l, LEAD_RECS_MAX + 1, 0), -1);
	assert_int_equal(lead_ext_resize(s->t, l, 2, UINT16_MAX + 1u), -1);
	assert_int_equal(l->nrecs, 2);
	rec_check(&lead_recs(l)[0], 0);
	rec_check(&lead_recs(l)[1], 1);
}

/* From slab blocks up past LEAD_SLAB_MAX (malloc) and back down, with
 * records and every trait byte intact at each step; freeing the table
 * then frees the malloc'd blocks (ASan and valgrind see a leak else). */
static void test_resize_across_slab_max(void **state)
{
	struct xfx *s = *state;
	struct lead *l = lead_table_insert(s->t, strv_from("big"));
	char packed[LEAD_TRAITS_MAX], val[64];
	size_t n = 0;

	for (unsigned i = 0; n + 80 < sizeof(packed); i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%u", i);
		snprintf(val, sizeof(val), "value-%u-%040u", i, i);
		n = pack_trait(packed, n, name, val);
	}
	assert_true(n > LEAD_SLAB_MAX);
	for (unsigned nrecs = 0; nrecs <= 40; nrecs += 8) {
		assert_int_equal(lead_ext_resize(s->t, l, nrecs, 0), 0);
		for (unsigned i = 0; i < nrecs; i++)
			rec_fill(&lead_recs(l)[i], i);
		for (size_t len = 0; len <= n; len += n / 4) {
			assert_int_equal(
				lead_traits_replace(s->t, l, packed, len), 0);
			for (unsigned i = 0; i < nrecs; i++)
				rec_check(&lead_recs(l)[i], i);
			assert_memory_equal(lead_traits(l), packed, len);
		}
		assert_int_equal(lead_traits_replace(s->t, l, packed, n), 0);
		snprintf(val, sizeof(val), "value-%u-%040u", 7u, 7u);
		trait_check(l, "t7", val);
	}
	assert_int_equal(lead_ext_resize(s->t, l, 1, 0), 0);
	rec_check(&lead_recs(l)[0], 0);
	assert_ptr_equal(lead_table_find(s->t, strv_from("big")), l);
}

static char *encode(const struct engine_config *cfg, const struct lead *l,
		    size_t *len)
{
	char *out = NULL;

	assert_int_equal(lead_encode(cfg, l, &out, len), 0);
	return out;
}

/* A decoded lead re-encodes to the same bytes, and stays exact through
 * a shrink and a regrowth of its ext. */
static void assert_round_trip(const struct engine_config *cfg,
			      const struct lead *l)
{
	struct lead_table *t2 = lead_table_new();
	size_t alen, blen;
	char *a = encode(cfg, l, &alen), *b;

	assert_int_equal(lead_decode(cfg, t2, lead_key(l), a, alen), 0);
	b = encode(cfg, lead_table_find(t2, lead_key(l)), &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	lead_table_free(t2);
}

/* Events that fire each rule and merge traits, a cycle reset (records
 * dropped, traits kept), more events: the changelog round trip holds at
 * every step. */
static void test_codec_round_trip_through_resizes(void **state)
{
	struct xfx *s = *state;
	const struct engine_config *cfg = &s->f.cfg;
	struct event *ev;
	struct lead *l;

	ev = fx_event(EVENT_PAGE, "rt", T0);
	ev->path = strv_from("/pricing/x");
	lead_event_apply(cfg, s->t, ev, NULL, NULL);
	ev = fx_event(EVENT_TRACK, "rt", T0 + HOUR);
	ev->name = strv_from("Demo Requested");
	lead_event_apply(cfg, s->t, ev, NULL, NULL);
	l = lead_table_find(s->t, strv_from("rt"));
	assert_int_equal(l->nrecs, 3); /* pricing, demo, any */
	assert_round_trip(cfg, l);

	ev = fx_event(EVENT_IDENTIFY, "rt", T0 + 2 * HOUR);
	fx_identify(ev, "u-rt", "rt@acme.com");
	fx_trait_str(ev, "title", "Director of Sales");
	fx_trait_num(ev, "employees", "1200");
	lead_event_apply(cfg, s->t, ev, NULL, NULL);
	l = lead_table_find(s->t, strv_from("rt"));
	trait_check(l, "title", "Director of Sales");
	assert_round_trip(cfg, l);

	lead_state_reset_cycle(s->t, l);
	assert_int_equal(l->nrecs, 0);
	trait_check(l, "email", "rt@acme.com");
	assert_round_trip(cfg, l);

	ev = fx_event(EVENT_PAGE, "rt", T0 + 3 * HOUR);
	ev->path = strv_from("/careers");
	lead_event_apply(cfg, s->t, ev, NULL, NULL);
	l = lead_table_find(s->t, strv_from("rt"));
	assert_int_equal(l->nrecs, 2); /* careers, any */
	trait_check(l, "title", "Director of Sales");
	assert_round_trip(cfg, l);
}

#define CHURN_LEADS 3000
#define CHURN_STEPS 40000

/* A small deterministic generator (xorshift): the same churn every run. */
static uint32_t churn_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Many leads, each event on a random one: pages that fire rules, traits
 * of changing lengths, cycle resets, removals. A model holds which leads
 * exist and the last "note" each was given; at the end every lead is
 * where the model says, with its note, and a sample round-trips.
 */
static void test_many_leads_churn(void **state)
{
	struct xfx *s = *state;
	const struct engine_config *cfg = &s->f.cfg;
	static const char *const paths[] = {"/pricing", "/careers", "/blog"};
	static unsigned note[CHURN_LEADS]; /* 0: lead absent; else note # */
	uint32_t x = 2463534242u;
	size_t count = 0;
	char key[32], val[96];

	memset(note, 0, sizeof(note));
	for (unsigned step = 1; step <= CHURN_STEPS; step++) {
		uint32_t r = churn_next(&x);
		unsigned k = r % CHURN_LEADS, op = (r >> 16) % 16;
		int64_t ts = T0 + (int64_t)step * 60000;
		struct event *ev;
		snprintf(key, sizeof(key), "lead-%u", k);
		if (op == 0 && note[k]) {
			lead_table_remove(s->t, strv_from(key));
			note[k] = 0;
			count--;
			continue;
		}
		if (op == 1 && note[k]) {
			lead_state_reset_cycle(
				s->t, lead_table_find(s->t, strv_from(key)));
			continue;
		}
		ev = fx_event(EVENT_PAGE, key, ts);
		ev->path = strv_from(paths[(r >> 8) % 3]);
		if (op < 6 || !note[k]) {
			/* a note of 1 to 80 characters: the ext grows and
			 * shrinks across many size classes */
			snprintf(val, sizeof(val), "%u:%.*s", step,
				 (int)(r >> 24) % 72,
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			fx_trait_str(ev, "note", val);
		}
		if (!note[k])
			count++;
		assert_int_not_equal(
			lead_event_apply(cfg, s->t, ev, NULL, NULL),
			LEAD_DUPLICATE);
		if (ev->ntraits)
			note[k] = step;
	}
	assert_int_equal(lead_table_count(s->t), count);
	for (unsigned k = 0; k < CHURN_LEADS; k++) {
		const struct lead *l;
		struct jval v;
		char want[16];
		snprintf(key, sizeof(key), "lead-%u", k);
		l = lead_table_find(s->t, strv_from(key));
		if (!note[k]) {
			assert_null(l);
			continue;
		}
		assert_non_null(l);
		assert_true(lead_key(l).len == strlen(key) &&
			    memcmp(lead_key(l).p, key, strlen(key)) == 0);
		assert_true(lead_trait_get(l, "note", &v));
		snprintf(want, sizeof(want), "%u:", note[k]);
		assert_true(v.str.len >= strlen(want));
		assert_memory_equal(v.str.p, want, strlen(want));
		assert_true(l->nrecs <= 3);
		if (k % 50 == 0)
			assert_round_trip(cfg, l);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_resize_keeps_recs_and_traits),
		T(test_resize_refuses_out_of_range),
		T(test_resize_across_slab_max),
		T(test_codec_round_trip_through_resizes),
		T(test_many_leads_churn),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
