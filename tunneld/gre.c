#include "gre.h"

#include <linux/if_tunnel.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipgre.h>

#include "netlink.h"

/* TTL 64 rather than inherit: a fixed TTL lets the kernel set DF and do PMTU discovery. */
#define GRE_TTL 64

static int gre_add_link(struct nl_sock *rt, const struct gre_link *g, struct errmsg *e)
{
    struct rtnl_link *link = rtnl_link_ipgre_alloc();
    if (!link)
        return errmsg_set(e, "GRE %s: out of memory", g->ifname);
    rtnl_link_set_name(link, g->ifname);
    rtnl_link_ipgre_set_local(link, g->local.s_addr);
    rtnl_link_ipgre_set_remote(link, g->remote.s_addr);
    rtnl_link_ipgre_set_ttl(link, GRE_TTL);
    /* The key tells our tunnels apart from any other GRE between the same hosts. */
    rtnl_link_ipgre_set_iflags(link, GRE_KEY);
    rtnl_link_ipgre_set_oflags(link, GRE_KEY);
    rtnl_link_ipgre_set_ikey(link, htonl(g->key));
    rtnl_link_ipgre_set_okey(link, htonl(g->key));
    if (g->mtu)
        rtnl_link_set_mtu(link, g->mtu);
    int err = rtnl_link_add(rt, link, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(link);
    return err < 0 ? nlh_err(e, err, "GRE", g->ifname) : 0;
}

static int gre_add_addr(struct nl_sock *rt, int ifindex, const struct gre_link *g,
                        struct errmsg *e)
{
    struct rtnl_addr *addr = rtnl_addr_alloc();
    struct nl_addr *local = nl_addr_build(AF_INET, &g->inner, sizeof(g->inner));
    int err = -NLE_NOMEM;
    if (addr && local) {
        nl_addr_set_prefixlen(local, g->inner_plen);
        rtnl_addr_set_ifindex(addr, ifindex);
        rtnl_addr_set_family(addr, AF_INET);
        err = rtnl_addr_set_local(addr, local);
        if (err >= 0)
            err = rtnl_addr_add(rt, addr, 0);
    }
    if (local)
        nl_addr_put(local);
    if (addr)
        rtnl_addr_put(addr);
    return err < 0 ? nlh_err(e, err, "GRE address on", g->ifname) : 0;
}

static int gre_set_up(struct nl_sock *rt, struct rtnl_link *cur, const char *ifname,
                      struct errmsg *e)
{
    struct rtnl_link *change = rtnl_link_alloc();
    if (!change)
        return errmsg_set(e, "GRE %s: out of memory", ifname);
    rtnl_link_set_flags(change, IFF_UP);
    int err = rtnl_link_change(rt, cur, change, 0);
    rtnl_link_put(change);
    return err < 0 ? nlh_err(e, err, "GRE up", ifname) : 0;
}

int gre_create(struct nl_sock *rt, const struct gre_link *g, struct errmsg *e)
{
    struct rtnl_link *cur = NULL;
    if (gre_add_link(rt, g, e) < 0)
        return -1;
    int err = rtnl_link_get_kernel(rt, 0, g->ifname, &cur);
    if (err < 0) {
        nlh_err(e, err, "GRE", g->ifname);
        goto undo;
    }
    if (gre_add_addr(rt, rtnl_link_get_ifindex(cur), g, e) < 0 ||
        gre_set_up(rt, cur, g->ifname, e) < 0)
        goto undo;
    rtnl_link_put(cur);
    return 0;
undo:
    /* Half a tunnel is worse than none: remove what we made, keep the first error. */
    if (cur)
        rtnl_link_put(cur);
    gre_destroy(rt, g->ifname, NULL);
    return -1;
}

int gre_set_mtu(struct nl_sock *rt, const char *ifname, unsigned mtu, struct errmsg *e)
{
    struct rtnl_link *cur = NULL, *change = NULL;
    int err = rtnl_link_get_kernel(rt, 0, ifname, &cur);
    if (err >= 0 && !(change = rtnl_link_alloc()))
        err = -NLE_NOMEM;
    if (err >= 0) {
        rtnl_link_set_mtu(change, mtu);
        err = rtnl_link_change(rt, cur, change, 0);
    }
    if (change)
        rtnl_link_put(change);
    if (cur)
        rtnl_link_put(cur);
    return err < 0 ? nlh_err(e, err, "GRE mtu", ifname) : 0;
}

int gre_destroy(struct nl_sock *rt, const char *ifname, struct errmsg *e)
{
    struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return errmsg_set(e, "GRE %s: out of memory", ifname);
    rtnl_link_set_name(link, ifname);
    int err = rtnl_link_delete(rt, link);
    rtnl_link_put(link);
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
        return 0;
    return err < 0 ? nlh_err(e, err, "GRE remove", ifname) : 0;
}
