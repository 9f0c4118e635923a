#!/bin/bash
# Rekeys under load lose nothing. Two sites with tunneld, tunnel up and OSPF
# Full; then, while LAN host A pings LAN host B continuously (FLOWS pings side
# by side, >= 50 packets/s together), the test forces 20 CHILD SA rekeys
# (control socket "clear-sa", initiated by A, B, A, ...) and 3 IKE SA rekeys
# ("rekey-ike", after the 6th, 13th and 19th CHILD rekey), each waited for:
# "CHILD SA rekeyed" on both daemons with SPIs that match crosswise, and all
# four new ESP states in both kernels (or, for the IKE SA, "IKE SA up" and
# the old one's "IKE SA down: replaced" on both, the CHILD SA untouched),
# with a short pause between. Passes only when
#  - every echo request sent got its reply: 0 lost (packets sent and received
#    are printed) and the flows averaged >= 50 packets/s,
#  - OSPF stayed Full on both sides the whole time: no "AdjChg ... Full ->"
#    in FRR's log (log-adjacency-changes detail) and the neighbour's up time
#    (time since its last progress to Full) covers the whole run,
#  - make before break: when a rekey's new states are in, the old SA's are
#    still there (tunneld retires them after a 10 s grace period), and 10 s
#    after the last rekey (+3 s for TCG) each kernel holds exactly one ESP
#    state per direction: the last rekey's,
#  - neither daemon logged a CHILD SA down, an IKE SA down other than
#    "replaced", a failed negotiation, a warning or an error meanwhile.
# On a loss it prints the lost sequence numbers with their time next to the
# rekeys', and the XFRM error counters (/proc/net/xfrm_stat) of each side.
#
# TUNNEL_PROFILE (rekey_load_ikev1.sh): both ends on that profile. With
# IKEv1 a CHILD rekey is a Quick Mode (the initiator installs after message
# 2 and deletes the old pair, the responder installs after message 3; both
# log "CHILD SA rekeyed"); an IKE rekey is a new ISAKMP SA by Main Mode
# ("IKE SA up: IKEv1" on both), which takes the IPsec SA over, and the old
# ISAKMP SA goes ("IKE SA down: replaced": at once on the rekey's
# initiator, on its DELETE on the other side).
#
# Negative self-check: E2E_BREAK=delstate deletes, after the 10th CHILD
# rekey, B's inbound state of the SA A sends on (ip xfrm state delete), so
# A's packets to B are dropped until the next rekey; the test must fail.
#
# e2e-timeout: 420
# e2e-break: delstate lost
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source=../vm/flow.sh
. "$(dirname "$0")/../vm/flow.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | delstate) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: delstate)" ;;
esac
CHILD_REKEYS=20
IKE_AFTER="6 13 19"   # an IKE SA rekey after these CHILD rekeys (the last one is a CHILD rekey)
FLOWS=2               # pings side by side: under TCG one ping -i 0.02 makes ~30/s
INTERVAL=0.02
BATCH=500             # packets per ping run; each flow runs ping after ping until told to stop
MIN_RATE=50
PAUSE=0.5             # seconds of traffic on each new SA before the next rekey
GRACE_S=10            # tunneld's REKEY_GRACE_MS
SLACK_MS=3000         # TCG under load: late timers, and the polling itself (2 execs of ip a try);
                      # measured: gone 9.3-9.9 s after the rekey in an idle VM, 11.9-12.1 s under this load
die() { dump_state A B; fail "$@"; }

load_modules ip_gre esp4 xfrm_user
two_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
for s in A B; do
    vtysh -N "$s" -c 'configure terminal' -c 'router ospf' -c 'log-adjacency-changes detail' >/dev/null ||
        fail "$s: cannot turn on log-adjacency-changes"
done
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml"

step "tunneld on A and B"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
VER=$(ike_version)
for s in A B; do
    tunneld_grep "$s" "IKE SA up: IKEv$VER" >/dev/null || die "$s: no \"IKE SA up: IKEv$VER\" (profile ${TUNNEL_PROFILE:-default})"
done
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
ospf_pair A B 90 || die "OSPF between A and B did not come up"
step "tunnel up (IKEv$VER), OSPF Full both ways"
ping_ok A-lan "$LAN_B_HOST" 3

# --- helpers -------------------------------------------------------------------

peer_of() { if [ "$1" = A ]; then echo b; else echo a; fi; }
other() { if [ "$1" = A ]; then echo B; else echo A; fi; }
now_s() { echo "$EPOCHREALTIME"; }

# td_last SITE STRING: the last line after the mark containing STRING.
td_last() {
    local n=0 l mark=${_TD_MARK[$1]:-0} last=""
    while IFS= read -r l || [ -n "$l" ]; do
        n=$((n + 1))
        [ "$n" -gt "$mark" ] && [[ $l == *"$2"* ]] && last=$l
    done <"$WORK/tunneld-$1.log"
    [ -n "$last" ] && echo "$last"
}

# rekeyed_spis SITE: "IN OUT" of the last "CHILD SA rekeyed" after the mark.
rekeyed_spis() {
    local l
    l=$(td_last "$1" "$(peer_of "$1"): CHILD SA rekeyed: SPI in ") || return 1
    [[ $l =~ SPI\ in\ (0x[0-9a-f]+)\ out\ (0x[0-9a-f]+) ]] || return 1
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}

# has_states SITE IN OUT [ONLY]: SITE's kernel has the inbound state IN
# (peer -> SITE) and the outbound state OUT (SITE -> peer); with ONLY, and
# no other ESP state. One exec per call: it is polled.
has_states() {
    local st me them
    me=$(site_wan "$1") them=$(site_wan "$(other "$1")")
    st=$'\n'$(xfrm_states "$1")$'\n'
    [[ $st == *$'\n'"$them $me $2 "* && $st == *$'\n'"$me $them $3 "* ]] || return 1
    [ -z "${4:-}" ] || [ "$(grep -c . <<<"$st")" -eq 2 ]
}
both_have() { has_states A "$1" "$2" && has_states B "$2" "$1"; }
# only_these IN OUT: A and B hold exactly the SA IN/OUT (A's view), nothing else.
only_these() { has_states A "$1" "$2" only && has_states B "$2" "$1" only; }

# request SITE CMD: send {"cmd": CMD} to SITE's tunneld; true when it acted
# on its peer ("cleared" not empty). ikecore refuses while the IKE SA has a
# request out (e.g. the previous rekey's DELETE), so callers retry.
REPLY=""
request() {
    REPLY=$(ctl "$1" "{\"cmd\":\"$2\"}") || return 1
    [[ $REPLY == *'"cleared":[{'* ]]
}

# xfrm_stat SITE: SITE's XFRM error counters, "Name value" lines.
xfrm_stat() { ns "$1" cat /proc/net/xfrm_stat | tr -s ' \t' ' '; }
# stat_delta BEFORE AFTER: the counters that moved, "Name +N".
stat_delta() {
    # shellcheck disable=SC2016 # awk's $1
    awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%s +%d\n", $1, $2 - b[$1] }' \
        <(echo "$1") <(echo "$2")
}

# nbr_json SITE: FRR's neighbour on gre-PEER as "STATE UPTIME_MS" (Full, ms
# since it last progressed to that state).
nbr_json() {
    vtysh -N "$1" -c 'show ip ospf neighbor json' 2>/dev/null | /usr/bin/python3 -I -S -c '
import json, sys
want = sys.argv[1] + ":"
for lst in json.load(sys.stdin).get("neighbors", {}).values():
    for n in lst:
        if n.get("ifaceName", "").startswith(want):
            print(n.get("nbrState", "?").split("/")[0], n.get("upTimeInMsec", -1))
' "gre-$(peer_of "$1")"
}

# --- the load --------------------------------------------------------------------

problems=()
declare -A frr_off=() td_off=() xs0=() up0=() t_up0=()
for s in A B; do
    frr_off[$s]=$(stat -c %s "/var/log/frr/$s.log")
    td_off[$s]=$(wc -l <"$WORK/tunneld-$s.log")
    xs0[$s]=$(xfrm_stat "$s")
    read -r st up0[$s] < <(nbr_json "$s") || true
    t_up0[$s]=$(_ms)
    [ "$st" = Full ] || die "$s: OSPF neighbour is '$st', not Full, before the load"
done
sa_start=$(pair_sas A B A | cut -d' ' -f3 | tr '\n' ' ')

step "flow: $FLOWS x ping -i $INTERVAL from A-lan to $LAN_B_HOST (batches of $BATCH)"
flow_start A-lan "$LAN_B_HOST" "$FLOWS" "$INTERVAL" "$BATCH"

cur_in=$(pair_sas A B A | awk -v b="$WAN_B" '$1 == b { print $3 }')
cur_out=$(pair_sas A B A | awk -v a="$WAN_A" '$1 == a { print $3 }')
t_last_child=0
ike_spi=$(ctl A '{"cmd":"isakmp-sa"}' | sed -n 's/.*"spi_i":"\([0-9a-f]*\)".*/\1/p')
side=A
for i in $(seq 1 "$CHILD_REKEYS"); do
    tunneld_mark A
    tunneld_mark B
    t0=$(_ms)
    flow_event "CHILD rekey $i by $side requested"
    wait_for 20 request "$side" clear-sa || die "rekey $i: $side's clear-sa was not acted on: ${REPLY:-no reply}"
    tunneld_wait "$side" 30 "$(peer_of "$side"): CHILD SA rekeyed" || die "rekey $i: $side did not log \"CHILD SA rekeyed\""
    tunneld_wait "$(other "$side")" 30 "$(peer_of "$(other "$side")"): CHILD SA rekeyed" ||
        die "rekey $i: $(other "$side") did not log \"CHILD SA rekeyed\""
    t_rekeyed=$(_ms) # both rekeyed: their old SA retires GRACE_S from about now
    read -r a_in a_out < <(rekeyed_spis A) || die "rekey $i: no SPIs in A's \"CHILD SA rekeyed\""
    read -r b_in b_out < <(rekeyed_spis B) || die "rekey $i: no SPIs in B's \"CHILD SA rekeyed\""
    { [ "$a_in" = "$b_out" ] && [ "$a_out" = "$b_in" ]; } ||
        die "rekey $i: A has in $a_in out $a_out, B in $b_in out $b_out: they do not match"
    { [ "$a_in" != "$cur_in" ] && [ "$a_out" != "$cur_out" ]; } || die "rekey $i: the SPIs did not change"
    wait_for 15 both_have "$a_in" "$a_out" ||
        die "rekey $i: the new states (A in $a_in out $a_out) are not in both kernels"
    # Make before break; collected, not fatal (E2E_BREAK=delstate removed one).
    both_have "$cur_in" "$cur_out" ||
        problems+=("rekey $i: the old SA (A in $cur_in out $cur_out) was gone $(($(_ms) - t_rekeyed)) ms after the rekey, before the ${GRACE_S} s grace period ended")
    cur_in=$a_in cur_out=$a_out t_last_child=$t_rekeyed
    flow_event "CHILD rekey $i by $side done: A in $a_in out $a_out"
    note "CHILD rekey $i by $side: A in $a_in out $a_out ($(($(_ms) - t0)) ms)"

    if [ "$BREAK" = delstate ] && [ "$i" -eq 10 ]; then
        step "E2E_BREAK=delstate: deleting B's inbound state $cur_out (this run must fail)"
        ip -n B xfrm state delete src "$WAN_A" dst "$WAN_B" proto esp spi "$cur_out" ||
            fail "cannot delete B's state $cur_out"
        flow_event "E2E_BREAK: B's inbound $cur_out deleted"
    fi
    sleep "$PAUSE"

    if [[ " $IKE_AFTER " == *" $i "* ]]; then
        tunneld_mark A
        tunneld_mark B
        t0=$(_ms)
        old_ike=$ike_spi
        flow_event "IKE rekey by $side requested"
        wait_for 20 request "$side" rekey-ike || die "IKE rekey after $i: $side's rekey-ike was not acted on: ${REPLY:-no reply}"
        for s in A B; do
            tunneld_wait "$s" 30 "$(peer_of "$s"): IKE SA up: IKEv$VER" ||
                die "IKE rekey after $i: $s did not log \"IKE SA up: IKEv$VER\""
            tunneld_wait "$s" 40 "$(peer_of "$s"): IKE SA down: replaced" ||
                die "IKE rekey after $i: $s did not log the old IKE SA's \"IKE SA down: replaced\""
        done
        ike=$(ctl A '{"cmd":"isakmp-sa"}')
        [ "$(grep -o '"spi_i"' <<<"$ike" | wc -l)" -eq 1 ] || die "IKE rekey after $i: A has not one IKE SA: $ike"
        new_ike=$(sed -n 's/.*"spi_i":"\([0-9a-f]*\)".*/\1/p' <<<"$ike")
        { [ -n "$new_ike" ] && [ "$new_ike" != "$old_ike" ]; } || die "IKE rekey after $i: the IKE SA's SPI did not change ($old_ike): $ike"
        ike_spi=$new_ike
        both_have "$cur_in" "$cur_out" || die "IKE rekey after $i: the CHILD SA $cur_in/$cur_out is gone"
        for s in A B; do
            ! tunneld_grep "$s" "CHILD SA" || die "IKE rekey after $i: $s logged a CHILD SA event: $(td_last "$s" "CHILD SA")"
        done
        flow_event "IKE rekey by $side done: SPIi $old_ike -> $new_ike"
        note "IKE rekey by $side: SPIi $old_ike -> $new_ike ($(($(_ms) - t0)) ms)"
        sleep "$PAUSE"
    fi
    side=$(other "$side")
done
step "$CHILD_REKEYS CHILD SA rekeys and $(wc -w <<<"$IKE_AFTER") IKE SA rekeys done"

# The grace period: by GRACE_S after the last CHILD rekey, only its states.
# (wait_for's limit is in whole seconds: the deadline is checked again.)
deadline=$((t_last_child + GRACE_S * 1000 + SLACK_MS))
left=$(((deadline - $(_ms) + 999) / 1000))
[ "$left" -ge 1 ] || left=1
if wait_for "$left" only_these "$cur_in" "$cur_out"; then
    took=$(($(_ms) - t_last_child))
    if [ "$took" -le $((GRACE_S * 1000 + SLACK_MS + 500)) ]; then
        note "one ESP state per direction on each side $took ms after the last CHILD rekey"
    else
        problems+=("the old SAs went only $took ms after the last CHILD rekey (grace ${GRACE_S} s)")
    fi
else
    problems+=("$(($(_ms) - t_last_child)) ms after the last CHILD rekey (grace ${GRACE_S} s) old SAs are left: A: $(pair_sas A B A | cut -d' ' -f3 | tr '\n' ' ')B: $(pair_sas A B B | cut -d' ' -f3 | tr '\n' ' ')expected only $cur_in $cur_out")
fi

step "stopping the flow"
flow_stop
for s in A B; do
    read -r st up1 < <(nbr_json "$s") || true
    el=$(($(_ms) - t_up0[$s]))
    if [ "${st:-}" != Full ]; then
        problems+=("$s: OSPF neighbour is '${st:-none}' at the end, not Full")
    elif [ "${up1:--1}" -lt $((up0[$s] + el - 2000)) ]; then
        problems+=("$s: OSPF left Full during the run: Full for ${up1} ms at the end, ${el} ms after it had been Full for ${up0[$s]} ms")
    fi
    adj=$(tail -c +$((frr_off[$s] + 1)) "/var/log/frr/$s.log" | grep 'AdjChg' | grep 'Full -> ' || true)
    [ -z "$adj" ] || problems+=("$s: OSPF left Full during the run (FRR log): $(tr '\n' ';' <<<"$adj")")
    bad=$(tail -n +$((td_off[$s] + 1)) "$WORK/tunneld-$s.log" |
        grep -e 'CHILD SA down' -e 'IKE SA down' -e 'negotiation failed' -e ' warning: ' -e ' err: ' |
        grep -v 'IKE SA down: replaced' || true)
    [ -z "$bad" ] || problems+=("$s: tunneld logged during the run: $(tr '\n' ';' <<<"$bad")")
done

step "flow: $FLOW_SENT packets sent, $FLOW_RECV received, $FLOW_LOST lost, in $FLOW_SECS s ($FLOW_RATE packets/s, $FLOW_RUNS ping runs)"
for s in A B; do
    d=$(stat_delta "${xs0[$s]}" "$(xfrm_stat "$s")")
    note "$s: /proc/net/xfrm_stat moved: $(if [ -n "$d" ]; then tr '\n' ' ' <<<"$d"; else echo nothing; fi)"
done
[ "$FLOW_RUNS" -gt 0 ] && [ "$FLOW_SENT" -gt 0 ] || problems+=("no ping run finished: $(tail -n 3 "$WORK/flow-1.txt")")
[ "$FLOW_RATE" -ge "$MIN_RATE" ] || problems+=("the flow made $FLOW_RATE packets/s, below $MIN_RATE")
if [ "$FLOW_LOST" -ne 0 ]; then
    problems+=("$FLOW_LOST of $FLOW_SENT packets lost across the rekeys")
    flow_lost_report
    for s in A B; do
        echo "--- $s: ip -s xfrm state"
        ip -n "$s" -s xfrm state | grep -E '^src|proto esp|packets|replay|stats' | sed 's/^/    /'
    done
fi
note "ESP SAs at the start: $sa_start; at the end: $(pair_sas A B A | cut -d' ' -f3 | tr '\n' ' ')"

for s in A B; do
    tunneld_running "$s" || problems+=("tunneld in $s exited")
done
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "PASS rekey_load (IKEv$VER): $CHILD_REKEYS CHILD and $(wc -w <<<"$IKE_AFTER") IKE rekeys under $FLOW_RATE packets/s, $FLOW_SENT sent, $FLOW_RECV received, 0 lost, OSPF Full throughout"
