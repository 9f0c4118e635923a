/*
 * IKEv1 keying material: SKEYID and its derivatives (RFC 2409 §5), the
 * encryption key and IVs of Appendix B, Quick Mode KEYMAT (§5.5).
 */
#include <string.h>

#include "crypto_int.h"
#include "keys_v1.h"

/* Phase 1 ciphers: CBC only (RFC 2409 Appendix B, RFC 3602 §5 for AES). */
static bool cbc_cipher(uint16_t encr)
{
    return encr == IKE_ENCR_AES_CBC || encr == IKE_ENCR_3DES;
}

/*
 * The two expansions of RFC 2409 share one shape:
 *   K1 = prf(K, first), Kn = prf(K, Kn-1 | rest), out = K1 | K2 | ...
 * Appendix B: first = 0 (one octet), rest empty. §5.5: first = rest = the seed.
 */
static int expand(struct ike_crypto *cr, uint16_t prf, const uint8_t *key, size_t klen,
                  const struct ike_iov *first, unsigned nfirst, const struct ike_iov *rest,
                  unsigned nrest, uint8_t *out, size_t outlen)
{
    size_t hlen = ike_prf_len(prf);
    uint8_t k[IKE_MAX_PRF_LEN];
    EVP_MAC_CTX *mac = ike_mac_start(cr, ike_prf_md(prf), key, klen);
    int rc = mac ? IKE_OK : IKE_ERR_CRYPTO;
    for (bool one = true; rc == IKE_OK && outlen; one = false) {
        struct ike_iov prev = {k, hlen};
        if (!one)
            rc = ike_mac_restart(mac);
        if (rc == IKE_OK && !one)
            rc = ike_mac_update(mac, &prev, 1);
        if (rc == IKE_OK)
            rc = one ? ike_mac_update(mac, first, nfirst) : ike_mac_update(mac, rest, nrest);
        if (rc == IKE_OK)
            rc = ike_mac_final(mac, k, sizeof(k));
        if (rc == IKE_OK) {
            size_t n = outlen < hlen ? outlen : hlen;
            memcpy(out, k, n);
            out += n;
            outlen -= n;
        }
    }
    ike_wipe(k, sizeof(k));
    ike_mac_scrub(cr, ike_prf_md(prf));
    return rc;
}

int ikev1_skeyid_psk(struct ike_crypto *cr, uint16_t prf, const uint8_t *psk, size_t psk_len,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                     uint8_t *skeyid)
{
    if (!ni || !nr || !ni_len || !nr_len || !skeyid)
        return IKE_ERR_INVAL;
    struct ike_iov v[] = {{ni, ni_len}, {nr, nr_len}};
    int rc = ike_prf(cr, prf, psk, psk_len, v, 2, skeyid);
    ike_mac_scrub(cr, ike_prf_md(prf));
    return rc;
}

/* prf(SKEYID, [prev |] g^xy | CKY-I | CKY-R | n) for n = 0, 1, 2 (§5). */
static int skeyid_x(struct ike_crypto *cr, uint16_t prf, const uint8_t *skeyid, size_t slen,
                    const uint8_t *prev, const uint8_t *g_xy, size_t g_xy_len,
                    const uint8_t cky[16], uint8_t n, uint8_t *out)
{
    struct ike_iov v[] = {
        {prev, prev ? ike_prf_len(prf) : 0}, {g_xy, g_xy_len}, {cky, 16}, {&n, 1},
    };
    return ike_prf(cr, prf, skeyid, slen, v, 4, out);
}

/* Appendix B: the first key bytes of SKEYID_e, or Ka = K1 | K2 | ... when it is too short. */
static int encr_key(struct ike_crypto *cr, uint16_t prf, struct ikev1_keys *k)
{
    static const uint8_t zero = 0;
    struct ike_iov first = {&zero, 1};
    if (k->encr_len <= k->prf_len) {
        memcpy(k->encr_key, k->skeyid_e, k->encr_len);
        return IKE_OK;
    }
    return expand(cr, prf, k->skeyid_e, k->prf_len, &first, 1, NULL, 0, k->encr_key,
                  k->encr_len);
}

int ikev1_derive_keys(struct ike_crypto *cr, uint16_t prf, const uint8_t *skeyid,
                      size_t skeyid_len, const uint8_t *g_xy, size_t g_xy_len,
                      uint64_t cky_i, uint64_t cky_r, uint16_t encr, uint16_t key_bits,
                      struct ikev1_keys *out)
{
    size_t plen = ike_prf_len(prf), elen = ike_encr_key_len(encr, key_bits);
    if (!cr || !out || !plen || !skeyid || skeyid_len != plen || !g_xy || !g_xy_len ||
        !cbc_cipher(encr) || !elen)
        return IKE_ERR_INVAL;
    uint8_t cky[16];
    ike_put_be64(cky, cky_i);
    ike_put_be64(cky + 8, cky_r);
    memset(out, 0, sizeof(*out));
    out->prf_len = (uint16_t)plen;
    out->encr_len = (uint16_t)elen;
    int rc = skeyid_x(cr, prf, skeyid, plen, NULL, g_xy, g_xy_len, cky, 0, out->skeyid_d);
    if (rc == IKE_OK)
        rc = skeyid_x(cr, prf, skeyid, plen, out->skeyid_d, g_xy, g_xy_len, cky, 1,
                      out->skeyid_a);
    if (rc == IKE_OK)
        rc = skeyid_x(cr, prf, skeyid, plen, out->skeyid_a, g_xy, g_xy_len, cky, 2,
                      out->skeyid_e);
    ike_mac_scrub(cr, ike_prf_md(prf));
    if (rc == IKE_OK)
        rc = encr_key(cr, prf, out);
    if (rc != IKE_OK)
        ike_wipe(out, sizeof(*out));
    return rc;
}

static int hash_iv(struct ike_crypto *cr, uint16_t prf, const struct ike_iov *v, unsigned nv,
                   uint16_t encr, uint8_t *iv, size_t *iv_len)
{
    uint8_t h[IKE_MAX_PRF_LEN];
    size_t hlen = 0, block = ike_encr_block_len(encr);
    if (!iv || !iv_len || !cbc_cipher(encr))
        return IKE_ERR_INVAL;
    int rc = ike_hash(cr, prf, v, nv, h, &hlen);
    if (rc == IKE_OK && hlen < block)
        rc = IKE_ERR_INVAL;
    if (rc == IKE_OK) {
        memcpy(iv, h, block);
        *iv_len = block;
    }
    return rc;
}

int ikev1_phase1_iv(struct ike_crypto *cr, uint16_t prf, const uint8_t *g_xi, size_t g_xi_len,
                    const uint8_t *g_xr, size_t g_xr_len, uint16_t encr, uint8_t *iv,
                    size_t *iv_len)
{
    if (!g_xi || !g_xr || !g_xi_len || !g_xr_len)
        return IKE_ERR_INVAL;
    struct ike_iov v[] = {{g_xi, g_xi_len}, {g_xr, g_xr_len}};
    return hash_iv(cr, prf, v, 2, encr, iv, iv_len);
}

int ikev1_phase2_iv(struct ike_crypto *cr, uint16_t prf, const uint8_t *last_block,
                    uint16_t encr, uint32_t msgid, uint8_t *iv, size_t *iv_len)
{
    uint8_t m[4];
    if (!last_block)
        return IKE_ERR_INVAL;
    ike_put_be32(m, msgid);
    struct ike_iov v[] = {{last_block, ike_encr_block_len(encr)}, {m, sizeof(m)}};
    return hash_iv(cr, prf, v, 2, encr, iv, iv_len);
}

int ikev1_qm_keymat(struct ike_crypto *cr, uint16_t prf, const uint8_t *skeyid_d,
                    size_t skeyid_d_len, const uint8_t *g_qm, size_t g_qm_len,
                    uint8_t protocol, uint32_t spi, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, uint8_t *out, size_t outlen)
{
    size_t plen = ike_prf_len(prf);
    if (!cr || !plen || !skeyid_d || skeyid_d_len != plen || !ni || !nr || !ni_len ||
        !nr_len || !out || !outlen)
        return IKE_ERR_INVAL;
    uint8_t s[4];
    ike_put_be32(s, spi);
    bool pfs = g_qm && g_qm_len;
    struct ike_iov seed[] = {
        {g_qm, pfs ? g_qm_len : 0}, {&protocol, 1}, {s, sizeof(s)}, {ni, ni_len}, {nr, nr_len},
    };
    int rc = expand(cr, prf, skeyid_d, skeyid_d_len, seed, 5, seed, 5, out, outlen);
    if (rc != IKE_OK)
        ike_wipe(out, outlen);
    return rc;
}
