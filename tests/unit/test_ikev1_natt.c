/*
 * IKEv1 NAT traversal (RFC 3947; keepalives of RFC 3948 §2.3) between two
 * in-process contexts with a NAT between them: the initiator I (10.0.0.2)
 * is behind 198.51.100.7, which gives I's ports 500 and 4500 its own ports
 * 40500 and 41500 and sends back only what matches a mapping; the
 * responder R is 192.0.2.1 and knows I as 198.51.100.7. Quick Mode
 * messages are decrypted with the receiver's keys to see what went on the
 * wire.
 */
#include "../fuzz/fuzz_ikev1_common.h"
#include "ikev1_harness.h"

#define I_IP "10.0.0.2"
#define R_IP "192.0.2.1"
#define NAT_IP "198.51.100.7"
enum { INIT = 0, RESP = 1 };

static struct {
    bool on;
    uint16_t map500, map4500;   /* the NAT's ports for I's 500 and 4500 */
    unsigned dropped;           /* no mapping, or not for the receiver */
    int spoil_vid;              /* the side whose NAT-T VID is spoiled on the way; -1: none */
} N;

/* Every datagram delivered: its addresses as sent and as received, its bytes as sent. */
struct rec {
    int to;
    struct sockaddr_storage src, dst, rsrc, rdst;
    uint8_t d[2048];
    size_t n;
};
#define MAX_REC 200
static struct rec L[MAX_REC];
static unsigned n_rec;
static struct rec cur;          /* the addresses of the datagram being routed */

static bool same_ip(const struct sockaddr_storage *a, const char *ip)
{
    struct sockaddr_storage b;
    h_addr(&b, ip, 0);
    return a->ss_family == AF_INET && ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
                                          ((const struct sockaddr_in *)&b)->sin_addr.s_addr;
}

static bool addr_is(const struct sockaddr_storage *a, const char *ip, uint16_t port)
{
    return same_ip(a, ip) && ike_addr_port(a) == port;
}

static const char *str_addr(const struct sockaddr_storage *a)
{
    static char buf[4][64];
    static unsigned k;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof(ip));
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s:%u", ip, ike_addr_port(a));
    return buf[k];
}

#define ck_addr(a, ip, port)                                                                 \
    ck_assert_msg(addr_is((a), (ip), (port)), "%s is %s, wanted %s:%u", #a, str_addr(a), (ip), \
                  (unsigned)(port))

static bool drop(void)
{
    N.dropped++;
    return false;
}

/* The NAT: I's source rewritten on the way out, R's destination back if it maps. */
static bool nat_route(struct h_pair *p, int to, struct sockaddr_storage *src,
                      struct sockaddr_storage *dst, void *arg)
{
    cur.src = *src;
    cur.dst = *dst;
    if (N.on && to == RESP) {
        uint16_t sp = ike_addr_port(src);
        uint16_t mp = sp == 500 ? N.map500 : sp == 4500 ? N.map4500 : 0;
        if (!mp || !same_ip(src, I_IP))
            return drop();
        h_addr(src, NAT_IP, mp);
    } else if (N.on) {
        uint16_t dp = ike_addr_port(dst);
        uint16_t ip = dp == N.map500 ? 500 : dp == N.map4500 ? 4500 : 0;
        if (!ip || !same_ip(dst, NAT_IP))
            return drop();
        h_addr(dst, I_IP, ip);
    }
    if (((struct sockaddr_in *)dst)->sin_addr.s_addr !=
        ((struct sockaddr_in *)&p->s[to].addr)->sin_addr.s_addr)
        return drop();              /* not for the receiver */
    cur.rsrc = *src;
    cur.rdst = *dst;
    return true;
}

/* Records what passes; spoils one side's NAT-T VID in phase 1 (a peer without NAT-T). */
static int tap(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    if (n_rec < MAX_REC && n <= sizeof(L[0].d)) {
        struct rec *r = &L[n_rec++];
        *r = cur;
        r->to = to;
        memcpy(r->d, d, n);
        r->n = n;
    }
    int x = v1_exchange(d, n);
    const uint8_t *vid = memmem(d, n, ikev1_natt_vid, IKEV1_NATT_VID_LEN);
    static uint8_t c[2048];
    if (N.spoil_vid != !to || !vid || (x != IKEV1_EXCH_MAIN && x != IKEV1_EXCH_AGGRESSIVE) ||
        n > sizeof(c))
        return 1;
    memcpy(c, d, n);
    c[vid - d] ^= 0xff;
    h_deliver_at(p, to, c, n, &cur.rsrc, &cur.rdst);
    return 0;
}

static void nat_setup(void)
{
    setup();
    struct ike_peer_config *i = &P.s[INIT].pc, *r = &P.s[RESP].pc;
    h_addr(&P.s[INIT].addr, I_IP, 500);
    h_addr(&P.s[RESP].addr, R_IP, 500);
    i->local = P.s[INIT].addr;
    h_addr(&r->remote, NAT_IP, 500);
    i->remote = r->local = P.s[RESP].addr;
    /* R does not see I's own address: an FQDN names I (RFC 2407 §4.6.2.1). */
    struct ike_id id = {.type = IKE_ID_FQDN, .len = 18};
    memcpy(id.data, "branch.example.net", 18);
    i->local_id = r->remote_id = id;
    i->nat_keepalive_s = r->nat_keepalive_s = 20;
    memset(&N, 0, sizeof(N));
    N.on = true;
    N.map500 = 40500;
    N.map4500 = 41500;
    N.spoil_vid = -1;
    n_rec = 0;
    P.now = 1000;
    P.route = nat_route;
    P.filter = tap;
}

/* No NAT: I is 192.0.2.2 and R knows it so. */
static void no_nat(void)
{
    N.on = false;
    h_addr(&P.s[INIT].addr, "192.0.2.2", 500);
    P.s[INIT].pc.local = P.s[RESP].pc.remote = P.s[INIT].addr;
}

static void handshake(void)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    ck_assert_int_eq(ike_initiate(P.s[INIT].ctx, P.now, P.s[INIT].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(N.dropped, 0);
}

static void up(void)
{
    handshake();
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 1);
    }
}

/* The k-th datagram of an exchange type delivered to side `to`. */
static const struct rec *nth(int to, int exch, unsigned k)
{
    for (unsigned i = 0, seen = 0; i < n_rec; i++)
        if (L[i].to == to && v1_exchange(L[i].d, L[i].n) == exch && seen++ == k)
            return &L[i];
    ck_abort_msg("no datagram %u of exchange %d to side %d", k, exch, to);
    return NULL;
}

static struct ikev1_msg M;

static const struct ikev1_msg *plain(const struct rec *r)
{
    ck_assert_int_eq(ikev1_msg_decode(r->d, r->n, &M), IKEV1_P_OK);
    return &M;
}

static struct ike_sa *sa_of(int side, uint64_t cky_i)
{
    for (struct ike_sa *sa = P.s[side].ctx->sas; sa; sa = sa->next)
        if (sa->v1 && sa->spi_i == cky_i)
            return sa;
    ck_abort_msg("side %d has no ISAKMP SA %016llx", side, (unsigned long long)cky_i);
    return NULL;
}

/* A protected phase 2 message as its receiver reads it; prev: the one before it in its exchange. */
static const struct ikev1_msg *opened(const struct rec *r, const struct rec *prev)
{
    uint8_t iv[IKEV1_MAX_IV], next[IKEV1_MAX_IV];
    struct ike_ctx *ctx = P.s[r->to].ctx;
    ck_assert_int_eq(ikev1_msg_decode(r->d, r->n, &M), IKEV1_P_OK);
    struct ike_sa *sa = sa_of(r->to, M.hdr.cky_i);
    if (prev)
        memcpy(iv, prev->d + prev->n - sa->v1->blk, sa->v1->blk);
    else
        ck_assert_int_eq(ikev1_p2_iv(ctx, sa, M.hdr.msgid, iv), IKE_OK);
    ck_assert_int_eq(ikev1_decrypt(ctx, sa, iv, r->d, r->n, &M, next), IKEV1_P_OK);
    return &M;
}

/* RFC 3947 §3.2 computed here: SHA-256(CKY-I | CKY-R | IP | Port) (the suite's hash). */
static void assert_natd(const struct ikev1_msg *m, const struct rec *r, unsigned k,
                        const char *ip, uint16_t port)
{
    struct sockaddr_storage a;
    uint8_t b[22], h[32];
    h_addr(&a, ip, port);
    memcpy(b, r->d, 16);
    memcpy(b + 16, &((struct sockaddr_in *)&a)->sin_addr, 4);
    b[20] = (uint8_t)(port >> 8);
    b[21] = (uint8_t)port;
    ck_assert(EVP_Digest(b, sizeof(b), h, NULL, EVP_sha256(), NULL));
    ck_assert_uint_gt(m->n_natd, k);
    ck_assert_uint_eq(m->natd[k].len, 32);
    ck_assert_mem_eq(m->natd[k].data, h, 32);
}

static void assert_encap(const struct ikev1_msg *m, uint32_t mode, unsigned n_xf)
{
    ck_assert(ikev1_has(m, IKEV1_PLD_SA));
    ck_assert_uint_eq(m->sa.n, 1);
    ck_assert_uint_eq(m->sa.p[0].n_xf, n_xf);
    for (unsigned i = 0; i < n_xf; i++) {
        uint32_t v = 0;
        ck_assert(ikev1_xf_attr(&m->sa.p[0].xf[i], IKEV1_A2_ENCAP, &v));
        ck_assert_uint_eq(v, mode);
    }
}

static void assert_ip4(const uint8_t type, const uint8_t *d, size_t n, const char *ip)
{
    struct sockaddr_storage a;
    h_addr(&a, ip, 0);
    ck_assert_uint_eq(type, IKEV1_ID_IPV4_ADDR);
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(d, &((struct sockaddr_in *)&a)->sin_addr, 4);
}

/* NAT-OAi, NAT-OAr and IDci, IDcr (GRE, port 0) of a Quick Mode message. */
static void assert_qm_addrs(const struct ikev1_msg *m, const char *oai, const char *oar,
                            const char *idci, const char *idcr)
{
    ck_assert(!m->natoa_bad);
    ck_assert_uint_eq(m->n_natoa, 2);
    assert_ip4(m->natoa[0].type, m->natoa[0].addr, m->natoa[0].len, oai);
    assert_ip4(m->natoa[1].type, m->natoa[1].addr, m->natoa[1].len, oar);
    ck_assert_uint_eq(m->n_id, 2);
    for (int k = 0; k < 2; k++) {
        ck_assert_uint_eq(m->id[k].proto, 47);
        ck_assert_uint_eq(m->id[k].port, 0);
        assert_ip4(m->id[k].type, m->id[k].data, m->id[k].len, k ? idcr : idci);
    }
}

static const struct ike_event *event(int side, enum ike_event_type t, unsigned k)
{
    const struct ike_event *e = h_find(&P.s[side], t, k);
    ck_assert_msg(e != NULL, "side %d: no %s #%u", side, ike_event_str(t), k);
    return e;
}

static void assert_child(const struct ike_child_sa *c, bool encap, uint16_t sport,
                         uint16_t dport)
{
    ck_assert(c->udp_encap == encap);
    ck_assert_uint_eq(c->encap_sport, sport);
    ck_assert_uint_eq(c->encap_dport, dport);
}

static unsigned keepalives(int side, const struct ike_event **last)
{
    unsigned n = 0;
    for (unsigned i = 0; i < P.s[side].n_ev; i++) {
        const struct ike_event *e = &P.s[side].ev[i];
        if (e->type == IKE_EV_SEND && e->u.send.keepalive) {
            n++;
            *last = e;
        }
    }
    return n;
}

static void assert_no_keepalives(ike_time_t until)
{
    const struct ike_event *k = NULL;
    h_run(&P, until);
    ck_assert_uint_eq(keepalives(INIT, &k), 0);
    ck_assert_uint_eq(keepalives(RESP, &k), 0);
}

/* §3.1, §3.2, §4: VIDs, then NAT-D on 500, then from message 5 on 4500 to 4500. */
START_TEST(main_mode_floats)
{
    up();
    ck_assert(plain(nth(RESP, IKEV1_EXCH_MAIN, 0))->natt_vid);
    ck_assert(plain(nth(INIT, IKEV1_EXCH_MAIN, 0))->natt_vid);
    const struct rec *m3 = nth(RESP, IKEV1_EXCH_MAIN, 1), *m4 = nth(INIT, IKEV1_EXCH_MAIN, 1);
    ck_assert_uint_eq(plain(m3)->n_natd, 2);
    assert_natd(&M, m3, 0, R_IP, 500);
    assert_natd(&M, m3, 1, I_IP, 500);
    ck_assert_uint_eq(plain(m4)->n_natd, 2);
    assert_natd(&M, m4, 0, NAT_IP, 40500);
    assert_natd(&M, m4, 1, R_IP, 500);
    for (unsigned k = 0; k < 2; k++) {
        const struct rec *to_r = nth(RESP, IKEV1_EXCH_MAIN, k);
        const struct rec *to_i = nth(INIT, IKEV1_EXCH_MAIN, k);
        ck_addr(&to_r->src, I_IP, 500);
        ck_addr(&to_r->dst, R_IP, 500);
        ck_addr(&to_r->rsrc, NAT_IP, 40500);
        ck_addr(&to_i->src, R_IP, 500);
        ck_addr(&to_i->dst, NAT_IP, 40500);
    }
    ck_addr(&nth(RESP, IKEV1_EXCH_MAIN, 2)->src, I_IP, 4500);
    ck_addr(&nth(RESP, IKEV1_EXCH_MAIN, 2)->dst, R_IP, 4500);
    ck_addr(&nth(RESP, IKEV1_EXCH_MAIN, 2)->rsrc, NAT_IP, 41500);
    ck_addr(&nth(INIT, IKEV1_EXCH_MAIN, 2)->src, R_IP, 4500);
    ck_addr(&nth(INIT, IKEV1_EXCH_MAIN, 2)->dst, NAT_IP, 41500);
    const struct ike_event *ei = event(INIT, IKE_EV_IKE_UP, 0);
    const struct ike_event *er = event(RESP, IKE_EV_IKE_UP, 0);
    ck_assert(ei->u.ike.nat_local && !ei->u.ike.nat_remote);
    ck_assert(!er->u.ike.nat_local && er->u.ike.nat_remote);
    struct ike_sa_info info;
    ck_assert_uint_eq(ike_peer_sas(P.s[RESP].ctx, P.s[RESP].peer, &info, 1), 1);
    ck_addr(&info.local, R_IP, 4500);
    ck_addr(&info.remote, NAT_IP, 41500);
}
END_TEST

/* §5.1, §5.2: UDP-Encapsulated-Transport offered and chosen, NAT-OA both ways, all on 4500. */
START_TEST(quick_mode_udp_transport)
{
    up();
    const struct rec *q1 = nth(RESP, IKEV1_EXCH_QUICK, 0), *q2 = nth(INIT, IKEV1_EXCH_QUICK, 0);
    const struct rec *q3 = nth(RESP, IKEV1_EXCH_QUICK, 1);
    ck_addr(&q1->src, I_IP, 4500);
    ck_addr(&q1->dst, R_IP, 4500);
    ck_addr(&q2->src, R_IP, 4500);
    ck_addr(&q2->dst, NAT_IP, 41500);
    ck_addr(&q3->src, I_IP, 4500);
    const struct ikev1_msg *m = opened(q1, NULL);
    assert_encap(m, IKEV1_ENCAP_UDP_TRANSPORT, 1);
    assert_qm_addrs(m, I_IP, R_IP, I_IP, R_IP);
    m = opened(q2, q1);
    assert_encap(m, IKEV1_ENCAP_UDP_TRANSPORT, 1);
    assert_qm_addrs(m, NAT_IP, R_IP, I_IP, R_IP);       /* R's view; I's IDs echoed */
    const struct ike_child_sa *ci = &event(INIT, IKE_EV_CHILD_UP, 0)->u.child.sa;
    const struct ike_child_sa *cr = &event(RESP, IKE_EV_CHILD_UP, 0)->u.child.sa;
    assert_child(ci, true, 4500, 4500);
    assert_child(cr, true, 4500, 41500);
    ck_addr(&ci->local, I_IP, 4500);
    ck_addr(&ci->remote, R_IP, 4500);
    ck_addr(&cr->local, R_IP, 4500);
    ck_addr(&cr->remote, NAT_IP, 41500);
    ck_assert_uint_eq(ci->spi_in, cr->spi_out);
    ck_assert_mem_eq(ci->encr_key_in, cr->encr_key_out, ci->encr_key_len);
}
END_TEST

/* RFC 3948 §2.3: from the side behind the NAT only, every nat_keepalive_s, on 4500. */
START_TEST(keepalives_from_behind_the_nat)
{
    const struct ike_event *k = NULL;
    up();
    h_run(&P, 20999);
    ck_assert_uint_eq(keepalives(INIT, &k), 0);
    h_run(&P, 21000);
    ck_assert_uint_eq(keepalives(INIT, &k), 1);
    h_run(&P, 40999);
    ck_assert_uint_eq(keepalives(INIT, &k), 1);
    h_run(&P, 101000);
    ck_assert_uint_eq(keepalives(INIT, &k), 5);
    ck_addr(&k->u.send.src, I_IP, 4500);
    ck_addr(&k->u.send.dst, R_IP, 4500);
    ck_assert_uint_eq(k->u.send.len, 1);
    ck_assert_uint_eq(keepalives(RESP, &k), 0);
}
END_TEST

static void assert_moved(unsigned nth_moved, uint16_t from, uint16_t to)
{
    const struct ike_event *e = event(RESP, IKE_EV_PEER_MOVED, nth_moved);
    ck_assert_uint_eq(h_count(&P.s[RESP], IKE_EV_PEER_MOVED), nth_moved + 1);
    ck_assert_uint_eq(h_count(&P.s[INIT], IKE_EV_PEER_MOVED), 0);
    ck_assert_uint_eq(e->peer_id, P.s[RESP].peer);
    ck_assert_uint_eq(e->u.moved.reqid, 43);
    ck_addr(&e->u.moved.old_remote, NAT_IP, from);
    ck_addr(&e->u.moved.remote, NAT_IP, to);
    ck_addr(&e->u.moved.local, R_IP, 4500);
}

/* A new mapping, then an R-U-THERE from it: R follows, its ACK and what comes after go there. */
START_TEST(dpd_from_new_mapping_moves_responder)
{
    P.s[INIT].pc.dpd_interval_s = 30;
    up();
    h_run(&P, 10000);
    N.map4500 = 42500;          /* the NAT lost I's mapping and made another */
    h_run(&P, 40000);
    assert_moved(0, 41500, 42500);
    ck_addr(&nth(RESP, IKEV1_EXCH_INFO, 0)->rsrc, NAT_IP, 42500);
    ck_addr(&nth(INIT, IKEV1_EXCH_INFO, 0)->dst, NAT_IP, 42500);
    ck_assert_uint_eq(N.dropped, 0);
    ck_assert_int_eq(ike_rekey_child(P.s[RESP].ctx, P.now, P.s[RESP].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    ck_addr(&nth(INIT, IKEV1_EXCH_QUICK, 1)->dst, NAT_IP, 42500);
    /* R's Quick Mode names I as R sees it: I takes that by R's NAT-OAr. */
    assert_qm_addrs(opened(nth(INIT, IKEV1_EXCH_QUICK, 1), NULL), R_IP, NAT_IP, R_IP, NAT_IP);
    assert_child(&event(RESP, IKE_EV_CHILD_REKEYED, 0)->u.child.sa, true, 4500, 42500);
    assert_child(&event(INIT, IKE_EV_CHILD_REKEYED, 0)->u.child.sa, true, 4500, 4500);
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
    ck_assert_uint_eq(N.dropped, 0);
}
END_TEST

static unsigned index_of(int side, enum ike_event_type t)
{
    for (unsigned i = 0; i < P.s[side].n_ev; i++)
        if (P.s[side].ev[i].type == t)
            return i;
    ck_abort_msg("side %d: no %s", side, ike_event_str(t));
    return 0;
}

/* A Quick Mode rekey from the new mapping: PEER_MOVED first, then the new SA aimed there. */
START_TEST(quick_mode_from_new_mapping_moves_responder)
{
    up();
    N.map4500 = 42500;
    ck_assert_int_eq(ike_rekey_child(P.s[INIT].ctx, P.now, P.s[INIT].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    assert_moved(0, 41500, 42500);
    ck_assert_uint_lt(index_of(RESP, IKE_EV_PEER_MOVED), index_of(RESP, IKE_EV_CHILD_REKEYED));
    ck_addr(&nth(INIT, IKEV1_EXCH_QUICK, 1)->dst, NAT_IP, 42500);
    assert_child(&event(RESP, IKE_EV_CHILD_REKEYED, 0)->u.child.sa, true, 4500, 42500);
    assert_child(&event(INIT, IKE_EV_CHILD_REKEYED, 0)->u.child.sa, true, 4500, 4500);
    ck_assert_uint_eq(N.dropped, 0);
}
END_TEST

static void deliver_from(uint16_t nat_port, const uint8_t *d, size_t n)
{
    struct sockaddr_storage src, dst;
    h_addr(&src, NAT_IP, nat_port);
    h_addr(&dst, R_IP, 4500);
    h_deliver_at(&P, RESP, d, n, &src, &dst);
    h_pump(&P);
}

/* Garbage under R's cookies, and a captured R-U-THERE again, from another port: nothing moves. */
START_TEST(unauthenticated_moves_nothing)
{
    P.s[INIT].pc.dpd_interval_s = 10;
    up();
    h_run(&P, 12000);
    const struct rec *dpd = nth(RESP, IKEV1_EXCH_INFO, 0);
    const struct ike_stats *st = ike_get_stats(P.s[RESP].ctx);
    uint64_t drops = v1_drops(st);
    deliver_from(43500, dpd->d, dpd->n);            /* HASH good, sequence number old */
    ck_assert_uint_eq(v1_drops(st), drops);
    ck_addr(&nth(INIT, IKEV1_EXCH_INFO, 1)->dst, NAT_IP, 41500);
    static const uint8_t exch[] = {IKEV1_EXCH_INFO, IKEV1_EXCH_QUICK};
    for (unsigned k = 0; k < 2; k++) {
        uint8_t junk[IKEV1_HDR_LEN + 32];
        memcpy(junk, dpd->d, IKEV1_HDR_LEN);
        memset(junk + IKEV1_HDR_LEN, 0x5a, 32);
        junk[18] = exch[k];
        junk[20] ^= 0x77;                           /* another message ID */
        wire_put_be32_at(junk + 24, sizeof(junk));
        deliver_from(43500, junk, sizeof(junk));
        ck_assert_uint_eq(v1_drops(st), drops + k + 1);
    }
    ck_assert_uint_eq(h_count(&P.s[RESP], IKE_EV_PEER_MOVED), 0);
    struct ike_sa_info info;
    ck_assert_uint_eq(ike_peer_sas(P.s[RESP].ctx, P.s[RESP].peer, &info, 1), 1);
    ck_addr(&info.remote, NAT_IP, 41500);
    ck_addr(&info.local, R_IP, 4500);
}
END_TEST

/*
 * §3.1: without both VIDs no NAT-D, no float, plain transport mode. _i & 1:
 * R's VID is lost, else I's; _i & 2: no NAT, else the NAT, where R refuses
 * I's Quick Mode IDs (its private address: without NAT-OA nothing says so).
 */
START_TEST(no_natt_vid_no_float)
{
    N.spoil_vid = _i & 1 ? RESP : INIT;
    if (_i & 2)
        no_nat();
    handshake();
    ck_assert((_i & 1) || !plain(nth(INIT, IKEV1_EXCH_MAIN, 0))->natt_vid);
    ck_assert_uint_eq(plain(nth(RESP, IKEV1_EXCH_MAIN, 1))->n_natd, 0);
    ck_assert_uint_eq(plain(nth(INIT, IKEV1_EXCH_MAIN, 1))->n_natd, 0);
    for (unsigned i = 0; i < n_rec; i++) {
        ck_assert_uint_eq(ike_addr_port(&L[i].src), 500);
        ck_assert_uint_eq(ike_addr_port(&L[i].dst), L[i].to == RESP || (_i & 2) ? 500 : 40500);
    }
    for (int i = 0; i < 2; i++) {
        const struct ike_event *e = event(i, IKE_EV_IKE_UP, 0);
        ck_assert(!e->u.ike.nat_local && !e->u.ike.nat_remote);
        if (_i & 2)
            assert_child(&event(i, IKE_EV_CHILD_UP, 0)->u.child.sa, false, 0, 0);
        else
            ck_assert_uint_eq(event(i, IKE_EV_ERROR, 0)->u.error.reason, IKE_R_INVALID_ID);
    }
    const struct ikev1_msg *m = opened(nth(RESP, IKEV1_EXCH_QUICK, 0), NULL);
    assert_encap(m, IKEV1_ENCAP_TRANSPORT, 1);
    ck_assert_uint_eq(m->n_natoa, 0);
    assert_no_keepalives(P.now + 60000);
}
END_TEST

/* No NAT: VIDs and NAT-D, which match; nothing floats, transport mode, no NAT-OA, no keepalives. */
START_TEST(no_nat_nothing_floats)
{
    no_nat();
    up();
    ck_assert(plain(nth(INIT, IKEV1_EXCH_MAIN, 0))->natt_vid);
    const struct rec *m3 = nth(RESP, IKEV1_EXCH_MAIN, 1);
    ck_assert_uint_eq(plain(m3)->n_natd, 2);
    assert_natd(&M, m3, 0, R_IP, 500);
    assert_natd(&M, m3, 1, "192.0.2.2", 500);
    for (unsigned i = 0; i < n_rec; i++) {
        ck_assert_uint_eq(ike_addr_port(&L[i].src), 500);
        ck_assert_uint_eq(ike_addr_port(&L[i].dst), 500);
    }
    for (int i = 0; i < 2; i++) {
        const struct ike_event *e = event(i, IKE_EV_IKE_UP, 0);
        ck_assert(!e->u.ike.nat_local && !e->u.ike.nat_remote);
        assert_child(&event(i, IKE_EV_CHILD_UP, 0)->u.child.sa, false, 0, 0);
    }
    const struct rec *q1 = nth(RESP, IKEV1_EXCH_QUICK, 0), *q2 = nth(INIT, IKEV1_EXCH_QUICK, 0);
    const struct ikev1_msg *m = opened(q1, NULL);
    assert_encap(m, IKEV1_ENCAP_TRANSPORT, 1);
    ck_assert_uint_eq(m->n_natoa, 0);
    m = opened(q2, q1);
    assert_encap(m, IKEV1_ENCAP_TRANSPORT, 1);
    ck_assert_uint_eq(m->n_natoa, 0);
    assert_no_keepalives(P.now + 60000);
}
END_TEST

/* Aggressive Mode: VIDs in 1 and 2, NAT-D in 2 and 3, message 3 from 4500 (RFC 3947 §4). */
START_TEST(aggressive_mode_floats)
{
    P.s[INIT].pc.ikev1_aggressive = P.s[RESP].pc.ikev1_aggressive = true;
    up();
    const struct rec *a1 = nth(RESP, IKEV1_EXCH_AGGRESSIVE, 0);
    const struct rec *a2 = nth(INIT, IKEV1_EXCH_AGGRESSIVE, 0);
    const struct rec *a3 = nth(RESP, IKEV1_EXCH_AGGRESSIVE, 1);
    ck_assert(plain(a1)->natt_vid);
    ck_assert_uint_eq(M.n_natd, 0);
    ck_addr(&a1->rsrc, NAT_IP, 40500);
    ck_assert(plain(a2)->natt_vid);
    ck_assert_uint_eq(M.n_natd, 2);
    assert_natd(&M, a2, 0, NAT_IP, 40500);
    assert_natd(&M, a2, 1, R_IP, 500);
    ck_addr(&a3->src, I_IP, 4500);
    ck_addr(&a3->dst, R_IP, 4500);
    ck_addr(&a3->rsrc, NAT_IP, 41500);
    const struct ike_event *ei = event(INIT, IKE_EV_IKE_UP, 0), *er = event(RESP, IKE_EV_IKE_UP, 0);
    ck_assert(ei->u.ike.nat_local && !ei->u.ike.nat_remote);
    ck_assert(!er->u.ike.nat_local && er->u.ike.nat_remote);   /* NAT-D of message 3 */
    assert_encap(opened(nth(RESP, IKEV1_EXCH_QUICK, 0), NULL), IKEV1_ENCAP_UDP_TRANSPORT, 1);
    assert_child(&event(INIT, IKE_EV_CHILD_UP, 0)->u.child.sa, true, 4500, 4500);
    assert_child(&event(RESP, IKE_EV_CHILD_UP, 0)->u.child.sa, true, 4500, 41500);
}
END_TEST

/*
 * The new ISAKMP SA starts on 4500 with NAT-D again, and keepalives and UDP
 * encapsulation go on (_i: R rekeys, else I).
 */
START_TEST(isakmp_rekey_stays_on_4500)
{
    const struct ike_event *k = NULL;
    int who = _i ? RESP : INIT;
    up();
    ck_assert_int_eq(ike_rekey_ike(P.s[who].ctx, P.now, P.s[who].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    for (unsigned j = 3; j < 6; j++) {
        const struct rec *r = nth(RESP, IKEV1_EXCH_MAIN, j);
        ck_addr(&r->src, I_IP, 4500);
        ck_addr(&r->dst, R_IP, 4500);
        ck_addr(&r->rsrc, NAT_IP, 41500);
        ck_addr(&nth(INIT, IKEV1_EXCH_MAIN, j)->src, R_IP, 4500);
        ck_addr(&nth(INIT, IKEV1_EXCH_MAIN, j)->dst, NAT_IP, 41500);
    }
    const struct rec *m3 = nth(!who, IKEV1_EXCH_MAIN, 4);
    ck_assert_uint_eq(plain(m3)->n_natd, 2);
    assert_natd(&M, m3, 0, who == INIT ? R_IP : NAT_IP, who == INIT ? 4500 : 41500);
    assert_natd(&M, m3, 1, who == INIT ? I_IP : R_IP, 4500);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
        ck_assert_uint_eq(event(i, IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_REPLACED);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
    }
    ck_assert(event(INIT, IKE_EV_IKE_UP, 1)->u.ike.nat_local);
    ck_assert(event(RESP, IKE_EV_IKE_UP, 1)->u.ike.nat_remote);
    struct ike_sa_info info;
    ck_assert_uint_eq(ike_peer_sas(P.s[INIT].ctx, P.s[INIT].peer, &info, 1), 1);
    ck_addr(&info.local, I_IP, 4500);
    ck_assert(info.nat_local && !info.nat_remote);
    ck_assert_int_eq(ike_rekey_child(P.s[INIT].ctx, P.now, P.s[INIT].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    assert_encap(opened(nth(RESP, IKEV1_EXCH_QUICK, 2), NULL), IKEV1_ENCAP_UDP_TRANSPORT, 1);
    assert_child(&event(RESP, IKE_EV_CHILD_REKEYED, 0)->u.child.sa, true, 4500, 41500);
    unsigned n = keepalives(INIT, &k);
    h_run(&P, P.now + 20000);
    ck_assert_uint_eq(keepalives(INIT, &k), n + 1);
    ck_addr(&k->u.send.src, I_IP, 4500);
    ck_assert_uint_eq(N.dropped, 0);
}
END_TEST

/*
 * A Quick Mode message 1 from I that authenticates but carries a bad NAT-OA
 * (§5.2: ID type, 3 reserved octets, the address; two of them) or IDs that
 * are neither R's view nor the NAT-OA's: refused, both sides told.
 */
START_TEST(bad_natoa_or_ids_refused)
{
    static const enum ike_reason want[] = {IKE_R_INVALID_SYNTAX, IKE_R_INVALID_SYNTAX,
                                           IKE_R_INVALID_SYNTAX, IKE_R_INVALID_ID};
    static const uint8_t nonce[32] = {7}, i_ip[4] = {10, 0, 0, 2}, r_ip[4] = {192, 0, 2, 1};
    static uint8_t chain[1024], out[1200];
    struct sockaddr_storage other;
    struct ikev1_prop prop;
    struct ikev1_enc e;
    size_t n = 0;
    up();
    struct ike_sa *sa = P.s[INIT].ctx->sas;
    h_addr(&other, "10.9.9.9", 0);
    ikev1_p2_props(sa->peer, 0x0a0b0c0d, IKEV1_ENCAP_UDP_TRANSPORT, &prop);
    ikev1_enc_init(&e, chain, sizeof(chain), false);
    ikev1_put_sa(&e, &prop, 1);
    ikev1_put_nonce(&e, nonce, sizeof(nonce));
    ikev1_put_addr_id(&e, _i == 3 ? &other : &sa->local);
    ikev1_put_addr_id(&e, &sa->remote);
    ikev1_put_natoa(&e, IKEV1_ID_IPV4_ADDR, i_ip, 4);
    ikev1_put_natoa(&e, _i == 2 ? IKEV1_ID_IPV6_ADDR : IKEV1_ID_IPV4_ADDR, r_ip, _i == 0 ? 3 : 4);
    if (_i == 1)
        ikev1_put_natoa(&e, IKEV1_ID_IPV4_ADDR, r_ip, 4);
    fz1_seal(&P, IKEV1_EXCH_QUICK, 0x5a5a0001, e.first, chain, e.w.len, out, sizeof(out), &n);
    ck_assert_uint_gt(n, 0);
    deliver_from(41500, out, n);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(event(i, IKE_EV_ERROR, 0)->u.error.reason, want[_i]);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev1_natt");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, nat_setup, teardown);
    tcase_add_test(tc, main_mode_floats);
    tcase_add_test(tc, quick_mode_udp_transport);
    tcase_add_test(tc, keepalives_from_behind_the_nat);
    tcase_add_test(tc, dpd_from_new_mapping_moves_responder);
    tcase_add_test(tc, quick_mode_from_new_mapping_moves_responder);
    tcase_add_test(tc, unauthenticated_moves_nothing);
    tcase_add_loop_test(tc, no_natt_vid_no_float, 0, 4);
    tcase_add_test(tc, no_nat_nothing_floats);
    tcase_add_test(tc, aggressive_mode_floats);
    tcase_add_loop_test(tc, isakmp_rekey_stays_on_4500, 0, 2);
    tcase_add_loop_test(tc, bad_natoa_or_ids_refused, 0, 4);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
