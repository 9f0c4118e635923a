/*
 * Quick Mode (RFC 2409 §5.5): one ESP SA pair in transport mode for GRE
 * between the two WAN addresses, under the ISAKMP SA:
 *   I -> R  HDR*, HASH(1), SA, Ni [, KE] , IDci, IDcr
 *   R -> I  HDR*, HASH(2), SA, Nr [, KE] , IDci, IDcr [, N(RESPONDER-LIFETIME)]
 *   I -> R  HDR*, HASH(3)
 * The initiator installs after message 2, the responder after message 3;
 * a Quick Mode while an IPsec SA is up replaces it (CHILD_REKEYED; one of
 * each side's at once: ikev1_collision.c). Behind
 * a NAT (RFC 3947 §5): UDP-Encapsulated-Transport, and NAT-OAi, NAT-OAr
 * after the IDs of messages 1 and 2.
 */
#include "ikev1_int.h"

#include <string.h>

#define ESP 3

/* A free slot, else one whose Quick Mode is over (it only lingers for duplicates). */
static struct v1_qm *qm_slot(struct ike_sa *sa)
{
    struct v1_qm *done = NULL;
    for (int i = 0; i < V1_MAX_QM; i++) {
        struct v1_qm *q = &sa->v1->qm[i];
        if (!q->used)
            return q;
        if (q->done && (!done || q->expire_at < done->expire_at))
            done = q;
    }
    if (done)
        ikev1_qm_free(done);
    return done;
}

static struct v1_qm *qm_find(struct ike_sa *sa, uint32_t msgid)
{
    for (int i = 0; i < V1_MAX_QM; i++)
        if (sa->v1->qm[i].used && sa->v1->qm[i].msgid == msgid)
            return &sa->v1->qm[i];
    return NULL;
}

static int new_msgid(struct ike_ctx *ctx, struct ike_sa *sa, uint32_t *id)
{
    uint8_t b[4];
    uint32_t v;
    do {
        if (ike_rand(ctx, b, sizeof(b)) != IKE_OK)
            return IKE_ERR_CRYPTO;
        v = wire_get32(b);
    } while (v == 0 || qm_find(sa, v));
    *id = v;
    return IKE_OK;
}

/* RFC 2407 §4.6.3.1: life type / duration pairs in a RESPONDER-LIFETIME notify. */
void ikev1_responder_lifetime(const struct ikev1_msg *m, uint8_t proto, uint32_t *life_s,
                              uint64_t *life_kb)
{
    const struct ikev1_notify *n = ikev1_find_notify(m, IKEV1_N_RESPONDER_LIFETIME);
    struct ikev1_xf xf = {0};
    struct wire_rd r;
    if (!n || n->proto != proto)
        return;
    wire_rd_init(&r, n->data, n->len);
    while (wire_rd_left(&r) >= 4 && xf.n_attr < IKEV1_MAX_ATTR) {
        uint16_t t = wire_u16(&r), v = wire_u16(&r);
        uint32_t val = v;
        if (!(t & 0x8000)) {
            if (v != 4 && v != 2)
                return;
            val = v == 4 ? wire_u32(&r) : wire_u16(&r);
        }
        xf.a[xf.n_attr++] = (struct ikev1_attr){t & 0x7fff, val};
    }
    uint16_t type = 0;
    for (unsigned i = 0; !r.err && i < xf.n_attr; i++) {
        if (xf.a[i].type == 1 || xf.a[i].type == IKEV1_A_LIFE_TYPE)
            type = (uint16_t)xf.a[i].val;
        else if (xf.a[i].type == 2 || xf.a[i].type == IKEV1_A_LIFE_DURATION) {
            if (type == IKEV1_LIFE_SECONDS && xf.a[i].val && (!*life_s || xf.a[i].val < *life_s))
                *life_s = xf.a[i].val;
            if (type == IKEV1_LIFE_KILOBYTES && life_kb && xf.a[i].val &&
                (!*life_kb || xf.a[i].val < *life_kb))
                *life_kb = xf.a[i].val;
        }
    }
}

/* IDci, IDcr: the Quick Mode's initiator's address first (its role, not phase 1's). */
static void put_qm_ids(struct ikev1_enc *e, const struct ike_sa *sa, const struct v1_qm *q)
{
    ikev1_put_addr_id(e, q->initiator ? &sa->local : &sa->remote);
    ikev1_put_addr_id(e, q->initiator ? &sa->remote : &sa->local);
}

static bool id_ok(const struct ikev1_id *id, const struct sockaddr_storage *a,
                  const struct ikev1_natoa *oa)
{
    return ikev1_addr_id_ok(id, a) || (oa && ikev1_id_is_natoa(id, oa));
}

/*
 * Quick Mode client IDs, when present, are the two WAN addresses with GRE
 * (ours: IDci), as we see them. Behind a NAT the peer's view differs (its
 * private address, or our public one); it says what it sees in its NAT-OAi
 * and NAT-OAr (RFC 3947 §5.2), and an ID naming that is accepted too. The
 * kernel's SAs use the IKE addresses, never these IDs.
 */
static bool ids_ok(const struct ike_sa *sa, const struct v1_qm *q, const struct ikev1_msg *m)
{
    const struct sockaddr_storage *ci = q->initiator ? &sa->local : &sa->remote;
    const struct sockaddr_storage *cr = q->initiator ? &sa->remote : &sa->local;
    bool oa = ikev1_udp_encap(sa) && m->n_natoa == 2 && !m->natoa_bad;
    return m->n_id == 2 && id_ok(&m->id[0], ci, oa ? &m->natoa[0] : NULL) &&
           id_ok(&m->id[1], cr, oa ? &m->natoa[1] : NULL);
}

/* §5.5: the responder's IDs are the initiator's, as received (and accepted by ids_ok). */
static void echo_ids(struct ikev1_enc *e, const struct ikev1_msg *m)
{
    for (unsigned i = 0; i < 2; i++)
        ikev1_put_id(e, m->id[i].type, m->id[i].proto, m->id[i].port, m->id[i].data,
                     m->id[i].len);
}

static void put_ke(struct ikev1_enc *e, const struct v1_qm *q)
{
    size_t n = 0;
    if (q->dh) {
        const uint8_t *pub = ike_dh_public(q->dh, &n);
        ikev1_put_ke(e, pub, n);
    }
}

int ikev1_quick_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct v1_qm *q = qm_slot(sa);
    struct ikev1_prop prop;
    struct ikev1_enc e;
    if (!q)
        return IKE_ERR_STATE;
    memset(q, 0, sizeof(*q));
    q->used = q->initiator = true;
    uint16_t pfs = sa->peer->cfg.esp[0].dh;
    int rc = new_msgid(ctx, sa, &q->msgid);
    if (rc == IKE_OK)
        rc = ikev2_new_child_spi(ctx, &q->child.spi_in);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, q->ni, IKEV1_NONCE_LEN);
    if (rc == IKE_OK && pfs)
        rc = ike_dh_new(ctx->cr, pfs, ctx->cfg.random, ctx->cfg.random_arg, &q->dh);
    if (rc == IKE_OK)
        rc = ikev1_p2_iv(ctx, sa, q->msgid, q->iv);
    q->ni_len = IKEV1_NONCE_LEN;
    ikev1_p2_props(sa->peer, q->child.spi_in, ikev1_encap_mode(sa), &prop);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    size_t h = ikev1_hash_begin(&e, sa);
    ikev1_put_sa(&e, &prop, 1);
    ikev1_put_nonce(&e, q->ni, q->ni_len);
    put_ke(&e, q);
    put_qm_ids(&e, sa, q);
    ikev1_natoa_add(&e, sa, true);
    if (rc == IKE_OK)
        rc = ikev1_hash_fill(ctx, sa, &e, h, 1, q->msgid, q);
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_QUICK, q->msgid, &e, q->iv, &q->x, true);
    if (rc != IKE_OK)
        ikev1_qm_free(q);
    return rc;
}

/* §5.5 KEYMAT for one direction: encryption key, then integrity key. */
static int keymat(struct ike_ctx *ctx, struct ike_sa *sa, const struct v1_qm *q,
                  const uint8_t *g, size_t glen, uint32_t spi, uint8_t *ek, uint8_t *ak,
                  struct ike_child_sa *c)
{
    uint8_t k[IKE_MAX_ENCR_KEY + IKE_MAX_INTEG_KEY];
    size_t el = c->encr_key_len, al = c->integ_key_len;
    int rc = ikev1_qm_keymat(ctx->cr, sa->suite.prf, sa->v1->k.skeyid_d, sa->v1->k.prf_len, g,
                             glen, ESP, spi, q->ni, q->ni_len, q->nr, q->nr_len, k, el + al);
    if (rc == IKE_OK) {
        memcpy(ek, k, el);
        memcpy(ak, k + el, al);
    }
    ike_wipe(k, sizeof(k));
    return rc;
}

/* The SA pair as the kernel wants it; CHILD_UP, or CHILD_REKEYED when it replaces one. */
static int child_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                    const uint8_t *g, size_t glen)
{
    struct ike_event ev = {.type = sa->child.up ? IKE_EV_CHILD_REKEYED : IKE_EV_CHILD_UP,
                           .peer_id = sa->peer->id, .peer_name = sa->peer->name};
    struct ike_child_sa *c = &ev.u.child.sa;
    c->spi_in = q->child.spi_in;
    c->spi_out = q->child.spi_out;
    c->suite = q->child.suite;
    c->encr_key_len = (uint16_t)ike_encr_key_len(c->suite.encr, c->suite.key_bits);
    c->integ_key_len = ike_encr_is_aead(c->suite.encr) ? 0
                     : (uint16_t)ike_integ_key_len(c->suite.integ);
    int rc = keymat(ctx, sa, q, g, glen, c->spi_in, c->encr_key_in, c->integ_key_in, c);
    if (rc == IKE_OK)
        rc = keymat(ctx, sa, q, g, glen, c->spi_out, c->encr_key_out, c->integ_key_out, c);
    if (rc != IKE_OK) {
        ike_wipe(&ev, sizeof(ev));
        return IKE_ERR_CRYPTO;
    }
    c->ip_proto = 47;
    c->transport = true;
    ike_child_addrs(sa, c);
    c->reqid = sa->peer->cfg.reqid;
    c->lifetime_hard_s = q->life_s;     /* negotiated: the same on both ends, */
    c->lifetime_soft_s = (uint32_t)ike_soft_life(ctx, q->life_s); /* the soft ones apart */
    c->lifetime_hard_kb = q->life_kb;
    c->lifetime_soft_kb = ike_soft_life(ctx, q->life_kb);
    /* The second of two crossing Quick Modes replaces the same pair as the first (ikev1_collision.c). */
    struct v1_qm *first = ikev1_qm_cross_first(sa, q);
    ike_time_t soft_at = sa->child_soft_at, hard_at = sa->child_hard_at;
    if (sa->child.up) {
        const struct ike_child *old = first ? &q->old : &sa->child;
        ev.u.child.old_spi_in = old->spi_in;
        ev.u.child.old_spi_out = old->spi_out;
        if (!first)
            sa->old_child = sa->child;
    }
    sa->child = q->child;
    sa->child.up = true;
    sa->child.ours = q->initiator;
    sa->child_soft_at = now + (ike_time_t)c->lifetime_soft_s * 1000;
    sa->child_hard_at = now + (ike_time_t)c->lifetime_hard_s * 1000;
    rc = ike_emit(ctx, &ev, NULL, 0);
    ike_wipe(&ev, sizeof(ev));
    if (rc == IKE_OK && first)
        rc = ikev1_qm_settle(ctx, sa, now, q, first, soft_at, hard_at);
    return rc;
}

/* A refused Quick Mode: the peer is told (protected notify), the caller too. */
static int refuse(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                  uint16_t n, const char *why)
{
    uint8_t spi[4];
    wire_put_be32_at(spi, q->child.spi_out);
    ike_emit_error(ctx, sa->peer, ikev1_notify_reason(n), why);
    ikev1_qm_free(q);
    ikev1_info_send(ctx, sa, now, n, spi, IKEV1_PROTO_ESP, NULL, 0);
    return IKE_ERR_DROPPED;
}

/* The peer's PFS value when the chosen transform has a group; 0 or the notify. */
static uint16_t pfs_secret(struct ike_ctx *ctx, struct v1_qm *q, const struct ikev1_msg *m,
                           uint8_t *g, size_t *glen)
{
    uint16_t grp = q->child.suite.dh;
    *glen = 0;
    if (!grp)
        return ikev1_has(m, IKEV1_PLD_KE) ? IKEV1_N_PAYLOAD_MALFORMED : 0;
    if (!ikev1_has(m, IKEV1_PLD_KE) || m->ke.len != ike_dh_pub_len(grp))
        return IKEV1_N_INVALID_KEY_INFORMATION;
    *glen = IKE_MAX_DH_SHARED;
    if ((!q->dh && ike_dh_new(ctx->cr, grp, ctx->cfg.random, ctx->cfg.random_arg, &q->dh)) ||
        ike_dh_shared(q->dh, m->ke.data, m->ke.len, g, glen) != IKE_OK)
        return IKEV1_N_INVALID_KEY_INFORMATION;
    return 0;
}

/* The refusal of the peer's message 1 (*why: for the log), or 0 with the transform in chosen. */
static uint16_t offer_check(struct ike_sa *sa, struct v1_qm *q, const struct ikev1_msg *m,
                            struct ikev1_prop *chosen, const char **why)
{
    uint16_t encap = ikev1_encap_mode(sa);
    *why = "Quick Mode without SA or nonce";
    if (!ikev1_has(m, IKEV1_PLD_SA) || !ikev1_has(m, IKEV1_PLD_NONCE))
        return IKEV1_N_PAYLOAD_MALFORMED;
    *why = "malformed NAT-OA payload";
    if (m->natoa_bad)
        return IKEV1_N_PAYLOAD_MALFORMED;
    *why = "the peer's Quick Mode IDs are not GRE between our addresses";
    if (!ids_ok(sa, q, m))
        return IKEV1_N_INVALID_ID_INFORMATION;
    *why = encap == IKEV1_ENCAP_TRANSPORT
               ? "none of the peer's ESP transforms is ours (transport mode)"
               : "none of the peer's ESP transforms is ours (UDP-encapsulated transport)";
    if (ikev1_p2_select(sa->peer, &m->sa, encap, q, chosen) != 0)
        return IKEV1_N_NO_PROPOSAL_CHOSEN;
    return 0;
}

/* RFC 2407 §4.6.3.1: our lifetimes, shorter than the peer's offer. */
static void put_life_notify(struct ikev1_enc *e, const struct v1_qm *q)
{
    uint8_t attrs[24], spi[4];
    struct wire_wr w;
    wire_wr_init(&w, attrs, sizeof(attrs));
    ikev1_put_attr(&w, IKEV1_A2_LIFE_TYPE, IKEV1_LIFE_SECONDS);
    ikev1_put_attr(&w, IKEV1_A2_LIFE_DURATION, q->life_s);
    if (q->life_kb) {
        ikev1_put_attr(&w, IKEV1_A2_LIFE_TYPE, IKEV1_LIFE_KILOBYTES);
        ikev1_put_attr(&w, IKEV1_A2_LIFE_DURATION, (uint32_t)q->life_kb);
    }
    wire_put_be32_at(spi, q->child.spi_in);
    ikev1_put_notify(e, ESP, spi, 4, IKEV1_N_RESPONDER_LIFETIME, attrs, w.len);
}

/* Responder, message 1 -> 2 (q: fresh, HASH(1) verified). */
static int respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                   const struct ikev1_msg *m)
{
    struct ikev1_prop chosen;
    struct ikev1_enc e;
    const char *why;
    uint16_t n = offer_check(sa, q, m, &chosen, &why);
    if (n)
        return refuse(ctx, sa, now, q, n, why);
    memcpy(q->ni, m->nonce.data, m->nonce.len);
    q->ni_len = m->nonce.len;
    n = pfs_secret(ctx, q, m, q->g, &q->g_len);
    if (n)
        return refuse(ctx, sa, now, q, n, "the peer's Quick Mode KE does not fit its PFS group");
    int rc = ikev2_new_child_spi(ctx, &q->child.spi_in);
    if (rc == IKE_OK)
        rc = ike_rand(ctx, q->nr, IKEV1_NONCE_LEN);
    q->nr_len = IKEV1_NONCE_LEN;
    ikev1_qm_cross_check(sa, q);
    wire_put_be32_at(chosen.spi, q->child.spi_in);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    size_t h = ikev1_hash_begin(&e, sa);
    ikev1_put_sa(&e, &chosen, 1);
    ikev1_put_nonce(&e, q->nr, q->nr_len);
    put_ke(&e, q);
    echo_ids(&e, m);
    ikev1_natoa_add(&e, sa, false);
    if (q->life_notify)
        put_life_notify(&e, q);
    if (rc == IKE_OK)
        rc = ikev1_hash_fill(ctx, sa, &e, h, 2, q->msgid, q);
    /*
     * A rekey's new pair goes in before message 2 leaves: the initiator
     * sends on it as soon as it has read message 2, before our message 3
     * would have installed it (charon does). Its outbound half waits for
     * the caller's delay or the old pair's DELETE. Crossed Quick Modes
     * wait for message 3: which pair survives is decided there.
     */
    if (rc == IKE_OK && sa->child.up && !q->crossed) {
        rc = child_up(ctx, sa, now, q, q->g_len ? q->g : NULL, q->g_len);
        q->installed = true;
        ike_wipe(q->g, sizeof(q->g));
    }
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_QUICK, q->msgid, &e, q->iv, &q->x, true);
    if (rc != IKE_OK)
        ikev1_qm_free(q);
    return rc;
}

/* Initiator, message 2 -> 3: installed. */
static int got_qm2(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                   const struct ikev1_msg *m)
{
    struct ikev1_enc e;
    uint8_t g[IKE_MAX_DH_SHARED];
    size_t glen;
    if (!ikev1_has(m, IKEV1_PLD_SA) || !ikev1_has(m, IKEV1_PLD_NONCE))
        return refuse(ctx, sa, now, q, IKEV1_N_PAYLOAD_MALFORMED, "Quick Mode answer without SA");
    if (m->natoa_bad)
        return refuse(ctx, sa, now, q, IKEV1_N_PAYLOAD_MALFORMED, "malformed NAT-OA payload");
    if (ikev1_p2_check(sa->peer, &m->sa, ikev1_encap_mode(sa), q) != 0)
        return refuse(ctx, sa, now, q, IKEV1_N_NO_PROPOSAL_CHOSEN,
                      "the peer chose an ESP transform we did not offer");
    if (m->n_id && !ids_ok(sa, q, m))
        return refuse(ctx, sa, now, q, IKEV1_N_INVALID_ID_INFORMATION,
                      "the peer answered with other Quick Mode IDs");
    uint16_t n = pfs_secret(ctx, q, m, g, &glen);
    if (n)
        return refuse(ctx, sa, now, q, n, "the peer's Quick Mode KE does not fit its PFS group");
    memcpy(q->nr, m->nonce.data, m->nonce.len);
    q->nr_len = m->nonce.len;
    ikev1_responder_lifetime(m, ESP, &q->life_s, &q->life_kb);
    uint8_t hash[IKE_MAX_PRF_LEN];
    int rc = ikev1_hash_p2(ctx, sa, 3, q->msgid, q, NULL, 0, hash);
    ikev1_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev1_put_hash(&e, hash, ikev1_hash_len(sa));
    if (rc == IKE_OK)
        rc = ikev1_send(ctx, sa, now, IKEV1_EXCH_QUICK, q->msgid, &e, q->iv, &q->x, false);
    q->done = true;
    q->expire_at = now + IKEV1_QM_LINGER_MS;
    bool rekey = sa->child.up;
    if (rc == IKE_OK)
        rc = child_up(ctx, sa, now, q, glen ? g : NULL, glen);
    ike_wipe(g, sizeof(g));
    ike_dh_free(q->dh);
    q->dh = NULL;
    if (rc == IKE_OK && rekey) {    /* the old pair goes once the new one is in there */
        sa->v1->del_old_spi = sa->old_child.spi_in;
        sa->v1->del_old_at = now + IKEV1_DEL_OLD_MS;
    }
    return rc;
}

/* Responder, message 3: installed. */
static int got_qm3(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q)
{
    q->done = true;
    q->expire_at = now + IKEV1_QM_LINGER_MS;
    ikev1_xmit_clear(&q->x);        /* nothing to answer a duplicate of message 3 with */
    int rc = q->installed ? IKE_OK : child_up(ctx, sa, now, q, q->g_len ? q->g : NULL, q->g_len);
    ike_wipe(q->g, sizeof(q->g));
    ike_dh_free(q->dh);
    q->dh = NULL;
    return rc;
}

/* HASH(1), (2) or (3) of a decrypted message, first in it (§5.5). */
static bool hash_ok(struct ike_ctx *ctx, struct ike_sa *sa, const struct v1_qm *q, int which,
                    const struct ikev1_msg *m)
{
    uint8_t h[IKE_MAX_PRF_LEN];
    return m->first == IKEV1_PLD_HASH && m->hash.len == ikev1_hash_len(sa) &&
           ikev1_hash_p2(ctx, sa, which, m->hdr.msgid, q, m->after_hash, m->after_hash_len, h) ==
               IKE_OK &&
           ike_ct_equal(h, m->hash.data, m->hash.len);
}

int ikev1_quick_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                      size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                      const struct sockaddr_storage *dst)
{
    uint8_t iv[IKEV1_MAX_IV], next_iv[IKEV1_MAX_IV];
    uint32_t id = m->hdr.msgid;
    if (sa->v1->st != V1_UP || !(m->hdr.flags & IKEV1_FLAG_ENC) || id == 0) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    struct v1_qm *q = qm_find(sa, id);
    if (q && q->done) {
        ctx->stats.drop_bad_msgid++;
        return IKE_ERR_DROPPED;
    }
    if (q)
        memcpy(iv, q->iv, sizeof(iv));
    else if (ikev1_p2_iv(ctx, sa, id, iv) != IKE_OK)
        return IKE_ERR_CRYPTO;
    int perr = ikev1_decrypt(ctx, sa, iv, pkt, len, m, next_iv);
    if (perr == IKE_ERR_DROPPED)
        return perr;
    if (perr != IKEV1_P_OK) {
        ike_count_perr(ctx, perr);      /* unauthenticated: no answer */
        return IKE_ERR_DROPPED;
    }
    int which = !q ? 1 : q->initiator ? 2 : 3;
    if (!q && (q = qm_slot(sa)) != NULL) {
        memset(q, 0, sizeof(*q));
        q->msgid = id;
    }
    if (!q || !hash_ok(ctx, sa, q, which, m)) {
        ctx->stats.drop_integrity++;
        return IKE_ERR_DROPPED;
    }
    q->used = true;
    memcpy(q->iv, next_iv, sizeof(q->iv));
    ikev1_rx_seen(ctx, &q->x, pkt, len);
    sa->last_rx = now;
    ike_sa_follow(ctx, sa, src, dst);      /* authenticated, and not a duplicate */
    if (which == 1)
        return respond(ctx, sa, now, q, m);
    return which == 2 ? got_qm2(ctx, sa, now, q, m) : got_qm3(ctx, sa, now, q);
}
