/*
 * test_metrics.c - unit tests for the /metrics exposition
 * (daemon/metrics.c): exact sample lines for known counter values, label
 * escaping, one HELP and TYPE per family before its samples, the
 * cumulative histogram, the label mappings of the hot-path helpers, and
 * README.md agreeing with the METRICS_FAMILIES table.
 *
 * metrics.c is pure (no libevent, no Kafka), so it is compiled into this
 * test directly rather than added to libleadrouter.a, which holds only the
 * engine and the config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "../../daemon/metrics.c"
#include "../../engine/event.h"
#include "../../engine/route.h"

static char *format(const struct metrics *m)
{
	size_t len = 0;
	char *s = metrics_format(m, &len);

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

/* True when text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void expect_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("missing line: %s", line);
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, k = strlen(prefix);

	for (const char *p = text; *p;) {
		if (strncmp(p, prefix, k) == 0)
			n++;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return n;
}

static void known_values(struct metrics *m)
{
	metrics_init(m, "1.2.3");
	m->g.up = true;
	m->g.ready = true;
	m->g.leads = 42;
	m->g.teams = 3;
	m->g.lead_state_bytes = 123456;
	m->g.partitions = 9;
	m->g.produced = 1000;
	m->g.delivery_errors = 2;
	m->events[METRICS_EVENT_ACCEPTED] = 90;
	m->events[METRICS_EVENT_REJECTED] = 7;
	m->events[METRICS_EVENT_DUPLICATE] = 3;
	m->records[METRICS_INPUT_FEEDBACK] = 11;
	m->records[METRICS_INPUT_COMMANDS] = 5;
	m->dlq[METRICS_DLQ_NOT_JSON] = 4;
	m->dlq[metrics_dlq_reason("unknown_team")] = 2;
	m->dlq[metrics_dlq_reason("something_new")] = 1;
	m->mql = 6;
	for (int i = 0; i < 8; i++)
		metrics_feedback_inc(m, "converted");
	metrics_feedback_inc(m, "nope"); /* not an outcome: not counted */
	m->txns[METRICS_TXN_COMMITTED] = 12;
	m->txns[METRICS_TXN_ABORTED] = 1;
	m->expired = 13;
	m->restore_records = 77;
	m->g.traits_dropped = 5;
	metrics_handoff_inc(m, "emea", METRICS_STRATEGY_OVERFLOW);
	metrics_handoff_inc(m, "emea", METRICS_STRATEGY_OVERFLOW);
	metrics_handoff_inc(m, "amer", METRICS_STRATEGY_NAMED_ACCOUNT);
	metrics_handoff_inc(m, "emea", METRICS_STRATEGY_WEIGHTED_ROUND_ROBIN);
	assert_int_equal(metrics_lag_add(m, "in.events", 0, 17), 0);
	assert_int_equal(metrics_lag_add(m, "in.events", 1, 0), 0);
	assert_int_equal(metrics_lag_add(m, "lr.assign", 2, 5), 0);
}

static void test_exact_lines(void **state)
{
	struct metrics m;
	char *s;

	(void)state;
	known_values(&m);
	s = format(&m);
	expect_line(s, "# HELP leadrouter_up 1 while the daemon's event loop "
		       "runs.");
	expect_line(s, "# TYPE leadrouter_up gauge");
	expect_line(s, "leadrouter_up 1");
	expect_line(s, "leadrouter_ready 1");
	expect_line(s, "leadrouter_build_info{version=\"1.2.3\"} 1");
	expect_line(s, "leadrouter_records_total{input=\"events\"} 100");
	expect_line(s, "leadrouter_records_total{input=\"feedback\"} 11");
	expect_line(s, "leadrouter_records_total{input=\"commands\"} 5");
	expect_line(s, "# TYPE leadrouter_events_total counter");
	expect_line(s, "leadrouter_events_total{result=\"accepted\"} 90");
	expect_line(s, "leadrouter_events_total{result=\"rejected\"} 7");
	expect_line(s, "leadrouter_events_total{result=\"duplicate\"} 3");
	expect_line(s, "leadrouter_dlq_total{reason=\"not_json\"} 4");
	expect_line(s, "leadrouter_dlq_total{reason=\"unknown_team\"} 2");
	expect_line(s, "leadrouter_dlq_total{reason=\"other\"} 1");
	expect_line(s, "leadrouter_dlq_total{reason=\"too_deep\"} 0");
	expect_line(s, "leadrouter_mql_total 6");
	expect_line(s, "leadrouter_handoffs_total{team=\"emea\",strategy="
		       "\"overflow\"} 2");
	expect_line(s, "leadrouter_handoffs_total{team=\"emea\",strategy="
		       "\"weighted_round_robin\"} 1");
	expect_line(s, "leadrouter_handoffs_total{team=\"amer\",strategy="
		       "\"named_account\"} 1");
	expect_line(s, "leadrouter_handoffs_total{team=\"amer\",strategy="
		       "\"overflow\"} 0");
	expect_line(s, "leadrouter_feedback_total{outcome=\"converted\"} 8");
	expect_line(s, "leadrouter_feedback_total{outcome=\"accepted\"} 0");
	assert_null(strstr(s, "outcome=\"other\""));
	assert_null(strstr(s, "outcome=\"nope\""));
	expect_line(s,
		    "leadrouter_transactions_total{result=\"committed\"} 12");
	expect_line(s, "leadrouter_transactions_total{result=\"aborted\"} 1");
	expect_line(s, "leadrouter_leads_expired_total 13");
	expect_line(s, "leadrouter_restore_records_total 77");
	expect_line(s, "# TYPE leadrouter_traits_dropped_total counter");
	expect_line(s, "leadrouter_traits_dropped_total 5");
	expect_line(s, "leadrouter_leads 42");
	expect_line(s, "leadrouter_teams 3");
	expect_line(s, "leadrouter_lead_state_bytes 123456");
	expect_line(s, "leadrouter_partitions_assigned 9");
	expect_line(s, "# TYPE leadrouter_consumer_lag gauge");
	expect_line(s, "leadrouter_consumer_lag{topic=\"in.events\","
		       "partition=\"0\"} 17");
	expect_line(s, "leadrouter_consumer_lag{topic=\"in.events\","
		       "partition=\"1\"} 0");
	expect_line(s, "leadrouter_consumer_lag{topic=\"lr.assign\","
		       "partition=\"2\"} 5");
	expect_line(s, "leadrouter_produced_total 1000");
	expect_line(s, "leadrouter_delivery_errors_total 2");
	/* The stats line's sums. */
	assert_int_equal(metrics_events(&m), 100);
	assert_int_equal(metrics_dlq(&m), 7);
	assert_int_equal(metrics_handoffs(&m), 4);
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
	metrics_free(&m);
}

/* A declared team has every strategy's series at 0 before its first
 * handoff; declaring it again, or counting a handoff, adds no second set. */
static void test_team_declared(void **state)
{
	struct metrics m;
	char *s;

	(void)state;
	metrics_init(&m, "1");
	assert_int_equal(metrics_team_declare(&m, "inbound"), 0);
	assert_int_equal(metrics_team_declare(&m, "inbound"), 0);
	s = format(&m);
	expect_line(s, "leadrouter_handoffs_total{team=\"inbound\",strategy="
		       "\"named_account\"} 0");
	expect_line(s, "leadrouter_handoffs_total{team=\"inbound\",strategy="
		       "\"overflow\"} 0");
	free(s);
	metrics_handoff_inc(&m, "inbound", METRICS_STRATEGY_OVERFLOW);
	s = format(&m);
	expect_line(s, "leadrouter_handoffs_total{team=\"inbound\",strategy="
		       "\"overflow\"} 1");
	assert_int_equal(count_prefix(s, "leadrouter_handoffs_total{"),
			 METRICS_STRATEGY_COUNT);
	free(s);
	metrics_free(&m);
}

/* Each family: HELP then TYPE exactly once, before any of its samples,
 * and every sample line belongs to the family announced last. */
static void test_structure(void **state)
{
	struct metrics m;
	char *s, *save = NULL, *line;
	const char *fam = NULL, *type = NULL;
	char want[256];

	(void)state;
	known_values(&m);
	s = format(&m);
	for (int f = 0; f < METRICS_FAMILY_COUNT; f++) {
		snprintf(want, sizeof(want), "# HELP %s ",
			 metrics_family_name((enum metrics_family)f));
		assert_int_equal(count_prefix(s, want), 1);
		snprintf(want, sizeof(want), "# TYPE %s ",
			 metrics_family_name((enum metrics_family)f));
		assert_int_equal(count_prefix(s, want), 1);
	}
	assert_int_equal(count_prefix(s, "# HELP "), METRICS_FAMILY_COUNT);
	assert_int_equal(count_prefix(s, "# TYPE "), METRICS_FAMILY_COUNT);
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n;

		if (strncmp(line, "# HELP ", 7) == 0) {
			fam = line + 7;
			type = NULL;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_non_null(fam);
			type = strrchr(line, ' ') + 1;
			continue;
		}
		assert_non_null(type);
		n = strcspn(fam, " ");
		if (strncmp(line, fam, n) != 0)
			fail_msg("sample outside its family: %s", line);
		if (strcmp(type, "histogram") != 0 && line[n] != ' ' &&
		    line[n] != '{')
			fail_msg("sample name differs from family: %s", line);
	}
	free(s);
	metrics_free(&m);
}

static void test_label_escaping(void **state)
{
	struct metrics m;
	char *s;

	(void)state;
	metrics_init(&m, "v\"1\\2\n");
	metrics_handoff_inc(&m, "we\"ird\\team\nx", METRICS_STRATEGY_UNKNOWN);
	s = format(&m);
	expect_line(s, "leadrouter_build_info{version=\"v\\\"1\\\\2\\n\"} 1");
	expect_line(s, "leadrouter_handoffs_total{team=\"we\\\"ird\\\\team\\nx"
		       "\",strategy=\"unknown\"} 1");
	free(s);
	metrics_free(&m);
}

/* The lag arithmetic, and a refill that drops the partitions it no longer
 * names (a revoked partition's series goes). */
static void test_consumer_lag(void **state)
{
	struct metrics m;
	char *s;

	(void)state;
	assert_int_equal(metrics_lag_of(100, 40), 60);
	assert_int_equal(metrics_lag_of(100, 100), 0);
	assert_int_equal(metrics_lag_of(100, 120), 0); /* never negative */
	assert_int_equal(metrics_lag_of(0, 0), 0);
	assert_int_equal(metrics_lag_of(-1001, 5), -1); /* end unknown */
	assert_int_equal(metrics_lag_of(5, -1001), -1); /* position unknown */
	metrics_init(&m, "x");
	s = format(&m);
	/* No partition: the family is announced, with no sample. */
	expect_line(s, "# TYPE leadrouter_consumer_lag gauge");
	assert_int_equal(count_prefix(s, "leadrouter_consumer_lag{"), 0);
	free(s);
	for (int p = 0; p < 40; p++)
		assert_int_equal(metrics_lag_add(&m, "t\"x", p, (uint64_t)p),
				 0);
	s = format(&m);
	assert_int_equal(count_prefix(s, "leadrouter_consumer_lag{"), 40);
	expect_line(s, "leadrouter_consumer_lag{topic=\"t\\\"x\","
		       "partition=\"39\"} 39");
	free(s);
	metrics_lag_clear(&m);
	assert_int_equal(metrics_lag_add(&m, "t", 3, 7), 0);
	s = format(&m);
	assert_int_equal(count_prefix(s, "leadrouter_consumer_lag{"), 1);
	expect_line(s,
		    "leadrouter_consumer_lag{topic=\"t\",partition=\"3\"} 7");
	free(s);
	metrics_free(&m);
}

static void test_histogram(void **state)
{
	struct metrics m;
	char *s;

	(void)state;
	metrics_init(&m, "x");
	metrics_commit_observe(&m, 0.001);
	metrics_commit_observe(&m, 0.005); /* le is inclusive */
	metrics_commit_observe(&m, 0.2);
	metrics_commit_observe(&m, 30);
	s = format(&m);
	expect_line(s, "# TYPE leadrouter_commit_seconds histogram");
	expect_line(s, "leadrouter_commit_seconds_bucket{le=\"0.005\"} 2");
	expect_line(s, "leadrouter_commit_seconds_bucket{le=\"0.1\"} 2");
	expect_line(s, "leadrouter_commit_seconds_bucket{le=\"0.25\"} 3");
	expect_line(s, "leadrouter_commit_seconds_bucket{le=\"10\"} 3");
	expect_line(s, "leadrouter_commit_seconds_bucket{le=\"+Inf\"} 4");
	expect_line(s, "leadrouter_commit_seconds_sum 30.206");
	expect_line(s, "leadrouter_commit_seconds_count 4");
	free(s);
	metrics_free(&m);
}

static void test_mappings(void **state)
{
	(void)state;
	/* Every event reason code has its own DLQ series. */
	for (int r = EVENT_OK + 1; r < EVENT_REASON_COUNT; r++)
		if (metrics_dlq_reason(event_reason_code(
			    (enum event_reason)r)) == METRICS_DLQ_OTHER)
			fail_msg("event reason %s maps to \"other\"",
				 event_reason_code((enum event_reason)r));
	assert_int_equal(metrics_dlq_reason("bad_command"),
			 METRICS_DLQ_BAD_COMMAND);
	assert_int_equal(metrics_dlq_reason(NULL), METRICS_DLQ_OTHER);
	for (int s = ROUTE_NAMED_ACCOUNT; s <= ROUTE_OVERFLOW; s++)
		assert_int_not_equal(metrics_strategy_of(route_strategy_name(
					     (enum route_strategy)s)),
				     METRICS_STRATEGY_UNKNOWN);
	assert_int_equal(metrics_strategy_of("named_account"),
			 METRICS_STRATEGY_NAMED_ACCOUNT);
	assert_int_equal(metrics_strategy_of("nope"), METRICS_STRATEGY_UNKNOWN);
	assert_int_equal(metrics_strategy_of(NULL), METRICS_STRATEGY_UNKNOWN);
}

/* README.md lists each family as "| `name` | type |" and no other
 * leadrouter_ metric. */
static void test_docs_agree(void **state)
{
	FILE *f = fopen("../../README.md", "r");
	char line[1024], want[256];
	bool seen[METRICS_FAMILY_COUNT] = {false};

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		bool known = false;

		if (strncmp(line, "| `leadrouter_", 14) != 0)
			continue;
		for (int i = 0; i < METRICS_FAMILY_COUNT; i++) {
			snprintf(want, sizeof(want), "| `%s",
				 metrics_family_name((enum metrics_family)i));
			if (strncmp(line, want, strlen(want)) != 0 ||
			    (line[strlen(want)] != '`' &&
			     line[strlen(want)] != '{'))
				continue;
			snprintf(want, sizeof(want), "` | %s |",
				 metrics_family_type((enum metrics_family)i));
			if (strstr(line, want) == NULL)
				fail_msg("README.md: wrong type for %s",
					 metrics_family_name(
						 (enum metrics_family)i));
			seen[i] = known = true;
		}
		if (!known)
			fail_msg("README.md lists a metric the table "
				 "lacks: %s",
				 line);
	}
	fclose(f);
	for (int i = 0; i < METRICS_FAMILY_COUNT; i++)
		if (!seen[i])
			fail_msg("README.md does not list %s",
				 metrics_family_name((enum metrics_family)i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_lines),
		cmocka_unit_test(test_team_declared),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_consumer_lag),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_mappings),
		cmocka_unit_test(test_docs_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
