/*
 * producer.h - the transactional producer: every record the daemon writes
 * (assign commands, handoffs, changelog records, DLQ records) goes through
 * here, inside the open transaction.
 *
 * Transaction calls return a txn_result sorted the three ways of
 * librdkafka's transactional API, so the pipeline decides what to do next
 * without looking at rd_kafka_error_t itself.
 */
#ifndef LR_PRODUCER_H
#define LR_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

enum txn_result {
	TXN_OK,
	TXN_RETRY, /* retriable: call the same function again later */
	TXN_ABORT, /* the transaction must be aborted */
	TXN_FATAL, /* the producer is unusable (fenced, ...): exit */
	/* producer_txn_abort only: it met a commit still in progress (one
	 * that timed out), resumed it, and it completed: the transaction is
	 * committed and nothing is left to abort */
	TXN_COMMITTED,
};

struct producer {
	rd_kafka_t *rk;
	bool failed;      /* a delivery failed: the transaction must abort */
	bool dr_logged;   /* its cause was logged (once per transaction) */
	uint64_t sent;    /* records produced (all topics) */
	uint64_t dr_errs; /* delivery failures */
	uint64_t handoffs, assigns, changelogs, dlqs;
	char txid[256]; /* transactional.id, for log lines */
};

/* A header for producer_send; value is not NUL-terminated. */
struct producer_hdr {
	const char *name;
	const void *value;
	size_t len;
};

/*
 * Create the producer from base (callbacks, opaque; not consumed) and the
 * user's properties: transactional.id = prefix + instance id, the murmur2
 * partitioner of Java clients, a short linger.
 */
struct producer *producer_new(const struct config *cfg,
			      const rd_kafka_conf_t *base, char *errstr,
			      size_t errsize);
void producer_free(struct producer *p);
/* True when the producer was fenced by a newer one with its
 * transactional.id (the fatal error is _FENCED or PRODUCER_FENCED). */
bool producer_fenced(struct producer *p);

/*
 * Produce one record. partition may be RD_KAFKA_PARTITION_UA (key hash).
 * With own_value the producer takes the malloc'd value (freed on every
 * path); otherwise the bytes are copied. value NULL is a tombstone.
 * Returns 0, or -1 after marking the transaction failed.
 */
int producer_send(struct producer *p, const char *topic, int32_t partition,
		  const void *key, size_t klen, void *value, size_t vlen,
		  bool own_value, const struct producer_hdr *hdrs,
		  size_t nhdrs);

/* Transactions. timeout_ms bounds each blocking call. */
struct kafka_stop;
/* init_transactions, which waits for the transaction coordinator, in
 * slices of KAFKA_WAIT_SLICE_MS that ask stop (may be NULL) between them:
 * it is resumable, so a slice that times out loses nothing. Returns
 * TXN_RETRY without logging when stop asked. */
enum txn_result producer_txn_init(struct producer *p, int timeout_ms,
				  const struct kafka_stop *stop);
enum txn_result producer_txn_begin(struct producer *p);
enum txn_result producer_txn_send_offsets(struct producer *p,
					  rd_kafka_t *consumer, int timeout_ms);
enum txn_result producer_txn_commit(struct producer *p, int timeout_ms);
enum txn_result producer_txn_abort(struct producer *p, int timeout_ms);

#endif
