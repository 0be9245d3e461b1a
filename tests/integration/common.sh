#!/bin/sh
# tests/integration/common.sh - the helpers that lib.sh and
# postfix-lib.sh share (POSIX sh); both source it, tests do not.
#
#   sg_vg CMD ARGS...     run CMD, under $SESGATE_VALGRIND when set
#   sg_keep_logs DIR      keep DIR's logs for the secrets scan

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
