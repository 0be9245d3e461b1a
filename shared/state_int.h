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
 * sg_state_seterr - format into a caller's error buffer (NULL or size 0:
 *   ignored)
 */
extern void sg_state_seterr(char *err, size_t errlen, const char *fmt, ...)
    SG_PRINTFLIKE(3, 4);

/*
 * sg_state_parse_time - ISO 8601 date-time to epoch seconds
 *
 * Accepts "YYYY-MM-DDTHH:MM:SS" with optional fraction and "Z" or a
 *   "+HH:MM"/"+HHMM"/"+HH" offset (none: UTC).
 * Returns: 0 with *out set, or -1.
 */
extern int sg_state_parse_time(const char *s, long long *out);

/* sg_state_format_time - "YYYY-MM-DDTHH:MM:SSZ"; buf of 32 bytes */
extern char *sg_state_format_time(long long t, char *buf, size_t size);

/*
 * sg_state_write_string - write s as a JSON string (quoted, escaped)
 *
 * Returns: 0, or -1 on a write error.
 */
extern int sg_state_write_string(FILE *fp, const char *s, size_t len);

#endif /* SG_STATE_INT_H */
