/*
 * test_jtext.c - unit tests for engine/jtext.c, against jansson itself:
 * the writer must give json_dumps's bytes (JSON_COMPACT,
 * JSON_REAL_PRECISION(15)) for every string (each escape class, multi-byte
 * UTF-8, and the invalid forms jansson refuses), real and integer; the
 * reader must accept what json_dumps writes, and whatever it accepts must
 * load in jansson and dump back to the very same bytes.
 *
 * Inputs are generated from a fixed seed, so a failure repeats.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"

#include "../../engine/jtext.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) % n);
}

/* The writer's bytes for one value equal jansson's dump of it, or the
 * writer refuses what jansson cannot make or dump. */
static void check_same(json_t *j, const struct jtext *b)
{
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY | DUMP_FLAGS) : NULL;

	if (!d) {
		assert_true(b->bad);
	} else {
		assert_false(b->bad);
		assert_int_equal(b->len, strlen(d));
		assert_memory_equal(b->p, d, b->len);
	}
	free(d);
	json_decref(j);
}

static void check_string(const char *s, size_t n)
{
	struct jtext b = {0};

	jtext_string_put(&b, s, n);
	check_same(json_stringn(s, n), &b);
	jtext_reset(&b);
}

static void check_real(double x)
{
	struct jtext b = {0};

	jtext_real_put(&b, x);
	check_same(json_real(x), &b);
	jtext_reset(&b);
}

static void check_int(int64_t v)
{
	struct jtext b = {0};

	jtext_int_put(&b, v);
	check_same(json_integer(v), &b);
	jtext_reset(&b);
}

static void test_string_every_byte(void **state)
{
	char s[3];

	(void)state;
	for (int c = 0; c < 256; c++) {
		s[0] = (char)c;
		check_string(s, 1);
		s[0] = 'a', s[1] = (char)c, s[2] = 'z';
		check_string(s, 3);
	}
	check_string("", 0);
}

static void test_string_utf8_forms(void **state)
{
	static const char *const forms[] = {
		"\xc2\x80",
		"\xdf\xbf",
		"\xe0\xa0\x80",
		"\xef\xbf\xbf",
		"\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf",
		"\xe2\x80\xa8",
		"\xc3\xa9t\xc3\xa9",
		"\xf0\x9f\x98\x80",
		/* refused by jansson: overlong, surrogates, past U+10FFFF,
		 * stray or missing continuation bytes */
		"\xc0\x80",
		"\xc1\xbf",
		"\xe0\x80\x80",
		"\xe0\x9f\xbf",
		"\xed\xa0\x80",
		"\xed\xbf\xbf",
		"\xf0\x80\x80\x80",
		"\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80",
		"\xff",
		"\x80",
		"\xbf",
		"\xc2",
		"\xe0\xa0",
		"\xf0\x90\x80",
		"\xc2\x41",
		"\xe2\x28\xa1",
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = strlen(forms[i]);
		check_string(forms[i], n);
		snprintf(buf, sizeof(buf), "\"%s\\", forms[i]);
		check_string(buf, n + 2);
		check_string(forms[i], n - 1); /* cut short */
	}
	check_string("a\0b", 3);
	check_string("\"\\/\b\f\n\r\t\x01\x1f\x7f", 12);
}

/* Random strings over the bytes where escaping and UTF-8 checks differ. */
static void test_string_random(void **state)
{
	static const unsigned char pool[] = {
		0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, '"',  '\\',
		'/',  'a',  ' ',  0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
		0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x90, 0x8f};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char s[16];

	(void)state;
	for (int i = 0; i < 50000; i++) {
		size_t n = rng_below(&seed, sizeof(s) + 1);
		for (size_t k = 0; k < n; k++)
			s[k] = (char)pool[rng_below(&seed, sizeof(pool))];
		check_string(s, n);
	}
}

static void test_reals(void **state)
{
	static const double fixed[] = {
		0.0,
		-0.0,
		1.0,
		-1.0,
		73.45,
		-19.78,
		0.1,
		0.5,
		100.0,
		1e15,
		1e16,
		1e14,
		1e-4,
		1e-5,
		1e300,
		1e-300,
		1e308,
		1e-308,
		DBL_MAX,
		DBL_MIN,
		5e-324,
		123456789012345.0,
		1234567890123456.0,
		0.000123456789012345,
		9.99999999999999e14,
		999999999999999.0,
		0.30000000000000004,
		2.5e-5,
	};
	uint64_t seed = 42;
	union {
		uint64_t u;
		double d;
	} bits;
	char num[64];

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		check_real(fixed[i]);
		check_real(-fixed[i]);
	}
	check_real(INFINITY);
	check_real(-INFINITY);
	check_real(NAN);
	for (int e = -324; e <= 308; e++) {
		snprintf(num, sizeof(num), "1e%d", e);
		check_real(strtod(num, NULL));
		snprintf(num, sizeof(num), "9.87654321e%d", e);
		check_real(strtod(num, NULL));
	}
	/* cents, where the writer skips printf: every n / 100 near the
	 * edges of that path and at random magnitudes */
	for (int64_t n = -1000; n <= 1000; n++) {
		check_real((double)n / 100.0);
		check_real((double)(n + 999999999999000LL) / 100.0);
		check_real((double)(n - 999999999999000LL) / 100.0);
		check_real((double)(n + 1000000000000000LL) / 100.0);
		check_real((double)n / 100.0 + 1e-9);
	}
	for (int i = 0; i < 20000; i++) {
		int64_t n = (int64_t)(rng_next(&seed) >> 14) -
			    (int64_t)(rng_next(&seed) >> 14);
		check_real((double)(n >> rng_below(&seed, 50)) / 100.0);
		check_real((double)(n >> rng_below(&seed, 50)) / 1000.0);
	}
	for (int i = 0; i < 20000; i++) {
		bits.u = rng_next(&seed);
		if (isfinite(bits.d))
			check_real(bits.d);
		/* cents, as the handoff's points */
		check_real(round(((double)(int64_t)rng_next(&seed) / 1e12) *
				 100.0) /
			   100.0);
		snprintf(num, sizeof(num), "%" PRIu64 "e%d",
			 rng_next(&seed) % 100000,
			 (int)rng_below(&seed, 60) - 30);
		check_real(strtod(num, NULL));
	}
}

static void test_integers(void **state)
{
	static const int64_t fixed[] = {
		0,
		1,
		-1,
		9,
		10,
		-10,
		25000,
		1772372942138LL,
		INT64_MAX,
		INT64_MIN,
		INT64_MIN + 1,
		999999999999999999LL,
	};
	uint64_t seed = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_int(fixed[i]);
	for (int i = 0; i < 10000; i++)
		check_int((int64_t)(rng_next(&seed) >> rng_below(&seed, 64)));
}

/* ---- the reader ---- */

/* A random valid UTF-8 string, NUL-free when it is to be a key. */
static json_t *gen_string(uint64_t *s, bool key)
{
	static const char *const parts[] = {
		"a",
		"b",
		"\"",
		"\\",
		"/",
		"\n",
		"\x01",
		"\x1f",
		"\t",
		"\x7f",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9f\x98\x80",
		" ",
		"\0",
	};
	char buf[64];
	size_t n = 0, k = rng_below(s, 6);

	for (size_t i = 0; i < k; i++) {
		unsigned p = rng_below(s, key ? 14 : 15);
		size_t len = p == 14 ? 1 : strlen(parts[p]);
		memcpy(buf + n, parts[p], len);
		n += len;
	}
	return json_stringn(buf, n);
}

/* Numbers the reader is to take (see test_scan_numbers for its limits). */
static json_t *gen_number(uint64_t *s)
{
	switch (rng_below(s, 4)) {
	case 0: /* within the reader's 18 digits */
		return json_integer((json_int_t)rng_next(s) >>
				    (5 + rng_below(s, 59)));
	case 1:
		return json_real(round((double)(int32_t)rng_next(s)) / 100.0);
	case 2: {
		char num[40];
		snprintf(num, sizeof(num), "%" PRIu64 "e%d",
			 rng_next(s) % 1000000, (int)rng_below(s, 80) - 40);
		return json_real(strtod(num, NULL));
	}
	default: {
		union {
			uint64_t u;
			double d;
		} bits = {.u = rng_next(s)};
		/* within the reader's exponents */
		return json_real(fabs(bits.d) >= 1e-300 && fabs(bits.d) <= 1e300
					 ? bits.d
					 : 1.5);
	}
	}
}

static json_t *gen_value(uint64_t *s, int depth);

/* An object of n members with random keys, its values one level deeper. */
static json_t *gen_object(uint64_t *s, size_t n, int depth)
{
	json_t *o = json_object(), *k;

	for (size_t i = 0; i < n; i++) {
		k = gen_string(s, true);
		json_object_setn_new(o, json_string_value(k),
				     json_string_length(k),
				     gen_value(s, depth + 1));
		json_decref(k);
	}
	return o;
}

static json_t *gen_value(uint64_t *s, int depth)
{
	unsigned kind = rng_below(s, depth < 4 ? 8 : 6);
	json_t *v;
	size_t n;

	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rng_below(s, 2));
	case 2:
	case 3:
		return gen_string(s, false);
	case 4:
	case 5:
		return gen_number(s);
	case 6:
		v = json_array();
		n = rng_below(s, 4);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(v, gen_value(s, depth + 1));
		return v;
	default:
		return gen_object(s, rng_below(s, 6), depth);
	}
}

/* What the reader accepts is what jansson loads and dumps to itself. */
static void check_sound(const char *s, size_t len)
{
	struct jtext_member m[JTEXT_MEMBERS_MAX];
	int n = jtext_object_scan(s, len, m);
	json_t *j;
	char *d;

	if (n < 0)
		return;
	j = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), n);
	d = json_dumps(j, JSON_PRESERVE_ORDER | DUMP_FLAGS);
	assert_non_null(d);
	assert_int_equal(strlen(d), len);
	assert_memory_equal(d, s, len);
	free(d);
	json_decref(j);
}

static void test_scan_accepts_dumps(void **state)
{
	uint64_t seed = 12345;
	struct jtext_member m[JTEXT_MEMBERS_MAX];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t nk = rng_below(&seed, 10);
		json_t *o = gen_object(&seed, nk, 0), *k, *v;
		const char *key;
		char *d, *dk, *dv;
		int n, at = 0;

		d = json_dumps(o, DUMP_FLAGS);
		n = jtext_object_scan(d, strlen(d), m);
		assert_int_equal(n, json_object_size(o));
		json_object_foreach(o, key, v)
		{
			k = json_string(key);
			dk = json_dumps(k, JSON_ENCODE_ANY | DUMP_FLAGS);
			dv = json_dumps(v, JSON_ENCODE_ANY | DUMP_FLAGS);
			assert_int_equal(m[at].key.len, strlen(dk));
			assert_memory_equal(m[at].key.p, dk, strlen(dk));
			assert_int_equal(m[at].val.len, strlen(dv));
			assert_memory_equal(m[at].val.p, dv, strlen(dv));
			at++;
			free(dk);
			free(dv);
			json_decref(k);
		}
		check_sound(d, strlen(d));
		free(d);
		json_decref(o);
	}
}

/* Texts one edit away from a dump: whatever the reader takes of them,
 * jansson writes back unchanged. */
static void test_scan_sound_mutations(void **state)
{
	static const char pool[] = " \t\n\"\\/{}[]:,0123456789.eE+-tfnu"
				   "AFaf\x01\x7f\x80\xc3\xa9";
	uint64_t seed = 99;
	char buf[4096];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t nk = 1 + rng_below(&seed, 4), len, at;
		json_t *o = gen_object(&seed, nk, 0);
		char *d;

		d = json_dumps(o, DUMP_FLAGS);
		len = strlen(d);
		json_decref(o);
		if (len + 2 > sizeof(buf)) {
			free(d);
			continue;
		}
		memcpy(buf, d, len);
		free(d);
		at = rng_below(&seed, (unsigned)len);
		switch (rng_below(&seed, 3)) {
		case 0: /* replace */
			buf[at] = pool[rng_below(&seed, sizeof(pool) - 1)];
			break;
		case 1: /* insert */
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = pool[rng_below(&seed, sizeof(pool) - 1)];
			len++;
			break;
		default: /* delete */
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
		}
		check_sound(buf, len);
	}
}

/* Numbers from the JSON grammar, mostly near jansson's own spelling: the
 * reader takes one exactly when jansson writes it back unchanged, but for
 * the ranges it leaves to jansson (19-digit integers, exponents past
 * +-300). */
static void test_scan_numbers(void **state)
{
	uint64_t seed = 2024;
	char num[64], doc[80];
	struct jtext_member m[JTEXT_MEMBERS_MAX];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n = 0, id = 1 + rng_below(&seed, 20);
		int expo = 0;
		bool real = false, exp = false, roundtrip = false;
		json_t *j;
		char *d;

		if (rng_below(&seed, 3) == 0)
			num[n++] = '-';
		for (size_t k = 0; k < id; k++)
			num[n++] =
				(char)('0' +
				       (k == 0 && id > 1 && rng_below(&seed, 4)
						? 1 + rng_below(&seed, 9)
						: rng_below(&seed, 10)));
		if (rng_below(&seed, 2)) {
			size_t fd = 1 + rng_below(&seed, 17);
			real = true;
			num[n++] = '.';
			for (size_t k = 0; k < fd; k++)
				num[n++] = (char)('0' + rng_below(&seed, 10));
		}
		if (rng_below(&seed, 3) == 0) {
			exp = real = true;
			num[n++] = rng_below(&seed, 8) ? 'e' : 'E';
			if (rng_below(&seed, 2))
				num[n++] = rng_below(&seed, 4) ? '-' : '+';
			expo = (int)rng_below(&seed, 400);
			n += (size_t)snprintf(
				num + n, sizeof(num) - n,
				rng_below(&seed, 8) ? "%d" : "0%d", expo);
		}
		num[n] = '\0';
		snprintf(doc, sizeof(doc), "{\"a\":%s}", num);
		check_sound(doc, strlen(doc));
		j = json_loads(doc, 0, NULL);
		if (j) {
			d = json_dumps(j, DUMP_FLAGS);
			roundtrip = d && !strcmp(d, doc);
			free(d);
			json_decref(j);
		}
		if (roundtrip && !(!real && id + (num[0] == '-') > 18) &&
		    !(exp && expo > 300))
			assert_int_equal(jtext_object_scan(doc, strlen(doc), m),
					 1);
	}
}

static void test_scan_cases(void **state)
{
	static const char *const good[] = {
		"{}",
		"{\"a\":\"\\u001F\\u0000\\\"\\\\\\b\\f\\n\\r\\t/\xc3\xa9\"}",
		"{\"a\":-0.0,\"b\":1e-5,\"c\":1e15,\"d\":0.0001,"
		"\"e\":123456789012345.0,\"f\":-9223372036854775,"
		"\"g\":[1,[],{}],\"h\":{\"x\":{\"a\":1},\"y\":{\"a\":1}}}",
		"{\"\":null,\"a\":true,\"b\":false,\"c\":[null]}",
		"{\"a\":{\"b\":1,\"c\":2},\"b\":{\"b\":1}}",
	};
	static const char *const bad[] = {
		"",
		"[]",
		"{ }",
		"{\"a\": 1}",
		"{\"a\":1} ",
		" {\"a\":1}",
		"{\"a\":1,}",
		"{\"a\":1}x",
		"{\"a\":1,\"a\":2}",
		"{\"o\":{\"a\":1,\"a\":1}}",
		"{\"o\":[{\"a\":1,\"a\":1}]}",
		"{\"a\":\"\\/\"}",
		"{\"a\":\"\\u00e9\"}",
		"{\"a\":\"\\u001f\"}",
		"{\"a\":\"\\u000A\"}",
		"{\"a\":\"\\u0008\"}",
		"{\"a\":\"\\ud83d\\ude00\"}",
		"{\"a\\u0000b\":1}",
		"{\"a\":\"\x01\"}",
		"{\"a\":\"\xc0\x80\"}",
		"{\"a\":1E5}",
		"{\"a\":1e+5}",
		"{\"a\":1e05}",
		"{\"a\":1.50}",
		"{\"a\":-0}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":1e5}",
		"{\"a\":100000.0e0}",
		"{\"a\":0.00001}",
		"{\"a\":1.0e20}",
		"{\"a\":1234567890123456.0}",
		"{\"a\":1.234567890123456}",
		"{\"a\":1e400}",
		"{\"a\":1e-320}",
		"{\"a\":tru}",
		"{\"a\":1234567890123456789}",
		"{\"a\":\"x}",
		"{\"a\"}",
		"{\"a\":[1,]}",
		"{\"a\":[1 ]}",
		"{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}",
	};
	struct jtext_member m[JTEXT_MEMBERS_MAX];
	struct strv sv;
	char many[2048];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(jtext_object_scan(good[i], strlen(good[i]), m) >=
			    0);
		check_sound(good[i], strlen(good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jtext_object_scan(bad[i], strlen(bad[i]), m),
				 -1);
	/* one member past the cap is refused, the cap itself is not */
	n += (size_t)snprintf(many + n, sizeof(many) - n, "{");
	for (int i = 0; i < JTEXT_MEMBERS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
				      "%s\"k%d\":%d", i ? "," : "", i, i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "}");
	assert_int_equal(jtext_object_scan(many, n, m), JTEXT_MEMBERS_MAX);
	assert_int_equal(jtext_int_value(m[63].val), 63);
	snprintf(many + n - 1, sizeof(many) - n + 1, ",\"k64\":1}");
	assert_int_equal(jtext_object_scan(many, strlen(many), m), -1);

	snprintf(many, sizeof(many),
		 "{\"a\":-42,\"b\":\"x\\ny\",\"c\":\"xy\"}");
	assert_int_equal(jtext_object_scan(many, strlen(many), m), 3);
	assert_int_equal(m[0].type, JTEXT_INTEGER);
	assert_int_equal(jtext_int_value(m[0].val), -42);
	assert_false(jtext_plain_string(m[1].val, &sv));
	assert_true(jtext_plain_string(m[2].val, &sv));
	assert_int_equal(sv.len, 2);
	assert_memory_equal(sv.p, "xy", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_every_byte),
		cmocka_unit_test(test_string_utf8_forms),
		cmocka_unit_test(test_string_random),
		cmocka_unit_test(test_reals),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_scan_accepts_dumps),
		cmocka_unit_test(test_scan_sound_mutations),
		cmocka_unit_test(test_scan_numbers),
		cmocka_unit_test(test_scan_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
