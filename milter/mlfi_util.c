/*
 * mlfi_util.c - pure helpers of sesgate-milter (see mlfi_util.h)
 */

/* System headers. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Local headers. */
#include "sesgate.h"
#include "decide.h"
#include "mlfi_util.h"

/* mlfi_hdr_kind - which kept header a name is */
enum mlfi_hdr_kind
mlfi_hdr_kind(const char *name)
{
    if (name == NULL)
        return MLFI_HDR_OTHER;
    if (strcasecmp(name, "From") == 0)
        return MLFI_HDR_FROM;
    if (strcasecmp(name, "Sender") == 0)
        return MLFI_HDR_SENDER;
    if (strcasecmp(name, "Return-Path") == 0)
        return MLFI_HDR_RETURN_PATH;
    if (strcasecmp(name, "X-SES-CONFIGURATION-SET") == 0)
        return MLFI_HDR_CONFIG_SET;
    if (strcasecmp(name, "X-SES-MESSAGE-TAGS") == 0)
        return MLFI_HDR_TAGS;
    return MLFI_HDR_OTHER;
}

/* The X-SES-*-ARN headers, by enum mlfi_arn_hdr. */
static const char *const arn_headers[MLFI_ARN_N] = {
    "X-SES-SOURCE-ARN", "X-SES-FROM-ARN", "X-SES-RETURN-PATH-ARN"
};

/* mlfi_arn_hdr_index - which X-SES-*-ARN header a name is */
int
mlfi_arn_hdr_index(const char *name)
{
    int i;

    if (name == NULL)
        return -1;
    for (i = 0; i < MLFI_ARN_N; i++)
        if (strcasecmp(name, arn_headers[i]) == 0)
            return i;
    return -1;
}

/* mlfi_arn_hdr_name - the canonical name of an index */
const char *
mlfi_arn_hdr_name(int idx)
{
    return idx >= 0 && idx < MLFI_ARN_N ? arn_headers[idx] : NULL;
}

/* copy_name - a header name for messages, controls replaced, bounded */
static void
copy_name(char *dst, size_t size, const char *name)
{
    size_t i;

    for (i = 0; i + 1 < size && name[i] != '\0'; i++)
        dst[i] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
    dst[i] = '\0';
}

/* mlfi_hdrs_add - note one header of a message */
SG_STATUS
mlfi_hdrs_add(struct mlfi_hdrs *h, const char *name, const char *value)
{
    enum mlfi_hdr_kind kind;
    char **slot = NULL;
    size_t len;
    int idx;

    if (name == NULL)
        return SG_OK;
    if (value == NULL)
        value = "";
    if ((idx = mlfi_arn_hdr_index(name)) >= 0 && h->arn[idx] < UINT_MAX)
        h->arn[idx]++;
    idx = sg_hdr_single_index(name);
    if (idx >= 0) {
        if ((h->seen & ((uint64_t)1 << idx)) != 0 && h->dup[0] == '\0')
            copy_name(h->dup, sizeof(h->dup), sg_hdr_single_name(idx));
        h->seen |= (uint64_t)1 << idx;
    }
    kind = mlfi_hdr_kind(name);
    switch (kind) {
    case MLFI_HDR_FROM:
        slot = &h->from;
        break;
    case MLFI_HDR_SENDER:
        slot = &h->sender;
        break;
    case MLFI_HDR_RETURN_PATH:
        slot = &h->return_path;
        break;
    case MLFI_HDR_CONFIG_SET:
        slot = &h->config_set;
        break;
    case MLFI_HDR_TAGS:
        slot = &h->tags;
        break;
    default:
        return SG_OK;
    }
    /* The first instance is the one checked; a second one is refused as
     * a duplicate anyway. */
    if (*slot != NULL)
        return SG_OK;
    len = strnlen(value, MLFI_HDR_VALUE_MAX + 1);
    if (len > MLFI_HDR_VALUE_MAX || h->kept + len > MLFI_HDRS_TOTAL_MAX) {
        h->toobig = 1;
        return SG_OK;
    }
    if ((*slot = malloc(len + 1)) == NULL)
        return SG_ERR_NOMEM;
    memcpy(*slot, value, len);
    (*slot)[len] = '\0';
    h->kept += len;
    return SG_OK;
}

/* mlfi_hdrs_reset - free the kept values and zero the struct */
void
mlfi_hdrs_reset(struct mlfi_hdrs *h)
{
    if (h == NULL)
        return;
    free(h->from);
    free(h->sender);
    free(h->return_path);
    free(h->config_set);
    free(h->tags);
    memset(h, 0, sizeof(*h));
}

/* mlfi_hdrs_check - the milter's bound, then the R11 header stages */
void
mlfi_hdrs_check(const struct mlfi_hdrs *h, struct sg_verdict *v)
{
    sg_verdict_accept(v);
    if (h->toobig) {
        /* The milter's own bound on what it keeps, not an SES rule: a
         * value it cannot keep cannot be checked. */
        sg_verdict_set(v, SG_REJECT, 552, "5.3.4", "R4",
                       "Message rejected: a From, Sender, Return-Path or "
                       "X-SES header is longer than %d bytes",
                       MLFI_HDR_VALUE_MAX);
        snprintf(v->why, sizeof(v->why), "R4: header value over %d bytes",
                 MLFI_HDR_VALUE_MAX);
        return;
    }
    if (h->dup[0] != '\0') {
        sg_decide_header_repeat(h->dup, v);
        if (v->action != SG_ACCEPT)
            return;
    }
    sg_decide_tags(h->tags, v);
}

/* mlfi_esmtp_size - the SIZE= argument of MAIL FROM */
long long
mlfi_esmtp_size(char *const *args)
{
    const char *p;
    long long n;
    int digits;

    if (args == NULL)
        return -1;
    for (; *args != NULL; args++) {
        if (strncasecmp(*args, "SIZE=", 5) != 0)
            continue;
        p = *args + 5;
        n = 0;
        for (digits = 0; *p >= '0' && *p <= '9'; p++, digits++)
            if (n < LLONG_MAX / 20)
                n = n * 10 + (*p - '0');
            else
                n = LLONG_MAX / 2;
        if (*p != '\0' || digits == 0 || digits > 20)
            return -1;
        return n;
    }
    return -1;
}

/* mlfi_default_config_set_buf - the default set of a region */
char *
mlfi_default_config_set_buf(const char *spec, const char *region,
                            char *buf, size_t size)
{
    const char *p = spec, *tok, *colon;
    size_t len, rlen;
    const char *found = NULL, *star = NULL;
    size_t found_len = 0, star_len = 0;

    if (spec == NULL || region == NULL || size == 0)
        return NULL;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        tok = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        len = (size_t)(p - tok);
        colon = memchr(tok, ':', len);
        if (colon == NULL) {
            /* One name for every region. */
            if (star == NULL) {
                star = tok;
                star_len = len;
            }
            continue;
        }
        rlen = (size_t)(colon - tok);
        if (rlen == 1 && tok[0] == '*') {
            if (star == NULL) {
                star = colon + 1;
                star_len = len - rlen - 1;
            }
        } else if (rlen == strlen(region)
                   && strncasecmp(tok, region, rlen) == 0 && found == NULL) {
            found = colon + 1;
            found_len = len - rlen - 1;
        }
    }
    if (found == NULL) {
        found = star;
        found_len = star_len;
    }
    if (found == NULL || found_len == 0 || found_len >= size)
        return NULL;
    memcpy(buf, found, found_len);
    buf[found_len] = '\0';
    return buf;
}

/* mlfi_reply_text_buf - a text made safe for smfi_setreply */
char *
mlfi_reply_text_buf(const char *text, char *buf, size_t size)
{
    size_t o = 0;
    unsigned char c;

    if (size == 0)
        return NULL;
    for (; *text != '\0'; text++) {
        c = (unsigned char)*text;
        if (c == '%') {
            if (o + 2 >= size)
                return NULL;
            buf[o++] = '%';
            buf[o++] = '%';
            continue;
        }
        if (o + 1 >= size)
            return NULL;
        buf[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* put - append text with controls replaced, bounded; returns new offset */
static size_t
put(char *buf, size_t size, size_t o, const char *s, size_t max)
{
    size_t n = 0;
    unsigned char c;

    for (; *s != '\0' && n < max && o + 1 < size; s++, n++) {
        c = (unsigned char)*s;
        buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[o] = '\0';
    return o;
}

/* mlfi_log_line_buf - a refusal as Postfix logs one */
char *
mlfi_log_line_buf(const struct mlfi_logrec *r, const struct sg_verdict *v,
                  char *buf, size_t size)
{
    char code[32];
    size_t o = 0;

    buf[0] = '\0';
    o = put(buf, size, o, r->queue_id != NULL && r->queue_id[0] != '\0'
            ? r->queue_id : "NOQUEUE", 32);
    o = put(buf, size, o, ": ", 2);
    o = put(buf, size, o, r->action != NULL ? r->action : "reject", 16);
    o = put(buf, size, o, ": ", 2);
    o = put(buf, size, o, r->stage != NULL ? r->stage : "?", 32);
    o = put(buf, size, o, " from ", 6);
    o = put(buf, size, o, r->host != NULL && r->host[0] != '\0' ? r->host
            : "unknown", 255);
    o = put(buf, size, o, "[", 1);
    o = put(buf, size, o, r->addr != NULL && r->addr[0] != '\0' ? r->addr
            : "unknown", 64);
    o = put(buf, size, o, "]: ", 3);
    snprintf(code, sizeof(code), "%d %s ", v->code, v->enhanced);
    o = put(buf, size, o, code, sizeof(code));
    o = put(buf, size, o, v->text, SG_VERDICT_TEXT_MAX);
    o = put(buf, size, o, "; from=<", 8);
    o = put(buf, size, o, r->from != NULL ? r->from : "", SG_ADDR_MAX);
    o = put(buf, size, o, ">", 1);
    if (r->to != NULL) {
        o = put(buf, size, o, " to=<", 5);
        o = put(buf, size, o, r->to, SG_ADDR_MAX);
        o = put(buf, size, o, ">", 1);
    }
    if (r->region != NULL && r->region[0] != '\0') {
        o = put(buf, size, o, " region=", 8);
        o = put(buf, size, o, r->region, SG_REGION_MAX);
    }
    o = put(buf, size, o, " rule=", 6);
    (void)put(buf, size, o, v->rule != NULL ? v->rule : "-", 16);
    return buf;
}

/* mlfi_path_bare_buf - an envelope path without angle brackets */
char *
mlfi_path_bare_buf(const char *path, char *buf, size_t size)
{
    const char *s = path, *e;
    size_t len;

    if (path == NULL || size == 0)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e > s && *s == '<') {
        s++;
        if (e > s && e[-1] == '>')
            e--;
    }
    len = (size_t)(e - s);
    if (len >= size)
        return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* mlfi_verdict_list_add - one more identity in a refusal's list */
void
mlfi_verdict_list_add(struct sg_verdict *v, const char *ident)
{
    size_t len = strlen(v->text), ilen = strlen(ident);

    if (len >= 3 && strcmp(v->text + len - 3, "...") == 0)
        return;
    if (len + 2 + ilen + 3 < sizeof(v->text))
        snprintf(v->text + len, sizeof(v->text) - len, ", %s", ident);
    else if (len + 3 < sizeof(v->text))
        snprintf(v->text + len, sizeof(v->text) - len, "...");
}
