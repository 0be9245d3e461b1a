#!/bin/sh
# tests/bench/run.sh - "make bench": the core library's figures, each
# beside a peer's figure from the same run
#
# Usage: run.sh BUILDDIR SRCDIR   (make bench passes both)
# Environment:
#   BENCH_DIR          work directory (default /tmp/sesgate-bench); the
#                      generated snapshot is kept there between runs
#   BENCH_IDENTITIES   identities in the region (default 10000)
#   BENCH_SUPPRESSED   suppressed addresses (default 10000000)
#   BENCH_DECISIONS    decisions to time (default 200000)
#
# What is measured, and against what:
#   import      sesgatectl import of the snapshot (wall time, peak RSS)
#               vs Postfix's postmap building an lmdb: table of the same
#               suppressed addresses (what a site would do by hand to
#               refuse them with check_recipient_access)
#   open        store open + first lookup in a fresh process
#   decision    sg_decide for a 5-recipient message (region, sender
#               identity, per recipient: suppression, quota pre-check;
#               ~15 store lookups) vs one lookup in Postfix's lmdb table
#               through "postmap -q -" (per key, batch mode)
#   memory      private memory of the deciding process (the store is
#               shared page cache)

set -eu

build=$1
src=$2
work=${BENCH_DIR:-/tmp/sesgate-bench}
nid=${BENCH_IDENTITIES:-10000}
nsup=${BENCH_SUPPRESSED:-10000000}
ndec=${BENCH_DECISIONS:-200000}
ctl="$build/ctl/sesgatectl"

mkdir -p "$work"
snap="$work/snapshot-$nid-$nsup.json"
if [ ! -s "$snap" ]; then
    echo "== generating $snap ($nid identities, $nsup suppressed)"
    python3 "$src/tests/bench/gen_snapshot.py" "$nid" "$nsup" > "$snap.tmp"
    mv "$snap.tmp" "$snap"
fi

rm -rf "$work/state"
mkdir -p "$work/state"
cat > "$work/sesgate.conf" <<CONF
default_region = us-east-1
state_dir = $work/state
CONF

# wall_rss - run a command under /usr/bin/time; print "SECONDS KB"
# (postmap -q exits 1 when the last key is not found: not a failure)
wall_rss() {
    /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >/dev/null \
        2>"$work/cmd.err" || true
    tail -n 1 "$work/time.out"
}

echo "== import: sesgatectl import ($nsup suppressed, $nid identities)"
set -- $(wall_rss "$ctl" -c "$work/sesgate.conf" import "$snap")
imp_s=$1
imp_kb=$2
echo "sesgate import: ${imp_s} s, peak RSS $((imp_kb / 1024)) MB"

echo "== peer: postmap lmdb: of the same addresses"
pfdir="$work/postfix"
mkdir -p "$pfdir"
printf 'compatibility_level = 3.6\nsetgid_group = postdrop\nmail_owner = postfix\n' \
    > "$pfdir/main.cf"
cp /etc/postfix/dynamicmaps.cf "$pfdir/" 2>/dev/null || true
[ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$pfdir/"
if [ ! -s "$pfdir/suppressed.txt" ] || [ "$(wc -l < "$pfdir/suppressed.txt")" -ne "$nsup" ]; then
    sed -n 's/.*"EmailAddress": "\([^"]*\)".*/\1 REJECT/p' "$snap" > "$pfdir/suppressed.txt"
fi
rm -f "$pfdir/suppressed.txt.lmdb"
set -- $(wall_rss postmap -c "$pfdir" lmdb:"$pfdir/suppressed.txt")
pm_s=$1
pm_kb=$2
echo "postmap lmdb: ${pm_s} s, peak RSS $((pm_kb / 1024)) MB"

echo "== decision: 5 recipients, $ndec decisions"
"$build/tests/bench/bench_decide" -c "$work/sesgate.conf" -n "$ndec" \
    -m "$nsup" -f sender1@d1.example \
    -r 'user%d@host1.example' -r 'user%d@host2.example' \
    -r 'user%d@host3.example' -r 'user%d@host4.example' \
    -r 'user%d@host5.example' | tee "$work/decide.out"
dec_us=$(sed -n 's/.*median \([0-9.]*\) us.*/\1/p' "$work/decide.out")

echo "== peer: postmap -q - lookups in the lmdb: table"
python3 - "$nsup" 200000 > "$work/keys.txt" <<'PY'
import random, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
random.seed(42)
for _ in range(k):
    j = random.randrange(n)
    print("user%d@host%d.example" % (j, j % 9973))
PY
# Time the batch, and an empty batch for the start-up cost.
: > "$work/nokeys.txt"
set -- $(wall_rss sh -c "postmap -c '$pfdir' -q - lmdb:'$pfdir/suppressed.txt' < '$work/keys.txt'")
pq_s=$1
set -- $(wall_rss sh -c "postmap -c '$pfdir' -q - lmdb:'$pfdir/suppressed.txt' < '$work/nokeys.txt'")
pq0_s=$1
pq_us=$(python3 -c "print('%.2f' % (max($pq_s - $pq0_s, 0.0001) * 1e6 / 200000))")
echo "postmap -q - : ${pq_us} us per key (200000 keys, start-up subtracted)"

echo
echo "== summary (same run)"
python3 - "$imp_s" "$pm_s" "$dec_us" "$pq_us" <<'PY'
import sys
imp, pm, dec, pq = map(float, sys.argv[1:])
print("import:   sesgate %.1f s   postmap lmdb %.1f s   ratio %.2fx" % (imp, pm, imp / pm))
print("decision: sesgate %.2f us (5 recipients)   postmap lookup %.2f us per key   ratio %.2fx"
      % (dec, pq, dec / pq))
PY
grep -E 'store open|memory after' "$work/decide.out"
