/*
 * config_teams.c - the routing half of the config: teams, their reps
 * (weights, caps, time zone, working hours, out of office, named accounts)
 * and the territory rules that pick a team.
 *
 * Time zones are loaded here, once, with glib, so the engine only ever does
 * arithmetic; only IANA names are let through (see cfg_tz_is_iana). Team
 * names are resolved to indexes after all teams are read, which is why teams
 * are parsed before routing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "config_internal.h"

#define CFG_SLA_MAX_MIN (366 * 24 * 60)
#define CFG_TZ_DIR      "/usr/share/zoneinfo" /* glib's default */

/* ---- working hours ---- */

static int cfg_two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "HH:MM" into minutes since midnight; 24:00 only as an end. */
static int cfg_hhmm(const char *s, bool end)
{
	int h = cfg_two_digits(s), m = s[2] == ':' ? cfg_two_digits(s + 3) : -1;

	if (h < 0 || m < 0 || m > 59)
		return -1;
	if (h == 24 && m == 0 && end)
		return 24 * 60;
	if (h > 23)
		return -1;
	return h * 60 + m;
}

static int cfg_hours_range(struct config_errors *errs, const json_t *v,
			   const char *path, struct rep_hours *out)
{
	const char *s;
	int a, b;

	if (!json_is_string(v)) {
		cfg_error(errs, path,
			  "expected a string \"HH:MM-HH:MM\", got %s",
			  cfg_json_type(v));
		return -1;
	}
	s = json_string_value(v);
	if (strlen(s) != 11 || s[5] != '-' || (a = cfg_hhmm(s, false)) < 0 ||
	    (b = cfg_hhmm(s + 6, true)) < 0) {
		cfg_error(errs, path,
			  "expected \"HH:MM-HH:MM\" (e.g. \"09:00-17:30\"), "
			  "got \"%.32s\"",
			  s);
		return -1;
	}
	if (a >= b) {
		cfg_error(errs, path,
			  "expected the start before the end, got \"%s\" "
			  "(an overnight shift is two: one to \"24:00\" and "
			  "one from \"00:00\" the next day)",
			  s);
		return -1;
	}
	out->start_min = (uint16_t)a;
	out->end_min = (uint16_t)b;
	return 0;
}

static const char *const cfg_days[] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays", "weekend",
};

/* Apply key k (an index into cfg_days) to the days it covers. */
static void cfg_hours_set(struct rep *r, size_t k, struct rep_hours h)
{
	size_t from = k, to = k;

	if (k == 7) {
		from = 0;
		to = 4;
	} else if (k == 8) {
		from = 5;
		to = 6;
	}
	for (size_t d = from; d <= to; d++)
		r->hours[d] = h;
}

/* Keys that are days: "_" comment keys do not make hours non-empty. */
static size_t cfg_days_count(const json_t *v)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	json_object_foreach((json_t *)v, key, val)
	{
		(void)val;
		n += !cfg_key_is_comment(key);
	}
	return n;
}

static int cfg_rep_hours(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	struct rep *r = base;
	char sub[CFG_PATH_MAX];
	int rc = 0;

	memset(r->hours, 0, sizeof(r->hours));
	r->has_hours = false;
	if (!v)
		return 0;
	if (!cfg_expect_object(errs, v, path))
		return -1;
	if (cfg_keys_check(errs, v, path, cfg_days, 9) < 0)
		rc = -1;
	r->has_hours = true;
	/* Groups first, so a single day can override its group. */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t k = pass ? 0 : 7; k < (pass ? 7u : 9u); k++) {
			const json_t *d = json_object_get(v, cfg_days[k]);
			struct rep_hours h;

			if (!d)
				continue;
			cfg_path_key(sub, sizeof(sub), path, cfg_days[k]);
			if (cfg_hours_range(errs, d, sub, &h) < 0)
				rc = -1;
			else
				cfg_hours_set(r, k, h);
		}
	}
	if (rc == 0 && cfg_days_count(v) == 0) {
		cfg_error(errs, path,
			  "expected at least one day (omit \"hours\" for "
			  "around the clock, or set \"paused\")");
		rc = -1;
	}
	return rc;
}

/* ---- time zone and out of office ---- */

/* Only IANA-looking names reach glib, which would otherwise also open
 * absolute paths. */
static bool cfg_tz_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !isalpha((unsigned char)s[0]) ||
	    strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+-/", *s))
			return false;
	return true;
}

/*
 * glib reads a name it finds no zone file for as a POSIX TZ string, where
 * "UTC+1" means one hour *behind* UTC: the opposite of what people mean.
 * So a name must be "UTC" or a zone file (TZif, not one of the tables that
 * share the directory) in the directory glib reads: $TZDIR, else
 * /usr/share/zoneinfo. "Etc/GMT+1" is such a file.
 */
static bool cfg_tz_is_iana(const char *name)
{
	const char *dir = getenv("TZDIR");
	char file[512], magic[4];
	FILE *f;
	int n;
	bool ok;

	if (strcmp(name, "UTC") == 0)
		return true;
	n = snprintf(file, sizeof(file), "%s/%s", dir ? dir : CFG_TZ_DIR, name);
	if (n < 0 || (size_t)n >= sizeof(file) || !(f = fopen(file, "rb")))
		return false;
	ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/* "UTC+1" or "GMT-2" read as people mean them: the IANA name for that
 * fixed offset ("Etc/GMT-1", sign reversed), or false for other forms. */
static bool cfg_tz_etc_hint(const char *s, char *buf, size_t size)
{
	const char *p = s + 3;
	char *end;
	long h;

	if ((strncmp(s, "UTC", 3) && strncmp(s, "GMT", 3)) ||
	    (*p != '+' && *p != '-') || !isdigit((unsigned char)p[1]))
		return false;
	h = strtol(p + 1, &end, 10);
	if (*end || h < 1 || h > 14)
		return false;
	snprintf(buf, size, "Etc/GMT%c%ld", *p == '+' ? '-' : '+', h);
	return cfg_tz_is_iana(buf);
}

static void cfg_tz_error(struct config_errors *errs, const char *path,
			 const char *name)
{
	size_t alpha = strcspn(name, "0123456789");
	char hint[32];

	/* IANA names with a digit have it after a '/' ("Etc/GMT+1") or have
	 * a zone file ("EST5EDT"), so anything else with one is POSIX. */
	if (!name[alpha] || memchr(name, '/', alpha)) {
		cfg_error(errs, path,
			  "unknown time zone \"%.64s\"; expected an IANA name "
			  "such as \"Europe/Berlin\"",
			  name);
	} else if (cfg_tz_etc_hint(name, hint, sizeof(hint))) {
		cfg_error(errs, path,
			  "expected an IANA time zone name such as "
			  "\"Europe/Berlin\", got \"%.16s\" (POSIX strings "
			  "like \"UTC+1\" are not accepted: their sign is "
			  "reversed); for a fixed %.16s use \"%s\"",
			  name, name, hint);
	} else {
		cfg_error(errs, path,
			  "expected an IANA time zone name such as "
			  "\"Europe/Berlin\", got \"%.64s\" (POSIX strings "
			  "like \"UTC+1\" are not accepted: their sign is "
			  "reversed)",
			  name);
	}
}

static int cfg_rep_tz(struct config_errors *errs, const json_t *v,
		      const char *path, void *base)
{
	struct rep *r = base;
	const char *name = cfg_string_or(errs, v, path, "UTC",
					 "a string (an IANA time zone such as "
					 "\"Europe/Berlin\")");

	if (name == NULL)
		return -1;
	r->tz_name = cfg_strdup(name);
	if (cfg_tz_name_ok(name) && cfg_tz_is_iana(name))
		r->tz = g_time_zone_new_identifier(name);
	if (!r->tz) {
		cfg_tz_error(errs, path, name);
		return -1;
	}
	return 0;
}

static bool cfg_is_date_only(const char *s)
{
	return strlen(s) == 10 && s[4] == '-' && s[7] == '-';
}

/*
 * ISO 8601 into epoch ms. A bare date is local midnight in the rep's zone;
 * as an end it means the end of that day, as people read "to 20 March".
 */
static int cfg_iso_parse(const char *s, GTimeZone *tz, bool end, int64_t *ms)
{
	GDateTime *dt;
	char buf[32];

	if (cfg_is_date_only(s)) {
		snprintf(buf, sizeof(buf), "%sT00:00:00", s);
		dt = g_date_time_new_from_iso8601(buf, tz);
		if (dt && end) {
			GDateTime *next = g_date_time_add_days(dt, 1);
			g_date_time_unref(dt);
			dt = next;
		}
	} else {
		dt = g_date_time_new_from_iso8601(s, tz);
	}
	if (!dt)
		return -1;
	*ms = g_date_time_to_unix(dt) * 1000 +
	      g_date_time_get_microsecond(dt) / 1000;
	g_date_time_unref(dt);
	return 0;
}

static int cfg_ooo_time(struct config_errors *errs, const json_t *obj,
			const char *path, const char *key, GTimeZone *tz,
			int64_t *ms)
{
	const json_t *v = json_object_get(obj, key);
	char sub[CFG_PATH_MAX];

	cfg_path_key(sub, sizeof(sub), path, key);
	if (!v) {
		cfg_error(errs, path, "missing required key \"%s\"", key);
		return -1;
	}
	if (!json_is_string(v)) {
		cfg_error(errs, sub, "expected an ISO 8601 time string, got %s",
			  cfg_json_type(v));
		return -1;
	}
	if (cfg_iso_parse(json_string_value(v), tz, key[0] == 't', ms) < 0) {
		cfg_error(errs, sub,
			  "expected an ISO 8601 time such as "
			  "\"2026-03-16T09:00:00+01:00\" or a date "
			  "\"2026-03-16\", got \"%.40s\"",
			  json_string_value(v));
		return -1;
	}
	return 0;
}

static int cfg_ooo_one(struct config_errors *errs, const json_t *v,
		       const char *path, GTimeZone *tz, struct rep_ooo *o)
{
	static const char *const keys[] = {"from", "to"};
	char sub[CFG_PATH_MAX];
	int rc = 0;

	if (!cfg_expect_object(errs, v, path))
		return -1;
	if (cfg_keys_check(errs, v, path, keys, 2) < 0)
		rc = -1;
	if (cfg_ooo_time(errs, v, path, "from", tz, &o->from_ms) < 0)
		rc = -1;
	if (cfg_ooo_time(errs, v, path, "to", tz, &o->to_ms) < 0)
		rc = -1;
	if (rc == 0 && o->from_ms >= o->to_ms) {
		cfg_path_key(sub, sizeof(sub), path, "to");
		cfg_error(errs, sub, "expected a time after \"from\"");
		rc = -1;
	}
	return rc;
}

static int cfg_rep_ooo(struct config_errors *errs, const json_t *v,
		       const char *path, void *base)
{
	struct rep *r = base;
	GTimeZone *utc = NULL, *tz = r->tz;
	size_t n;
	int rc = 0;

	if (!v)
		return 0;
	if (!cfg_expect_array(errs, v, path))
		return -1;
	n = json_array_size(v);
	if (n == 0)
		return 0;
	r->ooo = calloc(n, sizeof(*r->ooo));
	if (!r->ooo)
		return -1;
	r->nooo = n;
	if (!tz)
		tz = utc = g_time_zone_new_utc();
	for (size_t i = 0; i < n; i++) {
		char sub[CFG_PATH_MAX];

		cfg_path_index(sub, sizeof(sub), path, i);
		if (cfg_ooo_one(errs, json_array_get(v, i), sub, tz,
				&r->ooo[i]) < 0)
			rc = -1;
	}
	if (utc)
		g_time_zone_unref(utc);
	return rc;
}

static int cfg_rep_accounts(struct config_errors *errs, const json_t *v,
			    const char *path, void *base)
{
	struct rep *r = base;
	int rc;

	if (!v)
		return 0;
	rc = cfg_strings_parse(errs, v, path, false, true, &r->accounts,
			       &r->naccounts);
	if (cfg_domains_check(errs, v, path, true) < 0)
		rc = -1;
	return rc;
}

/* tz comes before out_of_office: times without an offset are rep-local. */
static const struct cfg_field cfg_rep_fields[] = {
	{.key = "id",
	 .type = CFG_STR,
	 .off = offsetof(struct rep, id),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "name", .type = CFG_STR, .off = offsetof(struct rep, name)},
	{.key = "weight",
	 .type = CFG_UNSIGNED,
	 .off = offsetof(struct rep, weight),
	 .flags = CFG_F_MIN | CFG_F_MAX,
	 .min = 1,
	 .max = 1000,
	 .def_num = 1},
	{.key = "daily_cap",
	 .type = CFG_U32,
	 .off = offsetof(struct rep, daily_cap),
	 .flags = CFG_F_MIN},
	{.key = "max_open",
	 .type = CFG_U32,
	 .off = offsetof(struct rep, max_open),
	 .flags = CFG_F_MIN},
	{.key = "tz", .type = CFG_CUSTOM, .custom = cfg_rep_tz},
	{.key = "hours", .type = CFG_CUSTOM, .custom = cfg_rep_hours},
	{.key = "out_of_office", .type = CFG_CUSTOM, .custom = cfg_rep_ooo},
	{.key = "paused",
	 .type = CFG_BOOL,
	 .off = offsetof(struct rep, paused)},
	{.key = "accounts", .type = CFG_CUSTOM, .custom = cfg_rep_accounts},
};

static void cfg_rep_free(struct rep *r)
{
	free(r->id);
	free(r->name);
	free(r->tz_name);
	if (r->tz)
		g_time_zone_unref(r->tz);
	free(r->ooo);
	cfg_strings_free(r->accounts, r->naccounts);
}

/* ---- teams ---- */

static int cfg_team_reps(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	struct team *t = base;
	void *reps = NULL;
	int rc;

	/* no reps: everything goes to the overflow queue; rep ids are
	 * checked across all teams by cfg_rep_ids_unique */
	rc = cfg_objects_parse(errs, v, path, cfg_rep_fields,
			       sizeof(cfg_rep_fields) /
				       sizeof(cfg_rep_fields[0]),
			       sizeof(*t->reps), NULL, 0, &reps, &t->nreps);
	t->reps = reps;
	return rc;
}

static int cfg_team_sla(struct config_errors *errs, const json_t *v,
			const char *path, void *base)
{
	struct team *t = base;
	double d;

	t->sla_ms = 0;
	if (!v)
		return 0;
	d = json_is_number(v) ? json_number_value(v) : -1;
	if (!json_is_number(v) || d < 0 || d > CFG_SLA_MAX_MIN ||
	    d != (double)(int64_t)d) {
		if (json_is_number(v))
			cfg_error(errs, path,
				  "expected an integer between 0 and %d, got "
				  "%g",
				  CFG_SLA_MAX_MIN, d);
		else
			cfg_error(errs, path,
				  "expected an integer between 0 and %d, got "
				  "%s",
				  CFG_SLA_MAX_MIN, cfg_json_type(v));
		return -1;
	}
	t->sla_ms = (int64_t)d * 60 * 1000;
	return 0;
}

static const struct cfg_field cfg_team_fields[] = {
	{.key = "name",
	 .type = CFG_STR,
	 .off = offsetof(struct team, name),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "sla_minutes", .type = CFG_CUSTOM, .custom = cfg_team_sla},
	{.key = "overflow_queue",
	 .type = CFG_STR,
	 .off = offsetof(struct team, overflow_queue),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "reps", .type = CFG_CUSTOM, .custom = cfg_team_reps},
};

/* Team names and queue ids become record keys and topic names. */
static void cfg_team_ids_check(struct config_errors *errs, const char *path,
			       const struct team *t)
{
	char sub[CFG_PATH_MAX];

	if (t->name && !cfg_name_is_id(t->name)) {
		cfg_path_key(sub, sizeof(sub), path, "name");
		cfg_error(errs, sub,
			  "expected letters, digits, '.', '_' or '-' only");
	}
	if (t->overflow_queue && !cfg_name_is_id(t->overflow_queue)) {
		cfg_path_key(sub, sizeof(sub), path, "overflow_queue");
		cfg_error(errs, sub,
			  "expected a queue id like \"emea-overflow\" "
			  "(letters, digits, '.', '_' or '-')");
	}
}

static void cfg_rep_path(char *out, size_t size, size_t ti, size_t ri)
{
	char team[64];

	snprintf(team, sizeof(team), "$.teams[%zu]", ti);
	if (ri == (size_t)-1) {
		cfg_path_key(out, size, team, "overflow_queue");
		return;
	}
	cfg_path_key(out, size, team, "reps");
	snprintf(team, sizeof(team), "[%zu]", ri);
	strncat(out, team, size - strlen(out) - 1);
}

/*
 * A rep id is the key of its queue records: it must be unique across all
 * teams and differ from every overflow queue. Rep ids may be personal, so
 * the message points at the first use instead of quoting the id.
 */
static void cfg_rep_ids_unique(struct config_errors *errs,
			       const struct routing_config *rc)
{
	char here[CFG_PATH_MAX], first[CFG_PATH_MAX], sub[CFG_PATH_MAX];

	for (size_t ti = 0; ti < rc->nteams; ti++) {
		const struct team *t = &rc->teams[ti];

		for (size_t ri = 0; ri < t->nreps; ri++) {
			const char *id = t->reps[ri].id;
			bool dup = false;

			for (size_t tj = 0; id && tj <= ti && !dup; tj++) {
				const struct team *u = &rc->teams[tj];
				size_t lim = tj == ti ? ri : u->nreps;

				for (size_t rj = 0; rj < lim && !dup; rj++) {
					if (!u->reps[rj].id ||
					    strcmp(id, u->reps[rj].id))
						continue;
					dup = true;
					cfg_rep_path(first, sizeof(first), tj,
						     rj);
				}
				if (!dup && u->overflow_queue &&
				    !strcmp(id, u->overflow_queue)) {
					dup = true;
					cfg_rep_path(first, sizeof(first), tj,
						     (size_t)-1);
				}
			}
			if (!dup)
				continue;
			cfg_rep_path(here, sizeof(here), ti, ri);
			cfg_path_key(sub, sizeof(sub), here, "id");
			cfg_error(errs, sub,
				  "duplicate rep id; first used at %s", first);
		}
	}
}

int cfg_teams_parse(struct config_errors *errs, const json_t *v,
		    const char *path, struct routing_config *rc)
{
	const char **names;
	size_t before = errs->n, n;

	if (!cfg_expect_array(errs, v, path))
		return -1;
	n = json_array_size(v);
	if (n == 0) {
		cfg_error(errs, path, "expected at least one team");
		return -1;
	}
	rc->teams = calloc(n, sizeof(*rc->teams));
	names = calloc(n, sizeof(*names));
	if (!rc->teams || !names) {
		free(names);
		return -1;
	}
	rc->nteams = n;
	for (size_t i = 0; i < n; i++) {
		char sub[CFG_PATH_MAX];

		cfg_path_index(sub, sizeof(sub), path, i);
		cfg_object_apply(
			errs, json_array_get(v, i), sub, cfg_team_fields,
			sizeof(cfg_team_fields) / sizeof(cfg_team_fields[0]),
			&rc->teams[i]);
		cfg_team_ids_check(errs, sub, &rc->teams[i]);
		names[i] = rc->teams[i].name;
	}
	cfg_names_unique(errs, path, "team", names, n);
	free(names);
	cfg_rep_ids_unique(errs, rc);
	return errs->n == before ? 0 : -1;
}

/* ---- routing ---- */

static int cfg_territory_when(struct config_errors *errs, const json_t *v,
			      const char *path, void *base)
{
	struct territory *t = base;

	if (!v)
		return 0; /* no conditions: matches every lead */
	return cfg_conds_parse(errs, v, path, true, &t->conds, &t->nconds);
}

static const struct cfg_field cfg_territory_fields[] = {
	{.key = "name",
	 .type = CFG_STR,
	 .off = offsetof(struct territory, name),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
	{.key = "when", .type = CFG_CUSTOM, .custom = cfg_territory_when},
	{.key = "team",
	 .type = CFG_STR,
	 .off = offsetof(struct territory, team),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
};

static int cfg_territories(struct config_errors *errs, const json_t *v,
			   const char *path, void *base)
{
	struct routing_config *rc = base;
	void *terrs = NULL;
	int ret;

	ret = cfg_objects_parse(
		errs, v, path, cfg_territory_fields,
		sizeof(cfg_territory_fields) / sizeof(cfg_territory_fields[0]),
		sizeof(*rc->territories), "territory",
		offsetof(struct territory, name), &terrs, &rc->nterritories);
	rc->territories = terrs;
	return ret;
}

static const struct cfg_field cfg_routing_fields[] = {
	{.key = "territories", .type = CFG_CUSTOM, .custom = cfg_territories},
	{.key = "fallback_team",
	 .type = CFG_STR,
	 .off = offsetof(struct routing_config, fallback_team),
	 .flags = CFG_F_REQUIRED | CFG_F_NONEMPTY},
};

static void cfg_team_names(const struct routing_config *rc, char *buf,
			   size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rc->nteams && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
				 rc->teams[i].name ? rc->teams[i].name : "?");
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void cfg_team_resolve(struct config_errors *errs,
			     const struct routing_config *rc, const char *name,
			     const char *path, size_t *idx)
{
	char list[160];

	for (size_t i = 0; i < rc->nteams; i++) {
		if (rc->teams[i].name && strcmp(rc->teams[i].name, name) == 0) {
			*idx = i;
			return;
		}
	}
	cfg_team_names(rc, list, sizeof(list));
	cfg_error(errs, path, "unknown team \"%.64s\"; expected one of: %s",
		  name, list);
}

int cfg_routing_parse(struct config_errors *errs, const json_t *v,
		      const char *path, struct routing_config *rc)
{
	char sub[CFG_PATH_MAX], elem[CFG_PATH_MAX];
	size_t before = errs->n;

	cfg_object_apply(
		errs, v, path, cfg_routing_fields,
		sizeof(cfg_routing_fields) / sizeof(cfg_routing_fields[0]), rc);
	/* Without teams every reference would fail; that error is
	 * reported at $.teams already. */
	if (rc->nteams == 0)
		return -1;
	for (size_t i = 0; i < rc->nterritories; i++) {
		if (!rc->territories[i].team)
			continue;
		cfg_path_key(sub, sizeof(sub), path, "territories");
		cfg_path_index(elem, sizeof(elem), sub, i);
		cfg_path_key(sub, sizeof(sub), elem, "team");
		cfg_team_resolve(errs, rc, rc->territories[i].team, sub,
				 &rc->territories[i].team_idx);
	}
	if (rc->fallback_team) {
		cfg_path_key(sub, sizeof(sub), path, "fallback_team");
		cfg_team_resolve(errs, rc, rc->fallback_team, sub,
				 &rc->fallback_idx);
	}
	return errs->n == before ? 0 : -1;
}

void cfg_routing_free(struct routing_config *rc)
{
	for (size_t i = 0; i < rc->nterritories; i++) {
		struct territory *t = &rc->territories[i];

		free(t->name);
		free(t->team);
		for (size_t j = 0; j < t->nconds; j++)
			cfg_cond_free(&t->conds[j]);
		free(t->conds);
	}
	free(rc->territories);
	for (size_t i = 0; i < rc->nteams; i++) {
		struct team *t = &rc->teams[i];

		free(t->name);
		free(t->overflow_queue);
		for (size_t j = 0; j < t->nreps; j++)
			cfg_rep_free(&t->reps[j]);
		free(t->reps);
	}
	free(rc->teams);
	free(rc->fallback_team);
	memset(rc, 0, sizeof(*rc));
}
