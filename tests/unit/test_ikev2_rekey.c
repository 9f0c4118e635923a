/* CREATE_CHILD_SA rekeying of the CHILD SA (RFC 7296 §1.3.3, §2.8), with and without PFS. */
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

/* Both sides rekeyed once: new SPIs and keys mirrored, the old SPIs named, no CHILD_DOWN. */
static void assert_rekeyed(uint16_t pfs)
{
    const struct ike_event *ra = h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 0);
    const struct ike_event *rb = h_find(&P.s[1], IKE_EV_CHILD_REKEYED, 0);
    const struct ike_child_sa *oa = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_ptr_nonnull(ra);
    ck_assert_ptr_nonnull(rb);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_ERROR), 0);
    const struct ike_child_sa *a = &ra->u.child.sa, *b = &rb->u.child.sa;
    ck_assert_uint_eq(a->spi_in, b->spi_out);
    ck_assert_uint_eq(a->spi_out, b->spi_in);
    ck_assert_uint_ne(a->spi_in, oa->spi_in);
    ck_assert_uint_ne(a->spi_out, oa->spi_out);
    ck_assert_uint_eq(ra->u.child.old_spi_in, oa->spi_in);
    ck_assert_uint_eq(ra->u.child.old_spi_out, oa->spi_out);
    ck_assert_uint_eq(rb->u.child.old_spi_in, oa->spi_out);
    ck_assert_mem_eq(a->encr_key_in, b->encr_key_out, a->encr_key_len);
    ck_assert_mem_eq(a->encr_key_out, b->encr_key_in, a->encr_key_len);
    ck_assert_mem_ne(a->encr_key_in, oa->encr_key_in, a->encr_key_len);
    ck_assert_uint_eq(a->suite.dh, pfs);
    ck_assert_uint_eq(b->suite.dh, pfs);
    ck_assert(a->transport && b->transport);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 0);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
}

static void up(void)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_UP), 1);
}

START_TEST(rekey_without_pfs)
{
    up();
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    assert_rekeyed(0);
    /* the new SA is the one a later delete removes */
    ck_assert_int_eq(ike_delete_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    const struct ike_event *d = h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->u.child.sa.spi_in,
                      h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 0)->u.child.sa.spi_in);
}
END_TEST

static const uint16_t groups[] = {14, 15, 16, 19, 20, 21, 31};

START_TEST(rekey_with_pfs)
{
    P.s[0].pc.esp[0].dh = P.s[1].pc.esp[0].dh = groups[_i];
    up();
    /* IKE_AUTH's CHILD SA never uses PFS (§1.2) */
    ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa.suite.dh, 0);
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    assert_rekeyed(groups[_i]);
}
END_TEST

START_TEST(rekey_by_responder)
{
    up();
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    const struct ike_event *ra = h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 0);
    const struct ike_event *rb = h_find(&P.s[1], IKE_EV_CHILD_REKEYED, 0);
    ck_assert_ptr_nonnull(ra);
    ck_assert_ptr_nonnull(rb);
    ck_assert_uint_eq(ra->u.child.sa.spi_in, rb->u.child.sa.spi_out);
    ck_assert_mem_eq(ra->u.child.sa.encr_key_in, rb->u.child.sa.encr_key_out,
                     ra->u.child.sa.encr_key_len);
}
END_TEST

START_TEST(soft_lifetime_rekeys)
{
    P.s[0].pc.child_lifetime_s = P.s[1].pc.child_lifetime_s = 100;
    up();
    const struct ike_child_sa *c = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_uint_le(c->lifetime_soft_s, 90);
    h_run(&P, P.now + 99000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_REKEYED), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_REKEYED), 1);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 0);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
}
END_TEST

/* When the rekey is refused, the hard lifetime removes the SA on both sides. */
START_TEST(hard_lifetime_expires_when_rekey_fails)
{
    P.s[0].pc.child_lifetime_s = P.s[1].pc.child_lifetime_s = 100;
    P.s[0].pc.esp[0].dh = IKE_DH_ECP_256;       /* b does not do PFS: every rekey refused */
    up();
    h_run(&P, P.now + 101000);
    for (int i = 0; i < 2; i++) {
        const struct ike_event *d = h_find(&P.s[i], IKE_EV_CHILD_DOWN, 0);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->u.child.reason, IKE_R_EXPIRED);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
    }
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_ERR_STATE);
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, 999), IKE_ERR_NOPEER);
}
END_TEST

START_TEST(pfs_mismatch_keeps_old_sa)
{
    P.s[0].pc.esp[0].dh = IKE_DH_ECP_256;
    up();
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    const struct ike_event *e = h_find(&P.s[0], IKE_EV_ERROR, 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->u.error.reason, IKE_R_NO_PROPOSAL_CHOSEN);
    ck_assert_ptr_nonnull(h_find(&P.s[1], IKE_EV_ERROR, 0));
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_REKEYED), 0);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 0);
    /* the old CHILD SA still works for a delete */
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 1);
}
END_TEST

/*
 * Both sides rekey at once (§2.8.1; in detail: test_ikev2_collision.c): both
 * new CHILD SAs are announced, the redundant one is taken down again.
 */
START_TEST(simultaneous_child_rekey)
{
    up();
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_CHILD_DOWN, 0)->u.child.reason, IKE_R_REPLACED);
    }
    /* the survivor is the live one on both sides */
    const struct ike_event *gone = h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0);
    const struct ike_event *r0 = h_find(&P.s[1], IKE_EV_CHILD_REKEYED, 0);
    const struct ike_event *r1 = h_find(&P.s[1], IKE_EV_CHILD_REKEYED, 1);
    uint32_t live = r0->u.child.sa.spi_in == gone->u.child.sa.spi_in ? r1->u.child.sa.spi_in
                                                                     : r0->u.child.sa.spi_in;
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 2);
    ck_assert_uint_eq(h_find(&P.s[1], IKE_EV_CHILD_DOWN, 1)->u.child.sa.spi_in, live);
}
END_TEST

/* §2.18: new SPIs and keys, the CHILD SA carries over, the old IKE SA is deleted. */
static void ike_rekey_from(int side)
{
    up();
    const struct ike_event *old = h_find(&P.s[0], IKE_EV_IKE_UP, 0);
    uint64_t old_i = old->u.ike.spi_i;
    ck_assert_int_eq(ike_rekey_ike(P.s[side].ctx, P.now, P.s[side].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_IKE_DOWN, 0)->u.ike.reason, IKE_R_REPLACED);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
    }
    const struct ike_event *na = h_find(&P.s[0], IKE_EV_IKE_UP, 1);
    const struct ike_event *nb = h_find(&P.s[1], IKE_EV_IKE_UP, 1);
    ck_assert_uint_eq(na->u.ike.spi_i, nb->u.ike.spi_i);
    ck_assert_uint_eq(na->u.ike.spi_r, nb->u.ike.spi_r);
    ck_assert_uint_ne(na->u.ike.spi_i, old_i);
    ck_assert(na->u.ike.initiator == (side == 0));
    /* the new IKE SA works: rekey the CHILD SA through it, then delete everything */
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    assert_rekeyed(0);
    ck_assert_int_eq(ike_delete_ike(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
}

START_TEST(ike_rekey_by_initiator)
{
    ike_rekey_from(0);
}
END_TEST

START_TEST(ike_rekey_by_responder)
{
    ike_rekey_from(1);
}
END_TEST

/* Both sides rekey the IKE SA at once (§2.8.2): two new IKE SAs, one kept, the CHILD SA on it. */
START_TEST(simultaneous_ike_rekey)
{
    up();
    ck_assert_int_eq(ike_rekey_ike(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    ck_assert_int_eq(ike_rekey_ike(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 3);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
    }
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_REKEYED), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_REKEYED), 1);
}
END_TEST

START_TEST(ike_lifetime_rekeys)
{
    P.s[0].pc.ike_lifetime_s = P.s[1].pc.ike_lifetime_s = 100;
    up();
    h_run(&P, P.now + 95000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 2);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_UP), 2);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 0);
}
END_TEST

static int drop_from_a(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return to == 1 ? 0 : 1;
}

/*
 * The IKE SA's hard lifetime: its rekey (at 85-90 %) goes unanswered, so at
 * ike_lifetime_s both sides tear it down with its CHILD SA, reason EXPIRED,
 * before the retransmissions would have given up.
 */
START_TEST(ike_hard_lifetime)
{
    P.s[0].pc.ike_lifetime_s = P.s[1].pc.ike_lifetime_s = 100;
    up();
    ike_time_t t0 = 0;     /* the IKE SA came up at fake time 0 */
    P.filter = drop_from_a;
    h_run(&P, t0 + 99999);
    ck_assert_uint_gt(ike_get_stats(P.s[0].ctx)->retransmits, 0);   /* the rekey was tried */
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 0);
    h_run(&P, t0 + 100000);
    for (int i = 0; i < 2; i++) {
        const struct ike_event *d = h_find(&P.s[i], IKE_EV_IKE_DOWN, 0);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->u.ike.reason, IKE_R_EXPIRED);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_CHILD_DOWN, 0)->u.child.reason, IKE_R_EXPIRED);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_ERROR, 0)->u.error.reason, IKE_R_EXPIRED);
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
    }
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 1);
}
END_TEST

/* A successful rekey starts the new IKE SA's lifetime afresh: nothing expires. */
START_TEST(ike_hard_lifetime_renewed_by_rekey)
{
    P.s[0].pc.ike_lifetime_s = P.s[1].pc.ike_lifetime_s = 100;
    up();
    h_run(&P, 250000);      /* up at 0, rekeyed at 85-90 s and 170-180 s */
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 3);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 2);
        ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_IKE_DOWN, 1)->u.ike.reason, IKE_R_REPLACED);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_rekey");
    TCase *tc = tcase_create("child");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rekey_without_pfs);
    tcase_add_loop_test(tc, rekey_with_pfs, 0, sizeof(groups) / sizeof(groups[0]));
    tcase_add_test(tc, rekey_by_responder);
    tcase_add_test(tc, soft_lifetime_rekeys);
    tcase_add_test(tc, hard_lifetime_expires_when_rekey_fails);
    tcase_add_test(tc, pfs_mismatch_keeps_old_sa);
    tcase_add_test(tc, simultaneous_child_rekey);
    tcase_add_test(tc, ike_rekey_by_initiator);
    tcase_add_test(tc, ike_rekey_by_responder);
    tcase_add_test(tc, simultaneous_ike_rekey);
    tcase_add_test(tc, ike_lifetime_rekeys);
    tcase_add_test(tc, ike_hard_lifetime);
    tcase_add_test(tc, ike_hard_lifetime_renewed_by_rekey);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
