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
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
