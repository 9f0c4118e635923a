/* GRE interfaces, one per peer, created and removed through libnl-3 route. */
#ifndef TUNNELD_GRE_H
#define TUNNELD_GRE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>

#include "errmsg.h"

struct nl_sock;

struct gre_link {
    char ifname[IFNAMSIZ];
    struct in_addr local, remote;   /* the WAN addresses: outer header */
    uint32_t key;                   /* GRE key, both directions */
    struct in_addr inner;           /* our end of the /31 */
    uint8_t inner_plen;
    unsigned mtu;                   /* 0: leave the kernel's default */
};

/* Creates the link, adds the inner address, sets it up. EEXIST is an error. */
int gre_create(struct nl_sock *rt, const struct gre_link *g, struct errmsg *e);
/* Changes the MTU of a link that exists. */
int gre_set_mtu(struct nl_sock *rt, const char *ifname, unsigned mtu, struct errmsg *e);
/* Removes it; a link that is already gone is not an error. */
int gre_destroy(struct nl_sock *rt, const char *ifname, struct errmsg *e);

#endif
