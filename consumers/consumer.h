/*
 * consumer.h - the group consumer (subscription and rebalances) and the
 * restore consumer that replays changelog partitions into memory.
 *
 * The group uses the eager range assignor whatever the kafka properties
 * say (co-partitioning of events and feedback, see consumer.c). The
 * pipeline's hooks run before partitions are assigned (restore their state)
 * and before they are revoked (finish the transaction, drop their state).
 */
#ifndef LR_CONSUMER_H
#define LR_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

struct config;

struct consumer_hooks {
	/* Partitions about to be assigned; returns -1 on a fatal error. */
	int (*assign)(const rd_kafka_topic_partition_list_t *parts, void *arg);
	/* Partitions about to be revoked (lost: owned by others already). */
	void (*revoke)(const rd_kafka_topic_partition_list_t *parts, bool lost,
		       void *arg);
	void *arg;
};

struct consumer {
	rd_kafka_t *rk;         /* the group consumer */
	rd_kafka_t *restore_rk; /* assign()-only consumer for changelogs */
	rd_kafka_queue_t *queue;
	struct consumer_hooks hooks;
	bool failed; /* a hook failed: the pipeline stops */
};

/*
 * Create both handles from base (callbacks, opaque; not consumed) and the
 * user's properties, and subscribe to the events, feedback and assign
 * topics. The group consumer's queue (c->queue) carries its messages,
 * rebalances and errors: the pipeline wakes on it.
 */
struct consumer *consumer_new(const struct config *cfg,
			      const rd_kafka_conf_t *base,
			      const struct consumer_hooks *hooks, char *errstr,
			      size_t errsize);
/* Leave the group, waiting at most timeout_ms, then destroy. */
void consumer_free(struct consumer *c, int timeout_ms);

/* Called for each changelog record during a restore. */
typedef void(consumer_restore_fn)(int32_t partition,
				  const rd_kafka_message_t *msg, void *arg);
/* Called about once a second while a restore runs, and once at its end,
 * with the records replayed so far: a restore holds the caller's loop, and
 * a large one outlasts systemd's watchdog and start timeout. Returning
 * false gives the restore up (the daemon is stopping). */
typedef bool(consumer_progress_fn)(long records, void *arg);

/* consumer_restore's result when its progress function gave it up. */
#define CONSUMER_RESTORE_STOPPED (-2)

/*
 * Replay partitions parts[0..n) of topic from the beginning to the end
 * (read_committed: committed records only; the end is the high watermark,
 * so an open transaction is waited for, not cut), calling fn per record
 * and progress (if not NULL) as above, both with arg. Returns the number
 * of records, -1 when timeout_ms passed with no progress (no record and no
 * partition reaching its end): a restore may take as long as its state
 * needs, a stuck one does not; or CONSUMER_RESTORE_STOPPED.
 */
long consumer_restore(struct consumer *c, const char *topic,
		      const int32_t *parts, int n, consumer_restore_fn *fn,
		      consumer_progress_fn *progress, void *arg,
		      int timeout_ms);

/*
 * Rewind partitions to their committed offsets (the beginning where none
 * is committed). Returns 0 or -1.
 */
int consumer_rewind(struct consumer *c,
		    const rd_kafka_topic_partition_list_t *parts,
		    int timeout_ms);

#endif
