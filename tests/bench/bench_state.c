/*
 * bench_state.c - timings of the state store: import, open, lookups
 *
 * Not built by make. Build from the top of the tree, after a build in
 * BUILD (e.g. _build-state):
 *   cc -O2 -I shared -I BUILD tests/bench/bench_state.c \
 *      BUILD/shared/.libs/libsesgate.a -llmdb -ljansson -o bench_state
 * Run:
 *   tests/bench/gen_snapshot.py 10000 10000000 > snap.json
 *   /usr/bin/time -v ./bench_state import DIR snap.json
 *   ./bench_state open DIR       (open + begin + one lookup, fresh process)
 *   ./bench_state lookup DIR N   (N rounds of 20 lookups, ns per round)
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Local headers. */
#include "sesgate.h"
#include "state.h"

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

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "import") == 0)
        return bench_import(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "open") == 0)
        return bench_open(argv[2]);
    if (argc == 4 && strcmp(argv[1], "lookup") == 0)
        return bench_lookup(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: bench_state import DIR FILE | open DIR | "
            "lookup DIR ROUNDS\n");
    return 64;
}
