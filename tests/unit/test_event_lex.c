/*
 * test_event_lex.c - unit tests for the tokenizer inside engine/event.c,
 * which it includes to reach the static functions.
 *
 * event_str_end_win, which ends a string from a 64-byte window of stop
 * bits kept across strings, must say exactly what event_str_end, the
 * block loop, says: the same closing offset, the same fault (reason,
 * text, offset) and the same escape flag, for every kind of byte that
 * stops a plain run at every offset around the 16-byte steps and the
 * window's end and near the end of the event. The key hash must find the
 * slot the key's name says, for the keys and their near misses. And the
 * tokens event_lex writes for valid events must be the ones jsmn (strict,
 * parent links) writes, as the rest of event.c reads them with jsmn's
 * meaning.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.c"
#include "event_lex_ref.h"

/*
 * Both scans of the string text at buf[i], the one through window w and
 * the block loop, and their side effects.
 */
static void str_ends_agree_at(const char *buf, size_t len, size_t i,
			      struct event_window *w)
{
	size_t a, b;

	if (!lex_str_ends_agree(buf, len, i, w, &a, &b))
		fail_msg("len %zu from %zu (window at %zu): window end %zu, "
			 "end %zu",
			 len, i, w->base, a, b);
}

/*
 * The same from every start up to last, on a copy that ends where the
 * event does, so a load past the end is caught under ASan and valgrind:
 * with a fresh window each time, with one window kept from start to start
 * as the lexer keeps it, and with one kept across random starts.
 */
static void str_ends_agree(const char *buf, size_t len, size_t last)
{
	char *copy = malloc(len);
	struct event_window kept = {0, 0}, jumpy = {0, 0};

	assert_non_null(copy);
	memcpy(copy, buf, len);
	for (size_t i = 0; i <= last; i++) {
		struct event_window fresh = {0, 0};
		str_ends_agree_at(copy, len, i, &fresh);
		str_ends_agree_at(copy, len, i, &kept);
		str_ends_agree_at(copy, len, (size_t)rand() % (last + 1),
				  &jumpy);
	}
	free(copy);
}

/* Bytes that stop a plain run, alone or as the start of a sequence. */
static const char *const lex_stops[] = {
	"\"",
	"\\n",
	"\\\"",
	"\\\\",
	"\\u00e9",
	"\\u12",
	"\\x",
	"\\",
	"\x01",
	"\x1f",
	"\xc3\xa9",
	"\xe2\x82\xac",
	"\xf0\x9f\x98\x80",
	"\x80",
	"\xc0\x80",
	"\xff",
	"\xe2\x82",
	"\xed\xa0\x80",
};

/*
 * Every stop kind at every offset p of an event of every length up to
 * 80 and of a few past two windows, scanned from every start up to p,
 * with or without a closing quote after it: blocks and windows end at
 * every place relative to both.
 */
static void test_str_end_every_stop_every_offset(void **state)
{
	static const size_t longer[] = {100, 127, 128, 129, 143};
	char buf[160];
	size_t nk = sizeof(lex_stops) / sizeof(lex_stops[0]);

	(void)state;
	for (size_t k = 0; k < nk; k++) {
		size_t sl = strlen(lex_stops[k]);
		for (size_t l = 1; l <= 85; l++) {
			size_t len = l <= 80 ? l : longer[l - 81];
			for (size_t p = 0; p + sl <= len; p++) {
				for (int close = 0; close < 2; close++) {
					memset(buf, 'a', len);
					memcpy(buf + p, lex_stops[k], sl);
					if (close && p + sl < len)
						buf[len - 1] = '"';
					str_ends_agree(buf, len, p);
				}
			}
		}
	}
}

/* Random events over an alphabet rich in stop bytes, from every start. */
static void test_str_end_random(void **state)
{
	static const char alpha[] = "aaaaaaaaaa\"\\nu0e\x01\xc3\xa9\x80 ";
	char buf[200];

	(void)state;
	srand(7);
	for (int r = 0; r < 4000; r++) {
		size_t len = 1 + (size_t)rand() % sizeof(buf);
		int sparse = rand() % 4; /* mostly plain: long runs */
		for (size_t j = 0; j < len; j++)
			buf[j] = sparse != 0 && rand() % 16 != 0
					 ? 'a'
					 : alpha[rand() % (sizeof(alpha) - 1)];
		str_ends_agree(buf, len, len);
	}
}

/* Lexes s; returns the token count, or -1 if the lexer stopped. */
static int lex(const char *s, size_t len, struct event_tok *tok,
	       struct event_slots *sl)
{
	static struct event ev;
	struct event_error err;
	struct event_ctx c = {.buf = s, .len = len, .ev = &ev, .err = &err};
	struct event_lexer x = {.c = &c, .tok = tok};

	return event_lex(&x, sl) < 0 ? -1 : x.ntok;
}

static const int lex_jsmn_type[] = {
	[JSMN_UNDEFINED] = TOK_UNDEFINED, [JSMN_OBJECT] = TOK_OBJECT,
	[JSMN_ARRAY] = TOK_ARRAY,         [JSMN_STRING] = TOK_STRING,
	[JSMN_PRIMITIVE] = TOK_PRIMITIVE,
};

/* The lexer's tokens for valid object s are jsmn's, field by field. */
static void lex_is_jsmn(const char *s)
{
	static struct event_tok tok[EVENT_MAX_TOKENS];
	static jsmntok_t jt[EVENT_MAX_TOKENS];
	struct event_slots sl;
	jsmn_parser p;
	size_t len = strlen(s);
	int n = lex(s, len, tok, &sl), m;

	jsmn_init(&p);
	m = jsmn_parse(&p, s, len, jt, EVENT_MAX_TOKENS);
	if (n < 0 || n != m)
		fail_msg("lexer %d tokens, jsmn %d, for: %s", n, m, s);
	for (int k = 0; k < n; k++)
		if ((int)tok[k].type != lex_jsmn_type[jt[k].type] ||
		    tok[k].start != jt[k].start || tok[k].end != jt[k].end ||
		    tok[k].size != jt[k].size || tok[k].parent != jt[k].parent)
			fail_msg("token %d differs from jsmn's in: %s", k, s);
}

/* Strings of every length around the window's 64 bytes, in every place. */
static void test_lex_tokens_are_jsmn(void **state)
{
	char ev[1024], val[128];
	static const char *const shapes[] = {
		"{\"type\":\"track\",\"event\":\"%s\",\"userId\":\"u1\"}",
		"{\"a\":[\"%s\",1,true,null,{\"b\":\"%s\"}],\"c\":{}}",
		"{ \"k\" : \"%s\" , \"l\" : [ \"%s\" , -1.5e3 ] }",
		"{\"context\":{\"page\":{\"path\":\"%s\"},\"traits\":"
		"{\"x\":\"%s\"}},\"properties\":{\"u\\n\":\"%s\\u00e9\"}}",
		"{\"%s\":\"\xc3\xa9%s\"}",
	};

	(void)state;
	for (size_t n = 0; n < 100; n++) {
		for (size_t j = 0; j < n; j++)
			val[j] = (char)('a' + j % 26);
		val[n] = '\0';
		for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]);
		     k++) {
			snprintf(ev, sizeof(ev), shapes[k], val, val, val);
			lex_is_jsmn(ev);
		}
	}
}

/* The sample events the lexer accepts (some are broken on purpose). */
static void test_lex_sample_events_are_jsmn(void **state)
{
	static struct event_tok tok[EVENT_MAX_TOKENS];
	FILE *f = fopen("../../config/sample-events.jsonl", "r");
	char line[8192];
	struct event_slots sl;
	int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (lex(line, strlen(line), tok, &sl) < 0)
			continue;
		lex_is_jsmn(line);
		n++;
	}
	fclose(f);
	assert_true(n > 10);
}

/*
 * Key k (n bytes) as a quoted key at every place from the start of an
 * event to its end, each slot lookup against the plain one.
 */
static void lex_key_check(const char *k, size_t n)
{
	char *buf = malloc(n + 48);

	assert_non_null(buf);
	for (size_t pre = 1; pre <= 40; pre++) {
		/* the event ends pre - 1 bytes after the key's quote */
		for (int ctx = 0; ctx < 2; ctx++) {
			size_t off =
				lex_key_slot_at(buf, n + 1 + pre, k, n, ctx);
			size_t want = lex_key_want(k, n, ctx);
			if (off != want)
				fail_msg("key '%.*s' (%s, %zu bytes after): "
					 "slot %zu, wanted %zu",
					 (int)n, k, ctx ? "context" : "top",
					 pre - 1, off, want);
		}
	}
	free(buf);
}

/*
 * Every key the lexer notes, and every near miss of each: each byte
 * changed, one byte short, one byte more, and keys of every length that
 * share their first four bytes (the hash's) with it.
 */
static void test_key_slots_by_name(void **state)
{
	char k[64];

	(void)state;
	for (size_t j = 0; j < sizeof(lex_keys) / sizeof(lex_keys[0]); j++) {
		const char *name = lex_keys[j].name;
		size_t n = strlen(name);
		lex_key_check(name, n);
		for (size_t p = 0; p < n; p++) {
			memcpy(k, name, n);
			k[p] ^= 0x20;
			lex_key_check(k, n);
			k[p] = '_';
			lex_key_check(k, n);
		}
		lex_key_check(name, n - 1);
		for (size_t m = 0; m < 40; m++) {
			memset(k, 'e', m);
			memcpy(k, name, m < n ? m : n);
			lex_key_check(k, m);
		}
		memcpy(k, name, n);
		k[n] = 'x';
		lex_key_check(k, n + 1);
	}
	lex_key_check("", 0);
	lex_key_check("\\u0074ype", 10);
}

/* Random keys over the letters of the names, all lengths up to 20. */
static void test_key_slots_random(void **state)
{
	static const char letters[] = "typenamvgrouIdscxlkiTA";
	char k[24];

	(void)state;
	srand(11);
	for (int r = 0; r < 20000; r++) {
		size_t n = (size_t)rand() % 21;
		for (size_t j = 0; j < n; j++)
			k[j] = letters[rand() % (sizeof(letters) - 1)];
		lex_key_check(k, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_end_every_stop_every_offset),
		cmocka_unit_test(test_str_end_random),
		cmocka_unit_test(test_lex_tokens_are_jsmn),
		cmocka_unit_test(test_lex_sample_events_are_jsmn),
		cmocka_unit_test(test_key_slots_by_name),
		cmocka_unit_test(test_key_slots_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
