/*
 * One peer's life: policies, then the GRE link, then FRR, then IKE; torn
 * down in the reverse order, so GRE never finds a path out without ESP.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "daemon.h"
#include "mss.h"
#include "mtu.h"
#include "sysctl.h"

#define PORT_IKE 500

static void to_sockaddr(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, a->bytes, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, a->bytes, 16);
    }
}

/*
 * The smallest MTU any of the peer's ESP suites allows: both ends then agree
 * whatever is chosen. Behind a NAT ESP travels in UDP, 8 bytes more; the
 * link is made before IKE knows, so it starts without them and IKE_UP
 * lowers it (peer_nat_mtu; docs/config.md "Behind a NAT" says why).
 */
static unsigned gre_mtu(const struct peer *p, bool udp_encap)
{
    if (p->cfg.tunnel.mtu)
        return p->cfg.tunnel.mtu;
    unsigned best = 0;
    for (unsigned i = 0; i < p->cfg.n_esp; i++) {
        unsigned m = tunnel_mtu(p->d->wan.mtu, &p->cfg.esp[i], udp_encap);
        if (m && (!best || m < best))
            best = m;
    }
    return best;
}

static void fill_gre(struct peer *p)
{
    const struct cfg_tunnel *t = &p->cfg.tunnel;
    struct gre_link *g = &p->gre;
    memset(g, 0, sizeof(*g));
    snprintf(g->ifname, sizeof(g->ifname), "%s", t->ifname);
    memcpy(&g->local, p->d->wan.addr.bytes, 4);
    memcpy(&g->remote, p->cfg.address.bytes, 4);
    g->key = t->key;
    memcpy(&g->inner, t->inner_local.bytes, 4);
    g->inner_plen = 31;
    g->mtu = gre_mtu(p, false);
    struct ip_addr net;
    char s[IP_ADDR_STRLEN];
    ip_addr_set_v4(&net, t->inner_net);
    ip_addr_str(&net, s, sizeof(s));
    snprintf(p->inner_prefix, sizeof(p->inner_prefix), "%s/31", s);
}

struct peer *peer_new(struct daemon *d, const struct cfg_peer *cfg)
{
    struct peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->d = d;
    p->reqid = REQID_BASE | (d->next_reqid++ & 0xffffff);
    to_sockaddr(&d->wan.addr, PORT_IKE, &p->local);
    to_sockaddr(&cfg->address, PORT_IKE, &p->remote);
    p->pol = (struct xfrm_gre_policy){.local = p->local, .remote = p->remote, .reqid = p->reqid};
    fill_gre(p);
    struct in_addr area = {.s_addr = htonl(d->cfg->site.ospf_area)};
    inet_ntop(AF_INET, &area, p->area, sizeof(p->area));
    return p;
}

void peer_free(struct peer *p)
{
    if (!p)
        return;
    loop_timer_set(p->d->loop, &p->retire_timer, 0);
    loop_timer_set(p->d->loop, &p->retry_timer, 0);
    loop_timer_set(p->d->loop, &p->out_timer, 0);
    loop_timer_set(p->d->loop, &p->restart_timer, 0);
    OPENSSL_cleanse(&p->out_pending, sizeof(p->out_pending));
    OPENSSL_cleanse(p->cfg.psk, sizeof(p->cfg.psk));
    free(p);
}

struct peer *peer_by_ike_id(struct daemon *d, uint32_t ike_id)
{
    for (unsigned i = 0; ike_id && i < d->n_peers; i++)
        if (d->peers[i]->ike_id == ike_id)
            return d->peers[i];
    return NULL;
}

static void ike_config(const struct peer *p, struct ike_peer_config *pc)
{
    const struct cfg_peer *c = &p->cfg;
    memset(pc, 0, sizeof(*pc));
    pc->name = c->name;
    pc->version = c->ike_version;
    pc->ikev1_aggressive = c->aggressive;
    pc->local = p->local;
    pc->remote = p->remote;
    pc->local_id = c->local_id;
    pc->remote_id = c->remote_id;
    pc->psk = c->psk;
    pc->psk_len = c->psk_len;
    memcpy(pc->ike, c->ike, sizeof(pc->ike));
    pc->n_ike = c->n_ike;
    memcpy(pc->esp, c->esp, sizeof(pc->esp));
    pc->n_esp = c->n_esp;
    pc->ike_lifetime_s = c->ike_lifetime_s;
    pc->child_lifetime_s = c->esp_lifetime_s;
    pc->child_lifetime_kb = c->esp_lifetime_kb;
    pc->dpd_interval_s = c->dpd_s;
    pc->nat_keepalive_s = c->nat_keepalive_s;
    pc->reqid = p->reqid;
}

int peer_frr_add(struct peer *p)
{
    const struct cfg_peer *c = &p->cfg;
    struct frr_ospf_link l = {.ifname = p->gre.ifname, .prefix = p->inner_prefix, .area = p->area,
                              .hello = c->ospf_hello, .dead = c->ospf_dead};
    struct errmsg e = {{0}};
    if (frr_ospf_link_add(&p->d->frr, &l, &e) < 0) {
        /* Said once; the retries every few seconds go to debug. */
        log_msg(&p->d->log, p->frr_warned ? LOG_L_DEBUG : LOG_L_WARNING, c->name,
                "FRR: %s (retrying)", e.text);
        p->frr_warned = true;
        return -1;
    }
    if (p->frr_warned)
        log_msg(&p->d->log, LOG_L_NOTICE, c->name, "FRR: OSPF on %s configured", p->gre.ifname);
    p->frr_up = true;
    return 0;
}

static void frr_remove(struct peer *p)
{
    struct frr_ospf_link l = {.ifname = p->gre.ifname, .prefix = p->inner_prefix, .area = p->area};
    struct errmsg e = {{0}};
    if (p->frr_up && frr_ospf_link_remove(&p->d->frr, &l, &e) < 0)
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "FRR: %s", e.text);
    p->frr_up = false;
}

/*
 * Both ends learn of a NAT in the same exchange (IKE_SA_INIT, Main Mode 3/4)
 * and lower their MTU before the first CHILD SA lets GRE (and OSPF's
 * Database Description, which carries it) through, so they stay equal.
 */
void peer_nat_mtu(struct peer *p, bool nat)
{
    unsigned mtu = gre_mtu(p, nat);
    struct errmsg e = {{0}};
    if (!p->gre_up || !mtu || mtu == p->gre.mtu)
        return;
    if (gre_set_mtu(p->d->nl.route, p->gre.ifname, mtu, &e) < 0) {
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
        return;
    }
    log_msg(&p->d->log, LOG_L_NOTICE, p->cfg.name, "%s: mtu %u (was %u): %s", p->gre.ifname, mtu,
            p->gre.mtu, nat ? "NAT detected, ESP in UDP" : "no NAT any more");
    p->gre.mtu = mtu;
    if (mss_clamp_set(p->gre.ifname, tunnel_mss(mtu), &e) < 0)
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
}

static void restart_fire(struct loop *l, void *arg)
{
    struct peer *p = arg;
    struct daemon *d = p->d;
    for (unsigned i = 0; i < d->n_peers; i++) {
        if (d->peers[i] != p)
            continue;
        struct cfg_peer c = p->cfg; /* p goes with the drop */
        daemon_peer_drop(d, i);
        if (daemon_peer_add(d, &c) < 0)
            log_msg(&d->log, LOG_L_ERR, c.name, "out of memory");
        OPENSSL_cleanse(&c, sizeof(c));
        return;
    }
}

void peer_restart_soon(struct peer *p)
{
    p->restart_timer = (struct loop_timer){.fn = restart_fire, .arg = p};
    loop_timer_set(p->d->loop, &p->restart_timer, loop_now_ms());
}

static int kernel_up(struct peer *p, struct errmsg *e)
{
    struct nl_handles *nl = &p->d->nl;
    /* A link of this name from a run killed with -9 would make gre_create fail. */
    if (gre_destroy(nl->route, p->gre.ifname, e) < 0 ||
        xfrm_policy_install(nl->xfrm, &p->pol, e) < 0)
        return -1;
    p->policy_up = true;
    if (gre_create(nl->route, &p->gre, e) < 0)
        return -1;
    p->gre_up = true;
    if (sysctl_tunnel(p->gre.ifname, e) < 0)
        return -1;
    /* Without a clamp TCP still works, fragmented: worth a warning, not a dead tunnel. */
    struct errmsg me = {{0}};
    if (mss_clamp_set(p->gre.ifname, tunnel_mss(p->gre.mtu), &me) < 0)
        log_msg(&p->d->log, LOG_L_WARNING, p->cfg.name, "%s", me.text);
    return 0;
}

static void retry_fire(struct loop *l, void *arg)
{
    struct peer *p = arg;
    struct ike_sa_info info;
    /* Up already (the peer initiated meanwhile) or on its way: nothing to do. */
    if (p->n_sa || !p->ike_id || ike_peer_sas(p->d->ike, p->ike_id, &info, 1))
        return;
    int rc = ike_initiate(p->d->ike, loop_now_ms(), p->ike_id);
    if (rc != IKE_OK && rc != IKE_ERR_STATE)
        log_msg(&p->d->log, LOG_L_ERR, p->cfg.name, "cannot initiate (ikecore error %d)", rc);
    daemon_ike_drain(p->d);
}

void peer_schedule_retry(struct peer *p)
{
    if (p->d->opt.passive || !p->ike_id || p->retry_timer.deadline_ms)
        return;
    p->retry_s = p->retry_s ? (p->retry_s * 2 > 60 ? 60 : p->retry_s * 2) : 5;
    log_msg(&p->d->log, LOG_L_INFO, p->cfg.name, "retrying in %u s", p->retry_s);
    loop_timer_set(p->d->loop, &p->retry_timer, loop_now_ms() + p->retry_s * 1000ull);
}

void peer_reconnect_soon(struct peer *p)
{
    p->reconnect = !p->d->opt.passive && p->ike_id;
}

void peer_ike_down(struct peer *p, enum ike_reason why)
{
    if (p->reconnect) {
        /* Once the deleted SA is gone, at once: the operator asked for a new one. */
        p->reconnect = false;
        p->retry_s = 0;
        loop_timer_set(p->d->loop, &p->retry_timer, loop_now_ms() + 200);
    } else if (why != IKE_R_REPLACED && why != IKE_R_DELETED_LOCALLY) {
        peer_schedule_retry(p);
    }
}

int peer_start(struct peer *p)
{
    struct daemon *d = p->d;
    struct errmsg e = {{0}};
    p->retry_timer = (struct loop_timer){.fn = retry_fire, .arg = p};
    if (kernel_up(p, &e) < 0) {
        log_msg(&d->log, LOG_L_ERR, p->cfg.name, "%s", e.text);
        return -1;
    }
    if (peer_frr_add(p) < 0)
        daemon_frr_retry_arm(d);
    struct ike_peer_config pc;
    ike_config(p, &pc);
    int rc = ike_peer_add(d->ike, &pc, &p->ike_id);
    OPENSSL_cleanse(&pc, sizeof(pc));
    if (rc != IKE_OK) {
        log_msg(&d->log, LOG_L_ERR, p->cfg.name, "IKE peer refused by ikecore (IKEv%u, error %d)",
                p->cfg.ike_version, rc);
        p->ike_id = 0;
        return -1;
    }
    log_msg(&d->log, LOG_L_INFO, p->cfg.name, "tunnel %s, GRE key %u, %s, mtu %u; IKEv%u%s",
            p->gre.ifname, p->gre.key, p->inner_prefix, p->gre.mtu, p->cfg.ike_version,
            d->opt.passive ? ", responding only" : "");
    if (d->opt.passive)
        return 0;
    /*
     * IKEv1 cannot reconcile two Main Modes crossing (IKEv2 can, RFC 7296
     * 2.8.1): of two boxes started together, the higher WAN address waits a
     * few seconds and initiates only if the lower one has not.
     */
    if (p->cfg.ike_version == 1 && ip_addr_cmp(&d->wan.addr, &p->cfg.address) > 0) {
        loop_timer_set(d->loop, &p->retry_timer, loop_now_ms() + 3000);
        return 0;
    }
    if ((rc = ike_initiate(d->ike, loop_now_ms(), p->ike_id)) != IKE_OK)
        log_msg(&d->log, LOG_L_ERR, p->cfg.name, "cannot initiate (ikecore error %d)", rc);
    daemon_ike_drain(d);
    return 0;
}

void peer_stop(struct peer *p)
{
    struct daemon *d = p->d;
    struct errmsg e = {{0}};
    loop_timer_set(d->loop, &p->retry_timer, 0);
    if (p->ike_id) {
        /* Tells the peer (DELETE); the CHILD_DOWN events remove the states. */
        ike_peer_remove(d->ike, loop_now_ms(), p->ike_id);
        daemon_ike_drain(d);
        p->ike_id = 0;
    }
    peer_sa_remove_all(p);
    frr_remove(p);
    if (p->gre_up && mss_clamp_clear(p->gre.ifname, &e) < 0)
        log_msg(&d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    if (p->gre_up && gre_destroy(d->nl.route, p->gre.ifname, &e) < 0)
        log_msg(&d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    p->gre_up = false;
    /* Last: until the link is gone, the policies keep GRE from leaving in the clear. */
    if (p->policy_up && xfrm_policy_remove(d->nl.xfrm, &p->pol, &e) < 0)
        log_msg(&d->log, LOG_L_WARNING, p->cfg.name, "%s", e.text);
    p->policy_up = false;
}
