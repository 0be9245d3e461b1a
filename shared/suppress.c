/*
 * suppress.c - the account-level suppression list (R5) in the state
 *   store: lookups, iteration, add, remove, bulk import, and the
 *   per-region filter in front of the lookups (layout and upkeep rules
 *   in state_int.h)
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

/* ------------------------------------------------------------------ */
/* The suppression filter                                              */
/* ------------------------------------------------------------------ */

/* The blocks of a large filter start on a cache line (state_int.h). */
_Static_assert(sizeof(struct sg_filter_head) == 48,
               "filter head must be 48 bytes");

/* rotl64 - rotate left */
static inline uint64_t
rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* sg_supp_filter_hash - the seedless hash of a lower-cased address */
uint64_t
sg_supp_filter_hash(const char *addr, size_t len)
{
    const uint64_t k1 = 0x87c37b91114253d5ull;
    const uint64_t k2 = 0x4cf5ad432745937full;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)len * k2);
    uint64_t w;

    /* Eight bytes a step; host byte order, as the store is per host. */
    for (; len >= 8; addr += 8, len -= 8) {
        memcpy(&w, addr, 8);
        h = rotl64(h ^ (w * k1), 29) * k2;
    }
    if (len > 0) {
        w = 0;
        memcpy(&w, addr, len);
        h = rotl64(h ^ (w * k1), 29) * k2;
    }
    return h;
}

/*
 * filter_block - the block of probe hash h: a multiply-high maps the
 *   top 32 bits onto 0..nblocks-1 without a division
 */
static inline uint64_t
filter_block(uint64_t h, uint64_t nblocks)
{
    return ((h >> 32) * nblocks) >> 32;
}

/*
 * filter_lanes - the probe's second hash: bit (g >> (16 + 6 * i)) & 63
 *   of word i of the block, for the eight words; a multiply spreads all
 *   of h into the top 48 bits
 */
static inline uint64_t
filter_lanes(uint64_t h)
{
    return h * 0x9e3779b97f4a7c15ull;
}

/* filter_has - whether all eight bits of probe hash h are set */
static inline int
filter_has(const unsigned char *blocks, uint64_t nblocks, uint64_t h)
{
    const unsigned char *b = blocks + filter_block(h, nblocks)
        * SG_FILTER_BLOCK;
    uint64_t g = filter_lanes(h), miss = 0, w;
    int i;

    for (i = 0; i < 8; i++) {
        memcpy(&w, b + 8 * i, 8);
        miss |= ~w & ((uint64_t)1 << ((g >> (16 + 6 * i)) & 63));
    }
    return miss == 0;
}

/* filter_set - set the eight bits of probe hash h */
static void
filter_set(unsigned char *blocks, uint64_t nblocks, uint64_t h)
{
    unsigned char *b = blocks + filter_block(h, nblocks) * SG_FILTER_BLOCK;
    uint64_t g = filter_lanes(h), w;
    int i;

    for (i = 0; i < 8; i++) {
        memcpy(&w, b + 8 * i, 8);
        w |= (uint64_t)1 << ((g >> (16 + 6 * i)) & 63);
        memcpy(b + 8 * i, &w, 8);
    }
}

/* filter_nblocks - blocks for n addresses at SG_FILTER_BITS each */
static uint64_t
filter_nblocks(long long n)
{
    uint64_t bits, nb;

    if (n < 1)
        n = 1;
    bits = (uint64_t)n * SG_FILTER_BITS;
    nb = (bits + SG_FILTER_BLOCK * 8 - 1) / (SG_FILTER_BLOCK * 8);
    return nb < SG_FILTER_MAXBLOCKS ? nb : SG_FILTER_MAXBLOCKS - 1;
}

/* filter_outgrown - whether count addresses are too many for nblocks */
static int
filter_outgrown(uint64_t count, uint64_t nblocks)
{
    uint64_t sized_for = nblocks * SG_FILTER_BLOCK * 8 / SG_FILTER_BITS;

    return nblocks < SG_FILTER_MAXBLOCKS - 1
        && count > SG_FILTER_GROW * sized_for;
}

/*
 * filter_open - check a stored filter value
 *
 * Returns: the head (copied into *hd) and blocks, or NULL when the value
 *   is not a filter this code can read (then the tree decides alone).
 */
static const unsigned char *
filter_open(const MDB_val *v, struct sg_filter_head *hd)
{
    if (v->mv_size < sizeof(*hd))
        return NULL;
    memcpy(hd, v->mv_data, sizeof(*hd));
    if (hd->magic != SG_FILTER_MAGIC || hd->version != SG_FILTER_VERSION
        || hd->nblocks == 0 || hd->nblocks >= SG_FILTER_MAXBLOCKS
        || v->mv_size != sizeof(*hd) + hd->nblocks * SG_FILTER_BLOCK)
        return NULL;
    return (const unsigned char *)v->mv_data + sizeof(*hd);
}

/* filter_key - "suppfilter/" and the lower-cased region; 0 if too long */
static size_t
filter_key(char *buf, size_t size, const char *region, size_t rlen)
{
    size_t n = sizeof(SG_META_SUPPFILTER) - 1, i;

    if (rlen == 0 || n + rlen >= size)
        return 0;
    memcpy(buf, SG_META_SUPPFILTER, n);
    for (i = 0; i < rlen; i++) {
        char c = region[i];

        buf[n + i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    return n + rlen;
}

/*
 * snap_filter - the region's filter in a running snapshot, found once
 *   per snapshot and region (cached in the SG_SNAP); NULL when there is
 *   none or it cannot be read
 */
static const unsigned char *
snap_filter(SG_SNAP *snap, const char *region)
{
    char key[sizeof(SG_META_SUPPFILTER) + SG_REGION_MAX];
    struct sg_filter_head hd;
    size_t rlen;
    MDB_val k, v;

    if (snap->fcached && strcmp(snap->fregion, region) == 0)
        return snap->fblocks;
    if ((rlen = strlen(region)) > SG_REGION_MAX)
        return NULL;
    memcpy(snap->fregion, region, rlen + 1);
    snap->fcached = 1;
    snap->fblocks = NULL;
    if ((k.mv_size = filter_key(key, sizeof(key), region, rlen)) == 0)
        return NULL;
    k.mv_data = key;
    /* A failure here is left to the tree lookup to report. */
    if (mdb_get(snap->txn, snap->st->meta, &k, &v) != 0)
        return NULL;
    if ((snap->fblocks = filter_open(&v, &hd)) != NULL) {
        snap->fnblocks = hd.nblocks;
        snap->fseed = hd.seed;
    }
    return snap->fblocks;
}

/* sg_supp_filter_test - what a region's filter says of an address */
int
sg_supp_filter_test(SG_SNAP *snap, const char *region, const char *addr)
{
    char low[SG_ADDR_MAX];
    const unsigned char *blocks;
    size_t len, i;

    if (!snap->running || region == NULL || addr == NULL
        || (len = strlen(addr)) > SG_ADDR_MAX
        || (blocks = snap_filter(snap, region)) == NULL)
        return -1;
    for (i = 0; i < len; i++)
        low[i] = addr[i] >= 'A' && addr[i] <= 'Z'
            ? (char)(addr[i] - 'A' + 'a') : addr[i];
    return filter_has(blocks, snap->fnblocks,
                      sg_supp_filter_mix(sg_supp_filter_hash(low, len),
                                         snap->fseed));
}

/* filter_put_head - write a head into a (reserved) value */
static void
filter_put_head(void *data, uint64_t nblocks, uint64_t seed,
                uint64_t count)
{
    struct sg_filter_head hd;

    memset(&hd, 0, sizeof(hd));
    hd.magic = SG_FILTER_MAGIC;
    hd.version = SG_FILTER_VERSION;
    hd.nblocks = nblocks;
    hd.seed = seed;
    hd.count = count;
    memcpy(data, &hd, sizeof(hd));
}

/* sg_supp_filter_begin - reserve and clear a region's filter */
int
sg_supp_filter_begin(SG_STATE *st, MDB_txn *txn, const char *region,
                     long long n, struct sg_filter_build *b)
{
    char key[sizeof(SG_META_SUPPFILTER) + SG_REGION_MAX];
    MDB_val k, v;
    int rc;

    if (region == NULL
        || (k.mv_size = filter_key(key, sizeof(key), region,
                                   strlen(region))) == 0)
        return EINVAL;
    k.mv_data = key;
    b->nblocks = filter_nblocks(n);
    b->seed = SG_FILTER_SEED;
    v.mv_size = sizeof(struct sg_filter_head) + b->nblocks
        * SG_FILTER_BLOCK;
    if ((rc = mdb_put(txn, st->meta, &k, &v, MDB_RESERVE)) != 0)
        return rc;
    memset(v.mv_data, 0, v.mv_size);
    filter_put_head(v.mv_data, b->nblocks, b->seed,
                    (uint64_t)(n > 0 ? n : 0));
    b->blocks = (unsigned char *)v.mv_data + sizeof(struct sg_filter_head);
    return 0;
}

/* sg_supp_filter_insert - set the bits of a lower-cased address */
void
sg_supp_filter_insert(const struct sg_filter_build *b, const char *addr,
                      size_t len)
{
    filter_set(b->blocks, b->nblocks,
               sg_supp_filter_mix(sg_supp_filter_hash(addr, len), b->seed));
}

/*
 * filter_fill - set the bits of every entry of a region into a filter
 *   being built; *count set to the number of entries
 */
static int
filter_fill(SG_STATE *st, MDB_txn *txn, const char *pfx, size_t plen,
            const struct sg_filter_build *b, uint64_t *count)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    *count = 0;
    if ((rc = mdb_cursor_open(txn, st->supp, &cur)) != 0)
        return rc;
    k.mv_data = (void *)pfx;
    k.mv_size = plen;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, pfx, plen) != 0)
            break;
        sg_supp_filter_insert(b, (const char *)k.mv_data + plen,
                              k.mv_size - plen);
        (*count)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* sg_supp_filter_rebuild - build a region's filter from its entries */
int
sg_supp_filter_rebuild(SG_STATE *st, MDB_txn *txn, const char *region,
                       long long expect)
{
    char key[sizeof(SG_META_SUPPFILTER) + SG_REGION_MAX];
    char pfx[SG_KEY_MAX];
    struct sg_filter_build b;
    uint64_t count = 0;
    size_t plen;
    MDB_val k;
    int rc, pass;

    if (region == NULL
        || (k.mv_size = filter_key(key, sizeof(key), region,
                                   strlen(region))) == 0
        || (plen = sg_state_key(pfx, sizeof(pfx), region, "x", 1, 0)) == 0)
        return EINVAL;
    k.mv_data = key;
    plen--;                     /* "region\t" */
    /*
     * The reserved space is filled by reading only (cursor gets are not
     * updates), so its pointer stays valid. A second pass only when the
     * summary's count was far too low.
     */
    for (pass = 0; pass < 2; pass++) {
        if ((rc = sg_supp_filter_begin(st, txn, region, expect, &b)) != 0
            || (rc = filter_fill(st, txn, pfx, plen, &b, &count)) != 0)
            return rc;
        filter_put_head(b.blocks - sizeof(struct sg_filter_head),
                        b.nblocks, b.seed, count);
        if (!filter_outgrown(count, b.nblocks))
            break;
        expect = (long long)count;
    }
    if (count == 0) {
        /* An empty list needs no filter: the tree is one page. */
        rc = mdb_del(txn, st->meta, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return 0;
}

/*
 * filter_add - set the bits of newly listed addresses (raw hashes) in a
 *   region's filter inside the write transaction that listed them
 *
 * The new value is reserved at the same size and the old one copied in.
 * The old pointer stays readable across that put: pages of the last
 * committed state are never reused by the transaction that frees them
 * (they are in the map, unchanged until commit), and a value already
 * dirty in this transaction is overwritten in place at the same size
 * (then new == old and nothing is copied). A missing or unreadable
 * filter, or one outgrown, is rebuilt from the entries (total: the
 * region's count afterwards).
 */
static int
filter_add(SG_STATE *st, MDB_txn *txn, const char *region,
           const uint64_t *raw, size_t n, long long total)
{
    char key[sizeof(SG_META_SUPPFILTER) + SG_REGION_MAX];
    struct sg_filter_head hd;
    const unsigned char *old;
    unsigned char *blocks;
    MDB_val k, v;
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    if (region == NULL
        || (k.mv_size = filter_key(key, sizeof(key), region,
                                   strlen(region))) == 0)
        return EINVAL;
    k.mv_data = key;
    rc = mdb_get(txn, st->meta, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == MDB_NOTFOUND || filter_open(&v, &hd) == NULL
        || filter_outgrown(hd.count + n, hd.nblocks))
        return sg_supp_filter_rebuild(st, txn, region, total);
    old = v.mv_data;
    if ((rc = mdb_put(txn, st->meta, &k, &v, MDB_RESERVE)) != 0)
        return rc;
    if ((const unsigned char *)v.mv_data != old)
        memcpy(v.mv_data, old, v.mv_size);
    blocks = (unsigned char *)v.mv_data + sizeof(hd);
    for (i = 0; i < n; i++)
        filter_set(blocks, hd.nblocks, sg_supp_filter_mix(raw[i], hd.seed));
    filter_put_head(v.mv_data, hd.nblocks, hd.seed, hd.count + n);
    return 0;
}

/* lower_hash - the filter hash of an address in any case */
static uint64_t
lower_hash(const char *addr, size_t len)
{
    char low[SG_ADDR_MAX];
    size_t i;

    if (len > SG_ADDR_MAX)
        len = SG_ADDR_MAX;
    for (i = 0; i < len; i++)
        low[i] = addr[i] >= 'A' && addr[i] <= 'Z'
            ? (char)(addr[i] - 'A' + 'a') : addr[i];
    return sg_supp_filter_hash(low, len);
}

/* sg_snap_suppressed - an address on the suppression list */
SG_STATUS
sg_snap_suppressed(SG_SNAP *snap, const char *region, const char *addr,
                   struct sg_suppressed *out)
{
    char key[SG_KEY_MAX];
    const unsigned char *blocks;
    size_t klen, alen;
    uint64_t h;
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
    /* The filter first: "absent" is certain, and the usual answer. */
    if ((blocks = snap_filter(snap, region)) != NULL) {
        h = sg_supp_filter_hash(key + klen - alen, alen);
        if (!filter_has(blocks, snap->fnblocks,
                        sg_supp_filter_mix(h, snap->fseed)))
            return SG_ERR_NOTFOUND;
    }
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

/* What the raw walk hands each entry. */
struct raw_arg {
    SG_SNAP *snap;
    sg_supp_raw_fn fn;
    void *arg;
};

/* raw_entry - decode one entry; a malformed one stops the walk */
static int
raw_entry(const char *key, size_t alen, const MDB_val *v, void *arg)
{
    const struct raw_arg *a = arg;
    struct sg_suppressed e;
    const char *json;
    size_t jlen;

    if (sg_supp_decode(v->mv_data, v->mv_size, key, alen, &e, &json, &jlen)
        != 0) {
        snprintf(a->snap->err, sizeof(a->snap->err),
                 "%s: bad suppressed entry", a->snap->st->path);
        return -1;
    }
    return a->fn(&e, json, jlen, a->arg) != 0;
}

/* sg_supp_each_raw - iterate a region's list in key order */
SG_STATUS
sg_supp_each_raw(SG_SNAP *snap, const char *region, sg_supp_raw_fn fn,
                 void *arg)
{
    struct raw_arg a = { snap, fn, arg };
    SG_STATUS st;

    st = sg_snap_prefix_each(snap, snap->st->supp, region, raw_entry, &a);
    return st == SG_ERR_NOTFOUND ? SG_OK : st;
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
        sg_seterr(err, errlen, "state store opened read-only");
        return SG_ERR_USAGE;
    }
    if ((rc = mdb_txn_begin(st->env, NULL, 0, txn)) != 0) {
        sg_seterr(err, errlen, "%s: %s", st->path, mdb_strerror(rc));
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
    sg_seterr(err, errlen, "%s: %s", st->path, mdb_strerror(rc));
    return s == SG_ERR_NOTFOUND ? SG_ERR_STATE : s;
}

/* commit_account - store a region's changed account, then commit; the
 *   transaction is gone either way */
static SG_STATUS
commit_account(SG_STATE *st, MDB_txn *txn, const char *region,
               const struct sg_account *acct, char *err, size_t errlen)
{
    SG_STATUS s;
    int rc;

    if ((s = sg_state_account_put(st, txn, region, acct)) != SG_OK) {
        mdb_txn_abort(txn);
        sg_seterr(err, errlen, "%s: cannot update %s", st->path, region);
        return s;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return mdb_fail(st, NULL, rc, err, errlen);
    return SG_OK;
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
    long long before;
    uint64_t raw;
    SG_STATUS s;
    int rc;

    if (addr == NULL || !valid_addr(addr, strlen(addr))) {
        sg_seterr(err, errlen, "bad address: %.*s", SG_ADDR_MAX,
                        addr != NULL ? addr : "(null)");
        return SG_ERR_SYNTAX;
    }
    if (reason != SG_SUPP_BOUNCE && reason != SG_SUPP_COMPLAINT) {
        sg_seterr(err, errlen, "bad suppression reason");
        return SG_ERR_USAGE;
    }
    if ((s = write_begin(st, &txn, err, errlen)) != SG_OK)
        return s;
    if (region == NULL
        || (s = sg_state_account_get(st, txn, region, &acct)) != SG_OK) {
        mdb_txn_abort(txn);
        sg_seterr(err, errlen, "region %s is not in the state",
                        region != NULL ? region : "(none)");
        return SG_ERR_NOTFOUND;
    }
    before = acct.suppressed;
    if ((rc = put_one(st, txn, region, addr, strlen(addr), reason, when,
                      &acct)) != 0)
        return mdb_fail(st, txn, rc, err, errlen);
    if (acct.suppressed != before) {
        raw = lower_hash(addr, strlen(addr));
        if ((rc = filter_add(st, txn, region, &raw, 1,
                             acct.suppressed)) != 0)
            return mdb_fail(st, txn, rc, err, errlen);
    }
    return commit_account(st, txn, region, &acct, err, errlen);
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

/*
 * sg_state_suppress_remove - take an address off the list
 *
 * The region's filter keeps the address's bits: a filter cannot clear
 * one address's bits without losing others', and a stale bit only sends
 * a lookup on to the tree, which answers "not listed". The next rebuild
 * (import, or an add that finds the filter outgrown) drops them.
 */
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
        sg_seterr(err, errlen, "bad address");
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
    long long n = 0, lineno = 0, before;
    uint64_t *raw = NULL;       /* filter hashes of new addresses */
    size_t len, nraw = 0, rawcap = 0;
    int rc, first = 1;
    SG_STATUS s;

    if (added != NULL)
        *added = 0;
    if ((fp = fopen(path, "r")) == NULL) {
        sg_seterr(err, errlen, "%s: %s", path, strerror(errno));
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
        sg_seterr(err, errlen, "region %s is not in the state",
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
        before = acct.suppressed;
        if ((rc = put_one(st, txn, region, addr, strlen(addr), reason, when,
                          &acct)) != 0) {
            fclose(fp);
            free(raw);
            return mdb_fail(st, txn, rc, err, errlen);
        }
        n++;
        if (acct.suppressed == before)
            continue;
        /* Newly listed: its filter bits are set once, after the loop. */
        if (nraw == rawcap) {
            size_t ncap = rawcap ? rawcap * 2 : 1024;
            uint64_t *np = realloc(raw, ncap * sizeof(*raw));

            if (np == NULL) {
                fclose(fp);
                free(raw);
                return mdb_fail(st, txn, ENOMEM, err, errlen);
            }
            raw = np;
            rawcap = ncap;
        }
        raw[nraw++] = lower_hash(addr, strlen(addr));
    }
    if (ferror(fp)) {
        mdb_txn_abort(txn);
        fclose(fp);
        free(raw);
        sg_seterr(err, errlen, "%s: read error", path);
        return SG_ERR_IO;
    }
    fclose(fp);
    rc = filter_add(st, txn, region, raw, nraw, acct.suppressed);
    free(raw);
    if (rc != 0)
        return mdb_fail(st, txn, rc, err, errlen);
    if ((s = commit_account(st, txn, region, &acct, err, errlen)) != SG_OK)
        return s;
    if (added != NULL)
        *added = n;
    return SG_OK;
bad:
    mdb_txn_abort(txn);
    fclose(fp);
    free(raw);
    sg_seterr(err, errlen, "%s:%lld: %s", path, lineno, why);
    return SG_ERR_SYNTAX;
}
