/*
 * INFORMATIONAL (RFC 7296 §1.4): deleting the CHILD SA, the one a rekey
 * replaced, the redundant one of a rekey collision (§2.8.1) or the IKE SA,
 * and the empty request that checks liveness (§2.4).
 */
#include "ike_int.h"

#include <string.h>

int ikev2_info_request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       enum ike_req_kind kind)
{
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    if (kind == REQ_DEL_CHILD)
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->child.spi_in, 1);
    else if (kind == REQ_DEL_OLD_CHILD)
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->old_child.spi_in, 1);
    else if (kind == REQ_DEL_DUP_CHILD)
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->dup_child.spi_in, 1);
    else if (kind == REQ_DEL_IKE)
        ikev2_put_delete(&e, IKEV2_PROTO_IKE, NULL, 0);
    return ikev2_seal_send(ctx, sa, now, IKEV2_INFORMATIONAL, false, sa->msgid_next, &e, kind);
}

/* Which of our CHILD SAs the peer's Delete payloads name; true for the IKE SA. */
static bool deleted(const struct ike_sa *sa, const struct ikev2_msg *m, bool *child, bool *old,
                    bool *dup)
{
    bool ike = false;
    *child = *old = *dup = false;
    for (unsigned i = 0; i < m->n_del; i++) {
        const struct ikev2_delete *d = &m->del[i];
        ike |= d->proto == IKEV2_PROTO_IKE;
        for (unsigned k = 0; d->proto == IKEV2_PROTO_ESP && k < d->n; k++) {
            *child |= sa->child.up && d->spi[k] == sa->child.spi_out;
            *old |= sa->old_child.up && d->spi[k] == sa->old_child.spi_out;
            *dup |= sa->dup_child.up && d->spi[k] == sa->dup_child.spi_out;
        }
    }
    return ike;
}

/*
 * §1.4.1: deleting an SA pair means answering with the SPI of our half.
 * §2.25.1: a CHILD SA we are deleting ourselves is answered without it.
 */
int ikev2_info_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       const struct ikev2_msg *m)
{
    bool del_child, del_old, del_dup;
    bool del_ike = deleted(sa, m, &del_child, &del_old, &del_dup);
    bool closing_dup = sa->req_kind == REQ_DEL_DUP_CHILD;
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    if (del_child && !del_ike)
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->child.spi_in, 1);
    if (del_old && !del_ike)    /* replaced by a rekey: the caller already has its SPIs */
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->old_child.spi_in, 1);
    if (del_dup && !del_ike && !closing_dup)
        ikev2_put_delete(&e, IKEV2_PROTO_ESP, &sa->dup_child.spi_in, 1);
    /*
     * The rekey's initiator deletes the old SA only once it has the new one
     * in both directions: the caller moves its outbound traffic over now,
     * before our answer lets the peer drop the old one.
     */
    if (del_old && !del_ike)
        ike_child_switch(ctx, sa, &sa->old_child);
    int rc = ikev2_seal_send(ctx, sa, now, IKEV2_INFORMATIONAL, true, m->hdr.msgid, &e, REQ_NONE);
    if (del_ike) {
        ikev2_collision_deleted(ctx, sa);
        ike_sa_destroy(ctx, sa, sa->replaced ? IKE_R_REPLACED : IKE_R_DELETED_BY_PEER, true);
        return rc;
    }
    if (del_dup && !closing_dup)
        ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED);
    if (del_child)      /* while rekeys cross: the redundant one, its DELETE before our answer */
        ike_child_down(ctx, sa, sa->rk_collided ? IKE_R_REPLACED : IKE_R_DELETED_BY_PEER);
    return rc;
}

int ikev2_info_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const struct ikev2_msg *m)
{
    enum ike_req_kind kind = sa->req_kind;
    ike_sa_request_done(sa);
    if (kind == REQ_DEL_IKE)
        ike_sa_destroy(ctx, sa, sa->replaced ? IKE_R_REPLACED : IKE_R_DELETED_LOCALLY, true);
    else if (kind == REQ_DEL_CHILD)
        ike_child_down(ctx, sa, IKE_R_DELETED_LOCALLY);
    else if (kind == REQ_DEL_OLD_CHILD)     /* the peer answered: it has the new SA in */
        ike_child_switch(ctx, sa, &sa->old_child);
    else if (kind == REQ_DEL_DUP_CHILD)     /* §2.8.1: the redundant one of a collision */
        ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED);
    return IKE_OK;
}
