/*
 * ISAKMP payload encoding (RFC 2408 §3). Every payload writes its generic
 * header through ikev1_pld_begin, which links it into the previous
 * payload's Next Payload field, and its length through ikev1_pld_end.
 * Overflow of the buffer sticks in the writer's err.
 */
#include "ikev1_pld.h"

void ikev1_enc_init(struct ikev1_enc *e, uint8_t *buf, size_t cap, bool with_hdr)
{
    wire_wr_init(&e->w, buf, cap);
    e->next_off = with_hdr ? 16 : SIZE_MAX;
    e->first = IKEV1_PLD_NONE;
}

void ikev1_put_hdr(struct ikev1_enc *e, const struct ikev1_hdr *h)
{
    wire_put_u64(&e->w, h->cky_i);
    wire_put_u64(&e->w, h->cky_r);
    wire_put_u8(&e->w, h->next);
    wire_put_u8(&e->w, IKEV1_VERSION);
    wire_put_u8(&e->w, h->exchange);
    wire_put_u8(&e->w, h->flags);
    wire_put_u32(&e->w, h->msgid);
    wire_put_u32(&e->w, 0);             /* length: ikev1_enc_finish */
    e->next_off = 16;
}

bool ikev1_enc_finish(struct ikev1_enc *e)
{
    if (e->w.err || e->w.len > UINT32_MAX)
        return false;
    if (e->next_off != SIZE_MAX && e->w.len >= IKEV1_HDR_LEN)
        wire_set_u32(&e->w, 24, (uint32_t)e->w.len);
    return true;
}

size_t ikev1_pld_begin(struct ikev1_enc *e, uint8_t type)
{
    if (e->next_off == SIZE_MAX)
        e->first = type;
    else
        wire_set_u8(&e->w, e->next_off, type);
    size_t start = e->w.len;
    wire_put_u32(&e->w, 0);             /* next, reserved, length */
    e->next_off = start;
    return start;
}

void ikev1_pld_end(struct ikev1_enc *e, size_t start)
{
    size_t n = e->w.len - start;
    if (n > 0xffff)
        e->w.err = true;
    wire_set_u16(&e->w, start + 2, (uint16_t)n);
}

/* §3.3: Life Duration is variable length (RFC 2409 App. A); TV only for what fits 16 bits. */
void ikev1_put_attr(struct wire_wr *w, uint16_t type, uint32_t val)
{
    if (val <= 0xffff) {
        wire_put_u16(w, 0x8000 | type);
        wire_put_u16(w, (uint16_t)val);
        return;
    }
    wire_put_u16(w, type);
    wire_put_u16(w, 4);
    wire_put_u32(w, val);
}

static void put_transform(struct wire_wr *w, const struct ikev1_xf *xf, bool last)
{
    size_t start = w->len;
    wire_put_u8(w, last ? IKEV1_PLD_NONE : IKEV1_PLD_T);
    wire_put_u8(w, 0);
    wire_put_u16(w, 0);
    wire_put_u8(w, xf->num);
    wire_put_u8(w, xf->id);
    wire_put_u16(w, 0);
    for (unsigned i = 0; i < xf->n_attr; i++)
        ikev1_put_attr(w, xf->a[i].type, xf->a[i].val);
    wire_set_u16(w, start + 2, (uint16_t)(w->len - start));
}

/* RFC 2407 §4.6.1 */
void ikev1_put_sa(struct ikev1_enc *e, const struct ikev1_prop *p, unsigned n)
{
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_SA);
    wire_put_u32(&e->w, IKEV1_DOI_IPSEC);
    wire_put_u32(&e->w, IKEV1_SIT_IDENTITY_ONLY);
    for (unsigned i = 0; i < n; i++) {
        size_t ps = e->w.len;
        wire_put_u8(&e->w, i + 1 == n ? IKEV1_PLD_NONE : IKEV1_PLD_P);
        wire_put_u8(&e->w, 0);
        wire_put_u16(&e->w, 0);
        wire_put_u8(&e->w, p[i].num);
        wire_put_u8(&e->w, p[i].proto);
        wire_put_u8(&e->w, p[i].spi_size);
        wire_put_u8(&e->w, p[i].n_xf);
        wire_put_bytes(&e->w, p[i].spi, p[i].spi_size);
        for (unsigned j = 0; j < p[i].n_xf; j++)
            put_transform(&e->w, &p[i].xf[j], j + 1 == p[i].n_xf);
        if (e->w.len - ps > 0xffff)
            e->w.err = true;
        wire_set_u16(&e->w, ps + 2, (uint16_t)(e->w.len - ps));
    }
    ikev1_pld_end(e, start);
}

static void put_data(struct ikev1_enc *e, uint8_t type, const uint8_t *d, size_t n)
{
    size_t start = ikev1_pld_begin(e, type);
    wire_put_bytes(&e->w, d, n);
    ikev1_pld_end(e, start);
}

void ikev1_put_ke(struct ikev1_enc *e, const uint8_t *d, size_t n)
{
    put_data(e, IKEV1_PLD_KE, d, n);
}

void ikev1_put_id(struct ikev1_enc *e, uint8_t type, uint8_t proto, uint16_t port,
                  const uint8_t *d, size_t n)
{
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_ID);
    wire_put_u8(&e->w, type);
    wire_put_u8(&e->w, proto);
    wire_put_u16(&e->w, port);
    wire_put_bytes(&e->w, d, n);
    ikev1_pld_end(e, start);
}

void ikev1_put_hash(struct ikev1_enc *e, const uint8_t *d, size_t n)
{
    put_data(e, IKEV1_PLD_HASH, d, n);
}

void ikev1_put_nonce(struct ikev1_enc *e, const uint8_t *d, size_t n)
{
    put_data(e, IKEV1_PLD_NONCE, d, n);
}

void ikev1_put_notify(struct ikev1_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t type, const uint8_t *d, size_t n)
{
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_N);
    wire_put_u32(&e->w, IKEV1_DOI_IPSEC);
    wire_put_u8(&e->w, proto);
    wire_put_u8(&e->w, spi_size);
    wire_put_u16(&e->w, type);
    wire_put_bytes(&e->w, spi, spi_size);
    wire_put_bytes(&e->w, d, n);
    ikev1_pld_end(e, start);
}

void ikev1_put_delete(struct ikev1_enc *e, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
                      uint16_t n)
{
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_D);
    wire_put_u32(&e->w, IKEV1_DOI_IPSEC);
    wire_put_u8(&e->w, proto);
    wire_put_u8(&e->w, spi_size);
    wire_put_u16(&e->w, n);
    wire_put_bytes(&e->w, spi, (size_t)spi_size * n);
    ikev1_pld_end(e, start);
}

void ikev1_put_vid(struct ikev1_enc *e, const uint8_t *d, size_t n)
{
    put_data(e, IKEV1_PLD_VID, d, n);
}

/* RFC 3947 §3.2 */
void ikev1_put_natd(struct ikev1_enc *e, const uint8_t *d, size_t n)
{
    put_data(e, IKEV1_PLD_NATD, d, n);
}

/* RFC 3947 §5.2 */
void ikev1_put_natoa(struct ikev1_enc *e, uint8_t type, const uint8_t *addr, size_t n)
{
    size_t start = ikev1_pld_begin(e, IKEV1_PLD_NATOA);
    wire_put_u8(&e->w, type);
    wire_put_u8(&e->w, 0);
    wire_put_u16(&e->w, 0);
    wire_put_bytes(&e->w, addr, n);
    ikev1_pld_end(e, start);
}
