#!/bin/bash
# t-policy.sh - sesgate-policyd behind a real Postfix, three ways
#
# A throwaway Postfix (postfix-lib.sh) relays to smtp-sink and asks
# sesgate-policyd at RCPT and END-OF-MESSAGE, configured with the
# blocks of policy/postfix-snippets.txt (the ones sesgate-policyd(8)
# shows): standalone on inet, standalone on a unix socket, spawned by
# master.cf. swaks sends one scenario per rule; each asserts the exact
# reply the client saw and what reached the sink. Every mode gets a
# fresh state store and quota counters. With SESGATE_QUOTA_DEFER=1 in
# the environment (run-all.sh's second pass) the standalone daemons
# defer every quota call and answer on the replay, as with Redis: the
# same assertions hold, plus that the deferral was on.
#
# Prints "N passed, M failed". Exit 77 without the peers (or root);
# a failure instead when SESGATE_SKIPS_AS_FAILS=1.

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/integration/postfix-lib.sh"

policyd=$top_builddir/policy/sesgate-policyd
ctl=$top_builddir/ctl/sesgatectl
snippets=$top_srcdir/policy/postfix-snippets.txt
snippet="sh $top_srcdir/policy/snippet.sh $snippets"

pf_need_peers
for p in "$policyd" "$ctl"; do
    if [ ! -x "$p" ]; then
        echo "not built: $p"
        [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
        exit 77
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-policy.XXXXXX")
chmod 0755 "$T"
passed=0
failed=0
daemon_pid=

# cleanup - stop everything this script started
cleanup() {
    stop_daemon
    pf_stop
    sg_tmpdir_remove "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ok / bad - count an assertion
ok() {
    passed=$((passed + 1))
}
bad() {
    failed=$((failed + 1))
    echo "FAIL: [$mode] $case: $*"
    printf '%s\n' "$PF_OUT" | sed 's/^/    | /' | tail -n 25
}

# expect_reply TEXT - the last reply of the transaction is exactly TEXT
expect_reply() {
    local got
    got=$(pf_last_reply)
    if [ "$got" = "$1" ]; then ok; else bad "reply '$got', want '$1'"; fi
}

# expect_queued - the message was accepted ("250 2.0.0 Ok: queued as ID")
expect_queued() {
    local got
    got=$(pf_last_reply)
    case $got in
    "250 2.0.0 Ok: queued as "?*) ok ;;
    *) bad "reply '$got', want '250 2.0.0 Ok: queued as ID'" ;;
    esac
}

# expect_seen TEXT - the transcript has a server line exactly TEXT
expect_seen() {
    if printf '%s\n' "$PF_OUT" | sed -E 's/^(<-|<\*\*) +//' |
        grep -Fxq -e "$1"; then
        ok
    else
        bad "no server line '$1'"
    fi
}

# expect_sink RCPTS - the sink received exactly these recipients
expect_sink() {
    local want got n
    want=$(printf '%s\n' $1 | sed '/^$/d' | sort)
    n=$(printf '%s\n' $1 | sed '/^$/d' | wc -l)
    if [ "$n" -gt 0 ]; then
        pf_sink_wait 1 20 || true
        # all recipients of one message arrive in one file
        sleep 0.2
    else
        postqueue -c "$PF_CONF" -f >/dev/null 2>&1 || true
        sleep 0.5
    fi
    got=$(pf_sink_rcpts)
    if [ "$got" = "$want" ]; then
        ok
    else
        bad "sink got [$(echo $got)], want [$(echo $want)]"
    fi
    pf_sink_reset
}

# send CASE FROM TO... - one transaction (TO comma-separated)
send() {
    case=$1
    pf_sink_reset
    pf_swaks --from "$2" --to "$3" --header "Subject: $1"
}

# write_state DIR - a fresh store for one mode
write_state() {
    local dir=$1
    mkdir -p "$dir/state"
    cat >"$dir/state.json" <<'JSON'
{ "sesgate_state": 1, "regions": {
  "eu-west-1": {
    "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 10000, "MaxSendRate": 200,
                     "SentLast24Hours": 0 } },
    "identities": [ { "IdentityName": "example.com", "IdentityType": "DOMAIN",
                      "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
    "suppressed": [ { "EmailAddress": "gone@example.net", "Reason": "BOUNCE",
                      "LastUpdateTime": "2026-11-01T00:00:00Z" } ] },
  "ap-southeast-2": {
    "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 10000, "MaxSendRate": 200,
                     "SentLast24Hours": 0 } },
    "identities": [ { "IdentityName": "au.example.com", "IdentityType": "DOMAIN",
                      "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
    "suppressed": [] },
  "us-east-1": {
    "account": { "ProductionAccessEnabled": false, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 200, "MaxSendRate": 200,
                     "SentLast24Hours": 0 } },
    "identities": [
      { "IdentityName": "us.example.com", "IdentityType": "DOMAIN",
        "VerificationStatus": "SUCCESS", "SendingEnabled": true },
      { "IdentityName": "friend@example.org", "IdentityType": "EMAIL_ADDRESS",
        "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
    "suppressed": [] },
  "sa-east-1": {
    "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 2, "MaxSendRate": 200,
                     "SentLast24Hours": 0 } },
    "identities": [ { "IdentityName": "quota.example.com", "IdentityType": "DOMAIN",
                      "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
    "suppressed": [] },
  "ca-central-1": {
    "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
      "SendQuota": { "Max24HourSend": 10000, "MaxSendRate": 1,
                     "SentLast24Hours": 0 } },
    "identities": [ { "IdentityName": "rate.example.com", "IdentityType": "DOMAIN",
                      "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
    "suppressed": [] }
} }
JSON
    cat >"$dir/map" <<'MAP'
@au.example.com      ap-southeast-2
boss@example.com     ap-southeast-2
@us.example.com      [email-smtp.us-east-1.amazonaws.com]:587
@quota.example.com   sa-east-1
@rate.example.com    ca-central-1
@nostate.example.com eu-north-1
@au.partner.example  ap-southeast-2
MAP
    # Delegated sending (R8): identities of account 111122223333 in
    # eu-west-1, one for partner.example's own envelope senders, one
    # for SASL user app1.
    cat >"$dir/delegations" <<'DELEG'
delegate arn:aws:ses:eu-west-1:111122223333:identity/partner.example @partner.example owner=production
delegate arn:aws:ses:eu-west-1:111122223333:identity/app.example sasl:app1 owner=production
DELEG
    cat >"$dir/sesgate.conf" <<CONF
default_region = eu-west-1
sender_region_map = $dir/map
state_dir = $dir/state
delegations = $dir/delegations
policyd_user = nobody
policyd_socket_group = postfix
CONF
    sg_vg "$ctl" -c "$dir/sesgate.conf" import "$dir/state.json" >/dev/null ||
        return 1
    # The daemon runs as nobody: it reads the store, writes quota.db.
    chown -R nobody "$dir/state"
    chmod -R a+rX "$dir"
}

# start_daemon DIR LISTEN [ENV...] - standalone sesgate-policyd
start_daemon() {
    local dir=$1 listen=$2
    shift 2
    # Under SESGATE_VALGRIND (run-all.sh's valgrind pass) the daemon
    # runs in valgrind, which execs in place: $! is still its pid.
    # shellcheck disable=SC2086
    # The log is appended to across restarts: only the lines after
    # this start count (an earlier "listening on" would not wait).
    local before i
    before=$(cat "$dir/policyd.log" 2>/dev/null | wc -l)
    env "$@" ${SESGATE_VALGRIND:-} "$policyd" -c "$dir/sesgate.conf" -f \
        -l "$listen" >>"$dir/policyd.log" 2>&1 &
    daemon_pid=$!
    for i in $(seq 1 300); do
        tail -n +"$((before + 1))" "$dir/policyd.log" 2>/dev/null |
            grep -q 'listening on' && return 0
        sleep 0.1
    done
    echo "sesgate-policyd did not start:" >&2
    cat "$dir/policyd.log" >&2
    return 1
}

# stop_daemon - SIGTERM and wait
stop_daemon() {
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        daemon_pid=
    fi
}

# scenarios - every rule through Postfix, in this order
scenarios() {
    send "R2 verified sender, default region" a@example.com r1@example.net
    expect_queued
    expect_sink r1@example.net

    send "R2 unverified sender" a@unverified.test r2@example.net
    expect_reply "554 5.7.1 <r2@example.net>: Recipient address rejected: Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: a@unverified.test"
    expect_sink ""

    send "R2 verified in ap-southeast-2 only" a@au.example.com r3@example.net
    expect_queued
    expect_sink r3@example.net

    send "R2 verified in eu-west-1, not in ap-southeast-2" boss@example.com r3@example.net
    expect_reply "554 5.7.1 <r3@example.net>: Recipient address rejected: Message rejected: Email address is not verified. The following identities failed the check in region AP-SOUTHEAST-2: boss@example.com"
    expect_sink ""

    send "R3 sandbox, verified recipient" a@us.example.com friend@example.org
    expect_queued
    expect_sink friend@example.org

    send "R3 sandbox, unverified recipient" a@us.example.com stranger@example.org
    expect_reply "554 5.7.1 <stranger@example.org>: Recipient address rejected: Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: stranger@example.org"
    expect_sink ""

    send "R3 sandbox, simulator" a@us.example.com success@simulator.amazonses.com
    expect_queued
    expect_sink success@simulator.amazonses.com

    send "R3 sandbox, one of two refused" a@us.example.com friend@example.org,stranger@example.org
    expect_seen "554 5.7.1 <stranger@example.org>: Recipient address rejected: Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: stranger@example.org"
    expect_queued
    expect_sink friend@example.org

    send "R5 suppressed in eu-west-1" a@example.com gone@example.net
    expect_reply "550 5.1.1 <gone@example.net>: Recipient address rejected: <gone@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason BOUNCE, since 2026-11-01T00:00:00Z)"
    expect_sink ""

    send "R5 not suppressed in ap-southeast-2" a@au.example.com gone@example.net
    expect_queued
    expect_sink gone@example.net

    local to="" i want=""
    for i in $(seq 1 51); do
        to="$to${to:+,}m$i@example.net"
        [ "$i" -le 50 ] && want="$want m$i@example.net"
    done
    send "R4 51 recipients" a@example.com "$to"
    expect_seen "452 4.5.3 <m51@example.net>: Recipient address rejected: Too many recipients: Amazon SES accepts at most 50 recipients per message"
    expect_queued
    expect_sink "$want"

    send "R4 rate exceeded" a@rate.example.com t1@example.net,t2@example.net
    expect_seen "454 4.7.0 <t2@example.net>: Recipient address rejected: Throttling failure: Maximum sending rate exceeded."
    expect_queued
    expect_sink t1@example.net

    send "R4 daily quota, 2 of 2" a@quota.example.com q1@example.net,q2@example.net
    expect_queued
    expect_sink "q1@example.net q2@example.net"

    send "R4 daily quota exceeded" a@quota.example.com q3@example.net
    expect_reply "454 4.7.0 <q3@example.net>: Recipient address rejected: Throttling failure: Daily message quota exceeded."
    expect_sink ""

    send "R1 region without state" a@nostate.example.com r4@example.net
    expect_reply "451 4.3.0 <r4@example.net>: Recipient address rejected: sesgate: no SES state for region eu-north-1: import or sync it"
    expect_sink ""

    send "R8 delegated sender in the ARN's region" news@partner.example p1@example.net
    expect_queued
    expect_sink p1@example.net

    send "R8 delegated identity relayed to another region" news@au.partner.example p2@example.net
    expect_reply "554 5.7.1 <p2@example.net>: Recipient address rejected: Access denied: User (unauthenticated) is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:eu-west-1:111122223333:identity/partner.example (identity in region eu-west-1, message relayed to region ap-southeast-2)"
    expect_sink ""

    case="R4 message too long"
    pf_sink_reset
    pf_swaks --from a@example.com --to r5@example.net \
        --attach-type application/octet-stream \
        --attach @"$T/big" --header "Subject: big"
    expect_reply "552 5.3.4 <END-OF-MESSAGE>: End-of-data rejected: Message is too long."
    expect_sink ""
}

# state_missing - the store is gone: DEFER_IF_PERMIT, mail deferred
state_missing() {
    send "state store missing" a@example.com r6@example.net
    expect_reply "450 4.3.0 <r6@example.net>: Recipient address rejected: sesgate: state store unavailable, try again later"
    expect_sink ""
}

# README.md shows the template's inet block verbatim.
case="README snippet"
if grep -Fq -e "$($snippet main-inet PORT=10040)" "$top_srcdir/README.md" \
    && [ "$(grep -cFx -f <($snippet main-inet PORT=10040) \
        "$top_srcdir/README.md")" -ge 7 ]; then
    ok
else
    bad "README.md lacks the main-inet block of $snippets"
fi

# A body just over the 1 MB limit the test configuration sets.
head -c 1100000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$T/big"

for mode in inet unix spawn; do
    D=$T/$mode
    mkdir -p "$D"
    write_state "$D" || { bad "import failed"; continue; }
    echo "message_size_limit = 1000000" >>"$D/sesgate.conf"
    case $mode in
    inet)
        port=$(pf_free_port)
        start_daemon "$D" "inet:127.0.0.1:$port" || { bad "start"; continue; }
        main=$($snippet main-inet PORT="$port")
        master=
        ;;
    unix)
        mkdir -p "$D/sock"
        chmod 0755 "$D/sock"
        start_daemon "$D" "unix:$D/sock/policyd" || { bad "start"; continue; }
        main=$($snippet main-unix SOCKET="$D/sock/policyd")
        master=
        ;;
    spawn)
        main=$($snippet main-spawn NAME=sesgate)
        master=$(pf_vg_argv "$($snippet master-spawn NAME=sesgate \
            USER=nobody SBINDIR="$top_builddir/policy" \
            CONF="$D/sesgate.conf")")
        ;;
    esac
    if ! pf_start "$D/pf" "$main" "$master"; then
        bad "postfix did not start"
        stop_daemon
        continue
    fi
    scenarios

    # The window passes (the clock a day ahead): quota back.
    case=
    if [ "$mode" = inet ]; then
        stop_daemon
        start_daemon "$D" "inet:127.0.0.1:$port" SESGATE_CLOCK_OFFSET=90000
        send "R4 daily quota recovered after 24 h" a@quota.example.com q4@example.net
        expect_queued
        expect_sink q4@example.net
    fi

    # The state store disappears.
    mv "$D/state/state.mdb" "$D/state/state.mdb.away"
    case $mode in
    inet)
        stop_daemon
        start_daemon "$D" "inet:127.0.0.1:$port"
        ;;
    unix)
        stop_daemon
        start_daemon "$D" "unix:$D/sock/policyd"
        ;;
    spawn)
        # New smtpd processes, so new spawned daemons.
        pf_reload
        ;;
    esac
    state_missing

    # A malformed request: logged, connection closed, no reply.
    if [ "$mode" = inet ]; then
        case="malformed request"
        if printf 'protocol_state=RCPT\nnoequals\n\n' |
            timeout 5 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
sys.exit(0 if s.recv(100) == b"" else 1)' "$port"; then
            ok
        else
            bad "the daemon answered a malformed request"
        fi
        if grep -q 'malformed request' "$D/policyd.log"; then ok; else
            bad "no log line for the malformed request"; fi
    fi
    # R8 and the SASL user: this Postfix has no SASL, so the requests
    # go to the daemon directly, with the attributes Postfix sends.
    if [ "$mode" = inet ]; then
        # policy_ask SASL SENDER - the action line of a RCPT request
        policy_ask() {
            printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTPA\nclient_address=127.0.0.1\nclient_name=localhost\nhelo_name=client.test\nsasl_method=PLAIN\nsasl_username=%s\nsender=%s\nrecipient=s1@example.net\nrecipient_count=0\ninstance=%s\n\n' \
                "$1" "$2" "$RANDOM.$1" | sg_policy_send "127.0.0.1:$port"
        }
        # (the state store is back for these)
        mv "$D/state/state.mdb.away" "$D/state/state.mdb"
        stop_daemon
        start_daemon "$D" "inet:127.0.0.1:$port"
        case="R8 SASL user allowed"
        got=$(policy_ask app1 web@app.example)
        if [ "$got" = "action=DUNNO" ]; then ok; else
            bad "reply '$got', want 'action=DUNNO'"; fi
        case="R8 SASL user not allowed"
        got=$(policy_ask app2 web@app.example)
        want="action=554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: web@app.example"
        if [ "$got" = "$want" ]; then ok; else
            bad "reply '$got', want '$want'"; fi
        case="R8 SASL user, unauthenticated"
        got=$(policy_ask "" web@app.example)
        if [ "$got" = "$want" ]; then ok; else
            bad "reply '$got', want '$want'"; fi

        # An import is seen on a persistent connection without a signal
        # (one snapshot per loop wakeup): late.example is verified by
        # an import between two requests of one connection.
        case="import picked up without a signal"
        sed 's/"identities": \[ { "IdentityName": "example.com"/"identities": [ { "IdentityName": "late.example", "IdentityType": "DOMAIN", "VerificationStatus": "SUCCESS", "SendingEnabled": true }, { "IdentityName": "example.com"/' \
            "$D/state.json" >"$D/state2.json"
        got=$(timeout 20 python3 -c 'import socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def ask(inst):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "sender=news@late.example\nrecipient=l1@example.net\n"
               "instance=%s\n\n" % inst).encode())
    b = b""
    while not b.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d:
            break
        b += d
    return b.decode().split("\n")[0]
print(ask("late.1"))
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
print(ask("late.1"))
print(ask("late.2"))' "$port" "$ctl" -c "$D/sesgate.conf" import "$D/state2.json")
        want="action=554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: news@late.example
action=DUNNO
action=DUNNO"
        if [ "$got" = "$want" ]; then ok; else
            bad "replies '$got', want '$want'"; fi
    fi
    if [ "$mode" != spawn ]; then
        case="one log line per refusal"
        if grep -q 'reject: RCPT from .*; from=<a@unverified.test> to=<r2@example.net> proto=ESMTP helo=<client.test> region=eu-west-1 rule=R2' "$D/policyd.log"; then
            ok
        else
            bad "no refusal log line"
        fi
    fi
    if [ "$mode" != spawn ] && [ "${SESGATE_QUOTA_DEFER:-0}" = 1 ]; then
        # run-all's second pass: the answers above came from replays.
        case="quota calls deferred (SESGATE_QUOTA_DEFER=1)"
        if grep -q 'SESGATE_QUOTA_DEFER=1: every quota call is deferred' \
            "$D/policyd.log"; then ok; else bad "no deferral log line"; fi
    fi
    stop_daemon
    pf_stop
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
