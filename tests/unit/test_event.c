/*
 * test_event.c - unit tests for the Segment event parser (engine/event.c):
 * real payloads as analytics.js and analytics-node send them, every reject
 * reason, the JSON corners a lax tokenizer lets through, escapes, trait
 * flattening, identity precedence and timestamps.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"

static struct event ev; /* large: keep it off the test stack */
static struct event_error err;

static int parse(const char *s)
{
	return event_parse(s, strlen(s), &ev, &err);
}

static void assert_rejected(const char *s, enum event_reason r)
{
	if (parse(s) == 0)
		fail_msg("accepted: %s", s);
	if (err.reason != r)
		fail_msg("reason %s (%s), wanted %s, for: %s",
			 event_reason_code(err.reason), err.msg,
			 event_reason_code(r), s);
	assert_true(strlen(err.msg) > 0);
}

static void assert_strv(struct strv v, const char *want)
{
	if (!strv_eq(v, want))
		fail_msg("got '%.*s', wanted '%s'", (int)v.len, v.p ? v.p : "",
			 want);
}

static void assert_prop_str(const char *name, const char *want)
{
	const struct jval *v = event_prop_get(&ev, name);
	if (v == NULL)
		fail_msg("no property %s", name);
	assert_int_equal(v->kind, JVAL_STRING);
	assert_strv(v->str, want);
}

static void assert_trait_str(const char *name, const char *want)
{
	const struct jval *v = event_trait_get(&ev, name);
	if (v == NULL)
		fail_msg("no trait %s", name);
	assert_int_equal(v->kind, JVAL_STRING);
	assert_strv(v->str, want);
}

static int64_t ts(const char *s)
{
	int64_t ms = 0;
	if (event_timestamp_parse(s, strlen(s), &ms) != 0)
		fail_msg("timestamp rejected: %s", s);
	return ms;
}

static void assert_ts_bad(const char *s)
{
	int64_t ms;
	if (event_timestamp_parse(s, strlen(s), &ms) == 0)
		fail_msg("timestamp accepted: %s", s);
}

/* What analytics.js 2.0 sends for analytics.track(). */
static const char ajs_track[] =
	"{\"anonymousId\":\"5b1c0d9e-7a44-4f0b-9d1e-2f6a8c3b7e10\","
	"\"context\":{\"library\":{\"name\":\"analytics.js\",\"version\":"
	"\"next-1.53.0\"},\"page\":{\"path\":\"/pricing\",\"referrer\":"
	"\"https://www.google.com/\",\"search\":\"?ref=ad\",\"title\":"
	"\"Pricing\",\"url\":\"https://example.com/pricing?ref=ad\"},"
	"\"userAgent\":\"Mozilla/5.0 (X11; Linux "
	"x86_64)\",\"locale\":\"en-US\","
	"\"campaign\":{\"name\":\"spring\",\"source\":\"google\"},\"traits\":{"
	"\"email\":\"Ada.Lovelace@Example.COM\",\"plan\":\"pro\"}},"
	"\"event\":\"Demo Requested\",\"integrations\":{\"All\":true,"
	"\"Mixpanel\":false},\"messageId\":\"ajs-next-1711712345678-7c1d9a2b\","
	"\"originalTimestamp\":\"2026-03-29T01:29:59.000Z\","
	"\"properties\":{\"plan\":\"enterprise\",\"seats\":25,\"trial\":true,"
	"\"coupon\":null,\"cart\":{\"total\":1299.5,\"currency\":\"EUR\","
	"\"items\":[1,2],\"deep\":{\"x\":1}},\"tags\":[\"a\",\"b\"]},"
	"\"receivedAt\":\"2026-03-29T01:30:01.000Z\","
	"\"sentAt\":\"2026-03-29T01:30:00.456Z\","
	"\"timestamp\":\"2026-03-29T01:30:00.123Z\",\"type\":\"track\","
	"\"userId\":\"u_8f3a2c\",\"writeKey\":\"abc\",\"version\":2}";

static void test_track_analytics_js(void **state)
{
	(void)state;
	assert_int_equal(parse(ajs_track), 0);
	assert_int_equal(ev.type, EVENT_TRACK);
	assert_strv(ev.name, "Demo Requested");
	assert_strv(ev.user_id, "u_8f3a2c");
	assert_strv(ev.lead_key, "u_8f3a2c");
	assert_strv(ev.anonymous_id, "5b1c0d9e-7a44-4f0b-9d1e-2f6a8c3b7e10");
	assert_strv(ev.message_id, "ajs-next-1711712345678-7c1d9a2b");
	assert_strv(ev.email, "Ada.Lovelace@Example.COM");
	/* context.page is the fallback for path and url */
	assert_strv(ev.path, "/pricing");
	assert_strv(ev.url, "https://example.com/pricing?ref=ad");
	assert_int_equal(ev.ts_ms, ts("2026-03-29T01:30:00.123Z"));
	assert_prop_str("plan", "enterprise");
	assert_prop_str("cart.currency", "EUR");
	const struct jval *v = event_prop_get(&ev, "seats");
	assert_non_null(v);
	assert_int_equal(v->kind, JVAL_NUMBER);
	assert_true(v->num == 25);
	assert_strv(v->str, "25");
	v = event_prop_get(&ev, "cart.total");
	assert_non_null(v);
	assert_true(v->num == 1299.5);
	assert_int_equal(event_prop_get(&ev, "trial")->kind, JVAL_BOOL);
	assert_true(event_prop_get(&ev, "trial")->num == 1);
	assert_int_equal(event_prop_get(&ev, "coupon")->kind, JVAL_NULL);
	assert_int_equal(event_prop_get(&ev, "tags")->kind, JVAL_OTHER);
	assert_int_equal(event_prop_get(&ev, "cart.items")->kind, JVAL_OTHER);
	/* only one level is flattened */
	assert_null(event_prop_get(&ev, "cart.deep"));
	assert_null(event_prop_get(&ev, "cart.deep.x"));
	assert_null(event_prop_get(&ev, "cart"));
	/* traits on a track come from context.traits */
	assert_trait_str("plan", "pro");
	assert_int_equal(ev.ntraits, 2);
}

/* What analytics-node sends for analytics.identify(). */
static void test_identify_analytics_node(void **state)
{
	(void)state;
	const char *s =
		"{\"type\":\"identify\",\"anonymousId\":\"anon-1\","
		"\"traits\":{\"email\":\"Grace@Example.com\",\"name\":\"G H\","
		"\"title\":\"VP Engineering\",\"company\":{\"name\":\"Acme\","
		"\"employee_count\":420,\"industry\":\"Software\"},"
		"\"address\":{\"country\":\"DE\",\"city\":\"Berlin\"},"
		"\"createdAt\":\"2024-01-01T00:00:00Z\"},"
		"\"context\":{\"library\":{\"name\":\"@segment/"
		"analytics-node\","
		"\"version\":\"2.1.0\"}},\"_metadata\":{\"jsRuntime\":\"node\"}"
		","
		"\"integrations\":{},\"messageId\":\"node-next-1-abc\","
		"\"timestamp\":\"2026-03-29T01:30:00.000Z\","
		"\"sentAt\":\"2026-03-29T01:30:00.100Z\",\"channel\":"
		"\"server\"}";
	assert_int_equal(parse(s), 0);
	assert_int_equal(ev.type, EVENT_IDENTIFY);
	assert_strv(ev.email, "Grace@Example.com");
	/* no userId: the lower-cased e-mail beats the anonymousId */
	assert_strv(ev.lead_key, "grace@example.com");
	assert_trait_str("title", "VP Engineering");
	assert_trait_str("company.name", "Acme");
	assert_trait_str("company.industry", "Software");
	assert_trait_str("address.country", "DE");
	assert_true(event_trait_get(&ev, "company.employee_count")->num == 420);
	assert_null(event_trait_get(&ev, "company"));
	assert_strv(ev.name, ""); /* identify has no name */
}

static void test_group_traits_mapping(void **state)
{
	(void)state;
	const char *s =
		"{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acct-42\","
		"\"traits\":{\"name\":\"Initech\",\"industry\":\"Finance\","
		"\"employees\":1200,\"address\":{\"country\":\"US\"}},"
		"\"context\":{\"traits\":{\"email\":\"bob@initech.com\"}},"
		"\"timestamp\":\"2026-03-29T01:30:00Z\"}";
	assert_int_equal(parse(s), 0);
	assert_int_equal(ev.type, EVENT_GROUP);
	assert_strv(ev.group_id, "acct-42");
	assert_trait_str("company.name", "Initech");
	assert_trait_str("company.industry", "Finance");
	assert_true(event_trait_get(&ev, "company.employees")->num == 1200);
	assert_trait_str("company.address.country", "US");
	assert_null(event_trait_get(&ev, "name"));
	/* the person's e-mail still comes from context.traits */
	assert_strv(ev.email, "bob@initech.com");
	assert_int_equal(ev.ntraits, 4);
}

/* An empty key names nothing: it is skipped, and a group's "company." prefix
 * never becomes a field name of its own (found by fuzzing). */
static void test_empty_trait_key_skipped(void **state)
{
	(void)state;
	const char *s =
		"{\"type\":\"group\",\"groupId\":\"g\",\"userId\":\"u\","
		"\"timestamp\":\"2026-03-29T01:30:00Z\","
		"\"traits\":{\"\":1,\"name\":\"Acme\"},"
		"\"properties\":{\"\":2,\"plan\":\"pro\"}}";
	assert_int_equal(parse(s), 0);
	assert_int_equal(ev.ntraits, 1);
	assert_trait_str("company.name", "Acme");
	assert_int_equal(ev.nprops, 1);
	assert_null(event_trait_get(&ev, "company."));
}

static void test_page_and_screen(void **state)
{
	(void)state;
	assert_int_equal(
		parse("{\"type\":\"page\",\"name\":\"Pricing\",\"anonymousId\":"
		      "\"a1\",\"timestamp\":\"2026-01-01T00:00:00Z\","
		      "\"properties\":{\"path\":\"/pricing\",\"url\":"
		      "\"https://x.io/pricing\"},\"context\":{\"page\":{"
		      "\"path\":\"/ignored\",\"url\":\"https://x.io/ig\"},"
		      "\"groupId\":\"g7\"}}"),
		0);
	assert_int_equal(ev.type, EVENT_PAGE);
	assert_strv(ev.name, "Pricing");
	assert_strv(ev.path, "/pricing"); /* properties win over context */
	assert_strv(ev.url, "https://x.io/pricing");
	assert_strv(ev.group_id, "g7"); /* context.groupId */
	assert_strv(ev.lead_key, "a1");

	assert_int_equal(parse("{\"type\":\"screen\",\"name\":\"Home\","
			       "\"userId\":\"u\",\"timestamp\":"
			       "\"2026-01-01T00:00:00Z\"}"),
			 0);
	assert_int_equal(ev.type, EVENT_SCREEN);
	assert_strv(ev.name, "Home");
	assert_strv(ev.path, "");
}

static void test_identity_precedence(void **state)
{
	(void)state;
	const char *tail = ",\"type\":\"track\",\"event\":\"x\","
			   "\"timestamp\":\"2026-01-01T00:00:00Z\"}";
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"userId\":\"U1\",\"anonymousId\":\"A1\",\"context\":{"
		 "\"traits\":{\"email\":\"E@X.io\"}}%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "U1");

	snprintf(buf, sizeof(buf),
		 "{\"userId\":\"\",\"anonymousId\":\"A1\",\"context\":{"
		 "\"traits\":{\"email\":\"E@X.io\"}}%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "e@x.io");

	snprintf(buf, sizeof(buf), "{\"userId\":null,\"anonymousId\":\"A1\"%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "A1");
	assert_strv(ev.user_id, "");

	/* numeric identities are kept as their literal */
	snprintf(buf, sizeof(buf), "{\"userId\":12345678901234567890%s", tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "12345678901234567890");
	snprintf(buf, sizeof(buf), "{\"anonymousId\":-4.5e3%s", tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.anonymous_id, "-4.5e3");
}

static void test_identify_email_fallback(void **state)
{
	(void)state;
	/* identify without traits.email falls back to context.traits */
	assert_int_equal(
		parse("{\"type\":\"identify\",\"traits\":{\"plan\":\"x\"},"
		      "\"context\":{\"traits\":{\"email\":\"C@D.io\"}},"
		      "\"timestamp\":\"2026-01-01T00:00:00Z\"}"),
		0);
	assert_strv(ev.lead_key, "c@d.io");
	assert_null(event_trait_get(&ev, "email")); /* traits are top's */
	/* a non-string e-mail is not an identity */
	assert_rejected("{\"type\":\"identify\",\"traits\":{\"email\":5},"
			"\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_NO_IDENTITY);
}

static void test_reject_no_identity(void **state)
{
	(void)state;
	assert_rejected("{\"type\":\"track\",\"event\":\"x\",\"timestamp\":"
			"\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_NO_IDENTITY);
	assert_rejected("{\"type\":\"track\",\"userId\":\"\",\"anonymousId\":"
			"\"\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_NO_IDENTITY);
}

static void test_reject_not_json(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"{\"type\":\"track\"",
		"{\"a\":1} x",
		"{\"a\":1}{}",
		"{\"a\":1},",
		",{\"a\":1}",
		"{\"a\":1,}",
		"{,\"a\":1}",
		"{\"a\":1,,\"b\":2}",
		"{\"a\"::1}",
		"{\"a\":1 \"b\":2}",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,\"b\"}",
		"{\"a\":[1,]}",
		"{\"a\":[1,,2]}",
		"{\"a\":[[1,]2]}",
		"{\"a\":[1 2]}",
		"{\"a\":[\"k\":1]}",
		"{\"a\":\"b\":\"c\"}",
		"{\"a\":{},,\"b\":1}",
		"{\"a\":{ , }}",
		"{\"a\":'x'}",
		"{a:1}",
		"{\"a\":\"x\ny\"}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12G4\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i], EVENT_ERR_NOT_JSON);
	/* a NUL byte inside the length counts as garbage */
	assert_int_equal(event_parse("{\"a\":1}\0", 8, &ev, &err), -1);
	assert_int_equal(err.reason, EVENT_ERR_NOT_JSON);
	assert_int_equal(event_parse(NULL, 0, &ev, &err), -1);
	assert_int_equal(err.reason, EVENT_ERR_NOT_JSON);
}

/* A byte order mark is not skipped (the daemon's records, simulate past
 * its input's first bytes), but the reason names it. */
static void test_reject_bom(void **state)
{
	(void)state;
	assert_rejected("\xef\xbb\xbf{\"type\":\"track\",\"event\":\"x\","
			"\"userId\":\"u\",\"timestamp\":"
			"\"2026-03-10T10:00:00Z\"}",
			EVENT_ERR_NOT_JSON);
	assert_string_equal(err.msg,
			    "event starts with a UTF-8 byte order mark");
	assert_rejected("\xef\xbb\xbf", EVENT_ERR_NOT_JSON);
	assert_string_equal(err.msg,
			    "event starts with a UTF-8 byte order mark");
	/* after white space it is garbage like any other */
	assert_rejected(" \xef\xbb\xbf{}", EVENT_ERR_NOT_JSON);
	assert_null(strstr(err.msg, "byte order mark"));
}

static void test_reject_bad_numbers(void **state)
{
	static const char *const bad[] = {
		"01",  "-",      "1.",   ".5",  "1e",    "1e+",
		"--1", "1.2.3",  "0x10", "1-",  "tru",   "truex",
		"nul", "falsey", "+1",   "-01", "1\"\"",
	};
	char buf[128];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"properties\":{\"n\":%s}}",
			 bad[i]);
		assert_rejected(buf, EVENT_ERR_NOT_JSON);
	}
}

static void test_numbers_valid(void **state)
{
	static const struct {
		const char *lit;
		double want;
	} ok[] = {
		{"0", 0},
		{"-0", -0.0},
		{"-0.5e+3", -500},
		{"1E10", 1e10},
		{"99.99", 99.99},
		{"0.001", 0.001},
		{"12e-2", 0.12},
		{"123456789012345678901", 123456789012345678901.0},
		{"1.5E-300", 1.5e-300},
	};
	char buf[256];
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":"
			 "\"2026-01-01T00:00:00Z\",\"properties\":{\"n\":%s}}",
			 ok[i].lit);
		assert_int_equal(parse(buf), 0);
		const struct jval *v = event_prop_get(&ev, "n");
		assert_non_null(v);
		assert_int_equal(v->kind, JVAL_NUMBER);
		assert_strv(v->str, ok[i].lit);
		if (fabs(v->num - ok[i].want) > fabs(ok[i].want) * 1e-15)
			fail_msg("%s parsed as %.17g", ok[i].lit, v->num);
	}
}

static void test_reject_not_object(void **state)
{
	(void)state;
	assert_rejected("[1,2]", EVENT_ERR_NOT_OBJECT);
	assert_rejected("\"track\"", EVENT_ERR_NOT_OBJECT);
	assert_rejected("42", EVENT_ERR_NOT_OBJECT);
	assert_rejected(" null\n", EVENT_ERR_NOT_OBJECT);
	assert_rejected("[]", EVENT_ERR_NOT_OBJECT);
	/* a scalar root must still be valid JSON */
	assert_rejected("-  ", EVENT_ERR_NOT_JSON);
	assert_rejected("\tt\t", EVENT_ERR_NOT_JSON);
	assert_rejected("01 ", EVENT_ERR_NOT_JSON);
	assert_rejected("\"a\tb\"", EVENT_ERR_NOT_JSON);
}

static void test_reject_too_large(void **state)
{
	size_t n = EVENT_MAX_BYTES + 1;
	char *big = malloc(n + 1);
	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{}", 2);
	big[n] = '\0';
	assert_rejected(big, EVENT_ERR_TOO_LARGE);

	/* too many tokens, within the byte limit */
	size_t off = 0;
	off += (size_t)sprintf(big + off, "{\"p\":[");
	for (int i = 0; i < EVENT_MAX_TOKENS + 10; i++)
		off += (size_t)sprintf(big + off, "%s1", i ? "," : "");
	sprintf(big + off, "]}");
	assert_true(strlen(big) <= EVENT_MAX_BYTES);
	assert_rejected(big, EVENT_ERR_TOO_LARGE);
	assert_non_null(strstr(err.msg, "tokens"));

	/* escaped strings that overflow the scratch area */
	off = (size_t)sprintf(big, "{\"type\":\"track\",\"userId\":\"u\","
				   "\"timestamp\":\"2026-01-01T00:00:00Z\","
				   "\"properties\":{");
	for (int i = 0; i < 8; i++)
		off += (size_t)sprintf(big + off, "%s\"k%d\":\"%0700d\\n\"",
				       i ? "," : "", i, 0);
	sprintf(big + off, "}}");
	assert_rejected(big, EVENT_ERR_TOO_LARGE);
	free(big);
}

static void nest(char *buf, int depth)
{
	size_t off =
		(size_t)sprintf(buf, "{\"type\":\"track\",\"userId\":\"u\","
				     "\"timestamp\":\"2026-01-01T00:00:"
				     "00Z\",\"context\":");
	for (int i = 1; i < depth; i++)
		off += (size_t)sprintf(buf + off, "%s",
				       i < depth - 1 ? "{\"a\":" : "[");
	for (int i = depth - 1; i >= 1; i--)
		off += (size_t)sprintf(buf + off, "%s",
				       i < depth - 1 ? "}" : "]");
	sprintf(buf + off, "}");
}

static void test_reject_too_deep(void **state)
{
	char buf[1024];
	(void)state;
	nest(buf, EVENT_MAX_DEPTH);
	assert_int_equal(parse(buf), 0);
	nest(buf, EVENT_MAX_DEPTH + 1);
	assert_rejected(buf, EVENT_ERR_TOO_DEEP);
}

/* An event with a property array of n numbers: 13 + n JSON tokens. */
static char *tokens_event(int n, const char *first)
{
	char *buf = malloc(EVENT_MAX_BYTES + 1);
	size_t off;

	assert_non_null(buf);
	off = (size_t)sprintf(buf,
			      "{\"type\":\"track\",\"userId\":\"u\","
			      "\"event\":\"e\",\"timestamp\":"
			      "\"2026-01-01T00:00:00Z\","
			      "\"properties\":{\"a\":[%s",
			      first);
	for (int i = 1; i < n; i++)
		off += (size_t)sprintf(buf + off, ",1");
	sprintf(buf + off, "]}}");
	return buf;
}

/*
 * The tokenizer's corners, and the order of reasons the jsmn-based parser
 * gave, which the tokenizer keeps (event_reject).
 */
static void test_tokenizer_limits(void **state)
{
	char *buf;
	(void)state;

	buf = tokens_event(EVENT_MAX_TOKENS - 13, "1");
	assert_int_equal(parse(buf), 0);
	free(buf);
	buf = tokens_event(EVENT_MAX_TOKENS - 12, "1");
	assert_rejected(buf, EVENT_ERR_TOO_LARGE);
	free(buf);
	/* jsmn ran out of tokens before the structure check saw ",," */
	buf = tokens_event(EVENT_MAX_TOKENS, "1,");
	assert_rejected(buf, EVENT_ERR_TOO_LARGE);
	free(buf);
	/* but stopped at a byte it did not know before running out */
	buf = tokens_event(EVENT_MAX_TOKENS, "x");
	assert_rejected(buf, EVENT_ERR_NOT_JSON);
	free(buf);

	char deep[1024];
	nest(deep, EVENT_MAX_DEPTH + 1);
	strcat(deep, " 1 "); /* garbage after the root wins over depth */
	assert_rejected(deep, EVENT_ERR_NOT_JSON);
	nest(deep, EVENT_MAX_DEPTH + 1);
	deep[strlen(deep) - 1] = '\0'; /* unclosed */
	assert_rejected(deep, EVENT_ERR_NOT_JSON);
	/* a missing comma after it made jsmn give the key two values */
	strcpy(deep, "{\"a\":");
	for (int i = 0; i < EVENT_MAX_DEPTH; i++)
		strcat(deep, "[");
	for (int i = 0; i < EVENT_MAX_DEPTH; i++)
		strcat(deep, "]");
	strcat(deep, "\"b\":1}");
	assert_rejected(deep, EVENT_ERR_NOT_JSON);
	strcpy(strstr(deep, "\"b\""), ",\"b\":1}"); /* with it, depth */
	assert_rejected(deep, EVENT_ERR_TOO_DEEP);
	nest(deep, EVENT_MAX_DEPTH + 1);
	/* a bad number after the deep part: depth comes first */
	strcpy(deep + strlen(deep) - 1, ",\"b\":01}");
	assert_rejected(deep, EVENT_ERR_TOO_DEEP);
}

static void test_tokenizer_corners(void **state)
{
	static const char *const not_json[] = {
		"[1,,2]",       "{\"a\":[1,2],}",
		"{\"a\":01}",   "{\"a\":-}",
		"{\"a\":1.}",   "{\"a\":1e}",
		"{\"a\":tru}",  "{\"a\":truex}",
		"{\"a\":nul}",  "{\"a\":1}\xc3\xa9",
		"{\"a\" 1}",    "{\"a\":\"\\u00\"}",
		"{\"a\":\"x\\", "\"abc",
		"[1 , ]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++)
		assert_rejected(not_json[i], EVENT_ERR_NOT_JSON);
	assert_rejected("[1,2]", EVENT_ERR_NOT_OBJECT);
	assert_rejected(" \"abc\" ", EVENT_ERR_NOT_OBJECT);
	assert_rejected("-1.5e3", EVENT_ERR_NOT_OBJECT);
	/* invalid UTF-8 anywhere wins over malformed JSON */
	assert_rejected("{\"a\":1,,\xff}", EVENT_ERR_BAD_UTF8);
	assert_rejected("{\"\xff\":1}", EVENT_ERR_BAD_UTF8);
	assert_rejected("{\"a\":\"\xff\"}", EVENT_ERR_BAD_UTF8);
	assert_rejected("{\"a\":\"\xe2\x82\"}", EVENT_ERR_BAD_UTF8);
	/* white space around every token, and none */
	assert_rejected(" \t\r\n{ \"a\" : [ 1 , { } , [ ] ] } \n",
			EVENT_ERR_MISSING_TYPE);
	/* a lone surrogate escape in a field nobody reads is let through */
	assert_int_equal(parse("{\"type\":\"track\",\"userId\":\"u\","
			       "\"event\":\"e\",\"timestamp\":"
			       "\"2026-01-01T00:00:00Z\",\"context\":{\"x\":"
			       "\"\\ud800\"}}"),
			 0);
}

/* Events of 15, 16 and 17 bytes, and strings across 16-byte blocks. */
static void test_tokenizer_blocks(void **state)
{
	char buf[160], want[80];
	(void)state;

	for (size_t n = 15; n <= 17; n++) {
		memset(buf, 'x', n);
		memcpy(buf, "{\"a\":\"", 6);
		memcpy(buf + n - 2, "\"}", 3);
		assert_rejected(buf, EVENT_ERR_MISSING_TYPE);
		buf[n - 3] = '\x01'; /* control byte, last in the string */
		assert_rejected(buf, EVENT_ERR_NOT_JSON);
		buf[n - 3] = 'x';
		buf[n - 2] = 'x'; /* unterminated */
		assert_rejected(buf, EVENT_ERR_NOT_JSON);
	}
	for (int n = 0; n < 40; n++) {
		int off = sprintf(buf, "{\"type\":\"track\",\"event\":\"e\","
				       "\"timestamp\":\"2026-01-01T00:00:"
				       "00Z\",\"userId\":\"");
		memset(buf + off, 'a', (size_t)n);
		sprintf(buf + off + n, "\\\"b\xc3\xa9\"}");
		memset(want, 'a', (size_t)n);
		strcpy(want + n, "\"b\xc3\xa9");
		assert_int_equal(parse(buf), 0);
		assert_strv(ev.user_id, want);
	}
}

/*
 * Every byte value in every lane of a sixteen-byte block of a string:
 * quote, backslash, control and non-ASCII bytes stop the plain run, and
 * no other byte does.
 */
static void test_string_stop_bytes(void **state)
{
	char buf[160];
	(void)state;

	for (int b = 1; b < 256; b++) {
		for (int lane = 0; lane < 17; lane++) {
			int off = sprintf(buf, "{\"type\":\"track\",\"event\":"
					       "\"e\",\"timestamp\":\"2026-01-"
					       "01T00:00:00Z\",\"userId\":\"");
			memset(buf + off, 'u', (size_t)lane);
			buf[off + lane] = (char)b;
			strcpy(buf + off + lane + 1, "v\"}");
			if (b == '"' || b == '\\' || b < 0x20) {
				assert_rejected(buf, EVENT_ERR_NOT_JSON);
			} else if (b >= 0x80) {
				assert_rejected(buf, EVENT_ERR_BAD_UTF8);
			} else {
				assert_int_equal(parse(buf), 0);
				assert_int_equal(ev.user_id.len,
						 (size_t)lane + 2);
				assert_int_equal(ev.user_id.p[lane], b);
			}
		}
	}
}

/*
 * Top-level keys are told apart by length and eight-byte words: a key
 * that differs in any byte, or is one byte longer or shorter, is not the
 * wanted one, and a key read at the very end of the event still is.
 */
static void test_top_keys_exact(void **state)
{
	static const char *const near[] = {
		"typ", "typee", "Type", "tipe", "typf", "\"type\\u0000", "xype",
	};
	static const char *const ts_near[] = {
		"timestam",          "timestampp",        "timestamP",
		"Timestamp",         "originalTimestam",  "originalTimestampp",
		"originalTimestamq", "OriginalTimestamp", "originalTimestAmp",
	};
	char buf[200];
	(void)state;

	for (size_t k = 0; k < sizeof(near) / sizeof(near[0]); k++) {
		snprintf(buf, sizeof(buf),
			 "{\"userId\":\"u\",\"timestamp\":\"2026-01-01T00:00:00"
			 "Z\",\"%s\":\"track\"}",
			 near[k]);
		assert_rejected(buf, near[k][0] == '"'
					     ? EVENT_ERR_NOT_JSON
					     : EVENT_ERR_MISSING_TYPE);
	}
	for (size_t k = 0; k < sizeof(ts_near) / sizeof(ts_near[0]); k++) {
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"track\",\"userId\":\"u\",\"%s\":\"2026-"
			 "01-01T00:00:00Z\"}",
			 ts_near[k]);
		assert_rejected(buf, EVENT_ERR_BAD_TIMESTAMP);
	}
	/* each wanted key last, its value ending the event */
	assert_int_equal(parse("{\"userId\":\"u\",\"timestamp\":\"2026-01-01T0"
			       "0:00:00Z\",\"type\":\"page\",\"name\":\"n\"}"),
			 0);
	assert_strv(ev.name, "n");
	assert_int_equal(
		parse("{\"type\":\"track\",\"userId\":\"u\","
		      "\"originalTimestamp\":\"2026-01-01T00:00:01Z\"}"),
		0);
	assert_int_equal(ev.ts_ms, 1767225601000);
	assert_int_equal(
		parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"anonymousId\":\"a\"}"),
		0);
	assert_strv(ev.lead_key, "a");
	assert_int_equal(
		parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"anonymousId\":\"a\",\"messageId\":"
		      "\"m\"}"),
		0);
	assert_strv(ev.message_id, "m");
	assert_int_equal(
		parse("{\"type\":\"group\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"userId\":\"u\",\"groupId\":\"g\"}"),
		0);
	assert_strv(ev.group_id, "g");
	assert_int_equal(
		parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"userId\":\"u\",\"event\":\"e\"}"),
		0);
	assert_strv(ev.name, "e");
	/* a null value counts as absent, a later duplicate wins */
	assert_int_equal(
		parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"userId\":\"u\",\"anonymousId\":\"a\""
		      ",\"userId\":null}"),
		0);
	assert_strv(ev.lead_key, "a");
}

/* Only the last top-level context counts, and only its own keys. */
static void test_context_last_wins(void **state)
{
	(void)state;

	assert_rejected("{\"type\":\"track\",\"timestamp\":\"2026-01-01T00:00:"
			"00Z\",\"context\":{\"traits\":{\"email\":\"a@x\"}},"
			"\"context\":{\"page\":{}}}",
			EVENT_ERR_NO_IDENTITY);
	assert_int_equal(parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T"
			       "00:00:00Z\",\"userId\":\"u\",\"context\":{"
			       "\"groupId\":\"g1\"},\"context\":null}"),
			 0);
	assert_int_equal(ev.group_id.len, 0);
	assert_int_equal(parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T"
			       "00:00:00Z\",\"userId\":\"u\",\"context\":{"
			       "\"groupId\":\"g1\"},\"context\":{\"groupId\":"
			       "\"g2\",\"groupId\":null}}"),
			 0);
	assert_int_equal(ev.group_id.len, 0);
	assert_int_equal(parse("{\"type\":\"track\",\"timestamp\":\"2026-01-01T"
			       "00:00:00Z\",\"context\":{\"traits\":{\"email\":"
			       "\"A@X\"},\"traits\":\"no\",\"page\":{\"path\":"
			       "\"/p\"}},\"anonymousId\":\"a\"}"),
			 0);
	assert_strv(ev.lead_key, "a");
	assert_rejected(
		"{\"type\":\"track\",\"timestamp\":\"2026-01-01T00:00:"
		"00Z\",\"context\":{\"x\":{\"traits\":{\"email\":\"a@x\""
		"}},\"traits\":{\"email\":null}}}",
		EVENT_ERR_NO_IDENTITY);
	assert_int_equal(
		parse("{\"type\":\"page\",\"timestamp\":\"2026-01-01T0"
		      "0:00:00Z\",\"userId\":\"u\",\"context\":{\"page\":"
		      "{\"path\":\"/a\",\"url\":\"u1\"},\"traits\":{\"e"
		      "mail\":\"E@X\"},\"groupId\":\"g\"}}"),
		0);
	assert_strv(ev.path, "/a");
	assert_strv(ev.url, "u1");
	assert_strv(ev.email, "E@X");
	assert_strv(ev.group_id, "g");
}

static void test_reject_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff",             /* never valid */
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, three bytes */
		"\xf0\x80\x80\xaf", /* overlong, four bytes */
		"\xed\xa0\x80",     /* UTF-16 surrogate D800 */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xc3",             /* truncated */
		"\xe2\x82",         /* truncated */
		"\x80",             /* stray continuation */
		"\\ud800",          /* lone high surrogate escape */
		"\\udc00x",         /* lone low surrogate escape */
		"\\ud83d\\u0041",   /* high surrogate, no low one */
	};
	char buf[256];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"track\",\"userId\":\"u%s\",\"timestamp\":"
			 "\"2026-01-01T00:00:00Z\"}",
			 bad[i]);
		assert_rejected(buf, EVENT_ERR_BAD_UTF8);
	}
	/* valid multibyte text passes: é, €, 😀 */
	assert_int_equal(parse("{\"type\":\"track\",\"userId\":"
			       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
			       "\"timestamp\":\"2026-01-01T00:00:00Z\"}"),
			 0);
	assert_strv(ev.lead_key, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

/* A rejection names the field at fault: the name of a track is its
 * "event", of a page or screen its "name". */
static void test_reject_names_name_field(void **state)
{
	static const char *const cases[][2] = {
		{"track", "event"},
		{"page", "name"},
		{"screen", "name"},
	};
	char buf[256], want[64];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"%s\",\"userId\":\"u\",\"%s\":"
			 "\"\\ud800\",\"timestamp\":"
			 "\"2026-01-01T00:00:00Z\"}",
			 cases[i][0], cases[i][1]);
		assert_rejected(buf, EVENT_ERR_BAD_UTF8);
		snprintf(want, sizeof(want),
			 "lone surrogate escape in field %s", cases[i][1]);
		assert_string_equal(err.msg, want);
	}
}

static void test_reject_type(void **state)
{
	(void)state;
	assert_rejected("{\"userId\":\"u\",\"timestamp\":"
			"\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_MISSING_TYPE);
	assert_rejected("{\"type\":null,\"userId\":\"u\"}",
			EVENT_ERR_MISSING_TYPE);
	assert_rejected("{\"type\":7,\"userId\":\"u\"}",
			EVENT_ERR_MISSING_TYPE);
	assert_rejected("{\"type\":\"alias\",\"userId\":\"u\"}",
			EVENT_ERR_UNKNOWN_TYPE);
	assert_rejected("{\"type\":\"Track\",\"userId\":\"u\"}",
			EVENT_ERR_UNKNOWN_TYPE);
	/* the type inside context is not the event's type */
	assert_rejected("{\"context\":{\"type\":\"track\"},\"userId\":\"u\"}",
			EVENT_ERR_MISSING_TYPE);
}

static void test_reject_field_types(void **state)
{
	static const char *const bad[] = {
		"\"event\":1",       "\"messageId\":{}",
		"\"timestamp\":0",   "\"name\":[]",
		"\"groupId\":true",  "\"userId\":true",
		"\"userId\":{}",     "\"anonymousId\":[]",
		"\"traits\":[]",     "\"properties\":1",
		"\"context\":\"x\"", "\"originalTimestamp\":1",
	};
	char buf[256];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"track\",\"anonymousId\":\"a\","
			 "\"timestamp\":\"2026-01-01T00:00:00Z\",%s}",
			 bad[i]);
		assert_rejected(buf, EVENT_ERR_FIELD_TYPE);
	}
	/* null is absent, not a wrong type */
	assert_int_equal(parse("{\"type\":\"track\",\"anonymousId\":\"a\","
			       "\"timestamp\":\"2026-01-01T00:00:00Z\","
			       "\"properties\":null,\"traits\":null,\"event\":"
			       "null,\"context\":null}"),
			 0);
	assert_int_equal(ev.nprops, 0);
}

static void test_reject_bad_timestamp(void **state)
{
	(void)state;
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":"
			"\"yesterday\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":"
			"\"2026-13-01T00:00:00Z\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	/* a bad timestamp is not rescued by originalTimestamp */
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":"
			"\"2026-01-01\",\"originalTimestamp\":"
			"\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	/* but a missing one is */
	assert_int_equal(
		parse("{\"type\":\"track\",\"userId\":\"u\","
		      "\"originalTimestamp\":\"2026-01-01T00:00:01Z\"}"),
		0);
	assert_int_equal(ev.ts_ms, ts("2026-01-01T00:00:01Z"));
}

static void test_timestamps(void **state)
{
	(void)state;
	assert_int_equal(ts("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(ts("2026-03-29T01:30:00Z"), 1774747800000LL);
	assert_int_equal(ts("2026-03-29T01:30:00.123Z"), 1774747800123LL);
	assert_int_equal(ts("2026-03-29T01:30:00.1Z"), 1774747800100LL);
	assert_int_equal(ts("2026-03-29T01:30:00.123456789Z"), 1774747800123LL);
	assert_int_equal(ts("2026-03-29T03:30:00+02:00"), 1774747800000LL);
	assert_int_equal(ts("2026-03-29T03:30:00.5+0200"), 1774747800500LL);
	assert_int_equal(ts("2026-03-28T20:00:00-05:30"), 1774747800000LL);
	assert_int_equal(ts("2026-03-29 01:30:00z"), 1774747800000LL);
	assert_int_equal(ts("2026-03-29t01:30:00"), 1774747800000LL);
	assert_int_equal(ts("1969-12-31T23:59:59Z"), -1000);
	assert_int_equal(ts("2024-02-29T00:00:00Z"), 1709164800000LL);
	assert_int_equal(ts("2000-02-29T00:00:00Z"), 951782400000LL);
	assert_int_equal(ts("2024-12-31T23:59:59.999Z"), 1735689599999LL);
	assert_ts_bad("2023-02-29T00:00:00Z"); /* not a leap year */
	assert_ts_bad("2100-02-29T00:00:00Z"); /* century, not leap */
	assert_ts_bad("2026-02-30T00:00:00Z");
	assert_ts_bad("2026-04-31T00:00:00Z");
	assert_ts_bad("2026-13-01T00:00:00Z");
	assert_ts_bad("2026-00-01T00:00:00Z");
	assert_ts_bad("2026-01-00T00:00:00Z");
	assert_ts_bad("2026-01-01T25:00:00Z");
	assert_ts_bad("2026-01-01T12:60:00Z");
	assert_ts_bad("2026-01-01T12:00:61Z");
	assert_ts_bad("2026-01-01T12:00:00.Z");
	assert_ts_bad("2026-01-01T12:00:00+2:00");
	assert_ts_bad("2026-01-01T12:00:00+24:00");
	assert_ts_bad("2026-01-01T12:00:00Zjunk");
	assert_ts_bad("2026-01-01X12:00:00Z");
	assert_ts_bad("2026-01-01");
	assert_ts_bad("");
}

/* The fast path for the usual spelling and the full parser agree on s. */
static void assert_ts_same(const char *s, size_t len)
{
	int64_t fast = 0, full = 0;
	int rf = event_timestamp_parse(s, len, &fast);
	int rg = event_timestamp_parse_full(s, len, &full);

	if (rf != rg || (rf == 0 && fast != full))
		fail_msg("'%.*s' (%zu bytes): %d/%lld fast, %d/%lld full",
			 (int)len, s, len, rf, (long long)fast, rg,
			 (long long)full);
}

static void test_timestamp_fast_path(void **state)
{
	static const char *const tricky[] = {
		"2026-03-01T00:00:00.000Z",
		"2024-02-29T12:00:00.000Z",
		"2023-02-29T12:00:00.000Z",
		"2100-02-29T12:00:00.000Z",
		"2000-02-29T12:00:00.000Z",
		"1900-02-29T12:00:00.000Z",
		"2026-02-28T23:59:59.999Z",
		"2026-04-31T00:00:00.000Z",
		"2026-12-31T23:59:60.000Z",
		"2026-12-31T23:59:61.000Z",
		"2026-12-31T24:00:00.000Z",
		"2026-12-31T23:60:00.000Z",
		"2026-00-10T00:00:00.000Z",
		"2026-13-10T00:00:00.000Z",
		"2026-01-00T00:00:00.000Z",
		"2026-01-32T00:00:00.000Z",
		"1969-12-31T23:59:59.999Z",
		"1970-01-01T00:00:00.000Z",
		"0000-01-01T00:00:00.000Z",
		"9999-12-31T23:59:59.999Z",
		"0000-02-29T00:00:00.000Z",
		"2026-03-01t00:00:00.000z",
		"2026-03-01T00:00:00.000z",
		"2026-03-01t00:00:00.000Z",
		"2026-03-01 00:00:00.000Z",
		"2026-03-01T00:00:00,000Z",
		"2026-03-01T00:00:00.0Z",
		"2026-03-01T00:00:00.00Z",
		"2026-03-01T00:00:00.0000Z",
		"2026-03-01T00:00:00.123456789Z",
		"2026-03-01T00:00:00.1234567890123Z",
		"2026-03-01T00:00:00Z",
		"2026-03-01T00:00:00",
		"2026-03-01T00:00:00.Z",
		"2026-03-01T00:00:00.000",
		"2026-03-01T00:00:00.000+14:00",
		"2026-03-01T00:00:00.000-12:00",
		"2026-03-01T00:00:00.000+0530",
		"2026-03-01T00:00:00.000+24:00",
		"2026-03-01T00:00:00+00:60",
		"2026-03-01T00:00:00.000ZZ",
		"2026-03-01T00:00:00.00Z0",
		"2026-03-01T00:00:00.0:0Z",
		"2026-03-01T00:00:0:.000Z",
		"2026-03-01T00:00:00.00/Z",
		"2026-03-01T00:00:00.00?Z",
		"2026-03-01T0 :00:00.000Z",
		"-026-03-01T00:00:00.000Z",
		"+2026-03-01T00:00:00.000Z",
		"2026-3-01T00:00:00.000Z",
	};
	const char base[] = "2024-02-29T23:59:60.999Z";
	char buf[sizeof(base)];

	(void)state;
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		assert_ts_same(tricky[i], strlen(tricky[i]));
	/* every byte value at every place, NUL and high bytes included */
	for (size_t i = 0; i + 1 < sizeof(base); i++) {
		for (unsigned b = 0; b < 256; b++) {
			memcpy(buf, base, sizeof(base));
			buf[i] = (char)b;
			assert_ts_same(buf, sizeof(base) - 1);
		}
	}
	for (size_t n = 0; n < sizeof(base); n++)
		assert_ts_same(base, n);
	/* neighbouring minutes and seconds, valid or not */
	assert_ts_same("2024-02-29T00:00:00.000Z", 24);
	assert_ts_same("2023-02-29T00:00:00.000Z", 24);
	assert_ts_same("2024-02-29T00:00:59.999Z", 24);
	assert_ts_same("2024-02-29T00:00:61.000Z", 24);
	assert_ts_same("2024-02-29T00:00:60.000z", 24);
	assert_ts_same("2024-02-29T00:01:00.000Z", 24);
	assert_ts_same("1970-01-01T00:00:00.000Z", 24);
	assert_ts_same("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0:00.000Z", 24);
	assert_int_equal(ts("2024-02-29T00:00:00.000Z"), 1709164800000LL);
	assert_int_equal(ts("2024-03-01T00:00:00.000Z"), 1709251200000LL);
	assert_int_equal(ts("1969-12-31T23:59:59.999Z"), -1);
	assert_int_equal(ts("2026-03-01T00:00:00.000Z"), 1772323200000LL);
}

static void test_escapes(void **state)
{
	(void)state;
	assert_int_equal(
		parse("{\"type\":\"track\",\"event\":\"Say \\\"hi\\\"\\n\","
		      "\"userId\":\"a\\/b\\\\c\\u00e9\\u20ac\\ud83d\\ude00\","
		      "\"timestamp\":\"2026-01-01T00:00:00\\u005a\","
		      "\"properties\":{\"k\\u0065y\":\"\\t\"}}"),
		0);
	assert_strv(ev.name, "Say \"hi\"\n");
	assert_strv(ev.lead_key, "a/b\\c\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_int_equal(ev.ts_ms, ts("2026-01-01T00:00:00Z"));
	assert_prop_str("key", "\t");
	/* unescaped strings live in scratch, inside the event */
	assert_true(ev.name.p >= ev.scratch &&
		    ev.name.p < ev.scratch + sizeof(ev.scratch));
}

static void test_email_lowercased_in_scratch(void **state)
{
	const char *s = "{\"type\":\"identify\",\"traits\":{\"email\":"
			"\"MiXeD.Case@EXAMPLE.org\"},\"anonymousId\":\"a\","
			"\"timestamp\":\"2026-01-01T00:00:00Z\"}";
	(void)state;
	assert_int_equal(parse(s), 0);
	assert_strv(ev.lead_key, "mixed.case@example.org");
	assert_strv(ev.email, "MiXeD.Case@EXAMPLE.org"); /* as sent */
	assert_true(ev.email.p >= s && ev.email.p < s + strlen(s));
}

/* White space around the address is not part of the key; the e-mail
 * itself stays as sent, and one of white space only is no e-mail. */
static void test_email_key_trimmed(void **state)
{
	const char *tail = "\"timestamp\":\"2026-01-01T00:00:00Z\"}";
	char buf[256];
	(void)state;

	snprintf(buf, sizeof(buf),
		 "{\"type\":\"identify\",\"traits\":{\"email\":"
		 "\" Bob@GMAIL.com \\t\\r\\n\"},%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "bob@gmail.com");
	assert_strv(ev.email, " Bob@GMAIL.com \t\r\n");

	snprintf(buf, sizeof(buf),
		 "{\"type\":\"track\",\"event\":\"x\",\"context\":{"
		 "\"traits\":{\"email\":\"bob@gmail.com\\t\"}},%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "bob@gmail.com");

	snprintf(buf, sizeof(buf),
		 "{\"type\":\"identify\",\"anonymousId\":\"A1\","
		 "\"traits\":{\"email\":\" \\t \"},%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "A1");
	assert_strv(ev.email, " \t ");

	/* one dot ending the domain is not part of the key either; the
	 * e-mail stays as sent, and a dot with no domain before it stays */
	snprintf(buf, sizeof(buf),
		 "{\"type\":\"identify\",\"traits\":{\"email\":"
		 "\"Dan@GMAIL.com. \"},%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "dan@gmail.com");
	assert_strv(ev.email, "Dan@GMAIL.com. ");
	snprintf(buf, sizeof(buf),
		 "{\"type\":\"identify\",\"traits\":{\"email\":"
		 "\"no.at.sign.\"},%s",
		 tail);
	assert_int_equal(parse(buf), 0);
	assert_strv(ev.lead_key, "no.at.sign.");

	snprintf(buf, sizeof(buf),
		 "{\"type\":\"identify\",\"traits\":{\"email\":\"  \"},%s",
		 tail);
	assert_rejected(buf, EVENT_ERR_NO_IDENTITY);
}

static void test_bad_then_good(void **state)
{
	(void)state;
	/* a rejected event that filled fields and scratch on the way */
	assert_rejected("{\"type\":\"identify\",\"userId\":\"\\u00e9\","
			"\"traits\":{\"a\":{\"b\":\"\\n\"},\"email\":\"X@Y\"},"
			"\"properties\":{\"p\":1},\"timestamp\":\"bad\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_int_equal(ev.nprops, 0);
	assert_int_equal(ev.ntraits, 0);
	assert_int_equal(parse(ajs_track), 0);
	assert_int_equal(err.reason, EVENT_OK);
	assert_int_equal(ev.type, EVENT_TRACK);
	assert_strv(ev.lead_key, "u_8f3a2c");
	assert_int_equal(ev.nprops, 8);
	assert_trait_str("plan", "pro");
	assert_null(event_trait_get(&ev, "a.b"));
	assert_int_equal(ev.ts_ms, ts("2026-03-29T01:30:00.123Z"));
}

static void test_field_limit(void **state)
{
	char buf[4096];
	size_t off;
	(void)state;
	off = (size_t)sprintf(buf, "{\"type\":\"track\",\"userId\":\"u\","
				   "\"timestamp\":\"2026-01-01T00:00:00Z\","
				   "\"properties\":{");
	for (int i = 0; i < EVENT_MAX_FIELDS + 12; i++)
		off += (size_t)sprintf(buf + off, "%s\"p%d\":%d", i ? "," : "",
				       i, i);
	off += (size_t)sprintf(buf + off, ",\"path\":\"/late\"}}");
	assert_int_equal(parse(buf), 0);
	assert_int_equal(ev.nprops, EVENT_MAX_FIELDS);
	assert_true(event_prop_get(&ev, "p0")->num == 0);
	assert_null(event_prop_get(&ev, "p50"));
	/* path past the field limit is still found */
	assert_strv(ev.path, "/late");
}

/*
 * Fields past the 48 kept use no scratch space: ~100 properties whose
 * extras are nested objects with long names and escapes would need more
 * than the 4096 bytes for their names alone (found by an audit: the
 * outer names were written before the limit was checked). The same for
 * the traits of an identify.
 */
static void fields_past_limit_fill(char *buf, const char *type, const char *obj)
{
	size_t off = (size_t)sprintf(buf,
				     "{\"type\":\"%s\",\"userId\":\"u\","
				     "\"timestamp\":\"2026-01-01T00:00:00Z\","
				     "\"%s\":{\"f1\":\"v\\n1\",",
				     type, obj);

	/* 48 kept: f1, f2..f46, then cart.total and cart.cur */
	for (int i = 2; i < EVENT_MAX_FIELDS - 1; i++)
		off += (size_t)sprintf(buf + off, "\"f%d\":%d,", i, i);
	off += (size_t)sprintf(buf + off, "\"cart\":{\"total\":1,"
					  "\"cur\":\"E\\u00fcR\"}");
	/* 60 more, each an object named by 80 bytes, with escapes */
	for (int i = 0; i < 60; i++)
		off += (size_t)sprintf(
			buf + off,
			",\"n%079d\":{\"k\\u00e9y\":\"%0100d\\n\","
			"\"x\":%d}",
			i, i, i);
	off += (size_t)sprintf(buf + off, ",\"late\\t\":\"%0200d\\n\"}}", 0);
	assert_true(off < EVENT_MAX_BYTES);
}

static void test_fields_past_limit_use_no_scratch(void **state)
{
	char *buf = malloc(EVENT_MAX_BYTES);
	char name[96];
	(void)state;
	assert_non_null(buf);

	fields_past_limit_fill(buf, "track", "properties");
	if (parse(buf) != 0)
		fail_msg("rejected: %s (%s)", event_reason_code(err.reason),
			 err.msg);
	assert_int_equal(ev.nprops, EVENT_MAX_FIELDS);
	assert_prop_str("f1", "v\n1");
	assert_true(event_prop_get(&ev, "f46")->num == 46);
	assert_true(event_prop_get(&ev, "cart.total")->num == 1);
	assert_prop_str("cart.cur", "E\xc3\xbcR");
	snprintf(name, sizeof(name), "n%079d.x", 0);
	assert_null(event_prop_get(&ev, name));
	assert_true(ev.scratch_used < 64); /* the kept names and values */

	fields_past_limit_fill(buf, "identify", "traits");
	assert_int_equal(parse(buf), 0);
	assert_int_equal(ev.ntraits, EVENT_MAX_FIELDS);
	assert_trait_str("f1", "v\n1");
	assert_trait_str("cart.cur", "E\xc3\xbcR");
	assert_null(event_trait_get(&ev, "late\t"));
	assert_true(ev.scratch_used < 64);
	free(buf);
}

/*
 * groupId, like userId, may be a number, kept as written, at the top level
 * and in context; true or false is still a wrong type at the top level
 * and ignored inside context.
 */
static void test_group_id_numeric(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"type\":\"group\",\"userId\":\"u\","
			       "\"groupId\":12345,\"timestamp\":"
			       "\"2026-01-01T00:00:00Z\",\"traits\":{"
			       "\"name\":\"Acme\"}}"),
			 0);
	assert_strv(ev.group_id, "12345");
	assert_trait_str("company.name", "Acme");
	assert_int_equal(parse("{\"type\":\"group\",\"userId\":\"u\","
			       "\"groupId\":12345.0,\"timestamp\":"
			       "\"2026-01-01T00:00:00Z\"}"),
			 0);
	assert_strv(ev.group_id, "12345.0");
	/* context.groupId, and the top level before it */
	assert_int_equal(parse("{\"type\":\"track\",\"userId\":\"u\","
			       "\"timestamp\":\"2026-01-01T00:00:00Z\","
			       "\"context\":{\"groupId\":-7}}"),
			 0);
	assert_strv(ev.group_id, "-7");
	assert_int_equal(parse("{\"type\":\"track\",\"userId\":\"u\","
			       "\"groupId\":42,\"timestamp\":"
			       "\"2026-01-01T00:00:00Z\",\"context\":{"
			       "\"groupId\":\"g\"}}"),
			 0);
	assert_strv(ev.group_id, "42");
	assert_int_equal(parse("{\"type\":\"track\",\"userId\":\"u\","
			       "\"timestamp\":\"2026-01-01T00:00:00Z\","
			       "\"context\":{\"groupId\":true}}"),
			 0);
	assert_int_equal(ev.group_id.len, 0);
	assert_rejected("{\"type\":\"group\",\"userId\":\"u\","
			"\"groupId\":false,\"timestamp\":"
			"\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_FIELD_TYPE);
	assert_string_equal(err.msg,
			    "field groupId must be a string or a number");
	assert_rejected("{\"type\":\"group\",\"userId\":\"u\","
			"\"groupId\":{},\"timestamp\":"
			"\"2026-01-01T00:00:00Z\"}",
			EVENT_ERR_FIELD_TYPE);
}

/* ts_ms of an identified track with the given time fields. */
static int64_t time_of(const char *fields)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"type\":\"track\",\"userId\":\"u\",%s}",
		 fields);
	if (parse(buf) != 0)
		fail_msg("rejected: %s (%s) for %s",
			 event_reason_code(err.reason), err.msg, buf);
	return ev.ts_ms;
}

/*
 * Without timestamp and originalTimestamp, the event time is receivedAt
 * (the server's clock), else sentAt (the device's); the first present
 * decides, and a field not read is not checked.
 */
static void test_time_fallback_order(void **state)
{
	static const struct {
		const char *fields, *want;
	} cases[] = {
		{"\"sentAt\":\"2026-01-01T00:00:03Z\"", "2026-01-01T00:00:03Z"},
		{"\"receivedAt\":\"2026-01-01T00:00:04Z\"",
		 "2026-01-01T00:00:04Z"},
		{"\"sentAt\":\"2026-01-01T00:00:03Z\","
		 "\"receivedAt\":\"2026-01-01T00:00:04Z\"",
		 "2026-01-01T00:00:04Z"},
		{"\"receivedAt\":null,\"sentAt\":\"2026-01-01T00:00:03Z\"",
		 "2026-01-01T00:00:03Z"},
		{"\"receivedAt\":\"2026-01-01T00:00:04Z\","
		 "\"sentAt\":\"2026-01-01T00:00:03Z\","
		 "\"originalTimestamp\":\"2026-01-01T00:00:02Z\"",
		 "2026-01-01T00:00:02Z"},
		{"\"receivedAt\":\"2026-01-01T00:00:04Z\","
		 "\"sentAt\":\"2026-01-01T00:00:03Z\","
		 "\"originalTimestamp\":\"2026-01-01T00:00:02Z\","
		 "\"timestamp\":\"2026-01-01T00:00:01Z\"",
		 "2026-01-01T00:00:01Z"},
		/* not read, so not checked */
		{"\"timestamp\":\"2026-01-01T00:00:01Z\",\"sentAt\":1,"
		 "\"receivedAt\":\"soon\"",
		 "2026-01-01T00:00:01Z"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(time_of(cases[i].fields), ts(cases[i].want));
	/* read and unreadable: the next one does not rescue it */
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"receivedAt\":"
			"\"2026-01-01\",\"sentAt\":\"2026-01-01T00:00:03Z\"}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_string_equal(err.msg,
			    "field receivedAt is not an ISO 8601 time");
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"sentAt\":"
			"1767225603000}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_string_equal(err.msg, "field sentAt is not an ISO 8601 time");
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"sentAt\":null}",
			EVENT_ERR_BAD_TIMESTAMP);
	assert_string_equal(err.msg, "no timestamp, originalTimestamp, "
				     "receivedAt or sentAt");
	/* a key written with escapes is not the key, here as elsewhere */
	assert_rejected("{\"type\":\"track\",\"userId\":\"u\",\"sent\\u0041t\":"
			"\"2026-01-01T00:00:03Z\"}",
			EVENT_ERR_BAD_TIMESTAMP);
}

static void test_pretty_printed(void **state)
{
	(void)state;
	assert_int_equal(
		parse("\n{\n  \"type\" : \"track\",\n"
		      "  \"userId\" : \"u\",\r\n\t\"timestamp\": "
		      "\"2026-01-01T00:00:00Z\",\n  \"properties\": {"
		      " \"a\" : [ 1 , { } , [ ] ] , \"b\" : { } }\n}\n"),
		0);
	assert_int_equal(event_prop_get(&ev, "a")->kind, JVAL_OTHER);
	assert_int_equal(ev.nprops, 1);
	/* a raw tab inside a string is not JSON */
	assert_rejected("{\n\"type\":\"tr\tack\"}", EVENT_ERR_NOT_JSON);
}

static void test_duplicate_keys_last_wins(void **state)
{
	(void)state;
	assert_int_equal(
		parse("{\"type\":\"page\",\"type\":\"track\","
		      "\"userId\":\"a\",\"userId\":\"b\",\"timestamp\":"
		      "\"2026-01-01T00:00:00Z\"}"),
		0);
	assert_int_equal(ev.type, EVENT_TRACK);
	assert_strv(ev.lead_key, "b");
}

static void test_messages_hide_personal_data(void **state)
{
	(void)state;
	assert_rejected(
		"{\"type\":\"identify\",\"traits\":{\"email\":"
		"\"secret.person@example.com\"},\"timestamp\":\"nope\"}",
		EVENT_ERR_BAD_TIMESTAMP);
	assert_null(strstr(err.msg, "secret"));
	assert_rejected("{\"type\":\"secret.person@example.com\"}",
			EVENT_ERR_UNKNOWN_TYPE);
	assert_null(strstr(err.msg, "secret"));
	assert_rejected("{\"type\":\"track\",\"userId\":\"secret\\ud800\"}",
			EVENT_ERR_BAD_UTF8);
	assert_null(strstr(err.msg, "secret"));
}

static void test_names_and_codes(void **state)
{
	(void)state;
	for (int t = 0; t < EVENT_TYPE_COUNT; t++) {
		const char *n = event_type_name((enum event_type)t);
		assert_int_equal(event_type_parse(n, strlen(n)), t);
	}
	assert_int_equal(event_type_parse("alias", 5), -1);
	assert_int_equal(event_type_parse("trac", 4), -1);
	assert_int_equal(event_type_parse("", 0), -1);
	assert_string_equal(event_reason_code(EVENT_ERR_NOT_JSON), "not_json");
	assert_string_equal(event_reason_code(EVENT_ERR_FIELD_TYPE),
			    "wrong_field_type");
	assert_string_equal(event_reason_code(EVENT_ERR_BAD_UTF8),
			    "invalid_utf8");
	assert_string_equal(event_reason_code(EVENT_ERR_TOO_DEEP), "too_deep");
	for (int i = 1; i < EVENT_REASON_COUNT; i++)
		for (int j = i + 1; j < EVENT_REASON_COUNT; j++)
			assert_string_not_equal(
				event_reason_code((enum event_reason)i),
				event_reason_code((enum event_reason)j));
	assert_string_equal(event_reason_code(EVENT_REASON_COUNT), "unknown");
}

static void test_err_may_be_null(void **state)
{
	(void)state;
	assert_int_equal(event_parse("[", 1, &ev, NULL), -1);
	assert_int_equal(event_parse(ajs_track, strlen(ajs_track), &ev, NULL),
			 0);
}

/*
 * The timestamp fast path counts days for 1970 to 2099 by a rule of its
 * own: every date (valid or not) of the years around and inside that
 * range, at the first and last millisecond of a day and a leap second,
 * gets what the full parser gives.
 */
static void test_timestamp_fast_path_dates(void **state)
{
	static const char *const times[] = {"00:00:00.000", "23:59:59.999",
					    "23:59:60.500", "12:34:56.789"};
	char buf[64];

	(void)state;
	for (int y = 1966; y <= 2104; y++)
		for (int mo = 0; mo <= 13; mo++)
			for (int d = 0; d <= 32; d++)
				for (size_t t = 0; t < 4; t++) {
					snprintf(buf, sizeof(buf),
						 "%04d-%02d-%02dT%sZ", y, mo, d,
						 times[t]);
					assert_ts_same(buf, strlen(buf));
				}
	assert_ts_same("1600-02-29T00:00:00.000Z", 24);
	assert_ts_same("2400-02-29T00:00:00.000Z", 24);
	assert_int_equal(ts("2099-12-31T23:59:59.999Z"), 4102444799999LL);
	assert_int_equal(ts("2100-03-01T00:00:00.000Z"), 4107542400000LL);
}

/*
 * The daemon's bound on event times ahead of its clock: a time exactly at
 * now + bound passes, 1 ms later is bad_timestamp with a message that
 * says how far ahead (rounded up, so never "at the bound") and nothing of
 * the event; past times always pass; a bound of 0 is no bound.
 */
static void test_time_check_bound(void **state)
{
	const int64_t now = ts("2026-03-02T00:00:00Z"), day = 86400000;
	struct event_error e = {0};

	(void)state;
	assert_int_equal(event_time_check(now + day, now, day, &e), 0);
	assert_int_equal(event_time_check(now, now, day, &e), 0);
	assert_int_equal(event_time_check(0, now, day, &e), 0);
	assert_int_equal(
		event_time_check(ts("0000-01-01T00:00:00Z"), now, day, &e), 0);
	assert_int_equal(e.reason, EVENT_OK);
	assert_int_equal(event_time_check(now + day + 1, now, day, &e), -1);
	assert_int_equal(e.reason, EVENT_ERR_BAD_TIMESTAMP);
	assert_string_equal(e.msg, "event time is 86401 s (1.0 days) ahead of "
				   "the daemon's clock; at most 86400 s are "
				   "allowed");
	assert_int_equal(
		event_time_check(ts("2036-03-02T00:00:00Z"), now, day, &e), -1);
	assert_string_equal(e.msg, "event time is 315619200 s (3653.0 days) "
				   "ahead of the daemon's clock; at most "
				   "86400 s are allowed");
	assert_int_equal(event_time_check(ts("9999-12-31T23:59:59.999Z"), now,
					  day, NULL),
			 -1);
	/* 0: no bound, even for the last time the parser reads */
	assert_int_equal(
		event_time_check(ts("9999-12-31T23:59:59.999Z"), now, 0, &e),
		0);
	assert_int_equal(event_time_check(now + 1, now, 0, &e), 0);
}

/*
 * Joined names ("company." + key, "outer." + key) are copied in pieces
 * of eight, four and one bytes: every key length up to 40 comes out
 * whole, next to its neighbours.
 */
static void test_joined_names_lengths(void **state)
{
	char key[48], want[128], js[320];

	(void)state;
	for (size_t n = 1; n <= 40; n++) {
		for (size_t i = 0; i < n; i++)
			key[i] = (char)('a' + (i * 7 + n) % 26);
		key[n] = '\0';
		snprintf(js, sizeof(js),
			 "{\"type\":\"group\",\"userId\":\"u\","
			 "\"timestamp\":\"2026-01-01T00:00:00Z\","
			 "\"traits\":{\"%s\":1,\"x\":{\"%s\":2},\"%s%s\":3}}",
			 key, key, key, key);
		assert_int_equal(parse(js), 0);
		assert_int_equal(ev.ntraits, 3);
		snprintf(want, sizeof(want), "company.%s", key);
		assert_strv(ev.traits[0].name, want);
		snprintf(want, sizeof(want), "company.x.%s", key);
		assert_strv(ev.traits[1].name, want);
		snprintf(want, sizeof(want), "company.%s%s", key, key);
		assert_strv(ev.traits[2].name, want);
		snprintf(js, sizeof(js),
			 "{\"type\":\"identify\",\"userId\":\"u\","
			 "\"timestamp\":\"2026-01-01T00:00:00Z\","
			 "\"traits\":{\"%s\":{\"%s\":1,\"k\":2}}}",
			 key, key);
		assert_int_equal(parse(js), 0);
		assert_int_equal(ev.ntraits, 2);
		snprintf(want, sizeof(want), "%s.%s", key, key);
		assert_strv(ev.traits[0].name, want);
		snprintf(want, sizeof(want), "%s.k", key);
		assert_strv(ev.traits[1].name, want);
	}
}

/* The fields of a and b, parsed one after the other, are the same. */
static void assert_same_fields(const char *a, const char *b)
{
	static struct event other;
	const struct event_field *x, *y;

	assert_int_equal(event_parse(b, strlen(b), &other, NULL), 0);
	assert_int_equal(parse(a), 0);
	assert_int_equal(ev.nprops, other.nprops);
	assert_int_equal(ev.ntraits, other.ntraits);
	for (size_t i = 0; i < ev.nprops + ev.ntraits; i++) {
		x = i < ev.nprops ? &ev.props[i] : &ev.traits[i - ev.nprops];
		y = i < ev.nprops ? &other.props[i]
				  : &other.traits[i - ev.nprops];
		assert_int_equal(x->name.len, y->name.len);
		assert_memory_equal(x->name.p, y->name.p, x->name.len);
		assert_int_equal(x->val.kind, y->val.kind);
		assert_int_equal(x->val.str.len, y->val.str.len);
		if (x->val.str.len > 0)
			assert_memory_equal(x->val.str.p, y->val.str.p,
					    x->val.str.len);
		assert_true(x->val.num == y->val.num);
	}
}

/*
 * Properties and traits of an event without escapes take a path of their
 * own; an escape anywhere (here in anonymousId) sends the same fields
 * through the general one, which must give the same.
 */
static void test_fields_plain_path(void **state)
{
	static const char *const bodies[] = {
		"\"type\":\"track\",\"event\":\"e\",\"properties\":{\"a\":1,"
		"\"\":2,\"b\":[1,{\"c\":2}],\"d\":{\"e\":\"x\",\"f\":{\"g\":1},"
		"\"h\":null,\"i\":true},\"j\":{},\"k\":false,\"l\":-1.5e3}",
		"\"type\":\"identify\",\"traits\":{\"email\":\"A@B.C\","
		"\"company\":{\"name\":\"X\",\"size\":3},\"plan\":\"p\"}",
		"\"type\":\"page\",\"name\":\"n\",\"properties\":{\"path\":"
		"\"/a\",\"url\":\"u\"},\"context\":{\"traits\":{\"t\":1}}",
	};
	char a[4096], b[4096];
	char many[2048];
	size_t o = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(a, sizeof(a),
			 "{%s,\"userId\":\"u\",\"anonymousId\":\"an\","
			 "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			 bodies[i]);
		snprintf(b, sizeof(b),
			 "{%s,\"userId\":\"u\",\"anonymousId\":\"\\u0061n\","
			 "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
			 bodies[i]);
		assert_same_fields(a, b);
	}
	/* past the field limit, with a nested object on either side of it */
	for (int i = 0; i < 60; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      i == 47 || i == 49 ? "%s\"o%d\":{\"x\":1}"
							 : "%s\"p%d\":%d",
				      i ? "," : "", i, i);
	snprintf(
		a, sizeof(a),
		"{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\","
		"\"anonymousId\":\"an\",\"timestamp\":\"2026-01-01T00:00:00Z\","
		"\"properties\":{%s}}",
		many);
	snprintf(b, sizeof(b),
		 "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\","
		 "\"anonymousId\":\"\\u0061n\","
		 "\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":{%s}}",
		 many);
	assert_same_fields(a, b);
	assert_int_equal(ev.nprops, EVENT_MAX_FIELDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_track_analytics_js),
		cmocka_unit_test(test_identify_analytics_node),
		cmocka_unit_test(test_group_traits_mapping),
		cmocka_unit_test(test_empty_trait_key_skipped),
		cmocka_unit_test(test_page_and_screen),
		cmocka_unit_test(test_identity_precedence),
		cmocka_unit_test(test_identify_email_fallback),
		cmocka_unit_test(test_reject_no_identity),
		cmocka_unit_test(test_reject_not_json),
		cmocka_unit_test(test_reject_bom),
		cmocka_unit_test(test_reject_bad_numbers),
		cmocka_unit_test(test_numbers_valid),
		cmocka_unit_test(test_reject_not_object),
		cmocka_unit_test(test_reject_too_large),
		cmocka_unit_test(test_reject_too_deep),
		cmocka_unit_test(test_tokenizer_limits),
		cmocka_unit_test(test_tokenizer_corners),
		cmocka_unit_test(test_tokenizer_blocks),
		cmocka_unit_test(test_string_stop_bytes),
		cmocka_unit_test(test_top_keys_exact),
		cmocka_unit_test(test_context_last_wins),
		cmocka_unit_test(test_reject_bad_utf8),
		cmocka_unit_test(test_reject_names_name_field),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_field_types),
		cmocka_unit_test(test_reject_bad_timestamp),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_timestamp_fast_path),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_email_lowercased_in_scratch),
		cmocka_unit_test(test_email_key_trimmed),
		cmocka_unit_test(test_bad_then_good),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_pretty_printed),
		cmocka_unit_test(test_duplicate_keys_last_wins),
		cmocka_unit_test(test_messages_hide_personal_data),
		cmocka_unit_test(test_names_and_codes),
		cmocka_unit_test(test_err_may_be_null),
		cmocka_unit_test(test_timestamp_fast_path_dates),
		cmocka_unit_test(test_time_check_bound),
		cmocka_unit_test(test_joined_names_lengths),
		cmocka_unit_test(test_fields_plain_path),
		cmocka_unit_test(test_fields_past_limit_use_no_scratch),
		cmocka_unit_test(test_group_id_numeric),
		cmocka_unit_test(test_time_fallback_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
