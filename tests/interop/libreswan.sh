#!/bin/bash
# Interop: tunneld against Libreswan's pluto (a real IKEv1/IKEv2
# implementation, not ours), in one VM. Site A = tunneld in namespace A,
# site B = pluto in namespace B, on lib.sh's two_sites. pluto is Debian's
# package unpacked by scripts/libreswan.sh (/opt/libreswan), run with its own
# --rundir, --nssdir (an NSS db made with certutil), --secretsfile and
# --config (an ipsec.conf with one connection), driven with addconn and
# whack on its control socket.
#
#   tests/vm/vmrun tests/interop/libreswan.sh DIRECTION SUITE
#
# DIRECTION  tunneld-peer: tunneld initiates, pluto only responds (auto=add);
#            peer-tunneld: tunneld runs with --passive, pluto initiates
#                          (whack --initiate).
# SUITE      default: profiles/default.yaml's proposals (pluto's ike= and
#                     esp= the same set), IKEv2;
#            default-x25519, cbc: as for strongswan.sh;
#            v1-main, v1-main-nopfs, v1-aggr, v1-aggr-nopfs: IKEv1
#                     (ikev2=no) with profiles/libreswan-ikev1.yaml, Main or
#                     Aggressive Mode (aggressive=yes), pfs=yes or no.
#
# The case passes only if, from real state:
#  - pluto shows the IKE SA and the IPsec SA established (whack
#    --showstates: the suite's version and, for IKEv1, its exchange and
#    role; for IKEv2 its log says "initiator/responder established"), the
#    IPsec SA in transport mode for GRE, PFS as the suite says (IKEv1), and
#    tunneld logs "IKE SA up" / "CHILD SA up" with the same version, role
#    and SPIs;
#  - both ESP SAs (the SPIs pluto reports) are in both kernels;
#  - pings cross a GRE link (the key and /31 `tunneld --check --print`
#    derives; made by hand on pluto's side) in both directions, and the
#    packet counters of both ESP states rose on both sides;
#  - a capture of the WAN holds ESP and no GRE (proto 47) in the clear.
# The last line is "INTEROP: peer=... ike=... esp=..." for tests/interop/run.sh.
#
# Environment:
#   INTEROP_BREAK=psk    pluto gets a different PSK: the case must fail
#                        (run.sh's negative self-check).
set -eu
here=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$here/../vm/lib.sh"
# shellcheck source=lib-interop.sh
. "$here/lib-interop.sh"

DIRECTION=${1:-}
SUITE=${2:-}
BREAK=${INTEROP_BREAK:-}
case $DIRECTION in
tunneld-peer | peer-tunneld) ;;
*) fail "usage: libreswan.sh tunneld-peer|peer-tunneld SUITE (one of: $SUITE_NAMES)" ;;
esac
suite_set "$SUITE" libreswan
case $BREAK in '' | psk) ;; *) fail "unknown INTEROP_BREAK=$BREAK (known: psk)" ;; esac
[ -z "${INTEROP_SMOKE:-}" ] || fail "INTEROP_SMOKE: only strongswan.sh has a smoke mode"

repo=$(cd "$here/../.." && pwd -P)
TUNNELD=${TUNNELD:-$repo/tunneld/tunneld}
PSK="interop-$SUITE-psk-7Hq2Xv9LmR4sKw"
PEER=b # tunneld's name for pluto's site
PINGS=5
SETUP_TIMEOUT=60 # s for the IKE SA and CHILD SA (TCG: DH takes a while)
problems=()

step "modules"
load_modules ip_gre esp4 xfrm_user
step "two sites"
two_sites

# tunneld's site file, and what it derives and resolves (lib-interop.sh).
interop_site "$PSK"

# --- pluto in B -----------------------------------------------------------------
psk_b=$PSK
if [ "$BREAK" = psk ]; then
    step "INTEROP_BREAK=psk: pluto gets a different PSK (this run must fail)"
    psk_b="wrong-$PSK"
fi
v2=yes
[ "$SUITE_VERSION" = 1 ] && v2=no
step "pluto in B ($SUITE: ikev2=$v2${SUITE_MODE:+ $SUITE_MODE mode} pfs=$SUITE_PFS ike=$SUITE_LSW_IKE esp=$SUITE_LSW_ESP)"
pluto_config B "$WAN_B" "$WAN_A" "$psk_b"
pluto_start B
PEER_NAME=libreswan-$(pluto_version)
note "peer: $PEER_NAME"

gre_link B gre-a "$WAN_B" "$WAN_A" "$IN_B"

# Capture the whole run on the WAN: IKE, ESP, and anything in the clear.
capture_start wan A wan0

# --- site A: tunneld --------------------------------------------------------------
td_start

if [ "$DIRECTION" = peer-tunneld ]; then
    step "pluto initiates (whack --initiate)"
    whack B --name tunneld --initiate --asynchronous >"$WORK/B/initiate.log" 2>&1 || {
        cat "$WORK/B/initiate.log"
        note "(whack --initiate failed; the checks below say what is missing)"
    }
fi

# --- the SAs, as both sides see them -------------------------------------------
# pluto's IPsec SA is up when whack --showstates has it established
# (IKEv2: STATE_V2_ESTABLISHED_CHILD_SA; IKEv1: STATE_QUICK_I2 or _R2, not
# a responder's STATE_QUICK_R1, which already has the inbound SA).
b_up() {
    local st
    st=$(whack B --showstates 2>/dev/null)
    if [ "$SUITE_VERSION" = 2 ]; then
        [[ $st == *STATE_V2_ESTABLISHED_CHILD_SA* ]]
    else
        [[ $st == *"STATE_QUICK_I2 "* || $st == *"STATE_QUICK_R2 "* ]]
    fi
}
# pluto's own words (the lines without debug "| "), for the log and checks.
pluto_events() { grep -v '^[^|]*: | ' "$WORK/B/pluto.log" | grep '"tunneld" #' >"$WORK/B/pluto-events.log" || true; }
step "waiting for the CHILD SA on both sides"
rc=0
wait_sas "$SETUP_TIMEOUT" b_up td_up td_failed || rc=$?
pluto_events
if [ "$rc" -ne 0 ]; then
    echo "--- tunneld log (A), last 40 lines"
    tail -n 40 "$WORK/A/tunneld.log" 2>/dev/null || true
    echo "--- pluto log (B): its state and events"
    tail -n 40 "$WORK/B/pluto-events.log"
    whack B --showstates || true
    [ "$rc" -eq 2 ] && fail "tunneld gave up: $(td_why)"
    fail "CHILD SA not up on both sides after $SETUP_TIMEOUT s (pluto: $(b_up && echo established || echo 'not established'), A: $(td_up && echo up || echo 'not up'))"
fi

whack B --showstates >"$WORK/B/showstates.txt" 2>&1 || true
whack B --status >"$WORK/B/status.txt" 2>&1 || true
pluto_events
sed 's/^/            /' "$WORK/B/showstates.txt"
sed 's/^/            B: /' "$WORK/B/pluto-events.log" | grep -E 'established|chosen|SA established' || true
grep "$PEER: \(IKE\|CHILD\) SA up" "$WORK/A/tunneld.log" | sed 's/^/            A: /' || true

states=$(<"$WORK/B/showstates.txt")
want_role=responder
[ "$DIRECTION" = peer-tunneld ] && want_role=initiator
if [ "$SUITE_VERSION" = 2 ]; then
    [[ $states == *STATE_V2_ESTABLISHED_IKE_SA* ]] || problems+=("pluto: no established IKEv2 SA (STATE_V2_ESTABLISHED_IKE_SA)")
    [[ $states == *STATE_V2_ESTABLISHED_CHILD_SA* ]] || problems+=("pluto: no established Child SA (STATE_V2_ESTABLISHED_CHILD_SA)")
    # The role, from pluto's "initiator/responder established IKE SA".
    b_role=$(sed -n 's/^.*"tunneld" #[0-9]*: \(initiator\|responder\) established IKE SA.*$/\1/p' \
        "$WORK/B/pluto-events.log" | head -n 1)
    grep -q 'established Child SA.*IPsec transport' "$WORK/B/pluto-events.log" ||
        problems+=("pluto's log has no 'established Child SA ... IPsec transport'")
else
    # IKEv1: the state names carry the exchange and the role: STATE_MAIN_I4
    # / STATE_MAIN_R3 (Main Mode), STATE_AGGR_I2 / STATE_AGGR_R2
    # (Aggressive), STATE_QUICK_I2 / STATE_QUICK_R2 (Quick Mode).
    if [ "$SUITE_MODE" = aggressive ]; then p1i=STATE_AGGR_I2 p1r=STATE_AGGR_R2; else p1i=STATE_MAIN_I4 p1r=STATE_MAIN_R3; fi
    b_role=""
    if [[ $states == *"$p1i "* ]] && [[ $states == *"STATE_QUICK_I2 "* ]]; then b_role=initiator; fi
    if [[ $states == *"$p1r "* ]] && [[ $states == *"STATE_QUICK_R2 "* ]]; then b_role=responder; fi
    [ -n "$b_role" ] || problems+=("pluto: no established $SUITE_MODE mode ISAKMP SA and Quick Mode SA ($p1i+STATE_QUICK_I2 or $p1r+STATE_QUICK_R2)")
    # "IPsec SA established transport mode {ESP=>...}" (initiator), "sent
    # Quick Mode reply, inbound IPsec SA installed, expecting confirmation
    # transport mode {...}" (responder).
    grep -q 'IPsec SA .*transport mode {ESP' "$WORK/B/pluto-events.log" ||
        problems+=("pluto's log has no IPsec SA in transport mode")
fi
[ "$b_role" = "$want_role" ] || problems+=("pluto is the IKE ${b_role:-?}, the case wants it $want_role")

# The SPIs: "#2: "tunneld" esp.SPI@DST esp.SPI@DST ...": the one at A's
# address is B -> A, the one at B's is A -> B.
SPI_BA=0x$(sed -n "s/^.* esp\.\([0-9a-f]*\)@$WAN_A .*$/\1/p" <<<"$states" | head -n 1)
SPI_AB=0x$(sed -n "s/^.* esp\.\([0-9a-f]*\)@$WAN_B .*$/\1/p" <<<"$states" | head -n 1)
{ [ "$SPI_AB" != 0x ] && [ "$SPI_BA" != 0x ]; } || fail "no SPIs in pluto's showstates: $states"

# The algorithms pluto settled on (whack --status: "IKEv2 algorithm newest:
# AES_GCM_16_256-HMAC_SHA2_384-DH20", "ESP algorithm newest:
# AES_GCM_16_256-NONE; pfsgroup=<Phase1>").
ike_alg=$(sed -n 's/^.*"tunneld":  *IKEv\{0,1\}[12]\{0,1\} algorithm newest: \(.*\)$/\1/p' "$WORK/B/status.txt" | head -n 1)
esp_alg=$(sed -n 's/^.*"tunneld":  *ESP algorithm newest: \([^;]*\);.*$/\1/p' "$WORK/B/status.txt" | head -n 1)
pfsgroup=$(sed -n 's/^.*"tunneld":  *ESP algorithm newest: .*pfsgroup=\([^ ]*\).*$/\1/p' "$WORK/B/status.txt" | head -n 1)
lsw_name() { # AES_GCM_16_256-HMAC_SHA2_384-DH20 -> aes256gcm16-prfsha384-ecp384
    local out=() a aead=0 IFS=-
    for a in $1; do
        case $a in
        AES_GCM_16_*) out+=("aes${a#AES_GCM_16_}gcm16") aead=1 ;;
        AES_CBC_*) out+=("aes${a#AES_CBC_}") ;;
        HMAC_SHA2_*) a=${a#HMAC_SHA2_}; a=${a%%_*}
            if [ "$aead" = 1 ] && [ "$2" = ike ]; then out+=("prfsha$a"); else out+=("sha$a"); fi ;;
        HMAC_SHA1*) out+=(sha1) ;;
        DH19) out+=(ecp256) ;; DH20) out+=(ecp384) ;; DH21) out+=(ecp521) ;; DH31) out+=(x25519) ;;
        MODP*) out+=("modp${a#MODP}") ;;
        NONE | '') ;;
        *) out+=("${a,,}") ;;
        esac
    done
    echo "${out[*]}"
}
ike_suite=$(lsw_name "$ike_alg" ike)
esp_suite=$(lsw_name "$esp_alg" esp)
case $pfsgroup in MODP* | DH*) esp_suite=$esp_suite-$(lsw_name "$pfsgroup" esp) ;; esac
note "pluto: IKE $ike_suite ($b_role), ESP $esp_suite (pfsgroup=$pfsgroup), SPIs A->B $SPI_AB, B->A $SPI_BA"
[ -n "$ike_alg" ] && [ -n "$esp_alg" ] || problems+=("pluto's status names no IKE / ESP algorithm")
if [ "$SUITE_VERSION" = 1 ]; then
    # Quick Mode's own DH exchange: there with PFS, absent without.
    case $pfsgroup in MODP* | DH*) pfs_seen=yes ;; *) pfs_seen=no ;; esac
    [ "$pfs_seen" = "$SUITE_PFS" ] || problems+=("pluto: Quick Mode pfsgroup=$pfsgroup, the suite wants pfs=$SUITE_PFS")
fi

# tunneld's view of the same SAs: its version, role and both SPIs.
a_role=initiator
[ "$want_role" = initiator ] && a_role=responder
td_check "$a_role" "$SPI_AB" "$SPI_BA"

# Both ESP states in both kernels, same SPIs, then GRE over them.
kernel_sas
gre_traffic
problems_report
echo "PASS: $DIRECTION $SUITE: SAs up on both sides, GRE over ESP both ways, counters rose, no GRE in the clear"
echo "INTEROP: peer=$PEER_NAME ike=$ike_suite esp=$esp_suite"
