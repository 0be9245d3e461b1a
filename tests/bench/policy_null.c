/*
 * policy_null.c - a do-nothing policy responder: the ceiling
 *
 * policy_null inet:HOST:PORT
 *
 * Answers "action=DUNNO" to every request on an epoll loop, reading
 * requests to their empty line and nothing else: what loopback and the
 * load generator allow on this machine.
 */

/* System headers. */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* One connection: how far an empty line has been matched. */
struct nconn {
    int fd;
    char prev;
};

int
main(int argc, char **argv)
{
    static const char reply[] = "action=DUNNO\n\n";
    struct addrinfo hints, *res;
    struct epoll_event ev, evs[256];
    char host[256], buf[65536];
    const char *colon;
    int lfd, ep, one = 1, n, i;

    if (argc != 2 || strncmp(argv[1], "inet:", 5) != 0
        || (colon = strrchr(argv[1] + 5, ':')) == NULL) {
        fprintf(stderr, "usage: policy_null inet:HOST:PORT\n");
        return 64;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[1] - 5),
             argv[1] + 5);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return 1;
    lfd = socket(res->ai_family, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, res->ai_addr, res->ai_addrlen) != 0
        || listen(lfd, 1024) != 0) {
        perror("policy_null: bind");
        return 1;
    }
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        n = epoll_wait(ep, evs, 256, -1);
        for (i = 0; i < n; i++) {
            struct nconn *c = evs[i].data.ptr;
            ssize_t k, j;
            size_t out = 0;

            if (c == NULL) {
                int fd = accept(lfd, NULL, NULL);

                if (fd < 0)
                    continue;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                c = calloc(1, sizeof(*c));
                c->fd = fd;
                ev.events = EPOLLIN;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            k = read(c->fd, buf, sizeof(buf));
            if (k <= 0) {
                close(c->fd);
                free(c);
                continue;
            }
            for (j = 0; j < k; j++) {
                if (buf[j] == '\n' && c->prev == '\n')
                    out++;
                c->prev = buf[j];
            }
            while (out-- > 0)
                if (write(c->fd, reply, sizeof(reply) - 1) < 0)
                    break;
        }
    }
}
