#!/bin/bash
# soak-policyd.sh - sesgate-policyd's memory and descriptors over a long
# run (issue 4: "RSS flat (+-5 %) over 10 million requests"); by hand,
# not in CI
#
#   bash tests/load/soak-policyd.sh [REQUESTS [CONNS [EVERY]]]
#
# (top_builddir/top_srcdir as for the other tests; defaults 10,000,000
# requests over 1,000 persistent connections, a sample every 500,000.)
# The benchmark's state (10,000 identities, 1,000,000 suppressed, quotas
# that reservations never reach), one daemon on a loopback port, and
# tests/bench/policy_load: transactions of RCPT, RCPT, END-OF-MESSAGE
# over 10,000 senders and recipients (a hold per accepted RCPT, a commit
# per END-OF-MESSAGE, a new instance per transaction). policy_load reads
# the daemon's VmRSS, RssAnon, RssFile and open descriptors before the
# first request and every EVERY requests.
#
# Prints the samples, then first/last/max RSS after the warm-up (the
# first sample taken after 10 % of the requests: until then the store's
# pages are being touched for the first time and counted in VmRSS as
# they are), the drift in % (last against first), the same for RssAnon
# (the heap: a leak shows there), descriptors before and after, errors.
# Exit 0 when the drift of VmRSS and of RssAnon is within +-5 %, the
# descriptors are the same, the run had no error and the daemon lives.

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/lib.sh"

requests=${1:-10000000}
conns=${2:-1000}
every=${3:-500000}
policyd=$top_builddir/policy/sesgate-policyd
ctl=$top_builddir/ctl/sesgatectl
[ -x "$policyd" ] || sg_skip "$policyd is not built"
command -v python3 >/dev/null 2>&1 || sg_skip "python3 is missing"
[ "$(id -u)" = 0 ] || sg_skip "run as root (the daemon drops to nobody)"

sg_setup
# The load generator and the daemon both hold one descriptor per
# connection.
ulimit -n $((conns * 2 + 256)) 2>/dev/null ||
    sg_skip "cannot raise the descriptor limit to $((conns * 2 + 256))"
# shellcheck disable=SC2154  # sg_tmp: set by sg_setup (lib.sh)
D=$sg_tmp
chmod 0755 "$D"
${CC:-cc} -O2 -o "$D/policy_load" "$top_srcdir/tests/bench/policy_load.c" ||
    exit 1

mkdir -p "$D/state"
python3 "$top_srcdir/tests/bench/gen_snapshot.py" 10000 1000000 |
    sed -e 's/"Max24HourSend": 1000000/"Max24HourSend": 1000000000000/' \
        -e 's/"MaxSendRate": 200/"MaxSendRate": 1000000/' >"$D/snap.json"
cat >"$D/sesgate.conf" <<CONF
state_dir = $D/state
default_region = us-east-1
policyd_user = nobody
log_level = warning
CONF
"$ctl" -c "$D/sesgate.conf" import "$D/snap.json" >/dev/null || exit 1
rm -f "$D/snap.json"
chown -R nobody "$D/state"

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$policyd" -c "$D/sesgate.conf" -f -l "inet:127.0.0.1:$port" \
    >"$D/policyd.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
fds_before=$(ls /proc/$pid/fd | wc -l)

echo "== $requests requests over $conns connections, a sample every $every"
start=$(date +%s)
"$D/policy_load" -c "$conns" -n "$requests" -p "$pid" -s "$every" \
    "inet:127.0.0.1:$port" | tee "$D/out"
load_rc=${PIPESTATUS[0]}
secs=$(( $(date +%s) - start ))
sleep 1
alive=0
kill -0 "$pid" 2>/dev/null && alive=1
fds_after=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

awk -v req="$requests" -v fb="$fds_before" -v fa="$fds_after" \
    -v lrc="$load_rc" -v alive="$alive" -v secs="$secs" '
/^sample/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["requests"] >= req / 10 && n == 0) {
        first = v["rss_kb"]; afirst = v["anon_kb"]; n = 1
    }
    if (n) {
        last = v["rss_kb"]; alast = v["anon_kb"]
        if (v["rss_kb"] > max) max = v["rss_kb"]
        if (v["anon_kb"] > amax) amax = v["anon_kb"]
    }
}
/^conns=/ { for (i = 1; i <= NF; i++) { split($i, kv, "=");
    r[kv[1]] = kv[2] } }
END {
    if (!n) { print "soak: no sample after the warm-up"; exit 1 }
    d = (last - first) * 100.0 / first
    ad = (alast - afirst) * 100.0 / afirst
    printf "soak: %d requests in %d s, errors=%d (load generator exit %d)\n",
        r["requests"], secs, r["errors"], lrc
    printf "soak: VmRSS first %d KB, last %d KB, max %d KB, drift %+.2f %%\n",
        first, last, max, d
    printf "soak: RssAnon first %d KB, last %d KB, max %d KB, drift %+.2f %%\n",
        afirst, alast, amax, ad
    printf "soak: descriptors before %d, after %d; daemon %s\n", fb, fa,
        alive ? "alive" : "GONE"
    ok = lrc == 0 && r["errors"] == 0 && r["requests"] == req && alive \
        && fb == fa && d <= 5 && d >= -5 && ad <= 5 && ad >= -5
    print ok ? "soak: PASS" : "soak: FAIL"
    exit !ok
}' "$D/out"
