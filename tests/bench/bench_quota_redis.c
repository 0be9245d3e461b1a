/*
 * bench_quota_redis.c - reserve+commit pairs per second through the
 *   Redis quota backend (make bench; tests/bench/redis.sh)
 *
 * Usage: bench_quota_redis -u URL [-c THREADS] [-n PAIRS] [-g REGION]
 *                          [-b BATCH] [-e]
 *
 * THREADS threads (default 8, like redis-benchmark -c 8) share one
 * handle, as the threads of sesgate-milter do, each with one
 * transaction in flight at a time, waiting for every answer; together
 * they run PAIRS (default 200,000) reserve(1, 1) + commit(all) pairs,
 * each under its own transaction id, against an unlimited daily quota
 * and a rate that never refuses. BATCH is redis_batch_max (default
 * 64; 1: one script call per operation, on up to THREADS pooled
 * connections). Prints pairs/s, operations/s (two per pair), the
 * latency of a pair (median, p99) in microseconds and this process's
 * CPU time (user, system) per operation, so that the client's share
 * can be told from the server's.
 *
 * -e: the caller is an event loop instead, as sesgate-policyd is: one
 * thread, THREADS transactions in flight (its ready connections); each
 * round defers their reserves into their slots (quota.h), runs the
 * slots together (sg_quota_run_slots), takes each answer by making the
 * same call again, then does the same with their commits.
 */

/* System headers. */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "quota.h"

#define BENCH_THREADS_MAX   64

static SG_QUOTA *bench_q;
static const char *bench_region = "bench-1";
static atomic_llong bench_next;
static long long bench_pairs = 200000;
static long long *bench_lat;        /* ns per pair, by pair number */
static atomic_llong bench_errors;

/* now_ns - monotonic clock in nanoseconds */
static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* cmp_ll - qsort comparison of long long */
static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

/* worker - run pairs until the shared counter reaches the total */
static void *
worker(void *arg)
{
    struct sg_quota_limits lim = {1e9, 1e9, -1, 0, 0};
    enum sg_quota_deny deny;
    char txn[SG_QUOTA_TXN_MAX + 1];
    long long i, t;

    (void)arg;
    while ((i = atomic_fetch_add(&bench_next, 1)) < bench_pairs) {
        snprintf(txn, sizeof(txn), "bench-%lld", i);
        t = now_ns();
        if (sg_quota_reserve(bench_q, bench_region, &lim, txn, 1, 1, 0,
                             &deny) != SG_OK || deny != SG_QUOTA_OK
            || sg_quota_commit(bench_q, bench_region, txn, -1, -1, 0)
               != SG_OK)
            atomic_fetch_add(&bench_errors, 1);
        bench_lat[i] = now_ns() - t;
    }
    return NULL;
}

/* loop_step - one call of every transaction of a round, deferred, run
 *   together and taken back; commit when lim is NULL */
static void
loop_step(struct sg_quota_slot *slots, struct sg_quota_slot **sp,
          char (*txn)[SG_QUOTA_TXN_MAX + 1], int k,
          const struct sg_quota_limits *lim)
{
    enum sg_quota_deny deny;
    SG_STATUS st;
    int j, pass;

    /* Pass 0 defers (SG_PENDING); pass 1, after the run, takes each
     * answer with the same call. */
    for (pass = 0; pass < 2; pass++) {
        for (j = 0; j < k; j++) {
            sg_quota_defer_slot(bench_q, &slots[j]);
            deny = SG_QUOTA_OK;
            st = lim != NULL
                 ? sg_quota_reserve(bench_q, bench_region, lim, txn[j], 1, 1,
                                    0, &deny)
                 : sg_quota_commit(bench_q, bench_region, txn[j], -1, -1, 0);
            if (st != (pass == 0 ? SG_PENDING : SG_OK)
                || deny != SG_QUOTA_OK)
                atomic_fetch_add(&bench_errors, 1);
        }
        sg_quota_defer_slot(bench_q, NULL);
        if (pass == 0)
            sg_quota_run_slots(bench_q, sp, (size_t)k);
    }
}

/* run_loop - pairs in rounds of n transactions, from one thread */
static void
run_loop(int n)
{
    struct sg_quota_limits lim = {1e9, 1e9, -1, 0, 0};
    struct sg_quota_slot *slots = calloc((size_t)n, sizeof(*slots));
    struct sg_quota_slot **sp = calloc((size_t)n, sizeof(*sp));
    char (*txn)[SG_QUOTA_TXN_MAX + 1] = calloc((size_t)n, sizeof(*txn));
    long long done = 0, t, d;
    int j, k;

    if (slots == NULL || sp == NULL || txn == NULL) {
        atomic_fetch_add(&bench_errors, 1);
        goto out;
    }
    for (j = 0; j < n; j++)
        sp[j] = &slots[j];
    while (done < bench_pairs) {
        k = bench_pairs - done < n ? (int)(bench_pairs - done) : n;
        for (j = 0; j < k; j++)
            snprintf(txn[j], sizeof(txn[j]), "bench-%lld", done + j);
        t = now_ns();
        loop_step(slots, sp, txn, k, &lim);
        loop_step(slots, sp, txn, k, NULL);
        d = now_ns() - t;
        for (j = 0; j < k; j++)
            bench_lat[done + j] = d;
        done += k;
    }
out:
    free(slots);
    free(sp);
    free(txn);
}

/* cpu_us - this process's user and system CPU time in microseconds */
static void
cpu_us(double *user, double *sys)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
    *sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* main - parse options, run, report */
int
main(int argc, char **argv)
{
    pthread_t tid[BENCH_THREADS_MAX];
    const char *url = NULL;
    char buf[512], err[512];
    int threads = 8, batch = 64, evloop = 0, c, i;
    long long t0, t1;
    double secs, u0, s0, u1, s1;
    SG_CONF *conf;

    while ((c = getopt(argc, argv, "u:c:n:g:b:e")) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'c':
            threads = atoi(optarg);
            break;
        case 'n':
            bench_pairs = atoll(optarg);
            break;
        case 'g':
            bench_region = optarg;
            break;
        case 'b':
            batch = atoi(optarg);
            break;
        case 'e':
            evloop = 1;
            break;
        default:
            url = NULL;
            optind = argc + 1;
            break;
        }
    }
    if (url == NULL || threads < 1 || threads > BENCH_THREADS_MAX
        || bench_pairs < 1 || bench_pairs > 100000000 || batch < 1
        || batch > 256) {
        fprintf(stderr, "usage: bench_quota_redis -u URL [-c THREADS] "
                "[-n PAIRS] [-g REGION] [-b BATCH] [-e]\n");
        return 2;
    }
    snprintf(buf, sizeof(buf), "quota_backend = redis\nredis_url = %s\n"
             "redis_batch_max = %d\n", url, batch);
    if ((conf = sg_conf_load_buf("bench.conf", buf, strlen(buf), err,
                                 sizeof(err))) == NULL
        || (bench_q = sg_quota_open(conf, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench_quota_redis: %s\n", err);
        return 1;
    }
    sg_conf_free(conf);
    if ((bench_lat = calloc((size_t)bench_pairs, sizeof(*bench_lat)))
        == NULL)
        return 1;
    sg_quota_reset(bench_q, bench_region);
    cpu_us(&u0, &s0);
    t0 = now_ns();
    if (evloop) {
        run_loop(threads);
    } else {
        for (i = 0; i < threads; i++)
            pthread_create(&tid[i], NULL, worker, NULL);
        for (i = 0; i < threads; i++)
            pthread_join(tid[i], NULL);
    }
    t1 = now_ns();
    cpu_us(&u1, &s1);
    secs = (double)(t1 - t0) / 1e9;
    qsort(bench_lat, (size_t)bench_pairs, sizeof(*bench_lat), cmp_ll);
    if (evloop)
        printf("reserve+commit pairs: %lld in %.3f s from one event loop, "
               "%d transactions in flight, redis_batch_max %d\n",
               bench_pairs, secs, threads, batch);
    else
        printf("reserve+commit pairs: %lld in %.3f s with %d threads, "
               "redis_batch_max %d\n", bench_pairs, secs, threads, batch);
    printf("pairs/s: %.0f\n", (double)bench_pairs / secs);
    printf("operations/s: %.0f\n", 2.0 * (double)bench_pairs / secs);
    printf("pair latency us: median %.0f p99 %.0f\n",
           (double)bench_lat[bench_pairs / 2] / 1000.0,
           (double)bench_lat[bench_pairs * 99 / 100] / 1000.0);
    printf("client cpu us per operation: user %.2f sys %.2f\n",
           (u1 - u0) / (2.0 * (double)bench_pairs),
           (s1 - s0) / (2.0 * (double)bench_pairs));
    printf("errors: %lld\n", (long long)atomic_load(&bench_errors));
    sg_quota_reset(bench_q, bench_region);
    sg_quota_close(bench_q);
    free(bench_lat);
    return atomic_load(&bench_errors) != 0;
}
