/*
 * Writes the seed corpus for fuzz_ikev1 (format in fuzz_ikev1_common.h):
 * the real datagrams of a Main Mode + Quick Mode handshake, DPD, rekeys and
 * deletes, an Aggressive Mode, and typical payload chains to be protected.
 * Usage: gen_corpus_v1 DIR
 */
#include <stdio.h>

#include "fuzz_ikev1_common.h"

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

#define MAX_REC 48
static uint8_t rec[2][MAX_REC][2048];
static size_t rec_len[2][MAX_REC];
static unsigned n_rec[2];

static int record(struct h_pair *p, int to, const uint8_t *d, size_t n, void *arg)
{
    (void)p; (void)arg;
    if (n_rec[to] < MAX_REC && n <= sizeof(rec[0][0])) {
        memcpy(rec[to][n_rec[to]], d, n);
        rec_len[to][n_rec[to]++] = n;
    }
    return 1;
}

static int chain_seeds(const char *dir)
{
    static uint8_t buf[4096], out[4200];
    struct ikev1_enc e;
    struct ike_peer peer = {0};
    struct ikev1_prop prop;
    uint8_t nonce[32] = {1}, spi[16] = {1, 2, 3, 4}, seq[4] = {0, 0, 0, 7};
    uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
    uint8_t *w = out;
    peer.cfg.esp[0] = (struct ike_suite){.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256};
    peer.cfg.esp[1] = (struct ike_suite){.encr = IKE_ENCR_AES_CBC, .key_bits = 128,
                                         .integ = IKE_INTEG_HMAC_SHA1_96};
    peer.cfg.n_esp = 2;
    peer.cfg.child_lifetime_s = 3600;
    peer.cfg.child_lifetime_kb = 4608000;
    ikev1_p2_props(&peer, 0x01020304, IKEV1_ENCAP_TRANSPORT, &prop);
    ikev1_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev1_put_sa(&e, &prop, 1);
    ikev1_put_nonce(&e, nonce, sizeof(nonce));
    ikev1_put_id(&e, IKEV1_ID_IPV4_ADDR, 47, 0, a, 4);
    ikev1_put_id(&e, IKEV1_ID_IPV4_ADDR, 47, 0, b, 4);
    buf[0] = e.first;
    fz1_put(&w, 2, buf, e.w.len + 1);
    if (save(dir, "chain-quick", out, (size_t)(w - out)))
        return -1;
    w = out;
    ikev1_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev1_put_notify(&e, IKEV1_PROTO_ISAKMP, spi, 16, IKEV1_N_R_U_THERE, seq, 4);
    ikev1_put_delete(&e, IKEV1_PROTO_ESP, spi, 4, 1);
    ikev1_put_delete(&e, IKEV1_PROTO_ISAKMP, spi, 16, 1);
    buf[0] = e.first;
    fz1_put(&w, 3, buf, e.w.len + 1);
    ikev1_enc_init(&e, buf + 1, sizeof(buf) - 1, false);
    ikev1_put_notify(&e, IKEV1_PROTO_ESP, spi, 4, IKEV1_N_NO_PROPOSAL_CHOSEN, NULL, 0);
    buf[0] = e.first;
    fz1_put(&w, 3, buf, e.w.len + 1);
    return save(dir, "chain-info", out, (size_t)(w - out));
}

static int run(bool aggressive)
{
    struct h_pair p;
    fz1_setup(&p);
    p.s[0].pc.ikev1_aggressive = p.s[1].pc.ikev1_aggressive = aggressive;
    p.s[0].pc.esp[0].dh = p.s[1].pc.esp[0].dh = aggressive ? IKE_DH_CURVE25519 : 0;
    p.filter = record;
    if (h_start(&p, NULL) != 0)
        return -1;
    h_handshake(&p);
    if (!aggressive) {
        h_run(&p, p.now + 6000);                    /* one R-U-THERE */
        ike_rekey_child(p.s[0].ctx, p.now, p.s[0].peer);
        h_run(&p, p.now + 1000);
        ike_rekey_ike(p.s[1].ctx, p.now, p.s[1].peer);
        h_run(&p, p.now + 1000);
        ike_delete_child(p.s[0].ctx, p.now, p.s[0].peer);
        h_run(&p, p.now + 1000);
        ike_delete_ike(p.s[1].ctx, p.now, p.s[1].peer);
        h_run(&p, p.now + 1000);
    }
    h_free(&p);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t out[4096];
    char name[64];
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_v1 DIR\n");
        return 2;
    }
    for (int aggr = 0; aggr < 2; aggr++) {
        n_rec[0] = n_rec[1] = 0;
        if (run(aggr) != 0)
            return 1;
        for (int to = 0; to < 2; to++) {
            for (unsigned k = 0; k < n_rec[to]; k++) {
                uint8_t *w = out;
                fz1_put(&w, (uint8_t)to, rec[to][k], rec_len[to][k]);
                snprintf(name, sizeof(name), "%s-to-%c-%u", aggr ? "am" : "mm", to ? 'b' : 'a', k);
                if (save(argv[1], name, out, (size_t)(w - out)))
                    return 1;
            }
        }
    }
    return chain_seeds(argv[1]) ? 1 : 0;
}
