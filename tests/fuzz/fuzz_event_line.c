/*
 * fuzz_event_line.c - differential libFuzzer harness for event_parse_line
 * (engine/event.c), the one-pass read of a JSON Lines line simulate tries
 * first, against the general path: memchr for the newline, simulate's
 * carriage return, blank and too-large rules, then event_parse.
 *
 * The input is a buffer of lines, read line by line as simulate reads
 * them, from a private copy of exactly its size so that ASan sees any
 * read past the end. Aborts when the fast path takes a line the general
 * path would not accept, or gives it another length or another event.
 * Needs only engine/event.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line_fail(const char *what, size_t at)
{
	fprintf(stderr, "fuzz_event_line: %s (line at %zu)\n", what, at);
	abort();
}

static void line_strv(struct strv a, struct strv b, size_t at)
{
	if (a.len != b.len || (a.len != 0 && memcmp(a.p, b.p, a.len) != 0))
		line_fail("a string of the events differs", at);
}

static void line_fields(const struct event_field *a,
			const struct event_field *b, size_t n, size_t at)
{
	for (size_t i = 0; i < n; i++) {
		line_strv(a[i].name, b[i].name, at);
		line_strv(a[i].val.str, b[i].val.str, at);
		if (a[i].val.kind != b[i].val.kind ||
		    memcmp(&a[i].val.num, &b[i].val.num, sizeof(double)) != 0)
			line_fail("a field value differs", at);
	}
}

static void line_events(const struct event *a, const struct event *b, size_t at)
{
	if (a->type != b->type || a->ts_ms != b->ts_ms ||
	    a->nprops != b->nprops || a->ntraits != b->ntraits)
		line_fail("the events differ", at);
	line_strv(a->message_id, b->message_id, at);
	line_strv(a->user_id, b->user_id, at);
	line_strv(a->anonymous_id, b->anonymous_id, at);
	line_strv(a->email, b->email, at);
	line_strv(a->lead_key, b->lead_key, at);
	line_strv(a->name, b->name, at);
	line_strv(a->path, b->path, at);
	line_strv(a->url, b->url, at);
	line_strv(a->group_id, b->group_id, at);
	line_fields(a->props, b->props, a->nprops, at);
	line_fields(a->traits, b->traits, a->ntraits, at);
}

static int line_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event ev, fast;
	struct event_error err;
	char *buf = malloc(size ? size : 1);
	size_t beg = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	while (beg < size) {
		const char *p = buf + beg;
		const char *nl = memchr(p, '\n', size - beg);
		size_t fast_len = 0, len;
		int took = event_parse_line(p, size - beg, &fast, &fast_len);

		if (nl == NULL) {
			if (took == 0)
				line_fail("took a line without a newline", beg);
			break;
		}
		len = (size_t)(nl - p);
		if (took == 0) {
			size_t n = len - (len > 0 && p[len - 1] == '\r');
			if (fast_len != len)
				line_fail("line lengths differ", beg);
			if (line_blank(p, n) || n > EVENT_MAX_BYTES ||
			    event_parse(p, n, &ev, &err) != 0)
				line_fail("took a line the general path does "
					  "not accept",
					  beg);
			line_events(&ev, &fast, beg);
		} else if (took != -1) {
			line_fail("neither 0 nor -1", beg);
		}
		beg += len + 1;
	}
	free(buf);
	return 0;
}
