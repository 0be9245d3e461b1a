#!/bin/sh
# run-one.sh - run one miltertest scenario t-NAME{.conf,.lua}
#
# Usage: run-one.sh NAME (from the t-NAME wrapper or t-milter.sh).
# Imports state.json into a fresh state_dir (nobody's when run as
# root: the scenarios' milter_user), writes the scenario's
# .conf with @STATE_DIR@, @MAP@, @TMP@ and @DIR@ (this directory)
# replaced and SG_EXTRA_CONF (lines, if set) appended, and runs
# "miltertest -s t-NAME.lua" with SG_MILTER, SG_CONF, SG_SOCK and
# SG_LUALIB (lib.lua, the scenarios' shared prelude) in the
# environment; the script starts the milter itself (sg.start()).
# Every "-- expect-log: TEXT" line of the .lua must then appear in the
# milter's log (its stderr, -f), and no "-- expect-no-log: TEXT" line.
# Exit: 0 pass, 1 fail, 77 miltertest missing (1 under
# SESGATE_SKIPS_AS_FAILS=1).

name=$1
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
if ! command -v miltertest >/dev/null 2>&1; then
    if [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ]; then
        echo "FAIL: miltertest missing and SESGATE_SKIPS_AS_FAILS=1"
        exit 1
    fi
    echo "SKIP: miltertest missing (Debian package miltertest)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-mt.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/state"
# As root the milter becomes milter_user (nobody, in every .conf; the
# milter ignores it otherwise): the state directory is nobody's before
# the import, so that the store files are handed to nobody.
if [ "$(id -u)" = 0 ]; then
    chown nobody "$tmp/state" || exit 99
fi
sed -e "s|@STATE_DIR@|$tmp/state|g" -e "s|@MAP@|$here/sender_region_map|g" \
    -e "s|@TMP@|$tmp|g" -e "s|@DIR@|$here|g" "$here/t-$name.conf" \
    > "$tmp/sesgate.conf"
if [ -n "${SG_EXTRA_CONF:-}" ]; then
    printf '%s\n' "$SG_EXTRA_CONF" >> "$tmp/sesgate.conf"
fi
if ! "$top_builddir/ctl/sesgatectl" -c "$tmp/sesgate.conf" import \
        "$here/state.json" > "$tmp/import.out" 2>&1; then
    echo "FAIL t-$name: import"; cat "$tmp/import.out"; exit 1
fi
SG_MILTER=$top_builddir/milter/sesgate-milter
SG_CONF=$tmp/sesgate.conf
SG_SOCK=unix:$tmp/milter.sock
SG_LUALIB=$here/lib.lua
export SG_MILTER SG_CONF SG_SOCK SG_LUALIB
(cd "$here" && miltertest -s "t-$name.lua") > "$tmp/mt.out" 2> "$tmp/mt.err"
rc=$?
sleep 0.2
fail=0
if [ $rc -ne 0 ]; then
    echo "FAIL t-$name: miltertest exit $rc"
    fail=1
fi
grep '^-- expect-log: ' "$here/t-$name.lua" | sed 's/^-- expect-log: //' |
while IFS= read -r want; do
    if ! grep -qF -- "$want" "$tmp/mt.err"; then
        echo "FAIL t-$name: log lacks: $want"
        echo x >> "$tmp/logfail"
    fi
done
grep '^-- expect-no-log: ' "$here/t-$name.lua" |
    sed 's/^-- expect-no-log: //' |
while IFS= read -r bad; do
    if grep -qF -- "$bad" "$tmp/mt.err"; then
        echo "FAIL t-$name: log has: $bad"
        echo x >> "$tmp/logfail"
    fi
done
[ -f "$tmp/logfail" ] && fail=1
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/mt.err"; then
    echo "FAIL t-$name: sanitizer report"
    fail=1
fi
if [ $fail -ne 0 ]; then
    echo "--- miltertest stdout"; cat "$tmp/mt.out"
    echo "--- miltertest/milter stderr"; cat "$tmp/mt.err"
    exit 1
fi
echo "PASS t-$name"
exit 0
