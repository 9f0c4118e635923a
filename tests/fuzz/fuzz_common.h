/*
 * Shared by the fuzz target and the seed generator: two contexts with an
 * established IKE SA (deterministic randomness, so the keys are the same on
 * every run), and the input format:
 *
 *   repeat { mode:u8 len:u16 bytes[len] }
 *   mode 0: a raw datagram to the initiator (as from the responder)
 *   mode 1: a raw datagram to the responder (as from the initiator)
 *   mode 2..5: bytes = first payload type:u8 | inner payload chain, sealed in
 *              an SK payload with the real keys as a request of exchange
 *              IKE_AUTH / CREATE_CHILD_SA / INFORMATIONAL / INFORMATIONAL(response)
 *              from the initiator, so the decoders behind the SK payload run.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "../../ikecore/ike_int.h"
#include "../unit/ike_harness.h"

static inline void fz_setup(struct h_pair *p)
{
    h_init(p, "192.0.2.1", "192.0.2.2");
    for (int i = 0; i < 2; i++) {
        p->s[i].pc.ike[0].dh = IKE_DH_CURVE25519;   /* cheapest handshake */
        p->s[i].pc.dpd_interval_s = 5;
    }
}

/* Seal an inner chain as the initiator's SA would; *out_len 0 on failure. */
static inline void fz_seal(struct h_pair *p, uint8_t exchange, bool response, uint8_t first,
                           const uint8_t *inner, size_t n, uint8_t *out, size_t cap,
                           size_t *out_len)
{
    struct ike_sa *sa = p->s[0].ctx->sas;
    *out_len = 0;
    if (!sa || sa->state != SA_ESTABLISHED)
        return;
    /* the message ID the responder expects next, so requests get past the window check */
    struct ike_sa *peer = ike_sa_find(p->s[1].ctx, &(struct ikev2_hdr){.spi_i = sa->spi_i,
                                      .spi_r = sa->spi_r, .flags = IKEV2_FLAG_INITIATOR});
    uint32_t msgid = response ? sa->msgid_peer - 1 : peer ? peer->msgid_peer : sa->msgid_next;
    if (ikev2_msg_seal(p->s[0].ctx, sa, exchange, response, msgid, inner, n, first, out, cap,
                       out_len) != IKE_OK)
        *out_len = 0;
}

static inline void fz_put(uint8_t **w, uint8_t mode, const uint8_t *d, size_t n)
{
    *(*w)++ = mode;
    *(*w)++ = (uint8_t)(n >> 8);
    *(*w)++ = (uint8_t)n;
    memcpy(*w, d, n);
    *w += n;
}

#endif
