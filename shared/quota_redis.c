/*
 * quota_redis.c - the Redis backend of the quota engine: the counters
 *   of every region live on one Redis server and every check-and-update
 *   runs there atomically, in one Lua script call per operation, so any
 *   number of hosts share one quota exactly
 *
 * Keys. Per region R, four keys share the hash tag {R} (so that they
 * also stay together on one node of a Redis Cluster):
 *
 *   sesgate:q:{R}:s   string of 12 numbers: the rate bucket (tokens,
 *                     time of the last refill), the newest window bucket
 *                     and the window's running sum, the synced_at and
 *                     the sum committed since it, the held rate and
 *                     daily totals, the rate meter (second, units taken
 *                     in it and in the one before) and the earliest
 *                     time a hold may expire (0: none);
 *   sesgate:q:{R}:w   hash: window bucket number -> committed daily
 *                     units in that bucket;
 *   sesgate:q:{R}:h   hash: txn -> its hold;
 *   sesgate:q:{R}:x   sorted set: txn by the expiry time of its hold.
 *
 * Writes give the keys a time to live of 25 hours (s at every write,
 * the others whenever they gain a field): a region left alone that
 * long has nothing left to count (holds expire within
 * quota_reservation_timeout, at most a day), so the server forgets it
 * by itself.
 *
 * Semantics: exactly those of the embedded backend (quota_file.c), step
 * for step, so that the two can be swapped:
 *   - rate: a token bucket of burst units refilled at max_rate per
 *     second; reserve takes the rate units; tokens that a commit does
 *     not use or a release gives back return to the bucket only within
 *     the second they were taken (later SES has counted them anyway);
 *     an expired hold returns no tokens;
 *   - daily: a window of the current 10-second bucket and the 8,640
 *     before it, so a committed unit counts for at least 24 hours and
 *     at most 10 s more; used = max(window sum, sent_24h + committed
 *     since synced_at's bucket) while synced_at is under a day old,
 *     window sum once it is older, max(window sum, sent_24h) when
 *     synced_at is 0; admission needs used + held + new <= max_24h
 *     (max_24h < 0: unlimited);
 *   - holds per transaction id (reserving again adds to the hold and
 *     restarts its timeout), all or none, daily checked before rate; a
 *     hold expires quota_reservation_timeout after its last reserve.
 * Unlike the embedded file, Redis sets no limit on holds in flight.
 *
 * Time: the front end passes now_ms (the caller's CLOCK_REALTIME unless
 * a test injects one), so hosts that share a server must be
 * NTP-synced. As in the embedded backend the window never moves back:
 * a commit from a host whose clock is behind lands in the newest
 * bucket, and the rate bucket does not refill for a time already seen.
 *
 * Connections: a pool of blocking hiredis connections; a call takes one
 * (or opens one), runs one EVALSHA and puts it back, so one handle
 * serves any number of threads, each using its own connection at a
 * time. redis_timeout bounds connect and every read and write. On an
 * I/O failure the connection is dropped with every idle one opened
 * before it (a restarted server has closed them all), and the call
 * returns SG_ERR_IO; the next call reconnects. While the server cannot
 * be reached, connection attempts are spaced by a back-off that
 * doubles from 100 ms to 5 s, and calls in between fail at once with
 * the last connection error. After a SCRIPT FLUSH (or a restart) the
 * NOSCRIPT answer makes the call load the script again and retry once.
 *
 * Host names are resolved with getaddrinfo, which redis_timeout does not
 * bound: use an address or a unix socket where that matters.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "quota_int.h"

#ifdef HAVE_HIREDIS

/* Third-party headers. */
#include <hiredis/hiredis.h>

/* Window geometry, as the embedded backend's: the current 10-second
 * bucket and the 8,640 before it. */
#define SG_RQ_BUCKET_MS     10000LL
#define SG_RQ_BUCKETS       8641LL
#define SG_RQ_DAY_MS        86400000LL
/* Time to live of a region's keys: a day and an hour. */
#define SG_RQ_TTL_MS        (SG_RQ_DAY_MS + 3600000LL)

/* Reconnection back-off bounds (milliseconds). */
#define SG_RQ_BACKOFF_MIN   100
#define SG_RQ_BACKOFF_MAX   5000

/* Idle connections kept in the pool; more are closed when put back. */
#define SG_RQ_IDLE_MAX      64

/* Bounds of the redis_url parts and of the password file. */
#define SG_RQ_HOST_MAX      256
#define SG_RQ_PATH_MAX      108     /* sizeof(sun_path) */
#define SG_RQ_USER_MAX      128
#define SG_RQ_PASS_MAX      512
#define SG_RQ_LABEL_MAX     300
#define SG_RQ_DB_MAX        1000000L

/* Script arguments after the keys (ARGV). */
#define SG_RQ_ARGS          15

/*
 * The script. KEYS: s, w, h, x (above). ARGV: op, now, txn, rate
 * units, daily units, max_rate, burst, max_24h, sent_24h, synced_at,
 * reservation timeout, bucket width, buckets in the window, day length,
 * time to live (the limits are zeros for commit, release and reset,
 * which do not use them). Replies: reserve and peek {deny}; commit,
 * release and reset {0}; usage {sent, reserved, rate_now, tokens} as
 * decimal strings (a Lua number would reach the client truncated to an
 * integer). Hold values are "rate daily created second units-this-
 * second". peek and usage write nothing; reserve, commit and release
 * also store the expiries and window moves they computed. Lua 5.1, as
 * embedded in every Redis since 2.6.
 */
static const char sg_rq_script[] =
    "local S, W, H, X = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
    "local op = ARGV[1]\n"
    "if op == 'reset' then\n"
    "  redis.call('DEL', S, W, H, X)\n"
    "  return {0}\n"
    "end\n"
    "local now, txn = tonumber(ARGV[2]), ARGV[3]\n"
    "local ru, du = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local rate, burst = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local max24, sent24 = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
    "local synced, tmo = tonumber(ARGV[10]), tonumber(ARGV[11])\n"
    "local G, N = tonumber(ARGV[12]), tonumber(ARGV[13])\n"
    "local DAY, TTL = tonumber(ARGV[14]), tonumber(ARGV[15])\n"
    "if not (now and ru and du and rate and burst and max24 and sent24\n"
    "        and synced and tmo and G and N and DAY and TTL) then\n"
    "  return redis.error_reply('sesgate: bad script arguments')\n"
    "end\n"
    "local haslim = op == 'reserve' or op == 'peek' or op == 'usage'\n"
    "local write = op == 'reserve' or op == 'commit' or op == 'release'\n"
    "local floor = math.floor\n"
    "local function num(x, d)\n"
    "  local n = tonumber(x)\n"
    "  if n == nil or n ~= n then return d end\n"
    "  return n\n"
    "end\n"
    "local function fmt(n) return string.format('%.17g', n) end\n"
    "local function hold(x)\n"
    "  local r, d, c, s, u = string.match(x or '',\n"
    "    '^(%d+) (%d+) (%-?%d+) (%-?%d+) (%d+)$')\n"
    "  if not r then return nil end\n"
    "  return {r = tonumber(r), d = tonumber(d), c = tonumber(c),\n"
    "          s = tonumber(s), u = tonumber(u)}\n"
    "end\n"
    "local v = {}\n"
    "local st = redis.call('GET', S)\n"
    "if st then\n"
    "  v = {string.match(st, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) ' ..\n"
    "                        '(%S+) (%S+) (%S+) (%S+) (%S+)$')}\n"
    "end\n"
    "local tk, ts = num(v[1], 0), num(v[2], 0)\n"
    "local head, sum = num(v[3], nil), num(v[4], 0)\n"
    "local sy, sn = num(v[5], 0), num(v[6], 0)\n"
    "local hr, hd = num(v[7], 0), num(v[8], 0)\n"
    "local ms, mc, mp = num(v[9], 0), num(v[10], 0), num(v[11], 0)\n"
    "local nx = num(v[12], 0)\n"
    "local sec = floor(now / 1000)\n"
    "-- Holds past their time: the daily units go back, rate tokens do not.\n"
    "-- nx: no hold expires before it (0: no holds), so most calls skip this.\n"
    "if nx ~= 0 and now >= nx then\n"
    "  local gone = redis.call('ZRANGEBYSCORE', X, '-inf', now)\n"
    "  if #gone > 0 then\n"
    "    local hv = redis.call('HMGET', H, unpack(gone))\n"
    "    for i = 1, #gone do\n"
    "      local h = hold(hv[i])\n"
    "      if h then hr, hd = hr - h.r, hd - h.d end\n"
    "    end\n"
    "    if write then\n"
    "      redis.call('HDEL', H, unpack(gone))\n"
    "      redis.call('ZREM', X, unpack(gone))\n"
    "    end\n"
    "  end\n"
    "  if write then\n"
    "    local f = redis.call('ZRANGE', X, 0, 0, 'WITHSCORES')\n"
    "    nx = tonumber(f[2]) or 0\n"
    "  end\n"
    "end\n"
    "-- The window follows the newest bucket; buckets that leave it are\n"
    "-- subtracted from the running sums.\n"
    "local cur = floor(now / G)\n"
    "local sb = math.huge\n"
    "if sy > 0 then sb = floor(sy / G) end\n"
    "if head == nil or cur - head >= N then\n"
    "  if head ~= nil or sum ~= 0 then\n"
    "    sum, sn = 0, 0\n"
    "    if write then redis.call('DEL', W) end\n"
    "  end\n"
    "  head = cur\n"
    "elseif cur > head then\n"
    "  local lo, hi = head - N + 1, cur - N\n"
    "  local function drop(b, c)\n"
    "    sum = sum - c\n"
    "    if b >= sb then sn = sn - c end\n"
    "  end\n"
    "  if hi - lo < 64 then\n"
    "    for b = lo, hi do\n"
    "      local c = redis.call('HGET', W, fmt(b))\n"
    "      if c then\n"
    "        drop(b, num(c, 0))\n"
    "        if write then redis.call('HDEL', W, fmt(b)) end\n"
    "      end\n"
    "    end\n"
    "  else\n"
    "    local all = redis.call('HGETALL', W)\n"
    "    for i = 1, #all, 2 do\n"
    "      local b = tonumber(all[i])\n"
    "      if b and b <= hi then\n"
    "        if b >= lo then drop(b, num(all[i + 1], 0)) end\n"
    "        if write then redis.call('HDEL', W, all[i]) end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  head = cur\n"
    "end\n"
    "-- The sum committed since the caller's sync, recomputed once per sync.\n"
    "if haslim and synced ~= sy then\n"
    "  sy, sn = synced, 0\n"
    "  if synced > 0 then\n"
    "    sb = floor(synced / G)\n"
    "    local lo = head - N + 1\n"
    "    if sb > lo then lo = sb end\n"
    "    if head - lo < 64 then\n"
    "      for b = lo, head do\n"
    "        sn = sn + num(redis.call('HGET', W, fmt(b)), 0)\n"
    "      end\n"
    "    elseif lo <= head then\n"
    "      local all = redis.call('HGETALL', W)\n"
    "      for i = 1, #all, 2 do\n"
    "        local b = tonumber(all[i])\n"
    "        if b and b >= lo and b <= head then\n"
    "          sn = sn + num(all[i + 1], 0)\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  else\n"
    "    sb = math.huge\n"
    "  end\n"
    "end\n"
    "-- The rate bucket refills at max_rate up to burst; ts 0: never used.\n"
    "if haslim then\n"
    "  if ts == 0 then\n"
    "    tk, ts = burst, now\n"
    "  else\n"
    "    if now > ts then\n"
    "      tk, ts = tk + (now - ts) * rate / 1000, now\n"
    "    end\n"
    "    if tk > burst then tk = burst end\n"
    "  end\n"
    "end\n"
    "local function used()\n"
    "  local s\n"
    "  if synced <= 0 then s = sent24\n"
    "  elseif now - synced >= DAY then s = 0\n"
    "  else s = sent24 + sn end\n"
    "  if sum > s then return sum end\n"
    "  return s\n"
    "end\n"
    "local res = {0}\n"
    "if op == 'reserve' or op == 'peek' then\n"
    "  local deny = 0\n"
    "  if du > 0 and max24 >= 0 and used() + hd + du > max24 + 1e-9 then\n"
    "    deny = 2\n"
    "  elseif ru > 0 and tk + 1e-9 < ru then\n"
    "    deny = 1\n"
    "  end\n"
    "  res = {deny}\n"
    "  if deny == 0 and op == 'reserve' then\n"
    "    local h = hold(redis.call('HGET', H, txn))\n"
    "    if h == nil then h = {r = 0, d = 0, c = now, s = sec, u = 0} end\n"
    "    h.c = now\n"
    "    if h.s ~= sec then h.s, h.u = sec, 0 end\n"
    "    h.u, h.r, h.d = h.u + ru, h.r + ru, h.d + du\n"
    "    if redis.call('HSET', H, txn, string.format('%d %d %d %d %d',\n"
    "                  h.r, h.d, h.c, h.s, h.u)) == 1 then\n"
    "      redis.call('PEXPIRE', H, TTL)\n"
    "      redis.call('PEXPIRE', X, TTL)\n"
    "    end\n"
    "    redis.call('ZADD', X, now + tmo, txn)\n"
    "    if nx == 0 or now + tmo < nx then nx = now + tmo end\n"
    "    hr, hd, tk = hr + ru, hd + du, tk - ru\n"
    "    if sec ~= ms then\n"
    "      if sec == ms + 1 then mp = mc else mp = 0 end\n"
    "      ms, mc = sec, 0\n"
    "    end\n"
    "    mc = mc + ru\n"
    "  end\n"
    "elseif op == 'commit' or op == 'release' then\n"
    "  local h = hold(redis.call('HGET', H, txn))\n"
    "  if h then\n"
    "    local cr, cd = 0, 0\n"
    "    if op == 'commit' then\n"
    "      cr, cd = ru, du\n"
    "      if cr < 0 or cr > h.r then cr = h.r end\n"
    "      if cd < 0 or cd > h.d then cd = h.d end\n"
    "    end\n"
    "    redis.call('HDEL', H, txn)\n"
    "    redis.call('ZREM', X, txn)\n"
    "    hr, hd = hr - h.r, hd - h.d\n"
    "    -- Unused tokens go back only within the second they were taken.\n"
    "    local back = h.r - cr\n"
    "    if back > h.u then back = h.u end\n"
    "    if back > 0 and h.s == sec and ts ~= 0 then\n"
    "      tk = tk + back\n"
    "      if ms == sec and mc >= back then mc = mc - back end\n"
    "    end\n"
    "    if cd > 0 then\n"
    "      if redis.call('HINCRBY', W, fmt(head), cd) == cd then\n"
    "        redis.call('PEXPIRE', W, TTL)\n"
    "      end\n"
    "      sum = sum + cd\n"
    "      if head >= sb then sn = sn + cd end\n"
    "    end\n"
    "  end\n"
    "elseif op == 'usage' then\n"
    "  local rn, frac = 0, (now % 1000) / 1000\n"
    "  if ms == sec then rn = mc + mp * (1 - frac)\n"
    "  elseif ms == sec - 1 then rn = mc * (1 - frac) end\n"
    "  res = {fmt(used()), fmt(hd), fmt(rn), fmt(tk)}\n"
    "elseif op ~= 'peek' then\n"
    "  return redis.error_reply('sesgate: unknown operation')\n"
    "end\n"
    "if write then\n"
    "  redis.call('SET', S, string.format('%.17g %d %d %d %d %d ' ..\n"
    "             '%d %d %d %d %d %d', tk, ts, head, sum, sy, sn, hr, hd,\n"
    "             ms, mc, mp, nx), 'PX', TTL)\n"
    "end\n"
    "return res\n";

/* Where the server is, parsed from redis_url. */
struct sg_rq_endpoint {
    bool is_unix;
    char host[SG_RQ_HOST_MAX];
    int port;
    char path[SG_RQ_PATH_MAX];
    long db;
    char user[SG_RQ_USER_MAX];
    char pass[SG_RQ_PASS_MAX];
    char label[SG_RQ_LABEL_MAX]; /* "host:port" or the socket path */
};

/* One pooled connection. */
struct sg_rq_conn {
    redisContext *c;
    unsigned long gen;          /* handle generation when opened */
    long long deadline;         /* monotonic ms: end of the current call */
    bool shortened;             /* socket timeout below redis_timeout */
    char sha[41];               /* the script's SHA1, from SCRIPT LOAD */
    struct sg_rq_conn *next;
};

/* The handle: the common head first (quota_int.h). */
struct sg_quota_redis {
    struct sg_quota head;
    struct sg_rq_endpoint ep;
    struct timeval tv;          /* redis_timeout */
    pthread_mutex_t mu;         /* guards everything below */
    struct sg_rq_conn *idle;
    size_t nidle;
    unsigned long gen;          /* bumped on every broken connection */
    bool down;                  /* the last connection attempt failed */
    long long next_try;         /* monotonic ms of the next attempt */
    long long backoff;          /* current back-off in ms */
    char down_err[SG_QUOTA_ERR_MAX];
};
typedef struct sg_quota_redis SG_RQ;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* rq_mono_ms - CLOCK_MONOTONIC in milliseconds */
static long long
rq_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rq_hexval - value of a hexadecimal digit, -1 if none */
static int
rq_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * rq_unescape - copy len bytes of src into dst (size dstlen), decoding
 *   %XX; false if it does not fit, an escape is bad or decodes to NUL
 */
static bool
rq_unescape(char *dst, size_t dstlen, const char *src, size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)src[i];

        if (c == '%') {
            int h, l;

            if (i + 2 >= len)
                return false;
            h = rq_hexval((unsigned char)src[i + 1]);
            l = rq_hexval((unsigned char)src[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return false;
            c = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= dstlen)
            return false;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return true;
}

/* rq_parse_long - decimal in [lo, hi] from len bytes; false if not */
static bool
rq_parse_long(const char *s, size_t len, long lo, long hi, long *out)
{
    long v = 0;
    size_t i;

    if (len == 0 || len > 9)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/*
 * rq_parse_url - split redis_url into an endpoint
 *
 * Forms: redis://[[user]:password@]host[:port][/db] (host may be an
 * [IPv6] literal; user and password %-escaped) and
 * unix:/path/to/socket[?db=N].
 */
static bool
rq_parse_url(const char *url, struct sg_rq_endpoint *ep, char *err,
             size_t errlen)
{
    const char *p, *auth_end, *host, *end;
    size_t n;

    memset(ep, 0, sizeof(*ep));
    ep->port = 6379;
    if (strncmp(url, "unix:", 5) == 0) {
        const char *q;

        p = url + 5;
        q = strchr(p, '?');
        n = q != NULL ? (size_t)(q - p) : strlen(p);
        if (n == 0 || p[0] != '/' || n >= sizeof(ep->path)) {
            sg_seterr(err, errlen, "redis_url: unix: needs an absolute "
                      "socket path of at most %zu bytes",
                      sizeof(ep->path) - 1);
            return false;
        }
        memcpy(ep->path, p, n);
        ep->path[n] = '\0';
        if (q != NULL && (strncmp(q, "?db=", 4) != 0
                          || !rq_parse_long(q + 4, strlen(q + 4), 0,
                                            SG_RQ_DB_MAX, &ep->db))) {
            sg_seterr(err, errlen, "redis_url: after the socket path only "
                      "?db=N (0 to %ld) may follow", SG_RQ_DB_MAX);
            return false;
        }
        ep->is_unix = true;
        snprintf(ep->label, sizeof(ep->label), "%s", ep->path);
        return true;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        sg_seterr(err, errlen, "redis_url: want redis://host:port/db or "
                  "unix:/path");
        return false;
    }
    p = url + 8;
    end = p + strcspn(p, "/?#");
    /* The last '@' before the path ends the credentials. */
    auth_end = NULL;
    for (host = p; host < end; host++)
        if (*host == '@')
            auth_end = host;
    host = p;
    if (auth_end != NULL) {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));

        if (colon == NULL) {
            sg_seterr(err, errlen, "redis_url: credentials must be "
                      "[user]:password@");
            return false;
        }
        if (!rq_unescape(ep->user, sizeof(ep->user), p,
                         (size_t)(colon - p))
            || !rq_unescape(ep->pass, sizeof(ep->pass), colon + 1,
                            (size_t)(auth_end - colon - 1))) {
            sg_seterr(err, errlen, "redis_url: bad or too long user name "
                      "or password");
            return false;
        }
        host = auth_end + 1;
    }
    if (host < end && *host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));

        if (rb == NULL || rb == host + 1
            || (size_t)(rb - host - 1) >= sizeof(ep->host)) {
            sg_seterr(err, errlen, "redis_url: bad [IPv6] host");
            return false;
        }
        memcpy(ep->host, host + 1, (size_t)(rb - host - 1));
        ep->host[rb - host - 1] = '\0';
        p = rb + 1;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));

        p = colon != NULL ? colon : end;
        n = (size_t)(p - host);
        if (n == 0 || n >= sizeof(ep->host)) {
            sg_seterr(err, errlen, "redis_url: missing or too long host");
            return false;
        }
        memcpy(ep->host, host, n);
        ep->host[n] = '\0';
    }
    if (p < end) {
        long port;

        if (*p != ':' || !rq_parse_long(p + 1, (size_t)(end - p - 1), 1,
                                        65535, &port)) {
            sg_seterr(err, errlen, "redis_url: bad port");
            return false;
        }
        ep->port = (int)port;
    }
    if (*end == '/' && end[1] != '\0') {
        if (!rq_parse_long(end + 1, strlen(end + 1), 0, SG_RQ_DB_MAX,
                           &ep->db)) {
            sg_seterr(err, errlen, "redis_url: bad database number "
                      "(0 to %ld)", SG_RQ_DB_MAX);
            return false;
        }
    } else if (*end != '\0' && !(*end == '/' && end[1] == '\0')) {
        sg_seterr(err, errlen, "redis_url: unexpected text after the "
                  "host");
        return false;
    }
    if (strchr(ep->host, ':') != NULL)
        snprintf(ep->label, sizeof(ep->label), "[%s]:%d", ep->host,
                 ep->port);
    else
        snprintf(ep->label, sizeof(ep->label), "%s:%d", ep->host,
                 ep->port);
    return true;
}

/*
 * rq_read_password - first line of the password file into ep->pass
 *
 * Refuses a file that others may read: the password must not leak
 * through a world-readable file. The password itself never appears in
 * an error text.
 */
static bool
rq_read_password(const char *path, struct sg_rq_endpoint *ep, char *err,
                 size_t errlen)
{
    char buf[SG_RQ_PASS_MAX + 2];
    struct stat sb;
    ssize_t got;
    size_t len = 0, n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        sg_seterr(err, errlen, "redis_password_file %s: %s", path,
                  strerror(errno));
        return false;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sg_seterr(err, errlen, "redis_password_file %s: not a regular "
                  "file", path);
        close(fd);
        return false;
    }
    if ((sb.st_mode & S_IROTH) != 0) {
        sg_seterr(err, errlen, "redis_password_file %s: readable by "
                  "others (chmod o-r)", path);
        close(fd);
        return false;
    }
    while (len < sizeof(buf) - 1) {
        got = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sg_seterr(err, errlen, "redis_password_file %s: %s", path,
                      strerror(errno));
            close(fd);
            return false;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (memchr(buf, '\n', len) != NULL)
            break;
    }
    close(fd);
    buf[len] = '\0';
    n = strcspn(buf, "\r\n");
    if (n == 0 || n >= sizeof(ep->pass) || memchr(buf, '\0', n) != NULL
        || (n == len && len >= sizeof(buf) - 1)) {
        sg_seterr(err, errlen, "redis_password_file %s: the first line "
                  "must hold a password of 1 to %zu bytes", path,
                  sizeof(ep->pass) - 1);
        memset(buf, 0, sizeof(buf));
        return false;
    }
    memcpy(ep->pass, buf, n);
    ep->pass[n] = '\0';
    memset(buf, 0, sizeof(buf));
    return true;
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

/*
 * SIGPIPE. hiredis writes with write(2): a server that went away would
 * kill the process with SIGPIPE. A library must not change the process's
 * signal dispositions, so the calling thread blocks SIGPIPE around its
 * I/O and consumes one it caused (the technique of libpq and curl).
 */
struct sg_rq_sigpipe {
    sigset_t old;
    bool was_pending;
};

/* rq_sigpipe_block - block SIGPIPE in this thread, note if pending */
static void
rq_sigpipe_block(struct sg_rq_sigpipe *sp)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &sp->old);
    sigemptyset(&pending);
    sigpending(&pending);
    sp->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

/* rq_sigpipe_restore - consume our SIGPIPE, restore the mask */
static void
rq_sigpipe_restore(struct sg_rq_sigpipe *sp)
{
    sigset_t set, pending;
    struct timespec zero = {0, 0};

    if (!sp->was_pending) {
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            sigemptyset(&set);
            sigaddset(&set, SIGPIPE);
            while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
                ;
        }
    }
    pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}

/*
 * rq_ctx_error - describe a context's failure: "redis LABEL: text",
 *   with a timeout named as such
 */
static void
rq_ctx_error(SG_RQ *rq, redisContext *c, const char *what, char *err,
             size_t errlen)
{
    char text[160];
    const char *sep = what[0] != '\0' ? ": " : "";

    if (c == NULL) {
        snprintf(text, sizeof(text), "cannot allocate a connection");
    } else if (c->err == REDIS_ERR_EOF) {
        snprintf(text, sizeof(text), "connection closed by the server");
    } else if (c->err == REDIS_ERR_IO
               && (strstr(c->errstr, "temporarily unavailable") != NULL
                   || strstr(c->errstr, "timed out") != NULL)) {
        snprintf(text, sizeof(text), "timed out (redis_timeout %lld ms)",
                 rq->head.redis_timeout_ms);
    } else {
        snprintf(text, sizeof(text), "%s", c->errstr);
        /* "Connection refused" -> "connection refused" */
        if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a'
            && text[1] <= 'z')
            text[0] = (char)(text[0] - 'A' + 'a');
    }
    sg_seterr(err, errlen, "redis %s: %s%s%s", rq->ep.label, what, sep,
              text);
}

/*
 * rq_command - one command on a connection within the call's deadline;
 *   NULL with err set when the connection broke (the caller drops it)
 *
 * redis_timeout bounds the whole call (connect, AUTH, SELECT, SCRIPT
 * LOAD, EVALSHA), not each step: a later step gets what is left.
 */
static redisReply *
rq_command(SG_RQ *rq, struct sg_rq_conn *cn, int argc, const char **argv,
           const size_t *lens, const char *what, char *err, size_t errlen)
{
    redisContext *c = cn->c;
    long long left = cn->deadline - rq_mono_ms();
    redisReply *r;

    if (left < rq->head.redis_timeout_ms - 5) {
        struct timeval tv;

        if (left < 1) {
            sg_seterr(err, errlen, "redis %s: %s: timed out "
                      "(redis_timeout %lld ms)", rq->ep.label, what,
                      rq->head.redis_timeout_ms);
            return NULL;
        }
        tv.tv_sec = (time_t)(left / 1000);
        tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
        if (redisSetTimeout(c, tv) != REDIS_OK) {
            rq_ctx_error(rq, c, what, err, errlen);
            return NULL;
        }
        cn->shortened = true;
    }
    r = redisCommandArgv(c, argc, argv, lens);
    if (r == NULL) {
        rq_ctx_error(rq, c, what, err, errlen);
        return NULL;
    }
    return r;
}

/*
 * rq_simple - a command whose answer must be +OK (AUTH, SELECT);
 *   false with err set otherwise
 */
static bool
rq_simple(SG_RQ *rq, struct sg_rq_conn *c, int argc, const char **argv,
          const char *what, char *err, size_t errlen)
{
    size_t lens[3];
    redisReply *r;
    int i;

    for (i = 0; i < argc && i < 3; i++)
        lens[i] = strlen(argv[i]);
    r = rq_command(rq, c, argc, argv, lens, what, err, errlen);
    if (r == NULL)
        return false;
    if (r->type != REDIS_REPLY_STATUS || r->str == NULL
        || strcmp(r->str, "OK") != 0) {
        sg_seterr(err, errlen, "redis %s: %s: %.120s", rq->ep.label, what,
                  r->type == REDIS_REPLY_ERROR && r->str != NULL
                  ? r->str : "unexpected reply");
        freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    return true;
}

/* rq_load_script - SCRIPT LOAD; the SHA1 into sha[41] */
static bool
rq_load_script(SG_RQ *rq, struct sg_rq_conn *c, char *sha, char *err,
               size_t errlen)
{
    const char *argv[3] = {"SCRIPT", "LOAD", sg_rq_script};
    size_t lens[3] = {6, 4, sizeof(sg_rq_script) - 1};
    redisReply *r;

    r = rq_command(rq, c, 3, argv, lens, "SCRIPT LOAD", err, errlen);
    if (r == NULL)
        return false;
    if (r->type != REDIS_REPLY_STRING || r->len != 40 || r->str == NULL
        || strspn(r->str, "0123456789abcdef") != 40) {
        sg_seterr(err, errlen, "redis %s: SCRIPT LOAD: %.120s",
                  rq->ep.label, r->type == REDIS_REPLY_ERROR
                  && r->str != NULL ? r->str : "unexpected reply");
        freeReplyObject(r);
        return false;
    }
    memcpy(sha, r->str, 40);
    sha[40] = '\0';
    freeReplyObject(r);
    return true;
}

/* rq_open_conn - connect, authenticate, select, load the script */
static struct sg_rq_conn *
rq_open_conn(SG_RQ *rq, long long deadline, char *err, size_t errlen)
{
    struct sg_rq_conn *cn;
    redisContext *c;
    char db[24];

    if ((cn = calloc(1, sizeof(*cn))) == NULL) {
        sg_seterr(err, errlen, "redis %s: out of memory", rq->ep.label);
        return NULL;
    }
    cn->deadline = deadline;
    if (rq->ep.is_unix)
        c = redisConnectUnixWithTimeout(rq->ep.path, rq->tv);
    else
        c = redisConnectWithTimeout(rq->ep.host, rq->ep.port, rq->tv);
    if (c == NULL || c->err != 0) {
        rq_ctx_error(rq, c, "", err, errlen);
        if (c != NULL)
            redisFree(c);
        free(cn);
        return NULL;
    }
    cn->c = c;
    if (redisSetTimeout(c, rq->tv) != REDIS_OK) {
        rq_ctx_error(rq, c, "setting the timeout", err, errlen);
        goto fail;
    }
    if (rq->ep.pass[0] != '\0') {
        const char *a2[2] = {"AUTH", rq->ep.pass};
        const char *a3[3] = {"AUTH", rq->ep.user, rq->ep.pass};

        if (!(rq->ep.user[0] != '\0'
              ? rq_simple(rq, cn, 3, a3, "AUTH", err, errlen)
              : rq_simple(rq, cn, 2, a2, "AUTH", err, errlen)))
            goto fail;
    }
    if (rq->ep.db != 0) {
        const char *a[2] = {"SELECT", db};

        snprintf(db, sizeof(db), "%ld", rq->ep.db);
        if (!rq_simple(rq, cn, 2, a, "SELECT", err, errlen))
            goto fail;
    }
    if (!rq_load_script(rq, cn, cn->sha, err, errlen))
        goto fail;
    return cn;

fail:
    redisFree(c);
    free(cn);
    return NULL;
}

/* rq_free_conn - close a connection; accepts NULL */
static void
rq_free_conn(struct sg_rq_conn *cn)
{
    if (cn == NULL)
        return;
    redisFree(cn->c);
    free(cn);
}

/*
 * rq_get - a connection for this call: an idle one of the current
 *   generation, else a new one (subject to the back-off)
 *
 * Returns: the connection, or NULL with the handle's error set and
 *   SG_ERR_IO to return.
 */
static struct sg_rq_conn *
rq_get(SG_RQ *rq, long long deadline)
{
    struct sg_rq_conn *cn, *stale = NULL;
    char err[SG_QUOTA_ERR_MAX];
    long long now;

    pthread_mutex_lock(&rq->mu);
    while ((cn = rq->idle) != NULL) {
        rq->idle = cn->next;
        rq->nidle--;
        if (cn->gen == rq->gen)
            break;
        cn->next = stale;
        stale = cn;
    }
    if (cn == NULL && rq->down) {
        now = rq_mono_ms();
        if (now < rq->next_try) {
            snprintf(err, sizeof(err), "%s", rq->down_err);
            pthread_mutex_unlock(&rq->mu);
            sg_quota_set_error(&rq->head, "%s", err);
            goto out;
        }
        /* This call makes the one attempt of this back-off period. */
        rq->next_try = now + rq->backoff;
    }
    pthread_mutex_unlock(&rq->mu);
    if (cn != NULL) {
        cn->deadline = deadline;
        goto out;
    }

    cn = rq_open_conn(rq, deadline, err, sizeof(err));
    pthread_mutex_lock(&rq->mu);
    if (cn == NULL) {
        rq->down = true;
        rq->next_try = rq_mono_ms() + rq->backoff;
        rq->backoff *= 2;
        if (rq->backoff > SG_RQ_BACKOFF_MAX)
            rq->backoff = SG_RQ_BACKOFF_MAX;
        snprintf(rq->down_err, sizeof(rq->down_err), "%s", err);
    } else {
        rq->down = false;
        rq->backoff = SG_RQ_BACKOFF_MIN;
        cn->gen = rq->gen;
    }
    pthread_mutex_unlock(&rq->mu);
    if (cn == NULL)
        sg_quota_set_error(&rq->head, "%s", err);
out:
    while (stale != NULL) {
        struct sg_rq_conn *next = stale->next;

        rq_free_conn(stale);
        stale = next;
    }
    return cn;
}

/*
 * rq_put - return a connection after a call; a broken one is closed
 *   and makes every idle connection opened before it stale
 */
static void
rq_put(SG_RQ *rq, struct sg_rq_conn *cn, bool broken)
{
    if (!broken && cn->shortened) {
        if (redisSetTimeout(cn->c, rq->tv) != REDIS_OK)
            broken = true;
        cn->shortened = false;
    }
    pthread_mutex_lock(&rq->mu);
    if (broken) {
        rq->gen++;
    } else if (cn->gen == rq->gen && rq->nidle < SG_RQ_IDLE_MAX) {
        cn->next = rq->idle;
        rq->idle = cn;
        rq->nidle++;
        cn = NULL;
    }
    pthread_mutex_unlock(&rq->mu);
    rq_free_conn(cn);
}

/* ------------------------------------------------------------------ */
/* Script calls                                                         */
/* ------------------------------------------------------------------ */

/* The arguments of one script call, as text. */
struct sg_rq_call {
    const char *op;
    long long now_ms;
    const char *txn;
    long long rate_units;
    long long daily_units;
    const struct sg_quota_limits *lim;  /* NULL: zeros */
};

/* rq_fmt_double - a finite double as text that Lua reads back exactly */
static void
rq_fmt_double(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.17g", isfinite(v) ? v : 0.0);
}

/*
 * rq_eval - run the script for one operation
 *
 * Returns: SG_OK with *out the reply (an array; caller frees), or an
 *   error status with the handle's error set. A NOSCRIPT answer (the
 *   server's scripts were flushed, or it restarted) loads the script
 *   again and retries once.
 */
static SG_STATUS
rq_eval(SG_RQ *rq, const char *region, const struct sg_rq_call *call,
        redisReply **out)
{
    char keys[4][SG_REGION_MAX + 32];
    char num[SG_RQ_ARGS][40];
    const char *argv[3 + 4 + SG_RQ_ARGS];
    size_t lens[3 + 4 + SG_RQ_ARGS];
    const struct sg_quota_limits *lim = call->lim;
    static const char kind[4] = {'s', 'w', 'h', 'x'};
    char err[SG_QUOTA_ERR_MAX];
    struct sg_rq_sigpipe sp;
    struct sg_rq_conn *cn;
    redisReply *r = NULL;
    int argc = 0, i, attempt;
    bool broken = false;

    *out = NULL;
    argv[argc++] = "EVALSHA";
    argv[argc++] = NULL;                    /* the SHA, per connection */
    argv[argc++] = "4";
    for (i = 0; i < 4; i++) {
        snprintf(keys[i], sizeof(keys[i]), "sesgate:q:{%s}:%c", region,
                 kind[i]);
        argv[argc++] = keys[i];
    }
    argv[argc++] = call->op;
    snprintf(num[0], sizeof(num[0]), "%lld", call->now_ms);
    argv[argc++] = num[0];
    argv[argc++] = call->txn != NULL ? call->txn : "";
    snprintf(num[1], sizeof(num[1]), "%lld", call->rate_units);
    snprintf(num[2], sizeof(num[2]), "%lld", call->daily_units);
    rq_fmt_double(num[3], sizeof(num[3]), lim ? lim->max_rate : 0);
    rq_fmt_double(num[4], sizeof(num[4]), lim ? lim->burst : 1);
    rq_fmt_double(num[5], sizeof(num[5]), lim ? lim->max_24h : -1);
    rq_fmt_double(num[6], sizeof(num[6]), lim ? lim->sent_24h : 0);
    snprintf(num[7], sizeof(num[7]), "%lld", lim ? lim->synced_at_ms : 0);
    snprintf(num[8], sizeof(num[8]), "%lld",
             rq->head.reservation_timeout_ms);
    snprintf(num[9], sizeof(num[9]), "%lld", SG_RQ_BUCKET_MS);
    snprintf(num[10], sizeof(num[10]), "%lld", SG_RQ_BUCKETS);
    snprintf(num[11], sizeof(num[11]), "%lld", SG_RQ_DAY_MS);
    snprintf(num[12], sizeof(num[12]), "%lld", SG_RQ_TTL_MS);
    for (i = 1; i <= 12; i++)
        argv[argc++] = num[i];
    for (i = 0; i < argc; i++)
        lens[i] = argv[i] != NULL ? strlen(argv[i]) : 40;

    rq_sigpipe_block(&sp);
    if ((cn = rq_get(rq, rq_mono_ms() + rq->head.redis_timeout_ms))
        == NULL) {
        rq_sigpipe_restore(&sp);
        return SG_ERR_IO;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        argv[1] = cn->sha;
        r = rq_command(rq, cn, argc, argv, lens, "EVALSHA", err,
                       sizeof(err));
        if (r == NULL) {
            broken = true;
            break;
        }
        if (attempt == 0 && r->type == REDIS_REPLY_ERROR && r->str != NULL
            && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(r);
            r = NULL;
            if (!rq_load_script(rq, cn, cn->sha, err, sizeof(err))) {
                broken = true;
                break;
            }
            continue;
        }
        break;
    }
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        snprintf(err, sizeof(err), "redis %s: %.160s", rq->ep.label,
                 r->str != NULL ? r->str : "error");
        freeReplyObject(r);
        r = NULL;
    } else if (r != NULL && (r->type != REDIS_REPLY_ARRAY
                             || r->elements < 1 || r->elements > 8)) {
        snprintf(err, sizeof(err), "redis %s: unexpected reply to the "
                 "quota script", rq->ep.label);
        freeReplyObject(r);
        r = NULL;
        broken = true;
    }
    rq_put(rq, cn, broken);
    rq_sigpipe_restore(&sp);
    if (r == NULL) {
        sg_quota_set_error(&rq->head, "%s", err);
        return broken ? SG_ERR_IO : SG_ERR_STATE_RETRY;
    }
    *out = r;
    return SG_OK;
}

/* rq_reply_int - element i of an array reply as an integer in [lo, hi] */
static bool
rq_reply_int(const redisReply *r, size_t i, long long lo, long long hi,
             long long *v)
{
    const redisReply *e;

    if (i >= r->elements || (e = r->element[i]) == NULL
        || e->type != REDIS_REPLY_INTEGER || e->integer < lo
        || e->integer > hi)
        return false;
    *v = e->integer;
    return true;
}

/* rq_reply_double - element i as a decimal string, finite, >= 0 */
static bool
rq_reply_double(const redisReply *r, size_t i, double *v)
{
    const redisReply *e;
    char buf[64], *end;
    double d;

    if (i >= r->elements || (e = r->element[i]) == NULL
        || e->type != REDIS_REPLY_STRING || e->str == NULL || e->len == 0
        || e->len >= sizeof(buf))
        return false;
    memcpy(buf, e->str, e->len);
    buf[e->len] = '\0';
    errno = 0;
    d = strtod(buf, &end);
    if (*end != '\0' || errno != 0 || !isfinite(d) || d < 0)
        return false;
    *v = d;
    return true;
}

/* rq_bad_reply - set the error for a malformed reply; SG_ERR_PROTO */
static SG_STATUS
rq_bad_reply(SG_RQ *rq, redisReply *r, const char *op)
{
    freeReplyObject(r);
    sg_quota_set_error(&rq->head, "redis %s: malformed reply to %s",
                       rq->ep.label, op);
    return SG_ERR_PROTO;
}

/* ------------------------------------------------------------------ */
/* The backend table                                                    */
/* ------------------------------------------------------------------ */

/* rq_admit - reserve or peek: run the script, read the deny code */
static SG_STATUS
rq_admit(SG_QUOTA *q, const char *op, const char *region,
         const struct sg_quota_limits *lim, const char *txn,
         long long rate_units, long long daily_units, long long now_ms,
         enum sg_quota_deny *deny)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_call call = {op, now_ms, txn, rate_units, daily_units,
                              lim};
    redisReply *r;
    long long code;
    SG_STATUS st;

    if ((st = rq_eval(rq, region, &call, &r)) != SG_OK)
        return st;
    if (!rq_reply_int(r, 0, 0, 2, &code))
        return rq_bad_reply(rq, r, op);
    freeReplyObject(r);
    *deny = code == 2 ? SG_QUOTA_DAILY : code == 1 ? SG_QUOTA_RATE
            : SG_QUOTA_OK;
    return SG_OK;
}

/* rq_reserve - check and hold units for a transaction */
static SG_STATUS
rq_reserve(SG_QUOTA *q, const char *region,
           const struct sg_quota_limits *lim, const char *txn,
           long long rate_units, long long daily_units, long long now_ms,
           enum sg_quota_deny *deny)
{
    return rq_admit(q, "reserve", region, lim, txn, rate_units,
                    daily_units, now_ms, deny);
}

/* rq_peek - the answer of a reserve, without any change */
static SG_STATUS
rq_peek(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
        long long rate_units, long long daily_units, long long now_ms,
        enum sg_quota_deny *deny)
{
    return rq_admit(q, "peek", region, lim, "", rate_units, daily_units,
                    now_ms, deny);
}

/* rq_simple_op - commit, release or reset: the reply is {0} */
static SG_STATUS
rq_simple_op(SG_QUOTA *q, const char *op, const char *region,
             const char *txn, long long rate_units, long long daily_units,
             long long now_ms)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_call call = {op, now_ms, txn, rate_units, daily_units,
                              NULL};
    redisReply *r;
    long long code;
    SG_STATUS st;

    if ((st = rq_eval(rq, region, &call, &r)) != SG_OK)
        return st;
    if (!rq_reply_int(r, 0, 0, 0, &code))
        return rq_bad_reply(rq, r, op);
    freeReplyObject(r);
    return SG_OK;
}

/* rq_commit - turn a hold into sent units */
static SG_STATUS
rq_commit(SG_QUOTA *q, const char *region, const char *txn,
          long long rate_units, long long daily_units, long long now_ms)
{
    return rq_simple_op(q, "commit", region, txn, rate_units, daily_units,
                        now_ms);
}

/* rq_release - drop a hold */
static SG_STATUS
rq_release(SG_QUOTA *q, const char *region, const char *txn,
           long long now_ms)
{
    return rq_simple_op(q, "release", region, txn, 0, 0, now_ms);
}

/* rq_reset - forget a region */
static SG_STATUS
rq_reset(SG_QUOTA *q, const char *region)
{
    return rq_simple_op(q, "reset", region, "", 0, 0, 0);
}

/* rq_usage - a region's usage */
static SG_STATUS
rq_usage(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
         long long now_ms, struct sg_quota_usage *out)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_call call = {"usage", now_ms, "", 0, 0, lim};
    redisReply *r;
    SG_STATUS st;

    if ((st = rq_eval(rq, region, &call, &r)) != SG_OK)
        return st;
    if (r->elements != 4 || !rq_reply_double(r, 0, &out->sent_24h)
        || !rq_reply_double(r, 1, &out->reserved)
        || !rq_reply_double(r, 2, &out->rate_now)
        || !rq_reply_double(r, 3, &out->tokens)) {
        memset(out, 0, sizeof(*out));
        return rq_bad_reply(rq, r, "usage");
    }
    freeReplyObject(r);
    return SG_OK;
}

/* rq_close - close every connection and free the handle */
static void
rq_close(SG_QUOTA *q)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_conn *cn, *next;

    for (cn = rq->idle; cn != NULL; cn = next) {
        next = cn->next;
        rq_free_conn(cn);
    }
    pthread_mutex_destroy(&rq->mu);
    memset(rq->ep.pass, 0, sizeof(rq->ep.pass));
    free(rq);
}

static const struct sg_quota_ops sg_rq_ops = {
    "redis",
    rq_reserve,
    rq_commit,
    rq_release,
    rq_peek,
    rq_usage,
    rq_reset,
    rq_close
};

/* sg_quota_redis_open - the Redis backend */
SG_QUOTA *
sg_quota_redis_open(const SG_CONF *conf, char *err, size_t errlen)
{
    SG_RQ *rq;
    long long ms;

    if ((rq = calloc(1, sizeof(*rq))) == NULL) {
        sg_seterr(err, errlen, "redis: out of memory");
        return NULL;
    }
    if (!rq_parse_url(conf->redis_url != NULL ? conf->redis_url : "",
                      &rq->ep, err, errlen))
        goto fail;
    if (conf->redis_password_file != NULL
        && conf->redis_password_file[0] != '\0') {
        if (rq->ep.pass[0] != '\0') {
            sg_seterr(err, errlen, "redis_url has a password and "
                      "redis_password_file is set: choose one");
            goto fail;
        }
        if (!rq_read_password(conf->redis_password_file, &rq->ep, err,
                              errlen))
            goto fail;
    }
    if (pthread_mutex_init(&rq->mu, NULL) != 0) {
        sg_seterr(err, errlen, "redis: cannot create a mutex");
        goto fail;
    }
    sg_quota_init(&rq->head, &sg_rq_ops, conf);
    ms = rq->head.redis_timeout_ms > 0 ? rq->head.redis_timeout_ms : 1000;
    rq->head.redis_timeout_ms = ms;
    rq->tv.tv_sec = (time_t)(ms / 1000);
    rq->tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    rq->backoff = SG_RQ_BACKOFF_MIN;
    return &rq->head;

fail:
    memset(rq->ep.pass, 0, sizeof(rq->ep.pass));
    free(rq);
    return NULL;
}

#else /* HAVE_HIREDIS */

/* sg_quota_redis_open - built without hiredis: always fails */
SG_QUOTA *
sg_quota_redis_open(const SG_CONF *conf, char *err, size_t errlen)
{
    (void)conf;
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "sesgate was built without hiredis");
    return NULL;
}

#endif /* HAVE_HIREDIS */
