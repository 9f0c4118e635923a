/*
 * Known-answer files for the crypto suites (test_crypto.c, test_prf.c,
 * test_dh.c, test_keys_v1.c, test_keys_v2.c): $TEST_DATA/kat/<name>.txt,
 * written by tests/data/kat/gen_kat.py. Blocks of "name = hex" lines
 * separated by blank lines; '#' starts a comment line. Not a suite itself.
 */
#ifndef TESTS_CRYPTO_KAT_H
#define TESTS_CRYPTO_KAT_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAT_MAX_FIELDS 32

struct kat_field {
    const char *name, *value;
};

struct kat_block {
    unsigned line;                  /* of the first field, for messages */
    unsigned n;
    struct kat_field f[KAT_MAX_FIELDS];
};

struct kat_file {
    char name[64];
    char *text;                     /* the file, cut into strings in place */
    struct kat_block *b;
    unsigned n;
};

static inline char *kat_read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (is TEST_DATA set?)", path);
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 65536;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static inline char *kat_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* One "name = value" line into the current block (opened when needed). */
static inline void kat_add(struct kat_file *k, char *line, unsigned lineno, bool *open)
{
    char *eq = strchr(line, '=');
    ck_assert_msg(eq != NULL, "%s:%u: expected 'name = value'", k->name, lineno);
    *eq = '\0';
    if (!*open) {
        k->b = realloc(k->b, (k->n + 1) * sizeof(*k->b));
        ck_assert_ptr_nonnull(k->b);
        memset(&k->b[k->n], 0, sizeof(k->b[0]));
        k->b[k->n].line = lineno;
        k->n++;
        *open = true;
    }
    struct kat_block *b = &k->b[k->n - 1];
    ck_assert_msg(b->n < KAT_MAX_FIELDS, "%s:%u: too many fields", k->name, lineno);
    b->f[b->n].name = kat_trim(line);
    b->f[b->n].value = kat_trim(eq + 1);
    b->n++;
}

static inline void kat_load(struct kat_file *k, const char *name)
{
    const char *dir = getenv("TEST_DATA");
    char path[512];
    memset(k, 0, sizeof(*k));
    snprintf(k->name, sizeof(k->name), "%s.txt", name);
    snprintf(path, sizeof(path), "%s/kat/%s.txt", dir ? dir : "tests/data", name);
    k->text = kat_read_all(path);
    bool open = false;
    unsigned lineno = 0;
    for (char *line = k->text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *t = kat_trim(line);
        if (!*t)
            open = false;
        else if (*t != '#')
            kat_add(k, t, lineno, &open);
    }
    ck_assert_msg(k->n > 0, "%s: no blocks", k->name);
}

static inline void kat_free(struct kat_file *k)
{
    free(k->b);
    free(k->text);
    memset(k, 0, sizeof(*k));
}

static inline const char *kat_str(const struct kat_block *b, const char *name)
{
    for (unsigned i = 0; i < b->n; i++)
        if (!strcmp(b->f[i].name, name))
            return b->f[i].value;
    return NULL;
}

static inline bool kat_has(const struct kat_block *b, const char *name)
{
    return kat_str(b, name) != NULL;
}

static inline unsigned long kat_uint(const struct kat_block *b, const char *name)
{
    const char *s = kat_str(b, name);
    ck_assert_msg(s != NULL, "line %u: no field '%s'", b->line, name);
    return strtoul(s, NULL, 10);
}

static inline int kat_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The hex field name decoded into a new buffer (never NULL; one spare byte); *len its length. */
static inline uint8_t *kat_bytes(const struct kat_block *b, const char *name, size_t *len)
{
    const char *s = kat_str(b, name);
    ck_assert_msg(s != NULL, "line %u: no field '%s'", b->line, name);
    size_t n = strlen(s);
    ck_assert_msg(n % 2 == 0, "line %u: odd hex length in '%s'", b->line, name);
    uint8_t *out = malloc(n / 2 + 1);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = kat_nibble(s[2 * i]), lo = kat_nibble(s[2 * i + 1]);
        ck_assert_msg(hi >= 0 && lo >= 0, "line %u: bad hex in '%s'", b->line, name);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

/* A fixed-size hex field (e.g. an 8-byte SPI) as a big-endian integer. */
static inline uint64_t kat_be(const struct kat_block *b, const char *name)
{
    size_t n;
    uint8_t *p = kat_bytes(b, name, &n);
    ck_assert_msg(n <= 8, "line %u: '%s' longer than 8 bytes", b->line, name);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    free(p);
    return v;
}

/* Compare got[0..n) with the hex field name, naming the block on failure. */
#define kat_assert_eq(b, name, got, n) \
    do { \
        size_t kat_n_; \
        uint8_t *kat_w_ = kat_bytes((b), (name), &kat_n_); \
        ck_assert_msg(kat_n_ == (size_t)(n), "line %u: %s: length %zu, want %zu", (b)->line, \
                      (name), (size_t)(n), kat_n_); \
        ck_assert_msg(memcmp((got), kat_w_, kat_n_) == 0, "line %u: %s differs", (b)->line, \
                      (name)); \
        free(kat_w_); \
    } while (0)

#endif
