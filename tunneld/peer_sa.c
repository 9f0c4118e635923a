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
#include "nat.h"

/*
 * How long a rekey's new outbound SA is held back unless the old SA's
 * DELETE exchange ends first (the usual case: ike_events.c then installs it
 * at once): longer than the rekey's initiator may take to install the SA
 * after our answer (its DH under PFS: 2 s seen under TCG), shorter than the
 * grace period.
 */
#define OUT_DELAY_MS 5000

static void retire_arm(struct peer *p)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].retire_at && (!next || p->sa[i].retire_at < next))
            next = p->sa[i].retire_at;
    loop_timer_set(p->d->loop, &p->retire_timer, next);
}

static void out_arm(struct peer *p)
{
    loop_timer_set(p->d->loop, &p->out_timer, p->n_out_pending ? p->out_pending[0].due : 0);
}

static int pending_find(const struct peer *p, uint32_t spi_in)
{
    for (unsigned k = 0; k < p->n_out_pending; k++)
        if (p->out_pending[k].sa.spi_in == spi_in)
            return (int)k;
    return -1;
}

/* Pending k is done with (installed, or never to be): its keys go, the later ones move up. */
static void pending_drop(struct peer *p, unsigned k)
{
    memmove(&p->out_pending[k], &p->out_pending[k + 1],
            (p->n_out_pending - k - 1) * sizeof(p->out_pending[0]));
    p->n_out_pending--;
    OPENSSL_cleanse(&p->out_pending[p->n_out_pending], sizeof(p->out_pending[0]));
    out_arm(p);
}

static void pending_forget(struct peer *p, uint32_t spi_in)
{
    int k = pending_find(p, spi_in);
    if (k >= 0)
        pending_drop(p, (unsigned)k);
}

static void pending_wipe(struct peer *p)
{
    OPENSSL_cleanse(p->out_pending, sizeof(p->out_pending));
    p->n_out_pending = 0;
    out_arm(p);
}

static void remove_at(struct peer *p, unsigned i)
{
    struct errmsg e = {{0}};
    struct nl_sock *x = p->d->nl.xfrm;
    pending_forget(p, p->sa[i].spi_in);
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

/* The oldest pending outbound state goes in now (the kernel sends on the newest). */
static void pending_install(struct peer *p)
{
    install_out(p, &p->out_pending[0].sa);
    pending_drop(p, 0);
}

static void out_fire(struct loop *l, void *arg)
{
    struct peer *p = arg;
    uint64_t now = loop_now_ms();
    while (p->n_out_pending && p->out_pending[0].due <= now)
        pending_install(p);
    out_arm(p);
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
    /*
     * Not the older pending one at once: when rekeys cross (§2.8.1) it is the
     * one we answered, and the peer installs it only when our answer gets
     * there, about when its own answer (this SA) reached us.
     */
    if (p->n_out_pending == PEER_MAX_OUT_PENDING)
        pending_install(p);     /* more rekeys at once than ever cross */
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
                                        .suite = sa->suite, .udp_encap = sa->udp_encap,
                                        .encap_sport = sa->encap_sport,
                                        .encap_dport = sa->encap_dport};
    p->retire_timer.fn = retire_fire;
    p->retire_timer.arg = p;
    p->out_timer.fn = out_fire;
    p->out_timer.arg = p;
    if (!delay_out) {
        install_out(p, sa);
        return p->sa[p->n_sa - 1].out_installed ? 0 : -1;
    }
    p->out_pending[p->n_out_pending++] =
        (struct peer_out_pending){.sa = *sa, .due = loop_now_ms() + OUT_DELAY_MS};
    out_arm(p);
    return 0;
}

void peer_sa_retire(struct peer *p, uint32_t spi_in, uint32_t grace_ms)
{
    pending_forget(p, spi_in); /* its outbound half not in yet: it never will be */
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].spi_in == spi_in && !p->sa[i].retire_at)
            p->sa[i].retire_at = loop_now_ms() + grace_ms;
    retire_arm(p);
}

/*
 * Stop sending on s once a current SA's outbound state is in. s may be our
 * newest (the redundant one of crossing rekeys, §2.8.1), and the peer drops
 * its inbound half at the end of its own grace period, which may be before
 * ours: its DELETE exchange ended there first.
 */
static void out_cut(struct peer *p, struct peer_sa *s)
{
    struct errmsg e = {{0}};
    bool other = false;
    for (unsigned i = 0; i < p->n_sa; i++)
        other |= &p->sa[i] != s && !p->sa[i].retire_at && p->sa[i].out_installed;
    if (!s->out_installed || !other)
        return;
    if (xfrm_state_remove(p->d->nl.xfrm, &p->remote, s->spi_out, &e) < 0)
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    s->out_installed = false;
}

void peer_sa_replaced(struct peer *p, uint32_t spi_in, uint32_t grace_ms)
{
    struct peer_sa *s = find(p, spi_in);
    if (!s)
        return;
    /* The peer is done with it, so it has every newer SA's inbound half: send on those now. */
    pending_forget(p, spi_in);
    while (p->n_out_pending)
        pending_install(p);
    out_cut(p, s);
    peer_sa_retire(p, spi_in, grace_ms);
}

void peer_sa_switch(struct peer *p, uint32_t old_spi_in)
{
    /* The rekey's old SA is done on both sides: the peer has the new one's inbound half. */
    pending_forget(p, old_spi_in);
    while (p->n_out_pending)
        pending_install(p);
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

/*
 * RFC 3948 §2.1 / RFC 7296 §2.23: ESP goes where the peer's IKE now comes
 * from. Updated in place (XFRM_MSG_UPDSA), not re-added: SPIs, keys,
 * sequence numbers and replay windows carry on, and nothing is dropped
 * while the states change.
 */
void peer_sa_encap_move(struct peer *p, uint16_t ours, uint16_t theirs)
{
    struct nat_encap_update u[2 * PEER_MAX_SAS];
    unsigned n = nat_encap_plan(p->sa, p->n_sa, ours, theirs, u), failed = 0;
    for (unsigned i = 0; i < n; i++) {
        struct errmsg e = {{0}};
        const struct sockaddr_storage *dst = u[i].dir == XFRM_DIR_IN ? &p->local : &p->remote;
        if (xfrm_state_set_encap(p->d->nl.xfrm, dst, u[i].spi, u[i].sport, u[i].dport, &e) < 0) {
            log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "%s", e.text);
            failed++;
        }
    }
    for (unsigned i = 0; i < p->n_sa; i++)
        if (p->sa[i].udp_encap)
            p->sa[i].encap_sport = ours, p->sa[i].encap_dport = theirs;
    /* A rekey's outbound half not in yet goes in with the new port. */
    for (unsigned k = 0; k < p->n_out_pending; k++)
        if (p->out_pending[k].sa.udp_encap)
            p->out_pending[k].sa.encap_sport = ours, p->out_pending[k].sa.encap_dport = theirs;
    log_msg(&p->d->log, failed ? LOG_L_WARNING : LOG_L_INFO, p->cfg.name,
            "%u ESP state%s re-aimed at UDP port %u%s", n - failed, n - failed == 1 ? "" : "s",
            theirs, failed ? " (some failed: see above)" : "");
}
