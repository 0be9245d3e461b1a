/*
 * state_iter.c - read accessors of the state store for authz and lint:
 *   identities with their JSON, a region's extra JSON, configuration
 *   set names
 *
 * Built on the store's internals (state_int.h): the same database
 * handles and the identity value encoding ([type][verified][sending]
 * [n][status: n bytes][JSON]) that state.c writes.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <lmdb.h>

/* Local headers. */
#include "config.h"
#include "identity.h"
#include "state_int.h"

/* iter_fail - record an LMDB failure in the snapshot */
static SG_STATUS
iter_fail(SG_SNAP *snap, int rc)
{
    snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s",
             snap->st->path, mdb_strerror(rc));
    return SG_ERR_STATE;
}

/* copy_out - a NUL-terminated copy of a value */
static SG_STATUS
copy_out(const void *data, size_t len, char **out, size_t *outlen)
{
    if ((*out = malloc(len + 1)) == NULL)
        return SG_ERR_NOMEM;
    memcpy(*out, data, len);
    (*out)[len] = '\0';
    if (outlen != NULL)
        *outlen = len;
    return SG_OK;
}

/* sg_snap_prefix_each - walk the keys "region\t..." of a database */
SG_STATUS
sg_snap_prefix_each(SG_SNAP *snap, MDB_dbi dbi, const char *region,
                    sg_snap_prefix_fn fn, void *arg)
{
    char key[SG_KEY_MAX];
    MDB_cursor *cur;
    MDB_val k, v;
    size_t plen;
    int rc, stop = 0;

    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    /* The prefix "region\t": a key with a one-letter name, less it. */
    if ((plen = sg_state_key(key, sizeof(key), region, "x", 1, 0)) == 0)
        return SG_ERR_NOTFOUND;
    plen--;
    if ((rc = mdb_cursor_open(snap->txn, dbi, &cur)) != 0)
        return iter_fail(snap, rc);
    k.mv_data = key;
    k.mv_size = plen;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, key, plen) != 0)
            break;
        if ((stop = fn((const char *)k.mv_data + plen, k.mv_size - plen, &v,
                       arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (stop < 0)
        return SG_ERR_STATE;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return iter_fail(snap, rc);
    return SG_OK;
}

/* sg_snap_identity_json - a stored identity's whole JSON entry */
SG_STATUS
sg_snap_identity_json(SG_SNAP *snap, const char *region, const char *name,
                      char **out, size_t *len)
{
    char norm[SG_STATE_NAME_MAX + 1];
    char key[SG_KEY_MAX];
    struct sg_identity id;
    const char *json;
    size_t klen, jlen;
    MDB_val k, v;
    int rc;

    *out = NULL;
    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    if (sg_identity_key_buf(name, norm, sizeof(norm)) == NULL
        || (klen = sg_state_key(key, sizeof(key), region, norm,
                                strlen(norm), 0)) == 0)
        return SG_ERR_NOTFOUND;
    k.mv_data = key;
    k.mv_size = klen;
    rc = mdb_get(snap->txn, snap->st->ident, &k, &v);
    if (rc == MDB_NOTFOUND)
        return SG_ERR_NOTFOUND;
    if (rc != 0)
        return iter_fail(snap, rc);
    if (sg_state_ident_decode(&v, &id, &json, &jlen) != 0) {
        snprintf(snap->err, sizeof(snap->err), "%s: bad identity %s",
                 snap->st->path, norm);
        return SG_ERR_STATE;
    }
    return copy_out(json, jlen, out, len);
}

/* What the identity and configuration set walks hand their entries. */
struct named_arg {
    const char *region;
    sg_ident_fn ident_fn;
    sg_cset_fn cset_fn;
    void *arg;
};

/* ident_entry - one stored identity; malformed ones are passed over */
static int
ident_entry(const char *key, size_t nlen, const MDB_val *v, void *arg)
{
    const struct named_arg *a = arg;
    char name[SG_STATE_NAME_MAX + 1];
    struct sg_identity id;
    const char *json;
    size_t jlen;

    if (nlen >= sizeof(name)
        || sg_state_ident_decode(v, &id, &json, &jlen) != 0)
        return 0;
    memcpy(name, key, nlen);
    name[nlen] = '\0';
    return a->ident_fn(a->region, name, &id, json, jlen, a->arg) != 0;
}

/* sg_snap_identities_each - iterate a region's identities */
SG_STATUS
sg_snap_identities_each(SG_SNAP *snap, const char *region, sg_ident_fn fn,
                        void *arg)
{
    struct named_arg a = { region, fn, NULL, arg };

    return sg_snap_prefix_each(snap, snap->st->ident, region, ident_entry,
                               &a);
}

/* sg_snap_region_json - a region's extra JSON */
SG_STATUS
sg_snap_region_json(SG_SNAP *snap, const char *region, char **out,
                    size_t *len)
{
    char key[64];
    size_t n = sizeof(SG_META_REGIONJSON) - 1, i;
    MDB_val k, v;
    int rc;

    *out = NULL;
    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    if (region == NULL || *region == '\0'
        || n + strlen(region) >= sizeof(key))
        return SG_ERR_NOTFOUND;
    memcpy(key, SG_META_REGIONJSON, n);
    for (i = 0; region[i] != '\0'; i++)
        key[n++] = (char)(region[i] >= 'A' && region[i] <= 'Z'
                          ? region[i] - 'A' + 'a' : region[i]);
    k.mv_data = key;
    k.mv_size = n;
    rc = mdb_get(snap->txn, snap->st->meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return SG_ERR_NOTFOUND;
    if (rc != 0)
        return iter_fail(snap, rc);
    return copy_out(v.mv_data, v.mv_size, out, len);
}

/* cset_entry - one configuration set name */
static int
cset_entry(const char *key, size_t nlen, const MDB_val *v, void *arg)
{
    const struct named_arg *a = arg;
    char name[SG_STATE_NAME_MAX + 1];

    (void)v;
    if (nlen >= sizeof(name))
        return 0;
    memcpy(name, key, nlen);
    name[nlen] = '\0';
    return a->cset_fn(a->region, name, a->arg) != 0;
}

/* sg_snap_config_sets_each - a region's configuration set names */
SG_STATUS
sg_snap_config_sets_each(SG_SNAP *snap, const char *region, sg_cset_fn fn,
                         void *arg)
{
    struct named_arg a = { region, NULL, fn, arg };

    return sg_snap_prefix_each(snap, snap->st->cset, region, cset_entry,
                               &a);
}
