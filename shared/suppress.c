/*
 * suppress.c - the account-level suppression list (R5) in the state
 *   store: lookups, iteration, add, remove, bulk import
 */

/* System headers. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Third-party headers. */
#include <jansson.h>
#include <lmdb.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "state.h"
#include "state_int.h"

/* Bounds of the bulk importer. */
#define SUPP_LINE_MAX   4096            /* one line */
#define SUPP_FILE_MAX   ((long long)4 << 30)  /* one file */

/* sg_supp_reason_name - "BOUNCE" / "COMPLAINT" */
const char *
sg_supp_reason_name(enum sg_supp_reason reason)
{
    switch (reason) {
    case SG_SUPP_BOUNCE:
        return "BOUNCE";
    case SG_SUPP_COMPLAINT:
        return "COMPLAINT";
    default:
        return "UNKNOWN";
    }
}

/* sg_supp_reason_parse - case-insensitive; 0 if unknown */
enum sg_supp_reason
sg_supp_reason_parse(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcasecmp(name, "BOUNCE") == 0)
        return SG_SUPP_BOUNCE;
    if (strcasecmp(name, "COMPLAINT") == 0)
        return SG_SUPP_COMPLAINT;
    return 0;
}

/* sg_supp_encode - encode a suppressed entry's value */
size_t
sg_supp_encode(unsigned char *buf, size_t size, enum sg_supp_reason reason,
               long long when, const char *addr, size_t addrlen,
               const char *keyaddr, size_t keyaddrlen, const char *json,
               size_t jsonlen)
{
    int64_t t = (int64_t)when;
    uint16_t n = (uint16_t)addrlen;
    size_t o = 10;
    int store = addrlen != keyaddrlen || memcmp(addr, keyaddr, addrlen) != 0;

    if (addrlen > SG_ADDR_MAX
        || size < 10 + (store ? 2 + addrlen : 0) + jsonlen)
        return 0;
    buf[0] = (unsigned char)reason;
    buf[1] = store ? SG_SUPPV_ADDR : 0;
    memcpy(buf + 2, &t, 8);
    if (store) {
        memcpy(buf + o, &n, 2);
        memcpy(buf + o + 2, addr, addrlen);
        o += 2 + addrlen;
    }
    if (jsonlen > 0)
        memcpy(buf + o, json, jsonlen);
    return o + jsonlen;
}

/* sg_supp_decode - decode a suppressed value */
int
sg_supp_decode(const void *data, size_t len, const char *keyaddr,
               size_t keyaddrlen, struct sg_suppressed *out,
               const char **json, size_t *jsonlen)
{
    const unsigned char *p = data;
    int64_t t;
    uint16_t n;
    size_t o = 10;

    if (len < 10 || (p[0] != SG_SUPP_BOUNCE && p[0] != SG_SUPP_COMPLAINT))
        return -1;
    out->reason = (enum sg_supp_reason)p[0];
    memcpy(&t, p + 2, 8);
    out->updated = (long long)t;
    if (p[1] & SG_SUPPV_ADDR) {
        if (len < 12)
            return -1;
        memcpy(&n, p + 10, 2);
        if (n > SG_ADDR_MAX || len < 12 + (size_t)n)
            return -1;
        memcpy(out->address, p + 12, n);
        out->address[n] = '\0';
        o = 12 + (size_t)n;
    } else {
        if (keyaddrlen > SG_ADDR_MAX)
            return -1;
        memcpy(out->address, keyaddr, keyaddrlen);
        out->address[keyaddrlen] = '\0';
    }
    if (json != NULL) {
        *json = (const char *)p + o;
        *jsonlen = len - o;
    }
    return 0;
}

/* sg_snap_suppressed - an address on the suppression list */
SG_STATUS
sg_snap_suppressed(SG_SNAP *snap, const char *region, const char *addr,
                   struct sg_suppressed *out)
{
    char key[SG_KEY_MAX];
    size_t klen, alen;
    MDB_val k, v;
    int rc;

    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    if (addr == NULL || (alen = strlen(addr)) > SG_ADDR_MAX
        || (klen = sg_state_key(key, sizeof(key), region, addr, alen,
                                1)) == 0)
        return SG_ERR_NOTFOUND;
    k.mv_data = key;
    k.mv_size = klen;
    rc = mdb_get(snap->txn, snap->st->supp, &k, &v);
    if (rc == MDB_NOTFOUND)
        return SG_ERR_NOTFOUND;
    if (rc != 0) {
        snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s",
                 snap->st->path, mdb_strerror(rc));
        return SG_ERR_STATE;
    }
    if (sg_supp_decode(v.mv_data, v.mv_size, key + klen - alen, alen, out,
                       NULL, NULL) != 0) {
        snprintf(snap->err, sizeof(snap->err), "%s: bad suppressed entry",
                 snap->st->path);
        return SG_ERR_STATE;
    }
    return SG_OK;
}

/* sg_supp_each_raw - iterate a region's list in key order */
SG_STATUS
sg_supp_each_raw(SG_SNAP *snap, const char *region, sg_supp_raw_fn fn,
                 void *arg)
{
    char key[SG_KEY_MAX];
    struct sg_suppressed e;
    MDB_cursor *cur;
    MDB_val k, v;
    const char *json;
    size_t plen, jlen;
    int rc;

    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    if ((plen = sg_state_key(key, sizeof(key), region, "x", 1, 0)) == 0)
        return SG_OK;
    plen--;
    if ((rc = mdb_cursor_open(snap->txn, snap->st->supp, &cur)) != 0)
        goto fail;
    k.mv_data = key;
    k.mv_size = plen;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, key, plen) != 0)
            break;
        if (sg_supp_decode(v.mv_data, v.mv_size, (char *)k.mv_data + plen,
                           k.mv_size - plen, &e, &json, &jlen) != 0) {
            mdb_cursor_close(cur);
            snprintf(snap->err, sizeof(snap->err),
                     "%s: bad suppressed entry", snap->st->path);
            return SG_ERR_STATE;
        }
        if (fn(&e, json, jlen, arg) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return SG_OK;
fail:
    snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s",
             snap->st->path, mdb_strerror(rc));
    return SG_ERR_STATE;
}

/* Adapter from the raw iterator to the public callback. */
struct each_arg {
    const char *region;
    sg_supp_fn fn;
    void *arg;
};

/* each_adapter - call the public callback */
static int
each_adapter(const struct sg_suppressed *e, const char *json,
             size_t jsonlen, void *arg)
{
    struct each_arg *a = arg;

    (void)json;
    (void)jsonlen;
    return a->fn(a->region, e, a->arg);
}

/* sg_snap_suppressed_each - iterate a region's suppression list */
SG_STATUS
sg_snap_suppressed_each(SG_SNAP *snap, const char *region, sg_supp_fn fn,
                        void *arg)
{
    struct each_arg a;

    a.region = region;
    a.fn = fn;
    a.arg = arg;
    return sg_supp_each_raw(snap, region, each_adapter, &a);
}

/* write_begin - a write transaction on a writable store */
static SG_STATUS
write_begin(SG_STATE *st, MDB_txn **txn, char *err, size_t errlen)
{
    int rc;

    if (st == NULL || (st->flags & SG_STATE_RDONLY)) {
        sg_state_seterr(err, errlen, "state store opened read-only");
        return SG_ERR_USAGE;
    }
    if ((rc = mdb_txn_begin(st->env, NULL, 0, txn)) != 0) {
        sg_state_seterr(err, errlen, "%s: %s", st->path, mdb_strerror(rc));
        return sg_state_mdb_status(rc);
    }
    return SG_OK;
}

/* mdb_fail - abort and report an LMDB failure */
static SG_STATUS
mdb_fail(SG_STATE *st, MDB_txn *txn, int rc, char *err, size_t errlen)
{
    SG_STATUS s = sg_state_mdb_status(rc);

    if (txn != NULL)
        mdb_txn_abort(txn);
    sg_state_seterr(err, errlen, "%s: %s", st->path, mdb_strerror(rc));
    return s == SG_ERR_NOTFOUND ? SG_ERR_STATE : s;
}

/* valid_addr - an address fit for the list; 0 if not */
static int
valid_addr(const char *addr, size_t len)
{
    size_t i;

    if (len == 0 || len > SG_ADDR_MAX || memchr(addr, '@', len) == NULL)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];

        if (c <= 0x20 || c == 0x7f || c == '"' || c == ',')
            return 0;
    }
    return 1;
}

/*
 * put_one - add or update one address inside a write transaction
 *
 * Keeps the unknown fields of an entry already listed; counts a new
 * entry in acct.
 */
static int
put_one(SG_STATE *st, MDB_txn *txn, const char *region, const char *addr,
        size_t alen, enum sg_supp_reason reason, long long when,
        struct sg_account *acct)
{
    char key[SG_KEY_MAX];
    unsigned char small[SG_SUPPV_HEAD + 256];
    unsigned char *val = small;
    struct sg_suppressed old;
    const char *json = NULL;
    size_t klen, jlen = 0, vlen;
    MDB_val k, v;
    int rc;

    if ((klen = sg_state_key(key, sizeof(key), region, addr, alen, 1)) == 0)
        return EINVAL;
    k.mv_data = key;
    k.mv_size = klen;
    rc = mdb_get(txn, st->supp, &k, &v);
    if (rc == 0) {
        if (sg_supp_decode(v.mv_data, v.mv_size, key + klen - alen, alen,
                           &old, &json, &jlen) != 0)
            jlen = 0;
    } else if (rc == MDB_NOTFOUND) {
        acct->suppressed++;
    } else {
        return rc;
    }
    if (SG_SUPPV_HEAD + jlen > sizeof(small)
        && (val = malloc(SG_SUPPV_HEAD + jlen)) == NULL)
        return ENOMEM;
    /* json points into the map: copy it before the put changes pages. */
    vlen = sg_supp_encode(val, SG_SUPPV_HEAD + jlen, reason, when, addr,
                          alen, key + klen - alen, alen, json, jlen);
    v.mv_data = val;
    v.mv_size = vlen;
    rc = vlen == 0 ? EINVAL : mdb_put(txn, st->supp, &k, &v, 0);
    if (val != small)
        free(val);
    return rc;
}

/* sg_state_suppress_add - put an address on a region's list */
SG_STATUS
sg_state_suppress_add(SG_STATE *st, const char *region, const char *addr,
                      enum sg_supp_reason reason, long long when, char *err,
                      size_t errlen)
{
    struct sg_account acct;
    MDB_txn *txn;
    SG_STATUS s;
    int rc;

    if (addr == NULL || !valid_addr(addr, strlen(addr))) {
        sg_state_seterr(err, errlen, "bad address: %.*s", SG_ADDR_MAX,
                        addr != NULL ? addr : "(null)");
        return SG_ERR_SYNTAX;
    }
    if (reason != SG_SUPP_BOUNCE && reason != SG_SUPP_COMPLAINT) {
        sg_state_seterr(err, errlen, "bad suppression reason");
        return SG_ERR_USAGE;
    }
    if ((s = write_begin(st, &txn, err, errlen)) != SG_OK)
        return s;
    if (region == NULL
        || (s = sg_state_account_get(st, txn, region, &acct)) != SG_OK) {
        mdb_txn_abort(txn);
        sg_state_seterr(err, errlen, "region %s is not in the state",
                        region != NULL ? region : "(none)");
        return SG_ERR_NOTFOUND;
    }
    if ((rc = put_one(st, txn, region, addr, strlen(addr), reason, when,
                      &acct)) != 0)
        return mdb_fail(st, txn, rc, err, errlen);
    if ((s = sg_state_account_put(st, txn, region, &acct)) != SG_OK) {
        mdb_txn_abort(txn);
        sg_state_seterr(err, errlen, "%s: cannot update %s", st->path,
                        region);
        return s;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return mdb_fail(st, NULL, rc, err, errlen);
    return SG_OK;
}

/* remove_one - delete an address from one region; 1 if it was there */
static int
remove_one(SG_STATE *st, MDB_txn *txn, const char *region, const char *addr,
           int *rcp)
{
    char key[SG_KEY_MAX];
    struct sg_account acct;
    size_t klen;
    MDB_val k;
    int rc;

    *rcp = 0;
    if ((klen = sg_state_key(key, sizeof(key), region, addr, strlen(addr),
                             1)) == 0)
        return 0;
    k.mv_data = key;
    k.mv_size = klen;
    rc = mdb_del(txn, st->supp, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0) {
        *rcp = rc;
        return 0;
    }
    if (sg_state_account_get(st, txn, region, &acct) == SG_OK) {
        if (acct.suppressed > 0)
            acct.suppressed--;
        if (sg_state_account_put(st, txn, region, &acct) != SG_OK)
            *rcp = EIO;
    }
    return 1;
}

/* sg_state_suppress_remove - take an address off the list */
SG_STATUS
sg_state_suppress_remove(SG_STATE *st, const char *region, const char *addr,
                         int *removed, char *err, size_t errlen)
{
    char (*regions)[SG_REGION_MAX + 1] = NULL;
    struct sg_snap snap;
    MDB_txn *txn;
    size_t n = 0, i;
    int count = 0, rc = 0;
    SG_STATUS s;

    if (removed != NULL)
        *removed = 0;
    if (addr == NULL || *addr == '\0' || strlen(addr) > SG_ADDR_MAX) {
        sg_state_seterr(err, errlen, "bad address");
        return SG_ERR_SYNTAX;
    }
    if ((s = write_begin(st, &txn, err, errlen)) != SG_OK)
        return s;
    if (region != NULL) {
        count = remove_one(st, txn, region, addr, &rc);
    } else {
        /* Every region in the state: read them through the write txn. */
        memset(&snap, 0, sizeof(snap));
        snap.st = st;
        snap.txn = txn;
        snap.running = 1;
        n = sg_snap_regions(&snap, NULL, 0);
        if (n > 0 && (regions = calloc(n, sizeof(*regions))) == NULL)
            return mdb_fail(st, txn, ENOMEM, err, errlen);
        n = sg_snap_regions(&snap, regions, n);
        for (i = 0; i < n && rc == 0; i++)
            count += remove_one(st, txn, regions[i], addr, &rc);
        free(regions);
    }
    if (rc != 0)
        return mdb_fail(st, txn, rc, err, errlen);
    if ((rc = mdb_txn_commit(txn)) != 0)
        return mdb_fail(st, NULL, rc, err, errlen);
    if (removed != NULL)
        *removed = count;
    return SG_OK;
}

/* trim - strip white space and one pair of double quotes */
static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'
                     || s[n - 1] == '\n'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/*
 * parse_line - one line of a bulk file: CSV "address,reason" or a JSON
 *   object; addr/reason set; returns NULL or the static reason of failure
 */
static const char *
parse_line(char *line, char *addr, enum sg_supp_reason *reason)
{
    json_error_t jerr;
    json_t *o, *a, *r;
    char *comma, *f1, *f2;
    const char *s = NULL;

    if (*line == '{') {
        if ((o = json_loads(line, 0, &jerr)) == NULL)
            return "malformed JSON";
        a = json_object_get(o, "EmailAddress");
        r = json_object_get(o, "Reason");
        if (!json_is_string(a))
            s = "EmailAddress: expected a string";
        else if (!json_is_string(r))
            s = "Reason: expected a string";
        else if (json_string_length(a) > SG_ADDR_MAX)
            s = "address too long";
        if (s == NULL) {
            snprintf(addr, SG_ADDR_MAX + 1, "%s", json_string_value(a));
            *reason = sg_supp_reason_parse(json_string_value(r));
        }
        json_decref(o);
        if (s != NULL)
            return s;
    } else {
        if ((comma = strchr(line, ',')) == NULL)
            return "expected address,reason";
        *comma = '\0';
        f1 = trim(line);
        f2 = trim(comma + 1);
        if (strchr(f2, ',') != NULL)
            return "expected address,reason";
        if (strlen(f1) > SG_ADDR_MAX)
            return "address too long";
        snprintf(addr, SG_ADDR_MAX + 1, "%s", f1);
        *reason = sg_supp_reason_parse(f2);
    }
    if (!valid_addr(addr, strlen(addr)))
        return "bad address";
    if (*reason == 0)
        return "reason must be BOUNCE or COMPLAINT";
    return NULL;
}

/* sg_state_suppress_import - add many addresses to a region's list */
SG_STATUS
sg_state_suppress_import(SG_STATE *st, const char *region, const char *path,
                         long long when, long long *added, char *err,
                         size_t errlen)
{
    char line[SUPP_LINE_MAX + 2], addr[SG_ADDR_MAX + 1];
    enum sg_supp_reason reason;
    struct sg_account acct;
    const char *why;
    char *p;
    FILE *fp;
    MDB_txn *txn;
    long long n = 0, lineno = 0;
    size_t len;
    int rc, first = 1;
    SG_STATUS s;

    if (added != NULL)
        *added = 0;
    if ((fp = fopen(path, "r")) == NULL) {
        sg_state_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return SG_ERR_IO;
    }
    if ((s = write_begin(st, &txn, err, errlen)) != SG_OK) {
        fclose(fp);
        return s;
    }
    if (region == NULL
        || sg_state_account_get(st, txn, region, &acct) != SG_OK) {
        mdb_txn_abort(txn);
        fclose(fp);
        sg_state_seterr(err, errlen, "region %s is not in the state",
                        region != NULL ? region : "(none)");
        return SG_ERR_NOTFOUND;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
            why = "line too long";
            goto bad;
        }
        p = trim(line);
        if (*p == '\0')
            continue;
        if (first) {
            first = 0;
            if (strncasecmp(p, "EmailAddress", 12) == 0)
                continue;       /* the CSV header */
        }
        if ((why = parse_line(p, addr, &reason)) != NULL)
            goto bad;
        if ((rc = put_one(st, txn, region, addr, strlen(addr), reason, when,
                          &acct)) != 0) {
            fclose(fp);
            return mdb_fail(st, txn, rc, err, errlen);
        }
        n++;
    }
    if (ferror(fp)) {
        mdb_txn_abort(txn);
        fclose(fp);
        sg_state_seterr(err, errlen, "%s: read error", path);
        return SG_ERR_IO;
    }
    fclose(fp);
    if ((s = sg_state_account_put(st, txn, region, &acct)) != SG_OK) {
        mdb_txn_abort(txn);
        sg_state_seterr(err, errlen, "%s: cannot update %s", st->path,
                        region);
        return s;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return mdb_fail(st, NULL, rc, err, errlen);
    if (added != NULL)
        *added = n;
    return SG_OK;
bad:
    mdb_txn_abort(txn);
    fclose(fp);
    sg_state_seterr(err, errlen, "%s:%lld: %s", path, lineno, why);
    return SG_ERR_SYNTAX;
}
