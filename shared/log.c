/*
 * log.c - the library's diagnostic channel: one sink, set by the program;
 *   the words of log_level and syslog_facility for the daemons' sinks
 */

/* System headers. */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <syslog.h>

/* Local headers. */
#include "config.h"
#include "log.h"

/* The sink. Set once at start-up, before threads exist, then only read. */
static sg_log_sink_fn log_fn;
static void *log_arg;
static int log_max = SG_LOG_INFO;

/* sg_log_set_sink - install the program's sink */
void
sg_log_set_sink(sg_log_sink_fn fn, void *arg, int max_level)
{
    log_fn = fn;
    log_arg = arg;
    log_max = max_level;
}

/* sg_log_enabled - whether a level would reach the sink */
int
sg_log_enabled(int level)
{
    return log_fn != NULL && level <= log_max;
}

/* sg_vlog - format and hand over; truncates at 2 KB */
void
sg_vlog(int level, const char *fmt, va_list ap)
{
    char buf[2048];

    if (!sg_log_enabled(level))
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    log_fn(level, buf, log_arg);
}

/* sg_log - printf-like front end of sg_vlog */
void
sg_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sg_vlog(level, fmt, ap);
    va_end(ap);
}

/* A configuration word and the number it names. */
struct word_value {
    const char *word;
    int value;
};

/* word_lookup - the value of word in table (any case), else dflt */
static int
word_lookup(const struct word_value *table, size_t n, const char *word,
            int dflt)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcasecmp(word, table[i].word) == 0)
            return table[i].value;
    return dflt;
}

/* sg_log_level_of - the level a log_level word names */
int
sg_log_level_of(const char *word)
{
    static const struct word_value table[] = {
        { "err", SG_LOG_ERR }, { "warning", SG_LOG_WARNING },
        { "notice", SG_LOG_NOTICE }, { "info", SG_LOG_INFO },
        { "debug", SG_LOG_DEBUG }
    };

    return word_lookup(table, sizeof(table) / sizeof(table[0]), word,
                       SG_LOG_INFO);
}

/* sg_log_facility_of - the syslog facility a syslog_facility word names */
int
sg_log_facility_of(const char *word)
{
    static const struct word_value table[] = {
        { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
        { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
        { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
        { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
        { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }
    };

    return word_lookup(table, sizeof(table) / sizeof(table[0]), word,
                       LOG_MAIL);
}
