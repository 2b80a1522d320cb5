/* log.c -- logging to stderr (foreground) or syslog, with levels. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char	*log_ident = "ntmobile";
static int		 log_foreground = 1;
static enum log_level	 log_level = LOG_LEVEL_INFO;

void
log_init(const char *ident, int foreground, enum log_level level)
{
	log_ident = ident;
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

enum log_level
log_level_parse(const char *name)
{
	if (strcmp(name, "error") == 0)
		return LOG_LEVEL_ERR;
	if (strcmp(name, "warn") == 0 || strcmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcmp(name, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	return LOG_LEVEL_INVALID;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		return LOG_ERR;
	case LOG_LEVEL_WARN:
		return LOG_WARNING;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[LOG_LEVEL_ERR] = "error", [LOG_LEVEL_WARN] = "warn",
		[LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
	};
	char msg[2048];
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n",
		    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    log_ident, names[level], msg);
	} else
		syslog(syslog_priority(level), "%s", msg);
	errno = saved;
}

static void
vlog_errno(enum log_level level, const char *fmt, va_list ap)
{
	char fmtbuf[1024];
	int saved = errno;

	snprintf(fmtbuf, sizeof(fmtbuf), "%s: %s", fmt, strerror(saved));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vlog(level, fmtbuf, ap);
#pragma GCC diagnostic pop
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
