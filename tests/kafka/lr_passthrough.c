/*
 * lr_passthrough.c - the pass-through baseline of the Kafka benchmark.
 *
 * The daemon's Kafka setup with no processing in between: a consumer in a
 * group (read_committed, no auto commit) and one transactional producer;
 * every input record is copied (key and value) to the output topic, and
 * every --interval-ms (default 100) or --max-records (default 1000) records,
 * whichever comes first, the consumed offsets go into the transaction with
 * rd_kafka_send_offsets_to_transaction and the transaction commits. What the
 * daemon adds on top of this is the cost of leadrouter itself.
 *
 * Abortable errors abort the transaction and rewind the consumer to the
 * committed offsets; fatal ones end the process (exit 1). SIGTERM/SIGINT
 * commit the open transaction and exit 0; so does --exit-idle MS once
 * nothing arrived for MS after at least one record.
 *
 * Like the daemon it defaults the producer's retry.backoff.ms to 20 (also
 * librdkafka's back-off when the broker answers CONCURRENT_TRANSACTIONS
 * right after a commit: it bounds the commit rate) and the consumer's
 * fetch.wait.max.ms to 50. -X prop=value sets a producer property.
 *
 * Usage: lr_passthrough -b BOOTSTRAP -i IN_TOPIC -o OUT_TOPIC -g GROUP
 *                       [--txn-id ID] [--interval-ms MS] [--max-records N]
 *                       [--exit-idle MS] [-X prop=value]...
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop_flag;
static volatile int delivery_failed;
static rd_kafka_t *producer;
static bool txn_open;
static int64_t in_txn; /* records in the open transaction */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_conf(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "lr_passthrough: %s=%s: %s\n", k, v, err);
		exit(2);
	}
}

static void fatal(const char *what, rd_kafka_error_t *e)
{
	fprintf(stderr, "lr_passthrough: fatal: %s: %s\n", what,
		e ? rd_kafka_error_string(e) : "");
	exit(1);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		fprintf(stderr, "lr_passthrough: delivery failed: %s\n",
			rd_kafka_err2str(m->err));
		delivery_failed = 1;
	}
}

/* Rewind the consumer to the committed offsets (beginning when none). */
static void rewind_consumer(rd_kafka_t *consumer)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	if (rd_kafka_assignment(consumer, &a) || !a)
		return;
	if (a->cnt && rd_kafka_committed(consumer, a, 10000) == 0) {
		for (int i = 0; i < a->cnt; i++)
			if (a->elems[i].offset < 0)
				a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_error_t *e =
			rd_kafka_seek_partitions(consumer, a, 10000);
		if (e)
			rd_kafka_error_destroy(e);
	}
	rd_kafka_topic_partition_list_destroy(a);
}

static void begin(void)
{
	rd_kafka_error_t *e = rd_kafka_begin_transaction(producer);
	if (e)
		fatal("begin_transaction", e);
	txn_open = true;
}

/*
 * Commit the open transaction with the consumer's positions. Returns 0, or
 * -1 after an abort (the consumer is rewound).
 */
static int commit(rd_kafka_t *consumer)
{
	rd_kafka_error_t *e = NULL;
	rd_kafka_topic_partition_list_t *pos = NULL;
	if (delivery_failed)
		goto abort;
	if (rd_kafka_assignment(consumer, &pos) == 0 && pos && pos->cnt) {
		rd_kafka_position(consumer, pos);
		rd_kafka_consumer_group_metadata_t *cgmd =
			rd_kafka_consumer_group_metadata(consumer);
		for (;;) {
			e = rd_kafka_send_offsets_to_transaction(producer, pos,
								 cgmd, -1);
			if (!e || !rd_kafka_error_is_retriable(e))
				break;
			rd_kafka_error_destroy(e);
		}
		rd_kafka_consumer_group_metadata_destroy(cgmd);
	}
	if (pos)
		rd_kafka_topic_partition_list_destroy(pos);
	if (e) {
		if (rd_kafka_error_txn_requires_abort(e))
			goto abort;
		fatal("send_offsets_to_transaction", e);
	}
	for (;;) {
		e = rd_kafka_commit_transaction(producer, -1);
		if (!e || !rd_kafka_error_is_retriable(e))
			break;
		rd_kafka_error_destroy(e);
	}
	if (e) {
		if (rd_kafka_error_txn_requires_abort(e))
			goto abort;
		fatal("commit_transaction", e);
	}
	txn_open = false;
	return 0;
abort:
	if (e) {
		fprintf(stderr, "lr_passthrough: aborting: %s\n",
			rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
	e = rd_kafka_abort_transaction(producer, -1);
	if (e)
		fatal("abort_transaction", e);
	txn_open = false;
	delivery_failed = 0;
	rewind_consumer(consumer);
	return -1;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_assign(rk, parts);
		return;
	}
	if (txn_open) {
		if (rd_kafka_assignment_lost(rk)) {
			rd_kafka_error_t *e =
				rd_kafka_abort_transaction(producer, -1);
			if (e)
				fatal("abort_transaction", e);
			txn_open = false;
		} else {
			commit(rk);
		}
		in_txn = 0;
		begin();
	}
	rd_kafka_assign(rk, NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: lr_passthrough -b BOOTSTRAP -i IN -o OUT -g "
			"GROUP [--txn-id ID] [--interval-ms MS] "
			"[--max-records N] [--exit-idle MS] "
			"[-X prop=value]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL, *in = NULL, *out = NULL, *group = NULL;
	const char *txn_id = NULL;
	int64_t interval_ms = 100, max_records = 1000, exit_idle = -1;
	char err[512], txn_buf[128];

	rd_kafka_conf_t *pconf = rd_kafka_conf_new();
	rd_kafka_conf_t *cconf = rd_kafka_conf_new();

	/* The daemon's own defaults (producers/producer.c,
	 * consumers/consumer.c), so the baseline stays comparable; -X can
	 * still override the producer's. */
	set_conf(pconf, "retry.backoff.ms", "20");
	set_conf(cconf, "fetch.wait.max.ms", "50");
	static const struct option opts[] = {
		{"txn-id", required_argument, NULL, 't'},
		{"interval-ms", required_argument, NULL, 'm'},
		{"max-records", required_argument, NULL, 'n'},
		{"exit-idle", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:i:o:g:X:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 't':
			txn_id = optarg;
			break;
		case 'm':
			interval_ms = atoll(optarg);
			break;
		case 'n':
			max_records = atoll(optarg);
			break;
		case 'e':
			exit_idle = atoll(optarg);
			break;
		case 'X': {
			char *eq = strchr(optarg, '=');
			if (!eq)
				usage();
			*eq = '\0';
			set_conf(pconf, optarg, eq + 1);
			break;
		}
		default:
			usage();
		}
	}
	if (!bootstrap || !in || !out || !group)
		usage();
	if (!txn_id) {
		snprintf(txn_buf, sizeof(txn_buf), "lr_passthrough-%s", group);
		txn_id = txn_buf;
	}

	set_conf(pconf, "bootstrap.servers", bootstrap);
	set_conf(pconf, "transactional.id", txn_id);
	set_conf(pconf, "partitioner", "murmur2_random");
	set_conf(pconf, "linger.ms", "5");
	rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
	producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
	if (!producer) {
		fprintf(stderr, "lr_passthrough: %s\n", err);
		return 2;
	}

	set_conf(cconf, "bootstrap.servers", bootstrap);
	set_conf(cconf, "group.id", group);
	set_conf(cconf, "enable.auto.commit", "false");
	set_conf(cconf, "isolation.level", "read_committed");
	set_conf(cconf, "auto.offset.reset", "earliest");
	rd_kafka_conf_set_rebalance_cb(cconf, rebalance_cb);
	rd_kafka_t *consumer =
		rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err));
	if (!consumer) {
		fprintf(stderr, "lr_passthrough: %s\n", err);
		return 2;
	}
	rd_kafka_poll_set_consumer(consumer);

	rd_kafka_error_t *e = rd_kafka_init_transactions(producer, 30000);
	if (e)
		fatal("init_transactions", e);
	rd_kafka_topic_partition_list_t *sub =
		rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, in, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t se = rd_kafka_subscribe(consumer, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (se) {
		fprintf(stderr, "lr_passthrough: subscribe: %s\n",
			rd_kafka_err2str(se));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	begin();

	int64_t copied = 0, commits = 0, aborts = 0;
	int64_t t0 = mono_ms(), last_commit = t0, last_msg = -1;
	int64_t first_msg = -1;
	while (!stop_flag) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 5);
		int64_t now = mono_ms();
		if (m && !m->err) {
			if (first_msg < 0)
				first_msg = now;
			last_msg = now;
			for (;;) {
				rd_kafka_resp_err_t pe = rd_kafka_producev(
					producer, RD_KAFKA_V_TOPIC(out),
					RD_KAFKA_V_KEY(m->key, m->key_len),
					RD_KAFKA_V_VALUE(m->payload, m->len),
					RD_KAFKA_V_MSGFLAGS(
						RD_KAFKA_MSG_F_COPY),
					RD_KAFKA_V_END);
				if (pe != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
					if (pe)
						delivery_failed = 1;
					break;
				}
				rd_kafka_poll(producer, 10);
			}
			copied++;
			in_txn++;
		} else if (m && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			fprintf(stderr, "lr_passthrough: consume: %s\n",
				rd_kafka_message_errstr(m));
		}
		if (m)
			rd_kafka_message_destroy(m);
		rd_kafka_poll(producer, 0);
		if (in_txn && (in_txn >= max_records ||
			       now - last_commit >= interval_ms)) {
			if (commit(consumer) == 0)
				commits++;
			else {
				aborts++;
				copied -= in_txn;
			}
			begin();
			in_txn = 0;
			last_commit = mono_ms();
		}
		if (exit_idle >= 0 && last_msg >= 0 && !in_txn &&
		    now - last_msg >= exit_idle)
			break;
	}
	if (txn_open) {
		if (in_txn && commit(consumer) != 0)
			copied -= in_txn;
		else if (!in_txn) {
			e = rd_kafka_abort_transaction(producer, -1);
			if (e)
				rd_kafka_error_destroy(e);
		}
		txn_open = false;
	}
	int64_t dt = (last_msg >= 0 ? last_msg : mono_ms()) -
		     (first_msg >= 0 ? first_msg : t0);
	fprintf(stderr,
		"lr_passthrough: copied %" PRId64 " records, %" PRId64
		" commits, %" PRId64 " aborts, %.0f records/s between the "
		"first and the last record\n",
		copied, commits, aborts,
		dt > 0 ? (double)copied * 1000.0 / (double)dt : 0.0);
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
	rd_kafka_flush(producer, 10000);
	rd_kafka_destroy(producer);
	return 0;
}
