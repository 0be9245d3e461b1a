/*
 * quota_file.c - the embedded quota backend: one shared memory-mapped
 *   file, STATE_DIR/quota.db, used by every process on the host
 *
 * Layout (host byte order and host struct layout: the file is per
 * host and per build; the header records the sizes, and a file of
 * another layout is refused rather than misread):
 *
 *   header   magic "SGQUOTA\0", version, sizes, a robust mutex that
 *            guards only the allocation of region slots
 *   regions  QF_REGIONS slots, each with its own robust process-shared
 *            mutex and, under it:
 *              - the rate token bucket: tokens and the time of the last
 *                refill; it refills at max_rate per second up to burst;
 *              - the rolling 24-hour window: a ring of 10-second
 *                buckets of committed daily units with a running sum;
 *              - the reservations (holds): an open-addressing hash
 *                table keyed by the transaction id.
 *
 * The file is created complete (sized, header and every mutex
 * initialised) under a temporary name and linked into place, so no
 * process ever sees a half-made file; two processes creating it at once
 * agree on the one that was linked first.
 *
 * Crash safety: the mutexes are PTHREAD_PROCESS_SHARED and
 * PTHREAD_MUTEX_ROBUST. When a process dies holding one, the next
 * locker gets EOWNERDEAD; it then rebuilds what a half-done update may
 * have left inconsistent (the window sum and the hold table and its
 * sums are recomputed from the buckets and the holds themselves), marks
 * the mutex consistent and carries on. A dead process's holds expire
 * after quota_reservation_timeout, released lazily: each region keeps
 * the earliest expiry time, and the first call after it sweeps the
 * table.
 *
 * Rolling window: a daily unit committed at time t goes into the bucket
 * of t. The window counts the current bucket and the QF_BUCKETS before
 * it, so a unit is counted for at least 24 hours and at most 24 hours
 * plus one bucket width (10 s): never less than SES counts it, at most
 * 10 s more. The ring advances lazily; a bucket leaving the window is
 * subtracted from the running sum, so a check is O(1) amortised.
 *
 * Reconciliation with SES's SentLast24Hours: the import or sync gives
 * sent_24h as SES saw it at synced_at. It already includes whatever we
 * sent before synced_at, so adding our whole window to it would count
 * those units twice. The daily figure used is therefore
 *
 *     used = max(window_sum, sent_24h + since_sync)
 *
 * where window_sum is everything committed here in the last 24 h and
 * since_sync is what was committed here since synced_at (the buckets
 * from the one holding synced_at on; that bucket is counted whole, so a
 * few units sent just before the sync may count twice: the error is on
 * the safe side). The max covers both directions: mail sent through
 * other paths (SES sees it, we do not) and mail we sent that SES's
 * figure does not show yet. Once synced_at is 24 h old the sync figure
 * has aged out entirely and used is window_sum. When synced_at is
 * unknown (0), used = max(window_sum, sent_24h). Units held by
 * reservations count on top of used.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "quota_int.h"
#include "state.h"

#define QF_MAGIC        "SGQUOTA"       /* 8 bytes with the NUL */
#define QF_VERSION      1
#define QF_REGIONS      32
#define QF_BUCKET_MS    10000LL         /* 10-second buckets */
#define QF_BUCKETS      8640LL          /* 24 h of them */
#define QF_RING         (QF_BUCKETS + 1) /* plus the current one */
#define QF_DAY_MS       86400000LL
#define QF_HOLDS_MAX    1024            /* holds per region */
#define QF_HOLD_SLOTS   2048            /* hash slots: load <= 1/2 */
#define QF_FILE         "quota.db"

/* A reservation. hash 0 marks a free slot. */
struct qf_hold {
    uint64_t hash;              /* of txn, never 0 */
    int64_t rate_units;         /* rate tokens taken */
    int64_t daily_units;        /* daily units held */
    int64_t created_ms;         /* last reserve under this id */
    int64_t rate_sec;           /* second of the last tokens taken */
    int64_t rate_sec_units;     /* tokens taken in that second: only
                                 * these may go back on release */
    char txn[SG_QUOTA_TXN_MAX + 1];
};

/* A region slot. Everything after lock is guarded by it. */
struct qf_region {
    pthread_mutex_t lock;
    atomic_uint ready;          /* 1 once name is set (never unset) */
    char name[SG_REGION_MAX + 1];
    /* Rate. */
    double tokens;
    int64_t tok_ms;             /* last refill; 0: bucket full */
    int64_t sec;                /* rate display: the current second */
    int64_t sec_units;          /* units taken in it */
    int64_t prev_units;         /* units taken in the second before */
    /* Daily window. */
    int64_t head;               /* newest bucket index seen */
    int64_t window_sum;         /* sum of ring */
    int64_t sync_ms;            /* synced_at that since_sum is for */
    int64_t since_sum;          /* committed in buckets >= sync bucket */
    /* Holds. */
    int64_t nholds;
    int64_t held_daily;
    int64_t held_rate;
    int64_t next_expiry_ms;     /* no hold expires before this */
    int64_t ring[QF_RING];
    struct qf_hold holds[QF_HOLD_SLOTS];
};

/* The file header. */
struct qf_header {
    char magic[8];
    uint32_t version;
    uint32_t nregions;
    uint64_t header_size;
    uint64_t region_size;
    uint64_t mutex_size;
    uint64_t file_size;
    pthread_mutex_t lock;       /* allocation of region slots */
};

/* Header size, rounded to a page so region slots start aligned. */
#define QF_HEADER_SIZE  4096
#define QF_REGION_SIZE  \
    ((sizeof(struct qf_region) + 4095) / 4096 * 4096)
#define QF_FILE_SIZE    (QF_HEADER_SIZE + QF_REGIONS * QF_REGION_SIZE)

/* The embedded handle. */
struct qf {
    struct sg_quota q;          /* must be first */
    struct qf_header *hdr;
    unsigned char *map;
    size_t map_size;
};

/* region_at - the i-th region slot of the map */
static struct qf_region *
region_at(struct qf *f, int i)
{
    return (struct qf_region *)(void *)(f->map + QF_HEADER_SIZE
                                        + (size_t)i * QF_REGION_SIZE);
}

/* init_mutex - a process-shared robust mutex */
static int
init_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc;

    if ((rc = pthread_mutexattr_init(&a)) != 0)
        return rc;
    if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED))
        == 0
        && (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
        rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

/* txn_hash - FNV-1a 64 of a transaction id, never 0 */
static uint64_t
txn_hash(const char *txn)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *txn != '\0'; txn++) {
        h ^= (unsigned char)*txn;
        h *= 1099511628211ULL;
    }
    return h != 0 ? h : 1;
}

/* hold_home - the home slot of a hash */
static size_t
hold_home(uint64_t h)
{
    return (size_t)(h ^ (h >> 29)) & (QF_HOLD_SLOTS - 1);
}

/* hold_find - the slot of txn, or -1 */
static long
hold_find(struct qf_region *r, uint64_t h, const char *txn)
{
    size_t i = hold_home(h), n;

    for (n = 0; n < QF_HOLD_SLOTS; n++, i = (i + 1) & (QF_HOLD_SLOTS - 1)) {
        if (r->holds[i].hash == 0)
            return -1;
        if (r->holds[i].hash == h && strcmp(r->holds[i].txn, txn) == 0)
            return (long)i;
    }
    return -1;
}

/* hold_insert_slot - the free slot where a new hash goes, or -1 */
static long
hold_insert_slot(struct qf_region *r, uint64_t h)
{
    size_t i = hold_home(h), n;

    for (n = 0; n < QF_HOLD_SLOTS; n++, i = (i + 1) & (QF_HOLD_SLOTS - 1))
        if (r->holds[i].hash == 0)
            return (long)i;
    return -1;
}

/*
 * hold_delete - free slot i and close the gap (backward-shift deletion
 *   of linear probing: later entries of the same probe run move up, so
 *   lookups never stop early at a hole)
 */
static void
hold_delete(struct qf_region *r, size_t i)
{
    size_t j = i, k;

    r->nholds--;
    r->held_daily -= r->holds[i].daily_units;
    r->held_rate -= r->holds[i].rate_units;
    for (;;) {
        r->holds[i].hash = 0;
        for (;;) {
            j = (j + 1) & (QF_HOLD_SLOTS - 1);
            if (r->holds[j].hash == 0)
                return;
            k = hold_home(r->holds[j].hash);
            /* Leave j where it is if its home lies cyclically in
             * (i, j]: moving it to i would put it before its home. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        r->holds[i] = r->holds[j];
        i = j;
    }
}

/* expire_holds - release holds older than the timeout (lazily) */
static void
expire_holds(struct qf *f, struct qf_region *r, int64_t now)
{
    int64_t timeout = f->q.reservation_timeout_ms;
    int64_t next = INT64_MAX;
    size_t i;

    if (now < r->next_expiry_ms)
        return;
    for (i = 0; i < QF_HOLD_SLOTS;) {
        struct qf_hold *hd = &r->holds[i];

        if (hd->hash != 0 && hd->created_ms + timeout <= now) {
            /* Daily units go back; rate tokens do not (their second is
             * long past). A delete may move a later entry into i: look
             * at i again. */
            hold_delete(r, i);
            continue;
        }
        if (hd->hash != 0 && hd->created_ms + timeout < next)
            next = hd->created_ms + timeout;
        i++;
    }
    r->next_expiry_ms = next;
}

/* ring_advance - move the window to the bucket of now */
static void
ring_advance(struct qf_region *r, int64_t now)
{
    int64_t b = now / QF_BUCKET_MS, i, sb;

    if (b <= r->head)
        return;
    sb = r->sync_ms > 0 ? r->sync_ms / QF_BUCKET_MS : INT64_MAX;
    if (b - r->head >= QF_RING) {
        /* Idle for more than a day: everything has aged out. */
        memset(r->ring, 0, sizeof(r->ring));
        r->window_sum = 0;
        r->since_sum = 0;
        r->head = b;
        return;
    }
    for (i = r->head + 1; i <= b; i++) {
        int64_t *slot = &r->ring[i % QF_RING];
        /* The bucket leaving is the one QF_RING before i. */
        if (*slot != 0) {
            r->window_sum -= *slot;
            if (i - QF_RING >= sb)
                r->since_sum -= *slot;
            *slot = 0;
        }
    }
    r->head = b;
}

/*
 * sync_update - recompute since_sum when the caller's synced_at differs
 *   from the one it was computed for (once per import/sync)
 */
static void
sync_update(struct qf_region *r, int64_t sync_ms)
{
    int64_t sb, i, lo;

    if (sync_ms == r->sync_ms)
        return;
    r->sync_ms = sync_ms;
    r->since_sum = 0;
    if (sync_ms <= 0)
        return;
    sb = sync_ms / QF_BUCKET_MS;
    lo = r->head - QF_RING + 1;
    for (i = sb > lo ? sb : lo; i <= r->head; i++)
        r->since_sum += r->ring[i % QF_RING];
}

/* daily_used - committed daily units, reconciled (file comment) */
static double
daily_used(struct qf_region *r, const struct sg_quota_limits *lim,
           int64_t now)
{
    double w = (double)r->window_sum;
    double s;

    if (lim->synced_at_ms <= 0)
        s = lim->sent_24h;
    else if (now - lim->synced_at_ms >= QF_DAY_MS)
        s = 0;
    else
        s = lim->sent_24h + (double)r->since_sum;
    return w > s ? w : s;
}

/* refill - bring the token bucket to now */
static void
refill(struct qf_region *r, const struct sg_quota_limits *lim, int64_t now)
{
    if (r->tok_ms == 0) {
        r->tokens = lim->burst;
        r->tok_ms = now;
        return;
    }
    if (now > r->tok_ms) {
        r->tokens += (double)(now - r->tok_ms) * lim->max_rate / 1000.0;
        r->tok_ms = now;
    }
    if (r->tokens > lim->burst)
        r->tokens = lim->burst;
}

/* note_rate - count units taken in the current second (display) */
static void
note_rate(struct qf_region *r, int64_t now, int64_t units)
{
    int64_t s = now / 1000;

    if (s != r->sec) {
        r->prev_units = s == r->sec + 1 ? r->sec_units : 0;
        r->sec = s;
        r->sec_units = 0;
    }
    r->sec_units += units;
}

/* slot_repair - rebuild what a process that died mid-update may have
 *   left inconsistent: the running sums and the hold hash table */
static void
slot_repair(struct qf_region *r)
{
    static struct qf_hold keep[QF_HOLD_SLOTS];
    static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
    size_t i, n = 0;
    int64_t sum = 0, sync = r->sync_ms;

    for (i = 0; i < QF_RING; i++)
        sum += r->ring[i];
    r->window_sum = sum;
    r->sync_ms = -1;
    sync_update(r, sync);
    pthread_mutex_lock(&keep_lock);
    for (i = 0; i < QF_HOLD_SLOTS; i++) {
        struct qf_hold *hd = &r->holds[i];

        hd->txn[SG_QUOTA_TXN_MAX] = '\0';
        if (hd->hash != 0 && hd->txn[0] != '\0'
            && hd->hash == txn_hash(hd->txn) && n < QF_HOLDS_MAX)
            keep[n++] = *hd;
        hd->hash = 0;
    }
    r->nholds = 0;
    r->held_daily = 0;
    r->held_rate = 0;
    for (i = 0; i < n; i++) {
        long s;

        if (hold_find(r, keep[i].hash, keep[i].txn) >= 0)
            continue;           /* a half-moved duplicate */
        if ((s = hold_insert_slot(r, keep[i].hash)) < 0)
            break;
        r->holds[s] = keep[i];
        r->nholds++;
        r->held_daily += keep[i].daily_units;
        r->held_rate += keep[i].rate_units;
    }
    pthread_mutex_unlock(&keep_lock);
    r->next_expiry_ms = 0;      /* sweep at the next call */
}

/* lock_slot - lock a region slot, recovering from a dead owner */
static SG_STATUS
lock_slot(struct qf *f, struct qf_region *r)
{
    int rc = pthread_mutex_lock(&r->lock);

    if (rc == EOWNERDEAD) {
        slot_repair(r);
        if (pthread_mutex_consistent(&r->lock) != 0) {
            pthread_mutex_unlock(&r->lock);
            sg_quota_set_error(&f->q, "quota: region lock cannot be "
                               "recovered");
            return SG_ERR_STATE;
        }
        return SG_OK;
    }
    if (rc != 0) {
        sg_quota_set_error(&f->q, "quota: region lock: %s", strerror(rc));
        return SG_ERR_STATE;
    }
    return SG_OK;
}

/* find_region - the slot of a region; with create, allocate it */
static SG_STATUS
find_region(struct qf *f, const char *name, int create,
            struct qf_region **out)
{
    struct qf_region *r;
    int i, rc;

    *out = NULL;
    for (i = 0; i < QF_REGIONS; i++) {
        r = region_at(f, i);
        if (!atomic_load_explicit(&r->ready, memory_order_acquire))
            break;              /* slots are taken in order */
        if (strcmp(r->name, name) == 0) {
            *out = r;
            return SG_OK;
        }
    }
    if (!create)
        return SG_ERR_NOTFOUND;
    rc = pthread_mutex_lock(&f->hdr->lock);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&f->hdr->lock);
    if (rc != 0) {
        sg_quota_set_error(&f->q, "quota: header lock: %s", strerror(rc));
        return SG_ERR_STATE;
    }
    for (i = 0; i < QF_REGIONS; i++) {
        r = region_at(f, i);
        if (!atomic_load_explicit(&r->ready, memory_order_acquire)) {
            /* Free: the rest of the slot is zero from creation. */
            snprintf(r->name, sizeof(r->name), "%s", name);
            r->next_expiry_ms = INT64_MAX;
            atomic_store_explicit(&r->ready, 1, memory_order_release);
            *out = r;
            break;
        }
        if (strcmp(r->name, name) == 0) {
            *out = r;
            break;
        }
    }
    pthread_mutex_unlock(&f->hdr->lock);
    if (*out == NULL) {
        sg_quota_set_error(&f->q, "quota: more than %d regions in %s",
                           QF_REGIONS, QF_FILE);
        return SG_ERR_FULL;
    }
    return SG_OK;
}

/* prepare - bring a locked slot to now: expiry, window, sync */
static void
prepare(struct qf *f, struct qf_region *r, const struct sg_quota_limits *lim,
        int64_t now)
{
    expire_holds(f, r, now);
    ring_advance(r, now);
    if (lim != NULL) {
        sync_update(r, lim->synced_at_ms);
        refill(r, lim, now);
    }
}

/* admit - whether units fit now (slot locked and prepared) */
static enum sg_quota_deny
admit(struct qf_region *r, const struct sg_quota_limits *lim,
      long long rate_units, long long daily_units, int64_t now)
{
    /* Daily first, as SES reports the daily limit once it is reached. */
    if (daily_units > 0 && lim->max_24h >= 0
        && daily_used(r, lim, now) + (double)r->held_daily
           + (double)daily_units > lim->max_24h + 1e-9)
        return SG_QUOTA_DAILY;
    if (rate_units > 0 && r->tokens + 1e-9 < (double)rate_units)
        return SG_QUOTA_RATE;
    return SG_QUOTA_OK;
}

/* qf_reserve - check and hold units for a transaction */
static SG_STATUS
qf_reserve(SG_QUOTA *q, const char *region,
           const struct sg_quota_limits *lim, const char *txn,
           long long rate_units, long long daily_units, long long now,
           enum sg_quota_deny *deny)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    uint64_t h = txn_hash(txn);
    long s;
    SG_STATUS st;

    if ((st = find_region(f, region, 1, &r)) != SG_OK)
        return st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    prepare(f, r, lim, now);
    if ((*deny = admit(r, lim, rate_units, daily_units, now))
        != SG_QUOTA_OK)
        goto out;
    if ((s = hold_find(r, h, txn)) < 0) {
        if (r->nholds >= QF_HOLDS_MAX) {
            r->next_expiry_ms = 0;
            expire_holds(f, r, now);
        }
        if (r->nholds >= QF_HOLDS_MAX
            || (s = hold_insert_slot(r, h)) < 0) {
            sg_quota_set_error(q, "quota: %d reservations in flight in "
                               "region %s", QF_HOLDS_MAX, region);
            st = SG_ERR_FULL;
            goto out;
        }
        memset(&r->holds[s], 0, sizeof(r->holds[s]));
        r->holds[s].hash = h;
        snprintf(r->holds[s].txn, sizeof(r->holds[s].txn), "%s", txn);
        r->holds[s].rate_sec = now / 1000;
        r->nholds++;
    }
    r->holds[s].created_ms = now;
    if (now + q->reservation_timeout_ms < r->next_expiry_ms)
        r->next_expiry_ms = now + q->reservation_timeout_ms;
    if (r->holds[s].rate_sec != now / 1000) {
        /* Tokens taken in an earlier second can no longer go back. */
        r->holds[s].rate_sec = now / 1000;
        r->holds[s].rate_sec_units = 0;
    }
    r->holds[s].rate_sec_units += rate_units;
    r->holds[s].rate_units += rate_units;
    r->holds[s].daily_units += daily_units;
    r->held_rate += rate_units;
    r->held_daily += daily_units;
    r->tokens -= (double)rate_units;
    note_rate(r, now, rate_units);
out:
    pthread_mutex_unlock(&r->lock);
    return st;
}

/*
 * give_back - return unused rate tokens, but only those taken in this
 *   same second: SES saw the recipients at reserve time, and a second
 *   later they have been counted against the rate whatever happened
 */
static void
give_back(struct qf_region *r, const struct qf_hold *hd, int64_t units,
          int64_t now)
{
    if (units > hd->rate_sec_units)
        units = hd->rate_sec_units;
    if (units > 0 && hd->rate_sec == now / 1000 && r->tok_ms != 0) {
        r->tokens += (double)units;
        if (r->sec == now / 1000 && r->sec_units >= units)
            r->sec_units -= units;
    }
}

/* qf_commit - turn a hold into sent units */
static SG_STATUS
qf_commit(SG_QUOTA *q, const char *region, const char *txn,
          long long rate_units, long long daily_units, long long now)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    struct qf_hold hd;
    long s;
    int64_t d, rt, b;
    SG_STATUS st;

    if ((st = find_region(f, region, 0, &r)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_OK : st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    prepare(f, r, NULL, now);
    if ((s = hold_find(r, txn_hash(txn), txn)) >= 0) {
        hd = r->holds[s];
        d = daily_units < 0 || daily_units > hd.daily_units
            ? hd.daily_units : daily_units;
        rt = rate_units < 0 || rate_units > hd.rate_units
             ? hd.rate_units : rate_units;
        hold_delete(r, (size_t)s);
        give_back(r, &hd, hd.rate_units - rt, now);
        if (d > 0) {
            /* A commit is counted in the bucket of now; a clock that
             * went back puts it in the newest bucket. */
            b = now / QF_BUCKET_MS;
            if (b < r->head)
                b = r->head;
            r->ring[b % QF_RING] += d;
            r->window_sum += d;
            if (r->sync_ms > 0 && b >= r->sync_ms / QF_BUCKET_MS)
                r->since_sum += d;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_release - drop a hold */
static SG_STATUS
qf_release(SG_QUOTA *q, const char *region, const char *txn,
           long long now)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    struct qf_hold hd;
    long s;
    SG_STATUS st;

    if ((st = find_region(f, region, 0, &r)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_OK : st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    prepare(f, r, NULL, now);
    if ((s = hold_find(r, txn_hash(txn), txn)) >= 0) {
        hd = r->holds[s];
        hold_delete(r, (size_t)s);
        give_back(r, &hd, hd.rate_units, now);
    }
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_peek - would units be admitted now? */
static SG_STATUS
qf_peek(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
        long long rate_units, long long daily_units, long long now,
        enum sg_quota_deny *deny)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS st;

    if ((st = find_region(f, region, 1, &r)) != SG_OK)
        return st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    /* Refilling and sweeping change no count: peek consumes nothing. */
    prepare(f, r, lim, now);
    *deny = admit(r, lim, rate_units, daily_units, now);
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_usage - a region's current usage */
static SG_STATUS
qf_usage(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
         long long now, struct sg_quota_usage *out)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS st;
    int64_t s = now / 1000;
    double frac = (double)(now % 1000) / 1000.0;

    if ((st = find_region(f, region, 0, &r)) == SG_ERR_NOTFOUND) {
        /* Nothing sent through us yet: the sync figure alone. */
        out->sent_24h = lim->synced_at_ms > 0
                        && now - lim->synced_at_ms >= QF_DAY_MS
                        ? 0 : lim->sent_24h;
        out->tokens = lim->burst;
        return SG_OK;
    }
    if (st != SG_OK)
        return st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    prepare(f, r, lim, now);
    out->sent_24h = daily_used(r, lim, now);
    out->reserved = (double)r->held_daily;
    out->tokens = r->tokens;
    /* Units taken in the last 1000 ms: this second so far plus the
     * part of the previous second that is still within it. */
    if (r->sec == s)
        out->rate_now = (double)r->sec_units
                        + (double)r->prev_units * (1.0 - frac);
    else if (r->sec == s - 1)
        out->rate_now = (double)r->sec_units * (1.0 - frac);
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_reset - forget a region's counters and holds */
static SG_STATUS
qf_reset(SG_QUOTA *q, const char *region)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS st;
    size_t off = offsetof(struct qf_region, tokens);

    if ((st = find_region(f, region, 0, &r)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_OK : st;
    if ((st = lock_slot(f, r)) != SG_OK)
        return st;
    memset((char *)r + off, 0, sizeof(*r) - off);
    r->next_expiry_ms = INT64_MAX;
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_close - unmap and free */
static void
qf_close(SG_QUOTA *q)
{
    struct qf *f = (struct qf *)q;

    if (f->map != NULL)
        munmap(f->map, f->map_size);
    free(f);
}

static const struct sg_quota_ops qf_ops = {
    "embedded", qf_reserve, qf_commit, qf_release, qf_peek, qf_usage,
    qf_reset, qf_close
};

/* create_file - make a complete quota.db under a temporary name and
 *   link it into place; EEXIST from link means another process won */
static int
create_file(const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    struct qf_header *hdr;
    unsigned char *map;
    int fd, i, rc;

    snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
    (void)unlink(tmp);
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
        snprintf(err, errlen, "quota: cannot create %s: %s", tmp,
                 strerror(errno));
        return -1;
    }
    {
        /* Made by root (sesgatectl) in the daemons' directory: theirs. */
        char dir[4200];
        char *slash;

        snprintf(dir, sizeof(dir), "%s", path);
        if ((slash = strrchr(dir, '/')) != NULL) {
            *slash = '\0';
            sg_state_adopt_owner(dir[0] ? dir : "/", NULL, fd);
        }
    }
    /* Blocks reserved, not a sparse file: a store through the map into
     * a hole on a full file system is SIGBUS, not an error. */
    if ((rc = posix_fallocate(fd, 0, (off_t)QF_FILE_SIZE)) != 0) {
        snprintf(err, errlen, "quota: cannot size %s: %s", tmp,
                 strerror(rc));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if ((map = mmap(NULL, QF_FILE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, 0)) == MAP_FAILED) {
        snprintf(err, errlen, "quota: cannot size %s: %s", tmp,
                 strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    hdr = (struct qf_header *)(void *)map;
    rc = init_mutex(&hdr->lock);
    for (i = 0; rc == 0 && i < QF_REGIONS; i++) {
        struct qf_region *r = (struct qf_region *)(void *)(
            map + QF_HEADER_SIZE + (size_t)i * QF_REGION_SIZE);
        rc = init_mutex(&r->lock);
        r->next_expiry_ms = INT64_MAX;
    }
    memcpy(hdr->magic, QF_MAGIC, sizeof(QF_MAGIC));
    hdr->version = QF_VERSION;
    hdr->nregions = QF_REGIONS;
    hdr->header_size = QF_HEADER_SIZE;
    hdr->region_size = QF_REGION_SIZE;
    hdr->mutex_size = sizeof(pthread_mutex_t);
    hdr->file_size = QF_FILE_SIZE;
    if (rc == 0 && msync(map, QF_FILE_SIZE, MS_SYNC) != 0)
        rc = errno;
    munmap(map, QF_FILE_SIZE);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "quota: cannot initialise %s: %s", tmp,
                 strerror(rc));
        unlink(tmp);
        return -1;
    }
    if (link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "quota: cannot create %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    unlink(tmp);
    return 0;
}

/* sg_quota_file_open - the embedded backend */
SG_QUOTA *
sg_quota_file_open(const SG_CONF *conf, char *err, size_t errlen)
{
    char path[4096];
    char dummy[8];
    struct qf *f;
    struct stat sb;
    int fd, tries;

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (conf->state_dir == NULL || conf->state_dir[0] == '\0') {
        snprintf(err, errlen, "quota: state_dir is not set");
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", conf->state_dir,
                         QF_FILE) >= sizeof(path)) {
        snprintf(err, errlen, "quota: state_dir is too long");
        return NULL;
    }
    for (tries = 0;; tries++) {
        if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0)
            break;
        if (errno != ENOENT || tries > 0) {
            snprintf(err, errlen, "quota: cannot open %s: %s", path,
                     strerror(errno));
            return NULL;
        }
        if (create_file(path, err, errlen) != 0)
            return NULL;
    }
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != QF_FILE_SIZE) {
        snprintf(err, errlen, "quota: %s has the wrong size (another "
                 "version of sesgate?)", path);
        close(fd);
        return NULL;
    }
    if ((f = calloc(1, sizeof(*f))) == NULL) {
        snprintf(err, errlen, "quota: out of memory");
        close(fd);
        return NULL;
    }
    f->map_size = QF_FILE_SIZE;
    f->map = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                  0);
    close(fd);
    if (f->map == MAP_FAILED) {
        snprintf(err, errlen, "quota: cannot map %s: %s", path,
                 strerror(errno));
        free(f);
        return NULL;
    }
    f->hdr = (struct qf_header *)(void *)f->map;
    if (memcmp(f->hdr->magic, QF_MAGIC, sizeof(QF_MAGIC)) != 0
        || f->hdr->version != QF_VERSION
        || f->hdr->nregions != QF_REGIONS
        || f->hdr->header_size != QF_HEADER_SIZE
        || f->hdr->region_size != QF_REGION_SIZE
        || f->hdr->mutex_size != sizeof(pthread_mutex_t)
        || f->hdr->file_size != QF_FILE_SIZE) {
        snprintf(err, errlen, "quota: %s is not a quota file of this "
                 "version", path);
        munmap(f->map, f->map_size);
        free(f);
        return NULL;
    }
    sg_quota_init(&f->q, &qf_ops, conf);
    return &f->q;
}

/* sg_quota_file_test_lock - take a region's lock and keep it (tests) */
SG_STATUS
sg_quota_file_test_lock(SG_QUOTA *q, const char *region)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS st;

    if (q == NULL || q->ops != &qf_ops)
        return SG_ERR_USAGE;
    if ((st = find_region(f, region, 1, &r)) != SG_OK)
        return st;
    return lock_slot(f, r);
}
