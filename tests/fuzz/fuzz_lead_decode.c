/*
 * fuzz_lead_decode.c - libFuzzer harness for the changelog decoder
 * (lead_decode in engine/lead_codec.c).
 *
 * Restoring a partition feeds lead_decode whatever the changelog topic
 * holds, so a malformed record must be refused cleanly: -1 and the table
 * untouched. An accepted record must give a lead the rest of the engine
 * can use: it re-encodes to a record that decodes again and re-encodes to
 * the same bytes, and an event applies to it. The config is a small fixed
 * one whose rule names the seeds use.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/lead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *s_pricing[] = {"/pricing"}, *s_demo[] = {"Demo Requested"},
	    *s_req[] = {"email"};
static struct cond c_pricing = {FIELD_PATH, NULL, COND_PREFIX, s_pricing,
				1,          0,    false,       false};
static struct cond c_demo = {
	FIELD_EVENT_NAME, NULL, COND_EQ, s_demo, 1, 0, false, false};
static struct score_rule rules[] = {
	{"pricing", 1u << EVENT_PAGE, &c_pricing, 1, 10, 2, 0},
	{"demo", 1u << EVENT_TRACK, &c_demo, 1, 40, 0, 1},
	{"any", 0, NULL, 0, 1, 0, 0},
};

static void fuzz_config(struct engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->scoring = (struct scoring_config){
		.rules = rules, .nrules = 3, .half_life_days = 7.0};
	cfg->fit = (struct fit_config){
		.grade_a = 40, .grade_b = 20, .grade_c = 10};
	cfg->qualify = (struct qualify_config){50, 'B', s_req, 1};
	cfg->routing.fallback_team = "smb";
}

static char *fuzz_encode(const struct engine_config *cfg,
			 const struct lead_table *t, struct strv key,
			 size_t *len)
{
	const struct lead *l = lead_table_find(t, key);
	char *out = NULL;

	if (!l || lead_encode(cfg, l, &out, len) < 0)
		abort(); /* an accepted record must leave an encodable lead */
	return out;
}

/* Accepted: encode, decode, encode again; the two encodings agree. */
static void fuzz_round_trip(const struct engine_config *cfg,
			    const struct lead_table *t, struct strv key)
{
	struct lead_table *t2 = lead_table_new();
	char *a, *b;
	size_t alen, blen;

	a = fuzz_encode(cfg, t, key, &alen);
	if (!t2 || lead_decode(cfg, t2, key, a, alen) < 0)
		abort(); /* the engine refuses its own record */
	b = fuzz_encode(cfg, t2, key, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	lead_table_free(t2);
}

/* The restored lead takes events like any other. */
static void fuzz_apply(const struct engine_config *cfg, struct lead_table *t,
		       struct strv key)
{
	static struct event ev;
	struct assign_cmd cmd;

	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_PAGE;
	ev.lead_key = key;
	ev.anonymous_id = key;
	ev.path = strv_from("/pricing/plans");
	ev.message_id = strv_from("fuzz-1");
	ev.ts_ms = lead_last_seen(lead_table_find(t, key)) + 3600000;
	if (lead_event_apply(cfg, t, &ev, NULL, &cmd) == LEAD_QUALIFIED)
		free(cmd.json);
	(void)lead_score_at(cfg, lead_table_find(t, key), ev.ts_ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_config cfg;
	struct lead_table *t = lead_table_new();
	struct strv key = strv_from("lead-1");
	/* a private copy so ASan catches any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!buf || !t) {
		free(buf);
		lead_table_free(t);
		return 0;
	}
	memcpy(buf, data, size);
	fuzz_config(&cfg);
	if (lead_decode(&cfg, t, key, buf, size) == 0) {
		fuzz_round_trip(&cfg, t, key);
		fuzz_apply(&cfg, t, key);
	} else if (lead_table_count(t) != 0) {
		abort(); /* a refused record touched the table */
	}
	free(buf);
	lead_table_free(t);
	return 0;
}
