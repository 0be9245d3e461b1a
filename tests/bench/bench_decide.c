/*
 * bench_decide.c - time sg_decide on a real store (make bench)
 *
 * Usage: bench_decide -c CONF [-n ITERATIONS] [-w WARMUP] [-m MAX]
 *                     -f FROM -r RCPT [-r RCPT ...]
 * WARMUP decisions (default 0) are made first and not timed: a new
 * process takes a minor page fault on every store page it touches the
 * first time, which a long-running daemon has long paid.
 * A RCPT may hold "%d" and "%h": per recipient and decision, "%d" is
 * replaced by a random number J below MAX (default 10,000,000) and "%h"
 * by J % 9973, so that lookups spread over the whole suppression list
 * instead of hitting one cached page. gen_snapshot.py names its
 * suppressed addresses user{J}@host{J % 9973}.example, so the template
 * "user%d@host%h.example" hits the list every time and
 * "user%d@host1.example" almost never does.
 *
 * Prints: store open time (sg_state_open + first snapshot + first
 * lookup, in this new process), decision latency (median, p90, p99,
 * mean, each decision being snapshot begin + sg_decide + end), and the
 * process's memory after the run (from /proc/self/smaps_rollup): its
 * private memory proper (anonymous + private dirty pages: heap, stacks,
 * libraries' written data) and, apart, the resident pages of the
 * read-only store map. Those are page cache: the kernel counts them as
 * "Private_Clean" while no other process maps the same pages, but they
 * are never copied and are shared with every reader of the store.
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

/* expand - RCPT template: "%d" -> j, "%h" -> j % 9973, "%%" -> "%" */
static void
expand(char *out, size_t outsz, const char *tmpl, long j)
{
    size_t o = 0;
    const char *p;
    int w;

    for (p = tmpl; *p != '\0' && o + 1 < outsz; p++) {
        if (p[0] == '%' && (p[1] == 'd' || p[1] == 'h')) {
            w = snprintf(out + o, outsz - o, "%ld",
                         p[1] == 'd' ? j : j % 9973);
            o += (w > 0 && (size_t)w < outsz - o) ? (size_t)w : 0;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            out[o++] = '%';
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* cmp_ll - qsort comparison of long long */
static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

/*
 * mem_report - walk /proc/self/smaps: private memory proper (dirty
 * pages only this process holds: heap, stacks, written data) apart from
 * the resident pages of the store's map (page cache)
 */
static void
mem_report(void)
{
    FILE *fp = fopen("/proc/self/smaps", "r");
    char line[512];
    long long rss = 0, pdirty = 0, anon = 0, store = 0, v;
    int in_store = 0;

    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        if ((line[0] >= '0' && line[0] <= '9')
            || (line[0] >= 'a' && line[0] <= 'f')) {
            /* mapping header: "start-end perms offset dev inode path" */
            size_t l = strlen(line);

            while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == ' '))
                line[--l] = '\0';
            in_store = l >= 10 && strcmp(line + l - 10, "/state.mdb") == 0;
            continue;
        }
        if (sscanf(line, "Rss: %lld", &v) == 1) {
            rss += v;
            if (in_store)
                store += v;
        } else if (sscanf(line, "Private_Dirty: %lld", &v) == 1) {
            pdirty += v;
        } else if (sscanf(line, "Anonymous: %lld", &v) == 1) {
            anon += v;
        }
    }
    fclose(fp);
    printf("memory after the run: rss %lld kB, private dirty %lld kB "
           "(anonymous %lld kB), store map resident %lld kB "
           "(shared page cache)\n", rss, pdirty, anon, store);
}

int
main(int argc, char **argv)
{
    const char *cpath = NULL, *from = NULL;
    const char *tmpl[SG_SES_MAX_RECIPIENTS];
    char rbuf[SG_SES_MAX_RECIPIENTS][SG_ADDR_MAX];
    const char *rcpts[SG_SES_MAX_RECIPIENTS];
    size_t nr = 0, i, j, accepted = 0, refused = 0;
    long n = 200000, max = 10000000, warm = 0, k;
    long long t0, t1, *lat, sum = 0;
    char err[1024];
    SG_CONF *conf;
    SG_STATE *st;
    SG_SNAP *snap;
    struct sg_account acct;
    struct sg_msg msg;
    struct sg_decision d;
    int c;

    while ((c = getopt(argc, argv, "c:n:w:m:f:r:")) != -1) {
        switch (c) {
        case 'c':
            cpath = optarg;
            break;
        case 'n':
            n = atol(optarg);
            break;
        case 'w':
            warm = atol(optarg);
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
            fprintf(stderr, "usage: bench_decide -c CONF [-n N] [-w N] [-m MAX] "
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
    for (k = 0; k < warm; k++) {
        for (j = 0; j < nr; j++) {
            expand(rbuf[j], sizeof(rbuf[j]), tmpl[j], random() % max);
            rcpts[j] = rbuf[j];
        }
        if (sg_snap_begin(snap) != SG_OK
            || sg_decide(conf, snap, &msg, &d) != SG_OK) {
            fprintf(stderr, "bench_decide: decision failed: %s\n",
                    sg_snap_error(snap));
            return 70;
        }
        sg_snap_end(snap);
        sg_decision_clear(&d);
    }
    for (i = 0; i < (size_t)n; i++) {
        for (j = 0; j < nr; j++) {
            expand(rbuf[j], sizeof(rbuf[j]), tmpl[j], random() % max);
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
        refused += nr - (size_t)d.relayed;
        sg_decision_clear(&d);
        lat[i] = t1 - t0;
        sum += lat[i];
    }
    qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
    printf("decisions: %ld x %zu recipients after %ld untimed "
           "(%zu recipients accepted, %zu not)\n", n, nr, warm, accepted,
           refused);
    printf("decision latency: median %.2f us, p90 %.2f us, p99 %.2f us, "
           "mean %.2f us\n", lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
           lat[n * 99 / 100] / 1e3, (double)sum / n / 1e3);
    mem_report();
    free(lat);
    sg_snap_free(snap);
    sg_state_close(st);
    sg_conf_free(conf);
    return 0;
}
