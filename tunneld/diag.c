#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
    memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
    for (unsigned i = 0; i < d->n_files; i++)
        free(d->files[i]);
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].msg);
    free(d->files);
    free(d->v);
    diag_init(d);
}

/* Files are few (a site file and its profiles): a linear search is enough. */
static int file_index(struct diag *d, const char *file)
{
    for (unsigned i = 0; i < d->n_files; i++)
        if (strcmp(d->files[i], file) == 0)
            return (int)i;
    char **nf = realloc(d->files, (d->n_files + 1) * sizeof(*nf));
    if (!nf)
        return -1;
    d->files = nf;
    if (!(nf[d->n_files] = strdup(file)))
        return -1;
    return (int)d->n_files++;
}

static bool grow(struct diag *d)
{
    if (d->n < d->cap)
        return true;
    size_t cap = d->cap ? d->cap * 2 : 16;
    struct diag_entry *nv = realloc(d->v, cap * sizeof(*nv));
    if (!nv)
        return false;
    d->v = nv;
    d->cap = cap;
    return true;
}

void diag_add(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    int fi = file_index(d, file);
    if (r < 0 || fi < 0 || !grow(d)) {
        if (r >= 0)
            free(msg);
        d->oom = true;
        return;
    }
    d->v[d->n] = (struct diag_entry){(unsigned)fi, line, col, (unsigned)d->n, msg};
    d->n++;
}

size_t diag_count(const struct diag *d)
{
    return d->n + (d->oom ? 1 : 0);
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct diag_entry *a = pa, *b = pb;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * A profile shared by several peers can yield the same error once per peer;
 * the admin needs it once.
 */
static bool seen_at_same_place(const struct diag *d, size_t upto, const struct diag_entry *e)
{
    for (size_t j = upto; j-- > 0;) {
        const struct diag_entry *p = &d->v[j];
        if (p->file != e->file || p->line != e->line || p->col != e->col)
            return false;
        if (strcmp(p->msg, e->msg) == 0)
            return true;
    }
    return false;
}

void diag_sort(struct diag *d)
{
    if (d->n == 0)
        return;
    qsort(d->v, d->n, sizeof(d->v[0]), cmp_entry);
    size_t out = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (seen_at_same_place(d, out, &d->v[i])) {
            free(d->v[i].msg);
            continue;
        }
        d->v[out++] = d->v[i];
    }
    d->n = out;
}

const char *diag_file(const struct diag *d, const struct diag_entry *e)
{
    return d->files[e->file];
}

void diag_print(const struct diag *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_entry *e = &d->v[i];
        fprintf(out, "%s:%u:%u: %s\n", diag_file(d, e), e->line, e->col, e->msg);
    }
    if (d->oom)
        fprintf(out, "tunneld: out of memory while collecting errors; some are missing\n");
}
