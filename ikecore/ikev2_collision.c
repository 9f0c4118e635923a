/*
 * Exchanges that cross: simultaneous rekeys of the CHILD SA (RFC 7296
 * §2.8.1) and of the IKE SA (§2.8.2), TEMPORARY_FAILURE and its retry
 * (§2.25), two IKE SAs made at once because both sides initiated, and a
 * peer that restarted (INITIAL_CONTACT, §2.4).
 *
 * Every decision between two SAs is the §2.8.1 one: the SA whose exchange
 * used the lowest of the four nonces is redundant and is deleted by the side
 * that initiated it. Both sides know all four nonces, so both pick the same.
 */
#include "ike_int.h"

#include <string.h>

#define REPLACED_GRACE_MS 30000     /* a redundant SA the peer never deletes goes by itself */

/* §2.8.1: "lowest" is octet by octet; a nonce that ends first is the lower. */
int ikev2_nonce_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

const uint8_t *ikev2_nonce_min(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                               size_t *len)
{
    bool first = ikev2_nonce_cmp(a, an, b, bn) <= 0;
    *len = first ? an : bn;
    return first ? a : b;
}

/* True when a's nonces (Ni, Nr of the exchange that made it) hold the lowest of the four. */
bool ikev2_sa_lowest_nonce(const struct ike_sa *a, const struct ike_sa *b)
{
    size_t al, bl;
    const uint8_t *am = ikev2_nonce_min(a->ni, a->ni_len, a->nr, a->nr_len, &al);
    const uint8_t *bm = ikev2_nonce_min(b->ni, b->ni_len, b->nr, b->nr_len, &bl);
    return ikev2_nonce_cmp(am, al, bm, bl) < 0;
}

/* §2.8.2: the surviving IKE SA inherits every CHILD SA, with their timers. */
void ikev2_move_children(struct ike_sa *from, struct ike_sa *to)
{
    to->child = from->child;
    to->old_child = from->old_child;
    to->dup_child = from->dup_child;
    to->child_prop_num = from->child_prop_num;
    to->child_soft_at = from->child_soft_at;
    to->child_hard_at = from->child_hard_at;
    memset(&from->child, 0, sizeof(from->child));
    memset(&from->old_child, 0, sizeof(from->old_child));
    memset(&from->dup_child, 0, sizeof(from->dup_child));
    from->child_soft_at = from->child_hard_at = 0;
}

/* §2.25: "retry the operation later", after a random delay (1 to 5 seconds here). */
void ikev2_retry_later(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       enum ike_req_kind kind)
{
    uint8_t r[2] = {0};
    ike_rand(ctx, r, sizeof(r));    /* jitter only; zero on failure is harmless */
    sa->retry_kind = kind;
    sa->retry_at = now + 1000 + wire_get16(r) % 4000;
}

void ikev2_retry_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (!sa->retry_at || now < sa->retry_at || sa->req_kind != REQ_NONE || sa->replaced)
        return;
    enum ike_req_kind kind = sa->retry_kind;
    sa->retry_at = 0;
    sa->retry_kind = REQ_NONE;
    if (kind == REQ_REKEY_CHILD && sa->child.up)
        ikev2_rekey_child_start(ctx, sa, now);
    else if (kind == REQ_REKEY_IKE)
        ikev2_rekey_ike_start(ctx, sa, now);
}

/*
 * sa lost: it is no longer used for anything. Its initiator deletes it now,
 * or as soon as its outstanding request is done; the responder waits for
 * that DELETE, and drops it by itself after a grace period.
 */
int ikev2_sa_redundant(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    sa->replaced = true;
    sa->dpd_at = 0;
    sa->retry_at = 0;
    sa->expire_at = now + REPLACED_GRACE_MS;
    if (!sa->initiator)
        return IKE_OK;
    if (sa->req_kind != REQ_NONE) {
        sa->del_pending = true;
        return IKE_OK;
    }
    return ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);
}

static struct ike_sa *sa_by_spis(struct ike_ctx *ctx, uint64_t spi_i, uint64_t spi_r)
{
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next)
        if (sa->spi_i == spi_i && sa->spi_r == spi_r)
            return sa;
    return NULL;
}

/*
 * §2.8.2, once our rekey of old made `ours` while the peer's rekey of the
 * same SA made another one (we answered it first; the CHILD SAs went there).
 * "The new IKE SA containing the lowest nonce SHOULD be deleted by the node
 * that created it, and the other surviving new IKE SA MUST inherit all the
 * Child SAs." The old IKE SA is deleted by whoever initiated the survivor
 * (§1.3.2: the rekey's initiator deletes the old SA).
 */
int ikev2_settle_ike_collision(struct ike_ctx *ctx, struct ike_sa *old, struct ike_sa *ours,
                               ike_time_t now)
{
    struct ike_sa *theirs = sa_by_spis(ctx, old->coll_spi_i, old->coll_spi_r);
    old->coll_spi_i = old->coll_spi_r = 0;
    if (!theirs || theirs->replaced)    /* already gone: ours is the only one */
        return ikev2_info_request(ctx, old, now, REQ_DEL_IKE);
    if (ikev2_sa_lowest_nonce(ours, theirs))
        return ikev2_sa_redundant(ctx, ours, now);  /* the peer deletes old */
    ikev2_move_children(theirs, ours);
    int rc = ikev2_sa_redundant(ctx, theirs, now);  /* the peer deletes it */
    if (rc == IKE_OK)
        rc = ikev2_info_request(ctx, old, now, REQ_DEL_IKE);
    return rc;
}

/*
 * The peer deletes sa, the new IKE SA of its crossing rekey, before our own
 * rekey's answer arrived (its DELETE overtook that answer): sa lost the
 * §2.8.2 rule, so its CHILD SAs go back to the old SA, from which our
 * answer moves them to the survivor.
 */
void ikev2_collision_deleted(struct ike_ctx *ctx, struct ike_sa *sa)
{
    for (struct ike_sa *o = ctx->sas; o; o = o->next)
        if (o != sa && o->coll_spi_i == sa->spi_i && o->coll_spi_r == sa->spi_r &&
            o->req_kind == REQ_REKEY_IKE) {
            ikev2_move_children(sa, o);
            sa->replaced = true;
            return;
        }
}

/*
 * §2.4: with INITIAL_CONTACT the peer says this is its only IKE SA with us
 * (it restarted), so every SA of ours it cannot know goes now, without
 * waiting for liveness checks to fail. Only SAs up before this one was
 * begun: one established while this one was being made (both sides
 * initiated at once) is known to the peer and settled by ikev2_dup_check.
 */
void ikev2_initial_contact(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m)
{
    if (!ikev2_find_notify(m, IKEV2_N_INITIAL_CONTACT))
        return;
    struct ike_sa *o = ctx->sas;
    while (o) {
        struct ike_sa *next = o->next;
        if (o != sa && o->peer == sa->peer && o->state == SA_ESTABLISHED &&
            o->up_at < sa->created)
            ike_sa_destroy(ctx, o, IKE_R_REPLACED, true);
        o = next;
    }
}

/*
 * Both sides initiated at once: two IKE SAs, each with a CHILD SA. The §2.8.1
 * rule applied to the two IKE_SA_INIT exchanges keeps the same one on both
 * sides (what strongSwan's duplicate check achieves with its own rule).
 */
int ikev2_dup_check(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    for (struct ike_sa *o = ctx->sas; o; o = o->next) {
        if (o == sa || o->peer != sa->peer || o->state != SA_ESTABLISHED || o->replaced)
            continue;
        return ikev2_sa_redundant(ctx, ikev2_sa_lowest_nonce(sa, o) ? sa : o, now);
    }
    return IKE_OK;
}
