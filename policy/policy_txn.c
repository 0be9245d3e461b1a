/*
 * policy_txn.c - one policy request to one reply (see policy_txn.h)
 *
 * Protocol glue only: every rule is a decide.h stage function; this
 * file chooses the stages for a protocol_state, keeps the per
 * transaction count of recipients and quota units, and turns verdicts
 * and failures into replies.
 *
 * Quota: holds, commits and releases go through decide.c's
 * sg_decide_reserve/commit/release, which own SES's 454 texts (R4).
 */

/* Configuration (feature macros first). */
#include "config.h"

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "log.h"
#include "addr.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "quota.h"
#include "decide.h"
#include "metrics.h"
#include "authz.h"
#include "policy_proto.h"
#include "policy_txn.h"

/* now_ms - wall clock in milliseconds, plus the test offset */
static long long
now_ms(const struct sg_pd *pd)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000
           + pd->clock_offset_ms;
}

/* try_open - (re)open the state store and the quota engine */
static void
try_open(struct sg_pd *pd)
{
    if (pd->state == NULL) {
        pd->state_err[0] = '\0';
        pd->state = sg_state_open(pd->conf->state_dir, SG_STATE_RDONLY,
                                  pd->conf->state_max_size, pd->state_err,
                                  sizeof(pd->state_err));
        if (pd->state != NULL
            && (pd->snap = sg_snap_new(pd->state)) == NULL) {
            pd->state = sg_state_close(pd->state);
            snprintf(pd->state_err, sizeof(pd->state_err),
                     "out of memory");
        }
        if (pd->state != NULL)
            sg_log(SG_LOG_INFO, "state store in %s opened",
                   pd->conf->state_dir);
    }
    if (pd->quota == NULL) {
        pd->quota_err[0] = '\0';
        pd->quota = sg_quota_open(pd->conf, pd->quota_err,
                                  sizeof(pd->quota_err));
    }
}

/* sg_pd_open - open the state store and the quota engine of a conf */
void
sg_pd_open(struct sg_pd *pd, SG_CONF *conf)
{
    pd->conf = conf;
    pd->gen++;
    pd->snap_held = 0;
    pd->deleg_failed = 0;
    pd->deleg_err[0] = '\0';
    /* The daemon checks the file before it starts or takes a reload;
     * one that breaks in between defers (on_state_error). */
    if (conf->delegations[0] != '\0'
        && (pd->deleg = sg_deleg_load(conf->delegations, pd->deleg_err,
                                      sizeof(pd->deleg_err))) == NULL) {
        pd->deleg_failed = 1;
        sg_log(SG_LOG_ERR, "delegations: %s (answering on_state_error = "
               "%s)", pd->deleg_err, conf->on_state_error);
    }
    try_open(pd);
    if (pd->state == NULL)
        sg_log(SG_LOG_WARNING, "state store unavailable: %s "
               "(answering on_state_error = %s until it is)",
               pd->state_err, conf->on_state_error);
    if (pd->quota == NULL)
        sg_log(SG_LOG_WARNING, "quota counters unavailable: %s "
               "(answering on_quota_error = %s until they are)",
               pd->quota_err, conf->on_quota_error);
    pd->retry_at_ms = now_ms(pd) + 1000;
}

/* sg_pd_close - release what sg_pd_open opened */
void
sg_pd_close(struct sg_pd *pd)
{
    pd->snap_held = 0;
    pd->snap = sg_snap_free(pd->snap);
    pd->state = sg_state_close(pd->state);
    pd->deleg = sg_deleg_free(pd->deleg);
    pd->quota = sg_quota_close(pd->quota);
}

/* sg_pd_txn_init - a fresh transaction record for a new connection */
void
sg_pd_txn_init(struct sg_pd_txn *t, unsigned long long conn)
{
    memset(t, 0, sizeof(*t));
    t->conn = conn;
}

/* fnv1a - 64-bit FNV-1a of a string (short ids for long instances) */
static unsigned long long
fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * make_id - the quota transaction id: unique per host, printable, at
 *   most SG_QUOTA_TXN_MAX characters (quota.h)
 */
static void
make_id(struct sg_pd_txn *t, const char *instance)
{
    static long pid;
    char *p;
    int n;

    if (pid == 0)
        pid = (long)getpid();
    if (*instance == '\0')
        n = snprintf(t->id, sizeof(t->id), "pd%ld.c%llu.%llu",
                     pid, t->conn, t->seq);
    else if (strlen(instance) <= 40)
        n = snprintf(t->id, sizeof(t->id), "pd%ld.%s", pid,
                     instance);
    else
        n = snprintf(t->id, sizeof(t->id), "pd%ld.h%016llx",
                     pid, fnv1a(instance));
    (void)n;
    for (p = t->id; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
}

/* release_hold - give back what a transaction holds */
static void
release_hold(struct sg_pd *pd, struct sg_pd_txn *t)
{
    SG_STATUS st;

    if (t->rate_held + t->daily_held > 0 && !t->committed
        && pd->quota != NULL) {
        st = sg_decide_release(pd->quota, sg_region_lookup(t->region),
                               t->id, now_ms(pd));
        if (st != SG_OK)
            sg_log(SG_LOG_WARNING, "quota release of %s: %s", t->id,
                   sg_quota_error(pd->quota));
    }
    t->rate_held = t->daily_held = 0;
}

/* begin_txn - start a transaction when the instance changes */
static void
begin_txn(struct sg_pd *pd, struct sg_pd_txn *t, const char *instance)
{
    if (t->seq > 0 && strncmp(t->instance, instance,
                              sizeof(t->instance) - 1) == 0
        && strlen(instance) < sizeof(t->instance))
        return;
    /* "Once Postfix sends a query with a different instance attribute
     * over that same policy connection, the previous message delivery
     * is either completed or aborted." (SMTPD_POLICY_README) */
    release_hold(pd, t);
    t->seq++;
    snprintf(t->instance, sizeof(t->instance), "%s", instance);
    make_id(t, instance);
    t->region[0] = '\0';
    t->accepted = 0;
    t->rcpt_seen = 0;
    t->committed = 0;
    t->s_ok = 0;
    t->s_owner_sandbox = 0;
}

/* sg_pd_pending - whether t waits for sg_pd_run_pending */
int
sg_pd_pending(const struct sg_pd_txn *t)
{
    return t->qslot.state == SG_QSLOT_PENDING;
}

/* sg_pd_run_pending - run the pending slots of n transactions */
void
sg_pd_run_pending(struct sg_pd *pd, struct sg_pd_txn *const *t, size_t n)
{
    struct sg_quota_slot *slots[256];
    size_t i, j, k;

    for (i = 0; i < n; i += k) {
        for (k = 0; k < 256 && i + k < n; k++)
            slots[k] = &t[i + k]->qslot;
        if (pd->quota != NULL) {
            sg_quota_run_slots(pd->quota, slots, k);
            continue;
        }
        /* The handle is gone (cannot happen within one wakeup): each
         * pending call fails as an unreachable engine would. */
        for (j = 0; j < k; j++) {
            if (slots[j]->state != SG_QSLOT_PENDING)
                continue;
            slots[j]->st = SG_ERR_IO;
            snprintf(slots[j]->err, sizeof(slots[j]->err),
                     "quota counters closed");
            slots[j]->state = SG_QSLOT_ANSWERED;
        }
    }
}

/* sg_pd_batch_begin - the following requests share one snapshot */
void
sg_pd_batch_begin(struct sg_pd *pd)
{
    pd->batch = 1;
}

/* sg_pd_batch_end - end the batch's snapshot */
void
sg_pd_batch_end(struct sg_pd *pd)
{
    if (pd->snap_held)
        sg_snap_end(pd->snap);
    pd->snap_held = 0;
    pd->batch = 0;
}

/* sg_pd_txn_end - the connection is gone: release an uncommitted hold */
void
sg_pd_txn_end(struct sg_pd *pd, struct sg_pd_txn *t)
{
    release_hold(pd, t);
}

/* safe - a request value for a log line: bounded, no control chars */
static const char *
safe(const char *s, char *buf, size_t size)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

/*
 * log_refusal - one line per refusal, Postfix's key=value shape:
 *   QUEUEID: reject: RCPT from host[addr]: 554 5.7.1 TEXT; from=<..>
 *   to=<..> proto=ESMTP helo=<..> region=R rule=RN
 */
static void
log_refusal(const struct sg_policy_req *req, const char *region,
            const char *reply_code, const char *text, const char *rule)
{
    char q[64], host[256], addr[64], from[330], to[330], proto[16];
    char helo[256], sasl[256];

    safe(req->sasl_username, sasl, sizeof(sasl));
    sg_log(SG_LOG_NOTICE, "%s: reject: %s from %s[%s]: %s %s; from=<%s> "
           "to=<%s> proto=%s helo=<%s>%s%s region=%s rule=%s",
           req->queue_id[0] != '\0' ? safe(req->queue_id, q, sizeof(q))
           : "NOQUEUE", req->protocol_state[0] != '\0'
           ? sg_policy_pstate_name(req->pstate) : "?",
           req->client_name[0] != '\0'
           ? safe(req->client_name, host, sizeof(host)) : "unknown",
           safe(req->client_address, addr, sizeof(addr)), reply_code,
           text, safe(req->sender, from, sizeof(from)),
           safe(req->recipient, to, sizeof(to)),
           req->protocol_name[0] != '\0'
           ? safe(req->protocol_name, proto, sizeof(proto)) : "SMTP",
           safe(req->helo_name, helo, sizeof(helo)),
           sasl[0] != '\0' ? " sasl_username=" : "", sasl,
           region != NULL && region[0] != '\0' ? region : "-",
           rule != NULL ? rule : "-");
}

/* reply_verdict - the reply for a verdict; log it if it refuses */
static size_t
reply_verdict(const struct sg_policy_req *req, const char *region,
              const struct sg_verdict *v, char *buf, size_t size)
{
    char code[24];
    size_t n;

    n = sg_policy_reply_buf(v, buf, size);
    if (v->action != SG_ACCEPT) {
        snprintf(code, sizeof(code), "%d %s", v->code, v->enhanced);
        log_refusal(req, region, code, v->text, v->rule);
    }
    return n;
}

/*
 * reply_failure - on_state_error / on_quota_error: "tempfail" answers
 *   DEFER_IF_PERMIT 4.3.0 (the mail may still be refused by a later
 *   restriction, never let through), "accept" answers DUNNO; logged
 *   either way.
 */
static size_t
reply_failure(const struct sg_policy_req *req, const char *policy,
              const char *what, const char *detail, char *buf, size_t size)
{
    char text[400];

    snprintf(text, sizeof(text), "4.3.0 sesgate: %s unavailable, try "
             "again later", what);
    if (strcmp(policy, "accept") == 0) {
        sg_log(SG_LOG_WARNING, "%s unavailable (%s): accepting %s "
               "request as configured", what, detail,
               sg_policy_pstate_name(req->pstate));
        return sg_policy_action_buf("DUNNO", NULL, buf, size);
    }
    sg_log(SG_LOG_WARNING, "%s unavailable (%s): deferring", what,
           detail);
    log_refusal(req, NULL, "DEFER_IF_PERMIT", text, "state");
    return sg_policy_action_buf("DEFER_IF_PERMIT", text, buf, size);
}

/*
 * reserve - hold units for the transaction; *qfail set when the quota
 *   engine failed (the caller answers on_quota_error)
 */
static SG_STATUS
reserve(struct sg_pd *pd, struct sg_pd_txn *t, const char *region,
        long long rate, long long daily, struct sg_verdict *v, int *qfail)
{
    SG_STATUS st;

    *qfail = 0;
    /* quota_counted_by = milter: the milter on the same MTA holds and
     * commits, so that a recipient is counted once; v stays the accept
     * of the stages before. */
    if (strcmp(pd->conf->quota_counted_by, "milter") == 0)
        return SG_OK;
    if (pd->quota == NULL) {
        *qfail = 1;
        return SG_OK;
    }
    st = sg_decide_reserve(pd->conf, pd->snap, pd->quota,
                           sg_region_lookup(region), t->id, rate, daily,
                           now_ms(pd), v);
    if (st == SG_ERR_STATE || st == SG_PENDING)
        return st;              /* the region's account: on_state_error;
                                 * or deferred: the loop asks again */
    if (st != SG_OK) {
        *qfail = 1;             /* the quota engine: on_quota_error */
        return SG_OK;
    }
    if (v->action != SG_ACCEPT)
        return SG_OK;
    snprintf(t->region, sizeof(t->region), "%s", region);
    t->rate_held += rate;
    t->daily_held += daily;
    return SG_OK;
}

/* null_path - Postfix sends the null sender as "": the library's "<>" */
static const char *
null_path(const char *sender)
{
    return sender[0] == '\0' ? "<>" : sender;
}

/* sender_key - the cache key of a request's sender stages; 0 when it
 *   does not fit (then nothing is cached) */
static int
sender_key(const struct sg_policy_req *req, char *key, size_t size)
{
    size_t a = strlen(req->sender), b = strlen(req->sasl_username);

    if (a + b + 2 > size)
        return 0;
    memcpy(key, req->sender, a);
    key[a] = '\n';
    memcpy(key + a + 1, req->sasl_username, b + 1);
    return 1;
}

/*
 * stage_sender - region, delegation (R8) and sender stages, as the
 *   milter runs them at MAIL FROM; returns the state status, *region
 *   set when a region was found. The envelope is all a policy request
 *   has: the delegated identity covers the envelope sender (Source, and
 *   Return-Path for entries that cover it); From: and the X-SES-*-ARN
 *   headers are the milter's. An accept is kept for the transaction's
 *   later requests with the same sender and SASL user.
 */
static SG_STATUS
stage_sender(struct sg_pd *pd, struct sg_pd_txn *t,
             const struct sg_policy_req *req,
             const struct sg_region **region, struct sg_verdict *v)
{
    struct sg_deleg_ctx dcbuf;
    const struct sg_deleg_ctx *dc = NULL;
    struct sg_deleg_use use;
    char key[SG_PD_SKEY_MAX];
    int cacheable;
    SG_STATUS st;

    /* Without an instance every request is one endless transaction:
     * nothing is kept then. */
    cacheable = req->instance[0] != '\0'
                && sender_key(req, key, sizeof(key));
    if (cacheable && t->s_ok && t->s_gen == pd->gen
        && strcmp(t->s_key, key) == 0) {
        *region = t->s_region;
        return SG_OK;
    }
    t->s_ok = 0;
    memset(&use, 0, sizeof(use));
    if (pd->deleg != NULL) {
        dcbuf.dl = pd->deleg;
        dcbuf.sasl_user = req->sasl_username[0] != '\0'
                          ? req->sasl_username : NULL;
        dcbuf.sender = null_path(req->sender);
        dc = &dcbuf;
    }
    st = sg_decide_region(pd->conf, pd->snap, NULL, null_path(req->sender),
                          region, v);
    if (st != SG_OK || v->action != SG_ACCEPT)
        return st;
    if (dc != NULL) {
        st = sg_decide_delegation(pd->conf, pd->snap, *region, dc, NULL,
                                  NULL, &use, v);
        if (st != SG_OK || v->action != SG_ACCEPT)
            return st;
    }
    st = sg_decide_sender_ex(pd->conf, pd->snap, *region,
                             null_path(req->sender), dc, v);
    if (st != SG_OK || v->action != SG_ACCEPT)
        return st;
    t->s_owner_sandbox = use.owner_sandbox;
    if (!cacheable)
        return st;
    memcpy(t->s_key, key, strlen(key) + 1);
    t->s_region = *region;
    t->s_gen = pd->gen;
    t->s_ok = 1;
    return st;
}

/* on_rcpt - RCPT: region, sender, recipient, then hold one unit */
static SG_STATUS
on_rcpt(struct sg_pd *pd, struct sg_pd_txn *t,
        const struct sg_policy_req *req, const struct sg_region **region,
        struct sg_verdict *v, int *qfail)
{
    SG_STATUS st;

    t->rcpt_seen = 1;
    if ((st = stage_sender(pd, t, req, region, v)) != SG_OK
        || v->action != SG_ACCEPT)
        return st;
    /* Delegated sending: the owner's sandbox applies too (R8). */
    st = sg_decide_rcpt_ex(pd->conf, pd->snap, *region, req->recipient,
                           (size_t)t->accepted, t->daily_held,
                           t->s_owner_sandbox, v);
    if (st != SG_OK || v->action != SG_ACCEPT)
        return st;
    /* Identity-owner policies (R8) for a sender mapped to another
     * account's principal. No headers here: each recipient is judged
     * alone, with the envelope sender standing for From:. */
    if (pd->deleg != NULL) {
        struct sg_owner_ctx oc;
        struct sg_verdict ov;
        const char *rcpts[1];

        memset(&oc, 0, sizeof(oc));
        oc.dl = pd->deleg;
        oc.sasl_user = req->sasl_username[0] != '\0' ? req->sasl_username
                       : NULL;
        oc.client_addr = req->client_address[0] != '\0'
                         ? req->client_address : NULL;
        if (sg_decide_owner_principal(pd->conf, &oc) != NULL) {
            rcpts[0] = req->recipient;
            oc.sender = null_path(req->sender);
            oc.rcpts = rcpts;
            oc.nrcpt = 1;
            /* Its own verdict: v keeps the recipient's (simulator). */
            st = sg_decide_owner_policy(pd->conf, pd->snap, *region, &oc,
                                        &ov);
            if (st != SG_OK)
                return st;
            if (ov.action != SG_ACCEPT) {
                *v = ov;
                return SG_OK;
            }
        }
    }
    st = reserve(pd, t, (*region)->name, 1, v->simulator ? 0 : 1, v, qfail);
    if (st == SG_OK && !*qfail && v->action == SG_ACCEPT)
        t->accepted++;
    return st;
}

/* on_data - DATA: checks and hold only when RCPT was not seen */
static SG_STATUS
on_data(struct sg_pd *pd, struct sg_pd_txn *t,
        const struct sg_policy_req *req, const struct sg_region **region,
        struct sg_verdict *v, int *qfail)
{
    SG_STATUS st;
    long long n = req->recipient_count;

    if (t->rcpt_seen || t->rate_held > 0)
        return SG_OK;
    if ((st = stage_sender(pd, t, req, region, v)) != SG_OK
        || v->action != SG_ACCEPT)
        return st;
    if (n <= 0)
        return SG_OK;
    if (n > SG_SES_MAX_RECIPIENTS * 100)
        n = SG_SES_MAX_RECIPIENTS * 100;
    st = reserve(pd, t, (*region)->name, n, n, v, qfail);
    if (st == SG_OK && !*qfail && v->action == SG_ACCEPT)
        t->accepted = n;
    return st;
}

/* on_eom - END-OF-MESSAGE: size, then commit what Postfix accepted */
static SG_STATUS
on_eom(struct sg_pd *pd, struct sg_pd_txn *t,
       const struct sg_policy_req *req, const struct sg_region **region,
       struct sg_verdict *v, int *qfail)
{
    SG_STATUS st;
    long long n = req->recipient_count;
    long long rate, daily;

    if (t->committed)
        return SG_OK;
    if ((st = stage_sender(pd, t, req, region, v)) != SG_OK
        || v->action != SG_ACCEPT)
        goto refused;
    sg_decide_size(pd->conf, req->size, v);
    if (v->action != SG_ACCEPT)
        goto refused;
    if (n < 0)
        n = t->accepted;
    if (n > SG_SES_MAX_RECIPIENTS * 100)
        n = SG_SES_MAX_RECIPIENTS * 100;
    if (t->rate_held == 0 && n > 0) {
        /* Nothing held: the policy is not used at RCPT (or DATA). */
        st = reserve(pd, t, (*region)->name, n, n, v, qfail);
        if (st != SG_OK || *qfail || v->action != SG_ACCEPT)
            return st;
    }
    if (t->rate_held == 0)
        return SG_OK;
    if (pd->quota == NULL) {
        *qfail = 1;
        return SG_OK;
    }
    /* Postfix counts the recipients it accepted; some that sesgate let
     * through may have been refused by a later restriction. */
    rate = n < t->rate_held ? n : -1;
    daily = n < t->daily_held ? n : -1;
    st = sg_decide_commit(pd->quota, sg_region_lookup(t->region), t->id,
                          rate, daily, now_ms(pd));
    if (st == SG_PENDING)
        return st;
    if (st != SG_OK) {
        *qfail = 1;
        return SG_OK;
    }
    t->committed = 1;
    t->rate_held = t->daily_held = 0;
    return SG_OK;

refused:
    if (st == SG_OK)
        release_hold(pd, t);
    return st;
}

/*
 * count - a recipient verdict into the metrics: RCPT, or DATA when no
 *   RCPT request came (then all recipient_count of them); failures
 *   count under rule "state" or "quota" (policy: on_*_error)
 */
static void
count(struct sg_pd *pd, const struct sg_policy_req *req, int rcpt_before,
      const char *region, SG_ACTION action, const char *rule)
{
    long long n = 1;

    if (req->pstate == SG_PSTATE_DATA) {
        if (rcpt_before || (n = req->recipient_count) <= 0)
            return;
    } else if (req->pstate != SG_PSTATE_RCPT) {
        return;
    }
    sg_metrics_count(pd->metrics, region, rule, action, n);
}

/* failed - count and answer an on_state_error / on_quota_error case */
static size_t
failed(struct sg_pd *pd, const struct sg_policy_req *req, int rcpt_before,
       const char *region, const char *policy, const char *what,
       const char *rule, const char *detail, char *buf, size_t size)
{
    count(pd, req, rcpt_before, region,
          strcmp(policy, "accept") == 0 ? SG_ACCEPT : SG_DEFER, rule);
    return reply_failure(req, policy, what, detail, buf, size);
}

/* handle - answer one parsed request (sg_pd_handle) */
static size_t
handle(struct sg_pd *pd, struct sg_pd_txn *t,
       const struct sg_policy_req *req, char *buf, size_t size)
{
    const struct sg_region *region = NULL;
    struct sg_verdict v;
    SG_STATUS st = SG_OK;
    int rcpt_before;
    int qfail = 0;
    size_t n;

    switch (req->pstate) {
    case SG_PSTATE_MAIL:
    case SG_PSTATE_RCPT:
    case SG_PSTATE_DATA:
    case SG_PSTATE_EOM:
        break;
    default:
        /* CONNECT, EHLO, HELO, VRFY, ETRN: no SES rule applies. */
        return sg_policy_action_buf("DUNNO", NULL, buf, size);
    }
    begin_txn(pd, t, req->instance);
    /* A replay (the slot answered) sees what the request saw first. */
    rcpt_before = t->qslot.state == SG_QSLOT_ANSWERED ? t->q_rcpt_before
                  : t->rcpt_seen || t->rate_held > 0;

    if ((pd->state == NULL || pd->quota == NULL)
        && now_ms(pd) >= pd->retry_at_ms) {
        try_open(pd);
        pd->retry_at_ms = now_ms(pd) + 1000;
    }
    if (pd->state == NULL)
        return failed(pd, req, rcpt_before, NULL, pd->conf->on_state_error,
                      "state store", "state", pd->state_err, buf, size);
    if (pd->deleg_failed)
        return failed(pd, req, rcpt_before, NULL, pd->conf->on_state_error,
                      "delegations file", "state", pd->deleg_err, buf,
                      size);
    /* In a batch the snapshot stays begun until sg_pd_batch_end. */
    if (!pd->snap_held) {
        if (sg_snap_begin(pd->snap) != SG_OK)
            return failed(pd, req, rcpt_before, NULL,
                          pd->conf->on_state_error, "state store", "state",
                          sg_snap_error(pd->snap), buf, size);
        pd->snap_held = pd->batch;
    }

    memset(&v, 0, sizeof(v));
    sg_verdict_accept(&v);
    if (pd->defer && pd->quota != NULL)
        sg_quota_defer_slot(pd->quota, &t->qslot);
    switch (req->pstate) {
    case SG_PSTATE_MAIL:
        if (req->sender[0] != '\0')
            st = stage_sender(pd, t, req, &region, &v);
        break;
    case SG_PSTATE_RCPT:
        st = on_rcpt(pd, t, req, &region, &v, &qfail);
        break;
    case SG_PSTATE_DATA:
        st = on_data(pd, t, req, &region, &v, &qfail);
        break;
    case SG_PSTATE_EOM:
        st = on_eom(pd, t, req, &region, &v, &qfail);
        break;
    default:
        break;
    }
    if (pd->quota != NULL)
        sg_quota_defer_slot(pd->quota, NULL);
    if (st == SG_PENDING) {
        /* No reply yet: the loop runs the slot and asks again. */
        t->q_rcpt_before = rcpt_before;
        if (!pd->snap_held)
            sg_snap_end(pd->snap);
        return 0;
    }
    if (st != SG_OK) {
        char detail[300];

        snprintf(detail, sizeof(detail), "%s: %s", sg_strerror(st),
                 sg_snap_error(pd->snap));
        sg_snap_end(pd->snap);  /* the next request begins afresh */
        pd->snap_held = 0;
        return failed(pd, req, rcpt_before,
                      region != NULL ? region->name : NULL,
                      pd->conf->on_state_error, "state store", "state",
                      detail, buf, size);
    }
    if (!pd->snap_held)
        sg_snap_end(pd->snap);
    if (qfail)
        return failed(pd, req, rcpt_before,
                      region != NULL ? region->name : NULL,
                      pd->conf->on_quota_error, "quota counters", "quota",
                      pd->quota != NULL ? sg_quota_error(pd->quota)
                      : pd->quota_err, buf, size);
    n = reply_verdict(req, region != NULL ? region->name : t->region, &v,
                      buf, size);
    count(pd, req, rcpt_before, region != NULL ? region->name : t->region,
          v.action, v.rule);
    return n;
}

/* sg_pd_handle - answer one parsed request */
size_t
sg_pd_handle(struct sg_pd *pd, struct sg_pd_txn *t,
             const struct sg_policy_req *req, char *buf, size_t size)
{
    size_t n = handle(pd, t, req, buf, size);

    /* An answer the replay did not take (it failed before its quota
     * call) is dropped: the next request starts afresh. */
    sg_quota_slot_forget(&t->qslot);
    return n;
}
