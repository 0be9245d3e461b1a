#!/bin/bash
# t-install.sh - the Debian package, installed and run as an
# administrator would get it
#
# 1. builds sesgate_*.deb from a copy of the source tree (tracked and
#    untracked-but-not-ignored files, so uncommitted work is tested too)
#    with packaging/debian linked as ./debian and dpkg-buildpackage;
#    or takes SESGATE_DEB=/path/to/sesgate_*.deb as given;
# 2. "apt-get install ./sesgate_*.deb" on this machine (any sesgate
#    installed before is purged first);
# 3. checks what the package put where: binaries, conffile, man pages,
#    units ("systemd-analyze verify"), the sesgate user, /var/lib/sesgate
#    and /run/sesgate;
# 4. runs the daemons as the units would, without systemd: User=,
#    Group=, SupplementaryGroups=, UMask= and ExecStart= are read from
#    the installed unit files and applied with setpriv (no capabilities,
#    no new privileges);
# 5. imports the example state as sesgate (as sesgate-sync.service
#    would write it), runs "sesgatectl check", and sends mail through a
#    throwaway Postfix (tests/integration/postfix-lib.sh) that asks the
#    installed sesgate-policyd and sesgate-milter over their sockets in
#    /run/sesgate; reloads both (ExecReload) and stops them;
# 6. reinstalls the package over itself (the upgrade path: state and
#    configuration kept), removes it (configuration and state kept),
#    purges it, and checks that only the sesgate user is left (Debian
#    keeps system users).
#
# Needs root, dpkg-buildpackage (packaging/deps.sh), postfix, swaks.
# Changes this machine: the sesgate package, user and directories.
# Prints "N passed, M failed"; exit 77 when it cannot run (a failure
# under SESGATE_SKIPS_AS_FAILS=1, as CI sets it).
#
# Usage: tests/install/t-install.sh      (from anywhere)
# Environment: SESGATE_DEB (use this .deb, do not build), KEEP=1 (keep
# the temp dir and leave the package installed, for a post mortem).

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
. "$top_srcdir/tests/integration/postfix-lib.sh"

export DEBIAN_FRONTEND=noninteractive
unitdir=/lib/systemd/system

# skip - cannot run here
skip() {
    echo "SKIP: $*"
    [ "${SESGATE_SKIPS_AS_FAILS:-0}" = 1 ] && exit 1
    exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (installs a package)"
for p in dpkg-buildpackage apt-get setpriv git; do
    command -v "$p" >/dev/null 2>&1 || skip "missing $p (packaging/deps.sh)"
done
pf_need_peers

passed=0
failed=0
case_name=
T=$(mktemp -d "${TMPDIR:-/tmp}/sesgate-install.XXXXXX") || exit 99
chmod 0755 "$T"
PIDS=

# cleanup - stop what this script started; the package goes unless KEEP
cleanup() {
    local p
    pf_stop
    for p in $PIDS; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept: $T (and the installed package)"
        return
    fi
    if dpkg-query -W -f='${Status}' sesgate 2>/dev/null |
        grep -q 'installed'; then
        apt-get purge -y -q sesgate >/dev/null 2>&1
    fi
    sg_keep_logs "$T"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# case / ok / bad - name and count assertions
case_() {
    case_name=$1
    echo "== $case_name"
}
ok() {
    passed=$((passed + 1))
}
bad() {
    failed=$((failed + 1))
    echo "FAIL: [$case_name] $*"
}
# check DESCRIPTION CMD... - one assertion: CMD succeeds
check() {
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; return 1; fi
}
# check_not DESCRIPTION CMD... - one assertion: CMD fails
check_not() {
    local what=$1
    shift
    if "$@"; then bad "$what"; else ok; fi
}
# stat_is PATH "OWNER:GROUP MODE" - owner, group and octal mode
stat_is() {
    local got
    got=$(stat -c '%U:%G %a' "$1" 2>/dev/null)
    if [ "$got" = "$2" ]; then ok; else bad "$1 is '$got', want '$2'"; fi
}

# unit_get UNIT KEY - the last value of KEY= in an installed unit
unit_get() {
    sed -n "s/^$2=//p" "$unitdir/$1" | tail -n 1
}

# unit_exec UNIT CMD... - exec CMD with the credentials UNIT gives its
# process: its User, Group, SupplementaryGroups and UMask, no
# capabilities, NoNewPrivileges. CMD "ExecStart" means the unit's own.
# Replaces the shell: call it in a subshell, or with & (then $! is the
# program's own process id).
unit_exec() {
    local unit=$1 user group supp um groups
    shift
    user=$(unit_get "$unit" User)
    group=$(unit_get "$unit" Group)
    supp=$(unit_get "$unit" SupplementaryGroups | tr ' ' ',')
    um=$(unit_get "$unit" UMask)
    if [ -n "$supp" ]; then groups=--groups=$supp; else groups=--clear-groups; fi
    if [ "$1" = ExecStart ]; then
        # shellcheck disable=SC2046 # the unit's command line, split
        set -- $(unit_get "$unit" ExecStart)
    fi
    umask "${um:-0022}"
    cd / || exit 1
    exec setpriv --reuid="$user" --regid="$group" \
        "$groups" \
        --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
}
# as_unit UNIT CMD... - unit_exec in a subshell, for its exit status
as_unit() {
    (unit_exec "$@")
}

# wait_socket PATH - until PATH is a socket (5 s)
wait_socket() {
    local i
    for i in $(seq 1 50); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- 1. build ----------------------------------------------------------
case_ "build the .deb"
deb=${SESGATE_DEB:-}
if [ -z "$deb" ]; then
    mkdir -p "$T/build/sesgate"
    if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$top_srcdir" && git ls-files -z -c -o --exclude-standard |
            xargs -0 tar cf - --no-recursion) | tar xf - -C "$T/build/sesgate"
    else
        # an unpacked tarball: all of it but the build trees
        (cd "$top_srcdir" && tar cf - --exclude='./_build*' --exclude=./debian .) |
            tar xf - -C "$T/build/sesgate"
    fi
    ln -sfn packaging/debian "$T/build/sesgate/debian"
    # "make check" is run-all.sh's business; SESGATE_DEB_CHECK=1 runs
    # it inside the package build as well.
    [ "${SESGATE_DEB_CHECK:-0}" = 1 ] ||
        export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
    if (cd "$T/build/sesgate" &&
        dpkg-buildpackage -us -uc -b -j"$(nproc 2>/dev/null || echo 2)") \
        >"$T/build.log" 2>&1; then
        ok
    else
        bad "dpkg-buildpackage failed"
        tail -n 40 "$T/build.log"
        echo "$passed passed, $failed failed"
        exit 1
    fi
    deb=$(ls "$T"/build/sesgate_*.deb | grep -v dbgsym | head -n 1)
fi
check "a .deb: '$deb'" test -f "$deb"
if command -v lintian >/dev/null 2>&1; then
    lintian -I --fail-on error "$deb" >"$T/lintian.log" 2>&1
    check "lintian reports no errors" test $? -eq 0
    sed 's/^/    lintian: /' "$T/lintian.log"
fi

# ---- 2. install --------------------------------------------------------
case_ "apt-get install ./$(basename "$deb")"
if dpkg-query -W -f='${Status}' sesgate 2>/dev/null | grep -q installed; then
    apt-get purge -y -q sesgate >/dev/null 2>&1
fi
# apt-get wants a path with a slash to take it for a file.
cp "$deb" "$T/"
debfile=$T/$(basename "$deb")
chmod 0644 "$debfile"
if apt-get install -y -q "$debfile" >"$T/install.log" 2>&1; then
    ok
else
    bad "apt-get install failed"
    cat "$T/install.log"
    echo "$passed passed, $failed failed"
    exit 1
fi

# ---- 3. what is where --------------------------------------------------
case_ "installed files"
for f in /usr/sbin/sesgate-milter /usr/sbin/sesgate-policyd \
    /usr/sbin/sesgatectl; do
    check "$f executable" test -x "$f"
done
check "conffile /etc/sesgate/sesgate.conf" \
    grep -qx ' /etc/sesgate/sesgate.conf [0-9a-f]*' \
    <(dpkg-query -W -f='${Conffiles}\n' sesgate)
check "the sample configuration" \
    cmp -s /etc/sesgate/sesgate.conf "$top_srcdir/packaging/sesgate.conf.sample"
for m in sesgate-milter.8 sesgate-policyd.8 sesgatectl.8 sesgate.conf.5; do
    check "man page $m" test -f "/usr/share/man/man${m##*.}/$m.gz"
done
check "man pages name /etc/sesgate" \
    sh -c 'zcat /usr/share/man/man8/sesgatectl.8.gz | grep -q /etc/sesgate/sesgate.conf'
for u in sesgate-milter.service sesgate-policyd.service \
    sesgate-sync.service sesgate-sync.timer; do
    check "unit $u" test -f "$unitdir/$u"
done
check "sysusers.d" test -f /usr/lib/sysusers.d/sesgate.conf
check "tmpfiles.d" test -f /usr/lib/tmpfiles.d/sesgate.conf
check "example state" test -f /usr/share/doc/sesgate/examples/state.json
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify "$unitdir"/sesgate-milter.service \
        "$unitdir"/sesgate-policyd.service "$unitdir"/sesgate-sync.service \
        "$unitdir"/sesgate-sync.timer >"$T/verify.log" 2>&1
    rc=$?
    grep sesgate "$T/verify.log" >"$T/verify.sesgate"
    check "systemd-analyze verify exits 0" test "$rc" -eq 0
    check "systemd-analyze verify says nothing about sesgate" \
        test ! -s "$T/verify.sesgate"
    cat "$T/verify.sesgate"
fi

case_ "user and directories"
check "user sesgate" sh -c 'getent passwd sesgate >/dev/null'
check "group sesgate" sh -c 'getent group sesgate >/dev/null'
check "sesgate has no login shell" \
    sh -c 'getent passwd sesgate | grep -q ":/usr/sbin/nologin$"'
stat_is /var/lib/sesgate "sesgate:sesgate 750"
stat_is /run/sesgate "sesgate:sesgate 755"
stat_is /etc/sesgate/sesgate.conf "root:root 644"

# ---- 4./5. run as the units would --------------------------------------
case_ "configure and import the example state (as sesgate)"
cp /usr/share/doc/sesgate/examples/sender_region_map /etc/sesgate/
cat >>/etc/sesgate/sesgate.conf <<'CONF'

# added by tests/install/t-install.sh
default_region = us-east-1
sender_region_map = sender_region_map
CONF
check "sesgatectl -n (configuration valid)" \
    as_unit sesgate-sync.service /usr/sbin/sesgatectl -n
if as_unit sesgate-sync.service /usr/sbin/sesgatectl import \
    /usr/share/doc/sesgate/examples/state.json >"$T/import.log" 2>&1; then
    ok
else
    bad "import failed"
    cat "$T/import.log"
fi
check "state files belong to sesgate" \
    test -z "$(find /var/lib/sesgate -mindepth 1 ! -user sesgate)"

case_ "sesgatectl check"
# As sesgate: run as root, sesgatectl would create quota.db owned by
# root and mode 0600, which the daemons then cannot open
# (packaging/README, "Run sesgatectl as sesgate").
ctl_check() {
    as_unit sesgate-sync.service /usr/sbin/sesgatectl check "$@" \
        >"$T/check.out" 2>&1
}
ctl_check --from news@example.com --rcpt alice@example.org
check "accepted: verified sender and recipient (exit 0)" test $? -eq 0
check "accepted: line" grep -q '^rcpt alice@example.org: ACCEPT' "$T/check.out"
ctl_check --from someone@unverified.example --rcpt alice@example.org
check_not "refused: unverified sender (exit status)" test $? -eq 0
check "refused: unverified sender (message line)" \
    grep -q '^message: REJECT 554 5.7.1 .*not verified' "$T/check.out" ||
    cat "$T/check.out"
ctl_check --from news@example.com --rcpt gone@example.com \
    --rcpt alice@example.org
check "suppressed recipient refused" \
    grep -q '^rcpt gone@example.com: REJECT' "$T/check.out"
check "other recipient accepted" \
    grep -q '^rcpt alice@example.org: ACCEPT' "$T/check.out"
ctl_check --from billing@eu.example.com --rcpt customer@example.net
check "eu-west-1 daily quota spent: deferred" \
    grep -q '^rcpt customer@example.net: DEFER 454' "$T/check.out"

check "state files still belong to sesgate" \
    test -z "$(find /var/lib/sesgate -mindepth 1 ! -user sesgate)"

case_ "start sesgate-policyd and sesgate-milter as their units"
unit_exec sesgate-policyd.service ExecStart >"$T/policyd.log" 2>&1 &
POLICYD_PID=$!
PIDS="$PIDS $POLICYD_PID"
unit_exec sesgate-milter.service ExecStart >"$T/milter.log" 2>&1 &
MILTER_PID=$!
PIDS="$PIDS $MILTER_PID"
check "policyd socket" wait_socket /run/sesgate/policyd.sock
check "milter socket" wait_socket /run/sesgate/milter.sock
stat_is /run/sesgate/policyd.sock "sesgate:postfix 660"
stat_is /run/sesgate/milter.sock "sesgate:postfix 660"
check "policyd runs as sesgate" test "$(ps -o user= -p "$POLICYD_PID")" = sesgate
check "milter runs as sesgate" test "$(ps -o user= -p "$MILTER_PID")" = sesgate
if [ "$failed" -gt 0 ]; then
    echo "---- policyd.log"; cat "$T/policyd.log"
    echo "---- milter.log"; cat "$T/milter.log"
fi

# mail_cases - the three transactions against the running Postfix: an
# accepted message, an unverified sender, a suppressed recipient next to
# an accepted one. us-east-1 allows 1 message per second in the example
# state: accepted mail waits a second first.
mail_cases() {
    sleep 1.1
    pf_swaks --from news@example.com --to alice@example.org \
        --header "Subject: accepted"
    case $(pf_last_reply) in
    "250 2.0.0 Ok: queued as "?*) ok ;;
    *) bad "accepted mail: reply '$(pf_last_reply)'"
       printf '%s\n' "$PF_OUT" | tail -n 15 ;;
    esac
    check "the sink got it" pf_sink_wait 1 20

    pf_swaks --from someone@unverified.example --to alice@example.org \
        --header "Subject: refused"
    case $(pf_last_reply) in
    "554 5.7.1 "*"not verified"*) ok ;;
    *) bad "unverified sender: reply '$(pf_last_reply)'"
       printf '%s\n' "$PF_OUT" | tail -n 15 ;;
    esac

    sleep 1.1
    pf_swaks --from news@example.com --to gone@example.com,alice@example.org \
        --header "Subject: one suppressed"
    if printf '%s\n' "$PF_OUT" |
        grep -qE '^<\*\* +5[0-9][0-9] .*(gone@example.com|Address is on the suppression list)'
    then ok; else bad "gone@example.com not refused"
        printf '%s\n' "$PF_OUT" | tail -n 20; fi
    case $(pf_last_reply) in
    "250 2.0.0 Ok: queued as "?*) ok ;;
    *) bad "alice not accepted: reply '$(pf_last_reply)'" ;;
    esac
    check "the sink got the second message" pf_sink_wait 2 20
    check "the sink got alice, not gone" \
        test "$(pf_sink_rcpts | tr '\n' ' ')" = "alice@example.org alice@example.org "
}

# The policy service and the milter are tried one at a time: in one
# Postfix together each would hold a quota unit for the same recipient
# (packaging/README, "What is left").
case_ "mail through a throwaway Postfix: sesgate-policyd"
main=$(sh "$top_srcdir/policy/snippet.sh" \
    "$top_srcdir/policy/postfix-snippets.txt" main-unix \
    SOCKET=/run/sesgate/policyd.sock)
if pf_start "$T/pf-policy" "$main"; then ok; else bad "postfix did not start"; fi
mail_cases
check "policyd logged a refusal in Postfix's shape" \
    grep -q 'reject: RCPT from .*rule=R' "$T/policyd.log"
pf_stop

case_ "mail through a throwaway Postfix: sesgate-milter"
main="smtpd_milters = unix:/run/sesgate/milter.sock
milter_default_action = tempfail
milter_protocol = 6"
if pf_start "$T/pf-milter" "$main"; then ok; else bad "postfix did not start"; fi
mail_cases
check "milter logged a refusal in Postfix's shape" \
    grep -q 'reject: .*rule=R' "$T/milter.log"

case_ "reload (ExecReload) and stop"
reload_sig() {
    unit_get "$1" ExecReload | sed -n 's|^/bin/kill -\([A-Z0-9]*\) \$MAINPID$|\1|p'
}
check "policyd ExecReload is a signal" test -n "$(reload_sig sesgate-policyd.service)"
kill -"$(reload_sig sesgate-policyd.service)" "$POLICYD_PID"
kill -"$(reload_sig sesgate-milter.service)" "$MILTER_PID"
sleep 1
check "policyd alive after reload" kill -0 "$POLICYD_PID"
check "milter alive after reload" kill -0 "$MILTER_PID"
sleep 1.1
pf_swaks --from news@example.com --to alice@example.org --header "Subject: after reload"
case $(pf_last_reply) in
"250 2.0.0 Ok: queued as "?*) ok ;;
*) bad "after reload: reply '$(pf_last_reply)'" ;;
esac
pf_stop
kill -TERM "$POLICYD_PID" "$MILTER_PID"
wait "$POLICYD_PID"
check "policyd exits 0 on SIGTERM" test $? -eq 0
wait "$MILTER_PID"
check "milter exits 0 on SIGTERM" test $? -eq 0
PIDS=

# ---- 6. upgrade, remove, purge -----------------------------------------
case_ "upgrade (the package over itself) keeps state and configuration"
find /var/lib/sesgate -type f -exec md5sum {} + | sort >"$T/state.before"
if dpkg -i "$debfile" >"$T/upgrade.log" 2>&1; then ok; else
    bad "dpkg -i over the installed package failed"; cat "$T/upgrade.log"; fi
check "state kept" test -s "$T/state.before"
find /var/lib/sesgate -type f -exec md5sum {} + | sort >"$T/state.after"
check "state unchanged" cmp -s "$T/state.before" "$T/state.after"
check "configuration edit kept" grep -q '^default_region = us-east-1' \
    /etc/sesgate/sesgate.conf

case_ "remove keeps configuration and state"
apt-get remove -y -q sesgate >"$T/remove.log" 2>&1
check "removed" test ! -e /usr/sbin/sesgate-milter
check "configuration kept" test -f /etc/sesgate/sesgate.conf
check "state kept" test -d /var/lib/sesgate
check "status config-files" \
    test "$(dpkg-query -W -f='${db:Status-Status}' sesgate)" = config-files

case_ "purge removes configuration and state, keeps the user"
apt-get purge -y -q sesgate >"$T/purge.log" 2>&1
check "package gone" test -z "$(dpkg-query -W -f='${db:Status-Status}' sesgate 2>/dev/null)"
for p in /etc/sesgate /var/lib/sesgate /run/sesgate /usr/sbin/sesgatectl \
    /usr/sbin/sesgate-milter /usr/sbin/sesgate-policyd \
    "$unitdir/sesgate-milter.service" /usr/lib/sysusers.d/sesgate.conf \
    /usr/share/doc/sesgate /usr/share/man/man8/sesgatectl.8.gz; do
    check "gone: $p" test ! -e "$p"
done
left=$(find /etc /lib/systemd /usr /var/lib /run -xdev \
    \( -name '*sesgate*' -o -user sesgate \) 2>/dev/null |
    grep -v "^$top_srcdir" | grep -v "^${TMPDIR:-/tmp}")
check "nothing else named sesgate or owned by it is left" test -z "$left"
[ -n "$left" ] && printf '    left: %s\n' $left
check "user sesgate kept (Debian keeps system users)" sh -c 'getent passwd sesgate >/dev/null'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
