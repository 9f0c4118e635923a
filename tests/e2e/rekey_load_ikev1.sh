#!/bin/bash
# rekey_load.sh with both sites on profiles/strongswan-ikev1.yaml: 20 Quick
# Mode rekeys (with PFS) and 3 phase 1 rekeys (a new ISAKMP SA by Main Mode
# that takes the IPsec SA over, the old one deleted) under a continuous
# ping, with every assertion of rekey_load: 0 lost, OSPF Full throughout,
# make before break, only the last rekey's states at the end.
#
# e2e-timeout: 480
# e2e-break: delstate lost
export TUNNEL_PROFILE=strongswan-ikev1
exec bash "$(dirname "$0")/rekey_load.sh"
