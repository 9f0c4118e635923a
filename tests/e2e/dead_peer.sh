#!/bin/bash
# A dead peer is noticed, cleaned up and reconnected without an operator.
# Two sites with tunneld, liveness interval (dpd) DPD s on both ends (the
# minimum docs/config.md allows), tunnel up, OSPF Full. Then:
#  1. kill -9 B's tunneld: B's kernel keeps its SAs (nothing removes them)
#     but nothing answers IKE any more. A must log "b: IKE SA down: dead
#     peer" (or "negotiation failed: dead peer") within BOUND: ikecore sends
#     its liveness check once the IKE SA has been idle for DPD s (at T, at
#     most DPD s after the kill), retransmits it (retransmit_base_ms 500
#     doubling: T+0.5, 1.5, 3.5, 7.5) and abandons it at T + 2 DPD
#     (lifetime.c ike_dpd_give_up): within 3 liveness intervals of the
#     peer's last word. BOUND = 3 DPD + 3 s for TCG's late timers and this
#     script's polling. The time it took is printed. Then A's ESP states
#     for B are gone, and its GRE policies stay (GRE never leaves in the
#     clear while the peer is down);
#  2. B's tunneld starts again: it cleans the killed run's SAs, initiates,
#     and the tunnel is back without operator action ("CHILD SA up" on
#     both within RESTART_BOUND, one SA each way, none of the killed run's
#     SPIs, OSPF Full, LAN ping passes);
#  3. B's tunneld is SIGSTOPped until A's liveness check has gone
#     unanswered through 3 retransmissions (4 IKE requests from A in the
#     WAN capture, none from B, by T+3.5 s), then SIGCONTed: B answers, and
#     A must not declare it dead: no "dead peer" or SA down by the time A
#     would have given up (first request + 2 DPD), the same SAs, the ping
#     passes.
#
# TUNNEL_PROFILE (dead_peer_ikev1.sh): both ends on that profile. With IKEv1
# the liveness check is RFC 3706 DPD (ikecore/ikev1_sa.c dpd_tick): an
# R-U-THERE once the ISAKMP SA has been idle for DPD s, then a fresh
# R-U-THERE (next sequence number, new message ID) on the same back-off,
# 500 ms doubling, abandoned at T + 2 DPD: the same budget, ending in
# "negotiation failed: dead peer" and "IKE SA down: dead peer". The ISAKMP
# header has no Response flag and the notify type is encrypted, so an
# R-U-THERE is told from an ACK by direction only: while B is stopped every
# IKE packet A sends B is one of A's R-U-THEREs (B sends A none to ACK).
#
# Negative self-check: E2E_BREAK=longdpd gives A a 300 s liveness interval,
# so A cannot notice within BOUND; the test must fail.
#
# e2e-timeout: 300
# e2e-break: longdpd did not notice
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | longdpd) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: longdpd)" ;;
esac
DPD=5                          # docs/config.md: dpd is 0 (off) or 5 to 3600 s
# ikecore, both versions (sa.c retransmit, ikev1_sa.c dpd_tick): the check
# is abandoned 2 intervals after it was first sent.
GIVE_UP_MS=$((2 * DPD * 1000))
VER=$(ike_version)
SLACK_MS=3000
BOUND_MS=$((3 * DPD * 1000 + SLACK_MS))
# B initiates as soon as it is up (start-up + IKE_SA_INIT + IKE_AUTH: 4-8 s
# measured under TCG); failing that, A's next retry (5 s after the dead peer,
# its IKE_SA_INIT retransmitted for 31.5 s) would reach B too.
RESTART_BOUND=30
STOP_REQUESTS=4                # B stays stopped until A sent this many copies of its request
die() { dump_state A B; fail "$@"; }
secs() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
# the main policies (not the per-socket IKE bypass ones)
gre_policies() { ip -n "$1" xfrm policy | grep -c 'proto gre' || true; }
dead_seen() { tunneld_grep A "b: IKE SA down: dead peer" || tunneld_grep A "b: negotiation failed: dead peer"; }
no_sas() { [ -z "$(pair_sas A B "$1")" ]; }
# ike_pkts FROM TO SINCE_MS [FILTER] [first]: how many IKE packets FROM -> TO
# the capture "stop" holds from SINCE_MS (epoch ms) on (the capture starts
# before the SIGSTOP: a liveness exchange may be under way); with "first",
# the time of the first one instead. (No NAT here: IKE is on port 500.)
ike_pkts() {
    tcpdump -r "$WORK/stop.pcap" -n -tt "udp port 500 and src host $1 and dst host $2${4:+ and $4}" 2>/dev/null |
        awk -v t="$3" -v first="${5:-}" '$1 * 1000 >= t { n++; if (first != "") { printf "%.0f\n", $1 * 1000; exit } }
            END { if (first == "") print n + 0 }'
}
if [ "$VER" = 2 ]; then
    REQUEST='(udp[27] & 0x20) = 0'   # the IKEv2 header's Response flag clear: a request
else
    REQUEST=''                       # IKEv1: every packet A -> B (see the header)
fi
ike_from_a() { [ "$(ike_pkts "$WAN_A" "$WAN_B" "$t_stop" "$REQUEST")" -ge "$STOP_REQUESTS" ]; }
ike_from_b() { [ "$(ike_pkts "$WAN_B" "$WAN_A" "$t_cont")" -ge 1 ]; }

load_modules ip_gre esp4 xfrm_user
two_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
dpd_a=$DPD
if [ "$BREAK" = longdpd ]; then
    step "E2E_BREAK=longdpd: A's liveness interval is 300 s (this run must fail)"
    dpd_a=300
fi
site_file A "$WORK/a.yaml" --peer-opt "B=dpd: $dpd_a"
site_file B "$WORK/b.yaml" --peer-opt "A=dpd: $DPD"
"$TUNNELD" --check "$WORK/a.yaml" "$WORK/b.yaml" >/dev/null || fail "the site files do not pass tunneld --check"

step "tunneld on A and B (dpd: A $dpd_a s, B $DPD s)"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
ospf_pair A B 90 || die "OSPF between A and B did not come up"
for s in A B; do
    tunneld_grep "$s" "IKE SA up: IKEv$VER" >/dev/null || die "$s: no \"IKE SA up: IKEv$VER\" (profile ${TUNNEL_PROFILE:-default})"
done
map=$(ctl A '{"cmd":"crypto-map"}') || die "A: crypto-map: $map"
[[ $map == *"\"dpd_s\":$dpd_a"* ]] || die "A does not run with dpd $dpd_a: $map"
ping_ok A-lan "$LAN_B_HOST" 3
pol_a=$(gre_policies A)
[ "$pol_a" -ge 2 ] || die "A: $pol_a GRE policies while the tunnel is up"
step "tunnel up (IKEv$VER), OSPF Full"

# --- 1. kill -9 -------------------------------------------------------------------
old_b=$(pair_sas A B B | cut -d' ' -f3)
tunneld_mark A
step "kill -9 B's tunneld; A must notice within $(secs "$BOUND_MS") s (3 x $DPD s + $(secs "$SLACK_MS") s for TCG)"
t_kill=$(_ms)
rc=0
tunneld_stop B KILL 30 || rc=$?
[ "$rc" -eq 137 ] || die "tunneld B: exit status $rc after SIGKILL"
[ "$(pair_sas A B B | cut -d' ' -f3)" = "$old_b" ] || die "B's SAs changed when its tunneld was killed"
if ! wait_for $(((BOUND_MS - ($(_ms) - t_kill) + 999) / 1000)) dead_seen; then
    die "A did not notice that B is dead within $(secs "$BOUND_MS") s of the kill (dpd $dpd_a s)"
fi
took=$(($(_ms) - t_kill))
[ "$took" -le "$BOUND_MS" ] || die "A did not notice that B is dead within $(secs "$BOUND_MS") s: it took $(secs "$took") s"
note "A: $(grep -m1 'b: .*dead peer' "$WORK/tunneld-A.log")"
step "A noticed after $(secs "$took") s (liveness check idle $DPD s + $(secs "$GIVE_UP_MS") s unanswered: at most $(secs $((DPD * 1000 + GIVE_UP_MS))) s in theory, bound $(secs "$BOUND_MS") s)"
wait_for 10 no_sas A || die "A still has ESP states for B after declaring it dead: $(pair_sas A B A | tr '\n' ';')"
[ "$(gre_policies A)" -eq "$pol_a" ] || die "A: $(gre_policies A) GRE policies while B is down, expected $pol_a (GRE could leave in the clear)"
note "A: no ESP state for B, its $pol_a GRE policies stay"

# --- 2. B again -------------------------------------------------------------------
step "B's tunneld starts again; the tunnel must come back by itself within $RESTART_BOUND s"
tunneld_mark A
t_start=$(_ms)
tunneld_start B "$WORK/b.yaml"
pair_up A B "$RESTART_BOUND" || die "the tunnel did not come back within $RESTART_BOUND s of B's restart"
took=$(($(_ms) - t_start))
[ "$took" -le $((RESTART_BOUND * 1000)) ] || die "the tunnel came back $(secs "$took") s after B's restart, bound $RESTART_BOUND s"
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way: A: $(pair_sas A B A | tr '\n' ';') B: $(pair_sas A B B | tr '\n' ';')"
now_b=$(pair_sas A B B | cut -d' ' -f3)
for spi in $old_b; do
    grep -qx "$spi" <<<"$now_b" && die "B: SA spi $spi of the killed run still installed"
done
ospf_pair A B 90 || die "OSPF between A and B did not come back"
ping_ok A-lan "$LAN_B_HOST" 5
step "tunnel back $(secs "$took") s after B's restart (CHILD SA up on both), OSPF Full, ping passes"

# --- 3. SIGSTOP shorter than the budget ----------------------------------------------
sas=$(pair_sas A B A)
tunneld_mark A
capture_start stop A wan0
step "SIGSTOP B's tunneld until A's liveness check went out $STOP_REQUESTS times unanswered"
t_stop=$(_ms)
kill -STOP "${TUNNELD_PID[B]}"
# A sends once idle for DPD s, then retransmits at +0.5, +1.5, +3.5 s.
if ! wait_for $((DPD + 8 + 10)) ike_from_a; then
    kill -CONT "${TUNNELD_PID[B]}"
    die "A sent $(ike_pkts "$WAN_A" "$WAN_B" "$t_stop" "$REQUEST") IKE requests to the stopped B in $(secs $(($(_ms) - t_stop))) s, expected $STOP_REQUESTS (a liveness check and its retransmissions)"
fi
# (B's packets from 0.2 s after the SIGSTOP: one it was sending then may still be on its way.)
n_a=$(ike_pkts "$WAN_A" "$WAN_B" "$t_stop" "$REQUEST") n_b=$(ike_pkts "$WAN_B" "$WAN_A" $((t_stop + 200)))
kill -CONT "${TUNNELD_PID[B]}"
t_cont=$(_ms)
[ "$n_b" -eq 0 ] || die "B sent $n_b IKE packets while stopped: SIGSTOP did not stop it?"
first_ms=$(ike_pkts "$WAN_A" "$WAN_B" "$t_stop" "$REQUEST" first)
note "B stopped $(secs $((t_cont - t_stop))) s; A's first request $(secs $((first_ms - t_stop))) s after the stop, $n_a IKE requests to B, nothing back"
wait_for 20 ike_from_b || die "B sent nothing to A within 20 s of SIGCONT"
tunneld_running B || die "tunneld B died after SIGCONT"
# Had A not taken B's answer, it would give up at first + 2 DPD.
left=$(((first_ms + GIVE_UP_MS + 2000 - $(_ms) + 999) / 1000))
note "watching A's log until its request would have timed out ($left s more)"
if [ "$left" -gt 0 ] && wait_for "$left" dead_seen; then
    die "A declared B dead although B was stopped only $(secs $((t_cont - t_stop))) s and answered after SIGCONT"
fi
capture_stop stop
problems=()
dead_seen && problems+=("A declared B dead after a stop shorter than the liveness budget")
for ev in "IKE SA down" "CHILD SA down" "negotiation failed" "CHILD SA up"; do
    tunneld_grep A "b: $ev" && problems+=("A logged \"b: $ev\" around B's SIGSTOP")
done
[ "$(pair_sas A B A)" = "$sas" ] || problems+=("A's SAs changed: before $(tr '\n' ' ' <<<"$sas")after $(pair_sas A B A | tr '\n' ' ')")
[ "$(pair_sas A B B)" = "$sas" ] || problems+=("B's SAs changed: before $(tr '\n' ' ' <<<"$sas")after $(pair_sas A B B | tr '\n' ' ')")
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
ping_ok A-lan "$LAN_B_HOST" 5
step "PASS dead_peer (IKEv$VER): kill -9 noticed in time, the tunnel came back by itself; a SIGSTOP shorter than the budget is not taken for death"
