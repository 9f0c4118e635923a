/*
 * ikecore internals shared by ctx.c, sa.c and the exchange files: the
 * context, peers, IKE SAs and their one CHILD SA. Not part of the API.
 */
#ifndef IKECORE_IKE_INT_H
#define IKECORE_IKE_INT_H

#include "crypto.h"
#include "ikecore.h"
#include "ikev1_pld.h"
#include "ikev2_pld.h"

#define IKE_NONCE_LEN 32
#define IKE_MSG_MAX 8192

struct ike_peer {
    uint32_t id;
    char name[64];
    struct ike_peer_config cfg;     /* psk points at psk below */
    uint8_t psk[IKE_MAX_PSK];
    struct ike_peer *next;
};

enum ike_sa_state {
    SA_INIT_SENT,       /* initiator: IKE_SA_INIT request out */
    SA_AUTH_SENT,       /* initiator: IKE_AUTH request out */
    SA_INIT_DONE,       /* responder: IKE_SA_INIT answered, waiting for IKE_AUTH */
    SA_ESTABLISHED,
};

/* What the outstanding request was for, to interpret its response. */
enum ike_req_kind {
    REQ_NONE, REQ_INIT, REQ_AUTH, REQ_DEL_CHILD, REQ_DEL_IKE, REQ_DPD, REQ_DEL_OLD_CHILD,
    REQ_REKEY_CHILD, REQ_REKEY_IKE, REQ_DEL_DUP_CHILD,
};

struct ike_child {
    bool up;
    uint32_t spi_in, spi_out;
    struct ike_suite suite;
    bool ours;                      /* IKEv1: made by a Quick Mode we initiated */
};

struct ike_sa {
    struct ike_peer *peer;
    bool initiator;
    enum ike_sa_state state;
    uint64_t spi_i, spi_r;
    struct ike_suite suite;
    struct ikev2_keys keys;
    struct ike_dh *dh;
    uint16_t ke_group;
    bool ke_retried;
    uint8_t ni[256], nr[256];       /* §3.9: up to 256 octets */
    size_t ni_len, nr_len;
    uint8_t cookie[64];
    size_t cookie_len;
    unsigned cookie_tries;
    uint8_t *msg1, *msg2;           /* RealMessage1/2 of §2.15 */
    size_t msg1_len, msg2_len;
    /* prf(Shared Secret, "Key Pad for IKEv2") of §2.15, for both AUTH values; wiped once up. */
    uint8_t psk_pad[IKE_MAX_PRF_LEN];
    uint16_t psk_pad_prf;           /* the PRF it was made with; 0: not made */
    struct sockaddr_storage local, remote;
    bool nat_local, nat_remote;
    uint32_t msgid_next;            /* our next request */
    uint32_t msgid_peer;            /* the peer's next request */
    /* Outstanding request (window size 1, §2.3). */
    enum ike_req_kind req_kind;
    uint8_t *req;
    size_t req_len;
    unsigned req_tries;
    ike_time_t req_deadline;
    /* Last response sent, replayed for a retransmitted request (§2.1). */
    uint8_t *resp;
    size_t resp_len;
    uint32_t resp_msgid;
    bool have_resp;
    struct ike_child child;
    uint8_t child_prop_num;
    /* CHILD SA rekey (§1.3.3, §2.8): the new one being negotiated, the old one being deleted. */
    struct ike_child rk_child, old_child;
    uint8_t rk_nonce[IKE_NONCE_LEN];
    struct ike_dh *rk_dh;
    uint32_t rk_target;             /* spi_in of the CHILD SA our rekey replaces */
    /* §2.8.1: the peer's CHILD rekey answered while ours was out; the lower nonce of its exchange. */
    bool rk_collided;
    uint8_t coll_nonce[256];
    size_t coll_nonce_len;
    struct ike_child dup_child;     /* the redundant one of two new CHILD SAs, until deleted */
    uint64_t rk_spi;                /* IKE SA rekey (§1.3.2): our SPI for the new SA */
    uint64_t coll_spi_i, coll_spi_r; /* §2.8.2: the new IKE SA of the peer's crossing rekey */
    bool replaced;                  /* rekeyed or redundant: no longer used, going away */
    bool del_pending;               /* send DELETE for this IKE SA once no request is out */
    enum ike_req_kind retry_kind;   /* §2.25: after TEMPORARY_FAILURE, try again at retry_at */
    ike_time_t retry_at;
    ike_time_t ike_rekey_at, ike_hard_at, up_at;
    ike_time_t created, last_rx, expire_at, dpd_at, child_soft_at, child_hard_at;
    ike_time_t keepalive_at;        /* next NAT keepalive; 0: none due */
    ike_time_t dpd_give_up;         /* the liveness check in flight fails at this time */
    struct ikev1_sa *v1;            /* IKEv1 (ISAKMP SA) state; NULL for IKEv2 */
    struct ike_sa *next;
};

struct qevent {
    struct ike_event ev;
    uint8_t *data;                  /* owned SEND bytes */
    char name[64];                  /* peer_name, which may outlive its peer */
};

struct ike_ctx {
    struct ike_ctx_config cfg;
    struct ike_crypto *cr;
    struct ike_stats stats;
    struct ike_peer *peers;
    uint32_t next_peer_id;
    struct ike_sa *sas;
    struct qevent *q;
    size_t q_head, q_len, q_cap;
    struct qevent cur;              /* the event last handed out */
    uint8_t cookie_secret[32], cookie_prev[32]; /* §2.6, rotated */
    ike_time_t cookie_rotate_at;
    bool cookie_secret_set;
    struct ikev2_msg msg;           /* the message being processed */
    struct ikev1_msg msg1;          /* the same, IKEv1 */
    uint8_t buf[IKE_MSG_MAX];       /* scratch for building a message */
    uint8_t inner[IKE_MSG_MAX];     /* scratch for SK plaintext being built */
    uint8_t plain[IKE_MSG_MAX];     /* scratch for SK plaintext */
};

/* ctx.c: events */
int ike_emit(struct ike_ctx *ctx, const struct ike_event *ev, const uint8_t *data, size_t len);
void ike_emit_error(struct ike_ctx *ctx, struct ike_peer *p, enum ike_reason r, const char *detail);
int ike_rand(struct ike_ctx *ctx, void *buf, size_t len);

/* lifetime.c: hard minus 10-15 % (jitter from ike_rand); 0 stays 0 */
uint64_t ike_soft_life(struct ike_ctx *ctx, uint64_t hard);

/* sa.c */
struct ike_sa *ike_sa_new(struct ike_ctx *ctx, struct ike_peer *p, bool initiator);
void ike_sa_destroy(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason why, bool event);
struct ike_sa *ike_sa_find(struct ike_ctx *ctx, const struct ikev2_hdr *h);
struct ike_sa *ike_sa_by_peer(struct ike_ctx *ctx, const struct ike_peer *p);
struct ike_sa *ike_sa_current(struct ike_ctx *ctx, const struct ike_peer *p);
unsigned ike_sa_half_open(const struct ike_ctx *ctx);
int ike_send_raw(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                 const struct sockaddr_storage *dst, const uint8_t *d, size_t n, struct ike_peer *p);
int ike_sa_send_request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        enum ike_req_kind kind, const uint8_t *d, size_t n);
int ike_sa_send_response(struct ike_ctx *ctx, struct ike_sa *sa, uint32_t msgid,
                         const uint8_t *d, size_t n);
void ike_sa_request_done(struct ike_sa *sa);
void ike_sa_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
ike_time_t ike_sa_deadline(const struct ike_ctx *ctx, const struct ike_sa *sa);
void ike_child_down(struct ike_ctx *ctx, struct ike_sa *sa, enum ike_reason why);
void ike_child_report_down(struct ike_ctx *ctx, struct ike_sa *sa, struct ike_child *c,
                           enum ike_reason why);
bool ike_sa_child_busy(const struct ike_sa *sa);
void ike_child_switch(struct ike_ctx *ctx, struct ike_sa *sa, struct ike_child *c);

/*
 * lifetime.c: a liveness check sent at `sent` (the SA idle for one interval)
 * is abandoned two intervals later, however many retransmissions that
 * allows: a dead peer is declared within three intervals of its last word.
 */
ike_time_t ike_dpd_give_up(const struct ike_sa *sa, ike_time_t sent);

/* natt.c: NAT traversal of both versions */
uint16_t ike_addr_port(const struct sockaddr_storage *a);
bool ike_addr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
struct ike_peer *ike_peer_by_addr(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                                  uint8_t version);
bool ike_sa_nat(const struct ike_sa *sa);
void ike_sa_float(struct ike_sa *sa);    /* to IKE_NATT_PORT, both ends */
void ike_sa_follow(struct ike_ctx *ctx, struct ike_sa *sa, const struct sockaddr_storage *src,
                   const struct sockaddr_storage *dst);
void ike_child_addrs(const struct ike_sa *sa, struct ike_child_sa *c);
void ike_sa_keepalive(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
ike_time_t ike_sa_keepalive_deadline(const struct ike_sa *sa);

/* proposal.c */
unsigned ike_props_from_suites(const struct ike_suite *s, unsigned n, uint8_t proto,
                               const uint8_t *spi, uint8_t spi_size, bool with_dh,
                               struct ikev2_prop *out);
bool ike_prop_match(const struct ikev2_prop *p, const struct ike_suite *s, uint8_t proto,
                    bool with_dh);
/* First initiator proposal matching one of ours (§2.7); -1 if none. *suite: ours. */
int ike_prop_select(const struct ikev2_sa_pld *sa, const struct ike_suite *ours, unsigned n,
                    uint8_t proto, bool with_dh, struct ike_suite *suite);

/* ikev2_msg.c */
int ikev2_msg_seal(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t exchange, bool response,
                   uint32_t msgid, const uint8_t *inner, size_t inner_len, uint8_t first,
                   uint8_t *out, size_t cap, size_t *out_len);
int ikev2_msg_open(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt, size_t len,
                   struct ikev2_msg *m);
int ikev2_natd_hash(struct ike_ctx *ctx, uint64_t spi_i, uint64_t spi_r,
                    const struct sockaddr_storage *a, uint8_t out[20]);
int ikev2_psk_auth(struct ike_ctx *ctx, struct ike_sa *sa, bool initiator_octets,
                   const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *out_len);
void ikev2_psk_pad_wipe(struct ike_sa *sa);
void ikev2_local_id(const struct ike_sa *sa, struct ike_id *id);
void ikev2_remote_id(const struct ike_sa *sa, struct ike_id *id);

/* input.c */
void ike_count_perr(struct ike_ctx *ctx, int perr);

/* IKEv1 (ikev1_*.c) behind the same entry points */
int ikev1_input(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                const struct sockaddr_storage *src, const struct sockaddr_storage *dst);
int ikev1_initiate(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
void ikev1_sa_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
ike_time_t ikev1_sa_deadline(const struct ike_sa *sa);
void ikev1_sa_free(struct ike_sa *sa);
int ikev1_delete_child(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_delete_ike(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_rekey_child(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_rekey_ike(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev1_send_delete(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, bool ike,
                      uint32_t spi);

/* exchanges */
int ikev2_init_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_cookie_make(struct ike_ctx *ctx, ike_time_t now, const struct ikev2_msg *m,
                      const struct sockaddr_storage *src, bool prev, uint8_t out[32]);
int ikev2_select_ike(const struct ike_peer *p, const struct ikev2_msg *m,
                     struct ike_suite *suite, uint16_t *want_group);
int ikev2_send_init_response(struct ike_ctx *ctx, struct ike_sa *sa, const uint8_t *pkt,
                             size_t len, const struct ikev2_prop *chosen);
int ikev2_init_derive(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_ke *ke);
void ikev2_put_natd(struct ike_ctx *ctx, struct ikev2_enc *e, const struct ike_sa *sa, int *rc);
void ikev2_check_natd(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m,
                      uint64_t spi_r);
int ikev2_init_respond(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
                       const struct ikev2_msg *m, const struct sockaddr_storage *src,
                       const struct sockaddr_storage *dst);
int ikev2_init_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const uint8_t *pkt, size_t len, const struct ikev2_msg *m);
/* ikev2_child.c */
void ikev2_ts_ours(const struct ike_sa *sa, const struct ikev2_msg *req, struct ikev2_ts *ts_i,
                   struct ikev2_ts *ts_r);
bool ikev2_ts_offer_ok(const struct ike_sa *sa, const struct ikev2_msg *m);
bool ikev2_ts_answer_ok(const struct ike_sa *sa, const struct ikev2_msg *m);
int ikev2_new_child_spi(struct ike_ctx *ctx, uint32_t *spi);
/* What KEYMAT (§2.17) is made of, and which event carries the result. */
struct ikev2_kmat {
    const uint8_t *ni, *nr, *g_ir;
    size_t ni_len, nr_len, g_len;
    bool initiator;                 /* of the exchange that created the CHILD SA */
    enum ike_event_type type;       /* CHILD_UP or CHILD_REKEYED */
    uint32_t old_in, old_out;
    struct ike_child *c;            /* the SA announced; NULL: sa->child (and its timers) */
};
int ikev2_child_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                   const struct ikev2_kmat *k);
int ikev2_child_up_first(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
uint16_t ikev2_child_esp(struct ike_sa *sa, const struct ikev2_msg *m, bool with_dh,
                         struct ike_child *c, const char **why);
uint16_t ikev2_child_accept(struct ike_sa *sa, const struct ikev2_msg *m, const char **why);
uint16_t ikev2_child_check(struct ike_sa *sa, const struct ikev2_msg *m, const char **why);
enum ike_reason ikev2_notify_reason(uint16_t t);

int ikev2_auth_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_auth_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       const struct ikev2_msg *m);
int ikev2_auth_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const struct ikev2_msg *m);
int ikev2_info_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       const struct ikev2_msg *m);
int ikev2_info_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                        const struct ikev2_msg *m);
int ikev2_info_request(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       enum ike_req_kind kind);
int ikev2_seal_send(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now, uint8_t exchange,
                    bool response, uint32_t msgid, struct ikev2_enc *e, enum ike_req_kind kind);
int ikev2_rekey_child_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_create_child_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                               const struct ikev2_msg *m);
int ikev2_rekey_child_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                               const struct ikev2_msg *m);
int ikev2_rekey_ike_start(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_rekey_ike_respond(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                            const struct ikev2_msg *m);
int ikev2_rekey_ike_response(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                             const struct ikev2_msg *m);
void ikev2_emit_ike_up(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_notify_response(struct ike_ctx *ctx, struct ike_sa *sa, uint8_t exchange,
                          uint32_t msgid, uint16_t type);

/* ikev2_collision.c: crossing exchanges (§2.8.1, §2.8.2, §2.25), duplicates, INITIAL_CONTACT (§2.4) */
int ikev2_nonce_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
const uint8_t *ikev2_nonce_min(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                               size_t *len);
bool ikev2_sa_lowest_nonce(const struct ike_sa *a, const struct ike_sa *b);
void ikev2_move_children(struct ike_sa *from, struct ike_sa *to);
void ikev2_retry_later(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now,
                       enum ike_req_kind kind);
void ikev2_retry_tick(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_sa_redundant(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);
int ikev2_settle_ike_collision(struct ike_ctx *ctx, struct ike_sa *old, struct ike_sa *ours,
                               ike_time_t now);
void ikev2_collision_deleted(struct ike_ctx *ctx, struct ike_sa *sa);
void ikev2_initial_contact(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev2_msg *m);
int ikev2_dup_check(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now);

#endif
