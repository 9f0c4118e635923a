/*
 * IKE_SA_INIT, responder side (RFC 7296 §1.2): which peer (by the packet's
 * source address), COOKIEs under load (§2.6), the choice of proposal and
 * group (§2.7, §1.2 INVALID_KE_PAYLOAD), then the half-open IKE SA.
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define HALF_OPEN_MS 30000
#define COOKIE_ROTATE_MS 300000

/* An unencrypted notify answering an IKE_SA_INIT request; no state kept. */
static int init_notify(struct ike_ctx *ctx, const struct ikev2_msg *m, struct ike_peer *p,
                       const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
                       uint16_t type, const uint8_t *d, size_t n)
{
    struct ikev2_hdr h = {.spi_i = m->hdr.spi_i, .exchange = IKEV2_IKE_SA_INIT,
                          .flags = IKEV2_FLAG_RESPONSE};
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->buf, sizeof(ctx->buf), true);
    ikev2_put_hdr(&e, &h);
    ikev2_put_notify(&e, 0, NULL, 0, type, d, n);
    if (!ikev2_enc_finish(&e))
        return IKE_ERR_INVAL;
    return ike_send_raw(ctx, dst, src, ctx->buf, e.w.len, p);
}

/* §2.6: cookie = H(Ni | IPi | SPIi | secret); the previous secret still counts. */
int ikev2_cookie_make(struct ike_ctx *ctx, ike_time_t now, const struct ikev2_msg *m,
                      const struct sockaddr_storage *src, bool prev, uint8_t out[32])
{
    if (!ctx->cookie_secret_set || now >= ctx->cookie_rotate_at) {
        memcpy(ctx->cookie_prev, ctx->cookie_secret, sizeof(ctx->cookie_prev));
        if (ike_rand(ctx, ctx->cookie_secret, sizeof(ctx->cookie_secret)) != IKE_OK)
            return IKE_ERR_CRYPTO;
        if (!ctx->cookie_secret_set)
            memcpy(ctx->cookie_prev, ctx->cookie_secret, sizeof(ctx->cookie_prev));
        ctx->cookie_secret_set = true;
        ctx->cookie_rotate_at = now + COOKIE_ROTATE_MS;
    }
    const uint8_t *ip = src->ss_family == AF_INET
                            ? (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr
                            : (const uint8_t *)&((const struct sockaddr_in6 *)src)->sin6_addr;
    size_t iplen = src->ss_family == AF_INET ? 4 : 16;
    uint8_t spi[8];
    for (int i = 0; i < 8; i++)
        spi[i] = (uint8_t)(m->hdr.spi_i >> (56 - 8 * i));
    struct ike_iov v[] = {
        {m->nonce, m->nonce_len}, {ip, iplen}, {spi, sizeof(spi)},
        {prev ? ctx->cookie_prev : ctx->cookie_secret, sizeof(ctx->cookie_secret)},
    };
    return ike_sha256(ctx->cr, v, 4, out) == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

/* 1: go on; 0: answered with a COOKIE demand. */
static int cookie_check(struct ike_ctx *ctx, ike_time_t now, const struct ikev2_msg *m,
                        struct ike_peer *p, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst)
{
    if (ike_sa_half_open(ctx) < ctx->cfg.cookie_threshold)
        return 1;
    uint8_t c[32], c2[32];
    if (ikev2_cookie_make(ctx, now, m, src, false, c) != IKE_OK ||
        ikev2_cookie_make(ctx, now, m, src, true, c2) != IKE_OK)
        return 0;
    const struct ikev2_notify *n = ikev2_find_notify(m, IKEV2_N_COOKIE);
    if (n && n->len == 32 && (ike_ct_equal(n->data, c, 32) || ike_ct_equal(n->data, c2, 32)))
        return 1;
    ctx->stats.drop_cookie++;
    init_notify(ctx, m, p, src, dst, IKEV2_N_COOKIE, c, sizeof(c));
    return 0;
}

/*
 * The first initiator proposal (in its order) that one of our suites
 * matches with the group of its KE payload. With a match only under another
 * group: INVALID_KE_PAYLOAD naming our preferred group among those offered.
 */
int ikev2_select_ike(const struct ike_peer *p, const struct ikev2_msg *m,
                      struct ike_suite *suite, uint16_t *want_group)
{
    *want_group = 0;
    for (unsigned i = 0; i < m->sa.n; i++)
        for (unsigned j = 0; j < p->cfg.n_ike; j++)
            if (p->cfg.ike[j].dh == m->ke.group &&
                ike_prop_match(&m->sa.p[i], &p->cfg.ike[j], IKEV2_PROTO_IKE, true)) {
                *suite = p->cfg.ike[j];
                return (int)i;
            }
    for (unsigned j = 0; j < p->cfg.n_ike && !*want_group; j++)
        for (unsigned i = 0; i < m->sa.n; i++)
            if (ike_prop_match(&m->sa.p[i], &p->cfg.ike[j], IKEV2_PROTO_IKE, true)) {
                *want_group = p->cfg.ike[j].dh;
                break;
            }
    return -1;
}

/* A retransmitted IKE_SA_INIT gets the same answer (§2.1). */
static struct ike_sa *half_open_for(struct ike_ctx *ctx, const struct ikev2_msg *m,
                                    const struct sockaddr_storage *src)
{
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next)
        if (!sa->initiator && sa->spi_i == m->hdr.spi_i && ike_addr_same_host(&sa->remote, src))
            return sa;
    return NULL;
}

int ikev2_send_init_response(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt,
                             size_t len, const struct ikev2_prop *chosen)
{
    struct ikev2_hdr h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r,
                          .exchange = IKEV2_IKE_SA_INIT, .flags = IKEV2_FLAG_RESPONSE};
    struct ikev2_enc e;
    int rc = IKE_OK;
    size_t publen;
    const uint8_t *pub = ike_dh_public(sa->dh, &publen);
    ikev2_enc_init(&e, ctx->buf, sizeof(ctx->buf), true);
    ikev2_put_hdr(&e, &h);
    ikev2_put_sa(&e, chosen, 1);
    ikev2_put_ke(&e, sa->ke_group, pub, publen);
    ikev2_put_nonce(&e, sa->nr, sa->nr_len);
    ikev2_put_natd(ctx, &e, sa, &rc);
    if (rc != IKE_OK || !ikev2_enc_finish(&e))
        return rc != IKE_OK ? rc : IKE_ERR_INVAL;
    sa->msg1 = malloc(len);
    sa->msg2 = malloc(e.w.len);
    if (!sa->msg1 || !sa->msg2)
        return IKE_ERR_NOMEM;
    memcpy(sa->msg1, pkt, len);
    sa->msg1_len = len;
    memcpy(sa->msg2, ctx->buf, e.w.len);
    sa->msg2_len = e.w.len;
    return ike_sa_send_response(ctx, sa, 0, ctx->buf, e.w.len);
}

static int create_sa(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                     const struct ikev2_msg *m, struct ike_peer *p, const struct ike_suite *suite,
                     int chosen, const struct sockaddr_storage *src, const struct sockaddr_storage *dst)
{
    struct ike_sa *sa = ike_sa_new(ctx, p, false);
    if (!sa)
        return IKE_ERR_NOMEM;
    uint8_t b[8];
    int rc = IKE_OK;
    sa->local = *dst;
    sa->remote = *src;
    sa->suite = *suite;
    sa->spi_i = m->hdr.spi_i;
    while (rc == IKE_OK && sa->spi_r == 0 && (rc = ike_rand(ctx, b, 8)) == IKE_OK)
        sa->spi_r = wire_get64(b);
    memcpy(sa->ni, m->nonce, m->nonce_len);
    sa->ni_len = m->nonce_len;
    sa->nr_len = IKE_NONCE_LEN;
    sa->ke_group = suite->dh;
    sa->state = SA_INIT_DONE;
    sa->created = now;
    sa->expire_at = now + HALF_OPEN_MS;
    sa->msgid_peer = 1;
    if (rc == IKE_OK)
        rc = ike_rand(ctx, sa->nr, sa->nr_len);
    if (rc == IKE_OK)
        rc = ike_dh_new(ctx->cr, suite->dh, ctx->cfg.random, ctx->cfg.random_arg, &sa->dh);
    if (rc == IKE_OK && (rc = ikev2_init_derive(ctx, sa, &m->ke)) != IKE_OK) {
        ctx->stats.drop_bad_length++;   /* a KE value that is no public key */
        ike_sa_destroy(ctx, sa, IKE_R_INVALID_SYNTAX, false);
        return IKE_ERR_DROPPED;
    }
    ikev2_check_natd(ctx, sa, m, 0);
    struct ikev2_prop prop;
    ike_props_from_suites(suite, 1, IKEV2_PROTO_IKE, NULL, 0, true, &prop);
    prop.num = m->sa.p[chosen].num;
    if (rc == IKE_OK)
        rc = ikev2_send_init_response(ctx, sa, pkt, len, &prop);
    ike_dh_free(sa->dh);
    sa->dh = NULL;
    if (rc != IKE_OK)
        ike_sa_destroy(ctx, sa, IKE_R_INTERNAL, false);
    return rc;
}

int ikev2_init_respond(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                       const struct ikev2_msg *m, const struct sockaddr_storage *src,
                       const struct sockaddr_storage *dst)
{
    struct ike_peer *p = ike_peer_by_addr(ctx, src, 2);
    if (!p) {
        ctx->stats.drop_unknown_spi++;
        return IKE_ERR_DROPPED;
    }
    struct ike_sa *old = half_open_for(ctx, m, src);
    if (old) {
        if (old->state == SA_INIT_DONE && old->have_resp && old->resp_msgid == 0 &&
            old->msg1_len == len && memcmp(old->msg1, pkt, len) == 0) {
            ctx->stats.cache_replays++;
            return ike_send_raw(ctx, &old->local, &old->remote, old->resp, old->resp_len, p);
        }
        ctx->stats.drop_bad_msgid++;
        return IKE_ERR_DROPPED;
    }
    if (!ikev2_has(m, IKEV2_PLD_SA) || !ikev2_has(m, IKEV2_PLD_KE) ||
        !ikev2_has(m, IKEV2_PLD_NONCE)) {
        ctx->stats.drop_bad_exchange++;
        return init_notify(ctx, m, p, src, dst, IKEV2_N_INVALID_SYNTAX, NULL, 0);
    }
    if (!cookie_check(ctx, now, m, p, src, dst))
        return IKE_ERR_DROPPED;
    struct ike_suite suite;
    uint16_t want;
    int chosen = ikev2_select_ike(p, m, &suite, &want);
    if (chosen < 0 && want) {
        uint8_t g[2] = {(uint8_t)(want >> 8), (uint8_t)want};
        return init_notify(ctx, m, p, src, dst, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
    }
    if (chosen < 0) {
        ike_emit_error(ctx, p, IKE_R_NO_PROPOSAL_CHOSEN, "none of the peer's IKE proposals is ours");
        return init_notify(ctx, m, p, src, dst, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
    }
    return create_sa(ctx, now, pkt, len, m, p, &suite, chosen, src, dst);
}
