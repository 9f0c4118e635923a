#include "suggest.h"

#include <string.h>

#define MAXW 64

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
    unsigned m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance, three rolling rows (no VLA, no malloc). */
static unsigned distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned rows[3][MAXW + 1];
    unsigned *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            c[j] = min3(p[j] + 1, c[j - 1] + 1, p[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < c[j])
                c[j] = pp[j - 2] + 1;
        }
        unsigned *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

static unsigned limit_for(const char *word)
{
    return strlen(word) <= 4 ? 1 : 2;
}

const char *suggest_in(const char *word, const void *table, size_t stride, size_t n)
{
    if (strlen(word) > MAXW)
        return NULL;
    const char *best = NULL;
    unsigned best_d = limit_for(word) + 1;
    for (size_t i = 0; i < n; i++) {
        const char *cand = *(const char *const *)((const char *)table + i * stride);
        if (!cand || strlen(cand) > MAXW)
            continue;
        unsigned d = distance(word, cand);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best;
}

const char *suggest(const char *word, const char *const *cands)
{
    size_t n = 0;
    while (cands[n])
        n++;
    return suggest_in(word, cands, sizeof(cands[0]), n);
}
