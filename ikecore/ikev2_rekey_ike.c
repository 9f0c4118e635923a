/*
 * Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18): new
 * SPIs, nonces and a fresh DH exchange; SKEYSEED from the old SK_d. The new
 * SA's initiator is whoever started the rekey; the CHILD SA moves over and
 * the initiator of the rekey deletes the old IKE SA. Simultaneous rekeys
 * (§2.8.2, §2.25.2): both are answered as usual and both new IKE SAs made,
 * then settled by the nonce rule (ikev2_collision.c). TEMPORARY_FAILURE
 * answers a rekey of an IKE SA being closed (§2.25.2) or while one of our
 * CHILD SA exchanges is out (§2.25.1); on receiving it we retry later.
 */
#include "ike_int.h"

#include <string.h>

static void spi8(uint64_t spi, uint8_t b[8])
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(spi >> (56 - 8 * i));
}

static int new_spi(struct ike_ctx *ctx, uint64_t *spi)
{
    uint8_t b[8];
    *spi = 0;
    while (*spi == 0) {
        if (ike_rand(ctx, b, 8) != IKE_OK)
            return IKE_ERR_CRYPTO;
        *spi = wire_get64(b);
    }
    return IKE_OK;
}

int ikev2_rekey_ike_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_prop props[IKEV2_MAX_PROPS];
    struct ikev2_enc e;
    uint8_t spi[8];
    size_t publen;
    ike_dh_free(sa->rk_dh);
    sa->rk_dh = NULL;
    sa->coll_spi_i = sa->coll_spi_r = 0;
    int rc = new_spi(ctx, &sa->rk_spi);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, sa->rk_nonce, IKE_NONCE_LEN);
    if (rc == IKE_OK)   /* the group in use was acceptable: offer it again */
        rc = ike_dh_new(ctx->cr, sa->suite.dh, ctx->cfg.random, ctx->cfg.random_arg, &sa->rk_dh);
    if (rc != IKE_OK)
        return rc;
    spi8(sa->rk_spi, spi);
    unsigned n = ike_props_from_suites(pc->ike, pc->n_ike, IKEV2_PROTO_IKE, spi, 8, true, props);
    const uint8_t *pub = ike_dh_public(sa->rk_dh, &publen);
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev2_put_sa(&e, props, n);
    ikev2_put_nonce(&e, sa->rk_nonce, IKE_NONCE_LEN);
    ikev2_put_ke(&e, sa->suite.dh, pub, publen);
    return ikev2_seal_send(ctx, sa, now, IKEV2_CREATE_CHILD_SA, false, sa->msgid_next, &e,
                           REQ_REKEY_IKE);
}

/* The new IKE SA, taking over the old one's CHILD SA; keys per §2.18. */
static struct ike_sa *successor(struct ike_ctx *ctx, struct ike_sa *old, ike_time_t now,
                                bool initiator, uint64_t spi_i, uint64_t spi_r,
                                const struct ike_suite *suite, const uint8_t *ni, size_t ni_len,
                                const uint8_t *nr, size_t nr_len, const uint8_t *g, size_t g_len)
{
    struct ike_sa *sa = ike_sa_new(ctx, old->peer, initiator);
    if (!sa)
        return NULL;
    sa->local = old->local;
    sa->remote = old->remote;
    sa->nat_local = old->nat_local;
    sa->nat_remote = old->nat_remote;
    sa->spi_i = spi_i;
    sa->spi_r = spi_r;
    sa->suite = *suite;
    memcpy(sa->ni, ni, ni_len);
    sa->ni_len = ni_len;
    memcpy(sa->nr, nr, nr_len);
    sa->nr_len = nr_len;
    if (ikev2_derive_rekey_ike_keys(ctx->cr, old->suite.prf, old->keys.sk_d, old->keys.prf_len,
                                    suite, ni, ni_len, nr, nr_len, g, g_len, spi_i, spi_r,
                                    &sa->keys) != IKE_OK) {
        ike_sa_destroy(ctx, sa, IKE_R_INTERNAL, false);
        return NULL;
    }
    ikev2_move_children(old, sa);
    old->replaced = true;
    old->dpd_at = 0;
    old->expire_at = now + 30000;   /* if the peer never deletes it */
    ikev2_emit_ike_up(ctx, sa, now);
    return sa;
}

static int refuse(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m,
                  uint16_t type, const uint8_t *d, size_t n)
{
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev2_put_notify(&e, 0, NULL, 0, type, d, n);
    return ikev2_seal_send(ctx, sa, 0, IKEV2_CREATE_CHILD_SA, true, m->hdr.msgid, &e, REQ_NONE);
}

/* The answer to a valid request (proposal i chosen, our suite), and the new IKE SA. */
static int rekey_ike_answer(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                            const struct ikev2_msg *m, int i, const struct ike_suite *suite)
{
    uint8_t nr[IKE_NONCE_LEN], g[IKE_MAX_DH_SHARED], spi[8];
    size_t g_len = sizeof(g), publen;
    uint64_t spi_r;
    struct ike_dh *dh = NULL;
    int rc = new_spi(ctx, &spi_r);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, nr, sizeof(nr));
    if (rc == IKE_OK)
        rc = ike_dh_new(ctx->cr, suite->dh, ctx->cfg.random, ctx->cfg.random_arg, &dh);
    if (rc == IKE_OK && ike_dh_shared(dh, m->ke.data, m->ke.len, g, &g_len) != IKE_OK) {
        ike_dh_free(dh);
        return refuse(ctx, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
    }
    if (rc != IKE_OK) {
        ike_dh_free(dh);
        return rc;
    }
    struct ikev2_prop prop;
    struct ikev2_enc e;
    spi8(spi_r, spi);
    ike_props_from_suites(suite, 1, IKEV2_PROTO_IKE, spi, 8, true, &prop);
    prop.num = m->sa.p[i].num;
    const uint8_t *pub = ike_dh_public(dh, &publen);
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev2_put_sa(&e, &prop, 1);
    ikev2_put_nonce(&e, nr, sizeof(nr));
    ikev2_put_ke(&e, suite->dh, pub, publen);
    ike_dh_free(dh);
    rc = ikev2_seal_send(ctx, sa, now, IKEV2_CREATE_CHILD_SA, true, m->hdr.msgid, &e, REQ_NONE);
    struct ike_sa *n = rc == IKE_OK ? successor(ctx, sa, now, false, wire_get64(m->sa.p[i].spi),
                                                spi_r, suite, m->nonce, m->nonce_len, nr,
                                                sizeof(nr), g, g_len) : NULL;
    if (rc == IKE_OK && !n)
        rc = IKE_ERR_CRYPTO;
    if (n && sa->req_kind == REQ_REKEY_IKE) {   /* §2.8.2: settled when our answer comes */
        sa->coll_spi_i = n->spi_i;
        sa->coll_spi_r = n->spi_r;
    }
    ike_wipe(g, sizeof(g));
    return rc;
}

int ikev2_rekey_ike_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                            const struct ikev2_msg *m)
{
    struct ike_suite suite;
    uint16_t want;
    if (!m->nonce || !ikev2_has(m, IKEV2_PLD_KE))
        return refuse(ctx, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
    /* §2.25.2: being closed (or already rekeyed: §2.8.2's one-sided case); §2.25.1 */
    if (sa->replaced || sa->del_pending || sa->req_kind == REQ_DEL_IKE || ike_sa_child_busy(sa))
        return refuse(ctx, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
    int i = ikev2_select_ike(sa->peer, m, &suite, &want);
    if (i < 0 && want) {
        uint8_t g[2] = {(uint8_t)(want >> 8), (uint8_t)want};
        return refuse(ctx, sa, m, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
    }
    if (i < 0 || m->sa.p[i].spi_size != 8) {
        ike_emit_error(ctx, sa->peer, IKE_R_NO_PROPOSAL_CHOSEN,
                       "none of the peer's IKE proposals for the rekey is ours");
        return refuse(ctx, sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
    }
    return rekey_ike_answer(ctx, sa, now, m, i, &suite);   /* §2.25.2: "as usual" */
}

/*
 * §2.25: TEMPORARY_FAILURE is retried after a random delay, unless the
 * peer's crossing rekey already replaced this SA (§2.8.2's one-sided case).
 */
static int rekey_refused(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                         bool temporary, enum ike_reason r, const char *why)
{
    sa->coll_spi_i = sa->coll_spi_r = 0;
    if (temporary && !sa->replaced)
        ikev2_retry_later(ctx, sa, now, REQ_REKEY_IKE);
    if (temporary)
        return IKE_OK;
    ike_emit_error(ctx, sa->peer, r, why);
    if (sa->peer->cfg.ike_lifetime_s && !sa->replaced)  /* the old IKE SA stays; try later */
        sa->ike_rekey_at = now + 60000;
    return IKE_OK;
}

int ikev2_rekey_ike_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                             const struct ikev2_msg *m)
{
    struct ike_suite suite;
    uint8_t g[IKE_MAX_DH_SHARED];
    size_t g_len = sizeof(g);
    struct ike_dh *dh = sa->rk_dh;
    sa->rk_dh = NULL;
    ike_sa_request_done(sa);
    const char *why = NULL;
    enum ike_reason r = IKE_R_NONE;
    bool temporary = false;
    for (unsigned k = 0; k < m->n_notify && !why; k++)
        if (m->notify[k].type <= IKEV2_N_ERROR_MAX) {
            temporary = m->notify[k].type == IKEV2_N_TEMPORARY_FAILURE;
            r = ikev2_notify_reason(m->notify[k].type);
            why = "the peer refused to rekey the IKE SA";
        }
    if (!why && (!m->nonce || !ikev2_has(m, IKEV2_PLD_KE) || m->sa.n != 1 ||
                 m->sa.p[0].spi_size != 8 ||
                 ike_prop_select(&m->sa, sa->peer->cfg.ike, sa->peer->cfg.n_ike,
                                 IKEV2_PROTO_IKE, true, &suite) != 0 ||
                 suite.dh != ike_dh_group(dh) || m->ke.group != suite.dh ||
                 ike_dh_shared(dh, m->ke.data, m->ke.len, g, &g_len) != IKE_OK)) {
        r = IKE_R_NO_PROPOSAL_CHOSEN;
        why = "the peer's answer to our IKE SA rekey does not fit what we offered";
    }
    ike_dh_free(dh);
    if (why)
        return rekey_refused(ctx, sa, now, temporary, r, why);
    struct ike_sa *n = successor(ctx, sa, now, true, sa->rk_spi, wire_get64(m->sa.p[0].spi),
                                 &suite, sa->rk_nonce, IKE_NONCE_LEN, m->nonce, m->nonce_len,
                                 g, g_len);
    ike_wipe(g, sizeof(g));
    if (!n)
        return IKE_ERR_CRYPTO;
    if (sa->coll_spi_i)
        return ikev2_settle_ike_collision(ctx, sa, n, now);
    return ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);   /* §1.3.2: the old one goes */
}
