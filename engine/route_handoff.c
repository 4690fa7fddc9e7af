/*
 * route_handoff.c - stage 2 entry point: take an assign command built by
 * stage 1, route it with route_choose at the lead's qualification time and
 * build the handoff record published on the rep's queue.
 *
 * The handoff keeps every field of the command except "kind", in the
 * command's order, followed by the routing fields, as jansson dumps it
 * (JSON_PRESERVE_ORDER, compact, reals with 15 digits), so the same
 * command always gives the same bytes.
 *
 * A command as stage 1 writes it is in jansson's compact form, and
 * jtext_object_scan reads it without a DOM: the handoff is then written
 * with the command's members copied as text, which is what loading and
 * dumping them gives (the DOM cost some 400,000 instructions a lead). Any
 * other text, and every invalid one, goes through json_loadb as before
 * (route_assign_apply_dom), so its errors are unchanged; both paths share
 * the routing itself (route_assign_route).
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
#include "jtext.h"
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
					  struct strv name)
{
	for (size_t i = 0; i < cfg->routing.nteams; i++) {
		const char *t = cfg->routing.teams[i].name;
		if (strlen(t) == name.len && !memcmp(t, name.p, name.len))
			return &cfg->routing.teams[i];
	}
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

static int route_handoff_fill(char *s, size_t len,
			      const struct route_decision *d,
			      const char *handoff_id, struct handoff *out)
{
	memset(out, 0, sizeof(*out));
	out->json = s;
	out->len = len;
	out->team = d->team->name;
	out->rep_id = d->rep_id;
	out->strategy = d->strategy;
	snprintf(out->handoff_id, sizeof(out->handoff_id), "%s", handoff_id);
	return 0;
}

/* The handoff of a command through the DOM. */
static int route_handoff_dump(json_t *cmd, const struct assign_fields *f,
			      const struct route_decision *d,
			      const char *handoff_id, struct handoff *out,
			      char *err, size_t errlen)
{
	json_t *h = route_handoff_json(cmd, f, d, handoff_id);
	/* Stage 1 writes reals with 15 digits; 17 would turn 73.45 into
	 * 73.450000000000003. */
	char *s = json_dumps(h, JSON_PRESERVE_ORDER | JSON_COMPACT |
					JSON_REAL_PRECISION(15));

	json_decref(h);
	if (!s)
		return route_fail(err, errlen, "out of memory");
	return route_handoff_fill(s, strlen(s), d, handoff_id, out);
}

/* What both paths share once the fields are read: the team, the handoff
 * id and the routing decision. */
static int route_assign_route(const struct engine_config *cfg,
			      struct team_state *ts, struct strv team_name,
			      struct strv lead, int64_t cycle,
			      struct strv email_domain, struct strv group_id,
			      int64_t at_ms, char handoff_id[48],
			      struct route_decision *d, char *err,
			      size_t errlen)
{
	const struct team *team = route_team_find(cfg, team_name);

	if (!team)
		return route_fail(err, errlen, "assign command: unknown team");
	if (strcmp(ts->team, team->name) != 0)
		return route_fail(err, errlen,
				  "assign command: team state belongs "
				  "to another team");
	/* The id is computed before routing so that a failure here leaves
	 * the state untouched. */
	if (route_handoff_id_make(lead, cycle, 1, handoff_id, 48))
		return route_fail(err, errlen, "out of memory");
	route_choose(team, ts, email_domain, group_id, at_ms, d);
	return 0;
}

/* The command through jansson: what route_assign_apply does with a text
 * jtext_object_scan refuses, invalid ones included, so their errors are
 * jansson's and assign_fields_read's. */
static int route_assign_apply_dom(const struct engine_config *cfg,
				  struct team_state *ts, const char *cmd_json,
				  size_t len, struct handoff *out, char *err,
				  size_t errlen)
{
	struct assign_fields f = {0};
	struct route_decision d;
	char handoff_id[48];
	json_error_t jerr;
	json_t *cmd;
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
	if (assign_fields_read(cmd, &f, err, errlen) ||
	    route_assign_route(cfg, ts, strv_from(f.team), f.lead,
			       (int64_t)f.cycle, f.email_domain, f.group_id,
			       f.qualified_at_ms, handoff_id, &d, err, errlen))
		goto done;
	rc = route_handoff_dump(cmd, &f, &d, handoff_id, out, err, errlen);
done:
	json_decref(cmd);
	return rc;
}

/* The fields of a command in jansson's compact form, read from its text;
 * strings are the raw text between the quotes, so one with an escape is
 * left to the DOM path (the lead, team, e-mail domain and group of real
 * commands seldom have one). */
struct assign_text {
	struct jtext_member m[JTEXT_MEMBERS_MAX];
	int n;
	struct strv lead, team, qualified_at, email_domain, group_id;
	struct strv territory; /* the value's text; p NULL when absent */
	int64_t cycle, qualified_at_ms;
};

#define KEY(lit) "\"" lit "\""

/* The keys the handoff writes itself. json_object_set would put the
 * command's value of one at the command's place and then overwrite it: a
 * command with one is left to the DOM path. */
static bool assign_text_key_reserved(struct strv k)
{
	return strv_eq(k, KEY("handoff_id")) || strv_eq(k, KEY("attempt")) ||
	       strv_eq(k, KEY("rep")) || strv_eq(k, KEY("routing")) ||
	       strv_eq(k, KEY("handed_off_at")) ||
	       strv_eq(k, KEY("sla_deadline"));
}

static bool assign_text_str(const struct jtext_member *m, struct strv *out)
{
	return m->type == JTEXT_STRING && jtext_plain_string(m->val, out);
}

/* email_domain and group_id: a string, null or absent. */
static bool assign_text_opt_str(const struct jtext_member *m, struct strv *out)
{
	if (m->type == JTEXT_NULL) {
		*out = STRV_NULL;
		return true;
	}
	return assign_text_str(m, out);
}

static bool assign_text_int(const struct jtext_member *m, int64_t *out)
{
	if (m->type != JTEXT_INTEGER)
		return false;
	*out = jtext_int_value(m->val);
	return true;
}

/* The members a command must have, as bits of assign_text_read's mask. */
enum {
	ASSIGN_KIND = 1,
	ASSIGN_LEAD = 2,
	ASSIGN_CYCLE = 4,
	ASSIGN_TEAM = 8,
	ASSIGN_AT = 16,
	ASSIGN_AT_MS = 32,
	ASSIGN_REQUIRED = 63,
};

/* A required member: marks it seen and says whether it is as it must be
 * (see assign_fields_read). */
static bool assign_text_required(const struct jtext_member *m,
				 struct assign_text *t, unsigned *seen)
{
	struct strv k = m->key;

	if (strv_eq(k, KEY("kind"))) {
		*seen |= ASSIGN_KIND;
		return strv_eq(m->val, KEY("assign"));
	}
	if (strv_eq(k, KEY("lead"))) {
		*seen |= ASSIGN_LEAD;
		return assign_text_str(m, &t->lead) && t->lead.len > 0;
	}
	if (strv_eq(k, KEY("cycle"))) {
		*seen |= ASSIGN_CYCLE;
		return assign_text_int(m, &t->cycle) && t->cycle >= 0;
	}
	if (strv_eq(k, KEY("team"))) {
		*seen |= ASSIGN_TEAM;
		return assign_text_str(m, &t->team) && t->team.len > 0;
	}
	if (strv_eq(k, KEY("qualified_at"))) {
		*seen |= ASSIGN_AT;
		return assign_text_str(m, &t->qualified_at) &&
		       t->qualified_at.len > 0;
	}
	*seen |= ASSIGN_AT_MS; /* the caller passes no other key */
	return assign_text_int(m, &t->qualified_at_ms);
}

/* One member; false when the command is not one this path writes as the
 * DOM path would. */
static bool assign_text_member(const struct jtext_member *m,
			       struct assign_text *t, unsigned *seen)
{
	static const char *const required[] = {
		KEY("kind"), KEY("lead"),         KEY("cycle"),
		KEY("team"), KEY("qualified_at"), KEY("qualified_at_ms"),
	};
	struct strv k = m->key;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (strv_eq(k, required[i]))
			return assign_text_required(m, t, seen);
	if (strv_eq(k, KEY("email_domain")))
		return assign_text_opt_str(m, &t->email_domain);
	if (strv_eq(k, KEY("group_id")))
		return assign_text_opt_str(m, &t->group_id);
	if (strv_eq(k, KEY("territory")))
		t->territory = m->val;
	return !assign_text_key_reserved(k);
}

static bool assign_text_read(const char *s, size_t len, struct assign_text *t)
{
	unsigned seen = 0;

	t->n = jtext_object_scan(s, len, t->m);
	if (t->n < 0)
		return false;
	t->email_domain = t->group_id = t->territory = STRV_NULL;
	for (int i = 0; i < t->n; i++)
		if (!assign_text_member(&t->m[i], t, &seen))
			return false;
	return seen == ASSIGN_REQUIRED;
}

#define route_lit_put(b, lit) jtext_raw_put((b), "" lit, sizeof(lit) - 1)

static void route_cstr_put(struct jtext *b, const char *s)
{
	jtext_string_put(b, s, strlen(s));
}

/* As route_sla_json. */
static void route_sla_put(struct jtext *b, int64_t at_ms, int64_t sla_ms)
{
	char buf[80];
	int64_t ms;

	if (sla_ms <= 0) {
		route_lit_put(b, "null");
		return;
	}
	ms = at_ms > ISO_TIME_MAX_MS - sla_ms ? ISO_TIME_MAX_MS
					      : at_ms + sla_ms;
	if (iso_time_format(ms, buf, sizeof(buf)))
		route_cstr_put(b, buf);
	else
		route_lit_put(b, "null");
}

/* The handoff route_handoff_json builds, written from the command's text:
 * every member but "kind" copied as it is, which is how jansson would
 * dump it again. */
static void route_handoff_write(struct jtext *b, const struct assign_text *t,
				const struct route_decision *d,
				const char *handoff_id)
{
	route_lit_put(b, "{\"handoff_id\":");
	route_cstr_put(b, handoff_id);
	route_lit_put(b, ",\"attempt\":1");
	for (int i = 0; i < t->n; i++) {
		if (strv_eq(t->m[i].key, KEY("kind")))
			continue;
		route_lit_put(b, ",");
		jtext_raw_put(b, t->m[i].key.p, t->m[i].key.len);
		route_lit_put(b, ":");
		jtext_raw_put(b, t->m[i].val.p, t->m[i].val.len);
	}
	route_lit_put(b, ",\"rep\":");
	if (d->rep_id)
		route_cstr_put(b, d->rep_id);
	else
		route_lit_put(b, "null");
	route_lit_put(b, ",\"routing\":{\"team\":");
	route_cstr_put(b, d->team->name);
	route_lit_put(b, ",\"territory\":");
	if (t->territory.p)
		jtext_raw_put(b, t->territory.p, t->territory.len);
	else
		route_lit_put(b, "null");
	route_lit_put(b, ",\"strategy\":");
	route_cstr_put(b, route_strategy_name(d->strategy));
	route_lit_put(b, ",\"reason\":");
	route_cstr_put(b, d->reason);
	route_lit_put(b, "},\"handed_off_at\":\"");
	jtext_raw_put(b, t->qualified_at.p, t->qualified_at.len);
	route_lit_put(b, "\",\"sla_deadline\":");
	route_sla_put(b, t->qualified_at_ms, d->team->sla_ms);
	route_lit_put(b, "}");
}

/* A name from the config the writer refused (not UTF-8): the handoff is
 * built through the DOM from the same command, which loads (it passed
 * jtext_object_scan) and has the fields (it passed assign_text_read). */
static int route_handoff_redo(const char *cmd_json, size_t len,
			      const struct route_decision *d,
			      const char *handoff_id, struct handoff *out,
			      char *err, size_t errlen)
{
	struct assign_fields f = {0};
	json_t *cmd = json_loadb(cmd_json, len, JSON_ALLOW_NUL, NULL);
	int rc = -1;

	if (!cmd)
		return route_fail(err, errlen, "out of memory");
	if (assign_fields_read(cmd, &f, err, errlen) == 0)
		rc = route_handoff_dump(cmd, &f, d, handoff_id, out, err,
					errlen);
	json_decref(cmd);
	return rc;
}

int route_assign_apply(const struct engine_config *cfg, struct team_state *ts,
		       const char *cmd_json, size_t len, struct handoff *out,
		       char *err, size_t errlen)
{
	struct assign_text t;
	struct route_decision d;
	char handoff_id[48];
	struct jtext b = {0};

	if (!assign_text_read(cmd_json, len, &t))
		return route_assign_apply_dom(cfg, ts, cmd_json, len, out, err,
					      errlen);
	if (route_assign_route(cfg, ts, t.team, t.lead, t.cycle, t.email_domain,
			       t.group_id, t.qualified_at_ms, handoff_id, &d,
			       err, errlen))
		return -1;
	route_handoff_write(&b, &t, &d, handoff_id);
	if (b.bad) {
		jtext_reset(&b);
		return route_handoff_redo(cmd_json, len, &d, handoff_id, out,
					  err, errlen);
	}
	return route_handoff_fill(b.p, b.len, &d, handoff_id, out);
}
