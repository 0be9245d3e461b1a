/*
 * check_policy.c - the policy codec (scanner, parser, replies) and the
 *                  request-to-decision glue against a real state store
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"
#include "quota.h"
#include "decide.h"
#include "policy_proto.h"
#include "policy_txn.h"
#include "check_suites.h"

/* ---- scanner ---------------------------------------------------- */

/* One row: input (NUL-free unless len says so) and the result. */
struct scan_case {
    const char *name;
    const char *in;
    size_t len;                 /* 0: strlen(in) */
    SG_POLICY_SCAN_RES want;
    size_t want_len;            /* request length on DONE */
};

static const struct scan_case scan_cases[] = {
    { "empty", "", 0, SG_POLICY_MORE, 0 },
    { "one attr, no end", "a=b\n", 0, SG_POLICY_MORE, 0 },
    { "complete", "a=b\n\n", 0, SG_POLICY_DONE, 5 },
    { "complete crlf", "a=b\r\n\r\n", 0, SG_POLICY_DONE, 7 },
    { "two requests", "a=b\n\nc=d\n\n", 0, SG_POLICY_DONE, 5 },
    { "leading blank lines", "\n\na=b\n\n", 0, SG_POLICY_DONE, 7 },
    { "partial line", "protocol_state=RC", 0, SG_POLICY_MORE, 0 },
    { "nul", "a=b\0c\n\n", 7, SG_POLICY_ENUL, 0 },
};

/* scan_table - each row fed at once */
START_TEST(scan_table)
{
    const struct scan_case *c = &scan_cases[_i];
    struct sg_policy_scan sc;
    size_t len = c->len != 0 ? c->len : strlen(c->in);
    size_t reqlen = 0;
    SG_POLICY_SCAN_RES res;

    sg_policy_scan_init(&sc);
    res = sg_policy_scan_feed(&sc, c->in, len, &reqlen);
    ck_assert_msg(res == c->want, "%s: got %d, want %d", c->name, res,
                  c->want);
    if (res == SG_POLICY_DONE)
        ck_assert_msg(reqlen == c->want_len, "%s: got length %zu, want %zu",
                      c->name, reqlen, c->want_len);
}
END_TEST

/* scan_bytewise - a request fed one byte at a time ends where it ends */
START_TEST(scan_bytewise)
{
    static const char req[] = "request=smtpd_access_policy\n"
                              "protocol_state=RCPT\nsender=a@b\n\nnext";
    struct sg_policy_scan sc;
    size_t i, reqlen = 0;
    SG_POLICY_SCAN_RES res = SG_POLICY_MORE;

    sg_policy_scan_init(&sc);
    for (i = 1; i <= strlen(req); i++) {
        res = sg_policy_scan_feed(&sc, req, i, &reqlen);
        if (res != SG_POLICY_MORE)
            break;
    }
    ck_assert_int_eq(res, SG_POLICY_DONE);
    ck_assert_uint_eq(reqlen, strlen(req) - 4);
}
END_TEST

/* make_lines - n lines "aNNN=" padded to width bytes, then "\n" */
static char *
make_lines(size_t n, size_t width, int terminate, size_t *len)
{
    char *buf = malloc(n * (width + 1) + 2);
    size_t i, off = 0;

    ck_assert_ptr_nonnull(buf);
    for (i = 0; i < n; i++) {
        int k = snprintf(buf + off, width + 1, "a%zu=", i);

        memset(buf + off + k, 'x', width - (size_t)k);
        off += width;
        buf[off++] = '\n';
    }
    if (terminate)
        buf[off++] = '\n';
    *len = off;
    return buf;
}

/* scan_bounds - line, request and attribute limits, exactly */
START_TEST(scan_bounds)
{
    struct sg_policy_scan sc;
    size_t len, reqlen;
    char *buf;

    /* A line of exactly 8192 bytes passes; 8193 does not. */
    buf = make_lines(1, SG_POLICY_LINE_MAX, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_DONE);
    free(buf);
    buf = make_lines(1, SG_POLICY_LINE_MAX + 1, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_ELINE);
    free(buf);
    /* An endless line is refused before its end arrives. */
    buf = make_lines(1, SG_POLICY_LINE_MAX + 10, 0, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len - 1, &reqlen),
                     SG_POLICY_ELINE);
    free(buf);
    /* 200 attributes pass, 201 do not. */
    buf = make_lines(200, 10, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_DONE);
    free(buf);
    buf = make_lines(201, 10, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_EATTRS);
    free(buf);
    /* 65536 bytes in all: 16 lines of 4095 + LF = 65536, no room for
     * the final empty line. */
    buf = make_lines(16, 4095, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_EBIG);
    free(buf);
    buf = make_lines(16, 4094, 1, &len);
    sg_policy_scan_init(&sc);
    ck_assert_int_eq(sg_policy_scan_feed(&sc, buf, len, &reqlen),
                     SG_POLICY_DONE);
    ck_assert_uint_eq(reqlen, len);
    free(buf);
}
END_TEST

/* ---- parser ----------------------------------------------------- */

/* parse_attrs - order, duplicates, unknown, numbers, CRLF */
START_TEST(parse_attrs)
{
    char buf[] = "recipient=first@x\r\n"
                 "instance=abc.1\n"
                 "x_unknown=whatever=with=equals\n"
                 "recipient=last@x\n"
                 "protocol_state=END-OF-MESSAGE\n"
                 "sender=\n"
                 "recipient_count=3\n"
                 "size=12345\n"
                 "sasl_username=user1\n"
                 "\n";
    struct sg_policy_req r;

    ck_assert_int_eq(sg_policy_parse(buf, strlen(buf), &r), SG_OK);
    ck_assert_str_eq(r.recipient, "last@x");
    ck_assert_str_eq(r.instance, "abc.1");
    ck_assert_str_eq(r.sender, "");
    ck_assert_str_eq(r.client_address, "");
    ck_assert_str_eq(r.sasl_username, "user1");
    ck_assert_int_eq(r.pstate, SG_PSTATE_EOM);
    ck_assert_int_eq(r.recipient_count, 3);
    ck_assert_int_eq(r.size, 12345);
    ck_assert_uint_eq(r.nattrs, 9);
}
END_TEST

/* One row of malformed or odd requests. */
struct parse_case {
    const char *name;
    const char *in;
    SG_STATUS want;
    long long want_count;       /* recipient_count on success */
    SG_POLICY_PSTATE want_state;
};

static const struct parse_case parse_cases[] = {
    { "no equals", "protocol_state\n\n", SG_ERR_SYNTAX, 0, 0 },
    { "empty name", "=x\n\n", SG_ERR_SYNTAX, 0, 0 },
    { "unterminated", "a=b\n", SG_ERR_SYNTAX, 0, 0 },
    { "no newline", "a=b", SG_ERR_SYNTAX, 0, 0 },
    { "bad count", "recipient_count=3x\n\n", SG_OK, -1, SG_PSTATE_NONE },
    { "empty count", "recipient_count=\n\n", SG_OK, -1, SG_PSTATE_NONE },
    { "huge count", "recipient_count=999999999999999999999\n\n", SG_OK, -1,
      SG_PSTATE_NONE },
    { "bdat is data", "protocol_state=BDAT\n\n", SG_OK, -1, SG_PSTATE_DATA },
    { "unknown state", "protocol_state=XYZ\n\n", SG_OK, -1,
      SG_PSTATE_NONE },
    { "lower case state", "protocol_state=rcpt\n\n", SG_OK, -1,
      SG_PSTATE_NONE },
};

/* parse_table - each row */
START_TEST(parse_table)
{
    const struct parse_case *c = &parse_cases[_i];
    struct sg_policy_req r;
    char buf[256];
    SG_STATUS st;

    snprintf(buf, sizeof(buf), "%s", c->in);
    st = sg_policy_parse(buf, strlen(buf), &r);
    ck_assert_msg(st == c->want, "%s: got %s, want %s", c->name,
                  sg_strerror(st), sg_strerror(c->want));
    if (st == SG_OK) {
        ck_assert_msg(r.recipient_count == c->want_count,
                      "%s: got count %lld, want %lld", c->name,
                      r.recipient_count, c->want_count);
        ck_assert_msg(r.pstate == c->want_state, "%s: got state %d, want "
                      "%d", c->name, r.pstate, c->want_state);
    }
}
END_TEST

/* ---- replies ---------------------------------------------------- */

/* reply_forms - DUNNO, refusals, forged newlines, bad codes */
START_TEST(reply_forms)
{
    struct sg_verdict v;
    char buf[SG_POLICY_REPLY_MAX];
    size_t n;

    memset(&v, 0, sizeof(v));
    sg_verdict_accept(&v);
    n = sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "action=DUNNO\n\n");
    ck_assert_uint_eq(n, strlen(buf));

    sg_verdict_set(&v, SG_REJECT, 554, "5.7.1", "R2", "Message rejected: "
                   "Email address is not verified.");
    sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "action=554 5.7.1 Message rejected: Email "
                     "address is not verified.\n\n");

    sg_verdict_set(&v, SG_DEFER, 454, "4.7.0", "R4", "Throttling failure: "
                   "Daily message quota exceeded.");
    sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "action=454 4.7.0 Throttling failure: Daily "
                     "message quota exceeded.\n\n");

    /* A text cannot end the line or add an attribute. */
    sg_verdict_set(&v, SG_REJECT, 550, "5.1.1", "R5", "x\n\naction=OK\r");
    sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "action=550 5.1.1 x??action=OK?\n\n");

    /* A defer with a 5xx code (a bug elsewhere) still defers. */
    sg_verdict_set(&v, SG_DEFER, 550, "4.3.0", "R1", "odd");
    sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "action=451 4.3.0 odd\n\n");

    /* A longest text fits in SG_POLICY_REPLY_MAX. */
    sg_verdict_set(&v, SG_REJECT, 554, "5.7.1", "R2", "%0*d",
                   SG_VERDICT_TEXT_MAX - 1, 0);
    n = sg_policy_reply_buf(&v, buf, sizeof(buf));
    ck_assert_uint_gt(n, SG_VERDICT_TEXT_MAX);
    /* Too small a buffer: nothing, not a truncated reply. */
    ck_assert_uint_eq(sg_policy_reply_buf(&v, buf, 100), 0);
    ck_assert_str_eq(buf, "");

    n = sg_policy_action_buf("DEFER_IF_PERMIT", "4.3.0 sesgate: x", buf,
                             sizeof(buf));
    ck_assert_str_eq(buf, "action=DEFER_IF_PERMIT 4.3.0 sesgate: x\n\n");
}
END_TEST

/* ---- glue against a real store ---------------------------------- */

static char *tmpdir;
static SG_CONF *conf;
static struct sg_pd pd;

static const char state_json[] =
    "{ \"sesgate_state\": 1, \"regions\": {\n"
    "  \"us-east-1\": {\n"
    "    \"account\": { \"ProductionAccessEnabled\": false,\n"
    "      \"SendingEnabled\": true, \"SendQuota\": {\n"
    "        \"Max24HourSend\": 3, \"MaxSendRate\": 100,\n"
    "        \"SentLast24Hours\": 0 } },\n"
    "    \"identities\": [\n"
    "      { \"IdentityName\": \"example.com\", \"IdentityType\": \"DOMAIN\",\n"
    "        \"VerificationStatus\": \"SUCCESS\", \"SendingEnabled\": true }\n"
    "    ],\n"
    "    \"suppressed\": [ { \"EmailAddress\": \"gone@example.com\",\n"
    "        \"Reason\": \"BOUNCE\", \"LastUpdateTime\": 1761955200 } ]\n"
    "  } } }\n";

/* glue_setup - a store, embedded quota counters and a conf in tmpdir */
static void
glue_setup(void)
{
    char cbuf[4200], err[1024];
    SG_STATE *st;
    int n;

    tmpdir = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
    n = snprintf(cbuf, sizeof(cbuf), "default_region = us-east-1\n"
                 "state_dir = %s\n", tmpdir);
    conf = sg_conf_load_buf("policy.conf", cbuf, (size_t)n, err,
                            sizeof(err));
    ck_assert_msg(conf != NULL, "config: %s", err);
    st = sg_state_open(tmpdir, SG_STATE_CREATE, 64 << 20, err, sizeof(err));
    ck_assert_msg(st != NULL, "open: %s", err);
    ck_assert_msg(sg_state_import_buf(st, "state.json", state_json,
                                      strlen(state_json), err,
                                      sizeof(err)) == SG_OK,
                  "import: %s", err);
    sg_state_close(st);
    memset(&pd, 0, sizeof(pd));
    sg_pd_open(&pd, conf);
    ck_assert_ptr_nonnull(pd.state);
    ck_assert_msg(pd.quota != NULL, "quota: %s", pd.quota_err);
}

/* glue_teardown - remove it all */
static void
glue_teardown(void)
{
    sg_pd_close(&pd);
    sg_conf_free(conf);
    sg_test_rmtree(tmpdir);
    free(tmpdir);
}

/* starts - whether s begins with prefix */
static int
starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ask - one request text through parse and sg_pd_handle */
static const char *
ask(struct sg_pd_txn *t, const char *text)
{
    static char reply[SG_POLICY_REPLY_MAX];
    struct sg_policy_req r;
    char buf[2048];

    snprintf(buf, sizeof(buf), "%s\n", text);
    ck_assert_int_eq(sg_policy_parse(buf, strlen(buf), &r), SG_OK);
    ck_assert_uint_gt(sg_pd_handle(&pd, t, &r, reply, sizeof(reply)), 0);
    return reply;
}

#define RCPT(inst, from, to) \
    "protocol_state=RCPT\ninstance=" inst "\nsender=" from \
    "\nrecipient=" to "\n"
#define EOM(inst, from, n) \
    "protocol_state=END-OF-MESSAGE\ninstance=" inst "\nsender=" from \
    "\nrecipient_count=" n "\nsize=100\n"

/* glue_rules - DUNNO, R2, R3, R5, simulator, other states */
START_TEST(glue_rules)
{
    struct sg_pd_txn t;

    sg_pd_txn_init(&t, 1);
    ck_assert_str_eq(ask(&t, "protocol_state=CONNECT\n"),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, RCPT("i1", "a@example.com", "b@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, RCPT("i1", "a@example.com",
                                  "success@simulator.amazonses.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, RCPT("i1", "a@example.com", "x@other.test")),
                     "action=554 5.7.1 Message rejected: Email address is "
                     "not verified. The following identities failed the "
                     "check in region US-EAST-1: x@other.test\n\n");
    ck_assert_msg(starts(ask(&t, RCPT("i1", "a@example.com",
                                      "gone@example.com")),
                         "action=550 5.1.1 <gone@example.com> is on "
                         "the Amazon SES"),
                  "R5 reply");
    ck_assert_msg(starts(ask(&t, RCPT("i1", "a@unverified.test",
                                      "b@example.com")),
                         "action=554 5.7.1 Message rejected: Email address "
                         "is not verified."), "R2 reply");
    ck_assert_str_eq(ask(&t, "protocol_state=END-OF-MESSAGE\ninstance=i1\n"
                         "sender=a@example.com\nrecipient_count=2\n"
                         "size=999999999\n"),
                     "action=552 5.3.4 Message is too long.\n\n");
    sg_pd_txn_end(&pd, &t);
}
END_TEST

/* glue_quota - daily quota of 3: holds count, release on new instance
 * and on close, commits stay */
START_TEST(glue_quota)
{
    struct sg_pd_txn t, u;
    const char *daily = "action=454 4.7.0 Throttling failure: Daily "
                        "message quota exceeded.\n\n";

    sg_pd_txn_init(&t, 1);
    sg_pd_txn_init(&u, 2);
    /* Two held on t, one on u: the fourth is refused. */
    ck_assert_str_eq(ask(&t, RCPT("t1", "a@example.com", "r1@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, RCPT("t1", "a@example.com", "r2@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&u, RCPT("u1", "a@example.com", "r3@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&u, RCPT("u1", "a@example.com", "r4@example.com")),
                     daily);
    /* Simulator recipients do not count toward the daily quota. */
    ck_assert_str_eq(ask(&u, RCPT("u1", "a@example.com",
                                  "bounce@simulator.amazonses.com")),
                     "action=DUNNO\n\n");
    /* A new instance on t releases its two: room again. */
    ck_assert_str_eq(ask(&t, RCPT("t2", "a@example.com", "r5@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, EOM("t2", "a@example.com", "1")),
                     "action=DUNNO\n\n");
    /* Committed 1 + held 1 (u): one left. */
    ck_assert_str_eq(ask(&t, RCPT("t3", "a@example.com", "r6@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, RCPT("t3", "a@example.com", "r7@example.com")),
                     daily);
    /* Closing u releases its hold. */
    sg_pd_txn_end(&pd, &u);
    ck_assert_str_eq(ask(&t, RCPT("t3", "a@example.com", "r7@example.com")),
                     "action=DUNNO\n\n");
    ck_assert_str_eq(ask(&t, EOM("t3", "a@example.com", "2")),
                     "action=DUNNO\n\n");
    /* 3 committed: the window is full for everybody. */
    sg_pd_txn_init(&u, 3);
    ck_assert_str_eq(ask(&u, RCPT("u2", "a@example.com", "r8@example.com")),
                     daily);
    /* Without RCPT requests, END-OF-MESSAGE reserves and commits, and
     * defers when that does not fit. */
    ck_assert_str_eq(ask(&u, EOM("u3", "a@example.com", "1")), daily);
    sg_pd_txn_end(&pd, &t);
    sg_pd_txn_end(&pd, &u);
}
END_TEST

/* glue_limit - the 51st recipient of a message gets 452 4.5.3 */
START_TEST(glue_limit)
{
    struct sg_pd_txn t;
    char req[256];
    int i;

    sg_pd_txn_init(&t, 1);
    for (i = 0; i < 50; i++) {
        snprintf(req, sizeof(req), RCPT("m1", "a@example.com", "%s"),
                 "success@simulator.amazonses.com");
        ck_assert_str_eq(ask(&t, req), "action=DUNNO\n\n");
    }
    ck_assert_msg(starts(ask(&t, RCPT("m1", "a@example.com",
                                      "success@simulator.amazonses.com")),
                         "action=452 4.5.3 Too many recipients"),
                  "51st recipient");
    sg_pd_txn_end(&pd, &t);
}
END_TEST

/* glue_state_error - no store: DEFER_IF_PERMIT, or DUNNO with accept */
START_TEST(glue_state_error)
{
    struct sg_pd_txn t;
    char path[4200];

    sg_pd_close(&pd);
    snprintf(path, sizeof(path), "%s/state.mdb", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", tmpdir);
    unlink(path);
    memset(&pd, 0, sizeof(pd));
    sg_pd_open(&pd, conf);
    ck_assert_ptr_null(pd.state);
    sg_pd_txn_init(&t, 1);
    ck_assert_str_eq(ask(&t, RCPT("s1", "a@example.com", "b@example.com")),
                     "action=DEFER_IF_PERMIT 4.3.0 sesgate: state store "
                     "unavailable, try again later\n\n");
    free(conf->on_state_error);
    conf->on_state_error = strdup("accept");
    ck_assert_str_eq(ask(&t, RCPT("s1", "a@example.com", "b@example.com")),
                     "action=DUNNO\n\n");
    sg_pd_txn_end(&pd, &t);
}
END_TEST

Suite *
sg_policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc;

    tc = tcase_create("scan");
    tcase_add_loop_test(tc, scan_table, 0,
                        (int)(sizeof(scan_cases) / sizeof(scan_cases[0])));
    tcase_add_test(tc, scan_bytewise);
    tcase_add_test(tc, scan_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, parse_attrs);
    tcase_add_loop_test(tc, parse_table, 0,
                        (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_test(tc, reply_forms);
    suite_add_tcase(s, tc);

    tc = tcase_create("glue");
    tcase_add_checked_fixture(tc, glue_setup, glue_teardown);
    tcase_add_test(tc, glue_rules);
    tcase_add_test(tc, glue_quota);
    tcase_add_test(tc, glue_limit);
    tcase_add_test(tc, glue_state_error);
    suite_add_tcase(s, tc);
    return s;
}
