#!/bin/sh
# tests/integration/lib.sh - helpers for the integration tests (POSIX sh)
#
# Source it from a test script after setting nothing: it finds
# top_srcdir and top_builddir (make check exports both, absolute) or
# derives them from the script's location when run by hand.
#
#   sg_setup              temp dir in $sg_tmp, removed on exit
#   sg_skip REASON        exit 77 (SKIP); a failure (exit 1) when
#                         SESGATE_SKIPS_AS_FAILS=1, as CI sets it
#   sg_case NAME          name the assertions that follow
#   sg_run CMD ARGS...    run, keep stdout/stderr/exit status
#   assert_exit N         the last run exited N
#   assert_line TEXT      stdout has a line that is exactly TEXT
#   assert_no_line TEXT   stdout has no line that is exactly TEXT
#   assert_out_has TEXT   stdout contains TEXT (fixed string)
#   assert_err_has TEXT   stderr contains TEXT (fixed string)
#   assert_err_match RE   stderr matches the extended regular expression
#   assert_out_lines N    stdout has N lines
#   sg_summary            "N passed, M failed"; exit 1 if any failed
#   sg_vg CMD ARGS...     run CMD, under $SESGATE_VALGRIND when set
#   sg_keep_logs DIR      keep DIR's logs for the secrets scan (scripts
#                         with their own temp dir call it on cleanup)
#
# SESGATE_VALGRIND (tests/run-all.sh sets it for one pass) is a command
# prefix, e.g. "valgrind --leak-check=full --log-file=DIR/%p.log": the
# project's own programs (sesgatectl, sesgate-policyd, sesgate-milter)
# that sg_run or sg_vg starts run under it; peers and tools never do.
#
# Every assertion counts as one test. A failure prints the command, its
# exit status, stdout and stderr, so the .log file says what went wrong.

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
if [ -z "${top_builddir:-}" ]; then
    top_builddir=$top_srcdir
fi

. "$top_srcdir/tests/integration/common.sh"

sg_passed=0
sg_failed=0
sg_casename=
sg_cmd=
sg_rc=
sg_tmp=

# sg_cleanup - remove the temp dir (the EXIT trap)
sg_cleanup() {
    if [ -n "$sg_tmp" ] && [ -d "$sg_tmp" ]; then
        sg_keep_logs "$sg_tmp"
        rm -rf "$sg_tmp"
    fi
}

# sg_setup - make the temp dir and arrange its removal
sg_setup() {
    sg_tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-test.XXXXXX") || {
        echo "ERROR: mktemp failed" >&2
        exit 99
    }
    trap sg_cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

# sg_case - name the assertions that follow
sg_case() {
    sg_casename=$1
}

# sg_run - run a command, keeping its output and exit status
sg_run() {
    sg_cmd="$*"
    sg_vg "$@" >"$sg_tmp/stdout" 2>"$sg_tmp/stderr"
    sg_rc=$?
}

# sg_pass - count a passed assertion
sg_pass() {
    sg_passed=$((sg_passed + 1))
}

# sg_fail - count a failed assertion and show the evidence
sg_fail() {
    sg_failed=$((sg_failed + 1))
    echo "FAIL: $sg_casename: $*"
    echo "  command: $sg_cmd"
    echo "  exit status: $sg_rc"
    echo "  stdout:"
    sed 's/^/    | /' "$sg_tmp/stdout"
    echo "  stderr:"
    sed 's/^/    | /' "$sg_tmp/stderr"
}

# assert_exit - the last run exited with status $1
assert_exit() {
    if [ "$sg_rc" = "$1" ]; then
        sg_pass
    else
        sg_fail "exit status $sg_rc, want $1"
    fi
}

# assert_line - stdout has a line that is exactly $1
assert_line() {
    if grep -Fxq -e "$1" "$sg_tmp/stdout"; then
        sg_pass
    else
        sg_fail "no stdout line: $1"
    fi
}

# assert_no_line - stdout has no line that is exactly $1
assert_no_line() {
    if grep -Fxq -e "$1" "$sg_tmp/stdout"; then
        sg_fail "unexpected stdout line: $1"
    else
        sg_pass
    fi
}

# assert_out_has - stdout contains the fixed string $1
assert_out_has() {
    if grep -Fq -e "$1" "$sg_tmp/stdout"; then
        sg_pass
    else
        sg_fail "stdout lacks: $1"
    fi
}

# assert_err_has - stderr contains the fixed string $1
assert_err_has() {
    if grep -Fq -e "$1" "$sg_tmp/stderr"; then
        sg_pass
    else
        sg_fail "stderr lacks: $1"
    fi
}

# assert_err_match - stderr matches the extended regular expression $1
assert_err_match() {
    if grep -Eq -e "$1" "$sg_tmp/stderr"; then
        sg_pass
    else
        sg_fail "stderr does not match: $1"
    fi
}

# assert_out_lines - stdout has exactly $1 lines
assert_out_lines() {
    n=$(wc -l <"$sg_tmp/stdout" | tr -d ' ')
    if [ "$n" = "$1" ]; then
        sg_pass
    else
        sg_fail "$n stdout lines, want $1"
    fi
}

# sg_summary - report and set the exit status
sg_summary() {
    echo "$sg_passed passed, $sg_failed failed"
    if [ "$sg_failed" -gt 0 ]; then
        exit 1
    fi
    exit 0
}
