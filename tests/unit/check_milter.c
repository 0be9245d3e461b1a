/*
 * check_milter.c - unit suite of the milter's pure helpers (mlfi_util)
 *
 * Table-driven: header kinds, header collection with duplicates and
 * bounds (and its translation through decide.c's R11 header stages,
 * whose own tests are in check_decide.c), SIZE= parsing, default configuration sets, reply-text escaping, the
 * refusal log line and bare paths.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "decide.h"
#include "mlfi_util.h"
#include "check_suites.h"

/* Header kinds. */
static const struct {
    const char *name;
    enum mlfi_hdr_kind want;
    int single;                 /* 1: in SES's single-instance list */
} kind_rows[] = {
    { "From", MLFI_HDR_FROM, 1 },
    { "fROM", MLFI_HDR_FROM, 1 },
    { "Sender", MLFI_HDR_SENDER, 1 },
    { "Return-Path", MLFI_HDR_RETURN_PATH, 1 },
    { "x-ses-configuration-set", MLFI_HDR_CONFIG_SET, 1 },
    { "X-SES-MESSAGE-TAGS", MLFI_HDR_TAGS, 1 },
    { "Subject", MLFI_HDR_OTHER, 1 },
    { "message-id", MLFI_HDR_OTHER, 1 },
    { "DKIM-Signature", MLFI_HDR_OTHER, 1 },
    { "Received", MLFI_HDR_OTHER, 0 },
    { "To", MLFI_HDR_OTHER, 0 },
    { "Cc", MLFI_HDR_OTHER, 0 },
    { "From2", MLFI_HDR_OTHER, 0 },
    { "", MLFI_HDR_OTHER, 0 },
};

START_TEST(test_hdr_kind)
{
    enum mlfi_hdr_kind got = mlfi_hdr_kind(kind_rows[_i].name);
    int single = sg_hdr_single_index(kind_rows[_i].name) >= 0;

    ck_assert_msg(got == kind_rows[_i].want, "%s: got kind %d, want %d",
                  kind_rows[_i].name, (int)got, (int)kind_rows[_i].want);
    ck_assert_msg(single == kind_rows[_i].single,
                  "%s: got single %d, want %d", kind_rows[_i].name, single,
                  kind_rows[_i].single);
}
END_TEST

/* Header sets: NULL-terminated name/value pairs, then the verdict. */
static const struct {
    const char *label;
    const char *hdrs[12];
    int want_code;              /* 250 accept */
    const char *want_text;      /* substring of the text, or NULL */
    const char *want_from;      /* kept From value, or NULL */
} set_rows[] = {
    { "plain", { "From", "a@example.com", "Subject", "x", NULL },
      250, NULL, "a@example.com" },
    { "two From", { "From", "a@example.com", "from", "b@example.com",
                    NULL },
      554, "the From header may not appear more than once",
      "a@example.com" },
    { "two Subject", { "Subject", "a", "Subject", "b", NULL },
      554, "the Subject header may not appear more than once", NULL },
    { "two Received", { "Received", "a", "Received", "b", NULL },
      250, NULL, NULL },
    { "two config sets", { "X-SES-CONFIGURATION-SET", "a",
                           "X-SES-CONFIGURATION-SET", "b", NULL },
      554, "X-SES-CONFIGURATION-SET header may not", NULL },
    { "good tags", { "X-SES-MESSAGE-TAGS", "campaign=spring, a_b=c-d",
                     NULL },
      250, NULL, NULL },
    { "bad tags", { "X-SES-MESSAGE-TAGS", "campaign=spring sale", NULL },
      554, "invalid X-SES-MESSAGE-TAGS header", NULL },
    { "tags no value", { "X-SES-MESSAGE-TAGS", "campaign=", NULL },
      554, "value missing", NULL },
};

START_TEST(test_hdrs_set)
{
    struct mlfi_hdrs h;
    struct sg_verdict v;
    size_t i;

    memset(&h, 0, sizeof(h));
    memset(&v, 0, sizeof(v));
    for (i = 0; set_rows[_i].hdrs[i] != NULL; i += 2)
        ck_assert_int_eq(mlfi_hdrs_add(&h, set_rows[_i].hdrs[i],
                                       set_rows[_i].hdrs[i + 1]), SG_OK);
    mlfi_hdrs_check(&h, &v);
    ck_assert_msg(v.code == set_rows[_i].want_code,
                  "%s: got %d %s, want %d", set_rows[_i].label, v.code,
                  v.text, set_rows[_i].want_code);
    if (set_rows[_i].want_text != NULL)
        ck_assert_msg(strstr(v.text, set_rows[_i].want_text) != NULL,
                      "%s: got text '%s', want '%s' in it",
                      set_rows[_i].label, v.text, set_rows[_i].want_text);
    if (set_rows[_i].want_from != NULL)
        ck_assert_str_eq(h.from, set_rows[_i].want_from);
    mlfi_hdrs_reset(&h);
    ck_assert_ptr_null(h.from);
    ck_assert_int_eq((int)h.seen, 0);
}
END_TEST

START_TEST(test_hdrs_too_big)
{
    struct mlfi_hdrs h;
    struct sg_verdict v;
    char *big = malloc(MLFI_HDR_VALUE_MAX + 2);

    ck_assert_ptr_nonnull(big);
    memset(big, 'a', MLFI_HDR_VALUE_MAX + 1);
    big[MLFI_HDR_VALUE_MAX + 1] = '\0';
    memset(&h, 0, sizeof(h));
    memset(&v, 0, sizeof(v));
    ck_assert_int_eq(mlfi_hdrs_add(&h, "From", big), SG_OK);
    ck_assert_ptr_null(h.from);
    ck_assert_int_eq(h.toobig, 1);
    mlfi_hdrs_check(&h, &v);
    ck_assert_int_eq(v.code, 552);
    mlfi_hdrs_reset(&h);
    /* Exactly the limit is kept. */
    big[MLFI_HDR_VALUE_MAX] = '\0';
    ck_assert_int_eq(mlfi_hdrs_add(&h, "Sender", big), SG_OK);
    ck_assert_ptr_nonnull(h.sender);
    ck_assert_int_eq(h.toobig, 0);
    mlfi_hdrs_reset(&h);
    free(big);
}
END_TEST

/* SIZE= of MAIL FROM. */
START_TEST(test_esmtp_size)
{
    char a1[] = "BODY=8BITMIME", a2[] = "SIZE=12345", a3[] = "size=7";
    char b1[] = "SIZE=", b2[] = "SIZE=12x", b3[] = "SIZE=-1";
    char c1[] = "SIZE=99999999999999999999";
    char *v1[] = { a1, a2, NULL };
    char *v2[] = { a3, NULL };
    char *v3[] = { a1, NULL };
    char *v4[] = { b1, NULL };
    char *v5[] = { b2, NULL };
    char *v6[] = { b3, NULL };
    char *v7[] = { c1, NULL };

    ck_assert_int_eq(mlfi_esmtp_size(v1), 12345);
    ck_assert_int_eq(mlfi_esmtp_size(v2), 7);
    ck_assert_int_eq(mlfi_esmtp_size(v3), -1);
    ck_assert_int_eq(mlfi_esmtp_size(v4), -1);
    ck_assert_int_eq(mlfi_esmtp_size(v5), -1);
    ck_assert_int_eq(mlfi_esmtp_size(v6), -1);
    ck_assert(mlfi_esmtp_size(v7) > 40000000);
    ck_assert_int_eq(mlfi_esmtp_size(NULL), -1);
}
END_TEST

/* Default configuration sets. */
static const struct {
    const char *spec;
    const char *region;
    const char *want;           /* NULL: none */
} cs_rows[] = {
    { "", "us-east-1", NULL },
    { "tx", "us-east-1", "tx" },
    { "eu-west-1:a, us-east-1:b", "us-east-1", "b" },
    { "eu-west-1:a us-east-1:b", "EU-WEST-1", "a" },
    { "eu-west-1:a, *:c", "us-east-1", "c" },
    { "*:c, us-east-1:d", "us-east-1", "d" },
    { "eu-west-1:a", "us-east-1", NULL },
    { "us-east-1:", "us-east-1", NULL },
    { "us-east:x", "us-east-1", NULL },
};

START_TEST(test_default_cs)
{
    char buf[80];
    const char *got = mlfi_default_config_set_buf(cs_rows[_i].spec,
                                                  cs_rows[_i].region, buf,
                                                  sizeof(buf));

    if (cs_rows[_i].want == NULL)
        ck_assert_msg(got == NULL, "'%s' %s: got '%s', want none",
                      cs_rows[_i].spec, cs_rows[_i].region, got);
    else {
        ck_assert_msg(got != NULL, "'%s' %s: got none, want '%s'",
                      cs_rows[_i].spec, cs_rows[_i].region,
                      cs_rows[_i].want);
        ck_assert_str_eq(got, cs_rows[_i].want);
    }
}
END_TEST

START_TEST(test_reply_text)
{
    char buf[32];

    ck_assert_str_eq(mlfi_reply_text_buf("100% sure", buf, sizeof(buf)),
                     "100%% sure");
    ck_assert_str_eq(mlfi_reply_text_buf("a\r\nb\x01\xc3", buf,
                                         sizeof(buf)), "a??b??");
    ck_assert_ptr_null(mlfi_reply_text_buf("0123456789", buf, 10));
    ck_assert_ptr_nonnull(mlfi_reply_text_buf("012345678", buf, 10));
    ck_assert_ptr_null(mlfi_reply_text_buf("%%%%%", buf, 10));
}
END_TEST

START_TEST(test_log_line)
{
    struct mlfi_logrec r;
    struct sg_verdict v;
    char buf[512];

    memset(&r, 0, sizeof(r));
    memset(&v, 0, sizeof(v));
    sg_verdict_set(&v, SG_REJECT, 550, "5.1.1", "R5", "gone");
    r.stage = "RCPT";
    r.host = "client.example";
    r.addr = "192.0.2.1";
    r.from = "a@example.com";
    r.to = "b@example.net";
    r.region = "eu-west-1";
    r.action = "reject";
    ck_assert_str_eq(mlfi_log_line_buf(&r, &v, buf, sizeof(buf)),
                     "NOQUEUE: reject: RCPT from client.example[192.0.2.1]: "
                     "550 5.1.1 gone; from=<a@example.com> "
                     "to=<b@example.net> region=eu-west-1 rule=R5");
    r.queue_id = "4ABC123";
    r.to = NULL;
    r.from = "x\ny";
    ck_assert_str_eq(mlfi_log_line_buf(&r, &v, buf, sizeof(buf)),
                     "4ABC123: reject: RCPT from client.example[192.0.2.1]: "
                     "550 5.1.1 gone; from=<x?y> region=eu-west-1 rule=R5");
    /* Truncation keeps the buffer terminated. */
    ck_assert_uint_eq(strlen(mlfi_log_line_buf(&r, &v, buf, 20)), 19);
}
END_TEST

START_TEST(test_path_bare)
{
    char buf[16];

    ck_assert_str_eq(mlfi_path_bare_buf("<a@b>", buf, sizeof(buf)), "a@b");
    ck_assert_str_eq(mlfi_path_bare_buf(" a@b ", buf, sizeof(buf)), "a@b");
    ck_assert_str_eq(mlfi_path_bare_buf("<>", buf, sizeof(buf)), "");
    ck_assert_str_eq(mlfi_path_bare_buf("<", buf, sizeof(buf)), "");
    ck_assert_ptr_null(mlfi_path_bare_buf("<0123456789abcdef>", buf,
                                          sizeof(buf)));
}
END_TEST

Suite *
sg_milter_suite(void)
{
    Suite *s = suite_create("milter");
    TCase *tc = tcase_create("util");

    tcase_add_loop_test(tc, test_hdr_kind, 0,
                        sizeof(kind_rows) / sizeof(kind_rows[0]));
    tcase_add_loop_test(tc, test_hdrs_set, 0,
                        sizeof(set_rows) / sizeof(set_rows[0]));
    tcase_add_test(tc, test_hdrs_too_big);
    tcase_add_test(tc, test_esmtp_size);
    tcase_add_loop_test(tc, test_default_cs, 0,
                        sizeof(cs_rows) / sizeof(cs_rows[0]));
    tcase_add_test(tc, test_reply_text);
    tcase_add_test(tc, test_log_line);
    tcase_add_test(tc, test_path_bare);
    suite_add_tcase(s, tc);
    return s;
}
