/*
 * event.h - one Segment Spec event, parsed without building a DOM.
 *
 * The parser tokenizes the raw bytes in one strict pass of its own and keeps
 * slices that point into the caller's buffer, so the per-event path
 * allocates nothing. Strings
 * that carry JSON escapes are unescaped into the event's own scratch area.
 * A rejected event gets a reason code and a human message and leaves no
 * trace behind: nothing about one bad event affects the next.
 */
#ifndef LR_EVENT_H
#define LR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "strv.h"

#define EVENT_MAX_BYTES     (32 * 1024) /* larger events are rejected */
#define EVENT_MAX_DEPTH     16          /* deeper nesting is rejected */
#define EVENT_MAX_TOKENS    1024
#define EVENT_MAX_FIELDS    48 /* properties / traits kept per event */
#define EVENT_SCRATCH_BYTES 4096

enum event_type {
	EVENT_IDENTIFY,
	EVENT_TRACK,
	EVENT_PAGE,
	EVENT_SCREEN,
	EVENT_GROUP,
	EVENT_TYPE_COUNT
};

/* Why an event was rejected. Keep in step with event_reason_code(). */
enum event_reason {
	EVENT_OK = 0,
	EVENT_ERR_NOT_JSON,
	EVENT_ERR_NOT_OBJECT,
	EVENT_ERR_TOO_LARGE,
	EVENT_ERR_TOO_DEEP,
	EVENT_ERR_NO_IDENTITY,
	EVENT_ERR_MISSING_TYPE,
	EVENT_ERR_UNKNOWN_TYPE,
	EVENT_ERR_FIELD_TYPE,
	EVENT_ERR_BAD_TIMESTAMP,
	EVENT_ERR_BAD_UTF8,
	EVENT_REASON_COUNT
};

enum jval_kind { JVAL_NULL, JVAL_BOOL, JVAL_NUMBER, JVAL_STRING, JVAL_OTHER };

/* A scalar value from the event: strings are unescaped, numbers parsed. */
struct jval {
	enum jval_kind kind;
	struct strv str; /* JVAL_STRING: the text; JVAL_NUMBER: its literal */
	double num;      /* JVAL_NUMBER; JVAL_BOOL: 0 or 1 */
};

/*
 * A flattened field: "plan", or "company.name" for a nested object (one
 * level of nesting is flattened; deeper values are ignored).
 */
struct event_field {
	struct strv name;
	struct jval val;
};

struct event {
	enum event_type type;
	struct strv message_id;
	struct strv user_id;
	struct strv anonymous_id;
	struct strv email; /* traits.email (or context.traits.email), as sent */
	/* userId, else email lower-cased and without the ASCII white space
	 * around it, else anonymousId */
	struct strv lead_key;
	struct strv name; /* track: event; page/screen: name */
	struct strv path; /* page: properties.path or context.page.path */
	struct strv url;  /* page: properties.url or context.page.url */
	/* groupId, else context.groupId; a number as written, as userId */
	struct strv group_id;
	/* event time: the first present of timestamp, originalTimestamp,
	 * receivedAt and sentAt */
	int64_t ts_ms;
	size_t nprops;
	struct event_field props[EVENT_MAX_FIELDS];
	size_t ntraits; /* identify/group traits, or context.traits */
	struct event_field traits[EVENT_MAX_FIELDS];
	/* private: unescaped strings and the lower-cased e-mail live here */
	size_t scratch_used;
	char scratch[EVENT_SCRATCH_BYTES];
};

struct event_error {
	enum event_reason reason;
	char msg[160]; /* human message; never contains personal data */
};

/*
 * Parse len bytes at buf into ev. Returns 0, or -1 with err filled in.
 * ev's slices point into buf (or ev->scratch) and live as long as both.
 */
int event_parse(const char *buf, size_t len, struct event *ev,
		struct event_error *err);

/*
 * The usual JSON Lines case in one pass, for a reader that would otherwise
 * find each newline first: the line at buf, with avail bytes buffered from
 * there. Returns 0 with *line_len set to the offset of the line's newline
 * when the line is one JSON object, then only spaces, tabs and carriage
 * returns, then that newline, and the object parses as an event: ev is
 * then what event_parse gives for the line without its newline and
 * without one carriage return before it. Returns -1 on anything else (a
 * rejection, a newline between tokens, no newline within avail or within
 * EVENT_MAX_BYTES + 2 bytes, ...): the caller then splits the line itself
 * and calls event_parse, which says why.
 */
int event_parse_line(const char *buf, size_t avail, struct event *ev,
		     size_t *line_len);

/* Stable machine-readable code for a reason: "not_json", "too_large", ... */
const char *event_reason_code(enum event_reason r);
const char *event_type_name(enum event_type t);
/* Returns the type for "track" etc., or -1. */
int event_type_parse(const char *s, size_t len);

/* Find a property / trait by flattened name; NULL when absent. */
const struct jval *event_prop_get(const struct event *ev, const char *name);
const struct jval *event_trait_get(const struct event *ev, const char *name);

/*
 * Whether an event time is plausible against a clock: 0 when ts_ms is at
 * most max_ahead_ms after now_ms, or when max_ahead_ms is 0 (no bound);
 * otherwise -1 with err (which may be NULL) set to bad_timestamp and a
 * message saying how far ahead it is. Device clocks are wrong, and one
 * far-future time would advance a lead's clock (and the daemon's
 * partition clock) for good. The caller reads the clock: the engine has
 * none, and simulate applies no bound. No lower bound: simulate and
 * restores replay the past.
 */
int event_time_check(int64_t ts_ms, int64_t now_ms, int64_t max_ahead_ms,
		     struct event_error *err);

/* Parse ISO 8601 ("2026-03-29T01:30:00.123+02:00", "...Z") into epoch ms. */
int event_timestamp_parse(const char *s, size_t len, int64_t *ms);
/* The same without the fast path for the usual spelling: tests compare. */
int event_timestamp_parse_full(const char *s, size_t len, int64_t *ms);

#endif
