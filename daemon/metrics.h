/*
 * metrics.h - the one list of leadrouter's metrics and the counters behind
 * them.
 *
 * METRICS_FAMILIES is the single source of truth for every metric's name,
 * type and help text: the /metrics formatter (metrics_format.c) walks it,
 * README.md is checked against it (tests/unit/test_metrics.c), and the
 * stats log line reads the same struct metrics. Label values come from the
 * fixed lists below, so the label sets stay bounded: a lead or a rep never
 * becomes a label; the only open set is the configured teams.
 *
 * struct metrics is the only store of the pipeline's counters. The loop is
 * single-threaded, so the hot path is a plain increment: no atomics, no
 * locks, no formatting. Gauges and other modules' counters are filled in at
 * scrape time by a collect callback (see http.h), never on the hot path.
 */
#ifndef LR_METRICS_H
#define LR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(id, name, type, help): every metric family, in exposition order. */
#define METRICS_FAMILIES(X)                                                    \
	X(UP, "leadrouter_up", "gauge",                                        \
	  "1 while the daemon's event loop runs.")                             \
	X(READY, "leadrouter_ready", "gauge",                                  \
	  "1 once the first assignment is restored and the daemon is not "     \
	  "stopping (as /readyz).")                                            \
	X(BUILD_INFO, "leadrouter_build_info", "gauge",                        \
	  "Always 1; the version is the label.")                               \
	X(RECORDS, "leadrouter_records_total", "counter",                      \
	  "Records consumed, by input (events, feedback, stage-2 commands).")  \
	X(EVENTS, "leadrouter_events_total", "counter",                        \
	  "Marketing events by result: accepted, rejected (sent to the DLQ) "  \
	  "or duplicate (an event id already seen for the lead).")             \
	X(DLQ, "leadrouter_dlq_total", "counter",                              \
	  "Records sent to the dead-letter topic, by reason code.")            \
	X(MQL, "leadrouter_mql_total", "counter",                              \
	  "Leads that qualified (assign commands sent to stage 2).")           \
	X(HANDOFFS, "leadrouter_handoffs_total", "counter",                    \
	  "Handoffs published, by team and routing strategy.")                 \
	X(FEEDBACK, "leadrouter_feedback_total", "counter",                    \
	  "Sales feedback records applied, by outcome.")                       \
	X(TRANSACTIONS, "leadrouter_transactions_total", "counter",            \
	  "Kafka transactions by result.")                                     \
	X(COMMIT_SECONDS, "leadrouter_commit_seconds", "histogram",            \
	  "Time a successful commit spent writing changelogs, adding offsets " \
	  "and committing.")                                                   \
	X(EXPIRED, "leadrouter_leads_expired_total", "counter",                \
	  "Idle leads deleted from the state.")                                \
	X(RESTORE_RECORDS, "leadrouter_restore_records_total", "counter",      \
	  "Changelog records replayed into memory (assignments, rollbacks).")  \
	X(TRAITS_DROPPED, "leadrouter_traits_dropped_total", "counter",        \
	  "Traits not kept because the lead's traits had reached their size "  \
	  "cap (2048 bytes).")                                                 \
	X(LEADS, "leadrouter_leads", "gauge",                                  \
	  "Leads tracked in memory on this instance.")                         \
	X(TEAMS, "leadrouter_teams", "gauge",                                  \
	  "Team routing states held in memory on this instance.")              \
	X(LEAD_STATE_BYTES, "leadrouter_lead_state_bytes", "gauge",            \
	  "Approximate bytes held by the lead tables (refreshed at most "      \
	  "once a minute: it takes a full scan).")                             \
	X(PARTITIONS, "leadrouter_partitions_assigned", "gauge",               \
	  "Partitions assigned to this instance's consumer (all topics).")     \
	X(CONSUMER_LAG, "leadrouter_consumer_lag", "gauge",                    \
	  "Records of an assigned partition not consumed yet: its high "       \
	  "watermark minus the consumer's position, never negative.")          \
	X(PRODUCED, "leadrouter_produced_total", "counter",                    \
	  "Records produced, all topics (committed or aborted).")              \
	X(DELIVERY_ERRORS, "leadrouter_delivery_errors_total", "counter",      \
	  "Records whose delivery failed (their transaction aborts).")

enum metrics_family {
#define METRICS_X_ENUM(id, name, type, help) METRICS_##id,
	METRICS_FAMILIES(METRICS_X_ENUM)
#undef METRICS_X_ENUM
		METRICS_FAMILY_COUNT
};

/*
 * Label values. Each list is X(id, "value"); the counters are arrays
 * indexed by these enums.
 */
#define METRICS_INPUTS(X)                                                      \
	X(EVENTS, "events")                                                    \
	X(FEEDBACK, "feedback")                                                \
	X(COMMANDS, "commands")

#define METRICS_EVENT_RESULTS(X)                                               \
	X(ACCEPTED, "accepted")                                                \
	X(REJECTED, "rejected")                                                \
	X(DUPLICATE, "duplicate")

/* Every reason code stage.c sends to the DLQ: event_reason_code() (minus
 * "ok"), feedback_parse()'s codes and stage 2's; anything else is "other". */
#define METRICS_DLQ_REASONS(X)                                                 \
	X(NOT_JSON, "not_json")                                                \
	X(NOT_OBJECT, "not_object")                                            \
	X(TOO_LARGE, "too_large")                                              \
	X(TOO_DEEP, "too_deep")                                                \
	X(NO_IDENTITY, "no_identity")                                          \
	X(MISSING_TYPE, "missing_type")                                        \
	X(UNKNOWN_TYPE, "unknown_type")                                        \
	X(WRONG_FIELD_TYPE, "wrong_field_type")                                \
	X(FIELD_TYPE, "field_type")                                            \
	X(BAD_TIMESTAMP, "bad_timestamp")                                      \
	X(BAD_HANDOFF_ID, "bad_handoff_id")                                    \
	X(FIELD_TOO_LONG, "field_too_long")                                    \
	X(INVALID_UTF8, "invalid_utf8")                                        \
	X(UNKNOWN_TEAM, "unknown_team")                                        \
	X(BAD_COMMAND, "bad_command")                                          \
	X(OTHER, "other")

#define METRICS_OUTCOMES(X)                                                    \
	X(ACCEPTED, "accepted")                                                \
	X(REJECTED, "rejected")                                                \
	X(CONVERTED, "converted")                                              \
	X(RECYCLED, "recycled")                                                \
	X(STALE, "stale")

/* The names route_handoff.c writes as routing.strategy. */
#define METRICS_STRATEGIES(X)                                                  \
	X(NAMED_ACCOUNT, "named_account")                                      \
	X(WEIGHTED_ROUND_ROBIN, "weighted_round_robin")                        \
	X(OVERFLOW, "overflow")                                                \
	X(UNKNOWN, "unknown")

#define METRICS_TXN_RESULTS(X)                                                 \
	X(COMMITTED, "committed")                                              \
	X(ABORTED, "aborted")

/* Commit latency buckets (seconds): X(upper bound, "le" label). */
#define METRICS_COMMIT_BUCKETS(X)                                              \
	X(0.005, "0.005")                                                      \
	X(0.01, "0.01")                                                        \
	X(0.025, "0.025")                                                      \
	X(0.05, "0.05")                                                        \
	X(0.1, "0.1")                                                          \
	X(0.25, "0.25")                                                        \
	X(0.5, "0.5")                                                          \
	X(1, "1")                                                              \
	X(2.5, "2.5")                                                          \
	X(5, "5")                                                              \
	X(10, "10")

#define METRICS_X_COUNT(id, value) +1
enum metrics_input {
#define METRICS_X(id, value) METRICS_INPUT_##id,
	METRICS_INPUTS(METRICS_X)
#undef METRICS_X
		METRICS_INPUT_COUNT
};
enum metrics_event_result {
#define METRICS_X(id, value) METRICS_EVENT_##id,
	METRICS_EVENT_RESULTS(METRICS_X)
#undef METRICS_X
		METRICS_EVENT_COUNT
};
enum metrics_dlq_reason {
#define METRICS_X(id, value) METRICS_DLQ_##id,
	METRICS_DLQ_REASONS(METRICS_X)
#undef METRICS_X
		METRICS_DLQ_COUNT
};
enum metrics_outcome {
#define METRICS_X(id, value) METRICS_OUTCOME_##id,
	METRICS_OUTCOMES(METRICS_X)
#undef METRICS_X
		METRICS_OUTCOME_COUNT
};
enum metrics_strategy {
#define METRICS_X(id, value) METRICS_STRATEGY_##id,
	METRICS_STRATEGIES(METRICS_X)
#undef METRICS_X
		METRICS_STRATEGY_COUNT
};
enum metrics_txn_result {
#define METRICS_X(id, value) METRICS_TXN_##id,
	METRICS_TXN_RESULTS(METRICS_X)
#undef METRICS_X
		METRICS_TXN_COUNT
};
#define METRICS_COMMIT_NBUCKETS (0 METRICS_COMMIT_BUCKETS(METRICS_X_COUNT))

/* Handoffs of one team; teams appear on their first handoff and stay
 * (a reload that drops a team must not make its counter go backwards). */
struct metrics_team {
	char *name;
	uint64_t handoffs[METRICS_STRATEGY_COUNT];
};

struct metrics_histogram {
	uint64_t buckets[METRICS_COMMIT_NBUCKETS]; /* not cumulative */
	uint64_t count;
	double sum;
};

/* The lag of one assigned partition, as of the last scrape. */
struct metrics_lag {
	char *topic;
	int32_t partition;
	uint64_t lag;
};

/* Values read from other modules at scrape time (and by the stats line). */
struct metrics_gauges {
	bool up, ready;
	uint64_t leads, teams, lead_state_bytes, partitions;
	uint64_t produced, delivery_errors;
	uint64_t traits_dropped; /* kept by the lead tables: state.c */
	/* Refilled at each scrape from the current assignment, so a revoked
	 * partition's series goes with it. */
	struct metrics_lag *lag;
	size_t nlag, lag_cap;
};

struct metrics {
	/* records[METRICS_INPUT_EVENTS] stays 0: events[] is the store. */
	uint64_t records[METRICS_INPUT_COUNT];
	uint64_t events[METRICS_EVENT_COUNT];
	uint64_t dlq[METRICS_DLQ_COUNT];
	uint64_t mql;
	uint64_t feedback[METRICS_OUTCOME_COUNT];
	uint64_t txns[METRICS_TXN_COUNT];
	uint64_t expired;
	uint64_t restore_records;
	struct metrics_histogram commit;
	struct metrics_team *teams;
	size_t nteams, teams_cap;
	size_t last_team; /* index of the last team counted: a cheap cache */
	struct metrics_gauges g;
	const char *version; /* the build_info label */
};

void metrics_init(struct metrics *m, const char *version);
void metrics_free(struct metrics *m);

/* Family metadata from METRICS_FAMILIES. */
const char *metrics_family_name(enum metrics_family f);
const char *metrics_family_type(enum metrics_family f);
const char *metrics_family_help(enum metrics_family f);

/* Rare paths (DLQ, feedback, handoff): a short string compare each. */
enum metrics_dlq_reason metrics_dlq_reason(const char *code);
/* Count one feedback record by its outcome (one feedback_parse accepts). */
void metrics_feedback_inc(struct metrics *m, const char *outcome);
/* The series of a routing strategy named as in the handoff record. */
enum metrics_strategy metrics_strategy_of(const char *name);
/* Give a configured team its handoff series (at 0); -1 out of memory. */
int metrics_team_declare(struct metrics *m, const char *team);
/* Count one handoff; a team that cannot be added is not counted. */
void metrics_handoff_inc(struct metrics *m, const char *team,
			 enum metrics_strategy s);
void metrics_commit_observe(struct metrics *m, double seconds);

/*
 * Consumer lag from a partition's end offset and the consumer's position
 * (the next offset it will read): end - position, 0 when the position is
 * past the end (a stale end), -1 when either is unknown (negative, as
 * librdkafka's RD_KAFKA_OFFSET_INVALID).
 */
int64_t metrics_lag_of(int64_t end, int64_t position);
/* Forget every partition's lag (before a scrape refills them). */
void metrics_lag_clear(struct metrics *m);
/* Add one partition's sample; returns -1 (and adds nothing) when out of
 * memory. */
int metrics_lag_add(struct metrics *m, const char *topic, int32_t partition,
		    uint64_t lag);
/* Monotonic microseconds, for latencies. */
int64_t metrics_now_us(void);

/* Sums for the stats log line. */
uint64_t metrics_events(const struct metrics *m);
uint64_t metrics_dlq(const struct metrics *m);
uint64_t metrics_handoffs(const struct metrics *m);

/*
 * The Prometheus text exposition (format 0.0.4) of m, NUL-terminated, in
 * a malloc'd buffer the caller frees; *len is its length. NULL when out of
 * memory.
 */
char *metrics_format(const struct metrics *m, size_t *len);

#endif
