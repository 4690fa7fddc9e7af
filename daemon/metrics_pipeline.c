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
	m->g.partitions = metrics_partitions(pl);
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
