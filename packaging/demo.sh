#!/bin/sh
# packaging/demo.sh - run the gate on the embedded example, from a fresh
# clone: install what is missing, build, import the example SES state
# into a private state directory and show sesgatectl's dry-run decisions
# for an accepted, a deferred and a refused message.
#
# Usage: sudo packaging/demo.sh        (root only for the package install)
# Environment: DEMO_DIR (default: a new directory under /tmp).

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

sh packaging/deps.sh
if [ ! -x _build/demo/ctl/sesgatectl ]; then
    echo "== building sesgate (_build/demo)"
    [ -x configure ] || autoreconf -fi >/dev/null
    mkdir -p _build/demo
    (cd _build/demo && "$top/configure" -q >/dev/null && make -j"$jobs" >/dev/null)
fi
ctl="$top/_build/demo/ctl/sesgatectl"

dir=${DEMO_DIR:-$(mktemp -d /tmp/sesgate-demo.XXXXXX)}
mkdir -p "$dir/state"
cp packaging/examples/sender_region_map "$dir/sender_region_map"
cat > "$dir/sesgate.conf" <<CONF
# demo configuration (written by packaging/demo.sh)
default_region = us-east-1
sender_region_map = $dir/sender_region_map
state_dir = $dir/state
CONF

echo "== sesgatectl import packaging/examples/state.json"
"$ctl" -c "$dir/sesgate.conf" import packaging/examples/state.json
echo
"$ctl" -c "$dir/sesgate.conf" status
echo

# show - run one dry-run check and print its exit status
show() {
    title=$1
    shift
    echo "== $title"
    echo "\$ sesgatectl check $*"
    set +e
    "$ctl" -c "$dir/sesgate.conf" check "$@"
    rc=$?
    set -e
    echo "(exit status $rc)"
    echo
}

show "accepted: verified sender, verified recipient (us-east-1 sandbox)" \
    --from news@example.com --rcpt alice@example.org
show "deferred: eu-west-1 (relay host in sender_region_map) has spent its daily quota" \
    --from billing@eu.example.com --rcpt customer@example.net
show "refused: sender not verified in us-east-1" \
    --from someone@unverified.example --rcpt alice@example.org
show "refused: recipient on the suppression list; another recipient still accepted" \
    --from news@example.com --rcpt gone@example.com --rcpt alice@example.org
show "refused: sandbox recipient not verified; header From with display name" \
    --from news@example.com --header-from 'Ann <ann@unverified.example>' \
    --rcpt stranger@example.net
echo "State and configuration of this demo: $dir"
