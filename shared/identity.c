/*
 * identity.c - verified identities (R2) and sandbox recipients (R3)
 */

/* System headers. */
#include <string.h>
#include <strings.h>

/* Local headers. */
#include "config.h"
#include "identity.h"

/* lower_ascii - lower-case ASCII letters in place */
static void
lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* sg_identity_key_buf - store key of an identity name */
char *
sg_identity_key_buf(const char *name, char *buf, size_t size)
{
    size_t len;
    char *at;

    if (name == NULL || (len = strlen(name)) == 0 || len >= size)
        return NULL;
    memcpy(buf, name, len + 1);
    /* Address identities: local part kept, domain lower-cased (R2);
     * domain identities: all lower case. */
    at = strrchr(buf, '@');
    lower_ascii(at != NULL ? at + 1 : buf);
    /* A trailing dot in a domain is not significant. */
    if (len > 1 && buf[len - 1] == '.')
        buf[len - 1] = '\0';
    return buf;
}
