/*
 * ctl_suppress.c - sesgatectl suppress add/remove/list/import
 *
 * The local copy of the account-level suppression list (R5). Adding is
 * per region; removing applies to every region unless --region limits
 * it, as SES's product rule says. Each call is one write transaction of
 * the library's sg_state_suppress_* API: a reader never sees half of an
 * import.
 */

/* System headers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "addr.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "ctl.h"

/* Regions the state can hold: the R1 table has 29; leave room. */
#define CTL_REGIONS_MAX     64

/* suppress_usage - help text of suppress */
static void
suppress_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] suppress add --region R "
            "[--reason BOUNCE|COMPLAINT] ADDR...\n"
            "       %s [-c CONF] suppress remove [--region R] ADDR...\n"
            "       %s [-c CONF] suppress list [--region R]\n"
            "       %s [-c CONF] suppress import --region R FILE\n"
            "\n"
            "Manage the local copy of the account-level suppression list.\n"
            "  add      put addresses on region R's list (reason BOUNCE\n"
            "           unless --reason says COMPLAINT)\n"
            "  remove   take addresses off every region's list, or only\n"
            "           off region R's\n"
            "  list     print REGION ADDRESS REASON LAST-UPDATE lines\n"
            "  import   add the addresses of a CSV file (address,reason;\n"
            "           SES's bulk format) or JSON lines to region R's\n"
            "           list, all or nothing\n",
            CTL_PROG, CTL_PROG, CTL_PROG, CTL_PROG);
}

/* Options shared by the suppress subcommands. */
struct supp_opts {
    const char *region;
    enum sg_supp_reason reason;
};

/* parse_opts - options of a suppress subcommand; sets *first */
static int
parse_opts(const char *cmd, int argc, char **argv, int allow_reason,
           struct supp_opts *o, int *first)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "region", required_argument, NULL, 'r' },
        { "reason", required_argument, NULL, 'R' },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    o->region = NULL;
    o->reason = SG_SUPP_BOUNCE;
    *first = argc;
    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":hr:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            suppress_usage(stdout);
            *first = -1;
            return SG_EXIT_OK;
        case 'r':
            o->region = optarg;
            break;
        case 'R':
            if (!allow_reason)
                return ctl_usage_error(cmd, "--reason is only for add");
            o->reason = sg_supp_reason_parse(optarg);
            if (o->reason == 0)
                return ctl_usage_error(cmd, "bad --reason '%s': expected "
                                       "BOUNCE or COMPLAINT", optarg);
            break;
        default:
            return ctl_option_error(cmd, ch, argv);
        }
    }
    if (o->region != NULL && sg_region_lookup(o->region) == NULL)
        return ctl_usage_error(cmd, "unknown SES region '%s'", o->region);
    *first = optind;
    return SG_EXIT_OK;
}

/* normalise_addr - an address argument in normal form, or NULL */
static const char *
normalise_addr(const char *in, struct sg_addr *a)
{
    SG_ADDR_ERR e;

    e = sg_addr_parse_path(in, a, NULL);
    if (e != SG_ADDR_OK) {
        ctl_error("%s: %s", in, sg_addr_strerror(e));
        return NULL;
    }
    return a->addr;
}

/* remote - the same change at SES where credentials are configured */
static int
remote(struct ctl_ctx *ctx, const char *region, int argc, char **argv,
       int first, const char *reason)
{
    struct sg_addr a;
    const char **list;
    int i, n = 0, status;

    if ((list = calloc((size_t)(argc - first), sizeof(*list))) == NULL)
        return SG_EXIT_SOFTWARE;
    for (i = first; i < argc; i++)
        if (normalise_addr(argv[i], &a) != NULL
            && (list[n] = strdup(a.addr)) != NULL)
            n++;
    status = reason != NULL
        ? ctl_sync_remote_add(ctx, region, list, (size_t)n, reason)
        : ctl_sync_remote_remove(ctx, region, list, (size_t)n);
    for (i = 0; i < n; i++)
        free((char *)list[i]);
    free(list);
    return status;
}

/*
 * open_for_change - the checks and set-up that add and remove share: at
 * least one address, every one valid, then the configuration and the
 * state store (*st, for writing)
 */
static int
open_for_change(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
                int first, SG_STATE **st)
{
    struct sg_addr a;
    int status;
    int i;

    if (first >= argc)
        return ctl_usage_error(cmd, "no address given");
    for (i = first; i < argc; i++)
        if (normalise_addr(argv[i], &a) == NULL)
            return CTL_EXIT_DATAERR;
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    return ctl_open_state(ctx, 0, st);
}

/* supp_add - suppress add --region R [--reason X] ADDR... */
static int
supp_add(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct supp_opts o;
    struct sg_addr a;
    char err[1024];
    const char *addr;
    SG_STATE *st;
    SG_STATUS s;
    int status;
    int first = 0;
    int i;

    if ((status = parse_opts("suppress add", argc, argv, 1, &o, &first))
        != 0 || first < 0)
        return status;
    if (o.region == NULL)
        return ctl_usage_error("suppress add", "--region is required "
                               "(adding is per region)");
    if ((status = open_for_change(ctx, "suppress add", argc, argv, first,
                                  &st)) != 0)
        return status;
    for (i = first; i < argc; i++) {
        addr = normalise_addr(argv[i], &a);
        err[0] = '\0';
        s = sg_state_suppress_add(st, o.region, addr, o.reason,
                                  (long long)time(NULL), err, sizeof(err));
        if (s != SG_OK) {
            ctl_error("%s", err[0] != '\0' ? err : sg_strerror(s));
            status = ctl_status_exit(s);
            break;
        }
        printf("added %s to the %s suppression list (%s)\n", addr,
               o.region, sg_supp_reason_name(o.reason));
    }
    sg_state_close(st);
    if (status == 0)
        status = remote(ctx, o.region, argc, argv, first,
                        sg_supp_reason_name(o.reason));
    return status;
}

/* supp_remove - suppress remove [--region R] ADDR... */
static int
supp_remove(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct supp_opts o;
    struct sg_addr a;
    char err[1024];
    const char *addr;
    SG_STATE *st;
    SG_STATUS s;
    int removed;
    int status;
    int first = 0;
    int i;

    if ((status = parse_opts("suppress remove", argc, argv, 0, &o,
                             &first)) != 0 || first < 0)
        return status;
    if ((status = open_for_change(ctx, "suppress remove", argc, argv,
                                  first, &st)) != 0)
        return status;
    for (i = first; i < argc; i++) {
        addr = normalise_addr(argv[i], &a);
        err[0] = '\0';
        removed = 0;
        s = sg_state_suppress_remove(st, o.region, addr, &removed, err,
                                     sizeof(err));
        if (s != SG_OK) {
            ctl_error("%s", err[0] != '\0' ? err : sg_strerror(s));
            status = ctl_status_exit(s);
            break;
        }
        if (removed == 0 && o.region != NULL)
            printf("%s was not on the %s suppression list\n", addr,
                   o.region);
        else if (removed == 0)
            printf("%s was not on any suppression list\n", addr);
        else
            printf("removed %s from %d region%s\n", addr, removed,
                   removed == 1 ? "" : "s");
    }
    sg_state_close(st);
    /* R5: a removal applies at SES too, in every region (or --region). */
    if (status == 0)
        status = remote(ctx, o.region, argc, argv, first, NULL);
    return status;
}

/* list_one - print one suppressed address */
static int
list_one(const char *region, const struct sg_suppressed *e, void *arg)
{
    char iso[32];

    (void)arg;
    printf("%s ", region);
    ctl_put_safe(e->address, stdout);
    printf(" %s %s\n", sg_supp_reason_name(e->reason),
           ctl_iso8601_buf(e->updated, iso, sizeof(iso)));
    return ferror(stdout) ? 1 : 0;
}

/* supp_list - suppress list [--region R] */
static int
supp_list(struct ctl_ctx *ctx, int argc, char **argv)
{
    char regions[CTL_REGIONS_MAX][SG_REGION_MAX + 1];
    struct supp_opts o;
    SG_STATE *st;
    SG_SNAP *snap;
    SG_STATUS s = SG_OK;
    size_t n;
    size_t i;
    int status;
    int first = 0;

    if ((status = parse_opts("suppress list", argc, argv, 0, &o, &first))
        != 0 || first < 0)
        return status;
    if (first < argc)
        return ctl_usage_error("suppress list", "unexpected argument '%s'",
                               argv[first]);

    if ((status = ctl_open_snap(ctx, &st, &snap)) != 0) {
        sg_snap_free(snap);
        sg_state_close(st);
        return status;
    }
    s = SG_OK;
    if (o.region != NULL) {
        s = sg_snap_suppressed_each(snap, o.region, list_one, NULL);
    } else {
        n = sg_snap_regions(snap, regions, CTL_REGIONS_MAX);
        if (n > CTL_REGIONS_MAX)
            n = CTL_REGIONS_MAX;
        for (i = 0; i < n && s == SG_OK; i++)
            s = sg_snap_suppressed_each(snap, regions[i], list_one, NULL);
    }
    if (s == SG_ERR_NOTFOUND && o.region != NULL) {
        ctl_error("region %s is not in the state in %s", o.region,
                  ctx->conf->state_dir);
        status = SG_EXIT_CONFIG;
    } else if (s != SG_OK) {
        ctl_error("cannot read the suppression list: %s",
                  sg_snap_error(snap));
        status = ctl_status_exit(s);
    }
    sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    return ctl_finish_stdout(status);
}

/* supp_import - suppress import --region R FILE */
static int
supp_import(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct supp_opts o;
    char err[1024];
    long long added = 0;
    SG_STATE *st;
    SG_STATUS s;
    int status;
    int first = 0;

    if ((status = parse_opts("suppress import", argc, argv, 0, &o,
                             &first)) != 0 || first < 0)
        return status;
    if (o.region == NULL)
        return ctl_usage_error("suppress import", "--region is required");
    if (argc - first != 1 || argv[first][0] == '\0')
        return ctl_usage_error("suppress import", "expected one FILE");

    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if ((status = ctl_open_state(ctx, 0, &st)) != 0)
        return status;
    err[0] = '\0';
    s = sg_state_suppress_import(st, o.region, argv[first],
                                 (long long)time(NULL), &added, err,
                                 sizeof(err));
    if (s != SG_OK) {
        ctl_error("%s", err[0] != '\0' ? err : sg_strerror(s));
        status = ctl_status_exit(s);
    } else {
        printf("imported %lld address%s into the %s suppression list\n",
               added, added == 1 ? "" : "es", o.region);
    }
    sg_state_close(st);
    return status;
}

/* ctl_cmd_suppress - dispatch the suppress subcommands */
int
ctl_cmd_suppress(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *sub;

    if (argc < 2)
        return ctl_usage_error("suppress", "expected add, remove, list or "
                               "import");
    sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0
        || strcmp(sub, "help") == 0) {
        suppress_usage(stdout);
        return SG_EXIT_OK;
    }
    /* The subcommand's own vector: argv[0] is the subcommand. */
    if (strcmp(sub, "add") == 0)
        return supp_add(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "remove") == 0)
        return supp_remove(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return supp_list(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "import") == 0)
        return supp_import(ctx, argc - 1, argv + 1);
    return ctl_usage_error("suppress", "unknown subcommand '%s'", sub);
}
