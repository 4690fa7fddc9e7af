/*
 * feedback.h - the sales feedback record (README.md, "Sales feedback"), parsed
 * with jsmn into slices of the caller's buffer: the feedback path allocates
 * nothing, like the event path. A string value written with JSON escapes
 * ("jos\u00e9@example.com", as Python's json.dumps sends it) is decoded
 * into the struct's own scratch area instead, so its slice lives exactly
 * as long as the struct feedback that was parsed.
 */
#ifndef LR_FEEDBACK_H
#define LR_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/event.h"
#include "../engine/strv.h"

/* Room for every escaped field of one record, decoded: as much as an
 * event has, so a lead key that came in escaped fits when its feedback is
 * escaped too. A plain field has no limit here. */
#define FEEDBACK_SCRATCH_BYTES EVENT_SCRATCH_BYTES

/*
 * The slices point into the parsed buffer or into scratch: use the struct
 * where it was filled (or by pointer), never a copy of it. The lead may
 * hold any bytes, a NUL included (keys are handled by length); rep and
 * team never hold a NUL.
 */
struct feedback {
	const char *outcome; /* "accepted", "rejected", "converted",
				"recycled" (static strings) */
	struct strv lead;    /* "lead", else "userId" */
	struct strv rep;     /* may be empty */
	struct strv team;    /* may be empty */
	struct strv handoff_id;
	int64_t ts_ms; /* "timestamp"; 0 when absent */
	size_t scratch_used;
	char scratch[FEEDBACK_SCRATCH_BYTES]; /* last: not cleared per record */
};

/*
 * Parse len bytes at buf. Returns 0, or -1 with a reason code
 * ("not_json", "missing_type", "field_too_long", ...) and a message
 * without personal data.
 */
int feedback_parse(const char *buf, size_t len, struct feedback *fb,
		   const char **code, char *msg, size_t msgsize);

#endif
