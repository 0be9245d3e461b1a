#!/bin/sh
# tests/integration/t-sync.sh - sesgatectl sync, suppress and
#   smtp-password against the SES API stand-in (ses-standin.py), which
#   checks every request's SigV4 signature independently
#
# Scenarios: first sync, incremental sync, throttled (429) sync
# completes, 500s and cut-off answers are retried, kill -9 mid-sync keeps
# the old state, bad credentials give a clear error naming region, call
# and SES code, suppress remove propagates to every region (and a
# failing region is retried by the next sync), smtp-password.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

ctl=$top_builddir/ctl/sesgatectl
standin=$top_srcdir/tests/integration/ses-standin.py
data=$top_srcdir/tests/integration/data/ses-standin.json

[ -x "$ctl" ] || sg_skip "$ctl is not built"
command -v python3 >/dev/null 2>&1 || sg_skip "python3 is missing"

sg_setup
AKID=AKIDSTANDIN
SECRET='stand/in+secret'
sg_pid=

# stop_standin - the EXIT trap also stops the stand-in
stop_standin() {
    if [ -n "$sg_pid" ]; then
        kill "$sg_pid" 2>/dev/null
        wait "$sg_pid" 2>/dev/null
        sg_pid=
    fi
}
trap 'stop_standin; sg_cleanup' EXIT

python3 "$standin" --data "$data" --credentials "$AKID:$SECRET" \
    --port-file "$sg_tmp/port" >"$sg_tmp/standin.log" 2>&1 &
sg_pid=$!
i=0
while [ ! -s "$sg_tmp/port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -s "$sg_tmp/port" ] || { echo "stand-in did not start"; exit 1; }
port=$(cat "$sg_tmp/port")
base=http://127.0.0.1:$port

conf=$sg_tmp/sesgate.conf
cat >"$conf" <<CF
default_region = us-east-1
state_dir = $sg_tmp/state
regions = us-east-1, eu-west-1
api_endpoint = $base
api_rate = 0
api_retries = 8
CF

# control - change the stand-in's fault settings
control() {
    python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/__control",
    data=sys.argv[2].encode(), method="POST")).read()' "$base" "$1"
}

# c - sesgatectl with the test configuration and the stand-in's keys
c() {
    sg_run env AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY="$SECRET" \
        AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$ctl" -c "$conf" "$@"
}

# ---- first sync -------------------------------------------------------
sg_case "first sync"
c sync
assert_exit 0
assert_out_has "us-east-1: 2 identities, 2 configuration sets, 2 suppressed (full"
assert_out_has "eu-west-1: 6 identities, 0 configuration sets, 2501 suppressed (full"

sg_case "state after the first sync"
c suppress list --region eu-west-1
assert_exit 0
assert_out_lines 2501
c check --from a@example.com --rcpt gone@example.net --region eu-west-1
assert_out_has "rcpt gone@example.net: REJECT 550 5.1.1"
c export
assert_out_has '"BounceTopic":"arn:aws:sns:us-east-1:123456789012:bounces"'
assert_out_has '"active_receipt_rule_set":'
assert_out_has '"sesgate_sync":'

sg_case "secrets stay out of the output"
c sync --json
assert_exit 0
if grep -q "$SECRET" "$sg_tmp/stdout" "$sg_tmp/stderr"; then
    sg_fail "the secret key appears in the output"
else
    sg_pass
fi
assert_out_has '"ok": true'

# ---- incremental sync -------------------------------------------------
sg_case "incremental sync"
c suppress add --region us-east-1 local-only@example.net
c sync --json
assert_exit 0
assert_out_has '"suppression_list": "incremental"'
# Incremental keeps the stored list (a local addition included) ...
c suppress list --region us-east-1
assert_out_lines 3
# ... and the full pass makes it SES's list again.
c sync --full
assert_exit 0
assert_out_has "us-east-1: 2 identities, 2 configuration sets, 2 suppressed (full"
c suppress list --region us-east-1
assert_out_lines 2

sg_case "syncing one region keeps the other's list as stored"
# The kept region's list goes through the same line files as a synced
# one (sg_state_import_file_supp), with its unknown fields.
c export
grep -c '"EmailAddress"' "$sg_tmp/stdout" >"$sg_tmp/n-before"
c sync --region us-east-1
assert_exit 0
assert_out_has "us-east-1: 2 identities"
c suppress list --region eu-west-1
assert_out_lines 2501
c export
grep -c '"EmailAddress"' "$sg_tmp/stdout" >"$sg_tmp/n-after"
if cmp -s "$sg_tmp/n-before" "$sg_tmp/n-after"; then sg_pass; else
    sg_fail "suppressed entries $(cat "$sg_tmp/n-before") before," \
        "$(cat "$sg_tmp/n-after") after"; fi
if ls -a "$sg_tmp/state" | grep -q '^\.sync-'; then
    sg_fail "temp files left behind by a sync that succeeded"
else
    sg_pass
fi

# ---- throttling, 5xx, cut-off answers ---------------------------------
sg_case "throttled sync completes"
control '{"throttle_every": 3}'
c sync --full --json
assert_exit 0
if grep -Eq '"throttled": [1-9]' "$sg_tmp/stdout"; then sg_pass; else
    sg_fail "no throttled requests counted"; fi
control '{"throttle_every": 0, "fail_call": "GetAccount", "fail_status": 500, "fail_count": 2, "truncate_every": 7}'
c sync --full
assert_exit 0
control '{"truncate_every": 0}'

# ---- failures leave the state --------------------------------------------
sg_case "persistent 500 fails, naming region, call, code and message"
c export
cp "$sg_tmp/stdout" "$sg_tmp/before.json"
control '{"fail_call": "ListSuppressedDestinations", "fail_status": 500, "fail_count": 100}'
c sync --full
assert_exit 75
assert_err_match 'ListSuppressedDestinations: InternalServiceErrorException: injected failure \(HTTP 500'
c export
if cmp -s "$sg_tmp/stdout" "$sg_tmp/before.json"; then sg_pass; else
    sg_fail "state changed after a failed sync"; fi
control '{"fail_count": 0}'

sg_case "kill -9 mid-sync keeps the old state"
control '{"page_delay": 0.3}'
env AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY="$SECRET" \
    "$ctl" -c "$conf" sync --full >/dev/null 2>&1 &
kpid=$!
sleep 1.2
kill -9 $kpid 2>/dev/null
wait $kpid 2>/dev/null
control '{"page_delay": 0}'
c export
if cmp -s "$sg_tmp/stdout" "$sg_tmp/before.json"; then sg_pass; else
    sg_fail "state changed after kill -9"; fi
c sync
assert_exit 0
if ls -a "$sg_tmp/state" | grep -q '^\.sync-'; then
    sg_fail "temp files of the killed sync left behind"
else
    sg_pass
fi

sg_case "bad credentials: clear error"
sg_run env AWS_ACCESS_KEY_ID=AKIDWRONG AWS_SECRET_ACCESS_KEY=nope \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$ctl" -c "$conf" sync
assert_exit 77
assert_err_match 'us-east-1: GetAccount: UnrecognizedClientException: The security token included in the request is invalid\. \(HTTP 403'
sg_run env AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=wrong \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$ctl" -c "$conf" sync
assert_exit 77
assert_err_has "SignatureDoesNotMatch"
sg_run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$ctl" -c "$conf" sync
assert_exit 78
assert_err_has "no usable AWS credentials"

sg_case "failed syncs are counted for the metrics (issue 8)"
sg_run "$ctl" -c "$conf" status --json
assert_exit 0
n=$(jq -r '.metrics.sync_errors["us-east-1"] // 0' "$sg_tmp/stdout" 2>/dev/null)
if [ "${n:-0}" -ge 2 ] 2>/dev/null; then
    sg_pass
else
    sg_fail "sync_errors of us-east-1 is '$n', want at least 2"
fi

sg_case "credentials file readable by others is refused"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AKID" "$SECRET" >"$sg_tmp/creds"
chmod 644 "$sg_tmp/creds"
cp "$conf" "$sg_tmp/conf2"
echo "aws_credentials_file = $sg_tmp/creds" >>"$sg_tmp/conf2"
sg_run "$ctl" -c "$sg_tmp/conf2" sync
assert_exit 78
assert_err_has "chmod 600"
chmod 600 "$sg_tmp/creds"
sg_run env -u AWS_ACCESS_KEY_ID "$ctl" -c "$sg_tmp/conf2" sync
assert_exit 0

# ---- suppress remove propagates (R5) ----------------------------------
sg_case "suppress remove deletes in every region"
c suppress remove gone@example.net
assert_exit 0
assert_out_has "removed gone@example.net from the us-east-1 list at SES"
assert_out_has "removed gone@example.net from the eu-west-1 list at SES"
c sync --full
c suppress list
assert_no_line "us-east-1 gone@example.net BOUNCE"

sg_case "a failing region is reported and retried by the next sync"
control '{"fail_call": "DeleteSuppressedDestination", "fail_status": 500, "fail_count": 9}'
c suppress remove angry@example.net
assert_exit 75
assert_err_has "will be retried by the next sync"
control '{"fail_count": 0}'
c sync --json
assert_exit 0
assert_out_has '"pending_removals": 0'
c suppress list --region us-east-1
assert_no_line "us-east-1 angry@example.net COMPLAINT"
[ ! -e "$sg_tmp/state/sync-pending.json" ] && sg_pass ||
    sg_fail "pending removals file left"

sg_case "suppress add in the sandbox: SES refuses, clearly"
c suppress add --region us-east-1 new@example.net
assert_exit 76
assert_err_has "PutSuppressedDestination is not available while the account is in the sandbox"

# ---- smtp-password -----------------------------------------------------
sg_case "smtp-password"
sg_run sh -c "echo some+secret+key | '$ctl' -c '$conf' smtp-password --stdin --region eu-central-1"
assert_exit 0
assert_line "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"
sg_run sh -c "echo AnkqhOiWEcszZZzTMCQbOY1sPGoLFgMH9zhp4eNgSjo4 | '$ctl' -c '$conf' smtp-password --check"
assert_exit 65
assert_out_has "legacy SMTP password"
sg_run sh -c "echo BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2 | '$ctl' -c '$conf' smtp-password --check"
assert_exit 0
assert_out_has "current SMTP password"
c smtp-password some+secret+key
assert_exit 64
assert_err_has "unexpected argument (not shown: secrets are read from stdin"

stop_standin
sg_summary
