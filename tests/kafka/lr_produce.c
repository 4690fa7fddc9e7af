/*
 * lr_produce.c - produce JSON Lines from stdin to a Kafka topic, fast.
 *
 * A test and benchmark tool (librdkafka only, no leadrouter code). Each
 * input line becomes one record. The record key is the lead key, found
 * cheaply: either the line is "KEY<TAB>JSON" (--tab-key), or the key is the
 * string value of the first "FIELD":"..." in the line for the first FIELD of
 * a comma-separated list that is present (--key-field, default
 * "userId,email,anonymousId": the lead key rule of DESIGN.md 3; a value of
 * a field named email is lower-cased). There is no JSON parsing, so each
 * field name should occur once per line. Lines without a key are sent
 * without one.
 *
 * The producer matches what the daemon expects of its inputs: idempotent,
 * acks=all, partitioner murmur2_random (the Java clients' partitioner, so
 * events and feedback are co-partitioned).
 *
 * --rate N paces the stream at N records per second (for latency runs);
 * --stamp replaces every "@NOW@" in a line with the current UTC time in ISO
 * 8601 with milliseconds and "@NOWUS@" with epoch microseconds, both taken
 * just before the record is handed to librdkafka.
 * --create P creates the topic with P partitions first (if it is missing).
 *
 * Prints "produced N records in S s (R/s)" to stderr; exits non-zero when a
 * record could not be delivered.
 *
 * Usage: lr_produce -b BOOTSTRAP -t TOPIC [--key-field F | --tab-key]
 *                   [--rate N] [--stamp] [--create P] [-X prop=value]...
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop_flag;
static uint64_t delivered_ok, delivered_err;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		if (delivered_err < 5)
			fprintf(stderr, "lr_produce: delivery failed: %s\n",
				rd_kafka_err2str(m->err));
		delivered_err++;
	} else {
		delivered_ok++;
	}
}

static void set_conf(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "lr_produce: %s=%s: %s\n", k, v, err);
		exit(2);
	}
}

/* Create topic with partitions when it does not exist yet. */
static int create_topic(rd_kafka_t *rk, const char *topic, int partitions)
{
	char err[256];
	rd_kafka_NewTopic_t *nt =
		rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
	if (!nt) {
		fprintf(stderr, "lr_produce: NewTopic: %s\n", err);
		return -1;
	}
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *o =
		rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(o, 10000, err, sizeof(err));
	rd_kafka_CreateTopics(rk, &nt, 1, o, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
	int rc = -1;
	if (!ev) {
		fprintf(stderr, "lr_produce: CreateTopics timed out\n");
	} else if (rd_kafka_event_error(ev)) {
		fprintf(stderr, "lr_produce: CreateTopics: %s\n",
			rd_kafka_event_error_string(ev));
	} else {
		size_t n;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(
				rd_kafka_event_CreateTopics_result(ev), &n);
		rd_kafka_resp_err_t e =
			n ? rd_kafka_topic_result_error(res[0]) : 0;
		if (!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			rc = 0;
		else
			fprintf(stderr, "lr_produce: create %s: %s\n", topic,
				rd_kafka_err2str(e));
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	return rc;
}

/* The string value of the first "field":"..." in line, or NULL. */
static const char *find_key(const char *line, size_t len, const char *pat,
			    size_t patlen, size_t *klen)
{
	const char *p = memmem(line, len, pat, patlen);
	if (!p)
		return NULL;
	p += patlen;
	const char *end = line + len;
	while (p < end && (*p == ' ' || *p == ':' || *p == '\t'))
		p++;
	if (p >= end || *p != '"')
		return NULL;
	p++;
	const char *q = p;
	while (q < end && *q != '"') {
		if (*q == '\\')
			return NULL; /* escaped keys: keep it simple, no key */
		q++;
	}
	if (q >= end)
		return NULL;
	*klen = (size_t)(q - p);
	return p;
}

/* Replace @NOW@ / @NOWUS@ in line into out; returns the new length. */
static size_t stamp_line(const char *line, size_t len, char **out,
			 size_t *outcap)
{
	int64_t us = now_us();
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char iso[96], usbuf[24];
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)((us / 1000) % 1000));
	snprintf(usbuf, sizeof(usbuf), "%" PRId64, us);
	size_t need = len + 64 * 4;
	if (*outcap < need) {
		*outcap = need * 2;
		*out = realloc(*out, *outcap);
		if (!*out)
			abort();
	}
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (o + 40 > *outcap) {
			*outcap *= 2;
			*out = realloc(*out, *outcap);
			if (!*out)
				abort();
		}
		if (len - i >= 7 && memcmp(line + i, "@NOWUS@", 7) == 0) {
			size_t n = strlen(usbuf);
			memcpy(*out + o, usbuf, n);
			o += n;
			i += 7;
		} else if (len - i >= 5 && memcmp(line + i, "@NOW@", 5) == 0) {
			size_t n = strlen(iso);
			memcpy(*out + o, iso, n);
			o += n;
			i += 5;
		} else {
			(*out)[o++] = line[i++];
		}
	}
	return o;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lr_produce -b BOOTSTRAP -t TOPIC [--key-field F | "
		"--tab-key] [--rate N] [--stamp] [--create P] "
		"[-X prop=value]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL, *topic = NULL;
	const char *key_field = "userId,email,anonymousId";
	bool tab_key = false, stamp = false;
	double rate = 0;
	int create = 0;
	char err[512];

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	set_conf(conf, "enable.idempotence", "true");
	set_conf(conf, "acks", "all");
	set_conf(conf, "partitioner", "murmur2_random");
	set_conf(conf, "linger.ms", "5");
	set_conf(conf, "batch.num.messages", "10000");
	set_conf(conf, "queue.buffering.max.messages", "500000");
	set_conf(conf, "queue.buffering.max.kbytes", "1048576");
	set_conf(conf, "compression.codec", "lz4");

	static const struct option opts[] = {
		{"key-field", required_argument, NULL, 'k'},
		{"tab-key", no_argument, NULL, 'T'},
		{"rate", required_argument, NULL, 'r'},
		{"stamp", no_argument, NULL, 's'},
		{"create", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:t:X:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'k':
			key_field = optarg;
			break;
		case 'T':
			tab_key = true;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 's':
			stamp = true;
			break;
		case 'c':
			create = atoi(optarg);
			break;
		case 'X': {
			char *eq = strchr(optarg, '=');
			if (!eq)
				usage();
			*eq = '\0';
			set_conf(conf, optarg, eq + 1);
			break;
		}
		default:
			usage();
		}
	}
	if (!bootstrap || !topic)
		usage();
	set_conf(conf, "bootstrap.servers", bootstrap);
	if (rate > 0)
		set_conf(conf, "linger.ms", "0");
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);

	rd_kafka_t *rk =
		rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "lr_produce: %s\n", err);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (create > 0 && create_topic(rk, topic, create) != 0) {
		rd_kafka_destroy(rk);
		return 1;
	}
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

	/* The key fields as "NAME" patterns. */
	char pats[8][128];
	size_t patlens[8], npats = 0;
	bool lower[8];
	char *kf = strdup(key_field);
	for (char *save = NULL, *tok = strtok_r(kf, ",", &save);
	     tok && npats < 8; tok = strtok_r(NULL, ",", &save)) {
		snprintf(pats[npats], sizeof(pats[npats]), "\"%s\"", tok);
		patlens[npats] = strlen(pats[npats]);
		lower[npats] = strcmp(tok, "email") == 0;
		npats++;
	}
	free(kf);
	char keybuf[512];

	char *line = NULL, *buf = NULL;
	size_t cap = 0, bufcap = 0;
	ssize_t n;
	uint64_t count = 0;
	double t0 = mono_s();
	while (!stop_flag && (n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (!len)
			continue;
		const char *val = line, *key = NULL;
		size_t vlen = len, klen = 0;
		if (tab_key) {
			char *tab = memchr(line, '\t', len);
			if (tab) {
				key = line;
				klen = (size_t)(tab - line);
				val = tab + 1;
				vlen = len - klen - 1;
			}
		}
		if (rate > 0) {
			double due = t0 + (double)count / rate;
			double now;
			while ((now = mono_s()) < due && !stop_flag) {
				double d = due - now;
				struct timespec ts = {
					.tv_sec = (time_t)d,
					.tv_nsec =
						(long)((d - (double)(time_t)d) *
						       1e9),
				};
				rd_kafka_poll(rk, 0);
				nanosleep(&ts, NULL);
			}
		}
		if (stamp) {
			vlen = stamp_line(val, vlen, &buf, &bufcap);
			val = buf;
		}
		for (size_t i = 0; !tab_key && i < npats; i++) {
			key = find_key(val, vlen, pats[i], patlens[i], &klen);
			if (!key)
				continue;
			if (lower[i] && klen <= sizeof(keybuf)) {
				for (size_t j = 0; j < klen; j++)
					keybuf[j] = (char)tolower(
						(unsigned char)key[j]);
				key = keybuf;
			}
			break;
		}
		for (;;) {
			if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA,
					     RD_KAFKA_MSG_F_COPY, (void *)val,
					     vlen, key, klen, NULL) == 0)
				break;
			rd_kafka_resp_err_t e = rd_kafka_last_error();
			if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "lr_produce: produce: %s\n",
					rd_kafka_err2str(e));
				stop_flag = 1;
				break;
			}
			rd_kafka_poll(rk, 10);
		}
		count++;
		if ((count & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	int64_t left = 0;
	for (int i = 0; i < 120; i++) {
		rd_kafka_flush(rk, 500);
		left = rd_kafka_outq_len(rk);
		if (left == 0)
			break;
	}
	double dt = mono_s() - t0;
	fprintf(stderr,
		"lr_produce: produced %" PRIu64 " records to %s in %.2f s "
		"(%.0f/s), %" PRIu64 " delivered, %" PRIu64 " failed\n",
		count, topic, dt, dt > 0 ? (double)count / dt : 0.0,
		delivered_ok, delivered_err);
	free(line);
	free(buf);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return (delivered_err || left || delivered_ok != count) ? 1 : 0;
}
