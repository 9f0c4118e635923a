/*
 * ikecore/ikev2_msg.c and input.c on an established IKE SA: SK payloads
 * sealed and opened for every cipher, tampering, and authentic but malformed
 * requests (answered INVALID_SYNTAX / UNSUPPORTED_CRITICAL_PAYLOAD, §2.21.2, §2.5).
 */
#include "../../ikecore/ike_int.h"
#include "ike_harness.h"
#include "unit.h"

static struct h_pair P;
static uint8_t out[IKE_MSG_MAX];

static void setup(void)
{
    h_init(&P, "192.0.2.1", "192.0.2.2");
}

static void teardown(void)
{
    h_free(&P);
}

static struct ike_sa *sa_of(int side)
{
    return P.s[side].ctx->sas;
}

/* A request from a (the initiator) with this inner chain, as b expects it next. */
static size_t seal_request(uint8_t exchange, const uint8_t *inner, size_t n, uint8_t first)
{
    size_t len = 0;
    ck_assert_int_eq(ikev2_msg_seal(P.s[0].ctx, sa_of(0), exchange, false, sa_of(1)->msgid_peer,
                                    inner, n, first, out, sizeof(out), &len), IKE_OK);
    return len;
}

/* As if a had sent it: its next request gets the next message ID. */
static void deliver(size_t len)
{
    sa_of(0)->msgid_next++;
    ike_input(P.s[1].ctx, P.now, out, len, (struct sockaddr *)&P.s[0].addr,
              (struct sockaddr *)&P.s[1].addr);
}

static const struct ike_suite ike_ciphers[] = {
    {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 128, .prf = IKE_PRF_HMAC_SHA2_256, .dh = 31},
    {.encr = IKE_ENCR_AES_CBC, .key_bits = 256, .prf = IKE_PRF_HMAC_SHA2_512,
     .integ = IKE_INTEG_HMAC_SHA2_512_256, .dh = 31},
};

/* Sealed by one side, opened by the other; every flipped byte is caught. */
START_TEST(seal_open_and_tamper)
{
    P.s[0].pc.ike[0] = P.s[1].pc.ike[0] = ike_ciphers[_i];
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    uint8_t inner[64];
    struct ikev2_enc e;
    ikev2_enc_init(&e, inner, sizeof(inner), false);
    ikev2_put_notify(&e, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
    size_t len = seal_request(IKEV2_INFORMATIONAL, inner, e.w.len, e.first);
    struct ikev2_msg *m = &P.s[1].ctx->msg;
    ck_assert_int_eq(ikev2_msg_decode(out, len, m), IKEV2_P_OK);
    ck_assert_int_eq(ikev2_msg_open(P.s[1].ctx, sa_of(1), out, len, m), IKEV2_P_OK);
    ck_assert_uint_eq(m->n_notify, 1);
    ck_assert_uint_eq(m->notify[0].type, IKEV2_N_INITIAL_CONTACT);
    const struct ike_stats *st = ike_get_stats(P.s[1].ctx);
    for (size_t i = IKEV2_HDR_LEN + IKEV2_GEN_LEN; i < len; i++) {
        uint64_t before = st->drop_integrity + st->drop_decrypt;
        out[i] ^= 0x40;
        ck_assert_int_eq(ikev2_msg_decode(out, len, m), IKEV2_P_OK);
        ck_assert_int_eq(ikev2_msg_open(P.s[1].ctx, sa_of(1), out, len, m), IKE_ERR_DROPPED);
        ck_assert_uint_eq(st->drop_integrity + st->drop_decrypt, before + 1);
        out[i] ^= 0x40;
    }
}
END_TEST

START_TEST(malformed_request_gets_invalid_syntax)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    uint8_t inner[256];
    struct ikev2_enc e;
    struct ikev2_prop prop;
    ike_props_from_suites(&h_esp_default, 1, IKEV2_PROTO_ESP, (const uint8_t *)"abcd", 4, false,
                          &prop);
    ikev2_enc_init(&e, inner, sizeof(inner), false);
    ikev2_put_sa(&e, &prop, 1);                 /* SA is not allowed in INFORMATIONAL */
    deliver(seal_request(IKEV2_INFORMATIONAL, inner, e.w.len, e.first));
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_bad_exchange, 1);
    struct ike_event ev;
    ck_assert_int_eq(ike_next_event(P.s[1].ctx, &ev), 1);
    ck_assert_int_eq(ev.type, IKE_EV_ERROR);
    ck_assert_uint_eq(ev.u.error.reason, IKE_R_INVALID_SYNTAX);
    /* b answered: one SEND, an encrypted INVALID_SYNTAX notify */
    ck_assert_int_eq(ike_next_event(P.s[1].ctx, &ev), 1);
    ck_assert_int_eq(ev.type, IKE_EV_SEND);
    struct ikev2_msg *m = &P.s[0].ctx->msg;
    ck_assert_int_eq(ikev2_msg_decode(ev.u.send.data, ev.u.send.len, m), IKEV2_P_OK);
    ck_assert(m->hdr.flags & IKEV2_FLAG_RESPONSE);
    ck_assert_int_eq(ikev2_msg_open(P.s[0].ctx, sa_of(0), ev.u.send.data, ev.u.send.len, m),
                     IKEV2_P_OK);
    ck_assert_ptr_nonnull(ikev2_find_notify(m, IKEV2_N_INVALID_SYNTAX));
    /* the SA carries on */
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_run(&P, P.now + 5000);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 1);
}
END_TEST

START_TEST(unknown_critical_inner_payload)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    uint8_t inner[] = {0, 0x80, 0, 8, 1, 2, 3, 4};   /* type 250, critical */
    deliver(seal_request(IKEV2_INFORMATIONAL, inner, sizeof(inner), 250));
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_critical, 1);
    struct ike_event ev;
    ck_assert_int_eq(ike_next_event(P.s[1].ctx, &ev), 1);
    ck_assert_int_eq(ev.type, IKE_EV_ERROR);
    ck_assert_int_eq(ike_next_event(P.s[1].ctx, &ev), 1);
    struct ikev2_msg *m = &P.s[0].ctx->msg;
    ck_assert_int_eq(ikev2_msg_decode(ev.u.send.data, ev.u.send.len, m), IKEV2_P_OK);
    ck_assert_int_eq(ikev2_msg_open(P.s[0].ctx, sa_of(0), ev.u.send.data, ev.u.send.len, m),
                     IKEV2_P_OK);
    ck_assert_ptr_nonnull(ikev2_find_notify(m, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD));
    /* the same bytes unknown but not critical: skipped, answered normally */
    inner[1] = 0;
    deliver(seal_request(IKEV2_INFORMATIONAL, inner, sizeof(inner), 250));
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_critical, 1);
    ck_assert_int_eq(ike_next_event(P.s[1].ctx, &ev), 1);
    ck_assert_int_eq(ev.type, IKE_EV_SEND);
}
END_TEST

START_TEST(replayed_old_request_is_not_reprocessed)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
    h_handshake(&P);
    ck_assert_int_eq(ike_delete_child(P.s[0].ctx, P.now, P.s[0].peer), IKE_OK);
    h_pump(&P);
    size_t n = P.last_len[1];
    uint8_t *req = malloc(n);
    memcpy(req, P.last_pkt[1], n);              /* the INFORMATIONAL request b got */
    unsigned sends = h_count(&P.s[1], IKE_EV_SEND);
    h_deliver(&P, 1, req, n);                   /* again: answered from the cache */
    h_pump(&P);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_SEND), sends + 1);
    ck_assert_uint_eq(h_count(&P.s[1], IKE_EV_CHILD_DOWN), 1);
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->cache_replays, 1);
    ike_delete_ike(P.s[0].ctx, P.now, P.s[0].peer);
    h_pump(&P);
    h_deliver(&P, 1, req, n);                   /* older than the cached one: dropped */
    ck_assert_uint_eq(ike_get_stats(P.s[1].ctx)->drop_unknown_spi, 1);  /* SA is gone */
    free(req);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ikev2_msg");
    TCase *tc = tcase_create("sk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, seal_open_and_tamper, 0, 2);
    tcase_add_test(tc, malformed_request_gets_invalid_syntax);
    tcase_add_test(tc, unknown_critical_inner_payload);
    tcase_add_test(tc, replayed_old_request_is_not_reprocessed);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
