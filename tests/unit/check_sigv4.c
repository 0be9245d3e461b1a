/*
 * check_sigv4.c - unit suite of sigv4.c: the AWS SigV4 test-suite
 *   vectors (ses-facts.md 13.2) and SES's double-encoded paths
 *
 * Common inputs of the suite: AKIDEXAMPLE, secret
 * wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30 12:36:00 UTC,
 * region us-east-1, service "service". The SES rows were computed with
 * an independent Python implementation (hmac/hashlib, urllib.parse
 * quote), the same one the SES stand-in uses.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "sigv4.h"
#include "check_suites.h"

#define NS(s) ((s) != NULL ? (s) : "(null)")

static const char suite_secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char suite_token[] =
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
static const char empty_hash[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* One signing case. */
struct sig_case {
    const char *name;
    const char *method;
    const char *path;
    const char *query;
    const char *host;
    const char *extra_name;     /* one more header, or NULL */
    const char *extra_value;
    const char *token;          /* x-amz-security-token, or NULL */
    const char *body;
    const char *region;
    const char *service;
    const char *amz_date;
    int double_encode;
    const char *want_creq;      /* NULL: not compared */
    const char *want_sts_hash;  /* last line of the string to sign */
    const char *want_sig;
};

static const struct sig_case sig_cases[] = {
    { "get-vanilla", "GET", "/", NULL, "example.amazonaws.com", NULL, NULL,
      NULL, "", "us-east-1", "service", "20150830T123600Z", 1,
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
      "\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    { "post-x-www-form-urlencoded", "POST", "/", NULL,
      "example.amazonaws.com", "Content-Type",
      "application/x-www-form-urlencoded", NULL, "Param1=value1",
      "us-east-1", "service", "20150830T123600Z", 1, NULL,
      "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
      "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
    { "get-vanilla-query-order-key-case", "GET", "/",
      "Param2=value2&Param1=value1", "example.amazonaws.com", NULL, NULL,
      NULL, "", "us-east-1", "service", "20150830T123600Z", 1, NULL, NULL,
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
    { "get-vanilla-with-session-token", "GET", "/", NULL,
      "example.amazonaws.com", NULL, NULL, suite_token, "", "us-east-1",
      "service", "20150830T123600Z", 1, NULL,
      "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
      "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8" },
    { "post-vanilla-query", "POST", "/", "Param1=value1",
      "example.amazonaws.com", NULL, NULL, NULL, "", "us-east-1",
      "service", "20150830T123600Z", 1,
      "POST\n/\nParam1=value1\nhost:example.amazonaws.com\n"
      "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
      "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
    { "post-header-key-sort", "POST", "/", NULL, "example.amazonaws.com",
      "My-Header1", "value1", NULL, "", "us-east-1", "service",
      "20150830T123600Z", 1, NULL,
      "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
      "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c" },
    { "get-unreserved", "GET",
      "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
      NULL, "example.amazonaws.com", NULL, NULL, NULL, "", "us-east-1",
      "service", "20150830T123600Z", 1, NULL, NULL,
      "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
    { "get-utf8", "GET", "/\xe1\x88\xb4", NULL, "example.amazonaws.com",
      NULL, NULL, NULL, "", "us-east-1", "service", "20150830T123600Z", 1,
      NULL,
      "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
      "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
    { "get-relative-normalised", "GET", "/example/..", NULL,
      "example.amazonaws.com", NULL, NULL, NULL, "", "us-east-1",
      "service", "20150830T123600Z", 1, NULL, NULL,
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    { "get-slash-dot", "GET", "/./", NULL, "example.amazonaws.com", NULL,
      NULL, NULL, "", "us-east-1", "service", "20150830T123600Z", 1, NULL,
      NULL,
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    /* SES: the identity in the path is encoded by the caller and once
     * more by the signer (botocore SigV4Auth). */
    { "ses-identity-double-encoded", "GET",
      "/v2/email/identities/user%40example.com", NULL,
      "email.us-east-1.amazonaws.com", NULL, NULL, NULL, "", "us-east-1",
      "ses", "20150830T123600Z", 1,
      "GET\n/v2/email/identities/user%2540example.com\n\n"
      "host:email.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
      "\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      NULL,
      "e0afd8eb6a87e0dea0544d1dcd82c2620ace4d5ff1d6c85c3d9680f26f0e9a66" },
    { "ses-suppression-page", "GET", "/v2/email/suppression/addresses",
      "PageSize=1000&NextToken=abc%2Fdef%3D%3D"
      "&StartDate=2026-11-01T00%3A00%3A00Z", "127.0.0.1:8080", NULL, NULL,
      NULL, "", "eu-west-1", "ses", "20261101T000000Z", 1,
      "GET\n/v2/email/suppression/addresses\n"
      "NextToken=abc%2Fdef%3D%3D&PageSize=1000"
      "&StartDate=2026-11-01T00%3A00%3A00Z\nhost:127.0.0.1:8080\n"
      "x-amz-date:20261101T000000Z\n\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      NULL,
      "83a44c97e6f99ee7536458fba2f83825b502d615c60c28110cad4b528ab45ec8" },
};
#define SIG_CASES ((int)(sizeof(sig_cases) / sizeof(sig_cases[0])))

/* build_req - the request of a case; h holds at least 4 headers */
static void
build_req(const struct sig_case *c, struct sg_sigv4_header *h,
          struct sg_sigv4_req *req)
{
    size_t n = 0;

    h[n].name = "Host";
    h[n++].value = c->host;
    h[n].name = "X-Amz-Date";
    h[n++].value = c->amz_date;
    if (c->extra_name != NULL) {
        h[n].name = c->extra_name;
        h[n++].value = c->extra_value;
    }
    if (c->token != NULL) {
        h[n].name = "X-Amz-Security-Token";
        h[n++].value = c->token;
    }
    memset(req, 0, sizeof(*req));
    req->method = c->method;
    req->path = c->path;
    req->query = c->query;
    req->headers = h;
    req->nheaders = n;
    req->payload = c->body;
    req->payload_len = strlen(c->body);
    req->region = c->region;
    req->service = c->service;
    req->amz_date = c->amz_date;
    req->double_encode = c->double_encode;
}

/* test_vectors - canonical request, string to sign, signature */
START_TEST(test_vectors)
{
    const struct sig_case *c = &sig_cases[_i];
    struct sg_sigv4_header h[4];
    struct sg_sigv4_req req;
    char authz[SG_SIGV4_AUTHZ_MAX], want[SG_SIGV4_AUTHZ_MAX];
    char *creq, *sts, *nl;
    const char *sig;

    build_req(c, h, &req);
    creq = sg_sigv4_canonical_request(&req);
    ck_assert_msg(creq != NULL, "%s: no canonical request", c->name);
    if (c->want_creq != NULL)
        ck_assert_msg(strcmp(creq, c->want_creq) == 0,
                      "%s: got\n%s\nwant\n%s", c->name, creq, c->want_creq);
    sts = sg_sigv4_string_to_sign(&req, creq);
    ck_assert_msg(sts != NULL, "%s: no string to sign", c->name);
    ck_assert_msg(strncmp(sts, "AWS4-HMAC-SHA256\n", 17) == 0,
                  "%s: got %s", c->name, sts);
    if (c->want_sts_hash != NULL) {
        nl = strrchr(sts, '\n');
        ck_assert_msg(nl != NULL && strcmp(nl + 1, c->want_sts_hash) == 0,
                      "%s: got %s, want %s", c->name, NS(nl),
                      c->want_sts_hash);
    }
    ck_assert_msg(sg_sigv4_authorization_buf(&req, "AKIDEXAMPLE",
                                             suite_secret, authz,
                                             sizeof(authz)) == authz,
                  "%s: no Authorization", c->name);
    sig = strstr(authz, "Signature=");
    ck_assert_msg(sig != NULL && strcmp(sig + 10, c->want_sig) == 0,
                  "%s: got %s, want %s", c->name, NS(sig), c->want_sig);
    snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
             "%.8s/%s/%s/aws4_request, SignedHeaders=", c->amz_date,
             c->region, c->service);
    ck_assert_msg(strncmp(authz, want, strlen(want)) == 0,
                  "%s: got %s, want prefix %s", c->name, authz, want);
    free(creq);
    free(sts);
}
END_TEST

/* test_session_token_signed - the token is a signed header */
START_TEST(test_session_token_signed)
{
    struct sg_sigv4_header h[4];
    struct sg_sigv4_req req;
    char authz[SG_SIGV4_AUTHZ_MAX];

    build_req(&sig_cases[3], h, &req);
    ck_assert_ptr_nonnull(sg_sigv4_authorization_buf(&req, "AKIDEXAMPLE",
                          suite_secret, authz, sizeof(authz)));
    ck_assert_msg(strstr(authz, "SignedHeaders=host;x-amz-date;"
                         "x-amz-security-token, ") != NULL, "got %s",
                  authz);
    ck_assert_msg(strstr(authz, suite_secret) == NULL,
                  "the secret leaked into %s", authz);
}
END_TEST

/* Header canonicalisation rows. */
struct head_case {
    const char *value;
    const char *want_line;
};

static const struct head_case head_cases[] = {
    { "value1", "my-header1:value1\n" },
    { "  value1  ", "my-header1:value1\n" },
    { "a   b\t c", "my-header1:a b c\n" },
    { "", "my-header1:\n" },
};

/* test_header_values - trimmed, inner space runs folded */
START_TEST(test_header_values)
{
    struct sg_sigv4_header h[3] = {
        { "Host", "example.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
        { "My-Header1", head_cases[_i].value },
    };
    struct sg_sigv4_req req;
    char *creq;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/";
    req.headers = h;
    req.nheaders = 3;
    req.region = "us-east-1";
    req.service = "service";
    req.amz_date = "20150830T123600Z";
    req.double_encode = 1;
    creq = sg_sigv4_canonical_request(&req);
    ck_assert_ptr_nonnull(creq);
    ck_assert_msg(strstr(creq, head_cases[_i].want_line) != NULL,
                  "got %s, want a line %s", creq, head_cases[_i].want_line);
    free(creq);
}
END_TEST

/* test_repeated_header - one line, values joined in request order */
START_TEST(test_repeated_header)
{
    struct sg_sigv4_header h[5] = {
        { "Host", "example.amazonaws.com" },
        { "My-Header1", "value2" },
        { "X-Amz-Date", "20150830T123600Z" },
        { "my-header1", "value2" },
        { "MY-HEADER1", "value1" },
    };
    struct sg_sigv4_req req;
    char *creq;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/";
    req.headers = h;
    req.nheaders = 5;
    req.double_encode = 1;
    creq = sg_sigv4_canonical_request(&req);
    ck_assert_ptr_nonnull(creq);
    ck_assert_msg(strstr(creq, empty_hash) != NULL
                  && strstr(creq, "my-header1:value2,value2,value1\n")
                  != NULL
                  && strstr(creq, "\nhost;my-header1;x-amz-date\n") != NULL,
                  "got %s", creq);
    free(creq);
}
END_TEST

/* test_s3_no_double_encode - S3 signs the path as sent */
START_TEST(test_s3_no_double_encode)
{
    struct sg_sigv4_header h[2] = {
        { "Host", "example.amazonaws.com" },
        { "X-Amz-Date", "20150830T123600Z" },
    };
    struct sg_sigv4_req req;
    char *creq;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/a%40b//c";
    req.headers = h;
    req.nheaders = 2;
    req.double_encode = 0;
    creq = sg_sigv4_canonical_request(&req);
    ck_assert_ptr_nonnull(creq);
    ck_assert_msg(strncmp(creq, "GET\n/a%40b//c\n", 14) == 0, "got %s",
                  creq);
    free(creq);
}
END_TEST

/* Malformed requests. */
struct bad_case {
    const char *name;
    const char *method;
    const char *query;
    const char *amz_date;
};

static const struct bad_case bad_cases[] = {
    { "no method", NULL, NULL, "20150830T123600Z" },
    { "bad escape", "GET", "a=%zz", "20150830T123600Z" },
    { "short escape", "GET", "a=%4", "20150830T123600Z" },
    { "bad date", "GET", NULL, "2015-08-30T12:36" },
};

/* test_malformed - refused, no crash */
START_TEST(test_malformed)
{
    const struct bad_case *c = &bad_cases[_i];
    struct sg_sigv4_header h[2] = {
        { "Host", "example.amazonaws.com" },
        { "X-Amz-Date", "x" },
    };
    struct sg_sigv4_req req;
    char authz[SG_SIGV4_AUTHZ_MAX];

    memset(&req, 0, sizeof(req));
    req.method = c->method;
    req.path = "/";
    req.query = c->query;
    req.headers = h;
    req.nheaders = 2;
    req.region = "us-east-1";
    req.service = "ses";
    req.amz_date = c->amz_date;
    req.double_encode = 1;
    ck_assert_msg(sg_sigv4_authorization_buf(&req, "AKID", "secret", authz,
                                             sizeof(authz)) == NULL,
                  "%s: got %s, want NULL", c->name, authz);
}
END_TEST

/* test_small_buffer - NULL, never a truncated header */
START_TEST(test_small_buffer)
{
    struct sg_sigv4_header h[4];
    struct sg_sigv4_req req;
    char authz[64];

    build_req(&sig_cases[0], h, &req);
    ck_assert_ptr_null(sg_sigv4_authorization_buf(&req, "AKIDEXAMPLE",
                       suite_secret, authz, sizeof(authz)));
}
END_TEST

/* test_uri_encode - SigV4's unreserved set, upper-case hex */
START_TEST(test_uri_encode)
{
    char buf[128];

    ck_assert_str_eq(sg_sigv4_uri_encode_buf("user+x@example.com", 18, 0,
                                             buf, sizeof(buf)),
                     "user%2Bx%40example.com");
    ck_assert_str_eq(sg_sigv4_uri_encode_buf("a b/~c", 6, 1, buf,
                                             sizeof(buf)), "a%20b/~c");
    ck_assert_str_eq(sg_sigv4_uri_encode_buf("a/b", 3, 0, buf,
                                             sizeof(buf)), "a%2Fb");
    ck_assert_ptr_null(sg_sigv4_uri_encode_buf("@@@@", 4, 0, buf, 12));
}
END_TEST

/* test_amz_date - epoch to X-Amz-Date */
START_TEST(test_amz_date)
{
    char buf[SG_SIGV4_AMZDATE_LEN + 1];

    ck_assert_str_eq(sg_sigv4_amz_date_buf(1440938160LL, buf, sizeof(buf)),
                     "20150830T123600Z");
    ck_assert_ptr_null(sg_sigv4_amz_date_buf(0, buf, 8));
}
END_TEST

/* test_signing_key - the derived key of the suite's date and scope */
START_TEST(test_signing_key)
{
    unsigned char k[32], k2[32];

    ck_assert_int_eq(sg_sigv4_signing_key(suite_secret, "20150830",
                                          "us-east-1", "service", k), 0);
    ck_assert_int_eq(sg_sigv4_signing_key(suite_secret, "20150830T1236",
                                          "us-east-1", "service", k2), 0);
    ck_assert_msg(memcmp(k, k2, 32) == 0, "only 8 date characters count");
    ck_assert_int_eq(sg_sigv4_signing_key(NULL, "20150830", "us-east-1",
                                          "ses", k), -1);
}
END_TEST

Suite *
sg_sigv4_suite(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("sigv4");

    tcase_add_loop_test(tc, test_vectors, 0, SIG_CASES);
    tcase_add_test(tc, test_session_token_signed);
    tcase_add_loop_test(tc, test_header_values, 0,
                        (int)(sizeof(head_cases) / sizeof(head_cases[0])));
    tcase_add_test(tc, test_repeated_header);
    tcase_add_test(tc, test_s3_no_double_encode);
    tcase_add_loop_test(tc, test_malformed, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, test_small_buffer);
    tcase_add_test(tc, test_uri_encode);
    tcase_add_test(tc, test_amz_date);
    tcase_add_test(tc, test_signing_key);
    suite_add_tcase(s, tc);
    return s;
}
