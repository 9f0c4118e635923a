#!/bin/bash
# Kilobyte lifetimes: only the kernel counts an SA's bytes, so tunneld must
# act on its XFRM_MSG_EXPIRE. With esp lifetime-kb 2560 (the minimum) on both
# A and B (IKEv2 does not negotiate lifetimes: each kernel counts against its
# own), ~3 MB across the GRE must make a kernel report the soft limit, its
# tunneld log it and rekey ("CHILD SA rekeyed" on both), with no ping lost
# and new SPIs in the kernel. Both kernels count the same bytes: each soft
# limit is 10-15 % short of the hard one, drawn apart (ikecore/lifetime.c),
# so one side usually gets there first and the other's expiry comes for an
# SA already replaced; when they are close both rekey at once and the two
# rekeys cross (RFC 7296 §2.8.1), which must lose nothing either (the
# number of rekeys each side logged is printed).
#
# Negative self-check: E2E_BREAK=nokb sets no kilobyte limit; then no
# kernel-driven rekey happens and the test must fail.
#
# e2e-timeout: 300
# e2e-break: nokb no kilobyte rekey
set -eu
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

BREAK=${E2E_BREAK:-}
case $BREAK in
'' | nokb) ;;
*) fail "unknown E2E_BREAK=$BREAK (known: nokb)" ;;
esac
kb=2560
[ "$BREAK" = nokb ] && kb=0
die() { dump_state A B; fail "$@"; }
# td_lines SITE STRING: SITE's log lines after the mark that contain STRING.
td_lines() { tail -n +$((${_TD_MARK[$1]:-0} + 1)) "$WORK/tunneld-$1.log" | grep -F -e "$2" || true; }

load_modules ip_gre esp4 xfrm_user
two_sites
site_file A "$WORK/a.yaml" --peer-opt "B=esp: { lifetime-kb: $kb }"
site_file B "$WORK/b.yaml" --peer-opt "A=esp: { lifetime-kb: $kb }"
tunneld_start A "$WORK/a.yaml"
tunneld_start B "$WORK/b.yaml"
pair_up A B 120 || die "no CHILD SA between A and B"
wait_for 30 pair_settled A B || die "A and B do not settle on one SA each way"
before=$(pair_sas A B A | tr '\n' ' ')
step "CHILD SA up: $before"

peer_in=$(ip -n B -4 -o addr show dev gre-a | awk '{print $4}' | cut -d/ -f1)
[ -n "$peer_in" ] || die "no inner address on B's gre-a"
tunneld_mark A
tunneld_mark B
step "~3 MB across the tunnel at ~35 kB/s (the 10-15 % soft margin must outlast a rekey) to $peer_in (1400-byte pings)"
out=$(ip netns exec A ping -n -q -s 1400 -i 0.04 -c 2200 -W 2 "$peer_in" 2>&1) || true
stats=$(grep 'packets transmitted' <<<"$out")
note "$stats"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$stats")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$stats")
[ -n "$sent" ] && [ "$sent" -eq 2200 ] || die "ping did not run: $out"

soft_seen() { tunneld_grep A "reached its soft byte/packet limit: rekeying" || tunneld_grep B "reached its soft byte/packet limit: rekeying"; }
wait_for 20 soft_seen || die "no kilobyte rekey: neither A nor B saw its kernel's soft limit"
for s in A B; do
    l=$(td_lines "$s" "reached its soft byte/packet limit: rekeying" | head -n 1)
    note "$s: ${l:-no soft limit of its own (the SA was replaced first)}"
done
tunneld_wait A 30 "b: CHILD SA rekeyed" || die "A never rekeyed"
tunneld_wait B 30 "a: CHILD SA rekeyed" || die "B never rekeyed"
wait_for 30 pair_settled A B || die "no single SA pair after the rekey"
after=$(pair_sas A B A | tr '\n' ' ')
[ "$after" != "$before" ] || die "the SPIs did not change: $after"
note "new SAs: $after; CHILD SA rekeyed: A $(td_lines A "b: CHILD SA rekeyed" | wc -l) times, B $(td_lines B "a: CHILD SA rekeyed" | wc -l) times"
[ "$recv" -eq "$sent" ] || die "$((sent - recv)) of $sent packets lost across the kilobyte rekey"
step "PASS kb_lifetime: kernel soft limit -> rekey, $recv/$sent pings back"
