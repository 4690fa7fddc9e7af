/*
 * fuzz_event_diff.c - differential libFuzzer harness for the event parser.
 *
 * Runs two event parsers on the same bytes: engine/event.c as it is, and
 * the reference, the jsmn-based parser it replaced, built from git history
 * with its external names prefixed ref_ (see the fuzz-diff target in the
 * Makefile). Aborts when they differ in acceptance, in the reason code of
 * a rejection, or in any field of an accepted event. Messages may differ:
 * the new one names the offset of the problem where the old one could not.
 * Since then the parser has changed on purpose where the reference is
 * wrong, and this harness reports those inputs too: white space around
 * an e-mail in the lead key, a numeric groupId, receivedAt/sentAt as
 * event time, fields past the 48 kept. It proved the rewrite; it is not a
 * check to run on later changes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int ref_event_parse(const char *buf, size_t len, struct event *ev,
		    struct event_error *err);

static void diff_fail(const char *what)
{
	fprintf(stderr, "fuzz_event_diff: parsers differ: %s\n", what);
	abort();
}

static void diff_strv(struct strv a, struct strv b, const char *what)
{
	if (a.len != b.len || (a.len != 0 && memcmp(a.p, b.p, a.len) != 0))
		diff_fail(what);
}

static void diff_fields(const struct event_field *a,
			const struct event_field *b, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		diff_strv(a[i].name, b[i].name, what);
		if (a[i].val.kind != b[i].val.kind)
			diff_fail(what);
		diff_strv(a[i].val.str, b[i].val.str, what);
		if (memcmp(&a[i].val.num, &b[i].val.num, sizeof(double)) != 0)
			diff_fail(what);
	}
}

static void diff_events(const struct event *a, const struct event *b)
{
	if (a->type != b->type)
		diff_fail("type");
	diff_strv(a->message_id, b->message_id, "message_id");
	diff_strv(a->user_id, b->user_id, "user_id");
	diff_strv(a->anonymous_id, b->anonymous_id, "anonymous_id");
	diff_strv(a->email, b->email, "email");
	diff_strv(a->lead_key, b->lead_key, "lead_key");
	diff_strv(a->name, b->name, "name");
	diff_strv(a->path, b->path, "path");
	diff_strv(a->url, b->url, "url");
	diff_strv(a->group_id, b->group_id, "group_id");
	if (a->ts_ms != b->ts_ms)
		diff_fail("timestamp");
	if (a->nprops != b->nprops)
		diff_fail("property count");
	diff_fields(a->props, b->props, a->nprops, "properties");
	if (a->ntraits != b->ntraits)
		diff_fail("trait count");
	diff_fields(a->traits, b->traits, a->ntraits, "traits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event ev, ref;
	struct event_error err, ref_err;
	/* an exact-size copy, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	int r, rr;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	r = event_parse(buf, size, &ev, &err);
	rr = ref_event_parse(buf, size, &ref, &ref_err);
	if (r != rr)
		diff_fail(r == 0 ? "accepted, reference rejected"
				 : "rejected, reference accepted");
	if (r != 0 && err.reason != ref_err.reason) {
		fprintf(stderr, "new %s (%s), reference %s (%s)\n",
			event_reason_code(err.reason), err.msg,
			event_reason_code(ref_err.reason), ref_err.msg);
		diff_fail("reason");
	}
	if (r == 0)
		diff_events(&ev, &ref);
	free(buf);
	return 0;
}
