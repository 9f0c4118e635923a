/*
 * Exchanges that cross (ikecore/ikev2_collision.c): simultaneous CHILD SA and
 * IKE SA rekeys (RFC 7296 §2.8.1, §2.8.2), a CHILD rekey crossing an IKE
 * rekey and TEMPORARY_FAILURE retries (§2.25), both sides initiating at once,
 * and a peer that restarts (INITIAL_CONTACT, §2.4). Each collision runs
 * under several random streams so that each side wins the nonce rule.
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

#define SEEDS 8

/* A fresh pair whose random streams depend on seed. */
static void reseed(unsigned seed)
{
    h_free(&P);
    setup();
    P.s[0].rng.seed[1] = P.s[1].rng.seed[1] = (uint8_t)seed;
    ck_assert_int_eq(h_start(&P, NULL), 0);
}

static void up(unsigned seed)
{
    reseed(seed);
    h_handshake(&P);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_UP), 1);
}

typedef int (*command)(struct ike_ctx *, ike_time_t, uint32_t);

/* Both commands issued before either side sees a packet; two packets held, then released. */
static void cross_with(command cmd_a, command cmd_b, h_filter hold)
{
    ck_assert_int_eq(cmd_a(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    ck_assert_int_eq(cmd_b(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    P.filter = hold;
    h_pump(&P);
    ck_assert_uint_eq(P.n_held, 2);
    P.filter = NULL;
    h_release(&P);
}

/* The requests cross. */
static void cross(command cmd_a, command cmd_b)
{
    cross_with(cmd_a, cmd_b, h_hold_all);
}

static const struct ike_child_sa *live_child(const struct h_side *s)
{
    const struct ike_child_sa *c;
    return h_live_children(s, &c) == 1 ? c : NULL;
}

/* Exactly one live CHILD SA per side, the same pair crosswise, the same keys. */
static void assert_one_child(void)
{
    const struct ike_child_sa *a = live_child(&P.s[0]), *b = live_child(&P.s[1]);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(a->spi_in, b->spi_out);
    ck_assert_uint_eq(a->spi_out, b->spi_in);
    ck_assert_mem_eq(a->encr_key_in, b->encr_key_out, a->encr_key_len);
    ck_assert_mem_eq(a->encr_key_out, b->encr_key_in, a->encr_key_len);
}

/* The IKE SA a side brought up and never took down; NULL unless exactly one. */
static const struct ike_event *live_ike(const struct h_side *s)
{
    const struct ike_event *found = NULL;
    for (unsigned i = 0; i < s->n_ev; i++) {
        const struct ike_event *e = &s->ev[i];
        if (e->type != IKE_EV_IKE_UP)
            continue;
        bool down = false;
        for (unsigned k = i + 1; k < s->n_ev; k++)
            down |= s->ev[k].type == IKE_EV_IKE_DOWN && s->ev[k].u.ike.spi_i == e->u.ike.spi_i &&
                    s->ev[k].u.ike.spi_r == e->u.ike.spi_r;
        if (!down && found)
            return NULL;
        if (!down)
            found = e;
    }
    return found;
}

static void assert_one_ike(void)
{
    const struct ike_event *a = live_ike(&P.s[0]), *b = live_ike(&P.s[1]);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(a->u.ike.spi_i, b->u.ike.spi_i);
    ck_assert_uint_eq(a->u.ike.spi_r, b->u.ike.spi_r);
    ck_assert(a->u.ike.initiator != b->u.ike.initiator);
}

static void assert_downs_replaced(int side)
{
    for (unsigned k = 0; k < P.s[side].n_ev; k++) {
        const struct ike_event *e = &P.s[side].ev[k];
        if (e->type == IKE_EV_CHILD_DOWN)
            ck_assert_uint_eq(e->u.child.reason, IKE_R_REPLACED);
        if (e->type == IKE_EV_IKE_DOWN)
            ck_assert_uint_eq(e->u.ike.reason, IKE_R_REPLACED);
    }
}

/* The survivor works, and no leftover SA is tracked: delete it all, nothing stays. */
static void assert_usable_then_clean(void)
{
    unsigned rk0 = h_count(&P.s[0], IKE_EV_CHILD_REKEYED);
    /* a follow-up rekey is refused (TEMPORARY_FAILURE) while any old or redundant SA is left */
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_pump(&P);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_REKEYED), rk0 + 1);
    assert_one_child();
    h_run(&P, P.now + 1000);
    ck_assert_int_eq(ike_delete_ike(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 1000);
    for (int i = 0; i < 2; i++) {
        const struct ike_child_sa *c;
        ck_assert_uint_eq(h_live_children(&P.s[i], &c), 0);
        ck_assert_ptr_null(live_ike(&P.s[i]));
        ck_assert_uint_eq(ike_next_deadline(P.s[i].ctx), IKE_TIME_NEVER);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
    }
}

/*
 * §2.8.1: both rekeys complete, both new SAs are announced (CHILD_REKEYED,
 * naming the old SPIs), the redundant one goes (CHILD_DOWN, REPLACED).
 */
START_TEST(child_rekeys_cross)
{
    unsigned a_won = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        up(seed);
        const struct ike_child_sa *orig = &h_find(&P.s[0], IKE_EV_CHILD_UP, 0)->u.child.sa;
        cross(ike_rekey_child, ike_rekey_child);
        h_run(&P, P.now + 1000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
            for (unsigned n = 0; n < 2; n++) {
                const struct ike_event *r = h_find(&P.s[i], IKE_EV_CHILD_REKEYED, n);
                ck_assert_uint_eq(r->u.child.old_spi_in, i ? orig->spi_out : orig->spi_in);
                ck_assert_uint_eq(r->u.child.old_spi_out, i ? orig->spi_in : orig->spi_out);
            }
            assert_downs_replaced(i);
        }
        const struct ike_child_sa *da = &h_find(&P.s[0], IKE_EV_CHILD_DOWN, 0)->u.child.sa;
        const struct ike_child_sa *db = &h_find(&P.s[1], IKE_EV_CHILD_DOWN, 0)->u.child.sa;
        ck_assert_uint_eq(da->spi_in, db->spi_out);     /* the same redundant SA */
        assert_one_child();
        /* a's second CHILD_REKEYED is its own exchange's SA */
        a_won += live_child(&P.s[0])->spi_in ==
                 h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 1)->u.child.sa.spi_in;
        assert_usable_then_clean();
    }
    ck_assert_uint_gt(a_won, 0);
    ck_assert_uint_lt(a_won, SEEDS);
}
END_TEST

/* §2.8.2: both new IKE SAs made, the redundant one and the old one deleted, the CHILD SA kept. */
START_TEST(ike_rekeys_cross)
{
    unsigned a_won = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        up(seed);
        cross(ike_rekey_ike, ike_rekey_ike);
        h_run(&P, P.now + 1000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 3);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 0);
            assert_downs_replaced(i);
        }
        assert_one_ike();
        a_won += live_ike(&P.s[0])->u.ike.initiator;
        assert_one_child();
        assert_usable_then_clean();
    }
    ck_assert_uint_gt(a_won, 0);
    ck_assert_uint_lt(a_won, SEEDS);
}
END_TEST

/*
 * A CHILD rekey crossing an IKE rekey: the IKE rekey is answered
 * TEMPORARY_FAILURE (§2.25.1), the CHILD rekey completes, the IKE rekey is
 * retried after a random delay (§2.25) and then succeeds; nothing is lost.
 */
START_TEST(child_rekey_crosses_ike_rekey)
{
    for (unsigned seed = 0; seed < 4; seed++) {
        up(seed);
        if (_i == 0)
            cross(ike_rekey_ike, ike_rekey_child);
        else
            cross(ike_rekey_child, ike_rekey_ike);
        int ike_side = _i;
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 1);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 1);   /* not yet: retried later */
        }
        ck_assert_uint_gt(ike_next_deadline(P.s[ike_side].ctx), P.now + 999);
        ck_assert_uint_le(ike_next_deadline(P.s[ike_side].ctx), P.now + 5000);
        h_run(&P, P.now + 6000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        }
        ck_assert(live_ike(&P.s[ike_side])->u.ike.initiator);
        assert_one_ike();
        assert_one_child();
        assert_usable_then_clean();
    }
}
END_TEST

/* Drops the initiator's DELETE of the old CHILD SA while armed. */
static int hold_deletes_from_a(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return to == 1 && h_exchange(d, n) == 37 && !h_is_response(d, n) ? -1 : 1;
}

/* §2.25.1: a rekey of an SA whose predecessor is still being deleted gets TEMPORARY_FAILURE. */
START_TEST(temporary_failure_is_retried)
{
    up(0);
    ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    P.filter = hold_deletes_from_a;
    h_pump(&P);
    ck_assert_uint_eq(P.n_held, 1);
    ck_assert_int_eq(ike_rekey_child(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_pump(&P);
    P.filter = NULL;
    h_release(&P);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_REKEYED), 1);     /* refused, for now */
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_ERROR), 0);
    ike_time_t t = P.now;
    ck_assert_uint_ge(ike_next_deadline(P.s[1].ctx), t + 1000);
    h_run(&P, t + 5000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
    }
    assert_one_child();
    assert_usable_then_clean();
}
END_TEST

/* Holds b's rekey request and a's DELETE: a finishes first, then b's request arrives. */
static int hold_b_request_a_delete(struct h_pair *p, int to, const uint8_t *d, size_t n,
                                   void *arg)
{
    if (h_is_response(d, n))
        return 1;
    if ((to == 0 && h_exchange(d, n) == 36) || (to == 1 && h_exchange(d, n) == 37))
        return -1;
    return 1;
}

/*
 * Only b sees the collision: a's rekey is done and its old SA being deleted
 * when b's request for that old SA arrives, so a answers TEMPORARY_FAILURE
 * (§2.25.1, §2.25.2; §2.8.2's one-sided case). Nothing redundant is made,
 * b does not retry, a's new SA is the one.
 */
START_TEST(one_sided_collision)
{
    up(0);
    if (_i == 0)
        cross_with(ike_rekey_child, ike_rekey_child, hold_b_request_a_delete);
    else
        cross_with(ike_rekey_ike, ike_rekey_ike, hold_b_request_a_delete);
    h_run(&P, P.now + 10000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_REKEYED), _i == 0 ? 1 : 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 0);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), _i == 0 ? 1 : 2);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), _i == 0 ? 0 : 1);
    }
    if (_i == 1)
        ck_assert(live_ike(&P.s[0])->u.ike.initiator);
    assert_one_ike();
    assert_one_child();
    assert_usable_then_clean();
}
END_TEST

static int hold_rekey_answers_to_a(struct h_pair *p, int to, const uint8_t *d, size_t n,
                                   void *arg)
{
    return to == 0 && h_exchange(d, n) == 36 && h_is_response(d, n) ? -1 : 1;
}

/*
 * §2.8.1 / §2.8.2 with reordering: the answer to a's rekey comes late, after
 * b has settled the collision (deleting its redundant SA, or the old one).
 * The same single CHILD SA must survive either way.
 */
START_TEST(rekeys_cross_answer_late)
{
    command cmd = _i ? ike_rekey_ike : ike_rekey_child;
    unsigned a_won = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        up(seed);
        ck_assert_int_eq(cmd(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
        ck_assert_int_eq(cmd(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
        P.filter = h_hold_all;
        h_pump(&P);
        P.filter = hold_rekey_answers_to_a;
        h_release(&P);
        ck_assert_uint_eq(P.n_held, 1);
        P.filter = NULL;
        h_release(&P);
        h_run(&P, P.now + 60000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), _i ? 0 : 1);
            assert_downs_replaced(i);
        }
        assert_one_ike();
        assert_one_child();
        if (_i)
            a_won += live_ike(&P.s[0])->u.ike.initiator;
        else    /* a's last CHILD_REKEYED is its own exchange's SA */
            a_won += live_child(&P.s[0])->spi_in ==
                     h_find(&P.s[0], IKE_EV_CHILD_REKEYED, 1)->u.child.sa.spi_in;
        assert_usable_then_clean();
    }
    ck_assert_uint_gt(a_won, 0);
    ck_assert_uint_lt(a_won, SEEDS);
}
END_TEST

/*
 * Both sides initiate at once (two boxes booting together): two IKE SAs and
 * two CHILD SAs, of which the pair with the lowest IKE_SA_INIT nonce goes,
 * deleted by its initiator; then only liveness traffic.
 */
START_TEST(both_initiate)
{
    unsigned a_won = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        reseed(seed);
        ck_assert_int_eq(ike_initiate(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
        ck_assert_int_eq(ike_initiate(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
        h_run(&P, P.now + 1000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_UP), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
            assert_downs_replaced(i);
            ck_assert_uint_eq(ike_get_stats(P.s[i].ctx)->retransmits, 0);
            ck_assert_uint_eq(ike_get_stats(P.s[i].ctx)->drop_unknown_spi, 0);
        }
        assert_one_ike();
        assert_one_child();
        a_won += live_ike(&P.s[0])->u.ike.initiator;
        /* idle: no exchange at all for ten minutes (no liveness configured) */
        unsigned sends[2] = {h_count(&P.s[0], IKE_EV_SEND), h_count(&P.s[1], IKE_EV_SEND)};
        h_run(&P, P.now + 600000);
        ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_SEND), sends[0]);
        ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_SEND), sends[1]);
        assert_usable_then_clean();
    }
    ck_assert_uint_gt(a_won, 0);
    ck_assert_uint_lt(a_won, SEEDS);
}
END_TEST

/* Drops the first packet to a: b's IKE_SA_INIT request (a lost packet at boot). */
static int drop_first_to_a(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    unsigned *dropped = arg;
    return to == 0 && (*dropped)++ == 0 ? 0 : 1;
}

/*
 * Both initiate, b's first packet is lost: a's SA is up on both sides before
 * b's retransmitted IKE_SA_INIT arrives. Neither IKE_AUTH carries
 * INITIAL_CONTACT then (each side has an SA), and the nonce rule settles it.
 */
START_TEST(both_initiate_first_packet_lost)
{
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        reseed(seed);
        unsigned dropped = 0;
        P.filter = drop_first_to_a;
        P.filter_arg = &dropped;
        ike_initiate(P.s[0].ctx, P.now, P.s[0].peer);
        ike_initiate(P.s[1].ctx, P.now, P.s[1].peer);
        h_pump(&P);
        ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 1);
        h_run(&P, P.now + 10000);
        ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->retransmits, 1);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_UP), 2);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
            assert_downs_replaced(i);
        }
        assert_one_ike();
        assert_one_child();
        assert_usable_then_clean();
    }
}
END_TEST

/* Holds b's IKE_SA_INIT request and a's CREATE_CHILD_SA request. */
static int hold_b_init_a_rekey(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    if (h_is_response(d, n))
        return 1;
    return (to == 0 && h_exchange(d, n) == 34) || (to == 1 && h_exchange(d, n) == 36) ? -1 : 1;
}

/*
 * The duplicate is found while a request is out on the redundant SA (a's
 * DELETE of the CHILD SA its rekey replaced): its DELETE waits for that.
 */
START_TEST(duplicate_found_while_request_out)
{
    unsigned a_lost = 0;
    for (unsigned seed = 0; seed < SEEDS; seed++) {
        reseed(seed);
        P.filter = hold_b_init_a_rekey;
        ike_initiate(P.s[0].ctx, P.now, P.s[0].peer);
        ike_initiate(P.s[1].ctx, P.now, P.s[1].peer);
        h_pump(&P);
        ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 1);
        ck_assert_int_eq(ike_rekey_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
        h_pump(&P);
        ck_assert_uint_eq(P.n_held, 2);
        P.filter = NULL;
        h_release(&P);
        h_run(&P, P.now + 10000);
        for (int i = 0; i < 2; i++) {
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_ERROR), 0);
            ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
            assert_downs_replaced(i);
        }
        assert_one_ike();
        assert_one_child();
        a_lost += !live_ike(&P.s[0])->u.ike.initiator;
        assert_usable_then_clean();
    }
    ck_assert_uint_gt(a_lost, 0);
}
END_TEST

static int drop_informational_requests(struct h_pair *p, int to, const uint8_t *d, size_t n,
                                       void *arg)
{
    return h_exchange(d, n) == 37 && !h_is_response(d, n) ? 0 : 1;
}

/*
 * The DELETE of the redundant IKE SA never arrives: its initiator gives up
 * on it after the retransmissions, the responder drops it by itself.
 */
START_TEST(redundant_delete_lost)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    P.filter = drop_informational_requests;
    ike_initiate(P.s[0].ctx, P.now, P.s[0].peer);
    ike_initiate(P.s[1].ctx, P.now, P.s[1].peer);
    h_run(&P, P.now + 29000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN) + h_count(&P.s[1], IKE_EV_IKE_DOWN), 0);
    h_run(&P, P.now + 60000);
    P.filter = NULL;
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_IKE_DOWN), 1);
        ck_assert_uint_eq(h_count(&P.s[i], IKE_EV_CHILD_DOWN), 1);
        assert_downs_replaced(i);
    }
    assert_one_ike();
    assert_one_child();
    assert_usable_then_clean();
}
END_TEST

/* With liveness checks on, the idle period carries only those: one exchange per interval. */
START_TEST(both_initiate_then_only_liveness)
{
    P.s[0].pc.dpd_interval_s = P.s[1].pc.dpd_interval_s = 30;
    ck_assert_int_eq(h_start(&P, NULL), 0);
    ike_initiate(P.s[0].ctx, P.now, P.s[0].peer);
    ike_initiate(P.s[1].ctx, P.now, P.s[1].peer);
    h_run(&P, P.now + 1000);
    assert_one_ike();
    unsigned sends = h_count(&P.s[0], IKE_EV_SEND) + h_count(&P.s[1], IKE_EV_SEND);
    h_run(&P, P.now + 300000);
    unsigned more = h_count(&P.s[0], IKE_EV_SEND) + h_count(&P.s[1], IKE_EV_SEND) - sends;
    ck_assert_uint_gt(more, 0);
    ck_assert_uint_le(more, 2 * 2 * (300 / 30 + 1));    /* request + response, each side */
    assert_one_ike();
    assert_one_child();
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_ERROR), 0);
}
END_TEST

/*
 * §2.4: a side restarts and initiates; its INITIAL_CONTACT makes the other
 * drop the stale SAs at once (CHILD_DOWN then IKE_DOWN, REPLACED), before
 * the new CHILD SA is announced.
 */
START_TEST(restarted_peer_initial_contact)
{
    int rebooted = _i, other = !_i;
    up(0);
    h_run(&P, P.now + 60000);
    ck_assert_int_eq(h_restart(&P, rebooted), 0);
    ck_assert_int_eq(ike_initiate(P.s[rebooted].ctx, P.now, P.s[rebooted].peer), IKE_OK);
    h_pump(&P);         /* no timer runs: no liveness check is involved */
    const struct h_side *o = &P.s[other];
    ck_assert_uint_eq(h_count(o, IKE_EV_IKE_UP), 2);
    ck_assert_uint_eq(h_count(o, IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_count(o, IKE_EV_CHILD_DOWN), 1);
    ck_assert_uint_eq(h_count(o, IKE_EV_CHILD_UP), 2);
    assert_downs_replaced(other);
    const struct ike_event *d = h_find(o, IKE_EV_CHILD_DOWN, 0);
    ck_assert(d < h_find(o, IKE_EV_CHILD_UP, 1));   /* removed before the new one comes */
    ck_assert_uint_eq(d->u.child.sa.spi_in, h_find(o, IKE_EV_CHILD_UP, 0)->u.child.sa.spi_in);
    ck_assert_uint_eq(h_count(&P.s[rebooted], IKE_EV_IKE_DOWN), 0);
    assert_one_ike();
    assert_one_child();
    ck_assert(live_ike(&P.s[rebooted])->u.ike.initiator);
    assert_usable_then_clean();
}
END_TEST

static int drop_to_a(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    return to == 0 ? 0 : 1;
}

/*
 * b loses its SAs without restarting (its peer is removed and added again,
 * the DELETE is lost) and initiates: with no SA left it sends
 * INITIAL_CONTACT too, and a drops the stale ones at once.
 */
START_TEST(lost_sa_initial_contact)
{
    up(0);
    h_run(&P, P.now + 60000);
    P.filter = drop_to_a;
    ck_assert_int_eq(ike_peer_remove(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_pump(&P);
    P.filter = NULL;
    ck_assert_int_eq(ike_peer_add(P.s[1].ctx, &P.s[1].pc, &P.s[1].peer), IKE_OK);
    P.s[1].n_ev = 0;
    ck_assert_int_eq(ike_initiate(P.s[1].ctx, P.now, P.s[1].peer), IKE_OK);
    h_pump(&P);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_DOWN), 1);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_DOWN), 1);
    assert_downs_replaced(0);
    assert_one_ike();
    assert_one_child();
    assert_usable_then_clean();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_collision");
    TCase *tc = tcase_create("collision");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, child_rekeys_cross);
    tcase_add_test(tc, ike_rekeys_cross);
    tcase_add_loop_test(tc, rekeys_cross_answer_late, 0, 2);
    tcase_add_loop_test(tc, child_rekey_crosses_ike_rekey, 0, 2);
    tcase_add_test(tc, temporary_failure_is_retried);
    tcase_add_loop_test(tc, one_sided_collision, 0, 2);
    tcase_add_test(tc, both_initiate);
    tcase_add_test(tc, both_initiate_first_packet_lost);
    tcase_add_test(tc, duplicate_found_while_request_out);
    tcase_add_test(tc, redundant_delete_lost);
    tcase_add_test(tc, both_initiate_then_only_liveness);
    tcase_add_loop_test(tc, restarted_peer_initial_contact, 0, 2);
    tcase_add_test(tc, lost_sa_initial_contact);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
