#!/bin/bash
# t-sendmail.sh - sesgate-milter in a real Sendmail (INPUT_MAIL_FILTER,
# F=T), relaying to smtp-sink; swaks as the client. At least one accept
# and one refusal per stage (MAIL, RCPT, end of headers, end of
# message), each asserting what the client saw and what the sink got.
#
# Sendmail cannot be installed beside Postfix (both provide
# mail-transport-agent): it runs unpacked from Debian's sendmail-bin,
# sendmail-base and sendmail-cf (../shared/harness-notes.md). The debs
# are fetched once with "apt-get download" into
# $SESGATE_TEST_CACHE/sendmail (default /var/cache/sesgate-test, or
# $top_builddir/tests/cache when that cannot be written) and reused.
# Sendmail resolves names itself, so everything here (Sendmail, the
# milter, smtp-sink, swaks) runs inside a private network and UTS
# namespace (unshare -n -u) with lo up and an FQDN host name: no packet
# leaves the namespace.
#
# Prints "N passed, M failed". Exit 77 without root, unshare, swaks,
# smtp-sink, m4, libwrap0 or the debs (a failure under
# SESGATE_SKIPS_AS_FAILS=1).

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# sg_tmpdir_remove: the logs are kept for run-all's secrets scan
. "$here/common.sh"
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

# skip WHY - exit 77, or 1 under SESGATE_SKIPS_AS_FAILS=1
skip() {
    if [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ]; then
        echo "FAIL: $* (SESGATE_SKIPS_AS_FAILS=1)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

milter=$top_builddir/milter/sesgate-milter
ctl=$top_builddir/ctl/sesgatectl

if [ -z "${SG_IN_NETNS:-}" ]; then
    # Outside the namespace: check the peers, fetch and unpack the debs,
    # then run the rest of this script in a private namespace.
    [ "$(id -u)" = 0 ] || skip "needs root (Sendmail's daemon, unshare)"
    for p in unshare ip swaks smtp-sink m4 dpkg-deb python3; do
        command -v "$p" >/dev/null 2>&1 || skip "$p missing"
    done
    for p in "$milter" "$ctl"; do
        [ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
    done
    ldconfig -p 2>/dev/null | grep -q 'libwrap\.so\.0' ||
        skip "libwrap0 missing (packaging/deps.sh installs it)"
    cache=${SESGATE_TEST_CACHE:-/var/cache/sesgate-test}/sendmail
    if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
        cache=$top_builddir/tests/cache/sendmail
        mkdir -p "$cache" || exit 99
    fi
    if ! ls "$cache"/sendmail-bin_*.deb >/dev/null 2>&1 \
        || ! ls "$cache"/sendmail-base_*.deb >/dev/null 2>&1 \
        || ! ls "$cache"/sendmail-cf_*.deb >/dev/null 2>&1; then
        if ! (cd "$cache" && apt-get download sendmail-bin sendmail-base \
                sendmail-cf) >"$cache/download.log" 2>&1; then
            cat "$cache/download.log"
            skip "apt-get download sendmail-bin sendmail-base sendmail-cf failed"
        fi
    fi
    root=$cache/root
    stamp=$(ls "$cache"/*.deb | xargs -n1 basename | sort | tr '\n' ' ')
    if [ ! -f "$root/.stamp" ] || [ "$(cat "$root/.stamp")" != "$stamp" ]
    then
        rm -rf "$root"
        mkdir -p "$root"
        for d in "$cache"/sendmail-bin_*.deb "$cache"/sendmail-base_*.deb \
            "$cache"/sendmail-cf_*.deb; do
            dpkg-deb -x "$d" "$root" || { echo "FAIL: dpkg-deb -x $d"; exit 1; }
        done
        printf '%s' "$stamp" >"$root/.stamp"
    fi
    [ -x "$root/usr/libexec/sendmail/sendmail" ] ||
        { echo "FAIL: no sendmail binary in $root"; exit 1; }
    SG_IN_NETNS=1 SG_SENDMAIL_ROOT=$root exec unshare -n -u bash "$0" "$@"
    echo "FAIL: unshare -n -u failed"
    exit 1
fi

# ---- Inside the private network and UTS namespace. ----
ip link set lo up || { echo "FAIL: ip link set lo up"; exit 1; }
hostname sesgate-test.localdomain || { echo "FAIL: hostname"; exit 1; }
root=$SG_SENDMAIL_ROOT
sendmail=$root/usr/libexec/sendmail/sendmail

passed=0
failed=0
case_name=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-sm.XXXXXX") || exit 99
chmod 755 "$tmp"
MILTER_PID=
SINK_PID=
SM_PID=
OUT=

# cleanup - stop everything this script started
cleanup() {
    local p
    [ -f "$tmp/sendmail.pid" ] && SM_PID=$(head -n 1 "$tmp/sendmail.pid")
    for p in "$SM_PID" "$MILTER_PID" "$SINK_PID"; do
        [ -n "$p" ] || continue
        kill -TERM "$p" 2>/dev/null
    done
    for p in "$MILTER_PID" "$SINK_PID"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null
    done
    sg_tmpdir_remove "$tmp"
}
trap cleanup EXIT

# free_port - a TCP port on 127.0.0.1 nothing listens on
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_port PORT - until something accepts on 127.0.0.1:PORT
wait_port() {
    local i
    for i in $(seq 1 150); do
        python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1" &&
            return 0
        sleep 0.1
    done
    return 1
}

# ok/bad - count one assertion
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL [$case_name]: $*"
    echo "--- swaks transcript"; printf '%s\n' "$OUT" | tail -n 25
}

# send ARGS... - one SMTP transaction against Sendmail
send() {
    OUT=$(swaks --server "127.0.0.1:$SMPORT" --timeout 60 \
        --helo client.test "$@" 2>&1)
}

# expect_out TEXT - the transcript contains TEXT
expect_out() {
    if printf '%s\n' "$OUT" | grep -qF -- "$1"; then ok; else
        bad "transcript lacks '$1'"; fi
}

# expect_queued - Sendmail took the message (250 2.0.0 ... accepted)
expect_queued() {
    if printf '%s\n' "$OUT" | grep -qE '^<- +250 2\.0\.0 .*Message accepted for delivery'
    then ok; else bad "message not accepted for delivery"; fi
}

# sink_rcpts - recipients the sink received, sorted
sink_rcpts() {
    find "$tmp/sink" -type f -exec grep -h '^X-Rcpt-Args: ' {} + \
        2>/dev/null | sed -E 's/^X-Rcpt-Args: <([^>]*)>.*/\1/' | sort
}

# expect_sink_rcpts LIST - the sink got exactly these recipients
expect_sink_rcpts() {
    local want got i
    want=$(printf '%s\n' "$@" | sort)
    [ $# -eq 0 ] && want=
    for i in $(seq 1 100); do
        got=$(sink_rcpts)
        [ -n "$want" ] && [ "$got" = "$want" ] && break
        [ -z "$want" ] && [ "$i" -ge 15 ] && break
        sleep 0.1
    done
    if [ "$got" = "$want" ]; then ok; else
        bad "sink recipients '$(echo $got)', want '$(echo $want)'"; fi
}

# expect_sink_has TEXT - a message at the sink contains TEXT
expect_sink_has() {
    if find "$tmp/sink" -type f -exec grep -qF -- "$1" {} + \
        2>/dev/null; then ok; else bad "no message at the sink has '$1'"; fi
}

# expect_sink_lacks TEXT
expect_sink_lacks() {
    if find "$tmp/sink" -type f -exec grep -qF -- "$1" {} + \
        2>/dev/null; then bad "a message at the sink has '$1'"; else ok; fi
}

# start_case NAME - name the case, empty the sink
start_case() {
    case_name=$1
    find "$tmp/sink" -type f -delete 2>/dev/null
}

# The sink in place of SES.
mkdir -p "$tmp/sink"
chmod 0777 "$tmp/sink"
SINKPORT=$(free_port)
smtp-sink -u nobody -d "$tmp/sink/%Y%m%d%H%M%S." "127.0.0.1:$SINKPORT" 64 \
    >"$tmp/sink.log" 2>&1 &
SINK_PID=$!
wait_port "$SINKPORT" || { echo "FAIL: smtp-sink did not start"; exit 1; }

# The milter: the miltertest scenarios' state, inet socket; a small
# message_size_limit for the end-of-message case. As root it runs as
# nobody (milter_user; ignored otherwise): the state directory is
# nobody's before the import, so that the store files are handed to it.
mkdir "$tmp/state"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$tmp/state" || exit 99
fi
MPORT=$(free_port)
cat >"$tmp/sesgate.conf" <<CF
state_dir = $tmp/state
default_region = us-east-1
sender_region_map = $here/milter/sender_region_map
milter_user = nobody
milter_socket_group =
milter_default_config_set = eu-west-1:marketing
message_size_limit = 20000
delegations = $tmp/delegations
CF
cat >"$tmp/delegations" <<'DL'
# partner.example (account 111122223333) lets its own envelope senders
# send as it in eu-west-1 (R8)
delegate arn:aws:ses:eu-west-1:111122223333:identity/partner.example @partner.example owner=production
DL
"$ctl" -c "$tmp/sesgate.conf" import "$here/milter/state.json" \
    >"$tmp/import.log" 2>&1 || { cat "$tmp/import.log"; exit 1; }
${SESGATE_VALGRIND:-} "$milter" -f -c "$tmp/sesgate.conf" \
    -p "inet:$MPORT@127.0.0.1" >"$tmp/milter.log" 2>&1 &
MILTER_PID=$!
wait_port "$MPORT" || { echo "FAIL: milter"; cat "$tmp/milter.log"; exit 1; }

# Sendmail: a .mc that works unpacked (harness-notes.md).
SMPORT=$(free_port)
mkdir -p "$tmp/mqueue"
chmod 0700 "$tmp/mqueue"
: >"$tmp/aliases"
: >"$tmp/statistics"
cat >"$tmp/test.mc" <<MC
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`QUEUE_DIR', \`$tmp/mqueue')dnl
define(\`confPID_FILE', \`$tmp/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$tmp/aliases')dnl
define(\`STATUS_FILE', \`$tmp/statistics')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDOMAIN_NAME', \`sesgate-test.localdomain')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,TrustStickyBit')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINKPORT')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$SMPORT, Addr=127.0.0.1')dnl
INPUT_MAIL_FILTER(\`sesgate', \`S=inet:$MPORT@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:2m')dnl
MAILER(\`smtp')dnl
MC
m4 -D_CF_DIR_="$root/usr/share/sendmail/cf/" \
    "$root/usr/share/sendmail/cf/m4/cf.m4" "$tmp/test.mc" \
    >"$tmp/sendmail.cf" 2>"$tmp/m4.log" || { cat "$tmp/m4.log"; exit 1; }
"$sendmail" -C "$tmp/sendmail.cf" -bi >"$tmp/newaliases.log" 2>&1 ||
    { echo "FAIL: sendmail -bi"; cat "$tmp/newaliases.log"; exit 1; }
"$sendmail" -C "$tmp/sendmail.cf" -L sesgate-test -bd -q30m \
    >"$tmp/sendmail.log" 2>&1 ||
    { echo "FAIL: sendmail -bd"; cat "$tmp/sendmail.log"; exit 1; }
wait_port "$SMPORT" ||
    { echo "FAIL: sendmail does not listen"; cat "$tmp/sendmail.log"; exit 1; }
SM_PID=$(head -n 1 "$tmp/sendmail.pid" 2>/dev/null)

# 1. Accepted at every stage: verified envelope sender (MAIL), a
# recipient (RCPT), a verified From: with a display name (EOH), a size
# within the limit (EOM); the default configuration set is added.
start_case "accept"
send --from alice@eu.example.com --to r1@example.net \
    --header 'From: "Alice Example" <alice@eu.example.com>' \
    --header 'Subject: accepted'
expect_queued
expect_sink_rcpts r1@example.net
expect_sink_has 'X-SES-CONFIGURATION-SET: marketing'
expect_sink_has 'Subject: accepted'

# 2. MAIL: an unverified envelope sender is refused at MAIL FROM.
start_case "MAIL refused"
send --from x@unverified.example --to r2@example.net
expect_out '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@unverified.example'
expect_sink_rcpts

# 3. RCPT: a suppressed recipient is refused, the other of the same
# message still goes.
start_case "RCPT one refused, one accepted"
send --from alice@eu.example.com --to r3@example.net,complained@example.net \
    --header 'From: alice@eu.example.com'
# Sendmail puts "<address>... " before a RCPT reply text.
expect_out '550 5.1.1 <complained@example.net>... <complained@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason COMPLAINT, since 2026-10-15T12:30:00Z)'
expect_queued
expect_sink_rcpts r3@example.net

# 4. End of headers: verified envelope, unverified From: refused after
# the final dot (SES's R2 text lists the identity).
start_case "EOH refused (From:)"
send --from alice@eu.example.com --to r4@example.net \
    --header 'From: Mallory <x@unverified.example>'
expect_out '554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: Mallory <x@unverified.example>'
expect_sink_rcpts

# 5. End of headers: Sendmail passes a client's Return-Path: to the
# milter (Postfix drops it); an unverified one is refused.
start_case "EOH refused (Return-Path:)"
send --from alice@eu.example.com --to r5@example.net \
    --header 'From: alice@eu.example.com' \
    --add-header 'Return-Path: <bounce@unverified.example>'
expect_out '554 5.7.1 Message rejected: Email address is not verified.'
expect_out 'bounce@unverified.example'
expect_sink_rcpts

# 6. End of headers: a configuration set the region lacks (R11).
start_case "EOH refused (configuration set)"
send --from alice@eu.example.com --to r6@example.net \
    --header 'From: alice@eu.example.com' \
    --header 'X-SES-CONFIGURATION-SET: nosuch'
expect_out '554 5.7.1 Configuration set does not exist: nosuch in region EU-WEST-1'
expect_sink_rcpts

# 7. End of message: a body over message_size_limit (counted by the
# milter) gets SES's 552; one within it passes (case 1).
start_case "EOM refused (size)"
head -c 30000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$tmp/big"
send --from alice@eu.example.com --to r7@example.net \
    --header 'From: alice@eu.example.com' --body "$tmp/big"
expect_out '552 5.3.4 Message is too long.'
expect_sink_rcpts

# 8. Delegated sending (R8) through Sendmail: the client's two
# X-SES-SOURCE-ARN headers are deleted (Sendmail keeps deleted headers
# in its list: the milter deletes from the last), the ARN headers of
# the delegated identity added once each.
start_case "R8 delegated"
arn=arn:aws:ses:eu-west-1:111122223333:identity/partner.example
send --from news@partner.example --to r8@example.net \
    --header 'From: Partner <news@partner.example>' \
    --add-header 'X-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:999999999999:identity/evil.example' \
    --add-header 'X-SES-SOURCE-ARN: arn:aws:ses:eu-west-1:999999999999:identity/evil2.example'
expect_queued
expect_sink_rcpts r8@example.net
expect_sink_has "X-SES-SOURCE-ARN: $arn"
expect_sink_has "X-SES-FROM-ARN: $arn"
expect_sink_has "X-SES-RETURN-PATH-ARN: $arn"
expect_sink_lacks 'evil'
n=$(find "$tmp/sink" -type f -exec grep -ci '^X-SES-SOURCE-ARN:' {} + 2>/dev/null)
if [ "$n" = 1 ]; then ok; else bad "$n X-SES-SOURCE-ARN headers at the sink"; fi

# 9. R8: a delegated identity used from another region is refused with
# SES's access-denied text (us.partner.example is relayed to
# us-east-1).
start_case "R8 wrong region"
send --from news@us.partner.example --to r9@example.net
expect_out 'Access denied: User (unauthenticated) is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:eu-west-1:111122223333:identity/partner.example'
expect_sink_rcpts

# 10. The milter is gone: F=T makes Sendmail defer, not relay unchecked.
start_case "milter down (F=T)"
kill -TERM "$MILTER_PID" 2>/dev/null
wait "$MILTER_PID" 2>/dev/null
MILTER_PID=
send --from alice@eu.example.com --to r8@example.net \
    --header 'From: alice@eu.example.com'
if printf '%s\n' "$OUT" | grep -qE '^<\*\* +4[0-9][0-9] '; then ok; else
    bad "no 4xx reply with the milter down"; fi
expect_sink_rcpts

if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/milter.log"
then
    case_name=milter
    bad "sanitizer report"
    cat "$tmp/milter.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
