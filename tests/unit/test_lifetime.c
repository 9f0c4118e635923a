/*
 * ikecore/lifetime.c: soft lifetimes 10-15 % before the hard ones, with the
 * jitter drawn from the caller's randomness, and where both versions use
 * them: the CHILD SA's seconds and kilobytes (IKEv2 and IKEv1 Quick Mode)
 * and the IKE SA's rekey time.
 */
#include "../../ikecore/ike_int.h"
#include "ikev1_harness.h"

static const uint64_t hards[] = {0, 1, 9, 10, 19, 20, 100, 2560, 3600, 1000000, 86400000,
                                 UINT32_MAX, (uint64_t)1 << 40};

static bool in_range(uint64_t soft, uint64_t hard)
{
    return soft <= hard - hard / 10 && soft >= hard - hard / 10 - hard / 20;
}

static struct ike_ctx *ctx_seeded(struct h_rng *r, uint8_t seed)
{
    memset(r, 0, sizeof(*r));
    memset(r->seed, seed, sizeof(r->seed));
    struct ike_ctx_config cfg = {.random = h_random, .random_arg = r};
    struct ike_ctx *ctx = ike_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

START_TEST(soft_within_range)
{
    struct h_rng r;
    struct ike_ctx *ctx = ctx_seeded(&r, 1);
    for (unsigned i = 0; i < sizeof(hards) / sizeof(hards[0]); i++)
        for (int k = 0; k < 200; k++) {
            uint64_t s = ike_soft_life(ctx, hards[i]);
            ck_assert_msg(in_range(s, hards[i]), "hard %llu: soft %llu",
                          (unsigned long long)hards[i], (unsigned long long)s);
        }
    ck_assert_uint_eq(ike_soft_life(ctx, 0), 0);    /* no limit stays no limit */
    ike_ctx_free(ctx);
}
END_TEST

/* Across SAs of one context and across contexts (seeds): not one fixed value. */
START_TEST(soft_differs)
{
    uint64_t seen[32];
    unsigned distinct = 0;
    struct h_rng r;
    struct ike_ctx *ctx = ctx_seeded(&r, 2);
    for (int k = 0; k < 32; k++) {
        uint64_t s = ike_soft_life(ctx, 2560), dup = 0;
        for (unsigned j = 0; j < distinct; j++)
            dup |= seen[j] == s;
        if (!dup)
            seen[distinct++] = s;
    }
    ck_assert_uint_ge(distinct, 20);    /* 129 possible values */
    ike_ctx_free(ctx);
    distinct = 0;
    for (uint8_t seed = 0; seed < 32; seed++) {
        ctx = ctx_seeded(&r, seed);
        uint64_t s = ike_soft_life(ctx, 3600000), dup = 0;
        for (unsigned j = 0; j < distinct; j++)
            dup |= seen[j] == s;
        if (!dup)
            seen[distinct++] = s;
        ike_ctx_free(ctx);
        h_rng_free(&r);
    }
    ck_assert_uint_ge(distinct, 30);
}
END_TEST

static int no_random(void *arg, uint8_t *buf, size_t len)
{
    return -1;
}

/* Jitter only: without randomness the soft lifetime is exactly 90 %. */
START_TEST(soft_without_randomness)
{
    struct ike_ctx_config cfg = {.random = no_random};
    struct ike_ctx *ctx = ike_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_uint_eq(ike_soft_life(ctx, 3600), 3240);
    ck_assert_uint_eq(ike_soft_life(ctx, 2560), 2304);
    ike_ctx_free(ctx);
}
END_TEST

static void use_v2(void)
{
    for (int i = 0; i < 2; i++) {
        P.s[i].pc.version = 2;
        P.s[i].pc.ike[0] = h_ike_default;
        P.s[i].pc.esp[0] = h_esp_default;
    }
}

static void up(uint8_t seed)
{
    for (int i = 0; i < 2; i++) {
        P.s[i].pc.child_lifetime_kb = 2560;
        P.s[i].pc.ike_lifetime_s = 1000;
        P.s[i].rng.seed[1] = seed;
    }
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_CHILD_UP), 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_UP), 1);
}

static const struct ike_child_sa *child(int side)
{
    return &h_find(&P.s[side], IKE_EV_CHILD_UP, 0)->u.child.sa;
}

/*
 * The same hard limits on both ends (IKEv1: negotiated; IKEv2: configured
 * alike), soft ones apart: the two kernels do not count to the same byte.
 */
static void assert_children_apart(void)
{
    const struct ike_child_sa *a = child(0), *b = child(1);
    ck_assert_uint_eq(a->lifetime_hard_kb, 2560);
    ck_assert_uint_eq(b->lifetime_hard_kb, 2560);
    ck_assert_uint_eq(a->lifetime_hard_s, b->lifetime_hard_s);
    for (int i = 0; i < 2; i++) {
        const struct ike_child_sa *c = child(i);
        ck_assert(in_range(c->lifetime_soft_kb, c->lifetime_hard_kb));
        ck_assert(in_range(c->lifetime_soft_s, c->lifetime_hard_s));
    }
    ck_assert_uint_ne(a->lifetime_soft_kb, b->lifetime_soft_kb);
    ck_assert_uint_ne(a->lifetime_soft_s, b->lifetime_soft_s);
}

START_TEST(child_soft_apart_v2)
{
    use_v2();
    up((uint8_t)_i);
    assert_children_apart();
}
END_TEST

START_TEST(child_soft_apart_v1)
{
    up((uint8_t)_i);
    assert_children_apart();
}
END_TEST

/* The initiator's IKE SA rekey time, relative to when it came up. */
static ike_time_t rekey_after(void)
{
    const struct ike_sa *sa = P.s[0].ctx->sas;
    ck_assert_ptr_nonnull(sa);
    ck_assert_uint_ne(sa->ike_rekey_at, 0);
    return sa->ike_rekey_at - sa->up_at;
}

/* 85-90 % of ike_lifetime_s (1000 s), apart across seeds; and it does rekey by then. */
static void assert_ike_rekey_jittered(void (*version)(void))
{
    ike_time_t at[8];
    unsigned distinct = 0;
    for (uint8_t seed = 0; seed < 8; seed++) {
        if (seed) {
            h_free(&P);
            setup();
        }
        if (version)
            version();
        up(seed);
        ike_time_t t = rekey_after(), dup = 0;
        ck_assert_uint_ge(t, 850000);
        ck_assert_uint_le(t, 900000);
        for (unsigned j = 0; j < distinct; j++)
            dup |= at[j] == t;
        if (!dup)
            at[distinct++] = t;
    }
    ck_assert_uint_ge(distinct, 6);
    ike_time_t up_at = P.s[0].ctx->sas->up_at;
    h_run(&P, up_at + 849000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 1);
    h_run(&P, up_at + 901000);
    ck_assert_uint_eq(h_count(&P.s[0], IKE_EV_IKE_UP), 2);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_IKE_UP), 2);
}

START_TEST(ike_rekey_jittered_v2)
{
    assert_ike_rekey_jittered(use_v2);
}
END_TEST

START_TEST(ike_rekey_jittered_v1)
{
    assert_ike_rekey_jittered(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lifetime");
    TCase *tc = tcase_create("soft");
    tcase_add_test(tc, soft_within_range);
    tcase_add_test(tc, soft_differs);
    tcase_add_test(tc, soft_without_randomness);
    suite_add_tcase(s, tc);
    tc = tcase_create("sa");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, child_soft_apart_v2, 0, 8);
    tcase_add_loop_test(tc, child_soft_apart_v1, 0, 8);
    tcase_add_test(tc, ike_rekey_jittered_v2);
    tcase_add_test(tc, ike_rekey_jittered_v1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
