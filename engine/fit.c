/*
 * fit.c - a lead's traits, its fit grade, disqualification and territory.
 *
 * Traits are packed into the lead's ext block (after the score records) as
 * type byte, name, NUL, value, NUL: no per-trait allocation, and a lookup
 * is a short scan, which is fine because traits are read on the rare paths
 * (trait changes, qualification) and by score rules that test traits the
 * event did not carry. A merge is built in a stack buffer and written back
 * only when the bytes differ, so an identify that repeats known traits
 * neither allocates nor re-grades.
 *
 * A lead keeps at most LEAD_TRAITS_MAX packed bytes. At the cap, the
 * traits the engine decides with (the e-mail, the hidden account, and the
 * names the config reads: fit_config.wanted, from fit_wanted_build) win:
 * one of them evicts the oldest traits the config does not read, while
 * any other new trait is dropped; nothing is evicted for a put that could
 * not fit anyway. Both are counted in the lead table. The account
 * (groupId) is a hidden entry, apart from an ordinary trait of its name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lead_internal.h"

size_t lead_trait_next(const char *p, size_t len, size_t off, uint8_t *type,
		       const char **name, struct strv *val)
{
	size_t nl;

	if (!p || off >= len)
		return 0;
	*type = (uint8_t)p[off];
	*name = p + off + 1;
	nl = strlen(*name);
	val->p = *name + nl + 1;
	val->len = strlen(val->p);
	return off + 1 + nl + 1 + val->len + 1;
}

/* Fifteen digits are below 2^53, so their value is exact in a double and
 * is what strtod, which rounds correctly, returns for them. */
#define TRAIT_INT_DIGITS 15

double lead_trait_number(struct strv val)
{
	size_t i = val.len > 0 && val.p[0] == '-';
	uint64_t u = 0;
	double d;

	if (val.len == i || val.len - i > TRAIT_INT_DIGITS)
		return strtod(val.p, NULL);
	for (; i < val.len; i++) {
		unsigned dig = (unsigned char)val.p[i] - '0';
		if (dig > 9)
			return strtod(val.p, NULL);
		u = u * 10 + dig;
	}
	d = (double)u;
	return val.p[0] == '-' ? -d : d; /* "-0" is -0.0, as strtod has it */
}

static void trait_to_jval(uint8_t type, struct strv val, struct jval *out)
{
	out->kind = (enum jval_kind)(type & ~TRAIT_HIDDEN);
	out->str = val;
	out->num = 0;
	if (out->kind == JVAL_NUMBER)
		out->num = lead_trait_number(val);
	else if (out->kind == JVAL_BOOL)
		out->num = strv_eq(val, "true");
}

/* Offset of the entry named name whose TRAIT_HIDDEN bit is hidden, or
 * -1. Names are told apart by their lengths, which the walk has anyway,
 * before any byte is compared. */
static long trait_find(const char *p, size_t len, struct strv name,
		       uint8_t hidden, size_t *entry_len)
{
	size_t off = 0, next;
	uint8_t type;
	const char *n;
	struct strv v;

	while ((next = lead_trait_next(p, len, off, &type, &n, &v)) != 0) {
		if ((size_t)(v.p - n) - 1 == name.len &&
		    (type & TRAIT_HIDDEN) == hidden &&
		    memcmp(n, name.p, name.len) == 0) {
			*entry_len = next - off;
			return (long)off;
		}
		off = next;
	}
	return -1;
}

static bool trait_get(const struct lead *l, const char *name, uint8_t hidden,
		      struct jval *out)
{
	const char *p = lead_traits(l);
	size_t elen;
	long off;
	uint8_t type = 0; /* set by lead_trait_next; -O3 cannot tell */
	const char *n;
	struct strv v = STRV_NULL;

	if (!name || (off = trait_find(p, l->traits_len, strv_from(name),
				       hidden, &elen)) < 0)
		return false;
	lead_trait_next(p, l->traits_len, (size_t)off, &type, &n, &v);
	trait_to_jval(type, v, out);
	return true;
}

bool lead_trait_get(const struct lead *l, const char *name, struct jval *out)
{
	return trait_get(l, name, 0, out);
}

bool lead_group_id_get(const struct lead *l, struct strv *out)
{
	struct jval v;

	if (!trait_get(l, TRAIT_GROUP_ID, TRAIT_HIDDEN, &v) ||
	    v.kind != JVAL_STRING)
		return false;
	*out = v.str;
	return true;
}

bool lead_email_domain(const struct lead *l, char *buf, size_t cap,
		       struct strv *out)
{
	struct jval v;

	if (!lead_trait_get(l, "email", &v) || v.kind != JVAL_STRING)
		return false;
	return cond_email_domain(v.str, buf, cap, out);
}

bool lead_lookup_cb(void *arg, enum field_src src, const char *name,
		    struct jval *out, char *scratch, size_t cap)
{
	const struct lead *l = arg;
	struct strv dom;

	switch (src) {
	case FIELD_TRAIT:
		return lead_trait_get(l, name, out);
	case FIELD_EMAIL_DOMAIN:
		if (!lead_email_domain(l, scratch, cap, &dom))
			return false;
		*out = (struct jval){.kind = JVAL_STRING, .str = dom};
		return true;
	default:
		return false;
	}
}

/* One entry of a trait_buf: where it starts, its name's length and its
 * own length, so that a put compares lengths instead of walking the
 * bytes with two strlen per entry. */
struct trait_ent {
	uint16_t off, nlen, elen;
};

/* A merge in progress: the packed traits being rebuilt, and their index.
 * An entry takes at least three bytes (type, NUL, NUL). */
struct trait_buf {
	char b[LEAD_TRAITS_MAX];
	size_t len;
	struct trait_ent ent[LEAD_TRAITS_MAX / 3 + 1];
	size_t nent;
	uint64_t names;              /* trait_name_bit of every entry's name */
	const struct fit_config *fc; /* its wanted names win at the cap */
	size_t dropped;              /* traits dropped or evicted at the cap */
};

/* One of 64 bits for a name, from its length and last byte: a put whose
 * bit no entry has set is a new name, found without a scan of the
 * entries, which is most puts (a new lead's traits). */
static inline uint64_t trait_name_bit(const char *name, size_t nl)
{
	unsigned last = nl ? (unsigned char)name[nl - 1] : 0;

	return UINT64_C(1) << ((nl * 5 + last) & 63);
}

/* tb as a copy of the len packed bytes at p, indexed. */
static void trait_buf_load(struct trait_buf *tb, const char *p, size_t len)
{
	size_t off = 0, next;
	uint8_t type;
	const char *n;
	struct strv v;

	if (len)
		memcpy(tb->b, p, len);
	tb->len = len;
	tb->nent = 0;
	tb->names = 0;
	while ((next = lead_trait_next(tb->b, len, off, &type, &n, &v)) != 0) {
		size_t nl = (size_t)(v.p - n) - 1;
		tb->ent[tb->nent++] = (struct trait_ent){
			(uint16_t)off, (uint16_t)nl, (uint16_t)(next - off)};
		tb->names |= trait_name_bit(n, nl);
		off = next;
	}
}

/* A walk over a lead's traits: over the packed bytes with two strlen per
 * entry, or over the index of a trait_buf that holds the same bytes (a
 * merge that just wrote them), which has the lengths already. */
struct trait_iter {
	const char *p;
	size_t len, off;
	const struct trait_buf *tb;
	size_t i;
};

static inline bool trait_iter_next(struct trait_iter *it, uint8_t *type,
				   const char **name, size_t *nl,
				   struct strv *v)
{
	if (it->tb) {
		const struct trait_ent *e;
		if (it->i == it->tb->nent)
			return false;
		e = &it->tb->ent[it->i++];
		*type = (uint8_t)it->tb->b[e->off];
		*name = it->tb->b + e->off + 1;
		*nl = e->nlen;
		*v = (struct strv){*name + e->nlen + 1,
				   (size_t)e->elen - e->nlen - 3};
		return true;
	}
	it->off = lead_trait_next(it->p, it->len, it->off, type, name, v);
	if (it->off == 0)
		return false;
	*nl = (size_t)(v->p - *name) - 1;
	return true;
}

/* The bytes of x that are NUL have bit 7 set in the result, and it is 0
 * when none is: without one, no byte borrows and none gains bit 7 by
 * itself. (Bytes above a NUL may be marked too; the test is any or
 * none.) */
static inline uint64_t trait_nul8(uint64_t x)
{
	return (x - UINT64_C(0x0101010101010101)) & ~x &
	       UINT64_C(0x8080808080808080);
}

/*
 * memcpy for the short names and values of traits, which also tells
 * whether they held a NUL, which no stored name or value may: up to 32
 * bytes as two overlapping runs of one to two words (or halves, or
 * three bytes), without the head, aligned loop and tail that GCC expands
 * a memcpy of unknown size into, and the NUL test on the words loaded
 * for the copy instead of a memchr call for each.
 */
static inline bool trait_copy(char *dst, const char *src, size_t n)
{
	uint64_t a, b, c, d;
	uint32_t x, y;

	if (n >= 16 && n <= 32) {
		memcpy(&a, src, 8);
		memcpy(&b, src + 8, 8);
		memcpy(&c, src + n - 16, 8);
		memcpy(&d, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + 8, &b, 8);
		memcpy(dst + n - 16, &c, 8);
		memcpy(dst + n - 8, &d, 8);
		return (trait_nul8(a) | trait_nul8(b) | trait_nul8(c) |
			trait_nul8(d)) != 0;
	}
	if (n >= 8 && n < 16) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
		return (trait_nul8(a) | trait_nul8(b)) != 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&x, src, 4);
		memcpy(&y, src + n - 4, 4);
		memcpy(dst, &x, 4);
		memcpy(dst + n - 4, &y, 4);
		return trait_nul8((uint64_t)x << 32 | y) != 0;
	}
	if (n > 0 && n < 4) {
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
		return !src[0] || !src[n / 2] || !src[n - 1];
	}
	if (n > 32) {
		memcpy(dst, src, n);
		return memchr(src, '\0', n) != NULL;
	}
	return false;
}

/* Index of the first entry named name with hidden's TRAIT_HIDDEN bit,
 * or -1, as trait_find would find it in the bytes. */
static long trait_buf_find(const struct trait_buf *tb, uint8_t hidden,
			   struct strv name)
{
	for (size_t i = 0; i < tb->nent; i++) {
		const struct trait_ent *e = &tb->ent[i];
		/* hidden-ness last: told apart only where names match */
		if (e->nlen == name.len &&
		    strv_mem_eq(tb->b + e->off + 1, name.p, name.len) &&
		    ((uint8_t)tb->b[e->off] & TRAIT_HIDDEN) == hidden)
			return (long)i;
	}
	return -1;
}

/* Drop entry i: its bytes, its index entry, and its length from the
 * offsets of the entries after it. */
static void trait_buf_drop(struct trait_buf *tb, size_t i)
{
	size_t off = tb->ent[i].off, elen = tb->ent[i].elen;

	memmove(tb->b + off, tb->b + off + elen, tb->len - off - elen);
	tb->len -= elen;
	memmove(&tb->ent[i], &tb->ent[i + 1],
		(tb->nent - i - 1) * sizeof(tb->ent[0]));
	tb->nent--;
	for (size_t j = i; j < tb->nent; j++)
		tb->ent[j].off = (uint16_t)(tb->ent[j].off - elen);
}

/* The stored text of a value; false for kinds that are not kept. */
static bool trait_value_text(const struct jval *v, char *tmp, size_t cap,
			     struct strv *out)
{
	switch (v->kind) {
	case JVAL_STRING:
		*out = v->str;
		break;
	case JVAL_NUMBER:
		if (v->str.p) {
			*out = v->str;
		} else {
			int n = snprintf(tmp, cap, "%.17g", v->num);
			*out = (struct strv){tmp, (size_t)n};
		}
		break;
	case JVAL_BOOL:
		*out = strv_from(v->num != 0 ? "true" : "false");
		break;
	case JVAL_NULL:
		*out = (struct strv){"", 0};
		break;
	default:
		return false;
	}
	return true; /* a NUL in it is the put's to refuse */
}

/* Whether the engine decides with the trait: the account, the e-mail,
 * or a name the config reads. Asked only at the cap. */
static bool trait_wanted(const struct fit_config *fc, uint8_t type,
			 const char *name, size_t nl)
{
	if ((type & TRAIT_HIDDEN) || (nl == 5 && !memcmp(name, "email", 5)))
		return true;
	if (!fc || !(fc->wanted_bits & trait_name_bit(name, nl)))
		return false;
	for (size_t i = 0; i < fc->nwanted; i++)
		if (strlen(fc->wanted[i]) == nl &&
		    !memcmp(fc->wanted[i], name, nl))
			return true;
	return false;
}

static bool trait_buf_ent_wanted(const struct trait_buf *tb,
				 const struct trait_ent *e)
{
	return trait_wanted(tb->fc, (uint8_t)tb->b[e->off], tb->b + e->off + 1,
			    e->nlen);
}

/* Evict the oldest (first in the bytes: a put appends) entries the
 * config does not read until over bytes are free, in one pass over the
 * bytes; false, with nothing evicted, when all of them would not free
 * enough. Entries a put replaced moved to the end, so "oldest" is the
 * least recently written. */
static bool trait_buf_evict(struct trait_buf *tb, size_t over)
{
	size_t spare = 0, freed = 0, n = 0, to = 0;

	for (size_t i = 0; i < tb->nent && spare < over; i++)
		if (!trait_buf_ent_wanted(tb, &tb->ent[i]))
			spare += tb->ent[i].elen;
	if (spare < over)
		return false;
	for (size_t i = 0; i < tb->nent; i++) {
		struct trait_ent e = tb->ent[i];
		if (freed < over && !trait_buf_ent_wanted(tb, &e)) {
			freed += e.elen;
			tb->dropped++;
			continue;
		}
		memmove(tb->b + to, tb->b + e.off, e.elen);
		e.off = (uint16_t)to;
		tb->ent[n++] = e;
		to += e.elen;
	}
	tb->nent = n;
	tb->len = to;
	return true;
}

/* Longer trait names are dropped. */
#define TRAIT_NAME_MAX 256

/* Make room for a put that would pass the cap by over bytes: only a
 * trait the engine decides with may evict others, and only ones it does
 * not decide with. False: the put is dropped. */
static bool trait_buf_make_room(struct trait_buf *tb, uint8_t type,
				struct strv name, size_t over)
{
	if (!trait_wanted(tb->fc, type, name.p, name.len) ||
	    !trait_buf_evict(tb, over)) {
		tb->dropped++;
		return false;
	}
	return true;
}

/* Make the entry whose name and value were copied to the end of tb's
 * bytes one of its entries: its type byte, NULs and index entry. */
static inline void trait_buf_append(struct trait_buf *tb, uint8_t type,
				    size_t nl, size_t need, uint64_t bit)
{
	tb->ent[tb->nent++] = (struct trait_ent){(uint16_t)tb->len,
						 (uint16_t)nl, (uint16_t)need};
	tb->names |= bit;
	tb->b[tb->len] = (char)type;
	tb->b[tb->len + 1 + nl] = '\0';
	tb->b[tb->len + need - 1] = '\0';
	tb->len += need;
}

static inline void trait_buf_put(struct trait_buf *tb, uint8_t type,
				 struct strv name, struct strv val)
{
	size_t elen = 0, off = 0, need = 1 + name.len + 1 + val.len + 1;
	uint8_t hidden = type & TRAIT_HIDDEN;
	uint64_t bit;
	long i;

	if (name.len == 0 || name.len >= TRAIT_NAME_MAX)
		return;
	bit = trait_name_bit(name.p, name.len);
	/* a name or value with a NUL in it is refused: it matches no
	 * stored entry (none has one), so the find and compare are safe */
	i = tb->names & bit ? trait_buf_find(tb, hidden, name) : -1;
	if (i >= 0) {
		off = tb->ent[i].off;
		elen = tb->ent[i].elen;
	}
	if (i >= 0 && (uint8_t)tb->b[off] == type && elen == need &&
	    strv_mem_eq(tb->b + off + 2 + name.len, val.p, val.len))
		return;
	if (i < 0 && tb->len + need <= sizeof(tb->b)) {
		/* a new name with room, most puts: the NUL test comes with
		 * the copy, which is kept only if it finds none */
		char *d = tb->b + tb->len;
		bool nul = trait_copy(d + 1, name.p, name.len);
		if (trait_copy(d + 2 + name.len, val.p, val.len) || nul)
			return;
		trait_buf_append(tb, type, name.len, need, bit);
		return;
	}
	if (memchr(name.p, '\0', name.len) || memchr(val.p, '\0', val.len))
		return;
	if (tb->len - elen + need > sizeof(tb->b)) {
		if (!trait_buf_make_room(tb, type, name,
					 tb->len - elen + need - sizeof(tb->b)))
			return;
		/* the entry it replaces may have moved down */
		i = i >= 0 ? trait_buf_find(tb, hidden, name) : -1;
	}
	if (i >= 0)
		trait_buf_drop(tb, (size_t)i);
	trait_copy(tb->b + tb->len + 1, name.p, name.len);
	trait_copy(tb->b + tb->len + 2 + name.len, val.p, val.len);
	trait_buf_append(tb, type, name.len, need, bit);
}

static inline void trait_buf_put_jval(struct trait_buf *tb, struct strv name,
				      const struct jval *v, uint8_t flags)
{
	char tmp[32];
	struct strv text;

	if (trait_value_text(v, tmp, sizeof(tmp), &text))
		trait_buf_put(tb, (uint8_t)(v->kind | flags), name, text);
}

int lead_traits_replace(struct lead_table *t, struct lead *l,
			const char *packed, size_t len)
{
	if (len > LEAD_TRAITS_MAX || lead_ext_resize(t, l, l->nrecs, len) < 0)
		return -1;
	if (len)
		memcpy((char *)lead_traits(l), packed, len);
	return 0;
}

/* Fit rules whose trait values one walk over the traits collects. */
#define FIT_BATCH 64

/* The "email" and "title" entries the disqualification reads. */
struct fit_named {
	struct jval email, title;
	bool has_email, has_title;
};

/* Note name's entry in fn if it is the first "email" or "title". The one
 * hidden entry, the account, has neither name (TRAIT_GROUP_ID). */
static inline void fit_named_note(struct fit_named *fn, const char *name,
				  size_t nl, uint8_t type, struct strv v)
{
	if (nl != 5)
		return;
	if (!fn->has_email && memcmp(name, "email", 5) == 0) {
		trait_to_jval(type, v, &fn->email);
		fn->has_email = true;
	} else if (!fn->has_title && memcmp(name, "title", 5) == 0) {
		trait_to_jval(type, v, &fn->title);
		fn->has_title = true;
	}
}

static char fit_grade_of(const struct fit_config *fc, double pts)
{
	if (pts >= fc->grade_a)
		return 'A';
	if (pts >= fc->grade_b)
		return 'B';
	if (pts >= fc->grade_c)
		return 'C';
	return 'D';
}

char lead_fit_grade_zero(const struct fit_config *fc)
{
	return fit_grade_of(fc, 0);
}

static inline unsigned char fit_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The bit of a domain of len bytes (not 0) from first to last: the two
 * folded, as strv_eq_nocase compares them. */
static inline uint64_t fit_domain_key(size_t len, unsigned char first,
				      unsigned char last)
{
	return UINT64_C(1) << ((len * 7 + fit_fold(first) * 3u +
				fit_fold(last)) &
			       63);
}

static uint64_t fit_domain_list_keys(char *const *list, size_t n)
{
	uint64_t keys = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(list[i]);
		/* an empty entry matches no domain: cond_email_domain
		 * gives none empty */
		if (len)
			keys |= fit_domain_key(len, (unsigned char)list[i][0],
					       (unsigned char)list[i][len - 1]);
	}
	return keys;
}

static uint64_t fit_domain_keys_of(const struct fit_config *fc)
{
	return fit_domain_list_keys(fc->freemail_domains, fc->nfreemail) |
	       fit_domain_list_keys(fc->competitor_domains, fc->ncompetitor) |
	       fit_domain_list_keys(fc->excluded_domains, fc->nexcluded);
}

void fit_config_prepare(struct fit_config *fc)
{
	size_t n = fc->nrules < FIT_BATCH ? fc->nrules : FIT_BATCH;

	memset(fc->name_len_mask, 0, sizeof(fc->name_len_mask));
	memset(fc->name_same_mask, 0, sizeof(fc->name_same_mask));
	fc->name_long_mask = 0;
	fc->trait_mask = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cond *c = &fc->rules[i].cond;
		size_t nl;
		if (c->src != FIELD_TRAIT || !c->name)
			continue;
		nl = strlen(c->name);
		if (nl < FIT_NAME_LENS)
			fc->name_len_mask[nl] |= UINT64_C(1) << i;
		else
			fc->name_long_mask |= UINT64_C(1) << i;
		fc->trait_mask |= UINT64_C(1) << i;
		for (size_t j = 0; j < n; j++) {
			const struct cond *d = &fc->rules[j].cond;
			if (d->src == FIELD_TRAIT && d->name &&
			    strcmp(c->name, d->name) == 0)
				fc->name_same_mask[i] |= UINT64_C(1) << j;
		}
	}
	fc->grade_zero = fit_grade_of(fc, 0);
	fc->domain_keys = fit_domain_keys_of(fc);
	fc->prepared = true;
}

/* Add name to ec->fit's wanted names unless it is there; -1 when out of
 * memory. "email" is always wanted and "email_domain" is read from it. */
static int fit_wanted_add(struct fit_config *fc, const char *name, size_t *cap)
{
	const char **w;

	if (!name || !strcmp(name, "email") || !strcmp(name, "email_domain"))
		return 0;
	for (size_t i = 0; i < fc->nwanted; i++)
		if (!strcmp(fc->wanted[i], name))
			return 0;
	if (fc->nwanted == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		w = realloc(fc->wanted, *cap * sizeof(*w));
		if (!w)
			return -1;
		fc->wanted = w;
	}
	fc->wanted[fc->nwanted++] = name;
	fc->wanted_bits |= trait_name_bit(name, strlen(name));
	return 0;
}

static int fit_wanted_conds(struct fit_config *fc, const struct cond *c,
			    size_t n, size_t *cap)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].src == FIELD_TRAIT &&
		    fit_wanted_add(fc, c[i].name, cap))
			return -1;
	return 0;
}

int fit_wanted_build(struct engine_config *ec)
{
	struct fit_config *fc = &ec->fit;
	const struct scoring_config *sc = &ec->scoring;
	const struct routing_config *rt = &ec->routing;
	size_t cap = 0;
	int err = 0;

	fit_wanted_free(fc);
	for (size_t i = 0; i < fc->nrules && !err; i++)
		err = fit_wanted_conds(fc, &fc->rules[i].cond, 1, &cap);
	if (fc->ndisqualify_titles > 0 && !err)
		err = fit_wanted_add(fc, "title", &cap);
	for (size_t i = 0; i < sc->nrules && !err; i++)
		err = fit_wanted_conds(fc, sc->rules[i].conds,
				       sc->rules[i].nconds, &cap);
	for (size_t i = 0; i < rt->nterritories && !err; i++)
		err = fit_wanted_conds(fc, rt->territories[i].conds,
				       rt->territories[i].nconds, &cap);
	for (size_t i = 0; i < ec->qualify.nrequired && !err; i++)
		err = fit_wanted_add(fc, ec->qualify.required_traits[i], &cap);
	if (err)
		fit_wanted_free(fc);
	return err;
}

void fit_wanted_free(struct fit_config *fc)
{
	free(fc->wanted);
	fc->wanted = NULL;
	fc->nwanted = 0;
	fc->wanted_bits = 0;
}

/* The first batch of a prepared config in one walk: a trait is compared
 * only with the rules whose names are as long, and once one of them has
 * its name, its value is tested against every rule of that name
 * (name_same_mask), and no other rule can have it: one compare per trait,
 * no strlen, and no value copied to each rule's slot for a second loop.
 * A trait rule whose trait is absent holds when negated, as
 * cond_test_value has it for no value. Returns the mask of the trait
 * rules that hold; fn as fit_traits_collect fills it. */
struct fit_holds {
	uint64_t want, found, holds;
};

/* Whether the walk must go on: a rule's trait or the e-mail or title of
 * fn is still to be found. */
static inline bool fit_holds_more(const struct fit_holds *h,
				  const struct fit_named *fn)
{
	return (h->want & ~h->found) ||
	       (fn && !(fn->has_email && fn->has_title));
}

/* One entry of the walk: the first rule of its name, if any, tests its
 * value for every rule of that name. */
static inline void fit_holds_note(const struct fit_config *fc,
				  struct fit_holds *h, struct fit_named *fn,
				  uint8_t type, const char *name, size_t nl,
				  struct strv v)
{
	uint64_t cand = h->want & ~h->found;

	if (fn)
		fit_named_note(fn, name, nl, type, v);
	cand &= nl < FIT_NAME_LENS ? fc->name_len_mask[nl] : fc->name_long_mask;
	for (uint64_t m = cand; m; m &= m - 1) {
		size_t i = (size_t)__builtin_ctzll(m);
		const char *rn = fc->rules[i].cond.name;
		struct jval jv;
		uint64_t same;
		if ((nl >= FIT_NAME_LENS && strlen(rn) != nl) ||
		    !strv_mem_eq(name, rn, nl))
			continue;
		if (type & TRAIT_HIDDEN)
			return; /* the account: not a trait rules read */
		trait_to_jval(type, v, &jv);
		same = fc->name_same_mask[i] & h->want & ~h->found;
		h->found |= same;
		for (; same; same &= same - 1) {
			size_t k = (size_t)__builtin_ctzll(same);
			if (cond_test_value(&fc->rules[k].cond, &jv))
				h->holds |= UINT64_C(1) << k;
		}
		return;
	}
}

/* The walk runs over tb's index where there is one (a merge that just
 * wrote the bytes), in a loop of its own rather than through trait_iter,
 * which asks which of the two it walks at every entry. */
static uint64_t fit_holds_prepared(const struct fit_config *fc,
				   const struct lead *l,
				   const struct trait_buf *tb,
				   struct fit_named *fn)
{
	struct fit_holds h = {fc->trait_mask, 0, 0};

	if (tb) {
		for (size_t e = 0; e < tb->nent && fit_holds_more(&h, fn);
		     e++) {
			const struct trait_ent *t = &tb->ent[e];
			const char *name = tb->b + t->off + 1;
			fit_holds_note(
				fc, &h, fn, (uint8_t)tb->b[t->off], name,
				t->nlen,
				(struct strv){name + t->nlen + 1,
					      (size_t)t->elen - t->nlen - 3});
		}
	} else {
		const char *p = lead_traits(l), *name;
		size_t off = 0;
		struct strv v;
		uint8_t type;

		while (fit_holds_more(&h, fn) &&
		       (off = lead_trait_next(p, l->traits_len, off, &type,
					      &name, &v)) != 0)
			fit_holds_note(fc, &h, fn, type, name,
				       (size_t)(v.p - name) - 1, v);
	}
	for (uint64_t m = h.want & ~h.found; m; m &= m - 1)
		if (fc->rules[__builtin_ctzll(m)].cond.negate)
			h.holds |= m & -m;
	return h.holds;
}

/*
 * The values of the trait conditions of rules [base, base + n) (n <= 64)
 * in one walk over the packed traits, as lead_trait_get would find them
 * one by one (the first entry of that name): grading a lead with a dozen
 * traits used to walk them, with two strlen and a strcmp per entry, once
 * per rule. Returns the mask of the rules whose trait was found. With fn,
 * the same walk also finds the e-mail and title for the disqualification,
 * which otherwise walked the traits again.
 */
static uint64_t fit_traits_collect(const struct fit_config *fc,
				   const struct lead *l,
				   const struct trait_buf *tb, size_t base,
				   size_t n, struct jval *vals,
				   struct fit_named *fn)
{
	struct trait_iter it = {lead_traits(l), l->traits_len, 0, tb, 0};
	const char *name;
	uint64_t want = 0, found = 0;
	size_t nl, nlen[FIT_BATCH];
	struct strv v;
	uint8_t type;

	for (size_t i = 0; i < n; i++) {
		const struct cond *c = &fc->rules[base + i].cond;
		if (c->src == FIELD_TRAIT && c->name) {
			want |= UINT64_C(1) << i;
			nlen[i] = strlen(c->name);
		}
	}
	while (((want & ~found) || (fn && !(fn->has_email && fn->has_title))) &&
	       trait_iter_next(&it, &type, &name, &nl, &v)) {
		const struct jval *first = NULL; /* several rules, one value */

		if (fn)
			fit_named_note(fn, name, nl, type, v);
		for (uint64_t m = want & ~found; m; m &= m - 1) {
			size_t i = (size_t)__builtin_ctzll(m);
			if (nlen[i] != nl ||
			    !strv_mem_eq(name, fc->rules[base + i].cond.name,
					 nl))
				continue;
			if (type & TRAIT_HIDDEN)
				break; /* the account, as above */
			if (first)
				vals[i] = *first;
			else
				trait_to_jval(type, v, &vals[i]);
			first = &vals[i];
			found |= UINT64_C(1) << i;
		}
	}
	return found;
}

/* Points are added in rule order, as before, so the sum is the same to
 * the last bit. fn, if not NULL, is filled by the first batch's walk (or
 * a walk of its own when there are no rules). */
static double fit_points_walk(const struct fit_config *fc, const struct lead *l,
			      const struct trait_buf *tb, struct fit_named *fn)
{
	struct jval vals[FIT_BATCH];
	double pts = 0;
	size_t base = 0;

	if (fn) {
		*fn = (struct fit_named){.has_email = false};
		if (fc->nrules == 0)
			fit_traits_collect(fc, l, tb, 0, 0, vals, fn);
	}
	if (fc->prepared && fc->nrules > 0) {
		size_t n = fc->nrules < FIT_BATCH ? fc->nrules : FIT_BATCH;
		uint64_t holds = fit_holds_prepared(fc, l, tb, fn);
		/* the batch's other rules (e-mail domain ones): n bits */
		uint64_t rest = ~fc->trait_mask & (~UINT64_C(0) >> (64 - n));

		for (; rest; rest &= rest - 1)
			if (cond_eval(&fc->rules[__builtin_ctzll(rest)].cond,
				      lead_lookup_cb, (void *)l))
				holds |= rest & -rest;
		for (; holds; holds &= holds - 1)
			pts += fc->rules[__builtin_ctzll(holds)].points;
		base = FIT_BATCH;
	}
	for (; base < fc->nrules; base += FIT_BATCH) {
		size_t n = fc->nrules - base < FIT_BATCH ? fc->nrules - base
							 : FIT_BATCH;
		uint64_t found = fit_traits_collect(fc, l, tb, base, n, vals,
						    base == 0 ? fn : NULL);

		for (size_t i = 0; i < n; i++) {
			const struct cond *c = &fc->rules[base + i].cond;
			bool holds;

			if (c->src == FIELD_TRAIT && c->name)
				holds = cond_test_value(
					c, (found >> i) & 1 ? &vals[i] : NULL);
			else
				holds = cond_eval(c, lead_lookup_cb, (void *)l);
			if (holds)
				pts += fc->rules[base + i].points;
		}
	}
	return pts;
}

double lead_fit_points(const struct fit_config *fc, const struct lead *l)
{
	return fit_points_walk(fc, l, NULL, NULL);
}

/* dom is lower case (cond_email_domain) and not empty: a listed domain
 * whose first letter, folded, differs is passed over without the strlen
 * and compare of strv_eq_nocase. */
static bool fit_domain_eq_any(char *const *list, size_t n, struct strv dom)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)list[i][0];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == (unsigned char)dom.p[0] &&
		    strv_eq_nocase(dom, list[i]))
			return true;
	}
	return false;
}

/* dom (not empty, under 256 bytes: cond_email_domain's buffer) and the
 * parents cond_domain_parent steps it to, as offsets into dom: one after
 * each dot but the last, since a parent must keep a dot. One pass over
 * the bytes for all three lists, where stepping with cond_domain_parent
 * took two memchr per parent and list; of them only those whose bit is
 * in keys (fc->domain_keys), which may be listed. Returns how many. */
static size_t fit_domain_parents(struct strv dom, uint64_t keys, uint8_t *offs)
{
	unsigned char end = (unsigned char)dom.p[dom.len - 1];
	size_t n = 0, last = 0;

	if (keys & fit_domain_key(dom.len, (unsigned char)dom.p[0], end))
		offs[n++] = 0;
	for (size_t i = 0; i < dom.len; i++) {
		if (dom.p[i] != '.')
			continue;
		if (last &&
		    (keys & fit_domain_key(dom.len - last,
					   (unsigned char)dom.p[last], end)))
			offs[n++] = (uint8_t)last;
		last = i + 1;
	}
	return n;
}

/* A listed domain stops itself and every domain under it: "rival.com"
 * stops "eu.rival.com", since companies mail from regional and
 * departmental subdomains, but not "notrival.com". dom and its parents
 * (offs, from fit_domain_parents) are looked up in turn, a handful of
 * first-letter compares each; this runs when traits change, not per
 * event, so no index is built for it. */
static bool fit_domain_listed(char *const *list, size_t n, struct strv dom,
			      const uint8_t *offs, size_t noffs)
{
	for (size_t i = 0; i < noffs; i++)
		if (fit_domain_eq_any(
			    list, n,
			    (struct strv){dom.p + offs[i], dom.len - offs[i]}))
			return true;
	return false;
}

static enum lead_disq fit_disq_of(const struct fit_config *fc,
				  const struct fit_named *fn)
{
	char buf[256];
	uint8_t offs[sizeof(buf)];
	struct strv dom;
	size_t n;

	if (fn->has_email && fn->email.kind == JVAL_STRING &&
	    cond_email_domain(fn->email.str, buf, sizeof(buf), &dom)) {
		n = fit_domain_parents(
			dom, fc->prepared ? fc->domain_keys : ~UINT64_C(0),
			offs);
		if (fit_domain_listed(fc->freemail_domains, fc->nfreemail, dom,
				      offs, n))
			return LEAD_DISQ_FREEMAIL;
		if (fit_domain_listed(fc->competitor_domains, fc->ncompetitor,
				      dom, offs, n))
			return LEAD_DISQ_COMPETITOR;
		if (fit_domain_listed(fc->excluded_domains, fc->nexcluded, dom,
				      offs, n))
			return LEAD_DISQ_EXCLUDED;
	}
	if (fn->has_title && fn->title.kind == JVAL_STRING &&
	    fc->ndisqualify_titles > 0 &&
	    cond_any_word(fn->title.str, fc->disqualify_titles,
			  fc->ndisqualify_titles))
		return LEAD_DISQ_TITLE;
	return LEAD_DISQ_NONE;
}

bool lead_traits_visible(const struct lead *l)
{
	const char *p = lead_traits(l), *name;
	size_t off = 0;
	uint8_t type;
	struct strv v;

	while ((off = lead_trait_next(p, l->traits_len, off, &type, &name,
				      &v)) != 0)
		if (!(type & TRAIT_HIDDEN))
			return true;
	return false;
}

/* lead_traits_visible from tb's index, without the strlen of a walk. */
static bool trait_buf_visible(const struct trait_buf *tb)
{
	for (size_t i = 0; i < tb->nent; i++)
		if (!((uint8_t)tb->b[tb->ent[i].off] & TRAIT_HIDDEN))
			return true;
	return false;
}

/* tb, if not NULL, indexes the lead's trait bytes. */
static void fit_update_from(const struct fit_config *fc, struct lead *l,
			    const struct trait_buf *tb)
{
	struct fit_named fn;

	/* no traits (the hidden account is none), no walk: the lead stays
	 * GRADE_NONE, which qualifies
	 * as grade_zero (lead_fit_grade) under whatever bands the config
	 * has then, and the changelog keeps writing null for it */
	if (!(tb ? trait_buf_visible(tb) : lead_traits_visible(l))) {
		l->grade = GRADE_NONE;
		l->disq = LEAD_DISQ_NONE;
		return;
	}
	l->grade = fit_grade_of(fc, fit_points_walk(fc, l, tb, &fn));
	l->disq = (uint8_t)fit_disq_of(fc, &fn);
}

void lead_fit_update(const struct fit_config *fc, struct lead *l)
{
	fit_update_from(fc, l, NULL);
}

bool lead_traits_merge_some(struct lead_table *t, struct lead *l,
			    const struct event *ev, const struct fit_config *fc)
{
	struct trait_buf tb;
	struct jval v;

	trait_buf_load(&tb, lead_traits(l), l->traits_len);
	tb.fc = fc;
	tb.dropped = 0;
	for (size_t i = 0; i < ev->ntraits && i < EVENT_MAX_FIELDS; i++)
		trait_buf_put_jval(&tb, ev->traits[i].name, &ev->traits[i].val,
				   0);
	if (ev->email.len) {
		v = (struct jval){.kind = JVAL_STRING, .str = ev->email};
		trait_buf_put_jval(&tb, strv_from("email"), &v, 0);
	}
	if (ev->group_id.len) {
		v = (struct jval){.kind = JVAL_STRING, .str = ev->group_id};
		trait_buf_put_jval(&tb, strv_from(TRAIT_GROUP_ID), &v,
				   TRAIT_HIDDEN);
	}
	if (tb.dropped)
		lead_table_note_dropped(t, tb.dropped);
	if (tb.len == l->traits_len &&
	    (tb.len == 0 || memcmp(tb.b, lead_traits(l), tb.len) == 0))
		return false;
	if (lead_traits_replace(t, l, tb.b, tb.len) < 0)
		return false;
	/* the lead's traits are tb's bytes now: grade from tb's index */
	fit_update_from(fc, l, &tb);
	return true;
}

const struct territory *lead_territory_find(const struct routing_config *rc,
					    const struct lead *l)
{
	for (size_t i = 0; i < rc->nterritories; i++) {
		const struct territory *t = &rc->territories[i];
		if (cond_eval_all(t->conds, t->nconds, lead_lookup_cb,
				  (void *)l))
			return t;
	}
	return NULL;
}

const char *lead_disq_name(enum lead_disq d)
{
	static const char *const names[LEAD_DISQ_COUNT] = {
		"none", "freemail", "competitor", "excluded", "title"};

	return d < LEAD_DISQ_COUNT ? names[d] : "unknown";
}
