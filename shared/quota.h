/*
 * quota.h - the quota engine: per-region sending rate and rolling
 *           24-hour quota, shared by every process that admits mail
 *
 * SES counts recipients, per region, against MaxSendRate (per second,
 * short bursts tolerated) and Max24HourSend (rolling 24 hours; -1 is
 * unlimited) (ses-rules.md R4). sesgate admits no more than SES would
 * take and counts only what is really accepted:
 *
 *   reserve  at RCPT (or for a whole message): check and hold units for
 *            an in-flight transaction, all or none;
 *   commit   at end of message: held units become sent units;
 *   release  when the transaction ends otherwise (abort, lost
 *            connection, new transaction on the same id); reservations
 *            older than the reservation timeout are released by the
 *            engine itself, so a crashed process loses nothing but its
 *            in-flight hold.
 *
 * Units: one per recipient. Mailbox-simulator recipients count toward
 * the rate but not toward the daily quota, so reserve takes the two
 * counts separately.
 *
 * Backends (conf quota_backend): "embedded" (a shared memory-mapped
 * file in state_dir, no server) and "redis" (a Lua script run
 * atomically on a Redis server, for a fleet of hosts). Both behave the
 * same; they differ only in where the counters live.
 *
 * Reconciliation with SES's own figure. lim->sent_24h is SentLast24Hours
 * as SES reported it at lim->synced_at_ms (the last import or sync). It
 * already includes what this engine committed before that time, so the
 * two are not added. The daily figure checked is
 *
 *     max(units committed here in the last 24 hours,
 *         sent_24h + units committed here since synced_at_ms)
 *
 * plus the units held by reservations. Once synced_at_ms is 24 hours
 * old the synced figure has aged out and only the local sum counts;
 * with synced_at_ms 0 (unknown) it is max(local sum, sent_24h). A unit
 * is counted for at least 24 hours after its commit (the embedded
 * backend: at most one 10-second bucket longer).
 *
 * Time is passed in by the caller (milliseconds since the epoch) so
 * that tests can inject a clock; 0 means "now".
 */
#ifndef SG_QUOTA_H
#define SG_QUOTA_H

/* Local headers. */
#include "sesgate.h"
#include "conf.h"

typedef struct sg_quota SG_QUOTA;

/* Longest transaction id (policy "instance", milter queue id + conn). */
#define SG_QUOTA_TXN_MAX    64

/* The limits of a region, from its account (state.h sg_account). */
struct sg_quota_limits {
    double max_rate;            /* MaxSendRate, units per second */
    double burst;               /* bucket size in units; <= 0: the
                                 * configured default (one second's
                                 * worth, at least 1) */
    double max_24h;             /* Max24HourSend; < 0 unlimited */
    double sent_24h;            /* SentLast24Hours at the last sync */
    long long synced_at_ms;     /* when that figure was taken */
};

/* Why an admission failed. */
enum sg_quota_deny {
    SG_QUOTA_OK = 0,
    SG_QUOTA_RATE = 1,          /* Maximum sending rate exceeded. */
    SG_QUOTA_DAILY = 2          /* Daily message quota exceeded. */
};

/* Usage of a region, for status displays. */
struct sg_quota_usage {
    double sent_24h;            /* committed in the rolling window,
                                 * reconciled with the last sync */
    double reserved;            /* held by in-flight transactions */
    double rate_now;            /* units admitted in the last second */
    double tokens;              /* rate tokens left in the bucket */
};

/*
 * sg_quota_open - open the backend named by the configuration
 *
 * Parameters: conf (quota_backend, state_dir, redis_url, timeouts);
 *   err/errlen for the reason of a failure.
 * Returns: new handle (free with sg_quota_close), or NULL with err set.
 * Thread-safety: one handle may be used by many threads at once.
 */
extern SG_QUOTA *sg_quota_open(const SG_CONF *conf, char *err,
                               size_t errlen);

/* sg_quota_close - release; accepts NULL; returns NULL */
extern SG_QUOTA *sg_quota_close(SG_QUOTA *q);

/*
 * sg_quota_reserve - check and hold units for a transaction
 *
 * Parameters: region; lim, the region's limits; txn, the transaction id
 *   (reserving again under the same id adds to its hold); rate_units
 *   and daily_units, what this step adds (e.g. 1 and 1 for an ordinary
 *   recipient, 1 and 0 for a simulator address); now_ms (0 = now);
 *   deny, set to SG_QUOTA_OK when admitted, else the limit that refused
 *   (nothing is held then: all or none).
 * Returns: SG_OK (see *deny), or a retryable status when the backend
 *   cannot be reached (apply on_state_error).
 */
extern SG_STATUS sg_quota_reserve(SG_QUOTA *q, const char *region,
                                  const struct sg_quota_limits *lim,
                                  const char *txn, long long rate_units,
                                  long long daily_units, long long now_ms,
                                  enum sg_quota_deny *deny);

/*
 * sg_quota_commit - turn a transaction's hold into sent units
 *
 * Parameters: rate_units/daily_units, how many of the held units were
 *   really accepted (the rest is released); -1 for "all held".
 * Returns: SG_OK (also when there is no such hold: nothing to do).
 */
extern SG_STATUS sg_quota_commit(SG_QUOTA *q, const char *region,
                                 const char *txn, long long rate_units,
                                 long long daily_units, long long now_ms);

/* sg_quota_release - drop a transaction's hold; SG_OK if none */
extern SG_STATUS sg_quota_release(SG_QUOTA *q, const char *region,
                                  const char *txn, long long now_ms);

/*
 * sg_quota_peek - would units be admitted now? (consumes nothing)
 *
 * For sesgatectl check: same answer as sg_quota_reserve, no change.
 */
extern SG_STATUS sg_quota_peek(SG_QUOTA *q, const char *region,
                               const struct sg_quota_limits *lim,
                               long long rate_units, long long daily_units,
                               long long now_ms, enum sg_quota_deny *deny);

/*
 * sg_quota_usage - a region's current usage
 *
 * sent_24h and reserved are exact. With the embedded backend, tokens
 * leaves out the unspent part of the threads' leases (at most 128 per
 * thread, see quota_file.c) and rate_now counts a lease's units when
 * it is given back (within 100 ms).
 */
extern SG_STATUS sg_quota_usage(SG_QUOTA *q, const char *region,
                                const struct sg_quota_limits *lim,
                                long long now_ms,
                                struct sg_quota_usage *out);

/*
 * sg_quota_reset - forget a region's counters and holds (operators:
 *   sesgatectl quota reset --region R)
 */
extern SG_STATUS sg_quota_reset(SG_QUOTA *q, const char *region);

/*
 * Deferred operations: the quota calls of an event loop sent together.
 *
 * A program that serves many clients from one thread (sesgate-policyd)
 * would wait for one round trip per reserve or commit with the Redis
 * backend, one client after another. Instead it gives the handle a
 * slot of the client it is about to serve (sg_quota_defer_slot). A
 * reserve or commit made while an empty slot is set is not run: its
 * checked arguments go into the slot and it returns SG_PENDING, and the
 * caller stops serving that client. Once every ready client has been
 * served that far, sg_quota_run_slots runs the pending slots together
 * (the Redis backend: one script call for those of one region and one
 * set of limits) and stores each answer in its slot. The caller then
 * serves each such client again from the start of the same request:
 * the same reserve or commit, made with the same arguments while its
 * answered slot is set, takes the answer from the slot (the slot is
 * empty again) and returns it as if it had run then. Release, peek,
 * usage and reset always run at once.
 *
 * Only for a handle used by one thread (the slot is the handle's), and
 * only where sg_quota_defers says it pays: the embedded backend answers
 * in well under a microsecond, and redis_batch_max = 1 asks for one
 * call per operation.
 */
enum sg_quota_slot_state {
    SG_QSLOT_EMPTY = 0,
    SG_QSLOT_PENDING = 1,       /* arguments in, waiting for its run */
    SG_QSLOT_ANSWERED = 2       /* st, deny, err hold the answer */
};

#define SG_QUOTA_SLOT_ERR   256

struct sg_quota_slot {
    enum sg_quota_slot_state state;
    char op;                    /* 'r' reserve, 'c' commit */
    char region[SG_REGION_MAX + 1];
    char txn[SG_QUOTA_TXN_MAX + 1];
    struct sg_quota_limits lim; /* reserve: as resolved (burst set) */
    long long rate_units;
    long long daily_units;
    long long now_ms;
    SG_STATUS st;               /* the answer */
    enum sg_quota_deny deny;    /* reserve: the limit that refused */
    char err[SG_QUOTA_SLOT_ERR]; /* the failure's text, st != SG_OK */
};

/*
 * sg_quota_slot_forget - empty a slot whose answer nobody took back
 *   (the request failed before its quota call on the replay); logged
 *   when that answer holds units, which are left to expire
 */
extern void sg_quota_slot_forget(struct sg_quota_slot *s);

/* sg_quota_defers - whether deferring the handle's calls pays */
extern bool sg_quota_defers(const SG_QUOTA *q);

/*
 * sg_quota_defer_slot - the slot of the client served next; NULL: run
 *   every call at once (the default)
 */
extern void sg_quota_defer_slot(SG_QUOTA *q, struct sg_quota_slot *slot);

/*
 * sg_quota_run_slots - run n pending slots (others are skipped), each
 *   answered in its slot, in the order given where they share a region
 *
 * Returns: SG_OK (each slot has its own status), or SG_ERR_USAGE.
 */
extern SG_STATUS sg_quota_run_slots(SG_QUOTA *q,
                                    struct sg_quota_slot *const *slots,
                                    size_t n);

/* sg_quota_error - text of the handle's last failure; never NULL */
extern const char *sg_quota_error(const SG_QUOTA *q);

#endif /* SG_QUOTA_H */
