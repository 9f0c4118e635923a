#!/bin/bash
# Kilobyte lifetimes: only the kernel counts an SA's bytes, so tunneld must
# act on its XFRM_MSG_EXPIRE. With esp lifetime-kb 2560 (the minimum) on A
# (B has none: IKEv2 does not negotiate lifetimes, so only A's kernel
# counts; both sides reaching theirs at once is a rekey collision, which is
# another test's business), ~3 MB across the GRE must make A's kernel report
# the soft limit, A log it and rekey ("CHILD SA rekeyed" on both), with no
# ping lost and new SPIs in the kernel.
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

load_modules ip_gre esp4 xfrm_user
two_sites
site_file A "$WORK/a.yaml" --peer-opt "B=esp: { lifetime-kb: $kb }"
site_file B "$WORK/b.yaml"
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
step "~3 MB across the tunnel at ~35 kB/s (the 10% soft margin must outlast a rekey) to $peer_in (1400-byte pings)"
out=$(ip netns exec A ping -n -q -s 1400 -i 0.04 -c 2200 -W 2 "$peer_in" 2>&1) || true
stats=$(grep 'packets transmitted' <<<"$out")
note "$stats"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$stats")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$stats")
[ -n "$sent" ] && [ "$sent" -eq 2200 ] || die "ping did not run: $out"

tunneld_wait A 20 "reached its soft byte/packet limit: rekeying" ||
    die "no kilobyte rekey: A never saw the kernel's soft limit"
note "A: the kernel's soft limit seen, rekeying"
tunneld_wait A 30 "b: CHILD SA rekeyed" || die "A never rekeyed"
tunneld_wait B 30 "a: CHILD SA rekeyed" || die "B never rekeyed"
wait_for 30 pair_settled A B || die "no single SA pair after the rekey"
after=$(pair_sas A B A | tr '\n' ' ')
[ "$after" != "$before" ] || die "the SPIs did not change: $after"
note "new SAs: $after"
[ "$recv" -eq "$sent" ] || die "$((sent - recv)) of $sent packets lost across the kilobyte rekey"
step "PASS kb_lifetime: kernel soft limit -> rekey, $recv/$sent pings back"
