/*
 * txn.c - exactly-once: transactions, rebalances and state restore.
 *
 * A transaction spans a batch of consumed records. At commit, every lead
 * and team changed in the batch is written once to its changelog partition
 * (the input partition's number, not a hash), then the consumer positions
 * are added and the transaction commits. Errors are sorted three ways:
 * retriable calls are retried from a loop timer with backoff (bounded, then
 * escalated), abortable ones abort and roll back, fatal ones stop the
 * process. Rolling back is Kafka Streams' answer: drop the in-memory state
 * of every assigned partition, replay it from the changelogs (committed
 * records only) and rewind the consumer to the committed offsets.
 */
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "../engine/lead.h"
#include "../engine/route.h"
#include "log.h"
#include "pipeline_internal.h"
#include "state.h"

#define EXPIRE_MAX_PER_PASS 1000
#define SYNC_RETRIES        5
#define REPLAY_PAUSE_MAX_MS 30000
#define REPLAY_QUIET_MS     (2 * REPLAY_PAUSE_MAX_MS)

static void txn_handle(struct pipeline *pl, enum txn_op op, enum txn_result r);

enum txn_result txn_begin(struct pipeline *pl)
{
	enum txn_result r;

	if (pl->stopping)
		return TXN_OK;
	r = producer_txn_begin(pl->prod);
	if (r != TXN_OK)
		return TXN_FATAL; /* begin only fails on a broken state */
	pl->txn_open = true;
	pl->flushed = false;
	pl->offsets_sent = false;
	pl->txn_records = 0;
	pl->stage.urgent = false;
	pl->txn_sent0 = pl->prod->sent;
	return TXN_OK;
}

bool txn_has_work(const struct pipeline *pl)
{
	if (pl->txn_records > 0 || pl->prod->sent != pl->txn_sent0)
		return true;
	for (int p = 0; p < state_leads_count(pl->st); p++)
		if (state_leads_dirty_count(pl->st, p) > 0)
			return true;
	for (int q = 0; q < state_teams_count(pl->st); q++)
		if (state_teams_dirty_count(pl->st, q) > 0)
			return true;
	return false;
}

static int txn_flush_lead_cb(int p, struct strv key, const struct lead *l,
			     void *arg)
{
	struct pipeline *pl = arg;
	char *buf = NULL;
	size_t len = 0;

	if (l != NULL && lead_encode(&pl->cfg->engine, l, &buf, &len) < 0) {
		log_warnx("txn: cannot encode a lead of partition %d", p);
		pl->prod->failed = true; /* state would be lost: abort */
		return -1;
	}
	producer_send(pl->prod, pl->stage.topics.leads_changelog, p, key.p,
		      key.len, buf, len, buf != NULL, NULL, 0);
	pl->prod->changelogs++;
	return 0;
}

static int txn_flush_team_cb(int q, const char *name,
			     const struct team_state *ts, void *arg)
{
	struct pipeline *pl = arg;
	char *buf = NULL;
	size_t len = 0;

	if (ts != NULL && team_state_encode(ts, &buf, &len) < 0) {
		log_warnx("txn: cannot encode a team of partition %d", q);
		pl->prod->failed = true;
		return -1;
	}
	producer_send(pl->prod, pl->stage.topics.teams_changelog, q, name,
		      strlen(name), buf, len, buf != NULL, NULL, 0);
	pl->prod->changelogs++;
	return 0;
}

static void txn_flush(struct pipeline *pl)
{
	for (int p = 0; p < state_leads_count(pl->st); p++)
		if (state_leads_dirty_count(pl->st, p) > 0)
			state_leads_flush(pl->st, p, txn_flush_lead_cb, pl);
	for (int q = 0; q < state_teams_count(pl->st); q++)
		if (state_teams_dirty_count(pl->st, q) > 0)
			state_teams_flush(pl->st, q, txn_flush_team_cb, pl);
}

/* The open transaction is committed: count it and begin the next. */
static enum txn_result txn_committed(struct pipeline *pl)
{
	pl->txn_open = false;
	pl->metrics.txns[METRICS_TXN_COMMITTED]++;
	kafka_brokers_up();
	/* Before the next transaction begins: its records must not be in
	 * the changelogs the reload restores from. */
	if (pipeline_reload_apply(pl) < 0)
		return TXN_FATAL;
	return txn_begin(pl);
}

static enum txn_result txn_commit_try(struct pipeline *pl)
{
	enum txn_result r;
	uint64_t records = pl->txn_records;
	int64_t t0;

	if (pl->status != 0)
		return TXN_FATAL;
	if (!pl->txn_open)
		return txn_begin(pl);
	if (!pl->offsets_sent && !txn_has_work(pl)) /* nothing in flight */
		return pipeline_reload_apply(pl) < 0 ? TXN_FATAL : TXN_OK;
	t0 = metrics_now_us();
	if (!pl->offsets_sent) {
		/* The interval runs from the start of a commit (see
		 * pipeline_commit_due). */
		pl->last_commit_ms = pipeline_now_ms();
		/* Offsets before the changelogs: the broker answers one
		 * request per connection at a time, and TxnOffsetCommit
		 * shares the connection with the changelogs' produce
		 * requests; behind them it waited tens of milliseconds.
		 * Nothing is consumed during a commit, so the positions
		 * are final. */
		r = producer_txn_send_offsets(pl->prod, pl->cons->rk,
					      TXN_TIMEOUT_MS);
		if (r != TXN_OK)
			return r;
		pl->offsets_sent = true;
	}
	if (!pl->flushed) {
		txn_flush(pl);
		pl->flushed = true;
	}
	if (pl->prod->failed)
		return TXN_ABORT;
	r = producer_txn_commit(pl->prod, TXN_TIMEOUT_MS);
	if (r != TXN_OK)
		return r;
	metrics_commit_observe(&pl->metrics,
			       (double)(metrics_now_us() - t0) / 1e6);
	log_debug("txn: committed %llu record(s), %llu produced",
		  (unsigned long long)records,
		  (unsigned long long)(pl->prod->sent - pl->txn_sent0));
	return txn_committed(pl);
}

static void txn_restore_lead_fn(int32_t p, const rd_kafka_message_t *m,
				void *arg)
{
	struct pipeline *pl = arg;
	struct lead_table *t = state_leads_table(pl->st, p);
	struct strv key = {m->key, m->key_len};
	const struct lead *l;

	if (t == NULL || m->key == NULL)
		return;
	if (m->payload == NULL) {
		lead_table_remove(t, key);
		return;
	}
	if (lead_decode(&pl->cfg->engine, t, key, m->payload, m->len) < 0) {
		log_warnx("txn: undecodable lead record in %s [%d] at %lld",
			  pl->stage.topics.leads_changelog, (int)p,
			  (long long)m->offset);
		return;
	}
	if ((l = lead_table_find(t, key)) == NULL)
		return;
	if (pl->restore_clock_cap_ms > 0 &&
	    lead_last_seen(l) > pl->restore_clock_cap_ms)
		pl->restore_capped++;
	state_leads_advance_capped(pl->st, p, lead_last_seen(l),
				   pl->restore_clock_cap_ms);
}

/* A lead written before event times were bounded may be dated years
 * ahead: the clock of its part stops at what stage_event would accept
 * now, so the other leads do not all look idle to txn_expire. */
static void txn_restore_clock_cap(struct pipeline *pl)
{
	int64_t max = pl->cfg->process.event_max_ahead_ms;
	struct timespec now;

	pl->restore_capped = 0;
	pl->restore_clock_cap_ms = 0;
	if (max <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	pl->restore_clock_cap_ms =
		(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + max;
}

static void txn_restore_team_fn(int32_t q, const rd_kafka_message_t *m,
				void *arg)
{
	struct pipeline *pl = arg;
	const struct team *team;
	struct team_state *ts;
	char name[256];

	if (m->key == NULL || m->key_len >= sizeof(name))
		return;
	memcpy(name, m->key, m->key_len);
	name[m->key_len] = '\0';
	if (m->payload == NULL) {
		state_team_remove(pl->st, q, name);
		return;
	}
	team = config_team_find(&pl->cfg->engine, name);
	if (team == NULL)
		return; /* a team no longer configured */
	ts = team_state_new(team);
	if (ts == NULL || team_state_decode(ts, m->payload, m->len) < 0) {
		log_warnx("txn: undecodable team record in %s [%d] at %lld",
			  pl->stage.topics.teams_changelog, (int)q,
			  (long long)m->offset);
		team_state_free(ts);
		return;
	}
	state_team_put(pl->st, q, name, ts);
}

/* A restore holds the loop for as long as its state takes to read back:
 * the watchdog is fed from here, systemd's start timeout is extended
 * until the first restore has made the daemon ready, and a long restore
 * says how far it has got every ten seconds or so. Until then a SIGTERM
 * or SIGINT gives the restore up: nothing was consumed yet, so there is
 * nothing to finish, and the next start restores anew. Later restores
 * (rebalance, rollback, reload) run to their end, and the loop reads the
 * signal after them, as before. */
static bool txn_restore_progress_cb(long records, void *arg)
{
	struct pipeline *pl = arg;
	int64_t now = pipeline_now_ms();

	pipeline_alive(pl, now);
	if (!pl->ready) {
		if (pipeline_signals_read(pl))
			return false;
		sd_notify(0, "EXTEND_TIMEOUT_USEC=" TXN_RESTORE_EXTEND_USEC
			     "\nSTATUS=restoring state from the changelogs");
	}
	if (now - pl->restore_logged_ms >= 10000) {
		if (pl->restore_logged_ms != 0)
			log_info("txn: restoring: %ld record(s) so far",
				 records);
		pl->restore_logged_ms = now;
	}
	return true;
}

static int txn_restore(struct pipeline *pl, bool leads, const int32_t *parts,
		       int n)
{
	const char *topic = leads ? pl->stage.topics.leads_changelog
				  : pl->stage.topics.teams_changelog;
	int64_t t0 = pipeline_now_ms();
	long records;

	if (n == 0)
		return 0;
	pl->restore_logged_ms = 0;
	if (leads)
		txn_restore_clock_cap(pl);
	records = consumer_restore(
		pl->cons, topic, parts, n,
		leads ? txn_restore_lead_fn : txn_restore_team_fn,
		txn_restore_progress_cb, pl, RESTORE_TIMEOUT_MS);
	if (records == CONSUMER_RESTORE_STOPPED)
		pl->restore_stopped = true;
	if (records < 0)
		return -1;
	pl->metrics.restore_records += (uint64_t)records;
	log_info("txn: restored %d partition(s) from %s: %ld record(s) in "
		 "%lld ms; now %zu lead(s), %zu team(s)",
		 n, topic, records, (long long)(pipeline_now_ms() - t0),
		 state_leads_total(pl->st), state_teams_total(pl->st));
	if (leads && pl->restore_capped > 0)
		log_warnx("txn: %ld restored lead record(s) dated more than "
			  "process.event_time_max_ahead_days ahead: kept, but "
			  "their partition's expiry clock stops at that bound",
			  pl->restore_capped);
	return 0;
}

int txn_state_rebuild(struct pipeline *pl)
{
	int nl = state_leads_count(pl->st), nt = state_teams_count(pl->st);
	int32_t *lp = calloc((size_t)nl + 1, sizeof(*lp));
	int32_t *tp = calloc((size_t)nt + 1, sizeof(*tp));
	int n1 = 0, n2 = 0, rc = -1;

	if (lp == NULL || tp == NULL)
		goto done;
	for (int p = 0; p < nl; p++)
		if (state_leads_open(pl->st, p)) {
			state_leads_reset(pl->st, p);
			lp[n1++] = p;
		}
	for (int q = 0; q < nt; q++)
		if (state_teams_is_open(pl->st, q)) {
			state_teams_reset(pl->st, q);
			tp[n2++] = q;
		}
	if (txn_restore(pl, true, lp, n1) < 0 ||
	    txn_restore(pl, false, tp, n2) < 0)
		goto done;
	rc = 0;
done:
	free(lp);
	free(tp);
	return rc;
}

static int txn_rollback(struct pipeline *pl)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	int rc = -1;

	if (txn_state_rebuild(pl) < 0)
		return -1;
	if (rd_kafka_assignment(pl->cons->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
		goto done;
	rc = consumer_rewind(pl->cons, a, TXN_TIMEOUT_MS);
done:
	if (a)
		rd_kafka_topic_partition_list_destroy(a);
	return rc;
}

/* A record the broker keeps refusing (too large for its topic, say) makes
 * every replay abort again once it reaches that record, and each abort
 * restores every partition from its changelog. The first abort replays at
 * once (most causes are transient); each further abort within
 * REPLAY_QUIET_MS of the previous one waits longer before the replay,
 * doubling from 200 ms to REPLAY_PAUSE_MAX_MS, so a poison record costs a
 * restore now and then instead of a hot loop. Commits between the aborts
 * (other partitions' records) do not reset the count: only quiet does. */
static void txn_replay_pause(struct pipeline *pl)
{
	int64_t now = pipeline_now_ms(), ms;

	if (now - pl->last_abort_ms > REPLAY_QUIET_MS)
		pl->aborts_in_row = 0;
	pl->last_abort_ms = now;
	if (++pl->aborts_in_row < 2)
		return;
	ms = 100LL << (pl->aborts_in_row < 10 ? pl->aborts_in_row - 1 : 9);
	if (ms > REPLAY_PAUSE_MAX_MS)
		ms = REPLAY_PAUSE_MAX_MS;
	pl->replay_paused = true;
	pl->replay_at_ms = now + ms;
	log_warnx("txn: %d aborts in a row; replaying in %lld ms",
		  pl->aborts_in_row, (long long)ms);
}

static enum txn_result txn_abort_try(struct pipeline *pl)
{
	enum txn_result r;

	if (pl->status != 0)
		return TXN_FATAL;
	if (pl->txn_open) {
		r = producer_txn_abort(pl->prod, TXN_TIMEOUT_MS);
		if (r == TXN_COMMITTED) {
			/* the commit that timed out went through after all:
			 * the state in memory is what was committed */
			log_warnx("txn: the commit that timed out completed; "
				  "nothing to abort or roll back");
			return txn_committed(pl);
		}
		if (r == TXN_ABORT)
			r = TXN_RETRY;
		if (r != TXN_OK)
			return r;
	}
	pl->txn_open = false;
	pl->metrics.txns[METRICS_TXN_ABORTED]++;
	if (pl->in_rebalance) {
		/* The revoke hook drops the state and unassigns anyway. */
		log_warnx("txn: transaction aborted while partitions are "
			  "revoked");
		return txn_begin(pl);
	}
	log_warnx("txn: transaction aborted; restoring state from the "
		  "changelogs and rewinding to the committed offsets");
	/* A pending reload is swapped in first, so that the rollback's
	 * restore is also the rebuild under the new config (one restore,
	 * not two; see pipeline_reload_apply). */
	pipeline_reload_swap(pl);
	if (txn_rollback(pl) < 0) {
		log_warnx("txn: rollback failed");
		return TXN_FATAL;
	}
	txn_replay_pause(pl);
	return txn_begin(pl);
}

static void txn_retry_schedule(struct pipeline *pl, enum txn_op op)
{
	struct timeval tv;
	int64_t ms;

	if (op == TXN_OP_COMMIT && pl->retries >= COMMIT_RETRIES) {
		log_warnx("txn: commit still failing after %d retries; "
			  "aborting",
			  pl->retries);
		pl->retries = 0;
		txn_handle(pl, TXN_OP_ABORT, txn_abort_try(pl));
		return;
	}
	if (op == TXN_OP_ABORT && pl->retries >= ABORT_RETRIES) {
		pipeline_fatal(pl, "abort still failing; giving up");
		return;
	}
	pl->retries++;
	pl->retry_op = op;
	ms = 100LL << (pl->retries < 6 ? pl->retries : 6);
	if (ms > 5000)
		ms = 5000;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(pl->ev_retry, &tv);
}

static void txn_handle(struct pipeline *pl, enum txn_op op, enum txn_result r)
{
	switch (r) {
	case TXN_OK:
	case TXN_COMMITTED: /* txn_abort_try turns it into txn_committed's */
		pl->retry_op = TXN_OP_NONE;
		pl->retries = 0;
		break;
	case TXN_RETRY:
		txn_retry_schedule(pl, op);
		break;
	case TXN_ABORT:
		pl->retry_op = TXN_OP_NONE;
		pl->retries = 0;
		txn_handle(pl, TXN_OP_ABORT, txn_abort_try(pl));
		break;
	case TXN_FATAL:
		pipeline_fatal(pl, "transactional producer failed");
		break;
	}
}

void txn_step(struct pipeline *pl)
{
	enum txn_op op =
		pl->retry_op != TXN_OP_NONE ? pl->retry_op : TXN_OP_COMMIT;

	txn_handle(pl, op,
		   op == TXN_OP_ABORT ? txn_abort_try(pl) : txn_commit_try(pl));
}

void txn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline *pl = arg;

	(void)fd;
	(void)what;
	txn_step(pl);
	/* Consumption paused while the retry was pending and the wake-up
	 * pipe fires only on empty -> non-empty: resume now rather than at
	 * the next timer tick. */
	if (pl->retry_op == TXN_OP_NONE && !pl->stopping && pl->ev_cons)
		event_active(pl->ev_cons, EV_READ, 0);
}

int txn_abort_sync(struct pipeline *pl)
{
	enum txn_result r = TXN_RETRY;

	evtimer_del(pl->ev_retry);
	pl->retry_op = TXN_OP_NONE;
	for (int i = 0; i < SYNC_RETRIES && r == TXN_RETRY; i++) {
		if (i > 0)
			usleep(200000 * (useconds_t)i);
		r = txn_abort_try(pl);
	}
	if (r != TXN_OK) {
		pipeline_fatal(pl, "cannot abort the transaction");
		return -1;
	}
	return 0;
}

int txn_commit_sync(struct pipeline *pl)
{
	enum txn_result r = TXN_RETRY;

	evtimer_del(pl->ev_retry);
	if (pl->retry_op == TXN_OP_ABORT) {
		txn_abort_sync(pl);
		return -1;
	}
	pl->retry_op = TXN_OP_NONE;
	for (int i = 0; i < SYNC_RETRIES && r == TXN_RETRY; i++) {
		if (i > 0)
			usleep(200000 * (useconds_t)i);
		r = txn_commit_try(pl);
	}
	if (r == TXN_OK)
		return 0;
	if (r == TXN_FATAL)
		pipeline_fatal(pl, "cannot commit the transaction");
	else
		txn_abort_sync(pl);
	return -1;
}

/* Which state a partition of the subscription belongs to. */
static int txn_part_kind(const struct pipeline *pl, const char *topic)
{
	if (strcmp(topic, pl->stage.topics.events) == 0)
		return STATE_REF_EVENTS;
	if (strcmp(topic, pl->stage.topics.feedback) == 0)
		return STATE_REF_FEEDBACK;
	return 0; /* assign */
}

int txn_assign_hook(const rd_kafka_topic_partition_list_t *parts, void *arg)
{
	struct pipeline *pl = arg;
	int32_t *lp = calloc((size_t)parts->cnt + 1, sizeof(*lp));
	int32_t *tp = calloc((size_t)parts->cnt + 1, sizeof(*tp));
	int nl = 0, nt = 0, rc = -1;

	if (lp == NULL || tp == NULL)
		goto done;
	for (int i = 0; i < parts->cnt; i++) {
		int kind = txn_part_kind(pl, parts->elems[i].topic);
		int32_t p = parts->elems[i].partition;

		if (p >= (kind ? state_leads_count(pl->st)
			       : state_teams_count(pl->st))) {
			log_warnx("txn: %s [%d] is beyond the partition count "
				  "seen at start; restart needed",
				  parts->elems[i].topic, (int)p);
			goto done;
		}
		if (kind && state_leads_ref(pl->st, p, (unsigned)kind))
			lp[nl++] = p;
		else if (!kind && !state_teams_is_open(pl->st, p)) {
			state_teams_open(pl->st, p);
			tp[nt++] = p;
		}
	}
	if (txn_restore(pl, true, lp, nl) < 0 ||
	    txn_restore(pl, false, tp, nt) < 0)
		goto done;
	rc = 0;
	if (!pl->ready && !pl->stopping) {
		pl->ready = true;
		sd_notify(0, "READY=1\nSTATUS=running");
		log_info("pipeline: ready");
	}
done:
	free(lp);
	free(tp);
	return rc;
}

static void txn_release(struct pipeline *pl,
			const rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++) {
		int kind = txn_part_kind(pl, parts->elems[i].topic);
		int32_t p = parts->elems[i].partition;

		if (kind && p < state_leads_count(pl->st))
			state_leads_unref(pl->st, p, (unsigned)kind);
		else if (!kind && p < state_teams_count(pl->st))
			state_teams_close(pl->st, p);
	}
}

/*
 * Eager revoke: the whole assignment goes. Revoked partitions are still
 * ours: commit their work (a failed commit aborts). Lost ones belong to
 * another member already, which must not see our outputs: abort. Either
 * way no rollback, since the state is dropped here and restored by
 * whoever gets the partitions.
 */
void txn_revoke_hook(const rd_kafka_topic_partition_list_t *parts, bool lost,
		     void *arg)
{
	struct pipeline *pl = arg;

	pl->in_rebalance = true;
	if (pl->txn_open && pl->status == 0) {
		if (!lost)
			txn_commit_sync(pl);
		else
			txn_abort_sync(pl);
	}
	pl->in_rebalance = false;
	txn_release(pl, parts);
}

void txn_expire(struct pipeline *pl)
{
	size_t n = 0;

	if (pl->cfg->process.lead_idle_ttl_ms <= 0 || !pl->txn_open ||
	    pl->retry_op != TXN_OP_NONE)
		return;
	for (int p = 0; p < state_leads_count(pl->st); p++)
		if (state_leads_open(pl->st, p))
			n += state_leads_expire(
				pl->st, p, &pl->cfg->engine,
				pl->cfg->process.lead_idle_ttl_ms,
				pl->cfg->process.lead_min_score,
				EXPIRE_MAX_PER_PASS);
	pl->metrics.expired += n;
	if (n > 0)
		log_debug("txn: expired %zu idle lead(s)", n);
}
