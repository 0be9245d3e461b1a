/*
 * policy_proto.h - the Postfix policy delegation protocol, pure codec
 *
 * Wire format (SMTPD_POLICY_README; peers-and-protocols.md section 4):
 * a request is "name=value" lines ended by an empty line; the reply is
 * one "action=..." line and an empty line; the connection stays open
 * for the next request. Attributes arrive in any order, unknown ones
 * are ignored, and of duplicates the last one wins.
 *
 * This module does no I/O, keeps no globals and allocates nothing, so
 * that it can be unit-tested and fuzzed on its own:
 *
 *   sg_policy_scan_*   find where a request ends in a growing buffer,
 *                      enforcing the bounds below without reading on;
 *   sg_policy_parse    split one complete request, in place, into the
 *                      attributes sesgate uses;
 *   sg_policy_reply_*  write the reply for a verdict or an action.
 *
 * Bounds (sesgate-policyd(8)): a line longer than SG_POLICY_LINE_MAX
 * bytes, a request longer than SG_POLICY_REQ_MAX bytes or with more
 * than SG_POLICY_ATTRS_MAX attributes is refused as soon as the excess
 * is seen; the daemon then logs and closes the connection without a
 * reply, and Postfix applies smtpd_policy_service_default_action.
 */
#ifndef SG_POLICY_PROTO_H
#define SG_POLICY_PROTO_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Bounds of a request. */
#define SG_POLICY_LINE_MAX  8192        /* bytes of one line, without LF */
#define SG_POLICY_REQ_MAX   65536       /* bytes of a request, all LFs */
#define SG_POLICY_ATTRS_MAX 200         /* attribute lines of a request */

/* Longest reply sg_policy_reply_buf writes, final empty line included. */
#define SG_POLICY_REPLY_MAX (SG_VERDICT_TEXT_MAX + 64)

/* What the scanner found. */
typedef enum sg_policy_scan_res {
    SG_POLICY_MORE = 0,         /* no complete request yet: read more */
    SG_POLICY_DONE = 1,         /* a request ends at *reqlen */
    SG_POLICY_ELINE = 2,        /* a line exceeds SG_POLICY_LINE_MAX */
    SG_POLICY_EBIG = 3,         /* the request exceeds SG_POLICY_REQ_MAX */
    SG_POLICY_EATTRS = 4,       /* over SG_POLICY_ATTRS_MAX attributes */
    SG_POLICY_ENUL = 5          /* a NUL byte (names and values have none) */
} SG_POLICY_SCAN_RES;

/*
 * Scanner state: plain struct, zero it (sg_policy_scan_init) before
 * the first byte of each request. It remembers how far the buffer was
 * looked at, so that feeding a request a byte at a time costs linear
 * time.
 */
struct sg_policy_scan {
    size_t pos;                 /* bytes examined */
    size_t line_start;          /* offset of the current line */
    size_t nattrs;              /* complete non-empty lines so far */
    size_t nul_ok;              /* bytes before this have no NUL */
};

/* sg_policy_scan_init - prepare for a new request */
extern void sg_policy_scan_init(struct sg_policy_scan *sc);

/*
 * sg_policy_scan_feed - look for the end of a request
 *
 * Parameters: sc, the state of this request; buf, len: everything
 *   received for this request so far (the same bytes as before plus
 *   what arrived since; buf may move between calls); reqlen, set on
 *   SG_POLICY_DONE to the length of the request including its final
 *   empty line (bytes after it belong to the next request).
 * Returns: one of SG_POLICY_SCAN_RES. An error is final for the
 *   connection. Thread-safety: safe (pure).
 *
 * An empty line before any attribute (a stray newline between
 * requests) is skipped as part of the request: it is not an empty
 * request.
 */
extern SG_POLICY_SCAN_RES sg_policy_scan_feed(struct sg_policy_scan *sc,
                                              const char *buf, size_t len,
                                              size_t *reqlen);

/* sg_policy_scan_strerror - text for a scanner result */
extern const char *sg_policy_scan_strerror(SG_POLICY_SCAN_RES res);

/* protocol_state values (BDAT is reported as DATA by Postfix 3.4+). */
typedef enum sg_policy_pstate {
    SG_PSTATE_NONE = 0,         /* absent or unknown */
    SG_PSTATE_CONNECT,
    SG_PSTATE_EHLO,
    SG_PSTATE_HELO,
    SG_PSTATE_MAIL,
    SG_PSTATE_RCPT,
    SG_PSTATE_DATA,
    SG_PSTATE_EOM,              /* END-OF-MESSAGE */
    SG_PSTATE_VRFY,
    SG_PSTATE_ETRN
} SG_POLICY_PSTATE;

/*
 * A parsed request. The string members point into the buffer given to
 * sg_policy_parse (borrowed: valid while it is) and are never NULL: an
 * absent attribute is "". Numbers absent, empty or malformed are -1.
 */
struct sg_policy_req {
    const char *request;        /* "smtpd_access_policy" */
    const char *protocol_state; /* as sent */
    const char *protocol_name;
    const char *helo_name;
    const char *queue_id;
    const char *sender;
    const char *recipient;
    const char *client_address;
    const char *client_name;
    const char *reverse_client_name;
    const char *instance;
    const char *sasl_method;
    const char *sasl_username;
    const char *sasl_sender;
    const char *policy_context;
    SG_POLICY_PSTATE pstate;
    long long recipient_count;
    long long size;
    size_t nattrs;              /* attribute lines, unknown ones too */
};

/*
 * sg_policy_parse - split a complete request into attributes, in place
 *
 * Parameters: buf, len: one request as delimited by sg_policy_scan_feed
 *   (its final empty line included); the buffer is modified: each line
 *   end becomes a NUL, and a CR before it is dropped. out, filled in.
 * Returns: SG_OK; SG_ERR_SYNTAX when a line has no "=" or an empty
 *   name, or the request is not terminated; SG_ERR_TOOBIG when a bound
 *   is exceeded (the scanner normally catches that first).
 * Thread-safety: safe (pure).
 */
extern SG_STATUS sg_policy_parse(char *buf, size_t len,
                                 struct sg_policy_req *out);

/* sg_policy_pstate_parse - protocol_state text to value */
extern SG_POLICY_PSTATE sg_policy_pstate_parse(const char *s);

/* sg_policy_pstate_name - "RCPT", "END-OF-MESSAGE", ...; "" for NONE */
extern const char *sg_policy_pstate_name(SG_POLICY_PSTATE st);

/*
 * sg_policy_reply_buf - the reply for a verdict
 *
 * An accept is "action=DUNNO" (never OK: later restrictions still run);
 * a refusal is "action=CODE ENHANCED TEXT". Control characters and
 * non-ASCII bytes of the text become '?', so that no text can end the
 * line early or forge a second attribute.
 *
 * Parameters: v; buf, size: caller buffer (SG_POLICY_REPLY_MAX fits
 *   any verdict).
 * Returns: the length written (without the terminating NUL), or 0 when
 *   it does not fit (buf then holds "").
 */
extern size_t sg_policy_reply_buf(const struct sg_verdict *v, char *buf,
                                  size_t size);

/*
 * sg_policy_action_buf - "action=WORD[ TEXT]\n\n" for any action
 *
 * Parameters: word, e.g. "DUNNO" or "DEFER_IF_PERMIT" (copied as is:
 *   the caller's constant); text, NULL or sanitised as above.
 * Returns: as sg_policy_reply_buf.
 */
extern size_t sg_policy_action_buf(const char *word, const char *text,
                                   char *buf, size_t size);

#endif /* SG_POLICY_PROTO_H */
