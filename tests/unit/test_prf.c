/*
 * ikecore/prf.c: prf and prf+ (RFC 7296 §2.13) against HMAC test vectors
 * (RFC 2202, RFC 4231), vectors from tests/data/kat/gen_kat.py and the NIST
 * CAVP SP 800-135 IKEv2 samples; the 255-block limit; unknown PRFs refused.
 */
#include "../../ikecore/crypto.h"
#include "test_crypto_kat.h"
#include "unit.h"

static const uint16_t prfs[] = {IKE_PRF_HMAC_SHA1, IKE_PRF_HMAC_SHA2_256,
                                IKE_PRF_HMAC_SHA2_384, IKE_PRF_HMAC_SHA2_512};
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

/* data split in three pieces at a and b must give the same prf as in one piece. */
static void check_prf(const struct kat_block *b)
{
    size_t klen, dlen;
    uint8_t *key = kat_bytes(b, "key", &klen), *data = kat_bytes(b, "data", &dlen);
    uint16_t prf = (uint16_t)kat_uint(b, "prf");
    uint8_t out[IKE_MAX_PRF_LEN];
    struct ike_iov one = {data, dlen};
    ck_assert_int_eq(ike_prf(cr, prf, klen ? key : NULL, klen, &one, 1, out), IKE_OK);
    kat_assert_eq(b, "out", out, ike_prf_len(prf));
    size_t a = dlen / 3, c = dlen - dlen / 4;
    struct ike_iov three[] = {{data, a}, {data + a, c - a}, {data + c, dlen - c}};
    memset(out, 0, sizeof(out));
    ck_assert_int_eq(ike_prf(cr, prf, key, klen, three, 3, out), IKE_OK);
    kat_assert_eq(b, "out", out, ike_prf_len(prf));
    free(key);
    free(data);
}

static void check_prf_plus(const struct kat_block *b)
{
    size_t klen, slen, n = kat_uint(b, "len");
    uint8_t *key = kat_bytes(b, "key", &klen), *seed = kat_bytes(b, "seed", &slen);
    uint16_t prf = (uint16_t)kat_uint(b, "prf");
    uint8_t *out = malloc(n);
    struct ike_iov two[] = {{seed, slen / 2}, {seed + slen / 2, slen - slen / 2}};
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(ike_prf_plus(cr, prf, key, klen, two, 2, out, n), IKE_OK);
    kat_assert_eq(b, "out", out, n);
    free(out);
    free(key);
    free(seed);
}

START_TEST(prf_and_prf_plus_known_answers)
{
    struct kat_file k;
    kat_load(&k, "prf");
    unsigned prf = 0, plus = 0;
    for (unsigned i = 0; i < k.n; i++) {
        if (kat_has(&k.b[i], "data")) {
            check_prf(&k.b[i]);
            prf++;
        } else {
            check_prf_plus(&k.b[i]);
            plus++;
        }
    }
    ck_assert_uint_ge(prf, 16);
    ck_assert_uint_ge(plus, 16);
    kat_free(&k);
}
END_TEST

/* An empty key is HMAC's empty key, not "the key of the previous call" (EVP_MAC_init's NULL). */
START_TEST(empty_key_is_not_the_previous_key)
{
    struct kat_file k;
    kat_load(&k, "prf");
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        size_t klen;
        uint8_t *key = kat_bytes(b, "key", &klen), out[IKE_MAX_PRF_LEN];
        if (klen || !kat_has(b, "data")) {
            free(key);
            continue;
        }
        uint16_t prf = (uint16_t)kat_uint(b, "prf");
        const uint8_t other[] = "a different key";
        struct ike_iov none = {NULL, 0};
        ck_assert_int_eq(ike_prf(cr, prf, other, sizeof(other), &none, 1, out), IKE_OK);
        ck_assert_int_eq(ike_prf(cr, prf, NULL, 0, NULL, 0, out), IKE_OK);
        kat_assert_eq(b, "out", out, ike_prf_len(prf));
        free(key);
    }
    kat_free(&k);
}
END_TEST

START_TEST(prf_plus_stops_at_255_blocks)
{
    static uint8_t out[255 * IKE_MAX_PRF_LEN + 1];
    const uint8_t key[16] = {1}, seed[8] = {2};
    struct ike_iov s = {seed, sizeof(seed)};
    for (unsigned i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++) {
        size_t h = ike_prf_len(prfs[i]);
        ck_assert_int_eq(ike_prf_plus(cr, prfs[i], key, 16, &s, 1, out, 255 * h), IKE_OK);
        memset(out, 0x5a, sizeof(out));
        ck_assert_int_eq(ike_prf_plus(cr, prfs[i], key, 16, &s, 1, out, 255 * h + 1),
                         IKE_ERR_INVAL);
        ck_assert_uint_eq(out[0], 0x5a);            /* refused before writing anything */
        ck_assert_int_eq(ike_prf_plus(cr, prfs[i], key, 16, &s, 1, out, SIZE_MAX),
                         IKE_ERR_INVAL);
        ck_assert_int_eq(ike_prf_plus(cr, prfs[i], key, 16, &s, 1, out, 0), IKE_OK);
    }
}
END_TEST

START_TEST(unknown_prf_refused)
{
    static const uint16_t bad[] = {0, 1, 3, 4, 8, 9, 12, 0xffff};
    const uint8_t key[16] = {0};
    uint8_t out[IKE_MAX_PRF_LEN];
    struct ike_iov v = {key, sizeof(key)};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_uint_eq(ike_prf_len(bad[i]), 0);
        ck_assert_int_eq(ike_prf(cr, bad[i], key, 16, &v, 1, out), IKE_ERR_INVAL);
        ck_assert_int_eq(ike_prf_plus(cr, bad[i], key, 16, &v, 1, out, 16), IKE_ERR_INVAL);
    }
    ck_assert_int_eq(ike_prf(cr, IKE_PRF_HMAC_SHA2_256, NULL, 16, &v, 1, out), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_prf(cr, IKE_PRF_HMAC_SHA2_256, key, 16, &v, 1, NULL), IKE_ERR_INVAL);
}
END_TEST

/* The NIST samples exercise prf and prf+ exactly as RFC 7296 §2.14, §2.17, §2.18 use them. */
START_TEST(cavp_ikev2_kdf_samples)
{
    struct kat_file k;
    kat_load(&k, "ikev2_cavp");
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        size_t ni_len, nr_len, g_len, gn_len, si, sr, dkm_len;
        uint8_t *ni = kat_bytes(b, "ni", &ni_len), *nr = kat_bytes(b, "nr", &nr_len);
        uint8_t *g = kat_bytes(b, "g_ir", &g_len), *gn = kat_bytes(b, "g_ir_new", &gn_len);
        uint8_t *spi_i = kat_bytes(b, "spi_i", &si), *spi_r = kat_bytes(b, "spi_r", &sr);
        free(kat_bytes(b, "dkm", &dkm_len));
        uint8_t key[64], seed[IKE_MAX_PRF_LEN], dkm[256];
        memcpy(key, ni, ni_len);
        memcpy(key + ni_len, nr, nr_len);
        struct ike_iov gv = {g, g_len};
        ck_assert_int_eq(ike_prf(cr, IKE_PRF_HMAC_SHA1, key, ni_len + nr_len, &gv, 1, seed),
                         IKE_OK);
        kat_assert_eq(b, "skeyseed", seed, 20);
        struct ike_iov s[] = {{ni, ni_len}, {nr, nr_len}, {spi_i, si}, {spi_r, sr}};
        ck_assert_int_eq(ike_prf_plus(cr, IKE_PRF_HMAC_SHA1, seed, 20, s, 4, dkm, dkm_len),
                         IKE_OK);
        kat_assert_eq(b, "dkm", dkm, dkm_len);
        uint8_t sk_d[20], child[256];
        memcpy(sk_d, dkm, 20);
        ck_assert_int_eq(ike_prf_plus(cr, IKE_PRF_HMAC_SHA1, sk_d, 20, s, 2, child, dkm_len),
                         IKE_OK);
        kat_assert_eq(b, "dkm_child", child, dkm_len);
        struct ike_iov pfs[] = {{gn, gn_len}, {ni, ni_len}, {nr, nr_len}};
        ck_assert_int_eq(ike_prf_plus(cr, IKE_PRF_HMAC_SHA1, sk_d, 20, pfs, 3, child, dkm_len),
                         IKE_OK);
        kat_assert_eq(b, "dkm_child_dh", child, dkm_len);
        ck_assert_int_eq(ike_prf(cr, IKE_PRF_HMAC_SHA1, sk_d, 20, pfs, 3, seed), IKE_OK);
        kat_assert_eq(b, "skeyseed_rekey", seed, 20);
        free(ni);
        free(nr);
        free(g);
        free(gn);
        free(spi_i);
        free(spi_r);
    }
    kat_free(&k);
}
END_TEST

static Suite *prf_suite(void)
{
    Suite *s = suite_create("prf");
    TCase *tc = tcase_create("prf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, prf_and_prf_plus_known_answers);
    tcase_add_test(tc, empty_key_is_not_the_previous_key);
    tcase_add_test(tc, prf_plus_stops_at_255_blocks);
    tcase_add_test(tc, unknown_prf_refused);
    tcase_add_test(tc, cavp_ikev2_kdf_samples);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(prf_suite());
}
