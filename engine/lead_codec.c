/*
 * lead_codec.c - a lead as JSON: the changelog record (lead_encode /
 * lead_decode) and the assign command sent to stage 2.
 *
 * Encoding is on the hot-ish path (every dirty lead at every commit), so it
 * is written by hand into a growing buffer. Decoding runs only on restore
 * and uses jansson. Every double is printed with 17 significant digits and
 * always as a real ("10.0", "-0.0"), so strtod reads back the very same bit
 * pattern and a decoded lead re-encodes to identical bytes; message hashes
 * are hex strings, which no JSON number parser rounds. Score records carry
 * their rule's name, not its index, because indexes move when a reload
 * reorders the rules.
 *
 * The assign command (one per qualified lead) is written with jtext.h's
 * writer into the bytes json_dumps gave when it was built with json_pack
 * (lead_assign_build_dom, kept for the values the writer leaves to it and
 * as the reference of the tests): the DOM cost some 200,000 instructions a
 * command.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "iso_time.h"
#include "jtext.h"
#include "lead_internal.h"

/* Version 2 names each score record's rule; version 1 gave its index,
 * which a reload that reorders the rules silently re-points. Version 1
 * records are still read (restoring a changelog written before the
 * upgrade), their indexes taken against the current config. */
#define CODEC_VERSION 2

/* The changelog record is written into a struct jtext (jtext.h) with
 * jtext_raw_put only, so its bad flag means out of memory: the record has
 * its own string form (jb_str), not jansson's. */
static void jb_puts(struct jtext *b, const char *s)
{
	jtext_raw_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void
jb_printf(struct jtext *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		jtext_raw_put(b, tmp,
			      (size_t)n < sizeof(tmp) ? (size_t)n
						      : sizeof(tmp) - 1);
}

/* A double that strtod restores bit for bit, always spelled as a real. */
static void jb_double(struct jtext *b, double x)
{
	char tmp[40];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", isfinite(x) ? x : 0.0);

	jtext_raw_put(b, tmp, (size_t)n);
	if (!strpbrk(tmp, ".e"))
		jb_puts(b, ".0");
}

static void jb_str(struct jtext *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	jtext_raw_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		if (c == '"' || c == '\\') {
			jtext_raw_put(b, "\\", 1);
			jtext_raw_put(b, (const char *)&s[i], 1);
		} else if (c < 0x20) {
			jtext_raw_put(b, esc, sizeof(esc));
		} else {
			jtext_raw_put(b, (const char *)&s[i], 1);
		}
	}
	jtext_raw_put(b, "\"", 1);
}

static char codec_type_code(uint8_t type)
{
	static const char codes[] = "zbns"; /* null, bool, number, string */
	char c = codes[(type & ~TRAIT_HIDDEN) & 3];

	return (type & TRAIT_HIDDEN) ? (char)(c - 'a' + 'A') : c;
}

static int codec_type_parse(const char *s, uint8_t *type)
{
	static const char codes[] = "zbns";
	const char *p;
	uint8_t hidden = 0;
	char c;

	if (!s || strlen(s) != 1)
		return -1;
	c = s[0];
	if (c >= 'A' && c <= 'Z') {
		hidden = TRAIT_HIDDEN;
		c = (char)(c - 'A' + 'a');
	}
	p = strchr(codes, c);
	if (!p || !c)
		return -1;
	*type = (uint8_t)((p - codes) | hidden);
	return 0;
}

/* Records of rules the config no longer has (removed by a reload) are
 * left out, as decode would drop them. */
static void codec_write_recs(struct jtext *b, const struct scoring_config *sc,
			     const struct lead *l)
{
	const struct lead_rec *r = lead_recs(l);
	bool first = true;

	jb_puts(b, ",\"rules\":[");
	for (size_t i = 0; i < l->nrecs; i++) {
		const char *name = r[i].rule < sc->nrules
					   ? sc->rules[r[i].rule].name
					   : NULL;
		if (!name)
			continue;
		jb_puts(b, first ? "[" : ",[");
		jb_str(b, name, strlen(name));
		jb_printf(b, ",%" PRId32 ",%" PRIu32 ",%" PRIu32 ",", r[i].day,
			  r[i].day_count, r[i].total);
		jb_double(b, r[i].contrib);
		jb_puts(b, "]");
		first = false;
	}
	jb_puts(b, "]");
}

static void codec_write_traits(struct jtext *b, const struct lead *l)
{
	const char *p = lead_traits(l);
	size_t off = 0, next;
	uint8_t type;
	const char *name;
	struct strv v;
	char code[2] = {0};

	jb_puts(b, ",\"traits\":[");
	while ((next = lead_trait_next(p, l->traits_len, off, &type, &name,
				       &v)) != 0) {
		code[0] = codec_type_code(type);
		jb_puts(b, off ? ",[\"" : "[\"");
		jb_puts(b, code);
		jb_puts(b, "\",");
		jb_str(b, name, strlen(name));
		jb_puts(b, ",");
		jb_str(b, v.p, v.len);
		jb_puts(b, "]");
		off = next;
	}
	jb_puts(b, "]");
}

/* The score the record will restore: records of removed rules excluded. */
static double codec_score_kept(const struct scoring_config *sc,
			       const struct lead *l)
{
	const struct lead_rec *r = lead_recs(l);
	double s = 0;

	for (size_t i = 0; i < l->nrecs; i++)
		if (r[i].rule < sc->nrules)
			s += r[i].contrib;
	return s;
}

int lead_encode(const struct engine_config *cfg, const struct lead *l,
		char **out, size_t *len)
{
	struct jtext b = {0};

	jb_printf(&b, "{\"v\":%d,\"last_ms\":%" PRId64 ",\"cycle\":%u",
		  CODEC_VERSION, l->last_ms, (unsigned)l->cycle);
	jb_printf(&b, ",\"life\":\"%s\"",
		  lead_lifecycle_name((enum lead_lifecycle)l->lifecycle));
	if (l->grade)
		jb_printf(&b, ",\"grade\":\"%c\"", l->grade);
	else
		jb_puts(&b, ",\"grade\":null");
	jb_printf(&b, ",\"disq\":\"%s\",\"flags\":%u,\"ring_pos\":%u",
		  lead_disq_name((enum lead_disq)l->disq), (unsigned)l->flags,
		  (unsigned)l->ring_pos);
	jb_puts(&b, ",\"ring\":[");
	for (size_t i = 0; i < LEAD_RING; i++)
		jb_printf(&b, "%s\"%012" PRIx64 "\"", i ? "," : "",
			  lead_ring_get(l, i));
	jb_puts(&b, "],\"score\":");
	jb_double(&b, codec_score_kept(&cfg->scoring, l));
	codec_write_recs(&b, &cfg->scoring, l);
	codec_write_traits(&b, l);
	jb_puts(&b, "}");
	if (b.bad) {
		jtext_reset(&b);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* A lead being decoded, checked in full before it touches the table. */
struct codec_state {
	/* Scalar fields only. A block of its own: a struct with a flexible
	 * array member may not be a member of another (C11 6.7.2.1). */
	struct lead *hdr;
	int version;
	struct lead_rec *recs;
	size_t nrecs;
	char traits[LEAD_TRAITS_MAX];
	size_t traits_len;
};

static int codec_name_index(const char *s, const char *(*name_of)(int),
			    int count)
{
	for (int i = 0; s && i < count; i++)
		if (!strcmp(s, name_of(i)))
			return i;
	return -1;
}

static const char *codec_life_name_cb(int i)
{
	return lead_lifecycle_name((enum lead_lifecycle)i);
}

static const char *codec_disq_name_cb(int i)
{
	return lead_disq_name((enum lead_disq)i);
}

static int codec_read_scalars(json_t *o, struct lead *h, int *version)
{
	json_t *grade = json_object_get(o, "grade");
	json_int_t ring_pos, cycle;
	int life, disq;

	*version = (int)json_integer_value(json_object_get(o, "v"));
	if ((*version != 1 && *version != CODEC_VERSION) ||
	    !json_is_integer(json_object_get(o, "last_ms")) ||
	    !json_is_integer(json_object_get(o, "cycle")))
		return -1;
	h->last_ms = json_integer_value(json_object_get(o, "last_ms"));
	if (h->last_ms < LEAD_TS_MIN_MS || h->last_ms > LEAD_TS_MAX_MS)
		return -1;
	cycle = json_integer_value(json_object_get(o, "cycle"));
	if (cycle < 1 || cycle > UINT16_MAX)
		return -1;
	h->cycle = (uint16_t)cycle;
	life = codec_name_index(json_string_value(json_object_get(o, "life")),
				codec_life_name_cb, LEAD_LIFECYCLE_COUNT);
	disq = codec_name_index(json_string_value(json_object_get(o, "disq")),
				codec_disq_name_cb, LEAD_DISQ_COUNT);
	if (life < 0 || disq < 0)
		return -1;
	h->lifecycle = (uint8_t)life;
	h->disq = (uint8_t)disq;
	/* only a real grade: any other byte would be written back unescaped */
	if (json_is_string(grade) && json_string_length(grade) == 1 &&
	    json_string_value(grade)[0] >= 'A' &&
	    json_string_value(grade)[0] <= 'D')
		h->grade = json_string_value(grade)[0];
	else if (!json_is_null(grade))
		return -1;
	h->flags = (uint8_t)json_integer_value(json_object_get(o, "flags"));
	/* ring_pos indexes the ring on the next event: never trust it */
	ring_pos = json_integer_value(json_object_get(o, "ring_pos"));
	if (ring_pos < 0 || ring_pos >= LEAD_RING)
		return -1;
	h->ring_pos = (uint8_t)ring_pos;
	return 0;
}

static int codec_read_ring(json_t *o, struct lead *h)
{
	json_t *ring = json_object_get(o, "ring");

	if (json_array_size(ring) != LEAD_RING)
		return -1;
	for (size_t i = 0; i < LEAD_RING; i++) {
		const char *s = json_string_value(json_array_get(ring, i));
		char *end;
		if (!s)
			return -1;
		uint64_t v = strtoull(s, &end, 16);
		if (*end || v > LEAD_RING_MASK)
			return -1;
		lead_ring_set(h, i, v);
	}
	return 0;
}

/*
 * The current index of a record's rule: by name (version 2), or the stored
 * index (version 1). Returns 0 and sets *idx, 1 when the rule no longer
 * exists (the record is dropped, and its points with it, since the score
 * is the sum of the records), or -1 when the entry is malformed.
 */
static int codec_rule_index(const struct scoring_config *sc, int version,
			    json_t *id, size_t *idx)
{
	size_t n = sc->nrules < UINT16_MAX ? sc->nrules : UINT16_MAX;
	const char *name = json_string_value(id);
	json_int_t i;

	if (version == 1) {
		if (!json_is_integer(id) || (i = json_integer_value(id)) < 0)
			return -1;
		*idx = (size_t)i;
		return (size_t)i < n ? 0 : 1;
	}
	if (!name)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (sc->rules[k].name && !strcmp(sc->rules[k].name, name)) {
			*idx = k;
			return 0;
		}
	}
	return 1;
}

static bool codec_is_uint32(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	       json_integer_value(v) <= UINT32_MAX;
}

static int codec_read_rec(const struct scoring_config *sc, int version,
			  json_t *a, struct lead_rec *r)
{
	json_t *day = json_array_get(a, 1);
	size_t idx = 0;
	int rc;

	if (json_array_size(a) != 5 || !json_is_integer(day) ||
	    json_integer_value(day) < INT32_MIN ||
	    json_integer_value(day) > INT32_MAX ||
	    !codec_is_uint32(json_array_get(a, 2)) ||
	    !codec_is_uint32(json_array_get(a, 3)) ||
	    !json_is_number(json_array_get(a, 4)))
		return -1;
	rc = codec_rule_index(sc, version, json_array_get(a, 0), &idx);
	if (rc != 0)
		return rc;
	r->rule = (uint16_t)idx;
	r->day = (int32_t)json_integer_value(day);
	r->day_count = (uint32_t)json_integer_value(json_array_get(a, 2));
	r->total = (uint32_t)json_integer_value(json_array_get(a, 3));
	r->contrib = json_number_value(json_array_get(a, 4));
	return 0;
}

static int codec_rec_cmp(const void *a, const void *b)
{
	const struct lead_rec *x = a, *y = b;

	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Records are kept in rule order (score.c searches them so); a reordered
 * config re-sorts them, and two records for one rule are refused. */
static int codec_sort_recs(struct codec_state *st)
{
	if (st->nrecs < 2)
		return 0; /* qsort must not see the NULL of an empty set */
	qsort(st->recs, st->nrecs, sizeof(*st->recs), codec_rec_cmp);
	for (size_t i = 1; i < st->nrecs; i++)
		if (st->recs[i].rule == st->recs[i - 1].rule)
			return -1;
	return 0;
}

static int codec_read_recs(const struct scoring_config *sc, json_t *o,
			   struct codec_state *st)
{
	json_t *rules = json_object_get(o, "rules");
	size_t n = json_array_size(rules);

	if (!json_is_array(rules) || n > LEAD_RECS_MAX)
		return -1;
	st->recs = n ? calloc(n, sizeof(*st->recs)) : NULL;
	if (n && !st->recs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = codec_read_rec(sc, st->version,
					json_array_get(rules, i),
					&st->recs[st->nrecs]);
		if (rc < 0)
			return -1;
		if (rc == 0)
			st->nrecs++;
	}
	return codec_sort_recs(st);
}

static int codec_read_trait(json_t *a, struct codec_state *st)
{
	json_t *jn = json_array_get(a, 1), *jv = json_array_get(a, 2);
	uint8_t type;
	size_t nl, vl, need;

	if (json_array_size(a) != 3 || !json_is_string(jn) ||
	    !json_is_string(jv) ||
	    codec_type_parse(json_string_value(json_array_get(a, 0)), &type))
		return -1;
	nl = json_string_length(jn);
	vl = json_string_length(jv);
	need = 1 + nl + 1 + vl + 1;
	if (st->traits_len + need > sizeof(st->traits) ||
	    memchr(json_string_value(jn), '\0', nl) ||
	    memchr(json_string_value(jv), '\0', vl))
		return -1;
	st->traits[st->traits_len] = (char)type;
	memcpy(st->traits + st->traits_len + 1, json_string_value(jn), nl + 1);
	memcpy(st->traits + st->traits_len + 2 + nl, json_string_value(jv),
	       vl + 1);
	st->traits_len += need;
	return 0;
}

static int codec_read_traits(json_t *o, struct codec_state *st)
{
	json_t *traits = json_object_get(o, "traits");

	if (!json_is_array(traits))
		return -1;
	for (size_t i = 0; i < json_array_size(traits); i++)
		if (codec_read_trait(json_array_get(traits, i), st) < 0)
			return -1;
	return 0;
}

static int codec_install(const struct fit_config *fc, struct lead_table *t,
			 struct strv key, const struct codec_state *st)
{
	struct lead *l = lead_table_insert(t, key);
	const struct lead *h = st->hdr;

	if (!l)
		return -1;
	l->last_ms = h->last_ms;
	memcpy(l->ring, h->ring, sizeof(l->ring));
	l->cycle = h->cycle;
	l->ring_pos = h->ring_pos;
	l->lifecycle = h->lifecycle;
	l->disq = h->disq;
	l->grade = h->grade;
	l->flags = h->flags;
	if (lead_ext_resize(t, l, st->nrecs, 0) < 0 ||
	    lead_traits_replace(t, l, st->traits, st->traits_len) < 0) {
		lead_table_remove(t, key);
		return -1;
	}
	if (st->nrecs)
		memcpy(lead_recs(l), st->recs, st->nrecs * sizeof(*st->recs));
	/* The grade and disqualification are a function of the traits and
	 * the fit config, so they are recomputed rather than trusted: the
	 * record may have been written under an older config (a reload
	 * rebuilds the state from the changelogs), and fit rules or
	 * disqualifying domains added since must apply at once, not at the
	 * lead's next trait change. Under an unchanged config this
	 * reproduces the stored values, so a decoded lead still re-encodes
	 * to identical bytes. */
	lead_fit_update(fc, l);
	return 0;
}

int lead_decode(const struct engine_config *cfg, struct lead_table *t,
		struct strv key, const char *val, size_t len)
{
	struct codec_state *st = calloc(1, sizeof(*st));
	/* No JSON_ALLOW_NUL: the key, the one string that may hold a NUL, is
	 * the record's Kafka key, and no string in the record can (rule names
	 * come from the config, packed traits are NUL-terminated). */
	json_t *o = json_loadb(val, len, 0, NULL);
	int rc = -1;

	if (!st || !json_is_object(o) ||
	    !(st->hdr = calloc(1, sizeof(*st->hdr))))
		goto done;
	if (codec_read_scalars(o, st->hdr, &st->version) < 0 ||
	    codec_read_ring(o, st->hdr) < 0 ||
	    codec_read_recs(&cfg->scoring, o, st) < 0 ||
	    codec_read_traits(o, st) < 0)
		goto done;
	rc = codec_install(&cfg->fit, t, key, st);
done:
	json_decref(o);
	if (st) {
		free(st->hdr);
		free(st->recs);
	}
	free(st);
	return rc;
}

/* Rounded to cents: the handoff explains, it does not need 17 digits. */
static double codec_cents(double x)
{
	return round(x * 100.0) / 100.0;
}

static json_t *codec_real2(double x)
{
	return json_real(codec_cents(x));
}

static json_t *codec_trait_json(uint8_t type, struct strv v)
{
	char *end;
	long long n;

	switch (type & ~TRAIT_HIDDEN) {
	case JVAL_NULL:
		return json_null();
	case JVAL_BOOL:
		return json_boolean(strv_eq(v, "true"));
	case JVAL_NUMBER:
		/* an integer past int64 stays a number, not LLONG_MAX */
		errno = 0;
		n = strtoll(v.p, &end, 10);
		if (*end == '\0' && v.len > 0 && errno != ERANGE)
			return json_integer(n);
		return json_real(strtod(v.p, NULL));
	default:
		return json_stringn(v.p, v.len);
	}
}

static json_t *codec_traits_json(const struct lead *l)
{
	json_t *o = json_object();
	const char *p = lead_traits(l);
	size_t off = 0;
	uint8_t type;
	const char *name;
	struct strv v;

	while ((off = lead_trait_next(p, l->traits_len, off, &type, &name,
				      &v)) != 0)
		if (!(type & TRAIT_HIDDEN))
			json_object_set_new(o, name, codec_trait_json(type, v));
	return o;
}

static json_t *codec_score_reasons(const struct scoring_config *sc,
				   const struct lead *l)
{
	json_t *a = json_array();
	const struct lead_rec *r = lead_recs(l);

	for (size_t i = 0; i < l->nrecs; i++) {
		if (r[i].rule >= sc->nrules || r[i].total == 0)
			continue; /* a rule removed by a reload */
		json_array_append_new(
			a, json_pack("{s:s,s:o,s:I}", "rule",
				     sc->rules[r[i].rule].name, "points",
				     codec_real2(r[i].contrib), "matches",
				     (json_int_t)r[i].total));
	}
	return a;
}

/* The fit rules that gave the grade's points. A lead without traits was
 * not walked (it has 0 points, whatever a negated rule would say of it),
 * so its one reason says that instead of listing rules. */
static json_t *codec_grade_reasons(const struct fit_config *fc,
				   const struct lead *l)
{
	json_t *a = json_array();

	if (!lead_traits_visible(l)) {
		json_array_append_new(
			a, json_pack("{s:s,s:o,s:s}", "rule", "(no traits)",
				     "points", codec_real2(0), "reason",
				     "no traits: graded as 0 fit points"));
		return a;
	}
	for (size_t i = 0; i < fc->nrules; i++) {
		const struct fit_rule *fr = &fc->rules[i];
		if (cond_eval(&fr->cond, lead_lookup_cb, (void *)l))
			json_array_append_new(
				a,
				json_pack("{s:s,s:o}", "rule", fr->name,
					  "points", codec_real2(fr->points)));
	}
	return a;
}

static json_t *codec_territory_json(const struct territory *tr)
{
	char reason[160];

	if (!tr)
		return json_pack("{s:s,s:s}", "rule", "fallback", "reason",
				 "no territory matched; fallback team");
	snprintf(reason, sizeof(reason),
		 "first matching territory: all %zu conditions hold",
		 tr->nconds);
	return json_pack("{s:s,s:s}", "rule", tr->name, "reason", reason);
}

static json_t *codec_opt_string(struct strv s)
{
	return s.p ? json_stringn(s.p, s.len) : json_null();
}

int lead_assign_build_dom(const struct engine_config *cfg, const struct lead *l,
			  struct assign_cmd *cmd)
{
	const struct territory *tr = lead_territory_find(&cfg->routing, l);
	const char *team = tr ? tr->team : cfg->routing.fallback_team;
	char when[80], dbuf[256], grade = lead_fit_grade(&cfg->fit, l);
	struct strv dom = STRV_NULL, gid = STRV_NULL;
	json_t *o;

	if (!team || !iso_time_format(l->last_ms, when, sizeof(when)))
		return -1;
	lead_email_domain(l, dbuf, sizeof(dbuf), &dom);
	lead_group_id_get(l, &gid);
	o = json_pack("{s:s,s:s#,s:I,s:s,s:o,s:s,s:I,s:o,s:s#,s:o,s:o,s:o,"
		      "s:{s:o,s:o}}",
		      "kind", "assign", "lead", l->key, (int)l->key_len,
		      "cycle", (json_int_t)l->cycle, "team", team, "territory",
		      codec_territory_json(tr), "qualified_at", when,
		      "qualified_at_ms", (json_int_t)l->last_ms, "score",
		      codec_real2(lead_score_sum(l)), "grade", &grade, 1,
		      "email_domain", codec_opt_string(dom), "group_id",
		      codec_opt_string(gid), "traits", codec_traits_json(l),
		      "reasons", "score", codec_score_reasons(&cfg->scoring, l),
		      "grade", codec_grade_reasons(&cfg->fit, l));
	if (!o)
		return -1;
	cmd->json = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (!cmd->json)
		return -1;
	cmd->len = strlen(cmd->json);
	cmd->team = team;
	return 0;
}

/* The writer path: the same command as lead_assign_build_dom, byte for
 * byte, without the DOM. A value jansson would refuse or drop (invalid
 * UTF-8, a real that is not finite, a trait name given twice) sets the
 * buffer's bad flag, and lead_assign_build then leaves the lead to the
 * DOM path, which decides what becomes of it. */

static void codec_cstr_put(struct jtext *b, const char *s)
{
	if (!s)
		b->bad = true; /* json_pack refuses a NULL string */
	else
		jtext_string_put(b, s, strlen(s));
}

/* lit must be a string literal ("" lit refuses anything else). */
#define codec_lit_put(b, lit) jtext_raw_put((b), "" lit, sizeof(lit) - 1)

static void codec_territory_put(struct jtext *b, const struct territory *tr)
{
	if (!tr) {
		codec_lit_put(b, "{\"rule\":\"fallback\",\"reason\":\"no "
				 "territory matched; fallback team\"}");
		return;
	}
	codec_lit_put(b, "{\"rule\":");
	codec_cstr_put(b, tr->name);
	codec_lit_put(b, ",\"reason\":\"first matching territory: all ");
	jtext_int_put(b, (int64_t)tr->nconds);
	codec_lit_put(b, " conditions hold\"}");
}

static void codec_trait_put(struct jtext *b, uint8_t type, struct strv v)
{
	char *end;
	long long n;

	switch (type & ~TRAIT_HIDDEN) {
	case JVAL_NULL:
		codec_lit_put(b, "null");
		return;
	case JVAL_BOOL:
		if (strv_eq(v, "true"))
			codec_lit_put(b, "true");
		else
			codec_lit_put(b, "false");
		return;
	case JVAL_NUMBER:
		errno = 0;
		n = strtoll(v.p, &end, 10);
		if (*end == '\0' && v.len > 0 && errno != ERANGE)
			jtext_int_put(b, n);
		else
			jtext_real_put(b, strtod(v.p, NULL));
		return;
	default:
		jtext_string_put(b, v.p, v.len);
	}
}

/* Whether a visible trait before off has this name: json_object_set_new
 * would replace its value in place, which this writer does not do. */
static bool codec_trait_seen(const struct lead *l, size_t upto,
			     const char *name)
{
	const char *p = lead_traits(l), *n;
	size_t off = 0, next;
	uint8_t type;
	struct strv v;

	while (off < upto &&
	       (next = lead_trait_next(p, l->traits_len, off, &type, &n, &v))) {
		if (!(type & TRAIT_HIDDEN) && !strcmp(n, name))
			return true;
		off = next;
	}
	return false;
}

static void codec_traits_put(struct jtext *b, const struct lead *l)
{
	const char *p = lead_traits(l);
	size_t off = 0, next;
	bool first = true;
	uint8_t type;
	const char *name;
	struct strv v;

	codec_lit_put(b, "{");
	while ((next = lead_trait_next(p, l->traits_len, off, &type, &name,
				       &v)) != 0) {
		if (!(type & TRAIT_HIDDEN)) {
			if (codec_trait_seen(l, off, name))
				b->bad = true;
			if (!first)
				codec_lit_put(b, ",");
			codec_cstr_put(b, name);
			codec_lit_put(b, ":");
			codec_trait_put(b, type, v);
			first = false;
		}
		off = next;
	}
	codec_lit_put(b, "}");
}

static void codec_score_reasons_put(struct jtext *b,
				    const struct scoring_config *sc,
				    const struct lead *l)
{
	const struct lead_rec *r = lead_recs(l);
	bool first = true;

	codec_lit_put(b, "[");
	for (size_t i = 0; i < l->nrecs; i++) {
		if (r[i].rule >= sc->nrules || r[i].total == 0)
			continue;
		if (!first)
			codec_lit_put(b, ",");
		codec_lit_put(b, "{\"rule\":");
		codec_cstr_put(b, sc->rules[r[i].rule].name);
		codec_lit_put(b, ",\"points\":");
		jtext_real_put(b, codec_cents(r[i].contrib));
		codec_lit_put(b, ",\"matches\":");
		jtext_int_put(b, r[i].total);
		codec_lit_put(b, "}");
		first = false;
	}
	codec_lit_put(b, "]");
}

static void codec_grade_reasons_put(struct jtext *b,
				    const struct fit_config *fc,
				    const struct lead *l)
{
	bool first = true;

	if (!lead_traits_visible(l)) {
		codec_lit_put(b, "[{\"rule\":\"(no traits)\",\"points\":0.0,"
				 "\"reason\":\"no traits: graded as 0 fit "
				 "points\"}]");
		return;
	}
	codec_lit_put(b, "[");
	for (size_t i = 0; i < fc->nrules; i++) {
		const struct fit_rule *fr = &fc->rules[i];
		if (!cond_eval(&fr->cond, lead_lookup_cb, (void *)l))
			continue;
		if (!first)
			codec_lit_put(b, ",");
		codec_lit_put(b, "{\"rule\":");
		codec_cstr_put(b, fr->name);
		codec_lit_put(b, ",\"points\":");
		jtext_real_put(b, codec_cents(fr->points));
		codec_lit_put(b, "}");
		first = false;
	}
	codec_lit_put(b, "]");
}

int lead_assign_build(const struct engine_config *cfg, const struct lead *l,
		      struct assign_cmd *cmd)
{
	const struct territory *tr = lead_territory_find(&cfg->routing, l);
	const char *team = tr ? tr->team : cfg->routing.fallback_team;
	char when[80], dbuf[256], grade = lead_fit_grade(&cfg->fit, l);
	struct strv dom = STRV_NULL, gid = STRV_NULL;
	struct jtext b = {0};

	if (!team || !iso_time_format(l->last_ms, when, sizeof(when)))
		return -1;
	lead_email_domain(l, dbuf, sizeof(dbuf), &dom);
	lead_group_id_get(l, &gid);
	codec_lit_put(&b, "{\"kind\":\"assign\",\"lead\":");
	jtext_string_put(&b, l->key, l->key_len);
	codec_lit_put(&b, ",\"cycle\":");
	jtext_int_put(&b, l->cycle);
	codec_lit_put(&b, ",\"team\":");
	codec_cstr_put(&b, team);
	codec_lit_put(&b, ",\"territory\":");
	codec_territory_put(&b, tr);
	codec_lit_put(&b, ",\"qualified_at\":");
	codec_cstr_put(&b, when);
	codec_lit_put(&b, ",\"qualified_at_ms\":");
	jtext_int_put(&b, l->last_ms);
	codec_lit_put(&b, ",\"score\":");
	jtext_real_put(&b, codec_cents(lead_score_sum(l)));
	codec_lit_put(&b, ",\"grade\":");
	jtext_string_put(&b, &grade, 1);
	codec_lit_put(&b, ",\"email_domain\":");
	jtext_opt_string_put(&b, dom);
	codec_lit_put(&b, ",\"group_id\":");
	jtext_opt_string_put(&b, gid);
	codec_lit_put(&b, ",\"traits\":");
	codec_traits_put(&b, l);
	codec_lit_put(&b, ",\"reasons\":{\"score\":");
	codec_score_reasons_put(&b, &cfg->scoring, l);
	codec_lit_put(&b, ",\"grade\":");
	codec_grade_reasons_put(&b, &cfg->fit, l);
	codec_lit_put(&b, "}}");
	if (b.bad) {
		jtext_reset(&b);
		return lead_assign_build_dom(cfg, l, cmd);
	}
	cmd->json = b.p;
	cmd->len = b.len;
	cmd->team = team;
	return 0;
}
