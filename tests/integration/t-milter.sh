#!/bin/sh
# t-milter.sh - every miltertest scenario of tests/integration/milter/
#
# Runs each t-<scenario> (t-<scenario>.lua with t-<scenario>.conf, in
# OpenDKIM's layout) against the built sesgate-milter and prints
# "N passed, M failed". Exit 77 when miltertest is missing (a failure
# under SESGATE_SKIPS_AS_FAILS=1), 1 when a scenario failed.

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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
