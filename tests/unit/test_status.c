/* ikecore/status.c: what ike_peer_sas reports through a handshake, a rekey and a delete. */
#include "ike_harness.h"
#include "unit.h"

static struct h_pair P;

static void setup(void)
{
    h_init(&P, "192.0.2.1", "192.0.2.2");
    ck_assert_int_eq(h_start(&P, NULL), 0);
    P.now = 5000; /* so "0: not yet" cannot pass for a time */
}

static void teardown(void)
{
    h_free(&P);
}

static unsigned sas(int side, struct ike_sa_info *out, unsigned max)
{
    return ike_peer_sas(P.s[side].ctx, P.s[side].peer, out, max);
}

START_TEST(connecting_then_established)
{
    struct ike_sa_info a[4], b[4];
    ck_assert_uint_eq(sas(0, a, 4), 0);
    P.filter = h_hold_all; /* the request stays on the wire: side 0 is half-way */
    ike_initiate(P.s[0].ctx, P.now, P.s[0].peer);
    h_pump(&P);
    ck_assert_uint_eq(sas(0, a, 4), 1);
    ck_assert_uint_eq(a[0].phase, IKE_PHASE_CONNECTING);
    ck_assert_str_eq(ike_phase_str(a[0].phase), "CONNECTING");
    ck_assert_uint_eq(a[0].established, 0);
    P.filter = NULL;
    h_release(&P);
    h_run(&P, P.now + 60000);
    ck_assert_uint_eq(sas(0, a, 4), 1);
    ck_assert_uint_eq(sas(1, b, 4), 1);
    ck_assert_uint_eq(a[0].phase, IKE_PHASE_ESTABLISHED);
    ck_assert_uint_eq(b[0].phase, IKE_PHASE_ESTABLISHED);
    ck_assert(a[0].initiator && !b[0].initiator);
    ck_assert_uint_eq(a[0].version, 2);
    ck_assert_uint_eq(a[0].spi_i, b[0].spi_i);
    ck_assert_uint_eq(a[0].spi_r, b[0].spi_r);
    ck_assert_uint_ne(a[0].child_spi_in, 0);
    ck_assert_uint_eq(a[0].child_spi_in, b[0].child_spi_out);
    ck_assert_uint_eq(a[0].child_spi_out, b[0].child_spi_in);
    ck_assert_uint_eq(a[0].suite.dh, IKE_DH_ECP_384);
    ck_assert_uint_ge(a[0].established, 5000);
    ck_assert_uint_ge(a[0].established, a[0].created);
    /* The CHILD SA the event announced is the one listed. */
    const struct ike_event *up = h_find(&P.s[0], IKE_EV_CHILD_UP, 0);
    ck_assert_uint_eq(up->u.child.sa.spi_in, a[0].child_spi_in);
}
END_TEST

START_TEST(rekey_moves_the_child_and_delete_empties)
{
    struct ike_sa_info a[4];
    h_handshake(&P);
    ck_assert_uint_eq(sas(0, a, 4), 1);
    uint32_t old_in = a[0].child_spi_in;
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 60000);
    ck_assert_uint_eq(sas(0, a, 4), 1);
    ck_assert_uint_ne(a[0].child_spi_in, old_in);
    ck_assert_uint_ne(a[0].child_spi_in, 0);
    ck_assert_int_eq(ike_delete_ike(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 60000);
    ck_assert_uint_eq(sas(0, a, 4), 0);
    ck_assert_uint_eq(sas(1, a, 4), 0);
    /* max 0 only counts; an unknown peer has none. */
    ck_assert_uint_eq(ike_peer_sas(P.s[0].ctx, 999, a, 4), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("ikev2");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, connecting_then_established);
    tcase_add_test(tc, rekey_moves_the_child_and_delete_empties);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
