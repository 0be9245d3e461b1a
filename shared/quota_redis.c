/*
 * quota_redis.c - the Redis backend of the quota engine: the counters
 *   of every region live on one Redis server and every check-and-update
 *   runs there atomically, in a Lua script call that carries one
 *   operation or those of many concurrent transactions, so any number
 *   of hosts share one quota exactly
 *
 * Keys. Per region R, two keys share the hash tag {R} (so that they
 * also stay together on one node of a Redis Cluster):
 *
 *   sesgate:q:{R}     hash: field " s" (a space cannot start a
 *                     transaction id) the region's state, a packed
 *                     record of the rate bucket (tokens, time of the
 *                     last refill), the newest window bucket, its
 *                     count and the window's running sum, the
 *                     synced_at and the sum committed since it, the
 *                     held rate and daily totals, the rate meter
 *                     (second, units taken in it and in the one
 *                     before), the earliest time a hold may expire (0:
 *                     none) and the time of the last TTL refresh;
 *                     every other field is a transaction id -> its
 *                     hold (units, second taken, expiry);
 *   sesgate:q:{R}:w   hash: window bucket number -> committed daily
 *                     units in that bucket, for every bucket but the
 *                     newest, whose count stays in the state (so that
 *                     a commit writes one key) until the window moves.
 *
 * Both keys get a time to live of 26 hours, refreshed by the first
 * write after an hour (the window hash's also whenever a window move
 * stores a bucket in it): a
 * region left alone for 25 hours has nothing left to count (holds
 * expire within quota_reservation_timeout, at most a day; a bucket
 * leaves the window 24 h 10 s after it starts), so the server forgets
 * it by itself. Holds past their expiry are swept (one HGETALL of the
 * region's hash, which holds only the in-flight transactions) when the
 * earliest expiry recorded in the state is reached.
 *
 * The layout before this one (four keys :s :w :h :x) is not read: a
 * region's counters start afresh on an upgrade from it.
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
 * NTP-synced; the operations coalesced into one call are counted at
 * the latest of their times. As in the embedded backend the window
 * never moves back: a commit from a host whose clock is behind lands in
 * the newest bucket, and the rate bucket does not refill for a time
 * already seen.
 *
 * Coalescing (rq_submit): reserves, commits and releases from the
 * threads of one process queue in the handle; up to SG_RQ_INFLIGHT
 * script calls run at once, each carrying every queued operation of
 * one region and one set of limits (up to redis_batch_max), so that
 * under load the server runs one script per round trip for many
 * transactions instead of one each (a script call costs the server
 * several times an INCR; an operation inside one, a fraction). An
 * operation that finds a call free is sent at once: nothing is held
 * back to be coalesced. peek, usage and reset always go alone.
 *
 * Connections: a pool of blocking hiredis connections; a call takes one
 * (or opens one), runs one EVALSHA and puts it back, so one handle
 * serves any number of threads. redis_timeout bounds connect and every read and write. On an
 * I/O failure the connection is dropped with every idle one opened
 * before it (a restarted server has closed them all), and the call
 * returns SG_ERR_IO; the next call reconnects. While the server cannot
 * be reached, connection attempts are spaced by a back-off that
 * doubles from 100 ms to 5 s, and calls in between fail at once with
 * the last connection error. After a SCRIPT FLUSH (or a restart) the
 * NOSCRIPT answer makes the call load the script again and retry once.
 *
 * The fast path (one EVALSHA on an open connection) formats the
 * request itself into a stack buffer (the limits' text is cached per
 * connection, as they rarely change), sends it with send(2) and
 * MSG_NOSIGNAL, and lets hiredis read the reply: no heap allocation but
 * hiredis's reply object, and no signal-mask system calls. Only
 * opening a connection and SCRIPT LOAD go through hiredis's own writes,
 * with SIGPIPE blocked around them.
 *
 * Host names are resolved with getaddrinfo, which redis_timeout does not
 * bound: use an address or a unix socket where that matters.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Bounds of one script call's request, each argument a bulk string
 * ("$len\r\n...\r\n"): the head (the array's length, EVALSHA, the
 * SHA, 2, the region's two keys, now, n, the limits flag and the six
 * limits: at most 2 * SG_REGION_MAX + 333 bytes) and one operation (op,
 * txn, two unit counts: at most SG_QUOTA_TXN_MAX + 40), with room to
 * spare. */
#define SG_RQ_HEAD_MAX      (2 * SG_REGION_MAX + 400)
#define SG_RQ_OP_MAX        (SG_QUOTA_TXN_MAX + 64)

/* Most operations in one script call (redis_batch_max's upper bound,
 * which the script checks too). */
#define SG_RQ_BATCH_MAX     256

/* Script calls in flight at once from one handle's batches (each on
 * its own connection): while the server runs one, the next gathers. */
#define SG_RQ_INFLIGHT      4

/*
 * The script. KEYS: the region's hash, its window hash. ARGV: now, n,
 * then '1' and the six limits (max_rate, burst, max_24h, sent_24h,
 * synced_at, the reservation timeout) or '0' when no operation needs
 * them, then n operations on that region, each four arguments: op
 * ('r'eserve, 'p'eek, 'c'ommit, re'l'ease, 'u'sage, reset 'x' (alone)),
 * txn, rate units, daily units. Reply: an array of n, for r and p the
 * deny code (0, 1 rate, 2 daily) as an integer; for c, l and x 0; for
 * u {sent, reserved, rate_now, tokens} as decimal strings (a Lua
 * number would reach the client truncated to an integer). Every
 * argument is checked before anything is written.
 *
 * The operations of one call share its time and limits: the work that
 * depends only on those (the expiry sweep, the window's move, the sum
 * since the sync, the rate bucket's refill) is done once, then the
 * operations run in order, each as the embedded backend runs one
 * call; the result is that of n calls made one after the other at
 * that time.
 *
 * The state and the holds are fixed-size binary records (struct.pack
 * of doubles, exact for every integer below 2^53): the state 14 values
 * (tk ts head sum sy sn hr hd ms mc mp nx hc tl: tokens, last refill,
 * newest bucket, window sum, synced_at, committed since it, held rate
 * and daily units, rate meter second and its two counts, earliest
 * hold expiry, the newest bucket's count, last TTL refresh), a hold 5
 * (rate, daily, second, units taken in it, expiry). The window's
 * geometry (10 s buckets, 8,641 of them, the day) and the keys' time
 * to live are constants of the script.
 *
 * Work per call, whatever n: one HMGET of the state and of the holds
 * named, one HSET of the state and of the holds made, one HDEL of the
 * holds ended; the rest is rare (a window move: once per 10 s bucket;
 * the TTL refresh: once an hour; the expiry sweep: when a hold is due).
 * Calls of only p and u write nothing. Lua 5.1 with the struct library,
 * as embedded in every Redis since 2.6.
 */
static const char sg_rq_script[] =
    "local K, W = KEYS[1], KEYS[2]\n"
    "local G, N, DAY, TTL, REFRESH = 10000, 8641, 86400000, 93600000, 3600000\n"
    "local floor, pack, unpk = math.floor, struct.pack, struct.unpack\n"
    "local SF, HF = 'dddddddddddddd', 'ddddd'\n"
    "local BAD = 'sesgate: bad script arguments'\n"
    "-- ARGV: now, n, '1' and six limits or '0', n times op txn ru du.\n"
    "-- Every argument is checked before anything is written.\n"
    "local now, n, hl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n"
    "if not (now and n and n >= 1 and n <= 256 and (hl == '0' or hl == '1'))\n"
    "then\n"
    "  return redis.error_reply(BAD)\n"
    "end\n"
    "local haslim, a = hl == '1', 4\n"
    "local rate, burst, max24, sent24, synced, tmo = 0, 1, -1, 0, 0, 0\n"
    "if haslim then\n"
    "  rate, burst = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "  max24, sent24 = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "  synced, tmo = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
    "  if not (rate and burst and max24 and sent24 and synced and tmo) then\n"
    "    return redis.error_reply(BAD)\n"
    "  end\n"
    "  a = 10\n"
    "end\n"
    "if #ARGV ~= a - 1 + 4 * n then return redis.error_reply(BAD) end\n"
    "if ARGV[a] == 'x' then\n"
    "  if n ~= 1 then return redis.error_reply(BAD) end\n"
    "  redis.call('DEL', K, W)\n"
    "  return {0}\n"
    "end\n"
    "local OP, TXN, RU, DU = {}, {}, {}, {}\n"
    "local write = false\n"
    "for i = 1, n do\n"
    "  local op = ARGV[a]\n"
    "  local ru, du = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])\n"
    "  if op == 'r' or op == 'c' or op == 'l' then\n"
    "    write = true\n"
    "  elseif op ~= 'p' and op ~= 'u' then\n"
    "    return redis.error_reply(BAD)\n"
    "  end\n"
    "  if not (ru and du) or (op ~= 'c' and op ~= 'l' and not haslim) then\n"
    "    return redis.error_reply(BAD)\n"
    "  end\n"
    "  OP[i], TXN[i], RU[i], DU[i] = op, ARGV[a + 1], ru, du\n"
    "  a = a + 4\n"
    "end\n"
    "-- One read of the state and of every hold named; one write at the end.\n"
    "local got = redis.call('HMGET', K, ' s', unpack(TXN))\n"
    "local st = got[1]\n"
    "local H, DL, DS = {}, {}, {}\n"
    "-- keep - a hold's new value (false: ended), written at the end\n"
    "local function keep(t, v)\n"
    "  H[t] = v\n"
    "  if not DS[t] then DS[t] = true; DL[#DL + 1] = t end\n"
    "end\n"
    "for i = 1, n do\n"
    "  local t = TXN[i]\n"
    "  if H[t] == nil then\n"
    "    local v = got[i + 1]\n"
    "    H[t] = v and #v == 40 and v or false\n"
    "  end\n"
    "end\n"
    "local fresh = not (st and #st == 112)\n"
    "local tk, ts, head, sum, sy, sn, hr, hd = 0, 0, 0, 0, 0, 0, 0, 0\n"
    "local ms, mc, mp, nx, hc, tl = 0, 0, 0, 0, 0, 0\n"
    "if not fresh then\n"
    "  tk, ts, head, sum, sy, sn, hr, hd, ms, mc, mp, nx, hc, tl =\n"
    "    unpk(SF, st)\n"
    "end\n"
    "local sec = floor(now / 1000)\n"
    "-- Holds past their time: the daily units go back, rate tokens do not.\n"
    "-- nx: no hold expires before it (0: no holds): most calls skip this.\n"
    "if nx ~= 0 and now >= nx then\n"
    "  local all = redis.call('HGETALL', K)\n"
    "  local gone, nnx = {}, 0\n"
    "  for j = 1, #all, 2 do\n"
    "    local f, v = all[j], all[j + 1]\n"
    "    if f ~= ' s' then\n"
    "      local r, d, s, u, e = 0, 0, 0, 0, -1\n"
    "      if #v == 40 then r, d, s, u, e = unpk(HF, v) end\n"
    "      if e <= now then\n"
    "        hr, hd = hr - r, hd - d\n"
    "        gone[#gone + 1] = f\n"
    "        if H[f] then H[f] = false end\n"
    "      elseif nnx == 0 or e < nnx then\n"
    "        nnx = e\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if write then\n"
    "    for j = 1, #gone, 256 do\n"
    "      redis.call('HDEL', K, unpack(gone, j, math.min(j + 255, #gone)))\n"
    "    end\n"
    "    nx = nnx\n"
    "  end\n"
    "end\n"
    "-- The window follows the newest bucket; buckets that leave it are\n"
    "-- subtracted from the running sums. hc, the newest bucket's count,\n"
    "-- stays in the state until the window moves on.\n"
    "local cur = floor(now / G)\n"
    "local sb = math.huge\n"
    "if sy > 0 then sb = floor(sy / G) end\n"
    "local ph, pc = 0, 0\n"
    "if fresh or cur - head >= N then\n"
    "  if write then redis.call('DEL', W) end\n"
    "  sum, sn, hc, head = 0, 0, 0, cur\n"
    "elseif cur > head then\n"
    "  local lo, hi = head - N + 1, cur - N\n"
    "  if hc > 0 then\n"
    "    if write then\n"
    "      redis.call('HINCRBY', W, head, hc)\n"
    "      redis.call('PEXPIRE', W, TTL)\n"
    "    else\n"
    "      ph, pc = head, hc\n"
    "    end\n"
    "  end\n"
    "  hc = 0\n"
    "  local function drop(b, c)\n"
    "    sum = sum - c\n"
    "    if b >= sb then sn = sn - c end\n"
    "  end\n"
    "  if hi < lo then\n"
    "  elseif hi - lo < 64 then\n"
    "    for b = lo, hi do\n"
    "      local c = redis.call('HGET', W, b)\n"
    "      if c then\n"
    "        drop(b, tonumber(c) or 0)\n"
    "        if write then redis.call('HDEL', W, b) end\n"
    "      end\n"
    "    end\n"
    "  else\n"
    "    local all = redis.call('HGETALL', W)\n"
    "    for j = 1, #all, 2 do\n"
    "      local b = tonumber(all[j])\n"
    "      if b and b <= hi then\n"
    "        if b >= lo then drop(b, tonumber(all[j + 1]) or 0) end\n"
    "        if write then redis.call('HDEL', W, all[j]) end\n"
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
    "    if lo <= head then\n"
    "      sn = hc\n"
    "      if pc > 0 and ph >= lo then sn = sn + pc end\n"
    "      if head - lo < 64 then\n"
    "        for b = lo, head - 1 do\n"
    "          sn = sn + (tonumber(redis.call('HGET', W, b)) or 0)\n"
    "        end\n"
    "      else\n"
    "        local all = redis.call('HGETALL', W)\n"
    "        for j = 1, #all, 2 do\n"
    "          local b = tonumber(all[j])\n"
    "          if b and b >= lo and b < head then\n"
    "            sn = sn + (tonumber(all[j + 1]) or 0)\n"
    "          end\n"
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
    "-- The operations, in order, as that many calls at this time would.\n"
    "local res = {}\n"
    "for i = 1, n do\n"
    "  local op, txn, ru, du = OP[i], TXN[i], RU[i], DU[i]\n"
    "  local hv, code = H[txn], 0\n"
    "  local used = 0\n"
    "  if haslim then\n"
    "    if synced <= 0 then used = sent24\n"
    "    elseif now - synced >= DAY then used = 0\n"
    "    else used = sent24 + sn end\n"
    "    if sum > used then used = sum end\n"
    "  end\n"
    "  if op == 'r' or op == 'p' then\n"
    "    if du > 0 and max24 >= 0 and used + hd + du > max24 + 1e-9 then\n"
    "      code = 2\n"
    "    elseif ru > 0 and tk + 1e-9 < ru then\n"
    "      code = 1\n"
    "    end\n"
    "    if code == 0 and op == 'r' then\n"
    "      local r, d, s, u = 0, 0, sec, 0\n"
    "      if hv then r, d, s, u = unpk(HF, hv) end\n"
    "      if s ~= sec then s, u = sec, 0 end\n"
    "      u, r, d = u + ru, r + ru, d + du\n"
    "      keep(txn, pack(HF, r, d, s, u, now + tmo))\n"
    "      if nx == 0 or now + tmo < nx then nx = now + tmo end\n"
    "      hr, hd, tk = hr + ru, hd + du, tk - ru\n"
    "      if sec ~= ms then\n"
    "        if sec == ms + 1 then mp = mc else mp = 0 end\n"
    "        ms, mc = sec, 0\n"
    "      end\n"
    "      mc = mc + ru\n"
    "    end\n"
    "    res[i] = code\n"
    "  elseif op == 'c' or op == 'l' then\n"
    "    if hv then\n"
    "      local r, d, s, u = unpk(HF, hv)\n"
    "      local cr, cd = 0, 0\n"
    "      if op == 'c' then\n"
    "        cr, cd = ru, du\n"
    "        if cr < 0 or cr > r then cr = r end\n"
    "        if cd < 0 or cd > d then cd = d end\n"
    "      end\n"
    "      keep(txn, false)\n"
    "      hr, hd = hr - r, hd - d\n"
    "      -- Unused tokens go back only within the second they were taken.\n"
    "      local back = r - cr\n"
    "      if back > u then back = u end\n"
    "      if back > 0 and s == sec and ts ~= 0 then\n"
    "        tk = tk + back\n"
    "        if haslim and tk > burst then tk = burst end\n"
    "        if ms == sec and mc >= back then mc = mc - back end\n"
    "      end\n"
    "      if cd > 0 then\n"
    "        hc, sum = hc + cd, sum + cd\n"
    "        if head >= sb then sn = sn + cd end\n"
    "      end\n"
    "    end\n"
    "    res[i] = 0\n"
    "  else\n"
    "    local rn, frac = 0, (now % 1000) / 1000\n"
    "    if ms == sec then rn = mc + mp * (1 - frac)\n"
    "    elseif ms == sec - 1 then rn = mc * (1 - frac) end\n"
    "    local f = '%.17g'\n"
    "    res[i] = {string.format(f, used), string.format(f, hd),\n"
    "              string.format(f, rn), string.format(f, tk)}\n"
    "  end\n"
    "end\n"
    "if write then\n"
    "  local refresh = fresh or now - tl >= REFRESH or tl - now >= REFRESH\n"
    "  if refresh then tl = now end\n"
    "  local set, del = {}, {}\n"
    "  for _, t in ipairs(DL) do\n"
    "    if H[t] then\n"
    "      set[#set + 1] = t\n"
    "      set[#set + 1] = H[t]\n"
    "    else\n"
    "      del[#del + 1] = t\n"
    "    end\n"
    "  end\n"
    "  local ns = pack(SF, tk, ts, head, sum, sy, sn, hr, hd, ms, mc, mp, nx,\n"
    "                  hc, tl)\n"
    "  redis.call('HSET', K, ' s', ns, unpack(set))\n"
    "  if #del > 0 then redis.call('HDEL', K, unpack(del)) end\n"
    "  if refresh then\n"
    "    redis.call('PEXPIRE', K, TTL)\n"
    "    redis.call('PEXPIRE', W, TTL)\n"
    "  end\n"
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
    /* The limits of the last reserve, peek or usage on this connection
     * and their six bulk strings, ready to copy (lim_len 0: none). */
    struct sg_quota_limits lim;
    char lim_txt[256];
    size_t lim_len;
    char *req;                  /* request buffer, SG_RQ_HEAD_MAX +
                                 * batch_max * SG_RQ_OP_MAX bytes */
    struct sg_rq_conn *next;
};

/* The arguments of one operation. */
struct sg_rq_call {
    char op;                    /* r p c l u x (the script's op) */
    long long now_ms;
    const char *txn;
    long long rate_units;
    long long daily_units;
    const struct sg_quota_limits *lim;  /* r p u only; else NULL */
};

/*
 * One operation on its way to the server: on the stack of the thread
 * that asked for it, queued in the handle until a leader takes it into
 * a script call (rq_submit), then answered there.
 *
 * Its thread sleeps on sem, which is posted for two reasons, told
 * apart by state: RQ_LEAD (set under the queue's lock while the op is
 * queued: "lead the next call") and RQ_DONE (the answer is in). The
 * thread that answers an op it does not own swaps in RQ_DONE and posts
 * only if the state was RQ_WAIT: if it was RQ_LEAD, a post is already
 * there and the sleeper will find RQ_DONE behind it. So at most one
 * post is ever outstanding, and once the owner has seen RQ_DONE and
 * taken that post, nobody touches the op again: it may leave the stack.
 */
enum { RQ_WAIT, RQ_LEAD, RQ_DONE };

struct sg_rq_op {
    const char *region;
    struct sg_rq_call call;
    long long deadline;         /* monotonic ms: redis_timeout from now */
    SG_STATUS st;               /* the answer: status ... */
    long long code;             /* ... the reply (r p: the deny code) */
    char err[SG_QUOTA_ERR_MAX]; /* ... and the error text if not SG_OK */
    atomic_int state;           /* RQ_WAIT, RQ_LEAD, RQ_DONE */
    bool queued;                /* in the handle's queue (queue lock) */
    sem_t sem;
    struct sg_rq_op *next;
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
    /* The operations waiting for a script call (rq_submit). */
    pthread_mutex_t qmu;        /* guards the four below */
    struct sg_rq_op *qhead;
    struct sg_rq_op **qtail;
    int inflight;               /* batches being run */
    int batch_max;              /* redis_batch_max */
    struct sg_rq_op *sops;      /* rq_run_slots' batch (batch_max ops) */
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
 * signal dispositions, so the calling thread blocks SIGPIPE around
 * hiredis's writes (connecting, AUTH, SELECT, SCRIPT LOAD) and consumes
 * one it caused (the technique of libpq and curl). The EVALSHA of every
 * call is sent with send(MSG_NOSIGNAL) instead (rq_request), which
 * needs none of this.
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
 * rq_arm - give the socket what is left of the call's deadline as its
 *   timeout when that is less than redis_timeout; false with err set
 *   when nothing is left or the timeout cannot be set
 *
 * redis_timeout bounds the whole call (connect, AUTH, SELECT, SCRIPT
 * LOAD, EVALSHA), not each step: a later step gets what is left. The
 * first step of a call on an open connection keeps the socket as it
 * is (no system call).
 */
static bool
rq_arm(SG_RQ *rq, struct sg_rq_conn *cn, const char *what, char *err,
       size_t errlen)
{
    long long left = cn->deadline - rq_mono_ms();
    struct timeval tv;

    if (left >= rq->head.redis_timeout_ms - 5)
        return true;
    if (left < 1) {
        sg_seterr(err, errlen, "redis %s: %s: timed out (redis_timeout "
                  "%lld ms)", rq->ep.label, what,
                  rq->head.redis_timeout_ms);
        return false;
    }
    tv.tv_sec = (time_t)(left / 1000);
    tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
    if (redisSetTimeout(cn->c, tv) != REDIS_OK) {
        rq_ctx_error(rq, cn->c, what, err, errlen);
        return false;
    }
    cn->shortened = true;
    return true;
}

/*
 * rq_command - one command on a connection within the call's deadline,
 *   through hiredis (SIGPIPE must be blocked: rq_sigpipe_block); NULL
 *   with err set when the connection broke (the caller drops it)
 */
static redisReply *
rq_command(SG_RQ *rq, struct sg_rq_conn *cn, int argc, const char **argv,
           const size_t *lens, const char *what, char *err, size_t errlen)
{
    redisReply *r;

    if (!rq_arm(rq, cn, what, err, errlen))
        return NULL;
    r = redisCommandArgv(cn->c, argc, argv, lens);
    if (r == NULL) {
        rq_ctx_error(rq, cn->c, what, err, errlen);
        return NULL;
    }
    return r;
}

/*
 * rq_request - send a request formatted by the caller and read one
 *   reply, within the call's deadline; NULL with err set when the
 *   connection broke (the caller drops it)
 *
 * send(2) with MSG_NOSIGNAL: a server that went away gives EPIPE, not
 * SIGPIPE, so the fast path needs no signal mask. hiredis's output
 * buffer is empty between calls (every command before was written in
 * full, or its connection was dropped), so redisGetReply only reads.
 */
static redisReply *
rq_request(SG_RQ *rq, struct sg_rq_conn *cn, const char *req, size_t len,
           const char *what, char *err, size_t errlen)
{
    void *reply = NULL;
    ssize_t n;

    if (!rq_arm(rq, cn, what, err, errlen))
        return NULL;
    while (len > 0) {
        n = send(cn->c->fd, req, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            char text[128];

            if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
                snprintf(text, sizeof(text), "timed out (redis_timeout "
                         "%lld ms)", rq->head.redis_timeout_ms);
            else
                snprintf(text, sizeof(text), "%s", strerror(errno));
            if (text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'a'
                && text[1] <= 'z')
                text[0] = (char)(text[0] - 'A' + 'a');
            sg_seterr(err, errlen, "redis %s: %s: %s", rq->ep.label,
                      what, text);
            return NULL;
        }
        req += n;
        len -= (size_t)n;
    }
    if (redisGetReply(cn->c, &reply) != REDIS_OK || reply == NULL) {
        if (reply != NULL)
            freeReplyObject(reply);
        rq_ctx_error(rq, cn->c, what, err, errlen);
        return NULL;
    }
    return reply;
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

/* rq_open_conn_io - connect, authenticate, select, load the script */
static struct sg_rq_conn *
rq_open_conn_io(SG_RQ *rq, long long deadline, char *err, size_t errlen)
{
    struct sg_rq_conn *cn;
    redisContext *c;
    char db[24];

    if ((cn = calloc(1, sizeof(*cn))) == NULL) {
        sg_seterr(err, errlen, "redis %s: out of memory", rq->ep.label);
        return NULL;
    }
    cn->deadline = deadline;
    if ((cn->req = malloc(SG_RQ_HEAD_MAX + (size_t)rq->batch_max
                          * SG_RQ_OP_MAX)) == NULL) {
        sg_seterr(err, errlen, "redis %s: out of memory", rq->ep.label);
        free(cn);
        return NULL;
    }
    if (rq->ep.is_unix)
        c = redisConnectUnixWithTimeout(rq->ep.path, rq->tv);
    else
        c = redisConnectWithTimeout(rq->ep.host, rq->ep.port, rq->tv);
    if (c == NULL || c->err != 0) {
        rq_ctx_error(rq, c, "", err, errlen);
        if (c != NULL)
            redisFree(c);
        free(cn->req);
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
    free(cn->req);
    free(cn);
    return NULL;
}

/* rq_open_conn - rq_open_conn_io with SIGPIPE blocked (hiredis writes) */
static struct sg_rq_conn *
rq_open_conn(SG_RQ *rq, long long deadline, char *err, size_t errlen)
{
    struct sg_rq_sigpipe sp;
    struct sg_rq_conn *cn;

    rq_sigpipe_block(&sp);
    cn = rq_open_conn_io(rq, deadline, err, errlen);
    rq_sigpipe_restore(&sp);
    return cn;
}

/* rq_free_conn - close a connection; accepts NULL */
static void
rq_free_conn(struct sg_rq_conn *cn)
{
    if (cn == NULL)
        return;
    redisFree(cn->c);
    free(cn->req);
    free(cn);
}

/*
 * rq_get - a connection for this call: an idle one of the current
 *   generation, else a new one (subject to the back-off)
 *
 * Returns: the connection, or NULL with err set (SG_ERR_IO to return).
 */
static struct sg_rq_conn *
rq_get(SG_RQ *rq, long long deadline, char *err, size_t errlen)
{
    struct sg_rq_conn *cn, *stale = NULL;
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
            snprintf(err, errlen, "%s", rq->down_err);
            pthread_mutex_unlock(&rq->mu);
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

    cn = rq_open_conn(rq, deadline, err, errlen);
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

/* rq_put_ll - v in decimal at p; returns the end */
static char *
rq_put_ll(char *p, long long v)
{
    char tmp[24];
    unsigned long long u;
    size_t n = 0;

    if (v < 0) {
        *p++ = '-';
        u = 0ULL - (unsigned long long)v;
    } else {
        u = (unsigned long long)v;
    }
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* rq_put_bulk - one RESP bulk string "$len\r\nS\r\n" at p; the end */
static char *
rq_put_bulk(char *p, const char *str, size_t len)
{
    *p++ = '$';
    p = rq_put_ll(p, (long long)len);
    *p++ = '\r';
    *p++ = '\n';
    memcpy(p, str, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* rq_put_num - a number as a bulk string; the end */
static char *
rq_put_num(char *p, long long v)
{
    char tmp[24];

    return rq_put_bulk(p, tmp, (size_t)(rq_put_ll(tmp, v) - tmp));
}

/* rq_put_double - a finite double as a bulk string Lua reads back
 *   exactly (%.17g); the end */
static char *
rq_put_double(char *p, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof(tmp), "%.17g", isfinite(v) ? v : 0.0);

    return rq_put_bulk(p, tmp, (size_t)n);
}

/*
 * rq_format - the EVALSHA request of n operations on one region, at
 *   time now, with the limits lim (NULL: none needed), into cn->req,
 *   without the connection's SHA: *sha_at is where its 40 characters
 *   go. Returns the length.
 *
 * The six limit strings are formatted once per connection and change
 * of limits (the %.17g of four doubles is most of a call's formatting
 * work otherwise).
 */
static size_t
rq_format(SG_RQ *rq, struct sg_rq_conn *cn, struct sg_rq_op **ops,
          size_t n, const struct sg_quota_limits *lim, long long now,
          size_t *sha_at)
{
    const char *region = ops[0]->region;
    size_t rlen = strlen(region), i;
    char key[SG_REGION_MAX + 16];
    char *p = cn->req;

    if (lim != NULL && (cn->lim_len == 0
                        || !sg_quota_same_limits(lim, &cn->lim))) {
        char *q = cn->lim_txt;

        q = rq_put_double(q, lim->max_rate);
        q = rq_put_double(q, lim->burst);
        q = rq_put_double(q, lim->max_24h);
        q = rq_put_double(q, lim->sent_24h);
        q = rq_put_num(q, lim->synced_at_ms);
        q = rq_put_num(q, rq->head.reservation_timeout_ms);
        cn->lim_len = (size_t)(q - cn->lim_txt);
        cn->lim = *lim;
    }
    /* EVALSHA sha 2 K W now n 1|0 [6 limits], per op: op txn ru du */
    *p++ = '*';
    p = rq_put_ll(p, (long long)(8 + (lim != NULL ? 6 : 0) + 4 * n));
    *p++ = '\r';
    *p++ = '\n';
    p = rq_put_bulk(p, "EVALSHA", 7);
    memcpy(p, "$40\r\n", 5);
    p += 5;
    *sha_at = (size_t)(p - cn->req);
    memset(p, '0', 40);
    p += 40;
    memcpy(p, "\r\n", 2);
    p += 2;
    p = rq_put_bulk(p, "2", 1);
    memcpy(key, "sesgate:q:{", 11);
    memcpy(key + 11, region, rlen);
    key[11 + rlen] = '}';
    p = rq_put_bulk(p, key, 12 + rlen);
    memcpy(key + 12 + rlen, ":w", 2);
    p = rq_put_bulk(p, key, 14 + rlen);
    p = rq_put_num(p, now);
    p = rq_put_num(p, (long long)n);
    if (lim != NULL) {
        p = rq_put_bulk(p, "1", 1);
        memcpy(p, cn->lim_txt, cn->lim_len);
        p += cn->lim_len;
    } else {
        p = rq_put_bulk(p, "0", 1);
    }
    for (i = 0; i < n; i++) {
        const struct sg_rq_call *call = &ops[i]->call;

        p = rq_put_bulk(p, &call->op, 1);
        p = rq_put_bulk(p, call->txn, strlen(call->txn));
        p = rq_put_num(p, call->rate_units);
        p = rq_put_num(p, call->daily_units);
    }
    return (size_t)(p - cn->req);
}

/* rq_op_name - the operation's name for error texts */
static const char *
rq_op_name(char op)
{
    switch (op) {
    case 'r':
        return "reserve";
    case 'p':
        return "peek";
    case 'c':
        return "commit";
    case 'l':
        return "release";
    case 'u':
        return "usage";
    default:
        return "reset";
    }
}

/*
 * rq_answer - one operation's element of the script's reply: its code
 *   for r p c l x, checked; for u only the shape (rq_usage reads it)
 */
static void
rq_answer(SG_RQ *rq, struct sg_rq_op *op, const redisReply *e)
{
    char o = op->call.op;
    bool ok;

    if (o == 'u') {
        ok = e->type == REDIS_REPLY_ARRAY && e->elements == 4;
    } else {
        ok = e->type == REDIS_REPLY_INTEGER && e->integer >= 0
             && e->integer <= (o == 'r' || o == 'p' ? 2 : 0);
        if (ok)
            op->code = e->integer;
    }
    if (ok) {
        op->st = SG_OK;
    } else {
        op->st = SG_ERR_PROTO;
        snprintf(op->err, sizeof(op->err), "redis %s: malformed reply to "
                 "%s", rq->ep.label, rq_op_name(o));
    }
}

/*
 * rq_exec - run n operations on one region in one script call, on a
 *   connection of the pool, within the earliest of their deadlines, at
 *   the latest of their times, with the limits of those that have
 *   them (all equal: rq_submit); each op gets its answer (st, code,
 *   err)
 *
 * Returns: the reply (an array of n elements; the caller frees it), or
 *   NULL when no operation got an answer from the script. A NOSCRIPT
 *   answer (the server's scripts were flushed, or it restarted) loads
 *   the script again and retries once: the script did not run.
 */
static redisReply *
rq_exec(SG_RQ *rq, struct sg_rq_op **ops, size_t n)
{
    char err[SG_QUOTA_ERR_MAX];
    struct sg_rq_conn *cn;
    redisReply *r = NULL;
    const struct sg_quota_limits *lim = NULL;
    long long deadline = ops[0]->deadline, now = 0;
    size_t len, sha_at, i;
    int attempt;
    bool broken = false;
    SG_STATUS st = SG_ERR_IO;

    /* One time for all: the latest (the window never moves back). */
    for (i = 0; i < n; i++) {
        if (ops[i]->deadline < deadline)
            deadline = ops[i]->deadline;
        if (ops[i]->call.now_ms > now)
            now = ops[i]->call.now_ms;
        if (lim == NULL)
            lim = ops[i]->call.lim;
    }
    if ((cn = rq_get(rq, deadline, err, sizeof(err))) == NULL)
        goto fail;
    len = rq_format(rq, cn, ops, n, lim, now, &sha_at);
    for (attempt = 0; attempt < 2; attempt++) {
        memcpy(cn->req + sha_at, cn->sha, 40);
        r = rq_request(rq, cn, cn->req, len, "EVALSHA", err, sizeof(err));
        if (r == NULL) {
            broken = true;
            break;
        }
        if (attempt == 0 && r->type == REDIS_REPLY_ERROR && r->str != NULL
            && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            struct sg_rq_sigpipe sp;
            bool loaded;

            freeReplyObject(r);
            r = NULL;
            rq_sigpipe_block(&sp);
            loaded = rq_load_script(rq, cn, cn->sha, err, sizeof(err));
            rq_sigpipe_restore(&sp);
            if (!loaded) {
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
        st = SG_ERR_STATE_RETRY;
    } else if (r != NULL && (r->type != REDIS_REPLY_ARRAY
                             || r->elements != n)) {
        snprintf(err, sizeof(err), "redis %s: unexpected reply to the "
                 "quota script", rq->ep.label);
        freeReplyObject(r);
        r = NULL;
        broken = true;
    }
    rq_put(rq, cn, broken);
    if (r != NULL) {
        for (i = 0; i < n; i++)
            rq_answer(rq, ops[i], r->element[i]);
        return r;
    }
fail:
    for (i = 0; i < n; i++) {
        ops[i]->st = st;
        snprintf(ops[i]->err, sizeof(ops[i]->err), "%s", err);
    }
    return NULL;
}

/* rq_wake_lead - post the oldest queued op to lead a call, if one may
 *   start and it was not posted already (queue lock held) */
static void
rq_wake_lead(SG_RQ *rq)
{
    struct sg_rq_op *h = rq->qhead;
    int expect = RQ_WAIT;

    if (h != NULL && rq->inflight < SG_RQ_INFLIGHT
        && atomic_compare_exchange_strong(&h->state, &expect, RQ_LEAD))
        sem_post(&h->sem);
}

/* rq_sem_wait - sem_wait, again after a signal */
static void
rq_sem_wait(sem_t *sem)
{
    while (sem_wait(sem) != 0 && errno == EINTR)
        ;
}

/*
 * rq_submit - run one reserve, commit or release, in a script call
 *   shared with the operations that other threads have waiting
 *
 * Group commit, without a thread of its own: the caller queues its
 * operation; if fewer than SG_RQ_INFLIGHT script calls are running, it
 * leads one: it takes the oldest queued operation and every later one
 * on the same region with the same limits, up to redis_batch_max, runs
 * them in one script call, answers them and wakes their threads, and
 * wakes the thread of the oldest operation still queued to lead the
 * next call. Otherwise it sleeps until its operation is answered or it
 * is woken to lead. One thread alone gets one script call per
 * operation, as before; N threads get their operations carried up to N
 * to a call, so that the server runs one script (one HMGET, one HSET)
 * for all of them. Each operation keeps its own deadline: a call runs
 * within the earliest of those it carries, so nobody waits past
 * redis_timeout for the calls ahead of it.
 */
static void
rq_submit(SG_RQ *rq, struct sg_rq_op *op)
{
    struct sg_rq_op *batch[SG_RQ_BATCH_MAX], **pp, *o;
    const struct sg_quota_limits *lim;
    redisReply *r;
    size_t n, i;
    bool mine;
    int expect;

    sem_init(&op->sem, 0, 0);
    atomic_init(&op->state, RQ_WAIT);
    op->next = NULL;
    op->queued = true;
    pthread_mutex_lock(&rq->qmu);
    *rq->qtail = op;
    rq->qtail = &op->next;
    for (;;) {
        /* The queue's lock is held here. */
        if (atomic_load(&op->state) == RQ_DONE) {
            /* Answered by another leader while this thread led: its
             * post (or the lead post it stood in for) is taken here, so
             * that none is on its way once the op is gone. */
            pthread_mutex_unlock(&rq->qmu);
            rq_sem_wait(&op->sem);
            break;
        }
        if (op->queued && rq->inflight < SG_RQ_INFLIGHT) {
            /* Lead: the oldest waiting and the later ones of its region
             * with the same limits (commits and releases have none). */
            n = 0;
            lim = NULL;
            mine = false;
            pp = &rq->qhead;
            while ((o = *pp) != NULL && n < (size_t)rq->batch_max) {
                if (n == 0
                    || (strcmp(o->region, batch[0]->region) == 0
                        && (o->call.lim == NULL || lim == NULL
                            || sg_quota_same_limits(o->call.lim, lim)))) {
                    batch[n++] = o;
                    *pp = o->next;
                    o->queued = false;
                    mine = mine || o == op;
                    if (lim == NULL)
                        lim = o->call.lim;
                } else {
                    pp = &o->next;
                }
            }
            rq->qtail = pp;
            while (*rq->qtail != NULL)
                rq->qtail = &(*rq->qtail)->next;
            rq->inflight++;
            rq_wake_lead(rq);
            pthread_mutex_unlock(&rq->qmu);

            r = rq_exec(rq, batch, n);
            if (r != NULL)
                freeReplyObject(r);
            for (i = 0; i < n; i++)
                if (batch[i] != op
                    && atomic_exchange(&batch[i]->state, RQ_DONE)
                       == RQ_WAIT)
                    sem_post(&batch[i]->sem);

            pthread_mutex_lock(&rq->qmu);
            rq->inflight--;
            rq_wake_lead(rq);
            if (mine) {
                /* Any lead post to this op was made under the lock,
                 * so it is complete: nothing is on its way. */
                pthread_mutex_unlock(&rq->qmu);
                break;
            }
            continue;
        }
        pthread_mutex_unlock(&rq->qmu);
        rq_sem_wait(&op->sem);
        if (atomic_load(&op->state) == RQ_DONE)
            break;
        /* Woken to lead. RQ_DONE meanwhile: its answerer found RQ_LEAD
         * and did not post; the post just taken was the last. */
        expect = RQ_LEAD;
        if (!atomic_compare_exchange_strong(&op->state, &expect, RQ_WAIT))
            break;
        pthread_mutex_lock(&rq->qmu);
    }
    sem_destroy(&op->sem);
}

/*
 * rq_run - one operation: alone in its script call for peek, usage and
 *   reset, and for everything when redis_batch_max is 1; through
 *   rq_submit otherwise. On failure the handle's error is set.
 *
 * Returns: the operation's status; for usage (*out non-NULL) the whole
 *   reply, which the caller frees.
 */
static SG_STATUS
rq_run(SG_RQ *rq, const char *region, const struct sg_rq_call *call,
       long long *code, redisReply **out)
{
    struct sg_rq_op op, *one = &op;
    redisReply *r;

    op.region = region;
    op.call = *call;
    op.deadline = rq_mono_ms() + rq->head.redis_timeout_ms;
    op.st = SG_ERR_IO;
    op.code = 0;
    op.err[0] = '\0';
    if (out == NULL && rq->batch_max > 1 && (call->op == 'r'
                                             || call->op == 'c'
                                             || call->op == 'l')) {
        rq_submit(rq, &op);
    } else {
        r = rq_exec(rq, &one, 1);
        if (r != NULL && op.st == SG_OK && out != NULL)
            *out = r;
        else if (r != NULL)
            freeReplyObject(r);
    }
    if (op.st != SG_OK)
        sg_quota_set_error(&rq->head, "%s", op.err);
    *code = op.code;
    return op.st;
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

/* ------------------------------------------------------------------ */
/* The backend table                                                    */
/* ------------------------------------------------------------------ */

/* rq_deny - the script's deny code of a reserve or peek (0 1 2) */
static enum sg_quota_deny
rq_deny(long long code)
{
    return code == 2 ? SG_QUOTA_DAILY : code == 1 ? SG_QUOTA_RATE
           : SG_QUOTA_OK;
}

/* rq_admit - reserve or peek: run the script, read the deny code */
static SG_STATUS
rq_admit(SG_QUOTA *q, char op, const char *region,
         const struct sg_quota_limits *lim, const char *txn,
         long long rate_units, long long daily_units, long long now_ms,
         enum sg_quota_deny *deny)
{
    struct sg_rq_call call = {op, now_ms, txn, rate_units, daily_units,
                              lim};
    long long code;
    SG_STATUS st;

    if ((st = rq_run((SG_RQ *)q, region, &call, &code, NULL)) != SG_OK)
        return st;
    *deny = rq_deny(code);
    return SG_OK;
}

/* rq_reserve - check and hold units for a transaction */
static SG_STATUS
rq_reserve(SG_QUOTA *q, const char *region,
           const struct sg_quota_limits *lim, const char *txn,
           long long rate_units, long long daily_units, long long now_ms,
           enum sg_quota_deny *deny)
{
    return rq_admit(q, 'r', region, lim, txn, rate_units, daily_units,
                    now_ms, deny);
}

/* rq_peek - the answer of a reserve, without any change */
static SG_STATUS
rq_peek(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
        long long rate_units, long long daily_units, long long now_ms,
        enum sg_quota_deny *deny)
{
    return rq_admit(q, 'p', region, lim, "", rate_units, daily_units,
                    now_ms, deny);
}

/* rq_simple_op - commit, release or reset: the reply is 0 */
static SG_STATUS
rq_simple_op(SG_QUOTA *q, char op, const char *region, const char *txn,
             long long rate_units, long long daily_units, long long now_ms)
{
    struct sg_rq_call call = {op, now_ms, txn, rate_units, daily_units,
                              NULL};
    long long code;

    return rq_run((SG_RQ *)q, region, &call, &code, NULL);
}

/* rq_commit - turn a hold into sent units */
static SG_STATUS
rq_commit(SG_QUOTA *q, const char *region, const char *txn,
          long long rate_units, long long daily_units, long long now_ms)
{
    return rq_simple_op(q, 'c', region, txn, rate_units, daily_units,
                        now_ms);
}

/* rq_release - drop a hold */
static SG_STATUS
rq_release(SG_QUOTA *q, const char *region, const char *txn,
           long long now_ms)
{
    return rq_simple_op(q, 'l', region, txn, 0, 0, now_ms);
}

/* rq_reset - forget a region */
static SG_STATUS
rq_reset(SG_QUOTA *q, const char *region)
{
    return rq_simple_op(q, 'x', region, "", 0, 0, 0);
}

/* rq_usage - a region's usage */
static SG_STATUS
rq_usage(SG_QUOTA *q, const char *region, const struct sg_quota_limits *lim,
         long long now_ms, struct sg_quota_usage *out)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_call call = {'u', now_ms, "", 0, 0, lim};
    redisReply *r = NULL, *e;
    long long code;
    SG_STATUS st;

    if ((st = rq_run(rq, region, &call, &code, &r)) != SG_OK)
        return st;
    e = r->element[0];
    if (!rq_reply_double(e, 0, &out->sent_24h)
        || !rq_reply_double(e, 1, &out->reserved)
        || !rq_reply_double(e, 2, &out->rate_now)
        || !rq_reply_double(e, 3, &out->tokens)) {
        memset(out, 0, sizeof(*out));
        freeReplyObject(r);
        sg_quota_set_error(&rq->head, "redis %s: malformed reply to usage",
                           rq->ep.label);
        return SG_ERR_PROTO;
    }
    freeReplyObject(r);
    return SG_OK;
}

/*
 * rq_run_slots - the pending slots of an event loop (quota.h), in
 *   script calls of one region and one set of limits each, up to
 *   redis_batch_max operations, in the order given
 *
 * One thread's: the loop waits for each call (within redis_timeout)
 * instead of once per operation. A failed call answers all of its
 * slots with its error.
 */
static SG_STATUS
rq_run_slots(SG_QUOTA *q, struct sg_quota_slot *const *slots, size_t n)
{
    SG_RQ *rq = (SG_RQ *)q;
    struct sg_rq_op *batch[SG_RQ_BATCH_MAX];
    struct sg_quota_slot *bs[SG_RQ_BATCH_MAX], *s, *first;
    const struct sg_quota_limits *lim;
    redisReply *r;
    long long deadline;
    size_t i, j, k;

    for (i = 0; i < n; i++) {
        if ((first = slots[i]) == NULL || first->state != SG_QSLOT_PENDING)
            continue;
        /* This slot and the later pending ones of its region whose
         * limits agree (commits have none). */
        lim = first->op == 'r' ? &first->lim : NULL;
        deadline = rq_mono_ms() + rq->head.redis_timeout_ms;
        k = 0;
        for (j = i; j < n && k < (size_t)rq->batch_max; j++) {
            struct sg_rq_op *o;

            if ((s = slots[j]) == NULL || s->state != SG_QSLOT_PENDING
                || strcmp(s->region, first->region) != 0)
                continue;
            if (s->op == 'r' && lim != NULL
                && !sg_quota_same_limits(&s->lim, lim))
                continue;
            if (s->op == 'r' && lim == NULL)
                lim = &s->lim;
            o = &rq->sops[k];
            o->region = s->region;
            o->call.op = s->op;
            o->call.now_ms = s->now_ms;
            o->call.txn = s->txn;
            o->call.rate_units = s->rate_units;
            o->call.daily_units = s->daily_units;
            o->call.lim = s->op == 'r' ? &s->lim : NULL;
            o->deadline = deadline;
            o->st = SG_ERR_IO;
            o->code = 0;
            o->err[0] = '\0';
            batch[k] = o;
            bs[k] = s;
            s->state = SG_QSLOT_ANSWERED;   /* taken: answered below */
            k++;
        }
        r = rq_exec(rq, batch, k);
        if (r != NULL)
            freeReplyObject(r);
        for (j = 0; j < k; j++) {
            s = bs[j];
            s->st = batch[j]->st;
            s->deny = s->op == 'r' && s->st == SG_OK
                      ? rq_deny(batch[j]->code) : SG_QUOTA_OK;
            if (s->st != SG_OK)
                snprintf(s->err, sizeof(s->err), "%s", batch[j]->err);
        }
    }
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
    pthread_mutex_destroy(&rq->qmu);
    memset(rq->ep.pass, 0, sizeof(rq->ep.pass));
    free(rq->sops);
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
    rq_close,
    rq_run_slots
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
    if (pthread_mutex_init(&rq->qmu, NULL) != 0) {
        pthread_mutex_destroy(&rq->mu);
        sg_seterr(err, errlen, "redis: cannot create a mutex");
        goto fail;
    }
    rq->qtail = &rq->qhead;
    rq->batch_max = (int)conf->redis_batch_max;
    if (rq->batch_max < 1)
        rq->batch_max = 1;
    if (rq->batch_max > SG_RQ_BATCH_MAX)
        rq->batch_max = SG_RQ_BATCH_MAX;
    sg_quota_init(&rq->head, &sg_rq_ops, conf);
    /* The batch of rq_run_slots, once (deferred calls pay from two
     * operations a call on: quota.h). */
    if ((rq->sops = calloc((size_t)rq->batch_max, sizeof(*rq->sops)))
        == NULL) {
        pthread_mutex_destroy(&rq->mu);
        pthread_mutex_destroy(&rq->qmu);
        sg_seterr(err, errlen, "redis: out of memory");
        goto fail;
    }
    rq->head.defers = rq->batch_max > 1;
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
