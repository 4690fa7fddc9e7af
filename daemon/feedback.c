/*
 * feedback.c - parse a sales feedback record.
 *
 * Only top-level string fields are read. A value is a slice of the record
 * unless it holds a backslash; then it is decoded (engine/unescape.h, the
 * event parser's decoder) into fb->scratch. Escapes are not rare in
 * practice: lead keys are userIds or e-mail addresses as the producer sent
 * them, and Python's json.dumps writes every non-ASCII character as \uXXXX
 * by default, some writers send "\/", and a key with a quote, a backslash or
 * a NUL can only be written escaped. jsmn has already refused unknown
 * escapes and bad \u digits (not_json); the decoder also refuses a lone
 * surrogate (invalid_utf8), and a record whose escaped fields do not fit
 * the scratch area is field_too_long. Unknown fields are skipped undecoded.
 *
 * The lead is kept by length, NUL and all, as the engine keeps lead keys.
 * rep and team are refused with a NUL: stage.c and stage 2 use them as C
 * strings (team and rep names from the config), where "emea\u0000x" would
 * be cut to "emea".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jsmn.h>

#include "../engine/event.h"
#include "../engine/route.h"
#include "../engine/unescape.h"
#include "feedback.h"

#define FEEDBACK_MAX_TOKENS 256
#define FEEDBACK_MAX_BYTES  (16 * 1024)

static const char *const feedback_outcomes[] = {"accepted", "rejected",
						"converted", "recycled"};

/* What one parse reads into, and where its failure goes. */
struct feedback_ctx {
	const char *buf;
	struct feedback *fb;
	struct strv type, ts;
	const char **code;
	char *msg;
	size_t msgsize;
};

__attribute__((format(printf, 3, 4))) static int
feedback_fail(struct feedback_ctx *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	*c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->msg, c->msgsize, fmt, ap);
	va_end(ap);
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

/*
 * The text of string value val: the slice itself when it has no escape
 * (the common case, no copy), else decoded into fb->scratch. name is the
 * field's name (one of ours) for the message, never its value.
 */
static int feedback_str(struct feedback_ctx *c, struct strv val,
			struct strv name, struct strv *out)
{
	struct feedback *fb = c->fb;
	char *o = fb->scratch + fb->scratch_used;
	size_t n;

	if (memchr(val.p, '\\', val.len) == NULL) {
		*out = val;
		return 0;
	}
	switch (unescape_json(val.p, val.len, o,
			      sizeof(fb->scratch) - fb->scratch_used, &n)) {
	case UNESCAPE_OK:
		break;
	case UNESCAPE_LONE_SURROGATE:
		return feedback_fail(c, "invalid_utf8",
				     "feedback field %.*s has a lone surrogate "
				     "escape",
				     (int)name.len, name.p);
	case UNESCAPE_TOO_LONG:
		return feedback_fail(c, "field_too_long",
				     "feedback field %.*s is too long once "
				     "unescaped (%d bytes for all escaped "
				     "fields)",
				     (int)name.len, name.p,
				     FEEDBACK_SCRATCH_BYTES);
	default: /* jsmn refuses these first; kept for safety */
		return feedback_fail(c, "not_json",
				     "feedback field %.*s has an invalid "
				     "escape",
				     (int)name.len, name.p);
	}
	fb->scratch_used += n;
	*out = (struct strv){o, n};
	return 0;
}

/* Store a known string field; unknown fields are ignored, never rejected. */
static int feedback_field(struct feedback_ctx *c, const jsmntok_t *k,
			  const jsmntok_t *v)
{
	struct strv key = feedback_tok(c->buf, k);
	struct feedback *fb = c->fb;
	struct strv *dst = NULL;

	if (strv_eq(key, "type"))
		dst = &c->type;
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
		dst = &c->ts;
	if (dst == NULL)
		return 0;
	if (v->type != JSMN_STRING)
		return feedback_fail(c, "field_type",
				     "feedback field %.*s is not a string",
				     (int)key.len, key.p);
	if (feedback_str(c, feedback_tok(c->buf, v), key, dst) < 0)
		return -1;
	/* rep and team are names from the config, used as C strings */
	if ((dst == &fb->rep || dst == &fb->team) &&
	    memchr(dst->p, '\0', dst->len) != NULL)
		return feedback_fail(c, "field_type",
				     "feedback field %.*s holds a NUL",
				     (int)key.len, key.p);
	return 0;
}

int feedback_parse(const char *buf, size_t len, struct feedback *fb,
		   const char **code, char *msg, size_t msgsize)
{
	struct feedback_ctx c = {buf,  fb,  STRV_NULL, STRV_NULL,
				 code, msg, msgsize};
	jsmntok_t tok[FEEDBACK_MAX_TOKENS];
	jsmn_parser parser;
	int ntok;

	/* scratch is last and needs no clearing: only scratch_used counts */
	memset(fb, 0, offsetof(struct feedback, scratch));
	if (len > FEEDBACK_MAX_BYTES)
		return feedback_fail(&c, "too_large",
				     "feedback record too large");
	jsmn_init(&parser);
	ntok = jsmn_parse(&parser, buf, len, tok, FEEDBACK_MAX_TOKENS);
	if (ntok < 1)
		return feedback_fail(&c, "not_json",
				     "feedback is not valid JSON");
	if (tok[0].type != JSMN_OBJECT)
		return feedback_fail(&c, "not_object",
				     "feedback is not a JSON object");
	for (int i = 1; i + 1 < ntok;) {
		if (feedback_field(&c, &tok[i], &tok[i + 1]) < 0)
			return -1;
		i = feedback_skip(tok, i + 1, ntok);
	}
	fb->outcome = feedback_outcome(c.type);
	if (strv_empty(c.type))
		return feedback_fail(&c, "missing_type",
				     "feedback has no type");
	if (fb->outcome == NULL)
		return feedback_fail(&c, "unknown_type",
				     "feedback type is not accepted, rejected, "
				     "converted or recycled");
	if (strv_empty(fb->lead))
		return feedback_fail(&c, "no_identity",
				     "feedback has no lead or userId");
	if (!strv_empty(fb->handoff_id) &&
	    !route_handoff_id_valid(fb->handoff_id))
		return feedback_fail(&c, "bad_handoff_id",
				     "feedback handoff_id is not a leadrouter "
				     "handoff id");
	if (!strv_empty(c.ts) &&
	    event_timestamp_parse(c.ts.p, c.ts.len, &fb->ts_ms) < 0)
		return feedback_fail(&c, "bad_timestamp",
				     "feedback timestamp is not ISO 8601");
	return 0;
}
