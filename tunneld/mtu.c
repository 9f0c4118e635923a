#include "mtu.h"

#define IPV4_HDR 20
#define UDP_HDR 8        /* NAT-T, RFC 3948 */
#define GRE_HDR_KEY 8    /* 4-byte header + 4-byte key (RFC 2890) */
#define ESP_HDR 8        /* SPI + sequence number */
#define ESP_TRAILER 2    /* pad length + next header */

struct esp_shape {
    unsigned iv, block, icv;
};

/* RFC 4106 (GCM: 8-byte IV, 4-byte alignment, 16-byte ICV), RFC 3602 (CBC), RFC 4868 / 2404 (ICVs). */
static bool esp_shape(const struct ike_suite *s, struct esp_shape *out)
{
    switch (s->encr) {
    case IKE_ENCR_AES_GCM_16: *out = (struct esp_shape){8, 4, 16}; return true;
    case IKE_ENCR_AES_CBC: *out = (struct esp_shape){16, 16, 0}; break;
    case IKE_ENCR_3DES: *out = (struct esp_shape){8, 8, 0}; break;
    default: return false;
    }
    switch (s->integ) {
    case IKE_INTEG_HMAC_SHA1_96: out->icv = 12; return true;
    case IKE_INTEG_HMAC_SHA2_256_128: out->icv = 16; return true;
    case IKE_INTEG_HMAC_SHA2_384_192: out->icv = 24; return true;
    case IKE_INTEG_HMAC_SHA2_512_256: out->icv = 32; return true;
    default: return false;
    }
}

unsigned tunnel_mtu(unsigned wan_mtu, const struct ike_suite *esp, bool udp_encap)
{
    struct esp_shape sh;
    if (!esp_shape(esp, &sh))
        return 0;
    unsigned fixed = IPV4_HDR + (udp_encap ? UDP_HDR : 0) + ESP_HDR + sh.iv + sh.icv;
    if (wan_mtu <= fixed + sh.block)
        return 0;
    /* The encrypted part (GRE + inner packet + trailer) is padded to the block size. */
    unsigned encrypted = (wan_mtu - fixed) / sh.block * sh.block;
    if (encrypted < GRE_HDR_KEY + ESP_TRAILER + 68) /* 68: the IPv4 minimum MTU */
        return 0;
    return encrypted - GRE_HDR_KEY - ESP_TRAILER;
}

unsigned tunnel_mss(unsigned mtu)
{
    return mtu > 40 ? mtu - 40 : 0;
}
