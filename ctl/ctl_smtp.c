/*
 * ctl_smtp.c - sesgatectl smtp-password and postfix-config (R9, R1)
 *
 * smtp-password [--region R]... [--stdin] [--check]
 *   Prints "REGION PASSWORD" per region (just PASSWORD for one region),
 *   derived from the secret access key of the configured credentials or,
 *   with --stdin (or when none are configured and stdin is not a
 *   terminal), of the first line of standard input. The secret never
 *   comes from argv. --check reads an existing SMTP password from stdin
 *   and says whether it is legacy (pre-2019, region-independent: replace
 *   it) or current, and whether it belongs to the credentials.
 *
 * postfix-config [--out DIR] [--tls-level LEVEL]
 *   Writes DIR/sasl_passwd (mode 0600), DIR/sender_relay (for
 *   sender_dependent_relayhost_maps), DIR/sender_transport (for
 *   sender_dependent_default_transport_maps, one transport per region),
 *   DIR/master.cf.snippet and DIR/main.cf.snippet, from sesgate.conf,
 *   sender_region_map and the state's MaxSendRate per region.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Third-party headers. */
#include <openssl/crypto.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "awscred.h"
#include "smtpcred.h"
#include "ctl.h"

#define SMTP_REGIONS_MAX    64

/* smtp_usage - help text of smtp-password */
static void
smtp_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] smtp-password [--region R]... [--stdin]\n"
            "       %s [-c CONF] smtp-password --check [--region R]\n"
            "\n"
            "Print the SES SMTP password of each region (R9), derived from\n"
            "the secret access key of the configured AWS credentials, or\n"
            "of the first line of standard input with --stdin. The user\n"
            "name is the access key id. Regions: --region, else the\n"
            "configuration's \"regions\".\n"
            "  --check   read an SMTP password from standard input and tell\n"
            "            a legacy (pre-2019, region-independent) one from a\n"
            "            current one; exit 0 current, 65 legacy or unknown\n",
            CTL_PROG, CTL_PROG);
}

/* read_line - the first line of stdin, without the newline */
static int
read_line(char *buf, size_t size)
{
    size_t n;

    if (fgets(buf, (int)size, stdin) == NULL)
        return -1;
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* add_region - append a region name once */
static size_t
add_region(char (*list)[SG_REGION_MAX + 1], size_t n, const char *name)
{
    const struct sg_region *r = sg_region_lookup(name);
    size_t i;

    if (r == NULL)
        return n;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], r->name) == 0)
            return n;
    if (n < SMTP_REGIONS_MAX)
        snprintf(list[n++], SG_REGION_MAX + 1, "%s", r->name);
    return n;
}

/* conf_regions - the "regions" parameter as a list */
static size_t
conf_regions(const SG_CONF *conf, char (*list)[SG_REGION_MAX + 1],
             size_t n)
{
    char word[128];
    const char *p = conf->regions, *e;
    size_t len;

    while (p != NULL && *p != '\0') {
        p += strspn(p, ", \t");
        e = p + strcspn(p, ", \t");
        if ((len = (size_t)(e - p)) == 0)
            break;
        if (len < sizeof(word)) {
            memcpy(word, p, len);
            word[len] = '\0';
            n = add_region(list, n, word);
        }
        p = e;
    }
    return n;
}

/* ctl_cmd_smtp_password - sesgatectl smtp-password */
int
ctl_cmd_smtp_password(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "region", required_argument, NULL, 'r' },
        { "stdin", no_argument, NULL, 's' },
        { "check", no_argument, NULL, 'C' },
        { NULL, 0, NULL, 0 }
    };
    char regions[SMTP_REGIONS_MAX][SG_REGION_MAX + 1];
    char secret[SG_AWSCRED_KEY_MAX + 2], pw[256], out[SG_SMTPCRED_BUFSIZE];
    char err[1024];
    struct sg_awscred cred;
    enum sg_smtpcred_kind kind;
    size_t n = 0, i;
    int from_stdin = 0, check = 0, have_secret = 0, ch, status = 0, m;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            smtp_usage(stdout);
            return SG_EXIT_OK;
        case 'r':
            if (sg_region_lookup(optarg) == NULL)
                return ctl_usage_error("smtp-password", "unknown SES "
                                       "region '%s'", optarg);
            n = add_region(regions, n, optarg);
            break;
        case 's':
            from_stdin = 1;
            break;
        case 'C':
            check = 1;
            break;
        default:
            return ctl_option_error("smtp-password", ch, argv);
        }
    }
    if (optind < argc)
        /* Not echoed: it is most likely the secret itself. */
        return ctl_usage_error("smtp-password", "unexpected argument (not "
                               "shown: secrets are read from stdin, never "
                               "from the command line)");
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    if (n == 0)
        n = conf_regions(ctx->conf, regions, 0);
    memset(&cred, 0, sizeof(cred));

    if (check) {
        if (read_line(pw, sizeof(pw)) != 0)
            return ctl_usage_error("smtp-password", "--check reads the SMTP "
                                   "password from standard input");
        kind = sg_smtpcred_kind(pw);
        if (kind == SG_SMTPCRED_UNKNOWN) {
            printf("not an SES SMTP password (expected 44 Base64 "
                   "characters starting with A or B)\n");
            status = CTL_EXIT_DATAERR;
        } else if (kind == SG_SMTPCRED_LEGACY) {
            printf("legacy SMTP password (created before 2019-01-10, "
                   "region-independent): SES throttles it (\"Maximum SigV2 "
                   "SMTP sending rate exceeded\"); create a new IAM access "
                   "key and derive one password per region with "
                   "\"sesgatectl smtp-password --region R\"\n");
            status = CTL_EXIT_DATAERR;
        } else {
            printf("current SMTP password (SigV4, valid in one region "
                   "only)\n");
        }
        /* With credentials: whose password is it? */
        if (kind != SG_SMTPCRED_UNKNOWN
            && sg_awscred_load(ctx->conf->aws_credentials_file,
                               ctx->conf->aws_profile, &cred, err,
                               sizeof(err)) == SG_OK) {
            if (kind == SG_SMTPCRED_LEGACY) {
                m = sg_smtpcred_matches(pw, cred.secret_key, "us-east-1");
                printf("%s the legacy password of access key %s\n",
                       m == 1 ? "it is" : "it is not", cred.access_key);
            } else {
                size_t r = 0;
                const struct sg_region *t;
                size_t nt;

                t = sg_region_table(&nt);
                for (r = 0; r < nt; r++)
                    if (sg_smtpcred_matches(pw, cred.secret_key,
                                            t[r].name) == 1)
                        break;
                if (r < nt)
                    printf("it is the %s password of access key %s\n",
                           t[r].name, cred.access_key);
                else
                    printf("it does not belong to access key %s in any "
                           "region\n", cred.access_key);
            }
        }
        OPENSSL_cleanse(pw, sizeof(pw));
        sg_awscred_clear(&cred);
        return status;
    }

    if (n == 0)
        return ctl_usage_error("smtp-password", "no region: give --region "
                               "or set \"regions\"");
    if (!from_stdin) {
        err[0] = '\0';
        if (sg_awscred_load(ctx->conf->aws_credentials_file,
                            ctx->conf->aws_profile, &cred, err,
                            sizeof(err)) == SG_OK) {
            have_secret = 1;
            if (cred.session_token[0] != '\0') {
                ctl_error("smtp-password: %s holds temporary credentials "
                          "(a session token); AWS says not to derive SMTP "
                          "passwords from them", cred.source);
                sg_awscred_clear(&cred);
                return SG_EXIT_CONFIG;
            }
            snprintf(secret, sizeof(secret), "%s", cred.secret_key);
        } else if (isatty(STDIN_FILENO)) {
            ctl_error("smtp-password: no AWS credentials (%s); give the "
                      "secret access key on standard input with --stdin",
                      err);
            return SG_EXIT_CONFIG;
        }
    }
    if (!have_secret && read_line(secret, sizeof(secret)) != 0) {
        ctl_error("smtp-password: no secret access key on standard input");
        return SG_EXIT_USAGE;
    }
    for (i = 0; i < n; i++) {
        if (sg_smtpcred_password_buf(secret, regions[i], out, sizeof(out))
            == NULL) {
            ctl_error("smtp-password: cannot derive the password");
            status = SG_EXIT_SOFTWARE;
            break;
        }
        if (n == 1)
            printf("%s\n", out);
        else
            printf("%s %s\n", regions[i], out);
    }
    if (have_secret && ctx->verbose)
        fprintf(stderr, "%s: user name (access key id): %s\n", CTL_PROG,
                cred.access_key);
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(out, sizeof(out));
    sg_awscred_clear(&cred);
    return status;
}

/* ------------------------------------------------------------------ */
/* postfix-config                                                      */
/* ------------------------------------------------------------------ */

/* pfc_usage - help text of postfix-config */
static void
pfc_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] postfix-config [--out DIR] "
            "[--tls-level LEVEL]\n"
            "\n"
            "Write Postfix relay configuration for every region (the\n"
            "configured \"regions\", default_region and the regions of\n"
            "sender_region_map) into DIR (default: the current directory):\n"
            "  sasl_passwd         [host]:port KEYID:PASSWORD per region\n"
            "                      (mode 0600; run postmap on it)\n"
            "  sender_relay        for sender_dependent_relayhost_maps\n"
            "  sender_transport    for sender_dependent_default_transport_"
            "maps\n"
            "  master.cf.snippet   one smtp transport per region\n"
            "  main.cf.snippet     the lines that tie them together\n"
            "  --tls-level LEVEL   smtp_tls_security_level of the transports\n"
            "                      (default encrypt: SES requires TLS)\n",
            CTL_PROG);
}

/* relay_of - "[host]:port" of a region, smtp_hosts overrides first */
static void
relay_of(const SG_CONF *conf, const struct sg_region *r, char *buf,
         size_t size)
{
    const char *p = conf->smtp_hosts, *e, *eq, *colon;
    size_t rl = strlen(r->name);

    while (p != NULL && *p != '\0') {
        p += strspn(p, ", \t");
        e = p + strcspn(p, ", \t");
        eq = memchr(p, '=', (size_t)(e - p));
        if (eq != NULL && (size_t)(eq - p) == rl
            && strncasecmp(p, r->name, rl) == 0) {
            colon = memchr(eq + 1, ':', (size_t)(e - eq - 1));
            if (colon != NULL)
                snprintf(buf, size, "[%.*s]:%.*s", (int)(colon - eq - 1),
                         eq + 1, (int)(e - colon - 1), colon + 1);
            else
                snprintf(buf, size, "[%.*s]:587", (int)(e - eq - 1),
                         eq + 1);
            return;
        }
        p = e;
    }
    snprintf(buf, size, "[%s]:587", r->smtp_host);
}

/* transport_of - "ses_eu_west_1" */
static void
transport_of(const char *region, char *buf, size_t size)
{
    size_t i;

    snprintf(buf, size, "ses_%s", region);
    for (i = 0; buf[i] != '\0'; i++)
        if (buf[i] == '-')
            buf[i] = '_';
}

/* open_out - create DIR/NAME with a mode; NULL after the message */
static FILE *
open_out(const char *dir, const char *name, mode_t mode)
{
    char path[4096];
    FILE *fp;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              mode);
    if (fd < 0 || fchmod(fd, mode) != 0 || (fp = fdopen(fd, "w")) == NULL) {
        ctl_error("postfix-config: %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    return fp;
}

/* close_out - close and report */
static int
close_out(FILE *fp, const char *dir, const char *name)
{
    if (fp == NULL)
        return -1;
    if (fflush(fp) != 0 || ferror(fp)) {
        ctl_error("postfix-config: %s/%s: %s", dir, name, strerror(errno));
        fclose(fp);
        return -1;
    }
    fclose(fp);
    printf("wrote %s/%s\n", dir, name);
    return 0;
}

/* ctl_cmd_postfix_config - sesgatectl postfix-config */
int
ctl_cmd_postfix_config(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "out", required_argument, NULL, 'o' },
        { "tls-level", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 }
    };
    char regions[SMTP_REGIONS_MAX][SG_REGION_MAX + 1];
    char relay[300], tname[64], pw[SG_SMTPCRED_BUFSIZE], err[1024];
    char line[4096], key[1024], val[1024];
    const char *dir = ".", *tls = "encrypt";
    struct sg_awscred cred;
    struct sg_account acct;
    const struct sg_region *r;
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    FILE *fp, *map, *fr, *ft;
    size_t n = 0, i;
    int ch, status = 0, conc, delay;
    double rate;

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            pfc_usage(stdout);
            return SG_EXIT_OK;
        case 'o':
            dir = optarg;
            break;
        case 't':
            tls = optarg;
            if (strspn(tls, "abcdefghijklmnopqrstuvwxyz-") != strlen(tls))
                return ctl_usage_error("postfix-config", "bad --tls-level");
            break;
        default:
            return ctl_option_error("postfix-config", ch, argv);
        }
    }
    if (optind < argc)
        return ctl_usage_error("postfix-config", "unexpected argument '%s'",
                               argv[optind]);
    if ((status = ctl_load_conf(ctx)) != 0)
        return status;
    n = conf_regions(ctx->conf, regions, 0);
    if (ctx->conf->default_region[0] != '\0')
        n = add_region(regions, n, ctx->conf->default_region);
    map = NULL;
    if (ctx->conf->sender_region_map[0] != '\0'
        && (map = fopen(ctx->conf->sender_region_map, "r")) == NULL) {
        ctl_error("postfix-config: %s: %s", ctx->conf->sender_region_map,
                  strerror(errno));
        return SG_EXIT_CONFIG;
    }
    while (map != NULL && fgets(line, sizeof(line), map) != NULL)
        if (sscanf(line, " %1023s %1023s", key, val) == 2 && key[0] != '#'
            && (r = sg_region_from_value(val)) != NULL)
            n = add_region(regions, n, r->name);
    if (n == 0) {
        if (map != NULL)
            fclose(map);
        ctl_error("postfix-config: no regions: set regions, default_region "
                  "or sender_region_map");
        return SG_EXIT_CONFIG;
    }
    err[0] = '\0';
    if (sg_awscred_load(ctx->conf->aws_credentials_file,
                        ctx->conf->aws_profile, &cred, err, sizeof(err))
        != SG_OK) {
        if (map != NULL)
            fclose(map);
        ctl_error("postfix-config: no usable AWS credentials for the SMTP "
                  "passwords: %s", err);
        return SG_EXIT_CONFIG;
    }
    if (cred.session_token[0] != '\0') {
        if (map != NULL)
            fclose(map);
        ctl_error("postfix-config: %s holds temporary credentials; SMTP "
                  "passwords need a long-term IAM access key", cred.source);
        sg_awscred_clear(&cred);
        return SG_EXIT_CONFIG;
    }
    /* The state is optional: without it, rates are the sandbox's. */
    {
        char sp[4096];
        struct stat sb;

        if (sg_state_path_buf(ctx->conf->state_dir, sp, sizeof(sp)) != NULL
            && stat(sp, &sb) == 0
            && ctl_open_state(ctx, SG_STATE_RDONLY, &st) == 0
            && (snap = sg_snap_new(st)) != NULL
            && sg_snap_begin(snap) != SG_OK) {
            sg_snap_free(snap);
            snap = NULL;
        }
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        ctl_error("postfix-config: %s: %s", dir, strerror(errno));
        status = CTL_EXIT_IOERR;
        goto out;
    }

    /* sasl_passwd: secrets, 0600. */
    if ((fp = open_out(dir, "sasl_passwd", 0600)) == NULL) {
        status = CTL_EXIT_IOERR;
        goto out;
    }
    fprintf(fp, "# written by sesgatectl postfix-config: SES SMTP "
            "credentials per region (R9)\n");
    for (i = 0; i < n; i++) {
        r = sg_region_lookup(regions[i]);
        relay_of(ctx->conf, r, relay, sizeof(relay));
        if (sg_smtpcred_password_buf(cred.secret_key, r->name, pw,
                                     sizeof(pw)) == NULL) {
            status = SG_EXIT_SOFTWARE;
            break;
        }
        fprintf(fp, "%s %s:%s\n", relay, cred.access_key, pw);
    }
    OPENSSL_cleanse(pw, sizeof(pw));
    if (close_out(fp, dir, "sasl_passwd") != 0 || status != 0) {
        status = status ? status : CTL_EXIT_IOERR;
        goto out;
    }

    /* Sender maps from sender_region_map. */
    fr = open_out(dir, "sender_relay", 0644);
    ft = open_out(dir, "sender_transport", 0644);
    if (fr == NULL || ft == NULL) {
        if (fr != NULL)
            fclose(fr);
        if (ft != NULL)
            fclose(ft);
        status = CTL_EXIT_IOERR;
        goto out;
    }
    fprintf(fr, "# written by sesgatectl postfix-config from %s\n",
            ctx->conf->sender_region_map);
    fprintf(ft, "# written by sesgatectl postfix-config from %s\n",
            ctx->conf->sender_region_map);
    if (map != NULL)
        rewind(map);
    while (map != NULL && fgets(line, sizeof(line), map) != NULL) {
        if (sscanf(line, " %1023s %1023s", key, val) != 2 || key[0] == '#'
            || (r = sg_region_from_value(val)) == NULL)
            continue;
        relay_of(ctx->conf, r, relay, sizeof(relay));
        transport_of(r->name, tname, sizeof(tname));
        fprintf(fr, "%s %s\n", key, relay);
        fprintf(ft, "%s %s:%s\n", key, tname, relay);
    }
    if (close_out(fr, dir, "sender_relay") != 0
        || close_out(ft, dir, "sender_transport") != 0) {
        status = CTL_EXIT_IOERR;
        goto out;
    }

    /* master.cf: one transport per region. */
    if ((fp = open_out(dir, "master.cf.snippet", 0644)) == NULL) {
        status = CTL_EXIT_IOERR;
        goto out;
    }
    fprintf(fp, "# written by sesgatectl postfix-config: append to "
            "master.cf\n");
    for (i = 0; i < n; i++) {
        transport_of(regions[i], tname, sizeof(tname));
        fprintf(fp, "%s unix - - n - - smtp\n"
                "  -o syslog_name=postfix/%s\n"
                "  -o smtp_sasl_auth_enable=yes\n"
                "  -o smtp_sasl_password_maps=hash:%s/sasl_passwd\n"
                "  -o smtp_sasl_security_options=noanonymous\n"
                "  -o smtp_tls_security_level=%s\n", tname, tname, dir,
                tls);
    }
    if (close_out(fp, dir, "master.cf.snippet") != 0) {
        status = CTL_EXIT_IOERR;
        goto out;
    }

    /* main.cf: maps and per-transport rate settings. */
    if ((fp = open_out(dir, "main.cf.snippet", 0644)) == NULL) {
        status = CTL_EXIT_IOERR;
        goto out;
    }
    r = sg_region_lookup(ctx->conf->default_region[0] != '\0'
                         ? ctx->conf->default_region : regions[0]);
    relay_of(ctx->conf, r, relay, sizeof(relay));
    transport_of(r->name, tname, sizeof(tname));
    fprintf(fp,
            "# written by sesgatectl postfix-config: add to main.cf, then\n"
            "#   postmap %s/sasl_passwd %s/sender_transport "
            "%s/sender_relay\n"
            "# Mail for senders that sender_region_map names goes through\n"
            "# that region's transport (and SMTP credentials); everything\n"
            "# else through the default region's (%s).\n"
            "default_transport = %s:%s\n"
            "sender_dependent_default_transport_maps = hash:%s/"
            "sender_transport\n"
            "# Alternative without per-region transports (one rate for "
            "all):\n"
            "#   relayhost = %s\n"
            "#   sender_dependent_relayhost_maps = hash:%s/sender_relay\n"
            "#   smtp_sender_dependent_authentication = yes\n"
            "#   smtp_sasl_password_maps = hash:%s/sasl_passwd\n"
            "#\n"
            "# Rates: SES counts recipients per second (MaxSendRate). The\n"
            "# sesgate quota engine shapes what Postfix accepts; these\n"
            "# settings only pace delivery. Postfix's rate delay is whole\n"
            "# seconds and forces one connection per destination, so it\n"
            "# is used only below one message per second; above, the\n"
            "# concurrency limit follows MaxSendRate (at most 20).\n",
            dir, dir, dir, r->name, tname, relay, dir, relay, dir, dir);
    for (i = 0; i < n; i++) {
        rate = 1;
        if (snap != NULL
            && sg_snap_account(snap, regions[i], &acct) == SG_OK)
            rate = acct.max_rate;
        transport_of(regions[i], tname, sizeof(tname));
        if (rate < 1) {
            conc = 1;
            delay = rate > 0 ? (int)(1.0 / rate) : 1;
            if (rate > 0 && delay < 1.0 / rate)
                delay++;            /* round up: whole seconds */
        } else {
            conc = (int)rate;
            conc = conc > 20 ? 20 : conc;
            delay = 0;
        }
        fprintf(fp, "# %s: MaxSendRate %g%s\n"
                "%s_destination_concurrency_limit = %d\n"
                "%s_destination_rate_delay = %ds\n"
                "%s_destination_recipient_limit = %d\n",
                regions[i], rate, snap == NULL ? " (no state: sandbox "
                "default)" : "", tname, conc, tname, delay, tname,
                SG_SES_MAX_RECIPIENTS);
    }
    if (close_out(fp, dir, "main.cf.snippet") != 0)
        status = CTL_EXIT_IOERR;
out:
    if (map != NULL)
        fclose(map);
    sg_snap_free(snap);
    sg_state_close(st);
    sg_awscred_clear(&cred);
    return status;
}
