#!/bin/bash
# t-side-by-side.sh - sesgate-milter and sesgate-policyd on one Postfix:
# every recipient is counted once (quota_counted_by)
#
# One throwaway Postfix with smtpd_milters (the milter over inet) and
# check_policy_service (the policy daemon over unix or inet, the
# blocks of policy/postfix-snippets.txt), relaying to smtp-sink; swaks
# as the client. The region has a daily quota of 5 (Max24HourSend),
# both daemons share one state_dir and its quota counters.
#
#   quota_counted_by = milter   policy daemon over unix: 3 + 2
#                               recipients are relayed, sesgatectl
#                               status shows sent_24h 5, the 6th is
#                               deferred with SES's 454 (the milter's)
#   quota_counted_by = policyd  policy daemon over inet: the same, the
#                               6th deferred by the policy daemon
#   quota_counted_by = any      (both count: what the parameter is
#                               for) 2 recipients spend 4 units and
#                               the 3rd of the first message is
#                               deferred
#
# Prints "N passed, M failed". Exit 77 without postfix, smtp-sink,
# swaks or root (a failure under SESGATE_SKIPS_AS_FAILS=1).

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$here/postfix-lib.sh"

milter=$top_builddir/milter/sesgate-milter
policyd=$top_builddir/policy/sesgate-policyd
ctl=$top_builddir/ctl/sesgatectl
snippet="sh $top_srcdir/policy/snippet.sh $top_srcdir/policy/postfix-snippets.txt"

pf_need_peers
for p in "$milter" "$policyd" "$ctl"; do
    if [ ! -x "$p" ]; then
        echo "not built: $p"
        [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
        exit 77
    fi
done

passed=0
failed=0
case_name=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-sbs.XXXXXX") || exit 99
chmod 755 "$tmp"
MILTER_PID=
POLICYD_PID=

# stop_daemons - stop the milter and the policy daemon of this mode
stop_daemons() {
    local p
    for p in "$MILTER_PID" "$POLICYD_PID"; do
        [ -n "$p" ] || continue
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    MILTER_PID=
    POLICYD_PID=
}

# cleanup - stop everything this script started
cleanup() {
    pf_stop
    stop_daemons
    sg_tmpdir_remove "$tmp"
}
trap cleanup EXIT

# ok/bad - count one assertion
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL [$case_name]: $*"
    echo "--- swaks transcript"; printf '%s\n' "$PF_OUT" | tail -n 25
}

# expect_out TEXT - the transcript contains TEXT
expect_out() {
    if printf '%s\n' "$PF_OUT" | grep -qF -- "$1"; then ok; else
        bad "transcript lacks '$1'"; fi
}

# expect_queued - the message was accepted (250 ... queued as)
expect_queued() {
    if printf '%s\n' "$PF_OUT" | grep -qE '^<- +250 .*queued as'; then ok
    else bad "message not queued"; fi
}

# sent_24h DIR - what sesgatectl status says the region has spent
sent_24h() {
    "$ctl" -c "$1/sesgate.conf" status --json 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["regions"]["sa-east-1"]["sent_24h"])'
}

# expect_sent DIR N - sent_24h is N (after the deliveries settled)
expect_sent() {
    local got
    got=$(sent_24h "$1")
    if [ "$got" = "$2" ]; then ok; else
        bad "sent_24h is '$got', want $2"; fi
}

# expect_sink_rcpts LIST - the sink got exactly these recipients
expect_sink_rcpts() {
    local want got i
    want=$(printf '%s\n' "$@" | sort)
    for i in $(seq 1 100); do
        got=$(pf_sink_rcpts)
        [ "$got" = "$want" ] && break
        [ $((i % 20)) = 0 ] && postqueue -c "$PF_CONF" -f >/dev/null 2>&1
        sleep 0.1
    done
    if [ "$got" = "$want" ]; then ok; else
        bad "sink recipients '$(echo $got)', want '$(echo $want)'"; fi
}

# setup DIR MODE - state with a daily quota of 5, the shared config
setup() {
    local dir=$1 mode=$2
    mkdir -p "$dir/sock"
    chmod 0755 "$dir" "$dir/sock"
    chown nobody "$dir/sock"
    cat >"$dir/state.json" <<'JSON'
{ "sesgate_state": 1, "regions": {
  "sa-east-1": {
    "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 5, "MaxSendRate": 200,
                     "SentLast24Hours": 0 } },
    "identities": [ { "IdentityName": "quota.example.com",
                      "IdentityType": "DOMAIN",
                      "VerificationStatus": "SUCCESS",
                      "SendingEnabled": true } ],
    "suppressed": [] } } }
JSON
    cat >"$dir/sesgate.conf" <<CONF
state_dir = $dir/state
default_region = sa-east-1
quota_counted_by = $mode
milter_user = nobody
milter_socket_group =
policyd_user = nobody
policyd_socket_group = postfix
CONF
    "$ctl" -c "$dir/sesgate.conf" import "$dir/state.json" \
        >"$dir/import.log" 2>&1 || { cat "$dir/import.log"; return 1; }
    # Both daemons run as nobody: they read the store, write quota.db.
    chown -R nobody "$dir/state"
    chmod -R a+rX "$dir"
}

# start_daemons DIR POLICY_LISTEN - the milter (inet) and the policy
# daemon; sets MPORT
start_daemons() {
    local dir=$1 listen=$2 i
    MPORT=$(pf_free_port)
    # Not through the sg_vg function: "$!" of a backgrounded function is
    # a subshell, and killing it would leave the daemon running.
    # shellcheck disable=SC2086
    ${SESGATE_VALGRIND:-} "$milter" -f -c "$dir/sesgate.conf" \
        -p "inet:$MPORT@127.0.0.1" \
        >"$dir/milter.log" 2>&1 &
    MILTER_PID=$!
    # shellcheck disable=SC2086
    ${SESGATE_VALGRIND:-} "$policyd" -f -c "$dir/sesgate.conf" -l "$listen" \
        >"$dir/policyd.log" 2>&1 &
    POLICYD_PID=$!
    pf_wait_port "$MPORT" || { cat "$dir/milter.log"; return 1; }
    for i in $(seq 1 300); do
        grep -q 'listening on' "$dir/policyd.log" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$dir/policyd.log"
    return 1
}

# run_mode MODE POLICY_KIND - one Postfix with both daemons
run_mode() {
    local mode=$1 kind=$2 dir=$tmp/$1 main port
    case_name="$mode: start"
    setup "$dir" "$mode" || { bad "import failed"; return; }
    if [ "$kind" = unix ]; then
        start_daemons "$dir" "unix:$dir/sock/policyd" ||
            { bad "daemons did not start"; stop_daemons; return; }
        main=$($snippet main-unix SOCKET="$dir/sock/policyd")
    else
        port=$(pf_free_port)
        start_daemons "$dir" "inet:127.0.0.1:$port" ||
            { bad "daemons did not start"; stop_daemons; return; }
        main=$($snippet main-inet PORT="$port")
    fi
    if ! pf_start "$dir/pf" "$main
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
milter_protocol = 6"; then
        bad "postfix did not start"
        stop_daemons
        return
    fi

    if [ "$mode" = any ]; then
        # Both count: the 3rd recipient finds 4 units spent plus its own
        # held by the first daemon, and the second refuses it.
        case_name="$mode: both count"
        pf_swaks --from a@quota.example.com \
            --to r1@example.net,r2@example.net,r3@example.net
        expect_out '454 4.7.0'
        expect_out 'Throttling failure: Daily message quota exceeded.'
        expect_queued
        expect_sink_rcpts r1@example.net r2@example.net
        expect_sent "$dir" 4
    else
        case_name="$mode: 3 + 2 recipients"
        pf_swaks --from a@quota.example.com \
            --to r1@example.net,r2@example.net,r3@example.net
        expect_queued
        pf_swaks --from a@quota.example.com \
            --to r4@example.net,r5@example.net
        expect_queued
        expect_sink_rcpts r1@example.net r2@example.net r3@example.net \
            r4@example.net r5@example.net
        expect_sent "$dir" 5

        case_name="$mode: the 6th recipient"
        pf_swaks --from a@quota.example.com --to r6@example.net
        expect_out '454 4.7.0'
        if [ "$mode" = policyd ]; then
            expect_out '<r6@example.net>: Recipient address rejected: Throttling failure: Daily message quota exceeded.'
        else
            # The milter's reply has no Postfix prefix.
            expect_out '454 4.7.0 Throttling failure: Daily message quota exceeded.'
        fi
        sleep 1
        expect_sink_rcpts r1@example.net r2@example.net r3@example.net \
            r4@example.net r5@example.net
        expect_sent "$dir" 5
    fi
    pf_stop
    stop_daemons
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' \
        "$dir/milter.log" "$dir/policyd.log"; then
        bad "sanitizer report"; cat "$dir/milter.log" "$dir/policyd.log"
    fi
}

run_mode milter unix
run_mode policyd inet
run_mode any inet

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
