/*
 * feedback.c - parse a sales feedback record.
 *
 * Only top-level string fields are read. Strings with JSON escapes are
 * refused rather than unescaped: ids and keys never need them, and a slice
 * into the record can then be used as the key it names.
 */
#include <stdio.h>
#include <string.h>

#include <jsmn.h>

#include "../engine/event.h"
#include "../engine/route.h"
#include "feedback.h"

#define FEEDBACK_MAX_TOKENS 256
#define FEEDBACK_MAX_BYTES  (16 * 1024)

static const char *const feedback_outcomes[] = {"accepted", "rejected",
						"converted", "recycled"};

static int feedback_fail(const char **code, char *msg, size_t msgsize,
			 const char *c, const char *m)
{
	*code = c;
	snprintf(msg, msgsize, "%s", m);
	return -1;
}

static struct strv feedback_tok(const char *buf, const jsmntok_t *t)
{
	return (struct strv){buf + t->start, (size_t)(t->end - t->start)};
}

/* Tokens in the value starting at t, including t itself. */
static int feedback_skip(const jsmntok_t *tok, int i, int ntok)
{
	int end = tok[i].end;
	int j = i + 1;

	while (j < ntok && tok[j].start < end)
		j++;
	return j;
}

static const char *feedback_outcome(struct strv s)
{
	for (size_t i = 0; i < 4; i++)
		if (strv_eq(s, feedback_outcomes[i]))
			return feedback_outcomes[i];
	return NULL;
}

/* Store a string field; returns -1 for a non-string or escaped value. */
static int feedback_field(const char *buf, const jsmntok_t *k,
			  const jsmntok_t *v, struct feedback *fb,
			  struct strv *type, struct strv *ts)
{
	struct strv key = feedback_tok(buf, k), val = feedback_tok(buf, v);
	struct strv *dst = NULL;

	if (strv_eq(key, "type"))
		dst = type;
	else if (strv_eq(key, "lead"))
		dst = &fb->lead;
	else if (strv_eq(key, "userId") && strv_empty(fb->lead))
		dst = &fb->lead;
	else if (strv_eq(key, "rep"))
		dst = &fb->rep;
	else if (strv_eq(key, "team"))
		dst = &fb->team;
	else if (strv_eq(key, "handoff_id"))
		dst = &fb->handoff_id;
	else if (strv_eq(key, "timestamp"))
		dst = ts;
	if (dst == NULL)
		return 0; /* unknown fields are ignored, never rejected */
	if (v->type != JSMN_STRING || memchr(val.p, '\\', val.len))
		return -1;
	*dst = val;
	return 0;
}

int feedback_parse(const char *buf, size_t len, struct feedback *fb,
		   const char **code, char *msg, size_t msgsize)
{
	jsmntok_t tok[FEEDBACK_MAX_TOKENS];
	jsmn_parser parser;
	struct strv type = STRV_NULL, ts = STRV_NULL;
	int ntok;

	memset(fb, 0, sizeof(*fb));
	if (len > FEEDBACK_MAX_BYTES)
		return feedback_fail(code, msg, msgsize, "too_large",
				     "feedback record too large");
	jsmn_init(&parser);
	ntok = jsmn_parse(&parser, buf, len, tok, FEEDBACK_MAX_TOKENS);
	if (ntok < 1)
		return feedback_fail(code, msg, msgsize, "not_json",
				     "feedback is not valid JSON");
	if (tok[0].type != JSMN_OBJECT)
		return feedback_fail(code, msg, msgsize, "not_object",
				     "feedback is not a JSON object");
	for (int i = 1; i + 1 < ntok;) {
		if (feedback_field(buf, &tok[i], &tok[i + 1], fb, &type, &ts) <
		    0)
			return feedback_fail(code, msg, msgsize, "field_type",
					     "feedback field is not a plain "
					     "string");
		i = feedback_skip(tok, i + 1, ntok);
	}
	fb->outcome = feedback_outcome(type);
	if (strv_empty(type))
		return feedback_fail(code, msg, msgsize, "missing_type",
				     "feedback has no type");
	if (fb->outcome == NULL)
		return feedback_fail(code, msg, msgsize, "unknown_type",
				     "feedback type is not accepted, rejected, "
				     "converted or recycled");
	if (strv_empty(fb->lead))
		return feedback_fail(code, msg, msgsize, "no_identity",
				     "feedback has no lead or userId");
	if (!strv_empty(fb->handoff_id) &&
	    !route_handoff_id_valid(fb->handoff_id))
		return feedback_fail(code, msg, msgsize, "bad_handoff_id",
				     "feedback handoff_id is not a leadrouter "
				     "handoff id");
	if (!strv_empty(ts) &&
	    event_timestamp_parse(ts.p, ts.len, &fb->ts_ms) < 0)
		return feedback_fail(code, msg, msgsize, "bad_timestamp",
				     "feedback timestamp is not ISO 8601");
	return 0;
}
