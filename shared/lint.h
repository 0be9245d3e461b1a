/*
 * lint.h - the cross-region account doctor (sesgatectl lint, dns)
 *
 * Checks the state (synced or imported) and the configuration for the
 * mistakes that make SES refuse or lose mail, region by region, and
 * reports each as a finding: level, rule, region, identity, the
 * offending ARN or DNS record, what is wrong and what to do.
 *
 *   R2   a sender_region_map key (or default_region) whose identity is
 *        not verified in the mapped region, or only in another one;
 *        a mapped region that is not in the state
 *   R6   DKIM not SUCCESS or signing disabled (error in a region used
 *        for sending); DKIM CNAMEs missing from DNS, per region; MAIL
 *        FROM domain not a subdomain of the identity, not verified
 *        (error with REJECT_MESSAGE), its MX not exactly one
 *        feedback-smtp.REGION.amazonses.com; the same MAIL FROM domain
 *        in several regions (info: which region receives bounces first)
 *   R7   a feedback SNS topic in another region than the identity;
 *        forwarding disabled without both bounce and complaint topics
 *   R8   identity policies: what the evaluator cannot use (unknown
 *        operators or keys), no statement allowing ses:SendRawEmail, a
 *        Resource of another identity or region; delegations whose
 *        region is not in the state
 *   R10  SNS, Lambda or KMS ARNs of a receipt rule in another region
 *        than its rule set (S3 is exempt); a domain whose MX points at
 *        inbound-smtp.REGION.amazonaws.com without an active rule set
 *        in REGION
 *   R9   legacy (pre-2019) SMTP passwords in sasl_passwd
 *   R1   a region used for sending without a known SMTP endpoint and no
 *        smtp_hosts override
 *   R11  milter_default_config_set naming a set that does not exist in
 *        a region it applies to
 * DNS is asked through a callback, so that the program chooses the
 * system resolver, a zone file or nothing; the library does no I/O on
 * the network itself.
 */
#ifndef SG_LINT_H
#define SG_LINT_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"

enum sg_lint_level { SG_LINT_INFO = 0, SG_LINT_WARNING = 1,
                     SG_LINT_ERROR = 2 };

/* One finding. Every string is borrowed for the callback's duration;
 * "" when not applicable. */
struct sg_lint_finding {
    enum sg_lint_level level;
    const char *rule;           /* "R6" */
    const char *region;
    const char *identity;
    const char *object;         /* ARN, DNS record or file:line */
    const char *text;           /* what is wrong */
    const char *fix;            /* what to do */
};

typedef void (*sg_lint_fn)(const struct sg_lint_finding *f, void *arg);

/* DNS record types the lint asks for. */
enum sg_lint_rr { SG_LINT_MX = 15, SG_LINT_CNAME = 5, SG_LINT_TXT = 16 };

/*
 * A DNS lookup: the answers to NAME TYPE, each as text (MX: "PREF HOST",
 * CNAME: "HOST", TXT: the joined strings), host names lower case
 * without the trailing dot.
 * Returns: the number of answers written (at most max, each at most
 *   256 bytes with its NUL), 0 when the name has none (NXDOMAIN,
 *   NODATA), -1 when the lookup failed (the check is skipped).
 */
typedef int (*sg_lint_dns_fn)(const char *name, enum sg_lint_rr type,
                              char (*out)[256], size_t max, void *arg);

struct sg_lint_opts {
    sg_lint_dns_fn dns;         /* NULL: no DNS checks */
    void *dns_arg;
    const char *delegations;    /* delegations file or NULL/"" */
};

/*
 * sg_lint_run - run every check
 *
 * Parameters: conf; snap (begun by the caller); opts; fn/arg get each
 *   finding; counts (may be NULL) gets the number of findings per level.
 * Returns: SG_OK, SG_ERR_STATE, SG_ERR_NOMEM.
 */
extern SG_STATUS sg_lint_run(const SG_CONF *conf, SG_SNAP *snap,
                             const struct sg_lint_opts *opts, sg_lint_fn fn,
                             void *arg, int counts[3]);

/*
 * sg_lint_dns_records - the records a domain needs, zone-file lines
 *
 * For every region in the state (and in conf's regions, default_region
 * and sender_region_map): the three DKIM CNAMEs of the domain's
 * identity there (TOKEN._domainkey.DOMAIN CNAME TOKEN.SigningHostedZone),
 * its custom MAIL FROM MX and SPF, and the inbound MX where an active
 * receipt rule set receives the domain. Comments (";") say which region
 * and identity each record belongs to and what is missing.
 *
 * Parameters: fn gets each line (without newline); nrecords (may be
 *   NULL), the number of records (not comments) written.
 * Returns: SG_OK, SG_ERR_NOTFOUND (no identity for the domain in any
 *   region: comments only), SG_ERR_STATE, SG_ERR_NOMEM, SG_ERR_USAGE.
 */
typedef void (*sg_lint_line_fn)(const char *line, void *arg);
extern SG_STATUS sg_lint_dns_records(const SG_CONF *conf, SG_SNAP *snap,
                                     const char *domain,
                                     sg_lint_line_fn fn, void *arg,
                                     int *nrecords);

/* sg_lint_level_name - "error", "warning", "info" */
extern const char *sg_lint_level_name(enum sg_lint_level level);

#endif /* SG_LINT_H */
