/*
 * mock_txn_resume.c - an abort that meets a commit still in progress.
 *
 *   mock_txn_resume
 *
 * When commit_transaction times out, librdkafka carries the commit on in
 * the background and refuses abort_transaction with __CONFLICT (a
 * retriable error) until a call to commit_transaction has seen the commit
 * end. A daemon that answers a failing commit with aborts alone then
 * retries the abort until it gives up and exits; on a slow machine the
 * real-broker abort test did just that. The mock cluster delays the
 * EndTxn answer here, so the commit times out for certain; the test checks
 * that a plain abort is indeed refused, that the producer's abort
 * (producers/producer.c, compiled in) gets through by resuming the commit
 * and reports TXN_COMMITTED (so the daemon counts a commit and rolls
 * nothing back), and that the next transaction begins and commits. (The
 * mock writes no transaction markers, so whether the records are visible
 * to read_committed consumers is for the real-broker tests.)
 *
 * The producer code is included rather than linked so that this test
 * needs none of the daemon's other objects (mock_unit.h).
 */
#include "../../daemon/log.c"
#include "../../producers/producer.c"

#include <librdkafka/rdkafka_mock.h>

#include "mock_unit.h"

#define TOPIC       "resume"
#define ENDTXN_KEY  26   /* the EndTxn request */
#define ENDTXN_RTT  3000 /* ms: well past the commit's timeout */
#define COMMIT_WAIT 500  /* ms */

static rd_kafka_t *client_new(const char *bootstraps, const char *txid)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	if (bootstraps &&
	    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
			      sizeof(err)) != RD_KAFKA_CONF_OK)
		goto bad;
	if (txid && (rd_kafka_conf_set(conf, "transactional.id", txid, err,
				       sizeof(err)) != RD_KAFKA_CONF_OK ||
		     rd_kafka_conf_set(conf, "linger.ms", "0", err,
				       sizeof(err)) != RD_KAFKA_CONF_OK))
		goto bad;
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk)
		return rk;
bad:
	fprintf(stderr, "cannot make a client: %s\n", err);
	exit(1);
}

static void one_record(struct producer *p, const char *value)
{
	CHECK(producer_send(p, TOPIC, 0, "k", 1, (char *)value, strlen(value),
			    false, NULL, 0) == 0,
	      "record produced in the transaction");
	rd_kafka_flush(p->rk, 5000);
}

int main(void)
{
	rd_kafka_t *mrk = client_new(NULL, NULL);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
	struct producer p = {0};
	rd_kafka_error_t *error;
	enum txn_result r;

	log_init(LOG_INFO);
	rd_kafka_mock_topic_create(mc, TOPIC, 1, 1);
	p.rk = client_new(rd_kafka_mock_cluster_bootstraps(mc), "resume-1");
	snprintf(p.txid, sizeof(p.txid), "resume-1");
	CHECK(producer_txn_init(&p, 10000, NULL) == TXN_OK,
	      "transactions ready");
	CHECK(producer_txn_begin(&p) == TXN_OK, "first transaction begun");
	one_record(&p, "first");

	rd_kafka_mock_broker_push_request_error_rtts(
		mc, 1, ENDTXN_KEY, 1, RD_KAFKA_RESP_ERR_NO_ERROR, ENDTXN_RTT);
	r = producer_txn_commit(&p, COMMIT_WAIT);
	CHECK(r == TXN_RETRY, "a commit past its timeout is retriable (%d)",
	      (int)r);

	error = rd_kafka_abort_transaction(p.rk, COMMIT_WAIT);
	CHECK(error &&
		      rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__CONFLICT,
	      "a plain abort meanwhile is refused: %s",
	      error ? rd_kafka_error_string(error) : "no error");
	if (error)
		rd_kafka_error_destroy(error);

	r = producer_txn_abort(&p, 10000);
	CHECK(r == TXN_COMMITTED,
	      "the producer's abort resumes the commit and says it "
	      "committed (%d)",
	      (int)r);

	CHECK(producer_txn_begin(&p) == TXN_OK, "next transaction begun");
	one_record(&p, "second");
	CHECK(producer_txn_commit(&p, 10000) == TXN_OK,
	      "next transaction committed");

	rd_kafka_destroy(p.rk);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
