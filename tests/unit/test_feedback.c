/*
 * test_feedback.c - unit tests for the sales feedback parser
 * (daemon/feedback.c): plain values stay slices of the record, every
 * outcome and reject reason, and escaped values decoded into the struct's
 * scratch area the way JSON writers send them (Python's json.dumps writes
 * "jos\u00e9"), a NUL in a lead key kept by length, surrogate pairs, lone
 * surrogates and invalid escapes refused, and the scratch limit.
 *
 * feedback.c and metrics.c are daemon sources, not in libleadrouter.a;
 * both are pure, so they are compiled into this test directly (metrics.c
 * to check that every reason code has its own DLQ series).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "../../daemon/feedback.c"
#include "../../daemon/metrics.c"

static struct feedback fb; /* large: keep it off the test stack */
static const char *code;
static char msg[160];

static int parse_n(const char *s, size_t n)
{
	code = NULL;
	msg[0] = '\0';
	return feedback_parse(s, n, &fb, &code, msg, sizeof(msg));
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void assert_parsed(const char *s)
{
	if (parse(s) != 0)
		fail_msg("refused (%s: %s): %s", code, msg, s);
}

static void assert_rejected_n(const char *s, size_t n, const char *want)
{
	if (parse_n(s, n) == 0)
		fail_msg("accepted: %.*s", (int)n, s);
	assert_non_null(code);
	if (strcmp(code, want) != 0)
		fail_msg("code %s (%s), wanted %s, for: %.*s", code, msg, want,
			 (int)n, s);
	assert_true(strlen(msg) > 0);
	/* stage.c counts DLQ records by this code */
	if (metrics_dlq_reason(code) == METRICS_DLQ_OTHER)
		fail_msg("code %s has no DLQ series", code);
}

static void assert_rejected(const char *s, const char *want)
{
	assert_rejected_n(s, strlen(s), want);
}

static void assert_bytes(struct strv v, const char *want, size_t n)
{
	if (v.len != n || (n > 0 && memcmp(v.p, want, n) != 0))
		fail_msg("got '%.*s' (%zu bytes), wanted '%.*s' (%zu bytes)",
			 (int)v.len, v.p ? v.p : "", v.len, (int)n, want, n);
}

static void assert_strv(struct strv v, const char *want)
{
	assert_bytes(v, want, strlen(want));
}

static bool points_into(struct strv v, const char *buf, size_t n)
{
	return v.p >= buf && v.p + v.len <= buf + n;
}

static bool in_scratch(struct strv v)
{
	return points_into(v, fb.scratch, fb.scratch_used);
}

static void test_plain_fields_are_slices(void **state)
{
	static const char rec[] =
		"{\"type\": \"accepted\", \"lead\": \"u-1234\", "
		"\"rep\": \"anna.schmidt\", \"team\": \"emea\", "
		"\"handoff_id\": \"0123456789abcdef-2\", "
		"\"timestamp\": \"2026-03-02T10:00:00Z\"}";

	(void)state;
	assert_parsed(rec);
	assert_string_equal(fb.outcome, "accepted");
	assert_strv(fb.lead, "u-1234");
	assert_strv(fb.rep, "anna.schmidt");
	assert_strv(fb.team, "emea");
	assert_strv(fb.handoff_id, "0123456789abcdef-2");
	assert_int_equal(fb.ts_ms, 1772445600000LL);
	/* the common path copies nothing */
	assert_true(points_into(fb.lead, rec, sizeof(rec)));
	assert_true(points_into(fb.rep, rec, sizeof(rec)));
	assert_true(points_into(fb.team, rec, sizeof(rec)));
	assert_true(points_into(fb.handoff_id, rec, sizeof(rec)));
	assert_int_equal(fb.scratch_used, 0);

	/* optional fields absent */
	assert_parsed("{\"type\":\"recycled\",\"lead\":\"u-1\"}");
	assert_true(strv_empty(fb.rep));
	assert_true(strv_empty(fb.team));
	assert_true(strv_empty(fb.handoff_id));
	assert_int_equal(fb.ts_ms, 0);
}

static void test_outcomes(void **state)
{
	static const char *const types[] = {"accepted", "rejected", "converted",
					    "recycled"};
	char rec[128];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		snprintf(rec, sizeof(rec), "{\"lead\":\"u-1\",\"type\":\"%s\"}",
			 types[i]);
		assert_parsed(rec);
		/* the static string, not a slice of the record */
		assert_ptr_equal(fb.outcome, feedback_outcomes[i]);
	}
}

static void test_type_and_identity(void **state)
{
	(void)state;
	assert_rejected("{\"lead\":\"u-1\"}", "missing_type");
	assert_rejected("{\"type\":\"\",\"lead\":\"u-1\"}", "missing_type");
	assert_rejected("{\"type\":\"closed\",\"lead\":\"u-1\"}",
			"unknown_type");
	assert_rejected("{\"type\":\"Accepted\",\"lead\":\"u-1\"}",
			"unknown_type");
	assert_rejected("{\"type\":\"accepted\"}", "no_identity");
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"\"}", "no_identity");

	/* userId when there is no lead; lead wins in either order */
	assert_parsed("{\"type\":\"accepted\",\"userId\":\"u-9\"}");
	assert_strv(fb.lead, "u-9");
	assert_parsed("{\"type\":\"accepted\",\"userId\":\"u-9\",\"lead\":"
		      "\"u-1\"}");
	assert_strv(fb.lead, "u-1");
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"u-1\",\"userId\":"
		      "\"u-9\"}");
	assert_strv(fb.lead, "u-1");

	assert_rejected("[\"accepted\"]", "not_object");
	assert_rejected("{\"type\":\"accepted\",", "not_json");
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"u-1\","
			"\"handoff_id\":\"h-1\"}",
			"bad_handoff_id");
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"u-1\","
			"\"timestamp\":\"yesterday\"}",
			"bad_timestamp");
}

static void test_non_string_field(void **state)
{
	static const char *const recs[] = {
		"{\"type\":\"accepted\",\"lead\":42}",
		"{\"type\":null,\"lead\":\"u-1\"}",
		"{\"type\":\"accepted\",\"lead\":\"u-1\",\"rep\":{\"id\":1}}",
		"{\"type\":\"accepted\",\"lead\":\"u-1\",\"team\":[\"emea\"]}",
		"{\"type\":\"accepted\",\"lead\":\"u-1\",\"timestamp\":5}",
		"{\"type\":\"accepted\",\"lead\":\"u-1\",\"handoff_id\":true}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		assert_rejected(recs[i], "field_type");
	assert_non_null(strstr(msg, "handoff_id"));
}

static void test_escaped_non_ascii_lead(void **state)
{
	(void)state;
	/* json.dumps({"type": "accepted", "lead": "josé@example.com"}) */
	assert_parsed("{\"type\": \"accepted\", "
		      "\"lead\": \"jos\\u00e9@example.com\"}");
	assert_strv(fb.lead, "jos\xc3\xa9@example.com");
	assert_true(in_scratch(fb.lead));
	/* upper-case hex digits, three-byte sequences */
	assert_parsed(
		"{\"type\":\"accepted\",\"lead\":\"jos\\u00E9 \\u20ac\"}");
	assert_strv(fb.lead, "jos\xc3\xa9 \xe2\x82\xac");
	/* the same key sent raw is the same bytes, as a slice */
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"jos\xc3\xa9 "
		      "\xe2\x82\xac\"}");
	assert_strv(fb.lead, "jos\xc3\xa9 \xe2\x82\xac");
	assert_int_equal(fb.scratch_used, 0);
}

static void test_escaped_quote_backslash_solidus(void **state)
{
	(void)state;
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"a\\\"b\\\\c\"}");
	assert_strv(fb.lead, "a\"b\\c");
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"acct\\/42\"}");
	assert_strv(fb.lead, "acct/42");
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"\\b\\f\\n\\r\\t\"}");
	assert_strv(fb.lead, "\b\f\n\r\t");
	/* rep and team are decoded too */
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"u-1\","
		      "\"rep\":\"ren\\u00e9e\",\"team\":\"em\\u0065a\"}");
	assert_strv(fb.rep, "ren\xc3\xa9"
			    "e");
	assert_strv(fb.team, "emea");
	assert_true(in_scratch(fb.rep));
	assert_true(in_scratch(fb.team));
}

static void test_escaped_nul_in_lead(void **state)
{
	(void)state;
	assert_parsed("{\"type\":\"converted\",\"lead\":\"ab\\u0000cd\"}");
	assert_bytes(fb.lead, "ab\0cd", 5);
	assert_parsed("{\"type\":\"converted\",\"userId\":\"\\u0000\"}");
	assert_bytes(fb.lead, "\0", 1);
	/* rep and team are C strings downstream: a NUL is refused */
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"u-1\","
			"\"team\":\"emea\\u0000x\"}",
			"field_type");
	assert_non_null(strstr(msg, "team"));
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"u-1\","
			"\"rep\":\"anna\\u0000\"}",
			"field_type");
}

static void test_surrogate_pair(void **state)
{
	(void)state;
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"a\\ud83d\\ude00b\"}");
	assert_strv(fb.lead, "a\xf0\x9f\x98\x80"
			     "b");
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"\\uDBFF\\uDFFF\"}");
	assert_strv(fb.lead, "\xf4\x8f\xbf\xbf");
}

static void test_lone_surrogate(void **state)
{
	static const char *const leads[] = {
		"secret\\ud800",        /* high, at the end */
		"secret\\udc00x",       /* low, alone */
		"secret\\ud83d\\u0041", /* high, then no low */
		"secret\\ud83dx",       /* high, then a plain byte */
		"secret\\ude00\\ud83d", /* the pair reversed */
	};
	char rec[128];

	(void)state;
	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		snprintf(rec, sizeof(rec),
			 "{\"type\":\"accepted\",\"lead\":\"%s\"}", leads[i]);
		assert_rejected(rec, "invalid_utf8");
		assert_non_null(strstr(msg, "lead"));
		assert_null(strstr(msg, "secret"));
	}
	assert_rejected("{\"type\":\"accepted\",\"lead\":\"u-1\","
			"\"rep\":\"\\udfff\"}",
			"invalid_utf8");
	assert_non_null(strstr(msg, "rep"));
}

static void test_invalid_escape(void **state)
{
	static const char *const leads[] = {
		"a\\x41", "a\\'", "a\\u12G4", "a\\u12", "a\\U00e9", "a\\ ",
	};
	char rec[128];

	(void)state;
	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		snprintf(rec, sizeof(rec),
			 "{\"type\":\"accepted\",\"lead\":\"%s\"}", leads[i]);
		assert_rejected(rec, "not_json");
	}
	/* a raw NUL inside a \u escape ends jsmn's string: not_json */
	static const char nul[] = "{\"type\":\"accepted\",\"lead\":\"\\u0\0\"}";
	assert_rejected_n(nul, sizeof(nul) - 1, "not_json");
}

/* The decoder itself, on what jsmn would have refused first. */
static void test_decoder_strict(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		enum unescape_result want;
	} cases[] = {
		{"a\\", 2, UNESCAPE_BAD_ESCAPE},
		{"\\x", 2, UNESCAPE_BAD_ESCAPE},
		{"\\u00", 4, UNESCAPE_BAD_ESCAPE},
		{"\\u0\0"
		 "00",
		 6, UNESCAPE_BAD_ESCAPE},
		{"\\u00g0", 6, UNESCAPE_BAD_ESCAPE},
		{"\\ud800\\u00", 10, UNESCAPE_LONE_SURROGATE},
		{"\\ud800", 6, UNESCAPE_LONE_SURROGATE},
		{"\\u00e9", 6, UNESCAPE_OK},
	};
	char out[16];
	size_t len = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (unescape_json(cases[i].in, cases[i].n, out, sizeof(out),
				  &len) != cases[i].want)
			fail_msg("case %zu", i);
	assert_int_equal(len, 2);
	/* exactly as long as the room, and one byte over */
	assert_int_equal(unescape_json("ab\\u00e9", 8, out, 4, &len),
			 UNESCAPE_OK);
	assert_int_equal(len, 4);
	assert_int_equal(unescape_json("ab\\u00e9", 8, out, 3, &len),
			 UNESCAPE_TOO_LONG);
	assert_int_equal(unescape_json("abc\\n", 5, out, 3, &len),
			 UNESCAPE_TOO_LONG);
}

/* {"type":"accepted","lead":"\u0061aaa..."}: decoded, n bytes of 'a'. */
static char *escaped_lead_record(size_t n, const char *more)
{
	size_t cap = n + 128 + strlen(more);
	char *rec = malloc(cap);
	size_t at;

	assert_non_null(rec);
	at = (size_t)snprintf(rec, cap, "{\"type\":\"accepted\",\"lead\":\"");
	at += (size_t)snprintf(rec + at, cap - at, "\\u0061");
	memset(rec + at, 'a', n - 1);
	at += n - 1;
	snprintf(rec + at, cap - at, "\"%s}", more);
	return rec;
}

static void test_field_too_long(void **state)
{
	char *rec;

	(void)state;
	rec = escaped_lead_record(FEEDBACK_SCRATCH_BYTES, "");
	assert_parsed(rec);
	assert_int_equal(fb.lead.len, FEEDBACK_SCRATCH_BYTES);
	assert_true(in_scratch(fb.lead));
	free(rec);

	rec = escaped_lead_record(FEEDBACK_SCRATCH_BYTES + 1, "");
	assert_rejected(rec, "field_too_long");
	assert_non_null(strstr(msg, "lead"));
	free(rec);

	/* the escaped fields of one record share the room */
	rec = escaped_lead_record(FEEDBACK_SCRATCH_BYTES - 2,
				  ",\"rep\":\"r\\u00e9\"");
	assert_rejected(rec, "field_too_long");
	assert_non_null(strstr(msg, "rep"));
	free(rec);

	/* a plain lead is a slice: no such limit */
	rec = escaped_lead_record(2 * FEEDBACK_SCRATCH_BYTES, "");
	memcpy(strstr(rec, "\\u0061"), "aaaaaa", 6);
	assert_parsed(rec);
	assert_int_equal(fb.lead.len, 2 * FEEDBACK_SCRATCH_BYTES + 5);
	free(rec);

	/* the next record starts with all of the room again */
	rec = escaped_lead_record(FEEDBACK_SCRATCH_BYTES, "");
	assert_parsed(rec);
	assert_parsed(rec);
	assert_int_equal(fb.scratch_used, FEEDBACK_SCRATCH_BYTES);
	free(rec);
}

static void test_escaped_type_and_others(void **state)
{
	(void)state;
	assert_parsed("{\"type\":\"acc\\u0065pted\",\"lead\":\"u-1\"}");
	assert_ptr_equal(fb.outcome, feedback_outcomes[0]);
	assert_parsed("{\"type\":\"\\u0072ecycled\",\"lead\":\"u-1\","
		      "\"handoff_id\":\"0123456789abcde\\u0066-1\","
		      "\"timestamp\":\"2026-03-02T10:00:00\\u005a\"}");
	assert_string_equal(fb.outcome, "recycled");
	assert_strv(fb.handoff_id, "0123456789abcdef-1");
	assert_int_equal(fb.ts_ms, 1772445600000LL);
	assert_rejected("{\"type\":\"acc\\u0000pted\",\"lead\":\"u-1\"}",
			"unknown_type");
}

static void test_unknown_fields_ignored(void **state)
{
	(void)state;
	/* any type, escapes, even a lone surrogate: never decoded */
	assert_parsed("{\"note\":\"\\ud800\",\"type\":\"accepted\","
		      "\"extra\":{\"a\":[1,{\"lead\":\"x\"}],\"type\":5},"
		      "\"score\":12.5,\"ok\":true,\"none\":null,"
		      "\"lead\":\"u-1\",\"tags\":[\"\\u00e9\"]}");
	assert_strv(fb.lead, "u-1");
	assert_int_equal(fb.scratch_used, 0);
	/* userId after lead is not read at all */
	assert_parsed("{\"type\":\"accepted\",\"lead\":\"u-1\","
		      "\"userId\":\"\\udc00\"}");
	/* field names are matched as written: an escaped one is unknown */
	assert_rejected("{\"type\":\"accepted\",\"le\\u0061d\":\"u-1\"}",
			"no_identity");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_fields_are_slices),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_type_and_identity),
		cmocka_unit_test(test_non_string_field),
		cmocka_unit_test(test_escaped_non_ascii_lead),
		cmocka_unit_test(test_escaped_quote_backslash_solidus),
		cmocka_unit_test(test_escaped_nul_in_lead),
		cmocka_unit_test(test_surrogate_pair),
		cmocka_unit_test(test_lone_surrogate),
		cmocka_unit_test(test_invalid_escape),
		cmocka_unit_test(test_decoder_strict),
		cmocka_unit_test(test_field_too_long),
		cmocka_unit_test(test_escaped_type_and_others),
		cmocka_unit_test(test_unknown_fields_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
