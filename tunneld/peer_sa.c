/*
 * A peer's CHILD SAs as kernel ESP states. Make-before-break: a rekey's
 * new inbound SA goes in at once, its outbound one a moment later (the
 * kernel sends on the newest outbound state, and the peer must be able to
 * decrypt it first: as the rekey's responder we answered, but the answer
 * may still be on its way), and the old SA stays until a grace period has
 * passed, for packets in flight.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "daemon.h"

/* Longer than the rekey response needs to reach the peer; far shorter than the grace period. */
#define OUT_DELAY_MS 1000

static void retire_arm(struct peer *p)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].retire_at && (!next || p->sa[i].retire_at < next))
            next = p->sa[i].retire_at;
    loop_timer_set(p->d->loop, &p->retire_timer, next);
}

static void pending_wipe(struct peer *p)
{
    OPENSSL_cleanse(&p->out_pending, sizeof(p->out_pending));
    p->has_out_pending = false;
    loop_timer_set(p->d->loop, &p->out_timer, 0);
}

static void remove_at(struct peer *p, unsigned i)
{
    struct errmsg e = {{0}};
    struct nl_sock *x = p->d->nl.xfrm;
    if (p->has_out_pending && p->out_pending.spi_in == p->sa[i].spi_in)
        pending_wipe(p);
    if (xfrm_state_remove(x, &p->local, p->sa[i].spi_in, &e) < 0 ||
        (p->sa[i].out_installed && xfrm_state_remove(x, &p->remote, p->sa[i].spi_out, &e) < 0))
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    p->sa[i] = p->sa[--p->n_sa];
}

static struct peer_sa *find(struct peer *p, uint32_t spi_in)
{
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].spi_in == spi_in)
            return &p->sa[i];
    return NULL;
}

static void install_out(struct peer *p, const struct ike_child_sa *sa)
{
    struct errmsg e = {{0}};
    struct peer_sa *ps = find(p, sa->spi_in);
    if (!ps)
        return; /* gone meanwhile */
    if (xfrm_state_add(p->d->nl.xfrm, sa, XFRM_DIR_OUT, &e) < 0) {
        log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "%s", e.text);
        return;
    }
    ps->out_installed = true;
}

static void out_fire(struct loop *l, void *arg)
{
    struct peer *p = arg;
    if (p->has_out_pending)
        install_out(p, &p->out_pending);
    pending_wipe(p);
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

int peer_sa_install(struct peer *p, const struct ike_child_sa *sa, bool delay_out)
{
    struct errmsg e = {{0}};
    struct nl_sock *x = p->d->nl.xfrm;
    if (p->has_out_pending) /* a rekey right after a rekey: the older one goes out now */
        out_fire(p->d->loop, p);
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
    p->sa[p->n_sa++] = (struct peer_sa){.spi_in = sa->spi_in, .spi_out = sa->spi_out,
                                        .suite = sa->suite, .udp_encap = sa->udp_encap};
    p->retire_timer.fn = retire_fire;
    p->retire_timer.arg = p;
    p->out_timer.fn = out_fire;
    p->out_timer.arg = p;
    if (!delay_out) {
        install_out(p, sa);
        return p->sa[p->n_sa - 1].out_installed ? 0 : -1;
    }
    p->out_pending = *sa;
    p->has_out_pending = true;
    loop_timer_set(p->d->loop, &p->out_timer, loop_now_ms() + OUT_DELAY_MS);
    return 0;
}

void peer_sa_retire(struct peer *p, uint32_t spi_in, uint32_t grace_ms)
{
    /* Its outbound half not in yet: it never will be. */
    if (p->has_out_pending && p->out_pending.spi_in == spi_in)
        pending_wipe(p);
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

void peer_sa_expired(struct peer *p, uint32_t spi, bool hard)
{
    struct peer_sa *s = NULL;
    for (unsigned i = 0; i < p->n_sa && !s; i++)
        if (p->sa[i].spi_in == spi || p->sa[i].spi_out == spi)
            s = &p->sa[i];
    if (!s || (s->retire_at && !hard))
        return; /* not ours, or already replaced */
    log_msg(&p->d->log, hard ? LOG_L_WARNING : LOG_L_INFO, p->cfg.name,
            "CHILD SA 0x%08x reached its %s byte/packet limit: rekeying", spi,
            hard ? "hard" : "soft");
    bool live = !s->retire_at;
    if (hard)
        peer_sa_remove(p, s->spi_in); /* the kernel has deleted it already */
    int rc = live && p->ike_id ? ike_rekey_child(p->d->ike, loop_now_ms(), p->ike_id) : IKE_OK;
    if (rc != IKE_OK && rc != IKE_ERR_STATE)
        log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "cannot rekey (ikecore error %d)", rc);
    daemon_ike_drain(p->d);
}

void peer_sa_remove_all(struct peer *p)
{
    while (p->n_sa)
        remove_at(p, p->n_sa - 1);
    pending_wipe(p);
    retire_arm(p);
}
