/*
 * IKEv1 internals shared by the ikev1_*.c files: the state of an ISAKMP SA
 * (RFC 2409 Main / Aggressive Mode) and of its Quick Modes, kept beside the
 * generic struct ike_sa (sa->v1). Not part of the API.
 */
#ifndef IKECORE_IKEV1_INT_H
#define IKECORE_IKEV1_INT_H

#include "ike_int.h"
#include "ikev1_pld.h"
#include "keys_v1.h"

#define IKEV1_NONCE_LEN 32
#define IKEV1_HALF_OPEN_MS 30000
#define IKEV1_QM_LINGER_MS 30000    /* a finished Quick Mode answers duplicates this long */
/*
 * A rekey's initiator deletes the old IPsec SA this long after message 3, and
 * only then sends on the new one: a responder such as charon drops the old
 * pair on that DELETE, and installs the new one when message 3 arrives.
 */
#define IKEV1_DEL_OLD_MS 1000

enum v1_state {
    V1_MM_I1, V1_MM_I3, V1_MM_I5,   /* initiator: message n sent */
    V1_MM_R2, V1_MM_R4,             /* responder: message n sent */
    V1_AM_I1, V1_AM_R2,
    V1_UP,
};

/* Our last message of one exchange and the peer's last one (RFC 2408 §5: duplicates). */
struct v1_xmit {
    uint8_t *msg;
    size_t len;
    bool rtx;                       /* retransmitted on a timer until the peer answers */
    unsigned tries, replays;
    ike_time_t deadline;
    uint8_t rx_hash[20];            /* SHA-1 of the peer's last datagram */
    bool have_rx;
};

/* One Quick Mode (RFC 2409 §5.5). */
struct v1_qm {
    bool used, initiator, done;
    uint32_t msgid;
    uint8_t iv[IKEV1_MAX_IV];
    uint8_t ni[256], nr[256];
    size_t ni_len, nr_len;
    struct ike_child child;         /* spi_in ours, spi_out the peer's, suite */
    struct ike_dh *dh;
    uint8_t g[IKE_MAX_DH_SHARED];   /* responder with PFS: g(qm)^xy from message 1 to 3 */
    size_t g_len;
    uint32_t life_s;
    uint64_t life_kb;
    bool life_notify;               /* responder: ours is shorter (RESPONDER-LIFETIME) */
    struct v1_xmit x;
    ike_time_t expire_at;
    bool crossed;                   /* in flight with one of the other side's (ikev1_collision.c) */
    bool installed;                 /* responder: announced with message 2 (a rekey) */
    struct ike_child old;           /* then: the IPsec SA both replace */
};

#define V1_MAX_QM 4
struct ikev1_sa {
    enum v1_state st;
    bool aggressive;
    uint32_t life_s;                /* the ISAKMP SA's negotiated lifetime; 0: none */
    uint8_t *sai_b;                 /* the initiator's SA payload body (§5) */
    size_t sai_b_len;
    uint8_t g_peer[IKE_MAX_DH_PUB];
    size_t g_peer_len;
    uint8_t skeyid[IKE_MAX_PRF_LEN];
    struct ikev1_keys k;
    uint8_t iv[IKEV1_MAX_IV];       /* phase 1 CBC chain; once up: its last block (App. B) */
    size_t blk;
    struct v1_xmit x;               /* phase 1 */
    struct v1_qm qm[V1_MAX_QM];
    bool peer_dpd;                  /* the peer sent the DPD vendor ID */
    bool natt;                      /* both sent the RFC 3947 vendor ID: NAT-D follows (§3.1) */
    uint32_t dpd_seq, dpd_peer_seq;
    bool dpd_out;
    unsigned dpd_tries;
    ike_time_t dpd_deadline;
    uint32_t del_old_spi;           /* our rekey's old IPsec SA (spi_in), DELETE due at del_old_at */
    ike_time_t del_old_at;
    bool initial_contact;           /* the peer's phase 1 carried INITIAL-CONTACT */
    uint8_t peer_id_b[IKE_MAX_ID + 4]; /* Aggressive Mode responder: IDii_b for HASH_I */
    size_t peer_id_b_len;
    uint8_t bad_hash[20];           /* SHA-1 of the last phase 1 message that did not decrypt */
};

static inline void wire_put_be32_at(uint8_t *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

static inline void wire_put_be64_at(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

/* ikev1_input.c: finding SAs, duplicates, dispatch; ikev1_sa.c: timers, commands */
struct ike_sa *ikev1_sa_new(struct ike_ctx *ctx, struct ike_peer *p, bool initiator,
                            ike_time_t now);
void ikev1_xmit_clear(struct v1_xmit *x);
int ikev1_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint8_t exch,
               uint32_t msgid, const struct ikev1_enc *e, uint8_t *iv, struct v1_xmit *x,
               bool rtx);
int ikev1_send_plain_notify(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                            const struct sockaddr_storage *dst, uint64_t cky_i, uint64_t cky_r,
                            uint16_t type, struct ike_peer *p);
void ikev1_rx_seen(struct ike_ctx *ctx, struct v1_xmit *x, const uint8_t *pkt, size_t len);
void ikev1_emit_ike_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
void ikev1_fail(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason r, const char *why);
void ikev1_qm_free(struct v1_qm *q);
enum ike_reason ikev1_notify_reason(uint16_t t);

/* ikev1_crypto.c: encryption with the IV chain (App. B), the hashes of §5, §5.5, §5.7 */
int ikev1_encrypt(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t *iv, uint8_t *buf, size_t n,
                  size_t cap, size_t *out_len);
int ikev1_decrypt(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *iv, const uint8_t *pkt,
                  size_t len, struct ikev1_msg *m, uint8_t *next_iv);
int ikev1_phase1_keys(struct ike_ctx *ctx, struct ike_sa *sa);
int ikev1_hash_ir(struct ike_ctx *ctx, struct ike_sa *sa, bool of_initiator,
                  const uint8_t *id_body, size_t id_len, uint8_t *out);
/* prf(SKEYID_a, [0 |] M-ID | [Ni_b |] [Nr_b |] rest): which = 1, 2, 3 of §5.5, 1 for §5.7 */
int ikev1_hash_p2(struct ike_ctx *ctx, struct ike_sa *sa, int which, uint32_t msgid,
                  const struct v1_qm *q, const uint8_t *rest, size_t rest_len, uint8_t *out);
int ikev1_p2_iv(struct ike_ctx *ctx, struct ike_sa *sa, uint32_t msgid, uint8_t *iv);
size_t ikev1_hash_len(const struct ike_sa *sa);
/* HASH as the first payload, the rest after it; the HASH filled in by ikev1_hash_fill. */
size_t ikev1_hash_begin(struct ikev1_enc *e, const struct ike_sa *sa);
int ikev1_hash_fill(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e, size_t start,
                    int which, uint32_t msgid, const struct v1_qm *q);

/* ikev1_prop.c: suites to transforms and back (RFC 2409 App. A, RFC 2407 §4.5) */
void ikev1_p1_props(const struct ike_peer *p, bool aggressive, struct ikev1_prop *out);
int ikev1_p1_select(const struct ike_peer *p, const struct ikev1_sa_pld *sa, bool aggressive,
                    struct ike_suite *suite, uint32_t *life_s, struct ikev1_prop *chosen);
int ikev1_p1_check(const struct ike_peer *p, const struct ikev1_sa_pld *sa,
                   struct ike_suite *suite, uint32_t *life_s);
/* encap: the Encapsulation Mode offered / required (ikev1_encap_mode) */
void ikev1_p2_props(const struct ike_peer *p, uint32_t spi, uint16_t encap,
                    struct ikev1_prop *out);
int ikev1_p2_select(const struct ike_peer *p, const struct ikev1_sa_pld *sa, uint16_t encap,
                    struct v1_qm *q, struct ikev1_prop *chosen);
int ikev1_p2_check(const struct ike_peer *p, const struct ikev1_sa_pld *sa, uint16_t encap,
                   struct v1_qm *q);

/* ikev1_natt.c: NAT-D (RFC 3947 §3.2), the encapsulation mode (§5.1), NAT-OA (§5.2) */
int ikev1_natd_add(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e);
int ikev1_natd_take(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m,
                    const struct sockaddr_storage *src, const struct sockaddr_storage *dst);
bool ikev1_udp_encap(const struct ike_sa *sa);
uint16_t ikev1_encap_mode(const struct ike_sa *sa);
void ikev1_natoa_add(struct ikev1_enc *e, const struct ike_sa *sa, bool qm_initiator);
bool ikev1_id_is_natoa(const struct ikev1_id *id, const struct ikev1_natoa *oa);

/* ikev1_id.c: identities */
void ikev1_local_id(const struct ike_sa *sa, struct ike_id *id);
bool ikev1_remote_id_ok(const struct ike_sa *sa, const struct ikev1_id *got);
void ikev1_put_own_id(struct ikev1_enc *e, const struct ike_sa *sa);
void ikev1_put_addr_id(struct ikev1_enc *e, const struct sockaddr_storage *a);
bool ikev1_addr_id_ok(const struct ikev1_id *id, const struct sockaddr_storage *a);

/*
 * exchanges; src/dst: the datagram's addresses, for NAT-D and for following
 * the peer once a message is authenticated (RFC 3947 §4)
 */
int ikev1_main_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_main_respond1(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                        const struct ikev1_msg *m, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst);
int ikev1_main_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst);
/* ikev1_main.c, shared with Aggressive Mode */
struct ike_sa *ikev1_responder_sa(struct ike_ctx *ctx, struct ike_peer *p, ike_time_t now,
                                  const struct ikev1_msg *m, const struct ike_suite *suite,
                                  uint32_t life_s);
int ikev1_new_cookie(struct ike_ctx *ctx, uint64_t *c);
int ikev1_put_our_sa(struct ike_sa *sa, struct ikev1_enc *e, bool aggressive);
int ikev1_make_ke(struct ike_ctx *ctx, struct ike_sa *sa);
bool ikev1_take_ke(struct ike_sa *sa, const struct ikev1_msg *m);
void ikev1_put_ke_nonce(struct ike_sa *sa, struct ikev1_enc *e);
int ikev1_put_id_hash(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e);
uint16_t ikev1_check_auth(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m,
                          int perr, const char **why);
bool ikev1_garbage_again(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt,
                         size_t len);
int ikev1_auth_refused(struct ike_ctx *ctx, struct ike_sa *sa, uint16_t n, const char *why);
/* ikev1_quick.c: RFC 2407 §4.6.3.1, the responder's shorter lifetime (life_kb may be NULL) */
void ikev1_responder_lifetime(const struct ikev1_msg *m, uint8_t proto, uint32_t *life_s,
                              uint64_t *life_kb);
int ikev1_aggr_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_aggr_respond1(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                        const struct ikev1_msg *m, const struct sockaddr_storage *src,
                        const struct sockaddr_storage *dst);
int ikev1_aggr_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst);
void ikev1_phase1_done(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_quick_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_quick_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                      size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                      const struct sockaddr_storage *dst);
int ikev1_info_input(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, const uint8_t *pkt,
                     size_t len, struct ikev1_msg *m, const struct sockaddr_storage *src,
                     const struct sockaddr_storage *dst);
int ikev1_info_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint16_t notify,
                    const uint8_t *spi, uint8_t proto, const uint8_t *data, size_t dlen);
int ikev1_dpd_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);

/* ikev1_collision.c: Quick Modes of both sides at once */
void ikev1_qm_cross_check(struct ike_sa *sa, struct v1_qm *q);
struct v1_qm *ikev1_qm_cross_first(struct ike_sa *sa, const struct v1_qm *q);
int ikev1_qm_settle(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, struct v1_qm *q,
                    struct v1_qm *first, ike_time_t soft_at, ike_time_t hard_at);

#endif
