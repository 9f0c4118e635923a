/*
 * Shared by fuzz_ikev1 and its seed generator: two IKEv1 contexts with an
 * ISAKMP SA and an IPsec SA up (deterministic randomness, so the keys are
 * the same on every run), and the input format:
 *
 *   repeat { mode:u8 len:u16 bytes[len] }
 *   mode 0: a raw datagram to the initiator (as from the responder)
 *   mode 1: a raw datagram to the responder (as from the initiator)
 *   mode 2, 3: bytes = first payload type:u8 | payload chain, sent by the
 *              initiator's ISAKMP SA as a Quick Mode / Informational message
 *              behind a correct HASH(1), encrypted under the right IV
 *              (RFC 2409 §5.5, §5.7), so the decoders and the exchange
 *              logic behind the protection run.
 */
#ifndef FUZZ_IKEV1_COMMON_H
#define FUZZ_IKEV1_COMMON_H

#include "../../ikecore/ikev1_int.h"
#include "../unit/ike_harness.h"

static inline void fz1_setup(struct h_pair *p)
{
    static const struct ike_suite ike = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                                         .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_CURVE25519};
    static const struct ike_suite esp = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                                         .integ = IKE_INTEG_HMAC_SHA2_256_128};
    h_init(p, "192.0.2.1", "192.0.2.2");
    for (int i = 0; i < 2; i++) {
        p->s[i].pc.version = 1;
        p->s[i].pc.ike[0] = ike;
        p->s[i].pc.esp[0] = esp;
        p->s[i].pc.ike_lifetime_s = 3600;
        p->s[i].pc.dpd_interval_s = 5;
    }
}

/* A protected message of the initiator's ISAKMP SA; *out_len 0 on failure. */
static inline void fz1_seal(struct h_pair *p, uint8_t exch, uint32_t msgid, uint8_t first,
                            const uint8_t *chain, size_t n, uint8_t *out, size_t cap,
                            size_t *out_len)
{
    struct ike_ctx *ctx = p->s[0].ctx;
    struct ike_sa *sa = ctx->sas;
    uint8_t iv[IKEV1_MAX_IV];
    *out_len = 0;
    while (sa && (!sa->v1 || sa->v1->st != V1_UP))
        sa = sa->next;
    size_t hlen = sa ? ikev1_hash_len(sa) : 0;
    if (!sa || IKEV1_HDR_LEN + 4 + hlen + n + 16 > cap)
        return;
    struct ikev1_hdr h = {.cky_i = sa->spi_i, .cky_r = sa->spi_r, .next = IKEV1_PLD_HASH,
                          .exchange = exch, .msgid = msgid};
    struct ikev1_enc e;
    ikev1_enc_init(&e, out, cap, true);
    ikev1_put_hdr(&e, &h);
    size_t at = e.w.len;
    wire_put_u8(&e.w, first);
    wire_put_u8(&e.w, 0);
    wire_put_u16(&e.w, (uint16_t)(4 + hlen));
    size_t hash_at = e.w.len;
    wire_reserve(&e.w, hlen);
    wire_put_bytes(&e.w, chain, n);
    if (!ikev1_enc_finish(&e) ||
        ikev1_hash_p2(ctx, sa, 1, msgid, NULL, out + hash_at + hlen, n, out + hash_at) != IKE_OK ||
        ikev1_p2_iv(ctx, sa, msgid, iv) != IKE_OK ||
        ikev1_encrypt(ctx, sa, iv, out, e.w.len, cap, out_len) != IKE_OK)
        *out_len = 0;
    (void)at;
}

static inline void fz1_put(uint8_t **w, uint8_t mode, const uint8_t *d, size_t n)
{
    *(*w)++ = mode;
    *(*w)++ = (uint8_t)(n >> 8);
    *(*w)++ = (uint8_t)n;
    memcpy(*w, d, n);
    *w += n;
}

#endif
