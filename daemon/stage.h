/*
 * stage.h - what one consumed record does: stage 1 (events and feedback,
 * per lead partition) and stage 2 (assign commands and forwarded feedback,
 * per team partition). Outputs go to the producer's open transaction; state
 * changes are marked dirty for the next commit. Nothing here commits.
 */
#ifndef LR_STAGE_H
#define LR_STAGE_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "../engine/event.h"

struct config;
struct state;
struct producer;
struct metrics;

/* Topic names fixed at start: a reload never moves the daemon's topics. */
struct stage_topics {
	char *events, *feedback, *assign, *leads_changelog, *teams_changelog,
		*dlq, *handoff;
};

struct stage {
	const struct config *cfg; /* swapped on reload */
	struct stage_topics topics;
	struct state *st;
	struct producer *prod;
	struct metrics *metrics; /* the pipeline's counters */
	struct event ev; /* scratch for event_parse (large: keep off stack) */
};

int stage_topics_init(struct stage_topics *t, const struct config *cfg);
void stage_topics_free(struct stage_topics *t);

/* Process one consumed record. Returns 0, or -1 on a broken invariant
 * (a partition without state). */
int stage_record(struct stage *sg, const rd_kafka_message_t *m);

#endif
