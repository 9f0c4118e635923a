/* Bounds-checked big-endian reader and writer (see wire.h). */
#include "wire.h"

#include <string.h>

void wire_rd_init(struct wire_rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->err = false;
}

size_t wire_rd_left(const struct wire_rd *r)
{
    return r->err ? 0 : r->len - r->off;
}

const uint8_t *wire_bytes(struct wire_rd *r, size_t n)
{
    if (n == 0 && !r->err)
        return r->p ? r->p + r->off : NULL;
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

bool wire_skip(struct wire_rd *r, size_t n)
{
    if (n == 0)
        return !r->err;
    return wire_bytes(r, n) != NULL;
}

bool wire_copy(struct wire_rd *r, void *out, size_t n)
{
    if (n == 0)
        return !r->err;
    const uint8_t *p = wire_bytes(r, n);
    if (!p)
        return false;
    memcpy(out, p, n);
    return true;
}

uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t wire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t wire_get64(const uint8_t *p)
{
    return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

uint8_t wire_u8(struct wire_rd *r)
{
    const uint8_t *p = wire_bytes(r, 1);
    return p ? p[0] : 0;
}

uint16_t wire_u16(struct wire_rd *r)
{
    const uint8_t *p = wire_bytes(r, 2);
    return p ? wire_get16(p) : 0;
}

uint32_t wire_u32(struct wire_rd *r)
{
    const uint8_t *p = wire_bytes(r, 4);
    return p ? wire_get32(p) : 0;
}

uint64_t wire_u64(struct wire_rd *r)
{
    const uint8_t *p = wire_bytes(r, 8);
    return p ? wire_get64(p) : 0;
}

void wire_wr_init(struct wire_wr *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->cap = p ? cap : 0;
    w->len = 0;
    w->err = false;
}

size_t wire_reserve(struct wire_wr *w, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = true;
        return SIZE_MAX;
    }
    size_t off = w->len;
    if (n)
        memset(w->p + off, 0, n);
    w->len += n;
    return off;
}

void wire_put_bytes(struct wire_wr *w, const void *p, size_t n)
{
    size_t off = wire_reserve(w, n);
    if (off != SIZE_MAX && n)
        memcpy(w->p + off, p, n);
}

void wire_set_u8(struct wire_wr *w, size_t off, uint8_t v)
{
    if (!w->err && off < w->len)
        w->p[off] = v;
}

void wire_set_u16(struct wire_wr *w, size_t off, uint16_t v)
{
    if (!w->err && off <= w->len && w->len - off >= 2) {
        w->p[off] = (uint8_t)(v >> 8);
        w->p[off + 1] = (uint8_t)v;
    }
}

void wire_set_u32(struct wire_wr *w, size_t off, uint32_t v)
{
    wire_set_u16(w, off, (uint16_t)(v >> 16));
    wire_set_u16(w, off + 2, (uint16_t)v);
}

void wire_put_u8(struct wire_wr *w, uint8_t v)
{
    wire_put_bytes(w, &v, 1);
}

void wire_put_u16(struct wire_wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    wire_put_bytes(w, b, 2);
}

void wire_put_u32(struct wire_wr *w, uint32_t v)
{
    wire_put_u16(w, (uint16_t)(v >> 16));
    wire_put_u16(w, (uint16_t)v);
}

void wire_put_u64(struct wire_wr *w, uint64_t v)
{
    wire_put_u32(w, (uint32_t)(v >> 32));
    wire_put_u32(w, (uint32_t)v);
}
