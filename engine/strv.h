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

static inline bool strv_has_prefix(struct strv a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && (n == 0 || memcmp(a.p, prefix, n) == 0);
}

#endif
