/*
 * strv.h - a borrowed string slice (pointer and length, not NUL-terminated).
 *
 * The per-event path points into the message it was given instead of copying,
 * so most strings in engine/ are slices. Whoever owns the bytes owns the slice.
 */
#ifndef LR_STRV_H
#define LR_STRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct strv {
	const char *p;
	size_t len;
};

#define STRV_NULL ((struct strv){NULL, 0})

static inline struct strv strv_from(const char *s)
{
	return (struct strv){s, s ? strlen(s) : 0};
}

static inline bool strv_empty(struct strv s)
{
	return s.len == 0;
}

/* The UTF-8 byte order mark Windows tools (PowerShell's Out-File,
 * Notepad) put at the start of a text file; RFC 8259 lets a JSON reader
 * skip one there. */
#define STRV_BOM     "\xef\xbb\xbf"
#define STRV_BOM_LEN 3

/* ASCII white space as C's isspace has it in the "C" locale: space, \t,
 * \n, \v, \f and \r. */
static inline bool strv_space_byte(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * s without the ASCII white space around it. Form and CRM fields often
 * carry a stray blank that is not part of the value; s without any costs
 * a compare of its first and last bytes.
 */
static inline struct strv strv_trim_space(struct strv s)
{
	while (s.len && strv_space_byte(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && strv_space_byte(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* An e-mail address as the engine reads it: without the white space a form
 * or CRM left around it, and without one dot ending its domain (the
 * absolute form: "dan@gmail.com." is dan@gmail.com). The lead key and
 * email_domain both start from this. */
static inline struct strv strv_email_trim(struct strv s)
{
	s = strv_trim_space(s);
	if (s.len > 1 && s.p[s.len - 1] == '.' && memchr(s.p, '@', s.len - 1))
		s.len--;
	return s;
}

static inline bool strv_eq(struct strv a, const char *b)
{
	size_t n = strlen(b);
	/* n == 0 first: STRV_NULL has a NULL p, which memcmp must not see */
	return a.len == n && (n == 0 || memcmp(a.p, b, n) == 0);
}

static inline bool strv_eq_nocase(struct strv a, const char *b)
{
	size_t n = strlen(b);
	return a.len == n && (n == 0 || strncasecmp(a.p, b, n) == 0);
}

/* memcmp(a, b, n) == 0 without the call, for the short names, paths and
 * values traits and conditions compare: whole words, the last one
 * overlapping the one before, and below eight bytes two overlapping
 * halves or three bytes. */
static inline bool strv_mem_eq(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		uint64_t x, y;
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t x0, y0, x1, y1;
		memcpy(&x0, a, 4);
		memcpy(&y0, b, 4);
		memcpy(&x1, a + n - 4, 4);
		memcpy(&y1, b + n - 4, 4);
		return x0 == y0 && x1 == y1;
	}
	return n == 0 ||
	       (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

static inline bool strv_has_prefix(struct strv a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && (n == 0 || memcmp(a.p, prefix, n) == 0);
}

#endif
