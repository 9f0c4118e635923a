/*
 * Main Mode (RFC 2409 §5, identity protection) with pre-shared keys:
 *   I -> R  HDR, SA                     R -> I  HDR, SA
 *   I -> R  HDR, KE, Ni                 R -> I  HDR, KE, Nr
 *   I -> R  HDR*, IDii, HASH_I          R -> I  HDR*, IDir, HASH_R
 * The initiator retransmits; the responder answers duplicates (ikev1_input.c).
 * NAT traversal (RFC 3947): the NAT-T VID in the first two messages, NAT-D
 * in the next two; with a NAT found the initiator sends message 5 from
 * port 4500 to 4500 and the responder answers where it came from.
 */
#include "ikev1_int.h"

#include <stdlib.h>
#include <string.h>

int ikev1_new_cookie(struct ike_ctx *ctx, uint64_t *c)
{
    uint8_t b[8];
    *c = 0;
    while (*c == 0) {
        if (ike_rand(ctx, b, sizeof(b)) != IKE_OK)
            return IKE_ERR_CRYPTO;
        *c = wire_get64(b);
    }
    return IKE_OK;
}

static int keep_sai(struct ike_sa *sa, const uint8_t *body, size_t n)
{
    sa->v1->sai_b = malloc(n);
    if (!sa->v1->sai_b)
        return IKE_ERR_NOMEM;
    memcpy(sa->v1->sai_b, body, n);
    sa->v1->sai_b_len = n;
    return IKE_OK;
}

/* Our SA payload as the first of e, remembered as SAi_b. */
int ikev1_put_our_sa(struct ike_sa *sa, struct ikev1_enc *e, bool aggressive)
{
    struct ikev1_prop prop;
    ikev1_p1_props(sa->peer, aggressive, &prop);
    size_t start = e->w.len;
    ikev1_put_sa(e, &prop, 1);
    if (e->w.err)
        return IKE_ERR_INVAL;
    return keep_sai(sa, e->w.p + start + IKEV1_GEN_LEN, e->w.len - start - IKEV1_GEN_LEN);
}

/* Shared with Aggressive Mode: the cookie, SAi_b and, there, KE and Ni too. */
int ikev1_main_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev1_enc e;
    int rc = ikev1_new_cookie(ctx, &sa->spi_i);
    sa->v1->st = V1_MM_I1;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    if (rc == IKE_OK)
        rc = ikev1_put_our_sa(sa, &e, false);
    ikev1_put_vid(&e, ikev1_dpd_vid, IKEV1_DPD_VID_LEN);
    ikev1_put_vid(&e, ikev1_natt_vid, IKEV1_NATT_VID_LEN);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, NULL, &sa->v1->x, true);
    return rc;
}

/* A fresh responder SA for the peer's first message: cookies, SAi_b, the choice. */
struct ike_sa *ikev1_responder_sa(struct ike_ctx *ctx, struct ike_peer *p, ike_time_t now,
                                  const struct ikev1_msg *m, const struct ike_suite *suite,
                                  uint32_t life_s)
{
    struct ike_sa *sa = ikev1_sa_new(ctx, p, false, now);
    if (!sa)
        return NULL;
    sa->spi_i = m->hdr.cky_i;
    sa->suite = *suite;
    sa->v1->life_s = life_s;
    sa->v1->peer_dpd = m->dpd_vid;
    sa->v1->natt = m->natt_vid;     /* ours goes back only then */
    sa->expire_at = now + IKEV1_HALF_OPEN_MS;
    if (ikev1_new_cookie(ctx, &sa->spi_r) != IKE_OK ||
        keep_sai(sa, m->sa.body, m->sa.body_len) != IKE_OK) {
        ike_sa_destroy(ctx, sa, IKE_R_INTERNAL, false);
        return NULL;
    }
    return sa;
}

/* Responder, message 1 -> 2. */
int ikev1_main_respond1(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                        const struct ikev1_msg *m, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst)
{
    struct ike_peer *p = ike_peer_by_addr(ctx, src, 1);
    struct ike_suite suite;
    struct ikev1_prop chosen;
    uint32_t life;
    if (!p) {
        ctx->stats.drop_unknown_spi++;
        return IKE_ERR_DROPPED;
    }
    if (!ikev1_has(m, IKEV1_PLD_SA)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (ikev1_p1_select(p, &m->sa, false, &suite, &life, &chosen) != 0) {
        ike_emit_error(ctx, p, IKE_R_NO_PROPOSAL_CHOSEN,
                       "none of the peer's phase 1 transforms is ours");
        return ikev1_send_plain_notify(ctx, dst, src, m->hdr.cky_i, 0,
                                       IKEV1_N_NO_PROPOSAL_CHOSEN, p);
    }
    struct ike_sa *sa = ikev1_responder_sa(ctx, p, now, m, &suite, life);
    if (!sa)
        return IKE_ERR_NOMEM;
    sa->local = *dst;
    sa->remote = *src;
    sa->v1->st = V1_MM_R2;
    sa->v1->aggressive = false;
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    struct ikev1_enc e;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_sa(&e, &chosen, 1);
    ikev1_put_vid(&e, ikev1_dpd_vid, IKEV1_DPD_VID_LEN);
    if (sa->v1->natt)
        ikev1_put_vid(&e, ikev1_natt_vid, IKEV1_NATT_VID_LEN);
    return ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, NULL, &sa->v1->x, false);
}

/* Our DH value and nonce (Ni or Nr by role), for KE and NONCE. */
int ikev1_make_ke(struct ike_ctx *ctx, struct ike_sa *sa)
{
    uint8_t *n = sa->initiator ? sa->ni : sa->nr;
    size_t *nl = sa->initiator ? &sa->ni_len : &sa->nr_len;
    if (ike_dh_new(ctx->cr, sa->suite.dh, ctx->cfg.random, ctx->cfg.random_arg, &sa->dh) !=
            IKE_OK ||
        ike_rand(ctx, n, IKEV1_NONCE_LEN) != IKE_OK)
        return IKE_ERR_CRYPTO;
    *nl = IKEV1_NONCE_LEN;
    return IKE_OK;
}

/* The peer's KE (of the negotiated group's length) and nonce. */
bool ikev1_take_ke(struct ike_sa *sa, const struct ikev1_msg *m)
{
    if (!ikev1_has(m, IKEV1_PLD_KE) || !ikev1_has(m, IKEV1_PLD_NONCE) ||
        m->ke.len != ike_dh_pub_len(sa->suite.dh) || m->ke.len > sizeof(sa->v1->g_peer))
        return false;
    memcpy(sa->v1->g_peer, m->ke.data, m->ke.len);
    sa->v1->g_peer_len = m->ke.len;
    uint8_t *n = sa->initiator ? sa->nr : sa->ni;
    memcpy(n, m->nonce.data, m->nonce.len);
    *(sa->initiator ? &sa->nr_len : &sa->ni_len) = m->nonce.len;
    return true;
}

void ikev1_put_ke_nonce(struct ike_sa *sa, struct ikev1_enc *e)
{
    size_t n;
    const uint8_t *pub = ike_dh_public(sa->dh, &n);
    ikev1_put_ke(e, pub, n);
    if (sa->initiator)
        ikev1_put_nonce(e, sa->ni, sa->ni_len);
    else
        ikev1_put_nonce(e, sa->nr, sa->nr_len);
}

/* Initiator, message 2 -> 3. */
static int got_msg2(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, const struct ikev1_msg *m)
{
    struct ikev1_enc e;
    if (!ikev1_has(m, IKEV1_PLD_SA) || m->hdr.cky_r == 0 || (m->hdr.flags & IKEV1_FLAG_ENC)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (ikev1_p1_check(sa->peer, &m->sa, &sa->suite, &sa->v1->life_s) != 0) {
        ikev1_fail(ctx, sa, IKE_R_NO_PROPOSAL_CHOSEN,
                   "the peer chose a transform we did not offer");
        return IKE_ERR_DROPPED;
    }
    sa->spi_r = m->hdr.cky_r;
    sa->v1->peer_dpd = m->dpd_vid;
    sa->v1->natt = m->natt_vid;
    if (ikev1_make_ke(ctx, sa) != IKE_OK)
        return IKE_ERR_CRYPTO;
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    sa->v1->st = V1_MM_I3;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_ke_nonce(sa, &e);
    int rc = ikev1_natd_add(ctx, sa, &e);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, NULL, &sa->v1->x, true);
    return rc;
}

/* Responder, message 3 -> 4. */
static int got_msg3(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, const struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    struct ikev1_enc e;
    if (m->hdr.flags & IKEV1_FLAG_ENC) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (!ikev1_take_ke(sa, m)) {
        ikev1_send_plain_notify(ctx, &sa->local, &sa->remote, sa->spi_i, sa->spi_r,
                                IKEV1_N_INVALID_KEY_INFORMATION, sa->peer);
        ikev1_fail(ctx, sa, IKE_R_INVALID_KE_PAYLOAD, "the peer's KE does not fit the group");
        return IKE_ERR_DROPPED;
    }
    int rc = ikev1_natd_take(ctx, sa, m, src, dst);
    if (rc != IKE_OK)
        return rc;
    if (ikev1_make_ke(ctx, sa) != IKE_OK || ikev1_phase1_keys(ctx, sa) != IKE_OK) {
        ikev1_fail(ctx, sa, IKE_R_INTERNAL, "phase 1 key derivation failed");
        return IKE_ERR_CRYPTO;
    }
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    sa->v1->st = V1_MM_R4;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_ke_nonce(sa, &e);
    rc = ikev1_natd_add(ctx, sa, &e);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, NULL, &sa->v1->x, false);
    return rc;
}

/* ID then HASH_I / HASH_R over that ID's body (§5), appended to e. */
int ikev1_put_id_hash(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e)
{
    uint8_t h[IKE_MAX_PRF_LEN];
    size_t start = e->w.len;
    ikev1_put_own_id(e, sa);
    if (e->w.err)
        return IKE_ERR_INVAL;
    int rc = ikev1_hash_ir(ctx, sa, sa->initiator, e->w.p + start + IKEV1_GEN_LEN,
                           e->w.len - start - IKEV1_GEN_LEN, h);
    if (rc == IKE_OK)
        ikev1_put_hash(e, h, ikev1_hash_len(sa));
    return rc;
}

/*
 * Initiator, message 4 -> 5 (INITIAL-CONTACT when we have nothing else with
 * the peer), from port 4500 once a NAT is found (RFC 3947 §4).
 */
static int got_msg4(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, const struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    struct ikev1_enc e;
    if ((m->hdr.flags & IKEV1_FLAG_ENC) || !ikev1_take_ke(sa, m)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (ikev1_phase1_keys(ctx, sa) != IKE_OK) {
        ikev1_fail(ctx, sa, IKE_R_INVALID_KE_PAYLOAD, "the peer's KE is not a valid public value");
        return IKE_ERR_CRYPTO;
    }
    int rc = ikev1_natd_take(ctx, sa, m, src, dst);
    if (rc != IKE_OK)
        return rc;
    if (ike_sa_nat(sa) && ike_addr_port(&sa->local) != IKE_NATT_PORT)
        ike_sa_float(sa);           /* one started on 4500 (a rekey) keeps the NAT's port */
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    sa->v1->st = V1_MM_I5;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    rc = ikev1_put_id_hash(ctx, sa, &e);
    bool alone = true;
    for (struct ike_sa *o = ctx->sas; o; o = o->next)
        alone &= o == sa || o->peer != sa->peer || o->state != SA_ESTABLISHED;
    if (alone) {
        uint8_t spi[16];
        wire_put_be64_at(spi, sa->spi_i);
        wire_put_be64_at(spi + 8, sa->spi_r);
        ikev1_put_notify(&e, IKEV1_PROTO_ISAKMP, spi, 16, IKEV1_N_INITIAL_CONTACT, NULL, 0);
    }
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, sa->v1->iv, &sa->v1->x, true);
    return rc;
}

/*
 * The peer's ID and HASH (of_initiator: HASH_I) in a decrypted message: 0,
 * or the notify that says what is wrong. A wrong pre-shared key shows as a
 * message that does not decrypt to payloads (RFC 2409 §5: SKEYID_e differs).
 */
uint16_t ikev1_check_auth(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m,
                          int perr, const char **why)
{
    uint8_t h[IKE_MAX_PRF_LEN];
    if (perr != IKEV1_P_OK) {
        *why = "the peer's message does not decrypt: wrong pre-shared key?";
        return IKEV1_N_AUTHENTICATION_FAILED;
    }
    if (!ikev1_has(m, IKEV1_PLD_ID) || !ikev1_has(m, IKEV1_PLD_HASH) || m->n_id != 1) {
        *why = "the peer's message lacks its ID or HASH";
        return IKEV1_N_PAYLOAD_MALFORMED;
    }
    if (!ikev1_remote_id_ok(sa, &m->id[0])) {
        *why = "the peer's identity is not the one configured";
        return IKEV1_N_INVALID_ID_INFORMATION;
    }
    if (ikev1_hash_ir(ctx, sa, !sa->initiator, m->id[0].body, m->id[0].body_len, h) != IKE_OK ||
        m->hash.len != ikev1_hash_len(sa) || !ike_ct_equal(h, m->hash.data, m->hash.len)) {
        ctx->stats.drop_integrity++;
        *why = "the peer's HASH does not verify: wrong pre-shared key";
        return IKEV1_N_AUTHENTICATION_FAILED;
    }
    return 0;
}

/*
 * A protected phase 1 message that decrypts to garbage: a wrong pre-shared
 * key, or damage on the way. Only the same datagram twice (the peer's
 * retransmission) says it is the key; anything else is dropped and counted.
 */
bool ikev1_garbage_again(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt, size_t len)
{
    uint8_t d[20];
    struct ike_iov v = {pkt, len};
    if (ike_sha1(ctx->cr, &v, 1, d) != IKE_OK)
        return false;
    bool again = ike_ct_equal(d, sa->v1->bad_hash, sizeof(d));
    memcpy(sa->v1->bad_hash, d, sizeof(d));
    return again;
}

/* Authentication failed (or malformed): both sides learn why, the SA goes. */
int ikev1_auth_refused(struct ike_ctx *ctx, struct ike_sa *sa, uint16_t n, const char *why)
{
    ikev1_send_plain_notify(ctx, &sa->local, &sa->remote, sa->spi_i, sa->spi_r, n, sa->peer);
    ikev1_fail(ctx, sa, ikev1_notify_reason(n), why);
    return IKE_ERR_DROPPED;
}

/* Responder, message 5 -> 6 (to where 5 came from): established. */
static int got_msg5(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    uint8_t next_iv[IKEV1_MAX_IV];
    const char *why = NULL;
    struct ikev1_enc e;
    if (!(m->hdr.flags & IKEV1_FLAG_ENC)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    int perr = ikev1_decrypt(ctx, sa, sa->v1->iv, pkt, len, m, next_iv);
    if (perr == IKE_ERR_DROPPED)
        return perr;
    if (perr != IKEV1_P_OK) {
        ike_count_perr(ctx, perr);
        if (!ikev1_garbage_again(ctx, sa, pkt, len))
            return IKE_ERR_DROPPED;
    }
    uint16_t n = ikev1_check_auth(ctx, sa, m, perr, &why);
    if (n)
        return ikev1_auth_refused(ctx, sa, n, why);
    ike_sa_follow(ctx, sa, src, dst);
    memcpy(sa->v1->iv, next_iv, sa->v1->blk);
    sa->v1->initial_contact = ikev1_find_notify(m, IKEV1_N_INITIAL_CONTACT) != NULL;
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    int rc = ikev1_put_id_hash(ctx, sa, &e);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_MAIN, 0, &e, sa->v1->iv, &sa->v1->x, false);
    if (rc == IKE_OK)
        ikev1_phase1_done(ctx, sa, now);
    return rc;
}

/* Initiator, message 6: established. */
static int got_msg6(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                    size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                    const struct sockaddr_storage *dst)
{
    uint8_t next_iv[IKEV1_MAX_IV];
    const char *why = NULL;
    if (!(m->hdr.flags & IKEV1_FLAG_ENC)) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    int perr = ikev1_decrypt(ctx, sa, sa->v1->iv, pkt, len, m, next_iv);
    if (perr == IKE_ERR_DROPPED)
        return perr;
    if (perr != IKEV1_P_OK) {
        ike_count_perr(ctx, perr);
        if (!ikev1_garbage_again(ctx, sa, pkt, len))
            return IKE_ERR_DROPPED;
    }
    uint16_t n = ikev1_check_auth(ctx, sa, m, perr, &why);
    if (n)
        return ikev1_auth_refused(ctx, sa, n, why);
    ike_sa_follow(ctx, sa, src, dst);
    memcpy(sa->v1->iv, next_iv, sa->v1->blk);
    ikev1_rx_seen(ctx, &sa->v1->x, pkt, len);
    sa->v1->x.rtx = false;
    ikev1_responder_lifetime(m, IKEV1_PROTO_ISAKMP, &sa->v1->life_s, NULL);
    ikev1_phase1_done(ctx, sa, now);
    return IKE_OK;
}

int ikev1_main_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst)
{
    switch (sa->v1->st) {
    case V1_MM_I1: return got_msg2(ctx, sa, now, pkt, len, m);
    case V1_MM_R2: return got_msg3(ctx, sa, now, pkt, len, m, src, dst);
    case V1_MM_I3: return got_msg4(ctx, sa, now, pkt, len, m, src, dst);
    case V1_MM_R4: return got_msg5(ctx, sa, now, pkt, len, m, src, dst);
    case V1_MM_I5: return got_msg6(ctx, sa, now, pkt, len, m, src, dst);
    default:
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
}
