/*
 * ikecore/ikev1_pld.c and ikev1_enc.c: every ISAKMP payload encoded and
 * decoded back, every truncated prefix of a message refused, lengths that
 * do not add up refused, attributes TV and TLV, padding after the chain.
 */
#include "../../ikecore/ikev1_pld.h"
#include "unit.h"

#include <string.h>

static uint8_t buf[4096];
static struct ikev1_msg M;

static const uint8_t ke[128] = {1, 2, 3}, nonce[32] = {9, 8, 7}, hash[20] = {5, 5, 5};
static const uint8_t addr[4] = {192, 0, 2, 1}, cookies[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static struct ikev1_prop prop(void)
{
    struct ikev1_prop p = {.num = 1, .proto = IKEV1_PROTO_ESP, .spi_size = 4,
                           .spi = {0xde, 0xad, 0xbe, 0xef}, .n_xf = 2};
    p.xf[0] = (struct ikev1_xf){.num = 1, .id = IKEV1_ESP_AES, .n_attr = 4,
                                .a = {{IKEV1_A2_ENCAP, 2}, {IKEV1_A2_AUTH, 5},
                                      {IKEV1_A2_KEY_LENGTH, 256},
                                      {IKEV1_A2_LIFE_DURATION, 4608000}}};
    p.xf[1] = (struct ikev1_xf){.num = 2, .id = IKEV1_ESP_AES_GCM_16, .n_attr = 1,
                                .a = {{IKEV1_A2_KEY_LENGTH, 128}}};
    return p;
}

/* Main Mode-like: SA, KE, NONCE, ID, HASH, N, VID. */
static size_t main_msg(void)
{
    struct ikev1_enc e;
    struct ikev1_hdr h = {.cky_i = 0x1122334455667788ull, .cky_r = 0x99, .exchange = 2,
                          .msgid = 0};
    struct ikev1_prop p = prop();
    ikev1_enc_init(&e, buf, sizeof(buf), true);
    ikev1_put_hdr(&e, &h);
    ikev1_put_sa(&e, &p, 1);
    ikev1_put_ke(&e, ke, sizeof(ke));
    ikev1_put_nonce(&e, nonce, sizeof(nonce));
    ikev1_put_id(&e, IKEV1_ID_IPV4_ADDR, 17, 500, addr, 4);
    ikev1_put_hash(&e, hash, sizeof(hash));
    ikev1_put_notify(&e, IKEV1_PROTO_ISAKMP, cookies, 16, IKEV1_N_INITIAL_CONTACT, NULL, 0);
    ikev1_put_vid(&e, ikev1_dpd_vid, IKEV1_DPD_VID_LEN);
    ck_assert(ikev1_enc_finish(&e));
    return e.w.len;
}

/* Informational-like: HASH, N (R-U-THERE), D. */
static size_t info_msg(void)
{
    struct ikev1_enc e;
    struct ikev1_hdr h = {.cky_i = 1, .cky_r = 2, .exchange = IKEV1_EXCH_INFO, .msgid = 77};
    uint8_t seq[4] = {0, 0, 0, 9}, spis[8] = {0, 0, 1, 0, 0, 0, 2, 0};
    ikev1_enc_init(&e, buf, sizeof(buf), true);
    ikev1_put_hdr(&e, &h);
    ikev1_put_hash(&e, hash, sizeof(hash));
    ikev1_put_notify(&e, IKEV1_PROTO_ISAKMP, cookies, 16, IKEV1_N_R_U_THERE, seq, 4);
    ikev1_put_delete(&e, IKEV1_PROTO_ESP, spis, 4, 2);
    ck_assert(ikev1_enc_finish(&e));
    return e.w.len;
}

START_TEST(main_round_trip)
{
    size_t n = main_msg();
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_OK);
    ck_assert_uint_eq(M.hdr.cky_i, 0x1122334455667788ull);
    ck_assert_uint_eq(M.hdr.version, IKEV1_VERSION);
    ck_assert_uint_eq(M.hdr.length, n);
    ck_assert_uint_eq(M.first, IKEV1_PLD_SA);
    ck_assert_uint_eq(M.sa.n, 1);
    const struct ikev1_prop *p = &M.sa.p[0];
    ck_assert_uint_eq(p->proto, IKEV1_PROTO_ESP);
    ck_assert_uint_eq(p->spi_size, 4);
    ck_assert_uint_eq(wire_get32(p->spi), 0xdeadbeef);
    ck_assert_uint_eq(p->n_xf, 2);
    uint32_t v;
    ck_assert(ikev1_xf_attr(&p->xf[0], IKEV1_A2_KEY_LENGTH, &v) && v == 256);
    ck_assert(ikev1_xf_attr(&p->xf[0], IKEV1_A2_LIFE_DURATION, &v) && v == 4608000);
    ck_assert(ikev1_xf_attr(&p->xf[0], IKEV1_A2_ENCAP, &v) && v == 2);
    ck_assert(!ikev1_xf_attr(&p->xf[0], IKEV1_A2_GROUP, &v));
    ck_assert_uint_eq(p->xf[1].id, IKEV1_ESP_AES_GCM_16);
    ck_assert_uint_eq(M.ke.len, sizeof(ke));
    ck_assert_mem_eq(M.ke.data, ke, sizeof(ke));
    ck_assert_uint_eq(M.nonce.len, sizeof(nonce));
    ck_assert_uint_eq(M.n_id, 1);
    ck_assert_uint_eq(M.id[0].type, IKEV1_ID_IPV4_ADDR);
    ck_assert_uint_eq(M.id[0].proto, 17);
    ck_assert_uint_eq(M.id[0].port, 500);
    ck_assert_mem_eq(M.id[0].data, addr, 4);
    ck_assert_uint_eq(M.id[0].body_len, 8);
    ck_assert_uint_eq(M.hash.len, sizeof(hash));
    ck_assert_uint_eq(M.n_notify, 1);
    ck_assert_uint_eq(M.notify[0].type, IKEV1_N_INITIAL_CONTACT);
    ck_assert_uint_eq(M.notify[0].spi_size, 16);
    ck_assert_mem_eq(M.notify[0].spi, cookies, 16);
    ck_assert(M.dpd_vid);
    /* what follows HASH: N and VID with their headers */
    ck_assert_uint_eq(M.after_hash_len, (8 + 16 + 4) + (16 + 4));
    /* SAi_b is the body without the generic header */
    ck_assert_uint_eq(wire_get32(M.sa.body), IKEV1_DOI_IPSEC);
}
END_TEST

START_TEST(info_round_trip)
{
    size_t n = info_msg();
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_OK);
    ck_assert_uint_eq(M.hdr.msgid, 77);
    ck_assert_uint_eq(M.first, IKEV1_PLD_HASH);
    ck_assert_uint_eq(M.n_notify, 1);
    ck_assert_uint_eq(M.notify[0].type, IKEV1_N_R_U_THERE);
    ck_assert_uint_eq(M.notify[0].len, 4);
    ck_assert_uint_eq(wire_get32(M.notify[0].data), 9);
    ck_assert_uint_eq(M.n_del, 1);
    ck_assert_uint_eq(M.del[0].proto, IKEV1_PROTO_ESP);
    ck_assert_uint_eq(M.del[0].n, 2);
    ck_assert_uint_eq(wire_get32(M.del[0].spi + 4), 0x200);
    ck_assert_ptr_eq(M.after_hash, buf + IKEV1_HDR_LEN + 4 + sizeof(hash));
    ck_assert_uint_eq(M.after_hash_len, n - IKEV1_HDR_LEN - 4 - sizeof(hash));
}
END_TEST

/* Every prefix, with the header's length telling the truth about it, is refused. */
static void prefixes(size_t n)
{
    static uint8_t copy[4096];
    for (size_t k = 0; k < n; k++) {
        memcpy(copy, buf, k);
        if (k >= IKEV1_HDR_LEN)
            copy[24] = (uint8_t)(k >> 24), copy[25] = (uint8_t)(k >> 16),
                                copy[26] = (uint8_t)(k >> 8), copy[27] = (uint8_t)k;
        ck_assert_msg(ikev1_msg_decode(copy, k, &M) != IKEV1_P_OK, "prefix %zu accepted", k);
        /* and with the original length: the header says more than there is */
        memcpy(copy, buf, k);
        ck_assert_msg(ikev1_msg_decode(copy, k, &M) != IKEV1_P_OK, "prefix %zu accepted", k);
    }
}

START_TEST(truncated_prefixes)
{
    prefixes(main_msg());
    prefixes(info_msg());
}
END_TEST

START_TEST(padding_after_chain)
{
    size_t n = info_msg();
    memset(buf + n, 0xa5, 7);
    memset(&M, 0, sizeof(M));
    M.hdr.exchange = IKEV1_EXCH_INFO;
    ck_assert_int_eq(ikev1_pld_chain(buf, IKEV1_HDR_LEN, n + 7, IKEV1_PLD_HASH, true, &M),
                     IKEV1_P_OK);
    memset(&M, 0, sizeof(M));
    M.hdr.exchange = IKEV1_EXCH_INFO;
    ck_assert_int_eq(ikev1_pld_chain(buf, IKEV1_HDR_LEN, n + 7, IKEV1_PLD_HASH, false, &M),
                     IKEV1_P_BAD_LENGTH);
}
END_TEST

START_TEST(bad_lengths)
{
    size_t n = main_msg();
    /* a payload length shorter than its header */
    size_t sa_len = wire_get16(buf + IKEV1_HDR_LEN + 2);
    buf[IKEV1_HDR_LEN + 2] = 0;
    buf[IKEV1_HDR_LEN + 3] = 3;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_BAD_LENGTH);
    /* longer than the message */
    buf[IKEV1_HDR_LEN + 2] = 0xff;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_TRUNCATED);
    buf[IKEV1_HDR_LEN + 2] = (uint8_t)(sa_len >> 8);
    buf[IKEV1_HDR_LEN + 3] = (uint8_t)sa_len;
    /* a proposal length past its SA payload */
    buf[IKEV1_HDR_LEN + 4 + 8 + 2] = 0x7f;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_BAD_LENGTH);
    n = main_msg();
    /* header length differs from the datagram */
    ck_assert_int_eq(ikev1_msg_decode(buf, n + 1, &M), IKEV1_P_BAD_LENGTH);
    /* IKEv2 version */
    buf[17] = 0x20;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_VERSION);
    buf[17] = 0x10;
    buf[18] = 99;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_NOT_ALLOWED);
}
END_TEST

START_TEST(decoders_refuse_short_bodies)
{
    struct ikev1_data d;
    struct ikev1_id id;
    struct ikev1_notify nt;
    struct ikev1_delete del;
    struct ikev1_sa_pld sa;
    uint8_t z[16] = {0};
    ck_assert_int_ne(ikev1_pld_ke(z, 0, 0, &d), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_hash(z, 0, 0, &d), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_nonce(z, 0, 7, &d), IKEV1_P_OK);
    ck_assert_int_eq(ikev1_pld_nonce(z, 0, 8, &d), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_id(z, 0, 4, &id), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_notify(z, 0, 7, &nt), IKEV1_P_OK);
    z[5] = 9;   /* SPI size past the body */
    ck_assert_int_ne(ikev1_pld_notify(z, 0, 16, &nt), IKEV1_P_OK);
    z[5] = 4;
    z[7] = 2;   /* two SPIs, room for one */
    ck_assert_int_ne(ikev1_pld_delete(z, 0, 12, &del), IKEV1_P_OK);
    ck_assert_int_eq(ikev1_pld_delete(z, 0, 16, &del), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_sa(z, 0, 15, &sa), IKEV1_P_OK);
    ck_assert_int_ne(ikev1_pld_sa(z, 0, 16, &sa), IKEV1_P_OK);  /* DOI 0 */
}
END_TEST

/* A transform whose TLV attribute is longer than 32 bits is kept but marked unusable. */
START_TEST(long_tlv_attribute)
{
    uint8_t t[] = {0, 0, 0, 16, 1, 12, 0, 0, 0, 2, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t body[64] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8 + 20, 1, 3, 0, 1};
    t[3] = sizeof(t);
    memcpy(body + 16, t, sizeof(t));
    struct ikev1_sa_pld sa;
    ck_assert_int_eq(ikev1_pld_sa(body, 0, 16 + sizeof(t), &sa), IKEV1_P_OK);
    ck_assert(sa.p[0].xf[0].unusable);
    body[16 + 11] = 9;  /* TLV length past the transform */
    ck_assert_int_ne(ikev1_pld_sa(body, 0, 16 + sizeof(t), &sa), IKEV1_P_OK);
}
END_TEST

START_TEST(unknown_and_repeated_payloads)
{
    size_t n = info_msg();
    /* a payload Main Mode does not carry (Delete) */
    buf[18] = IKEV1_EXCH_MAIN;
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_NOT_ALLOWED);
    n = info_msg();
    buf[16] = 14;       /* an unassigned payload type */
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_NOT_ALLOWED);
    buf[16] = 200;      /* private use: skipped */
    ck_assert_int_eq(ikev1_msg_decode(buf, n, &M), IKEV1_P_OK);
    /* two HASH payloads */
    struct ikev1_enc e;
    struct ikev1_hdr h = {.exchange = IKEV1_EXCH_INFO};
    ikev1_enc_init(&e, buf, sizeof(buf), true);
    ikev1_put_hdr(&e, &h);
    ikev1_put_hash(&e, hash, sizeof(hash));
    ikev1_put_hash(&e, hash, sizeof(hash));
    ck_assert(ikev1_enc_finish(&e));
    ck_assert_int_eq(ikev1_msg_decode(buf, e.w.len, &M), IKEV1_P_NOT_ALLOWED);
}
END_TEST

START_TEST(encoder_overflow)
{
    struct ikev1_enc e;
    struct ikev1_hdr h = {.exchange = IKEV1_EXCH_MAIN};
    ikev1_enc_init(&e, buf, 40, true);
    ikev1_put_hdr(&e, &h);
    ikev1_put_ke(&e, ke, sizeof(ke));
    ck_assert(!ikev1_enc_finish(&e));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ikev1_pld");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, main_round_trip);
    tcase_add_test(tc, info_round_trip);
    tcase_add_test(tc, truncated_prefixes);
    tcase_add_test(tc, padding_after_chain);
    tcase_add_test(tc, bad_lengths);
    tcase_add_test(tc, decoders_refuse_short_bodies);
    tcase_add_test(tc, long_tlv_attribute);
    tcase_add_test(tc, unknown_and_repeated_payloads);
    tcase_add_test(tc, encoder_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
