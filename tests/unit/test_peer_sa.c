/*
 * tunneld/peer_sa.c for two sites, each with a fake kernel, on a fake clock:
 * make before break through a rekey and through two that cross (RFC 7296
 * §2.8.1). The CHILD events come in the order and at the moments ikecore
 * emits them (ikecore.h), and are handled as ike_events.c does. At every
 * millisecond each kernel sends on its newest outbound state (as the kernel's
 * state lookup picks it), and the other kernel must hold that SPI inbound:
 * otherwise a packet would be lost.
 */
#include <string.h>

#include "daemon.h"
#include "nat.h"
#include "unit.h"

#define GRACE_MS 10000  /* ike_events.c REKEY_GRACE_MS */
#define D 20            /* one way through the WAN, ms */

/* --- fakes: the kernel's ESP states, the loop's clock and timers, the rest -------- */

struct fake_state {
    bool out;
    uint32_t spi;
};
struct kernel {
    struct fake_state st[16]; /* in the order added */
    unsigned n;
};
static struct kernel kern[2];
static uint64_t now;
static struct loop_timer *timers[8];
static unsigned n_timers, warnings;

uint64_t loop_now_ms(void)
{
    return now;
}

void loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t deadline_ms)
{
    t->deadline_ms = deadline_ms;
    for (unsigned i = 0; i < n_timers; i++)
        if (timers[i] == t)
            return;
    ck_assert_uint_lt(n_timers, 8);
    timers[n_timers++] = t;
}

void log_msg(const struct logger *lg, enum log_level lvl, const char *peer, const char *fmt, ...)
{
    warnings += lvl <= LOG_L_WARNING;
}

void daemon_ike_drain(struct daemon *d)
{
}

int ike_rekey_child(struct ike_ctx *ctx, ike_time_t t, uint32_t peer_id)
{
    return IKE_OK;
}

unsigned nat_encap_plan(const struct peer_sa *sa, unsigned n, uint16_t ours, uint16_t theirs,
                        struct nat_encap_update *out)
{
    return 0;
}

int xfrm_state_set_encap(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                         uint16_t sport, uint16_t dport, struct errmsg *e)
{
    return 0;
}

int xfrm_state_add(struct nl_sock *x, const struct ike_child_sa *sa, enum xfrm_dir dir,
                   struct errmsg *e)
{
    struct kernel *k = (struct kernel *)(void *)x;
    ck_assert_uint_lt(k->n, 16);
    k->st[k->n++] = (struct fake_state){.out = dir == XFRM_DIR_OUT,
                                        .spi = dir == XFRM_DIR_OUT ? sa->spi_out : sa->spi_in};
    return 0;
}

int xfrm_state_remove(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                      struct errmsg *e)
{
    struct kernel *k = (struct kernel *)(void *)x;
    for (unsigned i = 0; i < k->n; i++)
        if (k->st[i].spi == spi) {
            memmove(&k->st[i], &k->st[i + 1], (k->n - i - 1) * sizeof(k->st[0]));
            k->n--;
            break;
        }
    return 0;
}

/* --- two sites ------------------------------------------------------------------- */

static struct daemon dm[2];
static struct peer pr[2];

/* A CHILD SA pair n: side 0's SPI is 0xa00 + n, side 1's 0xb00 + n. */
static struct ike_child_sa child(int side, unsigned n)
{
    uint32_t a = 0xa00 + n, b = 0xb00 + n;
    return (struct ike_child_sa){.spi_in = side ? b : a, .spi_out = side ? a : b};
}

static void setup(void)
{
    memset(kern, 0, sizeof(kern));
    memset(dm, 0, sizeof(dm));
    memset(pr, 0, sizeof(pr));
    now = 0;
    n_timers = warnings = 0;
    for (int i = 0; i < 2; i++) {
        dm[i].nl.xfrm = (struct nl_sock *)(void *)&kern[i];
        pr[i].d = &dm[i];
    }
}

/* Each side sends on its newest outbound state; the other must have it inbound. */
static void check_delivery(void)
{
    for (int s = 0; s < 2; s++) {
        const struct kernel *k = &kern[s], *o = &kern[!s];
        int newest = -1;
        for (unsigned i = 0; i < k->n; i++)
            if (k->st[i].out)
                newest = (int)i;
        ck_assert_msg(newest >= 0, "t=%llu: side %d has no outbound state",
                      (unsigned long long)now, s);
        bool in = false;
        for (unsigned i = 0; i < o->n; i++)
            in |= !o->st[i].out && o->st[i].spi == k->st[newest].spi;
        ck_assert_msg(in, "t=%llu: side %d sends on SPI 0x%x, which side %d does not have inbound",
                      (unsigned long long)now, s, k->st[newest].spi, !s);
    }
}

/* Time passes to t, a millisecond at a time: timers fire, packets must get through. */
static void advance(uint64_t t)
{
    while (now < t) {
        now++;
        for (bool fired = true; fired;) {
            fired = false;
            for (unsigned i = 0; i < n_timers; i++)
                if (timers[i]->deadline_ms && timers[i]->deadline_ms <= now) {
                    timers[i]->deadline_ms = 0;
                    timers[i]->fn(NULL, timers[i]->arg);
                    fired = true;
                }
        }
        check_delivery();
    }
}

/* What ike_events.c does with each event. */
static void ev_up(int s, unsigned n)
{
    struct ike_child_sa c = child(s, n);
    ck_assert_int_eq(peer_sa_install(&pr[s], &c, false), 0);
}

static void ev_rekeyed(int s, unsigned n, unsigned old)
{
    struct ike_child_sa c = child(s, n);
    ck_assert_int_eq(peer_sa_install(&pr[s], &c, true), 0);
    peer_sa_retire(&pr[s], child(s, old).spi_in, GRACE_MS);
}

/* CHILD_SWITCH: the rekey's old SA n is deleted on both sides. */
static void ev_switch(int s, unsigned n)
{
    peer_sa_switch(&pr[s], child(s, n).spi_in);
}

/* CHILD_DOWN(IKE_R_REPLACED): the redundant SA n of crossing rekeys is deleted. */
static void ev_replaced(int s, unsigned n)
{
    peer_sa_replaced(&pr[s], child(s, n).spi_in, GRACE_MS);
}

/* At rest: SA n only, both directions, on both sides. */
static void assert_only(unsigned n)
{
    for (int s = 0; s < 2; s++) {
        struct ike_child_sa c = child(s, n);
        ck_assert_uint_eq(kern[s].n, 2);
        ck_assert_uint_eq(pr[s].n_sa, 1);
        ck_assert_uint_eq(pr[s].n_out_pending, 0);
        for (unsigned i = 0; i < 2; i++)
            ck_assert_uint_eq(kern[s].st[i].spi, kern[s].st[i].out ? c.spi_out : c.spi_in);
    }
    ck_assert_uint_eq(warnings, 0);
}

static void both_up(void)
{
    ev_up(0, 0);
    ev_up(1, 0);
    advance(100);
}

/* IKEv2, side 0 rekeys: request at 100, answered at 100 + D, DELETE of the old SA after. */
START_TEST(rekey_v2)
{
    both_up();
    advance(100 + D);
    ev_rekeyed(1, 1, 0);            /* the responder, as it answers */
    advance(100 + 2 * D);
    ev_rekeyed(0, 1, 0);            /* the initiator, on the answer; DELETE(old) sent */
    advance(100 + 3 * D);
    ev_switch(1, 0);                /* the DELETE received */
    advance(100 + 4 * D);
    ev_switch(0, 0);                /* its answer */
    advance(100 + 4 * D + GRACE_MS + 100);
    assert_only(1);
}
END_TEST

/* The initiator takes 2 s for the answer (PFS under TCG): the responder must wait for it. */
START_TEST(rekey_v2_slow_initiator)
{
    both_up();
    advance(100 + D);
    ev_rekeyed(1, 1, 0);
    advance(2100 + 2 * D);
    ev_rekeyed(0, 1, 0);
    advance(2100 + 3 * D);
    ev_switch(1, 0);
    advance(2100 + 4 * D);
    ev_switch(0, 0);
    advance(2100 + 4 * D + GRACE_MS + 100);
    assert_only(1);
}
END_TEST

/* IKEv1 Quick Mode by side 0: it installs on message 2, the responder on 3; DELETE is one way. */
START_TEST(rekey_v1)
{
    both_up();
    advance(100 + 2 * D);
    ev_rekeyed(0, 1, 0);            /* message 2 in; message 3 and DELETE(old) out */
    advance(100 + 3 * D);
    ev_rekeyed(1, 1, 0);            /* message 3 */
    ev_switch(1, 0);                /* the DELETE right behind it */
    advance(100 + 3 * D + GRACE_MS + 100);
    assert_only(1);
}
END_TEST

/*
 * §2.8.1: both sides rekey SA 0 at once, side 0 making SA 1, side 1 SA 2.
 * _i: bit 0, which side made the redundant SA (the lowest nonce); bit 1,
 * which side's events come a millisecond first when both have one.
 */
START_TEST(rekeys_cross)
{
    int r = _i & 1, o = !r, first = (_i >> 1) & 1;
    unsigned sa_r = r ? 2 : 1, sa_o = r ? 1 : 2, mine[2] = {1, 2}, theirs[2] = {2, 1};
    uint64_t t = 100;
    both_up();
    /* each answers the other's request: the peer's SA */
    advance(t + D);
    ev_rekeyed(first, theirs[first], 0);
    advance(t + D + 1);
    ev_rekeyed(!first, theirs[!first], 0);
    /* each gets its answer: its own SA; r sends DELETE(redundant), o DELETE(old) */
    advance(t + 2 * D);
    ev_rekeyed(first, mine[first], 0);
    advance(t + 2 * D + 1);
    ev_rekeyed(!first, mine[!first], 0);
    /* the DELETEs arrive */
    advance(t + 3 * D);
    ev_replaced(o, sa_r);
    ev_switch(r, 0);
    /* and their answers */
    advance(t + 4 * D);
    ev_replaced(r, sa_r);
    ev_switch(o, 0);
    advance(t + 4 * D + GRACE_MS + 100);
    assert_only(sa_o);
}
END_TEST

/*
 * IKEv1, both Quick Modes at once (ikecore/ikev1_collision.c): side 0's
 * makes SA 1, side 1's SA 2; each installs its own on message 2 and the
 * other's on message 3, which comes with the other's DELETE(old) behind it.
 * _i: bit 0, whose Quick Mode made the redundant pair; bit 1, which side's
 * events come a millisecond first.
 */
START_TEST(quick_modes_cross)
{
    int r = _i & 1, o = !r, first = (_i >> 1) & 1;
    unsigned sa_r = r ? 2 : 1, sa_o = r ? 1 : 2, mine[2] = {1, 2}, theirs[2] = {2, 1};
    uint64_t t = 100;
    both_up();
    /* message 2 in: each side's own pair; message 3 and DELETE(old) out */
    advance(t + 2 * D);
    ev_rekeyed(first, mine[first], 0);
    advance(t + 2 * D + 1);
    ev_rekeyed(!first, mine[!first], 0);
    /* message 3 in: the other's pair, then settled; r deletes its own (redundant) pair */
    advance(t + 3 * D);
    ev_rekeyed(first, theirs[first], 0);
    if (first == r)
        ev_replaced(r, sa_r);
    advance(t + 3 * D + 1);
    ev_rekeyed(!first, theirs[!first], 0);
    if (first != r)
        ev_replaced(r, sa_r);
    /* the DELETE(old) behind message 3: a switch only where the survivor is the peer's */
    ev_switch(r, 0);
    /* r's DELETE of the redundant pair */
    advance(t + 4 * D + 1);
    ev_replaced(o, sa_r);
    advance(t + 4 * D + GRACE_MS + 100);
    assert_only(sa_o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("peer_sa");
    TCase *tc = tcase_create("make_before_break");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, rekey_v2);
    tcase_add_test(tc, rekey_v2_slow_initiator);
    tcase_add_test(tc, rekey_v1);
    tcase_add_loop_test(tc, rekeys_cross, 0, 4);
    tcase_add_loop_test(tc, quick_modes_cross, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
