/*
 * Informational exchanges (RFC 2409 §5.7): one protected message each,
 * HDR*, HASH(1), N/D, with its own M-ID and IV. DELETE of the ISAKMP or the
 * IPsec SA (RFC 2408 §3.15), error notifies, DPD R-U-THERE / ACK (RFC 3706
 * §5), and the unprotected error notifies of a failing phase 1.
 */
#include "ikev1_int.h"

#include <string.h>

static void cookies(const struct ike_sa *sa, uint8_t spi[16])
{
    wire_put_be64_at(spi, sa->spi_i);
    wire_put_be64_at(spi + 8, sa->spi_r);
}

/* One protected Informational message with the chain of e after HASH(1). */
static int send_info(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                     struct ikev1_enc *e, size_t h)
{
    uint8_t iv[IKEV1_MAX_IV], b[4];
    uint32_t msgid = 0;
    if (!sa->v1 || !sa->v1->k.encr_len || sa->v1->st != V1_UP)
        return IKE_ERR_STATE;
    while (msgid == 0) {
        if (ike_rand(ctx, b, sizeof(b)) != IKE_OK)
            return IKE_ERR_CRYPTO;
        msgid = wire_get32(b);
    }
    int rc = ikev1_p2_iv(ctx, sa, msgid, iv);
    if (rc == IKE_OK)
        rc = ikev1_hash_fill(ctx, sa, e, h, 1, msgid, NULL);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_INFO, msgid, e, iv, NULL, false);
    return rc;
}

int ikev1_info_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint16_t notify,
                    const uint8_t *spi, uint8_t proto, const uint8_t *data, size_t dlen)
{
    struct ikev1_enc e;
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    size_t h = ikev1_hash_begin(&e, sa);
    ikev1_put_notify(&e, proto, spi, proto == IKEV1_PROTO_ISAKMP ? 16 : 4, notify, data, dlen);
    return send_info(ctx, sa, now, &e, h);
}

/* ike: the IPsec SA (if any) and then the ISAKMP SA; else the IPsec SA with our SPI spi. */
int ikev1_send_delete(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, bool ike,
                      uint32_t spi)
{
    struct ikev1_enc e;
    uint8_t b[16];
    int rc = IKE_OK;
    if (ike && sa->child.up)
        rc = ikev1_send_delete(ctx, sa, now, false, sa->child.spi_in);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    size_t h = ikev1_hash_begin(&e, sa);
    if (ike) {
        cookies(sa, b);
        ikev1_put_delete(&e, IKEV1_PROTO_ISAKMP, b, 16, 1);
    } else {
        wire_put_be32_at(b, spi);
        ikev1_put_delete(&e, IKEV1_PROTO_ESP, b, 4, 1);
    }
    int rc2 = send_info(ctx, sa, now, &e, h);
    return rc != IKE_OK ? rc : rc2;
}

int ikev1_dpd_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    uint8_t spi[16], seq[4];
    struct ikev1_sa *v = sa->v1;
    if (v->dpd_seq == 0) {          /* §5.5: start at a random value */
        if (ike_rand(ctx, seq, sizeof(seq)) != IKE_OK)
            return IKE_ERR_CRYPTO;
        v->dpd_seq = wire_get32(seq) & 0x7fffffff;
    }
    v->dpd_seq++;
    cookies(sa, spi);
    wire_put_be32_at(seq, v->dpd_seq);
    return ikev1_info_send(ctx, sa, now, IKEV1_N_R_U_THERE, spi, IKEV1_PROTO_ISAKMP, seq, 4);
}

/* §5: R-U-THERE answered with the same sequence number; an ACK of our last one ends the check. */
static void dpd(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                const struct ikev1_notify *n)
{
    uint8_t spi[16];
    struct ikev1_sa *v = sa->v1;
    cookies(sa, spi);
    if (n->len != 4 || n->spi_size != 16 || memcmp(n->spi, spi, 16) != 0)
        return;
    uint32_t seq = wire_get32(n->data);
    if (n->type == IKEV1_N_R_U_THERE) {
        if (seq > v->dpd_peer_seq)      /* a replayed older one does not set it back */
            v->dpd_peer_seq = seq;
        ikev1_info_send(ctx, sa, now, IKEV1_N_R_U_THERE_ACK, spi, IKEV1_PROTO_ISAKMP, n->data, 4);
    } else if (v->dpd_out && seq == v->dpd_seq) {
        v->dpd_out = false;
        v->dpd_tries = 0;
    }
}

/*
 * An authenticated Informational may still be a captured one sent again:
 * it has no message ID window. Its DPD sequence number tells (RFC 3706 §7):
 * an R-U-THERE must be newer than the last, an ACK answer ours. Only a
 * fresh one moves the SA to where it came from (RFC 3947 §4).
 */
static bool stale_dpd(const struct ike_sa *sa, const struct ikev1_msg *m)
{
    const struct ikev1_sa *v = sa->v1;
    for (unsigned i = 0; i < m->n_notify; i++) {
        const struct ikev1_notify *n = &m->notify[i];
        if (n->type != IKEV1_N_R_U_THERE && n->type != IKEV1_N_R_U_THERE_ACK)
            continue;
        if (n->len != 4)
            return true;
        uint32_t seq = wire_get32(n->data);
        if (n->type == IKEV1_N_R_U_THERE ? v->dpd_peer_seq && seq <= v->dpd_peer_seq
                                         : !v->dpd_out || seq != v->dpd_seq)
            return true;
    }
    return false;
}

/* A refused Quick Mode of ours ends; the ISAKMP SA stays. */
static void error_notify(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_notify *n)
{
    ike_emit_error(ctx, sa->peer, ikev1_notify_reason(n->type), "the peer refused our request");
    for (int i = 0; i < V1_MAX_QM; i++)
        if (sa->v1->qm[i].used && !sa->v1->qm[i].done)
            ikev1_qm_free(&sa->v1->qm[i]);
}

/* false when the ISAKMP SA itself was deleted (sa is gone). */
static bool deletes(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m)
{
    uint8_t spi[16];
    cookies(sa, spi);
    for (unsigned i = 0; i < m->n_del; i++) {
        const struct ikev1_delete *d = &m->del[i];
        if (d->proto == IKEV1_PROTO_ISAKMP && d->spi_size == 16 &&
            memcmp(d->spi, spi, 16) == 0) {
            ike_sa_destroy(ctx, sa, sa->replaced ? IKE_R_REPLACED : IKE_R_DELETED_BY_PEER, true);
            return false;
        }
        for (unsigned k = 0; d->proto == IKEV1_PROTO_ESP && d->spi_size == 4 && k < d->n; k++) {
            uint32_t s = wire_get32(d->spi + 4 * k);
            if (sa->old_child.up && (s == sa->old_child.spi_out || s == sa->old_child.spi_in)) {
                /*
                 * The rekey's initiator has the new SA in: send on it now. Not
                 * when the new SA is of our Quick Mode (two crossed,
                 * ikev1_collision.c): the peer may not have our message 3 yet.
                 */
                if (sa->child.ours)
                    memset(&sa->old_child, 0, sizeof(sa->old_child));
                else
                    ike_child_switch(ctx, sa, &sa->old_child);
            } else if (sa->dup_child.up &&
                       (s == sa->dup_child.spi_out || s == sa->dup_child.spi_in)) {
                /* the redundant one of crossed Quick Modes: the peer has the survivor */
                ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED);
            } else if (sa->child.up && (s == sa->child.spi_out || s == sa->child.spi_in))
                ike_child_down(ctx, sa, IKE_R_DELETED_BY_PEER);
        }
    }
    return true;
}

/* Before phase 1 is done: an unprotected error notify for our cookies ends it. */
static int plain(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m)
{
    for (unsigned i = 0; i < m->n_notify; i++) {
        uint16_t t = m->notify[i].type;
        if (t >= 1 && t <= IKEV1_N_ERROR_MAX && sa->state != SA_ESTABLISHED) {
            ikev1_fail(ctx, sa, ikev1_notify_reason(t), "the peer refused the phase 1 negotiation");
            return IKE_OK;
        }
    }
    ctx->stats.drop_bad_exchange++;
    return IKE_ERR_DROPPED;
}

int ikev1_info_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst)
{
    uint8_t iv[IKEV1_MAX_IV], next_iv[IKEV1_MAX_IV], h[IKE_MAX_PRF_LEN];
    if (!(m->hdr.flags & IKEV1_FLAG_ENC))
        return plain(ctx, sa, m);
    if (sa->v1->st != V1_UP || m->hdr.msgid == 0) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    if (ikev1_p2_iv(ctx, sa, m->hdr.msgid, iv) != IKE_OK)
        return IKE_ERR_CRYPTO;
    int perr = ikev1_decrypt(ctx, sa, iv, pkt, len, m, next_iv);
    if (perr == IKE_ERR_DROPPED)
        return perr;
    if (perr != IKEV1_P_OK) {
        ike_count_perr(ctx, perr);
        return IKE_ERR_DROPPED;
    }
    if (m->first != IKEV1_PLD_HASH || m->hash.len != ikev1_hash_len(sa) ||
        ikev1_hash_p2(ctx, sa, 1, m->hdr.msgid, NULL, m->after_hash, m->after_hash_len, h) !=
            IKE_OK ||
        !ike_ct_equal(h, m->hash.data, m->hash.len)) {
        ctx->stats.drop_integrity++;
        return IKE_ERR_DROPPED;
    }
    sa->last_rx = now;
    if (!stale_dpd(sa, m))
        ike_sa_follow(ctx, sa, src, dst);
    for (unsigned i = 0; i < m->n_notify; i++) {
        const struct ikev1_notify *n = &m->notify[i];
        if (n->type == IKEV1_N_R_U_THERE || n->type == IKEV1_N_R_U_THERE_ACK)
            dpd(ctx, sa, now, n);
        else if (n->type >= 1 && n->type <= IKEV1_N_ERROR_MAX)
            error_notify(ctx, sa, n);
    }
    deletes(ctx, sa, m);
    return IKE_OK;
}
