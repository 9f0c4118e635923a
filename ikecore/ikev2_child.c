/*
 * The CHILD SA carried by IKE_AUTH (RFC 7296 §1.2, §2.9, §2.17): transport
 * mode (§1.3.1 USE_TRANSPORT_MODE), traffic selectors for GRE between the two
 * addresses (across a NAT too, §2.23.1), the ESP proposal and the keys handed
 * to the caller.
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <string.h>

#define GRE 47

/* Our selector for one side: that address, protocol 47, every port (GRE has none). */
static void ts_for(const struct sockaddr_storage *a, struct ikev2_ts *ts)
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

/*
 * §2.23.1, transport mode across a NAT: the selector of a side behind the
 * NAT holds an address only that side knows (its private one, or a public
 * one it was never told), so for that side (any_addr) the type, protocol and
 * ports are checked, not the address, and a responder answers with the
 * initiator's own selector for it. The kernel's policies and SAs use the
 * IKE SA's addresses (ike_child_addrs), never these.
 */
static bool ts_contains(const struct ikev2_ts *big, const struct ikev2_ts *small, bool any_addr)
{
    size_t n = small->type == IKEV2_TS_IPV4 ? 4 : 16;
    return big->type == small->type && (big->proto == 0 || big->proto == small->proto) &&
           big->sport <= small->sport && big->eport >= small->eport &&
           (any_addr || (memcmp(big->saddr, small->saddr, n) <= 0 &&
                         memcmp(big->eaddr, small->eaddr, n) >= 0));
}

/* §2.9: the offer must contain ours; we narrow it to exactly ours. NULL: none does. */
static const struct ikev2_ts *ts_acceptable(const struct ikev2_ts_pld *offer,
                                            const struct ikev2_ts *ours, bool any_addr)
{
    for (unsigned i = 0; i < offer->n; i++)
        if (ts_contains(&offer->ts[i], ours, any_addr))
            return &offer->ts[i];
    return NULL;
}

/* The responder's narrowed answer must be exactly what we asked for. */
static bool ts_exact(const struct ikev2_ts_pld *answer, const struct ikev2_ts *ours,
                     bool any_addr)
{
    return answer->n == 1 && ts_contains(&answer->ts[0], ours, any_addr) &&
           ts_contains(ours, &answer->ts[0], any_addr);
}

/* The responder's selector for a side behind a NAT: the initiator's own, narrowed to GRE. */
static void ts_echo(const struct ikev2_ts_pld *offer, bool nat, struct ikev2_ts *ts)
{
    const struct ikev2_ts *o = nat ? ts_acceptable(offer, ts, true) : NULL;
    if (!o)
        return;
    uint8_t proto = ts->proto;
    *ts = *o;
    ts->proto = proto;
    ts->sport = 0;
    ts->eport = 0xffff;
}

/*
 * TSi and TSr of a CHILD SA exchange: as its initiator (req NULL), our
 * address and the peer's; as the responder to req, the narrowed answer.
 */
void ikev2_ts_ours(const struct ike_sa *sa, const struct ikev2_msg *req, struct ikev2_ts *ts_i,
                   struct ikev2_ts *ts_r)
{
    ts_for(req ? &sa->remote : &sa->local, ts_i);
    ts_for(req ? &sa->local : &sa->remote, ts_r);
    if (!req)
        return;
    ts_echo(&req->tsi, sa->nat_remote, ts_i);
    ts_echo(&req->tsr, sa->nat_local, ts_r);
}

/* Responder: the request's selectors cover GRE between the IKE SA's two ends. */
bool ikev2_ts_offer_ok(const struct ike_sa *sa, const struct ikev2_msg *m)
{
    struct ikev2_ts ti, tr;
    ts_for(&sa->remote, &ti);
    ts_for(&sa->local, &tr);
    return ts_acceptable(&m->tsi, &ti, sa->nat_remote) &&
           ts_acceptable(&m->tsr, &tr, sa->nat_local);
}

/* Initiator: the answer narrowed to exactly what we asked for. */
bool ikev2_ts_answer_ok(const struct ike_sa *sa, const struct ikev2_msg *m)
{
    struct ikev2_ts ti, tr;
    ts_for(&sa->local, &ti);
    ts_for(&sa->remote, &tr);
    return ts_exact(&m->tsi, &ti, sa->nat_local) && ts_exact(&m->tsr, &tr, sa->nat_remote);
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

/* Not negotiated in IKEv2 (§2.8): ours, each soft one jittered apart from the peer's. */
static void lifetimes(struct ike_ctx *ctx, const struct ike_peer_config *pc,
                      struct ike_child_sa *c)
{
    c->lifetime_hard_s = pc->child_lifetime_s ? pc->child_lifetime_s : 3600;
    c->lifetime_soft_s = (uint32_t)ike_soft_life(ctx, c->lifetime_hard_s);
    c->lifetime_hard_kb = pc->child_lifetime_kb;
    c->lifetime_soft_kb = ike_soft_life(ctx, pc->child_lifetime_kb);
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
    ike_child_addrs(sa, c);
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
    if (!ikev2_ts_offer_ok(sa, m)) {
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
    if (!ikev2_ts_answer_ok(sa, m)) {
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
