/*
 * Tunnel parameters both ends compute the same way from the unordered pair
 * of WAN addresses, so two admins never have to agree on a GRE key or an
 * inner subnet (docs/config.md, "Derived tunnel parameters"):
 *
 *   h     = SHA-256("tunneld-pair-v1" || lower address || higher address)
 *           (raw network-order bytes, 4 or 16 each; "lower" by memcmp)
 *   key   = h[0..3], big-endian
 *   inner = 169.254.1.0 + 2 * (h[4..7] big-endian mod 32512): a /31 in
 *           169.254.1.0 - 169.254.254.255 (RFC 3927 reserves the first and
 *           last /24); the lower WAN address takes the even address.
 */
#ifndef TUNNELD_DERIVE_H
#define TUNNELD_DERIVE_H

#include <net/if.h>
#include <stdint.h>

#include "ipaddr.h"

#define DERIVE_LABEL "tunneld-pair-v1"
#define DERIVE_INNER_FIRST 0xa9fe0100u /* 169.254.1.0 */
#define DERIVE_INNER_COUNT 32512u      /* /31s up to 169.254.254.255 */

struct derived_pair {
    uint32_t key;       /* GRE key, both directions */
    uint32_t inner_net; /* the /31, host byte order, even */
};

/*
 * Symmetric: derive_pair(a, b) == derive_pair(b, a). -1 when the two are of
 * different families or equal (no tunnel to oneself).
 */
int derive_pair(const struct ip_addr *a, const struct ip_addr *b, struct derived_pair *out);

/* Our end and the peer's of the /31 inner_net: the lower WAN address takes the even one. */
int derive_inner_ends(uint32_t inner_net, const struct ip_addr *local, const struct ip_addr *remote,
                      struct ip_addr *inner_local, struct ip_addr *inner_remote);

/* "gre-<peer>", cut to 15 bytes (IFNAMSIZ - 1); local only, need not match the far side. */
void derive_ifname(const char *peer, char out[IFNAMSIZ]);

#endif
