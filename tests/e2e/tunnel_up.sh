#!/bin/bash
# The daemon end to end (the `make demo` scenario, asserted): two sites, each
# with FRR and `tunneld -c SITE.yaml`, nothing keyed by hand. Passes only when
#  - both daemons log "ready" and "CHILD SA up" for each other,
#  - each site has exactly its two ESP SAs, and A's outbound SPI is B's
#    inbound one and vice versa,
#  - OSPF is Full on gre-b (A) and gre-a (B), point-to-point with the site
#    file's timers (hello 1, dead 4), each LAN learned by the other,
#  - LAN host A pings LAN host B and back, and A's SA counters moved,
#  - the WAN capture (from before tunneld started) has ESP and IKE and no
#    other IPv4: no GRE, OSPF or ICMP in the clear.
#
# Negative self-check: E2E_BREAK=flushpolicy deletes the XFRM policies once
# the tunnel is up, so GRE leaves in the clear; the test must then fail.
#
# e2e-timeout: 240
# e2e-break: flushpolicy in the clear on the WAN
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | flushpolicy) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: flushpolicy)" ;;
esac
PINGS=5
die() { dump_state A B; fail "$@"; }

load_modules ip_gre esp4 xfrm_user
two_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
# TUNNEL_PROFILE (tunnel_up_ikev1.sh): both ends on another profile (site_file).
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml"

step "tunneld on A and B, capturing A's WAN"
capture_start wan A wan0
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
step "CHILD SA up on both sides"
if [ -n "${TUNNEL_PROFILE:-}" ]; then
    want="IKE SA up: IKEv$(ike_version)"
    for n in A B; do
        tunneld_grep "$n" "$want" >/dev/null || die "$n: no '$want' with profile $TUNNEL_PROFILE"
    done
    note "both ends on $TUNNEL_PROFILE: $want"
fi

# The kernel's view: one SA each way, the same pair on both sides.
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way: A: $(pair_sas A B A | tr '\n' ';') B: $(pair_sas A B B | tr '\n' ';')"
[ "$(xfrm_states A | wc -l)" -eq 2 ] || die "A has $(xfrm_states A | wc -l) ESP SAs, expected 2"
note "ESP SAs (A and B): $(pair_sas A B A | tr '\n' ';')"
for n in A B; do
    pol=$(ip -n "$n" xfrm policy)
    [ "$(grep -c 'proto gre' <<<"$pol")" -ge 2 ] || die "$n: no GRE policies: $pol"
done

ospf_pair A B 90 || die "OSPF between A and B did not come up"
step "OSPF Full both ways, LANs learned"
# What tunneld configured: point-to-point with the site file's timers.
for n in "A gre-b" "B gre-a"; do
    # shellcheck disable=SC2086 # "site interface"
    set -- $n
    oi=$(vtysh -N "$1" -c "show ip ospf interface $2")
    grep -q 'Network Type POINTOPOINT' <<<"$oi" || die "$1: $2 is not an OSPF point-to-point link: $oi"
    grep -q 'Hello 1s, Dead 4s' <<<"$oi" || die "$1: $2 does not have the site file's OSPF timers (1/4): $oi"
done

if [ "$BREAK" = flushpolicy ]; then
    step "E2E_BREAK=flushpolicy: deleting the XFRM policies (this run must fail)"
    ip -n A xfrm policy flush
    ip -n B xfrm policy flush
fi

declare -A before=()
while read -r src dst spi _; do before[$spi]=$(sa_packets A "$src" "$dst" "$spi"); done < <(xfrm_states A)
step "LAN host A <-> LAN host B"
ping_ok A-lan "$LAN_B_HOST" "$PINGS"
ping_ok B-lan "$LAN_A_HOST" "$PINGS"
capture_stop wan

problems=()
while read -r src dst spi _; do
    pk=$(sa_packets A "$src" "$dst" "$spi")
    note "A: SA $src -> $dst spi $spi: ${before[$spi]:-?} -> ${pk:-?} packets"
    [ "${pk:-0}" -ge $((${before[$spi]:-0} + 2 * PINGS)) ] ||
        problems+=("A: SA $src -> $dst spi $spi counted ${before[$spi]:-?} -> ${pk:-?} packets, expected +$((2 * PINGS))")
done < <(xfrm_states A)

wan_report wan
[ "$WAN_OTHER" -eq 0 ] || problems+=("$WAN_OTHER IPv4 packets in the clear on the WAN (GRE $WAN_GRE, OSPF $WAN_OSPF, ICMP $WAN_ICMP)")
[ "$WAN_GRE" -eq 0 ] || problems+=("$WAN_GRE GRE packets in the clear on the WAN")
[ "$WAN_OSPF" -eq 0 ] || problems+=("$WAN_OSPF OSPF packets in the clear on the WAN")
[ "$WAN_ICMP" -eq 0 ] || problems+=("$WAN_ICMP ICMP packets in the clear on the WAN")
wan_echo_visible wan && problems+=("ICMP echo readable in the clear on the WAN")
[ "$WAN_ESP" -ge $((4 * PINGS)) ] || problems+=("only $WAN_ESP ESP packets on the WAN, expected >= $((4 * PINGS))")
[ "$WAN_IKE" -ge 4 ] || problems+=("only $WAN_IKE IKE packets on the WAN: the capture missed the negotiation?")
for n in A B; do
    tunneld_running "$n" || problems+=("tunneld in $n exited")
done

if [ ${#problems[@]} -gt 0 ]; then
    echo "--- decoded WAN capture, IPv4 neither ESP nor IKE (first 20)"
    capture_show wan "$CLEARTEXT" | head -n 20
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "PASS tunnel_up: OSPF Full over tunneld's GRE+ESP, LAN ping both ways, WAN: $WAN_ESP ESP, $WAN_IKE IKE, nothing in the clear"
