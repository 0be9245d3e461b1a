#!/bin/sh
# t-milter.sh - every miltertest scenario of tests/integration/milter/
#
# Runs each t-<scenario> (t-<scenario>.lua with t-<scenario>.conf, in
# OpenDKIM's layout) against the built sesgate-milter and prints
# "N passed, M failed". As root, also checks that the milter refuses to
# start with milter_user empty or root (exit 78, the error on stderr).
# Exit 77 when miltertest is missing (a failure under
# SESGATE_SKIPS_AS_FAILS=1), 1 when a scenario failed.

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

if ! command -v miltertest >/dev/null 2>&1; then
    if [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ]; then
        echo "FAIL: miltertest missing and SESGATE_SKIPS_AS_FAILS=1"
        exit 1
    fi
    echo "SKIP: miltertest missing (Debian package miltertest)"
    exit 77
fi
if [ ! -x "$top_builddir/milter/sesgate-milter" ]; then
    echo "FAIL: $top_builddir/milter/sesgate-milter not built"
    exit 1
fi

passed=0
failed=0
for lua in "$here"/milter/t-*.lua; do
    name=$(basename "$lua" .lua)
    name=${name#t-}
    if sh "$here/milter/run-one.sh" "$name"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

# refuse_root USER WANT - as root, with milter_user = USER the milter
# must exit 78 before serving, WANT on stderr, no socket left behind
refuse_root() {
    rtmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-mr.XXXXXX") || exit 99
    mkdir "$rtmp/state"
    printf 'state_dir = %s\ndefault_region = us-east-1\n' "$rtmp/state" \
        > "$rtmp/sesgate.conf"
    printf 'sender_region_map = %s\nmilter_user = %s\n' \
        "$here/milter/sender_region_map" "$1" >> "$rtmp/sesgate.conf"
    printf 'milter_socket_group =\n' >> "$rtmp/sesgate.conf"
    "$top_builddir/ctl/sesgatectl" -c "$rtmp/sesgate.conf" import \
        "$here/milter/state.json" > "$rtmp/import.out" 2>&1
    "$top_builddir/milter/sesgate-milter" -f -c "$rtmp/sesgate.conf" \
        -p "unix:$rtmp/milter.sock" > "$rtmp/out" 2> "$rtmp/err" &
    rpid=$!
    i=0
    while kill -0 "$rpid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$rpid" 2>/dev/null; then
        kill "$rpid"
        wait "$rpid"
        echo "FAIL root-refused ($1): the milter kept running as root"
        failed=$((failed + 1))
    else
        wait "$rpid"
        rc=$?
        if [ $rc -eq 78 ] && grep -qF -- "$2" "$rtmp/err" \
                && [ ! -e "$rtmp/milter.sock" ]; then
            echo "PASS root-refused ($1): exit 78, $2"
            passed=$((passed + 1))
        else
            echo "FAIL root-refused ($1): exit $rc, want 78 and: $2"
            cat "$rtmp/import.out" "$rtmp/err"
            failed=$((failed + 1))
        fi
    fi
    rm -rf "$rtmp"
}

# Started as root: milter_user empty or naming a uid-0 user -> refused.
if [ "$(id -u)" = 0 ]; then
    refuse_root "" "sesgate-milter: started as root and milter_user is empty: refusing to run as root (set milter_user)"
    refuse_root root "sesgate-milter: milter_user 'root' is root (uid 0): refusing to run as root"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
