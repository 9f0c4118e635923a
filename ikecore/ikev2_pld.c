/*
 * IKEv2 payload decoding and encoding (RFC 7296 §3). Each decoder gets the
 * body of one payload as (buffer, offset, length), checks that the length
 * fits its fixed part before reading anything, and reads through a wire_rd
 * confined to the body, so nothing outside it can be touched.
 */
#include "ikev2_pld.h"

#include <string.h>

/* §3.1 */
int ikev2_hdr_decode(const uint8_t *buf, size_t len, struct ikev2_hdr *h)
{
    struct wire_rd r;
    if (len < IKEV2_HDR_LEN)
        return IKEV2_P_TRUNCATED;
    wire_rd_init(&r, buf, len);
    h->spi_i = wire_u64(&r);
    h->spi_r = wire_u64(&r);
    h->next = wire_u8(&r);
    h->version = wire_u8(&r);
    h->exchange = wire_u8(&r);
    h->flags = wire_u8(&r);
    h->msgid = wire_u32(&r);
    h->length = wire_u32(&r);
    if (h->version >> 4 != 2)
        return IKEV2_P_VERSION;
    if (h->length > len)
        return IKEV2_P_TRUNCATED;
    if (h->length != len)
        return IKEV2_P_BAD_LENGTH;
    if (h->exchange < IKEV2_IKE_SA_INIT || h->exchange > IKEV2_INFORMATIONAL)
        return IKEV2_P_NOT_ALLOWED;
    return IKEV2_P_OK;
}

/* §3.3.5: only Key Length (TV) is understood; anything else spoils the transform. */
static int decode_attrs(struct wire_rd *r, struct ikev2_xf *xf)
{
    while (wire_rd_left(r) > 0) {
        if (wire_rd_left(r) < 4)
            return IKEV2_P_BAD_LENGTH;
        uint16_t type = wire_u16(r);
        uint16_t val = wire_u16(r);
        if (!(type & 0x8000)) {     /* TLV: val is the length */
            if (!wire_skip(r, val))
                return IKEV2_P_BAD_LENGTH;
            xf->key_bits = 0xffff;
        } else if ((type & 0x7fff) == IKEV2_ATTR_KEY_LENGTH) {
            xf->key_bits = val;
        } else {
            xf->key_bits = 0xffff;
        }
    }
    return IKEV2_P_OK;
}

/* §3.3.2 */
static int decode_transform(struct wire_rd *r, bool *last, struct ikev2_xf *xf)
{
    if (wire_rd_left(r) < 8)
        return IKEV2_P_BAD_LENGTH;
    uint8_t more = wire_u8(r);
    wire_u8(r);
    uint16_t tlen = wire_u16(r);
    if (more != 0 && more != 3)
        return IKEV2_P_SYNTAX;
    if (tlen < 8 || tlen - 4u > wire_rd_left(r))
        return IKEV2_P_BAD_LENGTH;
    xf->type = wire_u8(r);
    wire_u8(r);
    xf->id = wire_u16(r);
    xf->key_bits = 0;
    struct wire_rd a;
    wire_rd_init(&a, wire_bytes(r, tlen - 8u), tlen - 8u);
    *last = more == 0;
    return decode_attrs(&a, xf);
}

/* §3.3.1 */
static int decode_proposal(struct wire_rd *r, bool *last, struct ikev2_prop *p)
{
    if (wire_rd_left(r) < 8)
        return IKEV2_P_BAD_LENGTH;
    uint8_t more = wire_u8(r);
    wire_u8(r);
    uint16_t plen = wire_u16(r);
    if (more != 0 && more != 2)
        return IKEV2_P_SYNTAX;
    if (plen < 8 || plen - 4u > wire_rd_left(r))
        return IKEV2_P_BAD_LENGTH;
    struct wire_rd b;
    wire_rd_init(&b, wire_bytes(r, plen - 4u), plen - 4u);
    p->num = wire_u8(&b);
    p->proto = wire_u8(&b);
    p->spi_size = wire_u8(&b);
    uint8_t n_xf = wire_u8(&b);
    if (p->spi_size > sizeof(p->spi))
        return IKEV2_P_SYNTAX;
    if (!wire_copy(&b, p->spi, p->spi_size))
        return IKEV2_P_BAD_LENGTH;
    p->n_xf = 0;
    bool xlast = false;
    for (unsigned i = 0; i < n_xf; i++) {
        struct ikev2_xf xf;
        if (xlast)
            return IKEV2_P_SYNTAX;
        int rc = decode_transform(&b, &xlast, &xf);
        if (rc)
            return rc;
        if (p->n_xf < IKEV2_MAX_XF)
            p->xf[p->n_xf++] = xf;
    }
    if (wire_rd_left(&b) != 0 || (n_xf && !xlast))
        return IKEV2_P_BAD_LENGTH;
    *last = more == 0;
    return IKEV2_P_OK;
}

/* §3.3 */
int ikev2_pld_sa(const uint8_t *buf, size_t off, size_t len, struct ikev2_sa_pld *out)
{
    struct wire_rd r;
    bool last = false;
    if (len < 8)
        return IKEV2_P_BAD_LENGTH;
    wire_rd_init(&r, buf + off, len);
    out->n = 0;
    while (wire_rd_left(&r) > 0) {
        struct ikev2_prop p;
        if (last)
            return IKEV2_P_BAD_LENGTH;
        int rc = decode_proposal(&r, &last, &p);
        if (rc)
            return rc;
        if (out->n < IKEV2_MAX_PROPS)
            out->p[out->n++] = p;
    }
    return last ? IKEV2_P_OK : IKEV2_P_BAD_LENGTH;
}

/* §3.4 */
int ikev2_pld_ke(const uint8_t *buf, size_t off, size_t len, struct ikev2_ke *out)
{
    if (len < 4)
        return IKEV2_P_BAD_LENGTH;
    out->group = wire_get16(buf + off);
    out->data = buf + off + 4;
    out->len = len - 4;
    return IKEV2_P_OK;
}

/* §3.5 */
int ikev2_pld_id(const uint8_t *buf, size_t off, size_t len, struct ikev2_id *out)
{
    if (len < 5)
        return IKEV2_P_BAD_LENGTH;
    out->type = buf[off];
    out->data = buf + off + 4;
    out->len = len - 4;
    out->body = buf + off;
    out->body_len = len;
    return IKEV2_P_OK;
}

/* §3.8 */
int ikev2_pld_auth(const uint8_t *buf, size_t off, size_t len, struct ikev2_auth *out)
{
    if (len < 5)
        return IKEV2_P_BAD_LENGTH;
    out->method = buf[off];
    out->data = buf + off + 4;
    out->len = len - 4;
    return IKEV2_P_OK;
}

/* §3.9: 16 to 256 octets. */
int ikev2_pld_nonce(const uint8_t *buf, size_t off, size_t len, struct ikev2_msg *m)
{
    if (len < 16 || len > 256)
        return IKEV2_P_SYNTAX;
    m->nonce = buf + off;
    m->nonce_len = len;
    return IKEV2_P_OK;
}

/* §3.10 */
int ikev2_pld_notify(const uint8_t *buf, size_t off, size_t len, struct ikev2_notify *out)
{
    if (len < 4)
        return IKEV2_P_BAD_LENGTH;
    out->proto = buf[off];
    out->spi_size = buf[off + 1];
    out->type = wire_get16(buf + off + 2);
    if (out->spi_size > len - 4)
        return IKEV2_P_BAD_LENGTH;
    out->spi = buf + off + 4;
    out->data = out->spi + out->spi_size;
    out->len = len - 4 - out->spi_size;
    return IKEV2_P_OK;
}

/* §3.11 */
int ikev2_pld_delete(const uint8_t *buf, size_t off, size_t len, struct ikev2_delete *out)
{
    if (len < 4)
        return IKEV2_P_BAD_LENGTH;
    out->proto = buf[off];
    out->spi_size = buf[off + 1];
    uint16_t n = wire_get16(buf + off + 2);
    if (out->proto == IKEV2_PROTO_IKE) {
        if (out->spi_size != 0 || n != 0 || len != 4)
            return IKEV2_P_SYNTAX;
        out->n = 0;
        return IKEV2_P_OK;
    }
    if (out->proto != IKEV2_PROTO_ESP && out->proto != IKEV2_PROTO_AH)
        return IKEV2_P_SYNTAX;
    if (out->spi_size != 4)
        return IKEV2_P_SYNTAX;
    if (len - 4 != (size_t)n * 4)
        return IKEV2_P_BAD_LENGTH;
    out->n = n < IKEV2_MAX_DEL_SPI ? n : IKEV2_MAX_DEL_SPI;
    for (unsigned i = 0; i < out->n; i++)
        out->spi[i] = wire_get32(buf + off + 4 + 4 * i);
    return IKEV2_P_OK;
}

/* §3.13.1 */
static int decode_selector(struct wire_rd *r, struct ikev2_ts *ts, bool *known)
{
    if (wire_rd_left(r) < 8)
        return IKEV2_P_BAD_LENGTH;
    ts->type = wire_u8(r);
    ts->proto = wire_u8(r);
    uint16_t slen = wire_u16(r);
    ts->sport = wire_u16(r);
    ts->eport = wire_u16(r);
    if (slen < 8 || slen - 8u > wire_rd_left(r))
        return IKEV2_P_BAD_LENGTH;
    size_t alen = ts->type == IKEV2_TS_IPV4 ? 4 : ts->type == IKEV2_TS_IPV6 ? 16 : 0;
    *known = alen != 0;
    if (!*known)
        return wire_skip(r, slen - 8u) ? IKEV2_P_OK : IKEV2_P_BAD_LENGTH;
    if (slen != 8 + 2 * alen)
        return IKEV2_P_BAD_LENGTH;
    memset(ts->saddr, 0, sizeof(ts->saddr));
    memset(ts->eaddr, 0, sizeof(ts->eaddr));
    wire_copy(r, ts->saddr, alen);
    wire_copy(r, ts->eaddr, alen);
    return IKEV2_P_OK;
}

/* §3.13 */
int ikev2_pld_ts(const uint8_t *buf, size_t off, size_t len, struct ikev2_ts_pld *out)
{
    if (len < 4)
        return IKEV2_P_BAD_LENGTH;
    struct wire_rd r;
    wire_rd_init(&r, buf + off, len);
    uint8_t n = wire_u8(&r);
    wire_skip(&r, 3);
    if (n == 0)
        return IKEV2_P_SYNTAX;
    out->n = 0;
    for (unsigned i = 0; i < n; i++) {
        struct ikev2_ts ts;
        bool known;
        int rc = decode_selector(&r, &ts, &known);
        if (rc)
            return rc;
        if (known && out->n < IKEV2_MAX_TS)
            out->ts[out->n++] = ts;
    }
    return wire_rd_left(&r) == 0 ? IKEV2_P_OK : IKEV2_P_BAD_LENGTH;
}

const struct ikev2_notify *ikev2_find_notify(const struct ikev2_msg *m, uint16_t type)
{
    for (unsigned i = 0; i < m->n_notify; i++)
        if (m->notify[i].type == type)
            return &m->notify[i];
    return NULL;
}

#define BIT(t) (1ull << ((t) - 32))
#define ANY_EXCH (BIT(IKEV2_PLD_NOTIFY) | BIT(IKEV2_PLD_VENDOR))

/* Which payloads each exchange carries (§1.2-§1.5); outside SK only IKE_SA_INIT has any. */
static uint64_t allowed(uint8_t exchange, bool inner)
{
    switch (exchange) {
    case IKEV2_IKE_SA_INIT:
        return inner ? 0 : ANY_EXCH | BIT(IKEV2_PLD_SA) | BIT(IKEV2_PLD_KE) |
                               BIT(IKEV2_PLD_NONCE) | BIT(IKEV2_PLD_CERTREQ);
    case IKEV2_IKE_AUTH:
        return !inner ? BIT(IKEV2_PLD_SK)
                      : ANY_EXCH | BIT(IKEV2_PLD_IDI) | BIT(IKEV2_PLD_IDR) | BIT(IKEV2_PLD_CERT) |
                            BIT(IKEV2_PLD_CERTREQ) | BIT(IKEV2_PLD_AUTH) | BIT(IKEV2_PLD_SA) |
                            BIT(IKEV2_PLD_TSI) | BIT(IKEV2_PLD_TSR) | BIT(IKEV2_PLD_CP) |
                            BIT(IKEV2_PLD_EAP);
    case IKEV2_CREATE_CHILD_SA:
        return !inner ? BIT(IKEV2_PLD_SK)
                      : ANY_EXCH | BIT(IKEV2_PLD_SA) | BIT(IKEV2_PLD_NONCE) | BIT(IKEV2_PLD_KE) |
                            BIT(IKEV2_PLD_TSI) | BIT(IKEV2_PLD_TSR);
    case IKEV2_INFORMATIONAL:
        return !inner ? BIT(IKEV2_PLD_SK)
                      : ANY_EXCH | BIT(IKEV2_PLD_DELETE) | BIT(IKEV2_PLD_CP);
    default:
        return 0;
    }
}

static bool repeatable(uint8_t type)
{
    return type == IKEV2_PLD_NOTIFY || type == IKEV2_PLD_DELETE || type == IKEV2_PLD_VENDOR ||
           type == IKEV2_PLD_CERT || type == IKEV2_PLD_CERTREQ;
}

static int decode_one(const uint8_t *buf, size_t off, size_t len, uint8_t type,
                      struct ikev2_msg *m)
{
    switch (type) {
    case IKEV2_PLD_SA:
        return ikev2_pld_sa(buf, off, len, &m->sa);
    case IKEV2_PLD_KE:
        return ikev2_pld_ke(buf, off, len, &m->ke);
    case IKEV2_PLD_IDI:
        return ikev2_pld_id(buf, off, len, &m->idi);
    case IKEV2_PLD_IDR:
        return ikev2_pld_id(buf, off, len, &m->idr);
    case IKEV2_PLD_AUTH:
        return ikev2_pld_auth(buf, off, len, &m->auth);
    case IKEV2_PLD_NONCE:
        return ikev2_pld_nonce(buf, off, len, m);
    case IKEV2_PLD_NOTIFY:
        if (m->n_notify >= IKEV2_MAX_NOTIFY)
            return IKEV2_P_OK;      /* more than we look at: ignored */
        return ikev2_pld_notify(buf, off, len, &m->notify[m->n_notify++]);
    case IKEV2_PLD_DELETE:
        if (m->n_del >= IKEV2_MAX_DELETE)
            return IKEV2_P_OK;
        return ikev2_pld_delete(buf, off, len, &m->del[m->n_del++]);
    case IKEV2_PLD_TSI:
        return ikev2_pld_ts(buf, off, len, &m->tsi);
    case IKEV2_PLD_TSR:
        return ikev2_pld_ts(buf, off, len, &m->tsr);
    default:                        /* Vendor ID, CERT, CERTREQ, CP, EAP: not used */
        return IKEV2_P_OK;
    }
}

/* §2.5: unknown payloads are skipped unless critical; §3.2 generic header. */
int ikev2_pld_chain(const uint8_t *buf, size_t off, size_t end, uint8_t first,
                    bool inner, struct ikev2_msg *m)
{
    uint64_t ok = allowed(m->hdr.exchange, inner);
    uint8_t type = first;
    while (type != IKEV2_PLD_NONE) {
        if (end - off < IKEV2_GEN_LEN)
            return IKEV2_P_TRUNCATED;
        uint8_t next = buf[off];
        bool critical = buf[off + 1] & 0x80;
        size_t plen = wire_get16(buf + off + 2);
        if (plen < IKEV2_GEN_LEN)
            return IKEV2_P_BAD_LENGTH;
        if (plen > end - off)
            return IKEV2_P_TRUNCATED;
        bool known = type >= IKEV2_PLD_SA && type <= IKEV2_PLD_EAP;
        if (!known && critical) {
            m->critical_type = type;
            return IKEV2_P_CRITICAL;
        }
        if (known) {
            if (!(ok & BIT(type)) || (ikev2_has(m, type) && !repeatable(type)))
                return IKEV2_P_NOT_ALLOWED;
            m->seen |= BIT(type);
        }
        if (type == IKEV2_PLD_SK) {         /* §3.14: always the last payload */
            if (off + plen != end)
                return IKEV2_P_BAD_LENGTH;
            m->sk_off = off;
            m->sk_len = plen - IKEV2_GEN_LEN;
            m->sk_first = next;
            return IKEV2_P_OK;
        }
        if (known) {
            int rc = decode_one(buf, off + IKEV2_GEN_LEN, plen - IKEV2_GEN_LEN, type, m);
            if (rc)
                return rc;
        }
        off += plen;
        type = next;
    }
    return off == end ? IKEV2_P_OK : IKEV2_P_BAD_LENGTH;
}

int ikev2_msg_decode(const uint8_t *buf, size_t len, struct ikev2_msg *m)
{
    memset(m, 0, sizeof(*m));
    int rc = ikev2_hdr_decode(buf, len, &m->hdr);
    if (rc)
        return rc;
    return ikev2_pld_chain(buf, IKEV2_HDR_LEN, len, m->hdr.next, false, m);
}
