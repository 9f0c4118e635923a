# shellcheck shell=bash
# Helpers for test scripts that run *inside* a vmrun VM (tests/e2e/*.sh).
#
#   . "$(dirname "$0")/../vm/lib.sh"
#
# Everything here builds network namespaces inside the throw-away VM; nothing
# is cleaned up because the VM is discarded. Sourcing this file outside a
# vmrun guest aborts: these helpers would otherwise reconfigure the host.
#
# Naming used by two_sites (documentation address ranges, all traffic stays
# inside the VM):
#
#   A-lan (10.1.0.10) --br-lan-- A (10.1.0.1)  wan0 192.0.2.1 ====
#                                                                  || veth "WAN"
#   B-lan (10.2.0.10) --br-lan-- B (10.2.0.1)  wan0 192.0.2.2 ====
#
# Files a test writes to $WORK (pcaps, logs) live in the job dir, so vmrun
# keeps them with console.log and output when the test fails.

if ! grep -qw vmrun=1 /proc/cmdline 2>/dev/null; then
    echo "lib.sh: not inside a vmrun VM; run this test with tests/vm/vmrun" >&2
    exit 2
fi

WORK=/job/work
mkdir -p "$WORK"

# Addresses of two_sites, for the tests to use by name.
WAN_A=192.0.2.1 WAN_B=192.0.2.2 WAN_PLEN=24
LAN_A_GW=10.1.0.1 LAN_A_HOST=10.1.0.10 LAN_A_NET=10.1.0.0/24
LAN_B_GW=10.2.0.1 LAN_B_HOST=10.2.0.10 LAN_B_NET=10.2.0.0/24
export WAN_A WAN_B WAN_PLEN LAN_A_GW LAN_A_HOST LAN_A_NET LAN_B_GW LAN_B_HOST LAN_B_NET

# --- reporting ---------------------------------------------------------------

# fail MSG...: print and exit 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# step MSG...: a timestamped progress line (guest uptime: under TCG it shows
# where the time goes).
step() {
    local up
    read -r up _ </proc/uptime
    printf '[%8ss] == %s\n' "$up" "$*"
}

# note MSG...: an indented detail line.
note() { printf '            %s\n' "$*"; }

# --- waiting -----------------------------------------------------------------

_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# wait_for TIMEOUT CMD...: run CMD every 0.1 s until it succeeds; return 1 if
# TIMEOUT seconds pass first. Under TCG everything is 10-50x slower than on
# real hardware, so give generous timeouts; polling keeps the fast path fast.
wait_for() {
    local timeout=$1 deadline
    shift
    deadline=$(($(_ms) + timeout * 1000))
    until "$@"; do
        [ "$(_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# --- kernel ------------------------------------------------------------------

# load_modules MOD...: modprobe each (the VM loads nothing by default).
load_modules() {
    local m
    for m in "$@"; do
        modprobe "$m" || fail "modprobe $m"
    done
}

# --- namespaces --------------------------------------------------------------

# ns NAME CMD...: run CMD in namespace NAME. (For `ip` itself prefer
# `ip -n NAME`: no extra exec, which costs ~0.1 s under TCG.)
ns() {
    local n=$1
    shift
    ip netns exec "$n" "$@"
}

# netns_add NAME [forward]: a namespace with lo up; "forward" turns on IPv4
# forwarding (a router, i.e. a site).
netns_add() {
    ip netns add "$1" || fail "ip netns add $1"
    ip -n "$1" link set lo up
    if [ "${2:-}" = forward ]; then
        ip netns exec "$1" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
    fi
}

# veth_link NS1 IF1 ADDR1/PLEN NS2 IF2 ADDR2/PLEN: a veth pair between two
# namespaces, addressed and up.
veth_link() {
    local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
    ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
        fail "veth $ns1/$if1 - $ns2/$if2"
    ip -n "$ns1" addr add "$a1" dev "$if1"
    ip -n "$ns2" addr add "$a2" dev "$if2"
    ip -n "$ns1" link set "$if1" up
    ip -n "$ns2" link set "$if2" up
}

# lan_add SITE GW/PLEN HOSTNS HOST/PLEN: a LAN bridge br-lan in SITE with
# address GW, and a host namespace HOSTNS plugged into it (eth0 = HOST,
# default route via GW).
lan_add() {
    local site=$1 gw=$2 hostns=$3 host=$4
    ip -n "$site" link add br-lan type bridge || fail "bridge in $site"
    ip -n "$site" addr add "$gw" dev br-lan
    ip -n "$site" link set br-lan up
    netns_add "$hostns"
    ip link add eth0 netns "$hostns" type veth peer name "p-$hostns" netns "$site" ||
        fail "veth $hostns - $site"
    ip -n "$site" link set "p-$hostns" master br-lan up
    ip -n "$hostns" addr add "$host" dev eth0
    ip -n "$hostns" link set eth0 up
    ip -n "$hostns" route add default via "${gw%/*}"
}

# two_sites: sites A and B (routers) on a veth WAN, each with a LAN and a
# host on it; see the picture at the top. Leaves the tunnel to the test.
two_sites() {
    netns_add A forward
    netns_add B forward
    veth_link A wan0 "$WAN_A/$WAN_PLEN" B wan0 "$WAN_B/$WAN_PLEN"
    lan_add A "$LAN_A_GW/24" A-lan "$LAN_A_HOST/24"
    lan_add B "$LAN_B_GW/24" B-lan "$LAN_B_HOST/24"
}

# ping_ok NS DEST [COUNT]: COUNT pings (default 5), all must be answered.
# Prints ping's output (for the log) and fails the test otherwise.
ping_ok() {
    local n=$1 dst=$2 count=${3:-5} out
    out=$(ip netns exec "$n" ping -n -c "$count" -i 0.2 -W 3 "$dst" 2>&1) || true
    printf '%s\n' "$out" | tail -n 2 | sed 's/^/            /'
    printf '%s\n' "$out" | grep -q "^$count packets transmitted, $count received" ||
        fail "ping $dst from $n: not all $count answered"
}

# --- packet capture ----------------------------------------------------------

declare -A _CAP_PID=()

# capture_start NAME NS IFACE: capture everything on NS/IFACE into
# $WORK/NAME.pcap; returns once tcpdump is really listening.
# --immediate-mode: libpcap's default TPACKET_V3 ring hands packets over in
# blocks with a timeout, so the last packets could still sit in the kernel
# when we stop; immediate mode delivers each one at once. -U flushes each
# packet to the file. -Z root: Debian's tcpdump otherwise drops to user
# tcpdump, which may not write to $WORK.
capture_start() {
    local name=$1 n=$2 ifc=$3
    ip netns exec "$n" tcpdump -i "$ifc" -n -U --immediate-mode -Z root \
        -w "$WORK/$name.pcap" 2>"$WORK/$name.tcpdump.log" &
    _CAP_PID[$name]=$!
    wait_for 60 grep -q "listening on" "$WORK/$name.tcpdump.log" || {
        cat "$WORK/$name.tcpdump.log" >&2
        fail "tcpdump $name on $n/$ifc did not start"
    }
}

# capture_stop NAME: stop the capture and make sure nothing was lost: a packet
# the kernel handed to tcpdump but that never reached the file could be
# exactly the cleartext packet a test is looking for.
capture_stop() {
    local name=$1 pid=${_CAP_PID[$1]} log=$WORK/$1.tcpdump.log
    local captured received dropped
    kill -INT "$pid"
    wait "$pid" || fail "tcpdump $name exited with an error: $(cat "$log")"
    unset "_CAP_PID[$name]"
    captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$log")
    received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$log")
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$log")
    if [ -z "$captured" ] || [ -z "$received" ] || [ -z "$dropped" ]; then
        fail "tcpdump $name: no statistics in its log: $(cat "$log")"
    fi
    if [ "$dropped" -ne 0 ] || [ "$captured" -ne "$received" ]; then
        fail "capture $name incomplete: $received packets received, $captured written, $dropped dropped"
    fi
}

# capture_count NAME [FILTER...]: how many packets in NAME.pcap match the
# pcap-filter expression (all packets without one).
capture_count() {
    local name=$1
    shift
    tcpdump -r "$WORK/$name.pcap" -n "$@" 2>/dev/null | wc -l
}

# capture_show NAME [FILTER...]: the decoded packets (for the log).
capture_show() {
    local name=$1
    shift
    tcpdump -r "$WORK/$name.pcap" -n -v "$@" 2>/dev/null | sed 's/^/    /'
}

# --- XFRM --------------------------------------------------------------------

# sa_packets NS SRC DST SPI: the kernel's packet counter of one ESP SA
# ("lifetime current: N(bytes), M(packets)" in `ip -s xfrm state`).
sa_packets() {
    ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
        sed -n 's/^.* \([0-9]*\)(packets).*$/\1/p' | head -n 1
}
