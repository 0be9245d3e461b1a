/*
 * smtpcred.h - SES SMTP passwords derived from IAM secret keys (R9)
 *
 * SMTP credentials are per region (ses-rules.md R9, ses-facts.md 8).
 * The user name is the IAM access key id; the password is derived from
 * the secret access key:
 *   current (since 2019-01-10, per region):
 *     kDate = HMAC-SHA256("AWS4" + secret, "11111111"),
 *     kRegion = HMAC(kDate, region), kService = HMAC(kRegion, "ses"),
 *     kTerminal = HMAC(kService, "aws4_request"),
 *     kMessage = HMAC(kTerminal, "SendRawEmail"),
 *     password = Base64(0x04 || kMessage)       -- starts with "B"
 *   legacy (before 2019-01-10, one for every region, "SigV2"):
 *     password = Base64(0x02 || HMAC-SHA256(secret, "SendRawEmail"))
 *                                               -- starts with "A"
 * Both are 44 characters. A legacy password should be replaced: SES
 * throttles it ("Maximum SigV2 SMTP sending rate exceeded").
 *
 * Pure computation, thread-safe; intermediate keys are wiped. The
 * caller owns the secret and the result and should wipe both.
 */
#ifndef SG_SMTPCRED_H
#define SG_SMTPCRED_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Length of a password (Base64 of 33 bytes) and a buffer for one. */
#define SG_SMTPCRED_LEN     44
#define SG_SMTPCRED_BUFSIZE (SG_SMTPCRED_LEN + 1)

/* What a password is. */
enum sg_smtpcred_kind {
    SG_SMTPCRED_UNKNOWN = 0,    /* not an SES SMTP password */
    SG_SMTPCRED_LEGACY = 2,     /* version byte 0x02: region-independent */
    SG_SMTPCRED_CURRENT = 4     /* version byte 0x04: one region's */
};

/*
 * sg_smtpcred_password_buf - the current SMTP password of a region
 *
 * Parameters: secret, the IAM secret access key; region, the region
 *   code as SES names it ("eu-central-1", lower case); buf/size, at
 *   least SG_SMTPCRED_BUFSIZE bytes.
 * Returns: buf, or NULL when an argument is missing, the buffer is too
 *   small or the HMAC fails.
 * Ownership: writes into the caller's buffer.
 */
extern char *sg_smtpcred_password_buf(const char *secret, const char *region,
                                      char *buf, size_t size);

/*
 * sg_smtpcred_legacy_buf - the legacy (pre-2019) password
 *
 * For --check only: recognising an old password; never derive new
 * legacy credentials for use.
 * Returns: buf, or NULL as above.
 */
extern char *sg_smtpcred_legacy_buf(const char *secret, char *buf,
                                    size_t size);

/*
 * sg_smtpcred_kind - legacy, current or neither
 *
 * Looks at the form only: 44 Base64 characters decoding to 33 bytes
 * whose first byte is 0x02 or 0x04. Leading and trailing white space
 * is ignored.
 */
extern enum sg_smtpcred_kind sg_smtpcred_kind(const char *password);

/*
 * sg_smtpcred_matches - whether a password belongs to a secret
 *
 * Parameters: password; secret; region (for a current password).
 * Returns: 1 when password is the secret's current password for region
 *   or its legacy password, 0 when not, -1 on an internal failure.
 *   The comparison is constant-time.
 */
extern int sg_smtpcred_matches(const char *password, const char *secret,
                               const char *region);

#endif /* SG_SMTPCRED_H */
