#!/bin/bash
# t-postfix-config.sh - sesgatectl postfix-config loaded into a real
#   (throwaway) Postfix that relays to two loopback smtp-sinks standing
#   in for two regions' SES SMTP endpoints
#
# The configuration has regions us-east-1 and eu-west-1, a
# sender_region_map sending @eu.example to eu-west-1 (everything else
# goes through default_region us-east-1), and smtp_hosts pointing each
# region at its sink ([127.0.0.1]:PORT). The generated main.cf and
# master.cf snippets are loaded as they are (TLS off with --tls-level
# none, the sinks speak no TLS), the maps postmapped, and "postfix
# check" must be silent. Each sender's mail must reach its region's sink
# and only that one, after SMTP AUTH (the sinks announce AUTH; the
# transports require it). sasl_passwd must be mode 0600 and hold, per
# sink, the access key and the region's derived SMTP password (compared
# with "sesgatectl smtp-password"; never printed).
#
# Prints "N passed, M failed". Exit 77 without postfix, smtp-sink,
# swaks or root (a failure under SESGATE_SKIPS_AS_FAILS=1).

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$here/postfix-lib.sh"

ctl=$top_builddir/ctl/sesgatectl
if [ ! -x "$ctl" ]; then
    echo "$ctl is not built"
    exit 77
fi
pf_need_peers

passed=0
failed=0
case_name=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-pfc.XXXXXX") || exit 99
chmod 755 "$tmp"
SINK2_PID=

# cleanup - stop everything this script started
cleanup() {
    pf_stop
    if [ -n "$SINK2_PID" ]; then
        kill "$SINK2_PID" 2>/dev/null
        wait "$SINK2_PID" 2>/dev/null
    fi
    sg_tmpdir_remove "$tmp"
}
trap cleanup EXIT

# ok/bad - count one assertion
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL [$case_name]: $*"
}

# rcpts_in DIR - recipients the sink writing into DIR received, sorted
rcpts_in() {
    find "$1" -type f -exec grep -h '^X-Rcpt-Args: ' {} + 2>/dev/null |
        sed -E 's/^X-Rcpt-Args: <([^>]*)>.*/\1/' | sort
}

# wait_rcpts DIR N - wait until the sink in DIR holds N recipients
wait_rcpts() {
    local i
    for i in $(seq 1 300); do
        [ "$(rcpts_in "$1" | wc -l)" -ge "$2" ] && return 0
        if [ $((i % 20)) = 0 ]; then
            postqueue -c "$PF_CONF" -f >/dev/null 2>&1 || true
        fi
        sleep 0.1
    done
    return 1
}

# Two sinks: region us-east-1's is postfix-lib's, eu-west-1's a second.
pf_sink_start "$tmp"
PORT1=$PF_SINK_PORT
mkdir -p "$tmp/sink2"
chmod 0777 "$tmp/sink2"
PORT2=$(pf_free_port)
smtp-sink -u nobody -d "$tmp/sink2/%Y%m%d%H%M%S." "127.0.0.1:$PORT2" 256 \
    >"$tmp/sink2.log" 2>&1 &
SINK2_PID=$!
pf_wait_port "$PORT2" || exit 99

AKID=AKIAPOSTFIXCONFIGTEST
SECRET='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
cat >"$tmp/sender_region_map" <<'MAP'
# sender or @domain -> region
@eu.example         eu-west-1
boss@us.example     us-east-1
MAP
cat >"$tmp/sesgate.conf" <<CF
default_region = us-east-1
regions = us-east-1, eu-west-1
sender_region_map = $tmp/sender_region_map
state_dir = $tmp/state
smtp_hosts = us-east-1=127.0.0.1:$PORT1, eu-west-1=127.0.0.1:$PORT2
CF

# c - sesgatectl with the test configuration and the test keys
c() {
    (
        export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY="$SECRET" \
            AWS_SHARED_CREDENTIALS_FILE=/nonexistent
        sg_vg "$ctl" -c "$tmp/sesgate.conf" "$@"
    )
}

# ---- generate -----------------------------------------------------------
case_name="postfix-config --out"
out=$tmp/pf
if c postfix-config --out "$out" --tls-level none >"$tmp/gen.out" \
    2>"$tmp/gen.err"; then ok; else
    bad "exit $?: $(cat "$tmp/gen.err")"; fi
for f in sasl_passwd sender_relay sender_transport master.cf.snippet \
    main.cf.snippet; do
    if [ -s "$out/$f" ]; then ok; else bad "$out/$f missing or empty"; fi
done
if grep -q "$SECRET" "$tmp/gen.out" "$tmp/gen.err"; then
    bad "the secret key was printed"; else ok; fi

case_name="sasl_passwd"
mode=$(stat -c %a "$out/sasl_passwd")
if [ "$mode" = 600 ]; then ok; else bad "mode $mode, want 600"; fi
for pair in "us-east-1 $PORT1" "eu-west-1 $PORT2"; do
    set -- $pair
    pw=$(printf '%s' "$SECRET" | "$ctl" -c "$tmp/sesgate.conf" \
        smtp-password --region "$1" --stdin 2>/dev/null)
    if [ -n "$pw" ] && grep -qxF "[127.0.0.1]:$2 $AKID:$pw" \
        "$out/sasl_passwd"; then ok; else
        bad "no '[127.0.0.1]:$2 $AKID:<$1 password>' line"; fi
done
if grep -qF "$SECRET" "$out/sasl_passwd"; then
    bad "sasl_passwd holds the secret key itself"; else ok; fi
n=$(grep -vc '^#' "$out/sasl_passwd")
if [ "$n" = 2 ]; then ok; else bad "$n entries, want 2"; fi

case_name="sender maps"
if grep -qxF "@eu.example ses_eu_west_1:[127.0.0.1]:$PORT2" \
    "$out/sender_transport"; then ok; else
    bad "sender_transport: $(grep -v '^#' "$out/sender_transport")"; fi
if grep -qxF "@eu.example [127.0.0.1]:$PORT2" "$out/sender_relay"; then
    ok; else bad "sender_relay: $(grep -v '^#' "$out/sender_relay")"; fi

# ---- load into Postfix ----------------------------------------------------
case_name="postmap, postfix check"
# postmap before Postfix starts (trivial-rewrite opens the maps at
# once), with a minimal configuration directory of its own.
mkdir -p "$tmp/pmconf"
echo "compatibility_level = 3.6" >"$tmp/pmconf/main.cf"
if postmap -c "$tmp/pmconf" "$out/sasl_passwd" "$out/sender_transport" \
    "$out/sender_relay" 2>"$tmp/postmap.err"; then ok; else
    bad "postmap: $(cat "$tmp/postmap.err")"; fi
if [ "$(stat -c %a "$out/sasl_passwd.db")" = 600 ]; then ok; else
    bad "sasl_passwd.db is mode $(stat -c %a "$out/sasl_passwd.db")"; fi
# The generated lines go in as they are. The library's relayhost (the
# first sink) is removed, so that nothing reaches a sink except through
# the generated transports.
main_extra=$(grep -v '^#' "$out/main.cf.snippet")
master_extra=$(grep -v '^#' "$out/master.cf.snippet")
if pf_start "$tmp" "$main_extra" "$master_extra" 2>"$tmp/start.err"; then
    ok; else bad "pf_start: $(cat "$tmp/start.err")"; fi
postconf -c "$PF_CONF" -X relayhost
pf_reload
check=$(postfix -c "$PF_CONF" check 2>&1)
if [ -z "$check" ]; then ok; else bad "postfix check: $check"; fi
for t in ses_us_east_1 ses_eu_west_1; do
    if postconf -c "$PF_CONF" -M "$t/unix" | grep -q smtp; then ok; else
        bad "master.cf has no $t"; fi
done

# ---- relay ----------------------------------------------------------------
case_name="relay per region"
pf_swaks --from alice@eu.example --to r1@dest.example
if [ "$PF_RC" = 0 ]; then ok; else bad "eu sender refused: $PF_OUT"; fi
pf_swaks --from bob@other.example --to r2@dest.example
if [ "$PF_RC" = 0 ]; then ok; else bad "default sender refused: $PF_OUT"; fi
pf_swaks --from boss@us.example --to r3@dest.example
if [ "$PF_RC" = 0 ]; then ok; else bad "us sender refused: $PF_OUT"; fi
wait_rcpts "$tmp/sink2" 1 || true
wait_rcpts "$tmp/sink" 2 || true
sleep 0.5
got1=$(rcpts_in "$tmp/sink" | tr '\n' ' ')
got2=$(rcpts_in "$tmp/sink2" | tr '\n' ' ')
if [ "$got2" = "r1@dest.example " ]; then ok; else
    bad "eu-west-1 sink got '$got2', want r1@dest.example"; fi
if [ "$got1" = "r2@dest.example r3@dest.example " ]; then ok; else
    bad "us-east-1 sink got '$got1', want r2 and r3"; fi

case_name="SMTP AUTH with the region's credentials"
# The smtp client looks the nexthop up in smtp_sasl_password_maps:
# every nexthop the maps route to must be a key of sasl_passwd (else
# Postfix would send without AUTH, and SES would refuse). The sinks
# announce AUTH and take any, so the log must show no SASL trouble.
for hop in $(awk '!/^#/ {sub(/^[^:]*:/, "", $2); print $2}' \
    "$out/sender_transport") $(sed -n 's/^default_transport = [^:]*://p' \
    "$out/main.cf.snippet"); do
    if postmap -c "$tmp/pmconf" -q "$hop" "hash:$out/sasl_passwd" |
        grep -q "^$AKID:"; then ok; else
        bad "nexthop $hop has no sasl_passwd entry"; fi
done
sasl_bad='SASL authentication failed|no mechanism available|warning:.*sasl'
if grep -qiE "$sasl_bad" "$tmp/maillog" 2>/dev/null; then
    bad "SASL trouble: $(grep -i 'sasl' "$tmp/maillog" | tail -n 3)"
else ok; fi
lo='relay=127\.0\.0\.1\[127\.0\.0\.1\]'
if grep -qE "postfix/ses_eu_west_1/smtp.*$lo:$PORT2,.*status=sent" \
    "$tmp/maillog"; then ok; else
    bad "eu mail did not go through the ses_eu_west_1 transport"; fi
if grep -qE "postfix/ses_us_east_1/smtp.*$lo:$PORT1,.*status=sent" \
    "$tmp/maillog"; then ok; else
    bad "other mail did not go through the ses_us_east_1 transport"; fi

[ "$failed" = 0 ] || grep -E "status=|sasl" "$tmp/maillog" | tail -n 8
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
