/*
 * IKEv1 pair for the test_ikev1_*.c suites (over ike_harness.h): both
 * peers version 1 with AES-CBC / SHA-256 / ECP-256 in phase 1 and
 * AES-CBC / HMAC-SHA-256 for ESP, and the checks of a good handshake.
 */
#ifndef TESTS_IKEV1_HARNESS_H
#define TESTS_IKEV1_HARNESS_H

#include "ike_harness.h"
#include "unit.h"

static struct h_pair P;

static const struct ike_suite v1_ike = {.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                                        .prf = IKE_PRF_HMAC_SHA2_256,
                                        .integ = IKE_INTEG_HMAC_SHA2_256_128,
                                        .dh = IKE_DH_ECP_256};
static const struct ike_suite v1_esp = {.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                                        .integ = IKE_INTEG_HMAC_SHA2_256_128};

static void setup(void)
{
    h_init(&P, "192.0.2.1", "192.0.2.2");
    for (int i = 0; i < 2; i++) {
        P.s[i].pc.version = 1;
        P.s[i].pc.ike[0] = v1_ike;
        P.s[i].pc.esp[0] = v1_esp;
        P.s[i].pc.ike_lifetime_s = 86400;
    }
}

static void teardown(void)
{
    h_free(&P);
}

static inline void start(void)
{
    ck_assert_int_eq(h_start(&P, NULL), 0);
}

/* Both sides up with one IPsec SA pair whose keys and SPIs mirror each other. */
static inline void assert_up(void)
{
    const struct h_side *a = &P.s[0], *b = &P.s[1];
    ck_assert_uint_eq(h_count(a, IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(b, IKE_EV_ERROR), 0);
    ck_assert_uint_eq(h_count(a, IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_IKE_UP), 1);
    ck_assert_uint_eq(h_count(a, IKE_EV_CHILD_UP), 1);
    ck_assert_uint_eq(h_count(b, IKE_EV_CHILD_UP), 1);
    const struct ike_event *ia = h_find(a, IKE_EV_IKE_UP, 0), *ib = h_find(b, IKE_EV_IKE_UP, 0);
    ck_assert_uint_eq(ia->u.ike.version, 1);
    ck_assert_uint_eq(ib->u.ike.version, 1);
    ck_assert(ia->u.ike.initiator && !ib->u.ike.initiator);
    ck_assert_uint_eq(ia->u.ike.spi_i, ib->u.ike.spi_i);
    ck_assert_uint_eq(ia->u.ike.spi_r, ib->u.ike.spi_r);
    ck_assert_uint_ne(ia->u.ike.spi_r, 0);
    ck_assert_mem_eq(&ia->u.ike.suite, &ib->u.ike.suite, sizeof(ia->u.ike.suite));
    const struct ike_child_sa *ca = &h_find(a, IKE_EV_CHILD_UP, 0)->u.child.sa;
    const struct ike_child_sa *cb = &h_find(b, IKE_EV_CHILD_UP, 0)->u.child.sa;
    ck_assert_uint_eq(ca->spi_in, cb->spi_out);
    ck_assert_uint_eq(ca->spi_out, cb->spi_in);
    ck_assert_uint_ne(ca->spi_in, 0);
    ck_assert_uint_ne(ca->spi_in, ca->spi_out);
    ck_assert_uint_eq(ca->encr_key_len, cb->encr_key_len);
    ck_assert_uint_gt(ca->encr_key_len, 0);
    ck_assert_uint_eq(ca->integ_key_len, cb->integ_key_len);
    ck_assert_mem_eq(ca->encr_key_in, cb->encr_key_out, ca->encr_key_len);
    ck_assert_mem_eq(ca->encr_key_out, cb->encr_key_in, ca->encr_key_len);
    ck_assert_mem_ne(ca->encr_key_in, ca->encr_key_out, ca->encr_key_len);
    if (ca->integ_key_len) {
        ck_assert_mem_eq(ca->integ_key_in, cb->integ_key_out, ca->integ_key_len);
        ck_assert_mem_eq(ca->integ_key_out, cb->integ_key_in, ca->integ_key_len);
    }
    ck_assert_mem_eq(&ca->suite, &cb->suite, sizeof(ca->suite));
    ck_assert(ca->transport && cb->transport);
    ck_assert_uint_eq(ca->ip_proto, 47);
    ck_assert_uint_eq(cb->ip_proto, 47);
    ck_assert_uint_eq(ca->reqid, 42);
    ck_assert_uint_eq(cb->reqid, 43);
    ck_assert_uint_eq(ca->lifetime_hard_s, cb->lifetime_hard_s);
    ck_assert_uint_eq(ca->lifetime_hard_kb, cb->lifetime_hard_kb);
    for (int i = 0; i < 2; i++) {  /* the hard ones negotiated, the soft ones jittered */
        const struct ike_child_sa *c = i ? cb : ca;
        ck_assert_uint_le(c->lifetime_soft_s, c->lifetime_hard_s - c->lifetime_hard_s / 10);
        ck_assert_uint_ge(c->lifetime_soft_s, c->lifetime_hard_s - c->lifetime_hard_s * 15 / 100);
        ck_assert_uint_le(c->lifetime_soft_kb, c->lifetime_hard_kb - c->lifetime_hard_kb / 10);
        ck_assert_uint_ge(c->lifetime_soft_kb, c->lifetime_hard_kb - c->lifetime_hard_kb * 15 / 100);
    }
    ck_assert_mem_eq(&ca->local, &P.s[0].addr, sizeof(ca->local));
    ck_assert_mem_eq(&ca->remote, &P.s[1].addr, sizeof(ca->remote));
}

static inline void assert_error(int side, enum ike_reason r)
{
    const struct ike_event *e = h_find(&P.s[side], IKE_EV_ERROR, 0);
    ck_assert_msg(e != NULL, "side %d: no error event", side);
    ck_assert_msg(e->u.error.reason == r, "side %d: %s, wanted %s", side,
                  ike_reason_str(e->u.error.reason), ike_reason_str(r));
    ck_assert_ptr_nonnull(e->u.error.detail);
}


/* The ISAKMP exchange type of a datagram (RFC 2408 §3.1); -1 if none. */
static inline int v1_exchange(const uint8_t *d, size_t n)
{
    return n >= 28 ? d[18] : -1;
}

static inline uint64_t v1_drops(const struct ike_stats *s)
{
    return s->drop_truncated + s->drop_bad_length + s->drop_unknown_spi + s->drop_bad_exchange +
           s->drop_integrity + s->drop_decrypt + s->drop_bad_msgid + s->drop_version;
}

#endif
