# shellcheck shell=bash
# The "rekey" scenario of strongswan.sh: after the case's own checks, a ping
# flow across the GRE /31 (A -> B, >= 50 packets/s) while the CHILD SA is
# rekeyed REKEY_CHILD times, by tunneld and charon in turn (tunneld's
# control socket "clear-sa"; `swanctl --rekey --child gre`), and the IKE SA
# twice, once by each (`rekey-ike`; `swanctl --rekey --ike tunneld`; for
# IKEv1 charon's is a reauthentication: a new Main Mode, make-before-break).
# Each rekey is waited for: charon shows a new INSTALLED CHILD SA (or IKE
# SA) and tunneld logged it, with the SPIs matching. Passes only with no
# echo request lost, the flow >= 50 packets/s, and, after tunneld's 10 s
# grace period, A's kernel holding exactly the ESP states of charon's
# current CHILD SA. Source after lib-interop.sh and tests/vm/flow.sh.

REKEY_CHILD=${REKEY_CHILD:-6}
REKEY_MIN_RATE=50
REKEY_GRACE_S=10  # tunneld's REKEY_GRACE_MS
REKEY_SLACK_S=4   # TCG under a flow: late timers

# charon_child: "SPI_IN SPI_OUT" (charon's view: in = A -> B) of its newest
# INSTALLED CHILD SA; charon_ike: its newest ESTABLISHED IKE SA's initiator SPI.
charon_child() {
    swan B --list-sas --raw 2>/dev/null |
        grep -o 'state=INSTALLED [^}]*spi-in=[0-9a-f]* spi-out=[0-9a-f]*' | tail -n 1 |
        sed 's/.*spi-in=\([0-9a-f]*\) spi-out=\([0-9a-f]*\)/0x\1 0x\2/'
}
charon_ike() {
    swan B --list-sas --raw 2>/dev/null | grep -o 'state=ESTABLISHED [^{]*initiator-spi=[0-9a-f]*' |
        tail -n 1 | sed 's/.*initiator-spi=//'
}
# td_since LINE_NO STRING: tunneld logged STRING after line LINE_NO.
td_since() { tail -n +$(($1 + 1)) "$WORK/A/tunneld.log" | grep -q -- "$2"; }
td_lines() { wc -l <"$WORK/A/tunneld.log"; }

# _child_rekeyed OLD MARK: charon has a CHILD SA other than OLD and tunneld
# logged its rekey after MARK, with the same SPIs.
_child_rekeyed() {
    local now
    now=$(charon_child)
    [ -n "$now" ] && [ "$now" != "$1" ] || return 1
    td_since "$2" "$PEER: CHILD SA rekeyed" || return 1
    # tunneld's in is charon's out.
    tail -n +$(($2 + 1)) "$WORK/A/tunneld.log" | grep "$PEER: CHILD SA rekeyed" | tail -n 1 |
        grep -qi "in ${now#* } out ${now%% *}"
}
_ike_rekeyed() {
    local now
    now=$(charon_ike)
    [ -n "$now" ] && [ "$now" != "$1" ] && td_since "$2" "$PEER: IKE SA up"
}

# td_request CMD: tunneld acted on its peer (ikecore refuses while a request
# is out, e.g. the previous rekey's DELETE: callers retry).
td_request() { ctl A "{\"cmd\":\"$1\"}" 2>/dev/null | grep -q '"cleared":\[{'; }

rekey_child() {
    local i=$1 by=$2 old mark t0
    old=$(charon_child) mark=$(td_lines) t0=$(_ms)
    flow_event "CHILD rekey $i by $by"
    if [ "$by" = tunneld ]; then
        wait_for 20 td_request clear-sa || fail "rekey $i: tunneld's clear-sa was not acted on"
    else
        swan B --rekey --child gre >"$WORK/B/rekey-$i.log" 2>&1 || fail "rekey $i: swanctl --rekey --child: $(tail -n 2 "$WORK/B/rekey-$i.log")"
    fi
    wait_for 40 _child_rekeyed "$old" "$mark" ||
        fail "CHILD rekey $i by $by: charon $(charon_child) (was $old); tunneld: $(tail -n +$((mark + 1)) "$WORK/A/tunneld.log" | grep -m3 "$PEER: " | tr '\n' ';')"
    flow_event "CHILD rekey $i by $by done: charon $(charon_child)"
    note "CHILD rekey $i by $by: $old -> $(charon_child) ($(($(_ms) - t0)) ms)"
}

rekey_ike() {
    local by=$1 old mark t0
    old=$(charon_ike) mark=$(td_lines) t0=$(_ms)
    flow_event "IKE rekey by $by"
    if [ "$by" = tunneld ]; then
        wait_for 20 td_request rekey-ike || fail "IKE rekey: tunneld's rekey-ike was not acted on"
    else
        swan B --rekey --ike tunneld >"$WORK/B/rekey-ike.log" 2>&1 || fail "swanctl --rekey --ike: $(tail -n 2 "$WORK/B/rekey-ike.log")"
    fi
    wait_for 60 _ike_rekeyed "$old" "$mark" || fail "IKE rekey by $by: charon's IKE SA $(charon_ike) (was $old), tunneld: $(tail -n +$((mark + 1)) "$WORK/A/tunneld.log" | grep -m3 "$PEER: " | tr '\n' ';')"
    flow_event "IKE rekey by $by done: $old -> $(charon_ike)"
    note "IKE rekey by $by: $old -> $(charon_ike) ($(($(_ms) - t0)) ms)"
}

# a_only SPI_IN SPI_OUT (charon's view): A's kernel has exactly these two ESP states.
a_only() {
    local st
    st=$(xfrm_states A)
    [ "$(grep -c . <<<"$st")" -eq 2 ] && grep -q " $1 " <<<"$st" && grep -q " $2 " <<<"$st"
}

rekey_under_load() {
    local i by cur
    step "rekeys under load: a flow A -> $IN_B, $REKEY_CHILD CHILD rekeys and 2 IKE rekeys"
    flow_start A "$IN_B" 3  # 3 side by side: 2 made 53 packets/s under TCG, near the bound
    by=tunneld
    for i in $(seq 1 "$REKEY_CHILD"); do
        rekey_child "$i" "$by"
        sleep 1
        [ "$i" -eq 2 ] && { rekey_ike tunneld; sleep 1; }
        [ "$i" -eq 4 ] && { rekey_ike charon; sleep 1; }
        if [ "$by" = tunneld ]; then by=charon; else by=tunneld; fi
    done
    cur=$(charon_child)
    # shellcheck disable=SC2086 # "in out"
    wait_for $((REKEY_GRACE_S + REKEY_SLACK_S)) a_only $cur ||
        problems+=("$((REKEY_GRACE_S + REKEY_SLACK_S)) s after the last rekey A still holds other ESP states than charon's $cur: $(xfrm_states A | tr '\n' ';')")
    flow_stop
    step "flow: $FLOW_SENT packets sent, $FLOW_RECV received, $FLOW_LOST lost, in $FLOW_SECS s ($FLOW_RATE packets/s)"
    [ "$FLOW_SENT" -gt 0 ] || problems+=("no ping run finished")
    [ "$FLOW_RATE" -ge "$REKEY_MIN_RATE" ] || problems+=("the flow made $FLOW_RATE packets/s, below $REKEY_MIN_RATE")
    if [ "$FLOW_LOST" -ne 0 ]; then
        problems+=("$FLOW_LOST of $FLOW_SENT packets lost across the rekeys")
        flow_lost_report
        grep -E 'rekey|CHILD_SA|delet' "$WORK/B/charon.log" | tail -n 40
    fi
    grep -E "$PEER: (CHILD SA down|IKE SA down: [^r]|negotiation failed)" "$WORK/A/tunneld.log" &&
        problems+=("tunneld logged a failure during the rekeys")
    problems_report
}
