/*
 * bench_quota_redis.c - reserve+commit pairs per second through the
 *   Redis quota backend (make bench; tests/bench/redis.sh)
 *
 * Usage: bench_quota_redis -u URL [-c THREADS] [-n PAIRS] [-g REGION]
 *                          [-b BATCH]
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
    int threads = 8, batch = 64, c, i;
    long long t0, t1;
    double secs, u0, s0, u1, s1;
    SG_CONF *conf;

    while ((c = getopt(argc, argv, "u:c:n:g:b:")) != -1) {
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
                "[-n PAIRS] [-g REGION] [-b BATCH]\n");
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
    for (i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, NULL);
    for (i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    t1 = now_ns();
    cpu_us(&u1, &s1);
    secs = (double)(t1 - t0) / 1e9;
    qsort(bench_lat, (size_t)bench_pairs, sizeof(*bench_lat), cmp_ll);
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
