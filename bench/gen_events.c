/*
 * gen_events.c - a fast, deterministic generator of Segment Spec events for
 * the simulate benchmark and for soak tests.
 *
 * It writes N events over L leads as JSON Lines. Activity is skewed the way
 * real traffic is (a few leads are very busy, most are seen a handful of
 * times): a lead's rank is L * u^SKEW for uniform u, a power law that is
 * cheap to draw. The mix is about 60% page, 25% track, 10% identify and 5%
 * group, with analytics.js-style context so events weigh 300-400 bytes, and
 * event time walks forward through a few weeks. Four leads in ten are known
 * (userId and traits); the rest stay anonymous. Titles, company sizes and
 * countries vary so that some known leads qualify under bench/bench.json
 * (the example config's rules).
 * A small share of events is sent twice, as at-least-once producers do.
 *
 * The same arguments always give the same bytes: everything derives from
 * the seed and the event index, never from the clock.
 *
 * usage: gen_events [-n EVENTS] [-l LEADS] [-s SEED] [-w WEEKS] [-a]
 *   -a  touch every lead at least once: the first L events visit each lead
 *       once in a scrambled order, the rest follow the skewed draw.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GEN_SKEW       2.0 /* rank = L * u^SKEW; higher is more skewed */
#define GEN_DUP_PERMIL 2   /* events re-sent as duplicates, per mille */
#define GEN_START_MS   1772323200000LL /* 2026-03-01T00:00:00Z */
#define GEN_OUT_BYTES  (1u << 22)

struct gen_opts {
	uint64_t events;
	uint64_t leads;
	uint64_t seed;
	unsigned weeks;
	int all_leads;
};

struct gen {
	struct gen_opts o;
	uint64_t rng;
	int64_t us_per_event; /* event spacing */
	char *out;
	size_t used;
};

static const char *const gen_pages[][2] = {
	{"/pricing", "Pricing"},
	{"/product/routing", "Lead Routing"},
	{"/product/scoring", "Lead Scoring"},
	{"/docs/getting-started", "Getting Started"},
	{"/docs/api/events", "Events API"},
	{"/blog/mql-vs-sql", "MQL vs SQL"},
	{"/blog/lead-scoring-models", "Lead Scoring Models"},
	{"/customers", "Customers"},
	{"/", "Home"},
	{"/careers", "Careers"},
	{"/integrations/salesforce", "Salesforce"},
	{"/demo", "Book a Demo"},
};

/* Track events, with weights per mille: cheap signals are common. The
 * names follow the example config's scoring rules, so the benchmark runs
 * real rule matching and caps. */
static const char *const gen_tracks[] = {
	"Email Opened",
	"Email Link Clicked",
	"Product Tour Completed",
	"Ebook Downloaded",
	"Newsletter Subscribed",
	"Webinar Attended",
	"Video Playback Completed",
	"Contact Sales Clicked",
	"Trial Started",
	"Demo Requested",
	"Email Unsubscribed",
};
static const unsigned gen_track_w[] = {250, 180, 160, 90, 80, 60,
				       60,  40,  40,  20, 20};
static const char *const gen_plans[] = {"free", "team", "business"};

static const char *const gen_titles[] = {
	"VP Marketing",
	"Director of Sales Operations",
	"Head of Growth",
	"Marketing Manager",
	"Software Engineer",
	"Student",
	"Chief Revenue Officer",
	"Account Executive",
	"Marketing Operations Specialist",
	"Intern",
};
static const char *const gen_countries[] = {"US", "DE", "GB", "FR",
					    "CA", "NL", "IN", "BR"};
static const char *const gen_industries[] = {
	"Software", "Financial Services", "Healthcare",
	"Retail",   "Manufacturing",      "Education"};
static const unsigned gen_sizes[] = {8, 35, 120, 450, 1200, 5000, 25000};
static const char *const gen_agents[] = {
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/122.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/123.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3) Safari/604.1",
};

#define GEN_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: a bijection on 64 bits, so distinct inputs give distinct ids.
 */
static uint64_t gen_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t gen_next(struct gen *g)
{
	g->rng = gen_mix(g->rng);
	return g->rng;
}

static double gen_unit(struct gen *g)
{
	return (double)(gen_next(g) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t gen_lead_pick(struct gen *g, uint64_t i)
{
	uint64_t r;

	/* i * prime mod L visits every lead once while the prime and L are
	 * coprime, and does not visit them in id order. */
	if (g->o.all_leads && i < g->o.leads)
		return (i * 2654435761ULL) % g->o.leads;
	r = (uint64_t)((double)g->o.leads * pow(gen_unit(g), GEN_SKEW));
	return r < g->o.leads ? r : g->o.leads - 1;
}

/* Leads whose id ends in 0..3 are known; identify and group need one. */
static int gen_lead_known(uint64_t lead)
{
	return lead % 10 < 4;
}

static uint64_t gen_lead_make_known(uint64_t lead)
{
	return lead - lead % 10 + (lead % 10) % 4;
}

static void gen_flush(struct gen *g)
{
	if (g->used > 0 && fwrite(g->out, 1, g->used, stdout) != g->used) {
		perror("gen_events: write");
		exit(1);
	}
	g->used = 0;
}

static void gen_printf(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void gen_printf(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (GEN_OUT_BYTES - g->used < 4096)
		gen_flush(g);
	va_start(ap, fmt);
	n = vsnprintf(g->out + g->used, GEN_OUT_BYTES - g->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		g->used += (size_t)n;
}

static void gen_timestamp(int64_t ms, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The fields every event carries: ids, time and analytics.js context. */
static void gen_head(struct gen *g, const char *type, uint64_t i, uint64_t lead,
		     int64_t ms)
{
	uint64_t a = gen_mix(lead ^ 0x5eed0000ULL ^ g->o.seed);
	uint64_t m = gen_mix(i ^ (g->o.seed << 32));
	char ts[80];

	gen_timestamp(ms, ts, sizeof(ts));
	gen_printf(g,
		   "{\"type\":\"%s\",\"messageId\":\"ajs-%016" PRIx64
		   "%08" PRIx32 "\",\"anonymousId\":\"%08" PRIx32
		   "-%04x-4%03x-a%03x-%012" PRIx64 "\"",
		   type, m, (uint32_t)(i & 0xffffffffu), (uint32_t)(a >> 32),
		   (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
		   (unsigned)(a >> 40) & 0xfffu,
		   (uint64_t)(gen_mix(a) & 0xffffffffffffULL));
	if (gen_lead_known(lead))
		gen_printf(g, ",\"userId\":\"usr_%" PRIu64 "\"", lead);
	gen_printf(g,
		   ",\"timestamp\":\"%s\",\"context\":{\"library\":{\"name\":"
		   "\"analytics.js\",\"version\":\"4.1.0\"},"
		   "\"userAgent\":\"%s\"}",
		   ts, gen_agents[a % GEN_LEN(gen_agents)]);
}

static void gen_page(struct gen *g, uint64_t i, uint64_t lead, int64_t ms)
{
	size_t p = gen_next(g) % GEN_LEN(gen_pages);

	gen_head(g, "page", i, lead, ms);
	gen_printf(g,
		   ",\"name\":\"%s\",\"properties\":{\"path\":\"%s\",\"url\":"
		   "\"https://www.example.com%s\"}}\n",
		   gen_pages[p][1], gen_pages[p][0], gen_pages[p][0]);
}

static void gen_track(struct gen *g, uint64_t i, uint64_t lead, int64_t ms)
{
	unsigned w = (unsigned)(gen_next(g) % 1000);
	size_t t = 0;

	while (t + 1 < GEN_LEN(gen_tracks) && w >= gen_track_w[t])
		w -= gen_track_w[t++];
	gen_head(g, "track", i, lead, ms);
	gen_printf(g,
		   ",\"event\":\"%s\",\"properties\":{"
		   "\"campaign\":\"spring-%u\",\"plan\":\"%s\"}}\n",
		   gen_tracks[t], (unsigned)(gen_next(g) % 20),
		   gen_plans[gen_next(g) % GEN_LEN(gen_plans)]);
}

/* Traits come from the lead id, so every identify of a lead agrees. */
static void gen_identify(struct gen *g, uint64_t i, uint64_t lead, int64_t ms)
{
	uint64_t h = gen_mix(lead ^ 0x7a175ULL);
	uint64_t company = lead / 7;
	int freemail = h % 10 == 0;

	gen_head(g, "identify", i, lead, ms);
	if (freemail)
		gen_printf(g,
			   ",\"traits\":{\"email\":\"u%" PRIu64 "@gmail.com\",",
			   lead);
	else
		gen_printf(g,
			   ",\"traits\":{\"email\":\"u%" PRIu64 "@c%" PRIu64
			   ".example.net\",",
			   lead, company);
	gen_printf(g,
		   "\"title\":\"%s\",\"address\":{\"country\":\"%s\"},"
		   "\"company\":{\"name\":\"Company %" PRIu64
		   "\",\"employees\":%u,\"industry\":\"%s\"}}}\n",
		   gen_titles[(h >> 8) % GEN_LEN(gen_titles)],
		   gen_countries[(h >> 16) % GEN_LEN(gen_countries)], company,
		   gen_sizes[(h >> 24) % GEN_LEN(gen_sizes)],
		   gen_industries[(h >> 32) % GEN_LEN(gen_industries)]);
}

static void gen_group(struct gen *g, uint64_t i, uint64_t lead, int64_t ms)
{
	uint64_t company = lead / 7;
	uint64_t h = gen_mix(company ^ 0x6709ULL);

	gen_head(g, "group", i, lead, ms);
	gen_printf(
		g,
		",\"groupId\":\"grp_%" PRIu64
		"\",\"traits\":{\"name\":\"Company %" PRIu64
		"\",\"industry\":\"%s\",\"employees\":%u,\"plan\":\"%s\"}}\n",
		company, company, gen_industries[h % GEN_LEN(gen_industries)],
		gen_sizes[(h >> 8) % GEN_LEN(gen_sizes)],
		(h >> 16) % 3 == 0 ? "enterprise" : "trial");
}

static void gen_event(struct gen *g, uint64_t i)
{
	uint64_t lead = gen_lead_pick(g, i);
	int64_t ms = GEN_START_MS + (int64_t)i * g->us_per_event / 1000;
	unsigned kind = (unsigned)(gen_next(g) % 100);

	/* The -a pass must touch this very lead: an anonymous one views a page
	 * where a known one would identify or join a group. */
	if (kind >= 85 && g->o.all_leads && i < g->o.leads &&
	    !gen_lead_known(lead))
		kind = 0;
	if (kind < 60)
		gen_page(g, i, lead, ms);
	else if (kind < 85)
		gen_track(g, i, lead, ms);
	else if (kind < 95)
		gen_identify(g, i, gen_lead_make_known(lead), ms);
	else
		gen_group(g, i, gen_lead_make_known(lead), ms);
}

static void gen_run(struct gen *g)
{
	for (uint64_t i = 0; i < g->o.events; i++) {
		size_t start = g->used;

		gen_event(g, i);
		/* Re-send the line just written, as a retrying producer does.
		 * (A flush may have moved it; then skip this duplicate.) */
		if (gen_next(g) % 1000 < GEN_DUP_PERMIL && g->used > start &&
		    GEN_OUT_BYTES - g->used > g->used - start) {
			memcpy(g->out + g->used, g->out + start,
			       g->used - start);
			g->used += g->used - start;
		}
	}
	gen_flush(g);
}

static int gen_opts_parse(int argc, char **argv, struct gen_opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "n:l:s:w:a")) != -1) {
		switch (ch) {
		case 'n':
			o->events = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			o->leads = strtoull(optarg, NULL, 10);
			break;
		case 's':
			o->seed = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			o->weeks = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'a':
			o->all_leads = 1;
			break;
		default:
			return -1;
		}
	}
	return o->leads > 0 && o->weeks > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct gen g = {.o = {.events = 1000000,
			      .leads = 100000,
			      .seed = 1,
			      .weeks = 3}};

	if (gen_opts_parse(argc, argv, &g.o) == -1) {
		fprintf(stderr, "usage: gen_events [-n EVENTS] [-l LEADS] "
				"[-s SEED] [-w WEEKS] [-a]\n");
		return 2;
	}
	g.rng = gen_mix(g.o.seed);
	g.us_per_event = g.o.events ? (int64_t)g.o.weeks * 7 * 86400 *
					      1000000LL / (int64_t)g.o.events
				    : 0;
	g.out = malloc(GEN_OUT_BYTES);
	if (g.out == NULL)
		return 1;
	gen_run(&g);
	free(g.out);
	return fflush(stdout) == 0 ? 0 : 1;
}
