/*
 * The WAN as the kernel sees it: the site file names an interface or an
 * address; tunneld needs both, and the interface's MTU for the GRE MTU.
 */
#ifndef TUNNELD_WAN_H
#define TUNNELD_WAN_H

#include <net/if.h>
#include <stdbool.h>

#include "errmsg.h"
#include "ipaddr.h"

struct nl_sock;

struct wan {
    char ifname[IFNAMSIZ];
    struct ip_addr addr;
    unsigned mtu;
};

/*
 * by_addr: find the interface holding addr; else the first global address
 * of family `family` on ifname. Fills *w.
 */
int wan_resolve(struct nl_sock *rt, bool by_addr, const char *ifname, const struct ip_addr *addr,
                struct wan *w, struct errmsg *e);

#endif
