/*
 * Pre-shared keys: inline, or "file:PATH". Whatever goes wrong, the message
 * names the file and the rule, never a byte of the key. A key lying in a
 * file that group or other can read is refused: on a box several people
 * administer, that file is how the key leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"

#define PSK_MIN_CHARS 20

/* Characters, not bytes: a UTF-8 passphrase is judged by what the admin typed. */
static size_t utf8_chars(const uint8_t *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (p[i] & 0xc0) != 0x80;
    return n;
}

static int check_len(struct pctx *pc, const struct ynode *v, const char *where, const uint8_t *p,
                     size_t len)
{
    size_t chars = utf8_chars(p, len);
    if (len == 0) {
        pc_error(pc, v, "psk: %s is empty", where);
        return -1;
    }
    if (len > IKE_MAX_PSK) {
        pc_error(pc, v, "psk: %s is longer than %d bytes", where, IKE_MAX_PSK);
        return -1;
    }
    if (chars < PSK_MIN_CHARS) {
        pc_error(pc, v,
                 "psk: %s is too short: %zu characters, at least %d "
                 "(e.g. openssl rand -base64 24)",
                 where, chars, PSK_MIN_CHARS);
        return -1;
    }
    return 0;
}

/* A relative path is taken from the config file's directory, not from tunneld's cwd. */
static char *resolve_path(const char *cfgfile, const char *path)
{
    char *out = NULL;
    if (path[0] == '/')
        return strdup(path);
    char *copy = strdup(cfgfile);
    if (copy && asprintf(&out, "%s/%s", dirname(copy), path) < 0)
        out = NULL;
    free(copy);
    return out;
}

static int read_key(int fd, struct opt_psk *o, size_t *len)
{
    uint8_t buf[IKE_MAX_PSK + 3];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return -1;
        }
        got += (size_t)n;
        if (n == 0 || got == sizeof(buf))
            break;
    }
    /* One trailing newline is what `echo` and editors add, not part of the key. */
    if (got && buf[got - 1] == '\n')
        got--;
    if (got && buf[got - 1] == '\r')
        got--;
    *len = got;
    memcpy(o->v, buf, got < IKE_MAX_PSK ? got : IKE_MAX_PSK);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

static int psk_file(struct pctx *pc, const struct ynode *v, const char *path, struct opt_psk *o)
{
    if (!*path) {
        pc_error(pc, v, "psk: 'file:' without a path");
        return -1;
    }
    char *full = resolve_path(pc->t->file, path);
    if (!full) {
        pc_error(pc, v, "out of memory");
        return -1;
    }
    struct stat st;
    size_t len = 0;
    int r = -1;
    /* O_NONBLOCK: a FIFO put there by mistake must not hang the check. */
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        pc_error(pc, v, "psk: cannot open PSK file %s: %s", full, strerror(errno));
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        pc_error(pc, v, "psk: PSK file %s is not a regular file", full);
    else if (st.st_mode & 077)
        pc_error(pc, v, "psk: PSK file %s is readable by group/other (mode %04o; chmod 600 %s)",
                 full, (unsigned)(st.st_mode & 07777), full);
    else if (read_key(fd, o, &len) < 0)
        pc_error(pc, v, "psk: cannot read PSK file %s: %s", full, strerror(errno));
    else
        r = 0;
    if (fd >= 0)
        close(fd);
    if (r == 0) {
        char where[300];
        snprintf(where, sizeof(where), "the key in %s", full);
        r = check_len(pc, v, where, o->v, len);
    }
    o->len = r == 0 ? len : 0;
    free(full);
    return r;
}

static int psk_inline(struct pctx *pc, const struct ynode *v, struct opt_psk *o)
{
    if (check_len(pc, v, "the key", (const uint8_t *)v->str, v->len) < 0)
        return -1;
    if (pc->t->st.st_mode & 077) {
        pc_error(pc, v, "inline PSK in a file readable by group/other (chmod 600 %s)", pc->t->file);
        return -1;
    }
    memcpy(o->v, v->str, v->len);
    o->len = v->len;
    return 0;
}

int h_psk(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
          void *dst)
{
    struct opt_psk *o = dst;
    if (v->kind != YN_SCALAR) {
        pc_error(pc, v, "psk: expected the key or 'file:PATH', got %s", ynode_kind_name(v));
        return -1;
    }
    int r =
        strncmp(v->str, "file:", 5) == 0 ? psk_file(pc, v, v->str + 5, o) : psk_inline(pc, v, o);
    if (r < 0) {
        OPENSSL_cleanse(o->v, sizeof(o->v));
        return -1;
    }
    o->set = true;
    o->at = mark_of(v);
    return 0;
}
