/*
 * smoke_txn: proves that librdkafka (2.0.2 in Debian 12) and the test broker
 * (Apache Kafka 4.x, tests/kafka/broker.sh) agree on everything leadrouter
 * relies on for exactly-once processing:
 *
 *   1. topics are created with the admin API;
 *   2. a transactional producer commits 100 messages and aborts 50 more;
 *   3. a read_committed consumer in a consumer group (cooperative-sticky)
 *      sees exactly the 100 committed messages;
 *   4. a consume-transform-produce loop commits outputs and input offsets
 *      together (rd_kafka_send_offsets_to_transaction with the consumer
 *      group metadata), and rd_kafka_committed reads the offsets back;
 *   5. the outputs are visible to a read_committed reader, and a restarted
 *      member of the group resumes after the committed offsets (nothing is
 *      delivered twice);
 *   6. a second producer with the same transactional.id fences the first,
 *      whose next transaction fails with a fatal error.
 *
 * Found here: with cooperative-sticky, librdkafka 2.0.2's
 * rd_kafka_consumer_close() sends no LeaveGroup, so the next member of the
 * group waits up to session.timeout.ms for the old one to time out (5 s
 * seen with 6 s). rd_kafka_unsubscribe() followed by polling until the
 * assignment is empty does leave the group; leave_and_close() does that.
 *
 * Usage: smoke_txn [-b BOOTSTRAP] (default: $BOOTSTRAP). Topic, group and
 * transactional ids carry a unique suffix, so runs can share a broker.
 * Prints one PASS or FAIL line per check; exits 1 if any check failed.
 */
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PARTS       3
#define N_COMMIT    100
#define N_ABORT     50
#define STEP_MS     60000
#define TXN_TIMEOUT 30000

static const char *bootstrap;
static char topic_in[64], topic_out[64], group1[64], group2[64], txid[64];
static int failures;
static double t_start;
static int dr_ok, dr_err;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s [%4.1fs]: ", ok ? "PASS" : "FAIL", now_s() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static void die(const char *what, const char *why)
{
	check(0, "%s: %s", what, why);
	printf("smoke_txn: stopped after a fatal step (%d failure(s))\n",
	       failures);
	exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		die("config", err);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		dr_err++;
		fprintf(stderr, "smoke_txn: delivery failed: %s\n",
			rd_kafka_err2str(m->err));
	} else {
		dr_ok++;
	}
}

static rd_kafka_t *new_producer(const char *transactional_id)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	set(conf, "bootstrap.servers", bootstrap);
	set(conf, "linger.ms", "5");
	if (transactional_id) {
		set(conf, "transactional.id", transactional_id);
		set(conf, "transaction.timeout.ms", "30000");
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk)
		die("producer", err);
	return rk;
}

static rd_kafka_t *new_consumer(const char *group)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	set(conf, "bootstrap.servers", bootstrap);
	set(conf, "group.id", group ? group : "smoke-unused");
	set(conf, "isolation.level", "read_committed");
	set(conf, "auto.offset.reset", "earliest");
	set(conf, "enable.auto.commit", "false");
	set(conf, "enable.partition.eof", "true");
	set(conf, "partition.assignment.strategy", "cooperative-sticky");
	set(conf, "session.timeout.ms", "6000");
	set(conf, "heartbeat.interval.ms", "500");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		die("consumer", err);
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

static void subscribe(rd_kafka_t *c, const char *topic)
{
	rd_kafka_topic_partition_list_t *l =
		rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t e;

	rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		die("subscribe", rd_kafka_err2str(e));
}

/*
 * Leave the group actively, then close: unsubscribe and poll until the
 * incremental unassign is done (see the header comment).
 */
static void leave_and_close(rd_kafka_t *c)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	double end = now_s() + 5.0;

	rd_kafka_unsubscribe(c);
	while (now_s() < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
		if (m)
			rd_kafka_message_destroy(m);
		if (rd_kafka_assignment(c, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			int empty = a->cnt == 0;
			rd_kafka_topic_partition_list_destroy(a);
			if (empty)
				break;
		}
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
}

/* Runs a transactional call; a failure is fatal for this test. */
static void txn_ok(const char *what, rd_kafka_error_t *error)
{
	if (error) {
		char why[512];
		snprintf(why, sizeof(why),
			 "%s (retriable=%d abortable=%d "
			 "fatal=%d)",
			 rd_kafka_error_string(error),
			 rd_kafka_error_is_retriable(error),
			 rd_kafka_error_txn_requires_abort(error),
			 rd_kafka_error_is_fatal(error));
		rd_kafka_error_destroy(error);
		die(what, why);
	}
}

static void produce(rd_kafka_t *p, const char *topic, int32_t part,
		    const char *key, const char *val)
{
	rd_kafka_resp_err_t e;

	e = rd_kafka_producev(
		p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
		RD_KAFKA_V_KEY(key, strlen(key)),
		RD_KAFKA_V_VALUE((void *)val, strlen(val)),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	if (e)
		die("produce", rd_kafka_err2str(e));
}

static void create_topics(void)
{
	rd_kafka_t *rk = new_producer(NULL);
	rd_kafka_NewTopic_t *nt[2];
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	size_t n = 0, i;
	char err[512];
	int ok = 1;

	nt[0] = rd_kafka_NewTopic_new(topic_in, PARTS, 1, err, sizeof(err));
	nt[1] = rd_kafka_NewTopic_new(topic_out, PARTS, 1, err, sizeof(err));
	if (!nt[0] || !nt[1])
		die("NewTopic", err);
	rd_kafka_CreateTopics(rk, nt, 2, NULL, q);
	ev = rd_kafka_queue_poll(q, 20000);
	if (!ev)
		die("create topics", "no answer in 20s");
	if (rd_kafka_event_error(ev))
		die("create topics", rd_kafka_event_error_string(ev));
	res = rd_kafka_CreateTopics_result_topics(
		rd_kafka_event_CreateTopics_result(ev), &n);
	for (i = 0; i < n; i++) {
		if (rd_kafka_topic_result_error(res[i])) {
			fprintf(stderr, "smoke_txn: %s: %s\n",
				rd_kafka_topic_result_name(res[i]),
				rd_kafka_topic_result_error_string(res[i]));
			ok = 0;
		}
	}
	check(ok && n == 2, "create topics %s, %s (%d partitions each)",
	      topic_in, topic_out, PARTS);
	rd_kafka_event_destroy(ev);
	rd_kafka_NewTopic_destroy_array(nt, 2);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	if (!ok)
		die("create topics", "see above");
}

/* Step 2: commit N_COMMIT messages, then abort N_ABORT more. */
static void produce_committed_and_aborted(void)
{
	rd_kafka_t *p = new_producer(txid);
	char key[32], val[64];
	int i;

	txn_ok("init_transactions", rd_kafka_init_transactions(p, TXN_TIMEOUT));
	txn_ok("begin_transaction", rd_kafka_begin_transaction(p));
	for (i = 0; i < N_COMMIT; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "committed-%d", i);
		produce(p, topic_in, i % PARTS, key, val);
	}
	txn_ok("commit_transaction",
	       rd_kafka_commit_transaction(p, TXN_TIMEOUT));
	check(dr_ok == N_COMMIT && dr_err == 0,
	      "transaction 1 committed, %d delivered, %d failed", dr_ok,
	      dr_err);

	txn_ok("begin_transaction", rd_kafka_begin_transaction(p));
	for (i = 0; i < N_ABORT; i++) {
		snprintf(key, sizeof(key), "a%d", i);
		snprintf(val, sizeof(val), "aborted-%d", i);
		produce(p, topic_in, i % PARTS, key, val);
	}
	/* Make sure the aborted records really are in the log. */
	rd_kafka_flush(p, 10000);
	txn_ok("abort_transaction", rd_kafka_abort_transaction(p, TXN_TIMEOUT));
	check(1, "transaction 2 (%d messages written) aborted", N_ABORT);
	rd_kafka_destroy(p);
}

/*
 * Consume until every partition of the assignment reported EOF (and at
 * least PARTS partitions did), calling fn for each message. Returns the
 * message count.
 */
static int consume_to_end(rd_kafka_t *c, const char *what,
			  void (*fn)(const rd_kafka_message_t *, void *),
			  void *arg)
{
	int eof[PARTS] = {0};
	int n = 0, neof = 0;
	double end = now_s() + STEP_MS / 1000.0;

	while (neof < PARTS) {
		rd_kafka_message_t *m;

		if (now_s() > end) {
			char why[128];
			snprintf(
				why, sizeof(why),
				"timed out after %d messages, %d/%d partitions "
				"at end",
				n, neof, PARTS);
			die(what, why);
		}
		m = rd_kafka_consumer_poll(c, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < PARTS &&
			    !eof[m->partition]) {
				eof[m->partition] = 1;
				neof++;
			}
		} else if (m->err) {
			fprintf(stderr, "smoke_txn: %s: consumer error: %s\n",
				what, rd_kafka_message_errstr(m));
		} else {
			if (m->partition >= 0 && m->partition < PARTS &&
			    eof[m->partition]) {
				eof[m->partition] = 0;
				neof--;
			}
			n++;
			if (fn)
				fn(m, arg);
		}
		rd_kafka_message_destroy(m);
	}
	return n;
}

struct seen {
	unsigned char key[N_COMMIT];
	int bad;
};

static void note_committed(const rd_kafka_message_t *m, void *arg)
{
	struct seen *s = arg;
	char buf[64];
	int i;

	snprintf(buf, sizeof(buf), "%.*s", (int)m->len,
		 (const char *)m->payload);
	if (sscanf(buf, "committed-%d", &i) == 1 && i >= 0 && i < N_COMMIT)
		s->key[i]++;
	else
		s->bad++;
}

static int all_seen_once(const struct seen *s)
{
	int i;
	for (i = 0; i < N_COMMIT; i++)
		if (s->key[i] != 1)
			return 0;
	return s->bad == 0;
}

/* Step 3: a read_committed group member sees exactly the committed 100. */
static void read_committed(void)
{
	rd_kafka_t *c = new_consumer(group1);
	struct seen s;
	int n;

	memset(&s, 0, sizeof(s));
	subscribe(c, topic_in);
	n = consume_to_end(c, "read_committed consumer", note_committed, &s);
	check(n == N_COMMIT && all_seen_once(&s),
	      "read_committed group consumer saw %d messages (%d not from "
	      "the committed transaction), expected exactly %d",
	      n, s.bad, N_COMMIT);
	leave_and_close(c);
}

struct ctp {
	rd_kafka_t *p;
	rd_kafka_t *c;
	int in_txn;
	int done;
	int batches;
	rd_kafka_topic_partition_list_t *sent; /* the last offsets sent */
};

/* Commit the open transaction with the consumer's current positions. */
static void ctp_commit(struct ctp *x)
{
	rd_kafka_topic_partition_list_t *pos;
	rd_kafka_consumer_group_metadata_t *cgmd;
	rd_kafka_resp_err_t e;

	e = rd_kafka_assignment(x->c, &pos);
	if (e)
		die("assignment", rd_kafka_err2str(e));
	e = rd_kafka_position(x->c, pos);
	if (e)
		die("position", rd_kafka_err2str(e));
	cgmd = rd_kafka_consumer_group_metadata(x->c);
	txn_ok("send_offsets_to_transaction",
	       rd_kafka_send_offsets_to_transaction(x->p, pos, cgmd, -1));
	rd_kafka_consumer_group_metadata_destroy(cgmd);
	txn_ok("commit_transaction (consume-transform-produce)",
	       rd_kafka_commit_transaction(x->p, TXN_TIMEOUT));
	if (x->sent)
		rd_kafka_topic_partition_list_destroy(x->sent);
	x->sent = pos;
	x->in_txn = 0;
	x->batches++;
}

static void transform(const rd_kafka_message_t *m, void *arg)
{
	struct ctp *x = arg;
	char val[96], key[64];

	if (!x->in_txn) {
		txn_ok("begin_transaction", rd_kafka_begin_transaction(x->p));
		x->in_txn = 1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)m->key_len,
		 (const char *)m->key);
	snprintf(val, sizeof(val), "out-%.*s", (int)m->len,
		 (const char *)m->payload);
	produce(x->p, topic_out, m->partition, key, val);
	if (++x->done % 40 == 0)
		ctp_commit(x);
}

static int64_t offset_of(const rd_kafka_topic_partition_list_t *l, int32_t part)
{
	int i;
	for (i = 0; i < l->cnt; i++)
		if (l->elems[i].partition == part)
			return l->elems[i].offset;
	return RD_KAFKA_OFFSET_INVALID;
}

/* Step 4: consume-transform-produce with offsets in the transaction. */
static rd_kafka_t *consume_transform_produce(void)
{
	struct ctp x;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	int n, p, ok = 1;
	int64_t sum = 0;

	memset(&x, 0, sizeof(x));
	x.p = new_producer(txid);
	x.c = new_consumer(group2);
	dr_ok = dr_err = 0;
	txn_ok("init_transactions (second producer instance)",
	       rd_kafka_init_transactions(x.p, TXN_TIMEOUT));
	subscribe(x.c, topic_in);
	n = consume_to_end(x.c, "consume-transform-produce", transform, &x);
	if (x.in_txn)
		ctp_commit(&x);
	check(n == N_COMMIT && dr_ok == N_COMMIT && dr_err == 0,
	      "consume-transform-produce: %d in, %d out delivered, %d failed, "
	      "%d transactions",
	      n, dr_ok, dr_err, x.batches);

	/* The group's offsets, as the broker stored them. */
	l = rd_kafka_topic_partition_list_new(PARTS);
	for (p = 0; p < PARTS; p++)
		rd_kafka_topic_partition_list_add(l, topic_in, p);
	e = rd_kafka_committed(x.c, l, 10000);
	if (e)
		die("rd_kafka_committed", rd_kafka_err2str(e));
	for (p = 0; p < PARTS; p++) {
		int64_t want = x.sent ? offset_of(x.sent, p) : -1;
		int64_t got = offset_of(l, p);
		if (got < 0 || got != want)
			ok = 0;
		sum += got > 0 ? got : 0;
		printf("  %s [%d]: committed %lld, sent %lld\n", topic_in, p,
		       (long long)got, (long long)want);
	}
	check(ok && sum >= N_COMMIT,
	      "rd_kafka_committed returns the offsets sent with the "
	      "transaction (sum %lld)",
	      (long long)sum);
	rd_kafka_topic_partition_list_destroy(l);
	if (x.sent)
		rd_kafka_topic_partition_list_destroy(x.sent);
	leave_and_close(x.c);
	return x.p; /* kept open for the fencing check */
}

static void count_out(const rd_kafka_message_t *m, void *arg)
{
	int *bad = arg;
	if (m->len < 14 || memcmp(m->payload, "out-committed-", 14))
		(*bad)++;
}

/* Step 5: outputs visible; a restarted group member resumes at the end. */
static void verify_outputs_and_resume(void)
{
	rd_kafka_t *c = new_consumer(NULL);
	rd_kafka_topic_partition_list_t *l =
		rd_kafka_topic_partition_list_new(3);
	int p, n, bad = 0;
	double t0;

	for (p = 0; p < PARTS; p++)
		rd_kafka_topic_partition_list_add(l, topic_out, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	n = consume_to_end(c, "read outputs", count_out, &bad);
	check(n == N_COMMIT && bad == 0,
	      "outputs topic holds %d committed transformed messages "
	      "(%d malformed), expected %d",
	      n, bad, N_COMMIT);
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);

	c = new_consumer(group2);
	subscribe(c, topic_in);
	t0 = now_s();
	n = consume_to_end(c, "resume group", NULL, NULL);
	check(n == 0,
	      "a restarted member of the group resumes after the committed "
	      "offsets in %.1fs (%d messages delivered again, expected 0)",
	      now_s() - t0, n);
	leave_and_close(c);
}

/* Step 6: a new instance with the same transactional.id fences the old. */
static void fencing(rd_kafka_t *old)
{
	rd_kafka_t *fresh = new_producer(txid);
	rd_kafka_error_t *error;
	char errstr[256];
	rd_kafka_resp_err_t fatal;
	int is_fatal = 0;

	printf("smoke_txn: librdkafka will now log errors about a fenced "
	       "producer and purged messages: they are expected\n");
	fflush(stdout);
	txn_ok("init_transactions (fencing instance)",
	       rd_kafka_init_transactions(fresh, TXN_TIMEOUT));
	error = rd_kafka_begin_transaction(old);
	if (!error) {
		produce(old, topic_out, 0, "fenced", "must-not-appear");
		error = rd_kafka_commit_transaction(old, TXN_TIMEOUT);
	}
	if (error) {
		is_fatal = rd_kafka_error_is_fatal(error);
		rd_kafka_error_destroy(error);
	}
	fatal = rd_kafka_fatal_error(old, errstr, sizeof(errstr));
	check(is_fatal && fatal,
	      "old producer fenced by a new instance with the same "
	      "transactional.id: fatal error %s",
	      fatal ? rd_kafka_err2name(fatal) : "(none)");
	rd_kafka_destroy(old);
	rd_kafka_destroy(fresh);
}

int main(int argc, char **argv)
{
	unsigned long id;
	rd_kafka_t *p;

	t_start = now_s();
	bootstrap = getenv("BOOTSTRAP");
	if (argc == 3 && !strcmp(argv[1], "-b"))
		bootstrap = argv[2];
	else if (argc != 1)
		bootstrap = NULL;
	if (!bootstrap || !*bootstrap) {
		fprintf(stderr, "usage: smoke_txn [-b BOOTSTRAP] (or set "
				"BOOTSTRAP)\n");
		return 2;
	}
	printf("smoke_txn: librdkafka %s against %s\n", rd_kafka_version_str(),
	       bootstrap);

	id = (unsigned long)getpid() ^ (unsigned long)time(NULL);
	snprintf(topic_in, sizeof(topic_in), "smoke.in.%lx", id);
	snprintf(topic_out, sizeof(topic_out), "smoke.out.%lx", id);
	snprintf(group1, sizeof(group1), "smoke-read-%lx", id);
	snprintf(group2, sizeof(group2), "smoke-ctp-%lx", id);
	snprintf(txid, sizeof(txid), "smoke-txn-%lx", id);

	create_topics();
	produce_committed_and_aborted();
	read_committed();
	p = consume_transform_produce();
	verify_outputs_and_resume();
	fencing(p);

	printf("smoke_txn: %s, %d failure(s), %.1fs\n",
	       failures ? "FAILED" : "all checks passed", failures,
	       now_s() - t_start);
	return failures ? 1 : 0;
}
