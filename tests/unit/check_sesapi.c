/*
 * check_sesapi.c - unit suite of sesapi.c's answer parsers
 *
 * Table-driven, no network: the v2 answers (GetAccount and
 * GetEmailIdentity through sg_sesapi_parse_object; ListEmailIdentities,
 * ListConfigurationSets and ListSuppressedDestinations pages through
 * sg_sesapi_parse_page), SES's error shapes (sg_sesapi_parse_error)
 * and the v1 Query answers (sg_sesapi_xml_to_json, then the
 * GetIdentityNotificationAttributes and DescribeActiveReceiptRuleSet
 * extractors of sesapi_int.h). Shapes: ses-facts.md 6.2 and 13.3.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>
#include <jansson.h>

/* Local headers. */
#include "sesgate.h"
#include "sesapi.h"
#include "sesapi_int.h"
#include "state.h"
#include "state_int.h"
#include "check_suites.h"

/* ------------------------------------------------------------------ */
/* v2 objects: GetAccount, GetEmailIdentity                            */
/* ------------------------------------------------------------------ */

struct obj_case {
    const char *body;
    int ok;
    const char *path;           /* "A.B" to a value checked, or NULL */
    const char *want;           /* that value dumped compactly */
    const char *err;            /* substring of the error when !ok */
};

static const struct obj_case obj_cases[] = {
    /* GetAccount (ses-facts.md 6.2) */
    { "{\"ProductionAccessEnabled\":true,\"SendQuota\":{\"Max24HourSend\":"
      "50000.0,\"MaxSendRate\":14.0,\"SentLast24Hours\":12.0},"
      "\"SendingEnabled\":true,\"EnforcementStatus\":\"HEALTHY\","
      "\"Details\":{\"MailType\":\"TRANSACTIONAL\"}}", 1,
      "SendQuota.MaxSendRate", "14.0", NULL },
    { "{\"ProductionAccessEnabled\":false,\"SendingEnabled\":false,"
      "\"EnforcementStatus\":\"SHUTDOWN\"}", 1, "EnforcementStatus",
      "\"SHUTDOWN\"", NULL },
    /* GetEmailIdentity */
    { "{\"IdentityType\":\"DOMAIN\",\"FeedbackForwardingStatus\":true,"
      "\"VerifiedForSendingStatus\":true,\"DkimAttributes\":{"
      "\"SigningEnabled\":true,\"Status\":\"SUCCESS\",\"Tokens\":[\"a\","
      "\"b\",\"c\"]},\"MailFromAttributes\":{\"MailFromDomain\":"
      "\"bounce.example.com\",\"MailFromDomainStatus\":\"SUCCESS\","
      "\"BehaviorOnMxFailure\":\"USE_DEFAULT_VALUE\"},\"Policies\":{},"
      "\"ConfigurationSetName\":\"cs\",\"VerificationStatus\":"
      "\"SUCCESS\"}", 1, "DkimAttributes.Status", "\"SUCCESS\"", NULL },
    { "  {}  ", 1, NULL, NULL, NULL },
    /* Wrong shapes */
    { "[1,2]", 0, NULL, NULL, "wrong type" },
    { "\"x\"", 0, NULL, NULL, "not a JSON object" },
    { "{\"a\":1", 0, NULL, NULL, "not a JSON object" },
    { "{\"a\":1} trailing", 0, NULL, NULL, "not a JSON object" },
    { "", 0, NULL, NULL, "not a JSON object" },
    { "<html>502 Bad Gateway</html>", 0, NULL, NULL, "not a JSON object" },
    { "{\"a\":\"\\ud800\"}", 0, NULL, NULL, "not a JSON object" },
};

/* get_path - obj at "A.B"; borrowed or NULL */
static json_t *
get_path(json_t *o, const char *path)
{
    char buf[128], *p, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = strtok_r(buf, ".", &save); p != NULL && o != NULL;
         p = strtok_r(NULL, ".", &save))
        o = json_object_get(o, p);
    return o;
}

/* dumped - compact text of v (new string) */
static char *
dumped(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

START_TEST(test_parse_object)
{
    const struct obj_case *c = &obj_cases[_i];
    char err[256] = "";
    json_t *o;
    char *s;

    o = sg_sesapi_parse_object(c->body, strlen(c->body), err, sizeof(err));
    if (!c->ok) {
        ck_assert_msg(o == NULL, "case %d accepted", _i);
        ck_assert_msg(strstr(err, c->err) != NULL, "case %d: '%s'", _i,
                      err);
        return;
    }
    ck_assert_msg(json_is_object(o), "case %d refused: %s", _i, err);
    if (c->path != NULL) {
        s = dumped(get_path(o, c->path));
        ck_assert_str_eq(s, c->want);
        free(s);
    }
    json_decref(o);
}
END_TEST

/* ------------------------------------------------------------------ */
/* v2 pages                                                            */
/* ------------------------------------------------------------------ */

struct page_case {
    const char *member;
    const char *body;
    SG_STATUS status;
    size_t n;                   /* items on success */
    const char *next;           /* NextToken, or NULL */
    const char *first;          /* items[0] dumped, or NULL */
    const char *err;            /* substring of the error on failure */
};

#define SUPP "SuppressedDestinationSummaries"
#define IDS "EmailIdentities"
#define CSETS "ConfigurationSets"

static const struct page_case page_cases[] = {
    /* ListEmailIdentities: a page with NextToken, then the last one */
    { IDS, "{\"EmailIdentities\":[{\"IdentityType\":\"DOMAIN\","
      "\"IdentityName\":\"example.com\",\"SendingEnabled\":true,"
      "\"VerificationStatus\":\"SUCCESS\"},{\"IdentityType\":"
      "\"EMAIL_ADDRESS\",\"IdentityName\":\"a@example.org\","
      "\"SendingEnabled\":false,\"VerificationStatus\":\"PENDING\"}],"
      "\"NextToken\":\"AQID/+==\"}", SG_OK, 2, "AQID/+==",
      "{\"IdentityType\":\"DOMAIN\",\"IdentityName\":\"example.com\","
      "\"SendingEnabled\":true,\"VerificationStatus\":\"SUCCESS\"}",
      NULL },
    { IDS, "{\"EmailIdentities\":[{\"IdentityName\":\"x.example\"}]}",
      SG_OK, 1, NULL, NULL, NULL },
    /* Last page spelled in the other ways SES and SDKs do */
    { IDS, "{\"EmailIdentities\":[],\"NextToken\":null}", SG_OK, 0, NULL,
      NULL, NULL },
    { IDS, "{\"EmailIdentities\":[],\"NextToken\":\"\"}", SG_OK, 0, NULL,
      NULL, NULL },
    { IDS, "{}", SG_OK, 0, NULL, NULL, NULL },
    { IDS, "{\"EmailIdentities\":null}", SG_OK, 0, NULL, NULL, NULL },
    /* ListConfigurationSets: names as strings */
    { CSETS, "{\"ConfigurationSets\":[\"default\",\"marketing\"],"
      "\"NextToken\":\"t2\"}", SG_OK, 2, "t2", "\"default\"", NULL },
    /* ListSuppressedDestinations: epoch seconds (SES's JSON wire form)
     * and ISO 8601 (what some proxies and the CLI print) kept as sent */
    { SUPP, "{\"SuppressedDestinationSummaries\":[{\"EmailAddress\":"
      "\"gone@example.net\",\"Reason\":\"BOUNCE\",\"LastUpdateTime\":"
      "1700000000}],\"NextToken\":\"abc\"}", SG_OK, 1, "abc",
      "{\"EmailAddress\":\"gone@example.net\",\"Reason\":\"BOUNCE\","
      "\"LastUpdateTime\":1700000000}", NULL },
    { SUPP, "{\"SuppressedDestinationSummaries\":[{\"EmailAddress\":"
      "\"c@example.net\",\"Reason\":\"COMPLAINT\",\"LastUpdateTime\":"
      "1700000000.5}]}", SG_OK, 1, NULL,
      "{\"EmailAddress\":\"c@example.net\",\"Reason\":\"COMPLAINT\","
      "\"LastUpdateTime\":1700000000.5}", NULL },
    { SUPP, "{\"SuppressedDestinationSummaries\":[{\"EmailAddress\":"
      "\"iso@example.net\",\"Reason\":\"BOUNCE\",\"LastUpdateTime\":"
      "\"2023-11-14T22:13:20.000Z\"},{\"EmailAddress\":\"b@example.net\","
      "\"Reason\":\"BOUNCE\",\"LastUpdateTime\":"
      "\"2023-11-14T23:13:20+01:00\"}]}", SG_OK, 2, NULL,
      "{\"EmailAddress\":\"iso@example.net\",\"Reason\":\"BOUNCE\","
      "\"LastUpdateTime\":\"2023-11-14T22:13:20.000Z\"}", NULL },
    /* Bad JSON */
    { SUPP, "{\"SuppressedDestinationSummaries\":[", SG_ERR_PROTO, 0, NULL,
      NULL, "not JSON" },
    { SUPP, "", SG_ERR_PROTO, 0, NULL, NULL, "not JSON" },
    { SUPP, "{\"a\":1}}", SG_ERR_PROTO, 0, NULL, NULL, "not JSON" },
    { SUPP, "{\"SuppressedDestinationSummaries\":[]} x", SG_ERR_PROTO, 0,
      NULL, NULL, "not JSON" },
    /* Wrong types */
    { SUPP, "null", SG_ERR_PROTO, 0, NULL, NULL, "not JSON" },
    { SUPP, "[]", SG_ERR_PROTO, 0, NULL, NULL, "not a JSON object" },
    { SUPP, "{\"SuppressedDestinationSummaries\":{}}", SG_ERR_PROTO, 0,
      NULL, NULL, SUPP " is not an array" },
    { SUPP, "{\"SuppressedDestinationSummaries\":\"x\"}", SG_ERR_PROTO, 0,
      NULL, NULL, SUPP " is not an array" },
    { SUPP, "{\"SuppressedDestinationSummaries\":[],\"NextToken\":5}",
      SG_ERR_PROTO, 0, NULL, NULL, "NextToken is not a string" },
    { SUPP, "{\"SuppressedDestinationSummaries\":[],\"NextToken\":[\"a\"]}",
      SG_ERR_PROTO, 0, NULL, NULL, "NextToken is not a string" },
};

START_TEST(test_parse_page)
{
    const struct page_case *c = &page_cases[_i];
    char err[256] = "";
    json_t *items = (json_t *)1;
    char *next = (char *)1, *s;
    SG_STATUS st;

    st = sg_sesapi_parse_page(c->body, strlen(c->body), c->member, &items,
                              &next, err, sizeof(err));
    ck_assert_msg(st == c->status, "case %d: status %d, want %d (%s)", _i,
                  (int)st, (int)c->status, err);
    if (st != SG_OK) {
        ck_assert_ptr_null(items);
        ck_assert_ptr_null(next);
        ck_assert_msg(strstr(err, c->err) != NULL, "case %d: '%s'", _i,
                      err);
        return;
    }
    ck_assert(json_is_array(items));
    ck_assert_uint_eq(json_array_size(items), c->n);
    if (c->next == NULL)
        ck_assert_ptr_null(next);
    else
        ck_assert_str_eq(next, c->next);
    if (c->first != NULL) {
        s = dumped(json_array_get(items, 0));
        ck_assert_str_eq(s, c->first);
        free(s);
    }
    json_decref(items);
    free(next);
}
END_TEST

/* The times a suppressed entry carries, as the importer reads them. */
START_TEST(test_suppressed_times)
{
    static const struct {
        const char *iso;
        long long want;
    } t[] = {
        { "2023-11-14T22:13:20Z", 1700000000LL },
        { "2023-11-14T22:13:20.000Z", 1700000000LL },
        { "2023-11-14T22:13:20.123456Z", 1700000000LL },
        { "2023-11-14T23:13:20+01:00", 1700000000LL },
        { "2023-11-14T17:13:20-0500", 1700000000LL },
        { "2023-11-14T22:13:20", 1700000000LL },
        { "1970-01-01T00:00:00Z", 0 },
    };
    static const char *const bad[] = {
        "1700000000", "2023-11-14", "2023-13-14T22:13:20Z",
        "2023-11-14T22:13Z", "2023-11-14T22:13:20Zjunk", "",
    };
    long long got;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        got = -1;
        ck_assert_msg(sg_state_parse_time(t[i].iso, &got) == 0, "%s",
                      t[i].iso);
        ck_assert_msg(got == t[i].want, "%s: %lld", t[i].iso, got);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sg_state_parse_time(bad[i], &got) != 0, "'%s' taken",
                      bad[i]);
}
END_TEST

/* Oversize answers are refused before they are parsed. */
START_TEST(test_oversize)
{
    size_t len = SG_SESAPI_RESPONSE_MAX + 1;
    char err[256] = "", code[64], msg[64];
    json_t *items = NULL;
    char *next = NULL, *big;

    ck_assert_ptr_nonnull(big = malloc(len));
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    ck_assert_int_eq(sg_sesapi_parse_page(big, len, SUPP, &items, &next,
                                          err, sizeof(err)), SG_ERR_TOOBIG);
    ck_assert_ptr_null(items);
    ck_assert_ptr_nonnull(strstr(err, "larger than"));
    err[0] = '\0';
    ck_assert_ptr_null(sg_sesapi_parse_object(big, len, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "larger than"));
    /* An error body that large is not read; the header still counts. */
    sg_sesapi_parse_error("ThrottlingException", big, len, code,
                          sizeof(code), msg, sizeof(msg));
    ck_assert_str_eq(code, "ThrottlingException");
    ck_assert_str_eq(msg, "");
    free(big);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Error shapes                                                        */
/* ------------------------------------------------------------------ */

struct err_case {
    const char *errtype;        /* x-amzn-ErrorType, or NULL */
    const char *body;
    const char *code;
    const char *msg;
};

static const struct err_case err_cases[] = {
    /* v2: header with botocore's ":" suffix, message in the body */
    { "TooManyRequestsException:http://internal.amazon.com/coral/"
      "com.amazon.coral.availability/", "{\"message\":\"Rate exceeded\"}",
      "TooManyRequestsException", "Rate exceeded" },
    { "NotFoundException:", "{\"message\":\"Email address x@y is not on "
      "the suppression list\"}", "NotFoundException",
      "Email address x@y is not on the suppression list" },
    { "BadRequestException", "{\"message\":\"m\"}", "BadRequestException",
      "m" },
    /* "prefix#Code" in the header, and both forms together */
    { "com.amazonaws.sesv2#LimitExceededException", "{}",
      "LimitExceededException", "" },
    { "aws.protocoljson#AccessDeniedException:http://x/", "{\"Message\":"
      "\"denied\"}", "AccessDeniedException", "denied" },
    /* The header wins over the body's code */
    { "SignatureDoesNotMatch", "{\"__type\":\"Other\",\"message\":\"sig\"}",
      "SignatureDoesNotMatch", "sig" },
    /* No header: the body's code, Code, __type (with # and :) */
    { NULL, "{\"code\":\"InvalidParameterValue\",\"message\":\"bad\"}",
      "InvalidParameterValue", "bad" },
    { "", "{\"Code\":\"AccountSuspendedException\",\"Message\":\"s\"}",
      "AccountSuspendedException", "s" },
    { NULL, "{\"__type\":\"com.amazonaws.sesv2#NotFoundException\","
      "\"Message\":\"Email identity x does not exist.\"}",
      "NotFoundException", "Email identity x does not exist." },
    { NULL, "{\"__type\":\"UnrecognizedClientException:http://x\","
      "\"message\":\"The security token included in the request is "
      "invalid.\"}", "UnrecognizedClientException",
      "The security token included in the request is invalid." },
    /* "message" before "Message"; wrong types ignored */
    { NULL, "{\"message\":\"lower\",\"Message\":\"upper\"}", "", "lower" },
    { NULL, "{\"code\":5,\"message\":[\"x\"],\"Message\":\"ok\"}", "",
      "ok" },
    /* v1 XML errors */
    { NULL, "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/"
      "2010-12-01/\"><Error><Type>Sender</Type><Code>Throttling</Code>"
      "<Message>Maximum sending rate exceeded.</Message></Error>"
      "<RequestId>r</RequestId></ErrorResponse>", "Throttling",
      "Maximum sending rate exceeded." },
    { "MessageRejected", "<ErrorResponse><Error><Code>Other</Code>"
      "<Message>Email address is not verified.</Message></Error>"
      "</ErrorResponse>", "MessageRejected",
      "Email address is not verified." },
    { NULL, "<ErrorResponse><Error><Code>Cut", "", "" },
    /* Control characters are replaced, never passed on */
    { "Bad\r\nX-Injected: 1", "{\"message\":\"a\\nb\\u0007c\"}",
      "Bad??X-Injected", "a?b?c" },
    /* Nothing usable */
    { NULL, "", "", "" },
    { NULL, "not json, not xml", "", "" },
    { NULL, "[\"message\"]", "", "" },
};

START_TEST(test_parse_error)
{
    const struct err_case *c = &err_cases[_i];
    char code[128], msg[256];

    memset(code, 'x', sizeof(code));
    memset(msg, 'x', sizeof(msg));
    sg_sesapi_parse_error(c->errtype, c->body, strlen(c->body), code,
                          sizeof(code), msg, sizeof(msg));
    ck_assert_msg(strcmp(code, c->code) == 0, "case %d: code '%s'", _i,
                  code);
    ck_assert_msg(strcmp(msg, c->msg) == 0, "case %d: msg '%s'", _i, msg);
}
END_TEST

/* Long codes and messages are cut to the buffers, terminated. */
START_TEST(test_parse_error_bounds)
{
    char body[4096], code[8], msg[16];

    snprintf(body, sizeof(body), "{\"message\":\"%0*d\"}", 3000, 7);
    sg_sesapi_parse_error("AVeryLongExceptionName", body, strlen(body),
                          code, sizeof(code), msg, sizeof(msg));
    ck_assert_str_eq(code, "AVeryLo");
    ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
    /* Zero-sized buffers are left alone. */
    sg_sesapi_parse_error("X", body, strlen(body), code, 0, msg, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* v1 XML                                                              */
/* ------------------------------------------------------------------ */

#define NOTIF_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
    "<GetIdentityNotificationAttributesResponse xmlns=\"http://ses." \
    "amazonaws.com/doc/2010-12-01/\">\n" \
    "  <GetIdentityNotificationAttributesResult>\n"
#define NOTIF_TAIL "  </GetIdentityNotificationAttributesResult>\n" \
    "  <ResponseMetadata><RequestId>e038e509</RequestId>" \
    "</ResponseMetadata>\n</GetIdentityNotificationAttributesResponse>\n"

struct xml_case {
    const char *xml;
    const char *want;           /* whole result dumped (sorted keys) */
    const char *err;            /* substring of the error, when NULL */
};

static const struct xml_case xml_cases[] = {
    /* GetIdentityNotificationAttributes (ses-facts.md 13.3) */
    { NOTIF_HEAD "    <NotificationAttributes>\n      <entry>\n"
      "        <key>example.com</key>\n        <value>\n"
      "          <ForwardingEnabled>true</ForwardingEnabled>\n"
      "          <HeadersInBounceNotificationsEnabled>false"
      "</HeadersInBounceNotificationsEnabled>\n"
      "          <BounceTopic>arn:aws:sns:us-east-1:123456789012:b"
      "</BounceTopic>\n        </value>\n      </entry>\n"
      "    </NotificationAttributes>\n" NOTIF_TAIL,
      "{\"GetIdentityNotificationAttributesResponse\":{"
      "\"GetIdentityNotificationAttributesResult\":{"
      "\"NotificationAttributes\":[{\"key\":\"example.com\",\"value\":{"
      "\"BounceTopic\":\"arn:aws:sns:us-east-1:123456789012:b\","
      "\"ForwardingEnabled\":true,\"HeadersInBounceNotificationsEnabled\":"
      "false}}]},\"ResponseMetadata\":{\"RequestId\":\"e038e509\"}}}",
      NULL },
    /* DescribeActiveReceiptRuleSet: lists of members, nested */
    { "<DescribeActiveReceiptRuleSetResponse xmlns=\"x\">"
      "<DescribeActiveReceiptRuleSetResult><Metadata><Name>rs</Name>"
      "<CreatedTimestamp>2016-07-15T16:27:50.919Z</CreatedTimestamp>"
      "</Metadata><Rules><member><Name>r1</Name><Enabled>true</Enabled>"
      "<Recipients><member>a@example.com</member><member>example.org"
      "</member></Recipients><!-- c --><Actions/></member></Rules>"
      "</DescribeActiveReceiptRuleSetResult>"
      "</DescribeActiveReceiptRuleSetResponse>",
      "{\"DescribeActiveReceiptRuleSetResponse\":{"
      "\"DescribeActiveReceiptRuleSetResult\":{\"Metadata\":{"
      "\"CreatedTimestamp\":\"2016-07-15T16:27:50.919Z\",\"Name\":\"rs\"},"
      "\"Rules\":[{\"Actions\":\"\",\"Enabled\":true,\"Name\":\"r1\","
      "\"Recipients\":[\"a@example.com\",\"example.org\"]}]}}}", NULL },
    /* No active set: an empty result element */
    { "<DescribeActiveReceiptRuleSetResponse><DescribeActiveReceiptRuleSet"
      "Result/><ResponseMetadata><RequestId>r</RequestId>"
      "</ResponseMetadata></DescribeActiveReceiptRuleSetResponse>",
      "{\"DescribeActiveReceiptRuleSetResponse\":{"
      "\"DescribeActiveReceiptRuleSetResult\":\"\",\"ResponseMetadata\":{"
      "\"RequestId\":\"r\"}}}", NULL },
    /* An error answer */
    { "<ErrorResponse><Error><Type>Sender</Type><Code>"
      "InvalidParameterValue</Code><Message>Rate &amp; &lt;limit&gt; "
      "&#65;&#x42;</Message></Error></ErrorResponse>",
      "{\"ErrorResponse\":{\"Error\":{\"Code\":\"InvalidParameterValue\","
      "\"Message\":\"Rate & <limit> AB\",\"Type\":\"Sender\"}}}", NULL },
    /* Attributes with quotes holding '>' */
    { "<A b=\"x>y\" c='1'><C>t</C></A>", "{\"A\":{\"C\":\"t\"}}", NULL },
    { "<A/>", "{\"A\":\"\"}", NULL },
    /* Truncated and broken */
    { NOTIF_HEAD "    <NotificationAttributes>\n      <entry>\n"
      "        <key>example.com</ke", NULL, "expected" },
    { "<A><B>text", NULL, "unterminated" },
    { "<A><B>x</B>", NULL, "" },
    { "<A", NULL, "unterminated XML tag" },
    { "<?xml version=\"1.0\"", NULL, "unterminated XML declaration" },
    { "<!-- never closed <A/>", NULL, "unterminated" },
    { "<A></B>", NULL, "</A> expected" },
    { "<A>x</A><B/>", NULL, "text after the XML root element" },
    { "<A>x</A>junk", NULL, "text after the XML root element" },
    { "<A><member>1</member><B>2</B></A>", NULL, "mixes list members" },
    { "<A>&bogus;</A>", NULL, "bad XML entity" },
    { "<A>&#0;</A>", NULL, "bad XML entity" },
    { "<A>&#233;</A>", NULL, "bad XML entity" },
    { "<A>\xff\xfe</A>", NULL, "not UTF-8" },
    { "", NULL, "" },
    { "just text", NULL, "XML element expected" },
    { "< A/>", NULL, "bad XML element name" },
};

START_TEST(test_xml)
{
    const struct xml_case *c = &xml_cases[_i];
    char err[256] = "";
    json_t *x;
    char *s;

    x = sg_sesapi_xml_to_json(c->xml, strlen(c->xml), err, sizeof(err));
    if (c->want == NULL) {
        ck_assert_msg(x == NULL, "case %d accepted", _i);
        ck_assert_msg(err[0] != '\0' && strstr(err, c->err) != NULL,
                      "case %d: '%s'", _i, err);
        return;
    }
    ck_assert_msg(x != NULL, "case %d: %s", _i, err);
    s = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(s, c->want);
    free(s);
    json_decref(x);
}
END_TEST

/* Nesting beyond SG_SESAPI_XML_DEPTH is refused, at the limit taken. */
START_TEST(test_xml_depth)
{
    char xml[2048], err[256];
    size_t o = 0;
    int i, depth;
    json_t *x;

    for (depth = SG_SESAPI_XML_DEPTH; depth <= SG_SESAPI_XML_DEPTH + 1;
         depth++) {
        o = 0;
        for (i = 0; i < depth; i++)
            o += (size_t)snprintf(xml + o, sizeof(xml) - o, "<e%d>", i);
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, "x");
        for (i = depth - 1; i >= 0; i--)
            o += (size_t)snprintf(xml + o, sizeof(xml) - o, "</e%d>", i);
        x = sg_sesapi_xml_to_json(xml, o, err, sizeof(err));
        if (depth == SG_SESAPI_XML_DEPTH) {
            ck_assert_msg(x != NULL, "%s", err);
            json_decref(x);
        } else {
            ck_assert_ptr_null(x);
            ck_assert_ptr_nonnull(strstr(err, "nested deeper"));
        }
    }
}
END_TEST

/* The notification extractor on reader output. */
START_TEST(test_notification_result)
{
    static const struct {
        const char *xml;
        const char *want;
        int ok;
    } t[] = {
        { NOTIF_HEAD "<NotificationAttributes><entry><key>a.example</key>"
          "<value><ForwardingEnabled>false</ForwardingEnabled>"
          "<ComplaintTopic>arn:c</ComplaintTopic></value></entry>"
          "<entry><key>b@x.example</key><value><ForwardingEnabled>true"
          "</ForwardingEnabled></value></entry>"
          /* no key, a text value: skipped */
          "<entry><value><X>1</X></value></entry>"
          "<entry><key>c.example</key><value>t</value></entry>"
          "</NotificationAttributes>" NOTIF_TAIL,
          "{\"a.example\":{\"ComplaintTopic\":\"arn:c\","
          "\"ForwardingEnabled\":false},\"b@x.example\":{"
          "\"ForwardingEnabled\":true}}", 1 },
        /* None of the identities known: an empty list */
        { NOTIF_HEAD "<NotificationAttributes/>" NOTIF_TAIL, "{}", 1 },
        { NOTIF_HEAD "<NotificationAttributes></NotificationAttributes>"
          NOTIF_TAIL, "{}", 1 },
        /* Not the expected answer at all: nothing found */
        { "<Other><X>1</X></Other>", "{}", 1 },
        /* A list that is an object: refused */
        { NOTIF_HEAD "<NotificationAttributes><key>x</key>"
          "</NotificationAttributes>" NOTIF_TAIL, NULL, 0 },
    };
    char err[256];
    size_t i;
    json_t *x, *r;
    char *s;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        x = sg_sesapi_xml_to_json(t[i].xml, strlen(t[i].xml), err,
                                  sizeof(err));
        ck_assert_msg(x != NULL, "%zu: %s", i, err);
        err[0] = '\0';
        r = sg_sesapi_notification_result(x, err, sizeof(err));
        json_decref(x);
        if (!t[i].ok) {
            ck_assert_msg(r == NULL, "%zu accepted", i);
            ck_assert_ptr_nonnull(strstr(err, "not a list"));
            continue;
        }
        ck_assert_msg(r != NULL, "%zu: %s", i, err);
        s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
        ck_assert_str_eq(s, t[i].want);
        free(s);
        json_decref(r);
    }
}
END_TEST

/* The rule set extractor on reader output. */
START_TEST(test_rule_set_result)
{
    static const struct {
        const char *xml;
        const char *want;
    } t[] = {
        { "<DescribeActiveReceiptRuleSetResponse>"
          "<DescribeActiveReceiptRuleSetResult><Metadata><Name>rs</Name>"
          "</Metadata><Rules><member><Name>r</Name><ScanEnabled>true"
          "</ScanEnabled></member></Rules>"
          "</DescribeActiveReceiptRuleSetResult>"
          "</DescribeActiveReceiptRuleSetResponse>",
          "{\"Metadata\":{\"Name\":\"rs\"},\"Rules\":[{\"Name\":\"r\","
          "\"ScanEnabled\":true}]}" },
        { "<DescribeActiveReceiptRuleSetResponse>"
          "<DescribeActiveReceiptRuleSetResult/>"
          "</DescribeActiveReceiptRuleSetResponse>", "{}" },
        { "<DescribeActiveReceiptRuleSetResponse><ResponseMetadata>"
          "<RequestId>r</RequestId></ResponseMetadata>"
          "</DescribeActiveReceiptRuleSetResponse>", "{}" },
    };
    char err[256];
    size_t i;
    json_t *x, *r;
    char *s;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        x = sg_sesapi_xml_to_json(t[i].xml, strlen(t[i].xml), err,
                                  sizeof(err));
        ck_assert_msg(x != NULL, "%zu: %s", i, err);
        r = sg_sesapi_rule_set_result(x);
        json_decref(x);
        ck_assert_ptr_nonnull(r);
        s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
        ck_assert_str_eq(s, t[i].want);
        free(s);
        json_decref(r);
    }
}
END_TEST

#define NCASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* sg_sesapi_suite - the suite */
Suite *
sg_sesapi_suite(void)
{
    Suite *s = suite_create("sesapi");
    TCase *tc;

    tc = tcase_create("v2");
    tcase_add_loop_test(tc, test_parse_object, 0, NCASES(obj_cases));
    tcase_add_loop_test(tc, test_parse_page, 0, NCASES(page_cases));
    tcase_add_test(tc, test_suppressed_times);
    tcase_add_test(tc, test_oversize);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_parse_error, 0, NCASES(err_cases));
    tcase_add_test(tc, test_parse_error_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("v1");
    tcase_add_loop_test(tc, test_xml, 0, NCASES(xml_cases));
    tcase_add_test(tc, test_xml_depth);
    tcase_add_test(tc, test_notification_result);
    tcase_add_test(tc, test_rule_set_result);
    suite_add_tcase(s, tc);
    return s;
}
