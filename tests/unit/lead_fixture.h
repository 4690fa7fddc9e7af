/*
 * lead_fixture.h - hand-built events and a small config for the stage 1
 * engine tests (test_cond, test_score, test_fit, test_lead).
 *
 * Events are filled field by field rather than parsed, so these tests do not
 * depend on the event parser. Everything is static inline: each test binary
 * includes this once.
 */
#ifndef LR_LEAD_FIXTURE_H
#define LR_LEAD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/event.h"
#include "../../engine/lead.h"
#include "../../engine/rules.h"

#define T0     1772445600000LL /* 2026-03-02T10:00:00.000Z */
#define HOUR   3600000LL
#define DAY_MS 86400000LL

static inline struct event *fx_event(enum event_type type, const char *key,
				     int64_t ts)
{
	static struct event ev;

	memset(&ev, 0, offsetof(struct event, scratch));
	ev.type = type;
	ev.lead_key = strv_from(key);
	ev.anonymous_id = strv_from(key);
	ev.ts_ms = ts;
	return &ev;
}

static inline void fx_field_str(struct event_field *f, size_t *n,
				const char *name, const char *val)
{
	f[*n].name = strv_from(name);
	f[*n].val = (struct jval){.kind = JVAL_STRING, .str = strv_from(val)};
	(*n)++;
}

static inline void fx_field_num(struct event_field *f, size_t *n,
				const char *name, const char *lit)
{
	f[*n].name = strv_from(name);
	f[*n].val = (struct jval){.kind = JVAL_NUMBER,
				  .str = strv_from(lit),
				  .num = strtod(lit, NULL)};
	(*n)++;
}

static inline void fx_field_kind(struct event_field *f, size_t *n,
				 const char *name, enum jval_kind kind,
				 double num)
{
	f[*n].name = strv_from(name);
	f[*n].val = (struct jval){.kind = kind, .num = num};
	(*n)++;
}

#define fx_prop_str(ev, k, v)  fx_field_str((ev)->props, &(ev)->nprops, k, v)
#define fx_prop_num(ev, k, v)  fx_field_num((ev)->props, &(ev)->nprops, k, v)
#define fx_trait_str(ev, k, v) fx_field_str((ev)->traits, &(ev)->ntraits, k, v)
#define fx_trait_num(ev, k, v) fx_field_num((ev)->traits, &(ev)->ntraits, k, v)

static inline void fx_identify(struct event *ev, const char *user,
			       const char *email)
{
	ev->user_id = strv_from(user);
	ev->email = strv_from(email);
	if (email)
		fx_trait_str(ev, "email", email);
}

/* A condition over strings. */
static inline struct cond fx_cond(enum field_src src, const char *name,
				  enum cond_op op, char **strs, size_t n)
{
	return (struct cond){.src = src,
			     .name = (char *)name,
			     .op = op,
			     .strs = strs,
			     .nstrs = n};
}

static inline struct cond fx_cond_num(enum field_src src, const char *name,
				      enum cond_op op, double num)
{
	return (struct cond){.src = src,
			     .name = (char *)name,
			     .op = op,
			     .num = num,
			     .is_num = true};
}

/*
 * The shared config: score rules
 *   0 "pricing": page with path prefix /pricing, 10 points, 2 per day
 *   1 "demo": track "Demo Requested", 40 points, 1 in total
 *   2 "careers": page with path prefix /careers, -15 points
 *   3 "any": every event, 1 point, no cap
 * half-life 7 days; fit: title contains VP/Director +20, employees >= 200
 * +20, industry in software +10; grades A>=40, B>=20, C>=10; threshold 50,
 * min grade B, required: email. Territories: "emea" (country in DE, FR),
 * "enterprise" (employees >= 1000); fallback "smb".
 */
struct fx_config {
	struct engine_config cfg;
	char *pricing[1], *demo[1], *careers[1], *titles[2], *software[1],
		*emea[2], *freemail[1], *competitor[1], *excluded[1],
		*dq_titles[1], *required[1];
	struct cond c_pricing, c_demo, c_careers, c_emea, c_ent;
	struct score_rule rules[4];
	struct fit_rule fit[3];
	struct territory terr[2];
};

static inline void fx_config_init(struct fx_config *f)
{
	memset(f, 0, sizeof(*f));
	f->pricing[0] = "/pricing";
	f->demo[0] = "Demo Requested";
	f->careers[0] = "/careers";
	f->titles[0] = "vp";
	f->titles[1] = "director";
	f->software[0] = "software";
	f->emea[0] = "DE";
	f->emea[1] = "FR";
	f->freemail[0] = "gmail.com";
	f->competitor[0] = "rival.io";
	f->excluded[0] = "blocked.example";
	f->dq_titles[0] = "student";
	f->required[0] = "email";

	f->c_pricing = fx_cond(FIELD_PATH, NULL, COND_PREFIX, f->pricing, 1);
	f->c_demo = fx_cond(FIELD_EVENT_NAME, NULL, COND_EQ, f->demo, 1);
	f->c_careers = fx_cond(FIELD_PATH, NULL, COND_PREFIX, f->careers, 1);
	f->rules[0] = (struct score_rule){.name = "pricing",
					  .types = 1u << EVENT_PAGE,
					  .conds = &f->c_pricing,
					  .nconds = 1,
					  .points = 10,
					  .cap_per_day = 2};
	f->rules[1] = (struct score_rule){.name = "demo",
					  .types = 1u << EVENT_TRACK,
					  .conds = &f->c_demo,
					  .nconds = 1,
					  .points = 40,
					  .cap_total = 1};
	f->rules[2] = (struct score_rule){.name = "careers",
					  .types = 1u << EVENT_PAGE,
					  .conds = &f->c_careers,
					  .nconds = 1,
					  .points = -15};
	f->rules[3] = (struct score_rule){.name = "any", .points = 1};
	f->cfg.scoring = (struct scoring_config){
		.rules = f->rules, .nrules = 4, .half_life_days = 7.0};

	f->fit[0] = (struct fit_rule){
		"senior",
		fx_cond(FIELD_TRAIT, "title", COND_CONTAINS, f->titles, 2), 20};
	f->fit[1] = (struct fit_rule){
		"size", fx_cond_num(FIELD_TRAIT, "employees", COND_GE, 200),
		20};
	f->fit[2] = (struct fit_rule){
		"industry",
		fx_cond(FIELD_TRAIT, "industry", COND_IN, f->software, 1), 10};
	f->cfg.fit = (struct fit_config){
		.rules = f->fit,
		.nrules = 3,
		.grade_a = 40,
		.grade_b = 20,
		.grade_c = 10,
		.freemail_domains = f->freemail,
		.nfreemail = 1,
		.competitor_domains = f->competitor,
		.ncompetitor = 1,
		.excluded_domains = f->excluded,
		.nexcluded = 1,
		.disqualify_titles = f->dq_titles,
		.ndisqualify_titles = 1,
	};
	f->cfg.qualify = (struct qualify_config){50, 'B', f->required, 1};

	f->c_emea = fx_cond(FIELD_TRAIT, "country", COND_IN, f->emea, 2);
	f->c_ent = fx_cond_num(FIELD_TRAIT, "employees", COND_GE, 1000);
	f->terr[0] = (struct territory){"emea", &f->c_emea, 1, "team-emea", 0};
	f->terr[1] =
		(struct territory){"enterprise", &f->c_ent, 1, "team-ent", 1};
	f->cfg.routing.territories = f->terr;
	f->cfg.routing.nterritories = 2;
	f->cfg.routing.fallback_team = "smb";
}

#endif
