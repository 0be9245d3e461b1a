#!/bin/bash
# t-faults-policyd.sh - sesgate-policyd and sesgatectl under injected
# faults: a damaged state store, a full file system during import, the
# daemon killed under load behind a real Postfix
#
#  1. store truncated / not an LMDB file: the daemon answers per
#     on_state_error (tempfail: DEFER_IF_PERMIT 4.3.0; accept: DUNNO)
#     with a log line naming the damage, "sesgatectl status" exits 78
#     naming it, a fresh import rebuilds the store and the running
#     daemon picks it up without a restart;
#  2. file system full during import (a 24 MB tmpfs filled up; without
#     mount, "ulimit -f"): the import fails with a clear error, the old
#     state is intact (status, check, daemon);
#  3. SIGKILL under load: swaks clients keep sending through Postfix
#     (documented settings, smtpd_policy_service_default_action 451)
#     while the daemon is killed; no message from an unverified sender
#     is ever accepted, verified ones are accepted or tempfailed, never
#     refused; a transaction sent while it is down gets Postfix's
#     451 4.3.5; the daemon restarts on the same unix socket (stale
#     socket and pidfile left by the kill) and answers again.
#
# Prints "N passed, M failed". Exit 77 without the peers (or root); a
# failure instead when SESGATE_SKIPS_AS_FAILS=1.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/integration/postfix-lib.sh
. "$top_srcdir/tests/integration/postfix-lib.sh"

policyd=$top_builddir/policy/sesgate-policyd
ctl=$top_builddir/ctl/sesgatectl
snippet="sh $top_srcdir/policy/snippet.sh $top_srcdir/policy/postfix-snippets.txt"

pf_need_peers
sg_need_built "$policyd" "$ctl"

daemon_pid=
mounted=

cleanup() {
    stop_daemon
    pf_stop
    [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
    sg_tmpdir_remove "$T"
}
sg_tmpdir faults

# state_json FILE N - a snapshot with N suppressed addresses
state_json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
n = int(sys.argv[2])
acct = {"ProductionAccessEnabled": True, "SendingEnabled": True,
        "SendQuota": {"Max24HourSend": 100000, "MaxSendRate": 1000,
                      "SentLast24Hours": 0}}
d = {"sesgate_state": 1, "regions": {"eu-west-1": {
    "account": acct,
    "identities": [{"IdentityName": "example.com", "IdentityType": "DOMAIN",
                    "VerificationStatus": "SUCCESS", "SendingEnabled": True}],
    "suppressed": [{"EmailAddress": "gone@example.net", "Reason": "BOUNCE",
                    "LastUpdateTime": "2026-11-01T00:00:00Z"}] +
                  [{"EmailAddress": "u%07d@example.net" % i,
                    "Reason": "COMPLAINT",
                    "LastUpdateTime": "2026-11-01T00:00:00Z"}
                   for i in range(n)]}}}
json.dump(d, open(sys.argv[1], "w"))
PY
}

# write_conf DIR [EXTRA] - configuration with state in DIR/state
write_conf() {
    cat >"$1/sesgate.conf" <<CONF
default_region = eu-west-1
state_dir = $1/state
policyd_user = nobody
policyd_pid_file = $1.run/policyd.pid
${2:-}
CONF
    mkdir -p "$1.run"           # outside DIR, which may be a full fs
    chown nobody "$1.run"
}

# start_daemon DIR LISTEN - standalone sesgate-policyd in the foreground;
# its log in $LOG (DIR.log: outside DIR, which may be a full fs)
start_daemon() {
    LOG=$1.log
    sg_daemon_start "$LOG" "$policyd" -c "$1/sesgate.conf" -f -l "$2"
    daemon_pid=$SG_DAEMON_PID
    [ -n "$daemon_pid" ]
}

stop_daemon() {
    sg_daemon_stop "$daemon_pid"
    daemon_pid=
}

# ask LISTEN SENDER RCPT - one RCPT request; prints the action line
ask() {
    _a=${1#inet:}
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\ninstance=1.%s\nsender=%s\nrecipient=%s\nclient_address=127.0.0.1\n\n' \
        "$$.$(date +%s%N)" "$2" "$3" | sg_policy_send "${_a#unix:}"
}

# expect_action LISTEN SENDER RCPT WANT - the daemon's answer
expect_action() {
    local got
    got=$(ask "$1" "$2" "$3" 2>&1)
    if [ "$got" = "$4" ]; then sg_ok; else sg_bad "got '$got', want '$4'"; fi
}

# wait_action LISTEN SENDER RCPT WANT SECONDS - until the answer is WANT
wait_action() {
    local i got
    for i in $(seq 1 $(($5 * 5))); do
        got=$(ask "$1" "$2" "$3" 2>&1)
        [ "$got" = "$4" ] && { sg_ok; return; }
        sleep 0.2
    done
    sg_bad "got '$got', want '$4' within $5 s"
}

DEFER="action=DEFER_IF_PERMIT 4.3.0 sesgate: state store unavailable, try again later"
SUPP="action=550 5.1.1 <gone@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason BOUNCE, since 2026-11-01T00:00:00Z)"

# ---- 1. damaged store -------------------------------------------------
D=$T/store
mkdir -p "$D"
write_conf "$D"
state_json "$D/state.json" 2000
"$ctl" -c "$D/sesgate.conf" import "$D/state.json" >/dev/null
chown -R nobody "$D/state"
cp "$D/state/state.mdb" "$D/good.mdb"
port=$(pf_free_port)
L=inet:127.0.0.1:$port

sg_what="healthy store"
start_daemon "$D" "$L" || sg_bad "start"
expect_action "$L" a@example.com r@example.net "action=DUNNO"
expect_action "$L" a@example.com gone@example.net "$SUPP"
stop_daemon

for damage in truncated header; do
    sg_what="store $damage"
    cp "$D/good.mdb" "$D/state/state.mdb"
    if [ $damage = truncated ]; then
        truncate -s $(($(stat -c %s "$D/good.mdb") / 2)) "$D/state/state.mdb"
        want_log="is damaged"
    else
        head -c 8192 /dev/urandom | dd of="$D/state/state.mdb" conv=notrunc \
            status=none
        want_log="File is not an LMDB file: run sesgatectl import"
    fi
    start_daemon "$D" "$L" || { sg_bad "start"; continue; }
    expect_action "$L" a@example.com r@example.net "$DEFER"
    expect_action "$L" a@example.com gone@example.net "$DEFER"
    sg_check "daemon alive" kill -0 "$daemon_pid"
    sg_check "log names the damage" grep -q "state store unavailable.*$want_log" \
        "$LOG"
    sg_out=$("$ctl" -c "$D/sesgate.conf" status 2>&1)
    rc=$?
    sg_check "status exits 78 (got $rc)" [ "$rc" = 78 ]
    sg_check "status says what is wrong: $sg_out" grep -q "$want_log" \
        <<<"$sg_out"
    # on_state_error = accept: DUNNO, and a log line saying so.
    stop_daemon
    write_conf "$D" "on_state_error = accept"
    start_daemon "$D" "$L" || { sg_bad "start"; continue; }
    expect_action "$L" a@example.com r@example.net "action=DUNNO"
    sg_check "accept logged" grep -q "state store unavailable.*accepting RCPT" \
        "$LOG"
    stop_daemon
    write_conf "$D"

    # A fresh import repairs it, the running daemon recovers by itself.
    sg_what="store $damage: repair"
    start_daemon "$D" "$L" || { sg_bad "start"; continue; }
    expect_action "$L" a@example.com r@example.net "$DEFER"
    rm -f "$D/state/state.mdb.damaged"
    sg_out=$("$ctl" -c "$D/sesgate.conf" import "$D/state.json" 2>&1)
    sg_check "import exits 0: $sg_out" [ $? = 0 ]
    sg_check "damaged file kept aside" [ -f "$D/state/state.mdb.damaged" ]
    chown -R nobody "$D/state"
    wait_action "$L" a@example.com gone@example.net "$SUPP" 5
    expect_action "$L" a@example.com r@example.net "action=DUNNO"
    sg_check "status exits 0" "$ctl" -c "$D/sesgate.conf" status \
        >/dev/null 2>&1
    stop_daemon
done

# ---- 2. file system full during import ------------------------------
sg_what="disk full"
F=$T/full
mkdir -p "$F/fs"
if mount -t tmpfs -o size=24m,mode=0755 sesgate-faults "$F/fs" 2>/dev/null
then
    mounted=$F/fs
    how=tmpfs
else
    how="ulimit"
fi
mkdir -p "$F/fs/etc"
cp "$D/sesgate.conf" "$F/fs/etc/" 2>/dev/null
write_conf "$F/fs"
state_json "$F/small.json" 10
state_json "$F/big.json" 40000
"$ctl" -c "$F/fs/sesgate.conf" import "$F/small.json" >/dev/null
"$ctl" -c "$F/fs/sesgate.conf" status >/dev/null 2>&1   # makes quota.db
if [ $how = tmpfs ]; then
    dd if=/dev/zero of="$F/fs/filler" bs=64k status=none 2>/dev/null
    sg_out=$("$ctl" -c "$F/fs/sesgate.conf" import "$F/big.json" 2>&1)
    rc=$?
else
    # ulimit -f: EFBIG instead of the default SIGXFSZ, which kills
    sg_out=$( (trap '' XFSZ; ulimit -f 2048
        "$ctl" -c "$F/fs/sesgate.conf" import "$F/big.json") 2>&1)
    rc=$?
fi
echo "disk full ($how): import said: $sg_out (exit $rc)"
sg_check "import fails (exit $rc)" [ "$rc" != 0 ]
if [ $how = tmpfs ]; then
    sg_check "error names the full file system" \
        grep -q "file system full; the previous state is kept" <<<"$sg_out"
else
    sg_check "error names the write" grep -Eq "too large|File too large|full" \
        <<<"$sg_out"
fi
sg_out=$("$ctl" -c "$F/fs/sesgate.conf" status 2>&1)
sg_check "status still exits 0" [ $? = 0 ]
sg_check "old state: 11 suppressed ($sg_out)" grep -Eq "suppressed: +11$" \
    <<<"$sg_out"
sg_out=$("$ctl" -c "$F/fs/sesgate.conf" check --from a@example.com \
    --rcpt gone@example.net 2>&1)
sg_check "check on the old state refuses gone@ ($sg_out)" \
    grep -q "suppression list" <<<"$sg_out"
chown -R nobody "$F/fs/state"
chmod 0755 "$F/fs"
port=$(pf_free_port)
start_daemon "$F/fs" "inet:127.0.0.1:$port" || sg_bad "start"
expect_action "inet:127.0.0.1:$port" a@example.com gone@example.net "$SUPP"
expect_action "inet:127.0.0.1:$port" a@example.com r@example.net \
    "action=DUNNO"
stop_daemon
rm -f "$F/fs/filler"
sg_out=$("$ctl" -c "$F/fs/sesgate.conf" import "$F/big.json" 2>&1)
sg_check "import with room succeeds: $sg_out" [ $? = 0 ]
if [ -n "$mounted" ]; then
    umount "$mounted" && mounted=
fi

# ---- 3. SIGKILL under load behind Postfix ---------------------------
sg_what="kill under load"
K=$T/kill
mkdir -p "$K/sock"
chmod 0755 "$K" "$K/sock"
write_conf "$K" "policyd_socket_group = postfix"
state_json "$K/state.json" 10
"$ctl" -c "$K/sesgate.conf" import "$K/state.json" >/dev/null
chown -R nobody "$K/state"
S=$K/sock/policyd
start_daemon "$K" "unix:$S" || sg_bad "start"
main=$($snippet main-unix SOCKET="$S")
if ! pf_start "$K/pf" "$main"; then
    sg_bad "postfix did not start"
else
    # load - swaks clients in turn; one result line per transaction
    load() {
        local n=$1 i from
        for i in $(seq 1 "$n"); do
            if [ $((i % 2)) = 0 ]; then from=bad@unverified.test
            else from=ok@example.com; fi
            out=$(swaks --server "127.0.0.1:$PF_SMTP_PORT" --timeout 30 \
                --helo load.test --from "$from" --to "r$i@example.net" \
                --header "Subject: load $i" 2>&1)
            code=$(pf_last_reply "$out")
            echo "$from ${code:-none}"
        done
    }
    load 30 >"$K/load1" &
    l1=$!
    load 30 >"$K/load2" &
    l2=$!
    sleep 2
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=
    sg_check "socket left behind by the kill" [ -S "$S" ]
    sg_check "pidfile left behind by the kill" [ -f "$K.run/policyd.pid" ]
    # One transaction of our own while it is down, whatever the load's
    # timing (Postfix retries the policy service before giving up, and
    # on a busy machine the load's transactions may straddle the gap):
    # Postfix's default action for an unreachable policy service.
    pf_swaks --from ok@example.com --to down@example.net
    sg_check "tempfailed while down: $(pf_last_reply)" \
        [ "$(pf_last_reply | cut -c1-9)" = "451 4.3.5" ]
    sleep 1
    # Restart on the stale socket and pidfile.
    start_daemon "$K" "unix:$S" || sg_bad "restart on the stale socket"
    sg_check "pidfile names the new daemon" \
        [ "$(cat "$K.run/policyd.pid" 2>/dev/null)" = "$daemon_pid" ]
    wait "$l1" "$l2"
    cat "$K/load1" "$K/load2" >"$K/load"
    n=$(wc -l <"$K/load")
    acc_bad=$(grep -c '^bad@unverified.test 250' "$K/load")
    temp=$(grep -Ec '^[^ ]+ 4[0-9][0-9] ' "$K/load")
    ok_refused=$(grep -Ec '^ok@example.com 5' "$K/load")
    bad_refused=$(grep -Ec '^bad@unverified.test 554' "$K/load")
    echo "kill under load: $n transactions, $temp tempfailed while the" \
        "daemon was down, $bad_refused unverified refused, $acc_bad" \
        "unverified accepted"
    sg_check "60 transactions ran ($n)" [ "$n" = 60 ]
    sg_check "no unverified sender accepted ($acc_bad)" [ "$acc_bad" = 0 ]
    sg_check "no verified sender refused ($ok_refused)" [ "$ok_refused" = 0 ]
    sg_check "unverified refused once back ($bad_refused)" \
        [ "$bad_refused" -gt 0 ]
    sg_check "the tempfails are the default action, 451 4.3.5" \
        [ "$(grep -c ' 451 4.3.5 ' "$K/load")" = "$temp" ]
    # And afterwards, through Postfix, all is as before.
    pf_swaks --from ok@example.com --to after@example.net
    sg_check "accepted after the restart: $(pf_last_reply)" \
        [ "$(pf_last_reply | cut -c1-3)" = 250 ]
    pf_swaks --from bad@unverified.test --to after@example.net
    sg_check "refused after the restart: $(pf_last_reply)" \
        [ "$(pf_last_reply | cut -c1-3)" = 554 ]
    # Every message the sink got came from the verified sender.
    pf_sink_wait 1 20 || true
    sleep 1
    strays=$(pf_sink_strays 'unverified.test')
    sg_check "no unverified message reached the relay ($strays)" \
        [ "$strays" = 0 ]
fi
stop_daemon
pf_stop

sg_tally
