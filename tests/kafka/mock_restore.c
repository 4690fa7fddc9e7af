/*
 * mock_restore.c - a changelog restore that takes longer than its timeout.
 *
 *   mock_restore
 *
 * A restore holds the daemon's loop while a partition's state is read
 * back, and a large state takes longer than any fixed bound: the restore
 * must fail only when it stops making progress, and report its progress
 * meanwhile, so that the daemon can feed systemd's watchdog. Against
 * librdkafka's mock cluster, with records that take RECORD_US each to
 * apply, this checks that a restore lasting several times its 600 ms
 * timeout, but never idle that long, replays every record, that its
 * progress was reported about once a second and at the end, that a
 * progress function returning false (a SIGTERM during the first restore)
 * gives the restore up at its next report, and that with the broker down
 * the same call fails after the timeout.
 *
 * The consumer code is included rather than linked so that this test
 * needs none of the daemon's other objects (mock_unit.h).
 */
#include "../../daemon/log.c"
#include "../../consumers/consumer.c"

#include <librdkafka/rdkafka_mock.h>

#include "mock_unit.h"

#define TOPIC      "restore.cl"
#define NPART      2
#define NRECORDS   300
#define RECORD_US  5000 /* the time each record takes to apply */
#define TIMEOUT_MS 600

struct seen {
	long records;
	long reports;
	long last_report;
	long stop_at; /* report that returns false; 0: never */
};

static void record_cb(int32_t partition, const rd_kafka_message_t *m, void *arg)
{
	struct seen *s = arg;

	(void)partition;
	(void)m;
	s->records++;
	usleep(RECORD_US); /* a large state's decoding, in miniature */
}

static bool progress_cb(long records, void *arg)
{
	struct seen *s = arg;

	s->reports++;
	s->last_report = records;
	return s->stop_at == 0 || s->reports < s->stop_at;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "%s: %s\n", k, err);
		exit(1);
	}
}

static void records_produce(const char *bootstraps)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256], val[64];
	rd_kafka_t *rk;

	conf_set(conf, "bootstrap.servers", bootstraps);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "producer: %s\n", err);
		exit(1);
	}
	for (int i = 0; i < NRECORDS; i++) {
		int n = snprintf(val, sizeof(val), "record %04d of the state",
				 i);
		rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
				  RD_KAFKA_V_PARTITION(i % NPART),
				  RD_KAFKA_V_VALUE(val, (size_t)n),
				  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				  RD_KAFKA_V_END);
	}
	CHECK(rd_kafka_flush(rk, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR,
	      "%d records produced", NRECORDS);
	rd_kafka_destroy(rk);
}

/* The restore handle as consumer.c makes it (its forced properties). */
static rd_kafka_t *restore_handle(const char *bootstraps)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	conf_set(conf, "bootstrap.servers", bootstraps);
	conf_set(conf, "group.id", "mock-restore");
	conf_set(conf, "enable.auto.commit", "false");
	conf_set(conf, "isolation.level", "read_committed");
	conf_set(conf, "enable.partition.eof", "true");
	conf_set(conf, "fetch.wait.max.ms", "20");
	conf_set(conf, "socket.timeout.ms", "2000");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "consumer: %s\n", err);
		exit(1);
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

int main(void)
{
	rd_kafka_conf_t *mconf = rd_kafka_conf_new();
	rd_kafka_t *mrk;
	rd_kafka_mock_cluster_t *mc;
	struct consumer c = {0};
	const int32_t parts[NPART] = {0, 1};
	struct seen s = {0};
	char err[256];
	int64_t t0, ms;
	long n;

	log_init(LOG_WARNING);
	mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
	mc = mrk ? rd_kafka_mock_cluster_new(mrk, 1) : NULL;
	if (!mc) {
		fprintf(stderr, "no mock cluster: %s\n", err);
		return 1;
	}
	rd_kafka_mock_topic_create(mc, TOPIC, NPART, 1);
	records_produce(rd_kafka_mock_cluster_bootstraps(mc));
	c.restore_rk = restore_handle(rd_kafka_mock_cluster_bootstraps(mc));
	t0 = consumer_now_ms();
	n = consumer_restore(&c, TOPIC, parts, NPART, record_cb, progress_cb,
			     &s, TIMEOUT_MS);
	ms = consumer_now_ms() - t0;
	CHECK(n == NRECORDS && s.records == NRECORDS,
	      "a slow restore replays every record: %ld of %d", n, NRECORDS);
	CHECK(ms > 2 * TIMEOUT_MS,
	      "it outlasted its %d ms timeout without failing (%lld ms)",
	      TIMEOUT_MS, (long long)ms);
	CHECK(s.reports >= ms / 1000 && s.reports <= ms / 1000 + 2,
	      "progress reported about once a second and at the end: %ld "
	      "reports in %lld ms",
	      s.reports, (long long)ms);
	CHECK(s.last_report == NRECORDS, "the last report counts %ld records",
	      s.last_report);

	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	t0 = consumer_now_ms();
	n = consumer_restore(&c, TOPIC, parts, NPART, record_cb, progress_cb,
			     &s, TIMEOUT_MS);
	ms = consumer_now_ms() - t0;
	CHECK(n == CONSUMER_RESTORE_STOPPED && s.reports == 1,
	      "a restore given up by its progress function says so: %ld "
	      "after %ld report(s)",
	      n, s.reports);
	CHECK(s.records < NRECORDS && ms < 1500,
	      "at its first report: %ld of %d records, %lld ms", s.records,
	      NRECORDS, (long long)ms);

	rd_kafka_mock_broker_set_down(mc, 1);
	memset(&s, 0, sizeof(s));
	t0 = consumer_now_ms();
	n = consumer_restore(&c, TOPIC, parts, NPART, record_cb, progress_cb,
			     &s, TIMEOUT_MS);
	ms = consumer_now_ms() - t0;
	CHECK(n == -1, "with the broker down the restore fails (%ld)", n);
	CHECK(ms >= TIMEOUT_MS && ms < TIMEOUT_MS + 2000,
	      "after its timeout of no progress (%lld ms)", (long long)ms);

	rd_kafka_destroy(c.restore_rk);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
