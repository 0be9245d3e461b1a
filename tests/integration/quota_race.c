/*
 * quota_race.c - drive the quota engine from several processes and
 *   threads at once (tests/integration/t-quota.sh, t-ctl.sh)
 *
 * Usage: quota_race -c CONF [-r REGION] [-P PROCS] [-T THREADS]
 *                   [-m MAX24H] [-R RATE] [-n TRIES] MODE [ARGS]
 *   race         every thread of every process reserves and commits
 *                messages of 1 and 3 recipients (alternating) until a
 *                1-recipient message is refused for the daily quota or
 *                TRIES messages were tried; prints "admitted N",
 *                "refused_daily N", "refused_rate N", "errors N" and
 *                the region's "sent_24h N" afterwards
 *   hold TXN N   reserve N units under TXN, print "held", sleep until
 *                killed (the kill -9 test)
 *   send N       reserve and commit N one-unit messages
 *   usage        print "sent_24h N" and "reserved N"
 * Limits: MAX24H (default 5000; -1 unlimited), RATE per second (default
 * 1000000, burst the same). Exit 0, 1 on failure, 64 usage.
 */

/* System headers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "quota.h"

/* Counts of one thread or process. */
struct counts {
    long long admitted;
    long long refused_daily;
    long long refused_rate;
    long long errors;
};

static SG_CONF *conf;
static const char *region = "eu-west-1";
static struct sg_quota_limits lim;
static long tries = 100000;

/* Per-thread argument. */
struct worker {
    SG_QUOTA *q;
    int proc;
    int thread;
    struct counts c;
};

/* race_thread - reserve and commit until the daily quota is spent */
static void *
race_thread(void *arg)
{
    struct worker *w = arg;
    enum sg_quota_deny deny;
    char txn[64];
    long i;
    long long u;
    SG_STATUS st;

    for (i = 0; i < tries; i++) {
        u = i % 2 == 0 ? 1 : 3;
        snprintf(txn, sizeof(txn), "p%dt%dn%ld", w->proc, w->thread, i);
        st = sg_quota_reserve(w->q, region, &lim, txn, u, u, 0, &deny);
        if (st != SG_OK) {
            w->c.errors++;
            continue;
        }
        if (deny == SG_QUOTA_DAILY) {
            w->c.refused_daily++;
            if (u == 1)
                break;
            continue;
        }
        if (deny == SG_QUOTA_RATE) {
            w->c.refused_rate++;
            continue;
        }
        if (sg_quota_commit(w->q, region, txn, -1, -1, 0) != SG_OK)
            w->c.errors++;
        w->c.admitted += u;
    }
    return NULL;
}

/* open_q - open the quota engine or exit */
static SG_QUOTA *
open_q(void)
{
    char err[512];
    SG_QUOTA *q = sg_quota_open(conf, err, sizeof(err));

    if (q == NULL) {
        fprintf(stderr, "quota_race: %s\n", err);
        exit(1);
    }
    return q;
}

/* race_proc - one process: T threads; writes its counts to fd */
static void
race_proc(int proc, int nthreads, int fd)
{
    struct worker w[64];
    pthread_t tid[64];
    struct counts sum;
    SG_QUOTA *q = open_q();
    int i;

    memset(w, 0, sizeof(w));
    memset(&sum, 0, sizeof(sum));
    for (i = 0; i < nthreads; i++) {
        w[i].q = q;
        w[i].proc = proc;
        w[i].thread = i;
        if (pthread_create(&tid[i], NULL, race_thread, &w[i]) != 0)
            exit(1);
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        sum.admitted += w[i].c.admitted;
        sum.refused_daily += w[i].c.refused_daily;
        sum.refused_rate += w[i].c.refused_rate;
        sum.errors += w[i].c.errors;
    }
    sg_quota_close(q);
    if (write(fd, &sum, sizeof(sum)) != (ssize_t)sizeof(sum))
        exit(1);
}

/* print_usage - the region's usage */
static int
print_usage(void)
{
    struct sg_quota_usage u;
    SG_QUOTA *q = open_q();

    if (sg_quota_usage(q, region, &lim, 0, &u) != SG_OK) {
        fprintf(stderr, "quota_race: %s\n", sg_quota_error(q));
        return 1;
    }
    printf("sent_24h %.0f\nreserved %.0f\n", u.sent_24h, u.reserved);
    sg_quota_close(q);
    return 0;
}

/* race - P processes of T threads */
static int
race(int nprocs, int nthreads)
{
    struct counts sum, c;
    int fds[2], i, status, rc = 0;
    pid_t pid;

    memset(&sum, 0, sizeof(sum));
    if (pipe(fds) != 0)
        return 1;
    for (i = 0; i < nprocs; i++) {
        if ((pid = fork()) < 0)
            return 1;
        if (pid == 0) {
            close(fds[0]);
            race_proc(i, nthreads, fds[1]);
            _exit(0);
        }
    }
    close(fds[1]);
    for (i = 0; i < nprocs; i++) {
        if (read(fds[0], &c, sizeof(c)) != (ssize_t)sizeof(c)) {
            rc = 1;
            break;
        }
        sum.admitted += c.admitted;
        sum.refused_daily += c.refused_daily;
        sum.refused_rate += c.refused_rate;
        sum.errors += c.errors;
    }
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = 1;
    printf("admitted %lld\nrefused_daily %lld\nrefused_rate %lld\n"
           "errors %lld\n", sum.admitted, sum.refused_daily,
           sum.refused_rate, sum.errors);
    return print_usage() != 0 ? 1 : rc;
}

/* usage_exit - print usage and exit 64 */
static void
usage_exit(void)
{
    fprintf(stderr, "usage: quota_race -c CONF [-r REGION] [-P PROCS] "
            "[-T THREADS] [-m MAX24H] [-R RATE] [-n TRIES] "
            "race|hold TXN N|send N|usage\n");
    exit(64);
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    char err[512];
    int nprocs = 8, nthreads = 2, ch;
    enum sg_quota_deny deny;
    SG_QUOTA *q;
    long i, n;
    char txn[64];

    lim.max_rate = 1000000;
    lim.burst = 1000000;
    lim.max_24h = 5000;
    while ((ch = getopt(argc, argv, "c:r:P:T:m:R:n:")) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'P':
            nprocs = atoi(optarg);
            break;
        case 'T':
            nthreads = atoi(optarg);
            break;
        case 'm':
            lim.max_24h = atof(optarg);
            break;
        case 'R':
            lim.max_rate = lim.burst = atof(optarg);
            break;
        case 'n':
            tries = atol(optarg);
            break;
        default:
            usage_exit();
        }
    }
    if (path == NULL || optind >= argc || nprocs < 1 || nprocs > 64
        || nthreads < 1 || nthreads > 64)
        usage_exit();
    if ((conf = sg_conf_load(path, err, sizeof(err))) == NULL) {
        fprintf(stderr, "quota_race: %s\n", err);
        return 1;
    }
    if (strcmp(argv[optind], "race") == 0)
        return race(nprocs, nthreads);
    if (strcmp(argv[optind], "usage") == 0)
        return print_usage();
    if (strcmp(argv[optind], "hold") == 0 && optind + 2 < argc) {
        q = open_q();
        n = atol(argv[optind + 2]);
        if (sg_quota_reserve(q, region, &lim, argv[optind + 1], n, n, 0,
                             &deny) != SG_OK || deny != SG_QUOTA_OK) {
            fprintf(stderr, "quota_race: hold refused\n");
            return 1;
        }
        printf("held\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    if (strcmp(argv[optind], "send") == 0 && optind + 1 < argc) {
        q = open_q();
        n = atol(argv[optind + 1]);
        for (i = 0; i < n; i++) {
            snprintf(txn, sizeof(txn), "send%ld.%ld", (long)getpid(), i);
            if (sg_quota_reserve(q, region, &lim, txn, 1, 1, 0, &deny)
                != SG_OK || deny != SG_QUOTA_OK)
                break;
            sg_quota_commit(q, region, txn, -1, -1, 0);
        }
        printf("admitted %ld\n", i);
        sg_quota_close(q);
        return i == n ? 0 : 1;
    }
    usage_exit();
    return 64;
}
