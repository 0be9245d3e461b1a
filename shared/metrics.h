/*
 * metrics.h - counters shared by the daemons, and their Prometheus text
 *
 * Per region and rule: recipients accepted, deferred and refused; per
 * region: sync errors. The counters live in a small file mapped by
 * every process (STATE_DIR/metrics.db, SG_METRICS_FILE): the milter's
 * threads, the policy daemon and sesgatectl add to the same numbers
 * with atomic operations, and the numbers survive reloads and restarts
 * (a new file, or one that is not ours, starts from zero).
 *
 * Gauges that are read, not counted (quota usage per region, the age
 * of the state) are taken from the state store and the quota engine
 * when the text is rendered (sg_metrics_gauges_read).
 *
 *   sg_metrics_open / _close   the shared counters
 *   sg_metrics_count           one verdict (the daemons, once per
 *                              recipient verdict)
 *   sg_metrics_sync_error      one failed sync of a region
 *   sg_metrics_rows            a copy of the counters, for status --json
 *   sg_metrics_render          Prometheus text format 0.0.4
 *   sg_metrics_serve_start     loopback HTTP listener (GET /metrics) in
 *                              a thread of its own: metrics_listen
 *
 * The library does not log: failures come back as status and text.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"
#include "quota.h"

typedef struct sg_metrics SG_METRICS;
typedef struct sg_metrics_server SG_METRICS_SERVER;

/* The counters' file in state_dir. */
#define SG_METRICS_FILE     "metrics.db"
/* Longest rule name kept ("R11", "state", "quota"). */
#define SG_METRICS_RULE_MAX 15
/* Rows (region and rule pairs) the file holds; more are not counted. */
#define SG_METRICS_ROWS     512

/* What is counted in a row. */
enum sg_metrics_kind {
    SG_METRICS_ACCEPTED = 0,    /* recipients accepted */
    SG_METRICS_DEFERRED = 1,    /* recipients deferred (4xx) */
    SG_METRICS_REFUSED = 2,     /* recipients refused (5xx) */
    SG_METRICS_SYNC_ERRORS = 3, /* failed syncs (rule "sync") */
    SG_METRICS_NKINDS = 4
};

/* A copy of one row of counters. */
struct sg_metrics_row {
    char region[SG_REGION_MAX + 1];     /* "" when no region was found */
    char rule[SG_METRICS_RULE_MAX + 1]; /* "" for accepted recipients */
    unsigned long long n[SG_METRICS_NKINDS];
};

/* Read-only gauges of one region, for the renderer. */
struct sg_metrics_region {
    char region[SG_REGION_MAX + 1];
    double max_24h;             /* Max24HourSend; < 0 unlimited */
    double max_rate;            /* MaxSendRate */
    double sent_24h;            /* quota engine's rolling window */
    double reserved;            /* held by in-flight transactions */
    double rate_now;            /* admitted in the last second */
    int have_usage;             /* the quota engine answered */
};

/* Everything read, not counted. */
struct sg_metrics_gauges {
    long long imported_at;      /* epoch seconds, 0: no state */
    long long now;              /* epoch seconds of the reading */
    int state_ok;               /* the state store could be read */
    size_t nregion;
    struct sg_metrics_region region[64];
};

/* Flags of sg_metrics_open. */
#define SG_METRICS_RDONLY   0x01    /* map read-only; never create */

/*
 * sg_metrics_open - map the counters of a state directory
 *
 * Parameters: state_dir; flags (SG_METRICS_RDONLY: do not create,
 *   counting is a no-op); err/errlen for the reason of a failure.
 * Returns: a new handle (free with sg_metrics_close), or NULL with err
 *   set; a read-only open of a missing file also returns NULL, with
 *   errno ENOENT. Thread-safety: one handle may be used by many
 *   threads; many processes share the file.
 */
extern SG_METRICS *sg_metrics_open(const char *state_dir, int flags,
                                   char *err, size_t errlen);

/* sg_metrics_close - unmap; accepts NULL; returns NULL */
extern SG_METRICS *sg_metrics_close(SG_METRICS *m);

/*
 * sg_metrics_count - count one recipient verdict
 *
 * Parameters: m (NULL: nothing is counted); region (NULL or "" when
 *   none was found); rule (NULL or "" for an accept); action; n, how
 *   many recipients. Lock-free; async-signal-unsafe only in that it
 *   may spin briefly while another process claims a row.
 */
extern void sg_metrics_count(SG_METRICS *m, const char *region,
                             const char *rule, SG_ACTION action,
                             long long n);

/* sg_metrics_sync_error - count one failed sync of a region */
extern void sg_metrics_sync_error(SG_METRICS *m, const char *region);

/*
 * sg_metrics_rows - copy the counters
 *
 * Returns: the number of rows copied (at most max), in the order they
 *   were first counted.
 */
extern size_t sg_metrics_rows(const SG_METRICS *m,
                              struct sg_metrics_row *rows, size_t max);

/*
 * sg_metrics_gauges_read - the gauges of a state store and quota engine
 *
 * Parameters: snap (may be NULL: no state), quota (may be NULL), g,
 *   filled in. Begins and ends the snapshot itself.
 */
extern void sg_metrics_gauges_read(SG_SNAP *snap, SG_QUOTA *quota,
                                   struct sg_metrics_gauges *g);

/*
 * sg_metrics_render - the Prometheus text exposition (format 0.0.4)
 *
 * Parameters: m (NULL: no counters), g (NULL: no gauges); len, set to
 *   the length.
 * Returns: a new NUL-terminated text (free()), or NULL when out of
 *   memory.
 */
extern char *sg_metrics_render(const SG_METRICS *m,
                               const struct sg_metrics_gauges *g,
                               size_t *len);

/*
 * sg_metrics_http_reply - the HTTP/1.0 answer to one request
 *
 * Pure, for tests and the listener: GET /metrics (query ignored)
 * answers 200 with body; another path 404; another method 405; a
 * malformed request 400. Returns a new text (free()), NULL when out of
 * memory; *len its length.
 */
extern char *sg_metrics_http_reply(const char *req, size_t reqlen,
                                   const char *body, size_t bodylen,
                                   size_t *len);

/* How the listener gets the gauges: filled in per request, from the
 * listener's thread (the daemon's own handles; never open a second
 * LMDB environment of the same store in one process). */
typedef void (*sg_metrics_gauges_fn)(void *arg,
                                     struct sg_metrics_gauges *g);

/*
 * sg_metrics_serve_start - metrics_listen: serve GET /metrics
 *
 * Binds "inet:HOST:PORT" (a loopback address only: 127.0.0.0/8 or
 * ::1) and answers in a thread of its own, one request per connection,
 * 2 seconds per request at most (a slow scraper delays other scrapes,
 * never mail).
 *
 * Parameters: listen_spec (metrics_listen); m, the counters (borrowed:
 *   keep them open until sg_metrics_serve_stop); fn, arg: the gauges,
 *   called from the listener's thread, or fn NULL: the gauges last
 *   given to sg_metrics_serve_publish (none until then); err/errlen.
 * Returns: a handle, or NULL with err set (bad address, bind failure).
 */
extern SG_METRICS_SERVER *sg_metrics_serve_start(const char *listen_spec,
                                                 SG_METRICS *m,
                                                 sg_metrics_gauges_fn fn,
                                                 void *arg, char *err,
                                                 size_t errlen);

/*
 * sg_metrics_serve_publish - the gauges the listener answers with when
 *   it has no callback (a single-threaded daemon publishes from its
 *   loop); copied under a lock; the state's age is taken at each
 *   answer. Accepts a NULL server.
 */
extern void sg_metrics_serve_publish(SG_METRICS_SERVER *s,
                                     const struct sg_metrics_gauges *g);

/* sg_metrics_serve_stop - stop the thread, close; accepts NULL */
extern SG_METRICS_SERVER *sg_metrics_serve_stop(SG_METRICS_SERVER *s);

/*
 * sg_metrics_listen_parse - split "inet:HOST:PORT" (HOST a loopback
 *   address, "[::1]" for IPv6); returns 0, or -1 with err set
 */
extern int sg_metrics_listen_parse(const char *spec, char *host,
                                   size_t hostlen, int *port, char *err,
                                   size_t errlen);

#endif /* SG_METRICS_H */
