/*
 * IKE_SA_INIT + IKE_AUTH + INFORMATIONAL between two in-process contexts
 * (ike_harness.h): every supported suite, the failure notifies on both
 * sides, lost / duplicated / late packets, give-up, liveness and COOKIEs.
 */
#include "ike_harness.h"
#include "unit.h"

static struct h_pair P;

static void setup(void)
{
    h_init(&P, "192.0.2.1", "192.0.2.2");
}

static void teardown(void)
{
    h_free(&P);
}

static void start(void)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
}

/* Both sides up with one child whose keys and SPIs mirror each other. */
static void assert_up(void)
{
    const struct h_side *a = &P.s[0], *b = &P.s[1];
    ck_assert_uint_eq(h_count(a, IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(b, IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(a, IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(a, IKE_EV_CHILD_UP), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_CHILD_UP), 1);
    const struct ike_event *ia = h_find(a, IKE_EV_IKE_UP, 0), *ib = h_find(b, IKE_EV_IKE_UP, 0);
    ck_assert(ia->u.ike.initiator && !ib->u.ike.initiator);
    ck_assert_uint_eq(ia->u.ike.spi_i, ib->u.ike.spi_i);
    ck_assert_uint_eq(ia->u.ike.spi_r, ib->u.ike.spi_r);
    ck_assert_mem_eq(&ia->u.ike.suite, &ib->u.ike.suite, sizeof(ia->u.ike.suite));
    ck_assert(!ia->u.ike.nat_local && !ia->u.ike.nat_remote);
    ck_assert(!ib->u.ike.nat_local && !ib->u.ike.nat_remote);
    const struct ike_child_sa *ca = &h_find(a, IKE_EV_CHILD_UP, 0)->u.child.sa;
    const struct ike_child_sa *cb = &h_find(b, IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_uint_eq(ca->spi_in, cb->spi_out);
    ck_assert_uint_eq(ca->spi_out, cb->spi_in);
    ck_assert_uint_ne(ca->spi_in, 0);
    ck_assert_uint_eq(ca->encr_key_len, cb->encr_key_len);
    ck_assert_uint_gt(ca->encr_key_len, 0);
    ck_assert_uint_eq(ca->integ_key_len, cb->integ_key_len);
    ck_assert_mem_eq(ca->encr_key_in, cb->encr_key_out, ca->encr_key_len);
    ck_assert_mem_eq(ca->encr_key_out, cb->encr_key_in, ca->encr_key_len);
    ck_assert_mem_ne(ca->encr_key_in, ca->encr_key_out, ca->encr_key_len);
    if (ca->integ_key_len) {
        ck_assert_mem_eq(ca->integ_key_in, cb->integ_key_out, ca->integ_key_len);
        ck_assert_mem_eq(ca->integ_key_out, cb->integ_key_in, ca->integ_key_len);
    }
    ck_assert_mem_eq(&ca->suite, &cb->suite, sizeof(ca->suite));
    ck_assert(ca->transport && cb->transport);
    ck_assert_uint_eq(ca->ip_proto, 47);
    ck_assert_uint_eq(ca->reqid, 42);
    ck_assert_uint_eq(cb->reqid, 43);
    ck_assert_uint_eq(ca->lifetime_hard_s, 3600);
    ck_assert_uint_lt(ca->lifetime_soft_s, ca->lifetime_hard_s);
    ck_assert_uint_ge(ca->lifetime_soft_s, 3600 - 360 - 180);
}

static void assert_error(int side, enum ike_reason r)
{
    const struct ike_event *e = h_find(&P.s[side], IKE_EV_ERROR, 0);
    ck_assert_msg(e != NULL, "side %d: no error event", side);
    ck_assert_msg(e->u.error.reason == r, "side %d: %s, wanted %s", side,
                  ike_reason_str(e->u.error.reason), ike_reason_str(r));
    ck_assert_ptr_nonnull(e->u.error.detail);
}

START_TEST(default_suite)
{
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_UP, 0)->u.ike.suite.dh, IKE_DH_ECP_384);
    ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx) > P.now, 1);
}
END_TEST

static const struct ike_suite ciphers[] = {
    {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 128},
    {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 128, .integ = IKE_INTEG_HMAC_SHA2_256_128},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 128, .integ = IKE_INTEG_HMAC_SHA2_384_192},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 128, .integ = IKE_INTEG_HMAC_SHA2_512_256},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_256_128},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_384_192},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_512_256},
};
#define N_CIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))
static const uint16_t prfs[] = {IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384, IKE_PRF_HMAC_SHA2_512};
static const uint16_t groups[] = {14, 15, 16, 19, 20, 21, 31};

/* _i = cipher x prf, each with every group: 8 x 3 x 7 = 168 handshakes. */
START_TEST(every_ike_suite)
{
    struct ike_suite s = ciphers[_i / 3];
    s.prf = prfs[_i % 3];
    for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        h_free(&P);
        setup();
        s.dh = groups[g];
        P.s[0].pc.ike[0] = P.s[1].pc.ike[0] = s;
        start();
        h_handshake(&P);
        assert_up();
        ck_assert_mem_eq(&h_find(&P.s[1], IKE_EV_IKE_UP, 0)->u.ike.suite, &s, sizeof(s));
    }
}
END_TEST

/* _i = ESP cipher x ESN. */
START_TEST(every_esp_suite)
{
    struct ike_suite s = ciphers[_i / 2];
    s.esn = _i % 2;
    P.s[0].pc.esp[0] = P.s[1].pc.esp[0] = s;
    start();
    h_handshake(&P);
    assert_up();
    const struct ike_child_sa *c = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_mem_eq(&c->suite, &s, sizeof(s));
    ck_assert_uint_eq(c->encr_key_len, s.key_bits / 8 + (s.encr == IKE_ENCR_AES_GCM_16 ? 4 : 0));
}
END_TEST

/* §2.7: the first initiator proposal that the responder supports wins. */
START_TEST(initiator_order_wins)
{
    P.s[0].pc.esp[0] = ciphers[2];
    P.s[0].pc.esp[1] = ciphers[1];
    P.s[0].pc.n_esp = 2;
    P.s[1].pc.esp[0] = ciphers[1];
    P.s[1].pc.esp[1] = ciphers[2];
    P.s[1].pc.n_esp = 2;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(h_find(&P.s[1], IKE_EV_CHILD_UP, 0)->u.child.sa.suite.encr, IKE_ENCR_AES_CBC);
}
END_TEST

START_TEST(wrong_psk)
{
    P.s[1].pc.psk = (const uint8_t *)"wrong";
    P.s[1].pc.psk_len = 5;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_AUTHENTICATION_FAILED);
    assert_error(1, IKE_R_AUTHENTICATION_FAILED);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
    }
    ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx), IKE_TIME_NEVER);
    ck_assert_uint_eq(ike_next_deadline(P.s[1].ctx), IKE_TIME_NEVER);
}
END_TEST

START_TEST(no_common_ike_proposal)
{
    P.s[1].pc.ike[0].encr = IKE_ENCR_AES_CBC;
    P.s[1].pc.ike[0].integ = IKE_INTEG_HMAC_SHA2_256_128;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 0);
}
END_TEST

/* The IKE SA comes up; the CHILD SA is refused and both sides say why. */
START_TEST(no_common_esp_proposal)
{
    P.s[1].pc.esp[0] = ciphers[3];
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_UP), 0);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_UP), 0);
}
END_TEST

/*
 * The initiator's selectors do not cover the address it really sends from.
 * Another address of the same family looks like a NAT, whose selectors
 * carry an address nobody can check (§2.23.1): another family it must be.
 */
START_TEST(ts_unacceptable)
{
    h_addr(&P.s[0].pc.local, "2001:db8::9", 500);
    P.s[0].pc.local_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "a.net"};
    P.s[1].pc.remote_id = P.s[0].pc.local_id;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_TS_UNACCEPTABLE);
    assert_error(1, IKE_R_TS_UNACCEPTABLE);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_UP), 0);
}
END_TEST

/* §1.2: INVALID_KE_PAYLOAD names the group; the initiator retries once with it. */
START_TEST(invalid_ke_then_success)
{
    P.s[0].pc.ike[1] = P.s[0].pc.ike[0];
    P.s[0].pc.ike[1].dh = IKE_DH_CURVE25519;
    P.s[0].pc.n_ike = 2;
    P.s[1].pc.ike[0].dh = IKE_DH_CURVE25519;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_UP, 0)->u.ike.suite.dh, IKE_DH_CURVE25519);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_SEND), 3);  /* INIT, INIT again, AUTH */
}
END_TEST

START_TEST(invalid_ke_group_not_ours)
{
    P.s[1].pc.ike[0].dh = IKE_DH_CURVE25519;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
}
END_TEST

static int drop_first_n(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    unsigned *left = arg;
    (void)p; (void)d; (void)n; (void)to;
    if (left[to]) {
        left[to]--;
        return 0;
    }
    return 1;
}

START_TEST(lost_packets_are_retransmitted)
{
    unsigned drop[2] = {1, 1};  /* first to a (INIT response) and to b (INIT request) */
    P.filter = drop_first_n;
    P.filter_arg = drop;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_ge(ike_get_stats(P.s[0].ctx)->retransmits, 2);
    ck_assert_uint_ge(ike_get_stats(P.s[1].ctx)->cache_replays, 1);
}
END_TEST

static int duplicate(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)to; (void)d; (void)n; (void)arg;
    return 2;
}

START_TEST(duplicates_answered_from_cache)
{
    P.filter = duplicate;
    start();
    h_handshake(&P);
    assert_up();
    const struct ike_stats *b = ike_get_stats(P.s[1].ctx), *a = ike_get_stats(P.s[0].ctx);
    ck_assert_uint_ge(b->cache_replays, 2);         /* INIT and AUTH requests */
    ck_assert_uint_ge(a->drop_bad_msgid + a->drop_unknown_spi, 1);  /* extra responses */
    /* the replayed response is the cached one, byte for byte: the initiator saw identical copies */
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_SEND), 2 + b->cache_replays);
}
END_TEST

static int hold_auth_response(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    unsigned *seen = arg;
    (void)p; (void)d; (void)n;
    if (to == 0 && ++*seen == 2)
        return -1;                  /* the first IKE_AUTH response: hold it back */
    return 1;
}

START_TEST(late_response_is_ignored)
{
    unsigned seen = 0;
    P.filter = hold_auth_response;
    P.filter_arg = &seen;
    start();
    h_handshake(&P);                /* completes through the retransmission */
    assert_up();
    ck_assert_uint_eq(P.n_held, 1);
    unsigned before = P.s[0].n_ev;
    uint64_t drops = ike_get_stats(P.s[0].ctx)->drop_bad_msgid;
    h_release(&P);
    ck_assert_uint_eq(P.s[0].n_ev, before);
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->drop_bad_msgid, drops + 1);
}
END_TEST

static int drop_all_to_b(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)d; (void)n; (void)arg;
    return to == 1 ? 0 : 1;
}

START_TEST(give_up_after_retransmissions)
{
    struct ike_ctx_config cfg = {.retransmit_base_ms = 100, .retransmit_tries = 3};
    P.filter = drop_all_to_b;
    ck_assert_int_eq(h_start(&P, &cfg), 0);
    ike_initiate(P.s[0].ctx, 0, P.s[0].peer);
    h_pump(&P);
    ike_time_t expect[] = {100, 300, 700};    /* base, then doubling */
    for (unsigned k = 0; k < 3; k++) {
        ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx), expect[k]);
        P.now = expect[k];
        ike_tick(P.s[0].ctx, P.now);
        h_pump(&P);
    }
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_SEND), 4);
    ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx), 1500);
    P.now = 1500;
    ike_tick(P.s[0].ctx, P.now);
    h_pump(&P);
    assert_error(0, IKE_R_TIMEOUT);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_TIMEOUT);
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->retransmits, 3);
    ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx), IKE_TIME_NEVER);
}
END_TEST

static void ids_handshake(struct ike_id ia, struct ike_id ib)
{
    P.s[0].pc.local_id = P.s[1].pc.remote_id = ia;
    P.s[1].pc.local_id = P.s[0].pc.remote_id = ib;
    start();
    h_handshake(&P);
    assert_up();
}

START_TEST(id_fqdn)
{
    ids_handshake((struct ike_id){.type = IKE_ID_FQDN, .len = 11, .data = "a.example.n"},
                  (struct ike_id){.type = IKE_ID_FQDN, .len = 9, .data = "b.example"});
}
END_TEST

START_TEST(id_key_id)
{
    ids_handshake((struct ike_id){.type = IKE_ID_KEY_ID, .len = 3, .data = {0, 1, 2}},
                  (struct ike_id){.type = IKE_ID_KEY_ID, .len = 1, .data = {0xff}});
}
END_TEST

START_TEST(id_ipv4_explicit)
{
    ids_handshake((struct ike_id){.type = IKE_ID_IPV4_ADDR, .len = 4, .data = {192, 0, 2, 1}},
                  (struct ike_id){.type = IKE_ID_IPV4_ADDR, .len = 4, .data = {192, 0, 2, 2}});
}
END_TEST

START_TEST(id_ipv6_default)
{
    h_free(&P);
    h_init(&P, "2001:db8::1", "2001:db8::2");
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa.remote.ss_family, AF_INET6);
}
END_TEST

START_TEST(id_mismatch)
{
    P.s[1].pc.remote_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 3, .data = "who"};
    start();
    h_handshake(&P);
    assert_error(1, IKE_R_INVALID_ID);
    assert_error(0, IKE_R_AUTHENTICATION_FAILED);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_UP), 0);
}
END_TEST

START_TEST(unknown_source_dropped)
{
    h_addr(&P.s[1].pc.remote, "198.51.100.1", 500);
    start();
    h_handshake(&P);
    ck_assert_uint_ge(ike_get_stats(P.s[1].ctx)->drop_unknown_spi, 1);
    assert_error(0, IKE_R_TIMEOUT);
}
END_TEST

/*
 * §2.23: a believes it is 10.0.0.1 but its packets arrive from 192.0.2.1.
 * Both sides see the NAT and say so in IKE_UP. (The port float to 4500 and
 * transport-mode selectors behind a NAT are not done yet: the CHILD SA is refused.)
 */
START_TEST(nat_detected)
{
    h_addr(&P.s[0].pc.local, "10.0.0.1", 500);
    P.s[0].pc.local_id = P.s[1].pc.remote_id =
        (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "a.net"};
    start();
    h_handshake(&P);
    const struct ike_event *a = h_find(&P.s[0], IKE_EV_IKE_UP, 0);
    const struct ike_event *b = h_find(&P.s[1], IKE_EV_IKE_UP, 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(a->u.ike.nat_local && !a->u.ike.nat_remote);
    ck_assert(!b->u.ike.nat_local && b->u.ike.nat_remote);
}
END_TEST

START_TEST(delete_child)
{
    start();
    h_handshake(&P);
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 10000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
    }
    const struct ike_event *a = h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0);
    const struct ike_event *b = h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0);
    ck_assert_uint_eq(a->u.child.sa.spi_in, b->u.child.sa.spi_out);
    ck_assert_uint_eq(a->u.child.reason, IKE_R_DELETED_LOCALLY);
    ck_assert_uint_eq(b->u.child.reason, IKE_R_DELETED_BY_PEER);
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_ERR_STATE);
}
END_TEST

START_TEST(delete_ike_from_responder)
{
    start();
    h_handshake(&P);
    ck_assert_int_eq(ike_delete_ike(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 10000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_DELETED_BY_PEER);
    ck_assert_uint_eq(h_find(&P.s[1], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_DELETED_LOCALLY);
}
END_TEST

START_TEST(peer_remove_tells_the_peer)
{
    start();
    h_handshake(&P);
    ck_assert_int_eq(ike_peer_remove(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 10000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
    }
    ck_assert_str_eq(h_find(&P.s[0], IKE_EV_IKE_DOWN, 0)->peer_name, "site-b");
    ck_assert_int_eq(ike_initiate(P.s[0].ctx, P.now, P.s[0].peer), IKE_ERR_NOPEER);
}
END_TEST

START_TEST(liveness_check)
{
    P.s[0].pc.dpd_interval_s = 10;
    start();
    h_handshake(&P);
    unsigned sends = h_count(&P.s[0], IKE_EV_SEND);
    h_run(&P, P.now + 25000);       /* two idle periods: two checks, both answered */
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_SEND), sends + 2);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 0);
    /* silent from now: dead within three intervals of its last answer, not in one */
    P.filter = drop_all_to_b;
    ike_time_t t0 = P.now;
    h_run(&P, t0 + 9000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 0);
    h_run(&P, t0 + 30000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_DEAD_PEER);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0)->u.child.reason, IKE_R_DEAD_PEER);
    assert_error(0, IKE_R_DEAD_PEER);
}
END_TEST

/* A tampered protected message is dropped and counted; the SA carries on. */
static int flip_last_byte(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    uint8_t *c = (uint8_t *)d;      /* the harness's copy: safe to spoil */
    (void)p; (void)to; (void)arg;
    c[n - 1] ^= 1;
    return 1;
}

START_TEST(tampered_message_dropped)
{
    start();
    h_handshake(&P);
    P.filter = flip_last_byte;
    ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer);
    h_pump(&P);
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_integrity, 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
    P.filter = NULL;
    h_run(&P, P.now + 10000);       /* the retransmission gets through */
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 1);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 1);
}
END_TEST

/* §2.6: past the threshold of half-open SAs the responder wants a cookie first. */
START_TEST(cookie_demanded_under_load)
{
    struct ike_ctx_config cfg = {.cookie_threshold = 1};
    struct h_side c = {0};
    struct sockaddr_storage caddr;
    h_addr(&caddr, "192.0.2.3", 500);
    ck_assert_int_eq(h_start(&P, &cfg), 0);
    /* a third site leaves a half-open SA on b */
    struct ike_peer_config pc = P.s[0].pc, pb = P.s[1].pc;
    pc.local = pb.remote = caddr;
    pc.remote = P.s[1].addr;
    uint32_t id;
    ck_assert_int_eq(ike_peer_add(P.s[1].ctx, &pb, &id), IKE_OK);
    memset(c.rng.seed, 'C', 32);
    struct ike_ctx_config ccfg = {.random = h_random, .random_arg = &c.rng};
    c.ctx = ike_ctx_new(&ccfg);
    ck_assert_int_eq(ike_peer_add(c.ctx, &pc, &id), IKE_OK);
    ck_assert_int_eq(ike_initiate(c.ctx, 0, id), IKE_OK);
    struct ike_event ev;
    ck_assert_int_eq(ike_next_event(c.ctx, &ev), 1);
    ck_assert_int_eq(ike_input(P.s[1].ctx, 0, ev.u.send.data, ev.u.send.len,
                               (struct sockaddr *)&caddr, (struct sockaddr *)&P.s[1].addr), IKE_OK);
    ike_ctx_free(c.ctx);
    while (ike_next_event(P.s[1].ctx, &ev) == 1)
        ;
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_cookie, 1);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_SEND), 3);  /* INIT, INIT + COOKIE, AUTH */
}
END_TEST

START_TEST(api_misuse)
{
    start();
    ck_assert_int_eq(ike_initiate(P.s[0].ctx, 0, 99), IKE_ERR_NOPEER);
    ck_assert_int_eq(ike_delete_ike(P.s[0].ctx, 0, P.s[0].peer), IKE_ERR_STATE);
    ck_assert_int_eq(ike_input(P.s[0].ctx, 0, NULL, 0, (struct sockaddr *)&P.s[1].addr,
                               (struct sockaddr *)&P.s[0].addr), IKE_ERR_DROPPED);
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->drop_truncated, 1);
    struct ike_peer_config bad = P.s[0].pc;
    bad.n_ike = 0;
    uint32_t id;
    ck_assert_int_eq(ike_peer_add(P.s[0].ctx, &bad, &id), IKE_ERR_INVAL);
    ck_assert_ptr_null(ike_ctx_new(&(struct ike_ctx_config){0}));
    ck_assert_str_eq(ike_reason_str(IKE_R_TIMEOUT), "timeout");
    ck_assert_str_eq(ike_event_str(IKE_EV_CHILD_UP), "child-up");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_exchange");
    TCase *tc = tcase_create("handshake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, default_suite);
    tcase_add_loop_test(tc, every_ike_suite, 0, N_CIPHERS * 3);
    tcase_add_loop_test(tc, every_esp_suite, 0, N_CIPHERS * 2);
    tcase_add_test(tc, initiator_order_wins);
    tcase_add_test(tc, wrong_psk);
    tcase_add_test(tc, no_common_ike_proposal);
    tcase_add_test(tc, no_common_esp_proposal);
    tcase_add_test(tc, ts_unacceptable);
    tcase_add_test(tc, invalid_ke_then_success);
    tcase_add_test(tc, invalid_ke_group_not_ours);
    tcase_add_test(tc, lost_packets_are_retransmitted);
    tcase_add_test(tc, duplicates_answered_from_cache);
    tcase_add_test(tc, late_response_is_ignored);
    tcase_add_test(tc, give_up_after_retransmissions);
    tcase_add_test(tc, id_fqdn);
    tcase_add_test(tc, id_key_id);
    tcase_add_test(tc, id_ipv4_explicit);
    tcase_add_test(tc, id_ipv6_default);
    tcase_add_test(tc, id_mismatch);
    tcase_add_test(tc, unknown_source_dropped);
    tcase_add_test(tc, api_misuse);
    tcase_add_test(tc, nat_detected);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("informational");
    tcase_add_checked_fixture(ti, setup, teardown);
    tcase_set_timeout(ti, 60);
    tcase_add_test(ti, delete_child);
    tcase_add_test(ti, delete_ike_from_responder);
    tcase_add_test(ti, peer_remove_tells_the_peer);
    tcase_add_test(ti, liveness_check);
    tcase_add_test(ti, tampered_message_dropped);
    tcase_add_test(ti, cookie_demanded_under_load);
    suite_add_tcase(s, ti);
    return unit_run(s);
}
