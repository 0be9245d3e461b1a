/*
 * bench_quota.c - reserve+commit pairs per second on the embedded quota
 *   backend, single-threaded and with 2 threads on one region
 *
 * Usage: bench_quota [-s SECONDS] [-t THREADS] [-p PROCS]
 * Makes a temporary state directory, opens STATE_DIR/quota.db and runs
 * each configuration for SECONDS (default 2): 1 thread, THREADS threads
 * (default 2) on one handle and one region, the same on THREADS
 * regions (the ceiling: nothing shared), and with -p PROCS processes of
 * one thread, each with its own handle on the same file and region. Every pair is a 1-unit
 * reserve and its commit under a fresh transaction id, against an
 * unlimited daily quota and a rate high enough never to refuse, so the
 * figure is the engine's own cost (locking, hold table, window). Built
 * by "make bench" only.
 */

/* System headers. */
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "quota.h"

static SG_QUOTA *q;
static double seconds = 2.0;
static struct sg_quota_limits lim;

/* One thread's work. */
struct worker {
    int id;
    const char *region;
    long long pairs;
    long long errors;
    double cpu;                 /* CPU seconds this thread got */
};

/* mono - CLOCK_MONOTONIC in seconds */
static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_now - this thread's CPU time in seconds */
static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* run - reserve+commit pairs until the time is up */
static void *
run(void *arg)
{
    struct worker *w = arg;
    enum sg_quota_deny deny;
    char txn[32];
    double end = mono() + seconds, c0 = cpu_now();
    long long i = 0, j;

    while (mono() < end) {
        for (j = 0; j < 4096; j++, i++) {
            snprintf(txn, sizeof(txn), "b%d.%lld", w->id, i);
            if (sg_quota_reserve(q, w->region, &lim, txn, 1, 1, 0, &deny)
                != SG_OK || deny != SG_QUOTA_OK
                || sg_quota_commit(q, w->region, txn, -1, -1, 0)
                   != SG_OK)
                w->errors++;
        }
    }
    w->pairs = i;
    w->cpu = cpu_now() - c0;
    return NULL;
}

/* bench - THREADS threads on one region (or each on its own, with
 *   apart); pairs per second */
static double
bench(int nthreads, int apart, long long *errors, double *cores)
{
    static const char *const regions[] = {
        "eu-west-1", "us-east-1", "us-west-2", "eu-central-1",
        "ap-south-1", "ap-northeast-1", "sa-east-1", "ca-central-1",
        "eu-west-2", "eu-west-3", "us-east-2", "us-west-1",
        "ap-southeast-1", "ap-southeast-2", "eu-north-1", "me-south-1"
    };
    struct worker w[16];
    pthread_t tid[16];
    double t0, t1;
    long long total = 0;
    double cpu = 0;
    int i;

    memset(w, 0, sizeof(w));
    t0 = mono();
    for (i = 0; i < nthreads; i++) {
        w[i].id = i;
        w[i].region = apart ? regions[i] : regions[0];
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].pairs;
        *errors += w[i].errors;
        cpu += w[i].cpu;
    }
    t1 = mono();
    *cores = cpu / (t1 - t0);
    return (double)total / (t1 - t0);
}

/* bench_procs - PROCS processes of one thread; pairs per second */
static double
bench_procs(const SG_CONF *conf, int nprocs, long long *errors,
            double *cores)
{
    struct worker w;
    double t0, t1, cpu = 0;
    long long total = 0;
    int fds[2], i, status;
    char err[512];

    if (pipe(fds) != 0)
        return 0;
    t0 = mono();
    for (i = 0; i < nprocs; i++) {
        if (fork() == 0) {
            close(fds[0]);
            memset(&w, 0, sizeof(w));
            w.id = 100 + i;
            w.region = "eu-west-1";
            if ((q = sg_quota_open(conf, err, sizeof(err))) == NULL)
                _exit(1);
            run(&w);
            sg_quota_close(q);
            _exit(write(fds[1], &w, sizeof(w)) == (ssize_t)sizeof(w)
                  ? 0 : 1);
        }
    }
    close(fds[1]);
    for (i = 0; i < nprocs; i++) {
        if (read(fds[0], &w, sizeof(w)) != (ssize_t)sizeof(w)) {
            (*errors)++;
            continue;
        }
        total += w.pairs;
        *errors += w.errors;
        cpu += w.cpu;
    }
    close(fds[0]);
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            (*errors)++;
    t1 = mono();
    *cores = cpu / (t1 - t0);
    return (double)total / (t1 - t0);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/bench_quota.XXXXXX";
    char cbuf[256], err[512], path[300];
    SG_CONF *conf;
    long long errors = 0;
    double one, two, c1, c2;
    double load[3] = { -1, -1, -1 };
    int ch, maxt = 2, maxp = 0, n;

    while ((ch = getopt(argc, argv, "s:t:p:")) != -1) {
        if (ch == 's')
            seconds = atof(optarg);
        else if (ch == 't')
            maxt = atoi(optarg);
        else if (ch == 'p')
            maxp = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_quota [-s SECONDS] "
                    "[-t THREADS] [-p PROCS]\n");
            return 64;
        }
    }
    if (maxt < 1 || maxt > 16 || maxp < 0 || maxp > 16 || seconds <= 0)
        return 64;
    if (mkdtemp(dir) == NULL)
        return 1;
    n = snprintf(cbuf, sizeof(cbuf), "state_dir = %s\n", dir);
    if ((conf = sg_conf_load_buf("bench.conf", cbuf, (size_t)n, err,
                                 sizeof(err))) == NULL
        || (q = sg_quota_open(conf, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench_quota: %s\n", err);
        return 1;
    }
    lim.max_rate = 1e9;
    lim.burst = 1e9;
    lim.max_24h = -1;
    (void)getloadavg(load, 3);
    printf("load average: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    one = bench(1, 0, &errors, &c1);
    printf("quota embedded reserve+commit, 1 thread:  %12.0f pairs/s "
           "(%.2f cores busy)\n", one, c1);
    if (maxt >= 2) {
        two = bench(maxt, 0, &errors, &c2);
        printf("quota embedded reserve+commit, %d threads: %12.0f pairs/s "
               "(%.2fx; %.2f cores busy)\n", maxt, two, two / one, c2);
        /* Under load the threads may not get their cores: the figure
         * per busy core separates locking cost from scheduling. */
        printf("per busy core: 1 thread %.0f, %d threads %.0f pairs/s "
               "(%.2fx)\n", one / c1, maxt, two / c2,
               (two / c2) / (one / c1));
        /* The ceiling on this machine: nothing shared but the file. */
        two = bench(maxt, 1, &errors, &c2);
        printf("ceiling, %d threads on %d regions: %12.0f pairs/s "
               "(%.2fx; %.2f cores busy)\n", maxt, maxt, two, two / one,
               c2);
    }
    if (maxp >= 2) {
        two = bench_procs(conf, maxp, &errors, &c2);
        printf("quota embedded reserve+commit, %d processes: %12.0f "
               "pairs/s (%.2fx; %.2f cores busy)\n", maxp, two, two / one,
               c2);
        printf("per busy core: 1 thread %.0f, %d processes %.0f pairs/s "
               "(%.2fx)\n", one / c1, maxp, two / c2,
               (two / c2) / (one / c1));
    }
    (void)getloadavg(load, 3);
    printf("load average after: %.2f %.2f %.2f\n", load[0], load[1],
           load[2]);
    printf("errors: %lld\n", errors);
    sg_quota_close(q);
    sg_conf_free(conf);
    snprintf(path, sizeof(path), "%s/quota.db", dir);
    unlink(path);
    rmdir(dir);
    return errors != 0;
}
