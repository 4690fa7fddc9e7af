/*
 * http.h - the operations endpoint: GET /metrics (Prometheus text format
 * 0.0.4), /healthz and /readyz, served by libevent's evhttp on the
 * daemon's own event_base.
 *
 * The server knows nothing of the pipeline: it asks the probe callbacks,
 * which run in the loop thread like everything else and must not block.
 */
#ifndef LR_HTTP_H
#define LR_HTTP_H

#include <event2/event.h>
#include <stdbool.h>

struct metrics;

struct http_probe {
	/* Fill m's scrape-time values (gauges, other modules' counters). */
	void (*collect)(struct metrics *m, void *arg);
	bool (*healthy)(void *arg);
	bool (*ready)(void *arg);
	void *arg;
};

struct http;

/*
 * Bind to listen ("host:port", "[v6]:port") on base. Returns the server,
 * or NULL after logging why (the caller treats it as a start-up error).
 * m and probe must outlive the server; probe is copied.
 */
struct http *http_start(struct event_base *base, const char *listen,
			struct metrics *m, const struct http_probe *probe);
void http_free(struct http *h);

#endif
