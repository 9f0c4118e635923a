/*
 * The context: configuration, peers, the event queue, timers and the entry
 * point for received datagrams. Everything a context owns hangs off it; no
 * state is shared between contexts.
 */
#include "ike_int.h"

#include <stdlib.h>
#include <string.h>

struct ike_ctx *ike_ctx_new(const struct ike_ctx_config *cfg)
{
    if (!cfg || !cfg->random)
        return NULL;
    struct ike_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->cfg = *cfg;
    if (!ctx->cfg.retransmit_base_ms)
        ctx->cfg.retransmit_base_ms = 500;
    if (!ctx->cfg.retransmit_tries)
        ctx->cfg.retransmit_tries = 5;
    if (!ctx->cfg.cookie_threshold)
        ctx->cfg.cookie_threshold = 64;
    ctx->next_peer_id = 1;
    if (ike_crypto_new(&ctx->cr) != IKE_OK) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

static void qevent_release(struct qevent *q)
{
    if (q->data) {
        free(q->data);
        q->data = NULL;
    }
    ike_wipe(&q->ev, sizeof(q->ev));
}

static void peer_free(struct ike_peer *p)
{
    ike_wipe(p, sizeof(*p));
    free(p);
}

void ike_ctx_free(struct ike_ctx *ctx)
{
    if (!ctx)
        return;
    while (ctx->sas)
        ike_sa_destroy(ctx, ctx->sas, IKE_R_DELETED_LOCALLY, false);
    while (ctx->peers) {
        struct ike_peer *p = ctx->peers;
        ctx->peers = p->next;
        peer_free(p);
    }
    for (size_t i = 0; i < ctx->q_len; i++)
        qevent_release(&ctx->q[(ctx->q_head + i) % ctx->q_cap]);
    qevent_release(&ctx->cur);
    free(ctx->q);
    ike_crypto_free(ctx->cr);
    ike_wipe(ctx, sizeof(*ctx));
    free(ctx);
}

int ike_rand(struct ike_ctx *ctx, void *buf, size_t len)
{
    return ctx->cfg.random(ctx->cfg.random_arg, buf, len) == 0 ? IKE_OK : IKE_ERR_CRYPTO;
}

static bool addr_valid(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET || a->ss_family == AF_INET6;
}

/* IKEv1 phase 1 (v1_ike) is CBC only and has no integrity transform: its hash is the PRF's. */
static bool suites_valid(const struct ike_suite *s, unsigned n, bool ike, bool v1_ike)
{
    if (n == 0 || n > IKE_MAX_SUITES)
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (!ike_encr_key_len(s[i].encr, s[i].key_bits))
            return false;
        if (v1_ike && ike_encr_is_aead(s[i].encr))
            return false;
        if (!v1_ike && !ike_encr_is_aead(s[i].encr) && !ike_integ_key_len(s[i].integ))
            return false;
        if (ike && (!ike_prf_len(s[i].prf) || !ike_dh_pub_len(s[i].dh)))
            return false;
    }
    return true;
}

int ike_peer_add(struct ike_ctx *ctx, const struct ike_peer_config *pc, uint32_t *peer_id)
{
    bool v1 = pc && pc->version == 1;
    if (!ctx || !pc || !peer_id || (pc->version != 1 && pc->version != 2) || !pc->psk ||
        pc->psk_len == 0 || pc->psk_len > IKE_MAX_PSK || !addr_valid(&pc->local) ||
        !addr_valid(&pc->remote) || pc->local_id.len > IKE_MAX_ID ||
        pc->remote_id.len > IKE_MAX_ID || !suites_valid(pc->ike, pc->n_ike, true, v1) ||
        !suites_valid(pc->esp, pc->n_esp, false, false))
        return IKE_ERR_INVAL;
    struct ike_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return IKE_ERR_NOMEM;
    p->cfg = *pc;
    memcpy(p->psk, pc->psk, pc->psk_len);
    p->cfg.psk = p->psk;
    if (pc->name) {
        strncpy(p->name, pc->name, sizeof(p->name) - 1);
    }
    p->cfg.name = p->name;
    p->id = ctx->next_peer_id++;
    p->next = ctx->peers;
    ctx->peers = p;
    *peer_id = p->id;
    return IKE_OK;
}

static struct ike_peer *peer_by_id(struct ike_ctx *ctx, uint32_t id)
{
    for (struct ike_peer *p = ctx->peers; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

int ike_peer_remove(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_peer *p = ctx ? peer_by_id(ctx, peer_id) : NULL;
    if (!p)
        return IKE_ERR_NOPEER;
    struct ike_sa *sa;
    while ((sa = ike_sa_by_peer(ctx, p)) != NULL) {
        if (sa->state == SA_ESTABLISHED && sa->v1)
            ikev1_send_delete(ctx, sa, now, true, 0);
        else if (sa->state == SA_ESTABLISHED)
            ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);  /* best effort, not retransmitted */
        ike_sa_destroy(ctx, sa, IKE_R_DELETED_LOCALLY, true);
    }
    for (struct ike_peer **pp = &ctx->peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    peer_free(p);
    return IKE_OK;
}

int ike_initiate(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_peer *p = ctx ? peer_by_id(ctx, peer_id) : NULL;
    if (!p)
        return IKE_ERR_NOPEER;
    if (ike_sa_by_peer(ctx, p))
        return IKE_ERR_STATE;
    struct ike_sa *sa = ike_sa_new(ctx, p, true);
    if (!sa)
        return IKE_ERR_NOMEM;
    int rc = p->cfg.version == 1 ? ikev1_initiate(ctx, sa, now) : ikev2_init_start(ctx, sa, now);
    if (rc != IKE_OK)
        ike_sa_destroy(ctx, sa, IKE_R_INTERNAL, false);
    return rc;
}

static struct ike_sa *established(struct ike_ctx *ctx, uint32_t peer_id)
{
    struct ike_peer *p = ctx ? peer_by_id(ctx, peer_id) : NULL;
    struct ike_sa *sa = p ? ike_sa_current(ctx, p) : NULL;
    return sa && sa->req_kind == REQ_NONE ? sa : NULL;
}

int ike_delete_child(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_sa *sa = established(ctx, peer_id);
    if (!sa || !sa->child.up)
        return ctx && peer_by_id(ctx, peer_id) ? IKE_ERR_STATE : IKE_ERR_NOPEER;
    if (sa->v1)
        return ikev1_delete_child(ctx, sa, now);
    return ikev2_info_request(ctx, sa, now, REQ_DEL_CHILD);
}

int ike_delete_ike(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_sa *sa = established(ctx, peer_id);
    if (!sa)
        return ctx && peer_by_id(ctx, peer_id) ? IKE_ERR_STATE : IKE_ERR_NOPEER;
    if (sa->v1)
        return ikev1_delete_ike(ctx, sa, now);
    return ikev2_info_request(ctx, sa, now, REQ_DEL_IKE);
}

int ike_rekey_child(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_sa *sa = established(ctx, peer_id);
    if (!sa || !sa->child.up)
        return ctx && peer_by_id(ctx, peer_id) ? IKE_ERR_STATE : IKE_ERR_NOPEER;
    if (sa->v1)
        return ikev1_rekey_child(ctx, sa, now);
    return ikev2_rekey_child_start(ctx, sa, now);
}

int ike_rekey_ike(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id)
{
    struct ike_sa *sa = established(ctx, peer_id);
    if (!sa || sa->replaced)
        return ctx && peer_by_id(ctx, peer_id) ? IKE_ERR_STATE : IKE_ERR_NOPEER;
    if (sa->v1)
        return ikev1_rekey_ike(ctx, sa, now);
    return ikev2_rekey_ike_start(ctx, sa, now);
}

int ike_tick(struct ike_ctx *ctx, ike_time_t now)
{
    if (!ctx)
        return IKE_ERR_INVAL;
    struct ike_sa *sa = ctx->sas;
    while (sa) {
        struct ike_sa *next = sa->next;     /* sa may be destroyed */
        ike_sa_tick(ctx, sa, now);
        sa = next;
    }
    return IKE_OK;
}

ike_time_t ike_next_deadline(const struct ike_ctx *ctx)
{
    ike_time_t t = IKE_TIME_NEVER;
    for (const struct ike_sa *sa = ctx ? ctx->sas : NULL; sa; sa = sa->next) {
        ike_time_t d = ike_sa_deadline(ctx, sa);
        if (d < t)
            t = d;
    }
    return t;
}

const struct ike_stats *ike_get_stats(const struct ike_ctx *ctx)
{
    return &ctx->stats;
}
