#!/bin/sh
# tests/fuzz/run.sh - build every libFuzzer harness and run each for
# FUZZ_SECONDS (default 60) on its seed corpus (make fuzz).
#
# Usage: run.sh SRCDIR BUILDDIR [TARGET...]
# Harnesses are tests/fuzz/fuzz_<target>.c; they are compiled with clang
# together with the library sources (-fsanitize=fuzzer,address,undefined)
# into BUILDDIR/tests/fuzz/. A crash, leak or timeout fails the run and
# leaves the reproducer in BUILDDIR/tests/fuzz/artifacts/.

set -eu

src=$1
build=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
out="$build/tests/fuzz"
mkdir -p "$out/artifacts"

if [ $# -eq 0 ]; then
    set -- $(cd "$src/tests/fuzz" && ls fuzz_*.c | sed -e 's/^fuzz_//' -e 's/\.c$//')
fi

libsrc=$(ls "$src"/shared/*.c)
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
libs="$(pkg-config --libs lmdb jansson libcrypto libcurl) $(pkg-config --libs hiredis 2>/dev/null) -lpthread"

status=0
for t in "$@"; do
    echo "== fuzz $t (${seconds}s)"
    # shellcheck disable=SC2086
    $cc $flags -I"$src/shared" -I"$build" -o "$out/fuzz_$t" \
        "$src/tests/fuzz/fuzz_$t.c" $libsrc $libs
    corpus="$out/corpus-$t"
    mkdir -p "$corpus"
    if [ -d "$src/tests/fuzz/corpus/$t" ]; then
        cp -r "$src/tests/fuzz/corpus/$t/." "$corpus/"
    fi
    if ! "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$out/artifacts/$t-" "$corpus" \
        > "$out/fuzz_$t.log" 2>&1; then
        echo "fuzz $t: FAILED (see $out/fuzz_$t.log)"
        tail -n 40 "$out/fuzz_$t.log"
        status=1
    else
        grep -E '^Done|stat::number_of_executed_units' "$out/fuzz_$t.log" | tail -n 1
    fi
done
exit $status
