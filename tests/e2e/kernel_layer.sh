#!/bin/bash
# tunneld's kernel layer (tunneld/gre.c, tunneld/xfrm.c through libnl-3),
# driven by tests/tools/nlkey, against the VM's real kernel:
#  1. GRE + transport-mode ESP (AES-GCM-16, then AES-CBC + HMAC-SHA2-256-128)
#     carries a ping between the two sites, and the WAN sees only ESP;
#  2. with the SAs gone but the policies kept (a peer that is down or
#     re-negotiating), GRE is dropped, never sent in the clear;
#  3. `down` leaves no interface, state or policy behind.
# Runs inside tests/vm/vmrun (the host kernel has neither GRE nor ESP).
set -eu
cd "$(dirname "$0")/../.."
NLKEY=${NLKEY:-build/cc/tools/nlkey}
[ -x "$NLKEY" ] || { echo "FAIL: $NLKEY not built (make)"; exit 1; }
NLKEY=$(pwd)/$NLKEY
cap=$(mktemp -d)

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $*"; }

modprobe -a ip_gre esp4 xfrm_user 2>/dev/null || true
for ns in A B; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add wanA netns A type veth peer name wanB netns B
ip -n A addr add 192.0.2.1/24 dev wanA && ip -n A link set wanA up
ip -n B addr add 192.0.2.2/24 dev wanB && ip -n B link set wanB up

K1=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324
K2=a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4
common="--gre-key 4242 --reqid 77"
side_a="--if gre-b --local 192.0.2.1 --remote 192.0.2.2 --inner 169.254.7.0/31"
side_b="--if gre-a --local 192.0.2.2 --remote 192.0.2.1 --inner 169.254.7.1/31"

# $1 = extra options for A, $2 for B
up() {
    # shellcheck disable=SC2086
    ip netns exec A "$NLKEY" up $side_a $common $1 || fail "nlkey up on A"
    # shellcheck disable=SC2086
    ip netns exec B "$NLKEY" up $side_b $common $2 || fail "nlkey up on B"
}
down() {
    # shellcheck disable=SC2086
    ip netns exec A "$NLKEY" down $side_a $common $1 || fail "nlkey down on A"
    # shellcheck disable=SC2086
    ip netns exec B "$NLKEY" down $side_b $common $2 || fail "nlkey down on B"
}

# Ping across the GRE with tcpdump on the WAN; $1: expect ping to pass (1) or fail (0).
ping_and_capture() {
    local name=$1 expect=$2
    ip netns exec A tcpdump -i wanA -n -U -w "$cap/$name.pcap" 2>"$cap/$name.err" &
    local pid=$!
    for _ in $(seq 50); do grep -q listening "$cap/$name.err" 2>/dev/null && break; sleep 0.1; done
    # Under TCG "listening" comes a moment before the socket really captures,
    # and SIGINT can beat the last packets to the file: settle on both ends.
    sleep 1
    local ok=1
    ip netns exec A ping -c 10 -i 0.2 -W 2 169.254.7.1 >"$cap/$name.ping" 2>&1 || ok=0
    sleep 1
    kill -INT $pid; wait $pid || true
    [ "$ok" = "$expect" ] || { cat "$cap/$name.ping"; fail "$name: ping result $ok, expected $expect"; }
}

count() { tcpdump -r "$cap/$1.pcap" -n "$2" 2>/dev/null | wc -l; }

assert_only_esp() {
    local name=$1 clear esp
    clear=$(count "$name" 'ip proto 47 or icmp')
    esp=$(count "$name" 'ip proto 50')
    echo "$name: $esp ESP packets, $clear GRE/ICMP in the clear"
    if [ "$clear" -ne 0 ] || [ "$esp" -lt 10 ]; then
        tcpdump -r "$cap/$name.pcap" -n 2>/dev/null | head -30
        cat "$cap/$name.ping" "$cap/$name.err"
        fail "$name: GRE/ICMP in the clear, or fewer than 10 ESP packets (10 pings sent)"
    fi
}

assert_sa_counted() {
    ip -n A -s xfrm state >"$cap/states"
    grep -q "$1" "$cap/states" || fail "no $1 state on A"
    # iproute2 prints "N(bytes), M(packets)" under "lifetime current"
    awk '/lifetime current/ { getline; if ($2 + 0 > 0) n++ } END { exit n >= 2 ? 0 : 1 }' \
        "$cap/states" || { cat "$cap/states"; fail "kernel SA packet counters stayed at 0"; }
}

step "AES-GCM-16 (rfc4106) through libnl"
gcm_a="--spi-in 0x1001 --spi-out 0x2002 --key-in $K1 --key-out $K2"
gcm_b="--spi-in 0x2002 --spi-out 0x1001 --key-in $K2 --key-out $K1"
up "$gcm_a" "$gcm_b"
ip -n A -d link show gre-b | grep -Eq "key (4242|0\.0\.16\.146)" || fail "GRE key not set"
ip -n A xfrm policy >"$cap/policy"
grep -q "proto gre" "$cap/policy" || fail "no GRE policy"
ip -n A xfrm state >"$cap/spi"
grep -q "spi 0x00001001" "$cap/spi" || fail "inbound SPI not as given (byte order?)"
ping_and_capture gcm 1
assert_only_esp gcm
assert_sa_counted "rfc4106(gcm(aes))"

step "no SA, policies kept: GRE is dropped, not sent in the clear"
ip -n A xfrm state flush && ip -n B xfrm state flush
ping_and_capture nosa 0
[ "$(count nosa 'ip proto 47')" -eq 0 ] || fail "GRE left in the clear without an SA"
down "$gcm_a" "$gcm_b"

step "AES-CBC-256 + HMAC-SHA2-256-128 through libnl"
I1=1111111111111111111111111111111111111111111111111111111111111111
I2=2222222222222222222222222222222222222222222222222222222222222222
cbc_a="--integ sha256 --spi-in 0x3003 --spi-out 0x4004 --key-in ${K1:0:64} --key-out ${K2:0:64} --ikey-in $I1 --ikey-out $I2"
cbc_b="--integ sha256 --spi-in 0x4004 --spi-out 0x3003 --key-in ${K2:0:64} --key-out ${K1:0:64} --ikey-in $I2 --ikey-out $I1"
up "$cbc_a" "$cbc_b"
ping_and_capture cbc 1
assert_only_esp cbc
assert_sa_counted "hmac(sha256)"

step "down removes everything"
down "$cbc_a" "$cbc_b"
for ns in A B; do
    [ -z "$(ip -n $ns xfrm state)" ] || fail "$ns: XFRM states left behind"
    [ -z "$(ip -n $ns xfrm policy)" ] || fail "$ns: XFRM policies left behind"
    ip -n $ns -o link show type gre | grep -q 'gre-' && fail "$ns: GRE link left behind"
done
echo "PASS kernel_layer"
