#!/bin/bash
# tests/bench/milter.sh - messages/s that Postfix accepts with and
# without sesgate-milter (make bench; never part of make check)
#
# Same run, same machine: smtp-source -> Postfix -> smtp-sink (counting
# only) for
#   bare         Postfix alone (the baseline)
#   sesgate-inet sesgate-milter over inet:PORT@127.0.0.1
#   sesgate-unix sesgate-milter over a unix socket
#   null-inet / null-unix  milter_null.c, a do-nothing milter asking for
#                the same steps and macros as sesgate-milter: the floor
#                (Postfix's milter client and libmilter), built here
#   opendkim-inet / opendkim-unix  OpenDKIM signing (Debian package), a
#                respected milter's cost, when opendkim is installed
# at SESSIONS parallel sessions, MESSAGES messages of RCPTS recipients
# and 2 KB each, RUNS interleaved rounds (each configuration once per
# round). Prints one line per configuration with the median msgs/s, the
# median of each round's ratio to bare Postfix, the CPU ms per message
# of the Postfix instance and of the milter process, and the milter's
# RSS before and after.
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
milter_user = nobody
milter_socket_group =
milter_socket_mode = 0666
log_level = warning
CF
# As root the milter runs as nobody (it refuses to stay root): the
# state directory is nobody's before the import hands the files to it.
if [ "$(id -u)" = 0 ]; then
    chmod 755 "$tmp"
    chown nobody "$tmp/state"
fi
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
# The floor: a milter that continues everything, asking for the same
# macros as sesgate-milter; allmacros-inet/-unix (CONFIGS only): the
# same taking Postfix's default macros (what smfi_setsymlist saves).
if ${CC:-cc} -O2 -o "$tmp/milter_null" "$here/milter_null.c" -lmilter \
    -lpthread 2>"$tmp/cc.log"; then
    NPORT=$(pf_free_port)
    "$tmp/milter_null" "inet:$NPORT@127.0.0.1" symlist &
    MILTER_PID="$MILTER_PID $!"
    NULL_INET_PID=$!
    "$tmp/milter_null" "unix:$tmp/null.sock" symlist &
    MILTER_PID="$MILTER_PID $!"
    NULL_UNIX_PID=$!
    APORT=$(pf_free_port)
    "$tmp/milter_null" "inet:$APORT@127.0.0.1" &
    MILTER_PID="$MILTER_PID $!"
    ALL_INET_PID=$!
    "$tmp/milter_null" "unix:$tmp/all.sock" &
    MILTER_PID="$MILTER_PID $!"
    ALL_UNIX_PID=$!
    pf_wait_port "$NPORT" || exit 1
    pf_wait_port "$APORT" || exit 1
    for i in $(seq 1 50); do
        [ -S "$tmp/null.sock" ] && [ -S "$tmp/all.sock" ] && break
        sleep 0.1
    done
    chmod 666 "$tmp/null.sock" "$tmp/all.sock"
    configs="bare null-inet null-unix sesgate-inet sesgate-unix"
else
    echo "# milter_null not built: $(head -1 "$tmp/cc.log")"
fi
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
    null-inet) echo "inet:127.0.0.1:$NPORT" ;;
    null-unix) echo "unix:$tmp/null.sock" ;;
    allmacros-inet) echo "inet:127.0.0.1:$APORT" ;;
    allmacros-unix) echo "unix:$tmp/all.sock" ;;
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

# CPU time in clock ticks, of one process (user + system) and of the
# Postfix instance: master, its live children and, through master's
# cutime/cstime, every child it has reaped (smtpd processes come and go).
# Other jobs on the machine do not count in either.
TICK_MS=$(awk -v h="$(getconf CLK_TCK)" 'BEGIN { print 1000 / h }')
proc_cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pf_cpu() {
    local m
    m=$(tr -d ' ' < "$tmp/pf/queue/pid/master.pid")
    { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$m/stat"
      for p in $(ps -o pid= --ppid "$m"); do
          awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null
      done; } | awk '{ s += $1 } END { print s + 0 }'
}

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

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs; $MESSAGES msgs x $RCPTS rcpts, 2 KB, $RUNS interleaved rounds"
echo "# msgs/s: median of the rounds; ratio: median of each round's ratio to"
echo "# bare Postfix in the same round; CPU: ms per message of the Postfix"
echo "# instance and of the milter process (medians); load: 1-min average"
printf '%-14s %8s %8s %7s %6s %7s %7s  %s\n' config sessions msgs/s ratio \
    errors pf_ms milt_ms "runs / milter RSS KB before->after / load"

# pid_of CONFIG - the milter process of a configuration, or ""
pid_of() {
    case $1 in
    sesgate-inet) echo "$MILTER_INET_PID" ;;
    sesgate-unix) echo "$MILTER_UNIX_PID" ;;
    null-inet) echo "$NULL_INET_PID" ;;
    null-unix) echo "$NULL_UNIX_PID" ;;
    allmacros-inet) echo "$ALL_INET_PID" ;;
    allmacros-unix) echo "$ALL_UNIX_PID" ;;
    esac
}

# drain - let the queue empty so that runs start alike
drain() {
    local i
    for i in $(seq 1 600); do
        [ -z "$(find "$tmp/pf/queue/active" "$tmp/pf/queue/incoming" -type f 2>/dev/null | head -1)" ] && break
        sleep 0.5
    done
}

# Rounds: every configuration once per round, in the same order, so that
# the machine's load (other jobs) hits all of them alike and each
# round's ratio compares runs minutes apart, not a whole block apart.
for s in $SESSIONS; do
    declare -A rates=() ratios=() pfms=() mms=() errs=() rss0=() rss1=()
    for c in $configs; do
        pid=$(pid_of "$c")
        rss0[$c]=${pid:+$(rss "$pid")}
    done
    for r in $(seq 1 "$RUNS"); do
        base=
        for c in $configs; do
            postconf -c "$PF_CONF" -e "smtpd_milters = $(milters_of "$c")"
            pf_reload
            pid=$(pid_of "$c")
            # warm-up: connections, processes, caches
            MESSAGES=200 one_run "$s" >/dev/null
            drain
            : > "$tmp/pf/maillog"
            p0=$(pf_cpu); m0=${pid:+$(proc_cpu "$pid")}
            secs=$(one_run "$s")
            drain       # delivery of this run's mail counts too
            p1=$(pf_cpu); m1=${pid:+$(proc_cpu "$pid")}
            rate=$(awk -v m="$MESSAGES" -v t="$secs" 'BEGIN { printf "%.0f", m / t }')
            [ "$c" = bare ] && base=$rate
            rates[$c]="${rates[$c]} $rate"
            ratios[$c]="${ratios[$c]} $(awk -v a="$rate" -v b="${base:-$rate}" 'BEGIN { printf "%.2f", a / b }')"
            pfms[$c]="${pfms[$c]} $(awk -v d="$((p1 - p0))" -v n="$MESSAGES" -v t="$TICK_MS" 'BEGIN { printf "%.2f", d * t / n }')"
            mms[$c]="${mms[$c]} $(awk -v d="$(( ${m1:-0} - ${m0:-0} ))" -v n="$MESSAGES" -v t="$TICK_MS" 'BEGIN { printf "%.2f", d * t / n }')"
            # Refusals or milter failures would make a configuration
            # look fast: count them (must be 0).
            e=$(grep -cE 'milter-reject|Milter service|milter.*(timeout|error)' \
                "$tmp/pf/maillog" 2>/dev/null)
            errs[$c]=$(( ${errs[$c]:-0} + ${e:-0} ))
        done
    done
    for c in $configs; do
        pid=$(pid_of "$c")
        rss1[$c]=${pid:+$(rss "$pid")}
        printf '%-14s %8s %8s %6sx %6s %7s %7s  %s\n' "$c" "$s" \
            "$(median ${rates[$c]})" "$(median ${ratios[$c]})" "${errs[$c]}" \
            "$(median ${pfms[$c]})" "$(median ${mms[$c]})" \
            "(runs:${rates[$c]}) ${pid:+${rss0[$c]}->${rss1[$c]} }load $(cut -d' ' -f1 /proc/loadavg)"
    done
    unset rates ratios pfms mms errs rss0 rss1
done
