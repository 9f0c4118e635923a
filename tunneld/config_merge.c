/*
 * A peer's settings: its profile's, overridden key by key by its own, with
 * the built-in defaults under both. Proposal strings are parsed here, once
 * the rules they answer to (IKE version, legacy, PFS) are known. When a
 * profile's proposal only fails because the peer changed the version or PFS,
 * the error points at the peer's override, which is what the admin changed.
 */
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "proposal.h"

#define DEF_IKE_VERSION 2
#define DEF_IKE_LIFETIME 86400
#define DEF_ESP_LIFETIME 3600
#define DEF_DPD 30
#define DEF_NAT_KEEPALIVE 20 /* RFC 3948 §2.3 suggests 20 s */
#define DEF_OSPF_HELLO 10
#define DEF_OSPF_DEAD 40

/* The peer's value if it gave one, else the profile's, else the default. */
#define PICK(ov, pl, field, def)                                                                   \
    ((ov) && (ov)->field.set ? (ov)->field.v : (pl)->field.set ? (pl)->field.v : (def))

struct list_ctx {
    const struct proposal_rules *rules;
    const char *key;               /* "ike.proposals" or "esp.proposals" */
    const struct cfg_layer *owner; /* the layer the strings were written in */
    const char *profile;           /* set when they come from a profile under a peer's override */
    const char *blame_key;         /* the override: "ike.version" or "esp.pfs" */
    char blame_val[8];             /* its value, as written */
    const char *blame_file;
    const struct cfg_mark *blame; /* NULL when the peer overrode nothing relevant */
};

static bool same_suite(const struct ike_suite *a, const struct ike_suite *b)
{
    return a->encr == b->encr && a->key_bits == b->key_bits && a->prf == b->prf &&
           a->integ == b->integ && a->dh == b->dh && a->esn == b->esn;
}

/* Once per list when blaming an override: the admin needs the first reason, not every one. */
static void report(const struct list_ctx *lc, const struct prop_str *p,
                   const struct proposal_error *e, bool *blamed, struct diag *d)
{
    if (lc->profile && lc->blame) {
        if (!*blamed)
            diag_add(
                d, lc->blame_file, lc->blame->line, lc->blame->col,
                "%s: %s does not suit profile '%s' (give %s here too): its proposal '%s' fails: %s",
                lc->blame_key, lc->blame_val, lc->profile, lc->key, p->s, e->msg);
        *blamed = true;
        return;
    }
    unsigned col = p->at.col + (p->exact ? (unsigned)e->offset : 0);
    diag_add(d, lc->owner->file, p->at.line, col, "%s", e->msg);
}

static int parse_list(const struct list_ctx *lc, const struct opt_props *props,
                      struct ike_suite *out, unsigned *n, struct diag *d)
{
    int r = 0;
    bool blamed = false;
    *n = 0;
    for (unsigned i = 0; i < props->n; i++) {
        const struct prop_str *p = &props->v[i];
        struct proposal_error e;
        if (proposal_parse(p->s, lc->rules, &out[*n], &e) < 0) {
            report(lc, p, &e, &blamed, d);
            r = -1;
            continue;
        }
        for (unsigned j = 0; j < *n; j++) {
            if (same_suite(&out[j], &out[*n])) {
                snprintf(e.msg, sizeof(e.msg), "proposal '%s' repeats an earlier one", p->s);
                e.offset = 0;
                report(lc, p, &e, &blamed, d);
                r = -1;
                break;
            }
        }
        (*n)++;
    }
    return r;
}

static const struct opt_props *props_of(const struct cfg_layer *l, enum proposal_kind kind)
{
    return kind == PROPOSAL_IKE ? &l->ike_props : &l->esp_props;
}

/* An override that changes how the profile's proposals are judged: the IKE version, or PFS. */
static void blame_override(const struct cfg_layer *ov, enum proposal_kind kind, struct list_ctx *lc)
{
    if (kind == PROPOSAL_IKE && ov->ike_version.set) {
        lc->blame_key = "ike.version";
        lc->blame = &ov->ike_version.at;
        snprintf(lc->blame_val, sizeof(lc->blame_val), "%u", (unsigned)ov->ike_version.v);
    }
    if (kind == PROPOSAL_ESP && ov->pfs.set) {
        lc->blame_key = "esp.pfs";
        lc->blame = &ov->pfs.at;
        snprintf(lc->blame_val, sizeof(lc->blame_val), "%s", ov->pfs.v ? "true" : "false");
    }
}

/* The strings from the peer if it gave some, else the profile's, judged by the peer's rules. */
static int resolve_list(const struct profile *prof, const struct cfg_layer *ov,
                        const struct proposal_rules *rules, struct ike_suite *out, unsigned *n,
                        struct diag *d)
{
    const struct cfg_layer *pl = &prof->src.layer;
    struct list_ctx lc = {.rules = rules, .owner = pl};
    lc.key = rules->kind == PROPOSAL_IKE ? "ike.proposals" : "esp.proposals";
    if (ov && props_of(ov, rules->kind)->set) {
        lc.owner = ov;
        return parse_list(&lc, props_of(ov, rules->kind), out, n, d);
    }
    if (ov) {
        lc.profile = prof->name;
        lc.blame_file = ov->file;
        blame_override(ov, rules->kind, &lc);
    }
    return parse_list(&lc, props_of(pl, rules->kind), out, n, d);
}

/* Aggressive Mode sends a hash of the PSK that anyone can crack offline: only on request. */
static int check_mode(const struct cfg_layer *l, unsigned version, struct diag *d)
{
    if (!l->ike_mode.set)
        return 0;
    if (version == 2) {
        diag_add(d, l->file, l->ike_mode.at.line, l->ike_mode.at.col,
                 "ike.mode: applies to IKEv1 only (ike.version is 2)");
        return -1;
    }
    if (l->ike_mode.v == IKE_MODE_AGGRESSIVE &&
        !(l->allow_aggressive.set && l->allow_aggressive.v)) {
        diag_add(d, l->file, l->ike_mode.at.line, l->ike_mode.at.col,
                 "ike.mode: aggressive mode exposes a hash of the PSK to offline cracking; "
                 "to accept that, add 'allow-aggressive: true' next to it");
        return -1;
    }
    return 0;
}

/* OSPF drops a neighbour after 'dead' seconds of silence: less than a hello cannot work. */
static int check_ospf(const struct cfg_layer *pl, const struct cfg_layer *ov, unsigned hello,
                      unsigned dead, struct diag *d)
{
    if (dead > hello)
        return 0;
    const struct cfg_layer *l = ov && (ov->ospf_dead.set || ov->ospf_hello.set) ? ov : pl;
    const struct cfg_mark *at = l->ospf_dead.set ? &l->ospf_dead.at : &l->ospf_hello.at;
    diag_add(d, l->file, at->line, at->col, "ospf: dead (%u) must be longer than hello (%u)", dead,
             hello);
    return -1;
}

int resolve_peer(const struct profile *prof, const struct cfg_layer *ov, struct cfg_peer *out,
                 struct diag *d)
{
    const struct cfg_layer *pl = &prof->src.layer;
    bool legacy = pl->legacy.set && pl->legacy.v;
    unsigned mode = PICK(ov, pl, ike_mode, IKE_MODE_MAIN);
    int r = 0;
    out->ike_version = (uint8_t)PICK(ov, pl, ike_version, DEF_IKE_VERSION);
    out->aggressive = out->ike_version == 1 && mode == IKE_MODE_AGGRESSIVE;
    out->ike_lifetime_s = PICK(ov, pl, ike_lifetime, DEF_IKE_LIFETIME);
    out->pfs = PICK(ov, pl, pfs, true);
    out->esp_lifetime_s = PICK(ov, pl, esp_lifetime, DEF_ESP_LIFETIME);
    out->esp_lifetime_kb = PICK(ov, pl, esp_lifetime_kb, 0);
    out->dpd_s = PICK(ov, pl, dpd, DEF_DPD);
    out->nat_keepalive_s = PICK(ov, pl, nat_keepalive, DEF_NAT_KEEPALIVE);
    out->ospf_hello = PICK(ov, pl, ospf_hello, DEF_OSPF_HELLO);
    out->ospf_dead = PICK(ov, pl, ospf_dead, DEF_OSPF_DEAD);
    if (ov && ov->local_id.set)
        out->local_id = ov->local_id.v;
    if (ov && ov->remote_id.set)
        out->remote_id = ov->remote_id.v;
    snprintf(out->profile, sizeof(out->profile), "%s", prof->name);

    struct proposal_rules ike = {PROPOSAL_IKE, out->ike_version, legacy, false, false};
    struct proposal_rules esp = {PROPOSAL_ESP, out->ike_version, legacy, out->pfs,
                                 PICK(ov, pl, esn, false)};
    r |= check_mode(ov ? ov : pl, out->ike_version, d);
    r |= resolve_list(prof, ov, &ike, out->ike, &out->n_ike, d);
    r |= resolve_list(prof, ov, &esp, out->esp, &out->n_esp, d);
    r |= check_ospf(pl, ov, out->ospf_hello, out->ospf_dead, d);
    return r;
}
