#!/bin/sh
# Installs (or, with --check, only looks for) every Debian package the build
# and the tests need. One list, so `make deps` and `make check` agree.
set -eu

PACKAGES="
  build-essential clang pkg-config
  libnl-3-dev libnl-route-3-dev libnl-xfrm-3-dev libnl-genl-3-dev
  libssl-dev libyaml-dev libjson-c-dev check
  qemu-system-x86 linux-image-amd64 busybox-static cpio kmod
  iproute2 iputils-ping tcpdump frr nftables conntrack
  python3 python3-cryptography
  strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
  libnss3-tools libnss3 libnspr4 libldns3 libunbound8 libevent-core-2.1-7
  libevent-pthreads-2.1-7 libcurl3-nss libldap-2.5-0 libcap-ng0 libaudit1
  libpam0g libselinux1 libsystemd0 libcrypt1 dns-root-data
"
# conntrack: tests/e2e/nat_traversal*.sh make their NAT router forget its
# mappings (`conntrack -F`), as a rebooting home router would.
# strongSwan is the interop peer of tests/interop (charon in a VM's network
# namespace, never as a host service). The three packages are all it needs:
# charon + the core plugins (random, nonce, kernel-netlink, socket-default),
# swanctl + vici, and openssl (AES-CBC/GCM, SHA-2, MODP, ECP, X25519); the
# -extra-plugins packages add nothing the tests use.
# Libreswan is the second interop peer. Its package conflicts with
# strongSwan's, so scripts/libreswan.sh only downloads and unpacks it (into
# /opt/libreswan, run at the end of this script); the line from libnss3-tools
# on is what its pluto, whack and addconn link against (ldd), plus certutil
# (libnss3-tools) for pluto's NSS database and DNSSEC's root key.

missing() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

here=$(cd "$(dirname "$0")" && pwd -P)
todo=$(missing)
if [ "${1:-}" = "--check" ]; then
    if [ -n "$todo" ]; then
        echo "missing packages:" $todo >&2
        exit 1
    fi
    exec "$here/libreswan.sh" --check
fi
if [ -z "$todo" ]; then
    echo "deps: all packages present"
    exec "$here/libreswan.sh"
fi
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

# strongswan-charon pulls in strongswan-starter, whose postinst enables (and,
# where services may start, starts) the host's "ipsec" service: a charon on
# the host's UDP 500/4500 with the host's /etc/ipsec.conf. The tests run
# their own charons inside VMs and need none of it, so when this run is the
# one that installed strongSwan, switch that service off again.
new_swan=0
for p in $todo; do [ "$p" = strongswan-charon ] && new_swan=1; done
if [ "$new_swan" = 1 ]; then
    if command -v systemctl >/dev/null 2>&1; then
        if [ -d /run/systemd/system ]; then
            systemctl disable --now strongswan-starter.service >/dev/null 2>&1 || true
        else
            systemctl disable strongswan-starter.service >/dev/null 2>&1 || true
        fi
    fi
    if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/ipsec ]; then
        invoke-rc.d ipsec stop >/dev/null 2>&1 || true
        update-rc.d ipsec disable >/dev/null 2>&1 || true
    fi
    echo "deps: strongSwan installed; its host service (strongswan-starter/ipsec) is disabled"
fi

# Libreswan, unpacked beside the installed packages (needs its libraries,
# installed above).
exec "$here/libreswan.sh"
