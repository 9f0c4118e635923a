/*
 * Tunnel parameters both ends compute the same way from the unordered pair
 * of IKE identities (ike.local-id / ike.remote-id, by default the two WAN
 * addresses), so two admins never have to agree on a GRE key or an inner
 * subnet (docs/config.md, "Derived tunnel parameters"):
 *
 *   two address identities of one family (the default), as it always was:
 *   h     = SHA-256("tunneld-pair-v1" || lower address || higher address)
 *           (raw network-order bytes, 4 or 16 each; "lower" by memcmp)
 *   any other pair (an FQDN or key id on either side):
 *   h     = SHA-256("tunneld-ids-v1" || lower || higher), each identity as
 *           type (1 byte, RFC 7296 §3.5) || length (2 bytes, big-endian) ||
 *           data; "lower" by memcmp of these encodings
 *
 *   key   = h[0..3], big-endian
 *   inner = 169.254.1.0 + 2 * (h[4..7] big-endian mod 32512): a /31 in
 *           169.254.1.0 - 169.254.254.255 (RFC 3927 reserves the first and
 *           last /24); the lower identity takes the even address.
 *
 * The labels differ within their first bytes and the encodings carry their
 * lengths, so no pair of one kind hashes the input of another.
 */
#ifndef TUNNELD_DERIVE_H
#define TUNNELD_DERIVE_H

#include <net/if.h>
#include <stdint.h>

#include "ikecore.h"
#include "ipaddr.h"

#define DERIVE_LABEL "tunneld-pair-v1"
#define DERIVE_LABEL_IDS "tunneld-ids-v1"
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

/* The same from identities (type 1, 2, 5 or 11; not 0): -1 when they are equal. */
int derive_pair_ids(const struct ike_id *a, const struct ike_id *b, struct derived_pair *out);
int derive_inner_ends_ids(uint32_t inner_net, const struct ike_id *local,
                          const struct ike_id *remote, struct ip_addr *inner_local,
                          struct ip_addr *inner_remote);

/* The address identity (IKE_ID_IPV4_ADDR / IKE_ID_IPV6_ADDR) of an address. */
void derive_id_of_addr(const struct ip_addr *a, struct ike_id *out);

/* "gre-<peer>", cut to 15 bytes (IFNAMSIZ - 1); local only, need not match the far side. */
void derive_ifname(const char *peer, char out[IFNAMSIZ]);

#endif
