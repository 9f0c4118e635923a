/*
 * ikecore: IKEv1 / IKEv2 with pre-shared keys, as a sans-I/O state machine.
 *
 * The core owns no socket, no clock and no source of randomness. The caller
 * (tunneld, a test, a fuzzer) feeds it received datagrams, the current time
 * and commands; it answers with events: datagrams to send, SAs up and down
 * (with everything the kernel needs to install them) and errors. Every
 * context is independent: no global state, many contexts per process.
 *
 * Typical loop:
 *     ike_input(ctx, now, pkt, len, &src, &dst);   or  ike_tick(ctx, now);
 *     while (ike_next_event(ctx, &ev) == 1) handle(&ev);
 *     sleep until ike_next_deadline(ctx)
 */
#ifndef IKECORE_H
#define IKECORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Milliseconds on a monotonic clock chosen by the caller. */
typedef uint64_t ike_time_t;
#define IKE_TIME_NEVER UINT64_MAX

/* UDP ports: IKE, and NAT traversal (RFC 7296 §2.23, RFC 3947/3948). */
#define IKE_PORT 500
#define IKE_NATT_PORT 4500

/* Return values of every function that can fail. */
enum ike_status {
    IKE_OK = 0,
    IKE_ERR_INVAL = -1,    /* bad argument from the caller */
    IKE_ERR_NOMEM = -2,
    IKE_ERR_NOPEER = -3,   /* no such peer id */
    IKE_ERR_CRYPTO = -4,   /* OpenSSL failed or the randomness callback did */
    IKE_ERR_STATE = -5,    /* command not possible in the current state */
    IKE_ERR_DROPPED = -6,  /* input dropped; counted, see ike_stats */
};

/*
 * Algorithm identifiers: the IKEv2 IANA transform IDs (RFC 7296 §3.3.2 and
 * the IANA registry). IKEv1 code maps them to its own numbers on the wire.
 */
enum ike_encr {
    IKE_ENCR_NONE = 0,
    IKE_ENCR_3DES = 3,          /* legacy profiles only */
    IKE_ENCR_AES_CBC = 12,
    IKE_ENCR_AES_GCM_16 = 20,
};
enum ike_prf {
    IKE_PRF_NONE = 0,
    IKE_PRF_HMAC_SHA1 = 2,      /* IKEv1 and legacy only */
    IKE_PRF_HMAC_SHA2_256 = 5,
    IKE_PRF_HMAC_SHA2_384 = 6,
    IKE_PRF_HMAC_SHA2_512 = 7,
};
enum ike_integ {
    IKE_INTEG_NONE = 0,
    IKE_INTEG_HMAC_SHA1_96 = 2,
    IKE_INTEG_HMAC_SHA2_256_128 = 12,
    IKE_INTEG_HMAC_SHA2_384_192 = 13,
    IKE_INTEG_HMAC_SHA2_512_256 = 14,
};
enum ike_dh_group { /* not "enum ike_dh": crypto.h has struct ike_dh, same tag namespace */
    IKE_DH_NONE = 0,
    IKE_DH_MODP_1024 = 2,       /* legacy profiles only */
    IKE_DH_MODP_2048 = 14,
    IKE_DH_MODP_3072 = 15,
    IKE_DH_MODP_4096 = 16,
    IKE_DH_ECP_256 = 19,
    IKE_DH_ECP_384 = 20,
    IKE_DH_ECP_521 = 21,
    IKE_DH_CURVE25519 = 31,
};

/* One cipher suite. IKE SA: encr+prf+dh (+integ unless AEAD). ESP: encr (+integ unless AEAD), dh for PFS. */
struct ike_suite {
    uint16_t encr;      /* enum ike_encr */
    uint16_t key_bits;  /* 128 / 192 / 256 for AES */
    uint16_t prf;       /* enum ike_prf, IKE SA only */
    uint16_t integ;     /* enum ike_integ, IKE_INTEG_NONE with AEAD */
    uint16_t dh;        /* enum ike_dh_group; for ESP the PFS group, or NONE */
    bool esn;           /* ESP only: extended sequence numbers */
};

#define IKE_MAX_SUITES 8
#define IKE_MAX_PSK 256
#define IKE_MAX_ID 256

enum ike_id_type { /* RFC 7296 §3.5 values */
    IKE_ID_IPV4_ADDR = 1,
    IKE_ID_FQDN = 2,
    IKE_ID_IPV6_ADDR = 5,
    IKE_ID_KEY_ID = 11,
};

struct ike_id {
    uint8_t type;                  /* enum ike_id_type; 0 = the peer's own address */
    uint16_t len;
    uint8_t data[IKE_MAX_ID];
};

/* What the caller configures per remote peer. Copied by ike_peer_add. */
struct ike_peer_config {
    const char *name;              /* for events and logs; copied */
    uint8_t version;               /* 1 or 2 */
    bool ikev1_aggressive;         /* IKEv1 only; off unless the site asks */
    struct sockaddr_storage local; /* our WAN address, port 500 */
    struct sockaddr_storage remote;
    struct ike_id local_id, remote_id;
    const uint8_t *psk;            /* copied; wiped on removal */
    size_t psk_len;
    struct ike_suite ike[IKE_MAX_SUITES];
    unsigned n_ike;
    struct ike_suite esp[IKE_MAX_SUITES];
    unsigned n_esp;
    uint32_t ike_lifetime_s;       /* rekeyed at 85-90% (initiator); IKE_R_EXPIRED at 100%; 0 = none */
    uint32_t child_lifetime_s;
    uint64_t child_lifetime_kb;
    uint32_t dpd_interval_s;       /* liveness check of an idle SA; 0 = off */
    uint32_t nat_keepalive_s;      /* NAT keepalives (RFC 3948 §2.3) while a NAT is in front of us; 0 = off */
    uint32_t reqid;                /* opaque to the core; returned in child events */
};

/* A CHILD SA (IKEv2) or IPsec SA pair (IKEv1), ready for the kernel. */
#define IKE_MAX_KEY 96
struct ike_child_sa {
    uint32_t spi_in;               /* host byte order; the SPI we chose */
    uint32_t spi_out;              /* the peer's */
    struct ike_suite suite;        /* negotiated ESP suite (dh = PFS group used) */
    uint8_t encr_key_in[IKE_MAX_KEY], encr_key_out[IKE_MAX_KEY];
    uint16_t encr_key_len;         /* bytes, GCM salt (4 bytes) included */
    uint8_t integ_key_in[IKE_MAX_KEY], integ_key_out[IKE_MAX_KEY];
    uint16_t integ_key_len;        /* bytes; 0 with AEAD */
    uint8_t ip_proto;              /* traffic selector protocol: 47 (GRE) */
    bool transport;                /* always true here; kept explicit for the kernel */
    struct sockaddr_storage local, remote; /* the addresses as this side sees them */
    bool udp_encap;                /* NAT detected: ESP in UDP (RFC 3948) */
    uint16_t encap_sport, encap_dport; /* host order: our NAT-T port, the peer's as we see it */
    uint32_t lifetime_soft_s, lifetime_hard_s;
    uint64_t lifetime_soft_kb, lifetime_hard_kb;
    uint32_t reqid;
};

enum ike_event_type {
    IKE_EV_NONE = 0,
    IKE_EV_SEND,          /* send: a datagram */
    IKE_EV_IKE_UP,        /* ike: IKE SA (ISAKMP SA) established */
    IKE_EV_IKE_DOWN,      /* ike: deleted, expired or failed */
    IKE_EV_CHILD_UP,      /* child: install both directions */
    IKE_EV_CHILD_REKEYED, /* child: the new SA; old_spi_in/out: delete after a grace period */
    IKE_EV_CHILD_DOWN,    /* child: remove (keys zeroed) */
    IKE_EV_ERROR,         /* error: a negotiation failed, with the reason */
    IKE_EV_PEER_MOVED,    /* moved: the peer's NAT mapping changed; re-aim the peer's CHILD SAs */
    IKE_EV_CHILD_SWITCH,  /* child: a rekey's old SA (SPIs only) is deleted: send on the new one */
};

/*
 * Event sequences, and what the kernel ends up with when the caller installs
 * every CHILD_UP / CHILD_REKEYED (both directions, by SPI), removes the old
 * SPIs a CHILD_REKEYED names after a grace period (already gone: ignore),
 * and removes a CHILD_DOWN's SPIs at once. Every CHILD SA ever announced is
 * then removed exactly once; at rest there is one CHILD SA per peer.
 *
 *  - Rekey (RFC 7296 §2.8): CHILD_REKEYED(new, old SPIs). No CHILD_DOWN for
 *    the old SA. Once the old SA's DELETE is done (both sides have the new
 *    SA in both directions): CHILD_SWITCH(old SPIs), for a caller that holds
 *    the new outbound SA back in case the peer's inbound one is not in yet:
 *    it sends on the new one from then on. (A peer that never deletes the
 *    old SA: no CHILD_SWITCH.)
 *  - Both sides rekey at once (§2.8.1): both new SAs are made and announced,
 *    CHILD_REKEYED(new1, old) and CHILD_REKEYED(new2, old), in either order;
 *    then CHILD_DOWN(redundant one, IKE_R_REPLACED) (with reordered packets
 *    possibly before the second CHILD_REKEYED). The survivor is the same SA
 *    on both sides. IKEv1 Quick Modes of both sides at once: the same
 *    events, by the same nonce rule (ikev1_collision.c).
 *  - IKE SA rekey (§2.8.2; both at once too): IKE_UP for each new IKE SA,
 *    IKE_DOWN(IKE_R_REPLACED) for the old and any redundant one. The CHILD
 *    SA moves to the survivor: no CHILD events.
 *  - Both sides initiate at once: IKE_UP + CHILD_UP twice, then CHILD_DOWN
 *    and IKE_DOWN (IKE_R_REPLACED) for the pair both sides drop.
 *  - The peer restarted or lost its SAs (INITIAL_CONTACT, §2.4): IKE_UP
 *    (new), CHILD_DOWN + IKE_DOWN (IKE_R_REPLACED) for the stale ones, then
 *    CHILD_UP (new): removal before installation.
 *  - IKE SA lifetime (ike_lifetime_s) reached without a successful rekey:
 *    ERROR, CHILD_DOWN, IKE_DOWN, all IKE_R_EXPIRED.
 */

/* Why a negotiation failed or an SA went down. */
enum ike_reason {
    IKE_R_NONE = 0,
    IKE_R_NO_PROPOSAL_CHOSEN,
    IKE_R_AUTHENTICATION_FAILED,
    IKE_R_TS_UNACCEPTABLE,
    IKE_R_INVALID_KE_PAYLOAD,
    IKE_R_INVALID_SYNTAX,
    IKE_R_INVALID_ID,
    IKE_R_TIMEOUT,        /* retransmissions exhausted */
    IKE_R_DEAD_PEER,      /* liveness / DPD failed */
    IKE_R_DELETED_BY_PEER,
    IKE_R_DELETED_LOCALLY,
    IKE_R_EXPIRED,
    IKE_R_REPLACED,       /* rekeyed, or the peer restarted (INITIAL_CONTACT) */
    IKE_R_INTERNAL,
};

struct ike_event {
    enum ike_event_type type;
    uint32_t peer_id;            /* from ike_peer_add; 0 when none applies */
    const char *peer_name;
    union {
        struct {
            const uint8_t *data; /* valid until the next ike_next_event call */
            size_t len;
            struct sockaddr_storage src, dst;
            /*
             * From IKE_NATT_PORT the caller puts the non-ESP marker (4 zero
             * bytes, RFC 3948 §2.2) before data, except for a NAT keepalive:
             * the one byte 0xFF, sent as it is.
             */
            bool keepalive;
        } send;
        struct {
            uint64_t spi_i, spi_r; /* IKE SPIs / ISAKMP cookies */
            uint8_t version;
            bool initiator;
            struct ike_suite suite;
            bool nat_local, nat_remote; /* NAT detected in front of us / the peer */
            enum ike_reason reason;     /* IKE_DOWN only */
        } ike;
        struct {
            struct ike_child_sa sa;     /* zeroed after the next ike_next_event call */
            uint32_t old_spi_in, old_spi_out; /* CHILD_REKEYED only */
            enum ike_reason reason;     /* CHILD_DOWN only */
        } child;
        struct {
            enum ike_reason reason;
            const char *detail;  /* a sentence for the log; never holds secrets */
        } error;
        /*
         * An authenticated message came from a new address or port of a
         * peer behind a NAT (RFC 7296 §2.23; IKEv1 likewise): IKE now talks
         * to remote, and every CHILD SA of the peer (reqid), the ones in a
         * rekey's grace period too, must send its UDP-encapsulated ESP there.
         */
        struct {
            struct sockaddr_storage local, remote, old_remote;
            uint32_t reqid;
        } moved;
    } u;
};

/* Randomness is the caller's: production passes RAND_bytes, tests a seeded stream. */
typedef int (*ike_random_fn)(void *arg, uint8_t *buf, size_t len);

struct ike_ctx_config {
    ike_random_fn random;
    void *random_arg;
    unsigned retransmit_base_ms;   /* first retransmission; doubles each time (default 500) */
    unsigned retransmit_tries;     /* give up after this many (default 5) */
    unsigned cookie_threshold;     /* half-open IKE SAs before COOKIEs are demanded (default 64) */
};

/* Counters of dropped input, by reason; never reset. */
struct ike_stats {
    uint64_t rx_packets, tx_packets;
    uint64_t drop_truncated;       /* shorter than a header or a length says */
    uint64_t drop_bad_length;      /* lengths that do not add up */
    uint64_t drop_unknown_spi;     /* no SA for this SPI */
    uint64_t drop_bad_exchange;    /* payload or exchange not allowed here */
    uint64_t drop_critical;        /* unknown payload with the critical bit */
    uint64_t drop_integrity;       /* ICV / HASH check failed */
    uint64_t drop_decrypt;
    uint64_t drop_bad_msgid;
    uint64_t drop_version;
    uint64_t drop_cookie;          /* COOKIE missing or wrong */
    uint64_t retransmits, cache_replays;
};

struct ike_ctx;

struct ike_ctx *ike_ctx_new(const struct ike_ctx_config *cfg);
void ike_ctx_free(struct ike_ctx *ctx);

/* Peers. ids are nonzero and never reused within a context. */
int ike_peer_add(struct ike_ctx *ctx, const struct ike_peer_config *pc, uint32_t *peer_id);
int ike_peer_remove(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id); /* sends DELETE */

/* Commands. */
int ike_initiate(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id);
int ike_rekey_child(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id);
int ike_rekey_ike(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id);
int ike_delete_child(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id);
int ike_delete_ike(struct ike_ctx *ctx, ike_time_t now, uint32_t peer_id);

/*
 * A datagram received on UDP 500 (or 4500 with the non-ESP marker already
 * stripped; keepalives dropped by the caller). src/dst are the packet's
 * addresses and ports. With a NAT detected (§2.23) the core moves the IKE SA
 * to port 4500 itself: its SEND events say which ports to use. Returns IKE_OK or
 * IKE_ERR_DROPPED (the reason is counted in ike_stats); never crashes on any
 * input, never reads past len.
 */
int ike_input(struct ike_ctx *ctx, ike_time_t now, const uint8_t *pkt, size_t len,
              const struct sockaddr *src, const struct sockaddr *dst);

/* Run expired timers: retransmissions, rekeys, liveness, half-open expiry. */
int ike_tick(struct ike_ctx *ctx, ike_time_t now);
ike_time_t ike_next_deadline(const struct ike_ctx *ctx);

/* 1 and *ev filled, or 0 when the queue is empty. */
int ike_next_event(struct ike_ctx *ctx, struct ike_event *ev);

const struct ike_stats *ike_get_stats(const struct ike_ctx *ctx);

/* What an operator's `show crypto isakmp sa` needs of one IKE SA. */
enum ike_sa_phase {
    IKE_PHASE_CONNECTING = 1, /* IKE_SA_INIT / IKE_AUTH under way */
    IKE_PHASE_ESTABLISHED,
    IKE_PHASE_REKEYING,       /* established, a CREATE_CHILD_SA of ours outstanding */
    IKE_PHASE_DELETING,       /* replaced, or a DELETE outstanding */
};
struct ike_sa_info {
    uint64_t spi_i, spi_r;
    uint8_t version;
    bool initiator;
    enum ike_sa_phase phase;
    struct ike_suite suite;        /* zero until negotiated */
    struct sockaddr_storage local, remote;
    bool nat_local, nat_remote;
    ike_time_t created, established; /* established: 0 until then */
    ike_time_t hard_expiry;        /* 0: no lifetime */
    uint32_t child_spi_in, child_spi_out; /* the CHILD SA it carries; 0: none */
};
/* The peer's IKE SAs, up to max of them into out; returns how many there are. */
unsigned ike_peer_sas(const struct ike_ctx *ctx, uint32_t peer_id, struct ike_sa_info *out,
                      unsigned max);
const char *ike_phase_str(enum ike_sa_phase p); /* "ESTABLISHED", ... */

/* Names for logs. */
const char *ike_reason_str(enum ike_reason r);
const char *ike_event_str(enum ike_event_type t);

#endif
