/*
 * http.c - evhttp on the daemon's loop for /metrics, /healthz and /readyz.
 *
 * Every answer is built in memory and queued on the connection's output
 * buffer; libevent writes it when the socket is writable, so a slow or
 * stalled client never blocks the loop. Timeouts and size caps bound what
 * a client can hold. The listener binds to loopback by default (config);
 * a bind failure is a start-up error, never a silent skip, since an
 * operator who asked for metrics would otherwise scrape nothing unawares.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

#define HTTP_TIMEOUT_S     10 /* per connection: read, write, idle */
#define HTTP_MAX_HEADERS   8192
#define HTTP_MAX_BODY      1024 /* we take no bodies */
#define HTTP_METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_TEXT_CTYPE    "text/plain; charset=utf-8"

struct http {
	struct evhttp *srv;
	struct metrics *m;
	struct http_probe probe;
};

/* "host:port" or "[v6]:port" into host (brackets dropped) and port. */
static int http_listen_parse(const char *s, char *host, size_t size,
			     ev_uint16_t *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= size)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (ev_uint16_t)p;
	return 0;
}

static void http_reply(struct evhttp_request *req, int code, const char *reason,
		       const char *body)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(hdrs, "Content-Type", HTTP_TEXT_CTYPE);
	evhttp_add_header(hdrs, "Cache-Control", "no-store");
	if (out)
		evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, reason, out);
	if (out)
		evbuffer_free(out);
}

static void http_free_cb(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static void http_metrics(struct http *h, struct evhttp_request *req)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct evbuffer *out;
	size_t len;
	char *text;

	if (h->probe.collect)
		h->probe.collect(h->m, h->probe.arg);
	text = metrics_format(h->m, &len);
	out = evbuffer_new();
	if (text == NULL || out == NULL) {
		free(text);
		if (out)
			evbuffer_free(out);
		http_reply(req, HTTP_INTERNAL, "Internal Server Error",
			   "out of memory\n");
		return;
	}
	/* Hand the text over without a copy; libevent frees it when sent. */
	if (evbuffer_add_reference(out, text, len, http_free_cb, NULL) < 0) {
		free(text);
		evbuffer_free(out);
		http_reply(req, HTTP_INTERNAL, "Internal Server Error",
			   "out of memory\n");
		return;
	}
	evhttp_add_header(hdrs, "Content-Type", HTTP_METRICS_CTYPE);
	evhttp_add_header(hdrs, "Cache-Control", "no-store");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static void http_probe_reply(struct evhttp_request *req, bool ok,
			     const char *bad)
{
	if (ok)
		http_reply(req, HTTP_OK, "OK", "ok\n");
	else
		http_reply(req, HTTP_SERVUNAVAIL, "Service Unavailable", bad);
}

static void http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", "GET");
		http_reply(req, 405, "Method Not Allowed",
			   "method not allowed\n");
		return;
	}
	if (path == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0)
		http_metrics(h, req);
	else if (strcmp(path, "/healthz") == 0)
		http_probe_reply(req,
				 h->probe.healthy == NULL ||
					 h->probe.healthy(h->probe.arg),
				 "unhealthy\n");
	else if (strcmp(path, "/readyz") == 0)
		http_probe_reply(req,
				 h->probe.ready != NULL &&
					 h->probe.ready(h->probe.arg),
				 "not ready\n");
	else
		http_reply(req, HTTP_NOTFOUND, "Not Found", "not found\n");
}

/* Log where we listen, with the port the kernel chose for port 0. */
static void http_log_bound(struct evhttp_bound_socket *bs, const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[64] = "?";
	int port = 0;

	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
			&sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			evutil_inet_ntop(AF_INET6, &s6->sin6_addr, addr,
					 sizeof(addr));
			port = ntohs(s6->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			evutil_inet_ntop(AF_INET, &s4->sin_addr, addr,
					 sizeof(addr));
			port = ntohs(s4->sin_port);
		}
	}
	log_info("http: listening on %s (%s port %d) for /metrics, /healthz, "
		 "/readyz",
		 listen, addr, port);
}

struct http *http_start(struct event_base *base, const char *listen,
			struct metrics *m, const struct http_probe *probe)
{
	struct http *h = calloc(1, sizeof(*h));
	struct evhttp_bound_socket *bs;
	char host[256];
	ev_uint16_t port;

	if (h == NULL)
		return NULL;
	h->m = m;
	h->probe = *probe;
	if (http_listen_parse(listen, host, sizeof(host), &port) < 0) {
		log_warnx("http: cannot parse process.http_listen \"%s\"",
			  listen);
		goto err;
	}
	if ((h->srv = evhttp_new(base)) == NULL) {
		log_warnx("http: evhttp_new failed");
		goto err;
	}
	/* Let every method reach the callback, which answers 405 itself:
	 * evhttp would answer 501 for the ones it does not allow. */
	evhttp_set_allowed_methods(
		h->srv, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
				EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(h->srv, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h->srv, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->srv, HTTP_MAX_BODY);
	evhttp_set_gencb(h->srv, http_request_cb, h);
	bs = evhttp_bind_socket_with_handle(h->srv, host, port);
	if (bs == NULL) {
		log_warnx("http: cannot listen on %s (process.http_listen): %s",
			  listen,
			  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto err;
	}
	http_log_bound(bs, listen);
	return h;
err:
	http_free(h);
	return NULL;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->srv)
		evhttp_free(h->srv);
	free(h);
}
