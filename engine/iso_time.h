/*
 * iso_time.h - event time as ISO 8601 UTC with milliseconds, the one
 * spelling used by every record the engine writes (assign command,
 * handoff), so a qualification time reads the same in both.
 *
 * RFC 3339 writes years 0000 to 9999 only, which is also what the event
 * parser accepts: times outside that range are refused rather than
 * printed with a fifth year digit or a sign (or from an unset struct tm).
 * An event time is never out of range; a sum of one and a duration (an
 * SLA deadline) may be, and its writer clamps it to ISO_TIME_MAX_MS.
 */
#ifndef LR_ISO_TIME_H
#define LR_ISO_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
#define ISO_TIME_MIN_MS (-62167219200000LL)
#define ISO_TIME_MAX_MS 253402300799999LL

/* "2026-03-29T01:00:00.000Z" into buf; false when ms is out of range. */
static inline bool iso_time_format(int64_t ms, char *buf, size_t cap)
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	struct tm tm;
	time_t tt;

	if (ms < ISO_TIME_MIN_MS || ms > ISO_TIME_MAX_MS)
		return false;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	tt = (time_t)sec;
	if (!gmtime_r(&tt, &tm))
		return false;
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)frac);
	return true;
}

#endif
