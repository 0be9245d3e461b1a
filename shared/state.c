/*
 * state.c - the embedded state store (LMDB): open, snapshots, lookups,
 *   import and export of JSON snapshots
 *
 * Import of a snapshot with millions of suppressed addresses: a first
 * pass scans the JSON text (structure only, no allocation per value) and
 * notes where each regions.R.suppressed array lies. Everything but the
 * contents of those arrays (the "skeleton", with line and column
 * positions kept) is parsed with jansson; the elements of the arrays are
 * parsed one at a time. Entries become (key, value) records in one flat
 * arena, sorted by key and written with MDB_APPEND, so that LMDB fills
 * its pages sequentially; then each region's suppression filter is
 * built from what was written, in the same transaction (state_int.h).
 * All validation happens before the write transaction begins.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Third-party headers. */
#include <jansson.h>
#include <lmdb.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "identity.h"
#include "region.h"
#include "state.h"
#include "state_int.h"

/* Importer bounds. */
#define SCAN_DEPTH_MAX      2048    /* as jansson's parser */
#define IMP_REGIONS_MAX     64      /* region keys in one snapshot */

/* ------------------------------------------------------------------ */
/* Helpers shared with suppress.c                                      */
/* ------------------------------------------------------------------ */

/* sg_state_mdb_status - map an LMDB return code to a status */
SG_STATUS
sg_state_mdb_status(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return SG_OK;
    case MDB_NOTFOUND:
        return SG_ERR_NOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC:
        return SG_ERR_FULL;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
        return SG_ERR_STATE_RETRY;
    case ENOMEM:
        return SG_ERR_NOMEM;
    case EIO:
    case EACCES:
    case EPERM:
        return SG_ERR_IO;
    default:
        return SG_ERR_STATE;
    }
}

static const char *fs_full_hint(SG_STATE *st, int rc);

/* lower_char - ASCII lower case of one byte */
static inline char
lower_char(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* sg_state_key - "region\tname" */
size_t
sg_state_key(char *buf, size_t size, const char *region, const char *name,
             size_t namelen, int lower)
{
    size_t n = 0;
    size_t i;

    if (region == NULL || name == NULL || *region == '\0' || namelen == 0)
        return 0;
    for (; *region != '\0'; region++) {
        if (n + 1 >= size)
            return 0;
        buf[n++] = lower_char(*region);
    }
    if (n + 1 + namelen > size)
        return 0;
    buf[n++] = '\t';
    if (lower) {
        for (i = 0; i < namelen; i++)
            buf[n + i] = lower_char(name[i]);
    } else {
        memcpy(buf + n, name, namelen);
    }
    return n + namelen;
}

/* sg_state_parse_time - ISO 8601 date-time to epoch seconds */
int
sg_state_parse_time(const char *s, long long *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
                                           30, 31, 30, 31 };

    if (strlen(s) < 19 || (y = sg_digits(s, 4)) < 0 || s[4] != '-'
        || (mo = sg_digits(s + 5, 2)) < 0 || s[7] != '-'
        || (d = sg_digits(s + 8, 2)) < 0
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || (h = sg_digits(s + 11, 2)) < 0 || s[13] != ':'
        || (mi = sg_digits(s + 14, 2)) < 0 || s[16] != ':'
        || (se = sg_digits(s + 17, 2)) < 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23
        || mi > 59 || se > 60)
        return -1;
    s += 19;
    if (*s == '.' || *s == ',') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if ((oh = sg_digits(s + 1, 2)) < 0)
            return -1;
        s += 3;
        if (*s == ':')
            s++;
        if (*s != '\0') {
            if ((om = sg_digits(s, 2)) < 0)
                return -1;
            s += 2;
        }
        if (oh > 23 || om > 59)
            return -1;
    }
    if (*s != '\0')
        return -1;
    *out = sg_days_from_civil(y, mo, d) * 86400
        + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    return 0;
}

/* sg_state_format_time - epoch seconds to "YYYY-MM-DDTHH:MM:SSZ" */
char *
sg_state_format_time(long long t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, size, "1970-01-01T00:00:00Z");
    }
    return buf;
}

/* sg_state_write_string - a JSON string literal */
int
sg_state_write_string(FILE *fp, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    unsigned char c;

    putc('"', fp);
    for (i = 0; i < len; i++) {
        c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        fwrite(s + start, 1, i - start, fp);
        start = i + 1;
        putc('\\', fp);
        switch (c) {
        case '"':
        case '\\':
            putc(c, fp);
            break;
        case '\n':
            putc('n', fp);
            break;
        case '\t':
            putc('t', fp);
            break;
        default:
            fputs("u00", fp);
            putc(hex[c >> 4], fp);
            putc(hex[c & 15], fp);
        }
    }
    fwrite(s + start, 1, len - start, fp);
    return putc('"', fp) == EOF ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */
/* ------------------------------------------------------------------ */

/* sg_state_path_buf - STATE_DIR/state.mdb */
char *
sg_state_path_buf(const char *dir, char *buf, size_t size)
{
    int n;

    if (dir == NULL || *dir == '\0')
        return NULL;
    n = snprintf(buf, size, "%s/state.mdb", dir);
    if (n < 0 || (size_t)n >= size)
        return NULL;
    return buf;
}

/* open_dbis - open (or create) the four named databases */
static int
open_dbis(SG_STATE *st, int create)
{
    MDB_txn *txn;
    unsigned int fl = create ? MDB_CREATE : 0;
    int rc;

    rc = mdb_txn_begin(st->env, NULL, create ? 0 : MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_dbi_open(txn, "meta", fl, &st->meta)) != 0
        || (rc = mdb_dbi_open(txn, "ident", fl, &st->ident)) != 0
        || (rc = mdb_dbi_open(txn, "supp", fl, &st->supp)) != 0
        || (rc = mdb_dbi_open(txn, "cset", fl, &st->cset)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/*
 * check_intact - whether the data file holds every page its newest meta
 *   page names
 *
 * LMDB maps the file and follows page numbers without checking them
 * against the file's size: a store cut short (a copy or a restore that
 * stopped, a file system that filled) kills the reader with SIGBUS on
 * its first lookup. A store whose last page lies past the end of the
 * file is refused here instead, so that the daemons answer per
 * on_state_error and the tools say what is wrong. Returns 0, or -1
 * with err set.
 */
static int
check_intact(SG_STATE *st, char *err, size_t errlen)
{
    MDB_envinfo info;
    MDB_stat ms;
    struct stat sb;
    mdb_filehandle_t fd;
    unsigned long long need;

    if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0
        || mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0)
        return 0;               /* nothing to judge by */
    need = ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize;
    if ((unsigned long long)sb.st_size < need) {
        sg_seterr(err, errlen, "%s is damaged: %lld bytes long, its "
                        "pages need %llu (truncated?): run sesgatectl "
                        "import to rebuild it", st->path,
                        (long long)sb.st_size, need);
        return -1;
    }
    return 0;
}

/* sg_state_open - open the store in a state directory */
SG_STATE *
sg_state_open(const char *dir, int flags, long long map_size, char *err,
              size_t errlen)
{
    SG_STATE *st;
    struct stat sb;
    unsigned int envfl = MDB_NOSUBDIR | MDB_NOTLS;
    int rc, dead;

    if (dir == NULL || *dir == '\0') {
        sg_seterr(err, errlen, "no state directory given");
        return NULL;
    }
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        sg_seterr(err, errlen, "out of memory");
        return NULL;
    }
    st->flags = flags;
    if (sg_state_path_buf(dir, st->path, sizeof(st->path)) == NULL) {
        sg_seterr(err, errlen, "state directory name too long");
        free(st);
        return NULL;
    }
    if ((flags & SG_STATE_CREATE) && !(flags & SG_STATE_RDONLY)) {
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            sg_seterr(err, errlen, "cannot create %s: %s", dir,
                            strerror(errno));
            free(st);
            return NULL;
        }
    } else if (stat(st->path, &sb) != 0) {
        if (errno == ENOENT)
            sg_seterr(err, errlen,
                            "no state in %s: run sesgatectl import", dir);
        else
            sg_seterr(err, errlen, "cannot open %s: %s", st->path,
                            strerror(errno));
        free(st);
        return NULL;
    }
    if (flags & SG_STATE_RDONLY)
        envfl |= MDB_RDONLY;
    if ((rc = mdb_env_create(&st->env)) != 0
        || (rc = mdb_env_set_mapsize(st->env, map_size > 0
                                     ? (size_t)map_size
                                     : SG_STATE_MAP_DEFAULT)) != 0
        || (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0
        || (rc = mdb_env_set_maxdbs(st->env, 8)) != 0
        || (rc = mdb_env_open(st->env, st->path, envfl, 0640)) != 0
        || (rc = check_intact(st, err, errlen)) != 0) {
        if (rc != -1)
            sg_seterr(err, errlen, "cannot open %s: %s%s", st->path,
                            mdb_strerror(rc), rc == MDB_INVALID
                            || rc == MDB_CORRUPTED ? ": run sesgatectl "
                            "import to rebuild it" : "");
        /* An importer rebuilds a damaged store: the file is moved
         * aside (kept for a post-mortem) and a new one created. */
        if ((flags & SG_STATE_CREATE) && !(flags & SG_STATE_RDONLY)
            && !(flags & SG_STATE_REBUILT)
            && (rc == -1 || rc == MDB_INVALID || rc == MDB_CORRUPTED)) {
            char aside[sizeof(st->path) + 16];

            snprintf(aside, sizeof(aside), "%s.damaged", st->path);
            mdb_env_close(st->env);
            st->env = NULL;
            if (rename(st->path, aside) == 0) {
                free(st);
                return sg_state_open(dir, flags | SG_STATE_REBUILT,
                                     map_size, err, errlen);
            }
        }
        return sg_state_close(st);
    }
    /* Files made by root in the daemons' directory stay theirs. */
    {
        char lock[sizeof(st->path) + 8];

        sg_state_adopt_owner(dir, st->path, -1);
        snprintf(lock, sizeof(lock), "%s-lock", st->path);
        sg_state_adopt_owner(dir, lock, -1);
    }
    /* Free the reader slots of processes that died holding them. */
    (void)mdb_reader_check(st->env, &dead);
    rc = open_dbis(st, !(flags & SG_STATE_RDONLY));
    if (rc == MDB_NOTFOUND) {
        sg_seterr(err, errlen, "no state in %s: run sesgatectl import",
                        dir);
        return sg_state_close(st);
    } else if (rc != 0) {
        sg_seterr(err, errlen, "cannot open %s: %s", st->path,
                        mdb_strerror(rc));
        return sg_state_close(st);
    }
    return st;
}

/* sg_state_close - release */
SG_STATE *
sg_state_close(SG_STATE *st)
{
    if (st == NULL)
        return NULL;
    if (st->env != NULL)
        mdb_env_close(st->env);
    free(st);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Snapshots and lookups                                               */
/* ------------------------------------------------------------------ */

/* sg_snap_new - a reusable read view */
SG_SNAP *
sg_snap_new(SG_STATE *st)
{
    SG_SNAP *snap;

    if (st == NULL || (snap = calloc(1, sizeof(*snap))) == NULL)
        return NULL;
    snap->st = st;
    return snap;
}

/* sg_snap_begin - start reading the newest committed state */
SG_STATUS
sg_snap_begin(SG_SNAP *snap)
{
    int rc;

    if (snap->running)
        sg_snap_end(snap);
    snap->fcached = 0;
    if (snap->txn != NULL) {
        rc = mdb_txn_renew(snap->txn);
        if (rc != 0) {
            mdb_txn_abort(snap->txn);
            snap->txn = NULL;
        }
    }
    if (snap->txn == NULL)
        rc = mdb_txn_begin(snap->st->env, NULL, MDB_RDONLY, &snap->txn);
    if (rc != 0) {
        snap->txn = NULL;
        snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s",
                 snap->st->path, mdb_strerror(rc));
        return SG_ERR_STATE;
    }
    snap->running = 1;
    return SG_OK;
}

/* sg_snap_end - stop reading */
void
sg_snap_end(SG_SNAP *snap)
{
    if (snap == NULL || !snap->running)
        return;
    mdb_txn_reset(snap->txn);
    snap->running = 0;
    snap->fcached = 0;          /* its pointer was into this txn */
    snap->fblocks = NULL;
}

/* sg_snap_free - release */
SG_SNAP *
sg_snap_free(SG_SNAP *snap)
{
    if (snap == NULL)
        return NULL;
    if (snap->txn != NULL)
        mdb_txn_abort(snap->txn);
    free(snap);
    return NULL;
}

/* sg_snap_error - last failure */
const char *
sg_snap_error(const SG_SNAP *snap)
{
    return snap != NULL ? snap->err : "no snapshot";
}

/* snap_get - one get inside a running snapshot; maps the result */
static SG_STATUS
snap_get(SG_SNAP *snap, MDB_dbi dbi, const char *key, size_t klen,
         MDB_val *val)
{
    MDB_val k;
    int rc;

    if (!snap->running) {
        snprintf(snap->err, sizeof(snap->err), "snapshot not begun");
        return SG_ERR_STATE;
    }
    k.mv_data = (void *)key;
    k.mv_size = klen;
    rc = mdb_get(snap->txn, dbi, &k, val);
    if (rc == 0)
        return SG_OK;
    if (rc == MDB_NOTFOUND)
        return SG_ERR_NOTFOUND;
    snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s",
             snap->st->path, mdb_strerror(rc));
    return SG_ERR_STATE;
}

/* region_meta_key - "region/R" or "regionjson/R" with R lower-cased */
static size_t
region_meta_key(char *buf, size_t size, const char *prefix,
                const char *region)
{
    size_t n = strlen(prefix);

    if (region == NULL || *region == '\0' || n >= size)
        return 0;
    memcpy(buf, prefix, n);
    for (; *region != '\0'; region++) {
        if (n + 1 >= size)
            return 0;
        buf[n++] = lower_char(*region);
    }
    buf[n] = '\0';
    return n;
}

/* sg_state_account_get - a region's summary inside a transaction */
SG_STATUS
sg_state_account_get(SG_STATE *st, MDB_txn *txn, const char *region,
                     struct sg_account *out)
{
    char key[64];
    MDB_val k, v;
    int rc;

    if ((k.mv_size = region_meta_key(key, sizeof(key), SG_META_REGION,
                                     region)) == 0)
        return SG_ERR_NOTFOUND;
    k.mv_data = key;
    if ((rc = mdb_get(txn, st->meta, &k, &v)) != 0)
        return sg_state_mdb_status(rc);
    if (v.mv_size != sizeof(*out))
        return SG_ERR_STATE;
    memcpy(out, v.mv_data, sizeof(*out));
    return SG_OK;
}

/* sg_state_account_put - store a region's summary */
SG_STATUS
sg_state_account_put(SG_STATE *st, MDB_txn *txn, const char *region,
                     const struct sg_account *acct)
{
    char key[64];
    MDB_val k, v;

    if ((k.mv_size = region_meta_key(key, sizeof(key), SG_META_REGION,
                                     region)) == 0)
        return SG_ERR_INVALID;
    k.mv_data = key;
    v.mv_data = (void *)acct;
    v.mv_size = sizeof(*acct);
    return sg_state_mdb_status(mdb_put(txn, st->meta, &k, &v, 0));
}

/* sg_snap_account - the account summary of a region */
SG_STATUS
sg_snap_account(SG_SNAP *snap, const char *region, struct sg_account *out)
{
    char key[64];
    size_t klen;
    MDB_val v;
    SG_STATUS s;

    if ((klen = region_meta_key(key, sizeof(key), SG_META_REGION,
                                region)) == 0)
        return SG_ERR_NOTFOUND;
    if ((s = snap_get(snap, snap->st->meta, key, klen, &v)) != SG_OK)
        return s;
    if (v.mv_size != sizeof(*out)) {
        snprintf(snap->err, sizeof(snap->err), "%s: bad summary of %s",
                 snap->st->path, region);
        return SG_ERR_STATE;
    }
    memcpy(out, v.mv_data, sizeof(*out));
    return SG_OK;
}

/* sg_state_ident_decode - split an identity value */
int
sg_state_ident_decode(const MDB_val *v, struct sg_identity *out,
                      const char **json, size_t *jsonlen)
{
    const unsigned char *p = v->mv_data;
    size_t n;

    if (v->mv_size < 4)
        return -1;
    n = p[3];
    if (n >= sizeof(out->status) || v->mv_size < 4 + n)
        return -1;
    out->type = (enum sg_ident_type)p[0];
    out->verified = p[1];
    out->sending_enabled = p[2];
    memcpy(out->status, p + 4, n);
    out->status[n] = '\0';
    if (json != NULL) {
        *json = (const char *)p + 4 + n;
        *jsonlen = v->mv_size - 4 - n;
    }
    return 0;
}

/* sg_snap_identity - an identity by name */
SG_STATUS
sg_snap_identity(SG_SNAP *snap, const char *region, const char *name,
                 struct sg_identity *out)
{
    char norm[SG_STATE_NAME_MAX + 1];
    char key[SG_KEY_MAX];
    size_t klen;
    MDB_val v;
    SG_STATUS s;

    if (sg_identity_key_buf(name, norm, sizeof(norm)) == NULL
        || (klen = sg_state_key(key, sizeof(key), region, norm,
                                strlen(norm), 0)) == 0)
        return SG_ERR_NOTFOUND;
    if ((s = snap_get(snap, snap->st->ident, key, klen, &v)) != SG_OK)
        return s;
    if (sg_state_ident_decode(&v, out, NULL, NULL) != 0) {
        snprintf(snap->err, sizeof(snap->err), "%s: bad identity %s",
                 snap->st->path, norm);
        return SG_ERR_STATE;
    }
    return SG_OK;
}

/* sg_snap_config_set - whether a configuration set exists */
SG_STATUS
sg_snap_config_set(SG_SNAP *snap, const char *region, const char *name)
{
    char key[SG_KEY_MAX];
    size_t klen;
    MDB_val v;

    if (name == NULL
        || (klen = sg_state_key(key, sizeof(key), region, name,
                                strlen(name), 0)) == 0)
        return SG_ERR_NOTFOUND;
    return snap_get(snap, snap->st->cset, key, klen, &v);
}

/* sg_snap_regions - the regions in the state */
size_t
sg_snap_regions(SG_SNAP *snap, char (*buf)[SG_REGION_MAX + 1], size_t max)
{
    static const char pfx[] = SG_META_REGION;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0, len;
    int rc;

    if (!snap->running
        || mdb_cursor_open(snap->txn, snap->st->meta, &cur) != 0)
        return 0;
    k.mv_data = (void *)pfx;
    k.mv_size = sizeof(pfx) - 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof(pfx) - 1
            || memcmp(k.mv_data, pfx, sizeof(pfx) - 1) != 0)
            break;
        len = k.mv_size - (sizeof(pfx) - 1);
        if (n < max) {
            if (len > SG_REGION_MAX)
                len = SG_REGION_MAX;
            memcpy(buf[n], (char *)k.mv_data + sizeof(pfx) - 1, len);
            buf[n][len] = '\0';
        }
        n++;
    }
    mdb_cursor_close(cur);
    return n;
}

/* sg_snap_imported_at - epoch seconds of the last import */
long long
sg_snap_imported_at(SG_SNAP *snap)
{
    MDB_val v;
    int64_t t;

    if (snap_get(snap, snap->st->meta, SG_META_IMPORTED,
                 sizeof(SG_META_IMPORTED) - 1, &v) != SG_OK
        || v.mv_size != sizeof(t))
        return 0;
    memcpy(&t, v.mv_data, sizeof(t));
    return (long long)t;
}

/* ------------------------------------------------------------------ */
/* Import: the structural scanner                                      */
/* ------------------------------------------------------------------ */

/* Where a regions.R.suppressed array lies: offsets of '[' and ']'. */
struct span {
    char region[SG_REGION_MAX + 1];
    size_t start;
    size_t end;
};

struct scan {
    const char *buf;
    size_t len;
    size_t pos;
    struct span *spans;
    size_t nspans;
    size_t cap;
    char names[IMP_REGIONS_MAX][SG_REGION_MAX + 1];
    size_t nnames;
    const char *err;            /* static text of a failure */
    size_t errpos;
};

/* Containers the scanner tracks. */
enum { K_NONE, K_TOP, K_REGIONS, K_REGION, K_SUPP };

/* scan_ws - skip JSON white space */
static void
scan_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->buf[sc->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

/* scan_fail - note a failure at the current position */
static int
scan_fail(struct scan *sc, const char *text)
{
    sc->err = text;
    sc->errpos = sc->pos;
    return -1;
}

/* scan_string - skip a string at pos (which holds '"') */
static int
scan_string(struct scan *sc)
{
    unsigned char c;

    sc->pos++;
    while (sc->pos < sc->len) {
        c = (unsigned char)sc->buf[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 0;
        }
        if (c == '\\') {
            if (sc->pos + 1 >= sc->len)
                break;
            sc->pos += 2;
            continue;
        }
        if (c < 0x20)
            return scan_fail(sc, "control character in a string");
        sc->pos++;
    }
    return scan_fail(sc, "premature end of input");
}

/* is_token_char - characters of numbers, true, false, null */
static int
is_token_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' || c == '.';
}

/* scan_push_span - record a suppressed array */
static int
scan_push_span(struct scan *sc, const char *region, size_t start,
               size_t end)
{
    struct span *n;

    if (sc->nspans == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 8;
        if ((n = realloc(sc->spans, sc->cap * sizeof(*n))) == NULL)
            return scan_fail(sc, "out of memory");
        sc->spans = n;
    }
    snprintf(sc->spans[sc->nspans].region, SG_REGION_MAX + 1, "%s", region);
    sc->spans[sc->nspans].start = start;
    sc->spans[sc->nspans].end = end;
    sc->nspans++;
    return 0;
}

/* key_is - whether the raw key [s, s+n) equals word */
static int
key_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/*
 * scan_value - check the structure of one value at pos and move past
 *   it; with track, record the regions.R.suppressed arrays
 */
static int
scan_value(struct scan *sc, int track)
{
    unsigned char type[SCAN_DEPTH_MAX];
    unsigned char kind[SCAN_DEPTH_MAX];
    char region[SG_REGION_MAX + 1] = "";
    size_t supp_start = 0, ks, kn, i;
    int depth = 0, pending = track ? K_TOP : K_NONE;
    int seen_regions = 0, seen_supp = 0;
    char c;

value:
    scan_ws(sc);
    if (sc->pos >= sc->len)
        return scan_fail(sc, "premature end of input");
    c = sc->buf[sc->pos];
    if (c == '{' || c == '[') {
        if (depth == SCAN_DEPTH_MAX)
            return scan_fail(sc, "maximum parsing depth reached");
        type[depth] = (unsigned char)c;
        kind[depth] = K_NONE;
        if ((c == '{' && pending != K_SUPP) || (c == '[' && pending == K_SUPP))
            kind[depth] = (unsigned char)pending;
        if (kind[depth] == K_SUPP)
            supp_start = sc->pos;
        if (kind[depth] == K_REGION)
            seen_supp = 0;
        depth++;
        sc->pos++;
        scan_ws(sc);
        if (sc->pos < sc->len && sc->buf[sc->pos] == (c == '{' ? '}' : ']'))
            goto close;
        if (c == '{')
            goto key;
        pending = K_NONE;
        goto value;
    } else if (c == '"') {
        if (scan_string(sc) != 0)
            return -1;
    } else {
        i = sc->pos;
        while (sc->pos < sc->len && is_token_char(sc->buf[sc->pos]))
            sc->pos++;
        if (sc->pos == i)
            return scan_fail(sc, "invalid token");
    }
    goto after;

key:
    scan_ws(sc);
    if (sc->pos >= sc->len || sc->buf[sc->pos] != '"')
        return scan_fail(sc, "string or '}' expected");
    ks = sc->pos + 1;
    if (scan_string(sc) != 0)
        return -1;
    kn = sc->pos - 1 - ks;
    pending = K_NONE;
    switch (kind[depth - 1]) {
    case K_TOP:
        if (memchr(sc->buf + ks, '\\', kn) != NULL)
            return scan_fail(sc, "escaped top-level key not supported");
        if (key_is(sc->buf + ks, kn, "regions")) {
            if (seen_regions++)
                return scan_fail(sc, "duplicate key regions");
            pending = K_REGIONS;
        }
        break;
    case K_REGIONS:
        if (memchr(sc->buf + ks, '\\', kn) != NULL)
            return scan_fail(sc, "escaped region name not supported");
        if (kn > SG_REGION_MAX)
            break;              /* unknown region: refused later */
        memcpy(region, sc->buf + ks, kn);
        region[kn] = '\0';
        for (i = 0; i < sc->nnames; i++)
            if (strcmp(sc->names[i], region) == 0)
                return scan_fail(sc, "duplicate region");
        if (sc->nnames == IMP_REGIONS_MAX)
            return scan_fail(sc, "too many regions");
        memcpy(sc->names[sc->nnames++], region, kn + 1);
        pending = K_REGION;
        break;
    case K_REGION:
        if (memchr(sc->buf + ks, '\\', kn) != NULL)
            return scan_fail(sc, "escaped key not supported here");
        if (key_is(sc->buf + ks, kn, "suppressed")) {
            if (seen_supp++)
                return scan_fail(sc, "duplicate key suppressed");
            pending = K_SUPP;
        }
        break;
    default:
        break;
    }
    scan_ws(sc);
    if (sc->pos >= sc->len || sc->buf[sc->pos] != ':')
        return scan_fail(sc, "':' expected");
    sc->pos++;
    goto value;

after:
    if (depth == 0)
        return 0;
    scan_ws(sc);
    if (sc->pos >= sc->len)
        return scan_fail(sc, "premature end of input");
    c = sc->buf[sc->pos];
    if (c == ',') {
        sc->pos++;
        if (type[depth - 1] == '{')
            goto key;
        pending = K_NONE;
        goto value;
    }
    if (c != (type[depth - 1] == '{' ? '}' : ']'))
        return scan_fail(sc, type[depth - 1] == '{' ? "'}' expected"
                         : "']' expected");

close:
    depth--;
    if (kind[depth] == K_SUPP
        && scan_push_span(sc, region, supp_start, sc->pos) != 0)
        return -1;
    sc->pos++;
    goto after;
}

/* ------------------------------------------------------------------ */
/* Import: records                                                     */
/* ------------------------------------------------------------------ */

/* A flat arena of (key, value) records: [u16 klen][u32 vlen][k][v]. */
struct arena {
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t *idx;
    size_t n;
    size_t ncap;
};

#define REC_HEAD    6

/* arena_add - append a record */
static int
arena_add(struct arena *a, const char *key, size_t klen, const void *val,
          size_t vlen)
{
    size_t need = REC_HEAD + klen + vlen;
    uint16_t k16 = (uint16_t)klen;
    uint32_t v32 = (uint32_t)vlen;
    void *p;

    if (klen > UINT16_MAX || vlen > UINT32_MAX)
        return -1;
    if (a->len + need > a->cap) {
        size_t ncap = a->cap ? a->cap : 65536;

        while (ncap < a->len + need)
            ncap *= 2;
        if ((p = realloc(a->data, ncap)) == NULL)
            return -1;
        a->data = p;
        a->cap = ncap;
    }
    if (a->n == a->ncap) {
        size_t ncap = a->ncap ? a->ncap * 2 : 1024;

        if ((p = realloc(a->idx, ncap * sizeof(*a->idx))) == NULL)
            return -1;
        a->idx = p;
        a->ncap = ncap;
    }
    a->idx[a->n++] = a->len;
    memcpy(a->data + a->len, &k16, 2);
    memcpy(a->data + a->len + 2, &v32, 4);
    memcpy(a->data + a->len + REC_HEAD, key, klen);
    if (vlen > 0)
        memcpy(a->data + a->len + REC_HEAD + klen, val, vlen);
    a->len += need;
    return 0;
}

/* arena_rec - key and value of record i */
static void
arena_rec(const struct arena *a, size_t i, MDB_val *k, MDB_val *v)
{
    const unsigned char *p = a->data + a->idx[i];
    uint16_t k16;
    uint32_t v32;

    memcpy(&k16, p, 2);
    memcpy(&v32, p + 2, 4);
    k->mv_size = k16;
    k->mv_data = (void *)(p + REC_HEAD);
    v->mv_size = v32;
    v->mv_data = (void *)(p + REC_HEAD + k16);
}

/* Sort context: qsort has none, and imports do not run concurrently
 * within one call; a thread-local keeps concurrent imports apart. */
static _Thread_local const unsigned char *sort_base;

/* rec_cmp - order records as LMDB orders keys */
static int
rec_cmp(const void *a, const void *b)
{
    const unsigned char *pa = sort_base + *(const size_t *)a;
    const unsigned char *pb = sort_base + *(const size_t *)b;
    uint16_t la, lb;
    int c;

    memcpy(&la, pa, 2);
    memcpy(&lb, pb, 2);
    c = memcmp(pa + REC_HEAD, pb + REC_HEAD, la < lb ? la : lb);
    if (c != 0)
        return c;
    return (int)la - (int)lb;
}

/* arena_sort - sort records by key */
static void
arena_sort(struct arena *a)
{
    if (a->n < 2)
        return;
    sort_base = a->data;
    qsort(a->idx, a->n, sizeof(*a->idx), rec_cmp);
}

/* arena_free - release */
static void
arena_free(struct arena *a)
{
    free(a->data);
    free(a->idx);
    memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------------------ */
/* Import: validation                                                  */
/* ------------------------------------------------------------------ */

struct imp_region {
    char name[SG_REGION_MAX + 1];   /* canonical (lower case) */
    const char *given;              /* as in the snapshot (borrowed) */
    struct sg_account acct;
    char *json;                     /* regionjson */
};

struct imp {
    const char *name;
    const char *buf;
    size_t len;
    char *err;
    size_t errlen;
    struct scan sc;
    struct arena ident;
    struct arena cset;
    struct arena supp;
    struct imp_region regions[IMP_REGIONS_MAX];
    size_t nregions;
    char *top;
    const struct sg_state_supp_file *lines;    /* streamed lists */
    size_t nlines;
};

/* imp_fail - "NAME: " + message */
static SG_STATUS imp_fail(struct imp *im, SG_STATUS s, const char *fmt, ...)
    SG_PRINTFLIKE(3, 4);

/* imp_fail - set the error text of an import */
static SG_STATUS
imp_fail(struct imp *im, SG_STATUS s, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (im->err == NULL || im->errlen == 0)
        return s;
    snprintf(im->err, im->errlen, "%s: ", im->name);
    n = strlen(im->err);
    va_start(ap, fmt);
    vsnprintf(im->err + n, im->errlen - n, fmt, ap);
    va_end(ap);
    return s;
}

/* line_col - line and column (1-based) of a byte offset */
static void
line_col(const char *buf, size_t len, size_t off, int *line, int *col)
{
    size_t i, bol = 0;
    int l = 1;

    if (off > len)
        off = len;
    for (i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            l++;
            bol = i + 1;
        }
    }
    *line = l;
    *col = (int)(off - bol) + 1;
}

/* type_name - the JSON type a check wanted, for messages */
static SG_STATUS
want(struct imp *im, const char *path, const char *what)
{
    return imp_fail(im, SG_ERR_INVALID, "%s: expected %s", path, what);
}

/* bad_text - whether a name holds control characters */
static int
bad_text(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* parse_account - a GetAccount response into a summary */
static SG_STATUS
parse_account(struct imp *im, const char *rname, json_t *acct,
              struct sg_account *out)
{
    static const struct {
        const char *key;
        size_t off;
    } quota[] = {
        { "Max24HourSend", offsetof(struct sg_account, max_24h) },
        { "MaxSendRate", offsetof(struct sg_account, max_rate) },
        { "SentLast24Hours", offsetof(struct sg_account, sent_24h) },
    };
    char path[256];
    json_t *v, *q;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->sending_enabled = 1;
    out->max_24h = 200;
    out->max_rate = 1;
    if (acct == NULL)
        return SG_OK;
    if (!json_is_object(acct)) {
        snprintf(path, sizeof(path), "regions.%s.account", rname);
        return want(im, path, "an object");
    }
    if ((v = json_object_get(acct, "ProductionAccessEnabled")) != NULL) {
        if (!json_is_boolean(v)) {
            snprintf(path, sizeof(path),
                     "regions.%s.account.ProductionAccessEnabled", rname);
            return want(im, path, "true or false");
        }
        out->production = json_is_true(v);
    }
    if ((v = json_object_get(acct, "SendingEnabled")) != NULL) {
        if (!json_is_boolean(v)) {
            snprintf(path, sizeof(path),
                     "regions.%s.account.SendingEnabled", rname);
            return want(im, path, "true or false");
        }
        out->sending_enabled = json_is_true(v);
    }
    if ((q = json_object_get(acct, "SendQuota")) == NULL)
        return SG_OK;
    if (!json_is_object(q)) {
        snprintf(path, sizeof(path), "regions.%s.account.SendQuota", rname);
        return want(im, path, "an object");
    }
    for (i = 0; i < sizeof(quota) / sizeof(quota[0]); i++) {
        if ((v = json_object_get(q, quota[i].key)) == NULL)
            continue;
        if (!json_is_number(v)) {
            snprintf(path, sizeof(path), "regions.%s.account.SendQuota.%s",
                     rname, quota[i].key);
            return want(im, path, "a number");
        }
        *(double *)((char *)out + quota[i].off) = json_number_value(v);
    }
    return SG_OK;
}

/* Verification statuses: SESv2 names and the v1 spellings. */
static const struct {
    const char *given;
    const char *v2;
} statuses[] = {
    { "SUCCESS", "SUCCESS" }, { "PENDING", "PENDING" },
    { "FAILED", "FAILED" }, { "TEMPORARY_FAILURE", "TEMPORARY_FAILURE" },
    { "NOT_STARTED", "NOT_STARTED" },
    { "Success", "SUCCESS" }, { "Pending", "PENDING" },
    { "Failed", "FAILED" }, { "TemporaryFailure", "TEMPORARY_FAILURE" },
    { "NotStarted", "NOT_STARTED" },
};

/* parse_identity - one identities[] entry into a record */
static SG_STATUS
parse_identity(struct imp *im, struct imp_region *r, size_t i, json_t *e)
{
    char path[256], norm[SG_STATE_NAME_MAX + 1], key[SG_KEY_MAX];
    const char *name, *s, *status = "";
    unsigned char head[4 + 24];
    unsigned char *val;
    json_t *v;
    char *dump;
    size_t klen, dlen, n, j;
    int type, rc;

    if (!json_is_object(e)) {
        snprintf(path, sizeof(path), "regions.%s.identities[%zu]", r->given,
                 i);
        return want(im, path, "an object");
    }
    v = json_object_get(e, "IdentityName");
    if (!json_is_string(v)) {
        snprintf(path, sizeof(path), "regions.%s.identities[%zu]."
                 "IdentityName", r->given, i);
        return want(im, path, "a string");
    }
    name = json_string_value(v);
    if (*name == '\0' || strlen(name) > SG_STATE_NAME_MAX || bad_text(name)
        || sg_identity_key_buf(name, norm, sizeof(norm)) == NULL
        || (klen = sg_state_key(key, sizeof(key), r->name, norm,
                                strlen(norm), 0)) == 0)
        return imp_fail(im, SG_ERR_INVALID, "regions.%s.identities[%zu]: "
                        "bad IdentityName", r->given, i);
    if ((v = json_object_get(e, "IdentityType")) == NULL) {
        type = strchr(name, '@') != NULL ? SG_IDENT_EMAIL : SG_IDENT_DOMAIN;
    } else if (!json_is_string(v)) {
        snprintf(path, sizeof(path), "regions.%s.identities[%zu]."
                 "IdentityType", r->given, i);
        return want(im, path, "a string");
    } else {
        s = json_string_value(v);
        if (strcmp(s, "EMAIL_ADDRESS") == 0)
            type = SG_IDENT_EMAIL;
        else if (strcmp(s, "DOMAIN") == 0)
            type = SG_IDENT_DOMAIN;
        else if (strcmp(s, "MANAGED_DOMAIN") == 0)
            type = SG_IDENT_OTHER;
        else
            return imp_fail(im, SG_ERR_INVALID, "regions.%s.identities[%zu]."
                            "IdentityType: unknown type %.40s", r->given, i,
                            s);
    }
    if ((v = json_object_get(e, "VerificationStatus")) != NULL) {
        if (!json_is_string(v)) {
            snprintf(path, sizeof(path), "regions.%s.identities[%zu]."
                     "VerificationStatus", r->given, i);
            return want(im, path, "a string");
        }
        s = json_string_value(v);
        status = NULL;
        for (j = 0; j < sizeof(statuses) / sizeof(statuses[0]); j++)
            if (strcmp(s, statuses[j].given) == 0)
                status = statuses[j].v2;
        if (status == NULL)
            return imp_fail(im, SG_ERR_INVALID, "regions.%s.identities[%zu]."
                            "VerificationStatus: unknown status %.40s",
                            r->given, i, s);
    }
    head[0] = (unsigned char)type;
    head[1] = strcmp(status, "SUCCESS") == 0;
    head[2] = 1;
    if ((v = json_object_get(e, "SendingEnabled")) != NULL) {
        if (!json_is_boolean(v)) {
            snprintf(path, sizeof(path), "regions.%s.identities[%zu]."
                     "SendingEnabled", r->given, i);
            return want(im, path, "true or false");
        }
        head[2] = json_is_true(v);
    }
    n = strlen(status);
    head[3] = (unsigned char)n;
    memcpy(head + 4, status, n);
    if ((dump = json_dumps(e, JSON_COMPACT)) == NULL)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    dlen = strlen(dump);
    if ((val = malloc(4 + n + dlen)) == NULL) {
        free(dump);
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    }
    memcpy(val, head, 4 + n);
    memcpy(val + 4 + n, dump, dlen);
    rc = arena_add(&im->ident, key, klen, val, 4 + n + dlen);
    free(val);
    free(dump);
    if (rc != 0)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    r->acct.identities++;
    return SG_OK;
}

/* parse_config_set - one configuration_sets[] entry */
static SG_STATUS
parse_config_set(struct imp *im, struct imp_region *r, size_t i, json_t *e)
{
    char path[256], key[SG_KEY_MAX];
    const char *name;
    json_t *v = e;
    size_t klen;

    if (json_is_object(e)) {
        v = json_object_get(e, "ConfigurationSetName");
        if (v == NULL)
            v = json_object_get(e, "Name");
    }
    snprintf(path, sizeof(path), "regions.%s.configuration_sets[%zu]",
             r->given, i);
    if (!json_is_string(v))
        return want(im, path, "a string or an object with "
                    "ConfigurationSetName");
    name = json_string_value(v);
    if (*name == '\0' || strlen(name) > SG_STATE_NAME_MAX || bad_text(name)
        || (klen = sg_state_key(key, sizeof(key), r->name, name,
                                strlen(name), 0)) == 0)
        return imp_fail(im, SG_ERR_INVALID, "%s: bad name", path);
    if (arena_add(&im->cset, key, klen, NULL, 0) != 0)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    r->acct.config_sets++;
    return SG_OK;
}

/* parse_suppressed - one suppressed[] entry into a record */
static SG_STATUS
parse_suppressed(struct imp *im, struct imp_region *r, size_t i, json_t *e)
{
    char path[256], key[SG_KEY_MAX], listed[SG_ADDR_MAX + 1];
    unsigned char small[SG_SUPPV_HEAD + 256];
    unsigned char *val = small;
    const char *addr, *s;
    char *extra = NULL;
    size_t klen, alen, elen = 0, vlen;
    enum sg_supp_reason reason;
    long long when;
    json_t *v;
    SG_STATUS st = SG_OK;

    if (!json_is_object(e)) {
        snprintf(path, sizeof(path), "regions.%s.suppressed[%zu]", r->given,
                 i);
        return want(im, path, "an object");
    }
    v = json_object_get(e, "EmailAddress");
    if (!json_is_string(v)) {
        snprintf(path, sizeof(path), "regions.%s.suppressed[%zu]."
                 "EmailAddress", r->given, i);
        return want(im, path, "a string");
    }
    addr = json_string_value(v);
    alen = strlen(addr);
    if (alen == 0 || alen > SG_ADDR_MAX || bad_text(addr)
        || strchr(addr, '@') == NULL
        || (klen = sg_state_key(key, sizeof(key), r->name, addr, alen,
                                1)) == 0)
        return imp_fail(im, SG_ERR_INVALID, "regions.%s.suppressed[%zu]."
                        "EmailAddress: bad address", r->given, i);
    memcpy(listed, addr, alen + 1);
    v = json_object_get(e, "Reason");
    if (!json_is_string(v)) {
        snprintf(path, sizeof(path), "regions.%s.suppressed[%zu].Reason",
                 r->given, i);
        return want(im, path, "a string");
    }
    if ((reason = sg_supp_reason_parse(json_string_value(v))) == 0)
        return imp_fail(im, SG_ERR_INVALID, "regions.%s.suppressed[%zu]."
                        "Reason: expected BOUNCE or COMPLAINT", r->given, i);
    v = json_object_get(e, "LastUpdateTime");
    if (json_is_number(v)) {
        double d = json_number_value(v);

        if (!(d >= -1e12 && d <= 1e12))
            return imp_fail(im, SG_ERR_INVALID, "regions.%s.suppressed[%zu]."
                            "LastUpdateTime: out of range", r->given, i);
        when = (long long)d;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (sg_state_parse_time(s, &when) != 0)
            return imp_fail(im, SG_ERR_INVALID, "regions.%s.suppressed[%zu]."
                            "LastUpdateTime: not an ISO 8601 time",
                            r->given, i);
    } else {
        snprintf(path, sizeof(path), "regions.%s.suppressed[%zu]."
                 "LastUpdateTime", r->given, i);
        return want(im, path, "a string or a number");
    }
    if (json_object_size(e) > 3) {
        json_object_del(e, "EmailAddress");
        json_object_del(e, "Reason");
        json_object_del(e, "LastUpdateTime");
        if ((extra = json_dumps(e, JSON_COMPACT)) == NULL)
            return imp_fail(im, SG_ERR_NOMEM, "out of memory");
        elen = strlen(extra);
    }
    if (SG_SUPPV_HEAD + elen > sizeof(small)
        && (val = malloc(SG_SUPPV_HEAD + elen)) == NULL) {
        free(extra);
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    }
    vlen = sg_supp_encode(val, SG_SUPPV_HEAD + elen, reason, when,
                          listed, alen,
                          key + klen - alen, alen, extra, elen);
    if (vlen == 0 || arena_add(&im->supp, key, klen, val, vlen) != 0)
        st = imp_fail(im, SG_ERR_NOMEM, "out of memory");
    else
        r->acct.suppressed++;
    if (val != small)
        free(val);
    free(extra);
    return st;
}

/* parse_span - the elements of one scanned suppressed array */
static SG_STATUS
parse_span(struct imp *im, struct imp_region *r, const struct span *sp,
           size_t *count)
{
    struct scan sc;
    json_error_t jerr;
    json_t *e;
    size_t es;
    int line, col;
    SG_STATUS s;

    memset(&sc, 0, sizeof(sc));
    sc.buf = im->buf;
    sc.len = sp->end;
    sc.pos = sp->start + 1;
    for (;;) {
        scan_ws(&sc);
        if (sc.pos >= sc.len)
            return SG_OK;
        es = sc.pos;
        if (scan_value(&sc, 0) != 0)
            return imp_fail(im, SG_ERR_SYNTAX, "internal scanner error");
        e = json_loadb(im->buf + es, sc.pos - es, 0, &jerr);
        if (e == NULL) {
            line_col(im->buf, im->len, es + (size_t)(jerr.position > 0
                     ? jerr.position - 1 : 0), &line, &col);
            sg_seterr(im->err, im->errlen, "%s:%d:%d: %s", im->name,
                            line, col, jerr.text);
            return SG_ERR_SYNTAX;
        }
        s = parse_suppressed(im, r, (*count)++, e);
        json_decref(e);
        if (s != SG_OK)
            return s;
        scan_ws(&sc);
        if (sc.pos < sc.len && sc.buf[sc.pos] == ',')
            sc.pos++;
    }
}

/*
 * parse_lines - a region's suppressed entries streamed from a file, one
 *   JSON object a line (sg_state_import_file_supp): one line in memory
 *   at a time, each becomes a record as an array element would
 */
static SG_STATUS
parse_lines(struct imp *im, struct imp_region *r, const char *path,
            size_t *count)
{
    const char *name = im->name;
    json_error_t jerr;
    char *line = NULL, where[PATH_MAX + 32];
    size_t cap = 0, lineno = 0, n;
    ssize_t len;
    json_t *e;
    FILE *fp;
    SG_STATUS s = SG_OK;

    if ((fp = fopen(path, "re")) == NULL)
        return imp_fail(im, SG_ERR_IO, "%s: %s", path, strerror(errno));
    while (s == SG_OK && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'
                         || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        if ((e = json_loadb(line, n, 0, &jerr)) == NULL) {
            sg_seterr(im->err, im->errlen, "%s:%zu:%d: %s", path,
                            lineno, jerr.column, jerr.text);
            s = SG_ERR_SYNTAX;
            break;
        }
        /* Errors name the line file and line, not the snapshot. */
        snprintf(where, sizeof(where), "%s:%zu", path, lineno);
        im->name = where;
        s = parse_suppressed(im, r, (*count)++, e);
        im->name = name;
        json_decref(e);
    }
    if (s == SG_OK && ferror(fp))
        s = imp_fail(im, SG_ERR_IO, "%s: %s", path, strerror(errno));
    free(line);
    fclose(fp);
    return s;
}

/* parse_array - run fn over an optional array member of a region */
static SG_STATUS
parse_array(struct imp *im, struct imp_region *r, json_t *robj,
            const char *key,
            SG_STATUS (*fn)(struct imp *, struct imp_region *, size_t,
                            json_t *), size_t *count)
{
    char path[256];
    json_t *a, *e;
    size_t i;
    SG_STATUS s;

    if ((a = json_object_get(robj, key)) == NULL)
        return SG_OK;
    if (!json_is_array(a)) {
        snprintf(path, sizeof(path), "regions.%s.%s", r->given, key);
        return want(im, path, "an array");
    }
    json_array_foreach(a, i, e) {
        if ((s = fn(im, r, (*count)++, e)) != SG_OK)
            return s;
    }
    return SG_OK;
}

/* parse_region - one member of "regions" */
static SG_STATUS
parse_region(struct imp *im, const char *given, json_t *robj)
{
    const struct sg_region *reg;
    struct imp_region *r;
    json_t *rj, *v;
    const char *k;
    char path[256];
    size_t i, count;
    SG_STATUS s;

    if ((reg = sg_region_lookup(given)) == NULL)
        return imp_fail(im, SG_ERR_INVALID, "regions.%s: unknown SES region",
                        given);
    for (i = 0; i < im->nregions; i++)
        if (strcmp(im->regions[i].name, reg->name) == 0)
            return imp_fail(im, SG_ERR_INVALID, "regions.%s: duplicate "
                            "region", given);
    if (im->nregions == IMP_REGIONS_MAX)
        return imp_fail(im, SG_ERR_INVALID, "too many regions");
    if (!json_is_object(robj)) {
        snprintf(path, sizeof(path), "regions.%s", given);
        return want(im, path, "an object");
    }
    r = &im->regions[im->nregions++];
    snprintf(r->name, sizeof(r->name), "%s", reg->name);
    for (i = 0; r->name[i] != '\0'; i++)
        r->name[i] = lower_char(r->name[i]);
    r->given = given;
    if ((s = parse_account(im, given, json_object_get(robj, "account"),
                           &r->acct)) != SG_OK)
        return s;
    count = 0;
    if ((s = parse_array(im, r, robj, "identities", parse_identity,
                         &count)) != SG_OK)
        return s;
    count = 0;
    if ((s = parse_array(im, r, robj, "configuration_sets",
                         parse_config_set, &count)) != SG_OK)
        return s;
    count = 0;
    if ((s = parse_array(im, r, robj, "suppressed", parse_suppressed,
                         &count)) != SG_OK)
        return s;
    for (i = 0; i < im->sc.nspans; i++) {
        if (strcmp(im->sc.spans[i].region, given) == 0
            && (s = parse_span(im, r, &im->sc.spans[i], &count)) != SG_OK)
            return s;
    }
    for (i = 0; i < im->nlines; i++) {
        if (strcasecmp(im->lines[i].region, r->name) == 0
            && (s = parse_lines(im, r, im->lines[i].path, &count))
            != SG_OK)
            return s;
    }
    /* What is kept verbatim: the account and unknown fields. */
    if ((rj = json_object()) == NULL)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    json_object_foreach(robj, k, v) {
        if (strcmp(k, "identities") == 0 || strcmp(k, "suppressed") == 0
            || strcmp(k, "configuration_sets") == 0)
            continue;
        json_object_set(rj, k, v);
    }
    r->json = json_dumps(rj, JSON_COMPACT);
    json_decref(rj);
    if (r->json == NULL)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    return SG_OK;
}

/* region_of_key - the import region a record key belongs to */
static struct imp_region *
region_of_key(struct imp *im, const MDB_val *k)
{
    const char *tab = memchr(k->mv_data, '\t', k->mv_size);
    size_t n, i;

    if (tab == NULL)
        return NULL;
    n = (size_t)(tab - (const char *)k->mv_data);
    for (i = 0; i < im->nregions; i++)
        if (strlen(im->regions[i].name) == n
            && memcmp(im->regions[i].name, k->mv_data, n) == 0)
            return &im->regions[i];
    return NULL;
}

/* same_key - whether two record keys are equal */
static int
same_key(const MDB_val *a, const MDB_val *b)
{
    return a->mv_size == b->mv_size
        && memcmp(a->mv_data, b->mv_data, a->mv_size) == 0;
}

/*
 * dedupe - sort records and drop or refuse duplicates
 *
 * what: 'i' identities (refused), 'c' configuration sets (dropped),
 *   's' suppressed (dropped when the reasons agree, refused otherwise).
 *   A dropped record's index is set to SIZE_MAX.
 */
static SG_STATUS
dedupe(struct imp *im, struct arena *a, int what)
{
    MDB_val pk, pv, k, v;
    struct imp_region *r;
    struct sg_suppressed x, y;
    size_t i, prev = 0;
    const char *tab;

    arena_sort(a);
    for (i = 1; i < a->n; i++) {
        arena_rec(a, prev, &pk, &pv);
        arena_rec(a, i, &k, &v);
        if (!same_key(&pk, &k)) {
            prev = i;
            continue;
        }
        r = region_of_key(im, &k);
        tab = memchr(k.mv_data, '\t', k.mv_size);
        if (r == NULL || tab == NULL)
            return imp_fail(im, SG_ERR_INTERNAL, "bad record");
        tab++;
        if (what == 'i')
            return imp_fail(im, SG_ERR_INVALID, "regions.%s.identities: "
                            "duplicate identity %.*s", r->given,
                            (int)(k.mv_size - (size_t)(tab -
                            (const char *)k.mv_data)), tab);
        if (what == 's') {
            size_t al = k.mv_size - (size_t)(tab - (const char *)k.mv_data);

            if (sg_supp_decode(pv.mv_data, pv.mv_size, tab, al, &x, NULL,
                               NULL) != 0
                || sg_supp_decode(v.mv_data, v.mv_size, tab, al, &y, NULL,
                                  NULL) != 0)
                return imp_fail(im, SG_ERR_INTERNAL, "bad record");
            if (x.reason != y.reason)
                return imp_fail(im, SG_ERR_INVALID, "regions.%s.suppressed: "
                                "duplicate address %s with conflicting "
                                "reasons", r->given, y.address);
            r->acct.suppressed--;
        } else {
            r->acct.config_sets--;
        }
        a->idx[i] = SIZE_MAX;
    }
    return SG_OK;
}

/* put_all - write an arena's records in key order with MDB_APPEND */
static int
put_all(MDB_txn *txn, MDB_dbi dbi, struct arena *a)
{
    MDB_val k, v;
    size_t i;
    int rc;

    for (i = 0; i < a->n; i++) {
        if (a->idx[i] == SIZE_MAX)
            continue;
        arena_rec(a, i, &k, &v);
        if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
            return rc;
    }
    return 0;
}

/* put_str - a meta entry */
static int
put_meta(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *val,
         size_t vlen)
{
    MDB_val k, v;

    k.mv_data = (void *)key;
    k.mv_size = strlen(key);
    v.mv_data = (void *)val;
    v.mv_size = vlen;
    return mdb_put(txn, dbi, &k, &v, 0);
}

/*
 * imp_filters - each region's suppression filter, from the sorted
 *   records just written: a region's keys ("R\tADDR") are contiguous, so
 *   one pass, with no reads from the store. Regions with an empty list
 *   get none (the meta database was emptied).
 */
static int
imp_filters(SG_STATE *st, MDB_txn *txn, struct imp *im)
{
    struct sg_filter_build b;
    struct imp_region *r = NULL;
    const char *tab;
    MDB_val k, v;
    size_t i, plen = 0;
    int rc;

    for (i = 0; i < im->supp.n; i++) {
        if (im->supp.idx[i] == SIZE_MAX)
            continue;
        arena_rec(&im->supp, i, &k, &v);
        if (r == NULL || k.mv_size <= plen
            || memcmp(k.mv_data, r->name, plen - 1) != 0
            || ((const char *)k.mv_data)[plen - 1] != '\t') {
            /* A new region: reserve its filter, then only memory. */
            if ((r = region_of_key(im, &k)) == NULL
                || (tab = memchr(k.mv_data, '\t', k.mv_size)) == NULL)
                return EINVAL;
            plen = (size_t)(tab - (const char *)k.mv_data) + 1;
            if ((rc = sg_supp_filter_begin(st, txn, r->name,
                                           r->acct.suppressed, &b)) != 0)
                return rc;
        }
        sg_supp_filter_insert(&b, (const char *)k.mv_data + plen,
                              k.mv_size - plen);
    }
    return 0;
}

/* imp_write - replace the store's contents in one transaction */
static SG_STATUS
imp_write(SG_STATE *st, struct imp *im)
{
    MDB_txn *txn;
    char key[64];
    int64_t now = (int64_t)time(NULL);
    size_t i;
    int rc;

    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto fail;
    if ((rc = mdb_drop(txn, st->meta, 0)) != 0
        || (rc = mdb_drop(txn, st->ident, 0)) != 0
        || (rc = mdb_drop(txn, st->supp, 0)) != 0
        || (rc = mdb_drop(txn, st->cset, 0)) != 0
        || (rc = put_meta(txn, st->meta, SG_META_FORMAT, "1", 1)) != 0
        || (rc = put_meta(txn, st->meta, SG_META_IMPORTED, &now,
                          sizeof(now))) != 0
        || (rc = put_meta(txn, st->meta, SG_META_SOURCE, im->name,
                          strlen(im->name))) != 0
        || (rc = put_meta(txn, st->meta, SG_META_TOP, im->top,
                          strlen(im->top))) != 0)
        goto abort;
    for (i = 0; i < im->nregions; i++) {
        struct imp_region *r = &im->regions[i];

        region_meta_key(key, sizeof(key), SG_META_REGIONJSON, r->name);
        if ((rc = put_meta(txn, st->meta, key, r->json,
                           strlen(r->json))) != 0)
            goto abort;
        region_meta_key(key, sizeof(key), SG_META_REGION, r->name);
        if ((rc = put_meta(txn, st->meta, key, &r->acct,
                           sizeof(r->acct))) != 0)
            goto abort;
    }
    if ((rc = put_all(txn, st->ident, &im->ident)) != 0
        || (rc = put_all(txn, st->cset, &im->cset)) != 0
        || (rc = put_all(txn, st->supp, &im->supp)) != 0)
        goto abort;
    if ((rc = imp_filters(st, txn, im)) != 0)
        goto abort;
    if ((rc = mdb_txn_commit(txn)) != 0)
        goto fail;
    return SG_OK;
abort:
    mdb_txn_abort(txn);
fail:
    sg_seterr(im->err, im->errlen, "%s: %s%s%s", st->path,
                    mdb_strerror(rc), rc == MDB_MAP_FULL
                    ? " (raise state_max_size)" : "",
                    fs_full_hint(st, rc));
    return sg_state_mdb_status(rc) == SG_ERR_NOTFOUND ? SG_ERR_STATE
        : sg_state_mdb_status(rc);
}

/*
 * fs_full_hint - a note for a write that failed on a full file system
 *
 * LMDB reports a short write as EIO ("filesystem full?" in its source):
 * name the likely cause when the file system has no room left or the
 * file reached the process's file size limit. The old
 * state is untouched either way (the commit never wrote its meta page).
 */
static const char *
fs_full_hint(SG_STATE *st, int rc)
{
    struct statvfs vfs;
    struct rlimit rl;
    struct stat sb;
    mdb_filehandle_t fd;

    if (rc == ENOSPC)
        return " (file system full; the previous state is kept)";
    if (rc == EFBIG)
        return " (file size limit reached; the previous state is kept)";
    if (rc != EIO || mdb_env_get_fd(st->env, &fd) != 0
        || fstatvfs(fd, &vfs) != 0)
        return "";
    if ((unsigned long long)vfs.f_bavail * vfs.f_frsize < (1u << 20))
        return " (file system full; the previous state is kept)";
    /* The short write may be RLIMIT_FSIZE's (ulimit -f) instead. */
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
        && fstat(fd, &sb) == 0
        && (unsigned long long)sb.st_size + (1u << 20) >= rl.rlim_cur)
        return " (file size limit reached; the previous state is kept)";
    return "";
}

/* skeleton - the text with the scanned arrays' contents blanked */
static char *
skeleton(struct imp *im, size_t *outlen)
{
    char *out;
    size_t i, j, o = 0, from = 0, nl, bol;
    const struct span *sp;

    if ((out = malloc(im->len + 1)) == NULL)
        return NULL;
    for (i = 0; i < im->sc.nspans; i++) {
        sp = &im->sc.spans[i];
        memcpy(out + o, im->buf + from, sp->start + 1 - from);
        o += sp->start + 1 - from;
        /* Keep the line and column of what follows the array. */
        nl = 0;
        bol = sp->start + 1;
        for (j = sp->start + 1; j < sp->end; j++) {
            if (im->buf[j] == '\n') {
                nl++;
                bol = j + 1;
            }
        }
        memset(out + o, '\n', nl);
        o += nl;
        memset(out + o, ' ', sp->end - bol);
        o += sp->end - bol;
        from = sp->end;
    }
    memcpy(out + o, im->buf + from, im->len - from);
    o += im->len - from;
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* imp_parse - scan, parse and validate the whole snapshot */
static SG_STATUS
imp_parse(struct imp *im)
{
    json_error_t jerr;
    json_t *root = NULL, *v, *regions, *top;
    const char *k;
    char *skel;
    size_t skellen, i, j;
    int line, col;
    SG_STATUS s = SG_OK;

    im->sc.buf = im->buf;
    im->sc.len = im->len;
    if (scan_value(&im->sc, 1) == 0) {
        scan_ws(&im->sc);
        if (im->sc.pos != im->len)
            scan_fail(&im->sc, "end of file expected");
    }
    if (im->sc.err != NULL) {
        /* Let jansson word the error where that is cheap. */
        if (im->len <= ((size_t)64 << 20)
            && (root = json_loadb(im->buf, im->len, 0, &jerr)) == NULL) {
            sg_seterr(im->err, im->errlen, "%s:%d:%d: %s", im->name,
                            jerr.line, jerr.column, jerr.text);
            return SG_ERR_SYNTAX;
        }
        json_decref(root);
        line_col(im->buf, im->len, im->sc.errpos, &line, &col);
        sg_seterr(im->err, im->errlen, "%s:%d:%d: %s", im->name, line,
                        col, im->sc.err);
        return SG_ERR_SYNTAX;
    }
    if ((skel = skeleton(im, &skellen)) == NULL)
        return imp_fail(im, SG_ERR_NOMEM, "out of memory");
    root = json_loadb(skel, skellen, 0, &jerr);
    free(skel);
    if (root == NULL) {
        sg_seterr(im->err, im->errlen, "%s:%d:%d: %s", im->name,
                        jerr.line, jerr.column, jerr.text);
        return SG_ERR_SYNTAX;
    }
    if (!json_is_object(root)) {
        s = want(im, "top level", "an object");
        goto out;
    }
    v = json_object_get(root, "sesgate_state");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        s = imp_fail(im, SG_ERR_INVALID, "sesgate_state: expected 1 (not a "
                     "sesgate snapshot, or a newer format)");
        goto out;
    }
    regions = json_object_get(root, "regions");
    if (!json_is_object(regions)) {
        s = want(im, "regions", "an object");
        goto out;
    }
    json_object_foreach(regions, k, v) {
        if ((s = parse_region(im, k, v)) != SG_OK)
            goto out;
    }
    for (i = 0; i < im->nlines; i++) {
        for (j = 0; j < im->nregions; j++)
            if (strcasecmp(im->lines[i].region, im->regions[j].name) == 0)
                break;
        if (j == im->nregions) {
            s = imp_fail(im, SG_ERR_INVALID, "%s: suppressed entries for "
                         "region %s, which the snapshot does not have",
                         im->lines[i].path, im->lines[i].region);
            goto out;
        }
    }
    if ((s = dedupe(im, &im->ident, 'i')) != SG_OK
        || (s = dedupe(im, &im->cset, 'c')) != SG_OK
        || (s = dedupe(im, &im->supp, 's')) != SG_OK)
        goto out;
    if ((top = json_object()) == NULL) {
        s = imp_fail(im, SG_ERR_NOMEM, "out of memory");
        goto out;
    }
    json_object_foreach(root, k, v) {
        if (strcmp(k, "sesgate_state") != 0 && strcmp(k, "regions") != 0)
            json_object_set(top, k, v);
    }
    im->top = json_dumps(top, JSON_COMPACT);
    json_decref(top);
    if (im->top == NULL)
        s = imp_fail(im, SG_ERR_NOMEM, "out of memory");
out:
    json_decref(root);
    return s;
}

/*
 * import_run - parse, validate and write one import
 *
 * map/maplen: the mapping buf lies in, unmapped here once parsed (the
 *   records are copies), so that the snapshot's pages and LMDB's dirty
 *   pages of the write are not resident together; NULL when buf is the
 *   caller's.
 */
static SG_STATUS
import_run(SG_STATE *st, const char *name, const char *buf, size_t len,
           void *map, size_t maplen, const struct sg_state_supp_file *lines,
           size_t nlines, char *err, size_t errlen)
{
    struct imp *im;
    size_t i;
    SG_STATUS s;

    if (st == NULL || (st->flags & SG_STATE_RDONLY)) {
        sg_seterr(err, errlen, "state store opened read-only");
        s = SG_ERR_USAGE;
        goto unmap;
    }
    if (len > SG_STATE_JSON_MAX) {
        sg_seterr(err, errlen, "%s: larger than %zu bytes", name,
                        SG_STATE_JSON_MAX);
        s = SG_ERR_TOOBIG;
        goto unmap;
    }
    if ((im = calloc(1, sizeof(*im))) == NULL) {
        sg_seterr(err, errlen, "out of memory");
        s = SG_ERR_NOMEM;
        goto unmap;
    }
    im->name = name != NULL ? name : "snapshot";
    im->buf = buf != NULL ? buf : "";
    im->len = buf != NULL ? len : 0;
    im->err = err;
    im->errlen = errlen;
    im->lines = lines;
    im->nlines = lines != NULL ? nlines : 0;
    if ((s = imp_parse(im)) == SG_OK) {
        free(im->sc.spans);
        im->sc.spans = NULL;
        if (map != NULL) {
            munmap(map, maplen);
            map = NULL;
        }
        im->buf = NULL;
        s = imp_write(st, im);
    }
    free(im->sc.spans);
    arena_free(&im->ident);
    arena_free(&im->cset);
    arena_free(&im->supp);
    for (i = 0; i < im->nregions; i++)
        free(im->regions[i].json);
    free(im->top);
    free(im);
unmap:
    if (map != NULL)
        munmap(map, maplen);
    return s;
}

/* sg_state_import_buf - replace the state with a snapshot in memory */
SG_STATUS
sg_state_import_buf(SG_STATE *st, const char *name, const char *buf,
                    size_t len, char *err, size_t errlen)
{
    return import_run(st, name, buf, len, NULL, 0, NULL, 0, err, errlen);
}

/* sg_state_import_file_supp - a snapshot file plus streamed lists */
SG_STATUS
sg_state_import_file_supp(SG_STATE *st, const char *path,
                          const struct sg_state_supp_file *lines,
                          size_t nlines, char *err, size_t errlen)
{
    struct stat sb;
    void *map = NULL;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        sg_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return SG_ERR_IO;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sg_seterr(err, errlen, "%s: not a regular file", path);
        close(fd);
        return SG_ERR_IO;
    }
    if ((unsigned long long)sb.st_size > SG_STATE_JSON_MAX) {
        sg_seterr(err, errlen, "%s: larger than %zu bytes", path,
                        SG_STATE_JSON_MAX);
        close(fd);
        return SG_ERR_TOOBIG;
    }
    if (sb.st_size > 0) {
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            sg_seterr(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return SG_ERR_IO;
        }
        (void)madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    }
    close(fd);
    return import_run(st, path, map != NULL ? map : "", (size_t)sb.st_size,
                      map, (size_t)sb.st_size, lines, nlines, err, errlen);
}

/* sg_state_import_file - replace the state with a snapshot file */
SG_STATUS
sg_state_import_file(SG_STATE *st, const char *path, char *err,
                     size_t errlen)
{
    return sg_state_import_file_supp(st, path, NULL, 0, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Export                                                              */
/* ------------------------------------------------------------------ */

struct exp {
    FILE *fp;
    int first;
};

/* write_key - "\n<indent>"KEY": " with a separating comma */
static void
write_key(FILE *fp, int *first, const char *indent, const char *key)
{
    fputs(*first ? "\n" : ",\n", fp);
    *first = 0;
    fputs(indent, fp);
    sg_state_write_string(fp, key, strlen(key));
    fputs(": ", fp);
}

/* write_json - a value, compact */
static int
write_json(FILE *fp, json_t *v)
{
    return json_dumpf(v, fp, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* export_supp - one suppressed entry, one line */
static int
export_supp(const struct sg_suppressed *e, const char *json, size_t jsonlen,
            void *arg)
{
    struct exp *x = arg;
    char when[32];

    fputs(x->first ? "\n        {\"EmailAddress\": "
          : ",\n        {\"EmailAddress\": ", x->fp);
    x->first = 0;
    sg_state_write_string(x->fp, e->address, strlen(e->address));
    fprintf(x->fp, ", \"Reason\": \"%s\", \"LastUpdateTime\": \"%s\"",
            sg_supp_reason_name(e->reason),
            sg_state_format_time(e->updated, when, sizeof(when)));
    /* Unknown fields: the stored object without its braces. */
    if (jsonlen > 2 && json[0] == '{' && json[jsonlen - 1] == '}') {
        fputs(", ", x->fp);
        fwrite(json + 1, 1, jsonlen - 2, x->fp);
    }
    putc('}', x->fp);
    return ferror(x->fp) ? -1 : 0;
}

/* What export_prefix hands each entry. */
struct exp_prefix {
    FILE *fp;
    int ident;                  /* identity values, else set names */
    int first;
};

/* export_value - one identity's JSON or one set name; a malformed
 *   identity ends the list */
static int
export_value(const char *name, size_t namelen, const MDB_val *v, void *arg)
{
    struct exp_prefix *x = arg;
    struct sg_identity id;
    const char *json;
    size_t jlen;

    fputs(x->first ? "\n        " : ",\n        ", x->fp);
    x->first = 0;
    if (!x->ident) {
        sg_state_write_string(x->fp, name, namelen);
        return 0;
    }
    if (sg_state_ident_decode(v, &id, &json, &jlen) != 0)
        return 1;
    fwrite(json, 1, jlen, x->fp);
    return 0;
}

/* export_prefix - write the values of one DB under "R\t" */
static int
export_prefix(SG_SNAP *snap, MDB_dbi dbi, const char *region, int ident,
              FILE *fp)
{
    struct exp_prefix x = { fp, ident, 1 };
    SG_STATUS st;

    st = sg_snap_prefix_each(snap, dbi, region, export_value, &x);
    if (st != SG_OK && st != SG_ERR_NOTFOUND)
        return -1;
    fputs(x.first ? "]" : "\n      ]", fp);
    return 0;
}

/* export_region - one member of "regions" */
static int
export_region(SG_SNAP *snap, const char *region, FILE *fp)
{
    char key[64];
    size_t klen;
    MDB_val v;
    json_t *rj = NULL, *val;
    const char *k;
    struct exp x;
    int first = 1;

    klen = region_meta_key(key, sizeof(key), SG_META_REGIONJSON, region);
    if (snap_get(snap, snap->st->meta, key, klen, &v) == SG_OK)
        rj = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    if (rj != NULL && (val = json_object_get(rj, "account")) != NULL) {
        write_key(fp, &first, "      ", "account");
        write_json(fp, val);
    }
    if (rj != NULL) {
        json_object_foreach(rj, k, val) {
            if (strcmp(k, "account") == 0)
                continue;
            write_key(fp, &first, "      ", k);
            write_json(fp, val);
        }
    }
    json_decref(rj);
    write_key(fp, &first, "      ", "identities");
    putc('[', fp);
    if (export_prefix(snap, snap->st->ident, region, 1, fp) != 0)
        return -1;
    write_key(fp, &first, "      ", "configuration_sets");
    putc('[', fp);
    if (export_prefix(snap, snap->st->cset, region, 0, fp) != 0)
        return -1;
    write_key(fp, &first, "      ", "suppressed");
    putc('[', fp);
    x.fp = fp;
    x.first = 1;
    if (sg_supp_each_raw(snap, region, export_supp, &x) != SG_OK)
        return -1;
    fputs(x.first ? "]" : "\n      ]", fp);
    return 0;
}

/* sg_state_export - write the state as a JSON snapshot */
SG_STATUS
sg_state_export(SG_STATE *st, FILE *fp, char *err, size_t errlen)
{
    char (*regions)[SG_REGION_MAX + 1] = NULL;
    struct sg_snap snap;
    json_t *top = NULL, *val;
    const char *k;
    MDB_val v;
    size_t n, i;
    int first = 1, bad = 0;
    SG_STATUS s;

    memset(&snap, 0, sizeof(snap));
    snap.st = st;
    if ((s = sg_snap_begin(&snap)) != SG_OK) {
        sg_seterr(err, errlen, "%s", snap.err);
        return s;
    }
    n = sg_snap_regions(&snap, NULL, 0);
    if (n > 0 && (regions = calloc(n, sizeof(*regions))) == NULL) {
        sg_snap_end(&snap);
        mdb_txn_abort(snap.txn);
        sg_seterr(err, errlen, "out of memory");
        return SG_ERR_NOMEM;
    }
    n = sg_snap_regions(&snap, regions, n);
    fputs("{\n  \"sesgate_state\": 1,\n  \"regions\": {", fp);
    for (i = 0; i < n && !bad; i++) {
        write_key(fp, &first, "    ", regions[i]);
        putc('{', fp);
        bad = export_region(&snap, regions[i], fp) != 0;
        fputs("\n    }", fp);
    }
    fputs(first ? "}" : "\n  }", fp);
    if (snap_get(&snap, st->meta, SG_META_TOP, sizeof(SG_META_TOP) - 1,
                 &v) == SG_OK)
        top = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    first = 0;
    if (top != NULL) {
        json_object_foreach(top, k, val) {
            write_key(fp, &first, "  ", k);
            write_json(fp, val);
        }
    }
    json_decref(top);
    fputs("\n}\n", fp);
    free(regions);
    sg_snap_end(&snap);
    mdb_txn_abort(snap.txn);
    if (bad) {
        sg_seterr(err, errlen, "%s: cannot read the store",
                        st->path);
        return SG_ERR_STATE;
    }
    if (fflush(fp) != 0 || ferror(fp)) {
        sg_seterr(err, errlen, "cannot write the snapshot: %s",
                        strerror(errno));
        return SG_ERR_IO;
    }
    return SG_OK;
}

/* sg_state_adopt_owner - give a file the owner of its state directory */
void
sg_state_adopt_owner(const char *dir, const char *path, int fd)
{
    struct stat dsb, fsb;

    if (geteuid() != 0 || stat(dir, &dsb) != 0 || dsb.st_uid == 0)
        return;
    if (fd >= 0) {
        if (fstat(fd, &fsb) == 0 && fsb.st_uid != dsb.st_uid)
            (void)fchown(fd, dsb.st_uid, dsb.st_gid);
    } else if (path != NULL && lstat(path, &fsb) == 0
               && S_ISREG(fsb.st_mode) && fsb.st_uid != dsb.st_uid) {
        (void)chown(path, dsb.st_uid, dsb.st_gid);
    }
}
