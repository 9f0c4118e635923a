/*
 * IKEv2 payload encoders (RFC 7296 §3), one per payload type. Each payload
 * writes its generic header through ikev2_pld_begin, which links it into the
 * previous payload's Next Payload field, and its length through
 * ikev2_pld_end. Overflow of the buffer sticks in the writer's err.
 */
#include "ikev2_pld.h"

void ikev2_enc_init(struct ikev2_enc *e, uint8_t *buf, size_t cap, bool with_hdr)
{
    wire_wr_init(&e->w, buf, cap);
    e->next_off = with_hdr ? 16 : SIZE_MAX;
    e->first = IKEV2_PLD_NONE;
}

void ikev2_put_hdr(struct ikev2_enc *e, const struct ikev2_hdr *h)
{
    wire_put_u64(&e->w, h->spi_i);
    wire_put_u64(&e->w, h->spi_r);
    wire_put_u8(&e->w, h->next);
    wire_put_u8(&e->w, 0x20);           /* version 2.0 */
    wire_put_u8(&e->w, h->exchange);
    wire_put_u8(&e->w, h->flags);
    wire_put_u32(&e->w, h->msgid);
    wire_put_u32(&e->w, 0);             /* length: ikev2_enc_finish */
    e->next_off = 16;
}

bool ikev2_enc_finish(struct ikev2_enc *e)
{
    if (e->w.err || e->w.len > UINT32_MAX)
        return false;
    if (e->next_off != SIZE_MAX && e->w.len >= IKEV2_HDR_LEN)
        wire_set_u32(&e->w, 24, (uint32_t)e->w.len);
    return true;
}

size_t ikev2_pld_begin(struct ikev2_enc *e, uint8_t type)
{
    if (e->next_off == SIZE_MAX)
        e->first = type;
    else
        wire_set_u8(&e->w, e->next_off, type);
    size_t start = e->w.len;
    wire_put_u32(&e->w, 0);             /* next, flags, length */
    e->next_off = start;
    return start;
}

void ikev2_pld_end(struct ikev2_enc *e, size_t start)
{
    size_t n = e->w.len - start;
    if (n > 0xffff)
        e->w.err = true;
    wire_set_u16(&e->w, start + 2, (uint16_t)n);
}

static void put_transform(struct wire_wr *w, const struct ikev2_xf *xf, bool last)
{
    wire_put_u8(w, last ? 0 : 3);
    wire_put_u8(w, 0);
    wire_put_u16(w, xf->key_bits ? 12 : 8);
    wire_put_u8(w, xf->type);
    wire_put_u8(w, 0);
    wire_put_u16(w, xf->id);
    if (xf->key_bits) {
        wire_put_u16(w, 0x8000 | IKEV2_ATTR_KEY_LENGTH);
        wire_put_u16(w, xf->key_bits);
    }
}

/* §3.3 */
void ikev2_put_sa(struct ikev2_enc *e, const struct ikev2_prop *p, unsigned n)
{
    size_t start = ikev2_pld_begin(e, IKEV2_PLD_SA);
    for (unsigned i = 0; i < n; i++) {
        size_t ps = e->w.len;
        wire_put_u8(&e->w, i + 1 == n ? 0 : 2);
        wire_put_u8(&e->w, 0);
        wire_put_u16(&e->w, 0);
        wire_put_u8(&e->w, p[i].num);
        wire_put_u8(&e->w, p[i].proto);
        wire_put_u8(&e->w, p[i].spi_size);
        wire_put_u8(&e->w, p[i].n_xf);
        wire_put_bytes(&e->w, p[i].spi, p[i].spi_size);
        for (unsigned j = 0; j < p[i].n_xf; j++)
            put_transform(&e->w, &p[i].xf[j], j + 1 == p[i].n_xf);
        wire_set_u16(&e->w, ps + 2, (uint16_t)(e->w.len - ps));
    }
    ikev2_pld_end(e, start);
}

/* §3.4 */
void ikev2_put_ke(struct ikev2_enc *e, uint16_t group, const uint8_t *d, size_t n)
{
    size_t start = ikev2_pld_begin(e, IKEV2_PLD_KE);
    wire_put_u16(&e->w, group);
    wire_put_u16(&e->w, 0);
    wire_put_bytes(&e->w, d, n);
    ikev2_pld_end(e, start);
}

/* §3.5 */
void ikev2_put_id(struct ikev2_enc *e, uint8_t pld, uint8_t type, const uint8_t *d, size_t n)
{
    size_t start = ikev2_pld_begin(e, pld);
    wire_put_u8(&e->w, type);
    wire_put_u8(&e->w, 0);
    wire_put_u16(&e->w, 0);
    wire_put_bytes(&e->w, d, n);
    ikev2_pld_end(e, start);
}

/* §3.8 */
void ikev2_put_auth(struct ikev2_enc *e, uint8_t method, const uint8_t *d, size_t n)
{
    ikev2_put_id(e, IKEV2_PLD_AUTH, method, d, n);
}

static void put_raw(struct ikev2_enc *e, uint8_t type, const uint8_t *d, size_t n)
{
    size_t start = ikev2_pld_begin(e, type);
    wire_put_bytes(&e->w, d, n);
    ikev2_pld_end(e, start);
}

/* §3.9 */
void ikev2_put_nonce(struct ikev2_enc *e, const uint8_t *d, size_t n)
{
    put_raw(e, IKEV2_PLD_NONCE, d, n);
}

/* §3.10 */
void ikev2_put_notify(struct ikev2_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t type, const uint8_t *d, size_t n)
{
    size_t start = ikev2_pld_begin(e, IKEV2_PLD_NOTIFY);
    wire_put_u8(&e->w, proto);
    wire_put_u8(&e->w, spi_size);
    wire_put_u16(&e->w, type);
    wire_put_bytes(&e->w, spi, spi_size);
    wire_put_bytes(&e->w, d, n);
    ikev2_pld_end(e, start);
}

/* §3.11: proto IKE has no SPIs (n = 0). */
void ikev2_put_delete(struct ikev2_enc *e, uint8_t proto, const uint32_t *spi, unsigned n)
{
    size_t start = ikev2_pld_begin(e, IKEV2_PLD_DELETE);
    wire_put_u8(&e->w, proto);
    wire_put_u8(&e->w, proto == IKEV2_PROTO_IKE ? 0 : 4);
    wire_put_u16(&e->w, (uint16_t)n);
    for (unsigned i = 0; i < n; i++)
        wire_put_u32(&e->w, spi[i]);
    ikev2_pld_end(e, start);
}

/* §3.13 */
void ikev2_put_ts(struct ikev2_enc *e, uint8_t pld, const struct ikev2_ts *ts, unsigned n)
{
    size_t start = ikev2_pld_begin(e, pld);
    wire_put_u8(&e->w, (uint8_t)n);
    wire_put_u8(&e->w, 0);
    wire_put_u16(&e->w, 0);
    for (unsigned i = 0; i < n; i++) {
        size_t alen = ts[i].type == IKEV2_TS_IPV6 ? 16 : 4;
        wire_put_u8(&e->w, ts[i].type);
        wire_put_u8(&e->w, ts[i].proto);
        wire_put_u16(&e->w, (uint16_t)(8 + 2 * alen));
        wire_put_u16(&e->w, ts[i].sport);
        wire_put_u16(&e->w, ts[i].eport);
        wire_put_bytes(&e->w, ts[i].saddr, alen);
        wire_put_bytes(&e->w, ts[i].eaddr, alen);
    }
    ikev2_pld_end(e, start);
}

/* §3.12 */
void ikev2_put_vendor(struct ikev2_enc *e, const uint8_t *d, size_t n)
{
    put_raw(e, IKEV2_PLD_VENDOR, d, n);
}
