/*
 * pipeline_internal.h - the pipeline's shared state, for pipeline.c (loop,
 * signals, start and stop) and txn.c (transactions, rebalances, restore).
 */
#ifndef LR_PIPELINE_INTERNAL_H
#define LR_PIPELINE_INTERNAL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../consumers/consumer.h"
#include "../producers/producer.h"
#include "kafka.h"
#include "metrics.h"
#include "stage.h"

#define TXN_TIMEOUT_MS 10000 /* bound on each blocking txn call */
/* A restore fails after this long without progress (no record, no
 * partition reaching its end), however long it has run. */
#define RESTORE_TIMEOUT_MS 120000
/* Each progress report of a restore before the daemon is ready extends
 * systemd's start timeout by this much (reports come every second). */
#define TXN_RESTORE_EXTEND_USEC "5000000"
#define COMMIT_RETRIES          10 /* then abort */
#define ABORT_RETRIES           30 /* then give up: exit, systemd restarts */

enum txn_op { TXN_OP_NONE, TXN_OP_COMMIT, TXN_OP_ABORT };

struct pipeline {
	struct config *cfg;
	struct config *pending_cfg; /* SIGHUP: applied between transactions */
	const char *config_path;
	struct kafka_layout layout;
	struct state *st;
	struct producer *prod;
	struct consumer *cons;
	struct stage stage;

	struct event_base *base;
	struct event *ev_sig, *ev_timer, *ev_retry;
	struct event *ev_cons, *ev_prod;
	struct event *ev_more;      /* zero timeout: consume more after I/O */
	struct event *ev_prod_more; /* the same for delivery reports */
	int cons_pipe[2], prod_pipe[2];
	int sig_fd; /* signalfd of SIGTERM, SIGINT and SIGHUP (blocked) */
	rd_kafka_queue_t *prod_queue;

	/* Transaction. */
	bool txn_open;
	bool flushed;      /* changelog written for this commit attempt */
	bool offsets_sent; /* offsets added for this commit attempt */
	uint64_t txn_records;
	uint64_t txn_sent0; /* producer->sent at begin */
	enum txn_op retry_op;
	int retries;
	int64_t last_commit_ms; /* when the last commit began */
	/* Aborts less than a minute apart; from the second on, consumption
	 * pauses until replay_at_ms (txn.c, txn_replay_pause). */
	int aborts_in_row;
	int64_t last_abort_ms;
	bool replay_paused;
	int64_t replay_at_ms;

	/* Life cycle. */
	bool ready, stopping, in_rebalance;
	int stop_sig; /* SIGTERM or SIGINT once one asked to stop, else 0 */
	bool restore_stopped; /* a restore was given up for that stop */
	int status;
	uint64_t watchdog_usec;
	int64_t last_watchdog_ms, last_expire_ms, last_stats_ms;
	int64_t restore_logged_ms; /* last progress line of a restore */
	/* Wall clock + process.event_time_max_ahead_days at the restore's
	 * start (0: no bound): no restored lead moves a part's clock past
	 * it. restore_capped counts the leads dated beyond it. */
	int64_t restore_clock_cap_ms;
	long restore_capped;

	/* Operations endpoint; metrics is the only store of counters. */
	struct metrics metrics;
	struct http *http;
	int64_t metrics_bytes_ms; /* last lead-bytes scan */
};

int64_t pipeline_now_ms(void);
void pipeline_fatal(struct pipeline *pl, const char *why);
/*
 * Act on the signals that have arrived, without blocking: SIGHUP reloads,
 * SIGTERM and SIGINT stop. The loop calls it when the signalfd is
 * readable; waits that hold the loop before the daemon is ready (the
 * first restore) call it between their slices. Returns true once a
 * signal asked to stop.
 */
bool pipeline_signals_read(struct pipeline *pl);
/* Tell systemd's watchdog the daemon lives, at half its interval; the
 * timer calls it, and so does anything that holds the loop for long. */
void pipeline_alive(struct pipeline *pl, int64_t now);
/*
 * Swap in a config loaded on SIGHUP and rebuild the state under it. Call
 * only between transactions, when the in-memory state equals what the
 * changelogs hold: right after a commit, or with nothing done since.
 * Returns -1 (after pipeline_fatal) when the rebuild fails.
 */
int pipeline_reload_apply(struct pipeline *pl);
/* The swap alone, for a caller about to drop and restore the state itself
 * (the rollback of an abort). Returns true when a config was swapped in. */
bool pipeline_reload_swap(struct pipeline *pl);

/* txn.c */
enum txn_result txn_begin(struct pipeline *pl);
/* One commit (or the pending retry) from the loop; schedules retries. */
void txn_step(struct pipeline *pl);
/* Commit now, retrying inline (rebalance, shutdown); aborts on failure.
 * Returns 0 when committed, -1 otherwise. */
int txn_commit_sync(struct pipeline *pl);
/* Abort now and roll back; returns 0 or -1 (fatal). */
int txn_abort_sync(struct pipeline *pl);
bool txn_has_work(const struct pipeline *pl);
/* Drop the in-memory state of every assigned partition and replay it from
 * the changelogs under pl->cfg. Returns 0 or -1. */
int txn_state_rebuild(struct pipeline *pl);
void txn_retry_cb(evutil_socket_t fd, short what, void *arg);
int txn_assign_hook(const rd_kafka_topic_partition_list_t *parts, void *arg);
void txn_revoke_hook(const rd_kafka_topic_partition_list_t *parts, bool lost,
		     void *arg);
void txn_expire(struct pipeline *pl);

/* metrics_pipeline.c: the HTTP endpoint when process.http_listen is set;
 * returns -1 when it cannot listen (a start-up error). */
int pipeline_http_start(struct pipeline *pl);

#endif
