/*
 * cond.h - evaluation of one rule condition (struct cond in rules.h).
 *
 * Scoring reads values from an event, fit grading and territory matching
 * read them from a lead's stored traits. Both go through the same test so
 * that "EQ", "IN", "CONTAINS" and friends mean exactly one thing everywhere;
 * the caller only supplies a lookup that turns (source, name) into a value.
 */
#ifndef LR_COND_H
#define LR_COND_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "rules.h"

/*
 * Resolve a field into *out. Returns false when the field is absent. out's
 * string may point into scratch (cap bytes) owned by the caller of
 * cond_eval, e.g. for a lower-cased e-mail domain.
 */
typedef bool (*cond_lookup_cb)(void *arg, enum field_src src, const char *name,
			       struct jval *out, char *scratch, size_t cap);

/* Test a value (NULL: absent) against c, negate included. */
bool cond_test_value(const struct cond *c, const struct jval *v);
/* cond_test_value on a string (s.p NULL: absent), without a jval. */
bool cond_test_str(const struct cond *c, struct strv s);
bool cond_eval(const struct cond *c, cond_lookup_cb fn, void *arg);
/* True when every condition holds (and for n == 0). */
bool cond_eval_all(const struct cond *cs, size_t n, cond_lookup_cb fn,
		   void *arg);

/* Lookup over a parsed event; arg is a const struct event *. */
bool cond_event_lookup_cb(void *arg, enum field_src src, const char *name,
			  struct jval *out, char *scratch, size_t cap);

/* Lower-cased domain of an e-mail address into buf; false when none.
 * ASCII white space around the address is not part of it, nor is one
 * trailing dot of the domain ("gmail.com." is gmail.com). */
bool cond_email_domain(struct strv email, char *buf, size_t cap,
		       struct strv *out);
/* Step *dom to its parent domain ("eu.acme.com" -> "acme.com"), the one
 * rule both disqualifiers and named accounts use for subdomains. False,
 * *dom untouched, when there is none or it would have no dot: a top-level
 * domain ("com") is no company's. */
bool cond_domain_parent(struct strv *dom);
/* A whole-slice decimal number ("42", " 1e3" is not). */
bool cond_parse_number(struct strv s, double *out);
/* Case-insensitive substring test on slices. */
bool cond_contains_nocase(struct strv hay, struct strv needle);
/* cond_contains_nocase of s and any of the n strings, with s folded once
 * for all of them rather than byte by byte for each. */
bool cond_any_contains(struct strv s, char *const *strs, size_t n);
/* One of the n strings occurs in s as a whole word or phrase, ignoring
 * ASCII case: it starts at the start of s or after a byte that is not an
 * ASCII letter or digit, and ends at the end of s or before one (bytes of
 * non-ASCII characters count as letters). "intern" is in "Marketing
 * Intern" and "intern (sales)", not in "International". */
bool cond_any_word(struct strv s, char *const *strs, size_t n);

#endif
