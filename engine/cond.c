/*
 * cond.c - one definition of what a rule condition means.
 *
 * Strings compare case-insensitively except PREFIX (paths are
 * case-sensitive on most web servers). Numeric operators accept numbers and
 * strings that are entirely a number, because producers are inconsistent
 * about "employees": 500 versus "500". A missing value fails every test but
 * EXISTS, and negate flips the final answer, so "not IN [x]" holds for a
 * lead that has no value at all.
 */
#include "cond.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define COND_SCRATCH 256

/*
 * Case folding is ASCII: leadrouter never calls setlocale, so the C
 * locale's tolower and strncasecmp, which this replaces, folded A-Z and
 * nothing else. Inline, it costs no call per byte on the per-event path.
 */
static inline unsigned char cond_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The n bytes at a and b are equal ignoring ASCII case. */
static bool cond_mem_eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cond_lower((unsigned char)a[i]) !=
		    cond_lower((unsigned char)b[i]))
			return false;
	return true;
}

static void cond_fold(char *dst, const char *src, size_t n);

/* Folded titles up to this long are searched a block at a time. */
#define COND_HAY_SHORT 32

/* s folded into hay (COND_SCRATCH bytes, s.len no more), its first
 * COND_HAY_SHORT bytes zeroed first so that cond_hay_mask reads no byte
 * that was never written. */
static inline void cond_hay_fold(char *hay, struct strv s)
{
	memset(hay, 0, COND_HAY_SHORT);
	cond_fold(hay, s.p, s.len);
}

/* The places of byte c (not NUL) among the first hlen (at most
 * COND_HAY_SHORT) bytes of a hay from cond_hay_fold, as bits: two
 * 16-byte compares where a memchr call for every needle cost more on
 * titles of a few words. */
static inline uint32_t cond_hay_mask(const char *hay, size_t hlen,
				     unsigned char c)
{
	uint32_t m = 0;
#ifdef __SSE2__
	__m128i k = _mm_set1_epi8((char)c);
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)hay);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(hay + 16));

	m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, k)) |
	    (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, k)) << 16;
#else
	for (size_t i = 0; i < COND_HAY_SHORT; i++)
		m |= (uint32_t)((unsigned char)hay[i] == c) << i;
#endif
	return hlen < COND_HAY_SHORT ? m & ((UINT32_C(1) << hlen) - 1) : m;
}

/* How far needle (its first byte matched at p) goes on matching the room
 * bytes at p, folded as it is compared: at needle's NUL, it is there. */
static inline size_t cond_folded_match(const char *p, size_t room,
				       const char *needle)
{
	size_t j = 1;

	while (needle[j] != '\0' && j < room &&
	       (unsigned char)p[j] == cond_lower((unsigned char)needle[j]))
		j++;
	return j;
}

bool cond_parse_number(struct strv s, double *out)
{
	char buf[64];
	char *end;

	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	/* strtod also takes leading blanks of every kind (\r, \f, \v), hex
	 * ("0x10" is 16) and "infinity"; a producer's "employees" string is
	 * a number only when it is spelt as a decimal one */
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	if (strspn(buf, "0123456789+-.eE") != s.len)
		return false;
	*out = strtod(buf, &end);
	return end == buf + s.len && isfinite(*out);
}

/* strncasecmp stopped at a NUL in both strings; slices compare all
 * their bytes, and that only differs for a NUL inside the needle, which
 * no configured string (a C string) has. */
bool cond_contains_nocase(struct strv hay, struct strv needle)
{
	unsigned char first;

	if (needle.len == 0)
		return true;
	first = cond_lower((unsigned char)needle.p[0]);
	for (size_t i = 0; i + needle.len <= hay.len; i++)
		if (cond_lower((unsigned char)hay.p[i]) == first &&
		    cond_mem_eq_nocase(hay.p + i + 1, needle.p + 1,
				       needle.len - 1))
			return true;
	return false;
}

bool cond_email_domain(struct strv email, char *buf, size_t cap,
		       struct strv *out)
{
	const char *at;
	size_t n;

	/* "bob@gmail.com " and "dan@gmail.com." are at gmail.com, as they
	 * are the leads bob@ and dan@gmail.com (event.c), or the
	 * disqualifiers and named accounts would not see the domain */
	email = strv_email_trim(email);
	at = email.len ? memrchr(email.p, '@', email.len) : NULL;
	if (!at)
		return false;
	n = email.len - (size_t)(at + 1 - email.p);
	if (n == 0 || n >= cap)
		return false;
	cond_fold(buf, at + 1, n); /* eight bytes at a time */
	buf[n] = '\0';
	*out = (struct strv){buf, n};
	return true;
}

bool cond_domain_parent(struct strv *dom)
{
	const char *dot = dom->len ? memchr(dom->p, '.', dom->len) : NULL;
	size_t n;

	if (!dot)
		return false;
	n = dom->len - (size_t)(dot + 1 - dom->p);
	if (!memchr(dot + 1, '.', n))
		return false;
	*dom = (struct strv){dot + 1, n};
	return true;
}

/* A byte that is part of a word: an ASCII letter or digit, or any byte
 * of a multi-byte UTF-8 character, so that a title in another script or
 * with accents ("Internacionalización") is not cut into words at them. */
static inline bool cond_word_byte(unsigned char c)
{
	unsigned char l = cond_lower(c);

	return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'z') || c >= 0x80;
}

/* needle occurs in hay, ignoring ASCII case, starting and ending at a word
 * boundary. Only the word starts of hay are tried, so a title costs one
 * pass plus a compare per word; the needle is folded as it is compared,
 * which keeps hand-built configs with upper-case entries right. */
static bool cond_word_find(struct strv hay, const char *needle)
{
	size_t nl = strlen(needle);
	unsigned char first;

	if (nl == 0)
		return false; /* an empty entry is no word */
	first = cond_lower((unsigned char)needle[0]);
	for (size_t i = 0; i + nl <= hay.len; i++) {
		/* the first byte rules out nearly every place, cheapest */
		if (cond_lower((unsigned char)hay.p[i]) != first)
			continue;
		if (i > 0 && cond_word_byte((unsigned char)hay.p[i - 1]))
			continue;
		if (i + nl < hay.len &&
		    cond_word_byte((unsigned char)hay.p[i + nl]))
			continue;
		if (cond_mem_eq_nocase(hay.p + i, needle, nl))
			return true;
	}
	return false;
}

/* cond_word_find in hay (from cond_hay_fold): the needle's first byte
 * is found with cond_hay_mask, or memchr in longer titles, the rest
 * folded as it is compared (up to its NUL, not measured first), and
 * only then the word boundaries are looked at. */
static inline bool cond_folded_word_at(const char *hay, size_t hlen, size_t at,
				       const char *needle)
{
	size_t room = hlen - at, j = cond_folded_match(hay + at, room, needle);

	return needle[j] == '\0' &&
	       (at == 0 || !cond_word_byte((unsigned char)hay[at - 1])) &&
	       (j == room || !cond_word_byte((unsigned char)hay[at + j]));
}

static bool cond_folded_word_find(const char *hay, size_t hlen,
				  const char *needle)
{
	unsigned char first = cond_lower((unsigned char)needle[0]);
	const char *p = hay, *end = hay + hlen;

	if (first == '\0')
		return false; /* an empty entry is no word */
	if (hlen <= COND_HAY_SHORT) {
		for (uint32_t m = cond_hay_mask(hay, hlen, first); m;
		     m &= m - 1)
			if (cond_folded_word_at(hay, hlen,
						(size_t)__builtin_ctz(m),
						needle))
				return true;
		return false;
	}
	while (p < end && (p = memchr(p, first, (size_t)(end - p))) != NULL) {
		if (cond_folded_word_at(hay, hlen, (size_t)(p - hay), needle))
			return true;
		p++;
	}
	return false;
}

/* Titles are tested against a list of words: the title is folded once,
 * as cond_any_contains does, rather than every byte for every word.
 * Longer titles take cond_word_find on the bytes as they are. */
bool cond_any_word(struct strv s, char *const *strs, size_t n)
{
	char hay[COND_SCRATCH];

	if (s.len > sizeof(hay)) {
		for (size_t i = 0; i < n; i++)
			if (cond_word_find(s, strs[i]))
				return true;
		return false;
	}
	cond_hay_fold(hay, s);
	for (size_t i = 0; i < n; i++)
		if (cond_folded_word_find(hay, s.len, strs[i]))
			return true;
	return false;
}

/* The text a string operator sees: strings as they are, numbers as their
 * literal, booleans as true/false. */
static bool cond_value_text(const struct jval *v, struct strv *out)
{
	switch (v->kind) {
	case JVAL_STRING:
	case JVAL_NUMBER:
		*out = v->str;
		return true;
	case JVAL_BOOL:
		*out = strv_from(v->num != 0 ? "true" : "false");
		return true;
	default:
		return false;
	}
}

static bool cond_value_number(const struct jval *v, double *out)
{
	if (v->kind == JVAL_NUMBER) {
		*out = v->num;
		return true;
	}
	if (v->kind == JVAL_STRING)
		return cond_parse_number(v->str, out);
	return false;
}

/* The length of the condition's string i: the loader's, or measured. */
static inline size_t cond_str_len(const size_t *lens, char *const *strs,
				  size_t i)
{
	return lens ? lens[i] : strlen(strs[i]);
}

/* s equals want (want_len bytes) ignoring case. Only called once the
 * first bytes agree, so the strings usually are equal: the lengths and
 * one compare of the whole slice settle that without the per-byte
 * folding, which is left for values whose case differs. */
static bool cond_eq_nocase(struct strv s, const char *want, size_t want_len)
{
	if (want_len != s.len)
		return false;
	if (strv_mem_eq(s.p, want, s.len))
		return true;
	return cond_mem_eq_nocase(s.p, want, s.len);
}

/* s equals one of the n strings ignoring case. The first byte, folded
 * once, turns most candidates away before a compare: score rules
 * compare every event's name with a few of them. lens as in struct
 * cond. */
static bool cond_any_eq_nocase(struct strv s, char *const *strs,
			       const size_t *lens, size_t n)
{
	unsigned char first;

	if (s.len == 0) {
		for (size_t i = 0; i < n; i++)
			if (strs[i][0] == '\0')
				return true;
		return false;
	}
	first = cond_lower((unsigned char)s.p[0]);
	for (size_t i = 0; i < n; i++)
		if (cond_lower((unsigned char)strs[i][0]) == first &&
		    cond_eq_nocase(s, strs[i], cond_str_len(lens, strs, i)))
			return true;
	return false;
}

/* s starts with want (NUL-terminated), case-sensitively. A byte loop:
 * the prefixes are short paths that most paths leave after a byte or
 * two, where a strlen and a memcmp call cost several times more. */
static bool cond_has_prefix(struct strv s, const char *want)
{
	for (size_t i = 0; want[i] != '\0'; i++)
		if (i >= s.len || s.p[i] != want[i])
			return false;
	return true;
}

/* With the loader's lengths, a prefix is a length check and a compare of
 * words: the score index leaves mostly paths that do start with one of
 * them, which the byte loop walked to the end. */
static bool cond_any_prefix(struct strv s, char *const *strs,
			    const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lens ? lens[i] <= s.len &&
				    strv_mem_eq(s.p, strs[i], lens[i])
			 : cond_has_prefix(s, strs[i]))
			return true;
	return false;
}

/* Eight bytes folded at once, as cond_lower does each: a byte gets 0x20
 * when it lies in 'A'..'Z'. On the low seven bits, + 0x3f carries into
 * bit 7 from 'A' up and + 0x25 from 'Z' + 1 up, never into the next
 * byte; bytes from 0x80 up are masked out by ~x. */
static uint64_t cond_lower8(uint64_t x)
{
	const uint64_t high = UINT64_C(0x8080808080808080);
	uint64_t low7 = x & ~high;
	uint64_t ge_a = low7 + UINT64_C(0x3f3f3f3f3f3f3f3f);
	uint64_t gt_z = low7 + UINT64_C(0x2525252525252525);

	return x | ((ge_a & ~gt_z & ~x & high) >> 2);
}

/* n bytes at src, folded to lower case, into dst. */
static void cond_fold(char *dst, const char *src, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		w = cond_lower8(w);
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = (char)cond_lower((unsigned char)src[i]);
}

/* needle (NUL-terminated, not empty, any case) occurs in hay (from
 * cond_hay_fold). The slices are short titles, where memmem's setup
 * costs more than finding the first byte (cond_hay_mask, or memchr in
 * longer ones); the needle, a configured string, is folded as it is
 * compared rather than copied on every call, and compared up to its NUL
 * rather than measured first. */
static bool cond_folded_find(const char *hay, size_t hlen, const char *needle)
{
	unsigned char first = cond_lower((unsigned char)needle[0]);
	const char *p = hay, *end = hay + hlen;

	if (hlen <= COND_HAY_SHORT) {
		for (uint32_t m = cond_hay_mask(hay, hlen, first); m;
		     m &= m - 1) {
			size_t at = (size_t)__builtin_ctz(m);
			if (needle[cond_folded_match(hay + at, hlen - at,
						     needle)] == '\0')
				return true;
		}
		return false;
	}
	while (p < end && (p = memchr(p, first, (size_t)(end - p))) != NULL) {
		if (needle[cond_folded_match(p, (size_t)(end - p), needle)] ==
		    '\0')
			return true;
		p++;
	}
	return false;
}

/* Titles are tested against several needles: the title is folded once
 * and each needle found in it with cond_folded_find, instead of folding
 * every byte of the title again for every needle. Longer titles take the
 * slice-by-slice path. */
bool cond_any_contains(struct strv s, char *const *strs, size_t n)
{
	char hay[COND_SCRATCH];

	if (s.len > sizeof(hay)) {
		for (size_t i = 0; i < n; i++)
			if (cond_contains_nocase(s, strv_from(strs[i])))
				return true;
		return false;
	}
	cond_hay_fold(hay, s);
	for (size_t i = 0; i < n; i++)
		if (strs[i][0] == '\0' || cond_folded_find(hay, s.len, strs[i]))
			return true;
	return false;
}

/* The operator is the same for every string, so it is looked at once. */
static bool cond_test_strings(const struct cond *c, struct strv s)
{
	switch (c->op) {
	case COND_EQ:
	case COND_IN:
		return cond_any_eq_nocase(s, c->strs, c->lens, c->nstrs);
	case COND_PREFIX:
		return cond_any_prefix(s, c->strs, c->lens, c->nstrs);
	case COND_CONTAINS:
		return cond_any_contains(s, c->strs, c->nstrs);
	case COND_WORD:
		return cond_any_word(s, c->strs, c->nstrs);
	default:
		return false;
	}
}

static bool cond_test_number(const struct cond *c, double x)
{
	switch (c->op) {
	case COND_EQ:
		return x == c->num;
	case COND_LT:
		return x < c->num;
	case COND_LE:
		return x <= c->num;
	case COND_GT:
		return x > c->num;
	case COND_GE:
		return x >= c->num;
	default:
		return false;
	}
}

static bool cond_test_raw(const struct cond *c, const struct jval *v)
{
	struct strv s;
	double x;

	if (!v)
		return false;
	if (c->op == COND_EXISTS)
		return v->kind != JVAL_NULL;
	if (c->op >= COND_LT || (c->op == COND_EQ && c->is_num))
		return cond_value_number(v, &x) && cond_test_number(c, x);
	return cond_value_text(v, &s) && cond_test_strings(c, s);
}

bool cond_test_value(const struct cond *c, const struct jval *v)
{
	return cond_test_raw(c, v) != c->negate;
}

/* cond_test_raw's steps for a string value, with one switch on the
 * operator: EXISTS holds, the order operators and a numeric EQ read a
 * number, the rest compare text. */
bool cond_test_str(const struct cond *c, struct strv s)
{
	double x;
	bool r;

	if (!s.p)
		return c->negate;
	switch (c->op) {
	case COND_EQ:
		if (c->is_num) {
			r = cond_parse_number(s, &x) && cond_test_number(c, x);
			break;
		}
		/* fall through */
	case COND_IN:
		r = cond_any_eq_nocase(s, c->strs, c->lens, c->nstrs);
		break;
	case COND_PREFIX:
		r = cond_any_prefix(s, c->strs, c->lens, c->nstrs);
		break;
	case COND_CONTAINS:
		r = cond_any_contains(s, c->strs, c->nstrs);
		break;
	case COND_WORD:
		r = cond_any_word(s, c->strs, c->nstrs);
		break;
	case COND_EXISTS:
		r = true;
		break;
	default:
		r = cond_parse_number(s, &x) && cond_test_number(c, x);
		break;
	}
	return r != c->negate;
}

bool cond_eval(const struct cond *c, cond_lookup_cb fn, void *arg)
{
	char scratch[COND_SCRATCH];
	struct jval v;
	bool found = fn(arg, c->src, c->name, &v, scratch, sizeof(scratch));

	return cond_test_value(c, found ? &v : NULL);
}

bool cond_eval_all(const struct cond *cs, size_t n, cond_lookup_cb fn,
		   void *arg)
{
	for (size_t i = 0; i < n; i++)
		if (!cond_eval(&cs[i], fn, arg))
			return false;
	return true;
}

static bool cond_field_find(const struct event_field *fs, size_t n,
			    const char *name, struct jval *out)
{
	if (!name)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (strv_eq(fs[i].name, name)) {
			*out = fs[i].val;
			return true;
		}
	}
	return false;
}

static bool cond_slice_value(struct strv s, struct jval *out)
{
	if (!s.p)
		return false;
	*out = (struct jval){.kind = JVAL_STRING, .str = s};
	return true;
}

bool cond_event_lookup_cb(void *arg, enum field_src src, const char *name,
			  struct jval *out, char *scratch, size_t cap)
{
	const struct event *ev = arg;
	struct strv dom;

	switch (src) {
	case FIELD_EVENT_NAME:
		return cond_slice_value(ev->name, out);
	case FIELD_PATH:
		return cond_slice_value(ev->path, out);
	case FIELD_URL:
		return cond_slice_value(ev->url, out);
	case FIELD_PROPERTY:
		return cond_field_find(ev->props, ev->nprops, name, out);
	case FIELD_TRAIT:
		return cond_field_find(ev->traits, ev->ntraits, name, out);
	case FIELD_EMAIL_DOMAIN:
		if (!cond_email_domain(ev->email, scratch, cap, &dom))
			return false;
		return cond_slice_value(dom, out);
	}
	return false;
}
