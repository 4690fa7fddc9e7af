/*
 * rules.h - the engine's view of the configuration: scoring rules, fit
 * rules, qualification, territories, teams and reps.
 *
 * These are plain structs so that engine/ can be driven and tested without
 * the config loader; config/config.c fills them from JSON and owns every
 * pointer in them (config_free releases them). Field names are resolved once
 * at load time (enum field_src), never per event.
 */
#ifndef LR_RULES_H
#define LR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _GTimeZone GTimeZone;

/* Where a condition reads its value from. */
enum field_src {
	FIELD_EVENT_NAME, /* "event": track event name, page/screen name */
	FIELD_PATH,       /* "path": page path */
	FIELD_URL,        /* "url": page url */
	FIELD_PROPERTY,   /* "properties.NAME" (event) */
	FIELD_TRAIT, /* "traits.NAME" (event or lead; "company.size" nests) */
	FIELD_EMAIL_DOMAIN, /* "email_domain": lower-cased domain of the e-mail
			     */
};

enum cond_op {
	COND_EQ,       /* string (case-insensitive) or number equality */
	COND_IN,       /* equal to one of strs (case-insensitive) */
	COND_PREFIX,   /* starts with one of strs (case-sensitive, for paths) */
	COND_CONTAINS, /* contains one of strs (case-insensitive) */
	COND_WORD,     /* has one of strs as a whole word or phrase
			  (case-insensitive, for titles: not "VP" in "MVP") */
	/* the order operators after the text ones: cond_test_raw tells them
	 * by >= COND_LT (EXISTS, past them, it handles first) */
	COND_LT,
	COND_LE,
	COND_GT,
	COND_GE,
	COND_EXISTS, /* present and not null */
};

struct cond {
	enum field_src src;
	char *name; /* FIELD_PROPERTY / FIELD_TRAIT: flattened name */
	enum cond_op op;
	char **strs; /* COND_EQ (string), IN, PREFIX, CONTAINS */
	size_t nstrs;
	/* strlen of each of strs, from the config loader, so that EQ, IN
	 * and PREFIX compare lengths and then words; NULL (a condition
	 * built by hand): they measure the strings as they go. */
	size_t *lens;
	double num;  /* LT..GE, and COND_EQ when is_num */
	bool is_num; /* COND_EQ compares numbers */
	bool negate; /* "not": the condition holds when the test fails */
};

/* A behaviour rule: the event matches when its type is in types and every
 * condition holds. */
struct score_rule {
	char *name;
	unsigned types; /* bitmask of 1u << EVENT_*; 0 means every type */
	struct cond *conds;
	size_t nconds;
	double points;        /* may be negative */
	uint32_t cap_per_day; /* counted matches per UTC day of event time; 0:
				 none */
	uint32_t cap_total;   /* counted matches per lifecycle cycle; 0: none */
};

struct score_index; /* engine/score_index.h */

struct scoring_config {
	struct score_rule *rules;
	size_t nrules;
	double half_life_days; /* 0 disables decay */
	/* Derived from rules by scoring_config_index() so that an event
	 * visits only the rules that can match it. NULL (never built, or out
	 * of memory) or built for another nrules: every rule is tried, with
	 * the same result. Rebuild it after editing rules. */
	struct score_index *index;
};

/* Build (or rebuild) sc->index; -1 when out of memory, which leaves no
 * index and only costs speed. The free is safe on a never-indexed
 * config. Both live in engine/score_index.c. */
int scoring_config_index(struct scoring_config *sc);
void scoring_config_index_free(struct scoring_config *sc);

/* Fit: trait rules add points; the sum maps to a grade through bands. */
struct fit_rule {
	char *name;
	struct cond cond; /* src is FIELD_TRAIT or FIELD_EMAIL_DOMAIN */
	double points;
};

/* The stored grade of a lead without traits. It qualifies and is handed
 * off with the grade of 0 fit points (fit_config.grade_zero), as a lead
 * whose traits earn no points would: min_grade and required_traits alone
 * decide about it, and "not graded" never blocks a lead by itself. */
#define GRADE_NONE 0
/* Grades are letters 'A' (best) .. 'D'; comparisons use the letter order. */

#define FIT_NAME_LENS 64

struct fit_config {
	struct fit_rule *rules;
	size_t nrules;
	double grade_a, grade_b,
		grade_c;         /* minimum fit points per grade; D below */
	char **freemail_domains; /* disqualify: personal mailbox */
	size_t nfreemail;
	char **competitor_domains;
	size_t ncompetitor;
	char **excluded_domains;
	size_t nexcluded;
	char **disqualify_titles; /* case-insensitive whole words or phrases
				   * of traits.title (cond_any_word), stored
				   * lower-case */
	size_t ndisqualify_titles;
	/* Derived from rules by fit_config_prepare() so that grading compares
	 * a trait only with the rules whose names are as long, once per name,
	 * without a strlen of every name for every lead. Of the first 64
	 * rules: trait_mask has the trait rules, name_len_mask[n] those whose
	 * name has n bytes (n < FIT_NAME_LENS), name_long_mask those with
	 * longer names, name_same_mask[i] those with rule i's name. prepared
	 * false (never prepared, e.g. built by hand): every rule is compared,
	 * with the same result. Prepare again after editing rules or bands. */
	uint64_t trait_mask;
	uint64_t name_len_mask[FIT_NAME_LENS];
	uint64_t name_long_mask;
	uint64_t name_same_mask[64];
	/* The grade of 0 fit points under the bands above: a lead without
	 * traits has it (lead_fit_grade), looked up here rather than worked
	 * out on each of its events. */
	char grade_zero;
	bool prepared;
	/* A bit (fit_domain_key) for each listed domain of the three
	 * disqualify lists, from its length and folded first and last
	 * bytes: a domain or parent whose bit is clear is in none of them
	 * and is not looked up. Every bit set when not prepared. */
	uint64_t domain_keys;
	/* The trait names the config reads besides "email": fit rules,
	 * "title" when disqualify.titles is set, score rules, territories
	 * and qualification.required_traits. A lead's traits are capped
	 * (LEAD_TRAITS_MAX); when they are full, these and "email" (and the
	 * hidden account) win over the rest, so that a lead never loses
	 * what it is graded, disqualified, routed or qualified on to
	 * enrichment noise. The strings are borrowed from those sections;
	 * fit_wanted_build fills this once the whole config is there,
	 * fit_wanted_free frees the array. Never built (NULL): only "email"
	 * and the account win. wanted_bits has each name's filter bit. */
	const char **wanted;
	size_t nwanted;
	uint64_t wanted_bits;
};

/* Fill fc's derived masks, grade_zero and prepared (engine/fit.c). */
void fit_config_prepare(struct fit_config *fc);

struct qualify_config {
	double threshold; /* behaviour score needed */
	char min_grade;   /* 'A'..'D': worst grade that still qualifies */
	char **required_traits;
	size_t nrequired;
};

/* Territory: first rule whose conditions all hold (on lead traits) wins. */
struct territory {
	char *name;
	struct cond *conds;
	size_t nconds;
	char *team;
	size_t team_idx; /* index into routing_config.teams, set by the loader
			  */
};

struct rep_hours {
	uint16_t start_min,
		end_min; /* local minutes since midnight; equal: off */
};

struct rep_ooo {
	int64_t from_ms, to_ms; /* out of office over [from, to) */
};

struct rep {
	char *id;
	char *name;
	unsigned weight;    /* share in weighted round robin, >= 1 */
	uint32_t daily_cap; /* handoffs per local day; 0: unlimited */
	uint32_t max_open;  /* open (not yet answered) leads; 0: unlimited */
	char *tz_name;      /* IANA name, e.g. "Europe/Berlin" */
	GTimeZone *tz;      /* loaded by config from tz_name */
	bool has_hours;     /* false: available around the clock */
	struct rep_hours hours[7]; /* index 0 = Monday .. 6 = Sunday */
	struct rep_ooo *ooo;
	size_t nooo;
	bool paused;
	char **accounts; /* named accounts: lower-case e-mail domains or
			    groupIds */
	size_t naccounts;
};

struct team {
	char *name;
	struct rep *reps;
	size_t nreps;
	char *overflow_queue; /* rep id used when nobody is available */
	int64_t sla_ms;       /* only stamped as sla_deadline; 0: none */
};

struct routing_config {
	struct territory *territories;
	size_t nterritories;
	char *fallback_team;
	size_t fallback_idx;
	struct team *teams;
	size_t nteams;
};

/* Everything the pure engine needs, in one place. */
struct engine_config {
	struct scoring_config scoring;
	struct fit_config fit;
	struct qualify_config qualify;
	struct routing_config routing;
};

/* Fill ec->fit's wanted trait names from every section (engine/fit.c);
 * -1 when out of memory. Build again after editing any of them. */
int fit_wanted_build(struct engine_config *ec);
void fit_wanted_free(struct fit_config *fc);

#endif
