/*
 * ISAKMP message and payload formats (RFC 2408 §3, the IPsec DOI of
 * RFC 2407 §4.4-§4.6, RFC 3706 for DPD). One decoder per payload type,
 * each taking (buffer, offset, length) of the payload body and checking the
 * length before reading; one encoder per payload type over a wire_wr.
 * Decoded payloads point into the caller's buffer.
 */
#ifndef IKECORE_IKEV1_PLD_H
#define IKECORE_IKEV1_PLD_H

#include "wire.h"

#define IKEV1_HDR_LEN 28
#define IKEV1_GEN_LEN 4
#define IKEV1_VERSION 0x10      /* major 1, minor 0 */
#define IKEV1_DOI_IPSEC 1
#define IKEV1_SIT_IDENTITY_ONLY 1

enum ikev1_exchange {
    IKEV1_EXCH_MAIN = 2,        /* Identity Protection */
    IKEV1_EXCH_AGGRESSIVE = 4,
    IKEV1_EXCH_INFO = 5,
    IKEV1_EXCH_QUICK = 32,
};

#define IKEV1_FLAG_ENC 0x01
#define IKEV1_FLAG_COMMIT 0x02
#define IKEV1_FLAG_AUTH_ONLY 0x04

enum ikev1_pld_type {
    IKEV1_PLD_NONE = 0,
    IKEV1_PLD_SA = 1,
    IKEV1_PLD_P = 2,
    IKEV1_PLD_T = 3,
    IKEV1_PLD_KE = 4,
    IKEV1_PLD_ID = 5,
    IKEV1_PLD_CERT = 6,
    IKEV1_PLD_CR = 7,
    IKEV1_PLD_HASH = 8,
    IKEV1_PLD_SIG = 9,
    IKEV1_PLD_NONCE = 10,
    IKEV1_PLD_N = 11,
    IKEV1_PLD_D = 12,
    IKEV1_PLD_VID = 13,
    IKEV1_PLD_NATD = 20,        /* RFC 3947 */
    IKEV1_PLD_NATOA = 21,
};

enum ikev1_notify_type {
    IKEV1_N_INVALID_PAYLOAD_TYPE = 1,
    IKEV1_N_INVALID_EXCHANGE_TYPE = 7,
    IKEV1_N_INVALID_MESSAGE_ID = 9,
    IKEV1_N_INVALID_SPI = 11,
    IKEV1_N_NO_PROPOSAL_CHOSEN = 14,
    IKEV1_N_PAYLOAD_MALFORMED = 16,
    IKEV1_N_INVALID_KEY_INFORMATION = 17,
    IKEV1_N_INVALID_ID_INFORMATION = 18,
    IKEV1_N_INVALID_HASH_INFORMATION = 23,
    IKEV1_N_AUTHENTICATION_FAILED = 24,
    IKEV1_N_ERROR_MAX = 8191,
    IKEV1_N_RESPONDER_LIFETIME = 24576,     /* RFC 2407 §4.6.3 */
    IKEV1_N_REPLAY_STATUS = 24577,
    IKEV1_N_INITIAL_CONTACT = 24578,
    IKEV1_N_R_U_THERE = 36136,              /* RFC 3706 §5 */
    IKEV1_N_R_U_THERE_ACK = 36137,
};

/* Protocol IDs (RFC 2407 §4.4.1) and transform IDs (§4.4.2, §4.4.4, RFC 4106 §8.1). */
enum { IKEV1_PROTO_ISAKMP = 1, IKEV1_PROTO_AH = 2, IKEV1_PROTO_ESP = 3 };
#define IKEV1_KEY_IKE 1
enum { IKEV1_ESP_3DES = 3, IKEV1_ESP_AES = 12, IKEV1_ESP_AES_GCM_16 = 20 };

/* Phase 1 attributes (RFC 2409 Appendix A). */
enum {
    IKEV1_A_ENCR = 1, IKEV1_A_HASH = 2, IKEV1_A_AUTH = 3, IKEV1_A_GROUP = 4,
    IKEV1_A_LIFE_TYPE = 11, IKEV1_A_LIFE_DURATION = 12, IKEV1_A_KEY_LENGTH = 14,
};
enum { IKEV1_ENCR_3DES = 5, IKEV1_ENCR_AES = 7 };
enum { IKEV1_HASH_SHA1 = 2, IKEV1_HASH_SHA2_256 = 4, IKEV1_HASH_SHA2_384 = 5,
       IKEV1_HASH_SHA2_512 = 6 };
#define IKEV1_AUTH_PSK 1
enum { IKEV1_LIFE_SECONDS = 1, IKEV1_LIFE_KILOBYTES = 2 };

/* Phase 2 attributes (RFC 2407 §4.5). */
enum {
    IKEV1_A2_LIFE_TYPE = 1, IKEV1_A2_LIFE_DURATION = 2, IKEV1_A2_GROUP = 3,
    IKEV1_A2_ENCAP = 4, IKEV1_A2_AUTH = 5, IKEV1_A2_KEY_LENGTH = 6,
};
/* Encapsulation Mode (RFC 2407 §4.5); RFC 3947 §5.1 adds 3 (UDP-Encapsulated-Tunnel) and 4. */
#define IKEV1_ENCAP_TRANSPORT 2
#define IKEV1_ENCAP_UDP_TRANSPORT 4
enum { IKEV1_AUTH_HMAC_SHA1 = 2, IKEV1_AUTH_HMAC_SHA2_256 = 5, IKEV1_AUTH_HMAC_SHA2_384 = 6,
       IKEV1_AUTH_HMAC_SHA2_512 = 7 };

/* ID types (RFC 2407 §4.6.2.1): the same numbers as IKEv2's for those we use. */
enum { IKEV1_ID_IPV4_ADDR = 1, IKEV1_ID_FQDN = 2, IKEV1_ID_IPV6_ADDR = 5, IKEV1_ID_KEY_ID = 11 };

/* RFC 3706 §7: the DPD vendor ID, version 1.0. */
#define IKEV1_DPD_VID_LEN 16
extern const uint8_t ikev1_dpd_vid[IKEV1_DPD_VID_LEN];
/* RFC 3947 §3.1: NAT traversal, MD5("RFC 3947"). The draft VIDs are not recognised. */
#define IKEV1_NATT_VID_LEN 16
extern const uint8_t ikev1_natt_vid[IKEV1_NATT_VID_LEN];

/* Why a message was refused; the same classes as ikev2_perr (counted alike). */
enum ikev1_perr {
    IKEV1_P_OK = 0,
    IKEV1_P_TRUNCATED,
    IKEV1_P_BAD_LENGTH,
    IKEV1_P_SYNTAX,
    IKEV1_P_NOT_ALLOWED = 5,    /* = IKEV2_P_NOT_ALLOWED, for ike_count_perr */
    IKEV1_P_VERSION,
};

struct ikev1_hdr {
    uint64_t cky_i, cky_r;
    uint8_t next, version, exchange, flags;
    uint32_t msgid, length;
};

/* Data attributes (RFC 2408 §3.3): TV, or TLV up to 4 octets (longer spoils the transform). */
#define IKEV1_MAX_ATTR 12
struct ikev1_attr {
    uint16_t type;
    uint32_t val;
};
#define IKEV1_MAX_XF 16
struct ikev1_xf {
    uint8_t num, id;
    bool unusable;          /* an attribute we cannot represent, or too many */
    uint8_t n_attr;
    struct ikev1_attr a[IKEV1_MAX_ATTR];
};
#define IKEV1_MAX_PROPS 4
struct ikev1_prop {
    uint8_t num, proto, spi_size;
    uint8_t spi[16];
    uint8_t n_xf;
    struct ikev1_xf xf[IKEV1_MAX_XF];
};
struct ikev1_sa_pld {
    uint32_t doi, sit;
    uint8_t n;
    struct ikev1_prop p[IKEV1_MAX_PROPS];
    const uint8_t *body;    /* SAi_b of RFC 2409 §5 */
    size_t body_len;
};

struct ikev1_data {
    const uint8_t *data;
    size_t len;
};

struct ikev1_id {
    uint8_t type, proto;
    uint16_t port;
    const uint8_t *data;
    size_t len;
    const uint8_t *body;    /* IDii_b / IDir_b of §5 */
    size_t body_len;
};

struct ikev1_notify {
    uint32_t doi;
    uint8_t proto, spi_size;
    uint16_t type;
    const uint8_t *spi;
    const uint8_t *data;
    size_t len;
};

struct ikev1_delete {
    uint32_t doi;
    uint8_t proto, spi_size;
    uint16_t n;
    const uint8_t *spi;     /* n * spi_size octets */
};

/* RFC 3947 §5.2: an original address (ID type IPV4_ADDR or IPV6_ADDR). */
struct ikev1_natoa {
    uint8_t type;
    const uint8_t *addr;
    size_t len;
};

#define IKEV1_MAX_NOTIFY 8
#define IKEV1_MAX_DELETE 4
#define IKEV1_MAX_NATD 4
struct ikev1_msg {
    struct ikev1_hdr hdr;
    uint32_t seen;          /* bit type for each known payload type present */
    uint8_t first;          /* the first payload's type */
    struct ikev1_sa_pld sa;
    struct ikev1_data ke, nonce, hash;
    struct ikev1_id id[2];  /* phase 1: one; Quick Mode: IDci, IDcr */
    unsigned n_id;
    struct ikev1_notify notify[IKEV1_MAX_NOTIFY];
    unsigned n_notify;
    struct ikev1_delete del[IKEV1_MAX_DELETE];
    unsigned n_del;
    bool dpd_vid;
    bool natt_vid;          /* RFC 3947 */
    struct ikev1_data natd[IKEV1_MAX_NATD]; /* RFC 3947 §3.2: the receiver's, then the sender's */
    unsigned n_natd;
    struct ikev1_natoa natoa[2];            /* §5.2: NAT-OAi, NAT-OAr */
    unsigned n_natoa;
    /*
     * A malformed NAT-OA, or a third: the message still decodes, so that
     * Quick Mode refuses it with PAYLOAD-MALFORMED once its HASH verifies.
     */
    bool natoa_bad;
    /* For the HASH(1)/(2) of RFC 2409 §5.5, §5.7: what follows the HASH payload. */
    const uint8_t *after_hash;
    size_t after_hash_len;
};

static inline bool ikev1_has(const struct ikev1_msg *m, uint8_t type)
{
    return type < 32 && (m->seen >> type & 1);
}

int ikev1_hdr_decode(const uint8_t *buf, size_t len, struct ikev1_hdr *h);
int ikev1_pld_sa(const uint8_t *buf, size_t off, size_t len, struct ikev1_sa_pld *out);
int ikev1_pld_ke(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out);
int ikev1_pld_id(const uint8_t *buf, size_t off, size_t len, struct ikev1_id *out);
int ikev1_pld_hash(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out);
int ikev1_pld_nonce(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out);
int ikev1_pld_notify(const uint8_t *buf, size_t off, size_t len, struct ikev1_notify *out);
int ikev1_pld_delete(const uint8_t *buf, size_t off, size_t len, struct ikev1_delete *out);
int ikev1_pld_vid(const uint8_t *buf, size_t off, size_t len, struct ikev1_msg *m);
int ikev1_pld_natd(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out);
int ikev1_pld_natoa(const uint8_t *buf, size_t off, size_t len, struct ikev1_natoa *out);

/*
 * The payload chain in buf[off..end) starting with type first; what follows
 * the last payload is padding (RFC 2409 §5.3: any content) when pad is set,
 * else it must be empty. Unknown payload types are refused (RFC 2408 §5.1).
 */
int ikev1_pld_chain(const uint8_t *buf, size_t off, size_t end, uint8_t first, bool pad,
                    struct ikev1_msg *m);
/* Header and, unless encrypted, the payload chain of a whole message. */
int ikev1_msg_decode(const uint8_t *buf, size_t len, struct ikev1_msg *m);
const struct ikev1_notify *ikev1_find_notify(const struct ikev1_msg *m, uint16_t type);
/* Attribute value of a transform; false if absent. */
bool ikev1_xf_attr(const struct ikev1_xf *xf, uint16_t type, uint32_t *val);

/* Encoding: payloads are appended; each links itself into the previous one's Next Payload. */
struct ikev1_enc {
    struct wire_wr w;
    size_t next_off;        /* where the next payload's type goes; SIZE_MAX: into first */
    uint8_t first;
};
void ikev1_enc_init(struct ikev1_enc *e, uint8_t *buf, size_t cap, bool with_hdr);
void ikev1_put_hdr(struct ikev1_enc *e, const struct ikev1_hdr *h);
/* Set the header's Length to the bytes written; false if anything overflowed. */
bool ikev1_enc_finish(struct ikev1_enc *e);
size_t ikev1_pld_begin(struct ikev1_enc *e, uint8_t type);
void ikev1_pld_end(struct ikev1_enc *e, size_t start);
/* An attribute, TV when it fits 16 bits (and the type allows), else TLV of 4 octets. */
void ikev1_put_attr(struct wire_wr *w, uint16_t type, uint32_t val);
void ikev1_put_sa(struct ikev1_enc *e, const struct ikev1_prop *p, unsigned n);
void ikev1_put_ke(struct ikev1_enc *e, const uint8_t *d, size_t n);
void ikev1_put_id(struct ikev1_enc *e, uint8_t type, uint8_t proto, uint16_t port,
                  const uint8_t *d, size_t n);
void ikev1_put_hash(struct ikev1_enc *e, const uint8_t *d, size_t n);
void ikev1_put_nonce(struct ikev1_enc *e, const uint8_t *d, size_t n);
void ikev1_put_notify(struct ikev1_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t type, const uint8_t *d, size_t n);
void ikev1_put_delete(struct ikev1_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t n);
void ikev1_put_vid(struct ikev1_enc *e, const uint8_t *d, size_t n);
void ikev1_put_natd(struct ikev1_enc *e, const uint8_t *d, size_t n);
void ikev1_put_natoa(struct ikev1_enc *e, uint8_t type, const uint8_t *addr, size_t n);

#endif
