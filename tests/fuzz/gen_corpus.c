/*
 * Writes the seed corpus for fuzz_ikev2 (format in fuzz_common.h): the real
 * datagrams of a handshake, a liveness check and the deletes, and typical
 * inner payload chains to be sealed. Usage: gen_corpus DIR
 */
#include <stdio.h>

#include "fuzz_common.h"

static int save(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

static uint8_t rec[2][32][IKE_MSG_MAX];
static size_t rec_len[2][32];
static unsigned n_rec[2];

static int record(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)arg;
    if (n_rec[to] < 32 && n <= IKE_MSG_MAX) {
        memcpy(rec[to][n_rec[to]], d, n);
        rec_len[to][n_rec[to]++] = n;
    }
    return 1;
}

static int inner_seeds(const char *dir)
{
    static uint8_t buf[4096], out[4200];
    struct ikev2_enc e;
    uint8_t *w = out;
    uint32_t spi = 0x01020304;
    uint8_t nonce[32] = {1}, id[4] = {192, 0, 2, 1};
    struct ikev2_ts ts = {.type = IKEV2_TS_IPV4, .proto = 47, .eport = 0xffff,
                          .saddr = {192, 0, 2, 1}, .eaddr = {192, 0, 2, 1}};
    struct ikev2_prop prop;
    struct ike_suite s = {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256};
    ike_props_from_suites(&s, 1, IKEV2_PROTO_ESP, (const uint8_t *)&spi, 4, false, &prop);
    /* IKE_AUTH-like chain */
    ikev2_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev2_put_id(&e, IKEV2_PLD_IDI, IKE_ID_IPV4_ADDR, id, 4);
    ikev2_put_auth(&e, IKEV2_AUTH_PSK, nonce, 32);
    ikev2_put_notify(&e, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
    ikev2_put_sa(&e, &prop, 1);
    ikev2_put_ts(&e, IKEV2_PLD_TSI, &ts, 1);
    ikev2_put_ts(&e, IKEV2_PLD_TSR, &ts, 1);
    buf[0] = e.first;
    fz_put(&w, 2, buf, e.w.len + 1);
    if (save(dir, "inner-auth", out, (size_t)(w - out)))
        return -1;
    /* CREATE_CHILD_SA-like chain */
    w = out;
    ikev2_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev2_put_notify(&e, IKEV2_PROTO_ESP, (const uint8_t *)&spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
    ikev2_put_sa(&e, &prop, 1);
    ikev2_put_nonce(&e, nonce, 32);
    ikev2_put_ke(&e, 31, nonce, 32);
    ikev2_put_ts(&e, IKEV2_PLD_TSI, &ts, 1);
    ikev2_put_ts(&e, IKEV2_PLD_TSR, &ts, 1);
    buf[0] = e.first;
    fz_put(&w, 3, buf, e.w.len + 1);
    if (save(dir, "inner-create-child", out, (size_t)(w - out)))
        return -1;
    /* INFORMATIONAL: deletes, then an empty one, then a response */
    w = out;
    ikev2_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev2_put_delete(&e, IKEV2_PROTO_ESP, &spi, 1);
    ikev2_put_delete(&e, IKEV2_PROTO_IKE, NULL, 0);
    ikev2_put_vendor(&e, nonce, 8);
    buf[0] = e.first;
    fz_put(&w, 4, buf, e.w.len + 1);
    buf[0] = 0;
    fz_put(&w, 5, buf, 1);
    return save(dir, "inner-info", out, (size_t)(w - out));
}

int main(int argc, char **argv)
{
    static uint8_t out[4 * IKE_MSG_MAX];
    struct h_pair p;
    char name[64];
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    fz_setup(&p);
    p.filter = record;
    if (h_start(&p, NULL) != 0)
        return 1;
    h_handshake(&p);
    h_run(&p, p.now + 6000);                        /* one liveness check */
    ike_rekey_child(p.s[0].ctx, p.now, p.s[0].peer);
    h_run(&p, p.now + 1000);
    ike_rekey_ike(p.s[1].ctx, p.now, p.s[1].peer);
    h_run(&p, p.now + 1000);
    ike_delete_child(p.s[0].ctx, p.now, p.s[0].peer);
    h_run(&p, p.now + 1000);
    ike_delete_ike(p.s[1].ctx, p.now, p.s[1].peer);
    h_run(&p, p.now + 1000);
    h_free(&p);
    for (int to = 0; to < 2; to++) {
        for (unsigned k = 0; k < n_rec[to]; k++) {
            uint8_t *w = out;
            fz_put(&w, (uint8_t)to, rec[to][k], rec_len[to][k]);
            snprintf(name, sizeof(name), "msg-to-%c-%u", to ? 'b' : 'a', k);
            if (save(argv[1], name, out, (size_t)(w - out)))
                return 1;
        }
    }
    return inner_seeds(argv[1]) ? 1 : 0;
}
