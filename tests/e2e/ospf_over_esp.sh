#!/bin/bash
# tunneld/frr.c against a real FRR, over a tunnel from tunneld/gre.c + xfrm.c:
# two sites, each with its own FRR (zebra + ospfd, one pathspace each) and a
# LAN host behind a bridge. The test passes only when OSPF reaches Full over
# the ESP-protected GRE, the remote LAN is learned, LAN host A pings LAN
# host B, the WAN shows nothing but ESP, and removing the config withdraws it.
# Runs inside tests/vm/vmrun.
set -eu
cd "$(dirname "$0")/../.."
BIN=$(pwd)/${BIN:-build/cc/tools}
for t in nlkey frrctl; do [ -x "$BIN/$t" ] || { echo "FAIL: $BIN/$t not built (make)"; exit 1; }; done
cap=$(mktemp -d)

fail() { echo "FAIL: $*"; for s in A B; do echo "--- $s"; vtysh -N "$s" -c 'show ip ospf neighbor' -c 'show ip route' 2>&1; done; exit 1; }
step() { echo "== $(date +%T) $*"; }
wait_for() { # SECONDS CMD...: poll until CMD succeeds
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done
}

modprobe -a ip_gre esp4 xfrm_user 2>/dev/null || true

# site NAME WAN_ADDR LAN_NET(x.y.z) : namespace NAME with a LAN bridge and host NAME-lan
site() {
    local s=$1 lan=$3
    ip netns add "$s"; ip netns add "$s-lan"
    ip -n "$s" link set lo up; ip -n "$s-lan" link set lo up
    ip netns exec "$s" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0
    ip -n "$s" link add brlan type bridge
    ip -n "$s" addr add "$lan.1/24" dev brlan; ip -n "$s" link set brlan up
    ip link add eth0 netns "$s-lan" type veth peer name lan0 netns "$s"
    ip -n "$s" link set lan0 master brlan up
    ip -n "$s-lan" addr add "$lan.10/24" dev eth0; ip -n "$s-lan" link set eth0 up
    ip -n "$s-lan" route add default via "$lan.1"
}

frr_start() { # NAME ROUTER_ID
    local s=$1
    mkdir -p "/etc/frr/$s" "/var/run/frr/$s" /var/log/frr
    cat >"/etc/frr/$s/frr.conf" <<EOF
frr defaults traditional
hostname $s
log file /var/log/frr/$s.log
router ospf
 ospf router-id $2
 passive-interface default
EOF
    touch "/etc/frr/$s/vtysh.conf"
    chown -R frr:frr "/etc/frr/$s" "/var/run/frr/$s" /var/log/frr
    for d in zebra ospfd; do
        ip netns exec "$s" /usr/lib/frr/$d -N "$s" -d -F traditional -f "/etc/frr/$s/frr.conf" \
            --vty_socket "/var/run/frr/$s" -i "/var/run/frr/$s/$d.pid" -z "/var/run/frr/$s/zserv.api" ||
            fail "$d did not start in $s"
    done
    wait_for 30 vtysh -N "$s" -c 'show ip ospf' || fail "FRR in $s not answering"
}

step "two sites, WAN 192.0.2.0/24"
site A 192.0.2.1 10.1.0
site B 192.0.2.2 10.2.0
ip link add wanA netns A type veth peer name wanB netns B
ip -n A addr add 192.0.2.1/24 dev wanA && ip -n A link set wanA up
ip -n B addr add 192.0.2.2/24 dev wanB && ip -n B link set wanB up

step "GRE + ESP through tunneld's kernel layer"
K1=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324
K2=a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4
ip netns exec A "$BIN/nlkey" up --if gre-b --local 192.0.2.1 --remote 192.0.2.2 --inner 169.254.7.0/31 \
    --gre-key 7 --reqid 7 --spi-in 0x1001 --spi-out 0x2002 --key-in $K1 --key-out $K2 || fail "nlkey A"
ip netns exec B "$BIN/nlkey" up --if gre-a --local 192.0.2.2 --remote 192.0.2.1 --inner 169.254.7.1/31 \
    --gre-key 7 --reqid 7 --spi-in 0x2002 --spi-out 0x1001 --key-in $K2 --key-out $K1 || fail "nlkey B"

step "FRR per site, OSPF configured by tunneld/frr.c"
frr_start A 10.1.0.1
frr_start B 10.2.0.1
ip netns exec A tcpdump -i wanA -n -U -w "$cap/wan.pcap" 2>"$cap/tcpdump.err" &
tcpdump_pid=$!
"$BIN/frrctl" -N A link-add gre-b 169.254.7.0/31 0.0.0.0 1 4 || fail "frrctl link-add A"
"$BIN/frrctl" -N B link-add gre-a 169.254.7.0/31 0.0.0.0 1 4 || fail "frrctl link-add B"
"$BIN/frrctl" -N A lan-add 10.1.0.0/24 0.0.0.0 || fail "frrctl lan-add A"
"$BIN/frrctl" -N B lan-add 10.2.0.0/24 0.0.0.0 || fail "frrctl lan-add B"
"$BIN/frrctl" -N A lan-add 10.1.0.0/33 0.0.0.0 2>/dev/null && fail "frrctl accepted a bad prefix"

full() { [ "$("$BIN/frrctl" -N A state gre-b)" = Full ]; }
wait_for 90 full || fail "OSPF did not reach Full on gre-b"
step "OSPF Full"
learned() { ip -n A route show 10.2.0.0/24 | grep -q 'dev gre-b proto ospf'; }
wait_for 30 learned || fail "10.2.0.0/24 not learned over gre-b"
ip -n A route show 10.2.0.0/24
ip netns exec A-lan ping -c 5 -i 0.3 -W 2 10.2.0.10 || fail "LAN A -> LAN B ping"
sleep 1
kill -INT $tcpdump_pid; wait $tcpdump_pid || true

clear=$(tcpdump -r "$cap/wan.pcap" -n 'ip proto 47 or ip proto 89 or icmp' 2>/dev/null | wc -l)
esp=$(tcpdump -r "$cap/wan.pcap" -n 'ip proto 50' 2>/dev/null | wc -l)
echo "WAN: $esp ESP packets, $clear GRE/OSPF/ICMP in the clear"
[ "$clear" -eq 0 ] || fail "GRE, OSPF or ICMP in the clear on the WAN"
[ "$esp" -ge 10 ] || fail "too few ESP packets on the WAN ($esp)"

step "removing the config withdraws it"
"$BIN/frrctl" -N A link-remove gre-b 169.254.7.0/31 0.0.0.0 || fail "frrctl link-remove"
"$BIN/frrctl" -N A lan-remove 10.1.0.0/24 0.0.0.0 || fail "frrctl lan-remove"
vtysh -N A -c 'show running-config' >"$cap/running"
grep -q 'network 10.1.0.0/24' "$cap/running" && fail "LAN network still configured"
grep -q 'network 169.254.7.0/31' "$cap/running" && fail "gre-b still in OSPF"
gone() { [ -z "$("$BIN/frrctl" -N A state gre-b)" ]; }
wait_for 30 gone || fail "neighbour on gre-b did not go away"
echo "PASS ospf_over_esp"
