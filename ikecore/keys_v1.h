/*
 * IKEv1 key derivation (RFC 2409 §5, §5.5 and Appendix B), for the IKEv1
 * exchanges: pre-shared key authentication only, as in the rest of ikecore.
 *
 * "prf" is an IKEv2 PRF identifier (enum ike_prf) naming the HMAC of the
 * negotiated IKEv1 hash (RFC 2409 §4: without a PRF attribute, the prf is
 * the HMAC version of the hash): IKE_PRF_HMAC_SHA1 for hash 2 (SHA),
 * IKE_PRF_HMAC_SHA2_256/384/512 for hashes 4/5/6 (IANA IKEv1 registry). The IKEv1
 * code maps its attribute values to these. Cookies are the 8-octet ISAKMP
 * header values as host integers, like the IKEv2 SPIs in crypto.h.
 */
#ifndef IKECORE_KEYS_V1_H
#define IKECORE_KEYS_V1_H

#include "crypto.h"

#define IKEV1_MAX_IV 16

struct ikev1_keys {
    uint16_t prf_len;               /* SKEYID_* lengths */
    uint16_t encr_len;              /* the phase 1 cipher's key */
    uint8_t skeyid_d[IKE_MAX_PRF_LEN];
    uint8_t skeyid_a[IKE_MAX_PRF_LEN];
    uint8_t skeyid_e[IKE_MAX_PRF_LEN];
    uint8_t encr_key[IKE_MAX_ENCR_KEY];
};

/* The negotiated hash of the prf's digest over v[0..nv); *out_len = ike_prf_len(prf). */
int ike_hash(struct ike_crypto *cr, uint16_t prf, const struct ike_iov *v, unsigned nv,
             uint8_t *out, size_t *out_len);

/* §5: SKEYID = prf(pre-shared-key, Ni_b | Nr_b); skeyid gets ike_prf_len(prf) bytes. */
int ikev1_skeyid_psk(struct ike_crypto *cr, uint16_t prf, const uint8_t *psk, size_t psk_len,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                     uint8_t *skeyid);

/*
 * §5: SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *     SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *     SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the phase 1 encryption key for (encr, key_bits) from SKEYID_e,
 * expanded as in Appendix B when SKEYID_e is too short (e.g. 3DES or
 * AES-256 with SHA-1). AES-CBC and 3DES only: phase 1 has no AEAD here.
 */
int ikev1_derive_keys(struct ike_crypto *cr, uint16_t prf, const uint8_t *skeyid,
                      size_t skeyid_len, const uint8_t *g_xy, size_t g_xy_len,
                      uint64_t cky_i, uint64_t cky_r, uint16_t encr, uint16_t key_bits,
                      struct ikev1_keys *out);

/*
 * Appendix B: the phase 1 IV = hash(g^xi | g^xr), the KE payload data of
 * initiator and responder, truncated to the cipher's block length (written
 * to iv; *iv_len set to it).
 */
int ikev1_phase1_iv(struct ike_crypto *cr, uint16_t prf, const uint8_t *g_xi, size_t g_xi_len,
                    const uint8_t *g_xr, size_t g_xr_len, uint16_t encr, uint8_t *iv,
                    size_t *iv_len);

/*
 * Appendix B: the first IV of a phase 2 (Quick Mode, Informational)
 * exchange = hash(last phase 1 CBC output block | M-ID), truncated to the
 * block length; last_block has ike_encr_block_len(encr) bytes.
 */
int ikev1_phase2_iv(struct ike_crypto *cr, uint16_t prf, const uint8_t *last_block,
                    uint16_t encr, uint32_t msgid, uint8_t *iv, size_t *iv_len);

/*
 * §5.5: KEYMAT for one SA (one SPI, one direction), outlen bytes:
 *   K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 *   Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 * g_qm NULL: no PFS. spi is the host-order SPI; ni/nr the Quick Mode nonces.
 */
int ikev1_qm_keymat(struct ike_crypto *cr, uint16_t prf, const uint8_t *skeyid_d,
                    size_t skeyid_d_len, const uint8_t *g_qm, size_t g_qm_len,
                    uint8_t protocol, uint32_t spi, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, uint8_t *out, size_t outlen);

#endif
