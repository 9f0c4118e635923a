#!/bin/bash
# The testbed itself, without any of our code: GRE between two namespaces,
# protected by hand-keyed transport-mode ESP (AES-GCM-128, rfc4106), exactly
# the kernel configuration tunneld is meant to produce. Proves that
#  - the VM kernel does GRE + ESP + AES-GCM,
#  - ping crosses the GRE,
#  - the WAN carries only ESP: no GRE and no ICMP in the clear,
#  - the kernel's SA counters show the packets went through the SAs.
# Runs inside the VM (tests/vm/vmrun); tests/e2e/run-all.sh runs it.
#
# Negative self-check: E2E_BREAK=nopolicy skips the XFRM policies, so GRE
# goes out in the clear; this test must then fail.
#   E2E_BREAK=nopolicy VMRUN_ENV=E2E_BREAK tests/vm/vmrun tests/e2e/esp_gre_manual.sh
#
# e2e-timeout: 180
# e2e-break: nopolicy GRE packets in the clear
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | nopolicy) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: nopolicy)" ;;
esac

PINGS=5
# GRE inner addresses: a /31 point-to-point link (RFC 3021).
IN_A=172.31.0.0 IN_B=172.31.0.1
# Test-only keys: 128-bit AES key + 4-byte salt (RFC 4106) per direction,
# different in each direction so a swapped SA cannot pass.
SPI_AB=0xa0a0b0b1 KEY_AB=0x000102030405060708090a0b0c0d0e0f10111213
SPI_BA=0xb0b0a0a1 KEY_BA=0xf0e0d0c0b0a090807060504030201000fedcba98
AEAD='rfc4106(gcm(aes))'

step "modules"
# ip_gre: the gre link type; esp4: ESP for IPv4; xfrm_user: `ip xfrm`.
# The AEAD itself (gcm, ctr, ghash, seqiv, the DRBG...) is loaded on demand
# by the crypto API through modprobe when the first SA asks for
# rfc4106(gcm(aes)); under TCG that takes ~5 s.
load_modules ip_gre esp4 xfrm_user

step "namespaces A and B on a veth WAN"
netns_add A
netns_add B
veth_link A wan0 "$WAN_A/$WAN_PLEN" B wan0 "$WAN_B/$WAN_PLEN"

step "GRE over the WAN: $IN_A/31 (A) -- $IN_B/31 (B)"
# gre1, not gre0: loading ip_gre creates a fallback device gre0 in every
# namespace, which catches GRE that matches no other tunnel.
gre() { # NS LOCAL REMOTE INNER
    ip -n "$1" link add gre1 type gre local "$2" remote "$3" ttl 64 || fail "gre1 in $1"
    ip -n "$1" addr add "$4/31" dev gre1
    ip -n "$1" link set gre1 up
}
gre A "$WAN_A" "$WAN_B" "$IN_A"
gre B "$WAN_B" "$WAN_A" "$IN_B"

step "ESP SAs ($AEAD, 128-bit key, 128-bit ICV), transport mode"
sa() { # NS SRC DST SPI KEY REQID
    ip -n "$1" xfrm state add src "$2" dst "$3" proto esp spi "$4" reqid "$6" \
        mode transport replay-window 32 aead "$AEAD" "$5" 128 ||
        fail "SA $2 -> $3 in $1"
}
for n in A B; do
    sa "$n" "$WAN_A" "$WAN_B" "$SPI_AB" "$KEY_AB" 1
    sa "$n" "$WAN_B" "$WAN_A" "$SPI_BA" "$KEY_BA" 2
done

# Policies: GRE between the WAN addresses must use ESP, both ways. The "in"
# policy also makes the kernel drop GRE that arrives without ESP.
pol() { # NS DIR SRC DST REQID
    ip -n "$1" xfrm policy add src "$3/32" dst "$4/32" proto gre dir "$2" \
        tmpl src "$3" dst "$4" proto esp reqid "$5" mode transport ||
        fail "policy $2 in $1"
}
if [ "$BREAK" = nopolicy ]; then
    step "E2E_BREAK=nopolicy: NOT installing the XFRM policies (this run must fail)"
else
    step "XFRM policies: proto gre <-> ESP transport"
    pol A out "$WAN_A" "$WAN_B" 1
    pol A in "$WAN_B" "$WAN_A" 2
    pol B out "$WAN_B" "$WAN_A" 2
    pol B in "$WAN_A" "$WAN_B" 1
fi

step "ping $IN_B from A over GRE, capturing on A's WAN"
capture_start wan A wan0
ping_ok A "$IN_B" "$PINGS"
capture_stop wan

# From here on, collect every problem before failing: a report that names
# all of them is more useful than the first one alone.
problems=()
total=$(capture_count wan)
gre_clear=$(capture_count wan 'ip proto 47')
icmp_clear=$(capture_count wan icmp)
esp=$(capture_count wan 'ip proto 50')
note "WAN capture: $total packets: $esp ESP, $gre_clear GRE, $icmp_clear ICMP"
[ "$gre_clear" -eq 0 ] || problems+=("$gre_clear GRE packets in the clear on the WAN")
[ "$icmp_clear" -eq 0 ] || problems+=("$icmp_clear ICMP packets in the clear on the WAN")
# Every echo request and reply crossed A's WAN once.
[ "$esp" -ge $((2 * PINGS)) ] || problems+=("only $esp ESP packets on the WAN, expected >= $((2 * PINGS))")
# A byte-level check as well: tcpdump decodes GRE payloads, so any ICMP
# inside cleartext GRE shows up here even if a filter above were wrong.
if tcpdump -r "$WORK/wan.pcap" -n 2>/dev/null | grep -q 'ICMP echo'; then
    problems+=("ICMP echo visible in the decoded WAN capture")
fi

step "kernel SA counters"
for n in A B; do
    for dir in "$WAN_A $WAN_B $SPI_AB" "$WAN_B $WAN_A $SPI_BA"; do
        # shellcheck disable=SC2086 # "src dst spi"
        set -- $dir
        pk=$(sa_packets "$n" "$1" "$2" "$3")
        note "$n: SA $1 -> $2 spi $3: ${pk:-?} packets"
        [ "${pk:-0}" -ge "$PINGS" ] ||
            problems+=("$n: SA $1 -> $2 counted ${pk:-no} packets, expected >= $PINGS")
    done
done

if [ ${#problems[@]} -gt 0 ]; then
    echo "--- decoded WAN capture (first 40 lines)"
    capture_show wan | head -n 40
    echo "--- ip -s xfrm state in A"
    ip -n A -s xfrm state
    echo "--- ip xfrm policy in A"
    ip -n A xfrm policy
    echo "--- /proc/net/xfrm_stat in A (nonzero)"
    # shellcheck disable=SC2016 # awk's $2
    ns A awk '$2 != 0' /proc/net/xfrm_stat
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    exit 1
fi
echo "PASS: ping over GRE, only ESP on the WAN ($esp packets), SA counters moved"
