/*
 * Protected messages (the SK payload, RFC 7296 §3.14, RFC 5282 for AES-GCM),
 * NAT detection hashes (§2.23) and the PSK AUTH value (§2.15).
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <string.h>

static const uint8_t *key_e(const struct ike_sa *sa, bool from_initiator)
{
    return from_initiator ? sa->keys.sk_ei : sa->keys.sk_er;
}

static const uint8_t *key_a(const struct ike_sa *sa, bool from_initiator)
{
    return from_initiator ? sa->keys.sk_ai : sa->keys.sk_ar;
}

static size_t icv_len(const struct ike_suite *s)
{
    return ike_encr_is_aead(s->encr) ? ike_encr_icv_len(s->encr) : ike_integ_icv_len(s->integ);
}

/* Header | SK { inner | padding | pad length } | ICV, sent by our role in the IKE SA. */
int ikev2_msg_seal(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t exchange, bool response,
                   uint32_t msgid, const uint8_t *inner, size_t inner_len, uint8_t first,
                   uint8_t *out, size_t cap, size_t *out_len)
{
    const struct ike_suite *s = &sa->suite;
    size_t iv = ike_encr_iv_len(s->encr), block = ike_encr_block_len(s->encr), icv = icv_len(s);
    size_t pad = (block - (inner_len + 1) % block) % block;
    size_t ct = inner_len + pad + 1;
    size_t total = IKEV2_HDR_LEN + IKEV2_GEN_LEN + iv + ct + icv;
    if (!block || total > cap || total > 0xffff)
        return IKE_ERR_INVAL;
    struct ikev2_hdr h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r, .next = IKEV2_PLD_SK,
                          .exchange = exchange, .msgid = msgid};
    h.flags = (sa->initiator ? IKEV2_FLAG_INITIATOR : 0) | (response ? IKEV2_FLAG_RESPONSE : 0);
    struct ikev2_enc e;
    ikev2_enc_init(&e, out, cap, true);
    ikev2_put_hdr(&e, &h);
    wire_put_u8(&e.w, first);
    wire_put_u8(&e.w, 0);
    wire_put_u16(&e.w, (uint16_t)(total - IKEV2_HDR_LEN));
    wire_set_u32(&e.w, 24, (uint32_t)total);
    uint8_t *ivp = out + IKEV2_HDR_LEN + IKEV2_GEN_LEN, *ctp = ivp + iv;
    if (e.w.err || ike_rand(ctx, ivp, iv) != IKE_OK)
        return IKE_ERR_CRYPTO;
    memcpy(ctp, inner, inner_len);
    if (pad && ike_rand(ctx, ctp + inner_len, pad) != IKE_OK)
        return IKE_ERR_CRYPTO;
    ctp[ct - 1] = (uint8_t)pad;
    uint8_t *icvp = ctp + ct;
    if (ike_encrypt(ctx->cr, s->encr, key_e(sa, sa->initiator), sa->keys.encr_len, ivp, out,
                    IKEV2_HDR_LEN + IKEV2_GEN_LEN, ctp, ct, ctp, icvp) != IKE_OK)
        return IKE_ERR_CRYPTO;
    if (!ike_encr_is_aead(s->encr)) {
        struct ike_iov v = {out, total - icv};
        if (ike_integ(ctx->cr, s->integ, key_a(sa, sa->initiator), &v, 1, icvp) != IKE_OK)
            return IKE_ERR_CRYPTO;
    }
    *out_len = total;
    return IKE_OK;
}

/* Check, decrypt and decode the SK payload of m; the inner payloads go into m. */
int ikev2_msg_open(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt, size_t len,
                   struct ikev2_msg *m)
{
    const struct ike_suite *s = &sa->suite;
    size_t iv = ike_encr_iv_len(s->encr), block = ike_encr_block_len(s->encr), icv = icv_len(s);
    bool from_initiator = !sa->initiator;
    if (!ikev2_has(m, IKEV2_PLD_SK) || m->sk_len < iv + icv + 1) {
        ctx->stats.drop_truncated++;
        return IKE_ERR_DROPPED;
    }
    size_t ct = m->sk_len - iv - icv;
    const uint8_t *ivp = pkt + m->sk_off + IKEV2_GEN_LEN, *ctp = ivp + iv, *icvp = ctp + ct;
    if (ct % block || ct > sizeof(ctx->plain)) {
        ctx->stats.drop_bad_length++;
        return IKE_ERR_DROPPED;
    }
    if (!ike_encr_is_aead(s->encr)) {
        uint8_t want[IKE_MAX_ICV];
        struct ike_iov v = {pkt, len - icv};
        if (ike_integ(ctx->cr, s->integ, key_a(sa, from_initiator), &v, 1, want) != IKE_OK ||
            !ike_ct_equal(want, icvp, icv)) {
            ctx->stats.drop_integrity++;
            return IKE_ERR_DROPPED;
        }
    }
    if (ike_decrypt(ctx->cr, s->encr, key_e(sa, from_initiator), sa->keys.encr_len, ivp, pkt,
                    m->sk_off + IKEV2_GEN_LEN, ctp, ct, ctx->plain, icvp) != IKE_OK) {
        if (ike_encr_is_aead(s->encr))
            ctx->stats.drop_integrity++;
        else
            ctx->stats.drop_decrypt++;
        return IKE_ERR_DROPPED;
    }
    size_t pad = ctx->plain[ct - 1];
    if (pad + 1 > ct) {
        ctx->stats.drop_decrypt++;
        return IKE_ERR_DROPPED;
    }
    return ikev2_pld_chain(ctx->plain, 0, ct - pad - 1, m->sk_first, true, m);
}

static size_t addr_bytes(const struct sockaddr_storage *a, const uint8_t **p, uint16_t *port)
{
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        *p = (const uint8_t *)&in->sin_addr;
        *port = ntohs(in->sin_port);
        return 4;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
    *p = (const uint8_t *)&in6->sin6_addr;
    *port = ntohs(in6->sin6_port);
    return 16;
}

/* §2.23: SHA-1(SPIi | SPIr | IP | Port). */
int ikev2_natd_hash(struct ike_ctx *ctx, uint64_t spi_i, uint64_t spi_r,
                    const struct sockaddr_storage *a, uint8_t out[20])
{
    uint8_t buf[16 + 16 + 2];
    struct wire_wr w;
    const uint8_t *ip;
    uint16_t port;
    size_t n = addr_bytes(a, &ip, &port);
    wire_wr_init(&w, buf, sizeof(buf));
    wire_put_u64(&w, spi_i);
    wire_put_u64(&w, spi_r);
    wire_put_bytes(&w, ip, n);
    wire_put_u16(&w, port);
    struct ike_iov v = {buf, w.len};
    if (w.err || ike_sha1(ctx->cr, &v, 1, out) != IKE_OK)
        return IKE_ERR_CRYPTO;
    return IKE_OK;
}

static void addr_id(const struct sockaddr_storage *a, struct ike_id *id)
{
    const uint8_t *ip;
    uint16_t port;
    size_t n = addr_bytes(a, &ip, &port);
    id->type = n == 4 ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
    id->len = (uint16_t)n;
    memcpy(id->data, ip, n);
}

/* §3.5; with no configured identity, our (the peer's) address. */
void ikev2_local_id(const struct ike_sa *sa, struct ike_id *id)
{
    if (sa->peer->cfg.local_id.type)
        *id = sa->peer->cfg.local_id;
    else
        addr_id(&sa->peer->cfg.local, id);
}

void ikev2_remote_id(const struct ike_sa *sa, struct ike_id *id)
{
    if (sa->peer->cfg.remote_id.type)
        *id = sa->peer->cfg.remote_id;
    else
        addr_id(&sa->peer->cfg.remote, id);
}

/*
 * §2.15: prf(Shared Secret, "Key Pad for IKEv2"): the same for our AUTH and
 * the peer's, so made once per IKE SA (and wiped when it is up).
 */
static const uint8_t *psk_pad_key(struct ike_ctx *ctx, struct ike_sa *sa, int *rc)
{
    static const char pad[] = "Key Pad for IKEv2";
    uint16_t prf = sa->suite.prf;
    struct ike_iov kp = {(const uint8_t *)pad, sizeof(pad) - 1};
    if (*rc != IKE_OK)
        return NULL;
    if (sa->psk_pad_prf != prf) {
        *rc = ike_prf(ctx->cr, prf, sa->peer->psk, sa->peer->cfg.psk_len, &kp, 1, sa->psk_pad);
        sa->psk_pad_prf = *rc == IKE_OK ? prf : 0;
    }
    return *rc == IKE_OK ? sa->psk_pad : NULL;
}

void ikev2_psk_pad_wipe(struct ike_sa *sa)
{
    ike_wipe(sa->psk_pad, sizeof(sa->psk_pad));
    sa->psk_pad_prf = 0;
}

/*
 * §2.15: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>),
 * InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, IDi'),
 * ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, IDr').
 */
int ikev2_psk_auth(struct ike_ctx *ctx, struct ike_sa *sa, bool initiator_octets,
                   const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *out_len)
{
    uint16_t prf = sa->suite.prf;
    size_t plen = ike_prf_len(prf);
    uint8_t mac_id[IKE_MAX_PRF_LEN];
    struct ike_iov v = {id_body, id_len};
    const uint8_t *sk_p = initiator_octets ? sa->keys.sk_pi : sa->keys.sk_pr;
    int rc = ike_prf(ctx->cr, prf, sk_p, sa->keys.prf_len, &v, 1, mac_id);
    const uint8_t *key = psk_pad_key(ctx, sa, &rc);
    struct ike_iov oct[3] = {
        {initiator_octets ? sa->msg1 : sa->msg2, initiator_octets ? sa->msg1_len : sa->msg2_len},
        {initiator_octets ? sa->nr : sa->ni, initiator_octets ? sa->nr_len : sa->ni_len},
        {mac_id, plen},
    };
    if (rc == IKE_OK)
        rc = ike_prf(ctx->cr, prf, key, plen, oct, 3, out);
    *out_len = plen;
    ike_wipe(mac_id, sizeof(mac_id));
    return rc == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}
