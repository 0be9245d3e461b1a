/*
 * fuzz_addr.c - libFuzzer harness for addr.c
 *
 * The input is fed as an envelope path (NUL-terminated copy), as a
 * header value (raw bytes and length) and as a domain. Beyond "no
 * crash", every successful result is checked for the normal form that
 * addr.h promises, and an address must parse again to itself as a path
 * (the normal form is a fixed point). A broken promise aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I shared
 *   -I BUILDDIR shared/addr.c tests/fuzz/fuzz_addr.c
 */

/* System headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "addr.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Header results; static because 100 of them are 120 KB. */
static struct sg_addr results[SG_HDR_MAX_ADDRS + 1];

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* check_domain - ASCII, no upper case, DNS length (literals excepted) */
static void
check_domain(const char *d)
{
    size_t i, len = strlen(d);

    check(len > 0);
    if (d[0] == '[') {
        check(d[len - 1] == ']');
        return;
    }
    check(len <= 253);
    check(d[len - 1] != '.');
    for (i = 0; i < len; i++) {
        check((unsigned char) d[i] < 0x80);
        check(!(d[i] >= 'A' && d[i] <= 'Z'));
    }
}

/* check_addr - the normal form of one parsed address */
static void
check_addr(const struct sg_addr *a)
{
    struct sg_addr again;
    size_t llen, i;

    llen = strlen(a->local);
    check(llen > 0);
    check(strlen(a->addr) <= SG_ADDR_MAX);
    check(strlen(a->display) <= SG_DISPLAY_MAX);
    check(strncmp(a->addr, a->local, llen) == 0);
    check(a->addr[llen] == '@');
    check(strcmp(a->addr + llen + 1, a->domain) == 0);
    for (i = 0; i < llen; i++)
        check((unsigned char) a->local[i] < 0x80);
    check_domain(a->domain);

    /* The normal form is a fixed point of the path parser. */
    check(sg_addr_parse_path(a->addr, &again, NULL) == SG_ADDR_OK);
    check(strcmp(again.addr, a->addr) == 0);
    check(strcmp(again.local, a->local) == 0);
    check(strcmp(again.domain, a->domain) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_addr a;
    char *text, buf[300], buf2[300], label[SG_ADDR_MAX + 1];
    size_t n = 0, i, max;
    SG_ADDR_ERR err;
    int is_null;

    /* As an envelope path. */
    if ((text = malloc(size + 1)) == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err = sg_addr_parse_path(text, &a, &is_null);
    check(sg_addr_strerror(err) != NULL);
    if (err == SG_ADDR_OK && is_null) {
        check(a.addr[0] == '\0');
    } else if (err == SG_ADDR_OK) {
        check(a.display[0] == '\0');
        check_addr(&a);
        if (sg_addr_strip_label_buf(&a, label, sizeof(label)) != NULL)
            check(strlen(label) < strlen(a.addr));
    }
    free(text);

    /* As a header value; the first byte varies the caller's max. */
    max = size > 0 ? (size_t) (data[0] % (SG_HDR_MAX_ADDRS + 1)) + 1 : 1;
    err = sg_addr_parse_header((const char *) data, size, results, max, &n);
    check(n <= max && n <= SG_HDR_MAX_ADDRS);
    if (err == SG_ADDR_ETOOMANY)
        check(n == (max < SG_HDR_MAX_ADDRS ? max : SG_HDR_MAX_ADDRS));
    for (i = 0; i < n; i++)
        check_addr(&results[i]);

    /* As a domain; the result converts to itself. */
    if (sg_addr_domain_to_ascii_buf((const char *) data, size, buf,
                                    sizeof(buf)) != NULL) {
        check_domain(buf);
        check(sg_addr_domain_to_ascii_buf(buf, strlen(buf), buf2,
                                          sizeof(buf2)) != NULL);
        check(strcmp(buf, buf2) == 0);
    }
    return 0;
}
