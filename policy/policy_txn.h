/*
 * policy_txn.h - one policy request to one reply: protocol_state to
 *                decide.h stages, quota reservations per transaction
 *
 * The glue between the codec (policy_proto.h) and the library: it
 * builds no rule of its own. For each request (or each batch of
 * requests the loop answers in one wakeup) it begins a fresh state
 * snapshot (so an import is picked up without a signal), runs the
 * stage functions of decide.h that belong to the protocol state, holds
 * or commits quota units under the transaction's id, ends the snapshot
 * and writes the reply:
 *
 *   MAIL            region, delegation, sender (for
 *                   smtpd_delay_reject = no)
 *   RCPT            region, delegation, sender (once per transaction
 *                   and sender), recipient (with the count so far);
 *                   then reserve 1 unit (rate 1, daily 0 for a mailbox
 *                   simulator recipient)
 *   DATA            only when no RCPT request was seen for the
 *                   transaction: region, sender, reserve recipient_count
 *   END-OF-MESSAGE  size; commit recipient_count of the held units (or
 *                   reserve and commit them when nothing was held)
 *   others          DUNNO
 *
 * Transactions are tied together by "instance": a request with another
 * instance ends the previous transaction (its hold is released), and so
 * does the end of the connection (sg_pd_txn_end).
 */
#ifndef SG_POLICY_TXN_H
#define SG_POLICY_TXN_H

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"
#include "quota.h"
#include "metrics.h"
#include "authz.h"
#include "policy_proto.h"

/*
 * What every connection shares: configuration, state store, quota
 * engine. Owned by the daemon; a single-threaded loop uses one.
 */
struct sg_pd {
    SG_CONF *conf;              /* borrowed; swapped on reload */
    SG_STATE *state;            /* NULL while it cannot be opened */
    SG_SNAP *snap;              /* the loop's read view */
    SG_QUOTA *quota;            /* NULL while it cannot be opened */
    SG_METRICS *metrics;        /* shared counters, or NULL: none */
    SG_METRICS_SERVER *metrics_srv; /* metrics_listen, or NULL */
    SG_DELEG *deleg;            /* delegations file (R8), NULL: none */
    int deleg_failed;           /* conf names one that did not load */
    unsigned gen;               /* bumped by sg_pd_open: cached sender
                                 * verdicts of older configs are void */
    int batch;                  /* the loop answers a batch: keep the
                                 * snapshot between requests */
    int snap_held;              /* snap begun for the batch */
    int defer;                  /* the loop runs quota calls together
                                 * (sg_pd_handle may answer 0: see
                                 * sg_pd_pending) */
    int force_defer;            /* ... with any backend (tests:
                                 * SESGATE_QUOTA_DEFER=1) */
    long long retry_at_ms;      /* next attempt to open what is NULL */
    long long clock_offset_ms;  /* added to the clock (tests) */
    char state_err[256];        /* why state is NULL */
    char quota_err[256];        /* why quota is NULL */
    char deleg_err[512];        /* why deleg did not load */
};

/* Bytes of the sender-stage cache key: sender, LF, SASL user. */
#define SG_PD_SKEY_MAX  640

/* One connection's transaction. Zero it (sg_pd_txn_init) at connect. */
struct sg_pd_txn {
    char instance[SG_QUOTA_TXN_MAX + 1];  /* as sent (bounded) */
    char id[SG_QUOTA_TXN_MAX + 1];        /* quota transaction id */
    char region[SG_REGION_MAX + 1];       /* region of the hold */
    unsigned long long conn;    /* connection serial, for ids */
    unsigned long long seq;     /* transactions on this connection */
    long long accepted;         /* recipients sesgate let through */
    long long rate_held;        /* units held under id */
    long long daily_held;
    int rcpt_seen;              /* a RCPT request came for it */
    int committed;              /* END-OF-MESSAGE done */
    /* The region, delegation and sender stages' accept (R1, R4, R2,
     * R8), reused by the transaction's later requests while sender and
     * SASL user stay the same: a transaction in flight keeps the state
     * it began with; the next one sees a new import. */
    int s_ok;                   /* s_* hold an accept */
    unsigned s_gen;             /* pd->gen it was made under */
    const struct sg_region *s_region;
    int s_owner_sandbox;        /* sg_deleg_use.owner_sandbox */
    char s_key[SG_PD_SKEY_MAX]; /* sender "\n" sasl_username */
    /* A reserve or commit deferred for the loop (pd->defer), and what
     * the request it belongs to saw before it (kept for its replay). */
    struct sg_quota_slot qslot;
    int q_rcpt_before;
};

/*
 * sg_pd_open - open the state store and the quota engine of a conf
 *
 * Failures are not fatal: what cannot be opened stays NULL, is logged,
 * and is tried again at most once a second while requests come in (a
 * state store that appears later is picked up); meanwhile requests get
 * the on_state_error / on_quota_error answer.
 */
extern void sg_pd_open(struct sg_pd *pd, SG_CONF *conf);

/* sg_pd_close - release what sg_pd_open opened (not the conf) */
extern void sg_pd_close(struct sg_pd *pd);

/* sg_pd_txn_init - a fresh transaction record for a new connection */
extern void sg_pd_txn_init(struct sg_pd_txn *t, unsigned long long conn);

/*
 * sg_pd_handle - answer one parsed request
 *
 * Parameters: pd; t, the connection's transaction; req, the request;
 *   buf, size: caller buffer (SG_POLICY_REPLY_MAX is enough).
 * Returns: the reply length (always > 0 with a big enough buffer).
 * Logs one line per refusal in Postfix's key=value shape.
 */
extern size_t sg_pd_handle(struct sg_pd *pd, struct sg_pd_txn *t,
                           const struct sg_policy_req *req, char *buf,
                           size_t size);

/*
 * Deferred quota calls (pd->defer, set by the loop when the quota
 * handle says it pays: quota.h). sg_pd_handle then answers 0 bytes for
 * a request whose reserve or commit went into t->qslot: the loop keeps
 * the request, runs the pending slots of all its connections together
 * (sg_pd_run_pending) and hands each such connection's request to
 * sg_pd_handle again, which takes the answer from the slot and replies.
 * Everything a request does before its quota call is done again then,
 * with the same snapshot (the loop's batch), so the same call is made.
 *
 * sg_pd_pending - whether t waits for sg_pd_run_pending
 */
extern int sg_pd_pending(const struct sg_pd_txn *t);

/*
 * sg_pd_run_pending - run the pending slots of n transactions (others
 *   are skipped), together
 */
extern void sg_pd_run_pending(struct sg_pd *pd, struct sg_pd_txn *const *t,
                              size_t n);

/*
 * sg_pd_batch_begin, sg_pd_batch_end - the requests answered between
 *   the two share one state snapshot (one LMDB read transaction, begun
 *   at the first request that needs it): the loop brackets each wakeup,
 *   so a new import is seen at the next wakeup, without a signal
 */
extern void sg_pd_batch_begin(struct sg_pd *pd);
extern void sg_pd_batch_end(struct sg_pd *pd);

/*
 * sg_pd_txn_end - the connection is gone: release an uncommitted hold
 */
extern void sg_pd_txn_end(struct sg_pd *pd, struct sg_pd_txn *t);

#endif /* SG_POLICY_TXN_H */
