/*
 * pipeline.h - the Kafka daemon: both stages on one libevent loop with
 * exactly-once transactions (DESIGN.md sections 1, 2 and 7).
 */
#ifndef LR_PIPELINE_H
#define LR_PIPELINE_H

struct config;

/*
 * Run until SIGTERM/SIGINT (exit status 0) or a fatal error (non-zero).
 * Takes ownership of cfg. config_path is kept for SIGHUP reloads.
 */
int pipeline_run(struct config *cfg, const char *config_path);

#endif
