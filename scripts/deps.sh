#!/bin/sh
# Installs (or, with --check, only looks for) every Debian package the build
# and the tests need. One list, so `make deps` and `make check` agree.
set -eu

PACKAGES="
  build-essential clang pkg-config
  libnl-3-dev libnl-route-3-dev libnl-xfrm-3-dev libnl-genl-3-dev
  libssl-dev libyaml-dev libjson-c-dev check
  qemu-system-x86 linux-image-amd64 busybox-static cpio kmod
  iproute2 iputils-ping tcpdump frr
  python3 python3-cryptography
"

missing() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

todo=$(missing)
if [ "${1:-}" = "--check" ]; then
    [ -z "$todo" ] && exit 0
    echo "missing packages:" $todo >&2
    exit 1
fi
[ -z "$todo" ] && { echo "deps: all packages present"; exit 0; }
if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to install:" $todo >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; an old list may name versions long gone.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt-get update -q
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $todo
