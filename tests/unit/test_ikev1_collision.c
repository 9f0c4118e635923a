/*
 * ikecore/ikev1_collision.c: both sides start a Quick Mode rekey at once
 * (both kernels at the same kilobyte limit). Both new pairs are announced
 * as replacing the old one, the same one is redundant on both sides and
 * goes (CHILD_DOWN, REPLACED), and both keep the same survivor, whichever
 * side's nonces win.
 */
#include "ikev1_harness.h"

#define SEEDS 8

/* Exactly one IPsec SA pair per side, the same crosswise, with the same keys; a's. */
static const struct ike_child_sa *assert_one_child(void)
{
    const struct ike_child_sa *a, *b;
    ck_assert_uint_eq(h_live_children(&P.s[0], &a), 1);
    ck_assert_uint_eq(h_live_children(&P.s[1], &b), 1);
    ck_assert_uint_eq(a->spi_in, b->spi_out);
    ck_assert_uint_eq(a->spi_out, b->spi_in);
    ck_assert_mem_eq(a->encr_key_in, b->encr_key_out, a->encr_key_len);
    ck_assert_mem_eq(a->encr_key_out, b->encr_key_in, a->encr_key_len);
    return a;
}

/* Both sides' Quick Mode requests are on the wire before either arrives. */
static void cross(void)
{
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    P.filter = h_hold_all;
    h_pump(&P);
    ck_assert_uint_eq(P.n_held, 2);
    P.filter = NULL;
    h_release(&P);
    h_run(&P, P.now + 5000);
}

START_TEST(quick_modes_cross)
{
    unsigned a_kept_own = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        if (seed) {
            teardown();
            setup();
        }
        P.s[0].rng.seed[1] = P.s[1].rng.seed[1] = (uint8_t)seed;
        start();
        h_handshake(&P);
        assert_up();
        const struct ike_child_sa *orig = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
        cross();
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 2);
            for (unsigned n = 0; n < 2; n++) {  /* both replace the pair both rekeyed */
                const struct ike_event *r = h_find(&P.s[i], IKE_EV_CHILD_REKEYED, n);
                ck_assert_uint_eq(r->u.child.old_spi_in, i ? orig->spi_out : orig->spi_in);
                ck_assert_uint_eq(r->u.child.old_spi_out, i ? orig->spi_in : orig->spi_out);
            }
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
            ck_assert_uint_eq(h_find(&P.s[i], IKE_EV_CHILD_DOWN, 0)->u.child.reason,
                              IKE_R_REPLACED);
        }
        const struct ike_child_sa *da = &h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0)->u.child.sa;
        const struct ike_child_sa *db = &h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0)->u.child.sa;
        ck_assert_uint_eq(da->spi_in, db->spi_out);     /* the same redundant pair */
        const struct ike_child_sa *kept = assert_one_child();
        /* a's first CHILD_REKEYED is its own Quick Mode's (message 2 before the peer's 3) */
        a_kept_own += kept->spi_in == h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 0)->u.child.sa.spi_in;
        /* the survivor is the one both rekey next */
        ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
        h_run(&P, P.now + 5000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 3);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        }
        ck_assert_uint_eq(h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 2)->u.child.old_spi_in,
                          kept->spi_in);
        assert_one_child();
    }
    ck_assert_uint_gt(a_kept_own, 0);       /* either side's nonces may win */
    ck_assert_uint_lt(a_kept_own, SEEDS);
}
END_TEST

/* One after the other (the second starts once the first is in): no collision, no CHILD_DOWN. */
START_TEST(quick_modes_in_turn)
{
    start();
    h_handshake(&P);
    assert_up();
    for (unsigned n = 0; n < 4; n++) {
        ck_assert_int_eq(ike_rekey_child(P.s[n & 1].ctx, P.now, P.s[n & 1].peer), IKE_OK);
        h_run(&P, P.now + 1000);
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 4);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
    }
    assert_one_child();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ikev1_collision");
    TCase *tc = tcase_create("quick_mode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, quick_modes_cross);
    tcase_add_test(tc, quick_modes_in_turn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
