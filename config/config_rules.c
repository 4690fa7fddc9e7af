/*
 * config_rules.c - the lead-scoring half of the config: conditions, the
 * behaviour rules ("scoring"), fit rules, grades and disqualifiers ("fit")
 * and the MQL bar ("qualification").
 *
 * Field names are resolved here, once, into enum field_src so the engine
 * never looks at a field string per event. Strings in conditions are kept as
 * written because the engine compares them case-insensitively; only e-mail
 * domains are lower-cased, since the engine sees them lower-cased and PREFIX
 * compares case-sensitively, and a disqualifying domain that could never
 * match ("@gmail.com", "*.rival.com") is an error, not a silent no-op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/event.h"
#include "config_internal.h"

static const char *const cfg_cond_ops[] = {
	"eq", "in", "prefix", "contains", "word",
	"lt", "le", "gt",     "ge",       "exists",
};
#define CFG_NOPS (sizeof(cfg_cond_ops) / sizeof(cfg_cond_ops[0]))

void cfg_cond_free(struct cond *c)
{
	free(c->name);
	cfg_strings_free(c->strs, c->nstrs);
	free(c->lens);
	c->name = NULL;
	c->strs = NULL;
	c->nstrs = 0;
	c->lens = NULL;
}

/* c->lens for c->strs (engine/rules.h); -1 when out of memory. */
static int cfg_cond_lens(struct cond *c)
{
	if (c->nstrs == 0)
		return 0;
	c->lens = malloc(c->nstrs * sizeof(*c->lens));
	if (!c->lens)
		return -1;
	for (size_t i = 0; i < c->nstrs; i++)
		c->lens[i] = strlen(c->strs[i]);
	return 0;
}

/* Nested trait names flatten one level ("company.name") in the event
 * parser, so deeper names could never match. A field (cond) carries its
 * "traits." or "properties." prefix; a bare trait name does not. */
static int cfg_field_name_check(struct config_errors *errs, const char *name,
				const char *path, bool cond)
{
	const char *dot = strchr(name, '.');

	if (!*name || name[strlen(name) - 1] == '.' || *name == '.') {
		cfg_error(errs, path,
			  cond ? "expected a field name after the prefix"
			       : "expected a trait name such as \"email\" or "
				 "\"company.name\", without a leading or "
				 "trailing '.'");
		return -1;
	}
	if (dot && strchr(dot + 1, '.')) {
		cfg_error(errs, path,
			  cond ? "fields nest one level at most "
				 "(\"traits.company.name\")"
			       : "trait names nest one level at most "
				 "(\"company.name\")");
		return -1;
	}
	return 0;
}

static int cfg_cond_field(struct config_errors *errs, const json_t *v,
			  const char *path, bool traits_only, struct cond *c)
{
	static const struct {
		const char *name;
		enum field_src src;
		bool trait_ok;
	} plain[] = {
		{"event", FIELD_EVENT_NAME, false},
		{"path", FIELD_PATH, false},
		{"url", FIELD_URL, false},
		{"email_domain", FIELD_EMAIL_DOMAIN, true},
	};
	const char *s;
	size_t i;

	if (!json_is_string(v)) {
		cfg_error(errs, path, "expected a string, got %s",
			  cfg_json_type(v));
		return -1;
	}
	s = json_string_value(v);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (strcmp(s, plain[i].name) != 0)
			continue;
		if (traits_only && !plain[i].trait_ok)
			goto not_here;
		c->src = plain[i].src;
		return 0;
	}
	if (strncmp(s, "traits.", 7) == 0 ||
	    (!traits_only && strncmp(s, "properties.", 11) == 0)) {
		bool trait = s[0] == 't';
		const char *name = s + (trait ? 7 : 11);

		if (cfg_field_name_check(errs, name, path, true) < 0)
			return -1;
		c->src = trait ? FIELD_TRAIT : FIELD_PROPERTY;
		c->name = cfg_strdup(name);
		return 0;
	}
	if (strncmp(s, "properties.", 11) == 0)
		goto not_here;
	cfg_error(errs, path, "unknown field \"%.64s\"; expected %s", s,
		  traits_only ? "traits.NAME or email_domain"
			      : "event, path, url, email_domain, "
				"properties.NAME or traits.NAME");
	return -1;
not_here:
	cfg_error(errs, path,
		  "field \"%.64s\" is not allowed here; expected traits.NAME "
		  "or email_domain",
		  s);
	return -1;
}

static int cfg_cond_number(struct config_errors *errs, const json_t *v,
			   const char *path, struct cond *c)
{
	if (!json_is_number(v)) {
		cfg_error(errs, path, "expected a number, got %s",
			  cfg_json_type(v));
		return -1;
	}
	c->num = json_number_value(v);
	c->is_num = true;
	return 0;
}

static int cfg_cond_eq(struct config_errors *errs, const json_t *v,
		       const char *path, struct cond *c)
{
	if (json_is_number(v))
		return cfg_cond_number(errs, v, path, c);
	if (!json_is_string(v)) {
		cfg_error(errs, path, "expected a string or a number, got %s",
			  cfg_json_type(v));
		return -1;
	}
	return cfg_strings_parse(errs, v, path, true, false, &c->strs,
				 &c->nstrs);
}

static int cfg_cond_strings(struct config_errors *errs, const json_t *v,
			    const char *path, bool one, struct cond *c)
{
	if (cfg_strings_parse(errs, v, path, one, false, &c->strs, &c->nstrs) <
	    0)
		return -1;
	if (c->nstrs == 0) {
		cfg_error(errs, path, "expected at least one string");
		return -1;
	}
	return 0;
}

static int cfg_cond_operand(struct config_errors *errs, const json_t *v,
			    const char *path, struct cond *c)
{
	switch (c->op) {
	case COND_EQ:
		return cfg_cond_eq(errs, v, path, c);
	case COND_IN:
		return cfg_cond_strings(errs, v, path, false, c);
	case COND_PREFIX:
	case COND_CONTAINS:
	case COND_WORD:
		return cfg_cond_strings(errs, v, path, true, c);
	case COND_EXISTS:
		if (json_is_true(v))
			return 0;
		cfg_error(errs, path,
			  "expected true, got %s (use \"not\": true to test "
			  "absence)",
			  cfg_json_type(v));
		return -1;
	default:
		return cfg_cond_number(errs, v, path, c);
	}
}

/* Finds the single operator key; reports none or several. */
static int cfg_cond_op_find(struct config_errors *errs, const json_t *v,
			    const char *path, size_t *op)
{
	size_t i, found = CFG_NOPS;

	for (i = 0; i < CFG_NOPS; i++) {
		if (!json_object_get(v, cfg_cond_ops[i]))
			continue;
		if (found != CFG_NOPS) {
			cfg_error(errs, path,
				  "more than one operator (\"%s\" and \"%s\"); "
				  "expected exactly one",
				  cfg_cond_ops[found], cfg_cond_ops[i]);
			return -1;
		}
		found = i;
	}
	if (found == CFG_NOPS) {
		cfg_error(errs, path,
			  "missing operator; expected one of: eq, in, prefix, "
			  "contains, word, lt, le, gt, ge, exists");
		return -1;
	}
	*op = found;
	return 0;
}

int cfg_cond_parse(struct config_errors *errs, const json_t *v,
		   const char *path, bool traits_only, struct cond *c)
{
	static const char *const keys[] = {
		"field", "not", "eq", "in", "prefix", "contains",
		"word",  "lt",  "le", "gt", "ge",     "exists",
	};
	static const enum cond_op ops[] = {
		COND_EQ, COND_IN, COND_PREFIX, COND_CONTAINS, COND_WORD,
		COND_LT, COND_LE, COND_GT,     COND_GE,       COND_EXISTS,
	};
	char sub[CFG_PATH_MAX];
	const json_t *f, *neg;
	size_t op;
	int rc = 0;

	if (!cfg_expect_object(errs, v, path))
		return -1;
	if (cfg_keys_check(errs, v, path, keys, sizeof(keys) / sizeof(*keys)))
		rc = -1;
	f = json_object_get(v, "field");
	cfg_path_key(sub, sizeof(sub), path, "field");
	if (!f) {
		cfg_error(errs, path, "missing required key \"field\"");
		rc = -1;
	} else if (cfg_cond_field(errs, f, sub, traits_only, c) < 0) {
		rc = -1;
	}
	neg = json_object_get(v, "not");
	cfg_path_key(sub, sizeof(sub), path, "not");
	if (neg && !json_is_boolean(neg)) {
		cfg_error(errs, sub, "expected true or false, got %s",
			  cfg_json_type(neg));
		rc = -1;
	}
	c->negate = json_is_true(neg);
	if (cfg_cond_op_find(errs, v, path, &op) < 0)
		return -1;
	c->op = ops[op];
	cfg_path_key(sub, sizeof(sub), path, cfg_cond_ops[op]);
	if (cfg_cond_operand(errs, json_object_get(v, cfg_cond_ops[op]), sub,
			     c) < 0)
		rc = -1;
	if (rc == 0 && c->src == FIELD_EMAIL_DOMAIN)
		for (size_t i = 0; i < c->nstrs; i++)
			cfg_str_lower(c->strs[i]);
	if (rc == 0 && cfg_cond_lens(c) < 0) {
		cfg_error(errs, path, "out of memory");
		rc = -1;
	}
	return rc;
}

int cfg_conds_parse(struct config_errors *errs, const json_t *v,
		    const char *path, bool traits_only, struct cond **out,
		    size_t *n)
{
	char sub[CFG_PATH_MAX];
	size_t i, cnt;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (json_is_object(v)) {
		*out = calloc(1, sizeof(**out));
		if (!*out)
			return -1;
		*n = 1;
		return cfg_cond_parse(errs, v, path, traits_only, *out);
	}
	if (!json_is_array(v)) {
		cfg_error(errs, path,
			  "expected a condition object or an array of them, "
			  "got %s",
			  cfg_json_type(v));
		return -1;
	}
	/* no conditions is "always": an empty list must not turn into it */
	cnt = json_array_size(v);
	if (cnt == 0) {
		cfg_error(errs, path,
			  "expected at least one condition; leave out "
			  "\"when\" to match without conditions");
		return -1;
	}
	*out = calloc(cnt, sizeof(**out));
	if (!*out)
		return -1;
	*n = cnt;
	for (i = 0; i < cnt; i++) {
		cfg_path_index(sub, sizeof(sub), path, i);
		if (cfg_cond_parse(errs, json_array_get(v, i), sub, traits_only,
				   &(*out)[i]) < 0)
			rc = -1;
	}
	return rc;
}

static void cfg_conds_free(struct cond *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cfg_cond_free(&v[i]);
	free(v);
}

/* ---- scoring ---- */

static int cfg_event_type_bit(const char *s, unsigned *bit)
{
	static const struct {
		const char *name;
		enum event_type t;
	} types[] = {
		{"identify", EVENT_IDENTIFY}, {"track", EVENT_TRACK},
		{"page", EVENT_PAGE},         {"screen", EVENT_SCREEN},
		{"group", EVENT_GROUP},
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(s, types[i].name) == 0) {
			*bit = 1u << types[i].t;
			return 0;
		}
	}
	return -1;
}

static int cfg_rule_types(struct config_errors *errs, const json_t *v,
			  const char *path, void *base)
{
	struct score_rule *r = base;
	char **names;
	size_t n, i;
	int rc;

	r->types = 0;
	if (!v)
		return 0;
	/* types 0 is "any type": an empty list must not turn into it */
	if (json_is_array(v) && json_array_size(v) == 0) {
		cfg_error(errs, path,
			  "expected at least one event type (identify, track, "
			  "page, screen, group); leave out \"type\" to match "
			  "every type");
		return -1;
	}
	rc = cfg_strings_parse(errs, v, path, true, false, &names, &n);
	for (i = 0; i < n; i++) {
		char sub[CFG_PATH_MAX];
		unsigned bit;

		if (!names[i])
			continue;
		if (cfg_event_type_bit(names[i], &bit) == 0) {
			r->types |= bit;
			continue;
		}
		if (json_is_array(v))
			cfg_path_index(sub, sizeof(sub), path, i);
		else
			snprintf(sub, sizeof(sub), "%s", path);
		cfg_error(errs, sub,
			  "unknown event type \"%.32s\"; expected one of: "
			  "identify, track, page, screen, group",
			  names[i]);
		rc = -1;
	}
	cfg_strings_free(names, n);
	return rc;
}

static int cfg_rule_when(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	struct score_rule *r = base;

	if (!v)
		return 0;
	return cfg_conds_parse(errs, v, path, false, &r->conds, &r->nconds);
}

static const struct cfg_field cfg_score_rule_fields[] = {
	{.key = "name",
	 .type = CFG_STR,
	 .off = offsetof(struct score_rule, name),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "type", .type = CFG_CUSTOM, .custom = cfg_rule_types},
	{.key = "when", .type = CFG_CUSTOM, .custom = cfg_rule_when},
	{.key = "points",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct score_rule, points),
	 .flags = CFG_F_REQUIRED | CFG_F_NONZERO},
	{.key = "cap_per_day",
	 .type = CFG_U32,
	 .off = offsetof(struct score_rule, cap_per_day),
	 .flags = CFG_F_MIN},
	{.key = "cap_total",
	 .type = CFG_U32,
	 .off = offsetof(struct score_rule, cap_total),
	 .flags = CFG_F_MIN},
};

static int cfg_score_rules_parse(struct config_errors *errs, const json_t *v,
				 const char *path, void *base)
{
	struct scoring_config *sc = base;
	void *rules = NULL;
	int rc;

	rc = cfg_objects_parse(errs, v, path, cfg_score_rule_fields,
			       sizeof(cfg_score_rule_fields) /
				       sizeof(cfg_score_rule_fields[0]),
			       sizeof(*sc->rules), "rule",
			       offsetof(struct score_rule, name), &rules,
			       &sc->nrules);
	sc->rules = rules;
	return rc;
}

static const struct cfg_field cfg_scoring_fields[] = {
	{.key = "half_life_days",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct scoring_config, half_life_days),
	 .flags = CFG_F_MIN,
	 .def_num = 30},
	{.key = "rules", .type = CFG_CUSTOM, .custom = cfg_score_rules_parse},
};

int cfg_scoring_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct scoring_config *sc)
{
	size_t before = errs->n;

	cfg_object_apply(
		errs, v, path, cfg_scoring_fields,
		sizeof(cfg_scoring_fields) / sizeof(cfg_scoring_fields[0]), sc);
	if (errs->n != before)
		return -1;
	if (scoring_config_index(sc) < 0) {
		cfg_error(errs, path, "out of memory");
		return -1;
	}
	return 0;
}

void cfg_scoring_free(struct scoring_config *sc)
{
	for (size_t i = 0; i < sc->nrules; i++) {
		free(sc->rules[i].name);
		cfg_conds_free(sc->rules[i].conds, sc->rules[i].nconds);
	}
	free(sc->rules);
	sc->rules = NULL;
	sc->nrules = 0;
	scoring_config_index_free(sc);
}

/* ---- fit ---- */

static int cfg_fit_when(struct config_errors *errs, const json_t *v,
			const char *path, void *base)
{
	struct fit_rule *r = base;

	return cfg_cond_parse(errs, v, path, true, &r->cond);
}

static const struct cfg_field cfg_fit_rule_fields[] = {
	{.key = "name",
	 .type = CFG_STR,
	 .off = offsetof(struct fit_rule, name),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "when",
	 .type = CFG_CUSTOM,
	 .flags = CFG_F_REQUIRED,
	 .custom = cfg_fit_when},
	{.key = "points",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct fit_rule, points),
	 .flags = CFG_F_REQUIRED | CFG_F_NONZERO},
};

static int cfg_fit_rules_parse(struct config_errors *errs, const json_t *v,
			       const char *path, void *base)
{
	struct fit_config *fc = base;
	void *rules = NULL;
	int rc;

	rc = cfg_objects_parse(
		errs, v, path, cfg_fit_rule_fields,
		sizeof(cfg_fit_rule_fields) / sizeof(cfg_fit_rule_fields[0]),
		sizeof(*fc->rules), "rule", offsetof(struct fit_rule, name),
		&rules, &fc->nrules);
	fc->rules = rules;
	return rc;
}

static const struct cfg_field cfg_grade_fields[] = {
	{.key = "A",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct fit_config, grade_a),
	 .def_num = 60},
	{.key = "B",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct fit_config, grade_b),
	 .def_num = 40},
	{.key = "C",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct fit_config, grade_c),
	 .def_num = 20},
};

static int cfg_grades_parse(struct config_errors *errs, const json_t *v,
			    const char *path, void *base)
{
	struct fit_config *fc = base;

	if (cfg_object_apply(errs, v, path, cfg_grade_fields,
			     sizeof(cfg_grade_fields) /
				     sizeof(cfg_grade_fields[0]),
			     fc) < 0)
		return -1;
	if (fc->grade_a > fc->grade_b && fc->grade_b > fc->grade_c)
		return 0;
	cfg_error(errs, path,
		  "grades must be descending (A > B > C), got A=%g, B=%g, C=%g",
		  fc->grade_a, fc->grade_b, fc->grade_c);
	return -1;
}

static int cfg_domains(struct config_errors *errs, const json_t *v,
		       const char *path, char ***out, size_t *n)
{
	int rc;

	if (!v)
		return 0;
	rc = cfg_strings_parse(errs, v, path, false, true, out, n);
	if (cfg_domains_check(errs, v, path, false) < 0)
		rc = -1;
	return rc;
}

static int cfg_disq_freemail(struct config_errors *errs, const json_t *v,
			     const char *path, void *base)
{
	struct fit_config *fc = base;
	return cfg_domains(errs, v, path, &fc->freemail_domains,
			   &fc->nfreemail);
}

static int cfg_disq_competitor(struct config_errors *errs, const json_t *v,
			       const char *path, void *base)
{
	struct fit_config *fc = base;
	return cfg_domains(errs, v, path, &fc->competitor_domains,
			   &fc->ncompetitor);
}

static int cfg_disq_excluded(struct config_errors *errs, const json_t *v,
			     const char *path, void *base)
{
	struct fit_config *fc = base;
	return cfg_domains(errs, v, path, &fc->excluded_domains,
			   &fc->nexcluded);
}

static int cfg_disq_titles(struct config_errors *errs, const json_t *v,
			   const char *path, void *base)
{
	struct fit_config *fc = base;

	if (!v)
		return 0;
	/* Stored lower-case, as the domains are; the match ignores case
	 * either way (engine/cond.c cond_any_word). */
	return cfg_strings_parse(errs, v, path, false, true,
				 &fc->disqualify_titles,
				 &fc->ndisqualify_titles);
}

static const struct cfg_field cfg_disq_fields[] = {
	{.key = "freemail_domains",
	 .type = CFG_CUSTOM,
	 .custom = cfg_disq_freemail},
	{.key = "competitor_domains",
	 .type = CFG_CUSTOM,
	 .custom = cfg_disq_competitor},
	{.key = "excluded_domains",
	 .type = CFG_CUSTOM,
	 .custom = cfg_disq_excluded},
	{.key = "titles", .type = CFG_CUSTOM, .custom = cfg_disq_titles},
};

static int cfg_disq_parse(struct config_errors *errs, const json_t *v,
			  const char *path, void *base)
{
	if (!v)
		return 0;
	return cfg_object_apply(
		errs, v, path, cfg_disq_fields,
		sizeof(cfg_disq_fields) / sizeof(cfg_disq_fields[0]), base);
}

static const struct cfg_field cfg_fit_fields[] = {
	{.key = "rules", .type = CFG_CUSTOM, .custom = cfg_fit_rules_parse},
	{.key = "grades", .type = CFG_CUSTOM, .custom = cfg_grades_parse},
	{.key = "disqualify", .type = CFG_CUSTOM, .custom = cfg_disq_parse},
};

int cfg_fit_parse(struct config_errors *errs, const json_t *v, const char *path,
		  struct fit_config *fc)
{
	size_t before = errs->n;

	cfg_object_apply(errs, v, path, cfg_fit_fields,
			 sizeof(cfg_fit_fields) / sizeof(cfg_fit_fields[0]),
			 fc);
	if (errs->n != before)
		return -1;
	fit_config_prepare(fc);
	return 0;
}

void cfg_fit_free(struct fit_config *fc)
{
	for (size_t i = 0; i < fc->nrules; i++) {
		free(fc->rules[i].name);
		cfg_cond_free(&fc->rules[i].cond);
	}
	free(fc->rules);
	cfg_strings_free(fc->freemail_domains, fc->nfreemail);
	cfg_strings_free(fc->competitor_domains, fc->ncompetitor);
	cfg_strings_free(fc->excluded_domains, fc->nexcluded);
	cfg_strings_free(fc->disqualify_titles, fc->ndisqualify_titles);
	fit_wanted_free(fc);
	memset(fc, 0, sizeof(*fc));
}

/* ---- qualification ---- */

static int cfg_min_grade(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	struct qualify_config *qc = base;
	const char *s;

	qc->min_grade = 'B';
	if (!v)
		return 0;
	s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s && s[0] >= 'A' && s[0] <= 'D' && s[1] == '\0') {
		qc->min_grade = s[0];
		return 0;
	}
	cfg_error(errs, path,
		  "expected one of \"A\", \"B\", \"C\", \"D\", got %s",
		  s ? "another string" : cfg_json_type(v));
	return -1;
}

/*
 * Traits are stored by name ("email", "company.name"); conditions spell
 * them "traits.NAME", so that prefix is what people copy here. A trait
 * literally named "traits.email" never exists, and the lead would never
 * qualify without a word, so the prefix is refused with the name to use.
 */
static int cfg_required_trait_check(struct config_errors *errs,
				    const char *name, const char *path)
{
	if (strncmp(name, "traits.", 7) == 0) {
		cfg_error(errs, path,
			  "expected the trait name as it is stored, without "
			  "the \"traits.\" prefix: \"%.64s\"",
			  name + 7);
		return -1;
	}
	return cfg_field_name_check(errs, name, path, false);
}

static int cfg_required_traits(struct config_errors *errs, const json_t *v,
			       const char *path, void *base)
{
	struct qualify_config *qc = base;
	int rc;

	if (!v)
		return 0;
	rc = cfg_strings_parse(errs, v, path, false, false,
			       &qc->required_traits, &qc->nrequired);
	for (size_t i = 0; i < qc->nrequired; i++) {
		char sub[CFG_PATH_MAX];

		cfg_path_index(sub, sizeof(sub), path, i);
		if (qc->required_traits[i] &&
		    cfg_required_trait_check(errs, qc->required_traits[i],
					     sub) < 0)
			rc = -1;
	}
	return rc;
}

/* The most points the scoring rules can add in a cycle, before decay, or
 * a negative number when some rule adding points has no cap_total. */
static double cfg_score_most(const struct scoring_config *sc)
{
	double most = 0;

	for (size_t i = 0; i < sc->nrules; i++) {
		const struct score_rule *r = &sc->rules[i];
		if (r->points <= 0)
			continue;
		if (r->cap_total == 0)
			return -1;
		most += r->points * r->cap_total;
	}
	return most;
}

/* The fit points min_grade needs; 0 for D, which every lead has. */
static double cfg_grade_needs(const struct fit_config *fc, char grade)
{
	switch (grade) {
	case 'A':
		return fc->grade_a;
	case 'B':
		return fc->grade_b;
	case 'C':
		return fc->grade_c;
	default:
		return 0;
	}
}

void config_warnings(const struct config *cfg, struct config_errors *warns)
{
	const struct engine_config *ec = &cfg->engine;
	double most = cfg_score_most(&ec->scoring);
	double fit = 0,
	       needs = cfg_grade_needs(&ec->fit, ec->qualify.min_grade);

	if (most >= 0 && most < ec->qualify.threshold)
		cfg_error(warns, "$.qualification.score_threshold",
			  "no lead can reach %g: every scoring rule that adds "
			  "points has a cap_total, and together they add at "
			  "most %g (before decay)",
			  ec->qualify.threshold, most);
	for (size_t i = 0; i < ec->fit.nrules; i++)
		if (ec->fit.rules[i].points > 0)
			fit += ec->fit.rules[i].points;
	if (fit < needs)
		cfg_error(warns, "$.qualification.min_grade",
			  "no lead can reach grade %c: it needs %g fit points, "
			  "and the fit rules add at most %g",
			  ec->qualify.min_grade, needs, fit);
}

static const struct cfg_field cfg_qualify_fields[] = {
	{.key = "score_threshold",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct qualify_config, threshold),
	 .flags = CFG_F_REQUIRED | CFG_F_MIN | CFG_F_MIN_EXCL},
	{.key = "min_grade", .type = CFG_CUSTOM, .custom = cfg_min_grade},
	{.key = "required_traits",
	 .type = CFG_CUSTOM,
	 .custom = cfg_required_traits},
};

int cfg_qualify_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct qualify_config *qc)
{
	size_t before = errs->n;

	cfg_object_apply(
		errs, v, path, cfg_qualify_fields,
		sizeof(cfg_qualify_fields) / sizeof(cfg_qualify_fields[0]), qc);
	return errs->n == before ? 0 : -1;
}

void cfg_qualify_free(struct qualify_config *qc)
{
	cfg_strings_free(qc->required_traits, qc->nrequired);
	qc->required_traits = NULL;
	qc->nrequired = 0;
}
