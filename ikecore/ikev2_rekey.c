/*
 * CREATE_CHILD_SA rekeying the CHILD SA (RFC 7296 §1.3.3, §2.8): REKEY_SA
 * names the old SA, new SPIs and nonces, optional PFS with the ESP suite's
 * group, then the initiator deletes the old SA (§2.8). Simultaneous rekeys
 * (§2.8.1, §2.25.1): both exchanges complete and both new SAs are made; the
 * one whose exchange used the lowest of the four nonces is redundant and is
 * deleted by its initiator, and the initiator of the survivor deletes the
 * old SA. TEMPORARY_FAILURE answers a rekey of an SA being closed or while
 * another of our CHILD SA exchanges is not finished; on receiving it we try
 * again later (§2.25). Not handled: additional CHILD SAs. IKE SA:
 * ikev2_rekey_ike.c; the nonce rule: ikev2_collision.c.
 */
#include "ike_int.h"

#include <string.h>

static void spi_bytes(uint32_t spi, uint8_t b[4])
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(spi >> (24 - 8 * i));
}

/* N(USE_TRANSPORT_MODE) SA Nonce [KE] TSi TSr; props already built. req: the one answered. */
static void put_body(struct ike_sa *sa, struct ikev2_enc *e, const struct ikev2_prop *props,
                     unsigned n, const uint8_t *nonce, struct ike_dh *dh,
                     const struct ikev2_msg *req)
{
    struct ikev2_ts ts_i, ts_r;
    ikev2_ts_ours(sa, req, &ts_i, &ts_r);
    ikev2_put_notify(e, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
    ikev2_put_sa(e, props, n);
    ikev2_put_nonce(e, nonce, IKE_NONCE_LEN);
    if (dh) {
        size_t len;
        const uint8_t *pub = ike_dh_public(dh, &len);
        ikev2_put_ke(e, ike_dh_group(dh), pub, len);
    }
    ikev2_put_ts(e, IKEV2_PLD_TSI, &ts_i, 1);
    ikev2_put_ts(e, IKEV2_PLD_TSR, &ts_r, 1);
}

int ikev2_rekey_child_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_prop props[IKEV2_MAX_PROPS];
    struct ikev2_enc e;
    uint8_t spi[4], old[4];
    memset(&sa->rk_child, 0, sizeof(sa->rk_child));
    ike_dh_free(sa->rk_dh);
    sa->rk_dh = NULL;
    sa->rk_collided = false;
    sa->rk_target = sa->child.spi_in;
    int rc = ikev2_new_child_spi(ctx, &sa->rk_child.spi_in);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, sa->rk_nonce, IKE_NONCE_LEN);
    if (rc == IKE_OK && pc->esp[0].dh)
        rc = ike_dh_new(ctx->cr, pc->esp[0].dh, ctx->cfg.random, ctx->cfg.random_arg, &sa->rk_dh);
    if (rc != IKE_OK)
        return rc;
    spi_bytes(sa->rk_child.spi_in, spi);
    spi_bytes(sa->child.spi_in, old);
    unsigned n = ike_props_from_suites(pc->esp, pc->n_esp, IKEV2_PROTO_ESP, spi, 4, true, props);
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev2_put_notify(&e, IKEV2_PROTO_ESP, old, 4, IKEV2_N_REKEY_SA, NULL, 0);
    put_body(sa, &e, props, n, sa->rk_nonce, sa->rk_dh, NULL);
    return ikev2_seal_send(ctx, sa, now, IKEV2_CREATE_CHILD_SA, false, sa->msgid_next, &e,
                           REQ_REKEY_CHILD);
}

/* g^ir for PFS: the peer's KE must use the negotiated group. */
static uint16_t pfs(const struct ikev2_msg *m, struct ike_dh *dh, uint8_t *g, size_t *g_len)
{
    if (!ikev2_has(m, IKEV2_PLD_KE) || m->ke.group != ike_dh_group(dh))
        return IKEV2_N_INVALID_KE_PAYLOAD;
    return ike_dh_shared(dh, m->ke.data, m->ke.len, g, g_len) == IKE_OK ? 0
                                                                        : IKEV2_N_INVALID_SYNTAX;
}

static int refuse(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m,
                  uint16_t type, const char *why)
{
    if (why)
        ike_emit_error(ctx, sa->peer, ikev2_notify_reason(type), why);
    return ikev2_notify_response(ctx, sa, IKEV2_CREATE_CHILD_SA, m->hdr.msgid, type);
}

/* The rest of the responder's work, once the request is known to be a valid rekey. */
static int rekey_answer(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const struct ikev2_msg *m, struct ike_child *rk)
{
    uint8_t nr[IKE_NONCE_LEN], g[IKE_MAX_DH_SHARED], spi[4];
    size_t g_len = 0;
    struct ike_dh *dh = NULL;
    struct ikev2_prop prop;
    struct ikev2_enc e;
    int rc = ikev2_new_child_spi(ctx, &rk->spi_in);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, nr, sizeof(nr));
    if (rc == IKE_OK && rk->suite.dh)
        rc = ike_dh_new(ctx->cr, rk->suite.dh, ctx->cfg.random, ctx->cfg.random_arg, &dh);
    if (rc != IKE_OK)
        return rc;
    g_len = sizeof(g);
    uint16_t bad = dh ? pfs(m, dh, g, &g_len) : 0;
    if (bad) {
        ike_dh_free(dh);
        return refuse(ctx, sa, m, bad, "the peer's KE payload does not fit the PFS group");
    }
    spi_bytes(rk->spi_in, spi);
    ike_props_from_suites(&rk->suite, 1, IKEV2_PROTO_ESP, spi, 4, true, &prop);
    prop.num = sa->child_prop_num;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    put_body(sa, &e, &prop, 1, nr, dh, m);
    ike_dh_free(dh);
    rc = ikev2_seal_send(ctx, sa, now, IKEV2_CREATE_CHILD_SA, true, m->hdr.msgid, &e, REQ_NONE);
    struct ikev2_kmat k = {.ni = m->nonce, .ni_len = m->nonce_len, .nr = nr,
                           .nr_len = sizeof(nr), .g_ir = dh ? g : NULL, .g_len = dh ? g_len : 0,
                           .initiator = false, .type = IKE_EV_CHILD_REKEYED,
                           .old_in = sa->child.spi_in, .old_out = sa->child.spi_out};
    if (sa->req_kind == REQ_REKEY_CHILD) {  /* §2.8.1: settled when our own answer comes */
        size_t len;
        const uint8_t *low = ikev2_nonce_min(m->nonce, m->nonce_len, nr, sizeof(nr), &len);
        memcpy(sa->coll_nonce, low, len);
        sa->coll_nonce_len = len;
        sa->rk_collided = true;
    }
    sa->old_child = sa->child;
    sa->child = *rk;
    if (rc == IKE_OK)
        rc = ikev2_child_up(ctx, sa, now, &k);
    ike_wipe(g, sizeof(g));
    return rc;
}

int ikev2_create_child_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                               const struct ikev2_msg *m)
{
    const struct ikev2_notify *n = ikev2_find_notify(m, IKEV2_N_REKEY_SA);
    if (!n && m->sa.n >= 1 && m->sa.p[0].proto == IKEV2_PROTO_IKE)
        return ikev2_rekey_ike_respond(ctx, sa, now, m);
    if (!n || n->proto != IKEV2_PROTO_ESP || n->spi_size != 4)
        return refuse(ctx, sa, m, IKEV2_N_NO_ADDITIONAL_SAS, NULL);  /* one CHILD SA only */
    uint32_t spi = wire_get32(n->spi);
    if ((sa->old_child.up && spi == sa->old_child.spi_out) ||
        (sa->dup_child.up && spi == sa->dup_child.spi_out))
        return refuse(ctx, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL);  /* §2.25.1: being closed */
    if (!sa->child.up || spi != sa->child.spi_out)
        return refuse(ctx, sa, m, IKEV2_N_CHILD_SA_NOT_FOUND, NULL);
    if (!m->nonce)
        return refuse(ctx, sa, m, IKEV2_N_INVALID_SYNTAX, "CREATE_CHILD_SA without a nonce");
    /* Being deleted, or the last rekey's leftovers not yet gone: one generation at a time. */
    if (sa->req_kind == REQ_DEL_CHILD || sa->old_child.up || sa->dup_child.up)
        return refuse(ctx, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL);
    struct ike_child rk = {0};
    const char *why = NULL;
    uint16_t bad = ikev2_child_esp(sa, m, true, &rk, &why);
    if (bad)
        return refuse(ctx, sa, m, bad, why);
    return rekey_answer(ctx, sa, now, m, &rk);
}

/* Initiator: the answer must be one of our proposals, our selectors, transport. */
static uint16_t check_answer(struct ike_sa *sa, const struct ikev2_msg *m, const char **why)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    for (unsigned k = 0; k < m->n_notify; k++) {
        if (m->notify[k].type <= IKEV2_N_ERROR_MAX) {
            *why = "the peer refused to rekey the CHILD SA";
            return m->notify[k].type;
        }
    }
    *why = "the peer's CREATE_CHILD_SA answer does not fit our request";
    if (!m->nonce || !ikev2_has(m, IKEV2_PLD_SA) || !ikev2_has(m, IKEV2_PLD_TSI) ||
        !ikev2_has(m, IKEV2_PLD_TSR))
        return IKEV2_N_INVALID_SYNTAX;
    if (!ikev2_find_notify(m, IKEV2_N_USE_TRANSPORT_MODE) || m->sa.n != 1 ||
        ike_prop_select(&m->sa, pc->esp, pc->n_esp, IKEV2_PROTO_ESP, true,
                        &sa->rk_child.suite) != 0)
        return IKEV2_N_NO_PROPOSAL_CHOSEN;
    if (sa->rk_child.suite.dh != (sa->rk_dh ? ike_dh_group(sa->rk_dh) : 0))
        return IKEV2_N_INVALID_KE_PAYLOAD;
    if (!ikev2_ts_answer_ok(sa, m))
        return IKEV2_N_TS_UNACCEPTABLE;
    sa->rk_child.spi_out = wire_get32(m->sa.p[0].spi);
    return 0;
}

/*
 * §2.8.1, both new SAs made: ours (rk_child, announced now) and the peer's
 * (sa->child, announced when we answered). "The SA created with the lowest
 * of the four nonces used in the two exchanges SHOULD be closed by the
 * endpoint that created it"; "the node that initiated the surviving rekeyed
 * SA should delete the replaced SA after the new one is established."
 */
static int settle_collision(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                            struct ikev2_kmat *k)
{
    size_t len;
    const uint8_t *low = ikev2_nonce_min(k->ni, k->ni_len, k->nr, k->nr_len, &len);
    bool ours_lowest = ikev2_nonce_cmp(low, len, sa->coll_nonce, sa->coll_nonce_len) < 0;
    sa->rk_collided = false;
    if (ours_lowest && sa->child.up) {
        sa->dup_child = sa->rk_child;
        k->c = &sa->dup_child;
        int rc = ikev2_child_up(ctx, sa, now, k);
        return rc == IKE_OK ? ikev2_info_request(ctx, sa, now, REQ_DEL_DUP_CHILD) : rc;
    }
    if (sa->child.up)
        sa->dup_child = sa->child;  /* the peer made it; the peer deletes it */
    sa->child = sa->rk_child;       /* (or the peer already deleted its SA: ours is the one) */
    int rc = ikev2_child_up(ctx, sa, now, k);
    return rc == IKE_OK ? ikev2_info_request(ctx, sa, now, REQ_DEL_OLD_CHILD) : rc;
}

/*
 * Refused. Moot when the peer's crossing rekey replaced the SA meanwhile
 * (§2.8.1; §2.25.1 has the peer answer TEMPORARY_FAILURE when it already
 * finished its own); TEMPORARY_FAILURE otherwise is retried later (§2.25).
 */
static void rekey_refused(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint16_t bad,
                          const char *why)
{
    bool moot = sa->rk_collided || !sa->child.up || sa->child.spi_in != sa->rk_target;
    sa->rk_collided = false;
    if (moot)
        return;
    if (bad == IKEV2_N_TEMPORARY_FAILURE) {
        ikev2_retry_later(ctx, sa, now, REQ_REKEY_CHILD);
        return;
    }
    ike_emit_error(ctx, sa->peer, ikev2_notify_reason(bad), why);
    if (sa->child_hard_at > now + 60000)    /* the old CHILD SA stays; try again later */
        sa->child_soft_at = now + 60000;
}

int ikev2_rekey_child_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                               const struct ikev2_msg *m)
{
    uint8_t g[IKE_MAX_DH_SHARED];
    size_t g_len = sizeof(g);
    const char *why = NULL;
    ike_sa_request_done(sa);
    uint16_t bad = check_answer(sa, m, &why);
    if (!bad && sa->rk_dh && (bad = pfs(m, sa->rk_dh, g, &g_len)) != 0)
        why = "the peer's KE payload does not fit the PFS group";
    ike_dh_free(sa->rk_dh);
    if (bad) {
        sa->rk_dh = NULL;
        rekey_refused(ctx, sa, now, bad, why);
        return IKE_OK;
    }
    /* After a collision the SA both rekeys replaced is already in old_child. */
    const struct ike_child *old = sa->rk_collided ? &sa->old_child : &sa->child;
    struct ikev2_kmat k = {.ni = sa->rk_nonce, .ni_len = IKE_NONCE_LEN, .nr = m->nonce,
                           .nr_len = m->nonce_len, .g_ir = sa->rk_dh ? g : NULL,
                           .g_len = sa->rk_dh ? g_len : 0, .initiator = true,
                           .type = IKE_EV_CHILD_REKEYED, .old_in = old->spi_in,
                           .old_out = old->spi_out};
    sa->rk_dh = NULL;
    int rc;
    if (sa->rk_collided) {
        rc = settle_collision(ctx, sa, now, &k);
    } else {
        sa->old_child = sa->child;
        sa->child = sa->rk_child;
        rc = ikev2_child_up(ctx, sa, now, &k);
        if (rc == IKE_OK)   /* §2.8: the initiator of the rekey deletes the old SA */
            rc = ikev2_info_request(ctx, sa, now, REQ_DEL_OLD_CHILD);
    }
    ike_wipe(g, sizeof(g));
    return rc;
}
