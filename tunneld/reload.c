/*
 * SIGHUP: the new file is loaded and checked in full before anything
 * changes; a bad one is reported and the running config stays. Then peers
 * are compared by name: unchanged ones keep their SAs, removed and changed
 * ones are stopped, new and changed ones started. A new WAN restarts all.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

/* Every field but the file positions; configs are calloc'd, so padding is zero. */
static bool same_peer(const struct cfg_peer *a, const struct cfg_peer *b)
{
    return memcmp(a, b, offsetof(struct cfg_peer, at)) == 0;
}

static const struct cfg_peer *find(const struct tunneld_config *c, const char *name)
{
    for (unsigned i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i].name, name) == 0)
            return &c->peers[i];
    return NULL;
}

static bool same_lans(const struct cfg_site *a, const struct cfg_site *b)
{
    return a->n_lan == b->n_lan && a->ospf_area == b->ospf_area &&
           memcmp(a->lan, b->lan, a->n_lan * sizeof(a->lan[0])) == 0;
}

int daemon_reload(struct daemon *d, struct reload_result *r, struct diag *dg, struct errmsg *e)
{
    struct tunneld_config *nc = NULL;
    struct wan w;
    memset(r, 0, sizeof(*r));
    if (daemon_config_load(d, &nc, &w, dg, e) < 0) {
        log_msg(&d->log, LOG_L_ERR, NULL, "reload failed: %s is invalid; the running config stays",
                d->opt.config_file);
        return -1;
    }
    d->loaded_unix = time(NULL);
    /* The WAN and the area are in every tunnel's kernel objects and FRR lines. */
    bool new_wan = ip_addr_cmp(&w.addr, &d->wan.addr) != 0 || w.mtu != d->wan.mtu ||
                   nc->site.ospf_area != d->cfg->site.ospf_area;
    unsigned kept = 0, stopped = 0, started = 0;
    for (unsigned i = d->n_peers; i-- > 0;) {
        const struct cfg_peer *np = find(nc, d->peers[i]->cfg.name);
        if (!new_wan && np && same_peer(np, &d->peers[i]->cfg)) {
            kept++;
            continue;
        }
        daemon_peer_drop(d, i);
        stopped++;
    }
    if (new_wan || !same_lans(&d->cfg->site, &nc->site)) {
        if (d->lans_in_frr)
            daemon_lans(d, d->cfg, false);
        if (!(d->lans_in_frr = daemon_lans(d, nc, true) == 0))
            daemon_frr_retry_arm(d);
    }
    /* Peers copy their config; the old one can go before the new peers start. */
    struct tunneld_config *old = d->cfg;
    d->cfg = nc;
    d->wan = w;
    config_free(old);
    for (unsigned i = 0; i < nc->n_peers; i++) {
        bool running = false;
        for (unsigned j = 0; j < d->n_peers && !running; j++)
            running = strcmp(d->peers[j]->cfg.name, nc->peers[i].name) == 0;
        if (!running && daemon_peer_add(d, &nc->peers[i]) == 0)
            started++;
    }
    log_msg(&d->log, LOG_L_NOTICE, NULL, "reloaded: %u peer%s kept, %u stopped, %u started", kept,
            kept == 1 ? "" : "s", stopped, started);
    *r = (struct reload_result){.kept = kept, .stopped = stopped, .started = started};
    return 0;
}
