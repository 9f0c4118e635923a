/*
 * IKEv1 Main Mode / Aggressive Mode + Quick Mode between two in-process
 * contexts (ike_harness.h): every phase 1 and ESP suite, PFS on and off,
 * Aggressive Mode allowed and refused, wrong PSK, no common proposal, bad
 * HASH, truncated and tampered messages, lost and duplicated packets.
 */
#include "ikev1_harness.h"

START_TEST(main_mode)
{
    start();
    h_handshake(&P);
    assert_up();
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
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
}
END_TEST

START_TEST(lifetimes)
{
    start();
    h_handshake(&P);
    assert_up();
    const struct ike_child_sa *c = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_uint_eq(c->lifetime_hard_s, 3600);
    ck_assert_uint_le(c->lifetime_soft_s, 3240);    /* 10-15 % before (lifetime.c) */
    ck_assert_uint_ge(c->lifetime_soft_s, 3060);
    ck_assert_uint_eq(c->lifetime_hard_kb, 1000000);
    ck_assert_uint_le(c->lifetime_soft_kb, 900000);
    ck_assert_uint_ge(c->lifetime_soft_kb, 850000);
    struct ike_sa_info info;
    ck_assert_uint_eq(ike_peer_sas(P.s[0].ctx, P.s[0].peer, &info, 1), 1);
    ck_assert_uint_eq(info.version, 1);
    ck_assert_uint_eq(info.phase, IKE_PHASE_ESTABLISHED);
    ck_assert_uint_eq(info.child_spi_in, c->spi_in);
    ck_assert_uint_eq(info.hard_expiry, 86400000);
}
END_TEST

/* The smaller lifetime wins: the responder's by RESPONDER-LIFETIME, the initiator's by its offer. */
START_TEST(smaller_lifetime_wins)
{
    P.s[1].pc.child_lifetime_s = 1800;
    P.s[1].pc.child_lifetime_kb = 5000;
    start();
    h_handshake(&P);
    assert_up();
    for (int i = 0; i < 2; i++) {
        const struct ike_child_sa *c = &h_find(&P.s[i], IKE_EV_CHILD_UP, 0)->u.child.sa;
        ck_assert_uint_eq(c->lifetime_hard_s, 1800);
        ck_assert_uint_eq(c->lifetime_hard_kb, 5000);
    }
    h_free(&P);
    setup();
    P.s[0].pc.child_lifetime_s = 900;
    start();
    h_handshake(&P);
    assert_up();
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_CHILD_UP, 0)->u.child.sa.lifetime_hard_s, 900);
}
END_TEST

static const uint16_t encrs[][2] = {{IKE_ENCR_AES_CBC, 128}, {IKE_ENCR_AES_CBC, 256},
                                    {IKE_ENCR_3DES, 0}};
static const uint16_t prfs[] = {IKE_PRF_HMAC_SHA1, IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
                                IKE_PRF_HMAC_SHA2_512};
static const uint16_t groups[] = {2, 14, 15, 19, 20, 21};

/* _i = cipher x hash (3 x 4), each with every group: 72 Main Modes + Quick Modes. */
START_TEST(every_phase1_suite)
{
    struct ike_suite s = {.encr = encrs[_i / 4][0], .key_bits = encrs[_i / 4][1],
                          .prf = prfs[_i % 4], .integ = IKE_INTEG_HMAC_SHA2_256_128};
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

/* RFC 2408 §4.2: the responder takes the first of the initiator's transforms it accepts. */
START_TEST(initiator_order_wins)
{
    struct ike_suite a = v1_ike, b = v1_ike;
    b.prf = IKE_PRF_HMAC_SHA2_512;
    b.dh = IKE_DH_ECP_384;
    P.s[0].pc.ike[0] = b;
    P.s[0].pc.ike[1] = a;
    P.s[0].pc.n_ike = 2;
    P.s[1].pc.ike[0] = a;
    P.s[1].pc.ike[1] = b;
    P.s[1].pc.n_ike = 2;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(h_find(&P.s[1], IKE_EV_IKE_UP, 0)->u.ike.suite.prf, IKE_PRF_HMAC_SHA2_512);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_UP, 0)->u.ike.suite.dh, IKE_DH_ECP_384);
}
END_TEST

START_TEST(no_common_proposal)
{
    P.s[1].pc.ike[0].prf = IKE_PRF_HMAC_SHA2_512;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 0);
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
}
END_TEST

START_TEST(aggressive_mode)
{
    P.s[0].pc.ikev1_aggressive = P.s[1].pc.ikev1_aggressive = true;
    start();
    h_handshake(&P);
    assert_up();
}
END_TEST

/* Aggressive Mode with identities other than the addresses (the usual reason for it). */
START_TEST(aggressive_mode_fqdn)
{
    P.s[0].pc.ikev1_aggressive = P.s[1].pc.ikev1_aggressive = true;
    P.s[0].pc.local_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "a.net"};
    P.s[1].pc.remote_id = P.s[0].pc.local_id;
    P.s[1].pc.local_id = (struct ike_id){.type = IKE_ID_KEY_ID, .len = 3, .data = "key"};
    P.s[0].pc.remote_id = P.s[1].pc.local_id;
    start();
    h_handshake(&P);
    assert_up();
}
END_TEST

START_TEST(aggressive_refused)
{
    P.s[0].pc.ikev1_aggressive = true;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
    ck_assert_uint_gt(ike_get_stats(P.s[1].ctx)->drop_bad_exchange, 0);
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 0);
}
END_TEST

START_TEST(aggressive_wrong_psk)
{
    P.s[0].pc.ikev1_aggressive = P.s[1].pc.ikev1_aggressive = true;
    P.s[1].pc.psk = (const uint8_t *)"wrong";
    P.s[1].pc.psk_len = 5;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_AUTHENTICATION_FAILED);
    assert_error(1, IKE_R_AUTHENTICATION_FAILED);
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 0);
}
END_TEST

START_TEST(id_fqdn)
{
    P.s[0].pc.local_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "a.net"};
    P.s[1].pc.remote_id = P.s[0].pc.local_id;
    start();
    h_handshake(&P);
    assert_up();
}
END_TEST

START_TEST(id_mismatch)
{
    P.s[0].pc.local_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "a.net"};
    P.s[1].pc.remote_id = (struct ike_id){.type = IKE_ID_FQDN, .len = 5, .data = "b.net"};
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_INVALID_ID);
    assert_error(1, IKE_R_INVALID_ID);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_UP), 0);
}
END_TEST

START_TEST(ipv6)
{
    h_free(&P);
    h_init(&P, "2001:db8::1", "2001:db8::2");
    for (int i = 0; i < 2; i++) {
        P.s[i].pc.version = 1;
        P.s[i].pc.ike[0] = v1_ike;
        P.s[i].pc.esp[0] = v1_esp;
    }
    start();
    h_handshake(&P);
    assert_up();
}
END_TEST

static int drop_first_n(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    unsigned *left = arg;
    if (left[to]) {
        left[to]--;
        return 0;
    }
    return 1;
}

START_TEST(lost_packets_are_retransmitted)
{
    for (unsigned k = 0; k < 4; k++) {     /* lose messages 1, 2, 5 or 6 of Main Mode, or QM */
        static unsigned drop[2];
        h_free(&P);
        setup();
        drop[0] = k & 1 ? 2 : 0;
        drop[1] = k & 2 ? 2 : 1;
        P.filter = drop_first_n;
        P.filter_arg = drop;
        start();
        h_handshake(&P);
        assert_up();
        ck_assert_uint_gt(ike_get_stats(P.s[0].ctx)->retransmits, 0);
    }
}
END_TEST

static int twice(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return 2;
}

START_TEST(duplicates_answered_from_cache)
{
    P.filter = twice;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_gt(ike_get_stats(P.s[1].ctx)->cache_replays, 0);
    ck_assert_uint_gt(ike_get_stats(P.s[0].ctx)->cache_replays, 0);
}
END_TEST

static int drop_all_to_b(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return to == 1 ? 0 : 1;
}

START_TEST(give_up_after_retransmissions)
{
    P.filter = drop_all_to_b;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_TIMEOUT);
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->retransmits, 5);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(ike_next_deadline(P.s[0].ctx), IKE_TIME_NEVER);
}
END_TEST

/* Every message cut short (header length telling the truth or not) is dropped and counted. */
static int truncate_once(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    static uint8_t buf[2048];
    if (n > sizeof(buf))
        return 1;
    for (size_t k = 0; k < n; k++) {
        uint64_t before = v1_drops(ike_get_stats(p->s[to].ctx));
        memcpy(buf, d, k);
        if (k >= 28) {
            buf[24] = (uint8_t)(k >> 24);
            buf[25] = (uint8_t)(k >> 16);
            buf[26] = (uint8_t)(k >> 8);
            buf[27] = (uint8_t)k;
        }
        int rc = ike_input(p->s[to].ctx, p->now, buf, k, (const struct sockaddr *)&p->s[!to].addr,
                           (const struct sockaddr *)&p->s[to].addr);
        ck_assert_msg(rc == IKE_ERR_DROPPED, "prefix %zu of %zu accepted", k, n);
        ck_assert_uint_eq(v1_drops(ike_get_stats(p->s[to].ctx)), before + 1);
    }
    return 1;
}

START_TEST(truncated_messages)
{
    P.filter = truncate_once;
    start();
    h_handshake(&P);
    assert_up();
}
END_TEST

/* A bit flipped in a protected message: dropped and counted, the retransmission gets through. */
static int tamper_once(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    int *left = arg;
    static uint8_t buf[2048];
    if (!(n > 28 + 32 && (d[19] & 1) && n <= sizeof(buf) && left[v1_exchange(d, n) == 32]))
        return 1;
    left[v1_exchange(d, n) == 32]--;
    memcpy(buf, d, n);
    buf[n - 20] ^= 0x40;            /* CBC: garbles one block, flips a bit in the next */
    uint64_t before = v1_drops(ike_get_stats(p->s[to].ctx));
    ike_input(p->s[to].ctx, p->now, buf, n, (const struct sockaddr *)&p->s[!to].addr,
              (const struct sockaddr *)&p->s[to].addr);
    ck_assert_uint_eq(v1_drops(ike_get_stats(p->s[to].ctx)), before + 1);
    return 0;
}

START_TEST(tampered_quick_mode_dropped)
{
    static int left[2] = {0, 2};    /* the first two Quick Mode messages */
    P.filter = tamper_once;
    P.filter_arg = left;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_ge(v1_drops(ike_get_stats(P.s[0].ctx)) + v1_drops(ike_get_stats(P.s[1].ctx)),
                      2);
    ck_assert_uint_eq(left[1], 0);
}
END_TEST

/* A damaged message 5 or 6 is dropped (only the same garbage twice means a wrong key). */
START_TEST(tampered_main_mode_dropped)
{
    static int left[2] = {1, 0};
    P.filter = tamper_once;
    P.filter_arg = left;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_uint_eq(left[0], 0);
}
END_TEST

START_TEST(garbage_and_ikev2_dropped)
{
    static const uint8_t junk[64] = {1, 2, 3};
    uint8_t v1hdr[28] = {[8] = 1, [17] = 0x10, [18] = 2, [27] = 28};
    start();
    h_handshake(&P);
    assert_up();
    const struct sockaddr *a = (const struct sockaddr *)&P.s[0].addr;
    const struct sockaddr *b = (const struct sockaddr *)&P.s[1].addr;
    ck_assert_int_eq(ike_input(P.s[1].ctx, P.now, junk, sizeof(junk), a, b), IKE_ERR_DROPPED);
    ck_assert_int_eq(ike_input(P.s[1].ctx, P.now, v1hdr, sizeof(v1hdr), a, b), IKE_ERR_DROPPED);
    ck_assert_uint_ge(ike_get_stats(P.s[1].ctx)->drop_unknown_spi, 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ikev1_exchange");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, main_mode);
    tcase_add_test(tc, wrong_psk);
    tcase_add_test(tc, lifetimes);
    tcase_add_test(tc, smaller_lifetime_wins);
    tcase_add_loop_test(tc, every_phase1_suite, 0, 12);
    tcase_add_test(tc, initiator_order_wins);
    tcase_add_test(tc, no_common_proposal);
    tcase_add_test(tc, aggressive_mode);
    tcase_add_test(tc, aggressive_mode_fqdn);
    tcase_add_test(tc, aggressive_refused);
    tcase_add_test(tc, aggressive_wrong_psk);
    tcase_add_test(tc, id_fqdn);
    tcase_add_test(tc, id_mismatch);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, lost_packets_are_retransmitted);
    tcase_add_test(tc, duplicates_answered_from_cache);
    tcase_add_test(tc, give_up_after_retransmissions);
    tcase_add_test(tc, truncated_messages);
    tcase_add_test(tc, tampered_quick_mode_dropped);
    tcase_add_test(tc, tampered_main_mode_dropped);
    tcase_add_test(tc, garbage_and_ikev2_dropped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
