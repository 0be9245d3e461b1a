/*
 * fuzz_snapshot.c - libFuzzer harness: the input imported as a snapshot
 *
 * Build from the top of the tree after configuring into _build-state
 * (for config.h):
 *   clang -fsanitize=fuzzer,address,undefined -I shared -I _build-state \
 *       shared/[a-z]*.c tests/fuzz/fuzz_snapshot.c -llmdb -ljansson \
 *       -o fuzz_snapshot
 *   ./fuzz_snapshot tests/fuzz/corpus/snapshot
 * The store lives in a temporary directory made once per process; a
 * refused input must leave the previous state readable.
 */

/* System headers. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "state.h"

static SG_STATE *st;
static SG_SNAP *snap;
static char dir[] = "/tmp/sesgate-fuzz.XXXXXX";

/* cleanup - remove the temporary store at exit */
static void
cleanup(void)
{
    char path[sizeof(dir) + 32];

    sg_snap_free(snap);
    sg_state_close(st);
    snprintf(path, sizeof(path), "%s/state.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", dir);
    unlink(path);
    rmdir(dir);
}

/* init - create the store once */
static int
init(void)
{
    char err[512];

    if (mkdtemp(dir) == NULL)
        return -1;
    st = sg_state_open(dir, SG_STATE_CREATE, (long long)64 << 20, err,
                       sizeof(err));
    if (st == NULL || (snap = sg_snap_new(st)) == NULL)
        return -1;
    atexit(cleanup);
    return 0;
}

/* LLVMFuzzerTestOneInput - import one input, then read the state back */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024], regions[8][SG_REGION_MAX + 1];
    struct sg_account ac;
    struct sg_suppressed sp;
    struct sg_identity id;
    FILE *fp;
    size_t n, i;

    if (st == NULL && init() != 0)
        abort();
    (void)sg_state_import_buf(st, "fuzz", (const char *)data, size, err,
                              sizeof(err));
    if (sg_snap_begin(snap) != SG_OK)
        abort();
    n = sg_snap_regions(snap, regions, 8);
    for (i = 0; i < n && i < 8; i++) {
        (void)sg_snap_account(snap, regions[i], &ac);
        (void)sg_snap_identity(snap, regions[i], "example.com", &id);
        (void)sg_snap_suppressed(snap, regions[i], "a@example.com", &sp);
    }
    sg_snap_end(snap);
    /* Export must always work on what was stored. */
    if ((fp = fopen("/dev/null", "w")) != NULL) {
        if (sg_state_export(st, fp, err, sizeof(err)) != SG_OK)
            abort();
        fclose(fp);
    }
    return 0;
}
