#!/bin/bash
# t-milter-postfix.sh - sesgate-milter in a real Postfix (smtpd_milters
# and non_smtpd_milters over inet), relaying to smtp-sink; swaks as the
# client. Each case asserts what the client saw and what the sink got.
#
# Prints "N passed, M failed". Exit 77 without postfix, smtp-sink,
# swaks or root (a failure under SESGATE_SKIPS_AS_FAILS=1).

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$here/postfix-lib.sh"

pf_need_peers

passed=0
failed=0
case_name=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-mpf.XXXXXX") || exit 99
chmod 755 "$tmp"
MILTER_PID=

# cleanup - stop everything this script started
cleanup() {
    pf_stop
    if [ -n "$MILTER_PID" ]; then
        kill "$MILTER_PID" 2>/dev/null
        wait "$MILTER_PID" 2>/dev/null
    fi
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

# expect_reply TEXT - the last server reply contains TEXT
expect_reply() {
    if pf_last_reply | grep -qF -- "$1"; then ok; else
        bad "last reply '$(pf_last_reply)' lacks '$1'"; fi
}

# expect_out TEXT - the transcript contains TEXT
expect_out() {
    if printf '%s\n' "$PF_OUT" | grep -qF -- "$1"; then ok; else
        bad "transcript lacks '$1'"; fi
}

# expect_sink_rcpts LIST - the sink got exactly these recipients
expect_sink_rcpts() {
    local want got
    want=$(printf '%s\n' "$@" | sort)
    if [ $# -gt 0 ]; then
        pf_sink_wait 1 20 || true
        sleep 0.3
    else
        sleep 1
    fi
    got=$(pf_sink_rcpts)
    if [ "$got" = "$want" ]; then ok; else
        bad "sink recipients '$(echo $got)', want '$(echo $want)'"; fi
}

# expect_sink_has TEXT - a message at the sink contains TEXT
expect_sink_has() {
    if find "$PF_DIR/sink" -type f -exec grep -qF -- "$1" {} + \
        2>/dev/null; then ok; else bad "no message at the sink has '$1'"; fi
}

# expect_sink_lacks TEXT
expect_sink_lacks() {
    if find "$PF_DIR/sink" -type f -exec grep -qF -- "$1" {} + \
        2>/dev/null; then bad "a message at the sink has '$1'"; else ok; fi
}

# start_case NAME - name the case, empty the sink
start_case() {
    case_name=$1
    pf_sink_reset
}

# The milter: its own state, inet socket. As root it runs as nobody
# (milter_user; ignored otherwise): the state directory is nobody's
# before the import, so that the store files are handed to nobody.
mkdir "$tmp/state"
chmod 755 "$tmp/state"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$tmp/state" || exit 99
fi
MPORT=$(pf_free_port)
cat > "$tmp/sesgate.conf" <<CF
state_dir = $tmp/state
default_region = us-east-1
sender_region_map = $here/milter/sender_region_map
milter_user = nobody
milter_socket_group =
milter_default_config_set = us-east-1:transactional
delegations = $tmp/delegations
CF
cat > "$tmp/delegations" <<'DL'
# partner.example (account 111122223333) lets its own envelope senders
# send as it in eu-west-1 (R8)
delegate arn:aws:ses:eu-west-1:111122223333:identity/partner.example @partner.example owner=production
# sandboxed.example (an account in the sandbox: delegation_owner_production
# is no) lets eu.example.com put its address in From: only
delegate arn:aws:ses:eu-west-1:444455556666:identity/sandboxed.example @eu.example.com covers=from
DL
"$top_builddir/ctl/sesgatectl" -c "$tmp/sesgate.conf" import \
    "$here/milter/state.json" > "$tmp/import.log" 2>&1 ||
    { cat "$tmp/import.log"; exit 1; }
"$top_builddir/milter/sesgate-milter" -f -c "$tmp/sesgate.conf" \
    -p "inet:$MPORT@127.0.0.1" > "$tmp/milter.log" 2>&1 &
MILTER_PID=$!
pf_wait_port "$MPORT" || { cat "$tmp/milter.log"; exit 1; }

pf_start "$tmp/pf" "smtpd_milters = inet:127.0.0.1:$MPORT
non_smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
milter_protocol = 6" || exit 1

body='Subject: test

hello'

# 1. Verified envelope, unverified From: refused at end of DATA.
start_case "unverified From"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: x@unverified.example'
expect_reply '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@unverified.example'
expect_sink_rcpts

# 2. Verified From with a display name: relayed, set header added.
start_case "From with display name"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: "Alice Example" <alice@example.com>'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts bob@example.com
expect_sink_has 'X-SES-CONFIGURATION-SET: transactional'

# 3. Unverified From with a display name: both forms listed.
start_case "unverified From, display name"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: Ann Other <ann@unverified.example>'
expect_reply 'US-EAST-1: Ann Other <ann@unverified.example>, ann@unverified.example'
expect_sink_rcpts

# 4. Sender: unverified.
start_case "unverified Sender"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com' --add-header 'Sender: s@unverified.example'
expect_reply 'failed the check in region US-EAST-1: s@unverified.example'
expect_sink_rcpts

# 5. Several From addresses, two of them unverified.
start_case "several From"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com, b@unverified.example, "C" <c@pending.example>'
expect_reply 'US-EAST-1: b@unverified.example, "C" <c@pending.example>, c@pending.example'
expect_sink_rcpts

# 6. Unverified envelope sender: refused at MAIL FROM.
start_case "unverified envelope"
pf_swaks --from bob@unverified.example --to bob@example.com
expect_out '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bob@unverified.example'
expect_sink_rcpts

# 7. Per-recipient refusals (sandbox R3, suppression R5); the others
#    get the message.
start_case "per-recipient refusals"
pf_swaks --from alice@example.com \
    --to bob@example.com,x@other.example,gone@example.com,success@simulator.amazonses.com \
    --header 'From: alice@example.com'
expect_out '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@other.example'
expect_out '550 5.1.1 <gone@example.com> is on the Amazon SES account-level suppression list in region us-east-1 (reason BOUNCE, since 2026-11-01T00:00:00Z)'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts bob@example.com success@simulator.amazonses.com

# 8. Configuration sets: unknown in the region, then a known one kept.
start_case "configuration set unknown"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com' --add-header 'X-SES-CONFIGURATION-SET: marketing'
expect_reply '554 5.7.1 Configuration set does not exist: marketing in region US-EAST-1'
expect_sink_rcpts
start_case "configuration set known"
pf_swaks --from a@eu.example.com --to b@example.net \
    --header 'From: a@eu.example.com' --add-header 'X-SES-CONFIGURATION-SET: marketing'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts b@example.net
expect_sink_has 'X-SES-CONFIGURATION-SET: marketing'
expect_sink_lacks 'X-SES-CONFIGURATION-SET: transactional'

# 9. Message tags syntax.
start_case "message tags"
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com' --add-header 'X-SES-MESSAGE-TAGS: campaign=spring sale'
expect_reply '554 5.6.0 Message rejected: invalid X-SES-MESSAGE-TAGS header'
expect_sink_rcpts

# 10. Quota: MaxSendRate 1 in us-west-2 defers the second recipient
#     with SES's text; the first is relayed and committed.
start_case "quota rate"
pf_swaks --from a@rate.example.com --to r1@example.net,r2@example.net \
    --header 'From: a@rate.example.com'
expect_out '454 4.7.0 Throttling failure: Maximum sending rate exceeded.'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts r1@example.net

# 11. Quota: daily quota spent in ap-south-1: every recipient deferred.
start_case "quota daily"
pf_swaks --from a@daily.example.com --to d1@example.net \
    --header 'From: a@daily.example.com'
expect_out '454 4.7.0 Throttling failure: Daily message quota exceeded.'
expect_sink_rcpts

# 11b. Delegated sending (R8) through Postfix: the client's two
#      X-SES-SOURCE-ARN headers are gone, the delegated identity's
#      three ARN headers added once each.
start_case "R8 delegated"
arn=arn:aws:ses:eu-west-1:111122223333:identity/partner.example
pf_swaks --from news@partner.example --to p1@example.net \
    --header 'From: Partner <news@partner.example>' \
    --add-header 'X-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:999999999999:identity/evil.example' \
    --add-header 'X-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:999999999999:identity/evil2.example'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts p1@example.net
expect_sink_has "X-SES-SOURCE-ARN: $arn"
expect_sink_has "X-SES-FROM-ARN: $arn"
expect_sink_has "X-SES-RETURN-PATH-ARN: $arn"
expect_sink_lacks 'evil'
n=$(find "$PF_DIR/sink" -type f -exec grep -ci '^X-SES-SOURCE-ARN:' {} + 2>/dev/null)
if [ "$n" = 1 ]; then ok; else bad "$n X-SES-SOURCE-ARN headers at the sink"; fi

# 11c. R8: the delegated identity used for mail relayed to us-east-1
#      (us.partner.example is mapped there): SES's access-denied text.
start_case "R8 wrong region"
pf_swaks --from news@us.partner.example --to bob@example.com \
    --header 'From: news@us.partner.example'
expect_reply '554 5.7.1 Access denied: User (unauthenticated) is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:eu-west-1:111122223333:identity/partner.example (identity in region eu-west-1, message relayed to region us-east-1)'
expect_sink_rcpts

# 11d. R8, From:-only delegation by an owner in the sandbox: RCPT
#      accepts (eu-west-1 is in production), then the From: header
#      makes R3 apply; the whole message is refused at the end of DATA
#      naming the unverified recipients, and nothing reaches the sink.
start_case "R8 From-only, owner in the sandbox"
pf_swaks --from a@eu.example.com \
    --to bob@example.com,x@other.example,y@other.example \
    --header 'From: News <news@sandboxed.example>'
expect_out '250 2.1.5 Ok'
expect_reply '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: x@other.example, y@other.example'
expect_sink_rcpts
start_case "R8 From-only, owner in the sandbox, verified recipients"
pf_swaks --from a@eu.example.com --to bob@example.com \
    --header 'From: News <news@sandboxed.example>'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_rcpts bob@example.com
expect_sink_has 'X-SES-FROM-ARN: arn:aws:ses:eu-west-1:444455556666:identity/sandboxed.example'

# 11e. SIGHUP reloads (libmilter alone would stop the filter): the
#      default configuration set becomes one that does not exist, the
#      same process refuses with SES's text, SIGUSR1 brings it back.
start_case "SIGHUP reload"
sed -i 's/^milter_default_config_set = .*/milter_default_config_set = us-east-1:nosuch/' "$tmp/sesgate.conf"
kill -HUP "$MILTER_PID"
sleep 0.5
if kill -0 "$MILTER_PID" 2>/dev/null; then ok; else bad "milter gone after SIGHUP"; fi
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com'
expect_reply '554 5.7.1 Configuration set does not exist: nosuch in region US-EAST-1'
expect_sink_rcpts
sed -i 's/^milter_default_config_set = .*/milter_default_config_set = us-east-1:transactional/' "$tmp/sesgate.conf"
kill -USR1 "$MILTER_PID"
sleep 0.5
pf_swaks --from alice@example.com --to bob@example.com \
    --header 'From: alice@example.com'
expect_reply '250 2.0.0 Ok: queued'
expect_sink_has 'X-SES-CONFIGURATION-SET: transactional'

# 12. sendmail(1) submission through pickup/cleanup and
#     non_smtpd_milters: the refusal becomes a bounce to the sender.
start_case "sendmail(1) bounce"
printf 'From: x@unverified.example\nSubject: via sendmail\n\nhello\n' |
    sendmail -C "$PF_CONF" -f alice@example.com bob@example.com
if pf_sink_wait 1 30; then ok; else bad "no bounce reached the sink"; fi
sleep 0.5
expect_sink_has 'Email address is not verified'
if pf_sink_rcpts | grep -qx 'alice@example.com'; then ok; else
    bad "the bounce did not go to alice@example.com: $(pf_sink_rcpts)"; fi
if pf_sink_rcpts | grep -qx 'bob@example.com'; then
    bad "bob@example.com got the refused message"; else ok; fi

# The refusal log lines, Postfix-shaped, with the queue id.
case_name="log"
if grep -qE '^sesgate-milter: [0-9A-F]+: reject: END-OF-HEADERS from .*\[127\.0\.0\.1\]: 554 5\.7\.1 .* from=<alice@example.com> to=<bob@example.com> region=us-east-1 rule=R2$' "$tmp/milter.log"
then ok; else bad "no END-OF-HEADERS log line with a queue id"; cat "$tmp/milter.log"; fi

# A clean stop, and nothing for the sanitizers (sanitizer builds).
case_name="stop"
kill "$MILTER_PID"
wait "$MILTER_PID"
rc=$?
MILTER_PID=
if [ "$rc" -eq 0 ]; then ok; else bad "milter exit status $rc on SIGTERM"; fi
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/milter.log"
then bad "sanitizer report"; cat "$tmp/milter.log"; else ok; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
