/*
 * config.h - the whole leadrouter configuration, loaded from one JSON file.
 *
 * config_load parses and validates everything (engine rules, topics, Kafka
 * properties, process settings) and reports every error it finds with its
 * JSON path, so an operator fixes a file in one pass. A loaded config is
 * immutable; a reload builds a new one and swaps it between transactions.
 */
#ifndef LR_CONFIG_H
#define LR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/rules.h"

struct config_kv {
	char *key;
	char *value;
};

struct topics_config {
	char *events;          /* marketing.events */
	char *feedback;        /* sales.feedback */
	char *assign;          /* leadrouter.assign (internal, key = team) */
	char *leads_changelog; /* leadrouter.leads (internal, compacted) */
	char *teams_changelog; /* leadrouter.teams (internal, compacted) */
	char *dlq;             /* leadrouter.dlq */
	char *handoff;         /* template with {team} and {rep} */
	bool create_internal; /* create assign/changelog/dlq topics when missing
			       */
	int partitions; /* partitions for created topics; 0: as the events topic
			 */
	int replication_factor; /* for created topics */
};

struct process_config {
	char *instance_id; /* stable id; transactional.id = prefix + id */
	char *transactional_id_prefix;
	char *group_id;
	int commit_interval_ms;   /* default 100 */
	int commit_max_records;   /* default 1000 */
	char *http_listen;        /* "127.0.0.1:9464"; "" disables */
	int log_level;            /* LOG_ERR .. LOG_DEBUG (syslog numbers) */
	int64_t lead_idle_ttl_ms; /* idle leads with ~0 score are deleted */
	double lead_min_score; /* "~0": below this the score counts as gone */
	/* Events dated further ahead of the wall clock are refused; 0: no
	 * bound. */
	int64_t event_max_ahead_ms;
};

struct config {
	char *path;
	struct config_kv *kafka; /* librdkafka properties, passed through */
	size_t nkafka;
	struct topics_config topics;
	struct process_config process;
	struct engine_config engine;
};

/* One validation error: JSON path ("$.teams[1].reps[0].tz") and message. */
struct config_error {
	char path[256];
	char msg[256];
};

struct config_errors {
	struct config_error *v;
	size_t n, cap;
};

/*
 * Load and validate FILE. Returns a new config, or NULL with every error in
 * errs (which the caller frees with config_errors_free). Kafka values of the
 * form "@file:/path" are replaced by that file's contents (for secrets). A
 * UTF-8 byte order mark at the start of the file is skipped.
 */
struct config *config_load(const char *file, struct config_errors *errs);

/*
 * A check of one kafka property that config/ cannot make itself: the
 * daemon passes one that asks librdkafka (kafka_conf_check), so that
 * config/ does not depend on it. Returns 0, or -1 with why in msg. secret
 * says the value was read from an "@file:" secret: msg must not show it.
 */
typedef int (*config_kafka_check_fn)(const char *key, const char *value,
				     bool secret, char *msg, size_t size);

/* config_load, with every kafka property also put to check; its failures
 * are reported at the property's path among the other errors. */
struct config *config_load_checked(const char *file,
				   config_kafka_check_fn check,
				   struct config_errors *errs);
/* The same from an in-memory JSON text (tests, fuzzing). */
struct config *config_load_string(const char *json, size_t len,
				  struct config_errors *errs);
void config_free(struct config *cfg);
void config_errors_free(struct config_errors *errs);
/*
 * What a valid config cannot do, in warns (path and message, as errors):
 * a score_threshold no lead can reach because every rule that adds points
 * has a cap_total and together they add less; a min_grade above what the
 * fit rules can add up to. --check-config prints them and still exits 0.
 */
void config_warnings(const struct config *cfg, struct config_errors *warns);

/* A deep copy of the topic names, for code that must keep them across a
 * config swap (topics need a restart to change); 0 or -1. */
int config_topics_copy(struct topics_config *dst,
		       const struct topics_config *src);
void config_topics_free(struct topics_config *t);

/* One-line summary for --check-config: "ok: 12 rules, 3 teams, 9 reps, ..." */
void config_summary(const struct config *cfg, char *buf, size_t size);

/* Lookup helpers. */
const struct team *config_team_find(const struct engine_config *ec,
				    const char *name);

#endif
