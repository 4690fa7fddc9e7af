/*
 * kafka.h - what the daemon's Kafka handles share: the configuration every
 * handle starts from, the check of the config's kafka properties, the
 * topic layout checked (and completed) at start, and how the start-up
 * waits for Kafka learn that the daemon is to stop.
 */
#ifndef LR_KAFKA_H
#define LR_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/*
 * How a start-up step learns that the daemon is to stop (SIGTERM or
 * SIGINT before the event loop runs): it waits for Kafka in slices of at
 * most KAFKA_WAIT_SLICE_MS and asks fn(arg) between them; when fn returns
 * true it gives up at once, logging nothing more (the caller said why).
 * A NULL kafka_stop, or fn, never stops.
 */
#define KAFKA_WAIT_SLICE_MS 250

struct kafka_stop {
	bool (*fn)(void *arg);
	void *arg;
};

static inline bool kafka_stop_asked(const struct kafka_stop *stop)
{
	return stop != NULL && stop->fn != NULL && stop->fn(stop->arg);
}

/* Partition counts the state is laid out by. */
struct kafka_layout {
	int nleads; /* events = feedback = leads changelog */
	int nteams; /* assign = teams changelog */
};

/*
 * The conf every handle starts from: an error callback that logs each
 * change of broker reachability once (not once per retry) and records a
 * fatal error for kafka_fatal().
 */
rd_kafka_conf_t *kafka_conf_base(void);
/* True once librdkafka raised a fatal error on any handle. */
bool kafka_fatal(void);
/* Note that a request succeeded: clears the "brokers down" state. */
void kafka_brokers_up(void);

/*
 * A copy of base (callbacks, opaque) with, in this order: defaults, the
 * user's kafka properties, forced. defaults and forced are NULL-terminated
 * key, value lists (may be NULL). With who set (e.g. "consumer"), a user
 * property that forced overrides with another value is logged as a warning
 * (once per handle kind: pass NULL for a second handle of the same kind).
 * Returns NULL with errstr set.
 */
rd_kafka_conf_t *kafka_conf_make(const rd_kafka_conf_t *base,
				 const struct config *cfg,
				 const char *const *defaults,
				 const char *const *forced, const char *who,
				 char *errstr, size_t errsize);

/*
 * A config_kafka_check_fn: sets key to value on a scratch conf, as
 * kafka_conf_make will (no client, no network), and returns 0, or -1 with
 * librdkafka's reason in msg. A rejected secret value is not shown.
 */
int kafka_conf_check(const char *key, const char *value, bool secret, char *msg,
		     size_t size);

/*
 * Check that the input topics exist and are co-partitioned, create the
 * internal and handoff topics when topics.create_internal allows it, and
 * fill in the layout. Each wait for the cluster (up to a minute for its
 * metadata when no broker answers) is cut into slices that ask stop.
 * Logs each problem; returns 0, or -1 on a problem or when stop asked.
 */
int kafka_topics_prepare(rd_kafka_t *rk, const struct config *cfg,
			 struct kafka_layout *layout,
			 const struct kafka_stop *stop);

/* The handoff topic for a team and rep (template with {team} / {rep}). */
int kafka_handoff_topic(const char *tmpl, const char *team, const char *rep,
			char *buf, size_t size);

#endif
