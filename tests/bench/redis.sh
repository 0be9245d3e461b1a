#!/bin/sh
# tests/bench/redis.sh - Redis quota backend throughput against
#   redis-benchmark's INCR on the same machine in the same run
#
# Usage: flock /tmp/sesgate-bench.lock sh redis.sh BUILDDIR [PAIRS [CONNS
#                                                   [BATCHES]]]
#   PAIRS default 200000; CONNS default "8 50" (50 is redis-benchmark's
#   default number of clients); BATCHES default "64 1" (redis_batch_max:
#   64 the default, coalescing; 1 one script call per operation)
#
# Starts a throwaway redis-server on a free loopback port in a temp dir
# (no persistence, no system service). For each concurrency C:
#   redis-benchmark -q -t incr -n 2*PAIRS -c C -P 1
#   bench_quota_redis -c C -n PAIRS -b B      for each B in BATCHES
# Like for like: C clients on both sides, each waiting for its answer
# before the next request (redis-benchmark's -P 1: no pipelining;
# bench_quota_redis runs C threads on one handle, as sesgate-milter's
# session threads share one, each with one transaction in flight; then,
# with -e, C transactions in flight from one event loop, as
# sesgate-policyd's ready connections: their reserves in one call, then
# their commits, round after round). With
# B = 1 each operation is its own script call, on up to C connections;
# with B > 1 the operations that threads have waiting at the same time
# share calls (up to four in flight). Each side starts from CONFIG
# RESETSTAT, so INFO commandstats gives the server's time per INCR and
# per EVALSHA and the number of EVALSHA calls (operations per call), and
# INFO cpu the server's CPU per request or operation; bench_quota_redis
# prints its own CPU per operation. Prints the ratio of reserve+commit
# pairs/s to INCR/s (target: at least 50 %) and the load average beside
# each run.

builddir=${1:-.}
pairs=${2:-200000}
conns=${3:-"8 50"}
batches=${4:-"64 1"}
bench=$builddir/tests/bench/bench_quota_redis

for t in redis-server redis-benchmark redis-cli; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
[ -x "$bench" ] || { echo "ERROR: $bench not built (make bench)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-bench.XXXXXX") || exit 1
port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save '' \
    --appendonly no --daemonize no --logfile "$tmp/redis.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "ERROR: redis-server did not start"; exit 1; }
    sleep 0.05
done

rcli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
# server_cpu - redis-server's user+system CPU seconds so far
server_cpu() {
    rcli info cpu | tr -d '\r' |
        awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f", s }'
}
# usec_per_call CMD - INFO commandstats' usec_per_call of CMD
usec_per_call() {
    rcli info commandstats | tr -d '\r' |
        sed -n "s/^cmdstat_$1:.*usec_per_call=\\([0-9.]*\\).*/\\1/p"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" \
    "on 127.0.0.1:$port, $(nproc) CPUs"
n_incr=$((pairs * 2))
for c in $conns; do
    echo "== $c clients, no pipelining (load $(load))"
    rcli config resetstat >/dev/null
    a=$(server_cpu)
    echo "\$ redis-benchmark -q -t incr -n $n_incr -c $c -P 1"
    incr_out=$(redis-benchmark -h 127.0.0.1 -p "$port" -q -t incr \
        -n "$n_incr" -c "$c" -P 1 | tr '\r' '\n' | grep 'INCR:' | tail -n 1)
    b=$(server_cpu)
    echo "$incr_out"
    incr=$(echo "$incr_out" | sed 's/^INCR: \([0-9.]*\) requests.*/\1/')
    incr_us=$(usec_per_call incr)
    incr_cpu=$(awk -v a="$a" -v b="$b" -v n="$n_incr" \
        'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
    echo "server: INCR usec_per_call $incr_us, server CPU $incr_cpu us" \
        "per request (load $(load))"

    for batch in $batches loop; do
        # "loop": the event-loop caller (-e), redis_batch_max 64
        mode=
        if [ "$batch" = loop ]; then
            mode=-e
            batch=64
        fi
        rcli config resetstat >/dev/null
        a=$(server_cpu)
        echo "\$ bench_quota_redis -u redis://127.0.0.1:$port/0 -c $c" \
            "-n $pairs -b $batch $mode"
        # shellcheck disable=SC2086
        out=$("$bench" -u "redis://127.0.0.1:$port/0" -c "$c" -n "$pairs" \
            -b "$batch" $mode) || {
            echo "$out"; echo "ERROR: bench_quota_redis failed"; exit 1; }
        b=$(server_cpu)
        echo "$out"
        ev_us=$(usec_per_call evalsha)
        calls=$(rcli info commandstats | tr -d '\r' |
            sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p')
        ev_cpu=$(awk -v a="$a" -v b="$b" -v n="$((pairs * 2))" \
            'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
        echo "server: $calls EVALSHA calls," \
            "$(awk -v o="$((pairs * 2))" -v c="$calls" \
                'BEGIN { printf "%.1f", o / c }') operations per call," \
            "usec_per_call $ev_us, server CPU $ev_cpu us per operation" \
            "(load $(load))"
        ps=$(echo "$out" | sed -n 's/^pairs\/s: //p')
        awk -v p="$ps" -v i="$incr" -v c="$c" -v b="$batch" \
            -v m="${mode:+, event loop}" 'BEGIN {
            printf "ratio (%d clients, redis_batch_max %d%s) pairs/s : " \
                "INCR/s = %.1f %%\n", c, b, m, 100 * p / i
        }'
    done
done
