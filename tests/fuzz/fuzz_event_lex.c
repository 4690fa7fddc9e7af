/*
 * fuzz_event_lex.c - libFuzzer harness for the tokenizer inside
 * engine/event.c, which it includes to reach the static functions.
 *
 * Aborts when event_str_end_win, which ends a string from a 64-byte window
 * of stop bits kept across strings, says anything other than
 * event_str_end, the block loop (closing offset, fault reason, text and
 * offset, escape flag), from any start in the input; when the slot the key hash
 * finds for the input's first bytes as a key is not the one its name says; and
 * when the tokens event_lex writes for an input it accepts differ from jsmn's
 * (strict, parent links), whose meaning the rest of event.c reads them
 * with.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.c"
#include "../unit/event_lex_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lex_fail(const char *what, size_t at)
{
	fprintf(stderr, "fuzz_event_lex: %s (at %zu)\n", what, at);
	abort();
}

static void lex_str_end(const char *buf, size_t len, size_t i,
			struct event_window *w)
{
	size_t a, b;

	if (!lex_str_ends_agree(buf, len, i, w, &a, &b))
		lex_fail("window end differs from event_str_end", i);
}

/* From every start, with a fresh window and with one kept, as the lexer
 * keeps it, and with one kept across starts the input's bytes pick. */
static void lex_str_ends(const char *buf, size_t len)
{
	struct event_window kept = {0, 0}, jumpy = {0, 0};

	for (size_t i = 0; i <= len && i < 512; i++) {
		struct event_window fresh = {0, 0};
		lex_str_end(buf, len, i, &fresh);
		lex_str_end(buf, len, i, &kept);
		lex_str_end(buf, len,
			    (size_t)(unsigned char)buf[i % len] % (len + 1),
			    &jumpy);
	}
}

/* The input's first bytes (up to its first quote) as a quoted key. */
static void lex_key(const char *data, size_t size)
{
	size_t n = 0;

	while (n < size && n < 40 && data[n] != '"')
		n++;
	for (size_t tail = 0; tail < 20; tail += 19) {
		size_t len = n + 2 + tail;
		char *ev = malloc(len); /* so overreads are caught */
		if (ev == NULL)
			return;
		for (int ctx = 0; ctx < 2; ctx++)
			if (lex_key_slot_at(ev, len, data, n, ctx) !=
			    lex_key_want(data, n, ctx))
				lex_fail("key slot differs from its name's", n);
		free(ev);
	}
}

static const int lex_jsmn_type[] = {
	[JSMN_UNDEFINED] = TOK_UNDEFINED, [JSMN_OBJECT] = TOK_OBJECT,
	[JSMN_ARRAY] = TOK_ARRAY,         [JSMN_STRING] = TOK_STRING,
	[JSMN_PRIMITIVE] = TOK_PRIMITIVE,
};

static void lex_tokens(const char *buf, size_t len)
{
	static struct event_tok tok[EVENT_MAX_TOKENS];
	static jsmntok_t jt[EVENT_MAX_TOKENS];
	struct event_ctx c = {.buf = buf, .len = len};
	struct event_lexer x = {.c = &c, .tok = tok};
	struct event_slots s;
	jsmn_parser p;
	int m;

	if (event_lex(&x, &s) < 0 || !event_is_container(&tok[0]))
		return; /* jsmn wants a delimiter after a root scalar */
	jsmn_init(&p);
	m = jsmn_parse(&p, buf, len, jt, EVENT_MAX_TOKENS);
	if (m != x.ntok)
		lex_fail("token count differs from jsmn's", (size_t)m);
	for (int k = 0; k < m; k++)
		if ((int)tok[k].type != lex_jsmn_type[jt[k].type] ||
		    tok[k].start != jt[k].start || tok[k].end != jt[k].end ||
		    tok[k].size != jt[k].size || tok[k].parent != jt[k].parent)
			lex_fail("token differs from jsmn's", (size_t)k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size == 0 || size > EVENT_MAX_BYTES)
		return 0;
	buf = malloc(size); /* exactly the input: overreads are caught */
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	lex_str_ends(buf, size);
	lex_key(buf, size);
	lex_tokens(buf, size);
	free(buf);
	return 0;
}
