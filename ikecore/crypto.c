/*
 * The crypto context (algorithms fetched once), algorithm sizes, HMAC
 * plumbing shared by prf.c and the integrity check of SK payloads
 * (RFC 7296 §3.14 with the RFC 4868 / RFC 2404 truncations).
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_int.h"
#include "keys_v1.h"

static const char *const md_names[IKE_MD_COUNT] = {"SHA1", "SHA2-256", "SHA2-384", "SHA2-512"};

static const char *const cipher_names[IKE_CIPH_COUNT] = {
    "AES-128-CBC", "AES-192-CBC", "AES-256-CBC",
    "AES-128-GCM", "AES-192-GCM", "AES-256-GCM",
    "DES-EDE3-CBC",
};

void ike_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

int ike_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

enum ike_md_id ike_prf_md(uint16_t prf)
{
    switch (prf) {
    case IKE_PRF_HMAC_SHA1: return IKE_MD_SHA1;
    case IKE_PRF_HMAC_SHA2_256: return IKE_MD_SHA256;
    case IKE_PRF_HMAC_SHA2_384: return IKE_MD_SHA384;
    case IKE_PRF_HMAC_SHA2_512: return IKE_MD_SHA512;
    default: return IKE_MD_NONE;
    }
}

enum ike_md_id ike_integ_md(uint16_t integ)
{
    switch (integ) {
    case IKE_INTEG_HMAC_SHA1_96: return IKE_MD_SHA1;
    case IKE_INTEG_HMAC_SHA2_256_128: return IKE_MD_SHA256;
    case IKE_INTEG_HMAC_SHA2_384_192: return IKE_MD_SHA384;
    case IKE_INTEG_HMAC_SHA2_512_256: return IKE_MD_SHA512;
    default: return IKE_MD_NONE;
    }
}

static const size_t md_len[IKE_MD_COUNT] = {20, 32, 48, 64};

size_t ike_prf_len(uint16_t prf)
{
    enum ike_md_id md = ike_prf_md(prf);
    return md == IKE_MD_NONE ? 0 : md_len[md];
}

/* RFC 2404 (SHA-1, 160-bit key) and RFC 4868 §2.1.1: the key is as long as the digest. */
size_t ike_integ_key_len(uint16_t integ)
{
    enum ike_md_id md = ike_integ_md(integ);
    return md == IKE_MD_NONE ? 0 : md_len[md];
}

/* RFC 2404: 96 bits; RFC 4868 §2.3: half the digest. */
size_t ike_integ_icv_len(uint16_t integ)
{
    enum ike_md_id md = ike_integ_md(integ);
    if (md == IKE_MD_NONE)
        return 0;
    return md == IKE_MD_SHA1 ? 12 : md_len[md] / 2;
}

/* RFC 5282 §7.1: an AES-GCM key carries 4 more bytes, the salt of the nonce. */
size_t ike_encr_key_len(uint16_t encr, uint16_t key_bits)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC:
    case IKE_ENCR_AES_GCM_16:
        if (key_bits != 128 && key_bits != 192 && key_bits != 256)
            return 0;
        return key_bits / 8 + (encr == IKE_ENCR_AES_GCM_16 ? 4 : 0);
    case IKE_ENCR_3DES:         /* fixed length: no Key Length attribute (RFC 7296 §3.3.5) */
        return key_bits == 0 || key_bits == 192 ? 24 : 0;
    default:
        return 0;
    }
}

size_t ike_encr_iv_len(uint16_t encr)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC: return 16;     /* RFC 3602 */
    case IKE_ENCR_AES_GCM_16: return 8;   /* RFC 5282 §3 */
    case IKE_ENCR_3DES: return 8;         /* RFC 2451 */
    default: return 0;
    }
}

size_t ike_encr_block_len(uint16_t encr)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC: return 16;
    case IKE_ENCR_AES_GCM_16: return 1;   /* a stream mode: any length */
    case IKE_ENCR_3DES: return 8;
    default: return 0;
    }
}

size_t ike_encr_icv_len(uint16_t encr)
{
    return encr == IKE_ENCR_AES_GCM_16 ? 16 : 0;
}

bool ike_encr_is_aead(uint16_t encr)
{
    return encr == IKE_ENCR_AES_GCM_16;
}

/* A MAC context with its digest parameter set once. */
static EVP_MAC_CTX *mac_template(EVP_MAC *hmac, const char *md)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_end(),
    };
    if (c && EVP_MAC_CTX_set_params(c, p) == 1)
        return c;
    EVP_MAC_CTX_free(c);
    return NULL;
}

static int fetch_all(struct ike_crypto *cr)
{
    cr->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    cr->hash = EVP_MD_CTX_new();
    if (!cr->hmac || !cr->hash)
        return IKE_ERR_CRYPTO;
    for (int i = 0; i < IKE_MD_COUNT; i++) {
        cr->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
        cr->mac[i] = mac_template(cr->hmac, md_names[i]);
        if (!cr->md[i] || !cr->mac[i] || (size_t)EVP_MD_get_size(cr->md[i]) != md_len[i])
            return IKE_ERR_CRYPTO;
    }
    for (int i = 0; i < IKE_CIPH_COUNT; i++) {
        cr->cipher[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
        cr->cctx[i] = EVP_CIPHER_CTX_new();
        if (!cr->cipher[i] && i == IKE_CIPH_3DES_CBC) {
            ERR_clear_error();  /* legacy only: a provider without 3DES fails just those calls */
            continue;
        }
        if (!cr->cipher[i] || !cr->cctx[i])
            return IKE_ERR_CRYPTO;
    }
    return ike_dh_groups_new(&cr->dh);
}

int ike_crypto_new(struct ike_crypto **out)
{
    if (!out)
        return IKE_ERR_INVAL;
    *out = NULL;
    struct ike_crypto *cr = calloc(1, sizeof(*cr));
    if (!cr)
        return IKE_ERR_NOMEM;
    int rc = fetch_all(cr);
    if (rc != IKE_OK) {
        ike_crypto_free(cr);
        return rc;
    }
    *out = cr;
    return IKE_OK;
}

/* The contexts hold the last keys used; OpenSSL cleanses them when freeing. */
void ike_crypto_free(struct ike_crypto *cr)
{
    if (!cr)
        return;
    for (int i = 0; i < IKE_CIPH_COUNT; i++) {
        EVP_CIPHER_CTX_free(cr->cctx[i]);
        EVP_CIPHER_free(cr->cipher[i]);
    }
    for (int i = 0; i < IKE_MD_COUNT; i++) {
        EVP_MAC_CTX_free(cr->mac[i]);
        EVP_MD_free(cr->md[i]);
    }
    EVP_MD_CTX_free(cr->hash);
    EVP_MAC_free(cr->hmac);
    ike_dh_groups_free(cr->dh);
    free(cr);
}

EVP_MAC_CTX *ike_mac_start(struct ike_crypto *cr, enum ike_md_id md, const uint8_t *key,
                           size_t klen)
{
    static const uint8_t empty[1];
    if (!cr || md < 0 || md >= IKE_MD_COUNT || (!key && klen))
        return NULL;
    /* A NULL key would mean "keep the previous one" to EVP_MAC_init. */
    if (EVP_MAC_init(cr->mac[md], klen ? key : empty, klen, NULL) != 1)
        return NULL;
    return cr->mac[md];
}

int ike_mac_restart(EVP_MAC_CTX *mac)
{
    return EVP_MAC_init(mac, NULL, 0, NULL) == 1 ? IKE_OK : IKE_ERR_CRYPTO;
}

int ike_mac_update(EVP_MAC_CTX *mac, const struct ike_iov *v, unsigned nv)
{
    if (nv && !v)
        return IKE_ERR_INVAL;
    for (unsigned i = 0; i < nv; i++) {
        if (!v[i].p && v[i].n)
            return IKE_ERR_INVAL;
        if (v[i].n && EVP_MAC_update(mac, v[i].p, v[i].n) != 1)
            return IKE_ERR_CRYPTO;
    }
    return IKE_OK;
}

int ike_mac_final(EVP_MAC_CTX *mac, uint8_t *out, size_t outsize)
{
    size_t n = 0;
    return EVP_MAC_final(mac, out, &n, outsize) == 1 && n == EVP_MAC_CTX_get_mac_size(mac)
               ? IKE_OK : IKE_ERR_CRYPTO;
}

void ike_mac_scrub(struct ike_crypto *cr, enum ike_md_id md)
{
    static const uint8_t zero[1];
    if (cr && md >= 0 && md < IKE_MD_COUNT)
        (void)EVP_MAC_init(cr->mac[md], zero, sizeof(zero), NULL);
}

int ike_integ(struct ike_crypto *cr, uint16_t integ, const uint8_t *key,
              const struct ike_iov *v, unsigned nv, uint8_t *icv)
{
    enum ike_md_id md = ike_integ_md(integ);
    if (md == IKE_MD_NONE || !key || !icv)
        return IKE_ERR_INVAL;
    uint8_t full[IKE_MAX_PRF_LEN];
    EVP_MAC_CTX *mac = ike_mac_start(cr, md, key, ike_integ_key_len(integ));
    int rc = mac ? ike_mac_update(mac, v, nv) : IKE_ERR_CRYPTO;
    if (rc == IKE_OK)
        rc = ike_mac_final(mac, full, sizeof(full));
    if (rc == IKE_OK)
        memcpy(icv, full, ike_integ_icv_len(integ));   /* leftmost bits (RFC 2104 §5) */
    ike_wipe(full, sizeof(full));
    return rc;
}

/* One digest of v[0..nv) with the context's fetched algorithm (no implicit fetch per call). */
static int digest(struct ike_crypto *cr, enum ike_md_id md, const struct ike_iov *v, unsigned nv,
                  uint8_t *out, size_t *out_len)
{
    unsigned int n = 0;
    if (!cr || md < 0 || md >= IKE_MD_COUNT || !out || (nv && !v))
        return IKE_ERR_INVAL;
    if (EVP_DigestInit_ex2(cr->hash, cr->md[md], NULL) != 1)
        return IKE_ERR_CRYPTO;
    for (unsigned i = 0; i < nv; i++) {
        if (!v[i].p && v[i].n)
            return IKE_ERR_INVAL;
        if (v[i].n && EVP_DigestUpdate(cr->hash, v[i].p, v[i].n) != 1)
            return IKE_ERR_CRYPTO;
    }
    if (EVP_DigestFinal_ex(cr->hash, out, &n) != 1 || n != md_len[md])
        return IKE_ERR_CRYPTO;
    if (out_len)
        *out_len = n;
    return IKE_OK;
}

/* IKEv1's negotiated hash (RFC 2409 Appendix B IVs, RFC 3947 NAT-D). */
int ike_hash(struct ike_crypto *cr, uint16_t prf, const struct ike_iov *v, unsigned nv,
             uint8_t *out, size_t *out_len)
{
    enum ike_md_id md = ike_prf_md(prf);
    if (md == IKE_MD_NONE)
        return IKE_ERR_INVAL;
    return digest(cr, md, v, nv, out, out_len);
}

int ike_sha1(struct ike_crypto *cr, const struct ike_iov *v, unsigned nv, uint8_t out[20])
{
    return digest(cr, IKE_MD_SHA1, v, nv, out, NULL);
}

int ike_sha256(struct ike_crypto *cr, const struct ike_iov *v, unsigned nv, uint8_t out[32])
{
    return digest(cr, IKE_MD_SHA256, v, nv, out, NULL);
}
