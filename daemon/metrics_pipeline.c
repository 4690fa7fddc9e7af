/*
 * metrics_pipeline.c - what the operations endpoint asks of the pipeline:
 * the scrape-time gauges, health and readiness. Kept out of pipeline.c so
 * the pipeline needs only a start and a free call.
 *
 * All of it runs in the loop thread, between records, so it reads the
 * pipeline's state without locks. It must stay cheap: the one full scan
 * (lead table bytes) is refreshed at most once a minute.
 */
#include "../config/config.h"
#include "../engine/lead.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipeline_internal.h"
#include "state.h"

#define METRICS_BYTES_PERIOD_MS 60000

static uint64_t metrics_lead_bytes(struct pipeline *pl)
{
	uint64_t n = 0;

	for (int p = 0; p < state_leads_count(pl->st); p++)
		if (state_leads_open(pl->st, p))
			n += lead_table_bytes(state_leads_table(pl->st, p));
	return n;
}

static uint64_t metrics_partitions(struct pipeline *pl)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	uint64_t n = 0;

	/* A local call: the consumer's current assignment, no broker. */
	if (pl->cons == NULL ||
	    rd_kafka_assignment(pl->cons->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	n = (uint64_t)a->cnt;
	rd_kafka_topic_partition_list_destroy(a);
	return n;
}

/*
 * Consumer lag per assigned partition, from three local calls and no
 * broker round trip: rd_kafka_assignment (what we own now, so a revoked
 * partition has no series), rd_kafka_position (the next offset the loop
 * will read) and rd_kafka_get_watermark_offsets (the high watermark
 * cached from the last fetch response, which librdkafka refreshes with
 * every fetch, idle ones included: fetch.wait.max.ms).
 *
 * Why not the statistics JSON (statistics.interval.ms, stats_cb)? Its
 * consumer_lag and consumer_lag_stored are measured from the consumer's
 * committed_offset and stored_offset, and this daemon moves neither: its
 * offsets are committed by the producer's transaction and it stores
 * none, so both would grow without end. Its ls_offset is the one place
 * librdkafka 2.0.2 exposes the last stable offset (rdkafka.h has no call
 * for it), but it would cost a JSON parse on the loop per interval and
 * be up to an interval old, while the position is read now. The high
 * watermark is at or above the LSO; the two differ only while a
 * transaction is open on the partition (its records, which
 * read_committed cannot read yet, and its marker count as lag until it
 * commits). On the assign topic, our own transactional output, that is
 * at most one commit interval's commands.
 *
 * A partition appears once both offsets are known: its high watermark
 * after the first fetch response, its position after the first record
 * or transaction marker consumed since the assignment.
 */
static void metrics_lag(struct pipeline *pl, struct metrics *m)
{
	rd_kafka_topic_partition_list_t *a = NULL;

	metrics_lag_clear(m);
	if (pl->cons == NULL ||
	    rd_kafka_assignment(pl->cons->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	if (rd_kafka_position(pl->cons->rk, a) == RD_KAFKA_RESP_ERR_NO_ERROR)
		for (int i = 0; i < a->cnt; i++) {
			const rd_kafka_topic_partition_t *tp = &a->elems[i];
			int64_t lo = -1, hi = -1, lag;

			if (tp->err ||
			    rd_kafka_get_watermark_offsets(
				    pl->cons->rk, tp->topic, tp->partition, &lo,
				    &hi) != RD_KAFKA_RESP_ERR_NO_ERROR)
				continue;
			lag = metrics_lag_of(hi, tp->offset);
			if (lag >= 0 &&
			    metrics_lag_add(m, tp->topic, tp->partition,
					    (uint64_t)lag) < 0)
				break;
		}
	rd_kafka_topic_partition_list_destroy(a);
}

static bool pipeline_metrics_healthy(void *arg)
{
	const struct pipeline *pl = arg;

	/* Answering at all means the loop runs. */
	return pl->status == 0 && !kafka_fatal();
}

static bool pipeline_metrics_ready(void *arg)
{
	const struct pipeline *pl = arg;

	/* Restores run inside the loop, so none is in progress while we
	 * answer; ready is set once the first assignment was restored. */
	return pl->ready && !pl->stopping && pl->status == 0 && !kafka_fatal();
}

static void pipeline_metrics_collect(struct metrics *m, void *arg)
{
	struct pipeline *pl = arg;
	int64_t now = pipeline_now_ms();

	m->g.up = true;
	m->g.ready = pipeline_metrics_ready(pl);
	m->g.leads = pl->st ? state_leads_total(pl->st) : 0;
	m->g.teams = pl->st ? state_teams_total(pl->st) : 0;
	m->g.traits_dropped = pl->st ? state_traits_dropped(pl->st) : 0;
	m->g.partitions = metrics_partitions(pl);
	metrics_lag(pl, m);
	m->g.produced = pl->prod ? pl->prod->sent : 0;
	m->g.delivery_errors = pl->prod ? pl->prod->dr_errs : 0;
	if (pl->st && (pl->metrics_bytes_ms == 0 ||
		       now - pl->metrics_bytes_ms >= METRICS_BYTES_PERIOD_MS)) {
		m->g.lead_state_bytes = metrics_lead_bytes(pl);
		pl->metrics_bytes_ms = now;
	}
}

int pipeline_http_start(struct pipeline *pl)
{
	const struct http_probe probe = {
		pipeline_metrics_collect,
		pipeline_metrics_healthy,
		pipeline_metrics_ready,
		pl,
	};
	const char *listen = pl->cfg->process.http_listen;

	if (listen == NULL || *listen == '\0') {
		log_info("http: process.http_listen is empty; no operations "
			 "endpoint");
		return 0;
	}
	pl->http = http_start(pl->base, listen, &pl->metrics, &probe);
	return pl->http ? 0 : -1;
}
