/*
 * Bounds-checked reader and writer for wire formats. A reader never reads
 * past its length: the first out-of-bounds access sets err and every later
 * read returns zeros, so a decoder checks err once at the end (or earlier).
 */
#ifndef IKECORE_WIRE_H
#define IKECORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_rd {
    const uint8_t *p;
    size_t len, off;
    bool err;
};

struct wire_wr {
    uint8_t *p;
    size_t cap, len;
    bool err;
};

void wire_rd_init(struct wire_rd *r, const uint8_t *p, size_t len);
size_t wire_rd_left(const struct wire_rd *r);
uint8_t wire_u8(struct wire_rd *r);
uint16_t wire_u16(struct wire_rd *r);
uint32_t wire_u32(struct wire_rd *r);
uint64_t wire_u64(struct wire_rd *r);
/* Pointer to the next n bytes (advanced past), or NULL and err. */
const uint8_t *wire_bytes(struct wire_rd *r, size_t n);
bool wire_copy(struct wire_rd *r, void *out, size_t n);
bool wire_skip(struct wire_rd *r, size_t n);

void wire_wr_init(struct wire_wr *w, uint8_t *p, size_t cap);
void wire_put_u8(struct wire_wr *w, uint8_t v);
void wire_put_u16(struct wire_wr *w, uint16_t v);
void wire_put_u32(struct wire_wr *w, uint32_t v);
void wire_put_u64(struct wire_wr *w, uint64_t v);
void wire_put_bytes(struct wire_wr *w, const void *p, size_t n);
/* Reserve n bytes to fill in later (lengths); returns the offset or SIZE_MAX. */
size_t wire_reserve(struct wire_wr *w, size_t n);
void wire_set_u16(struct wire_wr *w, size_t off, uint16_t v);
void wire_set_u32(struct wire_wr *w, size_t off, uint32_t v);
void wire_set_u8(struct wire_wr *w, size_t off, uint8_t v);

uint16_t wire_get16(const uint8_t *p);
uint32_t wire_get32(const uint8_t *p);
uint64_t wire_get64(const uint8_t *p);

#endif
