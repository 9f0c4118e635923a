/*
 * show crypto ipsec sa: per peer, the identities (GRE between the WAN
 * addresses), the kernel's counters summed over the peer's ESP states, and
 * each state in and out with its remaining lifetime.
 */
#include <linux/xfrm.h>
#include <time.h>

#include "control_json.h"
#include "control_show.h"
#include "daemon.h"
#include "proposal.h"

struct totals {
    uint64_t pkts_out, pkts_in, bytes_out, bytes_in, replay, integrity;
};

static struct json_object *ident(const struct ip_addr *a)
{
    struct json_object *o = json_object_new_object();
    j_addr(o, "address", a);
    j_str(o, "mask", a->family == AF_INET ? "255.255.255.255" : "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    j_int(o, "protocol", 47);
    j_int(o, "port", 0);
    return o;
}

static struct json_object *sa_json(const struct peer *p, const struct peer_sa *sa, bool in,
                                   struct totals *t)
{
    struct json_object *o = json_object_new_object();
    struct xfrm_state_stats st;
    struct errmsg e;
    uint32_t spi = in ? sa->spi_in : sa->spi_out;
    char tf[PROPOSAL_MAX_LEN];
    struct ike_suite s = sa->suite;
    s.dh = 0; /* the transform; PFS is shown per peer */
    proposal_format(&s, PROPOSAL_ESP, tf, sizeof(tf));
    j_spi(o, "spi", spi);
    j_str(o, "transform", tf);
    j_str(o, "mode", "Transport");
    j_bool(o, "udp_encap", sa->udp_encap);
    /* ESP in UDP (RFC 3948): our NAT-T port and the peer's as its NAT presents it. */
    if (sa->udp_encap) {
        j_int(o, "encap_local_port", sa->encap_sport);
        j_int(o, "encap_remote_port", sa->encap_dport);
    } else {
        j_null(o, "encap_local_port");
        j_null(o, "encap_remote_port");
    }
    bool pending = !in && !sa->out_installed;
    if (pending || xfrm_state_stats(p->d->nl.xfrm, in ? &p->local : &p->remote, spi, &st, &e) < 0) {
        log_msg(&p->d->log, LOG_L_DEBUG, p->cfg.name, "%s", e.text);
        j_null(o, "remaining_kb");
        j_null(o, "remaining_s");
        j_bool(o, "replay_detection", true);
        j_null(o, "replay_window");
        j_str(o, "status", pending ? "PENDING" : "MISSING");
        j_null(o, "packets");
        j_null(o, "bytes");
        return o;
    }
    if (st.hard_bytes == XFRM_INF)
        j_null(o, "remaining_kb");
    else
        j_int(o, "remaining_kb",
              st.hard_bytes > st.bytes ? (int64_t)((st.hard_bytes - st.bytes) / 1024) : 0);
    int64_t left = (int64_t)(st.add_time + st.hard_add_s) - (int64_t)time(NULL);
    if (!st.hard_add_s || st.hard_add_s == XFRM_INF)
        j_null(o, "remaining_s");
    else
        j_int(o, "remaining_s", left > 0 ? left : 0);
    j_bool(o, "replay_detection", sa->suite.esn || st.replay_window > 0);
    j_int(o, "replay_window", st.replay_window);
    j_str(o, "status", sa->retire_at ? "RETIRING" : "ACTIVE");
    j_int(o, "packets", (int64_t)st.packets);
    j_int(o, "bytes", (int64_t)st.bytes);
    if (in) {
        t->pkts_in += st.packets, t->bytes_in += st.bytes;
        t->replay += st.replay, t->integrity += st.integrity_failed;
    } else {
        t->pkts_out += st.packets, t->bytes_out += st.bytes;
    }
    return o;
}

static void counters(struct json_object *o, const struct totals *t)
{
    j_int(o, "pkts_encaps", (int64_t)t->pkts_out);
    j_int(o, "pkts_encrypt", (int64_t)t->pkts_out);
    j_int(o, "pkts_digest", (int64_t)t->pkts_out);
    j_int(o, "pkts_decaps", (int64_t)t->pkts_in);
    j_int(o, "pkts_decrypt", (int64_t)t->pkts_in);
    j_int(o, "pkts_verify", (int64_t)t->pkts_in);
    j_int(o, "bytes_out", (int64_t)t->bytes_out);
    j_int(o, "bytes_in", (int64_t)t->bytes_in);
    j_int(o, "replay_errors", (int64_t)t->replay);
    j_int(o, "integrity_failures", (int64_t)t->integrity);
    j_null(o, "decrypt_errors"); /* the kernel counts AEAD failures as integrity failures */
}

static const struct peer_sa *current(const struct peer *p)
{
    for (unsigned i = p->n_sa; i-- > 0;)
        if (!p->sa[i].retire_at)
            return &p->sa[i];
    return NULL;
}

static struct json_object *peer_json(struct daemon *d, const struct peer *p)
{
    struct json_object *o = json_object_new_object();
    struct json_object *in = json_object_new_array(), *out = json_object_new_array();
    struct totals t = {0};
    for (unsigned i = 0; i < p->n_sa; i++) {
        json_object_array_add(in, sa_json(p, &p->sa[i], true, &t));
        json_object_array_add(out, sa_json(p, &p->sa[i], false, &t));
    }
    j_str(o, "peer", p->cfg.name);
    j_str(o, "interface", p->gre.ifname);
    json_object_object_add(o, "local_ident", ident(&d->wan.addr));
    json_object_object_add(o, "remote_ident", ident(&p->cfg.address));
    const struct peer_sa *cur = current(p);
    j_addr(o, "current_peer", &p->cfg.address);
    /* Where the peer's ESP goes: its NAT-T port as we see it, or IKE's with no NAT. */
    j_int(o, "port", cur && cur->udp_encap ? cur->encap_dport : 500);
    counters(o, &t);
    j_addr(o, "local_endpoint", &d->wan.addr);
    j_addr(o, "remote_endpoint", &p->cfg.address);
    j_int(o, "path_mtu", d->wan.mtu);
    j_int(o, "ip_mtu", p->gre.mtu);
    j_bool(o, "pfs", cur ? cur->suite.dh != 0 : p->cfg.pfs);
    uint16_t group = cur ? cur->suite.dh : 0;
    j_str(o, "dh_group", group ? proposal_dh_name(group) : NULL);
    if (cur)
        j_spi(o, "current_outbound_spi", cur->spi_out);
    else
        j_null(o, "current_outbound_spi");
    json_object_object_add(o, "inbound", in);
    json_object_object_add(o, "outbound", out);
    return o;
}

struct json_object *show_ipsec(struct daemon *d, const struct ip_addr *only)
{
    struct json_object *r = json_object_new_object(), *a = json_object_new_array();
    for (unsigned i = 0; i < d->n_peers; i++)
        if (!only || ip_addr_cmp(only, &d->peers[i]->cfg.address) == 0)
            json_object_array_add(a, peer_json(d, d->peers[i]));
    json_object_object_add(r, "peers", a);
    return r;
}
