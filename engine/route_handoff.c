/*
 * route_handoff.c - stage 2 entry point: take an assign command built by
 * stage 1, route it with route_choose at the lead's qualification time and
 * build the handoff record published on the rep's queue.
 *
 * This is a cold path (one call per qualified lead), so it uses a jansson
 * DOM. The handoff keeps every field of the command except "kind", in the
 * command's order, followed by the routing fields, and is dumped with
 * JSON_PRESERVE_ORDER so the same command always gives the same bytes.
 *
 * A lead key is whatever the event sent, "\u0000" included, so the command
 * is read with JSON_ALLOW_NUL and the key is handled by its length; the
 * fields that are names from the config (kind, team) or stage 1's own text
 * (qualified_at) are refused if they hold a NUL, which strcmp would cut.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xxhash.h>

#include "iso_time.h"
#include "route_state.h"

/* The fields of an assign command that routing needs; they point into the
 * parsed command. */
struct assign_fields {
	struct strv lead;
	json_int_t cycle;
	const char *team;
	const char *qualified_at;
	json_int_t qualified_at_ms;
	struct strv email_domain;
	struct strv group_id;
	json_t *territory;
};

static int route_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int route_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A string field that may be absent or null; anything else is an error. */
static int route_opt_string(json_t *cmd, const char *key, struct strv *out)
{
	json_t *v = json_object_get(cmd, key);

	*out = STRV_NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = (struct strv){json_string_value(v), json_string_length(v)};
	return 0;
}

/* A non-empty string field, any bytes; false if absent or not one. */
static bool route_req_strv(json_t *cmd, const char *key, struct strv *out)
{
	json_t *v = json_object_get(cmd, key);

	if (!json_is_string(v) || json_string_length(v) == 0)
		return false;
	*out = (struct strv){json_string_value(v), json_string_length(v)};
	return true;
}

/* A non-empty string field used as a C string: one with a NUL inside is
 * refused, so "emea\u0000x" never matches the team "emea". */
static const char *route_req_string(json_t *cmd, const char *key)
{
	struct strv s;

	if (!route_req_strv(cmd, key, &s) || memchr(s.p, '\0', s.len))
		return NULL;
	return s.p;
}

static int route_req_integer(json_t *cmd, const char *key, json_int_t *out)
{
	json_t *v = json_object_get(cmd, key);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int assign_fields_read(json_t *cmd, struct assign_fields *f, char *err,
			      size_t errlen)
{
	const char *kind = route_req_string(cmd, "kind");

	if (!kind || strcmp(kind, "assign") != 0)
		return route_fail(err, errlen, "kind is not \"assign\"");
	if (!route_req_strv(cmd, "lead", &f->lead))
		return route_fail(err, errlen, "lead: missing or not a string");
	if (route_req_integer(cmd, "cycle", &f->cycle) || f->cycle < 0)
		return route_fail(err, errlen,
				  "cycle: missing or not an "
				  "integer >= 0");
	if (!(f->team = route_req_string(cmd, "team")))
		return route_fail(err, errlen,
				  "team: missing, not a string or "
				  "with a NUL");
	if (!(f->qualified_at = route_req_string(cmd, "qualified_at")))
		return route_fail(err, errlen,
				  "qualified_at: missing, not a "
				  "string or with a NUL");
	if (route_req_integer(cmd, "qualified_at_ms", &f->qualified_at_ms))
		return route_fail(err, errlen,
				  "qualified_at_ms: missing or "
				  "not an integer");
	if (route_opt_string(cmd, "email_domain", &f->email_domain))
		return route_fail(err, errlen, "email_domain: not a string");
	if (route_opt_string(cmd, "group_id", &f->group_id))
		return route_fail(err, errlen, "group_id: not a string");
	f->territory = json_object_get(cmd, "territory");
	return 0;
}

static const struct team *route_team_find(const struct engine_config *cfg,
					  const char *name)
{
	for (size_t i = 0; i < cfg->routing.nteams; i++)
		if (strcmp(cfg->routing.teams[i].name, name) == 0)
			return &cfg->routing.teams[i];
	return NULL;
}

/* The hash part and its '-': what one lead's cycle shares across attempts. */
#define ROUTE_HANDOFF_CYCLE_LEN 17

bool route_handoff_id_valid(struct strv id)
{
	size_t i;

	if (id.len <= ROUTE_HANDOFF_CYCLE_LEN ||
	    id.p[ROUTE_HANDOFF_CYCLE_LEN - 1] != '-')
		return false;
	for (i = 0; i < ROUTE_HANDOFF_CYCLE_LEN - 1; i++)
		if (!((id.p[i] >= '0' && id.p[i] <= '9') ||
		      (id.p[i] >= 'a' && id.p[i] <= 'f')))
			return false;
	for (i = ROUTE_HANDOFF_CYCLE_LEN; i < id.len; i++)
		if (id.p[i] < '0' || id.p[i] > '9')
			return false;
	return true;
}

bool route_handoff_id_same_cycle(struct strv a, struct strv b)
{
	return a.len > ROUTE_HANDOFF_CYCLE_LEN &&
	       b.len > ROUTE_HANDOFF_CYCLE_LEN &&
	       memcmp(a.p, b.p, ROUTE_HANDOFF_CYCLE_LEN) == 0;
}

int route_handoff_id_make(struct strv lead, int64_t cycle, unsigned attempt,
			  char *out, size_t outlen)
{
	char small[256], *buf = small;
	size_t klen = lead.len, need = klen + 32;
	int n;

	/* Lead keys have no length bound; most fit on the stack. */
	if (need > sizeof(small) && !(buf = malloc(need)))
		return -1;
	memcpy(buf, lead.p, klen);
	n = snprintf(buf + klen, need - klen, "\n%" PRId64, cycle);
	snprintf(out, outlen, "%016" PRIx64 "-%u",
		 (uint64_t)XXH3_64bits(buf, klen + (size_t)n), attempt);
	if (buf != small)
		free(buf);
	return 0;
}

static json_t *route_time_json(int64_t ms)
{
	char buf[80];

	return iso_time_format(ms, buf, sizeof(buf)) ? json_string(buf)
						     : json_null();
}

/* The deadline, or null without an SLA. One past the last time RFC 3339
 * can write (an event near the end of 9999) is written as that time:
 * still a valid time, and no earlier than the real deadline. */
static json_t *route_sla_json(int64_t at_ms, int64_t sla_ms)
{
	if (sla_ms <= 0)
		return json_null();
	if (at_ms > ISO_TIME_MAX_MS - sla_ms)
		return route_time_json(ISO_TIME_MAX_MS);
	return route_time_json(at_ms + sla_ms);
}

const char *route_strategy_name(enum route_strategy s)
{
	switch (s) {
	case ROUTE_NAMED_ACCOUNT:
		return "named_account";
	case ROUTE_WEIGHTED_ROUND_ROBIN:
		return "weighted_round_robin";
	case ROUTE_OVERFLOW:
		return "overflow";
	}
	return "unknown";
}

static json_t *route_routing_json(const struct assign_fields *f,
				  const struct route_decision *d)
{
	json_t *r = json_object();

	json_object_set_new(r, "team", json_string(d->team->name));
	json_object_set(r, "territory",
			f->territory ? f->territory : json_null());
	json_object_set_new(r, "strategy",
			    json_string(route_strategy_name(d->strategy)));
	json_object_set_new(r, "reason", json_string(d->reason));
	return r;
}

static json_t *route_handoff_json(json_t *cmd, const struct assign_fields *f,
				  const struct route_decision *d,
				  const char *handoff_id)
{
	json_t *h = json_object();
	const char *key;
	json_t *v;

	json_object_set_new(h, "handoff_id", json_string(handoff_id));
	json_object_set_new(h, "attempt", json_integer(1));
	json_object_foreach(cmd, key, v)
	{
		if (strcmp(key, "kind") != 0)
			json_object_set(h, key, v);
	}
	json_object_set_new(h, "rep",
			    d->rep_id ? json_string(d->rep_id) : json_null());
	json_object_set_new(h, "routing", route_routing_json(f, d));
	json_object_set_new(h, "handed_off_at", json_string(f->qualified_at));
	json_object_set_new(
		h, "sla_deadline",
		route_sla_json(f->qualified_at_ms, d->team->sla_ms));
	return h;
}

static int route_handoff_fill(json_t *h, const struct route_decision *d,
			      const char *handoff_id, struct handoff *out,
			      char *err, size_t errlen)
{
	/* Stage 1 writes reals with 15 digits; 17 would turn 73.45 into
	 * 73.450000000000003. */
	char *s = json_dumps(h, JSON_PRESERVE_ORDER | JSON_COMPACT |
					JSON_REAL_PRECISION(15));

	if (!s)
		return route_fail(err, errlen, "out of memory");
	memset(out, 0, sizeof(*out));
	out->json = s;
	out->len = strlen(s);
	out->team = d->team->name;
	out->rep_id = d->rep_id;
	out->strategy = d->strategy;
	snprintf(out->handoff_id, sizeof(out->handoff_id), "%s", handoff_id);
	return 0;
}

int route_assign_apply(const struct engine_config *cfg, struct team_state *ts,
		       const char *cmd_json, size_t len, struct handoff *out,
		       char *err, size_t errlen)
{
	struct assign_fields f = {0};
	struct route_decision d;
	const struct team *team;
	char handoff_id[48];
	json_error_t jerr;
	json_t *cmd, *h = NULL;
	int rc = -1;

	cmd = json_loadb(cmd_json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			 &jerr);
	if (!cmd)
		return route_fail(err, errlen,
				  "assign command: invalid JSON "
				  "at offset %d",
				  jerr.position);
	if (!json_is_object(cmd)) {
		route_fail(err, errlen, "assign command: not an object");
		goto done;
	}
	if (assign_fields_read(cmd, &f, err, errlen))
		goto done;
	if (!(team = route_team_find(cfg, f.team))) {
		route_fail(err, errlen, "assign command: unknown team");
		goto done;
	}
	if (strcmp(ts->team, team->name) != 0) {
		route_fail(err, errlen,
			   "assign command: team state belongs "
			   "to another team");
		goto done;
	}
	/* The id is computed before routing so that a failure here leaves
	 * the state untouched. */
	if (route_handoff_id_make(f.lead, (int64_t)f.cycle, 1, handoff_id,
				  sizeof(handoff_id))) {
		route_fail(err, errlen, "out of memory");
		goto done;
	}
	route_choose(team, ts, f.email_domain, f.group_id, f.qualified_at_ms,
		     &d);
	h = route_handoff_json(cmd, &f, &d, handoff_id);
	rc = route_handoff_fill(h, &d, handoff_id, out, err, errlen);
done:
	json_decref(h);
	json_decref(cmd);
	return rc;
}
