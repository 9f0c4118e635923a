#!/bin/bash
# tunneld cleans up after itself, and after a previous run killed with -9.
# Two sites, A and B, tunnel up; then on A:
#  1. SIGTERM: exit 0 after "notice: stopped"; no gre-* link, no XFRM state,
#     no XFRM policy left in the namespace, and FRR's running config is
#     again the base config (no line tunneld added);
#  2. start again, tunnel up, kill -9: its GRE link, SAs and policies stay
#     behind (nothing ran to remove them);
#  3. start again: the leftovers are cleaned at start (none of the killed
#     run's SPIs remain, policies not duplicated, one gre-b), the tunnel
#     comes back ("CHILD SA up" on both sides, OSPF Full, LAN ping passes).
#
# Negative self-check: E2E_BREAK=kill9 stops A with SIGKILL instead of
# SIGTERM in step 1, which leaves everything behind; the test must fail.
#
# e2e-timeout: 300
# e2e-break: kill9 left behind
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | kill9) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: kill9)" ;;
esac
die() { dump_state A B; fail "$@"; }
gre_links() { ip -n "$1" -o link show | sed -n 's/^[0-9]*: \(gre-[^:@]*\).*/\1/p'; }
# the main policies (not the per-socket IKE bypass policies, which go with tunneld's sockets)
policies() { ip -n "$1" xfrm policy | grep -c '^\s*dir ' || true; }

load_modules ip_gre esp4 xfrm_user
two_sites
frr_start A "$LAN_A_GW"
frr_start B "$LAN_B_GW"
base=$(frr_config A)
site_file A "$WORK/a.yaml"
site_file B "$WORK/b.yaml"

step "A and B up"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready"
tunneld_wait B 60 "notice: ready" || die "tunneld B not ready"
pair_up A B 120 || die "no CHILD SA between A and B"
# What there is to clean up: otherwise step 1 would prove nothing.
[ "$(gre_links A)" = gre-b ] || die "A: gre links: $(gre_links A | tr '\n' ' '), expected gre-b"
[ -n "$(xfrm_states A)" ] || die "A: no ESP SA while the tunnel is up"
pol_n=$(policies A)
[ "$pol_n" -ge 2 ] || die "A: $pol_n XFRM policies while the tunnel is up"
added=$(diff <(echo "$base") <(frr_config A) | sed -n 's/^> //p')
[ -n "$added" ] || die "A: tunneld added nothing to FRR's running config"
note "tunneld added to FRR in A: $(tr '\n' ';' <<<"$added")"

if [ "$BREAK" = kill9 ]; then
    step "E2E_BREAK=kill9: SIGKILL instead of SIGTERM (this run must fail)"
    sig=KILL
else
    step "SIGTERM A"
    sig=TERM
fi
rc=0
tunneld_stop A "$sig" 30 || rc=$?
problems=()
[ "$rc" -eq 0 ] || problems+=("tunneld A exited with status $rc after SIG$sig")
tunneld_grep A "notice: stopped" || problems+=("A: no \"notice: stopped\" logged")
for l in $(gre_links A); do problems+=("A: link $l left behind"); done
while read -r src dst spi _; do
    problems+=("A: ESP SA $src -> $dst spi $spi left behind")
done < <(xfrm_states A)
[ -z "$(ip -n A xfrm state)" ] || problems+=("A: XFRM states left behind")
[ -z "$(ip -n A xfrm policy)" ] || problems+=("A: $(policies A) XFRM policies left behind")
leftover=$(diff <(echo "$base") <(frr_config A) | sed -n 's/^[<>] //p')
[ -z "$leftover" ] || problems+=("A: FRR running config left behind: $(tr '\n' ';' <<<"$leftover")")
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
step "A clean after SIGTERM: no gre-*, no XFRM state or policy, FRR config as before"

step "A again, then kill -9"
tunneld_mark B
tunneld_start A "$WORK/a.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready (second start)"
pair_up A B 120 || die "no CHILD SA between A and B after the restart"
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
old=$(xfrm_states A | cut -d' ' -f3)
rc=0
tunneld_stop A KILL 30 || rc=$?
[ "$rc" -eq 137 ] || die "tunneld A: exit status $rc after SIGKILL"
# The leftovers the next start must clean.
[ "$(gre_links A)" = gre-b ] || die "after kill -9: no gre-b left?"
if [ -z "$old" ] || [ "$(xfrm_states A | cut -d' ' -f3)" != "$old" ]; then die "after kill -9: SAs not left?"; fi
[ "$(policies A)" -eq "$pol_n" ] || die "after kill -9: $(policies A) policies left, expected $pol_n"
note "left behind by kill -9: gre-b, SAs $(tr '\n' ' ' <<<"$old"), $pol_n policies"

step "A again: cleans up at start, the tunnel comes back"
tunneld_mark B
tunneld_start A "$WORK/a.yaml"
tunneld_wait A 60 "notice: ready" || die "tunneld A not ready (third start)"
pair_up A B 120 || die "no CHILD SA between A and B after restarting from kill -9"
now=$(xfrm_states A | cut -d' ' -f3)
for spi in $old; do
    grep -qx "$spi" <<<"$now" && problems+=("A: SA spi $spi of the killed run still installed")
done
wait_for 30 pair_settled A B || problems+=("A: ESP SAs $(tr '\n' ' ' <<<"$now"), B: $(pair_sas A B B | cut -d' ' -f3 | tr '\n' ' '): not one SA each way, the same on both")
[ "$(xfrm_states A | wc -l)" -eq 2 ] || problems+=("A: $(xfrm_states A | wc -l) ESP SAs, expected 2")
[ "$(policies A)" -eq "$pol_n" ] || problems+=("A: $(policies A) XFRM policies, expected $pol_n")
[ "$(gre_links A)" = gre-b ] || problems+=("A: gre links: $(gre_links A | tr '\n' ' ')")
if [ ${#problems[@]} -gt 0 ]; then
    dump_state A B
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
ospf_pair A B 90 || die "OSPF between A and B did not come back"
ping_ok A-lan "$LAN_B_HOST" 5
step "PASS teardown: SIGTERM leaves nothing, a start after kill -9 cleans up and the tunnel comes back"
