/*
 * route.c - stage 2 decisions: is a rep available at an instant, and which
 * rep of a team gets a lead (named-account owner, else smooth weighted round
 * robin under capacity caps, else the team's overflow queue).
 *
 * Every decision is a function of the config, the team_state and the lead's
 * qualification time, never of the wall clock, so replaying the assign
 * topic reproduces the same handoffs.
 *
 * Working hours: a day's shift is [start_min, end_min) in the rep's local
 * time; start == end means the day is off. Overnight shifts (end < start)
 * are not supported and count as off; the config loader rejects them. Local
 * time comes from the rep's GTimeZone looked up by UTC instant, so it is
 * right on both sides of a DST change.
 *
 * Daily caps: a rep's slot keeps one (day, count) pair for the latest local
 * day it was handed a lead; a lead dated before that day counts against it
 * (route_slot_day), so a late event never resets the count.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sys/types.h>

#include <glib.h>

#include "cond.h"
#include "route_state.h"

/* Why a rep cannot take a lead now, in the order they are checked. */
enum rep_block {
	REP_OK,
	REP_PAUSED,
	REP_OUT_OF_OFFICE,
	REP_OUTSIDE_HOURS,
	REP_DAILY_CAP,
	REP_MAX_OPEN,
	REP_NO_WEIGHT,
	REP_BLOCK_COUNT,
};

static const char *const rep_block_text[REP_BLOCK_COUNT] = {
	[REP_OK] = "available",
	[REP_PAUSED] = "paused",
	[REP_OUT_OF_OFFICE] = "out of office",
	[REP_OUTSIDE_HOURS] = "outside working hours",
	[REP_DAILY_CAP] = "at daily cap",
	[REP_MAX_OPEN] = "at max open leads",
	[REP_NO_WEIGHT] = "weight 0",
};

#define SECS_PER_DAY 86400

static int64_t route_div_floor(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool route_tzc_valid(const struct tz_cache *c, const GTimeZone *tz)
{
	const char *name;

	if (c->tz != tz)
		return false;
	name = g_time_zone_get_identifier((GTimeZone *)tz);
	return strcmp(c->tz_name, name) == 0;
}

/* Widen [lo, hi] by a day in the direction time is moving, when the zone
 * is still in the same interval there, so a day of leads needs one or two
 * lookups. */
static void route_tzc_probe(struct tz_cache *c, GTimeZone *tz, int64_t secs,
			    bool forward)
{
	int64_t probe;

	if (forward ? secs > INT64_MAX - SECS_PER_DAY
		    : secs < INT64_MIN + SECS_PER_DAY)
		return;
	probe = forward ? secs + SECS_PER_DAY : secs - SECS_PER_DAY;
	if (g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, probe) !=
	    c->interval)
		return;
	if (forward)
		c->hi = probe;
	else
		c->lo = probe;
}

/* Offsets come from one interval over [lo, hi]; intervals are ordered in
 * time, so finding the cached interval again at a new instant proves every
 * instant in between is in it too. */
static int32_t route_tzc_offset(struct tz_cache *c, GTimeZone *tz, int64_t secs)
{
	gint iv;

	if (route_tzc_valid(c, tz) && secs >= c->lo && secs <= c->hi)
		return c->offset;
	iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, secs);
	if (route_tzc_valid(c, tz) && iv == c->interval) {
		bool forward = secs > c->hi;

		c->lo = secs < c->lo ? secs : c->lo;
		c->hi = secs > c->hi ? secs : c->hi;
		route_tzc_probe(c, tz, secs, forward);
		return c->offset;
	}
	c->tz = NULL;
	if (snprintf(c->tz_name, sizeof(c->tz_name), "%s",
		     g_time_zone_get_identifier(tz)) >= (int)sizeof(c->tz_name))
		return g_time_zone_get_offset(tz, iv); /* no caching */
	c->tz = tz;
	c->interval = iv;
	c->offset = g_time_zone_get_offset(tz, iv);
	c->lo = c->hi = secs;
	route_tzc_probe(c, tz, secs, true);
	return c->offset;
}

/* Seconds since the epoch as the rep's wall clock reads them. */
static int64_t route_rep_local_secs(const struct rep *rep, struct rep_slot *s,
				    int64_t ts_ms)
{
	int64_t secs = route_div_floor(ts_ms, 1000);
	gint iv;

	if (!rep->tz)
		return secs;
	if (s)
		return secs + route_tzc_offset(&s->tzc, rep->tz, secs);
	iv = g_time_zone_find_interval(rep->tz, G_TIME_TYPE_UNIVERSAL, secs);
	if (iv < 0)
		return secs;
	return secs + g_time_zone_get_offset(rep->tz, iv);
}

int64_t route_rep_local_day(const struct rep *rep, struct rep_slot *s,
			    int64_t ts_ms)
{
	return route_div_floor(route_rep_local_secs(rep, s, ts_ms),
			       SECS_PER_DAY);
}

static bool route_rep_in_hours(const struct rep *rep, struct rep_slot *s,
			       int64_t ts_ms)
{
	int64_t local = route_rep_local_secs(rep, s, ts_ms);
	int64_t day = route_div_floor(local, SECS_PER_DAY);
	/* 1970-01-01 was a Thursday: index 3 when Monday is 0. */
	int weekday = (int)(((day + 3) % 7 + 7) % 7);
	int64_t minute = (local - day * SECS_PER_DAY) / 60;
	const struct rep_hours *h = &rep->hours[weekday];

	return h->start_min < h->end_min && minute >= h->start_min &&
	       minute < h->end_min;
}

static enum rep_block route_rep_presence(const struct rep *rep,
					 struct rep_slot *s, int64_t ts_ms)
{
	if (rep->paused)
		return REP_PAUSED;
	for (size_t i = 0; i < rep->nooo; i++)
		if (ts_ms >= rep->ooo[i].from_ms && ts_ms < rep->ooo[i].to_ms)
			return REP_OUT_OF_OFFICE;
	if (rep->has_hours && !route_rep_in_hours(rep, s, ts_ms))
		return REP_OUTSIDE_HOURS;
	return REP_OK;
}

bool route_rep_available(const struct rep *rep, int64_t ts_ms, const char **why)
{
	enum rep_block b = route_rep_presence(rep, NULL, ts_ms);

	if (why)
		*why = b == REP_OK ? NULL : rep_block_text[b];
	return b == REP_OK;
}

/*
 * The rep's local day a handoff at ts_ms counts against: its own day, or
 * the slot's stored (latest) day when the lead is dated before it. Late
 * leads are normal (offline mobile batches, commands merged from several
 * partitions); counting them on the latest day the slot has reached, rather
 * than resetting the count to their own day, means no day ever gets more
 * than daily_cap, whatever the arrival order, with one (day, count) pair.
 */
static int64_t route_slot_day(const struct rep *rep, struct rep_slot *s,
			      int64_t ts_ms)
{
	int64_t day = route_rep_local_day(rep, s, ts_ms);

	return day > s->day ? day : s->day;
}

/* Handoffs already counted on the day a handoff at ts_ms counts against. */
static uint32_t route_slot_today(const struct rep *rep, struct rep_slot *s,
				 int64_t ts_ms)
{
	return route_slot_day(rep, s, ts_ms) == s->day ? s->day_count : 0;
}

static enum rep_block route_rep_block(const struct rep *rep, struct rep_slot *s,
				      int64_t ts_ms)
{
	enum rep_block b = route_rep_presence(rep, s, ts_ms);

	if (b != REP_OK)
		return b;
	if (rep->daily_cap && route_slot_today(rep, s, ts_ms) >= rep->daily_cap)
		return REP_DAILY_CAP;
	if (rep->max_open && s->open >= rep->max_open)
		return REP_MAX_OPEN;
	return REP_OK;
}

/* Give every rep of the team a slot up front, so that slot pointers stay
 * valid for the whole decision (adding a slot may move the array). */
static int route_state_sync(const struct team *team, struct team_state *ts)
{
	for (size_t i = 0; i < team->nreps; i++)
		if (!team_state_slot_get(ts, team->reps[i].id, i))
			return -1;
	return 0;
}

static struct rep_slot *route_slot(const struct team *team,
				   struct team_state *ts, size_t i)
{
	return team_state_slot_find(ts, team->reps[i].id, i);
}

static void route_slot_handoff(const struct rep *rep, struct team_state *ts,
			       struct rep_slot *s, int64_t ts_ms)
{
	int64_t today = route_slot_day(rep, s, ts_ms);

	if (s->day != today) {
		s->day = today;
		s->day_count = 0;
	}
	s->day_count++;
	s->open++;
	s->total++;
	ts->handoffs++;
}

static bool route_rep_owns(const struct rep *rep, struct strv domain,
			   struct strv group)
{
	for (size_t i = 0; i < rep->naccounts; i++) {
		if (!strv_empty(domain) &&
		    strv_eq_nocase(domain, rep->accounts[i]))
			return true;
		if (!strv_empty(group) &&
		    strv_eq_nocase(group, rep->accounts[i]))
			return true;
	}
	return false;
}

/* How a named-account owner was found, for the reason. */
enum route_owned_by { OWNED_BY_GROUP, OWNED_BY_DOMAIN, OWNED_BY_PARENT };

/*
 * The rep owning the lead's account: the first (config order) to list its
 * e-mail domain or groupId; else the first to list a parent of the domain,
 * the nearest first, since companies mail from regional and departmental
 * subdomains ("acme.com" owns "eu.acme.com" unless a rep owns
 * "eu.acme.com" itself). A parent without a dot ("com") owns nothing.
 */
static ssize_t route_owner_find(const struct team *team, struct strv domain,
				struct strv group, enum route_owned_by *by)
{
	for (size_t i = 0; i < team->nreps; i++) {
		if (route_rep_owns(&team->reps[i], domain, group)) {
			*by = route_rep_owns(&team->reps[i], domain, STRV_NULL)
				      ? OWNED_BY_DOMAIN
				      : OWNED_BY_GROUP;
			return (ssize_t)i;
		}
	}
	*by = OWNED_BY_PARENT;
	while (cond_domain_parent(&domain)) {
		for (size_t i = 0; i < team->nreps; i++)
			if (route_rep_owns(&team->reps[i], domain, STRV_NULL))
				return (ssize_t)i;
	}
	return -1;
}

static void route_decide(struct route_decision *d, const struct team *team,
			 const struct rep *rep, enum route_strategy strategy)
{
	d->team = team;
	d->rep = rep;
	d->rep_id = rep ? rep->id : team->overflow_queue;
	d->strategy = strategy;
}

/* Appends to d->reason; truncation is acceptable for an explanation. */
static void route_reason_add(struct route_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void route_reason_add(struct route_decision *d, const char *fmt, ...)
{
	size_t used = strlen(d->reason);
	va_list ap;

	if (used + 1 >= sizeof(d->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(d->reason + used, sizeof(d->reason) - used, fmt, ap);
	va_end(ap);
}

static void route_overflow(struct route_decision *d, const struct team *team,
			   const size_t counts[REP_BLOCK_COUNT])
{
	const char *sep = "";

	route_decide(d, team, NULL, ROUTE_OVERFLOW);
	if (team->nreps == 0) {
		route_reason_add(d, "no rep available: team has no reps");
		return;
	}
	route_reason_add(d, "no rep available:");
	for (int b = REP_OK + 1; b < REP_BLOCK_COUNT; b++) {
		if (!counts[b])
			continue;
		route_reason_add(d, "%s %zu %s", sep, counts[b],
				 rep_block_text[b]);
		sep = ",";
	}
}

/* nginx's smooth weighted round robin over the reps that can take a lead:
 * each eligible rep gains its weight, the highest current weight wins (first
 * in config order on a tie) and pays back the eligible total. */
static void route_round_robin(const struct team *team, struct team_state *ts,
			      int64_t ts_ms, struct route_decision *d)
{
	size_t counts[REP_BLOCK_COUNT] = {0};
	struct rep_slot *best = NULL;
	size_t best_i = 0;
	int64_t total = 0;

	for (size_t i = 0; i < team->nreps; i++) {
		const struct rep *rep = &team->reps[i];
		struct rep_slot *s = route_slot(team, ts, i);
		enum rep_block b = route_rep_block(rep, s, ts_ms);

		if (b == REP_OK && rep->weight == 0)
			b = REP_NO_WEIGHT;
		counts[b]++;
		if (b != REP_OK)
			continue;
		s->current_weight += rep->weight;
		total += rep->weight;
		if (!best || s->current_weight > best->current_weight) {
			best = s;
			best_i = i;
		}
	}
	if (!best) {
		route_overflow(d, team, counts);
		return;
	}
	best->current_weight -= total;
	route_slot_handoff(&team->reps[best_i], ts, best, ts_ms);
	route_decide(d, team, &team->reps[best_i], ROUTE_WEIGHTED_ROUND_ROBIN);
	route_reason_add(d, "weighted round robin among %zu available",
			 counts[REP_OK]);
}

/* The named-account owner takes the lead when it can; otherwise the reason
 * keeps why it was skipped. Returns true when the owner was chosen. */
static bool route_named_account(const struct team *team, struct team_state *ts,
				struct strv domain, struct strv group,
				int64_t ts_ms, struct route_decision *d)
{
	static const char *const by_text[] = {"groupId", "email domain",
					      "parent email domain"};
	enum route_owned_by by;
	ssize_t i = route_owner_find(team, domain, group, &by);
	const struct rep *rep;
	struct rep_slot *s;
	enum rep_block b;

	if (i < 0)
		return false;
	rep = &team->reps[i];
	s = route_slot(team, ts, (size_t)i);
	b = route_rep_block(rep, s, ts_ms);
	if (b != REP_OK) {
		route_reason_add(d, "owner %s %s; ", rep->id,
				 rep_block_text[b]);
		return false;
	}
	route_slot_handoff(rep, ts, s, ts_ms);
	route_decide(d, team, rep, ROUTE_NAMED_ACCOUNT);
	route_reason_add(d, "named account owner %s (%s)", rep->id,
			 by_text[by]);
	return true;
}

void route_choose(const struct team *team, struct team_state *ts,
		  struct strv email_domain, struct strv group_id, int64_t ts_ms,
		  struct route_decision *d)
{
	memset(d, 0, sizeof(*d));
	ts->seq++;
	if (route_state_sync(team, ts)) {
		route_decide(d, team, NULL, ROUTE_OVERFLOW);
		route_reason_add(d, "out of memory");
		return;
	}
	if (route_named_account(team, ts, email_domain, group_id, ts_ms, d))
		return;
	route_round_robin(team, ts, ts_ms, d);
}
