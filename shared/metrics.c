/*
 * metrics.c - shared counters, Prometheus text and the loopback
 *             listener (see metrics.h)
 *
 * The file: a header, then SG_METRICS_ROWS rows of (region, rule) and
 * four 64-bit counters. A row is claimed once, lock-free: its "used"
 * word goes 0 (free) -> 1 (being written, by the one process whose
 * compare-and-swap won) -> 2 (key readable, for good). Counters are
 * added with atomic_fetch_add, so the milter's threads, the policy
 * daemon and sesgatectl may count into one file at the same time; the
 * file is created complete under a temporary name and linked into
 * place, so nobody ever maps a half-made one. Nothing is ever removed:
 * counters only grow (Prometheus sees a reset only when the file is
 * deleted).
 */

/* Configuration (feature macros first). */
#include "config.h"

/* System headers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"
#include "quota.h"
#include "metrics.h"

#define MX_MAGIC        "SGMETR1"
#define MX_VERSION      1
#define MX_HEADER_SIZE  64

/* The file header. */
struct mx_header {
    char magic[8];
    uint32_t version;
    uint32_t nrows;
    uint32_t row_size;
    uint32_t header_size;
    int64_t created;            /* epoch seconds */
};

/* One row: a (region, rule) key and its counters. */
struct mx_row {
    _Atomic uint32_t used;      /* 0 free, 1 being claimed, 2 ready */
    char region[SG_REGION_MAX + 1];
    char rule[SG_METRICS_RULE_MAX + 1];
    _Atomic uint64_t n[SG_METRICS_NKINDS];
};

#define MX_FILE_SIZE \
    (MX_HEADER_SIZE + SG_METRICS_ROWS * sizeof(struct mx_row))

struct sg_metrics {
    unsigned char *map;
    size_t size;
    int rdonly;
};

/* mx_rows - the first row of a map */
static struct mx_row *
mx_rows(const struct sg_metrics *m)
{
    return (struct mx_row *)(void *)(m->map + MX_HEADER_SIZE);
}

/* mx_valid - a mapped header is ours and matches this build */
static int
mx_valid(const unsigned char *map, size_t size)
{
    const struct mx_header *h = (const struct mx_header *)(const void *)map;

    return size >= MX_FILE_SIZE
           && memcmp(h->magic, MX_MAGIC, sizeof(MX_MAGIC)) == 0
           && h->version == MX_VERSION && h->nrows == SG_METRICS_ROWS
           && h->row_size == sizeof(struct mx_row)
           && h->header_size == MX_HEADER_SIZE;
}

/* mx_create - a complete, zeroed file under a temporary name, linked
 *   into place; EEXIST from link means another process won: fine */
static int
mx_create(const char *dir, const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    struct mx_header h;
    int fd, rc;

    snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
    (void)unlink(tmp);
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
        sg_seterr(err, errlen, "metrics: cannot create %s: %s", tmp,
               strerror(errno));
        return -1;
    }
    sg_state_adopt_owner(dir, NULL, fd);
    if ((rc = posix_fallocate(fd, 0, (off_t)MX_FILE_SIZE)) != 0) {
        sg_seterr(err, errlen, "metrics: cannot size %s: %s", tmp,
               strerror(rc));
        close(fd);
        unlink(tmp);
        return -1;
    }
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MX_MAGIC, sizeof(MX_MAGIC));
    h.version = MX_VERSION;
    h.nrows = SG_METRICS_ROWS;
    h.row_size = sizeof(struct mx_row);
    h.header_size = MX_HEADER_SIZE;
    h.created = (int64_t)time(NULL);
    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)
        || fsync(fd) != 0) {
        sg_seterr(err, errlen, "metrics: cannot write %s: %s", tmp,
               strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (link(tmp, path) != 0 && errno != EEXIST) {
        sg_seterr(err, errlen, "metrics: cannot link %s: %s", path,
               strerror(errno));
        unlink(tmp);
        return -1;
    }
    unlink(tmp);
    return 0;
}

/* mx_replace - a file that is not ours (old layout, damaged): move it
 *   aside as PATH.bad and make a new one */
static int
mx_replace(const char *dir, const char *path, char *err, size_t errlen)
{
    char bad[4200];

    snprintf(bad, sizeof(bad), "%s.bad", path);
    if (rename(path, bad) != 0 && errno != ENOENT) {
        sg_seterr(err, errlen, "metrics: cannot move %s aside: %s", path,
               strerror(errno));
        return -1;
    }
    return mx_create(dir, path, err, errlen);
}

/* not_counters - what to do with a file that is not a counters file:
 *   read-only, refuse it (-1, errno EINVAL); else replace it (0: open
 *   it again) */
static int
not_counters(const char *state_dir, const char *path, int rdonly, char *err,
             size_t errlen)
{
    if (rdonly) {
        sg_seterr(err, errlen, "metrics: %s is not a counters file", path);
        errno = EINVAL;
        return -1;
    }
    return mx_replace(state_dir, path, err, errlen);
}

/* sg_metrics_open - map the counters of a state directory */
SG_METRICS *
sg_metrics_open(const char *state_dir, int flags, char *err, size_t errlen)
{
    char path[4200];
    struct sg_metrics *m;
    struct stat sb;
    int rdonly = (flags & SG_METRICS_RDONLY) != 0;
    int attempt, fd;
    void *map;

    if (state_dir == NULL || state_dir[0] == '\0') {
        sg_seterr(err, errlen, "metrics: no state_dir");
        errno = EINVAL;
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", state_dir, SG_METRICS_FILE);
    for (attempt = 0; attempt < 3; attempt++) {
        fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && !rdonly) {
            if (mx_create(state_dir, path, err, errlen) != 0)
                return NULL;
            continue;
        }
        if (fd < 0) {
            int e = errno;

            sg_seterr(err, errlen, "metrics: cannot open %s: %s", path,
                   strerror(e));
            errno = e;
            return NULL;
        }
        if (fstat(fd, &sb) != 0) {
            sg_seterr(err, errlen, "metrics: %s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        if ((size_t)sb.st_size < MX_FILE_SIZE) {
            close(fd);
            if (not_counters(state_dir, path, rdonly, err, errlen) != 0)
                return NULL;
            continue;
        }
        map = mmap(NULL, MX_FILE_SIZE,
                   rdonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd, 0);
        close(fd);
        if (map == MAP_FAILED) {
            sg_seterr(err, errlen, "metrics: cannot map %s: %s", path,
                   strerror(errno));
            return NULL;
        }
        if (!mx_valid(map, MX_FILE_SIZE)) {
            munmap(map, MX_FILE_SIZE);
            if (not_counters(state_dir, path, rdonly, err, errlen) != 0)
                return NULL;
            continue;
        }
        if ((m = calloc(1, sizeof(*m))) == NULL) {
            munmap(map, MX_FILE_SIZE);
            sg_seterr(err, errlen, "metrics: out of memory");
            return NULL;
        }
        m->map = map;
        m->size = MX_FILE_SIZE;
        m->rdonly = rdonly;
        return m;
    }
    sg_seterr(err, errlen, "metrics: %s keeps changing under us", path);
    return NULL;
}

/* sg_metrics_close - unmap; accepts NULL; returns NULL */
SG_METRICS *
sg_metrics_close(SG_METRICS *m)
{
    if (m == NULL)
        return NULL;
    munmap(m->map, m->size);
    free(m);
    return NULL;
}

/* mx_key_is - does a ready row carry this key? */
static int
mx_key_is(const struct mx_row *r, const char *region, const char *rule)
{
    return strncmp(r->region, region, sizeof(r->region)) == 0
           && strncmp(r->rule, rule, sizeof(r->rule)) == 0;
}

/*
 * mx_find - the row of (region, rule), claimed when it is new; NULL
 *   when the file is full
 */
static struct mx_row *
mx_find(struct sg_metrics *m, const char *region, const char *rule)
{
    struct mx_row *rows = mx_rows(m);
    uint32_t u, want;
    size_t i;
    int spin;

    for (i = 0; i < SG_METRICS_ROWS; i++) {
        struct mx_row *r = &rows[i];

        u = atomic_load_explicit(&r->used, memory_order_acquire);
        if (u == 0) {
            want = 0;
            if (atomic_compare_exchange_strong(&r->used, &want, 1)) {
                snprintf(r->region, sizeof(r->region), "%s", region);
                snprintf(r->rule, sizeof(r->rule), "%s", rule);
                atomic_store_explicit(&r->used, 2, memory_order_release);
                return r;
            }
            u = want;
        }
        /* Another process is writing this row's key: a few stores. */
        for (spin = 0; u == 1 && spin < 10000; spin++) {
            sched_yield();
            u = atomic_load_explicit(&r->used, memory_order_acquire);
        }
        if (u == 2 && mx_key_is(r, region, rule))
            return r;
    }
    return NULL;
}

/* mx_add - add n to one counter of (region, rule) */
static void
mx_add(SG_METRICS *m, const char *region, const char *rule,
       enum sg_metrics_kind kind, long long n)
{
    struct mx_row *r;

    if (m == NULL || m->rdonly || n <= 0)
        return;
    if ((r = mx_find(m, region != NULL ? region : "",
                     rule != NULL ? rule : "")) == NULL)
        return;
    atomic_fetch_add_explicit(&r->n[kind], (uint64_t)n,
                              memory_order_relaxed);
}

/* sg_metrics_count - count one recipient verdict */
void
sg_metrics_count(SG_METRICS *m, const char *region, const char *rule,
                 SG_ACTION action, long long n)
{
    switch (action) {
    case SG_ACCEPT:
        mx_add(m, region, "", SG_METRICS_ACCEPTED, n);
        break;
    case SG_DEFER:
        mx_add(m, region, rule, SG_METRICS_DEFERRED, n);
        break;
    default:
        mx_add(m, region, rule, SG_METRICS_REFUSED, n);
        break;
    }
}

/* sg_metrics_sync_error - count one failed sync of a region */
void
sg_metrics_sync_error(SG_METRICS *m, const char *region)
{
    mx_add(m, region, "sync", SG_METRICS_SYNC_ERRORS, 1);
}

/* sg_metrics_rows - copy the counters */
size_t
sg_metrics_rows(const SG_METRICS *m, struct sg_metrics_row *rows,
                size_t max)
{
    const struct mx_row *r;
    size_t i, n = 0;
    int k;

    if (m == NULL)
        return 0;
    r = mx_rows(m);
    for (i = 0; i < SG_METRICS_ROWS && n < max; i++) {
        if (atomic_load_explicit((_Atomic uint32_t *)&r[i].used,
                                 memory_order_acquire) != 2)
            continue;
        snprintf(rows[n].region, sizeof(rows[n].region), "%.*s",
                 (int)sizeof(r[i].region) - 1, r[i].region);
        snprintf(rows[n].rule, sizeof(rows[n].rule), "%.*s",
                 (int)sizeof(r[i].rule) - 1, r[i].rule);
        for (k = 0; k < SG_METRICS_NKINDS; k++)
            rows[n].n[k] = atomic_load_explicit(
                (_Atomic uint64_t *)&r[i].n[k], memory_order_relaxed);
        n++;
    }
    return n;
}

/* sg_metrics_gauges_read - the gauges of a state store and quota engine */
void
sg_metrics_gauges_read(SG_SNAP *snap, SG_QUOTA *quota,
                       struct sg_metrics_gauges *g)
{
    char names[64][SG_REGION_MAX + 1];
    struct sg_quota_limits lim;
    struct sg_quota_usage u;
    struct sg_account a;
    size_t i, n;

    memset(g, 0, sizeof(*g));
    g->now = (long long)time(NULL);
    if (snap == NULL || sg_snap_begin(snap) != SG_OK)
        return;
    g->state_ok = 1;
    g->imported_at = sg_snap_imported_at(snap);
    n = sg_snap_regions(snap, names, 64);
    for (i = 0; i < n && g->nregion < 64; i++) {
        struct sg_metrics_region *r = &g->region[g->nregion];

        if (sg_snap_account(snap, names[i], &a) != SG_OK)
            continue;
        memset(r, 0, sizeof(*r));
        snprintf(r->region, sizeof(r->region), "%s", names[i]);
        r->max_24h = a.max_24h;
        r->max_rate = a.max_rate;
        r->sent_24h = a.sent_24h;
        lim.max_rate = a.max_rate;
        lim.burst = 0;
        lim.max_24h = a.max_24h;
        lim.sent_24h = a.sent_24h;
        lim.synced_at_ms = g->imported_at * 1000;
        if (quota != NULL
            && sg_quota_usage(quota, names[i], &lim, 0, &u) == SG_OK) {
            r->have_usage = 1;
            r->sent_24h = u.sent_24h;
            r->reserved = u.reserved;
            r->rate_now = u.rate_now;
        }
        g->nregion++;
    }
    sg_snap_end(snap);
}

/* A growing text buffer for the renderer. */
struct mx_buf {
    char *s;
    size_t len;
    size_t cap;
    int oom;
};

/* mx_printf - append to a buffer; sets oom on failure */
static void
mx_printf(struct mx_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t want;
    int n;
    char *ns;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        want = b->cap * 2 + (size_t)n;
        if ((ns = realloc(b->s, want)) == NULL) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = want;
    }
}

/* mx_label - a label value escaped for the text format (\\, \", \n);
 *   empty becomes "none" */
static const char *
mx_label(const char *v, char *buf, size_t size)
{
    size_t o = 0;

    if (v == NULL || v[0] == '\0')
        v = "none";
    for (; *v != '\0' && o + 3 < size; v++) {
        if (*v == '\\' || *v == '"') {
            buf[o++] = '\\';
            buf[o++] = *v;
        } else if (*v == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else {
            buf[o++] = *v;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* mx_head - HELP and TYPE lines of a metric family */
static void
mx_head(struct mx_buf *b, const char *name, const char *type,
        const char *help)
{
    mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* mx_gauge_family - one per-region gauge family */
static void
mx_gauge_family(struct mx_buf *b, const struct sg_metrics_gauges *g,
                const char *name, const char *help, int which)
{
    char reg[80];
    size_t i;
    double v;

    mx_head(b, name, "gauge", help);
    for (i = 0; i < g->nregion; i++) {
        const struct sg_metrics_region *r = &g->region[i];

        switch (which) {
        case 0: v = r->sent_24h; break;
        case 1: v = r->max_24h; break;
        case 2: v = r->max_rate; break;
        case 3: if (!r->have_usage) continue; v = r->reserved; break;
        default: if (!r->have_usage) continue; v = r->rate_now; break;
        }
        mx_printf(b, "%s{region=\"%s\"} %.17g\n", name,
                  mx_label(r->region, reg, sizeof(reg)), v);
    }
}

/* sg_metrics_render - the Prometheus text exposition (format 0.0.4) */
char *
sg_metrics_render(const SG_METRICS *m, const struct sg_metrics_gauges *g,
                  size_t *len)
{
    static const char *const verdict[3] = {
        "accepted", "deferred", "refused"
    };
    struct sg_metrics_row *rows;
    struct mx_buf b;
    char reg[80];
    char rule[40];
    size_t i, n;
    int k;

    memset(&b, 0, sizeof(b));
    b.cap = 4096;
    if ((b.s = malloc(b.cap)) == NULL)
        return NULL;
    b.s[0] = '\0';
    if ((rows = calloc(SG_METRICS_ROWS, sizeof(*rows))) == NULL) {
        free(b.s);
        return NULL;
    }
    n = sg_metrics_rows(m, rows, SG_METRICS_ROWS);

    mx_head(&b, "sesgate_recipients_total", "counter",
            "Recipients sesgate decided, by SES region, rule and verdict "
            "(accepted: rule none).");
    for (k = SG_METRICS_ACCEPTED; k <= SG_METRICS_REFUSED; k++)
        for (i = 0; i < n; i++) {
            if (rows[i].n[k] == 0 && !(k == SG_METRICS_ACCEPTED
                                       && rows[i].rule[0] == '\0'))
                continue;
            if (k == SG_METRICS_ACCEPTED && rows[i].rule[0] != '\0')
                continue;
            mx_printf(&b, "sesgate_recipients_total{region=\"%s\","
                      "rule=\"%s\",verdict=\"%s\"} %llu\n",
                      mx_label(rows[i].region, reg, sizeof(reg)),
                      mx_label(rows[i].rule, rule, sizeof(rule)),
                      verdict[k], rows[i].n[k]);
        }
    mx_head(&b, "sesgate_sync_errors_total", "counter",
            "Failed syncs of a region's SES state (sesgatectl sync).");
    for (i = 0; i < n; i++)
        if (strcmp(rows[i].rule, "sync") == 0)
            mx_printf(&b, "sesgate_sync_errors_total{region=\"%s\"} %llu\n",
                      mx_label(rows[i].region, reg, sizeof(reg)),
                      rows[i].n[SG_METRICS_SYNC_ERRORS]);
    free(rows);

    if (g != NULL) {
        mx_head(&b, "sesgate_state_up", "gauge",
                "1 when the state store could be read.");
        mx_printf(&b, "sesgate_state_up %d\n", g->state_ok ? 1 : 0);
        mx_head(&b, "sesgate_state_age_seconds", "gauge",
                "Seconds since the SES state was last imported or synced.");
        if (g->state_ok && g->imported_at > 0)
            mx_printf(&b, "sesgate_state_age_seconds %lld\n",
                      g->now - g->imported_at);
        mx_gauge_family(&b, g, "sesgate_quota_sent_24h",
                        "Recipients counted against the daily quota in "
                        "the rolling 24 hours.", 0);
        mx_gauge_family(&b, g, "sesgate_quota_max_24h",
                        "Max24HourSend of the region's account (-1: "
                        "unlimited).", 1);
        mx_gauge_family(&b, g, "sesgate_quota_max_rate",
                        "MaxSendRate of the region's account, per second.",
                        2);
        mx_gauge_family(&b, g, "sesgate_quota_reserved",
                        "Quota units held by transactions in flight.", 3);
        mx_gauge_family(&b, g, "sesgate_quota_rate_now",
                        "Recipients admitted in the last second.", 4);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    if (len != NULL)
        *len = b.len;
    return b.s;
}

/* sg_metrics_http_reply - the HTTP/1.0 answer to one request */
char *
sg_metrics_http_reply(const char *req, size_t reqlen, const char *body,
                      size_t bodylen, size_t *len)
{
    const char *status = "400 Bad Request";
    const char *ctype = "text/plain; charset=utf-8";
    const char *msg = "bad request\n";
    const char *sp, *end;
    size_t mlen, plen;
    struct mx_buf b;

    end = memchr(req, '\n', reqlen);
    if (end != NULL && (sp = memchr(req, ' ', (size_t)(end - req)))
        != NULL) {
        const char *path = sp + 1;
        const char *pe = memchr(path, ' ', (size_t)(end - path));

        mlen = (size_t)(sp - req);
        if (pe == NULL)
            pe = end;
        plen = (size_t)(pe - path);
        if (memchr(path, '?', plen) != NULL)
            plen = (size_t)((const char *)memchr(path, '?', plen) - path);
        if (!((mlen == 3 && memcmp(req, "GET", 3) == 0)
              || (mlen == 4 && memcmp(req, "HEAD", 4) == 0))) {
            status = "405 Method Not Allowed";
            msg = "only GET\n";
        } else if (plen == 8 && memcmp(path, "/metrics", 8) == 0) {
            status = NULL;
        } else {
            status = "404 Not Found";
            msg = "try /metrics\n";
        }
        if (status == NULL && mlen == 4)
            bodylen = 0;        /* HEAD: headers only */
    }
    memset(&b, 0, sizeof(b));
    b.cap = 256 + (status == NULL ? bodylen : strlen(msg));
    if ((b.s = malloc(b.cap)) == NULL)
        return NULL;
    if (status == NULL) {
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        mx_printf(&b, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                  ctype, bodylen);
        if (!b.oom && b.cap - b.len < bodylen + 1) {
            char *ns = realloc(b.s, b.len + bodylen + 1);

            if (ns == NULL)
                b.oom = 1;
            else
                b.s = ns;
        }
        if (!b.oom) {
            memcpy(b.s + b.len, body, bodylen);
            b.len += bodylen;
            b.s[b.len] = '\0';
        }
    } else {
        mx_printf(&b, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  status, ctype, strlen(msg), msg);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

/* sg_metrics_listen_parse - split "inet:HOST:PORT" */
int
sg_metrics_listen_parse(const char *spec, char *host, size_t hostlen,
                        int *port, char *err, size_t errlen)
{
    const char *h, *colon;
    char *end;
    long p;
    size_t hl;
    struct in_addr a4;
    struct in6_addr a6;

    if (strncmp(spec, "inet:", 5) != 0) {
        sg_seterr(err, errlen, "metrics_listen: '%s': expected "
               "inet:HOST:PORT", spec);
        return -1;
    }
    h = spec + 5;
    if ((colon = strrchr(h, ':')) == NULL || colon == h) {
        sg_seterr(err, errlen, "metrics_listen: '%s': expected "
               "inet:HOST:PORT", spec);
        return -1;
    }
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535) {
        sg_seterr(err, errlen, "metrics_listen: '%s': bad port", spec);
        return -1;
    }
    hl = (size_t)(colon - h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl + 1 > hostlen) {
        sg_seterr(err, errlen, "metrics_listen: '%s': bad host", spec);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, &a4) == 1) {
        if ((ntohl(a4.s_addr) >> 24) != 127) {
            sg_seterr(err, errlen, "metrics_listen: %s is not a loopback "
                   "address (127.0.0.0/8 or ::1)", host);
            return -1;
        }
    } else if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&a6)) {
            sg_seterr(err, errlen, "metrics_listen: %s is not a loopback "
                   "address (127.0.0.0/8 or ::1)", host);
            return -1;
        }
    } else {
        sg_seterr(err, errlen, "metrics_listen: '%s': the host must be a "
               "numeric loopback address", host);
        return -1;
    }
    *port = (int)p;
    return 0;
}

struct sg_metrics_server {
    int lfd;
    int stop[2];                /* a pipe: the stop signal */
    pthread_t thread;
    SG_METRICS *m;              /* borrowed */
    sg_metrics_gauges_fn fn;    /* NULL: the published copy */
    void *arg;
    pthread_mutex_t lock;       /* guards pub, have_pub */
    struct sg_metrics_gauges pub;
    int have_pub;
};

/* sg_metrics_serve_publish - the gauges the listener answers with */
void
sg_metrics_serve_publish(SG_METRICS_SERVER *s,
                         const struct sg_metrics_gauges *g)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->pub = *g;
    s->have_pub = 1;
    pthread_mutex_unlock(&s->lock);
}

/* srv_gauges - the gauges for one answer: the daemon's callback, or the
 *   copy it published (its age kept current); 0 when there are none */
static int
srv_gauges(struct sg_metrics_server *s, struct sg_metrics_gauges *g)
{
    int have;

    if (s->fn != NULL) {
        s->fn(s->arg, g);
        return 1;
    }
    pthread_mutex_lock(&s->lock);
    *g = s->pub;
    have = s->have_pub;
    pthread_mutex_unlock(&s->lock);
    g->now = (long long)time(NULL);
    return have;
}

/* srv_answer - read one request from a connection and answer it */
static void
srv_answer(struct sg_metrics_server *s, int fd)
{
    struct sg_metrics_gauges *g;
    struct timeval tv = { 2, 0 };
    char req[4096];
    size_t have = 0, blen = 0, rlen = 0, off = 0;
    char *body, *reply;
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (have < sizeof(req) - 1) {
        n = recv(fd, req + have, sizeof(req) - 1 - have, 0);
        if (n <= 0)
            break;
        have += (size_t)n;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
            break;
    }
    if (have == 0)
        return;
    req[have] = '\0';
    if ((g = malloc(sizeof(*g))) == NULL)
        return;
    body = sg_metrics_render(s->m, srv_gauges(s, g) ? g : NULL, &blen);
    free(g);
    reply = sg_metrics_http_reply(req, have, body != NULL ? body : "",
                                  body != NULL ? blen : 0, &rlen);
    free(body);
    while (reply != NULL && off < rlen) {
        n = send(fd, reply + off, rlen - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(reply);
}

/* srv_main - the listener thread: one connection at a time */
static void *
srv_main(void *arg)
{
    struct sg_metrics_server *s = arg;
    struct pollfd pf[2];
    int fd;

    pf[0].fd = s->lfd;
    pf[0].events = POLLIN;
    pf[1].fd = s->stop[0];
    pf[1].events = POLLIN;
    for (;;) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents != 0)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        srv_answer(s, fd);
        close(fd);
    }
    return NULL;
}

/* srv_free - release a server's resources (the thread is not running) */
static void
srv_free(struct sg_metrics_server *s)
{
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->stop[0] >= 0)
        close(s->stop[0]);
    if (s->stop[1] >= 0)
        close(s->stop[1]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* sg_metrics_serve_start - metrics_listen: serve GET /metrics */
SG_METRICS_SERVER *
sg_metrics_serve_start(const char *listen_spec, SG_METRICS *m,
                       sg_metrics_gauges_fn fn, void *arg, char *err,
                       size_t errlen)
{
    struct sg_metrics_server *s;
    struct sockaddr_storage ss;
    socklen_t sl;
    char host[64];
    int port, one = 1, rc;

    if (sg_metrics_listen_parse(listen_spec, host, sizeof(host),
                                &port, err, errlen) != 0)
        return NULL;
    memset(&ss, 0, sizeof(ss));
    if (strchr(host, ':') == NULL) {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, host, &in->sin_addr);
        sl = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, host, &in6->sin6_addr);
        sl = sizeof(*in6);
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        sg_seterr(err, errlen, "metrics_listen: out of memory");
        return NULL;
    }
    s->stop[0] = s->stop[1] = -1;
    s->m = m;
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_init(&s->lock, NULL);
    s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0
        || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
                      sizeof(one)) != 0
        || bind(s->lfd, (struct sockaddr *)&ss, sl) != 0
        || listen(s->lfd, 16) != 0) {
        sg_seterr(err, errlen, "metrics_listen: %s: %s", listen_spec,
               strerror(errno));
        srv_free(s);
        return NULL;
    }
    if (pipe2(s->stop, O_CLOEXEC) != 0) {
        sg_seterr(err, errlen, "metrics_listen: pipe: %s", strerror(errno));
        srv_free(s);
        return NULL;
    }
    if ((rc = pthread_create(&s->thread, NULL, srv_main, s)) != 0) {
        sg_seterr(err, errlen, "metrics_listen: thread: %s", strerror(rc));
        srv_free(s);
        return NULL;
    }
    return s;
}

/* sg_metrics_serve_stop - stop the thread, close; accepts NULL */
SG_METRICS_SERVER *
sg_metrics_serve_stop(SG_METRICS_SERVER *s)
{
    if (s == NULL)
        return NULL;
    if (write(s->stop[1], "x", 1) == 1)
        pthread_join(s->thread, NULL);
    else
        pthread_detach(s->thread);
    srv_free(s);
    return NULL;
}
