/*
 * config_schema.c - the table-driven part of the config loader: error
 * collection, JSON paths, and cfg_object_apply, which checks one JSON object
 * against a cfg_field table (types, ranges, defaults, required and unknown
 * keys). Errors are collected, never fatal, so one run reports them all.
 * The typed helpers the sections share live here too, among them the check
 * that e-mail domain lists hold only entries that can match.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/strv.h"
#include "config_internal.h"

static struct config_error *cfg_error_slot(struct config_errors *errs)
{
	if (errs->n == errs->cap) {
		size_t cap = errs->cap ? errs->cap * 2 : 16;
		struct config_error *v = realloc(errs->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		errs->v = v;
		errs->cap = cap;
	}
	return &errs->v[errs->n++];
}

static bool cfg_mail_local_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool cfg_mail_domain_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/*
 * Every e-mail address in s (a local part, '@', a domain with a dot)
 * becomes "<e-mail address>". Errors echo what the file says, and they
 * reach the journal (ExecStartPre runs --check-config, a reload logs
 * them), where no address may go; "@file:" has no local part and stays.
 */
static void cfg_mail_redact(char *s, size_t size)
{
	static const char mask[] = "<e-mail address>";
	char out[sizeof(((struct config_error *)0)->msg)];
	size_t o = 0, i = 0, n = strlen(s), copied = 0; /* since a mask */

	if (!strchr(s, '@') || size > sizeof(out))
		return;
	while (i < n && o + 1 < size) {
		size_t l = i, d = i + 1;
		if (s[i] != '@') {
			out[o++] = s[i++];
			copied++;
			continue;
		}
		while (i - l < copied && cfg_mail_local_byte(s[l - 1]))
			l--;
		while (cfg_mail_domain_byte(s[d]))
			d++;
		if (l == i || !memchr(s + i + 1, '.', d - i - 1)) {
			out[o++] = s[i++];
			copied++;
			continue;
		}
		o -= i - l; /* the local part was copied already */
		for (size_t k = 0; mask[k] && o + 1 < size; k++)
			out[o++] = mask[k];
		i = d;
		copied = 0;
	}
	out[o] = '\0';
	memcpy(s, out, o + 1);
}

void cfg_error(struct config_errors *errs, const char *path, const char *fmt,
	       ...)
{
	struct config_error *e;
	va_list ap;

	/* A hostile or badly broken file must not grow the list forever. */
	if (errs->n > CFG_ERRORS_MAX)
		return;
	e = cfg_error_slot(errs);
	if (!e)
		return;
	if (errs->n > CFG_ERRORS_MAX) {
		snprintf(e->path, sizeof(e->path), "$");
		snprintf(e->msg, sizeof(e->msg),
			 "too many errors; stopped reporting after %d",
			 CFG_ERRORS_MAX);
		return;
	}
	snprintf(e->path, sizeof(e->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	cfg_mail_redact(e->path, sizeof(e->path));
	cfg_mail_redact(e->msg, sizeof(e->msg));
}

const char *cfg_string_or(struct config_errors *errs, const json_t *v,
			  const char *path, const char *def, const char *what)
{
	if (v == NULL)
		return def;
	if (!json_is_string(v)) {
		cfg_error(errs, path, "expected %s, got %s", what,
			  cfg_json_type(v));
		return NULL;
	}
	return json_string_value(v);
}

const char *cfg_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "value";
}

static bool cfg_key_is_ident(const char *key)
{
	if (!*key || isdigit((unsigned char)*key))
		return false;
	for (; *key; key++)
		if (!isalnum((unsigned char)*key) && *key != '_')
			return false;
	return true;
}

void cfg_path_key(char *out, size_t size, const char *base, const char *key)
{
	int n;

	/* Keys such as "bootstrap.servers" need the bracket form to stay
	 * unambiguous. */
	if (cfg_key_is_ident(key))
		n = snprintf(out, size, "%s.%s", base, key);
	else
		n = snprintf(out, size, "%s['%s']", base, key);
	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0';
}

void cfg_path_index(char *out, size_t size, const char *base, size_t i)
{
	int n = snprintf(out, size, "%s[%zu]", base, i);
	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0';
}

bool cfg_key_is_comment(const char *key)
{
	/* "_comment", "_note": JSON has no comments, so these stand in. */
	return key[0] == '_';
}

char *cfg_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void cfg_str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool cfg_name_is_id(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

bool cfg_expect_object(struct config_errors *errs, const json_t *v,
		       const char *path)
{
	if (json_is_object(v))
		return true;
	cfg_error(errs, path, "expected an object, got %s", cfg_json_type(v));
	return false;
}

bool cfg_expect_array(struct config_errors *errs, const json_t *v,
		      const char *path)
{
	if (json_is_array(v))
		return true;
	cfg_error(errs, path, "expected an array, got %s", cfg_json_type(v));
	return false;
}

/* Element names for cfg_names_unique: the char * at name_off of each. */
static void cfg_elems_names_unique(struct config_errors *errs, const char *path,
				   const char *what, const char *arr, size_t n,
				   size_t elem, size_t name_off)
{
	const char **names = calloc(n, sizeof(*names));

	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		memcpy(&names[i], arr + i * elem + name_off, sizeof(names[i]));
	cfg_names_unique(errs, path, what, names, n);
	free(names);
}

int cfg_objects_parse(struct config_errors *errs, const json_t *v,
		      const char *path, const struct cfg_field *fields,
		      size_t nfields, size_t elem, const char *what,
		      size_t name_off, void **out, size_t *n)
{
	size_t cnt;
	char *arr;
	int rc = 0;

	if (!v)
		return 0;
	if (!cfg_expect_array(errs, v, path))
		return -1;
	cnt = json_array_size(v);
	if (cnt == 0)
		return 0;
	arr = calloc(cnt, elem);
	if (!arr)
		return -1;
	*out = arr;
	*n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		char sub[CFG_PATH_MAX];

		cfg_path_index(sub, sizeof(sub), path, i);
		if (cfg_object_apply(errs, json_array_get(v, i), sub, fields,
				     nfields, arr + i * elem) < 0)
			rc = -1;
	}
	if (what)
		cfg_elems_names_unique(errs, path, what, arr, cnt, elem,
				       name_off);
	return rc;
}

void cfg_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *cfg_string_take(struct config_errors *errs, const json_t *v,
			     const char *path, bool lower)
{
	char *s;

	if (!json_is_string(v)) {
		cfg_error(errs, path, "expected a string, got %s",
			  cfg_json_type(v));
		return NULL;
	}
	if (json_string_length(v) == 0) {
		cfg_error(errs, path, "expected a non-empty string");
		return NULL;
	}
	s = cfg_strdup(json_string_value(v));
	if (s && lower)
		cfg_str_lower(s);
	return s;
}

int cfg_strings_parse(struct config_errors *errs, const json_t *v,
		      const char *path, bool one, bool lower, char ***out,
		      size_t *n)
{
	char sub[CFG_PATH_MAX];
	size_t cnt, i;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (one && json_is_string(v)) {
		char *s = cfg_string_take(errs, v, path, lower);
		if (!s)
			return -1;
		*out = calloc(1, sizeof(char *));
		if (!*out) {
			free(s);
			return -1;
		}
		(*out)[0] = s;
		*n = 1;
		return 0;
	}
	if (!json_is_array(v)) {
		cfg_error(errs, path, "expected %s, got %s",
			  one ? "a string or an array of strings"
			      : "an array of strings",
			  cfg_json_type(v));
		return -1;
	}
	cnt = json_array_size(v);
	if (cnt == 0)
		return 0;
	*out = calloc(cnt, sizeof(char *));
	if (!*out)
		return -1;
	*n = cnt;
	for (i = 0; i < cnt; i++) {
		cfg_path_index(sub, sizeof(sub), path, i);
		(*out)[i] =
			cfg_string_take(errs, json_array_get(v, i), sub, lower);
		if (!(*out)[i])
			rc = -1;
	}
	return rc;
}

/* What neither a listed domain nor a named account can hold: an address
 * or a wildcard (cfg_domain_flaw, cfg_account_flaw). */
static const char *cfg_address_flaw(const char *s)
{
	if (strchr(s, '@'))
		return "no '@': list the domain, not an address";
	if (strchr(s, '*'))
		return "no '*': subdomains are covered automatically";
	return NULL;
}

/*
 * Why s can never equal the domain of an e-mail address (or one of its
 * parents), or NULL when it can. The engine compares listed domains whole
 * with the trimmed, lower-cased part after the '@', so these entries would
 * pass and silently match nothing.
 */
static const char *cfg_domain_flaw(const char *s)
{
	const char *why = cfg_address_flaw(s);
	size_t n = strlen(s);

	if (why)
		return why;
	if (strchr(s, '/') || strchr(s, ':'))
		return "no '/' or ':': list the domain, not a URL";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return "no white space or control characters";
	if (s[0] == '.' || s[n - 1] == '.')
		return "no leading or trailing '.'";
	return NULL;
}

/*
 * The same for a named account, which is a domain or a groupId. A groupId
 * is any string a producer chose, so only what is plainly neither is
 * refused: an address, a wildcard, a URL, white space around it.
 */
static const char *cfg_account_flaw(const char *s)
{
	const char *why = cfg_address_flaw(s);
	size_t n = strlen(s);

	if (why)
		return why;
	if (strstr(s, "://"))
		return "no \"://\": list the domain, not a URL";
	if (strv_space_byte(s[0]) || strv_space_byte(s[n - 1]))
		return "no white space around it";
	return NULL;
}

int cfg_domains_check(struct config_errors *errs, const json_t *v,
		      const char *path, bool ids)
{
	char sub[CFG_PATH_MAX];
	const char *s, *flaw;
	int rc = 0;

	for (size_t i = 0; i < json_array_size(v); i++) {
		s = json_string_value(json_array_get(v, i));
		if (s == NULL || *s == '\0')
			continue; /* reported by cfg_strings_parse */
		flaw = ids ? cfg_account_flaw(s) : cfg_domain_flaw(s);
		if (flaw == NULL)
			continue;
		cfg_path_index(sub, sizeof(sub), path, i);
		cfg_error(errs, sub, "expected %s, got \"%.64s\": %s",
			  ids ? "a domain such as \"acme.com\" or a groupId"
			      : "a bare domain such as \"gmail.com\"",
			  s, flaw);
		rc = -1;
	}
	return rc;
}

int cfg_keys_check(struct config_errors *errs, const json_t *obj,
		   const char *path, const char *const *names, size_t nnames)
{
	const char *key;
	json_t *val;
	int rc = 0;

	json_object_foreach((json_t *)obj, key, val)
	{
		char list[200];
		size_t i, used = 0;
		bool known = cfg_key_is_comment(key);

		for (i = 0; i < nnames && !known; i++)
			known = strcmp(key, names[i]) == 0;
		if (known)
			continue;
		list[0] = '\0';
		for (i = 0; i < nnames && used < sizeof(list); i++) {
			int w = snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", names[i]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		cfg_error(errs, path,
			  "unknown key \"%.64s\"; expected one of: %s", key,
			  list);
		rc = -1;
	}
	return rc;
}

/* Whole numbers in full ("4294967295", not "4.29497e+09"): a limit or a
 * value in exponent form hides what was meant. */
static const char *cfg_num_text(double d, char *buf, size_t size)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, size, "%.0f", d);
	else
		snprintf(buf, size, "%g", d);
	return buf;
}

/*
 * "an integer between 1 and 60000", "a number > 0", "a non-zero number".
 * An integer always shows its full range, the C type's limits standing in
 * for those the table leaves out (see cfg_integer_fits), so that a value
 * refused for being too large never reads "expected an integer >= 0".
 */
static void cfg_field_expect(const struct cfg_field *f, char *buf, size_t size)
{
	bool integer = f->type != CFG_DOUBLE;
	const char *what = integer ? "an integer" : "a number";
	double lo = f->min, hi = f->max;
	char los[32], his[32];

	if (integer && !(f->flags & CFG_F_MIN))
		lo = f->type == CFG_INT ? INT32_MIN : 0;
	if (integer && !(f->flags & CFG_F_MAX))
		hi = f->type == CFG_INT ? INT32_MAX : UINT32_MAX;
	if (integer && (f->flags & CFG_F_MIN_EXCL))
		lo = floor(lo) + 1;
	cfg_num_text(lo, los, sizeof(los));
	cfg_num_text(hi, his, sizeof(his));
	if (f->flags & CFG_F_NONZERO)
		what = integer ? "a non-zero integer" : "a non-zero number";
	if (integer || ((f->flags & CFG_F_MIN) && (f->flags & CFG_F_MAX)))
		snprintf(buf, size, "%s between %s and %s", what, los, his);
	else if (f->flags & CFG_F_MIN)
		snprintf(buf, size, "%s %s %s", what,
			 (f->flags & CFG_F_MIN_EXCL) ? ">" : ">=", los);
	else if (f->flags & CFG_F_MAX)
		snprintf(buf, size, "%s <= %s", what, his);
	else
		snprintf(buf, size, "%s", what);
}

static bool cfg_number_in_range(const struct cfg_field *f, double d)
{
	if ((f->flags & CFG_F_NONZERO) && d == 0)
		return false;
	if (f->flags & CFG_F_MIN) {
		if ((f->flags & CFG_F_MIN_EXCL) ? d <= f->min : d < f->min)
			return false;
	}
	if ((f->flags & CFG_F_MAX) && d > f->max)
		return false;
	return isfinite(d);
}

static void cfg_number_store(const struct cfg_field *f, void *dst, double d)
{
	switch (f->type) {
	case CFG_INT:
		*(int *)dst = (int)d;
		break;
	case CFG_U32:
		*(uint32_t *)dst = (uint32_t)d;
		break;
	case CFG_UNSIGNED:
		*(unsigned *)dst = (unsigned)d;
		break;
	case CFG_DOUBLE:
		*(double *)dst = d;
		break;
	default:
		break;
	}
}

/* Integer types also need bounds that fit the C type, even without limits
 * in the table. */
static bool cfg_integer_fits(const struct cfg_field *f, double d)
{
	if (d != floor(d))
		return false;
	if (f->type == CFG_INT)
		return d >= INT32_MIN && d <= INT32_MAX;
	return d >= 0 && d <= UINT32_MAX;
}

static int cfg_number_apply(struct config_errors *errs, const json_t *v,
			    const char *path, const struct cfg_field *f,
			    void *dst)
{
	char expect[96], got[32];
	double d;

	cfg_field_expect(f, expect, sizeof(expect));
	if (!json_is_number(v)) {
		cfg_error(errs, path, "expected %s, got %s", expect,
			  cfg_json_type(v));
		return -1;
	}
	d = json_number_value(v);
	if (!cfg_number_in_range(f, d) ||
	    (f->type != CFG_DOUBLE && !cfg_integer_fits(f, d))) {
		cfg_error(errs, path, "expected %s, got %s", expect,
			  cfg_num_text(d, got, sizeof(got)));
		return -1;
	}
	cfg_number_store(f, dst, d);
	return 0;
}

static int cfg_string_apply(struct config_errors *errs, const json_t *v,
			    const char *path, const struct cfg_field *f,
			    void *dst)
{
	char **sp = dst;

	if (!json_is_string(v)) {
		cfg_error(errs, path, "expected a %sstring, got %s",
			  (f->flags & CFG_F_NONEMPTY) ? "non-empty " : "",
			  cfg_json_type(v));
		return -1;
	}
	if ((f->flags & CFG_F_NONEMPTY) && json_string_length(v) == 0) {
		cfg_error(errs, path, "expected a non-empty string");
		return -1;
	}
	free(*sp);
	*sp = cfg_strdup(json_string_value(v));
	return 0;
}

static int cfg_field_default(struct config_errors *errs, const char *path,
			     const struct cfg_field *f, void *base)
{
	void *dst = (char *)base + f->off;

	if (f->type == CFG_CUSTOM)
		return f->custom(errs, NULL, path, base);
	switch (f->type) {
	case CFG_STR:
		*(char **)dst = f->def_str ? cfg_strdup(f->def_str) : NULL;
		break;
	case CFG_BOOL:
		*(bool *)dst = f->def_num != 0;
		break;
	default:
		cfg_number_store(f, dst, f->def_num);
		break;
	}
	return 0;
}

static int cfg_field_apply(struct config_errors *errs, const json_t *v,
			   const char *path, const struct cfg_field *f,
			   void *base)
{
	void *dst = (char *)base + f->off;

	switch (f->type) {
	case CFG_STR:
		return cfg_string_apply(errs, v, path, f, dst);
	case CFG_BOOL:
		if (!json_is_boolean(v)) {
			cfg_error(errs, path, "expected true or false, got %s",
				  cfg_json_type(v));
			return -1;
		}
		*(bool *)dst = json_is_true(v);
		return 0;
	case CFG_CUSTOM:
		return f->custom(errs, v, path, base);
	default:
		return cfg_number_apply(errs, v, path, f, dst);
	}
}

int cfg_object_apply(struct config_errors *errs, const json_t *obj,
		     const char *path, const struct cfg_field *fields,
		     size_t nfields, void *base)
{
	const char *names[32];
	char sub[CFG_PATH_MAX];
	size_t i, nn = 0;
	int rc = 0;

	if (obj && !cfg_expect_object(errs, obj, path))
		return -1;
	for (i = 0; i < nfields && nn < 32; i++)
		names[nn++] = fields[i].key;
	if (obj && cfg_keys_check(errs, obj, path, names, nn) < 0)
		rc = -1;
	for (i = 0; i < nfields; i++) {
		const struct cfg_field *f = &fields[i];
		const json_t *v = obj ? json_object_get(obj, f->key) : NULL;

		cfg_path_key(sub, sizeof(sub), path, f->key);
		if (v) {
			if (cfg_field_apply(errs, v, sub, f, base) < 0)
				rc = -1;
			continue;
		}
		if (f->flags & CFG_F_REQUIRED) {
			/* Absent sections are reported once by their parent. */
			if (obj)
				cfg_error(errs, path,
					  "missing required key \"%s\"",
					  f->key);
			rc = -1;
			continue;
		}
		if (cfg_field_default(errs, sub, f, base) < 0)
			rc = -1;
	}
	return rc;
}

/* Reports a name already used by an earlier element of the same array. */
void cfg_names_unique(struct config_errors *errs, const char *path,
		      const char *what, const char *const *names, size_t n)
{
	char sub[CFG_PATH_MAX], first[CFG_PATH_MAX], elem[CFG_PATH_MAX];

	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i && names[i]; j++) {
			if (!names[j] || strcmp(names[i], names[j]) != 0)
				continue;
			cfg_path_index(elem, sizeof(elem), path, i);
			cfg_path_key(sub, sizeof(sub), elem, "name");
			cfg_path_index(first, sizeof(first), path, j);
			cfg_error(errs, sub,
				  "duplicate %s name \"%.64s\"; first used at "
				  "%s",
				  what, names[i], first);
			break;
		}
	}
}
