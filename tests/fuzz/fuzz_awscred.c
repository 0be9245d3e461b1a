/*
 * fuzz_awscred.c - libFuzzer harness for the AWS credentials file reader
 *
 * The input is the content of an aws_credentials_file (AWS INI format).
 * sg_awscred_load_file reads a path, so the input is written to one
 * private (0600) temporary file that is rewritten for every run, and
 * the profiles "default" and "ses" are looked up.
 *
 * Beyond "no crash": on SG_OK both keys are non-empty and terminated
 * and the source names the profile; on a failure there is an error
 * text and no key is left behind (a refused file leaves no secret in
 * memory the caller does not know about). A broken promise aborts.
 */

/* System headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "awscred.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* The temporary file, made on the first run, removed at exit. */
static char path[64];
static int fd = -1;

/* remove_file - the atexit hook */
static void
remove_file(void)
{
    if (path[0] != '\0')
        unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const profiles[] = { "default", "ses" };
    struct sg_awscred cred;
    char err[512];
    SG_STATUS st;
    size_t i;

    if (fd < 0) {
        snprintf(path, sizeof(path), "/tmp/fuzz_awscred.XXXXXX");
        if ((fd = mkstemp(path)) < 0)
            abort();
        atexit(remove_file);
    }
    if (ftruncate(fd, 0) != 0
        || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    for (i = 0; i < 2; i++) {
        err[0] = '\0';
        st = sg_awscred_load_file(path, profiles[i], &cred, err,
                                  sizeof(err));
        if (st == SG_OK) {
            check(cred.access_key[0] != '\0' && cred.secret_key[0] != '\0');
            check(strnlen(cred.access_key, sizeof(cred.access_key))
                  < sizeof(cred.access_key));
            check(strnlen(cred.secret_key, sizeof(cred.secret_key))
                  < sizeof(cred.secret_key));
            check(strstr(cred.source, profiles[i]) != NULL);
        } else {
            check(err[0] != '\0');
            check(cred.secret_key[0] == '\0');
        }
        sg_awscred_clear(&cred);
    }
    return 0;
}
