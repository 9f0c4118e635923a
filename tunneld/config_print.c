/*
 * The resolved config in words, for `tunneld --check --print`: what the
 * profile and the derivation decided, e.g. the GRE key and /31 to type into
 * a third-party router at the far end. Never prints a PSK, nor its length.
 */
#include <inttypes.h>
#include <stdio.h>

#include "config_print.h"
#include "proposal.h"

static void print_suites(FILE *out, const char *what, const struct ike_suite *s, unsigned n,
                         enum proposal_kind kind)
{
    char buf[PROPOSAL_MAX_LEN];
    fprintf(out, "  %s:", what);
    for (unsigned i = 0; i < n; i++) {
        proposal_format(&s[i], kind, buf, sizeof(buf));
        fprintf(out, "%s %s", i ? "," : "", buf);
    }
    fputc('\n', out);
}

static void print_tunnel(FILE *out, const struct cfg_tunnel *t)
{
    char l[IP_ADDR_STRLEN], r[IP_ADDR_STRLEN], net[IP_ADDR_STRLEN];
    struct ip_addr a;
    ip_addr_set_v4(&a, t->inner_net);
    ip_addr_str(&a, net, sizeof(net));
    fprintf(out, "  tunnel: %s", t->ifname);
    if (t->derived) {
        ip_addr_str(&t->inner_local, l, sizeof(l));
        ip_addr_str(&t->inner_remote, r, sizeof(r));
        fprintf(out, ", GRE key %" PRIu32 ", %s/31 (ours %s, theirs %s)", t->key, net, l, r);
    } else {
        if (t->key_given)
            fprintf(out, ", GRE key %" PRIu32, t->key);
        if (t->inner_given)
            fprintf(out, ", %s/31", net);
        fprintf(out, ", %s at run time from the WAN's address",
                t->key_given && t->inner_given ? "ends chosen"
                : t->key_given                 ? "/31 derived"
                : t->inner_given               ? "GRE key derived"
                                               : "GRE key and /31 derived");
    }
    if (t->mtu)
        fprintf(out, ", mtu %u\n", t->mtu);
    else
        fprintf(out, ", mtu from the WAN's\n");
}

static void print_peer(FILE *out, const struct cfg_peer *p)
{
    char addr[IP_ADDR_STRLEN];
    ip_addr_str(&p->address, addr, sizeof(addr));
    fprintf(out, "peer %s: %s, profile %s, IKEv%u%s\n", p->name, addr, p->profile, p->ike_version,
            p->ike_version == 1 ? (p->aggressive ? " aggressive mode" : " main mode") : "");
    print_suites(out, "ike", p->ike, p->n_ike, PROPOSAL_IKE);
    fprintf(out, "    lifetime %" PRIu32 " s\n", p->ike_lifetime_s);
    print_suites(out, "esp", p->esp, p->n_esp, PROPOSAL_ESP);
    fprintf(out, "    pfs %s, lifetime %" PRIu32 " s", p->pfs ? "on" : "off", p->esp_lifetime_s);
    if (p->esp_lifetime_kb)
        fprintf(out, " or %" PRIu64 " KB\n", p->esp_lifetime_kb);
    else
        fprintf(out, ", no byte limit\n");
    fprintf(out, "  dpd %s", p->dpd_s ? "" : "off");
    if (p->dpd_s)
        fprintf(out, "%" PRIu32 " s", p->dpd_s);
    fprintf(out, ", nat-keepalive %s", p->nat_keepalive_s ? "" : "off");
    if (p->nat_keepalive_s)
        fprintf(out, "%" PRIu32 " s", p->nat_keepalive_s);
    fprintf(out, ", ospf hello %u s, dead %u s\n", p->ospf_hello, p->ospf_dead);
    print_tunnel(out, &p->tunnel);
}

void config_print(FILE *out, const struct tunneld_config *c)
{
    char buf[IP_PREFIX_STRLEN];
    const struct cfg_site *s = &c->site;
    if (s->wan_is_addr)
        ip_addr_str(&s->wan_addr, buf, sizeof(buf));
    fprintf(out, "site %s: wan %s, lan", s->name, s->wan_is_addr ? buf : s->wan_ifname);
    for (unsigned i = 0; i < s->n_lan; i++) {
        ip_prefix_str(&s->lan[i], buf, sizeof(buf));
        fprintf(out, "%s %s", i ? "," : "", buf);
    }
    fprintf(out, ", ospf area %u.%u.%u.%u\n", s->ospf_area >> 24, s->ospf_area >> 16 & 0xff,
            s->ospf_area >> 8 & 0xff, s->ospf_area & 0xff);
    for (unsigned i = 0; i < c->n_peers; i++)
        print_peer(out, &c->peers[i]);
}
