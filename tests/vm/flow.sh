# shellcheck shell=bash disable=SC2034 # FLOW_* are for the caller
# A continuous ping flow for the tests that must lose nothing while SAs
# change under it (rekeys, NAT mapping changes). Source after lib.sh.
#
#   flow_start NS DEST [FLOWS [INTERVAL [BATCH]]]
#   ... rekey, flush, ... (flow_event "what" marks the time of each step)
#   flow_stop            sets FLOW_SENT FLOW_RECV FLOW_LOST FLOW_RATE FLOW_RUNS
#   flow_lost_report     the lost sequence numbers next to the events
#
# FLOWS pings side by side (default 2: under TCG one `ping -i 0.02` makes
# ~30 packets/s), each running ping after ping of BATCH packets (default
# 500) until flow_stop: a run ends with its own "-W 5" wait, so a reply in
# flight at the end is not counted as lost, as it would be with SIGINT.

FLOW_EVENTS=()

flow_start() {
    local ns=$1 dst=$2 k
    _FLOW_N=${3:-2} _FLOW_IV=${4:-0.02} _FLOW_BATCH=${5:-500}
    rm -f "$WORK/flow.stop"
    _FLOW_PIDS=()
    _FLOW_T0=$(_ms)
    for k in $(seq 1 "$_FLOW_N"); do
        : >"$WORK/flow-$k.txt"
        _flow_one "$ns" "$dst" "$k" &
        _FLOW_PIDS+=($!)
        sleep 0.5 # staggered: a ping's start-up gap is covered by the others
    done
    wait_for 30 grep -q 'icmp_seq=' "$WORK/flow-1.txt" ||
        fail "the flow from $ns to $dst does not start: $(cat "$WORK/flow-1.txt")"
}

_flow_one() {
    while [ ! -e "$WORK/flow.stop" ]; do
        ip netns exec "$1" ping -n -D -i "$_FLOW_IV" -W 5 -c "$_FLOW_BATCH" "$2" >>"$WORK/flow-$3.txt" 2>&1 || true
    done
}

flow_event() { FLOW_EVENTS+=("$EPOCHREALTIME $*"); }

flow_stop() {
    local p k t r ms
    touch "$WORK/flow.stop"
    for p in "${_FLOW_PIDS[@]}"; do wait "$p"; done
    ms=$(($(_ms) - _FLOW_T0))
    FLOW_SENT=0 FLOW_RECV=0 FLOW_RUNS=0
    for k in $(seq 1 "$_FLOW_N"); do
        while read -r t r; do
            FLOW_SENT=$((FLOW_SENT + t)) FLOW_RECV=$((FLOW_RECV + r)) FLOW_RUNS=$((FLOW_RUNS + 1))
        done < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$WORK/flow-$k.txt")
    done
    FLOW_LOST=$((FLOW_SENT - FLOW_RECV))
    FLOW_RATE=$((FLOW_SENT * 1000 / (ms > 0 ? ms : 1)))
    FLOW_SECS=$((ms / 1000))
}

# Per ping run: each sequence number without a reply, between the times of
# the replies around it; then the events.
flow_lost_report() {
    local k
    echo "--- lost echo requests (flow: icmp_seq, between the replies at), and the events"
    for k in $(seq 1 "$_FLOW_N"); do
        # shellcheck disable=SC2016 # awk's $
        awk -v k="$k" '
            function flush(  s, b, a) {
                for (s = 1; s <= sent; s++) if (!(s in got)) {
                    b = ""; a = ""
                    for (x = s - 1; x >= 1 && b == ""; x--) if (x in got) b = got[x]
                    for (x = s + 1; x <= sent && a == ""; x++) if (x in got) a = got[x]
                    printf "    flow %d run %d: icmp_seq=%d lost (between %s and %s)\n", k, run, s, b, a
                }
                delete got
            }
            /icmp_seq=/ && /bytes from/ { t = $1; gsub(/[][]/, "", t); q = $0; sub(/.*icmp_seq=/, "", q); sub(/ .*/, "", q); got[q + 0] = t }
            /packets transmitted/ { run++; sent = $1; flush() }' "$WORK/flow-$k.txt"
    done | head -n 60
    printf '    %s\n' "${FLOW_EVENTS[@]}"
}
