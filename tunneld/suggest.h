/* "did you mean ...?": the closest known word to a misspelt one. */
#ifndef TUNNELD_SUGGEST_H
#define TUNNELD_SUGGEST_H

#include <stddef.h>

/*
 * The candidate nearest to word by edit distance (a swap of two neighbours
 * counts as one edit, the commonest typo), or NULL when none is close enough
 * to be a plausible typo: at most 1 edit for words of up to 4 characters, 2
 * beyond. cands ends with a NULL entry.
 */
const char *suggest(const char *word, const char *const *cands);

/* The same over a table of structs whose first member is the name. */
const char *suggest_in(const char *word, const void *table, size_t stride, size_t n);

#endif
