/*
 * mlfi_util.h - pure helpers of sesgate-milter (no I/O, no libmilter)
 *
 * The milter is protocol glue: it turns libmilter callbacks into calls
 * of the decision stages (decide.h) and verdicts back into replies.
 * What can be done without a socket lives here so that the unit suite
 * (tests/unit/check_milter.c) and the fuzz harness
 * (tests/fuzz/fuzz_milter_util.c) reach it:
 *
 *   - collecting the headers SES looks at (From, Sender, Return-Path,
 *     X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS) with bounds, and
 *     noticing single-instance headers that appear twice (SES's list
 *     and the R11 checks themselves live in decide.c:
 *     sg_hdr_single_index, sg_decide_header_repeat, sg_decide_tags);
 *   - ESMTP arguments of MAIL FROM (SIZE=);
 *   - the default configuration set of a region;
 *   - reply texts made safe for smfi_setreply ('%' doubled, controls
 *     replaced) and the refusal log line in Postfix's key=value shape.
 *
 * Every input is bounded; the functions write into caller buffers
 * (returning NULL or -1 when the result does not fit) or into a
 * struct mlfi_hdrs whose strings they own.
 */
#ifndef MLFI_UTIL_H
#define MLFI_UTIL_H

/* System headers. */
#include <stddef.h>
#include <stdint.h>

/* Local headers. */
#include "sesgate.h"
#include "decide.h"

/* Bounds. */
#define MLFI_HDR_NAME_MAX   128         /* longest header name kept */
#define MLFI_HDR_VALUE_MAX  (64 * 1024) /* longest value kept (SG_HDR_MAX) */
#define MLFI_HDRS_TOTAL_MAX (1024 * 1024) /* all kept values of a message */

/* The headers the milter keeps. */
enum mlfi_hdr_kind {
    MLFI_HDR_OTHER = 0,
    MLFI_HDR_FROM,
    MLFI_HDR_SENDER,
    MLFI_HDR_RETURN_PATH,
    MLFI_HDR_CONFIG_SET,
    MLFI_HDR_TAGS
};

/* The SES headers that name delegated identities (R8), in the order
 * the milter adds them. */
enum mlfi_arn_hdr {
    MLFI_ARN_SOURCE = 0,        /* X-SES-SOURCE-ARN */
    MLFI_ARN_FROM,              /* X-SES-FROM-ARN */
    MLFI_ARN_RETURN_PATH,       /* X-SES-RETURN-PATH-ARN */
    MLFI_ARN_N
};

/*
 * mlfi_arn_hdr_index - which X-SES-*-ARN header a name is
 *   (case-insensitive)
 *
 * Returns: an enum mlfi_arn_hdr, or -1 for every other header.
 */
extern int mlfi_arn_hdr_index(const char *name);

/* mlfi_arn_hdr_name - the canonical name of an index, NULL out of range */
extern const char *mlfi_arn_hdr_name(int idx);

/*
 * Collected headers of one message. Zero-initialise it (or call
 * mlfi_hdrs_reset); strings are new copies owned by the struct, NULL
 * when the header was absent.
 */
struct mlfi_hdrs {
    char *from;
    char *sender;
    char *return_path;
    char *config_set;
    char *tags;
    uint64_t seen;              /* single-instance headers seen, by
                                 * sg_hdr_single_index */
    char dup[MLFI_HDR_NAME_MAX + 1]; /* first single-instance header
                                 * seen twice, "" if none */
    unsigned int arn[MLFI_ARN_N]; /* client-supplied X-SES-*-ARN
                                 * instances, by enum mlfi_arn_hdr */
    size_t kept;                /* bytes of values kept */
    int toobig;                 /* a kept value was cut short */
};

/*
 * mlfi_hdr_kind - which kept header a name is (case-insensitive)
 *
 * Returns: the kind, MLFI_HDR_OTHER for every other header.
 */
extern enum mlfi_hdr_kind mlfi_hdr_kind(const char *name);

/*
 * mlfi_hdrs_add - note one header of a message
 *
 * Parameters: h; name and value as libmilter gives them (value may be
 *   folded with "\n" or "\r\n" and white space).
 * Returns: SG_OK, or SG_ERR_NOMEM (h stays consistent). A value longer
 *   than MLFI_HDR_VALUE_MAX, or one that would take the message's kept
 *   bytes over MLFI_HDRS_TOTAL_MAX, sets h->toobig and is not kept.
 */
extern SG_STATUS mlfi_hdrs_add(struct mlfi_hdrs *h, const char *name,
                               const char *value);

/* mlfi_hdrs_reset - free the kept values and zero the struct */
extern void mlfi_hdrs_reset(struct mlfi_hdrs *h);

/*
 * mlfi_hdrs_check - the collected headers through the milter's own
 *   bound (a kept value too large: 552 5.3.4) and decide.c's R11 header
 *   stages (sg_decide_header_repeat, sg_decide_tags)
 *
 * Parameters: h; v, filled in: accept, or the refusal.
 */
extern void mlfi_hdrs_check(const struct mlfi_hdrs *h, struct sg_verdict *v);

/* The tag syntax lives in decide.c; this name is kept for
 * tests/fuzz/fuzz_milter_util.c. */
#define mlfi_tags_check sg_tags_check

/*
 * mlfi_esmtp_size - the SIZE= argument of MAIL FROM
 *
 * Parameters: args, libmilter's argv after the address (NULL-terminated,
 *   may be NULL).
 * Returns: the declared size in bytes, or -1 when absent or not a
 *   number (RFC 1870: 1 to 20 digits; values over LLONG_MAX/2 count as
 *   LLONG_MAX/2).
 */
extern long long mlfi_esmtp_size(char *const *args);

/*
 * mlfi_default_config_set_buf - the configuration set to add for a
 *   region when the client gave none
 *
 * Parameters: spec, milter_default_config_set: empty (none), one NAME
 *   for every region, or "REGION:NAME" entries separated by commas or
 *   white space ("*:NAME" for the rest); region; buf/size: caller
 *   buffer.
 * Returns: buf with the name, or NULL when none applies (or it does not
 *   fit).
 */
extern char *mlfi_default_config_set_buf(const char *spec,
                                         const char *region, char *buf,
                                         size_t size);

/*
 * mlfi_reply_text_buf - a verdict text made safe for smfi_setreply:
 *   '%' doubled (libmilter uses the text as a format), control
 *   characters and non-ASCII bytes replaced by '?'
 *
 * Returns: buf, or NULL when it does not fit.
 */
extern char *mlfi_reply_text_buf(const char *text, char *buf, size_t size);

/* The facts of one refusal log line. Plain struct, NULL fields allowed. */
struct mlfi_logrec {
    const char *queue_id;       /* macro i, NULL: "NOQUEUE" */
    const char *stage;          /* "MAIL", "RCPT", "END-OF-HEADERS",
                                 * "END-OF-MESSAGE" */
    const char *host;           /* client name */
    const char *addr;           /* client address */
    const char *from;           /* envelope sender (without <>) */
    const char *to;             /* recipient or NULL */
    const char *region;
    const char *action;         /* "reject", "defer" */
};

/*
 * mlfi_log_line_buf - a refusal as Postfix logs one:
 *   "QID: reject: RCPT from host[addr]: 554 5.7.1 TEXT; from=<a>
 *   to=<b> region=R rule=R2"
 *
 * Control characters of any field are replaced by '?' so that no
 * input can forge a line. Long texts are cut.
 * Returns: buf (always NUL-terminated; size must be > 0).
 */
extern char *mlfi_log_line_buf(const struct mlfi_logrec *r,
                               const struct sg_verdict *v, char *buf,
                               size_t size);

/*
 * mlfi_path_bare_buf - an envelope path without its angle brackets and
 *   surrounding white space ("<a@b>" -> "a@b", "<>" -> "")
 *
 * Returns: buf, or NULL when it does not fit.
 */
extern char *mlfi_path_bare_buf(const char *path, char *buf, size_t size);

/*
 * mlfi_verdict_list_add - append ", IDENT" to the identity list that
 *   ends a refusal's text (SES's "... failed the check in region R: a,
 *   b"), or "..." once when it no longer fits, as SES cuts its list
 */
extern void mlfi_verdict_list_add(struct sg_verdict *v, const char *ident);

#endif /* MLFI_UTIL_H */
