#!/bin/sh
# Libreswan for tests/interop, without installing it: Debian's libreswan
# conflicts with strongSwan (strongswan-charon, -starter, -libcharon), which
# the interop tests also need, so the package is only downloaded
# (`apt-get download`) and unpacked (`dpkg -x`) into $LIBRESWAN_ROOT
# (default /opt/libreswan). Its libraries are ordinary packages, in
# scripts/deps.sh's list; this script checks with ldd that pluto, whack and
# addconn find every one. tests/interop/libreswan.sh runs the unpacked pluto
# with its own --rundir, --nssdir, --secretsfile and --config.
#
#   scripts/libreswan.sh            unpack it unless the same version is there
#   scripts/libreswan.sh --check    exit 0 if it is there and runnable, else 1
#
# Idempotent: $LIBRESWAN_ROOT/VERSION holds the unpacked package's version;
# a run with that version already there (and runnable) does nothing.
set -eu

ROOT=${LIBRESWAN_ROOT:-/opt/libreswan}
BINS="usr/libexec/ipsec/pluto usr/libexec/ipsec/whack usr/libexec/ipsec/addconn"

# runnable DIR: every binary there, and ldd finds all its libraries.
runnable() {
    for b in $BINS; do
        [ -x "$1/$b" ] || { echo "libreswan: no $1/$b" >&2; return 1; }
        if ldd "$1/$b" | grep -q 'not found'; then
            echo "libreswan: $1/$b lacks libraries (scripts/deps.sh installs them):" \
                "$(ldd "$1/$b" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*$/\1/p' | tr '\n' ' ')" >&2
            return 1
        fi
    done
    "$1/usr/libexec/ipsec/pluto" --version >/dev/null 2>&1 ||
        { echo "libreswan: $1/usr/libexec/ipsec/pluto --version fails" >&2; return 1; }
}

if [ "${1:-}" = --check ]; then
    [ -s "$ROOT/VERSION" ] || { echo "libreswan: not unpacked in $ROOT (scripts/libreswan.sh)" >&2; exit 1; }
    runnable "$ROOT"
    exit $?
fi
[ $# -eq 0 ] || { echo "usage: scripts/libreswan.sh [--check]" >&2; exit 2; }

# The version apt would take; an empty candidate means no package lists.
candidate() { apt-cache policy libreswan 2>/dev/null | sed -n 's/^ *Candidate: *//p'; }
want=$(candidate)
if [ -z "$want" ] || [ "$want" = "(none)" ]; then
    if [ "$(id -u)" = 0 ]; then apt-get update -q >/dev/null; fi
    want=$(candidate)
fi
have=$(cat "$ROOT/VERSION" 2>/dev/null || true)
if [ -n "$have" ] && { [ -z "$want" ] || [ "$want" = "(none)" ] || [ "$have" = "$want" ]; }; then
    if runnable "$ROOT"; then
        echo "libreswan: $have present in $ROOT"
        exit 0
    fi
fi
if [ -z "$want" ] || [ "$want" = "(none)" ]; then
    echo "libreswan: apt knows no libreswan package (apt-get update?)" >&2
    exit 1
fi

# Download into a scratch directory (apt-get download writes to the cwd;
# _apt must be able to write there, else apt warns and downloads as root).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
(cd "$tmp" && apt-get download -q "libreswan=$want" >/dev/null 2>"$tmp/apt.err") || {
    cat "$tmp/apt.err" >&2
    echo "libreswan: apt-get download libreswan=$want failed" >&2
    exit 1
}
deb=$(ls "$tmp"/libreswan_*.deb)
mkdir -p "$(dirname "$ROOT")"
rm -rf "$ROOT.new"
dpkg -x "$deb" "$ROOT.new"
echo "$want" >"$ROOT.new/VERSION"
runnable "$ROOT.new" || { rm -rf "$ROOT.new"; exit 1; }
rm -rf "$ROOT"
mv "$ROOT.new" "$ROOT"
echo "libreswan: $want unpacked in $ROOT ($("$ROOT/usr/libexec/ipsec/pluto" --version 2>&1 | head -n 1))"
