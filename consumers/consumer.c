/*
 * consumer.c - the group consumer and the changelog restore consumer.
 *
 * The group uses the eager range assignor, forced over the user's kafka
 * properties: partition p of the events topic and partition p of the
 * feedback topic share lead table p, and range hands the same partition
 * numbers of equally sized topics to the same member, which
 * cooperative-sticky does not promise. Eager means every rebalance revokes
 * the whole assignment first (the pipeline commits its transaction and
 * drops all state) and then assigns the new one (state is restored).
 *
 * Restores run synchronously inside the rebalance callback, before the new
 * partitions are handed to the group consumer: librdkafka fetches nothing
 * for a partition that is not assigned yet, so no record of it can be
 * processed against half-restored state (the effect of pausing it until
 * the restore is done, without the pause). The restore handle uses assign()
 * only and never commits; its group.id exists because librdkafka's
 * consumer API needs one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/config.h"
#include "../daemon/kafka.h"
#include "../daemon/log.h"
#include "consumer.h"

static int64_t consumer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void consumer_log_parts(const char *what,
			       const rd_kafka_topic_partition_list_t *parts)
{
	char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < parts->cnt && n < sizeof(buf) - 64; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s[%d]",
				      i ? " " : "", parts->elems[i].topic,
				      (int)parts->elems[i].partition);
	log_info("consumer: %s %d partition(s): %s", what, parts->cnt, buf);
}

/*
 * Eager assign: the hook restores the state of every partition before
 * librdkafka may fetch any of them. When the restore failed, nothing is
 * assigned (the pipeline stops; another member takes the partitions).
 */
static void consumer_assign(struct consumer *c, rd_kafka_t *rk,
			    rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_resp_err_t err;

	consumer_log_parts("assigned", parts);
	if (c->hooks.assign(parts, c->hooks.arg) < 0) {
		c->failed = true;
		rd_kafka_assign(rk, NULL);
		return;
	}
	err = rd_kafka_assign(rk, parts);
	if (err) {
		log_warnx("consumer: assign failed: %s", rd_kafka_err2str(err));
		c->failed = true;
	}
}

/*
 * Eager revoke: the whole assignment goes. The hook commits the open
 * transaction (or aborts it when the partitions are lost, i.e. already
 * owned by another member) while the positions are still ours, then drops
 * the state.
 */
static void consumer_revoke(struct consumer *c, rd_kafka_t *rk,
			    rd_kafka_topic_partition_list_t *parts, bool lost)
{
	consumer_log_parts(lost ? "lost" : "revoked", parts);
	c->hooks.revoke(parts, lost, c->hooks.arg);
	rd_kafka_assign(rk, NULL);
}

static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
				  rd_kafka_topic_partition_list_t *parts,
				  void *opaque)
{
	struct consumer *c = rd_kafka_opaque(rk);

	(void)opaque;
	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		consumer_assign(c, rk, parts);
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		consumer_revoke(c, rk, parts, rd_kafka_assignment_lost(rk));
		break;
	default:
		/* Whatever we held may be another member's by now. */
		log_warnx("consumer: rebalance failed: %s",
			  rd_kafka_err2str(err));
		if (parts)
			consumer_revoke(c, rk, parts, true);
		else
			rd_kafka_assign(rk, NULL);
		break;
	}
}

static rd_kafka_t *consumer_handle_new(const struct config *cfg,
				       const rd_kafka_conf_t *base,
				       const char *group, bool restore,
				       struct consumer *c, char *errstr,
				       size_t errsize)
{
	/*
	 * Forced: co-partitioning (range, see the top of the file), offsets
	 * only through transactions, committed input only, and the whole
	 * input when the group has committed nothing yet (latest would skip
	 * what was produced before the first start). The last pair is the
	 * restore handle's only (the group consumer's list ends before it):
	 * the end of an empty or drained partition is reported after one
	 * fetch wait, and a rebalance waits for every restore.
	 */
	const char *const forced[] = {"group.id",
				      group,
				      "partition.assignment.strategy",
				      "range",
				      "enable.auto.commit",
				      "false",
				      "enable.auto.offset.store",
				      "false",
				      "isolation.level",
				      "read_committed",
				      "auto.offset.reset",
				      "earliest",
				      "enable.partition.eof",
				      restore ? "true" : "false",
				      restore ? "fetch.wait.max.ms" : NULL,
				      "20",
				      NULL};

	/*
	 * Defaults the user's kafka properties may override. A
	 * read_committed fetch sees a transaction's records only once its
	 * marker lands, and a fetch with nothing visible waits in the
	 * broker up to fetch.wait.max.ms (librdkafka: 500): stage 2 would
	 * see stage 1's committed commands up to that much late.
	 */
	const char *const defaults[] = {"fetch.wait.max.ms", "50", NULL};
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;

	conf = kafka_conf_make(base, cfg, restore ? NULL : defaults, forced,
			       restore ? NULL : "consumer", errstr, errsize);
	if (conf == NULL)
		return NULL;
	if (!restore)
		rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
	rd_kafka_conf_set_opaque(conf, c);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errsize);
	if (rk == NULL)
		rd_kafka_conf_destroy(conf);
	return rk;
}

static int consumer_subscribe(struct consumer *c, const struct config *cfg,
			      char *errstr, size_t errsize)
{
	rd_kafka_topic_partition_list_t *topics =
		rd_kafka_topic_partition_list_new(3);
	rd_kafka_resp_err_t err;

	rd_kafka_topic_partition_list_add(topics, cfg->topics.events,
					  RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(topics, cfg->topics.feedback,
					  RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(topics, cfg->topics.assign,
					  RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(c->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err) {
		snprintf(errstr, errsize, "subscribe: %s",
			 rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

struct consumer *consumer_new(const struct config *cfg,
			      const rd_kafka_conf_t *base,
			      const struct consumer_hooks *hooks, char *errstr,
			      size_t errsize)
{
	struct consumer *c = calloc(1, sizeof(*c));
	char rgroup[512];

	if (c == NULL) {
		snprintf(errstr, errsize, "out of memory");
		return NULL;
	}
	c->hooks = *hooks;
	snprintf(rgroup, sizeof(rgroup), "%s.restore", cfg->process.group_id);
	c->rk = consumer_handle_new(cfg, base, cfg->process.group_id, false, c,
				    errstr, errsize);
	if (c->rk == NULL)
		goto err;
	c->restore_rk = consumer_handle_new(cfg, base, rgroup, true, c, errstr,
					    errsize);
	if (c->restore_rk == NULL)
		goto err;
	/* Rebalances, errors and logs arrive on the consumer queue. */
	rd_kafka_poll_set_consumer(c->rk);
	rd_kafka_poll_set_consumer(c->restore_rk);
	c->queue = rd_kafka_queue_get_consumer(c->rk);
	if (consumer_subscribe(c, cfg, errstr, errsize) < 0)
		goto err;
	log_info("consumer: subscribed to %s, %s, %s as group %s",
		 cfg->topics.events, cfg->topics.feedback, cfg->topics.assign,
		 cfg->process.group_id);
	return c;
err:
	consumer_free(c, 0);
	return NULL;
}

/*
 * Close without blocking forever: librdkafka's close waits for the group
 * to be left, which never happens while the coordinator is unreachable.
 */
static void consumer_close(rd_kafka_t *rk, int timeout_ms)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_error_t *error = rd_kafka_consumer_close_queue(rk, q);
	int64_t deadline = consumer_now_ms() + timeout_ms;

	if (error) {
		log_warnx("consumer: close: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	while (!rd_kafka_consumer_closed(rk) && consumer_now_ms() < deadline) {
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);

		/* Rebalance events: the revoke hook runs, then unassign. */
		if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
			consumer_rebalance_cb(
				rk, rd_kafka_event_error(ev),
				rd_kafka_event_topic_partition_list(ev), NULL);
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	if (!rd_kafka_consumer_closed(rk))
		log_warnx("consumer: group not left within %d ms; closing "
			  "anyway",
			  timeout_ms);
	rd_kafka_queue_destroy(q);
}

void consumer_free(struct consumer *c, int timeout_ms)
{
	if (c == NULL)
		return;
	if (c->queue)
		rd_kafka_queue_destroy(c->queue);
	if (c->rk) {
		if (timeout_ms > 0)
			consumer_close(c->rk, timeout_ms);
		rd_kafka_destroy_flags(c->rk,
				       RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	}
	if (c->restore_rk)
		rd_kafka_destroy_flags(c->restore_rk,
				       RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	free(c);
}

/* Index of partition in parts[0..n), or -1. */
static int consumer_part_index(const int32_t *parts, int n, int32_t partition)
{
	for (int i = 0; i < n; i++)
		if (parts[i] == partition)
			return i;
	return -1;
}

/*
 * A read_committed consumer reports the end of a partition at its last
 * stable offset (LSO). Below the high watermark that means an open
 * transaction: maybe a previous owner's commit whose markers are not all
 * written yet (EndTxn returns before they are), whose records this state
 * must include. So the end counts only once it reaches the high watermark
 * of the same fetch; an open transaction of a dead owner ends within its
 * transaction.timeout.ms (aborted), and the wait with it.
 */
static bool consumer_restore_at_end(struct consumer *c, const char *topic,
				    const rd_kafka_message_t *m, bool *waiting)
{
	int64_t lo = -1, hi = -1;

	if (rd_kafka_get_watermark_offsets(c->restore_rk, topic, m->partition,
					   &lo,
					   &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    hi < 0 || m->offset >= hi)
		return true;
	if (!*waiting)
		log_info("consumer: restore: %s [%d]: a transaction is open "
			 "between offsets %lld and %lld; waiting for it to end",
			 topic, (int)m->partition, (long long)m->offset,
			 (long long)hi);
	*waiting = true;
	return false;
}

/* How often a restore reports its progress. */
#define CONSUMER_PROGRESS_MS 1000

static long consumer_restore_poll(struct consumer *c, const char *topic,
				  const int32_t *parts, int n,
				  consumer_restore_fn *fn,
				  consumer_progress_fn *progress, void *arg,
				  int timeout_ms)
{
	int64_t now = consumer_now_ms();
	int64_t idle_until = now + timeout_ms;
	int64_t tick = now + CONSUMER_PROGRESS_MS;
	bool *done = calloc((size_t)n * 2, sizeof(*done));
	bool *waiting = done ? done + n : NULL;
	int ndone = 0;
	long records = 0;
	bool stopped = false;

	while (done && ndone < n && now < idle_until && !stopped) {
		rd_kafka_message_t *m =
			rd_kafka_consumer_poll(c->restore_rk, 100);
		int i;

		now = consumer_now_ms();
		if (progress && now >= tick) {
			stopped = !progress(records, arg);
			tick = now + CONSUMER_PROGRESS_MS;
		}
		if (m == NULL)
			continue;
		if (stopped) {
			rd_kafka_message_destroy(m);
			break;
		}
		i = consumer_part_index(parts, n, m->partition);
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (i >= 0 && !done[i] &&
			    consumer_restore_at_end(c, topic, m, &waiting[i])) {
				done[i] = true;
				ndone++;
				idle_until = now + timeout_ms;
			}
		} else if (m->err) {
			log_info("consumer: restore: %s",
				 rd_kafka_message_errstr(m));
		} else if (i >= 0 && !done[i]) {
			fn(m->partition, m, arg);
			records++;
			idle_until = now + timeout_ms;
		}
		rd_kafka_message_destroy(m);
	}
	free(done);
	if (stopped)
		return CONSUMER_RESTORE_STOPPED;
	if (progress)
		progress(records, arg);
	return ndone == n ? records : -1;
}

long consumer_restore(struct consumer *c, const char *topic,
		      const int32_t *parts, int n, consumer_restore_fn *fn,
		      consumer_progress_fn *progress, void *arg, int timeout_ms)
{
	rd_kafka_topic_partition_list_t *l;
	long records;

	if (n == 0)
		return 0;
	l = rd_kafka_topic_partition_list_new(n);
	for (int i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(c->restore_rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	records = consumer_restore_poll(c, topic, parts, n, fn, progress, arg,
					timeout_ms);
	rd_kafka_assign(c->restore_rk, NULL);
	if (records == -1)
		log_warnx("consumer: restore of %s: no progress for %d ms",
			  topic, timeout_ms);
	return records;
}

int consumer_rewind(struct consumer *c,
		    const rd_kafka_topic_partition_list_t *parts,
		    int timeout_ms)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t err;

	if (parts->cnt == 0)
		return 0;
	l = rd_kafka_topic_partition_list_copy(parts);
	err = rd_kafka_committed(c->rk, l, timeout_ms);
	if (err) {
		log_warnx("consumer: reading committed offsets: %s",
			  rd_kafka_err2str(err));
		rd_kafka_topic_partition_list_destroy(l);
		return -1;
	}
	for (int i = 0; i < l->cnt; i++)
		if (l->elems[i].offset < 0)
			l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	error = rd_kafka_seek_partitions(c->rk, l, timeout_ms);
	rd_kafka_topic_partition_list_destroy(l);
	if (error) {
		log_warnx("consumer: rewind: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return -1;
	}
	log_info("consumer: rewound %d partition(s) to the committed offsets",
		 parts->cnt);
	return 0;
}
