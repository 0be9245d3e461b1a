/*
 * lint.c - the cross-region account doctor: findings over the state and
 *   the configuration, and the DNS records a domain needs
 *
 * Everything is read from the state (identities with their
 * GetEmailIdentity fields and NotificationAttributes, the region's
 * active_receipt_rule_set) and the configuration; DNS goes through the
 * caller's callback. Each list kept here is bounded (LINT_REGIONS,
 * LINT_DOMAINS); what does not fit is skipped and said once.
 */

/* System headers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "config.h"
#include "addr.h"
#include "authz.h"
#include "identity.h"
#include "region.h"
#include "smtpcred.h"
#include "lint.h"

#define LINT_REGIONS    64
#define LINT_DOMAINS    1024
#define LINT_LINE_MAX   4096

/* A MAIL FROM domain or a receiving domain seen in the state. */
struct seen {
    char name[256];
    char regions[LINT_REGIONS][SG_REGION_MAX + 1];
    int nregions;
};

struct lint {
    const SG_CONF *conf;
    SG_SNAP *snap;
    const struct sg_lint_opts *o;
    sg_lint_fn fn;
    void *arg;
    int counts[3];
    char regions[LINT_REGIONS][SG_REGION_MAX + 1];
    int instate[LINT_REGIONS];
    int sending[LINT_REGIONS];
    int receiving[LINT_REGIONS];    /* has an active receipt rule set */
    int nregions;
    struct seen *mailfrom;      /* LINT_DOMAINS */
    int nmailfrom;
    struct seen *domains;       /* domain identities, LINT_DOMAINS */
    int ndomains;
    const char *cur_region;     /* for the identity callback */
    SG_STATUS st;
};

/* sg_lint_level_name - "error", "warning", "info" */
const char *
sg_lint_level_name(enum sg_lint_level level)
{
    switch (level) {
    case SG_LINT_ERROR:
        return "error";
    case SG_LINT_WARNING:
        return "warning";
    case SG_LINT_INFO:
        break;
    }
    return "info";
}

/* finding - report one finding */
static void finding(struct lint *l, enum sg_lint_level level,
                    const char *rule, const char *region,
                    const char *identity, const char *object,
                    const char *fix, const char *fmt, ...)
    SG_PRINTFLIKE(8, 9);

static void
finding(struct lint *l, enum sg_lint_level level, const char *rule,
        const char *region, const char *identity, const char *object,
        const char *fix, const char *fmt, ...)
{
    struct sg_lint_finding f;
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    f.level = level;
    f.rule = rule;
    f.region = region != NULL ? region : "";
    f.identity = identity != NULL ? identity : "";
    f.object = object != NULL ? object : "";
    f.text = text;
    f.fix = fix != NULL ? fix : "";
    l->counts[level]++;
    if (l->fn != NULL)
        l->fn(&f, l->arg);
}

/* region_index - index of a region in the list, adding it; -1 full */
static int
region_index(struct lint *l, const char *name)
{
    const struct sg_region *r = sg_region_lookup(name);
    int i;

    if (r == NULL)
        return -1;
    for (i = 0; i < l->nregions; i++)
        if (strcmp(l->regions[i], r->name) == 0)
            return i;
    if (l->nregions == LINT_REGIONS)
        return -1;
    snprintf(l->regions[l->nregions], sizeof(l->regions[0]), "%s", r->name);
    return l->nregions++;
}

/* dns - ask the caller's resolver; -1 when there is none */
static int
dns(struct lint *l, const char *name, enum sg_lint_rr type,
    char (*out)[256], size_t max)
{
    if (l->o == NULL || l->o->dns == NULL)
        return -1;
    return l->o->dns(name, type, out, max, l->o->dns_arg);
}

/* seen_add - remember a domain for a region; returns the entry */
static struct seen *
seen_add(struct seen *list, int *n, const char *name, const char *region)
{
    struct seen *s = NULL;
    int i;

    for (i = 0; i < *n; i++)
        if (strcasecmp(list[i].name, name) == 0)
            s = &list[i];
    if (s == NULL) {
        if (*n == LINT_DOMAINS || strlen(name) >= sizeof(s->name))
            return NULL;
        s = &list[(*n)++];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
    }
    for (i = 0; i < s->nregions; i++)
        if (strcmp(s->regions[i], region) == 0)
            return s;
    if (s->nregions < LINT_REGIONS)
        snprintf(s->regions[s->nregions++], sizeof(s->regions[0]), "%s",
                 region);
    return s;
}

/* jstr - a string member or NULL */
static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* arn_region - the region field of an ARN into buf; "" if none */
static const char *
arn_region(const char *arn, char *buf, size_t size)
{
    const char *p = arn;
    size_t n;
    int i;

    buf[0] = '\0';
    for (i = 0; i < 3 && p != NULL; i++)
        if ((p = strchr(p, ':')) != NULL)
            p++;
    if (p == NULL || strncmp(arn, "arn:", 4) != 0)
        return buf;
    n = strcspn(p, ":");
    if (n < size) {
        memcpy(buf, p, n);
        buf[n] = '\0';
    }
    return buf;
}

/* arn_service - the service field of an ARN ("sns") into buf */
static const char *
arn_service(const char *arn, char *buf, size_t size)
{
    const char *p = strchr(arn, ':');
    size_t n;

    buf[0] = '\0';
    if (p == NULL || (p = strchr(p + 1, ':')) == NULL)
        return buf;
    p++;
    n = strcspn(p, ":");
    if (n < size) {
        memcpy(buf, p, n);
        buf[n] = '\0';
    }
    return buf;
}

/* is_subdomain - sub is a proper subdomain of dom (any case) */
static int
is_subdomain(const char *sub, const char *dom)
{
    size_t s = strlen(sub), d = strlen(dom);

    return s > d + 1 && sub[s - d - 1] == '.'
           && strcasecmp(sub + s - d, dom) == 0;
}

/* host_eq - two host names equal ignoring case and a trailing dot */
static int
host_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la > 0 && a[la - 1] == '.')
        la--;
    if (lb > 0 && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* mx_host - the host of an MX answer "PREF HOST" */
static const char *
mx_host(const char *answer)
{
    const char *sp = strchr(answer, ' ');

    return sp != NULL ? sp + 1 : answer;
}

/* check_dkim - R6: DKIM status, signing, CNAMEs */
static void
check_dkim(struct lint *l, const char *region, const char *name,
           json_t *e, int sending)
{
    json_t *dk = json_object_get(e, "DkimAttributes"), *toks, *t;
    const char *status, *zone;
    char rec[600], want[300], fix[700];
    char ans[4][256];
    size_t i;
    int n, missing = 0;

    if (!json_is_object(dk))
        return;
    status = jstr(dk, "Status");
    zone = jstr(dk, "SigningHostedZone");
    if (zone == NULL)
        zone = "dkim.amazonses.com";
    toks = json_object_get(dk, "Tokens");
    if (status != NULL && strcmp(status, "SUCCESS") != 0) {
        snprintf(fix, sizeof(fix), "publish the three CNAMEs of this "
                 "region (sesgatectl dns %.200s) and wait for SES to find "
                 "them", name);
        finding(l, sending ? SG_LINT_ERROR : SG_LINT_WARNING, "R6", region,
                name, "", fix, "DKIM status is %s in %s: mail is not "
                "DKIM-signed there", status, region);
    }
    if (json_is_false(json_object_get(dk, "SigningEnabled")))
        finding(l, sending ? SG_LINT_ERROR : SG_LINT_WARNING, "R6", region,
                name, "", "enable DKIM signing for the identity in this "
                "region (PutEmailIdentityDkimAttributes SigningEnabled "
                "true)", "DKIM signing is disabled in %s", region);
    if (!json_is_array(toks) || strchr(name, '@') != NULL)
        return;
    json_array_foreach(toks, i, t) {
        if (!json_is_string(t) || i >= 8)
            continue;
        snprintf(rec, sizeof(rec), "%s._domainkey.%s", json_string_value(t),
                 name);
        snprintf(want, sizeof(want), "%s.%s", json_string_value(t), zone);
        n = dns(l, rec, SG_LINT_CNAME, ans, 4);
        if (n < 0)
            return;
        if (n == 0 || !host_eq(ans[0], want)) {
            char obj[1000];

            snprintf(obj, sizeof(obj), "%s. CNAME %s.", rec, want);
            finding(l, SG_LINT_WARNING, "R6", region, name, obj,
                    "publish this record", "DKIM CNAME of %s is %s%s", region,
                    n == 0 ? "missing" : "wrong: ", n == 0 ? "" : ans[0]);
            missing++;
        }
    }
    (void)missing;
}

/* check_mailfrom - R6: custom MAIL FROM domain of an identity */
static void
check_mailfrom(struct lint *l, const char *region, const char *name,
               json_t *e)
{
    json_t *mf = json_object_get(e, "MailFromAttributes");
    const char *dom, *status, *beh, *idom;

    if (!json_is_object(mf))
        mf = json_object_get(e, "MailFromDomainAttributes");
    if (!json_is_object(mf) || (dom = jstr(mf, "MailFromDomain")) == NULL
        || *dom == '\0')
        return;
    status = jstr(mf, "MailFromDomainStatus");
    beh = jstr(mf, "BehaviorOnMxFailure");
    if (beh == NULL)
        beh = jstr(mf, "BehaviorOnMXFailure");
    idom = strchr(name, '@') != NULL ? strchr(name, '@') + 1 : name;
    if (!is_subdomain(dom, idom))
        finding(l, SG_LINT_ERROR, "R6", region, name, dom, "choose a "
                "subdomain of the identity as MAIL FROM domain",
                "MAIL FROM domain %s is not a subdomain of %s", dom, idom);
    if (status != NULL && strcasecmp(status, "SUCCESS") != 0) {
        int rej = beh != NULL && (strcmp(beh, "REJECT_MESSAGE") == 0
                                  || strcmp(beh, "RejectMessage") == 0);

        finding(l, rej ? SG_LINT_ERROR : SG_LINT_WARNING, "R6", region, name,
                dom, "publish one MX \"10 feedback-smtp.REGION.amazonses."
                "com\" and the SPF record (sesgatectl dns)",
                rej ? "MAIL FROM domain %s is %s with BehaviorOnMxFailure "
                "REJECT_MESSAGE: SES refuses this identity's mail (sesgate "
                "refuses it too)" : "MAIL FROM domain %s is %s: SES falls "
                "back to amazonses.com", dom, status);
    }
    (void)seen_add(l->mailfrom, &l->nmailfrom, dom, region);
}

/* check_feedback - R7: SNS topics and forwarding */
static void
check_feedback(struct lint *l, const char *region, const char *name,
               json_t *e)
{
    static const char *const topics[] = { "BounceTopic", "ComplaintTopic",
                                          "DeliveryTopic" };
    json_t *na = json_object_get(e, "NotificationAttributes");
    const char *arn;
    char r[SG_REGION_MAX + 8];
    size_t i;

    if (!json_is_object(na))
        return;
    for (i = 0; i < 3; i++) {
        if ((arn = jstr(na, topics[i])) == NULL || *arn == '\0')
            continue;
        arn_region(arn, r, sizeof(r));
        if (strcmp(r, region) != 0)
            finding(l, SG_LINT_ERROR, "R7", region, name, arn, "use an SNS "
                    "topic of the identity's region", "%s is in %s, not in "
                    "%s: SES sends feedback only to topics of the identity's "
                    "region", topics[i], r[0] ? r : "no region", region);
    }
    if (json_is_false(json_object_get(na, "ForwardingEnabled"))
        && (jstr(na, "BounceTopic") == NULL
            || jstr(na, "ComplaintTopic") == NULL))
        finding(l, SG_LINT_ERROR, "R7", region, name, "", "set both a "
                "bounce and a complaint topic, or enable forwarding",
                "feedback forwarding is disabled without both a bounce and "
                "a complaint topic: bounces or complaints are lost");
}

/* policy_arn - the identity's ARN, the account taken from a policy */
static void
policy_arn(const char *doc, const char *region, const char *name,
           char *buf, size_t size)
{
    const char *p = strstr(doc, "arn:aws:ses:");
    char acct[16];
    size_t i;

    buf[0] = '\0';
    while (p != NULL) {
        const char *a = strchr(p + 12, ':');

        if (a != NULL) {
            for (i = 0; i < 12 && a[1 + i] >= '0' && a[1 + i] <= '9'; i++)
                acct[i] = a[1 + i];
            if (i == 12 && a[13] == ':') {
                acct[12] = '\0';
                snprintf(buf, size, "arn:aws:ses:%s:%s:identity/%s", region,
                         acct, name);
                return;
            }
        }
        p = strstr(p + 12, "arn:aws:ses:");
    }
}

/* check_policies - R8: what the evaluator cannot use */
static void
check_policies(struct lint *l, const char *region, const char *name,
               json_t *e)
{
    json_t *pols = json_object_get(e, "Policies"), *v;
    const char *pname, *doc;
    char arn[SG_AUTHZ_ARN_MAX], probs[1024], obj[200];
    char *dump;

    if (!json_is_object(pols))
        return;
    json_object_foreach(pols, pname, v) {
        dump = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT);
        doc = json_is_string(v) ? json_string_value(v) : dump;
        if (doc == NULL)
            continue;
        policy_arn(doc, region, name, arn, sizeof(arn));
        if (sg_authz_check_policy(doc, strlen(doc), arn[0] ? arn : NULL,
                                  probs, sizeof(probs)) > 0) {
            snprintf(obj, sizeof(obj), "policy %.100s", pname);
            finding(l, SG_LINT_WARNING, "R8", region, name, obj, "fix the "
                    "policy: a statement this gate cannot evaluate neither "
                    "allows nor denies here", "%s", probs);
        }
        free(dump);
    }
}

/* ident_cb - every check of one identity */
static int
ident_cb(const char *region, const char *name, const struct sg_identity *id,
         const char *json, size_t jsonlen, void *arg)
{
    struct lint *l = arg;
    json_t *e;
    int ri = region_index(l, region);

    (void)id;
    if ((e = json_loadb(json, jsonlen, 0, NULL)) == NULL)
        return 0;
    check_dkim(l, region, name, e, ri >= 0 && l->sending[ri]);
    check_mailfrom(l, region, name, e);
    check_feedback(l, region, name, e);
    check_policies(l, region, name, e);
    if (strchr(name, '@') == NULL && id->verified)
        (void)seen_add(l->domains, &l->ndomains, name, region);
    json_decref(e);
    return 0;
}

/* walk_arns - every "arn:" string below v (receipt rule actions) */
static void
walk_arns(struct lint *l, const char *region, const char *rule, json_t *v,
          int depth)
{
    const char *k;
    json_t *c;
    size_t i;
    char r[SG_REGION_MAX + 8], svc[32], obj[64];
    const char *s;

    if (depth > 8)
        return;
    if (json_is_string(v)) {
        s = json_string_value(v);
        if (strncmp(s, "arn:", 4) != 0)
            return;
        arn_service(s, svc, sizeof(svc));
        arn_region(s, r, sizeof(r));
        if ((strcmp(svc, "sns") == 0 || strcmp(svc, "lambda") == 0
             || strcmp(svc, "kms") == 0) && strcmp(r, region) != 0) {
            snprintf(obj, sizeof(obj), "receipt rule %.40s", rule);
            finding(l, SG_LINT_ERROR, "R10", region, obj, s, "use a "
                    "resource of the rule set's region (S3 buckets are the "
                    "exception)", "%s resource in %s used by a receipt rule "
                    "in %s", svc, r[0] ? r : "no region", region);
        }
        return;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, c)
            walk_arns(l, region, rule, c, depth + 1);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, c)
            walk_arns(l, region, rule, c, depth + 1);
    }
}

/* check_region_json - R10 receipt rules of a region */
static void
check_region_json(struct lint *l, int ri)
{
    const char *region = l->regions[ri];
    char *text = NULL;
    size_t len;
    json_t *root, *rs, *rules, *r;
    size_t i;
    const char *rname;

    if (sg_snap_region_json(l->snap, region, &text, &len) != SG_OK)
        return;
    root = json_loadb(text, len, 0, NULL);
    free(text);
    rs = json_object_get(root, "active_receipt_rule_set");
    if (json_is_object(rs)) {
        l->receiving[ri] = 1;
        rules = json_object_get(rs, "Rules");
        json_array_foreach(rules, i, r) {
            rname = jstr(r, "Name");
            walk_arns(l, region, rname != NULL ? rname : "?",
                      json_object_get(r, "Actions"), 0);
        }
    }
    json_decref(root);
}

/* covered_in - is a map key's address covered in a region? */
static int
covered_in(struct lint *l, const char *region, const struct sg_addr *a)
{
    struct sg_coverage cov;

    if (sg_identity_covers(l->snap, region, a, &cov) != SG_OK) {
        l->st = SG_ERR_STATE;
        return 0;
    }
    return cov.covered;
}

/* check_sender - R2: one sender_region_map key (or default_region) */
static void
check_sender(struct lint *l, const char *key, const char *region,
             const char *object)
{
    struct sg_addr a;
    char probe[SG_ADDR_MAX + 40], other[512];
    size_t olen = 0;
    int ri = region_index(l, region), i;

    if (ri >= 0 && !l->instate[ri]) {
        finding(l, SG_LINT_ERROR, "R1", region, key, object, "import or "
                "sync the region (regions = ...)", "%s is mapped to %s, which "
                "is not in the state: its mail is deferred", key, region);
        return;
    }
    if (key[0] == '@')
        snprintf(probe, sizeof(probe), "sesgate-lint@%s", key + 1);
    else
        snprintf(probe, sizeof(probe), "%s", key);
    if (sg_addr_parse_path(probe, &a, NULL) != SG_ADDR_OK)
        return;
    if (covered_in(l, region, &a))
        return;
    other[0] = '\0';
    for (i = 0; i < l->nregions; i++) {
        if (!l->instate[i] || strcmp(l->regions[i], region) == 0
            || !covered_in(l, l->regions[i], &a))
            continue;
        olen += (size_t)snprintf(other + olen, sizeof(other) - olen, "%s%s",
                                 olen ? ", " : "", l->regions[i]);
        if (olen >= sizeof(other))
            break;
    }
    if (other[0] != '\0')
        finding(l, SG_LINT_ERROR, "R2", region, key, object, "verify the "
                "identity in the mapped region, or map the sender to a "
                "region where it is verified", "%s is mapped to %s but "
                "verified only in %s", key, region, other);
    else
        finding(l, SG_LINT_ERROR, "R2", region, key, object, "verify the "
                "identity (domain or address) in the mapped region",
                "%s is mapped to %s but no verified identity covers it "
                "there (nor in any other region)", key, region);
}

/* check_map - R2 over sender_region_map, reading its lines */
static void
check_map(struct lint *l)
{
    const char *path = l->conf->sender_region_map;
    const struct sg_region *r;
    char line[LINT_LINE_MAX], obj[600], *k, *v, *save = NULL;
    FILE *fp;
    int lineno = 0, ri;

    if (path == NULL || *path == '\0' || (fp = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        if ((k = strchr(line, '#')) != NULL)
            *k = '\0';
        if ((k = strtok_r(line, " \t\r\n", &save)) == NULL
            || (v = strtok_r(NULL, " \t\r\n", &save)) == NULL
            || (r = sg_region_from_value(v)) == NULL)
            continue;
        if ((ri = region_index(l, r->name)) >= 0)
            l->sending[ri] = 1;
        snprintf(obj, sizeof(obj), "%.500s:%d", path, lineno);
        check_sender(l, k, r->name, obj);
    }
    fclose(fp);
}

/* default_set - the milter's default set for a region, or NULL */
static const char *
default_set(const char *spec, const char *region, char *buf, size_t size)
{
    char copy[1024], *tok, *save = NULL, *colon;
    const char *star = NULL;

    if (spec == NULL || *spec == '\0'
        || strlen(spec) >= sizeof(copy))
        return NULL;
    snprintf(copy, sizeof(copy), "%s", spec);
    for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
         tok = strtok_r(NULL, ", \t", &save)) {
        if ((colon = strchr(tok, ':')) == NULL) {
            snprintf(buf, size, "%s", tok);
            return buf;
        }
        *colon = '\0';
        if (strcmp(tok, "*") == 0 && star == NULL) {
            snprintf(buf, size, "%s", colon + 1);
            star = buf;
        } else if (strcasecmp(tok, region) == 0) {
            snprintf(buf, size, "%s", colon + 1);
            return buf;
        }
    }
    return star;
}

/* check_sasl_passwd - R9: legacy passwords */
static void
check_sasl_passwd(struct lint *l)
{
    const char *path = l->conf->sasl_passwd;
    char line[LINT_LINE_MAX], obj[600], *host, *cred, *pw, *save = NULL;
    FILE *fp;
    int lineno = 0;

    if (path == NULL || *path == '\0')
        return;
    if ((fp = fopen(path, "r")) == NULL) {
        finding(l, SG_LINT_WARNING, "R9", "", "", path, "fix sasl_passwd",
                "cannot read %s: %s", path, strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        if (line[0] == '#')
            continue;
        if ((host = strtok_r(line, " \t\r\n", &save)) == NULL
            || (cred = strtok_r(NULL, " \t\r\n", &save)) == NULL
            || (pw = strchr(cred, ':')) == NULL)
            continue;
        if (sg_smtpcred_kind(pw + 1) == SG_SMTPCRED_LEGACY) {
            const struct sg_region *r = sg_region_from_relay(host);

            snprintf(obj, sizeof(obj), "%.500s:%d", path, lineno);
            finding(l, SG_LINT_WARNING, "R9", r != NULL ? r->name : "",
                    "", obj, "derive a per-region password from the IAM "
                    "secret (sesgatectl smtp-password) and replace it",
                    "legacy (pre-2019) SMTP password for %s: legacy "
                    "credentials should be replaced", host);
        }
    }
    fclose(fp);
}

/* check_regions - R1 SMTP endpoints and R11 default configuration set */
static void
check_regions(struct lint *l)
{
    char set[128], pat[SG_REGION_MAX + 4];
    const struct sg_region *r;
    int i;
    SG_STATUS s;

    for (i = 0; i < l->nregions; i++) {
        if (!l->sending[i])
            continue;
        r = sg_region_lookup(l->regions[i]);
        snprintf(pat, sizeof(pat), "%s=", l->regions[i]);
        if (r != NULL && !r->smtp_known
            && (l->conf->smtp_hosts == NULL
                || strstr(l->conf->smtp_hosts, pat) == NULL))
            finding(l, SG_LINT_WARNING, "R1", l->regions[i], "",
                    r->smtp_host, "check that the region has an SMTP "
                    "endpoint, or name one in smtp_hosts", "%s is used for "
                    "sending but AWS does not document an SMTP endpoint "
                    "there", l->regions[i]);
        if (!l->instate[i]
            || default_set(l->conf->milter_default_config_set,
                           l->regions[i], set, sizeof(set)) == NULL)
            continue;
        s = sg_snap_config_set(l->snap, l->regions[i], set);
        if (s == SG_ERR_NOTFOUND)
            finding(l, SG_LINT_ERROR, "R11", l->regions[i], "", set,
                    "create the configuration set in the region or change "
                    "milter_default_config_set", "milter_default_config_set "
                    "names %s, which does not exist in %s: SES refuses the "
                    "mail", set, l->regions[i]);
    }
}

/* check_dns_domains - MAIL FROM MX/SPF, shared MAIL FROM, inbound MX */
static void
check_dns_domains(struct lint *l)
{
    char ans[8][256], obj[600], host[300], list[400];
    const char *h;
    int i, j, k, n, ok, named;
    size_t len;

    for (i = 0; i < l->nmailfrom; i++) {
        struct seen *s = &l->mailfrom[i];

        n = dns(l, s->name, SG_LINT_MX, ans, 8);
        named = -1;
        if (n >= 0) {
            ok = n == 1;
            if (n >= 1) {
                h = mx_host(ans[0]);
                for (j = 0; j < s->nregions; j++) {
                    snprintf(host, sizeof(host), "feedback-smtp.%s."
                             "amazonses.com", s->regions[j]);
                    if (host_eq(h, host))
                        named = j;
                }
            }
            if (!ok || named < 0) {
                snprintf(host, sizeof(host), "feedback-smtp.%s.amazonses.com",
                         s->regions[0]);
                snprintf(obj, sizeof(obj), "%s. MX 10 %s.", s->name, host);
                finding(l, SG_LINT_ERROR, "R6", s->regions[0], "", obj,
                        "publish exactly this one MX record", "MAIL FROM "
                        "domain %s has %d MX record(s)%s%s", s->name, n,
                        n > 0 ? ", first " : "", n > 0 ? ans[0] : "");
            }
            n = dns(l, s->name, SG_LINT_TXT, ans, 8);
            for (ok = 0, j = 0; j < n; j++)
                if (strstr(ans[j], "include:amazonses.com") != NULL)
                    ok = 1;
            if (n >= 0 && !ok) {
                snprintf(obj, sizeof(obj), "%s. TXT \"v=spf1 "
                         "include:amazonses.com ~all\"", s->name);
                finding(l, SG_LINT_WARNING, "R6", s->regions[0], "", obj,
                        "publish this SPF record", "MAIL FROM domain %s has "
                        "no SPF record including amazonses.com", s->name);
            }
        }
        if (s->nregions > 1) {
            list[0] = '\0';
            for (len = 0, j = 0; j < s->nregions && len < sizeof(list); j++)
                len += (size_t)snprintf(list + len, sizeof(list) - len,
                                        "%s%s", j ? ", " : "",
                                        s->regions[j]);
            if (named >= 0)
                finding(l, SG_LINT_INFO, "R6", "", "", s->name, "", "MAIL "
                        "FROM domain %s serves %s (fine): bounces go first "
                        "to %s, named in its MX, and are redirected to the "
                        "sending region", s->name, list, s->regions[named]);
            else
                finding(l, SG_LINT_INFO, "R6", "", "", s->name, "", "MAIL "
                        "FROM domain %s serves %s (fine): bounces go first "
                        "to the region its MX names, then to the sending "
                        "region", s->name, list);
        }
    }
    /* Receiving: an MX at inbound-smtp.R needs an active rule set in R. */
    for (i = 0; i < l->ndomains; i++) {
        n = dns(l, l->domains[i].name, SG_LINT_MX, ans, 8);
        for (j = 0; j < n; j++) {
            char reg[SG_REGION_MAX + 1];

            h = mx_host(ans[j]);
            if (strncasecmp(h, "inbound-smtp.", 13) != 0)
                continue;
            len = strcspn(h + 13, ".");
            if (len == 0 || len > SG_REGION_MAX)
                continue;
            memcpy(reg, h + 13, len);
            reg[len] = '\0';
            k = region_index(l, reg);
            if (k >= 0 && l->instate[k] && l->receiving[k])
                continue;
            snprintf(obj, sizeof(obj), "%s. MX %s", l->domains[i].name,
                     ans[j]);
            finding(l, SG_LINT_ERROR, "R10", reg, l->domains[i].name, obj,
                    "activate a receipt rule set in that region, or point "
                    "the MX at a region that receives", "%s's MX points at "
                    "%s but %s has no active receipt rule set%s: SES "
                    "receives nothing there", l->domains[i].name, h, reg,
                    k >= 0 && l->instate[k] ? "" : " (region not in the "
                    "state)");
        }
    }
}

/* check_delegations - R8: the delegations file */
static void
check_delegations(struct lint *l)
{
    const char *path = l->o != NULL ? l->o->delegations : NULL;
    const struct sg_deleg_entry *e;
    char err[512], obj[600];
    SG_DELEG *dl;
    size_t i;
    int ri;

    if (path == NULL || *path == '\0')
        return;
    if ((dl = sg_deleg_load(path, err, sizeof(err))) == NULL) {
        finding(l, SG_LINT_ERROR, "R8", "", "", path, "fix the file",
                "%s", err);
        return;
    }
    for (i = 0; i < sg_deleg_count(dl); i++) {
        e = sg_deleg_get(dl, i);
        ri = region_index(l, e->id.region);
        if (ri >= 0 && l->instate[ri])
            continue;
        snprintf(obj, sizeof(obj), "%.500s:%d", path, e->line);
        finding(l, SG_LINT_WARNING, "R8", e->id.region, e->id.name, obj,
                "import or sync the region: a delegate sends only from the "
                "identity's region", "delegated identity %s is in %s, which "
                "is not in the state", e->arn, e->id.region);
    }
    /* Principal lines map senders for identity-owner policies, which
     * are evaluated only with the owner's account id. */
    if (sg_deleg_nprincipals(dl) > 0 && l->conf != NULL
        && l->conf->aws_account_id[0] == '\0')
        finding(l, SG_LINT_WARNING, "R8", "", "", path, "set "
                "aws_account_id to the 12-digit id of the account that owns "
                "the identities", "%zu principal line(s), but aws_account_id "
                "is not set: identity policies are not evaluated in live "
                "decisions", sg_deleg_nprincipals(dl));
    sg_deleg_free(dl);
}

/* sg_lint_run - run every check */
SG_STATUS
sg_lint_run(const SG_CONF *conf, SG_SNAP *snap,
            const struct sg_lint_opts *opts, sg_lint_fn fn, void *arg,
            int counts[3])
{
    struct lint *l;
    char (*names)[SG_REGION_MAX + 1];
    char copy[1024], *tok, *save = NULL;
    size_t n, i;
    int ri;
    SG_STATUS st;

    if ((l = calloc(1, sizeof(*l))) == NULL
        || (l->mailfrom = calloc(LINT_DOMAINS, sizeof(struct seen))) == NULL
        || (l->domains = calloc(LINT_DOMAINS, sizeof(struct seen))) == NULL
        || (names = calloc(LINT_REGIONS, sizeof(*names))) == NULL) {
        if (l != NULL) {
            free(l->mailfrom);
            free(l->domains);
        }
        free(l);
        return SG_ERR_NOMEM;
    }
    l->conf = conf;
    l->snap = snap;
    l->o = opts;
    l->fn = fn;
    l->arg = arg;
    n = sg_snap_regions(snap, names, LINT_REGIONS);
    for (i = 0; i < n && i < LINT_REGIONS; i++)
        if ((ri = region_index(l, names[i])) >= 0)
            l->instate[ri] = 1;
    if (conf->default_region != NULL && conf->default_region[0] != '\0'
        && (ri = region_index(l, conf->default_region)) >= 0)
        l->sending[ri] = 1;
    snprintf(copy, sizeof(copy), "%s", conf->regions != NULL ? conf->regions
             : "");
    for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
         tok = strtok_r(NULL, ", \t", &save))
        (void)region_index(l, tok);

    check_map(l);
    if (conf->default_region != NULL && conf->default_region[0] != '\0'
        && (ri = region_index(l, conf->default_region)) >= 0
        && !l->instate[ri])
        finding(l, SG_LINT_ERROR, "R1", l->regions[ri], "", "default_region",
                "import or sync the region", "default_region %s is not in "
                "the state: mail for it is deferred", l->regions[ri]);
    for (ri = 0; ri < l->nregions; ri++) {
        if (!l->instate[ri])
            continue;
        l->cur_region = l->regions[ri];
        if ((st = sg_snap_identities_each(snap, l->regions[ri], ident_cb, l))
            != SG_OK)
            l->st = st;
        check_region_json(l, ri);
    }
    check_dns_domains(l);
    check_regions(l);
    check_sasl_passwd(l);
    check_delegations(l);
    if (counts != NULL)
        memcpy(counts, l->counts, sizeof(l->counts));
    st = l->st;
    free(names);
    free(l->mailfrom);
    free(l->domains);
    free(l);
    return st;
}

/* ---- sesgatectl dns DOMAIN ---- */

struct dnsout {
    sg_lint_line_fn fn;
    void *arg;
    int nrecords;
};

/* out_line - one line of the zone output */
static void out_line(struct dnsout *d, int record, const char *fmt, ...)
    SG_PRINTFLIKE(3, 4);

static void
out_line(struct dnsout *d, int record, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    d->nrecords += record;
    d->fn(line, d->arg);
}

/* dns_region - the records of one region */
static SG_STATUS
dns_region(SG_SNAP *snap, const char *region, const char *domain,
           struct dnsout *d, int *found)
{
    char *text = NULL;
    size_t len, i, j;
    json_t *e = NULL, *dk, *toks, *t, *mf, *root, *rs, *rules, *r, *rc;
    const char *zone, *mdom, *s;
    SG_STATUS st;
    int receives = 0;

    st = sg_snap_identity_json(snap, region, domain, &text, &len);
    if (st == SG_ERR_NOTFOUND) {
        out_line(d, 0, "; %s: no identity %s (verify it there to send "
                 "from it)", region, domain);
    } else if (st != SG_OK) {
        return st;
    } else {
        *found = 1;
        e = json_loadb(text, len, 0, NULL);
        free(text);
        text = NULL;
        out_line(d, 0, "; %s: identity %s", region, domain);
        dk = json_object_get(e, "DkimAttributes");
        toks = json_object_get(dk, "Tokens");
        zone = jstr(dk, "SigningHostedZone");
        if (zone == NULL)
            zone = "dkim.amazonses.com";
        if (json_is_array(toks) && json_array_size(toks) > 0) {
            json_array_foreach(toks, i, t) {
                if (json_is_string(t))
                    out_line(d, 1, "%s._domainkey.%s.  IN  CNAME  %s.%s.",
                             json_string_value(t), domain,
                             json_string_value(t), zone);
            }
        } else {
            out_line(d, 0, "; %s: no DKIM tokens in the state (sync "
                     "GetEmailIdentity, or set up Easy DKIM there)", region);
        }
        mf = json_object_get(e, "MailFromAttributes");
        if (!json_is_object(mf))
            mf = json_object_get(e, "MailFromDomainAttributes");
        mdom = jstr(mf, "MailFromDomain");
        if (mdom != NULL && *mdom != '\0') {
            out_line(d, 1, "%s.  IN  MX  10 feedback-smtp.%s.amazonses.com.",
                     mdom, region);
            out_line(d, 1, "%s.  IN  TXT  \"v=spf1 include:amazonses.com "
                     "~all\"", mdom);
        }
        json_decref(e);
    }
    /* Inbound MX where the active rule set receives the domain. */
    if (sg_snap_region_json(snap, region, &text, &len) == SG_OK) {
        root = json_loadb(text, len, 0, NULL);
        free(text);
        rs = json_object_get(root, "active_receipt_rule_set");
        rules = json_object_get(rs, "Rules");
        json_array_foreach(rules, i, r) {
            if (json_is_false(json_object_get(r, "Enabled")))
                continue;
            rc = json_object_get(r, "Recipients");
            if (!json_is_array(rc) || json_array_size(rc) == 0)
                receives = 1;
            json_array_foreach(rc, j, t) {
                s = json_is_string(t) ? json_string_value(t) : "";
                if (strcasecmp(s, domain) == 0
                    || (strchr(s, '@') != NULL
                        && strcasecmp(strchr(s, '@') + 1, domain) == 0))
                    receives = 1;
            }
        }
        json_decref(root);
        if (receives)
            out_line(d, 1, "%s.  IN  MX  10 inbound-smtp.%s.amazonaws.com.",
                     domain, region);
    }
    return SG_OK;
}

/* sg_lint_dns_records - the records a domain needs */
SG_STATUS
sg_lint_dns_records(const SG_CONF *conf, SG_SNAP *snap, const char *domain,
                    sg_lint_line_fn fn, void *arg, int *nrecords)
{
    struct lint *l;
    struct dnsout d;
    char (*names)[SG_REGION_MAX + 1];
    char copy[1024], *tok, *save = NULL;
    size_t n, i;
    int found = 0, ri;
    SG_STATUS st = SG_OK;

    if (domain == NULL || *domain == '\0' || strchr(domain, '@') != NULL
        || strlen(domain) > 253)
        return SG_ERR_USAGE;
    if ((l = calloc(1, sizeof(*l))) == NULL
        || (names = calloc(LINT_REGIONS, sizeof(*names))) == NULL) {
        free(l);
        return SG_ERR_NOMEM;
    }
    l->conf = conf;
    l->snap = snap;
    n = sg_snap_regions(snap, names, LINT_REGIONS);
    for (i = 0; i < n && i < LINT_REGIONS; i++)
        if ((ri = region_index(l, names[i])) >= 0)
            l->instate[ri] = 1;
    if (conf->default_region != NULL && conf->default_region[0] != '\0')
        (void)region_index(l, conf->default_region);
    snprintf(copy, sizeof(copy), "%s", conf->regions != NULL ? conf->regions
             : "");
    for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
         tok = strtok_r(NULL, ", \t", &save))
        (void)region_index(l, tok);
    d.fn = fn;
    d.arg = arg;
    d.nrecords = 0;
    out_line(&d, 0, "; records %s needs for Amazon SES, by region "
             "(sesgatectl dns)", domain);
    for (ri = 0; ri < l->nregions && st == SG_OK; ri++) {
        if (!l->instate[ri]) {
            out_line(&d, 0, "; %s: not in the state (import or sync it)",
                     l->regions[ri]);
            continue;
        }
        st = dns_region(snap, l->regions[ri], domain, &d, &found);
    }
    if (nrecords != NULL)
        *nrecords = d.nrecords;
    free(names);
    free(l);
    if (st != SG_OK)
        return st;
    return found ? SG_OK : SG_ERR_NOTFOUND;
}
