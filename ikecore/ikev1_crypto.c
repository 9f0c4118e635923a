/*
 * IKEv1 message protection: the phase 1 keys (RFC 2409 §5), encryption of
 * everything after the ISAKMP header with the IV chain of Appendix B (each
 * message's IV is the previous one's last ciphertext block; phase 2 and
 * Informational exchanges start from hash(last phase 1 block | M-ID)), and
 * the HASH payloads of §5 (HASH_I/HASH_R), §5.5 (Quick Mode) and §5.7.
 */
#include "ikev1_int.h"

#include <string.h>

size_t ikev1_hash_len(const struct ike_sa *sa)
{
    return ike_prf_len(sa->suite.prf);
}

/* g^xy, SKEYID (pre-shared keys), SKEYID_d/a/e, the encryption key and the first IV. */
int ikev1_phase1_keys(struct ike_ctx *ctx, struct ike_sa *sa)
{
    struct ikev1_sa *v = sa->v1;
    uint8_t g[IKE_MAX_DH_SHARED];
    size_t glen = sizeof(g), ours_len, ivlen;
    uint16_t prf = sa->suite.prf;
    const uint8_t *ours = ike_dh_public(sa->dh, &ours_len);
    int rc = ike_dh_shared(sa->dh, v->g_peer, v->g_peer_len, g, &glen);
    if (rc == IKE_OK)
        rc = ikev1_skeyid_psk(ctx->cr, prf, sa->peer->psk, sa->peer->cfg.psk_len, sa->ni,
                              sa->ni_len, sa->nr, sa->nr_len, v->skeyid);
    if (rc == IKE_OK)
        rc = ikev1_derive_keys(ctx->cr, prf, v->skeyid, ike_prf_len(prf), g, glen, sa->spi_i,
                               sa->spi_r, sa->suite.encr, sa->suite.key_bits, &v->k);
    const uint8_t *xi = sa->initiator ? ours : v->g_peer;
    const uint8_t *xr = sa->initiator ? v->g_peer : ours;
    size_t xi_len = sa->initiator ? ours_len : v->g_peer_len;
    size_t xr_len = sa->initiator ? v->g_peer_len : ours_len;
    if (rc == IKE_OK)
        rc = ikev1_phase1_iv(ctx->cr, prf, xi, xi_len, xr, xr_len, sa->suite.encr, v->iv, &ivlen);
    v->blk = ike_encr_block_len(sa->suite.encr);
    ike_wipe(g, sizeof(g));
    return rc == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

/* buf: header then n - IKEV1_HDR_LEN plaintext octets; padded (zeros), encrypted in place. */
int ikev1_encrypt(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t *iv, uint8_t *buf, size_t n,
                  size_t cap, size_t *out_len)
{
    struct ikev1_sa *v = sa->v1;
    size_t body = n - IKEV1_HDR_LEN, pad = (v->blk - body % v->blk) % v->blk;
    if (n < IKEV1_HDR_LEN || n + pad > cap || n + pad > UINT32_MAX)
        return IKE_ERR_INVAL;
    memset(buf + n, 0, pad);
    body += pad;
    if (ike_encrypt(ctx->cr, sa->suite.encr, v->k.encr_key, v->k.encr_len, iv, NULL, 0,
                    buf + IKEV1_HDR_LEN, body, buf + IKEV1_HDR_LEN, NULL) != IKE_OK)
        return IKE_ERR_CRYPTO;
    memcpy(iv, buf + IKEV1_HDR_LEN + body - v->blk, v->blk);
    buf[19] |= IKEV1_FLAG_ENC;
    *out_len = n + pad;
    wire_put_be32_at(buf + 24, (uint32_t)*out_len);
    return IKE_OK;
}

/*
 * The body of pkt decrypted into ctx->plain and its chain decoded into m;
 * next_iv gets the last ciphertext block, for the caller to keep once the
 * message is accepted. IKE_ERR_DROPPED (counted) or an ikev1_perr.
 */
int ikev1_decrypt(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *iv, const uint8_t *pkt,
                  size_t len, struct ikev1_msg *m, uint8_t *next_iv)
{
    struct ikev1_sa *v = sa->v1;
    size_t body = len - IKEV1_HDR_LEN;
    if (!v->k.encr_len || body == 0 || body % v->blk || body > sizeof(ctx->plain)) {
        ctx->stats.drop_decrypt++;
        return IKE_ERR_DROPPED;
    }
    if (ike_decrypt(ctx->cr, sa->suite.encr, v->k.encr_key, v->k.encr_len, iv, NULL, 0,
                    pkt + IKEV1_HDR_LEN, body, ctx->plain, NULL) != IKE_OK) {
        ctx->stats.drop_decrypt++;
        return IKE_ERR_DROPPED;
    }
    memcpy(next_iv, pkt + len - v->blk, v->blk);
    return ikev1_pld_chain(ctx->plain, 0, body, m->hdr.next, true, m);
}

/*
 * §5: HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 *     HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 */
int ikev1_hash_ir(struct ike_ctx *ctx, struct ike_sa *sa, bool of_initiator,
                  const uint8_t *id_body, size_t id_len, uint8_t *out)
{
    struct ikev1_sa *v = sa->v1;
    size_t ours_len;
    const uint8_t *ours = ike_dh_public(sa->dh, &ours_len);
    uint8_t ci[8], cr[8];
    wire_put_be64_at(ci, sa->spi_i);
    wire_put_be64_at(cr, sa->spi_r);
    bool ours_first = of_initiator == sa->initiator;
    struct ike_iov iov[] = {
        {ours_first ? ours : v->g_peer, ours_first ? ours_len : v->g_peer_len},
        {ours_first ? v->g_peer : ours, ours_first ? v->g_peer_len : ours_len},
        {of_initiator ? ci : cr, 8}, {of_initiator ? cr : ci, 8},
        {v->sai_b, v->sai_b_len}, {id_body, id_len},
    };
    size_t plen = ike_prf_len(sa->suite.prf);
    int rc = ike_prf(ctx->cr, sa->suite.prf, v->skeyid, plen, iov, 6, out);
    return rc == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

int ikev1_hash_p2(struct ike_ctx *ctx, struct ike_sa *sa, int which, uint32_t msgid,
                  const struct v1_qm *q, const uint8_t *rest, size_t rest_len, uint8_t *out)
{
    static const uint8_t zero = 0;
    uint8_t mid[4];
    wire_put_be32_at(mid, msgid);
    struct ike_iov iov[5];
    unsigned n = 0;
    if (which == 3)
        iov[n++] = (struct ike_iov){&zero, 1};
    iov[n++] = (struct ike_iov){mid, 4};
    if (which >= 2)
        iov[n++] = (struct ike_iov){q->ni, q->ni_len};
    if (which == 3)
        iov[n++] = (struct ike_iov){q->nr, q->nr_len};
    else
        iov[n++] = (struct ike_iov){rest, rest_len};
    struct ikev1_sa *v = sa->v1;
    int rc = ike_prf(ctx->cr, sa->suite.prf, v->k.skeyid_a, v->k.prf_len, iov, n, out);
    return rc == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

int ikev1_p2_iv(struct ike_ctx *ctx, struct ike_sa *sa, uint32_t msgid, uint8_t *iv)
{
    size_t n;
    int rc = ikev1_phase2_iv(ctx->cr, sa->suite.prf, sa->v1->iv, sa->suite.encr, msgid, iv, &n);
    return rc == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

size_t ikev1_hash_begin(struct ikev1_enc *e, const struct ike_sa *sa)
{
    static const uint8_t zeros[IKE_MAX_PRF_LEN];
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_HASH);
    wire_put_bytes(&e->w, zeros, ikev1_hash_len(sa));
    ikev1_pld_end(e, start);
    return start;
}

/* The HASH at start covers everything written after it (§5.5, §5.7). */
int ikev1_hash_fill(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e, size_t start,
                    int which, uint32_t msgid, const struct v1_qm *q)
{
    size_t hlen = ikev1_hash_len(sa), after = start + IKEV1_GEN_LEN + hlen;
    if (e->w.err || after > e->w.len)
        return IKE_ERR_INVAL;
    return ikev1_hash_p2(ctx, sa, which, msgid, q, e->w.p + after, e->w.len - after,
                         e->w.p + start + IKEV1_GEN_LEN);
}
