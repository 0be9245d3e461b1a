/*
 * check_decide.c - the decision function, rule by rule, on one snapshot
 *
 * The fixture imports tests/unit/data/decide.json (four regions: us-east-1
 * sandbox, eu-west-1 production with 2 of its daily quota left,
 * ap-south-1 paused, us-west-2 unlimited) into a private store and loads
 * a configuration with default_region = us-east-1 and a
 * sender_region_map that uses every key and value form.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "decide.h"
#include "check_suites.h"

static char *tmpdir;
static SG_CONF *conf;
static SG_STATE *state;
static SG_SNAP *snap;

static const char map_text[] =
    "# sender_region_map used by the decide suite\n"
    "@eu.example.com   [email-smtp.eu-west-1.amazonaws.com]:587\n"
    "boss@example.com  eu-west-1\n"
    "@example.com      us-east-1\n"
    "@ap.example.com   ap-south-1\n"
    "@nostate.example.com eu-north-1\n"
    "@oregon.example.com smtp:email-smtp.us-west-2.amazonaws.com\n";

/* setup - private store with the snapshot, config with the map */
static void
setup(void)
{
    char path[4096], cbuf[4200], err[1024];
    FILE *fp;
    int n;

    tmpdir = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
    snprintf(path, sizeof(path), "%s/map", tmpdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(map_text, fp);
    fclose(fp);
    n = snprintf(cbuf, sizeof(cbuf),
                 "default_region = us-east-1\n"
                 "sender_region_map = %s\n"
                 "state_dir = %s\n", path, tmpdir);
    conf = sg_conf_load_buf("decide.conf", cbuf, (size_t)n, err,
                            sizeof(err));
    ck_assert_msg(conf != NULL, "config: %s", err);
    state = sg_state_open(tmpdir, SG_STATE_CREATE, 64 << 20, err,
                          sizeof(err));
    ck_assert_msg(state != NULL, "open: %s", err);
    ck_assert_msg(sg_state_import_file(state, SG_TEST_DATA "/decide.json",
                                       err, sizeof(err)) == SG_OK,
                  "import: %s", err);
    snap = sg_snap_new(state);
    ck_assert_ptr_nonnull(snap);
    ck_assert_int_eq(sg_snap_begin(snap), SG_OK);
}

/* teardown - remove everything setup made */
static void
teardown(void)
{
    sg_snap_free(snap);
    sg_state_close(state);
    sg_conf_free(conf);
    sg_test_rmtree(tmpdir);
    free(tmpdir);
}

/*
 * One row: a message and what must come out. rcpts is a comma-separated
 * list; want_rcpt lists the expected reply code of each recipient,
 * space-separated. want_text must occur in the message verdict's text.
 */
struct decide_case {
    const char *name;
    const char *region;
    const char *from;
    const char *rcpts;
    const char *hdr_from;
    const char *hdr_sender;
    const char *hdr_rp;
    long long size;
    const char *cset;
    int want_code;
    const char *want_text;
    const char *want_rcpt;
    const char *want_region;
};

static const struct decide_case cases[] = {
    {"verified domain, verified recipient", NULL, "<a@example.com>",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"subdomain of verified domain", NULL, "a@x.y.example.com",
     "b@mail.example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"parent of verified subdomain is not covered", NULL, "a@example.org",
     "friend@example.com", NULL, NULL, NULL, -1, NULL, 554,
     "Message rejected: Email address is not verified. The following "
     "identities failed the check in region US-EAST-1: a@example.org",
     "250", "us-east-1"},
    {"verified subdomain itself", NULL, "a@deep.sub.example.org",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"address identity: local part is case-sensitive", NULL,
     "alice@example.net", "friend@example.com", NULL, NULL, NULL, -1, NULL,
     554, "in region US-EAST-1: alice@example.net", "250", "us-east-1"},
    {"address identity: domain is case-insensitive", NULL,
     "Alice@EXAMPLE.net", "friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"address identity covers +label", NULL, "Alice+news@example.net",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"PENDING domain does not count", NULL, "x@pending.example",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     554, "US-EAST-1: x@pending.example", "250", "us-east-1"},
    {"verified address under a PENDING domain", NULL, "bob@pending.example",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-east-1"},
    {"FAILED domain does not count", NULL, "x@failed.example",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     554, "x@failed.example", "250", "us-east-1"},
    {"TEMPORARY_FAILURE does not count", NULL, "x@tempfail.example",
     "friend@example.com", NULL, NULL, NULL, -1, NULL,
     554, "x@tempfail.example", "250", "us-east-1"},
    {"sending-disabled identity does not count", NULL,
     "x@disabled.example", "friend@example.com", NULL, NULL, NULL, -1,
     NULL, 554, "x@disabled.example", "250", "us-east-1"},
    {"IDN sender domain compared in Punycode", NULL,
     "a@b\xc3\xbc" "cher.example", "friend@example.com", NULL, NULL, NULL,
     -1, NULL, 250, "", "250", "us-east-1"},
    {"sandbox: unverified recipient refused", NULL, "a@example.com",
     "stranger@other.test", NULL, NULL, NULL, -1, NULL, 554,
     "failed the check in region US-EAST-1: stranger@other.test", "554",
     "us-east-1"},
    {"sandbox: one good recipient is enough", NULL, "a@example.com",
     "friend@example.com,stranger@other.test", NULL, NULL, NULL, -1, NULL,
     250, "", "250 554", "us-east-1"},
    {"sandbox: mailbox simulator allowed, labels too", NULL,
     "a@example.com",
     "success@simulator.amazonses.com,bounce+x@SIMULATOR.amazonses.com",
     NULL, NULL, NULL, -1, NULL, 250, "", "250 250", "us-east-1"},
    {"suppressed in the region", NULL, "a@example.com",
     "gone@example.com", NULL, NULL, NULL, -1, NULL, 550,
     "is on the Amazon SES account-level suppression list in region "
     "us-east-1 (reason BOUNCE, since 2026-11-01T00:00:00Z)", "550",
     "us-east-1"},
    {"suppression matches without regard to case", NULL, "a@example.com",
     "GONE@Example.COM,friend@example.com", NULL, NULL, NULL, -1, NULL,
     250, "", "550 250", "us-east-1"},
    {"suppression is per region", NULL, "a@eu.example.com",
     "gone@example.com,complained@example.org", NULL, NULL, NULL, -1, NULL,
     250, "", "250 550", "eu-west-1"},
    {"region from relay host; production; daily quota runs out", NULL,
     "a@eu.example.com", "r1@x.test,r2@x.test,r3@x.test", NULL, NULL, NULL,
     -1, NULL, 250, "", "250 250 454", "eu-west-1"},
    {"spent quota defers the message", NULL, "a@eu.example.com",
     "r1@x.test,r2@x.test,r3@x.test,gone2@x.test,r4@x.test", NULL, NULL,
     NULL, -1, NULL, 250, "", "250 250 454 454 454", "eu-west-1"},
    {"region from map by address", NULL, "boss@example.com",
     "anyone@elsewhere.test", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "eu-west-1"},
    {"region with no state is deferred", NULL, "a@nostate.example.com",
     "friend@example.com", NULL, NULL, NULL, -1, NULL, 451,
     "no SES state for region eu-north-1", "451", "eu-north-1"},
    {"unknown explicit region is deferred", "mars-north-1",
     "a@example.com", "friend@example.com", NULL, NULL, NULL, -1, NULL,
     451, "unknown SES region", "451", NULL},
    {"explicit region wins over the map", "eu-west-1", "a@example.com",
     "anyone@elsewhere.test", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "eu-west-1"},
    {"paused sending is refused naming the region", NULL,
     "a@ap.example.com", "friend@example.com", NULL, NULL, NULL, -1, NULL,
     554, "Account is paused: sending is disabled in region AP-SOUTH-1",
     "250", "ap-south-1"},
    {"unlimited quota (-1), relay host with transport", NULL,
     "a@oregon.example.com", "x@y.test", NULL, NULL, NULL, -1, NULL,
     250, "", "250", "us-west-2"},
    {"null sender: header From still checked (ok)", NULL, "<>",
     "friend@example.com", "Sales <sales@example.com>", NULL, NULL, -1,
     NULL, 250, "", "250", "us-east-1"},
    {"null sender: unverified From with display name", NULL, "<>",
     "friend@example.com", "Ann Mathon <ann@evil.test>", NULL, NULL, -1,
     NULL, 554, "US-EAST-1: Ann Mathon <ann@evil.test>, ann@evil.test",
     "250", "us-east-1"},
    {"From group and mailbox-list: every address checked", NULL,
     "a@example.com", "friend@example.com",
     "Team: a@example.com, b@unverified.test;, c@example.com", NULL, NULL,
     -1, NULL, 554, "US-EAST-1: b@unverified.test", "250", "us-east-1"},
    {"envelope and header identities listed together", NULL,
     "x@bad.test", "friend@example.com", "X <y@bad2.test>", NULL, NULL, -1,
     NULL, 554, "US-EAST-1: x@bad.test, X <y@bad2.test>, y@bad2.test",
     "250", "us-east-1"},
    {"same address in envelope and From listed once", NULL, "x@bad.test",
     "friend@example.com", "x@bad.test", NULL, NULL, -1, NULL, 554,
     "US-EAST-1: x@bad.test", "250", "us-east-1"},
    {"Sender header checked", NULL, "a@example.com", "friend@example.com",
     "a@example.com", "agent@unverified.test", NULL, -1, NULL, 554,
     "US-EAST-1: agent@unverified.test", "250", "us-east-1"},
    {"Return-Path header checked", NULL, "a@example.com",
     "friend@example.com", NULL, NULL, "<bounces@unverified.test>", -1,
     NULL, 554, "US-EAST-1: bounces@unverified.test", "250", "us-east-1"},
    {"size at the limit", NULL, "a@example.com", "friend@example.com",
     NULL, NULL, NULL, 40000000, NULL, 250, "", "250", "us-east-1"},
    {"size over the limit", NULL, "a@example.com", "friend@example.com",
     NULL, NULL, NULL, 40000001, NULL, 552, "Message is too long.", "250",
     "us-east-1"},
    {"configuration set exists in the region", NULL, "a@example.com",
     "friend@example.com", NULL, NULL, NULL, -1, "transactional",
     250, "", "250", "us-east-1"},
    {"configuration set of another region", NULL, "a@example.com",
     "friend@example.com", NULL, NULL, NULL, -1, "marketing", 554,
     "Configuration set does not exist: marketing in region US-EAST-1",
     "250", "us-east-1"},
    {"non-ASCII local part refused", NULL, "a@example.com",
     "j\xc3\xb6rg@example.com,friend@example.com", NULL, NULL, NULL, -1,
     NULL, 250, "", "553 250", "us-east-1"},
    {"unparsable sender refused", NULL, "a b@c", "friend@example.com",
     NULL, NULL, NULL, -1, NULL, 553, "Invalid email address", "250",
     "us-east-1"},
};

/* split_rcpts - comma-separated list into a new array of new strings */
static size_t
split_rcpts(const char *list, char ***out)
{
    char *copy = strdup(list), *p, *save = NULL;
    size_t n = 0;

    *out = calloc(64, sizeof(char *));
    for (p = strtok_r(copy, ",", &save); p != NULL && n < 64;
         p = strtok_r(NULL, ",", &save))
        (*out)[n++] = strdup(p);
    free(copy);
    return n;
}

START_TEST(decide_table)
{
    const struct decide_case *c = &cases[_i];
    struct sg_msg msg;
    struct sg_decision d;
    char **rcpts, got[512];
    size_t n, i, len = 0;

    memset(&msg, 0, sizeof(msg));
    n = split_rcpts(c->rcpts, &rcpts);
    msg.region = c->region;
    msg.env_from = c->from;
    msg.rcpts = (const char *const *)rcpts;
    msg.nrcpt = n;
    msg.hdr_from = c->hdr_from;
    msg.hdr_sender = c->hdr_sender;
    msg.hdr_return_path = c->hdr_rp;
    msg.size = c->size;
    msg.config_set = c->cset;
    msg.explain = 1;
    ck_assert_int_eq(sg_decide(conf, snap, &msg, &d), SG_OK);
    ck_assert_msg(d.message.code == c->want_code,
                  "%s: message got %d %s %s, want %d", c->name,
                  d.message.code, d.message.enhanced, d.message.text,
                  c->want_code);
    ck_assert_msg(strstr(d.message.text, c->want_text) != NULL,
                  "%s: message text got \"%s\", want it to contain \"%s\"",
                  c->name, d.message.text, c->want_text);
    got[0] = '\0';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%d",
                                i ? " " : "", d.rcpt[i].code);
    ck_assert_msg(strcmp(got, c->want_rcpt) == 0,
                  "%s: recipient codes got \"%s\", want \"%s\"", c->name,
                  got, c->want_rcpt);
    if (c->want_region != NULL)
        ck_assert_msg(d.region != NULL
                      && strcmp(d.region->name, c->want_region) == 0,
                      "%s: region got %s, want %s", c->name,
                      d.region ? d.region->name : "(none)",
                      c->want_region);
    ck_assert_int_eq(d.relayed > 0, c->want_code == 250);
    /* Every verdict explains itself. */
    ck_assert_msg(d.message.why[0] != '\0', "%s: no explanation",
                  c->name);
    sg_decision_clear(&d);
    for (i = 0; i < n; i++)
        free(rcpts[i]);
    free(rcpts);
}
END_TEST

/* fifty_one - the 51st recipient gets 452 4.5.3; refused ones do not
 * count toward the 50 */
START_TEST(fifty_one)
{
    char *rcpts[53];
    struct sg_msg msg;
    struct sg_decision d;
    size_t i;
    SG_CONF *c2;
    char err[256];
    char cbuf[512];
    int n;

    /* eu-west-1 has 2 left of its daily quota: use the unlimited
     * us-west-2 so that only the recipient limit speaks. */
    for (i = 0; i < 53; i++) {
        rcpts[i] = malloc(32);
        snprintf(rcpts[i], 32, "r%zu@x.test", i);
    }
    /* One refused recipient among the first 51 does not use a slot. */
    strcpy(rcpts[3], "j\xc3\xb6rg@x.test");
    memset(&msg, 0, sizeof(msg));
    msg.region = "us-west-2";
    msg.env_from = "a@example.com";
    msg.rcpts = (const char *const *)rcpts;
    msg.nrcpt = 53;
    msg.size = -1;
    ck_assert_int_eq(sg_decide(conf, snap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.rcpt[3].code, 553);
    ck_assert_int_eq(d.rcpt[50].code, 250);
    ck_assert_int_eq(d.rcpt[51].code, 452);
    ck_assert_str_eq(d.rcpt[51].enhanced, "4.5.3");
    ck_assert_int_eq(d.rcpt[52].code, 452);
    ck_assert_int_eq(d.relayed, 50);
    sg_decision_clear(&d);

    /* A lower max_recipients is honoured. */
    n = snprintf(cbuf, sizeof(cbuf), "max_recipients = 2\n");
    c2 = sg_conf_load_buf("c2", cbuf, (size_t)n, err, sizeof(err));
    ck_assert_ptr_nonnull(c2);
    msg.nrcpt = 3;
    strcpy(rcpts[3], "r3@x.test");
    ck_assert_int_eq(sg_decide(c2, snap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.rcpt[1].code, 250);
    ck_assert_int_eq(d.rcpt[2].code, 452);
    sg_decision_clear(&d);
    sg_conf_free(c2);
    for (i = 0; i < 53; i++)
        free(rcpts[i]);
}
END_TEST

/* no_region - no map entry and no default_region: deferred */
START_TEST(no_region)
{
    SG_CONF *c2 = sg_conf_defaults();
    struct sg_msg msg;
    struct sg_decision d;
    const char *rcpt = "a@example.com";

    ck_assert_ptr_nonnull(c2);
    memset(&msg, 0, sizeof(msg));
    msg.env_from = "a@example.com";
    msg.rcpts = &rcpt;
    msg.nrcpt = 1;
    msg.size = -1;
    ck_assert_int_eq(sg_decide(c2, snap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.action, SG_DEFER);
    ck_assert_int_eq(d.message.code, 451);
    ck_assert_str_eq(d.message.enhanced, "4.3.0");
    ck_assert_int_eq(d.rcpt[0].code, 451);
    ck_assert_int_eq(d.relayed, 0);
    sg_decision_clear(&d);
    sg_conf_free(c2);
}
END_TEST

/* stages - the stage functions give what sg_decide gives */
START_TEST(stages)
{
    const struct sg_region *r;
    struct sg_verdict v;

    ck_assert_int_eq(sg_decide_region(conf, snap, NULL, "<a@eu.example.com>",
                                      &r, &v), SG_OK);
    ck_assert_int_eq(v.action, SG_ACCEPT);
    ck_assert_str_eq(r->name, "eu-west-1");
    ck_assert_int_eq(sg_decide_sender(conf, snap, r, "<>", &v), SG_OK);
    ck_assert_int_eq(v.action, SG_ACCEPT);
    ck_assert_int_eq(sg_decide_rcpt(conf, snap, r, "<x@y.test>", 0, 1, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 250);
    /* 49998 sent + 2 reserved: over by the snapshot's figure, but the
     * stage leaves the daily quota to the engine (sg_decide_reserve,
     * test quota_engine), which ages a stale SentLast24Hours out. */
    ck_assert_int_eq(sg_decide_rcpt(conf, snap, r, "<x@y.test>", 2, 2, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 250);
    /* Simulator recipients do not count toward the daily quota. */
    ck_assert_int_eq(sg_decide_rcpt(conf, snap, r,
                                    "success@simulator.amazonses.com", 2,
                                    2, &v), SG_OK);
    ck_assert_int_eq(v.code, 250);
    sg_decide_size(conf, -1, &v);
    ck_assert_int_eq(v.action, SG_ACCEPT);
}
END_TEST

/* codes - the recipient reply codes of a decision, space-separated */
static const char *
codes(const struct sg_decision *d, char *buf, size_t size)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < d->nrcpt && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d",
                                i ? " " : "", d->rcpt[i].code);
    return buf;
}

/* check_with - sg_decide with the quota engine; recipient codes */
static const char *
check_with(SG_QUOTA *q, const char *from, const char *const *rcpts,
           size_t n, long long now, char *buf, size_t size)
{
    struct sg_msg msg;
    struct sg_decision d;

    memset(&msg, 0, sizeof(msg));
    msg.env_from = from;
    msg.rcpts = rcpts;
    msg.nrcpt = n;
    msg.size = -1;
    msg.quota = q;
    msg.now = now;
    ck_assert_int_eq(sg_decide(conf, snap, &msg, &d), SG_OK);
    codes(&d, buf, size);
    sg_decision_clear(&d);
    return buf;
}

/*
 * The quota engine: sg_decide pre-checks without consuming;
 * sg_decide_reserve holds and defers with SES's texts (R4).
 */
START_TEST(quota_engine)
{
    static const char *const three[] = { "r1@x.test", "r2@x.test",
                                         "r3@x.test" };
    static const char *const eleven[] = {
        "a1@x.test", "a2@x.test", "a3@x.test", "a4@x.test", "a5@x.test",
        "a6@x.test", "a7@x.test", "a8@x.test", "a9@x.test", "a10@x.test",
        "a11@x.test" };
    const struct sg_region *r;
    struct sg_verdict v;
    char err[512], got[256];
    SG_QUOTA *q = sg_quota_open(conf, err, sizeof(err));
    long long t = sg_snap_imported_at(snap) * 1000 + 1000;
    int i;

    ck_assert_msg(q != NULL, "quota: %s", err);
    /* eu-west-1: 2 left. The pre-check consumes nothing. */
    ck_assert_str_eq(check_with(q, "a@eu.example.com", three, 3, 0, got,
                                sizeof(got)), "250 250 454");
    ck_assert_str_eq(check_with(q, "a@eu.example.com", three, 3, 0, got,
                                sizeof(got)), "250 250 454");
    ck_assert_int_eq(sg_decide_region(conf, snap, NULL, "a@eu.example.com",
                                      &r, &v), SG_OK);
    ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "m1", 2, 2, t, &v),
                     SG_OK);
    ck_assert_msg(v.code == 250, "got %d, want 250", v.code);
    ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "m2", 1, 1, t, &v),
                     SG_OK);
    ck_assert_msg(v.code == 454, "got %d, want 454", v.code);
    ck_assert_str_eq(v.enhanced, "4.7.0");
    ck_assert_str_eq(v.rule, "R4");
    ck_assert_str_eq(v.text,
                     "Throttling failure: Daily message quota exceeded.");
    ck_assert_int_eq(sg_decide_commit(q, r, "m1", -1, -1, t), SG_OK);
    ck_assert_str_eq(check_with(q, "a@eu.example.com", three, 3, 0, got,
                                sizeof(got)), "454 454 454");
    /* Simulator units still pass a spent daily quota. */
    ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "m3", 1, 0,
                                       t + 2000, &v), SG_OK);
    ck_assert_msg(v.code == 250, "got %d, want 250", v.code);
    ck_assert_int_eq(sg_decide_release(q, r, "m3", t + 2000), SG_OK);

    /* us-west-2: unlimited, 10 per second; a message of 11 passes the
     * pre-check (the daemons hold per recipient). */
    ck_assert_str_eq(check_with(q, "a@oregon.example.com", eleven, 11, 0,
                                got, sizeof(got)),
                     "250 250 250 250 250 250 250 250 250 250 250");
    ck_assert_int_eq(sg_decide_region(conf, snap, NULL,
                                      "a@oregon.example.com", &r, &v),
                     SG_OK);
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "m4", 1, 1, t,
                                           &v), SG_OK);
        ck_assert_msg(v.code == 250, "got %d, want 250", v.code);
    }
    ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "m4", 1, 1, t, &v),
                     SG_OK);
    ck_assert_str_eq(v.text,
                     "Throttling failure: Maximum sending rate exceeded.");
    /* With the bucket empty the pre-check defers for the rate. */
    ck_assert_str_eq(check_with(q, "a@oregon.example.com", eleven, 2,
                                t / 1000, got, sizeof(got)), "454 454");
    /* Bad arguments are the caller's; no quota is a usage error. */
    ck_assert_int_eq(sg_decide_reserve(conf, snap, NULL, r, "m5", 1, 1, t,
                                       &v), SG_ERR_USAGE);
    ck_assert_int_eq(sg_decide_reserve(conf, snap, q, r, "bad txn", 1, 1, t,
                                       &v), SG_ERR_USAGE);
    sg_quota_close(q);
}
END_TEST

/* X-SES-MESSAGE-TAGS syntax (R11). */
static const struct {
    const char *in;
    int want;
} tag_rows[] = {
    { "a=b", 1 },
    { "  a=b ,c=d  ", 1 },
    { "name=value,\n\tother=x", 1 },
    { "A-Z_09=v-_", 1 },
    { "", 0 },
    { " ", 0 },
    { "a", 0 },
    { "=b", 0 },
    { "a=b,", 0 },
    { "a=b,,c=d", 0 },
    { "a=b c=d", 0 },
    { "a.b=c", 0 },
    { "a=b;c", 0 },
    { "caf\xc3\xa9=x", 0 },
};

START_TEST(tags_syntax)
{
    char why[160] = "";
    struct sg_verdict v;
    int got = sg_tags_check(tag_rows[_i].in, why, sizeof(why));

    ck_assert_msg(got == tag_rows[_i].want, "'%s': got %d, want %d (%s)",
                  tag_rows[_i].in, got, tag_rows[_i].want, why);
    memset(&v, 0, sizeof(v));
    sg_decide_tags(tag_rows[_i].in, &v);
    ck_assert_int_eq(v.code, got ? 250 : 554);
    if (!got) {
        ck_assert_str_eq(v.enhanced, "5.6.0");
        ck_assert_str_eq(v.rule, "R11");
        ck_assert_msg(strncmp(v.text, "Message rejected: invalid "
                              "X-SES-MESSAGE-TAGS header: ", 53) == 0,
                      "text '%s'", v.text);
    }
}
END_TEST

START_TEST(tags_bounds)
{
    char buf[600];
    struct sg_verdict v;
    size_t i, o = 0;

    memset(buf, 'n', 256);
    buf[256] = '=';
    buf[257] = 'v';
    buf[258] = '\0';
    ck_assert_int_eq(sg_tags_check(buf, NULL, 0), 1);
    memset(buf, 'n', 257);
    buf[257] = '=';
    buf[258] = 'v';
    buf[259] = '\0';
    ck_assert_int_eq(sg_tags_check(buf, NULL, 0), 0);
    /* 50 tags pass, 51 do not. */
    for (i = 0; i < 51; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%st%zu=v",
                              i ? "," : "", i);
    ck_assert_int_eq(sg_tags_check(buf, NULL, 0), 0);
    *strrchr(buf, ',') = '\0';
    ck_assert_int_eq(sg_tags_check(buf, NULL, 0), 1);
    /* An absent header is no refusal. */
    memset(&v, 0, sizeof(v));
    sg_decide_tags(NULL, &v);
    ck_assert_int_eq(v.code, 250);
}
END_TEST

/* SES's single-instance headers (R11: refused when repeated). */
static const struct {
    const char *name;
    const char *canon;          /* NULL: may repeat */
} single_rows[] = {
    { "From", "From" },
    { "fROM", "From" },
    { "Sender", "Sender" },
    { "Return-Path", "Return-Path" },
    { "x-ses-configuration-set", "X-SES-CONFIGURATION-SET" },
    { "X-SES-MESSAGE-TAGS", "X-SES-MESSAGE-TAGS" },
    { "Subject", "Subject" },
    { "message-id", "Message-ID" },
    { "DKIM-Signature", "DKIM-Signature" },
    { "Received", NULL },
    { "To", NULL },
    { "Cc", NULL },
    { "X-SES-SOURCE-ARN", NULL },
    { "From2", NULL },
    { "", NULL },
};

START_TEST(header_repeat)
{
    struct sg_verdict v;
    int idx = sg_hdr_single_index(single_rows[_i].name);
    char want[160];

    memset(&v, 0, sizeof(v));
    sg_decide_header_repeat(single_rows[_i].name, &v);
    if (single_rows[_i].canon == NULL) {
        ck_assert_int_eq(idx, -1);
        ck_assert_int_eq(v.code, 250);
        return;
    }
    ck_assert_int_ge(idx, 0);
    ck_assert_int_lt(idx, SG_HDR_SINGLE_MAX);
    ck_assert_str_eq(sg_hdr_single_name(idx), single_rows[_i].canon);
    ck_assert_int_eq(v.code, 554);
    ck_assert_str_eq(v.enhanced, "5.6.0");
    ck_assert_str_eq(v.rule, "R11");
    snprintf(want, sizeof(want), "Message rejected: the %s header may not "
             "appear more than once", single_rows[_i].canon);
    ck_assert_str_eq(v.text, want);
}
END_TEST

Suite *
sg_decide_suite(void)
{
    Suite *s = suite_create("decide");
    TCase *tc = tcase_create("rules");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, decide_table, 0,
                        (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, fifty_one);
    tcase_add_test(tc, no_region);
    tcase_add_test(tc, stages);
    tcase_add_test(tc, quota_engine);
    suite_add_tcase(s, tc);
    tc = tcase_create("headers_r11");
    tcase_add_loop_test(tc, tags_syntax, 0,
                        (int)(sizeof(tag_rows) / sizeof(tag_rows[0])));
    tcase_add_test(tc, tags_bounds);
    tcase_add_loop_test(tc, header_repeat, 0,
                        (int)(sizeof(single_rows) / sizeof(single_rows[0])));
    suite_add_tcase(s, tc);
    return s;
}
