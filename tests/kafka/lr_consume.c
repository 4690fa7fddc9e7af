/*
 * lr_consume.c - read Kafka topics as a read_committed consumer, for the
 * end-to-end tests and the benchmark (librdkafka and jansson only, no
 * leadrouter code).
 *
 * Read mode (default): no group membership; every partition of the named
 * topics (-t a,b,c; a name starting with '^' is a POSIX extended regex over
 * all topics) is assigned from the beginning. Topics and partitions that
 * appear later are picked up (metadata is re-read every 500 ms). Reading
 * stops when N records were read (--max N), or when every assigned partition
 * reached its end and nothing arrived for --idle ms, or after --timeout ms
 * (then the exit status is 3); --min-ms T keeps reading for at least T ms
 * whatever the idle time (for topics that are still empty at the start).
 * Each record is printed as one line:
 *
 *   topic TAB partition TAB key TAB value [TAB headers] [TAB offset]
 *
 * with headers as {"name":"value",...} (--headers) and the offset last
 * (--offsets). Backslash, tab, CR, LF and other control bytes in key, value
 * and header values are escaped (\\ \t \r \n \xHH), so a line is a record.
 * A missing key prints as the empty string.
 *
 * Latency mode (--latency FIELD): instead of printing records, parse each
 * value as JSON, read FIELD (a dotted path; ISO 8601 text, or a number in
 * epoch ms or us) as the time the input event entered Kafka, and record
 * (a) the time this consumer received the record minus FIELD: end to end,
 * as a rep's read_committed consumer sees the handoff, and (b) the record's
 * CreateTime minus FIELD: until the daemon produced it (before its
 * transaction committed). Prints count, p50, p90, p99 and max of both.
 *
 * Lag mode (--lag GROUP): print the group's committed offsets against the
 * end offsets (high watermarks, so records of open transactions count) of
 * the topics' partitions ("partition committed end lag" lines
 * and a "total" line). With --wait-lag N, poll every 50 ms until the total
 * lag is <= N (exit 0) or --timeout passes (exit 3), then print
 * "first_ms=... end_ms=... committed_first=... committed_end=... end=..."
 * where first_ms is when the committed total first moved (ms since start).
 *
 * The broker must answer a metadata request within 10 s, else exit 2.
 *
 * Usage: lr_consume -b BOOTSTRAP -t TOPICS [--max N] [--idle MS]
 *                   [--timeout MS] [--headers] [--offsets]
 *                   [--latency FIELD] [--lag GROUP [--wait-lag N]]
 */
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#define MAX_TOPICS 64

static const char *topic_args[MAX_TOPICS];
static size_t ntopic_args;
static regex_t topic_re[MAX_TOPICS];
static bool topic_is_re[MAX_TOPICS];

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *msg)
{
	fprintf(stderr, "lr_consume: %s\n", msg);
	exit(2);
}

static void set_conf(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "lr_consume: %s=%s: %s\n", k, v, err);
		exit(2);
	}
}

static bool topic_wanted(const char *name)
{
	for (size_t i = 0; i < ntopic_args; i++) {
		if (topic_is_re[i]) {
			if (regexec(&topic_re[i], name, 0, NULL, 0) == 0)
				return true;
		} else if (strcmp(topic_args[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* All partitions of the wanted topics, from the cluster's metadata. */
static rd_kafka_topic_partition_list_t *wanted_partitions(rd_kafka_t *rk,
							  int timeout_ms)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	if (e)
		return NULL;
	rd_kafka_topic_partition_list_t *l =
		rd_kafka_topic_partition_list_new(16);
	for (int t = 0; t < md->topic_cnt; t++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[t];
		if (mt->err || !topic_wanted(mt->topic))
			continue;
		for (int p = 0; p < mt->partition_cnt; p++)
			rd_kafka_topic_partition_list_add(l, mt->topic,
							  mt->partitions[p].id)
				->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_metadata_destroy(md);
	return l;
}

static void put_escaped(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		switch (ch) {
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				printf("\\x%02x", ch);
			else
				putchar(ch);
		}
	}
}

/* JSON string escaping of a header value, for the headers column. */
static void put_json_str(const char *p, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_record(const rd_kafka_message_t *m, bool headers,
			 bool offsets)
{
	fputs(rd_kafka_topic_name(m->rkt), stdout);
	printf("\t%" PRId32 "\t", m->partition);
	if (m->key)
		put_escaped(m->key, m->key_len);
	putchar('\t');
	if (m->payload)
		put_escaped(m->payload, m->len);
	if (headers) {
		rd_kafka_headers_t *h = NULL;
		putchar('\t');
		putchar('{');
		if (rd_kafka_message_headers(m, &h) == 0 && h) {
			const char *name;
			const void *val;
			size_t size;
			for (size_t i = 0;
			     rd_kafka_header_get_all(h, i, &name, &val,
						     &size) == 0;
			     i++) {
				if (i)
					putchar(',');
				put_json_str(name, strlen(name));
				putchar(':');
				if (val)
					put_json_str(val, size);
				else
					fputs("null", stdout);
			}
		}
		putchar('}');
	}
	if (offsets)
		printf("\t%" PRId64, m->offset);
	putchar('\n');
}

/* Event time from a JSON value: ISO 8601 text, or epoch ms / us. */
static bool json_time_us(json_t *v, int64_t *us)
{
	if (json_is_number(v)) {
		double d = json_number_value(v);
		*us = d > 1e14 ? (int64_t)d : (int64_t)(d * 1000);
		return true;
	}
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	struct tm tm = {0};
	int ms = 0;
	char frac[16] = "";
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return false;
	const char *dot = strchr(s, '.');
	if (dot && sscanf(dot + 1, "%15[0-9]", frac) == 1) {
		char three[4] = {'0', '0', '0', '\0'};
		for (int i = 0; i < 3 && frac[i]; i++)
			three[i] = frac[i];
		ms = atoi(three);
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*us = ((int64_t)timegm(&tm) * 1000 + ms) * 1000;
	return true; /* assumes Z (UTC), as the benchmark's events use */
}

static json_t *json_path(json_t *root, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = root;
	for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return v;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void print_latency(const char *what, int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("%s: count=%zu p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
	       "max_ms=%.1f\n",
	       what, n, pct(v, n, 0.5), pct(v, n, 0.9), pct(v, n, 0.99),
	       n ? (double)v[n - 1] / 1000.0 : 0.0);
}

/* Committed offsets of group vs end offsets; returns the lag total. */
static int64_t group_lag(rd_kafka_t *rk, rd_kafka_t *grk, bool print,
			 int64_t *committed_total, int64_t *end_total)
{
	rd_kafka_topic_partition_list_t *l = wanted_partitions(rk, 5000);
	if (!l)
		return -1;
	if (rd_kafka_committed(grk, l, 5000)) {
		rd_kafka_topic_partition_list_destroy(l);
		return -1;
	}
	int64_t lag = 0, ct = 0, et = 0;
	for (int i = 0; i < l->cnt; i++) {
		rd_kafka_topic_partition_t *p = &l->elems[i];
		int64_t lo = 0, hi = 0;
		if (rd_kafka_query_watermark_offsets(
			    grk, p->topic, p->partition, &lo, &hi, 5000)) {
			rd_kafka_topic_partition_list_destroy(l);
			return -1;
		}
		int64_t c = p->offset >= 0 ? p->offset : lo;
		lag += hi - c;
		ct += p->offset >= 0 ? p->offset : 0;
		et += hi;
		if (print)
			printf("%s\t%" PRId32 "\t%" PRId64 "\t%" PRId64
			       "\t%" PRId64 "\n",
			       p->topic, p->partition, p->offset, hi, hi - c);
	}
	if (print)
		printf("total\t-\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", ct,
		       et, lag);
	*committed_total = ct;
	*end_total = et;
	rd_kafka_topic_partition_list_destroy(l);
	return lag;
}

static int run_lag(rd_kafka_t *rk, const char *bootstrap, const char *group,
		   int64_t wait_lag, int64_t timeout_ms)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	set_conf(conf, "bootstrap.servers", bootstrap);
	set_conf(conf, "group.id", group);
	set_conf(conf, "enable.auto.commit", "false");
	/* End offsets are high watermarks, not last stable offsets: an open
	 * transaction (say, of a killed instance) must not look like the end
	 * of the topic. */
	set_conf(conf, "isolation.level", "read_uncommitted");
	set_conf(conf, "log_level", "3");
	rd_kafka_t *grk =
		rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!grk)
		die(err);
	int64_t ct = 0, et = 0, lag;
	if (wait_lag < 0) {
		lag = group_lag(rk, grk, true, &ct, &et);
		rd_kafka_destroy(grk);
		return lag < 0 ? 2 : 0;
	}
	int64_t t0 = mono_ms(), first_ms = -1, committed_first = -1;
	int64_t start_committed = -1;
	int rc = 3;
	for (;;) {
		lag = group_lag(rk, grk, false, &ct, &et);
		int64_t now = mono_ms() - t0;
		if (lag >= 0) {
			if (start_committed < 0)
				start_committed = ct;
			if (first_ms < 0 && ct != start_committed) {
				first_ms = now;
				committed_first = ct;
			}
			if (lag <= wait_lag) {
				rc = 0;
				break;
			}
		}
		if (now > timeout_ms)
			break;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	printf("first_ms=%" PRId64 " end_ms=%" PRId64
	       " committed_start=%" PRId64 " committed_first=%" PRId64
	       " committed_end=%" PRId64 " end=%" PRId64 " lag=%" PRId64 "\n",
	       first_ms, mono_ms() - t0, start_committed, committed_first, ct,
	       et, lag);
	rd_kafka_destroy(grk);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: lr_consume -b BOOTSTRAP -t TOPIC[,^REGEX...] "
			"[--max N] [--idle MS] [--timeout MS] [--headers] "
			"[--offsets] [--latency FIELD] [--lag GROUP "
			"[--wait-lag N]] [--min-ms T]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL, *topics = NULL, *latency_field = NULL;
	const char *lag_group = NULL;
	int64_t max = -1, idle_ms = 3000, timeout_ms = 60000, wait_lag = -1;
	int64_t min_ms = 0;
	bool headers = false, offsets = false;
	char err[512];

	static const struct option opts[] = {
		{"max", required_argument, NULL, 'n'},
		{"idle", required_argument, NULL, 'i'},
		{"timeout", required_argument, NULL, 'T'},
		{"headers", no_argument, NULL, 'H'},
		{"offsets", no_argument, NULL, 'o'},
		{"latency", required_argument, NULL, 'L'},
		{"lag", required_argument, NULL, 'g'},
		{"wait-lag", required_argument, NULL, 'w'},
		{"min-ms", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bootstrap = optarg;
			break;
		case 't':
			topics = optarg;
			break;
		case 'n':
			max = atoll(optarg);
			break;
		case 'i':
			idle_ms = atoll(optarg);
			break;
		case 'T':
			timeout_ms = atoll(optarg);
			break;
		case 'H':
			headers = true;
			break;
		case 'o':
			offsets = true;
			break;
		case 'L':
			latency_field = optarg;
			break;
		case 'g':
			lag_group = optarg;
			break;
		case 'w':
			wait_lag = atoll(optarg);
			break;
		case 'm':
			min_ms = atoll(optarg);
			break;
		default:
			usage();
		}
	}
	if (!bootstrap || !topics)
		usage();
	char *tcopy = strdup(topics);
	for (char *save = NULL, *tok = strtok_r(tcopy, ",", &save);
	     tok && ntopic_args < MAX_TOPICS;
	     tok = strtok_r(NULL, ",", &save)) {
		topic_args[ntopic_args] = tok;
		if (tok[0] == '^') {
			if (regcomp(&topic_re[ntopic_args], tok,
				    REG_EXTENDED | REG_NOSUB))
				die("bad topic regex");
			topic_is_re[ntopic_args] = true;
		}
		ntopic_args++;
	}

	char group[128];
	snprintf(group, sizeof(group), "lr_consume-%d-%" PRId64, (int)getpid(),
		 wall_us());
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	set_conf(conf, "bootstrap.servers", bootstrap);
	set_conf(conf, "group.id", group);
	set_conf(conf, "enable.auto.commit", "false");
	set_conf(conf, "enable.auto.offset.store", "false");
	set_conf(conf, "isolation.level", "read_committed");
	set_conf(conf, "enable.partition.eof", "true");
	set_conf(conf, "auto.offset.reset", "earliest");
	set_conf(conf, "fetch.wait.max.ms", "10");
	set_conf(conf, "log_level", "3");
	rd_kafka_t *rk =
		rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		die(err);

	/* The broker must answer: a test that cannot reach it fails. */
	const struct rd_kafka_metadata *md0;
	if (rd_kafka_metadata(rk, 1, NULL, &md0, 10000))
		die("no metadata from the broker within 10 s");
	rd_kafka_metadata_destroy(md0);

	if (lag_group) {
		int rc =
			run_lag(rk, bootstrap, lag_group, wait_lag, timeout_ms);
		rd_kafka_destroy(rk);
		free(tcopy);
		return rc;
	}

	/* Assigned partitions and whether each is at its end. */
	rd_kafka_topic_partition_list_t *assigned =
		rd_kafka_topic_partition_list_new(16);
	int64_t t0 = mono_ms(), last_activity = t0, last_md = 0;
	int64_t count = 0;
	size_t nlat = 0, caplat = 0;
	int64_t *lat_rx = NULL, *lat_ct = NULL;
	uint64_t lat_bad = 0;
	int rc = 0;
	int at_eof = 0;

	for (;;) {
		int64_t now = mono_ms();
		if (now - last_md >= 500) {
			last_md = now;
			rd_kafka_topic_partition_list_t *w =
				wanted_partitions(rk, 5000);
			if (w) {
				rd_kafka_topic_partition_list_t *add =
					rd_kafka_topic_partition_list_new(4);
				for (int i = 0; i < w->cnt; i++) {
					rd_kafka_topic_partition_t *p =
						&w->elems[i];
					if (rd_kafka_topic_partition_list_find(
						    assigned, p->topic,
						    p->partition))
						continue;
					rd_kafka_topic_partition_list_add(
						add, p->topic, p->partition)
						->offset =
						RD_KAFKA_OFFSET_BEGINNING;
					rd_kafka_topic_partition_list_add(
						assigned, p->topic,
						p->partition)
						->offset =
						0; /* 0: not at eof */
				}
				if (add->cnt) {
					rd_kafka_error_t *ae =
						rd_kafka_incremental_assign(
							rk, add);
					if (ae)
						die(rd_kafka_error_string(ae));
					last_activity = now;
				}
				rd_kafka_topic_partition_list_destroy(add);
				rd_kafka_topic_partition_list_destroy(w);
			}
		}
		if (max >= 0 && count >= max)
			break;
		if (now - t0 > timeout_ms) {
			fprintf(stderr,
				"lr_consume: timeout after %" PRId64
				" ms with %" PRId64 " records\n",
				timeout_ms, count);
			rc = 3;
			break;
		}
		if (max < 0 && at_eof == assigned->cnt &&
		    now - last_activity >= idle_ms && now - t0 >= min_ms)
			break;

		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
		if (!m)
			continue;
		rd_kafka_topic_partition_t *ap =
			m->rkt ? rd_kafka_topic_partition_list_find(
					 assigned, rd_kafka_topic_name(m->rkt),
					 m->partition)
			       : NULL;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (ap && ap->offset == 0) {
				ap->offset = 1;
				at_eof++;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err) {
			fprintf(stderr, "lr_consume: %s\n",
				rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (ap && ap->offset == 1) {
			ap->offset = 0;
			at_eof--;
		}
		last_activity = mono_ms();
		count++;
		if (latency_field) {
			int64_t rx = wall_us();
			json_error_t je;
			/* a lead key may hold \u0000 */
			json_t *root = json_loadb(m->payload, m->len,
						  JSON_ALLOW_NUL, &je);
			int64_t in_us;
			if (root && json_time_us(json_path(root, latency_field),
						 &in_us)) {
				if (nlat == caplat) {
					caplat = caplat ? caplat * 2 : 1024;
					lat_rx = realloc(
						lat_rx,
						caplat * sizeof(*lat_rx));
					lat_ct = realloc(
						lat_ct,
						caplat * sizeof(*lat_ct));
					if (!lat_rx || !lat_ct)
						die("out of memory");
				}
				rd_kafka_timestamp_type_t tt;
				int64_t ct = rd_kafka_message_timestamp(m, &tt);
				lat_rx[nlat] = rx - in_us;
				lat_ct[nlat] = ct * 1000 - in_us;
				nlat++;
			} else {
				lat_bad++;
			}
			json_decref(root);
		} else {
			print_record(m, headers, offsets);
		}
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
	if (latency_field) {
		print_latency("visible", lat_rx, nlat);
		print_latency("produced", lat_ct, nlat);
		if (lat_bad)
			printf("without_field=%" PRIu64 "\n", lat_bad);
		free(lat_rx);
		free(lat_ct);
	}
	fprintf(stderr, "lr_consume: %" PRId64 " records\n", count);
	rd_kafka_topic_partition_list_destroy(assigned);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	for (size_t i = 0; i < ntopic_args; i++)
		if (topic_is_re[i])
			regfree(&topic_re[i]);
	free(tcopy);
	if (max >= 0 && count < max && rc == 0)
		rc = 3;
	return rc;
}
