/*
 * addr.h - RFC 5321 envelope paths and RFC 5322 address headers
 *
 * Pure functions: no I/O, no globals, no allocation beyond the result
 * structures documented below. Every input is bounded (SG_ADDR_MAX per
 * address, SG_HDR_MAX per header value, SG_HDR_MAX_ADDRS addresses per
 * header) and every parser has a unit suite and a fuzz harness.
 *
 * Normal form of an address (struct sg_addr):
 *   - local: the local part as it is meant, with the quoting of a
 *     quoted-string removed when the content is a valid dot-atom, kept
 *     (with quotes, backslash escapes normalised) otherwise. Case kept:
 *     local parts are case-sensitive for SES address identities (R2).
 *   - domain: ASCII, lower case, non-ASCII labels converted to Punycode
 *     ("xn--..."), no trailing dot; an address literal ("[192.0.2.1]")
 *     kept as written.
 *   - addr: local "@" domain.
 * A non-ASCII local part is refused (SES has no SMTPUTF8, R4) with
 * SG_ADDR_ENONASCII so that callers can answer SES's own text.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Bounds. */
#define SG_HDR_MAX          (64 * 1024)     /* one header value */
#define SG_HDR_MAX_ADDRS    100             /* addresses in one header */
#define SG_DISPLAY_MAX      256             /* display name kept */

/* Why a parse failed (finer than SG_STATUS; for messages and tests). */
typedef enum sg_addr_err {
    SG_ADDR_OK = 0,
    SG_ADDR_ESYNTAX,            /* not an address */
    SG_ADDR_ENONASCII,          /* non-ASCII local part (no SMTPUTF8) */
    SG_ADDR_ETOOLONG,           /* over SG_ADDR_MAX / SG_HDR_MAX */
    SG_ADDR_ETOOMANY,           /* over SG_HDR_MAX_ADDRS addresses */
    SG_ADDR_EIDN,               /* domain cannot be converted to Punycode */
    SG_ADDR_EEMPTY              /* empty where an address is required */
} SG_ADDR_ERR;

/* One parsed address. Plain struct, filled in by the parsers. */
struct sg_addr {
    char addr[SG_ADDR_MAX + 1];     /* local@domain, normal form */
    char local[SG_ADDR_MAX + 1];    /* local part, normal form */
    char domain[SG_ADDR_MAX + 1];   /* lower-case ASCII domain */
    char display[SG_DISPLAY_MAX + 1]; /* display name as written (raw,
                                     * unfolded, quotes kept, encoded
                                     * words not decoded); "" if none */
};

/*
 * sg_addr_strerror - text for a parse error
 *
 * Returns: static string.
 */
extern const char *sg_addr_strerror(SG_ADDR_ERR err);

/*
 * sg_addr_parse_path - parse an RFC 5321 reverse- or forward-path
 *
 * Parameters: in, the path as given to MAIL FROM / RCPT TO, with or
 *   without angle brackets ("<a@b>", "a@b", "<@r1,@r2:a@b>" with the
 *   source route dropped, "<>"); ESMTP parameters must already be cut
 *   off by the caller. Surrounding white space is ignored.
 *   out, filled in on success.
 *   is_null, set to 1 for the null path "<>" (out->addr is then ""),
 *   0 otherwise; may be NULL when the null path is not allowed (it is
 *   then SG_ADDR_EEMPTY).
 * Returns: SG_ADDR_OK or the reason for failure (out undefined then).
 * Thread-safety: safe (pure).
 */
extern SG_ADDR_ERR sg_addr_parse_path(const char *in, struct sg_addr *out,
                                      int *is_null);

/*
 * sg_addr_parse_header - parse an RFC 5322 address header value
 *
 * Accepts the value of From: (mailbox-list), Sender: (mailbox),
 * Return-Path: (angle-addr or "<>"), To:/Cc: (address-list): display
 * names, quoted strings, comments (nested), groups ("Team: a@b, c@d;",
 * members are returned, an empty group yields nothing), obsolete routes,
 * folding white space, encoded words left as written.
 *
 * Parameters: in, the header value (not the name), len its length;
 *   out, array of max entries; n, set to the number of addresses found.
 *   A "<>" (Return-Path of a bounce) yields no address and SG_ADDR_OK.
 * Returns: SG_ADDR_OK, or the reason for failure; on failure *n holds
 *   the count of addresses parsed before the error.
 * Thread-safety: safe (pure).
 */
extern SG_ADDR_ERR sg_addr_parse_header(const char *in, size_t len,
                                        struct sg_addr *out, size_t max,
                                        size_t *n);

/*
 * sg_addr_domain_to_ascii - convert a domain to lower-case ASCII
 *
 * Each non-ASCII label (UTF-8) is converted to Punycode (RFC 3492) with
 * the "xn--" prefix; ASCII letters are lower-cased. Non-ASCII letters
 * are not case-folded (no Unicode tables): a documented limitation.
 *
 * Parameters: in, in_len: the domain; buf, size: caller buffer.
 * Returns: buf, or NULL when the domain is invalid UTF-8, a label is
 *   empty or too long, or the result does not fit.
 */
extern char *sg_addr_domain_to_ascii_buf(const char *in, size_t in_len,
                                         char *buf, size_t size);

/*
 * sg_addr_strip_label - remove a "+label" from the local part
 *
 * Parameters: a, a parsed address; buf, size: caller buffer.
 * Returns: buf holding "local-without-label@domain", or NULL when the
 *   local part has no '+' (or starts with it) or it does not fit.
 */
extern char *sg_addr_strip_label_buf(const struct sg_addr *a, char *buf,
                                     size_t size);

#endif /* SG_ADDR_H */
