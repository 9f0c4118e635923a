/*
 * The CHILD SA carried by IKE_AUTH (RFC 7296 §1.2, §2.9, §2.17): transport
 * mode (§1.3.1 USE_TRANSPORT_MODE), traffic selectors for GRE between the two
 * addresses, the ESP proposal and the keys handed to the caller.
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <string.h>

#define GRE 47

/* Our selector for one side: that address, protocol 47, every port (GRE has none). */
void ikev2_ts_for(const struct sockaddr_storage *a, struct ikev2_ts *ts)
{
    memset(ts, 0, sizeof(*ts));
    ts->proto = GRE;
    ts->sport = 0;
    ts->eport = 0xffff;
    if (a->ss_family == AF_INET) {
        ts->type = IKEV2_TS_IPV4;
        memcpy(ts->saddr, &((const struct sockaddr_in *)a)->sin_addr, 4);
    } else {
        ts->type = IKEV2_TS_IPV6;
        memcpy(ts->saddr, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
    }
    memcpy(ts->eaddr, ts->saddr, 16);
}

static bool ts_contains(const struct ikev2_ts *big, const struct ikev2_ts *small)
{
    size_t n = small->type == IKEV2_TS_IPV4 ? 4 : 16;
    return big->type == small->type && (big->proto == 0 || big->proto == small->proto) &&
           big->sport <= small->sport && big->eport >= small->eport &&
           memcmp(big->saddr, small->saddr, n) <= 0 && memcmp(big->eaddr, small->eaddr, n) >= 0;
}

/* §2.9: the offer must contain ours; we narrow it to exactly ours. */
bool ikev2_ts_acceptable(const struct ikev2_ts_pld *offer, const struct ikev2_ts *ours)
{
    for (unsigned i = 0; i < offer->n; i++)
        if (ts_contains(&offer->ts[i], ours))
            return true;
    return false;
}

/* The responder's narrowed answer must be exactly what we asked for. */
bool ikev2_ts_exact(const struct ikev2_ts_pld *answer, const struct ikev2_ts *ours)
{
    return answer->n == 1 && ts_contains(&answer->ts[0], ours) && ts_contains(ours, &answer->ts[0]);
}

int ikev2_new_child_spi(struct ike_ctx *ctx, uint32_t *spi)
{
    uint8_t b[4];
    *spi = 0;
    while (*spi < 256) {    /* 1-255 are reserved by IANA (RFC 4303 §2.1) */
        if (ike_rand(ctx, b, 4) != IKE_OK)
            return IKE_ERR_CRYPTO;
        *spi = wire_get32(b);
    }
    return IKE_OK;
}

static void lifetimes(struct ike_ctx *ctx, const struct ike_peer_config *pc,
                      struct ike_child_sa *c)
{
    uint32_t hard = pc->child_lifetime_s ? pc->child_lifetime_s : 3600;
    uint8_t r[4] = {0};
    ike_rand(ctx, r, sizeof(r));    /* jitter only; zero on failure is harmless */
    uint32_t margin = hard / 10 + wire_get32(r) % (hard / 20 + 1);
    c->lifetime_hard_s = hard;
    c->lifetime_soft_s = hard > margin ? hard - margin : hard;
    c->lifetime_hard_kb = pc->child_lifetime_kb;
    c->lifetime_soft_kb = pc->child_lifetime_kb - pc->child_lifetime_kb / 10;
}

/* KEYMAT (§2.17) and CHILD_UP / CHILD_REKEYED; the keys live only in the event. */
int ikev2_child_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                   const struct ikev2_kmat *k)
{
    struct ike_event ev = {.type = k->type, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    struct ike_child_sa *c = &ev.u.child.sa;
    struct ike_child *ch = k->c ? k->c : &sa->child;
    c->spi_in = ch->spi_in;
    c->spi_out = ch->spi_out;
    c->suite = ch->suite;
    int rc = ikev2_derive_child_keys(ctx->cr, sa->suite.prf, sa->keys.sk_d, sa->keys.prf_len,
                                     k->g_ir, k->g_len, k->ni, k->ni_len, k->nr, k->nr_len,
                                     k->initiator, c);
    if (rc != IKE_OK) {
        ike_wipe(&ev, sizeof(ev));
        return IKE_ERR_CRYPTO;
    }
    c->ip_proto = GRE;
    c->transport = true;
    c->local = sa->local;
    c->remote = sa->remote;
    c->reqid = sa->peer->cfg.reqid;
    ev.u.child.old_spi_in = k->old_in;
    ev.u.child.old_spi_out = k->old_out;
    lifetimes(ctx, &sa->peer->cfg, c);
    ch->up = true;
    if (ch == &sa->child) {     /* a redundant SA (§2.8.1) keeps only the kernel's lifetimes */
        sa->child_soft_at = now + (ike_time_t)c->lifetime_soft_s * 1000;
        sa->child_hard_at = now + (ike_time_t)c->lifetime_hard_s * 1000;
    }
    rc = ike_emit(ctx, &ev, NULL, 0);
    ike_wipe(&ev, sizeof(ev));
    return rc;
}

/* The CHILD SA of IKE_AUTH: the IKE SA's nonces, no PFS. */
int ikev2_child_up_first(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev2_kmat k = {.ni = sa->ni, .ni_len = sa->ni_len, .nr = sa->nr,
                           .nr_len = sa->nr_len, .initiator = sa->initiator,
                           .type = IKE_EV_CHILD_UP};
    return ikev2_child_up(ctx, sa, now, &k);
}

/* Transport mode, an ESP proposal of ours, selectors covering ours: 0 or the error notify. */
uint16_t ikev2_child_esp(struct ike_sa *sa, const struct ikev2_msg *m, bool with_dh,
                         struct ike_child *c, const char **why)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_ts ti, tr;
    if (!ikev2_has(m, IKEV2_PLD_SA) || !ikev2_has(m, IKEV2_PLD_TSI) ||
        !ikev2_has(m, IKEV2_PLD_TSR)) {
        *why = "the peer's request has no CHILD SA";
        return IKEV2_N_INVALID_SYNTAX;
    }
    if (!ikev2_find_notify(m, IKEV2_N_USE_TRANSPORT_MODE)) {
        *why = "the peer asks for tunnel mode; we do transport only";
        return IKEV2_N_NO_PROPOSAL_CHOSEN;
    }
    int i = ike_prop_select(&m->sa, pc->esp, pc->n_esp, IKEV2_PROTO_ESP, with_dh, &c->suite);
    if (i < 0) {
        *why = "none of the peer's ESP proposals is ours";
        return IKEV2_N_NO_PROPOSAL_CHOSEN;
    }
    ikev2_ts_for(&sa->remote, &ti);
    ikev2_ts_for(&sa->local, &tr);
    if (!ikev2_ts_acceptable(&m->tsi, &ti) || !ikev2_ts_acceptable(&m->tsr, &tr)) {
        *why = "the peer's traffic selectors do not cover GRE between our addresses";
        return IKEV2_N_TS_UNACCEPTABLE;
    }
    c->spi_out = wire_get32(m->sa.p[i].spi);
    sa->child_prop_num = m->sa.p[i].num;
    return 0;
}

/* Responder of IKE_AUTH. */
uint16_t ikev2_child_accept(struct ike_sa *sa, const struct ikev2_msg *m, const char **why)
{
    return ikev2_child_esp(sa, m, false, &sa->child, why);
}

/* Initiator: the responder's answer must be one of our proposals, transport, our selectors. */
uint16_t ikev2_child_check(struct ike_sa *sa, const struct ikev2_msg *m, const char **why)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_ts ti, tr;
    for (unsigned k = 0; k < m->n_notify; k++) {
        uint16_t t = m->notify[k].type;
        if (t == IKEV2_N_NO_PROPOSAL_CHOSEN || t == IKEV2_N_TS_UNACCEPTABLE ||
            t == IKEV2_N_INVALID_SYNTAX || t == IKEV2_N_SINGLE_PAIR_REQUIRED ||
            t == IKEV2_N_NO_ADDITIONAL_SAS || t == IKEV2_N_TEMPORARY_FAILURE) {
            *why = "the peer refused the CHILD SA";
            return t;
        }
    }
    if (!ikev2_has(m, IKEV2_PLD_SA) || !ikev2_has(m, IKEV2_PLD_TSI) ||
        !ikev2_has(m, IKEV2_PLD_TSR)) {
        *why = "the peer's IKE_AUTH response has no CHILD SA";
        return IKEV2_N_INVALID_SYNTAX;
    }
    if (!ikev2_find_notify(m, IKEV2_N_USE_TRANSPORT_MODE)) {
        *why = "the peer wants tunnel mode; we do transport only";
        return IKEV2_N_NO_PROPOSAL_CHOSEN;
    }
    if (m->sa.n != 1 || ike_prop_select(&m->sa, pc->esp, pc->n_esp, IKEV2_PROTO_ESP, false,
                                        &sa->child.suite) != 0) {
        *why = "the peer chose an ESP proposal we did not offer";
        return IKEV2_N_NO_PROPOSAL_CHOSEN;
    }
    ikev2_ts_for(&sa->local, &ti);
    ikev2_ts_for(&sa->remote, &tr);
    if (!ikev2_ts_exact(&m->tsi, &ti) || !ikev2_ts_exact(&m->tsr, &tr)) {
        *why = "the peer narrowed the traffic selectors to something else";
        return IKEV2_N_TS_UNACCEPTABLE;
    }
    sa->child.spi_out = wire_get32(m->sa.p[0].spi);
    return 0;
}

enum ike_reason ikev2_notify_reason(uint16_t t)
{
    switch (t) {
    case IKEV2_N_NO_PROPOSAL_CHOSEN: return IKE_R_NO_PROPOSAL_CHOSEN;
    case IKEV2_N_TS_UNACCEPTABLE: return IKE_R_TS_UNACCEPTABLE;
    case IKEV2_N_INVALID_SYNTAX: return IKE_R_INVALID_SYNTAX;
    case IKEV2_N_AUTHENTICATION_FAILED: return IKE_R_AUTHENTICATION_FAILED;
    case IKEV2_N_INVALID_KE_PAYLOAD: return IKE_R_INVALID_KE_PAYLOAD;
    default: return IKE_R_INTERNAL;
    }
}
