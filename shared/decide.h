/*
 * decide.h - the one decision function
 *
 * Given a message context (region, SASL user, client address, envelope
 * sender, recipients, header addresses, size, configuration set) and a
 * state snapshot, decide per recipient and per message what SES would
 * do: accept, defer (4xx) or reject (5xx), with SES's own reply text
 * where SES has one (ses-rules.md), the enhanced status code and the
 * rule that decided.
 *
 * The milter and the policy daemon decide in stages, as the SMTP
 * dialogue goes; sesgatectl check decides a whole message at once. Both
 * use the stage functions below, so a rule lives here exactly once:
 *
 *   sg_decide_region     R1   which region the message goes to
 *   sg_decide_sender     R1,R4,R2  region known, sending not paused,
 *                              envelope sender ASCII and verified
 *   sg_decide_rcpt       R4,R3,R5  recipient count, syntax, sandbox,
 *                              suppression (the daily quota is the
 *                              quota engine's: sg_decide_reserve)
 *   sg_decide_headers    R2,R11    From/Sender/Return-Path identities
 *                              (listed together with the envelope
 *                              sender, as SES lists them), configuration
 *                              set
 *   sg_decide_size       R4   message size
 *   sg_decide_header_repeat R11  a single-instance header given twice
 *   sg_decide_tags       R11  X-SES-MESSAGE-TAGS syntax
 *   sg_decide_delegation R8   delegated identities (delegations file):
 *                              usable only in the region of their ARN
 *   sg_decide_owner_policy R8  identity-owner sending authorization:
 *                              the policies of this account's identities
 *                              evaluated for the principal a SASL user
 *                              or client is mapped to
 *   sg_decide_sender_ex, sg_decide_rcpt_ex, sg_decide_headers_ex
 *                              the same stages aware of delegations:
 *                              a delegated identity counts as verified
 *                              for the senders allowed to use it, in its
 *                              region; its owner's sandbox applies to
 *                              the recipients
 *   sg_decide_reserve    R4   hold rate and daily quota units for a
 *                              transaction (quota engine, quota.h);
 *   sg_decide_commit/sg_decide_release  end of the transaction
 *   sg_decide            all of the above for a whole message (with
 *                              msg->quota: a quota pre-check that
 *                              consumes nothing)
 *
 * Reply texts (code enhanced text):
 *   R2/R3  554 5.7.1 Message rejected: Email address is not verified.
 *          The following identities failed the check in region
 *          US-EAST-1: a@x, Name <b@y>, b@y
 *   R5     550 5.1.1 <a@x> is on the Amazon
 *          SES account-level suppression list in region us-east-1
 *          (reason BOUNCE, since 2026-11-01T00:00:00Z)
 *   R4     452 4.5.3 Too many recipients: Amazon SES accepts at most 50
 *          recipients per message
 *   R4     552 5.3.4 Message is too long.
 *   R4     554 5.7.1 Account is paused: sending is disabled in region
 *          US-EAST-1
 *   R4     454 4.7.0 Throttling failure: Daily message quota exceeded.
 *   R4     454 4.7.0 Throttling failure: Maximum sending rate exceeded.
 *   R4     553 5.6.7 There are non-ASCII characters in the email address
 *   R11    554 5.7.1 Configuration set does not exist: NAME in region
 *          US-EAST-1
 *   R1     451 4.3.0 sesgate: no SES state for region R (import or sync
 *          it) / no region for sender (set default_region)
 *   R6     554 5.7.1 Message rejected: Mail FROM domain is not verified:
 *          bounce.example.com (identity example.com in region US-EAST-1:
 *          MailFromDomainStatus FAILED, BehaviorOnMxFailure REJECT_MESSAGE)
 *          (SES's SMTP text is not documented; "Mail FROM domain is not
 *          verified" is its error list's wording)
 *   R11    554 5.6.0 Message rejected: the NAME header may not appear
 *          more than once (SES's text is not documented: OPEN)
 *   R11    554 5.6.0 Message rejected: invalid X-SES-MESSAGE-TAGS
 *          header: WHAT (SES's text is not documented: OPEN)
 *   R8     554 5.7.1 Access denied: User USERARN is not authorized to
 *          perform ses:SendRawEmail on resource ARN (identity in region
 *          us-east-1, message relayed to region eu-west-1)
 *   R8     554 5.7.1 Access denied: User PRINCIPAL is not authorized to
 *          perform ses:SendRawEmail on resource ARN (an identity owner's
 *          policy refuses a mapped principal: SES's text, nothing added)
 * Accept: 250 2.0.0 with an explanation in why.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

/* Local headers. */
#include "sesgate.h"
#include "addr.h"
#include "conf.h"
#include "quota.h"
#include "region.h"
#include "state.h"
#include "authz.h"

/* The message context. Plain struct filled in by the caller. */
struct sg_msg {
    const char *region;         /* explicit region, or NULL: resolve
                                 * from sender_region_map/default */
    const char *sasl_user;      /* SASL login or NULL */
    const char *client_addr;    /* client IP or NULL */
    const char *env_from;       /* MAIL FROM path: "<a@b>", "a@b";
                                 * "<>" or "" is the null sender */
    const char *const *rcpts;   /* RCPT TO paths */
    size_t nrcpt;
    const char *hdr_from;       /* raw header values, NULL if absent */
    const char *hdr_sender;
    const char *hdr_return_path;
    long long size;             /* bytes, or -1 if unknown */
    const char *config_set;     /* X-SES-CONFIGURATION-SET or NULL */
    long long now;              /* epoch seconds, 0 = time(NULL) */
    int explain;                /* 1: explain accepted verdicts too */
    SG_QUOTA *quota;            /* quota engine to pre-check against
                                 * (sg_quota_peek, nothing consumed):
                                 * the daily quota for the message's
                                 * recipients so far, the rate for one
                                 * more recipient now; NULL: the
                                 * snapshot's figures only */
    const SG_DELEG *deleg;      /* delegations (R8), or NULL: loaded
                                 * from conf->delegations for this call
                                 * (daemons load it once and set it) */
    const char *principal;      /* the IAM principal sending (account id
                                 * or ARN) for identity-owner policies,
                                 * or NULL: from the delegations file's
                                 * principal lines (SASL user, client) */
};

/* The decision about a whole message. */
struct sg_decision {
    const struct sg_region *region;     /* NULL if none could be found */
    struct sg_verdict message;          /* message-level verdict */
    struct sg_verdict *rcpt;            /* nrcpt verdicts, in order */
    size_t nrcpt;
    int relayed;                /* recipients that would be relayed */
};

/*
 * sg_decide - decide a whole message (sesgatectl check)
 *
 * Never consumes quota. The message verdict carries message-level
 * refusals (region, paused sending, sender identities, configuration
 * set, size); when no recipient would be relayed it takes the first
 * deferral (or, if none, the first refusal) of the recipients.
 *
 * Parameters: conf; snap (begun by the caller); msg; out, filled in;
 *   out->rcpt is new (free with sg_decision_clear).
 * Returns: SG_OK, SG_ERR_NOMEM, or SG_ERR_STATE (the state could not be
 *   read: apply on_state_error). Thread-safety: safe with one snap per
 *   thread.
 */
extern SG_STATUS sg_decide(const SG_CONF *conf, SG_SNAP *snap,
                           const struct sg_msg *msg,
                           struct sg_decision *out);

/* sg_decision_clear - release what sg_decide allocated; accepts NULL */
extern void sg_decision_clear(struct sg_decision *d);

/*
 * Stage functions. Each fills in *v (always: accept with an explanation
 * when nothing objects) and returns SG_OK or SG_ERR_STATE.
 */

/*
 * sg_decide_region - the region of a message
 *
 * Parameters: explicit_region (NULL if none); sender, the envelope
 *   sender path as given; region, set to the row or NULL; v, a DEFER
 *   451 4.3.0 when no region is found or the state lacks it.
 */
extern SG_STATUS sg_decide_region(const SG_CONF *conf, SG_SNAP *snap,
                                  const char *explicit_region,
                                  const char *sender,
                                  const struct sg_region **region,
                                  struct sg_verdict *v);

/*
 * sg_decide_sender - checks at MAIL FROM: paused sending (R4), the
 *   envelope sender's syntax and identity (R2; skipped for "<>")
 */
extern SG_STATUS sg_decide_sender(const SG_CONF *conf, SG_SNAP *snap,
                                  const struct sg_region *region,
                                  const char *sender, struct sg_verdict *v);

/*
 * sg_decide_rcpt - checks at RCPT TO
 *
 * Parameters: index, the number of recipients already accepted for
 *   this message (0 for the first); the one past max_recipients gets
 *   452 4.5.3. reserved, the number of quota units (non-simulator
 *   recipients) already counted for this message (kept for the
 *   callers; the daily quota is checked by sg_decide_reserve, not
 *   here).
 */
extern SG_STATUS sg_decide_rcpt(const SG_CONF *conf, SG_SNAP *snap,
                                const struct sg_region *region,
                                const char *rcpt, size_t index,
                                long long reserved, struct sg_verdict *v);

/*
 * sg_decide_headers - checks at end of headers: every address in From
 *   (all of a mailbox-list), Sender and Return-Path, plus the envelope
 *   sender, must be covered (R2; all failing identities listed, display
 *   name form too); the configuration set must exist (R11).
 *
 * Parameters: sender, the envelope sender path (or NULL to leave it
 *   out); header values NULL when absent; config_set NULL when absent.
 */
extern SG_STATUS sg_decide_headers(const SG_CONF *conf, SG_SNAP *snap,
                                   const struct sg_region *region,
                                   const char *sender,
                                   const char *hdr_from,
                                   const char *hdr_sender,
                                   const char *hdr_return_path,
                                   const char *config_set,
                                   struct sg_verdict *v);

/*
 * sg_decide_reserve - hold quota units for a transaction (R4), for the
 *   daemons at RCPT TO (or for a whole message)
 *
 * Takes the region's limits from its account (sg_snap_account:
 * MaxSendRate, Max24HourSend, SentLast24Hours as of the last import or
 * sync) and reserves through the quota engine, all or none.
 *
 * Parameters: conf; snap (begun by the caller); quota, the engine;
 *   region, from sg_decide_region; txn, the transaction id (policy
 *   "instance", milter queue id; at most SG_QUOTA_TXN_MAX printable
 *   characters); rate_units/daily_units, what this step adds (1 and 1
 *   for an ordinary recipient, 1 and 0 for the mailbox simulator);
 *   now_ms, milliseconds since the epoch (0 = now); v, filled in:
 *   accept, or a DEFER with SES's text:
 *     454 4.7.0 Throttling failure: Maximum sending rate exceeded.
 *     454 4.7.0 Throttling failure: Daily message quota exceeded.
 *   and rule "R4".
 * Returns: SG_OK (see *v); SG_ERR_USAGE for bad arguments (txn too
 *   long, NULL quota); otherwise a retryable status when the state or
 *   the quota backend failed (apply on_quota_error / on_state_error);
 *   SG_PENDING when the quota handle deferred the call (quota.h: v
 *   is not set, ask again with the slot answered).
 *   Nothing is held unless SG_OK with an accept.
 * Thread-safety: safe with one snap per thread; quota may be shared.
 */
extern SG_STATUS sg_decide_reserve(const SG_CONF *conf, SG_SNAP *snap,
                                   SG_QUOTA *quota,
                                   const struct sg_region *region,
                                   const char *txn, long long rate_units,
                                   long long daily_units, long long now_ms,
                                   struct sg_verdict *v);

/*
 * sg_decide_commit - end of message: held units were accepted and sent
 *
 * Parameters: rate_units/daily_units, how many of the held units were
 *   really accepted (-1: all); the rest is released.
 * Returns: SG_OK (also when nothing was held), SG_ERR_USAGE, or the
 *   quota backend's status (SG_PENDING: deferred, quota.h).
 */
extern SG_STATUS sg_decide_commit(SG_QUOTA *quota,
                                  const struct sg_region *region,
                                  const char *txn, long long rate_units,
                                  long long daily_units, long long now_ms);

/*
 * sg_decide_release - the transaction ended without sending (abort,
 *   lost connection, RSET): drop its hold
 *
 * Returns: SG_OK (also when nothing was held), SG_ERR_USAGE, or the
 *   quota backend's status.
 */
extern SG_STATUS sg_decide_release(SG_QUOTA *quota,
                                   const struct sg_region *region,
                                   const char *txn, long long now_ms);

/* sg_decide_size - message size (R4); size < 0 means unknown: accept */
extern void sg_decide_size(const SG_CONF *conf, long long size,
                           struct sg_verdict *v);

/* X-SES-MESSAGE-TAGS bounds (R11). */
#define SG_TAGS_MAX         50          /* tags in one header */
#define SG_TAG_PART_MAX     256         /* name or value length */

/*
 * sg_hdr_single_index - the index of a header in SES's list of headers
 *   that "can't appear more than once" (ses-facts.md 11), with the two
 *   SMTP interface headers of R11 (X-SES-CONFIGURATION-SET,
 *   X-SES-MESSAGE-TAGS), which are single too
 *
 * Parameters: name, compared case-insensitively (NULL: -1).
 * Returns: 0..63 (SG_HDR_SINGLE_MAX - 1), or -1 when the header may
 *   repeat. sg_hdr_single_name gives the canonical spelling of an
 *   index (NULL when out of range).
 */
#define SG_HDR_SINGLE_MAX   64
extern int sg_hdr_single_index(const char *name);
extern const char *sg_hdr_single_name(int idx);

/*
 * sg_decide_header_repeat - a header that appeared more than once in a
 *   message (R11): refused when it is one of SES's single-instance
 *   headers (sg_hdr_single_index), accepted otherwise
 *
 * Parameters: name, the header (NULL: accept); v, filled in.
 */
extern void sg_decide_header_repeat(const char *name, struct sg_verdict *v);

/*
 * sg_tags_check - X-SES-MESSAGE-TAGS syntax: "name=value" pairs
 *   separated by ",", optional white space (folding too) around each;
 *   name and value 1..SG_TAG_PART_MAX of ASCII letters, digits, "_" and
 *   "-"; at most SG_TAGS_MAX tags (R11)
 *
 * Parameters: value (NULL: valid, the header is absent); why/whylen:
 *   caller buffer for what is wrong (may be NULL).
 * Returns: 1 when valid, 0 otherwise.
 */
extern int sg_tags_check(const char *value, char *why, size_t whylen);

/*
 * sg_decide_tags - the X-SES-MESSAGE-TAGS stage (R11): value NULL when
 *   the header is absent (accept); v, accept or the refusal
 */
extern void sg_decide_tags(const char *value, struct sg_verdict *v);

/* The delegations a message may use: who is sending. */
struct sg_deleg_ctx {
    const SG_DELEG *dl;         /* NULL: no delegations */
    const char *sasl_user;      /* SASL login or NULL */
    const char *sender;         /* envelope sender path or NULL */
};

/* The delegated identities a message uses (R8), for the milter's
 * X-SES-*-ARN headers. Borrowed from the SG_DELEG. */
struct sg_deleg_use {
    const struct sg_deleg_entry *source;    /* envelope sender (Source) */
    const struct sg_deleg_entry *from;      /* first delegated From: */
    const struct sg_deleg_entry *rpath;     /* Return-Path, or the
                                             * envelope sender's when the
                                             * entry covers return-path */
    int owner_sandbox;          /* a used identity's owner is in the
                                 * sandbox (R3 applies to recipients) */
};

/*
 * sg_decide_delegation - delegated identities of a message (R8)
 *
 * An address (envelope sender, each From: mailbox, Return-Path:) that a
 * verified identity of this account covers in the region is not
 * delegated. Otherwise the first delegations entry that covers it for
 * that use and admits the SASL user or envelope sender is used: in the
 * ARN's region it counts as verified; in another region the message is
 * refused with SES's access-denied text naming the ARN and both
 * regions (rule "R8").
 *
 * Parameters: dc (dl NULL: nothing is delegated); header values NULL
 *   when absent; use, filled in (may be NULL); v, accept or the refusal.
 * Returns: SG_OK or SG_ERR_STATE.
 */
extern SG_STATUS sg_decide_delegation(const SG_CONF *conf, SG_SNAP *snap,
                                      const struct sg_region *region,
                                      const struct sg_deleg_ctx *dc,
                                      const char *hdr_from,
                                      const char *hdr_return_path,
                                      struct sg_deleg_use *use,
                                      struct sg_verdict *v);

/*
 * sg_decide_sender_ex, sg_decide_headers_ex - sg_decide_sender and
 *   sg_decide_headers where an address that a delegation of dc covers
 *   in the region counts as verified (dc NULL: as the plain ones)
 *
 * Both also apply R6: an identity used for the envelope sender or a
 * From: mailbox whose custom MAIL FROM domain is not verified
 * (MailFromDomainStatus other than SUCCESS) and whose
 * BehaviorOnMxFailure is REJECT_MESSAGE is refused, as SES refuses it.
 * OPEN: which identity's MAIL FROM setting SES applies when the
 * envelope sender and From: differ is not documented; both are checked.
 */
extern SG_STATUS sg_decide_sender_ex(const SG_CONF *conf, SG_SNAP *snap,
                                     const struct sg_region *region,
                                     const char *sender,
                                     const struct sg_deleg_ctx *dc,
                                     struct sg_verdict *v);
extern SG_STATUS sg_decide_headers_ex(const SG_CONF *conf, SG_SNAP *snap,
                                      const struct sg_region *region,
                                      const char *sender,
                                      const char *hdr_from,
                                      const char *hdr_sender,
                                      const char *hdr_return_path,
                                      const char *config_set,
                                      const struct sg_deleg_ctx *dc,
                                      struct sg_verdict *v);

/*
 * sg_decide_rcpt_ex - sg_decide_rcpt where owner_sandbox (from
 *   struct sg_deleg_use) applies the sandbox rule (R3) even in a
 *   production region: for delegated sending both accounts must be out
 *   of the sandbox (R8)
 */
extern SG_STATUS sg_decide_rcpt_ex(const SG_CONF *conf, SG_SNAP *snap,
                                   const struct sg_region *region,
                                   const char *rcpt, size_t index,
                                   long long reserved, int owner_sandbox,
                                   struct sg_verdict *v);

/* Who sends what, for identity-owner policies (R8). */
struct sg_owner_ctx {
    const SG_DELEG *dl;         /* principal lines, or NULL */
    const char *principal;      /* explicit principal, or NULL: mapped
                                 * from dl by sasl_user / client_addr */
    const char *sasl_user;      /* SASL login or NULL */
    const char *client_addr;    /* SMTP client IP or NULL: aws:SourceIp
                                 * and "principal client:CIDR" lines */
    const char *sender;         /* envelope sender path (MAIL FROM) */
    const char *hdr_from;       /* raw From: value, NULL when unknown
                                 * (the policy daemon): the envelope
                                 * sender stands for it */
    const char *hdr_return_path; /* raw Return-Path:, NULL absent */
    const char *const *rcpts;   /* the recipients to be relayed (paths,
                                 * "<a@b>" or "a@b"): ses:Recipients */
    size_t nrcpt;
    long long now;              /* aws:CurrentTime; 0: time(NULL) */
};

/*
 * sg_decide_owner_principal - the principal whose sending this site's
 *   identity policies are evaluated for, or NULL when
 *   sg_decide_owner_policy would not evaluate anything: aws_account_id
 *   is not set, no principal is given or mapped (SASL user's principal
 *   line, else a "principal client:CIDR" line holding client_addr), or
 *   the principal belongs to aws_account_id (the owner: SES evaluates
 *   no sending authorization policy for the identity owner's own
 *   principals)
 *
 * A cheap test for the daemons (no state read): collect the recipient
 * list only when it is not NULL. Returns: borrowed string or NULL.
 */
extern const char *sg_decide_owner_principal(const SG_CONF *conf,
                                             const struct sg_owner_ctx *oc);

/*
 * sg_decide_owner_policy - identity-owner sending authorization (R8)
 *
 * For a principal of another account (sg_decide_owner_principal), each
 * identity of this account that covers one of the message's sender
 * addresses in the region - the envelope sender (SES's Source), every
 * From: mailbox, the Return-Path: - is one resource,
 * arn:PARTITION:ses:REGION:aws_account_id:identity/NAME, and its
 * synced Policies are evaluated (authz.h: explicit Deny wins, no Allow
 * is an implicit deny; a statement with an unknown operator or key does
 * not apply) for ses:SendRawEmail with ses:FromAddress (first From:
 * mailbox, else the envelope sender), ses:FromDisplayName,
 * ses:FeedbackAddress (Return-Path:, else the envelope sender),
 * ses:Recipients = oc->rcpts, ses:ApiVersion "2", aws:SourceIp =
 * client_addr, aws:CurrentTime = now. Addresses no identity of this
 * account covers (unverified: R2's business; or another account's,
 * delegated) are not evaluated.
 *
 * Verdict: accept, or the first refusal:
 *   554 5.7.1 Access denied: User PRINCIPAL is not authorized to
 *   perform ses:SendRawEmail on resource ARN
 * with rule "R8"; why names the policy and statement (or "no statement
 * allows") and the problems of skipped statements.
 *
 * Parameters: conf, snap (begun), region; oc; v, filled in.
 * Returns: SG_OK (see *v), SG_ERR_NOMEM, or SG_ERR_STATE (apply
 *   on_state_error). Thread-safety: safe with one snap per thread.
 */
extern SG_STATUS sg_decide_owner_policy(const SG_CONF *conf, SG_SNAP *snap,
                                        const struct sg_region *region,
                                        const struct sg_owner_ctx *oc,
                                        struct sg_verdict *v);

/*
 * sg_verdict_set - fill in a verdict (for the stage functions and the
 *   programs' own refusals, e.g. on_state_error)
 */
extern void sg_verdict_set(struct sg_verdict *v, SG_ACTION action, int code,
                           const char *enhanced, const char *rule,
                           const char *fmt, ...) SG_PRINTFLIKE(6, 7);

/* sg_verdict_accept - reset to 250 2.0.0 accept, empty why; the
 * caller's explain flag is kept */
extern void sg_verdict_accept(struct sg_verdict *v);

/* sg_action_name - "ACCEPT", "DEFER", "REJECT" */
extern const char *sg_action_name(SG_ACTION action);

#endif /* SG_DECIDE_H */
