/*
 * identity.c - verified identities (R2) and sandbox recipients (R3)
 */

/* System headers. */
#include <stdio.h>
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

/* The SES mailbox simulator (ses-facts.md 14). */
static const char *const simulator_users[] = {
    "success", "bounce", "ooto", "complaint", "suppressionlist", NULL
};

#define SIMULATOR_DOMAIN "simulator.amazonses.com"

/* sg_identity_is_simulator - SES mailbox simulator address? */
int
sg_identity_is_simulator(const struct sg_addr *a)
{
    const char *const *u;
    size_t len;
    const char *plus;

    if (strcasecmp(a->domain, SIMULATOR_DOMAIN) != 0)
        return 0;
    /* "+label" allowed: bounce+label1@simulator.amazonses.com */
    plus = strchr(a->local, '+');
    len = plus != NULL ? (size_t)(plus - a->local) : strlen(a->local);
    for (u = simulator_users; *u != NULL; u++)
        if (strlen(*u) == len && strncasecmp(a->local, *u, len) == 0)
            return 1;
    return 0;
}

/* copy_bounded - strlcpy: copy what fits, always terminate */
static void
copy_bounded(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* try_identity - look up one candidate; record the first unusable one */
static SG_STATUS
try_identity(SG_SNAP *snap, const char *region, const char *name,
             struct sg_coverage *out, int *found)
{
    struct sg_identity id;
    SG_STATUS st;

    *found = 0;
    st = sg_snap_identity(snap, region, name, &id);
    if (st == SG_ERR_NOTFOUND)
        return SG_OK;
    if (st != SG_OK)
        return st;
    if (id.verified && id.sending_enabled) {
        out->covered = 1;
        copy_bounded(out->identity, sizeof(out->identity), name);
        copy_bounded(out->status, sizeof(out->status), id.status);
        out->sending_disabled = 0;
        *found = 1;
    } else if (out->identity[0] == '\0') {
        /* Remember the most specific unusable identity, for the
         * explanation ("alice@example.org is PENDING"). */
        snprintf(out->identity, sizeof(out->identity), "%s", name);
        snprintf(out->status, sizeof(out->status), "%s", id.status);
        out->sending_disabled = id.verified && !id.sending_enabled;
    }
    return SG_OK;
}

/* sg_identity_covers - is an address covered by a verified identity? */
SG_STATUS
sg_identity_covers(SG_SNAP *snap, const char *region,
                   const struct sg_addr *a, struct sg_coverage *out)
{
    char key[SG_ADDR_MAX + 2];
    const char *d;
    SG_STATUS st;
    int found;

    memset(out, 0, sizeof(*out));
    if (a->addr[0] == '\0')
        return SG_OK;

    /* 1. The address itself (local part case kept, domain lower). */
    if (sg_identity_key_buf(a->addr, key, sizeof(key)) != NULL) {
        if ((st = try_identity(snap, region, key, out, &found)) != SG_OK)
            return st;
        if (found)
            return SG_OK;
    }
    /* 2. Without its "+label". */
    if (sg_addr_strip_label_buf(a, key, sizeof(key)) != NULL) {
        char norm[SG_ADDR_MAX + 2];

        if (sg_identity_key_buf(key, norm, sizeof(norm)) != NULL) {
            if ((st = try_identity(snap, region, norm, out, &found))
                != SG_OK)
                return st;
            if (found)
                return SG_OK;
        }
    }
    /* 3. The domain and each parent domain. An address literal has no
     * parent domains, and a bare TLD is never an SES identity, but
     * looking it up is harmless and keeps the rule simple. */
    for (d = a->domain; d != NULL && *d != '\0';) {
        if ((st = try_identity(snap, region, d, out, &found)) != SG_OK)
            return st;
        if (found)
            return SG_OK;
        if (d[0] == '[')
            break;
        d = strchr(d, '.');
        if (d != NULL)
            d++;
    }
    return SG_OK;
}
