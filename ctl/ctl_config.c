/*
 * ctl_config.c - sesgatectl config: defaults (-d), effective
 *   configuration, check (-n)
 *
 * The parameter table (conf_params.h) is the single source of truth:
 * "config -d" prints it through sg_conf_print(NULL), "config -d -v"
 * adds each parameter's one-line description. Printing the effective
 * configuration never shows a secret: the password of a URL's user
 * information (redis_url = redis://user:PASSWORD@host) is masked.
 */

/* System headers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "state.h"
#include "ctl.h"

/* config_usage - help text of config */
static void
config_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] config [-d [-v]]\n"
            "       %s [-c CONF] config -n\n"
            "\n"
            "  (none)  print the effective configuration\n"
            "  -d      print every parameter's default (-v: with its\n"
            "          description)\n"
            "  -n      check the configuration file and that the state\n"
            "          store opens read-only; prints 'FILE: configuration\n"
            "          OK' or the error (exit 78)\n",
            CTL_PROG, CTL_PROG);
}

/* print_defaults_verbose - defaults with their descriptions */
static void
print_defaults_verbose(void)
{
    const struct sg_conf_param *p;
    size_t n;
    size_t i;

    p = sg_conf_params(&n);
    for (i = 0; i < n; i++)
        printf("%s# %s\n%s = %s\n", i == 0 ? "" : "\n",
               p[i].doc != NULL ? p[i].doc : "", p[i].name,
               p[i].def != NULL ? p[i].def : "");
}

/* print_masked - a value with any URL password replaced by "*****" */
static void
print_masked(const char *name, const char *value)
{
    const char *scheme = strstr(value, "://");
    const char *auth;
    const char *end;
    const char *at;
    const char *colon;

    if (scheme == NULL) {
        printf("%s = %s\n", name, value);
        return;
    }
    auth = scheme + 3;
    end = auth + strcspn(auth, "/?#");
    /* The last '@' of the authority ends the user information. */
    at = NULL;
    for (colon = auth; colon < end; colon++)
        if (*colon == '@')
            at = colon;
    colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL) {
        printf("%s = %s\n", name, value);
        return;
    }
    printf("%s = %.*s:*****%s\n", name, (int)(colon - value), value, at);
}

/* print_effective - "name = value" for every parameter, secrets masked */
static void
print_effective(SG_CONF *conf)
{
    const struct sg_conf_param *p;
    const char *v;
    size_t n;
    size_t i;

    p = sg_conf_params(&n);
    for (i = 0; i < n; i++) {
        v = sg_conf_get(conf, p[i].name);
        print_masked(p[i].name, v != NULL ? v : "");
    }
}

/* ctl_config_check - check configuration and state store (-n) */
int
ctl_config_check(struct ctl_ctx *ctx)
{
    char path[4096];
    char err[1024];
    struct stat sb;
    SG_STATE *st;
    SG_SNAP *snap;
    int status;

    if (!ctx->conf_given && stat(ctx->conf_path, &sb) != 0
        && errno == ENOENT)
        fprintf(stderr, "%s: %s does not exist: checking the built-in "
                "defaults\n", CTL_PROG, ctx->conf_path);
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;

    if (ctx->conf->default_region == NULL
        || ctx->conf->default_region[0] == '\0')
        fprintf(stderr, "%s: warning: %s: default_region is not set: mail "
                "from senders that sender_region_map does not name will "
                "be deferred\n", CTL_PROG, ctx->conf_path);

    /* The store: absent is fine (nothing imported yet), present but
     * unreadable is an error. */
    if (sg_state_path_buf(ctx->conf->state_dir, path, sizeof(path)) == NULL
        || stat(path, &sb) != 0) {
        fprintf(stderr, "%s: warning: no state in %s yet: run %s import\n",
                CTL_PROG, ctx->conf->state_dir, CTL_PROG);
    } else {
        err[0] = '\0';
        st = sg_state_open(ctx->conf->state_dir, SG_STATE_RDONLY,
                           ctx->conf->state_max_size, err, sizeof(err));
        if (st == NULL) {
            ctl_error("%s", err[0] != '\0' ? err : "cannot open the state");
            return SG_EXIT_CONFIG;
        }
        snap = sg_snap_new(st);
        if (snap == NULL || sg_snap_begin(snap) != SG_OK) {
            ctl_error("cannot read the state in %s: %s",
                      ctx->conf->state_dir,
                      snap != NULL ? sg_snap_error(snap) : "out of memory");
            sg_snap_free(snap);
            sg_state_close(st);
            return SG_EXIT_CONFIG;
        }
        sg_snap_end(snap);
        sg_snap_free(snap);
        sg_state_close(st);
    }
    printf("%s: configuration OK\n", ctx->conf_path);
    return SG_EXIT_OK;
}

/* ctl_cmd_config - print defaults, the configuration, or check it */
int
ctl_cmd_config(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "defaults", no_argument, NULL, 'd' },
        { "check", no_argument, NULL, 'n' },
        { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 }
    };
    int defaults = 0;
    int check = 0;
    int verbose = ctx->verbose;
    int status;
    int ch;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":hdnv", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            config_usage(stdout);
            return SG_EXIT_OK;
        case 'd':
            defaults = 1;
            break;
        case 'n':
            check = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        default:
            return ctl_option_error("config", ch, argv);
        }
    }
    if (optind != argc)
        return ctl_usage_error("config", "unexpected argument '%s'",
                               argv[optind]);
    if (defaults && check)
        return ctl_usage_error("config", "-d and -n exclude each other");

    if (defaults) {
        if (verbose)
            print_defaults_verbose();
        else
            sg_conf_print(NULL, stdout);
        return SG_EXIT_OK;
    }
    if (check)
        return ctl_config_check(ctx);
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    print_effective(ctx->conf);
    return SG_EXIT_OK;
}
