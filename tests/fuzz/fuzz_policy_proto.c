/*
 * fuzz_policy_proto.c - libFuzzer harness for the policy codec
 *
 * The input is what a client sends on a policy connection. It is fed
 * to the scanner in pieces whose sizes come from the input's first
 * byte (so that partial reads are covered), each complete request is
 * parsed in place and answered with the reply writer. Beyond "no
 * crash", the codec's promises are checked: a request never exceeds
 * the bounds, the scanner's answer does not depend on how the bytes
 * were split, a parsed request's strings lie inside the buffer, and a
 * reply is exactly one "action=" line and an empty line.
 *
 * tests/fuzz/run.sh compiles the shared/ sources with this file only, so the
 * codec (pure, one file) is included from here.
 */

/* System headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The codec under test. */
#include "../../policy/policy_proto.c"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* inside - a parsed string points into buf (or is the constant "") */
static void
inside(const char *s, const char *buf, size_t len)
{
    check(s != NULL);
    check(*s == '\0' || (s >= buf && s < buf + len));
}

/* reply_ok - one action line plus an empty line, nothing else */
static void
reply_ok(const char *r, size_t n)
{
    check(n == strlen(r));
    check(n >= 9 && strncmp(r, "action=", 7) == 0);
    check(r[n - 1] == '\n' && r[n - 2] == '\n');
    check(memchr(r, '\n', n - 2) == NULL);
}

/* answer - parse one request and write a reply from its values */
static void
answer(char *req, size_t len)
{
    struct sg_policy_req r;
    struct sg_verdict v;
    char reply[SG_POLICY_REPLY_MAX];
    size_t n;

    check(len <= SG_POLICY_REQ_MAX);
    if (sg_policy_parse(req, len, &r) != SG_OK)
        return;
    check(r.nattrs >= 1 && r.nattrs <= SG_POLICY_ATTRS_MAX);
    inside(r.sender, req, len);
    inside(r.recipient, req, len);
    inside(r.instance, req, len);
    inside(r.protocol_state, req, len);
    inside(r.sasl_username, req, len);
    check(r.recipient_count >= -1 && r.size >= -1);
    check(sg_policy_pstate_parse(sg_policy_pstate_name(r.pstate))
          == r.pstate);

    /* Echo request values through the writer as a hostile text. */
    memset(&v, 0, sizeof(v));
    v.action = r.pstate % 3 == 0 ? SG_ACCEPT
               : r.pstate % 3 == 1 ? SG_DEFER : SG_REJECT;
    v.code = (int)(r.size % 1000);
    snprintf(v.enhanced, sizeof(v.enhanced), "%.11s", r.queue_id);
    snprintf(v.text, sizeof(v.text), "%s %s", r.recipient, r.sender);
    n = sg_policy_reply_buf(&v, reply, sizeof(reply));
    check(n > 0);
    reply_ok(reply, n);
    n = sg_policy_action_buf("DEFER_IF_PERMIT", r.helo_name, reply,
                             sizeof(reply));
    if (n > 0)
        reply_ok(reply, n);
}

/* scan_all - scan data in chunks of step bytes; returns last result */
static SG_POLICY_SCAN_RES
scan_all(const uint8_t *data, size_t size, size_t step, size_t *nreq,
         int do_answer)
{
    struct sg_policy_scan sc;
    SG_POLICY_SCAN_RES res = SG_POLICY_MORE;
    size_t start = 0, avail = 0, reqlen;
    char *copy;

    *nreq = 0;
    sg_policy_scan_init(&sc);
    while (avail < size || res == SG_POLICY_DONE) {
        if (res != SG_POLICY_DONE)
            avail = avail + step > size ? size : avail + step;
        res = sg_policy_scan_feed(&sc, (const char *)data + start,
                                  avail - start, &reqlen);
        if (res == SG_POLICY_DONE) {
            check(reqlen > 0 && reqlen <= avail - start);
            check(data[start + reqlen - 1] == '\n');
            if (do_answer) {
                copy = malloc(reqlen);
                check(copy != NULL);
                memcpy(copy, data + start, reqlen);
                answer(copy, reqlen);
                free(copy);
            }
            (*nreq)++;
            start += reqlen;
            sg_policy_scan_init(&sc);
            continue;
        }
        if (res != SG_POLICY_MORE)
            break;
    }
    return res;
}

/* LLVMFuzzerTestOneInput - one client's byte stream */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SG_POLICY_SCAN_RES a, b;
    size_t na, nb, step;

    if (size < 1)
        return 0;
    step = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    a = scan_all(data, size, step, &na, 1);
    b = scan_all(data, size, size > 0 ? size : 1, &nb, 0);
    /* However the bytes are split, the same requests and result. */
    check(na == nb);
    check(a == b);
    return 0;
}
