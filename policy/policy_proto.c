/*
 * policy_proto.c - the Postfix policy delegation protocol, pure codec
 *
 * See policy_proto.h. No I/O, no globals, no allocation: the daemon's
 * loop (policy_loop.c) owns the buffers, and the fuzz harness drives
 * these functions directly.
 */

/* Configuration (feature macros first). */
#include "config.h"

/* System headers. */
#include <stdio.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "policy_proto.h"

/* sg_policy_scan_init - prepare for a new request */
void
sg_policy_scan_init(struct sg_policy_scan *sc)
{
    sc->pos = 0;
    sc->line_start = 0;
    sc->nattrs = 0;
    sc->nul_ok = 0;
}

/*
 * scan_ret - the result res, unless a NUL lies in the bytes examined
 *   since the last look (up to end): then SG_POLICY_ENUL, as if each
 *   line had been looked at on its own (one memchr a call, not a line)
 */
static SG_POLICY_SCAN_RES
scan_ret(struct sg_policy_scan *sc, const char *buf, size_t end,
         SG_POLICY_SCAN_RES res)
{
    if (end > sc->nul_ok) {
        if (memchr(buf + sc->nul_ok, '\0', end - sc->nul_ok) != NULL)
            return SG_POLICY_ENUL;
        sc->nul_ok = end;
    }
    return res;
}

/* sg_policy_scan_feed - look for the end of a request */
SG_POLICY_SCAN_RES
sg_policy_scan_feed(struct sg_policy_scan *sc, const char *buf, size_t len,
                    size_t *reqlen)
{
    const char *nl;
    size_t avail;
    size_t linelen;
    size_t at;

    /* Never look at more than a request may hold: what lies beyond
     * SG_POLICY_REQ_MAX is refused unread. A NUL in a line is refused
     * before anything else about that line (scan_ret). */
    while (sc->pos < len) {
        avail = len - sc->pos;
        if (avail > SG_POLICY_REQ_MAX - sc->pos)
            avail = SG_POLICY_REQ_MAX - sc->pos;
        if (avail == 0)
            return scan_ret(sc, buf, sc->pos, SG_POLICY_EBIG);
        nl = memchr(buf + sc->pos, '\n', avail);
        if (nl == NULL) {
            sc->pos += avail;
            /* A CR may precede the LF: allow one byte for it. */
            if (sc->pos - sc->line_start > SG_POLICY_LINE_MAX + 1)
                return scan_ret(sc, buf, sc->pos, SG_POLICY_ELINE);
            if (sc->pos >= SG_POLICY_REQ_MAX)
                return scan_ret(sc, buf, sc->pos, SG_POLICY_EBIG);
            return scan_ret(sc, buf, sc->pos, SG_POLICY_MORE);
        }
        at = (size_t)(nl - buf);
        linelen = at - sc->line_start;
        if (linelen > 0 && buf[sc->line_start + linelen - 1] == '\r')
            linelen--;
        if (linelen > SG_POLICY_LINE_MAX)
            return scan_ret(sc, buf, at, SG_POLICY_ELINE);
        sc->pos = at + 1;
        sc->line_start = sc->pos;
        if (linelen == 0) {
            if (sc->nattrs == 0)
                continue;       /* stray empty line between requests */
            *reqlen = sc->pos;
            return scan_ret(sc, buf, at, SG_POLICY_DONE);
        }
        if (++sc->nattrs > SG_POLICY_ATTRS_MAX)
            return scan_ret(sc, buf, at, SG_POLICY_EATTRS);
    }
    if (sc->pos >= SG_POLICY_REQ_MAX)
        return scan_ret(sc, buf, sc->pos, SG_POLICY_EBIG);
    return scan_ret(sc, buf, sc->pos, SG_POLICY_MORE);
}

/* sg_policy_scan_strerror - text for a scanner result */
const char *
sg_policy_scan_strerror(SG_POLICY_SCAN_RES res)
{
    switch (res) {
    case SG_POLICY_MORE:
        return "incomplete request";
    case SG_POLICY_DONE:
        return "complete request";
    case SG_POLICY_ELINE:
        return "request line longer than 8192 bytes";
    case SG_POLICY_EBIG:
        return "request longer than 65536 bytes";
    case SG_POLICY_EATTRS:
        return "request with more than 200 attributes";
    case SG_POLICY_ENUL:
        return "NUL byte in request";
    }
    return "unknown scanner result";
}

/* The protocol_state names, indexed by SG_POLICY_PSTATE. */
static const char *const pstate_names[] = {
    "", "CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA",
    "END-OF-MESSAGE", "VRFY", "ETRN"
};

/* sg_policy_pstate_parse - protocol_state text to value */
SG_POLICY_PSTATE
sg_policy_pstate_parse(const char *s)
{
    size_t i;

    if (s == NULL || *s == '\0')
        return SG_PSTATE_NONE;
    /* Older Postfix reported BDAT as such; 3.4+ says DATA. */
    if (strcmp(s, "BDAT") == 0)
        return SG_PSTATE_DATA;
    for (i = 1; i < sizeof(pstate_names) / sizeof(pstate_names[0]); i++)
        if (strcmp(s, pstate_names[i]) == 0)
            return (SG_POLICY_PSTATE)i;
    return SG_PSTATE_NONE;
}

/* sg_policy_pstate_name - "RCPT", "END-OF-MESSAGE", ... */
const char *
sg_policy_pstate_name(SG_POLICY_PSTATE st)
{
    if ((size_t)st >= sizeof(pstate_names) / sizeof(pstate_names[0]))
        return "";
    return pstate_names[st];
}

/* parse_count - a decimal count; -1 when empty, malformed or huge */
static long long
parse_count(const char *s)
{
    long long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        /* 10^17 bytes or recipients is nonsense: refuse, do not wrap. */
        if (v > 99999999999999999LL)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* NAME_IS - the attribute name of length len is the literal lit */
#define NAME_IS(lit) (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)

/* set_attr - store one attribute the daemon uses; ignore the rest
 *   (name is len bytes, NUL-terminated; Postfix sends about thirty
 *   attributes a request, most of which this switch passes over after
 *   one length comparison) */
static void
set_attr(struct sg_policy_req *r, const char *name, size_t len,
         const char *value)
{
    /* Duplicates: each assignment overwrites, so the last one wins. */
    switch (len) {
    case 4:
        if (NAME_IS("size"))
            r->size = parse_count(value);
        break;
    case 6:
        if (NAME_IS("sender"))
            r->sender = value;
        break;
    case 7:
        if (NAME_IS("request"))
            r->request = value;
        break;
    case 8:
        if (NAME_IS("instance"))
            r->instance = value;
        else if (NAME_IS("queue_id"))
            r->queue_id = value;
        break;
    case 9:
        if (NAME_IS("recipient"))
            r->recipient = value;
        else if (NAME_IS("helo_name"))
            r->helo_name = value;
        break;
    case 11:
        if (NAME_IS("client_name"))
            r->client_name = value;
        else if (NAME_IS("sasl_method"))
            r->sasl_method = value;
        else if (NAME_IS("sasl_sender"))
            r->sasl_sender = value;
        break;
    case 13:
        if (NAME_IS("sasl_username"))
            r->sasl_username = value;
        else if (NAME_IS("protocol_name"))
            r->protocol_name = value;
        break;
    case 14:
        if (NAME_IS("protocol_state")) {
            r->protocol_state = value;
            r->pstate = sg_policy_pstate_parse(value);
        } else if (NAME_IS("client_address")) {
            r->client_address = value;
        } else if (NAME_IS("policy_context")) {
            r->policy_context = value;
        }
        break;
    case 15:
        if (NAME_IS("recipient_count"))
            r->recipient_count = parse_count(value);
        break;
    case 19:
        if (NAME_IS("reverse_client_name"))
            r->reverse_client_name = value;
        break;
    default:
        break;
    }
}

#undef NAME_IS

/* sg_policy_parse - split a complete request into attributes, in place */
SG_STATUS
sg_policy_parse(char *buf, size_t len, struct sg_policy_req *out)
{
    char *p = buf;
    char *end = buf + len;
    char *nl;
    char *e;
    char *eq;

    out->request = out->protocol_state = out->protocol_name = "";
    out->helo_name = out->queue_id = out->sender = out->recipient = "";
    out->client_address = out->client_name = "";
    out->reverse_client_name = out->instance = "";
    out->sasl_method = out->sasl_username = out->sasl_sender = "";
    out->policy_context = "";
    out->pstate = SG_PSTATE_NONE;
    out->recipient_count = -1;
    out->size = -1;
    out->nattrs = 0;
    if (len > SG_POLICY_REQ_MAX)
        return SG_ERR_TOOBIG;
    /* Names and values have no NUL: one look for the whole request. */
    if (memchr(buf, '\0', len) != NULL)
        return SG_ERR_SYNTAX;

    while (p < end) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return SG_ERR_SYNTAX;       /* not terminated */
        e = nl;
        if (e > p && e[-1] == '\r')
            e--;
        if ((size_t)(e - p) > SG_POLICY_LINE_MAX)
            return SG_ERR_TOOBIG;
        *e = '\0';
        if (e == p) {
            if (out->nattrs == 0) {
                p = nl + 1;             /* leading empty line */
                continue;
            }
            return SG_OK;               /* the request's end */
        }
        if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL || eq == p)
            return SG_ERR_SYNTAX;
        if (++out->nattrs > SG_POLICY_ATTRS_MAX)
            return SG_ERR_TOOBIG;
        *eq = '\0';
        set_attr(out, p, (size_t)(eq - p), eq + 1);
        p = nl + 1;
    }
    return SG_ERR_SYNTAX;               /* no final empty line */
}

/* put_safe - copy text, control and non-ASCII bytes as '?' */
static size_t
put_safe(char *dst, size_t room, const char *src)
{
    size_t n = 0;
    unsigned char c;

    for (; *src != '\0' && n < room; src++, n++) {
        c = (unsigned char)*src;
        dst[n] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    return *src == '\0' ? n : (size_t)-1;
}

/* sg_policy_action_buf - "action=WORD[ TEXT]\n\n" */
size_t
sg_policy_action_buf(const char *word, const char *text, char *buf,
                     size_t size)
{
    static const char head[] = "action=";
    size_t n = 0;
    size_t k;

    if (size == 0)
        return 0;
    buf[0] = '\0';
    k = strlen(word);
    if (sizeof(head) - 1 + k + 3 > size)
        return 0;
    memcpy(buf, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    memcpy(buf + n, word, k);
    n += k;
    if (text != NULL && *text != '\0') {
        buf[n++] = ' ';
        /* Leave room for "\n\n" and the NUL. */
        if (n + 3 > size
            || (k = put_safe(buf + n, size - n - 3, text)) == (size_t)-1) {
            buf[0] = '\0';
            return 0;
        }
        n += k;
    }
    buf[n++] = '\n';
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

/* sg_policy_reply_buf - the reply for a verdict */
size_t
sg_policy_reply_buf(const struct sg_verdict *v, char *buf, size_t size)
{
    char code[32];
    char text[SG_VERDICT_TEXT_MAX + 16];
    size_t k;

    if (v->action == SG_ACCEPT)
        return sg_policy_action_buf("DUNNO", NULL, buf, size);
    /* A refusal must carry a 4xx/5xx code that matches its action, or
     * Postfix would read it as something else ("2xx" is not a refusal
     * and an all-numeric value means OK). */
    if (v->action == SG_DEFER && (v->code < 400 || v->code > 499))
        snprintf(code, sizeof(code), "451");
    else if (v->action == SG_REJECT && (v->code < 500 || v->code > 599))
        snprintf(code, sizeof(code), "554");
    else
        snprintf(code, sizeof(code), "%d", v->code);
    k = 0;
    if (v->enhanced[0] != '\0') {
        k = put_safe(text, sizeof(text) - 2, v->enhanced);
        if (k == (size_t)-1)
            k = 0;
        else
            text[k++] = ' ';
    }
    if (put_safe(text + k, sizeof(text) - k - 1, v->text) == (size_t)-1) {
        buf[0] = size > 0 ? '\0' : buf[0];
        return 0;
    }
    text[k + strnlen(v->text, sizeof(v->text))] = '\0';
    /* A refusal without any text still needs one (Postfix would add
     * its own default). */
    if (text[0] == '\0')
        snprintf(text, sizeof(text), "%s", v->action == SG_DEFER
                 ? "4.7.0 sesgate: try again later"
                 : "5.7.1 sesgate: refused");
    /* Trailing space after an enhanced code with no text. */
    k = strlen(text);
    while (k > 0 && text[k - 1] == ' ')
        text[--k] = '\0';
    return sg_policy_action_buf(code, text, buf, size);
}
