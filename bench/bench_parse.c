/*
 * bench_parse.c - how many Segment events per second event_parse handles on
 * one core. Parses a few realistic analytics.js-shaped events (a ~320-byte
 * track event first) in a loop and prints events/s. Usage: bench_parse [N].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jsmn.h>

#include "../engine/event.h"

static const char *const bench_events[] = {
	/* the reference: a typical ~320-byte track event */
	"{\"type\":\"track\",\"event\":\"Pricing "
	"Viewed\",\"userId\":\"u_8f3a2c\","
	"\"anonymousId\":\"5b1c0d9e-7a44-4f0b-9d1e-2f6a8c3b7e10\","
	"\"messageId\":\"ajs-next-1711712345678-7c1d9a2b\","
	"\"timestamp\":\"2026-03-29T01:30:00.123Z\",\"properties\":{\"plan\":"
	"\"enterprise\",\"seats\":25,\"path\":\"/pricing\",\"cart\":{\"total\":"
	"1299.5}},\"context\":{\"ip\":\"203.0.113.7\",\"locale\":\"en-US\"}}",
	"{\"type\":\"page\",\"name\":\"Docs\",\"anonymousId\":\"a-77\","
	"\"messageId\":\"m-2\",\"timestamp\":\"2026-03-29T01:31:00Z\","
	"\"properties\":{\"path\":\"/docs/start\",\"url\":"
	"\"https://example.com/docs/start\",\"title\":\"Getting started\"}}",
	"{\"type\":\"identify\",\"userId\":\"u_8f3a2c\",\"messageId\":\"m-3\","
	"\"timestamp\":\"2026-03-29T01:32:00+02:00\",\"traits\":{\"email\":"
	"\"Jo@Example.com\",\"title\":\"VP Engineering\",\"company\":{\"name\":"
	"\"Acme\",\"employees\":420}}}",
};

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_run(const char *buf, size_t len, long n, struct event *ev)
{
	struct event_error err;
	double t0 = bench_now();

	for (long i = 0; i < n; i++)
		if (event_parse(buf, len, ev, &err) != 0) {
			fprintf(stderr, "bench: rejected: %s\n", err.msg);
			exit(1);
		}
	return (double)n / (bench_now() - t0);
}

/* jsmn alone on the same bytes: the floor under event_parse */
static double bench_jsmn(const char *buf, size_t len, long n)
{
	static jsmntok_t tok[EVENT_MAX_TOKENS];
	double t0 = bench_now();
	long sum = 0;

	for (long i = 0; i < n; i++) {
		jsmn_parser p;
		jsmn_init(&p);
		sum += jsmn_parse(&p, buf, len, tok, EVENT_MAX_TOKENS);
	}
	if (sum <= 0)
		exit(1);
	return (double)n / (bench_now() - t0);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	static struct event ev;
	size_t nev = sizeof(bench_events) / sizeof(bench_events[0]);

	for (size_t i = 0; i < nev; i++) {
		size_t len = strlen(bench_events[i]);
		double rate = bench_run(bench_events[i], len, n, &ev);
		double floor = bench_jsmn(bench_events[i], len, n);
		printf("event %zu (%zu bytes, %s): %.0f events/s "
		       "(jsmn alone: %.0f/s)\n",
		       i, len, event_type_name(ev.type), rate, floor);
	}
	return 0;
}
