/*
 * policy_loop.c - sesgate-policyd's I/O loop (see policy_loop.h)
 *
 * Single-threaded, level-triggered epoll. Per connection: an input
 * buffer (4 KB, grown up to one maximal request plus one read, shrunk
 * back when empty), the codec's scanner state, a pending-output buffer
 * used only when the peer does not take a reply at once (input is not
 * read meanwhile, so neither buffer grows without bound), and the
 * transaction record of policy_txn.c.
 */

/* Configuration (feature macros first). */
#include "config.h"

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "policy_proto.h"
#include "policy_txn.h"
#include "policy_loop.h"

volatile sig_atomic_t sg_pl_stop;
volatile sig_atomic_t sg_pl_reload;

#define IN_INIT     4096                        /* first input buffer */
#define IN_MAX      (SG_POLICY_REQ_MAX + 4096)  /* one request + slack */
#define BATCH_MAX   (64 * 1024)                 /* replies per write */
#define STOP_GRACE_MS 3000                      /* finish in-flight */

/* One client connection (or, with listener set, the listening socket). */
struct conn {
    int listener;               /* 1: the listening socket */
    int rfd, wfd;
    char *in;                   /* input buffer */
    size_t in_cap, in_len;
    struct sg_policy_scan sc;
    char *out;                  /* output the peer has not taken yet */
    size_t out_len, out_off;
    long long last_ms;          /* last input */
    long long req_ms;           /* first byte of the pending request */
    struct sg_pd_txn txn;
    int pending;                /* its request waits for a quota call */
    struct conn *pnext;         /* the loop's list of those */
    int parsed;                 /* preq: that request, parsed in place
                                 * at in + poff (plen bytes) */
    struct sg_policy_req preq;
    size_t poff, plen;
    struct conn *prev, *next;   /* all connections, for the idle sweep */
};

/* The loop's state. */
struct loop {
    struct sg_pd *pd;
    int ep;
    struct conn lconn;          /* the listener */
    int lfd;
    int accepting;
    struct conn *head;
    struct conn *pend;          /* connections with a pending quota call */
    size_t nconn;
    unsigned long long serial;
    char batch[BATCH_MAX];
};

/* mono_ms - monotonic milliseconds */
static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* set_nonblock - O_NONBLOCK on a descriptor */
static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* listen_unix - bind a unix socket with the configured mode and group */
static int
listen_unix(const char *path, const SG_CONF *conf, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct group *gr;
    char *end;
    long mode;
    gid_t gid = (gid_t)-1;
    int fd;
    int probe;
    mode_t old;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "unix socket path '%.200s' empty or too "
                 "long", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    mode = strtol(conf->policyd_socket_mode, &end, 8);
    if (conf->policyd_socket_mode[0] == '\0' || *end != '\0' || mode < 0
        || mode > 07777) {
        snprintf(err, errlen, "policyd_socket_mode '%.32s' is not an "
                 "octal mode", conf->policyd_socket_mode);
        return -1;
    }
    if (conf->policyd_socket_group[0] != '\0') {
        if ((gr = getgrnam(conf->policyd_socket_group)) != NULL) {
            gid = gr->gr_gid;
        } else {
            long g = strtol(conf->policyd_socket_group, &end, 10);

            if (*end != '\0' || g < 0) {
                snprintf(err, errlen, "policyd_socket_group '%.64s': no "
                         "such group", conf->policyd_socket_group);
                return -1;
            }
            gid = (gid_t)g;
        }
    }
    /* A socket file left by a crash: replace it if nobody answers. */
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            close(probe);
            snprintf(err, errlen, "%s: another server is listening there",
                     path);
            return -1;
        }
        if (errno == ECONNREFUSED)
            unlink(path);
        close(probe);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask(0177);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        umask(old);
        snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)
        || chmod(path, (mode_t)mode) != 0) {
        snprintf(err, errlen, "%s: cannot set group %s and mode %s: %s",
                 path, conf->policyd_socket_group,
                 conf->policyd_socket_mode, strerror(errno));
        unlink(path);
        close(fd);
        return -1;
    }
    if (listen(fd, 1024) != 0) {
        snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

/* listen_inet - bind HOST:PORT ("[v6]:port" too) */
static int
listen_inet(const char *spec, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    char host[256];
    const char *port;
    const char *colon;
    size_t hlen;
    int fd = -1;
    int one = 1;
    int rc;

    if (spec[0] == '[') {
        colon = strstr(spec, "]:");
        if (colon == NULL)
            goto bad;
        hlen = (size_t)(colon - spec - 1);
        port = colon + 2;
        spec++;
    } else {
        if ((colon = strrchr(spec, ':')) == NULL)
            goto bad;
        hlen = (size_t)(colon - spec);
        port = colon + 1;
    }
    if (hlen >= sizeof(host) || *port == '\0')
        goto bad;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
                          &res)) != 0) {
        snprintf(err, errlen, "inet:%s:%s: %s", host, port,
                 gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC
                    | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0
            && listen(fd, 1024) == 0)
            break;
        snprintf(err, errlen, "bind inet:%s:%s: %s", host, port,
                 strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;

bad:
    snprintf(err, errlen, "'inet:%.200s': expected inet:HOST:PORT", spec);
    return -1;
}

/* sg_pl_listen - open a listening socket */
int
sg_pl_listen(const char *spec, const SG_CONF *conf, char *err,
             size_t errlen)
{
    if (strncmp(spec, "inet:", 5) == 0)
        return listen_inet(spec + 5, err, errlen);
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, conf, err, errlen);
    snprintf(err, errlen, "'%.200s': expected inet:HOST:PORT or "
             "unix:PATH", spec);
    return -1;
}

/* conn_new - a connection record; NULL on memory exhaustion */
static struct conn *
conn_new(int rfd, int wfd, unsigned long long serial)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    if ((c->in = malloc(IN_INIT)) == NULL) {
        free(c);
        return NULL;
    }
    c->in_cap = IN_INIT;
    c->rfd = rfd;
    c->wfd = wfd;
    c->last_ms = mono_ms();
    sg_policy_scan_init(&c->sc);
    sg_pd_txn_init(&c->txn, serial);
    return c;
}

/* conn_free - release a record (descriptors closed by the caller) */
static void
conn_free(struct conn *c)
{
    free(c->in);
    free(c->out);
    free(c);
}

/*
 * conn_fill - read what is there; returns 1 data, 0 EOF, -1 error or
 *   would block (errno EAGAIN then)
 */
static int
conn_fill(struct conn *c)
{
    ssize_t n;
    size_t want;
    char *nb;

    if (c->in_len == c->in_cap && c->in_cap < IN_MAX) {
        want = c->in_cap * 2 > IN_MAX ? IN_MAX : c->in_cap * 2;
        if ((nb = realloc(c->in, want)) == NULL) {
            errno = ENOMEM;
            return -1;
        }
        c->in = nb;
        c->in_cap = want;
    }
    if (c->in_len == c->in_cap) {
        /* The scanner refuses long before this; be safe. */
        errno = E2BIG;
        return -1;
    }
    do
        n = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    c->last_ms = mono_ms();
    if (c->in_len == 0)
        c->req_ms = c->last_ms;
    c->in_len += (size_t)n;
    return 1;
}

/*
 * conn_requests - answer every complete request in the input buffer
 *
 * Replies are appended to out (room bytes at *olen). Stops early when
 * out could not hold another reply. Returns 0, or -1 when the input
 * breaks a bound or the grammar (logged; the caller closes without a
 * reply, so that Postfix applies its default action).
 */
static int
conn_requests(struct sg_pd *pd, struct conn *c, char *out, size_t room,
              size_t *olen)
{
    struct sg_policy_req req;
    SG_POLICY_SCAN_RES res;
    size_t reqlen = 0;
    size_t done = 0;
    SG_STATUS st;

    if (c->parsed) {
        /* The request whose quota call was deferred: its answer is in
         * (sg_pd_run_pending); parsed already, in place. */
        done = c->poff;
        *olen += sg_pd_handle(pd, &c->txn, &c->preq, out + *olen,
                              room - *olen);
        if (sg_pd_pending(&c->txn)) {
            c->pending = 1;     /* deferred again (a second call) */
            return 0;
        }
        c->parsed = 0;
        done += c->plen;
    }
    for (;;) {
        if (room - *olen < SG_POLICY_REPLY_MAX)
            break;
        res = sg_policy_scan_feed(&c->sc, c->in + done, c->in_len - done,
                                  &reqlen);
        if (res == SG_POLICY_MORE)
            break;
        if (res != SG_POLICY_DONE) {
            sg_log(SG_LOG_WARNING, "closing connection %llu: %s",
                   c->txn.conn, sg_policy_scan_strerror(res));
            return -1;
        }
        st = sg_policy_parse(c->in + done, reqlen, &req);
        if (st != SG_OK) {
            sg_log(SG_LOG_WARNING, "closing connection %llu: malformed "
                   "request (%s)", c->txn.conn, sg_strerror(st));
            return -1;
        }
        *olen += sg_pd_handle(pd, &c->txn, &req, out + *olen, room - *olen);
        sg_policy_scan_init(&c->sc);
        if (sg_pd_pending(&c->txn)) {
            /* Its quota call waits for the loop (sg_pd_run_pending):
             * the request stays where it is in the buffer (nothing is
             * read meanwhile) and is answered when the connection is
             * served again. */
            c->preq = req;
            c->poff = done;
            c->plen = reqlen;
            c->parsed = 1;
            c->pending = 1;
            break;
        }
        done += reqlen;
    }
    if (done > 0 && !c->parsed) {
        memmove(c->in, c->in + done, c->in_len - done);
        c->in_len -= done;
        c->req_ms = mono_ms();  /* the rest: the next request's start */
        if (c->sc.pos > c->in_len)
            sg_policy_scan_init(&c->sc);
    }
    /* Shrink a buffer that a big request grew, once it is empty. */
    if (c->in_len == 0 && c->in_cap > IN_INIT) {
        char *nb = realloc(c->in, IN_INIT);

        if (nb != NULL) {
            c->in = nb;
            c->in_cap = IN_INIT;
        }
    }
    return 0;
}

/*
 * conn_write - write data, keeping what the peer does not take in
 *   c->out; returns 0, or -1 on a write error
 */
static int
conn_write(struct conn *c, const char *data, size_t len)
{
    ssize_t n;
    size_t off = 0;
    char *nb;

    if (c->out != NULL) {
        /* Output already waits (replies made after a deferred quota
         * call): behind it, in order. Bounded: only requests already
         * in the input buffer get replies, and nothing is read until
         * the output is gone. */
        if ((nb = realloc(c->out, c->out_len + len)) == NULL)
            return -1;
        memcpy(nb + c->out_len, data, len);
        c->out = nb;
        c->out_len += len;
        return 0;
    }
    while (off < len) {
        n = write(c->wfd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return -1;
        off += (size_t)n;
    }
    if (off < len) {
        if ((nb = malloc(len - off)) == NULL)
            return -1;
        memcpy(nb, data + off, len - off);
        c->out = nb;
        c->out_len = len - off;
        c->out_off = 0;
    }
    return 0;
}

/* conn_flush - write pending output; 1 when all gone, 0 not, -1 error */
static int
conn_flush(struct conn *c)
{
    ssize_t n;

    while (c->out_off < c->out_len) {
        n = write(c->wfd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -1;
        c->out_off += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return 1;
}

/* loop_close - end a connection: release its hold, close, free */
static void
loop_close(struct loop *lp, struct conn *c)
{
    sg_pd_txn_end(lp->pd, &c->txn);
    epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->rfd, NULL);
    close(c->rfd);
    if (c->wfd != c->rfd)
        close(c->wfd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        lp->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    conn_free(c);
    lp->nconn--;
    if (!lp->accepting && lp->lfd >= 0 && !sg_pl_stop
        && lp->nconn < (size_t)lp->pd->conf->policyd_max_connections) {
        struct epoll_event ev;

        ev.events = EPOLLIN;
        ev.data.ptr = &lp->lconn;
        if (epoll_ctl(lp->ep, EPOLL_CTL_MOD, lp->lfd, &ev) == 0)
            lp->accepting = 1;
    }
}

/* loop_want - read or write interest of a connection */
static void
loop_want(struct loop *lp, struct conn *c)
{
    struct epoll_event ev;

    ev.events = c->out != NULL ? EPOLLOUT : EPOLLIN;
    ev.data.ptr = c;
    epoll_ctl(lp->ep, EPOLL_CTL_MOD, c->rfd, &ev);
}

/*
 * loop_serve - answer what a connection has buffered; returns -1 when
 *   it must be closed
 */
static int
loop_serve(struct loop *lp, struct conn *c)
{
    size_t olen;

    do {
        olen = 0;
        if (conn_requests(lp->pd, c, lp->batch, sizeof(lp->batch), &olen)
            != 0)
            return -1;
        if (olen > 0 && conn_write(c, lp->batch, olen) != 0)
            return -1;
        /* More complete requests than one batch holds: go on unless
         * the peer stopped reading or a request waits for its quota
         * call. */
    } while (c->out == NULL && !c->pending && olen + SG_POLICY_REPLY_MAX
             > sizeof(lp->batch));
    if (c->pending) {
        c->pnext = lp->pend;
        lp->pend = c;
    }
    return 0;
}

/*
 * loop_resume - the quota calls that requests of this wakeup deferred:
 *   run them together, then answer those requests (and what follows
 *   them; a request may defer again, e.g. END-OF-MESSAGE's commit after
 *   its reserve)
 */
static void
loop_resume(struct loop *lp)
{
    struct sg_pd_txn *tx[128];
    struct conn *list, *c, *next;
    size_t k;

    while ((list = lp->pend) != NULL) {
        lp->pend = NULL;
        k = 0;
        for (c = list; c != NULL; c = c->pnext) {
            tx[k++] = &c->txn;
            if (k == sizeof(tx) / sizeof(tx[0])) {
                sg_pd_run_pending(lp->pd, tx, k);
                k = 0;
            }
        }
        if (k > 0)
            sg_pd_run_pending(lp->pd, tx, k);
        for (c = list; c != NULL; c = next) {
            next = c->pnext;
            c->pnext = NULL;
            c->pending = 0;
            if (loop_serve(lp, c) != 0) {
                loop_close(lp, c);
                continue;
            }
            if (c->out != NULL)
                loop_want(lp, c);
        }
    }
}

/* loop_readable - input on a connection */
static void
loop_readable(struct loop *lp, struct conn *c)
{
    int rc = conn_fill(c);

    if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        if (rc < 0)
            sg_log(SG_LOG_INFO, "connection %llu: read: %s", c->txn.conn,
                   strerror(errno));
        loop_close(lp, c);
        return;
    }
    if (rc < 0)
        return;
    if (loop_serve(lp, c) != 0) {
        loop_close(lp, c);
        return;
    }
    if (c->out != NULL)
        loop_want(lp, c);
}

/* loop_writable - the peer takes output again */
static void
loop_writable(struct loop *lp, struct conn *c)
{
    int rc = conn_flush(c);

    if (rc < 0) {
        loop_close(lp, c);
        return;
    }
    if (rc == 0)
        return;
    /* Requests that arrived while output was pending. */
    if (loop_serve(lp, c) != 0) {
        loop_close(lp, c);
        return;
    }
    loop_want(lp, c);
}

/* loop_add - register a new connection */
static int
loop_add(struct loop *lp, int rfd, int wfd)
{
    struct epoll_event ev;
    struct conn *c;

    if ((c = conn_new(rfd, wfd, ++lp->serial)) == NULL)
        return -1;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, rfd, &ev) != 0) {
        conn_free(c);
        return -1;
    }
    c->next = lp->head;
    if (lp->head != NULL)
        lp->head->prev = c;
    lp->head = c;
    lp->nconn++;
    return 0;
}

/* loop_accept - take every waiting client, up to the limit */
static void
loop_accept(struct loop *lp)
{
    int fd;
    int one = 1;

    while (lp->nconn < (size_t)lp->pd->conf->policyd_max_connections) {
        fd = accept4(lp->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sg_log(SG_LOG_WARNING, "accept: %s", strerror(errno));
            return;
        }
        /* Replies are small and answer a request: send at once. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (loop_add(lp, fd, fd) != 0) {
            sg_log(SG_LOG_WARNING, "cannot take a connection: out of "
                   "memory");
            close(fd);
        }
    }
    /* At the limit: leave the rest in the backlog until one closes. */
    if (lp->accepting) {
        struct epoll_event ev;

        ev.events = 0;
        ev.data.ptr = &lp->lconn;
        if (epoll_ctl(lp->ep, EPOLL_CTL_MOD, lp->lfd, &ev) == 0)
            lp->accepting = 0;
        sg_log(SG_LOG_WARNING, "policyd_max_connections (%lld) reached",
               lp->pd->conf->policyd_max_connections);
    }
}

/*
 * loop_sweep - close idle connections (and, when stopping, quiet ones)
 *
 * Idle: no input for policyd_idle_timeout. A request that is not
 * complete that long after its first byte is closed too, however
 * steadily it trickles in (slowloris): otherwise a byte every few
 * seconds holds a connection slot for ever.
 */
static void
loop_sweep(struct loop *lp, long long now, int stopping)
{
    struct conn *c, *next;
    long long idle = lp->pd->conf->policyd_idle_timeout * 1000;

    for (c = lp->head; c != NULL; c = next) {
        next = c->next;
        if ((stopping && c->in_len == 0 && c->out == NULL)
            || now - c->last_ms >= idle) {
            if (!stopping)
                sg_log(SG_LOG_DEBUG, "connection %llu idle: closed",
                       c->txn.conn);
            loop_close(lp, c);
        } else if (c->in_len > 0 && now - c->req_ms >= idle) {
            sg_log(SG_LOG_INFO, "connection %llu: request not complete "
                   "%lld s after its first byte: closed", c->txn.conn,
                   (now - c->req_ms) / 1000);
            loop_close(lp, c);
        }
    }
}

/* publish_gauges - quota usage and state age for the metrics listener
 *   (its thread never touches the loop's state and quota handles) */
static void
publish_gauges(struct sg_pd *pd)
{
    static struct sg_metrics_gauges g;

    if (pd->metrics_srv == NULL)
        return;
    sg_metrics_gauges_read(pd->state != NULL ? pd->snap : NULL, pd->quota,
                           &g);
    sg_metrics_serve_publish(pd->metrics_srv, &g);
}

/* loop_run - the event loop proper */
static int
loop_run(struct loop *lp, sg_pl_reload_fn reload, void *arg)
{
    struct epoll_event evs[128];
    sigset_t block, orig;
    long long now, last_sweep = mono_ms(), stop_at = 0;
    struct conn *c;
    int n, i;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &orig);
    publish_gauges(lp->pd);
    for (;;) {
        if (sg_pl_reload) {
            sg_pl_reload = 0;
            if (reload != NULL)
                reload(lp->pd, arg);
        }
        if (sg_pl_stop && stop_at == 0) {
            stop_at = mono_ms() + STOP_GRACE_MS;
            if (lp->lfd >= 0) {
                epoll_ctl(lp->ep, EPOLL_CTL_DEL, lp->lfd, NULL);
                close(lp->lfd);
                lp->lfd = -1;
            }
            loop_sweep(lp, mono_ms(), 1);
        }
        if (stop_at != 0 && (lp->nconn == 0 || mono_ms() >= stop_at))
            break;
        if (lp->lfd < 0 && stop_at == 0 && lp->nconn == 0)
            break;              /* spawn mode: the client is gone */
        n = epoll_pwait(lp->ep, evs, 128, 1000, &orig);
        if (n < 0 && errno != EINTR) {
            sg_log(SG_LOG_ERR, "epoll_wait: %s", strerror(errno));
            break;
        }
        /* One state snapshot for the requests of this wakeup, and
         * their quota calls run together where that pays (quota.h). */
        if (n > 0) {
            sg_pd_batch_begin(lp->pd);
            lp->pd->defer = lp->pd->quota != NULL
                            && (sg_quota_defers(lp->pd->quota)
                                || lp->pd->force_defer);
        }
        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;
            if (c->listener) {
                loop_accept(lp);
                continue;
            }
            if (evs[i].events & EPOLLOUT)
                loop_writable(lp, c);
            else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                loop_readable(lp, c);
        }
        if (n > 0) {
            loop_resume(lp);
            lp->pd->defer = 0;
            sg_pd_batch_end(lp->pd);
        }
        now = mono_ms();
        if (now - last_sweep >= 1000) {
            loop_sweep(lp, now, stop_at != 0);
            last_sweep = now;
            publish_gauges(lp->pd);
        }
    }
    while (lp->head != NULL)
        loop_close(lp, lp->head);
    sigprocmask(SIG_SETMASK, &orig, NULL);
    return 0;
}

/* loop_init - an empty loop; -1 when epoll is unavailable */
static int
loop_init(struct loop *lp, struct sg_pd *pd)
{
    memset(lp, 0, sizeof(*lp));
    lp->pd = pd;
    lp->lfd = -1;
    lp->lconn.listener = 1;
    if ((lp->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        sg_log(SG_LOG_ERR, "epoll_create1: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* sg_pl_run - serve listeners until sg_pl_stop */
int
sg_pl_run(struct sg_pd *pd, int lfd, sg_pl_reload_fn reload, void *arg)
{
    static struct loop lp;      /* big batch buffer: not on the stack */
    struct epoll_event ev;
    int rc;

    if (loop_init(&lp, pd) != 0)
        return -1;
    lp.lfd = lfd;
    ev.events = EPOLLIN;
    ev.data.ptr = &lp.lconn;
    if (epoll_ctl(lp.ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        sg_log(SG_LOG_ERR, "epoll_ctl: %s", strerror(errno));
        close(lp.ep);
        return -1;
    }
    lp.accepting = 1;
    rc = loop_run(&lp, reload, arg);
    if (lp.lfd >= 0)
        close(lp.lfd);
    close(lp.ep);
    return rc;
}

/* run_blocking - spawn mode on descriptors epoll cannot watch (files) */
static int
run_blocking(struct loop *lp, int in, int out, sg_pl_reload_fn reload,
             void *arg)
{
    struct conn *c;
    size_t olen;
    int rc;

    if ((c = conn_new(in, out, 1)) == NULL)
        return 0;
    while (!sg_pl_stop) {
        if (sg_pl_reload) {
            sg_pl_reload = 0;
            if (reload != NULL)
                reload(lp->pd, arg);
        }
        rc = conn_fill(c);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        do {
            olen = 0;
            if (conn_requests(lp->pd, c, lp->batch, sizeof(lp->batch),
                              &olen) != 0)
                goto out;
            if (olen > 0 && conn_write(c, lp->batch, olen) != 0)
                goto out;
        } while (olen + SG_POLICY_REPLY_MAX > sizeof(lp->batch));
    }
out:
    sg_pd_txn_end(lp->pd, &c->txn);
    conn_free(c);
    return 0;
}

/* sg_pl_run_stdio - serve one client on two descriptors */
int
sg_pl_run_stdio(struct sg_pd *pd, int in, int out, sg_pl_reload_fn reload,
                void *arg)
{
    static struct loop lp;
    struct stat sb;
    int rc;

    if (loop_init(&lp, pd) != 0)
        return 0;
    /* A socket or pipe: the event loop (non-blocking, idle timeout). A
     * regular file (a test's "< requests"): plain blocking reads. */
    if (fstat(in, &sb) != 0 || S_ISREG(sb.st_mode) || set_nonblock(in) != 0
        || (out != in && set_nonblock(out) != 0)
        || loop_add(&lp, in, out) != 0) {
        rc = run_blocking(&lp, in, out, reload, arg);
        close(lp.ep);
        return rc;
    }
    rc = loop_run(&lp, reload, arg);
    close(lp.ep);
    return rc;
}
