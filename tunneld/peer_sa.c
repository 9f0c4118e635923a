/*
 * A peer's CHILD SAs as kernel ESP states. Make-before-break: a rekey's
 * new SA is installed (inbound first, so the peer may use it at once) and
 * the old one stays until a grace period has passed, for packets in flight.
 * The kernel sends on the newest outbound state, so the switch is atomic.
 */
#include <string.h>

#include "daemon.h"

static void retire_arm(struct peer *p)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].retire_at && (!next || p->sa[i].retire_at < next))
            next = p->sa[i].retire_at;
    loop_timer_set(p->d->loop, &p->retire_timer, next);
}

static void remove_at(struct peer *p, unsigned i)
{
    struct errmsg e = {{0}};
    struct nl_sock *x = p->d->nl.xfrm;
    if (xfrm_state_remove(x, &p->local, p->sa[i].spi_in, &e) < 0 ||
        xfrm_state_remove(x, &p->remote, p->sa[i].spi_out, &e) < 0)
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    p->sa[i] = p->sa[--p->n_sa];
}

static void retire_fire(struct loop *l, void *arg)
{
    struct peer *p = arg;
    uint64_t now = loop_now_ms();
    for (unsigned i = p->n_sa; i-- > 0;)
        if (p->sa[i].retire_at && p->sa[i].retire_at <= now)
            remove_at(p, i);
    retire_arm(p);
}

int peer_sa_install(struct peer *p, const struct ike_child_sa *sa)
{
    struct errmsg e = {{0}};
    struct nl_sock *x = p->d->nl.xfrm;
    if (p->n_sa == PEER_MAX_SAS) {
        /* More than rekeys ever overlap: drop the oldest retiring one now. */
        unsigned old = 0;
        for (unsigned i = 1; i < p->n_sa; i++)
            if (p->sa[i].retire_at && (!p->sa[old].retire_at ||
                                       p->sa[i].retire_at < p->sa[old].retire_at))
                old = i;
        remove_at(p, old);
    }
    if (xfrm_state_add(x, sa, XFRM_DIR_IN, &e) < 0) {
        log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "%s", e.text);
        return -1;
    }
    if (xfrm_state_add(x, sa, XFRM_DIR_OUT, &e) < 0) {
        log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "%s", e.text);
        xfrm_state_remove(x, &p->local, sa->spi_in, NULL);
        return -1;
    }
    p->sa[p->n_sa++] = (struct peer_sa){.spi_in = sa->spi_in, .spi_out = sa->spi_out,
                                        .suite = sa->suite, .udp_encap = sa->udp_encap};
    p->retire_timer.fn = retire_fire;
    p->retire_timer.arg = p;
    return 0;
}

void peer_sa_retire(struct peer *p, uint32_t spi_in, uint32_t grace_ms)
{
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].spi_in == spi_in && !p->sa[i].retire_at)
            p->sa[i].retire_at = loop_now_ms() + grace_ms;
    retire_arm(p);
}

void peer_sa_remove(struct peer *p, uint32_t spi_in)
{
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].spi_in == spi_in) {
            remove_at(p, i);
            break;
        }
    retire_arm(p);
}

void peer_sa_remove_all(struct peer *p)
{
    while (p->n_sa)
        remove_at(p, p->n_sa - 1);
    retire_arm(p);
}
