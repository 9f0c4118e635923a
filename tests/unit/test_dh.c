/*
 * ikecore/dh.c: every group with fixed private values against
 * tests/data/kat/dh.txt (RFC 5903 §8.1 and RFC 7748 §6.1 among them):
 * public values, shared secrets and their padding, the randomness read
 * (rejected draws included); peer values refused: wrong length, MODP 0, 1,
 * p-1, p and above, ECP points off the curve, X25519 points of small order;
 * unknown groups, failing randomness, short output buffers.
 */
#include <openssl/bn.h>
#include <openssl/evp.h>

#include "../../ikecore/crypto.h"
#include "test_crypto_kat.h"
#include "unit.h"

static const uint16_t groups[] = {
    IKE_DH_MODP_1024, IKE_DH_MODP_2048, IKE_DH_MODP_3072, IKE_DH_MODP_4096,
    IKE_DH_ECP_256, IKE_DH_ECP_384, IKE_DH_ECP_521, IKE_DH_CURVE25519,
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

static struct ike_crypto *cr;

static void setup(void)
{
    ck_assert_int_eq(ike_crypto_new(&cr), IKE_OK);
}

static void teardown(void)
{
    ike_crypto_free(cr);
    cr = NULL;
}

/* Randomness that replays a script, and counts what was asked for. */
struct script {
    const uint8_t *p;
    size_t n, pos;
    unsigned calls;
    size_t last;
};

static int script_rng(void *arg, uint8_t *buf, size_t len)
{
    struct script *s = arg;
    s->calls++;
    s->last = len;
    if (len > s->n - s->pos)
        return -1;
    memcpy(buf, s->p + s->pos, len);
    s->pos += len;
    return 0;
}

/* Deterministic "random" bytes: SHA-256 of a counter. */
static int counter_rng(void *arg, uint8_t *buf, size_t len)
{
    uint64_t *ctr = arg;
    while (len) {
        uint8_t out[32];
        unsigned int olen;
        (*ctr)++;
        if (!EVP_Digest(ctr, sizeof(*ctr), out, &olen, EVP_sha256(), NULL))
            return -1;
        size_t n = len < 32 ? len : 32;
        memcpy(buf, out, n);
        buf += n;
        len -= n;
    }
    return 0;
}

static int failing_rng(void *arg, uint8_t *buf, size_t len)
{
    return -1;
}

static int constant_rng(void *arg, uint8_t *buf, size_t len)
{
    memset(buf, *(const uint8_t *)arg, len);
    return 0;
}

/* A key made from the script in field name, whose bytes must all be used. */
static struct ike_dh *scripted_key(const struct kat_block *b, const char *name)
{
    size_t n;
    uint8_t *rng = kat_bytes(b, name, &n);
    struct script s = {rng, n, 0, 0, 0};
    struct ike_dh *dh = NULL;
    ck_assert_int_eq(ike_dh_new(cr, (uint16_t)kat_uint(b, "group"), script_rng, &s, &dh),
                     IKE_OK);
    ck_assert_msg(s.pos == n, "line %u: %zu of %zu random bytes used", b->line, s.pos, n);
    free(rng);
    return dh;
}

static void check_shared(const struct kat_block *b, struct ike_dh *dh, const char *peer)
{
    size_t plen, len;
    uint8_t *pub = kat_bytes(b, peer, &plen), secret[IKE_MAX_DH_SHARED];
    free(kat_bytes(b, "shared", &len));
    size_t slen = sizeof(secret);
    ck_assert_int_eq(ike_dh_shared(dh, pub, plen, secret, &slen), IKE_OK);
    kat_assert_eq(b, "shared", secret, slen);
    slen = len - 1;                                 /* one byte short */
    ck_assert_int_eq(ike_dh_shared(dh, pub, plen, secret, &slen), IKE_ERR_INVAL);
    free(pub);
}

START_TEST(fixed_keys_known_answers)
{
    struct kat_file k;
    kat_load(&k, "dh");
    unsigned seen[N_GROUPS] = {0};
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        if (!kat_has(b, "pub"))
            continue;
        struct ike_dh *a = scripted_key(b, "rng"), *p = scripted_key(b, "peer_rng");
        size_t len;
        const uint8_t *pub = ike_dh_public(a, &len);
        ck_assert_uint_eq(len, ike_dh_pub_len(ike_dh_group(a)));
        kat_assert_eq(b, "pub", pub, len);
        pub = ike_dh_public(p, &len);
        kat_assert_eq(b, "peer_pub", pub, len);
        check_shared(b, a, "peer_pub");
        check_shared(b, p, "pub");
        for (unsigned g = 0; g < N_GROUPS; g++)
            seen[g] += groups[g] == ike_dh_group(a);
        ike_dh_free(a);
        ike_dh_free(p);
    }
    for (unsigned g = 0; g < N_GROUPS; g++)
        ck_assert_msg(seen[g] > 0, "no vector for group %u", groups[g]);
    kat_free(&k);
}
END_TEST

START_TEST(random_keys_agree)
{
    uint64_t ctr = 0;
    for (unsigned g = 0; g < N_GROUPS; g++) {
        struct ike_dh *a = NULL, *b = NULL;
        uint8_t s1[IKE_MAX_DH_SHARED], s2[IKE_MAX_DH_SHARED];
        size_t la, lb, l1 = sizeof(s1), l2 = sizeof(s2);
        ck_assert_int_eq(ike_dh_new(cr, groups[g], counter_rng, &ctr, &a), IKE_OK);
        ck_assert_int_eq(ike_dh_new(cr, groups[g], counter_rng, &ctr, &b), IKE_OK);
        const uint8_t *pa = ike_dh_public(a, &la), *pb = ike_dh_public(b, &lb);
        ck_assert(la == lb && memcmp(pa, pb, la) != 0);
        ck_assert_int_eq(ike_dh_shared(a, pb, lb, s1, &l1), IKE_OK);
        ck_assert_int_eq(ike_dh_shared(b, pa, la, s2, &l2), IKE_OK);
        ck_assert_uint_eq(l1, l2);
        ck_assert_mem_eq(s1, s2, l1);
        ck_assert_int_eq(ike_dh_shared(a, pb, lb, s2, &l2), IKE_OK);    /* again: same */
        ck_assert_mem_eq(s1, s2, l1);
        ike_dh_free(a);
        ike_dh_free(b);
    }
}
END_TEST

/* Sizes of the private values drawn (dh.c's header says why). */
START_TEST(private_value_sizes)
{
    static const size_t want[N_GROUPS] = {32, 32, 40, 48, 32, 48, 66, 32};
    static uint8_t pool[4096];
    for (unsigned g = 0; g < N_GROUPS; g++) {
        uint64_t ctr = g;
        ck_assert_int_eq(counter_rng(&ctr, pool, sizeof(pool)), 0);
        struct script s = {pool, sizeof(pool), 0, 0, 0};
        struct ike_dh *dh = NULL;
        ck_assert_int_eq(ike_dh_new(cr, groups[g], script_rng, &s, &dh), IKE_OK);
        ck_assert_uint_eq(s.calls, 1);
        ck_assert_uint_eq(s.last, want[g]);
        ike_dh_free(dh);
    }
}
END_TEST

static void refuse(struct ike_dh *dh, const uint8_t *peer, size_t len, const char *what)
{
    uint8_t secret[IKE_MAX_DH_SHARED];
    size_t slen = sizeof(secret);
    memset(secret, 0x5a, sizeof(secret));
    ck_assert_msg(ike_dh_shared(dh, peer, len, secret, &slen) == IKE_ERR_INVAL,
                  "group %u: %s accepted", ike_dh_group(dh), what);
    ck_assert_uint_eq(slen, sizeof(secret));
}

/* y as a peer value of the MODP group's length. */
static void refuse_bn(struct ike_dh *dh, const BIGNUM *y, const char *what)
{
    size_t len = ike_dh_pub_len(ike_dh_group(dh));
    uint8_t buf[IKE_MAX_DH_PUB];
    ck_assert_int_eq(BN_bn2binpad(y, buf, (int)len), (int)len);
    refuse(dh, buf, len, what);
}

START_TEST(modp_weak_values_refused)
{
    struct kat_file k;
    kat_load(&k, "dh");
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        if (!kat_has(b, "p"))
            continue;
        size_t plen, len;
        uint8_t *p = kat_bytes(b, "p", &plen), *ok = kat_bytes(b, "peer_pub", &len);
        struct ike_dh *dh = scripted_key(b, "rng");
        BIGNUM *v = BN_bin2bn(p, (int)plen, NULL);
        ck_assert_ptr_nonnull(v);
        refuse_bn(dh, v, "p");
        ck_assert(BN_sub_word(v, 1));
        refuse_bn(dh, v, "p-1");
        ck_assert(BN_add_word(v, 2));
        refuse_bn(dh, v, "p+1");
        ck_assert(BN_set_word(v, 1));
        refuse_bn(dh, v, "1");
        BN_zero(v);
        refuse_bn(dh, v, "0");
        memset(p, 0xff, plen);
        refuse(dh, p, plen, "2^N-1");
        refuse(dh, ok, len - 1, "a short value");
        refuse(dh, ok, len + 1, "a long value");    /* kat_bytes leaves a spare byte */
        ck_assert(BN_set_word(v, 2));               /* the generator itself is a valid y */
        uint8_t two[IKE_MAX_DH_PUB], secret[IKE_MAX_DH_SHARED];
        size_t slen = sizeof(secret);
        ck_assert_int_eq(BN_bn2binpad(v, two, (int)plen), (int)plen);
        ck_assert_int_eq(ike_dh_shared(dh, two, plen, secret, &slen), IKE_OK);
        BN_free(v);
        ike_dh_free(dh);
        free(p);
        free(ok);
    }
    kat_free(&k);
}
END_TEST

START_TEST(ecp_points_off_the_curve_refused)
{
    struct kat_file k;
    kat_load(&k, "dh");
    unsigned done = 0;
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        if (!kat_has(b, "bad_point"))
            continue;
        size_t len, ok_len, big_len;
        uint8_t *bad = kat_bytes(b, "bad_point", &len), *ok = kat_bytes(b, "peer_pub", &ok_len);
        uint8_t *big = kat_bytes(b, "bad_x_ge_p", &big_len), zero[IKE_MAX_DH_PUB] = {0};
        struct ike_dh *dh = scripted_key(b, "rng");
        refuse(dh, bad, len, "a point off the curve");
        refuse(dh, big, big_len, "coordinates >= p");
        refuse(dh, zero, len, "(0, 0)");
        refuse(dh, ok, ok_len - 1, "a short point");
        refuse(dh, ok, ok_len / 2, "x alone");
        check_shared(b, dh, "peer_pub");            /* still usable afterwards */
        ike_dh_free(dh);
        free(bad);
        free(ok);
        free(big);
        done++;
    }
    ck_assert_uint_eq(done, 3);
    kat_free(&k);
}
END_TEST

START_TEST(x25519_small_order_points_refused)
{
    struct kat_file k;
    kat_load(&k, "dh");
    unsigned done = 0;
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        if (!kat_has(b, "low_order"))
            continue;
        size_t len;
        uint8_t *u = kat_bytes(b, "low_order", &len);
        struct ike_dh *dh = scripted_key(b, "rng");
        refuse(dh, u, len, "a point of small order");
        ike_dh_free(dh);
        free(u);
        done++;
    }
    ck_assert_uint_ge(done, 7);
    kat_free(&k);
}
END_TEST

START_TEST(bad_arguments_refused)
{
    static const uint16_t bad[] = {IKE_DH_NONE, 1, 5, 17, 18, 22, 24, 30, 32, 0xffff};
    uint64_t ctr = 0;
    struct ike_dh *dh = (struct ike_dh *)&ctr;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_uint_eq(ike_dh_pub_len(bad[i]), 0);
        ck_assert_int_eq(ike_dh_new(cr, bad[i], counter_rng, &ctr, &dh), IKE_ERR_INVAL);
        ck_assert_ptr_null(dh);
    }
    ck_assert_int_eq(ike_dh_new(cr, IKE_DH_ECP_256, NULL, NULL, &dh), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_dh_new(NULL, IKE_DH_ECP_256, counter_rng, &ctr, &dh), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_dh_new(cr, IKE_DH_ECP_256, counter_rng, &ctr, NULL), IKE_ERR_INVAL);
    ck_assert_uint_eq(ike_dh_group(NULL), IKE_DH_NONE);
    ike_dh_free(NULL);
}
END_TEST

/* Failing randomness, or randomness that never yields a usable value, ends in an error. */
START_TEST(bad_randomness_reported)
{
    static const uint8_t ones = 0xff, zeros = 0x00;
    for (unsigned g = 0; g < N_GROUPS; g++) {
        struct ike_dh *dh = NULL;
        ck_assert_int_eq(ike_dh_new(cr, groups[g], failing_rng, NULL, &dh), IKE_ERR_CRYPTO);
        ck_assert_ptr_null(dh);
        if (groups[g] == IKE_DH_CURVE25519)
            continue;                               /* any 32 bytes make a key */
        ck_assert_int_eq(ike_dh_new(cr, groups[g], constant_rng, (void *)&zeros, &dh),
                         IKE_ERR_CRYPTO);
        ck_assert_ptr_null(dh);
        if (groups[g] >= IKE_DH_ECP_256) {          /* all ones: >= n */
            ck_assert_int_eq(ike_dh_new(cr, groups[g], constant_rng, (void *)&ones, &dh),
                             IKE_ERR_CRYPTO);
            ck_assert_ptr_null(dh);
        }
    }
}
END_TEST

static Suite *dh_suite(void)
{
    Suite *s = suite_create("dh");
    TCase *tc = tcase_create("dh");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fixed_keys_known_answers);
    tcase_add_test(tc, random_keys_agree);
    tcase_add_test(tc, private_value_sizes);
    tcase_add_test(tc, modp_weak_values_refused);
    tcase_add_test(tc, ecp_points_off_the_curve_refused);
    tcase_add_test(tc, x25519_small_order_points_refused);
    tcase_add_test(tc, bad_arguments_refused);
    tcase_add_test(tc, bad_randomness_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(dh_suite());
}
