/*
 * quota_redis_race.c - drive the Redis quota backend against a real
 *   redis-server for t-quota-redis.sh
 *
 * Usage: quota_redis_race -u URL [-U URL2] [-t TIMEOUT_MS] [-g REGION]
 *                         [-G REGION2] [-b BATCH] MODE [ARGS]
 *
 *   -b BATCH           redis_batch_max (default: the configuration's)
 *   -G REGION2         race only: the odd-numbered threads of every
 *                      process race on REGION2 (against the same quota)
 *                      and the threads numbered 2 mod 4 use other
 *                      limits (a higher rate that never refuses either),
 *                      so that the operations coalesced into one
 *                      script call are split by region and by limits;
 *                      adds "admitted2 N" and "usage_sent2 N"
 *
 *   race P T H QUOTA   P processes x T threads race to admit against a
 *                      daily quota of QUOTA units (messages of 1 and 3
 *                      recipients mixed, the 3-recipient ones reserved
 *                      one RCPT at a time); H of the processes use URL2,
 *                      their own configuration, as another host would.
 *                      Prints "admitted N", "denied_daily N",
 *                      "denied_rate N", "errors N", "usage_sent N".
 *   window             rolling window, rate refill, sync reconciliation,
 *                      hold expiry and peek with an injected clock;
 *                      prints "ok NAME" or "FAIL NAME: why" per check.
 *   outage SECONDS [BUSY]
 *                      a reserve+commit every 20 ms for SECONDS; prints
 *                      each change of outcome with the error text, then
 *                      "calls N ok N failed N", "max_fail_ms N",
 *                      "last ok|failed". With BUSY, that many more
 *                      threads on the same handle run pairs without a
 *                      pause meanwhile (so the measured operations are
 *                      coalesced with theirs and queue behind their
 *                      calls); adds "busy_ops N" and "busy_max_op_ms N",
 *                      the longest any one of their operations took.
 *   flush CMD          reserve, run CMD (SCRIPT FLUSH), reserve again on
 *                      the same handle: "ok flush" or "FAIL flush: why".
 *   reset              commit, reset, check that the region is empty.
 *   open               open only: "ok open" or "FAIL open: error".
 *
 * SIGPIPE is left at its default on purpose: the library must not let
 * a dead server kill its caller.
 */

/* System headers. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "quota.h"

static const char *opt_url;
static const char *opt_url2;
static const char *opt_region = "eu-west-1";
static const char *opt_region2;
static const char *opt_pwfile;
static long opt_timeout = 1000;
static int opt_batch;
static int failures;

/* mono_ms - monotonic milliseconds */
static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* open_quota - a handle on url, exit 2 on failure */
static SG_QUOTA *
open_quota(const char *url, bool fatal)
{
    char buf[1024], err[512];
    SG_CONF *conf;
    SG_QUOTA *q;

    int n;

    n = snprintf(buf, sizeof(buf), "quota_backend = redis\n"
                 "redis_url = %s\nredis_timeout = %ld\n"
                 "quota_reservation_timeout = 60\n"
                 "redis_password_file = %s\n", url, opt_timeout,
                 opt_pwfile != NULL ? opt_pwfile : "");
    if (opt_batch > 0 && n > 0 && (size_t)n < sizeof(buf))
        snprintf(buf + n, sizeof(buf) - (size_t)n,
                 "redis_batch_max = %d\n", opt_batch);
    conf = sg_conf_load_buf("test.conf", buf, strlen(buf), err,
                            sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "config: %s\n", err);
        exit(2);
    }
    q = sg_quota_open(conf, err, sizeof(err));
    sg_conf_free(conf);
    if (q == NULL && fatal) {
        printf("FAIL open: %s\n", err);
        exit(2);
    }
    if (q == NULL)
        printf("FAIL open: %s\n", err);
    return q;
}

/* check - record one assertion */
static void
check(bool ok, const char *name, const char *fmt, long long a, long long b)
{
    if (ok) {
        printf("ok %s\n", name);
        return;
    }
    failures++;
    printf("FAIL %s: ", name);
    printf(fmt, a, b);
    printf("\n");
}

/* ------------------------------------------------------------------ */
/* race                                                                 */
/* ------------------------------------------------------------------ */

struct race_arg {
    SG_QUOTA *q;
    int proc, thread;
    double quota;
    const char *region;         /* opt_region, or opt_region2 (-G) */
    double rate;                /* 1e6, or 2e6 for other limits (-G) */
    long long admitted, denied_daily, denied_rate, errors;
};

/* race_thread - admit messages until the daily quota refuses */
static void *
race_thread(void *p)
{
    struct race_arg *a = p;
    struct sg_quota_limits lim = {a->rate, a->rate, a->quota, 0, 0};
    enum sg_quota_deny deny;
    char txn[SG_QUOTA_TXN_MAX + 1];
    unsigned seed = (unsigned)(a->proc * 7919 + a->thread * 104729 + 1);
    long long n = 0;
    int consecutive_errors = 0;

    for (;;) {
        int rcpts = rand_r(&seed) % 4 == 0 ? 3 : 1, i, held = 0;
        bool full = false;

        snprintf(txn, sizeof(txn), "p%d-t%d-m%lld", a->proc, a->thread,
                 n++);
        for (i = 0; i < rcpts; i++) {
            SG_STATUS st = sg_quota_reserve(a->q, a->region, &lim, txn, 1,
                                            1, 0, &deny);

            if (st != SG_OK) {
                a->errors++;
                if (++consecutive_errors > 50)
                    return NULL;
                continue;
            }
            consecutive_errors = 0;
            if (deny == SG_QUOTA_OK)
                held++;
            else if (deny == SG_QUOTA_DAILY) {
                a->denied_daily++;
                full = true;
            } else
                a->denied_rate++;
        }
        if (held > 0) {
            if (sg_quota_commit(a->q, a->region, txn, -1, -1, 0)
                != SG_OK)
                a->errors++;
            else
                a->admitted += held;
        }
        if (full)
            return NULL;
    }
}

/* race_proc - one process: T threads on one handle; writes totals */
static void
race_proc(int proc, int threads, double quota, const char *url, int fd)
{
    struct race_arg args[64];
    pthread_t tid[64];
    SG_QUOTA *q = open_quota(url, true);
    long long tot[5] = {0, 0, 0, 0, 0};
    int i;

    for (i = 0; i < threads; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].q = q;
        args[i].proc = proc;
        args[i].thread = i;
        args[i].quota = quota;
        args[i].region = opt_region2 != NULL && i % 2 == 1 ? opt_region2
                         : opt_region;
        args[i].rate = opt_region2 != NULL && i % 4 == 2 ? 2e6 : 1e6;
        pthread_create(&tid[i], NULL, race_thread, &args[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        tot[args[i].region == opt_region ? 0 : 4] += args[i].admitted;
        tot[1] += args[i].denied_daily;
        tot[2] += args[i].denied_rate;
        tot[3] += args[i].errors;
    }
    if (tot[3] > 0)
        fprintf(stderr, "process %d: last error: %s\n", proc,
                sg_quota_error(q));
    sg_quota_close(q);
    if (write(fd, tot, sizeof(tot)) != (ssize_t)sizeof(tot))
        _exit(3);
}

/* mode_race - fork the processes and add up what they admitted */
static int
mode_race(int procs, int threads, int hosts2, double quota)
{
    int fds[2], i, status;
    long long tot[5] = {0, 0, 0, 0, 0}, part[5];
    struct sg_quota_limits lim = {1e6, 1e6, quota, 0, 0};
    struct sg_quota_usage u;
    SG_QUOTA *q = open_quota(opt_url, true);

    if (procs < 1 || procs > 64 || threads < 1 || threads > 64)
        return 2;
    if (sg_quota_reset(q, opt_region) != SG_OK
        || (opt_region2 != NULL && sg_quota_reset(q, opt_region2)
            != SG_OK)) {
        printf("FAIL reset: %s\n", sg_quota_error(q));
        return 1;
    }
    if (pipe(fds) != 0)
        return 2;
    for (i = 0; i < procs; i++) {
        pid_t pid = fork();

        if (pid == 0) {
            close(fds[0]);
            race_proc(i, threads, quota,
                      i < hosts2 && opt_url2 != NULL ? opt_url2 : opt_url,
                      fds[1]);
            _exit(0);
        }
    }
    close(fds[1]);
    while (read(fds[0], part, sizeof(part)) == (ssize_t)sizeof(part))
        for (i = 0; i < 5; i++)
            tot[i] += part[i];
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            tot[3]++;
    printf("admitted %lld\ndenied_daily %lld\ndenied_rate %lld\n"
           "errors %lld\n", tot[0], tot[1], tot[2], tot[3]);
    if (sg_quota_usage(q, opt_region, &lim, 0, &u) != SG_OK) {
        printf("FAIL usage: %s\n", sg_quota_error(q));
        return 1;
    }
    printf("usage_sent %.0f\nusage_reserved %.0f\n", u.sent_24h,
           u.reserved);
    if (opt_region2 != NULL) {
        if (sg_quota_usage(q, opt_region2, &lim, 0, &u) != SG_OK) {
            printf("FAIL usage: %s\n", sg_quota_error(q));
            return 1;
        }
        printf("admitted2 %lld\nusage_sent2 %.0f\n", tot[4], u.sent_24h);
    }
    sg_quota_close(q);
    return 0;
}

/* ------------------------------------------------------------------ */
/* window                                                               */
/* ------------------------------------------------------------------ */

/* deny_at - the answer of a peek (or reserve when txn) at time t */
static long long
deny_at(SG_QUOTA *q, const char *region, struct sg_quota_limits *lim,
        const char *txn, long long ru, long long du, long long t)
{
    enum sg_quota_deny deny;
    SG_STATUS st;

    if (txn != NULL)
        st = sg_quota_reserve(q, region, lim, txn, ru, du, t, &deny);
    else
        st = sg_quota_peek(q, region, lim, ru, du, t, &deny);
    if (st != SG_OK) {
        printf("error: %s\n", sg_quota_error(q));
        return -1;
    }
    return deny;
}

/* mode_window - the injected-clock checks */
static int
mode_window(void)
{
    SG_QUOTA *q = open_quota(opt_url, true);
    const long long day = 86400000LL;
    const long long t0 = 1800000000000LL;   /* a 10 s boundary */
    struct sg_quota_limits lim = {1000, 1000, 10, 0, 0};
    struct sg_quota_usage u;
    long long d;
    int i;

    /* Rolling window: 10 units at t0 count until t0 + 24 h + 10 s. */
    sg_quota_reset(q, "w-window");
    d = deny_at(q, "w-window", &lim, "a", 10, 10, t0);
    check(d == 0, "window-admit-10", "deny %lld", d, 0);
    sg_quota_commit(q, "w-window", "a", -1, -1, t0);
    d = deny_at(q, "w-window", &lim, NULL, 1, 1, t0 + 1);
    check(d == SG_QUOTA_DAILY, "window-full", "deny %lld", d, 0);
    d = deny_at(q, "w-window", &lim, NULL, 1, 1, t0 + day - 1);
    check(d == SG_QUOTA_DAILY, "window-full-at-24h-minus-1ms", "deny %lld",
          d, 0);
    d = deny_at(q, "w-window", &lim, NULL, 1, 1, t0 + day + 9999);
    check(d == SG_QUOTA_DAILY, "window-full-within-bucket", "deny %lld", d,
          0);
    d = deny_at(q, "w-window", &lim, NULL, 10, 10, t0 + day + 10000);
    check(d == 0, "window-aged-out-after-24h-bucket", "deny %lld", d, 0);
    /* Peek changed nothing: the units are still there before expiry. */
    d = deny_at(q, "w-window", &lim, NULL, 1, 1, t0 + day);
    check(d == SG_QUOTA_DAILY, "peek-consumes-nothing", "deny %lld", d, 0);

    /* Rate: 2/s with a burst of 2 refills one token per 500 ms. */
    lim = (struct sg_quota_limits){2, 2, -1, 0, 0};
    sg_quota_reset(q, "w-rate");
    d = deny_at(q, "w-rate", &lim, "r1", 2, 2, t0);
    check(d == 0, "rate-burst", "deny %lld", d, 0);
    d = deny_at(q, "w-rate", &lim, "r2", 1, 1, t0 + 1);
    check(d == SG_QUOTA_RATE, "rate-empty", "deny %lld", d, 0);
    d = deny_at(q, "w-rate", &lim, "r2", 1, 1, t0 + 499);
    check(d == SG_QUOTA_RATE, "rate-499ms", "deny %lld", d, 0);
    d = deny_at(q, "w-rate", &lim, "r2", 1, 1, t0 + 500);
    check(d == 0, "rate-refill-500ms", "deny %lld", d, 0);
    /* Simulator recipients: rate only. max_24h 0 still admits them. */
    lim = (struct sg_quota_limits){2, 2, 0, 0, 0};
    d = deny_at(q, "w-rate", &lim, "r3", 1, 0, t0 + 1500);
    check(d == 0, "simulator-rate-only", "deny %lld", d, 0);
    d = deny_at(q, "w-rate", &lim, "r4", 1, 1, t0 + 3000);
    check(d == SG_QUOTA_DAILY, "daily-checked-first", "deny %lld", d, 0);

    /* Release within the second gives the tokens back. */
    lim = (struct sg_quota_limits){1, 1, -1, 0, 0};
    sg_quota_reset(q, "w-give");
    deny_at(q, "w-give", &lim, "g1", 1, 1, t0);
    sg_quota_release(q, "w-give", "g1", t0 + 10);
    d = deny_at(q, "w-give", &lim, "g2", 1, 1, t0 + 20);
    check(d == 0, "release-gives-tokens-back", "deny %lld", d, 0);

    /* Sync: sent_24h 8 at t0, 1 committed since: 9 used of 10. */
    lim = (struct sg_quota_limits){1000, 1000, 10, 8, t0};
    sg_quota_reset(q, "w-sync");
    deny_at(q, "w-sync", &lim, "s1", 1, 1, t0 + 1000);
    sg_quota_commit(q, "w-sync", "s1", -1, -1, t0 + 1000);
    d = deny_at(q, "w-sync", &lim, NULL, 2, 2, t0 + 2000);
    check(d == SG_QUOTA_DAILY, "sync-counts-sent-24h", "deny %lld", d, 0);
    d = deny_at(q, "w-sync", &lim, NULL, 1, 1, t0 + 2000);
    check(d == 0, "sync-no-double-count", "deny %lld", d, 0);
    if (sg_quota_usage(q, "w-sync", &lim, t0 + 2000, &u) == SG_OK)
        check(u.sent_24h == 9, "usage-sent-reconciled", "sent %lld",
              (long long)u.sent_24h, 0);
    d = deny_at(q, "w-sync", &lim, NULL, 9, 9, t0 + day);
    check(d == 0, "sync-figure-ages-out", "deny %lld", d, 0);

    /* Holds count until committed, released or expired (60 s). */
    lim = (struct sg_quota_limits){1000, 1000, 10, 0, 0};
    sg_quota_reset(q, "w-hold");
    deny_at(q, "w-hold", &lim, "h1", 6, 6, t0);
    deny_at(q, "w-hold", &lim, "h1", 4, 4, t0 + 10);
    d = deny_at(q, "w-hold", &lim, NULL, 1, 1, t0 + 20);
    check(d == SG_QUOTA_DAILY, "hold-counts", "deny %lld", d, 0);
    if (sg_quota_usage(q, "w-hold", &lim, t0 + 20, &u) == SG_OK)
        check(u.reserved == 10, "usage-reserved", "reserved %lld",
              (long long)u.reserved, 0);
    d = deny_at(q, "w-hold", &lim, NULL, 1, 1, t0 + 10 + 59999);
    check(d == SG_QUOTA_DAILY, "hold-before-timeout", "deny %lld", d, 0);
    d = deny_at(q, "w-hold", &lim, NULL, 10, 10, t0 + 10 + 60000);
    check(d == 0, "hold-expired-after-timeout", "deny %lld", d, 0);
    /* Partial commit: 3 of 5 sent, 2 released. */
    deny_at(q, "w-hold", &lim, "h2", 5, 5, t0 + 70000);
    sg_quota_commit(q, "w-hold", "h2", 3, 3, t0 + 70001);
    d = deny_at(q, "w-hold", &lim, NULL, 7, 7, t0 + 70002);
    check(d == 0, "partial-commit-releases-rest", "deny %lld", d, 0);
    d = deny_at(q, "w-hold", &lim, NULL, 8, 8, t0 + 70002);
    check(d == SG_QUOTA_DAILY, "partial-commit-counts-sent", "deny %lld",
          d, 0);
    /* Unlimited. */
    lim.max_24h = -1;
    d = deny_at(q, "w-hold", &lim, NULL, 1000, 1000, t0 + 70003);
    check(d == 0, "unlimited", "deny %lld", d, 0);
    for (i = 0; i < 5; i++)
        sg_quota_reset(q, i == 0 ? "w-window" : i == 1 ? "w-rate"
                       : i == 2 ? "w-give" : i == 3 ? "w-sync" : "w-hold");
    sg_quota_close(q);
    return failures > 0;
}

/* ------------------------------------------------------------------ */
/* outage, flush, reset                                                 */
/* ------------------------------------------------------------------ */

/* The busy threads of mode_outage. */
static SG_QUOTA *busy_q;
static volatile int busy_stop;
static long long busy_ops, busy_max;
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;

/* busy_thread - reserve+commit pairs until told to stop; the longest
 *   single operation into busy_max */
static void *
busy_thread(void *p)
{
    struct sg_quota_limits lim = {1e6, 1e6, -1, 0, 0};
    long long n = 0, mx = 0, t, el;
    enum sg_quota_deny deny;
    char txn[48];
    SG_STATUS st;

    while (!busy_stop) {
        snprintf(txn, sizeof(txn), "b%ld-%lld", (long)(intptr_t)p, n++);
        t = mono_ms();
        st = sg_quota_reserve(busy_q, opt_region, &lim, txn, 1, 1, 0,
                              &deny);
        el = mono_ms() - t;
        mx = el > mx ? el : mx;
        if (st != SG_OK) {
            usleep(1000);
            continue;
        }
        t = mono_ms();
        sg_quota_commit(busy_q, opt_region, txn, -1, -1, 0);
        el = mono_ms() - t;
        mx = el > mx ? el : mx;
    }
    pthread_mutex_lock(&busy_mu);
    busy_ops += n;
    if (mx > busy_max)
        busy_max = mx;
    pthread_mutex_unlock(&busy_mu);
    return NULL;
}

/* mode_outage - a call every 20 ms; report outcome changes and timing */
static int
mode_outage(int seconds, int busy)
{
    SG_QUOTA *q = open_quota(opt_url, true);
    pthread_t tid[64];
    int i;
    struct sg_quota_limits lim = {1e6, 1e6, -1, 0, 0};
    long long start = mono_ms(), end = start + seconds * 1000LL;
    long long calls = 0, ok = 0, failed = 0, max_fail = 0, max_ok = 0;
    char txn[32], last_err[300] = "";
    int last = -1;

    busy_q = q;
    for (i = 0; i < busy && i < 64; i++)
        pthread_create(&tid[i], NULL, busy_thread, (void *)(intptr_t)i);
    while (mono_ms() < end) {
        long long t = mono_ms(), el;
        enum sg_quota_deny deny;
        SG_STATUS st;

        snprintf(txn, sizeof(txn), "o%lld", calls++);
        st = sg_quota_reserve(q, opt_region, &lim, txn, 1, 1, 0, &deny);
        if (st == SG_OK)
            st = sg_quota_commit(q, opt_region, txn, -1, -1, 0);
        el = mono_ms() - t;
        if (st == SG_OK) {
            ok++;
            if (el > max_ok)
                max_ok = el;
            if (last != 1)
                printf("%lld ms: ok\n", t - start);
            last = 1;
        } else {
            failed++;
            if (el > max_fail)
                max_fail = el;
            if (last != 0 || strcmp(last_err, sg_quota_error(q)) != 0)
                printf("%lld ms: failed (%s) status %d in %lld ms: %s\n",
                       t - start, sg_strerror(st), (int)st, el,
                       sg_quota_error(q));
            snprintf(last_err, sizeof(last_err), "%s", sg_quota_error(q));
            last = 0;
        }
        fflush(stdout);
        usleep(20000);
    }
    busy_stop = 1;
    for (i = 0; i < busy && i < 64; i++)
        pthread_join(tid[i], NULL);
    printf("calls %lld ok %lld failed %lld\nmax_fail_ms %lld\n"
           "max_ok_ms %lld\nlast %s\n", calls, ok, failed, max_fail, max_ok,
           last == 1 ? "ok" : "failed");
    if (busy > 0)
        printf("busy_ops %lld\nbusy_max_op_ms %lld\n", busy_ops, busy_max);
    sg_quota_close(q);
    return 0;
}

/* mode_flush - the script is reloaded after SCRIPT FLUSH */
static int
mode_flush(const char *cmd)
{
    SG_QUOTA *q = open_quota(opt_url, true);
    struct sg_quota_limits lim = {1e6, 1e6, -1, 0, 0};
    enum sg_quota_deny deny;
    SG_STATUS st;

    st = sg_quota_reserve(q, opt_region, &lim, "f1", 1, 1, 0, &deny);
    check(st == SG_OK, "before-flush", "status %lld", st, 0);
    if (system(cmd) != 0)
        check(false, "flush-command", "system() failed %lld", 0, 0);
    st = sg_quota_reserve(q, opt_region, &lim, "f2", 1, 1, 0, &deny);
    if (st != SG_OK)
        printf("error: %s\n", sg_quota_error(q));
    check(st == SG_OK && deny == SG_QUOTA_OK, "after-flush", "status %lld",
          st, 0);
    sg_quota_close(q);
    return failures > 0;
}

/* mode_reset - commit, reset, nothing left */
static int
mode_reset(void)
{
    SG_QUOTA *q = open_quota(opt_url, true);
    struct sg_quota_limits lim = {1000, 1000, 5, 0, 0};
    struct sg_quota_usage u;
    long long d;

    sg_quota_reset(q, opt_region);
    deny_at(q, opt_region, &lim, "x1", 5, 5, 0);
    sg_quota_commit(q, opt_region, "x1", -1, -1, 0);
    deny_at(q, opt_region, &lim, "x2", 0, 0, 0);
    d = deny_at(q, opt_region, &lim, NULL, 1, 1, 0);
    check(d == SG_QUOTA_DAILY, "spent-before-reset", "deny %lld", d, 0);
    check(sg_quota_reset(q, opt_region) == SG_OK, "reset", "%lld%lld", 0,
          0);
    d = deny_at(q, opt_region, &lim, NULL, 5, 5, 0);
    check(d == 0, "open-after-reset", "deny %lld", d, 0);
    if (sg_quota_usage(q, opt_region, &lim, 0, &u) == SG_OK)
        check(u.sent_24h == 0 && u.reserved == 0, "usage-after-reset",
              "sent %lld reserved %lld", (long long)u.sent_24h,
              (long long)u.reserved);
    sg_quota_close(q);
    return failures > 0;
}

/* usage - print the synopsis and exit 2 */
static void
usage(void)
{
    fprintf(stderr, "usage: quota_redis_race -u URL [-U URL2] [-t MS] "
            "[-g REGION] [-G REGION2] [-b BATCH] [-p PWFILE] "
            "race P T H QUOTA | window | "
            "outage SECONDS [BUSY] | flush CMD | reset | open\n");
    exit(2);
}

/* main - parse options, run the mode */
int
main(int argc, char **argv)
{
    int c;

    while ((c = getopt(argc, argv, "u:U:t:g:G:b:p:")) != -1) {
        switch (c) {
        case 'u':
            opt_url = optarg;
            break;
        case 'U':
            opt_url2 = optarg;
            break;
        case 't':
            opt_timeout = atol(optarg);
            break;
        case 'g':
            opt_region = optarg;
            break;
        case 'G':
            opt_region2 = optarg;
            break;
        case 'b':
            opt_batch = atoi(optarg);
            break;
        case 'p':
            opt_pwfile = optarg;
            break;
        default:
            usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (opt_url == NULL || argc < 1)
        usage();
    if (strcmp(argv[0], "race") == 0 && argc == 5)
        return mode_race(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]),
                         atof(argv[4]));
    if (strcmp(argv[0], "window") == 0)
        return mode_window();
    if (strcmp(argv[0], "outage") == 0 && (argc == 2 || argc == 3))
        return mode_outage(atoi(argv[1]), argc == 3 ? atoi(argv[2]) : 0);
    if (strcmp(argv[0], "flush") == 0 && argc == 2)
        return mode_flush(argv[1]);
    if (strcmp(argv[0], "reset") == 0)
        return mode_reset();
    if (strcmp(argv[0], "open") == 0) {
        SG_QUOTA *q = open_quota(opt_url, false);
        struct sg_quota_limits lim = {1, 1, -1, 0, 0};
        struct sg_quota_usage u;

        if (q == NULL)
            return 1;
        if (sg_quota_usage(q, opt_region, &lim, 0, &u) != SG_OK) {
            printf("FAIL usage: %s\n", sg_quota_error(q));
            sg_quota_close(q);
            return 1;
        }
        printf("ok open\n");
        sg_quota_close(q);
        return 0;
    }
    usage();
    return 2;
}
