/*
 * decide.c - the one decision function and its stages
 *
 * Every SES rule that sesgate enforces at SMTP time is applied here and
 * nowhere else (ses-rules.md R1-R5, R11). The milter and the policy
 * daemon call the stage functions as the SMTP dialogue goes;
 * sesgatectl check calls sg_decide for a whole message. The texts are
 * SES's own where SES has one, so that people can search for them.
 */

/* System headers. */
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "config.h"
#include "decide.h"
#include "identity.h"
#include "log.h"

/* SES's text for unverified identities (R2), up to the region. */
#define NOT_VERIFIED_TEXT \
    "Message rejected: Email address is not verified. " \
    "The following identities failed the check in region "

/* sg_action_name - "ACCEPT", "DEFER", "REJECT" */
const char *
sg_action_name(SG_ACTION action)
{
    switch (action) {
    case SG_ACCEPT:
        return "ACCEPT";
    case SG_DEFER:
        return "DEFER";
    case SG_REJECT:
        return "REJECT";
    }
    return "UNKNOWN";
}

/* sg_verdict_accept - reset to 250 2.0.0 accept, empty why */
void
sg_verdict_accept(struct sg_verdict *v)
{
    v->action = SG_ACCEPT;
    v->code = 250;
    memcpy(v->enhanced, "2.0.0", sizeof("2.0.0"));
    v->text[0] = '\0';
    v->rule = NULL;
    v->why[0] = '\0';
    v->simulator = 0;
}

/* sg_verdict_set - fill in a verdict; why is left for the caller */
void
sg_verdict_set(struct sg_verdict *v, SG_ACTION action, int code,
               const char *enhanced, const char *rule, const char *fmt, ...)
{
    va_list ap;

    v->action = action;
    v->code = code;
    snprintf(v->enhanced, sizeof(v->enhanced), "%s", enhanced);
    v->rule = rule;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
}

/* set_why - printf into the verdict's explanation; an accept is
 * explained only when the caller asked (formatting every accept costs
 * more than the lookups that decided it) */
static void set_why(struct sg_verdict *v, const char *fmt, ...)
    SG_PRINTFLIKE(2, 3);

static void
set_why(struct sg_verdict *v, const char *fmt, ...)
{
    va_list ap;

    if (v->action == SG_ACCEPT && !v->explain)
        return;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
}

/* upper_region - region name as SES prints it ("US-EAST-1") */
static const char *
upper_region(const struct sg_region *r, char *buf, size_t size)
{
    if (sg_region_upper_buf(r->name, buf, size) == NULL)
        return r->name;
    return buf;
}

/* iso_time - epoch seconds as ISO 8601 UTC, or "an unknown date" */
static const char *
iso_time(long long t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "an unknown date");
    return buf;
}

/* account_of - the region's account summary; NOTFOUND if absent */
static SG_STATUS
account_of(SG_SNAP *snap, const struct sg_region *region,
           struct sg_account *acct)
{
    return sg_snap_account(snap, region->name, acct);
}

/* refuse_syntax - refusal of an address that does not parse (R4) */
static void
refuse_syntax(struct sg_verdict *v, SG_ADDR_ERR err, const char *path,
              int is_rcpt)
{
    if (err == SG_ADDR_ENONASCII) {
        /* SES has no SMTPUTF8 (R4): its own text. */
        sg_verdict_set(v, SG_REJECT, 553, "5.6.7", "R4",
                       "There are non-ASCII characters in the email "
                       "address: %.320s", path);
    } else if (is_rcpt) {
        sg_verdict_set(v, SG_REJECT, 553, "5.1.3", "R4",
                       "<%.320s> address unknown", path);
    } else {
        sg_verdict_set(v, SG_REJECT, 553, "5.1.7", "R4",
                       "<%.320s> Invalid email address", path);
    }
    set_why(v, "R4: %s: %s", path, sg_addr_strerror(err));
}

/* sg_decide_region - the region of a message (R1) */
SG_STATUS
sg_decide_region(const SG_CONF *conf, SG_SNAP *snap,
                 const char *explicit_region, const char *sender,
                 const struct sg_region **region, struct sg_verdict *v)
{
    struct sg_addr a;
    struct sg_account acct;
    const char *how = NULL;
    const char *key = "";
    int is_null = 0;
    SG_STATUS st;

    sg_verdict_accept(v);
    *region = NULL;
    /* The map is keyed by envelope sender; an unparsable or null sender
     * falls through to default_region. */
    if (sender == NULL
        || sg_addr_parse_path(sender, &a, &is_null) != SG_ADDR_OK)
        a.addr[0] = '\0';
    if (explicit_region != NULL && *explicit_region != '\0'
        && sg_region_lookup(explicit_region) == NULL) {
        sg_verdict_set(v, SG_DEFER, 451, "4.3.0", "R1",
                       "sesgate: unknown SES region '%.64s'",
                       explicit_region);
        set_why(v, "R1: '%.64s' is not an SES region", explicit_region);
        return SG_OK;
    }
    *region = sg_region_resolve(explicit_region, conf->map, a.addr,
                                conf->default_region, &how);
    if (*region == NULL) {
        sg_verdict_set(v, SG_DEFER, 451, "4.3.0", "R1",
                       "sesgate: no SES region for sender <%.320s>: set "
                       "default_region or add the sender to "
                       "sender_region_map", a.addr);
        set_why(v, "R1: sender_region_map has no key for <%s> and "
                "default_region is not set", a.addr);
        return SG_OK;
    }
    if (how != NULL && strcmp(how, "map") == 0 && conf->map != NULL)
        (void)sg_region_map_find(conf->map, a.addr, &key);
    st = account_of(snap, *region, &acct);
    if (st == SG_ERR_NOTFOUND) {
        /* Never accept blindly for a region we know nothing about. */
        sg_verdict_set(v, SG_DEFER, 451, "4.3.0", "R1",
                       "sesgate: no SES state for region %s: import or "
                       "sync it", (*region)->name);
        set_why(v, "R1: region %s (%s) is not in the state store",
                (*region)->name, how != NULL ? how : "?");
        return SG_OK;
    }
    if (st != SG_OK)
        return st;
    set_why(v, "R1: region %s (%s%s%s)", (*region)->name,
            how != NULL ? how : "?", key[0] ? " key " : "", key);
    return SG_OK;
}

/*
 * List of failing identities for the R2 text. Entries are deduplicated
 * and joined with ", "; when the text does not fit it ends with "..."
 * as SES's does.
 */
struct fail_list {
    char text[SG_VERDICT_TEXT_MAX];
    size_t len;
    int count;
    int truncated;
};

/* fail_add - append one identity unless already listed */
static void
fail_add(struct fail_list *fl, const char *ident)
{
    const char *p;
    size_t ilen = strlen(ident);
    size_t need;

    /* Already listed? Entries are separated by ", ". */
    for (p = fl->text; (p = strstr(p, ident)) != NULL; p += ilen) {
        if ((p == fl->text || (p >= fl->text + 2 && p[-2] == ','))
            && (p[ilen] == '\0' || p[ilen] == ','))
            return;
    }
    if (fl->truncated)
        return;
    need = ilen + (fl->count > 0 ? 2 : 0);
    /* Keep room for the prefix of the verdict text and "...". */
    if (fl->len + need + 4 >= sizeof(fl->text) - sizeof(NOT_VERIFIED_TEXT)
                               - SG_REGION_MAX) {
        fl->truncated = 1;
        return;
    }
    if (fl->count > 0) {
        memcpy(fl->text + fl->len, ", ", 2);
        fl->len += 2;
    }
    memcpy(fl->text + fl->len, ident, ilen + 1);
    fl->len += ilen;
    fl->count++;
}

/* reject_unverified - the R2/R3 refusal listing the failing identities */
static void
reject_unverified(struct sg_verdict *v, const struct sg_region *region,
                  const struct fail_list *fl, const char *rule)
{
    char up[SG_REGION_MAX + 1];

    sg_verdict_set(v, SG_REJECT, 554, "5.7.1", rule, NOT_VERIFIED_TEXT
                   "%s: %s%s", upper_region(region, up, sizeof(up)),
                   fl->text, fl->truncated ? "..." : "");
}

/* describe_coverage - explanation of a coverage result */
static void
describe_coverage(char *buf, size_t size, const struct sg_addr *a,
                  const struct sg_coverage *cov, const char *region)
{
    if (cov->covered)
        snprintf(buf, size, "%s is covered by verified identity %s in %s",
                 a->addr, cov->identity, region);
    else if (cov->identity[0] != '\0')
        snprintf(buf, size, "%s: identity %s in %s is %s", a->addr,
                 cov->identity, region,
                 cov->sending_disabled ? "verified but sending-disabled"
                 : cov->status[0] ? cov->status : "not verified");
    else
        snprintf(buf, size, "%s: no identity covers it in %s", a->addr,
                 region);
}

/* deleg_in_region - the delegation entry that makes an address usable
 * in this region for a use, or NULL */
static const struct sg_deleg_entry *
deleg_in_region(const struct sg_deleg_ctx *dc,
                const struct sg_region *region, const char *addr, int use)
{
    const struct sg_deleg_entry *e;

    if (dc == NULL || dc->dl == NULL)
        return NULL;
    e = sg_deleg_find(dc->dl, addr, use, dc->sasl_user, dc->sender);
    if (e == NULL || strcmp(e->id.region, region->name) != 0)
        return NULL;
    return e;
}

/* json_str - a string member, NULL if absent or not a string */
static const char *
json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * mailfrom_of - the custom MAIL FROM settings of one stored identity
 *
 * Returns: 1 when the identity has a MAIL FROM domain (domain, status
 *   and behavior copied out), 0 when not or absent, -1 state error.
 */
static int
mailfrom_of(SG_SNAP *snap, const char *region, const char *ident,
            char *domain, size_t dsize, char *status, size_t ssize,
            int *reject)
{
    char *json = NULL;
    size_t len;
    json_t *root, *mf;
    const char *d, *st, *b;
    SG_STATUS s;
    int found = 0;

    s = sg_snap_identity_json(snap, region, ident, &json, &len);
    if (s == SG_ERR_NOTFOUND)
        return 0;
    if (s != SG_OK)
        return -1;
    /* Most identities have no MAIL FROM domain: skip the parse. */
    if (strstr(json, "MailFrom") == NULL) {
        free(json);
        return 0;
    }
    root = json_loadb(json, len, 0, NULL);
    free(json);
    mf = json_object_get(root, "MailFromAttributes");
    if (!json_is_object(mf))
        mf = json_object_get(root, "MailFromDomainAttributes");
    d = json_is_object(mf) ? json_str(mf, "MailFromDomain") : NULL;
    if (d != NULL && *d != '\0') {
        st = json_str(mf, "MailFromDomainStatus");
        b = json_str(mf, "BehaviorOnMxFailure");
        if (b == NULL)
            b = json_str(mf, "BehaviorOnMXFailure");
        snprintf(domain, dsize, "%s", d);
        snprintf(status, ssize, "%s", st != NULL ? st : "PENDING");
        *reject = b != NULL && (strcmp(b, "REJECT_MESSAGE") == 0
                                || strcmp(b, "RejectMessage") == 0);
        found = 1;
    }
    json_decref(root);
    return found;
}

/*
 * mailfrom_check - R6: the identity that covers an address, or the
 *   nearest parent domain identity with a MAIL FROM domain, refuses
 *   when that domain is not verified and BehaviorOnMxFailure is
 *   REJECT_MESSAGE
 *
 * Returns: SG_OK (*refused set with v filled in) or SG_ERR_STATE.
 */
static SG_STATUS
mailfrom_check(SG_SNAP *snap, const struct sg_region *region,
               const struct sg_coverage *cov, struct sg_verdict *v,
               int *refused)
{
    char domain[SG_ADDR_MAX + 1], status[40], up[SG_REGION_MAX + 1];
    const char *name = cov->identity, *at;
    int reject = 0, r;

    *refused = 0;
    while (name != NULL && *name != '\0') {
        r = mailfrom_of(snap, region->name, name, domain, sizeof(domain),
                        status, sizeof(status), &reject);
        if (r < 0)
            return SG_ERR_STATE;
        if (r > 0)
            break;
        /* An address identity without one: its domain's setting. */
        if ((at = strchr(name, '@')) != NULL)
            name = at + 1;
        else if ((name = strchr(name, '.')) != NULL)
            name++;
    }
    if (name == NULL || *name == '\0' || !reject
        || strcasecmp(status, "SUCCESS") == 0)
        return SG_OK;
    *refused = 1;
    sg_verdict_set(v, SG_REJECT, 554, "5.7.1", "R6",
                   "Message rejected: Mail FROM domain is not verified: "
                   "%.200s (identity %.200s in region %s: "
                   "MailFromDomainStatus %s, BehaviorOnMxFailure "
                   "REJECT_MESSAGE)", domain, name,
                   upper_region(region, up, sizeof(up)), status);
    set_why(v, "R6: MAIL FROM domain %.120s of %.120s is %s in %s and "
            "SES rejects its mail", domain, name, status, region->name);
    return SG_OK;
}

/* sg_decide_sender - checks at MAIL FROM */
SG_STATUS
sg_decide_sender(const SG_CONF *conf, SG_SNAP *snap,
                 const struct sg_region *region, const char *sender,
                 struct sg_verdict *v)
{
    return sg_decide_sender_ex(conf, snap, region, sender, NULL, v);
}

/* sg_decide_sender_ex - checks at MAIL FROM, delegations too */
SG_STATUS
sg_decide_sender_ex(const SG_CONF *conf, SG_SNAP *snap,
                    const struct sg_region *region, const char *sender,
                    const struct sg_deleg_ctx *dc, struct sg_verdict *v)
{
    const struct sg_deleg_entry *de;
    int refused = 0;
    struct sg_account acct;
    struct sg_addr a;
    struct sg_coverage cov;
    struct fail_list fl;
    char up[SG_REGION_MAX + 1];
    int is_null = 0;
    SG_ADDR_ERR aerr;
    SG_STATUS st;

    (void)conf;
    sg_verdict_accept(v);
    if ((st = account_of(snap, region, &acct)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_ERR_STATE : st;
    if (!acct.sending_enabled) {
        /* R4: SES refuses while the account is paused in a region. */
        sg_verdict_set(v, SG_REJECT, 554, "5.7.1", "R4",
                       "Account is paused: sending is disabled in region "
                       "%s", upper_region(region, up, sizeof(up)));
        set_why(v, "R4: SendingEnabled is false in %s", region->name);
        return SG_OK;
    }
    aerr = sg_addr_parse_path(sender != NULL ? sender : "<>", &a,
                              &is_null);
    if (aerr != SG_ADDR_OK) {
        refuse_syntax(v, aerr, sender, 0);
        return SG_OK;
    }
    if (is_null) {
        set_why(v, "R2: null sender: no envelope identity to check");
        return SG_OK;
    }
    if ((st = sg_identity_covers(snap, region->name, &a, &cov)) != SG_OK)
        return st;
    if (!cov.covered
        && (de = deleg_in_region(dc, region, a.addr, SG_DELEG_SOURCE))
        != NULL) {
        set_why(v, "R8: envelope sender %.200s is delegated: %.150s", a.addr,
                de->arn);
        return SG_OK;
    }
    if (!cov.covered) {
        memset(&fl, 0, sizeof(fl));
        fail_add(&fl, a.addr);
        reject_unverified(v, region, &fl, "R2");
    } else {
        if ((st = mailfrom_check(snap, region, &cov, v, &refused)) != SG_OK)
            return st;
        if (refused)
            return SG_OK;
    }
    {
        char buf[SG_VERDICT_WHY_MAX - 16];

        describe_coverage(buf, sizeof(buf), &a, &cov, region->name);
        set_why(v, "R2: envelope sender %s", buf);
    }
    return SG_OK;
}

/*
 * rcpt_checks - the checks at RCPT TO; snapshot_quota says whether to
 *   pre-check the daily quota against the snapshot's figures (off when
 *   the quota engine checks it instead)
 */
static SG_STATUS
rcpt_checks(const SG_CONF *conf, SG_SNAP *snap,
            const struct sg_region *region, const char *rcpt,
            size_t index, long long reserved, int snapshot_quota,
            int owner_sandbox, struct sg_verdict *v)
{
    struct sg_account acct;
    struct sg_addr a;
    struct sg_coverage cov;
    struct sg_suppressed sup;
    char buf[SG_VERDICT_WHY_MAX - 32];
    char when[40];
    int simulator;
    SG_ADDR_ERR aerr;
    SG_STATUS st;

    sg_verdict_accept(v);
    if (index >= (size_t)conf->max_recipients) {
        /* R4: so that the client sends the rest in another
         * transaction. */
        sg_verdict_set(v, SG_DEFER, 452, "4.5.3", "R4",
                       "Too many recipients: Amazon SES accepts at most "
                       "%lld recipients per message", conf->max_recipients);
        set_why(v, "R4: recipient %zu of a message; the limit is %lld",
                index + 1, conf->max_recipients);
        return SG_OK;
    }
    aerr = sg_addr_parse_path(rcpt != NULL ? rcpt : "", &a, NULL);
    if (aerr != SG_ADDR_OK) {
        refuse_syntax(v, aerr, rcpt != NULL ? rcpt : "", 1);
        return SG_OK;
    }
    if ((st = account_of(snap, region, &acct)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_ERR_STATE : st;
    simulator = sg_identity_is_simulator(&a);
    v->simulator = (unsigned char)simulator;

    /* R3: in the sandbox every recipient must be verified or be the
     * mailbox simulator. */
    if ((!acct.production || owner_sandbox) && !simulator) {
        if ((st = sg_identity_covers(snap, region->name, &a, &cov))
            != SG_OK)
            return st;
        if (!cov.covered) {
            struct fail_list fl;

            memset(&fl, 0, sizeof(fl));
            fail_add(&fl, a.addr);
            reject_unverified(v, region, &fl, acct.production ? "R8"
                              : "R3");
            describe_coverage(buf, sizeof(buf), &a, &cov, region->name);
            if (acct.production)
                set_why(v, "R8: the owner of a delegated identity is in "
                        "the sandbox and %s", buf);
            else
                set_why(v, "R3: %s is in the sandbox and %s", region->name,
                        buf);
            return SG_OK;
        }
    }

    /* R5: SES would take the message and bounce it; refuse now. */
    st = sg_snap_suppressed(snap, region->name, a.addr, &sup);
    if (st == SG_OK) {
        iso_time(sup.updated, when, sizeof(when));
        sg_verdict_set(v, SG_REJECT, 550, "5.1.1", "R5",
                       "<%s> is on the Amazon SES account-level "
                       "suppression list in region %s "
                       "(reason %s, since %s)", a.addr, region->name,
                       sg_supp_reason_name(sup.reason), when);
        set_why(v, "R5: %s is suppressed in %s (%s, %s)", a.addr,
                region->name, sg_supp_reason_name(sup.reason), when);
        return SG_OK;
    }
    if (st != SG_ERR_NOTFOUND)
        return st;

    /* R4: daily quota pre-check; simulator recipients do not count
     * toward it. -1 is unlimited. */
    if (snapshot_quota && !simulator && acct.max_24h >= 0
        && acct.sent_24h + (double)reserved + 1 > acct.max_24h) {
        sg_verdict_set(v, SG_DEFER, 454, "4.7.0", "R4",
                       "Throttling failure: Daily message quota exceeded.");
        set_why(v, "R4: %s has sent %.0f of %.0f in the last 24 hours "
                "(%lld more in this message)", region->name, acct.sent_24h,
                acct.max_24h, reserved);
        return SG_OK;
    }

    if (simulator)
        set_why(v, "R3/R5: %s is the SES mailbox simulator", a.addr);
    else if (!acct.production || owner_sandbox) {
        describe_coverage(buf, sizeof(buf), &a, &cov, region->name);
        set_why(v, "R3: sandbox, %s; R5: not suppressed", buf);
    } else
        set_why(v, "R3: %s is in production; R5: %s is not suppressed",
                region->name, a.addr);
    return SG_OK;
}

/*
 * sg_decide_rcpt - checks at RCPT TO. The daily quota is left to the
 *   quota engine (sg_decide_reserve), which the daemons call next: a
 *   pre-check against the snapshot's SentLast24Hours here would keep
 *   deferring after syncs stop, when that figure has aged out.
 */
SG_STATUS
sg_decide_rcpt(const SG_CONF *conf, SG_SNAP *snap,
               const struct sg_region *region, const char *rcpt,
               size_t index, long long reserved, struct sg_verdict *v)
{
    return rcpt_checks(conf, snap, region, rcpt, index, reserved, 0, 0, v);
}

/* sg_decide_rcpt_ex - checks at RCPT TO; the owner's sandbox too */
SG_STATUS
sg_decide_rcpt_ex(const SG_CONF *conf, SG_SNAP *snap,
                  const struct sg_region *region, const char *rcpt,
                  size_t index, long long reserved, int owner_sandbox,
                  struct sg_verdict *v)
{
    return rcpt_checks(conf, snap, region, rcpt, index, reserved, 0,
                       owner_sandbox, v);
}

/* quota_limits - a region's quota limits from its account summary */
static SG_STATUS
quota_limits(SG_SNAP *snap, const struct sg_region *region,
             struct sg_quota_limits *lim)
{
    struct sg_account acct;
    SG_STATUS st;

    if ((st = account_of(snap, region, &acct)) != SG_OK)
        return st == SG_ERR_NOTFOUND ? SG_ERR_STATE : st;
    lim->max_rate = acct.max_rate;
    lim->burst = 0;             /* quota_burst or one second's worth */
    lim->max_24h = acct.max_24h;
    lim->sent_24h = acct.sent_24h;
    lim->synced_at_ms = sg_snap_imported_at(snap) * 1000;
    return SG_OK;
}

/* quota_deny - the R4 deferral of a quota refusal */
static void
quota_deny(struct sg_verdict *v, enum sg_quota_deny deny,
           const struct sg_region *region,
           const struct sg_quota_limits *lim, long long rate_units,
           long long daily_units)
{
    if (deny == SG_QUOTA_DAILY) {
        sg_verdict_set(v, SG_DEFER, 454, "4.7.0", "R4",
                       "Throttling failure: Daily message quota exceeded.");
        set_why(v, "R4: %lld more would exceed the 24-hour quota of %.0f "
                "in %s (sent and held counted by the quota engine)",
                daily_units, lim->max_24h, region->name);
    } else {
        sg_verdict_set(v, SG_DEFER, 454, "4.7.0", "R4",
                       "Throttling failure: Maximum sending rate "
                       "exceeded.");
        set_why(v, "R4: %lld more would exceed the sending rate of %g "
                "per second in %s", rate_units, lim->max_rate,
                region->name);
    }
}

/* sg_decide_reserve - hold quota units for a transaction (R4) */
SG_STATUS
sg_decide_reserve(const SG_CONF *conf, SG_SNAP *snap, SG_QUOTA *quota,
                  const struct sg_region *region, const char *txn,
                  long long rate_units, long long daily_units,
                  long long now_ms, struct sg_verdict *v)
{
    struct sg_quota_limits lim;
    enum sg_quota_deny deny = SG_QUOTA_OK;
    SG_STATUS st;

    (void)conf;
    sg_verdict_accept(v);
    if (quota == NULL || region == NULL)
        return SG_ERR_USAGE;
    if ((st = quota_limits(snap, region, &lim)) != SG_OK)
        return st;
    st = sg_quota_reserve(quota, region->name, &lim, txn, rate_units,
                          daily_units, now_ms, &deny);
    if (st != SG_OK)
        return st == SG_ERR_USAGE || st == SG_PENDING
               || sg_status_is_retryable(st) ? st : SG_ERR_STATE_RETRY;
    if (deny != SG_QUOTA_OK)
        quota_deny(v, deny, region, &lim, rate_units, daily_units);
    else
        set_why(v, "R4: %lld recipient(s) held in %s", rate_units,
                region->name);
    return SG_OK;
}

/* sg_decide_commit - the held units were sent */
SG_STATUS
sg_decide_commit(SG_QUOTA *quota, const struct sg_region *region,
                 const char *txn, long long rate_units,
                 long long daily_units, long long now_ms)
{
    if (quota == NULL || region == NULL)
        return SG_ERR_USAGE;
    return sg_quota_commit(quota, region->name, txn, rate_units,
                           daily_units, now_ms);
}

/* sg_decide_release - the transaction ended without sending */
SG_STATUS
sg_decide_release(SG_QUOTA *quota, const struct sg_region *region,
                  const char *txn, long long now_ms)
{
    if (quota == NULL || region == NULL)
        return SG_ERR_USAGE;
    return sg_quota_release(quota, region->name, txn, now_ms);
}

/* check_header - add a header's failing addresses to the list */
static SG_STATUS
check_header(SG_SNAP *snap, const struct sg_region *region,
             const char *name, const char *value, struct fail_list *fl,
             const struct sg_deleg_ctx *dc, int use, struct sg_verdict *v,
             int *refused)
{
    struct sg_addr *addrs;
    struct sg_coverage cov;
    size_t n = 0, i;
    SG_ADDR_ERR aerr;
    SG_STATUS st = SG_OK;
    char ident[SG_DISPLAY_MAX + SG_ADDR_MAX + 8];

    *refused = 0;
    if (value == NULL)
        return SG_OK;
    addrs = calloc(SG_HDR_MAX_ADDRS, sizeof(*addrs));
    if (addrs == NULL)
        return SG_ERR_NOMEM;
    aerr = sg_addr_parse_header(value, strlen(value), addrs,
                                SG_HDR_MAX_ADDRS, &n);
    if (aerr != SG_ADDR_OK) {
        if (aerr == SG_ADDR_ENONASCII)
            sg_verdict_set(v, SG_REJECT, 553, "5.6.7", "R4",
                           "There are non-ASCII characters in the email "
                           "address in the %s: header", name);
        else
            sg_verdict_set(v, SG_REJECT, 554, "5.6.0", "R2",
                           "Message rejected: the %s: header is not a "
                           "valid address list (%s)", name,
                           sg_addr_strerror(aerr));
        set_why(v, "R2: %s: header: %s", name, sg_addr_strerror(aerr));
        *refused = 1;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if ((st = sg_identity_covers(snap, region->name, &addrs[i], &cov))
            != SG_OK)
            goto out;
        if (cov.covered) {
            /* R6 for the identities of From: mailboxes. */
            if (use == SG_DELEG_FROM && strcmp(name, "From") == 0) {
                if ((st = mailfrom_check(snap, region, &cov, v, refused))
                    != SG_OK || *refused)
                    goto out;
            }
            continue;
        }
        if (deleg_in_region(dc, region, addrs[i].addr, use) != NULL)
            continue;
        /* SES lists a header address with its display name as well as
         * bare: "Ann <a@x>, a@x". */
        if (addrs[i].display[0] != '\0') {
            snprintf(ident, sizeof(ident), "%s <%s>", addrs[i].display,
                     addrs[i].addr);
            fail_add(fl, ident);
        }
        fail_add(fl, addrs[i].addr);
    }
out:
    free(addrs);
    return st;
}

/* valid_config_set_name - up to 64 of A-Z a-z 0-9 - _ (ses-facts 11) */
static int
valid_config_set_name(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return n > 0 && n <= 64;
}

/* sg_decide_headers - checks at end of headers (R2, R11) */
SG_STATUS
sg_decide_headers(const SG_CONF *conf, SG_SNAP *snap,
                  const struct sg_region *region, const char *sender,
                  const char *hdr_from, const char *hdr_sender,
                  const char *hdr_return_path, const char *config_set,
                  struct sg_verdict *v)
{
    return sg_decide_headers_ex(conf, snap, region, sender, hdr_from,
                                hdr_sender, hdr_return_path, config_set,
                                NULL, v);
}

/* sg_decide_headers_ex - checks at end of headers, delegations too */
SG_STATUS
sg_decide_headers_ex(const SG_CONF *conf, SG_SNAP *snap,
                     const struct sg_region *region, const char *sender,
                     const char *hdr_from, const char *hdr_sender,
                     const char *hdr_return_path, const char *config_set,
                     const struct sg_deleg_ctx *dc, struct sg_verdict *v)
{
    struct fail_list fl;
    struct sg_addr a;
    struct sg_coverage cov;
    char up[SG_REGION_MAX + 1];
    char name[80];
    const char *cs;
    size_t len;
    int is_null = 0, refused = 0;
    SG_STATUS st;

    (void)conf;
    sg_verdict_accept(v);
    memset(&fl, 0, sizeof(fl));
    /* The envelope sender first, as SES lists the Source first. An
     * unparsable one was refused at MAIL FROM already. */
    if (sender != NULL && sg_addr_parse_path(sender, &a, &is_null)
        == SG_ADDR_OK && !is_null) {
        if ((st = sg_identity_covers(snap, region->name, &a, &cov))
            != SG_OK)
            return st;
        if (!cov.covered
            && deleg_in_region(dc, region, a.addr, SG_DELEG_SOURCE) == NULL)
            fail_add(&fl, a.addr);
    }
    if ((st = check_header(snap, region, "From", hdr_from, &fl, dc,
                           SG_DELEG_FROM, v, &refused)) != SG_OK || refused)
        return st;
    if ((st = check_header(snap, region, "Sender", hdr_sender, &fl, dc,
                           SG_DELEG_FROM, v, &refused)) != SG_OK || refused)
        return st;
    if ((st = check_header(snap, region, "Return-Path", hdr_return_path,
                           &fl, dc, SG_DELEG_RPATH, v, &refused)) != SG_OK
        || refused)
        return st;
    if (fl.count > 0) {
        reject_unverified(v, region, &fl, "R2");
        set_why(v, "R2: not covered by a verified identity in %s: %.300s",
                region->name, fl.text);
        return SG_OK;
    }

    /* R11: the configuration set must exist in the region. */
    if (config_set != NULL) {
        cs = config_set;
        while (*cs == ' ' || *cs == '\t')
            cs++;
        len = strlen(cs);
        while (len > 0 && (cs[len - 1] == ' ' || cs[len - 1] == '\t'
                           || cs[len - 1] == '\r' || cs[len - 1] == '\n'))
            len--;
        snprintf(name, sizeof(name), "%.*s", (int)(len < 70 ? len : 70),
                 cs);
        if (len > 0) {
            st = valid_config_set_name(name) ? sg_snap_config_set(
                     snap, region->name, name) : SG_ERR_NOTFOUND;
            if (st == SG_ERR_NOTFOUND) {
                sg_verdict_set(v, SG_REJECT, 554, "5.7.1", "R11",
                               "Configuration set does not exist: %s in "
                               "region %s", name,
                               upper_region(region, up, sizeof(up)));
                set_why(v, "R11: configuration set '%s' is not defined in "
                        "%s", name, region->name);
                return SG_OK;
            }
            if (st != SG_OK)
                return st;
        }
    }
    set_why(v, "R2: every sender identity is verified in %s%s",
            region->name, config_set != NULL ? "; R11: configuration set "
            "exists" : "");
    return SG_OK;
}

/* sg_decide_size - message size (R4) */
void
sg_decide_size(const SG_CONF *conf, long long size, struct sg_verdict *v)
{
    sg_verdict_accept(v);
    if (size >= 0 && size > conf->message_size_limit) {
        sg_verdict_set(v, SG_REJECT, 552, "5.3.4", "R4",
                       "Message is too long.");
        set_why(v, "R4: %lld bytes is over message_size_limit %lld", size,
                conf->message_size_limit);
    } else if (size >= 0)
        set_why(v, "R4: %lld bytes is within %lld", size,
                conf->message_size_limit);
}

/*
 * The headers that SES says "can't appear more than once" (SES
 * Developer Guide, header-fields; ses-facts.md 11), and the two SMTP
 * interface headers of R11, which are single too: SES does not say
 * which of two configuration sets it would use, so two are refused.
 * At most SG_HDR_SINGLE_MAX entries (callers keep a 64-bit set).
 */
static const char *const single_headers[] = {
    "Accept-Language", "acceptLanguage", "Archived-At", "Auto-Submitted",
    "Bounces-to", "Comments", "Content-Alternative", "Content-Base",
    "Content-Class", "Content-Description", "Content-Disposition",
    "Content-Duration", "Content-ID", "Content-Language", "Content-Length",
    "Content-Location", "Content-MD5", "Content-Transfer-Encoding",
    "Content-Type", "Date", "Delivered-To",
    "Disposition-Notification-Options", "Disposition-Notification-To",
    "DKIM-Signature", "DomainKey-Signature", "Errors-To", "From",
    "Importance", "In-Reply-To", "Keywords", "List-Archive", "List-Help",
    "List-Id", "List-Owner", "List-Post", "List-Subscribe",
    "List-Unsubscribe", "Message-Context", "Message-ID", "MIME-Version",
    "Organization", "Original-From", "Original-Message-ID",
    "Original-Recipient", "Original-Subject", "Precedence", "Priority",
    "References", "Reply-To", "Return-Path", "Return-Receipt-To", "Sender",
    "Solicitation", "Sensitivity", "Subject", "Thread-Index",
    "Thread-Topic", "User-Agent", "VBR-Info", "X-SES-CONFIGURATION-SET",
    "X-SES-MESSAGE-TAGS"
};

#define NSINGLE (sizeof(single_headers) / sizeof(single_headers[0]))

/* Compile-time check: the list must fit a 64-bit set. */
typedef char sg_single_fits[NSINGLE <= SG_HDR_SINGLE_MAX ? 1 : -1];

/* sg_hdr_single_index - index in SES's single-instance list */
int
sg_hdr_single_index(const char *name)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < NSINGLE; i++)
        if (strcasecmp(name, single_headers[i]) == 0)
            return (int)i;
    return -1;
}

/* sg_hdr_single_name - the canonical spelling of an index */
const char *
sg_hdr_single_name(int idx)
{
    if (idx < 0 || (size_t)idx >= NSINGLE)
        return NULL;
    return single_headers[idx];
}

/* sg_decide_header_repeat - a header given more than once (R11) */
void
sg_decide_header_repeat(const char *name, struct sg_verdict *v)
{
    const char *canon = sg_hdr_single_name(sg_hdr_single_index(name));

    sg_verdict_accept(v);
    if (canon == NULL) {
        if (name != NULL)
            set_why(v, "R11: %.100s may repeat", name);
        return;
    }
    /* What SES answers is not documented (OPEN): refuse with a text
     * that names the header. */
    sg_verdict_set(v, SG_REJECT, 554, "5.6.0", "R11",
                   "Message rejected: the %s header may not appear more "
                   "than once", canon);
    set_why(v, "R11: %s: header repeated; SES accepts it once", canon);
}

/* tag_char - whether a character may appear in a tag name or value */
static int
tag_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* is_fws - folding white space as the MTAs pass it */
static int
is_fws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* sg_tags_check - X-SES-MESSAGE-TAGS syntax (R11) */
int
sg_tags_check(const char *value, char *why, size_t whylen)
{
    const char *p = value;
    size_t n, ntags = 0;

#define TAGS_FAIL(...) do { \
        if (why != NULL && whylen > 0) \
            snprintf(why, whylen, __VA_ARGS__); \
        return 0; \
    } while (0)

    if (value == NULL)
        return 1;
    for (;;) {
        while (is_fws((unsigned char)*p))
            p++;
        if (*p == '\0') {
            if (ntags == 0)
                TAGS_FAIL("no tag");
            TAGS_FAIL("empty tag after ','");
        }
        if (++ntags > SG_TAGS_MAX)
            TAGS_FAIL("more than %d tags", SG_TAGS_MAX);
        for (n = 0; tag_char((unsigned char)p[n]); n++)
            ;
        if (n == 0)
            TAGS_FAIL("tag %zu: name missing or has a character other than "
                      "letters, digits, '_' and '-'", ntags);
        if (n > SG_TAG_PART_MAX)
            TAGS_FAIL("tag %zu: name longer than %d characters", ntags,
                      SG_TAG_PART_MAX);
        p += n;
        while (is_fws((unsigned char)*p))
            p++;
        if (*p != '=')
            TAGS_FAIL("tag %zu: '=' expected after the name", ntags);
        p++;
        while (is_fws((unsigned char)*p))
            p++;
        for (n = 0; tag_char((unsigned char)p[n]); n++)
            ;
        if (n == 0)
            TAGS_FAIL("tag %zu: value missing or has a character other "
                      "than letters, digits, '_' and '-'", ntags);
        if (n > SG_TAG_PART_MAX)
            TAGS_FAIL("tag %zu: value longer than %d characters", ntags,
                      SG_TAG_PART_MAX);
        p += n;
        while (is_fws((unsigned char)*p))
            p++;
        if (*p == '\0')
            return 1;
        if (*p != ',')
            TAGS_FAIL("tag %zu: ',' expected after the value", ntags);
        p++;
    }
#undef TAGS_FAIL
}

/* sg_decide_tags - the X-SES-MESSAGE-TAGS stage (R11) */
void
sg_decide_tags(const char *value, struct sg_verdict *v)
{
    char why[160];

    sg_verdict_accept(v);
    if (value == NULL)
        return;
    if (!sg_tags_check(value, why, sizeof(why))) {
        /* What SES answers is not documented (OPEN). */
        sg_verdict_set(v, SG_REJECT, 554, "5.6.0", "R11",
                       "Message rejected: invalid X-SES-MESSAGE-TAGS "
                       "header: %s", why);
        set_why(v, "R11: X-SES-MESSAGE-TAGS: %s", why);
        return;
    }
    set_why(v, "R11: X-SES-MESSAGE-TAGS well-formed");
}

/* deleg_user - who SES would name in its access-denied text */
static const char *
deleg_user(const struct sg_deleg_entry *e, const struct sg_deleg_ctx *dc,
           char *buf, size_t size)
{
    if (e->user != NULL)
        return e->user;
    if (dc->sasl_user != NULL && dc->sasl_user[0] != '\0') {
        snprintf(buf, size, "sasl:%.200s", dc->sasl_user);
        return buf;
    }
    return "(unauthenticated)";
}

/*
 * deleg_one - one address of a message: not delegated, delegated in
 *   this region (recorded in *used), or delegated in another (refused)
 */
static SG_STATUS
deleg_one(SG_SNAP *snap, const struct sg_region *region,
          const struct sg_deleg_ctx *dc, const struct sg_addr *a, int use,
          const struct sg_deleg_entry **used, struct sg_verdict *v,
          int *refused)
{
    const struct sg_deleg_entry *e;
    struct sg_coverage cov;
    char text[SG_VERDICT_TEXT_MAX], ubuf[256];
    SG_STATUS st;

    *refused = 0;
    if ((e = sg_deleg_find(dc->dl, a->addr, use, dc->sasl_user,
                           dc->sender)) == NULL)
        return SG_OK;
    /* This account's own verified identity needs no delegation. */
    if ((st = sg_identity_covers(snap, region->name, a, &cov)) != SG_OK)
        return st;
    if (cov.covered)
        return SG_OK;
    if (strcmp(e->id.region, region->name) != 0) {
        sg_authz_denied_text_buf(deleg_user(e, dc, ubuf, sizeof(ubuf)),
                                 e->arn, text, sizeof(text));
        sg_verdict_set(v, SG_REJECT, 554, "5.7.1", "R8", "%.700s (identity "
                       "in region %s, message relayed to region %s)", text,
                       e->id.region, region->name);
        set_why(v, "R8: %.200s may use %.200s only in %s (delegations "
                "line %d)", a->addr, e->arn, e->id.region, e->line);
        *refused = 1;
        return SG_OK;
    }
    if (*used == NULL)
        *used = e;
    return SG_OK;
}

/* owner_sandboxed - whether an entry's owner is taken to be in the
 * sandbox */
static int
owner_sandboxed(const SG_CONF *conf, const struct sg_deleg_entry *e)
{
    if (e == NULL)
        return 0;
    if (e->owner_production >= 0)
        return !e->owner_production;
    return !conf->delegation_owner_production;
}

/* sg_decide_delegation - delegated identities of a message (R8) */
SG_STATUS
sg_decide_delegation(const SG_CONF *conf, SG_SNAP *snap,
                     const struct sg_region *region,
                     const struct sg_deleg_ctx *dc, const char *hdr_from,
                     const char *hdr_return_path, struct sg_deleg_use *use,
                     struct sg_verdict *v)
{
    struct sg_deleg_use u;
    struct sg_addr a, *addrs = NULL;
    size_t n = 0, i;
    int is_null = 0, refused = 0;
    SG_STATUS st = SG_OK;

    sg_verdict_accept(v);
    memset(&u, 0, sizeof(u));
    if (dc == NULL || dc->dl == NULL)
        goto out;
    if (dc->sender != NULL
        && sg_addr_parse_path(dc->sender, &a, &is_null) == SG_ADDR_OK
        && !is_null) {
        if ((st = deleg_one(snap, region, dc, &a, SG_DELEG_SOURCE,
                            &u.source, v, &refused)) != SG_OK || refused)
            goto out;
        if (hdr_return_path == NULL
            && (st = deleg_one(snap, region, dc, &a, SG_DELEG_RPATH,
                               &u.rpath, v, &refused)) != SG_OK)
            goto out;
        refused = 0;
    }
    if ((addrs = calloc(SG_HDR_MAX_ADDRS, sizeof(*addrs))) == NULL) {
        st = SG_ERR_NOMEM;
        goto out;
    }
    /* Unparsable headers are the header stage's to refuse. */
    if (hdr_from != NULL
        && sg_addr_parse_header(hdr_from, strlen(hdr_from), addrs,
                                SG_HDR_MAX_ADDRS, &n) == SG_ADDR_OK) {
        for (i = 0; i < n; i++)
            if ((st = deleg_one(snap, region, dc, &addrs[i], SG_DELEG_FROM,
                                &u.from, v, &refused)) != SG_OK || refused)
                goto out;
    }
    if (hdr_return_path != NULL
        && sg_addr_parse_header(hdr_return_path, strlen(hdr_return_path),
                                addrs, SG_HDR_MAX_ADDRS, &n) == SG_ADDR_OK
        && n > 0
        && ((st = deleg_one(snap, region, dc, &addrs[0], SG_DELEG_RPATH,
                            &u.rpath, v, &refused)) != SG_OK || refused))
        goto out;
    u.owner_sandbox = owner_sandboxed(conf, u.source)
                      || owner_sandboxed(conf, u.from)
                      || owner_sandboxed(conf, u.rpath);
    if (u.source != NULL || u.from != NULL || u.rpath != NULL)
        set_why(v, "R8: delegated identities in %s: source %.100s, from "
                "%.100s, return-path %.100s%s", region->name,
                u.source != NULL ? u.source->arn : "-",
                u.from != NULL ? u.from->arn : "-",
                u.rpath != NULL ? u.rpath->arn : "-", u.owner_sandbox
                ? " (owner in the sandbox)" : "");
out:
    free(addrs);
    if (use != NULL)
        *use = u;
    return st;
}

/* ---- Identity-owner policies (R8). ---- */

/* owner_mapped - the principal given or mapped, NULL if none */
static const char *
owner_mapped(const struct sg_owner_ctx *oc)
{
    if (oc->principal != NULL && oc->principal[0] != '\0')
        return oc->principal;
    return sg_deleg_principal_for(oc->dl, oc->sasl_user, oc->client_addr);
}

/* owner_is_self - the principal belongs to the account that owns the
 * identities */
static int
owner_is_self(const SG_CONF *conf, const char *principal)
{
    char acct[16];

    sg_authz_principal_account(principal, acct, sizeof(acct));
    return strcmp(acct, conf->aws_account_id) == 0;
}

/* sg_decide_owner_principal - whose sending the policies are for */
const char *
sg_decide_owner_principal(const SG_CONF *conf,
                          const struct sg_owner_ctx *oc)
{
    const char *p;

    if (conf == NULL || oc == NULL || conf->aws_account_id == NULL
        || conf->aws_account_id[0] == '\0')
        return NULL;
    if ((p = owner_mapped(oc)) == NULL || owner_is_self(conf, p))
        return NULL;
    return p;
}

/* One sender address whose identity is evaluated. */
struct owner_addr {
    const char *what;           /* "envelope sender", "From:", ... */
    const struct sg_addr *a;
};

/* The identities already evaluated for a message. */
#define OWNER_IDENT_MAX (SG_HDR_MAX_ADDRS + 2)

/*
 * owner_one - evaluate the policies of the identity covering one sender
 *   address; *done is set when the identity was evaluated already or
 *   is not this account's
 *
 * Returns: SG_OK (v refused when denied), SG_ERR_STATE, SG_ERR_NOMEM.
 */
static SG_STATUS
owner_one(const SG_CONF *conf, SG_SNAP *snap,
          const struct sg_region *region, const struct owner_addr *oa,
          struct sg_authz_req *req, char (*seen)[SG_ADDR_MAX + 1],
          size_t *nseen, struct sg_authz_result *res, char *arn,
          size_t arnsize, int *evaluated, struct sg_verdict *v)
{
    struct sg_coverage cov;
    char *json = NULL;
    size_t len, i;
    SG_STATUS st;

    *evaluated = 0;
    if ((st = sg_identity_covers(snap, region->name, oa->a, &cov))
        != SG_OK)
        return st;
    /* Not this account's verified identity: R2 or a delegation
     * decides it, not this account's policies. */
    if (!cov.covered)
        return SG_OK;
    for (i = 0; i < *nseen; i++)
        if (strcmp(seen[i], cov.identity) == 0)
            return SG_OK;
    if (*nseen < OWNER_IDENT_MAX)
        memcpy(seen[(*nseen)++], cov.identity, sizeof(cov.identity));
    st = sg_snap_identity_json(snap, region->name, cov.identity, &json,
                               &len);
    if (st == SG_ERR_NOTFOUND)
        return SG_OK;
    if (st != SG_OK)
        return st;
    snprintf(arn, arnsize, "arn:%s:ses:%s:%s:identity/%s",
             region->govcloud ? "aws-us-gov" : "aws", region->name,
             conf->aws_account_id, cov.identity);
    req->resource = arn;
    st = sg_authz_eval_identity(json, len, req, res);
    free(json);
    if (st == SG_ERR_SYNTAX) {
        /* A stored entry that is not an object grants nothing. */
        memset(res, 0, sizeof(*res));
        res->statement = -1;
        snprintf(res->why, sizeof(res->why), "R8: the stored entry of %s "
                 "is not a JSON object (implicit deny)", cov.identity);
        sg_authz_denied_text_buf(req->principal, arn, res->text,
                                 sizeof(res->text));
    } else if (st != SG_OK) {
        return st;
    }
    *evaluated = 1;
    if (!res->allowed) {
        /* SES's own text, nothing added: people search for it. */
        sg_verdict_set(v, SG_REJECT, 554, "5.7.1", "R8", "%s", res->text);
        set_why(v, "%.200s; %s %.100s, identity %.100s in %s%s", res->why,
                oa->what, oa->a->addr, cov.identity, region->name,
                res->nproblems > 0 ? "; statements with problems skipped "
                "(see sesgatectl lint)" : "");
    }
    return SG_OK;
}

/* sg_decide_owner_policy - identity-owner sending authorization (R8) */
SG_STATUS
sg_decide_owner_policy(const SG_CONF *conf, SG_SNAP *snap,
                       const struct sg_region *region,
                       const struct sg_owner_ctx *oc, struct sg_verdict *v)
{
    struct sg_authz_req req;
    struct sg_authz_result *res = NULL;
    struct sg_addr env, rp, *from = NULL, *rcpt = NULL, *rpa = NULL;
    struct owner_addr list[OWNER_IDENT_MAX];
    const char **rcpts = NULL;
    const char *principal;
    char (*seen)[SG_ADDR_MAX + 1] = NULL;
    char display[SG_DISPLAY_MAX + 1], arn[SG_AUTHZ_ARN_MAX];
    char last[SG_VERDICT_WHY_MAX / 2];
    size_t nfrom = 0, nseen = 0, nrcpt = 0, i, nevaluated = 0, nlist;
    int env_ok = 0, rp_ok = 0, is_null = 0, evaluated = 0;
    SG_STATUS st = SG_OK;

    sg_verdict_accept(v);
    if (conf == NULL || region == NULL || oc == NULL)
        return SG_ERR_USAGE;
    if (conf->aws_account_id == NULL || conf->aws_account_id[0] == '\0') {
        set_why(v, "R8: aws_account_id is not set: identity policies are "
                "not evaluated");
        return SG_OK;
    }
    if ((principal = owner_mapped(oc)) == NULL) {
        set_why(v, "R8: no principal line maps SASL user %.100s or client "
                "%.64s: identity policies are not evaluated",
                oc->sasl_user != NULL && oc->sasl_user[0] != '\0'
                ? oc->sasl_user : "(none)", oc->client_addr != NULL
                && oc->client_addr[0] != '\0' ? oc->client_addr : "(none)");
        return SG_OK;
    }
    if (owner_is_self(conf, principal)) {
        set_why(v, "R8: %.200s belongs to the owner account %s: SES "
                "evaluates no sending authorization policy for it",
                principal, conf->aws_account_id);
        return SG_OK;
    }

    /* Not zeroed: the parsers fill what they report, nseen counts. */
    if ((from = malloc(SG_HDR_MAX_ADDRS * sizeof(*from))) == NULL
        || (res = malloc(sizeof(*res))) == NULL
        || (seen = malloc(OWNER_IDENT_MAX * sizeof(*seen))) == NULL
        || (oc->nrcpt > 0
            && ((rcpt = calloc(oc->nrcpt, sizeof(*rcpt))) == NULL
                || (rcpts = calloc(oc->nrcpt, sizeof(*rcpts))) == NULL))) {
        st = SG_ERR_NOMEM;
        goto out;
    }
    /* ses:Recipients: the bare addresses; one that does not parse was
     * refused at RCPT already. */
    for (i = 0; i < oc->nrcpt; i++) {
        if (oc->rcpts[i] != NULL
            && sg_addr_parse_path(oc->rcpts[i], &rcpt[nrcpt], NULL)
            == SG_ADDR_OK) {
            rcpts[nrcpt] = rcpt[nrcpt].addr;
            nrcpt++;
        }
    }
    env_ok = oc->sender != NULL
             && sg_addr_parse_path(oc->sender, &env, &is_null)
             == SG_ADDR_OK && !is_null;
    if (oc->hdr_from != NULL
        && sg_addr_parse_header(oc->hdr_from, strlen(oc->hdr_from), from,
                                SG_HDR_MAX_ADDRS, &nfrom) != SG_ADDR_OK)
        nfrom = 0;
    if (oc->hdr_return_path != NULL) {
        size_t n = 0;

        if ((rpa = malloc(SG_HDR_MAX_ADDRS * sizeof(*rpa))) == NULL) {
            st = SG_ERR_NOMEM;
            goto out;
        }
        if (sg_addr_parse_header(oc->hdr_return_path,
                                 strlen(oc->hdr_return_path), rpa,
                                 SG_HDR_MAX_ADDRS, &n) == SG_ADDR_OK
            && n > 0) {
            rp = rpa[0];
            rp_ok = 1;
        }
    }

    memset(&req, 0, sizeof(req));
    req.principal = principal;
    req.recipients = rcpts;
    req.nrecipients = nrcpt;
    req.source_ip = oc->client_addr;
    req.now = oc->now;
    display[0] = '\0';
    if (nfrom > 0) {
        req.from_address = from[0].addr;
        sg_authz_display_name(from[0].display, display, sizeof(display));
    } else if (env_ok) {
        req.from_address = env.addr;
    }
    req.from_display = display;
    req.feedback_address = rp_ok ? rp.addr : env_ok ? env.addr : NULL;

    /* SES's order: Source, From, Return-Path. */
    nlist = 0;
    if (env_ok) {
        list[nlist].what = "envelope sender";
        list[nlist++].a = &env;
    }
    for (i = 0; i < nfrom; i++) {
        list[nlist].what = "From:";
        list[nlist++].a = &from[i];
    }
    if (rp_ok) {
        list[nlist].what = "Return-Path:";
        list[nlist++].a = &rp;
    }
    last[0] = '\0';
    for (i = 0; i < nlist; i++) {
        if ((st = owner_one(conf, snap, region, &list[i], &req, seen,
                            &nseen, res, arn, sizeof(arn), &evaluated, v))
            != SG_OK || v->action != SG_ACCEPT)
            goto out;
        if (evaluated) {
            nevaluated++;
            snprintf(last, sizeof(last), "%s", res->why);
        }
    }
    if (nevaluated == 0)
        set_why(v, "R8: no identity of account %s covers the senders in "
                "%s: no policy to evaluate for %.150s",
                conf->aws_account_id, region->name, principal);
    else
        set_why(v, "R8: %.150s may send as %zu identit%s of %s in %s (%s)",
                principal, nevaluated, nevaluated == 1 ? "y" : "ies",
                conf->aws_account_id, region->name, last);
out:
    free(from);
    free(rpa);
    free(res);
    free(seen);
    free(rcpt);
    free(rcpts);
    return st;
}

/* sg_decide - decide a whole message */
SG_STATUS
sg_decide(const SG_CONF *conf, SG_SNAP *snap, const struct sg_msg *msg,
          struct sg_decision *out)
{
    const struct sg_region *region;
    struct sg_verdict sv, hv, zv;
    struct sg_verdict *first_defer = NULL, *first_reject = NULL;
    size_t i, accepted = 0;
    long long reserved = 0;
    struct sg_quota_limits lim;
    enum sg_quota_deny deny = SG_QUOTA_OK;
    struct sg_deleg_ctx dc;
    struct sg_deleg_use use;
    struct sg_verdict dv, ov;
    SG_DELEG *own_dl = NULL;
    char derr[512];
    SG_STATUS st;

    memset(out, 0, sizeof(*out));
    memset(&use, 0, sizeof(use));
    if (msg->nrcpt > 0
        && (out->rcpt = calloc(msg->nrcpt, sizeof(*out->rcpt))) == NULL)
        return SG_ERR_NOMEM;
    out->nrcpt = msg->nrcpt;
    out->message.explain = (unsigned char)(msg->explain != 0);
    sv.explain = hv.explain = zv.explain = out->message.explain;
    dv.explain = out->message.explain;
    for (i = 0; i < msg->nrcpt; i++)
        out->rcpt[i].explain = out->message.explain;

    st = sg_decide_region(conf, snap, msg->region, msg->env_from, &region,
                          &out->message);
    if (st != SG_OK)
        goto fail;
    out->region = region;
    if (out->message.action != SG_ACCEPT) {
        for (i = 0; i < msg->nrcpt; i++)
            out->rcpt[i] = out->message;
        return SG_OK;
    }

    /* Delegations (R8): the caller's, or the configured file's. */
    dc.dl = msg->deleg;
    dc.sasl_user = msg->sasl_user;
    dc.sender = msg->env_from;
    if (dc.dl == NULL && conf->delegations != NULL
        && conf->delegations[0] != '\0') {
        if ((own_dl = sg_deleg_load(conf->delegations, derr,
                                    sizeof(derr))) == NULL) {
            sg_log(SG_LOG_ERR, "delegations: %s", derr);
            st = SG_ERR_CONFIG;
            goto fail;
        }
        dc.dl = own_dl;
    }
    if ((st = sg_decide_delegation(conf, snap, region, &dc, msg->hdr_from,
                                   msg->hdr_return_path, &use, &dv))
        != SG_OK)
        goto fail;

    /* MAIL FROM. An R2 refusal of the envelope sender is reported by the
     * header stage instead, which lists it together with the header
     * identities as SES does. */
    if ((st = sg_decide_sender_ex(conf, snap, region, msg->env_from, &dc,
                                  &sv)) != SG_OK)
        goto fail;
    if (sv.action == SG_ACCEPT || (sv.rule != NULL
                                   && strcmp(sv.rule, "R2") == 0
                                   && sv.code == 554))
        snprintf(out->message.why, sizeof(out->message.why), "%s",
                 sv.why);
    else
        out->message = sv;
    if (out->message.action == SG_ACCEPT && dv.action != SG_ACCEPT)
        out->message = dv;

    /* RCPT TO, in order; only accepted recipients count toward the
     * 50-recipient limit and the quota pre-check. */
    if (msg->quota != NULL
        && (st = quota_limits(snap, region, &lim)) != SG_OK)
        goto fail;
    for (i = 0; i < msg->nrcpt; i++) {
        st = rcpt_checks(conf, snap, region, msg->rcpts[i], accepted,
                         reserved, msg->quota == NULL, use.owner_sandbox,
                         &out->rcpt[i]);
        if (st != SG_OK)
            goto fail;
        if (msg->quota != NULL && out->rcpt[i].action == SG_ACCEPT) {
            /* Would this recipient still be admitted? Daily: together
             * with the ones before it. Rate: whether the bucket has a
             * token now (the region is not being throttled); not
             * whether the whole message fits one burst, which is the
             * daemons' business at RCPT time. Peek consumes nothing. */
            long long du = reserved + (out->rcpt[i].simulator ? 0 : 1);

            st = sg_quota_peek(msg->quota, region->name, &lim, 1, du,
                               msg->now > 0 ? msg->now * 1000 : 0, &deny);
            if (st != SG_OK) {
                if (!sg_status_is_retryable(st) && st != SG_ERR_USAGE)
                    st = SG_ERR_STATE_RETRY;
                goto fail;
            }
            if (deny != SG_QUOTA_OK)
                quota_deny(&out->rcpt[i], deny, region, &lim, 1, du);
        }
        switch (out->rcpt[i].action) {
        case SG_ACCEPT:
            accepted++;
            if (!out->rcpt[i].simulator)
                reserved++;
            break;
        case SG_DEFER:
            if (first_defer == NULL)
                first_defer = &out->rcpt[i];
            break;
        case SG_REJECT:
            if (first_reject == NULL)
                first_reject = &out->rcpt[i];
            break;
        }
    }

    if (out->message.action == SG_ACCEPT) {
        st = sg_decide_headers_ex(conf, snap, region, msg->env_from,
                                  msg->hdr_from, msg->hdr_sender,
                                  msg->hdr_return_path, msg->config_set,
                                  &dc, &hv);
        if (st != SG_OK)
            goto fail;
        if (hv.action != SG_ACCEPT)
            out->message = hv;
    }
    if (out->message.action == SG_ACCEPT) {
        sg_decide_size(conf, msg->size, &zv);
        if (zv.action != SG_ACCEPT)
            out->message = zv;
    }
    /* Identity-owner policies (R8), for the recipients to be relayed,
     * as the milter evaluates them at the end of the headers. */
    ov.explain = out->message.explain;
    sg_verdict_accept(&ov);
    if (out->message.action == SG_ACCEPT && accepted > 0) {
        struct sg_owner_ctx oc;
        const char **rl;
        size_t nrl = 0;

        if ((rl = calloc(accepted, sizeof(*rl))) == NULL) {
            st = SG_ERR_NOMEM;
            goto fail;
        }
        for (i = 0; i < msg->nrcpt && nrl < accepted; i++)
            if (out->rcpt[i].action == SG_ACCEPT)
                rl[nrl++] = msg->rcpts[i];
        memset(&oc, 0, sizeof(oc));
        oc.dl = dc.dl;
        oc.principal = msg->principal;
        oc.sasl_user = msg->sasl_user;
        oc.client_addr = msg->client_addr;
        oc.sender = msg->env_from;
        oc.hdr_from = msg->hdr_from;
        oc.hdr_return_path = msg->hdr_return_path;
        oc.rcpts = rl;
        oc.nrcpt = nrl;
        oc.now = msg->now;
        st = sg_decide_owner_policy(conf, snap, region, &oc, &ov);
        free(rl);
        if (st != SG_OK)
            goto fail;
        if (ov.action != SG_ACCEPT)
            out->message = ov;
        /* Explain it only where a principal is involved. */
        if (owner_mapped(&oc) == NULL)
            ov.why[0] = '\0';
    }
    if (out->message.action == SG_ACCEPT && accepted == 0) {
        if (first_defer != NULL)
            out->message = *first_defer;
        else if (first_reject != NULL)
            out->message = *first_reject;
        else {
            sg_verdict_set(&out->message, SG_REJECT, 554, "5.5.1", "R4",
                           "There are no recipients specified");
            snprintf(out->message.why, sizeof(out->message.why),
                     "R4: the message has no recipients");
        }
    }
    out->relayed = out->message.action == SG_ACCEPT ? (int)accepted : 0;
    if (out->message.action == SG_ACCEPT && out->message.explain)
        snprintf(out->message.why, sizeof(out->message.why),
                 "relayed to %zu of %zu recipients in %s%s%s%.250s",
                 accepted, msg->nrcpt, region->name, use.source != NULL
                 || use.from != NULL || use.rpath != NULL
                 ? " (with delegated identities, R8)" : "",
                 ov.why[0] != '\0' ? "; " : "", ov.why);
    sg_deleg_free(own_dl);
    return SG_OK;

fail:
    sg_deleg_free(own_dl);
    sg_decision_clear(out);
    return st;
}

/* sg_decision_clear - release what sg_decide allocated */
void
sg_decision_clear(struct sg_decision *d)
{
    if (d == NULL)
        return;
    free(d->rcpt);
    d->rcpt = NULL;
    d->nrcpt = 0;
}
