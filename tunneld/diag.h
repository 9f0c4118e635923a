/*
 * Errors found in config files, collected rather than returned one at a
 * time: an admin fixing a file wants every problem in one run, in file
 * order, each as `FILE:LINE:COL: message`. Messages never hold secrets.
 */
#ifndef TUNNELD_DIAG_H
#define TUNNELD_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag_entry {
    unsigned file;      /* index into diag.files */
    unsigned line, col; /* 1-based */
    unsigned seq;       /* insertion order: ties keep it */
    char *msg;
};

struct diag {
    char **files;
    unsigned n_files;
    struct diag_entry *v;
    size_t n, cap;
    bool oom; /* an entry could not be stored: say so rather than pass */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

void diag_add(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Errors so far (an out-of-memory condition counts as one). */
size_t diag_count(const struct diag *d);

/* By file (in the order first seen), line, column; exact repeats dropped. */
void diag_sort(struct diag *d);

const char *diag_file(const struct diag *d, const struct diag_entry *e);

/* One `FILE:LINE:COL: message` line per entry. */
void diag_print(const struct diag *d, FILE *out);

#endif
