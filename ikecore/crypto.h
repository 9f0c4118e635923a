/*
 * Internal crypto interface of ikecore: OpenSSL 3 EVP behind a small API.
 * Everything takes a struct ike_crypto, which holds the algorithm objects
 * fetched once per context (EVP_MD/EVP_MAC/EVP_CIPHER fetches are costly),
 * so no per-message fetch and no global state.
 */
#ifndef IKECORE_CRYPTO_H
#define IKECORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "ikecore.h"

#define IKE_MAX_PRF_LEN 64      /* SHA-512 */
#define IKE_MAX_ENCR_KEY 36     /* AES-256 + 4-byte GCM salt */
#define IKE_MAX_INTEG_KEY 64
#define IKE_MAX_ICV 32
#define IKE_MAX_DH_PUB 1024     /* MODP-8192 would be 1024; we stop at 4096 (512) */
#define IKE_MAX_DH_SHARED 512

struct ike_crypto;              /* per context: fetched algorithms */
struct ike_dh;                  /* one ephemeral key pair */

struct ike_iov {
    const uint8_t *p;
    size_t n;
};

int ike_crypto_new(struct ike_crypto **out);
void ike_crypto_free(struct ike_crypto *cr);

/* Sizes; 0 for an unknown or unsupported id. */
size_t ike_prf_len(uint16_t prf);
size_t ike_integ_key_len(uint16_t integ);
size_t ike_integ_icv_len(uint16_t integ);            /* truncated length on the wire */
size_t ike_encr_key_len(uint16_t encr, uint16_t key_bits);  /* GCM: + 4 salt bytes */
size_t ike_encr_iv_len(uint16_t encr);               /* on the wire: CBC 16, GCM 8 */
size_t ike_encr_block_len(uint16_t encr);            /* padding unit: CBC 16, GCM 1 */
size_t ike_encr_icv_len(uint16_t encr);              /* AEAD tag: GCM-16 16, else 0 */
size_t ike_dh_pub_len(uint16_t group);               /* KE payload data length */
bool ike_encr_is_aead(uint16_t encr);

/* PRF over the concatenation of v[0..nv). out gets ike_prf_len(prf) bytes. */
int ike_prf(struct ike_crypto *cr, uint16_t prf, const uint8_t *key, size_t klen,
            const struct ike_iov *v, unsigned nv, uint8_t *out);
/* prf+ (RFC 7296 §2.13): outlen bytes of T1 | T2 | ...; at most 255 blocks. */
int ike_prf_plus(struct ike_crypto *cr, uint16_t prf, const uint8_t *key, size_t klen,
                 const struct ike_iov *seed, unsigned nseed, uint8_t *out, size_t outlen);

/*
 * Plain digests of v[0..nv) with the context's algorithms: SHA-1 for NAT
 * detection (RFC 7296 §2.23), SHA-256 for cookies (§2.6).
 */
int ike_sha1(struct ike_crypto *cr, const struct ike_iov *v, unsigned nv, uint8_t out[20]);
int ike_sha256(struct ike_crypto *cr, const struct ike_iov *v, unsigned nv, uint8_t out[32]);

/* Integrity for non-AEAD SK payloads: icv gets ike_integ_icv_len bytes. */
int ike_integ(struct ike_crypto *cr, uint16_t integ, const uint8_t *key,
              const struct ike_iov *v, unsigned nv, uint8_t *icv);
/* Constant-time compare of an ICV/HASH; 1 when equal. */
int ike_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

/*
 * Encrypt / decrypt the body of an SK payload (RFC 7296 §3.14, RFC 5282 for
 * GCM). key: ike_encr_key_len bytes (GCM: key then 4-byte salt). iv: the
 * wire IV (ike_encr_iv_len). aad: the AEAD associated data (ignored for CBC).
 * in and out may be the same buffer; len is a multiple of the block length
 * for CBC (no padding is added or removed here). tag: ike_encr_icv_len bytes,
 * written by encrypt, checked by decrypt (IKE_ERR_CRYPTO on mismatch).
 */
int ike_encrypt(struct ike_crypto *cr, uint16_t encr, const uint8_t *key, size_t klen,
                const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag);
int ike_decrypt(struct ike_crypto *cr, uint16_t encr, const uint8_t *key, size_t klen,
                const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag);

/*
 * Ephemeral Diffie-Hellman. The private value comes from the caller's
 * randomness (sans-I/O: OpenSSL's own RNG is not used for it). Public values
 * are in IKE's wire format: MODP big-endian padded to the prime's length
 * (RFC 7296 §3.4), ECP x | y each padded to the field size (RFC 5903 §7),
 * Curve25519 the 32-byte u-coordinate (RFC 8031).
 */
int ike_dh_new(struct ike_crypto *cr, uint16_t group, ike_random_fn rnd, void *rnd_arg,
               struct ike_dh **out);
const uint8_t *ike_dh_public(const struct ike_dh *dh, size_t *len);
uint16_t ike_dh_group(const struct ike_dh *dh);
/* Rejects a malformed or weak peer value (wrong length, point not on the curve, 1, p-1). */
int ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
                  uint8_t *secret, size_t *secret_len);
void ike_dh_free(struct ike_dh *dh);  /* wipes the private value */

/* IKEv2 key schedule (RFC 7296 §2.14, §2.17, §2.18). */
struct ikev2_keys {
    uint16_t prf_len, integ_len, encr_len;
    uint8_t sk_d[IKE_MAX_PRF_LEN];
    uint8_t sk_ai[IKE_MAX_INTEG_KEY], sk_ar[IKE_MAX_INTEG_KEY];
    uint8_t sk_ei[IKE_MAX_ENCR_KEY], sk_er[IKE_MAX_ENCR_KEY];
    uint8_t sk_pi[IKE_MAX_PRF_LEN], sk_pr[IKE_MAX_PRF_LEN];
};

/* SKEYSEED = prf(Ni | Nr, g^ir); {SK_*} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). */
int ikev2_derive_ike_keys(struct ike_crypto *cr, const struct ike_suite *s,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                          const uint8_t *g_ir, size_t g_ir_len,
                          uint64_t spi_i, uint64_t spi_r, struct ikev2_keys *out);
/* Rekeyed IKE SA (§2.18): SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr), with the old PRF. */
int ikev2_derive_rekey_ike_keys(struct ike_crypto *cr, uint16_t old_prf,
                                const uint8_t *old_sk_d, size_t old_sk_d_len,
                                const struct ike_suite *s,
                                const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                                const uint8_t *g_ir, size_t g_ir_len,
                                uint64_t spi_i, uint64_t spi_r, struct ikev2_keys *out);
/*
 * CHILD SA KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr) (§2.17): initiator-to-
 * responder encr, integ, then responder-to-initiator encr, integ. Fills the
 * key fields of sa (in/out by role) and its key lengths from sa->suite.
 * g_ir may be NULL (no PFS).
 */
int ikev2_derive_child_keys(struct ike_crypto *cr, uint16_t prf,
                            const uint8_t *sk_d, size_t sk_d_len,
                            const uint8_t *g_ir, size_t g_ir_len,
                            const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                            bool initiator, struct ike_child_sa *sa);

/* Wipe and free helpers for secrets. */
void ike_wipe(void *p, size_t n);

#endif
