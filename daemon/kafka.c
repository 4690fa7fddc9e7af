/*
 * kafka.c - shared Kafka configuration, the check of the config's kafka
 * section, and the start-up topic check.
 *
 * The kafka section is put to librdkafka when the config is loaded (by
 * --check-config, at start and on reload), property by property on a
 * scratch conf, so a misspelt name or a bad value is reported with its
 * JSON path there, not as a bare librdkafka error when a client is made.
 *
 * The check runs once, before the consumer joins the group, so a wrong
 * topic layout stops the daemon with one clear line instead of corrupting
 * state later: changelog partition p must hold the state of input partition
 * p, which only works when the counts agree. Metadata is requested for all
 * topics, because asking for a named topic can auto-create it on brokers
 * with auto.create.topics.enable.
 *
 * The check runs before the event loop, and a broker that is down makes it
 * wait up to a minute: every wait is cut into slices that ask the caller's
 * kafka_stop between them, so SIGTERM still stops the daemon at once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "kafka.h"
#include "log.h"

#define KAFKA_META_TIMEOUT_MS   10000
#define KAFKA_CREATE_TIMEOUT_MS 30000
#define KAFKA_META_TRIES        6
/* The whole wait for the cluster's metadata at start: the six tries of
 * ten seconds each that it was before its waits were sliced. */
#define KAFKA_META_WAIT_MS (KAFKA_META_TRIES * KAFKA_META_TIMEOUT_MS)
/* A "still waiting" line at most this often. */
#define KAFKA_RETRY_LOG_MS 10000

/* Process-wide: one daemon, and broker reachability is not per handle. */
static bool kafka_down;
static bool kafka_fatal_seen;
static rd_kafka_resp_err_t kafka_last_err;

static void kafka_error_fatal(rd_kafka_t *rk)
{
	char reason[512];
	rd_kafka_resp_err_t err =
		rd_kafka_fatal_error(rk, reason, sizeof(reason));

	if (!kafka_fatal_seen)
		log_errx("kafka: fatal error on %s: %s: %s", rd_kafka_name(rk),
			 rd_kafka_err2name(err), reason);
	kafka_fatal_seen = true;
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
			   void *opaque)
{
	(void)opaque;
	switch (err) {
	case RD_KAFKA_RESP_ERR__FATAL:
		kafka_error_fatal(rk);
		break;
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		if (!kafka_down)
			log_warnx("kafka: all brokers down (%s); retrying",
				  reason);
		kafka_down = true;
		break;
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__RESOLVE:
		/* Idle disconnects and reconnects: noisy, seldom news. */
		log_debug("kafka: %s: %s", rd_kafka_name(rk), reason);
		break;
	default:
		if (kafka_last_err != err)
			log_warnx("kafka: %s: %s", rd_kafka_err2name(err),
				  reason);
		kafka_last_err = err;
		break;
	}
}

/*
 * The one `kafka` section goes to the producer and the consumers alike, so
 * librdkafka's warning that a property is the other kind of client's
 * ("... is a consumer property and will be ignored by this producer
 * instance") is the design working, at every start: a warning operators
 * learn to ignore teaches them to ignore warnings. It stays at debug.
 */
static bool kafka_log_by_design(const char *fac, const char *buf)
{
	return strcmp(fac, "CONFWARN") == 0 &&
	       strstr(buf, " property and will be ignored by this ") != NULL;
}

/* librdkafka's own log lines (a broker refusing connections, a
 * coordinator moving) go through our logger, with its level prefix and
 * log_level, instead of its default printer's "%3|epoch|FAIL|..." lines
 * that journald stores at info whatever they say. Its levels are syslog's.
 * Called from librdkafka's threads: log_at writes each line at once. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
			 const char *buf)
{
	if (kafka_log_by_design(fac, buf))
		level = LOG_DEBUG;
	log_at(level, "kafka: %s: %s: %s", rd_kafka_name(rk), fac, buf);
}

rd_kafka_conf_t *kafka_conf_base(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	return conf;
}

bool kafka_fatal(void)
{
	return kafka_fatal_seen;
}

void kafka_brokers_up(void)
{
	if (kafka_down)
		log_info("kafka: brokers reachable again");
	kafka_down = false;
	kafka_last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int kafka_conf_list(rd_kafka_conf_t *conf, const char *const *kv,
			   char *errstr, size_t errsize)
{
	for (; kv && kv[0]; kv += 2)
		if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, errsize) !=
		    RD_KAFKA_CONF_OK)
			return -1;
	return 0;
}

/* The value forced for key, or NULL. */
static const char *kafka_conf_forced(const char *const *forced, const char *key)
{
	for (; forced && forced[0]; forced += 2)
		if (strcmp(forced[0], key) == 0)
			return forced[1];
	return NULL;
}

rd_kafka_conf_t *kafka_conf_make(const rd_kafka_conf_t *base,
				 const struct config *cfg,
				 const char *const *defaults,
				 const char *const *forced, const char *who,
				 char *errstr, size_t errsize)
{
	rd_kafka_conf_t *conf =
		base ? rd_kafka_conf_dup(base) : rd_kafka_conf_new();

	if (kafka_conf_list(conf, defaults, errstr, errsize) < 0)
		goto err;
	for (size_t i = 0; i < cfg->nkafka; i++) {
		const char *f = kafka_conf_forced(forced, cfg->kafka[i].key);

		/* Exactly-once depends on these: say so instead of silently
		 * running with a setting the operator did not ask for. */
		if (f && who && strcmp(f, cfg->kafka[i].value) != 0)
			log_warnx("kafka: %s: property %s=%s ignored: "
				  "leadrouter needs %s",
				  who, cfg->kafka[i].key, cfg->kafka[i].value,
				  f);
		if (rd_kafka_conf_set(conf, cfg->kafka[i].key,
				      cfg->kafka[i].value, errstr,
				      errsize) != RD_KAFKA_CONF_OK)
			goto err;
	}
	if (kafka_conf_list(conf, forced, errstr, errsize) < 0)
		goto err;
	return conf;
err:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

int kafka_conf_check(const char *key, const char *value, bool secret, char *msg,
		     size_t size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_res_t res =
		rd_kafka_conf_set(conf, key, value, msg, size);
	size_t len;

	rd_kafka_conf_destroy(conf);
	if (res == RD_KAFKA_CONF_OK)
		return 0;
	/* librdkafka quotes an invalid value, and a range error shows the
	 * number parsed from it: neither may print a secret. An unknown
	 * property's message names the key only. */
	if (secret && res != RD_KAFKA_CONF_UNKNOWN)
		snprintf(msg, size,
			 "librdkafka rejects the value read from the secret "
			 "file (not shown)");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0'; /* range errors end in a newline */
	return -1;
}

int kafka_handoff_topic(const char *tmpl, const char *team, const char *rep,
			char *buf, size_t size)
{
	size_t n = 0;

	for (const char *s = tmpl; *s; s++) {
		const char *sub = NULL;

		if (strncmp(s, "{team}", 6) == 0)
			sub = team;
		else if (strncmp(s, "{rep}", 5) == 0)
			sub = rep;
		if (sub) {
			size_t l = strlen(sub);

			if (n + l >= size)
				return -1;
			memcpy(buf + n, sub, l);
			n += l;
			s += (s[1] == 't') ? 5 : 4;
			continue;
		}
		if (n + 1 >= size)
			return -1;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return 0;
}

/* Partition count of topic in md, or -1 when absent. */
static int kafka_topic_parts(const rd_kafka_metadata_t *md, const char *topic)
{
	for (int i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, topic) == 0)
			return md->topics[i].err ? -1
						 : md->topics[i].partition_cnt;
	return -1;
}

static int64_t kafka_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kafka_min(int64_t a, int64_t b)
{
	return (int)(a < b ? a : b);
}

/*
 * rd_kafka_metadata in slices until it answers, wait_ms passes or stop
 * asks (then __INTR). With no broker up librdkafka waits out the slice for
 * one and returns __TRANSPORT, so the slice stays short and a stop is seen
 * within it. A request sent but not answered in time (__TIMED_OUT: a slow
 * broker, a large cluster) is sent again with twice the slice, up to
 * KAFKA_META_TIMEOUT_MS, lest a slow answer never fit in one; a stop then
 * waits for the slice in progress. who, when set, logs the retries.
 */
static rd_kafka_resp_err_t
kafka_metadata_wait(rd_kafka_t *rk, bool all, const rd_kafka_metadata_t **md,
		    int wait_ms, const struct kafka_stop *stop, const char *who)
{
	int64_t now = kafka_now_ms(), deadline = now + wait_ms, logged = now;
	int slice = KAFKA_WAIT_SLICE_MS;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;

	while (now < deadline) {
		int64_t t0 = now;

		if (kafka_stop_asked(stop))
			return RD_KAFKA_RESP_ERR__INTR;
		err = rd_kafka_metadata(rk, all, NULL, md,
					kafka_min(slice, deadline - now));
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			return err;
		now = kafka_now_ms();
		if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
			slice = kafka_min(2 * (int64_t)slice,
					  KAFKA_META_TIMEOUT_MS);
		else if (now - t0 < KAFKA_WAIT_SLICE_MS) /* no busy loop */
			usleep((useconds_t)(KAFKA_WAIT_SLICE_MS - (now - t0)) *
			       1000);
		if (who && now - logged >= KAFKA_RETRY_LOG_MS) {
			log_info("%s: metadata request failed: %s; retrying",
				 who, rd_kafka_err2str(err));
			logged = now;
		}
		now = kafka_now_ms();
	}
	return kafka_stop_asked(stop) ? RD_KAFKA_RESP_ERR__INTR : err;
}

static const rd_kafka_metadata_t *
kafka_metadata_get(rd_kafka_t *rk, const struct kafka_stop *stop)
{
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_resp_err_t err = kafka_metadata_wait(
		rk, true, &md, KAFKA_META_WAIT_MS, stop, __func__);

	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return md;
	if (err != RD_KAFKA_RESP_ERR__INTR)
		log_warnx("%s: cannot read cluster metadata: %s", __func__,
			  rd_kafka_err2str(err));
	return NULL;
}

/* Topics to create, collected so one CreateTopics request does them all. */
struct kafka_create {
	rd_kafka_NewTopic_t *v[256];
	char *names[256]; /* to queue a shared handoff topic once */
	int n;
	bool failed;
};

static void kafka_create_add(struct kafka_create *kc, const struct config *cfg,
			     const char *topic, int parts, bool compact)
{
	char errstr[256];
	rd_kafka_NewTopic_t *nt;
	int rf = cfg->topics.replication_factor > 0
			 ? cfg->topics.replication_factor
			 : -1;

	if (kc->n >= (int)(sizeof(kc->v) / sizeof(kc->v[0]))) {
		log_warnx("%s: too many topics to create", __func__);
		kc->failed = true;
		return;
	}
	nt = rd_kafka_NewTopic_new(topic, parts, rf, errstr, sizeof(errstr));
	if (nt == NULL) {
		log_warnx("%s: %s: %s", __func__, topic, errstr);
		kc->failed = true;
		return;
	}
	if (compact)
		rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	kc->names[kc->n] = strdup(topic);
	kc->v[kc->n++] = nt;
	log_info("%s: creating topic %s (%d partitions%s)", __func__, topic,
		 parts, compact ? ", compacted" : "");
}

static bool kafka_create_has(const struct kafka_create *kc, const char *topic)
{
	for (int i = 0; i < kc->n; i++)
		if (kc->names[i] && strcmp(kc->names[i], topic) == 0)
			return true;
	return false;
}

/* rd_kafka_queue_poll in slices: the event, or NULL after wait_ms or
 * when stop asked. */
static rd_kafka_event_t *kafka_queue_wait(rd_kafka_queue_t *q, int wait_ms,
					  const struct kafka_stop *stop)
{
	int64_t deadline = kafka_now_ms() + wait_ms;
	rd_kafka_event_t *ev = NULL;
	int64_t left;

	while (ev == NULL && (left = deadline - kafka_now_ms()) > 0 &&
	       !kafka_stop_asked(stop))
		ev = rd_kafka_queue_poll(q,
					 kafka_min(left, KAFKA_WAIT_SLICE_MS));
	return ev;
}

static int kafka_create_run(rd_kafka_t *rk, struct kafka_create *kc,
			    const struct kafka_stop *stop)
{
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	size_t ntr = 0;
	int rc = 0;

	if (kc->n == 0)
		return 0;
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, kc->v, (size_t)kc->n, NULL, q);
	ev = kafka_queue_wait(q, KAFKA_CREATE_TIMEOUT_MS + 5000, stop);
	res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
	if (res == NULL && ev == NULL && kafka_stop_asked(stop)) {
		rc = -1; /* librdkafka drops the answer with the queue */
		goto done;
	}
	if (res == NULL) {
		log_warnx("%s: creating topics failed: %s", __func__,
			  ev ? rd_kafka_event_error_string(ev) : "timed out");
		rc = -1;
		goto done;
	}
	tr = rd_kafka_CreateTopics_result_topics(res, &ntr);
	for (size_t i = 0; i < ntr; i++) {
		rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);

		if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			continue;
		log_warnx("%s: cannot create topic %s: %s", __func__,
			  rd_kafka_topic_result_name(tr[i]),
			  rd_kafka_topic_result_error_string(tr[i]));
		rc = -1;
	}
done:
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return rc;
}

/*
 * An internal topic: must exist with want partitions (want 0: any count),
 * or is queued for creation. Returns its partition count, or -1.
 */
static int kafka_topic_ensure(const rd_kafka_metadata_t *md,
			      const struct config *cfg, struct kafka_create *kc,
			      const char *topic, int want, int create_parts,
			      bool compact)
{
	int have = kafka_topic_parts(md, topic);

	if (have > 0) {
		if (want > 0 && have != want) {
			log_warnx("%s: topic %s has %d partitions, needs %d "
				  "(it must match its input topic)",
				  __func__, topic, have, want);
			return -1;
		}
		return have;
	}
	if (!cfg->topics.create_internal) {
		log_warnx("%s: topic %s does not exist and "
			  "topics.create_internal is off",
			  __func__, topic);
		return -1;
	}
	kafka_create_add(kc, cfg, topic, want > 0 ? want : create_parts,
			 compact);
	return want > 0 ? want : create_parts;
}

static int kafka_handoffs_ensure(const rd_kafka_metadata_t *md,
				 const struct config *cfg,
				 struct kafka_create *kc)
{
	const struct routing_config *rc = &cfg->engine.routing;
	const char *tmpl = cfg->topics.handoff;
	bool per_rep = strstr(tmpl, "{rep}") != NULL;
	int parts = cfg->topics.partitions > 0 ? cfg->topics.partitions : 1;
	char name[512];
	int bad = 0;

	for (size_t t = 0; t < rc->nteams; t++) {
		const struct team *team = &rc->teams[t];
		size_t nrep = per_rep ? team->nreps + 1 : 1;

		for (size_t r = 0; r < nrep; r++) {
			const char *rep = r < team->nreps
						  ? team->reps[r].id
						  : team->overflow_queue;

			if (rep == NULL)
				rep = "";
			if (kafka_handoff_topic(tmpl, team->name, rep, name,
						sizeof(name)) < 0) {
				log_warnx("%s: handoff topic name too long",
					  __func__);
				return -1;
			}
			if (kafka_topic_parts(md, name) > 0 ||
			    kafka_create_has(kc, name))
				continue;
			if (kafka_topic_ensure(md, cfg, kc, name, 0, parts,
					       false) < 0)
				bad++;
		}
	}
	return bad ? -1 : 0;
}

static int kafka_inputs_check(const rd_kafka_metadata_t *md,
			      const struct config *cfg)
{
	int ne = kafka_topic_parts(md, cfg->topics.events);
	int nf = kafka_topic_parts(md, cfg->topics.feedback);

	if (ne < 0 || nf < 0) {
		log_warnx("%s: input topic %s does not exist", __func__,
			  ne < 0 ? cfg->topics.events : cfg->topics.feedback);
		return -1;
	}
	if (ne != nf) {
		log_warnx("%s: %s has %d partitions but %s has %d: the inputs "
			  "must be co-partitioned",
			  __func__, cfg->topics.events, ne,
			  cfg->topics.feedback, nf);
		return -1;
	}
	return ne;
}

static int kafka_layout_make(const rd_kafka_metadata_t *md,
			     const struct config *cfg, struct kafka_create *kc,
			     struct kafka_layout *layout)
{
	const struct topics_config *tc = &cfg->topics;
	int ne = kafka_inputs_check(md, cfg);
	int na;

	if (ne < 0)
		return -1;
	na = kafka_topic_ensure(md, cfg, kc, tc->assign, 0,
				tc->partitions > 0 ? tc->partitions : ne,
				false);
	if (na < 0)
		return -1;
	if (kafka_topic_ensure(md, cfg, kc, tc->leads_changelog, ne, ne, true) <
		    0 ||
	    kafka_topic_ensure(md, cfg, kc, tc->teams_changelog, na, na, true) <
		    0 ||
	    kafka_topic_ensure(md, cfg, kc, tc->dlq, 0,
			       tc->partitions > 0 ? tc->partitions : ne,
			       false) < 0 ||
	    kafka_handoffs_ensure(md, cfg, kc) < 0)
		return -1;
	layout->nleads = ne;
	layout->nteams = na;
	return 0;
}

/* Whether md names topic with a leader for every partition. */
static bool kafka_topic_led(const rd_kafka_metadata_t *md, const char *topic)
{
	for (int i = 0; i < md->topic_cnt; i++) {
		const rd_kafka_metadata_topic_t *t = &md->topics[i];

		if (strcmp(t->topic, topic) != 0)
			continue;
		if (t->err || t->partition_cnt == 0)
			return false;
		for (int p = 0; p < t->partition_cnt; p++)
			if (t->partitions[p].leader < 0)
				return false;
		return true;
	}
	return false;
}

/*
 * Teach the producer every topic it will write to, leaders included,
 * before the first transaction. Otherwise the first record for a topic
 * waits for librdkafka to look it up (about a second here), and since
 * commit_transaction flushes, the whole loop stalls with it: the first
 * handoffs after a start took 1-2 s. Best effort: a topic still unknown
 * is only slower.
 */
static void kafka_producer_warm(rd_kafka_t *rk, const struct config *cfg,
				const struct kafka_stop *stop)
{
	const struct topics_config *tc = &cfg->topics;
	const struct routing_config *rc = &cfg->engine.routing;
	bool per_rep = strstr(tc->handoff, "{rep}") != NULL;
	rd_kafka_topic_t *v[256];
	int n = 0, tries;
	bool all = false;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	char name[512];

	v[n++] = rd_kafka_topic_new(rk, tc->assign, NULL);
	v[n++] = rd_kafka_topic_new(rk, tc->leads_changelog, NULL);
	v[n++] = rd_kafka_topic_new(rk, tc->teams_changelog, NULL);
	v[n++] = rd_kafka_topic_new(rk, tc->dlq, NULL);
	for (size_t t = 0; t < rc->nteams; t++) {
		const struct team *team = &rc->teams[t];
		size_t nrep = per_rep ? team->nreps + 1 : 1;

		for (size_t r = 0; r < nrep && n < 256; r++) {
			const char *rep = r < team->nreps
						  ? team->reps[r].id
						  : team->overflow_queue;

			if (kafka_handoff_topic(tc->handoff, team->name,
						rep ? rep : "", name,
						sizeof(name)) == 0)
				v[n++] = rd_kafka_topic_new(rk, name, NULL);
		}
	}
	/* Freshly created topics may have no leader yet: ask again. */
	for (tries = 0;
	     tries < KAFKA_META_TRIES && !all && err != RD_KAFKA_RESP_ERR__INTR;
	     tries++) {
		const rd_kafka_metadata_t *md = NULL;

		if (tries > 0)
			usleep(100 * 1000);
		err = kafka_metadata_wait(rk, false, &md, KAFKA_META_TIMEOUT_MS,
					  stop, NULL);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
			continue;
		all = true;
		for (int i = 0; i < n; i++)
			if (v[i] &&
			    !kafka_topic_led(md, rd_kafka_topic_name(v[i])))
				all = false;
		rd_kafka_metadata_destroy(md);
	}
	if (!all && err != RD_KAFKA_RESP_ERR__INTR)
		log_info("%s: some output topics have no leader yet; their "
			 "first records will wait for one",
			 __func__);
	for (int i = 0; i < n; i++)
		if (v[i])
			rd_kafka_topic_destroy(v[i]);
}

int kafka_topics_prepare(rd_kafka_t *rk, const struct config *cfg,
			 struct kafka_layout *layout,
			 const struct kafka_stop *stop)
{
	const rd_kafka_metadata_t *md = kafka_metadata_get(rk, stop);
	struct kafka_create kc = {.n = 0};
	int rc;

	if (md == NULL)
		return -1;
	rc = kafka_layout_make(md, cfg, &kc, layout);
	if (rc == 0 && kc.failed)
		rc = -1;
	if (rc == 0)
		rc = kafka_create_run(rk, &kc, stop);
	rd_kafka_NewTopic_destroy_array(kc.v, (size_t)kc.n);
	for (int i = 0; i < kc.n; i++)
		free(kc.names[i]);
	rd_kafka_metadata_destroy(md);
	if (rc == 0)
		kafka_producer_warm(rk, cfg, stop);
	if (rc == 0 && kafka_stop_asked(stop))
		rc = -1;
	if (rc == 0)
		log_info("%s: topics ready: %d lead partitions, %d team "
			 "partitions",
			 __func__, layout->nleads, layout->nteams);
	return rc;
}
