/*
 * state_int.h - internals of the state store shared by state.c and
 *   suppress.c: handle layouts, key building, value encodings
 *
 * Not installed, not for programs: only the two modules of the store
 * include it.
 *
 * Value encodings (host byte order: the store is per host):
 *   meta "region/R"   struct sg_account, raw
 *   meta "imported_at" int64_t
 *   ident "R\tNAME"   [type][verified][sending][n][status: n bytes]
 *                     [the identity's JSON object, compact]
 *   supp "R\tADDR"    [reason][flags][int64_t updated]
 *                     (flags & SG_SUPPV_ADDR: [uint16_t n][address as
 *                     listed: n bytes], present only when it differs
 *                     from the lower-cased key)
 *                     [unknown fields as a compact JSON object, or
 *                     nothing]
 *   cset "R\tNAME"    empty
 *   meta "suppfilter/R" the region's suppression filter (below)
 *
 * The suppression filter. Almost every recipient a decision looks up is
 * not suppressed, and with millions of listed addresses a B-tree lookup
 * costs a few cache and TLB misses. Each region with a non-empty list
 * therefore has a blocked Bloom filter of its lower-cased addresses (the
 * address part of the supp keys) in one meta value, written in the same
 * write transaction as the entries, so it always covers them: no false
 * negatives. LMDB keeps a large value in contiguous overflow pages and
 * mdb_get points straight into the map, so a reader neither copies nor
 * parses it.
 *   [struct sg_filter_head: 48 bytes][nblocks blocks of 64 bytes]
 * An address hashes (sg_supp_filter_hash, then sg_supp_filter_mix with
 * the header's seed) to one block, a cache line, and to one bit in each
 * of the block's eight 64-bit words (k = 8). 48 bytes of header: LMDB's
 * overflow pages carry a 16-byte page header, so the blocks of a large
 * filter start on a 64-byte boundary and a probe touches one line.
 * Size: SG_FILTER_BITS bits per address when (re)built, minimum one
 * block; the block index is a multiply-high of the hash, so any number
 * of blocks works and a 10 million address list takes 20 MB rather
 * than the 32 MB of the next power of two.
 * Upkeep: an import builds it from the entries it wrote; "suppress add"
 * and "suppress import" copy it into a new value of the same size and
 * set the new addresses' bits, or rebuild it from the region's entries
 * once more addresses went in than SG_FILTER_GROW times what it was
 * sized for (then its false positive rate would pass a few per cent).
 * "suppress remove" leaves the bits set: a stale bit costs one B-tree
 * lookup that finds nothing, never a wrong answer; the next rebuild or
 * import clears it. A region with no filter (a store written before
 * filters, or an empty list) is looked up in the B-tree alone, and the
 * first add to it builds one.
 */
#ifndef SG_STATE_INT_H
#define SG_STATE_INT_H

/* System headers. */
#include <stdint.h>
#include <stdio.h>

/* Third-party headers. */
#include <lmdb.h>

/* Local headers. */
#include "sesgate.h"
#include "state.h"

/* Longest key: region, tab, name or address. */
#define SG_KEY_MAX      (SG_REGION_MAX + 1 + SG_STATE_NAME_MAX + 1)

/* Longest encoded suppressed value without its JSON tail. */
#define SG_SUPPV_HEAD   (1 + 1 + 8 + 2 + SG_ADDR_MAX)
#define SG_SUPPV_ADDR   0x01

/* Meta keys. */
#define SG_META_FORMAT      "format"
#define SG_META_IMPORTED    "imported_at"
#define SG_META_SOURCE      "source"
#define SG_META_TOP         "top"
#define SG_META_REGION      "region/"
#define SG_META_REGIONJSON  "regionjson/"
#define SG_META_SUPPFILTER  "suppfilter/"

/* The suppression filter (see above). */
#define SG_FILTER_MAGIC     0x46424753u     /* "SGBF" on little-endian */
#define SG_FILTER_VERSION   1u
#define SG_FILTER_BLOCK     64              /* bytes: 8 words, 512 bits */
#define SG_FILTER_BITS      16              /* bits per address */
#define SG_FILTER_GROW      2               /* rebuild past 2x sized-for */
#define SG_FILTER_SEED      0x2545f4914f6cdd1dull
#define SG_FILTER_MAXBLOCKS ((uint64_t)1 << 32)

struct sg_filter_head {
    uint32_t magic;             /* SG_FILTER_MAGIC */
    uint32_t version;           /* SG_FILTER_VERSION */
    uint64_t nblocks;           /* 1 to SG_FILTER_MAXBLOCKS - 1 */
    uint64_t seed;              /* mixed into every hash */
    uint64_t count;             /* addresses put in since it was built
                                 * (removed ones included) */
    uint64_t spare[2];          /* zero; pads the head to 48 bytes */
};

/* Default map size: 16 GiB. */
#define SG_STATE_MAP_DEFAULT    ((size_t)16 << 30)

struct sg_state {
    MDB_env *env;
    MDB_dbi meta;
    MDB_dbi ident;
    MDB_dbi supp;
    MDB_dbi cset;
    int flags;                  /* SG_STATE_* given to open */
    char path[4096];            /* STATE_DIR/state.mdb */
};

struct sg_snap {
    SG_STATE *st;
    MDB_txn *txn;               /* reset between begin/end, or NULL */
    int running;                /* between begin and end */
    char err[256];
    /*
     * The suppression filter of the region last looked up, found once
     * per snapshot. fblocks is borrowed from the map: valid only inside
     * the read transaction, so begin and end clear fcached.
     */
    int fcached;                /* fregion/fblocks are set */
    char fregion[SG_REGION_MAX + 1];    /* region as the caller gave it */
    const unsigned char *fblocks;       /* NULL: no filter, use the tree */
    uint64_t fnblocks;
    uint64_t fseed;
};

/*
 * sg_state_key - build "region\tname" into buf
 *
 * The region is lower-cased; the name is lower-cased (ASCII) when lower
 * is non-zero, else copied.
 * Returns: key length, or 0 if it does not fit or a part is empty.
 */
extern size_t sg_state_key(char *buf, size_t size, const char *region,
                           const char *name, size_t namelen, int lower);

/*
 * sg_supp_encode - encode a suppressed entry's value
 *
 * Parameters: buf, at least SG_SUPPV_HEAD + jsonlen bytes; keyaddr, the
 *   lower-cased address of the key (the address is stored only when
 *   different); json/jsonlen, unknown fields (may be NULL/0).
 * Returns: encoded length, or 0 if it does not fit.
 */
extern size_t sg_supp_encode(unsigned char *buf, size_t size,
                             enum sg_supp_reason reason, long long when,
                             const char *addr, size_t addrlen,
                             const char *keyaddr, size_t keyaddrlen,
                             const char *json, size_t jsonlen);

/*
 * sg_supp_decode - decode a suppressed value
 *
 * Parameters: keyaddr/keyaddrlen, the address part of the key; json,
 *   jsonlen, if not NULL set to the unknown fields (borrowed from data).
 * Returns: 0, or -1 when the value is malformed.
 */
extern int sg_supp_decode(const void *data, size_t len,
                          const char *keyaddr, size_t keyaddrlen,
                          struct sg_suppressed *out, const char **json,
                          size_t *jsonlen);

/*
 * sg_state_ident_decode - split an identity value ([type][verified]
 *   [sending][n][status: n bytes][JSON]) into out and, when json is not
 *   NULL, the JSON's place and length (not terminated)
 *
 * Returns: 0, or -1 when the value is malformed.
 */
extern int sg_state_ident_decode(const MDB_val *v, struct sg_identity *out,
                                 const char **json, size_t *jsonlen);

/*
 * One entry of a region's keys: name is the key after "region\t" (not
 * terminated), v the value. Returns 0 to go on, > 0 to stop, < 0 to stop
 * with an error the callback has put into snap->err.
 */
typedef int (*sg_snap_prefix_fn)(const char *name, size_t namelen,
                                 const MDB_val *v, void *arg);

/*
 * sg_snap_prefix_each - walk the keys "region\t..." of a database in key
 * order
 *
 * Returns: SG_OK (also when fn stopped); SG_ERR_NOTFOUND when region
 *   forms no key; SG_ERR_STATE with the snapshot's error set when the
 *   snapshot is not begun, LMDB fails or fn returned < 0.
 */
extern SG_STATUS sg_snap_prefix_each(SG_SNAP *snap, MDB_dbi dbi,
                                     const char *region,
                                     sg_snap_prefix_fn fn, void *arg);

/* Raw iteration over a region's list, with the unknown fields. */
typedef int (*sg_supp_raw_fn)(const struct sg_suppressed *entry,
                              const char *json, size_t jsonlen, void *arg);

/*
 * sg_supp_each_raw - iterate a region's list in key order
 *
 * Returns: SG_OK, or SG_ERR_STATE with the snapshot's error set.
 */
extern SG_STATUS sg_supp_each_raw(SG_SNAP *snap, const char *region,
                                  sg_supp_raw_fn fn, void *arg);

/*
 * sg_supp_filter_hash - the seedless hash of a lower-cased address
 *
 * Returns: 64 bits; sg_supp_filter_mix turns it into the probe hash of
 *   a filter with a given seed.
 */
extern uint64_t sg_supp_filter_hash(const char *addr, size_t len);

/* sg_supp_filter_mix - the probe hash: seed mixed in, bits avalanched */
static inline uint64_t
sg_supp_filter_mix(uint64_t h, uint64_t seed)
{
    h ^= seed;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* A filter being built in reserved space (sg_supp_filter_begin). */
struct sg_filter_build {
    unsigned char *blocks;      /* into the reserved value */
    uint64_t nblocks;
    uint64_t seed;
};

/*
 * sg_supp_filter_begin - reserve and clear a region's filter, sized for
 *   n addresses, in a write transaction
 *
 * The space is LMDB's MDB_RESERVE: fill it (sg_supp_filter_insert)
 *   before the next update in the transaction.
 * Returns: 0, or an LMDB/errno code.
 */
extern int sg_supp_filter_begin(SG_STATE *st, MDB_txn *txn,
                                const char *region, long long n,
                                struct sg_filter_build *b);

/* sg_supp_filter_insert - set the bits of a lower-cased address */
extern void sg_supp_filter_insert(const struct sg_filter_build *b,
                                  const char *addr, size_t len);

/*
 * sg_supp_filter_rebuild - build a region's filter from its entries
 *
 * Inside a write transaction that holds the region's entries. Sized
 *   for expect addresses (resized once if more are found); with no
 *   entries, the filter is deleted.
 * Returns: 0, or an LMDB/errno code (the transaction must be aborted).
 */
extern int sg_supp_filter_rebuild(SG_STATE *st, MDB_txn *txn,
                                  const char *region, long long expect);

/*
 * sg_supp_filter_test - what a region's filter says of an address
 *
 * For tests and benchmarks: the lookup uses the same probe.
 * Returns: 1 maybe listed, 0 not listed, -1 no (usable) filter.
 */
extern int sg_supp_filter_test(SG_SNAP *snap, const char *region,
                               const char *addr);

/*
 * sg_state_account_get/put - a region's summary inside a transaction
 *
 * Returns: SG_OK, SG_ERR_NOTFOUND (get), or the mapped LMDB error.
 */
extern SG_STATUS sg_state_account_get(SG_STATE *st, MDB_txn *txn,
                                      const char *region,
                                      struct sg_account *out);
extern SG_STATUS sg_state_account_put(SG_STATE *st, MDB_txn *txn,
                                      const char *region,
                                      const struct sg_account *acct);

/* sg_state_mdb_status - the SG_STATUS for an LMDB return code */
extern SG_STATUS sg_state_mdb_status(int rc);


/*
 * sg_state_parse_time - ISO 8601 date-time to epoch seconds
 *
 * Accepts "YYYY-MM-DDTHH:MM:SS" with optional fraction and "Z" or a
 *   "+HH:MM"/"+HHMM"/"+HH" offset (none: UTC).
 * Returns: 0 with *out set, or -1.
 */
extern int sg_state_parse_time(const char *s, long long *out);

/* A region's suppressed entries kept outside the snapshot file. */
struct sg_state_supp_file {
    const char *region;         /* a region of the snapshot (any case) */
    const char *path;           /* one suppressed[] object a line */
};

/*
 * sg_state_import_file_supp - sg_state_import_file, with suppression
 *   lists streamed from files beside the snapshot (sesgatectl sync)
 *
 * Each lines[i].path holds one JSON object a line, in the shape of a
 *   regions.R.suppressed[] element (blank lines skipped), added to
 *   region lines[i].region as if listed in the snapshot (which may list
 *   more). The lines are read one at a time (getline), so memory grows
 *   with the records only, not with the JSON text; the snapshot file is
 *   unmapped before the write transaction. Same checks, same one
 *   transaction, same old state kept on any failure.
 * Errors: as sg_state_import_file, plus "FILE:LINE:COLUMN: ..." for a
 *   line that is not JSON, SG_ERR_IO when a file cannot be read, and
 *   SG_ERR_INVALID for a region the snapshot does not have.
 */
extern SG_STATUS sg_state_import_file_supp(SG_STATE *st, const char *path,
                                           const struct sg_state_supp_file
                                           *lines, size_t nlines,
                                           char *err, size_t errlen);

/* sg_state_format_time - "YYYY-MM-DDTHH:MM:SSZ"; buf of 32 bytes */
extern char *sg_state_format_time(long long t, char *buf, size_t size);

/*
 * sg_state_write_string - write s as a JSON string (quoted, escaped)
 *
 * Returns: 0, or -1 on a write error.
 */
extern int sg_state_write_string(FILE *fp, const char *s, size_t len);

#endif /* SG_STATE_INT_H */
