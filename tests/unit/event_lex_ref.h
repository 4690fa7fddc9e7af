/*
 * event_lex_ref.h - the keys event.c's lexer notes, looked up the plain
 * way (by name), for the unit tests and the fuzzer that check the key
 * hash against it. Include after engine/event.c, whose struct event_slots
 * it names.
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

#endif
