/*
 * The netlink sockets tunneld talks to the kernel through: libnl-3's route
 * family for GRE links and addresses, its xfrm family for SAs and policies.
 */
#ifndef TUNNELD_NETLINK_H
#define TUNNELD_NETLINK_H

#include <stdint.h>
#include <sys/socket.h>

#include "errmsg.h"

struct nl_sock;
struct nl_addr;

struct nl_handles {
    struct nl_sock *route;
    struct nl_sock *xfrm;
};

int nlh_open(struct nl_handles *h, struct errmsg *e);
void nlh_close(struct nl_handles *h);

/* A host address (/32 or /128) as libnl wants it; NULL on failure. */
struct nl_addr *nlh_addr(const struct sockaddr_storage *ss);
/* "what subject: kernel's reason" from a libnl error code; returns -1. */
int nlh_err(struct errmsg *e, int nlerr, const char *what, const char *subject);

#endif
