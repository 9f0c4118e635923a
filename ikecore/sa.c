/*
 * The IKE SA table, message IDs, the outstanding request with its
 * retransmissions (RFC 7296 §2.1, §2.4) and the response cache (§2.1:
 * a retransmitted request gets the same response, not a new one).
 */
#include "ike_int.h"

#include <stdlib.h>
#include <string.h>

struct ike_sa *ike_sa_new(struct ike_ctx *ctx, struct ike_peer *p, bool initiator)
{
    struct ike_sa *sa = calloc(1, sizeof(*sa));
    if (!sa)
        return NULL;
    sa->peer = p;
    sa->initiator = initiator;
    sa->local = p->cfg.local;
    sa->remote = p->cfg.remote;
    sa->next = ctx->sas;
    ctx->sas = sa;
    return sa;
}

static void free_secret(uint8_t **p, size_t *n)
{
    if (*p) {
        ike_wipe(*p, *n);
        free(*p);
    }
    *p = NULL;
    *n = 0;
}

static void emit_ike(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_event_type t,
                     enum ike_reason why)
{
    struct ike_event ev = {.type = t, .peer_id = sa->peer->id, .peer_name = sa->peer->name};
    ev.u.ike.spi_i = sa->spi_i;
    ev.u.ike.spi_r = sa->spi_r;
    ev.u.ike.version = sa->v1 ? 1 : 2;
    ev.u.ike.initiator = sa->initiator;
    ev.u.ike.suite = sa->suite;
    ev.u.ike.nat_local = sa->nat_local;
    ev.u.ike.nat_remote = sa->nat_remote;
    ev.u.ike.reason = why;
    ike_emit(ctx, &ev, NULL, 0);
}

/* CHILD_DOWN for c, which is then forgotten. */
void ike_child_report_down(struct ike_ctx *ctx, struct ike_sa *sa, struct ike_child *c,
                           enum ike_reason why)
{
    if (!c->up)
        return;
    struct ike_event ev = {.type = IKE_EV_CHILD_DOWN, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.child.sa.spi_in = c->spi_in;
    ev.u.child.sa.spi_out = c->spi_out;
    ev.u.child.sa.suite = c->suite;
    ike_child_addrs(sa, &ev.u.child.sa);
    ev.u.child.sa.ip_proto = 47;
    ev.u.child.sa.transport = true;
    ev.u.child.sa.reqid = sa->peer->cfg.reqid;
    ev.u.child.reason = why;
    ike_emit(ctx, &ev, NULL, 0);
    memset(c, 0, sizeof(*c));
}

/* CHILD_SWITCH for a rekey's old SA c, deleted on both sides; then forgotten. */
void ike_child_switch(struct ike_ctx *ctx, struct ike_sa *sa, struct ike_child *c)
{
    if (!c->up)
        return;
    struct ike_event ev = {.type = IKE_EV_CHILD_SWITCH, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.child.sa.spi_in = c->spi_in;
    ev.u.child.sa.spi_out = c->spi_out;
    ev.u.child.sa.reqid = sa->peer->cfg.reqid;
    ike_emit(ctx, &ev, NULL, 0);
    memset(c, 0, sizeof(*c));
}

void ike_child_down(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason why)
{
    if (!sa->child.up)
        return;
    ike_child_report_down(ctx, sa, &sa->child, why);
    sa->child_soft_at = sa->child_hard_at = 0;
}

/* A CHILD SA exchange of ours is out: §2.25.1 refuses the peer's IKE SA rekey meanwhile. */
bool ike_sa_child_busy(const struct ike_sa *sa)
{
    return sa->req_kind == REQ_REKEY_CHILD || sa->req_kind == REQ_DEL_CHILD ||
           sa->req_kind == REQ_DEL_OLD_CHILD || sa->req_kind == REQ_DEL_DUP_CHILD;
}

/* event: report CHILD_DOWN / IKE_DOWN (not when the context is being freed). */
void ike_sa_destroy(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason why, bool event)
{
    if (event) {
        ike_child_report_down(ctx, sa, &sa->dup_child, IKE_R_REPLACED);
        ike_child_down(ctx, sa, why);
        emit_ike(ctx, sa, IKE_EV_IKE_DOWN, why);
    }
    for (struct ike_sa **pp = &ctx->sas; *pp; pp = &(*pp)->next) {
        if (*pp == sa) {
            *pp = sa->next;
            break;
        }
    }
    ikev1_sa_free(sa);
    ike_dh_free(sa->dh);
    ike_dh_free(sa->rk_dh);
    free_secret(&sa->msg1, &sa->msg1_len);
    free_secret(&sa->msg2, &sa->msg2_len);
    free_secret(&sa->req, &sa->req_len);
    free_secret(&sa->resp, &sa->resp_len);
    ike_wipe(sa, sizeof(*sa));
    free(sa);
}

/*
 * By SPIs and role: a message with the Initiator flag comes from the
 * original initiator, so it is for an SA where we are the responder. The
 * IKE_SA_INIT response is the only one that may name an SPIr we do not know yet.
 */
struct ike_sa *ike_sa_find(struct ike_ctx *ctx, const struct ikev2_hdr *h)
{
    bool want_initiator = !(h->flags & IKEV2_FLAG_INITIATOR);
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next) {
        if (sa->v1 || sa->initiator != want_initiator || sa->spi_i != h->spi_i)
            continue;
        if (sa->spi_r == h->spi_r)
            return sa;
        if (sa->state == SA_INIT_SENT && h->exchange == IKEV2_IKE_SA_INIT)
            return sa;
    }
    return NULL;
}

struct ike_sa *ike_sa_by_peer(struct ike_ctx *ctx, const struct ike_peer *p)
{
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next)
        if (sa->peer == p)
            return sa;
    return NULL;
}

/* The SA commands act on: established and not on its way out. */
struct ike_sa *ike_sa_current(struct ike_ctx *ctx, const struct ike_peer *p)
{
    for (struct ike_sa *sa = ctx->sas; sa; sa = sa->next)
        if (sa->peer == p && sa->state == SA_ESTABLISHED && !sa->replaced)
            return sa;
    return NULL;
}

unsigned ike_sa_half_open(const struct ike_ctx *ctx)
{
    unsigned n = 0;
    for (const struct ike_sa *sa = ctx->sas; sa; sa = sa->next)
        n += !sa->initiator && sa->state == SA_INIT_DONE;
    return n;
}

int ike_send_raw(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                 const struct sockaddr_storage *dst, const uint8_t *d, size_t n, struct ike_peer *p)
{
    struct ike_event ev = {.type = IKE_EV_SEND};
    ev.peer_id = p ? p->id : 0;
    ev.peer_name = p ? p->name : NULL;
    ev.u.send.src = *src;
    ev.u.send.dst = *dst;
    ctx->stats.tx_packets++;
    return ike_emit(ctx, &ev, d, n);
}

static int dup_into(uint8_t **dst, size_t *dlen, const uint8_t *d, size_t n)
{
    free_secret(dst, dlen);
    *dst = malloc(n);
    if (!*dst)
        return IKE_ERR_NOMEM;
    memcpy(*dst, d, n);
    *dlen = n;
    return IKE_OK;
}

int ike_sa_send_request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        enum ike_req_kind kind, const uint8_t *d, size_t n)
{
    int rc = dup_into(&sa->req, &sa->req_len, d, n);
    if (rc)
        return rc;
    sa->req_kind = kind;
    sa->req_tries = 0;
    sa->req_deadline = now + ctx->cfg.retransmit_base_ms;
    return ike_send_raw(ctx, &sa->local, &sa->remote, d, n, sa->peer);
}

int ike_sa_send_response(struct ike_ctx *ctx, struct ike_sa *sa, uint32_t msgid,
                         const uint8_t *d, size_t n)
{
    int rc = dup_into(&sa->resp, &sa->resp_len, d, n);
    if (rc)
        return rc;
    sa->resp_msgid = msgid;
    sa->have_resp = true;
    return ike_send_raw(ctx, &sa->local, &sa->remote, d, n, sa->peer);
}

void ike_sa_request_done(struct ike_sa *sa)
{
    free_secret(&sa->req, &sa->req_len);
    sa->req_kind = REQ_NONE;
    sa->req_deadline = 0;
    sa->msgid_next++;
}

static void request_timeout(struct ike_ctx *ctx, struct ike_sa *sa)
{
    bool dpd = sa->req_kind == REQ_DPD;
    enum ike_reason why = dpd ? IKE_R_DEAD_PEER : IKE_R_TIMEOUT;
    if (sa->req_kind == REQ_DEL_IKE) {
        ike_sa_destroy(ctx, sa, sa->replaced ? IKE_R_REPLACED : IKE_R_DELETED_LOCALLY, true);
        return;
    }
    /*
     * Our own attempt unanswered while the peer's came through (a peer
     * behind a NAT is reachable only once it has spoken): nothing failed.
     */
    if (sa->state != SA_ESTABLISHED && !sa->v1 && ike_sa_current(ctx, sa->peer)) {
        ike_sa_destroy(ctx, sa, IKE_R_REPLACED, false);
        return;
    }
    ike_emit_error(ctx, sa->peer, why, dpd ? "no answer to the liveness check"
                                           : "no response after retransmissions");
    ike_sa_destroy(ctx, sa, why, true);
}

/*
 * CHILD SA lifetimes: rekey at the soft one, remove at the hard one. Only the
 * original initiator rekeys on its own, which makes collisions rare; they
 * are handled when they happen (a command, a retry; §2.8.1).
 */
static void child_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (sa->child.up && sa->child_hard_at && now >= sa->child_hard_at) {
        ike_child_down(ctx, sa, IKE_R_EXPIRED);
        return;
    }
    if (sa->child.up && sa->initiator && sa->child_soft_at && now >= sa->child_soft_at &&
        sa->req_kind == REQ_NONE) {
        sa->child_soft_at = 0;
        ikev2_rekey_child_start(ctx, sa, now);
    }
}

/* Retransmit the outstanding request; false when sa was destroyed. */
static bool retransmit(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (sa->req_kind == REQ_NONE || now < sa->req_deadline)
        return true;
    bool dpd = sa->req_kind == REQ_DPD;
    if (sa->req_tries >= ctx->cfg.retransmit_tries || (dpd && now >= sa->dpd_give_up)) {
        request_timeout(ctx, sa);
        return false;
    }
    sa->req_tries++;
    ctx->stats.retransmits++;
    sa->req_deadline = now + ((ike_time_t)ctx->cfg.retransmit_base_ms << sa->req_tries);
    if (dpd && sa->req_deadline > sa->dpd_give_up)
        sa->req_deadline = sa->dpd_give_up;
    ike_send_raw(ctx, &sa->local, &sa->remote, sa->req, sa->req_len, sa->peer);
    return true;
}

/* The IKE SA's hard lifetime: its rekey kept failing (DELETE is best effort). */
static bool ike_expired(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (!sa->ike_hard_at || now < sa->ike_hard_at || sa->replaced)
        return false;
    ike_emit_error(ctx, sa->peer, IKE_R_EXPIRED, "the IKE SA reached its lifetime unrekeyed");
    if (sa->req_kind == REQ_NONE)
        ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);
    ike_sa_destroy(ctx, sa, IKE_R_EXPIRED, true);
    return true;
}

static void liveness(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    if (!sa->dpd_at || now < sa->dpd_at || sa->req_kind != REQ_NONE)
        return;
    if (now - sa->last_rx >= (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000) {
        ikev2_info_request(ctx, sa, now, REQ_DPD);
        sa->dpd_give_up = ike_dpd_give_up(sa, now);
    }
    sa->dpd_at = sa->last_rx + (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000;
    if (sa->dpd_at <= now)
        sa->dpd_at = now + (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000;
}

void ike_sa_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    ike_sa_keepalive(ctx, sa, now);
    if (sa->v1) {
        ikev1_sa_tick(ctx, sa, now);
        return;
    }
    if (sa->expire_at && now >= sa->expire_at && sa->state != SA_ESTABLISHED) {
        /* half-open; ours is no failure when the peer's came through (request_timeout) */
        ike_sa_destroy(ctx, sa, IKE_R_TIMEOUT, sa->initiator && !ike_sa_current(ctx, sa->peer));
        return;
    }
    if (sa->del_pending && sa->req_kind == REQ_NONE) {
        sa->del_pending = false;
        ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);
    }
    if (sa->replaced && sa->expire_at && now >= sa->expire_at && sa->req_kind == REQ_NONE) {
        ike_sa_destroy(ctx, sa, IKE_R_REPLACED, true);          /* never deleted by the peer */
        return;
    }
    if (!retransmit(ctx, sa, now) || sa->state != SA_ESTABLISHED || sa->replaced)
        return;
    if (ike_expired(ctx, sa, now))
        return;
    child_tick(ctx, sa, now);
    ikev2_retry_tick(ctx, sa, now);
    if (sa->initiator && sa->ike_rekey_at && now >= sa->ike_rekey_at &&
        sa->req_kind == REQ_NONE) {
        sa->ike_rekey_at = 0;
        ikev2_rekey_ike_start(ctx, sa, now);
        return;
    }
    liveness(ctx, sa, now);
}

static ike_time_t tmin(ike_time_t a, ike_time_t b)
{
    return b && b < a ? b : a;
}

static ike_time_t v2_deadline(const struct ike_sa *sa)
{
    ike_time_t t = IKE_TIME_NEVER;
    if (sa->del_pending && sa->req_kind == REQ_NONE)
        return 0;   /* due now */
    if (sa->req_kind != REQ_NONE)
        t = tmin(t, sa->req_deadline);
    if (sa->replaced && sa->req_kind != REQ_NONE)
        return t;   /* its request's retransmissions end it; expire_at waits for them */
    if (sa->state != SA_ESTABLISHED || sa->replaced)
        return tmin(t, sa->expire_at);
    t = tmin(t, sa->ike_hard_at);
    if (sa->child.up) {
        t = tmin(t, sa->child_hard_at);
        if (sa->initiator && sa->req_kind == REQ_NONE)
            t = tmin(t, sa->child_soft_at);
    }
    if (sa->req_kind == REQ_NONE) {
        t = tmin(t, sa->dpd_at);
        t = tmin(t, sa->retry_at);
        if (sa->initiator)
            t = tmin(t, sa->ike_rekey_at);
    }
    return t;
}

ike_time_t ike_sa_deadline(const struct ike_ctx *ctx, const struct ike_sa *sa)
{
    ike_time_t t = sa->v1 ? ikev1_sa_deadline(sa) : v2_deadline(sa);
    return tmin(t, ike_sa_keepalive_deadline(sa));
}
