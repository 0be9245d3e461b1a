/*
 * fuzz_conf.c - libFuzzer harness for conf.c (the sesgate.conf reader)
 *
 * The input is a configuration file given to sg_conf_load_buf. Beyond
 * "no crash", a successful load must keep conf.h's promises: every
 * string member set, every INT/SIZE within the table's bounds, every
 * parameter readable through sg_conf_get; a failed load must leave an
 * error text. A broken promise aborts.
 *
 * Inputs that name sender_region_map are skipped: the map would be read
 * from the file system (not deterministic); fuzz_region_map.c covers
 * the map parser.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I shared
 *   -I BUILDDIR shared/conf.c shared/region.c shared/log.c
 *   shared/status.c tests/fuzz/fuzz_conf.c
 */

/* System headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "log.h"
#include "conf.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* sink - a log sink that reads every message (warnings are formatted) */
static void
sink(int level, const char *msg, void *arg)
{
    (void)arg;
    check(level >= SG_LOG_ERR && level <= SG_LOG_DEBUG);
    check(strlen(msg) < 2048);
}

/* LLVMFuzzerTestOneInput - one configuration file */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char skip[] = "sender_region_map";
    const struct sg_conf_param *p;
    char err[512];
    SG_CONF *conf;
    size_t n, i;
    const char *v;

    if (size >= sizeof(skip) - 1
        && memmem(data, size, skip, sizeof(skip) - 1) != NULL)
        return 0;
    sg_log_set_sink(sink, NULL, SG_LOG_DEBUG);
    err[0] = 'x';
    conf = sg_conf_load_buf("fuzz.conf", (const char *)data, size, err,
                            sizeof(err));
    if (conf == NULL) {
        check(err[0] != '\0' && strlen(err) < sizeof(err));
        return 0;
    }
    p = sg_conf_params(&n);
    for (i = 0; i < n; i++) {
        check((v = sg_conf_get(conf, p[i].name)) != NULL);
        if (p[i].type == SG_CONF_INT || p[i].type == SG_CONF_SIZE) {
            long long x = strtoll(v, NULL, 10);

            check(x >= p[i].min && x <= p[i].max);
        }
    }
    check(conf->default_region != NULL && conf->regions != NULL
          && conf->api_endpoint != NULL && conf->log_level != NULL);
    check(conf->map == NULL);
    sg_conf_free(conf);
    return 0;
}
