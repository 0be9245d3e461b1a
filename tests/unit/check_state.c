/*
 * check_state.c - unit suite of the state store (state.c, suppress.c)
 */

/* System headers. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "state.h"
#include "state_int.h"
#include "check_suites.h"

#ifndef SG_TEST_DATA
#define SG_TEST_DATA "tests/unit/data"
#endif

static char *tmpdir;
static SG_STATE *st;
static SG_SNAP *snap;
static long long import_time;

static long long supp_count(const char *region);
static int is_suppressed(const char *region, const char *addr);

/* path_in - a file name in the test directory */
static const char *
path_in(const char *name)
{
    static char buf[4096];

    snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
    return buf;
}

/* data_file - a file name in the test data directory */
static const char *
data_file(const char *name)
{
    static char buf[4096];

    snprintf(buf, sizeof(buf), "%s/%s", SG_TEST_DATA, name);
    return buf;
}

/* write_file - create a test file with the given contents */
static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    ck_assert_msg(fp != NULL, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* read_all - a whole file as a new string */
static char *
read_all(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf;
    long n;

    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq((long)fread(buf, 1, (size_t)n, fp), n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* setup - a fresh store holding state-basic.json */
static void
setup(void)
{
    char err[512] = "";
    SG_STATUS s;

    tmpdir = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
    st = sg_state_open(path_in("state"), SG_STATE_CREATE, 0, err,
                       sizeof(err));
    ck_assert_msg(st != NULL, "open: %s", err);
    import_time = (long long)time(NULL);
    s = sg_state_import_file(st, data_file("state-basic.json"), err,
                             sizeof(err));
    ck_assert_msg(s == SG_OK, "import: got %s (%s), want OK",
                  sg_strerror(s), err);
    snap = sg_snap_new(st);
    ck_assert_ptr_nonnull(snap);
}

/* teardown - remove everything setup made */
static void
teardown(void)
{
    snap = sg_snap_free(snap);
    st = sg_state_close(st);
    sg_test_rmtree(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
}

/* begin - start a snapshot or fail the test */
static void
begin(void)
{
    SG_STATUS s = sg_snap_begin(snap);

    ck_assert_msg(s == SG_OK, "begin: got %s, want OK (%s)", sg_strerror(s),
                  sg_snap_error(snap));
}

/* Lookups against state-basic.json. */
static const struct lookup_row {
    const char *region;
    char kind;                  /* i identity, s suppressed, c set, a acct */
    const char *name;
    SG_STATUS want;
    long long n1;               /* verified / reason / production */
    long long n2;               /* sending / updated / max_24h */
    const char *text;           /* status / address */
} lookup_rows[] = {
    { "us-east-1", 'i', "example.com", SG_OK, 1, 1, "SUCCESS" },
    { "us-east-1", 'i', "EXAMPLE.Com", SG_OK, 1, 1, "SUCCESS" },
    { "us-east-1", 'i', "Alice@example.org", SG_OK, 0, 1, "PENDING" },
    { "us-east-1", 'i', "Alice@EXAMPLE.ORG", SG_OK, 0, 1, "PENDING" },
    { "us-east-1", 'i', "alice@example.org", SG_ERR_NOTFOUND, 0, 0, "" },
    { "us-east-1", 'i', "paused.example.net", SG_OK, 1, 0, "SUCCESS" },
    { "US-EAST-1", 'i', "example.com", SG_OK, 1, 1, "SUCCESS" },
    { "eu-west-1", 'i', "Alice@example.org", SG_ERR_NOTFOUND, 0, 0, "" },
    { "ap-south-1", 'i', "example.com", SG_ERR_NOTFOUND, 0, 0, "" },
    { "us-east-1", 'i', "", SG_ERR_NOTFOUND, 0, 0, "" },
    { "us-east-1", 's', "gone@example.net", SG_OK, SG_SUPP_BOUNCE,
      1793491200, "Gone@Example.NET" },
    { "us-east-1", 's', "GONE@EXAMPLE.NET", SG_OK, SG_SUPP_BOUNCE,
      1793491200, "Gone@Example.NET" },
    { "us-east-1", 's', "angry@example.net", SG_OK, SG_SUPP_COMPLAINT,
      1700000000, "angry@example.net" },
    { "eu-west-1", 's', "Gone@example.net", SG_OK, SG_SUPP_COMPLAINT,
      1790850600, "gone@example.net" },
    { "us-east-1", 's', "nobody@example.net", SG_ERR_NOTFOUND, 0, 0, "" },
    { "eu-west-1", 's', "angry@example.net", SG_ERR_NOTFOUND, 0, 0, "" },
    { "us-east-1", 'c', "transactional", SG_OK, 0, 0, "" },
    { "us-east-1", 'c', "Marketing", SG_OK, 0, 0, "" },
    { "us-east-1", 'c', "Transactional", SG_ERR_NOTFOUND, 0, 0, "" },
    { "eu-west-1", 'c', "transactional", SG_OK, 0, 0, "" },
    { "eu-west-1", 'c', "Marketing", SG_ERR_NOTFOUND, 0, 0, "" },
    { "us-east-1", 'a', NULL, SG_OK, 0, 200, "3/2/2" },
    { "eu-west-1", 'a', NULL, SG_OK, 1, 50000, "1/1/1" },
    { "ap-south-1", 'a', NULL, SG_ERR_NOTFOUND, 0, 0, "" },
};

START_TEST(test_lookup)
{
    const struct lookup_row *r = &lookup_rows[_i];
    struct sg_identity id;
    struct sg_suppressed sp;
    struct sg_account ac;
    char counts[64];
    SG_STATUS s = SG_OK;

    begin();
    switch (r->kind) {
    case 'i':
        s = sg_snap_identity(snap, r->region, r->name, &id);
        if (s == SG_OK && r->want == SG_OK) {
            ck_assert_msg(id.verified == r->n1 && id.sending_enabled == r->n2,
                          "%s: got verified %d sending %d, want %lld %lld",
                          r->name, id.verified, id.sending_enabled, r->n1,
                          r->n2);
            ck_assert_msg(strcmp(id.status, r->text) == 0,
                          "%s: got %s, want %s", r->name, id.status, r->text);
        }
        break;
    case 's':
        s = sg_snap_suppressed(snap, r->region, r->name, &sp);
        if (s == SG_OK && r->want == SG_OK) {
            ck_assert_msg(sp.reason == r->n1 && sp.updated == r->n2,
                          "%s: got %s %lld, want %s %lld", r->name,
                          sg_supp_reason_name(sp.reason), sp.updated,
                          sg_supp_reason_name((int)r->n1), r->n2);
            ck_assert_msg(strcmp(sp.address, r->text) == 0,
                          "%s: got %s, want %s", r->name, sp.address,
                          r->text);
        }
        break;
    case 'c':
        s = sg_snap_config_set(snap, r->region, r->name);
        break;
    default:
        s = sg_snap_account(snap, r->region, &ac);
        if (s == SG_OK && r->want == SG_OK) {
            snprintf(counts, sizeof(counts), "%lld/%lld/%lld",
                     ac.identities, ac.suppressed, ac.config_sets);
            ck_assert_msg(ac.production == r->n1
                          && (long long)ac.max_24h == r->n2,
                          "%s: got production %d max %g, want %lld %lld",
                          r->region, ac.production, ac.max_24h, r->n1,
                          r->n2);
            ck_assert_msg(strcmp(counts, r->text) == 0,
                          "%s: got %s, want %s", r->region, counts, r->text);
            ck_assert_msg(ac.sending_enabled == 1, "got %d, want 1",
                          ac.sending_enabled);
        }
        break;
    }
    ck_assert_msg(s == r->want, "%c %s %s: got %s, want %s", r->kind,
                  r->region, r->name ? r->name : "", sg_strerror(s),
                  sg_strerror(r->want));
    sg_snap_end(snap);
}
END_TEST

START_TEST(test_regions_imported_at)
{
    char regions[4][SG_REGION_MAX + 1];
    size_t n;
    long long t;

    begin();
    n = sg_snap_regions(snap, regions, 4);
    ck_assert_msg(n == 2, "got %zu regions, want 2", n);
    ck_assert_msg(strcmp(regions[0], "eu-west-1") == 0
                  && strcmp(regions[1], "us-east-1") == 0,
                  "got %s,%s, want eu-west-1,us-east-1", regions[0],
                  regions[1]);
    ck_assert_msg(sg_snap_regions(snap, regions, 1) == 2,
                  "got a short count, want 2");
    t = sg_snap_imported_at(snap);
    ck_assert_msg(t >= import_time && t <= (long long)time(NULL),
                  "got imported_at %lld, want about %lld", t, import_time);
    sg_snap_end(snap);
}
END_TEST

/* Snapshots that must be refused, leaving the old state. */
static const struct bad_row {
    const char *file;
    SG_STATUS want;
    const char *want_err;       /* substring of the error */
} bad_rows[] = {
    { "bad-syntax.json", SG_ERR_SYNTAX, "bad-syntax.json:5:" },
    { "bad-type.json", SG_ERR_INVALID,
      "bad-type.json: regions.us-east-1.account.SendQuota.Max24HourSend: "
      "expected a number" },
    { "bad-region.json", SG_ERR_INVALID,
      "regions.mars-north-1: unknown SES region" },
    { "bad-dup-identity.json", SG_ERR_INVALID,
      "duplicate identity dup.example" },
    { "bad-dup-suppressed.json", SG_ERR_INVALID,
      "duplicate address" },
    { "bad-version.json", SG_ERR_INVALID, "sesgate_state: expected 1" },
    { "bad-supp-type.json", SG_ERR_INVALID,
      "regions.us-east-1.suppressed[1].EmailAddress: expected a string" },
    { "bad-supp-syntax.json", SG_ERR_SYNTAX, "bad-supp-syntax.json:4:44:" },
    { "bad-reason.json", SG_ERR_INVALID,
      "regions.us-east-1.suppressed[0].Reason" },
    { "no-such-file.json", SG_ERR_IO, "no-such-file.json" },
};

/* assert_old_state - state-basic.json still answers */
static void
assert_old_state(const char *after)
{
    struct sg_identity id;
    struct sg_suppressed sp;
    SG_STATUS s;

    begin();
    s = sg_snap_identity(snap, "us-east-1", "example.com", &id);
    ck_assert_msg(s == SG_OK, "after %s: got %s, want OK", after,
                  sg_strerror(s));
    s = sg_snap_suppressed(snap, "eu-west-1", "gone@example.net", &sp);
    ck_assert_msg(s == SG_OK, "after %s: got %s, want OK", after,
                  sg_strerror(s));
    s = sg_snap_identity(snap, "us-east-1", "dup.example", &id);
    ck_assert_msg(s == SG_ERR_NOTFOUND, "after %s: got %s, want %s", after,
                  sg_strerror(s), sg_strerror(SG_ERR_NOTFOUND));
    sg_snap_end(snap);
}

START_TEST(test_bad_snapshot)
{
    const struct bad_row *r = &bad_rows[_i];
    char err[512] = "";
    SG_STATUS s;

    s = sg_state_import_file(st, data_file(r->file), err, sizeof(err));
    ck_assert_msg(s == r->want, "%s: got %s, want %s (%s)", r->file,
                  sg_strerror(s), sg_strerror(r->want), err);
    ck_assert_msg(strstr(err, r->want_err) != NULL, "%s: got %s, want %s",
                  r->file, err, r->want_err);
    assert_old_state(r->file);
}
END_TEST

/* In-memory snapshots that must be refused. */
static const struct bad_buf_row {
    const char *text;
    SG_STATUS want;
    const char *want_err;
} bad_buf_rows[] = {
    { "", SG_ERR_SYNTAX, "mem:1:" },
    { "[]", SG_ERR_INVALID, "mem: top level: expected an object" },
    { "{\"sesgate_state\": 1}", SG_ERR_INVALID, "mem: regions: expected" },
    { "{\"sesgate_state\": 1, \"regions\": []}", SG_ERR_INVALID,
      "mem: regions: expected an object" },
    { "{\"sesgate_state\": \"1\", \"regions\": {}}", SG_ERR_INVALID,
      "sesgate_state" },
    { "{\"sesgate_state\": 1, \"regions\": {}} x", SG_ERR_SYNTAX, "mem:1:" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": {},"
      " \"us-east-1\": {}}}", SG_ERR_SYNTAX, "duplicate" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"identities\": [{\"IdentityName\": \"a.example\","
      " \"IdentityType\": \"ROBOT\"}]}}}", SG_ERR_INVALID, "IdentityType" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"identities\": [{\"IdentityName\": \"a.example\","
      " \"VerificationStatus\": \"MAYBE\"}]}}}", SG_ERR_INVALID,
      "VerificationStatus" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"identities\": [{\"IdentityName\": 7}]}}}", SG_ERR_INVALID,
      "regions.us-east-1.identities[0].IdentityName: expected a string" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"suppressed\": [{\"EmailAddress\": \"a@b.example\","
      " \"Reason\": \"BOUNCE\", \"LastUpdateTime\": \"yesterday\"}]}}}",
      SG_ERR_INVALID, "LastUpdateTime" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"configuration_sets\": [1]}}}", SG_ERR_INVALID,
      "configuration_sets[0]" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"account\": {\"SendingEnabled\": 1}}}}", SG_ERR_INVALID,
      "regions.us-east-1.account.SendingEnabled: expected true or false" },
    { "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
      "{\"suppressed\": {}}}}", SG_ERR_INVALID,
      "regions.us-east-1.suppressed: expected an array" },
};

START_TEST(test_bad_buf)
{
    const struct bad_buf_row *r = &bad_buf_rows[_i];
    char err[512] = "";
    SG_STATUS s;

    s = sg_state_import_buf(st, "mem", r->text, strlen(r->text), err,
                            sizeof(err));
    ck_assert_msg(s == r->want, "%s: got %s, want %s (%s)", r->text,
                  sg_strerror(s), sg_strerror(r->want), err);
    ck_assert_msg(strstr(err, r->want_err) != NULL, "%s: got %s, want %s",
                  r->text, err, r->want_err);
    assert_old_state(r->text);
}
END_TEST

/*
 * sg_state_import_file_supp (sesgatectl sync): suppression lists streamed
 * from line files beside the snapshot, added to what the snapshot lists.
 */
START_TEST(test_import_supp_lines)
{
    struct sg_state_supp_file lines[2];
    struct sg_suppressed sp;
    char p1[4096], p2[4096], err[512] = "";
    SG_STATUS s;

    write_file(path_in("use1.lines"),
               "{\"EmailAddress\": \"Streamed@Example.net\", \"Reason\": "
               "\"BOUNCE\", \"LastUpdateTime\": \"2026-11-02T00:00:00Z\"}\n"
               "\n"
               "  {\"EmailAddress\": \"two@example.net\", \"Reason\": "
               "\"COMPLAINT\", \"LastUpdateTime\": 1700000001}  \r\n");
    write_file(path_in("euw1.lines"), "");
    /* path_in returns one static buffer: each path gets its own copy. */
    snprintf(p1, sizeof(p1), "%s", path_in("use1.lines"));
    snprintf(p2, sizeof(p2), "%s", path_in("euw1.lines"));
    lines[0].region = "US-EAST-1";
    lines[0].path = p1;
    lines[1].region = "eu-west-1";
    lines[1].path = p2;
    s = sg_state_import_file_supp(st, data_file("state-basic.json"), lines,
                                  2, err, sizeof(err));
    ck_assert_msg(s == SG_OK, "got %s (%s), want OK", sg_strerror(s), err);
    ck_assert_int_eq(supp_count("us-east-1"), 4);
    ck_assert_int_eq(supp_count("eu-west-1"), 1);
    ck_assert(is_suppressed("us-east-1", "streamed@example.net"));
    ck_assert(is_suppressed("us-east-1", "TWO@example.net"));
    ck_assert(is_suppressed("us-east-1", "angry@example.net"));
    ck_assert(!is_suppressed("eu-west-1", "two@example.net"));
    begin();
    ck_assert_int_eq(sg_snap_suppressed(snap, "us-east-1", "two@example.net",
                                        &sp), SG_OK);
    ck_assert_int_eq(sp.reason, SG_SUPP_COMPLAINT);
    ck_assert_int_eq(sp.updated, 1700000001);
    sg_snap_end(snap);
}
END_TEST

/* Line files that must be refused, the old state kept. */
static const struct bad_lines_row {
    const char *region;
    const char *text;           /* NULL: the file does not exist */
    SG_STATUS want;
    const char *want_err;
} bad_lines_rows[] = {
    { "us-east-1", "{\"EmailAddress\": \"a@b.example\", \"Reason\": "
      "\"BOUNCE\", \"LastUpdateTime\": 1}\n{\"EmailAddress\": \n",
      SG_ERR_SYNTAX, "bad.lines:2:" },
    { "us-east-1", "{\"EmailAddress\": \"a@b.example\", \"Reason\": "
      "\"BORED\", \"LastUpdateTime\": 1}\n", SG_ERR_INVALID,
      "bad.lines:1: regions.us-east-1.suppressed[2].Reason" },
    { "us-east-1", "[1, 2]\n", SG_ERR_INVALID,
      "bad.lines:1: regions.us-east-1.suppressed[2]: expected an object" },
    { "us-east-1", NULL, SG_ERR_IO, "bad.lines" },
    { "ap-south-1", "", SG_ERR_INVALID, "ap-south-1" },
};

START_TEST(test_import_supp_bad)
{
    const struct bad_lines_row *r = &bad_lines_rows[_i];
    struct sg_state_supp_file line;
    char path[4096], err[512] = "";
    SG_STATUS s;

    snprintf(path, sizeof(path), "%s", path_in("bad.lines"));
    if (r->text != NULL)
        write_file(path, r->text);
    line.region = r->region;
    line.path = path;
    s = sg_state_import_file_supp(st, data_file("state-basic.json"), &line,
                                  1, err, sizeof(err));
    ck_assert_msg(s == r->want, "row %d: got %s, want %s (%s)", _i,
                  sg_strerror(s), sg_strerror(r->want), err);
    ck_assert_msg(strstr(err, r->want_err) != NULL, "row %d: got %s, want %s",
                  _i, err, r->want_err);
    ck_assert_int_eq(supp_count("us-east-1"), 2);
    ck_assert(!is_suppressed("us-east-1", "a@b.example"));
    assert_old_state("a bad line file");
}
END_TEST

/* export_to - export the store into a file */
static void
export_to(SG_STATE *from, const char *path)
{
    char err[512] = "";
    FILE *fp = fopen(path, "w");
    SG_STATUS s;

    ck_assert_ptr_nonnull(fp);
    s = sg_state_export(from, fp, err, sizeof(err));
    fclose(fp);
    ck_assert_msg(s == SG_OK, "export: got %s, want OK (%s)",
                  sg_strerror(s), err);
}

START_TEST(test_round_trip)
{
    static const char *const kept[] = {
        "\"generated_by\"", "\"active_receipt_rule_set\"",
        "\"DkimAttributes\"", "\"MessageId\":\"abc\"",
        "\"EnforcementStatus\"",
        "\"LastUpdateTime\": \"2026-11-01T00:00:00Z\"",
        "\"Gone@Example.NET\"", "\"Marketing\"",
    };
    char err[512] = "";
    char *one, *two;
    SG_STATUS s;
    size_t i;

    export_to(st, path_in("one.json"));
    s = sg_state_import_file(st, path_in("one.json"), err, sizeof(err));
    ck_assert_msg(s == SG_OK, "re-import: got %s, want OK (%s)",
                  sg_strerror(s), err);
    export_to(st, path_in("two.json"));
    one = read_all(path_in("one.json"));
    two = read_all(path_in("two.json"));
    ck_assert_msg(strcmp(one, two) == 0, "got\n%s\nwant\n%s", two, one);
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        ck_assert_msg(strstr(one, kept[i]) != NULL, "got no %s, want it",
                      kept[i]);
    free(one);
    free(two);
    assert_old_state("round trip");
}
END_TEST

START_TEST(test_reader_isolation)
{
    struct sg_identity id;
    struct sg_account ac;
    char err[512] = "";
    SG_STATUS s;

    begin();
    s = sg_state_import_file(st, data_file("state-other.json"), err,
                             sizeof(err));
    ck_assert_msg(s == SG_OK, "import: got %s, want OK (%s)",
                  sg_strerror(s), err);
    /* The running snapshot still sees the old state. */
    s = sg_snap_identity(snap, "us-east-1", "example.com", &id);
    ck_assert_msg(s == SG_OK, "old: got %s, want OK", sg_strerror(s));
    s = sg_snap_account(snap, "ap-south-1", &ac);
    ck_assert_msg(s == SG_ERR_NOTFOUND, "old: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_NOTFOUND));
    sg_snap_end(snap);
    /* A new begin sees the new one. */
    begin();
    s = sg_snap_identity(snap, "ap-south-1", "other.example", &id);
    ck_assert_msg(s == SG_OK, "new: got %s, want OK", sg_strerror(s));
    ck_assert_msg(id.type == SG_IDENT_DOMAIN && !id.verified
                  && id.status[0] == '\0', "got type %d verified %d, "
                  "want DOMAIN unverified", (int)id.type, id.verified);
    s = sg_snap_account(snap, "us-east-1", &ac);
    ck_assert_msg(s == SG_ERR_NOTFOUND, "new: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_NOTFOUND));
    s = sg_snap_account(snap, "ap-south-1", &ac);
    ck_assert_msg(s == SG_OK && ac.production == 1 && ac.sending_enabled == 1
                  && ac.max_24h == 200 && ac.max_rate == 1,
                  "got %s production %d, want OK with defaults",
                  sg_strerror(s), ac.production);
    sg_snap_end(snap);
}
END_TEST

START_TEST(test_dup_same_reason)
{
    static const char text[] =
        "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
        "{\"suppressed\": [{\"EmailAddress\": \"a@dup.example\", "
        "\"Reason\": \"BOUNCE\", \"LastUpdateTime\": 1}, "
        "{\"EmailAddress\": \"A@DUP.example\", \"Reason\": "
        "\"bounce\", \"LastUpdateTime\": 2}]}}}";
    char err[512] = "";
    SG_STATUS s;

    /* Listed twice with the same reason: kept once (state.h). */
    s = sg_state_import_buf(st, "mem", text, strlen(text), err,
                            sizeof(err));
    ck_assert_msg(s == SG_OK, "got %s, want OK (%s)", sg_strerror(s), err);
    ck_assert_int_eq(supp_count("us-east-1"), 1);
    ck_assert_int_eq(is_suppressed("us-east-1", "a@dup.example"), 1);
}
END_TEST

START_TEST(test_open_missing)
{
    char err[512] = "", want[600];
    SG_STATE *ro;

    ro = sg_state_open(path_in("nothing"), SG_STATE_RDONLY, 0, err,
                       sizeof(err));
    ck_assert_ptr_null(ro);
    snprintf(want, sizeof(want), "no state in %s: run sesgatectl import",
             path_in("nothing"));
    ck_assert_msg(strcmp(err, want) == 0, "got %s, want %s", err, want);
    ro = sg_state_open(path_in("nothing"), 0, 0, err, sizeof(err));
    ck_assert_ptr_null(ro);
}
END_TEST

START_TEST(test_open_rdonly)
{
    struct sg_suppressed sp;
    char err[512] = "";
    SG_STATE *ro;
    SG_SNAP *rs;
    SG_STATUS s;

    ro = sg_state_open(path_in("state"), SG_STATE_RDONLY, 0, err,
                       sizeof(err));
    ck_assert_msg(ro != NULL, "got %s, want a handle", err);
    rs = sg_snap_new(ro);
    ck_assert_ptr_nonnull(rs);
    ck_assert_int_eq(sg_snap_begin(rs), SG_OK);
    s = sg_snap_suppressed(rs, "us-east-1", "gone@example.net", &sp);
    ck_assert_msg(s == SG_OK, "got %s, want OK", sg_strerror(s));
    sg_snap_end(rs);
    s = sg_snap_suppressed(rs, "us-east-1", "gone@example.net", &sp);
    ck_assert_msg(s == SG_ERR_STATE, "after end: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_STATE));
    s = sg_state_import_file(ro, data_file("state-other.json"), err,
                             sizeof(err));
    ck_assert_msg(s == SG_ERR_USAGE, "import read-only: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_USAGE));
    s = sg_state_suppress_add(ro, "us-east-1", "x@y.example",
                              SG_SUPP_BOUNCE, 1, err, sizeof(err));
    ck_assert_msg(s == SG_ERR_USAGE, "add read-only: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_USAGE));
    sg_snap_free(rs);
    sg_state_close(ro);
}
END_TEST

/*
 * A store cut short of its last page (a restore that stopped, a full
 * disk) killed readers with SIGBUS on their first lookup: it is refused
 * as damaged, and an importer moves it aside and starts a new one.
 */
START_TEST(test_open_truncated)
{
    char err[512] = "", aside[4200];
    struct stat sb;
    SG_STATE *ro;
    SG_STATUS s;

    snap = sg_snap_free(snap);
    st = sg_state_close(st);
    ck_assert_int_eq(stat(path_in("state/state.mdb"), &sb), 0);
    ck_assert_int_eq(truncate(path_in("state/state.mdb"),
                              sb.st_size - 4096), 0);
    ro = sg_state_open(path_in("state"), SG_STATE_RDONLY, 0, err,
                       sizeof(err));
    ck_assert_ptr_null(ro);
    ck_assert_msg(strstr(err, "is damaged") != NULL
                  && strstr(err, "run sesgatectl import") != NULL,
                  "got %s, want a damaged store", err);
    /* The importer rebuilds it; the old file stays for a post-mortem. */
    st = sg_state_open(path_in("state"), SG_STATE_CREATE, 0, err,
                       sizeof(err));
    ck_assert_msg(st != NULL, "got %s, want a new store", err);
    snprintf(aside, sizeof(aside), "%s.damaged",
             path_in("state/state.mdb"));
    ck_assert_int_eq(access(aside, F_OK), 0);
    s = sg_state_import_file(st, data_file("state-basic.json"), err,
                             sizeof(err));
    ck_assert_msg(s == SG_OK, "import: got %s (%s), want OK",
                  sg_strerror(s), err);
    snap = sg_snap_new(st);
    ck_assert_msg(is_suppressed("us-east-1", "gone@example.net"),
                  "got not suppressed after the rebuild, want suppressed");
}
END_TEST

/* supp_count - a region's suppressed count from its summary */
static long long
supp_count(const char *region)
{
    struct sg_account ac;
    long long n;

    begin();
    ck_assert_int_eq(sg_snap_account(snap, region, &ac), SG_OK);
    n = ac.suppressed;
    sg_snap_end(snap);
    return n;
}

/* is_suppressed - whether an address is listed in a region */
static int
is_suppressed(const char *region, const char *addr)
{
    struct sg_suppressed sp;
    SG_STATUS s;

    begin();
    s = sg_snap_suppressed(snap, region, addr, &sp);
    sg_snap_end(snap);
    ck_assert_msg(s == SG_OK || s == SG_ERR_NOTFOUND, "got %s, want OK or "
                  "not found", sg_strerror(s));
    return s == SG_OK;
}

START_TEST(test_suppress_add_remove)
{
    struct sg_suppressed sp;
    char err[512] = "";
    int removed = -1;
    SG_STATUS s;

    s = sg_state_suppress_add(st, "us-east-1", "New@Example.net",
                              SG_SUPP_COMPLAINT, 1234, err, sizeof(err));
    ck_assert_msg(s == SG_OK, "add: got %s, want OK (%s)", sg_strerror(s),
                  err);
    ck_assert_int_eq(supp_count("us-east-1"), 3);
    begin();
    s = sg_snap_suppressed(snap, "us-east-1", "new@example.NET", &sp);
    sg_snap_end(snap);
    ck_assert_msg(s == SG_OK && sp.reason == SG_SUPP_COMPLAINT
                  && sp.updated == 1234
                  && strcmp(sp.address, "New@Example.net") == 0,
                  "got %s %s %lld, want COMPLAINT 1234 New@Example.net",
                  sg_strerror(s), sp.address, sp.updated);
    /* Update: the count stays. */
    s = sg_state_suppress_add(st, "us-east-1", "new@example.net",
                              SG_SUPP_BOUNCE, 99, err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    ck_assert_int_eq(supp_count("us-east-1"), 3);
    s = sg_state_suppress_add(st, "ap-south-1", "a@b.example",
                              SG_SUPP_BOUNCE, 1, err, sizeof(err));
    ck_assert_msg(s == SG_ERR_NOTFOUND, "unknown region: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_NOTFOUND));
    s = sg_state_suppress_add(st, "us-east-1", "no-at-sign",
                              SG_SUPP_BOUNCE, 1, err, sizeof(err));
    ck_assert_msg(s == SG_ERR_SYNTAX, "bad address: got %s, want %s",
                  sg_strerror(s), sg_strerror(SG_ERR_SYNTAX));
    /* Remove from every region. */
    s = sg_state_suppress_remove(st, NULL, "GONE@example.net", &removed,
                                 err, sizeof(err));
    ck_assert_msg(s == SG_OK && removed == 2, "remove all: got %s %d, "
                  "want OK 2", sg_strerror(s), removed);
    ck_assert_int_eq(is_suppressed("us-east-1", "gone@example.net"), 0);
    ck_assert_int_eq(is_suppressed("eu-west-1", "gone@example.net"), 0);
    ck_assert_int_eq(supp_count("us-east-1"), 2);
    ck_assert_int_eq(supp_count("eu-west-1"), 0);
    s = sg_state_suppress_remove(st, NULL, "gone@example.net", &removed,
                                 err, sizeof(err));
    ck_assert_msg(s == SG_OK && removed == 0, "remove again: got %s %d, "
                  "want OK 0", sg_strerror(s), removed);
    /* Remove from one region. */
    s = sg_state_suppress_add(st, "eu-west-1", "angry@example.net",
                              SG_SUPP_COMPLAINT, 5, err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    s = sg_state_suppress_remove(st, "us-east-1", "angry@example.net",
                                 &removed, err, sizeof(err));
    ck_assert_msg(s == SG_OK && removed == 1, "remove one: got %s %d, "
                  "want OK 1", sg_strerror(s), removed);
    ck_assert_int_eq(is_suppressed("us-east-1", "angry@example.net"), 0);
    ck_assert_int_eq(is_suppressed("eu-west-1", "angry@example.net"), 1);
}
END_TEST

/* Bulk import files. */
static const struct bulk_row {
    const char *text;
    SG_STATUS want;
    long long added;
    const char *listed;         /* an address then listed, or NULL */
    const char *not_listed;     /* an address then not listed */
    const char *want_err;
} bulk_rows[] = {
    { "EmailAddress,Reason\n"
      "one@bulk.example,BOUNCE\n"
      "\n"
      "\"Two@Bulk.example\", complaint\r\n",
      SG_OK, 2, "two@bulk.example", NULL, "" },
    { "{\"EmailAddress\": \"three@bulk.example\", \"Reason\": \"BOUNCE\"}\n"
      "  \n"
      "{\"Reason\": \"COMPLAINT\", \"EmailAddress\": \"four@bulk.example\"}\n",
      SG_OK, 2, "four@bulk.example", NULL, "" },
    { "five@bulk.example,BOUNCE\n"
      "six@bulk.example,BOUNCE\n"
      "seven@bulk.example,SPAM\n",
      SG_ERR_SYNTAX, 0, NULL, "five@bulk.example", "bulk.txt:3: reason" },
    { "{\"EmailAddress\": \"eight@bulk.example\", \"Reason\": \"BOUNCE\"}\n"
      "{\"EmailAddress\": \"nine@bulk.example\"\n",
      SG_ERR_SYNTAX, 0, NULL, "eight@bulk.example", "bulk.txt:2:" },
    { "ten@bulk.example\n", SG_ERR_SYNTAX, 0, NULL, "ten@bulk.example",
      "bulk.txt:1: expected address,reason" },
    { "", SG_OK, 0, NULL, NULL, "" },
};

START_TEST(test_suppress_import)
{
    const struct bulk_row *r = &bulk_rows[_i];
    char err[512] = "";
    long long added = -1;
    SG_STATUS s;

    write_file(path_in("bulk.txt"), r->text);
    s = sg_state_suppress_import(st, "us-east-1", path_in("bulk.txt"), 77,
                                 &added, err, sizeof(err));
    ck_assert_msg(s == r->want, "got %s, want %s (%s)", sg_strerror(s),
                  sg_strerror(r->want), err);
    ck_assert_msg(added == r->added, "got %lld added, want %lld", added,
                  r->added);
    ck_assert_msg(strstr(err, r->want_err) != NULL, "got %s, want %s", err,
                  r->want_err);
    if (r->listed != NULL)
        ck_assert_msg(is_suppressed("us-east-1", r->listed),
                      "got %s not listed, want listed", r->listed);
    if (r->not_listed != NULL)
        ck_assert_msg(!is_suppressed("us-east-1", r->not_listed),
                      "got %s listed, want not listed", r->not_listed);
    ck_assert_int_eq(supp_count("us-east-1"), 2 + r->added);
}
END_TEST

/* each_count - count entries, stop after *limit */
static int
each_count(const char *region, const struct sg_suppressed *e, void *arg)
{
    int *n = arg;

    (void)e;
    ck_assert_str_eq(region, "us-east-1");
    return ++n[0] >= n[1];
}

START_TEST(test_suppressed_each)
{
    int n[2] = { 0, 100 };

    begin();
    ck_assert_int_eq(sg_snap_suppressed_each(snap, "us-east-1", each_count,
                                             n), SG_OK);
    ck_assert_msg(n[0] == 2, "got %d entries, want 2", n[0]);
    n[0] = 0;
    n[1] = 1;
    ck_assert_int_eq(sg_snap_suppressed_each(snap, "us-east-1", each_count,
                                             n), SG_OK);
    ck_assert_msg(n[0] == 1, "got %d entries, want 1 (stopped)", n[0]);
    sg_snap_end(snap);
}
END_TEST

/* ISO 8601 times. */
static const struct time_row {
    const char *in;
    int ok;
    long long want;
} time_rows[] = {
    { "2026-11-01T00:00:00Z", 1, 1793491200 },
    { "2026-10-01T12:30:00.123+02:00", 1, 1790850600 },
    { "2026-10-01T12:30:00+0200", 1, 1790850600 },
    { "2026-10-01T08:30:00-02", 1, 1790850600 },
    { "2026-10-01 10:30:00", 1, 1790850600 },
    { "2000-02-29T23:59:59Z", 1, 951868799 },
    { "1969-12-31T00:00:00Z", 1, -86400 },
    { "2026-02-30T00:00:00Z", 0, 0 },
    { "2026-13-01T00:00:00Z", 0, 0 },
    { "2026-11-01", 0, 0 },
    { "2026-11-01T00:00:00Zjunk", 0, 0 },
    { "2026-11-01T00:00:00.Z", 0, 0 },
    { "", 0, 0 },
};

START_TEST(test_parse_time)
{
    const struct time_row *r = &time_rows[_i];
    long long t = 0;
    int ok = sg_state_parse_time(r->in, &t) == 0;

    ck_assert_msg(ok == r->ok, "%s: got %s, want %s", r->in,
                  ok ? "ok" : "error", r->ok ? "ok" : "error");
    if (ok)
        ck_assert_msg(t == r->want, "%s: got %lld, want %lld", r->in, t,
                      r->want);
}
END_TEST

START_TEST(test_reason_and_path)
{
    char buf[32];

    ck_assert_str_eq(sg_supp_reason_name(SG_SUPP_BOUNCE), "BOUNCE");
    ck_assert_str_eq(sg_supp_reason_name(SG_SUPP_COMPLAINT), "COMPLAINT");
    ck_assert_int_eq(sg_supp_reason_parse("bounce"), SG_SUPP_BOUNCE);
    ck_assert_int_eq(sg_supp_reason_parse("Complaint"), SG_SUPP_COMPLAINT);
    ck_assert_int_eq(sg_supp_reason_parse("spam"), 0);
    ck_assert_int_eq(sg_supp_reason_parse(NULL), 0);
    ck_assert_str_eq(sg_state_path_buf("/var/lib/sesgate", buf,
                                       sizeof(buf)),
                     "/var/lib/sesgate/state.mdb");
    ck_assert_ptr_null(sg_state_path_buf("/var/lib/sesgate", buf, 10));
}
END_TEST

/* ------------------------------------------------------------------ */
/* The suppression filter (state_int.h)                                */
/* ------------------------------------------------------------------ */

/* A growing text buffer for generated snapshots and bulk files. */
struct text {
    char *buf;
    size_t len;
    size_t cap;
};

/* text_add - append formatted text */
static void
text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(n, 0);
        if (t->len + (size_t)n < t->cap)
            break;
        t->cap = t->cap ? t->cap * 2 : 65536;
        t->buf = realloc(t->buf, t->cap);
        ck_assert_ptr_nonnull(t->buf);
    }
    t->len += (size_t)n;
}

/* test_rand - xorshift64*: deterministic pseudo-random numbers */
static uint64_t
test_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/*
 * gen_addr - member i of a generated list, in one of four spellings
 *   (case 0 as listed; the others change the case of some letters)
 */
static const char *
gen_addr(char *buf, size_t size, const char *tag, unsigned i, int spelling)
{
    static const char *const form[] = {
        "%s.User%u@Host%u.Example", "%s.user%u@host%u.example",
        "%s.USER%u@HOST%u.EXAMPLE", "%s.uSeR%u@hOsT%u.eXaMpLe",
    };
    char t[16];
    size_t j;

    /* The tag's case changes too: it is part of the address. */
    snprintf(t, sizeof(t), "%s", tag);
    for (j = 0; t[j] != '\0'; j++)
        if (spelling == 2 && t[j] >= 'a' && t[j] <= 'z')
            t[j] = (char)(t[j] - 'a' + 'A');
    snprintf(buf, size, form[spelling & 3], t, i * 7919u + 13u, i % 997u);
    return buf;
}

/*
 * import_generated - replace the state with us-east-1 listing n
 *   generated addresses (tag "imp") and eu-west-1 listing one, or none
 *   when eu_empty
 */
static void
import_generated(unsigned n, int eu_empty)
{
    struct text t = { NULL, 0, 0 };
    char err[512] = "", a[128];
    unsigned i;
    SG_STATUS s;

    text_add(&t, "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": "
             "{\"suppressed\": [");
    for (i = 0; i < n; i++)
        text_add(&t, "%s{\"EmailAddress\": \"%s\", \"Reason\": \"%s\", "
                 "\"LastUpdateTime\": 1}", i ? "," : "",
                 gen_addr(a, sizeof(a), "imp", i, (int)(i & 1)),
                 i % 3 ? "BOUNCE" : "COMPLAINT");
    text_add(&t, "]}, \"eu-west-1\": {\"suppressed\": [%s]}}}",
             eu_empty ? "" : "{\"EmailAddress\": \"one@eu.example\", "
             "\"Reason\": \"BOUNCE\", \"LastUpdateTime\": 1}");
    s = sg_state_import_buf(st, "generated", t.buf, t.len, err,
                            sizeof(err));
    free(t.buf);
    ck_assert_msg(s == SG_OK, "import: got %s, want OK (%s)",
                  sg_strerror(s), err);
}

/*
 * assert_listed - every generated address tag/0..n-1 is found in every
 *   spelling, and the filter (when there is one) says "maybe"
 */
static void
assert_listed(const char *region, const char *tag, unsigned n, int want)
{
    struct sg_suppressed sp;
    char a[128];
    unsigned i;
    int spelling, f;
    SG_STATUS s;

    begin();
    for (i = 0; i < n; i++) {
        for (spelling = 0; spelling < 4; spelling++) {
            gen_addr(a, sizeof(a), tag, i, spelling);
            s = sg_snap_suppressed(snap, region, a, &sp);
            ck_assert_msg(s == (want ? SG_OK : SG_ERR_NOTFOUND),
                          "%s %s: got %s, want %s", region, a,
                          sg_strerror(s), want ? "OK" : "not found");
            f = sg_supp_filter_test(snap, region, a);
            ck_assert_msg(!want || f != 0, "%s %s: filter got absent, "
                          "want maybe", region, a);
        }
    }
    sg_snap_end(snap);
}

/* filter_state - what the filter of a region says of an address */
static int
filter_state(const char *region, const char *addr)
{
    int f;

    begin();
    f = sg_supp_filter_test(snap, region, addr);
    sg_snap_end(snap);
    return f;
}

/* write_bulk - a bulk file of generated addresses tag/0..n-1 */
static void
write_bulk(const char *path, const char *tag, unsigned n)
{
    struct text t = { NULL, 0, 0 };
    char a[128];
    unsigned i;

    text_add(&t, "EmailAddress,Reason\n");
    for (i = 0; i < n; i++)
        text_add(&t, "%s,%s\n", gen_addr(a, sizeof(a), tag, i, (int)(i % 4)),
                 i & 1 ? "BOUNCE" : "COMPLAINT");
    write_file(path, t.buf);
    free(t.buf);
}

START_TEST(test_filter_no_false_negatives)
{
    char err[512] = "", a[128];
    long long added;
    unsigned i;
    SG_STATUS s;

    /* Import builds it. */
    import_generated(3000, 0);
    assert_listed("us-east-1", "imp", 3000, 1);
    ck_assert_int_eq(filter_state("us-east-1", "nobody@example.net") >= 0,
                     1);
    /* Adds: one block for eu-west-1 at first, rebuilt as it outgrows. */
    for (i = 0; i < 150; i++) {
        s = sg_state_suppress_add(st, "eu-west-1",
                                  gen_addr(a, sizeof(a), "add", i,
                                           (int)(i % 4)),
                                  SG_SUPP_BOUNCE, 5, err, sizeof(err));
        ck_assert_msg(s == SG_OK, "add %s: got %s, want OK (%s)", a,
                      sg_strerror(s), err);
        if (i % 50 == 49)
            assert_listed("eu-west-1", "add", i + 1, 1);
    }
    ck_assert_int_eq(is_suppressed("eu-west-1", "ONE@eu.example"), 1);
    ck_assert_int_eq(supp_count("eu-west-1"), 151);
    /* Bulk imports: one that fits the filter, one that outgrows it. */
    write_bulk(path_in("bulk1.txt"), "bulka", 1000);
    s = sg_state_suppress_import(st, "us-east-1", path_in("bulk1.txt"), 7,
                                 &added, err, sizeof(err));
    ck_assert_msg(s == SG_OK && added == 1000, "bulk: got %s %lld, want OK "
                  "1000 (%s)", sg_strerror(s), added, err);
    write_bulk(path_in("bulk2.txt"), "bulkb", 6000);
    s = sg_state_suppress_import(st, "us-east-1", path_in("bulk2.txt"), 7,
                                 &added, err, sizeof(err));
    ck_assert_msg(s == SG_OK && added == 6000, "bulk: got %s %lld, want OK "
                  "6000 (%s)", sg_strerror(s), added, err);
    assert_listed("us-east-1", "imp", 3000, 1);
    assert_listed("us-east-1", "bulka", 1000, 1);
    assert_listed("us-east-1", "bulkb", 6000, 1);
    assert_listed("eu-west-1", "add", 150, 1);
    ck_assert_int_eq(supp_count("us-east-1"), 10000);
    /* Other regions' entries stay out of a region's answers. */
    assert_listed("eu-west-1", "bulka", 1000, 0);
}
END_TEST

START_TEST(test_filter_removed)
{
    char err[512] = "", a[128];
    unsigned i;
    int removed;
    SG_STATUS s;

    import_generated(2000, 0);
    /* Every other one of the first 400. */
    for (i = 0; i < 400; i += 2) {
        s = sg_state_suppress_remove(st, "us-east-1",
                                     gen_addr(a, sizeof(a), "imp", i, 2),
                                     &removed, err, sizeof(err));
        ck_assert_msg(s == SG_OK && removed == 1, "remove %s: got %s %d, "
                      "want OK 1 (%s)", a, sg_strerror(s), removed, err);
    }
    /* The bits stay; the tree decides. */
    ck_assert_int_eq(filter_state("us-east-1",
                                  gen_addr(a, sizeof(a), "imp", 0, 0)), 1);
    for (i = 0; i < 2000; i++) {
        int gone = i < 400 && i % 2 == 0;

        ck_assert_msg(is_suppressed("us-east-1",
                                    gen_addr(a, sizeof(a), "imp", i,
                                             (int)(i % 4)))
                      == !gone, "%s: got %s, want %s", a,
                      gone ? "listed" : "not listed",
                      gone ? "not listed" : "listed");
    }
    ck_assert_int_eq(supp_count("us-east-1"), 1800);
    /* A re-add of a removed address is found again. */
    s = sg_state_suppress_add(st, "us-east-1",
                              gen_addr(a, sizeof(a), "imp", 0, 0),
                              SG_SUPP_BOUNCE, 5, err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    ck_assert_int_eq(is_suppressed("us-east-1", a), 1);
}
END_TEST

/* drop_filters - delete every region's filter: a store from before */
static void
drop_filters(void)
{
    static const char pfx[] = SG_META_SUPPFILTER;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, n = 0;

    ck_assert_int_eq(mdb_txn_begin(st->env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_cursor_open(txn, st->meta, &cur), 0);
    k.mv_data = (void *)pfx;
    k.mv_size = sizeof(pfx) - 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof(pfx) - 1
            || memcmp(k.mv_data, pfx, sizeof(pfx) - 1) != 0)
            break;
        ck_assert_int_eq(mdb_cursor_del(cur, 0), 0);
        n++;
    }
    mdb_cursor_close(cur);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    ck_assert_msg(n > 0, "got no filters to drop, want some");
}

START_TEST(test_filter_absent)
{
    char err[512] = "";
    SG_STATUS s;

    /* A region with an empty list has none; lookups use the tree. */
    import_generated(500, 1);
    ck_assert_int_eq(filter_state("eu-west-1", "one@eu.example"), -1);
    ck_assert_int_eq(is_suppressed("eu-west-1", "one@eu.example"), 0);
    s = sg_state_suppress_add(st, "eu-west-1", "One@EU.example",
                              SG_SUPP_BOUNCE, 5, err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    ck_assert_int_eq(filter_state("eu-west-1", "one@eu.EXAMPLE"), 1);
    ck_assert_int_eq(is_suppressed("eu-west-1", "ONE@eu.example"), 1);
    /* A store written before filters: the tree alone, same answers. */
    drop_filters();
    ck_assert_int_eq(filter_state("us-east-1", "nobody@example.net"), -1);
    assert_listed("us-east-1", "imp", 500, 1);
    ck_assert_int_eq(is_suppressed("us-east-1", "nobody@example.net"), 0);
    /* Its first add builds one that covers the older entries too. */
    s = sg_state_suppress_add(st, "us-east-1", "late@example.net",
                              SG_SUPP_COMPLAINT, 5, err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    ck_assert_int_eq(filter_state("us-east-1", "Late@example.net"), 1);
    assert_listed("us-east-1", "imp", 500, 1);
    /* The lists emptied by removal: the filter stays, the tree says no. */
    s = sg_state_suppress_remove(st, "eu-west-1", "one@eu.example", NULL,
                                 err, sizeof(err));
    ck_assert_int_eq(s, SG_OK);
    ck_assert_int_eq(is_suppressed("eu-west-1", "one@eu.example"), 0);
    /* The one-snapshot cache follows a change of region. */
    begin();
    ck_assert_int_eq(sg_supp_filter_test(snap, "us-east-1",
                                         "late@example.net"), 1);
    ck_assert_int_eq(sg_supp_filter_test(snap, "ap-south-1",
                                         "late@example.net"), -1);
    ck_assert_int_eq(sg_supp_filter_test(snap, "US-EAST-1",
                                         "late@example.net"), 1);
    sg_snap_end(snap);
}
END_TEST

START_TEST(test_filter_fp_rate)
{
    struct sg_suppressed sp;
    uint64_t seed = 0x853c49e6748fea9bull;
    char a[128];
    unsigned i, fp = 0, n = 100000;
    int f;

    import_generated(10000, 0);
    begin();
    for (i = 0; i < n; i++) {
        uint64_t r = test_rand(&seed);

        snprintf(a, sizeof(a), "x%08x.%u@d%u.example", (unsigned)r,
                 (unsigned)(r >> 32) % 100000u, (unsigned)(r >> 48));
        f = sg_supp_filter_test(snap, "us-east-1", a);
        ck_assert_msg(f >= 0, "got no filter, want one");
        fp += (unsigned)f;
        ck_assert_msg(sg_snap_suppressed(snap, "us-east-1", a, &sp)
                      == SG_ERR_NOTFOUND, "%s: got listed, want not", a);
    }
    sg_snap_end(snap);
    ck_assert_msg(fp * 100 < n, "got %u false positives in %u (%.3f%%), "
                  "want under 1%%", fp, n, 100.0 * fp / n);
}
END_TEST

/* ------------------------------------------------------------------ */

#define ROWS(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *
sg_state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc;

    tc = tcase_create("lookup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_lookup, 0, ROWS(lookup_rows));
    tcase_add_test(tc, test_regions_imported_at);
    suite_add_tcase(s, tc);

    tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_bad_snapshot, 0, ROWS(bad_rows));
    tcase_add_loop_test(tc, test_bad_buf, 0, ROWS(bad_buf_rows));
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_reader_isolation);
    tcase_add_test(tc, test_dup_same_reason);
    tcase_add_test(tc, test_import_supp_lines);
    tcase_add_loop_test(tc, test_import_supp_bad, 0, ROWS(bad_lines_rows));
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_missing);
    tcase_add_test(tc, test_open_rdonly);
    tcase_add_test(tc, test_open_truncated);
    suite_add_tcase(s, tc);

    tc = tcase_create("suppress");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_suppress_add_remove);
    tcase_add_loop_test(tc, test_suppress_import, 0, ROWS(bulk_rows));
    tcase_add_test(tc, test_suppressed_each);
    tcase_add_loop_test(tc, test_parse_time, 0, ROWS(time_rows));
    tcase_add_test(tc, test_reason_and_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("filter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_filter_no_false_negatives);
    tcase_add_test(tc, test_filter_removed);
    tcase_add_test(tc, test_filter_absent);
    tcase_add_test(tc, test_filter_fp_rate);
    suite_add_tcase(s, tc);
    return s;
}
