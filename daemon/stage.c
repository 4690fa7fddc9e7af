/*
 * stage.c - the per-record work of both stages.
 *
 * Stage 1 parses an event into a reused scratch struct, applies it to the
 * partition's lead table and, when the lead qualifies, hands the engine's
 * assign command to the producer without copying (RD_KAFKA_MSG_F_FREE).
 * Feedback updates the lead here and is forwarded unchanged, keyed by team,
 * to stage 2, which frees the rep's slot. Anything that cannot be processed
 * goes to the DLQ with its original bytes and the reason in headers; so
 * does an event or feedback dated further ahead of the wall clock than
 * process.event_time_max_ahead_days (the only clock read here: simulate,
 * which drives the same engine, reads none and applies no bound).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/config.h"
#include "../engine/lead.h"
#include "../engine/route.h"
#include "../producers/producer.h"
#include "feedback.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "stage.h"
#include "state.h"

#define STAGE_CMD_HDR "leadrouter.cmd"

static void stage_dlq(struct stage *sg, const rd_kafka_message_t *m,
		      const char *code, const char *msg)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	char part[16], off[24];
	struct producer_hdr h[5] = {
		{"reason", code, strlen(code)},
		{"message", msg, strlen(msg)},
		{"source.topic", topic, strlen(topic)},
		{"source.partition", part, 0},
		{"source.offset", off, 0},
	};

	h[3].len =
		(size_t)snprintf(part, sizeof(part), "%d", (int)m->partition);
	h[4].len = (size_t)snprintf(off, sizeof(off), "%lld",
				    (long long)m->offset);
	sg->metrics->dlq[metrics_dlq_reason(code)]++;
	log_debug("stage: %s [%d] offset %lld to the DLQ: %s", topic,
		  (int)m->partition, (long long)m->offset, code);
	producer_send(sg->prod, sg->topics.dlq, RD_KAFKA_PARTITION_UA, m->key,
		      m->key_len, m->payload, m->len, false, h, 5);
}

static void stage_assign_send(struct stage *sg, struct assign_cmd *cmd)
{
	static const struct producer_hdr h = {STAGE_CMD_HDR, "assign", 6};

	sg->metrics->mql++;
	sg->urgent = true;
	/* The producer takes cmd->json (freed on every path). */
	producer_send(sg->prod, sg->topics.assign, RD_KAFKA_PARTITION_UA,
		      cmd->team, strlen(cmd->team), cmd->json, cmd->len, true,
		      &h, 1);
	cmd->json = NULL;
}

/* An event or feedback time too far ahead of the wall clock (a device's
 * wrong clock) would advance the lead's clock, and the partition's expiry
 * clock with it, for good: refused, it touches neither. One vDSO clock
 * read per record, none when the bound is off. */
static int stage_time_check(const struct stage *sg, int64_t ts_ms,
			    struct event_error *err)
{
	int64_t max = sg->cfg->process.event_max_ahead_ms, now_ms;
	struct timespec now;

	if (max <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return event_time_check(ts_ms, now_ms, max, err);
}

/* The part is open (stage_record checked): state_lead_event_apply finds
 * its table. */
static void stage_event(struct stage *sg, const rd_kafka_message_t *m)
{
	struct event_error err;
	struct assign_cmd cmd = {0};
	struct lead *lead = NULL;
	enum lead_outcome out;

	if (event_parse(m->payload, m->len, &sg->ev, &err) < 0 ||
	    stage_time_check(sg, sg->ev.ts_ms, &err) < 0) {
		sg->metrics->events[METRICS_EVENT_REJECTED]++;
		stage_dlq(sg, m, event_reason_code(err.reason), err.msg);
		return;
	}
	out = state_lead_event_apply(sg->st, m->partition, &sg->cfg->engine,
				     &sg->ev, &lead, &cmd);
	if (out == LEAD_DUPLICATE) {
		sg->metrics->events[METRICS_EVENT_DUPLICATE]++;
		return;
	}
	sg->metrics->events[METRICS_EVENT_ACCEPTED]++;
	if (out == LEAD_QUALIFIED && cmd.json)
		stage_assign_send(sg, &cmd);
}

/* Forward feedback to the team's stage 2 (the original bytes). */
static void stage_feedback_forward(struct stage *sg,
				   const rd_kafka_message_t *m,
				   const struct feedback *fb)
{
	static const struct producer_hdr h = {STAGE_CMD_HDR, "feedback", 8};

	sg->urgent = true; /* a rejection re-routes the lead */
	producer_send(sg->prod, sg->topics.assign, RD_KAFKA_PARTITION_UA,
		      fb->team.p, fb->team.len, m->payload, m->len, false, &h,
		      1);
}

/* Feedback that names a handoff of another cycle than the lead's current
 * one is stale: a late "accepted" for cycle 1 must not close the lead's
 * cycle-2 handoff. Any attempt of the current cycle matches. Without a
 * handoff_id nothing can be told. */
static bool stage_feedback_stale(const struct lead *lead,
				 const struct feedback *fb)
{
	char id[48];

	if (lead == NULL || strv_empty(fb->handoff_id) ||
	    route_handoff_id_make(lead_key(lead), lead_cycle(lead), 1, id,
				  sizeof(id)) < 0)
		return false;
	return !route_handoff_id_same_cycle(fb->handoff_id, strv_from(id));
}

static bool stage_team_known(const struct stage *sg, struct strv team)
{
	char name[256];

	if (team.len >= sizeof(name))
		return false;
	memcpy(name, team.p, team.len);
	name[team.len] = '\0';
	return config_team_find(&sg->cfg->engine, name) != NULL;
}

static void stage_feedback(struct stage *sg, const rd_kafka_message_t *m,
			   struct lead_table *t)
{
	struct feedback fb;
	struct lead *lead;
	enum lead_lifecycle before;
	struct event_error err;
	const char *code;
	char msg[160];
	int64_t ts;

	sg->metrics->records[METRICS_INPUT_FEEDBACK]++;
	if (feedback_parse(m->payload, m->len, &fb, &code, msg, sizeof(msg)) <
	    0) {
		stage_dlq(sg, m, code, msg);
		return;
	}
	if (!strv_empty(fb.team) && !stage_team_known(sg, fb.team)) {
		stage_dlq(sg, m, "unknown_team",
			  "feedback names an unknown "
			  "team");
		return;
	}
	/* Without a timestamp the record's own time keeps replays exact. */
	ts = fb.ts_ms ? fb.ts_ms : rd_kafka_message_timestamp(m, NULL);
	if (stage_time_check(sg, ts, &err) < 0) {
		stage_dlq(sg, m, event_reason_code(err.reason), err.msg);
		return;
	}
	lead = lead_table_find(t, fb.lead);
	if (stage_feedback_stale(lead, &fb)) {
		sg->metrics->feedback[METRICS_OUTCOME_STALE]++;
		log_debug("stage: stale feedback (another cycle's handoff) on "
			  "%s [%d] at %lld",
			  sg->topics.feedback, (int)m->partition,
			  (long long)m->offset);
		return;
	}
	metrics_feedback_inc(sg->metrics, fb.outcome);
	before = lead ? lead_lifecycle_get(lead) : LEAD_LIFECYCLE_COUNT;
	if (lead_feedback_apply(&sg->cfg->engine, t, fb.lead, fb.outcome, ts) ==
	    0)
		state_lead_dirty(sg->st, m->partition, fb.lead);
	else
		log_debug("stage: feedback for an unknown lead on %s [%d]",
			  sg->topics.feedback, (int)m->partition);
	/* Only the first answer to an open handoff frees the rep's slot: a
	 * redelivered or stale record, or "rejected" after "accepted", must
	 * not free a second one (max_open counts unanswered handoffs). */
	if ((before == LEAD_HANDED_OFF || before == LEAD_MQL) &&
	    lead_lifecycle_get(lead) != before && !strv_empty(fb.team) &&
	    !strv_empty(fb.rep))
		stage_feedback_forward(sg, m, &fb);
}

static bool stage_is_feedback_cmd(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *val;
	size_t len;

	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	if (rd_kafka_header_get_last(hdrs, STAGE_CMD_HDR, &val, &len) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	return len == 8 && memcmp(val, "feedback", 8) == 0;
}

static void stage_handoff_send(struct stage *sg, struct handoff *ho)
{
	char topic[512];
	struct producer_hdr h[3] = {
		{"content-type", "application/json", 16},
		{"event-type", "leadrouter.handoff", 18},
		{"handoff-id", ho->handoff_id, strlen(ho->handoff_id)},
	};

	if (kafka_handoff_topic(sg->topics.handoff, ho->team, ho->rep_id, topic,
				sizeof(topic)) < 0) {
		free(ho->json);
		log_warnx("stage: handoff topic name too long");
		return;
	}
	sg->urgent = true;
	metrics_handoff_inc(
		sg->metrics, ho->team,
		metrics_strategy_of(route_strategy_name(ho->strategy)));
	producer_send(sg->prod, topic, RD_KAFKA_PARTITION_UA, ho->rep_id,
		      strlen(ho->rep_id), ho->json, ho->len, true, h, 3);
	ho->json = NULL;
}

static void stage_team_feedback(struct stage *sg, const rd_kafka_message_t *m,
				struct team_state *ts, const char *team)
{
	struct feedback fb;
	const char *code;
	char msg[160], rep[256];

	if (feedback_parse(m->payload, m->len, &fb, &code, msg, sizeof(msg)) <
		    0 ||
	    fb.rep.len >= sizeof(rep)) {
		stage_dlq(sg, m, "bad_command", "malformed feedback command");
		return;
	}
	memcpy(rep, fb.rep.p, fb.rep.len);
	rep[fb.rep.len] = '\0';
	if (team_state_feedback(ts, rep, fb.outcome) == 0)
		state_team_dirty(sg->st, m->partition, team);
	else
		log_debug("stage: feedback for an unknown rep of a team");
}

static void stage_command(struct stage *sg, const rd_kafka_message_t *m)
{
	char team[256], err[256];
	struct team_state *ts;
	struct handoff ho;

	sg->metrics->records[METRICS_INPUT_COMMANDS]++;
	if (m->key == NULL || m->key_len == 0 || m->key_len >= sizeof(team)) {
		stage_dlq(sg, m, "bad_command", "command without a team key");
		return;
	}
	memcpy(team, m->key, m->key_len);
	team[m->key_len] = '\0';
	ts = state_team_get(sg->st, m->partition, &sg->cfg->engine, team);
	if (ts == NULL) {
		stage_dlq(sg, m, "unknown_team", "command for an unknown team");
		return;
	}
	if (stage_is_feedback_cmd(m)) {
		stage_team_feedback(sg, m, ts, team);
		return;
	}
	memset(&ho, 0, sizeof(ho));
	if (route_assign_apply(&sg->cfg->engine, ts, m->payload, m->len, &ho,
			       err, sizeof(err)) < 0) {
		stage_dlq(sg, m, "bad_command", err);
		return;
	}
	state_team_dirty(sg->st, m->partition, team);
	stage_handoff_send(sg, &ho);
}

static struct lead_table *stage_leads(struct stage *sg,
				      const rd_kafka_message_t *m)
{
	if (!state_leads_open(sg->st, m->partition)) {
		log_warnx("stage: %s [%d] has no lead state",
			  rd_kafka_topic_name(m->rkt), (int)m->partition);
		return NULL;
	}
	return state_leads_table(sg->st, m->partition);
}

int stage_record(struct stage *sg, const rd_kafka_message_t *m)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	struct lead_table *t;

	if (strcmp(topic, sg->topics.assign) == 0) {
		if (!state_teams_is_open(sg->st, m->partition)) {
			log_warnx("stage: %s [%d] has no team state", topic,
				  (int)m->partition);
			return -1;
		}
		stage_command(sg, m);
		return 0;
	}
	if ((t = stage_leads(sg, m)) == NULL)
		return -1;
	if (strcmp(topic, sg->topics.feedback) == 0)
		stage_feedback(sg, m, t);
	else
		stage_event(sg, m);
	return 0;
}
