/*
 * sesgatectl.c - the operator's tool: global options, dispatch, exits
 *
 * sesgatectl [-c CONF] [-v] COMMAND [ARGS]
 * sesgatectl [-c CONF] -n
 * sesgatectl --help | --version
 *
 * Diagnostics of the library arrive through the log sink installed
 * here and go to stderr as "sesgatectl: warning: ..."; results go to
 * stdout. Exit statuses follow sysexits.h as DESIGN.md's contract says
 * (see sesgatectl(8)).
 */

/* System headers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "state.h"
#include "ctl.h"

/* A command of the dispatch table. */
struct ctl_command {
    const char *name;
    int (*fn)(struct ctl_ctx *ctx, int argc, char **argv);
    const char *summary;
};

static const struct ctl_command commands[] = {
    { "import", ctl_cmd_import,
      "replace the state with a JSON snapshot" },
    { "export", ctl_cmd_export,
      "write the state as a JSON snapshot" },
    { "status", ctl_cmd_status,
      "show each region's account, quota and list sizes" },
    { "check", ctl_cmd_check,
      "dry-run the decision for a message" },
    { "suppress", ctl_cmd_suppress,
      "add, remove, list or import suppressed addresses" },
    { "config", ctl_cmd_config,
      "print defaults (-d), the configuration, or check it (-n)" },
    { "quota", ctl_cmd_quota,
      "quota reset --region R: forget a region's quota counters" },
    { "lint", ctl_cmd_lint,
      "check the state and config across regions (R1-R11)" },
    { "dns", ctl_cmd_dns,
      "zone-file records a domain needs in every region" },
    { "policy-test", ctl_cmd_policy_test,
      "evaluate an identity's sending policies (R8)" },
    { "sync", ctl_cmd_sync,
      "fetch the state from the SES API, every region, atomically" },
    { "smtp-password", ctl_cmd_smtp_password,
      "print a region's SES SMTP password (R9), or --check one" },
    { "postfix-config", ctl_cmd_postfix_config,
      "write Postfix relay maps and transports per region" },
    { NULL, NULL, NULL }
};

/* usage - the program's help text */
static void
usage(FILE *fp)
{
    const struct ctl_command *c;

    fprintf(fp,
            "Usage: %s [-c CONF] [-v] COMMAND [ARGS]\n"
            "       %s [-c CONF] -n\n"
            "       %s --help | --version\n"
            "\n"
            "Options:\n"
            "  -c CONF     configuration file (default %s)\n"
            "  -n          check the configuration and the state store\n"
            "  -v          verbose: log debug messages to stderr\n"
            "  -h, --help  show this help\n"
            "  -V, --version  show the version\n"
            "\n"
            "Commands:\n",
            CTL_PROG, CTL_PROG, CTL_PROG, SG_DEFAULT_CONF);
    for (c = commands; c->name != NULL; c++)
        fprintf(fp, "  %-10s  %s\n", c->name, c->summary);
    fprintf(fp, "\n\"%s COMMAND --help\" describes a command.\n",
            CTL_PROG);
}

/* ctl_error - "sesgatectl: MESSAGE" on stderr */
void
ctl_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", CTL_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ctl_usage_error - usage problem of a command, with a hint */
int
ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    if (cmd != NULL)
        fprintf(stderr, "%s: %s: ", CTL_PROG, cmd);
    else
        fprintf(stderr, "%s: ", CTL_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd != NULL)
        fprintf(stderr, "Try '%s %s --help'.\n", CTL_PROG, cmd);
    else
        fprintf(stderr, "Try '%s --help'.\n", CTL_PROG);
    return SG_EXIT_USAGE;
}

/* log_sink - the library's diagnostics on stderr */
static void
log_sink(int level, const char *msg, void *arg)
{
    const char *tag;

    (void)arg;
    switch (level) {
    case SG_LOG_ERR:
        tag = "error";
        break;
    case SG_LOG_WARNING:
        tag = "warning";
        break;
    case SG_LOG_NOTICE:
        tag = "notice";
        break;
    case SG_LOG_INFO:
        tag = "info";
        break;
    default:
        tag = "debug";
        break;
    }
    fflush(stdout);
    fprintf(stderr, "%s: %s: %s\n", CTL_PROG, tag, msg);
}

/* ctl_load_conf - load the configuration, or fall back to defaults */
int
ctl_load_conf(struct ctl_ctx *ctx)
{
    char err[1024];
    struct stat sb;

    if (ctx->conf != NULL)
        return 0;
    err[0] = '\0';
    if (!ctx->conf_given && stat(ctx->conf_path, &sb) != 0
        && errno == ENOENT) {
        /* No -c and no default file: built-in defaults, silently. */
        sg_log(SG_LOG_DEBUG, "%s not found: using built-in defaults",
               ctx->conf_path);
        ctx->conf = sg_conf_defaults();
        if (ctx->conf == NULL) {
            ctl_error("out of memory");
            return SG_EXIT_SOFTWARE;
        }
        return 0;
    }
    ctx->conf = sg_conf_load(ctx->conf_path, err, sizeof(err));
    if (ctx->conf == NULL) {
        if (err[0] == '\0')
            snprintf(err, sizeof(err), "%s: cannot load configuration",
                     ctx->conf_path);
        ctl_error("%s", err);
        return SG_EXIT_CONFIG;
    }
    return 0;
}

/* ctl_status_exit - exit status for a failed library call */
int
ctl_status_exit(SG_STATUS status)
{
    switch (status) {
    case SG_OK:
        return SG_EXIT_OK;
    case SG_ERR_SYNTAX:
    case SG_ERR_INVALID:
    case SG_ERR_TOOBIG:
    case SG_ERR_NOTFOUND:
    case SG_ERR_PROTO:
        return CTL_EXIT_DATAERR;
    case SG_ERR_IO:
    case SG_ERR_FULL:
        return CTL_EXIT_IOERR;
    case SG_ERR_STATE:
    case SG_ERR_STATE_RETRY:
    case SG_ERR_CONFIG:
        return SG_EXIT_CONFIG;
    case SG_ERR_USAGE:
        return SG_EXIT_USAGE;
    case SG_PENDING:            /* sesgatectl never defers */
    case SG_ERR_NOMEM:
    case SG_ERR_INTERNAL:
        break;
    }
    return SG_EXIT_SOFTWARE;
}

/* ctl_open_state - open the store of the configured state directory */
int
ctl_open_state(struct ctl_ctx *ctx, int flags, SG_STATE **out)
{
    char err[1024];
    char path[4096];
    struct stat sb;
    const char *dir = ctx->conf->state_dir;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0') {
        ctl_error("%s: state_dir is empty", ctx->conf_path);
        return SG_EXIT_CONFIG;
    }
    if (flags & SG_STATE_CREATE) {
        /* Create the last component only, like mkdir(1): a missing
         * parent is more likely a typo than a wish. The store holds
         * the suppression list (personal data): not world-readable. */
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            ctl_error("cannot create %s: %s", dir, strerror(errno));
            return CTL_EXIT_IOERR;
        }
    }
    err[0] = '\0';
    *out = sg_state_open(dir, flags, ctx->conf->state_max_size, err,
                         sizeof(err));
    if (*out == NULL) {
        if (err[0] == '\0')
            snprintf(err, sizeof(err), "cannot open the state in %s", dir);
        ctl_error("%s", err);
        /* A missing, corrupt or unreadable store is a state error (78);
         * a store that cannot be created is an I/O error (74). */
        if ((flags & SG_STATE_CREATE)
            && (sg_state_path_buf(dir, path, sizeof(path)) == NULL
                || stat(path, &sb) != 0))
            return CTL_EXIT_IOERR;
        return SG_EXIT_CONFIG;
    }
    return 0;
}

/* ctl_open_snap - configuration, state (read-only), a begun snapshot */
int
ctl_open_snap(struct ctl_ctx *ctx, SG_STATE **st, SG_SNAP **snap)
{
    int status;

    *st = NULL;
    *snap = NULL;
    if ((status = ctl_load_conf(ctx)) != 0
        || (status = ctl_open_state(ctx, SG_STATE_RDONLY, st)) != 0)
        return status;
    if ((*snap = sg_snap_new(*st)) == NULL) {
        ctl_error("out of memory");
        return SG_EXIT_SOFTWARE;
    }
    if (sg_snap_begin(*snap) != SG_OK) {
        ctl_error("cannot read the state in %s: %s", ctx->conf->state_dir,
                  sg_snap_error(*snap));
        return SG_EXIT_CONFIG;
    }
    return 0;
}

/* ctl_iso8601_buf - epoch seconds as ISO 8601 UTC */
const char *
ctl_iso8601_buf(long long t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt;

    if (t <= 0 || (long long)(time_t)t != t)
        return "-";
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return "-";
    return buf;
}

/* ctl_put_safe - write a string with control characters as '?' */
void
ctl_put_safe(const char *s, FILE *fp)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++)
        putc(*p < 0x20 || *p == 0x7f ? '?' : *p, fp);
}

/* ctl_reset_getopt - prepare getopt_long for a fresh argument vector */
void
ctl_reset_getopt(void)
{
    /* glibc re-initialises its scanner (and the permutation state) when
     * optind is 0; elsewhere 1 is the documented reset. */
#ifdef __GLIBC__
    optind = 0;
#else
    optind = 1;
#endif
    opterr = 0;
}

/* ctl_option_error - report what getopt_long refused */
int
ctl_option_error(const char *cmd, int ch, char **argv)
{
    if (ch == ':')
        return ctl_usage_error(cmd, "option '%s' needs a value",
                               argv[optind - 1]);
    if (optopt > 0 && optopt < 128)
        return ctl_usage_error(cmd, "unknown option '-%c'", optopt);
    return ctl_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* ctl_finish_stdout - flush stdout and report a write error */
int
ctl_finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_error("error writing to standard output: %s", strerror(errno));
        if (status == SG_EXIT_OK)
            return CTL_EXIT_IOERR;
    }
    return status;
}

/* find_command - the table entry of a command name */
static const struct ctl_command *
find_command(const char *name)
{
    const struct ctl_command *c;

    for (c = commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* cmd_help - "sesgatectl help [COMMAND]" */
static int
cmd_help(struct ctl_ctx *ctx, int argc, char **argv)
{
    const struct ctl_command *c;
    char help[] = "--help";
    char *av[3];

    if (argc < 2) {
        usage(stdout);
        return SG_EXIT_OK;
    }
    if ((c = find_command(argv[1])) == NULL)
        return ctl_usage_error("help", "unknown command '%s'", argv[1]);
    av[0] = argv[1];
    av[1] = help;
    av[2] = NULL;
    return c->fn(ctx, 2, av);
}

/* main - global options, then the command */
int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    struct ctl_ctx ctx;
    const struct ctl_command *c;
    int check_only = 0;
    int status;
    int ch;

    memset(&ctx, 0, sizeof(ctx));
    ctx.conf_path = SG_DEFAULT_CONF;
    sg_log_set_sink(log_sink, NULL, SG_LOG_WARNING);

    /* "+": stop at the command name; its options are its own. */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:c:nvhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (optarg[0] == '\0')
                return ctl_usage_error(NULL, "-c needs a file name");
            ctx.conf_path = optarg;
            ctx.conf_given = 1;
            break;
        case 'n':
            check_only = 1;
            break;
        case 'v':
            ctx.verbose = 1;
            sg_log_set_sink(log_sink, NULL, SG_LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            return ctl_finish_stdout(SG_EXIT_OK);
        case 'V':
            printf("%s (sesgate) %s\n", CTL_PROG, sg_version());
            return ctl_finish_stdout(SG_EXIT_OK);
        default:
            return ctl_option_error(NULL, ch, argv);
        }
    }
    argc -= optind;
    argv += optind;

    if (check_only) {
        if (argc > 0)
            return ctl_usage_error(NULL, "-n takes no command");
        status = ctl_config_check(&ctx);
    } else if (argc == 0) {
        return ctl_usage_error(NULL, "no command given");
    } else if (strcmp(argv[0], "help") == 0) {
        status = cmd_help(&ctx, argc, argv);
    } else if ((c = find_command(argv[0])) == NULL) {
        return ctl_usage_error(NULL, "unknown command '%s'", argv[0]);
    } else {
        status = c->fn(&ctx, argc, argv);
    }
    sg_conf_free(ctx.conf);
    return ctl_finish_stdout(status);
}
