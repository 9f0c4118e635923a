/*
 * A YAML file loaded with libyaml into a small tree that keeps every node's
 * position, so the schema walker can say `FILE:LINE:COL:` about any key or
 * value. One document per file; aliases are refused (a config has no use for
 * them, and expanding them is how "billion laughs" files blow up).
 */
#ifndef TUNNELD_YAML_TREE_H
#define TUNNELD_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "diag.h"

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ypair;

struct ynode {
    enum ynode_kind kind;
    unsigned line, col; /* 1-based, from libyaml's start mark */
    bool plain;         /* scalar written without quotes */
    bool quoted;        /* '...' or "...": the text starts one column after the mark */
    char *str;          /* scalar text, NUL-terminated */
    size_t len;
    size_t n;             /* items or pairs */
    struct ynode **items; /* YN_SEQ */
    struct ypair *pairs;  /* YN_MAP, in file order */
};

struct ypair {
    struct ynode *key, *value;
};

struct ytree {
    char *file;         /* the path as given: it prefixes every error */
    struct ynode *root; /* NULL when the file holds no document */
    struct stat st;     /* of the file as opened: the PSK rules read its mode */
};

#define YTREE_MAX_BYTES (1024 * 1024)
#define YTREE_MAX_DEPTH 32

/* 0, or -1 with the reason in d (unreadable file, YAML syntax, too deep). */
int ytree_load(const char *path, struct ytree *t, struct diag *d);

/* Frees the tree; every scalar is wiped first, since any of them may be a PSK. */
void ytree_free(struct ytree *t);

/* An empty plain scalar, "~" or "null": a key given without a value. */
bool ynode_is_null(const struct ynode *n);

/* "a mapping", "a list", "a value", "nothing": for "expected X, got Y". */
const char *ynode_kind_name(const struct ynode *n);

#endif
