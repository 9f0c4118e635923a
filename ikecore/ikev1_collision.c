/*
 * Quick Modes of both sides at once: each rekeys the IPsec SA (both kernels
 * reached the same kilobyte limit, say) and the two first messages cross.
 * IKEv1 has no rule for it (RFC 2409 §5.5 makes a new pair per Quick
 * Mode): left alone, each side would keep the pair of the Quick Mode it
 * finished last, a different one on each side. So the IKEv2 rule applies
 * (RFC 7296 §2.8.1): both pairs are made and announced as replacing the
 * old one, and the one whose Quick Mode used the lowest of the four nonces
 * is redundant. Both sides know all four, so both keep the same pair. The
 * redundant pair's initiator deletes it (and reports it down); the other
 * side reports it down when that DELETE comes, since then the peer has the
 * surviving pair in.
 *
 * With messages in order both sides see the crossing: each one's first
 * message left before the other's arrived, so it arrives while the
 * receiver's own Quick Mode is waiting for its answer.
 */
#include "ikev1_int.h"

#include <string.h>

/* The peer's message 1 (q) came while a Quick Mode of ours is waiting for its answer. */
void ikev1_qm_cross_check(struct ike_sa *sa, struct v1_qm *q)
{
    for (int i = 0; i < V1_MAX_QM; i++) {
        struct v1_qm *o = &sa->v1->qm[i];
        if (o == q || !o->used || !o->initiator || o->done || !sa->child.up)
            continue;
        o->crossed = q->crossed = true;
        o->old = q->old = sa->child;
    }
}

/* The crossed Quick Mode that finished before q, its pair still the current one; or NULL. */
struct v1_qm *ikev1_qm_cross_first(struct ike_sa *sa, const struct v1_qm *q)
{
    if (!q->crossed || !sa->child.up)
        return NULL;
    for (int i = 0; i < V1_MAX_QM; i++) {
        struct v1_qm *o = &sa->v1->qm[i];
        if (o != q && o->used && o->crossed && o->done &&
            o->child.spi_in == sa->child.spi_in && o->old.spi_in == q->old.spi_in)
            return o;
    }
    return NULL;
}

static bool lowest_nonce(const struct v1_qm *a, const struct v1_qm *b)
{
    size_t al, bl;
    const uint8_t *am = ikev2_nonce_min(a->ni, a->ni_len, a->nr, a->nr_len, &al);
    const uint8_t *bm = ikev2_nonce_min(b->ni, b->ni_len, b->nr, b->nr_len, &bl);
    return ikev2_nonce_cmp(am, al, bm, bl) < 0;
}

/*
 * q's pair was just announced (CHILD_REKEYED naming the old pair) and made
 * the current one; first's pair was before it, with the lifetimes soft_at
 * and hard_at. One of them stays.
 */
int ikev1_qm_settle(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                    struct v1_qm *first, ike_time_t soft_at, ike_time_t hard_at)
{
    struct ike_child theirs = first->child;
    bool q_lost = lowest_nonce(q, first);
    theirs.up = true;
    theirs.ours = first->initiator;
    q->crossed = first->crossed = false;
    ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED); /* an older one never deleted */
    if (q_lost) {
        sa->dup_child = sa->child;
        sa->child = theirs;
        sa->child_soft_at = soft_at;
        sa->child_hard_at = hard_at;
    } else {
        sa->dup_child = theirs;
    }
    if (!sa->dup_child.ours)
        return IKE_OK;      /* the peer deletes it */
    int rc = ikev1_send_delete(ctx, sa, now, false, sa->dup_child.spi_in);
    ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED);
    return rc;
}
