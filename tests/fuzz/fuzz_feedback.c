/*
 * fuzz_feedback.c - libFuzzer harness for the sales feedback parser
 * (feedback_parse in daemon/feedback.c, compiled in).
 *
 * Feedback records come from outside (a CRM, a rep's tool), so any bytes
 * must get either a parsed record or a reason code and a message. A parsed
 * record must be one the stage can use: a known outcome, a lead, slices
 * that lie in the record or in the parser's own scratch area, a handoff id
 * of leadrouter's form, rep and team without a NUL. And where jansson reads
 * the same bytes as an object with no duplicate keys, the values read must
 * be the ones it decodes (escapes included): "lead" (when no "userId"
 * competes with it), "rep", "team" and "handoff_id", byte for byte.
 */
#include "../../daemon/feedback.c"

#include <jansson.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_inside(struct strv v, const char *lo, size_t n)
{
	return v.len == 0 || (v.p >= lo && v.p + v.len <= lo + n);
}

static bool fuzz_slice_ok(struct strv v, const uint8_t *data, size_t size,
			  const struct feedback *fb)
{
	return fuzz_inside(v, (const char *)data, size) ||
	       fuzz_inside(v, (const char *)fb, sizeof(*fb));
}

/* v, a value the parser read under key, equals the string jansson has
 * there. Only a non-empty v is compared: the parser matches keys as
 * written, jansson decodes them, so an escaped "r\u0065p" is jansson's
 * "rep" but not the parser's; with duplicates refused, a key the parser
 * did read is the one jansson holds. */
static void fuzz_same(json_t *o, const char *key, struct strv v)
{
	json_t *s = json_object_get(o, key);

	if (v.len == 0)
		return;
	if (!json_is_string(s))
		abort();
	if (v.len != json_string_length(s) ||
	    (v.len && memcmp(v.p, json_string_value(s), v.len) != 0))
		abort();
}

static void fuzz_check_ok(const uint8_t *data, size_t size,
			  const struct feedback *fb)
{
	json_t *o;

	if (fb->outcome == NULL ||
	    feedback_outcome(strv_from(fb->outcome)) != fb->outcome)
		abort();
	if (strv_empty(fb->lead) || !fuzz_slice_ok(fb->lead, data, size, fb) ||
	    !fuzz_slice_ok(fb->rep, data, size, fb) ||
	    !fuzz_slice_ok(fb->team, data, size, fb) ||
	    !fuzz_slice_ok(fb->handoff_id, data, size, fb))
		abort();
	if (!strv_empty(fb->handoff_id) &&
	    !route_handoff_id_valid(fb->handoff_id))
		abort();
	if ((fb->rep.len && memchr(fb->rep.p, '\0', fb->rep.len)) ||
	    (fb->team.len && memchr(fb->team.p, '\0', fb->team.len)))
		abort();
	o = json_loadb((const char *)data, size,
		       JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	if (!json_object_get(o, "userId"))
		fuzz_same(o, "lead", fb->lead);
	fuzz_same(o, "rep", fb->rep);
	fuzz_same(o, "team", fb->team);
	fuzz_same(o, "handoff_id", fb->handoff_id);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feedback fb;
	const char *code = NULL;
	char msg[256];

	msg[0] = '\0';
	if (feedback_parse((const char *)data, size, &fb, &code, msg,
			   sizeof(msg)) == 0)
		fuzz_check_ok(data, size, &fb);
	else if (code == NULL || msg[0] == '\0')
		abort();
	return 0;
}
