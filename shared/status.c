/*
 * status.c - status texts and classes, the package version, the error
 * buffer and message excerpt helpers, the daemons' pid file and
 * privilege drop, the date arithmetic of the ISO 8601 parsers
 */

/* System headers. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"

/* sg_strerror - short text for a status */
const char *
sg_strerror(SG_STATUS status)
{
    switch (status) {
    case SG_OK:
        return "success";
    case SG_PENDING:
        return "pending";
    case SG_ERR_NOMEM:
        return "out of memory";
    case SG_ERR_IO:
        return "input/output error";
    case SG_ERR_STATE_RETRY:
        return "state store busy";
    case SG_ERR_STATE:
        return "state store unreadable";
    case SG_ERR_FULL:
        return "no space left";
    case SG_ERR_CONFIG:
        return "configuration error";
    case SG_ERR_SYNTAX:
        return "syntax error";
    case SG_ERR_TOOBIG:
        return "input too large";
    case SG_ERR_INVALID:
        return "invalid input";
    case SG_ERR_NOTFOUND:
        return "not found";
    case SG_ERR_PROTO:
        return "protocol error";
    case SG_ERR_USAGE:
        return "usage error";
    case SG_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

/* sg_status_is_retryable - resource class: trying later may help */
bool
sg_status_is_retryable(SG_STATUS status)
{
    return status >= SG_ERR_NOMEM && status < SG_ERR_CONFIG;
}

/* sg_version - the package version */
const char *
sg_version(void)
{
    return PACKAGE_VERSION;
}

/* sg_seterr - printf into a caller's error buffer */
void
sg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* sg_excerpt - printable, bounded copy of untrusted text for a message */
const char *
sg_excerpt(const char *s, size_t n, char *out, size_t size)
{
    size_t i, o = 0;

    if (size == 0)
        return out;
    for (i = 0; i < n && o + 4 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (i < n && size >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* sg_write_pid_file - "PID\n" into path; "" writes nothing */
int
sg_write_pid_file(const char *path)
{
    FILE *fp;

    if (path[0] == '\0')
        return 0;
    if ((fp = fopen(path, "w")) == NULL)
        return -1;
    fprintf(fp, "%ld\n", (long)getpid());
    return fclose(fp) != 0 ? -1 : 0;
}

/* sg_drop_root - become user when running as root */
enum sg_drop
sg_drop_root(const char *user)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return SG_DROP_OK;
    if ((pw = getpwnam(user)) == NULL)
        return SG_DROP_NOUSER;
    if (pw->pw_uid == 0)
        return SG_DROP_UID0;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0
        || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return SG_DROP_FAILED;
    if (setuid(0) == 0 || geteuid() == 0)
        return SG_DROP_REGAIN;
    return SG_DROP_OK;
}

/* sg_digits - exactly n decimal digits as a number, else -1 */
int
sg_digits(const char *s, int n)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* sg_days_from_civil - days since 1970-01-01 of a proleptic Gregorian
 *   date (H. Hinnant's days_from_civil) */
long long
sg_days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
