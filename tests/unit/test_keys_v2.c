/*
 * ikecore/keys_v2.c: the IKEv2 key schedules against tests/data/kat/ikev2.txt
 * (IKE SA, rekeyed IKE SA, CHILD SA with and without PFS, CBC+HMAC and GCM
 * suites, PRFs SHA-1 to SHA-512) and the NIST CAVP SP 800-135 samples run
 * through the full API; CHILD keys by role; bad suites and inputs refused.
 */
#include "../../ikecore/crypto.h"
#include "test_crypto_kat.h"
#include "unit.h"

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

static struct ike_suite kat_suite(const struct kat_block *b)
{
    struct ike_suite s = {
        .encr = (uint16_t)kat_uint(b, "encr"), .key_bits = (uint16_t)kat_uint(b, "key_bits"),
        .integ = (uint16_t)kat_uint(b, "integ"),
    };
    if (kat_has(b, "prf"))
        s.prf = (uint16_t)kat_uint(b, "prf");
    return s;
}

struct kin {
    size_t ni_len, nr_len, g_len;
    uint8_t *ni, *nr, *g;
};

static void kin_load(const struct kat_block *b, struct kin *in)
{
    in->ni = kat_bytes(b, "ni", &in->ni_len);
    in->nr = kat_bytes(b, "nr", &in->nr_len);
    in->g = kat_bytes(b, "g_ir", &in->g_len);
}

static void kin_free(struct kin *in)
{
    free(in->ni);
    free(in->nr);
    free(in->g);
}

static void check_sk(const struct kat_block *b, const struct ikev2_keys *k)
{
    size_t n;
    free(kat_bytes(b, "sk_ai", &n));
    ck_assert_uint_eq(k->integ_len, n);
    kat_assert_eq(b, "sk_d", k->sk_d, k->prf_len);
    kat_assert_eq(b, "sk_ai", k->sk_ai, k->integ_len);
    kat_assert_eq(b, "sk_ar", k->sk_ar, k->integ_len);
    kat_assert_eq(b, "sk_ei", k->sk_ei, k->encr_len);
    kat_assert_eq(b, "sk_er", k->sk_er, k->encr_len);
    kat_assert_eq(b, "sk_pi", k->sk_pi, k->prf_len);
    kat_assert_eq(b, "sk_pr", k->sk_pr, k->prf_len);
}

static void check_ike(const struct kat_block *b)
{
    struct ike_suite s = kat_suite(b);
    struct kin in;
    struct ikev2_keys k;
    kin_load(b, &in);
    memset(&k, 0xa5, sizeof(k));
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &s, in.ni, in.ni_len, in.nr, in.nr_len, in.g,
                                           in.g_len, kat_be(b, "spi_i"), kat_be(b, "spi_r"), &k),
                     IKE_OK);
    check_sk(b, &k);
    kin_free(&in);
}

static void check_rekey(const struct kat_block *b)
{
    struct ike_suite s = kat_suite(b);
    struct kin in;
    struct ikev2_keys k;
    size_t dlen;
    uint8_t *old_d = kat_bytes(b, "old_sk_d", &dlen);
    kin_load(b, &in);
    ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, (uint16_t)kat_uint(b, "old_prf"), old_d,
                                                 dlen, &s, in.ni, in.ni_len, in.nr, in.nr_len,
                                                 in.g, in.g_len, kat_be(b, "spi_i"),
                                                 kat_be(b, "spi_r"), &k), IKE_OK);
    check_sk(b, &k);
    free(old_d);
    kin_free(&in);
}

/* Both ends: the initiator sends with the i keys, the responder receives with them. */
static void check_child(const struct kat_block *b)
{
    struct kin in;
    size_t dlen;
    uint8_t *sk_d = kat_bytes(b, "sk_d", &dlen);
    uint16_t prf = (uint16_t)kat_uint(b, "prf");
    kin_load(b, &in);
    for (int initiator = 0; initiator < 2; initiator++) {
        struct ike_child_sa sa;
        memset(&sa, 0xa5, sizeof(sa));
        sa.suite = kat_suite(b);
        ck_assert_int_eq(ikev2_derive_child_keys(cr, prf, sk_d, dlen, in.g_len ? in.g : NULL,
                                                 in.g_len, in.ni, in.ni_len, in.nr, in.nr_len,
                                                 initiator, &sa), IKE_OK);
        kat_assert_eq(b, "encr_i", initiator ? sa.encr_key_out : sa.encr_key_in,
                      sa.encr_key_len);
        kat_assert_eq(b, "encr_r", initiator ? sa.encr_key_in : sa.encr_key_out,
                      sa.encr_key_len);
        kat_assert_eq(b, "integ_i", initiator ? sa.integ_key_out : sa.integ_key_in,
                      sa.integ_key_len);
        kat_assert_eq(b, "integ_r", initiator ? sa.integ_key_in : sa.integ_key_out,
                      sa.integ_key_len);
        ck_assert_uint_eq(sa.encr_key_in[sa.encr_key_len], 0);  /* the rest is cleared */
    }
    free(sk_d);
    kin_free(&in);
}

START_TEST(key_schedules_known_answers)
{
    struct kat_file k;
    kat_load(&k, "ikev2");
    unsigned ike = 0, rekey = 0, child = 0, pfs = 0;
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        const char *kind = kat_str(b, "kind");
        ck_assert_ptr_nonnull(kind);
        if (!strcmp(kind, "ike")) {
            check_ike(b);
            ike++;
        } else if (!strcmp(kind, "rekey")) {
            check_rekey(b);
            rekey++;
        } else {
            check_child(b);
            child++;
            pfs += strlen(kat_str(b, "g_ir")) > 0;
        }
    }
    ck_assert_uint_ge(ike, 8);
    ck_assert_uint_ge(rekey, 16);
    ck_assert_uint_ge(pfs, 20);
    ck_assert_uint_ge(child - pfs, 10);
    kat_free(&k);
}
END_TEST

static void append(uint8_t **p, const uint8_t *src, size_t n)
{
    memcpy(*p, src, n);
    *p += n;
}

/*
 * The CAVP DKM is 132 bytes: exactly SK_d | SK_ai | SK_ar | SK_ei | SK_er |
 * SK_pi | SK_pr for PRF-HMAC-SHA1, HMAC-SHA1-96 and AES-CBC-128.
 */
static void cavp_ike_sa(const struct kat_block *b, const struct kin *in, struct ikev2_keys *k)
{
    struct ike_suite s = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                          .prf = IKE_PRF_HMAC_SHA1, .integ = IKE_INTEG_HMAC_SHA1_96};
    uint8_t all[132], *p = all;
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &s, in->ni, in->ni_len, in->nr, in->nr_len, in->g,
                                           in->g_len, kat_be(b, "spi_i"), kat_be(b, "spi_r"), k),
                     IKE_OK);
    append(&p, k->sk_d, 20);
    append(&p, k->sk_ai, 20);
    append(&p, k->sk_ar, 20);
    append(&p, k->sk_ei, 16);
    append(&p, k->sk_er, 16);
    append(&p, k->sk_pi, 20);
    append(&p, k->sk_pr, 20);
    kat_assert_eq(b, "dkm", all, sizeof(all));
}

/* ESP AES-CBC-128 + HMAC-SHA1-96 takes the first 72 bytes of the CHILD DKM. */
static void cavp_child(const struct kat_block *b, const struct kin *in, const uint8_t *sk_d,
                       const uint8_t *g, size_t g_len, const char *field)
{
    struct ike_child_sa sa = {.suite = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                                        .integ = IKE_INTEG_HMAC_SHA1_96}};
    uint8_t all[72];
    ck_assert_int_eq(ikev2_derive_child_keys(cr, IKE_PRF_HMAC_SHA1, sk_d, 20, g, g_len, in->ni,
                                             in->ni_len, in->nr, in->nr_len, true, &sa), IKE_OK);
    memcpy(all, sa.encr_key_out, 16);
    memcpy(all + 16, sa.integ_key_out, 20);
    memcpy(all + 36, sa.encr_key_in, 16);
    memcpy(all + 52, sa.integ_key_in, 20);
    size_t n;
    uint8_t *want = kat_bytes(b, field, &n);
    ck_assert_mem_eq(all, want, sizeof(all));
    free(want);
}

START_TEST(cavp_samples_through_the_api)
{
    struct kat_file k;
    kat_load(&k, "ikev2_cavp");
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        struct kin in;
        struct ikev2_keys sa, re;
        size_t gn_len, seed_len;
        kin_load(b, &in);
        cavp_ike_sa(b, &in, &sa);
        uint8_t *gn = kat_bytes(b, "g_ir_new", &gn_len);
        cavp_child(b, &in, sa.sk_d, NULL, 0, "dkm_child");
        cavp_child(b, &in, sa.sk_d, gn, gn_len, "dkm_child_dh");
        /* §2.18: the new SA's keys are prf+ of SKEYSEED(Rekey) */
        struct ike_suite s = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                              .prf = IKE_PRF_HMAC_SHA1, .integ = IKE_INTEG_HMAC_SHA1_96};
        ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, IKE_PRF_HMAC_SHA1, sa.sk_d, 20, &s,
                                                     in.ni, in.ni_len, in.nr, in.nr_len, gn,
                                                     gn_len, 1, 2, &re), IKE_OK);
        uint8_t *seed = kat_bytes(b, "skeyseed_rekey", &seed_len), spis[16] = {0}, d[20];
        spis[7] = 1;
        spis[15] = 2;
        struct ike_iov v[] = {{in.ni, in.ni_len}, {in.nr, in.nr_len}, {spis, 16}};
        ck_assert_int_eq(ike_prf_plus(cr, IKE_PRF_HMAC_SHA1, seed, seed_len, v, 3, d, 20),
                         IKE_OK);
        ck_assert_mem_eq(re.sk_d, d, 20);
        free(seed);
        free(gn);
        kin_free(&in);
    }
    kat_free(&k);
}
END_TEST

START_TEST(child_keys_mirror_between_roles)
{
    uint8_t sk_d[32] = {7}, ni[32] = {1}, nr[32] = {2};
    struct ike_child_sa i = {.suite = {.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                                       .integ = IKE_INTEG_HMAC_SHA2_256_128}};
    struct ike_child_sa r = i;
    ck_assert_int_eq(ikev2_derive_child_keys(cr, IKE_PRF_HMAC_SHA2_256, sk_d, 32, NULL, 0, ni,
                                             32, nr, 32, true, &i), IKE_OK);
    ck_assert_int_eq(ikev2_derive_child_keys(cr, IKE_PRF_HMAC_SHA2_256, sk_d, 32, NULL, 0, ni,
                                             32, nr, 32, false, &r), IKE_OK);
    ck_assert_uint_eq(i.encr_key_len, 32);
    ck_assert_uint_eq(i.integ_key_len, 32);
    ck_assert_mem_eq(i.encr_key_out, r.encr_key_in, 32);
    ck_assert_mem_eq(i.encr_key_in, r.encr_key_out, 32);
    ck_assert_mem_eq(i.integ_key_out, r.integ_key_in, 32);
    ck_assert_mem_eq(i.integ_key_in, r.integ_key_out, 32);
    ck_assert(memcmp(i.encr_key_in, i.encr_key_out, 32) != 0);
}
END_TEST

START_TEST(bad_suites_and_inputs_refused)
{
    uint8_t n[300] = {1}, g[32] = {2}, d[64] = {3};
    struct ikev2_keys k;
    const struct ike_suite ok = {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256,
                                 .prf = IKE_PRF_HMAC_SHA2_256};
    struct ike_suite bad[] = {ok, ok, ok, ok, ok, ok};
    bad[0].prf = 3;                                         /* PRF_HMAC_TIGER */
    bad[1].encr = IKE_ENCR_AES_CBC;                         /* CBC without integrity */
    bad[2].integ = IKE_INTEG_HMAC_SHA2_256_128;             /* AEAD with integrity */
    bad[3].key_bits = 100;
    bad[4].encr = IKE_ENCR_NONE;
    bad[5].prf = IKE_PRF_NONE;
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &ok, n, 32, n, 32, g, 32, 1, 2, &k), IKE_OK);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(ikev2_derive_ike_keys(cr, &bad[i], n, 32, n, 32, g, 32, 1, 2, &k),
                         IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &ok, n, 257, n, 32, g, 32, 1, 2, &k),
                     IKE_ERR_INVAL);                        /* §3.9: at most 256 octets */
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &ok, n, 32, n, 0, g, 32, 1, 2, &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_ike_keys(cr, &ok, n, 32, n, 32, NULL, 0, 1, 2, &k),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, IKE_PRF_HMAC_SHA2_256, d, 32, &ok, n, 32, n,
                                                 32, g, 32, 1, 2, &k), IKE_OK);
    ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, IKE_PRF_HMAC_SHA2_256, d, 48, &ok, n, 32, n,
                                                 32, g, 32, 1, 2, &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, 4, d, 32, &ok, n, 32, n, 32, g, 32, 1, 2,
                                                 &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_rekey_ike_keys(cr, IKE_PRF_HMAC_SHA2_256, d, 32, &ok, n, 32, n,
                                                 32, NULL, 0, 1, 2, &k), IKE_ERR_INVAL);
    for (unsigned i = 1; i < 5; i++) {                      /* ESP suites: bad[1..4] */
        struct ike_child_sa sa = {.suite = bad[i]};
        ck_assert_int_eq(ikev2_derive_child_keys(cr, IKE_PRF_HMAC_SHA2_256, d, 32, NULL, 0, n,
                                                 32, n, 32, true, &sa), IKE_ERR_INVAL);
    }
    struct ike_child_sa sa = {.suite = ok};
    ck_assert_int_eq(ikev2_derive_child_keys(cr, IKE_PRF_HMAC_SHA2_256, d, 20, NULL, 0, n, 32, n,
                                             32, true, &sa), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev2_derive_child_keys(cr, 0, d, 32, NULL, 0, n, 32, n, 32, true, &sa),
                     IKE_ERR_INVAL);
}
END_TEST

static Suite *keys_v2_suite(void)
{
    Suite *s = suite_create("keys_v2");
    TCase *tc = tcase_create("keys_v2");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_schedules_known_answers);
    tcase_add_test(tc, cavp_samples_through_the_api);
    tcase_add_test(tc, child_keys_mirror_between_roles);
    tcase_add_test(tc, bad_suites_and_inputs_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(keys_v2_suite());
}
