/*
 * simulate.c - the engine over JSON Lines on stdin, with no Kafka.
 *
 * Every line goes through the same calls the Kafka stages make: event_parse,
 * lead_event_apply on one lead table, and route_assign_apply with one
 * team_state per team when a lead qualifies. Handoffs go to stdout one per
 * line; rejected lines and the summary go to stderr. Nothing reads the wall
 * clock, so the same input and config give byte-identical output.
 *
 * The hot path is one buffer filled with fread and the engine calls; a
 * valid event's line is found by the parser as it reads it
 * (event_parse_line), any other line is split with memchr first. The
 * only allocations per event are the engine's own. The
 * rejection reports use jansson: they are a cold path and must stay valid
 * JSON whatever the message holds.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../config/config.h"
#include "../engine/event.h"
#include "../engine/lead.h"
#include "../engine/route.h"
#include "log.h"
#include "simulate.h"

/* Lines longer than this are skipped to their newline without buffering
 * them; any line over EVENT_MAX_BYTES is rejected as too_large. The extra
 * byte lets a CRLF line of exactly EVENT_MAX_BYTES through. */
#define SIM_LINE_MAX (EVENT_MAX_BYTES + 1)
/* Small enough that the lines fread has just copied are still in the
 * core's L2 cache when the parser reads them (a 4 MiB buffer sent them
 * to L3 or memory first: 5-10% slower over all), and big enough for a
 * longest line and then some. Reading a mapping of the input instead
 * (1 MiB windows populated with MADV_POPULATE_READ and released behind,
 * tried twice) cost as much CPU: mapping and unmapping 4 KiB page-cache
 * pages costs what copying them does, and the parser then reads from
 * memory, not L2. */
#define SIM_BUF_BYTES (256u << 10)
#define SIM_OUT_BYTES (1u << 20)

#define SIM_REASON_ROUTE "route_error"

/*
 * Parsed events wait in a small ring before they are applied, so the lead
 * table's memory can be prefetched: at 1M leads nearly every lookup misses
 * the cache, and hiding its three misses (slot, lead, ext block) behind
 * the parsing of the next events is worth more than anything else on this
 * path (bench_leads: 0.68x the time per event for the first two; the ext
 * stage took some 7% more off the 5M-event benchmark's CPU time). Events
 * point into the read buffer, so the ring is drained before that buffer
 * moves.
 */
#define SIM_AHEAD 3
#define SIM_RING  (SIM_AHEAD + 1)

/* Routing state and handoff counts of one team; rep_handoffs[nreps]
 * counts the team's overflow queue. */
struct sim_team {
	struct team_state *ts;
	uint64_t handoffs;
	uint64_t *rep_handoffs;
};

struct sim {
	const struct config *cfg;
	FILE *out;
	FILE *err;
	struct lead_table *leads;
	struct sim_team *teams;
	size_t nteams;
	struct event *ring[SIM_RING];
	uint64_t ring_hash[SIM_RING]; /* lead_key_hash of each ring[i] */
	uint64_t ring_line[SIM_RING]; /* the input line of each ring[i] */
	unsigned ring_head, ring_len;
	uint64_t lineno;
	uint64_t events;
	uint64_t accepted;
	uint64_t rejected;
	uint64_t by_reason[EVENT_REASON_COUNT];
	uint64_t duplicates;
	uint64_t mqls;
	uint64_t handoffs;
	uint64_t route_errors;
};

/* One count in a sorted listing of the summary. */
struct sim_count {
	const char *name;
	uint64_t n;
};

static int sim_init(struct sim *s, const struct config *cfg, FILE *out,
		    FILE *err)
{
	const struct routing_config *rc = &cfg->engine.routing;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->out = out;
	s->err = err;
	s->nteams = rc->nteams;
	s->leads = lead_table_new();
	s->teams = calloc(rc->nteams ? rc->nteams : 1, sizeof(*s->teams));
	if (s->leads == NULL || s->teams == NULL)
		return -1;
	for (size_t i = 0; i < SIM_RING; i++) {
		s->ring[i] = malloc(sizeof(*s->ring[i]));
		if (s->ring[i] == NULL)
			return -1;
	}
	for (size_t i = 0; i < rc->nteams; i++) {
		s->teams[i].rep_handoffs =
			calloc(rc->teams[i].nreps + 1, sizeof(uint64_t));
		if (s->teams[i].rep_handoffs == NULL)
			return -1;
	}
	return 0;
}

static void sim_fini(struct sim *s)
{
	if (s->teams != NULL) {
		for (size_t i = 0; i < s->nteams; i++) {
			if (s->teams[i].ts != NULL)
				team_state_free(s->teams[i].ts);
			free(s->teams[i].rep_handoffs);
		}
	}
	free(s->teams);
	for (size_t i = 0; i < SIM_RING; i++)
		free(s->ring[i]);
	if (s->leads != NULL)
		lead_table_free(s->leads);
}

/* One JSON object per problem line: {"line":N,"reason":"...","message":""}.
 */
static void sim_report(struct sim *s, uint64_t line, const char *reason,
		       const char *msg)
{
	json_t *o = json_pack("{s:I,s:s,s:s}", "line", (json_int_t)line,
			      "reason", reason, "message", msg);

	if (o == NULL) /* the message was not valid UTF-8 */
		o = json_pack("{s:I,s:s,s:s}", "line", (json_int_t)line,
			      "reason", reason, "message", "");
	if (o == NULL)
		return;
	json_dumpf(o, s->err, JSON_COMPACT);
	fputc('\n', s->err);
	json_decref(o);
}

static void sim_reject(struct sim *s, enum event_reason r, const char *msg)
{
	s->rejected++;
	s->by_reason[r]++;
	sim_report(s, s->lineno, event_reason_code(r), msg);
}

/* The same message whether or not the line fitted in the buffer, so the
 * report does not depend on where a read happened to end. */
static void sim_reject_too_large(struct sim *s)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "line longer than %d bytes",
		 EVENT_MAX_BYTES);
	sim_reject(s, EVENT_ERR_TOO_LARGE, msg);
}

static void sim_count_handoff(struct sim_team *st, const struct team *team,
			      const char *rep_id)
{
	size_t i;

	for (i = 0; i < team->nreps; i++) {
		if (team->reps[i].id == rep_id ||
		    strcmp(team->reps[i].id, rep_id) == 0)
			break;
	}
	st->handoffs++;
	st->rep_handoffs[i]++; /* i == nreps: the overflow queue */
}

static int sim_team_get(struct sim *s, const char *name, size_t *idx)
{
	const struct engine_config *ec = &s->cfg->engine;
	const struct team *team = config_team_find(ec, name);

	if (team == NULL)
		return -1;
	*idx = (size_t)(team - ec->routing.teams);
	if (s->teams[*idx].ts == NULL)
		s->teams[*idx].ts = team_state_new(team);
	return s->teams[*idx].ts != NULL ? 0 : -1;
}

/* Stage 2 for one assign command, from the event on input line `line`:
 * pick the rep and write the handoff. */
static void sim_route(struct sim *s, const struct assign_cmd *cmd,
		      uint64_t line)
{
	const struct engine_config *ec = &s->cfg->engine;
	struct handoff h;
	char errbuf[256];
	size_t idx, len;

	if (cmd->team == NULL || sim_team_get(s, cmd->team, &idx) == -1) {
		s->route_errors++;
		sim_report(s, line, SIM_REASON_ROUTE,
			   "assign command names an unknown team");
		return;
	}
	memset(&h, 0, sizeof(h));
	errbuf[0] = '\0';
	if (route_assign_apply(ec, s->teams[idx].ts, cmd->json, cmd->len, &h,
			       errbuf, sizeof(errbuf)) == -1) {
		s->route_errors++;
		sim_report(s, line, SIM_REASON_ROUTE, errbuf);
		return;
	}
	len = h.len;
	while (len > 0 && h.json[len - 1] == '\n')
		len--; /* one handoff, one line, whatever the builder ends with
			*/
	fwrite(h.json, 1, len, s->out);
	fputc('\n', s->out);
	s->handoffs++;
	sim_count_handoff(&s->teams[idx], &ec->routing.teams[idx], h.rep_id);
	free(h.json);
}

static int sim_is_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	}
	return 1;
}

/* Apply the oldest parsed event of the ring to its lead. */
static void sim_apply_oldest(struct sim *s)
{
	struct event *ev = s->ring[s->ring_head];
	uint64_t h = s->ring_hash[s->ring_head];
	uint64_t line = s->ring_line[s->ring_head];
	struct assign_cmd cmd; /* lead_event_apply clears it */
	struct lead *lead = NULL;

	s->ring_head = (s->ring_head + 1) % SIM_RING;
	s->ring_len--;
	switch (lead_event_apply_hashed(&s->cfg->engine, s->leads, ev, h, &lead,
					&cmd)) {
	case LEAD_DUPLICATE:
		s->duplicates++;
		break;
	case LEAD_UPDATED:
		break;
	case LEAD_QUALIFIED:
		s->mqls++;
		sim_route(s, &cmd, line);
		free(cmd.json);
		break;
	}
}

/* A full ring: the slot of the newest event is on its way (fetched as it
 * was parsed); fetch the lead of the one before it, whose slot came in an
 * event ago, and the ext block of the one before that, next to be
 * applied, whose lead did; then apply the oldest, all of whose lines
 * were asked for events ago. */
static void sim_apply_ahead(struct sim *s)
{
	unsigned lead = (s->ring_head + 2) % SIM_RING;
	unsigned ext = (s->ring_head + 1) % SIM_RING;

	lead_table_prefetch_lead_hashed(s->leads, s->ring[lead]->lead_key,
					s->ring_hash[lead]);
	lead_table_prefetch_ext_hashed(s->leads, s->ring_hash[ext]);
	sim_apply_oldest(s);
}

static void sim_drain(struct sim *s)
{
	while (s->ring_len > 0)
		sim_apply_oldest(s);
}

/* The slot of the ring the next event is parsed into. */
static inline unsigned sim_slot_next(const struct sim *s)
{
	return (s->ring_head + s->ring_len) % SIM_RING;
}

/* Queue the event just parsed into slot, from the current line. */
static void sim_queue(struct sim *s, unsigned slot)
{
	s->accepted++;
	s->ring_hash[slot] = lead_key_hash(s->ring[slot]->lead_key);
	s->ring_line[slot] = s->lineno;
	lead_table_prefetch_hashed(s->leads, s->ring_hash[slot]);
	s->ring_len++;
	if (s->ring_len == SIM_RING)
		sim_apply_ahead(s);
}

static void sim_line(struct sim *s, const char *p, size_t len)
{
	struct event_error err;
	struct event *ev;
	unsigned slot;

	if (len > 0 && p[len - 1] == '\r')
		len--; /* CRLF files from other tools */
	if (len == 0 || ((p[0] == ' ' || p[0] == '\t' || p[0] == '\r') &&
			 sim_is_blank(p, len)))
		return;
	s->events++;
	if (len > EVENT_MAX_BYTES) {
		sim_reject_too_large(s);
		return;
	}
	slot = sim_slot_next(s);
	ev = s->ring[slot];
	/* what a parser that fails without saying why leaves: no reason, no
	 * message (a memset of all 164 bytes cost a rep stos per event) */
	err.reason = EVENT_OK;
	err.msg[0] = '\0';
	if (event_parse(p, len, ev, &err) == -1) {
		sim_reject(s, err.reason, err.msg);
		return;
	}
	sim_queue(s, slot);
}

/*
 * The line at p, of the avail bytes buffered from there, when it is a
 * valid event followed by its newline: returns the line's length, or -1
 * to have it split and read by sim_line, whose verdict on a line this
 * takes is the same. Finding the newline first cost a pass over every
 * line that the parser's own pass makes anyway.
 */
static ptrdiff_t sim_line_fast(struct sim *s, const char *p, size_t avail)
{
	unsigned slot = sim_slot_next(s);
	size_t len;

	if (event_parse_line(p, avail, s->ring[slot], &len) == -1)
		return -1;
	s->lineno++;
	s->events++;
	sim_queue(s, slot);
	return (ptrdiff_t)len;
}

/* Where the reader stands in a line that outgrew SIM_LINE_MAX. */
enum sim_long {
	SIM_LONG_NONE,  /* not in one */
	SIM_LONG_BLANK, /* blank so far: nothing said yet */
	SIM_LONG_SKIP   /* reported as too large; skipped to its newline */
};

/*
 * The part of a long line from beg to end (its newline, or the end of what
 * is buffered): a blank line stays blank however long, and a line that
 * turns out not to be is reported once, when its first non-blank byte is
 * read, so the verdict never depends on where the buffer boundaries fall.
 */
static enum sim_long sim_long_part(struct sim *s, enum sim_long st,
				   const char *p, size_t len)
{
	if (st == SIM_LONG_SKIP || sim_is_blank(p, len))
		return st;
	s->events++; /* the same report as a line that fit gets */
	sim_reject_too_large(s);
	return SIM_LONG_SKIP;
}

/*
 * The first bytes of the input into buf, past a byte order mark: returns
 * how many are kept. Only the very start is looked at, once, so the first
 * event is not rejected as not JSON and the per-line path does not change;
 * a mark anywhere else is part of its line, as in any JSON text.
 */
static size_t sim_bom_skip(char *buf, FILE *in)
{
	size_t n = fread(buf, 1, STRV_BOM_LEN, in);

	if (n == STRV_BOM_LEN && memcmp(buf, STRV_BOM, STRV_BOM_LEN) == 0)
		return 0;
	return n;
}

/*
 * Split the input into lines over one buffer. A line that outgrows
 * SIM_LINE_MAX is reported once and then skipped up to its newline, so the
 * next line is read as if nothing had happened; one of blanks only is
 * skipped as blank, as a short one is.
 */
static int sim_read(struct sim *s, FILE *in)
{
	char *buf = malloc(SIM_BUF_BYTES);
	size_t beg = 0, end = 0, n;
	enum sim_long lng = SIM_LONG_NONE;
	int eof = 0;

	if (buf == NULL)
		return -1;
	end = sim_bom_skip(buf, in);
	for (;;) {
		if (lng == SIM_LONG_NONE && beg < end) {
			ptrdiff_t len = sim_line_fast(s, buf + beg, end - beg);
			if (len >= 0) {
				beg += (size_t)len + 1;
				continue;
			}
		}
		char *nl = memchr(buf + beg, '\n', end - beg);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (buf + beg));

			if (lng == SIM_LONG_NONE) {
				s->lineno++;
				sim_line(s, buf + beg, len);
			} else {
				(void)sim_long_part(s, lng, buf + beg, len);
				lng = SIM_LONG_NONE;
			}
			beg += len + 1;
			continue;
		}
		if (lng == SIM_LONG_NONE && end - beg > SIM_LINE_MAX) {
			s->lineno++;
			lng = SIM_LONG_BLANK;
		}
		if (lng != SIM_LONG_NONE) {
			lng = sim_long_part(s, lng, buf + beg, end - beg);
			beg = end;
		}
		if (eof)
			break;
		sim_drain(s); /* queued events point into buf */
		memmove(buf, buf + beg, end - beg);
		end -= beg;
		beg = 0;
		n = fread(buf + end, 1, SIM_BUF_BYTES - end, in);
		end += n;
		if (n == 0) {
			if (ferror(in))
				break;
			eof = 1;
			if (end > beg && lng == SIM_LONG_NONE) {
				s->lineno++; /* last line without a newline */
				sim_line(s, buf + beg, end - beg);
			}
			beg = end;
		}
	}
	sim_drain(s);
	free(buf);
	return ferror(in) ? -1 : 0;
}

static int sim_count_cmp(const void *a, const void *b)
{
	const struct sim_count *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Teams, or one team's reps (with the overflow queue), sorted by name. */
static size_t sim_team_counts(const struct sim *s, struct sim_count *v)
{
	const struct routing_config *rc = &s->cfg->engine.routing;
	size_t n = 0;

	for (size_t i = 0; i < s->nteams; i++) {
		if (s->teams[i].handoffs > 0)
			v[n++] = (struct sim_count){rc->teams[i].name,
						    s->teams[i].handoffs};
	}
	qsort(v, n, sizeof(*v), sim_count_cmp);
	return n;
}

static size_t sim_rep_counts(const struct sim *s, const char *team_name,
			     struct sim_count *v)
{
	const struct engine_config *ec = &s->cfg->engine;
	const struct team *team = config_team_find(ec, team_name);
	const struct sim_team *st = &s->teams[team - ec->routing.teams];
	size_t n = 0;

	for (size_t i = 0; i <= team->nreps; i++) {
		const char *id = i < team->nreps ? team->reps[i].id
						 : team->overflow_queue;

		if (st->rep_handoffs[i] > 0 && id != NULL)
			v[n++] = (struct sim_count){id, st->rep_handoffs[i]};
	}
	qsort(v, n, sizeof(*v), sim_count_cmp);
	return n;
}

static size_t sim_max_reps(const struct sim *s)
{
	size_t m = 0;

	for (size_t i = 0; i < s->nteams; i++) {
		if (s->cfg->engine.routing.teams[i].nreps > m)
			m = s->cfg->engine.routing.teams[i].nreps;
	}
	return m + 1;
}

/* What the end-of-run pass over the lead table counts: leads
 * disqualified by reason (index 0, none, is the total), and leads never
 * handed off by the first qualification check they fail (lead_qual_check;
 * the LEAD_QUAL_HANDED_OFF slot stays 0). */
struct sim_leads {
	const struct engine_config *cfg;
	uint64_t disq[LEAD_DISQ_COUNT];
	uint64_t held[LEAD_QUAL_COUNT];
	uint64_t held_total;
};

/* The order of the not-handed-off reasons in both summaries: the order of
 * the checks, then a lead that qualifies yet is still in nurture (its
 * assign command could not be built, which valid input does not cause). */
static const enum lead_qual sim_held_order[] = {
	LEAD_QUAL_DISQUALIFIED, LEAD_QUAL_GRADE, LEAD_QUAL_THRESHOLD,
	LEAD_QUAL_TRAIT, LEAD_QUAL_OK};
#define SIM_HELD_N (sizeof(sim_held_order) / sizeof(sim_held_order[0]))

/* Counted once over the table at the end rather than per event, since a
 * lead's reasons come and go as its score and traits change; and the state
 * at the end is the one its last event was judged on, since nothing but
 * an event (no clock, no feedback here) changes a lead. A lead handed off
 * stays so for the run: simulate reads no feedback. */
static void sim_lead_count_cb(const struct lead *l, void *arg)
{
	struct sim_leads *n = arg;
	enum lead_disq d = lead_disq_get(l);
	enum lead_qual q = lead_qual_check(n->cfg, l);

	if (d != LEAD_DISQ_NONE && d < LEAD_DISQ_COUNT) {
		n->disq[d]++;
		n->disq[LEAD_DISQ_NONE]++;
	}
	if (q != LEAD_QUAL_HANDED_OFF && q < LEAD_QUAL_COUNT) {
		n->held[q]++;
		n->held_total++;
	}
}

static void sim_summary_text(const struct sim *s, const struct sim_leads *n,
			     struct sim_count *teams, struct sim_count *reps)
{
	const uint64_t *disq = n->disq;
	FILE *f = s->err;
	size_t nt, nr;

	fprintf(f, "events read: %" PRIu64 "\n", s->events);
	fprintf(f, "accepted: %" PRIu64 "\n", s->accepted);
	fprintf(f, "rejected: %" PRIu64 "\n", s->rejected);
	for (int r = 1; r < EVENT_REASON_COUNT; r++) {
		if (s->by_reason[r] > 0)
			fprintf(f, "  %s: %" PRIu64 "\n",
				event_reason_code((enum event_reason)r),
				s->by_reason[r]);
	}
	fprintf(f, "duplicates: %" PRIu64 "\n", s->duplicates);
	fprintf(f, "leads: %zu\n", lead_table_count(s->leads));
	/* only when some lead hit its trait cap, so the usual summary and
	 * the reviewed ones stay as they were */
	if (lead_table_traits_dropped(s->leads) > 0)
		fprintf(f, "traits dropped: %" PRIu64 "\n",
			lead_table_traits_dropped(s->leads));
	fprintf(f, "disqualified: %" PRIu64 "\n", disq[LEAD_DISQ_NONE]);
	for (int d = 1; d < LEAD_DISQ_COUNT; d++) {
		if (disq[d] > 0)
			fprintf(f, "  %s: %" PRIu64 "\n",
				lead_disq_name((enum lead_disq)d), disq[d]);
	}
	fprintf(f, "mqls: %" PRIu64 "\n", s->mqls);
	fprintf(f, "route errors: %" PRIu64 "\n", s->route_errors);
	fprintf(f, "handoffs: %" PRIu64 "\n", s->handoffs);
	nt = sim_team_counts(s, teams);
	for (size_t i = 0; i < nt; i++) {
		fprintf(f, "  team %s: %" PRIu64 "\n", teams[i].name,
			teams[i].n);
		nr = sim_rep_counts(s, teams[i].name, reps);
		for (size_t j = 0; j < nr; j++)
			fprintf(f, "    rep %s: %" PRIu64 "\n", reps[j].name,
				reps[j].n);
	}
	fprintf(f, "not handed off: %" PRIu64 "\n", n->held_total);
	for (size_t i = 0; i < SIM_HELD_N; i++) {
		enum lead_qual q = sim_held_order[i];
		if (n->held[q] > 0)
			fprintf(f, "  %s: %" PRIu64 "\n", lead_qual_name(q),
				n->held[q]);
	}
}

static json_t *sim_summary_teams(const struct sim *s, struct sim_count *teams,
				 struct sim_count *reps)
{
	json_t *o = json_object();
	size_t nt = sim_team_counts(s, teams);

	for (size_t i = 0; i < nt; i++) {
		json_t *r = json_object();
		size_t nr = sim_rep_counts(s, teams[i].name, reps);

		for (size_t j = 0; j < nr; j++)
			json_object_set_new(
				r, reps[j].name,
				json_integer((json_int_t)reps[j].n));
		json_object_set_new(o, teams[i].name,
				    json_pack("{s:I,s:o}", "handoffs",
					      (json_int_t)teams[i].n, "reps",
					      r));
	}
	return o;
}

/* Reasons with no lead left out, as for the disqualified. */
static json_t *sim_summary_held(const struct sim_leads *n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < SIM_HELD_N; i++) {
		enum lead_qual q = sim_held_order[i];
		if (n->held[q] > 0)
			json_object_set_new(
				o, lead_qual_name(q),
				json_integer((json_int_t)n->held[q]));
	}
	return o;
}

static void sim_summary_json(const struct sim *s, const struct sim_leads *n,
			     struct sim_count *teams, struct sim_count *reps)
{
	const uint64_t *disq = n->disq;
	json_t *why = json_object(), *dwhy = json_object();
	json_t *o;

	for (int r = 1; r < EVENT_REASON_COUNT; r++) {
		if (s->by_reason[r] > 0)
			json_object_set_new(
				why, event_reason_code((enum event_reason)r),
				json_integer((json_int_t)s->by_reason[r]));
	}
	for (int d = 1; d < LEAD_DISQ_COUNT; d++) {
		if (disq[d] > 0)
			json_object_set_new(dwhy,
					    lead_disq_name((enum lead_disq)d),
					    json_integer((json_int_t)disq[d]));
	}
	/* events, leads and lead_table_bytes stay first and in this order:
	 * bench/bench_simulate.sh reads them; keys added later go last */
	o = json_pack(
		"{s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:o,s:I,s:o}",
		"events", (json_int_t)s->events, "accepted",
		(json_int_t)s->accepted, "rejected", (json_int_t)s->rejected,
		"rejected_by_reason", why, "duplicates",
		(json_int_t)s->duplicates, "leads",
		(json_int_t)lead_table_count(s->leads), "lead_table_bytes",
		(json_int_t)lead_table_bytes(s->leads), "disqualified",
		(json_int_t)disq[LEAD_DISQ_NONE], "disqualified_by_reason",
		dwhy, "mqls", (json_int_t)s->mqls, "route_errors",
		(json_int_t)s->route_errors, "handoffs",
		(json_int_t)s->handoffs, "teams",
		sim_summary_teams(s, teams, reps), "not_handed_off",
		(json_int_t)n->held_total, "not_handed_off_by_reason",
		sim_summary_held(n));
	if (o == NULL)
		return;
	if (lead_table_traits_dropped(s->leads) > 0)
		json_object_set_new(
			o, "traits_dropped",
			json_integer((json_int_t)lead_table_traits_dropped(
				s->leads)));
	json_dumpf(o, s->err, JSON_COMPACT);
	fputc('\n', s->err);
	json_decref(o);
}

static int sim_summary(const struct sim *s, bool as_json)
{
	struct sim_count *teams = calloc(s->nteams + 1, sizeof(*teams));
	struct sim_count *reps = calloc(sim_max_reps(s), sizeof(*reps));
	struct sim_leads n = {.cfg = &s->cfg->engine};

	if (teams == NULL || reps == NULL) {
		free(teams);
		free(reps);
		return -1;
	}
	lead_table_foreach(s->leads, sim_lead_count_cb, &n);
	if (as_json)
		sim_summary_json(s, &n, teams, reps);
	else
		sim_summary_text(s, &n, teams, reps);
	free(teams);
	free(reps);
	return 0;
}

int simulate_run(const struct config *cfg, FILE *in, FILE *out, FILE *err,
		 const struct simulate_opts *opts)
{
	struct sim s;
	int rc = 1;

	/* Big buffers: one write per megabyte, not per handoff or report. */
	setvbuf(out, NULL, _IOFBF, SIM_OUT_BYTES);
	setvbuf(err, NULL, _IOFBF, 64 * 1024);
	if (sim_init(&s, cfg, out, err) == -1) {
		log_warnx("simulate: out of memory");
		goto done;
	}
	if (sim_read(&s, in) == -1) {
		log_warn("simulate: reading input");
		goto done;
	}
	if (fflush(out) == EOF || ferror(out)) {
		log_warn("simulate: writing handoffs");
		goto done;
	}
	if (sim_summary(&s, opts->summary_json) == -1)
		goto done;
	rc = 0;
done:
	fflush(err);
	sim_fini(&s);
	return rc;
}
