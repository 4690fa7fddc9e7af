/*
 * test_lead.c - the lead as a whole: lifecycle and qualification, the
 * assign command, feedback and new cycles, dedupe, the changelog round
 * trip, expiry and the table itself.
 */
#include <jansson.h>
#include <math.h>

#include "testutil.h"

#include "../../engine/lead_internal.h"
#include "../../engine/route.h"
#include "lead_fixture.h"

struct lfx {
	struct fx_config f;
	struct lead_table *t;
	struct assign_cmd cmd;
};

static int setup(void **state)
{
	struct lfx *s = calloc(1, sizeof(*s));

	fx_config_init(&s->f);
	s->t = lead_table_new();
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct lfx *s = *state;

	free(s->cmd.json);
	lead_table_free(s->t);
	free(s);
	return 0;
}

static enum lead_outcome apply_t(struct lfx *s, struct lead_table *t,
				 struct event *ev)
{
	free(s->cmd.json);
	s->cmd.json = NULL;
	return lead_event_apply(&s->f.cfg, t, ev, NULL, &s->cmd);
}

static enum lead_outcome apply(struct lfx *s, struct event *ev)
{
	return apply_t(s, s->t, ev);
}

static struct lead *get(struct lfx *s, const char *key)
{
	struct lead *l = lead_table_find(s->t, strv_from(key));

	assert_non_null(l);
	return l;
}

/* identify u1 as a grade-A lead in EMEA (1 point from rule "any") */
static enum lead_outcome identify_good(struct lfx *s, const char *key,
				       const char *email, int64_t ts)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, key, ts);

	fx_identify(ev, key, email);
	fx_trait_str(ev, "title", "VP Marketing");
	fx_trait_num(ev, "employees", "250");
	fx_trait_str(ev, "country", "DE");
	fx_trait_str(ev, "company.name", "Acme \"Rockets\"\n");
	return apply(s, ev);
}

static enum lead_outcome demo(struct lfx *s, const char *key, int64_t ts)
{
	struct event *ev = fx_event(EVENT_TRACK, key, ts);

	ev->name = strv_from("Demo Requested");
	return apply(s, ev);
}

static enum lead_outcome pricing(struct lfx *s, const char *key, int64_t ts,
				 const char *msg_id)
{
	struct event *ev = fx_event(EVENT_PAGE, key, ts);

	ev->path = strv_from("/pricing");
	ev->message_id = strv_from(msg_id);
	return apply(s, ev);
}

/* identify (1) + demo (41) + pricing (11) = 53 >= 50 at T0 */
static void qualify_u1(struct lfx *s, int64_t ts)
{
	assert_int_equal(identify_good(s, "u1", "jo@Acme.com", ts),
			 LEAD_UPDATED);
	assert_int_equal(demo(s, "u1", ts), LEAD_UPDATED);
	assert_int_equal(pricing(s, "u1", ts, NULL), LEAD_QUALIFIED);
}

static void test_lifecycle_anonymous_to_known(void **state)
{
	struct lfx *s = *state;
	struct event *ev = fx_event(EVENT_PAGE, "anon-1", T0);

	apply(s, ev);
	assert_int_equal(lead_lifecycle_get(get(s, "anon-1")), LEAD_ANONYMOUS);
	ev = fx_event(EVENT_TRACK, "anon-1", T0);
	ev->user_id = strv_from("u9");
	apply(s, ev);
	assert_int_equal(lead_lifecycle_get(get(s, "anon-1")), LEAD_KNOWN);
	assert_string_equal(lead_lifecycle_name(LEAD_HANDED_OFF), "handed_off");
}

/* An e-mail of only white space identifies nobody, as an empty one. */
static void test_lifecycle_blank_email_stays_anonymous(void **state)
{
	struct lfx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "anon-2", T0);

	ev->email = strv_from(" \t\r\n");
	apply(s, ev);
	assert_int_equal(lead_lifecycle_get(get(s, "anon-2")), LEAD_ANONYMOUS);
	ev = fx_event(EVENT_IDENTIFY, "anon-2", T0);
	ev->email = strv_from(" jo@acme.com ");
	apply(s, ev);
	assert_int_equal(lead_lifecycle_get(get(s, "anon-2")), LEAD_KNOWN);
}

static void test_qualifies_once_per_cycle(void **state)
{
	struct lfx *s = *state;

	qualify_u1(s, T0);
	assert_non_null(s->cmd.json);
	assert_string_equal(s->cmd.team, "team-emea");
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_HANDED_OFF);
	assert_int_equal(pricing(s, "u1", T0 + 1, NULL), LEAD_UPDATED);
	assert_null(s->cmd.json);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_HANDED_OFF);
}

static void test_assign_json(void **state)
{
	struct lfx *s = *state;
	json_t *o, *r, *tr;
	json_error_t err;

	qualify_u1(s, T0);
	o = json_loadb(s->cmd.json, s->cmd.len, 0, &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
			    "assign");
	assert_string_equal(json_string_value(json_object_get(o, "lead")),
			    "u1");
	assert_int_equal(json_integer_value(json_object_get(o, "cycle")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "team")),
			    "team-emea");
	tr = json_object_get(o, "territory");
	assert_string_equal(json_string_value(json_object_get(tr, "rule")),
			    "emea");
	assert_non_null(json_string_value(json_object_get(tr, "reason")));
	assert_string_equal(
		json_string_value(json_object_get(o, "qualified_at")),
		"2026-03-02T10:00:00.000Z");
	assert_int_equal(
		json_integer_value(json_object_get(o, "qualified_at_ms")), T0);
	assert_float_equal(json_number_value(json_object_get(o, "score")), 53,
			   1e-9);
	assert_string_equal(json_string_value(json_object_get(o, "grade")),
			    "A");
	assert_string_equal(
		json_string_value(json_object_get(o, "email_domain")),
		"acme.com");
	assert_true(json_is_null(json_object_get(o, "group_id")));
	tr = json_object_get(o, "traits");
	assert_string_equal(json_string_value(json_object_get(tr, "email")),
			    "jo@Acme.com");
	assert_string_equal(
		json_string_value(json_object_get(tr, "company.name")),
		"Acme \"Rockets\"\n");
	assert_int_equal(json_integer_value(json_object_get(tr, "employees")),
			 250);
	r = json_object_get(json_object_get(o, "reasons"), "score");
	assert_int_equal(json_array_size(r), 3); /* pricing, demo, any */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(r, 1), "rule")),
			    "demo");
	assert_float_equal(json_number_value(json_object_get(
				   json_array_get(r, 1), "points")),
			   40, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(r, 2), "matches")),
			 3);
	r = json_object_get(json_object_get(o, "reasons"), "grade");
	assert_int_equal(json_array_size(r), 2); /* senior, size */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(r, 0), "rule")),
			    "senior");
	json_decref(o);
}

/* A trait integer wider than int64 is shown as the number it is, not
 * clamped to INT64_MAX by strtoll. */
/* An e-mail whose domain ends in the root's dot names the same domain:
 * the assign command's email_domain (what named accounts match) is
 * "acme.com", not "acme.com.". */
static void test_assign_email_domain_trailing_dot(void **state)
{
	struct lfx *s = *state;
	json_t *o;

	assert_int_equal(identify_good(s, "u1", "jo@Acme.com.", T0),
			 LEAD_UPDATED);
	assert_int_equal(demo(s, "u1", T0), LEAD_UPDATED);
	assert_int_equal(pricing(s, "u1", T0, NULL), LEAD_QUALIFIED);
	o = json_loadb(s->cmd.json, s->cmd.len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(
		json_string_value(json_object_get(o, "email_domain")),
		"acme.com");
	json_decref(o);
}

static void test_assign_wide_integer_trait(void **state)
{
	struct lfx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	json_t *o, *v;

	ev->user_id = strv_from("u1");
	fx_trait_num(ev, "revenue", "123456789012345678901");
	fx_trait_num(ev, "seats", "-42");
	apply(s, ev);
	qualify_u1(s, T0);
	o = json_loadb(s->cmd.json, s->cmd.len, 0, NULL);
	assert_non_null(o);
	v = json_object_get(json_object_get(o, "traits"), "revenue");
	assert_true(json_is_real(v));
	assert_float_equal(json_real_value(v), 1.2345678901234568e20, 1e6);
	v = json_object_get(json_object_get(o, "traits"), "seats");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), -42);
	json_decref(o);
}

static void test_fallback_territory_and_group(void **state)
{
	struct lfx *s = *state;
	struct event *ev = fx_event(EVENT_GROUP, "u2", T0);
	json_t *o;

	ev->user_id = strv_from("u2");
	ev->group_id = strv_from("acct-42");
	fx_trait_str(ev, "title", "Director");
	fx_trait_num(ev, "employees", "300");
	fx_trait_str(ev, "email", "x@corp.example");
	ev->email = strv_from("x@corp.example");
	apply(s, ev);
	demo(s, "u2", T0);
	assert_int_equal(pricing(s, "u2", T0, NULL), LEAD_QUALIFIED);
	assert_string_equal(s->cmd.team, "smb");
	o = json_loads(s->cmd.json, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(o, "territory"), "rule")),
			    "fallback");
	assert_string_equal(json_string_value(json_object_get(o, "group_id")),
			    "acct-42");
	assert_null(json_object_get(json_object_get(o, "traits"), "group_id"));
	json_decref(o);
}

/* The handoff's account is the groupId alone; an identify trait named
 * group_id shows among the traits, and neither hides the other. */
static void test_assign_group_id_trait_apart(void **state)
{
	struct lfx *s = *state;
	struct event *ev;
	json_t *o;

	/* no groupId ever: group_id null, though a trait says otherwise */
	ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	fx_trait_str(ev, "group_id", "crm-9");
	apply(s, ev);
	qualify_u1(s, T0);
	o = json_loads(s->cmd.json, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "group_id")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(o, "traits"), "group_id")),
			    "crm-9");
	json_decref(o);
	/* a groupId, then an identify trait group_id: both kept apart */
	ev = fx_event(EVENT_GROUP, "u2", T0);
	ev->group_id = strv_from("acct-42");
	apply(s, ev);
	ev = fx_event(EVENT_IDENTIFY, "u2", T0);
	fx_trait_str(ev, "group_id", "crm-legacy-77");
	apply(s, ev);
	assert_int_equal(identify_good(s, "u2", "jo@acme.com", T0),
			 LEAD_UPDATED);
	demo(s, "u2", T0);
	assert_int_equal(pricing(s, "u2", T0, NULL), LEAD_QUALIFIED);
	o = json_loads(s->cmd.json, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "group_id")),
			    "acct-42");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(o, "traits"), "group_id")),
			    "crm-legacy-77");
	json_decref(o);
}

/* A lead whose traits are full qualifies once an identify brings the
 * required e-mail, keeping the title and size it is graded on. */
static void test_full_traits_gain_required_email(void **state)
{
	struct lfx *s = *state;
	struct event *ev = fx_event(EVENT_IDENTIFY, "u1", T0);
	char names[30][8], val[86];
	json_t *o;

	assert_int_equal(fit_wanted_build(&s->f.cfg), 0);
	/* 35 bytes, then 22 of 91: 11 bytes free, too few for the e-mail */
	memset(val, 'x', 85);
	val[85] = '\0';
	ev->user_id = strv_from("u1");
	fx_trait_str(ev, "title", "VP Marketing");
	fx_trait_num(ev, "employees", "250");
	for (int i = 0; i < 30; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02u",
			 (unsigned)i % 100u);
		fx_trait_str(ev, names[i], val);
	}
	apply(s, ev);
	demo(s, "u1", T0);
	assert_int_equal(pricing(s, "u1", T0, NULL), LEAD_UPDATED); /* email */
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_identify(ev, "u1", "jo@acme.com");
	assert_int_equal(apply(s, ev), LEAD_QUALIFIED);
	o = json_loads(s->cmd.json, 0, NULL);
	assert_string_equal(
		json_string_value(json_object_get(o, "email_domain")),
		"acme.com");
	assert_string_equal(json_string_value(json_object_get(o, "grade")),
			    "A");
	assert_null(json_object_get(json_object_get(o, "traits"), "f00"));
	json_decref(o);
	assert_true(lead_table_traits_dropped(s->t) > 0);
	fit_wanted_free(&s->f.cfg.fit);
}

static void test_not_qualified(void **state)
{
	struct lfx *s = *state;
	struct event *ev;

	/* required trait e-mail missing */
	ev = fx_event(EVENT_IDENTIFY, "k1", T0);
	ev->user_id = strv_from("k1");
	fx_trait_str(ev, "title", "VP");
	fx_trait_num(ev, "employees", "900");
	apply(s, ev);
	demo(s, "k1", T0);
	assert_int_equal(pricing(s, "k1", T0, NULL), LEAD_UPDATED);
	assert_int_equal(lead_lifecycle_get(get(s, "k1")), LEAD_KNOWN);
	/* grade C below min grade B */
	ev = fx_event(EVENT_IDENTIFY, "k2", T0);
	fx_identify(ev, "k2", "k2@corp.example");
	fx_trait_str(ev, "industry", "software");
	apply(s, ev);
	demo(s, "k2", T0);
	assert_int_equal(pricing(s, "k2", T0, NULL), LEAD_UPDATED);
	assert_int_equal(lead_grade(get(s, "k2")), 'C');
	/* disqualified: freemail */
	assert_int_equal(identify_good(s, "k3", "k3@gmail.com", T0),
			 LEAD_UPDATED);
	demo(s, "k3", T0);
	assert_int_equal(pricing(s, "k3", T0, NULL), LEAD_UPDATED);
	/* score below threshold */
	identify_good(s, "k4", "k4@corp.example", T0);
	assert_int_equal(pricing(s, "k4", T0, NULL), LEAD_UPDATED);
	/* ... until it reaches it */
	assert_int_equal(demo(s, "k4", T0), LEAD_QUALIFIED);
}

enum qual_step { QS_TITLE, QS_SCORE, QS_EMAIL };

/* One step towards qualification for lead key, applied without asking for
 * an assign command: the lead is scored and graded but never handed off,
 * so the check can be asked about a lead that qualifies. */
static void qual_step(struct lfx *s, const char *key, enum qual_step step,
		      const char *val)
{
	struct event *ev = fx_event(EVENT_IDENTIFY, key, T0);

	ev->user_id = strv_from(key);
	if (step == QS_TITLE) {
		fx_trait_str(ev, "title", val);
	} else if (step == QS_SCORE) {
		ev->type = EVENT_TRACK;
		ev->name = strv_from("Demo Requested");
		lead_event_apply(&s->f.cfg, s->t, ev, NULL, NULL);
		ev = fx_event(EVENT_PAGE, key, T0);
		ev->user_id = strv_from(key);
		ev->path = strv_from("/pricing");
	} else {
		fx_identify(ev, key, val);
	}
	assert_int_equal(lead_event_apply(&s->f.cfg, s->t, ev, NULL, NULL),
			 LEAD_UPDATED);
}

static enum lead_qual qual_of(struct lfx *s, const char *key)
{
	return lead_qual_check(&s->f.cfg, get(s, key));
}

/* Each reason, the first failing check winning: a "Student" (disqualified
 * by title) fails every check, yet is reported as disqualified; a lead
 * that fixes one check at a time walks the reasons in the order
 * qualification applies them. */
static void test_qual_check_order(void **state)
{
	struct lfx *s = *state;

	/* title disqualifies; grade D, score 1, no e-mail as well */
	qual_step(s, "q1", QS_TITLE, "Student");
	assert_int_equal(lead_disq_get(get(s, "q1")), LEAD_DISQ_TITLE);
	assert_int_equal(qual_of(s, "q1"), LEAD_QUAL_DISQUALIFIED);
	/* not disqualified: grade D under min B comes first */
	qual_step(s, "q2", QS_TITLE, "Analyst");
	assert_int_equal(lead_grade(get(s, "q2")), 'D');
	assert_int_equal(qual_of(s, "q2"), LEAD_QUAL_GRADE);
	/* grade B (VP, 20 points): the score of 2, then the e-mail */
	qual_step(s, "q2", QS_TITLE, "VP Sales");
	assert_int_equal(lead_grade(get(s, "q2")), 'B');
	assert_int_equal(qual_of(s, "q2"), LEAD_QUAL_THRESHOLD);
	/* 2 + 41 + 11 = 54 points: only the required e-mail is missing */
	qual_step(s, "q2", QS_SCORE, NULL);
	assert_true(lead_score_at(&s->f.cfg, get(s, "q2"), T0) >= 50);
	assert_int_equal(qual_of(s, "q2"), LEAD_QUAL_TRAIT);
	/* all checks pass; with no command asked for it stays in nurture */
	qual_step(s, "q2", QS_EMAIL, "q2@corp.example");
	assert_int_equal(qual_of(s, "q2"), LEAD_QUAL_OK);
	assert_int_equal(lead_lifecycle_get(get(s, "q2")), LEAD_KNOWN);

	assert_string_equal(lead_qual_name(LEAD_QUAL_OK), "qualified");
	assert_string_equal(lead_qual_name(LEAD_QUAL_DISQUALIFIED),
			    "disqualified");
	assert_string_equal(lead_qual_name(LEAD_QUAL_GRADE), "grade_below_min");
	assert_string_equal(lead_qual_name(LEAD_QUAL_THRESHOLD),
			    "below_threshold");
	assert_string_equal(lead_qual_name(LEAD_QUAL_TRAIT), "missing_trait");
	assert_string_equal(lead_qual_name(LEAD_QUAL_COUNT), "unknown");
}

/* The check is the qualification itself: the event that finds it OK hands
 * the lead off, and from then on (accepted, converted) it is handed_off
 * whatever its score, until a rejection sends it back to nurture, where
 * its cleared score is the reason again. */
static void test_qual_check_lifecycle(void **state)
{
	struct lfx *s = *state;
	struct strv k = strv_from("u1");

	assert_int_equal(identify_good(s, "u1", "jo@acme.com", T0),
			 LEAD_UPDATED);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_THRESHOLD);
	assert_int_equal(demo(s, "u1", T0), LEAD_UPDATED);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_THRESHOLD);
	assert_int_equal(pricing(s, "u1", T0, NULL), LEAD_QUALIFIED);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_HANDED_OFF);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "accepted", T0), 0);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_HANDED_OFF);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "rejected", T0), 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_KNOWN);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_THRESHOLD);
	qualify_u1(s, T0 + 1);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "converted", T0 + 1),
		0);
	assert_int_equal(qual_of(s, "u1"), LEAD_QUAL_HANDED_OFF);
}

/* A track event by userId key, "Demo Requested", then a pricing page
 * (52 points), neither with traits; group, if not NULL, is the first
 * event's context.groupId (a hidden trait). The second event's outcome. */
static enum lead_outcome traitless_to_mql(struct lfx *s,
					  const struct engine_config *cfg,
					  const char *key, const char *group)
{
	struct event *ev = fx_event(EVENT_TRACK, key, T0);

	ev->user_id = strv_from(key);
	ev->name = strv_from("Demo Requested");
	ev->message_id = strv_from("tl-1");
	if (group)
		ev->group_id = strv_from(group);
	assert_int_equal(lead_event_apply(cfg, s->t, ev, NULL, NULL),
			 LEAD_UPDATED);
	ev = fx_event(EVENT_PAGE, key, T0 + 1);
	ev->user_id = strv_from(key);
	ev->path = strv_from("/pricing");
	ev->message_id = strv_from("tl-2");
	free(s->cmd.json);
	s->cmd.json = NULL;
	return lead_event_apply(cfg, s->t, ev, NULL, &s->cmd);
}

/* A lead without traits is graded as one with 0 fit points (the README's
 * "set min_grade to D if you do not grade"): min_grade and the required
 * traits alone decide, exactly as for a lead whose one trait is a hidden
 * groupId, and the handoff says why it has its grade. */
static void test_traitless_lead_graded_as_zero_points(void **state)
{
	struct lfx *s = *state;
	struct engine_config cfg = s->f.cfg;
	static const char old[] =
		"{\"v\":2,\"last_ms\":0,\"cycle\":1,\"life\":\"known\","
		"\"grade\":null,\"disq\":\"none\",\"flags\":1,"
		"\"ring_pos\":0,\"ring\":[\"0\",\"0\",\"0\",\"0\"],"
		"\"score\":0.0,\"rules\":[],\"traits\":[]}";
	json_t *o, *g;

	cfg.qualify.nrequired = 0;
	cfg.qualify.min_grade = 'D';
	assert_int_equal(traitless_to_mql(s, &cfg, "t1", NULL), LEAD_QUALIFIED);
	assert_int_equal(lead_grade(get(s, "t1")), GRADE_NONE);
	o = json_loadb(s->cmd.json, s->cmd.len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "grade")),
			    "D");
	g = json_object_get(json_object_get(o, "reasons"), "grade");
	assert_int_equal(json_array_size(g), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(g, 0), "reason")),
			    "no traits: graded as 0 fit points");
	json_decref(o);
	assert_int_equal(traitless_to_mql(s, &cfg, "t2", "acct-1"),
			 LEAD_QUALIFIED);
	/* its groupId is kept as a hidden entry, which is no trait: graded
	 * and explained as a lead without traits */
	assert_int_equal(lead_grade(get(s, "t2")), GRADE_NONE);
	o = json_loadb(s->cmd.json, s->cmd.len, 0, NULL);
	assert_non_null(o);
	g = json_object_get(json_object_get(o, "reasons"), "grade");
	assert_int_equal(json_array_size(g), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(g, 0), "rule")),
			    "(no traits)");
	json_decref(o);
	/* an old record of a lead without traits (grade null) decodes and
	 * qualifies the same */
	assert_int_equal(
		lead_decode(&cfg, s->t, strv_from("t3"), old, strlen(old)), 0);
	assert_int_equal(traitless_to_mql(s, &cfg, "t3", NULL), LEAD_QUALIFIED);

	/* min C: 0 points is D under these bands, with or without a group */
	cfg.qualify.min_grade = 'C';
	assert_int_equal(traitless_to_mql(s, &cfg, "t4", NULL), LEAD_UPDATED);
	assert_int_equal(traitless_to_mql(s, &cfg, "t5", "acct-1"),
			 LEAD_UPDATED);
	assert_int_equal(lead_lifecycle_get(get(s, "t4")), LEAD_KNOWN);
	/* ... and C where the bands make 0 points a C, prepared or not */
	cfg.fit.grade_c = 0;
	assert_int_equal(traitless_to_mql(s, &cfg, "t6", NULL), LEAD_QUALIFIED);
	fit_config_prepare(&cfg.fit);
	assert_int_equal(traitless_to_mql(s, &cfg, "t7", NULL), LEAD_QUALIFIED);
	cfg.fit.grade_c = 10;
	fit_config_prepare(&cfg.fit);
	assert_int_equal(traitless_to_mql(s, &cfg, "t8", NULL), LEAD_UPDATED);

	/* required traits still decide: no e-mail, no MQL at min D */
	cfg.qualify = s->f.cfg.qualify;
	cfg.qualify.min_grade = 'D';
	assert_int_equal(traitless_to_mql(s, &cfg, "t9", NULL), LEAD_UPDATED);
}

static void test_rejected_requalifies_in_new_cycle(void **state)
{
	struct lfx *s = *state;
	struct event *ev;
	json_t *o;

	qualify_u1(s, T0);
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t, strv_from("u1"),
					     "accepted", T0 + HOUR),
			 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_ACCEPTED);
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t, strv_from("u1"),
					     "rejected", T0 + HOUR),
			 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_KNOWN);
	assert_float_equal(lead_score_at(&s->f.cfg, get(s, "u1"), T0 + HOUR), 0,
			   0);
	/* redelivered feedback does not start another cycle */
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t, strv_from("u1"),
					     "rejected", T0 + HOUR),
			 0);
	/* caps were reset: the demo counts again */
	ev = fx_event(EVENT_TRACK, "u1", T0 + HOUR);
	ev->name = strv_from("Demo Requested");
	assert_int_equal(apply(s, ev), LEAD_UPDATED);
	assert_int_equal(pricing(s, "u1", T0 + HOUR, "m1"), LEAD_QUALIFIED);
	o = json_loads(s->cmd.json, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "cycle")), 2);
	json_decref(o);
}

static void test_recycled_and_converted(void **state)
{
	struct lfx *s = *state;
	struct strv k = strv_from("u1");

	qualify_u1(s, T0);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "converted", T0), 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_CONVERTED);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "accepted", T0), 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_CONVERTED);
	assert_int_equal(
		lead_feedback_apply(&s->f.cfg, s->t, k, "recycled", T0), 0);
	assert_int_equal(lead_lifecycle_get(get(s, "u1")), LEAD_KNOWN);
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t, k, "bogus", T0),
			 -1);
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t,
					     strv_from("nobody"), "accepted",
					     T0),
			 -1);
	demo(s, "u1", T0 + 1);
	assert_int_equal(pricing(s, "u1", T0 + 1, NULL), LEAD_QUALIFIED);
}

static void test_dedupe_and_ring_eviction(void **state)
{
	struct lfx *s = *state;
	char id[16];

	s->f.cfg.scoring.half_life_days = 0;
	assert_int_equal(pricing(s, "a", T0, "m0"), LEAD_UPDATED);
	assert_int_equal(pricing(s, "a", T0, "m0"), LEAD_DUPLICATE);
	assert_float_equal(lead_score_at(&s->f.cfg, get(s, "a"), T0), 11, 0);
	/* no messageId: never a duplicate */
	assert_int_equal(pricing(s, "a", T0, NULL), LEAD_UPDATED);
	assert_int_equal(pricing(s, "a", T0, NULL), LEAD_UPDATED);
	/* the same id on another lead is not a duplicate */
	assert_int_equal(pricing(s, "b", T0, "m0"), LEAD_UPDATED);
	for (int i = 1; i <= 3; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		assert_int_equal(pricing(s, "a", T0 + i, id), LEAD_UPDATED);
	}
	assert_int_equal(pricing(s, "a", T0, "m0"), LEAD_DUPLICATE);
	assert_int_equal(pricing(s, "a", T0 + 5, "m4"), LEAD_UPDATED);
	/* m0 fell out of the four-slot ring */
	assert_int_equal(pricing(s, "a", T0 + 6, "m0"), LEAD_UPDATED);
	assert_int_equal(pricing(s, "a", T0 + 6, "m2"), LEAD_DUPLICATE);
}

static char *encode(const struct engine_config *cfg, const struct lead *l,
		    size_t *len)
{
	char *out = NULL;

	assert_int_equal(lead_encode(cfg, l, &out, len), 0);
	return out;
}

static void test_encode_decode_round_trip(void **state)
{
	struct lfx *s = *state;
	struct lead_table *t2 = lead_table_new();
	struct event *ev;
	char *a, *b;
	size_t alen, blen;
	json_t *o;

	identify_good(s, "u1", "jo@acme.com", T0);
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_trait_str(ev, "quote\\\"\t", "\x01 caf\xc3\xa9");
	fx_field_kind(ev->traits, &ev->ntraits, "opt_in", JVAL_BOOL, 1);
	fx_field_kind(ev->traits, &ev->ntraits, "fax", JVAL_NULL, 0);
	fx_trait_num(ev, "arr", "1.5e3");
	ev->group_id = strv_from("g1");
	apply(s, ev);
	pricing(s, "u1", T0 + 5 * DAY_MS, "m1");
	pricing(s, "u1", T0 + 2 * DAY_MS, "m2"); /* late, decayed */
	a = encode(&s->f.cfg, get(s, "u1"), &alen);
	o = json_loadb(a, alen, 0, NULL);
	assert_non_null(o); /* valid JSON despite the escapes */
	json_decref(o);
	assert_int_equal(lead_decode(&s->f.cfg, t2, strv_from("u1"), a, alen),
			 0);
	b = encode(&s->f.cfg, lead_table_find(t2, strv_from("u1")), &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);
	/* both continue identically: dedupe ring, caps, decay, handoff */
	ev = fx_event(EVENT_PAGE, "u1", T0 + 5 * DAY_MS);
	ev->path = strv_from("/pricing");
	ev->message_id = strv_from("m2");
	assert_int_equal(apply(s, ev), LEAD_DUPLICATE);
	assert_int_equal(apply_t(s, t2, ev), LEAD_DUPLICATE);
	ev->message_id = strv_from("m3");
	assert_int_equal(apply(s, ev), apply_t(s, t2, ev));
	ev = fx_event(EVENT_TRACK, "u1", T0 + 6 * DAY_MS);
	ev->name = strv_from("Demo Requested");
	assert_int_equal(apply(s, ev), LEAD_QUALIFIED);
	assert_int_equal(apply_t(s, t2, ev), LEAD_QUALIFIED);
	free(a);
	a = encode(&s->f.cfg, get(s, "u1"), &alen);
	b = encode(&s->f.cfg, lead_table_find(t2, strv_from("u1")), &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	/* bad records are refused and leave the table alone */
	assert_int_equal(
		lead_decode(&s->f.cfg, t2, strv_from("x"), "{\"v\":1}", 7), -1);
	assert_int_equal(lead_decode(&s->f.cfg, t2, strv_from("x"), "nope", 4),
			 -1);
	assert_null(lead_table_find(t2, strv_from("x")));
	assert_int_equal(lead_table_count(t2), 1);
	lead_table_free(t2);
}

/* A lead with both the account and an ordinary trait named group_id
 * goes through the changelog with both, told apart by the type code's
 * case ("S" hidden, "s" not), and a record of old with the account alone
 * restores it as the account. */
static void test_encode_decode_group_id_both(void **state)
{
	struct lfx *s = *state;
	struct lead_table *t2 = lead_table_new();
	struct event *ev = fx_event(EVENT_GROUP, "u1", T0);
	const struct lead *l2;
	struct strv gid;
	struct jval v;
	char *a, *b;
	size_t alen, blen;
	static const char old[] =
		"{\"v\":2,\"last_ms\":1772445600000,\"cycle\":1,"
		"\"life\":\"anonymous\",\"grade\":\"D\",\"disq\":\"none\","
		"\"flags\":0,\"ring_pos\":0,\"ring\":[\"000000000000\","
		"\"000000000000\",\"000000000000\",\"000000000000\"],"
		"\"score\":0.0,\"rules\":[],"
		"\"traits\":[[\"S\",\"group_id\",\"g-old\"]]}";

	ev->group_id = strv_from("g1");
	apply(s, ev);
	ev = fx_event(EVENT_IDENTIFY, "u1", T0 + 1);
	fx_trait_str(ev, "group_id", "crm-1");
	apply(s, ev);
	a = encode(&s->f.cfg, get(s, "u1"), &alen);
	assert_non_null(strstr(a, "[\"S\",\"group_id\",\"g1\"]"));
	assert_non_null(strstr(a, "[\"s\",\"group_id\",\"crm-1\"]"));
	assert_int_equal(lead_decode(&s->f.cfg, t2, strv_from("u1"), a, alen),
			 0);
	l2 = lead_table_find(t2, strv_from("u1"));
	assert_true(lead_group_id_get(l2, &gid));
	assert_true(strv_eq(gid, "g1"));
	assert_true(lead_trait_get(l2, "group_id", &v));
	assert_true(strv_eq(v.str, "crm-1"));
	b = encode(&s->f.cfg, l2, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	assert_int_equal(lead_decode(&s->f.cfg, t2, strv_from("u9"), old,
				     sizeof(old) - 1),
			 0);
	l2 = lead_table_find(t2, strv_from("u9"));
	assert_true(lead_group_id_get(l2, &gid));
	assert_true(strv_eq(gid, "g-old"));
	assert_false(lead_trait_get(l2, "group_id", &v));
	lead_table_free(t2);
}

/* The key "ab\0cd": a userId sent as "ab\u0000cd" is five bytes. */
static const struct strv nul_key = {"ab\0cd", 5};

/* A key with a NUL makes it from the event to the rep's queue and back
 * through the changelog whole: the assign command carries it escaped,
 * stage 2 reads it (JSON_ALLOW_NUL) and hashes all five bytes into the
 * handoff id, and a trait or groupId with a NUL inside, which the packed
 * traits cannot hold, is left out without breaking the handoff. */
static void test_assign_nul_key_round_trip(void **state)
{
	struct lfx *s = *state;
	struct lead_table *t2 = lead_table_new();
	struct rep rep = {.id = "rep-1", .weight = 1};
	struct team team = {.name = "team-emea",
			    .reps = &rep,
			    .nreps = 1,
			    .overflow_queue = "q"};
	struct team_state *ts;
	struct event *ev;
	struct handoff h = {0};
	char err[128] = "", id[48], short_id[48], *a, *b;
	size_t alen, blen;
	json_t *o, *v;

	s->f.cfg.routing.teams = &team;
	s->f.cfg.routing.nteams = 1;
	ts = team_state_new(&team);
	ev = fx_event(EVENT_IDENTIFY, "", T0);
	fx_identify(ev, "", "jo@acme.com");
	ev->lead_key = ev->user_id = ev->anonymous_id = nul_key;
	fx_trait_str(ev, "title", "VP Marketing");
	fx_trait_num(ev, "employees", "250");
	fx_trait_str(ev, "country", "DE");
	ev->traits[ev->ntraits].name = strv_from("company.name");
	ev->traits[ev->ntraits++].val =
		(struct jval){.kind = JVAL_STRING, .str = {"Acme\0Corp", 9}};
	ev->group_id = (struct strv){"g\0"
				     "1",
				     3};
	assert_int_equal(apply(s, ev), LEAD_UPDATED);
	ev = fx_event(EVENT_TRACK, "", T0);
	ev->lead_key = nul_key;
	ev->name = strv_from("Demo Requested");
	assert_int_equal(apply(s, ev), LEAD_UPDATED);
	ev = fx_event(EVENT_PAGE, "", T0);
	ev->lead_key = nul_key;
	ev->path = strv_from("/pricing");
	assert_int_equal(apply(s, ev), LEAD_QUALIFIED);
	assert_non_null(s->cmd.json);
	assert_non_null(strstr(s->cmd.json, "\"lead\":\"ab\\u0000cd\""));

	assert_int_equal(route_assign_apply(&s->f.cfg, ts, s->cmd.json,
					    s->cmd.len, &h, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(route_handoff_id_make(nul_key, 1, 1, id, sizeof(id)),
			 0);
	assert_string_equal(h.handoff_id, id);
	assert_int_equal(route_handoff_id_make(strv_from("ab"), 1, 1, short_id,
					       sizeof(short_id)),
			 0);
	assert_string_not_equal(h.handoff_id, short_id);
	assert_string_equal(h.rep_id, "rep-1");
	o = json_loadb(h.json, h.len, JSON_ALLOW_NUL, NULL);
	assert_non_null(o);
	v = json_object_get(o, "lead");
	assert_int_equal(json_string_length(v), 5);
	assert_memory_equal(json_string_value(v), "ab\0cd", 5);
	assert_true(json_is_null(json_object_get(o, "group_id")));
	assert_string_equal(
		json_string_value(json_object_get(o, "email_domain")),
		"acme.com");
	v = json_object_get(o, "traits");
	assert_null(json_object_get(v, "company.name"));
	assert_string_equal(json_string_value(json_object_get(v, "country")),
			    "DE");
	json_decref(o);
	free(h.json);

	/* the changelog: the key is the record's Kafka key, bytes as sent */
	a = encode(&s->f.cfg, lead_table_find(s->t, nul_key), &alen);
	assert_int_equal(lead_decode(&s->f.cfg, t2, nul_key, a, alen), 0);
	assert_null(lead_table_find(t2, strv_from("ab")));
	b = encode(&s->f.cfg, lead_table_find(t2, nul_key), &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(lead_lifecycle_get(lead_table_find(t2, nul_key)),
			 LEAD_HANDED_OFF);
	free(a);
	free(b);
	team_state_free(ts);
	lead_table_free(t2);
}

/* The points of each rule in a changelog record, by rule name. */
static double rec_points(const char *rec, size_t len, const char *rule)
{
	json_t *o = json_loadb(rec, len, 0, NULL), *r;
	double pts = 0;
	size_t i;

	assert_non_null(o);
	json_array_foreach(json_object_get(o, "rules"), i, r)
	{
		if (!strcmp(json_string_value(json_array_get(r, 0)), rule))
			pts = json_number_value(json_array_get(r, 4));
	}
	json_decref(o);
	return pts;
}

/* Decodes a small record with two rule entries, "any" and second. */
static int rec_decode(const struct engine_config *cfg, struct lead_table *t,
		      const char *second)
{
	char rec[512];
	int n = snprintf(rec, sizeof(rec),
			 "{\"v\":2,\"last_ms\":0,\"cycle\":1,\"life\":"
			 "\"known\",\"grade\":null,\"disq\":\"none\","
			 "\"flags\":0,\"ring_pos\":0,\"ring\":[\"0\",\"0\","
			 "\"0\",\"0\"],\"score\":2.0,\"rules\":[[\"any\",0,1,"
			 "1,1.0],[\"%s\",0,1,1,1.0]],\"traits\":[]}",
			 second);

	return lead_decode(cfg, t, strv_from("y"), rec, (size_t)n);
}

/* A minimal v2 lead record with last_ms spliced in (%s). */
#define TIME_REC_FMT                                                           \
	"{\"v\":2,\"last_ms\":%s,\"cycle\":1,\"life\":\"known\","              \
	"\"grade\":\"A\",\"disq\":\"none\",\"flags\":1,\"ring_pos\":0,"        \
	"\"ring\":[\"0\",\"0\",\"0\",\"0\"],\"score\":0.0,\"rules\":[],"       \
	"\"traits\":[]}"

/* A record's last_ms is trusted arithmetic: INT64_MIN would overflow the
 * decay of the next event and gmtime_r of the assign command. Only times
 * an event could carry are restored. */
static void test_decode_refuses_impossible_time(void **state)
{
	static const char *const times[] = {
		"-9223372036854775808", "9223372036854775807",
		"253402387200001", "-62167305600001"};
	struct lfx *s = *state;
	char rec[512];

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int n = snprintf(rec, sizeof(rec), TIME_REC_FMT, times[i]);
		assert_int_equal(lead_decode(&s->f.cfg, s->t, strv_from("z"),
					     rec, (size_t)n),
				 -1);
		assert_null(lead_table_find(s->t, strv_from("z")));
	}
	/* the edges of year 0000 and year 9999 still restore */
	for (size_t i = 0; i < 2; i++) {
		int n = snprintf(rec, sizeof(rec), TIME_REC_FMT,
				 i ? "253402387200000" : "-62167305600000");
		assert_int_equal(lead_decode(&s->f.cfg, s->t, strv_from("z"),
					     rec, (size_t)n),
				 0);
	}
}

/* A reload that reorders the rules, then one that removes a rule: the
 * restored points stay with the rules that earned them, and a removed
 * rule's points leave the score with it. */
static void test_decode_after_rule_reorder(void **state)
{
	struct lfx *s = *state;
	struct engine_config re = s->f.cfg;
	struct score_rule rules[4] = {s->f.rules[2], s->f.rules[3],
				      s->f.rules[0], s->f.rules[1]};
	struct lead_table *t2 = lead_table_new();
	struct event *ev;
	char *a, *b;
	size_t alen, blen;

	pricing(s, "a", T0, "m1");
	ev = fx_event(EVENT_PAGE, "a", T0);
	ev->path = strv_from("/careers");
	apply(s, ev); /* pricing 10, careers -15, any 2 */
	a = encode(&s->f.cfg, get(s, "a"), &alen);
	re.scoring.rules = rules; /* careers, any, pricing, demo */
	assert_int_equal(lead_decode(&re, t2, strv_from("a"), a, alen), 0);
	assert_float_equal(
		lead_score_at(&re, lead_table_find(t2, strv_from("a")), T0), -3,
		1e-9);
	b = encode(&re, lead_table_find(t2, strv_from("a")), &blen);
	assert_float_equal(rec_points(b, blen, "pricing"), 10, 1e-9);
	assert_float_equal(rec_points(b, blen, "careers"), -15, 1e-9);
	assert_float_equal(rec_points(b, blen, "any"), 2, 1e-9);
	free(b);
	/* the pricing cap (2 a day) still counts the restored match */
	ev = fx_event(EVENT_PAGE, "a", T0 + 1);
	ev->path = strv_from("/pricing");
	lead_event_apply(&re, t2, ev, NULL, NULL);
	ev->message_id = strv_from("m9");
	lead_event_apply(&re, t2, ev, NULL, NULL);
	b = encode(&re, lead_table_find(t2, strv_from("a")), &blen);
	assert_float_equal(rec_points(b, blen, "pricing"), 20, 1e-6);
	free(b);
	/* careers removed: its record and its -15 are dropped */
	re.scoring.rules = rules + 1;
	re.scoring.nrules = 3;
	assert_int_equal(lead_decode(&re, t2, strv_from("a"), a, alen), 0);
	assert_float_equal(
		lead_score_at(&re, lead_table_find(t2, strv_from("a")), T0), 12,
		1e-9);
	/* a record naming one rule twice is refused */
	assert_int_equal(rec_decode(&re, t2, "pricing"), 0);
	assert_int_equal(rec_decode(&re, t2, "any"), -1);
	free(a);
	lead_table_free(t2);
}

/* Pricing then a demo request for key in t (53 points with the
 * identify): past the threshold, so the outcome says whether the lead's
 * grade and disqualification let it qualify. */
static enum lead_outcome score_to_mql(const struct engine_config *cfg,
				      struct lead_table *t, const char *key,
				      struct assign_cmd *cmd)
{
	struct event *ev = fx_event(EVENT_PAGE, key, T0 + 1);

	ev->path = strv_from("/pricing");
	ev->message_id = strv_from("mql-1");
	lead_event_apply(cfg, t, ev, NULL, NULL);
	ev = fx_event(EVENT_TRACK, key, T0 + 2);
	ev->name = strv_from("Demo Requested");
	ev->message_id = strv_from("mql-2");
	free(cmd->json);
	cmd->json = NULL;
	return lead_event_apply(cfg, t, ev, NULL, cmd);
}

/* The disqualification a changelog record gives, by name. */
static char *rec_disq(const char *rec, size_t len)
{
	json_t *o = json_loadb(rec, len, 0, NULL);
	char *d;

	assert_non_null(o);
	d = strdup(json_string_value(json_object_get(o, "disq")));
	json_decref(o);
	return d;
}

/* A reload that changes the fit rules or the disqualifying domains
 * applies to restored leads at once: decode re-grades from the stored
 * traits instead of trusting the grade in the record, which would
 * otherwise stay stale until the lead's traits change again. */
static void test_decode_regrades_under_new_fit(void **state)
{
	struct lfx *s = *state;
	struct engine_config re = s->f.cfg;
	char *competitors[2] = {"rival.io", "acme.com"};
	static const char bare[] =
		"{\"v\":2,\"last_ms\":0,\"cycle\":1,\"life\":\"known\","
		"\"grade\":\"A\",\"disq\":\"competitor\",\"flags\":1,"
		"\"ring_pos\":0,\"ring\":[\"0\",\"0\",\"0\",\"0\"],"
		"\"score\":0.0,\"rules\":[],\"traits\":[]}";
	struct lead_table *t2 = lead_table_new();
	const struct lead *l;
	char *a, *b, *d;
	size_t alen, blen;

	identify_good(s, "u1", "jo@acme.com", T0); /* senior + size: A */
	assert_int_equal(lead_grade(get(s, "u1")), 'A');
	a = encode(&s->f.cfg, get(s, "u1"), &alen);
	/* only the size rule left (20 points: B), acme.com a competitor */
	re.fit.rules = s->f.fit + 1;
	re.fit.nrules = 1;
	re.fit.competitor_domains = competitors;
	re.fit.ncompetitor = 2;
	assert_int_equal(lead_decode(&re, t2, strv_from("u1"), a, alen), 0);
	l = lead_table_find(t2, strv_from("u1"));
	assert_non_null(l);
	assert_int_equal(lead_grade(l), 'B');
	b = encode(&re, l, &blen);
	d = rec_disq(b, blen);
	assert_string_equal(d, "competitor");
	free(d);
	free(b);
	/* scored past the threshold, the competitor does not qualify */
	assert_int_equal(score_to_mql(&re, t2, "u1", &s->cmd), LEAD_UPDATED);
	/* back under the original config: A and not disqualified again */
	assert_int_equal(lead_decode(&s->f.cfg, t2, strv_from("u1"), a, alen),
			 0);
	l = lead_table_find(t2, strv_from("u1"));
	assert_int_equal(lead_grade(l), 'A');
	b = encode(&s->f.cfg, l, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);
	free(a);
	/* the grade it had under the original config qualifies it */
	assert_int_equal(score_to_mql(&s->f.cfg, t2, "u1", &s->cmd),
			 LEAD_QUALIFIED);
	/* a stored grade without traits to back it is not trusted */
	assert_int_equal(
		lead_decode(&s->f.cfg, t2, strv_from("z"), bare, strlen(bare)),
		0);
	assert_int_equal(lead_grade(lead_table_find(t2, strv_from("z"))), 0);
	lead_table_free(t2);
}

static void test_expiry(void **state)
{
	struct lfx *s = *state;
	const struct lead *l;

	pricing(s, "a", T0, NULL); /* 11 points, half-life 7 days */
	l = get(s, "a");
	assert_false(
		lead_is_expired(&s->f.cfg, l, T0 + DAY_MS, 30 * DAY_MS, 0.5));
	/* idle long enough, but 11 * 2^-(31/7) = 0.51 is still too much */
	assert_false(lead_is_expired(&s->f.cfg, l, T0 + 31 * DAY_MS,
				     30 * DAY_MS, 0.5));
	assert_true(lead_is_expired(&s->f.cfg, l, T0 + 35 * DAY_MS, 30 * DAY_MS,
				    0.5));
	/* a lead once handed off stays, in its cycle and after a rejection:
	 * deleted, it would come back at cycle 1 and repeat a handoff_id */
	qualify_u1(s, T0);
	l = get(s, "u1");
	assert_int_equal(lead_lifecycle_get(l), LEAD_HANDED_OFF);
	assert_false(lead_is_expired(&s->f.cfg, l, T0 + 3650 * DAY_MS,
				     30 * DAY_MS, 1e9));
	assert_int_equal(lead_feedback_apply(&s->f.cfg, s->t, strv_from("u1"),
					     "rejected", T0 + HOUR),
			 0);
	l = get(s, "u1");
	assert_int_equal(lead_lifecycle_get(l), LEAD_KNOWN);
	assert_int_equal(lead_cycle(l), 2);
	assert_false(lead_is_expired(&s->f.cfg, l, T0 + 3650 * DAY_MS,
				     30 * DAY_MS, 1e9));
}

static void count_cb(const struct lead *l, void *arg)
{
	(void)l;
	(*(size_t *)arg)++;
}

static void test_table_ops(void **state)
{
	struct lfx *s = *state;
	char key[32];
	size_t n = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "lead-%d", i);
		lead_event_apply(&s->f.cfg, s->t,
				 fx_event(EVENT_PAGE, key, T0 + i), NULL, NULL);
	}
	assert_int_equal(lead_table_count(s->t), 5000);
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "lead-%d", i);
		lead_table_remove(s->t, strv_from(key));
	}
	lead_table_remove(s->t, strv_from("absent"));
	assert_int_equal(lead_table_count(s->t), 2500);
	for (int i = 0; i < 5000; i++) {
		struct lead *l;
		snprintf(key, sizeof(key), "lead-%d", i);
		l = lead_table_find(s->t, strv_from(key));
		if (i % 2 == 0) {
			assert_null(l);
		} else {
			assert_non_null(l);
			assert_true(strv_eq(lead_key(l), key));
			assert_int_equal(lead_last_seen(l), T0 + i);
		}
	}
	lead_table_foreach(s->t, count_cb, &n);
	assert_int_equal(n, 2500);
	assert_true(lead_table_bytes(s->t) > 2500 * 64);
}

/* Past 2 MiB of slots (cap 512Ki from 209,716 leads on) the array is
 * huge-page aligned and zeroed by hand: every lead is still found, every
 * slot of the fresh array starts empty (a stale one would be taken for a
 * lead), and lead_table_bytes counts the slots as before. */
static void test_big_table_grows(void **state)
{
	struct lfx *s = *state;
	struct lead_table *t = lead_table_new();
	const size_t n = 230000;
	char key[32];
	size_t seen = 0;

	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "big-%zu", i);
		assert_int_equal(lead_event_apply(&s->f.cfg, t,
						  fx_event(EVENT_PAGE, key, T0),
						  NULL, NULL),
				 LEAD_UPDATED);
	}
	assert_int_equal(lead_table_count(t), n);
	for (size_t i = 0; i < n; i += 7) {
		snprintf(key, sizeof(key), "big-%zu", i);
		assert_non_null(lead_table_find(t, strv_from(key)));
	}
	assert_null(lead_table_find(t, strv_from("big-absent")));
	lead_table_foreach(t, count_cb, &seen);
	assert_int_equal(seen, n);
	assert_true(lead_table_bytes(t) >= (size_t)(512u << 10) * 8);
	lead_table_free(t);
}

/* The hashed calls are the plain ones with the hash passed in: the same
 * leads, found at the same keys, with the same scores; the prefetch hints
 * change nothing. */
static void test_hashed_calls_agree(void **state)
{
	struct lfx *s = *state;
	struct lead_table *t2 = lead_table_new();
	char key[32];

	assert_non_null(t2);
	for (int i = 0; i < 3000; i++) {
		struct event *ev;
		struct strv k;
		uint64_t h;
		snprintf(key, sizeof(key), "lead-%d", i % 1000);
		k = strv_from(key);
		h = lead_key_hash(k);
		lead_table_prefetch_hashed(t2, h);
		lead_table_prefetch_lead_hashed(t2, k, h);
		lead_table_prefetch_ext_hashed(t2, h);
		ev = fx_event(EVENT_TRACK, key, T0 + i);
		ev->name = strv_from(i % 3 ? "Demo Requested" : "Other");
		assert_int_equal(
			lead_event_apply(&s->f.cfg, s->t, ev, NULL, NULL),
			lead_event_apply_hashed(&s->f.cfg, t2, ev, h, NULL,
						NULL));
	}
	assert_int_equal(lead_table_count(t2), lead_table_count(s->t));
	for (int i = 0; i < 1000; i++) {
		struct lead *a, *b;
		snprintf(key, sizeof(key), "lead-%d", i);
		a = lead_table_find(s->t, strv_from(key));
		b = lead_table_find(t2, strv_from(key));
		assert_non_null(a);
		assert_non_null(b);
		assert_true(lead_score_at(&s->f.cfg, a, T0) ==
			    lead_score_at(&s->f.cfg, b, T0));
	}
	lead_table_free(t2);
}

/* lead_assign_build writes what lead_assign_build_dom packs and dumps,
 * byte for byte, or fails where it fails, for leads whose keys, trait
 * names and values take every escape, multi-byte and invalid UTF-8,
 * numbers past int64 or double, and scores that are not finite. */
static void check_assign_same(struct lfx *s, struct strv key)
{
	struct lead *l = lead_table_find(s->t, key);
	struct assign_cmd a = {0}, b = {0};
	int ra, rb;

	assert_non_null(l);
	ra = lead_assign_build(&s->f.cfg, l, &a);
	rb = lead_assign_build_dom(&s->f.cfg, l, &b);
	assert_int_equal(ra, rb);
	if (ra == 0) {
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.json, b.json, a.len);
		assert_ptr_equal(a.team, b.team);
	}
	free(a.json);
	free(b.json);
}

static void test_assign_writer_matches_dom(void **state)
{
	static const char *const strs[] = {
		"plain",
		"",
		"q\"b\\s/",
		"\b\f\n\r\t\x01\x1f\x7f",
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		"\xe2\x80\xa8",
		"bad \xc0\x80",
		"bad \xed\xa0\x80",
		"bad \xff",
		"cut \xe2\x82",
		"Acme \"Rockets\"\n",
	};
	static const char *const nums[] = {
		"250",
		"-0",
		"0",
		"1.5",
		"-0.0",
		"73.449999",
		"1e20",
		"1e-5",
		"1e999",
		"-1e999",
		"9223372036854775807",
		"9223372036854775808",
		"-9223372036854775809",
		"0.1",
	};
	static const char *const keys[] = {
		"k1", "k\"\\2", "k\xc3\xa9", "k\xff", "k\n",
	};
	struct lfx *s = *state;
	size_t ns = sizeof(strs) / sizeof(strs[0]);
	size_t nn = sizeof(nums) / sizeof(nums[0]);
	char name[32];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (size_t i = 0; i < ns + nn; i++) {
			struct event *ev = fx_event(EVENT_IDENTIFY, keys[k],
						    T0 + (int64_t)i);
			fx_identify(ev, keys[k], "jo@acme.com");
			fx_trait_str(ev, "title", "VP Marketing");
			fx_trait_str(ev, "country", "DE");
			if (i < ns) {
				fx_trait_str(ev, strs[i], strs[i]);
				fx_trait_str(ev, "s", strs[i]);
			} else {
				fx_trait_num(ev, "employees", nums[i - ns]);
			}
			snprintf(name, sizeof(name), "flag%zu", i % 3);
			fx_field_kind(ev->traits, &ev->ntraits, name,
				      i % 2 ? JVAL_BOOL : JVAL_NULL, 1);
			apply(s, ev);
			check_assign_same(s, strv_from(keys[k]));
			/* and with score reasons */
			demo(s, keys[k], T0 + (int64_t)i);
			check_assign_same(s, strv_from(keys[k]));
		}
	}
	/* a lead without traits, and one whose key holds a NUL */
	assert_int_equal(demo(s, "anon", T0), LEAD_UPDATED);
	check_assign_same(s, strv_from("anon"));
	{
		struct event *ev = fx_event(EVENT_TRACK, "x", T0);
		ev->lead_key = (struct strv){"n\0l", 3};
		ev->name = strv_from("Demo Requested");
		apply(s, ev);
		check_assign_same(s, (struct strv){"n\0l", 3});
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_lifecycle_anonymous_to_known),
		T(test_lifecycle_blank_email_stays_anonymous),
		T(test_qualifies_once_per_cycle),
		T(test_assign_json),
		T(test_assign_email_domain_trailing_dot),
		T(test_assign_wide_integer_trait),
		T(test_fallback_territory_and_group),
		T(test_assign_group_id_trait_apart),
		T(test_full_traits_gain_required_email),
		T(test_encode_decode_group_id_both),
		T(test_not_qualified),
		T(test_qual_check_order),
		T(test_qual_check_lifecycle),
		T(test_traitless_lead_graded_as_zero_points),
		T(test_rejected_requalifies_in_new_cycle),
		T(test_recycled_and_converted),
		T(test_dedupe_and_ring_eviction),
		T(test_encode_decode_round_trip),
		T(test_assign_nul_key_round_trip),
		T(test_decode_after_rule_reorder),
		T(test_decode_refuses_impossible_time),
		T(test_decode_regrades_under_new_fit),
		T(test_expiry),
		T(test_table_ops),
		T(test_hashed_calls_agree),
		T(test_big_table_grows),
		T(test_assign_writer_matches_dom),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
