/*
 * mlfi.c - the libmilter callbacks of sesgate-milter
 *
 * Protocol glue only: each callback turns what the MTA says into a call
 * of a decision stage (decide.h) and the verdict into a reply through
 * smfi_setreply. No rule lives here.
 *
 *   MAIL    region (R1), then paused sending, the envelope sender's
 *           syntax and identity (R2; skipped for the null sender), and
 *           a declared SIZE= over the limit (R4)
 *   RCPT    recipient count, sandbox, suppression, daily pre-check
 *           (R4, R3, R5), then one quota unit held for the recipient;
 *           a refusal concerns that recipient only
 *   DATA    the queue id (macro i) is known from here on
 *   header  From, Sender, Return-Path, X-SES-* collected (mlfi_util)
 *   EOH     duplicate single-instance headers, X-SES-MESSAGE-TAGS
 *           syntax, then every sender identity and the configuration
 *           set (R2, R11); when the headers bring in a delegated
 *           identity whose owner is in the sandbox (a From:-only
 *           delegation), the recipients accepted at RCPT are checked
 *           against R3 again and the message refused naming the
 *           unverified ones (R8)
 *   body    bytes counted (only when milter_count_body = yes)
 *   EOM     size (R4), then the held units committed to the quota, or
 *           454 and the message deferred; X-SES-CONFIGURATION-SET
 *           added when milter_default_config_set names one
 *   abort   the message's hold released, the message context reset
 *   close   the connection context freed (NULL tolerated)
 *
 * Contexts: one struct mlfi_conn per MTA connection (smfi_setpriv),
 * allocated lazily by the first callback that needs it, holding a
 * configuration reference and its own SG_SNAP (state.h: one snapshot
 * per thread; libmilter runs one connection on one thread at a time).
 * The message context inside it is reset by msg_reset() on every path
 * that ends a message (EOM, abort, refusal at MAIL/EOH/EOM, a new MAIL,
 * close).
 */

/* System headers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Third-party headers. */
#include <libmilter/mfapi.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "decide.h"
#include "authz.h"
#include "log.h"
#include "quota.h"
#include "state.h"
#include "metrics.h"
#include "mlfi_util.h"
#include "mlfi.h"

/* A loaded configuration, shared by connections (reference counted). */
struct mlfi_cfg {
    SG_CONF *conf;
    SG_STATE *state;
    SG_QUOTA *quota;
    SG_DELEG *deleg;            /* delegations file (R8), NULL: none */
    int count_quota;            /* quota_counted_by is any or milter */
    int refs;                   /* connections + 1 while current */
};

/* One message, from MAIL to EOM or abort. */
struct mlfi_msg {
    int active;                 /* a MAIL was accepted */
    const struct sg_region *region;
    char *env_from;             /* MAIL FROM path as given (new) */
    char *sasl_user;            /* macro {auth_authen}, NULL if none */
    struct sg_deleg_use use;    /* delegated identities (R8): from MAIL,
                                 * completed at EOH; borrowed from
                                 * cfg->deleg */
    char from[SG_ADDR_MAX + 1]; /* without brackets, for the log */
    long long declared;         /* SIZE=, -1 if absent */
    long long size;             /* bytes counted (headers + body) */
    size_t accepted;            /* recipients accepted so far */
    long long daily_units;      /* of those, non-simulator ones */
    int held;                   /* quota units are held under txn */
    char txn[SG_QUOTA_TXN_MAX + 1];
    char qid[32];               /* macro i, "" until known */
    char first_rcpt[SG_ADDR_MAX + 1];
    char added_cs[80];          /* configuration set to add, "" none */
    int eoh_refused;            /* the EOH verdict is a refusal that is
                                 * answered at EOM (SMFIP_NR_EOH) */
    char **rcpts;               /* accepted recipients (paths, new), kept
                                 * only with delegations: a From: that
                                 * turns out delegated by an owner in the
                                 * sandbox makes R3 apply to them at EOH
                                 * (recheck_sandbox) */
    size_t nrcpts;
    struct sg_verdict eoh_verdict;
    struct mlfi_hdrs hdrs;
};

/* One MTA connection. */
struct mlfi_conn {
    struct mlfi_cfg *cfg;
    SG_SNAP *snap;
    int fd;                     /* the MTA's TCP socket, -1 if unknown
                                 * or not TCP (see quickack) */
    unsigned long steps;        /* SMFIP_* negotiated */
    unsigned long id;           /* for transaction ids */
    unsigned long nmsg;
    char host[256];
    char addr[INET6_ADDRSTRLEN];
    struct mlfi_msg msg;
};

/* Names libmilter takes as char * (-Wwrite-strings). */
static char sym_i[] = "i";
static char sym_auth_authen[] = "{auth_authen}";
/* The macros asked for per step (smfi_setsymlist): what the callbacks
 * read and nothing else. libmilter refuses an empty list, so steps that
 * need none ask for "i" alone. */
static char syms_mail[] = "i {auth_authen}";
static char syms_i[] = "i";
static char hdr_config_set[] = "X-SES-CONFIGURATION-SET";
static char filter_name[] = MLFI_PROG;

/* The current configuration and its lock. */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mlfi_cfg *cfg_current;
static unsigned long conn_counter;
static char txn_host[64] = "localhost";  /* short host name, for txn */
static int tcp_port = -1;               /* our TCP port, -1: not TCP */

/*
 * The TCP delayed-ACK trap (harness-notes.md). Postfix's and Sendmail's
 * milter clients write without TCP_NODELAY, and libmilter answers
 * nothing to some packets (macros of a skipped step, ABORT, QUIT), so
 * the MTA's next small write waits for this host's delayed ACK: up to
 * 40 ms per message over TCP, none over a unix socket. The milter
 * therefore ACKs at once: TCP_QUICKACK is re-armed in every callback,
 * i.e. right after libmilter has read a command.
 *
 * libmilter has no call that returns the socket. Its context begins
 * with the thread id and the socket descriptor (struct smfi_str in
 * libmilter.h, unchanged since 8.14); the descriptor found there is
 * used only when it is a TCP socket whose local port is our listening
 * port, so a different layout turns the feature off instead of
 * touching a foreign descriptor.
 */
struct mlfi_ctx_head {
    pthread_t id;
    int sd;
};

/* mlfi_set_tcp_port - our listening TCP port (called before smfi_main) */
void
mlfi_set_tcp_port(int port)
{
    tcp_port = port;
}

/* find_fd - the MTA connection's TCP socket, or -1 */
static int
find_fd(SMFICTX *ctx)
{
    const struct mlfi_ctx_head *head = (const void *)ctx;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd, type, port, one = 1;
    socklen_t tlen = sizeof(type);

    if (tcp_port < 0 || ctx == NULL)
        return -1;
    fd = head->sd;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0
        || type != SOCK_STREAM
        || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
    else
        return -1;
    len = sizeof(ss);
    if (port != tcp_port
        || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    /* Our replies are whole packets: never hold one back either. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* quickack - ACK what the MTA sends next at once (see above) */
static void
quickack(const struct mlfi_conn *c)
{
    int one = 1;

    if (c != NULL && c->fd >= 0)
        (void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
                         sizeof(one));
}

/* cfg_free - release a configuration (last reference gone) */
static void
cfg_free(struct mlfi_cfg *cfg)
{
    if (cfg == NULL)
        return;
    sg_deleg_free(cfg->deleg);
    sg_quota_close(cfg->quota);
    sg_state_close(cfg->state);
    sg_conf_free(cfg->conf);
    free(cfg);
}

/* cfg_release - drop one reference */
static void
cfg_release(struct mlfi_cfg *cfg)
{
    int last;

    if (cfg == NULL)
        return;
    pthread_mutex_lock(&cfg_lock);
    last = --cfg->refs == 0;
    pthread_mutex_unlock(&cfg_lock);
    if (last)
        cfg_free(cfg);
}

/* mlfi_cfg_load - load a configuration and make it the current one */
int
mlfi_cfg_load(const char *path, char *err, size_t errlen)
{
    struct mlfi_cfg *cfg, *old;

    if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    err[0] = '\0';
    cfg->conf = path != NULL ? sg_conf_load(path, err, errlen)
                : sg_conf_defaults();
    if (cfg->conf == NULL) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: cannot load the configuration",
                     path != NULL ? path : "(defaults)");
        free(cfg);
        return -1;
    }
    cfg->state = sg_state_open(cfg->conf->state_dir, SG_STATE_RDONLY,
                               cfg->conf->state_max_size, err, errlen);
    if (cfg->state == NULL) {
        cfg_free(cfg);
        return -1;
    }
    if ((cfg->quota = sg_quota_open(cfg->conf, err, errlen)) == NULL) {
        cfg_free(cfg);
        return -1;
    }
    if (cfg->conf->delegations[0] != '\0'
        && (cfg->deleg = sg_deleg_load(cfg->conf->delegations, err,
                                       errlen)) == NULL) {
        cfg_free(cfg);
        return -1;
    }
    /* Milter and policy daemon on one MTA: one of them counts. */
    cfg->count_quota = strcmp(cfg->conf->quota_counted_by, "policyd") != 0;
    cfg->refs = 1;
    if (cfg_current == NULL) {
        /* First load, before any connection thread exists. */
        if (gethostname(txn_host, sizeof(txn_host) - 1) != 0)
            snprintf(txn_host, sizeof(txn_host), "localhost");
        txn_host[strcspn(txn_host, ".")] = '\0';
    }
    pthread_mutex_lock(&cfg_lock);
    old = cfg_current;
    cfg_current = cfg;
    pthread_mutex_unlock(&cfg_lock);
    cfg_release(old);
    return 0;
}

/* mlfi_cfg_conf - the current configuration's parameters */
const SG_CONF *
mlfi_cfg_conf(void)
{
    return cfg_current != NULL ? cfg_current->conf : NULL;
}

/* mlfi_cfg_shutdown - drop the current configuration */
void
mlfi_cfg_shutdown(void)
{
    struct mlfi_cfg *old;

    pthread_mutex_lock(&cfg_lock);
    old = cfg_current;
    cfg_current = NULL;
    pthread_mutex_unlock(&cfg_lock);
    cfg_release(old);
}

/* cfg_acquire - a reference to the current configuration, or NULL */
static struct mlfi_cfg *
cfg_acquire(unsigned long *id)
{
    struct mlfi_cfg *cfg;

    pthread_mutex_lock(&cfg_lock);
    cfg = cfg_current;
    if (cfg != NULL)
        cfg->refs++;
    *id = ++conn_counter;
    pthread_mutex_unlock(&cfg_lock);
    return cfg;
}

/* msg_release_hold - give back the quota units a message holds */
static void
msg_release_hold(struct mlfi_conn *c)
{
    SG_STATUS st;

    st = sg_decide_release(c->cfg->quota, c->msg.region, c->msg.txn, 0);
    if (st != SG_OK)
        sg_log(SG_LOG_WARNING, "%s: quota release of %s: %s (the engine "
               "expires the hold after quota_reservation_timeout)",
               c->msg.qid[0] ? c->msg.qid : "NOQUEUE", c->msg.txn,
               sg_strerror(st));
    c->msg.held = 0;
}

/*
 * msg_reset - end the current message: release what it holds, free
 *   its strings, zero it (the one cleanup helper, STYLE.md rule 11)
 */
static void
msg_reset(struct mlfi_conn *c)
{
    size_t i;

    if (c->msg.held)
        msg_release_hold(c);
    for (i = 0; i < c->msg.nrcpts; i++)
        free(c->msg.rcpts[i]);
    free(c->msg.rcpts);
    free(c->msg.env_from);
    free(c->msg.sasl_user);
    mlfi_hdrs_reset(&c->msg.hdrs);
    memset(&c->msg, 0, sizeof(c->msg));
}

/* conn_free - free a connection context; accepts NULL */
static void
conn_free(struct mlfi_conn *c)
{
    if (c == NULL)
        return;
    msg_reset(c);
    sg_snap_free(c->snap);
    cfg_release(c->cfg);
    free(c);
}

/* conn_get - the connection context, allocated on first use */
static struct mlfi_conn *
conn_get(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);

    if (c != NULL)
        return c;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    c->fd = find_fd(ctx);
    if ((c->cfg = cfg_acquire(&c->id)) == NULL
        || (c->snap = sg_snap_new(c->cfg->state)) == NULL) {
        conn_free(c);
        return NULL;
    }
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        conn_free(c);
        return NULL;
    }
    return c;
}

/* log_refusal - one line per refusal, in Postfix's key=value shape */
static void
log_refusal(struct mlfi_conn *c, const char *stage, const char *rcpt,
            const struct sg_verdict *v)
{
    struct mlfi_logrec r;
    char line[2048];

    memset(&r, 0, sizeof(r));
    r.queue_id = c->msg.qid;
    r.stage = stage;
    r.host = c->host;
    r.addr = c->addr;
    r.from = c->msg.from;
    r.to = rcpt != NULL ? rcpt
           : (c->msg.first_rcpt[0] != '\0' ? c->msg.first_rcpt : NULL);
    r.region = c->msg.region != NULL ? c->msg.region->name : NULL;
    r.action = v->action == SG_REJECT ? "reject" : "defer";
    mlfi_log_line_buf(&r, v, line, sizeof(line));
    sg_log(SG_LOG_INFO, "%s", line);
}

/* refuse - reply with a verdict's code and text; log it */
static sfsistat
refuse(SMFICTX *ctx, struct mlfi_conn *c, const char *stage,
       const char *rcpt, const struct sg_verdict *v)
{
    char code[8];
    char text[2 * SG_VERDICT_TEXT_MAX];

    log_refusal(c, stage, rcpt, v);
    if (strcmp(stage, "RCPT") == 0)
        sg_metrics_count(mlfi_metrics, c->msg.region != NULL
                         ? c->msg.region->name : NULL, v->rule, v->action,
                         1);
    snprintf(code, sizeof(code), "%d", v->code);
    if (mlfi_reply_text_buf(v->text, text, sizeof(text)) == NULL)
        snprintf(text, sizeof(text), "Message rejected");
    if (smfi_setreply(ctx, code, (char *)v->enhanced, text) != MI_SUCCESS)
        sg_log(SG_LOG_WARNING, "%s: smfi_setreply failed for %s %s",
               c->msg.qid[0] ? c->msg.qid : "NOQUEUE", code, v->enhanced);
    return v->action == SG_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/*
 * internal_error - a callback could not decide (state, memory, quota):
 *   on_state_error = accept lets the message through unchecked,
 *   tempfail (the default) answers 451 4.3.0
 */
static sfsistat
internal_error(SMFICTX *ctx, struct mlfi_conn *c, const char *stage,
               SG_STATUS st, const char *detail)
{
    struct sg_verdict v;
    const char *policy;

    if (c == NULL) {
        sg_log(SG_LOG_ERR, "%s: %s: out of memory or no configuration",
               MLFI_PROG, stage);
        return SMFIS_TEMPFAIL;
    }
    sg_log(SG_LOG_ERR, "%s: %s from %s[%s]: %s%s%s",
           c->msg.qid[0] ? c->msg.qid : "NOQUEUE", stage, c->host, c->addr,
           sg_strerror(st), detail != NULL ? ": " : "",
           detail != NULL ? detail : "");
    /* Quota failures follow on_quota_error, the rest on_state_error. */
    policy = detail != NULL && strncmp(detail, "quota", 5) == 0
             ? c->cfg->conf->on_quota_error : c->cfg->conf->on_state_error;
    if (strcmp(policy, "accept") == 0) {
        sg_log(SG_LOG_WARNING, "%s: accepted unchecked (on_%s_error = "
               "accept)", c->msg.qid[0] ? c->msg.qid : "NOQUEUE",
               policy == c->cfg->conf->on_quota_error ? "quota" : "state");
        msg_reset(c);
        return SMFIS_ACCEPT;
    }
    memset(&v, 0, sizeof(v));
    sg_verdict_set(&v, SG_DEFER, 451, "4.3.0", NULL,
                   "sesgate: the SES state cannot be read, try again "
                   "later");
    return refuse(ctx, c, stage, NULL, &v);
}

/* snap_begin - start a read of the state for one decision */
static SG_STATUS
snap_begin(struct mlfi_conn *c)
{
    return sg_snap_begin(c->snap);
}

/* msg_dc - who sends the message, for the delegation stages (R8);
 * NULL when no delegations are configured */
static const struct sg_deleg_ctx *
msg_dc(const struct mlfi_conn *c, struct sg_deleg_ctx *dc)
{
    if (c->cfg->deleg == NULL)
        return NULL;
    dc->dl = c->cfg->deleg;
    dc->sasl_user = c->msg.sasl_user;
    dc->sender = c->msg.env_from;
    return dc;
}

/*
 * hold_rcpt - hold one quota unit for an accepted recipient (R4; the
 *   snapshot is begun by the caller)
 *
 * The transaction id names host, process, connection and message, so
 * that it is unique on a fleet sharing a Redis quota; the queue id is
 * not known yet at the first RCPT.
 */
static SG_STATUS
hold_rcpt(struct mlfi_conn *c, const struct sg_verdict *rv,
          struct sg_verdict *v)
{
    SG_STATUS st;

    memset(v, 0, sizeof(*v));
    if (c->msg.txn[0] == '\0')
        snprintf(c->msg.txn, sizeof(c->msg.txn), "m-%.24s-%ld-%lu-%lu",
                 txn_host, (long)getpid(), c->id, c->nmsg);
    st = sg_decide_reserve(c->cfg->conf, c->snap, c->cfg->quota,
                           c->msg.region, c->msg.txn, 1,
                           rv->simulator ? 0 : 1, 0, v);
    if (st == SG_OK && v->action == SG_ACCEPT)
        c->msg.held = 1;
    return st;
}

/* commit_msg - the held units were accepted: count them as sent */
static SG_STATUS
commit_msg(struct mlfi_conn *c)
{
    SG_STATUS st = SG_OK;

    if (c->msg.held)
        st = sg_decide_commit(c->cfg->quota, c->msg.region, c->msg.txn,
                              -1, -1, 0);
    if (st == SG_OK)
        c->msg.held = 0;
    return st;
}

/* keep_rcpt - remember an accepted recipient for recheck_sandbox */
static SG_STATUS
keep_rcpt(struct mlfi_conn *c, const char *path)
{
    if (c->msg.rcpts == NULL
        && (c->msg.rcpts = calloc(SG_SES_MAX_RECIPIENTS,
                                  sizeof(*c->msg.rcpts))) == NULL)
        return SG_ERR_NOMEM;
    if (c->msg.nrcpts >= SG_SES_MAX_RECIPIENTS)
        return SG_OK;           /* max_recipients refused the rest */
    if ((c->msg.rcpts[c->msg.nrcpts] = strdup(path)) == NULL)
        return SG_ERR_NOMEM;
    c->msg.nrcpts++;
    return SG_OK;
}

/*
 * owner_policy - the identity owner's sending authorization policies
 *   (R8) for a SASL user or client that the delegations file's
 *   principal lines map to another account: every accepted recipient,
 *   the envelope sender, From: and Return-Path: (sg_decide_owner_policy).
 *   Called inside the EOH snapshot, with the recipients kept at RCPT.
 */
static SG_STATUS
owner_policy(struct mlfi_conn *c, const struct mlfi_hdrs *h,
             struct sg_verdict *v)
{
    struct sg_owner_ctx oc;

    memset(&oc, 0, sizeof(oc));
    oc.dl = c->cfg->deleg;
    oc.sasl_user = c->msg.sasl_user;
    oc.client_addr = strcmp(c->addr, "unknown") != 0 ? c->addr : NULL;
    if (sg_decide_owner_principal(c->cfg->conf, &oc) == NULL)
        return SG_OK;
    oc.sender = c->msg.env_from;
    oc.hdr_from = h->from;
    oc.hdr_return_path = h->return_path;
    oc.rcpts = (const char *const *)c->msg.rcpts;
    oc.nrcpt = c->msg.nrcpts;
    return sg_decide_owner_policy(c->cfg->conf, c->snap, c->msg.region, &oc,
                                  v);
}

/*
 * recheck_sandbox - R3 for the recipients accepted at RCPT, once the
 *   headers have shown that the message uses a delegated identity
 *   whose owner is in the sandbox (e.g. a From:-only delegation: at
 *   RCPT only the envelope sender was known). SES refuses the whole
 *   message, naming every unverified recipient; v is that refusal or
 *   stays an accept. The snapshot is begun by the caller.
 */
static SG_STATUS
recheck_sandbox(struct mlfi_conn *c, struct sg_verdict *v)
{
    struct sg_verdict rv;
    char bare[SG_ADDR_MAX + 1];
    size_t i;
    int refused = 0;
    SG_STATUS st;

    for (i = 0; i < c->msg.nrcpts; i++) {
        memset(&rv, 0, sizeof(rv));
        st = sg_decide_rcpt_ex(c->cfg->conf, c->snap, c->msg.region,
                               c->msg.rcpts[i], 0, 0, 1, &rv);
        if (st != SG_OK)
            return st;
        if (rv.action == SG_ACCEPT)
            continue;
        if (!refused++)
            *v = rv;
        else if (mlfi_path_bare_buf(c->msg.rcpts[i], bare, sizeof(bare))
                 != NULL)
            mlfi_verdict_list_add(v, bare);
    }
    return SG_OK;
}

/* mlfi_negotiate - ask only for the steps and actions that are used */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
               unsigned long f2, unsigned long f3, unsigned long *pf0,
               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct mlfi_conn *c = conn_get(ctx);
    unsigned long want;

    (void)f2;
    (void)f3;
    if (c == NULL)
        return SMFIS_ALL_OPTS;
    quickack(c);
    /* Actions: add a header only when a default set or delegations are
     * configured; change (delete) headers only for delegations: the
     * client's X-SES-*-ARN headers are removed (R8). */
    *pf0 = 0;
    if (c->cfg->conf->milter_default_config_set[0] != '\0'
        || c->cfg->deleg != NULL)
        *pf0 |= SMFIF_ADDHDRS & f0;
    if (c->cfg->deleg != NULL)
        *pf0 |= SMFIF_CHGHDRS & f0;
    /*
     * Steps not used: HELO, unknown commands and, unless the size is
     * measured here, the body. Steps without a reply: connect (nothing
     * to refuse there), headers (only collected), end of headers (its
     * refusal is answered at EOM: for the SMTP client both come after
     * the final dot anyway) and body chunks (counted; the size is
     * decided at EOM). Each reply saved is a round trip per message.
     *
     * DATA is kept, with a reply, on purpose. Over TCP the MTA Nagles:
     * a small packet that gets no reply and runs no callback (the
     * macros of a skipped step) is ACKed only by our delayed-ACK timer
     * once we have replied to something, and the MTA's next write waits
     * for that ACK, 40 ms per message (harness-notes.md). With DATA
     * negotiated its macros travel with the DATA command and our reply
     * answers both. Every packet that does run a callback is ACKed at
     * once by quickack(), so the no-reply steps above cost nothing.
     */
    want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOHREPL | SMFIP_NR_CONN
           | SMFIP_NR_EOH;
    if (!c->cfg->conf->milter_count_body)
        want |= SMFIP_NOBODY;
    else
        want |= SMFIP_NR_BODY;
    *pf1 = want & f1;
    c->steps = *pf1;
    /*
     * Macros: Postfix sends milter_*_macros for every step unless the
     * milter asks for its own list, e.g. {rcpt_addr} {rcpt_host}
     * {rcpt_mailer} for each RCPT, which smtpd resolves through
     * trivial-rewrite first, and libmilter copies them all. Ask for the
     * queue id and the SASL user only.
     */
    if (f0 & SMFIF_SETSYMLIST) {
        *pf0 |= SMFIF_SETSYMLIST;
        if (smfi_setsymlist(ctx, SMFIM_CONNECT, syms_i) != MI_SUCCESS
            || smfi_setsymlist(ctx, SMFIM_ENVFROM, syms_mail) != MI_SUCCESS
            || smfi_setsymlist(ctx, SMFIM_ENVRCPT, syms_i) != MI_SUCCESS
            || smfi_setsymlist(ctx, SMFIM_DATA, syms_i) != MI_SUCCESS
            || smfi_setsymlist(ctx, SMFIM_EOH, syms_i) != MI_SUCCESS
            || smfi_setsymlist(ctx, SMFIM_EOM, syms_i) != MI_SUCCESS)
            sg_log(SG_LOG_WARNING, "smfi_setsymlist failed: the MTA "
                   "sends its default macros");
    }
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

/* mlfi_connect - note the client's name and address for the log */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct mlfi_conn *c = conn_get(ctx);
    const void *a = NULL;

    if (c == NULL)
        return internal_error(ctx, NULL, "CONNECT", SG_ERR_NOMEM, NULL);
    quickack(c);
    snprintf(c->host, sizeof(c->host), "%s",
             hostname != NULL ? hostname : "unknown");
    if (hostaddr != NULL && hostaddr->sa_family == AF_INET)
        a = &((struct sockaddr_in *)(void *)hostaddr)->sin_addr;
    else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6)
        a = &((struct sockaddr_in6 *)(void *)hostaddr)->sin6_addr;
    if (a == NULL || inet_ntop(hostaddr->sa_family, a, c->addr,
                               sizeof(c->addr)) == NULL)
        snprintf(c->addr, sizeof(c->addr), "unknown");
    return (c->steps & SMFIP_NR_CONN) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_envfrom - MAIL FROM: region, sender, declared size */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    struct mlfi_conn *c = conn_get(ctx);
    struct sg_verdict v;
    struct sg_deleg_ctx dcbuf;
    const struct sg_deleg_ctx *dc;
    const char *qid, *user;
    SG_STATUS st;
    sfsistat rc = SMFIS_CONTINUE;

    if (c == NULL)
        return internal_error(ctx, NULL, "MAIL", SG_ERR_NOMEM, NULL);
    quickack(c);
    msg_reset(c);
    c->nmsg++;
    if (argv == NULL || argv[0] == NULL)
        return internal_error(ctx, c, "MAIL", SG_ERR_PROTO, "no sender");
    if ((c->msg.env_from = strdup(argv[0])) == NULL)
        return internal_error(ctx, c, "MAIL", SG_ERR_NOMEM, NULL);
    if (mlfi_path_bare_buf(argv[0], c->msg.from, sizeof(c->msg.from))
        == NULL)
        snprintf(c->msg.from, sizeof(c->msg.from), "%.300s...", argv[0]);
    if ((qid = smfi_getsymval(ctx, sym_i)) != NULL)
        snprintf(c->msg.qid, sizeof(c->msg.qid), "%s", qid);
    c->msg.declared = mlfi_esmtp_size(argv + 1);
    c->msg.active = 1;
    if ((user = smfi_getsymval(ctx, sym_auth_authen)) != NULL
        && user[0] != '\0' && (c->msg.sasl_user = strdup(user)) == NULL)
        return internal_error(ctx, c, "MAIL", SG_ERR_NOMEM, NULL);
    dc = msg_dc(c, &dcbuf);

    memset(&v, 0, sizeof(v));
    if ((st = snap_begin(c)) != SG_OK)
        return internal_error(ctx, c, "MAIL", st, sg_snap_error(c->snap));
    st = sg_decide_region(c->cfg->conf, c->snap, NULL, argv[0],
                          &c->msg.region, &v);
    /* Delegated identities (R8): the envelope sender's, for now; the
     * headers complete them at EOH. A wrong-region ARN is refused. */
    if (st == SG_OK && v.action == SG_ACCEPT && dc != NULL)
        st = sg_decide_delegation(c->cfg->conf, c->snap, c->msg.region, dc,
                                  NULL, NULL, &c->msg.use, &v);
    if (st == SG_OK && v.action == SG_ACCEPT)
        st = sg_decide_sender_ex(c->cfg->conf, c->snap, c->msg.region,
                                 argv[0], dc, &v);
    sg_snap_end(c->snap);
    if (st != SG_OK)
        return internal_error(ctx, c, "MAIL", st, sg_snap_error(c->snap));
    if (v.action == SG_ACCEPT && c->msg.declared >= 0)
        sg_decide_size(c->cfg->conf, c->msg.declared, &v);
    if (v.action != SG_ACCEPT) {
        rc = refuse(ctx, c, "MAIL", NULL, &v);
        msg_reset(c);
    }
    return rc;
}

/* mlfi_envrcpt - RCPT TO: one recipient, refused on its own */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);
    struct sg_verdict v, qv;
    char rcpt[SG_ADDR_MAX + 1];
    SG_STATUS st;

    quickack(c);
    if (c == NULL || !c->msg.active)
        return internal_error(ctx, c, "RCPT", SG_ERR_INTERNAL,
                              "RCPT without MAIL");
    if (argv == NULL || argv[0] == NULL)
        return internal_error(ctx, c, "RCPT", SG_ERR_PROTO,
                              "no recipient");
    if (mlfi_path_bare_buf(argv[0], rcpt, sizeof(rcpt)) == NULL)
        snprintf(rcpt, sizeof(rcpt), "%.300s...", argv[0]);
    memset(&v, 0, sizeof(v));
    if ((st = snap_begin(c)) != SG_OK)
        return internal_error(ctx, c, "RCPT", st, sg_snap_error(c->snap));
    st = sg_decide_rcpt_ex(c->cfg->conf, c->snap, c->msg.region, argv[0],
                           c->msg.accepted, c->msg.daily_units,
                           c->msg.use.owner_sandbox, &v);
    if (st != SG_OK) {
        sg_snap_end(c->snap);
        return internal_error(ctx, c, "RCPT", st, sg_snap_error(c->snap));
    }
    if (v.action != SG_ACCEPT) {
        sg_snap_end(c->snap);
        return refuse(ctx, c, "RCPT", rcpt, &v);
    }
    /* quota_counted_by = policyd: the policy daemon on the same MTA
     * holds and commits; every other rule still applies here. */
    if (c->cfg->count_quota) {
        st = hold_rcpt(c, &v, &qv);
        sg_snap_end(c->snap);
        if (st != SG_OK)
            return internal_error(ctx, c, "RCPT", st, "quota reserve");
        if (qv.action != SG_ACCEPT)
            return refuse(ctx, c, "RCPT", rcpt, &qv);
    } else
        sg_snap_end(c->snap);
    sg_metrics_count(mlfi_metrics, c->msg.region != NULL
                     ? c->msg.region->name : NULL, NULL, SG_ACCEPT, 1);
    if (c->cfg->deleg != NULL && keep_rcpt(c, argv[0]) != SG_OK)
        return internal_error(ctx, c, "RCPT", SG_ERR_NOMEM, NULL);
    c->msg.accepted++;
    if (!v.simulator)
        c->msg.daily_units++;
    if (c->msg.first_rcpt[0] == '\0')
        snprintf(c->msg.first_rcpt, sizeof(c->msg.first_rcpt), "%s", rcpt);
    return SMFIS_CONTINUE;
}

/* mlfi_data - DATA: the queue id is known from here on */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);
    const char *qid;

    quickack(c);
    if (c != NULL && (qid = smfi_getsymval(ctx, sym_i)) != NULL)
        snprintf(c->msg.qid, sizeof(c->msg.qid), "%s", qid);
    return SMFIS_CONTINUE;
}

/* mlfi_header - collect the headers SES looks at; count the size */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);

    quickack(c);
    if (c != NULL && c->msg.active) {
        c->msg.size += (long long)strlen(name) + 2
                       + (long long)strlen(value) + 2;
        if (mlfi_hdrs_add(&c->msg.hdrs, name, value) != SG_OK)
            c->msg.hdrs.toobig = 1;     /* refused at EOH, not ignored */
    }
    return SMFIS_NOREPLY;
}

/* mlfi_eoh - end of headers: R11 syntax, then identities and set */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);
    struct mlfi_hdrs *h;
    struct sg_verdict v;
    struct sg_deleg_ctx dcbuf;
    const struct sg_deleg_ctx *dc;
    const char *qid, *cs;
    SG_STATUS st;
    sfsistat rc;
    int rcpt_sandbox;

    quickack(c);
    if (c == NULL || !c->msg.active)
        return internal_error(ctx, c, "END-OF-HEADERS", SG_ERR_INTERNAL,
                              "no message");
    /* Whether RCPT already applied the owner's sandbox (R8). */
    rcpt_sandbox = c->msg.use.owner_sandbox;
    if ((qid = smfi_getsymval(ctx, sym_i)) != NULL)
        snprintf(c->msg.qid, sizeof(c->msg.qid), "%s", qid);
    h = &c->msg.hdrs;
    c->msg.size += 2;
    memset(&v, 0, sizeof(v));
    mlfi_hdrs_check(h, &v);
    if (v.action == SG_ACCEPT) {
        cs = h->config_set;
        if (cs == NULL && mlfi_default_config_set_buf(
                c->cfg->conf->milter_default_config_set,
                c->msg.region->name, c->msg.added_cs,
                sizeof(c->msg.added_cs)) != NULL)
            cs = c->msg.added_cs;
        if ((st = snap_begin(c)) != SG_OK)
            return internal_error(ctx, c, "END-OF-HEADERS", st,
                                  sg_snap_error(c->snap));
        dc = msg_dc(c, &dcbuf);
        st = SG_OK;
        if (dc != NULL)
            st = sg_decide_delegation(c->cfg->conf, c->snap, c->msg.region,
                                      dc, h->from, h->return_path,
                                      &c->msg.use, &v);
        if (st == SG_OK && v.action == SG_ACCEPT)
            st = sg_decide_headers_ex(c->cfg->conf, c->snap, c->msg.region,
                                      c->msg.env_from, h->from, h->sender,
                                      h->return_path, cs, dc, &v);
        if (st == SG_OK && v.action == SG_ACCEPT
            && c->msg.use.owner_sandbox && !rcpt_sandbox)
            st = recheck_sandbox(c, &v);
        if (st == SG_OK && v.action == SG_ACCEPT && c->cfg->deleg != NULL)
            st = owner_policy(c, h, &v);
        sg_snap_end(c->snap);
        if (st != SG_OK)
            return internal_error(ctx, c, "END-OF-HEADERS", st,
                                  sg_snap_error(c->snap));
    }
    if (c->steps & SMFIP_NR_EOH) {
        /* No reply now: a refusal is answered at EOM. */
        if (v.action != SG_ACCEPT) {
            c->msg.eoh_verdict = v;
            c->msg.eoh_refused = 1;
        }
        return SMFIS_NOREPLY;
    }
    if (v.action == SG_ACCEPT)
        return SMFIS_CONTINUE;
    rc = refuse(ctx, c, "END-OF-HEADERS", NULL, &v);
    msg_reset(c);
    return rc;
}

/* mlfi_body - count the body (only negotiated with milter_count_body) */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);
    struct sg_verdict v;
    sfsistat rc;

    (void)chunk;
    quickack(c);
    if (c == NULL)
        return SMFIS_CONTINUE;
    if (c->steps & SMFIP_NR_BODY) {
        /* Counted only; the size is decided at EOM. */
        if (c->msg.active)
            c->msg.size += (long long)len;
        return SMFIS_NOREPLY;
    }
    if (!c->msg.active)
        return SMFIS_CONTINUE;
    c->msg.size += (long long)len;
    if (c->msg.size <= c->cfg->conf->message_size_limit)
        return SMFIS_CONTINUE;
    /* Over the limit already: no need to receive the rest. */
    memset(&v, 0, sizeof(v));
    sg_decide_size(c->cfg->conf, c->msg.size, &v);
    if (v.action == SG_ACCEPT)
        return SMFIS_CONTINUE;
    rc = refuse(ctx, c, "END-OF-MESSAGE", NULL, &v);
    msg_reset(c);
    return rc;
}

/*
 * arn_headers - the X-SES-*-ARN headers of a message (R8): every
 *   client-supplied instance removed (SES uses the first one, so a
 *   client's header could otherwise pick the identity), then one of
 *   each for the delegated identities the message uses
 *
 * Instances are deleted from the last to the first, so that an index
 * names the same header whether or not the MTA still counts deleted
 * ones (Postfix does not, Sendmail's list keeps them).
 */
static void
arn_headers(SMFICTX *ctx, struct mlfi_conn *c)
{
    const struct sg_deleg_entry *used[MLFI_ARN_N];
    const char *qid = c->msg.qid[0] ? c->msg.qid : "NOQUEUE";
    char name[64], value[SG_AUTHZ_ARN_MAX + 1];
    unsigned int n;
    int i;

    used[MLFI_ARN_SOURCE] = c->msg.use.source;
    used[MLFI_ARN_FROM] = c->msg.use.from;
    used[MLFI_ARN_RETURN_PATH] = c->msg.use.rpath;
    for (i = 0; i < MLFI_ARN_N; i++) {
        snprintf(name, sizeof(name), "%s", mlfi_arn_hdr_name(i));
        for (n = c->msg.hdrs.arn[i]; n > 0; n--)
            if (smfi_chgheader(ctx, name, (int)n, NULL) != MI_SUCCESS) {
                sg_log(SG_LOG_WARNING, "%s: could not remove %s #%u",
                       qid, name, n);
                break;
            }
        if (c->msg.hdrs.arn[i] > 0)
            sg_log(SG_LOG_INFO, "%s: removed %u client-supplied %s", qid,
                   c->msg.hdrs.arn[i], name);
    }
    for (i = 0; i < MLFI_ARN_N; i++) {
        if (used[i] == NULL)
            continue;
        snprintf(name, sizeof(name), "%s", mlfi_arn_hdr_name(i));
        snprintf(value, sizeof(value), "%s", used[i]->arn);
        if (smfi_addheader(ctx, name, value) != MI_SUCCESS)
            sg_log(SG_LOG_WARNING, "%s: could not add %s", qid, name);
    }
    if (used[0] != NULL || used[1] != NULL || used[2] != NULL)
        sg_log(SG_LOG_INFO, "%s: delegated (R8): from=<%s> sasl=%s "
               "region=%s source=%s from-arn=%s return-path=%s", qid,
               c->msg.from, c->msg.sasl_user != NULL ? c->msg.sasl_user
               : "-", c->msg.region->name,
               used[0] != NULL ? used[0]->arn : "-",
               used[1] != NULL ? used[1]->arn : "-",
               used[2] != NULL ? used[2]->arn : "-");
}

/* mlfi_eom - end of message: size, quota commit, added headers */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);
    struct sg_verdict v;
    const char *qid;
    long long size;
    SG_STATUS st;
    sfsistat rc = SMFIS_CONTINUE;

    quickack(c);
    if (c == NULL || !c->msg.active)
        return internal_error(ctx, c, "END-OF-MESSAGE", SG_ERR_INTERNAL,
                              "no message");
    if ((qid = smfi_getsymval(ctx, sym_i)) != NULL)
        snprintf(c->msg.qid, sizeof(c->msg.qid), "%s", qid);
    if (c->msg.eoh_refused) {
        rc = refuse(ctx, c, "END-OF-HEADERS", NULL, &c->msg.eoh_verdict);
        msg_reset(c);
        return rc;
    }
    size = c->cfg->conf->milter_count_body ? c->msg.size : c->msg.declared;
    memset(&v, 0, sizeof(v));
    sg_decide_size(c->cfg->conf, size, &v);
    if (v.action != SG_ACCEPT) {
        rc = refuse(ctx, c, "END-OF-MESSAGE", NULL, &v);
        msg_reset(c);
        return rc;
    }
    if ((st = commit_msg(c)) != SG_OK) {
        rc = internal_error(ctx, c, "END-OF-MESSAGE", st, "quota commit");
        msg_reset(c);
        return rc;
    }
    if (c->msg.added_cs[0] != '\0'
        && smfi_addheader(ctx, hdr_config_set, c->msg.added_cs) != MI_SUCCESS)
        sg_log(SG_LOG_WARNING, "%s: could not add X-SES-CONFIGURATION-SET",
               c->msg.qid[0] ? c->msg.qid : "NOQUEUE");
    if (c->cfg->deleg != NULL)
        arn_headers(ctx, c);
    msg_reset(c);
    return SMFIS_CONTINUE;
}

/* mlfi_abort - the message ends without EOM: release, reset */
static sfsistat
mlfi_abort(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);

    quickack(c);
    if (c != NULL)
        msg_reset(c);
    return SMFIS_CONTINUE;
}

/* mlfi_close - the connection ends: free its context (NULL is fine) */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
    struct mlfi_conn *c = smfi_getpriv(ctx);

    conn_free(c);
    (void)smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/* The filter: one line per callback (STYLE.md rule 11). */
struct smfiDesc mlfi_desc = {
    filter_name,        /* filter name */
    SMFI_VERSION,       /* libmilter version the filter is built for */
    SMFIF_ADDHDRS | SMFIF_CHGHDRS, /* actions it may request (narrowed
                         * per connection in negotiate) */
    mlfi_connect,       /* connection: client name and address */
    NULL,               /* HELO: not used (SMFIP_NOHELO) */
    mlfi_envfrom,       /* MAIL FROM: region, sender, declared size */
    mlfi_envrcpt,       /* RCPT TO: per-recipient checks and quota */
    mlfi_header,        /* header: collected, no reply */
    mlfi_eoh,           /* end of headers: identities, R11 */
    mlfi_body,          /* body: size count (when negotiated) */
    mlfi_eom,           /* end of message: size, quota commit */
    mlfi_abort,         /* message aborted: release and reset */
    mlfi_close,         /* connection closed: free the context */
    NULL,               /* unknown command: not used */
    mlfi_data,          /* DATA: the queue id */
    mlfi_negotiate      /* option negotiation: only what is used */
};

/* mlfi_metrics_gauges - the current configuration's state and quota
 *   figures, for the metrics listener's thread */
void
mlfi_metrics_gauges(void *arg, struct sg_metrics_gauges *g)
{
    struct mlfi_cfg *cfg;
    SG_SNAP *snap = NULL;

    (void)arg;
    pthread_mutex_lock(&cfg_lock);
    if ((cfg = cfg_current) != NULL)
        cfg->refs++;
    pthread_mutex_unlock(&cfg_lock);
    if (cfg != NULL && cfg->state != NULL)
        snap = sg_snap_new(cfg->state);
    sg_metrics_gauges_read(snap, cfg != NULL ? cfg->quota : NULL, g);
    sg_snap_free(snap);
    cfg_release(cfg);
}
