#!/bin/bash
# Interop matrix: tunneld against real IKE implementations, each case in its
# own fresh VM (tests/vm/vmrun). `make interop`; part of `make check`.
#
#   tests/interop/run.sh [-v] [-j N] [--no-break] [--smoke] [CASE...]
#
# Cases (tests/interop/strongswan.sh DIRECTION SUITE): tunneld against
# strongSwan's charon, tunneld initiating (tunneld-peer) and charon
# initiating (peer-tunneld, tunneld --passive), for the default profile's
# proposals (default; default-x25519: the same with charon preferring
# Curve25519) and AES-CBC-256/HMAC-SHA2-256/MODP-2048 (cbc). CASE
# selects some, as DIRECTION/SUITE (e.g. tunneld-peer/cbc).
# Plus a negative self-check (--no-break skips it; with CASEs, only "@psk"
# selects it): tunneld-peer/default with another PSK for charon, which must
# fail with an authentication failure, proving that the case can fail.
#
# -j N runs N VMs at once (default: one per core, $INTEROP_JOBS overrides),
# one vCPU each; -v streams each case's output (and implies -j 1).
# --smoke: charon against charon (INTEROP_SMOKE=charon), which checks the
# scaffolding only; it is never counted as an interop result.
#
# Prints "PASS|FAIL label (Ns)" as cases finish (a failure with its log),
# then the matrix "peer direction proposal result" (proposal: the IKE / ESP
# suites charon reports for the SAs it established), and last
# "interop: N passed, M failed". Exit status 0 only if nothing failed.
# Logs: build/interop/LABEL.log; a failed case's VM files (console.log,
# output, work/ with tunneld.log, charon.log, wan.pcap) in build/interop/LABEL/.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
vmrun=$repo/tests/vm/vmrun
logs=$repo/build/interop
timeout=${INTEROP_TIMEOUT:-240}

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
verbose=0 breaks=1 smoke="" jobs=${INTEROP_JOBS:-$(nproc 2>/dev/null || echo 1)}
sel=()
while [ $# -gt 0 ]; do
    case $1 in
    -v | --verbose) verbose=1 ;;
    -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    --no-break) breaks=0 ;;
    --smoke) smoke=charon ;;
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

# The runs: "label direction suite break regex".
all_cases=(tunneld-peer/default peer-tunneld/default tunneld-peer/cbc peer-tunneld/cbc
    tunneld-peer/default-x25519 peer-tunneld/default-x25519)
selfcheck=$breaks
if [ ${#sel[@]} -gt 0 ]; then
    # A selection runs the self-check only when it names it.
    selfcheck=0
    for i in "${!sel[@]}"; do
        if [ "${sel[$i]}" = @psk ]; then selfcheck=1; unset "sel[$i]"; fi
    done
else
    sel=("${all_cases[@]}")
fi
runs=()
for c in "${sel[@]}"; do
    case " ${all_cases[*]} " in *" $c "*) ;; *)
        echo "interop: unknown case $c (known: ${all_cases[*]})" >&2
        exit 2
        ;;
    esac
    runs+=("strongswan-${c%/*}-${c#*/} ${c%/*} ${c#*/} - -")
done
# The self-check: a wrong PSK must end in an authentication failure, in the
# case's own FAIL line (tunneld's "negotiation failed: AUTHENTICATION_FAILED",
# or, in the smoke run, the AUTHENTICATION_FAILED notify charon A received).
if [ "$selfcheck" = 1 ]; then
    runs+=("strongswan-tunneld-peer-default@psk tunneld-peer default psk ^FAIL:.*(AUTHENTICATION_FAILED|AUTH_FAILED)")
fi
if [ -n "$smoke" ]; then logs=$logs/smoke; fi

# Preconditions on the host (the VM sees the host's files).
pre=()
[ -x /usr/lib/ipsec/charon ] && command -v swanctl >/dev/null ||
    pre+=("strongSwan is not installed (scripts/deps.sh)")
if [ -z "$smoke" ] && [ ! -x "$repo/tunneld/tunneld" ]; then
    pre+=("no tunneld/tunneld (make tunneld/tunneld)")
fi
if [ ${#pre[@]} -gt 0 ]; then
    for p in "${pre[@]}"; do echo "interop: $p" >&2; done
    echo "interop: 0 passed, ${#runs[@]} failed"
    exit 1
fi

mkdir -p "$logs"
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100))"; }

# run_one LABEL DIRECTION SUITE BREAK REGEX: one VM; writes LOGS/.LABEL.row
# ("peer<TAB>direction<TAB>proposal<TAB>result") and prints its PASS/FAIL
# line. Exit status 0 for PASS. Runs as a background job.
run_one() {
    local label=$1 dir=$2 suite=$3 brk=$4 regex=$5
    local log=$logs/$label.log keep=$logs/$label t0 rc ok=0 ms why="" vm
    local peer prop arrow res
    [ "$brk" = - ] && brk=""
    rm -rf "$keep" "$log"
    t0=$(now_ms)
    (
        unset INTEROP_BREAK INTEROP_SMOKE
        export VMRUN_ENV="${VMRUN_ENV:-} INTEROP_BREAK INTEROP_SMOKE"
        export INTEROP_BREAK=$brk INTEROP_SMOKE=$smoke
        cd "$repo" && exec "$vmrun" --timeout "$timeout" --keep "$keep" \
            "$here/strongswan.sh" "$dir" "$suite"
    ) >"$log" 2>&1 &
    vm=$!
    trap 'kill -TERM "$vm" 2>/dev/null; wait "$vm"; echo "FAIL $label (interrupted)"; exit 1' TERM
    if [ "$verbose" = 1 ]; then
        echo "--- $label"
        tail -n +1 -s 0.2 -f --pid="$vm" "$log" &
    fi
    wait "$vm"
    rc=$?
    wait
    ms=$(($(now_ms) - t0))

    if [ -z "$brk" ]; then
        [ "$rc" -eq 0 ] && grep -q '^INTEROP: ' "$log" && ok=1
        [ "$rc" -eq 0 ] && [ "$ok" = 0 ] && why=" (exit 0 without an INTEROP: line)"
        [ "$rc" -eq 124 ] && why=" timed out after $timeout s"
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
    [ -n "$peer" ] || peer=$(sed -n 's/^ *peer: \(strongswan-[0-9.]*\)$/\1/p' "$log" | head -n 1)
    [ -n "$peer" ] || peer=strongswan
    # The smoke run's "peer" is charon on both sides: say so.
    if [ -n "$smoke" ]; then peer="$peer-vs-itself(smoke)"; fi
    if grep -q '^INTEROP: ' "$log"; then
        prop=$(sed -n 's/^INTEROP: .* ike=\([^ ]*\) esp=\([^ ]*\)$/\1 \/ \2/p' "$log" | head -n 1)
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
        rm -rf "$keep"
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
    read -r label dir suite brk regex <<<"$r"
    labels+=("$label")
    rm -f "$logs/.$label.row"
    while [ ${#running[@]} -ge "$jobs" ]; do finish_one; done
    if [ "$verbose" = 1 ]; then
        run_one "$label" "$dir" "$suite" "$brk" "$regex" &
    else
        run_one "$label" "$dir" "$suite" "$brk" "$regex" >"$logs/.$label.report" &
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
