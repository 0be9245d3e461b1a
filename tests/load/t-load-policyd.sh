#!/bin/bash
# t-load-policyd.sh - sesgate-policyd under connection load and abuse
#
# One daemon on a loopback port (policyd_idle_timeout = 3 s), then, in
# bounded counts and time, from tests/load/abuse.py:
#   - 1,000 concurrent connections (ulimit -n raised), each asking two
#     requests: every one answered, no error;
#   - 1,000 abusive connections at once: garbage bytes, half-lines left
#     open, 1 MB lines without a newline, slowloris trickles of a byte
#     every 0.5 s; meanwhile a well-behaved client's requests keep being
#     answered, not held up by them (p99 within 2x the unloaded p99 +
#     100 ms of scheduling noise; a trickle waited on would cost
#     ~350 ms), 1 MB lines and garbage are cut off;
#   - idle connections are closed after the timeout; a trickle that never
#     completes a request is closed too (request deadline);
#   - afterwards the daemon has the descriptors it started with (no fd
#     leak) and is alive.
# Loopback only. Prints "N passed, M failed"; exit 77 without python3.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

policyd=$top_builddir/policy/sesgate-policyd
ctl=$top_builddir/ctl/sesgatectl
[ -x "$policyd" ] || sg_skip "$policyd is not built"
command -v python3 >/dev/null 2>&1 || sg_skip "python3 is missing"

sg_setup
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null ||
    sg_skip "cannot raise the descriptor limit (ulimit -n)"
D=$sg_tmp
sg_state_json "$D/state.json" '[]'
cat >"$D/sesgate.conf" <<CONF
default_region = eu-west-1
state_dir = $D/state
policyd_user = $([ "$(id -u)" = 0 ] && echo nobody || id -un)
policyd_idle_timeout = 3
CONF
"$ctl" -c "$D/sesgate.conf" import "$D/state.json" >/dev/null ||
    sg_skip "import failed"
if [ "$(id -u)" = 0 ]; then
    chmod 0755 "$D"
    chown -R nobody "$D/state"
fi

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sg_daemon_start "$D/policyd.log" "$policyd" -c "$D/sesgate.conf" -f \
    -l "inet:127.0.0.1:$port"
pid=$SG_DAEMON_PID

sg_case "daemon started"
sg_run grep -q 'listening on' "$D/policyd.log"
assert_exit 0

fds_before=$(sg_proc_fds "$pid")
sg_case "load and abuse"
sg_run timeout 120 python3 "$top_srcdir/tests/load/abuse.py" \
    --port "$port" --pid "$pid" --idle 3
assert_exit 0
cat "$sg_tmp/stdout"
while read -r line; do
    case $line in
    "ok "*) sg_pass ;;
    "FAIL "*) sg_failed=$((sg_failed + 1)); echo "$line" ;;
    esac
done <"$sg_tmp/stdout"

sg_case "no descriptor leak"
sleep 1
fds_after=$(sg_proc_fds "$pid")
sg_run test "$fds_after" -le "$fds_before"
assert_exit 0
[ "$fds_after" -le "$fds_before" ] ||
    echo "  fds before $fds_before, after $fds_after"

sg_case "daemon alive and stops cleanly"
sg_run kill -0 "$pid"
assert_exit 0
sg_daemon_stop "$pid"
rc=$?
sg_run test "$rc" = 0
assert_exit 0

sg_summary
