/*
 * sigv4.h - AWS Signature Version 4 request signing (HMAC-SHA256)
 *
 * The SES API (v1 Query and v2 REST-JSON alike) authenticates every
 * request with SigV4, service name "ses" (ses-facts.md 13.1):
 *
 *   1. CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
 *      CanonicalHeaders \n SignedHeaders \n hex(SHA256(payload))
 *   2. StringToSign = "AWS4-HMAC-SHA256" \n AMZDATE \n
 *      DATE/REGION/SERVICE/aws4_request \n hex(SHA256(CanonicalRequest))
 *   3. kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION),
 *      SERVICE), "aws4_request"); Signature = hex(HMAC(kSigning, STS))
 *   4. Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
 *      SERVICE/aws4_request, SignedHeaders=..., Signature=...
 *
 * The canonical URI of every service but S3 is the request path with
 * dot segments and empty segments removed and then percent-encoded
 * once more: a path sent as "/v2/email/identities/user%40example.com"
 * is signed as "/v2/email/identities/user%2540example.com" (botocore's
 * SigV4Auth; SES needs it, S3 must not have it: see double_encode).
 *
 * Everything here is pure computation on caller data: no I/O, no
 * globals, thread-safe. Secrets are only read, never copied into the
 * results (the signing key is derived on the stack and wiped).
 */
#ifndef SG_SIGV4_H
#define SG_SIGV4_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Sizes. */
#define SG_SIGV4_AMZDATE_LEN    16      /* "20150830T123600Z" */
#define SG_SIGV4_HEX_LEN        64      /* a SHA-256 in hex */
#define SG_SIGV4_AUTHZ_MAX      2048    /* an Authorization value */
#define SG_SIGV4_HEADERS_MAX    32      /* headers of one request */

/* One request header as it will be sent. */
struct sg_sigv4_header {
    const char *name;           /* any case; signed lower-cased */
    const char *value;          /* trimmed, inner runs of spaces folded */
};

/*
 * A request to sign. Plain struct filled in by the caller; every
 * pointer is borrowed for the duration of the call.
 *   path:  the path exactly as it goes on the wire (already
 *          percent-encoded by the caller, "/" when empty)
 *   query: the query string as it goes on the wire, without "?", or
 *          NULL/"" for none; names and values are decoded and
 *          re-encoded with SigV4's rules and sorted, so the order the
 *          caller sends them in does not matter
 *   headers: every header to sign; must include Host and X-Amz-Date
 *          (and X-Amz-Security-Token with temporary credentials)
 *   double_encode: 1 for every service but S3 (see above)
 */
struct sg_sigv4_req {
    const char *method;
    const char *path;
    const char *query;
    const struct sg_sigv4_header *headers;
    size_t nheaders;
    const void *payload;        /* NULL with payload_len 0: empty */
    size_t payload_len;
    const char *region;         /* signing region: "us-east-1" */
    const char *service;        /* "ses" */
    const char *amz_date;       /* "YYYYMMDDTHHMMSSZ", as in X-Amz-Date */
    int double_encode;
};

/*
 * sg_sigv4_canonical_request - step 1
 *
 * Parameters: req.
 * Returns: new string (caller frees with free), or NULL when out of
 *   memory or when req is malformed (no method, more than
 *   SG_SIGV4_HEADERS_MAX headers, a header without a name, a bad
 *   percent escape in the path or query).
 * Thread-safety: safe.
 */
extern char *sg_sigv4_canonical_request(const struct sg_sigv4_req *req);

/*
 * sg_sigv4_string_to_sign - step 2, from a canonical request
 *
 * Returns: new string (caller frees with free), or NULL when out of
 *   memory or amz_date is not "YYYYMMDDTHHMMSSZ".
 */
extern char *sg_sigv4_string_to_sign(const struct sg_sigv4_req *req,
                                     const char *creq);

/*
 * sg_sigv4_signing_key - step 3's derived key
 *
 * Parameters: secret, the secret access key; date8, "YYYYMMDD" (the
 *   first 8 characters are used); region; service; out, 32 bytes.
 * Returns: 0, or -1 when an argument is missing or HMAC fails.
 */
extern int sg_sigv4_signing_key(const char *secret, const char *date8,
                                const char *region, const char *service,
                                unsigned char out[32]);

/*
 * sg_sigv4_authorization_buf - steps 1 to 4: the Authorization value
 *
 * Parameters: req; access_key, secret: the credentials; buf/size:
 *   caller buffer, SG_SIGV4_AUTHZ_MAX is always enough.
 * Returns: buf, or NULL when it does not fit, req is malformed or out
 *   of memory.
 * Ownership: writes into the caller's buffer; the secret is not kept.
 */
extern char *sg_sigv4_authorization_buf(const struct sg_sigv4_req *req,
                                        const char *access_key,
                                        const char *secret, char *buf,
                                        size_t size);

/*
 * sg_sigv4_amz_date_buf - the X-Amz-Date form of a time
 *
 * Parameters: t, epoch seconds; buf of at least
 *   SG_SIGV4_AMZDATE_LEN + 1 bytes.
 * Returns: buf, or NULL if it does not fit.
 */
extern char *sg_sigv4_amz_date_buf(long long t, char *buf, size_t size);

/*
 * sg_sigv4_uri_encode_buf - percent-encode with SigV4's rules
 *
 * Every byte except A-Z a-z 0-9 - _ . ~ (and "/" when keep_slash) is
 * written as %XX with upper-case hex. Used for path segments such as
 * an identity name or an address, and for query values.
 * Returns: buf, or NULL if it does not fit.
 */
extern char *sg_sigv4_uri_encode_buf(const char *s, size_t len,
                                     int keep_slash, char *buf,
                                     size_t size);

/*
 * sg_sigv4_sha256_hex - hex SHA-256 of a buffer
 *
 * Parameters: out, SG_SIGV4_HEX_LEN + 1 bytes.
 * Returns: 0, or -1 when the digest fails.
 */
extern int sg_sigv4_sha256_hex(const void *data, size_t len,
                               char out[SG_SIGV4_HEX_LEN + 1]);

#endif /* SG_SIGV4_H */
