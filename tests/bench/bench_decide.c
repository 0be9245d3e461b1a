/*
 * bench_decide.c - time sg_decide on a real store (make bench)
 *
 * Usage: bench_decide -c CONF [-n ITERATIONS] [-m MAX] -f FROM
 *                     -r RCPT [-r RCPT ...]
 * A RCPT may hold one "%d": it is replaced, per decision, by a random
 * number below MAX (default 10,000,000), so that lookups spread over
 * the whole suppression list instead of hitting one cached page.
 *
 * Prints: store open time (sg_state_open + first snapshot + first
 * lookup, in this new process), decision latency (median, p90, p99,
 * mean, each decision being snapshot begin + sg_decide + end), and the
 * process's RSS and private memory after the run (from
 * /proc/self/smaps_rollup): the store is shared page cache, so private
 * memory stays small whatever the list's size.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "decide.h"
#include "state.h"

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

/* smaps_kb - a field of /proc/self/smaps_rollup in kB, -1 if absent */
static long long
smaps_kb(const char *field)
{
    FILE *fp = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long long v = -1;
    size_t flen = strlen(field);

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = atoll(line + flen + 1);
            break;
        }
    fclose(fp);
    return v;
}

int
main(int argc, char **argv)
{
    const char *cpath = NULL, *from = NULL;
    const char *tmpl[SG_SES_MAX_RECIPIENTS];
    char rbuf[SG_SES_MAX_RECIPIENTS][SG_ADDR_MAX];
    const char *rcpts[SG_SES_MAX_RECIPIENTS];
    size_t nr = 0, i, j, accepted = 0;
    long n = 200000, max = 10000000;
    long long t0, t1, *lat, sum = 0;
    char err[1024];
    SG_CONF *conf;
    SG_STATE *st;
    SG_SNAP *snap;
    struct sg_account acct;
    struct sg_msg msg;
    struct sg_decision d;
    int c;

    while ((c = getopt(argc, argv, "c:n:m:f:r:")) != -1) {
        switch (c) {
        case 'c':
            cpath = optarg;
            break;
        case 'n':
            n = atol(optarg);
            break;
        case 'm':
            max = atol(optarg);
            break;
        case 'f':
            from = optarg;
            break;
        case 'r':
            if (nr < SG_SES_MAX_RECIPIENTS)
                tmpl[nr++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench_decide -c CONF [-n N] [-m MAX] "
                    "-f FROM -r RCPT...\n");
            return 64;
        }
    }
    if (cpath == NULL || from == NULL || nr == 0 || n <= 0 || max <= 0) {
        fprintf(stderr, "bench_decide: -c, -f and -r are required\n");
        return 64;
    }
    if ((conf = sg_conf_load(cpath, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench_decide: %s\n", err);
        return 78;
    }

    t0 = now_ns();
    st = sg_state_open(conf->state_dir, SG_STATE_RDONLY, 0, err,
                       sizeof(err));
    if (st == NULL || (snap = sg_snap_new(st)) == NULL
        || sg_snap_begin(snap) != SG_OK) {
        fprintf(stderr, "bench_decide: %s\n", st ? "snapshot" : err);
        return 78;
    }
    (void)sg_snap_account(snap, conf->default_region, &acct);
    sg_snap_end(snap);
    t1 = now_ns();
    printf("store open + first lookup: %.3f ms\n", (t1 - t0) / 1e6);

    if ((lat = malloc(sizeof(*lat) * (size_t)n)) == NULL)
        return 70;
    srandom(42);
    memset(&msg, 0, sizeof(msg));
    msg.env_from = from;
    msg.rcpts = rcpts;
    msg.nrcpt = nr;
    msg.size = 2048;
    for (i = 0; i < (size_t)n; i++) {
        for (j = 0; j < nr; j++) {
            snprintf(rbuf[j], sizeof(rbuf[j]), tmpl[j],
                     (int)(random() % max));
            rcpts[j] = rbuf[j];
        }
        t0 = now_ns();
        if (sg_snap_begin(snap) != SG_OK
            || sg_decide(conf, snap, &msg, &d) != SG_OK) {
            fprintf(stderr, "bench_decide: decision failed: %s\n",
                    sg_snap_error(snap));
            return 70;
        }
        sg_snap_end(snap);
        t1 = now_ns();
        accepted += (size_t)d.relayed;
        sg_decision_clear(&d);
        lat[i] = t1 - t0;
        sum += lat[i];
    }
    qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
    printf("decisions: %ld x %zu recipients (%zu recipients accepted)\n",
           n, nr, accepted);
    printf("decision latency: median %.2f us, p90 %.2f us, p99 %.2f us, "
           "mean %.2f us\n", lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
           lat[n * 99 / 100] / 1e3, (double)sum / n / 1e3);
    printf("memory after the run: rss %lld kB, private %lld kB "
           "(shared page cache not counted)\n", smaps_kb("Rss"),
           smaps_kb("Private_Clean") + smaps_kb("Private_Dirty"));
    free(lat);
    sg_snap_free(snap);
    sg_state_close(st);
    sg_conf_free(conf);
    return 0;
}
