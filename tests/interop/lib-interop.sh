# shellcheck shell=bash
# Helpers for the interop cases (tests/interop/*.sh, inside a vmrun VM), on
# top of tests/vm/lib.sh (source that first): strongSwan's charon, one
# instance per network namespace, driven with swanctl over a per-namespace
# vici socket (the recipe of shared/docs/testbed.md), and the proposal sets
# the cases test.
#
#   charon_config NS LOCAL REMOTE IKE_PROPOSALS ESP_PROPOSALS PSK
#   charon_start NS            start it, wait for vici, load the config
#   swan NS ARGS...            swanctl ARGS... against NS's charon
#   sa_field TEXT KEY          KEY=VALUE out of `swanctl --raw` output
#
# Each instance gets its own /run (charon's pid file and vici socket paths
# are fixed), its strongswan.conf and swanctl/ under /etc/netns/NS (which
# `ip netns exec` bind-mounts over /etc), and logs to $WORK/NS/charon.log at
# ike/enc/cfg/knl level 2: when a peer rejects tunneld's messages, that log
# says why.

# --- proposal sets ------------------------------------------------------------
# suite_set NAME sets, for proposal set NAME:
#   SUITE_IKE / SUITE_ESP   what tunneld must resolve (strongSwan syntax,
#                           comma separated, as `tunneld --check --print`
#                           prints them);
#   SUITE_PEER_IKE / _ESP   charon's proposals: the same set (charon takes
#                           these names), possibly in another order;
#   SUITE_SITE              YAML lines added to tunneld's peer (empty: the
#                           profile's proposals);
#   SUITE_ALGS              names charon's --list-algs must show.
# shellcheck disable=SC2034 # SUITE_*: used by the case that sources this
suite_set() {
    case $1 in
    default | default-x25519)
        # profiles/default.yaml, exactly: the case checks that tunneld
        # resolves the same lists, so a change of the profile shows up here.
        SUITE_IKE=aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha256-curve25519,aes256gcm16-prfsha384-modp3072
        SUITE_ESP=aes256gcm16-ecp384,aes256gcm16-curve25519,aes256gcm16-modp3072
        SUITE_PEER_IKE=$SUITE_IKE SUITE_PEER_ESP=$SUITE_ESP
        SUITE_SITE=""
        SUITE_ALGS="AES_GCM_16 PRF_HMAC_SHA2_384 PRF_HMAC_SHA2_256 ECP_384 CURVE_25519 MODP_3072"
        if [ "$1" = default-x25519 ]; then
            # The same set, charon preferring Curve25519: the two sides'
            # first choices differ, so one of them has to settle on the
            # other's (as responder charon picks by its own order and
            # answers tunneld's ECP-384 KE with INVALID_KE_PAYLOAD).
            SUITE_PEER_IKE=aes256gcm16-prfsha256-curve25519,aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha384-modp3072
            SUITE_PEER_ESP=aes256gcm16-curve25519,aes256gcm16-ecp384,aes256gcm16-modp3072
        fi
        ;;
    cbc)
        # AES-CBC-256 + HMAC-SHA2-256 (+ PRF-HMAC-SHA2-256) + MODP-2048, for
        # IKE and ESP, as a site-file override of the default profile.
        SUITE_IKE=aes256-sha256-modp2048
        SUITE_ESP=aes256-sha256-modp2048
        SUITE_PEER_IKE=$SUITE_IKE SUITE_PEER_ESP=$SUITE_ESP
        SUITE_SITE="    ike: { proposals: [aes256-sha256-modp2048] }
    esp: { proposals: [aes256-sha256-modp2048] }"
        SUITE_ALGS="AES_CBC HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048"
        ;;
    *) fail "unknown proposal set '$1' (known: default default-x25519 cbc)" ;;
    esac
}

# --- charon -------------------------------------------------------------------

# The vici socket, inside the instance's own /run (charon's default path;
# swanctl reads it from swanctl.socket in the same strongswan.conf).
CHARON_VICI=unix:///run/charon.vici
declare -A _CHARON_PID=()

# charon_config NS LOCAL REMOTE IKE ESP PSK [START_ACTION]: write NS's
# strongswan.conf and swanctl.conf: one IKEv2 connection "tunneld" from
# LOCAL to REMOTE, PSK, IDs = the addresses, with a transport-mode CHILD_SA
# "gre" for GRE only (dynamic[gre] both ways). START_ACTION: none (default:
# charon only responds; the case initiates with swanctl --initiate).
charon_config() {
    local n=$1 local=$2 remote=$3 ike=$4 esp=$5 psk=$6 start=${7:-none}
    local etc=/etc/netns/$n
    mkdir -p "$etc/swanctl" "$WORK/$n"
    # Every subdirectory swanctl --load-all may look at; empty.
    mkdir -p "$etc/swanctl/conf.d" "$etc/swanctl/x509" "$etc/swanctl/private"
    # An explicit plugin list (no load_modular, nothing from the host's
    # strongswan.d): what this test needs, "!" = critical, charon refuses
    # to start without it. openssl does AES-CBC/GCM, SHA-2, MODP, ECP and
    # X25519; kernel-netlink installs the XFRM states and policies.
    cat >"$etc/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = random! nonce! openssl! kdf pem pkcs1 pubkey kernel-netlink! socket-default! vici!
    install_routes = no
    install_virtual_ip = no
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
        version = 2
        local_addrs = $local
        remote_addrs = $remote
        proposals = $ike
        encap = no
        mobike = no
        dpd_delay = 30s
        local {
            auth = psk
            id = $local
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
        id-local = $local
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
