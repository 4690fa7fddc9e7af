/*
 * test_event_line.c - unit tests for event_parse_line (engine/event.c),
 * the one-pass read of a JSON Lines line that simulate tries before it
 * splits a line itself.
 *
 * Every case compares it with the general path, memchr for the newline,
 * the carriage return, blank and too-large rules of daemon/simulate.c,
 * then event_parse: where the fast path takes a line, the general one
 * must accept the same event from a line of the same length; where it
 * declines, the general path says what it says anyway. Lines: valid
 * events compact and spaced, every rejection class, blank lines, CRLF,
 * trailing data, a newline at every offset (inside strings, between
 * tokens), the buffer ending at every offset, events at and around
 * EVENT_MAX_BYTES, the seed corpora; and whole streams split both ways,
 * which must give the same outcome line by line.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"

/* The same rules as daemon/simulate.c's sim_line. */
enum ref_kind {
	REF_NO_NEWLINE, /* the line goes on past the buffer */
	REF_BLANK,
	REF_TOO_LARGE,
	REF_REJECTED,
	REF_ACCEPTED
};

static struct event ev_ref, ev_fast; /* large: off the test stack */
static size_t lines_taken, lines_declined;

/* A few valid events as the SDKs send them, and some less usual ones. */
static const char *const valid_lines[] = {
	"{\"type\":\"track\",\"messageId\":\"ajs-1\",\"anonymousId\":\"a-1\","
	"\"userId\":\"usr_1\",\"timestamp\":\"2026-03-01T00:00:00.725Z\","
	"\"context\":{\"library\":{\"name\":\"analytics.js\",\"version\":"
	"\"4.1.0\"},\"userAgent\":\"Mozilla/5.0\"},\"event\":\"Email "
	"Opened\",\"properties\":{\"campaign\":\"spring-14\",\"plan\":"
	"\"free\"}}",
	"{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"2026-03-02"
	"T09:01:00Z\",\"traits\":{\"email\":\" Lead1@ACME.example \","
	"\"title\":\"VP Marketing\",\"company\":{\"name\":\"Acme\",\"size\":"
	"500},\"tags\":[1,2,{\"a\":null}],\"ok\":true,\"n\":-1.5e3}}",
	"{\"type\":\"page\",\"anonymousId\":\"anon-1\",\"sentAt\":"
	"\"2026-03-02T09:01:00Z\",\"name\":\"Pricing\","
	"\"context\":{\"page\":{\"path\":\"/pricing\",\"url\":\"https://e.x/"
	"pricing\"},\"traits\":{\"email\":\"a@b.example\"},\"groupId\":"
	"\"g9\"}}",
	"{\"type\":\"group\",\"userId\":\"u2\",\"receivedAt\":"
	"\"2026-03-02T09:01:00.5Z\",\"groupId\":\"grp_1\","
	"\"traits\":{\"name\":\"Company 1\",\"employees\":120}}",
	"{\"type\":\"screen\",\"userId\":42,\"timestamp\":"
	"\"2026-03-02T09:01:00Z\",\"name\":\"Home\"}",
	/* escapes, a newline among them, and UTF-8 */
	"{\"timestamp\":\"2026-03-02T09:01:00Z\","
	"\"type\":\"track\",\"userId\":\"u\\n3\",\"event\":\"caf\xc3\xa9 "
	"\\u00e9\\\"q\\\\\",\"properties\":{\"k\\t\":\"\xe2\x82\xac "
	"\xf0\x9f\x98\x80\"}}",
	/* white space between tokens: spaces, tabs, carriage returns */
	"{ \"timestamp\" : \"2026-03-02T09:01:00Z\", \"type\" : \"track\" "
	",\t\"userId\":\r\"u4\" , \"event\" : \"e\" ,"
	"\"properties\" : { \"a\" : [ 1 , 2 ] , \"b\" : { } } }",
	"{\"type\":\"track\",\"userId\":\"u5\",\"event\":\"e\","
	"\"timestamp\":\"2026-03-02T09:01:00Z\"}",
	"{\"userId\":\"u6\",\"timestamp\":\"2026-03-02T09:01:00Z\","
	"\"type\":\"track\",\"event\":\"e\",\"context\":{}"
	",\"context\":{\"traits\":{\"email\":\"x@y.example\"}}}",
	"{\"type\":\"track\",\"userId\":\"u7\",\"event\":\"e\",\"timestamp\":"
	"\"2026-03-29T01:30:00.123+02:00\",\"sentAt\":null}",
	/* long keys and strings across 16- and 64-byte windows */
	"{\"type\":\"track\",\"userId\":\"u8\",\"event\":\"e\","
	"\"originalTimestamp\":\"2026-03-29T01:29:59.000Z\",\"properties\":"
	"{\"a_rather_long_property_name_that_spans_windows\":\"and a value "
	"that is longer than sixty-four bytes, to cross a window or two "
	"on the way\"}}",
};

/* Lines the general path rejects, one or more of each reason. */
#define TS "\"timestamp\":\"2026-03-02T09:01:00Z\","
static const char *const rejected_lines[] = {
	"{not json",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}}",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"} x",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}{}",
	"{" TS "\"type\":\"track\",,\"userId\":\"u\"}",
	"{\"a\"::1}",
	"{\"a\":01}",
	"{\"a\":tru}",
	"{\"a\":\"\x01\"}",
	"{\"a\":\"\\x\"}",
	"42",
	"\"track\"",
	"[{\"type\":\"track\"}]",
	"null",
	"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
	"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	"{" TS "\"type\":\"track\",\"event\":\"e\"}",
	"{" TS "\"userId\":\"u\",\"event\":\"e\"}",
	"{" TS "\"type\":\"fly\",\"userId\":\"u\"}",
	"{" TS "\"type\":7,\"userId\":\"u\"}",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":5}",
	"{" TS "\"type\":\"track\",\"userId\":[1],\"event\":\"e\"}",
	"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"timestamp\":"
	"\"yesterday\"}",
	"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}",
	"{" TS "\"type\":\"track\",\"userId\":\"u\xff\",\"event\":\"e\"}",
	"{" TS "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}\xc3",
	"\xef\xbb\xbf{" TS
	"\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}",
	"{" TS
	"\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}\xef\xbb\xbf",
};

/* Blank lines and the like, with no newline of their own. */
static const char *const blank_lines[] = {
	"", " ", "\t", "\r", " \t\r ", "\r\r", "\v", "\f", " x",
};

/* Bytes that may hold a NUL. */
struct bytes {
	const char *p;
	size_t n;
};
#define BYTES(s)                                                               \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}

/* What may follow a line's object before its newline. */
static const struct bytes tails[] = {
	BYTES(""),     BYTES("\r"),       BYTES(" "),
	BYTES("\t"),   BYTES(" \t\r"),    BYTES("\r\r"),
	BYTES("\r "),  BYTES("  \r"),     BYTES(" x"),
	BYTES("}"),    BYTES("\v"),       BYTES("\f"),
	BYTES(","),    BYTES("\x85"),     BYTES("\xef\xbb\xbf"),
	BYTES("\0"),   BYTES(" \0"),      BYTES("{}"),
	BYTES("\"\""), BYTES("\xc2\xa0"),
};
#define NTAILS (sizeof(tails) / sizeof(*tails))

/* Printable text for an event, byte for byte, to compare two with. */
static void put_str(char **o, const char *end, struct strv s)
{
	*o += snprintf(*o, (size_t)(end - *o), "%zu:", s.len);
	for (size_t i = 0; i < s.len && *o < end - 5; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			*(*o)++ = (char)ch;
		else
			*o += snprintf(*o, (size_t)(end - *o), "\\x%02x", ch);
	}
	*o += snprintf(*o, (size_t)(end - *o), "|");
}

static void put_fields(char **o, const char *end, const struct event_field *f,
		       size_t n)
{
	*o += snprintf(*o, (size_t)(end - *o), "[%zu]", n);
	for (size_t i = 0; i < n; i++) {
		put_str(o, end, f[i].name);
		*o += snprintf(*o, (size_t)(end - *o),
			       "%d:%a:", (int)f[i].val.kind, f[i].val.num);
		put_str(o, end, f[i].val.str);
	}
}

static char *event_describe(const struct event *e)
{
	size_t cap = 1 << 20; /* four bytes for each of EVENT_MAX_BYTES */
	char *d = malloc(cap), *o = d, *end = d + cap;

	assert_non_null(d);
	o += snprintf(o, cap, "type %d ts %lld ", (int)e->type,
		      (long long)e->ts_ms);
	put_str(&o, end, e->message_id);
	put_str(&o, end, e->user_id);
	put_str(&o, end, e->anonymous_id);
	put_str(&o, end, e->email);
	put_str(&o, end, e->lead_key);
	put_str(&o, end, e->name);
	put_str(&o, end, e->path);
	put_str(&o, end, e->url);
	put_str(&o, end, e->group_id);
	put_fields(&o, end, e->props, e->nprops);
	put_fields(&o, end, e->traits, e->ntraits);
	return d;
}

static int is_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* The general path over the line at buf: its length (to the newline) in
 * *line_len, and what becomes of it. */
static enum ref_kind line_ref(const char *buf, size_t avail, size_t *line_len,
			      struct event_error *err)
{
	const char *nl = memchr(buf, '\n', avail);
	size_t len;

	if (nl == NULL)
		return REF_NO_NEWLINE;
	*line_len = len = (size_t)(nl - buf);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (is_blank(buf, len))
		return REF_BLANK;
	if (len > EVENT_MAX_BYTES)
		return REF_TOO_LARGE;
	return event_parse(buf, len, &ev_ref, err) == 0 ? REF_ACCEPTED
							: REF_REJECTED;
}

/*
 * Both paths over the avail bytes at buf (a private copy of exactly that
 * size, so ASan sees a read past the end). Returns whether the fast path
 * took the line; fails the test if it took one the general path would
 * not have accepted as that same event.
 */
static int line_check(const char *data, size_t avail)
{
	char *buf = malloc(avail ? avail : 1);
	struct event_error err = {EVENT_OK, ""};
	size_t ref_len = 0, fast_len = 0;
	enum ref_kind k;
	int fast;

	assert_non_null(buf);
	memcpy(buf, data, avail);
	k = line_ref(buf, avail, &ref_len, &err);
	fast = event_parse_line(buf, avail, &ev_fast, &fast_len);
	if (fast == 0) {
		if (k != REF_ACCEPTED)
			fail_msg("fast path took a line the general one "
				 "gives %d (%s): %.*s",
				 (int)k, err.msg, (int)avail, data);
		if (fast_len != ref_len)
			fail_msg("line length %zu, general path %zu: %.*s",
				 fast_len, ref_len, (int)avail, data);
		char *a = event_describe(&ev_ref),
		     *b = event_describe(&ev_fast);
		if (strcmp(a, b) != 0)
			fail_msg("events differ:\n%s\n%s", a, b);
		free(a);
		free(b);
		lines_taken++;
	} else {
		assert_int_equal(fast, -1);
		lines_declined++;
	}
	free(buf);
	return fast == 0;
}

/* body + tail + "\n" + after, through line_check with the buffer ending
 * at end of it (or everything if end is past it). */
static int line_check_parts(const char *body, size_t blen, const char *tail,
			    size_t tlen, const char *after, size_t end)
{
	size_t alen = strlen(after), n = blen + tlen + 1 + alen;
	char *b = malloc(n);
	int took;

	assert_non_null(b);
	memcpy(b, body, blen);
	memcpy(b + blen, tail, tlen);
	b[blen + tlen] = '\n';
	memcpy(b + blen + tlen + 1, after, alen);
	took = line_check(b, end < n ? end : n);
	free(b);
	return took;
}

/* A line after the newline, so a line's bytes are never the buffer's. */
static const char next_line[] =
	"{\"type\":\"track\",\"userId\":\"next\",\"event\":\"e\","
	"\"timestamp\":\"2026-03-02T09:01:00Z\"}\n";

static void test_valid_lines_taken(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_lines) / sizeof(*valid_lines);
	     i++) {
		const char *b = valid_lines[i];
		size_t n = strlen(b);
		/* the usual endings: taken, whatever comes next */
		assert_true(line_check_parts(b, n, "", 0, "", SIZE_MAX));
		assert_true(line_check_parts(b, n, "", 0, next_line, SIZE_MAX));
		assert_true(
			line_check_parts(b, n, "\r", 1, next_line, SIZE_MAX));
		assert_true(line_check_parts(b, n, " \t\r", 3, next_line,
					     SIZE_MAX));
		/* leading white space is the lexer's too */
		char *lead = malloc(n + 3);
		assert_non_null(lead);
		memcpy(lead, " \t\r", 3);
		memcpy(lead + 3, b, n);
		assert_true(line_check_parts(lead, n + 3, "", 0, "", SIZE_MAX));
		free(lead);
		/* no newline: the general path waits for more or ends */
		assert_false(line_check(b, n));
	}
}

static void test_tails(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_lines) / sizeof(*valid_lines);
	     i++) {
		for (size_t t = 0; t < NTAILS; t++) {
			const char *b = valid_lines[i];
			(void)line_check_parts(b, strlen(b), tails[t].p,
					       tails[t].n, next_line, SIZE_MAX);
		}
	}
}

static void test_rejected_lines_declined(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rejected_lines) / sizeof(*rejected_lines);
	     i++) {
		const char *b = rejected_lines[i];
		size_t n = strlen(b);
		assert_false(
			line_check_parts(b, n, "", 0, next_line, SIZE_MAX));
		/* a tail may make some valid: "}" */
		for (size_t t = 0; t < NTAILS; t++)
			(void)line_check_parts(b, n, tails[t].p, tails[t].n,
					       next_line, SIZE_MAX);
	}
	for (size_t i = 0; i < sizeof(blank_lines) / sizeof(*blank_lines);
	     i++) {
		const char *b = blank_lines[i];
		assert_false(line_check_parts(b, strlen(b), "", 0, next_line,
					      SIZE_MAX));
		assert_false(line_check(b, strlen(b)));
	}
}

/* A newline at every offset of every line: inside a string it is a
 * control byte, between tokens it ends the line early. */
static void test_newline_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_lines) / sizeof(*valid_lines);
	     i++) {
		const char *b = valid_lines[i];
		size_t n = strlen(b);
		char *c = malloc(n + 2);
		assert_non_null(c);
		for (size_t at = 0; at <= n; at++) {
			memcpy(c, b, at);
			c[at] = '\n';
			memcpy(c + at + 1, b + at, n - at);
			c[n + 1] = '\n';
			(void)line_check(c, n + 2);
			/* the same with the newline for a CR or space */
			if (at < n && (b[at] == ' ' || b[at] == '\r')) {
				memcpy(c, b, n);
				c[at] = '\n';
				c[n] = '\n';
				(void)line_check(c, n + 1);
			}
		}
		free(c);
	}
}

/* The buffer ending at every offset, past the newline too. */
static void test_buffer_end_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_lines) / sizeof(*valid_lines);
	     i++) {
		const char *b = valid_lines[i];
		size_t n = strlen(b);
		for (size_t end = 0; end <= n + 5; end++) {
			int took = line_check_parts(b, n, " \r", 2, "{", end);
			/* taken exactly when the newline is in the buffer */
			assert_int_equal(took, end >= n + 3);
		}
	}
	for (size_t i = 0; i < sizeof(rejected_lines) / sizeof(*rejected_lines);
	     i++) {
		const char *b = rejected_lines[i];
		size_t n = strlen(b);
		for (size_t end = 0; end <= n + 2; end++)
			assert_false(line_check_parts(b, n, "", 0, "", end));
	}
}

/* A valid event of exactly n bytes: a padded property. */
static char *event_of_size(size_t n)
{
	static const char head[] =
		"{\"type\":\"track\",\"userId\":\"big\",\"event\":\"e\","
		"\"timestamp\":\"2026-03-02T09:01:00Z\","
		"\"properties\":{\"pad\":\"";
	static const char foot[] = "\"}}";
	size_t h = sizeof(head) - 1, f = sizeof(foot) - 1;
	char *b = malloc(n + 8);

	assert_non_null(b);
	assert_true(n >= h + f);
	memcpy(b, head, h);
	memset(b + h, 'x', n - h - f);
	memcpy(b + n - f, foot, f);
	return b;
}

/* The too-large rule is the general path's: the event without its CR. */
static void test_size_limit(void **state)
{
	(void)state;
	for (size_t n = EVENT_MAX_BYTES - 3; n <= EVENT_MAX_BYTES + 2; n++) {
		char *b = event_of_size(n);
		int fits = n <= EVENT_MAX_BYTES;
		assert_int_equal(
			line_check_parts(b, n, "", 0, next_line, SIZE_MAX),
			fits);
		assert_int_equal(
			line_check_parts(b, n, "\r", 1, next_line, SIZE_MAX),
			fits);
		/* a blank that is not a CR counts */
		assert_int_equal(
			line_check_parts(b, n, " ", 1, next_line, SIZE_MAX),
			n + 1 <= EVENT_MAX_BYTES);
		assert_int_equal(
			line_check_parts(b, n, " \r", 2, next_line, SIZE_MAX),
			n + 1 <= EVENT_MAX_BYTES);
		assert_int_equal(
			line_check_parts(b, n, "\r\r", 2, next_line, SIZE_MAX),
			n + 1 <= EVENT_MAX_BYTES);
		free(b);
	}
}

static void stream_check(const char *buf, size_t n);

/* Every file of a seed corpus, as a line with the usual endings. */
static void corpus_lines(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];
	static char data[1 << 16];
	size_t files = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t n = fread(data, 1, sizeof(data), f);
		fclose(f);
		files++;
		(void)line_check(data, n);
		(void)line_check_parts(data, n, "", 0, next_line, SIZE_MAX);
		(void)line_check_parts(data, n, "\r", 1, "", SIZE_MAX);
		(void)line_check_parts(data, n, " \t", 2, next_line, SIZE_MAX);
		stream_check(data, n);
	}
	closedir(d);
	assert_true(files > 0);
}

static void test_corpora(void **state)
{
	(void)state;
	corpus_lines("../fuzz/corpus/event");
	corpus_lines("../fuzz/corpus/event-diff");
	corpus_lines("../fuzz/corpus/event-line");
}

/*
 * A whole stream read as simulate reads it, once with the fast path
 * first and once with memchr and event_parse only: the same outcome for
 * every line, by line number.
 */
static char *stream_outcomes(const char *buf, size_t n, int fast)
{
	size_t cap = 4 << 20, used = 0, beg = 0, line = 0;
	char *out = malloc(cap);
	struct event_error err;

	assert_non_null(out);
	out[0] = '\0';
	while (beg < n) {
		size_t len = 0;
		char *d = NULL;
		enum ref_kind k = REF_ACCEPTED;

		if (fast &&
		    event_parse_line(buf + beg, n - beg, &ev_fast, &len) == 0) {
			d = event_describe(&ev_fast);
			lines_taken++;
		} else {
			lines_declined += fast;
			k = line_ref(buf + beg, n - beg, &len, &err);
			if (k == REF_NO_NEWLINE) { /* the last line */
				char *last = malloc(n - beg + 1);
				assert_non_null(last);
				memcpy(last, buf + beg, n - beg);
				last[n - beg] = '\n';
				k = line_ref(last, n - beg + 1, &len, &err);
				if (k == REF_ACCEPTED)
					d = event_describe(&ev_ref);
				free(last);
			} else if (k == REF_ACCEPTED) {
				d = event_describe(&ev_ref);
			}
		}
		line++;
		int w = snprintf(
			out + used, cap - used, "%zu %d %s %s\n", line, (int)k,
			k == REF_REJECTED ? event_reason_code(err.reason) : "",
			k == REF_REJECTED ? err.msg
			: d               ? d
					  : "");
		assert_true(w > 0 && (size_t)w < cap - used);
		used += (size_t)w;
		free(d);
		beg += len + 1;
	}
	return out;
}

static void stream_check(const char *buf, size_t n)
{
	char *a = stream_outcomes(buf, n, 0), *b = stream_outcomes(buf, n, 1);

	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_streams(void **state)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	unsigned seed = 7;

	(void)state;
	assert_non_null(buf);
	/* every line with every tail, in an order a small PRNG picks */
	for (int k = 0; k < 600; k++) {
		seed = seed * 1103515245u + 12345u;
		unsigned r = seed >> 8;
		const char *b;
		size_t nv = sizeof(valid_lines) / sizeof(*valid_lines);
		size_t nr = sizeof(rejected_lines) / sizeof(*rejected_lines);
		size_t nb = sizeof(blank_lines) / sizeof(*blank_lines);
		if (r % 4 < 2)
			b = valid_lines[(r >> 2) % nv];
		else if (r % 4 == 2)
			b = rejected_lines[(r >> 2) % nr];
		else
			b = blank_lines[(r >> 2) % nb];
		struct bytes t = r % 3 == 0 ? tails[(r >> 5) % NTAILS]
					    : (struct bytes)BYTES("");
		size_t bl = strlen(b);
		assert_true(n + bl + t.n + 1 < cap);
		memcpy(buf + n, b, bl);
		memcpy(buf + n + bl, t.p, t.n);
		n += bl + t.n;
		buf[n++] = '\n';
	}
	stream_check(buf, n);
	/* and ending at every offset of its last few lines */
	for (size_t end = n > 2000 ? n - 2000 : 0; end < n; end += 7)
		stream_check(buf, end);
	free(buf);
}

/* The tests above must have exercised both outcomes a good many times. */
static void test_both_paths_seen(void **state)
{
	(void)state;
	assert_true(lines_taken > 1000);
	assert_true(lines_declined > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_lines_taken),
		cmocka_unit_test(test_tails),
		cmocka_unit_test(test_rejected_lines_declined),
		cmocka_unit_test(test_newline_everywhere),
		cmocka_unit_test(test_buffer_end_everywhere),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_corpora),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_both_paths_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
