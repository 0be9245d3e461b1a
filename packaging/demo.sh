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
# ---- the daemons in front of a local Postfix --------------------------
if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null 2>&1; then
    echo "(run as root to see sesgate-milter in front of a local Postfix)"
    echo "State and configuration of this demo: $dir"
    exit 0
fi

echo "== sesgate-milter in front of a throwaway Postfix on 127.0.0.1"
# shellcheck source=../tests/integration/postfix-lib.sh
. "$top/tests/integration/postfix-lib.sh"
chmod 755 "$dir" "$dir/state"
# The milter refuses to run as root: it becomes nobody, which must own
# the state (it writes the quota counters there).
chown -R nobody "$dir/state"
mport=$(pf_free_port)
cat >> "$dir/sesgate.conf" <<CONF
# the demo starts the milter as root on a loopback port; it runs as nobody
milter_user = nobody
milter_socket_group =
CONF
"$top/_build/demo/milter/sesgate-milter" -f -c "$dir/sesgate.conf" \
    -p "inet:$mport@127.0.0.1" > "$dir/milter.log" 2>&1 &
milter_pid=$!
trap 'pf_stop; kill $milter_pid 2>/dev/null; wait $milter_pid 2>/dev/null' EXIT
pf_wait_port "$mport"
pf_start "$dir/postfix" "smtpd_milters = inet:127.0.0.1:$mport
milter_default_action = tempfail
milter_protocol = 6"
echo "Postfix listens on 127.0.0.1:$PF_SMTP_PORT and relays to smtp-sink" \
    "on 127.0.0.1:$PF_SINK_PORT (standing in for SES)"
echo

# smtp - one message with swaks; print the command and the server's
# answer to it (sandbox regions allow 1 recipient per second, so wait)
smtp() {
    title=$1
    shift
    echo "== $title"
    echo "\$ swaks --server 127.0.0.1:$PF_SMTP_PORT $*"
    pf_swaks "$@"
    printf '%s\n' "$PF_OUT" | awk '/-> MAIL FROM/ { on = 1 }
        on && /^ *(<-|<\*\*) +[245][0-9][0-9] / && !/ (221|354) / {
            sub(/^ */, "    "); print }'
    echo
    sleep 1.2
}

smtp "accepted: verified sender and From:, verified recipient" \
    --from news@example.com --to alice@example.org \
    --header 'From: Example News <news@example.com>'
smtp "deferred: eu-west-1 has spent its daily quota (454, Postfix's client retries)" \
    --from billing@eu.example.com --to customer@example.net \
    --header 'From: billing@eu.example.com'
smtp "refused: envelope verified, but the From: header is not" \
    --from news@example.com --to alice@example.org \
    --header 'From: Ann <ann@unverified.example>'
smtp "refused recipient: gone@example.com is suppressed; alice still gets it" \
    --from news@example.com --to gone@example.com,alice@example.org \
    --header 'From: news@example.com'

pf_sink_wait 2 30 || true
echo "== what reached the sink (SES) — messages: $(pf_sink_count)"
pf_sink_rcpts | sed 's/^/    /'
echo
echo "State and configuration of this demo: $dir"
