/*
 * IKE_AUTH with pre-shared keys (RFC 7296 §1.2, §2.15), both roles, with
 * the first CHILD SA piggybacked.
 */
#include "ike_int.h"

#include <string.h>

/* ID payload body (IDi'/IDr' of §2.15): type, 3 reserved octets, data. */
static size_t id_body(const struct ike_id *id, uint8_t *out)
{
    memset(out, 0, 4);
    out[0] = id->type;
    memcpy(out + 4, id->data, id->len);
    return 4 + (size_t)id->len;
}

static bool id_matches(const struct ikev2_id *got, const struct ike_id *want)
{
    return got->type == want->type && got->len == want->len &&
           memcmp(got->data, want->data, want->len) == 0;
}

/* Our ID and AUTH payloads. */
static int put_id_auth(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev2_enc *e)
{
    struct ike_id id;
    uint8_t body[4 + IKE_MAX_ID], auth[IKE_MAX_PRF_LEN];
    size_t alen;
    ikev2_local_id(sa, &id);
    size_t blen = id_body(&id, body);
    int rc = ikev2_psk_auth(ctx, sa, sa->initiator, body, blen, auth, &alen);
    ikev2_put_id(e, sa->initiator ? IKEV2_PLD_IDI : IKEV2_PLD_IDR, id.type, id.data, id.len);
    ikev2_put_auth(e, IKEV2_AUTH_PSK, auth, alen);
    ike_wipe(auth, sizeof(auth));
    return rc;
}

/* 0 when the peer's ID is the configured one and its AUTH verifies; else the reason. */
static enum ike_reason verify_peer(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m)
{
    const struct ikev2_id *got = sa->initiator ? &m->idr : &m->idi;
    struct ike_id want;
    uint8_t auth[IKE_MAX_PRF_LEN];
    size_t alen;
    ikev2_remote_id(sa, &want);
    if (!id_matches(got, &want))
        return IKE_R_INVALID_ID;
    if (m->auth.method != IKEV2_AUTH_PSK ||
        ikev2_psk_auth(ctx, sa, !sa->initiator, got->body, got->body_len, auth, &alen) != IKE_OK)
        return IKE_R_AUTHENTICATION_FAILED;
    bool ok = alen == m->auth.len && ike_ct_equal(auth, m->auth.data, alen);
    ike_wipe(auth, sizeof(auth));
    return ok ? IKE_R_NONE : IKE_R_AUTHENTICATION_FAILED;
}

/* Our CHILD SA offer (req NULL) or the answer to the one in req. */
static void put_child(struct ike_sa *sa, struct ikev2_enc *e, const struct ikev2_msg *req)
{
    const struct ike_peer_config *pc = &sa->peer->cfg;
    struct ikev2_prop props[IKEV2_MAX_PROPS];
    struct ikev2_ts ts_i, ts_r;
    uint8_t spi[4];
    unsigned n;
    for (int i = 0; i < 4; i++)
        spi[i] = (uint8_t)(sa->child.spi_in >> (24 - 8 * i));
    if (!req) {
        n = ike_props_from_suites(pc->esp, pc->n_esp, IKEV2_PROTO_ESP, spi, 4, false, props);
    } else {
        n = ike_props_from_suites(&sa->child.suite, 1, IKEV2_PROTO_ESP, spi, 4, false, props);
        props[0].num = sa->child_prop_num;
    }
    ikev2_ts_ours(sa, req, &ts_i, &ts_r);
    ikev2_put_notify(e, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
    ikev2_put_sa(e, props, n);
    ikev2_put_ts(e, IKEV2_PLD_TSI, &ts_i, 1);
    ikev2_put_ts(e, IKEV2_PLD_TSR, &ts_r, 1);
}

/*
 * §2.4: INITIAL_CONTACT ("this IKE SA is the only IKE SA currently active
 * between the authenticated identities") in the IKE_AUTH request or
 * response when we have no other established IKE SA with the peer: after a
 * restart, or after we lost ours, the peer drops what it still has.
 */
static void put_initial_contact(struct ike_ctx *ctx, const struct ike_sa *sa,
                                struct ikev2_enc *e)
{
    for (const struct ike_sa *o = ctx->sas; o; o = o->next)
        if (o != sa && o->peer == sa->peer && o->state == SA_ESTABLISHED)
            return;
    ikev2_put_notify(e, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
}

int ikev2_seal_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint8_t exchange,
                     bool response, uint32_t msgid, struct ikev2_enc *e, enum ike_req_kind kind)
{
    size_t len;
    if (e->w.err)
        return IKE_ERR_INVAL;
    int rc = ikev2_msg_seal(ctx, sa, exchange, response, msgid, ctx->inner, e->w.len, e->first,
                            ctx->buf, sizeof(ctx->buf), &len);
    ike_wipe(ctx->inner, e->w.len);
    if (rc != IKE_OK)
        return rc;
    return response ? ike_sa_send_response(ctx, sa, msgid, ctx->buf, len)
                    : ike_sa_send_request(ctx, sa, now, kind, ctx->buf, len);
}

int ikev2_notify_response(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t exchange,
                          uint32_t msgid, uint16_t type)
{
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    ikev2_put_notify(&e, 0, NULL, 0, type, NULL, 0);
    return ikev2_seal_send(ctx, sa, 0, exchange, true, msgid, &e, REQ_NONE);
}

int ikev2_auth_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ikev2_enc e;
    int rc = ikev2_new_child_spi(ctx, &sa->child.spi_in);
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    if (rc == IKE_OK)
        rc = put_id_auth(ctx, sa, &e);
    put_initial_contact(ctx, sa, &e);
    put_child(sa, &e, NULL);
    sa->state = SA_AUTH_SENT;
    if (rc == IKE_OK)
        rc = ikev2_seal_send(ctx, sa, now, IKEV2_IKE_AUTH, false, sa->msgid_next, &e, REQ_AUTH);
    return rc;
}

void ikev2_emit_ike_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    struct ike_event ev = {.type = IKE_EV_IKE_UP, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.ike.spi_i = sa->spi_i;
    ev.u.ike.spi_r = sa->spi_r;
    ev.u.ike.version = 2;
    ev.u.ike.initiator = sa->initiator;
    ev.u.ike.suite = sa->suite;
    ev.u.ike.nat_local = sa->nat_local;
    ev.u.ike.nat_remote = sa->nat_remote;
    ike_emit(ctx, &ev, NULL, 0);
    ikev2_psk_pad_wipe(sa);         /* both AUTH values are done */
    sa->state = SA_ESTABLISHED;
    sa->up_at = now;
    sa->expire_at = 0;
    sa->last_rx = now;
    if (sa->peer->cfg.dpd_interval_s)
        sa->dpd_at = now + (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000;
    if (sa->peer->cfg.ike_lifetime_s) { /* rekeyed 10-15 % before; by the initiator only */
        ike_time_t life = (ike_time_t)sa->peer->cfg.ike_lifetime_s * 1000;
        sa->ike_rekey_at = now + ike_soft_life(ctx, life);
        sa->ike_hard_at = now + life;
    }
}

int ikev2_auth_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       const struct ikev2_msg *m)
{
    uint32_t msgid = m->hdr.msgid;
    if (!ikev2_has(m, IKEV2_PLD_IDI) || !ikev2_has(m, IKEV2_PLD_AUTH)) {
        ikev2_notify_response(ctx, sa, IKEV2_IKE_AUTH, msgid, IKEV2_N_INVALID_SYNTAX);
        ike_emit_error(ctx, sa->peer, IKE_R_INVALID_SYNTAX, "IKE_AUTH request without ID or AUTH");
        ike_sa_destroy(ctx, sa, IKE_R_INVALID_SYNTAX, true);
        return IKE_OK;
    }
    enum ike_reason bad = verify_peer(ctx, sa, m);
    if (bad != IKE_R_NONE) {
        ikev2_notify_response(ctx, sa, IKEV2_IKE_AUTH, msgid, IKEV2_N_AUTHENTICATION_FAILED);
        ike_emit_error(ctx, sa->peer, bad, bad == IKE_R_INVALID_ID
                                               ? "peer's identity is not the configured one"
                                               : "peer's AUTH does not verify (wrong PSK?)");
        ike_sa_destroy(ctx, sa, bad, true);
        return IKE_OK;
    }
    const char *why = NULL;
    uint16_t refuse = ikev2_child_accept(sa, m, &why);
    struct ikev2_enc e;
    ikev2_enc_init(&e, ctx->inner, sizeof(ctx->inner), false);
    int rc = refuse ? IKE_OK : ikev2_new_child_spi(ctx, &sa->child.spi_in);
    if (rc == IKE_OK)
        rc = put_id_auth(ctx, sa, &e);
    put_initial_contact(ctx, sa, &e);
    if (refuse)
        ikev2_put_notify(&e, 0, NULL, 0, refuse, NULL, 0);
    else
        put_child(sa, &e, m);
    if (rc == IKE_OK)
        rc = ikev2_seal_send(ctx, sa, now, IKEV2_IKE_AUTH, true, msgid, &e, REQ_NONE);
    if (rc != IKE_OK)
        return rc;
    ikev2_emit_ike_up(ctx, sa, now);
    ikev2_initial_contact(ctx, sa, m);     /* the stale SAs go before the new CHILD SA comes */
    ike_wipe(sa->msg1, sa->msg1_len);
    if (refuse)
        ike_emit_error(ctx, sa->peer, ikev2_notify_reason(refuse), why);
    else
        rc = ikev2_child_up_first(ctx, sa, now);
    if (rc == IKE_OK)
        rc = ikev2_dup_check(ctx, sa, now);
    return rc;
}

int ikev2_auth_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const struct ikev2_msg *m)
{
    if (!ikev2_has(m, IKEV2_PLD_IDR) || !ikev2_has(m, IKEV2_PLD_AUTH)) {
        uint16_t t = IKEV2_N_INVALID_SYNTAX;
        for (unsigned i = 0; i < m->n_notify; i++)
            if (m->notify[i].type <= IKEV2_N_ERROR_MAX) {
                t = m->notify[i].type;
                break;
            }
        ike_emit_error(ctx, sa->peer, ikev2_notify_reason(t),
                       t == IKEV2_N_AUTHENTICATION_FAILED ? "peer refused our AUTH (wrong PSK?)"
                                                          : "peer refused IKE_AUTH");
        ike_sa_destroy(ctx, sa, ikev2_notify_reason(t), true);
        return IKE_OK;
    }
    enum ike_reason bad = verify_peer(ctx, sa, m);
    if (bad != IKE_R_NONE) {
        ike_emit_error(ctx, sa->peer, bad, bad == IKE_R_INVALID_ID
                                               ? "peer's identity is not the configured one"
                                               : "peer's AUTH does not verify (wrong PSK?)");
        ike_sa_destroy(ctx, sa, bad, true);
        return IKE_OK;
    }
    ike_sa_request_done(sa);
    ikev2_emit_ike_up(ctx, sa, now);
    ikev2_initial_contact(ctx, sa, m);
    const char *why = NULL;
    int rc = IKE_OK;
    uint16_t refuse = ikev2_child_check(sa, m, &why);
    if (refuse) {
        ike_emit_error(ctx, sa->peer, ikev2_notify_reason(refuse), why);
        sa->child.spi_in = 0;
    } else {
        rc = ikev2_child_up_first(ctx, sa, now);
    }
    if (rc == IKE_OK)
        rc = ikev2_dup_check(ctx, sa, now);
    return rc;
}
