/*
 * jtext.h - compact JSON text exactly as jansson 2.14 writes it with
 * JSON_COMPACT | JSON_REAL_PRECISION(15): an append-only writer, and a
 * reader that accepts only text in that very form.
 *
 * The assign command and the handoff are built once per qualified lead;
 * through jansson's DOM (json_pack, json_loadb, json_dumps) they cost some
 * 600,000 instructions a lead, several percent of a benchmark run. These
 * two halves let stage 1 write the command and stage 2 read it and write
 * the handoff without a DOM, with the bytes jansson would give.
 *
 * The writer escapes strings as jansson's dump_string does ('"', '\\',
 * \b \f \n \r \t, other control bytes as \u00XX in upper-case hex, all
 * else raw) and refuses what jansson refuses: invalid UTF-8 (an overlong
 * form, a surrogate, past U+10FFFF) and reals that are not finite. A
 * refusal sets the buffer's bad flag; the caller then takes jansson's path,
 * which decides what such a value becomes.
 *
 * The reader (jtext_object_scan) accepts a text only when jansson would
 * load it (with JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) and dump it back
 * to the same bytes: no white space, members in place, strings escaped as
 * above, integers as %lld writes them, reals as %.15g with jansson's fixes
 * ("1.0", "1e20"). Then copying a member's text is the same as loading and
 * dumping it. Anything else, invalid or merely written another way, is
 * refused, and the caller parses it with jansson, whose verdict and error
 * messages stay the only ones.
 */
#ifndef LR_JTEXT_H
#define LR_JTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strv.h"

/* A growing, NUL-terminated buffer; p is malloc'd and the caller's to free
 * once bad is false. */
struct jtext {
	char *p;
	size_t len, cap;
	bool bad; /* out of memory or a value jansson would refuse */
};

void jtext_raw_put(struct jtext *b, const char *s, size_t n);
/* A string with jansson's escapes; invalid UTF-8 sets bad. */
void jtext_string_put(struct jtext *b, const char *s, size_t n);
/* s, or null when s.p is NULL. */
void jtext_opt_string_put(struct jtext *b, struct strv s);
void jtext_int_put(struct jtext *b, int64_t v);
/* %.15g, with ".0" when that reads as an integer and the exponent without
 * '+' or leading zeros; not finite sets bad. */
void jtext_real_put(struct jtext *b, double x);
/* Frees the buffer; returns it empty. */
void jtext_reset(struct jtext *b);

/* What a member's value is, from its first byte. */
enum jtext_type {
	JTEXT_OBJECT,
	JTEXT_ARRAY,
	JTEXT_STRING,
	JTEXT_INTEGER,
	JTEXT_REAL,
	JTEXT_TRUE,
	JTEXT_FALSE,
	JTEXT_NULL,
};

/* A member of the top-level object: the key and the value as they are in
 * the text (the key with its quotes, a string value with its quotes). */
struct jtext_member {
	struct strv key;
	struct strv val;
	enum jtext_type type;
};

/* At most this many members in an object and this deep: a text with more
 * is refused (jansson reads it instead). */
#define JTEXT_MEMBERS_MAX 64
#define JTEXT_DEPTH_MAX   16

/*
 * Reads s[0, len) if it is one object in jansson's compact form (see the
 * header comment), with no duplicate key at any depth and no key holding
 * a NUL: fills m with its top-level members in order and returns their
 * count. Returns -1 for any other text.
 */
int jtext_object_scan(const char *s, size_t len,
		      struct jtext_member m[JTEXT_MEMBERS_MAX]);

/* The value of a JTEXT_INTEGER member (at most 18 digits, so it fits). */
int64_t jtext_int_value(struct strv v);

/* A JTEXT_STRING member's contents without the quotes, when it has no
 * escape (the bytes are then the string); false otherwise. */
bool jtext_plain_string(struct strv v, struct strv *out);

#endif
