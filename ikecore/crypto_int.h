/*
 * Inside the crypto layer (crypto.c, cipher.c, prf.c, dh.c, keys_v1.c,
 * keys_v2.c): the per-context algorithm objects behind struct ike_crypto.
 * Not for the protocol code, which sees only crypto.h.
 *
 * A struct ike_crypto belongs to one ike_ctx and so to one thread at a time:
 * the MAC and cipher contexts below are reused from call to call (no
 * allocation per message) and are not safe to share between threads.
 * They keep the last key they were given until the next call re-keys them
 * (the key schedules re-key theirs with a constant when done, see
 * ike_mac_scrub) or ike_crypto_free, where OpenSSL cleanses them.
 */
#ifndef IKECORE_CRYPTO_INT_H
#define IKECORE_CRYPTO_INT_H

#include <openssl/evp.h>

#include "crypto.h"

/* The digests behind the PRFs, the integrity algorithms and IKEv1's hash. */
enum ike_md_id {
    IKE_MD_SHA1,
    IKE_MD_SHA256,
    IKE_MD_SHA384,
    IKE_MD_SHA512,
    IKE_MD_COUNT,
    IKE_MD_NONE = -1,
};

enum ike_cipher_id {
    IKE_CIPH_AES128_CBC,
    IKE_CIPH_AES192_CBC,
    IKE_CIPH_AES256_CBC,
    IKE_CIPH_AES128_GCM,
    IKE_CIPH_AES192_GCM,
    IKE_CIPH_AES256_GCM,
    IKE_CIPH_3DES_CBC,
    IKE_CIPH_COUNT,
    IKE_CIPH_NONE = -1,
};

struct ike_dh_groups;           /* dh.c: primes, curves, key import contexts */

struct ike_crypto {
    EVP_MAC *hmac;
    EVP_MD *md[IKE_MD_COUNT];
    /*
     * One HMAC context per digest, digest already set: re-keyed with
     * EVP_MAC_init for each use. Cheaper than a fresh context with its
     * digest parameter (a fetch by name) or an EVP_MAC_CTX_dup of a
     * template (an allocation); bench_crypto measures the three.
     */
    EVP_MAC_CTX *mac[IKE_MD_COUNT];
    EVP_MD_CTX *hash;
    EVP_CIPHER *cipher[IKE_CIPH_COUNT];
    EVP_CIPHER_CTX *cctx[IKE_CIPH_COUNT];   /* one per cipher: re-init keeps its state */
    struct ike_dh_groups *dh;
};

/* Identifier to digest; IKE_MD_NONE when unknown. */
enum ike_md_id ike_prf_md(uint16_t prf);
enum ike_md_id ike_integ_md(uint16_t integ);

/*
 * The HMAC context of digest md keyed with key: ready for ike_mac_update.
 * NULL on error. klen may be 0 (an empty key is a key, not "reuse the last").
 */
EVP_MAC_CTX *ike_mac_start(struct ike_crypto *cr, enum ike_md_id md, const uint8_t *key,
                           size_t klen);
/* Restart the same context with the key it already holds (prf+ iterations). */
int ike_mac_restart(EVP_MAC_CTX *mac);
int ike_mac_update(EVP_MAC_CTX *mac, const struct ike_iov *v, unsigned nv);
/* out must hold the full digest (IKE_MAX_PRF_LEN suffices). */
int ike_mac_final(EVP_MAC_CTX *mac, uint8_t *out, size_t outsize);
/* Re-key the context with a constant so the last secret key does not linger in it. */
void ike_mac_scrub(struct ike_crypto *cr, enum ike_md_id md);

/* Network byte order, for SPIs, cookies and message IDs inside PRF seeds. */
static inline void ike_put_be64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

static inline void ike_put_be32(uint8_t *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

/* dh.c: group data, made once per struct ike_crypto. */
int ike_dh_groups_new(struct ike_dh_groups **out);
void ike_dh_groups_free(struct ike_dh_groups *g);

#endif
