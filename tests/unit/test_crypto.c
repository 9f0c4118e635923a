/*
 * ikecore/crypto.c and cipher.c: algorithm sizes, integrity with its
 * truncations (RFC 2404, RFC 4868), AES-CBC / 3DES-CBC / AES-GCM-16
 * (RFC 3602, RFC 2451, RFC 5282) against published and generated vectors,
 * in place and out of place; a wrong tag, AAD, IV or ciphertext refused;
 * bad lengths and unknown ids refused.
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

START_TEST(sizes_follow_the_rfcs)
{
    ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA1), 20);
    ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_256), 32);
    ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_384), 48);
    ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
    static const struct { uint16_t id; size_t key, icv; } integ[] = {
        {IKE_INTEG_HMAC_SHA1_96, 20, 12}, {IKE_INTEG_HMAC_SHA2_256_128, 32, 16},
        {IKE_INTEG_HMAC_SHA2_384_192, 48, 24}, {IKE_INTEG_HMAC_SHA2_512_256, 64, 32},
        {IKE_INTEG_NONE, 0, 0}, {1, 0, 0}, {5, 0, 0}, {15, 0, 0},
    };
    for (unsigned i = 0; i < sizeof(integ) / sizeof(integ[0]); i++) {
        ck_assert_uint_eq(ike_integ_key_len(integ[i].id), integ[i].key);
        ck_assert_uint_eq(ike_integ_icv_len(integ[i].id), integ[i].icv);
    }
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 128), 16);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 192), 24);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 256), 32);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 128), 20);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 256), 36);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_3DES, 0), 24);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 0), 0);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 512), 0);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 64), 0);
    ck_assert_uint_eq(ike_encr_key_len(IKE_ENCR_NONE, 128), 0);
    ck_assert_uint_eq(ike_encr_key_len(19, 128), 0);    /* AES-GCM-12: not supported */
    ck_assert_uint_eq(ike_encr_iv_len(IKE_ENCR_AES_CBC), 16);
    ck_assert_uint_eq(ike_encr_iv_len(IKE_ENCR_AES_GCM_16), 8);
    ck_assert_uint_eq(ike_encr_iv_len(IKE_ENCR_3DES), 8);
    ck_assert_uint_eq(ike_encr_block_len(IKE_ENCR_AES_CBC), 16);
    ck_assert_uint_eq(ike_encr_block_len(IKE_ENCR_AES_GCM_16), 1);
    ck_assert_uint_eq(ike_encr_block_len(IKE_ENCR_3DES), 8);
    ck_assert_uint_eq(ike_encr_icv_len(IKE_ENCR_AES_GCM_16), 16);
    ck_assert_uint_eq(ike_encr_icv_len(IKE_ENCR_AES_CBC), 0);
    ck_assert(ike_encr_is_aead(IKE_ENCR_AES_GCM_16));
    ck_assert(!ike_encr_is_aead(IKE_ENCR_AES_CBC));
    ck_assert_uint_eq(ike_encr_iv_len(7), 0);
    ck_assert_uint_eq(ike_encr_block_len(7), 0);
}
END_TEST

START_TEST(integrity_known_answers)
{
    struct kat_file k;
    kat_load(&k, "integ");
    for (unsigned i = 0; i < k.n; i++) {
        const struct kat_block *b = &k.b[i];
        uint16_t id = (uint16_t)kat_uint(b, "integ");
        size_t klen, dlen;
        uint8_t *key = kat_bytes(b, "key", &klen), *data = kat_bytes(b, "data", &dlen);
        uint8_t icv[IKE_MAX_ICV + 1];
        memset(icv, 0xa5, sizeof(icv));
        ck_assert_uint_eq(klen, ike_integ_key_len(id));
        struct ike_iov v[] = {{data, dlen / 2}, {data + dlen / 2, dlen - dlen / 2}};
        ck_assert_int_eq(ike_integ(cr, id, key, v, 2, icv), IKE_OK);
        kat_assert_eq(b, "icv", icv, ike_integ_icv_len(id));
        ck_assert_uint_eq(icv[ike_integ_icv_len(id)], 0xa5);   /* nothing past the ICV */
        free(key);
        free(data);
    }
    kat_free(&k);
}
END_TEST

START_TEST(integrity_unknown_id_refused)
{
    uint8_t key[64] = {0}, icv[IKE_MAX_ICV];
    struct ike_iov v = {key, 8};
    ck_assert_int_eq(ike_integ(cr, IKE_INTEG_NONE, key, &v, 1, icv), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_integ(cr, 5, key, &v, 1, icv), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_integ(cr, IKE_INTEG_HMAC_SHA1_96, NULL, &v, 1, icv), IKE_ERR_INVAL);
}
END_TEST

START_TEST(constant_time_compare)
{
    const uint8_t a[] = {1, 2, 3, 4}, b[] = {1, 2, 3, 5};
    ck_assert_int_eq(ike_ct_equal(a, a, 4), 1);
    ck_assert_int_eq(ike_ct_equal(a, b, 4), 0);
    ck_assert_int_eq(ike_ct_equal(a, b, 3), 1);
    ck_assert_int_eq(ike_ct_equal(a, b, 0), 1);
}
END_TEST

struct cvec {
    uint16_t encr;
    size_t klen, ivlen, alen, n, tlen;
    uint8_t *key, *iv, *aad, *plain, *cipher, *tag;
};

static void cvec_load(const struct kat_block *b, struct cvec *v)
{
    v->encr = (uint16_t)kat_uint(b, "encr");
    v->key = kat_bytes(b, "key", &v->klen);
    v->iv = kat_bytes(b, "iv", &v->ivlen);
    v->aad = kat_bytes(b, "aad", &v->alen);
    v->plain = kat_bytes(b, "plain", &v->n);
    v->cipher = kat_bytes(b, "cipher", &v->n);
    v->tag = kat_bytes(b, "tag", &v->tlen);
    ck_assert_uint_eq(v->ivlen, ike_encr_iv_len(v->encr));
    ck_assert_uint_eq(v->tlen, ike_encr_icv_len(v->encr));
}

static void cvec_free(struct cvec *v)
{
    free(v->key);
    free(v->iv);
    free(v->aad);
    free(v->plain);
    free(v->cipher);
    free(v->tag);
}

static void check_cipher(const struct kat_block *b, const struct cvec *v)
{
    uint8_t *buf = malloc(v->n + 1), tag[16] = {0};
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(ike_encrypt(cr, v->encr, v->key, v->klen, v->iv, v->aad, v->alen, v->plain,
                                 v->n, buf, tag), IKE_OK);
    kat_assert_eq(b, "cipher", buf, v->n);
    kat_assert_eq(b, "tag", tag, v->tlen);
    ck_assert_int_eq(ike_decrypt(cr, v->encr, v->key, v->klen, v->iv, v->aad, v->alen, buf,
                                 v->n, buf, v->tag), IKE_OK);           /* in place */
    kat_assert_eq(b, "plain", buf, v->n);
    memcpy(buf, v->plain, v->n);
    ck_assert_int_eq(ike_encrypt(cr, v->encr, v->key, v->klen, v->iv, v->aad, v->alen, buf,
                                 v->n, buf, tag), IKE_OK);              /* in place */
    kat_assert_eq(b, "cipher", buf, v->n);
    free(buf);
}

/* All vectors in one context: keys, ciphers and modes change from call to call. */
START_TEST(cipher_known_answers)
{
    struct kat_file k;
    kat_load(&k, "cipher");
    unsigned gcm = 0, cbc = 0, des = 0;
    for (unsigned i = 0; i < k.n; i++) {
        struct cvec v;
        cvec_load(&k.b[i], &v);
        check_cipher(&k.b[i], &v);
        gcm += v.encr == IKE_ENCR_AES_GCM_16;
        cbc += v.encr == IKE_ENCR_AES_CBC;
        des += v.encr == IKE_ENCR_3DES;
        cvec_free(&v);
    }
    ck_assert_uint_ge(gcm, 12);
    ck_assert_uint_ge(cbc, 10);
    ck_assert_uint_ge(des, 2);
    kat_free(&k);
}
END_TEST

/* Decrypt v with one byte of field f flipped: refused, and no plaintext left in out. */
static void gcm_tamper(const struct cvec *v, uint8_t *field, size_t at)
{
    uint8_t *out = malloc(v->n + 1);
    ck_assert_ptr_nonnull(out);
    field[at] ^= 0x01;
    memset(out, 0x5a, v->n);
    ck_assert_int_eq(ike_decrypt(cr, v->encr, v->key, v->klen, v->iv, v->aad, v->alen, v->cipher,
                                 v->n, out, v->tag), IKE_ERR_CRYPTO);
    for (size_t i = 0; i < v->n; i++)
        ck_assert_uint_eq(out[i], 0);
    field[at] ^= 0x01;
    ck_assert_int_eq(ike_decrypt(cr, v->encr, v->key, v->klen, v->iv, v->aad, v->alen, v->cipher,
                                 v->n, out, v->tag), IKE_OK);
    ck_assert_mem_eq(out, v->plain, v->n);
    free(out);
}

START_TEST(gcm_refuses_tampering)
{
    struct kat_file k;
    kat_load(&k, "cipher");
    unsigned done = 0;
    for (unsigned i = 0; i < k.n; i++) {
        struct cvec v;
        cvec_load(&k.b[i], &v);
        if (v.encr == IKE_ENCR_AES_GCM_16 && v.n && v.alen) {
            gcm_tamper(&v, v.tag, 0);
            gcm_tamper(&v, v.tag, 15);
            gcm_tamper(&v, v.cipher, v.n - 1);
            gcm_tamper(&v, v.aad, 0);
            gcm_tamper(&v, v.iv, 7);
            gcm_tamper(&v, v.key, v.klen - 1);          /* the salt */
            gcm_tamper(&v, v.key, 0);
            done++;
        }
        cvec_free(&v);
    }
    ck_assert_uint_ge(done, 3);
    kat_free(&k);
}
END_TEST

START_TEST(bad_lengths_and_ids_refused)
{
    uint8_t key[36] = {0}, iv[16] = {0}, buf[64] = {0}, tag[16] = {0};
    /* CBC: whole blocks only; no padding is added here */
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_CBC, key, 16, iv, NULL, 0, buf, 15, buf, NULL),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ike_decrypt(cr, IKE_ENCR_AES_CBC, key, 32, iv, NULL, 0, buf, 17, buf, NULL),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_3DES, key, 24, iv, NULL, 0, buf, 12, buf, NULL),
                     IKE_ERR_INVAL);
    /* key lengths: GCM needs key + 4 salt bytes */
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_CBC, key, 20, iv, NULL, 0, buf, 16, buf, NULL),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_GCM_16, key, 16, iv, NULL, 0, buf, 16, buf,
                                 tag), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_3DES, key, 16, iv, NULL, 0, buf, 16, buf, NULL),
                     IKE_ERR_INVAL);
    /* GCM without a tag buffer, unknown transforms */
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_GCM_16, key, 20, iv, NULL, 0, buf, 16, buf,
                                 NULL), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_decrypt(cr, IKE_ENCR_AES_GCM_16, key, 20, iv, NULL, 0, buf, 16, buf,
                                 NULL), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_NONE, key, 16, iv, NULL, 0, buf, 16, buf, NULL),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, 19, key, 20, iv, NULL, 0, buf, 16, buf, tag),
                     IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_CBC, key, 16, NULL, NULL, 0, buf, 16, buf,
                                 NULL), IKE_ERR_INVAL);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_GCM_16, key, 20, iv, NULL, 8, buf, 16, buf,
                                 tag), IKE_ERR_INVAL);
    /* empty bodies are fine */
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_CBC, key, 16, iv, NULL, 0, NULL, 0, NULL, NULL),
                     IKE_OK);
    ck_assert_int_eq(ike_encrypt(cr, IKE_ENCR_AES_GCM_16, key, 20, iv, buf, 8, NULL, 0, NULL,
                                 tag), IKE_OK);
    ck_assert_int_eq(ike_decrypt(cr, IKE_ENCR_AES_GCM_16, key, 20, iv, buf, 8, NULL, 0, NULL,
                                 tag), IKE_OK);
}
END_TEST

START_TEST(context_lifecycle)
{
    ck_assert_int_eq(ike_crypto_new(NULL), IKE_ERR_INVAL);
    ike_crypto_free(NULL);
    struct ike_crypto *a = NULL, *b = NULL;
    ck_assert_int_eq(ike_crypto_new(&a), IKE_OK);
    ck_assert_int_eq(ike_crypto_new(&b), IKE_OK);       /* independent contexts */
    ck_assert_ptr_ne(a, b);
    ike_crypto_free(a);
    ike_crypto_free(b);
    uint8_t x[4] = {1, 2, 3, 4};
    ike_wipe(x, sizeof(x));
    ck_assert_uint_eq(x[0] | x[1] | x[2] | x[3], 0);
    ike_wipe(NULL, 4);
}
END_TEST

static Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("crypto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sizes_follow_the_rfcs);
    tcase_add_test(tc, integrity_known_answers);
    tcase_add_test(tc, integrity_unknown_id_refused);
    tcase_add_test(tc, constant_time_compare);
    tcase_add_test(tc, cipher_known_answers);
    tcase_add_test(tc, gcm_refuses_tampering);
    tcase_add_test(tc, bad_lengths_and_ids_refused);
    tcase_add_test(tc, context_lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(crypto_suite());
}
