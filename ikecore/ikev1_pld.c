/*
 * ISAKMP payload decoding (RFC 2408 §3, RFC 2407 §4.6). Each decoder gets
 * the body of one payload as (buffer, offset, length), checks that the
 * length fits its fixed part before reading anything, and reads through a
 * wire_rd confined to the body, so nothing outside it can be touched.
 * The encoders are in ikev1_enc.c.
 */
#include "ikev1_pld.h"

#include <string.h>

const uint8_t ikev1_dpd_vid[IKEV1_DPD_VID_LEN] = {
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
};

const uint8_t ikev1_natt_vid[IKEV1_NATT_VID_LEN] = {
    0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
};

/* §3.1 */
int ikev1_hdr_decode(const uint8_t *buf, size_t len, struct ikev1_hdr *h)
{
    struct wire_rd r;
    if (len < IKEV1_HDR_LEN)
        return IKEV1_P_TRUNCATED;
    wire_rd_init(&r, buf, len);
    h->cky_i = wire_u64(&r);
    h->cky_r = wire_u64(&r);
    h->next = wire_u8(&r);
    h->version = wire_u8(&r);
    h->exchange = wire_u8(&r);
    h->flags = wire_u8(&r);
    h->msgid = wire_u32(&r);
    h->length = wire_u32(&r);
    if (h->version >> 4 != 1)
        return IKEV1_P_VERSION;
    if (h->length > len)
        return IKEV1_P_TRUNCATED;
    if (h->length != len)
        return IKEV1_P_BAD_LENGTH;
    if (h->exchange != IKEV1_EXCH_MAIN && h->exchange != IKEV1_EXCH_AGGRESSIVE &&
        h->exchange != IKEV1_EXCH_INFO && h->exchange != IKEV1_EXCH_QUICK)
        return IKEV1_P_NOT_ALLOWED;
    return IKEV1_P_OK;
}

/* §3.3: TV when the AF bit is set, else TLV; values up to 4 octets are kept. */
static int decode_attrs(struct wire_rd *r, struct ikev1_xf *xf)
{
    while (wire_rd_left(r) > 0) {
        if (wire_rd_left(r) < 4)
            return IKEV1_P_BAD_LENGTH;
        uint16_t type = wire_u16(r);
        uint16_t val = wire_u16(r);
        struct ikev1_attr a = {.type = type & 0x7fff, .val = val};
        if (!(type & 0x8000)) {
            const uint8_t *v = wire_bytes(r, val);
            if (!v)
                return IKEV1_P_BAD_LENGTH;
            a.val = 0;
            for (size_t i = 0; i < val; i++) {
                if (i + 4 < val && v[i] != 0) {
                    xf->unusable = true;    /* more than 32 bits */
                    break;
                }
                a.val = a.val << 8 | v[i];
            }
        }
        if (xf->n_attr < IKEV1_MAX_ATTR)
            xf->a[xf->n_attr++] = a;
        else
            xf->unusable = true;
    }
    return IKEV1_P_OK;
}

/* §3.6: a Transform payload inside a Proposal. */
static int decode_transform(struct wire_rd *r, bool *last, struct ikev1_xf *xf)
{
    if (wire_rd_left(r) < 8)
        return IKEV1_P_BAD_LENGTH;
    uint8_t next = wire_u8(r);
    wire_u8(r);
    uint16_t tlen = wire_u16(r);
    if (next != IKEV1_PLD_NONE && next != IKEV1_PLD_T)
        return IKEV1_P_SYNTAX;
    if (tlen < 8 || tlen - 4u > wire_rd_left(r))
        return IKEV1_P_BAD_LENGTH;
    memset(xf, 0, sizeof(*xf));
    xf->num = wire_u8(r);
    xf->id = wire_u8(r);
    wire_u16(r);
    struct wire_rd a;
    wire_rd_init(&a, wire_bytes(r, tlen - 8u), tlen - 8u);
    *last = next == IKEV1_PLD_NONE;
    return decode_attrs(&a, xf);
}

/* §3.5 */
static int decode_proposal(struct wire_rd *r, bool *last, struct ikev1_prop *p)
{
    if (wire_rd_left(r) < 8)
        return IKEV1_P_BAD_LENGTH;
    uint8_t next = wire_u8(r);
    wire_u8(r);
    uint16_t plen = wire_u16(r);
    if (next != IKEV1_PLD_NONE && next != IKEV1_PLD_P)
        return IKEV1_P_SYNTAX;
    if (plen < 8 || plen - 4u > wire_rd_left(r))
        return IKEV1_P_BAD_LENGTH;
    struct wire_rd b;
    wire_rd_init(&b, wire_bytes(r, plen - 4u), plen - 4u);
    p->num = wire_u8(&b);
    p->proto = wire_u8(&b);
    p->spi_size = wire_u8(&b);
    uint8_t n_xf = wire_u8(&b);
    if (p->spi_size > sizeof(p->spi) || n_xf == 0)
        return IKEV1_P_SYNTAX;
    if (!wire_copy(&b, p->spi, p->spi_size))
        return IKEV1_P_BAD_LENGTH;
    p->n_xf = 0;
    bool xlast = false;
    for (unsigned i = 0; i < n_xf; i++) {
        struct ikev1_xf xf;
        if (xlast)
            return IKEV1_P_SYNTAX;
        int rc = decode_transform(&b, &xlast, &xf);
        if (rc)
            return rc;
        if (p->n_xf < IKEV1_MAX_XF)
            p->xf[p->n_xf++] = xf;
    }
    if (wire_rd_left(&b) != 0 || !xlast)
        return IKEV1_P_BAD_LENGTH;
    *last = next == IKEV1_PLD_NONE;
    return IKEV1_P_OK;
}

/* §3.4, RFC 2407 §4.6.1: DOI, Situation, then the proposals. */
int ikev1_pld_sa(const uint8_t *buf, size_t off, size_t len, struct ikev1_sa_pld *out)
{
    struct wire_rd r;
    bool last = false;
    if (len < 8 + 8)
        return IKEV1_P_BAD_LENGTH;
    wire_rd_init(&r, buf + off, len);
    out->body = buf + off;
    out->body_len = len;
    out->doi = wire_u32(&r);
    out->sit = wire_u32(&r);
    if (out->doi != IKEV1_DOI_IPSEC || out->sit != IKEV1_SIT_IDENTITY_ONLY)
        return IKEV1_P_SYNTAX;
    out->n = 0;
    while (wire_rd_left(&r) > 0) {
        if (last)
            return IKEV1_P_BAD_LENGTH;
        struct ikev1_prop p;
        int rc = decode_proposal(&r, &last, &p);
        if (rc)
            return rc;
        if (out->n < IKEV1_MAX_PROPS)
            out->p[out->n++] = p;
    }
    return last ? IKEV1_P_OK : IKEV1_P_BAD_LENGTH;
}

/* §3.7 */
int ikev1_pld_ke(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out)
{
    if (len < 1)
        return IKEV1_P_BAD_LENGTH;
    out->data = buf + off;
    out->len = len;
    return IKEV1_P_OK;
}

/* §3.8, RFC 2407 §4.6.2 */
int ikev1_pld_id(const uint8_t *buf, size_t off, size_t len, struct ikev1_id *out)
{
    if (len < 5)
        return IKEV1_P_BAD_LENGTH;
    out->type = buf[off];
    out->proto = buf[off + 1];
    out->port = wire_get16(buf + off + 2);
    out->data = buf + off + 4;
    out->len = len - 4;
    out->body = buf + off;
    out->body_len = len;
    return IKEV1_P_OK;
}

/* §3.11 */
int ikev1_pld_hash(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out)
{
    if (len < 1)
        return IKEV1_P_BAD_LENGTH;
    out->data = buf + off;
    out->len = len;
    return IKEV1_P_OK;
}

/* §3.13; RFC 2409 §5: between 8 and 256 octets. */
int ikev1_pld_nonce(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out)
{
    if (len < 8 || len > 256)
        return IKEV1_P_SYNTAX;
    out->data = buf + off;
    out->len = len;
    return IKEV1_P_OK;
}

/* §3.14 */
int ikev1_pld_notify(const uint8_t *buf, size_t off, size_t len, struct ikev1_notify *out)
{
    if (len < 8)
        return IKEV1_P_BAD_LENGTH;
    out->doi = wire_get32(buf + off);
    out->proto = buf[off + 4];
    out->spi_size = buf[off + 5];
    out->type = wire_get16(buf + off + 6);
    if (out->spi_size > len - 8)
        return IKEV1_P_BAD_LENGTH;
    out->spi = buf + off + 8;
    out->data = out->spi + out->spi_size;
    out->len = len - 8 - out->spi_size;
    return IKEV1_P_OK;
}

/* §3.15 */
int ikev1_pld_delete(const uint8_t *buf, size_t off, size_t len, struct ikev1_delete *out)
{
    if (len < 8)
        return IKEV1_P_BAD_LENGTH;
    out->doi = wire_get32(buf + off);
    out->proto = buf[off + 4];
    out->spi_size = buf[off + 5];
    out->n = wire_get16(buf + off + 6);
    if (out->spi_size == 0 || out->n == 0)
        return IKEV1_P_SYNTAX;
    if (len - 8 != (size_t)out->n * out->spi_size)
        return IKEV1_P_BAD_LENGTH;
    out->spi = buf + off + 8;
    return IKEV1_P_OK;
}

/* §3.16: only the DPD (RFC 3706 §7) and NAT-T (RFC 3947 §3.1) vendor IDs mean anything to us. */
int ikev1_pld_vid(const uint8_t *buf, size_t off, size_t len, struct ikev1_msg *m)
{
    if (len == IKEV1_DPD_VID_LEN && memcmp(buf + off, ikev1_dpd_vid, len) == 0)
        m->dpd_vid = true;
    if (len == IKEV1_NATT_VID_LEN && memcmp(buf + off, ikev1_natt_vid, len) == 0)
        m->natt_vid = true;
    return IKEV1_P_OK;
}

/* RFC 3947 §3.2: a hash; its length (the negotiated hash's) is checked where it is compared. */
int ikev1_pld_natd(const uint8_t *buf, size_t off, size_t len, struct ikev1_data *out)
{
    if (len < 1)
        return IKEV1_P_BAD_LENGTH;
    out->data = buf + off;
    out->len = len;
    return IKEV1_P_OK;
}

/* RFC 3947 §5.2: ID type, three reserved octets, then an IPv4 or IPv6 address. */
int ikev1_pld_natoa(const uint8_t *buf, size_t off, size_t len, struct ikev1_natoa *out)
{
    if (len < 4)
        return IKEV1_P_BAD_LENGTH;
    out->type = buf[off];
    out->addr = buf + off + 4;
    out->len = len - 4;
    if (!(out->type == IKEV1_ID_IPV4_ADDR && out->len == 4) &&
        !(out->type == IKEV1_ID_IPV6_ADDR && out->len == 16))
        return IKEV1_P_SYNTAX;
    return IKEV1_P_OK;
}

const struct ikev1_notify *ikev1_find_notify(const struct ikev1_msg *m, uint16_t type)
{
    for (unsigned i = 0; i < m->n_notify; i++)
        if (m->notify[i].type == type)
            return &m->notify[i];
    return NULL;
}

bool ikev1_xf_attr(const struct ikev1_xf *xf, uint16_t type, uint32_t *val)
{
    for (unsigned i = 0; i < xf->n_attr; i++) {
        if (xf->a[i].type == type) {
            *val = xf->a[i].val;
            return true;
        }
    }
    return false;
}

#define BIT(t) (1u << (t))
#define PH1 (BIT(IKEV1_PLD_SA) | BIT(IKEV1_PLD_KE) | BIT(IKEV1_PLD_ID) | BIT(IKEV1_PLD_CERT) | \
             BIT(IKEV1_PLD_CR) | BIT(IKEV1_PLD_HASH) | BIT(IKEV1_PLD_SIG) |                    \
             BIT(IKEV1_PLD_NONCE) | BIT(IKEV1_PLD_N) | BIT(IKEV1_PLD_VID) | BIT(IKEV1_PLD_NATD))

/* RFC 2409 §5, §5.5, §5.7: which payloads each exchange carries. */
static uint32_t allowed(uint8_t exchange)
{
    switch (exchange) {
    case IKEV1_EXCH_MAIN:
    case IKEV1_EXCH_AGGRESSIVE:
        return PH1;
    case IKEV1_EXCH_QUICK:
        return BIT(IKEV1_PLD_HASH) | BIT(IKEV1_PLD_SA) | BIT(IKEV1_PLD_NONCE) |
               BIT(IKEV1_PLD_KE) | BIT(IKEV1_PLD_ID) | BIT(IKEV1_PLD_N) | BIT(IKEV1_PLD_NATOA);
    case IKEV1_EXCH_INFO:
        return BIT(IKEV1_PLD_HASH) | BIT(IKEV1_PLD_N) | BIT(IKEV1_PLD_D) | BIT(IKEV1_PLD_VID);
    default:
        return 0;
    }
}

static bool repeatable(uint8_t type)
{
    return type == IKEV1_PLD_N || type == IKEV1_PLD_D || type == IKEV1_PLD_VID ||
           type == IKEV1_PLD_CERT || type == IKEV1_PLD_CR || type == IKEV1_PLD_NATD ||
           type == IKEV1_PLD_NATOA || type == IKEV1_PLD_ID;
}

static int decode_one(const uint8_t *buf, size_t off, size_t len, uint8_t type,
                      struct ikev1_msg *m)
{
    switch (type) {
    case IKEV1_PLD_SA:
        return ikev1_pld_sa(buf, off, len, &m->sa);
    case IKEV1_PLD_KE:
        return ikev1_pld_ke(buf, off, len, &m->ke);
    case IKEV1_PLD_ID:
        if (m->n_id >= 2)
            return IKEV1_P_NOT_ALLOWED;
        return ikev1_pld_id(buf, off, len, &m->id[m->n_id++]);
    case IKEV1_PLD_HASH:
        return ikev1_pld_hash(buf, off, len, &m->hash);
    case IKEV1_PLD_NONCE:
        return ikev1_pld_nonce(buf, off, len, &m->nonce);
    case IKEV1_PLD_N:
        if (m->n_notify >= IKEV1_MAX_NOTIFY)
            return IKEV1_P_OK;      /* more than we look at: ignored */
        return ikev1_pld_notify(buf, off, len, &m->notify[m->n_notify++]);
    case IKEV1_PLD_D:
        if (m->n_del >= IKEV1_MAX_DELETE)
            return IKEV1_P_OK;
        return ikev1_pld_delete(buf, off, len, &m->del[m->n_del++]);
    case IKEV1_PLD_VID:
        return ikev1_pld_vid(buf, off, len, m);
    case IKEV1_PLD_NATD:
        if (m->n_natd >= IKEV1_MAX_NATD)
            return IKEV1_P_OK;      /* more local addresses than we compare: ignored */
        return ikev1_pld_natd(buf, off, len, &m->natd[m->n_natd++]);
    case IKEV1_PLD_NATOA:
        if (m->n_natoa >= 2 || ikev1_pld_natoa(buf, off, len, &m->natoa[m->n_natoa++]))
            m->natoa_bad = true;
        return IKEV1_P_OK;
    default:                        /* CERT, CR, SIG: not used */
        return IKEV1_P_OK;
    }
}

/* §3.2 generic header; private-use types (128+) are skipped, other unknown ones refused. */
int ikev1_pld_chain(const uint8_t *buf, size_t off, size_t end, uint8_t first, bool pad,
                    struct ikev1_msg *m)
{
    uint32_t ok = allowed(m->hdr.exchange);
    uint8_t type = first;
    m->first = first;
    while (type != IKEV1_PLD_NONE) {
        if (end - off < IKEV1_GEN_LEN)
            return IKEV1_P_TRUNCATED;
        uint8_t next = buf[off];
        size_t plen = wire_get16(buf + off + 2);
        if (plen < IKEV1_GEN_LEN)
            return IKEV1_P_BAD_LENGTH;
        if (plen > end - off)
            return IKEV1_P_TRUNCATED;
        if (type < 32 && (ok & BIT(type))) {
            if (ikev1_has(m, type) && !repeatable(type))
                return IKEV1_P_NOT_ALLOWED;
            m->seen |= BIT(type);
            int rc = decode_one(buf, off + IKEV1_GEN_LEN, plen - IKEV1_GEN_LEN, type, m);
            if (rc)
                return rc;
            if (type == IKEV1_PLD_HASH && !m->after_hash)
                m->after_hash = buf + off + plen;
        } else if (type < 128) {
            return IKEV1_P_NOT_ALLOWED;
        }
        off += plen;
        type = next;
    }
    if (m->after_hash)
        m->after_hash_len = (size_t)(buf + off - m->after_hash);
    return pad || off == end ? IKEV1_P_OK : IKEV1_P_BAD_LENGTH;
}

int ikev1_msg_decode(const uint8_t *buf, size_t len, struct ikev1_msg *m)
{
    memset(m, 0, sizeof(*m));
    int rc = ikev1_hdr_decode(buf, len, &m->hdr);
    if (rc)
        return rc;
    if (m->hdr.flags & IKEV1_FLAG_ENC)
        return IKEV1_P_OK;          /* the chain is decoded after decryption */
    return ikev1_pld_chain(buf, IKEV1_HDR_LEN, len, m->hdr.next, false, m);
}
