/*
 * test_cond.c - every condition operator, against event fields and raw
 * values: case rules, numeric strings, missing values and negation.
 */
#include "testutil.h"

#include "../../engine/cond.h"
#include "lead_fixture.h"

static bool eval_ev(struct cond c, const struct event *ev)
{
	return cond_eval(&c, cond_event_lookup_cb, (void *)ev);
}

static struct jval jstr(const char *s)
{
	return (struct jval){.kind = JVAL_STRING, .str = strv_from(s)};
}

static struct jval jnum(const char *lit)
{
	return (struct jval){.kind = JVAL_NUMBER,
			     .str = strv_from(lit),
			     .num = strtod(lit, NULL)};
}

static void test_eq_string_nocase(void **state)
{
	char *s[] = {"Demo Requested"};
	struct cond c = fx_cond(FIELD_EVENT_NAME, NULL, COND_EQ, s, 1);
	struct event *ev = fx_event(EVENT_TRACK, "k", T0);
	(void)state;

	ev->name = strv_from("demo requested");
	assert_true(eval_ev(c, ev));
	ev->name = strv_from("Demo Requested!");
	assert_false(eval_ev(c, ev));
	ev->name = STRV_NULL;
	assert_false(eval_ev(c, ev));
}

static void test_eq_number(void **state)
{
	struct cond c = fx_cond_num(FIELD_PROPERTY, "plan", COND_EQ, 3);
	struct jval v;
	(void)state;

	v = jnum("3");
	assert_true(cond_test_value(&c, &v));
	v = jnum("3.0");
	assert_true(cond_test_value(&c, &v));
	v = jstr("3");
	assert_true(cond_test_value(&c, &v)); /* numeric string */
	v = jstr("three");
	assert_false(cond_test_value(&c, &v));
	v = jstr(" 3");
	assert_false(cond_test_value(&c, &v));
	/* strtod would read all of these as 3: none is a decimal literal */
	v = jstr("\r3");
	assert_false(cond_test_value(&c, &v));
	v = jstr("\f3");
	assert_false(cond_test_value(&c, &v));
	v = jstr("0x3");
	assert_false(cond_test_value(&c, &v));
	v = jstr("0x1.8p1");
	assert_false(cond_test_value(&c, &v));
	v = jstr("3e0");
	assert_true(cond_test_value(&c, &v));
	v = jnum("4");
	assert_false(cond_test_value(&c, &v));
}

static void test_in(void **state)
{
	char *s[] = {"DE", "fr"};
	struct cond c = fx_cond(FIELD_TRAIT, "country", COND_IN, s, 2);
	struct event *ev = fx_event(EVENT_IDENTIFY, "k", T0);
	(void)state;

	fx_trait_str(ev, "country", "FR");
	assert_true(eval_ev(c, ev));
	ev->traits[0].val.str = strv_from("de");
	assert_true(eval_ev(c, ev));
	ev->traits[0].val.str = strv_from("US");
	assert_false(eval_ev(c, ev));
}

static void test_prefix_case_sensitive(void **state)
{
	char *s[] = {"/pricing", "/plans"};
	struct cond c = fx_cond(FIELD_PATH, NULL, COND_PREFIX, s, 2);
	struct event *ev = fx_event(EVENT_PAGE, "k", T0);
	(void)state;

	ev->path = strv_from("/pricing/enterprise");
	assert_true(eval_ev(c, ev));
	ev->path = strv_from("/plans");
	assert_true(eval_ev(c, ev));
	ev->path = strv_from("/Pricing");
	assert_false(eval_ev(c, ev));
	ev->path = strv_from("/pric");
	assert_false(eval_ev(c, ev));
}

static void test_contains_nocase(void **state)
{
	char *s[] = {"vp", "director"};
	struct cond c = fx_cond(FIELD_TRAIT, "title", COND_CONTAINS, s, 2);
	struct jval v;
	(void)state;

	v = jstr("Senior Director of IT");
	assert_true(cond_test_value(&c, &v));
	v = jstr("VP Sales");
	assert_true(cond_test_value(&c, &v));
	v = jstr("Engineer");
	assert_false(cond_test_value(&c, &v));
}

/* word: the same test where the title has the entry as a whole word or
 * phrase: "VP" is not found in "MVP", "head of" is in "Head of IT" */
static void test_word_nocase(void **state)
{
	char *s[] = {"VP", "head of"};
	struct cond c = fx_cond(FIELD_TRAIT, "title", COND_WORD, s, 2);
	struct jval v;
	(void)state;

	v = jstr("SVP, Sales");
	assert_false(cond_test_value(&c, &v));
	v = jstr("MVP Engineer");
	assert_false(cond_test_value(&c, &v));
	v = jstr("vp of Sales");
	assert_true(cond_test_value(&c, &v));
	v = jstr("Sales (VP)");
	assert_true(cond_test_value(&c, &v));
	v = jstr("Head of IT");
	assert_true(cond_test_value(&c, &v));
	v = jstr("Forehead offset");
	assert_false(cond_test_value(&c, &v));
	assert_true(cond_test_str(&c, strv_from("EMEA Head Of Sales")));
	c.negate = true;
	assert_false(cond_test_str(&c, strv_from("EMEA Head Of Sales")));
	assert_true(cond_test_str(&c, strv_from("MVP")));
}

static void test_numeric_ops(void **state)
{
	struct cond lt = fx_cond_num(FIELD_TRAIT, "n", COND_LT, 10);
	struct cond le = fx_cond_num(FIELD_TRAIT, "n", COND_LE, 10);
	struct cond gt = fx_cond_num(FIELD_TRAIT, "n", COND_GT, 10);
	struct cond ge = fx_cond_num(FIELD_TRAIT, "n", COND_GE, 10);
	struct jval v9 = jnum("9"), v10 = jstr("10"), v11 = jnum("11");
	struct jval bad = jstr("ten"), b = {.kind = JVAL_BOOL, .num = 1};
	(void)state;

	assert_true(cond_test_value(&lt, &v9));
	assert_false(cond_test_value(&lt, &v10));
	assert_true(cond_test_value(&le, &v10));
	assert_false(cond_test_value(&le, &v11));
	assert_true(cond_test_value(&gt, &v11));
	assert_false(cond_test_value(&gt, &v10));
	assert_true(cond_test_value(&ge, &v10));
	assert_false(cond_test_value(&ge, &v9));
	assert_false(cond_test_value(&ge, &bad));
	assert_false(cond_test_value(&lt, &b)); /* booleans are not numbers */
	assert_false(cond_test_value(&lt, NULL));
}

static void test_exists(void **state)
{
	struct cond c = {
		.src = FIELD_PROPERTY, .name = "plan", .op = COND_EXISTS};
	struct jval null = {.kind = JVAL_NULL}, s = jstr(""), n = jnum("0");
	(void)state;

	assert_true(cond_test_value(&c, &s));
	assert_true(cond_test_value(&c, &n));
	assert_false(cond_test_value(&c, &null));
	assert_false(cond_test_value(&c, NULL));
}

static void test_negate(void **state)
{
	char *s[] = {"gmail.com"};
	struct cond c = fx_cond(FIELD_EMAIL_DOMAIN, NULL, COND_IN, s, 1);
	struct cond ex = {.src = FIELD_PROPERTY,
			  .name = "x",
			  .op = COND_EXISTS,
			  .negate = true};
	struct event *ev = fx_event(EVENT_IDENTIFY, "k", T0);
	(void)state;

	c.negate = true;
	ev->email = strv_from("Someone@GMAIL.com");
	assert_false(eval_ev(c, ev));
	ev->email = strv_from("someone@acme.com");
	assert_true(eval_ev(c, ev));
	ev->email = STRV_NULL;
	assert_true(eval_ev(c, ev)); /* absent: the test fails, not flips */
	assert_true(eval_ev(ex, ev));
}

static void test_email_domain_lowercased(void **state)
{
	char *s[] = {"acme"};
	struct cond c = fx_cond(FIELD_EMAIL_DOMAIN, NULL, COND_PREFIX, s, 1);
	struct event *ev = fx_event(EVENT_IDENTIFY, "k", T0);
	char buf[64];
	struct strv d;
	(void)state;

	ev->email = strv_from("Jo@ACME.Com");
	assert_true(eval_ev(c, ev)); /* prefix is case-sensitive: lower */
	assert_true(cond_email_domain(ev->email, buf, sizeof(buf), &d));
	assert_int_equal(d.len, 8);
	assert_memory_equal(d.p, "acme.com", 8);
	assert_false(cond_email_domain(strv_from("nobody"), buf, 64, &d));
	assert_false(cond_email_domain(strv_from("x@"), buf, 64, &d));
}

/* The white space a form left around the address is not in the domain, so
 * email_domain conditions (and disqualifiers, accounts) see "gmail.com". */
static void test_email_domain_trimmed(void **state)
{
	char *s[] = {"gmail.com"};
	struct cond c = fx_cond(FIELD_EMAIL_DOMAIN, NULL, COND_EQ, s, 1);
	struct event *ev = fx_event(EVENT_IDENTIFY, "k", T0);
	char buf[64];
	struct strv d;
	(void)state;

	ev->email = strv_from("\t Bob@GMAIL.com \r\n\v\f");
	assert_true(eval_ev(c, ev));
	assert_true(cond_email_domain(ev->email, buf, sizeof(buf), &d));
	assert_int_equal(d.len, 9);
	assert_memory_equal(d.p, "gmail.com", 9);
	assert_false(cond_email_domain(strv_from("x@ \t"), buf, 64, &d));
	assert_false(cond_email_domain(strv_from(" \t "), buf, 64, &d));
	/* white space inside is left alone: no address has it */
	assert_true(cond_email_domain(strv_from("x@a b.com "), buf, 64, &d));
	assert_int_equal(d.len, 7);
	assert_memory_equal(d.p, "a b.com", 7);
}

/* "dan@GMAIL.COM." is the absolute form of gmail.com: one trailing dot is
 * dropped, so email_domain conditions (and disqualifiers, accounts) see
 * "gmail.com"; a second dot is kept, and a domain of a dot alone is
 * none. */
static void test_email_domain_trailing_dot(void **state)
{
	char *s[] = {"gmail.com"};
	struct cond c = fx_cond(FIELD_EMAIL_DOMAIN, NULL, COND_EQ, s, 1);
	struct event *ev = fx_event(EVENT_IDENTIFY, "k", T0);
	char buf[64];
	struct strv d;
	(void)state;

	ev->email = strv_from("dan@GMAIL.COM.");
	assert_true(eval_ev(c, ev));
	assert_true(cond_email_domain(ev->email, buf, sizeof(buf), &d));
	assert_int_equal(d.len, 9);
	assert_memory_equal(d.p, "gmail.com", 9);
	assert_true(cond_email_domain(strv_from(" dan@gmail.com. \n"), buf, 64,
				      &d));
	assert_int_equal(d.len, 9);
	assert_true(
		cond_email_domain(strv_from("dan@gmail.com.."), buf, 64, &d));
	assert_int_equal(d.len, 10);
	assert_memory_equal(d.p, "gmail.com.", 10);
	assert_false(cond_email_domain(strv_from("dan@."), buf, 64, &d));
}

static void test_property_url_and_all(void **state)
{
	char *u[] = {"utm_source=ads"}, *plan[] = {"pro"};
	struct cond cs[2];
	struct event *ev = fx_event(EVENT_PAGE, "k", T0);
	(void)state;

	cs[0] = fx_cond(FIELD_URL, NULL, COND_CONTAINS, u, 1);
	cs[1] = fx_cond(FIELD_PROPERTY, "plan", COND_EQ, plan, 1);
	ev->url = strv_from("https://x.io/?UTM_SOURCE=ads");
	fx_prop_str(ev, "plan", "Pro");
	assert_true(cond_eval_all(cs, 2, cond_event_lookup_cb, ev));
	ev->props[0].val.str = strv_from("free");
	assert_false(cond_eval_all(cs, 2, cond_event_lookup_cb, ev));
	assert_true(cond_eval_all(cs, 0, cond_event_lookup_cb, ev));
}

static void test_number_as_string_ops(void **state)
{
	char *s[] = {"42"};
	struct cond c = fx_cond(FIELD_PROPERTY, "n", COND_EQ, s, 1);
	struct jval v = jnum("42"), b = {.kind = JVAL_BOOL, .num = 1};
	char *t[] = {"TRUE"};
	struct cond cb = fx_cond(FIELD_PROPERTY, "b", COND_EQ, t, 1);
	(void)state;

	assert_true(cond_test_value(&c, &v));
	assert_true(cond_test_value(&cb, &b));
}

/* cond_test_str is cond_test_value on a string jval (NULL when absent),
 * for every operator, negated or not, on the cases the fast paths split:
 * empty strings on either side, case, first byte equal but not the rest,
 * numbers spelt as strings. */
/* CONTAINS folds the value once for all its needles: each needle on its
 * own must still be cond_contains_nocase, which folds byte by byte. */
static void contains_check(char **needles, size_t n, const char *val)
{
	for (size_t i = 0; i < n; i++) {
		struct cond c = fx_cond(FIELD_EVENT_NAME, NULL, COND_CONTAINS,
					&needles[i], 1);
		assert_int_equal(cond_test_str(&c, strv_from(val)),
				 cond_contains_nocase(strv_from(val),
						      strv_from(needles[i])));
	}
}

static void str_check(const struct cond *c, const char *val)
{
	if (val && c->op == COND_CONTAINS)
		contains_check(c->strs, c->nstrs, val);
	struct jval v;

	if (!val) {
		assert_int_equal(cond_test_str(c, STRV_NULL),
				 cond_test_value(c, NULL));
		return;
	}
	v = jstr(val);
	assert_int_equal(cond_test_str(c, v.str), cond_test_value(c, &v));
}

/* cond_test_str is cond_test_value on a string jval (NULL when absent),
 * for every operator, negated or not, on the cases the fast paths split:
 * empty strings on either side, case, first byte equal but not the rest,
 * numbers spelt as strings. */
static void test_str_agrees_with_value(void **state)
{
	char *strs[] = {"Demo", "demo requested", "", "/pri", "VP", "42"};
	const char *vals[] = {"demo",
			      "DEMO REQUESTED",
			      "Demo Requested",
			      "",
			      "/pricing",
			      "/Pricing",
			      "d",
			      "Senior VP Sales",
			      "42",
			      "42.0",
			      "1e3",
			      " 42",
			      "0x2a",
			      "\xc3\xa9t\xc3\xa9",
			      NULL};
	const size_t nstrs[] = {0, 1, 2, 3, 6};
	struct cond eq = fx_cond(FIELD_EVENT_NAME, NULL, COND_EQ, strs, 1);
	struct jval nul = {.kind = JVAL_STRING, .str = {"Demo\0x", 6}};
	char *needles[] = {"Vice President", "vp", "Chief"};
	struct cond has =
		fx_cond(FIELD_EVENT_NAME, NULL, COND_CONTAINS, needles, 3);
	static char long_title[400];
	(void)state;

	/* titles longer than the folding buffer take the slow path */
	memset(long_title, 'x', sizeof(long_title) - 1);
	str_check(&has, long_title);
	memcpy(long_title + 380, "VP", 2);
	str_check(&has, long_title);
	assert_true(cond_test_str(&has, strv_from(long_title)));
	str_check(&has, long_title + 300);
	assert_true(cond_test_str(&has, strv_from(long_title + 300)));
	/* a NUL inside the value ends no configured string early */
	assert_false(cond_test_str(&eq, nul.str));
	assert_false(cond_test_value(&eq, &nul));

	for (int op = COND_EQ; op <= COND_EXISTS; op++) {
		for (size_t k = 0; k < sizeof(nstrs) / sizeof(nstrs[0]); k++) {
			struct cond c =
				fx_cond(FIELD_EVENT_NAME, NULL,
					(enum cond_op)op, strs, nstrs[k]);
			c.num = 42;
			for (int flags = 0; flags < 4; flags++) {
				c.is_num = flags & 1;
				c.negate = flags & 2;
				for (size_t i = 0;
				     i < sizeof(vals) / sizeof(vals[0]); i++)
					str_check(&c, vals[i]);
			}
		}
	}
}

/* ---- string operators against byte-by-byte references ---- */

static unsigned char ref_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool ref_eq_nocase(const char *s, size_t n, const char *w)
{
	if (strlen(w) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ref_lower((unsigned char)s[i]) !=
		    ref_lower((unsigned char)w[i]))
			return false;
	return true;
}

static bool ref_prefix(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	return k <= n && memcmp(s, w, k) == 0;
}

static bool ref_contains(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	for (size_t i = 0; i + k <= n; i++)
		if (ref_eq_nocase(s + i, k, w) || (k == 0))
			return true;
	return k == 0;
}

/* w (not empty) at a word boundary of s: a byte before and after it, if
 * any, is neither an ASCII letter or digit nor a non-ASCII byte. */
static bool ref_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

static bool ref_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	for (size_t i = 0; k > 0 && i + k <= n; i++)
		if (ref_eq_nocase(s + i, k, w) &&
		    (i == 0 || !ref_is_word((unsigned char)s[i - 1])) &&
		    (i + k == n || !ref_is_word((unsigned char)s[i + k])))
			return true;
	return false;
}

/* Bytes around the folding edges ('@' 'A' 'Z' '[' '`' 'a' 'z' '{'), the
 * same with bit 7 set, and a NUL. */
static char rnd_byte(uint64_t *st)
{
	static const unsigned char pool[] = {'@',  'A',  'B',  'Z',  '[',  '`',
					     'a',  'b',  'z',  '{',  ' ',  0,
					     0xc0, 0xc1, 0xda, 0xdb, 0xe0, 0xe1,
					     0xfa, 0xfb, 0x80, 0xff};

	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (char)pool[(*st >> 33) % sizeof(pool)];
}

static size_t rnd_len(uint64_t *st, size_t max)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)(*st >> 33) % (max + 1);
}

/* EQ, PREFIX, CONTAINS and the whole-word match agree with the references on
 * random strings over bytes chosen to trip case folding, at lengths that cross
 * the eight-byte words and the scratch limits; EQ, IN and PREFIX also with
 * the lengths the config loader measures (struct cond's lens). */
static void test_string_ops_random(void **state)
{
	uint64_t st = 1;
	char hay[320], ws[3][80];
	char *strs[3] = {ws[0], ws[1], ws[2]};
	size_t lens[3];
	struct jval jv;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = rnd_len(&st, round % 10 ? 40 : 300), nw;
		bool want_eq = false, want_pre = false, want_con = false,
		     want_word = false;
		struct cond c;

		for (size_t i = 0; i < n; i++)
			hay[i] = rnd_byte(&st);
		nw = 1 + rnd_len(&st, 2);
		for (size_t j = 0; j < nw; j++) {
			size_t k = rnd_len(&st, round % 7 ? 12 : 70);
			/* often a piece of the value, case-flipped */
			size_t at = n ? rnd_len(&st, n - 1) : 0;
			for (size_t i = 0; i < k; i++) {
				char b = rnd_byte(&st);
				if (round % 3 && at + i < n && hay[at + i])
					b = (char)(hay[at + i] ^
						   (rnd_len(&st, 1) ? 0x20
								    : 0));
				ws[j][i] = b ? b : 'q';
			}
			ws[j][k] = '\0';
			want_eq |= ref_eq_nocase(hay, n, ws[j]);
			want_pre |= ref_prefix(hay, n, ws[j]);
			want_con |= ref_contains(hay, n, ws[j]);
			want_word |= ref_word(hay, n, ws[j]);
		}
		c = fx_cond(FIELD_EVENT_NAME, NULL, COND_IN, strs, nw);
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_eq);
		c.op = COND_PREFIX;
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_pre);
		/* with the loader's lengths, EQ, IN and PREFIX compare words */
		for (size_t j = 0; j < nw; j++)
			lens[j] = strlen(ws[j]);
		c.lens = lens;
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_pre);
		jv = (struct jval){.kind = JVAL_STRING, .str = {hay, n}};
		assert_int_equal(cond_test_value(&c, &jv), want_pre);
		c.op = COND_IN;
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_eq);
		assert_int_equal(cond_test_value(&c, &jv), want_eq);
		c.op = COND_EQ;
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_eq);
		c.lens = NULL;
		c.op = COND_CONTAINS;
		assert_int_equal(cond_test_str(&c, (struct strv){hay, n}),
				 want_con);
		assert_int_equal(
			cond_any_contains((struct strv){hay, n}, strs, nw),
			want_con);
		assert_false(cond_any_contains((struct strv){hay, n}, strs, 0));
		assert_int_equal(cond_any_word((struct strv){hay, n}, strs, nw),
				 want_word);
		assert_int_equal(cond_contains_nocase((struct strv){hay, n},
						      strv_from(ws[0])),
				 ref_contains(hay, n, ws[0]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eq_string_nocase),
		cmocka_unit_test(test_eq_number),
		cmocka_unit_test(test_in),
		cmocka_unit_test(test_prefix_case_sensitive),
		cmocka_unit_test(test_contains_nocase),
		cmocka_unit_test(test_word_nocase),
		cmocka_unit_test(test_numeric_ops),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_negate),
		cmocka_unit_test(test_email_domain_lowercased),
		cmocka_unit_test(test_email_domain_trimmed),
		cmocka_unit_test(test_email_domain_trailing_dot),
		cmocka_unit_test(test_property_url_and_all),
		cmocka_unit_test(test_number_as_string_ops),
		cmocka_unit_test(test_str_agrees_with_value),
		cmocka_unit_test(test_string_ops_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
