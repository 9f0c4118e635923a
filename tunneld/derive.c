#include "derive.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The longest encoding: type, length, data. */
#define ENC_MAX (3 + IKE_MAX_ID)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_addr_id(const struct ike_id *id)
{
    return (id->type == IKE_ID_IPV4_ADDR && id->len == 4) ||
           (id->type == IKE_ID_IPV6_ADDR && id->len == 16);
}

/* Two address identities of one family: today's (and every earlier release's) input. */
static bool address_pair(const struct ike_id *a, const struct ike_id *b)
{
    return is_addr_id(a) && a->type == b->type;
}

static size_t encode(const struct ike_id *id, bool raw, uint8_t out[ENC_MAX])
{
    uint16_t len = id->len > IKE_MAX_ID ? IKE_MAX_ID : id->len;
    if (raw) {
        memcpy(out, id->data, len);
        return len;
    }
    out[0] = id->type;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    memcpy(out + 3, id->data, len);
    return 3u + len;
}

static int cmp_enc(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* The order of the pair: < 0 when a is the lower, 0 when they are the same identity. */
static int order(const struct ike_id *a, const struct ike_id *b)
{
    uint8_t ea[ENC_MAX], eb[ENC_MAX];
    bool raw = address_pair(a, b);
    size_t la = encode(a, raw, ea), lb = encode(b, raw, eb);
    return cmp_enc(ea, la, eb, lb);
}

int derive_pair_ids(const struct ike_id *a, const struct ike_id *b, struct derived_pair *out)
{
    int c = order(a, b);
    if (c == 0)
        return -1;
    const struct ike_id *lo = c < 0 ? a : b, *hi = c < 0 ? b : a;
    bool raw = address_pair(a, b);
    const char *label = raw ? DERIVE_LABEL : DERIVE_LABEL_IDS;
    size_t llen = strlen(label), n = llen;
    unsigned char in[sizeof(DERIVE_LABEL) + 2 * ENC_MAX], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    memcpy(in, label, llen);
    n += encode(lo, raw, in + n);
    n += encode(hi, raw, in + n);
    if (!EVP_Digest(in, n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 8)
        return -1;
    out->key = be32(md);
    out->inner_net = DERIVE_INNER_FIRST + 2 * (be32(md + 4) % DERIVE_INNER_COUNT);
    return 0;
}

int derive_inner_ends_ids(uint32_t inner_net, const struct ike_id *local,
                          const struct ike_id *remote, struct ip_addr *inner_local,
                          struct ip_addr *inner_remote)
{
    int c = order(local, remote);
    if (c == 0)
        return -1;
    uint32_t even = inner_net & ~1u;
    ip_addr_set_v4(inner_local, c < 0 ? even : even + 1);
    ip_addr_set_v4(inner_remote, c < 0 ? even + 1 : even);
    return 0;
}

void derive_id_of_addr(const struct ip_addr *a, struct ike_id *out)
{
    memset(out, 0, sizeof(*out));
    out->type = a->family == AF_INET6 ? IKE_ID_IPV6_ADDR : IKE_ID_IPV4_ADDR;
    out->len = (uint16_t)ip_addr_len(a);
    memcpy(out->data, a->bytes, out->len);
}

int derive_pair(const struct ip_addr *a, const struct ip_addr *b, struct derived_pair *out)
{
    struct ike_id ia, ib;
    if (a->family != b->family)
        return -1;
    derive_id_of_addr(a, &ia);
    derive_id_of_addr(b, &ib);
    return derive_pair_ids(&ia, &ib, out);
}

int derive_inner_ends(uint32_t inner_net, const struct ip_addr *local, const struct ip_addr *remote,
                      struct ip_addr *inner_local, struct ip_addr *inner_remote)
{
    struct ike_id il, ir;
    if (local->family != remote->family)
        return -1;
    derive_id_of_addr(local, &il);
    derive_id_of_addr(remote, &ir);
    return derive_inner_ends_ids(inner_net, &il, &ir, inner_local, inner_remote);
}

void derive_ifname(const char *peer, char out[IFNAMSIZ])
{
    snprintf(out, IFNAMSIZ, "gre-%.*s", IFNAMSIZ - 5, peer);
}
