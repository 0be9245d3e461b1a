#!/bin/sh
# tests/integration/t-quota.sh - the embedded quota backend under a race
#   and a kill -9
#
# Run by "make check" with top_builddir and top_srcdir set (absolute).
# quota_race (tests/integration/quota_race.c) runs 8 processes x 2
# threads reserving and committing 1- and 3-recipient messages against
# a daily quota of 5,000 at a high rate: exactly 5,000 must be admitted
# and every refusal must name the daily limit. Then a process holding a
# reservation is killed with SIGKILL: the counts survive, the region
# lock is not left held, and the hold is released after
# quota_reservation_timeout (2 s here).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

race=$top_builddir/tests/integration/quota_race
[ -x "$race" ] || sg_skip "$race is not built"

sg_setup
mkdir "$sg_tmp/state"
conf=$sg_tmp/sesgate.conf
cat >"$conf" <<EOF2
# written by t-quota.sh
state_dir = $sg_tmp/state
quota_reservation_timeout = 2
EOF2

# value NAME - the figure NAME from the last run's stdout
value() {
    sed -n "s/^$1 //p" "$sg_tmp/stdout"
}

# assert_value NAME WANT - the figure NAME is WANT
assert_value() {
    if [ "$(value "$1")" = "$2" ]; then
        sg_pass
    else
        sg_fail "$1 is '$(value "$1")', want $2"
    fi
}

sg_case "8 processes x 2 threads race for a daily quota of 5000"
sg_run "$race" -c "$conf" -P 8 -T 2 -m 5000 race
assert_exit 0
assert_value admitted 5000
assert_value refused_rate 0
assert_value errors 0
assert_value sent_24h 5000
if [ "$(value refused_daily)" -ge 16 ] 2>/dev/null; then
    sg_pass
else
    sg_fail "refused_daily is '$(value refused_daily)', want >= 16"
fi

sg_case "a spent quota stays spent for a new process"
sg_run "$race" -c "$conf" -P 2 -T 2 -m 5000 race
assert_exit 0
assert_value admitted 0
assert_value sent_24h 5000

sg_case "a second region races on its own"
sg_run "$race" -c "$conf" -r us-east-1 -P 4 -T 2 -m 777 race
assert_exit 0
assert_value admitted 777
assert_value sent_24h 777

sg_case "kill -9 mid-transaction"
"$race" -c "$conf" -r eu-central-1 -m 100 hold txn-killed 7 \
    >"$sg_tmp/hold.out" 2>&1 &
pid=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q held "$sg_tmp/hold.out"; do
    sleep 0.05
    i=$((i + 1))
done
sg_cmd="quota_race hold txn-killed 7"
if grep -q held "$sg_tmp/hold.out"; then sg_pass; else sg_fail "no hold"; fi
kill -9 "$pid"
wait "$pid" 2>/dev/null
sg_run "$race" -c "$conf" -r eu-central-1 -m 100 usage
assert_exit 0
assert_value reserved 7
assert_value sent_24h 0
sg_run "$race" -c "$conf" -r eu-central-1 -m 100 send 90
assert_exit 0
assert_value admitted 90

sg_case "counts intact after the kill; hold released after the timeout"
sleep 2.2
sg_run "$race" -c "$conf" -r eu-central-1 -m 100 usage
assert_exit 0
assert_value reserved 0
assert_value sent_24h 90
sg_run "$race" -c "$conf" -r eu-central-1 -m 100 send 10
assert_exit 0
assert_value admitted 10
sg_run "$race" -c "$conf" -r eu-west-1 -m 5000 usage
assert_value sent_24h 5000

sg_summary
