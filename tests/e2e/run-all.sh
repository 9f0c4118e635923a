#!/bin/bash
# Runs the end-to-end tests, each in its own fresh VM (tests/vm/vmrun).
#
#   tests/e2e/run-all.sh [-v] [-j N] [--no-break] [NAME...]
#
# A test is any tests/e2e/NAME.sh except this file and demo.sh (run by
# `make demo`); helpers live in tests/vm/. NAMEs select tests (default: all).
# -j N runs N VMs at once (default: one per CPU core, $E2E_JOBS overrides).
# -v streams each test's output (and implies -j 1); otherwise the output is
# shown only when a test fails.
# Logs: build/e2e/NAME.log; a failed test's VM files (console.log, output,
# pcaps in work/) stay in build/e2e/NAME/.
#
# Headers a test may carry (comment lines anywhere in the file):
#   # e2e-timeout: SECONDS     per-test limit (default $E2E_TIMEOUT or 180)
#   # e2e-break: MODE REGEX    negative self-check: run the test again with
#                              E2E_BREAK=MODE; it must fail (exit 1..123)
#                              with output matching REGEX (grep -E), which
#                              proves that its checks can fail.
#                              --no-break skips these runs.
#
# One line per run, "PASS name (Ns)" or "FAIL name (Ns)", in the order they
# finish; the last line is always "e2e: N passed, M failed"; the exit status
# is 0 only if nothing failed.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
vmrun=$repo/tests/vm/vmrun
logs=$repo/build/e2e
default_timeout=${E2E_TIMEOUT:-180}

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
verbose=0 breaks=1 jobs=${E2E_JOBS:-$(nproc 2>/dev/null || echo 1)}
names=()
while [ $# -gt 0 ]; do
    case $1 in
    -v | --verbose) verbose=1 ;;
    -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    --no-break) breaks=0 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "run-all: unknown option $1" >&2; exit 2 ;;
    *) names+=("${1%.sh}") ;;
    esac
    shift
done
case $jobs in '' | *[!0-9]* | 0) echo "run-all: -j wants a positive number" >&2; exit 2 ;; esac
[ "$verbose" = 1 ] && jobs=1
# TCG runs each virtual CPU on a host thread, and these tests keep about one
# busy: on this 2-core machine two 1-CPU VMs side by side finish in 2/3 of the
# time of two 2-CPU VMs one after the other, while two 2-CPU VMs side by side
# are slower than either. So: in parallel, one CPU per VM.
if [ "$jobs" -gt 1 ] && [ -z "${VM_SMP:-}" ]; then export VM_SMP=1; fi

# The test list.
tests=()
for f in "$here"/*.sh; do
    n=$(basename "$f" .sh)
    case $n in run-all | demo) continue ;; esac
    tests+=("$n")
done
if [ ${#names[@]} -gt 0 ]; then
    for n in "${names[@]}"; do
        case $n in
        run-all | demo | */*) echo "run-all: $n is not an e2e test" >&2; exit 2 ;;
        esac
        if [ ! -f "$here/$n.sh" ]; then
            echo "run-all: no test named $n in tests/e2e" >&2
            exit 2
        fi
    done
    tests=("${names[@]}")
fi

mkdir -p "$logs"

# header FILE KEY: the values of "# KEY: value" lines, one per line.
header() { sed -n "s/^# $2: *//p" "$1"; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100))"; }

# run_one LABEL FILE TIMEOUT [BREAK_MODE BREAK_REGEX]
# Runs one VM; prints "PASS label (Ns)" or "FAIL label (Ns) why" and, for a
# failure, the log. Exit status 0 for PASS. Runs as a background job.
run_one() {
    local label=$1 file=$2 timeout=$3 mode=${4:-} regex=${5:-}
    local log=$logs/$label.log keep=$logs/$label t0 rc ok ms why="" vm
    rm -rf "$keep" "$log"
    : >"$log" # before the job starts: the -v tail below opens it at once
    t0=$(now_ms)
    (
        # A stray E2E_BREAK in the caller's environment must not turn a
        # normal run into a broken one.
        unset E2E_BREAK
        if [ -n "$mode" ]; then
            export E2E_BREAK=$mode
            export VMRUN_ENV="${VMRUN_ENV:-} E2E_BREAK"
        fi
        cd "$repo" && exec "$vmrun" --timeout "$timeout" --keep "$keep" "$file"
    ) >"$log" 2>&1 &
    vm=$!
    # Interrupted (see below): stop our vmrun, which stops its VM and keeps
    # its files.
    trap 'kill -TERM "$vm" 2>/dev/null; wait "$vm"; echo "FAIL $label (interrupted)"; exit 1' TERM
    if [ "$verbose" = 1 ]; then
        echo "--- $label"
        tail -n +1 -s 0.2 -f --pid="$vm" "$log" &
    fi
    wait "$vm"
    rc=$?
    wait # the tail, if any
    ms=$(($(now_ms) - t0))
    echo "$ms" >"$logs/.$label.ms"

    ok=0
    if [ -z "$mode" ]; then
        [ "$rc" -eq 0 ] && ok=1
        [ "$rc" -eq 124 ] && why=" timed out after $timeout s"
    elif [ "$rc" -eq 0 ]; then
        why=" E2E_BREAK=$mode: the test passed, but it must fail"
    elif [ "$rc" -ge 124 ]; then
        why=" E2E_BREAK=$mode: no clean failure (exit $rc)"
    elif ! grep -Eq -- "$regex" "$log"; then
        why=" E2E_BREAK=$mode: failed, but its output does not match /$regex/"
    else
        ok=1
    fi

    if [ "$ok" = 1 ]; then
        echo "PASS $label ($(secs "$ms")s)${mode:+ (failed as it must with E2E_BREAK=$mode)}"
        rm -rf "$keep"
        return 0
    fi
    echo "FAIL $label ($(secs "$ms")s)$why"
    if [ "$verbose" = 0 ]; then sed 's/^/    | /' "$log"; fi
    echo "    log: $log; VM files: $keep"
    return 1
}

# All runs: each test, then its negative self-checks, as
# "label<TAB>test<TAB>mode<TAB>regex" lines. Longest first (by the last
# run's time; new ones count as longest), so parallel runs finish together.
prev() { cat "$logs/.$1.ms" 2>/dev/null || echo 999999999; }
runs=()
while IFS= read -r line; do runs+=("$line"); done < <(
    for n in "${tests[@]}"; do
        f=$here/$n.sh
        printf '%s\t%s\t%s\t\t\n' "$(prev "$n")" "$n" "$n"
        if [ "$breaks" = 1 ]; then
            header "$f" e2e-break | while read -r mode regex; do
                [ -n "$mode" ] || continue
                printf '%s\t%s\t%s\t%s\t%s\n' "$(prev "$n@$mode")" "$n@$mode" "$n" "$mode" "$regex"
            done
        fi
    done | sort -t "$(printf '\t')" -k1,1nr | cut -f2-
)

pass=0 fail=0
declare -A running=() # pid -> label

# Ctrl-C reaches us (the jobs ignore SIGINT: they run in the background of a
# non-interactive shell); TERM the jobs, which stop their VMs.
interrupted() {
    local pid
    for pid in "${!running[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${!running[@]}"; do
        wait "$pid"
        if [ "$verbose" = 0 ]; then head -n 1 "$logs/.${running[$pid]}.report"; fi
        fail=$((fail + 1))
    done
    echo "run-all: interrupted"
    echo "e2e: $pass passed, $fail failed"
    exit 130
}
trap interrupted INT TERM HUP

# finish_one: wait for any job, print its report, count it.
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
for r in "${runs[@]}"; do
    IFS=$'\t' read -r label n mode regex <<<"$r"
    f=$here/$n.sh
    timeout=$(header "$f" e2e-timeout | head -n 1)
    case $timeout in '' | *[!0-9]*) timeout=$default_timeout ;; esac
    while [ ${#running[@]} -ge "$jobs" ]; do finish_one; done
    if [ "$verbose" = 1 ]; then
        run_one "$label" "$f" "$timeout" "$mode" "$regex" &
    else
        run_one "$label" "$f" "$timeout" "$mode" "$regex" >"$logs/.$label.report" &
    fi
    running[$!]=$label
done
while [ ${#running[@]} -gt 0 ]; do finish_one; done

echo "run-all: $((pass + fail)) runs in $(secs $(($(now_ms) - t_all))) s, $jobs at a time"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
