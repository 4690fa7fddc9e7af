/*
 * config_internal.h - what the config_*.c files share and nobody else sees.
 *
 * The loader is split by section (top level and Kafka, rules, teams) over a
 * small table-driven schema engine: each object is described once by a
 * cfg_field table (name, type, default, limits), and cfg_object_apply checks
 * types, ranges, required and unknown keys against it, so names and defaults
 * live in one place and every error carries its JSON path.
 */
#ifndef LR_CONFIG_INTERNAL_H
#define LR_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"

#define CFG_PATH_MAX   256
#define CFG_ERRORS_MAX 500 /* past this, one last error says so */

enum cfg_type {
	CFG_STR,      /* char *, strdup'd */
	CFG_BOOL,     /* bool */
	CFG_INT,      /* int */
	CFG_U32,      /* uint32_t */
	CFG_UNSIGNED, /* unsigned */
	CFG_DOUBLE,   /* double */
	CFG_CUSTOM,   /* custom() is called, with v == NULL when absent */
};

#define CFG_F_REQUIRED 0x01u
#define CFG_F_NONEMPTY 0x02u /* strings: "" is rejected */
#define CFG_F_NONZERO  0x04u /* numbers: 0 is rejected */
#define CFG_F_MIN      0x08u /* value >= min */
#define CFG_F_MAX      0x10u /* value <= max */
#define CFG_F_MIN_EXCL 0x20u /* with CFG_F_MIN: value > min */

/* Returns 0, or -1 after reporting an error. base is the struct filled. */
typedef int (*cfg_custom_fn)(struct config_errors *errs, const json_t *v,
			     const char *path, void *base);

struct cfg_field {
	const char *key;
	enum cfg_type type;
	size_t off;
	unsigned flags;
	double min, max;
	const char *def_str; /* CFG_STR default; NULL leaves NULL */
	double def_num;      /* numbers and CFG_BOOL default */
	cfg_custom_fn custom;
};

/* Errors and paths (config_schema.c). */
void cfg_error(struct config_errors *errs, const char *path, const char *fmt,
	       ...) __attribute__((format(printf, 3, 4)));
const char *cfg_json_type(const json_t *v);
/* The string at v, or def when v is absent; NULL after an error "expected
 * WHAT, got TYPE" when v is something else. */
const char *cfg_string_or(struct config_errors *errs, const json_t *v,
			  const char *path, const char *def, const char *what);
void cfg_path_key(char *out, size_t size, const char *base, const char *key);
void cfg_path_index(char *out, size_t size, const char *base, size_t i);
bool cfg_key_is_comment(const char *key);

/*
 * Check obj against fields and fill base. obj NULL means the section is
 * absent: defaults are applied and required keys reported missing.
 * Returns 0, or -1 when any error was reported.
 */
int cfg_object_apply(struct config_errors *errs, const json_t *obj,
		     const char *path, const struct cfg_field *fields,
		     size_t nfields, void *base);
/* Reports `unknown key "k"; expected one of: ...` for keys not in names. */
int cfg_keys_check(struct config_errors *errs, const json_t *obj,
		   const char *path, const char *const *names, size_t nnames);

/* Small typed helpers used by the custom parsers. */
bool cfg_expect_object(struct config_errors *errs, const json_t *v,
		       const char *path);
bool cfg_expect_array(struct config_errors *errs, const json_t *v,
		      const char *path);
/*
 * An array of objects, each checked against fields into one element (elem
 * bytes) of a calloc'd array that *out and *n receive (owned by the
 * caller, set even when an element has errors so that it is freed). v NULL
 * or [] gives none. With what, the char * at name_off of each element
 * must be unique ("duplicate <what> name").
 */
int cfg_objects_parse(struct config_errors *errs, const json_t *v,
		      const char *path, const struct cfg_field *fields,
		      size_t nfields, size_t elem, const char *what,
		      size_t name_off, void **out, size_t *n);
/* A string, or an array of strings (one=true accepts a bare string).
 * Fills *out and *n (owned by the caller); lower=true lower-cases them. */
int cfg_strings_parse(struct config_errors *errs, const json_t *v,
		      const char *path, bool one, bool lower, char ***out,
		      size_t *n);
void cfg_strings_free(char **v, size_t n);
/*
 * Refuses entries of the string array v that can never match an e-mail
 * domain ("@gmail.com", "*.rival.com", "https://acme.com", "yahoo.com "),
 * one error per entry at its index. ids=true is for named accounts, which
 * may also be groupIds: only an '@', a '*', a URL or white space around
 * the entry are refused. Returns 0 or -1.
 */
int cfg_domains_check(struct config_errors *errs, const json_t *v,
		      const char *path, bool ids);
/* Reports names[i] equal to an earlier names[j] at path[i].name. */
void cfg_names_unique(struct config_errors *errs, const char *path,
		      const char *what, const char *const *names, size_t n);
void cfg_str_lower(char *s);
char *cfg_strdup(const char *s);
bool cfg_name_is_id(const char *s); /* [A-Za-z0-9._-]+ */

/* Sections (config_rules.c, config_teams.c). */
int cfg_scoring_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct scoring_config *sc);
int cfg_fit_parse(struct config_errors *errs, const json_t *v, const char *path,
		  struct fit_config *fc);
int cfg_qualify_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct qualify_config *qc);
int cfg_teams_parse(struct config_errors *errs, const json_t *v,
		    const char *path, struct routing_config *rc);
/* Needs the teams parsed first: it resolves team names to indexes. */
int cfg_routing_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct routing_config *rc);

void cfg_cond_free(struct cond *c);
void cfg_scoring_free(struct scoring_config *sc);
void cfg_fit_free(struct fit_config *fc);
void cfg_qualify_free(struct qualify_config *qc);
void cfg_routing_free(struct routing_config *rc);

/* Conditions: traits_only restricts fields to traits.* and email_domain. */
int cfg_cond_parse(struct config_errors *errs, const json_t *v,
		   const char *path, bool traits_only, struct cond *c);
/* "when": one condition or a non-empty array of them. */
int cfg_conds_parse(struct config_errors *errs, const json_t *v,
		    const char *path, bool traits_only, struct cond **out,
		    size_t *n);

#endif
