/*
 * log.c - one line per message on stderr, in the manner of OpenBSD's log.c.
 *
 * Under systemd, stderr is a journald stream and a "<N>" prefix (the syslog
 * priority) sets the entry's level; journald tells us so through
 * JOURNAL_STREAM, which names the device and inode of that stream. We add the
 * prefix only when stderr really is that stream, so a terminal or a test
 * harness reads plain "warning: ..." lines instead. Each message is formatted
 * into one buffer and written with one write(2), so lines from librdkafka's
 * threads never interleave mid-line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static int log_level = LOG_INFO;
static bool log_journal;

/* JOURNAL_STREAM is "DEV:INODE"; it may be inherited by a child whose stderr
 * was redirected, so compare it with what stderr is now. */
static bool log_journal_detect(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(int level)
{
	log_level = level;
	log_journal = log_journal_detect();
}

void log_setlevel(int level)
{
	log_level = level;
}

int log_getlevel(void)
{
	return log_level;
}

static const char *log_level_name(int pri)
{
	switch (pri) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* errstr, when not NULL, is appended as ": errstr" (log_warn, fatal). */
static void log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n;
	int r;

	if (log_journal)
		r = snprintf(line, sizeof(line), "<%d>", pri);
	else
		r = snprintf(line, sizeof(line), "%s: ", log_level_name(pri));
	n = r > 0 ? (size_t)r : 0;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2; /* truncated: keep room for '\n' */
	if (errstr != NULL) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", errstr);
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	/* Nothing useful can be done when stderr itself fails. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void log_at(int pri, const char *fmt, ...)
{
	va_list ap;

	if (pri < LOG_ERR)
		pri = LOG_ERR;
	if (pri > LOG_DEBUG)
		pri = LOG_DEBUG;
	if (pri > LOG_ERR && log_level < pri)
		return;
	va_start(ap, fmt);
	log_vwrite(pri, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	const char *errstr = strerror(errno);
	va_list ap;

	if (log_level < LOG_WARNING)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, errstr, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_WARNING)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

/* Fatal messages are never filtered: they explain why the process ended. */
void fatal(const char *fmt, ...)
{
	const char *errstr = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, errstr, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
