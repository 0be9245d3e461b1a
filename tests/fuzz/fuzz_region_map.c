/*
 * fuzz_region_map.c - libFuzzer harness for region.c
 *
 * The input is a sender_region_map given to sg_region_map_load_buf; its
 * first line (NUL-terminated, bounded) is also tried as a relay host and
 * as an envelope sender. Beyond "no crash": a found region is a row of
 * the table, the matched key is lower case and is the address itself,
 * its "@domain" or a parent "@domain"; a failed load leaves an error
 * text that starts with the map name. A broken promise aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I shared
 *   -I BUILDDIR shared/region.c tests/fuzz/fuzz_region_map.c
 */

/* System headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "region.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* check_row - r is NULL or a row of the table */
static void
check_row(const struct sg_region *r)
{
    const struct sg_region *t;
    size_t n;

    if (r == NULL)
        return;
    t = sg_region_table(&n);
    check(r >= t && r < t + n);
}

/* ends_with_ci - whether s ends with suffix, ignoring ASCII case */
static int
ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix), i;

    if (m > n)
        return 0;
    for (i = 0; i < m; i++) {
        int a = (unsigned char)s[n - m + i], b = (unsigned char)suffix[i];

        if (a >= 'A' && a <= 'Z')
            a += 'a' - 'A';
        if (a != b)
            return 0;
    }
    return 1;
}

/* try_find - look addr up and check what comes back */
static void
try_find(const SG_REGION_MAP *map, const char *addr)
{
    const struct sg_region *r;
    const char *key = "unset", *k;

    r = sg_region_map_find(map, addr, &key);
    check_row(r);
    if (r == NULL) {
        check(key == NULL);
        return;
    }
    check(key != NULL && *addr != '\0');
    for (k = key; *k != '\0'; k++)
        check(!(*k >= 'A' && *k <= 'Z'));
    if (key[0] == '@')
        check(ends_with_ci(addr, key + 1));
    else
        check(strlen(key) == strlen(addr) && ends_with_ci(addr, key));
}

/* LLVMFuzzerTestOneInput - one map file */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], line[SG_ADDR_MAX + 40];
    SG_REGION_MAP *map;
    const uint8_t *nl;
    size_t n;

    nl = memchr(data, '\n', size);
    n = nl != NULL ? (size_t)(nl - data) : size;
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    memcpy(line, data, n);
    line[n] = '\0';
    check_row(sg_region_from_relay(line));
    check_row(sg_region_from_value(line));

    err[0] = 'x';
    map = sg_region_map_load_buf("fuzz.map", (const char *)data, size, err,
                                 sizeof(err));
    if (map == NULL) {
        check(strncmp(err, "fuzz.map", 8) == 0);
        return 0;
    }
    try_find(map, line);
    try_find(map, "user@mail.example.com");
    try_find(map, "a@b");
    try_find(map, "");
    sg_region_map_free(map);
    return 0;
}
