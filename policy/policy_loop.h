/*
 * policy_loop.h - sesgate-policyd's I/O: one epoll loop for every
 *                 connection, non-blocking, per-connection buffers
 *
 * One thread serves all connections (Postfix keeps one per smtpd
 * process, idle up to 300 s): each readable connection's input is
 * scanned with the codec, each complete request is answered through
 * sg_pd_handle, and the replies of one read go out in one write; the
 * requests of one wakeup share one state snapshot (sg_pd_batch_begin,
 * sg_pd_batch_end), so an import is seen at the next wakeup. A
 * connection holds at most SG_POLICY_REQ_MAX bytes of input plus one
 * read; its buffers shrink back when it goes idle.
 */
#ifndef SG_POLICY_LOOP_H
#define SG_POLICY_LOOP_H

/* System headers. */
#include <signal.h>

/* Local headers. */
#include "policy_txn.h"

/* Set by the signal handlers; read by the loop. */
extern volatile sig_atomic_t sg_pl_stop;       /* SIGTERM, SIGINT */
extern volatile sig_atomic_t sg_pl_reload;     /* SIGHUP */

/* Called by the loop, between requests, when sg_pl_reload was set. */
typedef void (*sg_pl_reload_fn)(struct sg_pd *pd, void *arg);

/*
 * sg_pl_listen - open a listening socket
 *
 * Parameters: spec, "inet:HOST:PORT" or "unix:PATH"; conf for the unix
 *   socket's mode and group; err/errlen for the reason of a failure.
 * Returns: the socket (non-blocking, close-on-exec), or -1 with err.
 *   A stale unix socket (nobody answers on it) is replaced; a live one
 *   is an error.
 */
extern int sg_pl_listen(const char *spec, const SG_CONF *conf, char *err,
                        size_t errlen);

/*
 * sg_pl_run - serve listeners until sg_pl_stop
 *
 * On stop the listeners close, idle connections close, requests in
 * flight are finished (for at most a few seconds), then it returns.
 * Returns: 0, or -1 when the loop cannot be set up.
 */
extern int sg_pl_run(struct sg_pd *pd, int lfd, sg_pl_reload_fn reload,
                     void *arg);

/*
 * sg_pl_run_stdio - serve one client on two descriptors (spawn(8) mode:
 *   fds 0 and 1) until it closes or sg_pl_stop
 *
 * Returns: 0.
 */
extern int sg_pl_run_stdio(struct sg_pd *pd, int in, int out,
                           sg_pl_reload_fn reload, void *arg);

#endif /* SG_POLICY_LOOP_H */
