#!/bin/bash
# Rekeys of both sides at once lose nothing. Two sites with tunneld, tunnel
# up; while A pings B's end of the GRE link continuously (ping -i 0.02),
# ROUNDS times one process sends "clear-sa" to both daemons' control sockets
# back to back, so both start a CHILD rekey within a millisecond: their
# requests cross on the wire (RFC 7296 §2.8.1; with IKEv1 two Quick Modes,
# ikecore/ikev1_collision.c). This is what happens when both kernels reach
# a kilobyte limit together. Passes only when
#  - at least MIN_CROSSED rounds crossed (both sides logged two "CHILD SA
#    rekeyed" and the redundant SA's "CHILD SA down: ..., replaced"),
#  - after every round both sides keep the same SA (the one each kernel
#    sends on is the one the other receives on: one ping gets through), and
#    GRACE_S (+3 s for TCG) after the last round each kernel holds just that
#    SA, one state per direction,
#  - not one echo request went unanswered (sent and received are printed),
#  - neither daemon logged an error or a warning.
#
# TUNNEL_PROFILE (rekey_cross_ikev1.sh): both ends on that profile.
#
# Negative self-check: E2E_BREAK=delstate deletes B's inbound state of the
# SA A sends on after the third round; A's packets are dropped until the
# next round, and the test must fail.
#
# e2e-timeout: 360
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
ROUNDS=8
MIN_CROSSED=3
PAUSE=6         # s between rounds: two rounds' retiring SAs at most (tunneld keeps 6 per peer)
GRACE_S=10      # tunneld's REKEY_GRACE_MS
die() { dump_state A B; fail "$@"; }
# td_lines SITE STRING: SITE's log lines after the mark that contain STRING.
td_lines() { tail -n +$((${_TD_MARK[$1]:-0} + 1)) "$WORK/tunneld-$1.log" | grep -F -e "$2" || true; }
# both_clear: "clear-sa" to A and B from one process, back to back.
both_clear() {
    /usr/bin/python3 -I -S -c '
import socket, sys
socks = []
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    socks.append(s)
for s in socks:
    s.sendall(b"{\"cmd\":\"clear-sa\"}\n")
for s in socks:
    while s.recv(65536):
        pass
' "$(tunneld_sock A)" "$(tunneld_sock B)"
}
# outs SITE / ins SITE: the SPIs of SITE's outbound / inbound ESP states.
outs() { xfrm_states "$1" | awk -v s="$(site_wan "$1")" '$1 == s { print $3 }' | sort; }
ins() { xfrm_states "$1" | awk -v s="$(site_wan "$1")" '$2 == s { print $3 }' | sort; }
# agreed: whichever outbound state a kernel picks, the other has it inbound.
agreed() {
    [ -n "$(outs A)" ] && [ -n "$(outs B)" ] &&
        [ -z "$(comm -23 <(outs A) <(ins B))" ] && [ -z "$(comm -23 <(outs B) <(ins A))" ]
}

VER=$(ike_version)
load_modules ip_gre esp4 xfrm_user
two_sites
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
pair_up A B 120 || die "no CHILD SA between A and B"
for s in A B; do
    tunneld_grep "$s" "IKE SA up: IKEv$VER" || die "$s: no \"IKE SA up: IKEv$VER\" (profile ${TUNNEL_PROFILE:-default})"
done
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
peer_in=$(ip -n B -4 -o addr show dev gre-a | awk '{print $4}' | cut -d/ -f1)
[ -n "$peer_in" ] || die "no inner address on B's gre-a"
step "tunnel up (IKEv$VER): $(pair_sas A B A | cut -d' ' -f3 | tr '\n' ' ')"

tunneld_mark A
tunneld_mark B
step "flow: ping -i 0.02 from A to $peer_in; $ROUNDS rounds of rekeys from both sides at once"
flow_start A "$peer_in" 1 0.02 250
sleep 2
crossed=0
for i in $(seq 1 "$ROUNDS"); do
    na=$(td_lines A "b: CHILD SA rekeyed" | wc -l) nb=$(td_lines B "a: CHILD SA rekeyed" | wc -l)
    nd=$(td_lines A "b: CHILD SA down" | wc -l)
    both_clear || die "round $i: the control sockets did not answer"
    rekeyed() {
        [ "$(td_lines A "b: CHILD SA rekeyed" | wc -l)" -gt "$na" ] &&
            [ "$(td_lines B "a: CHILD SA rekeyed" | wc -l)" -gt "$nb" ]
    }
    # two rekeys each and the redundant SA gone: they crossed
    crossing() {
        da=$(($(td_lines A "b: CHILD SA rekeyed" | wc -l) - na))
        db=$(($(td_lines B "a: CHILD SA rekeyed" | wc -l) - nb))
        [ "$da" -ge 2 ] && [ "$db" -ge 2 ] &&
            [[ $(td_lines A "b: CHILD SA down" | tail -n +$((nd + 1))) == *replaced* ]]
    }
    wait_for 20 rekeyed || die "round $i: no rekey on both sides"
    how="one rekey"
    if wait_for 5 crossing; then
        crossed=$((crossed + 1)) how="crossed"
    fi
    wait_for 10 agreed || die "round $i: a kernel sends on an SA the other does not have"
    note "round $i: $how (CHILD SA rekeyed: A $da, B $db); A's outbound states: $(outs A | tr '\n' ' ')"
    if [ "$BREAK" = delstate ] && [ "$i" -eq 3 ]; then
        step "E2E_BREAK=delstate: deleting B's inbound states of all A sends on (this run must fail)"
        for spi in $(outs A); do
            ip -n B xfrm state delete src "$WAN_A" dst "$WAN_B" proto esp spi "$spi" || fail "cannot delete $spi"
        done
    fi
    t_last=$(_ms)
    sleep "$PAUSE"
done
step "$ROUNDS rounds, $crossed crossed"

problems=()
[ "$crossed" -ge "$MIN_CROSSED" ] || problems+=("only $crossed of $ROUNDS rounds crossed, expected at least $MIN_CROSSED")
left=$(((t_last + (GRACE_S + 3) * 1000 - $(_ms) + 999) / 1000))
[ "$left" -ge 1 ] || left=1
wait_for "$left" pair_settled A B ||
    problems+=("$GRACE_S s after the last round more than one SA each way: A: $(pair_sas A B A | cut -d' ' -f3 | tr '\n' ' ')B: $(pair_sas A B B | cut -d' ' -f3 | tr '\n' ' ')")
flow_stop
[ "$FLOW_SENT" -gt 0 ] || die "the ping did not run: $(cat "$WORK/flow-1.txt")"
step "flow: $FLOW_SENT packets sent, $FLOW_RECV received, $FLOW_LOST lost, in $FLOW_SECS s ($FLOW_RATE packets/s)"
if [ "$FLOW_LOST" -ne 0 ]; then
    problems+=("$FLOW_LOST of $FLOW_SENT packets lost across the rekeys")
    flow_lost_report
fi
for s in A B; do
    bad=$(td_lines "$s" ' err: '; td_lines "$s" ' warning: ')
    [ -z "$bad" ] || problems+=("$s: tunneld logged: $(tr '\n' ';' <<<"$bad")")
    tunneld_running "$s" || problems+=("tunneld in $s exited")
done
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "PASS rekey_cross (IKEv$VER): $crossed of $ROUNDS rounds crossed, $FLOW_SENT sent, $FLOW_RECV received, 0 lost"
