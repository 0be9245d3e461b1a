/*
 * log.h - the library's one diagnostic channel
 *
 * The library never calls syslog() or writes to stderr itself. A program
 * installs a sink once at start-up (syslog(LOG_MAIL) in the daemons,
 * stderr in sesgatectl); without a sink, messages are dropped.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

/* System headers. */
#include <stdarg.h>

/* Local headers. */
#include "sesgate.h"

/* Levels use syslog's numbering so a syslog sink can pass them on. */
enum sg_log_level {
    SG_LOG_ERR = 3,
    SG_LOG_WARNING = 4,
    SG_LOG_NOTICE = 5,
    SG_LOG_INFO = 6,
    SG_LOG_DEBUG = 7
};

/* A sink receives the level and the formatted, newline-free message. */
typedef void (*sg_log_sink_fn)(int level, const char *msg, void *arg);

/*
 * sg_log_set_sink - install the program's sink
 *
 * Parameters: fn, the sink (NULL drops messages); arg, passed to fn;
 *   max_level, messages above it (less important) are dropped.
 * Thread-safety: call once before threads start.
 */
extern void sg_log_set_sink(sg_log_sink_fn fn, void *arg, int max_level);

/*
 * sg_log - format a message and hand it to the sink
 *
 * Thread-safety: safe; the sink must be too. Messages longer than 2 KB
 * are truncated.
 */
extern void sg_log(int level, const char *fmt, ...) SG_PRINTFLIKE(2, 3);
extern void sg_vlog(int level, const char *fmt, va_list ap);

/* sg_log_enabled - whether a level would reach the sink */
extern int sg_log_enabled(int level);

/*
 * sg_log_level_of - the SG_LOG level a log_level word names ("err",
 *   "warning", "notice", "info", "debug"; any case)
 *
 * Returns: the level; SG_LOG_INFO for any other word. Thread-safe.
 */
extern int sg_log_level_of(const char *word);

/*
 * sg_log_facility_of - the syslog(3) facility a syslog_facility word
 *   names ("mail", "daemon", "local0" to "local7"; any case)
 *
 * Returns: the LOG_* facility; LOG_MAIL for any other word. Maps a name
 *   only: the library still never calls syslog() itself. Thread-safe.
 */
extern int sg_log_facility_of(const char *word);

#endif /* SG_LOG_H */
