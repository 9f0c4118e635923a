/*
 * ike_input: decode the header and the outer payloads, find the IKE SA by
 * its SPIs, check message IDs (window size 1, §2.3), replay cached responses
 * (§2.1), follow a peer whose NAT mapping changed (§2.23) and hand the
 * message to its exchange.
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <string.h>

void ike_count_perr(struct ike_ctx *ctx, int perr)
{
    switch (perr) {
    case IKEV2_P_TRUNCATED: ctx->stats.drop_truncated++; break;
    case IKEV2_P_CRITICAL: ctx->stats.drop_critical++; break;
    case IKEV2_P_NOT_ALLOWED: ctx->stats.drop_bad_exchange++; break;
    case IKEV2_P_VERSION: ctx->stats.drop_version++; break;
    default: ctx->stats.drop_bad_length++; break;
    }
}

static bool copy_addr(struct sockaddr_storage *out, const struct sockaddr *a)
{
    memset(out, 0, sizeof(*out));
    if (a->sa_family == AF_INET)
        memcpy(out, a, sizeof(struct sockaddr_in));
    else if (a->sa_family == AF_INET6)
        memcpy(out, a, sizeof(struct sockaddr_in6));
    else
        return false;
    return true;
}

/* A request we already answered: the same response again, byte for byte (§2.1). */
static int request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                   const struct ikev2_msg *m)
{
    uint32_t id = m->hdr.msgid;
    if (sa->have_resp && id == sa->resp_msgid && id + 1 == sa->msgid_peer) {
        ctx->stats.cache_replays++;
        return ike_send_raw(ctx, &sa->local, &sa->remote, sa->resp, sa->resp_len, sa->peer);
    }
    if (id != sa->msgid_peer) {
        ctx->stats.drop_bad_msgid++;
        return IKE_ERR_DROPPED;
    }
    bool auth = m->hdr.exchange == IKEV2_IKE_AUTH;
    if (auth ? sa->state != SA_INIT_DONE : sa->state != SA_ESTABLISHED) {
        ctx->stats.drop_bad_exchange++;     /* the message ID is not used up */
        return IKE_ERR_DROPPED;
    }
    sa->msgid_peer++;
    switch (m->hdr.exchange) {
    case IKEV2_IKE_AUTH:
        return ikev2_auth_respond(ctx, sa, now, m);
    case IKEV2_INFORMATIONAL:
        return ikev2_info_respond(ctx, sa, now, m);
    default:
        return ikev2_create_child_respond(ctx, sa, now, m);
    }
}

static int response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                    const struct ikev2_msg *m)
{
    if (sa->req_kind == REQ_NONE || m->hdr.msgid != sa->msgid_next) {
        ctx->stats.drop_bad_msgid++;
        return IKE_ERR_DROPPED;
    }
    if (sa->req_kind == REQ_AUTH && m->hdr.exchange == IKEV2_IKE_AUTH)
        return ikev2_auth_response(ctx, sa, now, m);
    if (sa->req_kind == REQ_REKEY_CHILD && m->hdr.exchange == IKEV2_CREATE_CHILD_SA)
        return ikev2_rekey_child_response(ctx, sa, now, m);
    if (sa->req_kind == REQ_REKEY_IKE && m->hdr.exchange == IKEV2_CREATE_CHILD_SA)
        return ikev2_rekey_ike_response(ctx, sa, now, m);
    if (((sa->req_kind >= REQ_DEL_CHILD && sa->req_kind <= REQ_DEL_OLD_CHILD) ||
         sa->req_kind == REQ_DEL_DUP_CHILD) && m->hdr.exchange == IKEV2_INFORMATIONAL)
        return ikev2_info_response(ctx, sa, now, m);
    ctx->stats.drop_bad_exchange++;
    return IKE_ERR_DROPPED;
}

/*
 * §2.23: only a message that passed its integrity check and is not a
 * replay moves the IKE SA to where it came from: the next request of the
 * peer, or the response to our outstanding request. A captured old message
 * sent again from elsewhere moves nothing.
 */
static bool fresh(const struct ike_sa *sa, const struct ikev2_msg *m)
{
    if (m->hdr.flags & IKEV2_FLAG_RESPONSE)
        return sa->req_kind != REQ_NONE && m->hdr.msgid == sa->msgid_next;
    return m->hdr.msgid == sa->msgid_peer;
}

static int protected(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev2_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst)
{
    if (sa->state == SA_INIT_SENT) {
        ctx->stats.drop_bad_exchange++;
        return IKE_ERR_DROPPED;
    }
    int rc = ikev2_msg_open(ctx, sa, pkt, len, m);
    if (rc == IKE_ERR_DROPPED)
        return rc;
    if (fresh(sa, m))
        ike_sa_follow(ctx, sa, src, dst);
    bool is_resp = m->hdr.flags & IKEV2_FLAG_RESPONSE;
    if (rc != IKEV2_P_OK) {
        /* Authentic but malformed: §2.21.2 asks for INVALID_SYNTAX in answer to a request. */
        ike_count_perr(ctx, rc);
        if (!is_resp && m->hdr.msgid == sa->msgid_peer) {
            sa->msgid_peer++;
            ike_emit_error(ctx, sa->peer, IKE_R_INVALID_SYNTAX, "malformed request from peer");
            uint16_t n = rc == IKEV2_P_CRITICAL ? IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD
                                                : IKEV2_N_INVALID_SYNTAX;
            ikev2_notify_response(ctx, sa, m->hdr.exchange, m->hdr.msgid, n);
        }
        return IKE_ERR_DROPPED;
    }
    sa->last_rx = now;
    size_t used = m->sk_len;        /* m points into ctx->plain until the handlers return */
    rc = is_resp ? response(ctx, sa, now, m) : request(ctx, sa, now, m);
    ike_wipe(ctx->plain, used < sizeof(ctx->plain) ? used : sizeof(ctx->plain));
    return rc;
}

int ike_input(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
              const struct sockaddr *src, const struct sockaddr *dst)
{
    struct sockaddr_storage s, d;
    if (!ctx || (!pkt && len) || !src || !dst)
        return IKE_ERR_INVAL;
    ctx->stats.rx_packets++;
    if (!copy_addr(&s, src) || !copy_addr(&d, dst))
        return IKE_ERR_INVAL;
    if (len >= IKEV1_HDR_LEN && pkt[17] >> 4 == 1)     /* ISAKMP version 1.x (RFC 2408 §3.1) */
        return ikev1_input(ctx, now, pkt, len, &s, &d);
    struct ikev2_msg *m = &ctx->msg;
    int rc = ikev2_msg_decode(pkt, len, m);
    if (rc != IKEV2_P_OK) {
        ike_count_perr(ctx, rc);
        return IKE_ERR_DROPPED;
    }
    bool is_resp = m->hdr.flags & IKEV2_FLAG_RESPONSE;
    if (m->hdr.exchange == IKEV2_IKE_SA_INIT && !is_resp) {
        if (m->hdr.spi_r != 0 || m->hdr.msgid != 0 || !(m->hdr.flags & IKEV2_FLAG_INITIATOR)) {
            ctx->stats.drop_bad_exchange++;
            return IKE_ERR_DROPPED;
        }
        return ikev2_init_respond(ctx, now, pkt, len, m, &s, &d);
    }
    struct ike_sa *sa = ike_sa_find(ctx, &m->hdr);
    if (!sa) {
        ctx->stats.drop_unknown_spi++;
        return IKE_ERR_DROPPED;
    }
    if (m->hdr.exchange == IKEV2_IKE_SA_INIT) {
        if (sa->state != SA_INIT_SENT || m->hdr.msgid != 0) {
            ctx->stats.drop_bad_msgid++;
            return IKE_ERR_DROPPED;
        }
        return ikev2_init_response(ctx, sa, now, pkt, len, m);
    }
    return protected(ctx, sa, now, pkt, len, m, &s, &d);
}
