/*
 * fuzz_event.c - libFuzzer harness for the event parser (engine/event.c).
 *
 * Feeds arbitrary bytes to event_parse and checks the promises the rest of
 * the daemon relies on: a result is either an accepted event whose slices
 * lie inside the input or the event's scratch, or a rejection with a known
 * reason code and a message; and that the timestamp fast path agrees with
 * the full parser. Needs only engine/event.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_slice_check(const struct event *ev, const char *buf,
			     size_t len, struct strv s)
{
	const char *sc = ev->scratch;

	if (s.len == 0)
		return;
	if (s.p >= buf && s.p + s.len <= buf + len)
		return;
	if (s.p >= sc && s.p + s.len <= sc + ev->scratch_used)
		return;
	abort(); /* a slice points outside its two allowed homes */
}

static void fuzz_fields_check(const struct event *ev, const char *buf,
			      size_t len, const struct event_field *f, size_t n)
{
	if (n > EVENT_MAX_FIELDS)
		abort();
	for (size_t i = 0; i < n; i++) {
		fuzz_slice_check(ev, buf, len, f[i].name);
		fuzz_slice_check(ev, buf, len, f[i].val.str);
	}
}

static void fuzz_event_check(const struct event *ev, const char *buf,
			     size_t len)
{
	if (ev->lead_key.len == 0 || (unsigned)ev->type >= EVENT_TYPE_COUNT)
		abort();
	fuzz_slice_check(ev, buf, len, ev->message_id);
	fuzz_slice_check(ev, buf, len, ev->user_id);
	fuzz_slice_check(ev, buf, len, ev->anonymous_id);
	fuzz_slice_check(ev, buf, len, ev->email);
	fuzz_slice_check(ev, buf, len, ev->lead_key);
	fuzz_slice_check(ev, buf, len, ev->name);
	fuzz_slice_check(ev, buf, len, ev->path);
	fuzz_slice_check(ev, buf, len, ev->url);
	fuzz_slice_check(ev, buf, len, ev->group_id);
	fuzz_fields_check(ev, buf, len, ev->props, ev->nprops);
	fuzz_fields_check(ev, buf, len, ev->traits, ev->ntraits);
}

/* The timestamp fast path and the full parser agree on any bytes. */
static void fuzz_timestamp_check(const char *buf, size_t len)
{
	int64_t fast = 0, full = 0;
	int rf = event_timestamp_parse(buf, len, &fast);

	if (rf != event_timestamp_parse_full(buf, len, &full) ||
	    (rf == 0 && fast != full))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event ev;
	struct event_error err;
	/* a private copy so ASan catches any read past the end */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_timestamp_check(buf, size);
	if (event_parse(buf, size, &ev, &err) == 0) {
		fuzz_event_check(&ev, buf, size);
	} else if (err.reason <= EVENT_OK || err.reason >= EVENT_REASON_COUNT ||
		   err.msg[0] == '\0' ||
		   memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort();
	}
	free(buf);
	return 0;
}
