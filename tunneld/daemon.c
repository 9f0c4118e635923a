/*
 * tunneld -c FILE: start-up, the event loop's callbacks, and shutdown.
 * Start-up order: config, netlink, leftovers of a crashed run, sockets,
 * ikecore, FRR's LAN lines, then every peer (peer.c).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/rand.h>

#include "control.h"
#include "daemon.h"
#include "mss.h"
#include "sysctl.h"

static int rand_bytes(void *arg, uint8_t *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void log_diag(struct daemon *d, struct diag *dg)
{
    diag_sort(dg);
    for (size_t i = 0; i < dg->n; i++)
        log_msg(&d->log, LOG_L_ERR, NULL, "%s:%u:%u: %s", diag_file(dg, &dg->v[i]), dg->v[i].line,
                dg->v[i].col, dg->v[i].msg);
    if (dg->oom)
        log_msg(&d->log, LOG_L_ERR, NULL, "out of memory while checking the config");
}

/* The WAN's address family when the file names an interface: the peers'. */
static uint8_t wan_family(const struct daemon *d, const struct tunneld_config *c)
{
    if (d->wan.addr.family)
        return d->wan.addr.family;
    return c->n_peers ? c->peers[0].address.family : AF_INET;
}

int daemon_config_load(struct daemon *d, struct tunneld_config **out, struct wan *w,
                       struct diag *dg, struct errmsg *e)
{
    int rc = config_load(d->opt.config_file, d->opt.profiles, out, dg);
    if (rc == 0) {
        struct tunneld_config *c = *out;
        struct ip_addr want = c->site.wan_addr;
        if (!c->site.wan_is_addr)
            want.family = wan_family(d, c);
        rc = wan_resolve(d->nl.route, c->site.wan_is_addr, c->site.wan_ifname, &want, w, e);
        if (rc < 0)
            log_msg(&d->log, LOG_L_ERR, NULL, "%s: %s", d->opt.config_file, e->text);
        else if (!c->site.wan_is_addr)
            rc = config_derive(c, &w->addr, dg);
    }
    log_diag(d, dg);
    if (rc < 0) {
        config_free(*out);
        *out = NULL;
    }
    return rc;
}

int daemon_lans(struct daemon *d, const struct tunneld_config *c, bool add)
{
    char area[INET_ADDRSTRLEN], pfx[IP_PREFIX_STRLEN];
    struct in_addr a = {.s_addr = htonl(c->site.ospf_area)};
    struct errmsg e = {{0}};
    inet_ntop(AF_INET, &a, area, sizeof(area));
    for (unsigned i = 0; i < c->site.n_lan; i++) {
        ip_prefix_str(&c->site.lan[i], pfx, sizeof(pfx));
        if (frr_ospf_lan(&d->frr, pfx, area, add, &e) < 0) {
            log_msg(&d->log, d->lans_warned ? LOG_L_DEBUG : LOG_L_WARNING, NULL,
                    "FRR: LAN %s: %s", pfx, e.text);
            d->lans_warned = add;
            return -1;
        }
    }
    if (add && d->lans_warned)
        log_msg(&d->log, LOG_L_NOTICE, NULL, "FRR: LANs configured");
    d->lans_warned = false;
    return 0;
}

static void frr_retry(struct loop *l, void *arg)
{
    struct daemon *d = arg;
    bool again = false;
    if (!d->lans_in_frr && !(d->lans_in_frr = daemon_lans(d, d->cfg, true) == 0))
        again = true;
    for (unsigned i = 0; i < d->n_peers; i++)
        if (!d->peers[i]->frr_up && d->peers[i]->gre_up && peer_frr_add(d->peers[i]) < 0)
            again = true;
    if (again)
        daemon_frr_retry_arm(d);
}

void daemon_frr_retry_arm(struct daemon *d)
{
    if (!d->frr_timer.deadline_ms)
        loop_timer_set(d->loop, &d->frr_timer, loop_now_ms() + 5000);
}

static void on_ike_timer(struct loop *l, void *arg)
{
    struct daemon *d = arg;
    ike_tick(d->ike, loop_now_ms());
    daemon_ike_drain(d);
}

static void on_packet(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct daemon *d = arg;
    struct sockaddr_storage src, dst;
    ssize_t n;
    /* Drain the socket: a burst of retransmissions must not wait one loop turn each. */
    while ((n = ike_socket_recv(&d->sock, fd, d->rxbuf, sizeof(d->rxbuf), &src, &dst)) >= 0) {
        if (n > 0)
            ike_input(d->ike, loop_now_ms(), d->rxbuf, (size_t)n, (struct sockaddr *)&src,
                      (struct sockaddr *)&dst);
    }
    daemon_ike_drain(d);
}

static void on_expire_msg(void *arg, uint32_t reqid, uint32_t spi, bool hard)
{
    struct daemon *d = arg;
    for (unsigned i = 0; i < d->n_peers; i++)
        if (d->peers[i]->reqid == reqid)
            peer_sa_expired(d->peers[i], spi, hard);
}

static void on_expire(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct daemon *d = arg;
    xfrm_expire_read(&d->expire);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
    struct daemon *d = arg;
    if (signo == SIGHUP) {
        struct reload_result r;
        struct diag dg;
        struct errmsg e = {{0}};
        diag_init(&dg);
        daemon_reload(d, &r, &dg, &e);
        diag_free(&dg);
        return;
    }
    log_msg(&d->log, LOG_L_NOTICE, NULL, "%s: stopping", strsignal(signo));
    loop_stop(l, 0);
}

int daemon_peer_add(struct daemon *d, const struct cfg_peer *cfg)
{
    struct peer **v = realloc(d->peers, (d->n_peers + 1) * sizeof(*v));
    if (!v)
        return -1;
    d->peers = v;
    struct peer *p = peer_new(d, cfg);
    if (!p)
        return -1;
    d->peers[d->n_peers++] = p;
    /* A peer that fails to start stays listed: stop removes what it did create. */
    peer_start(p);
    return 0;
}

int daemon_peers_start(struct daemon *d)
{
    for (unsigned i = 0; i < d->cfg->n_peers; i++)
        if (daemon_peer_add(d, &d->cfg->peers[i]) < 0) {
            log_msg(&d->log, LOG_L_ERR, d->cfg->peers[i].name, "out of memory");
            return -1;
        }
    return 0;
}

void daemon_peer_drop(struct daemon *d, unsigned i)
{
    peer_stop(d->peers[i]);
    peer_free(d->peers[i]);
    d->peers[i] = d->peers[--d->n_peers];
}

static void cleanup_leftovers(struct daemon *d)
{
    unsigned n = 0;
    struct errmsg e = {{0}};
    if (xfrm_flush_reqids(d->nl.xfrm, REQID_BASE, REQID_LAST, &n, &e) < 0)
        log_msg(&d->log, LOG_L_WARNING, NULL, "%s", e.text);
    if (n)
        log_msg(&d->log, LOG_L_NOTICE, NULL, "removed %u XFRM states/policies a previous run left",
                n);
    if (mss_clamp_flush(&e) < 0)
        log_msg(&d->log, LOG_L_WARNING, NULL, "%s", e.text);
}

static int open_io(struct daemon *d, struct errmsg *e)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    struct sockaddr_storage local;
    memset(&local, 0, sizeof(local));
    if (d->wan.addr.family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&local;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, d->wan.addr.bytes, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&local;
        s->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, d->wan.addr.bytes, 16);
    }
    if (ike_sockets_open(&d->sock, &local, 500, 4500, e) < 0)
        return -1;
    struct ike_ctx_config icfg = {.random = rand_bytes};
    if (!(d->ike = ike_ctx_new(&icfg)))
        return errmsg_set(e, "ikecore: cannot create a context (out of memory)");
    d->ike_timer = (struct loop_timer){.fn = on_ike_timer, .arg = d};
    d->frr_timer = (struct loop_timer){.fn = frr_retry, .arg = d};
    if (loop_add_fd(d->loop, d->sock.fd_ike, EPOLLIN, on_packet, d, e) < 0 ||
        loop_add_fd(d->loop, d->sock.fd_natt, EPOLLIN, on_packet, d, e) < 0 ||
        xfrm_expire_open(&d->expire, on_expire_msg, d, e) < 0 ||
        loop_add_fd(d->loop, xfrm_expire_fd(&d->expire), EPOLLIN, on_expire, d, e) < 0)
        return -1;
    return loop_signals(d->loop, sigs, 3, on_signal, d, e);
}

static int start(struct daemon *d)
{
    struct errmsg e = {{0}};
    if (loop_new(&d->loop, &e) < 0 || nlh_open(&d->nl, &e) < 0) {
        log_msg(&d->log, LOG_L_ERR, NULL, "%s", e.text);
        return -1;
    }
    struct diag dg;
    diag_init(&dg);
    int rc = daemon_config_load(d, &d->cfg, &d->wan, &dg, &e);
    diag_free(&dg);
    if (rc < 0)
        return -1;
    d->loaded_unix = time(NULL);
    cleanup_leftovers(d);
    const char *ctl = d->opt.control_path ? d->opt.control_path : CONTROL_DEFAULT_PATH;
    if (open_io(d, &e) < 0 || control_open(d, ctl, d->opt.control_group, &d->ctl, &e) < 0) {
        log_msg(&d->log, LOG_L_ERR, NULL, "%s", e.text);
        return -1;
    }
    if (!(d->lans_in_frr = daemon_lans(d, d->cfg, true) == 0))
        daemon_frr_retry_arm(d);
    if (daemon_peers_start(d) < 0)
        return -1;
    char a[IP_ADDR_STRLEN];
    ip_addr_str(&d->wan.addr, a, sizeof(a));
    log_msg(&d->log, LOG_L_NOTICE, NULL, "ready: site %s, WAN %s on %s (mtu %u), %u peer%s",
            d->cfg->site.name, a, d->wan.ifname, d->wan.mtu, d->n_peers,
            d->n_peers == 1 ? "" : "s");
    return 0;
}

static void stop(struct daemon *d)
{
    control_close(d->ctl);
    while (d->n_peers)
        daemon_peer_drop(d, d->n_peers - 1);
    if (d->cfg && d->lans_in_frr)
        daemon_lans(d, d->cfg, false);
    struct errmsg e = {{0}};
    if (d->cfg && mss_clamp_flush(&e) < 0)
        log_msg(&d->log, LOG_L_WARNING, NULL, "%s", e.text);
    if (d->loop) {
        loop_timer_set(d->loop, &d->ike_timer, 0);
        loop_timer_set(d->loop, &d->frr_timer, 0);
    }
    xfrm_expire_close(&d->expire);
    ike_ctx_free(d->ike);
    ike_sockets_close(&d->sock);
    nlh_close(&d->nl);
    loop_free(d->loop);
    config_free(d->cfg);
    free(d->peers);
}

/* PSKs and SA keys live in this process: no core file may carry them. */
static void no_core_dumps(struct daemon *d)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
        log_msg(&d->log, LOG_L_WARNING, NULL, "cannot disable core dumps: %s", strerror(errno));
}

int daemon_run(const struct daemon_options *opt)
{
    struct daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return 1;
    d->opt = *opt;
    log_init(&d->log, opt->level, opt->use_syslog);
    d->sock.fd_ike = d->sock.fd_natt = -1;
    d->frr.pathspace = opt->frr_pathspace;
    d->started_ms = loop_now_ms();
    no_core_dumps(d);
    int rc = start(d) == 0 ? loop_run(d->loop) : 1;
    stop(d);
    if (rc == 0)
        log_msg(&d->log, LOG_L_NOTICE, NULL, "stopped");
    free(d);
    return rc;
}
