/*
 * IKEv2 message and payload formats (RFC 7296 §3). One decoder per payload
 * type, each taking (buffer, offset, length) of the payload body and checking
 * the length before reading; one encoder per payload type over a wire_wr.
 * Decoded payloads point into the caller's buffer.
 */
#ifndef IKECORE_IKEV2_PLD_H
#define IKECORE_IKEV2_PLD_H

#include "wire.h"

#define IKEV2_HDR_LEN 28
#define IKEV2_GEN_LEN 4

enum ikev2_exchange {
    IKEV2_IKE_SA_INIT = 34,
    IKEV2_IKE_AUTH = 35,
    IKEV2_CREATE_CHILD_SA = 36,
    IKEV2_INFORMATIONAL = 37,
};

#define IKEV2_FLAG_INITIATOR 0x08
#define IKEV2_FLAG_VERSION 0x10
#define IKEV2_FLAG_RESPONSE 0x20

enum ikev2_pld_type {
    IKEV2_PLD_NONE = 0,
    IKEV2_PLD_SA = 33,
    IKEV2_PLD_KE = 34,
    IKEV2_PLD_IDI = 35,
    IKEV2_PLD_IDR = 36,
    IKEV2_PLD_CERT = 37,
    IKEV2_PLD_CERTREQ = 38,
    IKEV2_PLD_AUTH = 39,
    IKEV2_PLD_NONCE = 40,
    IKEV2_PLD_NOTIFY = 41,
    IKEV2_PLD_DELETE = 42,
    IKEV2_PLD_VENDOR = 43,
    IKEV2_PLD_TSI = 44,
    IKEV2_PLD_TSR = 45,
    IKEV2_PLD_SK = 46,
    IKEV2_PLD_CP = 47,
    IKEV2_PLD_EAP = 48,
};

enum ikev2_notify_type {
    IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    IKEV2_N_INVALID_IKE_SPI = 4,
    IKEV2_N_INVALID_MAJOR_VERSION = 5,
    IKEV2_N_INVALID_SYNTAX = 7,
    IKEV2_N_INVALID_MESSAGE_ID = 9,
    IKEV2_N_INVALID_SPI = 11,
    IKEV2_N_NO_PROPOSAL_CHOSEN = 14,
    IKEV2_N_INVALID_KE_PAYLOAD = 17,
    IKEV2_N_AUTHENTICATION_FAILED = 24,
    IKEV2_N_SINGLE_PAIR_REQUIRED = 34,
    IKEV2_N_NO_ADDITIONAL_SAS = 35,
    IKEV2_N_TS_UNACCEPTABLE = 38,
    IKEV2_N_TEMPORARY_FAILURE = 43,
    IKEV2_N_CHILD_SA_NOT_FOUND = 44,
    IKEV2_N_ERROR_MAX = 16383,
    IKEV2_N_INITIAL_CONTACT = 16384,
    IKEV2_N_NAT_DETECTION_SOURCE_IP = 16388,
    IKEV2_N_NAT_DETECTION_DESTINATION_IP = 16389,
    IKEV2_N_COOKIE = 16390,
    IKEV2_N_USE_TRANSPORT_MODE = 16391,
    IKEV2_N_REKEY_SA = 16393,
    IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
};

enum ikev2_proto { IKEV2_PROTO_IKE = 1, IKEV2_PROTO_AH = 2, IKEV2_PROTO_ESP = 3 };
enum ikev2_xf_type {
    IKEV2_XF_ENCR = 1, IKEV2_XF_PRF = 2, IKEV2_XF_INTEG = 3, IKEV2_XF_DH = 4, IKEV2_XF_ESN = 5,
};
#define IKEV2_ATTR_KEY_LENGTH 14
#define IKEV2_AUTH_PSK 2
#define IKEV2_TS_IPV4 7
#define IKEV2_TS_IPV6 8

/* Why a message was refused; maps onto the ike_stats counters. */
enum ikev2_perr {
    IKEV2_P_OK = 0,
    IKEV2_P_TRUNCATED,     /* a length points past the buffer */
    IKEV2_P_BAD_LENGTH,    /* lengths that do not add up */
    IKEV2_P_SYNTAX,        /* a field value that is not allowed */
    IKEV2_P_CRITICAL,      /* unknown payload with the critical bit */
    IKEV2_P_NOT_ALLOWED,   /* payload not allowed in this exchange or repeated */
    IKEV2_P_VERSION,
};

struct ikev2_hdr {
    uint64_t spi_i, spi_r;
    uint8_t next, version, exchange, flags;
    uint32_t msgid, length;
};

#define IKEV2_MAX_XF 24
#define IKEV2_MAX_PROPS 16
struct ikev2_xf {
    uint8_t type;
    uint16_t id;
    uint16_t key_bits;     /* 0: no Key Length attribute */
};
struct ikev2_prop {
    uint8_t num, proto, spi_size;
    uint8_t spi[8];
    uint8_t n_xf;
    struct ikev2_xf xf[IKEV2_MAX_XF];
};
struct ikev2_sa_pld {
    uint8_t n;
    struct ikev2_prop p[IKEV2_MAX_PROPS];
};

struct ikev2_ke {
    uint16_t group;
    const uint8_t *data;
    size_t len;
};

struct ikev2_id {
    uint8_t type;
    const uint8_t *data;   /* identification data */
    size_t len;
    const uint8_t *body;   /* the whole body: IDi' of §2.15 */
    size_t body_len;
};

struct ikev2_auth {
    uint8_t method;
    const uint8_t *data;
    size_t len;
};

struct ikev2_notify {
    uint8_t proto, spi_size;
    uint16_t type;
    const uint8_t *spi;
    const uint8_t *data;
    size_t len;
};

#define IKEV2_MAX_DEL_SPI 16
struct ikev2_delete {
    uint8_t proto, spi_size;
    uint16_t n;            /* SPIs present (at most IKEV2_MAX_DEL_SPI kept) */
    uint32_t spi[IKEV2_MAX_DEL_SPI];
};

#define IKEV2_MAX_TS 8
struct ikev2_ts {
    uint8_t type, proto;
    uint16_t sport, eport;
    uint8_t saddr[16], eaddr[16];  /* 4 bytes used for IPv4 */
};
struct ikev2_ts_pld {
    uint8_t n;
    struct ikev2_ts ts[IKEV2_MAX_TS];
};

#define IKEV2_MAX_NOTIFY 16
#define IKEV2_MAX_DELETE 4
/* A decoded message: the header, then the payloads of the outer or SK chain. */
struct ikev2_msg {
    struct ikev2_hdr hdr;
    uint64_t seen;         /* bit (type - 32) for each payload type present */
    struct ikev2_sa_pld sa;
    struct ikev2_ke ke;
    const uint8_t *nonce;
    size_t nonce_len;
    struct ikev2_id idi, idr;
    struct ikev2_auth auth;
    struct ikev2_notify notify[IKEV2_MAX_NOTIFY];
    unsigned n_notify;
    struct ikev2_delete del[IKEV2_MAX_DELETE];
    unsigned n_del;
    struct ikev2_ts_pld tsi, tsr;
    /* SK (§3.14): offset of its generic header in the message, body length, inner first type. */
    size_t sk_off, sk_len;
    uint8_t sk_first;
    uint8_t critical_type;  /* the unknown critical payload refused (for the notify) */
};

static inline bool ikev2_has(const struct ikev2_msg *m, uint8_t type)
{
    return type >= 32 && type < 96 && (m->seen >> (type - 32) & 1);
}

int ikev2_hdr_decode(const uint8_t *buf, size_t len, struct ikev2_hdr *h);
int ikev2_pld_sa(const uint8_t *buf, size_t off, size_t len, struct ikev2_sa_pld *out);
int ikev2_pld_ke(const uint8_t *buf, size_t off, size_t len, struct ikev2_ke *out);
int ikev2_pld_id(const uint8_t *buf, size_t off, size_t len, struct ikev2_id *out);
int ikev2_pld_auth(const uint8_t *buf, size_t off, size_t len, struct ikev2_auth *out);
int ikev2_pld_nonce(const uint8_t *buf, size_t off, size_t len, struct ikev2_msg *m);
int ikev2_pld_notify(const uint8_t *buf, size_t off, size_t len, struct ikev2_notify *out);
int ikev2_pld_delete(const uint8_t *buf, size_t off, size_t len, struct ikev2_delete *out);
int ikev2_pld_ts(const uint8_t *buf, size_t off, size_t len, struct ikev2_ts_pld *out);

/*
 * Decode the chain of payloads in buf[off..end) starting with type first.
 * inner: the chain is the plaintext of an SK payload. Checks which payloads
 * the exchange allows (§1.2-§1.5), rejects unknown critical payloads,
 * skips unknown non-critical ones. The SK payload must be the last.
 */
int ikev2_pld_chain(const uint8_t *buf, size_t off, size_t end, uint8_t first,
                    bool inner, struct ikev2_msg *m);
/* Header and outer chain of a whole message. */
int ikev2_msg_decode(const uint8_t *buf, size_t len, struct ikev2_msg *m);
const struct ikev2_notify *ikev2_find_notify(const struct ikev2_msg *m, uint16_t type);

/* Encoding: payloads are appended; each links itself into the previous one's Next Payload. */
struct ikev2_enc {
    struct wire_wr w;
    size_t next_off;       /* where the next payload's type goes; SIZE_MAX: into first */
    uint8_t first;
};
void ikev2_enc_init(struct ikev2_enc *e, uint8_t *buf, size_t cap, bool with_hdr);
void ikev2_put_hdr(struct ikev2_enc *e, const struct ikev2_hdr *h);
/* Set the header's Length to the bytes written; false if anything overflowed. */
bool ikev2_enc_finish(struct ikev2_enc *e);
size_t ikev2_pld_begin(struct ikev2_enc *e, uint8_t type);
void ikev2_pld_end(struct ikev2_enc *e, size_t start);
void ikev2_put_sa(struct ikev2_enc *e, const struct ikev2_prop *p, unsigned n);
void ikev2_put_ke(struct ikev2_enc *e, uint16_t group, const uint8_t *d, size_t n);
void ikev2_put_id(struct ikev2_enc *e, uint8_t pld, uint8_t type, const uint8_t *d, size_t n);
void ikev2_put_auth(struct ikev2_enc *e, uint8_t method, const uint8_t *d, size_t n);
void ikev2_put_nonce(struct ikev2_enc *e, const uint8_t *d, size_t n);
void ikev2_put_notify(struct ikev2_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t type, const uint8_t *d, size_t n);
void ikev2_put_delete(struct ikev2_enc *e, uint8_t proto, const uint32_t *spi, unsigned n);
void ikev2_put_ts(struct ikev2_enc *e, uint8_t pld, const struct ikev2_ts *ts, unsigned n);
void ikev2_put_vendor(struct ikev2_enc *e, const uint8_t *d, size_t n);

#endif
