/*
 * IKEv1 input: decode the ISAKMP header, find the ISAKMP SA by its cookies
 * (RFC 2408 §2.5.3), answer a retransmitted message with our last one
 * (RFC 2408 §5, RFC 2409 §5: a duplicate is recognised byte for byte) and
 * hand the message to its exchange. Sending and a few helpers shared by the
 * exchanges live here too.
 */
#include "ikev1_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/*
 * By cookies, not addresses: behind a NAT the peer's port changes (RFC 3947
 * §4), and its address may. Before message 2 the initiator knows no CKY-R
 * (and a refusal may carry none); a retransmitted first message carries
 * none either.
 */
static struct ike_sa *find(struct ike_ctx *ctx, const struct ikev1_hdr *h)
{
    bool p1 = h->exchange == IKEV1_EXCH_MAIN || h->exchange == IKEV1_EXCH_AGGRESSIVE;
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next) {
        if (!sa->v1 || sa->spi_i != h->cky_i)
            continue;
        if (sa->spi_r == h->cky_r && h->cky_r != 0)
            return sa;
        enum v1_state st = sa->v1->st;
        if (sa->initiator && (st == V1_MM_I1 || st == V1_AM_I1) &&
            (p1 || h->exchange == IKEV1_EXCH_INFO))
            return sa;
        if (!sa->initiator && h->cky_r == 0 && p1)
            return sa;
    }
    return NULL;
}

void ikev1_rx_seen(struct ike_ctx *ctx, struct v1_xmit *x, const uint8_t *pkt, size_t len)
{
    struct ike_iov v = {pkt, len};
    x->have_rx = ike_sha1(ctx->cr, &v, 1, x->rx_hash) == IKE_OK;
}

static struct v1_xmit *xmit_for(struct ike_sa *sa, const struct ikev1_hdr *h)
{
    if (h->exchange == IKEV1_EXCH_MAIN || h->exchange == IKEV1_EXCH_AGGRESSIVE)
        return &sa->v1->x;
    if (h->exchange != IKEV1_EXCH_QUICK)
        return NULL;
    for (int i = 0; i < V1_MAX_QM; i++)
        if (sa->v1->qm[i].used && sa->v1->qm[i].msgid == h->msgid)
            return &sa->v1->qm[i].x;
    return NULL;
}

/* true: the peer's last message again, answered with our last one (if any). */
static bool duplicate(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_hdr *h,
                      const uint8_t *pkt, size_t len)
{
    struct v1_xmit *x = xmit_for(sa, h);
    uint8_t d[20];
    struct ike_iov v = {pkt, len};
    if (!x || !x->have_rx || ike_sha1(ctx->cr, &v, 1, d) != IKE_OK ||
        !ike_ct_equal(d, x->rx_hash, sizeof(d)))
        return false;
    /*
     * Our answer to it was lost: send it again, unless our timer does
     * (then the peer's copy crossed our retransmission). Bounded, so two
     * peers never echo each other's duplicates for ever.
     */
    if (x->msg && !x->rtx && x->replays < ctx->cfg.retransmit_tries) {
        x->replays++;
        ctx->stats.cache_replays++;
        ike_send_raw(ctx, &sa->local, &sa->remote, x->msg, x->len, sa->peer);
    }
    return true;
}

int ikev1_input(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                const struct sockaddr_storage *src, const struct sockaddr_storage *dst)
{
    struct ikev1_msg *m = &ctx->msg1;
    int rc = ikev1_msg_decode(pkt, len, m);
    if (rc != IKEV1_P_OK) {
        ike_count_perr(ctx, rc);
        return IKE_ERR_DROPPED;
    }
    uint8_t exch = m->hdr.exchange;
    struct ike_sa *sa = find(ctx, &m->hdr);
    if (!sa) {
        bool first = m->hdr.cky_r == 0 && m->hdr.msgid == 0 && !(m->hdr.flags & IKEV1_FLAG_ENC);
        if (first && exch == IKEV1_EXCH_MAIN)
            return ikev1_main_respond1(ctx, now, pkt, len, m, src, dst);
        if (first && exch == IKEV1_EXCH_AGGRESSIVE)
            return ikev1_aggr_respond1(ctx, now, pkt, len, m, src, dst);
        ctx->stats.drop_unknown_spi++;
        return IKE_ERR_DROPPED;
    }
    if (duplicate(ctx, sa, &m->hdr, pkt, len))
        return IKE_OK;
    switch (exch) {
    case IKEV1_EXCH_MAIN:
    case IKEV1_EXCH_AGGRESSIVE:
        if ((exch == IKEV1_EXCH_AGGRESSIVE) != sa->v1->aggressive || m->hdr.msgid != 0) {
            ctx->stats.drop_bad_exchange++;
            return IKE_ERR_DROPPED;
        }
        return sa->v1->aggressive ? ikev1_aggr_input(ctx, sa, now, pkt, len, m, src, dst)
                                  : ikev1_main_input(ctx, sa, now, pkt, len, m, src, dst);
    case IKEV1_EXCH_QUICK:
        return ikev1_quick_input(ctx, sa, now, pkt, len, m, src, dst);
    default:
        return ikev1_info_input(ctx, sa, now, pkt, len, m, src, dst);
    }
}

void ikev1_xmit_clear(struct v1_xmit *x)
{
    if (x->msg) {
        ike_wipe(x->msg, x->len);
        free(x->msg);
    }
    x->msg = NULL;
    x->len = 0;
    x->rtx = false;
    x->tries = 0;
    x->replays = 0;
    x->deadline = 0;
}

static int keep(struct v1_xmit *x, ike_time_t now, unsigned base_ms, const uint8_t *d,
                size_t n, bool rtx)
{
    ikev1_xmit_clear(x);
    x->msg = malloc(n);
    if (!x->msg)
        return IKE_ERR_NOMEM;
    memcpy(x->msg, d, n);
    x->len = n;
    x->rtx = rtx;
    x->deadline = rtx ? now + base_ms : 0;
    return IKE_OK;
}

/*
 * Header + the chain of e (in ctx->inner), encrypted under iv when iv is
 * set (iv then moves to the last ciphertext block), sent, and kept in x
 * for duplicates (and, with rtx, retransmitted until answered).
 */
int ikev1_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint8_t exch,
               uint32_t msgid, const struct ikev1_enc *e, uint8_t *iv, struct v1_xmit *x,
               bool rtx)
{
    struct ikev1_hdr h = {.cky_i = sa->spi_i, .cky_r = sa->spi_r, .next = e->first,
                          .exchange = exch, .msgid = msgid};
    struct ikev1_enc out;
    size_t n;
    if (e->w.err)
        return IKE_ERR_INVAL;
    ikev1_enc_init(&out, ctx->buf, sizeof(ctx->buf), true);
    ikev1_put_hdr(&out, &h);
    wire_put_bytes(&out.w, e->w.p, e->w.len);
    if (!ikev1_enc_finish(&out))
        return IKE_ERR_INVAL;
    n = out.w.len;
    if (iv) {
        int rc = ikev1_encrypt(ctx, sa, iv, ctx->buf, out.w.len, sizeof(ctx->buf), &n);
        if (rc != IKE_OK)
            return rc;
    }
    if (x) {
        int rc = keep(x, now, ctx->cfg.retransmit_base_ms, ctx->buf, n, rtx);
        if (rc != IKE_OK)
            return rc;
    }
    return ike_send_raw(ctx, &sa->local, &sa->remote, ctx->buf, n, sa->peer);
}

/* An unprotected Informational notify (before the keys, RFC 2408 §5); no state kept. */
int ikev1_send_plain_notify(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                            const struct sockaddr_storage *dst, uint64_t cky_i, uint64_t cky_r,
                            uint16_t type, struct ike_peer *p)
{
    struct ikev1_hdr h = {.cky_i = cky_i, .cky_r = cky_r, .exchange = IKEV1_EXCH_INFO};
    uint8_t spi[16];
    struct ikev1_enc e;
    wire_put_be64_at(spi, cky_i);
    wire_put_be64_at(spi + 8, cky_r);
    ikev1_enc_init(&e, ctx->buf, sizeof(ctx->buf), true);
    ikev1_put_hdr(&e, &h);
    ikev1_put_notify(&e, IKEV1_PROTO_ISAKMP, spi, 16, type, NULL, 0);
    if (!ikev1_enc_finish(&e))
        return IKE_ERR_INVAL;
    return ike_send_raw(ctx, src, dst, ctx->buf, e.w.len, p);
}

enum ike_reason ikev1_notify_reason(uint16_t t)
{
    switch (t) {
    case IKEV1_N_NO_PROPOSAL_CHOSEN: return IKE_R_NO_PROPOSAL_CHOSEN;
    case IKEV1_N_AUTHENTICATION_FAILED:
    case IKEV1_N_INVALID_HASH_INFORMATION: return IKE_R_AUTHENTICATION_FAILED;
    case IKEV1_N_INVALID_ID_INFORMATION: return IKE_R_INVALID_ID;
    case IKEV1_N_PAYLOAD_MALFORMED: return IKE_R_INVALID_SYNTAX;
    case IKEV1_N_INVALID_KEY_INFORMATION: return IKE_R_INVALID_KE_PAYLOAD;
    default: return IKE_R_INTERNAL;
    }
}
