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
#   BENCH_RUNS         runs of each decision and lookup figure; the
#                      median is reported (default 3; import runs once)
#
# What is measured, and against what:
#   import      sesgatectl import of the snapshot (wall time, peak RSS)
#               vs Postfix's postmap building an lmdb: table of the same
#               suppressed addresses (what a site would do by hand to
#               refuse them with check_recipient_access)
#   open        store open + first lookup in a fresh process
#   decision    sg_decide for a 5-recipient message (region, sender
#               identity, per recipient: suppression, quota pre-check;
#               ~15 store lookups), recipients not listed and, apart,
#               all 5 suppressed, vs 5 lookups in Postfix's lmdb table
#               through "postmap -q -" (per key, batch mode, start-up
#               subtracted), unlisted and listed keys
#   memory      private dirty memory of the deciding process on the 10M
#               store and on a store of 10,000 suppressed addresses
#               (the store itself is shared page cache, shown apart)

set -eu

build=$1
src=$2
work=${BENCH_DIR:-/tmp/sesgate-bench}
nid=${BENCH_IDENTITIES:-10000}
nsup=${BENCH_SUPPRESSED:-10000000}
ndec=${BENCH_DECISIONS:-200000}
runs=${BENCH_RUNS:-3}
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

# median FILE - median of the numbers in FILE, one a line
median() {
    sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

# decide LABEL ARGS... - $runs runs of bench_decide; keeps every output in
# $work/decide-LABEL.N.out and prints the median of the medians, the
# median open time and the last run's memory line
decide() {
    lab=$1
    shift
    : > "$work/decide-$lab.med"
    : > "$work/decide-$lab.open"
    for r in $(seq 1 "$runs"); do
        "$build/tests/bench/bench_decide" -c "$work/sesgate.conf" "$@" \
            > "$work/decide-$lab.$r.out"
        sed "s/^/  [$lab run $r, load $(cut -d' ' -f1 /proc/loadavg)] /" \
            "$work/decide-$lab.$r.out"
        sed -n 's/.*median \([0-9.]*\) us.*/\1/p' "$work/decide-$lab.$r.out" \
            >> "$work/decide-$lab.med"
        sed -n 's/^store open + first lookup: \([0-9.]*\) ms/\1/p' \
            "$work/decide-$lab.$r.out" >> "$work/decide-$lab.open"
    done
}

rcpts_miss="-r user%d@host1.example -r user%d@host2.example -r user%d@host3.example -r user%d@host4.example -r user%d@host5.example"
rcpts_hit="-r user%d@host%h.example -r user%d@host%h.example -r user%d@host%h.example -r user%d@host%h.example -r user%d@host%h.example"

echo "== decision: 5 recipients not listed, $ndec decisions, $runs runs"
decide miss -n "$ndec" -m "$nsup" -f sender1@d1.example $rcpts_miss
dec_us=$(median "$work/decide-miss.med")
open_ms=$(median "$work/decide-miss.open")

echo "== decision: 5 suppressed recipients (every one listed), $ndec decisions after $ndec untimed, $runs runs"
decide hit -n "$ndec" -w "$ndec" -m "$nsup" -f sender1@d1.example $rcpts_hit
hit_us=$(median "$work/decide-hit.med")

echo "== memory: the same reader on a store of $nid identities + 10000 suppressed"
small="$work/snapshot-$nid-10000.json"
[ -s "$small" ] || python3 "$src/tests/bench/gen_snapshot.py" "$nid" 10000 > "$small"
rm -rf "$work/state-small"
mkdir -p "$work/state-small"
printf 'default_region = us-east-1\nstate_dir = %s/state-small\n' "$work" \
    > "$work/sesgate-small.conf"
"$ctl" -c "$work/sesgate-small.conf" import "$small" >/dev/null
"$build/tests/bench/bench_decide" -c "$work/sesgate-small.conf" -n "$ndec" \
    -w "$ndec" -m 10000 -f sender1@d1.example $rcpts_hit > "$work/decide-small.out"
sed 's/^/  [10k store] /' "$work/decide-small.out"
mem_small=$(sed -n 's/.*private dirty \([0-9]*\) kB.*/\1/p' "$work/decide-small.out")
mem_big=$(sed -n 's/.*private dirty \([0-9]*\) kB.*/\1/p' "$work/decide-hit.$runs.out")
map_small=$(sed -n 's/.*store map resident \([0-9]*\) kB.*/\1/p' "$work/decide-small.out")
map_big=$(sed -n 's/.*store map resident \([0-9]*\) kB.*/\1/p' "$work/decide-hit.$runs.out")

echo "== peer: postmap -q - lookups in the lmdb: table ($runs runs each)"
python3 - "$nsup" 200000 "$work/keys-hit.txt" "$work/keys-miss.txt" <<'PY'
import random, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
random.seed(42)
with open(sys.argv[3], "w") as hit, open(sys.argv[4], "w") as miss:
    for _ in range(k):
        j = random.randrange(n)
        hit.write("user%d@host%d.example\n" % (j, j % 9973))
        j = random.randrange(n)
        miss.write("user%d@host%d.example\n" % (j, 1 + j % 5))
PY
# Time each batch, and an empty batch for the start-up cost.
: > "$work/nokeys.txt"
pq() {
    set -- $(wall_rss sh -c "postmap -c '$pfdir' -q - lmdb:'$pfdir/suppressed.txt' < '$1'")
    echo "$1"
}
: > "$work/pq-hit"; : > "$work/pq-miss"
for r in $(seq 1 "$runs"); do
    t0=$(pq "$work/nokeys.txt")
    th=$(pq "$work/keys-hit.txt")
    tm=$(pq "$work/keys-miss.txt")
    python3 -c "print('%.3f' % (max($th - $t0, 0.0001) * 1e6 / 200000))" >> "$work/pq-hit"
    python3 -c "print('%.3f' % (max($tm - $t0, 0.0001) * 1e6 / 200000))" >> "$work/pq-miss"
    echo "  [postmap run $r, load $(cut -d' ' -f1 /proc/loadavg)] start-up $t0 s, 200000 listed keys $th s, 200000 unlisted $tm s"
done
pqh_us=$(median "$work/pq-hit")
pqm_us=$(median "$work/pq-miss")
echo "postmap -q - : ${pqm_us} us per unlisted key, ${pqh_us} us per listed key (medians, start-up subtracted)"

echo
echo "== summary (same run; medians of $runs where repeated; load $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$imp_s" "$pm_s" "$dec_us" "$pqm_us" "$hit_us" "$pqh_us" "$open_ms" \
    "$mem_big" "$mem_small" "$map_big" "$map_small" "$nsup" <<'PY'
import sys
imp, pm, dec, pqm, hit, pqh, opn = map(float, sys.argv[1:8])
mb, ms, mapb, maps, nsup = map(int, sys.argv[8:13])
print("import:   sesgate %.1f s   postmap lmdb %.1f s   ratio %.2fx   (target <= 120 s)"
      % (imp, pm, imp / pm))
print("open:     sesgate %.3f ms in a new process (target <= 10 ms)" % opn)
print("decision, 5 unlisted recipients: sesgate %.2f us   postmap 5 lookups %.2f us"
      "   ratio %.2fx   (target <= 5 us)" % (dec, 5 * pqm, dec / (5 * pqm)))
print("decision, 5 suppressed recipients: sesgate %.2f us   postmap 5 lookups %.2f us"
      "   ratio %.2fx" % (hit, 5 * pqh, hit / (5 * pqh)))
print("reader private dirty memory: %d kB with %d suppressed, %d kB with 10000"
      "   ratio %.2fx   (store pages resident, shared page cache: %d kB vs %d kB)"
      % (mb, nsup, ms, mb / max(ms, 1), mapb, maps))
PY
