/*
 * NAT traversal of IKEv2 (RFC 7296 §2.23, RFC 3948) between two in-process
 * contexts (ike_harness.h) with a NAT between them: the initiator I behind
 * it (10.0.0.2), the responder R on the public side (192.0.2.1). I's
 * packets leave as 198.51.100.7, its port 500 mapped to nat.port500 and 4500
 * to nat.port4500; R's packets to a mapped port come back to I, to any
 * other port they are lost. Every packet is logged as sent and as received.
 */
#include "../../ikecore/ike_int.h"
#include "ike_harness.h"
#include "unit.h"

#define I 0
#define R 1
#define PRIV "10.0.0.2"
#define PUB "198.51.100.7"
#define RESP "192.0.2.1"
#define EX_AUTH 35
#define EX_CREATE 36
#define EX_INFO 37

static struct h_pair P;

static struct {
    bool on;                    /* off: addresses pass unchanged (no NAT on the path) */
    uint16_t port500, port4500; /* the public ports of I's 500 and 4500 */
} nat;

/* A datagram that crossed the path: as sent (the SEND event) and as delivered. */
struct wire {
    int to;
    int exchange;
    bool response, dropped;
    struct sockaddr_storage sent_src, sent_dst, src, dst;
    uint8_t data[4096];
    size_t len;
};
#define MAX_WIRE 128
static struct wire wires[MAX_WIRE];
static unsigned n_wire;
static int drop_exchange = -1;  /* requests of this exchange to R are lost */

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

static bool nat_route(struct h_pair *p, int to, struct sockaddr_storage *src,
                      struct sockaddr_storage *dst, void *arg)
{
    struct wire *w = &wires[n_wire < MAX_WIRE ? n_wire : MAX_WIRE - 1];
    (void)p; (void)arg;
    w->sent_src = *src;
    w->sent_dst = *dst;
    if (nat.on && to == R) {
        h_addr(src, PUB, port_of(src) == IKE_NATT_PORT ? nat.port4500 : nat.port500);
    } else if (nat.on) {
        uint16_t dp = port_of(dst);
        if (dp != nat.port500 && dp != nat.port4500)
            return false;   /* no such mapping (any more) */
        h_addr(dst, PRIV, dp == nat.port4500 ? IKE_NATT_PORT : IKE_PORT);
    }
    w->src = *src;
    w->dst = *dst;
    return true;
}

static int log_wire(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)arg;
    if (n_wire >= MAX_WIRE || n > sizeof(wires[0].data))
        return 1;
    struct wire *w = &wires[n_wire++];
    w->to = to;
    w->exchange = h_exchange(d, n);
    w->response = h_is_response(d, n);
    w->dropped = to == R && !w->response && w->exchange == drop_exchange;
    memcpy(w->data, d, n);
    w->len = n;
    return w->dropped ? 0 : 1;
}

/* The nth datagram to side `to` of an exchange (requests or responses). */
static const struct wire *wire_nth(int to, int exchange, bool response, unsigned nth)
{
    for (unsigned k = 0; k < n_wire; k++)
        if (wires[k].to == to && wires[k].exchange == exchange &&
            wires[k].response == response && nth-- == 0)
            return &wires[k];
    return NULL;
}

static const struct wire *must_wire(int to, int exchange, bool response, unsigned nth)
{
    const struct wire *w = wire_nth(to, exchange, response, nth);
    ck_assert_msg(w != NULL, "no datagram %u of exchange %d (response %d) to side %d", nth,
                  exchange, response, to);
    return w;
}

static void assert_addr(const struct sockaddr_storage *a, const char *ip, uint16_t port)
{
    struct sockaddr_storage want;
    char got[INET6_ADDRSTRLEN] = "?";
    h_addr(&want, ip, port);
    if (a->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, got, sizeof(got));
    ck_assert_msg(a->ss_family == AF_INET && memcmp(a, &want, sizeof(struct sockaddr_in)) == 0,
                  "got %s:%u, wanted %s:%u", got, port_of(a), ip, port);
}

static unsigned keepalives(int side)
{
    unsigned n = 0;
    for (unsigned k = 0; k < P.s[side].n_ev; k++)
        n += P.s[side].ev[k].type == IKE_EV_SEND && P.s[side].ev[k].u.send.keepalive;
    return n;
}

static const struct ike_event *must_find(int side, enum ike_event_type t, unsigned nth)
{
    const struct ike_event *e = h_find(&P.s[side], t, nth);
    ck_assert_msg(e != NULL, "side %d: no %s event %u", side, ike_event_str(t), nth);
    return e;
}

/* Index of the nth event of type t on side, or -1. */
static int ev_index(int side, enum ike_event_type t, unsigned nth)
{
    const struct ike_event *e = h_find(&P.s[side], t, nth);
    return e ? (int)(e - P.s[side].ev) : -1;
}

static struct ike_sa_info sa_info(int side, unsigned nth, unsigned want_n)
{
    struct ike_sa_info info[4];
    unsigned n = ike_peer_sas(P.s[side].ctx, P.s[side].peer, info, 4);
    ck_assert_uint_eq(n, want_n);
    ck_assert_uint_lt(nth, n);
    return info[nth];
}

/* The one of side's IKE SAs that is established (not replaced). */
static struct ike_sa_info current_sa(int side)
{
    struct ike_sa_info info[4];
    unsigned n = ike_peer_sas(P.s[side].ctx, P.s[side].peer, info, 4);
    for (unsigned k = 0; k < n && k < 4; k++)
        if (info[k].phase == IKE_PHASE_ESTABLISHED)
            return info[k];
    ck_abort_msg("side %d: no established IKE SA", side);
    return info[0];
}

static void setup(void)
{
    h_init(&P, PRIV, RESP);
    h_addr(&P.s[R].pc.remote, PUB, IKE_PORT);
    P.s[I].pc.local_id = P.s[R].pc.remote_id =
        (struct ike_id){.type = IKE_ID_FQDN, .len = 14, .data = "branch.example"};
    nat.on = true;
    nat.port500 = 40500;
    nat.port4500 = 41500;
    n_wire = 0;
    drop_exchange = -1;
    P.route = nat_route;
    P.filter = log_wire;
}

static void teardown(void)
{
    h_free(&P);
}

static void handshake(void)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    ck_assert_int_eq(ike_initiate(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 1);
    }
}

/* IKE_SA_INIT on port 500; IKE_AUTH (k copies, the first lost) from 4500 to 4500. */
static void assert_floated_wires(unsigned k_auth)
{
    const struct wire *w = must_wire(R, 34, false, 0);
    assert_addr(&w->sent_src, PRIV, 500);
    assert_addr(&w->sent_dst, RESP, 500);
    assert_addr(&w->src, PUB, 40500);
    w = must_wire(I, 34, true, 0);
    assert_addr(&w->sent_src, RESP, 500);
    assert_addr(&w->sent_dst, PUB, 40500);
    for (unsigned k = 0; k < k_auth; k++) {
        w = must_wire(R, EX_AUTH, false, k);
        ck_assert(w->dropped == (k + 1 < k_auth));
        assert_addr(&w->sent_src, PRIV, 4500);
        assert_addr(&w->sent_dst, RESP, 4500);
        assert_addr(&w->src, PUB, 41500);
    }
    ck_assert_ptr_null(wire_nth(R, EX_AUTH, false, k_auth));
    w = must_wire(I, EX_AUTH, true, 0);
    assert_addr(&w->sent_src, RESP, 4500);
    assert_addr(&w->sent_dst, PUB, 41500);
}

static void assert_encap_children(void)
{
    const struct ike_child_sa *ci = &must_find(I, IKE_EV_CHILD_UP, 0)->u.child.sa;
    const struct ike_child_sa *cr = &must_find(R, IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert(ci->udp_encap && cr->udp_encap);
    ck_assert_uint_eq(ci->encap_sport, 4500);
    ck_assert_uint_eq(ci->encap_dport, 4500);
    ck_assert_uint_eq(cr->encap_sport, 4500);
    ck_assert_uint_eq(cr->encap_dport, 41500);
    assert_addr(&ci->local, PRIV, 4500);
    assert_addr(&ci->remote, RESP, 4500);
    assert_addr(&cr->local, RESP, 4500);
    assert_addr(&cr->remote, PUB, 41500);
    ck_assert_uint_eq(ci->spi_in, cr->spi_out);
}

/* §2.23: NAT found in IKE_SA_INIT, IKE_AUTH from 4500 to 4500, the CHILD SAs UDP-encapsulated. */
START_TEST(nat_floats_to_4500)
{
    drop_exchange = EX_AUTH;    /* the first IKE_AUTH is lost: its retransmission floats too */
    ck_assert_int_eq(h_start(&P, NULL), 0);
    ck_assert_int_eq(ike_initiate(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_pump(&P);
    drop_exchange = -1;
    h_run(&P, P.now + 5000);
    const struct ike_event *ui = must_find(I, IKE_EV_IKE_UP, 0);
    const struct ike_event *ur = must_find(R, IKE_EV_IKE_UP, 0);
    ck_assert(ui->u.ike.nat_local && !ui->u.ike.nat_remote);
    ck_assert(!ur->u.ike.nat_local && ur->u.ike.nat_remote);
    assert_floated_wires(2);
    assert_encap_children();
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_PEER_MOVED), 0);  /* nothing was installed yet */
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_PEER_MOVED), 0);
    struct ike_sa_info si = sa_info(I, 0, 1), sr = sa_info(R, 0, 1);  /* ike_peer_sas */
    assert_addr(&si.local, PRIV, 4500);
    assert_addr(&si.remote, RESP, 4500);
    assert_addr(&sr.local, RESP, 4500);
    assert_addr(&sr.remote, PUB, 41500);
    ck_assert(si.nat_local && !si.nat_remote && sr.nat_remote && !sr.nat_local);
}
END_TEST

/* Without a NAT nothing floats: port 500 throughout, plain ESP, no keepalives. */
START_TEST(no_nat_nothing_floats)
{
    h_free(&P);
    h_init(&P, "192.0.2.2", RESP);
    nat.on = false;
    P.route = nat_route;
    P.filter = log_wire;
    P.s[I].pc.nat_keepalive_s = P.s[R].pc.nat_keepalive_s = 20;
    handshake();
    h_run(&P, P.now + 100000);
    ck_assert_uint_gt(n_wire, 3);
    for (unsigned k = 0; k < n_wire; k++) {
        ck_assert_uint_eq(port_of(&wires[k].sent_src), 500);
        ck_assert_uint_eq(port_of(&wires[k].sent_dst), 500);
    }
    for (int i = 0; i < 2; i++) {
        const struct ike_event *u = must_find(i, IKE_EV_IKE_UP, 0);
        const struct ike_child_sa *c = &must_find(i, IKE_EV_CHILD_UP, 0)->u.child.sa;
        ck_assert(!u->u.ike.nat_local && !u->u.ike.nat_remote);
        ck_assert(!c->udp_encap);
        ck_assert_uint_eq(c->encap_sport, 0);
        ck_assert_uint_eq(c->encap_dport, 0);
        ck_assert_uint_eq(keepalives(i), 0);
        struct ike_sa_info s = sa_info(i, 0, 1);
        ck_assert_uint_eq(port_of(&s.local), 500);
        ck_assert_uint_eq(port_of(&s.remote), 500);
    }
}
END_TEST

/* RFC 3948 §2.3: the side behind the NAT sends 0xFF to 4500 every nat_keepalive_s; R none. */
START_TEST(keepalives_from_behind_the_nat)
{
    P.s[I].pc.nat_keepalive_s = P.s[R].pc.nat_keepalive_s = 20;
    handshake();
    h_run(&P, 19999);
    ck_assert_uint_eq(keepalives(I), 0);
    ike_time_t due = ike_next_deadline(P.s[I].ctx);
    ck_assert_uint_ge(due, 20000);
    ck_assert_uint_le(due, 21000);
    P.now = due;
    ck_assert_int_eq(ike_tick(P.s[R].ctx, due), IKE_OK);
    ck_assert_int_eq(ike_tick(P.s[I].ctx, due), IKE_OK);
    struct ike_event ev;
    ck_assert_int_eq(ike_next_event(P.s[I].ctx, &ev), 1);
    ck_assert_int_eq(ev.type, IKE_EV_SEND);
    ck_assert(ev.u.send.keepalive);
    ck_assert_uint_eq(ev.u.send.len, 1);
    ck_assert_uint_eq(ev.u.send.data[0], 0xff);
    assert_addr(&ev.u.send.src, PRIV, 4500);
    assert_addr(&ev.u.send.dst, RESP, 4500);
    ck_assert_int_eq(ike_next_event(P.s[I].ctx, &ev), 0);
    for (unsigned k = 1; k <= 4; k++) {     /* one per period, none more */
        h_run(&P, due + k * 20000 - 1);
        ck_assert_uint_eq(keepalives(I), k - 1);
        h_run(&P, due + k * 20000);
        ck_assert_uint_eq(keepalives(I), k);
    }
    for (unsigned k = 0; k < P.s[I].n_ev; k++) {
        const struct ike_event *e = &P.s[I].ev[k];
        if (e->type == IKE_EV_SEND && e->u.send.keepalive) {
            ck_assert_uint_eq(e->u.send.len, 1);
            assert_addr(&e->u.send.src, PRIV, 4500);
            assert_addr(&e->u.send.dst, RESP, 4500);
        }
    }
    ck_assert_uint_eq(keepalives(R), 0);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_IKE_DOWN), 0);
}
END_TEST

START_TEST(no_keepalives_when_off)
{
    P.s[I].pc.nat_keepalive_s = 0;
    handshake();
    h_run(&P, P.now + 100000);
    ck_assert_uint_eq(keepalives(I), 0);
    ck_assert_uint_eq(keepalives(R), 0);
    /* Nothing before the CHILD SA's soft lifetime (at least 3060 s) either. */
    ck_assert_uint_gt(ike_next_deadline(P.s[I].ctx), 3000000);
}
END_TEST

/*
 * §2.8.2 under a NAT: the new IKE SA keeps the floated ports and sends the
 * keepalives; the replaced one, its DELETE lost and retried, sends none.
 */
START_TEST(ike_rekey_keeps_ports_replaced_sa_quiet)
{
    P.s[I].pc.nat_keepalive_s = 20;
    handshake();
    h_run(&P, 10000);
    ck_assert_uint_eq(keepalives(I), 0);
    uint64_t old_spi = must_find(I, IKE_EV_IKE_UP, 0)->u.ike.spi_i;
    drop_exchange = EX_INFO;                /* the old SA's DELETE never arrives */
    ck_assert_int_eq(ike_rekey_ike(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_run(&P, 10500);
    const struct wire *w = must_wire(R, EX_CREATE, false, 0);
    ck_assert_ptr_nonnull(w);
    assert_addr(&w->sent_src, PRIV, 4500);
    assert_addr(&w->sent_dst, RESP, 4500);
    const struct ike_event *up = must_find(I, IKE_EV_IKE_UP, 1);
    ck_assert(up->u.ike.nat_local && !up->u.ike.nat_remote);
    ck_assert(must_find(R, IKE_EV_IKE_UP, 1)->u.ike.nat_remote);
    ck_assert_uint_eq(ike_peer_sas(P.s[I].ctx, P.s[I].peer, NULL, 0), 2);
    struct ike_sa_info si = current_sa(I), sr = current_sa(R);
    ck_assert_uint_ne(si.spi_i, old_spi);
    ck_assert_uint_eq(si.spi_i, up->u.ike.spi_i);
    assert_addr(&si.local, PRIV, 4500);
    assert_addr(&si.remote, RESP, 4500);
    assert_addr(&sr.local, RESP, 4500);
    assert_addr(&sr.remote, PUB, 41500);
    ck_assert(si.nat_local && sr.nat_remote);
    /* The old SA's keepalive was due at about 20 s; only the new one's, at 30 s, is sent. */
    h_run(&P, 29999);
    ck_assert_uint_eq(ike_peer_sas(P.s[I].ctx, P.s[I].peer, NULL, 0), 2);
    ck_assert_uint_eq(keepalives(I), 0);
    h_run(&P, 31000);
    ck_assert_uint_eq(keepalives(I), 1);
    h_run(&P, 60000);                       /* the old SA gave up on its DELETE */
    ck_assert_uint_eq(ike_peer_sas(P.s[I].ctx, P.s[I].peer, NULL, 0), 1);
    ck_assert_uint_eq(keepalives(I), 2);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_CHILD_DOWN), 0);
}
END_TEST

/*
 * The NAT maps I's 4500 anew; I's next (authenticated) liveness check makes
 * R follow it: PEER_MOVED, and R's messages and CHILD SAs go to the new port.
 */
START_TEST(mapping_change_moves_the_peer)
{
    P.s[I].pc.dpd_interval_s = 10;
    handshake();
    nat.port4500 = 42500;
    h_run(&P, 16000);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_PEER_MOVED), 1);
    const struct ike_event *m = must_find(R, IKE_EV_PEER_MOVED, 0);
    ck_assert_uint_eq(m->peer_id, P.s[R].peer);
    ck_assert_uint_eq(m->u.moved.reqid, 43);
    assert_addr(&m->u.moved.old_remote, PUB, 41500);
    assert_addr(&m->u.moved.remote, PUB, 42500);
    assert_addr(&m->u.moved.local, RESP, 4500);
    const struct wire *w = must_wire(I, EX_INFO, true, 0);   /* the answer to the check */
    ck_assert_ptr_nonnull(w);
    assert_addr(&w->sent_src, RESP, 4500);
    assert_addr(&w->sent_dst, PUB, 42500);
    ck_assert_uint_eq(ike_get_stats(P.s[I].ctx)->retransmits, 0);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_PEER_MOVED), 0);
    struct ike_sa_info sr = sa_info(R, 0, 1);
    assert_addr(&sr.remote, PUB, 42500);

    /* R rekeys the CHILD SA: its request reaches I through the new mapping. */
    uint32_t old_in = must_find(R, IKE_EV_CHILD_UP, 0)->u.child.sa.spi_in;
    ck_assert_int_eq(ike_rekey_child(P.s[R].ctx, P.now, P.s[R].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_ERROR), 0);
    const struct ike_event *kr = must_find(R, IKE_EV_CHILD_REKEYED, 0);
    const struct ike_event *ki = must_find(I, IKE_EV_CHILD_REKEYED, 0);
    ck_assert_uint_eq(kr->u.child.old_spi_in, old_in);
    ck_assert(kr->u.child.sa.udp_encap && ki->u.child.sa.udp_encap);
    ck_assert_uint_eq(kr->u.child.sa.encap_sport, 4500);
    ck_assert_uint_eq(kr->u.child.sa.encap_dport, 42500);
    assert_addr(&kr->u.child.sa.remote, PUB, 42500);
    ck_assert_uint_eq(ki->u.child.sa.encap_sport, 4500);
    ck_assert_uint_eq(ki->u.child.sa.encap_dport, 4500);
    ck_assert_uint_eq(kr->u.child.sa.spi_in, ki->u.child.sa.spi_out);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_PEER_MOVED), 1);
}
END_TEST

/* The first message after the change is I's CHILD rekey: R moves, then announces the new SA. */
/*
 * The hub initiates too, to the NAT's port 500, where nothing is mapped:
 * its attempt dies unanswered while the spoke's comes through. That is no
 * failure: no ERROR, no IKE_DOWN, the spoke's SAs stay.
 */
START_TEST(hub_attempt_into_the_nat_is_quiet)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    ck_assert_int_eq(ike_initiate(P.s[R].ctx, P.now, P.s[R].peer), IKE_OK);
    ck_assert_int_eq(ike_initiate(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_run(&P, P.now + 120000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
    }
    ck_assert_uint_eq(ike_peer_sas(P.s[R].ctx, P.s[R].peer, NULL, 0), 1);
}
END_TEST

START_TEST(child_rekey_after_the_move)
{
    handshake();
    nat.port4500 = 42500;
    ck_assert_int_eq(ike_rekey_child(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_ERROR), 0);
    int moved = ev_index(R, IKE_EV_PEER_MOVED, 0), rekeyed = ev_index(R, IKE_EV_CHILD_REKEYED, 0);
    ck_assert_int_ge(moved, 0);
    ck_assert_int_gt(rekeyed, moved);
    const struct ike_child_sa *c = &P.s[R].ev[rekeyed].u.child.sa;
    ck_assert(c->udp_encap);
    ck_assert_uint_eq(c->encap_sport, 4500);
    ck_assert_uint_eq(c->encap_dport, 42500);
    assert_addr(&P.s[R].ev[moved].u.moved.old_remote, PUB, 41500);
    ck_assert_uint_eq(must_find(I, IKE_EV_CHILD_REKEYED, 0)->u.child.sa.encap_dport, 4500);
}
END_TEST

/* The selectors of R's IKE_AUTH answer, opened with I's keys. */
static void auth_answer_ts(struct ikev2_msg *m)
{
    const struct wire *w = must_wire(I, EX_AUTH, true, 0);
    ck_assert_int_eq(ikev2_msg_decode(w->data, w->len, m), IKEV2_P_OK);
    ck_assert_int_eq(ikev2_msg_open(P.s[I].ctx, P.s[I].ctx->sas, w->data, w->len, m), IKEV2_P_OK);
    ck_assert_uint_eq(m->tsi.n, 1);
    ck_assert_uint_eq(m->tsr.n, 1);
}

/*
 * §2.23.1: R cannot know I's private address, so it answers with I's own
 * selector for I's side (what a strict initiator checks), and its own for R.
 */
START_TEST(selectors_echoed_behind_nat)
{
    handshake();
    struct ikev2_msg m;
    auth_answer_ts(&m);
    uint8_t priv[4], resp[4];
    inet_pton(AF_INET, PRIV, priv);
    inet_pton(AF_INET, RESP, resp);
    ck_assert_mem_eq(m.tsi.ts[0].saddr, priv, 4);
    ck_assert_mem_eq(m.tsi.ts[0].eaddr, priv, 4);
    ck_assert_mem_eq(m.tsr.ts[0].saddr, resp, 4);
    ck_assert_uint_eq(m.tsi.ts[0].proto, 47);
    ck_assert_uint_eq(m.tsr.ts[0].proto, 47);
}
END_TEST

static void inject_to_r(const uint8_t *d, size_t n, uint16_t from_port)
{
    struct sockaddr_storage src, dst;
    h_addr(&src, PUB, from_port);
    h_addr(&dst, RESP, IKE_NATT_PORT);
    ike_input(P.s[R].ctx, P.now, d, n, (struct sockaddr *)&src, (struct sockaddr *)&dst);
    h_pump(&P);
}

/* §2.23: a packet that fails its integrity check, or a replay, moves nothing. */
START_TEST(forged_or_replayed_moves_nothing)
{
    P.s[I].pc.dpd_interval_s = 10;
    handshake();
    h_run(&P, 16000);                       /* one liveness check, answered */
    const struct wire *dpd = must_wire(R, EX_INFO, false, 0);
    const struct wire *auth = must_wire(R, EX_AUTH, false, 0);
    ck_assert_ptr_nonnull(dpd);
    ck_assert_ptr_nonnull(auth);
    struct ike_stats st = *ike_get_stats(P.s[R].ctx);

    uint8_t bad[sizeof(dpd->data)];
    memcpy(bad, dpd->data, dpd->len);
    bad[dpd->len - 1] ^= 1;
    inject_to_r(bad, dpd->len, 43500);
    ck_assert_uint_eq(ike_get_stats(P.s[R].ctx)->drop_integrity, st.drop_integrity + 1);

    unsigned sends = h_count(&P.s[R], IKE_EV_SEND);
    inject_to_r(dpd->data, dpd->len, 43500);   /* answered from the cache, to where I is */
    ck_assert_uint_eq(ike_get_stats(P.s[R].ctx)->cache_replays, st.cache_replays + 1);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_SEND), sends + 1);
    assert_addr(&must_find(R, IKE_EV_SEND, sends)->u.send.dst, PUB, 41500);

    inject_to_r(auth->data, auth->len, 43500); /* older still: dropped */
    ck_assert_uint_eq(ike_get_stats(P.s[R].ctx)->drop_bad_msgid, st.drop_bad_msgid + 1);

    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_PEER_MOVED), 0);
    struct ike_sa_info sr = sa_info(R, 0, 1);
    assert_addr(&sr.remote, PUB, 41500);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_IKE_DOWN), 0);

    nat.port4500 = 43500;                   /* the next check, authentic and new, does move R */
    h_run(&P, 32000);                       /* (the replayed answer counted as I's last rx) */
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_PEER_MOVED), 1);
    assert_addr(&must_find(R, IKE_EV_PEER_MOVED, 0)->u.moved.remote, PUB, 43500);
}
END_TEST

/*
 * §2.4 behind the NAT: I restarts, its new IKE_SA_INIT comes from the same
 * public address but new ports; INITIAL_CONTACT replaces R's stale SAs.
 */
START_TEST(restarted_peer_behind_nat)
{
    handshake();
    h_run(&P, 10000);
    uint32_t stale = must_find(R, IKE_EV_CHILD_UP, 0)->u.child.sa.spi_in;
    ck_assert_int_eq(h_restart(&P, I), 0);
    nat.port500 = 40600;
    nat.port4500 = 41600;
    ck_assert_int_eq(ike_initiate(P.s[I].ctx, P.now, P.s[I].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[I], IKE_EV_CHILD_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_IKE_UP), 2);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_CHILD_UP), 2);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_CHILD_DOWN), 1);
    ck_assert_uint_eq(h_count(&P.s[R], IKE_EV_IKE_DOWN), 1);
    const struct ike_event *down = must_find(R, IKE_EV_CHILD_DOWN, 0);
    ck_assert_uint_eq(down->u.child.sa.spi_in, stale);
    ck_assert_uint_eq(down->u.child.reason, IKE_R_REPLACED);
    ck_assert_uint_eq(must_find(R, IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_REPLACED);
    ck_assert_int_lt(ev_index(R, IKE_EV_CHILD_DOWN, 0), ev_index(R, IKE_EV_CHILD_UP, 1));
    const struct ike_child_sa *c = &must_find(R, IKE_EV_CHILD_UP, 1)->u.child.sa;
    ck_assert(c->udp_encap);
    ck_assert_uint_eq(c->encap_dport, 41600);
    ck_assert_uint_eq(c->spi_out, must_find(I, IKE_EV_CHILD_UP, 0)->u.child.sa.spi_in);
    struct ike_sa_info sr = sa_info(R, 0, 1);
    assert_addr(&sr.remote, PUB, 41600);
    const struct wire *w = must_wire(I, 34, true, 1);        /* the new IKE_SA_INIT's answer */
    assert_addr(&w->sent_dst, PUB, 40600);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_natt");
    TCase *tc = tcase_create("natt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nat_floats_to_4500);
    tcase_add_test(tc, no_nat_nothing_floats);
    tcase_add_test(tc, keepalives_from_behind_the_nat);
    tcase_add_test(tc, no_keepalives_when_off);
    tcase_add_test(tc, ike_rekey_keeps_ports_replaced_sa_quiet);
    tcase_add_test(tc, mapping_change_moves_the_peer);
    tcase_add_test(tc, child_rekey_after_the_move);
    tcase_add_test(tc, selectors_echoed_behind_nat);
    tcase_add_test(tc, forged_or_replayed_moves_nothing);
    tcase_add_test(tc, restarted_peer_behind_nat);
    tcase_add_test(tc, hub_attempt_into_the_nat_is_quiet);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
