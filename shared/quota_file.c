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
 *   regions  QF_REGIONS slots, each with
 *              - a robust process-shared mutex (the region lock) and,
 *                under it, the rate token bucket (tokens and the time
 *                of the last refill; it refills at max_rate per second
 *                up to burst) and the rolling 24-hour window (a ring of
 *                10-second buckets of committed daily units with a
 *                running sum);
 *              - QF_LEASES lease slots (below), one cache line each;
 *              - QF_STRIPES hold stripes, each with its own robust
 *                mutex: an open-addressing hash table of reservations
 *                (holds) keyed by the transaction id, the stripe's held
 *                sums, and the daily units committed in the stripe that
 *                are not yet in the ring ("pending", one bucket's worth);
 *              - the hold directory: QF_DIR entries (stripe, count)
 *                saying in which stripe the holds of an id are (below).
 *   The header also counts the home stripes handed out to threads.
 *
 * The file is created complete (sized, header and every mutex
 * initialised) under a temporary name and linked into place, so no
 * process ever sees a half-made file; two processes creating it at once
 * agree on the one that was linked first.
 *
 * Scaling: leases and stripes. One lock per region made two threads on
 * one region slower than one (the lock and the counters bounced between
 * the cores on every call). Now:
 *
 *   - A hold is added, committed and released under its stripe's lock
 *     only. A commit adds its daily units to the stripe's pending
 *     count; they move into the ring (under region lock + stripe lock)
 *     when the stripe's next commit falls in a later 10-second bucket.
 *     A stripe holds at most QF_STRIPE_HOLDS reservations. Lock order:
 *     region before stripe, never the other way; never two stripes.
 *   - Home stripes. Each thread gets a home stripe at its first call
 *     (round robin from a counter in the file header, so the threads of
 *     all processes spread out; a child after fork takes a new one) and
 *     makes its new holds there: two
 *     threads with new transaction ids touch no common cache line on a
 *     pair (choosing the stripe by the id's hash sent about every second
 *     pair to a stripe the other core had just written). A home stripe
 *     fuller than QF_STRIPE_SOFT sends new ids to the next stripe, and
 *     past that round to the next one that is not full.
 *   - The directory finds a hold from any thread and keeps one hold per
 *     id: QF_DIR entries per region, entry h % QF_DIR (bits 40-53 of
 *     the id's hash) = (stripe, count of holds of its ids there). Every
 *     hold of an id with entry k is in the stripe the entry names, and
 *     the count is the number of them. Rules: a count that is not 0
 *     changes only under the lock of the stripe the entry names (holds
 *     are made and deleted there); a count of 0 is claimed with a
 *     compare-and-swap (0 -> (stripe, 1)) by a thread holding that
 *     stripe's lock, which makes its hold before unlocking. So a
 *     reserve (lock_hold_stripe) reads the entry, locks the stripe it
 *     names (its home one when the count is 0), expires old holds, and
 *     re-reads the entry under the lock: it names this stripe with a
 *     count -> the id's hold is here if anywhere (add to it or make it);
 *     count 0 -> claim it for this stripe, a failed swap starts over;
 *     another stripe -> unlock and start over. Two threads reserving one
 *     new id at once both try the swap; one wins, the other starts over,
 *     locks the winner's stripe (waiting for its hold) and adds to it.
 *     Commit and release lock the stripe the entry names the same way
 *     (count 0: no hold, nothing to do). Two ids sharing an entry share
 *     a stripe while both are held. The count is raised before a hold is
 *     made and lowered after it is deleted: a crash in between leaves it
 *     one too high, fixed by stripe_repair (the dead owner held the
 *     stripe's lock), never a hold the directory does not know.
 *   - Rate tokens and daily units come from a per-thread lease when the
 *     region has room: under the region lock a thread takes
 *     QF_LEASE_UNITS of each into a lease slot of the file, one 64-bit
 *     word (tag, daily, rate) that it then spends with compare-and-swap
 *     and no lock. A lease is used for QF_LEASE_MS at most (its owner
 *     then returns the rest and takes a new one); anyone holding the
 *     region lock takes back the rest of a lease QF_LEASE_RECLAIM_MS
 *     old, and the owner returns its leases at close. The tag changes
 *     with every grant, so an owner whose lease was taken back fails
 *     its next compare-and-swap and goes to the region lock.
 *   - Leases are handed out only while both budgets (tokens, daily room)
 *     have QF_LEASE_ROOM + QF_LEASE_UNITS units beyond the request
 *     (leases cannot use up the room). Below that
 *     every call takes the exact path: under the region lock, and when
 *     the answer would be a refusal, the unspent units of every lease
 *     are first taken back (the swap of the word to 0 makes the owner's
 *     next compare-and-swap fail) and the check done again. So nobody
 *     is refused while units sit unspent in a lease.
 *
 *   The daily figure checked under the region lock is
 *       committed (ring, reconciled, plus the stripes' pending)
 *       + held (the stripes' sums) + the unspent units of all leases,
 *   read in that order: leases, then held, then pending. Units move
 *   the other way (lease -> hold -> pending -> ring) and each move
 *   adds to the next count before it subtracts from the previous one,
 *   so a reader may see a unit twice for an instant but never miss it:
 *   admission stays exact (never more than the quota).
 *
 * Bounds of the scheme: "sesgatectl status" shows tokens without the
 *   unspent part of the leases (at most QF_LEASES x QF_LEASE_UNITS) and
 *   the current rate up to QF_LEASE_MS late (a lease's spent tokens are
 *   counted when it is returned); sent_24h and reserved are exact. Rate
 *   tokens taken by a lease may be spent up to QF_LEASE_MS later than
 *   taken (the bucket is only leased from while it holds more than
 *   QF_LEASE_ROOM tokens, i.e. at rates of thousands per second). A
 *   thread that checks a lease, adds its hold and then finds the lease
 *   taken back undoes the hold: a refusal racing that instant at the
 *   very limit may see those units once more (a 454, never an excess).
 *
 * Crash safety: all the mutexes are PTHREAD_PROCESS_SHARED and
 * PTHREAD_MUTEX_ROBUST. When a process dies holding one, the next
 * locker gets EOWNERDEAD; it then rebuilds what a half-done update may
 * have left inconsistent (the window sums from the buckets, a stripe's
 * hold table, sums and directory counts from the holds themselves),
 * marks the mutex consistent and carries on. A dead process's holds
 * expire after quota_reservation_timeout, released lazily: each stripe
 * keeps its earliest expiry time, and the first call after it that
 * locks the stripe sweeps it; peek, usage and a refusal of the exact
 * path sweep every stripe (a dead thread's home stripe may have no
 * caller left).
 * Its leases are taken back QF_LEASE_RECLAIM_MS after they were
 * granted; units it committed are already in a stripe's pending count.
 * A process killed between adding a pending count to the ring and
 * clearing it counts those units twice (on the safe side).
 *
 * Version 1 files (one lock and one hold table per region) are
 * converted on open (migrate_v1): the counts, the bucket and the holds
 * are copied into a new file that is renamed over the old one.
 *
 * Rolling window: a daily unit committed at time t goes into the bucket
 * of t. The window counts the current bucket and the QF_BUCKETS before
 * it, so a unit is counted for at least 24 hours and at most 24 hours
 * plus one bucket width (10 s): never less than SES counts it, at most
 * 10 s more. The ring advances lazily; a bucket leaving the window is
 * subtracted from the running sum, so a check is O(1) amortised. A
 * stripe's pending units keep the bucket of their commits and age out
 * the same way.
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
 * reservations and unspent lease units count on top of used.
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
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "quota_int.h"
#include "state.h"

#define QF_MAGIC        "SGQUOTA"       /* 8 bytes with the NUL */
#define QF_VERSION      2               /* 2: leases and hold stripes */
#define QF_REGIONS      32
#define QF_BUCKET_MS    10000LL         /* 10-second buckets */
#define QF_BUCKETS      8640LL          /* 24 h of them */
#define QF_RING         (QF_BUCKETS + 1) /* plus the current one */
#define QF_DAY_MS       86400000LL
#define QF_STRIPES      8               /* hold stripes per region */
#define QF_STRIPE_SLOTS 256             /* hash slots per stripe */
#define QF_STRIPE_HOLDS 192             /* holds per stripe: load 3/4 */
#define QF_STRIPE_SOFT  128             /* new ids go elsewhere beyond */
#define QF_HOLDS_MAX    (QF_STRIPES * QF_STRIPE_HOLDS)
#define QF_LEASES       32              /* lease slots per region */
#define QF_LEASE_UNITS  128LL           /* units of each kind a lease */
#define QF_LEASE_MS     100LL           /* an owner uses a lease this long */
#define QF_LEASE_RECLAIM_MS 200LL       /* others take it back after this */
#define QF_LEASE_ROOM   (QF_LEASES * QF_LEASE_UNITS) /* room to lease */
#define QF_TLS          4               /* leases remembered per thread */
#define QF_DIR          16384           /* directory entries per region */
#define QF_FILE         "quota.db"

/* The lease word: tag (24 bits), daily units (20), rate units (20). */
#define LW_BITS         20
#define LW_MASK         ((1ULL << LW_BITS) - 1)
#define LW_TAG(w)       ((uint32_t)((w) >> (2 * LW_BITS)))
#define LW_DAILY(w)     ((int64_t)(((w) >> LW_BITS) & LW_MASK))
#define LW_RATE(w)      ((int64_t)((w) & LW_MASK))
#define LW_MAKE(t, d, r) (((uint64_t)(t) << (2 * LW_BITS)) \
                          | ((uint64_t)(d) << LW_BITS) | (uint64_t)(r))
#define LW_TAG_MASK     0xffffffU

/* A reservation, two cache lines. hash 0 marks a free slot. */
struct qf_hold {
    _Alignas(64) uint64_t hash; /* of txn, never 0 */
    int64_t rate_units;         /* rate tokens taken */
    int64_t daily_units;        /* daily units held */
    int64_t created_ms;         /* last reserve under this id */
    int64_t rate_sec;           /* second of the last tokens taken */
    int64_t rate_sec_units;     /* tokens taken in that second: only
                                 * these may go back on release */
    char txn[SG_QUOTA_TXN_MAX + 1];
};

/* A lease slot. word is spent without a lock; the rest is written under
 * the region lock. owner_pid 0: free. */
struct qf_lease {
    _Alignas(64) _Atomic uint64_t word;
    int64_t owner_pid;
    uint64_t owner_serial;      /* the owning handle (struct qf) */
    int64_t granted_ms;
    int64_t rate_granted;       /* tokens taken into it */
};

/*
 * A hold stripe. Guarded by lock; held and pending are also read
 * without it by region-lock holders. The lock and the counters share
 * one cache line (a call touches that line and its hold's two).
 */
struct qf_stripe {
    _Alignas(64) pthread_mutex_t lock;
    _Atomic uint64_t held;      /* daily units held << 16 | holds */
    _Atomic uint64_t pending;   /* bucket << 32 | daily units committed
                                 * in it, not yet in the ring */
    int64_t next_expiry_ms;     /* no hold expires before this */
    struct qf_hold holds[QF_STRIPE_SLOTS];
};

#define HELD_MAKE(d, n) ((uint64_t)(d) * 65536 + (uint64_t)(n))
#define HELD_DAILY(w)   ((int64_t)((w) >> 16))
#define HELD_COUNT(w)   ((int64_t)((w) & 0xffff))
#define PEND_MAKE(b, u) (((uint64_t)(b) << 32) | (uint64_t)(u))
#define PEND_BUCKET(w)  ((int64_t)((w) >> 32))
#define PEND_UNITS(w)   ((int64_t)((w) & 0xffffffffULL))
#define PEND_FLUSH_AT   (1LL << 30) /* units that force a flush */

/* A directory entry: stripe (8 bits), holds of its ids there (24). */
#define DIR_MAKE(s, n)  (((uint32_t)(s) << 24) | (uint32_t)(n))
#define DIR_STRIPE(w)   ((int)((w) >> 24) & (QF_STRIPES - 1))
#define DIR_COUNT(w)    ((int64_t)((w) & 0xffffffU))

/* A region slot. Everything after lock up to ring is guarded by it. */
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
    uint32_t lease_gen;         /* last lease tag handed out */
    int64_t leases_granted;     /* since the file was made (tests) */
    int64_t ring[QF_RING];
    struct qf_lease leases[QF_LEASES];
    struct qf_stripe stripes[QF_STRIPES];
    /* Where the holds of a hash live (file comment): entry
     * h % QF_DIR. Changed under the lock of the stripe it names while
     * its count is not 0; claimed with compare-and-swap when it is. */
    _Alignas(64) _Atomic uint32_t dir[QF_DIR];
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
    _Atomic uint32_t homes;     /* home stripes handed out (home_of) */
};

/* A region slot of version 1 (one lock, one hold table), read once to
 * carry its counts over into a version 2 file (migrate_region). */
#define QF1_HOLD_SLOTS  2048
struct qf1_hold {
    uint64_t hash;
    int64_t rate_units;
    int64_t daily_units;
    int64_t created_ms;
    int64_t rate_sec;
    int64_t rate_sec_units;
    char txn[SG_QUOTA_TXN_MAX + 1];
};

struct qf1_region {
    pthread_mutex_t lock;
    atomic_uint ready;
    char name[SG_REGION_MAX + 1];
    double tokens;
    int64_t tok_ms;
    int64_t sec;
    int64_t sec_units;
    int64_t prev_units;
    int64_t head;
    int64_t window_sum;
    int64_t sync_ms;
    int64_t since_sum;
    int64_t nholds;
    int64_t held_daily;
    int64_t held_rate;
    int64_t next_expiry_ms;
    int64_t ring[QF_RING];
    struct qf1_hold holds[QF1_HOLD_SLOTS];
};

/* Header size, rounded to a page so region slots start aligned. */
#define QF_HEADER_SIZE  4096
#define QF_REGION_SIZE  \
    ((sizeof(struct qf_region) + 4095) / 4096 * 4096)
#define QF_FILE_SIZE    (QF_HEADER_SIZE + QF_REGIONS * QF_REGION_SIZE)
#define QF1_REGION_SIZE \
    ((sizeof(struct qf1_region) + 4095) / 4096 * 4096)
#define QF1_FILE_SIZE   (QF_HEADER_SIZE + QF_REGIONS * QF1_REGION_SIZE)

/* The embedded handle. */
struct qf {
    struct sg_quota q;          /* must be first */
    struct qf_header *hdr;
    unsigned char *map;
    size_t map_size;
    uint64_t serial;            /* unique in this process */
    int64_t pid;                /* of the process that opened it */
};

/* A lease this thread owns, remembered per (handle, region). */
struct qf_tls {
    const struct qf *f;
    uint64_t serial;
    const struct qf_region *r;
    int slot;
    uint32_t tag;
    int64_t granted_ms;
};

static _Atomic uint64_t qf_serial_next;
static _Thread_local struct qf_tls qf_tls[QF_TLS];
static _Thread_local unsigned qf_tls_next;
static _Thread_local unsigned qf_home;  /* home stripe + 1; 0: none */
static pthread_once_t qf_home_once = PTHREAD_ONCE_INIT;

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

/*
 * held_add - add daily units and holds to a stripe (stripe locked):
 *   one writer (the lock holder), readers without the lock, so a plain
 *   load and a release store, cheaper than a read-modify-write
 */
static void
held_add(struct qf_stripe *st, int64_t daily, int64_t n)
{
    atomic_store_explicit(&st->held,
                          atomic_load_explicit(&st->held,
                                               memory_order_relaxed)
                          + HELD_MAKE(daily, n), memory_order_release);
}

/* nholds - a stripe's hold count (stripe locked) */
static int64_t
nholds(struct qf_stripe *st)
{
    return HELD_COUNT(atomic_load_explicit(&st->held, memory_order_relaxed));
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

/* stripe_of - the stripe of a hash (its low bits) */
static struct qf_stripe *
stripe_of(struct qf_region *r, uint64_t h)
{
    return &r->stripes[h & (QF_STRIPES - 1)];
}

/* dir_of - the directory entry of a hash */
static _Atomic uint32_t *
dir_of(struct qf_region *r, uint64_t h)
{
    return &r->dir[(size_t)(h >> 40) & (QF_DIR - 1)];
}

/*
 * dir_add - count a hold made (n 1) or deleted (n -1) in stripe st
 *   (stripe locked, entry naming st): its count is not 0 (a claim or a
 *   hold keeps it there), so only st's lock holder changes it
 */
static void
dir_add(struct qf_region *r, struct qf_stripe *st, uint64_t h, int n)
{
    _Atomic uint32_t *d = dir_of(r, h);
    uint32_t w = atomic_load_explicit(d, memory_order_relaxed);

    if (DIR_COUNT(w) + n < 0)
        n = -(int)DIR_COUNT(w);         /* never below 0 (repair) */
    atomic_store_explicit(d, DIR_MAKE(st - r->stripes,
                                      DIR_COUNT(w) + n),
                          memory_order_release);
}

/*
 * home_forked - in a child after fork: the thread there takes a new
 *   home at its first call (it would share its parent's otherwise)
 */
static void
home_forked(void)
{
    qf_home = 0;
}

/* home_once - register home_forked (once per process) */
static void
home_once(void)
{
    (void)pthread_atfork(NULL, NULL, home_forked);
}

/*
 * home_of - this thread's home stripe: handed out round robin from the
 *   file header at the thread's first call, so that threads of all the
 *   processes spread over the stripes
 */
static unsigned
home_of(struct qf *f)
{
    if (qf_home == 0)
        qf_home = atomic_fetch_add_explicit(&f->hdr->homes, 1,
                                            memory_order_relaxed)
                  % QF_STRIPES + 1;
    return qf_home - 1;
}

/* hold_home - the home slot of a hash within its stripe */
static size_t
hold_home(uint64_t h)
{
    return (size_t)((h >> 3) ^ (h >> 29)) & (QF_STRIPE_SLOTS - 1);
}

/* hold_find - the slot of txn, or -1 */
static long
hold_find(struct qf_stripe *st, uint64_t h, const char *txn)
{
    size_t i = hold_home(h), n;

    for (n = 0; n < QF_STRIPE_SLOTS;
         n++, i = (i + 1) & (QF_STRIPE_SLOTS - 1)) {
        if (st->holds[i].hash == 0)
            return -1;
        if (st->holds[i].hash == h && strcmp(st->holds[i].txn, txn) == 0)
            return (long)i;
    }
    return -1;
}

/* hold_insert_slot - the free slot where a new hash goes, or -1 */
static long
hold_insert_slot(struct qf_stripe *st, uint64_t h)
{
    size_t i = hold_home(h), n;

    for (n = 0; n < QF_STRIPE_SLOTS;
         n++, i = (i + 1) & (QF_STRIPE_SLOTS - 1))
        if (st->holds[i].hash == 0)
            return (long)i;
    return -1;
}

/*
 * hold_unlink - free slot i and close the gap (backward-shift deletion
 *   of linear probing: later entries of the same probe run move up, so
 *   lookups never stop early at a hole)
 */
static void
hold_unlink(struct qf_stripe *st, size_t i)
{
    size_t j = i, k;

    for (;;) {
        st->holds[i].hash = 0;
        for (;;) {
            j = (j + 1) & (QF_STRIPE_SLOTS - 1);
            if (st->holds[j].hash == 0)
                return;
            k = hold_home(st->holds[j].hash);
            /* Leave j where it is if its home lies cyclically in
             * (i, j]: moving it to i would put it before its home. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        st->holds[i] = st->holds[j];
        i = j;
    }
}

/*
 * hold_delete - delete the hold in slot i: its units, then the hold,
 *   then its directory count (a crash in between leaves the count too
 *   high, which stripe_repair corrects, never a hold without a count)
 */
static void
hold_delete(struct qf_region *r, struct qf_stripe *st, size_t i)
{
    uint64_t h = st->holds[i].hash;

    held_add(st, -st->holds[i].daily_units, -1);
    hold_unlink(st, i);
    dir_add(r, st, h, -1);
}

/* expire_holds - release a stripe's holds older than the timeout */
static void
expire_holds(struct qf *f, struct qf_region *r, struct qf_stripe *st,
             int64_t now)
{
    int64_t timeout = f->q.reservation_timeout_ms;
    int64_t next = INT64_MAX;
    size_t i;

    if (now < st->next_expiry_ms)
        return;
    for (i = 0; i < QF_STRIPE_SLOTS;) {
        struct qf_hold *hd = &st->holds[i];

        if (hd->hash != 0 && hd->created_ms + timeout <= now) {
            /* Daily units go back; rate tokens do not (their second is
             * long past). A delete may move a later entry into i: look
             * at i again. */
            hold_delete(r, st, i);
            continue;
        }
        if (hd->hash != 0 && hd->created_ms + timeout < next)
            next = hd->created_ms + timeout;
        i++;
    }
    st->next_expiry_ms = next;
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

/*
 * stripe_flush - move a stripe's pending units into the ring (region
 *   and stripe locked, in that order); units of a bucket that has left
 *   the window are dropped
 */
static void
stripe_flush(struct qf_region *r, struct qf_stripe *st)
{
    uint64_t w = atomic_load_explicit(&st->pending, memory_order_relaxed);
    int64_t p = PEND_UNITS(w), b = PEND_BUCKET(w);

    if (p == 0)
        return;
    ring_advance(r, b * QF_BUCKET_MS);
    if (b > r->head - QF_RING) {
        r->ring[b % QF_RING] += p;
        r->window_sum += p;
        if (r->sync_ms > 0 && b >= r->sync_ms / QF_BUCKET_MS)
            r->since_sum += p;
    }
    /* Ring first, then the pending count: a crash in between counts
     * the units twice, never not at all. */
    atomic_store_explicit(&st->pending, PEND_MAKE(b, 0),
                          memory_order_release);
}

/*
 * lease_units - the unspent units of all leases (region locked); read
 *   before the stripes (file comment)
 */
static int64_t
lease_units(struct qf_region *r, int64_t *rate)
{
    int64_t d = 0;
    int i;

    *rate = 0;
    for (i = 0; i < QF_LEASES; i++) {
        uint64_t w = atomic_load_explicit(&r->leases[i].word,
                                          memory_order_acquire);

        d += LW_DAILY(w);
        *rate += LW_RATE(w);
    }
    return d;
}

/*
 * held_units - the daily units of all holds and the committed units
 *   still pending in the stripes (region locked); pending units of a
 *   bucket that left the window do not count, those from the sync's
 *   bucket on go to *since
 */
static int64_t
held_units(struct qf_region *r, int64_t *pending, int64_t *since)
{
    int64_t held = 0, b, p;
    uint64_t w;
    int i;

    *pending = 0;
    *since = 0;
    for (i = 0; i < QF_STRIPES; i++)
        held += HELD_DAILY(atomic_load_explicit(&r->stripes[i].held,
                                                memory_order_acquire));
    for (i = 0; i < QF_STRIPES; i++) {
        w = atomic_load_explicit(&r->stripes[i].pending,
                                 memory_order_acquire);
        p = PEND_UNITS(w);
        b = PEND_BUCKET(w);
        if (p == 0 || b <= r->head - QF_RING)
            continue;
        *pending += p;
        if (r->sync_ms > 0 && b >= r->sync_ms / QF_BUCKET_MS)
            *since += p;
    }
    return held;
}

/*
 * daily_used - daily units in use (region locked and prepared):
 *   committed, reconciled (file comment), plus held, plus leased;
 *   *committed gets the first part alone
 */
static double
daily_used(struct qf_region *r, const struct sg_quota_limits *lim,
           int64_t now, double *committed)
{
    int64_t leased, lrate, held, pending, since;
    double w, s;

    leased = lease_units(r, &lrate);
    held = held_units(r, &pending, &since);
    w = (double)(r->window_sum + pending);
    if (lim->synced_at_ms <= 0)
        s = lim->sent_24h;
    else if (now - lim->synced_at_ms >= QF_DAY_MS)
        s = 0;
    else
        s = lim->sent_24h + (double)(r->since_sum + since);
    if (committed != NULL)
        *committed = w > s ? w : s;
    return (w > s ? w : s) + (double)held + (double)leased;
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

/*
 * lease_take_back - empty lease slot i and free it (region locked):
 *   its unspent tokens go back to the bucket (refill caps them at the
 *   burst), its unspent daily units simply stop counting
 */
static void
lease_take_back(struct qf_region *r, int i, int64_t now)
{
    struct qf_lease *l = &r->leases[i];
    uint64_t w = atomic_exchange_explicit(&l->word, 0,
                                          memory_order_acq_rel);

    if (l->owner_pid != 0) {
        if (r->tok_ms != 0)
            r->tokens += (double)LW_RATE(w);
        if (l->rate_granted > LW_RATE(w))
            note_rate(r, now, l->rate_granted - LW_RATE(w));
    }
    l->owner_pid = 0;
    l->owner_serial = 0;
    l->rate_granted = 0;
}

/*
 * leases_reclaim - take back leases granted QF_LEASE_RECLAIM_MS ago or
 *   more (or in the future: the clock went back), or all of them
 */
static void
leases_reclaim(struct qf_region *r, int64_t now, int all)
{
    int i;

    for (i = 0; i < QF_LEASES; i++) {
        struct qf_lease *l = &r->leases[i];

        if (l->owner_pid == 0)
            continue;
        if (all || now - l->granted_ms >= QF_LEASE_RECLAIM_MS
            || now < l->granted_ms)
            lease_take_back(r, i, now);
    }
}

/* tls_find - this thread's lease record for (f, r), or NULL */
static struct qf_tls *
tls_find(const struct qf *f, const struct qf_region *r)
{
    int i;

    for (i = 0; i < QF_TLS; i++)
        if (qf_tls[i].f == f && qf_tls[i].serial == f->serial
            && qf_tls[i].r == r)
            return &qf_tls[i];
    return NULL;
}

/*
 * lease_return - give back this thread's lease on r, if it still owns
 *   it (region locked); a slot taken back and handed to another owner
 *   since then has another tag and is left alone
 */
static void
lease_return(struct qf *f, struct qf_region *r, int64_t now)
{
    struct qf_tls *e = tls_find(f, r);
    struct qf_lease *l;
    uint64_t w;

    if (e == NULL)
        return;
    l = &r->leases[e->slot];
    w = atomic_load_explicit(&l->word, memory_order_acquire);
    if (l->owner_pid != 0 && LW_TAG(w) == e->tag)
        lease_take_back(r, e->slot, now);
    memset(e, 0, sizeof(*e));
}

/*
 * lease_grant - take a fresh lease for this thread (region locked and
 *   prepared, room checked); 0, or -1 when every slot is in use
 */
static int
lease_grant(struct qf *f, struct qf_region *r, long long rate_units,
            long long daily_units, int64_t now)
{
    struct qf_lease *l;
    struct qf_tls *e;
    int64_t d = QF_LEASE_UNITS, rt = QF_LEASE_UNITS;
    int i;

    for (i = 0; i < QF_LEASES; i++)
        if (r->leases[i].owner_pid == 0)
            break;
    if (i == QF_LEASES)
        return -1;
    if (d < daily_units)
        d = daily_units;
    if (rt < rate_units)
        rt = rate_units;
    l = &r->leases[i];
    if ((r->lease_gen = (r->lease_gen + 1) & LW_TAG_MASK) == 0)
        r->lease_gen = 1;
    l->owner_pid = f->pid;
    l->owner_serial = f->serial;
    l->granted_ms = now;
    l->rate_granted = rt;
    r->leases_granted++;
    r->tokens -= (double)rt;
    atomic_store_explicit(&l->word, LW_MAKE(r->lease_gen, d, rt),
                          memory_order_release);
    if ((e = tls_find(f, r)) == NULL) {
        e = &qf_tls[qf_tls_next++ % QF_TLS];
        /* An evicted entry's lease is taken back by age. */
    }
    e->f = f;
    e->serial = f->serial;
    e->r = r;
    e->slot = i;
    e->tag = r->lease_gen;
    e->granted_ms = now;
    return 0;
}

/* region_repair - rebuild the window sums after a dead lock owner */
static void
region_repair(struct qf_region *r)
{
    size_t i;
    int64_t sum = 0, sync = r->sync_ms;

    for (i = 0; i < QF_RING; i++)
        sum += r->ring[i];
    r->window_sum = sum;
    r->sync_ms = -1;
    sync_update(r, sync);
}

/*
 * stripe_repair - rebuild a stripe's hash table, sums and directory
 *   counts after a dead lock owner. A hold whose directory entry names
 *   another stripe is dropped (as if released): its id may have a hold
 *   there. Entries naming this stripe get the count of its holds (a
 *   claim or a delete cut short leaves them one off).
 */
static void
stripe_repair(struct qf_region *r, struct qf_stripe *st)
{
    static struct qf_hold keep[QF_STRIPE_SLOTS];
    static uint32_t cnt[QF_DIR];
    static pthread_mutex_t keep_lock = PTHREAD_MUTEX_INITIALIZER;
    int me = (int)(st - r->stripes);
    size_t i, n = 0;
    int64_t held = 0, count = 0;

    pthread_mutex_lock(&keep_lock);
    memset(cnt, 0, sizeof(cnt));
    for (i = 0; i < QF_STRIPE_SLOTS; i++) {
        struct qf_hold *hd = &st->holds[i];
        uint32_t w;

        hd->txn[SG_QUOTA_TXN_MAX] = '\0';
        if (hd->hash != 0 && hd->txn[0] != '\0'
            && hd->hash == txn_hash(hd->txn) && n < QF_STRIPE_HOLDS) {
            w = atomic_load(dir_of(r, hd->hash));
            if (DIR_COUNT(w) == 0 || DIR_STRIPE(w) == me)
                keep[n++] = *hd;
        }
        hd->hash = 0;
    }
    for (i = 0; i < n; i++) {
        long s;

        if (hold_find(st, keep[i].hash, keep[i].txn) >= 0)
            continue;           /* a half-moved duplicate */
        if ((s = hold_insert_slot(st, keep[i].hash)) < 0)
            break;
        st->holds[s] = keep[i];
        held += keep[i].daily_units;
        count++;
        cnt[dir_of(r, keep[i].hash) - r->dir]++;
    }
    for (i = 0; i < QF_DIR; i++) {
        uint32_t w = atomic_load(&r->dir[i]);

        /* Entries of other stripes are left alone; a free entry with
         * holds here is claimed (a claim comes before its hold, so
         * that is a hold the entry lost, never another stripe's). */
        while ((DIR_COUNT(w) == 0 ? cnt[i] != 0
                : DIR_STRIPE(w) == me && DIR_COUNT(w) != cnt[i])
               && !atomic_compare_exchange_weak(&r->dir[i], &w,
                                                DIR_MAKE(me, cnt[i])))
            ;
    }
    pthread_mutex_unlock(&keep_lock);
    atomic_store_explicit(&st->held, HELD_MAKE(held, count),
                          memory_order_release);
    st->next_expiry_ms = 0;     /* sweep at the next call */
}

/* lock_robust - lock a shared mutex, repairing after a dead owner */
static SG_STATUS
lock_robust(struct qf *f, pthread_mutex_t *m, struct qf_region *r,
            struct qf_stripe *st)
{
    int rc = pthread_mutex_lock(m);

    if (rc == EOWNERDEAD) {
        if (st != NULL)
            stripe_repair(r, st);
        else
            region_repair(r);
        if (pthread_mutex_consistent(m) != 0) {
            pthread_mutex_unlock(m);
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

/* lock_slot - lock a region slot */
static SG_STATUS
lock_slot(struct qf *f, struct qf_region *r)
{
    return lock_robust(f, &r->lock, r, NULL);
}

/* lock_stripe - lock a hold stripe of r */
static SG_STATUS
lock_stripe(struct qf *f, struct qf_region *r, struct qf_stripe *st)
{
    return lock_robust(f, &st->lock, r, st);
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

/* prepare - bring a locked region to now: window, sync, bucket, leases */
static void
prepare(struct qf_region *r, const struct sg_quota_limits *lim, int64_t now)
{
    ring_advance(r, now);
    if (lim != NULL) {
        sync_update(r, lim->synced_at_ms);
        refill(r, lim, now);
    }
    leases_reclaim(r, now, 0);
}

/* admit_once - whether units fit now (region locked and prepared) */
static enum sg_quota_deny
admit_once(struct qf_region *r, const struct sg_quota_limits *lim,
           long long rate_units, long long daily_units, int64_t now)
{
    /* Daily first, as SES reports the daily limit once it is reached. */
    if (daily_units > 0 && lim->max_24h >= 0
        && daily_used(r, lim, now, NULL) + (double)daily_units
           > lim->max_24h + 1e-9)
        return SG_QUOTA_DAILY;
    if (rate_units > 0 && r->tokens + 1e-9 < (double)rate_units)
        return SG_QUOTA_RATE;
    return SG_QUOTA_OK;
}

static SG_STATUS sweep(struct qf *f, struct qf_region *r, int64_t now);

/*
 * admit - the exact check: a refusal is final only once the unspent
 *   units of every lease are back (region locked and prepared)
 */
static enum sg_quota_deny
admit(struct qf *f, struct qf_region *r, const struct sg_quota_limits *lim,
      long long rate_units, long long daily_units, int64_t now)
{
    enum sg_quota_deny d = admit_once(r, lim, rate_units, daily_units, now);

    if (d == SG_QUOTA_OK)
        return d;
    leases_reclaim(r, now, 1);
    refill(r, lim, now);
    /* Expired holds too: a stripe no thread calls home is swept by no
     * one else. A lock error leaves them counted (a 454, no excess). */
    (void)sweep(f, r, now);
    return admit_once(r, lim, rate_units, daily_units, now);
}

/*
 * lease_room - whether a lease may be granted now: both budgets have
 *   QF_LEASE_ROOM units beyond the request (region locked, prepared)
 */
static int
lease_room(struct qf_region *r, const struct sg_quota_limits *lim,
           long long rate_units, long long daily_units, int64_t now)
{
    if (r->tokens < (double)(QF_LEASE_ROOM + QF_LEASE_UNITS + rate_units))
        return 0;
    if (lim->max_24h >= 0
        && lim->max_24h - daily_used(r, lim, now, NULL)
           < (double)(QF_LEASE_ROOM + QF_LEASE_UNITS + daily_units))
        return 0;
    return 1;
}

/*
 * hold_add - add units to txn's hold, making it if new (stripe locked);
 *   *undo gets what hold_undo needs to take it back
 */
struct qf_undo {
    long slot;
    int fresh;
    struct qf_hold before;
    int64_t next_expiry_ms;
};

static SG_STATUS
hold_add(struct qf *f, struct qf_region *r, struct qf_stripe *st,
         uint64_t h, const char *txn, const char *region,
         long long rate_units, long long daily_units, int64_t now,
         int *claimed, struct qf_undo *undo)
{
    struct qf_hold *hd;
    long s;

    /* Expired holds went in lock_hold_stripe: expiring here could free
     * h's directory entry behind the caller's back. */
    undo->next_expiry_ms = st->next_expiry_ms;
    undo->fresh = 0;
    if ((s = hold_find(st, h, txn)) < 0) {
        if (nholds(st) >= QF_STRIPE_HOLDS
            || (s = hold_insert_slot(st, h)) < 0) {
            sg_quota_set_error(&f->q, "quota: %d reservations in flight "
                               "in one part of region %s",
                               QF_STRIPE_HOLDS, region);
            return SG_ERR_FULL;
        }
        /* The count first, then the hold (hold_delete); a claim has
         * counted it already. */
        if (*claimed)
            *claimed = 0;
        else
            dir_add(r, st, h, 1);
        hd = &st->holds[s];
        memset(hd, 0, sizeof(*hd));
        hd->hash = h;
        snprintf(hd->txn, sizeof(hd->txn), "%s", txn);
        hd->rate_sec = now / 1000;
        held_add(st, 0, 1);
        undo->fresh = 1;
    }
    hd = &st->holds[s];
    undo->slot = s;
    undo->before = *hd;
    hd->created_ms = now;
    if (now + f->q.reservation_timeout_ms < st->next_expiry_ms)
        st->next_expiry_ms = now + f->q.reservation_timeout_ms;
    if (hd->rate_sec != now / 1000) {
        /* Tokens taken in an earlier second can no longer go back. */
        hd->rate_sec = now / 1000;
        hd->rate_sec_units = 0;
    }
    hd->rate_sec_units += rate_units;
    hd->rate_units += rate_units;
    hd->daily_units += daily_units;
    held_add(st, daily_units, 0);
    return SG_OK;
}

/* hold_undo - take back what hold_add did (stripe still locked) */
static void
hold_undo(struct qf_region *r, struct qf_stripe *st,
          const struct qf_undo *undo)
{
    struct qf_hold *hd = &st->holds[undo->slot];

    held_add(st, -(hd->daily_units - undo->before.daily_units), 0);
    *hd = undo->before;
    if (undo->fresh) {
        /* hold_delete subtracts the (now zero) units once more. */
        hold_delete(r, st, (size_t)undo->slot);
    }
    st->next_expiry_ms = undo->next_expiry_ms;
}

/* dir_clear - free the directory entries of st (st locked, emptied) */
static void
dir_clear(struct qf_region *r, struct qf_stripe *st)
{
    size_t i;

    for (i = 0; i < QF_DIR; i++) {
        uint32_t w = atomic_load_explicit(&r->dir[i], memory_order_relaxed);

        if (DIR_COUNT(w) != 0 && &r->stripes[DIR_STRIPE(w)] == st)
            atomic_store_explicit(&r->dir[i], 0, memory_order_release);
    }
}

/*
 * lock_hold_stripe - lock the stripe where the hold of hash h is, or
 *   with create where it is to be made (the file comment's directory
 *   protocol); *out NULL (nothing locked) when there is no hold and
 *   create is 0. On return with *out set, the entry of h names *out
 *   with a count that is not 0, and stays so while *out is locked: every
 *   hold of an id with h's entry is in *out. *claimed (create only):
 *   the entry was free and this call claimed it (count 1 in advance for
 *   the hold it is about to make: hold_add takes the claim over; if no
 *   hold was made, give it back with dir_add -1 before unlocking).
 */
static SG_STATUS
lock_hold_stripe(struct qf *f, struct qf_region *r, uint64_t h,
                 int create, int64_t now, struct qf_stripe **out,
                 int *claimed)
{
    _Atomic uint32_t *d = dir_of(r, h);
    unsigned home = home_of(f), n = 0;
    struct qf_stripe *st;
    uint32_t w;
    SG_STATUS s;

    *out = NULL;
    *claimed = 0;
    for (;;) {
        w = atomic_load_explicit(d, memory_order_acquire);
        if (DIR_COUNT(w) != 0)
            st = &r->stripes[DIR_STRIPE(w)];
        else if (create)
            st = &r->stripes[(home + n) % QF_STRIPES];
        else
            return SG_OK;       /* no hold of h anywhere */
        if ((s = lock_stripe(f, r, st)) != SG_OK)
            return s;
        if (create && nholds(st) >= QF_STRIPE_HOLDS)
            st->next_expiry_ms = 0;     /* full: sweep now */
        expire_holds(f, r, st, now);
        /* Re-check under the lock: the entry may have changed since. */
        w = atomic_load_explicit(d, memory_order_acquire);
        if (DIR_COUNT(w) != 0) {
            if (&r->stripes[DIR_STRIPE(w)] == st) {
                *out = st;
                return SG_OK;
            }
        } else if (!create) {
            pthread_mutex_unlock(&st->lock);
            return SG_OK;
        } else {
            /* Free: no hold of h anywhere. Claim it for this stripe,
             * or for the next one when this one is fuller than
             * QF_STRIPE_SOFT (first round), full (second round): the
             * stripes fill evenly, so ids whose entry names a stripe
             * (all their holds go there) find room up to near the
             * total. A claim that fails (another stripe's lock holder
             * claimed it first) starts over. */
            if (nholds(st) < (n < QF_STRIPES ? QF_STRIPE_SOFT
                              : QF_STRIPE_HOLDS)
                || n + 1 >= 2 * QF_STRIPES) {
                if (atomic_compare_exchange_strong_explicit(
                        d, &w, DIR_MAKE(st - r->stripes, 1),
                        memory_order_acq_rel, memory_order_acquire)) {
                    *out = st;
                    *claimed = 1;
                    return SG_OK;
                }
            } else
                n++;
        }
        pthread_mutex_unlock(&st->lock);
    }
}

/*
 * reserve_leased - reserve from this thread's lease on r, no region
 *   lock; 1 done, 0 no usable lease (take the slow path), -1 error
 */
static int
reserve_leased(struct qf *f, struct qf_region *r, const char *region,
               const char *txn, uint64_t h, long long rate_units,
               long long daily_units, int64_t now, SG_STATUS *stp)
{
    struct qf_tls *e = tls_find(f, r);
    struct qf_stripe *st;
    struct qf_undo undo;
    struct qf_lease *l;
    uint64_t w, nw;
    SG_STATUS s;
    int claimed;

    if (e == NULL || now < e->granted_ms
        || now - e->granted_ms >= QF_LEASE_MS)
        return 0;
    l = &r->leases[e->slot];
    w = atomic_load_explicit(&l->word, memory_order_acquire);
    if (LW_TAG(w) != e->tag || LW_DAILY(w) < daily_units
        || LW_RATE(w) < rate_units)
        return 0;
    if ((*stp = lock_hold_stripe(f, r, h, 1, now, &st, &claimed))
        != SG_OK)
        return -1;
    /* The hold first, then the lease: a reader never misses the units
     * (file comment). */
    if ((s = hold_add(f, r, st, h, txn, region, rate_units, daily_units,
                      now, &claimed, &undo)) != SG_OK) {
        if (claimed)
            dir_add(r, st, h, -1);
        pthread_mutex_unlock(&st->lock);
        *stp = s;
        return -1;
    }
    for (;;) {
        if (LW_TAG(w) != e->tag || LW_DAILY(w) < daily_units
            || LW_RATE(w) < rate_units) {
            /* Taken back meanwhile. */
            hold_undo(r, st, &undo);
            pthread_mutex_unlock(&st->lock);
            return 0;
        }
        nw = w - ((uint64_t)daily_units << LW_BITS) - (uint64_t)rate_units;
        if (atomic_compare_exchange_weak_explicit(&l->word, &w, nw,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    pthread_mutex_unlock(&st->lock);
    return 1;
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
    struct qf_stripe *st;
    struct qf_undo undo;
    uint64_t h = txn_hash(txn);
    SG_STATUS s = SG_OK;
    int rc, tries, claimed;

    if ((s = find_region(f, region, 1, &r)) != SG_OK)
        return s;
    for (tries = 0;; tries++) {
        if ((rc = reserve_leased(f, r, region, txn, h, rate_units,
                                 daily_units, now, &s)) != 0)
            return rc > 0 ? SG_OK : s;
        if ((s = lock_slot(f, r)) != SG_OK)
            return s;
        prepare(r, lim, now);
        lease_return(f, r, now);
        /* A lease when there is room (one retry: a lease taken back
         * before it was used sends us down the exact path). */
        if (tries == 0 && lease_room(r, lim, rate_units, daily_units, now)
            && lease_grant(f, r, rate_units, daily_units, now) == 0) {
            pthread_mutex_unlock(&r->lock);
            continue;
        }
        break;
    }
    /* The exact path, under the region lock. */
    if ((*deny = admit(f, r, lim, rate_units, daily_units, now))
        == SG_QUOTA_OK) {
        if ((s = lock_hold_stripe(f, r, h, 1, now, &st, &claimed))
            == SG_OK) {
            s = hold_add(f, r, st, h, txn, region, rate_units,
                         daily_units, now, &claimed, &undo);
            if (claimed)
                dir_add(r, st, h, -1);
            pthread_mutex_unlock(&st->lock);
        }
        if (s == SG_OK) {
            r->tokens -= (double)rate_units;
            note_rate(r, now, rate_units);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

/*
 * give_back - unused rate tokens of a hold that may go back: only those
 *   taken in this same second (SES saw the recipients at reserve time,
 *   and a second later they have been counted against the rate
 *   whatever happened)
 */
static int64_t
give_back(const struct qf_hold *hd, int64_t units, int64_t now)
{
    if (units > hd->rate_sec_units)
        units = hd->rate_sec_units;
    return units > 0 && hd->rate_sec == now / 1000 ? units : 0;
}

/*
 * tokens_back - return tokens: into this thread's lease on r when it
 *   has one, else into the bucket under the region lock
 */
static SG_STATUS
tokens_back(struct qf *f, struct qf_region *r, int64_t units, int64_t now)
{
    struct qf_tls *e = tls_find(f, r);
    SG_STATUS s;

    if (units <= 0)
        return SG_OK;
    if (e != NULL) {
        struct qf_lease *l = &r->leases[e->slot];
        uint64_t w = atomic_load_explicit(&l->word, memory_order_acquire);

        while (LW_TAG(w) == e->tag && LW_RATE(w) + units <= (int64_t)LW_MASK)
            if (atomic_compare_exchange_weak_explicit(
                    &l->word, &w, w + (uint64_t)units,
                    memory_order_acq_rel, memory_order_acquire))
                return SG_OK;
    }
    if ((s = lock_slot(f, r)) != SG_OK)
        return s;
    if (r->tok_ms != 0) {
        r->tokens += (double)units;
        if (r->sec == now / 1000 && r->sec_units >= units)
            r->sec_units -= units;
    }
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/*
 * lock_stripe_for_commit - lock txn's stripe with its pending units in
 *   the bucket of now: a stripe whose pending units are of an earlier
 *   bucket moves them to the ring first (region lock, then stripe)
 */
static SG_STATUS
lock_stripe_for_commit(struct qf *f, struct qf_region *r, uint64_t h,
                       int64_t b, int64_t now, struct qf_stripe **out)
{
    struct qf_stripe *st;
    SG_STATUS s;
    uint64_t w;
    int claimed;

    if ((s = lock_hold_stripe(f, r, h, 0, now, out, &claimed)) != SG_OK
        || (st = *out) == NULL)
        return s;
    w = atomic_load_explicit(&st->pending, memory_order_relaxed);
    if (PEND_UNITS(w) == 0
        || (PEND_BUCKET(w) >= b && PEND_UNITS(w) < PEND_FLUSH_AT))
        return SG_OK;
    pthread_mutex_unlock(&st->lock);
    *out = NULL;
    if ((s = lock_slot(f, r)) != SG_OK)
        return s;
    if ((s = lock_stripe(f, r, st)) != SG_OK) {
        pthread_mutex_unlock(&r->lock);
        return s;
    }
    stripe_flush(r, st);
    pthread_mutex_unlock(&r->lock);
    /* The hold is still in st unless it went meanwhile (a hold never
     * moves between stripes): the caller looks for it there. */
    *out = st;
    return SG_OK;
}

/* qf_commit - turn a hold into sent units */
static SG_STATUS
qf_commit(SG_QUOTA *q, const char *region, const char *txn,
          long long rate_units, long long daily_units, long long now)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    struct qf_stripe *st;
    struct qf_hold hd;
    uint64_t h = txn_hash(txn);
    int64_t d, rt, b = now / QF_BUCKET_MS, back = 0;
    long i;
    SG_STATUS s;

    if ((s = find_region(f, region, 0, &r)) != SG_OK)
        return s == SG_ERR_NOTFOUND ? SG_OK : s;
    if ((s = lock_stripe_for_commit(f, r, h, b, now, &st)) != SG_OK
        || st == NULL)
        return s;
    expire_holds(f, r, st, now);
    if ((i = hold_find(st, h, txn)) >= 0) {
        hd = st->holds[i];
        d = daily_units < 0 || daily_units > hd.daily_units
            ? hd.daily_units : daily_units;
        rt = rate_units < 0 || rate_units > hd.rate_units
             ? hd.rate_units : rate_units;
        if (d > 0) {
            /* Pending before the hold goes (file comment). A clock
             * that went back counts in the stripe's newer bucket. */
            uint64_t w = atomic_load_explicit(&st->pending,
                                              memory_order_relaxed);
            int64_t pb = PEND_UNITS(w) == 0 || b > PEND_BUCKET(w)
                         ? b : PEND_BUCKET(w);

            atomic_store_explicit(&st->pending,
                                  PEND_MAKE(pb, PEND_UNITS(w) + d),
                                  memory_order_release);
        }
        hold_delete(r, st, (size_t)i);
        back = give_back(&hd, hd.rate_units - rt, now);
    }
    pthread_mutex_unlock(&st->lock);
    return tokens_back(f, r, back, now);
}

/* qf_release - drop a hold */
static SG_STATUS
qf_release(SG_QUOTA *q, const char *region, const char *txn,
           long long now)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    struct qf_stripe *st;
    struct qf_hold hd;
    uint64_t h = txn_hash(txn);
    int64_t back = 0;
    long i;
    SG_STATUS s;
    int claimed;

    if ((s = find_region(f, region, 0, &r)) != SG_OK)
        return s == SG_ERR_NOTFOUND ? SG_OK : s;
    if ((s = lock_hold_stripe(f, r, h, 0, now, &st, &claimed)) != SG_OK
        || st == NULL)
        return s;
    if ((i = hold_find(st, h, txn)) >= 0) {
        hd = st->holds[i];
        hold_delete(r, st, (size_t)i);
        back = give_back(&hd, hd.rate_units, now);
    }
    pthread_mutex_unlock(&st->lock);
    return tokens_back(f, r, back, now);
}

/*
 * sweep - expire every stripe's old holds (region locked), so that
 *   peek and usage see them gone
 */
static SG_STATUS
sweep(struct qf *f, struct qf_region *r, int64_t now)
{
    SG_STATUS s;
    int i;

    for (i = 0; i < QF_STRIPES; i++) {
        struct qf_stripe *st = &r->stripes[i];

        if (now < st->next_expiry_ms)
            continue;
        if ((s = lock_stripe(f, r, st)) != SG_OK)
            return s;
        expire_holds(f, r, st, now);
        pthread_mutex_unlock(&st->lock);
    }
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
    SG_STATUS s;

    if ((s = find_region(f, region, 1, &r)) != SG_OK)
        return s;
    if ((s = lock_slot(f, r)) != SG_OK)
        return s;
    /* Refilling, sweeping and taking back leases change no count: peek
     * consumes nothing. */
    prepare(r, lim, now);
    if ((s = sweep(f, r, now)) == SG_OK)
        *deny = admit(f, r, lim, rate_units, daily_units, now);
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* qf_usage - a region's current usage */
static SG_STATUS
qf_usage(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
         long long now, struct sg_quota_usage *out)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS s;
    int64_t sec = now / 1000, pending, since;
    double frac = (double)(now % 1000) / 1000.0;

    if ((s = find_region(f, region, 0, &r)) == SG_ERR_NOTFOUND) {
        /* Nothing sent through us yet: the sync figure alone. */
        out->sent_24h = lim->synced_at_ms > 0
                        && now - lim->synced_at_ms >= QF_DAY_MS
                        ? 0 : lim->sent_24h;
        out->tokens = lim->burst;
        return SG_OK;
    }
    if (s != SG_OK)
        return s;
    if ((s = lock_slot(f, r)) != SG_OK)
        return s;
    prepare(r, lim, now);
    if ((s = sweep(f, r, now)) != SG_OK) {
        pthread_mutex_unlock(&r->lock);
        return s;
    }
    (void)daily_used(r, lim, now, &out->sent_24h);
    out->reserved = (double)held_units(r, &pending, &since);
    out->tokens = r->tokens;
    /* Units taken in the last 1000 ms: this second so far plus the
     * part of the previous second that is still within it. */
    if (r->sec == sec)
        out->rate_now = (double)r->sec_units
                        + (double)r->prev_units * (1.0 - frac);
    else if (r->sec == sec - 1)
        out->rate_now = (double)r->sec_units * (1.0 - frac);
    pthread_mutex_unlock(&r->lock);
    return SG_OK;
}

/* qf_reset - forget a region's counters, leases and holds */
static SG_STATUS
qf_reset(SG_QUOTA *q, const char *region)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    SG_STATUS s;
    size_t off = offsetof(struct qf_region, tokens);
    size_t end = offsetof(struct qf_region, leases);
    uint32_t gen;
    int64_t granted;
    int i;

    if ((s = find_region(f, region, 0, &r)) != SG_OK)
        return s == SG_ERR_NOTFOUND ? SG_OK : s;
    if ((s = lock_slot(f, r)) != SG_OK)
        return s;
    leases_reclaim(r, 0, 1);
    gen = r->lease_gen;         /* tags stay unique across a reset */
    granted = r->leases_granted;
    memset((char *)r + off, 0, end - off);
    r->lease_gen = gen;
    r->leases_granted = granted;
    for (i = 0; i < QF_STRIPES && s == SG_OK; i++) {
        struct qf_stripe *st = &r->stripes[i];

        if ((s = lock_stripe(f, r, st)) != SG_OK)
            break;
        memset(st->holds, 0, sizeof(st->holds));
        dir_clear(r, st);
        st->next_expiry_ms = INT64_MAX;
        atomic_store(&st->held, 0);
        atomic_store(&st->pending, 0);
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* qf_close - return this handle's leases, unmap and free */
static void
qf_close(SG_QUOTA *q)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    int i, j;

    for (i = 0; f->map != NULL && i < QF_REGIONS; i++) {
        r = region_at(f, i);
        if (!atomic_load_explicit(&r->ready, memory_order_acquire))
            break;
        if (lock_slot(f, r) != SG_OK)
            continue;
        for (j = 0; j < QF_LEASES; j++)
            if (r->leases[j].owner_pid == f->pid
                && r->leases[j].owner_serial == f->serial)
                lease_take_back(r, j, r->leases[j].granted_ms);
        pthread_mutex_unlock(&r->lock);
    }
    for (i = 0; i < QF_TLS; i++)
        if (qf_tls[i].f == f)
            memset(&qf_tls[i], 0, sizeof(qf_tls[i]));
    if (f->map != NULL)
        munmap(f->map, f->map_size);
    free(f);
}

static const struct sg_quota_ops qf_ops = {
    "embedded", qf_reserve, qf_commit, qf_release, qf_peek, qf_usage,
    qf_reset, qf_close, NULL     /* run_slots: one by one (quota.c) */
};

/*
 * migrate_region - carry a version 1 region over into a fresh version 2
 *   slot: name, token bucket, rate display, window and holds (each into
 *   the stripe of its hash); the old slot is locked by the caller
 */
static void
migrate_region(struct qf_region *r, const struct qf1_region *o)
{
    size_t i;
    int64_t sum = 0;

    memcpy(r->name, o->name, sizeof(r->name));
    r->name[SG_REGION_MAX] = '\0';
    r->tokens = o->tokens;
    r->tok_ms = o->tok_ms;
    r->sec = o->sec;
    r->sec_units = o->sec_units;
    r->prev_units = o->prev_units;
    r->head = o->head;
    memcpy(r->ring, o->ring, sizeof(r->ring));
    for (i = 0; i < QF_RING; i++)
        sum += r->ring[i];
    r->window_sum = sum;
    r->sync_ms = -1;
    sync_update(r, o->sync_ms);
    for (i = 0; i < QF1_HOLD_SLOTS; i++) {
        struct qf1_hold o1 = o->holds[i];
        struct qf_hold *hd;
        struct qf_stripe *st;
        uint32_t w;
        long s;

        o1.txn[SG_QUOTA_TXN_MAX] = '\0';
        if (o1.hash == 0 || o1.hash != txn_hash(o1.txn))
            continue;
        /* The stripe of the entry when it has holds already, else
         * spread by the hash (no thread is at home yet). */
        w = atomic_load(dir_of(r, o1.hash));
        st = DIR_COUNT(w) != 0 ? &r->stripes[DIR_STRIPE(w)]
             : stripe_of(r, o1.hash);
        if (nholds(st) >= QF_STRIPE_HOLDS
            || hold_find(st, o1.hash, o1.txn) >= 0
            || (s = hold_insert_slot(st, o1.hash)) < 0)
            continue;           /* dropped: as if released */
        dir_add(r, st, o1.hash, 1);
        hd = &st->holds[s];
        hd->hash = o1.hash;
        hd->rate_units = o1.rate_units;
        hd->daily_units = o1.daily_units;
        hd->created_ms = o1.created_ms;
        hd->rate_sec = o1.rate_sec;
        hd->rate_sec_units = o1.rate_sec_units;
        memcpy(hd->txn, o1.txn, sizeof(hd->txn));
        held_add(st, hd->daily_units, 1);
        st->next_expiry_ms = 0; /* sweep at the next call */
    }
    atomic_store_explicit(&r->ready, 1, memory_order_release);
}

/* create_file - make a complete quota.db under a temporary name and
 *   link it into place; EEXIST from link means another process won.
 *   With old (a mapped version 1 file, whose region locks are taken
 *   while they are copied), its counts are carried over and the new
 *   file replaces it. */
static int
create_file(const char *path, const unsigned char *old, char *err,
            size_t errlen)
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
        int j;

        rc = init_mutex(&r->lock);
        for (j = 0; rc == 0 && j < QF_STRIPES; j++) {
            rc = init_mutex(&r->stripes[j].lock);
            r->stripes[j].next_expiry_ms = INT64_MAX;
        }
    }
    for (i = 0; rc == 0 && old != NULL && i < QF_REGIONS; i++) {
        struct qf1_region *o = (struct qf1_region *)(void *)(
            old + QF_HEADER_SIZE + (size_t)i * QF1_REGION_SIZE);
        int lrc;

        if (!atomic_load_explicit(&o->ready, memory_order_acquire))
            break;
        if ((lrc = pthread_mutex_lock(&o->lock)) == EOWNERDEAD)
            lrc = pthread_mutex_consistent(&o->lock);
        migrate_region((struct qf_region *)(void *)(
            map + QF_HEADER_SIZE + (size_t)i * QF_REGION_SIZE), o);
        if (lrc == 0)
            pthread_mutex_unlock(&o->lock);
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
    if (old != NULL ? rename(tmp, path) != 0
        : link(tmp, path) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "quota: cannot create %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (old == NULL)
        unlink(tmp);
    return 0;
}

/*
 * migrate_v1 - replace a version 1 quota.db (open as fd) by a version 2
 *   file with the same counts. Migrators take turns (flock); one that
 *   finds the path already replaced does nothing. Returns 0 (open the
 *   path again), -1 with err set. Processes of the old version still
 *   running count on in the old, unlinked file: stop them first (the
 *   package restarts the daemons).
 */
static int
migrate_v1(const char *path, int fd, char *err, size_t errlen)
{
    struct qf_header hdr;
    struct stat fsb, psb;
    unsigned char *old;
    int rc;

    if (flock(fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "quota: cannot lock %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (fstat(fd, &fsb) != 0 || stat(path, &psb) != 0
        || fsb.st_ino != psb.st_ino || fsb.st_dev != psb.st_dev)
        return 0;               /* another process migrated it */
    if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)
        || hdr.nregions != QF_REGIONS || hdr.header_size != QF_HEADER_SIZE
        || hdr.region_size != QF1_REGION_SIZE
        || hdr.mutex_size != sizeof(pthread_mutex_t)
        || hdr.file_size != QF1_FILE_SIZE
        || (uint64_t)fsb.st_size != QF1_FILE_SIZE) {
        snprintf(err, errlen, "quota: %s is a version 1 quota file of "
                 "another layout", path);
        return -1;
    }
    if ((old = mmap(NULL, QF1_FILE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, 0)) == MAP_FAILED) {
        snprintf(err, errlen, "quota: cannot map %s: %s", path,
                 strerror(errno));
        return -1;
    }
    rc = create_file(path, old, err, errlen);
    munmap(old, QF1_FILE_SIZE);
    return rc;
}

/* file_version - the version in an open quota file's header, or 0 */
static uint32_t
file_version(int fd)
{
    struct qf_header hdr;

    if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)
        || memcmp(hdr.magic, QF_MAGIC, sizeof(QF_MAGIC)) != 0)
        return 0;
    return hdr.version;
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
        if ((fd = open(path, O_RDWR | O_CLOEXEC)) >= 0) {
            if (tries > 2 || file_version(fd) != 1)
                break;
            /* A quota.db of version 1: carry its counts over. */
            if (migrate_v1(path, fd, err, errlen) != 0) {
                close(fd);
                return NULL;
            }
            close(fd);
            continue;
        }
        if (errno != ENOENT || tries > 2) {
            snprintf(err, errlen, "quota: cannot open %s: %s", path,
                     strerror(errno));
            return NULL;
        }
        if (create_file(path, NULL, err, errlen) != 0)
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
    (void)pthread_once(&qf_home_once, home_once);
    sg_quota_init(&f->q, &qf_ops, conf);
    f->serial = atomic_fetch_add(&qf_serial_next, 1) + 1;
    f->pid = (int64_t)getpid();
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

/* sg_quota_file_test_leases - leases granted in a region (tests) */
long long
sg_quota_file_test_leases(SG_QUOTA *q, const char *region)
{
    struct qf *f = (struct qf *)q;
    struct qf_region *r;
    long long n;

    if (q == NULL || q->ops != &qf_ops
        || find_region(f, region, 0, &r) != SG_OK
        || lock_slot(f, r) != SG_OK)
        return -1;
    n = (long long)r->leases_granted;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/*
 * sg_quota_file_test_v1 - write a version 1 quota.db in dir with one
 *   region: committed daily units in the bucket of at_ms and one hold
 *   of held units (rate and daily) made at at_ms (tests of the
 *   migration)
 */
SG_STATUS
sg_quota_file_test_v1(const char *dir, const char *region,
                      long long committed, long long at_ms,
                      const char *txn, long long held)
{
    char path[4200];
    struct qf_header *hdr;
    struct qf1_region *o;
    struct qf1_hold *hd;
    unsigned char *map;
    uint64_t h = txn_hash(txn);
    int fd, rc;

    snprintf(path, sizeof(path), "%s/%s", dir, QF_FILE);
    if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0)
        return SG_ERR_IO;
    if (ftruncate(fd, (off_t)QF1_FILE_SIZE) != 0
        || (map = mmap(NULL, QF1_FILE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0)) == MAP_FAILED) {
        close(fd);
        return SG_ERR_IO;
    }
    close(fd);
    hdr = (struct qf_header *)(void *)map;
    o = (struct qf1_region *)(void *)(map + QF_HEADER_SIZE);
    rc = init_mutex(&hdr->lock);
    if (rc == 0)
        rc = init_mutex(&o->lock);
    memcpy(hdr->magic, QF_MAGIC, sizeof(QF_MAGIC));
    hdr->version = 1;
    hdr->nregions = QF_REGIONS;
    hdr->header_size = QF_HEADER_SIZE;
    hdr->region_size = QF1_REGION_SIZE;
    hdr->mutex_size = sizeof(pthread_mutex_t);
    hdr->file_size = QF1_FILE_SIZE;
    snprintf(o->name, sizeof(o->name), "%s", region);
    o->head = at_ms / QF_BUCKET_MS;
    o->ring[o->head % QF_RING] = committed;
    o->window_sum = committed;
    hd = &o->holds[(size_t)(h ^ (h >> 29)) & (QF1_HOLD_SLOTS - 1)];
    hd->hash = h;
    snprintf(hd->txn, sizeof(hd->txn), "%s", txn);
    hd->rate_units = held;
    hd->daily_units = held;
    hd->created_ms = at_ms;
    hd->rate_sec = at_ms / 1000;
    o->nholds = 1;
    o->held_daily = held;
    o->held_rate = held;
    o->next_expiry_ms = at_ms;
    atomic_store(&o->ready, 1);
    munmap(map, QF1_FILE_SIZE);
    return rc == 0 ? SG_OK : SG_ERR_IO;
}
