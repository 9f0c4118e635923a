#!/bin/bash
# NAT traversal end to end: hub A on the public WAN, spoke B behind a NAT
# router N (lib.sh nat_sites: nftables `masquerade random`, so every new
# mapping gets a random public port), tunneld and FRR on A and B, nothing
# keyed by hand. A knows B as N's public address; B's site file says
# `ike.local-id:` that address (so IKE's identity check and the derived GRE
# key and /31 agree), `dpd: 5` and `nat-keepalive: 5`. Passes only when
#  1. the tunnel comes up: "CHILD SA up" and "NAT detected" on both, OSPF
#     Full both ways with the LANs learned, LAN pings pass both ways, and
#     both ends derived the same GRE key and /31;
#  2. every ESP state on both sides is UDP-encapsulated (kernel: `encap type
#     espinudp`; A's between 4500 and the port N gave B, B's 4500 to 4500),
#     `tunnelctl show crypto ipsec sa` on both says `in use settings
#     ={Transport UDP-Encaps, }` for each SA and nothing else, and A shows
#     the NAT's port (current_peer, udp encaps, --json, isakmp sa);
#  3. the capture on A's WAN, from before the daemons start, holds UDP 500
#     and 4500 only: no ESP (IP protocol 50), no GRE, nothing else in the
#     clear; ESP rides in UDP 4500 (a non-zero SPI where IKE has its zero
#     marker), IKE does too (with the marker), and B's NAT keepalives (one
#     byte 0xFF) arrive;
#  4. `conntrack -F` in N: N forgets B's mapping, B's next packets leave
#     from a new random port. Without operator action A must log
#     "b: NAT mapping changed: now 192.0.2.2:NEW (was 192.0.2.2:OLD)",
#     re-aim its ESP states at NEW in place (the same SPIs; out dport NEW,
#     in sport NEW) within MOVE_BOUND of the flush, and the LAN ping must
#     pass again within BOUND, then OSPF be Full. The bounds: nothing tells
#     A of the new port but an authenticated IKE message from it, and B's
#     next one is its liveness check, sent once its IKE SA was idle DPD s
#     (at most DPD s after the flush; keepalives and ESP are not IKE):
#     MOVE_BOUND = DPD + 7 s of TCG slack = 12 s, well under what would
#     heal the break below by itself (B's liveness budget, DPD + 31.5 s,
#     then a new IKE SA, which is no move). Meanwhile B's OSPF dropped A
#     (dead 4 s without A's hellos), and the adjacency forms again over the
#     repaired path before the LAN routes are back (hello 1 s; 5-10 s
#     measured under TCG): BOUND = DPD + 4 + 21 s of slack = 30 s. The times
#     are printed (measured: A followed after 1.1-4.6 s, ping after
#     2.3-14.7 s).
#
# Negative self-check: E2E_BREAK=noike makes N drop B's IKE on UDP 4500
# (the zero marker) from the flush on, while ESP and keepalives still pass:
# A has nothing authenticated to follow, and must not recover in time.
#
# TUNNEL_PROFILE (nat_traversal_ikev1.sh): both ends on that profile.
#
# e2e-timeout: 420
# e2e-break: noike did not recover
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | noike) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: noike)" ;;
esac
DPD=5 KEEPALIVE=5 PINGS=5 MOVE_BOUND=12 BOUND=30
die() { dump_state A B; ns N conntrack -L 2>&1 | sed 's/^/    N| /'; fail "$@"; }
secs() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
# encap_states NS: "SRC DST SPI SPORT DPORT" per UDP-encapsulated ESP state.
encap_states() {
    # shellcheck disable=SC2016 # awk's fields
    ip -n "$1" xfrm state 2>/dev/null | awk '
        $1 == "src" { src = $2; dst = $4 }
        $1 == "proto" && $2 == "esp" { spi = $4 }
        $1 == "encap" && $3 == "espinudp" { print src, dst, spi, $5, $7 }'
}
n_states() { xfrm_states "$1" | grep -c . || true; }
# One SA each way on both sides, every state encapsulated.
settled() {
    [ "$(n_states A)" -eq 2 ] && [ "$(n_states B)" -eq 2 ] &&
        [ "$(encap_states A | grep -c .)" -eq 2 ] && [ "$(encap_states B | grep -c .)" -eq 2 ]
}
# jget JSON PATH: a value of a reply ("result.sas.0.remote_port").
jget() {
    /usr/bin/python3 -I -S -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2"
}
# ike_field JSON KEY: KEY of the ESTABLISHED IKE SA in an isakmp-sa reply (A may also hold
# a half-open one of its own: its IKE_SA_INIT to the NAT's port 500 goes nowhere).
ike_field() {
    /usr/bin/python3 -I -S -c '
import json, sys
sas = [s for s in json.loads(sys.argv[1])["result"]["sas"] if s["state"] == "ESTABLISHED"]
v = sas[0][sys.argv[2]] if sas else None
print(json.dumps(v) if isinstance(v, bool) or v is None else v)' "$1" "$2"
}
tc() { "$REPO/appliance/tunnelctl" --socket "$(tunneld_sock "$1")" "${@:2}"; }
ping1() { ip netns exec A-lan ping -n -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }

load_modules ip_gre esp4 xfrm_user
nat_sites
[ -x "$REPO/appliance/tunnelctl" ] || fail "appliance/tunnelctl not built (make)"
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml" --peer-opt "A=ike: { local-id: $PUB_B }" --peer-opt "A=dpd: $DPD" \
    --peer-opt "A=nat-keepalive: $KEEPALIVE"
"$TUNNELD" --check "$WORK/a.yaml" "$WORK/b.yaml" >/dev/null || fail "the site files do not pass tunneld --check"
key_a=$("$TUNNELD" --check --print "$WORK/a.yaml" | sed -n 's/.*GRE key \([0-9]*\), \([0-9./]*\) .*/\1 \2/p')
key_b=$("$TUNNELD" --check --print "$WORK/b.yaml" | sed -n 's/.*GRE key \([0-9]*\), \([0-9./]*\) .*/\1 \2/p')
[ -n "$key_a" ] && [ "$key_a" = "$key_b" ] || fail "A and B derive different tunnels: A '$key_a', B '$key_b'"
note "both derive GRE key and /31 $key_a (B's ike.local-id: $PUB_B)"

step "tunneld on A and B (B behind N: $WAN_B -> $PUB_B), capturing A's WAN"
capture_start wan A wan0
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
for n in A B; do
    tunneld_grep "$n" "IKE SA up: IKEv$(ike_version)" || die "$n: no 'IKE SA up: IKEv$(ike_version)'"
    tunneld_grep "$n" ", NAT detected" || die "$n: the IKE SA came up without 'NAT detected'"
done
tunneld_grep B "NAT detected: we are behind it" || die "B does not see the NAT in front of itself"
tunneld_grep A "NAT detected: the peer is behind it" || die "A does not see the NAT in front of B"
step "CHILD SA up on both sides, NAT detected"
wait_for 30 settled || die "not one UDP-encapsulated SA each way: A: $(encap_states A | tr '\n' ';') B: $(encap_states B | tr '\n' ';')"

# --- 2. the SAs: in the kernel, in tunnelctl -------------------------------------------------
ike=$(ctl A '{"cmd":"isakmp-sa"}') || die "A: isakmp-sa: $ike"
old_port=$(ike_field "$ike" remote_port)
[ "$(ike_field "$ike" local_port)" = 4500 ] || die "A's IKE SA is not on port 4500: $ike"
[ "$(ike_field "$ike" nat_remote)" = true ] || die "A's IKE SA: no NAT in front of B: $ike"
note "A talks to B at $PUB_B:$old_port (N's mapping of $WAN_B:4500)"
ns N conntrack -L -p udp --orig-src "$WAN_B" --orig-port-src 4500 2>/dev/null | grep -q "dport=$old_port " ||
    die "N has no mapping of $WAN_B:4500 to port $old_port"
problems=()
while read -r src dst spi sport dport; do
    if [ "$src" = "$WAN_A" ]; then want="4500 $old_port"; else want="$old_port 4500"; fi
    [ "$sport $dport" = "$want" ] || problems+=("A: state $src -> $dst spi $spi: encap $sport -> $dport, expected $want")
done < <(encap_states A)
while read -r src dst spi sport dport; do
    [ "$sport $dport" = "4500 4500" ] || problems+=("B: state $src -> $dst spi $spi: encap $sport -> $dport, expected 4500 -> 4500")
done < <(encap_states B)
[ ${#problems[@]} -eq 0 ] || die "${problems[@]}"
for n in A B; do
    t=$(tc "$n" show crypto ipsec sa) || die "$n: tunnelctl show crypto ipsec sa failed: $t"
    enc=$(grep -c 'in use settings ={Transport UDP-Encaps, }' <<<"$t" || true)
    all=$(grep -c 'in use settings =' <<<"$t" || true)
    [ "$enc" -ge 2 ] && [ "$enc" -eq "$all" ] || die "$n: $enc of $all SAs say UDP-Encaps: $t"
done
t=$(tc A show crypto ipsec sa)
grep -q "current_peer $PUB_B port $old_port\$" <<<"$t" || die "A: show crypto ipsec sa does not show port $old_port: $t"
grep -q "udp encaps: local port 4500, remote port $old_port\$" <<<"$t" || die "A: no 'udp encaps' line with port $old_port: $t"
js=$(ctl A '{"cmd":"ipsec-sa"}') || die "A: ipsec-sa: $js"
[ "$(jget "$js" result.peers.0.inbound.0.encap_remote_port)" = "$old_port" ] || die "A: --json encap_remote_port is not $old_port: $js"
grep -q "Local port 4500, remote port $old_port, NAT-T is detected outside" <<<"$(tc A show crypto isakmp sa)" ||
    die "A: show crypto isakmp sa: no ports / NAT side: $(tc A show crypto isakmp sa)"
grep -q "NAT-T is detected inside" <<<"$(tc B show crypto isakmp sa)" || die "B: show crypto isakmp sa does not see the NAT inside"
step "ESP in UDP on both sides (A: 4500 <-> $old_port), tunnelctl says UDP-Encaps"

# --- 1. and 3. OSPF, pings, the wire ----------------------------------------------------------
ospf_pair A B 90 || die "OSPF between A and B did not come up"
step "OSPF Full both ways, LANs learned"
ping_ok A-lan "$LAN_B_HOST" "$PINGS"
ping_ok B-lan "$LAN_A_HOST" "$PINGS"
KEEPALIVES="src host $PUB_B and udp dst port 4500 and udp[4:2] = 9 and udp[8] = 0xff"
keepalive_seen() { [ "$(capture_count wan "$KEEPALIVES")" -ge 1 ]; }
wait_for $((2 * KEEPALIVE + 5)) keepalive_seen || true
capture_stop wan
wan_report wan
esp_udp=$(capture_count wan 'udp port 4500 and udp[4:2] > 9 and udp[8:4] != 0')
ike_natt=$(capture_count wan 'udp port 4500 and udp[4:2] > 12 and udp[8:4] = 0')
keepalives=$(capture_count wan "$KEEPALIVES")
note "ESP in UDP 4500: $esp_udp, IKE on 4500 (marker): $ike_natt, NAT keepalives from B: $keepalives"
problems=()
[ "$WAN_ESP" -eq 0 ] || problems+=("$WAN_ESP ESP packets (IP protocol 50) on A's WAN: ESP must be in UDP")
[ "$WAN_OTHER" -eq 0 ] || problems+=("$WAN_OTHER IPv4 packets neither UDP 500/4500 nor ESP on A's WAN (GRE $WAN_GRE, OSPF $WAN_OSPF, ICMP $WAN_ICMP)")
[ "$WAN_GRE" -eq 0 ] || problems+=("$WAN_GRE GRE packets in the clear on A's WAN")
wan_echo_visible wan && problems+=("ICMP echo readable in the clear on A's WAN")
[ "$esp_udp" -ge $((4 * PINGS)) ] || problems+=("only $esp_udp ESP-in-UDP packets on A's WAN, expected >= $((4 * PINGS))")
[ "$ike_natt" -ge 2 ] || problems+=("only $ike_natt IKE messages on UDP 4500: IKE did not move to 4500?")
[ "$keepalives" -ge 1 ] || problems+=("no NAT keepalive (one byte 0xFF) from B on A's WAN in $((2 * KEEPALIVE + 5)) s")
if [ ${#problems[@]} -gt 0 ]; then
    capture_show wan "not udp port 4500" | head -n 20
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "A's WAN: UDP 500/4500 only, $esp_udp ESP in UDP, $keepalives keepalives from B"

# --- 4. N forgets the mapping -----------------------------------------------------------------
spis_a=$(encap_states A | cut -d' ' -f1-3 | sort)
ike_spi=$(ike_field "$ike" spi_i)
tunneld_mark A
tunneld_mark B
if [ "$BREAK" = noike ]; then
    step "E2E_BREAK=noike: N drops B's IKE on UDP 4500 from now on (this run must fail)"
    ns N nft -f - <<NFT || fail "nft in N"
table ip filter {
    chain block_ike {
        type filter hook forward priority filter; policy accept;
        ip saddr $WAN_B udp dport 4500 @th,64,32 0 drop
    }
}
NFT
fi
step "conntrack -F in N: B's mapping (port $old_port) is gone; A must follow within $MOVE_BOUND s, the LAN ping pass within $BOUND s"
t_flush=$(_ms)
ns N conntrack -F >/dev/null 2>&1 || die "conntrack -F in N failed"
moved() { tunneld_grep A "b: NAT mapping changed: now $PUB_B:"; }
if ! wait_for "$MOVE_BOUND" moved; then
    die "A did not recover: no 'NAT mapping changed' within $MOVE_BOUND s of the flush"
fi
t_moved=$(($(_ms) - t_flush))
line=$(grep "b: NAT mapping changed: now $PUB_B:" "$WORK/tunneld-A.log" | tail -n 1)
new_port=$(sed -n "s/.*now $PUB_B:\([0-9]*\) (was $PUB_B:\([0-9]*\)).*/\1/p" <<<"$line")
was_port=$(sed -n "s/.*now $PUB_B:\([0-9]*\) (was $PUB_B:\([0-9]*\)).*/\2/p" <<<"$line")
note "A: ${line#*: }"
[ "$was_port" = "$old_port" ] || die "A says the mapping was port '$was_port', it was $old_port"
[ -n "$new_port" ] && [ "$new_port" != "$old_port" ] || die "A's new port '$new_port' is not a new one"
left=$(((BOUND * 1000 - ($(_ms) - t_flush) + 999) / 1000))
[ "$left" -gt 0 ] && wait_for "$left" ping1 || die "the tunnel did not recover: no LAN ping within $BOUND s of the flush"
t_ping=$(($(_ms) - t_flush))
step "recovered: A followed B to port $new_port after $(secs "$t_moved") s (bound $MOVE_BOUND s), LAN ping after $(secs "$t_ping") s (bound $BOUND s)"

problems=()
[ "$(encap_states A | cut -d' ' -f1-3 | sort)" = "$spis_a" ] ||
    problems+=("A's states changed SPIs: before $(tr '\n' ' ' <<<"$spis_a")after $(encap_states A | cut -d' ' -f1-3 | tr '\n' ' ')")
while read -r src dst spi sport dport; do
    if [ "$src" = "$WAN_A" ]; then want="4500 $new_port"; else want="$new_port 4500"; fi
    [ "$sport $dport" = "$want" ] || problems+=("A: state $src -> $dst spi $spi: encap $sport -> $dport, expected $want")
done < <(encap_states A)
ns N conntrack -L -p udp --orig-src "$WAN_B" --orig-port-src 4500 2>/dev/null | grep -q "dport=$new_port " ||
    problems+=("N maps $WAN_B:4500 elsewhere than port $new_port: $(ns N conntrack -L -p udp 2>&1 | tr '\n' ';')")
grep -q "current_peer $PUB_B port $new_port\$" <<<"$(tc A show crypto ipsec sa)" ||
    problems+=("A: show crypto ipsec sa does not show the new port $new_port")
# (Not "IKE SA down": A's own IKE_SA_INIT to the NAT's port 500, hopeless, times out about now.)
for ev in "CHILD SA down" "CHILD SA up" "restarting the peer"; do
    tunneld_grep A "b: $ev" && problems+=("A logged \"b: $ev\" after the flush: the SAs were to follow, not be replaced")
done
ike=$(ctl A '{"cmd":"isakmp-sa"}') || problems+=("A: isakmp-sa: $ike")
[ "$(ike_field "$ike" spi_i)" = "$ike_spi" ] || problems+=("A: the IKE SA is not the one from before the flush ($ike_spi): $ike")
[ "$(ike_field "$ike" remote_port)" = "$new_port" ] || problems+=("A: the IKE SA talks to port $(ike_field "$ike" remote_port), not $new_port")
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
note "A's states: the same SPIs, encap 4500 <-> $new_port"
ospf_pair A B 60 || die "OSPF between A and B did not come back after the flush"
t_ospf=$(($(_ms) - t_flush))
ping_ok A-lan "$LAN_B_HOST" "$PINGS"
ping_ok B-lan "$LAN_A_HOST" "$PINGS"
for n in A B; do tunneld_running "$n" || die "tunneld in $n exited"; done
step "PASS nat_traversal: ESP in UDP through the NAT, nothing else on the WAN; after the NAT forgot B, A followed to port $new_port in $(secs "$t_moved") s, ping in $(secs "$t_ping") s, OSPF Full in $(secs "$t_ospf") s"
