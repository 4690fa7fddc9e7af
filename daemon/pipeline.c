/*
 * pipeline.c - the Kafka daemon's life cycle on one libevent loop.
 *
 * librdkafka never runs our code on its own threads here: the consumer queue
 * and the producer's main queue write a byte to a non-blocking pipe when
 * they go from empty to non-empty, the loop wakes, and the callbacks drain
 * them with zero-timeout polls up to a batch cap. A periodic timer polls
 * anyway (the wake-up is edge-triggered, and an idle consumer must still be
 * polled to stay in its group), drives commits, expiry, the systemd
 * watchdog and a stats line. Signals are loop events: SIGTERM/SIGINT stop
 * gracefully, SIGHUP reloads the config between transactions.
 *
 * Signals are blocked and read from a signalfd, which the loop watches.
 * Start-up waits for Kafka before the loop runs (topic check, transactions)
 * and inside it (the first restore), up to minutes with a broker down; a
 * non-blocking read of the same fd between their short slices lets a stop
 * end them at once, and the start-up waits also turn the loop once
 * without blocking, so the operations endpoint answers meanwhile. No
 * handler runs in signal context: there is none.
 *
 * Exit status: 0 after a graceful stop, a stop before start-up completed
 * included; 1 when the daemon cannot start or hits a fatal error (fenced
 * producer, failed restore, ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_internal.h"
#include "state.h"
#include "version.h"

#define POLL_BATCH       500   /* records per wake-up before yielding */
#define STATS_PERIOD_MS  60000 /* info line with counters */
#define EXPIRE_PERIOD_MS 10000 /* a full scan of the lead tables */
#define CLOSE_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 10000

int64_t pipeline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pipeline_fatal(struct pipeline *pl, const char *why)
{
	/* Fencing is an operator's mistake or a zombie: say which. */
	if (pl->status == 0 && producer_fenced(pl->prod))
		log_errx("pipeline: fatal: fenced: another process uses "
			 "transactional.id %s (process.instance_id must be "
			 "unique per instance); exiting",
			 pl->prod->txid);
	else if (pl->status == 0)
		log_errx("pipeline: fatal: %s; exiting", why);
	pl->status = 1;
	pl->stopping = true;
	if (pl->base)
		event_base_loopbreak(pl->base);
}

static void pipeline_pipe_drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static bool pipeline_can_consume(const struct pipeline *pl)
{
	return !pl->stopping && pl->txn_open && pl->retry_op == TXN_OP_NONE &&
	       !pl->replay_paused;
}

static void pipeline_message(struct pipeline *pl, rd_kafka_message_t *m)
{
	if (m->err) {
		/* Consumer errors are informational; librdkafka retries. */
		log_info("pipeline: consumer: %s", rd_kafka_message_errstr(m));
		return;
	}
	pl->txn_records++;
	if (stage_record(&pl->stage, m) < 0)
		pipeline_fatal(pl, "a record arrived for a partition without "
				   "state");
}

/* A commit is due commit_interval_ms after the previous one began: start
 * to start, so the cadence does not slip by each commit's own duration. */
static bool pipeline_commit_due(const struct pipeline *pl, int64_t now)
{
	return now - pl->last_commit_ms >= pl->cfg->process.commit_interval_ms;
}

/* With the input drained, a transaction that holds a handoff or a command
 * for stage 2 commits at once: each of the two hops would otherwise wait
 * out up to a whole interval. Under load the queue is seldom empty, so
 * the interval and commit_max_records still set the batch size. */
static bool pipeline_commit_due_drained(const struct pipeline *pl, int64_t now)
{
	return pl->stage.urgent || pipeline_commit_due(pl, now);
}

/*
 * Come back for more records after the loop has polled for I/O. An
 * event_active() from inside a callback runs again in the same pass of
 * libevent's active queue, before any I/O is polled: with a backlog the
 * loop would consume batch after batch until the input ran dry, and the
 * operations endpoint, signals and the timer (watchdog included) would
 * wait for all of it. A zero timeout fires only after the next poll, so
 * what became ready meanwhile runs first.
 */
static void pipeline_later(struct event *ev)
{
	static const struct timeval now = {0, 0};

	evtimer_add(ev, &now);
}

/* Process up to POLL_BATCH records; re-arm ourselves when there may be
 * more, since the wake-up pipe fires only on empty -> non-empty. */
static void pipeline_consume(struct pipeline *pl)
{
	for (int n = 0; n < POLL_BATCH; n++) {
		rd_kafka_message_t *m;

		if (!pipeline_can_consume(pl))
			return;
		m = rd_kafka_consumer_poll(pl->cons->rk, 0);
		if (pl->cons->failed) {
			if (m)
				rd_kafka_message_destroy(m);
			/* A restore given up for a stop fails its rebalance;
			 * any other failure is one, stop asked or not. */
			if (!pl->restore_stopped)
				pipeline_fatal(pl, "rebalance failed");
			return;
		}
		if (m == NULL) {
			/* Drained: commit now when the interval has passed
			 * instead of waiting for the next timer tick, so
			 * output (stage 1's commands, which stage 2 sees only
			 * once committed) is not held for a tick's phase. */
			if (pipeline_can_consume(pl) &&
			    pipeline_commit_due_drained(pl,
							pipeline_now_ms()) &&
			    txn_has_work(pl))
				txn_step(pl);
			return;
		}
		pipeline_message(pl, m);
		rd_kafka_message_destroy(m);
		if (pl->txn_records >=
		    (uint64_t)pl->cfg->process.commit_max_records)
			txn_step(pl);
	}
	pipeline_later(pl->ev_more);
}

static void pipeline_consumer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	pipeline_pipe_drain(fd);
	pipeline_consume(arg);
}

static void pipeline_more_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipeline_consume(arg);
}

/* Serve up to POLL_BATCH delivery reports; the rest after the next poll
 * for I/O (pipeline_later), like a consume batch. */
static void pipeline_producer_poll(struct pipeline *pl)
{
	for (int n = 0; n < POLL_BATCH; n++)
		if (rd_kafka_poll(pl->prod->rk, 0) == 0)
			return;
	pipeline_later(pl->ev_prod_more);
}

static void pipeline_producer_more_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipeline_producer_poll(arg);
}

static void pipeline_producer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	pipeline_pipe_drain(fd);
	pipeline_producer_poll(arg);
}

static void pipeline_stats_log(struct pipeline *pl)
{
	const struct metrics *m = &pl->metrics;
	uint64_t events = metrics_events(m);

	log_info("pipeline: stats: consumed %llu (events %llu, feedback %llu, "
		 "commands %llu), qualified %llu, handoffs %llu, dlq %llu, "
		 "commits %llu, aborts %llu, leads %zu, teams %zu, "
		 "expired %llu",
		 (unsigned long long)(events +
				      m->records[METRICS_INPUT_FEEDBACK] +
				      m->records[METRICS_INPUT_COMMANDS]),
		 (unsigned long long)events,
		 (unsigned long long)m->records[METRICS_INPUT_FEEDBACK],
		 (unsigned long long)m->records[METRICS_INPUT_COMMANDS],
		 (unsigned long long)m->mql,
		 (unsigned long long)metrics_handoffs(m),
		 (unsigned long long)metrics_dlq(m),
		 (unsigned long long)m->txns[METRICS_TXN_COMMITTED],
		 (unsigned long long)m->txns[METRICS_TXN_ABORTED],
		 pl->st ? state_leads_total(pl->st) : 0,
		 pl->st ? state_teams_total(pl->st) : 0,
		 (unsigned long long)m->expired);
}

void pipeline_alive(struct pipeline *pl, int64_t now)
{
	if (pl->watchdog_usec &&
	    (now - pl->last_watchdog_ms) * 2000 >= (int64_t)pl->watchdog_usec) {
		sd_notify(0, "WATCHDOG=1");
		pl->last_watchdog_ms = now;
	}
}

/* Sub-jobs of the timer at their own rates (Redis' run_with_period). */
static void pipeline_timer_jobs(struct pipeline *pl, int64_t now)
{
	pipeline_alive(pl, now);
	if (now - pl->last_expire_ms >= EXPIRE_PERIOD_MS) {
		txn_expire(pl);
		pl->last_expire_ms = now;
	}
	if (now - pl->last_stats_ms >= STATS_PERIOD_MS) {
		pipeline_stats_log(pl);
		pl->last_stats_ms = now;
	}
}

static void pipeline_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline *pl = arg;
	int64_t now;

	(void)fd;
	(void)what;
	if (kafka_fatal()) {
		pipeline_fatal(pl, "librdkafka raised a fatal error");
		return;
	}
	pipeline_producer_poll(pl);
	now = pipeline_now_ms();
	if (pl->replay_paused && now >= pl->replay_at_ms) {
		log_info("pipeline: replaying from the committed offsets");
		pl->replay_paused = false;
	}
	pipeline_consume(pl);
	pipeline_timer_jobs(pl, now);
	if (!pl->stopping && pl->retry_op == TXN_OP_NONE &&
	    pipeline_commit_due(pl, now))
		txn_step(pl);
}

static bool pipeline_str_differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

static bool pipeline_kafka_differs(const struct config *a,
				   const struct config *b)
{
	if (a->nkafka != b->nkafka)
		return true;
	for (size_t i = 0; i < a->nkafka; i++)
		if (pipeline_str_differs(a->kafka[i].key, b->kafka[i].key) ||
		    pipeline_str_differs(a->kafka[i].value, b->kafka[i].value))
			return true;
	return false;
}

static bool pipeline_topics_differ(const struct topics_config *a,
				   const struct topics_config *b)
{
	return pipeline_str_differs(a->events, b->events) ||
	       pipeline_str_differs(a->feedback, b->feedback) ||
	       pipeline_str_differs(a->assign, b->assign) ||
	       pipeline_str_differs(a->leads_changelog, b->leads_changelog) ||
	       pipeline_str_differs(a->teams_changelog, b->teams_changelog) ||
	       pipeline_str_differs(a->dlq, b->dlq) ||
	       pipeline_str_differs(a->handoff, b->handoff) ||
	       a->create_internal != b->create_internal ||
	       a->partitions != b->partitions ||
	       a->replication_factor != b->replication_factor;
}

static void pipeline_reload_warn(const struct config *old,
				 const struct config *neu)
{
	if (pipeline_kafka_differs(old, neu))
		log_warnx("pipeline: reload: kafka properties changed; they "
			  "take effect after a restart");
	if (pipeline_topics_differ(&old->topics, &neu->topics))
		log_warnx("pipeline: reload: topics changed; they take effect "
			  "after a restart");
	if (pipeline_str_differs(old->process.group_id,
				 neu->process.group_id) ||
	    pipeline_str_differs(old->process.instance_id,
				 neu->process.instance_id) ||
	    pipeline_str_differs(old->process.transactional_id_prefix,
				 neu->process.transactional_id_prefix))
		log_warnx("pipeline: reload: process.group_id, instance_id or "
			  "transactional_id_prefix changed; they take effect "
			  "after a restart");
	if (pipeline_str_differs(old->process.http_listen,
				 neu->process.http_listen))
		log_warnx("pipeline: reload: process.http_listen changed; the "
			  "endpoint moves after a restart");
}

static void pipeline_reload(struct pipeline *pl)
{
	struct config_errors errs = {0};
	/* The kafka section only applies at the next restart, so a typo in
	 * it must fail the reload now, not that restart. */
	struct config *neu =
		config_load_checked(pl->config_path, kafka_conf_check, &errs);

	if (neu == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("pipeline: reload: %s: %s", errs.v[i].path,
				  errs.v[i].msg);
		log_warnx("pipeline: reload failed; keeping the running "
			  "configuration");
		config_errors_free(&errs);
		return;
	}
	config_errors_free(&errs);
	pipeline_reload_warn(pl->cfg, neu);
	config_free(pl->pending_cfg);
	pl->pending_cfg = neu;
	log_info("pipeline: reload: configuration valid; applying after the "
		 "current transaction");
}

static void pipeline_timer_arm(struct pipeline *pl)
{
	/* A quarter of the commit interval: the tick only checks whether a
	 * commit is due (pipeline_commit_due), so an idle loop commits at
	 * most a quarter interval late rather than up to a whole one. */
	int ms = pl->cfg->process.commit_interval_ms / 4;
	struct timeval tv;

	if (ms < 10)
		ms = 10;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_del(pl->ev_timer);
	event_add(pl->ev_timer, &tv);
}

/* The configured teams' handoff series, before their first handoff. A
 * team removed by a reload keeps its series: counters never go back. */
static void pipeline_metrics_teams(struct pipeline *pl)
{
	const struct routing_config *r = &pl->cfg->engine.routing;

	for (size_t i = 0; i < r->nteams; i++)
		(void)metrics_team_declare(&pl->metrics, r->teams[i].name);
}

bool pipeline_reload_swap(struct pipeline *pl)
{
	struct config *old = pl->cfg;

	if (pl->pending_cfg == NULL)
		return false;
	pl->cfg = pl->pending_cfg;
	pl->pending_cfg = NULL;
	pl->stage.cfg = pl->cfg;
	config_free(old);
	pipeline_metrics_teams(pl);
	log_setlevel(pl->cfg->process.log_level);
	pipeline_timer_arm(pl);
	log_info("pipeline: configuration reloaded");
	return true;
}

/*
 * The lead tables hold config-dependent state: score records point at
 * rules by index in scoring.rules, and grades and disqualifications come
 * from the fit config. Rather than remap the tables in place, a swap
 * rebuilds them from the changelogs under the new config, with the very
 * restore that start-up and abort use: the changelog names each record's
 * rule (so reordered rules keep their points and removed ones drop
 * theirs) and lead_decode re-grades every lead. This needs no second,
 * seldom-run path that must agree with lead_decode, and leaves exactly
 * the state a restart under the new config would, at the cost of a
 * restore's time per reload. It is correct because of where the swap is
 * called: after a successful commit, which wrote every dirty lead and team
 * under the old config (lead_encode turning the old indexes into names)
 * together with the consumer positions, or with nothing consumed or
 * changed since the last one. Either way the changelogs hold exactly the
 * state as of the committed offsets, which equal the current positions,
 * so the consumer is not rewound. Team state is rebuilt too: its
 * team_state objects are created per configured team, and a removed team's
 * state is then gone (its commands go to the DLQ as unknown_team).
 *
 * During a rebalance or a stop the swap waits: the state is about to be
 * dropped (revoke) or no longer matters, and the next commit after the
 * assignment applies it.
 */
int pipeline_reload_apply(struct pipeline *pl)
{
	if (pl->pending_cfg == NULL || pl->in_rebalance || pl->stopping)
		return 0;
	pipeline_reload_swap(pl);
	if (txn_state_rebuild(pl) < 0) {
		pipeline_fatal(pl, "cannot rebuild the state under the "
				   "reloaded configuration");
		return -1;
	}
	return 0;
}

static void pipeline_stop(struct pipeline *pl, int sig)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";

	if (pl->stop_sig != 0)
		return; /* a second signal: already stopping */
	pl->stop_sig = sig;
	if (pl->ready)
		log_info("pipeline: %s received; stopping", name);
	else
		log_info("pipeline: stopping before start-up completed: %s",
			 name);
	pl->stopping = true;
	if (pl->base)
		event_base_loopbreak(pl->base);
}

bool pipeline_signals_read(struct pipeline *pl)
{
	struct signalfd_siginfo si;

	while (pl->sig_fd >= 0 &&
	       read(pl->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			pipeline_reload(pl);
		else
			pipeline_stop(pl, (int)si.ssi_signo);
	}
	return pl->stop_sig != 0;
}

static void pipeline_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipeline_signals_read(arg);
}

/*
 * Block the signals the daemon acts on and open a signalfd for them.
 * First thing, before librdkafka starts a thread: a thread created later
 * inherits the mask, so no thread takes a signal that the fd should see.
 * Each gets its default action back, as a handler of ours would replace
 * it: a shell starts a background job with SIGINT ignored, and an ignored
 * signal need not reach the fd. Blocked, the default never runs.
 */
static int pipeline_signals_open(struct pipeline *pl)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		log_warn("pipeline: sigprocmask");
		return -1;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	pl->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (pl->sig_fd < 0) {
		log_warn("pipeline: signalfd");
		return -1;
	}
	return 0;
}

/* The kafka_stop of the start-up waits before the loop runs: one turn of
 * the loop that does not block serves the operations endpoint (/healthz
 * answers while the daemon waits for Kafka) and reads the signalfd. */
static bool pipeline_start_stop_cb(void *arg)
{
	struct pipeline *pl = arg;

	event_base_loop(pl->base, EVLOOP_NONBLOCK);
	return pipeline_signals_read(pl);
}

/* A non-blocking pipe librdkafka writes to when queue wakes up. */
static int pipeline_wakeup(struct pipeline *pl, rd_kafka_queue_t *q, int fds[2],
			   event_callback_fn cb, struct event **ev)
{
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_warn("pipeline: pipe2");
		return -1;
	}
	*ev = event_new(pl->base, fds[0], EV_READ | EV_PERSIST, cb, pl);
	if (*ev == NULL || event_add(*ev, NULL) < 0)
		return -1;
	rd_kafka_queue_io_event_enable(q, fds[1], "1", 1);
	return 0;
}

static int pipeline_events_new(struct pipeline *pl)
{
	pl->base = event_base_new();
	if (pl->base == NULL)
		return -1;
	pl->ev_sig = event_new(pl->base, pl->sig_fd, EV_READ | EV_PERSIST,
			       pipeline_signal_cb, pl);
	pl->ev_timer =
		event_new(pl->base, -1, EV_PERSIST, pipeline_timer_cb, pl);
	pl->ev_retry = evtimer_new(pl->base, txn_retry_cb, pl);
	pl->ev_more = evtimer_new(pl->base, pipeline_more_cb, pl);
	pl->ev_prod_more = evtimer_new(pl->base, pipeline_producer_more_cb, pl);
	if (!pl->ev_sig || !pl->ev_timer || !pl->ev_retry || !pl->ev_more ||
	    !pl->ev_prod_more)
		return -1;
	event_add(pl->ev_sig, NULL);
	return 0;
}

static int pipeline_kafka_new(struct pipeline *pl)
{
	rd_kafka_conf_t *base = kafka_conf_base();
	struct consumer_hooks hooks = {txn_assign_hook, txn_revoke_hook, pl};
	const struct kafka_stop stop = {pipeline_start_stop_cb, pl};
	char errstr[512];
	int rc = -1;

	pl->prod = producer_new(pl->cfg, base, errstr, sizeof(errstr));
	if (pl->prod == NULL) {
		log_warnx("pipeline: producer: %s", errstr);
		goto done;
	}
	pl->stage.prod = pl->prod;
	sd_notify(0, "STATUS=waiting for Kafka metadata (topic check)");
	if (kafka_topics_prepare(pl->prod->rk, pl->cfg, &pl->layout, &stop) < 0)
		goto done;
	pl->st = state_new(pl->layout.nleads, pl->layout.nteams);
	pl->stage.st = pl->st;
	if (pl->st == NULL)
		goto done;
	sd_notify(0, "STATUS=waiting for the Kafka transaction coordinator");
	if (producer_txn_init(pl->prod, 60000, &stop) != TXN_OK) {
		if (!pl->stopping)
			log_warnx("pipeline: cannot initialise transactions");
		goto done;
	}
	log_info("pipeline: transactional producer ready");
	pl->cons = consumer_new(pl->cfg, base, &hooks, errstr, sizeof(errstr));
	if (pl->cons == NULL) {
		log_warnx("pipeline: consumer: %s", errstr);
		goto done;
	}
	sd_notify(0, "STATUS=joining the consumer group");
	rc = 0;
done:
	rd_kafka_conf_destroy(base);
	return rc;
}

static int pipeline_start(struct pipeline *pl)
{
	if (config_topics_copy(&pl->stage.topics, &pl->cfg->topics) < 0 ||
	    pipeline_events_new(pl) < 0 || pipeline_http_start(pl) < 0 ||
	    pipeline_kafka_new(pl) < 0)
		return -1;
	pl->prod_queue = rd_kafka_queue_get_main(pl->prod->rk);
	if (pipeline_wakeup(pl, pl->cons->queue, pl->cons_pipe,
			    pipeline_consumer_cb, &pl->ev_cons) < 0 ||
	    pipeline_wakeup(pl, pl->prod_queue, pl->prod_pipe,
			    pipeline_producer_cb, &pl->ev_prod) < 0)
		return -1;
	if (txn_begin(pl) != TXN_OK)
		return -1;
	if (sd_watchdog_enabled(0, &pl->watchdog_usec) <= 0)
		pl->watchdog_usec = 0;
	pl->last_stats_ms = pl->last_expire_ms = pipeline_now_ms();
	pipeline_timer_arm(pl);
	return 0;
}

/* Finish the open transaction: commit on a graceful stop, else abort. */
static void pipeline_txn_finish(struct pipeline *pl)
{
	if (!pl->txn_open || pl->status != 0)
		return;
	if (txn_commit_sync(pl) == 0)
		log_info("pipeline: final transaction committed");
}

static void pipeline_event_free(struct event *ev)
{
	if (ev)
		event_free(ev);
}

static void pipeline_close_fds(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void pipeline_kafka_free(struct pipeline *pl)
{
	/* Stop the wake-ups before the pipes close. */
	if (pl->cons && pl->cons->queue)
		rd_kafka_queue_io_event_enable(pl->cons->queue, -1, NULL, 0);
	consumer_free(pl->cons, CLOSE_TIMEOUT_MS);
	pl->cons = NULL;
	if (pl->prod_queue) {
		rd_kafka_queue_io_event_enable(pl->prod_queue, -1, NULL, 0);
		rd_kafka_queue_destroy(pl->prod_queue);
	}
	if (pl->prod && pl->status == 0)
		rd_kafka_flush(pl->prod->rk, FLUSH_TIMEOUT_MS);
	else if (pl->prod)
		rd_kafka_purge(pl->prod->rk, RD_KAFKA_PURGE_F_QUEUE |
						     RD_KAFKA_PURGE_F_INFLIGHT);
	producer_free(pl->prod);
	pl->prod = NULL;
}

static void pipeline_free(struct pipeline *pl)
{
	pipeline_kafka_free(pl);
	pipeline_event_free(pl->ev_cons);
	pipeline_event_free(pl->ev_prod);
	pipeline_event_free(pl->ev_sig);
	pipeline_event_free(pl->ev_timer);
	pipeline_event_free(pl->ev_retry);
	pipeline_event_free(pl->ev_more);
	pipeline_event_free(pl->ev_prod_more);
	pipeline_close_fds(pl->cons_pipe);
	pipeline_close_fds(pl->prod_pipe);
	if (pl->sig_fd >= 0)
		close(pl->sig_fd);
	http_free(pl->http);
	if (pl->base)
		event_base_free(pl->base);
	state_free(pl->st);
	config_topics_free(&pl->stage.topics);
	config_free(pl->pending_cfg);
	config_free(pl->cfg);
	metrics_free(&pl->metrics);
}

int pipeline_run(struct config *cfg, const char *config_path)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	int status;

	if (pl == NULL) {
		config_free(cfg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	pl->cfg = cfg;
	pl->stage.cfg = cfg;
	metrics_init(&pl->metrics, LEADROUTER_VERSION);
	pl->stage.metrics = &pl->metrics;
	pipeline_metrics_teams(pl);
	pl->config_path = config_path;
	pl->cons_pipe[0] = pl->cons_pipe[1] = -1;
	pl->prod_pipe[0] = pl->prod_pipe[1] = -1;
	pl->sig_fd = -1;
	if (pipeline_signals_open(pl) < 0 || pipeline_start(pl) < 0) {
		/* A stop during start-up is no failure: it was asked for. */
		if (pl->stop_sig == 0) {
			log_errx("pipeline: cannot start");
			pl->status = 1;
		}
	} else if (!pl->stopping) {
		event_base_dispatch(pl->base);
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	pipeline_txn_finish(pl);
	pipeline_stats_log(pl);
	pipeline_free(pl);
	status = pl->status;
	log_info("pipeline: stopped (exit status %d)", status);
	free(pl);
	return status;
}
