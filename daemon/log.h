/*
 * log.h - one line per message on stderr, with a syslog-style level prefix
 * ("<3>") that journald understands, in the manner of OpenBSD's log.c.
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx log and
 * exit(1); use them only at start-up or on a broken invariant. Never pass an
 * e-mail address or a name to these functions.
 */
#ifndef LR_LOG_H
#define LR_LOG_H

#include <syslog.h>

void log_init(int level); /* LOG_ERR .. LOG_DEBUG */
void log_setlevel(int level);
int log_getlevel(void);
/* An error the process cannot go on after (it then exits): LOG_ERR, so
 * that journalctl -p err finds it; never filtered. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message at syslog priority pri (LOG_ERR .. LOG_DEBUG), filtered like
 * the others: for messages from libraries that carry their own level. */
void log_at(int pri, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
