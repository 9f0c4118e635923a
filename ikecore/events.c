/*
 * The event queue. Events are copied in; SEND data is owned by the queue
 * until handed out, then by ctx->cur until the next ike_next_event call,
 * when it is freed and any keys in the event are wiped.
 */
#include "ike_int.h"

#include <stdlib.h>
#include <string.h>

static int q_grow(struct ike_ctx *ctx)
{
    size_t cap = ctx->q_cap ? ctx->q_cap * 2 : 16;
    struct qevent *q = calloc(cap, sizeof(*q));
    if (!q)
        return IKE_ERR_NOMEM;
    for (size_t i = 0; i < ctx->q_len; i++)
        q[i] = ctx->q[(ctx->q_head + i) % ctx->q_cap];
    if (ctx->q) {
        ike_wipe(ctx->q, ctx->q_cap * sizeof(*ctx->q));
        free(ctx->q);
    }
    ctx->q = q;
    ctx->q_cap = cap;
    ctx->q_head = 0;
    return IKE_OK;
}

int ike_emit(struct ike_ctx *ctx, const struct ike_event *ev, const uint8_t *data, size_t len)
{
    if (ctx->q_len == ctx->q_cap && q_grow(ctx) != IKE_OK)
        return IKE_ERR_NOMEM;
    struct qevent *q = &ctx->q[(ctx->q_head + ctx->q_len) % ctx->q_cap];
    q->ev = *ev;
    q->data = NULL;
    memset(q->name, 0, sizeof(q->name));
    if (ev->peer_name)
        strncpy(q->name, ev->peer_name, sizeof(q->name) - 1);
    if (data) {
        q->data = malloc(len ? len : 1);
        if (!q->data)
            return IKE_ERR_NOMEM;
        memcpy(q->data, data, len);
        q->ev.u.send.data = q->data;
        q->ev.u.send.len = len;
    }
    ctx->q_len++;
    return IKE_OK;
}

void ike_emit_error(struct ike_ctx *ctx, struct ike_peer *p, enum ike_reason r, const char *detail)
{
    struct ike_event ev = {.type = IKE_EV_ERROR};
    ev.peer_id = p ? p->id : 0;
    ev.peer_name = p ? p->name : NULL;
    ev.u.error.reason = r;
    ev.u.error.detail = detail;     /* string literals only */
    ike_emit(ctx, &ev, NULL, 0);
}

/* Only CHILD_UP and CHILD_REKEYED carry keys; the other events hold nothing secret. */
static void forget(struct ike_event *ev)
{
    if (ev->type == IKE_EV_CHILD_UP || ev->type == IKE_EV_CHILD_REKEYED)
        ike_wipe(ev, sizeof(*ev));
    else
        ev->type = IKE_EV_NONE;
}

int ike_next_event(struct ike_ctx *ctx, struct ike_event *ev)
{
    if (!ctx || !ev)
        return 0;
    if (ctx->cur.data) {
        free(ctx->cur.data);
        ctx->cur.data = NULL;
    }
    forget(&ctx->cur.ev);
    if (ctx->q_len == 0)
        return 0;
    struct qevent *q = &ctx->q[ctx->q_head];
    ctx->cur = *q;
    forget(&q->ev);
    q->data = NULL;
    ctx->q_head = (ctx->q_head + 1) % ctx->q_cap;
    ctx->q_len--;
    *ev = ctx->cur.ev;
    if (ev->peer_name)      /* the peer may be gone by now: our own copy */
        ev->peer_name = ctx->cur.name;
    return 1;
}

const char *ike_reason_str(enum ike_reason r)
{
    static const char *const names[] = {
        [IKE_R_NONE] = "none",
        [IKE_R_NO_PROPOSAL_CHOSEN] = "NO_PROPOSAL_CHOSEN",
        [IKE_R_AUTHENTICATION_FAILED] = "AUTHENTICATION_FAILED",
        [IKE_R_TS_UNACCEPTABLE] = "TS_UNACCEPTABLE",
        [IKE_R_INVALID_KE_PAYLOAD] = "INVALID_KE_PAYLOAD",
        [IKE_R_INVALID_SYNTAX] = "INVALID_SYNTAX",
        [IKE_R_INVALID_ID] = "INVALID_ID",
        [IKE_R_TIMEOUT] = "timeout",
        [IKE_R_DEAD_PEER] = "dead peer",
        [IKE_R_DELETED_BY_PEER] = "deleted by peer",
        [IKE_R_DELETED_LOCALLY] = "deleted locally",
        [IKE_R_EXPIRED] = "expired",
        [IKE_R_REPLACED] = "replaced",
        [IKE_R_INTERNAL] = "internal error",
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

const char *ike_event_str(enum ike_event_type t)
{
    static const char *const names[] = {
        [IKE_EV_NONE] = "none",         [IKE_EV_SEND] = "send",
        [IKE_EV_IKE_UP] = "ike-up",     [IKE_EV_IKE_DOWN] = "ike-down",
        [IKE_EV_CHILD_UP] = "child-up", [IKE_EV_CHILD_REKEYED] = "child-rekeyed",
        [IKE_EV_CHILD_DOWN] = "child-down", [IKE_EV_ERROR] = "error",
        [IKE_EV_PEER_MOVED] = "peer-moved", [IKE_EV_CHILD_SWITCH] = "child-switch",
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "unknown";
}
