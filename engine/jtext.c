/*
 * jtext.c - compact JSON text as jansson 2.14 writes it: the writer and
 * the reader of jtext.h.
 *
 * Both follow jansson's dump.c, strconv.c and utf.c (2.14 as Debian builds
 * it: reals through snprintf, not dtoa). The reader's rule for reals rests
 * on DBL_DIG: a decimal of at most 15 significant digits, read by strtod
 * and written back with %.15g, gives the same digits, as long as it is a
 * normal double; so a real with at most 15 digits, no trailing zero and
 * the notation %g picks for its exponent is what jansson would write, and
 * exponents past +-300 (near subnormals or overflow) are left to jansson.
 * Integers are taken up to 18 digits, which cannot overflow int64.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"

static bool jtext_reserve(struct jtext *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->bad)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->bad = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void jtext_raw_put(struct jtext *b, const char *s, size_t n)
{
	if (!jtext_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jtext_reset(struct jtext *b)
{
	free(b->p);
	*b = (struct jtext){0};
}

/* The length of the UTF-8 sequence at p that jansson's utf8_iterate takes,
 * or 0 when it refuses it. */
static size_t jtext_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char u = p[0];
	size_t n, i;
	uint32_t v;

	if (u < 0x80)
		return 1;
	if (u >= 0xC2 && u <= 0xDF)
		n = 2, v = u & 0x1F;
	else if (u >= 0xE0 && u <= 0xEF)
		n = 3, v = u & 0x0F;
	else if (u >= 0xF0 && u <= 0xF4)
		n = 4, v = u & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
	    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

static void jtext_escape_put(struct jtext *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
	char e[2] = {'\\', 0};

	switch (c) {
	case '"':
	case '\\':
		e[1] = (char)c;
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\t':
		e[1] = 't';
		break;
	default:
		jtext_raw_put(b, u, sizeof(u));
		return;
	}
	jtext_raw_put(b, e, sizeof(e));
}

void jtext_string_put(struct jtext *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const unsigned char *run = p;
	size_t k;

	jtext_raw_put(b, "\"", 1);
	while (p < end) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			if (!(k = jtext_utf8_len(p, end))) {
				b->bad = true;
				return;
			}
			p += k;
			continue;
		}
		jtext_raw_put(b, (const char *)run, (size_t)(p - run));
		jtext_escape_put(b, *p);
		run = ++p;
	}
	jtext_raw_put(b, (const char *)run, (size_t)(p - run));
	jtext_raw_put(b, "\"", 1);
}

void jtext_opt_string_put(struct jtext *b, struct strv s)
{
	if (s.p)
		jtext_string_put(b, s.p, s.len);
	else
		jtext_raw_put(b, "null", 4);
}

void jtext_int_put(struct jtext *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jtext_raw_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * A real that is the double nearest to some n / 100 (the handoff's points
 * and scores are rounded to cents), |n| < 10^15: %.15g writes the decimal
 * n / 100 itself (at most 15 digits: DBL_DIG), with no exponent (10^-2 <=
 * |x| < 10^13) and no trailing zero, so it is written here from n without
 * printf. n / 100.0 is correctly rounded, hence the exact compare.
 */
static bool jtext_cents_put(struct jtext *b, double x)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	double s = x * 100.0;
	int64_t n;
	uint64_t u;

	if (!(s > -1e15 && s < 1e15))
		return false;
	n = (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
	if ((double)n / 100.0 != x)
		return false;
	u = n < 0 ? (uint64_t)-n : (uint64_t)n;
	if (u % 10)
		*--p = (char)('0' + u % 10);
	*--p = (char)('0' + u / 10 % 10);
	*--p = '.';
	u /= 100;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (signbit(x))
		*--p = '-';
	jtext_raw_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
	return true;
}

void jtext_real_put(struct jtext *b, double x)
{
	char tmp[48], *e, *start, *end;
	size_t len;

	if (!isfinite(x)) {
		b->bad = true;
		return;
	}
	if (jtext_cents_put(b, x))
		return;
	len = (size_t)snprintf(tmp, sizeof(tmp), "%.15g", x);
	e = memchr(tmp, 'e', len);
	if (!e && !memchr(tmp, '.', len)) {
		memcpy(tmp + len, ".0", 3);
		len += 2;
	} else if (e) {
		/* "1e+20" -> "1e20", "1e-05" -> "1e-5", as jansson trims */
		start = e + 1;
		end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - tmp) + 1);
			len -= (size_t)(end - start);
		}
	}
	jtext_raw_put(b, tmp, len);
}

/* The reader. */

struct jscan {
	const unsigned char *p, *end;
	int depth;
};

static bool jscan_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A \u escape as jansson writes one: "\u00XX" for a control byte with no
 * short form, upper-case hex. Sets *nul for \u0000. */
static bool jscan_u_escape(const unsigned char *p, bool *nul)
{
	unsigned v;

	if (p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1'))
		return false;
	if (jscan_digit(p[5]))
		v = (unsigned)(p[5] - '0');
	else if (p[5] >= 'A' && p[5] <= 'F')
		v = (unsigned)(p[5] - 'A' + 10);
	else
		return false;
	v += (unsigned)(p[4] - '0') * 16;
	if (v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r')
		return false;
	if (v == 0)
		*nul = true;
	return true;
}

static bool jscan_string(struct jscan *c, bool *nul)
{
	const unsigned char *p = c->p + 1, *end = c->end;
	size_t k;

	*nul = false;
	while (p < end) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++; /* most bytes: plain ASCII */
			continue;
		}
		if (*p == '"') {
			c->p = p + 1;
			return true;
		}
		if (*p == '\\') {
			if (end - p < 2)
				return false;
			switch (p[1]) {
			case '"':
			case '\\':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || !jscan_u_escape(p, nul))
					return false;
				p += 6;
				continue;
			default:
				return false; /* "\/" included: '/' is raw */
			}
		}
		if (*p < 0x20 || !(k = jtext_utf8_len(p, end)))
			return false;
		p += k;
	}
	return false;
}

static const unsigned char *jscan_digits(const unsigned char *p,
					 const unsigned char *end)
{
	while (p < end && jscan_digit(*p))
		p++;
	return p;
}

/* A real in exponent notation: one digit, an optional fraction without a
 * trailing zero, at most 15 digits, and an exponent %g would use. */
static bool jscan_real_exp(const unsigned char *ip, size_t il,
			   const unsigned char *fp, size_t fl, struct jscan *c,
			   const unsigned char *p)
{
	const unsigned char *x0;
	bool neg = false;
	int x = 0;

	if (il != 1 || *ip == '0' || (fl && fp[fl - 1] == '0') || 1 + fl > 15)
		return false;
	p++; /* 'e' */
	if (p < c->end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= c->end || *p < '1' || *p > '9')
		return false;
	x0 = p;
	p = jscan_digits(p, c->end);
	if (p - x0 > 3)
		return false;
	for (; x0 < p; x0++)
		x = x * 10 + (*x0 - '0');
	x = neg ? -x : x;
	if ((x > -5 && x < 15) || x > 300 || x < -300)
		return false;
	c->p = p;
	return true;
}

/* A real in fixed notation: at most 15 significant digits, no trailing
 * zero but the one of "N.0", at most 3 zeros after "0." before the first
 * digit, at most 15 digits before the point. */
static bool jscan_real_fixed(const unsigned char *ip, size_t il,
			     const unsigned char *fp, size_t fl)
{
	size_t z = 0;

	if (fl == 1 && fp[0] == '0')
		return il <= 15; /* "N.0": an integral value, or "0.0" */
	if (fp[fl - 1] == '0')
		return false;
	if (*ip != '0')
		return il + fl <= 15;
	while (z < fl && fp[z] == '0')
		z++;
	return z <= 3 && fl - z <= 15;
}

static bool jscan_number(struct jscan *c, enum jtext_type *t)
{
	const unsigned char *p = c->p, *end = c->end, *ip, *fp = NULL;
	bool neg = false;
	size_t il, fl = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	ip = p;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		p = jscan_digits(p, end);
	else
		return false;
	il = (size_t)(p - ip);
	if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {
		*t = JTEXT_INTEGER;
		c->p = p;
		return il <= 18 && !(neg && *ip == '0');
	}
	*t = JTEXT_REAL;
	if (*p == '.') {
		fp = ++p;
		p = jscan_digits(p, end);
		if (!(fl = (size_t)(p - fp)))
			return false;
	}
	if (p < end && *p == 'e')
		return jscan_real_exp(ip, il, fp, fl, c, p);
	if (!fp || (p < end && *p == 'E'))
		return false;
	c->p = p;
	return jscan_real_fixed(ip, il, fp, fl);
}

static bool jscan_word(struct jscan *c, const char *w, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool jscan_object(struct jscan *c, struct jtext_member *m, int *nout);
static bool jscan_array(struct jscan *c);

static bool jscan_value(struct jscan *c, enum jtext_type *t)
{
	bool nul;
	int n;

	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		*t = JTEXT_OBJECT;
		return jscan_object(c, NULL, &n);
	case '[':
		*t = JTEXT_ARRAY;
		return jscan_array(c);
	case '"':
		*t = JTEXT_STRING;
		return jscan_string(c, &nul);
	case 't':
		*t = JTEXT_TRUE;
		return jscan_word(c, "true", 4);
	case 'f':
		*t = JTEXT_FALSE;
		return jscan_word(c, "false", 5);
	case 'n':
		*t = JTEXT_NULL;
		return jscan_word(c, "null", 4);
	default:
		return jscan_number(c, t);
	}
}

static bool jscan_array(struct jscan *c)
{
	enum jtext_type t;

	if (++c->depth > JTEXT_DEPTH_MAX)
		return false;
	c->p++;
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		c->depth--;
		return true;
	}
	for (;;) {
		if (!jscan_value(c, &t) || c->p >= c->end)
			return false;
		if (*c->p++ == ']')
			break;
		if (c->p[-1] != ',')
			return false;
	}
	c->depth--;
	return true;
}

/* Canonical keys are equal as text exactly when they are equal strings. */
static bool jscan_key_seen(const struct strv *keys, int n, struct strv k)
{
	for (int i = 0; i < n; i++)
		if (keys[i].len == k.len && !memcmp(keys[i].p, k.p, k.len))
			return true;
	return false;
}

/* The keys seen are kept for the duplicate check (1 KiB a level, so a
 * text at the depth limit needs some 16 KiB of stack); members go to m
 * when it is not NULL (the top level). */
static bool jscan_object(struct jscan *c, struct jtext_member *m, int *nout)
{
	struct strv keys[JTEXT_MEMBERS_MAX];
	const unsigned char *k0, *v0;
	enum jtext_type t;
	int n = 0;
	bool nul;

	if (++c->depth > JTEXT_DEPTH_MAX)
		return false;
	c->p++;
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		c->depth--;
		*nout = 0;
		return true;
	}
	for (;;) {
		if (c->p >= c->end || *c->p != '"' || n == JTEXT_MEMBERS_MAX)
			return false;
		k0 = c->p;
		if (!jscan_string(c, &nul) || nul)
			return false;
		keys[n] = (struct strv){(const char *)k0, (size_t)(c->p - k0)};
		if (jscan_key_seen(keys, n, keys[n]) || c->p >= c->end ||
		    *c->p++ != ':')
			return false;
		v0 = c->p;
		if (!jscan_value(c, &t) || c->p >= c->end)
			return false;
		if (m)
			m[n] = (struct jtext_member){
				keys[n],
				{(const char *)v0, (size_t)(c->p - v0)},
				t};
		n++;
		if (*c->p++ == '}')
			break;
		if (c->p[-1] != ',')
			return false;
	}
	c->depth--;
	*nout = n;
	return true;
}

int jtext_object_scan(const char *s, size_t len,
		      struct jtext_member m[JTEXT_MEMBERS_MAX])
{
	struct jscan c = {(const unsigned char *)s,
			  (const unsigned char *)s + len, 0};
	int n;

	if (len == 0 || s[0] != '{' || !jscan_object(&c, m, &n) || c.p != c.end)
		return -1;
	return n;
}

int64_t jtext_int_value(struct strv v)
{
	size_t i = v.len && v.p[0] == '-';
	int64_t x = 0;

	for (; i < v.len; i++)
		x = x * 10 + (v.p[i] - '0');
	return v.len && v.p[0] == '-' ? -x : x;
}

bool jtext_plain_string(struct strv v, struct strv *out)
{
	if (v.len < 2 || memchr(v.p + 1, '\\', v.len - 2))
		return false;
	*out = (struct strv){v.p + 1, v.len - 2};
	return true;
}
