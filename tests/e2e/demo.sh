#!/bin/bash
# make demo: two sites paired by nothing but a YAML file each (WAN address,
# LAN prefix, the peer's address and a shared PSK). tunneld on each site
# negotiates IKEv2, installs GRE over transport-mode ESP and configures OSPF
# in that site's FRR; then we show, on site A:
#   (a) the OSPF neighbour (Full over the GRE tunnel),
#   (b) the route to B's LAN that OSPF learned,
#   (c) a ping from LAN host A to LAN host B,
#   (d) the ESP SAs with their packet counters,
# and that tcpdump on the WAN saw only ESP (and IKE) for all of it.
# Exit 0 only when all of that happened.
#
# Run in a VM: `make demo`, or tests/vm/vmrun --timeout 300 tests/e2e/demo.sh
# (not a run-all test: tests/e2e/tunnel_up.sh asserts the same).
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

PINGS=5
hr() { # a section header, 78 columns wide
    local t="---- $* " pad=------------------------------------------------------------------------------
    printf '\n%s%s\n' "$t" "${pad:${#t}}"
}
indent() { sed 's/^/    /'; }
# `ip -s xfrm state` prints the keys: no need to show them to an audience.
nokeys() { sed -E 's/0x[0-9a-f]{16,}/0x<key>/g'; }
on_exit() {
    local rc=$?
    [ "$rc" -eq 0 ] && return
    printf '\ndemo FAILED (exit %s); the state of both sites:\n' "$rc"
    dump_state A B
}
trap on_exit EXIT

cat <<EOF

  tunneld demo: two sites, GRE over IPsec, OSPF over the tunnel

    A-lan $LAN_A_HOST --[$LAN_A_NET]-- A  $WAN_A ====WAN==== $WAN_B  B --[$LAN_B_NET]-- $LAN_B_HOST B-lan

  Each site is a network namespace in this VM, with FRR (zebra + ospfd)
  and tunneld. The WAN is a veth pair; we capture everything on it.
EOF

hr "setting up"
step "kernel modules, namespaces, LANs"
load_modules ip_gre esp4 xfrm_user
two_sites
step "FRR in each site (base config only: router ospf, passive by default)"
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml"
step "site file of A ($WORK/a.yaml, mode $(stat -c %a "$WORK/a.yaml")); B's mirrors it:"
sed -E 's/(psk: ).*/\1"<the pair'\''s 32-character PSK>"/' "$WORK/a.yaml" | indent

hr "starting tunneld on both sites"
capture_start wan A wan0
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || fail "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || fail "tunneld B not ready"
pair_up A B 120 || fail "no CHILD SA between A and B"
step "IKE done; what tunneld A logged:"
grep -E 'IKE SA up|CHILD SA up|ready' "$WORK/tunneld-A.log" | indent

step "waiting for OSPF over gre-b"
ospf_pair A B 90 || fail "OSPF between A and B did not come up"

hr "(a) OSPF neighbour of A: vtysh -N A -c 'show ip ospf neighbor'"
vtysh -N A -c 'show ip ospf neighbor' | indent

hr "(b) the route to B's LAN on A: ip -n A route show $LAN_B_NET"
ip -n A route show "$LAN_B_NET" | indent

hr "(c) ping from LAN host A ($LAN_A_HOST) to LAN host B ($LAN_B_HOST)"
ping_out=$(ip netns exec A-lan ping -n -c "$PINGS" -i 0.5 -W 3 "$LAN_B_HOST" 2>&1) || true
printf '%s\n' "$ping_out" | indent
grep -q "^$PINGS packets transmitted, $PINGS received" <<<"$ping_out" ||
    fail "LAN host A did not get all $PINGS answers from LAN host B"
capture_stop wan

hr "(d) ESP SAs on A: ip -n A -s xfrm state"
ip -n A -s xfrm state | nokeys | indent
problems=()
while read -r src dst spi _; do
    pk=$(sa_packets A "$src" "$dst" "$spi")
    note "SA $src -> $dst spi $spi: ${pk:-?} packets"
    [ "${pk:-0}" -ge "$PINGS" ] || problems+=("SA $src -> $dst spi $spi counted ${pk:-no} packets")
done < <(xfrm_states A)
[ "$(xfrm_states A | wc -l)" -ge 2 ] || problems+=("fewer than 2 ESP SAs on A")

hr "what tcpdump saw on the WAN (A's wan0), from before tunneld started"
wan_report wan
pkts() { tcpdump -r "$WORK/wan.pcap" -n -t "$@" 2>/dev/null | cut -c1-100 | indent; }
note "the IKE exchange (UDP 500/4500):"
pkts 'udp port 500 or udp port 4500' | head -n 12
note "then ESP only (the first 6 of $WAN_ESP):"
pkts 'ip proto 50' | head -n 6
note "IPv4 that is neither ESP nor IKE: $WAN_OTHER packets"
pkts "$CLEARTEXT" | head -n 6
[ "$WAN_ESP" -ge $((2 * PINGS)) ] || problems+=("only $WAN_ESP ESP packets on the WAN")
[ "$WAN_IKE" -ge 2 ] || problems+=("no IKE exchange on the WAN")
[ "$WAN_OTHER" -eq 0 ] || problems+=("$WAN_OTHER IPv4 packets other than ESP/IKE on the WAN (GRE $WAN_GRE, OSPF $WAN_OSPF, ICMP $WAN_ICMP)")
wan_echo_visible wan && problems+=("an ICMP echo is readable on the WAN")

if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
hr "done"
cat <<EOF
    OSPF Full between A and B over gre-b, $LAN_B_NET learned on A (and
    $LAN_A_NET on B), LAN host A pinged LAN host B, every packet of it in
    ESP: the WAN carried $WAN_ESP ESP and $WAN_IKE IKE packets, and no GRE,
    OSPF or ICMP in the clear.
EOF
