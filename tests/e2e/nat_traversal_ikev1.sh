#!/bin/bash
# nat_traversal.sh with both sites on profiles/strongswan-ikev1.yaml: IKEv1
# NAT-T (RFC 3947 NAT-D in Main Mode, the float to 4500, RFC 3948 ESP in
# UDP) between two tunnelds, with every assertion of nat_traversal (ESP in
# UDP only on the WAN, keepalives, A following B's new NAT port after a
# conntrack flush, OSPF and LAN ping back within the same bound).
#
# e2e-timeout: 420
# e2e-break: noike did not recover
export TUNNEL_PROFILE=strongswan-ikev1
exec bash "$(dirname "$0")/nat_traversal.sh"
