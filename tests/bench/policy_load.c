/*
 * policy_load.c - load generator for Postfix policy services
 *
 * policy_load [-c CONNS] [-d SECONDS] [-n REQUESTS] [-p PID -s EVERY]
 *             inet:HOST:PORT|unix:PATH
 *
 * Opens CONNS persistent connections before the clock starts, then
 * keeps one request in flight on each (as an smtpd process does) for
 * SECONDS (default 3) or REQUESTS requests. Each connection runs
 * transactions of two RCPT requests and one END-OF-MESSAGE, with the
 * attributes Postfix 3.7 sends, over 10,000 senders and 10,000
 * recipients (every 50th recipient is on the benchmark state's
 * suppression list). Prints one line:
 *   conns=N requests=R seconds=S rps=X p50_us=A p99_us=B max_us=C
 *   refused=F errors=E
 * (refused: replies other than action=DUNNO; errors: replies that do
 * not start with "action=").
 *
 * With -p PID -s EVERY (the soak test, tests/load/soak-policyd.sh) it
 * also reads /proc/PID/status and /proc/PID/fd before the first
 * request, every EVERY requests and at the end, and prints a line
 *   sample requests=R rss_kb=X anon_kb=A file_kb=F fds=D
 * for each (VmRSS, RssAnon, RssFile: the state store's mapped pages
 * count in VmRSS as they are touched).
 */

/* System headers. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

/* One connection's state. */
struct lconn {
    int fd;
    unsigned long long msg;     /* transaction counter */
    int step;                   /* 0, 1: RCPT; 2: END-OF-MESSAGE */
    unsigned int rng;
    long long sent_ns;
    char in[4096];
    size_t in_len;
    int sender;
};

static long long *lat;          /* latencies in ns */
static size_t nlat, cap_lat;

/* now_ns - monotonic nanoseconds */
static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* rnd - xorshift32 */
static unsigned int
rnd(unsigned int *s)
{
    unsigned int x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* dial - one connection to the target */
static int
dial(const char *spec)
{
    int fd, one = 1;

    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun;

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec + 5);
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        struct addrinfo hints, *res;
        char host[256];
        const char *colon = strrchr(spec + 5, ':');

        if (colon == NULL || (size_t)(colon - spec - 5) >= sizeof(host))
            return -1;
        memcpy(host, spec + 5, (size_t)(colon - spec - 5));
        host[colon - spec - 5] = '\0';
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
            return -1;
        fd = socket(res->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
            if (fd >= 0)
                close(fd);
            freeaddrinfo(res);
            return -1;
        }
        freeaddrinfo(res);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
    }
    return -1;
}

/* send_req - the next request of a connection */
static int
send_req(struct lconn *c, int id)
{
    char buf[2048];
    char rcpt[96];
    unsigned int r;
    int n;

    if (c->step == 0)
        c->sender = (int)(rnd(&c->rng) % 5000) * 2;
    r = rnd(&c->rng) % 10000;
    if (r % 50 == 0)
        snprintf(rcpt, sizeof(rcpt), "user%u@host%u.example", r * 7,
                 (r * 7) % 9973);
    else
        snprintf(rcpt, sizeof(rcpt), "rcpt%u@example.net", r);
    n = snprintf(buf, sizeof(buf),
                 "request=smtpd_access_policy\n"
                 "protocol_state=%s\n"
                 "protocol_name=ESMTP\n"
                 "client_address=192.0.2.%d\n"
                 "client_name=client%d.example\n"
                 "client_port=%d\n"
                 "reverse_client_name=client%d.example\n"
                 "server_address=127.0.0.1\n"
                 "server_port=25\n"
                 "helo_name=client%d.example\n"
                 "sender=s%d@d%d.example\n"
                 "recipient=%s\n"
                 "recipient_count=%d\n"
                 "queue_id=\n"
                 "instance=%x.%llx.%x.0\n"
                 "size=%d\n"
                 "etrn_domain=\n"
                 "stress=\n"
                 "sasl_method=\n"
                 "sasl_username=\n"
                 "sasl_sender=\n"
                 "ccert_subject=\n"
                 "ccert_issuer=\n"
                 "ccert_fingerprint=\n"
                 "ccert_pubkey_fingerprint=\n"
                 "encryption_protocol=\n"
                 "encryption_cipher=\n"
                 "encryption_keysize=0\n"
                 "policy_context=\n"
                 "\n",
                 c->step == 2 ? "END-OF-MESSAGE" : "RCPT", id % 250,
                 id, 40000 + id, id, id, c->sender, c->sender,
                 c->step == 2 ? "" : rcpt, c->step == 2 ? 2 : 0,
                 (unsigned)id, c->msg, (unsigned)getpid(),
                 c->step == 2 ? 4096 : 0);
    c->sent_ns = now_ns();
    return write(c->fd, buf, (size_t)n) == n ? 0 : -1;
}

/* status_kb - a "Name:   N kB" line of /proc/PID/status; -1 absent */
static long
status_kb(const char *status, const char *name)
{
    const char *p = strstr(status, name);

    return p != NULL ? strtol(p + strlen(name), NULL, 10) : -1;
}

/* sample - one line of the daemon's memory and descriptors */
static void
sample(long pid, unsigned long long done)
{
    char path[64], buf[4096];
    FILE *f;
    DIR *d;
    size_t n = 0;
    long fds = 0;

    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if ((f = fopen(path, "r")) != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
    if ((d = opendir(path)) != NULL) {
        while (readdir(d) != NULL)
            fds++;
        closedir(d);
        fds -= 2;               /* . and .. */
    } else {
        fds = -1;
    }
    printf("sample requests=%llu rss_kb=%ld anon_kb=%ld file_kb=%ld "
           "fds=%ld\n", done, status_kb(buf, "VmRSS:"),
           status_kb(buf, "RssAnon:"), status_kb(buf, "RssFile:"), fds);
    fflush(stdout);
}

/* cmp_ll - qsort comparator */
static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    struct epoll_event ev, evs[256];
    struct lconn *cs;
    long long start, stop, end_at, dur_ns = 3000000000LL;
    unsigned long long done = 0, limit = 0, refused = 0, errors = 0;
    unsigned long long every = 0;
    long pid = 0;
    int conns = 1, nconns, ep, i, n, ch;
    ssize_t k;

    while ((ch = getopt(argc, argv, "c:d:n:p:s:")) != -1) {
        switch (ch) {
        case 'c':
            conns = atoi(optarg);
            break;
        case 'd':
            dur_ns = (long long)(atof(optarg) * 1e9);
            break;
        case 'n':
            limit = strtoull(optarg, NULL, 10);
            dur_ns = 1LL << 62;
            break;
        case 'p':
            pid = strtol(optarg, NULL, 10);
            break;
        case 's':
            every = strtoull(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: policy_load [-c CONNS] [-d SECONDS] "
                    "[-n REQUESTS] [-p PID -s EVERY] "
                    "inet:HOST:PORT|unix:PATH\n");
            return 64;
        }
    }
    if (optind + 1 != argc || conns < 1)
        return 64;
    nconns = conns;
    cs = calloc((size_t)conns, sizeof(*cs));
    ep = epoll_create1(0);
    for (i = 0; i < conns; i++) {
        if ((cs[i].fd = dial(argv[optind])) < 0) {
            fprintf(stderr, "policy_load: cannot connect to %s: %s\n",
                    argv[optind], strerror(errno));
            return 1;
        }
        cs[i].rng = 2463534242u + (unsigned)i * 7919u;
        ev.events = EPOLLIN;
        ev.data.u32 = (unsigned)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    if (pid > 0)
        sample(pid, 0);
    cap_lat = 1 << 20;
    lat = malloc(cap_lat * sizeof(*lat));
    start = now_ns();
    end_at = start + dur_ns;
    for (i = 0; i < conns; i++)
        send_req(&cs[i], i);
    for (;;) {
        n = epoll_wait(ep, evs, 256, 1000);
        for (i = 0; i < n; i++) {
            struct lconn *c = &cs[evs[i].data.u32];
            char *e;

            k = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len - 1);
            if (k <= 0) {
                fprintf(stderr, "policy_load: connection closed by the "
                        "server\n");
                return 1;
            }
            c->in_len += (size_t)k;
            c->in[c->in_len] = '\0';
            if ((e = strstr(c->in, "\n\n")) == NULL)
                continue;
            if (strncasecmp(c->in, "action=DUNNO", 12) != 0)
                refused++;
            if (strncmp(c->in, "action=", 7) != 0)
                errors++;
            c->in_len = 0;
            if (nlat == cap_lat) {
                cap_lat *= 2;
                lat = realloc(lat, cap_lat * sizeof(*lat));
            }
            lat[nlat++] = now_ns() - c->sent_ns;
            done++;
            if (pid > 0 && every > 0 && done % every == 0)
                sample(pid, done);
            if (++c->step == 3) {
                c->step = 0;
                c->msg++;
            }
            if ((limit == 0 || done + (unsigned long long)conns <= limit)
                && now_ns() < end_at)
                send_req(c, (int)evs[i].data.u32);
            else {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                conns--;
            }
        }
        if (conns == 0)
            break;
    }
    stop = now_ns();
    if (pid > 0)
        sample(pid, done);
    qsort(lat, nlat, sizeof(*lat), cmp_ll);
    printf("conns=%d requests=%llu seconds=%.2f rps=%.0f p50_us=%.0f "
           "p99_us=%.0f max_us=%.0f refused=%llu errors=%llu\n", nconns, done,
           (stop - start) / 1e9, done / ((stop - start) / 1e9),
           nlat ? lat[nlat / 2] / 1e3 : 0,
           nlat ? lat[(size_t)(nlat * 0.99)] / 1e3 : 0,
           nlat ? lat[nlat - 1] / 1e3 : 0, refused, errors);
    return 0;
}
