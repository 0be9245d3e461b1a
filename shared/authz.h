/*
 * authz.h - sending authorization (R8): identity-owner policies and the
 *   delegations file
 *
 * Two sides of SES's sending authorization live here.
 *
 * 1. The identity owner's side: an identity's sending authorization
 *    policies (GetEmailIdentity's Policies: name -> policy document)
 *    evaluated for one request the way SES evaluates them:
 *      - every statement whose Principal, Action, Resource and
 *        Condition all match the request applies;
 *      - an applying "Deny" statement refuses, whatever allows;
 *      - otherwise an applying "Allow" statement allows;
 *      - otherwise the request is refused (implicit deny).
 *    Principal: "*", {"AWS": "*"}, {"AWS": account ids, account root
 *    ARNs (arn:aws:iam::ACCOUNT:root), IAM user or role ARNs}; an account
 *    id matches every principal of that account, a role ARN matches the
 *    role's assumed-role sessions (arn:aws:sts::ACCOUNT:assumed-role/
 *    ROLE/SESSION). "Service", "Federated" and "CanonicalUser"
 *    principals never send over SMTP and match nothing. NotPrincipal,
 *    NotAction and NotResource are the complements.
 *    Action: ses:SendRawEmail (SMTP), with "*" and "?" wildcards,
 *    compared case-insensitively ("ses:Send*", "ses:*", "*").
 *    Resource: the identity ARN, "*" and "?" wildcards, case-sensitive.
 *    Condition: every operator, every key of it, must hold; a key holds
 *    when the request's value matches any of the policy's values.
 *    Operators: StringEquals, StringNotEquals, StringLike,
 *    StringNotLike (case-sensitive, "*" and "?"), StringEqualsIgnoreCase,
 *    StringNotEqualsIgnoreCase, IpAddress, NotIpAddress (IPv4 and IPv6,
 *    CIDR or host), DateEquals, DateNotEquals, DateLessThan,
 *    DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals (ISO
 *    8601 or epoch seconds), Bool, Null; the "IfExists" suffix; the
 *    "ForAllValues:" and "ForAnyValue:" set qualifiers.
 *    Keys (names case-insensitive): ses:FromAddress, ses:FromDisplayName,
 *    ses:FeedbackAddress, ses:Recipients (multivalued), ses:ApiVersion
 *    ("2" over SMTP), aws:SourceIp, aws:CurrentTime, aws:EpochTime,
 *    aws:SecureTransport (always true: SES's SMTP interface requires
 *    TLS), aws:UserAgent (never present over SMTP).
 *    Absent keys: a positive operator does not hold, a negated one
 *    (...Not..., NotIpAddress) does; "IfExists" holds; ForAllValues holds
 *    on an empty set, ForAnyValue does not.
 *    OPEN (AWS does not document it): a multivalued key (ses:Recipients)
 *    without a set qualifier is evaluated as ForAnyValue.
 *    A statement with anything this evaluator does not know (operator,
 *    key, principal type, policy variable "${...}", malformed value)
 *    does not apply, and is listed in the result's problems (and by
 *    sesgatectl lint): an unknown condition can neither allow nor deny
 *    here, which errs toward refusing for Allow statements.
 *    Refusal text (SES's): "Access denied: User USERARN is not
 *    authorized to perform ses:SendRawEmail on resource IDENTITYARN".
 *
 * 2. The delegate's side: the delegations file (config parameter
 *    "delegations") names the identities of other accounts this site
 *    may send as, who may use each, and the principals of SASL users.
 *    Format (one entry a line; "#" comments; blank lines ignored):
 *
 *      delegate ARN WHO [covers=LIST] [owner=production|sandbox]
 *               [user=USERARN]
 *      principal SASLUSER PRINCIPAL
 *      principal client:CIDR PRINCIPAL
 *
 *    ARN is arn:aws:ses:REGION:ACCOUNT:identity/NAME (a domain or an
 *    address). WHO is a comma-separated list of "sasl:USER" (SASL login
 *    name, exact), "ADDRESS" (envelope sender, local part exact, domain
 *    any case), "@DOMAIN" (envelope senders of that domain or its
 *    subdomains) or "*" (anyone). covers= is a comma-separated subset of
 *    source, from, return-path (default: all three): the addresses the
 *    identity may stand for (envelope sender = SES Source, From:,
 *    Return-Path:/feedback address). owner= is the owner account's
 *    sandbox status in that region (default: the config parameter
 *    delegation_owner_production). user= is the delegate's IAM user ARN
 *    for SES's access-denied text (default: "sasl:USER" of the message).
 *    A "principal" line maps a SASL user, or SMTP clients whose address
 *    is in CIDR ("client:192.0.2.0/24", "client:2001:db8::1"), to the
 *    IAM principal (account id or ARN) that identity-owner policies are
 *    evaluated for (sg_decide_owner_policy, decide.h). A SASL user's
 *    line wins over client lines; of client lines the first that
 *    contains the address.
 *    The file is bounded: SG_DELEG_FILE_MAX bytes, SG_DELEG_MAX entries.
 */
#ifndef SG_AUTHZ_H
#define SG_AUTHZ_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Bounds (SES: 20 policies of at most 4 KB per identity). */
#define SG_AUTHZ_POLICY_MAX     (64 * 1024)     /* one policy document */
#define SG_AUTHZ_POLICIES_MAX   32              /* policies evaluated */
#define SG_AUTHZ_STATEMENTS_MAX 100             /* per policy */
#define SG_AUTHZ_VALUES_MAX     256             /* per list in a policy */
#define SG_AUTHZ_PROBLEMS_MAX   1024            /* bytes of problem text */
#define SG_AUTHZ_ARN_MAX        512

/* The SMTP interface's action. */
#define SG_AUTHZ_SMTP_ACTION    "ses:SendRawEmail"

/* One request, as SES sees a message sent over SMTP. */
struct sg_authz_req {
    const char *principal;      /* account id or IAM/STS ARN (required) */
    const char *action;         /* NULL: ses:SendRawEmail */
    const char *resource;       /* identity ARN (required) */
    const char *from_address;   /* ses:FromAddress, NULL absent */
    const char *from_display;   /* ses:FromDisplayName, NULL/"" absent */
    const char *feedback_address; /* ses:FeedbackAddress, NULL absent */
    const char *const *recipients; /* ses:Recipients */
    size_t nrecipients;
    const char *api_version;    /* ses:ApiVersion, NULL: "2" (SMTP) */
    const char *source_ip;      /* aws:SourceIp, NULL absent */
    long long now;              /* aws:CurrentTime; 0: time(NULL) */
};

/* One policy document to evaluate. */
struct sg_authz_policy {
    const char *name;           /* policy name (for explanations) */
    const char *doc;            /* the JSON text */
    size_t len;
};

/* The outcome. */
enum sg_authz_effect {
    SG_AUTHZ_IMPLICIT = 0,      /* no statement applied: refused */
    SG_AUTHZ_ALLOW = 1,         /* an Allow applied, no Deny */
    SG_AUTHZ_DENY = 2           /* an explicit Deny applied */
};

struct sg_authz_result {
    enum sg_authz_effect effect;
    int allowed;                /* effect == SG_AUTHZ_ALLOW */
    char policy[72];            /* policy of the deciding statement */
    int statement;              /* its index (0-based), -1 none */
    char sid[72];               /* its Sid, "" none */
    char why[SG_VERDICT_WHY_MAX];   /* explanation */
    char text[SG_VERDICT_TEXT_MAX]; /* SES's refusal text when refused */
    int nproblems;              /* statements skipped, bad policies */
    char problems[SG_AUTHZ_PROBLEMS_MAX]; /* "; "-separated */
};

/*
 * sg_authz_eval - evaluate an identity's policies for one request
 *
 * Parameters: pol, npol policies (more than SG_AUTHZ_POLICIES_MAX: the
 *   rest are ignored and reported); req; out, always filled in.
 * Returns: SG_OK (see out->effect), SG_ERR_USAGE (NULL principal or
 *   resource), SG_ERR_NOMEM. A policy that is not valid JSON, too big
 *   or not a policy is reported in out->problems and grants nothing.
 * Thread-safety: safe.
 */
extern SG_STATUS sg_authz_eval(const struct sg_authz_policy *pol,
                               size_t npol, const struct sg_authz_req *req,
                               struct sg_authz_result *out);

/*
 * sg_authz_eval_identity - the same with the policies of a stored
 *   identity entry (its JSON: "Policies": {NAME: DOCUMENT-TEXT or
 *   object})
 *
 * Returns: as sg_authz_eval; an identity without Policies is an implicit
 *   deny. SG_ERR_SYNTAX when json is not an object.
 */
extern SG_STATUS sg_authz_eval_identity(const char *json, size_t len,
                                        const struct sg_authz_req *req,
                                        struct sg_authz_result *out);

/*
 * sg_authz_check_policy - what this evaluator cannot use in a policy,
 *   for lint: unknown operators, keys, principal types, missing
 *   Effect/Action/Resource, no statement allowing ses:SendRawEmail,
 *   a Resource naming another identity or region than arn (NULL: not
 *   checked)
 *
 * Parameters: buf/size, caller buffer for "; "-separated problems.
 * Returns: the number of problems (0: fine).
 */
extern int sg_authz_check_policy(const char *doc, size_t len,
                                 const char *arn, char *buf, size_t size);

/*
 * sg_authz_denied_text_buf - SES's refusal text
 *
 * "Access denied: User USER is not authorized to perform
 * ses:SendRawEmail on resource ARN"; an account id USER is written as
 * arn:aws:iam::ACCOUNT:root. Returns: buf.
 */
extern char *sg_authz_denied_text_buf(const char *user, const char *arn,
                                      char *buf, size_t size);

/*
 * sg_authz_display_name - a display name as written in a header (as
 *   struct sg_addr keeps it) as SES's ses:FromDisplayName: the quotes
 *   of quoted strings and their backslash escapes removed, white space
 *   trimmed ("\"Doe, John\"" -> "Doe, John"); encoded words stay as
 *   written
 *
 * Returns: buf.
 */
extern char *sg_authz_display_name(const char *raw, char *buf,
                                   size_t size);

/* A parsed identity ARN. */
struct sg_arn {
    char region[SG_REGION_MAX + 1];
    char account[16];
    char name[SG_ADDR_MAX + 1];     /* domain or address */
};

/*
 * sg_authz_parse_arn - split arn:PARTITION:ses:REGION:ACCOUNT:identity/NAME
 *
 * The region must be an SES region (R1), the account 12 digits.
 * Returns: 0, or -1 when it is not an SES identity ARN.
 */
extern int sg_authz_parse_arn(const char *arn, struct sg_arn *out);

/*
 * sg_authz_glob - "*" and "?" wildcard match (IAM StringLike)
 *
 * Parameters: nocase, 1 for ASCII case-insensitive (actions).
 * Returns: 1 match, 0 not.
 */
extern int sg_authz_glob(const char *pat, const char *s, int nocase);

/*
 * sg_authz_ip_in - whether an IP address is in a CIDR block or equal to
 *   a host ("10.0.0.0/8", "2001:db8::/32", "192.0.2.1")
 *
 * Returns: 1 in, 0 not, -1 when either does not parse.
 */
extern int sg_authz_ip_in(const char *ip, const char *cidr);

/*
 * sg_authz_parse_time - an IAM date: ISO 8601 ("2026-01-01",
 *   "2026-01-01T12:00:00Z", fractions, "+HH:MM" offsets) or epoch
 *   seconds
 *
 * Returns: 0 with *out in epoch seconds, or -1.
 */
extern int sg_authz_parse_time(const char *s, long long *out);

/* ---- The delegations file. ---- */

#define SG_DELEG_FILE_MAX   (1024 * 1024)
#define SG_DELEG_MAX        4096
#define SG_DELEG_WHO_MAX    64          /* WHO items per entry */

/* What a delegated identity may stand for. */
#define SG_DELEG_SOURCE     0x01        /* envelope sender (Source) */
#define SG_DELEG_FROM       0x02        /* From: header */
#define SG_DELEG_RPATH      0x04        /* Return-Path / feedback */
#define SG_DELEG_ALL        0x07

typedef struct sg_deleg SG_DELEG;

/* One "delegate" entry. Borrowed from the SG_DELEG. */
struct sg_deleg_entry {
    const char *arn;            /* as written */
    struct sg_arn id;           /* parsed */
    int covers;                 /* SG_DELEG_* */
    int owner_production;       /* -1 default, 0 sandbox, 1 production */
    const char *user;           /* user= or NULL */
    int line;
};

/*
 * sg_deleg_load - read a delegations file
 *
 * Parameters: path; err/errlen, caller buffer for "FILE:LINE: what".
 * Returns: new (free with sg_deleg_free), or NULL with err set.
 */
extern SG_DELEG *sg_deleg_load(const char *path, char *err, size_t errlen);

/* sg_deleg_load_buf - the same from memory; name is used in errors */
extern SG_DELEG *sg_deleg_load_buf(const char *name, const char *buf,
                                   size_t len, char *err, size_t errlen);

/* sg_deleg_free - release; accepts NULL; returns NULL */
extern SG_DELEG *sg_deleg_free(SG_DELEG *dl);

/* sg_deleg_count - number of "delegate" entries */
extern size_t sg_deleg_count(const SG_DELEG *dl);

/* sg_deleg_get - entry i (borrowed), NULL past the end */
extern const struct sg_deleg_entry *sg_deleg_get(const SG_DELEG *dl,
                                                 size_t i);

/*
 * sg_deleg_find - the first entry whose identity covers addr (R2
 *   matching: the address itself, without "+label", or a parent domain)
 *   for the use given (SG_DELEG_SOURCE/FROM/RPATH), usable by the SASL
 *   user or the envelope sender
 *
 * Parameters: addr, a bare address; use; sasl_user and env_sender
 *   (either may be NULL). Entries of any region are returned: the
 *   caller compares the region.
 * Returns: borrowed entry or NULL.
 */
extern const struct sg_deleg_entry *sg_deleg_find(const SG_DELEG *dl,
                                                  const char *addr, int use,
                                                  const char *sasl_user,
                                                  const char *env_sender);

/*
 * sg_deleg_principal - the principal a SASL user maps to
 *
 * Returns: borrowed string, or NULL when the file has no "principal"
 *   line for the user.
 */
extern const char *sg_deleg_principal(const SG_DELEG *dl,
                                      const char *sasl_user);

/*
 * sg_deleg_principal_for - the principal of a message: the SASL user's
 *   "principal" line, else the first "principal client:CIDR" line whose
 *   block holds client_addr
 *
 * Parameters: sasl_user, client_addr (either may be NULL or "").
 * Returns: borrowed string, or NULL when no line maps the message.
 */
extern const char *sg_deleg_principal_for(const SG_DELEG *dl,
                                          const char *sasl_user,
                                          const char *client_addr);

/* sg_deleg_nprincipals - number of "principal" lines */
extern size_t sg_deleg_nprincipals(const SG_DELEG *dl);

/*
 * sg_authz_principal_account - the AWS account of a principal: an
 *   account id itself, or the account field of an IAM/STS ARN
 *   (arn:aws:iam::ACCOUNT:user/NAME, arn:aws:sts::ACCOUNT:assumed-role/
 *   ROLE/SESSION, arn:aws:iam::ACCOUNT:root)
 *
 * Returns: buf, "" when p names no account.
 */
extern char *sg_authz_principal_account(const char *p, char *buf,
                                        size_t size);

/* sg_authz_is_account_id - exactly 12 decimal digits: 1, else 0 */
extern int sg_authz_is_account_id(const char *s);

#endif /* SG_AUTHZ_H */
