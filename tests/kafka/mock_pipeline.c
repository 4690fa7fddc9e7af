/*
 * mock_pipeline.c - the fast tier of the Kafka tests: the daemon against
 * librdkafka's in-process mock cluster, no JVM.
 *
 *   mock_pipeline [path/to/leadrouter [tests/kafka/e2e.json]]
 *
 * This checks API flow, not exactly-once (the 2.0.2 mock writes no abort
 * markers and stores no transactional offsets): the daemon starts, joins,
 * consumes events, hands qualified leads off, sends bad input to the DLQ,
 * and keeps its loop through injected retriable and abortable errors and
 * a full broker outage; SIGTERM ends it with status 0. A second run
 * restores its state from the changelog and, fenced on EndTxn, must exit
 * with status 1. Handoff counts are lower bounds, since an abort replays.
 *
 * Two mock quirks shape the test. An error pushed for an API key goes to
 * the next such request of any client, the test's own producer included:
 * so the daemon's output topics are led by broker 2, the inputs by broker
 * 1, and Produce errors are pushed on broker 2 only (only the daemon
 * produces there). And requests in flight when the brokers go down are
 * never answered on some connections: the test's clients use a short
 * socket.timeout.ms so they do not sit out the default 60 s.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

extern char **environ;

#define PREFIX     "m"
#define NPART      4
#define TEAMS      4
#define IN_BROKER  1 /* leads the input topics */
#define OUT_BROKER 2 /* leads the daemon's output topics */

static const char *const teams[TEAMS] = {"emea", "amer", "enterprise",
					 "inbound"};
static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			failures++;                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
		} else {                                                       \
			printf("ok: ");                                        \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static char *file_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Replace every occurrence of from with to; returns a new string. */
static char *str_replace(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out, *o, *p;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(s) + n * (tl + 1) + 1);
	o = out;
	for (p = s;;) {
		char *q = strstr(p, from);

		if (q == NULL)
			break;
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	strcpy(o, p);
	free(s);
	return out;
}

static int config_write(const char *tmpl, const char *bootstraps,
			const char *path)
{
	char *s = file_read(tmpl);
	FILE *f;

	if (s == NULL)
		return -1;
	s = str_replace(s, "@BOOTSTRAP@", bootstraps);
	s = str_replace(s, "@PREFIX@", PREFIX);
	s = str_replace(s, "@INSTANCE@", "0");
	s = str_replace(s, "@COMMIT_MS@", "100");
	/* The mock speaks no CreateTopics: the test creates every topic. */
	s = str_replace(s, "\"create_internal\": true",
			"\"create_internal\": false");
	f = fopen(path, "w");
	if (f == NULL) {
		free(s);
		return -1;
	}
	fputs(s, f);
	fclose(f);
	free(s);
	return 0;
}

static void topic_create(rd_kafka_mock_cluster_t *mc, const char *name,
			 int parts, int32_t leader)
{
	rd_kafka_mock_topic_create(mc, name, parts, 1);
	for (int p = 0; p < parts; p++)
		rd_kafka_mock_partition_set_leader(mc, name, p, leader);
}

static void topics_create(rd_kafka_mock_cluster_t *mc)
{
	static const char *const out[] = {PREFIX ".leadrouter.assign",
					  PREFIX ".leadrouter.leads",
					  PREFIX ".leadrouter.teams"};
	char name[128];

	topic_create(mc, PREFIX ".marketing.events", NPART, IN_BROKER);
	topic_create(mc, PREFIX ".sales.feedback", NPART, IN_BROKER);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		topic_create(mc, out[i], NPART, OUT_BROKER);
	topic_create(mc, PREFIX ".leadrouter.dlq", 1, OUT_BROKER);
	for (int t = 0; t < TEAMS; t++) {
		snprintf(name, sizeof(name), PREFIX ".sales.handoffs.%s",
			 teams[t]);
		topic_create(mc, name, 1, OUT_BROKER);
	}
}

static rd_kafka_t *producer_new(const char *bootstraps)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
			  sizeof(err));
	rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err,
			  sizeof(err));
	rd_kafka_conf_set(conf, "socket.timeout.ms", "5000", err, sizeof(err));
	return rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
}

static void produce(rd_kafka_t *p, const char *key, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rd_kafka_producev(p, RD_KAFKA_V_TOPIC(PREFIX ".marketing.events"),
			  RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
			  RD_KAFKA_V_VALUE(buf, (size_t)n),
			  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			  RD_KAFKA_V_END);
}

/* Leads from..to-1 of the enterprise segment: each qualifies on its 5th
 * event (score 80, grade A) and goes to team enterprise. */
static void leads_produce(rd_kafka_t *p, int from, int to)
{
	static const char *const steps[] = {
		"\"type\":\"page\",\"properties\":{\"path\":\"/pricing\"}",
		"\"type\":\"page\",\"properties\":{\"path\":\"/pricing/x\"}",
		"\"type\":\"track\",\"event\":\"Demo Requested\"",
		"\"type\":\"track\",\"event\":\"Contact Sales Clicked\""};
	char key[32];

	for (int i = from; i < to; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		produce(p, key,
			"{\"type\":\"identify\",\"messageId\":\"m%d-0\","
			"\"userId\":\"%s\",\"timestamp\":"
			"\"2026-03-02T00:00:00Z\",\"traits\":{\"email\":"
			"\"lead%d@acme.test\",\"title\":\"VP Sales\","
			"\"company\":{\"name\":\"Acme\",\"employees\":2500,"
			"\"industry\":\"Software\"},\"address\":{"
			"\"country\":\"DE\"}}}",
			i, key, i);
		for (int s = 0; s < 4; s++)
			produce(p, key,
				"{%s,\"messageId\":\"m%d-%d\",\"userId\":"
				"\"%s\",\"timestamp\":"
				"\"2026-03-02T00:0%d:00Z\"}",
				steps[s], i, s + 1, key, s + 1);
	}
	produce(p, "bad", "{not json");
	produce(p, "bad", "[1,2]");
	rd_kafka_flush(p, 10000);
}

static rd_kafka_t *reader_new(const char *bootstraps)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l =
		rd_kafka_topic_partition_list_new(2);
	char err[256];
	rd_kafka_t *c;

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
			  sizeof(err));
	rd_kafka_conf_set(conf, "group.id", "mock-reader", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
			  sizeof(err));
	rd_kafka_conf_set(conf, "socket.timeout.ms", "5000", err, sizeof(err));
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	rd_kafka_poll_set_consumer(c);
	rd_kafka_topic_partition_list_add(
		l, PREFIX ".sales.handoffs.enterprise", 0)
		->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_topic_partition_list_add(l, PREFIX ".leadrouter.dlq", 0)
		->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	return c;
}

struct counts {
	int handoffs, dlq, typed;
};

/* Read until at least want handoffs were seen or timeout_s passed. */
static void reader_wait(rd_kafka_t *c, struct counts *n, int want,
			int timeout_s)
{
	time_t end = time(NULL) + timeout_s;

	while (n->handoffs < want && time(NULL) < end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
		rd_kafka_headers_t *h = NULL;
		const void *v;
		size_t len;

		if (m == NULL)
			continue;
		if (m->err == 0 && strstr(rd_kafka_topic_name(m->rkt), "dlq")) {
			n->dlq++;
		} else if (m->err == 0) {
			n->handoffs++;
			if (rd_kafka_message_headers(m, &h) == 0 &&
			    rd_kafka_header_get_last(h, "event-type", &v,
						     &len) == 0 &&
			    len == 18)
				n->typed++;
		}
		rd_kafka_message_destroy(m);
	}
}

static pid_t daemon_start(const char *bin, const char *cfg, const char *log)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)bin, "-c", (char *)cfg, NULL};
	pid_t pid = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (posix_spawn(&pid, bin, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Exit status, or -1 when still running after timeout_s. */
static int daemon_wait(pid_t pid, int timeout_s)
{
	int st;

	for (int i = 0; i < timeout_s * 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(100000);
	}
	return -1;
}

static bool log_has(const char *log, const char *what)
{
	char *s = file_read(log);
	bool has = s && strstr(s, what);

	free(s);
	return has;
}

static int log_count(const char *log, const char *what)
{
	char *s = file_read(log);
	int n = 0;

	for (const char *p = s; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	free(s);
	return n;
}

static void brokers_set(rd_kafka_mock_cluster_t *mc, bool up)
{
	for (int b = 1; b <= OUT_BROKER; b++)
		if (up)
			rd_kafka_mock_broker_set_up(mc, b);
		else
			rd_kafka_mock_broker_set_down(mc, b);
}

static void faults_run(rd_kafka_mock_cluster_t *mc, rd_kafka_t *p,
		       rd_kafka_t *reader, pid_t pid, const char *log,
		       struct counts *n)
{
	int aborts = log_count(log, "transaction aborted; restoring");

	/* Retriable errors librdkafka retries on its own. */
	rd_kafka_mock_broker_push_request_error_rtts(
		mc, OUT_BROKER, 0, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0,
		RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0,
		RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0);
	rd_kafka_mock_push_request_errors(
		mc, 24, 2, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
		RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
	rd_kafka_mock_push_request_errors(mc, 26, 1,
					  RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
	leads_produce(p, 20, 30);
	reader_wait(reader, n, 30, 30);
	CHECK(n->handoffs >= 30, "retriable errors: %d handoffs (>= 30)",
	      n->handoffs);
	/* A permanent produce error: delivery fails, the transaction aborts
	 * and the daemon restores and replays. */
	rd_kafka_mock_broker_push_request_error_rtts(
		mc, OUT_BROKER, 0, 1,
		RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 0);
	leads_produce(p, 30, 40);
	reader_wait(reader, n, 40, 30);
	CHECK(n->handoffs >= 40, "abortable error: %d handoffs (>= 40)",
	      n->handoffs);
	CHECK(log_count(log, "transaction aborted; restoring") > aborts &&
		      log_has(log, "rewound"),
	      "abortable error: aborted, restored and rewound");
	/* Every broker down for 3 s, then back. */
	brokers_set(mc, false);
	sleep(3);
	brokers_set(mc, true);
	leads_produce(p, 40, 50);
	reader_wait(reader, n, 50, 60);
	CHECK(n->handoffs >= 50, "broker outage: %d handoffs (>= 50)",
	      n->handoffs);
	CHECK(daemon_wait(pid, 0) == -1, "daemon alive after the faults");
}

static int run(const char *bin, const char *tmpl)
{
	rd_kafka_t *p, *reader, *mrk;
	rd_kafka_mock_cluster_t *mc;
	struct counts n = {0};
	char cfg[] = "/tmp/mock_pipeline.XXXXXX", log[64];
	const char *bs;
	int fd = mkstemp(cfg);
	pid_t pid;

	snprintf(log, sizeof(log), "%s.log", cfg);
	close(fd);
	mrk = producer_new("");
	mc = rd_kafka_mock_cluster_new(mrk, OUT_BROKER);
	bs = rd_kafka_mock_cluster_bootstraps(mc);
	topics_create(mc);
	if (config_write(tmpl, bs, cfg) < 0) {
		fprintf(stderr, "cannot write the config from %s\n", tmpl);
		return 1;
	}
	p = producer_new(bs);
	reader = reader_new(bs);
	leads_produce(p, 0, 20);
	pid = daemon_start(bin, cfg, log);
	CHECK(pid > 0, "daemon started (log %s)", log);
	reader_wait(reader, &n, 20, 60);
	CHECK(n.handoffs >= 20, "%d handoffs for 20 qualified leads",
	      n.handoffs);
	CHECK(n.typed == n.handoffs, "handoffs carry event-type headers");
	CHECK(log_has(log, "pipeline: ready"), "daemon logged ready");
	faults_run(mc, p, reader, pid, log, &n);
	CHECK(n.dlq >= 2, "%d DLQ records for the bad events", n.dlq);
	kill(pid, SIGTERM);
	CHECK(daemon_wait(pid, 30) == 0, "SIGTERM: exit status 0");

	/* Second run: restore from the changelog, then fenced on EndTxn. */
	pid = daemon_start(bin, cfg, log);
	sleep(5);
	CHECK(log_has(log, "restored"), "second run restored its state");
	rd_kafka_mock_push_request_errors(mc, 26, 3,
					  RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
					  RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
					  RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
	leads_produce(p, 50, 55);
	CHECK(daemon_wait(pid, 40) == 1, "fenced: exit status 1");
	CHECK(log_has(log, "fatal: fenced: another process uses"),
	      "fenced: one clear log line");
	if (daemon_wait(pid, 0) == -1)
		kill(pid, SIGKILL);

	rd_kafka_consumer_close(reader);
	rd_kafka_destroy(reader);
	rd_kafka_destroy(p);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	unlink(cfg);
	if (failures == 0)
		unlink(log);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/leadrouter";
	const char *tmpl = argc > 2 ? argv[2] : "tests/kafka/e2e.json";

	signal(SIGPIPE, SIG_IGN);
	return run(bin, tmpl);
}
