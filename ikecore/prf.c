/*
 * The IKE pseudo-random functions: prf (RFC 7296 §2.13, here always HMAC,
 * RFC 2104 / RFC 4868 §2.4 / RFC 2409 §4) and prf+ (RFC 7296 §2.13).
 *
 * HMAC takes a key of any length, so the callers' keys (Ni | Nr, a PSK,
 * SKEYSEED) go in as they are. The AES-based PRFs (XCBC, CMAC), with their
 * fixed-size keys and special cases in §2.14, are not supported.
 */
#include <string.h>

#include "crypto_int.h"

int ike_prf(struct ike_crypto *cr, uint16_t prf, const uint8_t *key, size_t klen,
            const struct ike_iov *v, unsigned nv, uint8_t *out)
{
    enum ike_md_id md = ike_prf_md(prf);
    if (md == IKE_MD_NONE || !out || (!key && klen))
        return IKE_ERR_INVAL;
    EVP_MAC_CTX *mac = ike_mac_start(cr, md, key, klen);
    int rc = mac ? ike_mac_update(mac, v, nv) : IKE_ERR_CRYPTO;
    if (rc == IKE_OK)
        rc = ike_mac_final(mac, out, ike_prf_len(prf));
    return rc;
}

/*
 * prf+ (K,S) = T1 | T2 | T3 | ...
 *   T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n)
 * The counter is one octet, so at most 255 blocks (§2.13: "this function is
 * not defined beyond 255 times the size of the prf output"). The key is set
 * once; each block only restarts the HMAC with it.
 */
static int prf_plus_blocks(EVP_MAC_CTX *mac, size_t hlen, const struct ike_iov *seed,
                           unsigned nseed, uint8_t *out, size_t outlen)
{
    uint8_t t[IKE_MAX_PRF_LEN];
    int rc = IKE_OK;
    for (unsigned n = 1; outlen && rc == IKE_OK; n++) {
        uint8_t ctr = (uint8_t)n;
        struct ike_iov prev = {t, n > 1 ? hlen : 0}, count = {&ctr, 1};
        if (n > 1)
            rc = ike_mac_restart(mac);
        if (rc == IKE_OK)
            rc = ike_mac_update(mac, &prev, 1);
        if (rc == IKE_OK)
            rc = ike_mac_update(mac, seed, nseed);
        if (rc == IKE_OK)
            rc = ike_mac_update(mac, &count, 1);
        if (rc == IKE_OK)
            rc = ike_mac_final(mac, t, sizeof(t));
        if (rc == IKE_OK) {
            size_t take = outlen < hlen ? outlen : hlen;
            memcpy(out, t, take);
            out += take;
            outlen -= take;
        }
    }
    ike_wipe(t, sizeof(t));
    return rc;
}

int ike_prf_plus(struct ike_crypto *cr, uint16_t prf, const uint8_t *key, size_t klen,
                 const struct ike_iov *seed, unsigned nseed, uint8_t *out, size_t outlen)
{
    enum ike_md_id md = ike_prf_md(prf);
    size_t hlen = ike_prf_len(prf);
    if (md == IKE_MD_NONE || (!out && outlen) || (!key && klen) || (nseed && !seed))
        return IKE_ERR_INVAL;
    if (outlen > 255 * hlen)
        return IKE_ERR_INVAL;
    if (!outlen)
        return IKE_OK;
    EVP_MAC_CTX *mac = ike_mac_start(cr, md, key, klen);
    int rc = mac ? prf_plus_blocks(mac, hlen, seed, nseed, out, outlen) : IKE_ERR_CRYPTO;
    if (rc != IKE_OK)
        ike_wipe(out, outlen);
    return rc;
}
