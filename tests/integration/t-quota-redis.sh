#!/bin/sh
# t-quota-redis.sh - the Redis quota backend against a real redis-server
#
# A throwaway redis-server on a free loopback port in a temp dir
# (redis-lib.sh). Cases: exactness of a race of 8 processes x 2 threads
# (two of them "another host": their own configuration, through the
# unix socket) against a daily quota of 5,000; the same with 2 x 32
# threads on two regions and two sets of limits, whose operations are
# coalesced into shared script calls, and with redis_batch_max = 1
# (one call per operation); the rolling window, rate
# refill, sync reconciliation and hold expiry with an injected clock;
# reset; SCRIPT FLUSH (scripts reloaded); the server hung (SIGSTOP),
# killed and restarted under a running client (errors within
# redis_timeout, no SIGPIPE death, recovery without a restart);
# sesgate-milter's r4-quota scenario on Redis; sesgate-policyd on Redis
# with 16 policy clients racing for a quota of 400 (exact, SES's text,
# the quota calls of one wakeup in shared script calls; one call each
# with redis_batch_max = 1); a password file. Missing redis-server: SKIP (a failure when
# SESGATE_SKIPS_AS_FAILS=1).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

sg_setup
redis_need
prog=$top_builddir/tests/integration/quota_redis_race
[ -x "$prog" ] || sg_skip "$prog not built (make check builds it)"

redis_start
url=redis://127.0.0.1:$redis_port/0

# out_num KEY - the number after "KEY " in the last run's stdout
out_num() {
    sed -n "s/^$1 \\([0-9]*\\)\$/\\1/p" "$sg_tmp/stdout" | head -n 1
}

# assert_num_le KEY MAX - that number is at most MAX
assert_num_le() {
    n=$(out_num "$1")
    if [ -n "$n" ] && [ "$n" -le "$2" ]; then
        sg_pass
    else
        sg_fail "$1 is '$n', want <= $2"
    fi
}

sg_case "refused server: a clear error, no crash"
dead=$(redis_free_port)
sg_run "$prog" -u "redis://127.0.0.1:$dead" open
assert_exit 1
assert_out_has "redis 127.0.0.1:$dead: connection refused"

sg_case "bad redis_url"
sg_run "$prog" -u "http://127.0.0.1:$redis_port" open
assert_exit 1
assert_out_has "redis_url"
sg_run "$prog" -u "redis://127.0.0.1:99999/0" open
assert_out_has "redis_url: bad port"

sg_case "open through tcp and unix socket"
sg_run "$prog" -u "$url" open
assert_exit 0
sg_run "$prog" -u "unix:$redis_sock?db=0" open
assert_exit 0

sg_case "exactness: 8 processes x 2 threads, 2 as another host, 5000"
sg_run "$prog" -u "$url" -U "unix:$redis_sock" -g race-test \
    race 8 2 2 5000
assert_exit 0
assert_line "admitted 5000"
assert_line "usage_sent 5000"
assert_line "usage_reserved 0"
assert_line "errors 0"
assert_line "denied_rate 0"
n=$(out_num denied_daily)
if [ -n "$n" ] && [ "$n" -ge 16 ]; then sg_pass; else
    sg_fail "denied_daily '$n', want >= 16 (every thread ends refused)"; fi

# assert_calls OP N WHY - the EVALSHA calls since CONFIG RESETSTAT
# compare to N with test's OP (-lt, -gt)
assert_calls() {
    calls=$(redis_evalsha_calls)
    if [ -n "$calls" ] && [ "$calls" "$1" "$2" ]; then sg_pass; else
        sg_fail "EVALSHA calls '$calls', want $1 $2 ($3)"; fi
}

sg_case "coalesced: 2 processes x 32 threads, two regions, two limits"
redis_cli config resetstat >/dev/null
sg_run "$prog" -u "$url" -g race-a -G race-b race 2 32 0 5000
assert_exit 0
assert_line "admitted 5000"
assert_line "usage_sent 5000"
assert_line "admitted2 5000"
assert_line "usage_sent2 5000"
assert_line "usage_reserved 0"
assert_line "errors 0"
assert_line "denied_rate 0"
# 10,000 units were reserved one per operation, and each message was
# committed: far more operations than script calls, unless nothing was
# carried together.
assert_calls -lt 10000 coalesced

sg_case "redis_batch_max = 1: one script call per operation"
redis_cli config resetstat >/dev/null
sg_run "$prog" -u "$url" -g race-one -b 1 race 4 8 0 5000
assert_exit 0
assert_line "admitted 5000"
assert_line "usage_sent 5000"
assert_line "errors 0"
assert_calls -gt 5000 "one per reserve"

sg_case "sesgate-milter on Redis: the r4-quota miltertest scenario"
# The same scenario as t-r4-quota (rate text at the second recipient,
# daily text, an aborted message's hold released), with the counters on
# this redis-server: reserve, release and commit through the milter's
# threads and the coalescing path.
SG_EXTRA_CONF="quota_backend = redis
redis_url = $url"
export SG_EXTRA_CONF
sg_run sh "$top_srcdir/tests/integration/milter/run-one.sh" r4-quota
unset SG_EXTRA_CONF
if [ "$sg_rc" = 77 ]; then
    echo "skip: $sg_casename: miltertest missing"
else
    assert_exit 0
    n=$(redis_cli exists "sesgate:q:{us-west-2}")
    if [ "$n" = 1 ]; then sg_pass; else
        sg_fail "no counters for us-west-2 on the server ('$n')"; fi
fi

sg_case "window, rate, sync, holds with an injected clock"
sg_run "$prog" -u "$url" window
assert_exit 0
assert_no_line "$(grep '^FAIL' "$sg_tmp/stdout" | head -n 1)"
assert_line "ok window-aged-out-after-24h-bucket"
assert_line "ok hold-expired-after-timeout"
assert_line "ok sync-no-double-count"

sg_case "reset"
sg_run "$prog" -u "$url" -g reset-test reset
assert_exit 0
assert_line "ok open-after-reset"
assert_line "ok usage-after-reset"

sg_case "SCRIPT FLUSH: reloaded transparently"
sg_run "$prog" -u "$url" -g flush-test flush \
    "redis-cli -h 127.0.0.1 -p $redis_port SCRIPT FLUSH >/dev/null"
assert_exit 0
assert_line "ok after-flush"

sg_case "outage: hung, killed, restarted under a running client"
# 16 more threads on the same handle keep it busy meanwhile: the
# measured operations share script calls with theirs and queue behind
# them, and still none waits much past redis_timeout.
"$prog" -u "$url" -t 1000 -g outage-test outage 10 16 \
    >"$sg_tmp/outage.out" 2>"$sg_tmp/outage.err" &
client=$!
sleep 1
kill -STOP "$redis_pid"
sleep 2.5
kill -CONT "$redis_pid"
sleep 1
redis_stop
sleep 2
redis_start
wait "$client"
sg_rc=$?
cat "$sg_tmp/outage.out"
sg_cmd="quota_redis_race outage 10 16"
cp "$sg_tmp/outage.out" "$sg_tmp/stdout"
cp "$sg_tmp/outage.err" "$sg_tmp/stderr"
assert_exit 0
assert_out_has "timed out (redis_timeout 1000 ms)"
assert_out_has "redis 127.0.0.1:$redis_port: connection refused"
assert_num_le max_fail_ms 1250
assert_num_le busy_max_op_ms 1250
assert_line "last ok"
n=$(out_num busy_ops)
if [ -n "$n" ] && [ "$n" -ge 1000 ]; then sg_pass; else
    sg_fail "busy_ops '$n', want >= 1000"; fi

# policy_race PORT CLIENTS - Postfix-like policy clients racing for the
# quota through one sesgate-policyd: each sends messages of 1 or 3
# recipients, mostly RCPT requests then END-OF-MESSAGE (with the count
# of the recipients it let through), every third without RCPT requests
# (END-OF-MESSAGE alone: reserve and commit in one request); stops after
# five messages in a row whose every recipient got the daily deferral.
# Prints "admitted N" (recipients in messages whose END-OF-MESSAGE got
# DUNNO), "ops N" (reserves and commits asked for), "refusals N",
# "other N" and the first daily deferral as "daily_reply ..." (and the
# first other answer as "other_reply ...").
policy_race() {
    timeout 120 python3 - "$1" "$2" <<'PY'
import socket, sys, threading
port, clients = int(sys.argv[1]), int(sys.argv[2])
REQ = ("request=smtpd_access_policy\nprotocol_state=%s\n"
       "protocol_name=ESMTP\ninstance=%s\nsender=a@example.com\n"
       "recipient=%s\nrecipient_count=%d\nclient_address=127.0.0.1\n"
       "queue_id=\nsize=100\n\n")
lock = threading.Lock()
tot = {"admitted": 0, "ops": 0, "refusals": 0, "other": 0}
first, odd = [], []
start = threading.Barrier(clients)

def ask(s, f, state, inst, rcpt, cnt):
    s.sendall((REQ % (state, inst, rcpt, cnt)).encode())
    line = f.readline().strip()
    f.readline()
    return line

def client(c):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("r")
    mine = {"admitted": 0, "ops": 0, "refusals": 0, "other": 0}
    start.wait()
    dry, i = 0, 0
    while dry < 5 and i < 2000:
        i += 1
        inst = "c%d.m%d" % (c, i)
        n = 3 if i % 4 == 1 else 1
        if i % 3 == 2:
            mine["ops"] += 1
            a = ask(s, f, "END-OF-MESSAGE", inst, "", n)
            ok = n if a == "action=DUNNO" else 0
            if ok:
                mine["ops"] += 1        # its reserve, then its commit
        else:
            ok = 0
            for r in range(n):
                mine["ops"] += 1
                a = ask(s, f, "RCPT", inst, "r%d@example.net" % r, 0)
                if a == "action=DUNNO":
                    ok += 1
                elif "Daily message quota exceeded" in a:
                    mine["refusals"] += 1
                    with lock:
                        if not first:
                            first.append(a)
                else:
                    mine["other"] += 1
                    with lock:
                        if not odd:
                            odd.append(a)
            if ok > 0:
                mine["ops"] += 1
                a = ask(s, f, "END-OF-MESSAGE", inst, "", ok)
                if a != "action=DUNNO":
                    ok = 0
            dry = dry + 1 if ok == 0 else 0
            mine["admitted"] += ok
            continue
        if ok == 0 and "Daily message quota exceeded" not in a:
            mine["other"] += 1
            with lock:
                if not odd:
                    odd.append(a)
        mine["admitted"] += ok
    s.close()
    with lock:
        for k in tot:
            tot[k] += mine[k]

ts = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for k in sorted(tot):
    print(k, tot[k])
print("daily_reply", first[0] if first else "-")
if odd:
    print("other_reply", odd[0])
PY
}

# policyd_race EXTRA - import a quota of 400, start sesgate-policyd on
# this server with the EXTRA configuration line, race 16 clients
# through it, stop it; the counts in $sg_tmp/stdout, the server's
# EVALSHA calls in $calls
policyd_race() {
    pd=$sg_tmp/pd
    chmod 0755 "$sg_tmp"     # sesgate-policyd runs as nobody
    rm -rf "$pd"
    mkdir -p "$pd"
    chmod 0755 "$pd"
    sg_state_json "$pd/state.json" '[]' 400 100000
    cat >"$pd/sesgate.conf" <<CONF
default_region = eu-west-1
state_dir = $pd/state
policyd_user = $([ "$(id -u)" = 0 ] && echo nobody || id -un)
quota_backend = redis
redis_url = $url
$1
CONF
    "$top_builddir/ctl/sesgatectl" -c "$pd/sesgate.conf" import \
        "$pd/state.json" >/dev/null || return 1
    [ "$(id -u)" = 0 ] && chown -R nobody "$pd/state"
    redis_cli del "sesgate:q:{eu-west-1}" "sesgate:q:{eu-west-1}:w" \
        >/dev/null
    pport=$(redis_free_port)
    sg_daemon_start "$pd/policyd.log" "$top_builddir/policy/sesgate-policyd" \
        -c "$pd/sesgate.conf" -f -l "inet:127.0.0.1:$pport" || return 1
    pd_pid=$SG_DAEMON_PID
    redis_cli config resetstat >/dev/null
    sg_cmd="policy_race $pport 16 ($1)"
    policy_race "$pport" 16 >"$sg_tmp/stdout" 2>"$sg_tmp/stderr"
    sg_rc=$?
    calls=$(redis_evalsha_calls)
    sg_daemon_stop "$pd_pid"
    cat "$sg_tmp/stdout"
    echo "redis: ${calls:-?} EVALSHA calls"
}

sg_case "sesgate-policyd on Redis: 16 clients race for a quota of 400"
# The reserves and commits that requests of one wakeup need share
# script calls: fewer calls than operations, the quota exact, SES's
# text for the rest, the server's count exact.
if policyd_race ""; then
    assert_exit 0
    assert_line "admitted 400"
    assert_line "other 0"
    assert_line "daily_reply action=454 4.7.0 Throttling failure: Daily message quota exceeded."
    ops=$(out_num ops)
    if [ -n "$calls" ] && [ -n "$ops" ] && [ "$calls" -lt "$ops" ]; then
        sg_pass; else sg_fail "EVALSHA calls '$calls', want < ops '$ops'"; fi
    sg_run "$top_builddir/ctl/sesgatectl" -c "$pd/sesgate.conf" status \
        --json
    assert_exit 0
    assert_out_has '"sent_24h": 400'
    sg_run grep -E 'warning|error' "$pd/policyd.log"
    assert_exit 1
else
    sg_fail "sesgate-policyd did not run"
fi

sg_case "sesgate-policyd on Redis, redis_batch_max = 1: one call each"
if policyd_race "redis_batch_max = 1"; then
    assert_exit 0
    assert_line "admitted 400"
    assert_line "other 0"
    ops=$(out_num ops)
    if [ -n "$calls" ] && [ "$calls" = "$ops" ]; then
        sg_pass; else sg_fail "EVALSHA calls '$calls', want ops '$ops'"; fi
else
    sg_fail "sesgate-policyd did not run"
fi

sg_case "password file"
redis_stop
redis_pass=s3cret-pw
redis_start --requirepass "$redis_pass"
printf '%s\n' "$redis_pass" >"$sg_tmp/pw"
chmod 600 "$sg_tmp/pw"
sg_run "$prog" -u "$url" -p "$sg_tmp/pw" open
assert_exit 0
sg_run "$prog" -u "$url" open
assert_exit 1
assert_out_has "NOAUTH"
chmod 644 "$sg_tmp/pw"
sg_run "$prog" -u "$url" -p "$sg_tmp/pw" open
assert_out_has "readable by others"
printf 'wrong\n' >"$sg_tmp/pw2"
chmod 600 "$sg_tmp/pw2"
sg_run "$prog" -u "$url" -p "$sg_tmp/pw2" open
assert_exit 1
assert_out_has "AUTH"
if grep -q "$redis_pass" "$sg_tmp/stdout" "$sg_tmp/stderr"; then
    sg_fail "the password appears in the output"
else
    sg_pass
fi

sg_summary
