/*
 * awscred.h - AWS credentials for the SES API, found the AWS way
 *
 * Where credentials come from, first match wins:
 *   1. aws_credentials_file in sesgate.conf (the file argument below),
 *      profile aws_profile, else $AWS_PROFILE, else "default";
 *   2. $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY (+ $AWS_SESSION_TOKEN);
 *   3. the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, else
 *      $HOME/.aws/credentials), same profile rule.
 * An explicit file in sesgate.conf beats the environment because a
 * daemon's configuration should not change with whoever runs it.
 *
 * The file is the AWS INI format ("[name]" or "[profile name]"
 * sections, "key = value" lines, "#" or ";" comments) with the keys
 * aws_access_key_id, aws_secret_access_key, aws_session_token. A file
 * that group or others may read or write is refused: it holds a
 * secret.
 *
 * The library never logs a secret; error texts name the file, the
 * profile and what is missing, never a value.
 */
#ifndef SG_AWSCRED_H
#define SG_AWSCRED_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* Bounds (AWS keys are 20 and 40 characters; tokens about 1 KB). */
#define SG_AWSCRED_KEY_MAX      128
#define SG_AWSCRED_TOKEN_MAX    4096

/*
 * Credentials. Plain struct, filled in by sg_awscred_load; wipe it with
 * sg_awscred_clear when done.
 */
struct sg_awscred {
    char access_key[SG_AWSCRED_KEY_MAX + 1];
    char secret_key[SG_AWSCRED_KEY_MAX + 1];
    char session_token[SG_AWSCRED_TOKEN_MAX + 1];  /* "" if none */
    char source[512];           /* "environment", "FILE [profile]" */
};

/*
 * sg_awscred_load - find credentials
 *
 * Parameters: file, aws_credentials_file ("" or NULL: none); profile,
 *   aws_profile ("" or NULL: $AWS_PROFILE or "default"); out; err and
 *   errlen, caller buffer for the reason of a failure.
 * Returns: SG_OK; SG_ERR_NOTFOUND when no source has credentials (err
 *   says where it looked); SG_ERR_CONFIG for a file readable by others,
 *   a profile without both keys, a line that is not "key = value" (err
 *   names FILE:LINE); SG_ERR_IO when a named file cannot be read.
 * Thread-safety: reads the environment; call before starting threads.
 */
extern SG_STATUS sg_awscred_load(const char *file, const char *profile,
                                 struct sg_awscred *out, char *err,
                                 size_t errlen);

/*
 * sg_awscred_load_file - credentials of one profile of one file
 *
 * As sg_awscred_load's steps 1 and 3, for tests and tools.
 * Returns: SG_OK, SG_ERR_NOTFOUND (no such profile), SG_ERR_CONFIG,
 *   SG_ERR_IO.
 */
extern SG_STATUS sg_awscred_load_file(const char *path, const char *profile,
                                      struct sg_awscred *out, char *err,
                                      size_t errlen);

/* sg_awscred_clear - wipe the secrets of a credential struct */
extern void sg_awscred_clear(struct sg_awscred *cred);

#endif /* SG_AWSCRED_H */
