/*
 * IKEv2 key schedules: the IKE SA (RFC 7296 §2.14), a rekeyed IKE SA
 * (§2.18) and CHILD SA keying material (§2.17).
 *
 * With an AEAD cipher (RFC 5282 §7.1) there is no integrity transform: SK_ai
 * and SK_ar have length 0, and each encryption key carries its 4-byte salt.
 */
#include <string.h>

#include "crypto_int.h"

#define MAX_NONCE 256           /* RFC 7296 §3.9 */
#define MAX_IKE_KEYMAT (3 * IKE_MAX_PRF_LEN + 2 * IKE_MAX_INTEG_KEY + 2 * IKE_MAX_ENCR_KEY)
#define MAX_CHILD_KEYMAT (2 * (IKE_MAX_ENCR_KEY + IKE_MAX_INTEG_KEY))

/*
 * Encryption and integrity key lengths of a suite. An AEAD suite must come
 * without integrity (RFC 7296 §3.3: "an integrity protection algorithm MUST
 * NOT be proposed" with a combined-mode cipher).
 */
static int suite_lengths(const struct ike_suite *s, size_t *encr, size_t *integ)
{
    bool aead = ike_encr_is_aead(s->encr);
    *encr = ike_encr_key_len(s->encr, s->key_bits);
    *integ = aead ? 0 : ike_integ_key_len(s->integ);
    if (!*encr || *encr > IKE_MAX_ENCR_KEY)
        return IKE_ERR_INVAL;
    if (aead ? s->integ != IKE_INTEG_NONE : !*integ)
        return IKE_ERR_INVAL;
    return IKE_OK;
}

static bool nonces_ok(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
    return ni && nr && ni_len && nr_len && ni_len <= MAX_NONCE && nr_len <= MAX_NONCE;
}

/* Copy n bytes from *km into dst and advance. */
static void take(const uint8_t **km, uint8_t *dst, size_t n)
{
    memcpy(dst, *km, n);
    *km += n;
}

/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *     = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)           (§2.14)
 * The SPIs are the 8-octet values of the IKE header, in network order.
 */
static int sk_split(struct ike_crypto *cr, const struct ike_suite *s, const uint8_t *skeyseed,
                    size_t slen, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                    size_t nr_len, uint64_t spi_i, uint64_t spi_r, struct ikev2_keys *out)
{
    size_t encr, integ, prf = ike_prf_len(s->prf);
    if (!prf || suite_lengths(s, &encr, &integ) != IKE_OK)
        return IKE_ERR_INVAL;
    uint8_t spis[16], km[MAX_IKE_KEYMAT];
    ike_put_be64(spis, spi_i);
    ike_put_be64(spis + 8, spi_r);
    struct ike_iov seed[] = {{ni, ni_len}, {nr, nr_len}, {spis, sizeof(spis)}};
    size_t total = 3 * prf + 2 * integ + 2 * encr;
    int rc = ike_prf_plus(cr, s->prf, skeyseed, slen, seed, 3, km, total);
    if (rc == IKE_OK) {
        const uint8_t *k = km;
        memset(out, 0, sizeof(*out));
        out->prf_len = (uint16_t)prf;
        out->integ_len = (uint16_t)integ;
        out->encr_len = (uint16_t)encr;
        take(&k, out->sk_d, prf);
        take(&k, out->sk_ai, integ);
        take(&k, out->sk_ar, integ);
        take(&k, out->sk_ei, encr);
        take(&k, out->sk_er, encr);
        take(&k, out->sk_pi, prf);
        take(&k, out->sk_pr, prf);
    }
    ike_wipe(km, sizeof(km));
    ike_mac_scrub(cr, ike_prf_md(s->prf));
    return rc;
}

/* SKEYSEED = prf (Ni | Nr, g^ir)  (§2.14; HMAC takes the whole Ni | Nr as its key). */
int ikev2_derive_ike_keys(struct ike_crypto *cr, const struct ike_suite *s,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                          const uint8_t *g_ir, size_t g_ir_len,
                          uint64_t spi_i, uint64_t spi_r, struct ikev2_keys *out)
{
    if (!cr || !s || !out || !g_ir || !g_ir_len || !nonces_ok(ni, ni_len, nr, nr_len))
        return IKE_ERR_INVAL;
    uint8_t key[2 * MAX_NONCE], skeyseed[IKE_MAX_PRF_LEN];
    memcpy(key, ni, ni_len);
    memcpy(key + ni_len, nr, nr_len);
    struct ike_iov v = {g_ir, g_ir_len};
    int rc = ike_prf(cr, s->prf, key, ni_len + nr_len, &v, 1, skeyseed);
    if (rc == IKE_OK)
        rc = sk_split(cr, s, skeyseed, ike_prf_len(s->prf), ni, ni_len, nr, nr_len, spi_i,
                      spi_r, out);
    ike_wipe(skeyseed, sizeof(skeyseed));
    return rc;
}

/*
 * §2.18: SKEYSEED = prf (SK_d (old), g^ir (new) | Ni | Nr), with the old
 * SA's PRF; the new SA's keys then come from prf+ of the new SA's PRF.
 */
int ikev2_derive_rekey_ike_keys(struct ike_crypto *cr, uint16_t old_prf,
                                const uint8_t *old_sk_d, size_t old_sk_d_len,
                                const struct ike_suite *s,
                                const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                                const uint8_t *g_ir, size_t g_ir_len,
                                uint64_t spi_i, uint64_t spi_r, struct ikev2_keys *out)
{
    size_t old_len = ike_prf_len(old_prf);
    if (!cr || !s || !out || !old_len || !old_sk_d || old_sk_d_len != old_len || !g_ir ||
        !g_ir_len || !nonces_ok(ni, ni_len, nr, nr_len))
        return IKE_ERR_INVAL;
    uint8_t skeyseed[IKE_MAX_PRF_LEN];
    struct ike_iov v[] = {{g_ir, g_ir_len}, {ni, ni_len}, {nr, nr_len}};
    int rc = ike_prf(cr, old_prf, old_sk_d, old_sk_d_len, v, 3, skeyseed);
    if (rc == IKE_OK)
        rc = sk_split(cr, s, skeyseed, old_len, ni, ni_len, nr, nr_len, spi_i, spi_r, out);
    ike_wipe(skeyseed, sizeof(skeyseed));
    ike_mac_scrub(cr, ike_prf_md(old_prf));
    return rc;
}

/*
 * §2.17: KEYMAT = prf+ (SK_d, [g^ir (new) |] Ni | Nr), taken in the order
 * encr then integ for initiator-to-responder, then the same for
 * responder-to-initiator. The initiator sends with the first pair.
 */
int ikev2_derive_child_keys(struct ike_crypto *cr, uint16_t prf,
                            const uint8_t *sk_d, size_t sk_d_len,
                            const uint8_t *g_ir, size_t g_ir_len,
                            const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                            bool initiator, struct ike_child_sa *sa)
{
    size_t encr, integ, plen = ike_prf_len(prf);
    if (!cr || !sa || !plen || !sk_d || sk_d_len != plen || !nonces_ok(ni, ni_len, nr, nr_len) ||
        suite_lengths(&sa->suite, &encr, &integ) != IKE_OK)
        return IKE_ERR_INVAL;
    bool pfs = g_ir && g_ir_len;
    struct ike_iov seed[] = {{g_ir, pfs ? g_ir_len : 0}, {ni, ni_len}, {nr, nr_len}};
    uint8_t km[MAX_CHILD_KEYMAT];
    int rc = ike_prf_plus(cr, prf, sk_d, sk_d_len, seed, 3, km, 2 * (encr + integ));
    if (rc == IKE_OK) {
        const uint8_t *k = km;
        uint8_t *ei = initiator ? sa->encr_key_out : sa->encr_key_in;
        uint8_t *ai = initiator ? sa->integ_key_out : sa->integ_key_in;
        uint8_t *er = initiator ? sa->encr_key_in : sa->encr_key_out;
        uint8_t *ar = initiator ? sa->integ_key_in : sa->integ_key_out;
        ike_wipe(sa->encr_key_in, sizeof(sa->encr_key_in));
        ike_wipe(sa->encr_key_out, sizeof(sa->encr_key_out));
        ike_wipe(sa->integ_key_in, sizeof(sa->integ_key_in));
        ike_wipe(sa->integ_key_out, sizeof(sa->integ_key_out));
        take(&k, ei, encr);
        take(&k, ai, integ);
        take(&k, er, encr);
        take(&k, ar, integ);
        sa->encr_key_len = (uint16_t)encr;
        sa->integ_key_len = (uint16_t)integ;
    }
    ike_wipe(km, sizeof(km));
    ike_mac_scrub(cr, ike_prf_md(prf));
    return rc;
}
