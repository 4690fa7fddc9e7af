/*
 * simulate.h - run the engine over JSON Lines with no Kafka (DESIGN.md 7).
 *
 * Operators replay past events through a new config to see what it would
 * hand off; tests and benchmarks drive the whole engine through it. Output
 * depends only on the input and the config, never on the wall clock.
 */
#ifndef LR_SIMULATE_H
#define LR_SIMULATE_H

#include <stdbool.h>
#include <stdio.h>

struct config;

struct simulate_opts {
	bool summary_json; /* summary as one JSON object instead of text */
};

/*
 * Read Segment events, one JSON object per line, from in; write each handoff
 * as one line to out; report rejected lines and the final summary on err.
 * Returns 0 (rejected lines included), or 1 on an I/O error.
 */
int simulate_run(const struct config *cfg, FILE *in, FILE *out, FILE *err,
		 const struct simulate_opts *opts);

#endif
