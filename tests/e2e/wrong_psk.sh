#!/bin/bash
# Two sites whose PSKs differ: no tunnel, and nothing leaks. Passes only when
#  - both daemons log "negotiation failed: AUTHENTICATION_FAILED" for the
#    other and neither logs "CHILD SA up",
#  - neither kernel holds an ESP SA (ip xfrm state is empty),
#  - the GRE policies are in place, and a ping over the GRE link is blocked
#    by them (XfrmOutNoStates grows) instead of leaving as GRE (protocol 47)
#    in the clear: the WAN capture holds IKE, and no GRE, OSPF or ICMP.
#
# Negative self-check: E2E_BREAK=samepsk gives both sides the same PSK, so
# the tunnel comes up; the test must then fail.
#
# e2e-timeout: 180
# e2e-break: samepsk CHILD SA came up|ESP SAs in
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | samepsk) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: samepsk)" ;;
esac
die() { dump_state A B; fail "$@"; }

load_modules ip_gre esp4 xfrm_user
two_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
if [ "$BREAK" = samepsk ]; then
    step "E2E_BREAK=samepsk: both sides get the same PSK (this run must fail)"
    site_file A "$WORK/a.yaml"
else
    # 28 characters, valid, just not B's.
    site_file A "$WORK/a.yaml" --psk B=this-is-not-the-psk-of-b-at-all
fi
site_file B "$WORK/b.yaml"

step "tunneld on A and B with different PSKs, capturing A's WAN"
capture_start wan A wan0
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"

# Either outcome ends the wait: a failure report, or (broken) a CHILD SA.
settled() {
    { tunneld_grep "$1" "$2: negotiation failed" || tunneld_grep "$1" "$2: CHILD SA up"; } ||
        ! tunneld_running "$1"
}
wait_for 120 settled A b || die "A: neither a failure nor a CHILD SA for b within 120 s"
wait_for 60 settled B a || die "B: neither a failure nor a CHILD SA for a within 60 s"
for n in A B; do tunneld_running "$n" || die "tunneld in $n exited"; done

problems=()
tunneld_grep A "b: CHILD SA up" && problems+=("A: CHILD SA came up with a wrong PSK")
tunneld_grep B "a: CHILD SA up" && problems+=("B: CHILD SA came up with a wrong PSK")
# The responder's verdict can arrive a moment after the initiator's.
for p in "A b" "B a"; do
    # shellcheck disable=SC2086 # "site peer"
    set -- $p
    tunneld_grep "$1" "$2: CHILD SA up" && continue
    wait_for 15 tunneld_grep "$1" "$2: negotiation failed: AUTHENTICATION_FAILED" ||
        problems+=("$1: no \"$2: negotiation failed: AUTHENTICATION_FAILED\" logged")
done
for n in A B; do
    sa=$(ip -n "$n" xfrm state)
    [ -z "$sa" ] || problems+=("ESP SAs in $n: $(xfrm_states "$n" | tr '\n' ';')")
done
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "authentication failed on both sides, no SA in either kernel"
grep -h 'negotiation failed' "$WORK/tunneld-A.log" "$WORK/tunneld-B.log" | head -n 4 | sed 's/^/            /'

step "ping over the GRE link: the policy must block it"
for n in A B; do
    [ "$(ip -n "$n" xfrm policy | grep -c 'proto gre')" -ge 2 ] || die "$n: no GRE policies"
done
read -r ours theirs < <(tunnel_inner A gre-b) || die "A: gre-b has no /31"
route=$(ip -n A route get "$theirs")
[[ $route == *"dev gre-b"* ]] || die "A: $theirs not routed over gre-b: $route"
# A's counters: /proc/PID/net is the netns of PID, here tunneld's.
nostates() {
    local k v
    while read -r k v; do
        [ "$k" = XfrmOutNoStates ] && { echo "$v"; return; }
    done <"/proc/${TUNNELD_PID[A]}/net/xfrm_stat"
}
n0=$(nostates)
out=$(ip netns exec A ping -n -c 3 -i 0.3 -W 1 "$theirs" 2>&1) && die "ping $theirs over gre-b answered without an SA: $out"
n1=$(nostates)
note "A: ping $ours -> $theirs over gre-b: $(grep -o '[0-9]* packets transmitted, [0-9]* received' <<<"$out"); XfrmOutNoStates $n0 -> $n1"
capture_stop wan

wan_report wan
[ "$n1" -gt "$n0" ] || problems+=("XfrmOutNoStates did not grow: no GRE met the policy (ping and OSPF over gre-b)")
[ "$WAN_GRE" -eq 0 ] || problems+=("$WAN_GRE GRE packets in the clear on the WAN")
[ "$WAN_OSPF" -eq 0 ] || problems+=("$WAN_OSPF OSPF packets in the clear on the WAN")
[ "$WAN_ICMP" -eq 0 ] || problems+=("$WAN_ICMP ICMP packets in the clear on the WAN")
[ "$WAN_OTHER" -eq 0 ] || problems+=("$WAN_OTHER IPv4 packets other than IKE/ESP on the WAN")
[ "$WAN_ESP" -eq 0 ] || problems+=("$WAN_ESP ESP packets on the WAN without an SA?")
[ "$WAN_IKE" -ge 2 ] || problems+=("only $WAN_IKE IKE packets: the capture missed the negotiation?")
for n in A B; do
    [ -z "$(ip -n "$n" xfrm state)" ] || problems+=("ESP SAs in $n after the ping")
done
if [ ${#problems[@]} -gt 0 ]; then
    capture_show wan "$CLEARTEXT" | head -n 20
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "PASS wrong_psk: AUTHENTICATION_FAILED on both sides, no SA, GRE blocked, nothing in the clear"
