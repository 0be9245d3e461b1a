/*
 * fuzz_authz.c - libFuzzer harness for authz.c
 *
 * The input is split at the first NUL byte: before it, a policy
 * document evaluated by sg_authz_eval (and checked by
 * sg_authz_check_policy); after it, a delegations file given to
 * sg_deleg_load_buf. The request's fields come from fixed values plus
 * the input's first bytes (as From address and source IP). Beyond "no
 * crash": the effect is one of the three; allowed goes with
 * SG_AUTHZ_ALLOW and an empty refusal text, a refusal has SES's text;
 * the deciding statement is -1 exactly when the effect is implicit;
 * every string in the result is terminated. A broken promise aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I shared
 *   -I BUILDDIR shared/SOURCES tests/fuzz/fuzz_authz.c (tests/fuzz/run.sh)
 */

/* System headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "authz.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* terminated - a fixed buffer holds a NUL */
static int
terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

/* LLVMFuzzerTestOneInput - one input */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rcpts[] = { "a@example.com", "b@example.net",
                                         "c@sub.example.com" };
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul != NULL ? (size_t)(nul - data) : size;
    struct sg_authz_policy pol;
    struct sg_authz_req req;
    struct sg_authz_result res;
    char from[64], ip[48], probs[256], err[256];
    SG_DELEG *dl;
    size_t n;

    /* A From address and an IP from the first bytes, printable only. */
    n = plen < sizeof(from) - 1 ? plen : sizeof(from) - 1;
    memcpy(from, data, n);
    from[n] = '\0';
    n = plen < sizeof(ip) - 1 ? plen : sizeof(ip) - 1;
    memcpy(ip, data, n);
    ip[n] = '\0';

    memset(&req, 0, sizeof(req));
    req.principal = "arn:aws:iam::444455556666:user/app";
    req.resource = "arn:aws:ses:us-east-1:111122223333:identity/example.com";
    req.from_address = from;
    req.from_display = "Sales";
    req.feedback_address = "bounce@example.com";
    req.recipients = rcpts;
    req.nrecipients = 3;
    req.source_ip = size % 2 ? ip : "192.0.2.1";
    req.now = 1768435200;
    pol.name = "fuzz";
    pol.doc = (const char *)data;
    pol.len = plen;
    check(sg_authz_eval(&pol, 1, &req, &res) == SG_OK);
    check(res.effect == SG_AUTHZ_IMPLICIT || res.effect == SG_AUTHZ_ALLOW
          || res.effect == SG_AUTHZ_DENY);
    check(res.allowed == (res.effect == SG_AUTHZ_ALLOW));
    check((res.statement == -1) == (res.effect == SG_AUTHZ_IMPLICIT));
    check(terminated(res.text, sizeof(res.text)));
    check(terminated(res.why, sizeof(res.why)));
    check(terminated(res.problems, sizeof(res.problems)));
    check(terminated(res.policy, sizeof(res.policy)));
    check(terminated(res.sid, sizeof(res.sid)));
    if (res.allowed)
        check(res.text[0] == '\0');
    else
        check(strncmp(res.text, "Access denied: User ", 20) == 0);
    (void)sg_authz_check_policy((const char *)data, plen, req.resource,
                                probs, sizeof(probs));
    check(terminated(probs, sizeof(probs)));

    if (nul != NULL) {
        dl = sg_deleg_load_buf("fuzz", (const char *)nul + 1,
                               size - plen - 1, err, sizeof(err));
        if (dl == NULL) {
            check(terminated(err, sizeof(err)));
        } else {
            const struct sg_deleg_entry *e;

            e = sg_deleg_find(dl, "news@mail.example.com", SG_DELEG_FROM,
                              "alice", "<a@app.example.org>");
            check(e == NULL || (e->covers & SG_DELEG_FROM) != 0);
            (void)sg_deleg_principal(dl, "alice");
            for (n = 0; n < sg_deleg_count(dl); n++)
                check(sg_deleg_get(dl, n)->arn != NULL);
            sg_deleg_free(dl);
        }
    }
    return 0;
}
