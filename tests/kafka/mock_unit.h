/*
 * mock_unit.h - what the mock-cluster tests that compile one of the
 * daemon's Kafka files in (mock_txn_resume.c, mock_restore.c) share: their
 * PASS/FAIL check, which counts failures for the exit status, and a
 * kafka_conf_make for the file to link against. The files they test call
 * it only from the constructors the tests do not use (producer_new,
 * consumer_new), so it refuses.
 */
#ifndef LR_MOCK_UNIT_H
#define LR_MOCK_UNIT_H

#include <stdio.h>

#include <librdkafka/rdkafka.h>

struct config;

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			printf("PASS: ");                                      \
		} else {                                                       \
			printf("FAIL: ");                                      \
			failures++;                                            \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		fflush(stdout);                                                \
	} while (0)

rd_kafka_conf_t *kafka_conf_make(const rd_kafka_conf_t *base,
				 const struct config *cfg,
				 const char *const *defaults,
				 const char *const *forced, const char *who,
				 char *errstr, size_t errsize)
{
	(void)base;
	(void)cfg;
	(void)defaults;
	(void)forced;
	(void)who;
	snprintf(errstr, errsize, "not used by this test");
	return NULL;
}

#endif
