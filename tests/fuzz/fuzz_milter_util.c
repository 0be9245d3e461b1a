/*
 * fuzz_milter_util.c - libFuzzer harness for milter/mlfi_util.c
 *
 * The input is split at its first NUL bytes into a header name, a value
 * and a rest: the pair is fed to mlfi_hdrs_add (twice, for the
 * duplicate path) and mlfi_hdrs_check, the value to mlfi_tags_check,
 * mlfi_reply_text_buf, mlfi_path_bare_buf, mlfi_esmtp_size and (with
 * the rest as the region) mlfi_default_config_set_buf, and everything
 * to mlfi_log_line_buf. Beyond "no crash": the reply text holds no
 * single '%' and no control character, the log line is terminated and
 * holds no newline. A broken promise aborts.
 *
 * run.sh compiles harnesses with the library sources only, so the
 * helpers are included here as source.
 */

/* System headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "decide.h"
#include "../../milter/mlfi_util.c"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *name, *value, *rest, *p;
    char out[2048], cs[80], bare[400];
    char *args[3];
    struct mlfi_hdrs h;
    struct mlfi_logrec r;
    struct sg_verdict v;
    size_t i;

    if (size > 200000)
        return 0;
    if ((buf = malloc(size + 3)) == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    name = buf;
    value = name + strlen(name) + 1;
    if (value > buf + size)
        value = buf + size + 1;
    rest = value + strlen(value) + 1;
    if (rest > buf + size + 1)
        rest = buf + size + 2;

    memset(&h, 0, sizeof(h));
    memset(&v, 0, sizeof(v));
    (void)mlfi_hdrs_add(&h, name, value);
    (void)mlfi_hdrs_add(&h, name, rest);
    mlfi_hdrs_check(&h, &v);
    check(v.code == 250 || v.code == 552 || v.code == 554);
    mlfi_hdrs_reset(&h);

    (void)mlfi_tags_check(value, out, sizeof(out));
    if (mlfi_reply_text_buf(value, out, sizeof(out)) != NULL) {
        for (p = out; *p != '\0'; p++) {
            check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
            if (*p == '%') {
                check(p[1] == '%');
                p++;
            }
        }
    }
    (void)mlfi_path_bare_buf(value, bare, sizeof(bare));
    args[0] = value;
    args[1] = rest;
    args[2] = NULL;
    (void)mlfi_esmtp_size(args);
    (void)mlfi_default_config_set_buf(value, rest, cs, sizeof(cs));

    memset(&r, 0, sizeof(r));
    r.queue_id = name;
    r.stage = "RCPT";
    r.host = value;
    r.addr = rest;
    r.from = value;
    r.to = rest;
    r.region = name;
    snprintf(v.text, sizeof(v.text), "%s", value);
    mlfi_log_line_buf(&r, &v, out, sizeof(out));
    for (i = 0; out[i] != '\0'; i++)
        check(out[i] != '\n' && out[i] != '\r');
    check(i < sizeof(out));
    free(buf);
    return 0;
}
