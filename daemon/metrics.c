/*
 * metrics.c - the counters' helpers and the Prometheus text exposition.
 *
 * Pure C with no libevent, Kafka or logging, so tests/unit/test_metrics.c
 * compiles this file directly and checks the exact text. Every series of a
 * bounded label set is written even at zero, so rate() and absent() work
 * from the first scrape on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static const char *const metrics_names[] = {
#define METRICS_X(id, name, type, help) [METRICS_##id] = name,
	METRICS_FAMILIES(METRICS_X)
#undef METRICS_X
};
static const char *const metrics_types[] = {
#define METRICS_X(id, name, type, help) [METRICS_##id] = type,
	METRICS_FAMILIES(METRICS_X)
#undef METRICS_X
};
static const char *const metrics_helps[] = {
#define METRICS_X(id, name, type, help) [METRICS_##id] = help,
	METRICS_FAMILIES(METRICS_X)
#undef METRICS_X
};

#define METRICS_X_VALUE(id, value) value,
static const char *const metrics_input_names[] = {
	METRICS_INPUTS(METRICS_X_VALUE)};
static const char *const metrics_event_names[] = {
	METRICS_EVENT_RESULTS(METRICS_X_VALUE)};
static const char *const metrics_dlq_names[] = {
	METRICS_DLQ_REASONS(METRICS_X_VALUE)};
static const char *const metrics_outcome_names[] = {
	METRICS_OUTCOMES(METRICS_X_VALUE)};
static const char *const metrics_strategy_names[] = {
	METRICS_STRATEGIES(METRICS_X_VALUE)};
static const char *const metrics_txn_names[] = {
	METRICS_TXN_RESULTS(METRICS_X_VALUE)};
#undef METRICS_X_VALUE

#define METRICS_X_BOUND(bound, label) bound,
static const double metrics_commit_bounds[] = {
	METRICS_COMMIT_BUCKETS(METRICS_X_BOUND)};
#undef METRICS_X_BOUND
#define METRICS_X_LABEL(bound, label) label,
static const char *const metrics_commit_labels[] = {
	METRICS_COMMIT_BUCKETS(METRICS_X_LABEL)};
#undef METRICS_X_LABEL

void metrics_init(struct metrics *m, const char *version)
{
	memset(m, 0, sizeof(*m));
	m->version = version;
}

void metrics_free(struct metrics *m)
{
	metrics_lag_clear(m);
	free(m->g.lag);
	m->g.lag = NULL;
	m->g.lag_cap = 0;
	for (size_t i = 0; i < m->nteams; i++)
		free(m->teams[i].name);
	free(m->teams);
	m->teams = NULL;
	m->nteams = m->teams_cap = 0;
}

const char *metrics_family_name(enum metrics_family f)
{
	return (unsigned)f < METRICS_FAMILY_COUNT ? metrics_names[f] : NULL;
}

const char *metrics_family_type(enum metrics_family f)
{
	return (unsigned)f < METRICS_FAMILY_COUNT ? metrics_types[f] : NULL;
}

const char *metrics_family_help(enum metrics_family f)
{
	return (unsigned)f < METRICS_FAMILY_COUNT ? metrics_helps[f] : NULL;
}

static int metrics_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

enum metrics_dlq_reason metrics_dlq_reason(const char *code)
{
	int i = metrics_lookup(metrics_dlq_names, METRICS_DLQ_COUNT, code);

	return i < 0 ? METRICS_DLQ_OTHER : (enum metrics_dlq_reason)i;
}

/* Feedback reaches here only with an outcome feedback_parse accepted, so
 * there is no "other" series that would always read 0. */
void metrics_feedback_inc(struct metrics *m, const char *outcome)
{
	int i = metrics_lookup(metrics_outcome_names, METRICS_OUTCOME_COUNT,
			       outcome);

	if (i >= 0)
		m->feedback[i]++;
}

/* name is route_strategy_name()'s: the strings are the same on purpose, so
 * the metric's label reads like the handoff's routing.strategy. */
enum metrics_strategy metrics_strategy_of(const char *name)
{
	for (int s = 0; s < METRICS_STRATEGY_UNKNOWN; s++)
		if (name != NULL &&
		    strcmp(name, metrics_strategy_names[s]) == 0)
			return (enum metrics_strategy)s;
	return METRICS_STRATEGY_UNKNOWN;
}

static struct metrics_team *metrics_team(struct metrics *m, const char *team)
{
	struct metrics_team *t;

	if (m->last_team < m->nteams &&
	    strcmp(m->teams[m->last_team].name, team) == 0)
		return &m->teams[m->last_team];
	for (size_t i = 0; i < m->nteams; i++)
		if (strcmp(m->teams[i].name, team) == 0) {
			m->last_team = i;
			return &m->teams[i];
		}
	if (m->nteams == m->teams_cap) {
		size_t cap = m->teams_cap ? m->teams_cap * 2 : 8;

		t = realloc(m->teams, cap * sizeof(*t));
		if (t == NULL)
			return NULL;
		m->teams = t;
		m->teams_cap = cap;
	}
	t = &m->teams[m->nteams];
	memset(t, 0, sizeof(*t));
	if ((t->name = strdup(team)) == NULL)
		return NULL;
	m->last_team = m->nteams++;
	return t;
}

/* A configured team's handoff series exist, at 0, before its first
 * handoff: an alert on a team that never got one sees 0, not no data. */
int metrics_team_declare(struct metrics *m, const char *team)
{
	return metrics_team(m, team) ? 0 : -1;
}

void metrics_handoff_inc(struct metrics *m, const char *team,
			 enum metrics_strategy s)
{
	struct metrics_team *t = metrics_team(m, team ? team : "");

	if (t != NULL && (unsigned)s < METRICS_STRATEGY_COUNT)
		t->handoffs[s]++;
}

void metrics_commit_observe(struct metrics *m, double seconds)
{
	for (int i = 0; i < METRICS_COMMIT_NBUCKETS; i++)
		if (seconds <= metrics_commit_bounds[i]) {
			m->commit.buckets[i]++;
			break;
		}
	m->commit.count++;
	m->commit.sum += seconds;
}

int64_t metrics_lag_of(int64_t end, int64_t position)
{
	if (end < 0 || position < 0)
		return -1;
	return end > position ? end - position : 0;
}

void metrics_lag_clear(struct metrics *m)
{
	for (size_t i = 0; i < m->g.nlag; i++)
		free(m->g.lag[i].topic);
	m->g.nlag = 0;
}

int metrics_lag_add(struct metrics *m, const char *topic, int32_t partition,
		    uint64_t lag)
{
	struct metrics_lag *l;

	if (m->g.nlag == m->g.lag_cap) {
		size_t cap = m->g.lag_cap ? m->g.lag_cap * 2 : 16;

		l = realloc(m->g.lag, cap * sizeof(*l));
		if (l == NULL)
			return -1;
		m->g.lag = l;
		m->g.lag_cap = cap;
	}
	l = &m->g.lag[m->g.nlag];
	if ((l->topic = strdup(topic ? topic : "")) == NULL)
		return -1;
	l->partition = partition;
	l->lag = lag;
	m->g.nlag++;
	return 0;
}

int64_t metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t metrics_sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

uint64_t metrics_events(const struct metrics *m)
{
	return metrics_sum(m->events, METRICS_EVENT_COUNT);
}

uint64_t metrics_dlq(const struct metrics *m)
{
	return metrics_sum(m->dlq, METRICS_DLQ_COUNT);
}

uint64_t metrics_handoffs(const struct metrics *m)
{
	uint64_t s = 0;

	for (size_t i = 0; i < m->nteams; i++)
		s += metrics_sum(m->teams[i].handoffs, METRICS_STRATEGY_COUNT);
	return s;
}

/* Label values: backslash, double quote and line feed are escaped. */
static void metrics_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '"':
			fputs("\\\"", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* HELP text: backslash and line feed are escaped (quotes are not). */
static void metrics_help(FILE *f, enum metrics_family fam)
{
	fprintf(f, "# HELP %s ", metrics_names[fam]);
	for (const char *s = metrics_helps[fam]; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", metrics_names[fam], metrics_types[fam]);
}

static void metrics_plain(FILE *f, enum metrics_family fam, uint64_t v)
{
	fprintf(f, "%s %llu\n", metrics_names[fam], (unsigned long long)v);
}

/* One series per value of a bounded label set. */
static void metrics_labelled(FILE *f, enum metrics_family fam,
			     const char *label, const char *const *values,
			     const uint64_t *v, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s{%s=\"", metrics_names[fam], label);
		metrics_label_value(f, values[i]);
		fprintf(f, "\"} %llu\n", (unsigned long long)v[i]);
	}
}

static void metrics_handoff_series(FILE *f, const struct metrics *m)
{
	for (size_t i = 0; i < m->nteams; i++)
		for (int s = 0; s < METRICS_STRATEGY_COUNT; s++) {
			fprintf(f, "%s{team=\"",
				metrics_names[METRICS_HANDOFFS]);
			metrics_label_value(f, m->teams[i].name);
			fprintf(f, "\",strategy=\"%s\"} %llu\n",
				metrics_strategy_names[s],
				(unsigned long long)m->teams[i].handoffs[s]);
		}
}

static void metrics_histogram_series(FILE *f, enum metrics_family fam,
				     const struct metrics_histogram *h)
{
	uint64_t cum = 0;

	for (int i = 0; i < METRICS_COMMIT_NBUCKETS; i++) {
		cum += h->buckets[i];
		fprintf(f, "%s_bucket{le=\"%s\"} %llu\n", metrics_names[fam],
			metrics_commit_labels[i], (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", metrics_names[fam],
		(unsigned long long)h->count);
	fprintf(f, "%s_sum %.9g\n", metrics_names[fam], h->sum);
	fprintf(f, "%s_count %llu\n", metrics_names[fam],
		(unsigned long long)h->count);
}

static void metrics_lag_series(FILE *f, const struct metrics *m)
{
	for (size_t i = 0; i < m->g.nlag; i++) {
		fprintf(f, "%s{topic=\"", metrics_names[METRICS_CONSUMER_LAG]);
		metrics_label_value(f, m->g.lag[i].topic);
		fprintf(f, "\",partition=\"%d\"} %llu\n",
			(int)m->g.lag[i].partition,
			(unsigned long long)m->g.lag[i].lag);
	}
}

static void metrics_records_series(FILE *f, const struct metrics *m)
{
	uint64_t v[METRICS_INPUT_COUNT];

	memcpy(v, m->records, sizeof(v));
	v[METRICS_INPUT_EVENTS] = metrics_events(m);
	metrics_labelled(f, METRICS_RECORDS, "input", metrics_input_names, v,
			 METRICS_INPUT_COUNT);
}

/* The samples of one family; a short switch, one helper per shape. */
static void metrics_family(FILE *f, const struct metrics *m,
			   enum metrics_family fam)
{
	const struct metrics_gauges *g = &m->g;

	switch (fam) {
	case METRICS_UP:
		metrics_plain(f, fam, g->up);
		break;
	case METRICS_READY:
		metrics_plain(f, fam, g->ready);
		break;
	case METRICS_BUILD_INFO:
		fprintf(f, "%s{version=\"", metrics_names[fam]);
		metrics_label_value(f, m->version ? m->version : "");
		fputs("\"} 1\n", f);
		break;
	case METRICS_RECORDS:
		metrics_records_series(f, m);
		break;
	case METRICS_EVENTS:
		metrics_labelled(f, fam, "result", metrics_event_names,
				 m->events, METRICS_EVENT_COUNT);
		break;
	case METRICS_DLQ:
		metrics_labelled(f, fam, "reason", metrics_dlq_names, m->dlq,
				 METRICS_DLQ_COUNT);
		break;
	case METRICS_MQL:
		metrics_plain(f, fam, m->mql);
		break;
	case METRICS_HANDOFFS:
		metrics_handoff_series(f, m);
		break;
	case METRICS_FEEDBACK:
		metrics_labelled(f, fam, "outcome", metrics_outcome_names,
				 m->feedback, METRICS_OUTCOME_COUNT);
		break;
	case METRICS_TRANSACTIONS:
		metrics_labelled(f, fam, "result", metrics_txn_names, m->txns,
				 METRICS_TXN_COUNT);
		break;
	case METRICS_COMMIT_SECONDS:
		metrics_histogram_series(f, fam, &m->commit);
		break;
	case METRICS_EXPIRED:
		metrics_plain(f, fam, m->expired);
		break;
	case METRICS_RESTORE_RECORDS:
		metrics_plain(f, fam, m->restore_records);
		break;
	case METRICS_TRAITS_DROPPED:
		metrics_plain(f, fam, m->g.traits_dropped);
		break;
	case METRICS_LEADS:
		metrics_plain(f, fam, g->leads);
		break;
	case METRICS_TEAMS:
		metrics_plain(f, fam, g->teams);
		break;
	case METRICS_LEAD_STATE_BYTES:
		metrics_plain(f, fam, g->lead_state_bytes);
		break;
	case METRICS_PARTITIONS:
		metrics_plain(f, fam, g->partitions);
		break;
	case METRICS_CONSUMER_LAG:
		metrics_lag_series(f, m);
		break;
	case METRICS_PRODUCED:
		metrics_plain(f, fam, g->produced);
		break;
	case METRICS_DELIVERY_ERRORS:
		metrics_plain(f, fam, g->delivery_errors);
		break;
	case METRICS_FAMILY_COUNT:
		break;
	}
}

char *metrics_format(const struct metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (f == NULL)
		return NULL;
	for (int fam = 0; fam < METRICS_FAMILY_COUNT; fam++) {
		metrics_help(f, (enum metrics_family)fam);
		metrics_family(f, m, (enum metrics_family)fam);
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
