/*
 * IKEv1 after phase 1: Quick Mode for every ESP suite with and without PFS,
 * several transform sets, refusals, Informational DELETE (IPsec and ISAKMP
 * SAs), DPD (RFC 3706), rekeying of the IPsec SA and of the ISAKMP SA, the
 * soft lifetimes, a restarted peer (INITIAL-CONTACT) and peer removal.
 */
#include "../../ikecore/ikev1_int.h"
#include "ikev1_harness.h"

static const struct ike_suite esps[] = {
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 128, .integ = IKE_INTEG_HMAC_SHA1_96},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 128, .integ = IKE_INTEG_HMAC_SHA2_256_128},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_256_128},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_384_192},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .integ = IKE_INTEG_HMAC_SHA2_512_256},
    {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 128},
    {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256},
    {.encr = IKE_ENCR_3DES, .integ = IKE_INTEG_HMAC_SHA1_96},
};
#define N_ESPS (sizeof(esps) / sizeof(esps[0]))
static const uint16_t pfs[] = {0, 2, 14, 19, 20, 21};
#define N_PFS (sizeof(pfs) / sizeof(pfs[0]))

/* _i = ESP suite x PFS group (none or one of them). */
START_TEST(every_esp_suite)
{
    struct ike_suite s = esps[_i / N_PFS];
    s.dh = pfs[_i % N_PFS];
    P.s[0].pc.esp[0] = P.s[1].pc.esp[0] = s;
    start();
    h_handshake(&P);
    assert_up();
    const struct ike_child_sa *c = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_mem_eq(&c->suite, &s, sizeof(s));
    size_t ek = s.encr == IKE_ENCR_3DES ? 24
              : s.key_bits / 8u + (s.encr == IKE_ENCR_AES_GCM_16 ? 4 : 0);
    ck_assert_uint_eq(c->encr_key_len, ek);
    size_t ik = s.integ == IKE_INTEG_HMAC_SHA1_96 ? 20 : s.integ == IKE_INTEG_HMAC_SHA2_256_128 ? 32
              : s.integ == IKE_INTEG_HMAC_SHA2_384_192 ? 48 : s.integ ? 64 : 0;
    ck_assert_uint_eq(c->integ_key_len, ik);
}
END_TEST

/* PFS changes the keys: the same handshake without it gives others. */
START_TEST(pfs_changes_keys)
{
    uint8_t k[IKE_MAX_KEY];
    start();
    h_handshake(&P);
    assert_up();
    memcpy(k, h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa.encr_key_in, sizeof(k));
    h_free(&P);
    setup();
    P.s[0].pc.esp[0].dh = P.s[1].pc.esp[0].dh = IKE_DH_ECP_256;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_mem_ne(k, h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa.encr_key_in, 32);
}
END_TEST

START_TEST(first_accepted_transform_wins)
{
    P.s[0].pc.esp[0] = esps[6];
    P.s[0].pc.esp[1] = esps[2];
    P.s[0].pc.esp[2] = esps[0];
    P.s[0].pc.n_esp = 3;
    P.s[1].pc.esp[0] = esps[0];
    P.s[1].pc.esp[1] = esps[2];
    P.s[1].pc.n_esp = 2;
    start();
    h_handshake(&P);
    assert_up();
    ck_assert_mem_eq(&h_find(&P.s[1], IKE_EV_CHILD_UP, 0)->u.child.sa.suite, &esps[2],
                     sizeof(esps[2]));
}
END_TEST

/* The ISAKMP SA comes up; the IPsec SA is refused and both sides say why. */
START_TEST(no_common_esp_proposal)
{
    P.s[1].pc.esp[0] = esps[4];
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 0);
    }
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->retransmits, 0);
}
END_TEST

START_TEST(pfs_mismatch)
{
    P.s[0].pc.esp[0].dh = IKE_DH_ECP_256;
    start();
    h_handshake(&P);
    assert_error(0, IKE_R_NO_PROPOSAL_CHOSEN);
    assert_error(1, IKE_R_NO_PROPOSAL_CHOSEN);
}
END_TEST

static void up(void)
{
    start();
    h_handshake(&P);
    assert_up();
}

START_TEST(delete_child)
{
    up();
    const struct ike_child_sa *c = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    uint32_t in = c->spi_in;
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    const struct ike_event *a = h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0);
    const struct ike_event *b = h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0);
    ck_assert(a && b);
    ck_assert_uint_eq(a->u.child.reason, IKE_R_DELETED_LOCALLY);
    ck_assert_uint_eq(b->u.child.reason, IKE_R_DELETED_BY_PEER);
    ck_assert_uint_eq(a->u.child.sa.spi_in, in);
    ck_assert_uint_eq(b->u.child.sa.spi_out, in);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_DOWN), 0);
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_ERR_STATE);
}
END_TEST

START_TEST(delete_ike)
{
    up();
    ck_assert_int_eq(ike_delete_ike(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    for (int i = 0; i < 2; i++) {
        const struct ike_event *d = h_find(&P.s[i], IKE_EV_IKE_DOWN, 0);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->u.ike.reason, i ? IKE_R_DELETED_LOCALLY : IKE_R_DELETED_BY_PEER);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
}
END_TEST

START_TEST(peer_remove)
{
    up();
    ck_assert_int_eq(ike_peer_remove(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0)->u.child.reason,
                      IKE_R_DELETED_BY_PEER);
}
END_TEST

static void assert_rekeyed(unsigned nth)
{
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), nth + 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
    }
    const struct ike_event *a = h_find(&P.s[0], IKE_EV_CHILD_REKEYED, nth);
    const struct ike_event *b = h_find(&P.s[1], IKE_EV_CHILD_REKEYED, nth);
    const struct ike_event *pa = nth ? h_find(&P.s[0], IKE_EV_CHILD_REKEYED, nth - 1)
                                     : h_find(&P.s[0], IKE_EV_CHILD_UP, 0);
    ck_assert_uint_eq(a->u.child.sa.spi_in, b->u.child.sa.spi_out);
    ck_assert_uint_eq(a->u.child.sa.spi_out, b->u.child.sa.spi_in);
    ck_assert_mem_eq(a->u.child.sa.encr_key_in, b->u.child.sa.encr_key_out,
                     a->u.child.sa.encr_key_len);
    ck_assert_uint_eq(a->u.child.old_spi_in, pa->u.child.sa.spi_in);
    ck_assert_uint_eq(a->u.child.old_spi_out, pa->u.child.sa.spi_out);
    ck_assert_uint_eq(b->u.child.old_spi_in, pa->u.child.sa.spi_out);
    ck_assert_uint_ne(a->u.child.sa.spi_in, pa->u.child.sa.spi_in);
    ck_assert_uint_eq(a->u.child.sa.reqid, 42);
}

START_TEST(rekey_child)
{
    P.s[0].pc.esp[0].dh = P.s[1].pc.esp[0].dh = IKE_DH_ECP_256;
    up();
    for (unsigned n = 0; n < 3; n++) {
        ck_assert_int_eq(ike_rekey_child(P.s[n & 1].ctx, P.now, P.s[n & 1].peer), IKE_OK);
        h_run(&P, P.now + 1000);
        if (n & 1) {    /* the responder rekeyed: roles of the new SA are mirrored */
            ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_REKEYED), n + 1);
            ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_REKEYED), n + 1);
            continue;
        }
        assert_rekeyed(n);
    }
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 0);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
}
END_TEST

/* Sends of side 0's Informational exchanges seen so far (filter below). */
static unsigned info_from0;
static int count_info(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)arg;
    info_from0 += to == 1 && v1_exchange(d, n) == 5;
    return 1;
}

/*
 * A rekey's initiator sends on the new SA, and deletes the old one, only
 * IKEV1_DEL_OLD_MS after message 3 (a responder drops the old pair on the
 * DELETE and installs the new one on message 3): CHILD_SWITCH, then DELETE.
 */
START_TEST(rekey_deletes_old_after_a_pause)
{
    up();
    P.filter = count_info;
    info_from0 = 0;
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + IKEV1_DEL_OLD_MS / 2);
    assert_rekeyed(0);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_SWITCH), 0);
    ck_assert_uint_eq(info_from0, 0);
    unsigned before = P.s[0].n_ev;
    h_run(&P, P.now + IKEV1_DEL_OLD_MS);
    const struct ike_event *sw = h_find(&P.s[0], IKE_EV_CHILD_SWITCH, 0);
    ck_assert_ptr_nonnull(sw);
    ck_assert_uint_eq(info_from0, 1);
    /* the switch came before the DELETE went out (the next SEND after it) */
    unsigned k = (unsigned)(sw - P.s[0].ev);
    ck_assert_uint_ge(k, before);
    ck_assert_uint_eq(sw->u.child.sa.spi_in, h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa.spi_in);
    bool send_after = false;
    for (unsigned j = k + 1; j < P.s[0].n_ev; j++)
        send_after |= P.s[0].ev[j].type == IKE_EV_SEND;
    ck_assert(send_after);
    for (unsigned j = before; j < k; j++)
        ck_assert_int_ne(P.s[0].ev[j].type, IKE_EV_SEND);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
}
END_TEST

/* At 85-90 % of its lifetime the initiator makes a new IPsec SA on its own. */
START_TEST(child_soft_lifetime_rekeys)
{
    P.s[0].pc.child_lifetime_s = P.s[1].pc.child_lifetime_s = 100;
    up();
    h_run(&P, P.now + 95000);
    assert_rekeyed(0);
    h_run(&P, P.now + 95000);
    assert_rekeyed(1);
}
END_TEST

/* A new Main Mode before the ISAKMP SA expires; the IPsec SA stays. */
START_TEST(rekey_ike)
{
    P.s[0].pc.ike_lifetime_s = P.s[1].pc.ike_lifetime_s = 1000;
    up();
    uint64_t cky = h_find(&P.s[0], IKE_EV_IKE_UP, 0)->u.ike.spi_i;
    h_run(&P, P.now + 950000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        const struct ike_event *d = h_find(&P.s[i], IKE_EV_IKE_DOWN, 0);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->u.ike.reason, IKE_R_REPLACED);
        ck_assert_uint_eq(d->u.ike.spi_i, cky);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 1);
        ck_assert_uint_eq(ike_peer_sas(P.s[i].ctx, P.s[i].peer, NULL, 0), 1);
    }
    ck_assert_uint_ne(h_find(&P.s[1], IKE_EV_IKE_UP, 1)->u.ike.spi_i, cky);
    /* the IPsec SA now lives under the new ISAKMP SA */
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    assert_rekeyed(0);
}
END_TEST

START_TEST(rekey_ike_command)
{
    up();
    ck_assert_int_eq(ike_rekey_ike(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_REPLACED);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(ike_peer_sas(P.s[i].ctx, P.s[i].peer, NULL, 0), 1);
    }
}
END_TEST

/* The ISAKMP SA's hard lifetime without a rekey (the responder does not rekey). */
START_TEST(ike_hard_lifetime)
{
    P.s[1].pc.ike_lifetime_s = 100;
    P.s[0].pc.ike_lifetime_s = 0;
    up();
    h_run(&P, P.now + 101000);
    ck_assert_uint_ge(h_count(&P.s[1], IKE_EV_IKE_DOWN), 1);
}
END_TEST

/* RFC 3706: R-U-THERE when idle, answered; then the peer goes silent. */
static int drop_all(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return 0;
}

START_TEST(dpd)
{
    P.s[0].pc.dpd_interval_s = P.s[1].pc.dpd_interval_s = 10;
    up();
    h_run(&P, P.now + 60000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
    }
    ck_assert_uint_gt(ike_get_stats(P.s[1].ctx)->rx_packets, 8);
    P.filter = drop_all;    /* dead within three intervals of the last word, not in one */
    ike_time_t t0 = P.now;
    h_run(&P, t0 + 9000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 0);
    h_run(&P, t0 + 30000);
    assert_error(0, IKE_R_DEAD_PEER);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_DEAD_PEER);
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0)->u.child.reason, IKE_R_DEAD_PEER);
}
END_TEST

/* No DPD without the peer's vendor ID or with interval 0: nothing is sent when idle. */
START_TEST(dpd_off)
{
    up();
    uint64_t tx = ike_get_stats(P.s[0].ctx)->tx_packets;
    h_run(&P, P.now + 600000);
    ck_assert_uint_eq(ike_get_stats(P.s[0].ctx)->tx_packets, tx);
}
END_TEST

/* The responder restarts and initiates: INITIAL-CONTACT clears what the other side had. */
START_TEST(peer_restart_initial_contact)
{
    up();
    ck_assert_int_eq(h_restart(&P, 0), 0);
    P.s[1].n_ev = 0;
    h_handshake(&P);
    const struct h_side *b = &P.s[1];
    ck_assert_uint_eq(h_count(b, IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_CHILD_DOWN), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_find(b, IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_REPLACED);
    ck_assert_uint_eq(h_count(b, IKE_EV_CHILD_UP), 1);
    /* removal before installation */
    unsigned down = 0, upi = 0;
    for (unsigned i = 0; i < b->n_ev; i++) {
        if (b->ev[i].type == IKE_EV_CHILD_DOWN)
            down = i;
        if (b->ev[i].type == IKE_EV_CHILD_UP)
            upi = i;
    }
    ck_assert_uint_lt(down, upi);
    ck_assert_uint_eq(ike_peer_sas(P.s[1].ctx, P.s[1].peer, NULL, 0), 1);
}
END_TEST

/* Lost Quick Mode messages: QM1 or QM2 (the initiator retransmits), QM3 (the responder does). */
struct qm_drop {
    unsigned mask, seen;     /* bit k of mask: drop the k-th Quick Mode message */
};

static int drop_qm(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    struct qm_drop *q = arg;
    if (v1_exchange(d, n) != 32)
        return 1;
    unsigned k = q->seen++;
    return k < 32 && (q->mask >> k & 1) ? 0 : 1;
}

/* Quick Mode messages to side 1 after the first one are lost. */
static int drop_qm_after_first(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    unsigned *seen = arg;
    (void)p;
    if (to != 1 || v1_exchange(d, n) != 32)
        return 1;
    return (*seen)++ == 0;
}

/*
 * The responder of a rekey installs the new pair with its message 2: the
 * initiator sends on it once it has read message 2, before message 3 could
 * arrive. Message 3 lost: the responder has the pair all the same.
 */
START_TEST(rekey_responder_installs_with_message_2)
{
    static unsigned seen;
    up();
    seen = 0;
    P.filter = drop_qm_after_first;
    P.filter_arg = &seen;
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    ck_assert_uint_ge(seen, 2);     /* message 3 went out, and was lost */
    assert_rekeyed(0);
}
END_TEST

START_TEST(lost_quick_mode_messages)
{
    static struct qm_drop which;
    which = (struct qm_drop){.mask = 1u << _i};
    P.filter = drop_qm;
    P.filter_arg = &which;
    up();
    ck_assert_uint_gt(ike_get_stats(P.s[_i == 2 ? 1 : 0].ctx)->retransmits, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ikev1_qm");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, every_esp_suite, 0, N_ESPS * N_PFS);
    tcase_add_test(tc, pfs_changes_keys);
    tcase_add_test(tc, first_accepted_transform_wins);
    tcase_add_test(tc, no_common_esp_proposal);
    tcase_add_test(tc, pfs_mismatch);
    tcase_add_test(tc, delete_child);
    tcase_add_test(tc, delete_ike);
    tcase_add_test(tc, peer_remove);
    tcase_add_test(tc, rekey_child);
    tcase_add_test(tc, rekey_deletes_old_after_a_pause);
    tcase_add_test(tc, rekey_responder_installs_with_message_2);
    tcase_add_test(tc, child_soft_lifetime_rekeys);
    tcase_add_test(tc, rekey_ike);
    tcase_add_test(tc, rekey_ike_command);
    tcase_add_test(tc, ike_hard_lifetime);
    tcase_add_test(tc, dpd);
    tcase_add_test(tc, dpd_off);
    tcase_add_test(tc, peer_restart_initial_contact);
    tcase_add_loop_test(tc, lost_quick_mode_messages, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
