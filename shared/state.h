/*
 * state.h - the embedded state store (LMDB)
 *
 * One consistent copy of the account's per-region SES state for every
 * process on the host: account (GetAccount), identities
 * (ListEmailIdentities + GetEmailIdentity), the account-level
 * suppression list, configuration sets, and whatever else the snapshot
 * carries (kept verbatim for export).
 *
 * Storage: one LMDB environment, the file STATE_DIR/state.mdb (with
 * STATE_DIR/state.mdb-lock), named databases:
 *   meta   "format", "imported_at", "source", "top" (unknown top-level
 *          snapshot fields as JSON), "region/R" (per region summary:
 *          struct sg_account in binary + counts), "regionjson/R" (the
 *          region's account object and unknown fields as JSON),
 *          "suppfilter/R" (a blocked Bloom filter of the region's
 *          suppressed addresses, written in the same transaction as
 *          the entries: a lookup of an address that is not listed —
 *          the common case — never touches the B-tree; removals leave
 *          their bits set, which only costs a B-tree lookup; layout in
 *          state_int.h)
 *   ident  "R\tNAME" -> flags + the entry's JSON; NAME is the
 *          lower-cased domain, or an address with its domain lower-cased
 *          and its local part as given (address identities are
 *          case-sensitive in the local part, R2)
 *   supp   "R\tADDRESS" (lower case) -> reason, time, address as listed,
 *          unknown fields as JSON
 *   cset   "R\tNAME" -> empty
 * A whole import is one LMDB write transaction: readers see the old
 * state or the new one, never a mix; a crash during the import leaves
 * the old state (LMDB is copy-on-write with a two-phase meta update).
 * Opening the store maps the file and reads nothing else, so it costs
 * the same with ten entries or ten million; readers share the page
 * cache and their private memory does not grow with the data.
 *
 * Reading: a snapshot (SG_SNAP) is an LMDB read transaction. A daemon
 * keeps one SG_SNAP per thread and calls sg_snap_begin/sg_snap_end
 * around each decision, so that it always sees the newest import
 * without reopening anything. Lookups are valid only between begin and
 * end; they copy what they return.
 */
#ifndef SG_STATE_H
#define SG_STATE_H

/* System headers. */
#include <stdio.h>
#include <time.h>

/* Local headers. */
#include "sesgate.h"

/* Bounds of the importer. */
#define SG_STATE_JSON_MAX   ((size_t)8 << 30)   /* snapshot file */
#define SG_STATE_NAME_MAX   320                 /* identity/set name */

typedef struct sg_state SG_STATE;
typedef struct sg_snap SG_SNAP;

/* Open flags. */
#define SG_STATE_RDONLY     0x01    /* readers: daemons, check, status */
#define SG_STATE_CREATE     0x02    /* create STATE_DIR/state.mdb */
#define SG_STATE_REBUILT    0x04    /* internal: damaged store moved aside */

/*
 * sg_state_open - open the store in a state directory
 *
 * Parameters: dir, the state directory; flags, SG_STATE_*; map_size,
 *   the largest the file may grow to (state_max_size; 0 = default);
 *   err/errlen: caller buffer for the reason of a failure.
 * Returns: new handle (free with sg_state_close), or NULL with err set
 *   ("no state in DIR: run sesgatectl import" when absent read-only;
 *   "... is damaged ... run sesgatectl import to rebuild it" when the
 *   file is cut short of the pages it names or is not an LMDB file;
 *   the LMDB error otherwise). With SG_STATE_CREATE (importers) a
 *   damaged file is renamed to state.mdb.damaged and a new, empty store
 *   is created in its place. Thread-safety: the handle may be shared
 *   by threads; each thread uses its own SG_SNAP.
 */
extern SG_STATE *sg_state_open(const char *dir, int flags,
                               long long map_size, char *err,
                               size_t errlen);

/* sg_state_close - release; accepts NULL; returns NULL */
extern SG_STATE *sg_state_close(SG_STATE *st);

/*
 * Per-region account summary, from GetAccount. Fields the snapshot's
 * account object leaves out (or a region without an account object)
 * take conservative defaults: sandbox (production 0), sending enabled,
 * Max24HourSend 200, MaxSendRate 1, SentLast24Hours 0.
 */
struct sg_account {
    int production;             /* ProductionAccessEnabled */
    int sending_enabled;        /* SendingEnabled */
    double max_24h;             /* SendQuota.Max24HourSend; -1 unlimited */
    double max_rate;            /* SendQuota.MaxSendRate */
    double sent_24h;            /* SendQuota.SentLast24Hours */
    long long identities;       /* number of identities */
    long long suppressed;       /* number of suppressed addresses */
    long long config_sets;      /* number of configuration sets */
};

/* Identity types and the flags of a stored identity. */
enum sg_ident_type { SG_IDENT_EMAIL = 1, SG_IDENT_DOMAIN = 2,
                     SG_IDENT_OTHER = 3 };

struct sg_identity {
    enum sg_ident_type type;
    char status[24];            /* VerificationStatus, "" if absent */
    int verified;               /* status SUCCESS (or v1 "Success") */
    int sending_enabled;        /* SendingEnabled (true if absent) */
};

/* Suppression reasons. */
enum sg_supp_reason { SG_SUPP_BOUNCE = 1, SG_SUPP_COMPLAINT = 2 };

struct sg_suppressed {
    enum sg_supp_reason reason;
    long long updated;          /* LastUpdateTime, epoch seconds; 0 if
                                 * unknown */
    char address[SG_ADDR_MAX + 1]; /* as listed */
};

/*
 * sg_snap_new - a reusable read view for one thread
 *
 * Returns: new (free with sg_snap_free), NULL on memory exhaustion.
 */
extern SG_SNAP *sg_snap_new(SG_STATE *st);

/*
 * sg_snap_begin - start reading the newest committed state
 *
 * Returns: SG_OK, or SG_ERR_STATE (with sg_snap_error set) when the
 *   store cannot be read (corrupt, truncated, removed).
 */
extern SG_STATUS sg_snap_begin(SG_SNAP *snap);

/* sg_snap_end - stop reading; lookups are invalid afterwards */
extern void sg_snap_end(SG_SNAP *snap);

/* sg_snap_free - release (ends a running read); accepts NULL */
extern SG_SNAP *sg_snap_free(SG_SNAP *snap);

/* sg_snap_error - text of the last failure; borrowed, never NULL */
extern const char *sg_snap_error(const SG_SNAP *snap);

/*
 * Lookups. Each returns SG_OK with *out filled in, SG_ERR_NOTFOUND when
 * there is no such entry, or SG_ERR_STATE when the store failed.
 */

/* sg_snap_account - the account summary of a region */
extern SG_STATUS sg_snap_account(SG_SNAP *snap, const char *region,
                                 struct sg_account *out);

/*
 * sg_snap_identity - an identity by stored name (see the key rules in
 *   the header comment: domains lower case, addresses with the domain
 *   lower-cased)
 */
extern SG_STATUS sg_snap_identity(SG_SNAP *snap, const char *region,
                                  const char *name, struct sg_identity *out);

/* sg_snap_suppressed - an address on the suppression list (any case) */
extern SG_STATUS sg_snap_suppressed(SG_SNAP *snap, const char *region,
                                    const char *addr,
                                    struct sg_suppressed *out);

/* sg_snap_config_set - whether a configuration set exists (exact name) */
extern SG_STATUS sg_snap_config_set(SG_SNAP *snap, const char *region,
                                    const char *name);

/*
 * sg_snap_regions - the regions in the state
 *
 * Parameters: buf, an array of max entries of SG_REGION_MAX+1 chars.
 * Returns: the number of regions (may exceed max: only max are written).
 */
extern size_t sg_snap_regions(SG_SNAP *snap, char (*buf)[SG_REGION_MAX + 1],
                              size_t max);

/* sg_snap_imported_at - epoch seconds of the last import/sync, 0 if none */
extern long long sg_snap_imported_at(SG_SNAP *snap);

/*
 * Iteration over a region's suppression list, for export and
 * "suppress list". fn returns 0 to go on, non-zero to stop.
 */
typedef int (*sg_supp_fn)(const char *region,
                          const struct sg_suppressed *entry, void *arg);
extern SG_STATUS sg_snap_suppressed_each(SG_SNAP *snap, const char *region,
                                         sg_supp_fn fn, void *arg);

/*
 * Writing. Each call is one write transaction: all or nothing. Writers
 * are serialised by LMDB; readers are never blocked.
 */

/*
 * sg_state_import_file - replace the whole state with a JSON snapshot
 *
 * The snapshot format is DESIGN.md's ("sesgate_state": 1, "regions").
 * Refused, with the old state left in place and err set: syntax errors
 * ("FILE:LINE:COLUMN: ..."), wrong types ("FILE: regions.us-east-1.
 * account.SendQuota.Max24HourSend: expected a number"), unknown region
 * names, duplicate identities, duplicate suppressed addresses within a
 * region with conflicting reasons, a file over SG_STATE_JSON_MAX.
 * Unknown fields are kept and come back on export.
 *
 * Returns: SG_OK, SG_ERR_SYNTAX/SG_ERR_INVALID/SG_ERR_TOOBIG (input),
 *   SG_ERR_IO/SG_ERR_FULL/SG_ERR_STATE (store).
 */
extern SG_STATUS sg_state_import_file(SG_STATE *st, const char *path,
                                      char *err, size_t errlen);

/* sg_state_import_buf - the same from memory; name is used in errors */
extern SG_STATUS sg_state_import_buf(SG_STATE *st, const char *name,
                                     const char *buf, size_t len,
                                     char *err, size_t errlen);

/*
 * sg_state_export - write the state as a JSON snapshot
 *
 * The output imports back to the same state (round trip), unknown
 * fields included. Suppression lists are streamed, not built in memory.
 */
extern SG_STATUS sg_state_export(SG_STATE *st, FILE *fp, char *err,
                                 size_t errlen);

/*
 * sg_state_suppress_add - put an address on a region's list
 *
 * Parameters: region (must be in the state); addr; reason; when (epoch
 *   seconds). An address already listed is updated.
 */
extern SG_STATUS sg_state_suppress_add(SG_STATE *st, const char *region,
                                       const char *addr,
                                       enum sg_supp_reason reason,
                                       long long when, char *err,
                                       size_t errlen);

/*
 * sg_state_suppress_remove - take an address off the list
 *
 * Parameters: region, or NULL for every region (R5: a removal applies
 *   to all regions unless limited); removed, set to the number of
 *   regions it was removed from (0: it was not listed anywhere).
 */
extern SG_STATUS sg_state_suppress_remove(SG_STATE *st, const char *region,
                                          const char *addr, int *removed,
                                          char *err, size_t errlen);

/*
 * sg_state_suppress_import - add many addresses to a region's list
 *
 * The file is CSV "address,reason" lines (SES's bulk import format; a
 * header line "EmailAddress,Reason" is skipped; reason BOUNCE or
 * COMPLAINT, case-insensitive) or JSON lines ({"EmailAddress": ...,
 * "Reason": ...}). One transaction: a bad line refuses the whole file
 * with "FILE:LINE: ..." and nothing is added.
 *
 * Parameters: added, set to the number of addresses added or updated.
 */
extern SG_STATUS sg_state_suppress_import(SG_STATE *st, const char *region,
                                          const char *path, long long when,
                                          long long *added, char *err,
                                          size_t errlen);

/*
 * ---- Read accessors for authz and lint (state_iter.c). ----
 * Each works inside sg_snap_begin/sg_snap_end and returns SG_OK,
 * SG_ERR_NOTFOUND or SG_ERR_STATE like the lookups above.
 */

/*
 * sg_snap_identity_json - a stored identity's whole JSON entry (the
 *   ListEmailIdentities entry with GetEmailIdentity's fields,
 *   NotificationAttributes, Policies, ...)
 *
 * Parameters: name, as for sg_snap_identity; out, set to a new
 *   NUL-terminated copy (caller frees with free()); len, its length.
 */
extern SG_STATUS sg_snap_identity_json(SG_SNAP *snap, const char *region,
                                       const char *name, char **out,
                                       size_t *len);

/*
 * Iteration over a region's identities in key order. fn gets the stored
 * name, the summary and the JSON entry (borrowed: valid during the call
 * only, not NUL-terminated); it returns 0 to go on, non-zero to stop.
 */
typedef int (*sg_ident_fn)(const char *region, const char *name,
                           const struct sg_identity *id, const char *json,
                           size_t jsonlen, void *arg);
extern SG_STATUS sg_snap_identities_each(SG_SNAP *snap, const char *region,
                                         sg_ident_fn fn, void *arg);

/*
 * sg_snap_region_json - a region's extra JSON: the account object and
 *   the snapshot's other region-level fields (active_receipt_rule_set,
 *   ...), as one object
 *
 * Parameters: out, set to a new NUL-terminated copy (free()); len.
 */
extern SG_STATUS sg_snap_region_json(SG_SNAP *snap, const char *region,
                                     char **out, size_t *len);

/* sg_snap_config_sets_each - a region's configuration set names */
typedef int (*sg_cset_fn)(const char *region, const char *name, void *arg);
extern SG_STATUS sg_snap_config_sets_each(SG_SNAP *snap, const char *region,
                                          sg_cset_fn fn, void *arg);
/* ---- End of the authz/lint accessors. ---- */

/* sg_supp_reason_name - "BOUNCE" / "COMPLAINT" */
extern const char *sg_supp_reason_name(enum sg_supp_reason reason);

/* sg_supp_reason_parse - case-insensitive; returns 0 if unknown */
extern enum sg_supp_reason sg_supp_reason_parse(const char *name);

/*
 * sg_state_adopt_owner - give a file the owner of its state directory
 *
 * When root (sesgatectl run by an operator) creates a file in a state
 * directory that belongs to the daemons' user, the file would be
 * root's and the daemons could no longer open it. Run as root, this
 * hands the file (by path, or by fd when fd >= 0) to the directory's
 * owner and group; otherwise, or when the directory is root's, it does
 * nothing. Errors are ignored: the open that follows reports them.
 */
extern void sg_state_adopt_owner(const char *dir, const char *path, int fd);

/*
 * sg_state_path_buf - the store's file name in a state directory
 *
 * Returns: buf or NULL if it does not fit.
 */
extern char *sg_state_path_buf(const char *dir, char *buf, size_t size);

#endif /* SG_STATE_H */
