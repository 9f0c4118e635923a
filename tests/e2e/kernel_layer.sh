#!/bin/bash
# tunneld's kernel layer (tunneld/gre.c, tunneld/xfrm.c through libnl-3),
# driven by tests/tools/nlkey, against the VM's real kernel:
#  1. GRE + transport-mode ESP (AES-GCM-16, then AES-CBC + HMAC-SHA2-256-128)
#     carries a ping between the two sites, and the WAN sees only ESP;
#  2. with the SAs gone but the policies kept (a peer that is down or
#     re-negotiating), GRE is dropped, never sent in the clear;
#  3. `down` leaves no interface, state or policy behind.
#
# e2e-timeout: 240
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
cd "$(dirname "$0")/../.."
NLKEY=$(pwd)/${BIN:-build/cc/tools}/nlkey
[ -x "$NLKEY" ] || fail "$NLKEY not built (make)"

load_modules ip_gre esp4 xfrm_user
netns_add A forward
netns_add B forward
veth_link A wan0 "$WAN_A/$WAN_PLEN" B wan0 "$WAN_B/$WAN_PLEN"

K1=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324
K2=a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4
common="--gre-key 4242 --reqid 77"
side_a="--if gre-b --local $WAN_A --remote $WAN_B --inner 169.254.7.0/31"
side_b="--if gre-a --local $WAN_B --remote $WAN_A --inner 169.254.7.1/31"

# nlkey_both up|down OPTS_A OPTS_B
nlkey_both() {
    # shellcheck disable=SC2086
    ns A "$NLKEY" "$1" $side_a $common $2 || fail "nlkey $1 on A"
    # shellcheck disable=SC2086
    ns B "$NLKEY" "$1" $side_b $common $3 || fail "nlkey $1 on B"
}

# ping_through NAME: 10 pings over the GRE with the WAN captured; only ESP may show.
ping_through() {
    capture_start "$1" A wan0
    ping_ok A 169.254.7.1 10
    capture_stop "$1"
    local clear esp
    clear=$(capture_count "$1" 'ip proto 47 or icmp')
    esp=$(capture_count "$1" 'ip proto 50')
    note "$1: $esp ESP packets, $clear GRE/ICMP in the clear"
    [ "$clear" -eq 0 ] || { capture_show "$1" | head -20; fail "$1: GRE or ICMP in the clear"; }
    [ "$esp" -ge 20 ] || fail "$1: $esp ESP packets for 10 pings and their replies"
}

step "AES-GCM-16 (rfc4106) through libnl"
gcm_a="--spi-in 0x1001 --spi-out 0x2002 --key-in $K1 --key-out $K2"
gcm_b="--spi-in 0x2002 --spi-out 0x1001 --key-in $K2 --key-out $K1"
nlkey_both up "$gcm_a" "$gcm_b"
ip -n A -d link show gre-b | grep -Eq "key (4242|0\.0\.16\.146)" || fail "GRE key not set"
ip -n A xfrm policy | grep -q "proto gre" || fail "no GRE policy"
ip -n A xfrm state | grep -q "spi 0x00001001" || fail "inbound SPI not as given (byte order?)"
ping_through gcm
[ "$(sa_packets A "$WAN_B" "$WAN_A" 0x1001)" -ge 10 ] || fail "inbound SA counted no packets"
[ "$(sa_packets A "$WAN_A" "$WAN_B" 0x2002)" -ge 10 ] || fail "outbound SA counted no packets"

step "no SA, policies kept: GRE is dropped, not sent in the clear"
ip -n A xfrm state flush && ip -n B xfrm state flush
capture_start nosa A wan0
ns A ping -c 3 -i 0.2 -W 1 169.254.7.1 >/dev/null 2>&1 && fail "ping passed without SAs"
capture_stop nosa
[ "$(capture_count nosa 'ip proto 47 or icmp')" -eq 0 ] || fail "GRE left in the clear without an SA"
nlkey_both down "$gcm_a" "$gcm_b"

step "AES-CBC-256 + HMAC-SHA2-256-128 through libnl"
I1=1111111111111111111111111111111111111111111111111111111111111111
I2=2222222222222222222222222222222222222222222222222222222222222222
cbc_a="--integ sha256 --spi-in 0x3003 --spi-out 0x4004 --key-in ${K1:0:64} --key-out ${K2:0:64} --ikey-in $I1 --ikey-out $I2"
cbc_b="--integ sha256 --spi-in 0x4004 --spi-out 0x3003 --key-in ${K2:0:64} --key-out ${K1:0:64} --ikey-in $I2 --ikey-out $I1"
nlkey_both up "$cbc_a" "$cbc_b"
ip -n A xfrm state | grep -q "hmac(sha256)" || fail "no hmac(sha256) state"
ping_through cbc

step "down removes everything"
nlkey_both down "$cbc_a" "$cbc_b"
for n in A B; do
    [ -z "$(ip -n $n xfrm state)" ] || fail "$n: XFRM states left behind"
    [ -z "$(ip -n $n xfrm policy)" ] || fail "$n: XFRM policies left behind"
    ip -n $n -o link show type gre | grep -q 'gre-' && fail "$n: GRE link left behind"
done
step "PASS kernel_layer"
