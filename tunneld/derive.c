#include "derive.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int derive_pair(const struct ip_addr *a, const struct ip_addr *b, struct derived_pair *out)
{
    if (a->family != b->family || ip_addr_cmp(a, b) == 0)
        return -1;
    const struct ip_addr *lo = ip_addr_cmp(a, b) < 0 ? a : b;
    const struct ip_addr *hi = lo == a ? b : a;
    size_t alen = ip_addr_len(a), llen = strlen(DERIVE_LABEL);
    unsigned char in[sizeof(DERIVE_LABEL) + 32], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    memcpy(in, DERIVE_LABEL, llen);
    memcpy(in + llen, lo->bytes, alen);
    memcpy(in + llen + alen, hi->bytes, alen);
    if (!EVP_Digest(in, llen + 2 * alen, md, &mdlen, EVP_sha256(), NULL) || mdlen < 8)
        return -1;
    out->key = be32(md);
    out->inner_net = DERIVE_INNER_FIRST + 2 * (be32(md + 4) % DERIVE_INNER_COUNT);
    return 0;
}

int derive_inner_ends(uint32_t inner_net, const struct ip_addr *local, const struct ip_addr *remote,
                      struct ip_addr *inner_local, struct ip_addr *inner_remote)
{
    int c = ip_addr_cmp(local, remote);
    if (c == 0 || local->family != remote->family)
        return -1;
    uint32_t even = inner_net & ~1u;
    ip_addr_set_v4(inner_local, c < 0 ? even : even + 1);
    ip_addr_set_v4(inner_remote, c < 0 ? even + 1 : even);
    return 0;
}

void derive_ifname(const char *peer, char out[IFNAMSIZ])
{
    snprintf(out, IFNAMSIZ, "gre-%.*s", IFNAMSIZ - 5, peer);
}
