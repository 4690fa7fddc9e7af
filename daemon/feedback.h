/*
 * feedback.h - the sales feedback record (README.md, "Sales feedback"), parsed
 * with jsmn into slices of the caller's buffer: the feedback path allocates
 * nothing, like the event path.
 */
#ifndef LR_FEEDBACK_H
#define LR_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/strv.h"

struct feedback {
	const char *outcome; /* "accepted", "rejected", "converted",
				"recycled" (static strings) */
	struct strv lead;    /* "lead", else "userId" */
	struct strv rep;     /* may be empty */
	struct strv team;    /* may be empty */
	struct strv handoff_id;
	int64_t ts_ms; /* "timestamp"; 0 when absent */
};

/*
 * Parse len bytes at buf. Returns 0, or -1 with a reason code
 * ("not_json", "missing_type", ...) and a message without personal data.
 */
int feedback_parse(const char *buf, size_t len, struct feedback *fb,
		   const char **code, char *msg, size_t msgsize);

#endif
