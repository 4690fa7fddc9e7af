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

#include "../config/config.h"
#include "../engine/event.h"

struct config;
struct state;
struct producer;
struct metrics;

/* Topic names fixed at start: a reload never moves the daemon's topics. */
struct stage {
	const struct config *cfg;    /* swapped on reload */
	struct topics_config topics; /* a copy kept across reloads */
	struct state *st;
	struct producer *prod;
	struct metrics *metrics; /* the pipeline's counters */
	struct event ev; /* scratch for event_parse (large: keep off stack) */
	/* The open transaction holds a command for stage 2 or a handoff:
	 * someone waits for it, so it commits without waiting out the
	 * interval (pipeline.c). Cleared when a transaction begins. */
	bool urgent;
};

/* Process one consumed record. Returns 0, or -1 on a broken invariant
 * (a partition without state). */
int stage_record(struct stage *sg, const rd_kafka_message_t *m);

#endif
