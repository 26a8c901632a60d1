/*
 * Logging to stderr with sd-daemon(3) priority prefixes ("<4>...") so that
 * journald keeps the level. Library code in store/, schedule/ and outbox/
 * does not log: it returns errors and lists problems; the daemon and the
 * command-line tool decide what to print.
 */
#ifndef TKL_LOG_H
#define TKL_LOG_H

#include <stdarg.h>

#include <tickler/plugin.h>

/* Messages above this level are dropped. Default TKL_LOG_INFO. */
void tkl_log_set_level(int level);
int tkl_log_get_level(void);

/* Parses "err", "warning", "notice", "info" or "debug" (or 3..7).
 * Returns the level, or -EINVAL. */
int tkl_log_parse_level(const char *name);

/* Opens /dev/null on each of standard input, output and error that is
 * closed (a program started with <&- or >&-), so that no file, socket or
 * libuv handle the program opens takes their numbers: a log line would
 * land in it, and libuv refuses to close them. Call first in main().
 * Returns 0 or a negative errno. */
int tkl_std_streams_open(void);

void tkl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tkl_logv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_error(...)   tkl_log(TKL_LOG_ERR, __VA_ARGS__)
#define log_warning(...) tkl_log(TKL_LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  tkl_log(TKL_LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    tkl_log(TKL_LOG_INFO, __VA_ARGS__)
#define log_debug(...)   tkl_log(TKL_LOG_DEBUG, __VA_ARGS__)

#endif
