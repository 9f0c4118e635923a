#include "ike_socket.h"
#include "ipaddr.h"

#include <errno.h>
#include <linux/ipsec.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define NON_ESP_MARKER_LEN 4

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/*
 * IKE itself must never be caught by an IPsec policy (ours only match GRE,
 * but an admin's might not): a per-socket bypass, as every IKE daemon does.
 */
static int bypass_policies(int fd, int family)
{
    int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    int opt = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
    for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
        struct xfrm_userpolicy_info pol;
        memset(&pol, 0, sizeof(pol));
        pol.action = XFRM_POLICY_ALLOW;
        pol.sel.family = (uint16_t)family;
        pol.dir = (uint8_t)dir;
        pol.lft.soft_byte_limit = pol.lft.hard_byte_limit = XFRM_INF;
        pol.lft.soft_packet_limit = pol.lft.hard_packet_limit = XFRM_INF;
        if (setsockopt(fd, level, opt, &pol, sizeof(pol)) < 0)
            return -1;
    }
    return 0;
}

static int open_one(const struct sockaddr_storage *local, uint16_t port, int encap,
                    struct sockaddr_storage *bound, struct errmsg *e)
{
    int fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errmsg_set(e, "IKE socket: %s", strerror(errno));
    *bound = *local;
    set_port(bound, port);
    socklen_t blen = sizeof(*bound);
    /* No SO_REUSEADDR: on Linux it lets a second daemon bind the same UDP port and steal its packets. */
    if (bind(fd, (struct sockaddr *)bound, sa_len(bound)) < 0 ||
        getsockname(fd, (struct sockaddr *)bound, &blen) < 0)
        goto fail;
    if (bypass_policies(fd, local->ss_family) < 0)
        goto fail;
    if (encap && setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof(encap)) < 0)
        goto fail;
    return fd;
fail:
    errmsg_set(e, "IKE socket UDP %u: %s", port, strerror(errno));
    close(fd);
    return -1;
}

int ike_sockets_open(struct ike_sockets *s, const struct sockaddr_storage *local,
                     uint16_t port_ike, uint16_t port_natt, struct errmsg *e)
{
    s->fd_natt = -1;
    s->fd_ike = open_one(local, port_ike, 0, &s->ike_addr, e);
    if (s->fd_ike < 0)
        return -1;
    s->fd_natt = open_one(local, port_natt, UDP_ENCAP_ESPINUDP, &s->natt_addr, e);
    if (s->fd_natt < 0) {
        ike_sockets_close(s);
        return -1;
    }
    return 0;
}

void ike_sockets_close(struct ike_sockets *s)
{
    if (s->fd_ike >= 0)
        close(s->fd_ike);
    if (s->fd_natt >= 0)
        close(s->fd_natt);
    s->fd_ike = s->fd_natt = -1;
}

ssize_t ike_socket_recv(const struct ike_sockets *s, int fd, uint8_t *buf, size_t len,
                        struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
    socklen_t slen = sizeof(*src);
    ssize_t n = recvfrom(fd, buf, len, MSG_TRUNC, (struct sockaddr *)src, &slen);
    if (n < 0)
        return -1;
    if ((size_t)n > len)
        return 0; /* larger than any IKE message we accept: dropped */
    *dst = fd == s->fd_natt ? s->natt_addr : s->ike_addr;
    if (fd != s->fd_natt)
        return n;
    /*
     * RFC 3948 §2.2: IKE has 4 zero bytes first. The kernel's UDP_ENCAP
     * handler (xfrm4_udp_encap_rcv) eats 1-byte 0xff keepalives and takes
     * ESP itself; what it lets through without the marker (a keepalive
     * from a kernel that does not eat them, a runt) is dropped here.
     */
    static const uint8_t marker[NON_ESP_MARKER_LEN];
    if (n < NON_ESP_MARKER_LEN || memcmp(buf, marker, NON_ESP_MARKER_LEN) != 0)
        return 0;
    memmove(buf, buf + NON_ESP_MARKER_LEN, (size_t)n - NON_ESP_MARKER_LEN);
    return n - NON_ESP_MARKER_LEN;
}

int ike_socket_send(const struct ike_sockets *s, const uint8_t *msg, size_t len,
                    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
                    struct errmsg *e)
{
    static const uint8_t marker[NON_ESP_MARKER_LEN];
    bool natt = ip_sockaddr_port(src) == ip_sockaddr_port(&s->natt_addr);
    struct iovec iov[2] = {
        {(void *)marker, natt ? NON_ESP_MARKER_LEN : 0},
        {(void *)msg, len},
    };
    struct msghdr mh = {
        .msg_name = (void *)dst, .msg_namelen = sa_len(dst), .msg_iov = iov, .msg_iovlen = 2,
    };
    if (sendmsg(natt ? s->fd_natt : s->fd_ike, &mh, 0) < 0)
        return errmsg_set(e, "IKE send: %s", strerror(errno));
    return 0;
}

int ike_socket_send_keepalive(const struct ike_sockets *s, const struct sockaddr_storage *dst,
                              struct errmsg *e)
{
    static const uint8_t keepalive = 0xff;
    if (sendto(s->fd_natt, &keepalive, 1, 0, (const struct sockaddr *)dst, sa_len(dst)) < 0)
        return errmsg_set(e, "NAT keepalive: %s", strerror(errno));
    return 0;
}
