/*
 * quota_int.h - internals of the quota engine shared by its front end
 *   (quota.c) and its backends (quota_file.c, quota_redis.c)
 *
 * Not installed, not for programs: only the quota modules include it.
 *
 * The front end (quota.c) owns the public API of quota.h. It checks the
 * arguments and then calls the backend through the table of function
 * pointers below, in the manner of Postfix's DICT: every backend
 * handle starts with a struct sg_quota, which holds the table, the
 * settings both backends need and the error buffer.
 *
 * What the front end guarantees a backend, so that backends need not
 * check again:
 *   - q, region, txn and lim are never NULL where the prototype takes
 *     them; region is 1 to SG_REGION_MAX characters of [A-Za-z0-9._-];
 *     txn is 1 to SG_QUOTA_TXN_MAX printable ASCII characters (no
 *     space, no control);
 *   - rate_units and daily_units are within 0 to SG_QUOTA_UNITS_MAX for
 *     reserve and peek, and -1 ("all held") or within that range for
 *     commit;
 *   - lim is resolved: max_rate >= 0, burst >= 1 (the configured
 *     default already applied), max_24h < 0 (unlimited) or >= 0,
 *     sent_24h >= 0, all finite;
 *   - now_ms is never 0: "now" is read once by the front end
 *     (CLOCK_REALTIME), so that a call sees one time throughout;
 *   - deny and out are never NULL and are set to SG_QUOTA_OK / zeroed
 *     before the call.
 * A backend sets the error text with sg_quota_set_error on every
 * failure and returns a status (retryable ones when the counters cannot
 * be reached: SG_ERR_IO, SG_ERR_STATE_RETRY, ...).
 */
#ifndef SG_QUOTA_INT_H
#define SG_QUOTA_INT_H

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "quota.h"

/* Largest unit count of one call (one message has at most 50
 * recipients; this only keeps the sums far from overflow). */
#define SG_QUOTA_UNITS_MAX  1000000LL

/* Size of the error buffer of a handle. */
#define SG_QUOTA_ERR_MAX    256

/*
 * The backend table. Each member has the meaning of the public function
 * of the same name in quota.h, with the guarantees listed above.
 * close releases the whole handle (the struct sg_quota included).
 */
struct sg_quota_ops {
    const char *name;           /* "embedded", "redis" */
    SG_STATUS (*reserve)(SG_QUOTA *q, const char *region,
                         const struct sg_quota_limits *lim, const char *txn,
                         long long rate_units, long long daily_units,
                         long long now_ms, enum sg_quota_deny *deny);
    SG_STATUS (*commit)(SG_QUOTA *q, const char *region, const char *txn,
                        long long rate_units, long long daily_units,
                        long long now_ms);
    SG_STATUS (*release)(SG_QUOTA *q, const char *region, const char *txn,
                         long long now_ms);
    SG_STATUS (*peek)(SG_QUOTA *q, const char *region,
                      const struct sg_quota_limits *lim,
                      long long rate_units, long long daily_units,
                      long long now_ms, enum sg_quota_deny *deny);
    SG_STATUS (*usage)(SG_QUOTA *q, const char *region,
                       const struct sg_quota_limits *lim, long long now_ms,
                       struct sg_quota_usage *out);
    SG_STATUS (*reset)(SG_QUOTA *q, const char *region);
    void (*close)(SG_QUOTA *q);
    /* Pending slots run together (quota.h); NULL: the front end runs
     * them one by one through reserve and commit. Each slot gets st,
     * deny and err (slots of the front end: arguments checked). */
    SG_STATUS (*run_slots)(SG_QUOTA *q, struct sg_quota_slot *const *slots,
                           size_t n);
};

/*
 * The common head of every backend handle. A backend allocates its own
 * struct with this as the FIRST member, fills it in with
 * sg_quota_init, and returns a pointer to it.
 */
struct sg_quota {
    const struct sg_quota_ops *ops;
    long long burst;            /* quota_burst; 0: one second's worth */
    long long reservation_timeout_ms; /* quota_reservation_timeout */
    long long redis_timeout_ms; /* redis_timeout */
    int on_error_accept;        /* on_quota_error = accept */
    int defers;                 /* deferring calls pays (quota.h) */
    struct sg_quota_slot *slot; /* sg_quota_defer_slot, or NULL */
    /* Last failure. Written with vsnprintf into all but the last byte,
     * which stays NUL, so a reader racing a writer on another thread
     * may see mixed text but never an unterminated string. */
    char err[SG_QUOTA_ERR_MAX];
};

/*
 * sg_quota_init - fill in the common head from the configuration
 *
 * Parameters: q, the head (zeroed by the caller); ops, the backend
 *   table (static); conf.
 */
extern void sg_quota_init(SG_QUOTA *q, const struct sg_quota_ops *ops,
                          const SG_CONF *conf);

/* sg_quota_same_limits - two sets of limits are the same (all five
 *   fields) */
extern bool sg_quota_same_limits(const struct sg_quota_limits *a,
                                 const struct sg_quota_limits *b);

/* sg_quota_set_error - printf into the handle's error buffer */
extern void sg_quota_set_error(SG_QUOTA *q, const char *fmt, ...)
    SG_PRINTFLIKE(2, 3);

/*
 * sg_quota_file_open - the embedded backend (quota_file.c)
 *
 * Opens (creating it if absent) STATE_DIR/quota.db.
 * Returns: new handle (free with sg_quota_close), or NULL with err set.
 */
extern SG_QUOTA *sg_quota_file_open(const SG_CONF *conf, char *err,
                                    size_t errlen);

/*
 * sg_quota_redis_open - the Redis backend (quota_redis.c)
 *
 * Connects to redis_url. Without hiredis (HAVE_HIREDIS undefined in
 * config.h) it returns NULL with err "built without hiredis".
 * Returns: new handle (free with sg_quota_close), or NULL with err set.
 */
extern SG_QUOTA *sg_quota_redis_open(const SG_CONF *conf, char *err,
                                     size_t errlen);

/*
 * sg_quota_file_test_lock - take an embedded handle's region lock and
 *   never release it (tests of the robust mutex only: a child process
 *   calls it and is killed)
 */
extern SG_STATUS sg_quota_file_test_lock(SG_QUOTA *q, const char *region);

/*
 * sg_quota_file_test_leases - how many leases (quota_file.c) a region
 *   of an embedded handle has handed out since quota.db was made, or -1
 *   (tests: to show that a race went through the lease path)
 */
extern long long sg_quota_file_test_leases(SG_QUOTA *q, const char *region);

/*
 * sg_quota_file_test_v1 - write a quota.db of version 1 (one region,
 *   committed units in the bucket of at_ms, one hold of held units) in
 *   dir, which must have none (tests: quota.db of version 1 is carried
 *   over into version 2 when a handle opens it)
 */
extern SG_STATUS sg_quota_file_test_v1(const char *dir, const char *region,
                                       long long committed,
                                       long long at_ms, const char *txn,
                                       long long held);

#endif /* SG_QUOTA_INT_H */
