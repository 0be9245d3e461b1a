#!/bin/bash
# tests/bench/policy.sh - sesgate-policyd against a do-nothing responder,
# postfwd and policyd-rate-limit, same load, same run (not in CI)
#
#   tests/bench/policy.sh BUILDDIR [SECONDS] [CONNS...]
#
# Builds the state of the issue (10,000 identities, 1 million suppressed
# addresses, quotas high enough that reservations and commits succeed),
# starts each server on a loopback port, and runs tests/bench/policy_load
# over 1, 8, 64 and 256 persistent connections, three times each; prints
# the median run of each and sesgate's ratio to the responder. postfwd
# and policyd-rate-limit are installed with apt-get here (Debian
# packages) when missing; PEERS=0 skips them.
set -u

build=$(cd "${1:?usage: policy.sh BUILDDIR [SECONDS] [CONNS...]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${2:-3}
shift $(( $# >= 2 ? 2 : $# ))
conns=${*:-1 8 64 256}
T=$(mktemp -d /tmp/sesgate-pbench.XXXXXX)
chmod 0755 "$T"
pids=

cleanup() {
    local p
    for p in $pids; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

make -C "$build" policy/sesgate-policyd ctl/sesgatectl >/dev/null 2>&1 ||
    echo "make failed: using the programs already built in $build"
# The two helpers have no dependencies: build them here, optimised,
# whatever state the tree's makefiles are in ("make bench" builds them
# too, as EXTRA_PROGRAMS).
for p in policy_load policy_null; do
    ${CC:-cc} -O2 -o "$T/$p" "$src/tests/bench/$p.c" || exit 1
done
load=$T/policy_load

# wait_port PORT
wait_port() {
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# median3 SERVER-NAME TARGET CONNS - three runs, the median by rps
median3() {
    local name=$1 target=$2 c=$3 i
    for i in 1 2 3; do
        "$load" -c "$c" -d "$secs" "$target"
    done | sort -t= -k5 -n | awk -v n="$name" 'NR == 2 {
        print n, $0 }'
}

echo "== state: 10000 identities, 1000000 suppressed"
mkdir -p "$T/state"
python3 "$src/tests/bench/gen_snapshot.py" 10000 1000000 |
    sed -e 's/"Max24HourSend": 1000000/"Max24HourSend": 1000000000000/' \
        -e 's/"MaxSendRate": 200/"MaxSendRate": 1000000/' >"$T/snap.json"
cat >"$T/sesgate.conf" <<CONF
state_dir = $T/state
default_region = us-east-1
policyd_user = nobody
log_level = warning
CONF
"$build/ctl/sesgatectl" -c "$T/sesgate.conf" import "$T/snap.json" || exit 1
chown -R nobody "$T/state"

"$T/policy_null" inet:127.0.0.1:20101 &
pids="$pids $!"
"$build/policy/sesgate-policyd" -c "$T/sesgate.conf" -f \
    -l inet:127.0.0.1:20102 2>"$T/policyd.log" &
pids="$pids $!"
wait_port 20101 && wait_port 20102 || exit 1
servers="null=inet:127.0.0.1:20101 sesgate=inet:127.0.0.1:20102"

if [ "${PEERS:-1}" = 1 ]; then
    if ! command -v postfwd >/dev/null || ! command -v policyd-rate-limit \
        >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfwd \
            policyd-rate-limit >/dev/null 2>&1 || echo "peers not installed"
    fi
    if command -v postfwd >/dev/null; then
        # Nearest rules: a per-sender rate counter and a recipient list.
        seq 0 50 9999 | awk '{ printf "user%d@host%d.example\n", $1*7, ($1*7)%9973 }' \
            >"$T/suppressed.txt"
        cat >"$T/postfwd.cf" <<CF
id=SUPP; recipient==file:$T/suppressed.txt; action=550 5.1.1 suppressed
id=RATE; protocol_state==RCPT; action=rate(sender/1000000/1/454 4.7.0 rate exceeded)
id=DEFAULT; action=dunno
CF
        postfwd --file="$T/postfwd.cf" --interface=127.0.0.1 --port=20103 \
            --min_servers=260 --max_servers=300 --nodaemon \
            --user=nobody --group=nogroup --pidfile="$T/postfwd.pid" \
            >"$T/postfwd.log" 2>&1 &
        pids="$pids $!"
        wait_port 20103 && servers="$servers postfwd=inet:127.0.0.1:20103"
    fi
    if command -v policyd-rate-limit >/dev/null; then
        cat >"$T/prl.yaml" <<YAML
debug: False
user: nobody
group: nogroup
pidfile: "$T/prl.pid"
mysql_config: {}
pgsql_config: {}
sqlite_config: {}
backend: 0
SOCKET: ["127.0.0.1", 20104]
socket_permission: 0666
limits:
  - [1000000, 60]
limit_by_sasl: False
limit_by_sender: True
limit_by_ip: False
limited_networks: []
limit_by_sasl: False
success_action: "dunno"
fail_action: "defer_if_permit Rate limit reach, retry later"
db_error_fail: False
delay_to_cleanup: 0
report: False
YAML
        chown nobody "$T/prl.yaml" "$T"
        policyd-rate-limit --file "$T/prl.yaml" >"$T/prl.log" 2>&1 &
        pids="$pids $!"
        wait_port 20104 && servers="$servers policyd-rate-limit=inet:127.0.0.1:20104"
    fi
fi

echo "== $secs s per run, median of 3 (by req/s)"
for c in $conns; do
    for s in $servers; do
        median3 "${s%%=*}" "${s#*=}" "$c"
    done
done | tee "$T/results"
echo "== sesgate / responder"
awk '{ split($3, r, "="); split($2, c, "="); v[$1, c[2]] = r[2]; cs[c[2]] = 1 }
     END { for (c in cs) if (v["null", c] > 0)
         printf "conns=%s sesgate/null=%.0f%%\n", c, 100 * v["sesgate", c] / v["null", c] }' \
    "$T/results" | sort -t= -k2 -n
echo "== sesgate-policyd RSS: $(ps -o rss= -p "$(echo $pids | cut -d' ' -f2)") KB"
