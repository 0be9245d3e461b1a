#!/bin/bash
# t-faults-milter.sh - sesgate-milter SIGKILLed under load behind a real
# Postfix (the documented settings: milter_default_action = tempfail,
# milter_protocol = 6), relaying to smtp-sink; once with an inet socket,
# once with a unix socket
#
# Three swaks clients keep sending (UP_SECS, default 3 s, before the
# kill; DOWN_SECS, default 4 s, down; UP_SECS after the restart) a mix of transactions while the
# milter is killed, left down for a few seconds and restarted:
#   ok    ok@example.com -> rN@example.net             250 (accepted)
#   from  bad@unverified.test -> rN@example.net        554 at MAIL
#   supp  ok@example.com -> gone@example.net            550 at RCPT
#   mixed ok@example.com -> mN@example.net, gone@...    250, only mN
#                                                        relayed
# Every reply is either the one the milter gives when it is up or the
# one Postfix gives when it is down ("451 4.7.1 Service unavailable -
# try again later", asserted exactly); no refused sender or recipient
# ever reaches the sink, every 250 does; the milter restarts over the
# stale socket and pid file left by the kill and mail flows again.
#
# Prints "N passed, M failed". Exit 77 without the peers (or root); a
# failure instead when SESGATE_SKIPS_AS_FAILS=1.

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/postfix-lib.sh"

milter=$top_builddir/milter/sesgate-milter
ctl=$top_builddir/ctl/sesgatectl

pf_need_peers
for p in "$milter" "$ctl"; do
    if [ ! -x "$p" ]; then
        echo "not built: $p"
        [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
        exit 77
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-mfaults.XXXXXX")
chmod 0755 "$T"
passed=0
failed=0
milter_pid=
case=
UP_SECS=${UP_SECS:-3}           # load before the kill, after the restart
DOWN_SECS=${DOWN_SECS:-4}       # the milter down

cleanup() {
    stop_milter
    pf_stop
    sg_keep_logs "$T"
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $case: $*"
}
check() {
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}
# no_report LOG - no ASan/LSan/UBSan report in the daemon's log
no_report() {
    if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
        grep -E -A 20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" |
            head -n 40
        return 1
    fi
}

cat >"$T/state.json" <<'JSON'
{ "sesgate_state": 1, "regions": { "eu-west-1": {
  "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
    "SendQuota": { "Max24HourSend": 100000000, "MaxSendRate": 1000000,
                   "SentLast24Hours": 0 } },
  "identities": [ { "IdentityName": "example.com", "IdentityType": "DOMAIN",
                    "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
  "suppressed": [ { "EmailAddress": "gone@example.net", "Reason": "BOUNCE",
                    "LastUpdateTime": "2026-11-01T00:00:00Z" } ] } } }
JSON

# start_milter DIR SOCKET - sesgate-milter in the foreground, log DIR.log
start_milter() {
    local dir=$1 sock=$2 i
    LOG=$dir.log
    : >"$LOG"
    # shellcheck disable=SC2086
    ${SESGATE_VALGRIND:-} "$milter" -f -c "$dir/sesgate.conf" -p "$sock" \
        >>"$LOG" 2>&1 &
    milter_pid=$!
    for i in $(seq 1 300); do
        grep -q 'listening on' "$LOG" 2>/dev/null && return 0
        kill -0 "$milter_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "sesgate-milter did not start:"
    cat "$LOG"
    milter_pid=
    return 1
}

stop_milter() {
    if [ -n "$milter_pid" ]; then
        kill -TERM "$milter_pid" 2>/dev/null
        wait "$milter_pid" 2>/dev/null
        milter_pid=
    fi
}

# one KIND I - one transaction of KIND; prints "KIND last-reply"
one() {
    local kind=$1 i=$2 out code
    local -a a=(--server "127.0.0.1:$PF_SMTP_PORT" --timeout 30
                --helo load.test --header "Subject: $kind $i")
    case $kind in
    ok) a+=(--from ok@example.com --to "r$i@example.net") ;;
    from) a+=(--from bad@unverified.test --to "r$i@example.net") ;;
    supp) a+=(--from ok@example.com --to gone@example.net) ;;
    mixed) a+=(--from ok@example.com --to "m$i@example.net,gone@example.net") ;;
    esac
    out=$(swaks "${a[@]}" 2>&1)
    code=$(printf '%s\n' "$out" | grep -E '^(<-|<\*\*) ' |
        grep -v ' 221 ' | tail -n 1 | sed -E 's/^(<-|<\*\*) +//')
    echo "$kind $i $([ -e "$D/restarted" ] && echo after || echo before)" \
        "${code:-none}"
}

# load C STOPFILE - client C: transactions, kinds in turn, until
# STOPFILE exists
load() {
    local c=$1 stop=$2 i=0
    local -a kinds=(ok from supp mixed)
    while [ ! -e "$stop" ]; do
        i=$((i + 1))
        one "${kinds[$(((i + c) % 4))]}" "$c.$i"
    done
}

UP_OK='250 2.0.0 Ok: queued as'
UP_FROM='554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: bad@unverified.test'
UP_SUPP='550 5.1.1 <gone@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason BOUNCE, since 2026-11-01T00:00:00Z)'
DOWN='451 4.7.1 Service unavailable - try again later'

# expected KIND REPLY - the reply is one of KIND's two possible ones;
# prints up or down, nothing when neither
expected() {
    local kind=$1 reply=$2
    [ "$reply" = "$DOWN" ] && { echo down; return; }
    case $kind in
    ok | mixed) [ "${reply#"$UP_OK"}" != "$reply" ] && echo up ;;
    from) [ "$reply" = "$UP_FROM" ] && echo up ;;
    supp) [ "$reply" = "$UP_SUPP" ] && echo up ;;
    esac
}

run_kind() {
    local kind=$1 D=$T/$1 sock mspec pfspec
    case=$kind
    mkdir -p "$D" "$D.run"
    chmod 0755 "$D" "$D.run"
    chown nobody "$D.run"       # the milter removes its pid file as nobody
    if [ "$kind" = unix ]; then
        sock=$D.run/milter.sock
        mspec=unix:$sock
        pfspec=unix:$sock
    else
        port=$(pf_free_port)
        mspec=inet:$port@127.0.0.1
        pfspec=inet:127.0.0.1:$port
    fi
    cat >"$D/sesgate.conf" <<CONF
default_region = eu-west-1
state_dir = $D/state
milter_user = nobody
milter_socket_group = postfix
milter_socket_mode = 0660
milter_pid_file = $D.run/milter.pid
CONF
    "$ctl" -c "$D/sesgate.conf" import "$T/state.json" >/dev/null ||
        { bad "import"; return; }
    "$ctl" -c "$D/sesgate.conf" status >/dev/null 2>&1   # quota files
    chown -R nobody "$D/state"
    start_milter "$D" "$mspec" || { bad "start"; return; }
    if ! pf_start "$D/pf" "smtpd_milters = $pfspec
milter_default_action = tempfail
milter_protocol = 6"; then
        bad "postfix did not start"
        return
    fi

    # Before the kill: each kind gets its answer.
    local k want
    for k in ok from supp mixed; do
        read -r _ _ _ reply <<<"$(one $k 0)"
        want=$(expected $k "$reply")
        check "$k before the kill: '$reply'" [ "$want" = up ]
    done
    pf_sink_wait 2 20 || true

    rm -f "$D/stop"
    load 1 "$D/stop" >"$D/load1" &
    local l1=$!
    load 2 "$D/stop" >"$D/load2" &
    local l2=$!
    load 3 "$D/stop" >"$D/load3" &
    local l3=$!
    sleep "$UP_SECS"
    local old=$milter_pid
    kill -KILL "$milter_pid"
    wait "$milter_pid" 2>/dev/null
    milter_pid=
    check "pid file left behind by the kill" \
        [ "$(cat "$D.run/milter.pid" 2>/dev/null)" = "$old" ]
    if [ "$kind" = unix ]; then
        check "socket left behind by the kill" [ -S "$sock" ]
    fi
    sleep "$DOWN_SECS"
    start_milter "$D" "$mspec" || bad "restart over the stale socket"
    check "pid file names the new milter" \
        [ "$(cat "$D.run/milter.pid" 2>/dev/null)" = "$milter_pid" ]
    if [ "$kind" = unix ]; then
        check "socket mode 0660 group postfix" \
            [ "$(stat -c '%a %G' "$sock")" = "660 postfix" ]
    fi
    : >"$D/restarted"
    sleep "$UP_SECS"
    touch "$D/stop"
    wait "$l1" "$l2" "$l3"
    cat "$D/load1" "$D/load2" "$D/load3" >"$D/load"

    local n up=0 down=0 other=0 acc=0 after=0
    n=$(wc -l <"$D/load")
    while read -r k i t reply; do
        case $(expected "$k" "$reply") in
        up) up=$((up + 1))
            [ "$t" = after ] && after=$((after + 1))
            case $k in ok | mixed) acc=$((acc + 1)) ;; esac ;;
        down) down=$((down + 1)) ;;
        *) other=$((other + 1))
           echo "  unexpected reply to $k $i: $reply" ;;
        esac
    done <"$D/load"
    echo "$kind: $n transactions, $up answered by the milter" \
        "($acc accepted), $down tempfailed by Postfix while it was down," \
        "$other other"
    check "every reply is the milter's or Postfix's tempfail ($other other)" \
        [ "$other" = 0 ]
    check "some tempfailed while the milter was down ($down)" \
        [ "$down" -gt 0 ]
    check "some answered by the milter after the restart ($after)" \
        [ "$after" -gt 0 ]

    # After the restart, each kind is answered again.
    for k in ok from supp mixed; do
        read -r _ _ _ reply <<<"$(one $k 9)"
        want=$(expected $k "$reply")
        check "$k after the restart: '$reply'" [ "$want" = up ]
    done
    acc=$((acc + 4))            # 2 before, 2 after

    # The sink: exactly the accepted messages, nothing refused.
    pf_sink_wait "$acc" 60 || true
    sleep 1
    local got strays
    got=$(pf_sink_count)
    check "sink has the $acc accepted messages ($got)" [ "$got" = "$acc" ]
    strays=$(grep -E -l '^X-(Mail|Rcpt)-Args: <(bad@unverified.test|gone@example.net)>' \
        "$D/pf/sink"/* 2>/dev/null | wc -l)
    check "no refused sender or recipient reached the sink ($strays)" \
        [ "$strays" = 0 ]
    check "the queue is empty" \
        [ -z "$(find "$D/pf/queue/deferred" "$D/pf/queue/active" \
            "$D/pf/queue/incoming" -type f 2>/dev/null)" ]
    kill -TERM "$milter_pid"
    wait "$milter_pid"
    local rc=$?
    milter_pid=
    check "the milter exits 0 on SIGTERM ($rc)" [ "$rc" = 0 ]
    check "no sanitizer report in its log" no_report "$LOG"
    check "pid file removed at a clean stop" [ ! -e "$D.run/milter.pid" ]
    pf_stop
}

run_kind inet
run_kind unix

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
