#!/bin/sh
# tests/integration/common.sh - the helpers that lib.sh and
# postfix-lib.sh share (POSIX sh); both source it, tests do not.
#
#   sg_vg CMD ARGS...     run CMD, under $SESGATE_VALGRIND when set
#   sg_keep_logs DIR      keep DIR's logs for the secrets scan
#   sg_skip TEXT...       skip the whole script: exit 77 (1 under
#                         SESGATE_SKIPS_AS_FAILS=1)
#   sg_need_built PROG... exit 77 (1 under SESGATE_SKIPS_AS_FAILS=1)
#                         unless each PROG is built
#   sg_tmpdir NAME        temp dir sesgate-NAME.XXXXXX (mode 0755) in
#                         $T; the caller's cleanup() runs on exit, HUP,
#                         INT and TERM exit 1
#   sg_tmpdir_remove DIR  sg_keep_logs DIR, then remove it (kept when
#                         KEEP is set)
#   sg_ok                 one assertion passed
#   sg_bad TEXT           one assertion failed: "FAIL: $sg_what: TEXT"
#   sg_check WHAT CMD...  one assertion: CMD succeeds, else sg_bad WHAT
#   sg_tally              "N passed, M failed" of the above; status 1
#                         if any failed
#   sg_no_report LOG      LOG has no ASan/LSan/UBSan report (prints it)
#   sg_daemon_start LOG PROG ARGS...
#                         PROG ARGS in the background (under
#                         $SESGATE_VALGRIND), output to LOG (emptied
#                         first); pid in $SG_DAEMON_PID; waits until LOG
#                         says "listening on" (30 s), else prints LOG,
#                         empties SG_DAEMON_PID and returns 1
#   sg_daemon_stop PID    SIGTERM PID (if set), wait; its exit status
#   sg_policy_send ADDR   the policy request(s) on stdin to ADDR
#                         (HOST:PORT, or a unix socket path); prints the
#                         answer's first line, "(closed)" if none
#   sg_proc_rss PID       VmRSS of PID in kB (empty when it is gone)
#   sg_proc_fds PID       open descriptors of PID
#   sg_state_json FILE [SUPPRESSED [MAX24 [RATE]]]
#                         a state snapshot for sesgatectl import:
#                         eu-west-1, example.com verified, quotas no load
#                         reaches unless MAX24 (Max24HourSend) and RATE
#                         (MaxSendRate) say; SUPPRESSED the JSON list
#                         (default: gone@example.net, BOUNCE)

# sg_vg - run a command; one of ours under $SESGATE_VALGRIND when set
sg_vg() {
    case ${SESGATE_VALGRIND:+x}:${1##*/} in
    x:sesgatectl | x:sesgate-policyd | x:sesgate-milter)
        # shellcheck disable=SC2086
        $SESGATE_VALGRIND "$@" ;;
    *) "$@" ;;
    esac
}

# sg_keep_logs DIR - before DIR is removed, copy its logs and captured
# output (*.log, *.out, *.err, stdout, stderr, maillog) to
# $SESGATE_KEEP_LOGS/SCRIPT.PID/ when that is set: tests/run-all.sh
# greps them all for the test secrets once the suite has run.
sg_keep_logs() {
    [ -n "${SESGATE_KEEP_LOGS:-}" ] && [ -d "${1:-}" ] || return 0
    _k="$SESGATE_KEEP_LOGS/${0##*/}.$$"
    mkdir -p "$_k" || return 0
    (cd "$1" && find . -type f -size -20M \( -name '*.log' -o \
        -name '*.out' -o -name '*.err' -o -name stdout -o -name stderr \
        -o -name 'maillog*' \) -exec cp --parents {} "$_k/" \;) \
        2>/dev/null || true
}

# sg_skip - skip the whole script (a failure in CI)
sg_skip() {
    if [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ]; then
        echo "FAIL: would skip, but SESGATE_SKIPS_AS_FAILS=1: $*"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

# sg_need_built PROG... - each PROG must be an executable: built
sg_need_built() {
    for _p in "$@"; do
        if [ ! -x "$_p" ]; then
            echo "not built: $_p"
            [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
            exit 77
        fi
    done
}

# sg_tmpdir NAME - a temp dir in $T (0755: Postfix's users reach it);
# the caller's cleanup() runs on exit, a signal exits 1
sg_tmpdir() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-$1.XXXXXX")
    chmod 0755 "$T"
    trap cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

# sg_tmpdir_remove DIR - keep its logs for the secrets scan, remove it
# unless KEEP is set (to look at it by hand)
sg_tmpdir_remove() {
    sg_keep_logs "$1"
    [ -n "${KEEP:-}" ] || rm -rf "$1"
}

# The assertions of the fault and load scripts: sg_what names the case.
sg_npassed=0
sg_nfailed=0
sg_what=
sg_ok() { sg_npassed=$((sg_npassed + 1)); }
sg_bad() {
    sg_nfailed=$((sg_nfailed + 1))
    echo "FAIL: $sg_what: $*"
}
# sg_check WHAT CMD... - one assertion: CMD succeeds
sg_check() {
    _what=$1
    shift
    if "$@"; then sg_ok; else sg_bad "$_what"; fi
}
# sg_tally - the summary line; 1 if anything failed
sg_tally() {
    echo "$sg_npassed passed, $sg_nfailed failed"
    [ "$sg_nfailed" = 0 ]
}

# sg_no_report LOG - no ASan/LSan/UBSan report in a daemon's log
sg_no_report() {
    if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
        grep -E -A 20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" |
            head -n 40
        return 1
    fi
}

# sg_daemon_start LOG PROG ARGS... - a daemon of ours in the foreground
# mode, in the background; SG_DAEMON_PID once it says "listening on"
sg_daemon_start() {
    _log=$1
    shift
    : >"$_log"
    # shellcheck disable=SC2086
    ${SESGATE_VALGRIND:-} "$@" >>"$_log" 2>&1 &
    SG_DAEMON_PID=$!
    for _ in $(seq 1 300); do
        grep -q 'listening on' "$_log" 2>/dev/null && return 0
        kill -0 "$SG_DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "${1##*/} did not start:"
    cat "$_log"
    SG_DAEMON_PID=
    return 1
}

# sg_daemon_stop PID - SIGTERM and reap it; its exit status (0 without
# a PID)
sg_daemon_stop() {
    [ -n "${1:-}" ] || return 0
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# sg_policy_send ADDR - send stdin to a policy daemon at HOST:PORT or a
# unix socket path; print the first line of the answer
sg_policy_send() {
    timeout 15 python3 -c 'import socket, sys
addr = sys.argv[1]
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(addr)
else:
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(sys.stdin.buffer.read())
b = b""
while not b.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d:
        break
    b += d
print(b.decode().split("\n")[0] if b else "(closed)")' "$1"
}

# sg_proc_rss PID - its VmRSS in kB; sg_proc_fds PID - its descriptors
sg_proc_rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
sg_proc_fds() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# sg_state_json FILE [SUPPRESSED [MAX24 [RATE]]] - the account of the
# fault, load and quota tests, to import: eu-west-1, production,
# example.com verified; SUPPRESSED a JSON array (default: one address),
# MAX24 and RATE its Max24HourSend and MaxSendRate (default: high
# enough never to refuse)
sg_state_json() {
    if [ $# -ge 2 ]; then
        _supp=$2
    else
        _supp='[ { "EmailAddress": "gone@example.net", "Reason": "BOUNCE",
                    "LastUpdateTime": "2026-11-01T00:00:00Z" } ]'
    fi
    cat >"$1" <<JSON
{ "sesgate_state": 1, "regions": { "eu-west-1": {
  "account": { "ProductionAccessEnabled": true, "SendingEnabled": true,
    "SendQuota": { "Max24HourSend": ${3:-100000000},
                   "MaxSendRate": ${4:-1000000}, "SentLast24Hours": 0 } },
  "identities": [ { "IdentityName": "example.com", "IdentityType": "DOMAIN",
                    "VerificationStatus": "SUCCESS", "SendingEnabled": true } ],
  "suppressed": $_supp } } }
JSON
}
