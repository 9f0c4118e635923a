# shellcheck shell=bash
# The "nat" scenario of strongswan.sh (peer-tunneld only): charon in B
# behind lib.sh's nat_sites NAT router N (`masquerade random`), tunneld in A
# the public hub (--passive, the peer at PUB_B, the address that is also
# charon's IKE identity). Source after lib-interop.sh; strongswan.sh calls:
#
#   nat_check   after kernel_sas: both sides detected the NAT (charon's
#               list-sas nat-local / nat-any, IKE on 4500/4500, the CHILD
#               SA encap=yes; tunneld's "IKE SA up: ..., NAT detected: the
#               peer is behind it"), A's ESP states carry espinudp between
#               4500 and the port N mapped B's 4500 to (N's conntrack), B's
#               4500/4500. gre_traffic then wants ESP in UDP 4500 both ways
#               on A's wan0 and no plain ESP (ESP_ENCAP=udp).
#   nat_rebind  N's mappings flushed (conntrack -F: B's next packet gets a
#               new random public port). A pings B until a reply comes:
#               the pings are dropped at N, so B's SAs go idle, charon's DPD
#               (CHARON_DPD) goes out through a new mapping, and tunneld must
#               follow it ("NAT mapping changed: now PUB_B:NEW (was
#               PUB_B:OLD)") and move its ESP states to the new port. Passes
#               only within NAT_BOUND_S, with pings both ways afterwards, the
#               new port in A's states and on A's wan0, nothing in the clear.
#               Sets NAT_RECOVERY_MS.
# They use strongswan.sh's ike_part / child_part (charon's list-sas --raw),
# SPI_AB, SPI_BA, PEER, IN_A, IN_B, PINGS and its array "problems".
# shellcheck disable=SC2154 # ike_part, child_part: set by strongswan.sh

# shellcheck disable=SC2034 # read by lib-interop.sh's gre_traffic, charon_config
ESP_ENCAP=udp CHARON_DPD=5s
# The bound: charon's DPD leaves at the latest dpd_delay (5 s) after B's last
# inbound packet (the last echo reply, just before the flush); should that
# one be lost, its first retransmission follows retransmit_timeout (4 s)
# later; + 6 s for TCG under load (a 2-core host running other VMs: charon's
# scheduler and tunneld's reply come late) and ping's 0.2 s interval.
NAT_BOUND_S=15
NAT_GIVE_UP_S=60 # measure even a slow recovery, up to this
NAT_RECOVERY_MS=

# nat_port: the public port N maps B's UDP 4500 to (the reply direction's
# dport of the conntrack entry), nothing without one.
nat_port() {
    ip netns exec N conntrack -L -p udp --orig-src "$WAN_B" --orig-port-src 4500 2>/dev/null |
        grep -o 'dport=[0-9]*' | sed -n '2{s/dport=//p;q}'
}

# esp_encap NS SRC DST SPI: "SPORT DPORT" of the state's espinudp encap.
esp_encap() {
    ip -n "$1" xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
        sed -n 's/^.*encap type espinudp sport \([0-9]*\) dport \([0-9]*\).*$/\1 \2/p' | head -n 1
}

# _encap_is NS PORT_AB PORT_BA: NS's two states (_sa_pairs) have encap
# "sport dport" PORT_AB (A -> B) and PORT_BA (B -> A); else -> problems.
_encap_is() {
    local n=$1 want got d
    for d in "$SPI_AB|$2" "$SPI_BA|$3"; do
        want=${d#*|}
        # shellcheck disable=SC2046 # "src dst spi"
        set -- $(_sa_pairs "$n" | grep " ${d%|*}\$")
        got=$(esp_encap "$n" "$1" "$2" "$3")
        note "$n: SA $1 -> $2 spi $3: encap espinudp ${got:-none} (want $want)"
        [ "$got" = "$want" ] || problems+=("$n: SA $1 -> $2 spi $3 has encap '${got:-none}', expected espinudp sport/dport $want")
    done
}

nat_check() {
    local iline
    step "NAT traversal: both sides detected the NAT, ESP in UDP 4500"
    # charon is the one behind it: COND_NAT_HERE is vici's nat-local.
    [ "$(sa_field "$ike_part" nat-local)" = yes ] || problems+=("charon: IKE SA without nat-local=yes (it is behind N)")
    [ "$(sa_field "$ike_part" nat-any)" = yes ] || problems+=("charon: IKE SA without nat-any=yes")
    [ "$(sa_field "$ike_part" local-port)" = 4500 ] && [ "$(sa_field "$ike_part" remote-port)" = 4500 ] ||
        problems+=("charon: IKE SA on ports $(sa_field "$ike_part" local-port)/$(sa_field "$ike_part" remote-port), not 4500/4500")
    [ "$(sa_field "$child_part" encap)" = yes ] || problems+=("charon: CHILD SA without encap=yes")
    iline=$(grep -m1 "$PEER: IKE SA up" "$WORK/A/tunneld.log")
    [[ $iline == *"NAT detected: the peer is behind it"* ]] ||
        problems+=("tunneld's 'IKE SA up' line does not say 'NAT detected: the peer is behind it': $iline")
    NAT_PORT=$(nat_port)
    note "N maps $WAN_B:4500 to $PUB_B:${NAT_PORT:-?}"
    [ -n "$NAT_PORT" ] || problems+=("N has no conntrack entry for $WAN_B:4500")
    _encap_is A "4500 ${NAT_PORT:-?}" "${NAT_PORT:-?} 4500"
    _encap_is B "4500 4500" "4500 4500"
    if [ ${#problems[@]} -gt 0 ]; then
        ip netns exec N conntrack -L 2>&1 | sed 's/^/    N| /'
        for n in A B; do echo "--- ip xfrm state in $n"; ip -n "$n" xfrm state; done
    fi
    problems_report
}

# _changed_logged OLD NEW MARK: tunneld logged the move after line MARK.
_changed_logged() {
    tail -n +$(($3 + 1)) "$WORK/A/tunneld.log" |
        grep -q "$PEER: NAT mapping changed: now $PUB_B:$2 (was $PUB_B:$1)"
}

nat_rebind() {
    local old=$NAT_PORT new mark bmark t0 out d pk n bpub=$PUB_B
    local -A before=()
    command -v conntrack >/dev/null || fail "no conntrack tool: cannot flush N's mappings (nft flush does not reset them)"
    capture_start wan2 A wan0
    mark=$(wc -l <"$WORK/A/tunneld.log") bmark=$(wc -l <"$WORK/B/charon.log")
    step "N's mappings flushed (conntrack -F); A pings $IN_B until it answers (bound $NAT_BOUND_S s)"
    t0=$(_ms)
    ip netns exec N conntrack -F >/dev/null 2>&1 || fail "conntrack -F in N"
    # -c 1 -w: one ping every 0.2 s until the first reply, or the deadline.
    out=$(ip netns exec A ping -n -c 1 -i 0.2 -w "$NAT_GIVE_UP_S" "$IN_B" 2>&1) || true
    NAT_RECOVERY_MS=$(($(_ms) - t0))
    printf '%s\n' "$out" | tail -n 2 | sed 's/^/            /'
    if ! grep -q '1 received' <<<"$out"; then
        tail -n +$((bmark + 1)) "$WORK/B/charon.log" | grep -E 'DPD|R_U_THERE|NAT|keep|sending|received' | tail -n 20
        tail -n +$((mark + 1)) "$WORK/A/tunneld.log" | tail -n 30
        fail "no ping across the GRE /31 within $NAT_GIVE_UP_S s of the NAT's flush"
    fi
    step "recovered: first reply $NAT_RECOVERY_MS ms after the flush (bound $NAT_BOUND_S s)"
    [ "$NAT_RECOVERY_MS" -le $((NAT_BOUND_S * 1000)) ] ||
        problems+=("the tunnel took $NAT_RECOVERY_MS ms to recover, over the bound of $NAT_BOUND_S s")
    new=$(nat_port)
    note "N now maps $WAN_B:4500 to $PUB_B:${new:-?} (was $old)"
    [ -n "$new" ] && [ "$new" != "$old" ] ||
        problems+=("N's mapping for $WAN_B:4500 is '${new:-none}' after the flush, not a new port (was $old)")
    wait_for 5 _changed_logged "$old" "$new" "$mark" ||
        problems+=("tunneld did not log '$PEER: NAT mapping changed: now $PUB_B:$new (was $PUB_B:$old)': $(tail -n +$((mark + 1)) "$WORK/A/tunneld.log" | grep -m3 "$PEER: " | tr '\n' ';')")
    grep "$PEER: NAT mapping changed" "$WORK/A/tunneld.log" | sed 's/^/            A: /'
    # What charon sent through the new mapping (IKEv2 DPD: an empty
    # INFORMATIONAL; IKEv1: R_U_THERE), after the flush.
    tail -n +$((bmark + 1)) "$WORK/B/charon.log" | grep -E -m2 'sending DPD|R_U_THERE|sending packet' |
        sed 's/^/            B: /' || true
    # The same CHILD SA (charon's SPIs), now with the new port in A's kernel.
    swan B --list-sas --raw 2>/dev/null | grep -q "state=INSTALLED.*spi-in=${SPI_AB#0x}" ||
        problems+=("charon's CHILD SA $SPI_AB/$SPI_BA is gone after the NAT's flush")
    _encap_is A "4500 ${new:-?}" "${new:-?} 4500"
    _encap_is B "4500 4500" "4500 4500"
    for n in A B; do
        while read -r d; do
            # shellcheck disable=SC2086 # "src dst spi"
            set -- $d
            before[$n$3]=$(esp_packets "$n" "$1" "$2" "$3")
        done < <(_sa_pairs "$n")
    done
    step "ping across the GRE /31 both ways, after the move"
    ping_ok A "$IN_B" "$PINGS"
    ping_ok B "$IN_A" "$PINGS"
    capture_stop wan2
    for n in A B; do
        while read -r d; do
            # shellcheck disable=SC2086
            set -- $d
            pk=$(esp_packets "$n" "$1" "$2" "$3")
            [ "${pk:-0}" -ge $((${before[$n$3]:-0} + 2 * PINGS)) ] ||
                problems+=("$n: SA $1 -> $2 spi $3 counted ${before[$n$3]:-?} -> ${pk:-?} packets after the move, expected +$((2 * PINGS))")
        done < <(_sa_pairs "$n")
    done
    local to from plain clear
    to=$(capture_count wan2 "$ESPINUDP_FILTER and src $WAN_A and dst $bpub and dst port ${new:-0}")
    from=$(capture_count wan2 "$ESPINUDP_FILTER and src $bpub and dst $WAN_A and src port ${new:-0}")
    plain=$(capture_count wan2 'ip proto 50')
    clear=$(capture_count wan2 'ip proto 47 or icmp')
    note "WAN after the move: ESP in UDP to $bpub:$new $to, from it $from; plain ESP $plain; GRE/ICMP in the clear $clear"
    [ "$to" -ge "$PINGS" ] && [ "$from" -ge "$PINGS" ] ||
        problems+=("after the move, ESP in UDP with port $new on the WAN: $to to B, $from from B (expected >= $PINGS each way)")
    [ "$plain" -eq 0 ] || problems+=("$plain plain ESP packets on the WAN after the move")
    [ "$clear" -eq 0 ] || problems+=("$clear GRE or ICMP packets in the clear on the WAN after the move")
    grep -E "$PEER: (CHILD SA down|IKE SA down|negotiation failed)" "$WORK/A/tunneld.log" &&
        problems+=("tunneld lost the SA over the NAT's flush")
    if [ ${#problems[@]} -gt 0 ]; then
        echo "--- decoded WAN capture after the flush (first 40 lines)"
        capture_show wan2 | head -n 40
        for n in A B; do echo "--- ip xfrm state in $n"; ip -n "$n" xfrm state | grep -v -e '^\s*\(aead\|auth\|enc\) '; done
    fi
    problems_report
}
