#!/bin/sh
# packaging/deps.sh - install what building and testing sesgate needs
#
# Debian 12 (bookworm) packages only. Runs apt-get only when something
# is missing, so it is cheap to call again. Needs root for the install.
# Postfix is preseeded to "No configuration": the tests run their own
# throwaway instances and never touch a system one.

set -eu

# Build: toolchain, autotools, the libraries sesgate links.
BUILD_PKGS="build-essential autoconf automake libtool pkg-config
libmilter-dev liblmdb-dev libjansson-dev libcurl4-openssl-dev libssl-dev
libhiredis-dev check"
# Tests and tools: real peers, fuzzing, benchmarks.
TEST_PKGS="lmdb-utils clang libclang-rt-14-dev valgrind python3
postfix postfix-lmdb swaks miltertest redis-server procps iproute2 time jq
libwrap0 m4"
# Packaging: "make deb" (dpkg-buildpackage, debhelper), lintian, "make
# rpm" as a smoke test (rpm), systemd-analyze verify/security (systemd),
# and the install test (tests/install/t-install.sh).
PKG_PKGS="debhelper dpkg-dev fakeroot lintian rpm systemd"

missing=""
for p in $BUILD_PKGS $TEST_PKGS $PKG_PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
        | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all build and test packages are installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root (or: sudo $0) to install them" >&2
    exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" \
    | debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
