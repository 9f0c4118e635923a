#include "wan.h"

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"

struct match {
    bool by_addr;
    int ifindex;
    const struct ip_addr *want;
    struct ip_addr found;
    int found_ifindex;
};

static void match_addr(struct nl_object *obj, void *arg)
{
    struct match *m = arg;
    struct rtnl_addr *a = (struct rtnl_addr *)obj;
    struct nl_addr *local = rtnl_addr_get_local(a);
    if (m->found_ifindex || !local || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
        return;
    struct ip_addr ip = {.family = (uint8_t)nl_addr_get_family(local)};
    if (ip.family != m->want->family || nl_addr_get_len(local) != ip_addr_len(&ip))
        return;
    memcpy(ip.bytes, nl_addr_get_binary_addr(local), ip_addr_len(&ip));
    if (m->by_addr ? ip_addr_cmp(&ip, m->want) == 0 : rtnl_addr_get_ifindex(a) == m->ifindex) {
        m->found = ip;
        m->found_ifindex = rtnl_addr_get_ifindex(a);
    }
}

static int link_of(struct nl_sock *rt, struct match *m, const char *ifname, struct wan *w,
                   struct errmsg *e)
{
    struct rtnl_link *l = NULL;
    int err = ifname ? rtnl_link_get_kernel(rt, 0, ifname, &l)
                     : rtnl_link_get_kernel(rt, m->found_ifindex, NULL, &l);
    if (err < 0)
        return nlh_err(e, err, "WAN interface", ifname ? ifname : "(by address)");
    snprintf(w->ifname, sizeof(w->ifname), "%s", rtnl_link_get_name(l));
    w->mtu = rtnl_link_get_mtu(l);
    m->ifindex = rtnl_link_get_ifindex(l);
    rtnl_link_put(l);
    return 0;
}

int wan_resolve(struct nl_sock *rt, bool by_addr, const char *ifname, const struct ip_addr *addr,
                struct wan *w, struct errmsg *e)
{
    struct match m = {.by_addr = by_addr, .want = addr};
    memset(w, 0, sizeof(*w));
    if (!by_addr && link_of(rt, &m, ifname, w, e) < 0)
        return -1;
    struct nl_cache *cache = NULL;
    int err = rtnl_addr_alloc_cache(rt, &cache);
    if (err < 0)
        return nlh_err(e, err, "WAN address list", by_addr ? "" : ifname);
    nl_cache_foreach(cache, match_addr, &m);
    nl_cache_free(cache);
    char a[IP_ADDR_STRLEN];
    ip_addr_str(addr, a, sizeof(a));
    if (!m.found_ifindex)
        return by_addr ? errmsg_set(e, "WAN address %s is not configured on any interface", a)
                       : errmsg_set(e, "WAN interface %s has no global %s address", ifname,
                                    addr->family == AF_INET6 ? "IPv6" : "IPv4");
    w->addr = m.found;
    return by_addr ? link_of(rt, &m, NULL, w, e) : 0;
}
