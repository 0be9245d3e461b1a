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
# the median run of each, the load average, and sesgate's ratio to each
# other server (req/s and p99). postfwd and policyd-rate-limit are
# installed with apt-get here (Debian packages) when missing and run as
# nobody; PEERS=0 skips them. postfwd: recipient lookup list + per-sender
# rate() counter, one pre-forked child per connection, no logging.
# policyd-rate-limit: per-sender limit, sqlite in memory (it has no
# recipient list). REDIS=1 runs a second sesgate-policyd ("sesgate-redis")
# with quota_backend = redis against a throwaway redis-server on a
# loopback port, beside the embedded one, and a third
# ("sesgate-redis-b1") with redis_batch_max = 1 (one script call per
# quota operation: the quota calls of a wakeup are not run together).
set -u

build=$(cd "${1:?usage: policy.sh BUILDDIR [SECONDS] [CONNS...]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${2:-3}
shift $(( $# >= 2 ? 2 : $# ))
conns=${*:-1 8 64 256}
T=$(mktemp -d /tmp/sesgate-pbench.XXXXXX)
chmod 0755 "$T"
pids=

prl_pid=

cleanup() {
    local p
    [ -n "$prl_pid" ] && kill -USR1 "$prl_pid" 2>/dev/null
    [ -s "$T/peers/postfwd.pid" ] && kill "$(cat "$T/peers/postfwd.pid")" 2>/dev/null
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
    done | sort -t= -k5 -n | awk -v n="$name" \
        -v l="$(cut -d' ' -f1 /proc/loadavg)" 'NR == 2 {
        print n, $0, "load=" l }'
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
if [ "${REDIS:-0}" = 1 ]; then
    mkdir -p "$T/redis"
    redis-server --port 20106 --bind 127.0.0.1 --dir "$T/redis" --save '' \
        --appendonly no --daemonize no --logfile "$T/redis/redis.log" &
    pids="$pids $!"
    wait_port 20106 || exit 1
    sed 's/^log_level = warning$/log_level = warning\
quota_backend = redis\
redis_url = redis:\/\/127.0.0.1:20106\/0/' "$T/sesgate.conf" \
        >"$T/sesgate-redis.conf"
    "$build/policy/sesgate-policyd" -c "$T/sesgate-redis.conf" -f \
        -l inet:127.0.0.1:20107 2>"$T/policyd-redis.log" &
    pids="$pids $!"
    # The same with one script call per quota operation (the loop then
    # waits for each in turn): what running them together brings.
    { cat "$T/sesgate-redis.conf"; echo "redis_batch_max = 1"; } \
        >"$T/sesgate-redis1.conf"
    "$build/policy/sesgate-policyd" -c "$T/sesgate-redis1.conf" -f \
        -l inet:127.0.0.1:20108 2>"$T/policyd-redis1.log" &
    pids="$pids $!"
    wait_port 20107 && wait_port 20108 || exit 1
    servers="$servers sesgate-redis=inet:127.0.0.1:20107"
    servers="$servers sesgate-redis-b1=inet:127.0.0.1:20108"
fi

if [ "${PEERS:-1}" = 1 ]; then
    if ! command -v postfwd >/dev/null || ! command -v policyd-rate-limit \
        >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfwd \
            policyd-rate-limit >/dev/null 2>&1 || echo "peers not installed"
    fi
    # The peers run as nobody: give them a directory of their own.
    mkdir -p "$T/peers"
    chown nobody:nogroup "$T/peers"
    maxc=1
    for c in $conns; do [ "$c" -gt "$maxc" ] && maxc=$c; done
    if command -v postfwd >/dev/null; then
        # Nearest rules: the recipient lookup list (the addresses that
        # policy_load's recipients hit, as sesgate's suppression list)
        # and a per-sender rate counter that never refuses. postfwd
        # expands file: into a list of ==; comparisons.
        seq 0 50 9999 | awk '{ printf "user%d@host%d.example\n", $1*7, ($1*7)%9973 }' \
            >"$T/suppressed.txt"
        cat >"$T/postfwd.cf" <<CF
id=SUPP; recipient==file:$T/suppressed.txt; action=550 5.1.1 suppressed
id=RATE; protocol_state==RCPT; action=rate(\$\$sender/1000000000/60/454 4.7.0 rate exceeded)
id=DEFAULT; action=dunno
CF
        # postfwd (Net::Server) logs through Sys::Syslog and its policy
        # server dies at start without /dev/log, which this machine does
        # not have: a module loaded first turns syslog calls into no-ops
        # (postfwd runs with --perfmon, no logging, anyway).
        mkdir -p "$T/perl"
        cat >"$T/perl/SgNoSyslog.pm" <<'PM'
package SgNoSyslog;
use Sys::Syslog ();
no warnings 'redefine';
*Sys::Syslog::setlogsock = sub { 1 };
*Sys::Syslog::openlog    = sub { 1 };
*Sys::Syslog::syslog     = sub { 1 };
*Sys::Syslog::closelog   = sub { 1 };
1;
PM
        chmod -R a+rX "$T/perl" "$T/postfwd.cf" "$T/suppressed.txt"
        # One postfwd child per connection: --min_servers >= connections
        # (its default pool of 10 leaves connections unserved), and
        # Net::Server wants max_spare_servers < max_servers. It
        # daemonizes; the master's pid is in its pidfile.
        perl -T -I"$T/perl" -MSgNoSyslog /usr/sbin/postfwd \
            --file="$T/postfwd.cf" --interface=127.0.0.1 --port=20103 \
            --min_servers=$((maxc + 5)) --max_servers=$((maxc + 20)) \
            --min_spare_servers=5 --max_spare_servers=$((maxc + 10)) \
            --user=nobody --group=nogroup --pidfile="$T/peers/postfwd.pid" \
            --cache_proto=unix --cache_port="$T/peers/postfwd-cache.sock" \
            --perfmon --nodns >"$T/postfwd.log" 2>&1
        if wait_port 20103; then
            sleep $(( maxc / 16 + 2 ))   # let the pre-forked children start
            servers="$servers postfwd=inet:127.0.0.1:20103"
        else
            echo "postfwd did not start:"; cat "$T/postfwd.log"
        fi
    fi
    if command -v policyd-rate-limit >/dev/null; then
        # policyd-rate-limit only counts: one per-sender limit (never
        # reached), sqlite in memory. It has no recipient list.
        cat >"$T/prl.yaml" <<YAML
debug: False
user: "nobody"
group: "nogroup"
pidfile: "$T/peers/prl.pid"
mysql_config: {}
sqlite_config:
    database: ":memory:"
pgsql_config: {}
backend: 0
SOCKET: ["127.0.0.1", 20104]
socket_permission: 0666
limits:
    - [1000000000, 60]
limits_by_id: {}
limit_by_sasl: False
limit_by_sender: True
limit_by_ip: False
limited_networks: []
success_action: "dunno"
fail_action: "defer_if_permit Rate limit reach, retry later"
db_error_action: "dunno"
report: False
report_from: null
report_to: null
report_subject: "policyd-rate-limit report"
report_limits: [86400]
report_only_if_needed: True
smtp_server: ["localhost", 25]
smtp_starttls: False
smtp_credentials: null
delay_to_close: 300
YAML
        chmod 0644 "$T/prl.yaml"
        # It must not start as root; SIGUSR1 stops it (cleanup).
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
            policyd-rate-limit --file "$T/prl.yaml" >"$T/prl.log" 2>&1 &
        prl_pid=$!
        if wait_port 20104; then
            servers="$servers policyd-rate-limit=inet:127.0.0.1:20104"
        else
            echo "policyd-rate-limit did not start:"; cat "$T/prl.log"
        fi
    fi
fi

echo "== $secs s per run, median of 3 (by req/s)"
for c in $conns; do
    for s in $servers; do
        median3 "${s%%=*}" "${s#*=}" "$c"
    done
done | tee "$T/results"
echo "== ratios at each connection count (req/s; p99 in parentheses)"
awk '{ split($2, cc, "="); split($5, r, "="); split($7, p, "=");
       v[$1, cc[2]] = r[2]; q[$1, cc[2]] = p[2]; cs[cc[2]] = 1; sv[$1] = 1 }
     END { for (k in cs) {
         line = "conns=" k
         if (v["sesgate", k] > 0) for (s in sv) if (s != "sesgate" && v[s, k] > 0)
             line = line sprintf("  sesgate/%s=%.2fx (p99 %.2fx)", s,
                 v["sesgate", k] / v[s, k], q["sesgate", k] / q[s, k])
         if (v["sesgate-redis", k] > 0 && v["sesgate-redis-b1", k] > 0)
             line = line sprintf("  sesgate-redis/sesgate-redis-b1=%.2fx",
                 v["sesgate-redis", k] / v["sesgate-redis-b1", k])
         print line } }' "$T/results" | sort -t= -k2 -n
echo "== sesgate-policyd RSS: $(ps -o rss= -p "$(echo $pids | cut -d' ' -f2)") KB"
