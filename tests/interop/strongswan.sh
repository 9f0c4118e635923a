#!/bin/bash
# Interop: tunneld against strongSwan's charon (a real IKEv1/IKEv2
# implementation, not ours), in one VM. Site A = tunneld in namespace A, site
# B = charon in namespace B, on lib.sh's two_sites.
#
#   tests/vm/vmrun tests/interop/strongswan.sh DIRECTION SUITE [SCENARIO]
#
# DIRECTION  tunneld-peer: tunneld initiates, charon only responds (no
#                          start_action);
#            peer-tunneld: tunneld runs with --passive, charon initiates
#                          (swanctl --initiate).
# SUITE      default: profiles/default.yaml's proposals, charon configured
#                     to accept exactly those;
#            default-x25519: the same set, charon preferring Curve25519
#                     (the two sides' first choices differ);
#            cbc:     AES-CBC-256 + HMAC-SHA2-256 + MODP-2048 for IKE and ESP
#                     (a site-file override of the default profile);
#            v1-main, v1-main-nopfs, v1-aggr, v1-aggr-nopfs: IKEv1 with
#                     profiles/strongswan-ikev1.yaml, Main or Aggressive
#                     Mode, Quick Mode with or without PFS (charon:
#                     version = 1, aggressive = yes for v1-aggr*).
# SCENARIO   what follows the checks below (default: nothing):
#            rekey:   CHILD and IKE rekeys by both sides under a ping flow,
#                     no packet lost (scenario_rekey.sh).
#            nat:     charon in B behind a NAT router (lib.sh's nat_sites
#                     instead of two_sites; peer-tunneld only): NAT-T
#                     detected by both, ESP in UDP 4500, then the NAT's
#                     mappings flushed and the tunnel back on its own
#                     within a bound (scenario_nat.sh).
#
# The case passes only if, from real state:
#  - charon shows the IKE SA ESTABLISHED (the suite's version, the expected
#    role; for IKEv1 its log names the suite's phase 1 mode) and the CHILD SA
#    INSTALLED, transport mode (for IKEv1 with a DH group exactly when the
#    suite has PFS), and tunneld logs "IKE SA up" / "CHILD SA up" with the
#    same version, role and SPIs;
#  - both ESP SAs (the SPIs charon reports) are in both kernels;
#  - pings cross a GRE link (the key and /31 `tunneld --check --print`
#    derives; made by hand on the charon side) in both directions, and the
#    packet counters of both ESP states rose on both sides;
#  - a capture of the WAN holds ESP and no GRE (proto 47) in the clear.
# The last line is "INTEROP: peer=... ike=... esp=..." for tests/interop/run.sh.
#
# Environment:
#   INTEROP_BREAK=psk    charon gets a different PSK: the case must fail
#                        (run.sh's negative self-check).
#   INTEROP_SMOKE=charon site A runs charon instead of tunneld: a check of
#                        this scaffolding only, never an interop result.
set -eu
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"
# shellcheck source=lib-interop.sh
. "$here/lib-interop.sh"

DIRECTION=${1:-}
SUITE=${2:-}
SCENARIO=${3:-}
BREAK=${INTEROP_BREAK:-}
SMOKE=${INTEROP_SMOKE:-}
case $DIRECTION in
tunneld-peer | peer-tunneld) ;;
*) fail "usage: strongswan.sh tunneld-peer|peer-tunneld SUITE (one of: $SUITE_NAMES)" ;;
esac
suite_set "$SUITE" strongswan
case $SCENARIO in
'') ;;
rekey)
    # shellcheck source=../vm/flow.sh
    . "$here/../vm/flow.sh"
    # shellcheck source=scenario_rekey.sh
    . "$here/scenario_rekey.sh"
    ;;
nat)
    [ "$DIRECTION" = peer-tunneld ] || fail "SCENARIO=nat: charon initiates from behind the NAT (peer-tunneld only)"
    [ -z "${INTEROP_SMOKE:-}" ] || fail "SCENARIO=nat: no INTEROP_SMOKE run (site A is tunneld, the NAT's public side)"
    # shellcheck source=scenario_nat.sh
    . "$here/scenario_nat.sh"
    ;;
*) fail "unknown SCENARIO=$SCENARIO (known: rekey nat)" ;;
esac
case $BREAK in '' | psk) ;; *) fail "unknown INTEROP_BREAK=$BREAK (known: psk)" ;; esac
case $SMOKE in '' | charon) ;; *) fail "unknown INTEROP_SMOKE=$SMOKE (known: charon)" ;; esac

repo=$(cd "$here/../.." && pwd -P)
TUNNELD=${TUNNELD:-$repo/tunneld/tunneld}
PSK="interop-$SUITE-psk-7Hq2Xv9LmR4sKw"
PEER=b # tunneld's name for charon's site
PINGS=5
SETUP_TIMEOUT=60 # s for the IKE SA and CHILD SA (TCG: DH takes a while)
problems=()

step "modules"
load_modules ip_gre esp4 xfrm_user
if [ "$SCENARIO" = nat ]; then
    step "two sites, B behind a NAT (nat_sites)"
    nat_sites
else
    step "two sites"
    two_sites
fi

# tunneld's site file, and what it derives and resolves (lib-interop.sh).
interop_site "$PSK"

# --- charon in B ----------------------------------------------------------------
psk_b=$PSK
if [ "$BREAK" = psk ]; then
    step "INTEROP_BREAK=psk: charon gets a different PSK (this run must fail)"
    psk_b="wrong-$PSK"
fi
step "charon in B ($SUITE: IKE $SUITE_PEER_IKE; ESP $SUITE_PEER_ESP)"
# Its identity is the address tunneld knows it by (behind a NAT: PUB_B).
charon_config B "$WAN_B" "$WAN_A" "$SUITE_PEER_IKE" "$SUITE_PEER_ESP" "$psk_b" none "$(site_peer_addr B)"
charon_start B
PEER_NAME=strongswan-$(charon_version B)
note "peer: $PEER_NAME"

# Every algorithm of the suite must be there (charon parses proposals
# without checking that a plugin implements them).
algs=$(swan B --list-algs 2>&1)
printf '%s\n' "$algs" >"$WORK/B/list-algs.txt"
for a in $SUITE_ALGS; do
    [[ $algs == *"${a}["* ]] || fail "charon in B has no $a (plugins: see $WORK/B/list-algs.txt)"
done

gre_link B gre-a "$WAN_B" "$WAN_A" "$IN_B"

# Capture the whole run on the WAN: IKE, ESP, and anything in the clear.
capture_start wan A wan0

# --- site A: tunneld (or, INTEROP_SMOKE=charon, a second charon) --------------
a_up() { # the CHILD SA is up on A's side
    if [ -n "$SMOKE" ]; then
        swan A --list-sas --raw 2>/dev/null | grep -q 'state=INSTALLED'
    else
        td_up
    fi
}
a_failed() { # A gave up (fail fast instead of waiting for the timeout)
    [ -z "$SMOKE" ] || return 1
    td_failed
}
if [ -n "$SMOKE" ]; then
    step "INTEROP_SMOKE=charon: charon in A too (scaffolding check, not an interop result)"
    charon_config A "$WAN_A" "$WAN_B" "$SUITE_IKE" "$SUITE_ESP" "$PSK"
    charon_start A
    gre_link A gre-b "$WAN_A" "$WAN_B" "$IN_A"
    if [ "$DIRECTION" = tunneld-peer ]; then
        step "A initiates"
        swan A --initiate --child gre --timeout "$SETUP_TIMEOUT" >"$WORK/A/initiate.log" 2>&1 ||
            {
                tail -n 20 "$WORK/A/initiate.log"
                fail "swanctl --initiate in A failed: $(grep -m1 -o 'received [A-Z_]* notify error' "$WORK/A/initiate.log")"
            }
    fi
else
    td_start
fi

if [ "$DIRECTION" = peer-tunneld ]; then
    step "charon initiates (swanctl --initiate)"
    swan B --initiate --child gre --timeout "$SETUP_TIMEOUT" >"$WORK/B/initiate.log" 2>&1 || {
        tail -n 20 "$WORK/B/initiate.log"
        note "(swanctl --initiate failed; the checks below say what is missing)"
    }
fi

# --- the SAs, as both sides see them -------------------------------------------
b_up() { swan B --list-sas --raw 2>/dev/null | grep -q 'state=INSTALLED'; }
step "waiting for the CHILD SA on both sides"
rc=0
wait_sas "$SETUP_TIMEOUT" b_up a_up a_failed || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "--- tunneld log (A), last 40 lines"
    tail -n 40 "$WORK/A/tunneld.log" 2>/dev/null || true
    echo "--- charon log (B): errors and notifies"
    grep -E -i 'fail|error|invalid|no proposal|NO_PROP|AUTH|unable|not |mismatch|received.*N\(' \
        "$WORK/B/charon.log" | tail -n 40 || true
    swan B --list-sas || true
    [ "$rc" -eq 2 ] && fail "tunneld gave up: $(td_why)"
    fail "CHILD SA not up on both sides after $SETUP_TIMEOUT s (charon: $(b_up && echo INSTALLED || echo 'not installed'), A: $(a_up && echo up || echo 'not up'))"
fi

raw=$(swan B --list-sas --raw)
printf '%s\n' "$raw" >"$WORK/B/list-sas.raw"
swan B --list-sas >"$WORK/B/list-sas.txt" 2>&1 || true
sed 's/^/            /' "$WORK/B/list-sas.txt"
if [ -z "$SMOKE" ]; then
    grep "$PEER: \(IKE\|CHILD\) SA up" "$WORK/A/tunneld.log" | sed 's/^/            A: /' || true
fi

ike_part=${raw%%child-sas*}
child_part=${raw#*child-sas}
[ "$(sa_field "$ike_part" state)" = ESTABLISHED ] || problems+=("charon: IKE SA not ESTABLISHED")
[ "$(sa_field "$ike_part" version)" = "$SUITE_VERSION" ] ||
    problems+=("charon: IKE SA is IKEv$(sa_field "$ike_part" version), not IKEv$SUITE_VERSION")
# Who initiated, from charon's side ("initiator=yes" only on the initiator).
if [ "$(sa_field "$ike_part" initiator)" = yes ]; then b_role=initiator; else b_role=responder; fi
want_role=responder
[ "$DIRECTION" = peer-tunneld ] && want_role=initiator
[ "$b_role" = "$want_role" ] || problems+=("charon is the IKE $b_role, the case wants it $want_role")
if [ "$SUITE_VERSION" = 1 ]; then
    # charon's log names the phase 1 exchange ("initiating Main Mode IKE_SA
    # ..." / "... is initiating a Main Mode IKE_SA"; Aggressive the same).
    m="Main Mode"
    [ "$SUITE_MODE" = aggressive ] && m="Aggressive Mode"
    grep -q "initiating \(a \)\{0,1\}$m IKE_SA" "$WORK/B/charon.log" ||
        problems+=("charon's log shows no $m exchange")
fi
[ "$(sa_field "$child_part" state)" = INSTALLED ] || problems+=("charon: CHILD SA not INSTALLED")
[ "$(sa_field "$child_part" mode)" = TRANSPORT ] || problems+=("charon: CHILD SA mode $(sa_field "$child_part" mode), not TRANSPORT")
[ "$(sa_field "$child_part" protocol)" = ESP ] || problems+=("charon: CHILD SA protocol is not ESP")
# charon's inbound SA is A -> B, its outbound B -> A.
SPI_AB=0x$(sa_field "$child_part" spi-in)
SPI_BA=0x$(sa_field "$child_part" spi-out)
ike_suite=$(suite_name "$(sa_field "$ike_part" encr-alg)" "$(sa_field "$ike_part" encr-keysize)" \
    "$(sa_field "$ike_part" integ-alg)" "$(sa_field "$ike_part" prf-alg)" "$(sa_field "$ike_part" dh-group)")
esp_suite=$(suite_name "$(sa_field "$child_part" encr-alg)" "$(sa_field "$child_part" encr-keysize)" \
    "$(sa_field "$child_part" integ-alg)" "$(sa_field "$child_part" dh-group)")
note "charon: IKE $ike_suite ($b_role), ESP $esp_suite, SPIs A->B $SPI_AB, B->A $SPI_BA"
if [ "$SUITE_VERSION" = 1 ]; then
    # Quick Mode's own DH exchange: there with PFS, absent without.
    child_dh=$(sa_field "$child_part" dh-group)
    if [ "$SUITE_PFS" = yes ] && [ -z "$child_dh" ]; then
        problems+=("charon: the Quick Mode SA has no DH group, the suite wants PFS")
    elif [ "$SUITE_PFS" = no ] && [ -n "$child_dh" ]; then
        problems+=("charon: the Quick Mode SA used $child_dh, the suite wants no PFS")
    fi
fi
{ [ "$SPI_AB" != 0x ] && [ "$SPI_BA" != 0x ]; } || fail "no SPIs in charon's list-sas: $raw"
# tunneld's view of the same SAs: its version, role and both SPIs.
if [ -z "$SMOKE" ]; then
    a_role=initiator
    [ "$want_role" = initiator ] && a_role=responder
    td_check "$a_role" "$SPI_AB" "$SPI_BA"
fi

# Both ESP states in both kernels, same SPIs.
kernel_sas
[ "$SCENARIO" = nat ] && nat_check

# --- GRE over the SAs, both directions ------------------------------------------
gre_traffic
problems_report
echo "PASS: $DIRECTION $SUITE: CHILD SA up on both sides, GRE over ESP both ways, counters rose, no GRE in the clear"
[ "$SCENARIO" = rekey ] && rekey_under_load && echo "PASS: rekeys under load, none lost"
[ "$SCENARIO" = nat ] && nat_rebind && echo "PASS: NAT mapping changed, the tunnel recovered in $NAT_RECOVERY_MS ms"
echo "INTEROP: peer=$PEER_NAME ike=$ike_suite esp=$esp_suite"
