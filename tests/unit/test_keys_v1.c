/*
 * ikecore/keys_v1.c: IKEv1 keying material (RFC 2409 §5, §5.5, Appendix B)
 * against tests/data/kat/ikev1.txt: two captured main modes (SHA-1,
 * AES-128, group 2) and generated suites, among them the Appendix B key
 * expansion (3DES or AES-256 with SHA-1), phase 1 and phase 2 IVs, Quick
 * Mode KEYMAT with and without PFS; bad inputs refused.
 */
#include "../../ikecore/keys_v1.h"
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

static void check_phase1(const struct kat_block *b)
{
    uint16_t prf = (uint16_t)kat_uint(b, "prf"), encr = (uint16_t)kat_uint(b, "encr");
    size_t psk_len, ni_len, nr_len, g_len, xi_len, xr_len, iv_len;
    uint8_t *psk = kat_bytes(b, "psk", &psk_len), *ni = kat_bytes(b, "ni", &ni_len);
    uint8_t *nr = kat_bytes(b, "nr", &nr_len), *g = kat_bytes(b, "g_xy", &g_len);
    uint8_t *xi = kat_bytes(b, "g_xi", &xi_len), *xr = kat_bytes(b, "g_xr", &xr_len);
    uint8_t skeyid[IKE_MAX_PRF_LEN], iv[IKEV1_MAX_IV];
    struct ikev1_keys k;
    size_t plen = ike_prf_len(prf);
    ck_assert_int_eq(ikev1_skeyid_psk(cr, prf, psk, psk_len, ni, ni_len, nr, nr_len, skeyid),
                     IKE_OK);
    kat_assert_eq(b, "skeyid", skeyid, plen);
    ck_assert_int_eq(ikev1_derive_keys(cr, prf, skeyid, plen, g, g_len, kat_be(b, "cky_i"),
                                       kat_be(b, "cky_r"), encr,
                                       (uint16_t)kat_uint(b, "key_bits"), &k), IKE_OK);
    ck_assert_uint_eq(k.prf_len, plen);
    kat_assert_eq(b, "skeyid_d", k.skeyid_d, plen);
    kat_assert_eq(b, "skeyid_a", k.skeyid_a, plen);
    kat_assert_eq(b, "skeyid_e", k.skeyid_e, plen);
    kat_assert_eq(b, "encr_key", k.encr_key, k.encr_len);
    ck_assert_int_eq(ikev1_phase1_iv(cr, prf, xi, xi_len, xr, xr_len, encr, iv, &iv_len),
                     IKE_OK);
    kat_assert_eq(b, "iv", iv, iv_len);
    free(psk);
    free(ni);
    free(nr);
    free(g);
    free(xi);
    free(xr);
}

static void check_iv2(const struct kat_block *b)
{
    size_t n, iv_len;
    uint8_t *last = kat_bytes(b, "last_block", &n), iv[IKEV1_MAX_IV];
    uint16_t encr = (uint16_t)kat_uint(b, "encr");
    ck_assert_uint_eq(n, ike_encr_block_len(encr));
    ck_assert_int_eq(ikev1_phase2_iv(cr, (uint16_t)kat_uint(b, "prf"), last, encr,
                                     (uint32_t)kat_be(b, "msgid"), iv, &iv_len), IKE_OK);
    kat_assert_eq(b, "iv", iv, iv_len);
    free(last);
}

static void check_qm(const struct kat_block *b)
{
    size_t dlen, glen, ni_len, nr_len, n = kat_uint(b, "len");
    uint8_t *d = kat_bytes(b, "skeyid_d", &dlen), *g = kat_bytes(b, "g_qm", &glen);
    uint8_t *ni = kat_bytes(b, "ni", &ni_len), *nr = kat_bytes(b, "nr", &nr_len);
    uint8_t *out = malloc(n);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(ikev1_qm_keymat(cr, (uint16_t)kat_uint(b, "prf"), d, dlen,
                                     glen ? g : NULL, glen, (uint8_t)kat_uint(b, "protocol"),
                                     (uint32_t)kat_be(b, "spi"), ni, ni_len, nr, nr_len, out, n),
                     IKE_OK);
    kat_assert_eq(b, "keymat", out, n);
    free(out);
    free(d);
    free(g);
    free(ni);
    free(nr);
}

START_TEST(ikev1_known_answers)
{
    struct kat_file k;
    kat_load(&k, "ikev1");
    unsigned p1 = 0, iv2 = 0, qm = 0, expanded = 0;
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        const char *kind = kat_str(b, "kind");
        ck_assert_ptr_nonnull(kind);
        if (!strcmp(kind, "phase1")) {
            check_phase1(b);
            p1++;
            expanded += strlen(kat_str(b, "encr_key")) > strlen(kat_str(b, "skeyid_e"));
        } else if (!strcmp(kind, "iv2")) {
            check_iv2(b);
            iv2++;
        } else {
            check_qm(b);
            qm++;
        }
    }
    ck_assert_uint_ge(p1, 9);
    ck_assert_uint_ge(expanded, 2);         /* Appendix B used: 3DES and AES-256 with SHA-1 */
    ck_assert_uint_ge(iv2, 7);
    ck_assert_uint_ge(qm, 16);
    kat_free(&k);
}
END_TEST

START_TEST(negotiated_hash)
{
    /* FIPS 180-2 appendix B.1: SHA-256("abc") */
    static const uint8_t want[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
        0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
        0xf2, 0x00, 0x15, 0xad,
    };
    struct ike_iov v[] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}};
    uint8_t out[IKE_MAX_PRF_LEN];
    size_t n = 0;
    ck_assert_int_eq(ike_hash(cr, IKE_PRF_HMAC_SHA2_256, v, 2, out, &n), IKE_OK);
    ck_assert_uint_eq(n, 32);
    ck_assert_mem_eq(out, want, 32);
    ck_assert_int_eq(ike_hash(cr, 3, v, 2, out, &n), IKE_ERR_INVAL);
}
END_TEST

START_TEST(bad_inputs_refused)
{
    uint8_t x[64] = {1}, iv[IKEV1_MAX_IV];
    struct ikev1_keys k;
    size_t n;
    ck_assert_int_eq(ikev1_derive_keys(cr, IKE_PRF_HMAC_SHA1, x, 20, x, 64, 1, 2,
                                       IKE_ENCR_AES_CBC, 128, &k), IKE_OK);
    ck_assert_int_eq(ikev1_derive_keys(cr, IKE_PRF_HMAC_SHA1, x, 20, x, 64, 1, 2,
                                       IKE_ENCR_AES_GCM_16, 128, &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_derive_keys(cr, IKE_PRF_HMAC_SHA1, x, 32, x, 64, 1, 2,
                                       IKE_ENCR_AES_CBC, 128, &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_derive_keys(cr, 9, x, 20, x, 64, 1, 2, IKE_ENCR_AES_CBC, 128, &k),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_derive_keys(cr, IKE_PRF_HMAC_SHA1, x, 20, x, 64, 1, 2,
                                       IKE_ENCR_AES_CBC, 100, &k), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_skeyid_psk(cr, IKE_PRF_HMAC_SHA1, x, 8, x, 0, x, 8, x), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_phase1_iv(cr, IKE_PRF_HMAC_SHA1, x, 8, x, 8, IKE_ENCR_AES_GCM_16, iv,
                                     &n), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_phase2_iv(cr, IKE_PRF_HMAC_SHA1, NULL, IKE_ENCR_AES_CBC, 1, iv, &n),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_qm_keymat(cr, IKE_PRF_HMAC_SHA1, x, 20, NULL, 0, 3, 1, x, 8, x, 8,
                                     iv, 0), IKE_ERR_INVAL);
    ck_assert_int_eq(ikev1_qm_keymat(cr, IKE_PRF_HMAC_SHA1, x, 21, NULL, 0, 3, 1, x, 8, x, 8,
                                     iv, 16), IKE_ERR_INVAL);
}
END_TEST

static Suite *keys_v1_suite(void)
{
    Suite *s = suite_create("keys_v1");
    TCase *tc = tcase_create("keys_v1");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ikev1_known_answers);
    tcase_add_test(tc, negotiated_hash);
    tcase_add_test(tc, bad_inputs_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(keys_v1_suite());
}
