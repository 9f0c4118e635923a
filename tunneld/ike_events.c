/*
 * What ikecore says, turned into packets on the wire, kernel states and log
 * lines. Called after every call into ikecore, so nothing waits in its queue.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "daemon.h"
#include "ipaddr.h"
#include "nat.h"
#include "proposal.h"

/* How long a rekeyed SA keeps decrypting what was already in flight. */
#define REKEY_GRACE_MS 10000

static void log_child(struct peer *p, const char *what, const struct ike_child_sa *sa)
{
    char suite[PROPOSAL_MAX_LEN];
    proposal_format(&sa->suite, PROPOSAL_ESP, suite, sizeof(suite));
    log_msg(&p->d->log, LOG_L_INFO, p->cfg.name, "CHILD SA %s: SPI in 0x%08" PRIx32
            " out 0x%08" PRIx32 ", %s%s", what, sa->spi_in, sa->spi_out, suite,
            sa->udp_encap ? ", UDP-encapsulated" : "");
}

static void on_send(struct daemon *d, const struct ike_event *ev)
{
    struct errmsg e = {{0}};
    int rc = ev->u.send.keepalive
                 ? ike_socket_send_keepalive(&d->sock, &ev->u.send.dst, &e)
                 : ike_socket_send(&d->sock, ev->u.send.data, ev->u.send.len, &ev->u.send.src,
                                   &ev->u.send.dst, &e);
    if (rc < 0)
        log_msg(&d->log, LOG_L_WARNING, ev->peer_name, "%s", e.text);
}

/*
 * The peer behind a NAT spoke from a new port (its NAT lost the mapping and
 * made another) or a new address. A port follows in the kernel states; an
 * address cannot: the GRE link and the policies are bound to the configured
 * one, so the peer starts afresh.
 */
static void on_moved(struct peer *p, const struct ike_event *ev)
{
    char now[NAT_ADDR_PORT_STRLEN], was[NAT_ADDR_PORT_STRLEN];
    nat_addr_port_str(&ev->u.moved.remote, now, sizeof(now));
    nat_addr_port_str(&ev->u.moved.old_remote, was, sizeof(was));
    switch (nat_move_kind(&p->remote, &ev->u.moved.remote, &ev->u.moved.old_remote)) {
    case NAT_MOVE_NONE: return;
    case NAT_MOVE_ADDRESS:
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name,
                "peer moved to a new address: now %s (was %s); the tunnel is bound to the "
                "configured address: restarting the peer", now, was);
        peer_restart_soon(p);
        return;
    case NAT_MOVE_PORT:
        log_msg(&p->d->log, LOG_L_NOTICE, p->cfg.name, "NAT mapping changed: now %s (was %s)",
                now, was);
        peer_sa_encap_move(p, ip_sockaddr_port(&ev->u.moved.local),
                           ip_sockaddr_port(&ev->u.moved.remote));
        return;
    }
}

static const char *nat_words(bool local, bool remote)
{
    if (local && remote)
        return ", NAT detected on both sides";
    if (local || remote)
        return local ? ", NAT detected: we are behind it" : ", NAT detected: the peer is behind it";
    return "";
}

static void on_ike(struct peer *p, const struct ike_event *ev)
{
    char suite[PROPOSAL_MAX_LEN];
    if (ev->type == IKE_EV_IKE_UP) {
        proposal_format(&ev->u.ike.suite, PROPOSAL_IKE, suite, sizeof(suite));
        log_msg(&p->d->log, LOG_L_INFO, p->cfg.name, "IKE SA up: IKEv%u, %s, %s%s",
                ev->u.ike.version, ev->u.ike.initiator ? "initiator" : "responder", suite,
                nat_words(ev->u.ike.nat_local, ev->u.ike.nat_remote));
        p->retry_s = 0;
        peer_nat_mtu(p, ev->u.ike.nat_local || ev->u.ike.nat_remote);
        return;
    }
    enum ike_reason r = ev->u.ike.reason;
    log_msg(&p->d->log, r == IKE_R_REPLACED ? LOG_L_INFO : LOG_L_NOTICE, p->cfg.name,
            "IKE SA down: %s", ike_reason_str(r));
    peer_ike_down(p, r);
}

static void on_child(struct peer *p, const struct ike_event *ev)
{
    const struct ike_child_sa *sa = &ev->u.child.sa;
    switch (ev->type) {
    case IKE_EV_CHILD_UP:
        if (peer_sa_install(p, sa, false) == 0)
            log_child(p, "up", sa);
        break;
    case IKE_EV_CHILD_REKEYED:
        if (peer_sa_install(p, sa, true) == 0)
            log_child(p, "rekeyed", sa);
        peer_sa_retire(p, ev->u.child.old_spi_in, REKEY_GRACE_MS);
        break;
    case IKE_EV_CHILD_SWITCH:
        peer_sa_switch(p, sa->spi_in);
        break;
    default:
        /*
         * Replaced (the redundant one of two crossing rekeys, RFC 7296 2.8.1):
         * packets may still be on their way in it: retired like a rekeyed SA.
         * Our newest outbound state may be it: we send on the survivor from
         * now on (peer_sa_replaced).
         */
        if (ev->u.child.reason == IKE_R_REPLACED)
            peer_sa_replaced(p, sa->spi_in, REKEY_GRACE_MS);
        else
            peer_sa_remove(p, sa->spi_in);
        log_msg(&p->d->log, LOG_L_NOTICE, p->cfg.name, "CHILD SA down: SPI in 0x%08" PRIx32
                ", %s", sa->spi_in, ike_reason_str(ev->u.child.reason));
        break;
    }
}

static void on_error(struct daemon *d, struct peer *p, const struct ike_event *ev)
{
    log_msg(&d->log, LOG_L_ERR, ev->peer_name, "negotiation failed: %s: %s",
            ike_reason_str(ev->u.error.reason),
            ev->u.error.detail ? ev->u.error.detail : "no detail");
    if (p && !p->n_sa)
        peer_schedule_retry(p);
}

static void handle(struct daemon *d, const struct ike_event *ev)
{
    struct peer *p = peer_by_ike_id(d, ev->peer_id);
    switch (ev->type) {
    case IKE_EV_SEND: on_send(d, ev); break;
    case IKE_EV_ERROR: on_error(d, p, ev); break;
    case IKE_EV_IKE_UP:
    case IKE_EV_IKE_DOWN:
        if (p)
            on_ike(p, ev);
        break;
    case IKE_EV_CHILD_UP:
    case IKE_EV_CHILD_REKEYED:
    case IKE_EV_CHILD_SWITCH:
    case IKE_EV_CHILD_DOWN:
        if (p)
            on_child(p, ev);
        break;
    case IKE_EV_PEER_MOVED:
        if (p)
            on_moved(p, ev);
        break;
    default: break;
    }
}

void daemon_ike_drain(struct daemon *d)
{
    struct ike_event ev;
    while (ike_next_event(d->ike, &ev) == 1)
        handle(d, &ev);
    ike_time_t next = ike_next_deadline(d->ike);
    /* Deadline 0 disarms a loop timer; ikecore's "now or earlier" must still fire. */
    loop_timer_set(d->loop, &d->ike_timer, next == IKE_TIME_NEVER ? 0 : next ? next : 1);
}
