#!/bin/sh
# tests/fuzz/run.sh - build every libFuzzer harness and run each for
# FUZZ_SECONDS (default 60) on its seed corpus (make fuzz).
#
# Usage: run.sh SRCDIR BUILDDIR [TARGET...]
# Harnesses are tests/fuzz/fuzz_<target>.c. The library sources are
# compiled once with clang (-fsanitize=fuzzer-no-link,address,undefined,
# FUZZ_JOBS at a time) into BUILDDIR/tests/fuzz/libfuzz.a, and each
# harness is linked against that archive (-fsanitize=fuzzer,...). A
# crash, leak or timeout fails the run and leaves the reproducer in
# BUILDDIR/tests/fuzz/artifacts/; a target's corpus grows in
# BUILDDIR/tests/fuzz/corpus-TARGET/ (the seeds in the source tree are
# never written). The last line is "fuzz: N passed, M failed".
#
# Environment: FUZZ_SECONDS (per harness), FUZZ_CC (clang), FUZZ_JOBS
# (parallel compiles; default nproc).

set -eu

src=$1
build=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
out="$build/tests/fuzz"
mkdir -p "$out/artifacts" "$out/obj"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (packaging/deps.sh installs clang)"
    [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
    exit 77
fi

if [ $# -eq 0 ]; then
    set -- $(cd "$src/tests/fuzz" && ls fuzz_*.c | sed -e 's/^fuzz_//' -e 's/\.c$//')
fi

san="address,undefined"
# config.h first everywhere (feature macros: memmem, etc. are declared).
common="-g -O1 -fno-sanitize-recover=undefined -include $build/config.h"
libs="$(pkg-config --libs lmdb jansson libcrypto libcurl) $(pkg-config --libs hiredis 2>/dev/null) -lpthread"

# The library once, in parallel; only sources newer than their object.
echo "== fuzz: compiling shared/*.c"
ls "$src"/shared/*.c | xargs -P "$jobs" -I{} sh -c '
    o="$1/obj/$(basename "$2" .c).o"
    if [ ! -f "$o" ] || [ "$2" -nt "$o" ]; then
        exec $3 $4 -fsanitize=fuzzer-no-link,$5 -I"$6/shared" -I"$7" \
            -c -o "$o" "$2"
    fi' sh "$out" {} "$cc" "$common" "$san" "$src" "$build"
rm -f "$out/libfuzz.a"
ar rcs "$out/libfuzz.a" "$out"/obj/*.o

passed=0
failed=0
for t in "$@"; do
    echo "== fuzz $t (${seconds}s)"
    # shellcheck disable=SC2086
    if ! $cc $common -fsanitize=fuzzer,$san -I"$src/shared" -I"$build" \
        -o "$out/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" "$out/libfuzz.a" \
        $libs; then
        echo "fuzz $t: FAILED to build"
        failed=$((failed + 1))
        continue
    fi
    corpus="$out/corpus-$t"
    mkdir -p "$corpus"
    if [ -d "$src/tests/fuzz/corpus/$t" ]; then
        cp -r "$src/tests/fuzz/corpus/$t/." "$corpus/"
    fi
    if ! "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$t-" "$corpus" \
        > "$out/fuzz_$t.log" 2>&1; then
        echo "fuzz $t: FAILED (see $out/fuzz_$t.log)"
        tail -n 40 "$out/fuzz_$t.log"
        failed=$((failed + 1))
    else
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
            "$out/fuzz_$t.log" | tail -n 1)
        echo "fuzz $t: ${runs:-?} runs, no crash, leak or timeout"
        passed=$((passed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
