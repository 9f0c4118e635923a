/*
 * Two ikecore contexts in one process (not a test suite itself: included by
 * the test_ikev2_*.c suites). Deterministic randomness (SHA-256 over a seed
 * and a counter), a fake clock, packets shuttled between the two with a hook
 * to drop, duplicate or hold them back, another to rewrite their addresses
 * (a NAT), and every event recorded.
 */
#ifndef TESTS_IKE_HARNESS_H
#define TESTS_IKE_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ikecore.h"

struct h_rng {
    uint8_t seed[32];
    uint64_t ctr;
    /*
     * SHA-256 fetched once and a digest context kept (h_start, h_rng_fetch):
     * EVP_Digest with EVP_sha256() fetches the digest and allocates a context
     * on every call, which costs more than the hash. NULL: that way.
     */
    EVP_MD *md;
    EVP_MD_CTX *mdctx;
};

static inline void h_rng_fetch(struct h_rng *r)
{
    if (!r->md)
        r->md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (!r->mdctx)
        r->mdctx = EVP_MD_CTX_new();
}

static inline void h_rng_free(struct h_rng *r)
{
    EVP_MD_CTX_free(r->mdctx);
    EVP_MD_free(r->md);
    r->mdctx = NULL;
    r->md = NULL;
}

static inline int h_sha256(struct h_rng *r, const uint8_t *in, size_t n, uint8_t *out)
{
    unsigned int olen;
    if (!r->md || !r->mdctx)
        return EVP_Digest(in, n, out, &olen, EVP_sha256(), NULL) ? 0 : -1;
    return EVP_DigestInit_ex2(r->mdctx, r->md, NULL) && EVP_DigestUpdate(r->mdctx, in, n) &&
                   EVP_DigestFinal_ex(r->mdctx, out, &olen)
               ? 0 : -1;
}

static inline int h_random(void *arg, uint8_t *buf, size_t len)
{
    struct h_rng *r = arg;
    while (len) {
        uint8_t in[40], out[32];
        memcpy(in, r->seed, 32);
        memcpy(in + 32, &r->ctr, 8);
        r->ctr++;
        if (h_sha256(r, in, sizeof(in), out) != 0)
            return -1;
        size_t n = len < 32 ? len : 32;
        memcpy(buf, out, n);
        buf += n;
        len -= n;
    }
    return 0;
}

#define H_MAX_EV 256
struct h_side {
    struct ike_ctx *ctx;
    struct h_rng rng;
    uint32_t peer;
    struct sockaddr_storage addr;
    struct ike_peer_config pc;
    struct ike_event ev[H_MAX_EV];
    unsigned n_ev;
};

struct h_pkt {
    int to;             /* 0: a, 1: b */
    uint8_t *data;
    size_t len;
    struct sockaddr_storage src, dst;
};

#define H_MAX_PKT 64
struct h_pair;
/* Returns how many copies to deliver now (0 drops); may set *hold to delay it to the next pump. */
typedef int (*h_filter)(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg);
/*
 * Rewrites the addresses of a datagram on its way to side `to`, given those
 * of its SEND event (a NAT); false drops it (no mapping). Without one every
 * packet to side i comes from the other side's addr to s[i].addr, whatever
 * the SEND event said.
 */
typedef bool (*h_route)(struct h_pair *p, int to, struct sockaddr_storage *src,
                        struct sockaddr_storage *dst, void *arg);

struct h_pair {
    struct h_side s[2];
    ike_time_t now;
    h_filter filter;
    void *filter_arg;
    h_route route;
    void *route_arg;
    unsigned delivered[2];
    struct h_pkt held[H_MAX_PKT];   /* for reordering tests */
    unsigned n_held;
    uint8_t *last_pkt[2];           /* last packet delivered to each side */
    size_t last_len[2];
    size_t last_cap[2];             /* allocated for last_pkt: grown, not reallocated per packet */
};

static inline void h_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, ip, &a->sin6_addr);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, ip, &a->sin_addr);
    }
}

static const struct ike_suite h_ike_default = {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256,
                                               .prf = IKE_PRF_HMAC_SHA2_384, .dh = IKE_DH_ECP_384};
static const struct ike_suite h_esp_default = {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256};

/* Both peer configs, the mirror of each other; tests adjust s[i].pc before h_start. */
static inline void h_init(struct h_pair *p, const char *ip_a, const char *ip_b)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < 2; i++) {
        struct h_side *s = &p->s[i];
        memset(s->rng.seed, 'A' + i, sizeof(s->rng.seed));
        h_addr(&s->addr, i ? ip_b : ip_a, 500);
    }
    for (int i = 0; i < 2; i++) {
        struct ike_peer_config *pc = &p->s[i].pc;
        pc->name = i ? "site-a" : "site-b";
        pc->version = 2;
        pc->local = p->s[i].addr;
        pc->remote = p->s[!i].addr;
        pc->psk = (const uint8_t *)"correct horse battery staple";
        pc->psk_len = strlen((const char *)pc->psk);
        pc->ike[0] = h_ike_default;
        pc->n_ike = 1;
        pc->esp[0] = h_esp_default;
        pc->n_esp = 1;
        pc->child_lifetime_s = 3600;
        pc->child_lifetime_kb = 1000000;
        pc->reqid = 42 + (uint32_t)i;
    }
}

/* Contexts and peers from the configs; 0 on success. */
static inline int h_start(struct h_pair *p, const struct ike_ctx_config *base)
{
    for (int i = 0; i < 2; i++) {
        struct ike_ctx_config cfg = {0};
        if (base)
            cfg = *base;
        cfg.random = h_random;
        cfg.random_arg = &p->s[i].rng;
        h_rng_fetch(&p->s[i].rng);
        p->s[i].ctx = ike_ctx_new(&cfg);
        if (!p->s[i].ctx || ike_peer_add(p->s[i].ctx, &p->s[i].pc, &p->s[i].peer) != IKE_OK)
            return -1;
    }
    return 0;
}

/* Side i restarts: a fresh context with the same config and another random stream, no events. */
static inline int h_restart(struct h_pair *p, int i)
{
    struct ike_ctx_config cfg = {.random = h_random, .random_arg = &p->s[i].rng};
    ike_ctx_free(p->s[i].ctx);
    p->s[i].rng.seed[0]++;
    p->s[i].rng.ctr = 0;
    p->s[i].n_ev = 0;
    p->s[i].ctx = ike_ctx_new(&cfg);
    if (!p->s[i].ctx || ike_peer_add(p->s[i].ctx, &p->s[i].pc, &p->s[i].peer) != IKE_OK)
        return -1;
    return 0;
}

/* Hold back every packet until h_release (requests sent at once then cross). */
static inline int h_hold_all(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return -1;
}

/* The exchange type and the Response flag of a datagram (RFC 7296 §3.1). */
static inline int h_exchange(const uint8_t *d, size_t n)
{
    return n >= 28 ? d[18] : -1;
}

static inline bool h_is_response(const uint8_t *d, size_t n)
{
    return n >= 28 && (d[19] & 0x20);
}

static inline void h_free(struct h_pair *p)
{
    for (int i = 0; i < 2; i++) {
        ike_ctx_free(p->s[i].ctx);
        free(p->last_pkt[i]);
        p->last_pkt[i] = NULL;
        p->last_len[i] = p->last_cap[i] = 0;
        h_rng_free(&p->s[i].rng);
    }
    for (unsigned k = 0; k < p->n_held; k++)
        free(p->held[k].data);
}

static inline void h_deliver_at(struct h_pair *p, int to, const uint8_t *d, size_t n,
                                const struct sockaddr_storage *src,
                                const struct sockaddr_storage *dst)
{
    p->delivered[to]++;
    if (n > p->last_cap[to]) {
        uint8_t *b = realloc(p->last_pkt[to], n);
        if (!b)
            abort();
        p->last_pkt[to] = b;
        p->last_cap[to] = n;
    }
    memcpy(p->last_pkt[to], d, n);
    p->last_len[to] = n;
    ike_input(p->s[to].ctx, p->now, d, n, (const struct sockaddr *)src,
              (const struct sockaddr *)dst);
}

static inline void h_deliver(struct h_pair *p, int to, const uint8_t *d, size_t n)
{
    h_deliver_at(p, to, d, n, &p->s[!to].addr, &p->s[to].addr);
}

/* Where a SEND event's datagram arrives (through p->route, or between the sides' addrs). */
static inline bool h_addrs_of(struct h_pair *p, int to, const struct ike_event *ev,
                              struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
    *src = p->route ? ev->u.send.src : p->s[!to].addr;
    *dst = p->route ? ev->u.send.dst : p->s[to].addr;
    return !p->route || p->route(p, to, src, dst, p->route_arg);
}

/* Drain both queues, delivering packets, until nothing moves. */
static inline void h_pump(struct h_pair *p)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (int i = 0; i < 2; i++) {
            struct ike_event ev;
            while (ike_next_event(p->s[i].ctx, &ev) == 1) {
                moved = true;
                struct sockaddr_storage src, dst;
                if (ev.type == IKE_EV_SEND && !ev.u.send.keepalive &&  /* the caller drops those */
                    h_addrs_of(p, !i, &ev, &src, &dst)) {
                    int copies = p->filter ? p->filter(p, !i, ev.u.send.data, ev.u.send.len,
                                                       p->filter_arg) : 1;
                    if (copies < 0 && p->n_held < H_MAX_PKT) {   /* hold back */
                        struct h_pkt *h = &p->held[p->n_held++];
                        h->to = !i;
                        h->len = ev.u.send.len;
                        h->data = malloc(h->len);
                        memcpy(h->data, ev.u.send.data, h->len);
                        h->src = src;
                        h->dst = dst;
                    }
                    for (int c = 0; c < copies; c++)
                        h_deliver_at(p, !i, ev.u.send.data, ev.u.send.len, &src, &dst);
                }
                if (ev.type == IKE_EV_SEND)
                    ev.u.send.data = NULL;
                if (p->s[i].n_ev < H_MAX_EV)
                    p->s[i].ev[p->s[i].n_ev++] = ev;
            }
        }
    }
}

/* Deliver the held-back packets now (late / reordered). */
static inline void h_release(struct h_pair *p)
{
    unsigned n = p->n_held;
    p->n_held = 0;
    for (unsigned k = 0; k < n; k++) {
        h_deliver_at(p, p->held[k].to, p->held[k].data, p->held[k].len, &p->held[k].src,
                     &p->held[k].dst);
        free(p->held[k].data);
    }
    h_pump(p);
}

/* Run timers and traffic until nothing is scheduled before `until`. */
static inline void h_run(struct h_pair *p, ike_time_t until)
{
    h_pump(p);
    for (;;) {
        ike_time_t d0 = ike_next_deadline(p->s[0].ctx), d1 = ike_next_deadline(p->s[1].ctx);
        ike_time_t d = d0 < d1 ? d0 : d1;
        if (d == IKE_TIME_NEVER || d > until)
            break;
        if (d > p->now)
            p->now = d;
        ike_tick(p->s[0].ctx, p->now);
        ike_tick(p->s[1].ctx, p->now);
        h_pump(p);
    }
    if (until != IKE_TIME_NEVER && until > p->now)
        p->now = until;
}

static inline const struct ike_event *h_find(const struct h_side *s, enum ike_event_type t,
                                             unsigned nth)
{
    for (unsigned i = 0; i < s->n_ev; i++)
        if (s->ev[i].type == t && nth-- == 0)
            return &s->ev[i];
    return NULL;
}

static inline unsigned h_count(const struct h_side *s, enum ike_event_type t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->n_ev; i++)
        n += s->ev[i].type == t;
    return n;
}

/* Initiate from side 0 and run for up to a minute of fake time. */
/*
 * The CHILD SAs a side's kernel would hold, as tunneld keeps it: CHILD_UP
 * adds, CHILD_REKEYED adds the new one and (after its grace period) removes
 * the old SPIs it names, CHILD_DOWN removes. Returns how many; *one: the last.
 */
static inline unsigned h_live_children(const struct h_side *s, const struct ike_child_sa **one)
{
    const struct ike_child_sa *set[H_MAX_EV];
    unsigned n = 0;
    for (unsigned i = 0; i < s->n_ev; i++) {
        const struct ike_event *e = &s->ev[i];
        uint32_t gone = e->type == IKE_EV_CHILD_DOWN      ? e->u.child.sa.spi_in
                        : e->type == IKE_EV_CHILD_REKEYED ? e->u.child.old_spi_in : 0;
        for (unsigned k = 0; gone && k < n; k++)
            if (set[k]->spi_in == gone)
                set[k--] = set[--n];
        if (e->type == IKE_EV_CHILD_UP || e->type == IKE_EV_CHILD_REKEYED)
            set[n++] = &e->u.child.sa;
    }
    *one = n ? set[n - 1] : NULL;
    return n;
}

static inline void h_handshake(struct h_pair *p)
{
    ike_initiate(p->s[0].ctx, p->now, p->s[0].peer);
    h_run(p, p->now + 60000);
}

#endif
