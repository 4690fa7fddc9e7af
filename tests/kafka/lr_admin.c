/*
 * lr_admin: a small Kafka admin tool for the real-broker tests, written with
 * librdkafka so that creating a topic costs milliseconds instead of a JVM
 * start. tests/kafka/broker.sh uses it, and e2e test scripts may call it
 * directly (run.sh passes its path as LR_ADMIN).
 *
 *   lr_admin freeport
 *       print a free loopback TCP port (binds port 0, reports the choice)
 *   lr_admin -b BOOTSTRAP ping
 *       succeed when the broker answers a metadata request; prints
 *       "cluster ID, N broker(s)"
 *   lr_admin -b BOOTSTRAP create TOPIC PARTITIONS [compact] [key=value...]
 *       create a topic with replication factor 1; an existing topic is
 *       accepted (the message says so)
 *   lr_admin -b BOOTSTRAP delete TOPIC
 *   lr_admin -b BOOTSTRAP watermarks TOPIC
 *       one line per partition: "PARTITION LOW HIGH"
 *   lr_admin -b BOOTSTRAP committed GROUP TOPIC
 *       one line per partition: "PARTITION OFFSET" (-1 when none committed)
 *
 * Exit status: 0 on success, 1 on a Kafka error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

static void usage(void)
{
	fprintf(stderr, "usage: lr_admin freeport\n"
			"       lr_admin -b BOOTSTRAP ping\n"
			"       lr_admin -b BOOTSTRAP create TOPIC PARTITIONS "
			"[compact] [key=value...]\n"
			"       lr_admin -b BOOTSTRAP delete TOPIC\n"
			"       lr_admin -b BOOTSTRAP watermarks TOPIC\n"
			"       lr_admin -b BOOTSTRAP committed GROUP TOPIC\n");
	exit(2);
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("lr_admin: socket");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("lr_admin: bind");
		close(fd);
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, const char *bootstrap,
			      const char *group)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
			      sizeof(err)) != RD_KAFKA_CONF_OK ||
	    (group && rd_kafka_conf_set(conf, "group.id", group, err,
					sizeof(err)) != RD_KAFKA_CONF_OK)) {
		fprintf(stderr, "lr_admin: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "lr_admin: %s\n", err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* The partition count of a topic, or -1 with a message. */
static int partition_count(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e;
	int n = -1;

	e = rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS);
	rd_kafka_topic_destroy(rkt);
	if (e) {
		fprintf(stderr, "lr_admin: metadata: %s\n",
			rd_kafka_err2str(e));
		return -1;
	}
	if (md->topic_cnt == 1 && !md->topics[0].err)
		n = md->topics[0].partition_cnt;
	else
		fprintf(stderr, "lr_admin: topic %s: %s\n", topic,
			md->topic_cnt ? rd_kafka_err2str(md->topics[0].err)
				      : "not found");
	rd_kafka_metadata_destroy(md);
	return n;
}

static int ping(rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, 2000);
	char *cid;

	if (e) {
		fprintf(stderr, "lr_admin: metadata: %s\n",
			rd_kafka_err2str(e));
		return 1;
	}
	cid = rd_kafka_clusterid(rk, 2000);
	printf("cluster %s, %d broker(s)\n", cid ? cid : "(unknown)",
	       md->broker_cnt);
	if (cid)
		rd_kafka_mem_free(rk, cid);
	rd_kafka_metadata_destroy(md);
	return 0;
}

/* Wait for an admin result on q and report the per-topic outcome. */
static int admin_result(rd_kafka_queue_t *q, const char *what, int create)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS + 5000);
	const rd_kafka_topic_result_t **res;
	size_t n = 0, i;
	int rc = 0;

	if (!ev) {
		fprintf(stderr, "lr_admin: %s: no answer\n", what);
		return 1;
	}
	if (rd_kafka_event_error(ev)) {
		fprintf(stderr, "lr_admin: %s: %s\n", what,
			rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
		return 1;
	}
	if (create)
		res = rd_kafka_CreateTopics_result_topics(
			rd_kafka_event_CreateTopics_result(ev), &n);
	else
		res = rd_kafka_DeleteTopics_result_topics(
			rd_kafka_event_DeleteTopics_result(ev), &n);
	for (i = 0; i < n; i++) {
		rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
		const char *name = rd_kafka_topic_result_name(res[i]);

		if (!e) {
			printf("%s %s\n", what, name);
		} else if (create &&
			   e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			printf("%s %s: already exists\n", what, name);
		} else {
			const char *s =
				rd_kafka_topic_result_error_string(res[i]);
			fprintf(stderr, "lr_admin: %s %s: %s\n", what, name,
				s ? s : rd_kafka_err2str(e));
			rc = 1;
		}
	}
	rd_kafka_event_destroy(ev);
	return rc;
}

static int create_topic(rd_kafka_t *rk, int argc, char **argv)
{
	char err[512];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *opt;
	rd_kafka_queue_t *q;
	char *end;
	long parts;
	int i, rc;

	if (argc < 2)
		usage();
	parts = strtol(argv[1], &end, 10);
	if (*end || parts < 1 || parts > 10000) {
		fprintf(stderr, "lr_admin: bad partition count '%s'\n",
			argv[1]);
		return 2;
	}
	nt = rd_kafka_NewTopic_new(argv[0], (int)parts, 1, err, sizeof(err));
	if (!nt) {
		fprintf(stderr, "lr_admin: %s\n", err);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		char key[256];
		const char *eq = strchr(argv[i], '=');
		rd_kafka_resp_err_t e;

		if (!strcmp(argv[i], "compact")) {
			e = rd_kafka_NewTopic_set_config(nt, "cleanup.policy",
							 "compact");
		} else if (eq && (size_t)(eq - argv[i]) < sizeof(key)) {
			memcpy(key, argv[i], (size_t)(eq - argv[i]));
			key[eq - argv[i]] = '\0';
			e = rd_kafka_NewTopic_set_config(nt, key, eq + 1);
		} else {
			fprintf(stderr, "lr_admin: bad topic config '%s'\n",
				argv[i]);
			rd_kafka_NewTopic_destroy(nt);
			return 2;
		}
		if (e) {
			fprintf(stderr, "lr_admin: %s: %s\n", argv[i],
				rd_kafka_err2str(e));
			rd_kafka_NewTopic_destroy(nt);
			return 1;
		}
	}
	opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opt, TIMEOUT_MS, err,
						    sizeof(err));
	rd_kafka_AdminOptions_set_request_timeout(opt, TIMEOUT_MS, err,
						  sizeof(err));
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
	rc = admin_result(q, "created", 1);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

static int delete_topic(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
	rd_kafka_AdminOptions_t *opt;
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	char err[256];
	int rc;

	opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opt, TIMEOUT_MS, err,
						    sizeof(err));
	rd_kafka_DeleteTopics(rk, &dt, 1, opt, q);
	rc = admin_result(q, "deleted", 0);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_DeleteTopic_destroy(dt);
	return rc;
}

static int watermarks(rd_kafka_t *rk, const char *topic)
{
	int n = partition_count(rk, topic), p;

	if (n < 0)
		return 1;
	for (p = 0; p < n; p++) {
		int64_t lo, hi;
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
			rk, topic, p, &lo, &hi, TIMEOUT_MS);
		if (e) {
			fprintf(stderr, "lr_admin: watermarks %s [%d]: %s\n",
				topic, p, rd_kafka_err2str(e));
			return 1;
		}
		printf("%d %lld %lld\n", p, (long long)lo, (long long)hi);
	}
	return 0;
}

static int committed(rd_kafka_t *rk, const char *topic)
{
	int n = partition_count(rk, topic), p, rc = 0;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;

	if (n < 0)
		return 1;
	l = rd_kafka_topic_partition_list_new(n);
	for (p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(l, topic, p);
	e = rd_kafka_committed(rk, l, TIMEOUT_MS);
	if (e) {
		fprintf(stderr, "lr_admin: committed: %s\n",
			rd_kafka_err2str(e));
		rc = 1;
	}
	for (p = 0; !rc && p < l->cnt; p++) {
		if (l->elems[p].err) {
			fprintf(stderr, "lr_admin: committed %s [%d]: %s\n",
				topic, l->elems[p].partition,
				rd_kafka_err2str(l->elems[p].err));
			rc = 1;
			break;
		}
		printf("%d %lld\n", l->elems[p].partition,
		       (long long)(l->elems[p].offset < 0
					   ? -1
					   : l->elems[p].offset));
	}
	rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

int main(int argc, char **argv)
{
	const char *bootstrap;
	const char *cmd;
	rd_kafka_t *rk;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "freeport"))
		return free_port();
	if (argc < 4 || strcmp(argv[1], "-b"))
		usage();
	bootstrap = argv[2];
	cmd = argv[3];
	argc -= 4;
	argv += 4;

	if (!strcmp(cmd, "committed")) {
		if (argc != 2)
			usage();
		rk = new_handle(RD_KAFKA_CONSUMER, bootstrap, argv[0]);
		if (!rk)
			return 1;
		rc = committed(rk, argv[1]);
		rd_kafka_destroy(rk);
		return rc;
	}

	rk = new_handle(RD_KAFKA_PRODUCER, bootstrap, NULL);
	if (!rk)
		return 1;
	if (!strcmp(cmd, "ping") && argc == 0)
		rc = ping(rk);
	else if (!strcmp(cmd, "create"))
		rc = create_topic(rk, argc, argv);
	else if (!strcmp(cmd, "delete") && argc == 1)
		rc = delete_topic(rk, argv[0]);
	else if (!strcmp(cmd, "watermarks") && argc == 1)
		rc = watermarks(rk, argv[0]);
	else
		rc = -1;
	rd_kafka_destroy(rk);
	if (rc < 0)
		usage();
	return rc;
}
