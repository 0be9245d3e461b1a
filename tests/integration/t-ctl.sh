#!/bin/sh
# tests/integration/t-ctl.sh - sesgatectl against a real state store
#
# Run by "make check" with top_builddir and top_srcdir set (absolute).
# Writes its own configuration with state_dir in a temp dir, imports the
# snapshots in tests/integration/data/ with the built sesgatectl and
# asserts the exact output lines and exit statuses that DESIGN.md's
# contract promises (check: 0 relayed, 75 deferred, 77 refused, 64
# usage, 78 configuration or state error; import: 65 bad snapshot).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

ctl=$top_builddir/ctl/sesgatectl
data=$top_srcdir/tests/integration/data
examples=$top_srcdir/packaging/examples

[ -x "$ctl" ] || sg_skip "$ctl is not built"

sg_setup
conf=$sg_tmp/sesgate.conf
cat >"$conf" <<EOF
# written by t-ctl.sh
default_region = us-east-1
sender_region_map = $data/sender_region_map
state_dir = $sg_tmp/state
EOF

# c - sesgatectl with the test configuration
c() {
    sg_run "$ctl" -c "$conf" "$@"
}

# R2/R3 refusal text, as SES words it (decide.h).
nv="554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region"

# ---- usage, help, version -------------------------------------------
sg_case "no command"
sg_run "$ctl"
assert_exit 64
assert_err_has "no command given"

sg_case "unknown command"
c frobnicate
assert_exit 64

sg_case "unknown global option"
sg_run "$ctl" -x
assert_exit 64

sg_case "--help"
sg_run "$ctl" --help
assert_exit 0
assert_out_has "Usage: sesgatectl"

sg_case "--version"
sg_run "$ctl" --version
assert_exit 0
assert_out_has "sesgatectl (sesgate) "

for cmd in import export status check suppress config; do
    sg_case "$cmd --help"
    c "$cmd" --help
    assert_exit 0
    assert_out_has "Usage: sesgatectl"
done

sg_case "suppress add --help"
c suppress add --help
assert_exit 0
assert_out_has "suppress add --region R"

sg_case "help check"
sg_run "$ctl" help check
assert_exit 0
assert_out_has "check --from ADDR"

# ---- no state yet ----------------------------------------------------
sg_case "check without state"
c check --from news@example.com --rcpt alice@example.org
assert_exit 78
assert_err_has "sesgatectl: no state in $sg_tmp/state: run sesgatectl import"

sg_case "status without state"
c status
assert_exit 78
assert_err_has "no state in $sg_tmp/state"

sg_case "config -n without state: reported, not a failure"
c config -n
assert_exit 0
assert_line "$conf: configuration OK"
assert_err_has "no state in $sg_tmp/state"

sg_case "export without state"
c export
assert_exit 78

sg_case "suppress add without state"
c suppress add --region us-east-1 a@example.com
assert_exit 78

sg_case "a corrupt store: check says so, import repairs it"
mkdir -p "$sg_tmp/bad-state"
printf 'this is not an LMDB file, not at all, no\n' \
    >"$sg_tmp/bad-state/state.mdb"
printf 'state_dir = %s\ndefault_region = us-east-1\n' "$sg_tmp/bad-state" \
    >"$sg_tmp/bad-state.conf"
sg_run "$ctl" -c "$sg_tmp/bad-state.conf" check --from a@example.com \
    --rcpt b@example.com
assert_exit 78
assert_err_has "state.mdb"
sg_run "$ctl" -c "$sg_tmp/bad-state.conf" import "$data/state.json"
assert_exit 0
if [ -f "$sg_tmp/bad-state/state.mdb.damaged" ]; then
    sg_pass
else
    sg_fail "the damaged store was not kept aside as state.mdb.damaged"
fi
sg_run "$ctl" -c "$sg_tmp/bad-state.conf" check --from a@example.com \
    --rcpt b@example.com
assert_exit 0
assert_line "message: ACCEPT"

# ---- configuration ---------------------------------------------------
sg_case "-n on a bad configuration names file:line"
sg_run "$ctl" -c "$data/bad.conf" -n
assert_exit 78
assert_err_has "sesgatectl: $data/bad.conf:3: "

sg_case "config -n on a bad configuration"
sg_run "$ctl" -c "$data/bad.conf" config -n
assert_exit 78
assert_err_has "$data/bad.conf:3: "

sg_case "-c with a missing file"
sg_run "$ctl" -c "$sg_tmp/nonexistent.conf" check --from a@example.com \
    --rcpt b@example.com
assert_exit 78
assert_err_has "sesgatectl: $sg_tmp/nonexistent.conf"

sg_case "config -d prints the defaults"
c config -d
assert_exit 0
assert_line "state_dir = /var/lib/sesgate"
assert_line "max_recipients = 50"

sg_case "config prints the effective configuration"
c config
assert_exit 0
assert_line "state_dir = $sg_tmp/state"
assert_line "default_region = us-east-1"

sg_case "config masks a redis password"
cat >"$sg_tmp/redis.conf" <<EOF
state_dir = $sg_tmp/state
redis_url = redis://user:s3cret@127.0.0.1:6379/0
EOF
sg_run "$ctl" -c "$sg_tmp/redis.conf" config
assert_exit 0
assert_line "redis_url = redis://user:*****@127.0.0.1:6379/0"
if grep -q s3cret "$sg_tmp/stdout"; then
    sg_fail "the password was printed"
else
    sg_pass
fi

# ---- import ----------------------------------------------------------
sg_case "import the packaged example"
c import "$examples/state.json"
assert_exit 0
assert_out_has "imported 2 regions: "
assert_out_has "us-east-1 (sandbox, 3 identities, 1 suppressed)"
assert_out_has "eu-west-1 (production, 1 identity, 1 suppressed)"

sg_case "import the test state"
c import "$data/state.json"
assert_exit 0
assert_out_has "imported 3 regions: "
assert_out_has "ca-central-1 (production, sending PAUSED, 1 identity, 0 suppressed)"
assert_out_has "us-east-1 (sandbox, 3 identities, 2 suppressed)"

sg_case "config -n with state"
c config -n
assert_exit 0
assert_line "$conf: configuration OK"

# ---- check: accepted -------------------------------------------------
sg_case "accepted: verified domain sender, verified sandbox recipient"
c check --from news@example.com --rcpt alice@example.org
assert_exit 0
assert_line "rcpt alice@example.org: ACCEPT"
assert_line "message: ACCEPT"
assert_line "# region: us-east-1 (default)"
assert_out_has "# rcpt alice@example.org: "
assert_out_has "# message: "

sg_case "recipient printed exactly as typed"
c check --from '<news@example.com>' --rcpt '<alice@example.org>'
assert_exit 0
assert_line "rcpt <alice@example.org>: ACCEPT"
assert_line "message: ACCEPT"

sg_case "output is the contract: rcpt lines, message line, # lines"
c check --from news@example.com --rcpt alice@example.org \
    --rcpt bob@example.com
assert_exit 0
if sed -n 1p "$sg_tmp/stdout" | grep -qx "rcpt alice@example.org: ACCEPT" &&
   sed -n 2p "$sg_tmp/stdout" | grep -qx "rcpt bob@example.com: ACCEPT" &&
   sed -n 3p "$sg_tmp/stdout" | grep -qx "message: ACCEPT" &&
   ! sed -n '4,$p' "$sg_tmp/stdout" | grep -qv '^# '; then
    sg_pass
else
    sg_fail "lines out of order or an explanation without '# '"
fi

sg_case "null sender with a verified header From"
c check --from '<>' --header-from 'News <news@example.com>' \
    --rcpt alice@example.org
assert_exit 0
assert_line "message: ACCEPT"

sg_case "configuration set that exists"
c check --from news@example.com --rcpt alice@example.org \
    --configuration-set transactional
assert_exit 0
assert_line "message: ACCEPT"

# ---- check: refused --------------------------------------------------
sg_case "unverified sender"
c check --from someone@unverified.example --rcpt alice@example.org
assert_exit 77
assert_line "message: REJECT $nv US-EAST-1: someone@unverified.example"
assert_out_has "# message: R2: "

sg_case "sender in a PENDING domain"
c check --from a@pending.example --rcpt alice@example.org
assert_exit 77
assert_line "message: REJECT $nv US-EAST-1: a@pending.example"

sg_case "header From with the display name of an unverified address"
c check --from news@example.com \
    --header-from 'Ann <ann@unverified.example>' --rcpt alice@example.org
assert_exit 77
assert_line "rcpt alice@example.org: ACCEPT"
assert_line "message: REJECT $nv US-EAST-1: Ann <ann@unverified.example>, ann@unverified.example"

sg_case "several header From mailboxes, one unverified"
c check --from news@example.com \
    --header-from 'news@example.com, "Bob B." <bob@elsewhere.example>' \
    --rcpt alice@example.org
assert_exit 77
assert_line "message: REJECT $nv US-EAST-1: \"Bob B.\" <bob@elsewhere.example>, bob@elsewhere.example"

sg_case "unverified Sender and Return-Path headers"
c check --from news@example.com --sender 'x@nowhere.example' \
    --return-path '<y@nowhere.example>' --rcpt alice@example.org
assert_exit 77
assert_line "message: REJECT $nv US-EAST-1: x@nowhere.example, y@nowhere.example"

sg_case "sandbox: the only recipient is not verified"
c check --from news@example.com --rcpt stranger@example.net
assert_exit 77
assert_line "rcpt stranger@example.net: REJECT $nv US-EAST-1: stranger@example.net"
assert_line "message: REJECT $nv US-EAST-1: stranger@example.net"
assert_out_has "# rcpt stranger@example.net: R3: "

sg_case "sandbox: one recipient not verified, another fine"
c check --from news@example.com --rcpt stranger@example.net \
    --rcpt alice@example.org
assert_exit 0
assert_line "rcpt stranger@example.net: REJECT $nv US-EAST-1: stranger@example.net"
assert_line "rcpt alice@example.org: ACCEPT"
assert_line "message: ACCEPT"

sg_case "suppressed recipient"
c check --from news@example.com --rcpt bounced@example.com
assert_exit 77
assert_line "rcpt bounced@example.com: REJECT 550 5.1.1 <bounced@example.com> is on the Amazon SES account-level suppression list in region us-east-1 (reason BOUNCE, since 2026-11-02T08:00:00Z)"
assert_out_has "# rcpt bounced@example.com: R5: "

sg_case "suppressed recipient in eu-west-1 (COMPLAINT)"
c check --region eu-west-1 --from news@example.com \
    --rcpt complained@example.com
assert_exit 77
assert_line "rcpt complained@example.com: REJECT 550 5.1.1 <complained@example.com> is on the Amazon SES account-level suppression list in region eu-west-1 (reason COMPLAINT, since 2026-10-15T12:30:00Z)"
assert_line "# region: eu-west-1 (explicit)"

sg_case "message too long"
c check --from news@example.com --rcpt alice@example.org --size 40000001
assert_exit 77
assert_line "rcpt alice@example.org: ACCEPT"
assert_line "message: REJECT 552 5.3.4 Message is too long."

sg_case "size within the limit"
c check --from news@example.com --rcpt alice@example.org --size 40000000
assert_exit 0
assert_line "message: ACCEPT"

sg_case "configuration set that does not exist"
c check --from news@example.com --rcpt alice@example.org \
    --configuration-set nope
assert_exit 77
assert_line "message: REJECT 554 5.7.1 Configuration set does not exist: nope in region US-EAST-1"

sg_case "paused region (sender from the map, region-name form)"
c check --from team@ca.example.com --rcpt someone@example.net
assert_exit 77
assert_line "message: REJECT 554 5.7.1 Account is paused: sending is disabled in region CA-CENTRAL-1"
assert_line "# region: ca-central-1 (map)"

# ---- check: deferred -------------------------------------------------
sg_case "eu-west-1 from the map by relay host: daily quota spent"
c check --from billing@eu.example.com --rcpt customer@example.net
assert_exit 75
assert_line "rcpt customer@example.net: DEFER 454 4.7.0 Throttling failure: Daily message quota exceeded."
assert_line "message: DEFER 454 4.7.0 Throttling failure: Daily message quota exceeded."
assert_line "# region: eu-west-1 (map)"

sg_case "region in the R1 table but not in the state"
c check --region us-west-2 --from news@example.com --rcpt alice@example.org
assert_exit 75
assert_line "rcpt alice@example.org: DEFER 451 4.3.0 sesgate: no SES state for region us-west-2: import or sync it"
assert_line "message: DEFER 451 4.3.0 sesgate: no SES state for region us-west-2: import or sync it"
assert_line "# region: us-west-2 (explicit)"

sg_case "51 recipients: the 51st is deferred"
set --
i=1
while [ "$i" -le 51 ]; do
    set -- "$@" --rcpt "r$i@example.com"
    i=$((i + 1))
done
c check --from news@example.com "$@"
assert_exit 0
assert_line "rcpt r50@example.com: ACCEPT"
assert_line "rcpt r51@example.com: DEFER 452 4.5.3 Too many recipients: Amazon SES accepts at most 50 recipients per message"
assert_line "message: ACCEPT"
set --

# ---- check: usage ----------------------------------------------------
sg_case "check without --from"
c check --rcpt alice@example.org
assert_exit 64
assert_err_has "--from"

sg_case "check without --rcpt"
c check --from news@example.com
assert_exit 64
assert_err_has "--rcpt"

sg_case "check with a bad --size"
c check --from news@example.com --rcpt alice@example.org --size lots
assert_exit 64

sg_case "check with a negative --size"
c check --from news@example.com --rcpt alice@example.org --size -5
assert_exit 64

sg_case "check with an unknown option"
c check --from news@example.com --rcpt alice@example.org --bogus
assert_exit 64

sg_case "check with an option missing its value"
c check --from news@example.com --rcpt
assert_exit 64

sg_case "check with an unknown region name"
c check --region mars-north-1 --from news@example.com \
    --rcpt alice@example.org
assert_exit 64

sg_case "check never writes: the exported state is unchanged"
c export
cp "$sg_tmp/stdout" "$sg_tmp/export.before"
c check --from news@example.com --rcpt alice@example.org --rcpt r1@example.com
c export
if cmp -s "$sg_tmp/stdout" "$sg_tmp/export.before"; then
    sg_pass
else
    sg_fail "the state changed after check"
fi

# ---- bad snapshots ---------------------------------------------------
sg_case "import a snapshot with a syntax error"
c import "$data/bad-syntax.json"
assert_exit 65
assert_err_match "bad-syntax\.json:[0-9]+:[0-9]+: "

sg_case "import a snapshot with a wrong type"
c import "$data/bad-type.json"
assert_exit 65
assert_err_has "bad-type.json"

sg_case "the old state answers after a refused import"
c check --from news@example.com --rcpt alice@example.org \
    --rcpt bounced@example.com
assert_exit 0
assert_line "rcpt alice@example.org: ACCEPT"
assert_out_has "rcpt bounced@example.com: REJECT 550 5.1.1 "

sg_case "import from standard input"
sg_run sh -c "'$ctl' -c '$conf' import - < '$data/state.json'"
assert_exit 0
assert_out_has "imported 3 regions: "

sg_case "import of a missing file"
c import "$sg_tmp/nonexistent.json"
if [ "$sg_rc" = 65 ] || [ "$sg_rc" = 74 ]; then
    sg_pass
else
    sg_fail "exit status $sg_rc, want 65 or 74"
fi

sg_case "import usage"
c import
assert_exit 64

# ---- export ----------------------------------------------------------
sg_case "export to stdout"
c export
assert_exit 0
assert_out_has '"sesgate_state"'
cp "$sg_tmp/stdout" "$sg_tmp/export.json"

sg_case "export -o FILE"
c export -o "$sg_tmp/export2.json"
assert_exit 0
if [ -s "$sg_tmp/export2.json" ] &&
   cmp -s "$sg_tmp/export.json" "$sg_tmp/export2.json"; then
    sg_pass
else
    sg_fail "export -o differs from export to stdout"
fi

sg_case "export imports back"
c import "$sg_tmp/export.json"
assert_exit 0
assert_out_has "imported 3 regions: "
c check --from news@example.com --rcpt bounced@example.com
assert_exit 77
assert_out_has "rcpt bounced@example.com: REJECT 550 5.1.1 "

# ---- status ----------------------------------------------------------
sg_case "status shows every region"
c status
assert_exit 0
assert_line "us-east-1: sandbox, sending enabled"
assert_line "eu-west-1: production, sending enabled"
assert_line "ca-central-1: production, sending PAUSED"
assert_line "    quota (24h):        150/200"
assert_line "    quota (24h):        50000/50000"
assert_line "    quota (24h):        12/unlimited"
assert_out_has "imported "

sg_case "status --region"
c status --region eu-west-1
assert_exit 0
assert_line "eu-west-1: production, sending enabled"
assert_no_line "us-east-1: sandbox, sending enabled"

sg_case "status --region not in the state"
c status --region us-west-2
assert_exit 78

sg_case "status --json"
c status --json
assert_exit 0
if command -v jq >/dev/null 2>&1; then
    if [ "$(jq -r '.regions["us-east-1"].sent_24h' "$sg_tmp/stdout")" = 150 ] &&
       [ "$(jq -r '.regions["eu-west-1"].max_rate' "$sg_tmp/stdout")" = 14 ] &&
       [ "$(jq -r '.regions["us-east-1"].sandbox' "$sg_tmp/stdout")" = true ] &&
       [ "$(jq -r '.state_dir' "$sg_tmp/stdout")" = "$sg_tmp/state" ]; then
        sg_pass
    else
        sg_fail "unexpected JSON figures"
    fi
else
    assert_out_has '"state_dir"'
fi

# ---- suppression list ------------------------------------------------
sg_case "suppress list"
c suppress list
assert_exit 0
assert_line "us-east-1 gone@example.net BOUNCE 2026-11-01T00:00:00Z"
assert_line "eu-west-1 complained@example.com COMPLAINT 2026-10-15T12:30:00Z"

sg_case "suppress list --region"
c suppress list --region eu-west-1
assert_exit 0
assert_out_lines 2

sg_case "suppress add"
c suppress add --region us-east-1 new@example.com
assert_exit 0
c check --from news@example.com --rcpt new@example.com
assert_exit 77
assert_out_has "rcpt new@example.com: REJECT 550 5.1.1 <new@example.com> is on the Amazon SES account-level suppression list in region us-east-1 (reason BOUNCE, since "

sg_case "suppress add --reason COMPLAINT"
c suppress add --region us-east-1 --reason COMPLAINT angry@example.com
assert_exit 0
c suppress list --region us-east-1
assert_out_has "us-east-1 angry@example.com COMPLAINT "

sg_case "suppress add without --region"
c suppress add new2@example.com
assert_exit 64

sg_case "suppress add with a bad reason"
c suppress add --region us-east-1 --reason SPAM new2@example.com
assert_exit 64

sg_case "suppress remove from every region"
c suppress remove gone@example.net
assert_exit 0
assert_line "removed gone@example.net from 2 regions"
c suppress list
assert_exit 0
if grep -q "gone@example.net" "$sg_tmp/stdout"; then
    sg_fail "gone@example.net still listed"
else
    sg_pass
fi

sg_case "suppress remove of an address on no list"
c suppress remove gone@example.net
assert_exit 0
assert_line "gone@example.net was not on any suppression list"

sg_case "suppress remove --region"
c suppress remove --region us-east-1 new@example.com
assert_exit 0
assert_line "removed new@example.com from 1 region"
c check --from news@example.com --rcpt new@example.com
assert_exit 0

sg_case "suppress import"
c suppress import --region us-east-1 "$data/suppress.csv"
assert_exit 0
c suppress list --region us-east-1
assert_out_has "us-east-1 one@example.com BOUNCE "
assert_out_has "us-east-1 two@example.com COMPLAINT "

sg_case "suppress import of a bad file: all or nothing"
c suppress import --region us-east-1 "$data/bad-suppress.csv"
assert_exit 65
assert_err_has "bad-suppress.csv:3"
c suppress list --region us-east-1
if grep -q "ok@example.com" "$sg_tmp/stdout"; then
    sg_fail "a line of a refused file was added"
else
    sg_pass
fi

sg_case "suppress add of a bad address"
c suppress add --region us-east-1 "not an address"
assert_exit 65

sg_case "-v is accepted"
sg_run "$ctl" -v -c "$conf" check --from news@example.com \
    --rcpt alice@example.org
assert_exit 0
assert_line "message: ACCEPT"

sg_case "a forged line in an address is not printed as a line"
c check --from news@example.com --rcpt "x@example.com
message: ACCEPT"
assert_exit 77
assert_no_line "message: ACCEPT"

sg_case "suppress usage"
c suppress
assert_exit 64
c suppress frob
assert_exit 64


# ---- quota engine ----------------------------------------------------
race=$top_builddir/tests/integration/quota_race

sg_case "status shows the quota engine's figures"
c status --region us-east-1
assert_exit 0
assert_line "    quota (24h):        150/200"
assert_line "    send rate now:      0/1 per second"
assert_line "    reserved:           0"

sg_case "quota usage"
c quota
assert_exit 64
c quota frob
assert_exit 64
c quota reset
assert_exit 64
assert_err_has "reset needs --region R"
c quota reset --region nowhere-1
assert_exit 64
c quota --help
assert_exit 0
assert_out_has "quota reset --region R"

sg_case "check before the quota is spent"
c check --from news@example.com --rcpt alice@example.org
assert_exit 0
assert_line "rcpt alice@example.org: ACCEPT"

if [ -x "$race" ]; then
    sg_case "a spent daily quota shows in check and status"
    sg_run "$race" -c "$conf" -r us-east-1 -m -1 send 50
    assert_exit 0
    c check --from news@example.com --rcpt alice@example.org
    assert_exit 75
    assert_line "rcpt alice@example.org: DEFER 454 4.7.0 Throttling failure: Daily message quota exceeded."
    assert_line "message: DEFER 454 4.7.0 Throttling failure: Daily message quota exceeded."
    c status --region us-east-1
    assert_exit 0
    assert_line "    quota (24h):        200/200"
    c status --json
    assert_exit 0
    if command -v jq >/dev/null 2>&1; then
        if [ "$(jq -r '.regions["us-east-1"].sent_24h' "$sg_tmp/stdout")" = 200 ] &&
           [ "$(jq -r '.regions["us-east-1"].sent_24h_synced' "$sg_tmp/stdout")" = 150 ] &&
           [ "$(jq -r '.regions["us-east-1"].reserved' "$sg_tmp/stdout")" = 0 ]; then
            sg_pass
        else
            sg_fail "unexpected quota figures in the JSON"
        fi
    fi

    sg_case "quota reset --region reopens it, logged"
    c quota reset --region us-east-1
    assert_exit 0
    assert_err_has "quota reset for region us-east-1"
    c check --from news@example.com --rcpt alice@example.org
    assert_exit 0
    assert_line "rcpt alice@example.org: ACCEPT"
    c status --region us-east-1
    assert_line "    quota (24h):        150/200"
fi

sg_case "check falls back to the snapshot when the quota cannot be opened"
rm -f "$sg_tmp/state/quota.db"
printf 'not a quota file\n' >"$sg_tmp/state/quota.db"
c check --from news@example.com --rcpt alice@example.org
assert_exit 0
assert_line "rcpt alice@example.org: ACCEPT"
assert_err_has "cannot open the quota counters"
c status --region us-east-1
assert_exit 0
assert_line "    quota (24h):        150/200"
assert_err_has "showing the snapshot's figures"
rm -f "$sg_tmp/state/quota.db"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    sg_case "run as root in the daemons' state_dir, files stay theirs"
    mkdir "$sg_tmp/owned"
    chown nobody "$sg_tmp/owned"
    sed "s|^state_dir = .*|state_dir = $sg_tmp/owned|" "$conf" >"$sg_tmp/owned.conf"
    sg_run "$ctl" -c "$sg_tmp/owned.conf" import "$top_srcdir/packaging/examples/state.json"
    assert_exit 0
    sg_run "$ctl" -c "$sg_tmp/owned.conf" check --from news@example.com --rcpt alice@example.org
    assert_exit 0
    for f in state.mdb state.mdb-lock quota.db; do
        owner=$(stat -c %U "$sg_tmp/owned/$f" 2>/dev/null)
        if [ "$owner" = nobody ]; then
            sg_pass
        else
            sg_fail "$f is owned by '$owner', want nobody"
        fi
    done
fi

# ---- identity-owner policies (R8) -------------------------------------
# The owner's state (account 111122223333): example.com allows account
# 444455556666 to send to example.com/example.net recipients from
# 192.0.2.0/24 and denies its IAM user "blocked"; other.example has no
# policy.
mkdir -p "$sg_tmp/owner"
cat >"$sg_tmp/owner/state.json" <<'EOF'
{"sesgate_state": 1, "regions": {"us-east-1": {
 "account": {"ProductionAccessEnabled": true, "SendingEnabled": true,
  "SendQuota": {"Max24HourSend": 50000, "MaxSendRate": 14, "SentLast24Hours": 0}},
 "identities": [
  {"IdentityName": "example.com", "IdentityType": "DOMAIN",
   "VerificationStatus": "SUCCESS", "SendingEnabled": true,
   "Policies": {
    "app": "{\"Statement\": [{\"Sid\": \"app\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"444455556666\"}, \"Action\": \"ses:SendRawEmail\", \"Resource\": \"arn:aws:ses:us-east-1:111122223333:identity/example.com\", \"Condition\": {\"ForAllValues:StringLike\": {\"ses:Recipients\": [\"*@example.com\", \"*@example.net\"]}, \"IpAddress\": {\"aws:SourceIp\": \"192.0.2.0/24\"}}}]}",
    "block": "{\"Statement\": [{\"Sid\": \"noblocked\", \"Effect\": \"Deny\", \"Principal\": {\"AWS\": \"arn:aws:iam::444455556666:user/blocked\"}, \"Action\": \"ses:Send*\", \"Resource\": \"*\"}]}"}},
  {"IdentityName": "other.example", "IdentityType": "DOMAIN",
   "VerificationStatus": "SUCCESS", "SendingEnabled": true}]}}}
EOF
cat >"$sg_tmp/owner/delegations" <<'EOF'
principal app 444455556666
principal blocked arn:aws:iam::444455556666:user/blocked
principal self arn:aws:iam::111122223333:user/relay
principal client:198.51.100.0/24 444455556666
EOF
oconf=$sg_tmp/owner/sesgate.conf
cat >"$oconf" <<EOF
default_region = us-east-1
state_dir = $sg_tmp/owner
delegations = $sg_tmp/owner/delegations
aws_account_id = 111122223333
EOF
grep -v '^aws_account_id' "$oconf" >"$sg_tmp/owner/noacct.conf"
denied="REJECT 554 5.7.1 Access denied: User arn:aws:iam::444455556666:root is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:111122223333:identity"

# oc - sesgatectl with the owner's configuration
oc() {
    sg_run "$ctl" -c "$oconf" "$@"
}

sg_case "R8 owner: import the owner's state"
oc import "$sg_tmp/owner/state.json"
assert_exit 0

sg_case "R8 owner: check allowed by the identity's policy"
oc check --from a@example.com --rcpt x@example.com --rcpt y@example.net --sasl-user app --client-addr 192.0.2.5
assert_exit 0
assert_line "message: ACCEPT"
assert_out_has "R8: 444455556666 may send as 1 identity of 111122223333 in us-east-1 (R8: allowed by policy app statement 0 (Sid app))"

sg_case "R8 owner: ForAllValues, one recipient outside the list"
oc check --from a@example.com --rcpt x@example.com --rcpt z@example.org --sasl-user app --client-addr 192.0.2.5
assert_exit 77
assert_line "rcpt z@example.org: ACCEPT"
assert_line "message: $denied/example.com"
assert_out_has "# message: R8: no statement of 2 policies allows ses:SendRawEmail for 444455556666 (implicit deny); envelope sender a@example.com, identity example.com in us-east-1"

sg_case "R8 owner: aws:SourceIp outside the policy's block"
oc check --from a@example.com --rcpt x@example.com --sasl-user app --client-addr 203.0.113.9
assert_exit 77
assert_line "message: $denied/example.com"

sg_case "R8 owner: explicit Deny wins (--principal)"
oc check --from a@example.com --rcpt x@example.com --client-addr 192.0.2.5 --principal arn:aws:iam::444455556666:user/blocked
assert_exit 77
assert_line "message: REJECT 554 5.7.1 Access denied: User arn:aws:iam::444455556666:user/blocked is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:111122223333:identity/example.com"
assert_out_has "explicitly denied by policy block statement 0 (Sid noblocked)"

sg_case "R8 owner: From: identity without a policy"
oc check --from a@example.com --header-from 'Other <o@other.example>' --rcpt x@example.com --sasl-user app --client-addr 192.0.2.5
assert_exit 77
assert_line "message: $denied/other.example"
assert_out_has "From: o@other.example, identity other.example"

sg_case "R8 owner: a client mapped by address"
oc check --from a@example.com --rcpt x@example.com --client-addr 198.51.100.7
assert_exit 77
assert_line "message: $denied/example.com"

sg_case "R8 owner: the owner's own IAM user is not evaluated"
oc check --from a@example.com --rcpt z@example.org --sasl-user self --client-addr 203.0.113.9
assert_exit 0
assert_line "message: ACCEPT"
assert_out_has "arn:aws:iam::111122223333:user/relay belongs to the owner account 111122223333"

sg_case "R8 owner: no principal line, no evaluation"
oc check --from a@example.com --rcpt z@example.org --sasl-user nobody --client-addr 203.0.113.9
assert_exit 0
assert_line "message: ACCEPT"
if grep -q 'R8' "$sg_tmp/stdout"; then
    sg_fail "R8 explained for an unmapped SASL user"
else
    sg_pass
fi

sg_case "R8 owner: bad --principal"
oc check --from a@example.com --rcpt x@example.com --principal bob
assert_exit 64
assert_err_has "bad --principal 'bob'"

sg_case "R8 owner: without aws_account_id nothing is evaluated"
sg_run "$ctl" -c "$sg_tmp/owner/noacct.conf" check --from a@example.com --rcpt z@example.org --principal arn:aws:iam::444455556666:user/blocked
assert_exit 0
assert_line "message: ACCEPT"
assert_err_has "aws_account_id is not set"

# The same policies live in sesgate-policyd, in spawn(8) mode (one
# client on stdin/stdout, as master.cf runs it): each RCPT is judged
# with the envelope sender standing for From:.
pconf=$sg_tmp/owner/policyd.conf
cp "$oconf" "$pconf"
if [ "$(id -u)" = 0 ]; then
    # As root the daemon drops to policyd_user: the files must be its.
    printf 'policyd_user = nobody\n' >>"$pconf"
    chmod 755 "$sg_tmp"
    chown -R nobody "$sg_tmp/owner"
fi
# preq SASL CLIENT RCPT - one RCPT request as Postfix sends it
preq() {
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTPA\nclient_address=%s\nclient_name=client.test\nsasl_method=PLAIN\nsasl_username=%s\nsender=a@example.com\nrecipient=%s\nrecipient_count=0\ninstance=i.%s.%s\n\n' \
        "$2" "$1" "$3" "$1" "$3"
}
sg_case "R8 owner: sesgate-policyd applies the identity's policies"
{
    preq app 192.0.2.5 x@example.com
    preq app 192.0.2.5 z@example.org
    preq app 203.0.113.9 x@example.com
    preq blocked 192.0.2.5 x@example.com
    preq self 203.0.113.9 z@example.org
    preq nobody 203.0.113.9 z@example.org
} >"$sg_tmp/owner/requests"
sg_run sh -c "timeout 20 '$top_builddir/policy/sesgate-policyd' -c '$pconf' <'$sg_tmp/owner/requests'"
assert_exit 0
pdenied="action=554 5.7.1 Access denied: User arn:aws:iam::444455556666:root is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:111122223333:identity/example.com"
got=$(grep '^action=' "$sg_tmp/stdout" | tr '\n' '|')
want="action=DUNNO|$pdenied|$pdenied|action=554 5.7.1 Access denied: User arn:aws:iam::444455556666:user/blocked is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:111122223333:identity/example.com|action=DUNNO|action=DUNNO|"
if [ "$got" = "$want" ]; then
    sg_pass
else
    sg_fail "replies '$got', want '$want'"
fi

sg_case "R8 owner: aws_account_id must be 12 digits"
printf 'aws_account_id = 1111\n' >"$sg_tmp/owner/bad.conf"
sg_run "$ctl" -c "$sg_tmp/owner/bad.conf" -n
assert_exit 78
assert_err_has "bad.conf:1: aws_account_id: '1111' is not a 12-digit AWS account id"

sg_summary
