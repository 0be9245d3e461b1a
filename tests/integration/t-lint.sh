#!/bin/sh
# tests/integration/t-lint.sh - sesgatectl lint, dns and policy-test
# against a real state store
#
# Run by "make check" with top_builddir and top_srcdir set (absolute).
# Imports tests/unit/data/lint-mistakes.json (a mistake seeded for every
# lint finding) and lint-clean.json (none), answers DNS from a zone file
# (--zone: no network), and asserts the findings, the JSON form, the
# exit statuses (lint: 1 on an error; policy-test: 0 allowed, 77
# denied), the zone records of "dns" and the R8 refusal of "check" for a
# delegated identity used in another region.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

ctl=$top_builddir/ctl/sesgatectl
data=$top_srcdir/tests/unit/data

[ -x "$ctl" ] || sg_skip "$ctl is not built"

sg_setup
mkdir -p "$sg_tmp/bad" "$sg_tmp/good"
cat >"$sg_tmp/map" <<END
@example.com us-east-1
@shop.example.net eu-west-1
@pending.example.org eu-west-1
@za.example.com af-south-1
END
printf '%s\n' '[email-smtp.us-east-1.amazonaws.com]:587 AKIAEXAMPLE:AnkqhOiWEcszZZzTMCQbOY1sPGoLFgMH9zhp4eNgSjo4' \
    '[email-smtp.eu-west-1.amazonaws.com]:587 AKIAEXAMPLE:BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2' \
    >"$sg_tmp/sasl_passwd"
cat >"$sg_tmp/delegations" <<END
delegate arn:aws:ses:us-east-1:999988887777:identity/partner.example sasl:alice owner=production user=arn:aws:iam::111122223333:user/relay
delegate arn:aws:ses:ap-south-1:999988887777:identity/far.example *
principal alice arn:aws:iam::444455556666:user/app
principal client:192.0.2.0/24 arn:aws:iam::444455556666:user/app
END
cat >"$sg_tmp/zone" <<END
; answers for lint --zone
use1tok._domainkey.example.com.  IN  CNAME  use1tok.dkim.amazonses.com.
mail.shared.example.com.  IN  MX  10 feedback-smtp.eu-west-1.amazonses.com.
mail.shared.example.com.  IN  TXT  "v=spf1 include:amazonses.com ~all"
example.com.  IN  MX  10 inbound-smtp.eu-west-1.amazonaws.com.
END
bad=$sg_tmp/bad.conf
cat >"$bad" <<END
state_dir = $sg_tmp/bad
default_region = us-east-1
sender_region_map = $sg_tmp/map
milter_default_config_set = transactional
sasl_passwd = $sg_tmp/sasl_passwd
delegations = $sg_tmp/delegations
END
grep -v far.example "$sg_tmp/delegations" >"$sg_tmp/delegations-good"
good=$sg_tmp/good.conf
cat >"$good" <<END
state_dir = $sg_tmp/good
default_region = us-east-1
milter_default_config_set = transactional
delegations = $sg_tmp/delegations-good
aws_account_id = 111122223333
END

sg_case "import the seeded snapshots"
sg_run "$ctl" -c "$bad" import "$data/lint-mistakes.json"
assert_exit 0
sg_run "$ctl" -c "$good" import "$data/lint-clean.json"
assert_exit 0

# ---- lint: every seeded mistake ---------------------------------------
sg_case "lint finds every seeded mistake"
sg_run "$ctl" -c "$bad" lint --zone "$sg_tmp/zone"
assert_exit 1
assert_out_has "error R2 eu-west-1 @shop.example.net $sg_tmp/map:2: @shop.example.net is mapped to eu-west-1 but verified only in us-east-1"
assert_out_has "error R2 eu-west-1 @pending.example.org $sg_tmp/map:3: @pending.example.org is mapped to eu-west-1 but no verified identity covers it there"
assert_out_has "error R6 us-east-1 example.com -: DKIM status is PENDING in us-east-1"
assert_out_has "error R6 us-east-1 shop.example.net -: DKIM signing is disabled in us-east-1"
assert_out_has "warning R6 us-east-1 example.com use2tok._domainkey.example.com. CNAME use2tok.dkim.amazonses.com.: DKIM CNAME of us-east-1 is missing"
assert_no_line "warning R6 us-east-1 example.com use1tok._domainkey.example.com. CNAME use1tok.dkim.amazonses.com.: DKIM CNAME of us-east-1 is missing; fix: publish this record"
assert_out_has "afs1tok._domainkey.za.example.com. CNAME afs1tok.dkim.af-south-1.amazonses.com."
assert_out_has "MAIL FROM domain bounce.other.org is not a subdomain of example.com"
assert_out_has "MAIL FROM domain bounce.other.org is FAILED with BehaviorOnMxFailure REJECT_MESSAGE"
assert_out_has "error R6 us-east-1 - bounce.other.org. MX 10 feedback-smtp.us-east-1.amazonses.com.: MAIL FROM domain bounce.other.org has 0 MX record(s)"
assert_out_has "MAIL FROM domain bounce.other.org has no SPF record"
assert_out_has "info R6 - - mail.shared.example.com: MAIL FROM domain mail.shared.example.com serves eu-west-1, us-east-1 (fine): bounces go first to eu-west-1"
assert_out_has "error R7 us-east-1 example.com arn:aws:sns:eu-west-1:111122223333:bounces: BounceTopic is in eu-west-1, not in us-east-1"
assert_out_has "error R7 us-east-1 example.com -: feedback forwarding is disabled without both a bounce and a complaint topic"
assert_out_has "warning R8 us-east-1 example.com policy odd: statement 0: unknown condition operator StringSortOf"
assert_out_has "warning R8 us-east-1 example.com policy wrong: statement 0: Resource does not name arn:aws:ses:us-east-1:111122223333:identity/example.com"
assert_out_has "warning R8 ap-south-1 far.example $sg_tmp/delegations:2: delegated identity"
assert_out_has "warning R8 - - $sg_tmp/delegations: 2 principal line(s), but aws_account_id is not set: identity policies are not evaluated in live decisions"
assert_out_has "error R10 us-east-1 receipt rule store arn:aws:sns:eu-west-1:111122223333:inbound"
assert_out_has "error R10 us-east-1 receipt rule store arn:aws:lambda:us-west-2:111122223333:function:sort"
assert_out_has "error R10 us-east-1 receipt rule store arn:aws:kms:eu-west-1:111122223333:key/abc"
assert_no_line "any-region-bucket"
assert_out_has "error R10 eu-west-1 example.com example.com. MX 10 inbound-smtp.eu-west-1.amazonaws.com: example.com's MX points at inbound-smtp.eu-west-1.amazonaws.com but eu-west-1 has no active receipt rule set"
assert_out_has "warning R1 af-south-1 - email-smtp.af-south-1.amazonaws.com: af-south-1 is used for sending but AWS does not document an SMTP endpoint there"
assert_out_has "error R11 us-east-1 - transactional: milter_default_config_set names transactional, which does not exist in us-east-1"
assert_out_has "warning R9 us-east-1 - $sg_tmp/sasl_passwd:1: legacy (pre-2019) SMTP password"
assert_no_line "warning R9 eu-west-1 - $sg_tmp/sasl_passwd:2: legacy (pre-2019) SMTP password for [email-smtp.eu-west-1.amazonaws.com]:587: legacy credentials should be replaced; fix: derive a per-region password from the IAM secret (sesgatectl smtp-password) and replace it"
assert_line "# 15 error(s), 21 warning(s), 1 info"

sg_case "lint --no-dns skips the DNS findings"
sg_run "$ctl" -c "$bad" lint --no-dns
assert_exit 1
assert_no_line "warning R6 us-east-1 example.com use2tok._domainkey.example.com. CNAME use2tok.dkim.amazonses.com.: DKIM CNAME of us-east-1 is missing; fix: publish this record"
assert_out_has "MAIL FROM domain mail.shared.example.com serves eu-west-1, us-east-1 (fine): bounces go first to the region its MX names"

sg_case "lint --json"
sg_run "$ctl" -c "$bad" lint --json --no-dns
assert_exit 1
assert_out_has '"level": "error", "rule": "R7", "region": "us-east-1", "identity": "example.com"'
assert_out_has '"errors": 13,'
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
        "$sg_tmp/stdout"; then
        sg_pass
    else
        sg_fail "lint --json is not JSON"
    fi
fi

sg_case "lint on a clean snapshot, DNS from what dns prints"
"$ctl" -c "$good" dns example.com >"$sg_tmp/zone-good"
"$ctl" -c "$good" dns example.org >>"$sg_tmp/zone-good"
sg_run "$ctl" -c "$good" lint --zone "$sg_tmp/zone-good"
assert_exit 0
assert_out_lines 1
assert_line "# 0 error(s), 0 warning(s), 0 info"
sg_run "$ctl" -c "$good" lint --no-dns --json
assert_exit 0
assert_out_has '"errors": 0, "warnings": 0, "infos": 0'

sg_case "lint usage"
sg_run "$ctl" -c "$good" lint --no-dns --zone x
assert_exit 64

# ---- dns ----------------------------------------------------------------
sg_case "dns DOMAIN"
sg_run "$ctl" -c "$bad" dns shared.example.com
assert_exit 0
assert_line "shu1tok._domainkey.shared.example.com.  IN  CNAME  shu1tok.dkim.amazonses.com."
assert_line "she3tok._domainkey.shared.example.com.  IN  CNAME  she3tok.dkim.eu-west-1.amazonses.com."
assert_line "mail.shared.example.com.  IN  MX  10 feedback-smtp.us-east-1.amazonses.com."
assert_line "mail.shared.example.com.  IN  MX  10 feedback-smtp.eu-west-1.amazonses.com."
assert_line 'mail.shared.example.com.  IN  TXT  "v=spf1 include:amazonses.com ~all"'
assert_line "; af-south-1: no identity shared.example.com (verify it there to send from it)"
sg_run "$ctl" -c "$good" dns nowhere.example
assert_exit 77
sg_run "$ctl" -c "$bad" dns
assert_exit 64

# ---- policy-test ----------------------------------------------------------
arn=arn:aws:ses:us-east-1:111122223333:identity/example.com
sg_case "policy-test allowed by the state's policy"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal arn:aws:iam::444455556666:user/app --from '"Sales" <sales@example.com>' --rcpt a@b.example
assert_exit 0
assert_line "result: ALLOW"
assert_line "# R8: allowed by policy app statement 0 (Sid app)"

sg_case "policy-test through the SASL user's principal"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --sasl-user alice --from sales@example.com --rcpt a@b.example
assert_exit 0

sg_case "policy-test through the client address's principal"
# The client:CIDR line maps 192.0.2.9; the address is aws:SourceIp too.
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --client-addr 192.0.2.9 --from sales@example.com --rcpt a@b.example
assert_exit 0
assert_line "result: ALLOW"
assert_line "# principal arn:aws:iam::444455556666:user/app, action ses:SendRawEmail, resource $arn"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --client-addr 198.51.100.1 --from sales@example.com --rcpt a@b.example
assert_exit 78
assert_err_has "no principal line for client address 198.51.100.1 in $sg_tmp/delegations-good"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --sasl-user bob --client-addr 198.51.100.1 --from sales@example.com --rcpt a@b.example
assert_exit 78
assert_err_has "no principal line for SASL user 'bob' or client address 198.51.100.1"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --client-addr 192.0.2.300 --from sales@example.com --rcpt a@b.example
assert_exit 64
assert_err_has "bad --client-addr '192.0.2.300'"

sg_case "policy-test denied"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 777788889999 --from sales@example.com --rcpt a@b.example
assert_exit 77
assert_line "result: REJECT 554 5.7.1 Access denied: User arn:aws:iam::777788889999:root is not authorized to perform ses:SendRawEmail on resource $arn"

sg_case "policy-test with policy files: explicit Deny wins"
cat >"$sg_tmp/allow.json" <<END
{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ses:Send*","Resource":"$arn",
 "Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}
END
cat >"$sg_tmp/deny.json" <<END
{"Statement":[{"Sid":"outside","Effect":"Deny","Principal":"*","Action":"*","Resource":"*",
 "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"},
              "ForAnyValue:StringNotLike":{"ses:Recipients":"*@example.com"}}}]}
END
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from a@example.com --rcpt x@example.com --rcpt y@example.com --source-ip 192.0.2.9 --time 2026-02-01 --policy "$sg_tmp/allow.json" --policy "$sg_tmp/deny.json"
assert_exit 0
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from a@example.com --rcpt x@example.com --rcpt y@example.org --source-ip 192.0.2.9 --time 2026-02-01 --policy "$sg_tmp/allow.json" --policy "$sg_tmp/deny.json"
assert_exit 77
assert_out_has "explicitly denied by policy $sg_tmp/deny.json statement 0 (Sid outside)"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from a@example.com --rcpt x@example.com --source-ip 198.51.100.1 --policy "$sg_tmp/allow.json"
assert_exit 77
# --client-addr stands for aws:SourceIp; --source-ip overrides it.
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --client-addr 192.0.2.9 --from a@example.com --rcpt x@example.com --policy "$sg_tmp/allow.json"
assert_exit 0
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --client-addr 192.0.2.9 --source-ip 198.51.100.1 --from a@example.com --rcpt x@example.com --policy "$sg_tmp/allow.json"
assert_exit 77
printf '{"Statement": [' >"$sg_tmp/broken.json"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from a@example.com --rcpt x@example.com --policy "$sg_tmp/broken.json"
assert_exit 65

sg_case "policy-test: ses:FromDisplayName is the display name without its quotes"
cat >"$sg_tmp/display.json" <<END
{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ses:SendRawEmail","Resource":"$arn",
 "Condition":{"StringEquals":{"ses:FromDisplayName":"Sales, EU"}}}]}
END
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from '"Sales, EU" <sales@example.com>' --rcpt x@example.com --policy "$sg_tmp/display.json"
assert_exit 0
assert_line "result: ALLOW"
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --principal 444455556666 --from '"Sales" <sales@example.com>' --rcpt x@example.com --policy "$sg_tmp/display.json"
assert_exit 77

sg_case "policy-test usage"
sg_run "$ctl" -c "$good" policy-test --identity not-an-arn --principal 1 --from a@b.example --rcpt d@e.example
assert_exit 64
sg_run "$ctl" -c "$good" policy-test --identity "$arn" --from a@b.example --rcpt d@e.example
assert_exit 64

# ---- check: delegated identity in its region and in another -------------
sg_case "check: delegated identity in its region"
sg_run "$ctl" -c "$good" check --region us-east-1 --sasl-user alice --from news@partner.example --header-from news@partner.example --rcpt x@anywhere.example
assert_exit 0
assert_line "message: ACCEPT"

sg_case "check: delegated identity relayed to another region"
sg_run "$ctl" -c "$good" check --region eu-west-1 --sasl-user alice --from news@partner.example --rcpt x@anywhere.example
assert_exit 77
assert_line "message: REJECT 554 5.7.1 Access denied: User arn:aws:iam::111122223333:user/relay is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:999988887777:identity/partner.example (identity in region us-east-1, message relayed to region eu-west-1)"

sg_summary
