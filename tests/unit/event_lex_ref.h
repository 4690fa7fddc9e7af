/*
 * event_lex_ref.h - what the unit tests and the fuzzer check event.c's
 * lexer against: the keys it notes, looked up the plain way (by name),
 * the slot its key hash finds for a key, and the string end its window
 * finds, next to the block loop's. Include
 * after engine/event.c, whose static functions and types it names.
 */
#ifndef LEADROUTER_EVENT_LEX_REF_H
#define LEADROUTER_EVENT_LEX_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const struct {
	const char *name;
	size_t top, ctx; /* offsets in struct event_slots, or SIZE_MAX */
} lex_keys[] = {
	{"type", offsetof(struct event_slots, type), SIZE_MAX},
	{"event", offsetof(struct event_slots, event), SIZE_MAX},
	{"messageId", offsetof(struct event_slots, message_id), SIZE_MAX},
	{"userId", offsetof(struct event_slots, user_id), SIZE_MAX},
	{"anonymousId", offsetof(struct event_slots, anonymous_id), SIZE_MAX},
	{"timestamp", offsetof(struct event_slots, timestamp), SIZE_MAX},
	{"originalTimestamp", offsetof(struct event_slots, original_timestamp),
	 SIZE_MAX},
	{"sentAt", offsetof(struct event_slots, sent_at), SIZE_MAX},
	{"receivedAt", offsetof(struct event_slots, received_at), SIZE_MAX},
	{"name", offsetof(struct event_slots, name), SIZE_MAX},
	{"groupId", offsetof(struct event_slots, group_id),
	 offsetof(struct event_slots, ctx_group_id)},
	{"traits", offsetof(struct event_slots, traits),
	 offsetof(struct event_slots, ctx_traits)},
	{"properties", offsetof(struct event_slots, properties), SIZE_MAX},
	{"context", offsetof(struct event_slots, context), SIZE_MAX},
	{"page", SIZE_MAX, offsetof(struct event_slots, ctx_page)},
};

static size_t lex_key_want(const char *k, size_t n, bool ctx)
{
	for (size_t j = 0; j < sizeof(lex_keys) / sizeof(lex_keys[0]); j++)
		if (strlen(lex_keys[j].name) == n &&
		    memcmp(lex_keys[j].name, k, n) == 0)
			return ctx ? lex_keys[j].ctx : lex_keys[j].top;
	return SIZE_MAX;
}

/*
 * The slot (an offset in struct event_slots, or SIZE_MAX) the key hash
 * finds for key k of n bytes written quoted at the start of buf, an
 * event of len bytes (len >= n + 2) padded with 'x'.
 */
static size_t lex_key_slot_at(char *buf, size_t len, const char *k, size_t n,
			      bool ctx)
{
	struct event_slots s;
	int *got;

	memset(buf, 'x', len);
	buf[0] = '"';
	memcpy(buf + 1, k, n);
	buf[n + 1] = '"';
	got = ctx ? event_ctx_slot_for(buf, len, 1, n, &s)
		  : event_slot_for(buf, len, 1, n, &s);
	return got == NULL ? SIZE_MAX : (size_t)((char *)got - (char *)&s);
}

/*
 * Ends the string text at buf[i] through window w and by the block loop;
 * true when both say the same: closing offset (*win, *loop), fault
 * reason, text and offset, and escape flag.
 */
static bool lex_str_ends_agree(const char *buf, size_t len, size_t i,
			       struct event_window *w, size_t *win,
			       size_t *loop)
{
	struct event_ctx c1 = {.buf = buf, .len = len}, c2 = c1;
	struct event_lexer x1 = {.c = &c1}, x2 = {.c = &c2};

	*win = event_str_end_win(&x1, w, buf, len, i);
	*loop = event_str_end(&x2, buf, len, i);
	return *win == *loop && x1.reason == x2.reason && x1.at == x2.at &&
	       c1.has_esc == c2.has_esc &&
	       (x1.what == x2.what || (x1.what != NULL && x2.what != NULL &&
				       strcmp(x1.what, x2.what) == 0));
}

#endif
