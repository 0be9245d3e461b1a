/*
 * ctl_sync.c - sesgatectl sync: the state from the SES API, per region
 *
 * sesgatectl sync [--region R]... [--full] [--dry-run] [--json]
 *
 * Each region runs in its own thread with its own SES API handle (the
 * pace, api_rate, is per region): GetAccount, ListEmailIdentities and
 * GetEmailIdentity per identity, GetIdentityNotificationAttributes (v1,
 * 100 identities a call), ListConfigurationSets,
 * DescribeActiveReceiptRuleSet (v1), ListSuppressedDestinations. A
 * thread writes its region as a DESIGN.md snapshot fragment to a
 * private temp file in state_dir, and its suppression list, page by
 * page, to a second one (one JSON object a line), so memory does not
 * grow with the list. When every region succeeded, the fragments, the
 * regions not synced this time (copied from the store, their lists to
 * line files too) and the top-level fields are joined into one snapshot
 * file and handed with the line files to sg_state_import_file_supp
 * (state_int.h), which reads the lists a line at a time instead of
 * mapping one large JSON file: one LMDB write transaction, so readers
 * see the old state or the new one. Any failure, or the process dying,
 * leaves the last good state untouched.
 *
 * Suppression list: the whole list the first time, with --full, and
 * every sync_full_interval seconds (that pass catches removals made
 * outside sesgate); otherwise only entries updated since the last sync
 * (StartDate, with five minutes of overlap), merged into the stored
 * list, the newer entry winning. Per-region bookkeeping lives in the
 * snapshot's top-level "sesgate_sync" object, written in the same
 * transaction as the data it describes.
 *
 * Removals made with "suppress remove" that SES could not take yet are
 * kept in STATE_DIR/sync-pending.json and retried first by every sync
 * (R5); while pending they are left out of the synced list.
 */

/* System headers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Third-party headers. */
#include <jansson.h>
#include <lmdb.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "state_int.h"
#include "awscred.h"
#include "sesapi.h"
#include "metrics.h"
#include "ctl.h"

#define SYNC_REGIONS_MAX    64
#define SYNC_OVERLAP        300         /* seconds of StartDate overlap */
#define SYNC_TOP_KEY        "sesgate_sync"
#define PENDING_FILE        "sync-pending.json"

/* A set of lower-cased strings (open addressing). */
struct strset {
    char **slot;
    size_t cap;
    size_t n;
};

/* One region's job. */
struct job {
    char region[SG_REGION_MAX + 1];
    SG_STATE *st;
    const struct sg_conf *conf;
    const struct sg_awscred *cred;
    char tmp[4096];             /* fragment file */
    char supptmp[4096];         /* its suppression list, one a line */
    int full;                   /* whole suppression list */
    long long since;            /* StartDate when incremental */
    int in_state;               /* region was in the state before */
    json_t *pending;            /* addresses whose removal is pending */
    json_t *still_pending;      /* of which SES did not take yet */
    /* Progress, read by the main thread under lock. */
    pthread_mutex_t lock;
    char phase[64];
    long long done;             /* items of the phase so far */
    long long total;            /* of the phase, 0 unknown */
    long long identities;
    long long suppressed;       /* addresses written */
    long long fetched;          /* addresses fetched from SES */
    long long csets;
    int finished;
    /* Result. */
    SG_STATUS status;
    char err[SG_SESAPI_ERR_MAX];
    char code[128];
    struct sg_sesapi_stats stats;
    double seconds;
};

/* sync_usage - help text */
static void
sync_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] sync [--region R]... [--full] [--dry-run] "
            "[--json]\n"
            "\n"
            "Fetch each region's account, identities, configuration sets,\n"
            "notification settings, active receipt rule set and\n"
            "suppression list from the SES API and replace the state with\n"
            "them in one transaction. Regions: --region, else the\n"
            "configuration's \"regions\".\n"
            "  --full      fetch the whole suppression list (default: only\n"
            "              what changed since the last sync, and the whole\n"
            "              list every sync_full_interval seconds)\n"
            "  --dry-run   fetch and check everything, change nothing\n"
            "  --json      print a JSON summary (no progress display)\n",
            CTL_PROG);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* hash_str - FNV-1a of a lower-cased string */
static uint64_t
hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

/* set_has - whether s (any case) is in the set */
static int
set_has(const struct strset *set, const char *s)
{
    size_t i;

    if (set->cap == 0)
        return 0;
    for (i = hash_str(s) & (set->cap - 1); set->slot[i] != NULL;
         i = (i + 1) & (set->cap - 1))
        if (strcasecmp(set->slot[i], s) == 0)
            return 1;
    return 0;
}

/* set_add - add s; 0, or -1 when out of memory */
static int
set_add(struct strset *set, const char *s)
{
    struct strset bigger;
    size_t i;

    if (set_has(set, s))
        return 0;
    if ((set->n + 1) * 2 > set->cap) {
        bigger.cap = set->cap ? set->cap * 2 : 1024;
        bigger.n = 0;
        if ((bigger.slot = calloc(bigger.cap, sizeof(char *))) == NULL)
            return -1;
        for (i = 0; i < set->cap; i++) {
            if (set->slot[i] != NULL) {
                size_t j = hash_str(set->slot[i]) & (bigger.cap - 1);

                while (bigger.slot[j] != NULL)
                    j = (j + 1) & (bigger.cap - 1);
                bigger.slot[j] = set->slot[i];
                bigger.n++;
            }
        }
        free(set->slot);
        *set = bigger;
    }
    for (i = hash_str(s) & (set->cap - 1); set->slot[i] != NULL;
         i = (i + 1) & (set->cap - 1))
        ;
    if ((set->slot[i] = strdup(s)) == NULL)
        return -1;
    set->n++;
    return 0;
}

/* set_free - release */
static void
set_free(struct strset *set)
{
    size_t i;

    for (i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
    memset(set, 0, sizeof(*set));
}

/* job_phase - set the progress phase */
static void
job_phase(struct job *j, const char *phase, long long total)
{
    pthread_mutex_lock(&j->lock);
    snprintf(j->phase, sizeof(j->phase), "%s", phase);
    j->done = 0;
    j->total = total;
    pthread_mutex_unlock(&j->lock);
}

/* job_tick - one more item of the phase */
static void
job_tick(struct job *j, long long *counter)
{
    pthread_mutex_lock(&j->lock);
    j->done++;
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&j->lock);
}

/* job_fail - record the failure of a region (first one wins) */
static void job_fail(struct job *j, SG_STATUS s, const char *code,
                     const char *fmt, ...) SG_PRINTFLIKE(4, 5);

/* job_fail - record the failure of a region (first one wins) */
static void
job_fail(struct job *j, SG_STATUS s, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (j->status != SG_OK)
        return;
    j->status = s;
    snprintf(j->code, sizeof(j->code), "%s", code != NULL ? code : "");
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof(j->err), fmt, ap);
    va_end(ap);
}

/* api_fail - record an API failure */
static void
api_fail(struct job *j, SG_SESAPI *api, SG_STATUS s)
{
    job_fail(j, s, sg_sesapi_error_code(api), "%s", sg_sesapi_error(api));
}

/* ------------------------------------------------------------------ */
/* The region thread                                                   */
/* ------------------------------------------------------------------ */

/* Collector of ListEmailIdentities. */
struct idlist {
    struct job *job;
    json_t *items;
};

/* on_identity - keep a list entry */
static int
on_identity(json_t *item, void *arg)
{
    struct idlist *l = arg;

    if (!json_is_string(json_object_get(item, "IdentityName")))
        return 0;               /* nothing to key it on: skip */
    job_tick(l->job, NULL);
    return json_array_append(l->items, item);
}

/* on_cset - keep a configuration set name */
static int
on_cset(json_t *item, void *arg)
{
    return json_array_append((json_t *)arg, item);
}

/* Writer of suppressed entries: one JSON object a line. */
struct suppw {
    struct job *job;
    FILE *fp;
    struct strset *seen;        /* incremental: addresses fetched now */
    struct strset *skip;        /* pending removals */
};

/* on_suppressed - stream one SES entry to the fragment */
static int
on_suppressed(json_t *item, void *arg)
{
    struct suppw *w = arg;
    const char *addr;

    addr = json_string_value(json_object_get(item, "EmailAddress"));
    job_tick(w->job, &w->job->fetched);
    if (addr == NULL || (w->skip != NULL && set_has(w->skip, addr)))
        return 0;
    if (w->seen != NULL && set_add(w->seen, addr) != 0)
        return -1;
    if (json_dumpf(item, w->fp, JSON_COMPACT) != 0)
        return -1;
    putc('\n', w->fp);
    w->job->suppressed++;
    return ferror(w->fp) ? -1 : 0;
}

/* on_stored - an entry of the stored list (incremental merge) */
static int
on_stored(const struct sg_suppressed *e, const char *json, size_t jsonlen,
          void *arg)
{
    struct suppw *w = arg;
    char when[32];

    if (set_has(w->seen, e->address)
        || (w->skip != NULL && set_has(w->skip, e->address)))
        return 0;
    fputs("{\"EmailAddress\":", w->fp);
    sg_state_write_string(w->fp, e->address, strlen(e->address));
    fprintf(w->fp, ",\"Reason\":\"%s\",\"LastUpdateTime\":\"%s\"",
            sg_supp_reason_name(e->reason),
            sg_state_format_time(e->updated, when, sizeof(when)));
    if (jsonlen > 2 && json[0] == '{' && json[jsonlen - 1] == '}') {
        putc(',', w->fp);
        fwrite(json + 1, 1, jsonlen - 2, w->fp);
    }
    fputs("}\n", w->fp);
    w->job->suppressed++;
    return ferror(w->fp) ? -1 : 0;
}

/* retry_pending - DeleteSuppressedDestination for pending removals */
static void
retry_pending(struct job *j, SG_SESAPI *api, struct strset *skip)
{
    json_t *a;
    size_t i;

    if (j->pending == NULL || !json_is_array(j->pending))
        return;
    job_phase(j, "DeleteSuppressedDestination (pending)",
              (long long)json_array_size(j->pending));
    json_array_foreach(j->pending, i, a) {
        const char *addr = json_string_value(a);

        if (addr == NULL)
            continue;
        (void)set_add(skip, addr);
        if (sg_sesapi_delete_suppressed(api, addr, NULL) != SG_OK) {
            sg_log(SG_LOG_WARNING, "%s (still pending, retried at the "
                   "next sync)", sg_sesapi_error(api));
            json_array_append(j->still_pending, a);
        }
        job_tick(j, NULL);
    }
}

/* fetch_identities - list, details, notification settings */
static int
fetch_identities(struct job *j, SG_SESAPI *api, json_t **out)
{
    struct idlist l;
    json_t *e, *detail, *attrs, *k, *v;
    const char *names[SG_SESAPI_V1_BATCH];
    const char *key;
    size_t i, n, b;
    SG_STATUS s;

    l.job = j;
    l.items = *out = json_array();
    if (l.items == NULL)
        return -1;
    job_phase(j, "ListEmailIdentities", 0);
    if ((s = sg_sesapi_list_identities(api, on_identity, &l)) != SG_OK) {
        api_fail(j, api, s);
        return -1;
    }
    n = json_array_size(l.items);
    job_phase(j, "GetEmailIdentity", (long long)n);
    json_array_foreach(l.items, i, e) {
        const char *name = json_string_value(json_object_get(e,
                                                             "IdentityName"));

        s = sg_sesapi_get_identity(api, name, &detail);
        if (s == SG_ERR_NOTFOUND) {
            /* Deleted between the list and now: keep the list entry. */
            job_tick(j, &j->identities);
            continue;
        }
        if (s != SG_OK) {
            api_fail(j, api, s);
            return -1;
        }
        json_object_foreach(detail, key, v) {
            if (strcmp(key, "IdentityName") != 0)
                json_object_set(e, key, v);
        }
        json_decref(detail);
        job_tick(j, &j->identities);
    }
    job_phase(j, "GetIdentityNotificationAttributes", (long long)n);
    for (b = 0; b < n; b += SG_SESAPI_V1_BATCH) {
        size_t m = n - b < SG_SESAPI_V1_BATCH ? n - b : SG_SESAPI_V1_BATCH;

        for (i = 0; i < m; i++)
            names[i] = json_string_value(json_object_get(
                json_array_get(l.items, b + i), "IdentityName"));
        if ((s = sg_sesapi_notification_attrs(api, names, m, &attrs))
            != SG_OK) {
            api_fail(j, api, s);
            return -1;
        }
        for (i = 0; i < m; i++) {
            e = json_array_get(l.items, b + i);
            k = json_object_get(attrs, names[i]);
            if (k != NULL)
                json_object_set(e, "NotificationAttributes", k);
            job_tick(j, NULL);
        }
        json_decref(attrs);
    }
    return 0;
}

/* region_main - one region's whole fetch into its fragment file */
static void *
region_main(void *arg)
{
    struct job *j = arg;
    struct sg_sesapi_opts o;
    struct strset seen = { NULL, 0, 0 }, skip = { NULL, 0, 0 };
    struct suppw w;
    struct timespec t0, t1;
    json_t *account = NULL, *idents = NULL, *csets = NULL, *rules = NULL;
    SG_SESAPI *api;
    SG_SNAP *snap;
    char err[512];
    FILE *fp = NULL, *sfp = NULL;
    SG_STATUS s;
    int fd;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&o, 0, sizeof(o));
    o.endpoint = j->conf->api_endpoint;
    o.region = j->region;
    o.cred = j->cred;
    o.rate = (int)j->conf->api_rate;
    o.timeout = (int)j->conf->api_timeout;
    o.retries = (int)j->conf->api_retries;
    o.ca_file = j->conf->api_ca_file;
    o.ca_path = j->conf->api_ca_path;
    if ((api = sg_sesapi_new(&o, err, sizeof(err))) == NULL) {
        job_fail(j, SG_ERR_CONFIG, NULL, "%s: %s", j->region, err);
        goto done;
    }
    retry_pending(j, api, &skip);

    job_phase(j, "GetAccount", 1);
    if ((s = sg_sesapi_get_account(api, &account)) != SG_OK) {
        api_fail(j, api, s);
        goto done;
    }
    if (fetch_identities(j, api, &idents) != 0)
        goto done;
    job_phase(j, "ListConfigurationSets", 0);
    if ((csets = json_array()) == NULL
        || (s = sg_sesapi_list_config_sets(api, on_cset, csets)) != SG_OK) {
        api_fail(j, api, csets == NULL ? SG_ERR_NOMEM : s);
        goto done;
    }
    j->csets = (long long)json_array_size(csets);
    job_phase(j, "DescribeActiveReceiptRuleSet", 1);
    s = sg_sesapi_active_rule_set(api, &rules);
    if (s == SG_ERR_PROTO || s == SG_ERR_NOTFOUND) {
        /* Regions without receiving answer with a 4xx: not fatal. */
        sg_log(SG_LOG_INFO, "%s (no active receipt rule set recorded)",
               sg_sesapi_error(api));
        rules = NULL;
    } else if (s != SG_OK) {
        api_fail(j, api, s);
        goto done;
    }

    /* The fragment: "REGION": {...} */
    if ((fd = mkstemp(j->tmp)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
        job_fail(j, SG_ERR_IO, NULL, "%s: %s", j->tmp, strerror(errno));
        goto done;
    }
    sg_state_write_string(fp, j->region, strlen(j->region));
    fputs(": {\"account\": ", fp);
    json_dumpf(account, fp, JSON_COMPACT);
    if (json_object_size(rules) > 0) {
        fputs(",\n\"active_receipt_rule_set\": ", fp);
        json_dumpf(rules, fp, JSON_COMPACT);
    }
    fputs(",\n\"identities\": ", fp);
    json_dumpf(idents, fp, JSON_COMPACT | JSON_INDENT(0));
    fputs(",\n\"configuration_sets\": ", fp);
    json_dumpf(csets, fp, JSON_COMPACT);
    json_decref(idents);
    idents = NULL;
    /* The list goes to its own file, one entry a line. */
    fputs(",\n\"suppressed\": []}", fp);
    if (fflush(fp) != 0 || ferror(fp)) {
        job_fail(j, SG_ERR_IO, NULL, "%s: %s", j->tmp, strerror(errno));
        goto done;
    }
    if ((fd = mkstemp(j->supptmp)) < 0
        || (sfp = fdopen(fd, "w")) == NULL) {
        job_fail(j, SG_ERR_IO, NULL, "%s: %s", j->supptmp,
                 strerror(errno));
        goto done;
    }
    w.job = j;
    w.fp = sfp;
    w.seen = j->full ? NULL : &seen;
    w.skip = skip.n > 0 ? &skip : NULL;
    job_phase(j, "ListSuppressedDestinations", 0);
    if ((s = sg_sesapi_list_suppressed(api, j->full ? 0 : j->since,
                                       on_suppressed, &w)) != SG_OK) {
        if (s == SG_ERR_INTERNAL)
            job_fail(j, SG_ERR_IO, NULL, "%s: %s", j->supptmp,
                     strerror(errno));
        else
            api_fail(j, api, s);
        goto done;
    }
    if (!j->full && j->in_state) {
        /* Merge: the stored list minus what SES just sent. */
        job_phase(j, "merging the stored list", 0);
        if ((snap = sg_snap_new(j->st)) == NULL
            || sg_snap_begin(snap) != SG_OK
            || sg_supp_each_raw(snap, j->region, on_stored, &w) != SG_OK) {
            job_fail(j, SG_ERR_STATE, NULL, "%s: cannot read the stored "
                     "suppression list: %s", j->region,
                     snap != NULL ? sg_snap_error(snap) : "out of memory");
            sg_snap_free(snap);
            goto done;
        }
        sg_snap_free(snap);
    }
    if (fflush(sfp) != 0 || ferror(sfp)) {
        job_fail(j, SG_ERR_IO, NULL, "%s: %s", j->supptmp, strerror(errno));
        goto done;
    }
done:
    if (fp != NULL)
        fclose(fp);
    if (sfp != NULL)
        fclose(sfp);
    sg_sesapi_stats(api, &j->stats);
    sg_sesapi_free(api);
    json_decref(account);
    json_decref(idents);
    json_decref(csets);
    json_decref(rules);
    set_free(&seen);
    set_free(&skip);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->seconds = (double)(t1.tv_sec - t0.tv_sec)
        + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    pthread_mutex_lock(&j->lock);
    j->finished = 1;
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Reading the current state                                           */
/* ------------------------------------------------------------------ */

/* meta_json - a JSON meta value of the store, or NULL */
static json_t *
meta_json(SG_SNAP *snap, const char *key)
{
    MDB_val k, v;

    k.mv_data = (void *)key;
    k.mv_size = strlen(key);
    if (mdb_get(snap->txn, snap->st->meta, &k, &v) != 0)
        return NULL;
    return json_loadb(v.mv_data, v.mv_size, 0, NULL);
}

/* What write_prefix_values hands each entry. */
struct prefix_out {
    FILE *fp;
    int ident;                  /* identity values, else set names */
    int first;
};

/* prefix_value - one identity's JSON or one set name; -1 on a malformed
 *   identity */
static int
prefix_value(const char *name, size_t namelen, const MDB_val *v, void *arg)
{
    struct prefix_out *o = arg;
    const unsigned char *p;
    size_t n;

    fputs(o->first ? "\n" : ",\n", o->fp);
    o->first = 0;
    if (!o->ident) {
        sg_state_write_string(o->fp, name, namelen);
        return 0;
    }
    /* [type][verified][sending][n][status][JSON] (state_int.h) */
    p = v->mv_data;
    if (v->mv_size < 4 || v->mv_size < 4 + (size_t)p[3])
        return -1;
    n = 4 + (size_t)p[3];
    fwrite(p + n, 1, v->mv_size - n, o->fp);
    return 0;
}

/* write_prefix_values - identities or configuration sets of a region */
static int
write_prefix_values(SG_SNAP *snap, MDB_dbi dbi, const char *region,
                    int ident, FILE *fp)
{
    struct prefix_out o = { fp, ident, 1 };
    SG_STATUS st;

    putc('[', fp);
    st = sg_snap_prefix_each(snap, dbi, region, prefix_value, &o);
    putc(']', fp);
    return st == SG_OK || st == SG_ERR_NOTFOUND ? 0 : -1;
}

/* write_kept_region - a region not synced now, as stored; its list
 * to sfp, one entry a line */
static int
write_kept_region(SG_SNAP *snap, const char *region, FILE *fp, FILE *sfp)
{
    char key[64];
    struct suppw w;
    struct strset none = { NULL, 0, 0 };
    struct job dummy;
    json_t *rj, *v;
    const char *k;

    snprintf(key, sizeof(key), "%s%s", SG_META_REGIONJSON, region);
    rj = meta_json(snap, key);
    sg_state_write_string(fp, region, strlen(region));
    fputs(": {", fp);
    if (json_is_object(rj)) {
        json_object_foreach(rj, k, v) {
            sg_state_write_string(fp, k, strlen(k));
            putc(':', fp);
            json_dumpf(v, fp, JSON_COMPACT | JSON_ENCODE_ANY);
            fputs(",\n", fp);
        }
    }
    json_decref(rj);
    fputs("\"identities\": ", fp);
    if (write_prefix_values(snap, snap->st->ident, region, 1, fp) != 0)
        return -1;
    fputs(",\n\"configuration_sets\": ", fp);
    if (write_prefix_values(snap, snap->st->cset, region, 0, fp) != 0)
        return -1;
    fputs(",\n\"suppressed\": []}", fp);
    memset(&dummy, 0, sizeof(dummy));
    w.job = &dummy;
    w.fp = sfp;
    w.seen = &none;
    w.skip = NULL;
    if (sg_supp_each_raw(snap, region, on_stored, &w) != SG_OK)
        return -1;
    return fflush(sfp) != 0 || ferror(sfp) ? -1 : 0;
}

/* copy_file - append a file's contents */
static int
copy_file(const char *path, FILE *out)
{
    char buf[65536];
    size_t n;
    FILE *in;

    if ((in = fopen(path, "r")) == NULL)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    n = (size_t)ferror(in);
    fclose(in);
    return n != 0 || ferror(out) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Pending removals (shared with suppress remove)                      */
/* ------------------------------------------------------------------ */

/* pending_path - STATE_DIR/sync-pending.json */
static void
pending_path(const struct ctl_ctx *ctx, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", ctx->conf->state_dir, PENDING_FILE);
}

/* pending_load - {"REGION": ["addr", ...]} or an empty object */
static json_t *
pending_load(const struct ctl_ctx *ctx)
{
    char path[4096];
    json_t *p;

    pending_path(ctx, path, sizeof(path));
    p = json_load_file(path, 0, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        p = json_object();
    }
    return p;
}

/* pending_save - write atomically (temp file + rename), mode 0600 */
static int
pending_save(const struct ctl_ctx *ctx, json_t *p)
{
    char path[4096], tmp[4200];
    const char *k;
    json_t *v;
    void *it;
    int fd, rc;

    /* Drop empty regions. */
    for (it = json_object_iter(p); it != NULL;) {
        k = json_object_iter_key(it);
        v = json_object_iter_value(it);
        it = json_object_iter_next(p, it);
        if (json_array_size(v) == 0)
            json_object_del(p, k);
    }
    pending_path(ctx, path, sizeof(path));
    if (json_object_size(p) == 0)
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
        < 0)
        return -1;
    rc = json_dumpfd(p, fd, JSON_INDENT(2));
    if (fsync(fd) != 0)
        rc = -1;
    close(fd);
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    unlink(tmp);
    return -1;
}

/* split_regions - the configuration's "regions" list */
static size_t
split_regions(const char *list, char (*out)[SG_REGION_MAX + 1], size_t max,
              const char **bad)
{
    const struct sg_region *r;
    char word[128];
    const char *p = list, *e;
    size_t n = 0, i, len;

    *bad = NULL;
    while (p != NULL && *p != '\0') {
        p += strspn(p, ", \t");
        e = p + strcspn(p, ", \t");
        len = (size_t)(e - p);
        if (len == 0)
            break;
        if (len >= sizeof(word))
            len = sizeof(word) - 1;
        memcpy(word, p, len);
        word[len] = '\0';
        p = e;
        if ((r = sg_region_lookup(word)) == NULL) {
            *bad = list;
            return 0;
        }
        for (i = 0; i < n; i++)
            if (strcmp(out[i], r->name) == 0)
                break;
        if (i == n && n < max)
            snprintf(out[n++], SG_REGION_MAX + 1, "%s", r->name);
    }
    return n;
}

/* load_cred - credentials, or an exit status after the message */
static int
load_cred(struct ctl_ctx *ctx, const char *cmd, struct sg_awscred *cred,
          int quiet_missing)
{
    char err[1024];
    SG_STATUS s;

    err[0] = '\0';
    s = sg_awscred_load(ctx->conf->aws_credentials_file,
                        ctx->conf->aws_profile, cred, err, sizeof(err));
    if (s == SG_OK)
        return 0;
    if (s == SG_ERR_NOTFOUND && quiet_missing)
        return -1;
    ctl_error("%s: no usable AWS credentials: %s", cmd, err);
    return SG_EXIT_CONFIG;
}

/* api_exit - exit status for an API failure */
static int
api_exit(SG_STATUS s, const char *code)
{
    if (s == SG_ERR_PROTO && code != NULL
        && (strstr(code, "Unrecognized") != NULL
            || strstr(code, "Signature") != NULL
            || strstr(code, "AccessDenied") != NULL
            || strstr(code, "Authentication") != NULL
            || strstr(code, "Token") != NULL))
        return SG_EXIT_NOPERM;
    if (s == SG_ERR_PROTO || s == SG_ERR_TOOBIG)
        return 76;              /* EX_PROTOCOL */
    if (s == SG_ERR_IO || s == SG_ERR_NOTFOUND)
        return SG_EXIT_TEMPFAIL;
    return ctl_status_exit(s);
}

/* api_handle - a handle for a region, for the suppress calls */
static SG_SESAPI *
api_handle(struct ctl_ctx *ctx, const char *region,
           const struct sg_awscred *cred, char *err, size_t errlen)
{
    struct sg_sesapi_opts o;

    memset(&o, 0, sizeof(o));
    o.endpoint = ctx->conf->api_endpoint;
    o.region = region;
    o.cred = cred;
    o.rate = (int)ctx->conf->api_rate;
    o.timeout = (int)ctx->conf->api_timeout;
    o.retries = (int)ctx->conf->api_retries;
    o.ca_file = ctx->conf->api_ca_file;
    o.ca_path = ctx->conf->api_ca_path;
    return sg_sesapi_new(&o, err, errlen);
}

/* ctl_sync_remote_remove - DeleteSuppressedDestination in every region */
int
ctl_sync_remote_remove(struct ctl_ctx *ctx, const char *region,
                       const char *const *addrs, size_t n)
{
    char regions[SYNC_REGIONS_MAX][SG_REGION_MAX + 1];
    struct sg_awscred cred;
    char err[512];
    const char *bad;
    json_t *pending = NULL, *list;
    SG_SESAPI *api;
    SG_STATUS s;
    size_t nr, i, a;
    int listed, status = 0, rc;

    if (region != NULL) {
        snprintf(regions[0], sizeof(regions[0]), "%s",
                 sg_region_lookup(region)->name);
        nr = 1;
    } else {
        nr = split_regions(ctx->conf->regions, regions, SYNC_REGIONS_MAX,
                           &bad);
    }
    if (nr == 0)
        return 0;               /* sync manages no region: local only */
    if ((rc = load_cred(ctx, "suppress", &cred, 1)) != 0)
        return rc < 0 ? 0 : rc; /* no credentials: local only */
    if (sg_sesapi_global_init() != SG_OK) {
        sg_awscred_clear(&cred);
        return SG_EXIT_SOFTWARE;
    }
    for (i = 0; i < nr; i++) {
        if ((api = api_handle(ctx, regions[i], &cred, err, sizeof(err)))
            == NULL) {
            ctl_error("suppress remove: %s", err);
            status = SG_EXIT_CONFIG;
            break;
        }
        for (a = 0; a < n; a++) {
            s = sg_sesapi_delete_suppressed(api, addrs[a], &listed);
            if (s == SG_OK) {
                printf("removed %s from the %s list at SES%s\n", addrs[a],
                       regions[i], listed ? "" : " (was not listed)");
                continue;
            }
            ctl_error("suppress remove: %s; will be retried by the next "
                      "sync", sg_sesapi_error(api));
            if (pending == NULL)
                pending = pending_load(ctx);
            if (pending != NULL) {
                if ((list = json_object_get(pending, regions[i])) == NULL) {
                    list = json_array();
                    json_object_set_new(pending, regions[i], list);
                }
                json_array_append_new(list, json_string(addrs[a]));
            }
            if (status == 0)
                status = api_exit(s, sg_sesapi_error_code(api));
        }
        sg_sesapi_free(api);
    }
    if (pending != NULL && pending_save(ctx, pending) != 0) {
        ctl_error("suppress remove: cannot write %s/%s: %s",
                  ctx->conf->state_dir, PENDING_FILE, strerror(errno));
        status = CTL_EXIT_IOERR;
    }
    json_decref(pending);
    sg_awscred_clear(&cred);
    return status;
}

/* ctl_sync_remote_add - PutSuppressedDestination in one region */
int
ctl_sync_remote_add(struct ctl_ctx *ctx, const char *region,
                    const char *const *addrs, size_t n, const char *reason)
{
    struct sg_awscred cred;
    char err[512];
    SG_SESAPI *api;
    SG_STATUS s;
    size_t a;
    int status = 0, rc;

    if ((rc = load_cred(ctx, "suppress", &cred, 1)) != 0)
        return rc < 0 ? 0 : rc;
    if (sg_sesapi_global_init() != SG_OK
        || (api = api_handle(ctx, sg_region_lookup(region)->name, &cred,
                             err, sizeof(err))) == NULL) {
        sg_awscred_clear(&cred);
        ctl_error("suppress add: cannot reach the SES API");
        return SG_EXIT_CONFIG;
    }
    for (a = 0; a < n; a++) {
        s = sg_sesapi_put_suppressed(api, addrs[a], reason);
        if (s == SG_OK) {
            printf("added %s to the %s list at SES\n", addrs[a], region);
            continue;
        }
        ctl_error("suppress add: %s%s", sg_sesapi_error(api),
                  s == SG_ERR_PROTO ? " (SES refuses "
                  "PutSuppressedDestination while the account is in the "
                  "sandbox in that region; the local list has the address)"
                  : "");
        if (status == 0)
            status = api_exit(s, sg_sesapi_error_code(api));
    }
    sg_sesapi_free(api);
    sg_awscred_clear(&cred);
    return status;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

/* clean_stale - remove temp files of syncs that died */
static void
clean_stale(const char *dir)
{
    char path[4096];
    struct dirent *e;
    long pid;
    DIR *d;

    if ((d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (sscanf(e->d_name, ".sync-%ld-", &pid) != 1)
            continue;
        if (pid == (long)getpid()
            || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

/* progress - one status line on a terminal */
static void
progress(struct job *jobs, size_t n, int final)
{
    char line[1024];
    size_t i, o = 0;

    for (i = 0; i < n && o < sizeof(line) - 1; i++) {
        struct job *j = &jobs[i];

        pthread_mutex_lock(&j->lock);
        if (j->finished)
            o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s: %s",
                                  i ? " | " : "", j->region,
                                  j->status == SG_OK ? "done" : "FAILED");
        else if (j->total > 0)
            o += (size_t)snprintf(line + o, sizeof(line) - o,
                                  "%s%s: %s %lld/%lld", i ? " | " : "",
                                  j->region, j->phase, j->done, j->total);
        else
            o += (size_t)snprintf(line + o, sizeof(line) - o,
                                  "%s%s: %s %lld, %lld addresses",
                                  i ? " | " : "", j->region, j->phase,
                                  j->done, j->fetched);
        pthread_mutex_unlock(&j->lock);
    }
    if (o >= sizeof(line))
        o = sizeof(line) - 1;
    line[o] = '\0';
    if (o > 150)
        line[150] = '\0';
    fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
    fflush(stderr);
}

/* sync_info - a region's bookkeeping from the stored top fields */
static void
sync_info(json_t *top, const char *region, long long *synced,
          long long *full)
{
    json_t *r = json_object_get(json_object_get(top, SYNC_TOP_KEY), region);

    *synced = json_integer_value(json_object_get(r, "synced_at"));
    *full = json_integer_value(json_object_get(r, "full_at"));
}

/* ctl_cmd_sync - sesgatectl sync */
int
ctl_cmd_sync(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "region", required_argument, NULL, 'r' },
        { "full", no_argument, NULL, 'F' },
        { "dry-run", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 }
    };
    char regions[SYNC_REGIONS_MAX][SG_REGION_MAX + 1];
    char stored[SYNC_REGIONS_MAX][SG_REGION_MAX + 1];
    char (*kept)[4096] = NULL;          /* line files of kept regions */
    struct sg_state_supp_file lines[2 * SYNC_REGIONS_MAX];
    size_t nlines = 0, nkept = 0;
    FILE *kfp;
    char path[4200], lockpath[4200], err[1024];
    struct sg_awscred cred;
    struct job *jobs = NULL;
    pthread_t tid[SYNC_REGIONS_MAX];
    const char *bad = NULL, *k;
    json_t *top = NULL, *pending = NULL, *syncobj, *summary = NULL, *v;
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    FILE *fp = NULL;
    size_t nr = 0, ns = 0, i, q;
    long long now = (long long)time(NULL), synced, full;
    int full_all = 0, dry = 0, json_out = 0, tty, ch, status = 0;
    int lockfd = -1, fd, failed = 0;
    SG_STATUS s;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            sync_usage(stdout);
            return SG_EXIT_OK;
        case 'r':
            if (sg_region_lookup(optarg) == NULL)
                return ctl_usage_error("sync", "unknown SES region '%s'",
                                       optarg);
            for (i = 0; i < nr; i++)
                if (strcmp(regions[i], sg_region_lookup(optarg)->name) == 0)
                    break;
            if (i == nr && nr < SYNC_REGIONS_MAX)
                snprintf(regions[nr++], sizeof(regions[0]), "%s",
                         sg_region_lookup(optarg)->name);
            break;
        case 'F':
            full_all = 1;
            break;
        case 'n':
            dry = 1;
            break;
        case 'j':
            json_out = 1;
            break;
        default:
            return ctl_option_error("sync", ch, argv);
        }
    }
    if (optind < argc)
        return ctl_usage_error("sync", "unexpected argument '%s'",
                               argv[optind]);
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if (nr == 0) {
        nr = split_regions(ctx->conf->regions, regions, SYNC_REGIONS_MAX,
                           &bad);
        if (bad != NULL) {
            ctl_error("%s: regions: unknown SES region in '%s'",
                      ctx->conf_path, bad);
            return SG_EXIT_CONFIG;
        }
        if (nr == 0) {
            ctl_error("sync: no regions: set \"regions\" in %s or give "
                      "--region", ctx->conf_path);
            return SG_EXIT_CONFIG;
        }
    }
    if ((status = load_cred(ctx, "sync", &cred, 0)) != 0)
        return status;
    if ((status = ctl_open_state(ctx, SG_STATE_CREATE, &st)) != 0)
        goto out;

    /* One sync at a time. */
    snprintf(lockpath, sizeof(lockpath), "%s/sync.lock",
             ctx->conf->state_dir);
    if ((lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0
        || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
        ctl_error("sync: %s: %s", lockpath, errno == EWOULDBLOCK
                  ? "another sync is running" : strerror(errno));
        status = SG_EXIT_TEMPFAIL;
        goto out;
    }
    clean_stale(ctx->conf->state_dir);

    /* What the state holds now. */
    if ((snap = sg_snap_new(st)) == NULL) {
        status = SG_EXIT_SOFTWARE;
        goto out;
    }
    if (sg_snap_begin(snap) == SG_OK) {
        ns = sg_snap_regions(snap, stored, SYNC_REGIONS_MAX);
        if (ns > SYNC_REGIONS_MAX)
            ns = SYNC_REGIONS_MAX;
        top = meta_json(snap, SG_META_TOP);
        sg_snap_end(snap);
    }
    if (!json_is_object(top)) {
        json_decref(top);
        top = json_object();
    }
    pending = pending_load(ctx);

    if (sg_sesapi_global_init() != SG_OK
        || (jobs = calloc(nr, sizeof(*jobs))) == NULL) {
        ctl_error("out of memory");
        status = SG_EXIT_SOFTWARE;
        goto out;
    }
    for (i = 0; i < nr; i++) {
        struct job *j = &jobs[i];

        pthread_mutex_init(&j->lock, NULL);
        snprintf(j->region, sizeof(j->region), "%s", regions[i]);
        j->st = st;
        j->conf = ctx->conf;
        j->cred = &cred;
        for (q = 0; q < ns; q++)
            if (strcmp(stored[q], regions[i]) == 0)
                j->in_state = 1;
        sync_info(top, regions[i], &synced, &full);
        j->full = full_all || !j->in_state || synced <= 0
            || ctx->conf->sync_full_interval == 0
            || now - full >= ctx->conf->sync_full_interval;
        j->since = synced - SYNC_OVERLAP;
        j->pending = json_object_get(pending, regions[i]);
        j->still_pending = json_array();
        snprintf(j->tmp, sizeof(j->tmp), "%s/.sync-%ld-%s-XXXXXX",
                 ctx->conf->state_dir, (long)getpid(), regions[i]);
        snprintf(j->supptmp, sizeof(j->supptmp),
                 "%s/.sync-%ld-%s-supp-XXXXXX", ctx->conf->state_dir,
                 (long)getpid(), regions[i]);
    }
    for (i = 0; i < nr; i++) {
        if (pthread_create(&tid[i], NULL, region_main, &jobs[i]) != 0) {
            ctl_error("cannot start a thread");
            status = SG_EXIT_SOFTWARE;
            nr = i;
            break;
        }
    }
    tty = !json_out && isatty(STDERR_FILENO);
    for (;;) {
        int left = 0;

        for (i = 0; i < nr; i++) {
            pthread_mutex_lock(&jobs[i].lock);
            left += !jobs[i].finished;
            pthread_mutex_unlock(&jobs[i].lock);
        }
        if (tty)
            progress(jobs, nr, left == 0);
        if (left == 0)
            break;
        usleep(200000);
    }
    for (i = 0; i < nr; i++)
        pthread_join(tid[i], NULL);
    if (status != 0)
        goto out;

    /* Pending removals SES still did not take. */
    for (i = 0; i < nr; i++)
        if (json_object_get(pending, jobs[i].region) != NULL)
            json_object_set(pending, jobs[i].region, jobs[i].still_pending);

    for (i = 0; i < nr; i++) {
        if (jobs[i].status != SG_OK) {
            failed++;
            if (!json_out)
                ctl_error("sync: %s", jobs[i].err);
            if (status == 0)
                status = api_exit(jobs[i].status, jobs[i].code);
        }
    }
    if (failed && !dry) {
        /* sesgate_sync_errors_total{region} for the metrics listener
         * and status --json (issue 8); counting needs no lock. */
        char merr[256];
        SG_METRICS *m = sg_metrics_open(ctx->conf->state_dir, 0, merr,
                                        sizeof(merr));

        for (i = 0; i < nr; i++)
            if (jobs[i].status != SG_OK)
                sg_metrics_sync_error(m, jobs[i].region);
        sg_metrics_close(m);
    }
    if (failed)
        goto summary;

    /* The snapshot: synced fragments, kept regions, top-level fields. */
    snprintf(path, sizeof(path), "%s/.sync-%ld-snapshot-XXXXXX",
             ctx->conf->state_dir, (long)getpid());
    if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
        ctl_error("sync: %s: %s", path, strerror(errno));
        status = CTL_EXIT_IOERR;
        goto summary;
    }
    fputs("{\"sesgate_state\": 1,\n\"regions\": {\n", fp);
    for (i = 0; i < nr; i++) {
        if (i > 0)
            fputs(",\n", fp);
        if (copy_file(jobs[i].tmp, fp) != 0) {
            ctl_error("sync: %s: %s", jobs[i].tmp, strerror(errno));
            status = CTL_EXIT_IOERR;
            goto summary;
        }
        lines[nlines].region = jobs[i].region;
        lines[nlines++].path = jobs[i].supptmp;
    }
    if (ns > 0 && (kept = calloc(ns, sizeof(*kept))) == NULL) {
        ctl_error("out of memory");
        status = SG_EXIT_SOFTWARE;
        goto summary;
    }
    if (sg_snap_begin(snap) != SG_OK) {
        ctl_error("sync: %s", sg_snap_error(snap));
        status = SG_EXIT_CONFIG;
        goto summary;
    }
    for (q = 0; q < ns; q++) {
        for (i = 0; i < nr; i++)
            if (strcmp(stored[q], regions[i]) == 0)
                break;
        if (i < nr)
            continue;
        fputs(nr > 0 || q > 0 ? ",\n" : "", fp);
        snprintf(kept[nkept], sizeof(kept[0]),
                 "%s/.sync-%ld-%s-kept-XXXXXX", ctx->conf->state_dir,
                 (long)getpid(), stored[q]);
        if ((fd = mkstemp(kept[nkept])) < 0
            || (kfp = fdopen(fd, "w")) == NULL) {
            ctl_error("sync: %s: %s", kept[nkept], strerror(errno));
            status = CTL_EXIT_IOERR;
            sg_snap_end(snap);
            goto summary;
        }
        lines[nlines].region = stored[q];
        lines[nlines++].path = kept[nkept++];
        fd = write_kept_region(snap, stored[q], fp, kfp);
        if (fclose(kfp) != 0)
            fd = -1;
        if (fd != 0) {
            ctl_error("sync: cannot read region %s from the state",
                      stored[q]);
            status = SG_EXIT_CONFIG;
            sg_snap_end(snap);
            goto summary;
        }
    }
    sg_snap_end(snap);
    fputs("\n}", fp);
    if ((syncobj = json_object_get(top, SYNC_TOP_KEY)) == NULL
        || !json_is_object(syncobj)) {
        syncobj = json_object();
        json_object_set_new(top, SYNC_TOP_KEY, syncobj);
    }
    for (i = 0; i < nr; i++) {
        sync_info(top, jobs[i].region, &synced, &full);
        json_object_set_new(syncobj, jobs[i].region,
                            json_pack("{s:I, s:I}", "synced_at",
                                      (json_int_t)now, "full_at",
                                      (json_int_t)(jobs[i].full ? now
                                                   : full)));
    }
    json_object_foreach(top, k, v) {
        fputs(",\n", fp);
        sg_state_write_string(fp, k, strlen(k));
        fputs(": ", fp);
        json_dumpf(v, fp, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    fputs("\n}\n", fp);
    if (fflush(fp) != 0 || ferror(fp)) {
        ctl_error("sync: %s: %s", path, strerror(errno));
        status = CTL_EXIT_IOERR;
        goto summary;
    }
    fclose(fp);
    fp = NULL;
    if (!dry) {
        err[0] = '\0';
        s = sg_state_import_file_supp(st, path, lines, nlines, err,
                                      sizeof(err));
        if (s != SG_OK) {
            ctl_error("sync: the SES data was refused, the state is "
                      "unchanged: %s", err);
            status = ctl_status_exit(s);
            goto summary;
        }
        if (pending_save(ctx, pending) != 0)
            ctl_error("sync: cannot write %s/%s: %s", ctx->conf->state_dir,
                      PENDING_FILE, strerror(errno));
    }
    /* A dry run stops here: everything was fetched and written to the
     * temp snapshot, which is removed unread (parsing a million-entry
     * list into memory just to check it would defeat the streaming). */

summary:
    if (fp != NULL) {
        fclose(fp);
        fp = NULL;
    }
    if (path[0] != '\0' && strstr(path, "snapshot") != NULL)
        unlink(path);
    summary = json_pack("{s:b, s:b, s:{}}", "ok", status == 0, "dry_run",
                        dry, "regions");
    for (i = 0; i < nr; i++) {
        struct job *j = &jobs[i];
        json_t *r;

        r = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                      "s:f}", "suppression_list", j->full ? "full"
                      : "incremental", "identities",
                      (json_int_t)j->identities, "configuration_sets",
                      (json_int_t)j->csets, "suppressed",
                      (json_int_t)j->suppressed, "suppressed_fetched",
                      (json_int_t)j->fetched, "requests",
                      (json_int_t)j->stats.requests, "retries",
                      (json_int_t)j->stats.retries, "throttled",
                      (json_int_t)j->stats.throttled, "pending_removals",
                      (json_int_t)json_array_size(j->still_pending),
                      "seconds", j->seconds);
        if (r != NULL && j->status != SG_OK) {
            json_object_set_new(r, "error", json_string(j->err));
            json_object_set_new(r, "code", json_string(j->code));
        }
        json_object_set_new(json_object_get(summary, "regions"), j->region,
                            r);
    }
    if (json_out) {
        json_dumpf(summary, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        for (i = 0; i < nr; i++) {
            struct job *j = &jobs[i];

            if (j->status != SG_OK)
                continue;
            printf("%s: %s%lld identities, %lld configuration sets, %lld "
                   "suppressed (%s, %lld fetched), %lld requests, %lld "
                   "retries, %.1f s\n", j->region, dry ? "(dry run) " : "",
                   j->identities, j->csets, j->suppressed,
                   j->full ? "full" : "incremental", j->fetched,
                   j->stats.requests, j->stats.retries, j->seconds);
        }
    }
    json_decref(summary);
out:
    if (jobs != NULL) {
        for (i = 0; i < nr; i++) {
            if (strstr(jobs[i].tmp, "XXXXXX") == NULL)
                unlink(jobs[i].tmp);
            if (strstr(jobs[i].supptmp, "XXXXXX") == NULL)
                unlink(jobs[i].supptmp);
            json_decref(jobs[i].still_pending);
            pthread_mutex_destroy(&jobs[i].lock);
        }
        free(jobs);
    }
    for (i = 0; i < nkept; i++)
        if (strstr(kept[i], "XXXXXX") == NULL)
            unlink(kept[i]);
    free(kept);
    json_decref(top);
    json_decref(pending);
    sg_snap_free(snap);
    sg_state_close(st);
    if (lockfd >= 0)
        close(lockfd);
    sg_awscred_clear(&cred);
    return status;
}
