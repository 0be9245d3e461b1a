/*
 * milter_null.c - a do-nothing milter: the floor of a milter's cost
 *
 * milter_null SOCKET      (libmilter form: inet:PORT@HOST, unix:PATH)
 *
 * Negotiates the same protocol steps as sesgate-milter (no HELO, no
 * unknown commands, no body, no replies to connect, headers and end of
 * headers, DATA kept with a reply), asks for the same macros, acks at
 * once over TCP as sesgate-milter does, and continues everything. What
 * Postfix + this costs over bare Postfix is the cost of Postfix's milter
 * client and libmilter themselves, which no milter can go below.
 * Benchmark helper only (tests/bench/milter.sh builds it with cc).
 */

/* System headers. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Third-party headers. */
#include <libmilter/mfapi.h>

/* libmilter's context starts with the thread id and the socket (see
 * quickack in milter/mlfi.c). */
struct ctx_head {
    pthread_t id;
    int sd;
};

/* With "symlist": ask for the macros sesgate-milter asks for. */
static int symlist;
static char sym_mail[] = "i {auth_authen}";
static char sym_i[] = "i";

static char name[] = "milter_null";

/* quickack - ack what the MTA sends next at once (TCP only) */
static void
quickack(SMFICTX *ctx)
{
    const struct ctx_head *h = (const void *)ctx;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int one = 1;

    if (getsockname(h->sd, (struct sockaddr *)&ss, &len) != 0
        || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    (void)setsockopt(h->sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)setsockopt(h->sd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* n_negotiate - the steps and macros sesgate-milter asks for */
static sfsistat
n_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
            unsigned long f2, unsigned long f3, unsigned long *pf0,
            unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)f2;
    (void)f3;
    quickack(ctx);
    *pf0 = 0;
    *pf1 = (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOHREPL | SMFIP_NR_CONN
            | SMFIP_NR_EOH | SMFIP_NOBODY) & f1;
    *pf2 = 0;
    *pf3 = 0;
    if (symlist && (f0 & SMFIF_SETSYMLIST)) {
        *pf0 |= SMFIF_SETSYMLIST;
        (void)smfi_setsymlist(ctx, SMFIM_CONNECT, sym_i);
        (void)smfi_setsymlist(ctx, SMFIM_ENVFROM, sym_mail);
        (void)smfi_setsymlist(ctx, SMFIM_ENVRCPT, sym_i);
        (void)smfi_setsymlist(ctx, SMFIM_DATA, sym_i);
        (void)smfi_setsymlist(ctx, SMFIM_EOH, sym_i);
        (void)smfi_setsymlist(ctx, SMFIM_EOM, sym_i);
    }
    return SMFIS_CONTINUE;
}

/* n_cont - every other callback: ack, continue */
static sfsistat
n_cont(SMFICTX *ctx)
{
    quickack(ctx);
    return SMFIS_CONTINUE;
}

static sfsistat
n_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)host;
    (void)sa;
    quickack(ctx);
    return SMFIS_NOREPLY;
}

static sfsistat
n_args(SMFICTX *ctx, char **argv)
{
    (void)argv;
    return n_cont(ctx);
}

static sfsistat
n_header(SMFICTX *ctx, char *name, char *value)
{
    (void)name;
    (void)value;
    quickack(ctx);
    return SMFIS_NOREPLY;
}

static sfsistat
n_eoh(SMFICTX *ctx)
{
    quickack(ctx);
    return SMFIS_NOREPLY;
}

static struct smfiDesc desc = {
    name, SMFI_VERSION, 0,
    n_connect, NULL, n_args, n_args, n_header, n_eoh, NULL, n_cont,
    n_cont, NULL, NULL, n_cont, n_negotiate
};

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: milter_null SOCKET [symlist]\n");
        return 2;
    }
    symlist = argc > 2 && strcmp(argv[2], "symlist") == 0;
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1])
        != MI_SUCCESS || smfi_setbacklog(256) != MI_SUCCESS
        || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "milter_null: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
