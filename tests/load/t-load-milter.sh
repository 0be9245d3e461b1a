#!/bin/bash
# t-load-milter.sh - sesgate-milter behind a real Postfix under
#   SESSIONS parallel SMTP sessions for DURATION seconds
#
# Environment: SESSIONS (default 100), DURATION (default 600; CI runs
# it short, e.g. DURATION=30), SAMPLE (seconds between samples of the
# milter's VmRSS and descriptors, default 5), KIND (inet or unix, the
# milter's socket, default inet), PER_CONN (transactions per SMTP
# connection before QUIT and a new one, default 20), QUOTA_BACKEND
# (embedded, the default, or redis: a throwaway redis-server on a
# loopback port holds the quota counters; the run also asserts that
# Redis counted every accepted message, and prints how many quota
# operations shared a script call: few at this rate, where calls seldom
# overlap and nothing waits to be coalesced).
#
# Each session is a loopback SMTP client (Python asyncio, one connection
# at a time) sending, in turn:
#   ok    ok@example.com -> one recipient           250 ... queued
#   from  bad@unverified.test                        554 5.7.1 at MAIL
#   supp  ok@example.com -> gone@example.net         550 5.1.1 at RCPT
#   mixed ok@example.com -> one recipient + gone@    550 for gone@, 250
# and checks every reply (banner, EHLO, MAIL, RCPT, DATA, end of data,
# RSET, QUIT) against the expected one. Asserts: some transactions of
# every kind ran, zero unexpected replies or connection errors, the
# sink got exactly the accepted messages and none from a refused sender
# or to a refused recipient, the queue drained; the milter's descriptor
# count once the load is over is the one it had idle before it (no fd
# leak); its RSS grew by no more than 50 % from the first sample under
# load to the last (the first samples include warm-up). Prints the
# first/last/max RSS and descriptors and the drift.
#
# Prints "N passed, M failed". Exit 77 without the peers (or root); a
# failure instead when SESGATE_SKIPS_AS_FAILS=1.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/integration/postfix-lib.sh
. "$top_srcdir/tests/integration/postfix-lib.sh"
# shellcheck source=tests/integration/redis-lib.sh
redis_own_trap=0
. "$top_srcdir/tests/integration/redis-lib.sh"

milter=$top_builddir/milter/sesgate-milter
ctl=$top_builddir/ctl/sesgatectl
SESSIONS=${SESSIONS:-100}
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-5}
KIND=${KIND:-inet}
PER_CONN=${PER_CONN:-20}
QUOTA_BACKEND=${QUOTA_BACKEND:-embedded}

pf_need_peers
sg_need_built "$milter" "$ctl"
[ "$QUOTA_BACKEND" = redis ] && redis_need

milter_pid=
sampler=
sg_what=load

cleanup() {
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
    sg_daemon_stop "$milter_pid"
    pf_stop
    redis_stop
    sg_tmpdir_remove "$T"
}
sg_tmpdir mload

D=$T/m
pf_milter_prepare "$D" "$ctl" || { echo "import failed"; exit 1; }
if [ "$QUOTA_BACKEND" = redis ]; then
    sg_tmp=$T
    redis_start
    printf '%s\n' "quota_backend = redis" \
        "redis_url = redis://127.0.0.1:$redis_port/0" >>"$D/sesgate.conf"
    echo "quota counters on redis-server 127.0.0.1:$redis_port"
fi
pf_milter_spec "$KIND" "$D"
LOG=$T/milter.log
sg_daemon_start "$LOG" "$milter" -f -c "$D/sesgate.conf" \
    -p "$PF_MILTER_LISTEN" || exit 1
milter_pid=$SG_DAEMON_PID
# Postfix: smtpd process limit above SESSIONS (master.cf's 100 is the
# default_process_limit's); flow control would only slow the clients.
pf_start "$T/pf" "$(pf_milter_main "$PF_MILTER_SPEC")
default_process_limit = $((SESSIONS + 50))
smtpd_client_connection_count_limit = 0" || { echo "postfix"; exit 1; }
sed -i -E "s/^(127\\.0\\.0\\.1:$PF_SMTP_PORT +inet +n +- +n +- +)100 /\\1$((SESSIONS + 20)) /" \
    "$PF_CONF/master.cf"
pf_reload

# sample LABEL - one "LABEL SECONDS RSS_KB FDS" line; with Redis, FDS
# leaves out the milter's connections to it: the quota backend's pool
# keeps up to four (one per script call in flight) once a load has
# needed them, so they are not descriptors a session left behind
sample() {
    local rss fds
    rss=$(sg_proc_rss "$milter_pid")
    fds=$(sg_proc_fds "$milter_pid")
    if [ "$QUOTA_BACKEND" = redis ]; then
        fds=$((fds - $(ss -Htn state established \
            "( dport = :$redis_port )" | wc -l)))
    fi
    echo "$1 $SECONDS ${rss:-0} $fds"
}

# The driver: SESSIONS asyncio clients, one JSON summary line.
cat >"$T/load.py" <<'PY'
import asyncio, json, sys, time

port, sessions, duration, per_conn = (int(a) for a in sys.argv[1:5])
UP = {
    "from": "554 5.7.1 Message rejected: Email address is not verified. "
            "The following identities failed the check in region "
            "EU-WEST-1: bad@unverified.test",
    "supp": "550 5.1.1 <gone@example.net> is on the Amazon SES "
            "account-level suppression list in region eu-west-1 (reason "
            "BOUNCE, since 2026-11-01T00:00:00Z)",
}
KINDS = ("ok", "from", "supp", "mixed")
st = {"tx": {k: 0 for k in KINDS}, "accepted": 0, "unexpected": 0,
      "conn_errors": 0, "connections": 0, "examples": []}
deadline = time.monotonic() + duration


def unexpected(what):
    st["unexpected"] += 1
    if len(st["examples"]) < 10:
        st["examples"].append(what)


async def reply(r):
    lines = []
    while True:
        line = await asyncio.wait_for(r.readline(), 120)
        if not line:
            raise ConnectionError("connection closed")
        line = line.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return line


async def cmd(r, w, text, want, kind):
    w.write(text.encode() + b"\r\n")
    await w.drain()
    got = await reply(r)
    if not got.startswith(want):
        unexpected("%s: %s -> %s (want %s)" % (kind, text.split(":")[0],
                                                got, want))
        return False
    return True


async def session(sid):
    n = 0
    while time.monotonic() < deadline:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError as e:
            st["conn_errors"] += 1
            await asyncio.sleep(0.5)
            continue
        st["connections"] += 1
        try:
            if not (await reply(r)).startswith("220 "):
                unexpected("banner")
            await cmd(r, w, "EHLO load%d.test" % sid, "250", "ehlo")
            for _ in range(per_conn):
                if time.monotonic() >= deadline:
                    break
                n += 1
                kind = KINDS[(sid + n) % 4]
                tag = "s%d.%d" % (sid, n)
                st["tx"][kind] += 1
                if kind == "from":
                    await cmd(r, w, "MAIL FROM:<bad@unverified.test>",
                              UP["from"], kind)
                    await cmd(r, w, "RSET", "250 ", kind)
                    continue
                await cmd(r, w, "MAIL FROM:<ok@example.com>", "250 2.1.0",
                          kind)
                if kind == "supp":
                    await cmd(r, w, "RCPT TO:<gone@example.net>",
                              UP["supp"], kind)
                    await cmd(r, w, "RSET", "250 ", kind)
                    continue
                await cmd(r, w, "RCPT TO:<%s@example.net>" % tag,
                          "250 2.1.5", kind)
                if kind == "mixed":
                    await cmd(r, w, "RCPT TO:<gone@example.net>",
                              UP["supp"], kind)
                if not await cmd(r, w, "DATA", "354 ", kind):
                    await cmd(r, w, "RSET", "250 ", kind)
                    continue
                body = ("From: ok@example.com\r\nTo: %s@example.net\r\n"
                        "Subject: load %s\r\n\r\nload test %s\r\n.\r\n"
                        % (tag, tag, tag))
                if await cmd(r, w, body.rstrip("\r\n"),
                             "250 2.0.0 Ok: queued as ", kind):
                    st["accepted"] += 1
            await cmd(r, w, "QUIT", "221 ", "quit")
        except (OSError, ConnectionError, asyncio.TimeoutError) as e:
            st["conn_errors"] += 1
            if len(st["examples"]) < 10:
                st["examples"].append("session %d: %r" % (sid, e))
        finally:
            w.close()
            try:
                await w.wait_closed()
            except Exception:
                pass


async def main():
    await asyncio.gather(*(session(i) for i in range(sessions)))

t0 = time.monotonic()
asyncio.run(main())
st["seconds"] = round(time.monotonic() - t0, 1)
print(json.dumps(st))
PY

# Warm-up (the quota and metrics files opened, a thread or two made),
# then the idle baseline.
python3 "$T/load.py" "$PF_SMTP_PORT" 4 2 4 >"$T/warm.json"
sleep 2
base=$(sample idle)
echo "milter idle before the load: RSS $(echo "$base" | cut -d' ' -f3) kB," \
    "$(echo "$base" | cut -d' ' -f4) descriptors"

(
    while kill -0 "$milter_pid" 2>/dev/null; do
        sleep "$SAMPLE"
        sample load
    done
) >"$T/samples" &
sampler=$!
echo "load: $SESSIONS sessions for $DURATION s ($KIND socket), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$T/load.py" "$PF_SMTP_PORT" "$SESSIONS" "$DURATION" "$PER_CONN" \
    >"$T/load.json" 2>"$T/load.err"
echo "load done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=

r=$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
t = s["tx"]
print(s["accepted"], s["unexpected"], s["conn_errors"], s["connections"],
      t["ok"], t["from"], t["supp"], t["mixed"], s["seconds"])
for e in s["examples"]:
    print("  example:", e, file=sys.stderr)' "$T/load.json") ||
    { cat "$T/load.err"; sg_bad "the driver failed"; r="0 1 1 0 0 0 0 0 1"; }
read -r acc unexp cerr conns n_ok n_from n_supp n_mixed secs <<<"$r"
tot=$((n_ok + n_from + n_supp + n_mixed))
echo "transactions: $tot in $secs s, $conns connections, $acc accepted;" \
    "ok $n_ok, from $n_from, supp $n_supp, mixed $n_mixed; $unexp" \
    "unexpected replies, $cerr connection errors"
echo "throughput: $(python3 -c "print(round($tot / $secs, 1))") transactions/s," \
    "$(python3 -c "print(round($acc / $secs, 1))") accepted messages/s"
for k in n_ok n_from n_supp n_mixed; do
    sg_check "some transactions of kind ${k#n_} (${!k})" [ "${!k}" -gt 0 ]
done
sg_check "no unexpected reply ($unexp)" [ "$unexp" = 0 ]
sg_check "no connection error ($cerr)" [ "$cerr" = 0 ]
sg_check "the accepted are ok + mixed ($acc = $n_ok + $n_mixed)" \
    [ "$acc" = $((n_ok + n_mixed)) ]

if [ "$QUOTA_BACKEND" = redis ]; then
    # Every accepted message is a reserve at RCPT and a commit at the
    # end of the message (a refused recipient reserves nothing).
    calls=$(redis_evalsha_calls)
    ops=$((2 * acc))
    echo "redis: ${calls:-?} EVALSHA calls for at least $ops quota" \
        "operations ($(python3 -c "print(round($ops / max(${calls:-0}, 1), 1))")" \
        "per call)"
    sg_check "the milter's quota calls went to Redis (${calls:-?})" \
        [ "${calls:-0}" -gt 0 ]
    sent=$("$ctl" -c "$D/sesgate.conf" status --json --region eu-west-1 |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
r = d["regions"]["eu-west-1"] if "regions" in d else d
print(int(r["sent_24h"]))' 2>/dev/null)
    sg_check "Redis counted every accepted message ($sent >= $acc)" \
        [ "${sent:-0}" -gt 0 -a "${sent:-0}" -ge "$acc" ]
fi

# The sink: every accepted message (plus the warm-up's), nothing refused.
wacc=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["accepted"])' "$T/warm.json")
want=$((acc + wacc))
pf_sink_check "$want" 300 2

# Descriptors back to the idle figure once Postfix closed its milter
# connections; RSS drift over the run.
sg_check "milter alive" kill -0 "$milter_pid"
for _ in $(seq 1 30); do
    after=$(sample after)
    [ "$(echo "$after" | cut -d' ' -f4)" -le "$(echo "$base" | cut -d' ' -f4)" ] &&
        break
    sleep 1
done
read -r _ _ brss bfds <<<"$base"
read -r _ _ arss afds <<<"$after"
python3 - "$T/samples" "$brss" "$bfds" "$arss" "$afds" >"$T/summary" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith("load ")]
rows = [(int(r[1]), int(r[2]), int(r[3])) for r in rows if int(r[2]) > 0]
brss, bfds, arss, afds = (int(a) for a in sys.argv[2:6])
if not rows:
    print("nan no samples")
    sys.exit()
rss = [r[1] for r in rows]
fds = [r[2] for r in rows]
drift = 100.0 * (rss[-1] - rss[0]) / rss[0]
# after the warm-up: from the sample a tenth into the run
w = len(rss) // 10
steady = 100.0 * (rss[-1] - rss[w]) / rss[w]
print("%.1f RSS kB: idle %d, first %d, last %d, max %d, drift %+.1f %% "
      "(%+.1f %% from %d s in), after %d; fds: idle %d, first %d, last %d, "
      "max %d, after %d; %d samples"
      % (drift, brss, rss[0], rss[-1], max(rss), drift, steady,
         rows[w][0] - rows[0][0] + (rows[1][0] - rows[0][0] if len(rows) > 1
                                     else 0),
         arss, bfds, fds[0], fds[-1], max(fds), afds, len(rows)))
PY
drift=$(cut -d' ' -f1 "$T/summary")
echo "milter: $(cut -d' ' -f2- "$T/summary")"
sg_check "milter descriptors back to idle ($afds after, $bfds before)" \
    [ "$afds" -le "$bfds" ]
if grep -q __asan_init "$milter"; then
    # ASan's quarantine holds freed memory back: RSS grows by design
    echo "RSS drift not judged: the milter is built with ASan"
else
    sg_check "RSS drift under load within 50 % ($drift %)" \
        python3 -c "import sys; sys.exit(0 if float('$drift') <= 50 else 1)"
fi
sg_daemon_stop "$milter_pid"
rc=$?
milter_pid=
sg_check "the milter exits 0 on SIGTERM ($rc)" [ "$rc" = 0 ]
sg_check "no sanitizer report in its log" sg_no_report "$LOG"
if [ -n "${SAMPLES_OUT:-}" ]; then
    cp "$T/samples" "$SAMPLES_OUT"
fi

sg_tally
