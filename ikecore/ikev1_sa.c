/*
 * The IKEv1 side of an IKE SA: its creation and end, the phase 1 result
 * (IKE_UP, INITIAL-CONTACT, an ISAKMP SA replacing an older one),
 * retransmissions with the IKEv2 back-off, lifetimes, DPD (RFC 3706) and
 * the commands of the API.
 */
#include "ikev1_int.h"

#include <stdlib.h>
#include <string.h>

#define REPLACED_GRACE_MS 30000

struct ike_sa *ikev1_sa_new(struct ike_ctx *ctx, struct ike_peer *p, bool initiator,
                            ike_time_t now)
{
    struct ikev1_sa *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    struct ike_sa *sa = ike_sa_new(ctx, p, initiator);
    if (!sa) {
        free(v);
        return NULL;
    }
    sa->v1 = v;
    sa->created = now;
    sa->state = initiator ? SA_INIT_SENT : SA_INIT_DONE;
    v->aggressive = p->cfg.ikev1_aggressive;
    return sa;
}

void ikev1_qm_free(struct v1_qm *q)
{
    ike_dh_free(q->dh);
    ikev1_xmit_clear(&q->x);
    ike_wipe(q, sizeof(*q));
}

void ikev1_sa_free(struct ike_sa *sa)
{
    struct ikev1_sa *v = sa->v1;
    if (!v)
        return;
    for (int i = 0; i < V1_MAX_QM; i++)
        ikev1_qm_free(&v->qm[i]);
    ikev1_xmit_clear(&v->x);
    if (v->sai_b) {
        ike_wipe(v->sai_b, v->sai_b_len);
        free(v->sai_b);
    }
    ike_wipe(v, sizeof(*v));
    free(v);
    sa->v1 = NULL;
}

void ikev1_emit_ike_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ike_event ev = {.type = IKE_EV_IKE_UP, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.ike.spi_i = sa->spi_i;
    ev.u.ike.spi_r = sa->spi_r;
    ev.u.ike.version = 1;
    ev.u.ike.initiator = sa->initiator;
    ev.u.ike.suite = sa->suite;
    ev.u.ike.nat_local = sa->nat_local;
    ev.u.ike.nat_remote = sa->nat_remote;
    ike_emit(ctx, &ev, NULL, 0);
}

void ikev1_fail(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason r, const char *why)
{
    ike_emit_error(ctx, sa->peer, r, why);
    ike_sa_destroy(ctx, sa, r, true);
}

/* Another ISAKMP SA of the peer's, established and still in use. */
static struct ike_sa *older(struct ike_ctx *ctx, struct ike_sa *sa)
{
    for (struct ike_sa *o = ctx->sas; o; o = o->next)
        if (o != sa && o->peer == sa->peer && o->v1 && o->state == SA_ESTABLISHED &&
            !o->replaced)
            return o;
    return NULL;
}

/* The IPsec SA moves to the new ISAKMP SA, the old one goes (RFC 2409 §4: lifetimes are apart). */
static void take_over(struct ike_ctx *ctx, struct ike_sa *sa, struct ike_sa *o, ike_time_t now)
{
    if (o->child.up && !sa->child.up) {
        sa->child = o->child;
        sa->old_child = o->old_child;
        sa->child_soft_at = o->child_soft_at;
        sa->child_hard_at = o->child_hard_at;
        sa->v1->del_old_spi = o->v1->del_old_spi;   /* its DELETE goes from the new one */
        sa->v1->del_old_at = o->v1->del_old_at;
        o->v1->del_old_at = 0;
        memset(&o->child, 0, sizeof(o->child));
        memset(&o->old_child, 0, sizeof(o->old_child));
        o->child_soft_at = o->child_hard_at = 0;
    }
    o->replaced = true;
    o->dpd_at = 0;
    o->expire_at = now + REPLACED_GRACE_MS;
    if (sa->initiator) {        /* we made the new one: the old one is ours to delete */
        ikev1_send_delete(ctx, o, now, true, 0);
        ike_sa_destroy(ctx, o, IKE_R_REPLACED, true);
    }
}

static void timers_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    ike_time_t life = (ike_time_t)sa->v1->life_s * 1000;
    sa->up_at = now;
    sa->expire_at = 0;
    sa->last_rx = now;
    if (pc->dpd_interval_s && sa->v1->peer_dpd)
        sa->dpd_at = now + (ike_time_t)pc->dpd_interval_s * 1000;
    if (life) {
        if (sa->initiator)      /* 10-15 % before the (negotiated) lifetime */
            sa->ike_rekey_at = now + ike_soft_life(ctx, life);
        sa->ike_hard_at = now + life;
    }
}

/* Phase 1 complete: IKE_UP, stale or replaced SAs of the peer's, then (initiator) Quick Mode. */
void ikev1_phase1_done(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev1_sa *v = sa->v1;
    sa->state = SA_ESTABLISHED;
    v->st = V1_UP;
    timers_up(ctx, sa, now);
    ike_dh_free(sa->dh);
    sa->dh = NULL;
    ike_wipe(v->skeyid, sizeof(v->skeyid));
    ike_wipe(v->g_peer, sizeof(v->g_peer));
    ikev1_emit_ike_up(ctx, sa, now);
    struct ike_sa *o;
    while ((o = older(ctx, sa)) != NULL) {
        if (v->initial_contact)     /* the peer restarted: what we had is stale */
            ike_sa_destroy(ctx, o, IKE_R_REPLACED, true);
        else
            take_over(ctx, sa, o, now);
    }
    if (sa->initiator && !sa->child.up && ikev1_quick_start(ctx, sa, now) != IKE_OK)
        ike_emit_error(ctx, sa->peer, IKE_R_INTERNAL, "could not start Quick Mode");
}

int ikev1_initiate(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    sa->v1 = calloc(1, sizeof(*sa->v1));
    if (!sa->v1)
        return IKE_ERR_NOMEM;
    sa->created = now;
    sa->state = SA_INIT_SENT;
    sa->v1->aggressive = sa->peer->cfg.ikev1_aggressive;
    return sa->v1->aggressive ? ikev1_aggr_start(ctx, sa, now) : ikev1_main_start(ctx, sa, now);
}

/* false: gave up (the caller's SA may be gone). */
static bool retransmit(struct ike_ctx *ctx, struct ike_sa *sa, struct v1_xmit *x,
                       ike_time_t now)
{
    if (!x->rtx || !x->msg || now < x->deadline)
        return true;
    if (x->tries >= ctx->cfg.retransmit_tries)
        return false;
    x->tries++;
    ctx->stats.retransmits++;
    x->deadline = now + ((ike_time_t)ctx->cfg.retransmit_base_ms << x->tries);
    ike_send_raw(ctx, &sa->local, &sa->remote, x->msg, x->len, sa->peer);
    return true;
}

/* Quick Modes: retransmissions, and forgetting finished or abandoned ones. */
static bool qm_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    for (int i = 0; i < V1_MAX_QM; i++) {
        struct v1_qm *q = &sa->v1->qm[i];
        if (!q->used)
            continue;
        if (!retransmit(ctx, sa, &q->x, now)) {
            ikev1_fail(ctx, sa, IKE_R_TIMEOUT, "no answer to Quick Mode after retransmissions");
            return false;
        }
        if (q->expire_at && now >= q->expire_at)
            ikev1_qm_free(q);
    }
    return true;
}

static bool dpd_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev1_sa *v = sa->v1;
    ike_time_t iv = (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000;
    if (v->dpd_out && now >= v->dpd_deadline) {
        if (v->dpd_tries >= ctx->cfg.retransmit_tries || now >= sa->dpd_give_up) {
            ikev1_fail(ctx, sa, IKE_R_DEAD_PEER, "no answer to R-U-THERE");
            return false;
        }
        v->dpd_tries++;
        ctx->stats.retransmits++;
        v->dpd_deadline = now + ((ike_time_t)ctx->cfg.retransmit_base_ms << v->dpd_tries);
        if (v->dpd_deadline > sa->dpd_give_up)
            v->dpd_deadline = sa->dpd_give_up;
        ikev1_dpd_send(ctx, sa, now);
    }
    if (!sa->dpd_at || now < sa->dpd_at || v->dpd_out)
        return true;
    if (now - sa->last_rx >= iv) {
        v->dpd_out = true;
        v->dpd_tries = 0;
        v->dpd_deadline = now + ctx->cfg.retransmit_base_ms;
        sa->dpd_give_up = ike_dpd_give_up(sa, now);
        ikev1_dpd_send(ctx, sa, now);
    }
    sa->dpd_at = sa->last_rx + iv > now ? sa->last_rx + iv : now + iv;
    return true;
}

/* Lifetimes: the IPsec SA's (rekey at the soft one, initiator only), then the ISAKMP SA's. */
static bool life_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (sa->ike_hard_at && now >= sa->ike_hard_at) {
        ike_emit_error(ctx, sa->peer, IKE_R_EXPIRED, "the ISAKMP SA reached its lifetime");
        ikev1_send_delete(ctx, sa, now, true, 0);
        ike_sa_destroy(ctx, sa, IKE_R_EXPIRED, true);
        return false;
    }
    if (sa->child.up && sa->child_hard_at && now >= sa->child_hard_at) {
        ikev1_send_delete(ctx, sa, now, false, sa->child.spi_in);
        ike_child_down(ctx, sa, IKE_R_EXPIRED);
    }
    if (sa->child.up && sa->initiator && sa->child_soft_at && now >= sa->child_soft_at) {
        sa->child_soft_at = 0;
        ikev1_rekey_child(ctx, sa, now);
    }
    if (sa->initiator && sa->ike_rekey_at && now >= sa->ike_rekey_at) {
        sa->ike_rekey_at = 0;
        ikev1_rekey_ike(ctx, sa, now);
    }
    return true;
}

/* Our rekey's old IPsec SA: the new one carries our traffic from now, then the DELETE. */
static void del_old_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev1_sa *v = sa->v1;
    if (!v->del_old_at || now < v->del_old_at)
        return;
    uint32_t spi = v->del_old_spi;
    v->del_old_at = 0;
    if (sa->old_child.up && sa->old_child.spi_in == spi)
        ike_child_switch(ctx, sa, &sa->old_child);
    ikev1_send_delete(ctx, sa, now, false, spi);
}

void ikev1_sa_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (sa->expire_at && now >= sa->expire_at) {
        bool was_up = sa->state == SA_ESTABLISHED;
        ike_sa_destroy(ctx, sa, was_up ? IKE_R_REPLACED : IKE_R_TIMEOUT,
                       was_up || sa->initiator);
        return;
    }
    if (!retransmit(ctx, sa, &sa->v1->x, now)) {
        ikev1_fail(ctx, sa, IKE_R_TIMEOUT, "no response after retransmissions");
        return;
    }
    if (sa->state != SA_ESTABLISHED || !qm_tick(ctx, sa, now) || sa->replaced)
        return;
    if (!dpd_tick(ctx, sa, now))
        return;
    del_old_tick(ctx, sa, now);
    life_tick(ctx, sa, now);
}

static ike_time_t tmin(ike_time_t a, ike_time_t b)
{
    return b && b < a ? b : a;
}

ike_time_t ikev1_sa_deadline(const struct ike_sa *sa)
{
    const struct ikev1_sa *v = sa->v1;
    ike_time_t t = tmin(IKE_TIME_NEVER, sa->expire_at);
    if (v->x.rtx && v->x.msg)
        t = tmin(t, v->x.deadline);
    if (sa->state != SA_ESTABLISHED || sa->replaced)
        return t;
    for (int i = 0; i < V1_MAX_QM; i++) {
        if (!v->qm[i].used)
            continue;
        if (v->qm[i].x.rtx && v->qm[i].x.msg)
            t = tmin(t, v->qm[i].x.deadline);
        t = tmin(t, v->qm[i].expire_at);
    }
    t = v->dpd_out ? tmin(t, v->dpd_deadline) : tmin(t, sa->dpd_at);
    t = tmin(t, v->del_old_at);
    t = tmin(t, sa->ike_hard_at);
    if (sa->child.up) {
        t = tmin(t, sa->child_hard_at);
        if (sa->initiator)
            t = tmin(t, sa->child_soft_at);
    }
    if (sa->initiator)
        t = tmin(t, sa->ike_rekey_at);
    return t;
}

/* RFC 2408 §4.8: a DELETE is a one-way notification; the SA goes at once. */
int ikev1_delete_child(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    int rc = ikev1_send_delete(ctx, sa, now, false, sa->child.spi_in);
    ike_child_down(ctx, sa, IKE_R_DELETED_LOCALLY);
    return rc;
}

int ikev1_delete_ike(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    int rc = ikev1_send_delete(ctx, sa, now, true, 0);
    ike_sa_destroy(ctx, sa, IKE_R_DELETED_LOCALLY, true);
    return rc;
}

int ikev1_rekey_child(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    for (int i = 0; i < V1_MAX_QM; i++)
        if (sa->v1->qm[i].used && sa->v1->qm[i].initiator && !sa->v1->qm[i].done)
            return IKE_ERR_STATE;   /* one of ours is already under way */
    return ikev1_quick_start(ctx, sa, now);
}

/*
 * A new ISAKMP SA beside this one; when it is up it takes the IPsec SA over
 * (take_over). One that floated starts where it is, on port 4500 (RFC 3947
 * §4 allows it once NAT-T is known), with the NAT flags kept until its own
 * NAT-D says again.
 */
int ikev1_rekey_ike(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    for (struct ike_sa *o = ctx->sas; o; o = o->next)
        if (o != sa && o->peer == sa->peer && o->state != SA_ESTABLISHED)
            return IKE_ERR_STATE;
    struct ike_sa *n = ike_sa_new(ctx, sa->peer, true);
    if (!n)
        return IKE_ERR_NOMEM;
    if (ike_addr_port(&sa->local) == IKE_NATT_PORT) {
        n->local = sa->local;
        n->remote = sa->remote;
        n->nat_local = sa->nat_local;
        n->nat_remote = sa->nat_remote;
    }
    int rc = ikev1_initiate(ctx, n, now);
    if (rc != IKE_OK)
        ike_sa_destroy(ctx, n, IKE_R_INTERNAL, false);
    return rc;
}
