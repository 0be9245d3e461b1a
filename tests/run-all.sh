#!/bin/sh
# tests/run-all.sh - the whole test suite, from a fresh clone
#
# Installs what is missing (packaging/deps.sh), builds with -Werror, runs
# "make check" (unit suites, integration tests against the real
# programs, the documentation check), then builds again with ASan+UBSan
# and runs "make check" once more; then, while every libFuzzer harness
# runs in the background ("make fuzz", FUZZ_SECONDS each), the fault
# and load tests once (tests/faults, tests/load: sync, milter and
# redis-server killed under load, 100 SMTP sessions through the milter),
# the daemons' integration scenarios under valgrind memcheck (zero
# errors, no definite leak), "make distcheck" and the Debian package
# install test; then the scan of every log for the test secrets. .ci/run
# calls exactly this script. Build trees go to _build/ under the source
# tree.
#
# Environment: SESGATE_SKIPS_AS_FAILS=1 (set by CI) turns a test that
# skips because a peer is missing into a failure. JOBS (default: nproc).
# FUZZ_SECONDS (default 60, the issue's figure).
# VALGRIND_TESTS (default: t-policy.sh t-ctl.sh t-side-by-side.sh
# t-sendmail.sh), SKIP_FUZZ=1, SKIP_VALGRIND=1 and SKIP_FAULTS=1 for a
# quicker local run.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

sh packaging/deps.sh

echo "== autoreconf"
autoreconf -fi >/dev/null

run_check() {
    name=$1
    shift
    echo "== build ($name): configure $*"
    rm -rf "_build/$name"
    mkdir -p "_build/$name"
    (cd "_build/$name" && "$top/configure" -q "$@" >/dev/null &&
        make -j"$jobs" >/dev/null &&
        echo "== make check ($name)" &&
        if ! make -j"$jobs" check; then
            for f in $(find . -name '*.log' -path '*tests*'); do
                echo "---- $f"
                tail -n 60 "$f"
            done
            exit 1
        fi)
}

# tally - add up what one build's test logs say: Check's "Checks: N,
# Failures: F, Errors: E", the scripts' "N passed, M failed", and one per
# other test by its automake result.
total_pass=0
total_fail=0
tally() {
    dir=$1
    for log in $(find "$dir/tests" -name '*.log' ! -name test-suite.log); do
        line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1 || true)
        if [ -n "$line" ]; then
            n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
            f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
            e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
            total_pass=$((total_pass + n - f - e))
            total_fail=$((total_fail + f + e))
            continue
        fi
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
        if [ -n "$line" ]; then
            p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
            f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
            total_pass=$((total_pass + p))
            total_fail=$((total_fail + f))
            continue
        fi
        trs=${log%.log}.trs
        if [ -f "$trs" ] && grep -q ':test-result: PASS' "$trs"; then
            total_pass=$((total_pass + 1))
        else
            total_fail=$((total_fail + 1))
        fi
    done
}

valgrind_tests="t-policy.sh t-ctl.sh t-side-by-side.sh t-sendmail.sh"

# Every test keeps its logs here (lib.sh sg_keep_logs) for the secrets
# scan at the end.
SESGATE_KEEP_LOGS=$top/_build/testlogs
export SESGATE_KEEP_LOGS
rm -rf "$SESGATE_KEEP_LOGS"
mkdir -p "$SESGATE_KEEP_LOGS"

run_check werror --enable-werror
tally _build/werror
run_check sanitizers --enable-werror --enable-sanitizers --enable-debug
tally _build/sanitizers


# run_fuzz - every harness for FUZZ_SECONDS; "fuzz: N passed, M failed".
# In a build tree of its own (configured only: run.sh compiles with
# clang itself), so that no other make runs in the tree meanwhile
# (distcheck does, in _build/werror).
run_fuzz() {
    (rm -rf _build/fuzz && mkdir -p _build/fuzz && cd _build/fuzz &&
        "$top/configure" -q --enable-werror >/dev/null &&
        make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_JOBS=1) \
        >_build/fuzz.log 2>&1
}

# run_valgrind - the daemons' integration scenarios with every program
# of ours under memcheck (lib.sh's sg_vg, postfix-lib.sh's pf_vg_argv);
# then every valgrind log must end in "ERROR SUMMARY: 0 errors" (a
# definite leak counts as an error). "valgrind: N passed, M failed".
run_valgrind() {
    vg=$top/_build/valgrind
    rm -rf "$vg"
    mkdir -p "$vg/logs"
    chmod 1777 "$vg/logs"       # spawn(8) runs the daemon as nobody
    vpass=0
    vfail=0
    for t in ${VALGRIND_TESTS:-$valgrind_tests}; do
        if (cd _build/werror &&
            SESGATE_VALGRIND="$(command -v valgrind) --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite \
--log-file=$vg/logs/%p.log" \
            top_builddir="$top/_build/werror" top_srcdir="$top" \
            bash "$top/tests/integration/$t") >"$vg/$t.log" 2>&1; then
            vpass=$((vpass + 1))
        else
            echo "valgrind: $t failed under valgrind (see $vg/$t.log)"
            tail -n 30 "$vg/$t.log"
            vfail=$((vfail + 1))
        fi
    done
    nlog=0
    for f in "$vg"/logs/*.log; do
        [ -f "$f" ] || continue
        nlog=$((nlog + 1))
        if grep -Eq 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$f"; then
            echo "valgrind: errors in $f:"
            sed -n '1,80p' "$f"
            vfail=$((vfail + 1))
        elif ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
            # killed (SIGKILL) before its summary: nothing to judge
            echo "valgrind: no summary in $f ($(grep -m1 'Command:' "$f"))"
        else
            vpass=$((vpass + 1))
        fi
    done
    if [ "$nlog" = 0 ]; then
        echo "valgrind: no program ran under valgrind"
        vfail=$((vfail + 1))
    fi
    echo "valgrind: $nlog processes checked"
    echo "valgrind: $vpass passed, $vfail failed"
    [ "$vfail" = 0 ]
}

# One fuzzer on one core, in the background, beside the fault and load
# tests, the valgrind pass, distcheck and the install test, which
# mostly wait on Postfix, the sockets and the kills.
fuzz_rc=0
valgrind_rc=0
fuzz_pid=
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    echo "== make fuzz (${FUZZ_SECONDS:-60}s per harness), in the background"
    run_fuzz &
    fuzz_pid=$!
fi

# The fault and load tests (issue 9), once, against the -Werror build:
# they kill daemons, sync and redis-server on purpose and take a minute
# each, so they are not part of "make check". The milter load runs 30 s
# here (its default, 600 s, is the by-hand figure in RESULTS.md) with
# the embedded quota counters, and 15 s more with them on Redis. The
# policy scenarios run once more with every quota call deferred.
faults_tests="tests/faults/t-faults-sync.sh tests/faults/t-faults-milter.sh
tests/faults/t-faults-redis.sh tests/load/t-load-milter.sh
tests/load/t-load-milter.sh:redis tests/integration/t-policy.sh:defer"
if [ "${SKIP_FAULTS:-0}" != 1 ]; then
    for t in $faults_tests; do
        echo "== $t"
        # SCRIPT:redis: the same script with the quota counters on Redis;
        # SCRIPT:defer: sesgate-policyd defers every quota call and
        # answers on the replay (SESGATE_QUOTA_DEFER=1, as with Redis)
        # with the embedded counters: every policy scenario must give
        # the same answers that way.
        qb=embedded dur=30 defer=0
        case $t in
        *:redis) qb=redis dur=15 ;;
        *:defer) defer=1 ;;
        esac
        t=${t%%:*}
        l=_build/${t##*/}.$qb.log
        [ "$defer" = 0 ] || l=_build/${t##*/}.defer.log
        rc=0
        (cd _build/werror && DURATION=$dur QUOTA_BACKEND=$qb \
            SESGATE_QUOTA_DEFER=$defer \
            top_builddir="$top/_build/werror" \
            top_srcdir="$top" bash "$top/$t") >"$l" 2>&1 || rc=$?
        tail -n 3 "$l"
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$l" | tail -n 1 ||
            true)
        [ -n "$line" ] || line="0 passed, 1 failed"
        total_pass=$((total_pass +
            $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
        total_fail=$((total_fail +
            $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
        if [ "$rc" != 0 ]; then
            tail -n 60 "$l"
            echo "ci: $total_pass passed, $total_fail failed"
            [ -z "$fuzz_pid" ] || kill "$fuzz_pid" 2>/dev/null
            exit 1
        fi
    done
fi

if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
    echo "== valgrind memcheck: ${VALGRIND_TESTS:-$valgrind_tests}"
    run_valgrind >_build/valgrind.log 2>&1 || valgrind_rc=1
    cat _build/valgrind.log
    line=$(grep -E '^valgrind: [0-9]+ passed' _build/valgrind.log |
        tail -n 1 || true)
    [ -n "$line" ] || line="valgrind: 0 passed, 1 failed"
    total_pass=$((total_pass + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
    total_fail=$((total_fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
fi
echo "== make distcheck"
# Its output goes to _build/distcheck.log; on failure the end of it and
# the log of every test that did not pass are printed (distcheck leaves
# its tree in place when it fails).
(cd _build/werror && make -j"$jobs" distcheck >../distcheck.log 2>&1) || {
    echo "distcheck failed; rerun: cd _build/werror && make distcheck" >&2
    tail -n 40 _build/distcheck.log
    for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' \
        $(find _build/werror -path '*/sesgate-*' -name '*.trs' 2>/dev/null) \
        /dev/null 2>/dev/null); do
        echo "---- ${f%.trs}.log"
        tail -n 80 "${f%.trs}.log"
    done
    [ -z "$fuzz_pid" ] || kill "$fuzz_pid" 2>/dev/null
    exit 1
}

# The Debian package built, installed, run and purged (issue 8); its
# "N passed, M failed" goes into the tally.
echo "== install test (Debian package)"
rc=0; SESGATE_SKIPS_AS_FAILS=${SESGATE_SKIPS_AS_FAILS:-0} \
    bash tests/install/t-install.sh >_build/install.log 2>&1 || rc=$?
cat _build/install.log
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' _build/install.log |
    tail -n 1 || true)
[ -n "$line" ] || { [ "$rc" -eq 77 ] && line="0 passed, 0 failed"; } ||
    line="0 passed, 1 failed"
total_pass=$((total_pass + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
total_fail=$((total_fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
[ "$rc" -eq 0 ] ||
    { [ "$rc" -eq 77 ] && [ "${SESGATE_SKIPS_AS_FAILS:-0}" != 1 ]; } || {
    echo "ci: $total_pass passed, $total_fail failed"
    [ -z "$fuzz_pid" ] || kill "$fuzz_pid" 2>/dev/null
    exit 1
}

# The fuzzers ran beside everything since the fault tests.
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    echo "== make fuzz: results"
    wait "$fuzz_pid" || fuzz_rc=1
    grep -E '^(== fuzz|fuzz)' _build/fuzz.log || true
    [ "$fuzz_rc" = 0 ] || tail -n 60 _build/fuzz.log
    line=$(grep -E '^fuzz: [0-9]+ passed' _build/fuzz.log | tail -n 1 ||
        true)
    if [ -n "$line" ]; then
        total_pass=$((total_pass + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
        total_fail=$((total_fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
    else
        total_fail=$((total_fail + 1))
    fi
fi
if [ "$fuzz_rc" != 0 ] || [ "$valgrind_rc" != 0 ]; then
    echo "ci: $total_pass passed, $total_fail failed"
    exit 1
fi

# No secret in any log (issue 9): every test secret of
# tests/test-secrets.txt (AWS keys, SMTP and Redis passwords the tests
# hand to our programs) is looked for in everything the run logged: the
# daemons' and tools' logs the tests kept, the test logs, the valgrind,
# fuzz and install logs.
echo "== secrets scan"
hits=$(grep -rlF -f tests/test-secrets.txt "$SESGATE_KEEP_LOGS" \
    _build/werror/tests _build/sanitizers/tests _build/*.log \
    _build/valgrind 2>/dev/null | grep -E '(\.log|\.out|\.err|/stdout|/stderr|maillog[^/]*)$' || true)
nscan=$(find "$SESGATE_KEEP_LOGS" _build/werror/tests _build/sanitizers/tests \
    _build/valgrind -type f 2>/dev/null | wc -l)
if [ -n "$hits" ]; then
    echo "secrets: a test secret appears in:"
    echo "$hits"
    total_fail=$((total_fail + 1))
    echo "ci: $total_pass passed, $total_fail failed"
    exit 1
fi
echo "secrets: $nscan files scanned, no test secret found"
total_pass=$((total_pass + 1))

echo "== all tests passed"
echo "ci: $total_pass passed, $total_fail failed"
