#!/bin/sh
# tests/integration/t-metrics.sh - counters, GET /metrics, status --json
#
# Run by "make check" with top_builddir and top_srcdir set (absolute).
# Imports the example state, starts sesgate-policyd -l inet with
# metrics_listen on loopback, sends it policy requests over TCP (no
# Postfix needed) and checks: the Prometheus text (counters per region
# and rule, quota gauges, state age), 404/405 answers, the counters in
# "sesgatectl status --json", that they survive a reload (SIGHUP) and a
# restart, that sesgate-milter's listener serves the same shared
# counters, and that a non-loopback metrics_listen is refused (exit 78).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

ctl=$top_builddir/ctl/sesgatectl
policyd=$top_builddir/policy/sesgate-policyd
milter=$top_builddir/milter/sesgate-milter
examples=$top_srcdir/packaging/examples

[ -x "$ctl" ] || sg_skip "$ctl is not built"
[ -x "$policyd" ] || sg_skip "$policyd is not built"
command -v python3 >/dev/null 2>&1 || sg_skip "needs python3"

sg_setup
PIDS=
cleanup_all() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null
    done
    sg_cleanup
}
trap cleanup_all EXIT

# free_port - a TCP port nobody listens on now
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

pport=$(free_port)
mport=$(free_port)
while [ "$mport" = "$pport" ]; do mport=$(free_port); done
conf=$sg_tmp/sesgate.conf
mkdir -p "$sg_tmp/state"
# As root the daemons drop to nobody: the state directory is theirs
# (sesgatectl, as root, hands the files it makes to the directory's
# owner).
if [ "$(id -u)" = 0 ]; then
    chmod 0755 "$sg_tmp"
    chown nobody "$sg_tmp/state"
fi
cat >"$conf" <<EOF
# written by t-metrics.sh
default_region = us-east-1
sender_region_map = $examples/sender_region_map
state_dir = $sg_tmp/state
policyd_user = nobody
milter_user = nobody
milter_socket = unix:$sg_tmp/milter.sock
milter_socket_group =
metrics_listen = inet:127.0.0.1:$mport
EOF

sg_case "import the example state"
sg_run "$ctl" -c "$conf" import "$examples/state.json"
assert_exit 0

# start_policyd - the daemon in the foreground on $pport
start_policyd() {
    # shellcheck disable=SC2086 # $! must be the daemon itself
    $SESGATE_VALGRIND "$policyd" -f -c "$conf" -l "inet:127.0.0.1:$pport" \
        >>"$sg_tmp/policyd.log" 2>&1 &
    POLICYD=$!
    PIDS="$PIDS $POLICYD"
    i=0
    while [ $i -lt 100 ]; do
        if http GET /metrics >/dev/null 2>&1; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# stop_policyd - SIGTERM and wait
stop_policyd() {
    kill -TERM "$POLICYD" 2>/dev/null
    wait "$POLICYD" 2>/dev/null
}

# http METHOD PATH [PORT] - the raw HTTP answer on stdout
http() {
    timeout 5 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[3])))
s.sendall(("%s %s HTTP/1.0\r\nHost: x\r\n\r\n" % (sys.argv[1], sys.argv[2])).encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())' "$1" "$2" "${3:-$mport}"
}

# policy SENDER RCPT [INSTANCE] - one RCPT request; the action on stdout
policy() {
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.1\nclient_name=client.test\nhelo_name=client.test\nsender=%s\nrecipient=%s\ninstance=%s\nrecipient_count=0\n\n' \
        "$1" "$2" "${3:-i$$.$2}" | sg_policy_send "127.0.0.1:$pport"
}

# scrape - GET /metrics into $sg_tmp/stdout (for the assertions)
scrape() {
    sg_cmd="GET /metrics on $mport"
    http GET /metrics "${1:-$mport}" >"$sg_tmp/stdout" 2>"$sg_tmp/stderr"
    sg_rc=$?
}

sg_case "policyd starts with the listener"
if start_policyd; then sg_pass; else
    sg_fail "no answer on 127.0.0.1:$mport"; cat "$sg_tmp/policyd.log"; fi

sg_case "verdicts"
sleep 1.1       # the example's MaxSendRate is 1
out=$(policy news@example.com alice@example.org)
case $out in action=DUNNO*) sg_pass ;; *) sg_fail "alice: $out" ;; esac
out=$(policy someone@unverified.example bob@example.org)
case $out in "action=554 5.7.1 "*) sg_pass ;; *) sg_fail "unverified: $out" ;; esac
out=$(policy someone@unverified.example carol@example.org)
case $out in "action=554 5.7.1 "*) sg_pass ;; *) sg_fail "unverified: $out" ;; esac
out=$(policy news@example.com gone@example.com)
case $out in "action=550 5.1.1 "*) sg_pass ;; *) sg_fail "gone: $out" ;; esac
out=$(policy billing@eu.example.com customer@example.net)
case $out in "action=454 4.7.0 "*) sg_pass ;; *) sg_fail "eu quota: $out" ;; esac

sg_case "GET /metrics"
sleep 1.2       # the loop publishes the gauges once a second
scrape
assert_exit 0
assert_out_has 'HTTP/1.0 200 OK'
assert_out_has 'Content-Type: text/plain; version=0.0.4'
assert_out_has '# TYPE sesgate_recipients_total counter'
assert_line 'sesgate_recipients_total{region="us-east-1",rule="none",verdict="accepted"} 1'
assert_line 'sesgate_recipients_total{region="us-east-1",rule="R2",verdict="refused"} 2'
assert_line 'sesgate_recipients_total{region="us-east-1",rule="R5",verdict="refused"} 1'
assert_line 'sesgate_recipients_total{region="eu-west-1",rule="R4",verdict="deferred"} 1'
assert_out_has '# TYPE sesgate_sync_errors_total counter'
assert_line 'sesgate_state_up 1'
assert_out_has 'sesgate_state_age_seconds '
assert_out_has 'sesgate_quota_max_24h{region="us-east-1"} '
assert_out_has 'sesgate_quota_sent_24h{region="eu-west-1"} '
assert_out_has 'sesgate_quota_reserved{region="us-east-1"} '

sg_case "other paths and methods"
sg_cmd="GET /"
http GET / >"$sg_tmp/stdout" 2>"$sg_tmp/stderr"
assert_out_has 'HTTP/1.0 404 Not Found'
sg_cmd="POST /metrics"
http POST /metrics >"$sg_tmp/stdout" 2>"$sg_tmp/stderr"
assert_out_has 'HTTP/1.0 405 Method Not Allowed'

sg_case "status --json carries the counters"
sg_run "$ctl" -c "$conf" status --json
assert_exit 0
if python3 - "$sg_tmp/stdout" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {(r["region"], r["rule"]): r for r in d["metrics"]["recipients"]}
assert rows[("us-east-1", "")]["accepted"] == 1, rows
assert rows[("us-east-1", "R2")]["refused"] == 2, rows
assert rows[("us-east-1", "R5")]["refused"] == 1, rows
assert rows[("eu-west-1", "R4")]["deferred"] == 1, rows
assert d["metrics"]["sync_errors"] == {}, d["metrics"]
PY
then sg_pass; else sg_fail "metrics in status --json"; fi

sg_case "counters survive a reload"
kill -HUP "$POLICYD"
sleep 0.5
out=$(policy someone@unverified.example dave@example.org)
case $out in "action=554 5.7.1 "*) sg_pass ;; *) sg_fail "after reload: $out" ;; esac
scrape
assert_line 'sesgate_recipients_total{region="us-east-1",rule="R2",verdict="refused"} 3'
assert_line 'sesgate_recipients_total{region="us-east-1",rule="none",verdict="accepted"} 1'

sg_case "counters survive a restart"
stop_policyd
if start_policyd; then sg_pass; else sg_fail "no restart"; fi
scrape
assert_line 'sesgate_recipients_total{region="us-east-1",rule="R2",verdict="refused"} 3'
assert_line 'sesgate_recipients_total{region="us-east-1",rule="R5",verdict="refused"} 1'

sg_case "the milter serves the same shared counters"
if [ -x "$milter" ]; then
    mport2=$(free_port)
    sed "s/^metrics_listen = .*/metrics_listen = inet:127.0.0.1:$mport2/" \
        "$conf" >"$sg_tmp/milter.conf"
    # shellcheck disable=SC2086
    $SESGATE_VALGRIND "$milter" -f -c "$sg_tmp/milter.conf" >"$sg_tmp/milter.log" 2>&1 &
    MILTER=$!
    PIDS="$PIDS $MILTER"
    i=0
    while [ $i -lt 100 ] && ! http GET /metrics "$mport2" >/dev/null 2>&1
    do
        sleep 0.1
        i=$((i + 1))
    done
    scrape "$mport2"
    assert_out_has 'HTTP/1.0 200 OK'
    assert_line 'sesgate_recipients_total{region="us-east-1",rule="R2",verdict="refused"} 3'
    assert_out_has 'sesgate_quota_max_rate{region="us-east-1"} 1'
    assert_line 'sesgate_state_up 1'
    kill -TERM "$MILTER"
    wait "$MILTER" 2>/dev/null
fi

sg_case "metrics_listen must be loopback"
stop_policyd
sed 's/^metrics_listen = .*/metrics_listen = inet:0.0.0.0:9465/' \
    "$conf" >"$sg_tmp/bad.conf"
sg_run "$policyd" -n -c "$sg_tmp/bad.conf"
assert_exit 78
assert_err_has 'not a loopback address'
if [ -x "$milter" ]; then
    sg_run "$milter" -n -c "$sg_tmp/bad.conf"
    assert_exit 78
    assert_err_has 'not a loopback address'
fi
sed 's/^metrics_listen = .*/metrics_listen = 127.0.0.1:9465/' \
    "$conf" >"$sg_tmp/bad.conf"
sg_run "$policyd" -n -c "$sg_tmp/bad.conf"
assert_exit 78

sg_case "off by default: nothing listens"
sed '/^metrics_listen/d' "$conf" >"$sg_tmp/off.conf"
# shellcheck disable=SC2086
$SESGATE_VALGRIND "$policyd" -f -c "$sg_tmp/off.conf" -l "inet:127.0.0.1:$pport" \
    >>"$sg_tmp/policyd.log" 2>&1 &
POLICYD=$!
PIDS="$PIDS $POLICYD"
sleep 0.5
if http GET /metrics >/dev/null 2>&1; then sg_fail "something answers on $mport"
else sg_pass; fi
out=$(policy someone@unverified.example erin@example.org)
case $out in "action=554 5.7.1 "*) sg_pass ;; *) sg_fail "without listener: $out" ;; esac
stop_policyd
sg_run "$ctl" -c "$conf" status --json
assert_out_has '"refused": 4'

sg_case "README: the integration blocks are the tested ones"
# The main-unix and master-spawn blocks of policy/postfix-snippets.txt,
# the milter block of tests/install/t-install.sh and the
# INPUT_MAIL_FILTER line of t-sendmail.sh (port 8891), each verbatim and
# whole, as README.md's "Postfix and Sendmail integration" shows them.
snippet="sh $top_srcdir/policy/snippet.sh $top_srcdir/policy/postfix-snippets.txt"
$snippet main-unix SOCKET=/run/sesgate/policyd.sock >"$sg_tmp/b1"
$snippet master-spawn NAME=sesgate USER=sesgate SBINDIR=/usr/sbin \
    CONF=/etc/sesgate/sesgate.conf >"$sg_tmp/b2"
sed -n '/^main="smtpd_milters = unix:/,/"$/p' \
    "$top_srcdir/tests/install/t-install.sh" |
    sed -e 's/^main="//' -e 's/"$//' >"$sg_tmp/b3"
sed -n "s/^INPUT_MAIL_FILTER(.*S=inet:\\\$MPORT@/&/p" \
    "$top_srcdir/tests/integration/t-sendmail.sh" |
    sed -e 's/\\`/`/g' -e 's/\$MPORT/8891/' >"$sg_tmp/b4"
# (tests/install/ is not in the "make dist" tarball: b3 only from git.)
blocks="b1 b2 b4"
[ -f "$top_srcdir/tests/install/t-install.sh" ] && blocks="$blocks b3"
for b in $blocks; do
    if [ -s "$sg_tmp/$b" ] && python3 - "$top_srcdir/README.md" \
        "$sg_tmp/$b" <<'PY'
import sys
readme = open(sys.argv[1]).read()
block = open(sys.argv[2]).read()
sys.exit(0 if "```\n" + block + "```\n" in readme else 1)
PY
    then sg_pass; else
        sg_fail "README.md lacks this block:"; cat "$sg_tmp/$b"; fi
done

sg_summary
