/*
 * The schema in one place, as netplan keeps it: a table per mapping, a
 * handler per key. docs/config.md documents the same keys; a key added here
 * belongs there too.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "suggest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FIELDS 32
#define TABLE(what, fields) {what, fields, N(fields)}

/*
 * Ranges (the tables in docs/config.md say the same): what the peer families
 * we know of accept. 2560 KB is Cisco IOS's smallest IPsec byte lifetime;
 * 576..9000 spans the IPv4 minimum to jumbo frames.
 */
static const struct range r_version = {.min = 1, .max = 2};
static const struct range r_ike_lifetime = {.min = 300, .max = 86400, .duration = true};
static const struct range r_esp_lifetime = {.min = 120, .max = 86400, .duration = true};
static const struct range r_lifetime_kb = {.min = 2560, .max = UINT32_MAX, .zero_off = true};
static const struct range r_dpd = {.min = 5, .max = 3600, .zero_off = true, .duration = true};
/* NAT bindings of UDP last 30 s or more (RFC 4787 REQ-5 asks 2 min): 5 s is plenty often. */
static const struct range r_nat_keepalive = {.min = 5, .max = 3600, .zero_off = true,
                                             .duration = true};
static const struct range r_ospf_timer = {.min = 1, .max = 65535, .duration = true};
static const struct range r_key = {.min = 0, .max = UINT32_MAX};
static const struct range r_mtu = {.min = 576, .max = 9000};

static const char *const ike_modes[] = {"main", "aggressive", NULL};

#define L(m) offsetof(struct cfg_layer, m)

static const struct field ike_fields[] = {
    {"version", h_u32, L(ike_version), &r_version, 0},
    {"mode", h_enum, L(ike_mode), ike_modes, 0},
    {"allow-aggressive", h_bool, L(allow_aggressive), NULL, 0},
    {"proposals", h_props, L(ike_props), NULL, F_REQ_PROFILE},
    {"lifetime", h_u32, L(ike_lifetime), &r_ike_lifetime, 0},
    {"local-id", h_id, L(local_id), NULL, F_PEER_ONLY},
    {"remote-id", h_id, L(remote_id), NULL, F_PEER_ONLY},
};
static const struct table ike_table = TABLE("ike", ike_fields);

static const struct field esp_fields[] = {
    {"proposals", h_props, L(esp_props), NULL, F_REQ_PROFILE},
    {"pfs", h_bool, L(pfs), NULL, 0},
    {"lifetime", h_u32, L(esp_lifetime), &r_esp_lifetime, 0},
    {"lifetime-kb", h_u64, L(esp_lifetime_kb), &r_lifetime_kb, 0},
    {"esn", h_bool, L(esn), NULL, 0},
};
static const struct table esp_table = TABLE("esp", esp_fields);

static const struct field ospf_timer_fields[] = {
    {"hello", h_u32, L(ospf_hello), &r_ospf_timer, 0},
    {"dead", h_u32, L(ospf_dead), &r_ospf_timer, 0},
};
static const struct table ospf_timer_table = TABLE("ospf", ospf_timer_fields);

#define P(m) offsetof(struct peer_src, m)

static const struct field tunnel_fields[] = {
    {"interface", h_ifname, P(ifname), NULL, 0},
    {"address", h_inner, P(inner), NULL, 0},
    {"key", h_u32, P(key), &r_key, 0},
    {"mtu", h_u32, P(mtu), &r_mtu, 0},
};
static const struct table tunnel_table = TABLE("tunnel", tunnel_fields);

static const struct field peer_fields[] = {
    {"address", h_addr, P(address), NULL, F_REQUIRED},
    {"psk", h_psk, P(psk), NULL, F_REQUIRED},
    {"profile", h_name, P(profile), NULL, 0},
    {"tunnel", h_map, 0, &tunnel_table, 0},
    {"ike", h_map, P(layer), &ike_table, 0},
    {"esp", h_map, P(layer), &esp_table, 0},
    {"dpd", h_u32, P(layer.dpd), &r_dpd, 0},
    {"nat-keepalive", h_u32, P(layer.nat_keepalive), &r_nat_keepalive, 0},
    {"ospf", h_map, P(layer), &ospf_timer_table, 0},
    {"legacy", NULL, 0, NULL, F_PROFILE_ONLY},
};
static const struct table peer_table = TABLE("peer", peer_fields);

#define S(m) offsetof(struct site_src, m)

static const struct field site_ospf_fields[] = {
    {"area", h_area, S(area), NULL, 0},
};
static const struct table site_ospf_table = TABLE("ospf", site_ospf_fields);

static const struct field site_fields[] = {
    {"name", h_name, S(name), NULL, F_REQUIRED}, {"wan", h_wan, S(wan), NULL, F_REQUIRED},
    {"lan", h_lan, S(lan), NULL, F_REQUIRED},    {"profile", h_name, S(profile), NULL, 0},
    {"ospf", h_map, 0, &site_ospf_table, 0},
};
static const struct table site_table = TABLE("site", site_fields);

static int h_peers(struct pctx *pc, const struct field *f, const struct ynode *key,
                   const struct ynode *val, void *dst);

static const struct field site_file_fields[] = {
    {"site", h_map, offsetof(struct site_file_src, site), &site_table, F_REQUIRED},
    {"peers", h_peers, 0, NULL, F_REQUIRED},
};
const struct table site_file_table = TABLE("the site file", site_file_fields);

#define PR(m) offsetof(struct profile_src, m)

static const struct field profile_fields[] = {
    {"name", h_name, PR(name), NULL, F_REQUIRED},
    {"legacy", h_bool, PR(layer.legacy), NULL, 0},
    {"ike", h_map, PR(layer), &ike_table, F_REQUIRED},
    {"esp", h_map, PR(layer), &esp_table, F_REQUIRED},
    {"dpd", h_u32, PR(layer.dpd), &r_dpd, 0},
    {"nat-keepalive", h_u32, PR(layer.nat_keepalive), &r_nat_keepalive, 0},
    {"ospf", h_map, PR(layer), &ospf_timer_table, 0},
};
const struct table profile_file_table = TABLE("the profile", profile_fields);

static const struct field *find_field(const struct table *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->f[i].key, key) == 0)
            return &t->f[i];
    return NULL;
}

static bool required(const struct pctx *pc, const struct field *f)
{
    return (f->flags & F_REQUIRED) || (pc->profile && (f->flags & F_REQ_PROFILE));
}

/* Keys a table knows but this kind of file may not use; the message says where they belong. */
static bool misplaced(struct pctx *pc, const struct field *f, const struct ynode *key)
{
    if ((f->flags & F_PROFILE_ONLY) && !pc->profile) {
        pc_error(pc, key, "'%s' can only be set in a profile (choose one with 'profile:')", f->key);
        return true;
    }
    if ((f->flags & F_PEER_ONLY) && pc->profile) {
        pc_error(pc, key, "'%s' is set per peer, not in a profile", f->key);
        return true;
    }
    return false;
}

static void unknown_key(struct pctx *pc, const struct table *t, const char *label,
                        const struct ynode *key)
{
    const char *s = suggest_in(key->str, t->f, sizeof(t->f[0]), t->n);
    if (s)
        pc_error(pc, key, "unknown key '%.40s' (did you mean '%s'?)", key->str, s);
    else
        pc_error(pc, key, "unknown key '%.40s' in %s", key->str, label);
}

/* Is this key a repeat? libyaml does not say; the earlier one would silently lose. */
static bool repeated(struct pctx *pc, const struct ynode *map, size_t i)
{
    const struct ynode *k = map->pairs[i].key;
    for (size_t j = 0; j < i; j++) {
        const struct ynode *p = map->pairs[j].key;
        if (p->kind == YN_SCALAR && strcmp(p->str, k->str) == 0) {
            pc_error(pc, k, "duplicate key '%.40s' (first at %u:%u)", k->str, p->line, p->col);
            return true;
        }
    }
    return false;
}

/* One key: -1 if it was wrong, else the handler's verdict. *fout says which field it was. */
static int walk_pair(struct pctx *pc, const struct table *t, const char *label,
                     const struct ynode *map, size_t i, void *obj, const struct field **fout)
{
    const struct ynode *k = map->pairs[i].key, *v = map->pairs[i].value;
    *fout = NULL;
    if (k->kind != YN_SCALAR || ynode_is_null(k)) {
        pc_error(pc, k, "expected a key name, got %s", ynode_kind_name(k));
        return -1;
    }
    const struct field *f = find_field(t, k->str);
    if (!f) {
        unknown_key(pc, t, label, k);
        return -1;
    }
    *fout = f;
    if (repeated(pc, map, i) || misplaced(pc, f, k))
        return -1;
    if (ynode_is_null(v)) {
        pc_error(pc, k, "%s: missing value", k->str);
        return -1;
    }
    return f->fn(pc, f, k, v, (char *)obj + f->off);
}

int walk_map(struct pctx *pc, const struct table *t, const char *label, const struct ynode *owner,
             const struct ynode *map, void *obj)
{
    if (map->kind != YN_MAP || ynode_is_null(map)) {
        pc_error(pc, map, "%s: expected a mapping, got %s", label, ynode_kind_name(map));
        return -1;
    }
    bool seen[MAX_FIELDS] = {false};
    int r = 0;
    if (t->n > MAX_FIELDS)
        abort(); /* a table grew past seen[]: a programming error, caught by every test */
    for (size_t i = 0; i < map->n; i++) {
        const struct field *f;
        r |= walk_pair(pc, t, label, map, i, obj, &f);
        if (f)
            seen[f - t->f] = true;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (!seen[i] && required(pc, &t->f[i])) {
            pc_error(pc, owner, "missing key '%s' in %s", t->f[i].key, label);
            r = -1;
        }
    }
    return r;
}

int h_map(struct pctx *pc, const struct field *f, const struct ynode *key, const struct ynode *val,
          void *dst)
{
    const struct table *t = f->arg;
    const char *outer = pc->section;
    char label[64];
    snprintf(label, sizeof(label), "'%s'", f->key);
    pc->section = t->what;
    int r = walk_map(pc, t, label, key, val, dst);
    pc->section = outer;
    return r;
}

static int add_peer(struct pctx *pc, struct site_file_src *s, const struct ynode *key,
                    const struct ynode *val)
{
    if (s->n_peers == CFG_MAX_PEERS) {
        pc_error(pc, key, "more than %d peers", CFG_MAX_PEERS);
        return -1;
    }
    struct peer_src *np = realloc(s->peers, (s->n_peers + 1) * sizeof(*np));
    if (!np) {
        pc_error(pc, key, "out of memory");
        return -1;
    }
    s->peers = np;
    struct peer_src *p = &np[s->n_peers++];
    memset(p, 0, sizeof(*p));
    p->layer.file = pc->t->file;
    p->at = mark_of(key);
    int r = check_name(pc, key, "peer name", p->name);
    char label[CFG_NAME_MAX + 16];
    snprintf(label, sizeof(label), "peer '%s'", p->name[0] ? p->name : key->str);
    return walk_map(pc, &peer_table, label, key, val, p) | r;
}

/* The peers mapping: each key is a peer's name, each value a peer_table mapping. */
static int h_peers(struct pctx *pc, const struct field *f, const struct ynode *key,
                   const struct ynode *val, void *dst)
{
    struct site_file_src *s = dst;
    int r = 0;
    if (val->kind != YN_MAP) {
        pc_error(pc, val, "peers: expected a mapping of peer names to peers, got %s",
                 ynode_kind_name(val));
        return -1;
    }
    if (val->n == 0) {
        pc_error(pc, val, "peers: expected at least one peer");
        return -1;
    }
    for (size_t i = 0; i < val->n; i++) {
        const struct ynode *k = val->pairs[i].key;
        if (k->kind != YN_SCALAR) {
            pc_error(pc, k, "expected a peer name, got %s", ynode_kind_name(k));
            r = -1;
            continue;
        }
        if (repeated(pc, val, i)) {
            r = -1;
            continue;
        }
        r |= add_peer(pc, s, k, val->pairs[i].value);
    }
    return r;
}
