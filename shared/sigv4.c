/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h for the algorithm)
 *
 * Strings are built in a growable buffer (struct sbuf); every input is
 * borrowed. The derived keys live on the stack and are wiped with
 * OPENSSL_cleanse before returning.
 */

/* Build configuration (_GNU_SOURCE and friends) first. */
#include "config.h"

/* System headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Third-party headers. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Local headers. */
#include "sesgate.h"
#include "sigv4.h"

/* A growable string; len excludes the NUL; data NULL after a failure. */
struct sbuf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
};

/* sb_reserve - room for n more bytes and a NUL */
static int
sb_reserve(struct sbuf *b, size_t n)
{
    size_t cap;
    char *p;

    if (b->failed)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    if ((p = realloc(b->data, cap)) == NULL)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

/* sb_add - append n bytes */
static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (sb_reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* sb_str - append a NUL-terminated string */
static void
sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* sb_chr - append one byte */
static void
sb_chr(struct sbuf *b, char c)
{
    sb_add(b, &c, 1);
}

/* sb_done - the built string (caller frees), or NULL after a failure */
static char *
sb_done(struct sbuf *b)
{
    if (b->failed || sb_reserve(b, 0) != 0) {
        free(b->data);
        return NULL;
    }
    return b->data;
}

/* unreserved - SigV4's unreserved characters (RFC 3986) */
static int
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
        || c == '~';
}

/* sb_encode - append s percent-encoded (see sg_sigv4_uri_encode_buf) */
static void
sb_encode(struct sbuf *b, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3];
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_chr(b, (char)c);
        } else {
            esc[0] = '%';
            esc[1] = hex[c >> 4];
            esc[2] = hex[c & 15];
            sb_add(b, esc, 3);
        }
    }
}

/* hexval - value of a hex digit, -1 if not one */
static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* sb_decode - append s percent-decoded; -1 on a bad escape */
static int
sb_decode(struct sbuf *b, const char *s, size_t len)
{
    size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            sb_chr(b, s[i]);
            continue;
        }
        if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0
            || (lo = hexval(s[i + 2])) < 0)
            return -1;
        sb_chr(b, (char)(hi * 16 + lo));
        i += 2;
    }
    return 0;
}

/* sg_sigv4_uri_encode_buf - percent-encode into a caller buffer */
char *
sg_sigv4_uri_encode_buf(const char *s, size_t len, int keep_slash,
                        char *buf, size_t size)
{
    struct sbuf b = { NULL, 0, 0, 0 };
    char *out;

    sb_encode(&b, s, len, keep_slash);
    sb_reserve(&b, 0);
    if ((out = sb_done(&b)) == NULL)
        return NULL;
    if (b.len + 1 > size) {
        free(out);
        return NULL;
    }
    memcpy(buf, out, b.len + 1);
    free(out);
    return buf;
}

/* hex_of - lower-case hex of n bytes into out (2n + 1 bytes) */
static void
hex_of(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* sg_sigv4_sha256_hex - hex SHA-256 of a buffer */
int
sg_sigv4_sha256_hex(const void *data, size_t len,
                    char out[SG_SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data != NULL ? data : "", len, md, &mdlen, EVP_sha256(),
                   NULL) != 1 || mdlen != 32)
        return -1;
    hex_of(md, 32, out);
    return 0;
}

/* hmac - HMAC-SHA256 of data under key into out (32 bytes) */
static int
hmac(const void *key, size_t keylen, const void *data, size_t len,
     unsigned char out[32])
{
    unsigned int outlen = 0;

    if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen)
        == NULL || outlen != 32)
        return -1;
    return 0;
}

/* canonical_uri - the normalised, re-encoded path */
static int
canonical_uri(struct sbuf *b, const char *path, int double_encode)
{
    const char **segs;
    size_t *lens;
    size_t nseg = 0, max = 1, i, n;
    const char *p, *e;
    int trailing;

    if (path == NULL || *path == '\0')
        path = "/";
    if (!double_encode) {
        /* S3 style: the path as sent. */
        sb_str(b, path);
        return 0;
    }
    for (p = path; *p != '\0'; p++)
        if (*p == '/')
            max++;
    if ((segs = calloc(max, sizeof(*segs))) == NULL
        || (lens = calloc(max, sizeof(*lens))) == NULL) {
        free(segs);
        return -1;
    }
    /* Remove empty and "." segments, let ".." pop (RFC 3986 5.2.4 as
     * botocore applies it). */
    for (p = path; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
        e = strchr(p, '/');
        if (e == NULL)
            e = p + strlen(p);
        n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.'))
            continue;
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0)
                nseg--;
            continue;
        }
        segs[nseg] = p;
        lens[nseg++] = n;
    }
    trailing = path[strlen(path) - 1] == '/';
    sb_chr(b, '/');
    for (i = 0; i < nseg; i++) {
        if (i > 0)
            sb_chr(b, '/');
        sb_encode(b, segs[i], lens[i], 0);
    }
    if (trailing && nseg > 0)
        sb_chr(b, '/');
    free(segs);
    free(lens);
    return 0;
}

/* One query parameter, encoded. */
struct qparam {
    char *name;
    char *value;
};

/* qparam_cmp - order by encoded name, then value (byte order) */
static int
qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* encode_part - decode then encode one name or value; new string */
static char *
encode_part(const char *s, size_t len)
{
    struct sbuf dec = { NULL, 0, 0, 0 }, enc = { NULL, 0, 0, 0 };
    char *d;

    if (sb_decode(&dec, s, len) != 0) {
        free(dec.data);
        return NULL;
    }
    sb_reserve(&dec, 0);
    if ((d = sb_done(&dec)) == NULL)
        return NULL;
    sb_encode(&enc, d, dec.len, 0);
    sb_reserve(&enc, 0);
    free(d);
    return sb_done(&enc);
}

/* canonical_query - sorted, re-encoded name=value pairs */
static int
canonical_query(struct sbuf *b, const char *query)
{
    struct qparam *qp;
    const char *p, *e, *eq;
    size_t n = 1, i, nq = 0;
    int rc = -1;

    if (query == NULL || *query == '\0')
        return 0;
    for (p = query; *p != '\0'; p++)
        if (*p == '&')
            n++;
    if ((qp = calloc(n, sizeof(*qp))) == NULL)
        return -1;
    for (p = query; ; p = e + 1) {
        e = strchr(p, '&');
        if (e == NULL)
            e = p + strlen(p);
        if (e > p) {
            eq = memchr(p, '=', (size_t)(e - p));
            if (eq == NULL)
                eq = e;
            qp[nq].name = encode_part(p, (size_t)(eq - p));
            qp[nq].value = encode_part(eq < e ? eq + 1 : e,
                                       eq < e ? (size_t)(e - eq - 1) : 0);
            nq++;
            if (qp[nq - 1].name == NULL || qp[nq - 1].value == NULL)
                goto out;
        }
        if (*e == '\0')
            break;
    }
    qsort(qp, nq, sizeof(*qp), qparam_cmp);
    for (i = 0; i < nq; i++) {
        if (i > 0)
            sb_chr(b, '&');
        sb_str(b, qp[i].name);
        sb_chr(b, '=');
        sb_str(b, qp[i].value);
    }
    rc = 0;
out:
    for (i = 0; i < nq; i++) {
        free(qp[i].name);
        free(qp[i].value);
    }
    free(qp);
    return rc;
}

/* A header being canonicalised. */
struct chead {
    char name[128];
    const char *value;
    size_t order;               /* position in the request: stable sort */
};

/* chead_cmp - by lower-case name, then request order */
static int
chead_cmp(const void *a, const void *b)
{
    const struct chead *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* sb_header_value - trimmed value with inner space runs folded */
static void
sb_header_value(struct sbuf *b, const char *v)
{
    int space = 0, any = 0;

    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            space = any;
            continue;
        }
        if (space)
            sb_chr(b, ' ');
        space = 0;
        any = 1;
        sb_chr(b, *v);
    }
}

/* sorted_headers - lower-cased names in canonical order */
static int
sorted_headers(const struct sg_sigv4_req *req, struct chead *h)
{
    size_t i, j, n;

    if (req->nheaders > SG_SIGV4_HEADERS_MAX)
        return -1;
    for (i = 0; i < req->nheaders; i++) {
        const char *name = req->headers[i].name;

        if (name == NULL || (n = strlen(name)) == 0 || n >= sizeof(h->name))
            return -1;
        for (j = 0; j <= n; j++)
            h[i].name[j] = (name[j] >= 'A' && name[j] <= 'Z')
                ? (char)(name[j] - 'A' + 'a') : name[j];
        h[i].value = req->headers[i].value != NULL
            ? req->headers[i].value : "";
        h[i].order = i;
    }
    qsort(h, req->nheaders, sizeof(*h), chead_cmp);
    return 0;
}

/* signed_headers - "a;b;c" (distinct names) */
static void
signed_headers(struct sbuf *b, const struct chead *h, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0)
            continue;
        if (i > 0)
            sb_chr(b, ';');
        sb_str(b, h[i].name);
    }
}

/* sg_sigv4_canonical_request - step 1 */
char *
sg_sigv4_canonical_request(const struct sg_sigv4_req *req)
{
    struct chead h[SG_SIGV4_HEADERS_MAX];
    struct sbuf b = { NULL, 0, 0, 0 };
    char hash[SG_SIGV4_HEX_LEN + 1];
    size_t i;

    if (req == NULL || req->method == NULL || *req->method == '\0'
        || sorted_headers(req, h) != 0)
        return NULL;
    sb_str(&b, req->method);
    sb_chr(&b, '\n');
    if (canonical_uri(&b, req->path, req->double_encode) != 0)
        goto fail;
    sb_chr(&b, '\n');
    if (canonical_query(&b, req->query) != 0)
        goto fail;
    sb_chr(&b, '\n');
    /* Repeated headers: one line, values joined with ",". */
    for (i = 0; i < req->nheaders; i++) {
        if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
            sb_chr(&b, ',');
        } else {
            if (i > 0)
                sb_chr(&b, '\n');
            sb_str(&b, h[i].name);
            sb_chr(&b, ':');
        }
        sb_header_value(&b, h[i].value);
    }
    if (req->nheaders > 0)
        sb_chr(&b, '\n');
    sb_chr(&b, '\n');
    signed_headers(&b, h, req->nheaders);
    sb_chr(&b, '\n');
    if (sg_sigv4_sha256_hex(req->payload, req->payload_len, hash) != 0)
        goto fail;
    sb_str(&b, hash);
    return sb_done(&b);
fail:
    free(b.data);
    return NULL;
}

/* valid_amz_date - "YYYYMMDDTHHMMSSZ" */
static int
valid_amz_date(const char *d)
{
    int i;

    if (d == NULL || strlen(d) != SG_SIGV4_AMZDATE_LEN || d[8] != 'T'
        || d[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

/* sg_sigv4_string_to_sign - step 2 */
char *
sg_sigv4_string_to_sign(const struct sg_sigv4_req *req, const char *creq)
{
    struct sbuf b = { NULL, 0, 0, 0 };
    char hash[SG_SIGV4_HEX_LEN + 1];

    if (req == NULL || creq == NULL || !valid_amz_date(req->amz_date)
        || req->region == NULL || req->service == NULL
        || sg_sigv4_sha256_hex(creq, strlen(creq), hash) != 0)
        return NULL;
    sb_str(&b, "AWS4-HMAC-SHA256\n");
    sb_str(&b, req->amz_date);
    sb_chr(&b, '\n');
    sb_add(&b, req->amz_date, 8);
    sb_chr(&b, '/');
    sb_str(&b, req->region);
    sb_chr(&b, '/');
    sb_str(&b, req->service);
    sb_str(&b, "/aws4_request\n");
    sb_str(&b, hash);
    return sb_done(&b);
}

/* sg_sigv4_signing_key - step 3's derived key */
int
sg_sigv4_signing_key(const char *secret, const char *date8,
                     const char *region, const char *service,
                     unsigned char out[32])
{
    unsigned char k[32];
    char *key;
    size_t n;
    int rc = -1;

    if (secret == NULL || date8 == NULL || strlen(date8) < 8
        || region == NULL || service == NULL)
        return -1;
    n = strlen(secret);
    if ((key = malloc(n + 5)) == NULL)
        return -1;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, n + 1);
    if (hmac(key, n + 4, date8, 8, k) == 0
        && hmac(k, 32, region, strlen(region), k) == 0
        && hmac(k, 32, service, strlen(service), k) == 0
        && hmac(k, 32, "aws4_request", 12, out) == 0)
        rc = 0;
    OPENSSL_cleanse(key, n + 4);
    OPENSSL_cleanse(k, sizeof(k));
    free(key);
    return rc;
}

/* sg_sigv4_authorization_buf - the Authorization header value */
char *
sg_sigv4_authorization_buf(const struct sg_sigv4_req *req,
                           const char *access_key, const char *secret,
                           char *buf, size_t size)
{
    struct chead h[SG_SIGV4_HEADERS_MAX];
    struct sbuf sh = { NULL, 0, 0, 0 };
    unsigned char key[32], sig[32];
    char sighex[SG_SIGV4_HEX_LEN + 1];
    char *creq = NULL, *sts = NULL, *shs = NULL, *out = NULL;
    int n;

    if (access_key == NULL || secret == NULL
        || (creq = sg_sigv4_canonical_request(req)) == NULL
        || (sts = sg_sigv4_string_to_sign(req, creq)) == NULL
        || sorted_headers(req, h) != 0)
        goto out;
    signed_headers(&sh, h, req->nheaders);
    sb_reserve(&sh, 0);
    if ((shs = sb_done(&sh)) == NULL)
        goto out;
    if (sg_sigv4_signing_key(secret, req->amz_date, req->region,
                             req->service, key) != 0
        || hmac(key, sizeof(key), sts, strlen(sts), sig) != 0)
        goto out;
    hex_of(sig, sizeof(sig), sighex);
    n = snprintf(buf, size, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/"
                 "aws4_request, SignedHeaders=%s, Signature=%s",
                 access_key, req->amz_date, req->region, req->service, shs,
                 sighex);
    if (n > 0 && (size_t)n < size)
        out = buf;
out:
    OPENSSL_cleanse(key, sizeof(key));
    free(creq);
    free(sts);
    free(shs);
    return out;
}

/* sg_sigv4_amz_date_buf - X-Amz-Date of a time */
char *
sg_sigv4_amz_date_buf(long long t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (size < SG_SIGV4_AMZDATE_LEN + 1 || gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y%m%dT%H%M%SZ", &tm)
        != SG_SIGV4_AMZDATE_LEN)
        return NULL;
    return buf;
}
