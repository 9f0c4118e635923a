#!/bin/bash
# rekey_cross.sh with both sites on profiles/strongswan-ikev1.yaml: Quick
# Modes of both sides at once (ikecore/ikev1_collision.c), with PFS, under
# a continuous ping; every assertion of rekey_cross.
#
# e2e-timeout: 420
# e2e-break: delstate lost
export TUNNEL_PROFILE=strongswan-ikev1
exec bash "$(dirname "$0")/rekey_cross.sh"
