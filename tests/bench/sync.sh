#!/bin/sh
# tests/bench/sync.sh - sesgatectl sync of a large synthetic region from
#   the SES API stand-in: wall time and peak RSS (GNU time -v)
#
# Usage: sync.sh BUILDDIR SRCDIR
# Environment:
#   SYNC_IDENTITIES   identities in the region (default 10000)
#   SYNC_SUPPRESSED   suppressed addresses (default 1000000)
#   SYNC_MODES        which runs, among "full dry" (default both):
#                     full: sync --full then the import; dry: --dry-run
#                     (every request, fragment written, no import)
#
# One region (us-east-1), api_rate = 0 (no pacing), 1,000 per page (the
# client's page size). Prints one line per mode:
#   sync full: 30.6 s, peak RSS 246 MB (11113 requests)

set -eu

build=$1
src=$2
nid=${SYNC_IDENTITIES:-10000}
nsup=${SYNC_SUPPRESSED:-1000000}
modes=${SYNC_MODES:-full dry}
ctl="$build/ctl/sesgatectl"
standin="$src/tests/integration/ses-standin.py"

[ -x /usr/bin/time ] || { echo "sync.sh: /usr/bin/time is missing" >&2
                          exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-syncbench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

printf '{"synthetic": {"us-east-1": {"identities": %s, "suppressed": %s}}}\n' \
    "$nid" "$nsup" >"$work/data.json"
python3 "$standin" --data "$work/data.json" --credentials AKIDBENCH:bench \
    --port-file "$work/port" >"$work/standin.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -s "$work/port" ] || { echo "sync.sh: the stand-in did not start" >&2
                         exit 1; }

for mode in $modes; do
    rm -rf "$work/state"
    cat >"$work/sesgate.conf" <<CF
default_region = us-east-1
state_dir = $work/state
regions = us-east-1
api_endpoint = http://127.0.0.1:$(cat "$work/port")
api_rate = 0
api_retries = 8
CF
    case $mode in
    full) flag=--full ;;
    dry) flag=--dry-run ;;
    *) echo "sync.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
    env AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench \
        AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
        /usr/bin/time -v -o "$work/time" \
        "$ctl" -c "$work/sesgate.conf" sync $flag --json >"$work/out"
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$work/time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
    req=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["regions"]["us-east-1"]["requests"])' \
        "$work/out")
    echo "sync $mode: $wall wall, peak RSS $((rss / 1024)) MB" \
        "($req requests; $nid identities, $nsup suppressed)"
done
