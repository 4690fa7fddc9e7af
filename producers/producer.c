/*
 * producer.c - the transactional producer.
 *
 * One producer per process, idempotent and transactional. Records are
 * produced as input arrives; a delivery failure (reported on the producer's
 * main queue, which the pipeline polls) flags the transaction so the next
 * commit aborts it instead: a transaction with a lost output must not
 * commit its input offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "../daemon/kafka.h"
#include "../daemon/log.h"
#include "producer.h"

#define PRODUCER_HDRS_MAX 8

static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg,
			   void *opaque)
{
	struct producer *p = msg->_private;

	(void)rk;
	(void)opaque;
	if (p == NULL || msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	p->dr_errs++;
	p->failed = true;
	/* Once a transaction fails librdkafka purges its queued records:
	 * those reports are consequences. Log the first real cause. */
	if (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
	    msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT || p->dr_logged)
		return;
	p->dr_logged = true;
	log_warnx("%s: delivery to %s [%d] failed: %s; the transaction will "
		  "abort",
		  __func__, rd_kafka_topic_name(msg->rkt), (int)msg->partition,
		  rd_kafka_err2str(msg->err));
}

struct producer *producer_new(const struct config *cfg,
			      const rd_kafka_conf_t *base, char *errstr,
			      size_t errsize)
{
	/*
	 * retry.backoff.ms: right after a commit the broker answers the next
	 * transaction's AddPartitionsToTxn with CONCURRENT_TRANSACTIONS
	 * until its markers are written, and librdkafka waits this long
	 * before asking again; its 100 ms default about triples a commit.
	 * Producer only: the consumer keeps librdkafka's default.
	 */
	static const char *const defaults[] = {
		"linger.ms",        "5",  "partitioner", "murmur2_random",
		"retry.backoff.ms", "20", NULL};
	struct producer *p = calloc(1, sizeof(*p));
	rd_kafka_conf_t *conf;

	if (p == NULL) {
		snprintf(errstr, errsize, "out of memory");
		return NULL;
	}
	snprintf(p->txid, sizeof(p->txid), "%s%s",
		 cfg->process.transactional_id_prefix
			 ? cfg->process.transactional_id_prefix
			 : "",
		 cfg->process.instance_id ? cfg->process.instance_id : "");
	{
		const char *const forced[] = {"transactional.id", p->txid,
					      "enable.idempotence", "true",
					      NULL};

		conf = kafka_conf_make(base, cfg, defaults, forced, "producer",
				       errstr, errsize);
	}
	if (conf == NULL)
		goto err;
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errsize);
	if (p->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		goto err;
	}
	/* rd_kafka_new took ownership of conf. */
	return p;
err:
	free(p);
	return NULL;
}

bool producer_fenced(struct producer *p)
{
	char reason[256];
	rd_kafka_resp_err_t err;

	if (p == NULL || p->rk == NULL)
		return false;
	err = rd_kafka_fatal_error(p->rk, reason, sizeof(reason));
	return err == RD_KAFKA_RESP_ERR__FENCED ||
	       err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
	       err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

void producer_free(struct producer *p)
{
	if (p == NULL)
		return;
	if (p->rk)
		rd_kafka_destroy(p->rk);
	free(p);
}

static int producer_send_failed(struct producer *p, const char *topic,
				rd_kafka_resp_err_t err)
{
	if (!p->failed)
		log_warnx("%s: cannot produce to %s: %s; the transaction will "
			  "abort",
			  __func__, topic, rd_kafka_err2str(err));
	p->failed = true;
	return -1;
}

int producer_send(struct producer *p, const char *topic, int32_t partition,
		  const void *key, size_t klen, void *value, size_t vlen,
		  bool own_value, const struct producer_hdr *hdrs, size_t nhdrs)
{
	rd_kafka_headers_t *h = NULL;
	rd_kafka_resp_err_t err;
	int flags = own_value ? RD_KAFKA_MSG_F_FREE : RD_KAFKA_MSG_F_COPY;

	if (nhdrs > 0) {
		h = rd_kafka_headers_new(nhdrs);
		for (size_t i = 0; i < nhdrs; i++)
			rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value,
					    (ssize_t)hdrs[i].len);
	}
	/* Queue full: serve delivery reports briefly and retry, bounded. */
	for (int tries = 0;; tries++) {
		err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
					RD_KAFKA_V_PARTITION(partition),
					RD_KAFKA_V_KEY(key, klen),
					RD_KAFKA_V_VALUE(value, vlen),
					RD_KAFKA_V_MSGFLAGS(flags),
					RD_KAFKA_V_OPAQUE(p),
					RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries >= 50)
			break;
		rd_kafka_poll(p->rk, 20);
	}
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		p->sent++;
		return 0;
	}
	/* Not enqueued: we still own the headers and the value. */
	if (h)
		rd_kafka_headers_destroy(h);
	if (own_value)
		free(value);
	return producer_send_failed(p, topic, err);
}

/* Sort an error the three ways; consumes it. */
static enum txn_result producer_txn_result(rd_kafka_error_t *error,
					   const char *what)
{
	enum txn_result r;

	if (error == NULL)
		return TXN_OK;
	if (rd_kafka_error_is_retriable(error))
		r = TXN_RETRY;
	else if (rd_kafka_error_txn_requires_abort(error))
		r = TXN_ABORT;
	else
		r = TXN_FATAL; /* fatal, or no flag at all */
	if (r == TXN_FATAL)
		log_warnx("%s: %s failed (fatal): %s", __func__, what,
			  rd_kafka_error_string(error));
	else
		log_info("%s: %s failed (%s): %s", __func__, what,
			 r == TXN_RETRY ? "retriable" : "abortable",
			 rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
	return r;
}

static int64_t producer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum txn_result producer_txn_init(struct producer *p, int timeout_ms,
				  const struct kafka_stop *stop)
{
	int64_t deadline = producer_now_ms() + timeout_ms;
	rd_kafka_error_t *error;

	for (;;) {
		int64_t t0 = producer_now_ms();
		int64_t left = deadline - t0;
		int slice = left < KAFKA_WAIT_SLICE_MS ? (int)left
						       : KAFKA_WAIT_SLICE_MS;

		if (kafka_stop_asked(stop))
			return TXN_RETRY;
		error = rd_kafka_init_transactions(p->rk,
						   slice > 0 ? slice : 1);
		/* A retriable error within the time left: resume quietly. */
		if (error == NULL || !rd_kafka_error_is_retriable(error) ||
		    producer_now_ms() >= deadline)
			break;
		rd_kafka_error_destroy(error);
		/* An error that came back at once: no busy loop. */
		if (producer_now_ms() - t0 < KAFKA_WAIT_SLICE_MS / 2)
			usleep(KAFKA_WAIT_SLICE_MS * 1000 / 2);
	}
	return producer_txn_result(error, "init_transactions");
}

enum txn_result producer_txn_begin(struct producer *p)
{
	enum txn_result r = producer_txn_result(
		rd_kafka_begin_transaction(p->rk), "begin_transaction");

	if (r == TXN_OK)
		p->failed = p->dr_logged = false;
	return r;
}

/* The consumer's next offsets for every assigned partition. */
static rd_kafka_topic_partition_list_t *producer_positions(rd_kafka_t *c)
{
	rd_kafka_topic_partition_list_t *parts = NULL;

	if (rd_kafka_assignment(c, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (parts->cnt == 0 ||
	    rd_kafka_position(c, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_topic_partition_list_destroy(parts);
		return NULL;
	}
	return parts;
}

static bool producer_positions_any(const rd_kafka_topic_partition_list_t *l)
{
	for (int i = 0; i < l->cnt; i++)
		if (l->elems[i].offset >= 0)
			return true;
	return false;
}

enum txn_result producer_txn_send_offsets(struct producer *p,
					  rd_kafka_t *consumer, int timeout_ms)
{
	rd_kafka_topic_partition_list_t *parts = producer_positions(consumer);
	rd_kafka_consumer_group_metadata_t *md;
	rd_kafka_error_t *error;

	if (parts == NULL)
		return TXN_OK;
	if (!producer_positions_any(parts)) {
		rd_kafka_topic_partition_list_destroy(parts);
		return TXN_OK;
	}
	md = rd_kafka_consumer_group_metadata(consumer);
	error = rd_kafka_send_offsets_to_transaction(p->rk, parts, md,
						     timeout_ms);
	rd_kafka_consumer_group_metadata_destroy(md);
	rd_kafka_topic_partition_list_destroy(parts);
	return producer_txn_result(error, "send_offsets_to_transaction");
}

enum txn_result producer_txn_commit(struct producer *p, int timeout_ms)
{
	if (p->failed)
		return TXN_ABORT;
	return producer_txn_result(
		rd_kafka_commit_transaction(p->rk, timeout_ms),
		"commit_transaction");
}

/*
 * A commit that timed out goes on in the background, and librdkafka
 * refuses every other transactional call (__CONFLICT, retriable) until a
 * call to commit_transaction has seen it end; retrying the abort alone
 * would never get past it. So the commit is resumed: it ends committed,
 * and the transaction is over (*committed: the caller carries on as after
 * any commit), or failed, and the abort follows.
 */
static rd_kafka_error_t *producer_commit_resume(struct producer *p,
						rd_kafka_error_t *error,
						int timeout_ms, bool *committed)
{
	*committed = false;
	if (error == NULL ||
	    rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__CONFLICT)
		return error;
	log_info("%s: %s; resuming that commit first", __func__,
		 rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
	error = rd_kafka_commit_transaction(p->rk, timeout_ms);
	if (error == NULL) {
		log_info("%s: the commit in progress completed", __func__);
		*committed = true;
		return NULL;
	}
	if (!rd_kafka_error_txn_requires_abort(error))
		return error;
	rd_kafka_error_destroy(error);
	return rd_kafka_abort_transaction(p->rk, timeout_ms);
}

enum txn_result producer_txn_abort(struct producer *p, int timeout_ms)
{
	rd_kafka_error_t *error = rd_kafka_abort_transaction(p->rk, timeout_ms);
	bool committed;

	error = producer_commit_resume(p, error, timeout_ms, &committed);
	if (committed)
		return TXN_COMMITTED;
	return producer_txn_result(error, "abort_transaction");
}
