#!/bin/bash
# tunnel_up.sh with both sites on profiles/strongswan-ikev1.yaml: IKEv1 Main
# Mode and Quick Mode with PFS between two tunnelds, with every assertion of
# tunnel_up (OSPF Full, LANs learned, pings, only ESP and IKE on the WAN).
#
# e2e-timeout: 240
# e2e-break: flushpolicy in the clear on the WAN
export TUNNEL_PROFILE=strongswan-ikev1
exec bash "$(dirname "$0")/tunnel_up.sh"
