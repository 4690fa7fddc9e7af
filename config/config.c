/*
 * config.c - config_load and friends: parse the JSON file with jansson
 * (past a leading byte order mark), walk the top-level sections (Kafka
 * properties, topics, process settings, then the engine sections in
 * config_rules.c and config_teams.c), and hand back either a complete config
 * or every error found, never a half-built one. Kafka properties also go to
 * the caller's check (the daemon's asks librdkafka), so that their errors
 * come in the same pass while config/ does not depend on librdkafka. Cold
 * path: clarity of errors beats speed everywhere here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../engine/strv.h"
#include "config_internal.h"

#define CFG_SECRET_MAX  (64 * 1024)
#define CFG_TOPIC_MAX   249 /* Kafka's limit on topic name length */
#define CFG_SECRET_PFX  "@file:"
#define CFG_SECRET_PLEN (sizeof(CFG_SECRET_PFX) - 1)

/* ---- kafka ---- */

/* Properties the daemon sets itself for exactly-once; a user value would
 * silently break the guarantee. */
static const struct {
	const char *key;
	const char *hint;
} cfg_kafka_owned[] = {
	{"group.id", "use process.group_id"},
	{"transactional.id",
	 "use process.transactional_id_prefix and process.instance_id"},
	{"enable.auto.commit",
	 "offsets are committed in transactions by the daemon"},
	{"isolation.level", "the daemon always reads read_committed"},
	{"enable.auto.offset.store",
	 "offsets are committed in transactions by the daemon"},
	{"partition.assignment.strategy",
	 "the daemon uses the range assignor so that partition p of the "
	 "events and feedback topics lands on one instance"},
	{"auto.offset.reset",
	 "a new group starts at the earliest offset, or events produced "
	 "before the first start would be lost"},
};

static int cfg_secret_read(struct config_errors *errs, const char *file,
			   const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	ssize_t got = 0;
	size_t len = 0;
	int fd, err = 0;

	/* O_NONBLOCK and the regular-file check keep a FIFO or a device from
	 * hanging start-up. */
	fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
	} else if (!(buf = malloc(CFG_SECRET_MAX + 1))) {
		err = ENOMEM;
	} else {
		while (len < CFG_SECRET_MAX &&
		       (got = read(fd, buf + len, CFG_SECRET_MAX - len)) > 0)
			len += (size_t)got;
		if (got < 0)
			err = errno;
		else if (len == CFG_SECRET_MAX)
			err = EFBIG;
	}
	if (fd >= 0)
		close(fd);
	if (err) {
		free(buf);
		cfg_error(errs, path, "cannot read secret file \"%.120s\": %s",
			  file,
			  err == EINVAL ? "not a regular file" : strerror(err));
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* *secret is set when the value came from an "@file:" secret. */
static int cfg_kafka_value(struct config_errors *errs, const json_t *v,
			   const char *path, char **out, bool *secret)
{
	char num[64];

	*secret = false;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strncmp(json_string_value(v), CFG_SECRET_PFX,
			    CFG_SECRET_PLEN) == 0) {
			*secret = true;
			return cfg_secret_read(
				errs, json_string_value(v) + CFG_SECRET_PLEN,
				path, out);
		}
		*out = cfg_strdup(json_string_value(v));
		return 0;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(num, sizeof(num), "%s",
			 json_is_true(v) ? "true" : "false");
		break;
	default:
		cfg_error(errs, path,
			  "expected a string, number or boolean, got %s",
			  cfg_json_type(v));
		return -1;
	}
	*out = cfg_strdup(num);
	return 0;
}

static bool cfg_kafka_key_owned(struct config_errors *errs, const char *key,
				const char *path)
{
	for (size_t i = 0;
	     i < sizeof(cfg_kafka_owned) / sizeof(cfg_kafka_owned[0]); i++) {
		if (strcmp(key, cfg_kafka_owned[i].key) != 0)
			continue;
		cfg_error(errs, path, "\"%s\" is set by the daemon; %s", key,
			  cfg_kafka_owned[i].hint);
		return true;
	}
	return false;
}

/* The caller's check of one property (librdkafka's, in the daemon). */
static void cfg_kafka_check(struct config_errors *errs,
			    config_kafka_check_fn check,
			    const struct config_kv *kv, bool secret,
			    const char *path)
{
	char msg[sizeof(errs->v[0].msg)];

	if (check && check(kv->key, kv->value, secret, msg, sizeof(msg)) < 0)
		cfg_error(errs, path, "%s", msg);
}

static int cfg_kafka_parse(struct config_errors *errs, const json_t *v,
			   const char *path, config_kafka_check_fn check,
			   struct config *cfg)
{
	size_t before = errs->n;
	const json_t *val;
	const char *key;
	bool bootstrap = false;

	if (!cfg_expect_object(errs, v, path))
		return -1;
	cfg->kafka = calloc(json_object_size(v) + 1, sizeof(*cfg->kafka));
	if (!cfg->kafka)
		return -1;
	json_object_foreach((json_t *)v, key, val)
	{
		char sub[CFG_PATH_MAX];
		struct config_kv *kv = &cfg->kafka[cfg->nkafka];
		bool secret;

		if (cfg_key_is_comment(key))
			continue;
		cfg_path_key(sub, sizeof(sub), path, key);
		if (cfg_kafka_key_owned(errs, key, sub))
			continue;
		if (cfg_kafka_value(errs, val, sub, &kv->value, &secret) < 0)
			continue;
		kv->key = cfg_strdup(key);
		cfg->nkafka++;
		cfg_kafka_check(errs, check, kv, secret, sub);
		if (strcmp(key, "bootstrap.servers") == 0) {
			bootstrap = true;
			if (!*kv->value)
				cfg_error(errs, sub,
					  "expected a non-empty string");
		}
	}
	if (!bootstrap && !json_object_get(v, "bootstrap.servers"))
		cfg_error(errs, path,
			  "missing required key \"bootstrap.servers\"");
	return errs->n == before ? 0 : -1;
}

/* ---- topics ---- */

static bool cfg_topic_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool cfg_topic_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_TOPIC_MAX)
		return false;
	for (; *s; s++)
		if (!cfg_topic_char_ok(*s))
			return false;
	return true;
}

static int cfg_topic_check(struct config_errors *errs, const json_t *v,
			   const char *path, void *base, size_t off,
			   const char *def)
{
	char **dst = (char **)((char *)base + off);
	const char *s;

	s = cfg_string_or(errs, v, path, def, "a topic name string");
	if (s == NULL)
		return -1;
	if (!cfg_topic_name_ok(s)) {
		cfg_error(errs, path,
			  "expected a topic name of 1-249 letters, digits, "
			  "'.', '_' or '-'");
		return -1;
	}
	*dst = cfg_strdup(s);
	return 0;
}

/* One parser per topic keeps the table declarative; the macro only spares
 * writing the same three lines seven times. */
#define CFG_TOPIC_FN(field, def)                                               \
	static int cfg_topic_##field(struct config_errors *errs,               \
				     const json_t *v, const char *path,        \
				     void *base)                               \
	{                                                                      \
		return cfg_topic_check(errs, v, path, base,                    \
				       offsetof(struct topics_config, field),  \
				       def);                                   \
	}
CFG_TOPIC_FN(events, "marketing.events")
CFG_TOPIC_FN(feedback, "sales.feedback")
CFG_TOPIC_FN(assign, "leadrouter.assign")
CFG_TOPIC_FN(leads_changelog, "leadrouter.leads")
CFG_TOPIC_FN(teams_changelog, "leadrouter.teams")
CFG_TOPIC_FN(dlq, "leadrouter.dlq")

/* The literal part must be a topic name; only {team} and {rep} expand. */
static bool cfg_handoff_ok(const char *s)
{
	size_t lit = 0;

	while (*s) {
		if (strncmp(s, "{team}", 6) == 0) {
			s += 6;
			lit++;
		} else if (strncmp(s, "{rep}", 5) == 0) {
			s += 5;
			lit++;
		} else if (cfg_topic_char_ok(*s)) {
			s++;
			lit++;
		} else {
			return false;
		}
	}
	return lit > 0 && lit <= CFG_TOPIC_MAX;
}

static int cfg_topic_handoff(struct config_errors *errs, const json_t *v,
			     const char *path, void *base)
{
	struct topics_config *tc = base;
	const char *s = cfg_string_or(errs, v, path, "sales.handoffs.{team}",
				      "a topic name string");

	if (s == NULL)
		return -1;
	if (!cfg_handoff_ok(s)) {
		cfg_error(errs, path,
			  "expected a topic name template such as "
			  "\"sales.handoffs.{team}\" (placeholders: {team}, "
			  "{rep})");
		return -1;
	}
	tc->handoff = cfg_strdup(s);
	return 0;
}

static const struct cfg_field cfg_topics_fields[] = {
	{.key = "events", .type = CFG_CUSTOM, .custom = cfg_topic_events},
	{.key = "feedback", .type = CFG_CUSTOM, .custom = cfg_topic_feedback},
	{.key = "assign", .type = CFG_CUSTOM, .custom = cfg_topic_assign},
	{.key = "leads_changelog",
	 .type = CFG_CUSTOM,
	 .custom = cfg_topic_leads_changelog},
	{.key = "teams_changelog",
	 .type = CFG_CUSTOM,
	 .custom = cfg_topic_teams_changelog},
	{.key = "dlq", .type = CFG_CUSTOM, .custom = cfg_topic_dlq},
	{.key = "handoff", .type = CFG_CUSTOM, .custom = cfg_topic_handoff},
	{.key = "create_internal",
	 .type = CFG_BOOL,
	 .off = offsetof(struct topics_config, create_internal),
	 .def_num = 1},
	{.key = "partitions",
	 .type = CFG_INT,
	 .off = offsetof(struct topics_config, partitions),
	 .flags = CFG_F_MIN | CFG_F_MAX,
	 .max = 100000},
	{.key = "replication_factor",
	 .type = CFG_INT,
	 .off = offsetof(struct topics_config, replication_factor),
	 .flags = CFG_F_MIN | CFG_F_MAX,
	 .min = 1,
	 .max = 32767,
	 .def_num = 1},
};

/* ---- process ---- */

static int cfg_log_level(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{"error", LOG_ERR},
		{"warning", LOG_WARNING},
		{"info", LOG_INFO},
		{"debug", LOG_DEBUG},
	};
	struct process_config *pc = base;

	pc->log_level = LOG_INFO;
	if (!v)
		return 0;
	for (size_t i = 0; json_is_string(v) && i < 4; i++) {
		if (strcmp(json_string_value(v), levels[i].name) == 0) {
			pc->log_level = levels[i].level;
			return 0;
		}
	}
	cfg_error(errs, path,
		  "expected one of \"error\", \"warning\", \"info\", "
		  "\"debug\", got %s",
		  json_is_string(v) ? "another string" : cfg_json_type(v));
	return -1;
}

/* A duration in days (fractions allowed, at most 100 years) into ms; def
 * when absent. zero_ok: 0 is allowed (it turns the setting off). */
static int cfg_days_ms(struct config_errors *errs, const json_t *v,
		       const char *path, double def, bool zero_ok, int64_t *ms)
{
	const char *lo = zero_ok ? ">=" : ">";
	double d = v && json_is_number(v) ? json_number_value(v) : def;

	if (v && (!json_is_number(v) || d < 0 || (d == 0 && !zero_ok) ||
		  d > 36500)) {
		if (json_is_number(v))
			cfg_error(errs, path,
				  "expected a number %s 0 and <= 36500, got %g",
				  lo, d);
		else
			cfg_error(errs, path,
				  "expected a number %s 0 and <= 36500, got %s",
				  lo, cfg_json_type(v));
		return -1;
	}
	*ms = (int64_t)(d * 86400.0 * 1000.0);
	return 0;
}

static int cfg_idle_ttl(struct config_errors *errs, const json_t *v,
			const char *path, void *base)
{
	struct process_config *pc = base;

	return cfg_days_ms(errs, v, path, 90, false, &pc->lead_idle_ttl_ms);
}

/* 1 day: beyond an NTP-synced host's error and a device that sends its
 * local time as UTC (up to 14 h ahead), well short of the months or years
 * a wrong device clock is off by. */
static int cfg_max_ahead(struct config_errors *errs, const json_t *v,
			 const char *path, void *base)
{
	struct process_config *pc = base;

	return cfg_days_ms(errs, v, path, 1, true, &pc->event_max_ahead_ms);
}

/* "host:port" or "[v6]:port"; the empty string turns the listener off. */
static bool cfg_listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!*s)
		return true;
	if (!colon || colon == s || !colon[1])
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || colon[1] == '+' ||
	    colon[1] == '-')
		return false;
	if (s[0] == '[')
		return colon[-1] == ']' && colon - s > 2;
	return memchr(s, ':', (size_t)(colon - s)) == NULL;
}

static int cfg_http_listen(struct config_errors *errs, const json_t *v,
			   const char *path, void *base)
{
	struct process_config *pc = base;
	const char *s = cfg_string_or(errs, v, path, "127.0.0.1:9464",
				      "a string \"host:port\"");

	if (s == NULL)
		return -1;
	if (!cfg_listen_ok(s)) {
		cfg_error(errs, path,
			  "expected \"host:port\" (e.g. \"127.0.0.1:9464\") "
			  "or \"\" to disable, got \"%.64s\"",
			  s);
		return -1;
	}
	pc->http_listen = cfg_strdup(s);
	return 0;
}

static int cfg_instance_id(struct config_errors *errs, const json_t *v,
			   const char *path, void *base)
{
	struct process_config *pc = base;
	const char *s = "0";

	if (v &&
	    (!json_is_string(v) || !cfg_name_is_id(json_string_value(v)))) {
		cfg_error(errs, path,
			  "expected a non-empty string of letters, digits, "
			  "'.', '_' or '-', got %s",
			  json_is_string(v) ? "another string"
					    : cfg_json_type(v));
		return -1;
	}
	if (v)
		s = json_string_value(v);
	pc->instance_id = cfg_strdup(s);
	return 0;
}

static const struct cfg_field cfg_process_fields[] = {
	{.key = "instance_id", .type = CFG_CUSTOM, .custom = cfg_instance_id},
	{.key = "transactional_id_prefix",
	 .type = CFG_STR,
	 .off = offsetof(struct process_config, transactional_id_prefix),
	 .def_str = "leadrouter-"},
	{.key = "group_id",
	 .type = CFG_STR,
	 .off = offsetof(struct process_config, group_id),
	 .flags = CFG_F_NONEMPTY,
	 .def_str = "leadrouter"},
	{.key = "commit_interval_ms",
	 .type = CFG_INT,
	 .off = offsetof(struct process_config, commit_interval_ms),
	 .flags = CFG_F_MIN | CFG_F_MAX,
	 .min = 1,
	 .max = 60000,
	 .def_num = 100},
	{.key = "commit_max_records",
	 .type = CFG_INT,
	 .off = offsetof(struct process_config, commit_max_records),
	 .flags = CFG_F_MIN | CFG_F_MAX,
	 .min = 1,
	 .max = 1000000,
	 .def_num = 1000},
	{.key = "http_listen", .type = CFG_CUSTOM, .custom = cfg_http_listen},
	{.key = "log_level", .type = CFG_CUSTOM, .custom = cfg_log_level},
	{.key = "lead_idle_ttl_days",
	 .type = CFG_CUSTOM,
	 .custom = cfg_idle_ttl},
	{.key = "lead_min_score",
	 .type = CFG_DOUBLE,
	 .off = offsetof(struct process_config, lead_min_score),
	 .flags = CFG_F_MIN,
	 .def_num = 0.5},
	{.key = "event_time_max_ahead_days",
	 .type = CFG_CUSTOM,
	 .custom = cfg_max_ahead},
};

/* ---- top level ---- */

/* With {rep} in the handoff topic, rep ids and queue ids become topic
 * names too. */
static void cfg_handoff_reps_check(struct config_errors *errs,
				   const struct config *cfg)
{
	const struct routing_config *rc = &cfg->engine.routing;
	char path[CFG_PATH_MAX];

	if (!cfg->topics.handoff || !strstr(cfg->topics.handoff, "{rep}"))
		return;
	for (size_t t = 0; t < rc->nteams; t++) {
		for (size_t r = 0; r < rc->teams[t].nreps; r++) {
			const char *id = rc->teams[t].reps[r].id;

			if (!id || cfg_name_is_id(id))
				continue;
			snprintf(path, sizeof(path),
				 "$.teams[%zu].reps[%zu].id", t, r);
			cfg_error(errs, path,
				  "expected letters, digits, '.', '_' or '-' "
				  "only, as topics.handoff uses {rep}");
		}
	}
}

/* Length of tmpl with {team} and {rep} expanded, as the daemon names a
 * handoff topic (kafka_handoff_topic). */
static size_t cfg_handoff_len(const char *tmpl, const char *team,
			      const char *rep)
{
	size_t n = 0;

	while (*tmpl) {
		if (strncmp(tmpl, "{team}", 6) == 0) {
			n += strlen(team);
			tmpl += 6;
		} else if (strncmp(tmpl, "{rep}", 5) == 0) {
			n += strlen(rep);
			tmpl += 5;
		} else {
			n++;
			tmpl++;
		}
	}
	return n;
}

static void cfg_handoff_len_error(struct config_errors *errs, const char *path,
				  const char *what, const char *tmpl,
				  size_t len)
{
	cfg_error(errs, path,
		  "expected %s that keeps the handoff topic within Kafka's "
		  "%d characters; topics.handoff \"%.64s\" makes it %zu",
		  what, CFG_TOPIC_MAX, tmpl, len);
}

/*
 * Team names, and with {rep} rep ids and overflow queue ids, are expanded
 * into handoff topic names, which Kafka refuses past 249 characters (their
 * characters are checked where they are read). A team name too long on
 * its own is reported once, at the name, not at each of its reps.
 */
static void cfg_handoff_lengths_check(struct config_errors *errs,
				      const struct config *cfg)
{
	const struct routing_config *rc = &cfg->engine.routing;
	const char *tmpl = cfg->topics.handoff;
	char path[CFG_PATH_MAX];
	size_t len;

	if (!tmpl)
		return;
	for (size_t t = 0; t < rc->nteams; t++) {
		const struct team *team = &rc->teams[t];

		if (!team->name)
			continue;
		len = cfg_handoff_len(tmpl, team->name, "");
		if (len > CFG_TOPIC_MAX) {
			snprintf(path, sizeof(path), "$.teams[%zu].name", t);
			cfg_handoff_len_error(errs, path, "a team name", tmpl,
					      len);
			continue;
		}
		if (!strstr(tmpl, "{rep}"))
			continue;
		for (size_t r = 0; r <= team->nreps; r++) {
			const char *id = r < team->nreps ? team->reps[r].id
							 : team->overflow_queue;

			if (!id || cfg_handoff_len(tmpl, team->name, id) <=
					   CFG_TOPIC_MAX)
				continue;
			if (r < team->nreps)
				snprintf(path, sizeof(path),
					 "$.teams[%zu].reps[%zu].id", t, r);
			else
				snprintf(path, sizeof(path),
					 "$.teams[%zu].overflow_queue", t);
			cfg_handoff_len_error(
				errs, path,
				r < team->nreps ? "a rep id" : "a queue id",
				tmpl, cfg_handoff_len(tmpl, team->name, id));
		}
	}
}

/* librdkafka's default transaction.timeout.ms. */
#define CFG_TXN_TIMEOUT_DEFAULT_MS 60000

/* The broker aborts a transaction open longer than transaction.timeout.ms
 * and fences its producer: a commit interval must leave room for the
 * commit itself, so it may take at most half of it. */
static void cfg_commit_interval_check(struct config_errors *errs,
				      const struct config *cfg)
{
	long timeout = CFG_TXN_TIMEOUT_DEFAULT_MS;

	for (size_t i = 0; i < cfg->nkafka; i++)
		if (strcmp(cfg->kafka[i].key, "transaction.timeout.ms") == 0)
			timeout = strtol(cfg->kafka[i].value, NULL, 10);
	if (timeout > 0 && cfg->process.commit_interval_ms > timeout / 2)
		cfg_error(errs, "$.process.commit_interval_ms",
			  "expected at most half of kafka "
			  "transaction.timeout.ms (%ld), got %d: the broker "
			  "aborts a longer transaction and fences the daemon",
			  timeout, cfg->process.commit_interval_ms);
}

static const char *const cfg_sections[] = {
	"kafka", "topics", "process",       "scoring",
	"fit",   "teams",  "qualification", "routing",
};

static void cfg_sections_required(struct config_errors *errs,
				  const json_t *root)
{
	static const char *const required[] = {
		"kafka", "teams", "routing", "qualification", "scoring",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!json_object_get(root, required[i]))
			cfg_error(errs, "$", "missing required section \"%s\"",
				  required[i]);
}

static void cfg_root_apply(struct config_errors *errs, const json_t *root,
			   config_kafka_check_fn check, struct config *cfg)
{
	struct engine_config *ec = &cfg->engine;
	const json_t *v;

	if (!cfg_expect_object(errs, root, "$"))
		return;
	cfg_keys_check(errs, root, "$", cfg_sections,
		       sizeof(cfg_sections) / sizeof(cfg_sections[0]));
	cfg_sections_required(errs, root);
	if ((v = json_object_get(root, "kafka")))
		cfg_kafka_parse(errs, v, "$.kafka", check, cfg);
	cfg_object_apply(errs, json_object_get(root, "topics"), "$.topics",
			 cfg_topics_fields,
			 sizeof(cfg_topics_fields) /
				 sizeof(cfg_topics_fields[0]),
			 &cfg->topics);
	cfg_object_apply(errs, json_object_get(root, "process"), "$.process",
			 cfg_process_fields,
			 sizeof(cfg_process_fields) /
				 sizeof(cfg_process_fields[0]),
			 &cfg->process);
	if ((v = json_object_get(root, "scoring")))
		cfg_scoring_parse(errs, v, "$.scoring", &ec->scoring);
	cfg_fit_parse(errs, json_object_get(root, "fit"), "$.fit", &ec->fit);
	if ((v = json_object_get(root, "qualification")))
		cfg_qualify_parse(errs, v, "$.qualification", &ec->qualify);
	/* Teams first: routing resolves team names against them. */
	if ((v = json_object_get(root, "teams")))
		cfg_teams_parse(errs, v, "$.teams", &ec->routing);
	if ((v = json_object_get(root, "routing")))
		cfg_routing_parse(errs, v, "$.routing", &ec->routing);
	cfg_handoff_reps_check(errs, cfg);
	cfg_handoff_lengths_check(errs, cfg);
	cfg_commit_interval_check(errs, cfg);
}

static struct config *cfg_from_json(json_t *root, const json_error_t *jerr,
				    config_kafka_check_fn check,
				    struct config_errors *errs)
{
	size_t before = errs->n;
	struct config *cfg;

	if (!root) {
		/* jansson names its own flag; say what is wrong instead */
		const char *text = strstr(jerr->text, "JSON_ALLOW_NUL")
					   ? "a string holds \\u0000, which no "
					     "config string may"
					   : jerr->text;
		if (jerr->line > 0)
			cfg_error(errs, "$",
				  "invalid JSON at line %d, column %d: %s",
				  jerr->line, jerr->column, text);
		else
			cfg_error(errs, "$", "%s", jerr->text);
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		cfg_error(errs, "$", "out of memory");
		json_decref(root);
		return NULL;
	}
	cfg_root_apply(errs, root, check, cfg);
	json_decref(root);
	/* once every section is in: the trait names they read */
	if (errs->n == before && fit_wanted_build(&cfg->engine) < 0)
		cfg_error(errs, "$", "out of memory");
	if (errs->n != before) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * FILE parsed by jansson past a leading byte order mark: RFC 8259 lets a
 * parser ignore one, jansson does not, and its error for one points at an
 * invisible character. Line and column numbers stay what an editor shows.
 */
static json_t *cfg_file_parse(const char *file, json_error_t *jerr)
{
	char head[STRV_BOM_LEN];
	struct stat st;
	json_t *root;
	FILE *f = fopen(file, "rb");

	if (f == NULL) {
		/* jansson's own wording, as json_load_file had it */
		memset(jerr, 0, sizeof(*jerr));
		jerr->line = -1;
		snprintf(jerr->text, sizeof(jerr->text),
			 "unable to open %s: %s", file, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		memset(jerr, 0, sizeof(*jerr));
		jerr->line = -1;
		snprintf(jerr->text, sizeof(jerr->text),
			 "%s is a directory, not a config file", file);
		fclose(f);
		return NULL;
	}
	if (fread(head, 1, STRV_BOM_LEN, f) != STRV_BOM_LEN ||
	    memcmp(head, STRV_BOM, STRV_BOM_LEN) != 0)
		rewind(f);
	root = json_loadf(f, JSON_REJECT_DUPLICATES, jerr);
	fclose(f);
	return root;
}

struct config *config_load_checked(const char *file,
				   config_kafka_check_fn check,
				   struct config_errors *errs)
{
	struct config_errors local = {0};
	struct config *cfg;
	json_error_t jerr;
	json_t *root;

	if (!errs)
		errs = &local;
	root = cfg_file_parse(file, &jerr);
	cfg = cfg_from_json(root, &jerr, check, errs);
	if (cfg)
		cfg->path = cfg_strdup(file);
	config_errors_free(&local);
	return cfg;
}

struct config *config_load(const char *file, struct config_errors *errs)
{
	return config_load_checked(file, NULL, errs);
}

struct config *config_load_string(const char *json, size_t len,
				  struct config_errors *errs)
{
	struct config_errors local = {0};
	struct config *cfg;
	json_error_t jerr;
	json_t *root;

	if (!errs)
		errs = &local;
	if (len >= STRV_BOM_LEN && memcmp(json, STRV_BOM, STRV_BOM_LEN) == 0) {
		json += STRV_BOM_LEN;
		len -= STRV_BOM_LEN;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	cfg = cfg_from_json(root, &jerr, NULL, errs);
	config_errors_free(&local);
	return cfg;
}

void config_topics_free(struct topics_config *t)
{
	free(t->events);
	free(t->feedback);
	free(t->assign);
	free(t->leads_changelog);
	free(t->teams_changelog);
	free(t->dlq);
	free(t->handoff);
	memset(t, 0, sizeof(*t));
}

int config_topics_copy(struct topics_config *dst,
		       const struct topics_config *src)
{
	*dst = *src; /* the flags and counts */
	dst->events = strdup(src->events);
	dst->feedback = strdup(src->feedback);
	dst->assign = strdup(src->assign);
	dst->leads_changelog = strdup(src->leads_changelog);
	dst->teams_changelog = strdup(src->teams_changelog);
	dst->dlq = strdup(src->dlq);
	dst->handoff = strdup(src->handoff);
	if (!dst->events || !dst->feedback || !dst->assign ||
	    !dst->leads_changelog || !dst->teams_changelog || !dst->dlq ||
	    !dst->handoff) {
		config_topics_free(dst);
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	struct process_config *p;

	if (!cfg)
		return;
	p = &cfg->process;
	for (size_t i = 0; i < cfg->nkafka; i++) {
		free(cfg->kafka[i].key);
		free(cfg->kafka[i].value);
	}
	free(cfg->kafka);
	config_topics_free(&cfg->topics);
	free(p->instance_id);
	free(p->transactional_id_prefix);
	free(p->group_id);
	free(p->http_listen);
	cfg_scoring_free(&cfg->engine.scoring);
	cfg_fit_free(&cfg->engine.fit);
	cfg_qualify_free(&cfg->engine.qualify);
	cfg_routing_free(&cfg->engine.routing);
	free(cfg->path);
	free(cfg);
}

void config_errors_free(struct config_errors *errs)
{
	if (!errs)
		return;
	free(errs->v);
	errs->v = NULL;
	errs->n = errs->cap = 0;
}

void config_summary(const struct config *cfg, char *buf, size_t size)
{
	const struct engine_config *ec = &cfg->engine;
	size_t reps = 0;

	for (size_t i = 0; i < ec->routing.nteams; i++)
		reps += ec->routing.teams[i].nreps;
	snprintf(buf, size,
		 "ok: %zu scoring rules, %zu fit rules, %zu territories, %zu "
		 "teams, %zu reps",
		 ec->scoring.nrules, ec->fit.nrules, ec->routing.nterritories,
		 ec->routing.nteams, reps);
}

const struct team *config_team_find(const struct engine_config *ec,
				    const char *name)
{
	for (size_t i = 0; i < ec->routing.nteams; i++)
		if (ec->routing.teams[i].name &&
		    strcmp(ec->routing.teams[i].name, name) == 0)
			return &ec->routing.teams[i];
	return NULL;
}
