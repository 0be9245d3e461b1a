/*
 * ctl_check.c - sesgatectl check: dry run of the decision
 *
 * Builds a struct sg_msg from the command line, opens the state
 * read-only, runs sg_decide and prints DESIGN.md's contract:
 *     rcpt ADDR: VERDICT          one line per --rcpt, in order, ADDR
 *                                 exactly as typed
 *     message: VERDICT
 *     # ...                       explanations
 * VERDICT is "ACCEPT", "DEFER CODE ENHANCED TEXT" or "REJECT CODE
 * ENHANCED TEXT". Exit 0 when the message would be relayed to at least
 * one recipient, 75 when deferred, 77 when refused, 64 for usage, 78
 * for configuration or state errors. Nothing is consumed: the store is
 * opened read-only, and the quota engine (quota_backend) is only
 * peeked at, so a region whose quota or rate is spent shows SES's
 * deferral. When the quota counters cannot be opened, check warns and
 * falls back to the snapshot's figures. With aws_account_id set, the
 * identity-owner policies (R8) are evaluated for --principal, or for
 * the principal the delegations file maps --sasl-user/--client-addr to.
 */

/* System headers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "addr.h"
#include "conf.h"
#include "region.h"
#include "state.h"
#include "quota.h"
#include "authz.h"
#include "decide.h"
#include "ctl.h"

/* check_usage - help text of check */
static void
check_usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] check --from ADDR --rcpt ADDR "
            "[--rcpt ADDR ...]\n"
            "           [--header-from VALUE] [--sender VALUE] "
            "[--return-path VALUE]\n"
            "           [--sasl-user USER] [--client-addr IP] "
            "[--principal P]\n"
            "           [--region R] [--size BYTES] "
            "[--configuration-set NAME]\n"
            "\n"
            "Dry run of the decision for one message, without consuming\n"
            "quota (the quota counters are only peeked at, so a spent\n"
            "rate or daily quota shows as SES's 454 deferral).\n"
            "--from '<>' is the null sender. Header values are\n"
            "given as they would appear after the header name, so\n"
            "display names and several mailboxes work:\n"
            "  --header-from '\"Alice\" <alice@example.org>, "
            "bob@example.com'\n"
            "Without --region the region comes from sender_region_map\n"
            "and default_region.\n"
            "With aws_account_id set, the identity policies of this\n"
            "account's sender identities are evaluated (R8) for the\n"
            "principal given by --principal (account id or IAM ARN) or\n"
            "mapped from --sasl-user / --client-addr by the delegations\n"
            "file's principal lines; --client-addr is aws:SourceIp.\n"
            "\n"
            "Output: one 'rcpt ADDR: VERDICT' line per recipient, then\n"
            "'message: VERDICT', then explanations starting with '#'.\n"
            "VERDICT is ACCEPT, DEFER CODE ENHANCED TEXT or REJECT CODE\n"
            "ENHANCED TEXT.\n"
            "\n"
            "Exit status: 0 relayed to at least one recipient, 75\n"
            "deferred, 77 refused, 64 usage, 78 configuration or state\n"
            "error.\n",
            CTL_PROG);
}

/* parse_size - a non-negative decimal byte count */
static int
parse_size(const char *s, long long *out)
{
    char *end;
    long long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* print_verdict - "ACCEPT" or "ACTION CODE ENHANCED TEXT" */
static void
print_verdict(const struct sg_verdict *v)
{
    if (v->action == SG_ACCEPT) {
        printf("ACCEPT\n");
        return;
    }
    printf("%s %d ", sg_action_name(v->action), v->code);
    ctl_put_safe(v->enhanced, stdout);
    putchar(' ');
    ctl_put_safe(v->text, stdout);
    putchar('\n');
}

/* print_why - "# WHAT: RULE: WHY" (rule only when the text lacks it) */
static void
print_why(const char *what, const char *addr, const struct sg_verdict *v)
{
    const char *why = v->why[0] != '\0' ? v->why : v->text;
    size_t rlen;

    printf("# %s", what);
    if (addr != NULL) {
        putchar(' ');
        ctl_put_safe(addr, stdout);
    }
    printf(": ");
    /* decide.c starts its explanations with the rule ("R5: ..."); add
     * it only where it is missing. */
    if (v->rule != NULL && v->rule[0] != '\0') {
        rlen = strlen(v->rule);
        if (strncmp(why, v->rule, rlen) != 0)
            printf("%s: ", v->rule);
    }
    if (why[0] == '\0')
        why = v->action == SG_ACCEPT ? "accepted" : "refused";
    ctl_put_safe(why, stdout);
    putchar('\n');
}

/* print_region - "# region: NAME (explicit|map|default)" */
static void
print_region(const SG_CONF *conf, const struct sg_msg *msg,
             const struct sg_decision *d)
{
    const struct sg_region *r = d->region;
    const struct sg_region *resolved;
    const char *how = NULL;
    struct sg_addr a;
    int is_null = 0;

    if (msg->region != NULL) {
        how = "explicit";
    } else {
        if (sg_addr_parse_path(msg->env_from, &a, &is_null) != SG_ADDR_OK)
            a.addr[0] = '\0';
        resolved = sg_region_resolve(NULL, conf->map, a.addr,
                                     conf->default_region, &how);
        if (r == NULL)
            r = resolved;
    }
    if (r == NULL)
        printf("# region: none (no sender_region_map entry and no "
               "default_region)\n");
    else
        printf("# region: %s (%s)\n", r->name,
               how != NULL ? how : "unknown");
}

/* check_exit - the exit status for a decision */
static int
check_exit(const struct sg_decision *d)
{
    size_t i;

    switch (d->message.action) {
    case SG_ACCEPT:
        if (d->relayed > 0)
            return SG_EXIT_OK;
        /* Accepted but relayed to nobody should not happen (decide.h:
         * the message then takes a recipient's refusal); be safe. */
        for (i = 0; i < d->nrcpt; i++)
            if (d->rcpt[i].action == SG_DEFER)
                return SG_EXIT_TEMPFAIL;
        return SG_EXIT_NOPERM;
    case SG_DEFER:
        return SG_EXIT_TEMPFAIL;
    case SG_REJECT:
        break;
    }
    return SG_EXIT_NOPERM;
}

/* ctl_cmd_check - dry run of the decision for one message */
int
ctl_cmd_check(struct ctl_ctx *ctx, int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_RCPT, OPT_HFROM, OPT_SENDER, OPT_RPATH,
           OPT_SASL, OPT_CLIENT, OPT_REGION, OPT_SIZE, OPT_CSET,
           OPT_PRINCIPAL };
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "from", required_argument, NULL, OPT_FROM },
        { "rcpt", required_argument, NULL, OPT_RCPT },
        { "header-from", required_argument, NULL, OPT_HFROM },
        { "sender", required_argument, NULL, OPT_SENDER },
        { "return-path", required_argument, NULL, OPT_RPATH },
        { "sasl-user", required_argument, NULL, OPT_SASL },
        { "client-addr", required_argument, NULL, OPT_CLIENT },
        { "region", required_argument, NULL, OPT_REGION },
        { "size", required_argument, NULL, OPT_SIZE },
        { "configuration-set", required_argument, NULL, OPT_CSET },
        { "principal", required_argument, NULL, OPT_PRINCIPAL },
        { NULL, 0, NULL, 0 }
    };
    struct sg_decision d;
    struct sg_msg msg;
    const char **rcpts;
    SG_STATE *st = NULL;
    SG_SNAP *snap = NULL;
    SG_QUOTA *q = NULL;
    char qerr[512];
    SG_STATUS s;
    size_t nrcpt = 0;
    size_t i;
    int status;
    int ch;

    memset(&msg, 0, sizeof(msg));
    msg.size = -1;
    /* Every --rcpt takes two argv slots: argc bounds the count. */
    if ((rcpts = calloc((size_t)argc + 1, sizeof(*rcpts))) == NULL) {
        ctl_error("out of memory");
        return SG_EXIT_SOFTWARE;
    }

    ctl_reset_getopt();
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            check_usage(stdout);
            free(rcpts);
            return SG_EXIT_OK;
        case OPT_FROM:
            msg.env_from = optarg;
            break;
        case OPT_RCPT:
            rcpts[nrcpt++] = optarg;
            break;
        case OPT_HFROM:
            msg.hdr_from = optarg;
            break;
        case OPT_SENDER:
            msg.hdr_sender = optarg;
            break;
        case OPT_RPATH:
            msg.hdr_return_path = optarg;
            break;
        case OPT_SASL:
            msg.sasl_user = optarg;
            break;
        case OPT_CLIENT:
            msg.client_addr = optarg;
            break;
        case OPT_REGION:
            msg.region = optarg;
            break;
        case OPT_SIZE:
            if (parse_size(optarg, &msg.size) != 0) {
                free(rcpts);
                return ctl_usage_error("check", "bad --size '%s': "
                                       "expected a number of bytes",
                                       optarg);
            }
            break;
        case OPT_CSET:
            msg.config_set = optarg;
            break;
        case OPT_PRINCIPAL:
            if (!sg_authz_is_account_id(optarg)
                && strncmp(optarg, "arn:", 4) != 0) {
                free(rcpts);
                return ctl_usage_error("check", "bad --principal '%s': "
                                       "expected an account id or an ARN",
                                       optarg);
            }
            msg.principal = optarg;
            break;
        default:
            free(rcpts);
            return ctl_option_error("check", ch, argv);
        }
    }
    if (optind != argc) {
        free(rcpts);
        return ctl_usage_error("check", "unexpected argument '%s'",
                               argv[optind]);
    }
    if (msg.env_from == NULL) {
        free(rcpts);
        return ctl_usage_error("check", "--from is required "
                               "(--from '<>' for the null sender)");
    }
    if (nrcpt == 0) {
        free(rcpts);
        return ctl_usage_error("check", "at least one --rcpt is required");
    }
    if (msg.region != NULL && sg_region_lookup(msg.region) == NULL) {
        free(rcpts);
        return ctl_usage_error("check", "unknown SES region '%s'",
                               msg.region);
    }
    msg.rcpts = rcpts;
    msg.nrcpt = nrcpt;
    msg.explain = 1;            /* check explains every verdict */

    if ((status = ctl_load_conf(ctx)) != 0)
        goto out;
    if (msg.principal != NULL && ctx->conf->aws_account_id[0] == '\0')
        ctl_error("warning: aws_account_id is not set: identity policies "
                  "are not evaluated for --principal");
    if ((status = ctl_open_snap(ctx, &st, &snap)) != 0)
        goto out;
    if ((q = sg_quota_open(ctx->conf, qerr, sizeof(qerr))) == NULL)
        ctl_error("warning: cannot open the quota counters (%s): using "
                  "the snapshot's figures", qerr);
    msg.quota = q;
    memset(&d, 0, sizeof(d));
    s = sg_decide(ctx->conf, snap, &msg, &d);
    if (s != SG_OK && q != NULL && sg_status_is_retryable(s)) {
        /* The quota engine failed mid-way: say so, decide without. */
        ctl_error("warning: quota: %s: using the snapshot's figures",
                  sg_quota_error(q));
        msg.quota = NULL;
        s = sg_decide(ctx->conf, snap, &msg, &d);
    }
    if (s != SG_OK) {
        ctl_error("cannot decide: %s: %s", sg_strerror(s),
                  sg_snap_error(snap));
        sg_decision_clear(&d);
        sg_snap_end(snap);
        status = SG_EXIT_CONFIG;
        goto out;
    }
    if (d.nrcpt != nrcpt || (nrcpt > 0 && d.rcpt == NULL)) {
        ctl_error("internal error: %zu verdicts for %zu recipients",
                  d.nrcpt, nrcpt);
        sg_decision_clear(&d);
        sg_snap_end(snap);
        status = SG_EXIT_SOFTWARE;
        goto out;
    }

    for (i = 0; i < nrcpt; i++) {
        printf("rcpt ");
        ctl_put_safe(rcpts[i], stdout);
        printf(": ");
        print_verdict(&d.rcpt[i]);
    }
    printf("message: ");
    print_verdict(&d.message);
    print_region(ctx->conf, &msg, &d);
    for (i = 0; i < nrcpt; i++)
        print_why("rcpt", rcpts[i], &d.rcpt[i]);
    print_why("message", NULL, &d.message);
    status = check_exit(&d);
    sg_decision_clear(&d);
    sg_snap_end(snap);
out:
    sg_quota_close(q);
    sg_snap_free(snap);
    sg_state_close(st);
    free(rcpts);
    return status;
}
