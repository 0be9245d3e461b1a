/*
 * ctl_lint.c - sesgatectl lint, dns and policy-test
 *
 *   lint [--json] [--no-dns] [--zone FILE]
 *       the cross-region account doctor (lint.h): one line per finding,
 *       "LEVEL RULE REGION IDENTITY OBJECT: TEXT; fix: FIX" ("-" for an
 *       empty field), or a JSON document; exit 1 when there is an error,
 *       0 otherwise. DNS questions go to the system resolver, to a zone
 *       file (--zone, the syntax "sesgatectl dns" prints) or nowhere
 *       (--no-dns).
 *   dns DOMAIN
 *       the records DOMAIN needs in every region, in zone-file syntax.
 *   policy-test --identity ARN --principal P --from ADDR --rcpt ADDR ...
 *       [--source-ip IP] [--policy FILE ...] [--feedback ADDR]
 *       [--time WHEN] [--sasl-user U]
 *       evaluates the identity's sending authorization policies (the
 *       state's, or the files given) for one request; exit 0 allowed,
 *       77 denied (as check), 64 usage, 65 bad policy file, 78 state.
 */

/* System headers. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "addr.h"
#include "authz.h"
#include "conf.h"
#include "lint.h"
#include "state.h"
#include "ctl.h"

/* ---- DNS for lint: the system resolver or a zone file. ---- */

/* lower_host - lower case, no trailing dot, in place */
static void
lower_host(char *s)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++)
        if (s[n] >= 'A' && s[n] <= 'Z')
            s[n] = (char)(s[n] - 'A' + 'a');
    if (n > 0 && s[n - 1] == '.')
        s[n - 1] = '\0';
}

/* get16 - a big-endian 16-bit field */
static unsigned
get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/*
 * sys_dns - ask the system resolver (res_query); the answer is parsed
 *   here with dn_expand/dn_skipname, which libc has, so that sesgatectl
 *   needs no libresolv
 */
static int
sys_dns(const char *name, enum sg_lint_rr type, char (*out)[256],
        size_t max, void *arg)
{
    unsigned char ans[8192];
    char host[1025];
    const unsigned char *p, *end, *rd;
    unsigned qd, an, rtype, rdlen, i;
    int len, k, n = 0;
    size_t o;

    (void)arg;
    len = res_query(name, C_IN, (int)type, ans, sizeof(ans));
    if (len < 0)
        return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? 0 : -1;
    if (len < 12 || len > (int)sizeof(ans))
        return -1;
    end = ans + len;
    qd = get16(ans + 4);
    an = get16(ans + 6);
    p = ans + 12;
    for (i = 0; i < qd; i++) {
        if ((k = dn_skipname(p, end)) < 0 || p + k + 4 > end)
            return -1;
        p += k + 4;
    }
    for (i = 0; i < an && (size_t)n < max; i++) {
        if ((k = dn_skipname(p, end)) < 0 || p + k + 10 > end)
            return -1;
        p += k;
        rtype = get16(p);
        rdlen = get16(p + 8);
        rd = p + 10;
        if (rd + rdlen > end)
            return -1;
        p = rd + rdlen;
        if (rtype != (unsigned)type)
            continue;
        if (type == SG_LINT_MX) {
            if (rdlen < 3 || dn_expand(ans, end, rd + 2, host,
                                       sizeof(host)) < 0)
                continue;
            lower_host(host);
            snprintf(out[n++], 256, "%u %s", get16(rd), host);
        } else if (type == SG_LINT_CNAME) {
            if (dn_expand(ans, end, rd, host, sizeof(host)) < 0)
                continue;
            lower_host(host);
            snprintf(out[n++], 256, "%s", host);
        } else {
            /* TXT: the character strings joined. */
            for (o = 0, k = 0; k < (int)rdlen;) {
                int sl = rd[k++];

                for (; sl > 0 && k < (int)rdlen; sl--, k++)
                    if (o < 255)
                        out[n][o++] = (char)rd[k];
            }
            out[n++][o] = '\0';
        }
    }
    return n;
}

/* A zone file loaded for --zone: "NAME [TTL] [IN] TYPE VALUE" lines. */
struct zone_rr {
    char name[256];
    int type;
    char value[256];
};

struct zone {
    struct zone_rr *rr;
    size_t n;
};

/* zone_type - "MX" etc. to the type number, 0 unknown */
static int
zone_type(const char *s)
{
    if (strcasecmp(s, "MX") == 0)
        return SG_LINT_MX;
    if (strcasecmp(s, "CNAME") == 0)
        return SG_LINT_CNAME;
    if (strcasecmp(s, "TXT") == 0)
        return SG_LINT_TXT;
    return 0;
}

/* zone_load - read a zone file (only what lint asks for is kept) */
static int
zone_load(const char *path, struct zone *z)
{
    char line[2048], *tok, *save = NULL, *rest, *name, *p;
    struct zone_rr *rr;
    FILE *fp;
    int type, lineno = 0;
    size_t cap = 0;

    memset(z, 0, sizeof(*z));
    if ((fp = fopen(path, "r")) == NULL) {
        ctl_error("%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        if ((p = strchr(line, ';')) != NULL && strchr(line, '"') == NULL)
            *p = '\0';
        if ((name = strtok_r(line, " \t\r\n", &save)) == NULL
            || name[0] == '$')
            continue;
        type = 0;
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
            if ((type = zone_type(tok)) != 0)
                break;
        if (type == 0)
            continue;
        rest = save;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        rest[strcspn(rest, "\r\n")] = '\0';
        if (z->n == cap) {
            cap = cap ? cap * 2 : 64;
            if (cap > 100000 || (rr = realloc(z->rr, cap * sizeof(*rr)))
                == NULL) {
                fclose(fp);
                ctl_error("%s:%d: too many records", path, lineno);
                return -1;
            }
            z->rr = rr;
        }
        rr = &z->rr[z->n++];
        snprintf(rr->name, sizeof(rr->name), "%s", name);
        lower_host(rr->name);
        rr->type = type;
        if (type == SG_LINT_TXT) {
            /* Quoted strings joined. */
            size_t o = 0;
            int inq = 0;

            for (p = rest; *p != '\0' && o < sizeof(rr->value) - 1; p++) {
                if (*p == '"')
                    inq = !inq;
                else if (inq)
                    rr->value[o++] = *p;
            }
            rr->value[o] = '\0';
        } else {
            snprintf(rr->value, sizeof(rr->value), "%s", rest);
            lower_host(rr->value);
        }
    }
    fclose(fp);
    return 0;
}

/* zone_dns - answer from the zone file */
static int
zone_dns(const char *name, enum sg_lint_rr type, char (*out)[256],
         size_t max, void *arg)
{
    const struct zone *z = arg;
    char want[256];
    size_t i;
    int n = 0;

    snprintf(want, sizeof(want), "%s", name);
    lower_host(want);
    for (i = 0; i < z->n && (size_t)n < max; i++)
        if (z->rr[i].type == (int)type && strcmp(z->rr[i].name, want) == 0)
            snprintf(out[n++], 256, "%s", z->rr[i].value);
    return n;
}

/* ---- lint ---- */

/* lint_usage - help text of lint */
static void
lint_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] lint [--json] [--no-dns] [--zone FILE]\n"
            "\n"
            "Checks the state and the configuration across regions for\n"
            "the mistakes that make SES refuse or lose mail (R1, R2, R6,\n"
            "R7, R8, R9, R10, R11). One line per finding:\n"
            "  LEVEL RULE REGION IDENTITY OBJECT: TEXT; fix: FIX\n"
            "--json prints one JSON document instead. DNS records are\n"
            "looked up with the system resolver, read from a zone file\n"
            "(--zone) or skipped (--no-dns).\n"
            "\n"
            "Exit status: 1 when there is an error, 0 otherwise; 64\n"
            "usage, 78 configuration or state error.\n", CTL_PROG);
}

/* field - a finding field for the text form ("-" when empty) */
static void
field(const char *s)
{
    if (s == NULL || *s == '\0')
        fputs("-", stdout);
    else
        ctl_put_safe(s, stdout);
}

/* json_out - a JSON string */
static void
json_out(const char *s)
{
    const unsigned char *p;

    putchar('"');
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

struct lint_print {
    int json;
    int n;
};

/* print_finding - one finding, text or JSON */
static void
print_finding(const struct sg_lint_finding *f, void *arg)
{
    struct lint_print *lp = arg;

    if (lp->json) {
        printf("%s\n    {\"level\": ", lp->n++ ? "," : "");
        json_out(sg_lint_level_name(f->level));
        printf(", \"rule\": ");
        json_out(f->rule);
        printf(", \"region\": ");
        json_out(f->region);
        printf(", \"identity\": ");
        json_out(f->identity);
        printf(",\n     \"object\": ");
        json_out(f->object);
        printf(",\n     \"text\": ");
        json_out(f->text);
        printf(",\n     \"fix\": ");
        json_out(f->fix);
        putchar('}');
        return;
    }
    lp->n++;
    printf("%s %s ", sg_lint_level_name(f->level), f->rule);
    field(f->region);
    putchar(' ');
    field(f->identity);
    putchar(' ');
    field(f->object);
    fputs(": ", stdout);
    ctl_put_safe(f->text, stdout);
    if (f->fix[0] != '\0') {
        fputs("; fix: ", stdout);
        ctl_put_safe(f->fix, stdout);
    }
    putchar('\n');
}

/* ctl_cmd_lint - the cross-region account doctor */
int
ctl_cmd_lint(struct ctl_ctx *ctx, int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_NODNS, OPT_ZONE };
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "json", no_argument, NULL, OPT_JSON },
        { "no-dns", no_argument, NULL, OPT_NODNS },
        { "zone", required_argument, NULL, OPT_ZONE },
        { NULL, 0, NULL, 0 }
    };
    struct sg_lint_opts opts;
    struct lint_print lp;
    struct zone zone;
    const char *zpath = NULL;
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    int counts[3] = { 0, 0, 0 };
    int nodns = 0, status, ch;
    SG_STATUS s;

    memset(&lp, 0, sizeof(lp));
    memset(&zone, 0, sizeof(zone));
    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            lint_usage(stdout);
            return SG_EXIT_OK;
        case OPT_JSON:
            lp.json = 1;
            break;
        case OPT_NODNS:
            nodns = 1;
            break;
        case OPT_ZONE:
            zpath = optarg;
            break;
        default:
            return ctl_option_error("lint", ch, argv);
        }
    }
    if (optind != argc)
        return ctl_usage_error("lint", "unexpected argument '%s'",
                               argv[optind]);
    if (nodns && zpath != NULL)
        return ctl_usage_error("lint", "--no-dns and --zone exclude each "
                               "other");
    if ((status = ctl_open_snap(ctx, &st, &snap)) != 0)
        goto out;
    memset(&opts, 0, sizeof(opts));
    opts.delegations = ctx->conf->delegations;
    if (zpath != NULL) {
        if (zone_load(zpath, &zone) != 0) {
            status = CTL_EXIT_DATAERR;
            goto out;
        }
        opts.dns = zone_dns;
        opts.dns_arg = &zone;
    } else if (!nodns) {
        opts.dns = sys_dns;
    }
    if (lp.json)
        printf("{\n  \"findings\": [");
    s = sg_lint_run(ctx->conf, snap, &opts, print_finding, &lp, counts);
    if (lp.json)
        printf("%s  ],\n  \"errors\": %d, \"warnings\": %d, \"infos\": %d\n"
               "}\n", lp.n ? "\n" : "", counts[SG_LINT_ERROR],
               counts[SG_LINT_WARNING], counts[SG_LINT_INFO]);
    else
        printf("# %d error(s), %d warning(s), %d info\n",
               counts[SG_LINT_ERROR], counts[SG_LINT_WARNING],
               counts[SG_LINT_INFO]);
    if (s != SG_OK) {
        ctl_error("lint: %s: %s", sg_strerror(s), sg_snap_error(snap));
        status = ctl_status_exit(s);
        goto out;
    }
    status = counts[SG_LINT_ERROR] > 0 ? 1 : SG_EXIT_OK;
out:
    free(zone.rr);
    if (snap != NULL)
        sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    return status;
}

/* ---- dns ---- */

/* print_line - one zone-file line */
static void
print_line(const char *line, void *arg)
{
    (void)arg;
    ctl_put_safe(line, stdout);
    putchar('\n');
}

/* ctl_cmd_dns - the records a domain needs, zone-file syntax */
int
ctl_cmd_dns(struct ctl_ctx *ctx, int argc, char **argv)
{
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    char domain[256];
    int status, n = 0;
    SG_STATUS s;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0
                      || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: %s [-c CONF] dns DOMAIN\n"
               "\n"
               "Prints, in zone-file syntax, every record DOMAIN needs in\n"
               "every region: the three DKIM CNAMEs per region (with the\n"
               "identity's SigningHostedZone), the custom MAIL FROM MX and\n"
               "SPF, and the inbound MX where a receipt rule set receives\n"
               "it. Exit 0, or 77 when no region has an identity for it.\n",
               CTL_PROG);
        return SG_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_error("dns", "expected one DOMAIN");
    if (sg_addr_domain_to_ascii_buf(argv[1], strlen(argv[1]), domain,
                                    sizeof(domain)) == NULL)
        return ctl_usage_error("dns", "'%s' is not a domain", argv[1]);
    if ((status = ctl_open_snap(ctx, &st, &snap)) != 0)
        goto out;
    s = sg_lint_dns_records(ctx->conf, snap, domain, print_line, NULL, &n);
    if (s == SG_ERR_NOTFOUND) {
        ctl_error("dns: no region has an identity %s", domain);
        status = SG_EXIT_NOPERM;
    } else if (s != SG_OK) {
        ctl_error("dns: %s: %s", sg_strerror(s), sg_snap_error(snap));
        status = ctl_status_exit(s);
    } else {
        status = SG_EXIT_OK;
    }
out:
    if (snap != NULL)
        sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    return status;
}

/* ---- policy-test ---- */

/* policy_usage - help text of policy-test */
static void
policy_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] policy-test --identity ARN "
            "(--principal P | --sasl-user U | --client-addr IP)\n"
            "           --from ADDR --rcpt ADDR [--rcpt ADDR ...] "
            "[--source-ip IP]\n"
            "           [--feedback ADDR] [--time WHEN] "
            "[--policy FILE ...]\n"
            "\n"
            "Evaluates the identity's sending authorization policies for\n"
            "one message sent over SMTP (action ses:SendRawEmail, API\n"
            "version 2), as SES would: an explicit Deny wins, then an\n"
            "Allow, else the request is refused. The policies come from\n"
            "the state (the identity's Policies, in the ARN's region)\n"
            "unless --policy files are given. --from may carry a display\n"
            "name ('\"Sales\" <sales@example.com>'). --sasl-user and\n"
            "--client-addr (both may be given) take the principal from the\n"
            "delegations file's principal lines, as the daemons do: the\n"
            "SASL user's line, else the first client:CIDR line holding the\n"
            "address. --client-addr is also aws:SourceIp unless --source-ip\n"
            "is given.\n"
            "\n"
            "Output: 'result: ALLOW' or 'result: REJECT 554 5.7.1 Access\n"
            "denied: ...', then explanations starting with '#'.\n"
            "Exit status: 0 allowed, 77 denied, 64 usage, 65 bad policy\n"
            "file, 78 configuration or state error.\n", CTL_PROG);
}

/* read_policy - a policy file into memory (bounded) */
static char *
read_policy(const char *path, size_t *len)
{
    FILE *fp;
    char *buf;
    size_t n;

    if ((fp = fopen(path, "r")) == NULL) {
        ctl_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    if ((buf = malloc(SG_AUTHZ_POLICY_MAX + 1)) == NULL) {
        fclose(fp);
        ctl_error("out of memory");
        return NULL;
    }
    n = fread(buf, 1, SG_AUTHZ_POLICY_MAX + 1, fp);
    fclose(fp);
    if (n > SG_AUTHZ_POLICY_MAX) {
        ctl_error("%s: larger than %d bytes", path, SG_AUTHZ_POLICY_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ctl_cmd_policy_test - evaluate identity policies for one request */
int
ctl_cmd_policy_test(struct ctl_ctx *ctx, int argc, char **argv)
{
    enum { OPT_ID = 256, OPT_PRIN, OPT_SASL, OPT_FROM, OPT_RCPT, OPT_IP,
           OPT_POLICY, OPT_FEEDBACK, OPT_TIME, OPT_CLIENT };
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "identity", required_argument, NULL, OPT_ID },
        { "principal", required_argument, NULL, OPT_PRIN },
        { "sasl-user", required_argument, NULL, OPT_SASL },
        { "client-addr", required_argument, NULL, OPT_CLIENT },
        { "from", required_argument, NULL, OPT_FROM },
        { "rcpt", required_argument, NULL, OPT_RCPT },
        { "source-ip", required_argument, NULL, OPT_IP },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "feedback", required_argument, NULL, OPT_FEEDBACK },
        { "time", required_argument, NULL, OPT_TIME },
        { NULL, 0, NULL, 0 }
    };
    struct sg_authz_policy pol[SG_AUTHZ_POLICIES_MAX];
    const char *files[SG_AUTHZ_POLICIES_MAX];
    struct sg_authz_req req;
    struct sg_authz_result res;
    struct sg_addr from;
    struct sg_arn arn;
    const char **rcpts = NULL;
    const char *sasl = NULL, *client = NULL, *from_arg = NULL;
    char *json = NULL, err[512], *p;
    char display[SG_DISPLAY_MAX + 1];
    SG_DELEG *dl = NULL;
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    size_t nrcpt = 0, nfiles = 0, i, n = 0, len;
    int status = SG_EXIT_OK, ch;
    SG_STATUS s;

    memset(&req, 0, sizeof(req));
    memset(pol, 0, sizeof(pol));
    if ((rcpts = calloc((size_t)argc + 1, sizeof(*rcpts))) == NULL) {
        ctl_error("out of memory");
        return SG_EXIT_SOFTWARE;
    }
    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            policy_usage(stdout);
            free(rcpts);
            return SG_EXIT_OK;
        case OPT_ID:
            req.resource = optarg;
            break;
        case OPT_PRIN:
            req.principal = optarg;
            break;
        case OPT_SASL:
            sasl = optarg;
            break;
        case OPT_CLIENT:
            client = optarg;
            break;
        case OPT_FROM:
            from_arg = optarg;
            break;
        case OPT_RCPT:
            rcpts[nrcpt++] = optarg;
            break;
        case OPT_IP:
            req.source_ip = optarg;
            break;
        case OPT_FEEDBACK:
            req.feedback_address = optarg;
            break;
        case OPT_TIME:
            if (sg_authz_parse_time(optarg, &req.now) != 0) {
                free(rcpts);
                return ctl_usage_error("policy-test", "bad --time '%s': "
                                       "expected ISO 8601 or epoch seconds",
                                       optarg);
            }
            break;
        case OPT_POLICY:
            if (nfiles == SG_AUTHZ_POLICIES_MAX) {
                free(rcpts);
                return ctl_usage_error("policy-test", "at most %d "
                                       "--policy files",
                                       SG_AUTHZ_POLICIES_MAX);
            }
            files[nfiles++] = optarg;
            break;
        default:
            free(rcpts);
            return ctl_option_error("policy-test", ch, argv);
        }
    }
    if (optind != argc) {
        free(rcpts);
        return ctl_usage_error("policy-test", "unexpected argument '%s'",
                               argv[optind]);
    }
    if (req.resource == NULL || sg_authz_parse_arn(req.resource, &arn)
        != 0) {
        free(rcpts);
        return ctl_usage_error("policy-test", "--identity needs an SES "
                               "identity ARN (arn:aws:ses:REGION:ACCOUNT:"
                               "identity/NAME)");
    }
    if ((req.principal == NULL) == (sasl == NULL && client == NULL)) {
        free(rcpts);
        return ctl_usage_error("policy-test", "give --principal, or "
                               "--sasl-user and/or --client-addr");
    }
    if (from_arg == NULL || nrcpt == 0) {
        free(rcpts);
        return ctl_usage_error("policy-test", "--from and at least one "
                               "--rcpt are required");
    }
    if (client != NULL) {
        unsigned char ip[sizeof(struct in6_addr)];

        if (inet_pton(AF_INET, client, ip) != 1
            && inet_pton(AF_INET6, client, ip) != 1) {
            free(rcpts);
            return ctl_usage_error("policy-test", "bad --client-addr '%s': "
                                   "expected an IPv4 or IPv6 address",
                                   client);
        }
    }
    if (sg_addr_parse_header(from_arg, strlen(from_arg), &from, 1, &n)
        != SG_ADDR_OK || n != 1) {
        free(rcpts);
        return ctl_usage_error("policy-test", "bad --from '%s'", from_arg);
    }
    req.from_address = from.addr;
    req.from_display = sg_authz_display_name(from.display, display,
                                             sizeof(display));
    req.recipients = rcpts;
    req.nrecipients = nrcpt;
    if (req.feedback_address == NULL)
        req.feedback_address = from.addr;
    if (req.source_ip == NULL)
        req.source_ip = client;

    if ((status = ctl_load_conf(ctx)) != 0)
        goto out;
    if (sasl != NULL || client != NULL) {
        if (ctx->conf->delegations[0] == '\0') {
            ctl_error("policy-test: --%s needs a delegations file with "
                      "principal lines (delegations = ...)",
                      sasl != NULL ? "sasl-user" : "client-addr");
            status = SG_EXIT_CONFIG;
            goto out;
        }
        if ((dl = sg_deleg_load(ctx->conf->delegations, err,
                                sizeof(err))) == NULL) {
            ctl_error("%s", err);
            status = SG_EXIT_CONFIG;
            goto out;
        }
        if ((req.principal = sg_deleg_principal_for(dl, sasl, client))
            == NULL) {
            ctl_error("policy-test: no principal line for %s%s%s%s%s%s in "
                      "%s", sasl != NULL ? "SASL user '" : "",
                      sasl != NULL ? sasl : "", sasl != NULL ? "'" : "",
                      sasl != NULL && client != NULL ? " or " : "",
                      client != NULL ? "client address " : "",
                      client != NULL ? client : "", ctx->conf->delegations);
            status = SG_EXIT_CONFIG;
            goto out;
        }
    }
    if (nfiles > 0) {
        for (i = 0; i < nfiles; i++) {
            if ((p = read_policy(files[i], &len)) == NULL) {
                status = CTL_EXIT_DATAERR;
                goto out;
            }
            pol[i].name = files[i];
            pol[i].doc = p;
            pol[i].len = len;
        }
        s = sg_authz_eval(pol, nfiles, &req, &res);
    } else {
        if ((status = ctl_open_snap(ctx, &st, &snap)) != 0)
            goto out;
        s = sg_snap_identity_json(snap, arn.region, arn.name, &json, &len);
        if (s == SG_ERR_NOTFOUND) {
            ctl_error("policy-test: no identity %s in region %s in the "
                      "state (give --policy FILE)", arn.name, arn.region);
            status = SG_EXIT_CONFIG;
            goto out;
        }
        if (s != SG_OK) {
            ctl_error("cannot read the state: %s", sg_snap_error(snap));
            status = SG_EXIT_CONFIG;
            goto out;
        }
        s = sg_authz_eval_identity(json, len, &req, &res);
    }
    if (s != SG_OK) {
        ctl_error("policy-test: %s", sg_strerror(s));
        status = ctl_status_exit(s);
        goto out;
    }
    if (res.allowed) {
        printf("result: ALLOW\n");
    } else {
        printf("result: REJECT 554 5.7.1 ");
        ctl_put_safe(res.text, stdout);
        putchar('\n');
    }
    printf("# ");
    ctl_put_safe(res.why, stdout);
    putchar('\n');
    printf("# principal %s, action %s, resource %s\n", req.principal,
           SG_AUTHZ_SMTP_ACTION, req.resource);
    if (res.nproblems > 0) {
        printf("# %d problem(s), those statements were skipped: ",
               res.nproblems);
        ctl_put_safe(res.problems, stdout);
        putchar('\n');
    }
    /* A policy file that is not JSON is the operator's to fix. */
    if (nfiles > 0 && strstr(res.problems, ": not JSON") != NULL)
        status = CTL_EXIT_DATAERR;
    if (status == SG_EXIT_OK)
        status = res.allowed ? SG_EXIT_OK : SG_EXIT_NOPERM;
out:
    for (i = 0; i < nfiles; i++)
        free((char *)pol[i].doc);
    free(json);
    sg_deleg_free(dl);
    if (snap != NULL)
        sg_snap_end(snap);
    sg_snap_free(snap);
    sg_state_close(st);
    free(rcpts);
    return status;
}
