/* ikecore/ikev2_pld.c and ikev2_enc.c: one decoder per payload, the chain, and their encoders. */
#include <string.h>

#include "../../ikecore/ikev2_pld.h"
#include "unit.h"

static struct ikev2_msg m;
static uint8_t buf[4096];

static void begin(struct ikev2_enc *e, uint8_t exchange)
{
    struct ikev2_hdr h = {.spi_i = 0x1122334455667788ull, .exchange = exchange,
                          .flags = IKEV2_FLAG_INITIATOR};
    ikev2_enc_init(e, buf, sizeof(buf), true);
    ikev2_put_hdr(e, &h);
}

static size_t finish(struct ikev2_enc *e)
{
    ck_assert(ikev2_enc_finish(e));
    return e->w.len;
}

static void two_props(struct ikev2_prop *p)
{
    memset(p, 0, 2 * sizeof(*p));
    p[0] = (struct ikev2_prop){.num = 1, .proto = IKEV2_PROTO_IKE, .n_xf = 3};
    p[0].xf[0] = (struct ikev2_xf){IKEV2_XF_ENCR, 20, 256};
    p[0].xf[1] = (struct ikev2_xf){IKEV2_XF_PRF, 6, 0};
    p[0].xf[2] = (struct ikev2_xf){IKEV2_XF_DH, 20, 0};
    p[1] = (struct ikev2_prop){.num = 2, .proto = IKEV2_PROTO_ESP, .spi_size = 4,
                               .spi = {1, 2, 3, 4}, .n_xf = 2};
    p[1].xf[0] = (struct ikev2_xf){IKEV2_XF_ENCR, 12, 128};
    p[1].xf[1] = (struct ikev2_xf){IKEV2_XF_ESN, 1, 0};
}

/* A realistic IKE_SA_INIT request. */
static size_t init_msg(void)
{
    struct ikev2_enc e;
    struct ikev2_prop p[2];
    uint8_t ke[96], nonce[32], h[20];
    memset(ke, 7, sizeof(ke));
    memset(nonce, 9, sizeof(nonce));
    memset(h, 3, sizeof(h));
    two_props(p);
    p[1] = p[0];
    p[1].num = 2;
    begin(&e, IKEV2_IKE_SA_INIT);
    ikev2_put_sa(&e, p, 2);
    ikev2_put_ke(&e, 20, ke, sizeof(ke));
    ikev2_put_nonce(&e, nonce, sizeof(nonce));
    ikev2_put_notify(&e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, h, sizeof(h));
    ikev2_put_vendor(&e, (const uint8_t *)"vendor", 6);
    return finish(&e);
}

START_TEST(header_checks)
{
    size_t n = init_msg();
    struct ikev2_hdr h;
    ck_assert_int_eq(ikev2_hdr_decode(buf, n, &h), IKEV2_P_OK);
    ck_assert_uint_eq(h.spi_i, 0x1122334455667788ull);
    ck_assert_uint_eq(h.length, n);
    ck_assert_int_eq(ikev2_hdr_decode(buf, 27, &h), IKEV2_P_TRUNCATED);
    ck_assert_int_eq(ikev2_hdr_decode(buf, n - 1, &h), IKEV2_P_TRUNCATED);  /* says n */
    uint8_t big[4200];
    memcpy(big, buf, n);
    ck_assert_int_eq(ikev2_hdr_decode(big, n + 1, &h), IKEV2_P_BAD_LENGTH);
    buf[17] = 0x10;
    ck_assert_int_eq(ikev2_hdr_decode(buf, n, &h), IKEV2_P_VERSION);
    buf[17] = 0x20;
    buf[18] = 99;
    ck_assert_int_eq(ikev2_hdr_decode(buf, n, &h), IKEV2_P_NOT_ALLOWED);
}
END_TEST

START_TEST(whole_init_message)
{
    size_t n = init_msg();
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_OK);
    ck_assert(ikev2_has(&m, IKEV2_PLD_SA) && ikev2_has(&m, IKEV2_PLD_KE));
    ck_assert(ikev2_has(&m, IKEV2_PLD_NONCE) && ikev2_has(&m, IKEV2_PLD_VENDOR));
    ck_assert_uint_eq(m.sa.n, 2);
    ck_assert_uint_eq(m.ke.group, 20);
    ck_assert_uint_eq(m.ke.len, 96);
    ck_assert_uint_eq(m.nonce_len, 32);
    ck_assert_uint_eq(m.n_notify, 1);
    ck_assert_uint_eq(m.notify[0].len, 20);
    ck_assert_ptr_nonnull(ikev2_find_notify(&m, IKEV2_N_NAT_DETECTION_SOURCE_IP));
}
END_TEST

START_TEST(sa_round_trip)
{
    struct ikev2_enc e;
    struct ikev2_prop p[2];
    two_props(p);
    begin(&e, IKEV2_IKE_SA_INIT);
    ikev2_put_sa(&e, p, 2);
    finish(&e);
    struct ikev2_sa_pld sa;
    size_t plen = wire_get16(buf + 28 + 2);
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, plen - 4, &sa), IKEV2_P_OK);
    ck_assert_uint_eq(sa.n, 2);
    ck_assert_uint_eq(sa.p[0].n_xf, 3);
    ck_assert_uint_eq(sa.p[0].xf[0].key_bits, 256);
    ck_assert_uint_eq(sa.p[0].xf[1].key_bits, 0);
    ck_assert_uint_eq(sa.p[1].spi_size, 4);
    ck_assert_mem_eq(sa.p[1].spi, p[1].spi, 4);
    ck_assert_uint_eq(sa.p[1].xf[1].type, IKEV2_XF_ESN);
    ck_assert_uint_eq(sa.p[1].xf[1].id, 1);
    /* every shorter length is refused, never read past */
    for (size_t l = 0; l < plen - 4; l++)
        ck_assert_int_ne(ikev2_pld_sa(buf, 32, l, &sa), IKEV2_P_OK);
}
END_TEST

START_TEST(sa_bad_structure)
{
    struct ikev2_enc e;
    struct ikev2_prop p[2];
    struct ikev2_sa_pld sa;
    two_props(p);
    begin(&e, IKEV2_IKE_SA_INIT);
    ikev2_put_sa(&e, p, 1);
    finish(&e);
    size_t blen = wire_get16(buf + 30) - 4u;
    uint8_t *prop = buf + 32;
    prop[0] = 2;                                 /* "more" but nothing follows */
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_BAD_LENGTH);
    prop[0] = 1;                                 /* neither 0 nor 2 */
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_SYNTAX);
    prop[0] = 0;
    prop[7] = 4;                                 /* claims 4 transforms, has 3 */
    ck_assert_int_ne(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_OK);
    prop[7] = 2;                                 /* claims 2, has 3 */
    ck_assert_int_ne(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_OK);
    prop[7] = 3;
    prop[3] += 1;                                /* proposal longer than the payload */
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_BAD_LENGTH);
    prop[3] -= 1;
    prop[6] = 9;                                 /* SPI size 9 */
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_SYNTAX);
    prop[6] = 0;
    prop[8 + 3] = 7;                             /* transform length 7 */
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_BAD_LENGTH);
    prop[8 + 3] = 12;
    ck_assert_int_eq(ikev2_pld_sa(buf, 32, blen, &sa), IKEV2_P_OK);
}
END_TEST

START_TEST(ke_id_auth_nonce)
{
    uint8_t b[300] = {0, 19, 0, 0, 1, 2, 3};
    struct ikev2_ke ke;
    struct ikev2_id id;
    struct ikev2_auth au;
    ck_assert_int_eq(ikev2_pld_ke(b, 0, 3, &ke), IKEV2_P_BAD_LENGTH);
    ck_assert_int_eq(ikev2_pld_ke(b, 0, 7, &ke), IKEV2_P_OK);
    ck_assert_uint_eq(ke.group, 19);
    ck_assert_uint_eq(ke.len, 3);
    b[0] = IKEV2_AUTH_PSK;
    ck_assert_int_eq(ikev2_pld_id(b, 0, 4, &id), IKEV2_P_BAD_LENGTH);
    ck_assert_int_eq(ikev2_pld_id(b, 0, 7, &id), IKEV2_P_OK);
    ck_assert_uint_eq(id.type, 2);
    ck_assert_uint_eq(id.len, 3);
    ck_assert_uint_eq(id.body_len, 7);
    ck_assert_int_eq(ikev2_pld_auth(b, 0, 4, &au), IKEV2_P_BAD_LENGTH);
    ck_assert_int_eq(ikev2_pld_auth(b, 0, 7, &au), IKEV2_P_OK);
    ck_assert_uint_eq(au.method, IKEV2_AUTH_PSK);
    memset(&m, 0, sizeof(m));
    ck_assert_int_eq(ikev2_pld_nonce(b, 0, 15, &m), IKEV2_P_SYNTAX);
    ck_assert_int_eq(ikev2_pld_nonce(b, 0, 257, &m), IKEV2_P_SYNTAX);
    ck_assert_int_eq(ikev2_pld_nonce(b, 0, 16, &m), IKEV2_P_OK);
    ck_assert_int_eq(ikev2_pld_nonce(b, 0, 256, &m), IKEV2_P_OK);
}
END_TEST

START_TEST(notify_and_delete)
{
    uint8_t b[32] = {IKEV2_PROTO_ESP, 4, 0x40, 0x09, 0xaa, 0xbb, 0xcc, 0xdd, 0x55};
    struct ikev2_notify n;
    ck_assert_int_eq(ikev2_pld_notify(b, 0, 3, &n), IKEV2_P_BAD_LENGTH);
    ck_assert_int_eq(ikev2_pld_notify(b, 0, 7, &n), IKEV2_P_BAD_LENGTH);  /* SPI cut */
    ck_assert_int_eq(ikev2_pld_notify(b, 0, 9, &n), IKEV2_P_OK);
    ck_assert_uint_eq(n.type, IKEV2_N_REKEY_SA);
    ck_assert_uint_eq(n.len, 1);
    ck_assert_uint_eq(n.data[0], 0x55);
    struct ikev2_delete d;
    uint8_t del[] = {IKEV2_PROTO_ESP, 4, 0, 2, 0, 0, 1, 0, 0, 0, 2, 0};
    ck_assert_int_eq(ikev2_pld_delete(del, 0, sizeof(del), &d), IKEV2_P_OK);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.spi[1], 0x200);
    ck_assert_int_eq(ikev2_pld_delete(del, 0, sizeof(del) - 1, &d), IKEV2_P_BAD_LENGTH);
    del[3] = 3;
    ck_assert_int_eq(ikev2_pld_delete(del, 0, sizeof(del), &d), IKEV2_P_BAD_LENGTH);
    uint8_t ike[] = {IKEV2_PROTO_IKE, 0, 0, 0};
    ck_assert_int_eq(ikev2_pld_delete(ike, 0, 4, &d), IKEV2_P_OK);
    ike[1] = 8;
    ck_assert_int_eq(ikev2_pld_delete(ike, 0, 4, &d), IKEV2_P_SYNTAX);
}
END_TEST

START_TEST(ts_round_trip)
{
    struct ikev2_enc e;
    struct ikev2_ts ts[2] = {
        {.type = IKEV2_TS_IPV4, .proto = 47, .sport = 0, .eport = 0xffff,
         .saddr = {192, 0, 2, 1}, .eaddr = {192, 0, 2, 1}},
        {.type = IKEV2_TS_IPV6, .proto = 0, .sport = 0, .eport = 0xffff,
         .saddr = {0x20, 0x01, 0x0d, 0xb8}, .eaddr = {0x20, 0x01, 0x0d, 0xb8, 0xff}},
    };
    struct ikev2_ts_pld out;
    ikev2_enc_init(&e, buf, sizeof(buf), false);
    ikev2_put_ts(&e, IKEV2_PLD_TSI, ts, 2);
    ck_assert(!e.w.err);
    ck_assert_uint_eq(e.first, IKEV2_PLD_TSI);
    ck_assert_uint_eq(e.w.len, 4 + 4 + 16 + 40);
    ck_assert_int_eq(ikev2_pld_ts(buf, 4, e.w.len - 4, &out), IKEV2_P_OK);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_mem_eq(&out.ts[0], &ts[0], sizeof(ts[0]));
    ck_assert_mem_eq(out.ts[1].eaddr, ts[1].eaddr, 16);
    ck_assert_int_eq(ikev2_pld_ts(buf, 4, e.w.len - 5, &out), IKEV2_P_BAD_LENGTH);
    buf[4] = 3;         /* three claimed */
    ck_assert_int_ne(ikev2_pld_ts(buf, 4, e.w.len - 4, &out), IKEV2_P_OK);
    buf[4] = 0;
    ck_assert_int_eq(ikev2_pld_ts(buf, 4, e.w.len - 4, &out), IKEV2_P_SYNTAX);
    buf[4] = 2;
    buf[8 + 3] = 17;    /* IPv4 selector of length 17 */
    ck_assert_int_eq(ikev2_pld_ts(buf, 4, e.w.len - 4, &out), IKEV2_P_BAD_LENGTH);
}
END_TEST

START_TEST(unknown_payloads)
{
    struct ikev2_enc e;
    uint8_t nonce[16] = {0};
    begin(&e, IKEV2_IKE_SA_INIT);
    size_t s = ikev2_pld_begin(&e, 200);        /* unknown, not critical */
    wire_put_u32(&e.w, 0);
    ikev2_pld_end(&e, s);
    ikev2_put_nonce(&e, nonce, sizeof(nonce));
    size_t n = finish(&e);
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_OK);
    ck_assert(ikev2_has(&m, IKEV2_PLD_NONCE));
    buf[28 + 1] = 0x80;                         /* now critical */
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_CRITICAL);
    ck_assert_uint_eq(m.critical_type, 200);
}
END_TEST

START_TEST(not_allowed_here)
{
    struct ikev2_enc e;
    uint8_t nonce[16] = {0};
    begin(&e, IKEV2_IKE_SA_INIT);
    ikev2_put_id(&e, IKEV2_PLD_IDI, 1, nonce, 4);   /* IDi in IKE_SA_INIT */
    ck_assert_int_eq(ikev2_msg_decode(buf, finish(&e), &m), IKEV2_P_NOT_ALLOWED);
    begin(&e, IKEV2_IKE_SA_INIT);
    ikev2_put_nonce(&e, nonce, 16);
    ikev2_put_nonce(&e, nonce, 16);                 /* twice */
    ck_assert_int_eq(ikev2_msg_decode(buf, finish(&e), &m), IKEV2_P_NOT_ALLOWED);
    begin(&e, IKEV2_INFORMATIONAL);
    ikev2_put_nonce(&e, nonce, 16);                 /* outside SK */
    ck_assert_int_eq(ikev2_msg_decode(buf, finish(&e), &m), IKEV2_P_NOT_ALLOWED);
    /* inside SK: Delete is fine in INFORMATIONAL, SA is not */
    memset(&m, 0, sizeof(m));
    m.hdr.exchange = IKEV2_INFORMATIONAL;
    ikev2_enc_init(&e, buf, sizeof(buf), false);
    ikev2_put_delete(&e, IKEV2_PROTO_IKE, NULL, 0);
    ck_assert_int_eq(ikev2_pld_chain(buf, 0, e.w.len, e.first, true, &m), IKEV2_P_OK);
    ck_assert_uint_eq(m.n_del, 1);
    memset(&m, 0, sizeof(m));
    m.hdr.exchange = IKEV2_INFORMATIONAL;
    struct ikev2_prop p[2];
    two_props(p);
    ikev2_enc_init(&e, buf, sizeof(buf), false);
    ikev2_put_sa(&e, p, 1);
    ck_assert_int_eq(ikev2_pld_chain(buf, 0, e.w.len, e.first, true, &m), IKEV2_P_NOT_ALLOWED);
}
END_TEST

START_TEST(sk_must_be_last)
{
    struct ikev2_enc e;
    begin(&e, IKEV2_IKE_AUTH);
    size_t s = ikev2_pld_begin(&e, IKEV2_PLD_SK);
    wire_put_u32(&e.w, 0x01020304);
    ikev2_pld_end(&e, s);
    size_t n = finish(&e);
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_OK);
    ck_assert_uint_eq(m.sk_off, 28);
    ck_assert_uint_eq(m.sk_len, 4);
    wire_set_u16(&e.w, 30, 6);                  /* SK shorter than what follows */
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_BAD_LENGTH);
    begin(&e, IKEV2_IKE_SA_INIT);               /* SK in IKE_SA_INIT */
    s = ikev2_pld_begin(&e, IKEV2_PLD_SK);
    ikev2_pld_end(&e, s);
    ck_assert_int_eq(ikev2_msg_decode(buf, finish(&e), &m), IKEV2_P_NOT_ALLOWED);
}
END_TEST

START_TEST(generic_header_lengths)
{
    size_t n = init_msg();
    size_t sa_len = wire_get16(buf + 30);
    buf[30] = 0;
    buf[31] = 3;                                /* payload length 3 < 4 */
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_BAD_LENGTH);
    buf[30] = 0xff;
    buf[31] = 0xff;                             /* past the end */
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_TRUNCATED);
    buf[30] = (uint8_t)(sa_len >> 8);
    buf[31] = (uint8_t)sa_len;
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_OK);
    buf[16] = IKEV2_PLD_NONE;                   /* no payloads, bytes left over */
    ck_assert_int_eq(ikev2_msg_decode(buf, n, &m), IKEV2_P_BAD_LENGTH);
}
END_TEST

/* Every prefix and every single-byte corruption of a real message decodes or is refused cleanly. */
START_TEST(every_prefix_and_flip)
{
    size_t n = init_msg();
    uint8_t orig[4096], cut[4096];
    memcpy(orig, buf, n);
    for (size_t l = 0; l < n; l++) {
        memcpy(cut, orig, l);
        if (l >= 28)
            wire_set_u32(&(struct wire_wr){.p = cut, .cap = l, .len = l}, 24, (uint32_t)l);
        ck_assert_int_ne(ikev2_msg_decode(cut, l, &m), IKEV2_P_OK);
    }
    for (size_t i = 0; i < n; i++) {
        for (unsigned v = 0; v < 256; v += 51) {
            memcpy(cut, orig, n);
            cut[i] ^= (uint8_t)(v | 1);
            (void)ikev2_msg_decode(cut, n, &m);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_pld");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, header_checks);
    tcase_add_test(tc, whole_init_message);
    tcase_add_test(tc, sa_round_trip);
    tcase_add_test(tc, sa_bad_structure);
    tcase_add_test(tc, ke_id_auth_nonce);
    tcase_add_test(tc, notify_and_delete);
    tcase_add_test(tc, ts_round_trip);
    tcase_add_test(tc, unknown_payloads);
    tcase_add_test(tc, not_allowed_here);
    tcase_add_test(tc, sk_must_be_last);
    tcase_add_test(tc, generic_header_lengths);
    tcase_add_test(tc, every_prefix_and_flip);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
