#!/bin/bash
# SIGHUP: tunneld re-reads its site file. Three sites on one WAN bridge; A
# and B run with each other; C runs (--passive) with A as its peer. Then:
#  1. A's file gains peer C + SIGHUP: "reloaded", C's tunnel comes up
#     ("CHILD SA up" on A and C, OSPF Full on gre-c / gre-a, LANs learned,
#     A-lan pings C-lan, C-lan pings B-lan through A), while A-B is untouched:
#     the same SPIs on A and B before and after, the same gre-b interface,
#     no "b: ..." SA event in A's log;
#  2. an invalid file + SIGHUP: "reload failed" and the error's
#     FILE:LINE:COL logged, the daemon keeps running with the same SAs, OSPF
#     stays Full to B and C, the LAN pings still pass.
#
# Negative self-check: E2E_BREAK=changeb also changes peer b in the reloaded
# file (dpd), so tunneld restarts A-B; the SPI check must then fail.
#
# e2e-timeout: 300
# e2e-break: changeb A-B SAs changed
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | changeb) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: changeb)" ;;
esac
die() { dump_state A B C; fail "$@"; }
# ab_sas SITE: SITE's ESP SAs between A and B ("src dst spi"), sorted.
ab_sas() { pair_sas A B "$1"; }
ifindex() { ip -n "$1" -o link show dev "$2" 2>/dev/null | cut -d: -f1; }

load_modules ip_gre esp4 xfrm_user
three_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
frr_start C "$LAN_C_GW"
site_file A "$WORK/a.yaml" B
site_file B "$WORK/b.yaml" A
site_file C "$WORK/c.yaml" A

step "A and B up"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
ospf_pair A B 90 || die "OSPF between A and B did not come up"
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
sa_a=$(ab_sas A) sa_b=$(ab_sas B) gre_b=$(ifindex A gre-b)
[ "$(grep -c . <<<"$sa_a")" -eq 2 ] || die "A: $(grep -c . <<<"$sa_a") A-B SAs, expected 2"
[ "$sa_a" = "$sa_b" ] || die "A's and B's SAs differ"
note "A-B SAs: $(cut -d' ' -f3 <<<"$sa_a" | tr '\n' ' ')(gre-b ifindex $gre_b)"

step "C starts (--passive, peer a only); A gets peer c by SIGHUP"
tunneld_start C "$WORK/c.yaml" --passive
tunneld_wait C 60 "notice: ready" || die "tunneld C not ready"
opts=()
if [ "$BREAK" = changeb ]; then
    step "E2E_BREAK=changeb: peer b changes too (this run must fail)"
    opts=(--peer-opt "B=dpd: 20")
fi
site_file A "$WORK/a.yaml" "${opts[@]}" B C
tunneld_hup A
tunneld_wait A 30 "notice: reloaded" || die "A: no \"reloaded\" after SIGHUP"
pair_up A C 120 || die "no CHILD SA between A and C after the reload"
wait_for 30 pair_settled A C || die "A and C do not settle on one SA each way"
ospf_pair A C 90 || die "OSPF between A and C did not come up"
step "C's tunnel up; OSPF Full to C"
wait_for 60 route_learned C "$LAN_B_NET" gre-a || die "C: $LAN_B_NET not learned via gre-a"
wait_for 60 route_learned B "$LAN_C_NET" gre-a || die "B: $LAN_C_NET not learned via gre-a"
ping_ok A-lan "$LAN_C_HOST" 3
ping_ok C-lan "$LAN_B_HOST" 3

problems=()
[ "$(ab_sas A)" = "$sa_a" ] || problems+=("A-B SAs changed on A: before: $(tr "\n" " " <<<"$sa_a"); after: $(ab_sas A | tr "\n" " ")")
[ "$(ab_sas B)" = "$sa_b" ] || problems+=("A-B SAs changed on B: before: $(tr "\n" " " <<<"$sa_b"); after: $(ab_sas B | tr "\n" " ")")
[ "$(ifindex A gre-b)" = "$gre_b" ] || problems+=("gre-b was recreated (ifindex $gre_b -> $(ifindex A gre-b))")
for ev in "CHILD SA down" "IKE SA down" "CHILD SA up" "IKE SA up" "negotiation failed"; do
    tunneld_grep A "b: $ev" && problems+=("A logged \"b: $ev\" after the reload that added c")
done
ospf_full A gre-b || problems+=("OSPF to B not Full after the reload: $(ospf_state A gre-b)")
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B C
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "A-B untouched: the same SPIs on A and B, the same gre-b"

step "an invalid site file + SIGHUP"
sa_all=$(xfrm_states A | sort)
# line 6, column 3: an unknown key in "site"
{ head -n 5 "$WORK/a.yaml"; echo "  lann: 10.9.0.0/24"; tail -n +6 "$WORK/a.yaml"; } >"$WORK/a.yaml.new"
chmod 600 "$WORK/a.yaml.new"
mv "$WORK/a.yaml.new" "$WORK/a.yaml"
tunneld_hup A
tunneld_wait A 30 "reload failed" || die "A: no \"reload failed\" for an invalid file"
tunneld_wait A 10 "a.yaml:6:3: unknown key 'lann'" || problems+=("A: the error's a.yaml:6:3 position not logged")
grep -F -e "reload failed" -e "a.yaml:6:3" "$WORK/tunneld-A.log" | sed 's/^/            /'
tunneld_running A || die "tunneld A exited after an invalid reload"
tunneld_grep A "notice: reloaded" && problems+=("A logged \"reloaded\" for an invalid file")
for ev in "CHILD SA down" "IKE SA down"; do
    tunneld_grep A "$ev" && problems+=("A logged \"$ev\" after the invalid reload")
done
[ "$(xfrm_states A | sort)" = "$sa_all" ] || problems+=("A's SAs changed after the invalid reload")
ospf_full A gre-b || problems+=("OSPF to B not Full after the invalid reload")
ospf_full A gre-c || problems+=("OSPF to C not Full after the invalid reload")
ping_ok A-lan "$LAN_B_HOST" 3
ping_ok A-lan "$LAN_C_HOST" 3
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B C
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "PASS reload: c added without touching b; an invalid file kept the running config"
