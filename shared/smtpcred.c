/*
 * smtpcred.c - SES SMTP password derivation (see smtpcred.h, R9)
 */

/* Build configuration (_GNU_SOURCE and friends) first. */
#include "config.h"

/* System headers. */
#include <ctype.h>
#include <string.h>

/* Third-party headers. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Local headers. */
#include "sesgate.h"
#include "smtpcred.h"

/* hmac32 - HMAC-SHA256 into out; 0 or -1 */
static int
hmac32(const void *key, size_t keylen, const char *msg, unsigned char *out)
{
    unsigned int n = 0;

    if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
             strlen(msg), out, &n) == NULL || n != 32)
        return -1;
    return 0;
}

/* encode - Base64 of version byte + 32-byte MAC into buf */
static char *
encode(unsigned char version, const unsigned char mac[32], char *buf,
       size_t size)
{
    unsigned char raw[33];

    if (size < SG_SMTPCRED_BUFSIZE)
        return NULL;
    raw[0] = version;
    memcpy(raw + 1, mac, 32);
    if (EVP_EncodeBlock((unsigned char *)buf, raw, 33) != SG_SMTPCRED_LEN) {
        OPENSSL_cleanse(raw, sizeof(raw));
        return NULL;
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    return buf;
}

/* sg_smtpcred_password_buf - the current password of a region */
char *
sg_smtpcred_password_buf(const char *secret, const char *region, char *buf,
                         size_t size)
{
    static const char *const steps[] = { "ses", "aws4_request",
                                         "SendRawEmail" };
    unsigned char k[32];
    char key[256];
    char *out = NULL;
    size_t n, i;

    if (secret == NULL || region == NULL || *region == '\0'
        || (n = strlen(secret)) + 5 > sizeof(key))
        return NULL;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, n);
    if (hmac32(key, n + 4, "11111111", k) != 0
        || hmac32(k, 32, region, k) != 0)
        goto out;
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (hmac32(k, 32, steps[i], k) != 0)
            goto out;
    out = encode(0x04, k, buf, size);
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(k, sizeof(k));
    return out;
}

/* sg_smtpcred_legacy_buf - the legacy password */
char *
sg_smtpcred_legacy_buf(const char *secret, char *buf, size_t size)
{
    unsigned char k[32];
    char *out = NULL;

    if (secret == NULL)
        return NULL;
    if (hmac32(secret, strlen(secret), "SendRawEmail", k) == 0)
        out = encode(0x02, k, buf, size);
    OPENSSL_cleanse(k, sizeof(k));
    return out;
}

/* trimmed - the password without surrounding white space into buf */
static int
trimmed(const char *pw, char *buf, size_t size)
{
    size_t n;

    while (*pw != '\0' && isspace((unsigned char)*pw))
        pw++;
    n = strlen(pw);
    while (n > 0 && isspace((unsigned char)pw[n - 1]))
        n--;
    if (n + 1 > size)
        return -1;
    memcpy(buf, pw, n);
    buf[n] = '\0';
    return 0;
}

/* sg_smtpcred_kind - legacy, current or neither */
enum sg_smtpcred_kind
sg_smtpcred_kind(const char *password)
{
    unsigned char raw[36];
    char pw[SG_SMTPCRED_BUFSIZE];
    enum sg_smtpcred_kind kind = SG_SMTPCRED_UNKNOWN;
    size_t i;

    if (password == NULL || trimmed(password, pw, sizeof(pw)) != 0
        || strlen(pw) != SG_SMTPCRED_LEN)
        return SG_SMTPCRED_UNKNOWN;
    for (i = 0; i < SG_SMTPCRED_LEN; i++)
        if (!isalnum((unsigned char)pw[i]) && pw[i] != '+' && pw[i] != '/')
            return SG_SMTPCRED_UNKNOWN;
    /* 44 characters without padding decode to exactly 33 bytes. */
    if (EVP_DecodeBlock(raw, (const unsigned char *)pw, SG_SMTPCRED_LEN)
        == 33) {
        if (raw[0] == 0x02)
            kind = SG_SMTPCRED_LEGACY;
        else if (raw[0] == 0x04)
            kind = SG_SMTPCRED_CURRENT;
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(pw, sizeof(pw));
    return kind;
}

/* sg_smtpcred_matches - whether a password belongs to a secret */
int
sg_smtpcred_matches(const char *password, const char *secret,
                    const char *region)
{
    char pw[SG_SMTPCRED_BUFSIZE], want[SG_SMTPCRED_BUFSIZE];
    enum sg_smtpcred_kind kind = sg_smtpcred_kind(password);
    int rc = 0;

    if (kind == SG_SMTPCRED_UNKNOWN)
        return 0;
    if (trimmed(password, pw, sizeof(pw)) != 0)
        return 0;
    if (kind == SG_SMTPCRED_LEGACY) {
        if (sg_smtpcred_legacy_buf(secret, want, sizeof(want)) == NULL)
            rc = -1;
    } else if (sg_smtpcred_password_buf(secret, region, want, sizeof(want))
               == NULL) {
        rc = -1;
    }
    if (rc == 0)
        rc = CRYPTO_memcmp(pw, want, SG_SMTPCRED_LEN) == 0;
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(want, sizeof(want));
    return rc;
}
