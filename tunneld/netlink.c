#include "netlink.h"

#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>

int nlh_err(struct errmsg *e, int nlerr, const char *what, const char *subject)
{
    return errmsg_set(e, "%s %s: %s", what, subject, nl_geterror(nlerr));
}

static int open_one(struct nl_sock **out, int proto, const char *name, struct errmsg *e)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return errmsg_set(e, "netlink %s: out of memory", name);
    int err = nl_connect(sk, proto);
    if (err < 0) {
        nl_socket_free(sk);
        return nlh_err(e, err, "netlink", name);
    }
    *out = sk;
    return 0;
}

int nlh_open(struct nl_handles *h, struct errmsg *e)
{
    h->route = h->xfrm = NULL;
    if (open_one(&h->route, NETLINK_ROUTE, "route", e) < 0)
        return -1;
    if (open_one(&h->xfrm, NETLINK_XFRM, "xfrm", e) < 0) {
        nlh_close(h);
        return -1;
    }
    return 0;
}

void nlh_close(struct nl_handles *h)
{
    if (h->route)
        nl_socket_free(h->route);
    if (h->xfrm)
        nl_socket_free(h->xfrm);
    h->route = h->xfrm = NULL;
}

struct nl_addr *nlh_addr(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        return nl_addr_build(AF_INET, &sin->sin_addr, sizeof(sin->sin_addr));
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        return nl_addr_build(AF_INET6, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
    }
    return NULL;
}
