#!/bin/bash
# Interop matrix: tunneld against real IKE implementations, each case in its
# own fresh VM (tests/vm/vmrun). `make interop`; part of `make check`.
#
#   tests/interop/run.sh [-v] [-j N] [--no-break] [--smoke] [--keep] [--ikev1 | --all] [CASE...]
#
# Cases (tests/interop/PEER.sh DIRECTION SUITE), named PEER/DIRECTION/SUITE:
# PEER strongswan (charon) or libreswan (pluto); DIRECTION tunneld-peer
# (tunneld initiates) or peer-tunneld (the peer initiates, tunneld
# --passive); SUITE a proposal set of lib-interop.sh. The default run:
# strongswan with default, default-x25519 (charon preferring Curve25519)
# and cbc (AES-CBC-256/HMAC-SHA2-256/MODP-2048), libreswan with default
# (IKEv2), and every IKEv1 case: both peers with v1-main, v1-main-nopfs,
# v1-aggr, v1-aggr-nopfs (the peer's ikev1 profile; Main or Aggressive
# Mode, PFS on or off); both directions each.
# --ikev1 runs only the IKEv1 cases. --all runs both lists.
# CASE selects cases by name (DIRECTION/SUITE alone means strongswan), any
# known one, e.g. libreswan/tunneld-peer/v1-main or tunneld-peer/cbc.
# Plus negative self-checks (--no-break skips them; with CASEs, only
# "@psk" / "@psk-v1" select them, "PEER@psk" / "PEER@psk-v1" one of them):
# PEER/tunneld-peer/default (--ikev1: v1-main) with another PSK for the
# peer, which must fail with an authentication failure, proving that the
# case can fail.
#
# -j N runs N VMs at once (default: one per core, $INTEROP_JOBS overrides),
# one vCPU each; -v streams each case's output (and implies -j 1).
# --smoke: charon against charon (INTEROP_SMOKE=charon), which checks the
# scaffolding only (strongswan cases only); never an interop result.
# TUNNELD=PATH (and TUNNELD_PROFILES=DIR) test another tunneld build.
# --keep keeps every case's VM files (the peers' logs), not only a failure's.
#
# Prints "PASS|FAIL label (Ns)" as cases finish (a failure with its log),
# then the matrix "peer direction proposal result" (proposal: the suite and
# the IKE / ESP algorithms the peer reports for the SAs it established),
# and last "interop: N passed, M failed". Exit status 0 only if nothing
# failed. Logs: build/interop/LABEL.log; a failed case's VM files
# (console.log, output, work/ with tunneld.log, the peer's log, wan.pcap)
# in build/interop/LABEL/.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
vmrun=$repo/tests/vm/vmrun
logs=$repo/build/interop
timeout=${INTEROP_TIMEOUT:-240}
scenario_extra=${INTEROP_SCENARIO_EXTRA:-240}
boot_grace=${INTEROP_BOOT_GRACE:-90}
# The guest kernel's IO-APIC timer check fails now and then under TCG on a
# loaded host ("..MP-BIOS bug: 8254 timer not connected to IO-APIC", then a
# panic or a hang): skip it, as is usual for virtual machines.
export VMRUN_APPEND="${VMRUN_APPEND:-no_timer_check}"

usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; }
verbose=0 breaks=1 smoke="" keepall=0 lists=default jobs=${INTEROP_JOBS:-$(nproc 2>/dev/null || echo 1)}
sel=()
while [ $# -gt 0 ]; do
    case $1 in
    -v | --verbose) verbose=1 ;;
    -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    --no-break) breaks=0 ;;
    --smoke) smoke=charon ;;
    --ikev1) lists=ikev1 ;;
    --keep) keepall=1 ;;
    --all) lists="default ikev1" ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "interop: unknown option $1" >&2; exit 2 ;;
    *) sel+=("$1") ;;
    esac
    shift
done
case $jobs in '' | *[!0-9]* | 0) echo "interop: -j wants a positive number" >&2; exit 2 ;; esac
[ "$verbose" = 1 ] && jobs=1
# As tests/e2e/run-all.sh: VMs side by side get one vCPU each (TCG).
if [ "$jobs" -gt 1 ] && [ -z "${VM_SMP:-}" ]; then export VM_SMP=1; fi

# The runs: "label peer direction suite break scenario regex" (- for none).
default_cases=()
for c in default cbc default-x25519; do
    default_cases+=("strongswan/tunneld-peer/$c" "strongswan/peer-tunneld/$c")
done
default_cases+=(libreswan/tunneld-peer/default libreswan/peer-tunneld/default)
# IKEv1: every cell in the default run too (Main and Aggressive Mode, PFS
# on and off, both peers, both directions); --ikev1 runs only these.
ikev1_cases=()
for p in strongswan libreswan; do
    for c in v1-main v1-main-nopfs v1-aggr v1-aggr-nopfs; do
        ikev1_cases+=("$p/tunneld-peer/$c" "$p/peer-tunneld/$c")
    done
done
default_cases+=("${ikev1_cases[@]}")
# Scenarios (strongswan.sh's SCENARIO; strongSwan only), as a fourth part:
# PEER/DIRECTION/SUITE/SCENARIO. In the default run: rekeys under load for
# IKEv2 and IKEv1, both directions; NAT traversal for IKEv2 and IKEv1.
scenario_cases=()
for c in default v1-main; do
    for d in tunneld-peer peer-tunneld; do scenario_cases+=("strongswan/$d/$c/rekey"); done
done
# NAT traversal: charon behind a NAT router initiates (the only direction:
# tunneld, the public hub, cannot reach it first), then N's mappings flush.
for c in default v1-main; do scenario_cases+=("strongswan/peer-tunneld/$c/nat"); done
default_cases+=("${scenario_cases[@]}")
# Known (selectable by name): every peer, direction and suite, and the scenarios.
known=("${scenario_cases[@]}")
for p in strongswan libreswan; do
    for c in default default-x25519 cbc v1-main v1-main-nopfs v1-aggr v1-aggr-nopfs; do
        known+=("$p/tunneld-peer/$c" "$p/peer-tunneld/$c")
    done
done
# Self-checks, as PEER:SUITE (tunneld initiating, the peer with a wrong
# PSK): default for the default list, v1-main for the IKEv1 one.
selfchecks=()
if [ "$breaks" = 1 ]; then
    for l in $lists; do
        if [ "$l" = ikev1 ]; then selfchecks+=(strongswan:v1-main libreswan:v1-main)
        else selfchecks+=(strongswan:default libreswan:default); fi
    done
fi
if [ ${#sel[@]} -gt 0 ]; then
    # A selection runs the self-checks only when it names them: @psk (both
    # peers, IKEv2), @psk-v1 (both, IKEv1), PEER@psk, PEER@psk-v1.
    selfchecks=()
    for i in "${!sel[@]}"; do
        case ${sel[$i]} in
        @psk) selfchecks+=(strongswan:default libreswan:default); unset "sel[$i]" ;;
        @psk-v1) selfchecks+=(strongswan:v1-main libreswan:v1-main); unset "sel[$i]" ;;
        strongswan@psk | libreswan@psk) selfchecks+=("${sel[$i]%@psk}:default"); unset "sel[$i]" ;;
        strongswan@psk-v1 | libreswan@psk-v1) selfchecks+=("${sel[$i]%@psk-v1}:v1-main"); unset "sel[$i]" ;;
        */*/*/* | */*/*) ;;
        */*) sel[i]=strongswan/${sel[$i]} ;;
        esac
    done
else
    for l in $lists; do
        if [ "$l" = ikev1 ]; then sel+=("${ikev1_cases[@]}"); else sel+=("${default_cases[@]}"); fi
    done
fi
runs=()
declare -A seen=()
for c in "${sel[@]}"; do
    [ -z "${seen[$c]:-}" ] || continue # --all: the lists overlap
    seen[$c]=1
    case " ${known[*]} " in *" $c "*) ;; *)
        echo "interop: unknown case $c (known: PEER/DIRECTION/SUITE, PEER strongswan or libreswan," \
            "DIRECTION tunneld-peer or peer-tunneld, SUITE one of: default default-x25519 cbc" \
            "v1-main v1-main-nopfs v1-aggr v1-aggr-nopfs; or one of: ${scenario_cases[*]})" >&2
        exit 2
        ;;
    esac
    IFS=/ read -r p d su sc <<<"$c"
    if [ -n "$smoke" ] && [ "$p" != strongswan ]; then
        echo "interop: --smoke: skipping $c (the smoke run is charon against charon)"
        continue
    fi
    runs+=("$p-$d-$su${sc:+-$sc} $p $d $su - ${sc:--} -")
done
# The self-check: a wrong PSK must end in an authentication failure. IKEv2:
# in the case's own FAIL line (tunneld's "negotiation failed:
# AUTHENTICATION_FAILED", or, in the smoke run, the AUTHENTICATION_FAILED
# notify charon A received). IKEv1 has no authenticated way to say so (the
# responder cannot decrypt Main Mode's message 5): the peer's log, which the
# failed case prints, must say it (charon: "invalid ID_V1 payload length,
# decryption failed?"; pluto: "probable authentication failure (mismatch of
# preshared secrets?)").
for sc in "${selfchecks[@]}"; do
    p=${sc%%:*} su=${sc#*:}
    [ -n "$smoke" ] && [ "$p" != strongswan ] && continue
    if [ "$su" = default ]; then
        re='^FAIL:.*(AUTHENTICATION_FAILED|AUTH_FAILED)'
    else
        re='decryption failed\?|mismatch of preshared secrets|AUTHENTICATION_FAILED'
    fi
    runs+=("$p-tunneld-peer-$su@psk $p tunneld-peer $su psk - $re")
done
if [ -n "$smoke" ]; then logs=$logs/smoke; fi

# Preconditions on the host (the VM sees the host's files).
pre=()
case " ${runs[*]} " in *" strongswan "*)
    [ -x /usr/lib/ipsec/charon ] && command -v swanctl >/dev/null ||
        pre+=("strongSwan is not installed (scripts/deps.sh)")
    ;;
esac
case " ${runs[*]} " in *" libreswan "*)
    "$repo/scripts/libreswan.sh" --check >/dev/null 2>&1 || pre+=("Libreswan is not unpacked: $("$repo/scripts/libreswan.sh" --check 2>&1 | head -n 1) (make deps)")
    command -v certutil >/dev/null || pre+=("no certutil for pluto's NSS database (libnss3-tools; scripts/deps.sh)")
    ;;
esac
if [ -z "$smoke" ] && [ ! -x "${TUNNELD:-$repo/tunneld/tunneld}" ]; then
    pre+=("no ${TUNNELD:-tunneld/tunneld} (make tunneld/tunneld)")
fi
if [ ${#pre[@]} -gt 0 ]; then
    for p in "${pre[@]}"; do echo "interop: $p" >&2; done
    echo "interop: 0 passed, ${#runs[@]} failed"
    exit 1
fi

mkdir -p "$logs"
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100))"; }

# run_one LABEL PEER DIRECTION SUITE BREAK SCENARIO REGEX: one VM; writes
# LOGS/.LABEL.row ("peer<TAB>direction<TAB>proposal<TAB>result") and prints
# its PASS/FAIL line. Exit status 0 for PASS. Runs as a background job.
run_one() {
    local label=$1 pname=$2 dir=$3 suite=$4 brk=$5 scen=$6 regex=$7 limit=$timeout
    local log=$logs/$label.log keep=$logs/$label t0 rc ok=0 ms why="" vm
    local peer prop arrow res
    [ "$brk" = - ] && brk=""
    [ "$scen" = - ] && scen=""
    # A scenario runs the whole case first, then its own part.
    [ -n "$scen" ] && limit=$((timeout + scenario_extra))
    rm -rf "$keep" "$log"
    t0=$(now_ms)
    # A VM whose kernel died or hung before the script began (under TCG on
    # a loaded host the guest kernel now and then panics or hangs in early
    # boot: "MP-BIOS bug: 8254 timer not connected to IO-APIC") says nothing
    # about the case: boot it once more. The first log is kept as
    # LABEL.boot-failure.log.
    local try
    for try in 1 2; do
        (
            unset INTEROP_BREAK INTEROP_SMOKE
            # TUNNELD / TUNNELD_PROFILES, when set, pick another tunneld build
            # (e.g. a work-in-progress one) and its profiles, inside the VM too.
            export VMRUN_ENV="${VMRUN_ENV:-} INTEROP_BREAK INTEROP_SMOKE TUNNELD TUNNELD_PROFILES"
            export INTEROP_BREAK=$brk INTEROP_SMOKE=$smoke
            cd "$repo" && exec "$vmrun" --timeout "$limit" --keep "$keep" \
                "$here/$pname.sh" "$dir" "$suite" ${scen:+"$scen"}
        ) >"$log" 2>&1 &
        vm=$!
        trap 'kill -TERM "$vm" 2>/dev/null; wait "$vm"; echo "FAIL $label (interrupted)"; exit 1' TERM
        if [ "$verbose" = 1 ]; then
            echo "--- $label"
            tail -n +1 -s 0.2 -f --pid="$vm" "$log" &
        fi
        # A guest kernel that hangs in early boot would hold the VM until
        # the timeout: stop it if the script's first step has not shown up
        # after boot_grace seconds (it does after 5-20 s).
        local waited=0 started=0 hung=0
        while kill -0 "$vm" 2>/dev/null; do
            if [ "$started" = 0 ]; then
                if grep -q '^\[ *[0-9.]*s\] == ' "$log"; then
                    started=1
                elif [ "$waited" -ge "$boot_grace" ]; then
                    hung=1
                    echo "run.sh: no output from the script after ${boot_grace} s: the VM hung in boot, stopped" >>"$log"
                    kill -TERM "$vm" 2>/dev/null
                    break
                fi
            fi
            sleep 1
            waited=$((waited + 1))
        done
        wait "$vm"
        rc=$?
        wait
        # 125: the VM stopped without an exit status; no "== step" line: the
        # script never ran.
        if [ "$try" = 1 ] && { [ "$rc" -eq 125 ] || [ "$hung" = 1 ]; } &&
            ! grep -q '^\[ *[0-9.]*s\] == ' "$log"; then
            mv "$log" "$logs/$label.boot-failure.log"
            rm -rf "$keep"
            continue
        fi
        break
    done
    ms=$(($(now_ms) - t0))

    if [ -z "$brk" ]; then
        [ "$rc" -eq 0 ] && grep -q '^INTEROP: ' "$log" && ok=1
        [ "$rc" -eq 0 ] && [ "$ok" = 0 ] && why=" (exit 0 without an INTEROP: line)"
        [ "$rc" -eq 124 ] && why=" timed out after $limit s"
    elif [ "$rc" -eq 0 ]; then
        why=" INTEROP_BREAK=$brk: the case passed, but it must fail"
    elif [ "$rc" -ge 124 ]; then
        why=" INTEROP_BREAK=$brk: no clean failure (exit $rc)"
    elif ! grep -Eq -- "$regex" "$log"; then
        why=" INTEROP_BREAK=$brk: failed, but not with /$regex/"
    else
        ok=1
    fi

    # The matrix row, from what the case reported.
    peer=$(sed -n 's/^INTEROP: peer=\([^ ]*\) .*$/\1/p' "$log" | head -n 1)
    [ -n "$peer" ] || peer=$(sed -n 's/^ *peer: \([a-z]*swan-[0-9.]*\)$/\1/p' "$log" | head -n 1)
    [ -n "$peer" ] || peer=$pname
    # The smoke run's "peer" is charon on both sides: say so.
    if [ -n "$smoke" ]; then peer="$peer-vs-itself(smoke)"; fi
    if grep -q '^INTEROP: ' "$log"; then
        prop="$suite${scen:+ +$scen}: $(sed -n 's/^INTEROP: .* ike=\([^ ]*\) esp=\([^ ]*\)$/\1 \/ \2/p' "$log" | head -n 1)"
    else
        prop="$suite (no SA)"
    fi
    [ -n "$brk" ] && prop="$suite, wrong PSK: must fail"
    arrow="tunneld->peer"
    [ "$dir" = peer-tunneld ] && arrow="peer->tunneld"
    if [ "$ok" = 1 ]; then res=PASS; else res=FAIL; fi
    printf '%s\t%s\t%s\t%s\n' "$peer" "$arrow" "$prop" "$res" >"$logs/.$label.row"

    if [ "$ok" = 1 ]; then
        echo "PASS $label ($(secs "$ms")s)${brk:+ (failed as it must with INTEROP_BREAK=$brk)}"
        [ "$keepall" = 1 ] || rm -rf "$keep"
        return 0
    fi
    echo "FAIL $label ($(secs "$ms")s)$why"
    if [ "$verbose" = 0 ]; then sed 's/^/    | /' "$log"; fi
    echo "    log: $log; VM files: $keep"
    return 1
}

pass=0 fail=0
declare -A running=()
interrupted() {
    local pid
    for pid in "${!running[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${!running[@]}"; do wait "$pid"; fail=$((fail + 1)); done
    echo "interop: interrupted"
    echo "interop: $pass passed, $fail failed"
    exit 130
}
trap interrupted INT TERM HUP

finish_one() {
    local pid rc label
    wait -n -p pid
    rc=$?
    label=${running[$pid]}
    unset "running[$pid]"
    if [ "$verbose" = 0 ]; then cat "$logs/.$label.report"; fi
    rm -f "$logs/.$label.report"
    if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

t_all=$(now_ms)
labels=()
for r in "${runs[@]}"; do
    read -r label pname dir suite brk scen regex <<<"$r"
    labels+=("$label")
    rm -f "$logs/.$label.row"
    while [ ${#running[@]} -ge "$jobs" ]; do finish_one; done
    if [ "$verbose" = 1 ]; then
        run_one "$label" "$pname" "$dir" "$suite" "$brk" "$scen" "$regex" &
    else
        run_one "$label" "$pname" "$dir" "$suite" "$brk" "$scen" "$regex" >"$logs/.$label.report" &
    fi
    running[$!]=$label
done
while [ ${#running[@]} -gt 0 ]; do finish_one; done

# The matrix, in the order of the runs, columns padded to fit.
rows=("peer	direction	proposal (IKE / ESP)	result")
for label in "${labels[@]}"; do
    if [ -s "$logs/.$label.row" ]; then rows+=("$(<"$logs/.$label.row")"); else rows+=("?	?	$label	FAIL"); fi
    rm -f "$logs/.$label.row"
done
w=(0 0 0)
for r in "${rows[@]}"; do
    IFS=$'\t' read -r c0 c1 c2 _ <<<"$r"
    [ ${#c0} -le "${w[0]}" ] || w[0]=${#c0}
    [ ${#c1} -le "${w[1]}" ] || w[1]=${#c1}
    [ ${#c2} -le "${w[2]}" ] || w[2]=${#c2}
done
echo
for r in "${rows[@]}"; do
    IFS=$'\t' read -r c0 c1 c2 c3 <<<"$r"
    printf '%-*s  %-*s  %-*s  %s\n' "${w[0]}" "$c0" "${w[1]}" "$c1" "${w[2]}" "$c2" "$c3"
done
echo
echo "interop: $((pass + fail)) runs in $(secs $(($(now_ms) - t_all))) s, $jobs at a time"
if [ -n "$smoke" ]; then
    # Not an interop result: no "interop: N passed" line for it.
    echo "smoke (charon vs charon, not an interop result): $pass ok, $fail not ok"
else
    echo "interop: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
