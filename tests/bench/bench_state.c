/*
 * bench_state.c - timings of the state store: import, open, lookups
 *
 * Not built by make. Build from the top of the tree, after a build in
 * BUILD (e.g. _build-state):
 *   cc -O2 -I shared -I BUILD tests/bench/bench_state.c \
 *      BUILD/shared/.libs/libsesgate.a -llmdb -ljansson -o bench_state
 * (lookup-miss/lookup-hit also print what the suppression filter says,
 * through state_int.h, when built against a library that has one)
 * Run:
 *   tests/bench/gen_snapshot.py 10000 10000000 > snap.json
 *   /usr/bin/time -v ./bench_state import DIR snap.json
 *   ./bench_state open DIR       (open + begin + one lookup, fresh process)
 *   ./bench_state lookup DIR N   (N rounds of 20 lookups, ns per round)
 *   ./bench_state lookup-miss DIR N [SUPPRESSED]
 *   ./bench_state lookup-hit DIR N [SUPPRESSED]
 *                                (N random suppression lookups of
 *                                non-members / members of a store made
 *                                from gen_snapshot.py's list of
 *                                SUPPRESSED addresses, default 10000000;
 *                                ns per lookup)
 *   ./bench_state add DIR N      (N suppress adds, one transaction each,
 *                                ms per add; changes the store: use a
 *                                copy)
 */

/* System headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Local headers. */
#include "sesgate.h"
#include "state.h"
#include "state_int.h"

/* now_ns - monotonic clock in nanoseconds */
static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* bench_import - import a snapshot, print the wall time */
static int
bench_import(const char *dir, const char *file)
{
    char err[1024];
    SG_STATE *st;
    double t0;
    SG_STATUS s;

    if ((st = sg_state_open(dir, SG_STATE_CREATE, 0, err,
                            sizeof(err))) == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    t0 = now_ns();
    s = sg_state_import_file(st, file, err, sizeof(err));
    printf("import: %s, %.2f s\n", s == SG_OK ? "ok" : err,
           (now_ns() - t0) / 1e9);
    sg_state_close(st);
    return s == SG_OK ? 0 : 1;
}

/* bench_open - open, begin, one lookup: the start-up cost of a daemon */
static int
bench_open(const char *dir)
{
    char err[1024];
    struct sg_suppressed sp;
    struct sg_account ac;
    SG_STATE *st;
    SG_SNAP *snap;
    double t0, t1;
    SG_STATUS s;

    t0 = now_ns();
    if ((st = sg_state_open(dir, SG_STATE_RDONLY, 0, err,
                            sizeof(err))) == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    snap = sg_snap_new(st);
    if (snap == NULL || sg_snap_begin(snap) != SG_OK)
        return 1;
    s = sg_snap_suppressed(snap, "us-east-1", "user12345@host2372.example",
                           &sp);
    t1 = now_ns();
    printf("open+begin+lookup: %.3f ms (lookup %s)\n", (t1 - t0) / 1e6,
           sg_strerror(s));
    if (sg_snap_account(snap, "us-east-1", &ac) == SG_OK)
        printf("region us-east-1: %lld identities, %lld suppressed\n",
               ac.identities, ac.suppressed);
    sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    return 0;
}

/* bench_lookup - rounds of 20 lookups as a decision does them */
static int
bench_lookup(const char *dir, long rounds)
{
    char err[1024], addr[64], name[64];
    struct sg_suppressed sp;
    struct sg_identity id;
    struct sg_account ac;
    SG_STATE *st;
    SG_SNAP *snap;
    double t0, t1;
    long r, hits = 0;
    int i;
    unsigned x = 12345;

    if ((st = sg_state_open(dir, SG_STATE_RDONLY, 0, err,
                            sizeof(err))) == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    snap = sg_snap_new(st);
    t0 = now_ns();
    for (r = 0; r < rounds; r++) {
        sg_snap_begin(snap);
        hits += sg_snap_account(snap, "us-east-1", &ac) == SG_OK;
        for (i = 0; i < 10; i++) {
            x = x * 1103515245u + 12345u;
            snprintf(addr, sizeof(addr), "user%u@host%u.example",
                     x % 10000000u, (x % 10000000u) % 9973u);
            hits += sg_snap_suppressed(snap, "us-east-1", addr, &sp)
                == SG_OK;
        }
        for (i = 0; i < 9; i++) {
            snprintf(name, sizeof(name), "d%u.example", (x >> i) % 10000u);
            hits += sg_snap_identity(snap, "us-east-1", name, &id) == SG_OK;
        }
        sg_snap_end(snap);
    }
    t1 = now_ns();
    printf("%ld rounds of 20 lookups (begin/end included): %.0f ns per "
           "round, %.0f ns per lookup, %ld hits\n", rounds,
           (t1 - t0) / (double)rounds, (t1 - t0) / (double)rounds / 20,
           hits);
    /* Each kind alone: begin/end, account, identity, suppressed. */
    t0 = now_ns();
    for (r = 0; r < rounds; r++) {
        sg_snap_begin(snap);
        sg_snap_end(snap);
    }
    t1 = now_ns();
    printf("begin+end: %.0f ns\n", (t1 - t0) / (double)rounds);
    sg_snap_begin(snap);
    t0 = now_ns();
    for (r = 0; r < rounds; r++)
        hits += sg_snap_account(snap, "us-east-1", &ac) == SG_OK;
    t1 = now_ns();
    printf("account: %.0f ns\n", (t1 - t0) / (double)rounds);
    t0 = now_ns();
    for (r = 0; r < rounds; r++)
        hits += sg_snap_identity(snap, "us-east-1", "d4242.example", &id)
            == SG_OK;
    t1 = now_ns();
    printf("identity (same name): %.0f ns\n", (t1 - t0) / (double)rounds);
    t0 = now_ns();
    for (r = 0; r < rounds; r++)
        hits += sg_snap_suppressed(snap, "us-east-1",
                                   "user12345@host2372.example", &sp)
            == SG_OK;
    t1 = now_ns();
    printf("suppressed (same address): %.0f ns\n",
           (t1 - t0) / (double)rounds);
    t0 = now_ns();
    for (r = 0; r < rounds; r++) {
        x = x * 1103515245u + 12345u;
        snprintf(addr, sizeof(addr), "user%u@host%u.example",
                 x % 10000000u, (x % 10000000u) % 9973u);
        hits += sg_snap_suppressed(snap, "us-east-1", addr, &sp) == SG_OK;
    }
    t1 = now_ns();
    printf("suppressed (random address, incl. snprintf): %.0f ns\n",
           (t1 - t0) / (double)rounds);
    sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    return 0;
}

/* Addresses per batch of the random-lookup modes. */
#define RAND_BATCH      65536
#define RAND_ADDR       48

/* cmp_double - qsort order of doubles */
static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* rand_next - xorshift64*: the next pseudo-random number */
static uint64_t
rand_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/*
 * fill_addrs - a batch of random addresses in gen_snapshot.py's form
 *
 * Members are user<j>@host<j % 9973>.example with j below nsupp;
 * non-members use j from nsupp to 2 * nsupp, so that their keys fall
 * between the members' in the B-tree, as real recipients would. Every
 * fourth one is written in mixed case (lookups are case-insensitive).
 */
static void
fill_addrs(char (*addrs)[RAND_ADDR], size_t n, int hit, unsigned long nsupp,
           uint64_t *seed)
{
    unsigned long j;
    size_t i;

    for (i = 0; i < n; i++) {
        j = (unsigned long)(rand_next(seed) % nsupp);
        if (!hit)
            j += nsupp;
        snprintf(addrs[i], RAND_ADDR, (i & 3) == 3
                 ? "User%lu@Host%lu.Example" : "user%lu@host%lu.example",
                 j, j % 9973);
    }
}

/*
 * bench_rand - random suppression lookups of members (hit) or
 *   non-members: the mean in one long snapshot, then per decision of 5
 *   lookups with begin/end around each (median and 99th percentile)
 */
static int
bench_rand(const char *dir, long count, int hit, unsigned long nsupp)
{
    char err[1024];
    char (*addrs)[RAND_ADDR];
    struct sg_suppressed sp;
    SG_STATE *st;
    SG_SNAP *snap;
    double t0, t1, total = 0, *dec;
    long done = 0, found = 0, ndec = 0, maxdec;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t n = 0, i, d;

    if (count <= 0 || nsupp == 0) {
        fprintf(stderr, "bench_state: bad count\n");
        return 64;
    }
    if ((st = sg_state_open(dir, SG_STATE_RDONLY, 0, err,
                            sizeof(err))) == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    maxdec = count / 5 + 1;
    addrs = malloc(sizeof(*addrs) * RAND_BATCH);
    dec = malloc(sizeof(*dec) * (size_t)maxdec);
    if ((snap = sg_snap_new(st)) == NULL || addrs == NULL || dec == NULL
        || sg_snap_begin(snap) != SG_OK) {
        fprintf(stderr, "bench_state: cannot begin\n");
        return 1;
    }
    /* One snapshot, lookups back to back. */
    while (done < count) {
        n = (size_t)(count - done < RAND_BATCH ? count - done : RAND_BATCH);
        fill_addrs(addrs, n, hit, nsupp, &seed);
        t0 = now_ns();
        for (i = 0; i < n; i++)
            found += sg_snap_suppressed(snap, "us-east-1", addrs[i], &sp)
                == SG_OK;
        total += now_ns() - t0;
        done += (long)n;
    }
    printf("lookup-%s: %ld lookups, %.0f ns per lookup (one snapshot), "
           "%ld found\n", hit ? "hit" : "miss", count, total / (double)count,
           found);
#ifdef SG_META_SUPPFILTER
    /* What the filter said of the last batch (-1: no filter). */
    for (i = 0, d = 0; i < n; i++) {
        int f = sg_supp_filter_test(snap, "us-east-1", addrs[i]);

        if (f < 0)
            break;
        d += (size_t)f;
    }
    if (i == n)
        printf("lookup-%s: filter says maybe for %zu of %zu (%.3f%%)\n",
               hit ? "hit" : "miss", d, n, 100.0 * (double)d / (double)n);
    else
        printf("lookup-%s: no filter\n", hit ? "hit" : "miss");
#endif
    sg_snap_end(snap);
    /* Decisions: begin, 5 lookups, end. */
    done = 0;
    found = 0;
    while (done < count) {
        n = (size_t)(count - done < RAND_BATCH ? count - done : RAND_BATCH);
        n -= n % 5;
        if (n == 0)
            break;
        fill_addrs(addrs, n, hit, nsupp, &seed);
        for (i = 0; i < n; i += 5) {
            t0 = now_ns();
            sg_snap_begin(snap);
            for (d = 0; d < 5; d++)
                found += sg_snap_suppressed(snap, "us-east-1", addrs[i + d],
                                            &sp) == SG_OK;
            sg_snap_end(snap);
            t1 = now_ns();
            dec[ndec++] = t1 - t0;
        }
        done += (long)n;
    }
    qsort(dec, (size_t)ndec, sizeof(*dec), cmp_double);
    if (ndec > 0)
        printf("lookup-%s: %ld snapshots of 5 lookups (begin/end "
               "included): median %.0f ns, p99 %.0f ns, %ld found\n",
               hit ? "hit" : "miss", ndec, dec[ndec / 2],
               dec[(size_t)((double)ndec * 0.99)], found);
    free(dec);
    free(addrs);
    sg_snap_free(snap);
    sg_state_close(st);
    return 0;
}

/* bench_add - suppress add of new addresses, one transaction each */
static int
bench_add(const char *dir, long count)
{
    char err[1024], addr[64];
    SG_STATE *st;
    double t0, t1;
    long i;
    SG_STATUS s;

    if ((st = sg_state_open(dir, 0, 0, err, sizeof(err))) == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    t0 = now_ns();
    for (i = 0; i < count; i++) {
        snprintf(addr, sizeof(addr), "bench-add%ld.%ld@add.example", i,
                 (long)time(NULL));
        s = sg_state_suppress_add(st, "us-east-1", addr, SG_SUPP_BOUNCE,
                                  (long long)time(NULL), err, sizeof(err));
        if (s != SG_OK) {
            fprintf(stderr, "add: %s\n", err);
            sg_state_close(st);
            return 1;
        }
    }
    t1 = now_ns();
    printf("add: %ld adds, %.2f ms per add\n", count,
           (t1 - t0) / 1e6 / (double)(count > 0 ? count : 1));
    sg_state_close(st);
    return 0;
}

int
main(int argc, char **argv)
{
    unsigned long nsupp = 10000000;

    if (argc == 4 && strcmp(argv[1], "import") == 0)
        return bench_import(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "open") == 0)
        return bench_open(argv[2]);
    if (argc == 4 && strcmp(argv[1], "lookup") == 0)
        return bench_lookup(argv[2], atol(argv[3]));
    if (argc == 4 && strcmp(argv[1], "add") == 0)
        return bench_add(argv[2], atol(argv[3]));
    if ((argc == 4 || argc == 5) && (strcmp(argv[1], "lookup-miss") == 0
                                     || strcmp(argv[1], "lookup-hit") == 0)) {
        if (argc == 5)
            nsupp = strtoul(argv[4], NULL, 10);
        return bench_rand(argv[2], atol(argv[3]),
                          strcmp(argv[1], "lookup-hit") == 0, nsupp);
    }
    fprintf(stderr, "usage: bench_state import DIR FILE | open DIR | "
            "lookup DIR ROUNDS | lookup-miss DIR N [SUPPRESSED] | "
            "lookup-hit DIR N [SUPPRESSED] | add DIR N\n");
    return 64;
}
