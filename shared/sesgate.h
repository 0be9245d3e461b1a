/*
 * sesgate.h - libsesgate umbrella header: status codes, verdicts, limits
 *
 * libsesgate holds every SES rule exactly once. The milter, the policy
 * daemon and sesgatectl link it and only translate their protocol to a
 * decision context (decide.h) and the verdict back.
 *
 * Two result channels are kept apart (house style rule 2):
 *   - SG_STATUS says whether the library could do what was asked
 *     (out of memory, bad configuration, unreadable state, ...);
 *   - struct sg_verdict says what was decided about a message or a
 *     recipient (accept, defer, reject, with SMTP reply and rule).
 * An error is never folded into a verdict: the program maps a status to
 * its on_state_error policy.
 *
 * The library never logs to syslog, never prints and never exits; it
 * reports through return values, an error text in the handle, and the
 * sink of log.h that the program installs.
 */
#ifndef SESGATE_H
#define SESGATE_H

/* System headers. */
#include <stdbool.h>
#include <stddef.h>

#ifdef __GNUC__
#define SG_PRINTFLIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#define SG_UNUSED __attribute__((unused))
#else
#define SG_PRINTFLIKE(fmt, args)
#define SG_UNUSED
#endif

/*
 * Status codes. Values are grouped by class so that callers can decide
 * "retry later" versus "fix the input" without listing every code.
 */
typedef enum sg_status {
    SG_OK = 0,
    SG_PENDING = 1,             /* not run yet: answered by a later call
                                 * (quota.h, deferred operations) */
    /* Resource problems: retrying later may help. */
    SG_ERR_NOMEM = 10,          /* allocation failed */
    SG_ERR_IO = 11,             /* read/write/open failed */
    SG_ERR_STATE_RETRY = 12,    /* state store busy or being replaced */
    SG_ERR_STATE = 13,          /* state store missing, corrupt or too old */
    SG_ERR_FULL = 14,           /* disk or map full */
    /* Input problems: fix the input, retrying does not help. */
    SG_ERR_CONFIG = 20,         /* configuration file or value invalid */
    SG_ERR_SYNTAX = 21,         /* malformed input (address, JSON, line) */
    SG_ERR_TOOBIG = 22,         /* input exceeds a size bound */
    SG_ERR_INVALID = 23,        /* well-formed but semantically invalid */
    SG_ERR_NOTFOUND = 24,       /* lookup found nothing (not a failure) */
    SG_ERR_PROTO = 25,          /* protocol violation by a peer */
    SG_ERR_USAGE = 26,          /* bad arguments from the caller */
    /* Internal problems. */
    SG_ERR_INTERNAL = 30
} SG_STATUS;

/*
 * sg_strerror - short text for a status
 *
 * Returns: a static string, never NULL. Thread-safe.
 */
extern const char *sg_strerror(SG_STATUS status);

/*
 * sg_status_is_retryable - whether a status is a transient condition
 *
 * Returns: true for the resource class (NOMEM, IO, STATE_RETRY, STATE,
 * FULL); false otherwise. Programs map a retryable status of a decision
 * to on_state_error (tempfail by default).
 */
extern bool sg_status_is_retryable(SG_STATUS status);

/* What a decision says about a recipient or a message. */
typedef enum sg_action {
    SG_ACCEPT = 0,              /* no objection */
    SG_DEFER = 1,               /* 4xx: try again later */
    SG_REJECT = 2               /* 5xx: will never be accepted by SES */
} SG_ACTION;

/* Upper bound of a verdict text (SMTP reply text, without the codes). */
#define SG_VERDICT_TEXT_MAX 960
/* Upper bound of a verdict's explanation. */
#define SG_VERDICT_WHY_MAX 384

/*
 * A verdict: the action, the SMTP reply code, the enhanced status code
 * (RFC 3463), the reply text and the rule that decided (static string
 * such as "R2", "R5"; NULL when accepted). Plain struct, filled in by
 * decide.c; callers may copy it by value.
 */
struct sg_verdict {
    SG_ACTION action;
    int code;                   /* 250 for accept, else 4xx/5xx */
    char enhanced[12];          /* "5.7.1"; "2.0.0" for accept */
    char text[SG_VERDICT_TEXT_MAX];
    const char *rule;           /* static string or NULL */
    char why[SG_VERDICT_WHY_MAX]; /* explanation for humans: which rule
                                 * decided, for which region and
                                 * identity; always set on refusal, on
                                 * accept only when explain is set */
    unsigned char explain;      /* caller's wish: explain accepts too
                                 * (sesgatectl check); daemons leave it
                                 * 0 and save the formatting */
    unsigned char simulator;    /* set by sg_decide_rcpt: the recipient
                                 * is the SES mailbox simulator, which
                                 * counts toward the rate only (R4) */
};

/* SES limits that are not configurable (R4). */
#define SG_SES_MAX_RECIPIENTS   50
/* Addresses longer than this are refused as syntax errors (RFC 5321
 * limits a path to 256 octets). */
#define SG_ADDR_MAX             320
/* Longest region name we accept ("ap-southeast-5", "us-gov-west-1"). */
#define SG_REGION_MAX           32

/* Exit codes of the programs (sysexits.h values, DESIGN.md contract). */
#define SG_EXIT_OK              0
#define SG_EXIT_USAGE           64
#define SG_EXIT_SOFTWARE        70
#define SG_EXIT_TEMPFAIL        75
#define SG_EXIT_NOPERM          77
#define SG_EXIT_CONFIG          78

/*
 * sg_seterr - printf into a caller's error buffer
 *
 * Parameters: err, errlen: the buffer (NULL or 0: nothing is written);
 *   the text is cut to fit and always terminated.
 * Thread-safety: safe. The one helper behind every module's
 *   "char *err, size_t errlen" parameters.
 */
extern void sg_seterr(char *err, size_t errlen, const char *fmt, ...)
    SG_PRINTFLIKE(3, 4);

/*
 * sg_excerpt - a printable, bounded copy of untrusted text for a message
 *
 * Parameters: s, n: the text and its length (need not be terminated);
 *   out, size: the buffer. Control and non-ASCII bytes become '?'; text
 *   that does not fit is cut and ends in "..." (only when size >= 4, so a
 *   tiny buffer is never overrun). out is always terminated (size > 0).
 * Returns: out. Thread-safe.
 */
extern const char *sg_excerpt(const char *s, size_t n, char *out,
                              size_t size);

/*
 * sg_write_pid_file - write the process id and a newline to path
 *
 * Parameters: path, the file ("" writes nothing and succeeds).
 * Returns: 0, or -1 with errno set (open, write or close failed). The
 *   caller words and routes the error.
 */
extern int sg_write_pid_file(const char *path);

/* What sg_drop_root found; the daemon words the message. */
enum sg_drop {
    SG_DROP_OK = 0,             /* now user, or not root to begin with */
    SG_DROP_NOUSER,             /* no such user */
    SG_DROP_UID0,               /* the user is root (uid 0) */
    SG_DROP_FAILED,             /* initgroups/setgid/setuid failed: errno */
    SG_DROP_REGAIN              /* root could be regained afterwards */
};

/*
 * sg_drop_root - when the effective uid is 0, become user for good:
 *   its groups, gid and uid, then check that root cannot be regained
 *
 * Returns: SG_DROP_OK, or what went wrong (the process may then hold
 *   some of user's ids: the caller must exit). Not thread-safe
 *   (getpwnam): call before threads start.
 */
extern enum sg_drop sg_drop_root(const char *user);

/*
 * sg_digits - exactly n (at most 9) decimal digits at s
 *
 * Returns: their value, or -1 when one of them is not a digit (s must
 *   hold n bytes or a terminator before a non-digit). Thread-safe.
 */
extern int sg_digits(const char *s, int n);

/*
 * sg_days_from_civil - days since 1970-01-01 of the proleptic Gregorian
 *   date y-m-d (m 1 to 12, d 1 to 31; negative before 1970)
 */
extern long long sg_days_from_civil(long long y, int m, int d);

/*
 * sg_version - the package version string ("0.1.0")
 */
extern const char *sg_version(void);

#endif /* SESGATE_H */
