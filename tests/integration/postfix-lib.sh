# tests/integration/postfix-lib.sh - a throwaway Postfix for the tests
# shellcheck shell=bash disable=SC2034 # (variables for the scripts)
#
# Sourced by the integration scripts (bash). Starts a private Postfix
# instance (own config_directory, queue_directory and data_directory
# under a temp dir, smtpd on a free loopback port, chroot off) that
# relays everything to smtp-sink on another loopback port; nothing of a
# system Postfix is touched. See ../shared/harness-notes.md for the
# traps these functions avoid.
#
#   pf_free_port                 print a free TCP port on 127.0.0.1
#   pf_need_peers                exit 77 (or fail under CI) without
#                                postfix, smtp-sink and swaks
#   pf_sink_start DIR            start smtp-sink; sets PF_SINK_PORT,
#                                captures each transaction in DIR/sink
#   pf_start DIR [MAIN_CF_LINES [MASTER_CF_LINES]]
#                                start Postfix; sets PF_SMTP_PORT,
#                                PF_CONF (the config dir); extra main.cf
#                                and master.cf text is appended as is
#   pf_reload                    postfix reload after editing $PF_CONF
#   pf_stop                      stop Postfix and smtp-sink
#   pf_swaks ARGS...             swaks against the instance; transcript
#                                in $PF_OUT, exit status in $PF_RC
#   pf_last_reply [TEXT]         the last server reply line of $PF_OUT
#                                (or of the swaks transcript TEXT)
#   pf_sink_wait N [SECONDS]     wait until N messages reached the sink
#   pf_sink_count                messages that reached the sink
#   pf_sink_rcpts                recipients that reached the sink, one
#                                per line, sorted
#   pf_sink_reset                forget what the sink received so far
#   pf_sink_strays RE            sink messages with a line matching the
#                                extended regular expression RE (count)
#   pf_queue_empty               nothing in the queue (incoming, active,
#                                deferred)
#   pf_sink_check N SECONDS SETTLE
#                                three assertions (sg_check) once the
#                                sink has N messages (SECONDS at most,
#                                then SETTLE more): exactly N, none from
#                                or to an address the milter refuses, the
#                                queue drained
#   pf_milter_prepare DIR CTL    sesgate-milter configuration in
#                                DIR/sesgate.conf (state in DIR/state, pid
#                                file in DIR.run, user nobody) with the
#                                account of the fault and load tests
#                                imported by CTL (sesgatectl)
#   pf_milter_spec KIND DIR      the milter's socket, inet (a free port) or
#                                unix (in DIR.run): sets PF_MILTER_LISTEN
#                                (its -p) and PF_MILTER_SPEC (smtpd_milters)
#   pf_milter_main SPEC          main.cf lines for the milter SPEC with the
#                                documented settings (tempfail, protocol 6)
#   sg_vg CMD ARGS...            run CMD, one of ours under
#                                $SESGATE_VALGRIND when set; this and
#                                the other sg_* helpers (temp dir,
#                                assertions, daemons) are common.sh's
#   pf_vg_argv TEXT              master.cf text with each "argv=" of
#                                ours prefixed the same way
#
# Postfix runs as root-started master with mail_owner postfix; the temp
# dir must be reachable by the postfix user (mode 0755 on the path).

PF_DIR=
PF_CONF=
PF_SINK_PID=
PF_SMTP_PORT=
PF_SINK_PORT=
PF_OUT=
PF_RC=
PF_MILTER_LISTEN=
PF_MILTER_SPEC=

# sg_vg, sg_keep_logs, sg_tmpdir, sg_check, sg_daemon_start...: the
# helpers lib.sh has too
# shellcheck source=tests/integration/common.sh
# common.sh lies beside this file: bash says where that is; sh callers
# (packaging/demo.sh) set top_srcdir or top first.
if [ -n "${BASH_VERSION:-}" ]; then
    eval '_pf_dir=${BASH_SOURCE[0]%/*}'
else
    _pf_dir=${top_srcdir:-${top:-.}}/tests/integration
fi
. "$_pf_dir/common.sh"

# pf_vg_argv - prefix master.cf "argv=PROGRAM" of ours with the
# SESGATE_VALGRIND command (spawn(8) services); unchanged without it
pf_vg_argv() {
    if [ -n "${SESGATE_VALGRIND:-}" ]; then
        printf '%s\n' "$1" | sed -E \
            "s|argv=([^ ]*/sesgate-[a-z]+)|argv=$SESGATE_VALGRIND \\1|"
    else
        printf '%s\n' "$1"
    fi
}

# pf_free_port - a TCP port on 127.0.0.1 that nothing listens on now
pf_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# pf_need_peers - the real peers must be there
pf_need_peers() {
    local p missing=
    for p in postfix smtp-sink swaks python3; do
        command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -x /usr/lib/postfix/sbin/smtpd ] || missing="$missing smtpd"
    if [ -n "$missing" ]; then
        echo "missing peers:$missing"
        if [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ]; then
            exit 1
        fi
        exit 77
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "a throwaway Postfix needs root (its master starts as root)"
        [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
        exit 77
    fi
}

# pf_wait_port - wait until something accepts on 127.0.0.1:PORT
pf_wait_port() {
    local port=$1 i
    for i in $(seq 1 100); do
        if python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$port"
        then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port" >&2
    return 1
}

# pf_sink_start - smtp-sink that writes each transaction to a file
pf_sink_start() {
    local dir=$1
    mkdir -p "$dir/sink"
    chmod 0777 "$dir/sink"
    PF_SINK_PORT=$(pf_free_port)
    # -u nobody: smtp-sink refuses to run as root; -d: one file per
    # transaction with X-Rcpt-Args lines naming the recipients.
    smtp-sink -u nobody -d "$dir/sink/%Y%m%d%H%M%S." \
        "127.0.0.1:$PF_SINK_PORT" 256 >"$dir/sink.log" 2>&1 &
    PF_SINK_PID=$!
    pf_wait_port "$PF_SINK_PORT"
}

# pf_start - a private Postfix relaying to the sink
pf_start() {
    local dir=$1 main_extra=${2:-} master_extra=${3:-}
    PF_DIR=$dir
    PF_CONF=$dir/etc
    [ -n "$PF_SINK_PORT" ] || pf_sink_start "$dir"
    PF_SMTP_PORT=$(pf_free_port)
    mkdir -p "$PF_CONF" "$dir/queue" "$dir/data"
    chmod 0755 "$dir"
    chown postfix:postfix "$dir/data"
    chmod 0700 "$dir/data"
    cp /etc/postfix/dynamicmaps.cf "$PF_CONF/" 2>/dev/null || true
    [ -d /etc/postfix/dynamicmaps.cf.d ] &&
        cp -r /etc/postfix/dynamicmaps.cf.d "$PF_CONF/" 2>/dev/null
    cat >"$PF_CONF/main.cf" <<CF
# throwaway instance written by tests/integration/postfix-lib.sh
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = sesgate-test.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$PF_SINK_PORT
smtp_dns_support_level = disabled
smtputf8_enable = no
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
message_size_limit = 52428800
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 20s
smtpd_banner = \$myhostname ESMTP sesgate-test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
CF
    if [ -n "$main_extra" ]; then
        printf '%s\n' "$main_extra" >>"$PF_CONF/main.cf"
    fi
    cat >"$PF_CONF/master.cf" <<CF
# throwaway instance: chroot off everywhere, smtpd on a loopback port
127.0.0.1:$PF_SMTP_PORT inet n - n - 100 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
    if [ -n "$master_extra" ]; then
        printf '%s\n' "$master_extra" >>"$PF_CONF/master.cf"
    fi
    if ! postfix -c "$PF_CONF" check >"$dir/postfix-check.log" 2>&1; then
        cat "$dir/postfix-check.log" >&2
        return 1
    fi
    if ! postfix -c "$PF_CONF" start >"$dir/postfix-start.log" 2>&1; then
        cat "$dir/postfix-start.log" >&2
        return 1
    fi
    pf_wait_port "$PF_SMTP_PORT"
}

# pf_reload - make Postfix re-read main.cf/master.cf
pf_reload() {
    postfix -c "$PF_CONF" reload >/dev/null 2>&1
    sleep 1
}

# pf_stop - stop Postfix and the sink (safe to call twice)
pf_stop() {
    if [ -n "$PF_CONF" ] && [ -f "$PF_CONF/main.cf" ]; then
        postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
        # abort: the master may still be shutting down
        local i
        for i in $(seq 1 50); do
            [ -f "$PF_DIR/queue/pid/master.pid" ] || break
            kill -0 "$(cat "$PF_DIR/queue/pid/master.pid" 2>/dev/null)" \
                2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ -n "$PF_SINK_PID" ]; then
        kill "$PF_SINK_PID" 2>/dev/null || true
        wait "$PF_SINK_PID" 2>/dev/null || true
        PF_SINK_PID=
    fi
    PF_SINK_PORT=
}

# pf_swaks - one SMTP transaction; transcript in $PF_OUT, status $PF_RC
pf_swaks() {
    # "|| PF_RC=$?": a refusal is not a failure of the caller (set -e)
    PF_RC=0
    PF_OUT=$(swaks --server "127.0.0.1:$PF_SMTP_PORT" --timeout 30 \
        --helo client.test "$@" 2>&1) || PF_RC=$?
    return 0
}

# pf_last_reply [TEXT] - the last error or final reply the server sent
# (in $PF_OUT, or in the swaks transcript TEXT)
pf_last_reply() {
    printf '%s\n' "${1-$PF_OUT}" | grep -E '^(<-|<\*\*) ' | grep -v ' 221 ' |
        tail -n 1 | sed -E 's/^(<-|<\*\*) +//'
}

# pf_sink_count - messages that reached the sink
pf_sink_count() {
    find "$PF_DIR/sink" -type f 2>/dev/null | wc -l | tr -d ' '
}

# pf_sink_wait - wait until at least N messages reached the sink
pf_sink_wait() {
    local want=$1 secs=${2:-30} i
    for i in $(seq 1 $((secs * 10))); do
        [ "$(pf_sink_count)" -ge "$want" ] && return 0
        # Deliveries wait for the queue manager; kick it now and then.
        if [ $((i % 20)) = 0 ]; then
            postqueue -c "$PF_CONF" -f >/dev/null 2>&1 || true
        fi
        sleep 0.1
    done
    return 1
}

# pf_sink_rcpts - recipients the sink received, sorted
pf_sink_rcpts() {
    find "$PF_DIR/sink" -type f -exec grep -h '^X-Rcpt-Args: ' {} + \
        2>/dev/null | sed -E 's/^X-Rcpt-Args: <([^>]*)>.*/\1/' | sort
}

# pf_sink_reset - forget what the sink received so far
pf_sink_reset() {
    find "$PF_DIR/sink" -type f -delete 2>/dev/null || true
}

# pf_sink_strays RE - how many messages the sink got with a line
# matching RE (refused senders or recipients that got through)
pf_sink_strays() {
    find "$PF_DIR/sink" -type f -exec grep -E -l "$1" {} + 2>/dev/null |
        wc -l
}

# pf_queue_empty - no message left in incoming, active or deferred
pf_queue_empty() {
    [ -z "$(find "$PF_DIR/queue/deferred" "$PF_DIR/queue/active" \
        "$PF_DIR/queue/incoming" -type f 2>/dev/null)" ]
}

# pf_milter_prepare DIR CTL - a sesgate-milter set-up in DIR: the
# account (example.com verified, gone@example.net suppressed, room for
# any load) imported, the files owned by nobody; 1 when the import fails
pf_milter_prepare() {
    local dir=$1 ctl=$2
    mkdir -p "$dir" "$dir.run"
    chmod 0755 "$dir" "$dir.run"
    chown nobody "$dir.run"       # the milter removes its pid file as nobody
    sg_state_json "$dir/state.json"
    cat >"$dir/sesgate.conf" <<CONF
default_region = eu-west-1
state_dir = $dir/state
milter_user = nobody
milter_socket_group = postfix
milter_socket_mode = 0660
milter_pid_file = $dir.run/milter.pid
CONF
    "$ctl" -c "$dir/sesgate.conf" import "$dir/state.json" >/dev/null ||
        return 1
    "$ctl" -c "$dir/sesgate.conf" status >/dev/null 2>&1   # quota files
    chown -R nobody "$dir/state"
}

# pf_milter_spec KIND DIR - the milter's socket: PF_MILTER_LISTEN for
# its -p, PF_MILTER_SPEC for smtpd_milters
pf_milter_spec() {
    local port
    if [ "$1" = unix ]; then
        PF_MILTER_LISTEN=unix:$2.run/milter.sock
        PF_MILTER_SPEC=$PF_MILTER_LISTEN
    else
        port=$(pf_free_port)
        PF_MILTER_LISTEN=inet:$port@127.0.0.1
        PF_MILTER_SPEC=inet:127.0.0.1:$port
    fi
}

# pf_milter_main SPEC - main.cf text: the milter with the documented
# settings
pf_milter_main() {
    printf '%s\n' "smtpd_milters = $1" "milter_default_action = tempfail" \
        "milter_protocol = 6"
}

# pf_sink_check N SECONDS SETTLE - the end of a milter run: the sink got
# exactly the N accepted messages, none from bad@unverified.test or to
# gone@example.net, and nothing is left in the queue
pf_sink_check() {
    local got strays
    pf_sink_wait "$1" "$2" || true
    sleep "$3"
    got=$(pf_sink_count)
    sg_check "the sink got the $1 accepted messages ($got)" [ "$got" = "$1" ]
    strays=$(pf_sink_strays \
        '^X-(Mail|Rcpt)-Args: <(bad@unverified.test|gone@example.net)>')
    sg_check "no refused sender or recipient reached the sink ($strays)" \
        [ "$strays" = 0 ]
    sg_check "the queue drained" pf_queue_empty
}
