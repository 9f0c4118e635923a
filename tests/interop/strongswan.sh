#!/bin/bash
# Interop: tunneld against strongSwan's charon (a real IKEv2 implementation,
# not ours), in one VM. Site A = tunneld in namespace A, site B = charon in
# namespace B, on lib.sh's two_sites.
#
#   tests/vm/vmrun tests/interop/strongswan.sh DIRECTION SUITE
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
#                     (a site-file override of the default profile).
#
# The case passes only if, from real state:
#  - charon shows the IKE SA ESTABLISHED with the expected role and the
#    CHILD SA INSTALLED, transport mode, and tunneld logs "CHILD SA up";
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
BREAK=${INTEROP_BREAK:-}
SMOKE=${INTEROP_SMOKE:-}
case $DIRECTION in
tunneld-peer | peer-tunneld) ;;
*) fail "usage: strongswan.sh tunneld-peer|peer-tunneld default|default-x25519|cbc" ;;
esac
suite_set "$SUITE"
case $BREAK in '' | psk) ;; *) fail "unknown INTEROP_BREAK=$BREAK (known: psk)" ;; esac
case $SMOKE in '' | charon) ;; *) fail "unknown INTEROP_SMOKE=$SMOKE (known: charon)" ;; esac

repo=$(cd "$here/../.." && pwd -P)
TUNNELD=${TUNNELD:-$repo/tunneld/tunneld}
PSK="interop-$SUITE-psk-7Hq2Xv9LmR4sKw"
PEER=b # tunneld's name for charon's site
PINGS=5
SETUP_TIMEOUT=60 # s for the IKE SA and CHILD SA (TCG: DH takes a while)

step "modules"
load_modules ip_gre esp4 xfrm_user
step "two sites"
two_sites

# --- tunneld's site file, and what it derives ---------------------------------
mkdir -p "$WORK/A"
site=$WORK/A/site.yaml
cat >"$site" <<EOF
site:
  name: site-a
  wan: $WAN_A
  lan: $LAN_A_NET
peers:
  $PEER:
    address: $WAN_B
    psk: "$PSK"
${SUITE_SITE}
EOF
chmod 600 "$site"
"$TUNNELD" --check --print "$site" >"$WORK/A/print.txt" 2>&1 || {
    cat "$WORK/A/print.txt" >&2
    fail "tunneld --check --print $site"
}
# "  tunnel: gre-b, GRE key 277771961, 169.254.154.214/31 (ours 169.254.154.214, theirs 169.254.154.215), ..."
tline=$(grep -m1 '^  tunnel: ' "$WORK/A/print.txt") || fail "no tunnel line in tunneld --print"
GRE_KEY=$(sed -n 's/^.* GRE key \([0-9]*\),.*$/\1/p' <<<"$tline")
IN_A=$(sed -n 's/^.*(ours \([0-9.]*\), theirs \([0-9.]*\)).*$/\1/p' <<<"$tline")
IN_B=$(sed -n 's/^.*(ours \([0-9.]*\), theirs \([0-9.]*\)).*$/\2/p' <<<"$tline")
{ [ -n "$GRE_KEY" ] && [ -n "$IN_A" ] && [ -n "$IN_B" ]; } || fail "cannot read GRE key and /31 from: $tline"
note "derived: GRE key $GRE_KEY, inner $IN_A (A) / $IN_B (B)"
# tunneld must resolve exactly the proposals charon is configured with.
norm() { sed 's/, */,/g; s/[[:space:]]//g'; }
got_ike=$(sed -n 's/^  ike: //p' "$WORK/A/print.txt" | norm)
got_esp=$(sed -n 's/^  esp: //p' "$WORK/A/print.txt" | norm)
[ "$got_ike" = "$SUITE_IKE" ] || fail "suite $SUITE: tunneld resolves IKE '$got_ike', the case expects '$SUITE_IKE' (profile changed? update lib-interop.sh)"
[ "$got_esp" = "$SUITE_ESP" ] || fail "suite $SUITE: tunneld resolves ESP '$got_esp', the case expects '$SUITE_ESP' (profile changed? update lib-interop.sh)"

# --- charon in B ----------------------------------------------------------------
psk_b=$PSK
if [ "$BREAK" = psk ]; then
    step "INTEROP_BREAK=psk: charon gets a different PSK (this run must fail)"
    psk_b="wrong-$PSK"
fi
step "charon in B ($SUITE: IKE $SUITE_PEER_IKE; ESP $SUITE_PEER_ESP)"
charon_config B "$WAN_B" "$WAN_A" "$SUITE_PEER_IKE" "$SUITE_PEER_ESP" "$psk_b"
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

# gre_link NS NAME LOCAL REMOTE INNER: the GRE link on a charon side, by
# hand, with the key and /31 tunneld derives. IPv6 off on it: charon has no
# policy before its CHILD SA (no start_action=trap), so the link's own IPv6
# router solicitations would cross the WAN in the clear. (tunneld's GRE link
# keeps IPv6 and is up all along, behind its policies: the capture checks
# that nothing of it leaks.) The link is up from the start, so that GRE
# arriving over the new SA finds it instead of drawing an ICMP "protocol
# unreachable" in the clear.
gre_link() {
    ip -n "$1" link add "$2" type gre local "$3" remote "$4" key "$GRE_KEY" ttl 64 ||
        fail "$2 in $1"
    ns "$1" sh -c "echo 1 >/proc/sys/net/ipv6/conf/$2/disable_ipv6" || fail "IPv6 off on $2 in $1"
    ip -n "$1" addr add "$5/31" dev "$2"
    ip -n "$1" link set "$2" up
}
gre_link B gre-a "$WAN_B" "$WAN_A" "$IN_B"

# Capture the whole run on the WAN: IKE, ESP, and anything in the clear.
capture_start wan A wan0

# --- site A: tunneld (or, INTEROP_SMOKE=charon, a second charon) --------------
a_up() { # the CHILD SA is up on A's side
    if [ -n "$SMOKE" ]; then
        swan A --list-sas --raw 2>/dev/null | grep -q 'state=INSTALLED'
    else
        grep -q "$PEER: CHILD SA up" "$WORK/A/tunneld.log"
    fi
}
a_failed() { # A gave up (fail fast instead of waiting for the timeout)
    [ -z "$SMOKE" ] || return 1
    grep -q "$PEER: negotiation failed" "$WORK/A/tunneld.log" || ! kill -0 "$TUNNELD_PID" 2>/dev/null
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
    [ -x "$TUNNELD" ] || fail "no $TUNNELD (make tunneld/tunneld)"
    args=(-c "$site" --log-level debug)
    [ "$DIRECTION" = peer-tunneld ] && args+=(--passive)
    step "tunneld in A: ${args[*]}"
    # Its log with the guest's uptime in front of each line, to line it up
    # with charon's log and the capture (the same clock as step's).
    stamp() {
        local line up
        while IFS= read -r line; do
            read -r up _ </proc/uptime
            printf '[%8ss] %s\n' "$up" "$line"
        done
    }
    # Through a FIFO, not `2> >(...)`: the guest's bare /dev may lack /dev/fd.
    mkfifo /tmp/tunneld-A.err || fail "mkfifo"
    stamp </tmp/tunneld-A.err >"$WORK/A/tunneld.log" &
    ip netns exec A "$TUNNELD" "${args[@]}" </dev/null >"$WORK/A/tunneld.stdout" \
        2>/tmp/tunneld-A.err &
    TUNNELD_PID=$!
    ready_or_gone() { grep -q 'tunneld: notice: ready' "$WORK/A/tunneld.log" || ! kill -0 "$TUNNELD_PID" 2>/dev/null; }
    wait_for 30 ready_or_gone || true
    if ! grep -q 'tunneld: notice: ready' "$WORK/A/tunneld.log"; then
        tail -n 30 "$WORK/A/tunneld.log" >&2
        kill -0 "$TUNNELD_PID" 2>/dev/null || fail "tunneld exited before 'ready'"
        fail "tunneld not ready after 30 s"
    fi
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
both_up() { a_failed && return 2; b_up && a_up; }
step "waiting for the CHILD SA on both sides"
deadline=$(($(_ms) + SETUP_TIMEOUT * 1000))
rc=1
while [ "$(_ms)" -lt "$deadline" ]; do
    rc=0
    both_up || rc=$?
    [ "$rc" -eq 1 ] || break
    sleep 0.2
done
if [ "$rc" -ne 0 ]; then
    echo "--- tunneld log (A), last 40 lines"
    tail -n 40 "$WORK/A/tunneld.log" 2>/dev/null || true
    echo "--- charon log (B): errors and notifies"
    grep -E -i 'fail|error|invalid|no proposal|NO_PROP|AUTH|unable|not |mismatch|received.*N\(' \
        "$WORK/B/charon.log" | tail -n 40 || true
    swan B --list-sas || true
    [ "$rc" -eq 2 ] && fail "tunneld gave up: $(grep -m1 'negotiation failed' "$WORK/A/tunneld.log" || echo 'tunneld exited')"
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
problems=()
[ "$(sa_field "$ike_part" state)" = ESTABLISHED ] || problems+=("charon: IKE SA not ESTABLISHED")
[ "$(sa_field "$ike_part" version)" = 2 ] || problems+=("charon: IKE SA is not IKEv2")
# Who initiated, from charon's side ("initiator=yes" only on the initiator).
if [ "$(sa_field "$ike_part" initiator)" = yes ]; then b_role=initiator; else b_role=responder; fi
want_role=responder
[ "$DIRECTION" = peer-tunneld ] && want_role=initiator
[ "$b_role" = "$want_role" ] || problems+=("charon is the IKE $b_role, the case wants it $want_role")
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
{ [ "$SPI_AB" != 0x ] && [ "$SPI_BA" != 0x ]; } || fail "no SPIs in charon's list-sas: $raw"
# tunneld's view of the same SAs: its role and both SPIs on its log lines.
if [ -z "$SMOKE" ]; then
    a_role=initiator
    [ "$want_role" = initiator ] && a_role=responder
    grep "$PEER: IKE SA up" "$WORK/A/tunneld.log" | grep -qw "$a_role" ||
        problems+=("tunneld's 'IKE SA up' line does not say $a_role")
    cline=$(grep -m1 "$PEER: CHILD SA up" "$WORK/A/tunneld.log")
    for spi in "$SPI_AB" "$SPI_BA"; do
        [[ ${cline,,} == *"${spi#0x}"* ]] || problems+=("tunneld's 'CHILD SA up' line lacks SPI $spi (charon's)")
    done
fi

# Both ESP states in both kernels, same SPIs.
declare -A before=()
for n in A B; do
    for d in "$WAN_A $WAN_B $SPI_AB" "$WAN_B $WAN_A $SPI_BA"; do
        # shellcheck disable=SC2086 # "src dst spi"
        set -- $d
        pk=$(sa_packets "$n" "$1" "$2" "$3")
        if [ -z "$pk" ]; then
            problems+=("$n: no ESP state $1 -> $2 spi $3 in the kernel")
        else
            before[$n$3]=$pk
        fi
    done
done
if [ ${#problems[@]} -gt 0 ]; then
    for n in A B; do echo "--- ip xfrm state in $n"; ip -n "$n" xfrm state; done
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi

# --- GRE over the SAs, both directions ------------------------------------------
step "ping across the GRE /31, both directions"
ping_ok A "$IN_B" "$PINGS"
ping_ok B "$IN_A" "$PINGS"
capture_stop wan

step "kernel SA counters"
for n in A B; do
    for d in "$WAN_A $WAN_B $SPI_AB" "$WAN_B $WAN_A $SPI_BA"; do
        # shellcheck disable=SC2086
        set -- $d
        pk=$(sa_packets "$n" "$1" "$2" "$3")
        b=${before[$n$3]}
        note "$n: SA $1 -> $2 spi $3: $b -> ${pk:-?} packets"
        # Each direction carried PINGS requests and PINGS replies.
        [ "${pk:-0}" -ge $((b + 2 * PINGS)) ] ||
            problems+=("$n: SA $1 -> $2 spi $3 counted $b -> ${pk:-?} packets, expected +$((2 * PINGS)) or more")
    done
done

step "WAN capture"
total=$(capture_count wan)
gre_clear=$(capture_count wan 'ip proto 47')
icmp_clear=$(capture_count wan icmp)
esp=$(capture_count wan 'ip proto 50')
ike=$(capture_count wan 'udp port 500 or udp port 4500')
note "WAN: $total packets: $ike IKE, $esp ESP, $gre_clear GRE, $icmp_clear ICMP"
[ "$gre_clear" -eq 0 ] || problems+=("$gre_clear GRE (proto 47) packets in the clear on the WAN")
[ "$icmp_clear" -eq 0 ] || problems+=("$icmp_clear ICMP packets in the clear on the WAN")
[ "$esp" -ge $((4 * PINGS)) ] || problems+=("only $esp ESP packets on the WAN, expected >= $((4 * PINGS))")
[ "$ike" -ge 4 ] || problems+=("only $ike IKE packets on the WAN: where did the SA come from?")
if ! capture_count wan "esp and src $WAN_A and dst $WAN_B" | grep -qv '^0$' ||
    ! capture_count wan "esp and src $WAN_B and dst $WAN_A" | grep -qv '^0$'; then
    problems+=("ESP on the WAN not in both directions")
fi

if [ ${#problems[@]} -gt 0 ]; then
    echo "--- decoded WAN capture (first 40 lines)"
    capture_show wan | head -n 40
    for n in A B; do echo "--- ip -s xfrm state in $n"; ip -n "$n" -s xfrm state; done
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
echo "PASS: $DIRECTION $SUITE: CHILD SA up on both sides, GRE over ESP both ways, counters rose, no GRE in the clear"
echo "INTEROP: peer=$PEER_NAME ike=$ike_suite esp=$esp_suite"
