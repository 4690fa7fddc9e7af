/*
 * iso_time.h - event time as ISO 8601 UTC with milliseconds, the one
 * spelling used by every record the engine writes (assign command,
 * handoff), so a qualification time reads the same in both.
 *
 * Times outside what gmtime_r can represent are refused rather than
 * printed from an unset struct tm: they can only come from a crafted
 * changelog or assign record, never from a parsed event.
 */
#ifndef LR_ISO_TIME_H
#define LR_ISO_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* "2026-03-29T01:00:00.000Z" into buf; false when ms is out of range. */
static inline bool iso_time_format(int64_t ms, char *buf, size_t cap)
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	struct tm tm;
	time_t tt;

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
