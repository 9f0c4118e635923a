#include "yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

struct loader {
    yaml_parser_t parser;
    const char *file;
    struct diag *d;
};

static void node_free(struct ynode *n)
{
    if (!n)
        return;
    if (n->str) {
        OPENSSL_cleanse(n->str, n->len);
        free(n->str);
    }
    for (size_t i = 0; n->kind == YN_SEQ && i < n->n; i++)
        node_free(n->items[i]);
    for (size_t i = 0; n->kind == YN_MAP && i < n->n; i++) {
        node_free(n->pairs[i].key);
        node_free(n->pairs[i].value);
    }
    free(n->items);
    free(n->pairs);
    free(n);
}

static void event_free(yaml_event_t *ev)
{
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value)
        OPENSSL_cleanse(ev->data.scalar.value, ev->data.scalar.length);
    yaml_event_delete(ev);
}

static struct ynode *node_new(enum ynode_kind kind, const yaml_mark_t *m)
{
    struct ynode *n = calloc(1, sizeof(*n));
    if (n) {
        n->kind = kind;
        n->line = (unsigned)m->line + 1;
        n->col = (unsigned)m->column + 1;
    }
    return n;
}

static int oom(struct loader *ld, const yaml_mark_t *m)
{
    diag_add(ld->d, ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1, "out of memory");
    return -1;
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
    if (yaml_parser_parse(&ld->parser, ev))
        return 0;
    const yaml_parser_t *p = &ld->parser;
    const yaml_mark_t *m = &p->problem_mark;
    diag_add(ld->d, ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
             "invalid YAML: %s%s%s", p->problem ? p->problem : "syntax error",
             p->context ? " " : "", p->context ? p->context : "");
    return -1;
}

static int build(struct loader *ld, yaml_event_t *ev, unsigned depth, struct ynode **out);

static int append(struct ynode *n, struct ynode *child)
{
    if (n->kind == YN_SEQ) {
        struct ynode **v = realloc(n->items, (n->n + 1) * sizeof(*v));
        if (!v)
            return -1;
        n->items = v;
        n->items[n->n++] = child;
        return 0;
    }
    /* A map: keys at even positions, completed by the value that follows. */
    if (n->n && !n->pairs[n->n - 1].value) {
        n->pairs[n->n - 1].value = child;
        return 0;
    }
    struct ypair *v = realloc(n->pairs, (n->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    n->pairs = v;
    n->pairs[n->n++] = (struct ypair){child, NULL};
    return 0;
}

/* Reads children until the end event of a sequence or mapping. */
static int build_children(struct loader *ld, struct ynode *n, unsigned depth)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(ld, &ev) < 0)
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            event_free(&ev);
            return 0;
        }
        struct ynode *child = NULL;
        yaml_mark_t m = ev.start_mark;
        int r = build(ld, &ev, depth + 1, &child);
        event_free(&ev);
        if (r < 0)
            return -1;
        if (append(n, child) < 0) {
            node_free(child);
            return oom(ld, &m);
        }
    }
}

static int build_scalar(struct loader *ld, const yaml_event_t *ev, struct ynode *n)
{
    n->len = ev->data.scalar.length;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    n->str = malloc(n->len + 1);
    if (!n->str)
        return oom(ld, &ev->start_mark);
    memcpy(n->str, ev->data.scalar.value, n->len);
    n->str[n->len] = '\0';
    return 0;
}

/* Builds the node that ev starts; ev stays owned by the caller. */
static int build(struct loader *ld, yaml_event_t *ev, unsigned depth, struct ynode **out)
{
    const yaml_mark_t *m = &ev->start_mark;
    if (ev->type == YAML_ALIAS_EVENT) {
        diag_add(ld->d, ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                 "YAML aliases (*%s) are not supported: write the value out",
                 ev->data.alias.anchor);
        return -1;
    }
    if (depth > YTREE_MAX_DEPTH) {
        diag_add(ld->d, ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                 "nested deeper than %d levels", YTREE_MAX_DEPTH);
        return -1;
    }
    enum ynode_kind kind = ev->type == YAML_SCALAR_EVENT           ? YN_SCALAR
                           : ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ
                                                                   : YN_MAP;
    struct ynode *n = node_new(kind, m);
    if (!n)
        return oom(ld, m);
    int r = kind == YN_SCALAR ? build_scalar(ld, ev, n) : build_children(ld, n, depth);
    if (r < 0) {
        node_free(n);
        return -1;
    }
    *out = n;
    return 0;
}

/* STREAM-START, then at most one document. */
static int build_stream(struct loader *ld, struct ynode **root)
{
    yaml_event_t ev;
    int r = 0;
    bool in_doc = false, done = false;
    while (r == 0 && !done) {
        if (next_event(ld, &ev) < 0)
            return -1;
        const yaml_mark_t *m = &ev.start_mark;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_STREAM_START_EVENT: break;
        case YAML_DOCUMENT_END_EVENT: in_doc = false; break;
        case YAML_DOCUMENT_START_EVENT:
            if (*root || in_doc) {
                diag_add(ld->d, ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                         "a second YAML document: one file holds one document");
                r = -1;
            }
            in_doc = true;
            break;
        default: r = build(ld, &ev, 0, root); break;
        }
        event_free(&ev);
    }
    return r;
}

static int read_file(const char *path, struct ytree *t, char **buf, size_t *len, struct diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        diag_add(d, path, 1, 1, "cannot open: %s", strerror(errno));
        return -1;
    }
    int r = -1;
    if (fstat(fd, &t->st) < 0)
        diag_add(d, path, 1, 1, "cannot stat: %s", strerror(errno));
    else if (!S_ISREG(t->st.st_mode))
        diag_add(d, path, 1, 1, "not a regular file");
    else if (t->st.st_size > YTREE_MAX_BYTES)
        diag_add(d, path, 1, 1, "larger than %d bytes: not a config file", YTREE_MAX_BYTES);
    else if (!(*buf = malloc((size_t)t->st.st_size + 1)))
        diag_add(d, path, 1, 1, "out of memory");
    else
        r = 0;
    size_t got = 0;
    while (r == 0 && got < (size_t)t->st.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)t->st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            diag_add(d, path, 1, 1, "cannot read: %s", n < 0 ? strerror(errno) : "file shrank");
            r = -1;
        }
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    *len = got;
    return r;
}

/* libyaml frees its buffers without wiping them; they held the whole file. */
static void parser_wipe_and_delete(yaml_parser_t *p)
{
    if (p->raw_buffer.start)
        OPENSSL_cleanse(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
    if (p->buffer.start)
        OPENSSL_cleanse(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    yaml_parser_delete(p);
}

int ytree_load(const char *path, struct ytree *t, struct diag *d)
{
    memset(t, 0, sizeof(*t));
    if (!(t->file = strdup(path))) {
        diag_add(d, path, 1, 1, "out of memory");
        return -1;
    }
    char *buf = NULL;
    size_t len = 0;
    if (read_file(path, t, &buf, &len, d) < 0) {
        free(buf);
        return -1;
    }
    struct loader ld = {.file = path, .d = d};
    int r = -1;
    if (!yaml_parser_initialize(&ld.parser)) {
        diag_add(d, path, 1, 1, "out of memory");
    } else {
        yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf, len);
        r = build_stream(&ld, &t->root);
        parser_wipe_and_delete(&ld.parser);
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (r < 0) {
        node_free(t->root);
        t->root = NULL;
    }
    return r;
}

void ytree_free(struct ytree *t)
{
    node_free(t->root);
    free(t->file);
    memset(t, 0, sizeof(*t));
}

bool ynode_is_null(const struct ynode *n)
{
    if (!n)
        return true;
    if (n->kind != YN_SCALAR || !n->plain)
        return false;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const char *ynode_kind_name(const struct ynode *n)
{
    if (ynode_is_null(n))
        return "nothing";
    switch (n->kind) {
    case YN_MAP: return "a mapping";
    case YN_SEQ: return "a list";
    default: return "a value";
    }
}
