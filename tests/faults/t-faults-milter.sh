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

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/integration/postfix-lib.sh
. "$top_srcdir/tests/integration/postfix-lib.sh"

milter=$top_builddir/milter/sesgate-milter
ctl=$top_builddir/ctl/sesgatectl

pf_need_peers
sg_need_built "$milter" "$ctl"

milter_pid=
UP_SECS=${UP_SECS:-3}           # load before the kill, after the restart
DOWN_SECS=${DOWN_SECS:-4}       # the milter down

cleanup() {
    sg_daemon_stop "$milter_pid"
    pf_stop
    sg_tmpdir_remove "$T"
}
sg_tmpdir mfaults

# start_milter DIR SOCKET - sesgate-milter in the foreground, log DIR.log
start_milter() {
    LOG=$1.log
    sg_daemon_start "$LOG" "$milter" -f -c "$1/sesgate.conf" -p "$2"
    milter_pid=$SG_DAEMON_PID
    [ -n "$milter_pid" ]
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
    code=$(pf_last_reply "$out")
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
    local kind=$1 D=$T/$1 sock=$T/$1.run/milter.sock mspec
    sg_what=$kind
    pf_milter_prepare "$D" "$ctl" || { sg_bad "import"; return; }
    pf_milter_spec "$kind" "$D"
    mspec=$PF_MILTER_LISTEN
    start_milter "$D" "$mspec" || { sg_bad "start"; return; }
    if ! pf_start "$D/pf" "$(pf_milter_main "$PF_MILTER_SPEC")"; then
        sg_bad "postfix did not start"
        return
    fi

    # Before the kill: each kind gets its answer.
    local k want
    for k in ok from supp mixed; do
        read -r _ _ _ reply <<<"$(one $k 0)"
        want=$(expected $k "$reply")
        sg_check "$k before the kill: '$reply'" [ "$want" = up ]
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
    sg_check "pid file left behind by the kill" \
        [ "$(cat "$D.run/milter.pid" 2>/dev/null)" = "$old" ]
    if [ "$kind" = unix ]; then
        sg_check "socket left behind by the kill" [ -S "$sock" ]
    fi
    sleep "$DOWN_SECS"
    start_milter "$D" "$mspec" || sg_bad "restart over the stale socket"
    sg_check "pid file names the new milter" \
        [ "$(cat "$D.run/milter.pid" 2>/dev/null)" = "$milter_pid" ]
    if [ "$kind" = unix ]; then
        sg_check "socket mode 0660 group postfix" \
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
    sg_check "every reply is the milter's or Postfix's tempfail ($other other)" \
        [ "$other" = 0 ]
    sg_check "some tempfailed while the milter was down ($down)" \
        [ "$down" -gt 0 ]
    sg_check "some answered by the milter after the restart ($after)" \
        [ "$after" -gt 0 ]

    # After the restart, each kind is answered again.
    for k in ok from supp mixed; do
        read -r _ _ _ reply <<<"$(one $k 9)"
        want=$(expected $k "$reply")
        sg_check "$k after the restart: '$reply'" [ "$want" = up ]
    done
    acc=$((acc + 4))            # 2 before, 2 after

    # The sink: exactly the accepted messages, nothing refused.
    pf_sink_check "$acc" 60 1
    sg_daemon_stop "$milter_pid"
    local rc=$?
    milter_pid=
    sg_check "the milter exits 0 on SIGTERM ($rc)" [ "$rc" = 0 ]
    sg_check "no sanitizer report in its log" sg_no_report "$LOG"
    sg_check "pid file removed at a clean stop" [ ! -e "$D.run/milter.pid" ]
    pf_stop
}

run_kind inet
run_kind unix

sg_tally
