/*
 * bench_leads.c - stage 1 engine benchmark: lead_event_apply over synthetic
 * traffic, reporting nanoseconds per event and resident bytes per lead.
 *
 * Standalone (no config loader, no parser): the config is built by hand and
 * events are filled straight into struct event from a pre-generated plan,
 * so the figure is the engine alone. One event reaches every lead first
 * (1M leads), then the rest follow a skewed distribution (a few hot leads,
 * a long tail seen once), the way marketing traffic looks: mostly
 * anonymous page views, some tracks, a few identifies that carry traits.
 * RSS per lead is VmRSS after the run minus VmRSS before the table existed
 * (the plan is allocated before the baseline). Times are thread CPU time.
 *
 * The prefetch argument picks how far the loop looks ahead, as a caller
 * that parses events ahead would: 0 not at all; 1 lead_table_prefetch
 * for the next event's key; 2 the two-step pipeline that lead.h describes
 * (slot two events ahead, lead one event ahead).
 *
 * usage: bench_leads [leads [events [prefetch]]]
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/lead.h"

#define KEY_LEN 36
#define T_START 1772445600000LL

struct plan_ev {
	uint32_t lead;
	uint8_t kind; /* index into the event templates below */
	int64_t ts_ms;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / (double)(1ULL << 53);
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* CPU time of this thread: the figure should not depend on whatever else
 * the machine is running. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The config: eight behaviour rules, four fit rules, three territories. */
static char *s_pricing[] = {"/pricing"}, *s_docs[] = {"/docs"},
	    *s_demo[] = {"Demo Requested"}, *s_trial[] = {"Trial Started"},
	    *s_webinar[] = {"Webinar Registered", "Webinar Attended"},
	    *s_careers[] = {"/careers"}, *s_pro[] = {"pro"},
	    *s_open[] = {"Email Opened"},
	    *s_senior[] = {"vp", "director", "head"},
	    *s_soft[] = {"software", "saas"}, *s_emea[] = {"DE", "FR", "GB"},
	    *s_us[] = {"US"}, *s_free[] = {"gmail.com", "yahoo.com"},
	    *s_req[] = {"email"}, *s_stud[] = {"student"};

static struct cond c_pricing = {
	.src = FIELD_PATH, .op = COND_PREFIX, .strs = s_pricing, .nstrs = 1};
static struct cond c_docs = {
	.src = FIELD_PATH, .op = COND_PREFIX, .strs = s_docs, .nstrs = 1};
static struct cond c_demo = {
	.src = FIELD_EVENT_NAME, .op = COND_EQ, .strs = s_demo, .nstrs = 1};
static struct cond c_trial = {
	.src = FIELD_EVENT_NAME, .op = COND_EQ, .strs = s_trial, .nstrs = 1};
static struct cond c_webinar = {
	.src = FIELD_EVENT_NAME, .op = COND_IN, .strs = s_webinar, .nstrs = 2};
static struct cond c_careers = {
	.src = FIELD_PATH, .op = COND_PREFIX, .strs = s_careers, .nstrs = 1};
static struct cond c_pro = {.src = FIELD_PROPERTY,
			    .name = "plan",
			    .op = COND_EQ,
			    .strs = s_pro,
			    .nstrs = 1};
static struct cond c_open = {
	.src = FIELD_EVENT_NAME, .op = COND_EQ, .strs = s_open, .nstrs = 1};
static struct cond c_emea = {.src = FIELD_TRAIT,
			     .name = "country",
			     .op = COND_IN,
			     .strs = s_emea,
			     .nstrs = 3};
static struct cond c_us = {.src = FIELD_TRAIT,
			   .name = "country",
			   .op = COND_IN,
			   .strs = s_us,
			   .nstrs = 1};
static struct cond c_ent = {.src = FIELD_TRAIT,
			    .name = "employees",
			    .op = COND_GE,
			    .num = 1000,
			    .is_num = true};

#define PAGE  (1u << EVENT_PAGE)
#define TRACK (1u << EVENT_TRACK)

static struct score_rule rules[] = {
	{"pricing", PAGE, &c_pricing, 1, 10, 3, 0},
	{"docs", PAGE, &c_docs, 1, 2, 5, 0},
	{"demo", TRACK, &c_demo, 1, 40, 0, 1},
	{"trial", TRACK, &c_trial, 1, 30, 0, 1},
	{"webinar", TRACK, &c_webinar, 1, 15, 0, 0},
	{"careers", PAGE, &c_careers, 1, -10, 0, 0},
	{"pro_plan", TRACK, &c_pro, 1, 5, 1, 0},
	{"email_open", TRACK, &c_open, 1, 1, 2, 0},
};

static struct fit_rule fit_rules[4];
static struct territory terr[] = {
	{"emea", &c_emea, 1, "emea", 0},
	{"us-enterprise",
	 (struct cond[]){{.src = FIELD_TRAIT,
			  .name = "country",
			  .op = COND_IN,
			  .strs = s_us,
			  .nstrs = 1},
			 {.src = FIELD_TRAIT,
			  .name = "employees",
			  .op = COND_GE,
			  .num = 1000,
			  .is_num = true}},
	 2, "us-ent", 1},
	{"us", &c_us, 1, "us", 2},
};

static void bench_config(struct engine_config *cfg)
{
	fit_rules[0] = (struct fit_rule){"senior",
					 {.src = FIELD_TRAIT,
					  .name = "title",
					  .op = COND_CONTAINS,
					  .strs = s_senior,
					  .nstrs = 3},
					 25};
	fit_rules[1] = (struct fit_rule){"size", c_ent, 20};
	fit_rules[2] = (struct fit_rule){"industry",
					 {.src = FIELD_TRAIT,
					  .name = "industry",
					  .op = COND_IN,
					  .strs = s_soft,
					  .nstrs = 2},
					 15};
	fit_rules[3] = (struct fit_rule){"mid",
					 {.src = FIELD_TRAIT,
					  .name = "employees",
					  .op = COND_GE,
					  .num = 100,
					  .is_num = true},
					 10};
	memset(cfg, 0, sizeof(*cfg));
	cfg->scoring = (struct scoring_config){
		.rules = rules, .nrules = 8, .half_life_days = 14};
	cfg->fit = (struct fit_config){.rules = fit_rules,
				       .nrules = 4,
				       .grade_a = 50,
				       .grade_b = 30,
				       .grade_c = 10,
				       .freemail_domains = s_free,
				       .nfreemail = 2,
				       .disqualify_titles = s_stud,
				       .ndisqualify_titles = 1};
	cfg->qualify = (struct qualify_config){60, 'B', s_req, 1};
	cfg->routing.territories = terr;
	cfg->routing.nterritories = 3;
	cfg->routing.fallback_team = "smb";
}

/* Event templates: weights out of 100 in the comment. */
enum {
	K_PAGE_HOME,     /* 30 */
	K_PAGE_DOCS,     /* 20 */
	K_PAGE_PRICING,  /* 12 */
	K_PAGE_BLOG,     /* 8 */
	K_PAGE_CAREERS,  /* 2 */
	K_TRACK_OPEN,    /* 10 */
	K_TRACK_PLAN,    /* 6 */
	K_TRACK_WEBINAR, /* 3 */
	K_TRACK_TRIAL,   /* 1 */
	K_TRACK_DEMO,    /* 1 */
	K_IDENTIFY,      /* 6 */
	K_GROUP,         /* 1 */
	K_COUNT
};

static const int kind_weight[K_COUNT] = {30, 20, 12, 8, 2, 10,
					 6,  3,  1,  1, 6, 1};

static uint8_t pick_kind(void)
{
	int r = (int)(rng_next() % 100);

	for (int k = 0; k < K_COUNT; k++) {
		if (r < kind_weight[k])
			return (uint8_t)k;
		r -= kind_weight[k];
	}
	return K_PAGE_HOME;
}

static const char *titles[] = {"VP Marketing", "Engineer",    "Head of Data",
			       "Student",      "Director IT", "CTO"};
static const char *countries[] = {"DE", "US", "FR", "GB", "BR", "IN"};
static const char *employees[] = {"12", "150", "800", "5000"};
static const char *domains[] = {"acme.com", "gmail.com", "initech.io",
				"globex.de"};

static void fill_identify(struct event *ev, uint32_t lead, char *email)
{
	struct event_field *t = ev->traits;
	unsigned v = lead * 2654435761u;

	snprintf(email, 48, "p%u@%s", lead, domains[v % 4]);
	ev->user_id = (struct strv){email, 9};
	ev->email = strv_from(email);
	t[0] = (struct event_field){strv_from("email"),
				    {JVAL_STRING, strv_from(email), 0}};
	t[1] = (struct event_field){
		strv_from("title"),
		{JVAL_STRING, strv_from(titles[(v >> 3) % 6]), 0}};
	t[2] = (struct event_field){
		strv_from("country"),
		{JVAL_STRING, strv_from(countries[(v >> 7) % 6]), 0}};
	const char *emp = employees[(v >> 11) % 4];
	t[3] = (struct event_field){strv_from("employees"),
				    {JVAL_NUMBER, strv_from(emp), atof(emp)}};
	ev->ntraits = 4;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A UUID-shaped anonymousId for lead number idx, made on the fly: a real
 * key arrives in the message just read, hot in cache, so the benchmark
 * must not fetch it from a cold 36 MB array either. */
static void key_make(uint32_t idx, char *key)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = mix64(idx), b = mix64(a);

	for (int i = 0; i < KEY_LEN; i++) {
		uint64_t *src = i < 16 ? &a : &b;
		key[i] = hex[*src & 15];
		*src >>= 4;
	}
	key[8] = key[13] = key[18] = key[23] = '-';
}

/* Fills ev for plan entry p; key already holds the entry's key. */
static void fill_event(struct event *ev, const struct plan_ev *p,
		       const char *key, uint64_t seq, char *msg, char *email)
{
	static const char hex[] = "0123456789abcdef";

	ev->lead_key = (struct strv){key, KEY_LEN};
	ev->anonymous_id = ev->lead_key;
	ev->user_id = STRV_NULL;
	ev->email = STRV_NULL;
	ev->group_id = STRV_NULL;
	ev->name = ev->path = ev->url = STRV_NULL;
	ev->nprops = ev->ntraits = 0;
	ev->ts_ms = p->ts_ms;
	for (int i = 0; i < 16; i++)
		msg[i] = hex[(seq >> (60 - 4 * i)) & 15];
	ev->message_id = (struct strv){msg, 16};
	switch (p->kind) {
	case K_PAGE_HOME:
	case K_PAGE_DOCS:
	case K_PAGE_PRICING:
	case K_PAGE_BLOG:
	case K_PAGE_CAREERS: {
		static const char *paths[] = {"/", "/docs/getting-started",
					      "/pricing", "/blog/post",
					      "/careers/jobs"};
		ev->type = EVENT_PAGE;
		ev->path = strv_from(paths[p->kind - K_PAGE_HOME]);
		break;
	}
	case K_TRACK_OPEN:
	case K_TRACK_PLAN:
	case K_TRACK_WEBINAR:
	case K_TRACK_TRIAL:
	case K_TRACK_DEMO: {
		static const char *names[] = {
			"Email Opened", "Plan Viewed", "Webinar Registered",
			"Trial Started", "Demo Requested"};
		ev->type = EVENT_TRACK;
		ev->name = strv_from(names[p->kind - K_TRACK_OPEN]);
		if (p->kind == K_TRACK_PLAN) {
			ev->props[0] = (struct event_field){
				strv_from("plan"),
				{JVAL_STRING, strv_from("pro"), 0}};
			ev->nprops = 1;
		}
		break;
	}
	case K_IDENTIFY:
		ev->type = EVENT_IDENTIFY;
		fill_identify(ev, p->lead, email);
		break;
	default:
		ev->type = EVENT_GROUP;
		ev->group_id = strv_from("acct-1");
		ev->traits[0] = (struct event_field){
			strv_from("industry"),
			{JVAL_STRING, strv_from("software"), 0}};
		ev->ntraits = 1;
		break;
	}
}

static struct plan_ev *plan_build(size_t nleads, size_t nevents)
{
	struct plan_ev *plan = malloc(nevents * sizeof(*plan));
	int64_t span = 30LL * 86400000; /* a month of traffic */

	for (size_t i = 0; i < nevents; i++) {
		uint32_t lead = i < nleads ? (uint32_t)i
					   : (uint32_t)((double)nleads *
							pow(rng_unit(), 3));
		int64_t jitter = (int64_t)(rng_next() % 3600000) - 1800000;
		plan[i].lead = lead;
		plan[i].kind = pick_kind();
		plan[i].ts_ms =
			T_START + span * (int64_t)i / (int64_t)nevents + jitter;
	}
	return plan;
}

static void prefetch_ahead(const struct lead_table *t, char (*keys)[KEY_LEN],
			   size_t i, size_t nevents, int mode)
{
	if (mode >= 1 && i + mode < nevents)
		lead_table_prefetch(
			t, (struct strv){keys[(i + mode) & 3], KEY_LEN});
	if (mode >= 2 && i + 1 < nevents)
		lead_table_prefetch_lead(
			t, (struct strv){keys[(i + 1) & 3], KEY_LEN});
}

struct tally {
	size_t updated, dup, qualified;
};

int main(int argc, char **argv)
{
	size_t nleads = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	size_t nevents = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000000;
	int prefetch = argc > 3 ? atoi(argv[3]) : 0;
	struct engine_config cfg;
	struct plan_ev *plan = plan_build(nleads, nevents);
	struct event *ev = calloc(1, sizeof(*ev));
	struct lead_table *t;
	struct tally n = {0};
	char msg[16], email[48], keys[4][KEY_LEN];
	double t0, t1, tsplit = 0, fill_ns;
	long base;

	bench_config(&cfg);
	/* the cost of filling events alone, to subtract */
	t0 = now_ns();
	for (size_t i = 0; i < nevents; i++) {
		key_make(plan[i].lead, keys[0]);
		fill_event(ev, &plan[i], keys[0], i, msg, email);
	}
	fill_ns = (now_ns() - t0) / (double)nevents;

	base = rss_kib();
	t = lead_table_new();
	t0 = now_ns();
	for (size_t i = 0; i < 2 && i < nevents; i++)
		key_make(plan[i].lead, keys[i]);
	for (size_t i = 0; i < nevents; i++) {
		struct assign_cmd cmd;
		char *key = keys[i & 3];
		if (i == nleads)
			tsplit = now_ns(); /* first sight of every lead ends */
		if (i + 2 < nevents) /* each key is made once in every mode */
			key_make(plan[i + 2].lead, keys[(i + 2) & 3]);
		prefetch_ahead(t, keys, i, nevents, prefetch);
		fill_event(ev, &plan[i], key, i, msg, email);
		switch (lead_event_apply(&cfg, t, ev, NULL, &cmd)) {
		case LEAD_QUALIFIED:
			n.qualified++;
			free(cmd.json);
			break;
		case LEAD_DUPLICATE:
			n.dup++;
			break;
		default:
			n.updated++;
		}
	}
	t1 = now_ns();
	long rss = rss_kib();
	size_t count = lead_table_count(t);

	printf("prefetch %d\n", prefetch);
	printf("events %zu leads %zu qualified %zu duplicates %zu\n", nevents,
	       count, n.qualified, n.dup);
	printf("apply_ns_per_event %.1f (fill %.1f included, engine %.1f)\n",
	       (t1 - t0) / (double)nevents, fill_ns,
	       (t1 - t0) / (double)nevents - fill_ns);
	if (tsplit > 0 && nevents > nleads)
		printf("new_lead_ns %.1f repeat_ns %.1f (fill included)\n",
		       (tsplit - t0) / (double)nleads,
		       (t1 - tsplit) / (double)(nevents - nleads));
	printf("rss_bytes_per_lead %.1f table_bytes_per_lead %.1f\n",
	       (double)(rss - base) * 1024.0 / (double)count,
	       (double)lead_table_bytes(t) / (double)count);
	lead_table_free(t);
	free(ev);
	free(plan);
	return 0;
}
