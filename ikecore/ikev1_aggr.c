/*
 * Aggressive Mode (RFC 2409 §5) with pre-shared keys, only for peers
 * configured for it (identities in the clear, the PSK open to offline
 * guessing from one exchange):
 *   I -> R  HDR, SA, KE, Ni, IDii
 *   R -> I  HDR, SA, KE, Nr, IDir, HASH_R
 *   I -> R  HDR*, HASH_I
 * One KE, so every transform offered has the first suite's group. The
 * responder retransmits message 2 until message 3 comes; message 3 may
 * arrive encrypted or not (both exist in the field). NAT traversal
 * (RFC 3947): the NAT-T VID in messages 1 and 2, NAT-D in 2 and 3, and
 * message 3 from port 4500 to 4500 once a NAT is found.
 */
#include "ikev1_int.h"

#include <string.h>

int ikev1_aggr_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev1_enc e;
    sa->v1->st = V1_AM_I1;
    sa->suite = sa->peer->cfg.ike[0];       /* its group makes our KE */
    int rc = ikev1_new_cookie(ctx, &sa->spi_i);
    if (rc == IKE_OK)
        rc = ikev1_make_ke(ctx, sa);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    if (rc == IKE_OK)
        rc = ikev1_put_our_sa(sa, &e, true);
    ikev1_put_ke_nonce(sa, &e);
    ikev1_put_own_id(&e, sa);
    ikev1_put_vid(&e, ikev1_dpd_vid, IKEV1_DPD_VID_LEN);
    ikev1_put_vid(&e, ikev1_natt_vid, IKEV1_NATT_VID_LEN);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_AGGRESSIVE, 0, &e, NULL, &sa->v1->x, true);
    return rc;
}

/* Message 1 before any state: a peer of ours that allows Aggressive Mode, a transform, an ID. */
static uint16_t first_check(struct ike_ctx *ctx, struct ike_peer *p, const struct ikev1_msg *m,
                            struct ike_suite *suite, uint32_t *life, struct ikev1_prop *chosen,
                            const char **why)
{
    if (!p->cfg.ikev1_aggressive) {
        ctx->stats.drop_bad_exchange++;
        *why = "the peer tried Aggressive Mode, which is not enabled for it";
        return IKEV1_N_NO_PROPOSAL_CHOSEN;
    }
    if (!ikev1_has(m, IKEV1_PLD_SA) || !ikev1_has(m, IKEV1_PLD_KE) ||
        !ikev1_has(m, IKEV1_PLD_NONCE) || m->n_id != 1) {
        *why = "the peer's Aggressive Mode message lacks a payload";
        return IKEV1_N_PAYLOAD_MALFORMED;
    }
    if (ikev1_p1_select(p, &m->sa, false, suite, life, chosen) != 0 ||
        m->ke.len != ike_dh_pub_len(suite->dh)) {
        *why = "none of the peer's phase 1 transforms is ours";
        return IKEV1_N_NO_PROPOSAL_CHOSEN;
    }
    return 0;
}

int ikev1_aggr_respond1(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                        const struct ikev1_msg *m, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst)
{
    struct ike_peer *p = ike_peer_by_addr(ctx, src, 1);
    struct ike_suite suite;
    struct ikev1_prop chosen;
    uint32_t life;
    const char *why = NULL;
    if (!p) {
        ctx->stats.drop_unknown_spi++;
        return IKE_ERR_DROPPED;
    }
    uint16_t n = first_check(ctx, p, m, &suite, &life, &chosen, &why);
    if (n) {
        ike_emit_error(ctx, p, ikev1_notify_reason(n), why);
        ikev1_send_plain_notify(ctx, dst, src, m->hdr.cky_i, 0, n, p);
        return IKE_ERR_DROPPED;
    }
    struct ike_sa *sa = ikev1_responder_sa(ctx, p, now, m, &suite, life);
    if (!sa)
        return IKE_ERR_NOMEM;
    sa->local = *dst;
    sa->remote = *src;
    sa->v1->aggressive = true;
    sa->v1->st = V1_AM_R2;
    if (!ikev1_remote_id_ok(sa, &m->id[0]) || m->id[0].body_len > sizeof(sa->v1->peer_id_b))
        return ikev1_auth_refused(ctx, sa, IKEV1_N_INVALID_ID_INFORMATION,
                                  "the peer's identity is not the one configured");
    memcpy(sa->v1->peer_id_b, m->id[0].body, m->id[0].body_len);
    sa->v1->peer_id_b_len = m->id[0].body_len;
    if (!ikev1_take_ke(sa, m) || ikev1_make_ke(ctx, sa) != IKE_OK ||
        ikev1_phase1_keys(ctx, sa) != IKE_OK)
        return ikev1_auth_refused(ctx, sa, IKEV1_N_INVALID_KEY_INFORMATION,
                                  "the peer's KE is not a valid public value");
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    struct ikev1_enc e;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_sa(&e, &chosen, 1);
    ikev1_put_ke_nonce(sa, &e);
    int rc = ikev1_put_id_hash(ctx, sa, &e);
    ikev1_put_vid(&e, ikev1_dpd_vid, IKEV1_DPD_VID_LEN);
    if (sa->v1->natt)
        ikev1_put_vid(&e, ikev1_natt_vid, IKEV1_NATT_VID_LEN);
    if (rc == IKE_OK)
        rc = ikev1_natd_add(ctx, sa, &e);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_AGGRESSIVE, 0, &e, NULL, &sa->v1->x, true);
    return rc;
}

/* HASH_I over IDii_b, as we sent it in message 1. */
static int own_hash_i(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t *h)
{
    struct ikev1_id id;
    struct ikev1_enc ide;
    uint8_t idbuf[IKE_MAX_ID + 8];
    ikev1_enc_init(&ide, idbuf, sizeof(idbuf), false);
    ikev1_put_own_id(&ide, sa);
    if (ide.w.err || ikev1_pld_id(idbuf, IKEV1_GEN_LEN, ide.w.len - IKEV1_GEN_LEN, &id) ||
        ikev1_hash_ir(ctx, sa, true, id.body, id.body_len, h) != IKE_OK)
        return IKE_ERR_CRYPTO;
    return IKE_OK;
}

/* Initiator: message 2 -> 3 (from port 4500 behind a NAT, RFC 3947 §4), established. */
static int got_msg2(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, const struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    const char *why = NULL;
    uint8_t h[IKE_MAX_PRF_LEN];
    if ((m->hdr.flags & IKEV1_FLAG_ENC) || m->hdr.cky_r == 0 || !ikev1_has(m, IKEV1_PLD_SA)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (ikev1_p1_check(sa->peer, &m->sa, &sa->suite, &sa->v1->life_s) != 0 ||
        sa->suite.dh != ike_dh_group(sa->dh)) {
        ikev1_fail(ctx, sa, IKE_R_NO_PROPOSAL_CHOSEN,
                   "the peer chose a transform we did not offer");
        return IKE_ERR_DROPPED;
    }
    sa->spi_r = m->hdr.cky_r;
    sa->v1->peer_dpd = m->dpd_vid;
    sa->v1->natt = m->natt_vid;
    if (!ikev1_take_ke(sa, m) || ikev1_phase1_keys(ctx, sa) != IKE_OK)
        return ikev1_auth_refused(ctx, sa, IKEV1_N_INVALID_KEY_INFORMATION,
                                  "the peer's KE is not a valid public value");
    uint16_t n = ikev1_check_auth(ctx, sa, m, IKEV1_P_OK, &why);
    if (n)
        return ikev1_auth_refused(ctx, sa, n, why);
    int rc = ikev1_natd_take(ctx, sa, m, src, dst);
    if (rc != IKE_OK)
        return rc;
    if (ike_sa_nat(sa) && ike_addr_port(&sa->local) != IKE_NATT_PORT)
        ike_sa_float(sa);           /* one started on 4500 (a rekey) keeps the NAT's port */
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    struct ikev1_enc e;
    if (own_hash_i(ctx, sa, h) != IKE_OK)
        return IKE_ERR_CRYPTO;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_hash(&e, h, ikev1_hash_len(sa));
    rc = ikev1_natd_add(ctx, sa, &e);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_AGGRESSIVE, 0, &e, sa->v1->iv, &sa->v1->x,
                        false);
    if (rc == IKE_OK)
        ikev1_phase1_done(ctx, sa, now);
    return rc;
}

/*
 * Responder: message 3, established; from then on to where it came from.
 * HASH_I covers IDii_b of message 1 (kept then).
 */
static int got_msg3(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    uint8_t next_iv[IKEV1_MAX_IV], h[IKE_MAX_PRF_LEN];
    bool enc = m->hdr.flags & IKEV1_FLAG_ENC;
    struct ikev1_sa *v = sa->v1;
    if (enc) {
        int perr = ikev1_decrypt(ctx, sa, v->iv, pkt, len, m, next_iv);
        if (perr == IKE_ERR_DROPPED)
            return perr;
        if (perr != IKEV1_P_OK) {
            ike_count_perr(ctx, perr);
            if (!ikev1_garbage_again(ctx, sa, pkt, len))
                return IKE_ERR_DROPPED;
            return ikev1_auth_refused(ctx, sa, IKEV1_N_AUTHENTICATION_FAILED,
                                      "the peer's message does not decrypt: wrong pre-shared key?");
        }
    }
    if (!ikev1_has(m, IKEV1_PLD_HASH) ||
        ikev1_hash_ir(ctx, sa, true, v->peer_id_b, v->peer_id_b_len, h) != IKE_OK ||
        m->hash.len != ikev1_hash_len(sa) || !ike_ct_equal(h, m->hash.data, m->hash.len)) {
        ctx->stats.drop_integrity++;
        return ikev1_auth_refused(ctx, sa, IKEV1_N_AUTHENTICATION_FAILED,
                                  "the peer's HASH does not verify: wrong pre-shared key");
    }
    int rc = ikev1_natd_take(ctx, sa, m, src, dst);
    if (rc != IKE_OK)
        return rc;
    ike_sa_follow(ctx, sa, src, dst);
    if (enc)
        memcpy(v->iv, next_iv, v->blk);
    ikev1_rx_seen(ctx, &v->x, pkt, len);
    v->x.rtx = false;
    ikev1_phase1_done(ctx, sa, now);
    return IKE_OK;
}

int ikev1_aggr_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst)
{
    switch (sa->v1->st) {
    case V1_AM_I1: return got_msg2(ctx, sa, now, pkt, len, m, src, dst);
    case V1_AM_R2: return got_msg3(ctx, sa, now, pkt, len, m, src, dst);
    default:
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
}
