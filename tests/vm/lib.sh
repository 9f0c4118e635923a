# shellcheck shell=bash
# Helpers for test scripts that run *inside* a vmrun VM (tests/e2e/*.sh).
#
#   . "$(dirname "$0")/../vm/lib.sh"
#
# Everything here builds network namespaces inside the throw-away VM; nothing
# is cleaned up because the VM is discarded. Sourcing this file outside a
# vmrun guest aborts: these helpers would otherwise reconfigure the host.
#
# Naming used by two_sites (documentation address ranges, all traffic stays
# inside the VM):
#
#   A-lan (10.1.0.10) --br-lan-- A (10.1.0.1)  wan0 192.0.2.1 ====
#                                                                  || veth "WAN"
#   B-lan (10.2.0.10) --br-lan-- B (10.2.0.1)  wan0 192.0.2.2 ====
#
# three_sites puts A, B and C (10.3.0.0/24 behind 192.0.2.3) on a bridge
# br-wan in a namespace "wan" instead (each site's WAN is still its wan0).
# nat_sites puts B behind a NAT router N (picture there).
#
# Files a test writes to $WORK (pcaps, logs) live in the job dir, so vmrun
# keeps them with console.log and output when the test fails.

if ! grep -qw vmrun=1 /proc/cmdline 2>/dev/null; then
    echo "lib.sh: not inside a vmrun VM; run this test with tests/vm/vmrun" >&2
    exit 2
fi

WORK=/job/work
mkdir -p "$WORK"
# The guest's /dev is a bare devtmpfs: no /dev/fd, which bash's process
# substitution (`done < <(cmd)`, `diff <(a) <(b)`) needs.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

# The checkout (the same path inside the VM as on the host).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

# Addresses of two_sites / three_sites, for the tests to use by name.
WAN_A=192.0.2.1 WAN_B=192.0.2.2 WAN_C=192.0.2.3 WAN_PLEN=24
LAN_A_GW=10.1.0.1 LAN_A_HOST=10.1.0.10 LAN_A_NET=10.1.0.0/24
LAN_B_GW=10.2.0.1 LAN_B_HOST=10.2.0.10 LAN_B_NET=10.2.0.0/24
LAN_C_GW=10.3.0.1 LAN_C_HOST=10.3.0.10 LAN_C_NET=10.3.0.0/24
export WAN_A WAN_B WAN_C WAN_PLEN LAN_A_GW LAN_A_HOST LAN_A_NET LAN_B_GW LAN_B_HOST LAN_B_NET
export LAN_C_GW LAN_C_HOST LAN_C_NET
# The same by site name (site_file, frr_start callers): site_wan A, ...
site_wan() { local v=WAN_$1; echo "${!v}"; }
site_lan() { local v=LAN_$1_NET; echo "${!v}"; }
site_gw() { local v=LAN_$1_GW; echo "${!v}"; }
site_host() { local v=LAN_$1_HOST; echo "${!v}"; }
# site_peer_addr SITE: where the other sites reach SITE: its WAN address, or
# with a NAT in front of it (nat_sites) the NAT's public one (PUB_SITE).
site_peer_addr() { local v=PUB_$1; echo "${!v:-$(site_wan "$1")}"; }
# The sites the topology helpers built (site_file's default peers).
SITES=()

# --- reporting ---------------------------------------------------------------

# fail MSG...: print and exit 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# step MSG...: a timestamped progress line (guest uptime: under TCG it shows
# where the time goes).
step() {
    local up
    read -r up _ </proc/uptime
    printf '[%8ss] == %s\n' "$up" "$*"
}

# note MSG...: an indented detail line.
note() { printf '            %s\n' "$*"; }

# --- waiting -----------------------------------------------------------------

_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# wait_for TIMEOUT CMD...: run CMD every 0.1 s until it succeeds; return 1 if
# TIMEOUT seconds pass first. Under TCG everything is 10-50x slower than on
# real hardware, so give generous timeouts; polling keeps the fast path fast.
wait_for() {
    local timeout=$1 deadline
    shift
    deadline=$(($(_ms) + timeout * 1000))
    until "$@"; do
        [ "$(_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# --- kernel ------------------------------------------------------------------

# load_modules MOD...: modprobe each (the VM loads nothing by default).
load_modules() {
    local m
    for m in "$@"; do
        modprobe "$m" || fail "modprobe $m"
    done
}

# --- namespaces --------------------------------------------------------------

# ns NAME CMD...: run CMD in namespace NAME. (For `ip` itself prefer
# `ip -n NAME`: no extra exec, which costs ~0.1 s under TCG.)
ns() {
    local n=$1
    shift
    ip netns exec "$n" "$@"
}

# netns_add NAME [forward]: a namespace with lo up; "forward" turns on IPv4
# forwarding (a router, i.e. a site).
netns_add() {
    ip netns add "$1" || fail "ip netns add $1"
    ip -n "$1" link set lo up
    if [ "${2:-}" = forward ]; then
        ip netns exec "$1" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
    fi
}

# veth_link NS1 IF1 ADDR1/PLEN NS2 IF2 ADDR2/PLEN: a veth pair between two
# namespaces, addressed and up.
veth_link() {
    local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
    ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
        fail "veth $ns1/$if1 - $ns2/$if2"
    ip -n "$ns1" addr add "$a1" dev "$if1"
    ip -n "$ns2" addr add "$a2" dev "$if2"
    ip -n "$ns1" link set "$if1" up
    ip -n "$ns2" link set "$if2" up
}

# lan_add SITE GW/PLEN HOSTNS HOST/PLEN: a LAN bridge br-lan in SITE with
# address GW, and a host namespace HOSTNS plugged into it (eth0 = HOST,
# default route via GW).
lan_add() {
    local site=$1 gw=$2 hostns=$3 host=$4
    ip -n "$site" link add br-lan type bridge || fail "bridge in $site"
    ip -n "$site" addr add "$gw" dev br-lan
    ip -n "$site" link set br-lan up
    netns_add "$hostns"
    ip link add eth0 netns "$hostns" type veth peer name "p-$hostns" netns "$site" ||
        fail "veth $hostns - $site"
    ip -n "$site" link set "p-$hostns" master br-lan up
    ip -n "$hostns" addr add "$host" dev eth0
    ip -n "$hostns" link set eth0 up
    ip -n "$hostns" route add default via "${gw%/*}"
}

# two_sites: sites A and B (routers) on a veth WAN, each with a LAN and a
# host on it; see the picture at the top. Leaves the tunnel to the test.
two_sites() {
    netns_add A forward
    netns_add B forward
    veth_link A wan0 "$WAN_A/$WAN_PLEN" B wan0 "$WAN_B/$WAN_PLEN"
    lan_add A "$LAN_A_GW/24" A-lan "$LAN_A_HOST/24"
    lan_add B "$LAN_B_GW/24" B-lan "$LAN_B_HOST/24"
    SITES=(A B)
}

# three_sites: sites A, B and C, each with its LAN and LAN host like
# two_sites, their wan0s plugged into one bridge br-wan (namespace "wan",
# no address of its own). Capture on a site's wan0 to see its traffic.
three_sites() {
    local s
    netns_add wan
    ip -n wan link add br-wan type bridge || fail "bridge in wan"
    ip -n wan link set br-wan up
    for s in A B C; do
        netns_add "$s" forward
        ip link add wan0 netns "$s" type veth peer name "p-$s" netns wan ||
            fail "veth $s - wan"
        ip -n wan link set "p-$s" master br-wan up
        ip -n "$s" addr add "$(site_wan "$s")/$WAN_PLEN" dev wan0
        ip -n "$s" link set wan0 up
        lan_add "$s" "$(site_gw "$s")/24" "$s-lan" "$(site_host "$s")/24"
    done
    SITES=(A B C)
}

# nat_sites: hub A on the public WAN, spoke B behind a NAT router N:
#
#   A-lan -- A wan0 192.0.2.1 ==== pub0 192.0.2.2 N priv0 10.99.0.1 ==== wan0 10.99.0.2 B -- B-lan
#
# N masquerades what leaves pub0 (nftables, `masquerade random`: each new
# mapping gets a random public port, so `ns N conntrack -F` moves B's UDP
# 500/4500 to new ports). B's WAN_B is its private address; the others reach
# it at PUB_B (N's public address: site_file writes it as B's address).
nat_sites() {
    load_modules nf_conntrack nf_nat nf_tables nft_chain_nat nft_masq
    WAN_B=10.99.0.2 PUB_B=192.0.2.2 NAT_PRIV=10.99.0.1
    export WAN_B PUB_B NAT_PRIV
    netns_add A forward
    netns_add N forward
    netns_add B forward
    veth_link A wan0 "$WAN_A/$WAN_PLEN" N pub0 "$PUB_B/$WAN_PLEN"
    veth_link N priv0 "$NAT_PRIV/24" B wan0 "$WAN_B/24"
    ip -n B route add default via "$NAT_PRIV"
    # Like a home router, N answers nothing on its public side: a packet to a
    # port it has no mapping for is dropped, not answered with ICMP.
    ns N nft -f - <<'NFT' || fail "nftables masquerade in N"
table ip nat {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "pub0" masquerade random
    }
}
table ip filter {
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "pub0" meta l4proto udp drop
    }
}
NFT
    lan_add A "$LAN_A_GW/24" A-lan "$LAN_A_HOST/24"
    lan_add B "$LAN_B_GW/24" B-lan "$LAN_B_HOST/24"
    SITES=(A B)
}

# ping_ok NS DEST [COUNT]: COUNT pings (default 5), all must be answered.
# Prints ping's output (for the log) and fails the test otherwise.
ping_ok() {
    local n=$1 dst=$2 count=${3:-5} out
    out=$(ip netns exec "$n" ping -n -c "$count" -i 0.2 -W 3 "$dst" 2>&1) || true
    printf '%s\n' "$out" | tail -n 2 | sed 's/^/            /'
    printf '%s\n' "$out" | grep -q "^$count packets transmitted, $count received" ||
        fail "ping $dst from $n: not all $count answered"
}

# --- packet capture ----------------------------------------------------------

declare -A _CAP_PID=()

# capture_start NAME NS IFACE: capture everything on NS/IFACE into
# $WORK/NAME.pcap; returns once tcpdump is really listening.
# --immediate-mode: libpcap's default TPACKET_V3 ring hands packets over in
# blocks with a timeout, so the last packets could still sit in the kernel
# when we stop; immediate mode delivers each one at once. -U flushes each
# packet to the file. -Z root: Debian's tcpdump otherwise drops to user
# tcpdump, which may not write to $WORK.
capture_start() {
    local name=$1 n=$2 ifc=$3
    ip netns exec "$n" tcpdump -i "$ifc" -n -U --immediate-mode -Z root \
        -w "$WORK/$name.pcap" 2>"$WORK/$name.tcpdump.log" &
    _CAP_PID[$name]=$!
    wait_for 60 grep -q "listening on" "$WORK/$name.tcpdump.log" || {
        cat "$WORK/$name.tcpdump.log" >&2
        fail "tcpdump $name on $n/$ifc did not start"
    }
}

# capture_stop NAME: stop the capture and make sure nothing was lost: a packet
# the kernel handed to tcpdump but that never reached the file could be
# exactly the cleartext packet a test is looking for. None may be dropped;
# up to CAPTURE_LATE (2) may be counted "received" and not written: they
# came after the stop (libpcap counts the ring until it closes, and a WAN
# with OSPF over it is never quiet). The 0.5 s before the stop lets tcpdump
# write everything that came while the test was looking.
CAPTURE_LATE=2
capture_stop() {
    local name=$1 pid=${_CAP_PID[$1]} log=$WORK/$1.tcpdump.log
    local captured received dropped
    sleep 0.5
    kill -INT "$pid"
    wait "$pid" || fail "tcpdump $name exited with an error: $(cat "$log")"
    unset "_CAP_PID[$name]"
    captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$log")
    received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$log")
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$log")
    if [ -z "$captured" ] || [ -z "$received" ] || [ -z "$dropped" ]; then
        fail "tcpdump $name: no statistics in its log: $(cat "$log")"
    fi
    if [ "$dropped" -ne 0 ] || [ "$((received - captured))" -gt "$CAPTURE_LATE" ]; then
        fail "capture $name incomplete: $received packets received, $captured written, $dropped dropped"
    fi
}

# capture_count NAME [FILTER...]: how many packets in NAME.pcap match the
# pcap-filter expression (all packets without one).
capture_count() {
    local name=$1
    shift
    tcpdump -r "$WORK/$name.pcap" -n "$@" 2>/dev/null | wc -l
}

# capture_show NAME [FILTER...]: the decoded packets (for the log).
capture_show() {
    local name=$1
    shift
    tcpdump -r "$WORK/$name.pcap" -n -v "$@" 2>/dev/null | sed 's/^/    /'
}

# --- XFRM --------------------------------------------------------------------

# sa_packets NS SRC DST SPI: the kernel's packet counter of one ESP SA
# ("lifetime current: N(bytes), M(packets)" in `ip -s xfrm state`).
sa_packets() {
    # The counter under "lifetime current:", not a "limit: soft N(packets)"
    # above it (tunneld sets a soft packet limit before the sequence wraps).
    ip -n "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>/dev/null |
        sed -n '/lifetime current:/{n;s/^.* \([0-9]*\)(packets).*$/\1/p;}' | head -n 1
}

# xfrm_states NS: one line "SRC DST SPI REQID" per ESP state (nothing when
# there is none).
xfrm_states() {
    # shellcheck disable=SC2016 # awk's $2
    ip -n "$1" xfrm state 2>/dev/null | awk '
        $1 == "src" { src = $2; dst = $4 }
        $1 == "proto" && $2 == "esp" { print src, dst, $4, $6 }'
}

# --- FRR ---------------------------------------------------------------------

# frr_start SITE ROUTER_ID: zebra + ospfd in namespace SITE, pathspace SITE
# (vtysh -N SITE), from a base config with `router ospf` and
# `passive-interface default` (what tunneld expects to find); returns once
# ospfd answers. The daemons' start-up chatter goes to $WORK/frr-SITE.log,
# their log to /var/log/frr/SITE.log.
frr_start() {
    local s=$1 d
    mkdir -p "/etc/frr/$s" "/var/run/frr/$s" /var/log/frr
    cat >"/etc/frr/$s/frr.conf" <<CONF
frr defaults traditional
hostname $s
log file /var/log/frr/$s.log
router ospf
 ospf router-id $2
 passive-interface default
CONF
    touch "/etc/frr/$s/vtysh.conf"
    chown -R frr:frr "/etc/frr/$s" "/var/run/frr/$s" /var/log/frr
    for d in zebra ospfd; do
        ns "$s" /usr/lib/frr/$d -N "$s" -d -F traditional -f "/etc/frr/$s/frr.conf" \
            --vty_socket "/var/run/frr/$s" -i "/var/run/frr/$s/$d.pid" -z "/var/run/frr/$s/zserv.api" \
            2>>"$WORK/frr-$s.log" || { cat "$WORK/frr-$s.log" >&2; fail "$d did not start in $s"; }
    done
    wait_for 30 vtysh -N "$s" -c 'show ip ospf' >/dev/null || fail "FRR in $s not answering"
}

# frr_config SITE: FRR's running config, without the lines that say nothing
# (banner, "!", blank): two of them can be compared with diff.
frr_config() {
    vtysh -N "$1" -c 'show running-config' |
        grep -v -e '^Building configuration' -e '^Current configuration' -e '^!*$' -e '^end$'
}

# ospf_state SITE IFACE: the state (Full, Init, ...) of the OSPF neighbour on
# IFACE, from `show ip ospf neighbor`; nothing when there is none.
ospf_state() {
    # Neighbor ID Pri State Up-Time Dead-Time Address Interface RXmtL RqstL DBsmL
    # 10.2.0.1      1 Full/- 1.2s     3.7s   169.254.7.1 gre-b:169.254.7.0 0 0 0
    # shellcheck disable=SC2016 # awk's $3
    vtysh -N "$1" -c 'show ip ospf neighbor' 2>/dev/null |
        awk -v i="$2:" 'NF >= 10 && index($(NF - 3), i) == 1 { split($3, s, "/"); print s[1] }'
}

# ospf_full SITE IFACE: true when the neighbour on IFACE is Full.
ospf_full() { [ "$(ospf_state "$1" "$2")" = Full ]; }

# route_learned SITE PREFIX IFACE: the kernel of SITE has PREFIX from OSPF
# (zebra installed it) through IFACE.
route_learned() {
    local r
    r=$(ip -n "$1" route show "$2" 2>/dev/null)
    [[ $r == *"dev $3 proto ospf"* ]]
}

# --- tunneld -----------------------------------------------------------------
#
#   site_file A "$WORK/a.yaml"            # A's site file, one peer per other site
#   tunneld_start A "$WORK/a.yaml"        # in namespace A, log $WORK/tunneld-A.log
#   tunneld_wait A 90 "b: CHILD SA up" || fail "..."
#   tunneld_hup A; tunneld_wait A 30 "notice: reloaded"
#   tunneld_stop A                        # SIGTERM, returns tunneld's exit status
#
# Site and peer names in the files are the namespace names in lower case
# (namespace A is site "a", its tunnel to B is gre-b). The log of each site
# keeps every run of its daemon; tunneld_wait and tunneld_grep look only at
# the lines after the mark that tunneld_start / tunneld_mark / tunneld_hup set.

TUNNELD=${TUNNELD:-$REPO/tunneld/tunneld}
declare -A TUNNELD_PID=() _TD_MARK=()

lc() { echo "${1,,}"; }

# psk_for SITE1 SITE2: the pair's PSK (the same whichever order), 32 chars.
psk_for() {
    local a=${1,,} b=${2,,} k
    [[ $a < $b ]] || { k=$a a=$b b=$k; }
    k="e2e-$a-$b-0123456789abcdefghijklmnopqrstuvwxyz"
    echo "${k:0:32}"
}

# site_file SITE OUT [--psk PEER=KEY] [--hello N] [--dead N]
#           [--peer-opt PEER=YAML-LINE] [PEER...]
# Writes SITE's site file to OUT (mode 0600: inline PSKs): site name = SITE in
# lower case, wan = its WAN address, lan = its LAN prefix, one peer per PEER
# (namespace names; default: every other site of two_sites/three_sites/
# nat_sites) at its site_peer_addr with the pair's psk_for, unless --psk gives another. OSPF hello/dead default to
# 1/4 s: OSPF comes up in seconds instead of a minute. --peer-opt adds a
# line (e.g. "dpd: 20") under PEER. With TUNNEL_PROFILE set (the *_ikev1.sh
# variants of a test), every peer gets "profile: $TUNNEL_PROFILE" unless a
# --peer-opt names a profile itself; the lines above still override it.
site_file() {
    local s=$1 out=$2 hello=1 dead=4 p k
    shift 2
    local -A psk=() extra=()
    local peers=()
    while [ $# -gt 0 ]; do
        case $1 in
        --psk) p=${2%%=*} k=${2#*=}; psk[$p]=$k; shift 2 ;;
        --hello) hello=$2; shift 2 ;;
        --dead) dead=$2; shift 2 ;;
        --peer-opt) p=${2%%=*}; extra[$p]+="    ${2#*=}"$'\n'; shift 2 ;;
        -*) fail "site_file: unknown option $1" ;;
        *) peers+=("$1"); shift ;;
        esac
    done
    if [ ${#peers[@]} -eq 0 ]; then
        for p in "${SITES[@]}"; do [ "$p" = "$s" ] || peers+=("$p"); done
    fi
    [ -n "$(site_wan "$s")" ] || fail "site_file: unknown site $s"
    (
        umask 077
        echo "# $s: written by tests/vm/lib.sh site_file"
        echo "site:"
        echo "  name: $(lc "$s")"
        echo "  wan: $(site_wan "$s")"
        echo "  lan: $(site_lan "$s")"
        echo "peers:"
        for p in "${peers[@]}"; do
            [ -n "$(site_wan "$p")" ] || fail "site_file: unknown peer $p"
            echo "  $(lc "$p"):"
            echo "    address: $(site_peer_addr "$p")"
            echo "    psk: \"${psk[$p]:-$(psk_for "$s" "$p")}\""
            echo "    ospf: { hello: $hello, dead: $dead }"
            if [ -n "${TUNNEL_PROFILE:-}" ] && [[ ${extra[$p]:-} != *"profile:"* ]]; then
                echo "    profile: $TUNNEL_PROFILE"
            fi
            printf '%s' "${extra[$p]:-}"
        done
    ) >"$out" || fail "site_file $s: cannot write $out"
    chmod 600 "$out"
}

# ike_version: the IKE version the tunnels run, 1 or 2: the version of
# profiles/$TUNNEL_PROFILE.yaml, 2 without one (the default profile).
ike_version() {
    local v=""
    [ -z "${TUNNEL_PROFILE:-}" ] ||
        v=$(sed -n 's/^ *version: *\([12]\).*/\1/p' "$REPO/profiles/$TUNNEL_PROFILE.yaml")
    echo "${v:-2}"
}

# tunneld_sock SITE: SITE's control socket. Each daemon gets its own: two
# daemons in one VM must not share the default /run/tunneld/control (the
# second would take it over, and the first to stop would unlink it).
tunneld_sock() { echo "/run/tunneld/$1.sock"; }

# tunneld_start SITE FILE [ARGS...]: tunneld -c FILE --frr-pathspace SITE
# --control $(tunneld_sock SITE) ARGS in namespace SITE, in the background
# (TUNNELD_PID[SITE]), stdout and stderr appended to $WORK/tunneld-SITE.log;
# sets the mark at the new run.
tunneld_start() {
    local s=$1 f=$2 log=$WORK/tunneld-$1.log
    shift 2
    [ -x "$TUNNELD" ] || fail "$TUNNELD not built (make)"
    if [ -n "${TUNNELD_PID[$s]:-}" ] && _td_alive "${TUNNELD_PID[$s]}"; then
        fail "tunneld already runs in $s (pid ${TUNNELD_PID[$s]})"
    fi
    tunneld_mark "$s"
    echo "=== lib.sh: tunneld -c $f --frr-pathspace $s --control $(tunneld_sock "$s") $* (uptime $(cut -d' ' -f1 /proc/uptime))" >>"$log"
    tunneld_mark "$s"
    # `ip netns exec` execs tunneld: $! is tunneld itself, signals reach it.
    ip netns exec "$s" "$TUNNELD" -c "$f" --frr-pathspace "$s" --control "$(tunneld_sock "$s")" \
        "$@" </dev/null >>"$log" 2>&1 &
    TUNNELD_PID[$s]=$!
}

# _td_alive PID: the process exists and is not a zombie.
_td_alive() {
    local st
    [ -r "/proc/$1/stat" ] || return 1
    read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null || return 1
    [ "$st" != Z ]
}

# tunneld_running SITE: its tunneld (the last one started) still runs.
tunneld_running() { [ -n "${TUNNELD_PID[$1]:-}" ] && _td_alive "${TUNNELD_PID[$1]}"; }

# tunneld_mark SITE: tunneld_wait / tunneld_grep look only after this point.
tunneld_mark() {
    local n=0 _l log=$WORK/tunneld-$1.log
    if [ -f "$log" ]; then
        while IFS= read -r _l || [ -n "$_l" ]; do n=$((n + 1)); done <"$log"
    fi
    _TD_MARK[$1]=$n
}

# tunneld_grep SITE STRING: a line after the mark contains STRING (fixed
# string; pure bash, no exec: cheap to poll).
tunneld_grep() {
    local n=0 l mark=${_TD_MARK[$1]:-0} log=$WORK/tunneld-$1.log
    [ -f "$log" ] || return 1
    while IFS= read -r l || [ -n "$l" ]; do
        n=$((n + 1))
        [ "$n" -gt "$mark" ] && [[ $l == *"$2"* ]] && return 0
    done <"$log"
    return 1
}

# tunneld_log SITE [LINES]: the last LINES (default 40) of SITE's log, indented.
tunneld_log() {
    tail -n "${2:-40}" "$WORK/tunneld-$1.log" 2>/dev/null | sed "s/^/    $1| /"
}

_td_seen_or_dead() { tunneld_grep "$1" "$2" || ! tunneld_running "$1"; }
_td_gone() { ! _td_alive "$1"; }

# tunneld_wait SITE TIMEOUT STRING: wait until a line after the mark
# contains STRING. Returns 1 (after printing the log's tail to stderr) on
# timeout, or at once if the daemon exited without logging it.
tunneld_wait() {
    local s=$1 t=$2 str=$3
    wait_for "$t" _td_seen_or_dead "$s" "$str"
    tunneld_grep "$s" "$str" && return 0
    {
        if tunneld_running "$s"; then
            echo "tunneld in $s: no \"$str\" within $t s; its log:"
        else
            echo "tunneld in $s exited without logging \"$str\"; its log:"
        fi
        tunneld_log "$s"
    } >&2
    return 1
}

# tunneld_hup SITE: mark, then SIGHUP (reload the site file).
tunneld_hup() {
    tunneld_mark "$1"
    kill -HUP "${TUNNELD_PID[$1]}" || fail "tunneld in $1 is gone"
}

# tunneld_stop SITE [SIGNAL] [TIMEOUT]: send SIGNAL (default TERM), wait up to
# TIMEOUT s (default 30) for the daemon to exit; returns its exit status
# (128+N for a signal). Fails the test if it does not exit.
tunneld_stop() {
    local s=$1 sig=${2:-TERM} t=${3:-30} pid=${TUNNELD_PID[$1]:-} rc=0
    [ -n "$pid" ] || fail "tunneld_stop $s: not started"
    tunneld_mark "$s"
    kill -"$sig" "$pid" 2>/dev/null || true
    wait_for "$t" _td_gone "$pid" || {
        tunneld_log "$s" >&2
        fail "tunneld in $s still runs $t s after SIG$sig"
    }
    wait "$pid" || rc=$?
    return "$rc"
}

# ctl SITE JSON: send JSON (one request, docs/cli.md) to SITE's tunneld over
# its control socket and print the reply line. Returns 0 when the reply says
# "ok": true, 1 when it says false, 2 when there is no (valid) reply. A UNIX
# socket is a path, not in a network namespace: no `ip netns exec` needed.
# (python3: tunnelctl may not be built; -I -S: a faster start under TCG.)
ctl() {
    /usr/bin/python3 -I -S -c '
import json, socket, sys
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError as e:
    print("ctl: %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(2)
text = out.decode(errors="replace").strip()
print(text)
try:
    sys.exit(0 if json.loads(text).get("ok") is True else 1)
except ValueError:
    print("ctl: not a JSON reply", file=sys.stderr)
    sys.exit(2)
' "$(tunneld_sock "$1")" "$2"
}

# tunnel_inner SITE IFACE: "OURS THEIRS", the two ends of the /31 on IFACE.
tunnel_inner() {
    local a
    a=$(ip -n "$1" -o -4 addr show dev "$2" 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/31 .*/\1/p' | head -n 1)
    [ -n "$a" ] || return 1
    echo "$a ${a%.*}.$((${a##*.} ^ 1))"
}

# --- checks shared by the tunnel tests ---------------------------------------

# CLEARTEXT: a pcap filter for IPv4 on the WAN that is neither ESP nor IKE
# (UDP 500/4500): with tunneld's policies in place, nothing of that kind
# may cross the WAN between two sites (ARP and IPv6 are not IPv4).
CLEARTEXT='ip and not (ip proto 50 or udp port 500 or udp port 4500)'

# wan_report NAME: count the packets of capture NAME by kind, into WAN_ESP,
# WAN_IKE, WAN_GRE, WAN_OSPF, WAN_ICMP, WAN_OTHER (IPv4 neither ESP nor IKE),
# and print a line of them.
wan_report() {
    WAN_ESP=$(capture_count "$1" 'ip proto 50')
    WAN_IKE=$(capture_count "$1" 'udp port 500 or udp port 4500')
    WAN_GRE=$(capture_count "$1" 'ip proto 47')
    WAN_OSPF=$(capture_count "$1" 'ip proto 89')
    WAN_ICMP=$(capture_count "$1" 'icmp')
    WAN_OTHER=$(capture_count "$1" "$CLEARTEXT")
    note "WAN capture $1: $(capture_count "$1") packets: $WAN_ESP ESP, $WAN_IKE IKE;" \
        "in the clear: $WAN_GRE GRE, $WAN_OSPF OSPF, $WAN_ICMP ICMP, $WAN_OTHER other IPv4"
}

# wan_echo_visible NAME: tcpdump decodes GRE payloads, so an ICMP echo inside
# cleartext GRE shows here even if a filter above were wrong.
wan_echo_visible() { tcpdump -r "$WORK/$1.pcap" -n 2>/dev/null | grep -q 'ICMP echo'; }

# pair_sas S1 S2 SITE: SITE's ESP SAs between the WANs of S1 and S2, as
# "SRC DST SPI" lines, sorted (comparable across the two sites).
pair_sas() {
    local w1 w2
    w1=$(site_wan "$1") w2=$(site_wan "$2")
    xfrm_states "$3" | cut -d' ' -f1-3 | grep -E "^($w1 $w2|$w2 $w1) " | sort
}

# pair_settled S1 S2: S1 and S2 hold the same two SAs for each other, one
# each way (when both sides initiate at once, one of the two CHILD SAs is
# replaced a moment after both came up).
pair_settled() {
    local a
    a=$(pair_sas "$1" "$2" "$1")
    [ "$(grep -c . <<<"$a")" -eq 2 ] && [ "$a" = "$(pair_sas "$1" "$2" "$2")" ] &&
        grep -q "^$(site_wan "$1") " <<<"$a" && grep -q "^$(site_wan "$2") " <<<"$a"
}

# pair_up S1 S2 TIMEOUT: both daemons logged "CHILD SA up" for each other
# (after their marks).
pair_up() {
    tunneld_wait "$1" "$3" "$(lc "$2"): CHILD SA up" &&
        tunneld_wait "$2" "$3" "$(lc "$1"): CHILD SA up"
}

# ospf_pair S1 S2 TIMEOUT: OSPF Full on gre-s2 in S1 and gre-s1 in S2, and
# each site's LAN learned by the other over that tunnel.
ospf_pair() {
    local a=$1 b=$2 t=$3
    wait_for "$t" ospf_full "$a" "gre-$(lc "$b")" || { note "$a: neighbour on gre-$(lc "$b"): $(ospf_state "$a" "gre-$(lc "$b")")"; return 1; }
    wait_for "$t" ospf_full "$b" "gre-$(lc "$a")" || { note "$b: neighbour on gre-$(lc "$a"): $(ospf_state "$b" "gre-$(lc "$a")")"; return 1; }
    wait_for "$t" route_learned "$a" "$(site_lan "$b")" "gre-$(lc "$b")" || { note "$a: no OSPF route to $(site_lan "$b") via gre-$(lc "$b")"; return 1; }
    wait_for "$t" route_learned "$b" "$(site_lan "$a")" "gre-$(lc "$a")" || { note "$b: no OSPF route to $(site_lan "$a") via gre-$(lc "$a")"; return 1; }
}

# dump_state SITE...: what a failing test shows: OSPF, routes, XFRM, logs.
dump_state() {
    local s
    for s in "$@"; do
        echo "--- $s: OSPF neighbours, routes, XFRM"
        vtysh -N "$s" -c 'show ip ospf neighbor' 2>&1 | sed 's/^/    /'
        ip -n "$s" route | sed 's/^/    /'
        ip -n "$s" xfrm state | grep -v -e '^\s*\(aead\|auth\|enc\)' | sed 's/^/    /'
        ip -n "$s" xfrm policy | sed 's/^/    /'
        echo "--- $s: tunneld log (tail)"
        tunneld_log "$s" 30
    done
}
