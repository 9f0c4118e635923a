/*
 * IKE_SA_INIT (RFC 7296 §1.2), both roles: proposals, the KE exchange with
 * INVALID_KE_PAYLOAD (§1.3... §3.10.1), COOKIE retries (§2.6), NAT detection
 * (§2.23) and the IKE SA key schedule (§2.14).
 */
#include "ike_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COOKIE_RETRIES 2

static uint64_t nonzero_spi(struct ike_ctx *ctx, int *rc)
{
    uint64_t spi = 0;
    while (spi == 0 && *rc == IKE_OK) {
        uint8_t b[8];
        *rc = ike_rand(ctx, b, sizeof(b));
        spi = wire_get64(b);
    }
    return spi;
}

void ikev2_put_natd(struct ike_ctx *ctx, struct ikev2_enc *e, const struct ike_sa *sa, int *rc)
{
    uint8_t h[20];
    uint64_t spi_r = sa->initiator ? 0 : sa->spi_r;  /* the initiator sends only in the request */
    if (ikev2_natd_hash(ctx, sa->spi_i, spi_r, &sa->local, h) != IKE_OK)
        *rc = IKE_ERR_CRYPTO;
    ikev2_put_notify(e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, h, sizeof(h));
    if (ikev2_natd_hash(ctx, sa->spi_i, spi_r, &sa->remote, h) != IKE_OK)
        *rc = IKE_ERR_CRYPTO;
    ikev2_put_notify(e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, sizeof(h));
}

/* §2.23: a mismatch of the peer's hashes against what we see means a NAT. */
void ikev2_check_natd(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m,
                      uint64_t spi_r)
{
    uint8_t h[20];
    bool src_ok = false, any_src = false;
    for (unsigned i = 0; i < m->n_notify; i++) {
        const struct ikev2_notify *n = &m->notify[i];
        if (n->type == IKEV2_N_NAT_DETECTION_SOURCE_IP && n->len == 20) {
            any_src = true;
            if (ikev2_natd_hash(ctx, sa->spi_i, spi_r, &sa->remote, h) == IKE_OK &&
                ike_ct_equal(h, n->data, 20))
                src_ok = true;
        } else if (n->type == IKEV2_N_NAT_DETECTION_DESTINATION_IP && n->len == 20) {
            sa->nat_local = !(ikev2_natd_hash(ctx, sa->spi_i, spi_r, &sa->local, h) == IKE_OK &&
                              ike_ct_equal(h, n->data, 20));
        }
    }
    sa->nat_remote = any_src && !src_ok;
}

static int send_init_request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_prop props[IKEV2_MAX_PROPS];
    unsigned n = ike_props_from_suites(pc->ike, pc->n_ike, IKEV2_PROTO_IKE, NULL, 0, true, props);
    struct ikev2_hdr h = {.spi_i = sa->spi_i, .exchange = IKEV2_IKE_SA_INIT,
                          .flags = IKEV2_FLAG_INITIATOR};
    struct ikev2_enc e;
    int rc = IKE_OK;
    size_t publen;
    const uint8_t *pub = ike_dh_public(sa->dh, &publen);
    ikev2_enc_init(&e, ctx->buf, sizeof(ctx->buf), true);
    ikev2_put_hdr(&e, &h);
    if (sa->cookie_len)     /* §2.6: the cookie goes first */
        ikev2_put_notify(&e, 0, NULL, 0, IKEV2_N_COOKIE, sa->cookie, sa->cookie_len);
    ikev2_put_sa(&e, props, n);
    ikev2_put_ke(&e, sa->ke_group, pub, publen);
    ikev2_put_nonce(&e, sa->ni, sa->ni_len);
    ikev2_put_natd(ctx, &e, sa, &rc);
    if (rc != IKE_OK || !ikev2_enc_finish(&e))
        return rc != IKE_OK ? rc : IKE_ERR_INVAL;
    free(sa->msg1);
    sa->msg1 = malloc(e.w.len);
    if (!sa->msg1)
        return IKE_ERR_NOMEM;
    memcpy(sa->msg1, ctx->buf, e.w.len);
    sa->msg1_len = e.w.len;
    return ike_sa_send_request(ctx, sa, now, REQ_INIT, ctx->buf, e.w.len);
}

static int new_dh(struct ike_ctx *ctx, struct ike_sa *sa, uint16_t group)
{
    ike_dh_free(sa->dh);
    sa->dh = NULL;
    sa->ke_group = group;
    return ike_dh_new(ctx->cr, group, ctx->cfg.random, ctx->cfg.random_arg, &sa->dh);
}

int ikev2_init_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    int rc = IKE_OK;
    sa->spi_i = nonzero_spi(ctx, &rc);
    sa->ni_len = IKE_NONCE_LEN;
    if (rc == IKE_OK)
        rc = ike_rand(ctx, sa->ni, sa->ni_len);
    if (rc == IKE_OK)
        rc = new_dh(ctx, sa, sa->peer->cfg.ike[0].dh);
    sa->state = SA_INIT_SENT;
    sa->created = now;
    return rc == IKE_OK ? send_init_request(ctx, sa, now) : rc;
}

/* g^ir and the IKE SA keys (§2.14); the DH private value is not needed afterwards. */
int ikev2_init_derive(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_ke *ke)
{
    uint8_t g_ir[IKE_MAX_DH_SHARED];
    size_t g_len = sizeof(g_ir);
    int rc = ike_dh_shared(sa->dh, ke->data, ke->len, g_ir, &g_len);
    if (rc == IKE_OK)
        rc = ikev2_derive_ike_keys(ctx->cr, &sa->suite, sa->ni, sa->ni_len, sa->nr, sa->nr_len,
                                   g_ir, g_len, sa->spi_i, sa->spi_r, &sa->keys);
    ike_wipe(g_ir, sizeof(g_ir));
    return rc;
}

static int save(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n)
{
    free(*dst);
    *dst = malloc(n);
    if (!*dst)
        return IKE_ERR_NOMEM;
    memcpy(*dst, p, n);
    *dlen = n;
    return IKE_OK;
}

static void init_failed(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason r, const char *why)
{
    ike_emit_error(ctx, sa->peer, r, why);
    ike_sa_destroy(ctx, sa, r, true);
}

/* Error notifies in an IKE_SA_INIT response: retry with a cookie or another group, or give up. */
static int init_notify(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       const struct ikev2_msg *m)
{
    const struct ikev2_notify *n = ikev2_find_notify(m, IKEV2_N_COOKIE);
    if (n && n->len >= 1 && n->len <= sizeof(sa->cookie) && sa->cookie_tries++ < MAX_COOKIE_RETRIES) {
        memcpy(sa->cookie, n->data, n->len);
        sa->cookie_len = n->len;
        return send_init_request(ctx, sa, now);
    }
    if ((n = ikev2_find_notify(m, IKEV2_N_INVALID_KE_PAYLOAD)) != NULL) {
        uint16_t g = n->len == 2 ? wire_get16(n->data) : 0;
        bool ours = false;
        for (unsigned i = 0; i < sa->peer->cfg.n_ike; i++)
            ours |= g && sa->peer->cfg.ike[i].dh == g;
        if (!ours || sa->ke_retried || g == sa->ke_group) {
            init_failed(ctx, sa, IKE_R_INVALID_KE_PAYLOAD, "peer wants a DH group we cannot use");
            return IKE_ERR_DROPPED;
        }
        sa->ke_retried = true;      /* once only (§1.2) */
        int rc = new_dh(ctx, sa, g);
        return rc == IKE_OK ? send_init_request(ctx, sa, now) : rc;
    }
    if (ikev2_find_notify(m, IKEV2_N_NO_PROPOSAL_CHOSEN)) {
        init_failed(ctx, sa, IKE_R_NO_PROPOSAL_CHOSEN, "peer accepted none of our IKE proposals");
        return IKE_OK;
    }
    for (unsigned i = 0; i < m->n_notify; i++) {
        if (m->notify[i].type <= IKEV2_N_ERROR_MAX) {
            init_failed(ctx, sa, m->notify[i].type == IKEV2_N_INVALID_SYNTAX
                                     ? IKE_R_INVALID_SYNTAX : IKE_R_INTERNAL,
                        "peer refused IKE_SA_INIT");
            return IKE_OK;
        }
    }
    return 1;   /* no error notify */
}

int ikev2_init_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const uint8_t *pkt, size_t len, const struct ikev2_msg *m)
{
    int rc = init_notify(ctx, sa, now, m);
    if (rc != 1)
        return rc;
    struct ike_suite suite;
    if (!ikev2_has(m, IKEV2_PLD_SA) || !ikev2_has(m, IKEV2_PLD_KE) ||
        !ikev2_has(m, IKEV2_PLD_NONCE) || m->hdr.spi_r == 0) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (m->sa.n != 1 || ike_prop_select(&m->sa, sa->peer->cfg.ike, sa->peer->cfg.n_ike,
                                        IKEV2_PROTO_IKE, true, &suite) != 0 ||
        suite.dh != sa->ke_group || m->ke.group != sa->ke_group) {
        init_failed(ctx, sa, IKE_R_NO_PROPOSAL_CHOSEN, "peer chose a proposal we did not offer");
        return IKE_OK;
    }
    sa->suite = suite;
    sa->spi_r = m->hdr.spi_r;
    memcpy(sa->nr, m->nonce, m->nonce_len);
    sa->nr_len = m->nonce_len;
    if (ikev2_init_derive(ctx, sa, &m->ke) != IKE_OK) {
        init_failed(ctx, sa, IKE_R_INVALID_SYNTAX, "peer's KE payload is not a valid public value");
        return IKE_OK;
    }
    ikev2_check_natd(ctx, sa, m, sa->spi_r);
    if ((rc = save(&sa->msg2, &sa->msg2_len, pkt, len)) != IKE_OK)
        return rc;
    ike_dh_free(sa->dh);
    sa->dh = NULL;
    ike_sa_request_done(sa);
    /* §2.23: with a NAT on the path IKE_AUTH and all after it go from and to port 4500. */
    if (ike_sa_nat(sa))
        ike_sa_float(sa);
    return ikev2_auth_start(ctx, sa, now);
}
