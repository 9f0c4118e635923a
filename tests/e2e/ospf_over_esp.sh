#!/bin/bash
# tunneld/frr.c against a real FRR, over a tunnel from tunneld/gre.c + xfrm.c:
# two sites, each with its own FRR (zebra + ospfd, one pathspace each) and a
# LAN host behind a bridge. Passes only when OSPF reaches Full over the
# ESP-protected GRE, each side learns the other's LAN, LAN host A pings LAN
# host B, the WAN shows nothing but ESP, and removing the config withdraws it.
#
# e2e-timeout: 300
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
cd "$(dirname "$0")/../.."
BIN=$(pwd)/${BIN:-build/cc/tools}
for t in nlkey frrctl; do [ -x "$BIN/$t" ] || fail "$BIN/$t not built (make)"; done

dump() { for s in A B; do echo "--- $s"; vtysh -N "$s" -c 'show ip ospf neighbor' -c 'show ip route' 2>&1; done; }
die() { dump; fail "$@"; }

load_modules ip_gre esp4 xfrm_user
two_sites

step "GRE + ESP through tunneld's kernel layer"
K1=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324
K2=a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4
ns A "$BIN/nlkey" up --if gre-b --local "$WAN_A" --remote "$WAN_B" --inner 169.254.7.0/31 \
    --gre-key 7 --reqid 7 --spi-in 0x1001 --spi-out 0x2002 --key-in $K1 --key-out $K2 || fail "nlkey A"
ns B "$BIN/nlkey" up --if gre-a --local "$WAN_B" --remote "$WAN_A" --inner 169.254.7.1/31 \
    --gre-key 7 --reqid 7 --spi-in 0x2002 --spi-out 0x1001 --key-in $K2 --key-out $K1 || fail "nlkey B"

step "FRR per site, OSPF configured by tunneld/frr.c"
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
capture_start wan A wan0
"$BIN/frrctl" -N A link-add gre-b 169.254.7.0/31 0.0.0.0 1 4 || fail "frrctl link-add A"
"$BIN/frrctl" -N B link-add gre-a 169.254.7.0/31 0.0.0.0 1 4 || fail "frrctl link-add B"
"$BIN/frrctl" -N A lan-add "$LAN_A_NET" 0.0.0.0 || fail "frrctl lan-add A"
"$BIN/frrctl" -N B lan-add "$LAN_B_NET" 0.0.0.0 || fail "frrctl lan-add B"
"$BIN/frrctl" -N A lan-add 10.1.0.0/33 0.0.0.0 2>/dev/null && fail "frrctl accepted a bad prefix"

full() { [ "$("$BIN/frrctl" -N A state gre-b)" = Full ]; }
wait_for 90 full || die "OSPF did not reach Full on gre-b"
step "OSPF Full"
# Both directions: a route learned on A alone lets the ping out but not back.
learned() { ip -n "$1" route show "$2" | grep -q "dev $3 proto ospf"; }
wait_for 30 learned A "$LAN_B_NET" gre-b || die "$LAN_B_NET not learned on A over gre-b"
wait_for 30 learned B "$LAN_A_NET" gre-a || die "$LAN_A_NET not learned on B over gre-a"
ping_ok A-lan "$LAN_B_HOST" 5
capture_stop wan

clear=$(capture_count wan 'ip proto 47 or ip proto 89 or icmp')
esp=$(capture_count wan 'ip proto 50')
note "WAN: $esp ESP packets, $clear GRE/OSPF/ICMP in the clear"
[ "$clear" -eq 0 ] || die "GRE, OSPF or ICMP in the clear on the WAN"
[ "$esp" -ge 10 ] || die "too few ESP packets on the WAN ($esp)"

step "removing the config withdraws it"
"$BIN/frrctl" -N A link-remove gre-b 169.254.7.0/31 0.0.0.0 || fail "frrctl link-remove"
"$BIN/frrctl" -N A lan-remove "$LAN_A_NET" 0.0.0.0 || fail "frrctl lan-remove"
running=$(vtysh -N A -c 'show running-config')
grep -q "network $LAN_A_NET" <<<"$running" && fail "LAN network still configured"
grep -q 'network 169.254.7.0/31' <<<"$running" && fail "gre-b still in OSPF"
gone() { [ -z "$("$BIN/frrctl" -N A state gre-b)" ]; }
wait_for 30 gone || die "neighbour on gre-b did not go away"
step "PASS ospf_over_esp"
