/*
 * check_addr.c - unit suite for addr.c: paths, headers, IDN, labels
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "check_suites.h"
#include "sesgate.h"
#include "addr.h"

/* Result arrays are too large for a test's stack frame. */
static struct sg_addr results[SG_HDR_MAX_ADDRS + 2];

/* err_name - the enumerator name of a parse error, for messages */
static const char *
err_name(SG_ADDR_ERR err)
{
    switch (err) {
    case SG_ADDR_OK:
        return "OK";
    case SG_ADDR_ESYNTAX:
        return "ESYNTAX";
    case SG_ADDR_ENONASCII:
        return "ENONASCII";
    case SG_ADDR_ETOOLONG:
        return "ETOOLONG";
    case SG_ADDR_ETOOMANY:
        return "ETOOMANY";
    case SG_ADDR_EIDN:
        return "EIDN";
    case SG_ADDR_EEMPTY:
        return "EEMPTY";
    }
    return "?";
}

/*
 * Envelope paths. null_ok: pass an is_null pointer; want_null: the
 * is_null wanted. want_local/want_domain NULL: not checked.
 */
struct path_row {
    const char *in;
    int null_ok;
    SG_ADDR_ERR want_err;
    int want_null;
    const char *want_addr;
    const char *want_local;
    const char *want_domain;
};

static const struct path_row path_rows[] = {
    /* Angle, bare, white space. */
    {"<a@b>", 1, SG_ADDR_OK, 0, "a@b", "a", "b"},
    {"a@b", 1, SG_ADDR_OK, 0, "a@b", "a", "b"},
    {"  <user@example.com>\t", 1, SG_ADDR_OK, 0, "user@example.com",
     "user", "example.com"},
    {" user@example.com\r\n", 0, SG_ADDR_OK, 0, "user@example.com",
     NULL, NULL},
    {"< user@example.com >", 0, SG_ADDR_OK, 0, "user@example.com",
     NULL, NULL},
    {"<first.last@sub.example.org>", 0, SG_ADDR_OK, 0,
     "first.last@sub.example.org", "first.last", "sub.example.org"},
    {"<o'brien+tag=x@example.com>", 0, SG_ADDR_OK, 0,
     "o'brien+tag=x@example.com", "o'brien+tag=x", NULL},
    /* Null path. */
    {"<>", 1, SG_ADDR_OK, 1, "", "", ""},
    {"  <>  ", 1, SG_ADDR_OK, 1, "", "", ""},
    {"<>", 0, SG_ADDR_EEMPTY, 0, NULL, NULL, NULL},
    {"", 1, SG_ADDR_EEMPTY, 0, NULL, NULL, NULL},
    {"   ", 1, SG_ADDR_EEMPTY, 0, NULL, NULL, NULL},
    /* Source routes are dropped. */
    {"<@r1,@r2:a@b>", 1, SG_ADDR_OK, 0, "a@b", "a", "b"},
    {"<@relay.example:user@example.com>", 0, SG_ADDR_OK, 0,
     "user@example.com", NULL, NULL},
    {"<@r1,@r2>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<@r1:>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<@:a@b>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    /* Quoted local parts. */
    {"<\"john doe\"@x>", 0, SG_ADDR_OK, 0, "\"john doe\"@x",
     "\"john doe\"", "x"},
    {"<\"john\"@x>", 0, SG_ADDR_OK, 0, "john@x", "john", "x"},
    {"\"john.doe\"@x", 0, SG_ADDR_OK, 0, "john.doe@x", "john.doe", "x"},
    {"\"a\\\"b\"@x", 0, SG_ADDR_OK, 0, "\"a\\\"b\"@x", "\"a\\\"b\"", "x"},
    {"\"a\\\\b\"@x", 0, SG_ADDR_OK, 0, "\"a\\\\b\"@x", NULL, NULL},
    {"\"a\\bc\"@x", 0, SG_ADDR_OK, 0, "abc@x", "abc", NULL},
    {"\"a..b\"@x", 0, SG_ADDR_OK, 0, "\"a..b\"@x", NULL, NULL},
    {"\".a\"@x", 0, SG_ADDR_OK, 0, "\".a\"@x", NULL, NULL},
    {"\"a@b\"@x", 0, SG_ADDR_OK, 0, "\"a@b\"@x", NULL, NULL},
    {"\"\"@x", 0, SG_ADDR_OK, 0, "\"\"@x", "\"\"", NULL},
    {"\"unterminated@x", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"\"a\rb\"@x", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    /* Case: local kept, domain lowered; trailing dot dropped. */
    {"<Sender@EXAMPLE.COM>", 0, SG_ADDR_OK, 0, "Sender@example.com",
     "Sender", "example.com"},
    {"a@Example.COM.", 0, SG_ADDR_OK, 0, "a@example.com", NULL,
     "example.com"},
    {"a@under_score.example", 0, SG_ADDR_OK, 0, "a@under_score.example",
     NULL, NULL},
    /* Address literals, kept as written. */
    {"<a@[192.0.2.1]>", 0, SG_ADDR_OK, 0, "a@[192.0.2.1]", "a",
     "[192.0.2.1]"},
    {"a@[IPv6:2001:db8::1]", 0, SG_ADDR_OK, 0, "a@[IPv6:2001:db8::1]",
     NULL, "[IPv6:2001:db8::1]"},
    {"a@[x-tag:stuff]", 0, SG_ADDR_OK, 0, "a@[x-tag:stuff]", NULL, NULL},
    {"a@[192.0.2.256]", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@[IPv6:zz::1]", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@[]", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@[1.2.3.4", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@[1.2.3.4].x", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    /* IDN domains to Punycode. */
    {"<a@b\xc3\xbc" "cher.example>", 0, SG_ADDR_OK, 0,
     "a@xn--bcher-kva.example", "a", "xn--bcher-kva.example"},
    {"a@\xe4\xbe\x8b\xe3\x81\x88.jp", 0, SG_ADDR_OK, 0,
     "a@xn--r8jz45g.jp", NULL, "xn--r8jz45g.jp"},
    {"a@B\xc3\xbc" "cher.Example", 0, SG_ADDR_OK, 0,
     "a@xn--bcher-kva.example", NULL, NULL},
    {"a@xn--bcher-kva.example", 0, SG_ADDR_OK, 0,
     "a@xn--bcher-kva.example", NULL, NULL},
    {"a@b\xfc" "cher.example", 0, SG_ADDR_EIDN, 0, NULL, NULL, NULL},
    {"a@\xc3", 0, SG_ADDR_EIDN, 0, NULL, NULL, NULL},
    /* Non-ASCII local part (no SMTPUTF8). */
    {"<j\xc3\xb6rg@example.com>", 0, SG_ADDR_ENONASCII, 0, NULL, NULL,
     NULL},
    {"\"j\xc3\xb6rg\"@example.com", 0, SG_ADDR_ENONASCII, 0, NULL, NULL,
     NULL},
    /* Garbage. */
    {"a@", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"@b", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@@b", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<a@b", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<<a@b>>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a b@c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"postmaster", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<postmaster>", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a..b@c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {".a@c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a.@c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b..c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@.b", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@.", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b.c..", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b/c", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a(c)@b", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"<a@b> x", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
    {"a@b, c@d", 0, SG_ADDR_ESYNTAX, 0, NULL, NULL, NULL},
};

/* test_path - one envelope path row */
START_TEST(test_path)
{
    const struct path_row *r = &path_rows[_i];
    struct sg_addr a;
    int is_null = -1;
    SG_ADDR_ERR err;

    memset(&a, 0x55, sizeof(a));
    err = sg_addr_parse_path(r->in, &a, r->null_ok ? &is_null : NULL);
    ck_assert_msg(err == r->want_err, "%s: got %s, want %s", r->in,
                  err_name(err), err_name(r->want_err));
    if (err != SG_ADDR_OK)
        return;
    ck_assert_msg(is_null == (r->null_ok ? r->want_null : -1),
                  "%s: is_null got %d, want %d", r->in, is_null,
                  r->want_null);
    ck_assert_msg(strcmp(a.addr, r->want_addr) == 0,
                  "%s: got %s, want %s", r->in, a.addr, r->want_addr);
    ck_assert_msg(r->want_local == NULL
                  || strcmp(a.local, r->want_local) == 0,
                  "%s: local got %s, want %s", r->in, a.local,
                  r->want_local);
    ck_assert_msg(r->want_domain == NULL
                  || strcmp(a.domain, r->want_domain) == 0,
                  "%s: domain got %s, want %s", r->in, a.domain,
                  r->want_domain);
    ck_assert_msg(strcmp(a.display, "") == 0,
                  "%s: display got %s, want \"\"", r->in, a.display);
}
END_TEST

/*
 * Header values. want_addrs: the addresses joined by ","; want_display:
 * the display names joined by "|". max 0 means SG_HDR_MAX_ADDRS.
 */
struct hdr_row {
    const char *in;
    SG_ADDR_ERR want_err;
    size_t want_n;
    const char *want_addrs;
    const char *want_display;
};

static const struct hdr_row hdr_rows[] = {
    {"Ann Mathon <contact@annmathon.com.au>", SG_ADDR_OK, 1,
     "contact@annmathon.com.au", "Ann Mathon"},
    {"\"Doe, John\" <j@x>, k@y", SG_ADDR_OK, 2, "j@x,k@y",
     "\"Doe, John\"|"},
    {"a@b (comment (nested))", SG_ADDR_OK, 1, "a@b", ""},
    {"a@b (comment \\) (nested))", SG_ADDR_OK, 1, "a@b", ""},
    {"(lead) a (mid) . b @ (x) c . d (tail)", SG_ADDR_OK, 1, "a.b@c.d",
     ""},
    {"Team: a@x, B <b@y>;, c@z", SG_ADDR_OK, 3, "a@x,b@y,c@z", "|B|"},
    {"undisclosed-recipients:;", SG_ADDR_OK, 0, "", ""},
    {"undisclosed-recipients: ;", SG_ADDR_OK, 0, "", ""},
    {"undisclosed-recipients:", SG_ADDR_OK, 0, "", ""},
    {"A: a@x;, B: ;, C: c@z;", SG_ADDR_OK, 2, "a@x,c@z", "|"},
    {"A: b: c@d;;", SG_ADDR_ESYNTAX, 0, "", ""},
    {"=?utf-8?q?J=C3=B6rg?= <j@x>", SG_ADDR_OK, 1, "j@x",
     "=?utf-8?q?J=C3=B6rg?="},
    {"J\xc3\xb6rg <j@x>", SG_ADDR_OK, 1, "j@x", "J\xc3\xb6rg"},
    {"\"J\xc3\xb6rg\" <j@x>", SG_ADDR_OK, 1, "j@x", "\"J\xc3\xb6rg\""},
    {"Ann\r\n Mathon <a@b>,\r\n\tc@d", SG_ADDR_OK, 2, "a@b,c@d",
     "Ann Mathon|"},
    {"\"Ann\r\n Mathon\" <a@b>", SG_ADDR_OK, 1, "a@b", "\"Ann Mathon\""},
    {"Ann\n\tMathon\n <a@b>", SG_ADDR_OK, 1, "a@b", "Ann Mathon"},
    {"  John Q. Public  <jqp@example.com>  ", SG_ADDR_OK, 1,
     "jqp@example.com", "John Q. Public"},
    {"John (the man) Doe <j@x>", SG_ADDR_OK, 1, "j@x",
     "John (the man) Doe"},
    {"<j@x>", SG_ADDR_OK, 1, "j@x", ""},
    {"<>", SG_ADDR_OK, 0, "", ""},
    {" <> ", SG_ADDR_OK, 0, "", ""},
    {"", SG_ADDR_OK, 0, "", ""},
    {"  (just a comment) ", SG_ADDR_OK, 0, "", ""},
    {"a@b, , ,c@d,", SG_ADDR_OK, 2, "a@b,c@d", "|"},
    {",a@b", SG_ADDR_OK, 1, "a@b", ""},
    {"<@r1,@r2:a@b>", SG_ADDR_OK, 1, "a@b", ""},
    {"Old <@r1, @r2:a@b>", SG_ADDR_OK, 1, "a@b", "Old"},
    {"Sender@EXAMPLE.COM", SG_ADDR_OK, 1, "Sender@example.com", ""},
    {"\"john\"@x, \"john doe\"@x", SG_ADDR_OK, 2,
     "john@x,\"john doe\"@x", "|"},
    {"x@b\xc3\xbc" "cher.example", SG_ADDR_OK, 1,
     "x@xn--bcher-kva.example", ""},
    {"a@[192.0.2.1]", SG_ADDR_OK, 1, "a@[192.0.2.1]", ""},
    /* RFC 5322 Appendix A. */
    {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
     SG_ADDR_OK, 3, "mary@x.test,jdoe@example.org,one@y.test",
     "Mary Smith||Who?"},
    {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
     SG_ADDR_OK, 2, "boss@nil.test,sysservices@example.net",
     "|\"Giant; \\\"Big\\\" Box\""},
    {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
     SG_ADDR_OK, 3, "c@a.test,joe@where.test,jdoe@one.test",
     "Ed Jones||John"},
    {"A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)"
     "public.example>,\r\n         joe@example.org,\r\n  John "
     "<jdoe@one.test> (my dear friend); (the end of the group)",
     SG_ADDR_OK, 3, "c@public.example,joe@example.org,jdoe@one.test",
     "Chris Jones||John"},
    {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
     SG_ADDR_OK, 1, "pete@silly.test", "Pete"},
    {"Joe Q. Public <john.q.public@example.com>", SG_ADDR_OK, 1,
     "john.q.public@example.com", "Joe Q. Public"},
    {"Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
     SG_ADDR_OK, 2, "mary@example.net,jdoe@test.example", "Mary Smith|"},
    /* Errors; the count is what was parsed before the error. */
    {"a@b, j\xc3\xb6rg@x", SG_ADDR_ENONASCII, 1, "a@b", ""},
    {"a@b, c@d, garbage", SG_ADDR_ESYNTAX, 2, "a@b,c@d", "|"},
    {"a b@c", SG_ADDR_ESYNTAX, 0, "", ""},
    {"a@b c@d", SG_ADDR_ESYNTAX, 1, "a@b", ""},
    {"a@b <c@d>", SG_ADDR_ESYNTAX, 1, "a@b", ""},
    {"Ann <a@b", SG_ADDR_ESYNTAX, 0, "", ""},
    {"Ann a@b", SG_ADDR_ESYNTAX, 0, "", ""},
    {"a@b (unterminated", SG_ADDR_ESYNTAX, 0, "", ""},
    {"\"unterminated <a@b>", SG_ADDR_ESYNTAX, 0, "", ""},
    {"postmaster", SG_ADDR_ESYNTAX, 0, "", ""},
    {"a@b; c@d", SG_ADDR_ESYNTAX, 1, "a@b", ""},
    {"a@", SG_ADDR_ESYNTAX, 0, "", ""},
    {"@b", SG_ADDR_ESYNTAX, 0, "", ""},
    {"a@@b", SG_ADDR_ESYNTAX, 0, "", ""},
    {"<a@b", SG_ADDR_ESYNTAX, 0, "", ""},
    {": a@b;", SG_ADDR_ESYNTAX, 0, "", ""},
};

/* join_results - the addresses (sep ',') or display names (sep '|') */
static void
join_results(const struct sg_addr *a, size_t n, int display, char *buf,
             size_t size)
{
    const char *p;
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (i > 0 && o + 1 < size)
            buf[o++] = display ? '|' : ',';
        for (p = display ? a[i].display : a[i].addr; *p != '\0'; p++)
            if (o + 1 < size)
                buf[o++] = *p;
    }
    buf[o] = '\0';
}

/* test_header - one header value row */
START_TEST(test_header)
{
    const struct hdr_row *r = &hdr_rows[_i];
    char got[4096];
    size_t n = 999;
    SG_ADDR_ERR err;

    err = sg_addr_parse_header(r->in, strlen(r->in), results,
                               SG_HDR_MAX_ADDRS, &n);
    ck_assert_msg(err == r->want_err, "%s: got %s, want %s", r->in,
                  err_name(err), err_name(r->want_err));
    ck_assert_msg(n == r->want_n, "%s: n got %zu, want %zu", r->in, n,
                  r->want_n);
    join_results(results, n, 0, got, sizeof(got));
    ck_assert_msg(strcmp(got, r->want_addrs) == 0, "%s: got %s, want %s",
                  r->in, got, r->want_addrs);
    join_results(results, n, 1, got, sizeof(got));
    ck_assert_msg(strcmp(got, r->want_display) == 0,
                  "%s: display got %s, want %s", r->in, got,
                  r->want_display);
}
END_TEST

/* Domain conversion (want NULL: refused). */
struct domain_row {
    const char *in;
    const char *want;
};

static const struct domain_row domain_rows[] = {
    {"example.com", "example.com"},
    {"EXAMPLE.Com", "example.com"},
    {"example.com.", "example.com"},
    {"b\xc3\xbc" "cher.example", "xn--bcher-kva.example"},
    {"\xe4\xbe\x8b\xe3\x81\x88.jp", "xn--r8jz45g.jp"},
    {"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de"},
    {"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.test",
     "xn--e1afmkfd.test"},
    {"\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--zckzah"},
    {"\xe4\xb8\xad\xe5\x9b\xbd", "xn--fiqs8s"},
    /* RFC 3492 7.1 (L), basic code points lower-cased. */
    {"3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88"
     "\xe7\x94\x9f", "xn--3b-ww4c5e180e575a65lsy2b"},
    /* RFC 3492 7.1 (A), Arabic (Egyptian). */
    {"\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83"
     "\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"
     "\xd8\x9f", "xn--egbpdaj6bu4bxfgehfvwxn"},
    /* A code point above the BMP. */
    {"\xf0\x9f\x98\x80", "xn--e28h"},
    {"_dmarc.example", "_dmarc.example"},
    {"", NULL},
    {".", NULL},
    {"a..b", NULL},
    {".a", NULL},
    {"a b", NULL},
    {"a@b", NULL},
    {"[192.0.2.1]", NULL},
    {"\xc3", NULL},                 /* truncated UTF-8 */
    {"\xc0\xaf", NULL},             /* overlong */
    {"\xed\xa0\x80", NULL},         /* surrogate */
    {"\xf4\x90\x80\x80", NULL},     /* above U+10FFFF */
    {"\xfc", NULL},
    /* 63 is the longest label, 64 too long. */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     NULL},
};

/* test_domain - one domain conversion row */
START_TEST(test_domain)
{
    const struct domain_row *r = &domain_rows[_i];
    char buf[300];
    const char *got;

    got = sg_addr_domain_to_ascii_buf(r->in, strlen(r->in), buf,
                                      sizeof(buf));
    ck_assert_msg((got == NULL) == (r->want == NULL),
                  "%s: got %s, want %s", r->in, got ? got : "NULL",
                  r->want ? r->want : "NULL");
    if (got != NULL)
        ck_assert_msg(strcmp(got, r->want) == 0, "%s: got %s, want %s",
                      r->in, got, r->want);
}
END_TEST

/* test_domain_bounds - buffer size, in_len, the 253-octet limit */
START_TEST(test_domain_bounds)
{
    char buf[400], in[300];
    size_t i;

    /* The result plus its NUL must fit. */
    ck_assert_ptr_nonnull(sg_addr_domain_to_ascii_buf("abc", 3, buf, 4));
    ck_assert_ptr_null(sg_addr_domain_to_ascii_buf("abc", 3, buf, 3));
    ck_assert_ptr_null(sg_addr_domain_to_ascii_buf("abc", 3, buf, 0));
    ck_assert_ptr_null(sg_addr_domain_to_ascii_buf(NULL, 0, buf, 4));
    ck_assert_ptr_null(sg_addr_domain_to_ascii_buf("b\xc3\xbc" "cher", 7,
                                                   buf, 13));
    ck_assert_ptr_nonnull(sg_addr_domain_to_ascii_buf("b\xc3\xbc" "cher", 7,
                                                      buf, 14));
    /* in_len is honoured: no NUL needed. */
    ck_assert_ptr_nonnull(sg_addr_domain_to_ascii_buf("ab.cdXYZ", 5, buf,
                                                      sizeof(buf)));
    ck_assert_str_eq(buf, "ab.cd");
    /* 253 octets pass, 255 do not ("a.a.a..."). */
    for (i = 0; i < sizeof(in); i++)
        in[i] = (i % 2 == 0) ? 'a' : '.';
    ck_assert_ptr_nonnull(sg_addr_domain_to_ascii_buf(in, 253, buf,
                                                      sizeof(buf)));
    ck_assert_uint_eq(strlen(buf), 253);
    ck_assert_ptr_null(sg_addr_domain_to_ascii_buf(in, 255, buf,
                                                   sizeof(buf)));
}
END_TEST

/* Label stripping: a parsed path, the stripped form or NULL. */
struct label_row {
    const char *in;
    const char *want;
};

static const struct label_row label_rows[] = {
    {"a+b@x", "a@x"},
    {"Sender+news@EXAMPLE.com", "Sender@example.com"},
    {"a+b+c@x", "a@x"},
    {"a+@x", "a@x"},
    {"+b@x", NULL},
    {"ab@x", NULL},
    {"\"a+b c\"@x", NULL},
    {"\"a+b\"@x", "a@x"},
};

/* test_label - one label stripping row */
START_TEST(test_label)
{
    const struct label_row *r = &label_rows[_i];
    struct sg_addr a;
    char buf[SG_ADDR_MAX + 1];
    const char *got;
    SG_ADDR_ERR err;

    err = sg_addr_parse_path(r->in, &a, NULL);
    ck_assert_msg(err == SG_ADDR_OK, "%s: got %s, want OK", r->in,
                  err_name(err));
    got = sg_addr_strip_label_buf(&a, buf, sizeof(buf));
    ck_assert_msg((got == NULL) == (r->want == NULL),
                  "%s: got %s, want %s", r->in, got ? got : "NULL",
                  r->want ? r->want : "NULL");
    if (got != NULL)
        ck_assert_msg(strcmp(got, r->want) == 0, "%s: got %s, want %s",
                      r->in, got, r->want);
}
END_TEST

/* test_label_fit - the stripped address must fit the buffer */
START_TEST(test_label_fit)
{
    struct sg_addr a;
    char buf[8];

    ck_assert_int_eq(sg_addr_parse_path("ab+c@xyz", &a, NULL), SG_ADDR_OK);
    ck_assert_ptr_nonnull(sg_addr_strip_label_buf(&a, buf, 7));
    ck_assert_str_eq(buf, "ab@xyz");
    ck_assert_ptr_null(sg_addr_strip_label_buf(&a, buf, 6));
    ck_assert_ptr_null(sg_addr_strip_label_buf(NULL, buf, sizeof(buf)));
}
END_TEST

/* test_path_too_long - SG_ADDR_MAX is the limit of the normal form */
START_TEST(test_path_too_long)
{
    static char in[SG_HDR_MAX + 16];
    struct sg_addr a;
    size_t local;

    /* local (320 - 12) "@" "example.com" (11) = 320 octets: fits. */
    local = SG_ADDR_MAX - 12;
    memset(in, 'a', local);
    strcpy(in + local, "@example.com");
    ck_assert_int_eq(sg_addr_parse_path(in, &a, NULL), SG_ADDR_OK);
    ck_assert_uint_eq(strlen(a.addr), SG_ADDR_MAX);

    /* One more octet: too long. */
    memset(in, 'a', local + 1);
    strcpy(in + local + 1, "@example.com");
    ck_assert_int_eq(sg_addr_parse_path(in, &a, NULL), SG_ADDR_ETOOLONG);

    /* A local part alone over the limit. */
    memset(in, 'a', SG_ADDR_MAX + 5);
    strcpy(in + SG_ADDR_MAX + 5, "@x");
    ck_assert_int_eq(sg_addr_parse_path(in, &a, NULL), SG_ADDR_ETOOLONG);

    /* Quoting makes the normal form longer than the input content. */
    in[0] = '"';
    memset(in + 1, ' ', SG_ADDR_MAX - 3);
    strcpy(in + SG_ADDR_MAX - 2, "\"@x");
    ck_assert_int_eq(sg_addr_parse_path(in, &a, NULL), SG_ADDR_ETOOLONG);

    /* A huge input is refused without being walked past the bound. */
    memset(in, ' ', SG_HDR_MAX + 1);
    in[SG_HDR_MAX + 1] = '\0';
    ck_assert_int_eq(sg_addr_parse_path(in, &a, NULL), SG_ADDR_ETOOLONG);

    /* NULL input is an empty path. */
    ck_assert_int_eq(sg_addr_parse_path(NULL, &a, NULL), SG_ADDR_EEMPTY);
}
END_TEST

/* test_header_bounds - address count, value length, NULL arguments */
START_TEST(test_header_bounds)
{
    static char in[SG_HDR_MAX + 2];
    size_t n, i, len = 0;

    /* 100 addresses pass, the 101st is one too many. */
    for (i = 0; i < SG_HDR_MAX_ADDRS + 1; i++)
        len += (size_t) sprintf(in + len, "%su%zu@example.com",
                                i > 0 ? ", " : "", i);
    ck_assert_int_eq(sg_addr_parse_header(in, len, results,
                                          SG_HDR_MAX_ADDRS + 2, &n),
                     SG_ADDR_ETOOMANY);
    ck_assert_uint_eq(n, SG_HDR_MAX_ADDRS);
    ck_assert_str_eq(results[99].addr, "u99@example.com");
    ck_assert_int_eq(sg_addr_parse_header(in, strlen(in) -
                                          strlen(", u100@example.com"),
                                          results, SG_HDR_MAX_ADDRS, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(n, SG_HDR_MAX_ADDRS);

    /* The caller's max is honoured too. */
    ck_assert_int_eq(sg_addr_parse_header("a@b, c@d, e@f", 13, results, 2,
                                          &n), SG_ADDR_ETOOMANY);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(sg_addr_parse_header("a@b", 3, results, 0, &n),
                     SG_ADDR_ETOOMANY);
    ck_assert_uint_eq(n, 0);
    /* "<>" and empty groups do not count. */
    ck_assert_int_eq(sg_addr_parse_header("<>, g:;, a@b", 12, results, 1,
                                          &n), SG_ADDR_OK);
    ck_assert_uint_eq(n, 1);

    /* Value length. */
    memset(in, ' ', SG_HDR_MAX + 1);
    memcpy(in, "a@b", 3);
    ck_assert_int_eq(sg_addr_parse_header(in, SG_HDR_MAX, results, 1, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(sg_addr_parse_header(in, SG_HDR_MAX + 1, results, 1,
                                          &n), SG_ADDR_ETOOLONG);
    ck_assert_uint_eq(n, 0);

    /* A NUL inside the value is not white space. */
    ck_assert_int_eq(sg_addr_parse_header("a@b\0c", 5, results, 1, &n),
                     SG_ADDR_ESYNTAX);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(sg_addr_parse_header("A (\0) <a@b>", 12, results, 1,
                                          &n), SG_ADDR_ESYNTAX);

    /* NULL value, NULL count. */
    ck_assert_int_eq(sg_addr_parse_header(NULL, 0, results, 1, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sg_addr_parse_header("a@b", 3, results, 1, NULL),
                     SG_ADDR_OK);
}
END_TEST

/* test_display_truncate - long display names, cut on a UTF-8 boundary */
START_TEST(test_display_truncate)
{
    static char in[1024];
    size_t n, len;

    /* 300 ASCII letters: cut to SG_DISPLAY_MAX. */
    memset(in, 'x', 300);
    strcpy(in + 300, " <a@b>");
    ck_assert_int_eq(sg_addr_parse_header(in, strlen(in), results, 1, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(strlen(results[0].display), SG_DISPLAY_MAX);

    /* 255 letters then "o-umlaut": the 2-byte character would straddle
     * the limit, so it is dropped whole. */
    memset(in, 'x', 255);
    strcpy(in + 255, "\xc3\xb6\xc3\xb6 <a@b>");
    len = strlen(in);
    ck_assert_int_eq(sg_addr_parse_header(in, len, results, 1, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(strlen(results[0].display), 255);
    ck_assert_str_eq(results[0].addr, "a@b");
}
END_TEST

/* test_strerror - every error has its own text */
START_TEST(test_strerror)
{
    SG_ADDR_ERR e, f;

    for (e = SG_ADDR_OK; e <= SG_ADDR_EEMPTY; e++) {
        ck_assert_ptr_nonnull(sg_addr_strerror(e));
        for (f = SG_ADDR_OK; f < e; f++)
            ck_assert_str_ne(sg_addr_strerror(e), sg_addr_strerror(f));
    }
    ck_assert_ptr_nonnull(sg_addr_strerror((SG_ADDR_ERR) 99));
}
END_TEST

/* test_roundtrip - a parsed normal form parses to itself */
START_TEST(test_roundtrip)
{
    struct sg_addr b;
    size_t n, i;
    SG_ADDR_ERR err;
    static const char in[] =
        "\"john doe\"@x, \"a\\\"b\"@y, Z <@r:\"q\\\\\"@[IPv6:::1]>, "
        "k@B\xc3\xbc" "cher.example.";

    ck_assert_int_eq(sg_addr_parse_header(in, strlen(in), results, 10, &n),
                     SG_ADDR_OK);
    ck_assert_uint_eq(n, 4);
    for (i = 0; i < n; i++) {
        err = sg_addr_parse_path(results[i].addr, &b, NULL);
        ck_assert_msg(err == SG_ADDR_OK, "%s: got %s, want OK",
                      results[i].addr, err_name(err));
        ck_assert_msg(strcmp(b.addr, results[i].addr) == 0,
                      "got %s, want %s", b.addr, results[i].addr);
    }
}
END_TEST

/* sg_addr_suite - the addr module's suite */
Suite *
sg_addr_suite(void)
{
    Suite *s = suite_create("addr");
    TCase *tc;

    tc = tcase_create("path");
    tcase_add_loop_test(tc, test_path, 0,
                        (int) (sizeof(path_rows) / sizeof(path_rows[0])));
    tcase_add_test(tc, test_path_too_long);
    suite_add_tcase(s, tc);

    tc = tcase_create("header");
    tcase_add_loop_test(tc, test_header, 0,
                        (int) (sizeof(hdr_rows) / sizeof(hdr_rows[0])));
    tcase_add_test(tc, test_header_bounds);
    tcase_add_test(tc, test_display_truncate);
    tcase_add_test(tc, test_roundtrip);
    suite_add_tcase(s, tc);

    tc = tcase_create("domain");
    tcase_add_loop_test(tc, test_domain, 0,
                        (int) (sizeof(domain_rows) / sizeof(domain_rows[0])));
    tcase_add_test(tc, test_domain_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("label");
    tcase_add_loop_test(tc, test_label, 0,
                        (int) (sizeof(label_rows) / sizeof(label_rows[0])));
    tcase_add_test(tc, test_label_fit);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);
    return s;
}
