/*
 * The show commands of the control socket (docs/cli.md has the schema):
 * facts from the peers, ikecore, the kernel's XFRM statistics and FRR.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ipaddr.h"
#include "control_json.h"
#include "control_show.h"
#include "daemon.h"
#include "mtu.h"
#include "proposal.h"

#define MAX_IKE_SAS 4

static const char *const level_names[] = {"err", "warning", "notice", "info", "debug"};

struct json_object *show_status(struct daemon *d)
{
    struct json_object *r = json_object_new_object(), *o = json_object_new_object();
    j_int(o, "pid", getpid());
    j_int(o, "uptime_s", (int64_t)((loop_now_ms() - d->started_ms) / 1000));
    j_str(o, "log_level", level_names[d->log.level]);
    json_object_object_add(r, "daemon", o);
    o = json_object_new_object();
    char when[32];
    time_t t = (time_t)d->loaded_unix;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    j_str(o, "file", d->opt.config_file);
    j_int(o, "loaded_unix", d->loaded_unix);
    j_str(o, "loaded_at", when);
    json_object_object_add(r, "config", o);
    o = json_object_new_object();
    struct json_object *wan = json_object_new_object();
    j_str(o, "name", d->cfg->site.name);
    j_str(wan, "interface", d->wan.ifname);
    j_addr(wan, "address", &d->wan.addr);
    j_int(wan, "mtu", d->wan.mtu);
    json_object_object_add(o, "wan", wan);
    json_object_object_add(r, "site", o);
    unsigned up = 0;
    for (unsigned i = 0; i < d->n_peers; i++)
        up += peer_esp_up(d->peers[i]);
    o = json_object_new_object();
    j_int(o, "total", d->n_peers);
    j_int(o, "up", up);
    j_int(o, "down", d->n_peers - up);
    json_object_object_add(r, "peers", o);
    return r;
}

bool peer_esp_up(const struct peer *p)
{
    for (unsigned i = 0; i < p->n_sa; i++)
        if (!p->sa[i].retire_at)
            return true;
    return false;
}

static struct json_object *ike_sa_json(const struct peer *p, const struct ike_sa_info *s)
{
    struct json_object *o = json_object_new_object();
    char spi[24], suite[PROPOSAL_MAX_LEN];
    ike_time_t now = loop_now_ms();
    j_str(o, "peer", p->cfg.name);
    j_sockaddr(o, "local", &s->local);
    j_sockaddr(o, "remote", &s->remote);
    j_str(o, "state", ike_phase_str(s->phase));
    j_int(o, "version", s->version);
    /* Stable for the SA's life, small enough to type (IOS: conn-id). */
    j_int(o, "conn_id", (int64_t)(s->spi_i & 0x7fff) + 1000);
    j_str(o, "status", s->phase == IKE_PHASE_CONNECTING ? "NEGOTIATING" : "ACTIVE");
    j_str(o, "role", s->initiator ? "initiator" : "responder");
    snprintf(spi, sizeof(spi), "%016llx", (unsigned long long)s->spi_i);
    j_str(o, "spi_i", spi);
    snprintf(spi, sizeof(spi), "%016llx", (unsigned long long)s->spi_r);
    j_str(o, "spi_r", spi);
    if (s->suite.encr) {
        proposal_format(&s->suite, PROPOSAL_IKE, suite, sizeof(suite));
        j_str(o, "suite", suite);
    } else {
        j_null(o, "suite");
    }
    j_bool(o, "nat", s->nat_local || s->nat_remote);
    j_bool(o, "nat_local", s->nat_local);
    j_bool(o, "nat_remote", s->nat_remote);
    j_int(o, "local_port", ip_sockaddr_port(&s->local));
    j_int(o, "remote_port", ip_sockaddr_port(&s->remote));
    if (s->established)
        j_int(o, "established_s", (int64_t)(now - s->established) / 1000);
    else
        j_null(o, "established_s");
    if (s->hard_expiry)
        j_int(o, "lifetime_remaining_s",
              s->hard_expiry > now ? (int64_t)(s->hard_expiry - now) / 1000 : 0);
    else
        j_null(o, "lifetime_remaining_s");
    return o;
}

struct json_object *show_isakmp(struct daemon *d)
{
    struct json_object *r = json_object_new_object(), *a = json_object_new_array();
    for (unsigned i = 0; i < d->n_peers; i++) {
        const struct peer *p = d->peers[i];
        struct ike_sa_info s[MAX_IKE_SAS];
        unsigned n = p->ike_id ? ike_peer_sas(d->ike, p->ike_id, s, MAX_IKE_SAS) : 0;
        for (unsigned k = 0; k < n && k < MAX_IKE_SAS; k++)
            json_object_array_add(a, ike_sa_json(p, &s[k]));
    }
    json_object_object_add(r, "sas", a);
    return r;
}

static struct json_object *map_json(const struct peer *p)
{
    const struct cfg_peer *c = &p->cfg;
    struct json_object *o = json_object_new_object();
    struct json_object *ike = json_object_new_array(), *esp = json_object_new_array();
    char s[PROPOSAL_MAX_LEN];
    j_str(o, "peer", c->name);
    j_addr(o, "address", &c->address);
    j_str(o, "profile", c->profile);
    j_str(o, "interface", p->gre.ifname);
    j_int(o, "ike_version", c->ike_version);
    j_str(o, "ikev1_mode", c->ike_version == 1 ? (c->aggressive ? "aggressive" : "main") : NULL);
    for (unsigned i = 0; i < c->n_ike; i++) {
        proposal_format(&c->ike[i], PROPOSAL_IKE, s, sizeof(s));
        json_object_array_add(ike, json_object_new_string(s));
    }
    for (unsigned i = 0; i < c->n_esp; i++) {
        proposal_format(&c->esp[i], PROPOSAL_ESP, s, sizeof(s));
        json_object_array_add(esp, json_object_new_string(s));
    }
    json_object_object_add(o, "ike_proposals", ike);
    json_object_object_add(o, "esp_proposals", esp);
    j_int(o, "ike_lifetime_s", c->ike_lifetime_s);
    j_int(o, "esp_lifetime_s", c->esp_lifetime_s);
    j_int(o, "esp_lifetime_kb", (int64_t)c->esp_lifetime_kb);
    j_bool(o, "pfs", c->pfs);
    j_int(o, "dpd_s", c->dpd_s);
    return o;
}

struct json_object *show_map(struct daemon *d)
{
    struct json_object *r = json_object_new_object(), *a = json_object_new_array();
    for (unsigned i = 0; i < d->n_peers; i++)
        json_object_array_add(a, map_json(d->peers[i]));
    json_object_object_add(r, "peers", a);
    return r;
}

static struct json_object *tunnel_json(struct daemon *d, const struct peer *p, const char *ospf)
{
    struct json_object *o = json_object_new_object();
    j_str(o, "interface", p->gre.ifname);
    j_str(o, "peer", p->cfg.name);
    j_addr(o, "local", &d->wan.addr);
    j_addr(o, "remote", &p->cfg.address);
    j_int(o, "gre_key", p->gre.key);
    j_addr(o, "inner_local", &p->cfg.tunnel.inner_local);
    j_addr(o, "inner_remote", &p->cfg.tunnel.inner_remote);
    j_int(o, "mtu", p->gre.mtu);
    j_int(o, "mss", tunnel_mss(p->gre.mtu));
    j_bool(o, "esp_up", peer_esp_up(p));
    j_str(o, "ospf_state", ospf && *ospf ? ospf : NULL);
    return o;
}

struct json_object *show_tunnels(struct daemon *d)
{
    struct json_object *r = json_object_new_object(), *a = json_object_new_array();
    const char **names = calloc(d->n_peers + 1, sizeof(*names));
    char(*states)[FRR_STATE_LEN] = calloc(d->n_peers + 1, sizeof(*states));
    struct errmsg e;
    bool asked = false;
    if (names && states) {
        for (unsigned i = 0; i < d->n_peers; i++)
            names[i] = d->peers[i]->gre.ifname;
        /* One vtysh for all tunnels, bounded: a show must not hold the loop for long. */
        struct frr_vtysh quick = d->frr;
        quick.timeout_ms = 4000;
        asked = frr_ospf_neighbor_states(&quick, names, d->n_peers, states, &e) == 0;
        if (!asked)
            log_msg(&d->log, LOG_L_DEBUG, NULL, "show tunnels: %s", e.text);
    }
    for (unsigned i = 0; i < d->n_peers; i++)
        json_object_array_add(a, tunnel_json(d, d->peers[i], asked ? states[i] : NULL));
    free(names);
    free(states);
    json_object_object_add(r, "tunnels", a);
    return r;
}
