/*
 * log.c - the library's diagnostic channel: one sink, set by the program
 */

/* System headers. */
#include <stdarg.h>
#include <stdio.h>

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
