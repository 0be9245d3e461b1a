/*
 * check_authz.c - sending authorization (R8): the policy evaluator as a
 *   table of policies x requests, its helpers (wildcards, CIDR, dates,
 *   ARNs), the lint check of a policy and the delegations file
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "authz.h"
#include "decide.h"
#include "check_suites.h"

#define ARN "arn:aws:ses:us-east-1:111122223333:identity/example.com"
#define ARN_EU "arn:aws:ses:eu-west-1:111122223333:identity/example.com"
#define USER "arn:aws:iam::444455556666:user/app"
#define OTHER "arn:aws:iam::777788889999:user/app"

/* The policies of the table, by name. */
#define P_ALLOW_ACCT \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"acct\"," \
    "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"444455556666\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}]}"
#define P_ALLOW_ROOT \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":" \
    "[\"arn:aws:iam::444455556666:root\"]},\"Action\":[\"ses:SendEmail\"," \
    "\"ses:SendRawEmail\"],\"Resource\":\"" ARN "\"}]}"
#define P_ALLOW_USER_SENDSTAR \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" USER \
    "\"},\"Action\":\"ses:Send*\",\"Resource\":\"" ARN "\"}]}"
#define P_ALLOW_STAR \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"*\",\"Resource\":\"*\"}]}"
#define P_ALLOW_SENDEMAIL_ONLY \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendEmail\",\"Resource\":\"" ARN "\"}]}"
#define P_ALLOW_WRONG_RESOURCE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN_EU "\"}]}"
#define P_ALLOW_RESOURCE_WILD \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:sendrawemail\",\"Resource\":" \
    "\"arn:aws:ses:us-east-?:111122223333:identity/*\"}]}"
#define P_DENY_WINS \
    "{\"Statement\":[" \
    "{\"Sid\":\"all\",\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:*\",\"Resource\":\"*\"}," \
    "{\"Sid\":\"noapp\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" \
    USER "\"},\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}]}"
#define P_FROM_LIKE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringLike\":{\"ses:FromAddress\":" \
    "[\"news-??@example.com\",\"*@mail.example.com\"]}}}]}"
#define P_FROM_EQUALS \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringEquals\":{\"ses:FromAddress\":" \
    "\"Sales@example.com\",\"ses:FromDisplayName\":\"Sales\"}}}]}"
#define P_RCPT_ALL \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"ForAllValues:StringLike\":{\"ses:Recipients\":" \
    "[\"*@example.com\",\"*@example.net\"]}}}]}"
#define P_RCPT_ANY \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"ForAnyValue:StringEquals\":{\"ses:Recipients\":" \
    "\"vip@example.com\"}}}]}"
#define P_RCPT_DENY_NOTLIKE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}," \
    "{\"Sid\":\"internal-only\",\"Effect\":\"Deny\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"ForAnyValue:StringNotLike\":{\"ses:Recipients\":" \
    "\"*@example.com\"}}}]}"
#define P_IP \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":" \
    "[\"192.0.2.0/24\",\"2001:db8::/32\",\"198.51.100.7\"]}}}]}"
#define P_NOT_IP_DENY \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}," \
    "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\"," \
    "\"Resource\":\"*\",\"Condition\":{\"NotIpAddress\":" \
    "{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}"
#define P_TIME \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":" \
    "\"2026-01-01T00:00:00Z\"},\"DateLessThan\":{\"aws:CurrentTime\":" \
    "\"2026-02-01T00:00:00+01:00\"}}}]}"
#define P_APIVERSION \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringEquals\":{\"ses:ApiVersion\":\"2\"}}}]}"
#define P_APIVERSION1 \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringEquals\":{\"ses:ApiVersion\":\"1\"}}}]}"
#define P_FEEDBACK_NOTEQ \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringNotEquals\":{\"ses:FeedbackAddress\":" \
    "\"noreply@example.com\"}}}]}"
#define P_UNKNOWN_OP \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringSortOf\":{\"ses:FromAddress\":\"x\"}}}]}"
#define P_UNKNOWN_KEY_DENY \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}," \
    "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\"," \
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":" \
    "{\"ses:Subject\":\"x\"}}}]}"
#define P_ROLE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":" \
    "\"arn:aws:iam::444455556666:role/path/sender\"},\"Action\":" \
    "\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}]}"
#define P_SERVICE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":" \
    "\"lambda.amazonaws.com\"},\"Action\":\"ses:SendRawEmail\"," \
    "\"Resource\":\"" ARN "\"}]}"
#define P_NOTACTION_DENY \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:*\",\"Resource\":\"" ARN "\"}," \
    "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":" \
    "\"ses:SendEmail\",\"Resource\":\"*\"}]}"
#define P_IFEXISTS \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringEqualsIfExists\":{\"ses:FromDisplayName\":" \
    "\"Sales\"}}}]}"
#define P_NULL \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"Null\":{\"ses:FromDisplayName\":\"false\"}}}]}"
#define P_VARIABLE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringLike\":{\"ses:FromAddress\":" \
    "\"${aws:username}@example.com\"}}}]}"
#define P_BAD_JSON "{\"Statement\": [ {\"Effect\":"
#define P_ONE_OBJECT \
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"}}"
#define P_CASE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"StringLike\":{\"SES:fromaddress\":" \
    "\"*@example.com\"}}}]}"
#define P_SECURE \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"ses:SendRawEmail\",\"Resource\":\"" ARN "\"," \
    "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":true}}}]}"

/* One row: a policy, a request, the expected outcome. */
struct authz_case {
    const char *name;
    const char *policy;
    const char *principal;
    const char *resource;
    const char *from;
    const char *display;
    const char *feedback;
    const char *rcpts;          /* comma-separated, NULL none */
    const char *ip;
    long long now;
    const char *action;
    enum sg_authz_effect want;
    int want_stmt;              /* deciding statement, -1 none */
    int want_problems;          /* 1: some problem reported */
};

#define T_JAN15 1768435200LL    /* 2026-01-15T00:00:00Z */
#define T_JAN31 1769900400LL    /* 2026-01-31T23:00:00Z */
#define T_DEC   1764547200LL    /* 2025-12-01T00:00:00Z */

static const struct authz_case cases[] = {
    {"account id principal allows its user", P_ALLOW_ACCT, USER, ARN,
     "a@example.com", NULL, NULL, "x@y.z", NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"account id principal: other account", P_ALLOW_ACCT, OTHER, ARN,
     "a@example.com", NULL, NULL, "x@y.z", NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"account id principal: bare account id request", P_ALLOW_ACCT,
     "444455556666", ARN, NULL, NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"account root ARN, action list", P_ALLOW_ROOT, USER, ARN, NULL, NULL,
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"user ARN with ses:Send*", P_ALLOW_USER_SENDSTAR, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"user ARN: another user of the same account",
     P_ALLOW_USER_SENDSTAR, "arn:aws:iam::444455556666:user/other", ARN,
     NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"everything to everyone", P_ALLOW_STAR, OTHER, ARN, NULL, NULL, NULL,
     NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"ses:SendEmail only does not cover SMTP", P_ALLOW_SENDEMAIL_ONLY,
     USER, ARN, NULL, NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"ses:SendEmail only, asked for SendEmail", P_ALLOW_SENDEMAIL_ONLY,
     USER, ARN, NULL, NULL, NULL, NULL, NULL, 0, "ses:SendEmail",
     SG_AUTHZ_ALLOW, 0, 0},
    {"resource of another region", P_ALLOW_WRONG_RESOURCE, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"resource wildcards; action case-insensitive", P_ALLOW_RESOURCE_WILD,
     USER, ARN, NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0,
     0},
    {"resource wildcards: eu-west-1 does not match us-east-?",
     P_ALLOW_RESOURCE_WILD, USER, ARN_EU, NULL, NULL, NULL, NULL, NULL, 0,
     NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"explicit Deny wins over Allow *", P_DENY_WINS, USER, ARN, NULL, NULL,
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_DENY, 1, 0},
    {"Deny for another user: Allow applies", P_DENY_WINS, OTHER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"StringLike ?? matches", P_FROM_LIKE, USER, ARN, "news-01@example.com",
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"StringLike ?? is exactly two", P_FROM_LIKE, USER, ARN,
     "news-1@example.com", NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringLike second value", P_FROM_LIKE, USER, ARN,
     "bob@mail.example.com", NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"StringLike is case-sensitive", P_FROM_LIKE, USER, ARN,
     "bob@MAIL.example.com", NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringLike without a From address", P_FROM_LIKE, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringEquals two keys both hold", P_FROM_EQUALS, USER, ARN,
     "Sales@example.com", "Sales", NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"StringEquals case-sensitive local part", P_FROM_EQUALS, USER, ARN,
     "sales@example.com", "Sales", NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringEquals display name differs", P_FROM_EQUALS, USER, ARN,
     "Sales@example.com", "Sales Team", NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"ForAllValues: every recipient in the list", P_RCPT_ALL, USER, ARN,
     NULL, NULL, NULL, "a@example.com,b@example.net,c@example.com", NULL, 0,
     NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"ForAllValues: one recipient outside", P_RCPT_ALL, USER, ARN, NULL,
     NULL, NULL, "a@example.com,b@example.org,c@example.com", NULL, 0,
     NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"ForAllValues: no recipients holds", P_RCPT_ALL, USER, ARN, NULL, NULL,
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"ForAnyValue: one VIP among several", P_RCPT_ANY, USER, ARN, NULL,
     NULL, NULL, "a@example.org,vip@example.com", NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"ForAnyValue: none", P_RCPT_ANY, USER, ARN, NULL, NULL, NULL,
     "a@example.org,b@example.org", NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1,
     0},
    {"ForAnyValue: no recipients does not hold", P_RCPT_ANY, USER, ARN,
     NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"Deny ForAnyValue:StringNotLike: all internal", P_RCPT_DENY_NOTLIKE,
     USER, ARN, NULL, NULL, NULL, "a@example.com,b@example.com", NULL, 0,
     NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"Deny ForAnyValue:StringNotLike: one external", P_RCPT_DENY_NOTLIKE,
     USER, ARN, NULL, NULL, NULL, "a@example.com,b@example.org", NULL, 0,
     NULL, SG_AUTHZ_DENY, 1, 0},
    {"IpAddress v4 CIDR", P_IP, USER, ARN, NULL, NULL, NULL, NULL,
     "192.0.2.77", 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"IpAddress v4 outside", P_IP, USER, ARN, NULL, NULL, NULL, NULL,
     "192.0.3.1", 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"IpAddress v6 CIDR", P_IP, USER, ARN, NULL, NULL, NULL, NULL,
     "2001:db8:1::5", 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"IpAddress v6 outside", P_IP, USER, ARN, NULL, NULL, NULL, NULL,
     "2001:db9::5", 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"IpAddress host without prefix", P_IP, USER, ARN, NULL, NULL, NULL,
     NULL, "198.51.100.7", 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"IpAddress v4-mapped v6 request", P_IP, USER, ARN, NULL, NULL, NULL,
     NULL, "::ffff:192.0.2.9", 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"IpAddress unknown source address", P_IP, USER, ARN, NULL, NULL, NULL,
     NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"NotIpAddress Deny: inside 10/8", P_NOT_IP_DENY, USER, ARN, NULL, NULL,
     NULL, NULL, "10.1.2.3", 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"NotIpAddress Deny: outside 10/8", P_NOT_IP_DENY, USER, ARN, NULL,
     NULL, NULL, NULL, "172.16.0.1", 0, NULL, SG_AUTHZ_DENY, 1, 0},
    {"NotIpAddress Deny: no address (negated holds)", P_NOT_IP_DENY, USER,
     ARN, NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_DENY, 1, 0},
    {"time window: inside", P_TIME, USER, ARN, NULL, NULL, NULL, NULL, NULL,
     T_JAN15, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"time window: after (offset +01:00)", P_TIME, USER, ARN, NULL, NULL,
     NULL, NULL, NULL, T_JAN31, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"time window: before", P_TIME, USER, ARN, NULL, NULL, NULL, NULL, NULL,
     T_DEC, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"ses:ApiVersion 2 is SMTP", P_APIVERSION, USER, ARN, NULL, NULL, NULL,
     NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"ses:ApiVersion 1 is not SMTP", P_APIVERSION1, USER, ARN, NULL, NULL,
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringNotEquals feedback: other address", P_FEEDBACK_NOTEQ, USER, ARN,
     NULL, NULL, "bounces@example.com", NULL, NULL, 0, NULL,
     SG_AUTHZ_ALLOW, 0, 0},
    {"StringNotEquals feedback: that address", P_FEEDBACK_NOTEQ, USER, ARN,
     NULL, NULL, "noreply@example.com", NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 0},
    {"StringNotEquals feedback: absent holds", P_FEEDBACK_NOTEQ, USER, ARN,
     NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"unknown operator: statement skipped, reported", P_UNKNOWN_OP, USER,
     ARN, "x", NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 1},
    {"unknown key in Deny: Deny skipped, reported", P_UNKNOWN_KEY_DENY,
     USER, ARN, NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0,
     1},
    {"role ARN covers its assumed-role session", P_ROLE,
     "arn:aws:sts::444455556666:assumed-role/sender/i-0abc", ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"role ARN: another role's session", P_ROLE,
     "arn:aws:sts::444455556666:assumed-role/other/i-0abc", ARN, NULL, NULL,
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"Service principal never sends over SMTP", P_SERVICE, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"NotAction Deny covers SendRawEmail", P_NOTACTION_DENY, USER, ARN,
     NULL, NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_DENY, 1, 0},
    {"IfExists: absent display name holds", P_IFEXISTS, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"IfExists: other display name", P_IFEXISTS, USER, ARN, NULL, "Bob",
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"Null false: display name present", P_NULL, USER, ARN, NULL, "Bob",
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"Null false: display name absent", P_NULL, USER, ARN, NULL, "",
     NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 0},
    {"policy variable: reported, skipped", P_VARIABLE, USER, ARN,
     "app@example.com", NULL, NULL, NULL, NULL, 0, NULL,
     SG_AUTHZ_IMPLICIT, -1, 1},
    {"not JSON: reported, grants nothing", P_BAD_JSON, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_IMPLICIT, -1, 1},
    {"single statement object", P_ONE_OBJECT, USER, ARN, NULL, NULL, NULL,
     NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
    {"condition key names are case-insensitive", P_CASE, USER, ARN,
     "z@example.com", NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0,
     0},
    {"aws:SecureTransport is true over SMTP", P_SECURE, USER, ARN, NULL,
     NULL, NULL, NULL, NULL, 0, NULL, SG_AUTHZ_ALLOW, 0, 0},
};

static const char *effect_name[] = { "implicit deny", "allow", "deny" };

/* run_case - one row of the table */
START_TEST(test_eval_table)
{
    const struct authz_case *c = &cases[_i];
    struct sg_authz_policy pol;
    struct sg_authz_req req;
    struct sg_authz_result res;
    char buf[512], *rc[8], *p, *save = NULL;
    size_t n = 0;

    memset(&req, 0, sizeof(req));
    req.principal = c->principal;
    req.resource = c->resource;
    req.from_address = c->from;
    req.from_display = c->display;
    req.feedback_address = c->feedback;
    req.source_ip = c->ip;
    req.now = c->now != 0 ? c->now : T_JAN15;
    req.action = c->action;
    if (c->rcpts != NULL) {
        snprintf(buf, sizeof(buf), "%s", c->rcpts);
        for (p = strtok_r(buf, ",", &save); p != NULL && n < 8;
             p = strtok_r(NULL, ",", &save))
            rc[n++] = p;
        req.recipients = (const char *const *)rc;
        req.nrecipients = n;
    }
    pol.name = "p1";
    pol.doc = c->policy;
    pol.len = strlen(c->policy);
    ck_assert_int_eq(sg_authz_eval(&pol, 1, &req, &res), SG_OK);
    ck_assert_msg(res.effect == c->want, "%s: got %s, want %s (%s; %s)",
                  c->name, effect_name[res.effect], effect_name[c->want],
                  res.why, res.problems);
    ck_assert_msg(res.allowed == (c->want == SG_AUTHZ_ALLOW), "%s: allowed",
                  c->name);
    ck_assert_msg(res.statement == c->want_stmt, "%s: statement got %d, "
                  "want %d", c->name, res.statement, c->want_stmt);
    ck_assert_msg((res.nproblems > 0) == c->want_problems, "%s: problems "
                  "got %d (%s), want %s", c->name, res.nproblems,
                  res.problems, c->want_problems ? "some" : "none");
    if (!res.allowed) {
        snprintf(buf, sizeof(buf), "Access denied: User %s is not "
                 "authorized to perform ses:SendRawEmail on resource %s",
                 strncmp(c->principal, "arn:", 4) == 0 ? c->principal
                 : "arn:aws:iam::444455556666:root", c->resource);
        ck_assert_str_eq(res.text, buf);
    } else {
        ck_assert_str_eq(res.text, "");
    }
}
END_TEST

/* Deny in one policy beats Allow in another, and names its policy. */
START_TEST(test_eval_two_policies)
{
    struct sg_authz_policy pol[2] = {
        { "allow-all", P_ALLOW_STAR, sizeof(P_ALLOW_STAR) - 1 },
        { "deny-app", P_DENY_WINS, sizeof(P_DENY_WINS) - 1 },
    };
    struct sg_authz_req req;
    struct sg_authz_result res;

    memset(&req, 0, sizeof(req));
    req.principal = USER;
    req.resource = ARN;
    ck_assert_int_eq(sg_authz_eval(pol, 2, &req, &res), SG_OK);
    ck_assert_int_eq(res.effect, SG_AUTHZ_DENY);
    ck_assert_str_eq(res.policy, "deny-app");
    ck_assert_str_eq(res.sid, "noapp");
    ck_assert_ptr_nonnull(strstr(res.why, "explicitly denied"));
    ck_assert_int_eq(sg_authz_eval(pol, 0, &req, &res), SG_OK);
    ck_assert_int_eq(res.effect, SG_AUTHZ_IMPLICIT);
    req.principal = NULL;
    ck_assert_int_eq(sg_authz_eval(pol, 2, &req, &res), SG_ERR_USAGE);
}
END_TEST

/* Policies from a stored identity entry (GetEmailIdentity shape). */
START_TEST(test_eval_identity)
{
    static const char ident[] =
        "{\"IdentityName\":\"example.com\",\"Policies\":{\"a\":"
        "\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
        "\\\"Principal\\\":{\\\"AWS\\\":\\\"444455556666\\\"},"
        "\\\"Action\\\":\\\"ses:SendRawEmail\\\",\\\"Resource\\\":\\\""
        ARN "\\\"}]}\"}}";
    struct sg_authz_req req;
    struct sg_authz_result res;

    memset(&req, 0, sizeof(req));
    req.principal = USER;
    req.resource = ARN;
    ck_assert_int_eq(sg_authz_eval_identity(ident, strlen(ident), &req,
                                            &res), SG_OK);
    ck_assert_msg(res.allowed, "%s %s", res.why, res.problems);
    ck_assert_str_eq(res.policy, "a");
    ck_assert_int_eq(sg_authz_eval_identity("{}", 2, &req, &res), SG_OK);
    ck_assert_int_eq(res.effect, SG_AUTHZ_IMPLICIT);
    ck_assert_int_eq(sg_authz_eval_identity("[", 1, &req, &res),
                     SG_ERR_SYNTAX);
}
END_TEST

/* Bounds: too many statements, too big. */
START_TEST(test_eval_bounds)
{
    struct sg_authz_policy pol;
    struct sg_authz_req req;
    struct sg_authz_result res;
    char *big;
    size_t i, len = 0, cap = 200 * 110 + 64;

    big = malloc(cap);
    ck_assert_ptr_nonnull(big);
    len += (size_t)snprintf(big, cap, "{\"Statement\":[");
    for (i = 0; i < SG_AUTHZ_STATEMENTS_MAX + 1; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s{\"Effect\":"
                                "\"Allow\",\"Principal\":\"*\",\"Action\":"
                                "\"*\",\"Resource\":\"*\"}", i ? "," : "");
    len += (size_t)snprintf(big + len, cap - len, "]}");
    memset(&req, 0, sizeof(req));
    req.principal = USER;
    req.resource = ARN;
    pol.name = "many";
    pol.doc = big;
    pol.len = len;
    ck_assert_int_eq(sg_authz_eval(&pol, 1, &req, &res), SG_OK);
    ck_assert_int_eq(res.effect, SG_AUTHZ_IMPLICIT);
    ck_assert_ptr_nonnull(strstr(res.problems, "1 to 100 statements"));
    pol.len = SG_AUTHZ_POLICY_MAX + 1;
    ck_assert_int_eq(sg_authz_eval(&pol, 1, &req, &res), SG_OK);
    ck_assert_ptr_nonnull(strstr(res.problems, "larger than"));
    free(big);
}
END_TEST

/* Helpers. */
struct glob_case {
    const char *pat, *s;
    int nocase, want;
};

static const struct glob_case globs[] = {
    {"*", "", 0, 1}, {"*", "abc", 0, 1}, {"a?c", "abc", 0, 1},
    {"a?c", "ac", 0, 0}, {"*@example.com", "x@example.com", 0, 1},
    {"*@example.com", "x@example.com.evil", 0, 0},
    {"ses:Send*", "ses:SendRawEmail", 1, 1},
    {"SES:SENDRAWEMAIL", "ses:SendRawEmail", 1, 1},
    {"SES:SENDRAWEMAIL", "ses:SendRawEmail", 0, 0},
    {"a*b*c", "aXXbYYc", 0, 1}, {"a*b*c", "aXXbYY", 0, 0},
    {"**a", "bba", 0, 1}, {"", "", 0, 1}, {"", "a", 0, 0},
};

START_TEST(test_glob)
{
    const struct glob_case *g = &globs[_i];

    ck_assert_msg(sg_authz_glob(g->pat, g->s, g->nocase) == g->want,
                  "glob(%s, %s): got %d, want %d", g->pat, g->s,
                  !g->want, g->want);
}
END_TEST

START_TEST(test_ip)
{
    ck_assert_int_eq(sg_authz_ip_in("10.1.2.3", "10.0.0.0/8"), 1);
    ck_assert_int_eq(sg_authz_ip_in("11.1.2.3", "10.0.0.0/8"), 0);
    ck_assert_int_eq(sg_authz_ip_in("10.1.2.3", "10.1.2.2/31"), 1);
    ck_assert_int_eq(sg_authz_ip_in("10.1.2.4", "10.1.2.2/31"), 0);
    ck_assert_int_eq(sg_authz_ip_in("1.2.3.4", "0.0.0.0/0"), 1);
    ck_assert_int_eq(sg_authz_ip_in("2001:db8::1", "0.0.0.0/0"), 0);
    ck_assert_int_eq(sg_authz_ip_in("2001:db8::1", "::/0"), 1);
    ck_assert_int_eq(sg_authz_ip_in("2001:db8::1", "2001:db8::/127"), 1);
    ck_assert_int_eq(sg_authz_ip_in("2001:db8::2", "2001:db8::/127"), 0);
    ck_assert_int_eq(sg_authz_ip_in("1.2.3.4", "1.2.3.4/33"), -1);
    ck_assert_int_eq(sg_authz_ip_in("1.2.3.4", "1.2.3/24"), -1);
    ck_assert_int_eq(sg_authz_ip_in("1.2.3.4", "1.2.3.0/"), -1);
    ck_assert_int_eq(sg_authz_ip_in("nope", "1.2.3.0/24"), -1);
}
END_TEST

START_TEST(test_time)
{
    long long t;

    ck_assert_int_eq(sg_authz_parse_time("2026-01-15T00:00:00Z", &t), 0);
    ck_assert_int_eq(t, T_JAN15);
    ck_assert_int_eq(sg_authz_parse_time("2026-01-15", &t), 0);
    ck_assert_int_eq(t, T_JAN15);
    ck_assert_int_eq(sg_authz_parse_time("2026-01-15T01:00:00.250+01:00",
                                         &t), 0);
    ck_assert_int_eq(t, T_JAN15);
    ck_assert_int_eq(sg_authz_parse_time("2026-01-14T19:00-0500", &t), 0);
    ck_assert_int_eq(t, T_JAN15);
    ck_assert_int_eq(sg_authz_parse_time("1768435200", &t), 0);
    ck_assert_int_eq(t, T_JAN15);
    ck_assert_int_eq(sg_authz_parse_time("2026-13-01", &t), -1);
    ck_assert_int_eq(sg_authz_parse_time("2026-01-15T25:00:00Z", &t), -1);
    ck_assert_int_eq(sg_authz_parse_time("yesterday", &t), -1);
    ck_assert_int_eq(sg_authz_parse_time("2026-01-15Tx", &t), -1);
}
END_TEST

START_TEST(test_arn)
{
    struct sg_arn a;

    ck_assert_int_eq(sg_authz_parse_arn(ARN, &a), 0);
    ck_assert_str_eq(a.region, "us-east-1");
    ck_assert_str_eq(a.account, "111122223333");
    ck_assert_str_eq(a.name, "example.com");
    ck_assert_int_eq(sg_authz_parse_arn("arn:aws-us-gov:ses:us-gov-west-1:"
                                        "111122223333:identity/a@b.example",
                                        &a), 0);
    ck_assert_str_eq(a.name, "a@b.example");
    ck_assert_int_eq(sg_authz_parse_arn("arn:aws:ses:mars-1:111122223333:"
                                        "identity/x.com", &a), -1);
    ck_assert_int_eq(sg_authz_parse_arn("arn:aws:ses:us-east-1:1111:"
                                        "identity/x.com", &a), -1);
    ck_assert_int_eq(sg_authz_parse_arn("arn:aws:sns:us-east-1:"
                                        "111122223333:identity/x.com", &a),
                     -1);
    ck_assert_int_eq(sg_authz_parse_arn("arn:aws:ses:us-east-1:"
                                        "111122223333:configuration-set/x",
                                        &a), -1);
}
END_TEST

START_TEST(test_check_policy)
{
    char buf[1024];

    ck_assert_int_eq(sg_authz_check_policy(P_ALLOW_ACCT,
                                           sizeof(P_ALLOW_ACCT) - 1, ARN,
                                           buf, sizeof(buf)), 0);
    ck_assert_int_gt(sg_authz_check_policy(P_UNKNOWN_OP,
                                           sizeof(P_UNKNOWN_OP) - 1, ARN,
                                           buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "unknown condition operator "
                                 "StringSortOf"));
    ck_assert_int_gt(sg_authz_check_policy(P_ALLOW_SENDEMAIL_ONLY,
                                           sizeof(P_ALLOW_SENDEMAIL_ONLY) - 1,
                                           ARN, buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "no Allow statement covers"));
    ck_assert_int_gt(sg_authz_check_policy(P_ALLOW_WRONG_RESOURCE,
                                           sizeof(P_ALLOW_WRONG_RESOURCE)
                                           - 1, ARN, buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "Resource does not name"));
    ck_assert_int_gt(sg_authz_check_policy(P_UNKNOWN_KEY_DENY,
                                           sizeof(P_UNKNOWN_KEY_DENY) - 1,
                                           ARN, buf, sizeof(buf)), 0);
    ck_assert_ptr_nonnull(strstr(buf, "unknown condition key ses:Subject"));
}
END_TEST

START_TEST(test_denied_text)
{
    char buf[512];

    ck_assert_str_eq(sg_authz_denied_text_buf(USER, ARN, buf, sizeof(buf)),
                     "Access denied: User " USER " is not authorized to "
                     "perform ses:SendRawEmail on resource " ARN);
    ck_assert_str_eq(sg_authz_denied_text_buf("444455556666", ARN, buf,
                                              sizeof(buf)),
                     "Access denied: User arn:aws:iam::444455556666:root is "
                     "not authorized to perform ses:SendRawEmail on "
                     "resource " ARN);
}
END_TEST

/* The delegations file. */
static const char deleg_text[] =
    "# delegations used by the authz suite\n"
    "delegate " ARN " sasl:alice,@app.example.org covers=from,source\n"
    "delegate arn:aws:ses:eu-west-1:111122223333:identity/ops@example.net "
    "* owner=production user=" USER "\n"
    "\n"
    "   principal alice " USER "   # trailing comment\n"
    "principal bob 444455556666\n";

START_TEST(test_deleg)
{
    char err[256];
    SG_DELEG *dl;
    const struct sg_deleg_entry *e;

    dl = sg_deleg_load_buf("deleg", deleg_text, sizeof(deleg_text) - 1, err,
                           sizeof(err));
    ck_assert_msg(dl != NULL, "%s", err);
    ck_assert_uint_eq(sg_deleg_count(dl), 2);
    e = sg_deleg_get(dl, 0);
    ck_assert_str_eq(e->id.region, "us-east-1");
    ck_assert_int_eq(e->covers, SG_DELEG_FROM | SG_DELEG_SOURCE);
    ck_assert_int_eq(e->owner_production, -1);
    e = sg_deleg_get(dl, 1);
    ck_assert_int_eq(e->owner_production, 1);
    ck_assert_str_eq(e->user, USER);
    ck_assert_ptr_null(sg_deleg_get(dl, 2));

    /* By SASL user, subdomain of the identity. */
    e = sg_deleg_find(dl, "news@mail.example.com", SG_DELEG_FROM, "alice",
                      NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->line, 2);
    /* Not for return-path (covers=from,source). */
    ck_assert_ptr_null(sg_deleg_find(dl, "news@example.com", SG_DELEG_RPATH,
                                     "alice", NULL));
    /* By envelope sender domain (and its subdomains). */
    ck_assert_ptr_nonnull(sg_deleg_find(dl, "x@example.com", SG_DELEG_SOURCE,
                                        NULL, "<a@b.app.example.org>"));
    ck_assert_ptr_null(sg_deleg_find(dl, "x@example.com", SG_DELEG_SOURCE,
                                     "mallory", "<a@app.example.net>"));
    /* Address identity: case of the local part matters, +label ok. */
    ck_assert_ptr_nonnull(sg_deleg_find(dl, "ops+x@EXAMPLE.net",
                                        SG_DELEG_RPATH, NULL, NULL));
    ck_assert_ptr_null(sg_deleg_find(dl, "Ops@example.net", SG_DELEG_RPATH,
                                     NULL, NULL));
    ck_assert_ptr_null(sg_deleg_find(dl, "not an address", SG_DELEG_FROM,
                                     "alice", NULL));
    ck_assert_str_eq(sg_deleg_principal(dl, "alice"), USER);
    ck_assert_str_eq(sg_deleg_principal(dl, "bob"), "444455556666");
    ck_assert_ptr_null(sg_deleg_principal(dl, "carol"));
    sg_deleg_free(dl);
    ck_assert_ptr_null(sg_deleg_free(NULL));
}
END_TEST

/* Errors name the file and line. */
struct deleg_bad {
    const char *text;
    const char *want;
};

static const struct deleg_bad deleg_bads[] = {
    {"delegate arn:aws:ses:us-east-1:1:identity/x.com *\n",
     "deleg:1: arn:aws:ses:us-east-1:1:identity/x.com is not an SES"},
    {"\ndelegate " ARN "\n", "deleg:2: expected \"delegate ARN WHO"},
    {"delegate " ARN " sasl:\n", "deleg:1: sasl:: expected sasl:USER"},
    {"delegate " ARN " * covers=body\n", "deleg:1: covers= takes"},
    {"delegate " ARN " * owner=maybe\n", "deleg:1: unknown option"},
    {"principal alice\n", "deleg:1: expected \"principal SASLUSER"},
    {"principal alice bob\n", "deleg:1: principal bob: expected"},
    {"permit alice\n", "deleg:1: unknown entry \"permit\""},
};

START_TEST(test_deleg_errors)
{
    const struct deleg_bad *b = &deleg_bads[_i];
    char err[256];
    SG_DELEG *dl;

    dl = sg_deleg_load_buf("deleg", b->text, strlen(b->text), err,
                           sizeof(err));
    ck_assert_ptr_null(dl);
    ck_assert_msg(strncmp(err, b->want, strlen(b->want)) == 0,
                  "got \"%s\", want \"%s...\"", err, b->want);
}
END_TEST

/* ---- Delegations and R6 in the decision. ---- */

#define PARTNER "arn:aws:ses:us-east-1:999988887777:identity/partner.example"
#define RELAY "arn:aws:iam::111122223333:user/relay"

static const char deleg_decide[] =
    "delegate " PARTNER " sasl:alice owner=production user=" RELAY "\n"
    "delegate arn:aws:ses:us-east-1:999988887777:identity/sandboxed.example"
    " *\n";

static char *dtmp;
static SG_CONF *dconf;
static SG_STATE *dstate;
static SG_SNAP *dsnap;

/* dsetup_file - a store with one snapshot, a config naming the
 * delegations file */
static void
dsetup_file(const char *snapshot)
{
    char path[4096], cbuf[8400], err[1024];
    FILE *fp;
    int n;

    dtmp = sg_test_tmpdir();
    ck_assert_ptr_nonnull(dtmp);
    snprintf(path, sizeof(path), "%s/delegations", dtmp);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(deleg_decide, fp);
    fclose(fp);
    n = snprintf(cbuf, sizeof(cbuf), "default_region = us-east-1\n"
                 "state_dir = %s\ndelegations = %s\n", dtmp, path);
    dconf = sg_conf_load_buf("authz.conf", cbuf, (size_t)n, err,
                             sizeof(err));
    ck_assert_msg(dconf != NULL, "config: %s", err);
    dstate = sg_state_open(dtmp, SG_STATE_CREATE, 64 << 20, err,
                           sizeof(err));
    ck_assert_msg(dstate != NULL, "open: %s", err);
    snprintf(path, sizeof(path), "%s/%s", SG_TEST_DATA, snapshot);
    ck_assert_msg(sg_state_import_file(dstate, path, err, sizeof(err))
                  == SG_OK, "import: %s", err);
    dsnap = sg_snap_new(dstate);
    ck_assert_ptr_nonnull(dsnap);
    ck_assert_int_eq(sg_snap_begin(dsnap), SG_OK);
}

static void
dsetup_clean(void)
{
    dsetup_file("lint-clean.json");
}

static void
dsetup_mistakes(void)
{
    dsetup_file("lint-mistakes.json");
}

/* dteardown - remove what dsetup made */
static void
dteardown(void)
{
    sg_snap_free(dsnap);
    sg_state_close(dstate);
    sg_conf_free(dconf);
    sg_test_rmtree(dtmp);
    free(dtmp);
}

/* One message through sg_decide. */
struct ddecide_case {
    const char *name;
    const char *region;
    const char *sasl;
    const char *from;
    const char *hdr_from;
    const char *rcpt;
    int want_msg;               /* message code */
    int want_rcpt;              /* recipient code */
    const char *want_rule;      /* message rule, NULL for accept */
    const char *want_text;      /* in the message text */
};

static const struct ddecide_case dcases[] = {
    {"delegated identity in its region", "us-east-1", "alice",
     "<news@partner.example>", "News <news@partner.example>",
     "x@anywhere.test", 250, 250, NULL, ""},
    {"delegated identity, another region", "eu-west-1", "alice",
     "<news@partner.example>", "news@partner.example", "x@anywhere.test",
     554, 250, "R8",
     "Access denied: User " RELAY " is not authorized to perform "
     "ses:SendRawEmail on resource " PARTNER " (identity in region "
     "us-east-1, message relayed to region eu-west-1)"},
    {"delegation not for this SASL user", "us-east-1", "bob",
     "<news@partner.example>", "news@partner.example", "x@anywhere.test",
     554, 250, "R2", "in region US-EAST-1: news@partner.example"},
    {"owner in the sandbox: unverified recipient", "us-east-1", NULL,
     "<a@sandboxed.example>", "a@sandboxed.example", "x@anywhere.test",
     554, 554, "R8", "in region US-EAST-1: x@anywhere.test"},
    {"owner in the sandbox: verified recipient", "us-east-1", NULL,
     "<a@sandboxed.example>", "a@sandboxed.example", "y@example.com",
     250, 250, NULL, ""},
    {"own identity needs no delegation", "us-east-1", "alice",
     "<a@example.com>", "a@example.com", "x@anywhere.test", 250, 250, NULL,
     ""},
    {"R6: MAIL FROM REJECT_MESSAGE but SUCCESS", "eu-west-1", NULL,
     "<a@example.org>", NULL, "x@anywhere.test", 250, 250, NULL, ""},
};

START_TEST(test_decide_deleg)
{
    const struct ddecide_case *c = &dcases[_i];
    struct sg_decision d;
    struct sg_msg msg;
    const char *rcpts[1];

    memset(&msg, 0, sizeof(msg));
    rcpts[0] = c->rcpt;
    msg.region = c->region;
    msg.sasl_user = c->sasl;
    msg.env_from = c->from;
    msg.hdr_from = c->hdr_from;
    msg.rcpts = rcpts;
    msg.nrcpt = 1;
    msg.size = -1;
    msg.now = 1768435200;
    ck_assert_int_eq(sg_decide(dconf, dsnap, &msg, &d), SG_OK);
    ck_assert_msg(d.message.code == c->want_msg, "%s: got %d %s, want %d",
                  c->name, d.message.code, d.message.text, c->want_msg);
    ck_assert_msg(d.rcpt[0].code == c->want_rcpt, "%s: rcpt got %d %s, "
                  "want %d", c->name, d.rcpt[0].code, d.rcpt[0].text,
                  c->want_rcpt);
    if (c->want_rule != NULL)
        ck_assert_msg(d.message.rule != NULL
                      && strcmp(d.message.rule, c->want_rule) == 0,
                      "%s: rule got %s, want %s", c->name,
                      d.message.rule ? d.message.rule : "none",
                      c->want_rule);
    ck_assert_msg(strstr(d.message.text, c->want_text) != NULL,
                  "%s: got \"%s\", want \"%s\"", c->name, d.message.text,
                  c->want_text);
    sg_decision_clear(&d);
}
END_TEST

/* The stage function tells the milter which ARNs to add. */
START_TEST(test_decide_deleg_use)
{
    struct sg_deleg_ctx dc;
    struct sg_deleg_use use;
    struct sg_verdict v;
    const struct sg_region *r = sg_region_lookup("us-east-1");
    char err[256];
    SG_DELEG *dl;

    dl = sg_deleg_load_buf("d", deleg_decide, sizeof(deleg_decide) - 1,
                           err, sizeof(err));
    ck_assert_ptr_nonnull(dl);
    memset(&v, 0, sizeof(v));
    dc.dl = dl;
    dc.sasl_user = "alice";
    dc.sender = "<bounce@partner.example>";
    ck_assert_int_eq(sg_decide_delegation(dconf, dsnap, r, &dc,
                                          "\"P\" <news@partner.example>",
                                          NULL, &use, &v), SG_OK);
    ck_assert_int_eq(v.action, SG_ACCEPT);
    ck_assert_ptr_nonnull(use.source);
    ck_assert_ptr_nonnull(use.from);
    ck_assert_ptr_nonnull(use.rpath);
    ck_assert_str_eq(use.from->arn, PARTNER);
    ck_assert_int_eq(use.owner_sandbox, 0);
    /* Own identities are not delegated. */
    dc.sender = "<a@example.com>";
    ck_assert_int_eq(sg_decide_delegation(dconf, dsnap, r, &dc,
                                          "a@example.com", NULL, &use, &v),
                     SG_OK);
    ck_assert_ptr_null(use.source);
    ck_assert_ptr_null(use.from);
    sg_deleg_free(dl);
}
END_TEST

/* R6: FAILED MAIL FROM domain with REJECT_MESSAGE is refused. */
START_TEST(test_decide_r6)
{
    struct sg_decision d;
    struct sg_msg msg;
    const char *rcpts[1] = { "x@anywhere.test" };

    memset(&msg, 0, sizeof(msg));
    msg.region = "us-east-1";
    msg.env_from = "<a@example.com>";
    msg.rcpts = rcpts;
    msg.nrcpt = 1;
    msg.size = -1;
    ck_assert_int_eq(sg_decide(dconf, dsnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 554);
    ck_assert_str_eq(d.message.rule, "R6");
    ck_assert_str_eq(d.message.text, "Message rejected: Mail FROM domain is "
                     "not verified: bounce.other.org (identity example.com "
                     "in region US-EAST-1: MailFromDomainStatus FAILED, "
                     "BehaviorOnMxFailure REJECT_MESSAGE)");
    sg_decision_clear(&d);
    /* The From: header's identity too (subdomain: the domain's). */
    msg.env_from = "<>";
    msg.hdr_from = "x@sub.example.com";
    ck_assert_int_eq(sg_decide(dconf, dsnap, &msg, &d), SG_OK);
    ck_assert_str_eq(d.message.rule, "R6");
    sg_decision_clear(&d);
    /* USE_DEFAULT_VALUE: SES sends from amazonses.com instead. */
    msg.hdr_from = "x@shared.example.com";
    ck_assert_int_eq(sg_decide(dconf, dsnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 250);
    sg_decision_clear(&d);
}
END_TEST

/* ---- Identity-owner policies in the decision (R8). ---- */

#define OWNER "111122223333"
#define OARN "arn:aws:ses:us-east-1:" OWNER ":identity/"
#define OPOL(body) "\"" body "\""

/* The owner's state: example.com with three policies, other.example
 * without, dated.example allowed until 2027. Policy texts are JSON
 * strings inside the snapshot, so their quotes are escaped twice. */
static const char owner_snapshot[] =
    "{\"sesgate_state\": 1, \"regions\": {\"us-east-1\": {"
    "\"account\": {\"ProductionAccessEnabled\": true, "
    "\"SendingEnabled\": true, \"SendQuota\": {\"Max24HourSend\": 50000, "
    "\"MaxSendRate\": 14, \"SentLast24Hours\": 0}},"
    "\"identities\": ["
    "{\"IdentityName\": \"example.com\", \"IdentityType\": \"DOMAIN\", "
    "\"VerificationStatus\": \"SUCCESS\", \"SendingEnabled\": true, "
    "\"Policies\": {"
    "\"app\": " OPOL("{\\\"Statement\\\": [{\\\"Sid\\\": \\\"app\\\", "
    "\\\"Effect\\\": \\\"Allow\\\", \\\"Principal\\\": {\\\"AWS\\\": "
    "\\\"444455556666\\\"}, \\\"Action\\\": \\\"ses:SendRawEmail\\\", "
    "\\\"Resource\\\": \\\"" OARN "example.com\\\", \\\"Condition\\\": {"
    "\\\"ForAllValues:StringLike\\\": {\\\"ses:Recipients\\\": "
    "[\\\"*@example.com\\\", \\\"*@example.net\\\"]}, "
    "\\\"IpAddress\\\": {\\\"aws:SourceIp\\\": \\\"192.0.2.0/24\\\"}, "
    "\\\"StringEquals\\\": {\\\"ses:ApiVersion\\\": \\\"2\\\"}}}]}") ", "
    "\"block\": " OPOL("{\\\"Statement\\\": [{\\\"Sid\\\": \\\"noblocked\\\", "
    "\\\"Effect\\\": \\\"Deny\\\", \\\"Principal\\\": {\\\"AWS\\\": "
    "\\\"arn:aws:iam::444455556666:user/blocked\\\"}, \\\"Action\\\": "
    "\\\"ses:Send*\\\", \\\"Resource\\\": \\\"*\\\"}]}") ", "
    "\"weird\": " OPOL("{\\\"Statement\\\": [{\\\"Effect\\\": \\\"Allow\\\", "
    "\\\"Principal\\\": {\\\"AWS\\\": \\\"777788889999\\\"}, "
    "\\\"Action\\\": \\\"ses:SendRawEmail\\\", \\\"Resource\\\": \\\"*\\\", "
    "\\\"Condition\\\": {\\\"StringSortOf\\\": {\\\"ses:FromAddress\\\": "
    "\\\"*\\\"}}}]}") "}},"
    "{\"IdentityName\": \"other.example\", \"IdentityType\": \"DOMAIN\", "
    "\"VerificationStatus\": \"SUCCESS\", \"SendingEnabled\": true},"
    "{\"IdentityName\": \"dated.example\", \"IdentityType\": \"DOMAIN\", "
    "\"VerificationStatus\": \"SUCCESS\", \"SendingEnabled\": true, "
    "\"Policies\": {\"until2027\": " OPOL("{\\\"Statement\\\": [{"
    "\\\"Effect\\\": \\\"Allow\\\", \\\"Principal\\\": \\\"*\\\", "
    "\\\"Action\\\": \\\"ses:SendRawEmail\\\", \\\"Resource\\\": \\\""
    OARN "dated.example\\\", \\\"Condition\\\": {\\\"DateLessThan\\\": "
    "{\\\"aws:CurrentTime\\\": \\\"2027-01-01T00:00:00Z\\\"}, "
    "\\\"StringEquals\\\": {\\\"ses:FromDisplayName\\\": "
    "\\\"News Desk\\\"}}}]}") "}}"
    "]}}}";

static const char owner_deleg[] =
    "principal app 444455556666\n"
    "principal blocked arn:aws:iam::444455556666:user/blocked\n"
    "principal self arn:aws:iam::" OWNER ":user/relay\n"
    "principal weird 777788889999\n"
    "principal client:198.51.100.0/24 444455556666\n"
    "principal client:2001:db8::/32 arn:aws:iam::444455556666:user/v6\n";

static char *otmp;
static SG_CONF *oconf;
static SG_CONF *oconf_noacct;
static SG_STATE *ostate;
static SG_SNAP *osnap;
static SG_DELEG *odl;

/* osetup - the owner's store, a config with aws_account_id and one
 * without */
static void
osetup(void)
{
    char path[4096], cbuf[8400], err[1024];
    FILE *fp;
    int n;

    otmp = sg_test_tmpdir();
    ck_assert_ptr_nonnull(otmp);
    snprintf(path, sizeof(path), "%s/delegations", otmp);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(owner_deleg, fp);
    fclose(fp);
    n = snprintf(cbuf, sizeof(cbuf), "default_region = us-east-1\n"
                 "state_dir = %s\ndelegations = %s\n"
                 "aws_account_id = " OWNER "\n", otmp, path);
    oconf = sg_conf_load_buf("owner.conf", cbuf, (size_t)n, err,
                             sizeof(err));
    ck_assert_msg(oconf != NULL, "config: %s", err);
    n = snprintf(cbuf, sizeof(cbuf), "default_region = us-east-1\n"
                 "state_dir = %s\ndelegations = %s\n", otmp, path);
    oconf_noacct = sg_conf_load_buf("owner2.conf", cbuf, (size_t)n, err,
                                    sizeof(err));
    ck_assert_msg(oconf_noacct != NULL, "config: %s", err);
    odl = sg_deleg_load(path, err, sizeof(err));
    ck_assert_msg(odl != NULL, "delegations: %s", err);
    ostate = sg_state_open(otmp, SG_STATE_CREATE, 64 << 20, err,
                           sizeof(err));
    ck_assert_msg(ostate != NULL, "open: %s", err);
    ck_assert_msg(sg_state_import_buf(ostate, "owner.json", owner_snapshot,
                                      sizeof(owner_snapshot) - 1, err,
                                      sizeof(err)) == SG_OK,
                  "import: %s", err);
    osnap = sg_snap_new(ostate);
    ck_assert_ptr_nonnull(osnap);
    ck_assert_int_eq(sg_snap_begin(osnap), SG_OK);
}

/* oteardown - remove what osetup made */
static void
oteardown(void)
{
    sg_snap_free(osnap);
    sg_state_close(ostate);
    sg_deleg_free(odl);
    sg_conf_free(oconf);
    sg_conf_free(oconf_noacct);
    sg_test_rmtree(otmp);
    free(otmp);
}

#define DENIED(user, ident) \
    "Access denied: User " user " is not authorized to perform " \
    "ses:SendRawEmail on resource " OARN ident

/* One message through sg_decide_owner_policy. */
struct owner_case {
    const char *name;
    const char *sasl;
    const char *client;
    const char *sender;
    const char *hdr_from;
    const char *hdr_rp;
    const char *rcpts;          /* comma-separated */
    long long now;
    int want_code;
    const char *want_text;      /* exact when refused */
    const char *want_why;       /* in why */
};

static const struct owner_case ocases[] = {
    {"allowed: account principal, recipients and IP in the condition",
     "app", "192.0.2.5", "<a@example.com>", "a@example.com", NULL,
     "x@example.com,y@example.net", 0, 250, "",
     "may send as 1 identity"},
    {"ForAllValues: one recipient outside the list", "app", "192.0.2.5",
     "<a@example.com>", "a@example.com", NULL,
     "x@example.com,z@example.org", 0, 554,
     DENIED("arn:aws:iam::444455556666:root", "example.com"),
     "no statement of 3 policies allows"},
    {"ses:Recipients in normal form: the domain in lower case", "app",
     "192.0.2.5", "<a@example.com>", NULL, NULL, "x@EXAMPLE.com", 0, 250,
     "", "allowed by policy app statement 0 (Sid app)"},
    {"aws:SourceIp outside the block", "app", "203.0.113.9",
     "<a@example.com>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:root", "example.com"), "implicit"},
    {"no client address: IpAddress does not hold", "app", NULL,
     "<a@example.com>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:root", "example.com"), "implicit"},
    {"explicit Deny wins over the account's Allow", "blocked",
     "192.0.2.5", "<a@example.com>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:user/blocked", "example.com"),
     "explicitly denied by policy block statement 0 (Sid noblocked)"},
    {"unknown operator: the statement does not apply", "weird",
     "192.0.2.5", "<a@example.com>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::777788889999:root", "example.com"),
     "statements with problems skipped"},
    {"owner's own IAM user: not evaluated", "self", "203.0.113.9",
     "<a@example.com>", NULL, NULL, "z@example.org", 0, 250, "",
     "belongs to the owner account " OWNER},
    {"no principal line: not evaluated", "nobody", "203.0.113.9",
     "<a@example.com>", NULL, NULL, "z@example.org", 0, 250, "",
     "no principal line maps SASL user nobody"},
    {"unverified sender: not this account's identity", "app",
     "203.0.113.9", "<a@unknown.example>", NULL, NULL, "z@example.org", 0,
     250, "", "no identity of account " OWNER " covers"},
    {"identity without policies: implicit deny", "app", "192.0.2.5",
     "<a@other.example>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:root", "other.example"),
     "no statement of 0 policies"},
    {"From: identity evaluated too (its own resource)", "app",
     "192.0.2.5", "<a@example.com>", "\"O\" <o@other.example>", NULL,
     "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:root", "other.example"),
     "From: o@other.example, identity other.example"},
    {"Return-Path: identity evaluated too", "app", "192.0.2.5",
     "<a@example.com>", NULL, "<b@other.example>", "x@example.com", 0,
     554, DENIED("arn:aws:iam::444455556666:root", "other.example"),
     "Return-Path: b@other.example"},
    {"client mapping, IP outside the policy's block", NULL,
     "198.51.100.7", "<a@example.com>", NULL, NULL, "x@example.com", 0,
     554, DENIED("arn:aws:iam::444455556666:root", "example.com"),
     "implicit"},
    {"client mapping (IPv6), principal not allowed", NULL, "2001:db8::5",
     "<a@example.com>", NULL, NULL, "x@example.com", 0, 554,
     DENIED("arn:aws:iam::444455556666:user/v6", "example.com"),
     "implicit"},
    {"aws:CurrentTime before the date, display name matches", "app",
     NULL, "<n@dated.example>", "\"News Desk\" <n@dated.example>", NULL,
     "x@anywhere.test", 1782864000LL, 250, "", "may send"},
    {"aws:CurrentTime after the date", "app", NULL, "<n@dated.example>",
     "\"News Desk\" <n@dated.example>", NULL, "x@anywhere.test",
     1814400000LL, 554,
     DENIED("arn:aws:iam::444455556666:root", "dated.example"),
     "implicit"},
    {"ses:FromDisplayName differs", "app", NULL, "<n@dated.example>",
     "News <n@dated.example>", NULL, "x@anywhere.test", 1782864000LL, 554,
     DENIED("arn:aws:iam::444455556666:root", "dated.example"),
     "implicit"},
};

/* split_rcpts - a comma-separated list into rcpts (at most 8) */
static size_t
split_rcpts(const char *list, char *buf, size_t size, const char **rcpts)
{
    char *p, *save = NULL;
    size_t n = 0;

    snprintf(buf, size, "%s", list);
    for (p = strtok_r(buf, ",", &save); p != NULL && n < 8;
         p = strtok_r(NULL, ",", &save))
        rcpts[n++] = p;
    return n;
}

START_TEST(test_owner_stage)
{
    const struct owner_case *c = &ocases[_i];
    const struct sg_region *r = sg_region_lookup("us-east-1");
    struct sg_owner_ctx oc;
    struct sg_verdict v;
    const char *rcpts[8];
    char buf[512];

    memset(&oc, 0, sizeof(oc));
    memset(&v, 0, sizeof(v));
    v.explain = 1;
    oc.dl = odl;
    oc.sasl_user = c->sasl;
    oc.client_addr = c->client;
    oc.sender = c->sender;
    oc.hdr_from = c->hdr_from;
    oc.hdr_return_path = c->hdr_rp;
    oc.rcpts = rcpts;
    oc.nrcpt = split_rcpts(c->rcpts, buf, sizeof(buf), rcpts);
    oc.now = c->now;
    ck_assert_int_eq(sg_decide_owner_policy(oconf, osnap, r, &oc, &v),
                     SG_OK);
    ck_assert_msg(v.code == c->want_code, "%s: got %d %s (%s), want %d",
                  c->name, v.code, v.text, v.why, c->want_code);
    if (c->want_code != 250) {
        ck_assert_str_eq(v.text, c->want_text);
        ck_assert_str_eq(v.enhanced, "5.7.1");
        ck_assert_str_eq(v.rule, "R8");
        ck_assert_int_eq(v.action, SG_REJECT);
    }
    ck_assert_msg(strstr(v.why, c->want_why) != NULL,
                  "%s: why \"%s\" lacks \"%s\"", c->name, v.why,
                  c->want_why);
    /* The daemons' cheap test agrees on whether anything is
     * evaluated. */
    if (strstr(c->want_why, "owner account") != NULL
        || strstr(c->want_why, "no principal line") != NULL)
        ck_assert_ptr_null(sg_decide_owner_principal(oconf, &oc));
    else
        ck_assert_ptr_nonnull(sg_decide_owner_principal(oconf, &oc));
    /* Without aws_account_id nothing is evaluated. */
    ck_assert_int_eq(sg_decide_owner_policy(oconf_noacct, osnap, r, &oc,
                                            &v), SG_OK);
    ck_assert_int_eq(v.code, 250);
    ck_assert_ptr_null(sg_decide_owner_principal(oconf_noacct, &oc));
}
END_TEST

/* An explicit principal (sesgatectl check --principal) wins over the
 * mapping; the owner's account id itself is the owner. */
START_TEST(test_owner_explicit)
{
    const struct sg_region *r = sg_region_lookup("us-east-1");
    const char *rcpts[1] = { "<x@example.com>" };
    struct sg_owner_ctx oc;
    struct sg_verdict v;

    memset(&oc, 0, sizeof(oc));
    memset(&v, 0, sizeof(v));
    oc.dl = odl;
    oc.sasl_user = "app";
    oc.client_addr = "192.0.2.5";
    oc.sender = "<a@example.com>";
    oc.rcpts = rcpts;
    oc.nrcpt = 1;
    oc.principal = "arn:aws:iam::444455556666:user/blocked";
    ck_assert_int_eq(sg_decide_owner_policy(oconf, osnap, r, &oc, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 554);
    oc.principal = OWNER;
    ck_assert_int_eq(sg_decide_owner_policy(oconf, osnap, r, &oc, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 250);
    oc.principal = "arn:aws:sts::" OWNER ":assumed-role/relay/s1";
    ck_assert_int_eq(sg_decide_owner_policy(oconf, osnap, r, &oc, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 250);
    /* No dl and no principal: nothing to evaluate. */
    oc.principal = NULL;
    oc.dl = NULL;
    ck_assert_ptr_null(sg_decide_owner_principal(oconf, &oc));
    ck_assert_int_eq(sg_decide_owner_policy(oconf, osnap, r, &oc, &v),
                     SG_OK);
    ck_assert_int_eq(v.code, 250);
}
END_TEST

/* sg_decide applies the stage to the recipients it relays. */
START_TEST(test_owner_decide)
{
    struct sg_decision d;
    struct sg_msg msg;
    const char *rcpts[2] = { "<x@example.com>", "<z@example.org>" };

    memset(&msg, 0, sizeof(msg));
    msg.region = "us-east-1";
    msg.sasl_user = "app";
    msg.client_addr = "192.0.2.5";
    msg.env_from = "<a@example.com>";
    msg.hdr_from = "a@example.com";
    msg.rcpts = rcpts;
    msg.nrcpt = 1;
    msg.size = -1;
    msg.explain = 1;
    ck_assert_int_eq(sg_decide(oconf, osnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 250);
    ck_assert_int_eq(d.relayed, 1);
    ck_assert_msg(strstr(d.message.why, "R8: 444455556666 may send") != NULL,
                  "%s", d.message.why);
    sg_decision_clear(&d);
    msg.nrcpt = 2;
    ck_assert_int_eq(sg_decide(oconf, osnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 554);
    ck_assert_str_eq(d.message.rule, "R8");
    ck_assert_str_eq(d.message.text,
                     DENIED("arn:aws:iam::444455556666:root", "example.com"));
    ck_assert_int_eq(d.relayed, 0);
    sg_decision_clear(&d);
    /* Not mapped: the same message is relayed, and not explained. */
    msg.sasl_user = "nobody";
    ck_assert_int_eq(sg_decide(oconf, osnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 250);
    ck_assert_ptr_null(strstr(d.message.why, "R8"));
    sg_decision_clear(&d);
    /* Explicit principal. */
    msg.principal = "arn:aws:iam::444455556666:user/blocked";
    msg.nrcpt = 1;
    ck_assert_int_eq(sg_decide(oconf, osnap, &msg, &d), SG_OK);
    ck_assert_int_eq(d.message.code, 554);
    sg_decision_clear(&d);
}
END_TEST

/* The delegations file's client lines. */
START_TEST(test_principal_for)
{
    char err[256];
    SG_DELEG *dl;

    ck_assert_str_eq(sg_deleg_principal_for(odl, "app", "2001:db8::1"),
                     "444455556666");
    ck_assert_str_eq(sg_deleg_principal_for(odl, "nobody", "2001:db8::1"),
                     "arn:aws:iam::444455556666:user/v6");
    ck_assert_str_eq(sg_deleg_principal_for(odl, NULL, "198.51.100.255"),
                     "444455556666");
    ck_assert_ptr_null(sg_deleg_principal_for(odl, NULL, "198.51.101.1"));
    ck_assert_ptr_null(sg_deleg_principal_for(odl, "", ""));
    ck_assert_ptr_null(sg_deleg_principal_for(NULL, "app", NULL));
    ck_assert_uint_eq(sg_deleg_nprincipals(odl), 6);
    dl = sg_deleg_load_buf("deleg", "\n\nprincipal client:300.1.2.3 "
                           "111122223333\n", 42, err, sizeof(err));
    ck_assert_ptr_null(dl);
    ck_assert_msg(strstr(err, "deleg:3: client:300.1.2.3: expected "
                         "client:ADDRESS") != NULL, "%s", err);
    dl = sg_deleg_load_buf("deleg", "principal client:10.0.0.0/33 "
                           "111122223333\n", 42, err, sizeof(err));
    ck_assert_ptr_null(dl);
    ck_assert_msg(strstr(err, "deleg:1: client:10.0.0.0/33") != NULL, "%s",
                  err);
}
END_TEST

/* Display names as SES's ses:FromDisplayName. */
START_TEST(test_display_name)
{
    char buf[64];

    ck_assert_str_eq(sg_authz_display_name("\"News Desk\"", buf,
                                           sizeof(buf)), "News Desk");
    ck_assert_str_eq(sg_authz_display_name(" \"Doe, \\\"J\\\"\" ", buf,
                                           sizeof(buf)), "Doe, \"J\"");
    ck_assert_str_eq(sg_authz_display_name("Ann  B", buf, sizeof(buf)),
                     "Ann  B");
    ck_assert_str_eq(sg_authz_display_name(NULL, buf, sizeof(buf)), "");
    ck_assert_str_eq(sg_authz_display_name("abcdef", buf, 4), "abc");
}
END_TEST

/* aws_account_id: 12 digits, errors name the file and line. */
START_TEST(test_owner_conf)
{
    char err[512];
    SG_CONF *c;

    c = sg_conf_load_buf("a.conf", "\naws_account_id = 12345\n", 24, err,
                         sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "a.conf:2: aws_account_id: '12345' is not "
                         "a 12-digit AWS account id") != NULL, "%s", err);
    c = sg_conf_load_buf("a.conf", "aws_account_id = 12345678901x\n", 30,
                         err, sizeof(err));
    ck_assert_ptr_null(c);
    c = sg_conf_load_buf("a.conf", "aws_account_id = 123456789012\n", 30,
                         err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->aws_account_id, "123456789012");
    sg_conf_free(c);
}
END_TEST

/* sg_authz_suite - the suite */
Suite *
sg_authz_suite(void)
{
    Suite *s = suite_create("authz");
    TCase *tc = tcase_create("authz");

    tcase_add_loop_test(tc, test_eval_table, 0,
                        (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_eval_two_policies);
    tcase_add_test(tc, test_eval_identity);
    tcase_add_test(tc, test_eval_bounds);
    tcase_add_loop_test(tc, test_glob, 0,
                        (int)(sizeof(globs) / sizeof(globs[0])));
    tcase_add_test(tc, test_ip);
    tcase_add_test(tc, test_time);
    tcase_add_test(tc, test_arn);
    tcase_add_test(tc, test_check_policy);
    tcase_add_test(tc, test_denied_text);
    tcase_add_test(tc, test_deleg);
    tcase_add_loop_test(tc, test_deleg_errors, 0,
                        (int)(sizeof(deleg_bads) / sizeof(deleg_bads[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("decide-delegations");
    tcase_add_checked_fixture(tc, dsetup_clean, dteardown);
    tcase_add_loop_test(tc, test_decide_deleg, 0,
                        (int)(sizeof(dcases) / sizeof(dcases[0])));
    tcase_add_test(tc, test_decide_deleg_use);
    suite_add_tcase(s, tc);

    tc = tcase_create("owner-policies");
    tcase_add_checked_fixture(tc, osetup, oteardown);
    tcase_add_loop_test(tc, test_owner_stage, 0,
                        (int)(sizeof(ocases) / sizeof(ocases[0])));
    tcase_add_test(tc, test_owner_explicit);
    tcase_add_test(tc, test_owner_decide);
    tcase_add_test(tc, test_principal_for);
    tcase_add_test(tc, test_owner_conf);
    tcase_add_test(tc, test_display_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("decide-r6");
    tcase_add_checked_fixture(tc, dsetup_mistakes, dteardown);
    tcase_add_test(tc, test_decide_r6);
    suite_add_tcase(s, tc);
    return s;
}
