# shellcheck shell=bash
# Helpers for the interop cases (tests/interop/*.sh, inside a vmrun VM), on
# top of tests/vm/lib.sh (source that first): the proposal sets the cases
# test; tunneld's side of a case (site A) and the checks every case makes,
# whatever the peer; strongSwan's charon, one instance per network
# namespace, driven with swanctl over a per-namespace vici socket (the
# recipe of shared/docs/testbed.md); Libreswan's pluto (unpacked by
# scripts/libreswan.sh), one instance per namespace with its own run
# directory, NSS database, secrets file and config, driven with whack.
#
#   suite_set NAME [PEER]      the proposal set NAME against PEER (below)
#   interop_site PSK           tunneld's site file; what it derives (GRE_KEY,
#                              IN_A, IN_B) and resolves (must be the suite's)
#   gre_link NS NAME LOCAL REMOTE INNER   a peer's GRE link, by hand
#   td_start                   tunneld in A (--passive for peer-tunneld)
#   td_up / td_failed          tunneld logged "CHILD SA up" / gave up
#   wait_sas SECONDS B_UP A_UP A_FAILED   poll until both sides are up
#   td_check ROLE SPI_AB SPI_BA           tunneld's log agrees (-> problems)
#   kernel_sas                 both ESP states in both kernels (-> problems)
#   gre_traffic                pings, counters, WAN capture (-> problems)
#   problems_report            print the problems, exit 1 if there is any
#   charon_config NS LOCAL REMOTE IKE_PROPOSALS ESP_PROPOSALS PSK [START] [ID]
#   charon_start NS            start it, wait for vici, load the config
#   swan NS ARGS...            swanctl ARGS... against NS's charon
#   sa_field TEXT KEY          KEY=VALUE out of `swanctl --raw` output
#   pluto_config NS LOCAL REMOTE PSK      pluto's ipsec.conf, secrets, NSS db
#   pluto_start NS             start it, wait for its socket, add the conn
#   whack NS ARGS...           whack ARGS... against NS's pluto
#
# Each charon gets its own /run (charon's pid file and vici socket paths
# are fixed), its strongswan.conf and swanctl/ under /etc/netns/NS (which
# `ip netns exec` bind-mounts over /etc), and logs to $WORK/NS/charon.log at
# ike/enc/cfg/knl level 2. Each pluto logs to $WORK/NS/pluto.log with
# plutodebug=all. When a peer rejects tunneld's messages, those logs say why.

# --- proposal sets ------------------------------------------------------------
# suite_set NAME [PEER] sets, for proposal set NAME against PEER (strongswan,
# the default, or libreswan):
#   SUITE_VERSION           the IKE version (1 or 2);
#   SUITE_MODE              IKEv1's phase 1: main or aggressive ("" for v2);
#   SUITE_PFS               yes or no: PFS for the ESP SAs (Quick Mode KE);
#   SUITE_IKE / SUITE_ESP   what tunneld must resolve (strongSwan syntax,
#                           comma separated, as `tunneld --check --print`
#                           prints them);
#   SUITE_PRINT             how tunneld --print's "peer" line must end
#                           ("IKEv2", "IKEv1 main mode", ...);
#   SUITE_PEER_IKE / _ESP   charon's proposals: the same set (charon takes
#                           these names), possibly in another order;
#   SUITE_LSW_IKE / _ESP    pluto's ike= and esp=: the same set in
#                           Libreswan's names;
#   SUITE_SITE              YAML lines added to tunneld's peer (empty: the
#                           default profile as it is);
#   SUITE_ALGS              names charon's --list-algs must show.
# Sets: default, default-x25519, cbc (IKEv2); v1-main, v1-main-nopfs,
# v1-aggr, v1-aggr-nopfs (IKEv1, with the peer's own profile:
# profiles/strongswan-ikev1.yaml or profiles/libreswan-ikev1.yaml).
# shellcheck disable=SC2034 # SUITE_*: used by the case that sources this
SUITE_NAMES="default default-x25519 cbc v1-main v1-main-nopfs v1-aggr v1-aggr-nopfs"
suite_set() {
    local peer=${2:-strongswan}
    case $peer in strongswan | libreswan) ;; *) fail "suite_set: unknown peer '$peer'" ;; esac
    SUITE_VERSION=2 SUITE_MODE="" SUITE_PFS=yes SUITE_PRINT=IKEv2
    case $1 in
    default | default-x25519)
        # profiles/default.yaml, exactly: the case checks that tunneld
        # resolves the same lists, so a change of the profile shows up here.
        SUITE_IKE=aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha256-curve25519,aes256gcm16-prfsha384-modp3072
        SUITE_ESP=aes256gcm16-ecp384,aes256gcm16-curve25519,aes256gcm16-modp3072
        SUITE_PEER_IKE=$SUITE_IKE SUITE_PEER_ESP=$SUITE_ESP
        SUITE_LSW_IKE=aes_gcm256-sha2_384-ecp384,aes_gcm256-sha2_256-dh31,aes_gcm256-sha2_384-modp3072
        # Libreswan's IKEv2 esp= takes one DH group at most (it has no
        # CHILD SA INVALID_KE): the profile's first, used on rekeys only.
        SUITE_LSW_ESP=aes_gcm256-null-ecp384
        SUITE_SITE=""
        SUITE_ALGS="AES_GCM_16 PRF_HMAC_SHA2_384 PRF_HMAC_SHA2_256 ECP_384 CURVE_25519 MODP_3072"
        if [ "$1" = default-x25519 ]; then
            # The same set, the peer preferring Curve25519: the two sides'
            # first choices differ, so one of them has to settle on the
            # other's (as responder charon picks by its own order and
            # answers tunneld's ECP-384 KE with INVALID_KE_PAYLOAD).
            SUITE_PEER_IKE=aes256gcm16-prfsha256-curve25519,aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha384-modp3072
            SUITE_PEER_ESP=aes256gcm16-curve25519,aes256gcm16-ecp384,aes256gcm16-modp3072
            SUITE_LSW_IKE=aes_gcm256-sha2_256-dh31,aes_gcm256-sha2_384-ecp384,aes_gcm256-sha2_384-modp3072
            SUITE_LSW_ESP=aes_gcm256-null-dh31
        fi
        ;;
    cbc)
        # AES-CBC-256 + HMAC-SHA2-256 (+ PRF-HMAC-SHA2-256) + MODP-2048, for
        # IKE and ESP, as a site-file override of the default profile.
        SUITE_IKE=aes256-sha256-modp2048
        SUITE_ESP=aes256-sha256-modp2048
        SUITE_PEER_IKE=$SUITE_IKE SUITE_PEER_ESP=$SUITE_ESP
        SUITE_LSW_IKE=aes256-sha2_256-modp2048 SUITE_LSW_ESP=aes256-sha2_256-modp2048
        SUITE_SITE="    ike: { proposals: [aes256-sha256-modp2048] }
    esp: { proposals: [aes256-sha256-modp2048] }"
        SUITE_ALGS="AES_CBC HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048"
        ;;
    v1-main | v1-main-nopfs | v1-aggr | v1-aggr-nopfs)
        # IKEv1 with the peer's own profile as it is, Aggressive Mode enabled
        # in the site file as docs/config.md requires, PFS off by override.
        SUITE_VERSION=1 SUITE_MODE=main
        SUITE_SITE="    profile: $peer-ikev1"
        case $1 in v1-aggr*)
            SUITE_MODE=aggressive
            SUITE_SITE="$SUITE_SITE
    ike: { mode: aggressive, allow-aggressive: true }"
            ;;
        esac
        SUITE_PRINT="IKEv1 $SUITE_MODE mode"
        if [ "$peer" = strongswan ]; then
            SUITE_IKE=aes256-sha256-modp2048,aes128-sha256-modp2048,aes256-sha256-ecp256
        else
            SUITE_IKE=aes256-sha256-modp2048,aes128-sha256-modp2048,aes256-sha1-modp2048
        fi
        SUITE_ESP=aes256-sha256-modp2048,aes128-sha256-modp2048,aes256gcm16-modp2048
        SUITE_LSW_IKE=aes256-sha2_256-modp2048,aes128-sha2_256-modp2048,aes256-sha1-modp2048
        SUITE_LSW_ESP=aes256-sha2_256-modp2048,aes128-sha2_256-modp2048,aes_gcm256-null-modp2048
        case $1 in *-nopfs)
            SUITE_PFS=no
            SUITE_SITE="$SUITE_SITE
    esp: { pfs: false }"
            # Without PFS tunneld drops the groups of its ESP proposals.
            SUITE_ESP=${SUITE_ESP//-modp2048/}
            SUITE_LSW_ESP=${SUITE_LSW_ESP//-modp2048/}
            ;;
        esac
        SUITE_PEER_IKE=$SUITE_IKE SUITE_PEER_ESP=$SUITE_ESP
        SUITE_ALGS="AES_CBC HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048"
        ;;
    *) fail "unknown proposal set '$1' (known: $SUITE_NAMES)" ;;
    esac
}

# --- tunneld's side (site A) and the checks of every case ---------------------
# These use the case's DIRECTION, SUITE, PEER (tunneld's name for the peer's
# site), TUNNELD and PINGS, and add to the case's array "problems".
# shellcheck disable=SC2153 # PEER, DIRECTION, ...: set by the case

# interop_site PSK: tunneld's site file ($WORK/A/site.yaml, SITE_FILE: peer
# $PEER at site_peer_addr B (WAN_B, or behind nat_sites' NAT PUB_B) with
# PSK, plus SUITE_SITE), checked with tunneld --check
# --print, from which it sets GRE_KEY, IN_A and IN_B (the key and /31 that
# tunneld derives). Fails unless tunneld resolves exactly SUITE_IKE,
# SUITE_ESP and SUITE_PRINT.
interop_site() {
    local psk=$1 tline got_ike got_esp
    mkdir -p "$WORK/A"
    SITE_FILE=$WORK/A/site.yaml
    cat >"$SITE_FILE" <<EOF
site:
  name: site-a
  wan: $WAN_A
  lan: $LAN_A_NET
peers:
  $PEER:
    address: $(site_peer_addr B)
    psk: "$psk"
${SUITE_SITE}
EOF
    chmod 600 "$SITE_FILE"
    "$TUNNELD" --check --print "$SITE_FILE" >"$WORK/A/print.txt" 2>&1 || {
        cat "$WORK/A/print.txt" >&2
        fail "tunneld --check --print $SITE_FILE"
    }
    # "  tunnel: gre-b, GRE key 277771961, 169.254.154.214/31 (ours 169.254.154.214, theirs 169.254.154.215), ..."
    tline=$(grep -m1 '^  tunnel: ' "$WORK/A/print.txt") || fail "no tunnel line in tunneld --print"
    GRE_KEY=$(sed -n 's/^.* GRE key \([0-9]*\),.*$/\1/p' <<<"$tline")
    IN_A=$(sed -n 's/^.*(ours \([0-9.]*\), theirs \([0-9.]*\)).*$/\1/p' <<<"$tline")
    IN_B=$(sed -n 's/^.*(ours \([0-9.]*\), theirs \([0-9.]*\)).*$/\2/p' <<<"$tline")
    { [ -n "$GRE_KEY" ] && [ -n "$IN_A" ] && [ -n "$IN_B" ]; } || fail "cannot read GRE key and /31 from: $tline"
    note "derived: GRE key $GRE_KEY, inner $IN_A (A) / $IN_B (B)"
    # tunneld must resolve exactly the proposals the peer is configured with.
    got_ike=$(sed -n 's/^  ike: //p' "$WORK/A/print.txt" | sed 's/, */,/g; s/[[:space:]]//g')
    got_esp=$(sed -n 's/^  esp: //p' "$WORK/A/print.txt" | sed 's/, */,/g; s/[[:space:]]//g')
    [ "$got_ike" = "$SUITE_IKE" ] || fail "suite $SUITE: tunneld resolves IKE '$got_ike', the case expects '$SUITE_IKE' (profile changed? update lib-interop.sh)"
    [ "$got_esp" = "$SUITE_ESP" ] || fail "suite $SUITE: tunneld resolves ESP '$got_esp', the case expects '$SUITE_ESP' (profile changed? update lib-interop.sh)"
    grep -q "^peer $PEER: .*, $SUITE_PRINT\$" "$WORK/A/print.txt" ||
        fail "suite $SUITE: tunneld's peer line does not end in '$SUITE_PRINT': $(grep -m1 "^peer $PEER:" "$WORK/A/print.txt")"
}

# gre_link NS NAME LOCAL REMOTE INNER: the GRE link on a peer's side, by
# hand, with the key and /31 tunneld derives (GRE_KEY). IPv6 off on it: the
# peer has no policy before its SA (no trap), so the link's own IPv6 router
# solicitations would cross the WAN in the clear. (tunneld's GRE link keeps
# IPv6 and is up all along, behind its policies: the capture checks that
# nothing of it leaks.) The link is up from the start, so that GRE arriving
# over the new SA finds it instead of drawing an ICMP "protocol
# unreachable" in the clear.
gre_link() {
    ip -n "$1" link add "$2" type gre local "$3" remote "$4" key "$GRE_KEY" ttl 64 ||
        fail "$2 in $1"
    ns "$1" sh -c "echo 1 >/proc/sys/net/ipv6/conf/$2/disable_ipv6" || fail "IPv6 off on $2 in $1"
    ip -n "$1" addr add "$5/31" dev "$2"
    ip -n "$1" link set "$2" up
}

# td_start: tunneld in A on SITE_FILE with --log-level debug (and --passive
# for DIRECTION peer-tunneld), in the background (TUNNELD_PID), its log
# uptime-stamped in $WORK/A/tunneld.log. Returns once it logged "ready".
td_start() {
    local args=(-c "$SITE_FILE" --log-level debug --control "$(tunneld_sock A)")
    [ -x "$TUNNELD" ] || fail "no $TUNNELD (make tunneld/tunneld)"
    [ "$DIRECTION" = peer-tunneld ] && args+=(--passive)
    step "tunneld in A: ${args[*]}"
    # Through a FIFO, not `2> >(...)`: the guest's bare /dev may lack /dev/fd.
    mkfifo /tmp/tunneld-A.err || fail "mkfifo"
    _td_stamp </tmp/tunneld-A.err >"$WORK/A/tunneld.log" &
    ip netns exec A "$TUNNELD" "${args[@]}" </dev/null >"$WORK/A/tunneld.stdout" \
        2>/tmp/tunneld-A.err &
    TUNNELD_PID=$!
    wait_for 30 _td_ready_or_gone || true
    if ! grep -q 'tunneld: notice: ready' "$WORK/A/tunneld.log"; then
        tail -n 30 "$WORK/A/tunneld.log" >&2
        kill -0 "$TUNNELD_PID" 2>/dev/null || fail "tunneld exited before 'ready'"
        fail "tunneld not ready after 30 s"
    fi
}
# The log with the guest's uptime in front of each line, to line it up with
# the peer's log and the capture (the same clock as step's).
_td_stamp() {
    local line up
    while IFS= read -r line; do
        read -r up _ </proc/uptime
        printf '[%8ss] %s\n' "$up" "$line"
    done
}
_td_ready_or_gone() {
    grep -q 'tunneld: notice: ready' "$WORK/A/tunneld.log" || ! kill -0 "$TUNNELD_PID" 2>/dev/null
}

# td_up: tunneld logged the CHILD SA up. td_failed: it gave up on the peer,
# refused it, or exited (to fail fast instead of waiting for the timeout).
td_up() { grep -q "$PEER: CHILD SA up" "$WORK/A/tunneld.log"; }
td_failed() {
    grep -q -E "$PEER: negotiation failed|IKE peer refused" "$WORK/A/tunneld.log" ||
        ! kill -0 "$TUNNELD_PID" 2>/dev/null
}
# td_why: one line on why tunneld gave up.
td_why() {
    grep -m1 -o -E "$PEER: negotiation failed.*|IKE peer refused.*" "$WORK/A/tunneld.log" ||
        echo "tunneld exited"
}

# wait_sas SECONDS B_UP A_UP A_FAILED: poll (every 0.2 s) until the commands
# B_UP and A_UP both succeed (returns 0), A_FAILED succeeds (2), or SECONDS
# pass (1).
wait_sas() {
    local deadline=$(($(_ms) + $1 * 1000))
    while [ "$(_ms)" -lt "$deadline" ]; do
        "$4" && return 2
        "$2" && "$3" && return 0
        sleep 0.2
    done
    return 1
}

# td_check ROLE SPI_AB SPI_BA: tunneld's view of the SAs the peer reports:
# "IKE SA up: IKEv<SUITE_VERSION>, ROLE, ..." and both SPIs on "CHILD SA up".
td_check() {
    local role=$1 iline cline spi
    iline=$(grep -m1 "$PEER: IKE SA up" "$WORK/A/tunneld.log")
    [[ " $iline " == *[\ ,]"$role"[\ ,]* ]] || problems+=("tunneld's 'IKE SA up' line does not say $role")
    [[ $iline == *"IKE SA up: IKEv$SUITE_VERSION"* ]] ||
        problems+=("tunneld's 'IKE SA up' line does not say IKEv$SUITE_VERSION")
    cline=$(grep -m1 "$PEER: CHILD SA up" "$WORK/A/tunneld.log")
    for spi in "$2" "$3"; do
        [[ ${cline,,} == *"${spi#0x}"* ]] || problems+=("tunneld's 'CHILD SA up' line lacks SPI $spi (the peer's)")
    done
}

# esp_packets NS SRC DST SPI: the packet counter of one ESP state: the
# "lifetime current:" line's "N(bytes), M(packets)". (lib.sh's sa_packets
# takes the first "(packets)" number, which for an SA with a finite packet
# limit, as pluto installs them, is "limit: soft N(packets)".)
esp_packets() {
    ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
        sed -n '/lifetime current:/{n;s/^.*, *\([0-9]*\)(packets).*$/\1/p;}' | head -n 1
}

# _sa_pairs NS: NS's two ESP states as "SRC DST SPI" lines (A -> B, B -> A).
# B's address is WAN_B in B's kernel and site_peer_addr B in A's: the same
# on two_sites, the NAT's public PUB_B on nat_sites.
_sa_pairs() {
    local b=$WAN_B
    [ "$1" = A ] && b=$(site_peer_addr B)
    printf '%s\n' "$WAN_A $b $SPI_AB" "$b $WAN_A $SPI_BA"
}

# ESP_ENCAP: "udp" when the ESP SAs run in UDP 4500 (NAT traversal, the
# "nat" scenario): gre_traffic then counts ESP-in-UDP instead of ESP, and
# wants no plain ESP at all. Empty: plain ESP (proto 50).
ESP_ENCAP=${ESP_ENCAP:-}
# On UDP 4500 an IKE message starts with the 4-byte non-ESP marker (zero);
# ESP starts with its SPI (never zero) and is longer than a keepalive.
IKE_FILTER='udp port 500 or (udp port 4500 and udp[8:4] = 0)'
ESPINUDP_FILTER='udp port 4500 and udp[4:2] > 16 and udp[8:4] != 0'

# kernel_sas: both ESP states (SPI_AB: A -> B, SPI_BA: B -> A) in both
# kernels, their packet counters kept for gre_traffic. Ends the case (with
# the states and every problem so far) if any is missing or a problem is
# already known: no point in sending traffic then.
declare -A _BEFORE=()
kernel_sas() {
    local n d pk
    for n in A B; do
        while read -r d; do
            # shellcheck disable=SC2086 # "src dst spi"
            set -- $d
            pk=$(esp_packets "$n" "$1" "$2" "$3")
            if [ -z "$pk" ]; then
                problems+=("$n: no ESP state $1 -> $2 spi $3 in the kernel")
            else
                _BEFORE[$n$3]=$pk
            fi
        done < <(_sa_pairs "$n")
    done
    if [ ${#problems[@]} -gt 0 ]; then
        for n in A B; do echo "--- ip xfrm state in $n"; ip -n "$n" xfrm state; done
        problems_report
    fi
}

# gre_traffic: PINGS pings across the GRE /31 both ways, then the capture
# "wan" stopped, and: every ESP state's packet counter rose by 2 * PINGS on
# both sides, and the WAN carried IKE, ESP both ways (ESP_ENCAP=udp: ESP in
# UDP 4500, and no plain ESP), no GRE or ICMP in the clear.
gre_traffic() {
    local n d pk b total gre_clear icmp_clear esp ike bpub esp_f plain=0
    step "ping across the GRE /31, both directions"
    ping_ok A "$IN_B" "$PINGS"
    ping_ok B "$IN_A" "$PINGS"
    capture_stop wan

    step "kernel SA counters"
    for n in A B; do
        while read -r d; do
            # shellcheck disable=SC2086
            set -- $d
            pk=$(esp_packets "$n" "$1" "$2" "$3")
            b=${_BEFORE[$n$3]}
            note "$n: SA $1 -> $2 spi $3: $b -> ${pk:-?} packets"
            # Each direction carried PINGS requests and PINGS replies.
            [ "${pk:-0}" -ge $((b + 2 * PINGS)) ] ||
                problems+=("$n: SA $1 -> $2 spi $3 counted $b -> ${pk:-?} packets, expected +$((2 * PINGS)) or more")
        done < <(_sa_pairs "$n")
    done

    step "WAN capture"
    total=$(capture_count wan)
    gre_clear=$(capture_count wan 'ip proto 47')
    icmp_clear=$(capture_count wan icmp)
    # The capture is on A's wan0: B is at site_peer_addr B there.
    bpub=$(site_peer_addr B)
    esp_f='ip proto 50'
    if [ "$ESP_ENCAP" = udp ]; then
        esp_f=$ESPINUDP_FILTER
        plain=$(capture_count wan 'ip proto 50')
    fi
    esp=$(capture_count wan "$esp_f")
    ike=$(capture_count wan "$IKE_FILTER")
    note "WAN: $total packets: $ike IKE, $esp ESP${ESP_ENCAP:+ in $ESP_ENCAP ($plain plain ESP)}, $gre_clear GRE, $icmp_clear ICMP"
    [ "$gre_clear" -eq 0 ] || problems+=("$gre_clear GRE (proto 47) packets in the clear on the WAN")
    [ "$icmp_clear" -eq 0 ] || problems+=("$icmp_clear ICMP packets in the clear on the WAN")
    [ "$esp" -ge $((4 * PINGS)) ] || problems+=("only $esp ESP packets on the WAN, expected >= $((4 * PINGS))")
    [ "$ike" -ge 4 ] || problems+=("only $ike IKE packets on the WAN: where did the SA come from?")
    [ "$plain" -eq 0 ] || problems+=("$plain plain ESP (proto 50) packets on the WAN, all ESP should be in UDP 4500")
    if ! capture_count wan "($esp_f) and src $WAN_A and dst $bpub" | grep -qv '^0$' ||
        ! capture_count wan "($esp_f) and src $bpub and dst $WAN_A" | grep -qv '^0$'; then
        problems+=("ESP on the WAN not in both directions")
    fi
    if [ ${#problems[@]} -gt 0 ]; then
        echo "--- decoded WAN capture (first 40 lines)"
        capture_show wan | head -n 40
        for n in A B; do echo "--- ip -s xfrm state in $n"; ip -n "$n" -s xfrm state; done
    fi
}

# problems_report: each problem as "FAIL: ...", and exit 1 if there is any.
problems_report() {
    local p
    [ ${#problems[@]} -eq 0 ] && return 0
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
}

# --- charon -------------------------------------------------------------------

# The vici socket, inside the instance's own /run (charon's default path;
# swanctl reads it from swanctl.socket in the same strongswan.conf).
CHARON_VICI=unix:///run/charon.vici
declare -A _CHARON_PID=()

# charon_config NS LOCAL REMOTE IKE ESP PSK [START_ACTION] [ID]: write NS's
# strongswan.conf and swanctl.conf: one connection "tunneld" from LOCAL to
# REMOTE, IKEv$SUITE_VERSION (default 2; with SUITE_MODE=aggressive, IKEv1
# Aggressive Mode), PSK, IDs = the addresses, with a transport-mode CHILD_SA
# "gre" for GRE only (dynamic[gre] both ways). START_ACTION: none (default:
# charon only responds; the case initiates with swanctl --initiate). ID:
# charon's own IKE identity (default LOCAL; behind a NAT the public address
# the peer knows it by). CHARON_DPD: dpd_delay (default 30s).
charon_config() {
    local n=$1 local=$2 remote=$3 ike=$4 esp=$5 psk=$6 start=${7:-none} id=${8:-$2}
    local etc=/etc/netns/$n
    mkdir -p "$etc/swanctl" "$WORK/$n"
    # Every subdirectory swanctl --load-all may look at; empty.
    mkdir -p "$etc/swanctl/conf.d" "$etc/swanctl/x509" "$etc/swanctl/private"
    # An explicit plugin list (no load_modular, nothing from the host's
    # strongswan.d): what this test needs, "!" = critical, charon refuses
    # to start without it. openssl does AES-CBC/GCM, SHA-2, MODP, ECP and
    # X25519; kernel-netlink installs the XFRM states and policies.
    # IKEv1 Aggressive Mode with a PSK: charon refuses it unless told it
    # does not care (it sends a hash of the PSK in the clear).
    local aggr_conf="" aggr_conn=""
    if [ "${SUITE_MODE:-}" = aggressive ]; then
        aggr_conf="i_dont_care_about_security_and_use_aggressive_mode_psk = yes"
        aggr_conn="aggressive = yes"
    fi
    cat >"$etc/strongswan.conf" <<EOF
charon {
    load_modular = no
    $aggr_conf
    load = random! nonce! openssl! kdf pem pkcs1 pubkey kernel-netlink! socket-default! vici!
    install_routes = no
    install_virtual_ip = no
    # IKEv1 has no IKE SA rekey: charon reauthenticates, and with this
    # builds the new IKE and CHILD SAs before it deletes the old.
    make_before_break = yes
    # Under TCG first packets can be slow: keep retransmits patient.
    retransmit_timeout = 4.0
    retransmit_tries = 4
    plugins {
        vici {
            socket = $CHARON_VICI
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
    filelog {
        charon {
            path = $WORK/$n/charon.log
            time_format = %T
            ike_name = yes
            append = no
            flush_line = yes
            default = 1
            ike = 2
            enc = 2
            cfg = 2
            knl = 2
            net = 1
        }
    }
}
swanctl {
    socket = $CHARON_VICI
    load = pem pkcs1 x509 revocation constraints pubkey openssl random
}
EOF
    cat >"$etc/swanctl/swanctl.conf" <<EOF
connections {
    tunneld {
        version = ${SUITE_VERSION:-2}
        $aggr_conn
        local_addrs = $local
        remote_addrs = $remote
        proposals = $ike
        encap = no
        mobike = no
        dpd_delay = ${CHARON_DPD:-30s}
        local {
            auth = psk
            id = $id
        }
        remote {
            auth = psk
            id = $remote
        }
        children {
            gre {
                mode = transport
                local_ts = dynamic[gre]
                remote_ts = dynamic[gre]
                esp_proposals = $esp
                start_action = $start
                dpd_action = clear
            }
        }
    }
}
secrets {
    ike-tunneld {
        id-local = $id
        id-remote = $remote
        secret = "$psk"
    }
}
EOF
}

# swan NS ARGS...: swanctl in NS's charon's mount and network namespace
# (its /run holds the vici socket; its /etc is /etc/netns/NS).
swan() {
    local n=$1
    shift
    nsenter -t "${_CHARON_PID[$n]}" -m -n swanctl "$@"
}

# charon_start NS: start charon in NS (after charon_config), wait for its
# vici socket, load the connection and the secret.
charon_start() {
    local n=$1 pidf=/tmp/charon-$1.pid pid
    rm -f "$pidf"
    # The sh writes its pid, then becomes charon: that pid is charon's.
    ip netns exec "$n" unshare -m --propagation private sh -c \
        "echo \$\$ >$pidf; mount -t tmpfs none /run && exec /usr/lib/ipsec/charon" \
        </dev/null >"$WORK/$n/charon.stderr" 2>&1 &
    wait_for 10 test -s "$pidf" || fail "charon in $n did not start"
    pid=$(<"$pidf")
    _CHARON_PID[$n]=$pid
    # Under TCG charon takes seconds to come up. /proc/PID/root shows its
    # mount namespace, so no exec per poll.
    if ! wait_for 60 test -S "/proc/$pid/root/run/charon.vici"; then
        cat "$WORK/$n/charon.stderr" "$WORK/$n/charon.log" >&2 2>/dev/null
        fail "charon in $n: no vici socket after 60 s"
    fi
    swan "$n" --load-all --noprompt >"$WORK/$n/swanctl-load.log" 2>&1 || {
        cat "$WORK/$n/swanctl-load.log" >&2
        fail "charon in $n: swanctl --load-all failed"
    }
    grep -q "loaded connection 'tunneld'" "$WORK/$n/swanctl-load.log" || {
        cat "$WORK/$n/swanctl-load.log" >&2
        fail "charon in $n: connection 'tunneld' not loaded"
    }
}

# charon_version NS: e.g. "5.9.8", as the daemon reports it over vici.
charon_version() {
    swan "$1" --version --daemon 2>/dev/null |
        sed -n 's/^.*strongSwan[^0-9]*\([0-9][0-9.]*[0-9]\).*$/\1/p' | head -n 1
}

# sa_field TEXT KEY: the first KEY=VALUE of `swanctl --list-sas --raw`
# output (one vici message per line; nested sections as {...}). Pure bash:
# under TCG each exec of a small tool costs 0.1-0.3 s.
sa_field() {
    local re="[ {]$2=([^ }]*)"
    if [[ $1 =~ $re ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# suite_name ALGS...: strongSwan proposal syntax for the algorithm names
# swanctl --raw reports (AES_GCM_16 256 PRF_HMAC_SHA2_384 ECP_384 ->
# aes256gcm16-prfsha384-ecp384). Unknown names are kept, lowercased.
suite_name() {
    local out=() a
    while [ $# -gt 0 ]; do
        a=$1
        shift
        case $a in
        AES_GCM_16) out+=("aes${1}gcm16"); shift ;;
        AES_CBC) out+=("aes${1}"); shift ;;
        HMAC_SHA2_256_128) out+=(sha256) ;;
        HMAC_SHA2_384_192) out+=(sha384) ;;
        HMAC_SHA2_512_256) out+=(sha512) ;;
        PRF_HMAC_SHA2_256) out+=(prfsha256) ;;
        PRF_HMAC_SHA2_384) out+=(prfsha384) ;;
        PRF_HMAC_SHA2_512) out+=(prfsha512) ;;
        MODP_*) out+=("modp${a#MODP_}") ;;
        ECP_*) out+=("ecp${a#ECP_}") ;;
        CURVE_25519) out+=(x25519) ;;
        '') ;;
        *) out+=("${a,,}") ;;
        esac
    done
    local IFS=-
    echo "${out[*]}"
}

# --- Libreswan's pluto -----------------------------------------------------------

# The tree scripts/libreswan.sh unpacked (Debian's package, not installed:
# it conflicts with strongSwan's).
LIBRESWAN_ROOT=${LIBRESWAN_ROOT:-/opt/libreswan}
LSW_BIN=$LIBRESWAN_ROOT/usr/libexec/ipsec
declare -A _PLUTO_PID=()

# pluto_dir NS: the instance's private directory (run dir with the control
# socket, NSS database, secrets), in the guest's own /tmp.
pluto_dir() { echo "/tmp/pluto-$1"; }

# pluto_config NS LOCAL REMOTE PSK: NS's pluto: an NSS database (certutil,
# empty password), a secrets file with the PSK for LOCAL/REMOTE, and
# $WORK/NS/ipsec.conf: plutodebug=all to $WORK/NS/pluto.log and one
# connection "tunneld" from LOCAL to REMOTE: PSK (authby=secret), IDs = the
# addresses, transport mode for GRE only (leftprotoport=gre), the suite's
# IKE version (ikev2=yes/no), Aggressive Mode when SUITE_MODE says so,
# pfs=SUITE_PFS, ike=SUITE_LSW_IKE, esp=SUITE_LSW_ESP. auto=add: pluto only
# responds until the case says `whack --initiate`.
pluto_config() {
    local n=$1 local=$2 remote=$3 psk=$4 d ikev2=yes aggr=no
    d=$(pluto_dir "$n")
    [ -x "$LSW_BIN/pluto" ] || fail "no $LSW_BIN/pluto (scripts/libreswan.sh unpacks it; make deps)"
    rm -rf "$d"
    mkdir -p "$d/run" "$d/nss" "$d/ipsec.d" "$WORK/$n"
    certutil -N -d "sql:$d/nss" --empty-password >"$WORK/$n/certutil.log" 2>&1 || {
        cat "$WORK/$n/certutil.log" >&2
        fail "certutil -N for pluto in $n"
    }
    printf '%s %s : PSK "%s"\n' "$local" "$remote" "$psk" >"$d/ipsec.secrets"
    chmod 600 "$d/ipsec.secrets"
    [ "${SUITE_VERSION:-2}" = 1 ] && ikev2=no
    [ "${SUITE_MODE:-}" = aggressive ] && aggr=yes
    cat >"$WORK/$n/ipsec.conf" <<EOF
config setup
    plutodebug=all
    logfile=$WORK/$n/pluto.log
    logappend=no
    logtime=yes
    dumpdir=$d/run
    uniqueids=no
    # Debian's build drops IKEv1 unless told otherwise.
    ikev1-policy=accept

conn tunneld
    left=$local
    leftid=$local
    right=$remote
    rightid=$remote
    authby=secret
    type=transport
    leftprotoport=gre
    rightprotoport=gre
    ikev2=$ikev2
    aggressive=$aggr
    pfs=${SUITE_PFS:-yes}
    ike=$SUITE_LSW_IKE
    esp=$SUITE_LSW_ESP
    encapsulation=no
    mobike=no
    # No routes or firewall rules for this test: the updown script would
    # need the "ipsec" command on PATH.
    leftupdown=/bin/true
    # Under TCG first packets can be slow: keep retransmits patient.
    retransmit-interval=2000
    retransmit-timeout=60s
    auto=add
EOF
}

# whack NS ARGS...: pluto's control tool against NS's instance.
whack() {
    local n=$1
    shift
    "$LSW_BIN/whack" --ctlsocket "$(pluto_dir "$n")/run/pluto.ctl" "$@"
}

# pluto_start NS: start pluto in NS (after pluto_config) with its own run
# dir, NSS db, secrets and config; wait for its control socket; add the
# connection (addconn, as `ipsec auto --add` does) and let it listen.
pluto_start() {
    local n=$1 d pid
    d=$(pluto_dir "$n")
    # pluto insists on its helpers at the compiled-in path (it exits with
    # "FATAL ERROR: /usr/libexec/ipsec/addconn: missing or not executable"):
    # in a mount namespace of its own, the unpacked tree is bind-mounted
    # there (the mount point made in the VM's throw-away overlay). The sh
    # writes its pid, then becomes pluto: that pid is pluto's.
    rm -f "$d/pluto.pid"
    ip netns exec "$n" unshare -m --propagation private sh -c \
        "echo \$\$ >$d/pluto.pid; mkdir -p /usr/libexec/ipsec &&
         mount --bind $LSW_BIN /usr/libexec/ipsec &&
         exec $LSW_BIN/pluto --nofork --config $WORK/$n/ipsec.conf \
            --rundir $d/run --nssdir $d/nss --secretsfile $d/ipsec.secrets \
            --ipsecdir $d/ipsec.d --dumpdir $d/run --no-dnssec --nhelpers 1" \
        </dev/null >"$WORK/$n/pluto.stderr" 2>&1 &
    wait_for 10 test -s "$d/pluto.pid" || fail "pluto in $n did not start"
    pid=$(<"$d/pluto.pid")
    _PLUTO_PID[$n]=$pid
    if ! wait_for 60 test -S "$d/run/pluto.ctl"; then
        cat "$WORK/$n/pluto.stderr" >&2
        tail -n 30 "$WORK/$n/pluto.log" >&2 2>/dev/null
        kill -0 "$pid" 2>/dev/null || fail "pluto in $n exited"
        fail "pluto in $n: no control socket after 60 s"
    fi
    "$LSW_BIN/addconn" --config "$WORK/$n/ipsec.conf" --ctlsocket "$d/run/pluto.ctl" \
        tunneld >"$WORK/$n/addconn.log" 2>&1 || {
        cat "$WORK/$n/addconn.log" >&2
        fail "pluto in $n: addconn tunneld failed: $(grep -v ': | ' "$WORK/$n/pluto.log" | grep -m1 -i 'failed to add' || echo '(see pluto.log)')"
    }
    whack "$n" --listen >>"$WORK/$n/addconn.log" 2>&1 || {
        cat "$WORK/$n/addconn.log" >&2
        fail "pluto in $n: whack --listen failed"
    }
    whack "$n" --rereadsecrets >>"$WORK/$n/addconn.log" 2>&1 || true
    whack "$n" --status >"$WORK/$n/status-start.txt" 2>&1 || true
    grep -q '"tunneld":' "$WORK/$n/status-start.txt" || {
        cat "$WORK/$n/addconn.log" "$WORK/$n/status-start.txt" >&2
        fail "pluto in $n: connection tunneld not loaded"
    }
}

# pluto_version: "4.10", from the unpacked tree's pluto.
pluto_version() {
    "$LSW_BIN/pluto" --version 2>/dev/null | sed -n 's/^Libreswan \([0-9][0-9.]*\).*$/\1/p' | head -n 1
}
