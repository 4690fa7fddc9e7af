/*
 * event.c - the Segment Spec event parser on the per-event hot path.
 *
 * One message is checked and read in one linear pass over its bytes and no
 * allocation: a strict RFC 8259 tokenizer that checks every rule where its
 * byte is (separators, escapes, number grammar, literals, nesting depth,
 * UTF-8, white space only between tokens) and writes jsmn-shaped tokens to
 * an array on the stack, noting on the way where the wanted top-level
 * values and those of the top-level context are (keys found by a perfect
 * hash and one sixteen-byte compare). Strings end at the first byte that
 * ends a plain run (quote, backslash, control, non-ASCII), found in a
 * 64-byte window of such bits kept from string to string; only non-ASCII
 * bytes are decoded, so ASCII events need no UTF-8 pass. Only the
 * subtrees the event needs (properties, traits, context.page) are walked
 * again, by their key counts; every other subtree is skipped by its end
 * offset.
 *
 * It replaced jsmn (1.1.0, strict) and three passes around it: a byte
 * pre-scan that copied the event, NUL-terminated, for jsmn; jsmn itself,
 * which even in strict mode lets "[1,,2]", "{\"a\"::1}" and invalid
 * numbers through; and a pass over the tokens to close those holes. No
 * faster C tokenizer was at hand, and jsmn alone cost more than the whole
 * budget for this step. On the ~400-byte events of the 1M-event benchmark
 * (median of 5 rounds on a busy 2-core VM): jsmn alone 680 ns per event,
 * the old three passes with it 825 ns, this tokenizer 250 ns; event_parse
 * as a whole went from about 1030 to 550 ns. Under callgrind the
 * tokenizing went from 7,960 to 2,630 instructions per event (event_parse
 * from 8,810 to 3,670; 3,290 since). The key hash and the string window
 * then cut event_parse's time by 6 to 11 per cent on those events (median
 * per-block ratio, both parsers alternating in one process) while adding
 * some 120 instructions (3,400): they take mispredicted branches and a
 * load per string off the path from one string to the next. A malformed
 * event still gets the old parser's reason: on that path only,
 * event_reject runs jsmn again to see what it would have said first.
 *
 * JSON Lines readers (simulate) call event_parse_line instead, which
 * lexes with every byte buffered after the line start, a newline not
 * being white space to it, and takes the line only when its root object
 * is followed by blanks and its newline: the line's end then comes from
 * the lexer, with no newline search of its own (splitting and parsing a
 * line of the benchmark's stream takes some 8% less time, 22 ns, so:
 * one process alternating both). Anything else is left to the caller's
 * split and event_parse. Both share one function, so that a PGO build,
 * trained with simulate, optimises the exact path the daemon takes as
 * well; for that, too, an exact message's last strings go through the
 * 64-byte window (over its last 64 bytes), as a line's do, not the block
 * loop.
 *
 * Strings are handed out as slices of the caller's buffer; only strings
 * that carry escapes, flattened "parent.child" names and the lower-cased,
 * trimmed e-mail lead key are written to ev->scratch; escapes are decoded by
 * unescape.h, which the feedback parser shares.
 */
#include "event.h"

#include <float.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <jsmn.h>

#include "unescape.h"

/*
 * The token array the rest of this file reads, with jsmn's meaning, as
 * this parser was first written against jsmn: start and end are byte
 * offsets, a string's without its quotes; size counts an object's keys or
 * an array's elements, and is 1 for a key (its value); a key's parent is
 * its object, a member value's parent its key, an element's parent its
 * array.
 */
enum event_tok_type {
	TOK_UNDEFINED = 0,
	TOK_OBJECT = 1,
	TOK_ARRAY = 2,
	TOK_STRING = 3,
	TOK_PRIMITIVE = 4
};

struct event_tok {
	enum event_tok_type type;
	int start;
	int end;
	int size;
	int parent;
};

/* Where the top-level values the parser reads were found; -1 if absent. */
struct event_slots {
	int type;
	int event;
	int message_id;
	int user_id;
	int anonymous_id;
	int timestamp;
	int original_timestamp;
	int sent_at;
	int received_at;
	int name;
	int group_id;
	int traits;
	int properties;
	int context;
	/* in the last top-level context: its traits, page and groupId */
	int ctx_traits;
	int ctx_page;
	int ctx_group_id;
};

/* Where the context values the parser reads were found; -1 if absent. */
struct event_context {
	int traits;
	int page_path;
	int page_url;
	int group_id;
};

struct event_ctx {
	const char *buf;
	size_t len;
	const struct event_tok *tok;
	int ntok;
	bool has_esc; /* some string holds a backslash */
	struct event *ev;
	struct event_error *err;
};

static const char *const event_reason_codes[EVENT_REASON_COUNT] = {
	[EVENT_OK] = "ok",
	[EVENT_ERR_NOT_JSON] = "not_json",
	[EVENT_ERR_NOT_OBJECT] = "not_object",
	[EVENT_ERR_TOO_LARGE] = "too_large",
	[EVENT_ERR_TOO_DEEP] = "too_deep",
	[EVENT_ERR_NO_IDENTITY] = "no_identity",
	[EVENT_ERR_MISSING_TYPE] = "missing_type",
	[EVENT_ERR_UNKNOWN_TYPE] = "unknown_type",
	[EVENT_ERR_FIELD_TYPE] = "wrong_field_type",
	[EVENT_ERR_BAD_TIMESTAMP] = "bad_timestamp",
	[EVENT_ERR_BAD_UTF8] = "invalid_utf8",
};

static const char *const event_type_names[EVENT_TYPE_COUNT] = {
	[EVENT_IDENTIFY] = "identify", [EVENT_TRACK] = "track",
	[EVENT_PAGE] = "page",         [EVENT_SCREEN] = "screen",
	[EVENT_GROUP] = "group",
};

const char *event_reason_code(enum event_reason r)
{
	if ((unsigned)r >= EVENT_REASON_COUNT)
		return "unknown";
	return event_reason_codes[r];
}

const char *event_type_name(enum event_type t)
{
	if ((unsigned)t >= EVENT_TYPE_COUNT)
		return "unknown";
	return event_type_names[t];
}

/* Constant-length compares, which the compiler turns into a load or two. */
int event_type_parse(const char *s, size_t len)
{
	switch (len) {
	case 4:
		return memcmp(s, "page", 4) == 0 ? EVENT_PAGE : -1;
	case 5:
		return memcmp(s, "track", 5) == 0   ? EVENT_TRACK
		       : memcmp(s, "group", 5) == 0 ? EVENT_GROUP
						    : -1;
	case 6:
		return memcmp(s, "screen", 6) == 0 ? EVENT_SCREEN : -1;
	case 8:
		return memcmp(s, "identify", 8) == 0 ? EVENT_IDENTIFY : -1;
	default:
		return -1;
	}
}

__attribute__((format(printf, 3, 4))) static int
event_fail(struct event_ctx *c, enum event_reason r, const char *fmt, ...)
{
	va_list ap;

	/* A rejected event must not look half-filled to a careless caller. */
	c->ev->nprops = 0;
	c->ev->ntraits = 0;
	c->ev->lead_key = STRV_NULL;
	if (c->err == NULL)
		return -1;
	c->err->reason = r;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- byte level: strings sixteen bytes at a time, UTF-8 ---- */

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t event_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* E0 needs A0.. (no overlongs), ED needs ..9F (no surrogates)
		 */
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;
		if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* F0 needs 90.. (no overlongs), F4 needs ..8F (<= U+10FFFF) */
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
		if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static bool event_utf8_valid(const char *buf, size_t len, size_t from)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = from;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = event_utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/*
 * Bit k is set when byte k of the sixteen at p stops a string's plain run:
 * a quote, a backslash, a control byte or a non-ASCII byte. Read as signed
 * bytes, the last two are exactly the ones below 0x20; flipping bit 1
 * turns the quote into 0x20 and moves no other byte across 0x21, so one
 * signed compare finds three of the four kinds.
 */
#ifdef __SSE2__
static inline unsigned event_str_stops(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i t = _mm_xor_si128(v, _mm_set1_epi8(0x02));
	__m128i l = _mm_cmpgt_epi8(_mm_set1_epi8(0x21), t);
	__m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(l, b));
}
#else
static inline unsigned event_str_stops(const char *p)
{
	unsigned m = 0;

	for (unsigned k = 0; k < 16; k++) {
		signed char ch = (signed char)p[k];
		m |= (unsigned)(ch == '"' || ch == '\\' || ch < 0x20) << k;
	}
	return m;
}
#endif

/*
 * Offset of the first stop byte at or after i, or len if there is none.
 * No load reaches past buf + len: a last partial block is read as the
 * final sixteen bytes of the event with the lanes before i shifted out,
 * and an event shorter than sixteen bytes from a padded copy.
 */
static inline size_t event_str_stop(const char *buf, size_t len, size_t i)
{
	unsigned m;

	for (; i + 16 <= len; i += 16) {
		m = event_str_stops(buf + i);
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	if (i >= len)
		return len;
	if (len >= 16) {
		m = event_str_stops(buf + len - 16) >> (i + 16 - len);
	} else {
		char pad[16];
		memset(pad, 'x', sizeof(pad));
		memcpy(pad, buf, len);
		m = event_str_stops(pad) >> i;
	}
	return m != 0 ? i + (size_t)__builtin_ctz(m) : len;
}

static inline bool event_is_hex(char h)
{
	char l = (char)(h | 0x20);

	return (h >= '0' && h <= '9') || (l >= 'a' && l <= 'f');
}

/* Length of the valid escape at buf[i], a backslash, or 0. */
static size_t event_escape_len(const char *buf, size_t len, size_t i)
{
	if (i + 1 >= len)
		return 0;
	switch (buf[i + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 2;
	case 'u':
		if (len - i < 6)
			return 0;
		for (size_t k = i + 2; k < i + 6; k++)
			if (!event_is_hex(buf[k]))
				return 0;
		return 6;
	default:
		return 0;
	}
}
/* ---- numbers and literals ---- */

static const double event_pow10[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static double event_scale(uint64_t mant, int exp10)
{
	double r = (double)mant;

	/* Exact when both factors are exact doubles: one rounding only. */
	if (mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22)
		return exp10 < 0 ? r / event_pow10[-exp10]
				 : r * event_pow10[exp10];
	/* Rare: close enough for scoring, and no libm for the fuzz build. */
	for (; exp10 > 22 && r <= DBL_MAX; exp10 -= 22)
		r *= 1e22;
	for (; exp10 < -22 && r != 0; exp10 += 22)
		r /= 1e22;
	if (r == 0 || r > DBL_MAX)
		return r;
	return exp10 < 0 ? r / event_pow10[-exp10] : r * event_pow10[exp10];
}

/*
 * Accumulates up to 19 significant digits into *mant (enough for a
 * uint64); further integer digits scale by ten, further fraction digits
 * are below double precision anyway.
 */
static size_t event_digits(const char *s, size_t i, size_t n, bool frac,
			   uint64_t *mant, int *ndig, int *exp10)
{
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (*ndig < 19) {
			*mant = *mant * 10 + (uint64_t)(s[i] - '0');
			*ndig += *mant != 0;
			*exp10 -= frac;
		} else {
			*exp10 += !frac;
		}
	}
	return i;
}

/*
 * The usual number: at most 15 characters after the sign, no leading
 * zero, maybe a fraction, no exponent. Such a mantissa and its power of ten are
 * exact doubles, so one division rounds correctly, as event_scale would.
 * Returns false for anything else, valid or not, and leaves that to the full
 * parser.
 */
static inline bool event_number_plain(const char *s, size_t n, double *out)
{
	size_t i = s[0] == '-', dot = 0;
	uint64_t mant = 0;

	if (i >= n || n - i > 15 || s[i] < '1' || s[i] > '9')
		return false;
	for (; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d <= 9)
			mant = mant * 10 + d;
		else if (s[i] == '.' && dot == 0 && i + 1 < n)
			dot = i;
		else
			return false;
	}
	if (out != NULL) {
		double r = dot ? (double)mant / event_pow10[n - 1 - dot]
			       : (double)mant;
		*out = s[0] == '-' ? -r : r;
	}
	return true;
}

/*
 * Validates a JSON number (strict jsmn only looks at its first byte) and
 * converts it without strtod, which would follow the process locale.
 */
static bool event_number_parse(const char *s, size_t n, double *out)
{
	if (event_number_plain(s, n, out))
		return true;

	uint64_t mant = 0;
	int ndig = 0, exp10 = 0;
	size_t i = 0, j;
	bool neg = false;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0')
		i++;
	else
		i = event_digits(s, i, n, false, &mant, &ndig, &exp10);
	if (i < n && s[i] == '.') {
		j = event_digits(s, i + 1, n, true, &mant, &ndig, &exp10);
		if (j == i + 1)
			return false;
		i = j;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0, e = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		exp10 += eneg ? -e : e;
	}
	if (i != n)
		return false;
	if (out == NULL)
		return true; /* only validating */
	*out = event_scale(mant, exp10);
	if (neg)
		*out = -*out;
	return true;
}

/*
 * A minus or not, then digits without a leading zero: most numbers in
 * events. Anything else, valid or not, is left to event_number_parse.
 */
static inline bool event_number_int(const char *s, size_t n)
{
	size_t i = s[0] == '-';

	if (i >= n || s[i] < '1' || s[i] > '9')
		return false;
	for (i++; i < n; i++)
		if ((unsigned)(unsigned char)s[i] - '0' > 9)
			return false;
	return true;
}

static inline bool event_literal_valid(const char *s, size_t n)
{
	switch (s[0]) {
	case 't':
		return n == 4 && memcmp(s, "true", 4) == 0;
	case 'f':
		return n == 5 && memcmp(s, "false", 5) == 0;
	case 'n':
		return n == 4 && memcmp(s, "null", 4) == 0;
	default:
		return event_number_int(s, n) || event_number_parse(s, n, NULL);
	}
}

/* ---- top-level keys ---- */

static inline bool event_key_is(const struct event_ctx *c, int ti,
				const char *name, size_t n)
{
	const struct event_tok *t = &c->tok[ti];
	return (size_t)(t->end - t->start) == n &&
	       memcmp(c->buf + t->start, name, n) == 0;
}

#define KEY_IS(c, ti, lit) event_key_is(c, ti, lit, sizeof(lit) - 1)

static inline bool event_tok_null(const struct event_ctx *c, int ti)
{
	return c->tok[ti].type == TOK_PRIMITIVE &&
	       c->buf[c->tok[ti].start] == 'n';
}

/*
 * The keys the parser reads, found by a perfect hash of their first four
 * bytes and checked by one sixteen-byte compare, not by a chain of
 * compares whose branches mispredict as key lengths vary from event to
 * event. Each table has one entry per hash value; EVENT_KEY_MULT spreads
 * the fourteen top-level keys over sixteen entries and the three context
 * keys over four (test_event_lex checks that each key lands on its own
 * entry). An empty entry's length (255) is no key's whose first sixteen
 * bytes are NUL, as a string's bytes never are.
 */
#define EVENT_KEY_MULT 0x6df83873d936e43fULL

struct event_key {
	char name[24]; /* NUL-padded: compared sixteen bytes at a time */
	unsigned char len;
	unsigned short slot; /* offsetof(struct event_slots, ...) */
};

#define EVENT_KEY(name, field)                                                 \
	{                                                                      \
		name, sizeof(name) - 1, offsetof(struct event_slots, field)    \
	}
#define EVENT_KEY_NONE                                                         \
	{                                                                      \
		"", 255, 0                                                     \
	}

static const struct event_key event_top_keys[16] = {
	[0] = EVENT_KEY("name", name),
	[1] = EVENT_KEY("sentAt", sent_at),
	[2] = EVENT_KEY("messageId", message_id),
	[3] = EVENT_KEY("groupId", group_id),
	[4] = EVENT_KEY("traits", traits),
	[5] = EVENT_KEY_NONE,
	[6] = EVENT_KEY("timestamp", timestamp),
	[7] = EVENT_KEY("receivedAt", received_at),
	[8] = EVENT_KEY("type", type),
	[9] = EVENT_KEY("anonymousId", anonymous_id),
	[10] = EVENT_KEY("userId", user_id),
	[11] = EVENT_KEY_NONE,
	[12] = EVENT_KEY("properties", properties),
	[13] = EVENT_KEY("event", event),
	[14] = EVENT_KEY("context", context),
	[15] = EVENT_KEY("originalTimestamp", original_timestamp),
};

static const struct event_key event_ctx_keys[4] = {
	[0] = EVENT_KEY("groupId", ctx_group_id),
	[1] = EVENT_KEY("traits", ctx_traits),
	[2] = EVENT_KEY("page", ctx_page),
	[3] = EVENT_KEY_NONE,
};

/* Sixteen bytes from event_key_keep + 16 - n keep the first n of a block. */
static const unsigned char event_key_keep[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * The entry of table tab (64 >> shift entries) whose key has length n
 * and the first min(n, 16) bytes at p, from which sixteen bytes can be
 * read, or NULL. The hash reads the first four bytes in a fixed order, so
 * the tables hold on any host.
 */
static inline const struct event_key *
event_key_match(const struct event_key *tab, unsigned shift, const char *p,
		size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t w4 = (uint64_t)u[0] | (uint64_t)u[1] << 8 |
		      (uint64_t)u[2] << 16 | (uint64_t)u[3] << 24;
	const struct event_key *e = &tab[(w4 * EVENT_KEY_MULT) >> shift];
	bool ok;

#ifdef __SSE2__
	const void *keep = event_key_keep + 16 - (n < 16 ? n : 16);
	__m128i k = _mm_and_si128(_mm_loadu_si128((const __m128i *)p),
				  _mm_loadu_si128((const __m128i *)keep));
	__m128i eq = _mm_cmpeq_epi8(
		k, _mm_loadu_si128((const __m128i *)(const void *)e->name));
	ok = (n == e->len) & (_mm_movemask_epi8(eq) == 0xffff);
#else
	ok = n == e->len && memcmp(p, e->name, n < 16 ? n : 16) == 0;
#endif
	return ok ? e : NULL;
}

/* The same near the end of the event, from a copy padded to sixteen. */
__attribute__((noinline)) static const struct event_key *
event_key_match_tail(const struct event_key *tab, unsigned shift,
		     const char *buf, size_t len, size_t at, size_t n)
{
	char pad[16] = {0};

	memcpy(pad, buf + at, len - at); /* less than sixteen bytes */
	return event_key_match(tab, shift, pad, n);
}

/*
 * The slot in s for the key whose n bytes start at buf[at], or NULL. The
 * closing quote after the key keeps a long key's bytes inside the event;
 * near its end, every key is shorter than sixteen bytes.
 */
static inline int *event_key_slot(const struct event_key *tab, unsigned shift,
				  const char *buf, size_t len, size_t at,
				  size_t n, struct event_slots *s)
{
	const struct event_key *e;

	if (__builtin_expect(at + 16 <= len, 1)) {
		e = event_key_match(tab, shift, buf + at, n);
		if (__builtin_expect(e != NULL && n > 16, 0) &&
		    memcmp(buf + at + 16, e->name + 16, n - 16) != 0)
			e = NULL; /* originalTimestamp: its last byte */
	} else {
		e = event_key_match_tail(tab, shift, buf, len, at, n);
	}
	return e != NULL ? (int *)(void *)((char *)s + e->slot) : NULL;
}

/* The slot for the value of a top-level key, or NULL if it is not read. */
static inline int *event_slot_for(const char *buf, size_t len, size_t at,
				  size_t n, struct event_slots *s)
{
	return event_key_slot(event_top_keys, 60, buf, len, at, n, s);
}

/* The same for a key of the top-level context object. */
static inline int *event_ctx_slot_for(const char *buf, size_t len, size_t at,
				      size_t n, struct event_slots *s)
{
	return event_key_slot(event_ctx_keys, 62, buf, len, at, n, s);
}

/* ---- tokenizing: one strict pass ---- */

static inline bool event_is_ws(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
}

static inline bool event_is_container(const struct event_tok *t)
{
	return t->type == TOK_OBJECT || t->type == TOK_ARRAY;
}

/*
 * White space between tokens; when lexing a line (event_parse_line), not
 * the newline, which ends it, so that the lexer never runs on into the
 * next line.
 */
static inline bool event_lex_is_ws(char ch, bool line)
{
	return event_is_ws(ch) && !(line && ch == '\n');
}

static inline size_t event_lex_ws_skip(const char *buf, size_t len, size_t i,
				       bool line)
{
	while (i < len && event_lex_is_ws(buf[i], line))
		i++;
	return i;
}

/* Where and why the lexer stopped; turned into a reason by event_reject. */
struct event_lexer {
	struct event_ctx *c;
	struct event_tok *tok;
	int ntok;
	enum event_reason reason;
	const char *what;
	size_t at;
	int deep; /* too_deep: the index of the container too deep */
	/* lex the line that starts the buffer (event_parse_line), whose
	 * end is then the offset of its newline */
	bool line;
	size_t end;
};

/* Returns 0, the offset no token ends at, for the callers' convenience. */
static size_t event_lex_fail(struct event_lexer *x, enum event_reason r,
			     const char *what, size_t at)
{
	x->reason = r;
	x->what = what;
	x->at = at;
	return 0;
}

static int event_lex_stop(struct event_lexer *x, enum event_reason r,
			  const char *what, size_t at)
{
	(void)event_lex_fail(x, r, what, at);
	return -1;
}

/*
 * The slow part of a string, from i: offset of the closing quote, or 0.
 * Only the bytes that stop a plain run (escapes, non-ASCII, control
 * bytes) are looked at one by one; plain runs go sixteen bytes a step.
 */
static size_t event_str_close(struct event_lexer *x, const char *buf,
			      size_t len, size_t i)
{
	size_t n;

	for (;;) {
		i = event_str_stop(buf, len, i);
		if (i >= len)
			return event_lex_fail(x, EVENT_ERR_NOT_JSON,
					      "unterminated string", len);
		unsigned char ch = (unsigned char)buf[i];
		if (ch == '"')
			return i;
		if (ch == '\\') {
			x->c->has_esc = true;
			n = event_escape_len(buf, len, i);
			if (n == 0)
				return event_lex_fail(x, EVENT_ERR_NOT_JSON,
						      "invalid escape", i);
		} else if (ch < 0x20) {
			return event_lex_fail(x, EVENT_ERR_NOT_JSON,
					      "control character in a string",
					      i);
		} else {
			n = event_utf8_seq((const unsigned char *)buf + i,
					   len - i);
			if (n == 0)
				return event_lex_fail(x, EVENT_ERR_BAD_UTF8,
						      "invalid UTF-8", i);
		}
		i += n;
	}
}

/*
 * Offset of the quote closing the string whose text starts at i, or 0.
 * Most strings are plain ASCII: a load or a few and a look at the first
 * stop byte settle them here; the rest, and the tail, go the slow way.
 */
static inline size_t event_str_end(struct event_lexer *x, const char *buf,
				   size_t len, size_t i)
{
	for (; i + 16 <= len; i += 16) {
		unsigned m = event_str_stops(buf + i);
		if (m != 0) {
			size_t q = i + (size_t)__builtin_ctz(m);
			if (__builtin_expect(buf[q] == '"', 1))
				return q;
			return event_str_close(x, buf, len, q);
		}
	}
	/* the last string of nearly every event ends in its last block */
	if (i < len && len >= 16) {
		unsigned m = event_str_stops(buf + len - 16) >> (i + 16 - len);
		size_t q = i + (size_t)__builtin_ctz(m | 1u << (len - i));
		if (q < len && buf[q] == '"')
			return q;
	}
	return event_str_close(x, buf, len, i);
}

/*
 * The stop bits of 64 bytes of the event, bit k for buf[base + k], kept
 * across strings: the key and value of a compact member, and often the
 * next member, fall in one window, so most strings end with a shift and a
 * bit scan of bits already at hand. Finding a string's end from a fresh
 * load at its start put a load and four vector steps on the path from
 * each string to the next; the window takes them off it.
 */
struct event_window {
	uint64_t bits;
	size_t base;
};

static inline uint64_t event_str_stops64(const char *p)
{
	return (uint64_t)event_str_stops(p) |
	       (uint64_t)event_str_stops(p + 16) << 16 |
	       (uint64_t)event_str_stops(p + 32) << 32 |
	       (uint64_t)event_str_stops(p + 48) << 48;
}

/*
 * event_str_end through window w: the first stop byte at or after i is
 * the same whether found in the window or by the block loop, and what
 * follows it is the same.
 */
static inline size_t event_str_end_win(struct event_lexer *x,
				       struct event_window *w, const char *buf,
				       size_t len, size_t i)
{
	size_t d = i - w->base, q; /* i before the window: d wraps, >= 64 */
	uint64_t m = 0;

	if (__builtin_expect(d < 64, 1))
		m = w->bits >> d;
	if (__builtin_expect(m != 0, 1)) {
		q = i + (size_t)__builtin_ctzll(m);
	} else {
		size_t b = i;
		if (__builtin_expect(i + 64 > len, 0)) {
			/* near the end of the bytes: their last 64, those
			 * before i shifted out, so that an exact message's
			 * last strings take the steps a line's take
			 * (event_parse_line lexes with the bytes after the
			 * line too), the ones a PGO build trains */
			if (i >= len || len < 64)
				return event_str_end(x, buf, len, i);
			b = len - 64;
		}
		w->base = b;
		w->bits = event_str_stops64(buf + b);
		m = w->bits >> (i - b);
		if (m == 0)
			return event_str_end(x, buf, len, b + 64);
		q = i + (size_t)__builtin_ctzll(m);
	}
	if (__builtin_expect(buf[q] == '"', 1))
		return q;
	return event_str_close(x, buf, len, q);
}

/* End of the JSON number at s[i], or 0 if it breaks the grammar. */
static inline size_t event_num_end(const char *s, size_t n, size_t i)
{
	i += i < n && s[i] == '-';
	if (i >= n || (unsigned)(s[i] - '0') > 9)
		return 0;
	if (s[i++] != '0')
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	if (i < n && s[i] == '.') {
		if (++i >= n || (unsigned)(s[i] - '0') > 9)
			return 0;
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		i += i < n && (s[i] == '+' || s[i] == '-');
		if (i >= n || (unsigned)(s[i] - '0') > 9)
			return 0;
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	}
	return i;
}

static inline size_t event_lit_end(const char *s, size_t n, size_t i,
				   const char *lit, size_t k)
{
	return n - i >= k && memcmp(s + i, lit, k) == 0 ? i + k : 0;
}

/* End of the scalar at i into primitive token t, or 0. */
static inline size_t event_lex_scalar(struct event_lexer *x,
				      struct event_tok *t, const char *buf,
				      size_t len, size_t i)
{
	char ch = i < len ? buf[i] : '\0';
	size_t e;

	switch (ch) {
	case 't':
		e = event_lit_end(buf, len, i, "true", 4);
		break;
	case 'f':
		e = event_lit_end(buf, len, i, "false", 5);
		break;
	case 'n':
		e = event_lit_end(buf, len, i, "null", 4);
		break;
	default:
		if (ch != '-' && (unsigned)(ch - '0') > 9)
			return event_lex_fail(x, EVENT_ERR_NOT_JSON,
					      "malformed JSON", i);
		e = event_num_end(buf, len, i);
		break;
	}
	if (e == 0)
		return event_lex_fail(x, EVENT_ERR_NOT_JSON,
				      "invalid literal or number", i);
	t->type = TOK_PRIMITIVE;
	t->end = (int)e;
	return e;
}

/* The container token k sits in: its parent, or its key's parent. */
static inline int event_lex_outer(const struct event_tok *tok, int k)
{
	int p = tok[k].parent;

	return p >= 0 && tok[p].type == TOK_STRING ? tok[p].parent : p;
}

/* Offset of the value after the key that ends before i, past its colon. */
static inline size_t event_lex_colon(struct event_lexer *x, const char *buf,
				     size_t len, size_t i)
{
	if (__builtin_expect(i < len && buf[i] == ':', 1))
		return i + 1;
	i = event_lex_ws_skip(buf, len, i, x->line);
	if (i >= len || buf[i] != ':')
		return event_lex_fail(x, EVENT_ERR_NOT_JSON, "malformed JSON",
				      i);
	return i + 1;
}

/* Whether the root value's bytes end at i: where the event ends or, for
 * a line, where its newline is. */
static inline bool event_lex_at_end(struct event_lexer *x, const char *buf,
				    size_t len, size_t i)
{
	/* the byte at i, or 256 past the end; without a branch, so both
	 * kinds of input take the same steps (len > 0, i <= len) */
	unsigned at = (unsigned char)buf[i - (i >= len)];

	at = i < len ? at : 256u;
	x->end = i;
	return at == (x->line ? (unsigned)'\n' : 256u);
}

/* The byte at i, or a NUL at the end; white space (as event_lex_is_ws
 * has it) is skipped first. */
static inline char event_lex_peek(const struct event_lexer *x, const char *buf,
				  size_t len, size_t *i)
{
	char ch = *i < len ? buf[*i] : '\0';

	/* one compare settles every byte a token can begin or end with */
	if (__builtin_expect((unsigned char)ch <= ' ', 0) &&
	    event_lex_is_ws(ch, x->line)) {
		*i = event_lex_ws_skip(buf, len, *i, x->line);
		ch = *i < len ? buf[*i] : '\0';
	}
	return ch;
}

/*
 * The one pass: every byte is looked at once, in order, and every rule of
 * RFC 8259 is checked where its byte is, so tokens come out only for valid
 * JSON. An explicit innermost container (cur) stands in for recursion; the
 * state lives in locals, as stores to the token array could otherwise
 * alias it. Compact JSON, where a key's colon, a value's comma and the
 * next key's quote sit right where expected, is the path tested first;
 * white space is skipped only where one of those bytes is missing. On the
 * way the top-level values the event needs are noted in s.
 */
static int event_lex(struct event_lexer *x, struct event_slots *s)
{
	const char *const buf = x->c->buf;
	const size_t len = x->c->len;
	struct event_tok *const tok = x->tok;
	size_t i = 0, q;
	int ntok = 0, cur = -1, depth = 0, ctx = -1; /* ctx: the context */
	bool in_obj = false, top = false; /* top: cur is the root object */
	char ch;
	struct event_window win = {0, 0};

	memset(s, 0xff, sizeof(*s)); /* every slot -1 */
	for (;;) {
		/* a member of cur, or the root value, begins at i */
		int parent = cur, *slot = NULL;
		if (in_obj) {
			if (event_lex_peek(x, buf, len, &i) != '"')
				return event_lex_stop(x, EVENT_ERR_NOT_JSON,
						      "malformed JSON", i);
			if (ntok == EVENT_MAX_TOKENS)
				return event_lex_stop(x, EVENT_ERR_TOO_LARGE,
						      "too many tokens", i);
			q = event_str_end_win(x, &win, buf, len, i + 1);
			if (q == 0)
				return -1;
			/* a key owns one value: if that value fails, so does
			 * the event, and these tokens are never read */
			tok[ntok] = (struct event_tok){TOK_STRING, (int)i + 1,
						       (int)q, 1, cur};
			tok[cur].size++;
			parent = ntok++;
			if (top)
				slot = event_slot_for(buf, len, i + 1,
						      q - i - 1, s);
			else if (cur == ctx)
				slot = event_ctx_slot_for(buf, len, i + 1,
							  q - i - 1, s);
			if (slot == &s->context) /* a later one wins whole */
				s->ctx_traits = s->ctx_page = s->ctx_group_id =
					-1;
			i = event_lex_colon(x, buf, len, q + 1);
			if (i == 0)
				return -1;
		}
		ch = event_lex_peek(x, buf, len, &i);
		if (ntok == EVENT_MAX_TOKENS)
			return event_lex_stop(x, EVENT_ERR_TOO_LARGE,
					      "too many tokens", i);
		struct event_tok *t = &tok[ntok++];
		if (!in_obj && parent >= 0)
			tok[parent].size++; /* an element of array cur */
		if (ch == '"') {
			q = event_str_end_win(x, &win, buf, len, i + 1);
			if (q == 0)
				return -1;
			*t = (struct event_tok){TOK_STRING, (int)i + 1, (int)q,
						0, parent};
			i = q + 1;
			if (slot != NULL)
				*slot = ntok - 1;
		} else if (ch == '{' || ch == '[') {
			*t = (struct event_tok){ch == '{' ? TOK_OBJECT
							  : TOK_ARRAY,
						(int)i, -1, 0, parent};
			if (++depth > EVENT_MAX_DEPTH) {
				x->deep = ntok - 1;
				return event_lex_stop(x, EVENT_ERR_TOO_DEEP,
						      "nesting too deep", i);
			}
			if (slot != NULL)
				*slot = ntok - 1;
			if (slot == &s->context)
				ctx = ntok - 1;
			i++;
			if (event_lex_peek(x, buf, len, &i) != ch + 2) {
				/* '{' + 2 is '}', '[' + 2 is ']' */
				cur = ntok - 1;
				in_obj = ch == '{';
				top = cur == 0 && in_obj;
				continue;
			}
			t->end = (int)++i; /* empty */
			depth--;
		} else {
			t->start = (int)i;
			t->size = 0;
			t->parent = parent;
			i = event_lex_scalar(x, t, buf, len, i);
			if (i == 0)
				return -1;
			/* a later duplicate wins, as in most JSON readers;
			 * null is absent */
			if (slot != NULL)
				*slot = ch == 'n' ? -1 : ntok - 1;
		}
		/* the value is complete: close what ends here, up to a comma */
		for (;;) {
			if (cur < 0) {
				x->ntok = ntok;
				if (event_lex_at_end(x, buf, len, i) ||
				    event_lex_at_end(
					    x, buf, len,
					    event_lex_ws_skip(buf, len, i,
							      x->line)))
					return 0;
				return event_lex_stop(x, EVENT_ERR_NOT_JSON,
						      "garbage after the JSON "
						      "value",
						      i);
			}
			ch = event_lex_peek(x, buf, len, &i);
			if (ch == ',') {
				i++;
				break;
			}
			if (ch != (in_obj ? '}' : ']'))
				return event_lex_stop(x, EVENT_ERR_NOT_JSON,
						      "malformed JSON", i);
			tok[cur].end = (int)++i;
			depth--;
			cur = event_lex_outer(tok, cur);
			in_obj = cur >= 0 && tok[cur].type == TOK_OBJECT;
			top = cur == 0 && in_obj;
		}
	}
}

/* ---- the reject path: the reason the jsmn-based parser gave ---- */

/*
 * The parser this one replaced ran jsmn (1.1.0, strict, parent links)
 * first and checked the rest after it, so a malformed event's reason
 * depended on what jsmn saw: too_large if it ran out of tokens before it
 * met an error of its own, not_json if it met one, and only then the
 * first error in token order. The lexer stops at the first error in byte
 * order, which can differ (a stray comma early in an event with 2000
 * tokens). Rejects are rare, so to keep every reason as it was, jsmn runs
 * again here, on the reject path only.
 *
 * jsmn counts a value into whichever token came last before its colon, so
 * bytes after a too-deep container can leave an earlier string or
 * primitive owning the wrong number of values ("[[...]]\"b\":1" makes the
 * key before the array own two). The old pass, going in token order,
 * reported that before the depth. Returns the first such token before
 * token end, or 0.
 */
static int event_jsmn_size_fault(const jsmntok_t *tok, int end)
{
	for (int k = 1; k < end; k++) {
		const jsmntok_t *t = &tok[k];
		if (t->type == JSMN_STRING &&
		    (t->parent < 0 ||
		     t->size != (tok[t->parent].type == JSMN_OBJECT)))
			return k;
		if (t->type == JSMN_PRIMITIVE && t->size != 0)
			return k;
	}
	return 0;
}

static bool event_ws_only(const char *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!event_is_ws(buf[i]))
			return false;
	return true;
}

/* First byte of jsmn token t (the opening quote of a string). */
static inline size_t event_jsmn_begin(const jsmntok_t *t)
{
	return (size_t)t->start - (t->type == JSMN_STRING);
}

/* First byte after jsmn token t (past the closing quote of a string). */
static inline size_t event_jsmn_after(const jsmntok_t *t)
{
	return (size_t)t->end + (t->type == JSMN_STRING);
}

/*
 * Strict jsmn wants a delimiter after a primitive, so a bare "42" is
 * "partial"; it is still valid JSON, just not an object.
 */
static int event_root_scalar(struct event_ctx *c)
{
	size_t a = 0, b = c->len;

	while (a < b && event_is_ws(c->buf[a]))
		a++;
	while (b > a && event_is_ws(c->buf[b - 1]))
		b--;
	if (a < b && event_literal_valid(c->buf + a, b - a))
		return event_fail(c, EVENT_ERR_NOT_OBJECT,
				  "event is not a JSON object");
	return event_fail(c, EVENT_ERR_NOT_JSON, "event is not valid JSON");
}

/*
 * The reason for an event the lexer stopped on, in the old parser's order:
 * invalid UTF-8 anywhere first, then what jsmn said, then white space
 * only around the root value, then the first fault in token order, which
 * is the lexer's own finding except for the case event_jsmn_size_fault
 * covers.
 */
static int event_reject(struct event_ctx *c, const struct event_lexer *x)
{
	jsmntok_t tok[EVENT_MAX_TOKENS];
	jsmn_parser p;
	int r, k;

	if (x->reason == EVENT_ERR_BAD_UTF8 ||
	    !event_utf8_valid(c->buf, c->len, 0))
		return event_fail(c, EVENT_ERR_BAD_UTF8,
				  "event is not valid UTF-8");
	/* Said here, on the reject path, rather than skipped on every event:
	 * RFC 8259 forbids senders a byte order mark, and a record that has
	 * one goes to the DLQ with a reason that names the invisible byte. */
	if (c->len >= STRV_BOM_LEN &&
	    memcmp(c->buf, STRV_BOM, STRV_BOM_LEN) == 0)
		return event_fail(c, EVENT_ERR_NOT_JSON,
				  "event starts with a UTF-8 byte order mark");
	jsmn_init(&p);
	r = jsmn_parse(&p, c->buf, c->len, tok, EVENT_MAX_TOKENS);
	if (r == JSMN_ERROR_NOMEM)
		return event_fail(c, EVENT_ERR_TOO_LARGE,
				  "event has more than %d JSON tokens",
				  EVENT_MAX_TOKENS);
	if (r == JSMN_ERROR_PART && p.toknext == 0)
		return event_root_scalar(c);
	if (r <= 0)
		return event_fail(c, EVENT_ERR_NOT_JSON,
				  "event is not valid JSON");
	if (!event_ws_only(c->buf, 0, event_jsmn_begin(&tok[0])) ||
	    !event_ws_only(c->buf, event_jsmn_after(&tok[0]), c->len))
		return event_fail(c, EVENT_ERR_NOT_JSON,
				  "garbage around the JSON value");
	if (x->reason == EVENT_ERR_TOO_DEEP &&
	    (k = event_jsmn_size_fault(tok, x->deep)) > 0)
		return event_fail(c, EVENT_ERR_NOT_JSON,
				  "malformed JSON near offset %d",
				  tok[k].start);
	if (x->reason == EVENT_ERR_TOO_DEEP)
		return event_fail(c, EVENT_ERR_TOO_DEEP,
				  "nesting deeper than %d levels at offset %zu",
				  EVENT_MAX_DEPTH, x->at);
	return event_fail(c, x->reason, "%s at offset %zu", x->what, x->at);
}

/*
 * The line event_parse_line was given: its end is the newline the lexer
 * stopped at, and from here on the event is the line's bytes without it
 * and without one carriage return before it, as event_parse would be
 * given them. Any doubt is a -1 that makes the caller split the line
 * itself: one that turns out larger than an event may be.
 */
static int event_line_take(struct event_ctx *c, const struct event_lexer *x,
			   size_t *line_len)
{
	size_t n = x->end;

	n -= n > 0 && c->buf[n - 1] == '\r';
	if (n > EVENT_MAX_BYTES)
		return -1;
	c->len = n;
	*line_len = x->end;
	return 0;
}

/* With line_len NULL, tokenize c's exact bytes; otherwise the line at its
 * start, where any fault is only a -1 (see event_parse_line). */
static int event_tokenize(struct event_ctx *c, struct event_tok *tok,
			  struct event_slots *s, size_t *line_len)
{
	struct event_lexer x = {.c = c, .tok = tok};

	x.line = line_len != NULL;
	c->tok = tok;
	if (event_lex(&x, s) < 0)
		return line_len != NULL ? -1 : event_reject(c, &x);
	if (line_len != NULL && event_line_take(c, &x, line_len) < 0)
		return -1;
	c->ntok = x.ntok;
	if (tok[0].type != TOK_OBJECT)
		return event_fail(c, EVENT_ERR_NOT_OBJECT,
				  "event is not a JSON object");
	return 0;
}

/* ---- strings ---- */

static char *event_scratch_alloc(struct event *ev, size_t n)
{
	char *p;

	if (n > sizeof(ev->scratch) - ev->scratch_used)
		return NULL;
	p = ev->scratch + ev->scratch_used;
	ev->scratch_used += n;
	return p;
}

/*
 * Unescapes s[0..n) into scratch: n bytes always suffice (unescape.h).
 * The tokenizer let only valid escapes through, so a lone surrogate is
 * the one failure left.
 */
static int event_unescape(struct event_ctx *c, const char *s, size_t n,
			  struct strv *out, const char *field)
{
	char *o = event_scratch_alloc(c->ev, n);
	size_t len;

	if (o == NULL)
		return event_fail(c, EVENT_ERR_TOO_LARGE,
				  "no room to unescape field %s", field);
	switch (unescape_json(s, n, o, n, &len)) {
	case UNESCAPE_OK:
		break;
	case UNESCAPE_LONE_SURROGATE:
		return event_fail(c, EVENT_ERR_BAD_UTF8,
				  "lone surrogate escape in field %s", field);
	default:
		return event_fail(c, EVENT_ERR_NOT_JSON,
				  "invalid escape in field %s", field);
	}
	/* give back what the escapes saved */
	c->ev->scratch_used -= n - len;
	*out = (struct strv){o, len};
	return 0;
}

static int event_str_escaped(struct event_ctx *c, const char *s, size_t n,
			     struct strv *out, const char *field)
{
	/* a plain loop: these strings are short, a libc call costs more */
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\')
			return event_unescape(c, s, n, out, field);
	*out = (struct strv){s, n};
	return 0;
}

/*
 * The text of string token ti: a slice of buf unless it has escapes. Only
 * a buffer with a backslash somewhere needs a look inside the string.
 */
static inline int event_str(struct event_ctx *c, int ti, struct strv *out,
			    const char *field)
{
	const struct event_tok *t = &c->tok[ti];
	const char *s = c->buf + t->start;
	size_t n = (size_t)(t->end - t->start);

	if (c->has_esc)
		return event_str_escaped(c, s, n, out, field);
	*out = (struct strv){s, n};
	return 0;
}

/* ---- walking objects ---- */

/* Index of the token after the subtree at ti, found by end offsets. */
static int event_tok_skip(const struct event_ctx *c, int ti)
{
	int end = c->tok[ti].end, k = ti + 1;

	if (!event_is_container(&c->tok[ti]))
		return k;
	while (k < c->ntok && c->tok[k].start < end)
		k++;
	return k;
}

/* ---- field type checks ---- */

static int event_want(struct event_ctx *c, int ti, enum event_tok_type want,
		      const char *field)
{
	if (ti < 0 || c->tok[ti].type == want)
		return 0;
	return event_fail(c, EVENT_ERR_FIELD_TYPE, "field %s must be %s", field,
			  want == TOK_STRING ? "a string" : "an object");
}

/* A string or a number, as event_id_get takes; true and false are not. */
static inline bool event_tok_id(const struct event_ctx *c, int ti)
{
	const struct event_tok *t = &c->tok[ti];

	return t->type == TOK_STRING ||
	       (t->type == TOK_PRIMITIVE && c->buf[t->start] != 't' &&
		c->buf[t->start] != 'f');
}

/*
 * A string, or a number kept as its literal (identities may be numeric:
 * userId, anonymousId and groupId alike).
 */
static inline int event_id_get(struct event_ctx *c, int ti, struct strv *out,
			       const char *field)
{
	const struct event_tok *t;

	if (ti < 0)
		return 0;
	t = &c->tok[ti];
	if (t->type == TOK_STRING)
		return event_str(c, ti, out, field);
	if (event_tok_id(c, ti)) {
		*out = (struct strv){c->buf + t->start,
				     (size_t)(t->end - t->start)};
		return 0;
	}
	return event_fail(c, EVENT_ERR_FIELD_TYPE,
			  "field %s must be a string or a number", field);
}

/*
 * groupId's type, checked with the string fields before the event's type,
 * where it was checked when it had to be a string: an event wrong in two
 * ways keeps the reason it had.
 */
static int event_id_want(struct event_ctx *c, int ti, const char *field)
{
	if (ti < 0 || event_tok_id(c, ti))
		return 0;
	return event_fail(c, EVENT_ERR_FIELD_TYPE,
			  "field %s must be a string or a number", field);
}

/*
 * The top-level groupId (checked by event_id_want), else context.groupId
 * if it is a string or a number: a wrong type inside context is ignored.
 */
static inline int event_group_id_get(struct event_ctx *c, int top, int ctx,
				     struct strv *out)
{
	if (top < 0 && (ctx < 0 || !event_tok_id(c, ctx)))
		return 0;
	return event_id_get(c, top >= 0 ? top : ctx, out, "groupId");
}

/* A field event_parse has checked to be a string, if present. */
static inline int event_opt_str(struct event_ctx *c, int ti, struct strv *out,
				const char *field)
{
	return ti < 0 ? 0 : event_str(c, ti, out, field);
}

static int event_types_check(struct event_ctx *c, const struct event_slots *s)
{
	if (event_want(c, s->timestamp, TOK_STRING, "timestamp") < 0 ||
	    event_want(c, s->original_timestamp, TOK_STRING,
		       "originalTimestamp") < 0 ||
	    event_want(c, s->traits, TOK_OBJECT, "traits") < 0 ||
	    event_want(c, s->properties, TOK_OBJECT, "properties") < 0 ||
	    event_want(c, s->context, TOK_OBJECT, "context") < 0)
		return -1;
	return 0;
}

static int event_type_get(struct event_ctx *c, const struct event_slots *s)
{
	struct strv t;
	int type;

	if (s->type < 0)
		return event_fail(c, EVENT_ERR_MISSING_TYPE,
				  "field type is missing");
	if (c->tok[s->type].type != TOK_STRING)
		return event_fail(c, EVENT_ERR_MISSING_TYPE,
				  "field type must be a string");
	if (event_str(c, s->type, &t, "type") < 0)
		return -1;
	type = event_type_parse(t.p, t.len);
	if (type < 0)
		return event_fail(c, EVENT_ERR_UNKNOWN_TYPE,
				  "unknown event type (expected identify, "
				  "track, page, screen or group)");
	c->ev->type = (enum event_type)type;
	return 0;
}

/* ---- flattened fields ---- */

/*
 * Inline, so that the parser's own look-ups by a literal name compare a
 * constant length (a load or two, no libc call).
 */
static inline const struct jval *event_field_find(const struct event_field *f,
						  size_t n, const char *name,
						  size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].name.len == len && memcmp(f[i].name.p, name, len) == 0)
			return &f[i].val;
	return NULL;
}

#define FIELD_FIND(f, n, lit) event_field_find(f, n, lit, sizeof(lit) - 1)

__attribute__((always_inline)) static inline int
event_jval_get(struct event_ctx *c, int ti, struct jval *v, const char *field)
{
	const struct event_tok *t = &c->tok[ti];
	const char *s = c->buf + t->start;
	size_t n = (size_t)(t->end - t->start);

	v->num = 0;
	if (t->type == TOK_STRING) {
		v->kind = JVAL_STRING;
		return event_str(c, ti, &v->str, field);
	}
	v->str = STRV_NULL;
	v->kind = JVAL_OTHER;
	if (t->type != TOK_PRIMITIVE)
		return 0;
	switch (s[0]) {
	case 'n':
		v->kind = JVAL_NULL;
		break;
	case 't':
		v->kind = JVAL_BOOL;
		v->num = 1;
		break;
	case 'f':
		v->kind = JVAL_BOOL;
		v->num = 0;
		break;
	default:
		v->kind = JVAL_NUMBER;
		v->str = (struct strv){s, n};
		/* validated in event_structure_check, cannot fail here */
		if (!event_number_plain(s, n, &v->num))
			(void)event_number_parse(s, n, &v->num);
		break;
	}
	return 0;
}

/*
 * Copies s to o and returns the byte after it. Names are short: eight-byte
 * moves (the last one overlapping) cost less than a libc call, and never
 * touch a byte outside either string.
 */
static inline char *event_name_put(char *o, struct strv s)
{
	uint64_t w, last;
	uint32_t h, t;
	size_t i;

	if (s.len >= 8) {
		memcpy(&last, s.p + s.len - 8, 8);
		for (i = 0; i + 8 < s.len; i += 8) {
			memcpy(&w, s.p + i, 8);
			memcpy(o + i, &w, 8);
		}
		memcpy(o + s.len - 8, &last, 8);
	} else if (s.len >= 4) {
		memcpy(&h, s.p, 4);
		memcpy(&t, s.p + s.len - 4, 4);
		memcpy(o, &h, 4);
		memcpy(o + s.len - 4, &t, 4);
	} else {
		for (i = 0; i < s.len; i++)
			o[i] = s.p[i];
	}
	return o + s.len;
}

/* Joins three parts into scratch: "company." "address." "city". */
static int event_name_join(struct event_ctx *c, struct strv a, struct strv b,
			   struct strv d, struct strv *out, const char *field)
{
	size_t n = a.len + b.len + d.len;
	char *o = event_scratch_alloc(c->ev, n);

	if (o == NULL)
		return event_fail(c, EVENT_ERR_TOO_LARGE,
				  "no room for the field names of %s", field);
	*out = (struct strv){o, n};
	event_name_put(event_name_put(event_name_put(o, a), b), d);
	return 0;
}

struct event_fields {
	struct event_field *f;
	size_t *n;
	struct strv prefix; /* "company." for group traits, else empty */
	const char *field;  /* for messages: "properties", "traits" */
};

/*
 * A field whose name is joined: under a prefix ("company." for group
 * traits) or an outer object's name ("address."), or both.
 */
static int event_field_add(struct event_ctx *c, struct event_fields *fs,
			   struct strv outer, int ki, int vi)
{
	struct event_field *f;
	struct strv key;

	if (*fs->n >= EVENT_MAX_FIELDS)
		return 0;
	f = &fs->f[*fs->n];
	if (event_str(c, ki, &key, fs->field) < 0)
		return -1;
	if (key.len == 0)
		return 0; /* no rule can name it, and "company." alone is no
			     name */
	if (event_name_join(c, fs->prefix, outer, key, &f->name, fs->field) < 0)
		return -1;
	if (event_jval_get(c, vi, &f->val, fs->field) < 0)
		return -1;
	(*fs->n)++;
	return 0;
}

/* "company" -> "company." so that children join as "company.name". */
static int event_outer_name(struct event_ctx *c, int ki, struct strv *out,
			    const char *field)
{
	struct strv key;
	char *o;

	if (event_str(c, ki, &key, field) < 0)
		return -1;
	o = event_scratch_alloc(c->ev, key.len + 1);
	if (o == NULL)
		return event_fail(c, EVENT_ERR_TOO_LARGE,
				  "no room for the field names of %s", field);
	event_name_put(o, key)[0] = '.';
	*out = (struct strv){o, key.len + 1};
	return 0;
}

/*
 * The outer name is written only once a child is kept: README promises
 * that fields past the limit are ignored, so they must not use up the
 * scratch space the kept ones need (nor must an object holding only
 * deeper objects). At the limit, the object is skipped whole; below it,
 * event_field_add checks the limit for each child.
 */
static int event_fields_nested(struct event_ctx *c, struct event_fields *fs,
			       int ki, int obj)
{
	struct strv outer = STRV_NULL;

	if (*fs->n >= EVENT_MAX_FIELDS)
		return 0;
	for (int i = 0, k = obj + 1; i < c->tok[obj].size;
	     i++, k = event_tok_skip(c, k + 1)) {
		if (c->tok[k + 1].type == TOK_OBJECT)
			continue; /* deeper than one level: not kept */
		if (outer.p == NULL &&
		    event_outer_name(c, ki, &outer, fs->field) < 0)
			return -1;
		if (event_field_add(c, fs, outer, k, k + 1) < 0)
			return -1;
	}
	return 0;
}

/* The usual field: named by its key alone, nothing to join. */
static inline int event_field_plain(struct event_ctx *c,
				    struct event_fields *fs, int ki)
{
	struct event_field *f;

	if (*fs->n >= EVENT_MAX_FIELDS)
		return 0;
	f = &fs->f[*fs->n];
	if (event_str(c, ki, &f->name, fs->field) < 0)
		return -1;
	if (f->name.len == 0)
		return 0; /* no rule can name it */
	if (event_jval_get(c, ki + 1, &f->val, fs->field) < 0)
		return -1;
	(*fs->n)++;
	return 0;
}

/*
 * Flattens object obj one level deep into fs. Like every object walk
 * after the structure pass, it goes by the object's size, which that pass
 * has made its exact key count. plain (a constant in each copy
 * event_fields_fill inlines) is what nearly every event needs: no string
 * has an escape and no prefix is joined, so a key is its slice of the
 * buffer and nothing fails; the token array, the buffer and the count
 * then stay in registers (the stores into the fields would make the
 * calls of the general case reload them through c and fs).
 */
__attribute__((always_inline)) static inline int
event_fields_walk(struct event_ctx *c, struct event_fields *fs, int obj,
		  bool plain)
{
	const struct event_tok *tok = c->tok;
	const char *buf = c->buf;
	size_t n = *fs->n;
	int size = tok[obj].size, k = obj + 1;

	for (int i = 0; i < size; i++) {
		const struct event_tok *key = &tok[k], *v = &tok[k + 1];

		if (v->type == TOK_OBJECT || !plain) {
			int r;

			*fs->n = n;
			r = v->type == TOK_OBJECT
				    ? event_fields_nested(c, fs, k, k + 1)
			    : fs->prefix.len == 0
				    ? event_field_plain(c, fs, k)
				    : event_field_add(c, fs, STRV_NULL, k,
						      k + 1);
			if (r < 0)
				return -1;
			n = *fs->n;
		} else if (n < EVENT_MAX_FIELDS && key->end > key->start) {
			struct event_field *f = &fs->f[n++];

			f->name =
				(struct strv){buf + key->start,
					      (size_t)(key->end - key->start)};
			(void)event_jval_get(c, k + 1, &f->val, fs->field);
		}
		k = event_is_container(v) ? event_tok_skip(c, k + 1) : k + 2;
	}
	*fs->n = n;
	return 0;
}

/* Out of line, so that its calls and their saved registers stay out of
 * the plain walk's code. */
__attribute__((noinline)) static int
event_fields_fill_general(struct event_ctx *c, struct event_fields *fs, int obj)
{
	return event_fields_walk(c, fs, obj, false);
}

static int event_fields_fill(struct event_ctx *c, struct event_fields *fs,
			     int obj)
{
	if (obj < 0)
		return 0;
	if (!c->has_esc && fs->prefix.len == 0)
		return event_fields_walk(c, fs, obj, true);
	return event_fields_fill_general(c, fs, obj);
}

/* Value of key name in object obj (null counts as absent), or -1. */
static int event_obj_find(const struct event_ctx *c, int obj, const char *name,
			  size_t n)
{
	int found = -1;

	if (obj < 0)
		return -1;
	for (int i = 0, k = obj + 1; i < c->tok[obj].size;
	     i++, k = event_tok_skip(c, k + 1))
		if (event_key_is(c, k, name, n))
			found = event_tok_null(c, k + 1) ? -1 : k + 1;
	return found;
}

#define OBJ_FIND(c, obj, lit)                                                  \
	((obj) < 0 ? -1 : event_obj_find(c, obj, lit, sizeof(lit) - 1))

static inline int event_if_object(const struct event_ctx *c, int ti)
{
	return ti >= 0 && c->tok[ti].type == TOK_OBJECT ? ti : -1;
}

/*
 * The context sub-fields the parser uses, as the lexer noted them; wrong
 * types there are ignored rather than rejected.
 */
static void event_context_find(const struct event_ctx *c,
			       const struct event_slots *s,
			       struct event_context *x)
{
	int page = event_if_object(c, s->ctx_page);

	x->traits = event_if_object(c, s->ctx_traits);
	x->group_id = s->ctx_group_id;
	x->page_path = OBJ_FIND(c, page, "path");
	x->page_url = OBJ_FIND(c, page, "url");
}

/* A string value from the first of two places that has one. */
static inline int event_str_pick(struct event_ctx *c, int a, int b,
				 struct strv *out, const char *field)
{
	if (a >= 0 && c->tok[a].type == TOK_STRING)
		return event_str(c, a, out, field);
	if (b >= 0 && c->tok[b].type == TOK_STRING)
		return event_str(c, b, out, field);
	return 0;
}

static int event_traits_fill(struct event_ctx *c, const struct event_slots *s,
			     const struct event_context *x)
{
	struct event_fields fs = {c->ev->traits, &c->ev->ntraits, STRV_NULL,
				  "traits"};
	int src = x->traits;

	if (c->ev->type == EVENT_GROUP) {
		/* group traits describe the account, not the person */
		fs.prefix = (struct strv){"company.", 8};
		src = s->traits;
	} else if (c->ev->type == EVENT_IDENTIFY && s->traits >= 0) {
		src = s->traits;
	}
	return event_fields_fill(c, &fs, src);
}

/*
 * The e-mail was usually flattened already with the traits; only look it
 * up again where it comes from elsewhere (group, missing, or past the
 * field limit).
 */
static int event_email_get(struct event_ctx *c, const struct event_slots *s,
			   const struct event_context *x)
{
	struct event *ev = c->ev;
	const struct jval *v =
		ev->type != EVENT_GROUP
			? FIELD_FIND(ev->traits, ev->ntraits, "email")
			: NULL;
	int top = -1;

	if (v != NULL && v->kind == JVAL_STRING) {
		ev->email = v->str;
		return 0;
	}
	if (ev->ntraits < EVENT_MAX_FIELDS && v == NULL &&
	    ev->type != EVENT_GROUP &&
	    (ev->type != EVENT_IDENTIFY || s->traits < 0))
		return 0; /* the traits read were context.traits: none there */
	if (ev->type == EVENT_IDENTIFY)
		top = OBJ_FIND(c, s->traits, "email");
	return event_str_pick(c, top, OBJ_FIND(c, x->traits, "email"),
			      &ev->email, "email");
}

/* properties.path / url, else context.page.path / url */
static int event_page_get(struct event_ctx *c, const struct event_slots *s,
			  const struct event_context *x)
{
	struct event *ev = c->ev;
	const struct jval *p = FIELD_FIND(ev->props, ev->nprops, "path");
	const struct jval *u = FIELD_FIND(ev->props, ev->nprops, "url");
	bool full = ev->nprops == EVENT_MAX_FIELDS;

	if (p != NULL && p->kind == JVAL_STRING)
		ev->path = p->str;
	else if (event_str_pick(c,
				full ? OBJ_FIND(c, s->properties, "path") : -1,
				x->page_path, &ev->path, "path") < 0)
		return -1;
	if (u != NULL && u->kind == JVAL_STRING)
		ev->url = u->str;
	else if (event_str_pick(c,
				full ? OBJ_FIND(c, s->properties, "url") : -1,
				x->page_url, &ev->url, "url") < 0)
		return -1;
	return 0;
}

/* ---- identity and time ---- */

/*
 * The e-mail key is the address as strv_email_trim leaves it (no white
 * space around it, no dot ending its domain), so that "Bob@x.com " and
 * "bob@x.com." are the lead bob@x.com; one that is only white space is no
 * e-mail, as an empty one. ev->email itself stays as sent (it is stored as
 * the trait); cond_email_domain starts from the same strv_email_trim.
 */
static int event_identity_set(struct event_ctx *c)
{
	struct event *ev = c->ev;
	struct strv email;
	char *o;

	if (!strv_empty(ev->user_id)) {
		ev->lead_key = ev->user_id;
		return 0;
	}
	email = strv_email_trim(ev->email);
	if (!strv_empty(email)) {
		o = event_scratch_alloc(ev, email.len);
		if (o == NULL)
			return event_fail(c, EVENT_ERR_TOO_LARGE,
					  "no room for the lead key");
		for (size_t i = 0; i < email.len; i++) {
			char ch = email.p[i];
			o[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
		}
		ev->lead_key = (struct strv){o, email.len};
		return 0;
	}
	if (!strv_empty(ev->anonymous_id)) {
		ev->lead_key = ev->anonymous_id;
		return 0;
	}
	return event_fail(c, EVENT_ERR_NO_IDENTITY,
			  "no userId, traits e-mail or anonymousId");
}

static inline bool event_ts_usual(const char *s, size_t len, int64_t *ms);

/*
 * The time of an event without a timestamp: the device's time of the
 * event, else the server's time of receipt, else the device's time of
 * sending. Both of the last come after the event; receipt goes first as
 * it is on the server's clock, which Segment's own correction takes as
 * the true one, while a device clock may be far off (README, "Times in
 * the future"). The first present decides, as timestamp does. Returns
 * the token, or -1 if none is present.
 */
static int event_time_other(const struct event_slots *s, const char **field)
{
	if (s->original_timestamp >= 0) {
		*field = "originalTimestamp";
		return s->original_timestamp;
	}
	if (s->received_at >= 0) {
		*field = "receivedAt";
		return s->received_at;
	}
	*field = "sentAt";
	return s->sent_at;
}

static int event_time_set(struct event_ctx *c, const struct event_slots *s)
{
	int ti = s->timestamp;
	const char *field = "timestamp";
	struct strv t;

	if (ti < 0) {
		ti = event_time_other(s, &field);
		if (ti < 0)
			return event_fail(c, EVENT_ERR_BAD_TIMESTAMP,
					  "no timestamp, originalTimestamp, "
					  "receivedAt or sentAt");
		/* sentAt and receivedAt are not type-checked up front:
		 * where they are not read, they are ignored, whatever they
		 * hold */
		if (c->tok[ti].type != TOK_STRING)
			return event_fail(c, EVENT_ERR_BAD_TIMESTAMP,
					  "field %s is not an ISO 8601 time",
					  field);
	}
	if (event_str(c, ti, &t, field) < 0)
		return -1;
	/* the usual spelling inline: a call and its saved registers cost a
	 * fifth of the parse of a time */
	if (!event_ts_usual(t.p, t.len, &c->ev->ts_ms) &&
	    event_timestamp_parse_full(t.p, t.len, &c->ev->ts_ms) < 0)
		return event_fail(c, EVENT_ERR_BAD_TIMESTAMP,
				  "field %s is not an ISO 8601 time", field);
	return 0;
}

/* ---- event_parse ---- */

static void event_reset(struct event *ev)
{
	/*
	 * Not memset: props/traits/scratch are large and only read up to n.
	 * One assignment per field: chained ones (a = b = STRV_NULL) made gcc
	 * store each slice, load it back sixteen bytes wide and store that, a
	 * load that waits on two narrower stores (1% of the run's cycles).
	 */
	ev->type = EVENT_TRACK;
	ev->message_id = STRV_NULL;
	ev->user_id = STRV_NULL;
	ev->anonymous_id = STRV_NULL;
	ev->email = STRV_NULL;
	ev->lead_key = STRV_NULL;
	ev->name = STRV_NULL;
	ev->path = STRV_NULL;
	ev->url = STRV_NULL;
	ev->group_id = STRV_NULL;
	ev->ts_ms = 0;
	ev->nprops = ev->ntraits = 0;
	ev->scratch_used = 0;
}

static int event_fields_read(struct event_ctx *c, const struct event_slots *s)
{
	struct event *ev = c->ev;
	struct event_context x;
	struct event_fields props = {ev->props, &ev->nprops, STRV_NULL,
				     "properties"};
	int name = ev->type == EVENT_TRACK ? s->event
		   : ev->type == EVENT_PAGE || ev->type == EVENT_SCREEN
			   ? s->name
			   : -1;
	/* the name comes from one of two fields: a message names the one
	 * the event sent */
	const char *name_field = ev->type == EVENT_TRACK ? "event" : "name";

	event_context_find(c, s, &x);
	if (event_opt_str(c, s->message_id, &ev->message_id, "messageId") ||
	    event_id_get(c, s->user_id, &ev->user_id, "userId") ||
	    event_id_get(c, s->anonymous_id, &ev->anonymous_id,
			 "anonymousId") ||
	    event_opt_str(c, name, &ev->name, name_field) ||
	    event_group_id_get(c, s->group_id, x.group_id, &ev->group_id) ||
	    event_fields_fill(c, &props, s->properties) ||
	    event_traits_fill(c, s, &x) || event_page_get(c, s, &x) ||
	    event_email_get(c, s, &x))
		return -1;
	return 0;
}

/*
 * Both entry points in one function, not inlined into either: the
 * profile a PGO build is trained with (simulate, which parses lines)
 * then also optimises the path the daemon takes with exact messages.
 */
__attribute__((noinline)) static int event_parse_in(const char *buf, size_t len,
						    struct event *ev,
						    struct event_error *err,
						    size_t *line_len)
{
	struct event_tok tok[EVENT_MAX_TOKENS];
	struct event_ctx c = {.buf = buf, .len = len, .ev = ev, .err = err};
	struct event_slots s;

	event_reset(ev);
	if (err != NULL) {
		err->reason = EVENT_OK;
		err->msg[0] = '\0';
	}
	if (buf == NULL || len == 0)
		return event_fail(&c, EVENT_ERR_NOT_JSON, "event is empty");
	if (len > EVENT_MAX_BYTES && line_len == NULL)
		return event_fail(&c, EVENT_ERR_TOO_LARGE,
				  "event is %zu bytes, more than %d", len,
				  EVENT_MAX_BYTES);
	if (event_tokenize(&c, tok, &s, line_len) < 0)
		return -1;
	/* string-typed fields that are not read for this type still count */
	if (event_want(&c, s.event, TOK_STRING, "event") < 0 ||
	    event_want(&c, s.name, TOK_STRING, "name") < 0 ||
	    event_want(&c, s.message_id, TOK_STRING, "messageId") < 0 ||
	    event_id_want(&c, s.group_id, "groupId") < 0 ||
	    event_types_check(&c, &s) < 0 || event_type_get(&c, &s) < 0 ||
	    event_fields_read(&c, &s) < 0 || event_time_set(&c, &s) < 0 ||
	    event_identity_set(&c) < 0)
		return -1;
	return 0;
}

int event_parse(const char *buf, size_t len, struct event *ev,
		struct event_error *err)
{
	return event_parse_in(buf, len, ev, err, NULL);
}

int event_parse_line(const char *buf, size_t avail, struct event *ev,
		     size_t *line_len)
{
	/* the longest line that can hold an event: EVENT_MAX_BYTES, a
	 * carriage return and the newline */
	if (avail > EVENT_MAX_BYTES + 2)
		avail = EVENT_MAX_BYTES + 2;
	return event_parse_in(buf, avail, ev, NULL, line_len);
}

/* ---- lookups ---- */

const struct jval *event_prop_get(const struct event *ev, const char *name)
{
	return event_field_find(ev->props, ev->nprops, name, strlen(name));
}

const struct jval *event_trait_get(const struct event *ev, const char *name)
{
	return event_field_find(ev->traits, ev->ntraits, name, strlen(name));
}

/* ---- timestamps ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static inline int64_t event_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned event_month_days(int y, unsigned m)
{
	static const unsigned char days[] = {31, 28, 31, 30, 31, 30,
					     31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s[i]; -1 if any is not a digit. */
static int event_num_at(const char *s, size_t len, size_t i, size_t n)
{
	int v = 0;

	if (i + n > len)
		return -1;
	for (size_t k = i; k < i + n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	return v;
}

/* The two digits at s as a number, or -1: the caller checked the length. */
static inline int event_2digits(const char *s)
{
	unsigned a = (unsigned)(unsigned char)s[0] - '0';
	unsigned b = (unsigned)(unsigned char)s[1] - '0';

	return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* "Z", "+hh:mm", "-hh:mm", "+hhmm" or nothing (UTC) from s[i]. */
static int event_tz_parse(const char *s, size_t len, size_t i, int *off_min)
{
	int sign, hh, mm;
	size_t mpos;

	*off_min = 0;
	if (i == len)
		return 0;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		return 0;
	if (s[i] != '+' && s[i] != '-')
		return -1;
	sign = s[i] == '-' ? -1 : 1;
	hh = event_num_at(s, len, i + 1, 2);
	mpos = i + 3 < len && s[i + 3] == ':' ? i + 4 : i + 3;
	mm = event_num_at(s, len, mpos, 2);
	if (hh < 0 || mm < 0 || hh > 23 || mm > 59 || mpos + 2 != len)
		return -1;
	*off_min = sign * (hh * 60 + mm);
	return 0;
}

int event_timestamp_parse_full(const char *s, size_t len, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, off;
	size_t i = 19;

	if (s == NULL || len < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	y = event_2digits(s);
	y = y < 0 || event_2digits(s + 2) < 0 ? -1
					      : y * 100 + event_2digits(s + 2);
	mo = event_2digits(s + 5);
	d = event_2digits(s + 8);
	h = event_2digits(s + 11);
	mi = event_2digits(s + 14);
	sec = event_2digits(s + 17);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 ||
	    d > (int)event_month_days(y, (unsigned)mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		size_t f0 = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (i - f0 < 3)
				frac = frac * 10 + (s[i] - '0');
		if (i == f0)
			return -1;
		for (size_t k = i - f0; k < 3; k++)
			frac *= 10; /* ".5" is 500 ms */
	}
	if (event_tz_parse(s, len, i, &off) < 0)
		return -1;
	int64_t days = event_days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off * 60;
	*ms = secs * 1000 + frac;
	return 0;
}

/*
 * The fast path reads the digits in pairs out of little-endian words; on
 * any other byte order every time takes the full parser. The guard spans
 * all of its helpers, or they would be unused there (an error under
 * clang's -Werror).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

/* The pattern of the usual spelling: where the digits go, and what else. */
static const char event_ts_form[25] = "0000-00-00T00:00:00.000Z";
static const char event_ts_digit[25] = "\xff\xff\xff\xff\0\xff\xff\0"
				       "\xff\xff\0\xff\xff\0\xff\xff"
				       "\0\xff\xff\0\xff\xff\xff";

static inline uint64_t event_u64_at(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Nonzero unless the eight bytes at s follow the eight of the pattern: a
 * digit where it has a digit, its byte elsewhere. Against the pattern
 * ('0' at a digit) a digit leaves 0 to 9: a high nibble of 0 that adding
 * 6 keeps 0. Adding 6 carries into the next byte only from a byte whose
 * high nibble is wrong already.
 */
static inline uint64_t event_ts_mismatch(const char *s, size_t at)
{
	const uint64_t hi = 0xf0f0f0f0f0f0f0f0ULL, six = 0x0606060606060606ULL;
	uint64_t x = event_u64_at(s + at) ^ event_u64_at(event_ts_form + at);
	uint64_t m = event_u64_at(event_ts_digit + at);

	return (x & (~m | (m & hi))) | ((x + (m & six)) & m & hi);
}

/*
 * Byte i of the result is 10 * digit i + digit i + 1 of the eight bytes at
 * s + at, where both are digits (little-endian). The low nibbles are at
 * most 15, so no byte exceeds 165 and none carries into the next.
 */
static inline uint64_t event_ts_pairs(const char *s, size_t at)
{
	uint64_t d = event_u64_at(s + at) & 0x0f0f0f0f0f0f0f0fULL;

	return d * 10 + (d >> 8);
}

static inline unsigned event_ts_byte(uint64_t w, unsigned i)
{
	return (unsigned)(w >> (8 * i)) & 0xff;
}

/*
 * "2026-03-01T00:00:00.000Z", what nearly every event carries: 24 bytes,
 * the form checked eight at a time, the digits read two at a time, and
 * the day counted for the years 1970 to 2099 only, where every fourth
 * year is a leap year. False for any other input and for fields out of
 * range, which the full parser then accepts or rejects: what is valid is
 * defined there only.
 */
__attribute__((always_inline)) static inline bool
event_ts_usual(const char *s, size_t len, int64_t *ms)
{
	static const unsigned short before[12] = {0,   31,  59,  90,  120, 151,
						  181, 212, 243, 273, 304, 334};
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31};
	uint64_t p0, p8, p16;
	unsigned y, mo, d, h, mi, sec, frac, leap;
	int64_t days;

	if (len != 24 || (event_ts_mismatch(s, 0) | event_ts_mismatch(s, 8) |
			  event_ts_mismatch(s, 16)) != 0)
		return false;
	p0 = event_ts_pairs(s, 0);
	p8 = event_ts_pairs(s, 8);
	p16 = event_ts_pairs(s, 16);
	y = event_ts_byte(p0, 0) * 100 + event_ts_byte(p0, 2);
	mo = event_ts_byte(p0, 5);
	d = event_ts_byte(p8, 0);
	h = event_ts_byte(p8, 3);
	mi = event_ts_byte(p8, 6);
	sec = event_ts_byte(p16, 1);
	frac = event_ts_byte(p16, 4) * 10 + (unsigned)(s[22] - '0');
	if (y - 1970 >= 130 || mo - 1 >= 12 || h > 23 || mi > 59 || sec > 60)
		return false;
	leap = mo == 2 && y % 4 == 0;
	if (d - 1 >= mdays[mo - 1] + leap)
		return false;
	days = (int64_t)((y - 1970) * 365 + (y - 1969) / 4 + before[mo - 1] +
			 (mo > 2 && y % 4 == 0) + d - 1);
	*ms = days * 86400000 +
	      (int64_t)(h * 3600000 + mi * 60000 + sec * 1000 + frac);
	return true;
}

#else

static inline bool event_ts_usual(const char *s, size_t len, int64_t *ms)
{
	(void)s;
	(void)len;
	(void)ms;
	return false;
}

#endif

int event_timestamp_parse(const char *s, size_t len, int64_t *ms)
{
	if (s != NULL && event_ts_usual(s, len, ms))
		return 0;
	return event_timestamp_parse_full(s, len, ms);
}

/* ---- plausibility against a clock ---- */

/* Off the parse path: the daemon calls it once per parsed event. Event
 * times lie within years 0000..9999 and a clock near now, so the
 * difference cannot overflow. Seconds are rounded up, so that a time 1 ms
 * past the bound never reads as being at it. */
int event_time_check(int64_t ts_ms, int64_t now_ms, int64_t max_ahead_ms,
		     struct event_error *err)
{
	int64_t ahead = ts_ms - now_ms;

	if (max_ahead_ms <= 0 || ahead <= max_ahead_ms)
		return 0;
	if (err == NULL)
		return -1;
	err->reason = EVENT_ERR_BAD_TIMESTAMP;
	snprintf(err->msg, sizeof(err->msg),
		 "event time is %lld s (%.1f days) ahead of the daemon's "
		 "clock; at most %lld s are allowed",
		 (long long)((ahead + 999) / 1000), (double)ahead / 86400000.0,
		 (long long)((max_ahead_ms + 999) / 1000));
	return -1;
}
