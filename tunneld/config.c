/*
 * config_load: parse (schema tables), resolve each peer against its
 * profile, validate across fields, derive the tunnel parameters when the
 * WAN address is known. Every stage runs even after errors in an earlier
 * one, on what was valid, so one run reports everything.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "derive.h"

#define DEFAULT_PROFILE "default"

void layer_free(struct cfg_layer *l)
{
    for (unsigned i = 0; i < l->ike_props.n; i++)
        free(l->ike_props.v[i].s);
    for (unsigned i = 0; i < l->esp_props.n; i++)
        free(l->esp_props.v[i].s);
    l->ike_props.n = l->esp_props.n = 0;
}

void site_file_src_free(struct site_file_src *s)
{
    for (unsigned i = 0; i < s->n_peers; i++) {
        layer_free(&s->peers[i].layer);
        OPENSSL_cleanse(&s->peers[i].psk, sizeof(s->peers[i].psk));
    }
    free(s->peers);
    memset(s, 0, sizeof(*s));
}

void config_free(struct tunneld_config *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->n_peers; i++)
        OPENSSL_cleanse(c->peers[i].psk, sizeof(c->peers[i].psk));
    free(c->peers);
    free(c->file);
    free(c);
}

static void convert_site(const struct site_src *s, struct cfg_site *out)
{
    snprintf(out->name, sizeof(out->name), "%s", s->name.v);
    out->wan_is_addr = s->wan.is_addr;
    snprintf(out->wan_ifname, sizeof(out->wan_ifname), "%s", s->wan.ifname);
    out->wan_addr = s->wan.addr;
    out->n_lan = s->lan.set ? s->lan.n : 0;
    memcpy(out->lan, s->lan.v, sizeof(out->lan));
    snprintf(out->profile, sizeof(out->profile), "%s",
             s->profile.set ? s->profile.v : DEFAULT_PROFILE);
    out->ospf_area = s->area.set ? s->area.v : 0;
}

/* Everything of a peer but what its profile decides. */
static void convert_peer(const struct peer_src *p, struct cfg_peer *out)
{
    snprintf(out->name, sizeof(out->name), "%s", p->name);
    if (p->address.set)
        out->address = p->address.v;
    memcpy(out->psk, p->psk.v, p->psk.len);
    out->psk_len = p->psk.len;
    if (p->ifname.set)
        snprintf(out->tunnel.ifname, sizeof(out->tunnel.ifname), "%s", p->ifname.v);
    else
        derive_ifname(p->name, out->tunnel.ifname);
    out->tunnel.inner_given = p->inner.set;
    out->tunnel.inner_net = p->inner.v;
    out->tunnel.key_given = p->key.set;
    out->tunnel.key = p->key.v;
    out->tunnel.mtu = p->mtu.set ? p->mtu.v : 0;
    out->at.name = p->at;
    out->at.address = p->address.at;
    out->at.ifname = p->ifname.set ? p->ifname.at : p->at;
    out->at.inner = p->inner.at;
    out->at.key = p->key.at;
    out->at.local_id = p->layer.local_id.set ? p->layer.local_id.at : p->address.at;
    out->at.remote_id = p->layer.remote_id.set ? p->layer.remote_id.at : p->address.at;
}

/* The site's profile, looked up once: a missing default is one error, not one per peer. */
static struct profile *site_profile(struct profile_set *ps, const struct site_src *s,
                                    struct pctx *pc, const struct ynode *root)
{
    struct cfg_mark at = s->profile.set ? s->profile.at : s->name.set ? s->name.at : mark_of(root);
    return profile_get(ps, s->profile.set ? s->profile.v : DEFAULT_PROFILE, pc, &at,
                       !s->profile.set);
}

static void resolve_peers(const struct site_file_src *src, struct tunneld_config *c,
                          struct pctx *pc, struct profile_set *ps, const struct ynode *root)
{
    struct profile *site_prof = site_profile(ps, &src->site, pc, root);
    for (unsigned i = 0; i < src->n_peers; i++) {
        const struct peer_src *p = &src->peers[i];
        struct profile *prof =
            p->profile.set ? profile_get(ps, p->profile.v, pc, &p->profile.at, false) : site_prof;
        convert_peer(p, &c->peers[i]);
        if (prof && !prof->broken)
            resolve_peer(prof, &p->layer, &c->peers[i], pc->d);
    }
}

static void run_stages(const struct ytree *t, const char *profile_path,
                       const struct site_file_src *src, struct tunneld_config *c, struct pctx *pc)
{
    struct profile_set ps = {.search = profile_path};
    c->n_peers = src->n_peers;
    convert_site(&src->site, &c->site);
    resolve_peers(src, c, pc, &ps, t->root);
    validate_site_file(src, c, pc->d);
    if (c->site.wan_is_addr)
        config_derive(c, &c->site.wan_addr, pc->d);
    profile_set_free(&ps);
}

static int load_site(const struct ytree *t, const char *profile_path, struct tunneld_config **out,
                     struct diag *d)
{
    size_t before = diag_count(d);
    struct pctx pc = {.d = d, .t = t};
    struct site_file_src src;
    memset(&src, 0, sizeof(src));
    struct tunneld_config *c = calloc(1, sizeof(*c));
    if (!c || !(c->file = strdup(t->file))) {
        diag_add(d, t->file, 1, 1, "out of memory");
        config_free(c);
        return -1;
    }
    if (!t->root) {
        diag_add(d, t->file, 1, 1, "empty file: expected a site file with 'site' and 'peers'");
    } else {
        walk_map(&pc, &site_file_table, "the site file", t->root, t->root, &src);
        if (src.n_peers && !(c->peers = calloc(src.n_peers, sizeof(*c->peers))))
            diag_add(d, t->file, 1, 1, "out of memory");
        else
            run_stages(t, profile_path, &src, c, &pc);
    }
    site_file_src_free(&src);
    if (diag_count(d) != before) {
        config_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int config_load(const char *path, const char *profile_path, struct tunneld_config **out,
                struct diag *d)
{
    struct ytree t;
    int r = -1;
    *out = NULL;
    if (ytree_load(path, &t, d) == 0)
        r = load_site(&t, profile_path, out, d);
    ytree_free(&t);
    return r;
}

static bool has_key(const struct ynode *map, const char *key)
{
    for (size_t i = 0; map && map->kind == YN_MAP && i < map->n; i++)
        if (map->pairs[i].key->kind == YN_SCALAR && strcmp(map->pairs[i].key->str, key) == 0)
            return true;
    return false;
}

/* A profile says legacy/ike/esp at its top level; a site file says site/peers there. */
static bool looks_like_profile(const struct ynode *root)
{
    if (has_key(root, "site") || has_key(root, "peers"))
        return false;
    return has_key(root, "legacy") || has_key(root, "ike") || has_key(root, "esp");
}

int config_check_file(const char *path, const char *profile_path, struct diag *d, bool *is_profile,
                      struct tunneld_config **out)
{
    struct profile p;
    struct tunneld_config *c = NULL;
    int r = -1;
    memset(&p, 0, sizeof(p));
    *is_profile = false;
    if (out)
        *out = NULL;
    if (ytree_load(path, &p.tree, d) < 0) {
        ytree_free(&p.tree);
        return -1;
    }
    if ((*is_profile = looks_like_profile(p.tree.root))) {
        r = profile_from_tree(&p, d);
        layer_free(&p.src.layer);
    } else {
        r = load_site(&p.tree, profile_path, &c, d);
    }
    if (out)
        *out = c;
    else
        config_free(c);
    ytree_free(&p.tree);
    return r;
}
