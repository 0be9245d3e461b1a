/*
 * awscred.c - AWS credentials from sesgate.conf, environment or file
 */

/* Build configuration (_GNU_SOURCE and friends) first. */
#include "config.h"

/* System headers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Third-party headers. */
#include <openssl/crypto.h>

/* Local headers. */
#include "sesgate.h"
#include "awscred.h"

/* Largest credentials file read. */
#define CRED_FILE_MAX   (1024 * 1024)

/* sg_awscred_clear - wipe */
void
sg_awscred_clear(struct sg_awscred *cred)
{
    if (cred != NULL)
        OPENSSL_cleanse(cred, sizeof(*cred));
}

/* copy_value - a value into a fixed buffer; -1 if too long */
static int
copy_value(char *dst, size_t size, const char *s, size_t n)
{
    if (n + 1 > size)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* trim - [*s, *e) without surrounding white space */
static void
trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* read_private - the file's contents, refused if others may read it */
static char *
read_private(const char *path, size_t *len, SG_STATUS *st, char *err,
             size_t errlen)
{
    struct stat sb;
    char *buf;
    ssize_t n;
    size_t got = 0;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        *st = errno == ENOENT ? SG_ERR_NOTFOUND : SG_ERR_IO;
        sg_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        *st = SG_ERR_IO;
        sg_seterr(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    if (sb.st_mode & 077) {
        close(fd);
        *st = SG_ERR_CONFIG;
        sg_seterr(err, errlen, "%s: holds secrets but is accessible to group "
               "or others (mode %04o): chmod 600 it", path,
               (unsigned)(sb.st_mode & 07777));
        return NULL;
    }
    if (sb.st_size > CRED_FILE_MAX) {
        close(fd);
        *st = SG_ERR_CONFIG;
        sg_seterr(err, errlen, "%s: larger than %d bytes", path,
               CRED_FILE_MAX);
        return NULL;
    }
    if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
        close(fd);
        *st = SG_ERR_NOMEM;
        sg_seterr(err, errlen, "out of memory");
        return NULL;
    }
    while (got < (size_t)sb.st_size
           && (n = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* section_is - whether "[...]" names the profile */
static int
section_is(const char *s, const char *e, const char *profile)
{
    size_t n = strlen(profile);

    /* "[name]" (credentials file) or "[profile name]" (config file). */
    if (e - s > 8 && strncmp(s, "profile", 7) == 0
        && isspace((unsigned char)s[7])) {
        s += 8;
        trim(&s, &e);
    }
    return (size_t)(e - s) == n && memcmp(s, profile, n) == 0;
}

/* sg_awscred_load_file - one profile of one file */
SG_STATUS
sg_awscred_load_file(const char *path, const char *profile,
                     struct sg_awscred *out, char *err, size_t errlen)
{
    const char *p, *e, *eol, *eq, *ks, *ke, *vs, *ve;
    SG_STATUS st = SG_OK;
    char *buf;
    size_t len;
    int line = 0, in = 0, found = 0, bad = 0;

    memset(out, 0, sizeof(*out));
    if ((buf = read_private(path, &len, &st, err, errlen)) == NULL)
        return st;
    for (p = buf; p < buf + len && !bad; p = eol + 1) {
        line++;
        eol = memchr(p, '\n', (size_t)(buf + len - p));
        if (eol == NULL)
            eol = buf + len;
        ks = p;
        e = eol;
        trim(&ks, &e);
        if (ks == e || *ks == '#' || *ks == ';')
            continue;
        if (*ks == '[') {
            if (e[-1] != ']') {
                sg_seterr(err, errlen, "%s:%d: bad section line", path, line);
                bad = 1;
                break;
            }
            vs = ks + 1;
            ve = e - 1;
            trim(&vs, &ve);
            in = section_is(vs, ve, profile);
            found |= in;
            continue;
        }
        if ((eq = memchr(ks, '=', (size_t)(e - ks))) == NULL) {
            if (in) {
                sg_seterr(err, errlen, "%s:%d: expected key = value", path,
                       line);
                bad = 1;
            }
            continue;
        }
        if (!in)
            continue;
        ke = eq;
        vs = eq + 1;
        ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (ke - ks == 17 && memcmp(ks, "aws_access_key_id", 17) == 0)
            bad = copy_value(out->access_key, sizeof(out->access_key), vs,
                             (size_t)(ve - vs));
        else if (ke - ks == 21
                 && memcmp(ks, "aws_secret_access_key", 21) == 0)
            bad = copy_value(out->secret_key, sizeof(out->secret_key), vs,
                             (size_t)(ve - vs));
        else if (ke - ks == 17 && memcmp(ks, "aws_session_token", 17) == 0)
            bad = copy_value(out->session_token,
                             sizeof(out->session_token), vs,
                             (size_t)(ve - vs));
        if (bad)
            sg_seterr(err, errlen, "%s:%d: value too long", path, line);
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (bad) {
        sg_awscred_clear(out);
        return SG_ERR_CONFIG;
    }
    if (!found) {
        sg_seterr(err, errlen, "%s: no profile [%s]", path, profile);
        return SG_ERR_NOTFOUND;
    }
    if (out->access_key[0] == '\0' || out->secret_key[0] == '\0') {
        sg_seterr(err, errlen, "%s: profile [%s] lacks aws_access_key_id or "
               "aws_secret_access_key", path, profile);
        sg_awscred_clear(out);
        return SG_ERR_CONFIG;
    }
    snprintf(out->source, sizeof(out->source), "%s [%s]", path, profile);
    return SG_OK;
}

/* from_env - the AWS_* environment variables; 1 found, 0 not, -1 bad */
static int
from_env(struct sg_awscred *out, char *err, size_t errlen)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *key = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("AWS_SESSION_TOKEN");

    if (id == NULL || *id == '\0' || key == NULL || *key == '\0')
        return 0;
    memset(out, 0, sizeof(*out));
    if (copy_value(out->access_key, sizeof(out->access_key), id,
                   strlen(id)) != 0
        || copy_value(out->secret_key, sizeof(out->secret_key), key,
                      strlen(key)) != 0
        || (tok != NULL && copy_value(out->session_token,
                                      sizeof(out->session_token), tok,
                                      strlen(tok)) != 0)) {
        sg_awscred_clear(out);
        sg_seterr(err, errlen, "AWS_* environment variable too long");
        return -1;
    }
    snprintf(out->source, sizeof(out->source), "environment");
    return 1;
}

/* sg_awscred_load - find credentials the AWS way */
SG_STATUS
sg_awscred_load(const char *file, const char *profile,
                struct sg_awscred *out, char *err, size_t errlen)
{
    char path[4096];
    const char *home, *shared;
    int rc;

    memset(out, 0, sizeof(*out));
    if (profile == NULL || *profile == '\0')
        profile = getenv("AWS_PROFILE");
    if (profile == NULL || *profile == '\0')
        profile = "default";
    if (file != NULL && *file != '\0')
        return sg_awscred_load_file(file, profile, out, err, errlen);
    if ((rc = from_env(out, err, errlen)) != 0)
        return rc > 0 ? SG_OK : SG_ERR_CONFIG;
    shared = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (shared == NULL || *shared == '\0') {
        home = getenv("HOME");
        if (home == NULL || *home == '\0') {
            sg_seterr(err, errlen, "no AWS credentials: set "
                   "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                   "aws_credentials_file");
            return SG_ERR_NOTFOUND;
        }
        snprintf(path, sizeof(path), "%s/.aws/credentials", home);
        shared = path;
    }
    return sg_awscred_load_file(shared, profile, out, err, errlen);
}
