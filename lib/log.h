/* log.h -- one small logging API for every ntmobile daemon and tool. */
#ifndef NTM_LOG_H
#define NTM_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_INVALID = 0,
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/*
 * log_init: call once at start-up.  `foreground` sends messages to stderr,
 * otherwise to syslog under `ident`.  Messages above `level` are dropped.
 * `ident` is borrowed for the life of the process.
 */
void	log_init(const char *ident, int foreground, enum log_level level);
void	log_setlevel(enum log_level level);
enum log_level log_getlevel(void);
/* Parses "error", "warn", "info", "debug"; returns LOG_LEVEL_INVALID otherwise. */
enum log_level log_level_parse(const char *name);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal: only at start-up, on allocation failure or a broken IPC contract. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	vlog(enum log_level level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

#endif
