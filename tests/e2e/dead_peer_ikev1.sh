#!/bin/bash
# dead_peer.sh with both sites on profiles/strongswan-ikev1.yaml: the
# liveness check is RFC 3706 DPD (R-U-THERE / R-U-THERE-ACK), with every
# assertion of dead_peer: a kill -9 noticed within the bound, the tunnel back
# by itself after the restart, a SIGSTOP shorter than the budget survived.
#
# e2e-timeout: 300
# e2e-break: longdpd did not notice
export TUNNEL_PROFILE=strongswan-ikev1
exec bash "$(dirname "$0")/dead_peer.sh"
