#include "nat.h"
#include "ipaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

enum nat_move nat_move_kind(const struct sockaddr_storage *configured,
                            const struct sockaddr_storage *now,
                            const struct sockaddr_storage *was)
{
    if (!same_host(now, configured))
        return NAT_MOVE_ADDRESS;
    if (same_host(now, was) && ip_sockaddr_port(now) == ip_sockaddr_port(was))
        return NAT_MOVE_NONE;
    return NAT_MOVE_PORT;
}

static void plan_one(struct nat_encap_update **out, enum xfrm_dir dir, uint32_t spi,
                     uint16_t ours, uint16_t theirs)
{
    struct nat_encap_update *u = (*out)++;
    u->dir = dir;
    u->spi = spi;
    xfrm_encap_ports(dir, ours, theirs, &u->sport, &u->dport);
}

unsigned nat_encap_plan(const struct peer_sa *sa, unsigned n, uint16_t ours, uint16_t theirs,
                        struct nat_encap_update *out)
{
    struct nat_encap_update *o = out;
    for (unsigned i = 0; i < n; i++) {
        const struct peer_sa *s = &sa[i];
        if (!s->udp_encap || (s->encap_sport == ours && s->encap_dport == theirs))
            continue;
        plan_one(&o, XFRM_DIR_IN, s->spi_in, ours, theirs);
        if (s->out_installed)
            plan_one(&o, XFRM_DIR_OUT, s->spi_out, ours, theirs);
    }
    return (unsigned)(o - out);
}

void nat_addr_port_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
        snprintf(buf, len, "[%s]:%u", a, ip_sockaddr_port(ss));
        return;
    }
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
    snprintf(buf, len, "%s:%u", a, ip_sockaddr_port(ss));
}
