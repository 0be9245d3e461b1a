/*
 * quota.c - the quota engine's front end: backend choice, argument
 *   checks, the configured burst default, the clock
 *
 * The public functions of quota.h check their arguments here, once, and
 * call the backend through its table (quota_int.h), so that the
 * embedded and the Redis backend see the same, already validated,
 * input and behave the same.
 */

/* System headers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Local headers. */
#include "config.h"
#include "log.h"
#include "quota_int.h"

/* sg_quota_init - fill in the common head from the configuration */
void
sg_quota_init(SG_QUOTA *q, const struct sg_quota_ops *ops,
              const SG_CONF *conf)
{
    q->ops = ops;
    q->burst = conf->quota_burst;
    q->reservation_timeout_ms = conf->quota_reservation_timeout * 1000;
    q->redis_timeout_ms = conf->redis_timeout;
    q->on_error_accept = conf->on_quota_error != NULL
                         && strcmp(conf->on_quota_error, "accept") == 0;
    q->err[0] = '\0';
    q->defers = 0;
    q->slot = NULL;
}

/* sg_quota_set_error - printf into the handle's error buffer */
void
sg_quota_set_error(SG_QUOTA *q, const char *fmt, ...)
{
    va_list ap;

    /* The last byte is never written: it stays NUL (quota_int.h). */
    va_start(ap, fmt);
    vsnprintf(q->err, sizeof(q->err) - 1, fmt, ap);
    va_end(ap);
}

/* sg_quota_open - open the backend named by the configuration */
SG_QUOTA *
sg_quota_open(const SG_CONF *conf, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (conf == NULL || conf->quota_backend == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "quota: no configuration");
        return NULL;
    }
    if (strcmp(conf->quota_backend, "embedded") == 0)
        return sg_quota_file_open(conf, err, errlen);
    if (strcmp(conf->quota_backend, "redis") == 0)
        return sg_quota_redis_open(conf, err, errlen);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "quota: unknown quota_backend '%.64s'",
                 conf->quota_backend);
    return NULL;
}

/* sg_quota_close - release; accepts NULL; returns NULL */
SG_QUOTA *
sg_quota_close(SG_QUOTA *q)
{
    if (q != NULL && q->ops != NULL && q->ops->close != NULL)
        q->ops->close(q);
    return NULL;
}

/* now_ms - CLOCK_REALTIME in milliseconds since the epoch */
static long long
now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (long long)time(NULL) * 1000;
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* check_region - 1 to SG_REGION_MAX characters of [A-Za-z0-9._-] */
static SG_STATUS
check_region(SG_QUOTA *q, const char *region)
{
    size_t i;

    if (region == NULL || region[0] == '\0') {
        sg_quota_set_error(q, "quota: no region");
        return SG_ERR_USAGE;
    }
    for (i = 0; region[i] != '\0'; i++) {
        char c = region[i];

        if (i >= SG_REGION_MAX) {
            sg_quota_set_error(q, "quota: region name longer than %d",
                               SG_REGION_MAX);
            return SG_ERR_USAGE;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == '.')) {
            sg_quota_set_error(q, "quota: bad character in region name");
            return SG_ERR_USAGE;
        }
    }
    return SG_OK;
}

/* check_txn - 1 to SG_QUOTA_TXN_MAX printable ASCII characters */
static SG_STATUS
check_txn(SG_QUOTA *q, const char *txn)
{
    size_t i;

    if (txn == NULL || txn[0] == '\0') {
        sg_quota_set_error(q, "quota: no transaction id");
        return SG_ERR_USAGE;
    }
    for (i = 0; txn[i] != '\0'; i++) {
        unsigned char c = (unsigned char)txn[i];

        if (i >= SG_QUOTA_TXN_MAX) {
            sg_quota_set_error(q, "quota: transaction id longer than %d",
                               SG_QUOTA_TXN_MAX);
            return SG_ERR_USAGE;
        }
        if (c <= 0x20 || c >= 0x7f) {
            sg_quota_set_error(q, "quota: bad character in transaction "
                               "id");
            return SG_ERR_USAGE;
        }
    }
    return SG_OK;
}

/* check_units - 0 to SG_QUOTA_UNITS_MAX (or -1 where "all" is meant) */
static SG_STATUS
check_units(SG_QUOTA *q, long long rate_units, long long daily_units,
            int all_ok)
{
    long long lo = all_ok ? -1 : 0;

    if (rate_units < lo || rate_units > SG_QUOTA_UNITS_MAX
        || daily_units < lo || daily_units > SG_QUOTA_UNITS_MAX) {
        sg_quota_set_error(q, "quota: unit count out of range (%lld, %lld)",
                           rate_units, daily_units);
        return SG_ERR_USAGE;
    }
    return SG_OK;
}

/*
 * resolve_limits - copy the caller's limits with the burst default
 *   applied: burst <= 0 takes quota_burst, and quota_burst 0 takes one
 *   second's worth (max_rate), at least 1 unit.
 */
static SG_STATUS
resolve_limits(SG_QUOTA *q, const struct sg_quota_limits *lim,
               struct sg_quota_limits *out)
{
    if (lim == NULL) {
        sg_quota_set_error(q, "quota: no limits");
        return SG_ERR_USAGE;
    }
    if (!isfinite(lim->max_rate) || !isfinite(lim->burst)
        || !isfinite(lim->max_24h) || !isfinite(lim->sent_24h)
        || lim->max_rate < 0 || lim->max_rate > 1e9
        || lim->burst > 1e9 || lim->max_24h > 1e15
        || lim->sent_24h > 1e15) {
        sg_quota_set_error(q, "quota: limits out of range");
        return SG_ERR_USAGE;
    }
    *out = *lim;
    if (out->burst <= 0) {
        if (q->burst > 0)
            out->burst = (double)q->burst;
        else
            out->burst = lim->max_rate;
    }
    if (out->burst < 1)
        out->burst = 1;
    if (out->max_24h < 0)
        out->max_24h = -1;
    if (out->sent_24h < 0)
        out->sent_24h = 0;
    return SG_OK;
}

/* sg_quota_same_limits - two sets of limits are the same */
bool
sg_quota_same_limits(const struct sg_quota_limits *a,
                     const struct sg_quota_limits *b)
{
    return a->max_rate == b->max_rate && a->burst == b->burst
           && a->max_24h == b->max_24h && a->sent_24h == b->sent_24h
           && a->synced_at_ms == b->synced_at_ms;
}

/*
 * defer - a reserve (lim set) or commit (lim NULL) made while a slot is
 *   set: its answer from the slot, or its arguments into the slot
 *   (SG_PENDING); *run set (SG_OK) when it must run at once instead
 */
static SG_STATUS
defer(SG_QUOTA *q, char op, const char *region,
      const struct sg_quota_limits *lim, const char *txn,
      long long rate_units, long long daily_units, long long now,
      enum sg_quota_deny *deny, bool *run)
{
    struct sg_quota_slot *s = q->slot;

    *run = false;
    if (s->state == SG_QSLOT_ANSWERED) {
        if (s->op == op && strcmp(s->region, region) == 0
            && strcmp(s->txn, txn) == 0 && s->rate_units == rate_units
            && s->daily_units == daily_units
            && (lim == NULL || sg_quota_same_limits(lim, &s->lim))) {
            s->state = SG_QSLOT_EMPTY;
            if (deny != NULL)
                *deny = s->deny;
            if (s->st != SG_OK)
                sg_quota_set_error(q, "%s", s->err);
            return s->st;
        }
        /* Not the call that was answered (the caller served another
         * request than the one it deferred): this one runs now. */
        sg_quota_slot_forget(s);
        *run = true;
        return SG_OK;
    }
    if (s->state != SG_QSLOT_EMPTY) {
        *run = true;            /* a second call before the first ran */
        return SG_OK;
    }
    s->op = op;
    snprintf(s->region, sizeof(s->region), "%s", region);
    snprintf(s->txn, sizeof(s->txn), "%s", txn);
    if (lim != NULL)
        s->lim = *lim;
    else
        memset(&s->lim, 0, sizeof(s->lim));
    s->rate_units = rate_units;
    s->daily_units = daily_units;
    s->now_ms = now != 0 ? now : now_ms();
    s->st = SG_PENDING;
    s->deny = SG_QUOTA_OK;
    s->err[0] = '\0';
    s->state = SG_QSLOT_PENDING;
    return SG_PENDING;
}

/* sg_quota_reserve - check and hold units for a transaction */
SG_STATUS
sg_quota_reserve(SG_QUOTA *q, const char *region,
                 const struct sg_quota_limits *lim, const char *txn,
                 long long rate_units, long long daily_units,
                 long long now, enum sg_quota_deny *deny)
{
    struct sg_quota_limits rl;
    enum sg_quota_deny dummy;
    SG_STATUS st;

    if (deny == NULL)
        deny = &dummy;
    *deny = SG_QUOTA_OK;
    if (q == NULL)
        return SG_ERR_USAGE;
    if ((st = check_region(q, region)) != SG_OK
        || (st = check_txn(q, txn)) != SG_OK
        || (st = check_units(q, rate_units, daily_units, 0)) != SG_OK
        || (st = resolve_limits(q, lim, &rl)) != SG_OK)
        return st;
    if (q->slot != NULL) {
        bool run;

        st = defer(q, 'r', region, &rl, txn, rate_units, daily_units, now,
                   deny, &run);
        if (!run)
            return st;
    }
    return q->ops->reserve(q, region, &rl, txn, rate_units, daily_units,
                           now != 0 ? now : now_ms(), deny);
}

/* sg_quota_commit - turn a transaction's hold into sent units */
SG_STATUS
sg_quota_commit(SG_QUOTA *q, const char *region, const char *txn,
                long long rate_units, long long daily_units, long long now)
{
    SG_STATUS st;

    if (q == NULL)
        return SG_ERR_USAGE;
    if ((st = check_region(q, region)) != SG_OK
        || (st = check_txn(q, txn)) != SG_OK
        || (st = check_units(q, rate_units, daily_units, 1)) != SG_OK)
        return st;
    if (q->slot != NULL) {
        bool run;

        st = defer(q, 'c', region, NULL, txn, rate_units, daily_units, now,
                   NULL, &run);
        if (!run)
            return st;
    }
    return q->ops->commit(q, region, txn, rate_units, daily_units,
                          now != 0 ? now : now_ms());
}

/* sg_quota_release - drop a transaction's hold */
SG_STATUS
sg_quota_release(SG_QUOTA *q, const char *region, const char *txn,
                 long long now)
{
    SG_STATUS st;

    if (q == NULL)
        return SG_ERR_USAGE;
    if ((st = check_region(q, region)) != SG_OK
        || (st = check_txn(q, txn)) != SG_OK)
        return st;
    return q->ops->release(q, region, txn, now != 0 ? now : now_ms());
}

/* sg_quota_peek - would units be admitted now? */
SG_STATUS
sg_quota_peek(SG_QUOTA *q, const char *region,
              const struct sg_quota_limits *lim, long long rate_units,
              long long daily_units, long long now,
              enum sg_quota_deny *deny)
{
    struct sg_quota_limits rl;
    enum sg_quota_deny dummy;
    SG_STATUS st;

    if (deny == NULL)
        deny = &dummy;
    *deny = SG_QUOTA_OK;
    if (q == NULL)
        return SG_ERR_USAGE;
    if ((st = check_region(q, region)) != SG_OK
        || (st = check_units(q, rate_units, daily_units, 0)) != SG_OK
        || (st = resolve_limits(q, lim, &rl)) != SG_OK)
        return st;
    return q->ops->peek(q, region, &rl, rate_units, daily_units,
                        now != 0 ? now : now_ms(), deny);
}

/* sg_quota_usage - a region's current usage */
SG_STATUS
sg_quota_usage(SG_QUOTA *q, const char *region,
               const struct sg_quota_limits *lim, long long now,
               struct sg_quota_usage *out)
{
    struct sg_quota_limits rl;
    SG_STATUS st;

    if (q == NULL || out == NULL)
        return SG_ERR_USAGE;
    memset(out, 0, sizeof(*out));
    if ((st = check_region(q, region)) != SG_OK
        || (st = resolve_limits(q, lim, &rl)) != SG_OK)
        return st;
    return q->ops->usage(q, region, &rl, now != 0 ? now : now_ms(), out);
}

/* sg_quota_reset - forget a region's counters and holds */
SG_STATUS
sg_quota_reset(SG_QUOTA *q, const char *region)
{
    SG_STATUS st;

    if (q == NULL)
        return SG_ERR_USAGE;
    if ((st = check_region(q, region)) != SG_OK)
        return st;
    return q->ops->reset(q, region);
}

/* sg_quota_slot_forget - drop an answer nobody took */
void
sg_quota_slot_forget(struct sg_quota_slot *s)
{
    if (s->state != SG_QSLOT_ANSWERED)
        return;
    /* Its hold is left to expire: releasing the transaction's id would
     * drop the units it held before this call too. */
    if (s->op == 'r' && s->st == SG_OK && s->deny == SG_QUOTA_OK)
        sg_log(SG_LOG_WARNING, "quota: the deferred reserve of %s was not "
               "taken back; its hold expires after "
               "quota_reservation_timeout", s->txn);
    s->state = SG_QSLOT_EMPTY;
}

/* sg_quota_defers - whether deferring the handle's calls pays */
bool
sg_quota_defers(const SG_QUOTA *q)
{
    return q != NULL && q->defers;
}

/* sg_quota_defer_slot - the slot of the client served next, or NULL */
void
sg_quota_defer_slot(SG_QUOTA *q, struct sg_quota_slot *slot)
{
    if (q != NULL)
        q->slot = slot;
}

/*
 * sg_quota_run_slots - run the pending slots: through the backend's
 *   run_slots, or one by one
 */
SG_STATUS
sg_quota_run_slots(SG_QUOTA *q, struct sg_quota_slot *const *slots,
                   size_t n)
{
    struct sg_quota_slot *s;
    size_t i;

    if (q == NULL || (slots == NULL && n > 0))
        return SG_ERR_USAGE;
    if (q->ops->run_slots != NULL)
        return q->ops->run_slots(q, slots, n);
    for (i = 0; i < n; i++) {
        if ((s = slots[i]) == NULL || s->state != SG_QSLOT_PENDING)
            continue;
        s->deny = SG_QUOTA_OK;
        if (s->op == 'r')
            s->st = q->ops->reserve(q, s->region, &s->lim, s->txn,
                                    s->rate_units, s->daily_units,
                                    s->now_ms, &s->deny);
        else
            s->st = q->ops->commit(q, s->region, s->txn, s->rate_units,
                                   s->daily_units, s->now_ms);
        if (s->st != SG_OK)
            snprintf(s->err, sizeof(s->err), "%s", q->err);
        s->state = SG_QSLOT_ANSWERED;
    }
    return SG_OK;
}

/* sg_quota_error - text of the handle's last failure */
const char *
sg_quota_error(const SG_QUOTA *q)
{
    if (q == NULL)
        return "quota: no handle";
    return q->err;
}
