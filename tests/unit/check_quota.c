/*
 * check_quota.c - the quota engine's front end and embedded backend,
 *   with an injected clock
 *
 * Each test opens STATE_DIR/quota.db in a private directory with
 * quota_reservation_timeout = 60 and works on region "eu-west-1" from
 * time T0 (a multiple of the 10-second bucket width, so rows can place
 * commits at known offsets within a bucket).
 */

/* System headers. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "quota.h"
#include "quota_int.h"
#include "check_suites.h"

#define ROWS(a)     ((int)(sizeof(a) / sizeof((a)[0])))
#define R           "eu-west-1"
#define T0          1800000000000LL     /* 2027-01-15, bucket-aligned */
#define SEC         1000LL
#define DAY         (86400 * SEC)

static char *tmpdir;
static SG_CONF *conf;
static SG_QUOTA *q;

/* load_conf - a config for the test directory plus extra lines */
static SG_CONF *
load_conf(const char *extra)
{
    char buf[4200], err[512];
    SG_CONF *c;
    int n;

    n = snprintf(buf, sizeof(buf), "state_dir = %s\n"
                 "quota_reservation_timeout = 60\n%s", tmpdir, extra);
    c = sg_conf_load_buf("quota.conf", buf, (size_t)n, err, sizeof(err));
    ck_assert_msg(c != NULL, "config: %s", err);
    return c;
}

/* open_quota - open the embedded backend of conf */
static SG_QUOTA *
open_quota(const SG_CONF *c)
{
    char err[512];
    SG_QUOTA *h = sg_quota_open(c, err, sizeof(err));

    ck_assert_msg(h != NULL, "open: %s", err);
    return h;
}

/* setup - private state dir, config, handle */
static void
setup(void)
{
    tmpdir = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
    conf = load_conf("");
    q = open_quota(conf);
}

/* teardown - close and remove everything */
static void
teardown(void)
{
    q = sg_quota_close(q);
    conf = sg_conf_free(conf);
    sg_test_rmtree(tmpdir);
    free(tmpdir);
}

/* lim - limits of a region */
static struct sg_quota_limits
lim(double rate, double burst, double max24, double sent, long long sync)
{
    struct sg_quota_limits l;

    l.max_rate = rate;
    l.burst = burst;
    l.max_24h = max24;
    l.sent_24h = sent;
    l.synced_at_ms = sync;
    return l;
}

/* deny_name - text of a deny reason */
static const char *
deny_name(enum sg_quota_deny d)
{
    return d == SG_QUOTA_OK ? "OK" : d == SG_QUOTA_RATE ? "RATE"
           : d == SG_QUOTA_DAILY ? "DAILY" : "?";
}

/* reserve - reserve and return the deny reason (status must be OK) */
static enum sg_quota_deny
reserve(const struct sg_quota_limits *l, const char *txn, long long ru,
        long long du, long long now)
{
    enum sg_quota_deny d = SG_QUOTA_OK;
    SG_STATUS st = sg_quota_reserve(q, R, l, txn, ru, du, now, &d);

    ck_assert_msg(st == SG_OK, "reserve %s: got %s, want OK (%s)", txn,
                  sg_strerror(st), sg_quota_error(q));
    return d;
}

/* peek - peek and return the deny reason */
static enum sg_quota_deny
peek(const struct sg_quota_limits *l, long long ru, long long du,
     long long now)
{
    enum sg_quota_deny d = SG_QUOTA_OK;
    SG_STATUS st = sg_quota_peek(q, R, l, ru, du, now, &d);

    ck_assert_msg(st == SG_OK, "peek: got %s, want OK (%s)",
                  sg_strerror(st), sg_quota_error(q));
    return d;
}

/* usage - a region's usage */
static struct sg_quota_usage
usage(const struct sg_quota_limits *l, long long now)
{
    struct sg_quota_usage u;
    SG_STATUS st = sg_quota_usage(q, R, l, now, &u);

    ck_assert_msg(st == SG_OK, "usage: got %s, want OK", sg_strerror(st));
    return u;
}

/* commit - commit everything held by txn */
static void
commit(const char *txn, long long now)
{
    SG_STATUS st = sg_quota_commit(q, R, txn, -1, -1, now);

    ck_assert_msg(st == SG_OK, "commit: got %s, want OK", sg_strerror(st));
}

#define WANT_DENY(got, want) \
    ck_assert_msg((got) == (want), "%s: got %s, want %s", #got, \
                  deny_name(got), deny_name(want))
#define WANT_NUM(got, want) \
    ck_assert_msg((got) > (want) - 1e-6 && (got) < (want) + 1e-6, \
                  "%s: got %g, want %g", #got, (double)(got), \
                  (double)(want))

/* The token bucket refills at max_rate per second, up to the burst. */
START_TEST(test_refill)
{
    struct sg_quota_limits l = lim(10, 10, -1, 0, 0);
    char txn[32];
    int i;

    for (i = 0; i < 10; i++) {
        snprintf(txn, sizeof(txn), "t%d", i);
        WANT_DENY(reserve(&l, txn, 1, 1, T0), SG_QUOTA_OK);
    }
    WANT_DENY(reserve(&l, "t10", 1, 1, T0), SG_QUOTA_RATE);
    /* 100 ms at 10/s is one token. */
    WANT_DENY(reserve(&l, "t11", 1, 1, T0 + 100), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "t12", 1, 1, T0 + 100), SG_QUOTA_RATE);
    WANT_DENY(reserve(&l, "t13", 2, 2, T0 + 250), SG_QUOTA_RATE);
    WANT_DENY(reserve(&l, "t14", 1, 1, T0 + 250), SG_QUOTA_OK);
    /* A long pause refills to the burst, not beyond. */
    WANT_NUM(usage(&l, T0 + 60 * SEC).tokens, 10.0);
}
END_TEST

/* The burst: explicit, quota_burst, or one second's worth (>= 1). */
static const struct {
    const char *conf;
    double rate, burst, want;
} burst_rows[] = {
    { "", 5, 0, 5 },
    { "", 0.5, 0, 1 },
    { "", 14, 3, 3 },
    { "quota_burst = 20\n", 5, 0, 20 },
    { "quota_burst = 20\n", 5, 7, 7 },
};

START_TEST(test_burst)
{
    SG_CONF *c = load_conf(burst_rows[_i].conf);
    struct sg_quota_limits l = lim(burst_rows[_i].rate,
                                   burst_rows[_i].burst, -1, 0, 0);

    q = sg_quota_close(q);
    q = open_quota(c);
    WANT_NUM(usage(&l, T0).tokens, burst_rows[_i].want);
    /* Exactly the burst is admitted at once. */
    WANT_DENY(reserve(&l, "a", (long long)burst_rows[_i].want, 0, T0),
              SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "b", 1, 0, T0), SG_QUOTA_RATE);
    sg_conf_free(c);
}
END_TEST

/* All or none: a 3-unit reserve with 2 left changes nothing. */
START_TEST(test_all_or_none)
{
    struct sg_quota_limits l = lim(100, 0, 5, 0, 0);
    struct sg_quota_usage u;

    WANT_DENY(reserve(&l, "a", 3, 3, T0), SG_QUOTA_OK);
    commit("a", T0);
    WANT_DENY(reserve(&l, "b", 3, 3, T0), SG_QUOTA_DAILY);
    u = usage(&l, T0);
    WANT_NUM(u.sent_24h, 3);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.tokens, 97);
    WANT_DENY(reserve(&l, "b", 2, 2, T0), SG_QUOTA_OK);
    /* Rate refusal: daily room but no tokens; nothing held either. */
    l = lim(2, 2, 100, 0, 0);
    WANT_DENY(reserve(&l, "c", 3, 3, T0 + DAY * 2), SG_QUOTA_RATE);
    u = usage(&l, T0 + DAY * 2);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.tokens, 2);
}
END_TEST

/* Daily first: with both limits exceeded the daily one is named. */
START_TEST(test_daily_first)
{
    struct sg_quota_limits l = lim(1, 1, 1, 0, 0);

    WANT_DENY(reserve(&l, "a", 1, 1, T0), SG_QUOTA_OK);
    commit("a", T0);
    WANT_DENY(reserve(&l, "b", 1, 1, T0), SG_QUOTA_DAILY);
    WANT_DENY(peek(&l, 1, 1, T0), SG_QUOTA_DAILY);
    WANT_DENY(peek(&l, 1, 0, T0), SG_QUOTA_RATE);
}
END_TEST

/*
 * Rolling window: a unit committed at T0 + off is counted at
 * T0 + off + 24 h - 1 s and gone at T0 + off + 24 h + one bucket (10 s).
 */
static const long long age_rows[] = { 0, 1, 5000, 9999, 10000, 123456 };

START_TEST(test_age_out)
{
    struct sg_quota_limits l = lim(100, 0, 1, 0, 0);
    long long t = T0 + age_rows[_i];

    WANT_DENY(reserve(&l, "a", 1, 1, t), SG_QUOTA_OK);
    commit("a", t);
    WANT_DENY(peek(&l, 1, 1, t + DAY - SEC), SG_QUOTA_DAILY);
    WANT_DENY(peek(&l, 1, 1, t + DAY - 1), SG_QUOTA_DAILY);
    WANT_NUM(usage(&l, t + DAY - 1).sent_24h, 1);
    WANT_DENY(peek(&l, 1, 1, t + DAY + 10 * SEC), SG_QUOTA_OK);
    WANT_NUM(usage(&l, t + DAY + 10 * SEC).sent_24h, 0);
}
END_TEST

/* Mailbox simulator units: rate 1, daily 0, pass a spent daily quota. */
START_TEST(test_simulator)
{
    struct sg_quota_limits l = lim(2, 2, 0, 0, 0);

    WANT_DENY(reserve(&l, "a", 1, 1, T0), SG_QUOTA_DAILY);
    WANT_DENY(reserve(&l, "a", 1, 0, T0), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "b", 1, 0, T0), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "c", 1, 0, T0), SG_QUOTA_RATE);
    commit("a", T0);
    commit("b", T0);
    WANT_NUM(usage(&l, T0).sent_24h, 0);
}
END_TEST

/* Unlimited: max_24h < 0 skips the daily check. */
START_TEST(test_unlimited)
{
    struct sg_quota_limits l = lim(1000000, 0, -1, 5e9, T0);
    char txn[32];
    int i;

    for (i = 0; i < 100; i++) {
        snprintf(txn, sizeof(txn), "t%d", i);
        WANT_DENY(reserve(&l, txn, 50, 50, T0), SG_QUOTA_OK);
        commit(txn, T0);
    }
    WANT_NUM(usage(&l, T0).sent_24h, 5e9 + 5000);
}
END_TEST

/* Commit of fewer units than held releases the rest. */
START_TEST(test_commit_partial)
{
    struct sg_quota_limits l = lim(10, 10, 10, 0, 0);
    struct sg_quota_usage u;

    WANT_DENY(reserve(&l, "a", 2, 2, T0), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "a", 3, 3, T0), SG_QUOTA_OK);
    u = usage(&l, T0);
    WANT_NUM(u.reserved, 5);
    ck_assert_int_eq(sg_quota_commit(q, R, "a", 2, 2, T0), SG_OK);
    u = usage(&l, T0);
    WANT_NUM(u.sent_24h, 2);
    WANT_NUM(u.reserved, 0);
    /* The 3 unused tokens went back within the same second. */
    WANT_NUM(u.tokens, 8);
    /* A second commit of the same id finds nothing. */
    ck_assert_int_eq(sg_quota_commit(q, R, "a", -1, -1, T0), SG_OK);
    WANT_NUM(usage(&l, T0).sent_24h, 2);
}
END_TEST

/* Release: daily units back always, rate tokens only the same second. */
START_TEST(test_release)
{
    struct sg_quota_limits l = lim(1, 4, 10, 0, 0);
    struct sg_quota_usage u;

    WANT_DENY(reserve(&l, "a", 3, 3, T0), SG_QUOTA_OK);
    ck_assert_int_eq(sg_quota_release(q, R, "a", T0 + 500), SG_OK);
    u = usage(&l, T0 + 500);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.tokens, 4);
    WANT_DENY(reserve(&l, "b", 3, 3, T0 + 500), SG_QUOTA_OK);
    /* A second later: SES has counted the rate; the tokens stay taken
     * (refill of 1 token over the second aside). */
    ck_assert_int_eq(sg_quota_release(q, R, "b", T0 + 1500), SG_OK);
    u = usage(&l, T0 + 1500);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.tokens, 2);
    ck_assert_int_eq(sg_quota_release(q, R, "none", T0), SG_OK);
    ck_assert_int_eq(sg_quota_release(q, "us-east-2", "none", T0), SG_OK);
}
END_TEST

/* Holds expire after quota_reservation_timeout (60 s here). */
START_TEST(test_expiry)
{
    struct sg_quota_limits l = lim(100, 0, 5, 0, 0);

    WANT_DENY(reserve(&l, "a", 3, 3, T0), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "b", 2, 2, T0 + 30 * SEC), SG_QUOTA_OK);
    WANT_DENY(peek(&l, 1, 1, T0 + 59 * SEC), SG_QUOTA_DAILY);
    WANT_NUM(usage(&l, T0 + 60 * SEC - 1).reserved, 5);
    WANT_NUM(usage(&l, T0 + 60 * SEC).reserved, 2);
    WANT_DENY(reserve(&l, "c", 3, 3, T0 + 60 * SEC), SG_QUOTA_OK);
    WANT_NUM(usage(&l, T0 + 90 * SEC).reserved, 3);
    /* An expired hold commits nothing. */
    commit("a", T0 + 90 * SEC);
    WANT_NUM(usage(&l, T0 + 90 * SEC).sent_24h, 0);
}
END_TEST

/* Reconciliation of local counts with SentLast24Hours. */
START_TEST(test_reconcile)
{
    struct sg_quota_limits l = lim(100, 0, 1000, 0, 0);
    long long sync1 = T0 + 3600 * SEC, sync2 = T0 + 7200 * SEC;
    char txn[32];
    int i;

    /* 30 units before the first sync: SES's figure includes them. */
    for (i = 0; i < 30; i++) {
        snprintf(txn, sizeof(txn), "pre%d", i);
        WANT_DENY(reserve(&l, txn, 1, 1, T0 + i * SEC), SG_QUOTA_OK);
        commit(txn, T0 + i * SEC);
    }
    l = lim(100, 0, 1000, 100, sync1);
    WANT_NUM(usage(&l, sync1).sent_24h, 100);
    for (i = 0; i < 50; i++) {
        snprintf(txn, sizeof(txn), "post%d", i);
        WANT_DENY(reserve(&l, txn, 1, 1, sync1 + 60 * SEC + i * SEC),
                  SG_QUOTA_OK);
        commit(txn, sync1 + 60 * SEC + i * SEC);
    }
    WANT_NUM(usage(&l, sync1 + 600 * SEC).sent_24h, 150);
    /* A later sync that has seen everything: 160 (10 from elsewhere). */
    l = lim(100, 0, 1000, 160, sync2);
    WANT_NUM(usage(&l, sync2).sent_24h, 160);
    /* A sync that shows less than we sent: our window wins. */
    l = lim(100, 0, 1000, 10, sync2);
    WANT_NUM(usage(&l, sync2).sent_24h, 80);
    /* Without a sync time: max(window, sent_24h). */
    l = lim(100, 0, 1000, 90, 0);
    WANT_NUM(usage(&l, sync2).sent_24h, 90);
    /* A day after the sync its figure has aged out. */
    l = lim(100, 0, 1000, 160, sync2);
    WANT_NUM(usage(&l, sync2 + DAY).sent_24h, 0);
    /* The daily limit uses the reconciled figure. */
    l = lim(100, 0, 165, 160, sync2);
    WANT_DENY(peek(&l, 6, 6, sync2 + SEC), SG_QUOTA_DAILY);
    WANT_DENY(peek(&l, 5, 5, sync2 + SEC), SG_QUOTA_OK);
}
END_TEST

/* Reset forgets counters and holds. */
START_TEST(test_reset)
{
    struct sg_quota_limits l = lim(10, 0, 10, 0, 0);
    struct sg_quota_usage u;

    WANT_DENY(reserve(&l, "a", 4, 4, T0), SG_QUOTA_OK);
    commit("a", T0);
    WANT_DENY(reserve(&l, "b", 4, 4, T0), SG_QUOTA_OK);
    ck_assert_int_eq(sg_quota_reset(q, R), SG_OK);
    u = usage(&l, T0);
    WANT_NUM(u.sent_24h, 0);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.tokens, 10);
    ck_assert_int_eq(sg_quota_reset(q, "us-east-2"), SG_OK);
}
END_TEST

/* Persistence: close and reopen, counts intact. */
START_TEST(test_persist)
{
    struct sg_quota_limits l = lim(10, 0, 10, 0, 0);
    struct sg_quota_usage u;

    WANT_DENY(reserve(&l, "a", 4, 4, T0), SG_QUOTA_OK);
    commit("a", T0);
    WANT_DENY(reserve(&l, "b", 3, 3, T0), SG_QUOTA_OK);
    q = sg_quota_close(q);
    q = open_quota(conf);
    u = usage(&l, T0);
    WANT_NUM(u.sent_24h, 4);
    WANT_NUM(u.reserved, 3);
    WANT_DENY(reserve(&l, "c", 4, 4, T0), SG_QUOTA_DAILY);
    commit("b", T0);
    WANT_NUM(usage(&l, T0).sent_24h, 7);
}
END_TEST

/* A process killed while holding a region lock does not wedge others. */
START_TEST(test_robust)
{
    struct sg_quota_limits l = lim(10, 0, 10, 0, 0);
    int fds[2], status;
    char c;
    pid_t pid;

    WANT_DENY(reserve(&l, "a", 2, 2, T0), SG_QUOTA_OK);
    commit("a", T0);
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        SG_QUOTA *h = open_quota(conf);

        close(fds[0]);
        if (sg_quota_file_test_lock(h, R) == SG_OK)
            (void)write(fds[1], "L", 1);
        for (;;)
            pause();
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    WANT_DENY(reserve(&l, "b", 3, 3, T0), SG_QUOTA_OK);
    commit("b", T0);
    WANT_NUM(usage(&l, T0).sent_24h, 5);
}
END_TEST

/* Argument checks: nothing reaches the backend. */
static const struct {
    const char *region, *txn;
    long long ru, du;
    SG_STATUS want;
} arg_rows[] = {
    { R, "ok", 1, 1, SG_OK },
    { "", "ok", 1, 1, SG_ERR_USAGE },
    { NULL, "ok", 1, 1, SG_ERR_USAGE },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ok", 1, 1, SG_ERR_USAGE },
    { "eu west", "ok", 1, 1, SG_ERR_USAGE },
    { R, "", 1, 1, SG_ERR_USAGE },
    { R, NULL, 1, 1, SG_ERR_USAGE },
    { R, "a b", 1, 1, SG_ERR_USAGE },
    { R, "0123456789012345678901234567890123456789012345678901234567890123",
      1, 1, SG_OK },
    { R, "01234567890123456789012345678901234567890123456789012345678901234",
      1, 1, SG_ERR_USAGE },
    { R, "ok", -1, 1, SG_ERR_USAGE },
    { R, "ok", 1, -1, SG_ERR_USAGE },
    { R, "ok", 10000000, 1, SG_ERR_USAGE },
};

START_TEST(test_args)
{
    struct sg_quota_limits l = lim(100, 0, 1000, 0, 0);
    enum sg_quota_deny d;
    SG_STATUS st;

    st = sg_quota_reserve(q, arg_rows[_i].region, &l, arg_rows[_i].txn,
                          arg_rows[_i].ru, arg_rows[_i].du, T0, &d);
    ck_assert_msg(st == arg_rows[_i].want, "got %s, want %s",
                  sg_strerror(st), sg_strerror(arg_rows[_i].want));
    if (st != SG_OK)
        ck_assert_msg(sg_quota_error(q)[0] != '\0', "no error text");
}
END_TEST

/* Bad limits and a NULL handle are refused, not crashed on. */
START_TEST(test_bad_limits)
{
    struct sg_quota_limits l = lim(-1, 0, 10, 0, 0);
    struct sg_quota_usage u;
    enum sg_quota_deny d;

    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "a", 1, 1, T0, &d),
                     SG_ERR_USAGE);
    ck_assert_int_eq(sg_quota_reserve(q, R, NULL, "a", 1, 1, T0, &d),
                     SG_ERR_USAGE);
    l = lim(1.0 / 0.0, 0, 10, 0, 0);
    ck_assert_int_eq(sg_quota_peek(q, R, &l, 1, 1, T0, &d), SG_ERR_USAGE);
    ck_assert_int_eq(sg_quota_usage(NULL, R, &l, T0, &u), SG_ERR_USAGE);
    ck_assert_ptr_null(sg_quota_close(NULL));
    ck_assert_str_eq(sg_quota_error(NULL), "quota: no handle");
}
END_TEST

/*
 * Many holds in flight, released in a scrambled order: the striped hash
 * tables (linear probing with backward-shift deletion) keep every hold
 * findable; 1,024 always fit, and a full region refuses with
 * SG_ERR_FULL, at most 8 stripes x 192 = 1,536.
 */
START_TEST(test_many_holds)
{
    struct sg_quota_limits l = lim(1e6, 0, -1, 0, 0);
    char txn[32];
    int i, j, n;
    SG_STATUS st = SG_OK;
    enum sg_quota_deny d;

    for (i = 0; i < 1024; i++) {
        snprintf(txn, sizeof(txn), "h%d", i);
        WANT_DENY(reserve(&l, txn, 1, 1, T0), SG_QUOTA_OK);
    }
    for (n = 1024; n < 4096; n++) {
        snprintf(txn, sizeof(txn), "h%d", n);
        if ((st = sg_quota_reserve(q, R, &l, txn, 1, 1, T0, &d)) != SG_OK)
            break;
    }
    ck_assert_msg(st == SG_ERR_FULL, "got %s, want %s", sg_strerror(st),
                  sg_strerror(SG_ERR_FULL));
    ck_assert_msg(n <= 1536, "%d holds admitted, want <= 1536", n);
    ck_assert_msg(strstr(sg_quota_error(q), "reservations in flight")
                  != NULL, "error text: %s", sg_quota_error(q));
    WANT_NUM(usage(&l, T0).reserved, n);
    for (j = 0; j < n; j++) {
        i = (int)(((long)j * 389) % n);
        snprintf(txn, sizeof(txn), "h%d", i);
        if (i % 2 == 0)
            commit(txn, T0);
        else
            ck_assert_int_eq(sg_quota_release(q, R, txn, T0), SG_OK);
    }
    WANT_NUM(usage(&l, T0).reserved, 0);
    WANT_NUM(usage(&l, T0).sent_24h, (n + 1) / 2);
}
END_TEST

/*
 * Holds and threads. A thread's new holds go to its home stripe, so the
 * tests below do their reserves and commits from different threads
 * (each new thread gets another home, file comment of quota_file.c).
 * Check's asserts are for the main thread: the helpers only record.
 */
struct hold_job {
    const struct sg_quota_limits *l;
    const char *txn;
    long long units;
    long long now;
    int rounds;                 /* dup: transactions "dup<i>" */
    pthread_barrier_t *bar;     /* dup: both reserve each one at once */
    SG_STATUS st;               /* first status other than OK */
    enum sg_quota_deny deny;    /* first refusal */
};

/* hold_reserve_thread - reserve job->txn once */
static void *
hold_reserve_thread(void *arg)
{
    struct hold_job *j = arg;

    j->st = sg_quota_reserve(q, R, j->l, j->txn, j->units, j->units,
                             j->now, &j->deny);
    return NULL;
}

/* hold_dup_thread - reserve "dup<i>" for each round, in step with the
 *   other thread */
static void *
hold_dup_thread(void *arg)
{
    struct hold_job *j = arg;
    enum sg_quota_deny d;
    char txn[32];
    SG_STATUS st;
    int i;

    for (i = 0; i < j->rounds; i++) {
        snprintf(txn, sizeof(txn), "dup%d", i);
        pthread_barrier_wait(j->bar);
        st = sg_quota_reserve(q, R, j->l, txn, 1, 1, j->now, &d);
        if (st != SG_OK && j->st == SG_OK)
            j->st = st;
        if (d != SG_QUOTA_OK && j->deny == SG_QUOTA_OK)
            j->deny = d;
    }
    return NULL;
}

/* run_reserve - reserve txn from a new thread; the status */
static SG_STATUS
run_reserve(const struct sg_quota_limits *l, const char *txn,
            long long units, long long now, enum sg_quota_deny *deny)
{
    struct hold_job j;
    pthread_t tid;

    memset(&j, 0, sizeof(j));
    j.l = l;
    j.txn = txn;
    j.units = units;
    j.now = now;
    ck_assert_int_eq(pthread_create(&tid, NULL, hold_reserve_thread, &j), 0);
    ck_assert_int_eq(pthread_join(tid, NULL), 0);
    *deny = j.deny;
    return j.st;
}

/*
 * One transaction id, one hold: two threads (two homes) reserve the same
 * ids at the same instant, 1,000 times, with leases (rate and daily
 * room) and without (a daily quota with no room to lease). One commit of
 * each id must then take everything held: a second hold of an id would
 * stay reserved.
 */
START_TEST(test_same_txn_two_threads)
{
    struct sg_quota_limits l = _i == 0 ? lim(1e7, 1e7, -1, 0, 0)
                                       : lim(1e7, 1e7, 2000, 0, 0);
    pthread_barrier_t bar;
    struct hold_job j[2];
    pthread_t tid[2];
    char txn[32];
    int i, t, rounds = 1000;

    ck_assert_int_eq(pthread_barrier_init(&bar, NULL, 2), 0);
    for (t = 0; t < 2; t++) {
        memset(&j[t], 0, sizeof(j[t]));
        j[t].l = &l;
        j[t].now = T0;
        j[t].rounds = rounds;
        j[t].bar = &bar;
        ck_assert_int_eq(pthread_create(&tid[t], NULL, hold_dup_thread,
                                        &j[t]), 0);
    }
    for (t = 0; t < 2; t++) {
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        ck_assert_msg(j[t].st == SG_OK, "thread %d: %s (%s)", t,
                      sg_strerror(j[t].st), sg_quota_error(q));
        WANT_DENY(j[t].deny, SG_QUOTA_OK);
    }
    pthread_barrier_destroy(&bar);
    WANT_NUM(usage(&l, T0).reserved, 2 * rounds);
    for (i = 0; i < rounds; i++) {
        snprintf(txn, sizeof(txn), "dup%d", i);
        commit(txn, T0);
    }
    WANT_NUM(usage(&l, T0).reserved, 0);
    WANT_NUM(usage(&l, T0).sent_24h, 2 * rounds);
}
END_TEST

/*
 * Commit and release from another thread than the reserver's find the
 * hold (in the reserver's home stripe); so does a reserve under the
 * same id from a third thread (it adds to that hold).
 */
START_TEST(test_commit_other_thread)
{
    struct sg_quota_limits l = lim(1e6, 1e6, -1, 0, 0);
    enum sg_quota_deny d;
    char txn[32];
    int i;

    for (i = 0; i < 6; i++) {
        snprintf(txn, sizeof(txn), "other%d", i);
        ck_assert_int_eq(run_reserve(&l, txn, 3, T0, &d), SG_OK);
        WANT_DENY(d, SG_QUOTA_OK);
    }
    /* A third thread adds 2 units to other0's hold. */
    ck_assert_int_eq(run_reserve(&l, "other0", 2, T0, &d), SG_OK);
    WANT_NUM(usage(&l, T0).reserved, 20);
    for (i = 0; i < 6; i++) {
        snprintf(txn, sizeof(txn), "other%d", i);
        if (i % 2 == 0)
            commit(txn, T0);
        else
            ck_assert_int_eq(sg_quota_release(q, R, txn, T0), SG_OK);
    }
    WANT_NUM(usage(&l, T0).reserved, 0);
    /* other0 (5 units), other2 and other4 (3 each) committed. */
    WANT_NUM(usage(&l, T0).sent_24h, 11);
}
END_TEST

/*
 * A hold in another thread's stripe expires for a reserve of this one:
 * the thread that made it is gone (as a killed process's), nobody peeks
 * or asks for usage, and the quota is spent by it until its timeout.
 */
START_TEST(test_expire_other_stripe)
{
    struct sg_quota_limits l = lim(1000, 1000, 10, 0, 0);
    enum sg_quota_deny d;

    ck_assert_int_eq(run_reserve(&l, "gone", 10, T0, &d), SG_OK);
    WANT_DENY(d, SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "mine", 4, 4, T0 + 59 * SEC), SG_QUOTA_DAILY);
    /* 60 s later the hold has expired: all 10 units are free again. */
    WANT_DENY(reserve(&l, "mine", 10, 10, T0 + 60 * SEC), SG_QUOTA_OK);
    commit("gone", T0 + 60 * SEC);       /* nothing left to commit */
    commit("mine", T0 + 60 * SEC);
    WANT_NUM(usage(&l, T0 + 60 * SEC).sent_24h, 10);
    WANT_NUM(usage(&l, T0 + 60 * SEC).reserved, 0);
}
END_TEST

/*
 * Leases near the limit: with room, one reserve takes a lease of 128
 * units (their tokens leave the bucket at once); another handle (a
 * thread of its own) asking for everything left is admitted because
 * the unspent units of the first lease are taken back, and after that
 * the first handle is refused exactly at the limit.
 */
START_TEST(test_lease_near_limit)
{
    struct sg_quota_limits l = lim(0, 10000, 10000, 0, 0);
    struct sg_quota_usage u;
    SG_QUOTA *b = open_quota(conf);
    enum sg_quota_deny d = SG_QUOTA_OK;

    WANT_DENY(reserve(&l, "a1", 1, 1, T0), SG_QUOTA_OK);
    commit("a1", T0);
    ck_assert_int_eq(sg_quota_file_test_leases(q, R), 1);
    u = usage(&l, T0);
    WANT_NUM(u.sent_24h, 1);
    WANT_NUM(u.tokens, 10000 - 128);
    /* 9,999 left, 127 of them in a's lease. */
    ck_assert_int_eq(sg_quota_reserve(b, R, &l, "b1", 9999, 9999, T0 + 1,
                                      &d), SG_OK);
    WANT_DENY(d, SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "a2", 1, 1, T0 + 2), SG_QUOTA_DAILY);
    WANT_DENY(peek(&l, 1, 1, T0 + 2), SG_QUOTA_DAILY);
    u = usage(&l, T0 + 2);
    WANT_NUM(u.sent_24h, 1);
    WANT_NUM(u.reserved, 9999);
    WANT_NUM(u.tokens, 0);
    ck_assert_int_eq(sg_quota_commit(b, R, "b1", -1, -1, T0 + 3), SG_OK);
    WANT_NUM(usage(&l, T0 + 3).sent_24h, 10000);
    sg_quota_close(b);
}
END_TEST

/*
 * A thread spending down leases to the limit: 1-unit messages go
 * through leases while there is room and through the exact path after
 * it; exactly the quota is admitted.
 */
START_TEST(test_lease_to_limit)
{
    struct sg_quota_limits l = lim(1e6, 0, 5000, 0, 0);
    char txn[32];
    int i;
    enum sg_quota_deny d = SG_QUOTA_OK;

    for (i = 0; i < 6000; i++) {
        snprintf(txn, sizeof(txn), "m%d", i);
        if ((d = reserve(&l, txn, 1, 1, T0 + i / 10)) != SG_QUOTA_OK)
            break;
        commit(txn, T0 + i / 10);
    }
    WANT_DENY(d, SG_QUOTA_DAILY);
    ck_assert_int_eq(i, 5000);
    ck_assert_int_gt(sg_quota_file_test_leases(q, R), 5);
    WANT_NUM(usage(&l, T0 + 600).sent_24h, 5000);
    WANT_NUM(usage(&l, T0 + 600).reserved, 0);
}
END_TEST

/* Closing a handle returns the unspent part of its leases. */
START_TEST(test_lease_close)
{
    struct sg_quota_limits l = lim(0, 10000, -1, 0, 0);
    SG_QUOTA *b = open_quota(conf);
    enum sg_quota_deny d = SG_QUOTA_OK;

    ck_assert_int_eq(sg_quota_reserve(b, R, &l, "b1", 3, 3, T0, &d), SG_OK);
    WANT_DENY(d, SG_QUOTA_OK);
    ck_assert_int_eq(sg_quota_commit(b, R, "b1", -1, -1, T0), SG_OK);
    WANT_NUM(usage(&l, T0).tokens, 10000 - 128);
    WANT_NUM(usage(&l, T0).rate_now, 0);
    sg_quota_close(b);
    /* 3 spent, 125 back; the spent ones now show in the rate. */
    WANT_NUM(usage(&l, T0).tokens, 10000 - 3);
    WANT_NUM(usage(&l, T0).rate_now, 3);
    WANT_NUM(usage(&l, T0).sent_24h, 3);
}
END_TEST

/*
 * A process killed with a lease and a hold: its unspent lease units
 * come back 200 ms after the lease was granted, its hold after the
 * reservation timeout, its commit stays counted.
 */
START_TEST(test_lease_killed)
{
    struct sg_quota_limits l = lim(0, 10000, 10000, 0, 0);
    struct sg_quota_usage u;
    int fds[2], status;
    char c;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        SG_QUOTA *h = open_quota(conf);
        enum sg_quota_deny d;

        close(fds[0]);
        if (sg_quota_reserve(h, R, &l, "c1", 1, 1, T0, &d) == SG_OK
            && d == SG_QUOTA_OK
            && sg_quota_commit(h, R, "c1", -1, -1, T0) == SG_OK
            && sg_quota_reserve(h, R, &l, "c2", 2, 2, T0, &d) == SG_OK
            && d == SG_QUOTA_OK)
            (void)write(fds[1], "L", 1);
        for (;;)
            pause();
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(sg_quota_file_test_leases(q, R), 1);
    u = usage(&l, T0 + 199);
    WANT_NUM(u.tokens, 10000 - 128);
    WANT_NUM(u.sent_24h, 1);
    WANT_NUM(u.reserved, 2);
    u = usage(&l, T0 + 200);
    WANT_NUM(u.tokens, 10000 - 3);
    WANT_NUM(u.reserved, 2);
    u = usage(&l, T0 + 60 * SEC);
    WANT_NUM(u.reserved, 0);
    WANT_NUM(u.sent_24h, 1);
    /* Everything else is admissible again, exactly. */
    WANT_DENY(reserve(&l, "p1", 0, 9999, T0 + 60 * SEC), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "p2", 0, 1, T0 + 60 * SEC), SG_QUOTA_DAILY);
}
END_TEST

/*
 * A quota.db of version 1 (one lock per region) is carried over when a
 * handle opens it: committed units and holds survive the upgrade.
 */
START_TEST(test_migrate_v1)
{
    struct sg_quota_limits l = lim(10, 0, 20, 0, 0);
    struct sg_quota_usage u;
    char path[4200];

    q = sg_quota_close(q);
    snprintf(path, sizeof(path), "%s/quota.db", tmpdir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(sg_quota_file_test_v1(tmpdir, R, 7, T0, "old", 3),
                     SG_OK);
    q = open_quota(conf);
    u = usage(&l, T0 + SEC);
    WANT_NUM(u.sent_24h, 7);
    WANT_NUM(u.reserved, 3);
    WANT_DENY(reserve(&l, "x", 11, 11, T0 + SEC), SG_QUOTA_DAILY);
    commit("old", T0 + SEC);
    u = usage(&l, T0 + SEC);
    WANT_NUM(u.sent_24h, 10);
    WANT_NUM(u.reserved, 0);
    /* Reopened: version 2 now, same counts. */
    q = sg_quota_close(q);
    q = open_quota(conf);
    WANT_NUM(usage(&l, T0 + SEC).sent_24h, 10);
    WANT_DENY(reserve(&l, "y", 10, 10, T0 + 2 * SEC), SG_QUOTA_OK);
    WANT_DENY(reserve(&l, "z", 0, 1, T0 + 2 * SEC), SG_QUOTA_DAILY);
    /* Counted until a day later, then aged out like any commit. */
    WANT_NUM(usage(&l, T0 + DAY - SEC).sent_24h, 10);
    WANT_NUM(usage(&l, T0 + DAY + 10 * SEC).sent_24h, 0);
}
END_TEST

/* One racing thread: reserve and commit 1- and 3-unit messages until a
 * 1-unit one is refused for the daily quota. */
struct racer {
    SG_QUOTA *q;
    const struct sg_quota_limits *l;
    int id;
    long long admitted;
    long long other;            /* refusals for the rate, errors */
};

static void *
race_thread(void *arg)
{
    struct racer *w = arg;
    enum sg_quota_deny d;
    char txn[64];
    long i;
    long long u;

    for (i = 0; i < 1000000; i++) {
        u = i % 2 == 0 ? 1 : 3;
        snprintf(txn, sizeof(txn), "r%d.%ld", w->id, i);
        if (sg_quota_reserve(w->q, R, w->l, txn, u, u, 0, &d) != SG_OK
            || d == SG_QUOTA_RATE) {
            w->other++;
            continue;
        }
        if (d == SG_QUOTA_DAILY) {
            if (u == 1)
                break;
            continue;
        }
        if (sg_quota_commit(w->q, R, txn, -1, -1, 0) != SG_OK)
            w->other++;
        w->admitted += u;
    }
    return NULL;
}

/*
 * Exactness: 8 processes x 2 threads race for a daily quota of 5,000
 * and of 50,000 (most of it through leases), real clock: exactly the
 * quota is admitted and counted, and leases were used.
 */
static const double race_rows[] = { 5000, 50000 };

START_TEST(test_race)
{
    struct sg_quota_limits l = lim(1e7, 0, race_rows[_i], 0, 0);
    long long got[2], admitted = 0, other = 0;
    int fds[2], p, t, status;
    pid_t pids[8];

    ck_assert_int_eq(pipe(fds), 0);
    for (p = 0; p < 8; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            struct racer w[2];
            pthread_t tid[2];
            SG_QUOTA *h = open_quota(conf);

            close(fds[0]);
            memset(w, 0, sizeof(w));
            for (t = 0; t < 2; t++) {
                w[t].q = h;
                w[t].l = &l;
                w[t].id = p * 2 + t;
                if (pthread_create(&tid[t], NULL, race_thread, &w[t]) != 0)
                    _exit(1);
            }
            for (t = 0; t < 2; t++)
                pthread_join(tid[t], NULL);
            sg_quota_close(h);
            got[0] = w[0].admitted + w[1].admitted;
            got[1] = w[0].other + w[1].other;
            _exit(write(fds[1], got, sizeof(got)) == (ssize_t)sizeof(got)
                  ? 0 : 1);
        }
    }
    close(fds[1]);
    for (p = 0; p < 8; p++) {
        ck_assert_int_eq(read(fds[0], got, sizeof(got)),
                         (ssize_t)sizeof(got));
        admitted += got[0];
        other += got[1];
    }
    close(fds[0]);
    for (p = 0; p < 8; p++) {
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "racer %d failed", p);
    }
    ck_assert_int_eq(admitted, (long long)race_rows[_i]);
    ck_assert_int_eq(other, 0);
    WANT_NUM(usage(&l, 0).sent_24h, race_rows[_i]);
    WANT_NUM(usage(&l, 0).reserved, 0);
    ck_assert_int_gt(sg_quota_file_test_leases(q, R), 0);
}
END_TEST

/*
 * Deferred calls (quota.h): with a slot set, a reserve or commit goes
 * into the slot (SG_PENDING, nothing held), sg_quota_run_slots runs it,
 * and the same call again takes the answer; a different call, or one
 * made while the slot is still pending, runs at once.
 */
START_TEST(test_defer_slots)
{
    struct sg_quota_limits l = lim(100, 100, 3, 0, 0);
    struct sg_quota_slot a, b, *slots[3];
    enum sg_quota_deny d;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    ck_assert(!sg_quota_defers(q));     /* embedded: never pays */

    sg_quota_defer_slot(q, &a);
    d = SG_QUOTA_RATE;
    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "a", 2, 2, T0, &d),
                     SG_PENDING);
    WANT_DENY(d, SG_QUOTA_OK);
    ck_assert_int_eq(a.state, SG_QSLOT_PENDING);
    /* A second call while the slot is pending runs at once. */
    ck_assert_int_eq(sg_quota_commit(q, R, "none", -1, -1, T0), SG_OK);
    sg_quota_defer_slot(q, &b);
    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "b", 2, 2, T0, &d),
                     SG_PENDING);
    sg_quota_defer_slot(q, NULL);
    WANT_NUM(usage(&l, T0).reserved, 0);        /* nothing ran yet */

    /* Run both, in order: a is admitted, b is over the daily 3. */
    slots[0] = &a;
    slots[1] = NULL;
    slots[2] = &b;
    ck_assert_int_eq(sg_quota_run_slots(q, slots, 3), SG_OK);
    ck_assert_int_eq(a.state, SG_QSLOT_ANSWERED);
    ck_assert_int_eq(a.st, SG_OK);
    WANT_DENY(a.deny, SG_QUOTA_OK);
    ck_assert_int_eq(b.state, SG_QSLOT_ANSWERED);
    WANT_DENY(b.deny, SG_QUOTA_DAILY);
    WANT_NUM(usage(&l, T0).reserved, 2);

    /* The same call takes its answer; the slot is empty again. */
    sg_quota_defer_slot(q, &b);
    d = SG_QUOTA_OK;
    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "b", 2, 2, T0 + 5, &d),
                     SG_OK);
    WANT_DENY(d, SG_QUOTA_DAILY);
    ck_assert_int_eq(b.state, SG_QSLOT_EMPTY);
    /* A different call than the one answered runs at once. */
    sg_quota_defer_slot(q, &a);
    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "a", 1, 1, T0, &d),
                     SG_OK);
    WANT_DENY(d, SG_QUOTA_OK);
    ck_assert_int_eq(a.state, SG_QSLOT_EMPTY);
    WANT_NUM(usage(&l, T0).reserved, 3);

    /* A commit, deferred and answered the same way. */
    ck_assert_int_eq(sg_quota_commit(q, R, "a", -1, -1, T0), SG_PENDING);
    WANT_NUM(usage(&l, T0).sent_24h, 0);
    slots[0] = &a;
    ck_assert_int_eq(sg_quota_run_slots(q, slots, 1), SG_OK);
    ck_assert_int_eq(a.st, SG_OK);
    WANT_NUM(usage(&l, T0).sent_24h, 3);
    ck_assert_int_eq(sg_quota_commit(q, R, "a", -1, -1, T0), SG_OK);
    ck_assert_int_eq(a.state, SG_QSLOT_EMPTY);
    /* Release, peek and usage never defer. */
    ck_assert_int_eq(sg_quota_release(q, R, "a", T0), SG_OK);
    WANT_DENY(peek(&l, 1, 1, T0), SG_QUOTA_DAILY);
    ck_assert_int_eq(a.state, SG_QSLOT_EMPTY);
    /* Arguments are checked before anything is deferred. */
    ck_assert_int_eq(sg_quota_reserve(q, R, &l, "", 1, 1, T0, &d),
                     SG_ERR_USAGE);
    ck_assert_int_eq(a.state, SG_QSLOT_EMPTY);
    sg_quota_defer_slot(q, NULL);
    ck_assert_int_eq(sg_quota_run_slots(NULL, slots, 1), SG_ERR_USAGE);
}
END_TEST

/* sg_quota_suite - the quota engine */
Suite *
sg_quota_suite(void)
{
    Suite *s = suite_create("quota");
    TCase *tc = tcase_create("embedded");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_refill);
    tcase_add_loop_test(tc, test_burst, 0, ROWS(burst_rows));
    tcase_add_test(tc, test_all_or_none);
    tcase_add_test(tc, test_daily_first);
    tcase_add_loop_test(tc, test_age_out, 0, ROWS(age_rows));
    tcase_add_test(tc, test_simulator);
    tcase_add_test(tc, test_unlimited);
    tcase_add_test(tc, test_commit_partial);
    tcase_add_test(tc, test_release);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_reconcile);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_persist);
    tcase_add_test(tc, test_robust);
    tcase_add_loop_test(tc, test_args, 0, ROWS(arg_rows));
    tcase_add_test(tc, test_bad_limits);
    tcase_add_test(tc, test_many_holds);
    tcase_add_loop_test(tc, test_same_txn_two_threads, 0, 2);
    tcase_add_test(tc, test_commit_other_thread);
    tcase_add_test(tc, test_expire_other_stripe);
    tcase_add_test(tc, test_lease_near_limit);
    tcase_add_test(tc, test_lease_to_limit);
    tcase_add_test(tc, test_lease_close);
    tcase_add_test(tc, test_lease_killed);
    tcase_add_test(tc, test_migrate_v1);
    tcase_add_test(tc, test_defer_slots);
    tcase_add_loop_test(tc, test_race, 0, ROWS(race_rows));
    suite_add_tcase(s, tc);
    return s;
}
