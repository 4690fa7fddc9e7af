/*
 * unescape.h - decode the text of one JSON string (the bytes between its
 * quotes) into UTF-8: every RFC 8259 escape, a \uXXXX surrogate pair as one
 * four-byte sequence.
 *
 * Shared by the event parser (engine/event.c) and the feedback parser
 * (daemon/feedback.c), which keep their slices into the message and call
 * this only for a string with a backslash in it. It is header-only, like
 * iso_time.h, so that the fuzzers that compile event.c alone still link.
 *
 * The decoder is strict on its own, whatever its caller's tokenizer
 * checked: an unknown escape, a short or non-hex \u and a lone surrogate
 * are refused here (jsmn, under the feedback parser, checks the escapes
 * but never pairs surrogates).
 * Bytes that are not escapes are copied as they are; checking them (control
 * bytes, UTF-8) is the caller's tokenizer's job. The output is never longer
 * than the input (\uXXXX is six bytes for at most three, a surrogate pair
 * twelve for four), so cap = n always suffices.
 */
#ifndef LR_UNESCAPE_H
#define LR_UNESCAPE_H

#include <stddef.h>

enum unescape_result {
	UNESCAPE_OK = 0,
	UNESCAPE_BAD_ESCAPE,     /* unknown escape, bad \u digits, lone \ */
	UNESCAPE_LONE_SURROGATE, /* a \uD800-\uDFFF not in a high-low pair */
	UNESCAPE_TOO_LONG,       /* the text needs more than cap bytes */
};

static inline int unescape_hex4(const char *s, size_t i, size_t n,
				unsigned *out)
{
	unsigned v = 0;

	if (i + 4 > n)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char h = s[k];
		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned)(h - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static inline size_t unescape_utf8_len(unsigned cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static inline size_t unescape_utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The code point of the \u escape whose digits start at s[i] (just past
 * the 'u'), with the low half of a pair that follows it, and in *used the
 * bytes read from s[i].
 */
static inline enum unescape_result
unescape_unicode(const char *s, size_t i, size_t n, unsigned *cp, size_t *used)
{
	unsigned hi, lo;

	if (unescape_hex4(s, i, n, &hi) < 0)
		return UNESCAPE_BAD_ESCAPE;
	if (hi < 0xd800 || hi > 0xdfff) {
		*cp = hi;
		*used = 4;
		return UNESCAPE_OK;
	}
	/* a high half must be followed at once by an escaped low half */
	if (hi > 0xdbff || i + 10 > n || s[i + 4] != '\\' || s[i + 5] != 'u' ||
	    unescape_hex4(s, i + 6, n, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return UNESCAPE_LONE_SURROGATE;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	*used = 10;
	return UNESCAPE_OK;
}

/*
 * Decode s[0..n) into out (room for cap bytes); *len gets the decoded
 * length. On failure out holds partial text and *len is 0.
 */
static inline enum unescape_result
unescape_json(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
	size_t i = 0, o = 0, used;
	enum unescape_result r;
	unsigned cp;

	*len = 0;
	while (i < n) {
		char ch = s[i++];
		if (ch == '\\') {
			if (i >= n)
				return UNESCAPE_BAD_ESCAPE;
			switch (s[i++]) {
			case '"':
				ch = '"';
				break;
			case '\\':
				ch = '\\';
				break;
			case '/':
				ch = '/';
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case 'u':
				r = unescape_unicode(s, i, n, &cp, &used);
				if (r != UNESCAPE_OK)
					return r;
				if (unescape_utf8_len(cp) > cap - o)
					return UNESCAPE_TOO_LONG;
				o += unescape_utf8_put(out + o, cp);
				i += used;
				continue;
			default:
				return UNESCAPE_BAD_ESCAPE;
			}
		}
		if (o >= cap)
			return UNESCAPE_TOO_LONG;
		out[o++] = ch;
	}
	*len = o;
	return UNESCAPE_OK;
}

#endif
