/*
 * authz.c - sending authorization (R8): the policy evaluator and the
 *   delegations file
 *
 * The evaluator works straight on jansson's tree of each policy: a
 * policy is at most a few kilobytes (SES: 4 KB), so compiling it first
 * would cost more than it saves. Every list it walks is bounded
 * (SG_AUTHZ_STATEMENTS_MAX, SG_AUTHZ_VALUES_MAX), the text it accepts
 * too (SG_AUTHZ_POLICY_MAX), and the wildcard matcher is the iterative
 * one-star-backtrack kind, so a hostile policy cannot make it slow.
 */

/* System headers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "config.h"
#include "addr.h"
#include "region.h"
#include "authz.h"

/* ---- Small helpers. ---- */

/* lower_c - ASCII lower case of one character */
static int
lower_c(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* sg_authz_glob - "*" and "?" wildcard match */
int
sg_authz_glob(const char *pat, const char *s, int nocase)
{
    const char *star = NULL, *mark = NULL;

    while (*s != '\0') {
        if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (*pat == '?'
                   || (*pat != '\0' && (nocase ? lower_c(*pat)
                                        == lower_c(*s) : *pat == *s))) {
            pat++;
            s++;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* parse_ip - an IPv4 or IPv6 address into 16 bytes; v4 as mapped */
static int
parse_ip(const char *s, unsigned char out[16], int *is_v4)
{
    struct in_addr a4;

    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *is_v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0xff, 0xff };

        *is_v4 = memcmp(out, mapped, 12) == 0;
        return 0;
    }
    return -1;
}

/* sg_authz_ip_in - IP address in a CIDR block */
int
sg_authz_ip_in(const char *ip, const char *cidr)
{
    unsigned char a[16], net[16];
    char host[64];
    const char *slash;
    char *end;
    long bits;
    int a4, n4, i;
    size_t hlen;

    if (ip == NULL || cidr == NULL || parse_ip(ip, a, &a4) != 0)
        return -1;
    slash = strchr(cidr, '/');
    hlen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, cidr, hlen);
    host[hlen] = '\0';
    if (parse_ip(host, net, &n4) != 0)
        return -1;
    if (slash != NULL) {
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno != 0 || *end != '\0' || bits < 0 || bits > (n4 ? 32 : 128))
            return -1;
    } else {
        bits = n4 ? 32 : 128;
    }
    if (a4 != n4)
        return 0;
    if (n4)
        bits += 96;
    for (i = 0; bits >= 8; i++, bits -= 8)
        if (a[i] != net[i])
            return 0;
    if (bits > 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - bits));

        if ((a[i] & mask) != (net[i] & mask))
            return 0;
    }
    return 1;
}

/* sg_authz_parse_time - ISO 8601 or epoch seconds */
int
sg_authz_parse_time(const char *s, long long *out)
{
    long y, mo, d, h = 0, mi = 0, se = 0, oh, om;
    long long t;
    const char *p;
    char *end;
    int sign;

    if (s == NULL || *s == '\0')
        return -1;
    if (strlen(s) < 10 || s[4] != '-') {
        /* Epoch seconds. */
        if (s[0] < '0' || s[0] > '9')
            return -1;
        errno = 0;
        t = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1;
        *out = t;
        return 0;
    }
    if ((y = sg_digits(s, 4)) < 0 || s[7] != '-'
        || (mo = sg_digits(s + 5, 2)) < 1 || mo > 12
        || (d = sg_digits(s + 8, 2)) < 1 || d > 31)
        return -1;
    p = s + 10;
    if (*p == 'T' || *p == 't') {
        if ((h = sg_digits(p + 1, 2)) < 0 || h > 23 || p[3] != ':'
            || (mi = sg_digits(p + 4, 2)) < 0 || mi > 59)
            return -1;
        p += 6;
        if (*p == ':') {
            if ((se = sg_digits(p + 1, 2)) < 0 || se > 60)
                return -1;
            p += 3;
            if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                    return -1;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
    }
    t = sg_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60
        + se;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if ((oh = sg_digits(p + 1, 2)) < 0 || oh > 23)
            return -1;
        p += 3;
        om = 0;
        if (*p == ':')
            p++;
        if (*p != '\0') {
            if ((om = sg_digits(p, 2)) < 0 || om > 59)
                return -1;
            p += 2;
        }
        t -= sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return -1;
    *out = t;
    return 0;
}

/* is_account_id - exactly 12 decimal digits */
static int
is_account_id(const char *s)
{
    int i;

    for (i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[12] == '\0';
}

/* arn_field - copy field n (0-based, ':'-separated) of an ARN */
static int
arn_field(const char *arn, int n, char *buf, size_t size)
{
    const char *p = arn, *e;
    size_t len;

    for (; n > 0; n--) {
        if ((p = strchr(p, ':')) == NULL)
            return -1;
        p++;
    }
    e = strchr(p, ':');
    len = e != NULL ? (size_t)(e - p) : strlen(p);
    if (len >= size)
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

/* arn_rest - the part of an ARN after its sixth field's ':' */
static const char *
arn_rest(const char *arn)
{
    const char *p = arn;
    int n;

    for (n = 0; n < 5; n++) {
        if ((p = strchr(p, ':')) == NULL)
            return NULL;
        p++;
    }
    return p;
}

/* sg_authz_parse_arn - split an SES identity ARN */
int
sg_authz_parse_arn(const char *arn, struct sg_arn *out)
{
    char f[32];
    const struct sg_region *r;
    const char *rest;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (arn == NULL || strncmp(arn, "arn:", 4) != 0
        || arn_field(arn, 2, f, sizeof(f)) != 0 || strcmp(f, "ses") != 0
        || arn_field(arn, 3, out->region, sizeof(out->region)) != 0
        || (r = sg_region_lookup(out->region)) == NULL
        || arn_field(arn, 4, out->account, sizeof(out->account)) != 0
        || !is_account_id(out->account)
        || (rest = arn_rest(arn)) == NULL
        || strncmp(rest, "identity/", 9) != 0)
        return -1;
    snprintf(out->region, sizeof(out->region), "%s", r->name);
    rest += 9;
    n = strlen(rest);
    if (n == 0 || n > SG_ADDR_MAX || strchr(rest, '/') != NULL)
        return -1;
    memcpy(out->name, rest, n + 1);
    return 0;
}

/* principal_account - the account of a request principal, "" if none */
static void
principal_account(const char *p, char *buf, size_t size)
{
    buf[0] = '\0';
    if (is_account_id(p))
        snprintf(buf, size, "%s", p);
    else if (strncmp(p, "arn:", 4) == 0
             && arn_field(p, 4, buf, size) == 0 && !is_account_id(buf))
        buf[0] = '\0';
}

/* sg_authz_principal_account - the AWS account of a principal */
char *
sg_authz_principal_account(const char *p, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    if (p == NULL) {
        buf[0] = '\0';
        return buf;
    }
    principal_account(p, buf, size);
    return buf;
}

/* sg_authz_is_account_id - exactly 12 decimal digits */
int
sg_authz_is_account_id(const char *s)
{
    return s != NULL && is_account_id(s);
}

/* sg_authz_display_name - a raw display name as ses:FromDisplayName */
char *
sg_authz_display_name(const char *raw, char *buf, size_t size)
{
    const char *p = raw != NULL ? raw : "";
    size_t n = 0;
    int quoted = 0;

    if (buf == NULL || size == 0)
        return buf;
    while (*p == ' ' || *p == '\t')
        p++;
    for (; *p != '\0' && n + 1 < size; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (quoted && *p == '\\' && p[1] != '\0')
            p++;
        buf[n++] = *p;
    }
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    return buf;
}

/* sg_authz_denied_text_buf - SES's access-denied text */
char *
sg_authz_denied_text_buf(const char *user, const char *arn, char *buf,
                         size_t size)
{
    if (user != NULL && is_account_id(user))
        snprintf(buf, size, "Access denied: User arn:aws:iam::%s:root is "
                 "not authorized to perform ses:SendRawEmail on resource "
                 "%.400s", user, arn != NULL ? arn : "");
    else
        snprintf(buf, size, "Access denied: User %.300s is not authorized "
                 "to perform ses:SendRawEmail on resource %.400s",
                 user != NULL ? user : "", arn != NULL ? arn : "");
    return buf;
}

/* ---- The evaluator. ---- */

/* Problems found while evaluating (or checking) a policy. */
struct probs {
    char *buf;
    size_t size;
    size_t len;
    int n;
};

/* prob_add - append one problem, "; "-separated; truncated silently */
static void prob_add(struct probs *pr, const char *fmt, ...)
    SG_PRINTFLIKE(2, 3);

static void
prob_add(struct probs *pr, const char *fmt, ...)
{
    va_list ap;
    int w;

    pr->n++;
    if (pr->buf == NULL || pr->size == 0 || pr->len + 4 >= pr->size)
        return;
    if (pr->len > 0) {
        memcpy(pr->buf + pr->len, "; ", 3);
        pr->len += 2;
    }
    va_start(ap, fmt);
    w = vsnprintf(pr->buf + pr->len, pr->size - pr->len, fmt, ap);
    va_end(ap);
    if (w < 0)
        pr->buf[pr->len] = '\0';
    else if ((size_t)w >= pr->size - pr->len)
        pr->len = pr->size - 1;
    else
        pr->len += (size_t)w;
}

/* Condition key kinds. */
enum key_type { K_STRING, K_IP, K_DATE, K_BOOL };

/* The condition keys SES honours (ses-facts.md 10). */
static const struct known_key {
    const char *name;
    enum key_type type;
    int multi;
} known_keys[] = {
    { "ses:FromAddress", K_STRING, 0 },
    { "ses:FromDisplayName", K_STRING, 0 },
    { "ses:FeedbackAddress", K_STRING, 0 },
    { "ses:Recipients", K_STRING, 1 },
    { "ses:ApiVersion", K_STRING, 0 },
    { "aws:SourceIp", K_IP, 0 },
    { "aws:CurrentTime", K_DATE, 0 },
    { "aws:EpochTime", K_DATE, 0 },
    { "aws:SecureTransport", K_BOOL, 0 },
    { "aws:UserAgent", K_STRING, 0 },
};

/* Operator bases. */
enum op_base { OP_STR_EQ, OP_STR_EQ_CI, OP_STR_LIKE, OP_IP, OP_DATE_EQ,
               OP_DATE_LT, OP_DATE_LE, OP_DATE_GT, OP_DATE_GE, OP_BOOL,
               OP_NULL };

static const struct known_op {
    const char *name;
    enum op_base base;
    int negated;
    enum key_type type;         /* the key type it applies to */
} known_ops[] = {
    { "StringEquals", OP_STR_EQ, 0, K_STRING },
    { "StringNotEquals", OP_STR_EQ, 1, K_STRING },
    { "StringEqualsIgnoreCase", OP_STR_EQ_CI, 0, K_STRING },
    { "StringNotEqualsIgnoreCase", OP_STR_EQ_CI, 1, K_STRING },
    { "StringLike", OP_STR_LIKE, 0, K_STRING },
    { "StringNotLike", OP_STR_LIKE, 1, K_STRING },
    { "IpAddress", OP_IP, 0, K_IP },
    { "NotIpAddress", OP_IP, 1, K_IP },
    { "DateEquals", OP_DATE_EQ, 0, K_DATE },
    { "DateNotEquals", OP_DATE_EQ, 1, K_DATE },
    { "DateLessThan", OP_DATE_LT, 0, K_DATE },
    { "DateLessThanEquals", OP_DATE_LE, 0, K_DATE },
    { "DateGreaterThan", OP_DATE_GT, 0, K_DATE },
    { "DateGreaterThanEquals", OP_DATE_GE, 0, K_DATE },
    { "Bool", OP_BOOL, 0, K_BOOL },
    { "Null", OP_NULL, 0, K_STRING },
};

/* A parsed condition operator name. */
struct opname {
    const struct known_op *op;
    int set;                    /* 0 none, 1 ForAllValues, 2 ForAnyValue */
    int if_exists;
};

/* parse_op - split "ForAllValues:StringLikeIfExists"; -1 unknown */
static int
parse_op(const char *name, struct opname *out)
{
    char base[64];
    size_t n, i;

    memset(out, 0, sizeof(out[0]));
    if (strncmp(name, "ForAllValues:", 13) == 0) {
        out->set = 1;
        name += 13;
    } else if (strncmp(name, "ForAnyValue:", 12) == 0) {
        out->set = 2;
        name += 12;
    }
    n = strlen(name);
    if (n >= sizeof(base))
        return -1;
    memcpy(base, name, n + 1);
    if (n > 8 && strcmp(base + n - 8, "IfExists") == 0) {
        out->if_exists = 1;
        base[n - 8] = '\0';
    }
    for (i = 0; i < sizeof(known_ops) / sizeof(known_ops[0]); i++) {
        if (strcmp(base, known_ops[i].name) == 0) {
            out->op = &known_ops[i];
            /* Null takes no IfExists and no set qualifier. */
            if (out->op->base == OP_NULL && (out->if_exists || out->set))
                return -1;
            return 0;
        }
    }
    return -1;
}

/* find_key - a known condition key (case-insensitive), or NULL */
static const struct known_key *
find_key(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
        if (strcasecmp(name, known_keys[i].name) == 0)
            return &known_keys[i];
    return NULL;
}

/* The request's value(s) of a key. */
struct reqval {
    const char *one[1];
    const char *const *v;
    size_t n;                   /* 0: absent */
    char buf[32];
};

/* request_values - what the request says for a key */
static void
request_values(const struct sg_authz_req *req, long long now,
               const struct known_key *k, struct reqval *rv)
{
    const char *s = NULL;

    rv->v = rv->one;
    rv->n = 0;
    if (strcmp(k->name, "ses:Recipients") == 0) {
        rv->v = req->recipients;
        rv->n = req->recipients != NULL ? req->nrecipients : 0;
        return;
    }
    if (strcmp(k->name, "ses:FromAddress") == 0)
        s = req->from_address;
    else if (strcmp(k->name, "ses:FromDisplayName") == 0)
        s = req->from_display != NULL && req->from_display[0] != '\0'
            ? req->from_display : NULL;
    else if (strcmp(k->name, "ses:FeedbackAddress") == 0)
        s = req->feedback_address;
    else if (strcmp(k->name, "ses:ApiVersion") == 0)
        s = req->api_version != NULL ? req->api_version : "2";
    else if (strcmp(k->name, "aws:SourceIp") == 0)
        s = req->source_ip != NULL && req->source_ip[0] != '\0'
            ? req->source_ip : NULL;
    else if (strcmp(k->name, "aws:CurrentTime") == 0
             || strcmp(k->name, "aws:EpochTime") == 0) {
        snprintf(rv->buf, sizeof(rv->buf), "%lld", now);
        s = rv->buf;
    } else if (strcmp(k->name, "aws:SecureTransport") == 0)
        s = "true";
    if (s != NULL) {
        rv->one[0] = s;
        rv->n = 1;
    }
}

/* value_text - a policy value as text (strings, numbers, booleans) */
static const char *
value_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    return NULL;
}

/* one_value - does a request value match one policy value? -1 bad value */
static int
one_value(enum op_base base, const char *rv, const char *pv)
{
    long long a, b;

    switch (base) {
    case OP_STR_EQ:
        return strcmp(rv, pv) == 0;
    case OP_STR_EQ_CI:
        return strcasecmp(rv, pv) == 0;
    case OP_STR_LIKE:
        return sg_authz_glob(pv, rv, 0);
    case OP_IP:
        /* A policy value that does not parse is the policy's fault;
         * a request address that does not parse matches nothing. */
        if (sg_authz_ip_in("0.0.0.0", pv) < 0)
            return -1;
        return sg_authz_ip_in(rv, pv) > 0;
    case OP_DATE_EQ:
    case OP_DATE_LT:
    case OP_DATE_LE:
    case OP_DATE_GT:
    case OP_DATE_GE:
        if (sg_authz_parse_time(pv, &b) != 0)
            return -1;
        if (sg_authz_parse_time(rv, &a) != 0)
            return 0;
        switch (base) {
        case OP_DATE_EQ:
            return a == b;
        case OP_DATE_LT:
            return a < b;
        case OP_DATE_LE:
            return a <= b;
        case OP_DATE_GT:
            return a > b;
        default:
            return a >= b;
        }
    case OP_BOOL:
        if (strcasecmp(pv, "true") != 0 && strcasecmp(pv, "false") != 0)
            return -1;
        return strcasecmp(rv, pv) == 0;
    case OP_NULL:
        break;
    }
    return 0;
}

/*
 * Policy values of one condition key, checked once: at most
 * SG_AUTHZ_VALUES_MAX strings (borrowed from the JSON tree).
 */
struct polvals {
    const char *v[SG_AUTHZ_VALUES_MAX];
    char num[8][32];            /* numbers and booleans as text */
    size_t n;
};

/* get_polvals - a value or an array of values; -1 when malformed */
static int
get_polvals(json_t *val, struct polvals *pv)
{
    size_t i, nnum = 0;
    json_t *e;

    pv->n = 0;
    if (!json_is_array(val)) {
        if ((pv->v[0] = value_text(val, pv->num[0], sizeof(pv->num[0])))
            == NULL)
            return -1;
        pv->n = 1;
        return 0;
    }
    if (json_array_size(val) == 0 || json_array_size(val)
        > SG_AUTHZ_VALUES_MAX)
        return -1;
    json_array_foreach(val, i, e) {
        if (json_is_string(e)) {
            pv->v[pv->n++] = json_string_value(e);
            continue;
        }
        if (nnum == sizeof(pv->num) / sizeof(pv->num[0]))
            return -1;
        if ((pv->v[pv->n] = value_text(e, pv->num[nnum], sizeof(pv->num[0])))
            == NULL)
            return -1;
        pv->n++;
        nnum++;
    }
    return 0;
}

/*
 * cond_key - evaluate one operator on one key
 *
 * Returns: 1 holds, 0 does not, -1 the policy value is malformed.
 */
static int
cond_key(const struct opname *on, const struct known_key *k,
         const struct polvals *pv, const struct reqval *rv)
{
    size_t i, j;
    int any, all, m, r;

    if (on->op->base == OP_NULL) {
        /* "Null": "true" holds when the key is absent. */
        if (strcasecmp(pv->v[0], "true") == 0)
            return rv->n == 0;
        if (strcasecmp(pv->v[0], "false") == 0)
            return rv->n > 0;
        return -1;
    }
    if (rv->n == 0) {
        if (on->if_exists || on->set == 1)
            return 1;
        if (on->set == 2)
            return 0;
        return on->op->negated;
    }
    any = 0;
    all = 1;
    for (i = 0; i < rv->n; i++) {
        m = 0;
        for (j = 0; j < pv->n; j++) {
            if ((r = one_value(on->op->base, rv->v[i], pv->v[j])) < 0)
                return -1;
            if (r) {
                m = 1;
                break;
            }
        }
        if (on->op->negated)
            m = !m;
        if (m)
            any = 1;
        else
            all = 0;
    }
    /* OPEN: a multivalued key without a qualifier counts as
     * ForAnyValue; a single-valued one has one value anyway. */
    (void)k;
    return on->set == 1 ? all : any;
}

/* has_variable - a policy variable "${...}" in a value list */
static int
has_variable(const struct polvals *pv)
{
    size_t i;

    for (i = 0; i < pv->n; i++)
        if (strstr(pv->v[i], "${") != NULL)
            return 1;
    return 0;
}

/*
 * conditions - evaluate a statement's Condition block
 *
 * Returns: 1 every condition holds, 0 one does not, -1 the block has
 *   something unknown or malformed (reported in pr).
 */
static int
conditions(json_t *cond, const struct sg_authz_req *req, long long now,
           const char *where, struct probs *pr)
{
    const char *opn, *kn;
    json_t *keys, *val;
    struct opname on;
    const struct known_key *k;
    struct polvals *pv;
    struct reqval rv;
    int result = 1, bad = 0, r;

    if (cond == NULL)
        return 1;
    if (!json_is_object(cond)) {
        prob_add(pr, "%s: Condition is not an object", where);
        return -1;
    }
    if ((pv = malloc(sizeof(*pv))) == NULL) {
        prob_add(pr, "%s: out of memory", where);
        return -1;
    }
    json_object_foreach(cond, opn, keys) {
        if (parse_op(opn, &on) != 0) {
            prob_add(pr, "%s: unknown condition operator %.64s", where, opn);
            bad = 1;
            continue;
        }
        if (!json_is_object(keys) || json_object_size(keys) == 0) {
            prob_add(pr, "%s: %.64s: expected an object of keys", where,
                     opn);
            bad = 1;
            continue;
        }
        json_object_foreach(keys, kn, val) {
            if ((k = find_key(kn)) == NULL) {
                prob_add(pr, "%s: unknown condition key %.64s", where, kn);
                bad = 1;
                continue;
            }
            if (on.op->base != OP_NULL && k->type != on.op->type
                && !(on.op->type == K_STRING && k->type == K_BOOL)) {
                prob_add(pr, "%s: %.64s cannot be used on %s", where, opn,
                         k->name);
                bad = 1;
                continue;
            }
            if (get_polvals(val, pv) != 0) {
                prob_add(pr, "%s: %.64s %s: values must be strings, "
                         "numbers or booleans (at most %d)", where, opn,
                         k->name, SG_AUTHZ_VALUES_MAX);
                bad = 1;
                continue;
            }
            if (has_variable(pv)) {
                prob_add(pr, "%s: %.64s %s: policy variables are not "
                         "supported", where, opn, k->name);
                bad = 1;
                continue;
            }
            if (on.op->base == OP_NULL && pv->n != 1) {
                prob_add(pr, "%s: Null %s: expected one value", where,
                         k->name);
                bad = 1;
                continue;
            }
            request_values(req, now, k, &rv);
            r = cond_key(&on, k, pv, &rv);
            if (r < 0) {
                prob_add(pr, "%s: %.64s %s: malformed value", where, opn,
                         k->name);
                bad = 1;
            } else if (r == 0) {
                result = 0;
            }
        }
    }
    free(pv);
    return bad ? -1 : result;
}

/*
 * list_match - a string or array of strings against fn
 *
 * Returns: 1 some element matches, 0 none, -1 malformed (reported).
 */
static int
list_match(json_t *v, int (*fn)(const char *pat, const void *arg),
           const void *arg, const char *where, const char *what,
           struct probs *pr)
{
    size_t i;
    json_t *e;
    int m = 0;

    if (json_is_string(v))
        return fn(json_string_value(v), arg);
    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > SG_AUTHZ_VALUES_MAX) {
        prob_add(pr, "%s: %s must be a string or a list of 1 to %d "
                 "strings", where, what, SG_AUTHZ_VALUES_MAX);
        return -1;
    }
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            prob_add(pr, "%s: %s must be a string or a list of 1 to %d "
                     "strings", where, what, SG_AUTHZ_VALUES_MAX);
            return -1;
        }
        if (!m && fn(json_string_value(e), arg))
            m = 1;
    }
    return m;
}

/* match_action - one Action pattern against the request's action */
static int
match_action(const char *pat, const void *arg)
{
    return sg_authz_glob(pat, (const char *)arg, 1);
}

/* match_resource - one Resource pattern against the identity ARN */
static int
match_resource(const char *pat, const void *arg)
{
    return sg_authz_glob(pat, (const char *)arg, 0);
}

/* match_aws_principal - one "AWS" principal against the request's */
static int
match_aws_principal(const char *pat, const void *arg)
{
    const char *p = arg;
    char acct[16], pacct[16], role[SG_AUTHZ_ARN_MAX];
    const char *rest, *prest, *slash;
    size_t n;

    if (strcmp(pat, "*") == 0)
        return 1;
    principal_account(p, acct, sizeof(acct));
    if (is_account_id(pat))
        return acct[0] != '\0' && strcmp(pat, acct) == 0;
    if (strncmp(pat, "arn:", 4) != 0)
        return 0;
    if (strcmp(pat, p) == 0)
        return 1;
    if (arn_field(pat, 4, pacct, sizeof(pacct)) != 0
        || (prest = arn_rest(pat)) == NULL)
        return 0;
    /* arn:aws:iam::ACCOUNT:root is the whole account. */
    if (strcmp(prest, "root") == 0)
        return acct[0] != '\0' && strcmp(pacct, acct) == 0;
    /* A role ARN (any path) covers its assumed-role sessions:
     * arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
    if (strncmp(prest, "role/", 5) == 0 && strncmp(p, "arn:", 4) == 0
        && strcmp(pacct, acct) == 0 && (rest = arn_rest(p)) != NULL
        && strncmp(rest, "assumed-role/", 13) == 0) {
        rest += 13;
        if ((slash = strchr(rest, '/')) == NULL)
            return 0;
        n = (size_t)(slash - rest);
        if (n >= sizeof(role))
            return 0;
        memcpy(role, rest, n);
        role[n] = '\0';
        slash = strrchr(prest, '/');
        return strcmp(slash + 1, role) == 0;
    }
    return 0;
}

/*
 * principal_match - a Principal (or NotPrincipal) value
 *
 * Returns: 1 matches the request principal, 0 not, -1 malformed.
 */
static int
principal_match(json_t *v, const char *principal, const char *where,
                struct probs *pr)
{
    const char *type;
    json_t *list;
    int m = 0, r;

    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") == 0)
            return 1;
        prob_add(pr, "%s: Principal must be \"*\" or an object", where);
        return -1;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) {
        prob_add(pr, "%s: Principal must be \"*\" or an object", where);
        return -1;
    }
    json_object_foreach(v, type, list) {
        if (strcmp(type, "AWS") == 0) {
            r = list_match(list, match_aws_principal, principal, where,
                           "Principal.AWS", pr);
            if (r < 0)
                return -1;
            m |= r;
        } else if (strcmp(type, "Service") == 0
                   || strcmp(type, "Federated") == 0
                   || strcmp(type, "CanonicalUser") == 0) {
            /* Never the sender of an SMTP message. */
            continue;
        } else {
            prob_add(pr, "%s: unknown principal type %.40s", where, type);
            return -1;
        }
    }
    return m;
}

/*
 * element - Principal/NotPrincipal, Action/NotAction or
 *   Resource/NotResource of a statement
 *
 * Returns: 1 matches, 0 not, -1 missing or malformed (reported).
 */
static int
element(json_t *st, const char *name, const char *notname,
        const struct sg_authz_req *req, const char *where, struct probs *pr)
{
    json_t *pos = json_object_get(st, name);
    json_t *neg = json_object_get(st, notname);
    json_t *v = pos != NULL ? pos : neg;
    int r;

    if (pos == NULL && neg == NULL) {
        prob_add(pr, "%s: needs %s or %s", where, name, notname);
        return -1;
    }
    if (pos != NULL && neg != NULL) {
        prob_add(pr, "%s: has both %s and %s", where, name, notname);
        return -1;
    }
    if (strcmp(name, "Principal") == 0)
        r = principal_match(v, req->principal, where, pr);
    else if (strcmp(name, "Action") == 0)
        r = list_match(v, match_action, req->action != NULL ? req->action
                       : SG_AUTHZ_SMTP_ACTION, where, name, pr);
    else
        r = list_match(v, match_resource, req->resource, where, name, pr);
    if (r < 0)
        return -1;
    return neg != NULL ? !r : r;
}

/*
 * statement - does one statement apply to the request?
 *
 * Returns: 1 applies, 0 not, -1 it has problems (reported; does not
 *   apply). *deny set from Effect.
 */
static int
statement(json_t *st, const struct sg_authz_req *req, long long now,
          const char *where, struct probs *pr, int *deny)
{
    json_t *eff = json_object_get(st, "Effect");
    const char *e;
    int bad = 0, ok = 1, r;

    *deny = 0;
    if (!json_is_object(st)) {
        prob_add(pr, "%s: not an object", where);
        return -1;
    }
    e = json_is_string(eff) ? json_string_value(eff) : "";
    if (strcmp(e, "Deny") == 0)
        *deny = 1;
    else if (strcmp(e, "Allow") != 0) {
        prob_add(pr, "%s: Effect must be \"Allow\" or \"Deny\"", where);
        bad = 1;
    }
    /* Check everything, so that every problem is reported. */
    r = element(st, "Principal", "NotPrincipal", req, where, pr);
    bad |= r < 0;
    ok &= r > 0;
    r = element(st, "Action", "NotAction", req, where, pr);
    bad |= r < 0;
    ok &= r > 0;
    r = element(st, "Resource", "NotResource", req, where, pr);
    bad |= r < 0;
    ok &= r > 0;
    r = conditions(json_object_get(st, "Condition"), req, now, where, pr);
    bad |= r < 0;
    ok &= r > 0;
    if (bad)
        return -1;
    return ok;
}

/* Where a verdict came from. */
struct decider {
    int found;
    const char *policy;
    int index;
    char sid[72];
};

/* note_decider - remember the first statement of an effect */
static void
note_decider(struct decider *d, const char *policy, int index, json_t *st)
{
    json_t *sid = json_object_get(st, "Sid");

    if (d->found)
        return;
    d->found = 1;
    d->policy = policy;
    d->index = index;
    snprintf(d->sid, sizeof(d->sid), "%s",
             json_is_string(sid) ? json_string_value(sid) : "");
}

/* load_policy - parse one policy text; NULL with a problem reported */
static json_t *
load_policy(const char *name, const char *doc, size_t len, struct probs *pr)
{
    json_error_t jerr;
    json_t *root, *stmts;

    if (doc == NULL || len > SG_AUTHZ_POLICY_MAX) {
        prob_add(pr, "policy %.64s: larger than %d bytes", name,
                 SG_AUTHZ_POLICY_MAX);
        return NULL;
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        prob_add(pr, "policy %.64s: not JSON: line %d: %.80s", name,
                 jerr.line, jerr.text);
        return NULL;
    }
    stmts = json_object_get(root, "Statement");
    if (json_is_object(stmts)) {
        /* One statement may stand alone. */
        json_t *a = json_array();

        if (a == NULL || json_array_append(a, stmts) != 0
            || json_object_set_new(root, "Statement", a) != 0) {
            json_decref(root);
            prob_add(pr, "policy %.64s: out of memory", name);
            return NULL;
        }
        stmts = a;
    }
    if (!json_is_object(root) || !json_is_array(stmts)
        || json_array_size(stmts) == 0
        || json_array_size(stmts) > SG_AUTHZ_STATEMENTS_MAX) {
        prob_add(pr, "policy %.64s: needs a Statement list of 1 to %d "
                 "statements", name, SG_AUTHZ_STATEMENTS_MAX);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* sg_authz_eval - evaluate an identity's policies for one request */
SG_STATUS
sg_authz_eval(const struct sg_authz_policy *pol, size_t npol,
              const struct sg_authz_req *req, struct sg_authz_result *out)
{
    struct probs pr;
    struct decider dallow, ddeny, *d;
    json_t *root, *stmts, *st;
    const char *name;
    char where[128];
    long long now;
    size_t i, j;
    int r, deny;
    json_t **roots;

    memset(out, 0, sizeof(*out));
    out->statement = -1;
    memset(&pr, 0, sizeof(pr));
    pr.buf = out->problems;
    pr.size = sizeof(out->problems);
    if (req == NULL || req->principal == NULL || req->resource == NULL)
        return SG_ERR_USAGE;
    now = req->now > 0 ? req->now : (long long)time(NULL);
    memset(&dallow, 0, sizeof(dallow));
    memset(&ddeny, 0, sizeof(ddeny));
    if (npol > SG_AUTHZ_POLICIES_MAX) {
        prob_add(&pr, "%zu policies: only the first %d are evaluated",
                 npol, SG_AUTHZ_POLICIES_MAX);
        npol = SG_AUTHZ_POLICIES_MAX;
    }
    roots = calloc(npol > 0 ? npol : 1, sizeof(*roots));
    if (roots == NULL)
        return SG_ERR_NOMEM;
    for (i = 0; i < npol; i++) {
        name = pol[i].name != NULL ? pol[i].name : "(unnamed)";
        if ((root = load_policy(name, pol[i].doc, pol[i].len, &pr)) == NULL)
            continue;
        roots[i] = root;
        stmts = json_object_get(root, "Statement");
        json_array_foreach(stmts, j, st) {
            json_t *sid = json_is_object(st) ? json_object_get(st, "Sid")
                : NULL;

            if (json_is_string(sid))
                snprintf(where, sizeof(where), "policy %.40s statement %zu "
                         "(%.40s)", name, j, json_string_value(sid));
            else
                snprintf(where, sizeof(where), "policy %.40s statement %zu",
                         name, j);
            r = statement(st, req, now, where, &pr, &deny);
            if (r <= 0)
                continue;
            note_decider(deny ? &ddeny : &dallow, name, (int)j, st);
        }
    }
    out->nproblems = pr.n;
    if (ddeny.found) {
        out->effect = SG_AUTHZ_DENY;
        d = &ddeny;
    } else if (dallow.found) {
        out->effect = SG_AUTHZ_ALLOW;
        d = &dallow;
    } else {
        d = NULL;
    }
    out->allowed = out->effect == SG_AUTHZ_ALLOW;
    if (d != NULL) {
        snprintf(out->policy, sizeof(out->policy), "%s", d->policy);
        out->statement = d->index;
        snprintf(out->sid, sizeof(out->sid), "%s", d->sid);
        snprintf(out->why, sizeof(out->why), "R8: %s by policy %.64s "
                 "statement %d%s%.64s%s", out->allowed ? "allowed"
                 : "explicitly denied", d->policy, d->index,
                 d->sid[0] ? " (Sid " : "", d->sid, d->sid[0] ? ")" : "");
    } else {
        snprintf(out->why, sizeof(out->why), "R8: no statement of %zu "
                 "polic%s allows %s for %.200s (implicit deny)", npol,
                 npol == 1 ? "y" : "ies", req->action != NULL
                 ? req->action : SG_AUTHZ_SMTP_ACTION, req->principal);
    }
    if (!out->allowed)
        sg_authz_denied_text_buf(req->principal, req->resource, out->text,
                                 sizeof(out->text));
    for (i = 0; i < npol; i++)
        json_decref(roots[i]);
    free(roots);
    return SG_OK;
}

/* sg_authz_eval_identity - the policies of a stored identity entry */
SG_STATUS
sg_authz_eval_identity(const char *json, size_t len,
                       const struct sg_authz_req *req,
                       struct sg_authz_result *out)
{
    struct sg_authz_policy pol[SG_AUTHZ_POLICIES_MAX];
    char *dumps[SG_AUTHZ_POLICIES_MAX];
    json_t *root, *pols, *v;
    const char *name;
    size_t n = 0, i;
    SG_STATUS st;

    root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        memset(out, 0, sizeof(*out));
        out->statement = -1;
        return SG_ERR_SYNTAX;
    }
    memset(dumps, 0, sizeof(dumps));
    memset(pol, 0, sizeof(pol));
    pols = json_object_get(root, "Policies");
    if (json_is_object(pols)) {
        json_object_foreach(pols, name, v) {
            if (n == SG_AUTHZ_POLICIES_MAX)
                break;
            pol[n].name = name;
            if (json_is_string(v)) {
                pol[n].doc = json_string_value(v);
                pol[n].len = json_string_length(v);
            } else {
                /* Tolerate a policy given as an object. */
                dumps[n] = json_dumps(v, JSON_COMPACT);
                pol[n].doc = dumps[n] != NULL ? dumps[n] : "";
                pol[n].len = strlen(pol[n].doc);
            }
            n++;
        }
    }
    st = sg_authz_eval(pol, n, req, out);
    for (i = 0; i < n; i++)
        free(dumps[i]);
    json_decref(root);
    return st;
}

/* sg_authz_check_policy - what the evaluator cannot use in a policy */
int
sg_authz_check_policy(const char *doc, size_t len, const char *arn,
                      char *buf, size_t size)
{
    struct probs pr;
    struct sg_authz_req req;
    json_t *root, *stmts, *st, *res;
    char where[128];
    const char *rcpt = "x@example.com";
    size_t j;
    int deny, sends = 0, r;

    memset(&pr, 0, sizeof(pr));
    pr.buf = buf;
    pr.size = size;
    if (buf != NULL && size > 0)
        buf[0] = '\0';
    if ((root = load_policy("", doc, len, &pr)) == NULL)
        return pr.n;
    /* A request that every element accepts except for the unknowns:
     * "*" principal matches, an action and a resource to compare. */
    memset(&req, 0, sizeof(req));
    req.principal = "arn:aws:iam::000000000000:user/lint";
    req.resource = arn != NULL ? arn : "";
    req.recipients = &rcpt;
    req.nrecipients = 1;
    stmts = json_object_get(root, "Statement");
    json_array_foreach(stmts, j, st) {
        snprintf(where, sizeof(where), "statement %zu", j);
        r = statement(st, &req, 0, where, &pr, &deny);
        if (r < 0)
            continue;
        if (!deny && element(st, "Action", "NotAction", &req, where, &pr)
            > 0)
            sends = 1;
        res = json_object_get(st, "Resource");
        if (arn != NULL && res != NULL
            && list_match(res, match_resource, arn, where, "Resource", &pr)
            == 0)
            prob_add(&pr, "%s: Resource does not name %.200s (the identity "
                     "the policy is attached to, in its region)", where,
                     arn);
    }
    if (!sends)
        prob_add(&pr, "no Allow statement covers ses:SendRawEmail (SMTP "
                 "needs ses:SendRawEmail or ses:Send*)");
    json_decref(root);
    return pr.n;
}

/* ---- The delegations file. ---- */

struct deleg_item {
    struct sg_deleg_entry e;
    char *who[SG_DELEG_WHO_MAX];
    size_t nwho;
};

struct deleg_principal {
    char *user;
    char *principal;
};

struct sg_deleg {
    struct deleg_item *items;
    size_t nitems;
    struct deleg_principal *prins;
    size_t nprins;
    char *text;                 /* the file, split in place */
};

/* deleg_fail - format an error and free the partial result */
static SG_DELEG *deleg_fail(SG_DELEG *dl, char *err, size_t errlen,
                            const char *fmt, ...) SG_PRINTFLIKE(4, 5);

static SG_DELEG *
deleg_fail(SG_DELEG *dl, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    sg_deleg_free(dl);
    return NULL;
}

/* next_word - the next white-space-separated word, NUL-terminated */
static char *
next_word(char **p)
{
    char *s = *p, *w;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return NULL;
    w = s;
    while (*s != '\0' && *s != ' ' && *s != '\t')
        s++;
    if (*s != '\0')
        *s++ = '\0';
    *p = s;
    return w;
}

/* parse_covers - "source,from,return-path" or "all"; -1 bad */
static int
parse_covers(char *s)
{
    char *tok, *save = NULL;
    int c = 0;

    for (tok = strtok_r(s, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (strcasecmp(tok, "source") == 0)
            c |= SG_DELEG_SOURCE;
        else if (strcasecmp(tok, "from") == 0)
            c |= SG_DELEG_FROM;
        else if (strcasecmp(tok, "return-path") == 0)
            c |= SG_DELEG_RPATH;
        else if (strcasecmp(tok, "all") == 0)
            c |= SG_DELEG_ALL;
        else
            return -1;
    }
    return c == 0 ? -1 : c;
}

/* valid_who - one WHO item */
static int
valid_who(const char *w)
{
    if (strcmp(w, "*") == 0)
        return 1;
    if (strncmp(w, "sasl:", 5) == 0)
        return w[5] != '\0';
    if (w[0] == '@')
        return w[1] != '\0' && strchr(w + 1, '@') == NULL;
    return strchr(w, '@') != NULL && w[0] != '@'
           && strchr(w, '@')[1] != '\0';
}

/* deleg_line - one non-comment line */
static int
deleg_line(SG_DELEG *dl, char *line, int lineno, const char *name,
           char *err, size_t errlen)
{
    char *p = line, *kind, *a, *b, *w, *tok, *save = NULL;
    struct deleg_item *it;
    struct deleg_principal *pp;

    kind = next_word(&p);
    if (strcmp(kind, "principal") == 0) {
        if ((a = next_word(&p)) == NULL || (b = next_word(&p)) == NULL
            || next_word(&p) != NULL) {
            snprintf(err, errlen, "%s:%d: expected \"principal SASLUSER "
                     "PRINCIPAL\"", name, lineno);
            return -1;
        }
        if (!is_account_id(b) && strncmp(b, "arn:", 4) != 0) {
            snprintf(err, errlen, "%s:%d: principal %.80s: expected an "
                     "account id or an ARN", name, lineno, b);
            return -1;
        }
        if (strncmp(a, "client:", 7) == 0
            && sg_authz_ip_in("0.0.0.0", a + 7) < 0) {
            snprintf(err, errlen, "%s:%d: %.80s: expected client:ADDRESS "
                     "or client:ADDRESS/BITS (IPv4 or IPv6)", name, lineno,
                     a);
            return -1;
        }
        pp = &dl->prins[dl->nprins++];
        pp->user = a;
        pp->principal = b;
        return 0;
    }
    if (strcmp(kind, "delegate") != 0) {
        snprintf(err, errlen, "%s:%d: unknown entry \"%.40s\" (expected "
                 "delegate or principal)", name, lineno, kind);
        return -1;
    }
    if (dl->nitems == SG_DELEG_MAX) {
        snprintf(err, errlen, "%s:%d: more than %d delegations", name,
                 lineno, SG_DELEG_MAX);
        return -1;
    }
    it = &dl->items[dl->nitems];
    memset(it, 0, sizeof(*it));
    it->e.line = lineno;
    it->e.covers = SG_DELEG_ALL;
    it->e.owner_production = -1;
    if ((a = next_word(&p)) == NULL || (b = next_word(&p)) == NULL) {
        snprintf(err, errlen, "%s:%d: expected \"delegate ARN WHO "
                 "[covers=...] [owner=...] [user=...]\"", name, lineno);
        return -1;
    }
    if (sg_authz_parse_arn(a, &it->e.id) != 0) {
        snprintf(err, errlen, "%s:%d: %.200s is not an SES identity ARN "
                 "(arn:aws:ses:REGION:ACCOUNT:identity/NAME)", name, lineno,
                 a);
        return -1;
    }
    it->e.arn = a;
    for (tok = strtok_r(b, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (!valid_who(tok)) {
            snprintf(err, errlen, "%s:%d: %.100s: expected sasl:USER, an "
                     "address, @domain or *", name, lineno, tok);
            return -1;
        }
        if (it->nwho == SG_DELEG_WHO_MAX) {
            snprintf(err, errlen, "%s:%d: more than %d users or senders",
                     name, lineno, SG_DELEG_WHO_MAX);
            return -1;
        }
        it->who[it->nwho++] = tok;
    }
    if (it->nwho == 0) {
        snprintf(err, errlen, "%s:%d: no users or senders", name, lineno);
        return -1;
    }
    while ((w = next_word(&p)) != NULL) {
        if (strncmp(w, "covers=", 7) == 0) {
            if ((it->e.covers = parse_covers(w + 7)) < 0) {
                snprintf(err, errlen, "%s:%d: covers= takes source, from, "
                         "return-path or all", name, lineno);
                return -1;
            }
        } else if (strcmp(w, "owner=production") == 0) {
            it->e.owner_production = 1;
        } else if (strcmp(w, "owner=sandbox") == 0) {
            it->e.owner_production = 0;
        } else if (strncmp(w, "user=", 5) == 0 && w[5] != '\0') {
            it->e.user = w + 5;
        } else {
            snprintf(err, errlen, "%s:%d: unknown option \"%.60s\"", name,
                     lineno, w);
            return -1;
        }
    }
    dl->nitems++;
    return 0;
}

/* sg_deleg_load_buf - parse a delegations file from memory */
SG_DELEG *
sg_deleg_load_buf(const char *name, const char *buf, size_t len, char *err,
                  size_t errlen)
{
    SG_DELEG *dl;
    char *line, *next, *p;
    size_t nlines = 1, i;
    int lineno = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > SG_DELEG_FILE_MAX)
        return deleg_fail(NULL, err, errlen, "%s: larger than %d bytes",
                          name, SG_DELEG_FILE_MAX);
    if ((dl = calloc(1, sizeof(*dl))) == NULL
        || (dl->text = malloc(len + 1)) == NULL)
        return deleg_fail(dl, err, errlen, "out of memory");
    memcpy(dl->text, buf, len);
    dl->text[len] = '\0';
    if (memchr(dl->text, '\0', len) != NULL)
        return deleg_fail(dl, err, errlen, "%s: contains a NUL byte", name);
    for (i = 0; i < len; i++)
        nlines += dl->text[i] == '\n';
    if ((dl->items = calloc(nlines < SG_DELEG_MAX ? nlines : SG_DELEG_MAX,
                            sizeof(*dl->items))) == NULL
        || (dl->prins = calloc(nlines, sizeof(*dl->prins))) == NULL)
        return deleg_fail(dl, err, errlen, "out of memory");
    for (line = dl->text; line != NULL; line = next) {
        lineno++;
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        if ((p = strchr(line, '#')) != NULL)
            *p = '\0';
        for (p = line; *p != '\0'; p++)
            if (*p == '\r')
                *p = ' ';
        p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            continue;
        if (deleg_line(dl, p, lineno, name, err, errlen) != 0) {
            sg_deleg_free(dl);
            return NULL;
        }
    }
    return dl;
}

/* sg_deleg_load - read a delegations file */
SG_DELEG *
sg_deleg_load(const char *path, char *err, size_t errlen)
{
    FILE *fp;
    char *buf;
    size_t n;
    SG_DELEG *dl;

    if ((fp = fopen(path, "r")) == NULL)
        return deleg_fail(NULL, err, errlen, "%s: %s", path,
                          strerror(errno));
    if ((buf = malloc(SG_DELEG_FILE_MAX + 1)) == NULL) {
        fclose(fp);
        return deleg_fail(NULL, err, errlen, "out of memory");
    }
    n = fread(buf, 1, SG_DELEG_FILE_MAX + 1, fp);
    if (ferror(fp)) {
        fclose(fp);
        free(buf);
        return deleg_fail(NULL, err, errlen, "%s: read error", path);
    }
    fclose(fp);
    dl = sg_deleg_load_buf(path, buf, n, err, errlen);
    free(buf);
    return dl;
}

/* sg_deleg_free - release */
SG_DELEG *
sg_deleg_free(SG_DELEG *dl)
{
    if (dl == NULL)
        return NULL;
    free(dl->items);
    free(dl->prins);
    free(dl->text);
    free(dl);
    return NULL;
}

/* sg_deleg_count - number of delegate entries */
size_t
sg_deleg_count(const SG_DELEG *dl)
{
    return dl != NULL ? dl->nitems : 0;
}

/* sg_deleg_get - entry i */
const struct sg_deleg_entry *
sg_deleg_get(const SG_DELEG *dl, size_t i)
{
    return dl != NULL && i < dl->nitems ? &dl->items[i].e : NULL;
}

/* domain_under - d equals parent or is a subdomain of it (any case) */
static int
domain_under(const char *d, const char *parent)
{
    size_t dl = strlen(d), pl = strlen(parent);

    if (dl == pl)
        return strcasecmp(d, parent) == 0;
    return dl > pl && d[dl - pl - 1] == '.'
           && strcasecmp(d + dl - pl, parent) == 0;
}

/* addr_equal - local part exact, domain any case */
static int
addr_equal(const char *a, const char *b)
{
    const char *at = strrchr(a, '@'), *bt = strrchr(b, '@');

    if (at == NULL || bt == NULL || at - a != bt - b
        || strncmp(a, b, (size_t)(at - a)) != 0)
        return 0;
    return strcasecmp(at + 1, bt + 1) == 0;
}

/* identity_covers - an identity name covers an address (R2 matching) */
static int
identity_covers(const char *ident, const struct sg_addr *a)
{
    char stripped[SG_ADDR_MAX + 2];

    if (strchr(ident, '@') != NULL)
        return addr_equal(ident, a->addr)
               || (sg_addr_strip_label_buf(a, stripped, sizeof(stripped))
                   != NULL && addr_equal(ident, stripped));
    return domain_under(a->domain, ident);
}

/* who_allows - a WHO list admits the SASL user or envelope sender */
static int
who_allows(const struct deleg_item *it, const char *sasl_user,
           const struct sg_addr *env)
{
    size_t i;
    const char *w;

    for (i = 0; i < it->nwho; i++) {
        w = it->who[i];
        if (strcmp(w, "*") == 0)
            return 1;
        if (strncmp(w, "sasl:", 5) == 0) {
            if (sasl_user != NULL && strcmp(w + 5, sasl_user) == 0)
                return 1;
        } else if (env != NULL && env->addr[0] != '\0') {
            if (w[0] == '@' ? domain_under(env->domain, w + 1)
                : addr_equal(w, env->addr))
                return 1;
        }
    }
    return 0;
}

/* sg_deleg_find - the entry that lets this sender use addr */
const struct sg_deleg_entry *
sg_deleg_find(const SG_DELEG *dl, const char *addr, int use,
              const char *sasl_user, const char *env_sender)
{
    struct sg_addr a, e;
    int is_null = 0;
    size_t i;

    if (dl == NULL || addr == NULL
        || sg_addr_parse_path(addr, &a, NULL) != SG_ADDR_OK)
        return NULL;
    if (env_sender == NULL
        || sg_addr_parse_path(env_sender, &e, &is_null) != SG_ADDR_OK
        || is_null)
        e.addr[0] = '\0';
    for (i = 0; i < dl->nitems; i++) {
        const struct deleg_item *it = &dl->items[i];

        if ((it->e.covers & use) == 0
            || !identity_covers(it->e.id.name, &a)
            || !who_allows(it, sasl_user, &e))
            continue;
        return &it->e;
    }
    return NULL;
}

/* sg_deleg_principal - the principal a SASL user maps to */
const char *
sg_deleg_principal(const SG_DELEG *dl, const char *sasl_user)
{
    size_t i;

    if (dl == NULL || sasl_user == NULL)
        return NULL;
    for (i = 0; i < dl->nprins; i++)
        if (strcmp(dl->prins[i].user, sasl_user) == 0)
            return dl->prins[i].principal;
    return NULL;
}

/* sg_deleg_principal_for - the principal of a SASL user or client */
const char *
sg_deleg_principal_for(const SG_DELEG *dl, const char *sasl_user,
                       const char *client_addr)
{
    const char *p;
    size_t i;

    if (dl == NULL)
        return NULL;
    if (sasl_user != NULL && sasl_user[0] != '\0'
        && (p = sg_deleg_principal(dl, sasl_user)) != NULL)
        return p;
    if (client_addr == NULL || client_addr[0] == '\0')
        return NULL;
    for (i = 0; i < dl->nprins; i++)
        if (strncmp(dl->prins[i].user, "client:", 7) == 0
            && sg_authz_ip_in(client_addr, dl->prins[i].user + 7) > 0)
            return dl->prins[i].principal;
    return NULL;
}

/* sg_deleg_nprincipals - number of principal lines */
size_t
sg_deleg_nprincipals(const SG_DELEG *dl)
{
    return dl != NULL ? dl->nprins : 0;
}
