/*
 * One handler per kind of value in the schema tables: each checks a node,
 * reports what was expected at the node's position, and on success stores
 * the value with set = true and its position.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "suggest.h"

void pc_error(struct pctx *pc, const struct ynode *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_add(pc->d, pc->t->file, at->line, at->col, "%s", msg);
}

const char *pc_key(const struct pctx *pc, const struct field *f, char *buf, size_t len)
{
    if (pc->section)
        snprintf(buf, len, "%s.%s", pc->section, f->key);
    else
        snprintf(buf, len, "%s", f->key);
    return buf;
}

struct cfg_mark mark_of(const struct ynode *n)
{
    return (struct cfg_mark){n->line, n->col};
}

/* The scalar's text, or NULL after saying what was expected instead. */
static const char *scalar(struct pctx *pc, const struct field *f, const struct ynode *v,
                          const char *expected)
{
    char k[64];
    if (v->kind == YN_SCALAR)
        return v->str;
    pc_error(pc, v, "%s: expected %s, got %s", pc_key(pc, f, k, sizeof(k)), expected,
             ynode_kind_name(v));
    return NULL;
}

static int bad_value(struct pctx *pc, const struct field *f, const struct ynode *v,
                     const char *expected)
{
    char k[64];
    pc_error(pc, v, "%s: expected %s, got '%.40s'", pc_key(pc, f, k, sizeof(k)), expected, v->str);
    return -1;
}

/* Decimal digits, and for durations one unit letter: s, m, h, d. */
static int parse_number(const char *s, bool duration, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    uint64_t unit = 1;
    if (duration && *p && !p[1]) {
        const char *units = "smhd";
        const uint64_t mult[] = {1, 60, 3600, 86400};
        const char *u = strchr(units, *p);
        if (!u)
            return -1;
        unit = mult[u - units];
        p++;
    }
    if (*p || v > UINT64_MAX / unit)
        return -1;
    *out = v * unit;
    return 0;
}

static void describe_range(const struct range *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s from %" PRIu64 " to %" PRIu64 "%s", r->zero_off ? "0 (off) or " : "",
             r->duration ? "a duration" : "an integer", r->min, r->max,
             r->duration ? " seconds (units s, m, h, d allowed)" : "");
}

static int number(struct pctx *pc, const struct field *f, const struct ynode *v, uint64_t *out)
{
    const struct range *r = f->arg;
    char expected[128];
    describe_range(r, expected, sizeof(expected));
    const char *s = scalar(pc, f, v, expected);
    if (!s)
        return -1;
    uint64_t n;
    if (parse_number(s, r->duration, &n) < 0 ||
        ((n < r->min || n > r->max) && !(n == 0 && r->zero_off)))
        return bad_value(pc, f, v, expected);
    *out = n;
    return 0;
}

int h_u32(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
          void *dst)
{
    struct opt_u32 *o = dst;
    uint64_t n;
    if (number(pc, f, v, &n) < 0)
        return -1;
    *o = (struct opt_u32){true, (uint32_t)n, mark_of(v)};
    return 0;
}

int h_u64(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
          void *dst)
{
    struct opt_u64 *o = dst;
    uint64_t n;
    if (number(pc, f, v, &n) < 0)
        return -1;
    *o = (struct opt_u64){true, n, mark_of(v)};
    return 0;
}

/* YAML 1.2's core schema spellings; yes/no/on/off are YAML 1.1 and too easy to misread. */
int h_bool(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
           void *dst)
{
    static const char *const t[] = {"true", "True", "TRUE"};
    static const char *const fl[] = {"false", "False", "FALSE"};
    struct opt_bool *o = dst;
    const char *s = scalar(pc, f, v, "true or false");
    if (!s)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, t[i]) == 0 || strcmp(s, fl[i]) == 0) {
            *o = (struct opt_bool){true, strcmp(s, t[i]) == 0, mark_of(v)};
            return 0;
        }
    }
    return bad_value(pc, f, v, "true or false");
}

int h_enum(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
           void *dst)
{
    const char *const *names = f->arg;
    struct opt_u32 *o = dst;
    char expected[128] = "", key[64];
    for (unsigned i = 0; names[i]; i++)
        snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s'%s'",
                 i == 0         ? ""
                 : names[i + 1] ? ", "
                                : " or ",
                 names[i]);
    const char *s = scalar(pc, f, v, expected);
    if (!s)
        return -1;
    for (unsigned i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *o = (struct opt_u32){true, i, mark_of(v)};
            return 0;
        }
    }
    const char *sug = suggest(s, names);
    pc_error(pc, v, "%s: expected %s, got '%.40s'%s%s%s", pc_key(pc, f, key, sizeof(key)), expected,
             s, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    return -1;
}

int check_name(struct pctx *pc, const struct ynode *v, const char *what, char *out)
{
    if (v->kind != YN_SCALAR || v->len == 0) {
        pc_error(pc, v, "%s: expected a name of a-z, 0-9 and '-', got %s", what,
                 ynode_kind_name(v));
        return -1;
    }
    if (v->len > CFG_NAME_MAX) {
        pc_error(pc, v, "%s '%.40s' is longer than %d characters", what, v->str, CFG_NAME_MAX);
        return -1;
    }
    if (strspn(v->str, "abcdefghijklmnopqrstuvwxyz0123456789-") != v->len || v->str[0] == '-') {
        pc_error(pc, v, "%s '%s' may hold only a-z, 0-9 and '-' (not first)", what, v->str);
        return -1;
    }
    memcpy(out, v->str, v->len + 1);
    return 0;
}

int h_name(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
           void *dst)
{
    struct opt_name *o = dst;
    char key[64];
    if (check_name(pc, v, pc_key(pc, f, key, sizeof(key)), o->v) < 0)
        return -1;
    o->set = true;
    o->at = mark_of(v);
    return 0;
}

/* Linux's dev_valid_name(), narrowed to characters that need no quoting in FRR or a shell. */
static int check_ifname(struct pctx *pc, const char *key, const struct ynode *v, char *out)
{
    if (v->len >= IFNAMSIZ) {
        pc_error(pc, v, "%s: interface name '%.40s' is longer than %d bytes (the Linux limit)", key,
                 v->str, IFNAMSIZ - 1);
        return -1;
    }
    if (v->len == 0 || strcmp(v->str, ".") == 0 || strcmp(v->str, "..") == 0 ||
        strspn(v->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            v->len) {
        pc_error(pc, v, "%s: interface name '%s' may hold only letters, digits, '-', '_' and '.'",
                 key, v->str);
        return -1;
    }
    memcpy(out, v->str, v->len + 1);
    return 0;
}

int h_ifname(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
             void *dst)
{
    struct opt_ifname *o = dst;
    char key[64];
    if (!scalar(pc, f, v, "an interface name") ||
        check_ifname(pc, pc_key(pc, f, key, sizeof(key)), v, o->v) < 0)
        return -1;
    o->set = true;
    o->at = mark_of(v);
    return 0;
}

static bool looks_numeric(const char *s)
{
    return strspn(s, "0123456789.") == strlen(s) || strchr(s, ':');
}

static int address(struct pctx *pc, const struct field *f, const struct ynode *v,
                   struct ip_addr *out)
{
    char key[64];
    if (ip_addr_parse(v->str, out) < 0) {
        pc_error(pc, v, "%s: expected an IPv4 or IPv6 address, got '%.40s'%s",
                 pc_key(pc, f, key, sizeof(key)), v->str,
                 looks_numeric(v->str) ? "" : " (host names are not resolved)");
        return -1;
    }
    if (!ip_addr_is_unicast(out)) {
        pc_error(pc, v, "%s: %s is not a unicast address", pc_key(pc, f, key, sizeof(key)), v->str);
        return -1;
    }
    return 0;
}

int h_addr(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
           void *dst)
{
    struct opt_addr *o = dst;
    if (!scalar(pc, f, v, "an IPv4 or IPv6 address") || address(pc, f, v, &o->v) < 0)
        return -1;
    o->set = true;
    o->at = mark_of(v);
    return 0;
}

/* An address if it looks like one (so a mistyped address is not taken for an interface name). */
int h_wan(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
          void *dst)
{
    struct opt_wan *o = dst;
    char key[64];
    if (!scalar(pc, f, v, "an interface name or an IP address"))
        return -1;
    if (looks_numeric(v->str)) {
        if (address(pc, f, v, &o->addr) < 0)
            return -1;
        o->is_addr = true;
    } else if (check_ifname(pc, pc_key(pc, f, key, sizeof(key)), v, o->ifname) < 0) {
        return -1;
    }
    o->set = true;
    o->at = mark_of(v);
    return 0;
}

static int lan_prefix(struct pctx *pc, const struct field *f, const struct ynode *v,
                      struct opt_lan *o)
{
    char key[64], fixed[IP_PREFIX_STRLEN];
    struct ip_prefix p;
    bool host_bits;
    pc_key(pc, f, key, sizeof(key));
    if (v->kind != YN_SCALAR || ip_prefix_parse(v->str, &p, &host_bits) < 0) {
        bool bare = v->kind == YN_SCALAR && ip_addr_parse(v->str, &p.addr) == 0;
        if (v->kind != YN_SCALAR)
            pc_error(pc, v, "%s: expected a prefix like 10.1.0.0/24, got %s", key,
                     ynode_kind_name(v));
        else
            pc_error(pc, v, "%s: expected a prefix like 10.1.0.0/24, got '%.40s'%s", key, v->str,
                     bare ? " (add the length, e.g. /24)" : "");
        return -1;
    }
    if (p.addr.family != AF_INET) {
        pc_error(pc, v, "%s: IPv6 prefixes are not supported yet (OSPFv2 carries IPv4 only)", key);
        return -1;
    }
    if (host_bits) {
        ip_prefix_mask(&p);
        ip_prefix_str(&p, fixed, sizeof(fixed));
        pc_error(pc, v, "%s: %s has host bits set (did you mean %s?)", key, v->str, fixed);
        return -1;
    }
    if (o->n == CFG_MAX_LAN) {
        pc_error(pc, v, "%s: more than %d prefixes", key, CFG_MAX_LAN);
        return -1;
    }
    o->v[o->n] = p;
    o->at[o->n++] = mark_of(v);
    return 0;
}

/* One prefix, or a list of them. */
int h_lan(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
          void *dst)
{
    struct opt_lan *o = dst;
    char key[64];
    int r = 0;
    if (v->kind == YN_MAP) {
        pc_error(pc, v, "%s: expected a prefix or a list of prefixes, got a mapping",
                 pc_key(pc, f, key, sizeof(key)));
        return -1;
    }
    if (v->kind == YN_SCALAR)
        r = lan_prefix(pc, f, v, o);
    for (size_t i = 0; v->kind == YN_SEQ && i < v->n; i++)
        r |= lan_prefix(pc, f, v->items[i], o);
    if (v->kind == YN_SEQ && v->n == 0) {
        pc_error(pc, v, "%s: expected at least one prefix", pc_key(pc, f, key, sizeof(key)));
        return -1;
    }
    o->set = r == 0;
    return r;
}

int h_inner(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
            void *dst)
{
    struct opt_u32 *o = dst;
    struct ip_prefix p;
    bool host_bits;
    char key[64], fixed[IP_PREFIX_STRLEN];
    const char *expected = "an IPv4 /31 like 169.254.10.0/31";
    if (!scalar(pc, f, v, expected))
        return -1;
    if (ip_prefix_parse(v->str, &p, &host_bits) < 0 || p.addr.family != AF_INET)
        return bad_value(pc, f, v, expected);
    pc_key(pc, f, key, sizeof(key));
    if (p.plen != 31) {
        pc_error(pc, v, "%s: expected a /31 (one address per end), got /%u", key, p.plen);
        return -1;
    }
    if (host_bits) {
        ip_prefix_mask(&p);
        ip_prefix_str(&p, fixed, sizeof(fixed));
        pc_error(pc, v, "%s: give the /31 by its even address, %s (the lower WAN address takes it)",
                 key, fixed);
        return -1;
    }
    *o = (struct opt_u32){true, ip_addr_v4(&p.addr), mark_of(v)};
    return 0;
}

/* OSPF areas are 32-bit numbers, written either way (FRR accepts both). */
int h_area(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
           void *dst)
{
    struct opt_u32 *o = dst;
    const char *expected = "an area as a dotted quad (0.0.0.0) or an integer";
    struct in_addr a;
    uint64_t n;
    if (!scalar(pc, f, v, expected))
        return -1;
    if (strchr(v->str, '.')) {
        if (inet_pton(AF_INET, v->str, &a) != 1)
            return bad_value(pc, f, v, expected);
        n = ntohl(a.s_addr);
    } else if (parse_number(v->str, false, &n) < 0 || n > UINT32_MAX) {
        return bad_value(pc, f, v, expected);
    }
    *o = (struct opt_u32){true, (uint32_t)n, mark_of(v)};
    return 0;
}

static int prop_item(struct pctx *pc, const struct field *f, const struct ynode *v,
                     struct opt_props *o)
{
    char key[64];
    if (!scalar(pc, f, v, "a proposal string like aes256gcm16-prfsha384-ecp384"))
        return -1;
    if (o->n == IKE_MAX_SUITES) {
        pc_error(pc, v, "%s: more than %d proposals", pc_key(pc, f, key, sizeof(key)),
                 IKE_MAX_SUITES);
        return -1;
    }
    char *s = strdup(v->str);
    if (!s) {
        pc_error(pc, v, "out of memory");
        return -1;
    }
    struct prop_str *p = &o->v[o->n++];
    p->s = s;
    p->at = mark_of(v);
    if (v->quoted)
        p->at.col++;
    p->exact = (v->plain || v->quoted) && !strchr(v->str, '\n');
    return 0;
}

/* One proposal string, or a list; parsed later, under the peer's rules. */
int h_props(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
            void *dst)
{
    struct opt_props *o = dst;
    char key[64];
    int r = 0;
    if (v->kind == YN_MAP) {
        pc_error(pc, v, "%s: expected a list of proposal strings, got a mapping",
                 pc_key(pc, f, key, sizeof(key)));
        return -1;
    }
    if (v->kind == YN_SCALAR)
        r = prop_item(pc, f, v, o);
    for (size_t i = 0; v->kind == YN_SEQ && i < v->n; i++)
        r |= prop_item(pc, f, v->items[i], o);
    if (v->kind == YN_SEQ && v->n == 0) {
        pc_error(pc, v, "%s: expected at least one proposal", pc_key(pc, f, key, sizeof(key)));
        return -1;
    }
    o->set = r == 0;
    o->at = mark_of(v);
    return r;
}

/* strongSwan's spellings: an address, "@fqdn" or "fqdn:NAME", "keyid:TEXT". */
int h_id(struct pctx *pc, const struct field *f, const struct ynode *k, const struct ynode *v,
         void *dst)
{
    struct opt_id *o = dst;
    const char *expected = "an IP address, '@NAME' / 'fqdn:NAME' or 'keyid:TEXT'";
    const char *s = scalar(pc, f, v, expected), *body = NULL;
    struct ip_addr a;
    memset(&o->v, 0, sizeof(o->v));
    if (!s)
        return -1;
    if (ip_addr_parse(s, &a) == 0) {
        o->v.type = a.family == AF_INET ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
        o->v.len = (uint16_t)ip_addr_len(&a);
        memcpy(o->v.data, a.bytes, o->v.len);
    } else {
        if (s[0] == '@')
            body = s + 1, o->v.type = IKE_ID_FQDN;
        else if (strncmp(s, "fqdn:", 5) == 0)
            body = s + 5, o->v.type = IKE_ID_FQDN;
        else if (strncmp(s, "keyid:", 6) == 0)
            body = s + 6, o->v.type = IKE_ID_KEY_ID;
        if (!body || !*body || strlen(body) > IKE_MAX_ID)
            return bad_value(pc, f, v, expected);
        o->v.len = (uint16_t)strlen(body);
        memcpy(o->v.data, body, o->v.len);
    }
    o->set = true;
    o->at = mark_of(v);
    return 0;
}
