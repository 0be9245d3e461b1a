#!/bin/sh
# tests/bench/redis.sh - Redis quota backend throughput against
#   redis-benchmark's INCR on the same machine in the same run
#
# Usage: redis.sh BUILDDIR [PAIRS]   (PAIRS default 200000)
#
# Starts a throwaway redis-server on a free loopback port in a temp dir
# (no persistence, no system service), runs
#   redis-benchmark -q -t incr -n 200000 -c 8
# and then bench_quota_redis with 8 threads (8 connections), and prints
# both rates and the ratio of reserve+commit pairs/s to INCR/s (target:
# at least 50 %). Each pair is two script calls (two round trips), so
# script calls/s are printed too.

builddir=${1:-.}
pairs=${2:-200000}
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

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" \
    "on 127.0.0.1:$port, $(nproc) CPUs"
echo "\$ redis-benchmark -q -t incr -n 200000 -c 8"
incr_out=$(redis-benchmark -h 127.0.0.1 -p "$port" -q -t incr -n 200000 \
    -c 8 | tr '\r' '\n' | grep 'INCR:' | tail -n 1)
echo "$incr_out"
incr=$(echo "$incr_out" | sed 's/^INCR: \([0-9.]*\) requests.*/\1/')

echo "\$ bench_quota_redis -u redis://127.0.0.1:$port/0 -c 8 -n $pairs"
out=$("$bench" -u "redis://127.0.0.1:$port/0" -c 8 -n "$pairs") || {
    echo "$out"; echo "ERROR: bench_quota_redis failed"; exit 1; }
echo "$out"
ps=$(echo "$out" | sed -n 's/^pairs\/s: //p')
cs=$(echo "$out" | sed -n 's/^script calls\/s: //p')
awk -v p="$ps" -v c="$cs" -v i="$incr" 'BEGIN {
    printf "ratio pairs/s : INCR/s = %.1f %%\n", 100 * p / i
    printf "ratio script calls/s : INCR/s = %.1f %%\n", 100 * c / i
}'
