#!/bin/bash
# tests/bench/milter.sh - messages/s that Postfix accepts with and
# without sesgate-milter (make bench; never part of make check)
#
# Same run, same machine: smtp-source -> Postfix -> smtp-sink (counting
# only) for
#   bare         Postfix alone (the baseline)
#   sesgate-inet sesgate-milter over inet:PORT@127.0.0.1
#   sesgate-unix sesgate-milter over a unix socket
#   opendkim-inet / opendkim-unix  OpenDKIM signing (Debian package), a
#                respected milter's cost, when opendkim is installed
# at SESSIONS parallel sessions, MESSAGES messages of RCPTS recipients
# and 2 KB each, median of RUNS runs. Prints one line per configuration
# with msgs/s, the ratio to bare Postfix and (sesgate) the milter's RSS
# before and after.
#
# Environment: MESSAGES (5000), RCPTS (5), SESSIONS ("10 50"), RUNS (3),
#   CONFIGS (all of the above), top_builddir/top_srcdir as for the tests.

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/postfix-lib.sh"

MESSAGES=${MESSAGES:-5000}
RCPTS=${RCPTS:-5}
SESSIONS=${SESSIONS:-"10 50"}
RUNS=${RUNS:-3}

pf_need_peers
command -v smtp-source >/dev/null || { echo "smtp-source missing"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-bench.XXXXXX") || exit 99
chmod 755 "$tmp"
MILTER_PID=
DKIM_PID=
SINK=

# cleanup - stop what this script started
cleanup() {
    pf_stop
    for p in $MILTER_PID $DKIM_PID $SINK; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# A production region without limits that matter here.
mkdir "$tmp/state"
cat > "$tmp/state.json" <<'JSON'
{ "sesgate_state": 1, "regions": { "eu-west-1": {
  "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
    "SendQuota": { "Max24HourSend": -1, "MaxSendRate": 1000000,
                   "SentLast24Hours": 0 } },
  "identities": [ { "IdentityName": "example.com", "IdentityType": "DOMAIN",
    "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
  "suppressed": [], "configuration_sets": [] } } }
JSON
cat > "$tmp/sesgate.conf" <<CF
state_dir = $tmp/state
default_region = eu-west-1
milter_user =
milter_socket_group =
milter_socket_mode = 0666
log_level = warning
CF
"$top_builddir/ctl/sesgatectl" -c "$tmp/sesgate.conf" import \
    "$tmp/state.json" >/dev/null || exit 1

# smtp-sink that only counts (no files): the relay side stays cheap.
PF_SINK_PORT=$(pf_free_port)
smtp-sink -u nobody "127.0.0.1:$PF_SINK_PORT" 1000 >/dev/null 2>&1 &
SINK=$!
pf_wait_port "$PF_SINK_PORT" || exit 1

MPORT=$(pf_free_port)
"$top_builddir/milter/sesgate-milter" -f -c "$tmp/sesgate.conf" \
    -p "inet:$MPORT@127.0.0.1" > "$tmp/milter-inet.log" 2>&1 &
MILTER_PID=$!
pf_wait_port "$MPORT" || exit 1
# The unix socket lives where the non-chrooted smtpd can reach it.
"$top_builddir/milter/sesgate-milter" -f -c "$tmp/sesgate.conf" \
    -p "unix:$tmp/milter.sock" > "$tmp/milter-unix.log" 2>&1 &
MILTER_PID="$MILTER_PID $!"
MILTER_UNIX_PID=$!
MILTER_INET_PID=${MILTER_PID%% *}

configs="bare sesgate-inet sesgate-unix"
if command -v opendkim >/dev/null 2>&1 && command -v opendkim-genkey \
    >/dev/null 2>&1; then
    mkdir -p "$tmp/dkim"
    (cd "$tmp/dkim" && opendkim-genkey -b 2048 -d example.com -s bench) \
        >/dev/null 2>&1
    chmod 755 "$tmp/dkim"; chmod 644 "$tmp/dkim/"*
    DPORT=$(pf_free_port)
    for kind in inet unix; do
        if [ $kind = inet ]; then sock="inet:$DPORT@127.0.0.1"
        else sock="local:$tmp/dkim/dkim.sock"; fi
        cat > "$tmp/dkim/opendkim-$kind.conf" <<CF
Syslog no
Mode s
Domain example.com
Selector bench
KeyFile $tmp/dkim/bench.private
Socket $sock
UserID root
UMask 000
RequireSafeKeys false
CF
        opendkim -f -x "$tmp/dkim/opendkim-$kind.conf" \
            >"$tmp/dkim/$kind.log" 2>&1 &
        DKIM_PID="$DKIM_PID $!"
    done
    sleep 1
    configs="$configs opendkim-inet opendkim-unix"
fi

# CONFIGS limits the run (e.g. CONFIGS="bare sesgate-inet").
[ -n "${CONFIGS:-}" ] && configs=$CONFIGS

# milters_of CONFIG - the smtpd_milters value
milters_of() {
    case $1 in
    bare) echo "" ;;
    sesgate-inet) echo "inet:127.0.0.1:$MPORT" ;;
    sesgate-unix) echo "unix:$tmp/milter.sock" ;;
    opendkim-inet) echo "inet:127.0.0.1:$DPORT" ;;
    opendkim-unix) echo "unix:$tmp/dkim/dkim.sock" ;;
    esac
}

pf_start "$tmp/pf" "milter_default_action = tempfail
milter_protocol = 6
smtpd_milters =
default_process_limit = 200" || exit 1

# rss KB of a process
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# one_run SESSIONS - seconds smtp-source takes (acceptance, not delivery)
one_run() {
    local s=$1 t0 t1
    t0=$(date +%s.%N)
    smtp-source -s "$s" -m "$MESSAGES" -r "$RCPTS" -l 2048 \
        -f bench@example.com -t rcpt@example.net \
        "127.0.0.1:$PF_SMTP_PORT" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# median of the arguments
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
    END { print a[int((NR + 1) / 2)] }'; }

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs; $MESSAGES msgs x $RCPTS rcpts, 2 KB, median of $RUNS"
printf '%-14s %8s %10s %8s %6s %s\n' config sessions msgs/s ratio errors \
    "milter RSS KB before->after"
for s in $SESSIONS; do
    base=
    for c in $configs; do
        postconf -c "$PF_CONF" -e "smtpd_milters = $(milters_of "$c")"
        pf_reload
        rates=
        pid=
        case $c in
        sesgate-inet) pid=$MILTER_INET_PID ;;
        sesgate-unix) pid=$MILTER_UNIX_PID ;;
        esac
        before=${pid:+$(rss "$pid")}
        # warm-up: connections, processes, caches
        MESSAGES=200 one_run "$s" >/dev/null
        for r in $(seq 1 "$RUNS"); do
            secs=$(one_run "$s")
            rates="$rates $(awk -v m="$MESSAGES" -v t="$secs" \
                'BEGIN { printf "%.0f", m / t }')"
        done
        after=${pid:+$(rss "$pid")}
        # Refusals or milter failures would make a configuration look
        # fast: count them (must be 0).
        errs=$(grep -cE 'milter-reject|Milter service|milter.*(timeout|error)' \
            "$tmp/pf/maillog" 2>/dev/null)
        : > "$tmp/pf/maillog"
        rate=$(median $rates)
        [ "$c" = bare ] && base=$rate
        ratio=$(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
        printf '%-14s %8s %10s %8s %6s %s\n' "$c" "$s" "$rate" "${ratio}x" \
            "$errs" "${pid:+$before->$after}  (runs:$rates) load $(cut -d' ' -f1 /proc/loadavg)"
        # let the queue drain so runs start alike
        for i in $(seq 1 600); do
            [ -z "$(find "$tmp/pf/queue/active" "$tmp/pf/queue/incoming" -type f 2>/dev/null | head -1)" ] && break
            sleep 0.5
        done
    done
done
