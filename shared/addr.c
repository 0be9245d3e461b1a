/*
 * addr.c - RFC 5321 envelope paths and RFC 5322 address headers
 *
 * One hand-written scanner serves both grammars. A struct scan is a
 * cursor over a bounded byte range; its hdr flag selects the RFC 5322
 * rules (comments and folding white space allowed between tokens,
 * obsolete forms tolerated) or the stricter RFC 5321 rules (no white
 * space inside a path). Nothing is allocated: the parsers write into the
 * caller's struct sg_addr and use small fixed buffers on the stack
 * (about 2 KB at most), so they are safe to call from milter threads.
 *
 * Every loop advances the cursor or returns, so the work is linear in
 * the input, which the public functions bound (SG_HDR_MAX).
 *
 * Domains are converted to ASCII here (RFC 3492 Punycode, written from
 * the RFC's description). There are no Unicode tables: non-ASCII
 * letters are not case-folded or normalised (NFC), and the IDNA label
 * separators other than "." (U+3002 and friends) are not recognised.
 * SES compares identities on the ASCII form, so callers see exactly
 * what SES will see for any domain written in lower case.
 */

#include "config.h"

/* System headers. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Local headers. */
#include "sesgate.h"
#include "addr.h"

/* DNS limits (RFC 1035): one label, a name in presentation form. */
#define LABEL_MAX       63
#define DOMAIN_MAX      253

/*
 * A domain as written (UTF-8, perhaps with comments removed) before its
 * conversion to ASCII. UTF-8 needs up to 4 bytes for a code point that
 * Punycode may write in 1-2, so this is larger than SG_ADDR_MAX.
 */
#define RAW_DOMAIN_MAX  1024

/* Punycode parameters (RFC 3492 section 5). */
#define PC_BASE         36
#define PC_TMIN         1
#define PC_TMAX         26
#define PC_SKEW         38
#define PC_DAMP         700
#define PC_INITIAL_BIAS 72
#define PC_INITIAL_N    0x80

/* A cursor over the input; hdr selects RFC 5322 (CFWS allowed). */
struct scan {
    const unsigned char *p;
    const unsigned char *end;
    int hdr;
};

/* What one element of an address list turned out to be. */
enum item_kind {
    ITEM_MAILBOX,               /* an address was written to *a */
    ITEM_NULL,                  /* "<>": no address */
    ITEM_GROUP                  /* "name:" opened a group */
};

/* is_alpha - ASCII letter (no locale) */
static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* is_digit - ASCII digit (no locale) */
static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* is_atext - RFC 5322 atext: letters, digits and the allowed specials */
static int
is_atext(int c)
{
    return is_alpha(c) || is_digit(c)
        || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* is_wsp - white space, including the CR and LF of folding */
static int
is_wsp(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_ldh - a domain label character: letter, digit, hyphen, underscore */
static int
is_ldh(int c)
{
    /* Underscore is not LDH, but it exists in real DNS names. */
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* is_label_char - a label byte as the scanner sees it (UTF-8 allowed) */
static int
is_label_char(int c)
{
    return is_ldh(c) || c >= 0x80;
}

/* to_lower - ASCII lower case (no locale) */
static int
to_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* buf_put - append one byte, keeping room for the NUL; 0 or -1 */
static int
buf_put(char *buf, size_t *len, size_t size, int c)
{
    if (*len + 1 >= size)
        return -1;
    buf[(*len)++] = (char) c;
    buf[*len] = '\0';
    return 0;
}

/*
 * utf8_next - decode one UTF-8 sequence
 *
 * Returns the number of bytes used, or 0 for a malformed, overlong or
 * truncated sequence, a surrogate or a value above U+10FFFF.
 */
static size_t
utf8_next(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    uint32_t c = p[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t) (end - p) < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* puny_digit - the Punycode digit for a value 0..35 */
static int
puny_digit(uint32_t d)
{
    return d < 26 ? (int) ('a' + d) : (int) ('0' + (d - 26));
}

/* puny_adapt - the bias adaptation function (RFC 3492 section 6.1) */
static uint32_t
puny_adapt(uint32_t delta, uint32_t numpoints, int first)
{
    uint32_t k = 0;

    delta = first ? delta / PC_DAMP : delta / 2;
    delta += delta / numpoints;
    while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

/*
 * puny_encode - Punycode-encode code points (RFC 3492 section 6.3)
 *
 * Writes at most cap bytes (no NUL) to out and the length to *olen.
 * Returns 0, or -1 when the output does not fit or a counter would
 * overflow (both impossible for a label that fits, but checked).
 */
static int
puny_encode(const uint32_t *cp, size_t ncp, char *out, size_t cap,
            size_t *olen)
{
    uint32_t n = PC_INITIAL_N, delta = 0, bias = PC_INITIAL_BIAS;
    uint32_t h, b, m, q, k, t;
    size_t o = 0, j;

    /* The basic code points first, in order, then a delimiter. */
    for (j = 0; j < ncp; j++) {
        if (cp[j] < 0x80) {
            if (o >= cap)
                return -1;
            out[o++] = (char) cp[j];
        }
    }
    h = b = (uint32_t) o;
    if (b > 0) {
        if (o >= cap)
            return -1;
        out[o++] = '-';
    }
    while (h < ncp) {
        /* The smallest code point not yet handled. */
        m = UINT32_MAX;
        for (j = 0; j < ncp; j++)
            if (cp[j] >= n && cp[j] < m)
                m = cp[j];
        if (m - n > (UINT32_MAX - delta) / (h + 1))
            return -1;
        delta += (m - n) * (h + 1);
        n = m;
        for (j = 0; j < ncp; j++) {
            if (cp[j] < n && ++delta == 0)
                return -1;
            if (cp[j] != n)
                continue;
            /* Write delta as a generalised variable-length integer. */
            q = delta;
            for (k = PC_BASE;; k += PC_BASE) {
                if (k <= bias)
                    t = PC_TMIN;
                else if (k >= bias + PC_TMAX)
                    t = PC_TMAX;
                else
                    t = k - bias;
                if (q < t)
                    break;
                if (o >= cap)
                    return -1;
                out[o++] = (char) puny_digit(t + (q - t) % (PC_BASE - t));
                q = (q - t) / (PC_BASE - t);
            }
            if (o >= cap)
                return -1;
            out[o++] = (char) puny_digit(q);
            bias = puny_adapt(delta, h + 1, h == b);
            delta = 0;
            h++;
        }
        delta++;
        n++;
    }
    *olen = o;
    return 0;
}

/*
 * label_to_ascii - one label to lower-case ASCII, Punycode if needed
 *
 * out has room for LABEL_MAX bytes (no NUL written). A label longer
 * than LABEL_MAX in ASCII is a syntax error; a non-ASCII label that is
 * invalid UTF-8 or whose "xn--" form does not fit is SG_ADDR_EIDN.
 */
static SG_ADDR_ERR
label_to_ascii(const unsigned char *in, size_t len, char *out, size_t *olen)
{
    uint32_t cp[LABEL_MAX];
    size_t ncp = 0, i, k, plen;
    int ascii = 1;

    if (len == 0)
        return SG_ADDR_ESYNTAX;
    for (i = 0; i < len; i++)
        if (in[i] >= 0x80)
            ascii = 0;
    if (ascii) {
        if (len > LABEL_MAX)
            return SG_ADDR_ESYNTAX;
        for (i = 0; i < len; i++) {
            if (!is_ldh(in[i]))
                return SG_ADDR_ESYNTAX;
            out[i] = (char) to_lower(in[i]);
        }
        *olen = len;
        return SG_ADDR_OK;
    }

    /*
     * Every code point costs at least one output byte, so a label of
     * LABEL_MAX code points or more cannot fit behind "xn--".
     */
    for (i = 0; i < len; i += k) {
        if (ncp >= LABEL_MAX)
            return SG_ADDR_EIDN;
        if ((k = utf8_next(in + i, in + len, &cp[ncp])) == 0)
            return SG_ADDR_EIDN;
        if (cp[ncp] < 0x80) {
            if (!is_ldh((int) cp[ncp]))
                return SG_ADDR_ESYNTAX;
            cp[ncp] = (uint32_t) to_lower((int) cp[ncp]);
        }
        ncp++;
    }
    if (puny_encode(cp, ncp, out + 4, LABEL_MAX - 4, &plen) != 0)
        return SG_ADDR_EIDN;
    memcpy(out, "xn--", 4);
    *olen = plen + 4;
    return SG_ADDR_OK;
}

/*
 * domain_ascii - a whole domain to lower-case ASCII
 *
 * One trailing dot (the root) is dropped. Writes a NUL-terminated
 * string to buf. Returns SG_ADDR_OK, SG_ADDR_ESYNTAX (empty label, bad
 * character), SG_ADDR_EIDN or SG_ADDR_ETOOLONG (over DOMAIN_MAX or the
 * buffer).
 */
static SG_ADDR_ERR
domain_ascii(const unsigned char *in, size_t len, char *buf, size_t size)
{
    const unsigned char *p = in, *end, *dot;
    char label[LABEL_MAX];
    size_t o = 0, llen;
    SG_ADDR_ERR err;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return SG_ADDR_ESYNTAX;
    end = in + len;
    for (;;) {
        if ((dot = memchr(p, '.', (size_t) (end - p))) == NULL)
            dot = end;
        if ((err = label_to_ascii(p, (size_t) (dot - p), label, &llen))
            != SG_ADDR_OK)
            return err;
        /* The dot before this label, the label, the NUL. */
        if ((o > 0 ? o + 1 : 0) + llen > DOMAIN_MAX
            || (o > 0 ? o + 1 : 0) + llen + 1 > size)
            return SG_ADDR_ETOOLONG;
        if (o > 0)
            buf[o++] = '.';
        memcpy(buf + o, label, llen);
        o += llen;
        buf[o] = '\0';
        if (dot == end)
            break;
        p = dot + 1;
    }
    return SG_ADDR_OK;
}

/*
 * skip_cfws - skip comments and folding white space (header mode only)
 *
 * Comments nest and may hold quoted pairs; an unterminated comment or a
 * NUL in one is a syntax error. In path mode nothing is skipped.
 */
static SG_ADDR_ERR
skip_cfws(struct scan *s)
{
    long depth;
    int c;

    if (!s->hdr)
        return SG_ADDR_OK;
    while (s->p < s->end) {
        if (is_wsp(*s->p)) {
            s->p++;
            continue;
        }
        if (*s->p != '(')
            break;
        depth = 0;
        do {
            if (s->p >= s->end)
                return SG_ADDR_ESYNTAX;
            c = *s->p++;
            if (c == '\0')
                return SG_ADDR_ESYNTAX;
            if (c == '\\') {
                if (s->p >= s->end || *s->p == '\0')
                    return SG_ADDR_ESYNTAX;
                s->p++;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
        } while (depth > 0);
    }
    return SG_ADDR_OK;
}

/*
 * parse_quoted - a quoted string; its unescaped content is appended
 *
 * The cursor is on the opening quote. buf may be NULL (the content is
 * only skipped, for display names). In header mode CR and LF of folding
 * are dropped (the WSP after them is content); other control characters
 * are refused in both modes, so a normal form never holds one but HTAB.
 */
static SG_ADDR_ERR
parse_quoted(struct scan *s, char *buf, size_t *len, size_t size)
{
    int c;

    s->p++;
    for (;;) {
        if (s->p >= s->end)
            return SG_ADDR_ESYNTAX;
        c = *s->p++;
        if (c == '"')
            return SG_ADDR_OK;
        if (c == '\\') {
            if (s->p >= s->end)
                return SG_ADDR_ESYNTAX;
            c = *s->p++;
        } else if (s->hdr && (c == '\r' || c == '\n')) {
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return SG_ADDR_ESYNTAX;
        if (buf != NULL && buf_put(buf, len, size, c) != 0)
            return SG_ADDR_ETOOLONG;
    }
}

/*
 * parse_local - a local part: words (atoms or quoted strings) and dots
 *
 * RFC 5321 allows a dot-string or one quoted string; RFC 5322's
 * obs-local-part mixes them ("a"."b") with CFWS around the dots. Both
 * are read the same way: the unescaped content of the words, joined by
 * dots, goes to buf. Non-ASCII bytes are taken as atom characters so
 * that the caller can tell SG_ADDR_ENONASCII from a syntax error.
 */
static SG_ADDR_ERR
parse_local(struct scan *s, char *buf, size_t *len, size_t size)
{
    SG_ADDR_ERR err;

    for (;;) {
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p < s->end && *s->p == '"') {
            if ((err = parse_quoted(s, buf, len, size)) != SG_ADDR_OK)
                return err;
        } else if (s->p < s->end && (is_atext(*s->p) || *s->p >= 0x80)) {
            while (s->p < s->end && (is_atext(*s->p) || *s->p >= 0x80)) {
                if (buf_put(buf, len, size, *s->p++) != 0)
                    return SG_ADDR_ETOOLONG;
            }
        } else {
            return SG_ADDR_ESYNTAX;
        }
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p >= s->end || *s->p != '.')
            return SG_ADDR_OK;
        s->p++;
        if (buf_put(buf, len, size, '.') != 0)
            return SG_ADDR_ETOOLONG;
    }
}

/* is_dot_atom - whether text is atoms joined by single dots */
static int
is_dot_atom(const char *text, size_t len)
{
    size_t i;

    if (len == 0 || text[0] == '.' || text[len - 1] == '.')
        return 0;
    for (i = 0; i < len; i++) {
        if (text[i] == '.') {
            if (text[i + 1] == '.')
                return 0;
        } else if (!is_atext((unsigned char) text[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * normalize_local - the normal form of a local part's content
 *
 * A dot-atom is written bare; anything else is quoted, with a backslash
 * only before '"' and '\' (the minimal escaping).
 */
static SG_ADDR_ERR
normalize_local(const char *text, size_t len, char *out, size_t size)
{
    size_t i, o = 0;
    int c;

    for (i = 0; i < len; i++)
        if ((unsigned char) text[i] >= 0x80)
            return SG_ADDR_ENONASCII;
    if (is_dot_atom(text, len)) {
        if (len + 1 > size)
            return SG_ADDR_ETOOLONG;
        memcpy(out, text, len);
        out[len] = '\0';
        return SG_ADDR_OK;
    }
    if (buf_put(out, &o, size, '"') != 0)
        return SG_ADDR_ETOOLONG;
    for (i = 0; i < len; i++) {
        c = (unsigned char) text[i];
        if ((c == '"' || c == '\\') && buf_put(out, &o, size, '\\') != 0)
            return SG_ADDR_ETOOLONG;
        if (buf_put(out, &o, size, c) != 0)
            return SG_ADDR_ETOOLONG;
    }
    if (buf_put(out, &o, size, '"') != 0)
        return SG_ADDR_ETOOLONG;
    return SG_ADDR_OK;
}

/* ci_prefix - whether text starts with prefix, ASCII case-insensitive */
static int
ci_prefix(const char *text, const char *prefix)
{
    for (; *prefix != '\0'; text++, prefix++)
        if (to_lower((unsigned char) *text)
            != to_lower((unsigned char) *prefix))
            return 0;
    return 1;
}

/*
 * literal_ok - whether the inside of "[...]" is an address literal
 *
 * RFC 5321 section 4.1.3: an IPv4 dotted quad, "IPv6:" and an IPv6
 * address, or a General-address-literal "tag:content".
 */
static int
literal_ok(const char *body)
{
    unsigned char ip[16];
    const char *p;

    if (ci_prefix(body, "IPv6:"))
        return inet_pton(AF_INET6, body + 5, ip) == 1;
    if (is_digit((unsigned char) body[0]))
        return inet_pton(AF_INET, body, ip) == 1;
    for (p = body; is_alpha((unsigned char) *p)
         || is_digit((unsigned char) *p) || *p == '-'; p++)
        ;
    return p > body && p[-1] != '-' && *p == ':' && p[1] != '\0';
}

/*
 * parse_literal - an address literal, copied as written to out
 *
 * The cursor is on the '['. Only printable ASCII other than '[', ']'
 * and '\' may appear inside (dtext without white space).
 */
static SG_ADDR_ERR
parse_literal(struct scan *s, char *out, size_t size)
{
    char body[SG_ADDR_MAX + 1];
    const unsigned char *start = s->p, *q;
    size_t blen;
    int c;

    q = ++s->p;
    while (s->p < s->end && *s->p != ']') {
        c = *s->p;
        if (c < 33 || c > 126 || c == '[' || c == '\\')
            return SG_ADDR_ESYNTAX;
        s->p++;
    }
    if (s->p >= s->end)
        return SG_ADDR_ESYNTAX;
    blen = (size_t) (s->p - q);
    s->p++;
    if (blen == 0)
        return SG_ADDR_ESYNTAX;
    if (blen >= sizeof(body) || blen + 3 > size)
        return SG_ADDR_ETOOLONG;
    memcpy(body, q, blen);
    body[blen] = '\0';
    if (!literal_ok(body))
        return SG_ADDR_ESYNTAX;
    memcpy(out, start, blen + 2);
    out[blen + 2] = '\0';
    return SG_ADDR_OK;
}

/*
 * parse_domain - a domain or address literal, normal form to out
 *
 * Labels are read as written (UTF-8 allowed; in header mode CFWS may
 * surround the dots, RFC 5322 obs-domain), then converted by
 * domain_ascii(). A trailing dot is accepted and dropped.
 */
static SG_ADDR_ERR
parse_domain(struct scan *s, char *out, size_t size)
{
    char raw[RAW_DOMAIN_MAX];
    size_t rlen = 0;
    SG_ADDR_ERR err;

    if ((err = skip_cfws(s)) != SG_ADDR_OK)
        return err;
    if (s->p < s->end && *s->p == '[')
        return parse_literal(s, out, size);
    for (;;) {
        if (s->p >= s->end || !is_label_char(*s->p))
            return SG_ADDR_ESYNTAX;
        while (s->p < s->end && is_label_char(*s->p)) {
            if (buf_put(raw, &rlen, sizeof(raw), *s->p++) != 0)
                return SG_ADDR_ETOOLONG;
        }
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p >= s->end || *s->p != '.')
            break;
        s->p++;
        if (buf_put(raw, &rlen, sizeof(raw), '.') != 0)
            return SG_ADDR_ETOOLONG;
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p >= s->end || !is_label_char(*s->p))
            break;              /* a trailing dot */
    }
    return domain_ascii((const unsigned char *) raw, rlen, out, size);
}

/*
 * parse_addr_spec - local "@" domain, normal form to a->addr/local/domain
 *
 * a->display is not touched.
 */
static SG_ADDR_ERR
parse_addr_spec(struct scan *s, struct sg_addr *a)
{
    char content[SG_ADDR_MAX + 1];
    size_t clen = 0, llen, dlen;
    SG_ADDR_ERR err;

    content[0] = '\0';
    if ((err = parse_local(s, content, &clen, sizeof(content)))
        != SG_ADDR_OK)
        return err;
    if (s->p >= s->end || *s->p != '@')
        return SG_ADDR_ESYNTAX;     /* no domain: SES needs one */
    s->p++;
    if ((err = normalize_local(content, clen, a->local, sizeof(a->local)))
        != SG_ADDR_OK)
        return err;
    if ((err = parse_domain(s, a->domain, sizeof(a->domain))) != SG_ADDR_OK)
        return err;
    llen = strlen(a->local);
    dlen = strlen(a->domain);
    if (llen + 1 + dlen > SG_ADDR_MAX)
        return SG_ADDR_ETOOLONG;
    memcpy(a->addr, a->local, llen);
    a->addr[llen] = '@';
    memcpy(a->addr + llen + 1, a->domain, dlen + 1);
    return SG_ADDR_OK;
}

/*
 * skip_route - an obsolete source route "@r1,@r2:" (validated, dropped)
 *
 * The cursor is on the first '@' (or, in a header, ',').
 */
static SG_ADDR_ERR
skip_route(struct scan *s)
{
    char scratch[SG_ADDR_MAX + 1];
    SG_ADDR_ERR err;

    for (;;) {
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p < s->end && *s->p == ',') {
            s->p++;
        } else if (s->p < s->end && *s->p == '@') {
            s->p++;
            if ((err = parse_domain(s, scratch, sizeof(scratch)))
                != SG_ADDR_OK)
                return err;
        } else {
            break;
        }
    }
    if (s->p >= s->end || *s->p != ':')
        return SG_ADDR_ESYNTAX;
    s->p++;
    return SG_ADDR_OK;
}

/* clear_addr - an empty result (null path) */
static void
clear_addr(struct sg_addr *a)
{
    a->addr[0] = '\0';
    a->local[0] = '\0';
    a->domain[0] = '\0';
    a->display[0] = '\0';
}

/*
 * parse_angle - "<" [route] addr-spec ">" or "<>"
 *
 * The cursor is on the '<'. *is_null is set for "<>".
 */
static SG_ADDR_ERR
parse_angle(struct scan *s, struct sg_addr *a, int *is_null)
{
    SG_ADDR_ERR err;

    *is_null = 0;
    s->p++;
    if ((err = skip_cfws(s)) != SG_ADDR_OK)
        return err;
    if (s->p < s->end && *s->p == '>') {
        s->p++;
        *is_null = 1;
        return SG_ADDR_OK;
    }
    if (s->p < s->end && (*s->p == '@' || *s->p == ',')
        && (err = skip_route(s)) != SG_ADDR_OK)
        return err;
    if ((err = parse_addr_spec(s, a)) != SG_ADDR_OK)
        return err;
    if ((err = skip_cfws(s)) != SG_ADDR_OK)
        return err;
    if (s->p >= s->end || *s->p != '>')
        return SG_ADDR_ESYNTAX;
    s->p++;
    return SG_ADDR_OK;
}

/*
 * utf8_cut - where to cut a UTF-8 string of len bytes without
 * splitting a sequence (bytes that are not UTF-8 are left alone)
 */
static size_t
utf8_cut(const char *text, size_t len)
{
    size_t i = len, cont = 0, want;
    unsigned char lead;

    while (i > 0 && cont < 3
           && ((unsigned char) text[i - 1] & 0xC0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0)
        return len;
    lead = (unsigned char) text[i - 1];
    if (lead >= 0xF0 && lead <= 0xF4)
        want = 3;
    else if (lead >= 0xE0)
        want = lead <= 0xEF ? 2 : 0;
    else if (lead >= 0xC2)
        want = 1;
    else
        want = 0;
    return (want > cont) ? i - 1 : len;
}

/*
 * copy_display - a display name as written into dst
 *
 * Runs of white space that hold a line break (folding) become a single
 * space; other text is copied unchanged. Cut silently at
 * SG_DISPLAY_MAX, on a UTF-8 character boundary.
 */
static void
copy_display(char *dst, const unsigned char *first,
             const unsigned char *last)
{
    const unsigned char *p = first, *q;
    size_t o = 0;
    int fold, full = 0;

    while (p < last && !full) {
        if (!is_wsp(*p)) {
            full = buf_put(dst, &o, SG_DISPLAY_MAX + 1, *p++) != 0;
            continue;
        }
        for (q = p, fold = 0; q < last && is_wsp(*q); q++)
            if (*q == '\r' || *q == '\n')
                fold = 1;
        if (fold) {
            full = buf_put(dst, &o, SG_DISPLAY_MAX + 1, ' ') != 0;
        } else {
            while (p < q && !full)
                full = buf_put(dst, &o, SG_DISPLAY_MAX + 1, *p++) != 0;
        }
        p = q;
    }
    if (full)
        o = utf8_cut(dst, o);
    dst[o] = '\0';
}

/*
 * parse_item - one element of an address list
 *
 * The cursor is on a non-CFWS byte that is not a list separator. A
 * phrase is scanned first; what follows it decides: '<' makes it a
 * display name, ':' a group name, anything else means the phrase was
 * the start of a bare addr-spec, which is then parsed from the start.
 */
static SG_ADDR_ERR
parse_item(struct scan *s, struct sg_addr *a, int in_group,
           enum item_kind *kind)
{
    const unsigned char *start = s->p, *first = NULL, *last = NULL, *w;
    SG_ADDR_ERR err;
    int is_null;

    *kind = ITEM_MAILBOX;
    for (;;) {
        if ((err = skip_cfws(s)) != SG_ADDR_OK)
            return err;
        if (s->p >= s->end)
            break;
        w = s->p;
        if (*s->p == '"') {
            if ((err = parse_quoted(s, NULL, NULL, 0)) != SG_ADDR_OK)
                return err;
        } else if (is_atext(*s->p) || *s->p >= 0x80 || *s->p == '.') {
            /* '.' is allowed in a phrase by RFC 5322 obs-phrase. */
            while (s->p < s->end
                   && (is_atext(*s->p) || *s->p >= 0x80 || *s->p == '.'))
                s->p++;
        } else {
            break;
        }
        if (first == NULL)
            first = w;
        last = s->p;
    }
    if (s->p < s->end && *s->p == '<') {
        if (first != NULL)
            copy_display(a->display, first, last);
        else
            a->display[0] = '\0';
        if ((err = parse_angle(s, a, &is_null)) != SG_ADDR_OK)
            return err;
        if (is_null)
            *kind = ITEM_NULL;
        return SG_ADDR_OK;
    }
    if (s->p < s->end && *s->p == ':' && first != NULL) {
        if (in_group)
            return SG_ADDR_ESYNTAX;     /* groups do not nest */
        s->p++;
        *kind = ITEM_GROUP;
        return SG_ADDR_OK;
    }
    s->p = start;
    a->display[0] = '\0';
    return parse_addr_spec(s, a);
}

/* sg_addr_strerror - text for a parse error */
const char *
sg_addr_strerror(SG_ADDR_ERR err)
{
    switch (err) {
    case SG_ADDR_OK:
        return "success";
    case SG_ADDR_ESYNTAX:
        return "address syntax error";
    case SG_ADDR_ENONASCII:
        return "non-ASCII local part (SMTPUTF8 not supported)";
    case SG_ADDR_ETOOLONG:
        return "address too long";
    case SG_ADDR_ETOOMANY:
        return "too many addresses";
    case SG_ADDR_EIDN:
        return "domain cannot be converted to Punycode";
    case SG_ADDR_EEMPTY:
        return "empty address";
    }
    return "unknown address error";
}

/* sg_addr_parse_path - parse an RFC 5321 reverse- or forward-path */
SG_ADDR_ERR
sg_addr_parse_path(const char *in, struct sg_addr *out, int *is_null)
{
    struct scan s;
    size_t len;
    SG_ADDR_ERR err;

    if (is_null != NULL)
        *is_null = 0;
    if (in == NULL || out == NULL)
        return SG_ADDR_EEMPTY;
    len = strnlen(in, SG_HDR_MAX + 1);
    if (len > SG_HDR_MAX)
        return SG_ADDR_ETOOLONG;
    s.p = (const unsigned char *) in;
    s.end = s.p + len;
    s.hdr = 0;
    while (s.p < s.end && is_wsp(*s.p))
        s.p++;
    while (s.end > s.p && is_wsp(s.end[-1]))
        s.end--;
    if (s.p == s.end)
        return SG_ADDR_EEMPTY;
    clear_addr(out);
    if (*s.p == '<') {
        if (s.end - s.p < 2 || s.end[-1] != '>')
            return SG_ADDR_ESYNTAX;
        s.p++;
        s.end--;
        /* Tolerate "< a@b >" as Postfix does. */
        while (s.p < s.end && (*s.p == ' ' || *s.p == '\t'))
            s.p++;
        while (s.end > s.p && (s.end[-1] == ' ' || s.end[-1] == '\t'))
            s.end--;
        if (s.p == s.end) {
            if (is_null == NULL)
                return SG_ADDR_EEMPTY;
            *is_null = 1;
            return SG_ADDR_OK;
        }
    }
    if (*s.p == '@' && (err = skip_route(&s)) != SG_ADDR_OK)
        return err;
    if ((err = parse_addr_spec(&s, out)) != SG_ADDR_OK)
        return err;
    if (s.p != s.end)
        return SG_ADDR_ESYNTAX;
    return SG_ADDR_OK;
}

/* sg_addr_parse_header - parse an RFC 5322 address header value */
SG_ADDR_ERR
sg_addr_parse_header(const char *in, size_t len, struct sg_addr *out,
                     size_t max, size_t *n)
{
    struct sg_addr scratch;     /* the one past the limit, parsed to be
                                 * sure it is an address at all */
    struct sg_addr *a;
    struct scan s;
    enum item_kind kind;
    size_t count = 0, limit;
    int in_group = 0;
    SG_ADDR_ERR err = SG_ADDR_OK;

    if (n != NULL)
        *n = 0;
    if (len > SG_HDR_MAX)
        return SG_ADDR_ETOOLONG;
    if (in == NULL)
        return len == 0 ? SG_ADDR_OK : SG_ADDR_ESYNTAX;
    limit = out == NULL ? 0 : max;
    if (limit > SG_HDR_MAX_ADDRS)
        limit = SG_HDR_MAX_ADDRS;
    s.p = (const unsigned char *) in;
    s.end = s.p + len;
    s.hdr = 1;

    for (;;) {
        if ((err = skip_cfws(&s)) != SG_ADDR_OK)
            break;
        if (s.p >= s.end)
            break;
        if (*s.p == ',') {              /* empty element (obs-list) */
            s.p++;
            continue;
        }
        if (*s.p == ';' && in_group) {  /* end of a group */
            s.p++;
            in_group = 0;
            continue;
        }
        a = count < limit ? &out[count] : &scratch;
        if ((err = parse_item(&s, a, in_group, &kind)) != SG_ADDR_OK)
            break;
        if (kind == ITEM_GROUP) {
            in_group = 1;
            continue;
        }
        if (kind == ITEM_MAILBOX) {
            if (count >= limit) {
                err = SG_ADDR_ETOOMANY;
                break;
            }
            count++;
        }
        /* An element ends at ',', at a group's ';', or at the end. */
        if ((err = skip_cfws(&s)) != SG_ADDR_OK)
            break;
        if (s.p < s.end && *s.p != ',' && !(*s.p == ';' && in_group)) {
            err = SG_ADDR_ESYNTAX;
            break;
        }
    }
    /* A group left open at the end ("undisclosed-recipients:") is
     * common enough to accept. */
    if (n != NULL)
        *n = count;
    return err;
}

/* sg_addr_domain_to_ascii_buf - convert a domain to lower-case ASCII */
char *
sg_addr_domain_to_ascii_buf(const char *in, size_t in_len, char *buf,
                            size_t size)
{
    if (in == NULL || buf == NULL || size == 0)
        return NULL;
    if (domain_ascii((const unsigned char *) in, in_len, buf, size)
        != SG_ADDR_OK)
        return NULL;
    return buf;
}

/* sg_addr_strip_label_buf - remove a "+label" from the local part */
char *
sg_addr_strip_label_buf(const struct sg_addr *a, char *buf, size_t size)
{
    const char *plus;
    size_t llen, dlen;

    if (a == NULL || buf == NULL)
        return NULL;
    /* A quoted local part is not a user+label form. */
    if (a->local[0] == '"')
        return NULL;
    plus = strchr(a->local, '+');
    if (plus == NULL || plus == a->local)
        return NULL;
    llen = (size_t) (plus - a->local);
    dlen = strlen(a->domain);
    if (llen + 1 + dlen + 1 > size)
        return NULL;
    memcpy(buf, a->local, llen);
    buf[llen] = '@';
    memcpy(buf + llen + 1, a->domain, dlen + 1);
    return buf;
}
