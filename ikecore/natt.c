/*
 * NAT traversal common to both IKE versions (RFC 7296 §2.23, RFC 3947,
 * RFC 3948): the move of an IKE SA to port 4500 once a NAT is detected,
 * following a peer whose NAT mapping changed, keepalives, and the UDP
 * encapsulation a CHILD SA gets. Detection itself is per version (NAT-D
 * payloads in IKEv1, notifies in IKEv2).
 */
#include "ike_int.h"

#include <netinet/in.h>
#include <string.h>

uint16_t ike_addr_port(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return 0;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
    else if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

bool ike_addr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The address only: behind a NAT the peer's source port is the NAT's choice. */
struct ike_peer *ike_peer_by_addr(struct ike_ctx *ctx, const struct sockaddr_storage *src,
                                  uint8_t version)
{
    for (struct ike_peer *p = ctx->peers; p; p = p->next)
        if (p->cfg.version == version && ike_addr_same_host(&p->cfg.remote, src))
            return p;
    return NULL;
}

bool ike_sa_nat(const struct ike_sa *sa)
{
    return sa->nat_local || sa->nat_remote;
}

void ike_sa_float(struct ike_sa *sa)
{
    set_port(&sa->local, IKE_NATT_PORT);
    set_port(&sa->remote, IKE_NATT_PORT);
}

/*
 * src/dst of a message of sa that passed its integrity check. With a NAT
 * detected the SA follows it: to the port it came to (4500 once the peer
 * floated) and, when the peer is the one behind the NAT, to the address and
 * port it came from. Unauthenticated packets never get here (§2.23: "MUST
 * NOT" update on them).
 */
void ike_sa_follow(struct ike_ctx *ctx, struct ike_sa *sa, const struct sockaddr_storage *src,
                   const struct sockaddr_storage *dst)
{
    if (!ike_sa_nat(sa) || src->ss_family != sa->remote.ss_family)
        return;
    bool moved_host = !ike_addr_same_host(src, &sa->remote);
    if (moved_host && !sa->nat_remote)
        return;     /* a peer not behind a NAT does not move; keep what it is configured as */
    if (!moved_host && ike_addr_port(src) == ike_addr_port(&sa->remote) &&
        ike_addr_port(dst) == ike_addr_port(&sa->local))
        return;
    struct sockaddr_storage old = sa->remote;
    sa->remote = *src;
    set_port(&sa->local, ike_addr_port(dst));
    if (!sa->child.up && !sa->old_child.up && !sa->rk_child.up && !sa->dup_child.up)
        return;     /* nothing installed yet: the CHILD events will carry the new ports */
    struct ike_event ev = {.type = IKE_EV_PEER_MOVED, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.moved.local = sa->local;
    ev.u.moved.remote = sa->remote;
    ev.u.moved.old_remote = old;
    ev.u.moved.reqid = sa->peer->cfg.reqid;
    ike_emit(ctx, &ev, NULL, 0);
}

/* What the kernel needs of the SA's NAT state for a CHILD SA it carries. */
void ike_child_addrs(const struct ike_sa *sa, struct ike_child_sa *c)
{
    c->local = sa->local;
    c->remote = sa->remote;
    c->udp_encap = ike_sa_nat(sa) && ike_addr_port(&sa->local) == IKE_NATT_PORT;
    c->encap_sport = c->udp_encap ? ike_addr_port(&sa->local) : 0;
    c->encap_dport = c->udp_encap ? ike_addr_port(&sa->remote) : 0;
}

/*
 * RFC 3948 §2.3: the side behind the NAT keeps its mapping alive with one
 * byte 0xFF to the peer's NAT-T port. Sent on a fixed interval: the core
 * does not see ESP traffic, and a byte every 20 s costs nothing. The
 * interval, or 0 when sa sends none; by state, not up_at, as 0 is a time
 * like any other on the caller's clock.
 */
static ike_time_t keepalive_iv(const struct ike_sa *sa)
{
    if (!sa->nat_local || sa->state != SA_ESTABLISHED || sa->replaced ||
        ike_addr_port(&sa->local) != IKE_NATT_PORT)
        return 0;
    return (ike_time_t)sa->peer->cfg.nat_keepalive_s * 1000;
}

/*
 * The same condition as ike_sa_keepalive's: a deadline that stayed due while
 * the keepalive itself declines (an SA up but still on port 500) would make
 * the caller's loop spin.
 */
ike_time_t ike_sa_keepalive_deadline(const struct ike_sa *sa)
{
    if (!keepalive_iv(sa))
        return IKE_TIME_NEVER;
    return sa->keepalive_at ? sa->keepalive_at : 1;     /* 1: due now, to set the first */
}

void ike_sa_keepalive(struct ike_ctx *ctx, struct ike_sa *sa, ike_time_t now)
{
    ike_time_t iv = keepalive_iv(sa);
    if (!iv) {
        sa->keepalive_at = 0;
        return;
    }
    if (!sa->keepalive_at) {
        sa->keepalive_at = now + iv;
        return;
    }
    if (now < sa->keepalive_at)
        return;
    static const uint8_t ka = 0xff;
    struct ike_event ev = {.type = IKE_EV_SEND, .peer_id = sa->peer->id,
                           .peer_name = sa->peer->name};
    ev.u.send.src = sa->local;
    ev.u.send.dst = sa->remote;
    ev.u.send.keepalive = true;
    ctx->stats.tx_packets++;
    ike_emit(ctx, &ev, &ka, 1);
    sa->keepalive_at = now + iv;
}
