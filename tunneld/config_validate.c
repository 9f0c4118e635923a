/*
 * Checks across fields: things each value is fine on its own but wrong
 * together (overlapping LANs, two peers at one address, two tunnels on one
 * interface or one /31). Each clash is reported at the later of the two, with
 * where the earlier one is.
 */
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "derive.h"

static void lan_overlaps(const struct site_src *s, const char *file, struct diag *d)
{
    char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
    for (unsigned i = 0; s->lan.set && i < s->lan.n; i++) {
        for (unsigned j = 0; j < i; j++) {
            if (!ip_prefix_overlap(&s->lan.v[i], &s->lan.v[j]))
                continue;
            ip_prefix_str(&s->lan.v[i], a, sizeof(a));
            ip_prefix_str(&s->lan.v[j], b, sizeof(b));
            diag_add(d, file, s->lan.at[i].line, s->lan.at[i].col,
                     "site.lan: %s overlaps %s (at %u:%u)", a, b, s->lan.at[j].line,
                     s->lan.at[j].col);
            break;
        }
    }
}

static const struct ip_prefix *lan_holding(const struct site_src *s, const struct ip_addr *a)
{
    for (unsigned i = 0; s->lan.set && i < s->lan.n; i++)
        if (ip_prefix_contains(&s->lan.v[i], a))
            return &s->lan.v[i];
    return NULL;
}

/* The tunnel endpoint must be reached over the WAN, not through the tunnel to it. */
static void peer_address(const struct site_src *s, const struct peer_src *p, const char *file,
                         struct diag *d)
{
    char pfx[IP_PREFIX_STRLEN];
    const struct ip_prefix *lan = lan_holding(s, &p->address.v);
    if (lan) {
        ip_prefix_str(lan, pfx, sizeof(pfx));
        diag_add(d, file, p->address.at.line, p->address.at.col,
                 "address: peer '%s' lies in our LAN %s", p->name, pfx);
    }
}

static void peer_pairs(const struct peer_src *p, const struct peer_src *q,
                       const struct tunneld_config *c, unsigned i, unsigned j, struct diag *d)
{
    const char *file = c->file;
    if (p->address.set && q->address.set && ip_addr_cmp(&p->address.v, &q->address.v) == 0)
        diag_add(d, file, p->address.at.line, p->address.at.col,
                 "address: peers '%s' and '%s' have the same address (at %u:%u)", q->name, p->name,
                 q->address.at.line, q->address.at.col);
    if (strcmp(c->peers[i].tunnel.ifname, c->peers[j].tunnel.ifname) == 0) {
        const struct cfg_mark *at = p->ifname.set ? &p->ifname.at : &p->at;
        diag_add(d, file, at->line, at->col,
                 "interface name '%s' of peer '%s'%s is also peer '%s''s: "
                 "set tunnel.interface",
                 c->peers[i].tunnel.ifname, p->name,
                 p->ifname.set ? "" : " (gre-<peer>, cut to 15 bytes)", q->name);
    }
    if (p->inner.set && q->inner.set && p->inner.v == q->inner.v)
        diag_add(d, file, p->inner.at.line, p->inner.at.col,
                 "tunnel.address: the same /31 as peer '%s' (at %u:%u)", q->name, q->inner.at.line,
                 q->inner.at.col);
    if (p->key.set && q->key.set && p->key.v == q->key.v)
        diag_add(d, file, p->key.at.line, p->key.at.col,
                 "tunnel.key: the same GRE key as peer '%s' (at %u:%u)", q->name, q->key.at.line,
                 q->key.at.col);
}

static void peer_tunnel(const struct site_src *s, const struct peer_src *p, const char *file,
                        struct diag *d)
{
    char pfx[IP_PREFIX_STRLEN];
    if (p->ifname.set && s->wan.set && !s->wan.is_addr && strcmp(p->ifname.v, s->wan.ifname) == 0)
        diag_add(d, file, p->ifname.at.line, p->ifname.at.col,
                 "tunnel.interface: '%s' is the WAN interface", p->ifname.v);
    if (p->inner.set) {
        struct ip_addr a;
        ip_addr_set_v4(&a, p->inner.v);
        const struct ip_prefix *lan = lan_holding(s, &a);
        if (lan) {
            ip_prefix_str(lan, pfx, sizeof(pfx));
            diag_add(d, file, p->inner.at.line, p->inner.at.col,
                     "tunnel.address: inside our LAN %s", pfx);
        }
    }
}

static bool same_id(const struct ike_id *a, const struct ike_id *b)
{
    return a->type == b->type && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

#define SAME_IDS_MSG                                                                               \
    "peer '%s': ike.local-id and ike.remote-id are the same identity: the tunnel's GRE key and "  \
    "/31 derive from the pair; give the two ends different ids"

/* Both written: wrong whatever the WAN turns out to be (derive_one checks the rest). */
static void peer_ids(const struct peer_src *p, const char *file, struct diag *d)
{
    const struct opt_id *l = &p->layer.local_id, *r = &p->layer.remote_id;
    if (l->set && r->set && same_id(&l->v, &r->v))
        diag_add(d, file, l->at.line, l->at.col, SAME_IDS_MSG, p->name);
}

int validate_site_file(const struct site_file_src *s, struct tunneld_config *c, struct diag *d)
{
    size_t before = diag_count(d);
    lan_overlaps(&s->site, c->file, d);
    for (unsigned i = 0; i < s->n_peers; i++) {
        const struct peer_src *p = &s->peers[i];
        if (p->address.set)
            peer_address(&s->site, p, c->file, d);
        peer_tunnel(&s->site, p, c->file, d);
        peer_ids(p, c->file, d);
        for (unsigned j = 0; j < i; j++)
            peer_pairs(p, &s->peers[j], c, i, j, d);
    }
    return diag_count(d) == before ? 0 : -1;
}

/* The identities IKE uses: type 0 stands for the WAN address of that side. */
static void pair_ids(const struct cfg_peer *p, const struct ip_addr *wan, struct ike_id *local,
                     struct ike_id *remote)
{
    if (p->local_id.type)
        *local = p->local_id;
    else
        derive_id_of_addr(wan, local);
    if (p->remote_id.type)
        *remote = p->remote_id;
    else
        derive_id_of_addr(&p->address, remote);
}

/*
 * From the identities, not the addresses: behind a NAT the two ends see
 * different addresses (the spoke its private one) but agree on the ids.
 */
static void derive_one(const struct tunneld_config *c, struct cfg_peer *p,
                       const struct ip_addr *wan, struct diag *d)
{
    struct derived_pair dp;
    struct ike_id local, remote;
    pair_ids(p, wan, &local, &remote);
    if (derive_pair_ids(&local, &remote, &dp) < 0) {
        const struct cfg_mark *at = p->local_id.type ? &p->at.local_id : &p->at.remote_id;
        if (!p->local_id.type || !p->remote_id.type) /* both written: peer_ids said so */
            diag_add(d, c->file, at->line, at->col, SAME_IDS_MSG, p->name);
        return;
    }
    if (!p->tunnel.key_given)
        p->tunnel.key = dp.key;
    if (!p->tunnel.inner_given)
        p->tunnel.inner_net = dp.inner_net;
    derive_inner_ends_ids(p->tunnel.inner_net, &local, &remote, &p->tunnel.inner_local,
                          &p->tunnel.inner_remote);
    p->tunnel.derived = true;
}

static const char *origin(bool given)
{
    return given ? "given" : "derived";
}

/*
 * Clashes the file did not write itself (those validate_site_file reported),
 * nor follow from a duplicate address (reported there too).
 */
static void derived_clash(const struct tunneld_config *c, const struct cfg_peer *p,
                          const struct cfg_peer *q, struct diag *d)
{
    const struct cfg_tunnel *pt = &p->tunnel, *qt = &q->tunnel;
    char net[IP_ADDR_STRLEN];
    if (ip_addr_cmp(&p->address, &q->address) == 0)
        return;
    if (pt->inner_net == qt->inner_net && !(pt->inner_given && qt->inner_given)) {
        const struct cfg_mark *at = pt->inner_given ? &p->at.inner : &p->at.address;
        struct ip_addr a;
        ip_addr_set_v4(&a, pt->inner_net);
        ip_addr_str(&a, net, sizeof(net));
        diag_add(d, c->file, at->line, at->col,
                 "peer '%s': tunnel /31 %s/31 (%s) is also peer '%s''s (%s): set tunnel.address "
                 "for one of them, the same on both ends",
                 p->name, net, origin(pt->inner_given), q->name, origin(qt->inner_given));
    }
    if (pt->key == qt->key && !(pt->key_given && qt->key_given)) {
        const struct cfg_mark *at = pt->key_given ? &p->at.key : &p->at.address;
        diag_add(d, c->file, at->line, at->col,
                 "peer '%s': GRE key %u (%s) is also peer '%s''s (%s): set tunnel.key for one of "
                 "them, the same on both ends",
                 p->name, pt->key, origin(pt->key_given), q->name, origin(qt->key_given));
    }
}

/* Same family, different address: what a GRE tunnel between the two needs. */
static int wan_pair_ok(const struct tunneld_config *c, const struct cfg_peer *p,
                       const struct ip_addr *wan, struct diag *d)
{
    const struct cfg_mark *at = &p->at.address;
    if (p->address.family != wan->family) {
        diag_add(d, c->file, at->line, at->col, "address: peer '%s' is %s but our WAN is %s",
                 p->name, p->address.family == AF_INET ? "IPv4" : "IPv6",
                 wan->family == AF_INET ? "IPv4" : "IPv6");
        return -1;
    }
    if (ip_addr_cmp(&p->address, wan) == 0) {
        diag_add(d, c->file, at->line, at->col, "address: peer '%s' has our own WAN address",
                 p->name);
        return -1;
    }
    return 0;
}

static void derived_in_lan(const struct tunneld_config *c, const struct cfg_peer *p, struct diag *d)
{
    char pfx[IP_PREFIX_STRLEN];
    for (unsigned i = 0; !p->tunnel.inner_given && i < c->site.n_lan; i++) {
        if (ip_prefix_contains(&c->site.lan[i], &p->tunnel.inner_local)) {
            ip_prefix_str(&c->site.lan[i], pfx, sizeof(pfx));
            diag_add(d, c->file, p->at.address.line, p->at.address.col,
                     "peer '%s': its derived tunnel /31 lies in our LAN %s: set tunnel.address, "
                     "the same on both ends",
                     p->name, pfx);
        }
    }
}

int config_derive(struct tunneld_config *c, const struct ip_addr *wan, struct diag *d)
{
    size_t before = diag_count(d);
    for (unsigned i = 0; i < c->n_peers; i++) {
        struct cfg_peer *p = &c->peers[i];
        if (p->address.family && wan_pair_ok(c, p, wan, d) == 0) {
            derive_one(c, p, wan, d);
            derived_in_lan(c, p, d);
        }
    }
    for (unsigned i = 0; i < c->n_peers; i++)
        for (unsigned j = 0; j < i; j++)
            if (c->peers[i].tunnel.derived && c->peers[j].tunnel.derived)
                derived_clash(c, &c->peers[i], &c->peers[j], d);
    return diag_count(d) == before ? 0 : -1;
}
