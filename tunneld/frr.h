/*
 * FRRouting glue: tunneld tells a running FRR, through vtysh, to run OSPF
 * on its GRE interfaces and to announce the LAN prefixes; it removes only
 * the lines it added and never restarts FRR.
 */
#ifndef TUNNELD_FRR_H
#define TUNNELD_FRR_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

struct frr_vtysh {
    const char *path;       /* vtysh binary; NULL: /usr/bin/vtysh */
    const char *pathspace;  /* vtysh -N: one FRR per network namespace (tests); NULL normally */
    unsigned timeout_ms;    /* a hung FRR must not hang tunneld; 0: 10 s */
};

struct frr_ospf_link {
    const char *ifname;
    const char *prefix;     /* the tunnel's inner /31, e.g. "169.254.7.0/31" */
    const char *area;       /* dotted quad */
    unsigned hello, dead;   /* seconds */
    bool pim;               /* multicast over the tunnel too (needs pimd) */
};

int frr_ospf_link_add(const struct frr_vtysh *v, const struct frr_ospf_link *l, struct errmsg *e);
int frr_ospf_link_remove(const struct frr_vtysh *v, const struct frr_ospf_link *l,
                         struct errmsg *e);
/*
 * A LAN prefix ("10.1.0.0/24") into OSPF; passive, per the base config's
 * passive-interface default. FRR refuses to mix `network` statements with
 * per-interface `ip ospf area`, and LANs are given as prefixes, so tunnels
 * are enabled by `network` too.
 */
int frr_ospf_lan(const struct frr_vtysh *v, const char *prefix, const char *area, bool add,
                 struct errmsg *e);
#define FRR_STATE_LEN 24

/* The OSPF neighbour state of each of ifnames[0..n) ("Full", ...; "" for none): one vtysh call. */
int frr_ospf_neighbor_states(const struct frr_vtysh *v, const char *const *ifnames, size_t n,
                             char (*states)[FRR_STATE_LEN], struct errmsg *e);
/* The OSPF neighbour state on ifname ("Full", "ExStart", ...), "" when there is none. */
int frr_ospf_neighbor_state(const struct frr_vtysh *v, const char *ifname, char *state,
                            size_t len, struct errmsg *e);

#endif
