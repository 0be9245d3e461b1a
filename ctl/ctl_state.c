/*
 * ctl_state.c - sesgatectl import, export, status and quota
 *
 * import replaces the whole state in one transaction (the library's
 * sg_state_import_*): a bad snapshot leaves the old state in place.
 * export writes the state back in the snapshot format. status shows
 * each region's account, quota and list sizes, for people (a quota bar
 * on a terminal) or for programs (--json); the quota figures come from
 * the quota engine (sent in the last 24 hours reconciled with the
 * snapshot's SentLast24Hours, the current rate, what is reserved) when
 * it can be opened, else from the snapshot alone. quota reset clears a
 * region's counters (logged).
 */

/* System headers. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "quota.h"
#include "metrics.h"
#include "ctl.h"

/* Regions the state can hold: the R1 table has 29; leave room. */
#define CTL_REGIONS_MAX     64

/* Width of the quota bar on a terminal. */
#define CTL_BAR_WIDTH       20

/* Read chunk and bound for a snapshot on standard input. */
#define CTL_STDIN_CHUNK     (64 * 1024)

/* import_usage - help text of import */
static void
import_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] import SNAPSHOT.json\n"
            "\n"
            "Replace the whole state with a JSON snapshot (\"-\" reads\n"
            "standard input), atomically: readers see the old state or\n"
            "the new one. A bad snapshot leaves the old state in place.\n",
            CTL_PROG);
}

/* export_usage - help text of export */
static void
export_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] export [-o FILE]\n"
            "\n"
            "Write the state as a JSON snapshot to standard output or,\n"
            "with -o, to FILE (replaced atomically).\n",
            CTL_PROG);
}

/* status_usage - help text of status */
static void
status_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] status [--json] [--region R]\n"
            "\n"
            "Show, per region: sandbox or production, sending enabled or\n"
            "paused, quota used in the last 24 hours, maximum send rate,\n"
            "numbers of identities, suppressed addresses and\n"
            "configuration sets, and the age of the state.\n"
            "\n"
            "  --json       one JSON object instead of text\n"
            "  --region R   only region R\n",
            CTL_PROG);
}

/* read_stdin - all of standard input into a new buffer, bounded */
static SG_STATUS
read_stdin(char **bufp, size_t *lenp)
{
    char *buf = NULL;
    char *nbuf;
    size_t len = 0;
    size_t cap = 0;
    size_t n;

    for (;;) {
        if (cap - len < CTL_STDIN_CHUNK) {
            if (cap > SG_STATE_JSON_MAX) {
                free(buf);
                return SG_ERR_TOOBIG;
            }
            cap = cap == 0 ? CTL_STDIN_CHUNK * 4 : cap * 2;
            if ((nbuf = realloc(buf, cap)) == NULL) {
                free(buf);
                return SG_ERR_NOMEM;
            }
            buf = nbuf;
        }
        n = fread(buf + len, 1, cap - len, stdin);
        len += n;
        if (n == 0) {
            if (ferror(stdin)) {
                free(buf);
                return SG_ERR_IO;
            }
            break;
        }
        if (len > SG_STATE_JSON_MAX) {
            free(buf);
            return SG_ERR_TOOBIG;
        }
    }
    *bufp = buf;
    *lenp = len;
    return SG_OK;
}

/* print_summary - "imported N regions: R (sandbox, ...), ..." */
static void
print_summary(SG_STATE *st)
{
    char regions[CTL_REGIONS_MAX][SG_REGION_MAX + 1];
    struct sg_account acct;
    SG_SNAP *snap;
    size_t n;
    size_t i;

    if ((snap = sg_snap_new(st)) == NULL || sg_snap_begin(snap) != SG_OK) {
        printf("imported\n");
        sg_snap_free(snap);
        return;
    }
    n = sg_snap_regions(snap, regions, CTL_REGIONS_MAX);
    printf("imported %zu region%s", n, n == 1 ? "" : "s");
    if (n > CTL_REGIONS_MAX)
        n = CTL_REGIONS_MAX;
    for (i = 0; i < n; i++) {
        printf("%s %s", i == 0 ? ":" : ",", regions[i]);
        if (sg_snap_account(snap, regions[i], &acct) != SG_OK)
            continue;
        printf(" (%s%s, %lld identit%s, %lld suppressed)",
               acct.production ? "production" : "sandbox",
               acct.sending_enabled ? "" : ", sending PAUSED",
               acct.identities, acct.identities == 1 ? "y" : "ies",
               acct.suppressed);
    }
    printf("\n");
    sg_snap_end(snap);
    sg_snap_free(snap);
}

/* ctl_cmd_import - replace the state with a snapshot */
int
ctl_cmd_import(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    char err[1024];
    SG_STATE *st;
    SG_STATUS s;
    const char *path;
    int status;
    int ch;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            import_usage(stdout);
            return SG_EXIT_OK;
        default:
            return ctl_option_error("import", ch, argv);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("import", "expected one SNAPSHOT.json");
    path = argv[optind];
    if (path[0] == '\0')
        return ctl_usage_error("import", "empty file name");

    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if ((status = ctl_open_state(ctx, SG_STATE_CREATE, &st)) != 0)
        return status;

    err[0] = '\0';
    if (strcmp(path, "-") == 0) {
        char *buf = NULL;
        size_t len = 0;

        if ((s = read_stdin(&buf, &len)) != SG_OK)
            snprintf(err, sizeof(err), "stdin: %s", sg_strerror(s));
        else
            s = sg_state_import_buf(st, "stdin", buf, len, err,
                                    sizeof(err));
        free(buf);
    } else {
        s = sg_state_import_file(st, path, err, sizeof(err));
    }
    if (s != SG_OK) {
        if (err[0] == '\0')
            snprintf(err, sizeof(err), "%s: %s", path, sg_strerror(s));
        ctl_error("%s", err);
        sg_state_close(st);
        return ctl_status_exit(s);
    }
    print_summary(st);
    sg_state_close(st);
    return SG_EXIT_OK;
}

/* export_to_file - export into FILE through a temporary and rename */
static int
export_to_file(SG_STATE *st, const char *path)
{
    char err[1024];
    char *tmp;
    size_t len = strlen(path);
    SG_STATUS s;
    FILE *fp;
    int fd;

    if ((tmp = malloc(len + sizeof(".XXXXXX"))) == NULL) {
        ctl_error("out of memory");
        return SG_EXIT_SOFTWARE;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", sizeof(".XXXXXX"));
    if ((fd = mkstemp(tmp)) < 0) {
        ctl_error("%s: %s", tmp, strerror(errno));
        free(tmp);
        return CTL_EXIT_IOERR;
    }
    if ((fp = fdopen(fd, "w")) == NULL) {
        ctl_error("%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return CTL_EXIT_IOERR;
    }
    err[0] = '\0';
    s = sg_state_export(st, fp, err, sizeof(err));
    if (s != SG_OK) {
        ctl_error("%s", err[0] != '\0' ? err : sg_strerror(s));
        fclose(fp);
        unlink(tmp);
        free(tmp);
        return ctl_status_exit(s);
    }
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
        ctl_error("%s: %s", tmp, strerror(errno));
        fclose(fp);
        unlink(tmp);
        free(tmp);
        return CTL_EXIT_IOERR;
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        ctl_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return CTL_EXIT_IOERR;
    }
    free(tmp);
    return SG_EXIT_OK;
}

/* ctl_cmd_export - write the state as a snapshot */
int
ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 }
    };
    const char *out = NULL;
    char err[1024];
    SG_STATE *st;
    SG_STATUS s;
    int status;
    int ch;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            export_usage(stdout);
            return SG_EXIT_OK;
        case 'o':
            out = optarg;
            break;
        default:
            return ctl_option_error("export", ch, argv);
        }
    }
    if (optind != argc)
        return ctl_usage_error("export", "unexpected argument '%s'",
                               argv[optind]);
    if (out != NULL && (out[0] == '\0' || strcmp(out, "-") == 0))
        out = NULL;

    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if ((status = ctl_open_state(ctx, SG_STATE_RDONLY, &st)) != 0)
        return status;
    if (out != NULL) {
        status = export_to_file(st, out);
    } else {
        err[0] = '\0';
        s = sg_state_export(st, stdout, err, sizeof(err));
        if (s != SG_OK) {
            ctl_error("%s", err[0] != '\0' ? err : sg_strerror(s));
            status = ctl_status_exit(s);
        } else {
            status = ctl_finish_stdout(SG_EXIT_OK);
        }
    }
    sg_state_close(st);
    return status;
}

/* format_age_buf - "3h 12m" for a number of seconds */
static const char *
format_age_buf(long long secs, char *buf, size_t size)
{
    if (secs < 0)
        snprintf(buf, size, "in the future (clock skew?)");
    else if (secs < 60)
        snprintf(buf, size, "%llds ago", secs);
    else if (secs < 3600)
        snprintf(buf, size, "%lldm ago", secs / 60);
    else if (secs < 86400)
        snprintf(buf, size, "%lldh %lldm ago", secs / 3600,
                 secs % 3600 / 60);
    else
        snprintf(buf, size, "%lldd %lldh ago", secs / 86400,
                 secs % 86400 / 3600);
    return buf;
}

/* format_num_buf - a quota figure: integral values without decimals */
static const char *
format_num_buf(double v, char *buf, size_t size)
{
    if (v < 0)
        snprintf(buf, size, "unlimited");
    else if (v == (double)(long long)v && v < 1e15)
        snprintf(buf, size, "%lld", (long long)v);
    else
        snprintf(buf, size, "%.2f", v);
    return buf;
}

/* format_bar_buf - "[#####.....] " for a used/max ratio */
static const char *
format_bar_buf(double used, double max, char *buf, size_t size)
{
    size_t fill;
    size_t i;

    if (size < CTL_BAR_WIDTH + 4 || max <= 0) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    if (used <= 0)
        fill = 0;
    else if (used >= max)
        fill = CTL_BAR_WIDTH;
    else
        fill = (size_t)(used / max * CTL_BAR_WIDTH + 0.5);
    buf[0] = '[';
    for (i = 0; i < CTL_BAR_WIDTH; i++)
        buf[1 + i] = i < fill ? '#' : '.';
    buf[1 + CTL_BAR_WIDTH] = ']';
    buf[2 + CTL_BAR_WIDTH] = ' ';
    buf[3 + CTL_BAR_WIDTH] = '\0';
    return buf;
}

/* json_number - an integer when the value is integral, else a real */
static json_t *
json_number(double v)
{
    if (v == (double)(long long)v && v < 1e15 && v > -1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* quota_limits_of - the quota engine's limits of a region's account */
static void
quota_limits_of(const struct sg_account *a, long long imported_at,
                struct sg_quota_limits *lim)
{
    lim->max_rate = a->max_rate;
    lim->burst = 0;
    lim->max_24h = a->max_24h;
    lim->sent_24h = a->sent_24h;
    lim->synced_at_ms = imported_at * 1000;
}

/* open_quota - the quota engine, or NULL after a warning */
static SG_QUOTA *
open_quota(struct ctl_ctx *ctx)
{
    char err[512];
    SG_QUOTA *q = sg_quota_open(ctx->conf, err, sizeof(err));

    if (q == NULL)
        ctl_error("warning: cannot open the quota counters (%s): showing "
                  "the snapshot's figures", err);
    return q;
}

/*
 * region_usage - a region's quota usage into *u; 0, or -1 (after a
 *   warning) when there is no engine or it failed
 */
static int
region_usage(SG_QUOTA *q, const char *region, const struct sg_account *a,
             long long imported_at, struct sg_quota_usage *u)
{
    struct sg_quota_limits lim;
    SG_STATUS s;

    if (q == NULL)
        return -1;
    quota_limits_of(a, imported_at, &lim);
    if ((s = sg_quota_usage(q, region, &lim, 0, u)) != SG_OK) {
        ctl_error("warning: region %s: quota: %s", region,
                  sg_quota_error(q));
        return -1;
    }
    return 0;
}

/* region_json - one region's figures as a JSON object; u: NULL when
 *   the quota engine is not available */
static json_t *
region_json(const struct sg_account *a, const struct sg_quota_usage *u)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "production", json_boolean(a->production));
    json_object_set_new(o, "sandbox", json_boolean(!a->production));
    json_object_set_new(o, "sending_enabled",
                        json_boolean(a->sending_enabled));
    json_object_set_new(o, "sent_24h",
                        json_number(u != NULL ? u->sent_24h : a->sent_24h));
    json_object_set_new(o, "sent_24h_synced", json_number(a->sent_24h));
    json_object_set_new(o, "max_24h", json_number(a->max_24h));
    json_object_set_new(o, "unlimited", json_boolean(a->max_24h < 0));
    json_object_set_new(o, "max_rate", json_number(a->max_rate));
    if (u != NULL) {
        json_object_set_new(o, "rate_now", json_number(u->rate_now));
        json_object_set_new(o, "reserved", json_number(u->reserved));
    } else {
        json_object_set_new(o, "rate_now", json_null());
        json_object_set_new(o, "reserved", json_null());
    }
    json_object_set_new(o, "identities", json_integer(a->identities));
    json_object_set_new(o, "suppressed", json_integer(a->suppressed));
    json_object_set_new(o, "configuration_sets",
                        json_integer(a->config_sets));
    return o;
}

/* print_region_text - one region's figures for people; u: NULL when
 *   the quota engine is not available */
static void
print_region_text(const char *name, const struct sg_account *a,
                  const struct sg_quota_usage *u, int tty)
{
    char used[64];
    char max[64];
    char rate[64];
    char now[64];
    char held[64];
    char bar[CTL_BAR_WIDTH + 8];
    double sent = u != NULL ? u->sent_24h : a->sent_24h;

    format_num_buf(sent, used, sizeof(used));
    format_num_buf(a->max_24h, max, sizeof(max));
    format_num_buf(a->max_rate, rate, sizeof(rate));
    if (tty && a->max_24h > 0)
        format_bar_buf(sent, a->max_24h, bar, sizeof(bar));
    else
        bar[0] = '\0';
    printf("%s: %s, sending %s\n", name,
           a->production ? "production" : "sandbox",
           a->sending_enabled ? "enabled" : "PAUSED");
    printf("    quota (24h):        %s%s/%s\n", bar, used, max);
    printf("    max send rate:      %s/s\n", rate);
    if (u != NULL) {
        format_num_buf(u->rate_now, now, sizeof(now));
        format_num_buf(u->reserved, held, sizeof(held));
        printf("    send rate now:      %s/%s per second\n", now, rate);
        printf("    reserved:           %s\n", held);
    }
    printf("    identities:         %lld\n", a->identities);
    printf("    suppressed:         %lld\n", a->suppressed);
    printf("    configuration sets: %lld\n", a->config_sets);
}

/*
 * metrics_json - the daemons' counters (metrics.h) as
 *   {"recipients": [{region, rule, accepted, deferred, refused}...],
 *    "sync_errors": {region: n}}; read-only, never creates the file
 *   (null members when no daemon has counted yet)
 */
static json_t *
metrics_json(const SG_CONF *conf)
{
    static struct sg_metrics_row rows[SG_METRICS_ROWS];
    json_t *o = json_object();
    json_t *list = json_array();
    json_t *sync = json_object();
    SG_METRICS *m;
    char err[512];
    size_t i, n;

    if ((m = sg_metrics_open(conf->state_dir, SG_METRICS_RDONLY, err,
                             sizeof(err))) == NULL) {
        json_decref(list);
        json_decref(sync);
        json_object_set_new(o, "recipients", json_null());
        json_object_set_new(o, "sync_errors", json_null());
        return o;
    }
    n = sg_metrics_rows(m, rows, SG_METRICS_ROWS);
    sg_metrics_close(m);
    for (i = 0; i < n; i++) {
        json_t *r;

        if (strcmp(rows[i].rule, "sync") == 0) {
            json_object_set_new(sync, rows[i].region[0] ? rows[i].region
                                : "none", json_integer((json_int_t)
                                rows[i].n[SG_METRICS_SYNC_ERRORS]));
            continue;
        }
        r = json_object();
        json_object_set_new(r, "region", json_string(rows[i].region));
        json_object_set_new(r, "rule", json_string(rows[i].rule));
        json_object_set_new(r, "accepted", json_integer((json_int_t)
                            rows[i].n[SG_METRICS_ACCEPTED]));
        json_object_set_new(r, "deferred", json_integer((json_int_t)
                            rows[i].n[SG_METRICS_DEFERRED]));
        json_object_set_new(r, "refused", json_integer((json_int_t)
                            rows[i].n[SG_METRICS_REFUSED]));
        json_array_append_new(list, r);
    }
    json_object_set_new(o, "recipients", list);
    json_object_set_new(o, "sync_errors", sync);
    return o;
}

/* status_json - the whole status as one JSON object on stdout */
static int
status_json(struct ctl_ctx *ctx, SG_SNAP *snap, SG_QUOTA *q,
            char (*regions)[SG_REGION_MAX + 1], size_t n, long long now)
{
    struct sg_account acct;
    struct sg_quota_usage u;
    json_t *root;
    json_t *regs;
    json_t *r;
    char iso[32];
    long long at = sg_snap_imported_at(snap);
    SG_STATUS s;
    size_t i;

    root = json_object();
    regs = json_object();
    if (root == NULL || regs == NULL) {
        json_decref(root);
        json_decref(regs);
        ctl_error("out of memory");
        return SG_EXIT_SOFTWARE;
    }
    json_object_set_new(root, "state_dir",
                        json_string(ctx->conf->state_dir));
    if (at > 0) {
        json_object_set_new(root, "imported_at",
                            json_string(ctl_iso8601_buf(at, iso,
                                                        sizeof(iso))));
        json_object_set_new(root, "age_seconds", json_integer(now - at));
    } else {
        json_object_set_new(root, "imported_at", json_null());
        json_object_set_new(root, "age_seconds", json_null());
    }
    for (i = 0; i < n; i++) {
        s = sg_snap_account(snap, regions[i], &acct);
        if (s != SG_OK) {
            ctl_error("region %s: %s: %s", regions[i], sg_strerror(s),
                      sg_snap_error(snap));
            json_decref(regs);
            json_decref(root);
            return ctl_status_exit(s == SG_ERR_NOTFOUND ? SG_ERR_STATE : s);
        }
        if ((r = region_json(&acct, region_usage(q, regions[i], &acct,
                                                 at, &u) == 0
                                    ? &u : NULL)) != NULL)
            json_object_set_new(regs, regions[i], r);
    }
    json_object_set_new(root, "regions", regs);
    json_object_set_new(root, "metrics", metrics_json(ctx->conf));
    if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
        != 0) {
        json_decref(root);
        return ctl_finish_stdout(CTL_EXIT_IOERR);
    }
    putchar('\n');
    json_decref(root);
    return SG_EXIT_OK;
}

/* ctl_cmd_status - per-region account, quota and list sizes */
int
ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "json", no_argument, NULL, 'j' },
        { "region", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    char regions[CTL_REGIONS_MAX][SG_REGION_MAX + 1];
    struct sg_account acct;
    struct sg_quota_usage u;
    SG_QUOTA *q = NULL;
    const char *only = NULL;
    char age[64];
    char iso[32];
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    SG_STATUS s;
    long long now = (long long)time(NULL);
    long long at;
    size_t n;
    size_t i;
    int json = 0;
    int status;
    int ch;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":hjr:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            status_usage(stdout);
            return SG_EXIT_OK;
        case 'j':
            json = 1;
            break;
        case 'r':
            only = optarg;
            break;
        default:
            return ctl_option_error("status", ch, argv);
        }
    }
    if (optind != argc)
        return ctl_usage_error("status", "unexpected argument '%s'",
                               argv[optind]);
    if (only != NULL && sg_region_lookup(only) == NULL)
        return ctl_usage_error("status", "unknown SES region '%s'", only);

    if ((status = ctl_open_snap(ctx, &st, &snap)) != 0)
        goto out;
    if (only != NULL) {
        s = sg_snap_account(snap, only, &acct);
        if (s == SG_ERR_NOTFOUND) {
            ctl_error("region %s is not in the state in %s", only,
                      ctx->conf->state_dir);
            status = SG_EXIT_CONFIG;
            goto out_end;
        }
        snprintf(regions[0], sizeof(regions[0]), "%s", only);
        n = 1;
    } else {
        n = sg_snap_regions(snap, regions, CTL_REGIONS_MAX);
        if (n > CTL_REGIONS_MAX)
            n = CTL_REGIONS_MAX;
    }

    q = open_quota(ctx);
    at = sg_snap_imported_at(snap);
    if (json) {
        status = status_json(ctx, snap, q, regions, n, now);
        goto out_end;
    }
    if (at > 0)
        printf("state %s: imported %s (%s)\n", ctx->conf->state_dir,
               format_age_buf(now - at, age, sizeof(age)),
               ctl_iso8601_buf(at, iso, sizeof(iso)));
    else
        printf("state %s: import time unknown\n", ctx->conf->state_dir);
    if (n == 0)
        printf("no regions in the state\n");
    for (i = 0; i < n; i++) {
        s = sg_snap_account(snap, regions[i], &acct);
        if (s != SG_OK) {
            ctl_error("region %s: %s: %s", regions[i], sg_strerror(s),
                      sg_snap_error(snap));
            status = ctl_status_exit(s == SG_ERR_NOTFOUND ? SG_ERR_STATE
                                     : s);
            goto out_end;
        }
        print_region_text(regions[i], &acct,
                          region_usage(q, regions[i], &acct, at, &u) == 0
                          ? &u : NULL, isatty(STDOUT_FILENO));
    }
    status = SG_EXIT_OK;
out_end:
    sg_snap_end(snap);
out:
    sg_quota_close(q);
    sg_snap_free(snap);
    sg_state_close(st);
    return status;
}

/* quota_usage_text - help text of quota */
static void
quota_usage_text(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] quota reset --region R\n"
            "\n"
            "Operator actions on the quota counters (quota_backend).\n"
            "  reset --region R   forget region R's counters: what was\n"
            "                     sent in the last 24 hours, the rate\n"
            "                     bucket and every reservation. Logged.\n"
            "                     Afterwards only the snapshot's\n"
            "                     SentLast24Hours counts until the next\n"
            "                     import or sync.\n"
            "\n"
            "Exit status: 0 done, 64 usage, 75 the counters cannot be\n"
            "reached, 78 configuration error.\n",
            CTL_PROG);
}

/* ctl_cmd_quota - "quota reset --region R" */
int
ctl_cmd_quota(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "region", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    const char *region = NULL;
    char err[512];
    SG_QUOTA *q;
    SG_STATUS s;
    int status;
    int ch;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0)) {
        quota_usage_text(stdout);
        return SG_EXIT_OK;
    }
    if (argc < 2)
        return ctl_usage_error("quota", "expected an action: reset");
    if (strcmp(argv[1], "reset") != 0)
        return ctl_usage_error("quota", "unknown action '%s'", argv[1]);
    ctl_reset_getopt();
    while ((ch = getopt_long(argc - 1, argv + 1, ":hr:", longopts, NULL))
           != -1) {
        switch (ch) {
        case 'h':
            quota_usage_text(stdout);
            return SG_EXIT_OK;
        case 'r':
            region = optarg;
            break;
        default:
            return ctl_option_error("quota reset", ch, argv + 1);
        }
    }
    if (optind != argc - 1)
        return ctl_usage_error("quota", "unexpected argument '%s'",
                               argv[optind + 1]);
    if (region == NULL)
        return ctl_usage_error("quota", "reset needs --region R");
    if (sg_region_lookup(region) == NULL)
        return ctl_usage_error("quota", "unknown SES region '%s'", region);

    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if ((q = sg_quota_open(ctx->conf, err, sizeof(err))) == NULL) {
        ctl_error("cannot open the quota counters: %s", err);
        return SG_EXIT_TEMPFAIL;
    }
    if ((s = sg_quota_reset(q, region)) != SG_OK) {
        ctl_error("quota reset for region %s failed: %s", region,
                  sg_quota_error(q));
        sg_quota_close(q);
        return sg_status_is_retryable(s) ? SG_EXIT_TEMPFAIL
               : ctl_status_exit(s);
    }
    sg_quota_close(q);
    sg_log(SG_LOG_WARNING, "quota reset for region %s", region);
    return SG_EXIT_OK;
}
