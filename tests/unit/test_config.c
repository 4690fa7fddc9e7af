/*
 * test_config.c - the config loader: the shipped example loads cleanly with
 * the values it states, defaults fill what is left out, and every kind of
 * mistake is reported at its exact JSON path, all of them in one pass.
 *
 * JSON is written with single quotes (turned into double quotes by q()) so
 * the test cases stay readable.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <glib.h>

#include "testutil.h"

#include "../../config/config.h"
#include "../../engine/cond.h"
#include "../../engine/event.h"

#define EXAMPLE "../../config/leadrouter.example.json"

#define KAFKA   "'kafka':{'bootstrap.servers':'k:9092'}"
#define SCORING "'scoring':{'rules':[]}"
#define QUAL    "'qualification':{'score_threshold':50}"
#define TEAMS   "'teams':[{'name':'t','overflow_queue':'t-of'}]"
#define ROUTING "'routing':{'fallback_team':'t'}"
#define BASE    KAFKA "," SCORING "," QUAL
#define MINI    "{" BASE "," TEAMS "," ROUTING "}"

static char *q(const char *s)
{
	char *out = strdup(s);

	for (char *p = out; *p; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

/* Loads single-quoted JSON; errs is left for the test to inspect. */
static struct config *load(const char *sq, struct config_errors *errs)
{
	char *json = q(sq);
	struct config *cfg = config_load_string(json, strlen(json), errs);

	free(json);
	return cfg;
}

static void errors_print(const struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "  %s: %s\n", e->v[i].path, e->v[i].msg);
}

/* True when an error at exactly path has a message containing msg. */
static bool has_error(const struct config_errors *e, const char *path,
		      const char *msg)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].path, path) == 0 && strstr(e->v[i].msg, msg))
			return true;
	errors_print(e);
	fprintf(stderr, "  (wanted %s: %s)\n", path, msg);
	return false;
}

/* The config must fail with an error at path containing msg. */
static void expect_error(const char *sq, const char *path, const char *msg)
{
	struct config_errors e = {0};
	struct config *cfg = load(sq, &e);

	assert_null(cfg);
	assert_true(has_error(&e, path, msg));
	config_errors_free(&e);
}

static struct config *load_ok(const char *sq)
{
	struct config_errors e = {0};
	struct config *cfg = load(sq, &e);

	if (!cfg)
		errors_print(&e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	config_errors_free(&e);
	return cfg;
}

static const struct score_rule *rule_find(const struct config *cfg,
					  const char *name)
{
	for (size_t i = 0; i < cfg->engine.scoring.nrules; i++)
		if (!strcmp(cfg->engine.scoring.rules[i].name, name))
			return &cfg->engine.scoring.rules[i];
	return NULL;
}

static const char *kafka_get(const struct config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->nkafka; i++)
		if (!strcmp(cfg->kafka[i].key, key))
			return cfg->kafka[i].value;
	return NULL;
}

static const struct rep *rep_find(const struct config *cfg, const char *id)
{
	const struct routing_config *rc = &cfg->engine.routing;

	for (size_t t = 0; t < rc->nteams; t++)
		for (size_t r = 0; r < rc->teams[t].nreps; r++)
			if (!strcmp(rc->teams[t].reps[r].id, id))
				return &rc->teams[t].reps[r];
	return NULL;
}

/* ---- the example ---- */

static void test_example_loads(void **state)
{
	struct config_errors e = {0};
	struct config *cfg;
	char buf[160];

	(void)state;
	cfg = config_load(EXAMPLE, &e);
	if (!cfg)
		errors_print(&e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	assert_string_equal(cfg->path, EXAMPLE);
	config_summary(cfg, buf, sizeof(buf));
	assert_string_equal(buf, "ok: 12 scoring rules, 7 fit rules, 3 "
				 "territories, 4 teams, 10 reps");
	/* the loader derives the rule index; config_free releases it */
	assert_non_null(cfg->engine.scoring.index);
	assert_string_equal(kafka_get(cfg, "bootstrap.servers"),
			    "127.0.0.1:9092");
	assert_string_equal(kafka_get(cfg, "session.timeout.ms"), "45000");
	assert_string_equal(kafka_get(cfg, "socket.keepalive.enable"), "true");
	assert_null(kafka_get(cfg, "_comment"));
	assert_string_equal(cfg->topics.handoff, "sales.handoffs.{team}");
	assert_int_equal(cfg->process.log_level, LOG_INFO);
	config_free(cfg);
	config_errors_free(&e);
}

/* A valid config that can never qualify a lead is warned about: every
 * rule adding points has a cap_total and together they fall short, or the
 * fit rules cannot add up to min_grade's points. */
static void test_unreachable_warnings(void **state)
{
	struct config_errors w = {0};
	struct config *cfg;

	(void)state;
	cfg = config_load(EXAMPLE, NULL);
	assert_non_null(cfg);
	config_warnings(cfg, &w);
	assert_int_equal(w.n, 0);
	config_free(cfg);

	cfg = load_ok("{" KAFKA ",'scoring':{'rules':["
		      "{'name':'a','type':'page','points':20,'cap_total':2},"
		      "{'name':'b','type':'track','points':5,'cap_total':1},"
		      "{'name':'c','type':'track','points':-30}]},"
		      "'fit':{'rules':[{'name':'f','when':{'field':"
		      "'traits.title','word':['VP']},'points':30}]},"
		      "'qualification':{'score_threshold':50,'min_grade':"
		      "'A'}," TEAMS "," ROUTING "}");
	config_warnings(cfg, &w);
	assert_int_equal(w.n, 2);
	assert_true(has_error(&w, "$.qualification.score_threshold",
			      "no lead can reach 50: every scoring rule that "
			      "adds points has a cap_total, and together they "
			      "add at most 45 (before decay)"));
	assert_true(has_error(&w, "$.qualification.min_grade",
			      "no lead can reach grade A: it needs 60 fit "
			      "points, and the fit rules add at most 30"));
	config_errors_free(&w);
	config_free(cfg);

	/* one uncapped rule adding points, or a reachable sum: no warning */
	cfg = load_ok("{" KAFKA ",'scoring':{'rules':["
		      "{'name':'a','type':'page','points':20,'cap_total':2},"
		      "{'name':'b','type':'track','points':1}]},"
		      "'qualification':{'score_threshold':50,'min_grade':"
		      "'D'}," TEAMS "," ROUTING "}");
	config_warnings(cfg, &w);
	assert_int_equal(w.n, 0);
	config_free(cfg);
	cfg = load_ok("{" KAFKA ",'scoring':{'rules':["
		      "{'name':'a','type':'page','points':25,'cap_total':2}]},"
		      "'qualification':{'score_threshold':50,'min_grade':"
		      "'D'}," TEAMS "," ROUTING "}");
	config_warnings(cfg, &w);
	assert_int_equal(w.n, 0);
	config_free(cfg);
}

/* Errors echo what the file says, and they reach the journal: every
 * e-mail address in one is masked, whatever the field ("@file:" has no
 * local part and is no address). */
static void test_errors_mask_addresses(void **state)
{
	struct config_errors e = {0};

	(void)state;
	assert_null(load("{" KAFKA ",'scoring':{'rules':[]},'fit':{"
			 "'disqualify':{'freemail_domains':["
			 "'jane.doe+x@secret-corp.com']}},"
			 "'qualification':{'score_threshold':5},'teams':[{"
			 "'name':'t','overflow_queue':'t-of','reps':[{'id':'r',"
			 "'tz':'Jo Doe <jo@a.io>, x@y.de'}]}]," ROUTING "}",
			 &e));
	assert_true(has_error(&e, "$.fit.disqualify.freemail_domains[0]",
			      "got \"<e-mail address>\": no '@'"));
	assert_true(has_error(&e, "$.teams[0].reps[0].tz",
			      "\"Jo Doe <<e-mail address>>, <e-mail "
			      "address>\""));
	for (size_t i = 0; i < e.n; i++) {
		assert_null(strstr(e.v[i].msg, "secret-corp"));
		assert_null(strstr(e.v[i].msg, "jo@"));
		assert_null(strstr(e.v[i].msg, "y.de"));
	}
	config_errors_free(&e);
	expect_error("{" BASE ",'teams':[{'name':'t','overflow_queue':'t-of',"
		     "'reps':[{'id':'r','tz':'@file:/etc/a.b'}]}]," ROUTING "}",
		     "$.teams[0].reps[0].tz", "\"@file:/etc/a.b\"");
}

static void test_example_rules(void **state)
{
	struct config *cfg = config_load(EXAMPLE, NULL);
	const struct score_rule *r;
	const struct fit_config *fit;

	(void)state;
	assert_non_null(cfg);
	r = rule_find(cfg, "demo-requested");
	assert_non_null(r);
	assert_true(r->points == 40);
	assert_int_equal(r->cap_total, 1);
	assert_int_equal(r->types, 1u << EVENT_TRACK);
	assert_int_equal(r->nconds, 1);
	assert_int_equal(r->conds[0].src, FIELD_EVENT_NAME);
	assert_int_equal(r->conds[0].op, COND_EQ);
	assert_string_equal(r->conds[0].strs[0], "Demo Requested");
	r = rule_find(cfg, "trial-started");
	assert_int_equal(r->conds[1].src, FIELD_PROPERTY);
	assert_string_equal(r->conds[1].name, "plan");
	assert_int_equal(r->conds[1].op, COND_IN);
	assert_int_equal(r->conds[1].nstrs, 3);
	r = rule_find(cfg, "docs-reading");
	assert_int_equal(r->types, (1u << EVENT_PAGE) | (1u << EVENT_SCREEN));
	assert_int_equal(r->cap_per_day, 3);
	assert_true(rule_find(cfg, "email-unsubscribed")->points == -25);
	fit = &cfg->engine.fit;
	assert_int_equal(fit->rules[2].cond.src, FIELD_TRAIT);
	assert_string_equal(fit->rules[2].cond.name, "company.employees");
	assert_int_equal(fit->rules[2].cond.op, COND_GE);
	assert_true(fit->rules[2].cond.num == 200);
	assert_true(fit->grade_a == 60 && fit->grade_b == 40 &&
		    fit->grade_c == 20);
	assert_int_equal(fit->nfreemail, 4);
	assert_string_equal(fit->freemail_domains[0], "gmail.com");
	assert_int_equal(fit->ndisqualify_titles, 2);
	assert_true(cfg->engine.qualify.threshold == 50);
	assert_int_equal(cfg->engine.qualify.min_grade, 'B');
	assert_int_equal(cfg->engine.qualify.nrequired, 2);
	config_free(cfg);
}

static void test_example_teams(void **state)
{
	struct config *cfg = config_load(EXAMPLE, NULL);
	const struct routing_config *rc;
	const struct rep *r;

	(void)state;
	assert_non_null(cfg);
	rc = &cfg->engine.routing;
	assert_string_equal(rc->territories[0].name, "enterprise");
	assert_int_equal(rc->territories[0].team_idx, 2);
	assert_int_equal(rc->territories[1].team_idx, 0);
	assert_int_equal(rc->territories[2].team_idx, 1);
	assert_int_equal(rc->fallback_idx, 3);
	assert_int_equal(rc->teams[0].sla_ms, 240 * 60 * 1000);
	assert_string_equal(rc->teams[0].overflow_queue, "emea-overflow");
	r = rep_find(cfg, "anna.schmidt");
	assert_non_null(r);
	assert_int_equal(r->weight, 2);
	assert_int_equal(r->daily_cap, 12);
	assert_int_equal(r->max_open, 25);
	assert_string_equal(r->tz_name, "Europe/Berlin");
	assert_non_null(r->tz);
	assert_true(r->has_hours);
	assert_int_equal(r->hours[0].start_min, 9 * 60);
	assert_int_equal(r->hours[0].end_min, 17 * 60 + 30);
	assert_int_equal(r->hours[4].end_min, 15 * 60); /* fri overrides */
	assert_int_equal(r->hours[5].end_min, 0);       /* sat off */
	assert_string_equal(r->accounts[0], "northwind-logistik.de");
	r = rep_find(cfg, "james.taylor");
	assert_int_equal(r->nooo, 1);
	/* Bare dates: London midnight (GMT in March), "to" through the 13th. */
	assert_int_equal(r->ooo[0].from_ms, 1773014400000LL);
	assert_int_equal(r->ooo[0].to_ms, 1773446400000LL);
	assert_int_equal(rep_find(cfg, "nina.kowalski")->hours[5].start_min,
			 600);
	assert_ptr_equal(config_team_find(&cfg->engine, "amer"), &rc->teams[1]);
	assert_null(config_team_find(&cfg->engine, "apac"));
	config_free(cfg);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct config *cfg;
	const struct rep *r;

	(void)state;
	cfg = load_ok("{" BASE "," ROUTING ",'teams':[{'name':'t','overflow_"
		      "queue':'t-of','reps':[{'id':'r1'}]}]}");
	assert_string_equal(cfg->topics.events, "marketing.events");
	assert_string_equal(cfg->topics.feedback, "sales.feedback");
	assert_string_equal(cfg->topics.assign, "leadrouter.assign");
	assert_string_equal(cfg->topics.leads_changelog, "leadrouter.leads");
	assert_string_equal(cfg->topics.teams_changelog, "leadrouter.teams");
	assert_string_equal(cfg->topics.dlq, "leadrouter.dlq");
	assert_string_equal(cfg->topics.handoff, "sales.handoffs.{team}");
	assert_true(cfg->topics.create_internal);
	assert_int_equal(cfg->topics.partitions, 0);
	assert_int_equal(cfg->topics.replication_factor, 1);
	assert_string_equal(cfg->process.instance_id, "0");
	assert_string_equal(cfg->process.transactional_id_prefix,
			    "leadrouter-");
	assert_string_equal(cfg->process.group_id, "leadrouter");
	assert_int_equal(cfg->process.commit_interval_ms, 100);
	assert_int_equal(cfg->process.commit_max_records, 1000);
	assert_string_equal(cfg->process.http_listen, "127.0.0.1:9464");
	assert_int_equal(cfg->process.log_level, LOG_INFO);
	assert_int_equal(cfg->process.lead_idle_ttl_ms, 90LL * 86400 * 1000);
	assert_true(cfg->process.lead_min_score == 0.5);
	assert_true(cfg->engine.scoring.half_life_days == 30);
	assert_true(cfg->engine.fit.grade_a == 60);
	assert_int_equal(cfg->engine.fit.nrules, 0);
	assert_int_equal(cfg->engine.qualify.min_grade, 'B');
	assert_int_equal(cfg->engine.qualify.nrequired, 0);
	assert_int_equal(cfg->engine.routing.teams[0].sla_ms, 0);
	r = &cfg->engine.routing.teams[0].reps[0];
	assert_int_equal(r->weight, 1);
	assert_int_equal(r->daily_cap, 0);
	assert_string_equal(r->tz_name, "UTC");
	assert_non_null(r->tz);
	assert_false(r->has_hours);
	assert_false(r->paused);
	assert_null(r->name);
	config_free(cfg);
}

/* "word" loads as COND_WORD with its strings, and grades by whole words */
static void test_word_operator(void **state)
{
	struct config *cfg;
	const struct cond *c;

	(void)state;
	cfg = load_ok(
		"{" BASE "," TEAMS "," ROUTING
		",'fit':{'rules':[{'name':'vp','when':{'field':"
		"'traits.title','word':['VP','Head of']},'points':30}]}}");
	c = &cfg->engine.fit.rules[0].cond;
	assert_int_equal(c->op, COND_WORD);
	assert_int_equal(c->nstrs, 2);
	assert_string_equal(c->strs[1], "Head of");
	assert_true(cond_test_str(c, strv_from("VP Marketing")));
	assert_false(cond_test_str(c, strv_from("MVP Marketing")));
	config_free(cfg);
}

/* Every loaded condition with strings carries their lengths (struct
 * cond's lens), which EQ, IN and PREFIX compare by: score rules, fit
 * rules and territories of the example config. */
static void cond_lens_check(const struct cond *c, size_t n, size_t *seen)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].nstrs == 0) {
			assert_null(c[i].lens);
			continue;
		}
		assert_non_null(c[i].lens);
		for (size_t j = 0; j < c[i].nstrs; j++)
			assert_int_equal(c[i].lens[j], strlen(c[i].strs[j]));
		(*seen)++;
	}
}

static void test_cond_lens(void **state)
{
	struct config *cfg = config_load(EXAMPLE, NULL);
	const struct engine_config *ec;
	size_t seen = 0;

	(void)state;
	assert_non_null(cfg);
	ec = &cfg->engine;
	for (size_t i = 0; i < ec->scoring.nrules; i++)
		cond_lens_check(ec->scoring.rules[i].conds,
				ec->scoring.rules[i].nconds, &seen);
	for (size_t i = 0; i < ec->fit.nrules; i++)
		cond_lens_check(&ec->fit.rules[i].cond, 1, &seen);
	for (size_t i = 0; i < ec->routing.nterritories; i++)
		cond_lens_check(ec->routing.territories[i].conds,
				ec->routing.territories[i].nconds, &seen);
	assert_true(seen >= 15);
	config_free(cfg);
}

static void test_values(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("{" BASE "," TEAMS "," ROUTING
		      ",'process':{'log_level':'debug','http_listen':'',"
		      "'lead_idle_ttl_days':1.5,'commit_interval_ms':5},"
		      "'topics':{'handoff':'q.{team}.{rep}','partitions':12}}");
	assert_int_equal(cfg->process.log_level, LOG_DEBUG);
	assert_string_equal(cfg->process.http_listen, "");
	assert_int_equal(cfg->process.lead_idle_ttl_ms, 129600000LL);
	assert_int_equal(cfg->process.commit_interval_ms, 5);
	assert_string_equal(cfg->topics.handoff, "q.{team}.{rep}");
	assert_int_equal(cfg->topics.partitions, 12);
	config_free(cfg);
	cfg = load_ok("{" BASE "," TEAMS "," ROUTING
		      ",'process':{'log_level':'warning','http_listen':"
		      "'[::1]:9000'}}");
	assert_int_equal(cfg->process.log_level, LOG_WARNING);
	config_free(cfg);
}

/* process.event_time_max_ahead_days: 1 day unless set, fractions of a
 * day, 0 for no bound; below 0, above 100 years or not a number is
 * refused at its path. The shipped example states the default. */
static void test_event_time_max_ahead(void **state)
{
	struct config_errors errs = {0};
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINI);
	assert_int_equal(cfg->process.event_max_ahead_ms, 86400000LL);
	config_free(cfg);
	cfg = load_ok("{" BASE "," TEAMS "," ROUTING
		      ",'process':{'event_time_max_ahead_days':0.25}}");
	assert_int_equal(cfg->process.event_max_ahead_ms, 21600000LL);
	config_free(cfg);
	cfg = load_ok("{" BASE "," TEAMS "," ROUTING
		      ",'process':{'event_time_max_ahead_days':0}}");
	assert_int_equal(cfg->process.event_max_ahead_ms, 0);
	config_free(cfg);
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'event_time_max_ahead_days':-1}}",
		     "$.process.event_time_max_ahead_days",
		     "expected a number >= 0 and <= 36500, got -1");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'event_time_max_ahead_days':36501}}",
		     "$.process.event_time_max_ahead_days",
		     "expected a number >= 0 and <= 36500, got 36501");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'event_time_max_ahead_days':'1'}}",
		     "$.process.event_time_max_ahead_days",
		     "expected a number >= 0 and <= 36500, got string");
	/* lead_idle_ttl_days, which shares the parsing, still refuses 0 */
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'lead_idle_ttl_days':0}}",
		     "$.process.lead_idle_ttl_days",
		     "expected a number > 0 and <= 36500, got 0");
	cfg = config_load(EXAMPLE, &errs);
	assert_non_null(cfg);
	assert_int_equal(cfg->process.event_max_ahead_ms, 86400000LL);
	config_free(cfg);
	config_errors_free(&errs);
}

/* ---- error kinds ---- */

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'commit_interval_ms':'100'}}",
		     "$.process.commit_interval_ms",
		     "expected an integer between 1 and 60000, got string");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'commit_interval_ms':0}}",
		     "$.process.commit_interval_ms",
		     "expected an integer between 1 and 60000, got 0");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'lead_min_score':-1}}",
		     "$.process.lead_min_score",
		     "expected a number >= 0, got -1");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':{}}}",
		     "$.scoring.rules", "expected an array, got object");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'log_level':'verbose'}}",
		     "$.process.log_level", "expected one of \"error\"");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'http_listen':'localhost'}}",
		     "$.process.http_listen", "expected \"host:port\"");
	expect_error("[1,2]", "$", "expected an object, got array");
}

/* A commit interval the transaction timeout cannot hold is refused,
 * against librdkafka's default and against the configured one. */
static void test_commit_interval_timeout(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'commit_interval_ms':30001}}",
		     "$.process.commit_interval_ms",
		     "expected at most half of kafka transaction.timeout.ms "
		     "(60000), got 30001");
	expect_error("{'kafka':{'bootstrap.servers':'k:9092',"
		     "'transaction.timeout.ms':'10000'}," SCORING "," QUAL
		     "," TEAMS "," ROUTING
		     ",'process':{'commit_interval_ms':6000}}",
		     "$.process.commit_interval_ms", "(10000), got 6000");
	cfg = load_ok("{'kafka':{'bootstrap.servers':'k:9092',"
		      "'transaction.timeout.ms':'120000'}," SCORING "," QUAL
		      "," TEAMS "," ROUTING
		      ",'process':{'commit_interval_ms':60000}}");
	assert_int_equal(cfg->process.commit_interval_ms, 60000);
	config_free(cfg);
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING "}", "$",
		     "missing required section \"kafka\"");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{}}",
		     "$.qualification",
		     "missing required key \"score_threshold\"");
	expect_error("{" BASE "," TEAMS ",'routing':{}}", "$.routing",
		     "missing required key \"fallback_team\"");
	expect_error("{" BASE "," ROUTING ",'teams':[{'name':'t'}]}",
		     "$.teams[0]", "missing required key \"overflow_queue\"");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x'}]}}",
		     "$.scoring.rules[0]", "missing required key \"points\"");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':0}}",
		     "$.qualification.score_threshold",
		     "expected a number > 0, got 0");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','pionts':5}]}}",
		     "$.scoring.rules[0]",
		     "unknown key \"pionts\"; expected one of: name, type, "
		     "when, points, cap_per_day, cap_total");
	expect_error("{" BASE "," TEAMS "," ROUTING ",'scorring':{}}", "$",
		     "unknown key \"scorring\"");
	expect_error("{" BASE "," ROUTING
		     ",'teams':[{'name':'t','overflow_queue':'q','reps':[{'id':"
		     "'a','wieght':2}]}]}",
		     "$.teams[0].reps[0]", "unknown key \"wieght\"");
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1},{'name':'y',"
		     "'points':1},{'name':'x','points':2}]}}",
		     "$.scoring.rules[2].name",
		     "duplicate rule name \"x\"; first used at "
		     "$.scoring.rules[0]");
	expect_error("{" BASE "," ROUTING
		     ",'teams':[{'name':'t','overflow_queue':'a'},{'name':'t',"
		     "'overflow_queue':'b'}]}",
		     "$.teams[1].name", "duplicate team name");
	expect_error(
		"{" BASE "," ROUTING
		",'teams':[{'name':'t','overflow_queue':'q1','reps':[{'id':"
		"'r1'}]},{'name':'u','overflow_queue':'q2','reps':[{'id':"
		"'r2'},{'id':'r1'}]}]}",
		"$.teams[1].reps[1].id",
		"duplicate rep id; first used at $.teams[0].reps[0]");
	expect_error(
		"{" BASE "," ROUTING
		",'teams':[{'name':'t','overflow_queue':'q1','reps':[{'id':"
		"'q1'}]}]}",
		"$.teams[0].reps[0].id",
		"first used at $.teams[0].overflow_queue");
	expect_error("{" BASE "," TEAMS
		     ",'routing':{'fallback_team':'t','territories':[{'name':"
		     "'a','team':'t'},{'name':'a','team':'t'}]}}",
		     "$.routing.territories[1].name",
		     "duplicate territory name");
}

static void test_unknown_team(void **state)
{
	(void)state;
	expect_error("{" BASE "," TEAMS
		     ",'routing':{'fallback_team':'t','territories':[{'name':"
		     "'apac','when':[{'field':'traits.region','eq':'APAC'}],"
		     "'team':'apac'}]}}",
		     "$.routing.territories[0].team",
		     "unknown team \"apac\"; expected one of: t");
	expect_error("{" BASE "," TEAMS ",'routing':{'fallback_team':'x'}}",
		     "$.routing.fallback_team", "unknown team \"x\"");
}

#define REP_WITH(x)                                                            \
	"{" BASE "," ROUTING                                                   \
	",'teams':[{'name':'t','overflow_queue':'q','reps':[{'id':'r'," x      \
	"}]}]}"

#define DISQ_WITH(x)                                                           \
	"{" BASE "," TEAMS "," ROUTING ",'fit':{'disqualify':{" x "}}}"
#define FREEMAIL_PATH "$.fit.disqualify.freemail_domains"
#define BARE_DOMAIN   "expected a bare domain such as \"gmail.com\", got "

static void test_domains_refuse_address(void **state)
{
	(void)state;
	expect_error(DISQ_WITH("'freemail_domains':['@gmail.com']"),
		     FREEMAIL_PATH "[0]",
		     BARE_DOMAIN "\"@gmail.com\": no '@': list the domain");
	expect_error(DISQ_WITH("'excluded_domains':['ok.com','bob@acme.com']"),
		     "$.fit.disqualify.excluded_domains[1]", "no '@'");
}

static void test_domains_refuse_white_space(void **state)
{
	(void)state;
	expect_error(DISQ_WITH("'freemail_domains':['yahoo.com ']"),
		     FREEMAIL_PATH "[0]",
		     BARE_DOMAIN "\"yahoo.com \": no white space");
	expect_error(DISQ_WITH("'freemail_domains':['\\tyahoo.com']"),
		     FREEMAIL_PATH "[0]", "no white space");
	expect_error(DISQ_WITH("'freemail_domains':['ya hoo.com']"),
		     FREEMAIL_PATH "[0]", "no white space");
	expect_error(DISQ_WITH("'freemail_domains':['']"), FREEMAIL_PATH "[0]",
		     "expected a non-empty string");
}

static void test_domains_refuse_wildcard(void **state)
{
	(void)state;
	expect_error(DISQ_WITH("'competitor_domains':['*.rival.com']"),
		     "$.fit.disqualify.competitor_domains[0]",
		     BARE_DOMAIN "\"*.rival.com\": no '*': subdomains are "
				 "covered automatically");
}

static void test_domains_refuse_url(void **state)
{
	(void)state;
	expect_error(DISQ_WITH("'excluded_domains':['https://acme.com']"),
		     "$.fit.disqualify.excluded_domains[0]",
		     "no '/' or ':': list the domain, not a URL");
	expect_error(DISQ_WITH("'excluded_domains':['acme.com/']"),
		     "$.fit.disqualify.excluded_domains[0]", "no '/' or ':'");
	expect_error(DISQ_WITH("'excluded_domains':['acme.com:443']"),
		     "$.fit.disqualify.excluded_domains[0]", "no '/' or ':'");
}

static void test_domains_refuse_edge_dot(void **state)
{
	(void)state;
	expect_error(DISQ_WITH("'freemail_domains':['.gmail.com']"),
		     FREEMAIL_PATH "[0]", "no leading or trailing '.'");
	expect_error(DISQ_WITH("'freemail_domains':['gmail.com.']"),
		     FREEMAIL_PATH "[0]", "no leading or trailing '.'");
}

/* Every bad entry of every list is reported in one pass; good ones load
 * lower-cased as before. */
static void test_domains_all_errors_and_good_ones(void **state)
{
	struct config_errors e = {0};
	struct config *cfg;
	(void)state;

	cfg = load(DISQ_WITH("'freemail_domains':['@a.com','b.com ','c.com'],"
			     "'competitor_domains':['*.rival.com'],"
			     "'excluded_domains':['https://x.com']"),
		   &e);
	assert_null(cfg);
	assert_int_equal(e.n, 4);
	assert_true(has_error(&e, FREEMAIL_PATH "[0]", "no '@'"));
	assert_true(has_error(&e, FREEMAIL_PATH "[1]", "no white space"));
	assert_true(has_error(&e, "$.fit.disqualify.competitor_domains[0]",
			      "no '*'"));
	assert_true(has_error(&e, "$.fit.disqualify.excluded_domains[0]",
			      "not a URL"));
	config_errors_free(&e);

	cfg = load_ok(DISQ_WITH("'freemail_domains':['GMail.com','localhost',"
				"'xn--mnchen-3ya.de','m\u00fcnchen.de']"));
	assert_int_equal(cfg->engine.fit.nfreemail, 4);
	assert_string_equal(cfg->engine.fit.freemail_domains[0], "gmail.com");
	config_free(cfg);
}

/* Named accounts are domains or groupIds: what is plainly neither is
 * refused, any other groupId spelling is kept. */
static void test_accounts_refuse_never_matching(void **state)
{
	const struct rep *r;
	struct config *cfg;
	(void)state;

	expect_error(REP_WITH("'accounts':['acme.com','@acme.com']"),
		     "$.teams[0].reps[0].accounts[1]",
		     "expected a domain such as \"acme.com\" or a groupId, "
		     "got \"@acme.com\": no '@'");
	expect_error(REP_WITH("'accounts':['bob@globex.com']"),
		     "$.teams[0].reps[0].accounts[0]", "no '@'");
	expect_error(REP_WITH("'accounts':['https://www.initech.com/']"),
		     "$.teams[0].reps[0].accounts[0]", "not a URL");
	expect_error(REP_WITH("'accounts':['*.acme.com']"),
		     "$.teams[0].reps[0].accounts[0]", "no '*'");
	expect_error(REP_WITH("'accounts':['acme.com ']"),
		     "$.teams[0].reps[0].accounts[0]",
		     "no white space around it");
	cfg = load_ok(REP_WITH("'accounts':['Acme.com','sfdc:001XX',"
			       "'Acme Corp']"));
	r = rep_find(cfg, "r");
	assert_int_equal(r->naccounts, 3);
	assert_string_equal(r->accounts[1], "sfdc:001xx");
	assert_string_equal(r->accounts[2], "acme corp");
	config_free(cfg);
}

static void test_bad_tz(void **state)
{
	(void)state;
	expect_error(REP_WITH("'tz':'Europe/Atlantis'"),
		     "$.teams[0].reps[0].tz", "unknown time zone");
	expect_error(REP_WITH("'tz':'/etc/localtime'"), "$.teams[0].reps[0].tz",
		     "unknown time zone");
	expect_error(REP_WITH("'tz':'../zoneinfo/UTC'"),
		     "$.teams[0].reps[0].tz", "unknown time zone");
	expect_error(REP_WITH("'tz':5"), "$.teams[0].reps[0].tz",
		     "expected a string");
}

/* glib reads "UTC+1" as POSIX, one hour *behind* UTC: only IANA names
 * (a zone file, or "UTC") are let through, and "Etc/GMT+1" is one. */
static void test_tz_posix_refused(void **state)
{
	struct config *cfg;
	GDateTime *dt;

	(void)state;
	expect_error(REP_WITH("'tz':'UTC+1'"), "$.teams[0].reps[0].tz",
		     "expected an IANA time zone name such as "
		     "\"Europe/Berlin\", got \"UTC+1\" (POSIX strings like "
		     "\"UTC+1\" are not accepted: their sign is reversed); "
		     "for a fixed UTC+1 use \"Etc/GMT-1\"");
	expect_error(REP_WITH("'tz':'GMT-2'"), "$.teams[0].reps[0].tz",
		     "for a fixed GMT-2 use \"Etc/GMT+2\"");
	expect_error(REP_WITH("'tz':'XYZ+3'"), "$.teams[0].reps[0].tz",
		     "got \"XYZ+3\" (POSIX strings like \"UTC+1\" are not "
		     "accepted: their sign is reversed)");
	/* a tz database table, not a zone */
	expect_error(REP_WITH("'tz':'leapseconds'"), "$.teams[0].reps[0].tz",
		     "unknown time zone \"leapseconds\"");
	cfg = load_ok(REP_WITH("'tz':'Etc/GMT+1'"));
	dt = g_date_time_new_from_unix_utc(1773648000);
	assert_int_equal(
		g_time_zone_get_offset(
			cfg->engine.routing.teams[0].reps[0].tz,
			g_time_zone_find_interval(
				cfg->engine.routing.teams[0].reps[0].tz,
				G_TIME_TYPE_UNIVERSAL,
				g_date_time_to_unix(dt))),
		-3600);
	g_date_time_unref(dt);
	config_free(cfg);
	cfg = load_ok(REP_WITH("'tz':'UTC'"));
	config_free(cfg);
}

static void test_bad_hours(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error(REP_WITH("'hours':{'mon':'9:00-17:00'}"),
		     "$.teams[0].reps[0].hours.mon",
		     "expected \"HH:MM-HH:MM\"");
	expect_error(REP_WITH("'hours':{'tue':'18:00-09:00'}"),
		     "$.teams[0].reps[0].hours.tue",
		     "expected the start before the end");
	expect_error(REP_WITH("'hours':{'wed':'09:00-24:01'}"),
		     "$.teams[0].reps[0].hours.wed",
		     "expected \"HH:MM-HH:MM\"");
	expect_error(REP_WITH("'hours':{'monday':'09:00-17:00'}"),
		     "$.teams[0].reps[0].hours", "unknown key \"monday\"");
	expect_error(REP_WITH("'hours':{}"), "$.teams[0].reps[0].hours",
		     "expected at least one day");
	cfg = load_ok(REP_WITH("'hours':{'weekend':'10:00-24:00'}"));
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].hours[6].end_min,
			 1440);
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].hours[0].end_min,
			 0);
	config_free(cfg);
}

/* "_" keys are comments: hours holding only them are empty, not a rep
 * who is never available. */
static void test_hours_comments_only(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error(REP_WITH("'hours':{'_weekdays':'09:00-17:00'}"),
		     "$.teams[0].reps[0].hours",
		     "expected at least one day (omit \"hours\" for around "
		     "the clock, or set \"paused\")");
	cfg = load_ok(REP_WITH("'hours':{'_why':'x','mon':'09:00-17:00'}"));
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].hours[0].end_min,
			 17 * 60);
	config_free(cfg);
}

/* Caps show the range they accept, not just "expected >= 0", and values
 * in full rather than in exponent form. */
static void test_cap_range(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error(REP_WITH("'daily_cap':5000000000"),
		     "$.teams[0].reps[0].daily_cap",
		     "expected an integer between 0 and 4294967295, got "
		     "5000000000");
	expect_error(REP_WITH("'max_open':-1"), "$.teams[0].reps[0].max_open",
		     "expected an integer between 0 and 4294967295, got -1");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,"
		     "'cap_total':1.5}]}}",
		     "$.scoring.rules[0].cap_total",
		     "expected an integer between 0 and 4294967295, got 1.5");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'process':{'commit_max_records':2000000}}",
		     "$.process.commit_max_records",
		     "expected an integer between 1 and 1000000, got 2000000");
	cfg = load_ok(REP_WITH("'daily_cap':4294967295"));
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].daily_cap,
			 4294967295u);
	config_free(cfg);
}

/* The README's reasons a rep is skipped for no longer name "weight 0":
 * the loader refuses it, so a rep is never skipped for its weight. */
static void test_weight_zero_refused(void **state)
{
	(void)state;
	expect_error(REP_WITH("'weight':0"), "$.teams[0].reps[0].weight",
		     "expected an integer between 1 and 1000, got 0");
}

static void test_bad_ooo(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error(REP_WITH("'out_of_office':[{'from':'2026-13-01','to':"
			      "'2026-12-01'}]"),
		     "$.teams[0].reps[0].out_of_office[0].from",
		     "expected an ISO 8601 time");
	expect_error(REP_WITH("'out_of_office':[{'from':'2026-03-10T10:00:00Z',"
			      "'to':'2026-03-10T09:00:00Z'}]"),
		     "$.teams[0].reps[0].out_of_office[0].to",
		     "expected a time after \"from\"");
	expect_error(REP_WITH("'out_of_office':[{'from':'2026-03-10'}]"),
		     "$.teams[0].reps[0].out_of_office[0]",
		     "missing required key \"to\"");
	/* Without an offset the time is local to the rep's zone. */
	cfg = load_ok(REP_WITH("'tz':'Europe/Berlin','out_of_office':[{'from':"
			       "'2026-03-16T09:00:00','to':'2026-03-16T10:00:"
			       "00.500Z'}]"));
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].ooo[0].from_ms,
			 1773648000000LL);
	assert_int_equal(cfg->engine.routing.teams[0].reps[0].ooo[0].to_ms,
			 1773655200500LL);
	config_free(cfg);
}

static void test_grades(void **state)
{
	(void)state;
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'fit':{'grades':{'A':40,'B':40,'C':20}}}",
		     "$.fit.grades",
		     "grades must be descending (A > B > C), got A=40, B=40, "
		     "C=20");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'fit':{'grades':{'A':60,'D':10}}}",
		     "$.fit.grades", "unknown key \"D\"");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':5,'min_grade':'E'}}",
		     "$.qualification.min_grade", "expected one of \"A\"");
}

/* What the fit section prepares at load: the title disqualifiers folded
 * to lower case, and the grade of 0 fit points (that of a lead without
 * traits) under the bands given, or the defaults without a fit section. */
static void test_fit_prepared_at_load(void **state)
{
	struct config *cfg;
	const struct fit_config *fit;

	(void)state;
	cfg = load_ok("{" BASE "," TEAMS "," ROUTING
		      ",'fit':{'grades':{'A':30,'B':10,'C':0},'disqualify':"
		      "{'titles':['Working Student','INTERN']}}}");
	fit = &cfg->engine.fit;
	assert_int_equal(fit->ndisqualify_titles, 2);
	assert_string_equal(fit->disqualify_titles[0], "working student");
	assert_string_equal(fit->disqualify_titles[1], "intern");
	assert_true(fit->prepared);
	assert_int_equal(fit->grade_zero, 'C');
	config_free(cfg);
	cfg = load_ok(MINI);
	assert_true(cfg->engine.fit.prepared);
	assert_int_equal(cfg->engine.fit.grade_zero, 'D');
	config_free(cfg);
}

static void test_conditions(void **state)
{
	struct config *cfg;
	const struct cond *c;

	(void)state;
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'fit':{'rules':[{'name':'x','points':5,'when':{'field':"
		     "'path','prefix':'/p'}}]}}",
		     "$.fit.rules[0].when.field",
		     "field \"path\" is not allowed here");
	expect_error(
		"{" BASE "," TEAMS
		",'routing':{'fallback_team':'t','territories':[{'name':"
		"'a','team':'t','when':[{'field':'properties.x','eq':1}]}]}}",
		"$.routing.territories[0].when[0].field",
		"is not allowed here");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'event','eq':'a','in':['b']}]}]}}",
		     "$.scoring.rules[0].when[0]", "more than one operator");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'event'}]}]}}",
		     "$.scoring.rules[0].when[0]", "missing operator");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'traits.a.b.c','exists':true}]}]}}",
		     "$.scoring.rules[0].when[0].field", "one level at most");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'event','exists':false}]}]}}",
		     "$.scoring.rules[0].when[0].exists", "expected true");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'event','in':[]}]}]}}",
		     "$.scoring.rules[0].when[0].in", "at least one string");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'when':[{"
		     "'field':'properties.n','lt':'5'}]}]}}",
		     "$.scoring.rules[0].when[0].lt",
		     "expected a number, got string");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':1,'type':["
		     "'page','click']}]}}",
		     "$.scoring.rules[0].type[1]",
		     "unknown event type \"click\"");
	expect_error("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		     ",'scoring':{'rules':[{'name':'x','points':0}]}}",
		     "$.scoring.rules[0].points", "expected a non-zero number");
	cfg = load_ok("{" KAFKA "," QUAL "," TEAMS "," ROUTING
		      ",'scoring':{'rules':[{'name':'x','points':1,'when':{"
		      "'field':'email_domain','eq':'Acme.COM','not':true}},"
		      "{'name':'y','points':-2,'when':[{'field':'properties."
		      "amount','eq':10}]}]}}");
	c = &cfg->engine.scoring.rules[0].conds[0];
	assert_int_equal(c->src, FIELD_EMAIL_DOMAIN);
	assert_string_equal(c->strs[0], "acme.com");
	assert_true(c->negate);
	assert_int_equal(cfg->engine.scoring.rules[0].types, 0);
	c = &cfg->engine.scoring.rules[1].conds[0];
	assert_true(c->is_num);
	assert_true(c->num == 10);
	config_free(cfg);
}

/* Required traits are named as stored ("email", "company.name"); the
 * "traits." prefix of conditions would name a trait that never exists. */
static void test_required_traits_names(void **state)
{
	struct config *cfg;

	(void)state;
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':50,"
		     "'required_traits':['traits.email']}}",
		     "$.qualification.required_traits[0]",
		     "expected the trait name as it is stored, without the "
		     "\"traits.\" prefix: \"email\"");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':50,"
		     "'required_traits':['email','traits.company.name']}}",
		     "$.qualification.required_traits[1]",
		     "without the \"traits.\" prefix: \"company.name\"");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':50,"
		     "'required_traits':['company.address.city']}}",
		     "$.qualification.required_traits[0]",
		     "trait names nest one level at most (\"company.name\")");
	expect_error("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		     ",'qualification':{'score_threshold':50,"
		     "'required_traits':['company.']}}",
		     "$.qualification.required_traits[0]",
		     "expected a trait name such as \"email\" or "
		     "\"company.name\"");
	cfg = load_ok("{" KAFKA "," SCORING "," TEAMS "," ROUTING
		      ",'qualification':{'score_threshold':50,"
		      "'required_traits':['email','company.name']}}");
	assert_int_equal(cfg->engine.qualify.nrequired, 2);
	assert_string_equal(cfg->engine.qualify.required_traits[1],
			    "company.name");
	config_free(cfg);
}

/* An empty list never stands for "everything": a rule's type [] and a
 * when [] would match every event (or lead) as if left out, and an empty
 * in, prefix, contains or word could match nothing. Each is an error at its
 * path saying what is expected. */
static void test_empty_lists(void **state)
{
	static const char *const ops[] = {"in", "prefix", "contains", "word"};
	char buf[512], path[64];

	(void)state;
	expect_error(
		"{" KAFKA "," QUAL "," TEAMS "," ROUTING
		",'scoring':{'rules':[{'name':'x','points':1,'type':[]}]}}",
		"$.scoring.rules[0].type",
		"expected at least one event type (identify, track, "
		"page, screen, group); leave out \"type\" to match "
		"every type");
	expect_error(
		"{" KAFKA "," QUAL "," TEAMS "," ROUTING
		",'scoring':{'rules':[{'name':'x','points':1,'when':[]}]}}",
		"$.scoring.rules[0].when",
		"expected at least one condition; leave out \"when\" "
		"to match without conditions");
	expect_error("{" BASE "," TEAMS
		     ",'routing':{'fallback_team':'t','territories':[{'name':"
		     "'a','team':'t','when':[]}]}}",
		     "$.routing.territories[0].when",
		     "expected at least one condition");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{" KAFKA "," QUAL "," TEAMS "," ROUTING
			 ",'scoring':{'rules':[{'name':'x','points':1,'when':"
			 "{'field':'path','%s':[]}}]}}",
			 ops[i]);
		snprintf(path, sizeof(path), "$.scoring.rules[0].when.%s",
			 ops[i]);
		expect_error(buf, path, "expected at least one string");
	}
}

static void test_kafka_owned_keys(void **state)
{
	(void)state;
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','group.id':'g'}}",
		     "$.kafka['group.id']", "use process.group_id");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','enable.auto.commit':"
		     "true}}",
		     "$.kafka['enable.auto.commit']", "set by the daemon");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','transactional.id':'x',"
		     "'isolation.level':'read_uncommitted'}}",
		     "$.kafka['transactional.id']", "transactional_id_prefix");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k',"
		     "'partition.assignment.strategy':'cooperative-sticky'}}",
		     "$.kafka['partition.assignment.strategy']",
		     "range assignor");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','auto.offset.reset':"
		     "'latest'}}",
		     "$.kafka['auto.offset.reset']", "earliest offset");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'client.id':'x'}}",
		     "$.kafka", "missing required key \"bootstrap.servers\"");
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','x':[1]}}",
		     "$.kafka.x", "expected a string, number or boolean");
}

static void test_kafka_secret_file(void **state)
{
	char tmpl[] = "/tmp/lr_secretXXXXXX", json[512];
	struct config_errors e = {0};
	struct config *cfg;
	int fd;

	(void)state;
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr3t\n", 7), 7);
	close(fd);
	snprintf(json, sizeof(json),
		 "{" SCORING "," QUAL "," TEAMS "," ROUTING
		 ",'kafka':{'bootstrap.servers':'k','sasl.password':'@file:%s'"
		 ",'sasl.username':'lr'}}",
		 tmpl);
	cfg = load_ok(json);
	assert_string_equal(kafka_get(cfg, "sasl.password"), "s3cr3t");
	assert_string_equal(kafka_get(cfg, "sasl.username"), "lr");
	config_free(cfg);
	unlink(tmpl);
	cfg = load(json, &e);
	assert_null(cfg);
	assert_true(has_error(&e, "$.kafka['sasl.password']",
			      "cannot read secret file"));
	assert_non_null(strstr(e.v[0].msg, "No such file"));
	config_errors_free(&e);
	expect_error("{" SCORING "," QUAL "," TEAMS "," ROUTING
		     ",'kafka':{'bootstrap.servers':'k','ssl.key.password':"
		     "'@file:/tmp'}}",
		     "$.kafka['ssl.key.password']", "not a regular file");
}

/* What the fake librdkafka check below was asked, and its answer. */
static struct {
	unsigned calls;
	bool secret_seen;  /* sasl.password came with secret set */
	bool literal_seen; /* client.id came with secret clear */
} kcheck;

static int kafka_check_fake(const char *key, const char *value, bool secret,
			    char *msg, size_t size)
{
	kcheck.calls++;
	if (strcmp(key, "sasl.password") == 0)
		kcheck.secret_seen = secret && strcmp(value, "s3cr3t") == 0;
	if (strcmp(key, "client.id") == 0)
		kcheck.literal_seen = !secret && strcmp(value, "lr") == 0;
	if (strcmp(key, "securty.protocol") != 0)
		return 0;
	snprintf(msg, size, "No such configuration property: \"%s\"", key);
	return -1;
}

/* Writes single-quoted JSON (after prefix bytes) to a new file at tmpl. */
static void file_write(char *tmpl, const char *prefix, const char *sq)
{
	char *json = q(sq);
	FILE *f;
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(prefix, f);
	fputs(json, f);
	fclose(f);
	free(json);
}

/* The daemon's check of each kafka property: every property but comments
 * and the daemon's own is put to it, a secret says so, and a failure is
 * one more error at the property's path, in the same pass as the rest. */
static void test_kafka_check(void **state)
{
	char secret[] = "/tmp/lr_secretXXXXXX", file[] = "/tmp/lr_cfgXXXXXX";
	char json[512];
	struct config_errors e = {0};
	struct config *cfg;
	int fd;

	(void)state;
	fd = mkstemp(secret);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr3t\n", 7), 7);
	close(fd);
	snprintf(json, sizeof(json),
		 "{" SCORING "," QUAL "," TEAMS "," ROUTING
		 ",'kafka':{'bootstrap.servers':'k','_note':'x',"
		 "'sasl.password':'@file:%s','client.id':'lr',"
		 "'securty.protocol':'SSL','group.id':'g'}}",
		 secret);
	file_write(file, "", json);
	cfg = config_load_checked(file, kafka_check_fake, &e);
	assert_null(cfg);
	assert_int_equal(kcheck.calls, 4);
	assert_true(kcheck.secret_seen);
	assert_true(kcheck.literal_seen);
	assert_int_equal(e.n, 2);
	assert_true(has_error(&e, "$.kafka['securty.protocol']",
			      "No such configuration property"));
	assert_true(has_error(&e, "$.kafka['group.id']", "set by the daemon"));
	config_errors_free(&e);
	/* without a check, as simulate's tests and the fuzzer load */
	cfg = config_load(file, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	config_errors_free(&e);
	unlink(file);
	unlink(secret);
}

/* A UTF-8 byte order mark at the start (Notepad, PowerShell) is skipped,
 * from a file and from memory; line and column numbers do not count it. */
static void test_bom(void **state)
{
	char file[] = "/tmp/lr_cfgXXXXXX", bad[] = "/tmp/lr_cfgXXXXXX";
	char *json = q(MINI);
	char bom_json[512];
	struct config_errors e = {0};
	struct config *cfg;

	(void)state;
	file_write(file, "\xef\xbb\xbf", MINI);
	cfg = config_load(file, &e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	assert_string_equal(kafka_get(cfg, "bootstrap.servers"), "k:9092");
	config_free(cfg);
	unlink(file);
	snprintf(bom_json, sizeof(bom_json), "\xef\xbb\xbf%s", json);
	cfg = config_load_string(bom_json, strlen(bom_json), &e);
	assert_non_null(cfg);
	config_free(cfg);
	free(json);
	file_write(bad, "\xef\xbb\xbf", "{\n 'kafka': 1,\n}");
	assert_null(config_load(bad, &e));
	assert_true(has_error(&e, "$", "invalid JSON at line 3, column 1:"));
	config_errors_free(&e);
	unlink(bad);
}

static void test_topics(void **state)
{
	(void)state;
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'topics':{'handoff':'sales.{region}'}}",
		     "$.topics.handoff", "placeholders: {team}, {rep}");
	expect_error("{" BASE "," TEAMS "," ROUTING
		     ",'topics':{'dlq':'dead letters'}}",
		     "$.topics.dlq", "expected a topic name");
	expect_error("{" BASE "," ROUTING
		     ",'topics':{'handoff':'q.{rep}'},'teams':[{'name':'t',"
		     "'overflow_queue':'q','reps':[{'id':'a b'}]}]}",
		     "$.teams[0].reps[0].id", "as topics.handoff uses {rep}");
	expect_error(
		"{" BASE "," ROUTING
		",'teams':[{'name':'t','overflow_queue':'emea overflow'}]}",
		"$.teams[0].overflow_queue", "expected a queue id");
}

/* Team names, and with {rep} rep and queue ids, become handoff topic
 * names: Kafka refuses those past 249 characters, so the loader does. */
static void test_handoff_topic_length(void **state)
{
	char json[1024], name[300], queue[300];
	struct config *cfg;

	(void)state;
	/* "sales.handoffs." is 15 characters: 234 more make 249. */
	memset(name, 'n', 235);
	name[235] = '\0';
	snprintf(json, sizeof(json),
		 "{" BASE ",'teams':[{'name':'%s','overflow_queue':'q'}],"
		 "'routing':{'fallback_team':'%s'}}",
		 name, name);
	expect_error(json, "$.teams[0].name",
		     "expected a team name that keeps the handoff topic "
		     "within Kafka's 249 characters; topics.handoff "
		     "\"sales.handoffs.{team}\" makes it 250");
	name[234] = '\0';
	snprintf(json, sizeof(json),
		 "{" BASE ",'teams':[{'name':'%s','overflow_queue':'q'}],"
		 "'routing':{'fallback_team':'%s'}}",
		 name, name);
	cfg = load_ok(json);
	config_free(cfg);
	/* "h.t." is 4 characters with team "t": 246 more make 250. */
	name[246] = '\0';
	memset(name, 'r', 246);
	memcpy(queue, name, sizeof(queue));
	queue[0] = 'q';
	snprintf(json, sizeof(json),
		 "{" BASE "," ROUTING ",'topics':{'handoff':'h.{team}.{rep}'},"
		 "'teams':[{'name':'t','overflow_queue':'%s','reps':[{'id':"
		 "'ok'},{'id':'%s'}]}]}",
		 queue, name);
	expect_error(json, "$.teams[0].reps[1].id",
		     "expected a rep id that keeps the handoff topic within "
		     "Kafka's 249 characters; topics.handoff "
		     "\"h.{team}.{rep}\" makes it 250");
	expect_error(json, "$.teams[0].overflow_queue",
		     "expected a queue id that keeps the handoff topic");
	/* without {rep}, rep ids are not part of any topic name */
	snprintf(json, sizeof(json),
		 "{" BASE "," ROUTING ",'topics':{'handoff':'h.{team}'},"
		 "'teams':[{'name':'t','overflow_queue':'%s','reps':[{'id':"
		 "'%s'}]}]}",
		 queue, name);
	cfg = load_ok(json);
	config_free(cfg);
}

static void test_many_errors_one_pass(void **state)
{
	struct config_errors e = {0};
	struct config *cfg;

	(void)state;
	cfg = load(
		"{'kafka':{'group.id':'g'},'scoring':{'half_life_days':-1},"
		"'qualification':{'score_threshold':'high'},"
		"'teams':[{'name':'t','overflow_queue':'q','reps':[{'id':'r',"
		"'tz':'Mars/Olympus','weight':0}]}],"
		"'routing':{'fallback_team':'nope'},'extra':1}",
		&e);
	assert_null(cfg);
	assert_true(has_error(&e, "$", "unknown key \"extra\""));
	assert_true(has_error(&e, "$.kafka['group.id']", "group_id"));
	assert_true(has_error(&e, "$.kafka", "bootstrap.servers"));
	assert_true(has_error(&e, "$.scoring.half_life_days", "got -1"));
	assert_true(
		has_error(&e, "$.qualification.score_threshold", "got string"));
	assert_true(has_error(&e, "$.teams[0].reps[0].tz", "unknown time"));
	assert_true(has_error(&e, "$.teams[0].reps[0].weight",
			      "between 1 and 1000, got 0"));
	assert_true(has_error(&e, "$.routing.fallback_team", "unknown team"));
	assert_int_equal(e.n, 8);
	config_errors_free(&e);
}

static void test_syntax_error(void **state)
{
	(void)state;
	expect_error("{\n  'kafka': {,\n}", "$",
		     "invalid JSON at line 2, column");
	expect_error("{'kafka':{'bootstrap.servers':'a'},\n'kafka':{}}", "$",
		     "duplicate object key");
	expect_error("", "$", "invalid JSON at line 1");
}

static void test_missing_file(void **state)
{
	struct config_errors e = {0};

	(void)state;
	assert_null(config_load("/nonexistent/leadrouter.json", &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].path, "$");
	assert_non_null(strstr(e.v[0].msg, "unable to open"));
	config_errors_free(&e);
	config_free(NULL);
	config_errors_free(NULL);
}

static void test_comment_keys(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("{'_comment':'x'," BASE "," TEAMS "," ROUTING
		      ",'process':{'_why':'defaults are fine'}}");
	config_free(cfg);
}

/* The copy the Kafka stages keep across reloads owns its own strings. */
static void test_topics_copy(void **state)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(EXAMPLE, &errs);
	struct topics_config t;

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(config_topics_copy(&t, &cfg->topics), 0);
	assert_string_equal(t.events, cfg->topics.events);
	assert_string_equal(t.handoff, "sales.handoffs.{team}");
	assert_ptr_not_equal(t.dlq, cfg->topics.dlq);
	assert_int_equal(t.create_internal, cfg->topics.create_internal);
	config_free(cfg);
	assert_string_equal(t.leads_changelog, "leadrouter.leads");
	config_topics_free(&t);
	assert_null(t.events);
	config_errors_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_unreachable_warnings),
		cmocka_unit_test(test_errors_mask_addresses),
		cmocka_unit_test(test_topics_copy),
		cmocka_unit_test(test_example_rules),
		cmocka_unit_test(test_example_teams),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_word_operator),
		cmocka_unit_test(test_cond_lens),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_event_time_max_ahead),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_commit_interval_timeout),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_unknown_team),
		cmocka_unit_test(test_domains_refuse_address),
		cmocka_unit_test(test_domains_refuse_white_space),
		cmocka_unit_test(test_domains_refuse_wildcard),
		cmocka_unit_test(test_domains_refuse_url),
		cmocka_unit_test(test_domains_refuse_edge_dot),
		cmocka_unit_test(test_domains_all_errors_and_good_ones),
		cmocka_unit_test(test_accounts_refuse_never_matching),
		cmocka_unit_test(test_bad_tz),
		cmocka_unit_test(test_tz_posix_refused),
		cmocka_unit_test(test_bad_hours),
		cmocka_unit_test(test_hours_comments_only),
		cmocka_unit_test(test_cap_range),
		cmocka_unit_test(test_weight_zero_refused),
		cmocka_unit_test(test_bad_ooo),
		cmocka_unit_test(test_grades),
		cmocka_unit_test(test_fit_prepared_at_load),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_required_traits_names),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_kafka_owned_keys),
		cmocka_unit_test(test_kafka_secret_file),
		cmocka_unit_test(test_kafka_check),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_handoff_topic_length),
		cmocka_unit_test(test_many_errors_one_pass),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_comment_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
