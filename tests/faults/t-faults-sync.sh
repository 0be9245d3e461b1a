#!/bin/bash
# t-faults-sync.sh - sesgatectl sync SIGKILLed at random points, and
#   run out of file space, against the SES API stand-in
#
# Two stand-ins (ses-standin.py) serve two different accounts, A and B
# (synthetic identities and suppression lists, two regions, about 250,000
# suppressed addresses in B), so that a sync takes seconds and its
# import into the store a good part of them. The store holds A; each of
# RUNS (default 10) runs syncs (--full) from the other stand-in and
# SIGKILLs sesgatectl after a random delay, run k in the k-th tenth of
# the sync's measured duration, so the kills spread over the fetch and
# the import/commit. Where each landed is printed: "fetch" (no snapshot
# yet), "import" (the snapshot written, the store still old), "after the
# commit" (the store new, the process not yet gone). After every kill:
#   - sesgatectl status exits 0 (the store opens);
#   - sesgatectl export (less the sesgate_sync timestamps) is exactly
#     the old or the new account's;
#   - sync.lock is free (flock -n) and the next run's sync starts over
#     whatever the kill left;
# and at the end a sync completes and no temp file (.sync-*) is left.
#
# File space: a sync of the bigger account under "ulimit -f" (SIGXFSZ
# ignored: EFBIG) with a limit that stops its temp files, and one that
# lets them through but not the store's growth, fails with an error
# naming the write; the store keeps the old account, status exits 0;
# the next sync completes.
#
# Prints "N passed, M failed"; exit 77 without python3 or the build.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"      # common.sh's sg_* helpers

ctl=$top_builddir/ctl/sesgatectl
standin=$top_srcdir/tests/integration/ses-standin.py
RUNS=${RUNS:-10}

skip() {
    echo "SKIP: $*"
    [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
    exit 77
}
[ -x "$ctl" ] || skip "$ctl is not built"
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"
command -v flock >/dev/null 2>&1 || skip "flock is missing"

mounted=
pids=
sync_pid=

cleanup() {
    local p
    [ -n "$sync_pid" ] && kill -KILL "$sync_pid" 2>/dev/null
    for p in $pids; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
    sg_tmpdir_remove "$T"
}
sg_tmpdir sfaults
mkdir -p "$T/fs"
if [ "$(id -u)" = 0 ] &&
    mount -t tmpfs -o size=512m,mode=0700 sesgate-sfaults "$T/fs" 2>/dev/null
then
    mounted=$T/fs
fi
S=$T/fs/state

export AWS_ACCESS_KEY_ID=AKIDFAULTS AWS_SECRET_ACCESS_KEY='stand/in+secret'
export AWS_SHARED_CREDENTIALS_FILE=/nonexistent

# standin NAME US_ID US_SUPP EU_ID EU_SUPP - start one; writes conf.NAME
standin() {
    local n=$1
    printf '{"synthetic": {"us-east-1": {"identities": %s, "suppressed": %s},
 "eu-west-1": {"identities": %s, "suppressed": %s}}}\n' "$2" "$3" "$4" "$5" \
        >"$T/data.$n.json"
    python3 "$standin" --data "$T/data.$n.json" \
        --credentials "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        --port-file "$T/port.$n" >"$T/standin.$n.log" 2>&1 &
    pids="$pids $!"
    for _ in $(seq 1 100); do
        [ -s "$T/port.$n" ] && break
        sleep 0.1
    done
    [ -s "$T/port.$n" ] || { echo "stand-in $n did not start"; exit 1; }
    cat >"$T/conf.$n" <<CF
default_region = us-east-1
state_dir = $S
regions = us-east-1, eu-west-1
api_endpoint = http://127.0.0.1:$(cat "$T/port.$n")
api_rate = 0
api_retries = 8
CF
}

standin A 1500 150000 300 30000
standin B 2000 200000 500 50000
standin C 3000 300000 500 70000     # bigger than the store ever held

# digest - the stored state less the sync timestamps
digest() {
    "$ctl" -c "$T/conf.A" export 2>/dev/null |
        grep -v '^  "sesgate_sync": ' | md5sum | cut -d' ' -f1
}

# wait_snapshot PID - until sync PID has written its snapshot (the
# fetch is over, the import begins) or is gone; 0 when it was seen
wait_snapshot() {
    while kill -0 "$1" 2>/dev/null; do
        compgen -G "$S/.sync-$1-snapshot-*" >/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# now - seconds since the epoch, to the hundredth
now() { date +%s.%N; }
# sub A B - A - B, rounded
sub() { python3 -c "print(round($1 - $2, 2))"; }

# timed_sync NAME - a full sync from stand-in NAME: its exit status in
# $rc, its seconds in $secs, of which $fetch before the snapshot
timed_sync() {
    local t0 t1 t2 p
    t0=$(now)
    "$ctl" -c "$T/conf.$1" sync --full >"$T/sync.out" 2>&1 &
    p=$!
    wait_snapshot $p
    t1=$(now)
    # the fetch's temp files, at their largest
    tmp_kb=$(du -ck "$S"/.sync-$p-* 2>/dev/null | tail -n 1 | cut -f1)
    wait $p
    rc=$?
    t2=$(now)
    secs=$(sub "$t2" "$t0")
    fetch=$(sub "$t1" "$t0")
}

sg_what="reference syncs"
timed_sync A
sg_check "sync A exits 0 ($(cat "$T/sync.out"))" [ "$rc" = 0 ]
ref_A=$(digest)
timed_sync B
sg_check "sync B exits 0 ($(cat "$T/sync.out"))" [ "$rc" = 0 ]
dur_B=$secs fetch_B=$fetch tmp_kb_B=$tmp_kb
ref_B=$(digest)
timed_sync A
sg_check "sync A again exits 0" [ "$rc" = 0 ]
dur_A=$secs fetch_A=$fetch
sg_check "A and B differ" [ "$ref_A" != "$ref_B" ]
sg_check "sync A again stores A" [ "$(digest)" = "$ref_A" ]
echo "sync durations: A $dur_A s (fetch $fetch_A s), B $dur_B s (fetch" \
    "$fetch_B s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
cur=A

# ---- SIGKILL at random points ------------------------------------------
declare -A landed
for k in $(seq 0 $((RUNS - 1))); do
    if [ $cur = A ]; then new=B; else new=A; fi
    v=ref_$cur; old_ref=${!v}
    v=ref_$new; new_ref=${!v}
    v=dur_$new; dur=${!v}
    v=fetch_$new; fetch=${!v}
    sg_what="kill $((k + 1)) ($cur -> $new)"
    half=$((RUNS / 2))
    if [ $((k % 2)) = 0 ]; then
        # during the fetch: the (k/2)-th slice of it
        delay=$(python3 -c "import random
print(round($fetch * ($k / 2 + random.random()) / $((RUNS - half)), 2))")
        from=start
    else
        # during the import: a random point of it
        delay=$(python3 -c "import random
print(round(($dur - $fetch) * random.random(), 2))")
        from=snapshot
    fi
    t0=$(now)
    "$ctl" -c "$T/conf.$new" sync --full >"$T/killed.out" 2>&1 &
    sync_pid=$!
    [ $from = snapshot ] && wait_snapshot $sync_pid
    sleep "$delay"
    if kill -KILL "$sync_pid" 2>/dev/null; then alive=1; else alive=0; fi
    wait "$sync_pid" 2>/dev/null
    snap=$(find "$S" -maxdepth 1 -name ".sync-$sync_pid-snapshot-*" |
        wc -l)
    [ -n "${DEBUG:-}" ] && ls -la "$S"
    sync_pid=
    st=$("$ctl" -c "$T/conf.A" status 2>&1)
    rc=$?
    sg_check "status exits 0 after the kill ($rc: $st)" [ "$rc" = 0 ]
    d=$(digest)
    if [ "$d" = "$new_ref" ]; then
        stored=new
    elif [ "$d" = "$old_ref" ]; then
        stored=old
    else
        stored=neither
    fi
    if [ $alive = 0 ]; then
        where="after the end"
    elif [ $stored = new ]; then
        where="after the commit"
    elif [ "$snap" -gt 0 ]; then
        where="import"
    else
        where="fetch"
    fi
    landed[$where]=$((${landed[$where]:-0} + 1))
    echo "kill $((k + 1)): $delay s after the $from, $(sub "$(now)" "$t0") s" \
        "into a sync of ~$dur s (fetch ~$fetch s), landed: $where; the" \
        "store holds the $stored state"
    sg_check "the store holds the old or the new state, whole" \
        [ $stored != neither ]
    sg_check "the sync lock is free" flock -n "$S/sync.lock" true
    [ $stored = new ] && cur=$new
done
summary=
for w in fetch import "after the commit" "after the end"; do
    summary="$summary $w: ${landed[$w]:-0},"
done
echo "kills landed:${summary%,}"

sg_what="after the kills"
timed_sync A
sg_check "a final sync completes ($(cat "$T/sync.out"))" [ "$rc" = 0 ]
sg_check "it stores A" [ "$(digest)" = "$ref_A" ]
left=$(find "$S" -maxdepth 1 -name '.sync-*' | wc -l)
sg_check "no temp file left behind ($left)" [ "$left" = 0 ]

# ---- file space ---------------------------------------------------------
# The store holds A; sync C, bigger than anything the store held (so
# that its commit must grow the file, not reuse free pages), with too
# little room: first for the fetch's temp files, then with room for
# them (B's measured above, scaled to C's size) but not for the store's
# growth. On the tmpfs a filler file leaves that
# room; without mount (not root), "ulimit -f" (SIGXFSZ ignored: EFBIG)
# limits the file size instead.
mdb_kb=$(($(stat -c %s "$S/state.mdb") / 1024))
for room in $((tmp_kb_B / 4)) $((tmp_kb_B * 37 / 25 + 2048)); do
    sg_what="file space: $room kB free"
    if [ -n "$mounted" ]; then
        how="tmpfs, $room kB left free"
        avail=$(df -k --output=avail "$T/fs" | tail -n 1 | tr -d ' ')
        rm -f "$T/fs/filler"
        fallocate -l $(((avail - room) * 1024)) "$T/fs/filler" 2>/dev/null ||
            dd if=/dev/zero of="$T/fs/filler" bs=1k count=$((avail - room)) \
                status=none
        out=$("$ctl" -c "$T/conf.C" sync --full 2>&1)
        rc=$?
    else
        # the first: a temp file stops; the second: the store's growth
        lim=$((room > tmp_kb_B ? mdb_kb + 64 : room))
        how="ulimit -f $lim, store $mdb_kb kB"
        out=$( (trap '' XFSZ; ulimit -f "$lim"
            "$ctl" -c "$T/conf.C" sync --full) 2>&1)
        rc=$?
    fi
    echo "sync with too little room ($how): exit $rc; store $mdb_kb kB before, $(($(stat -c %s "$S/state.mdb") / 1024)) kB after:"
    printf '%s\n' "$out" | grep '^sesgatectl' | sed 's/^/    /'
    sg_check "the sync fails (exit $rc)" [ "$rc" != 0 ]
    sg_check "the error names the full file system or the limit" \
        grep -Eq '^sesgatectl: sync: .*(No space left on device|file system full|File too large|file size limit)' \
        <<<"$out"
    st=$("$ctl" -c "$T/conf.A" status 2>&1)
    sg_check "status exits 0 ($st)" [ $? = 0 ]
    sg_check "the store holds the old state" [ "$(digest)" = "$ref_A" ]
    rm -f "$T/fs/filler"
done
sg_what="after the file space faults"
timed_sync C
sg_check "the next sync completes ($(cat "$T/sync.out"))" [ "$rc" = 0 ]
n=$("$ctl" -c "$T/conf.A" status --json 2>/dev/null | python3 -c 'import json, sys
r = json.load(sys.stdin)["regions"]
print(r["us-east-1"]["suppressed"], r["eu-west-1"]["suppressed"])')
sg_check "it stores C: 300000 and 70000 suppressed ($n)" [ "$n" = "300000 70000" ]
left=$(find "$S" -maxdepth 1 -name '.sync-*' | wc -l)
sg_check "no temp file left behind ($left)" [ "$left" = 0 ]

sg_tally
