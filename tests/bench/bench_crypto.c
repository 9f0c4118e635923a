/*
 * The crypto layer alone: Diffie-Hellman per group (key pairs, shared
 * secrets, and the DH work of one handshake, which bounds the handshake
 * rate), the key schedules, SK payload encryption of 1 KB, and the three
 * ways to drive an HMAC through EVP_MAC (why crypto.c keeps one re-keyed
 * context per digest). Usage: bench_crypto [seconds per row, default 0.45]
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../ikecore/keys_v1.h"
#include "bench_common.h"

static double budget = 0.45;
static int failures;

static void row(const char *name, double rate, const char *unit, double bytes)
{
    if (rate < 0) {
        printf("  %-44s FAILED\n", name);
        failures++;
    } else if (bytes > 0) {
        printf("  %-44s %10.0f %-8s %8.1f MB/s\n", name, rate, unit, rate * bytes / 1e6);
    } else {
        printf("  %-44s %10.0f %s\n", name, rate, unit);
    }
}

/* --- Diffie-Hellman ---------------------------------------------------- */

static int dh_keygen(void *arg)
{
    struct bench_dh *b = arg;
    struct ike_dh *dh = NULL;
    int rc = ike_dh_new(b->cr, b->group, bench_random, &b->rng, &dh);
    ike_dh_free(dh);
    return rc;
}

struct dh_pair {
    struct ike_dh *mine;
    const uint8_t *peer;
    size_t peer_len;
};

static int dh_derive(void *arg)
{
    struct dh_pair *p = arg;
    uint8_t s[IKE_MAX_DH_SHARED];
    size_t len = sizeof(s);
    int rc = ike_dh_shared(p->mine, p->peer, p->peer_len, s, &len);
    ike_wipe(s, sizeof(s));
    return rc;
}

static double derive_rate(struct ike_crypto *cr, uint16_t group)
{
    struct bench_rng rng = {1000};
    struct ike_dh *a = NULL, *b = NULL;
    double rate = -1;
    if (ike_dh_new(cr, group, bench_random, &rng, &a) == IKE_OK &&
        ike_dh_new(cr, group, bench_random, &rng, &b) == IKE_OK) {
        struct dh_pair p = {a, NULL, 0};
        p.peer = ike_dh_public(b, &p.peer_len);
        rate = bench_rate(dh_derive, &p, budget);
    }
    ike_dh_free(a);
    ike_dh_free(b);
    return rate;
}

static void bench_dh(struct ike_crypto *cr)
{
    static const struct { uint16_t group; const char *name; } g[] = {
        {IKE_DH_MODP_1024, "2  MODP-1024"}, {IKE_DH_MODP_2048, "14 MODP-2048"},
        {IKE_DH_MODP_3072, "15 MODP-3072"}, {IKE_DH_MODP_4096, "16 MODP-4096"},
        {IKE_DH_ECP_256, "19 ECP-256"}, {IKE_DH_ECP_384, "20 ECP-384"},
        {IKE_DH_ECP_521, "21 ECP-521"}, {IKE_DH_CURVE25519, "31 Curve25519"},
    };
    printf("\nDiffie-Hellman (group)        key pairs/s   secrets/s   DH limit: handshakes/s\n");
    for (unsigned i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        struct bench_dh b = {cr, g[i].group, {0}};
        double kg = bench_rate(dh_keygen, &b, budget), dr = derive_rate(cr, g[i].group);
        double hs = bench_dh_handshake_rate(cr, g[i].group, budget);
        if (kg < 0 || dr < 0 || hs < 0) {
            printf("  %-26s FAILED\n", g[i].name);
            failures++;
            continue;
        }
        printf("  %-26s %12.0f %11.0f %14.0f\n", g[i].name, kg, dr, hs);
    }
    printf("  (DH limit = 2 key pairs + 2 shared secrets: both ends of one IKE_SA_INIT)\n");
}

/* --- Key schedules ------------------------------------------------------ */

struct ks {
    struct ike_crypto *cr;
    struct ike_suite s;
    uint8_t ni[32], nr[32], g[512], sk_d[64];
    size_t g_len;
    struct ikev2_keys keys;
    struct ike_child_sa child;
};

static int ks_ike(void *arg)
{
    struct ks *k = arg;
    return ikev2_derive_ike_keys(k->cr, &k->s, k->ni, 32, k->nr, 32, k->g, k->g_len, 1, 2,
                                 &k->keys);
}

static int ks_child(void *arg)
{
    struct ks *k = arg;
    return ikev2_derive_child_keys(k->cr, k->s.prf, k->sk_d, ike_prf_len(k->s.prf),
                                   k->g_len ? k->g : NULL, k->g_len, k->ni, 32, k->nr, 32, true,
                                   &k->child);
}

static int ks_prf_plus(void *arg)
{
    struct ks *k = arg;
    struct ike_iov seed = {k->ni, 32};
    static uint8_t out[1024];
    return ike_prf_plus(k->cr, k->s.prf, k->sk_d, 32, &seed, 1, out, sizeof(out));
}

static int ks_ikev1(void *arg)
{
    struct ks *k = arg;
    uint8_t skeyid[IKE_MAX_PRF_LEN];
    struct ikev1_keys v1;
    int rc = ikev1_skeyid_psk(k->cr, IKE_PRF_HMAC_SHA1, k->sk_d, 16, k->ni, 32, k->nr, 32,
                              skeyid);
    if (rc == IKE_OK)
        rc = ikev1_derive_keys(k->cr, IKE_PRF_HMAC_SHA1, skeyid, 20, k->g, 128, 1, 2,
                               IKE_ENCR_3DES, 0, &v1);
    ike_wipe(&v1, sizeof(v1));
    return rc;
}

static void bench_keys(struct ike_crypto *cr)
{
    struct ks k = {.cr = cr, .ni = {1}, .nr = {2}, .g = {3}, .sk_d = {4}};
    printf("\nKey schedules                                     ops/s\n");
    k.s = (struct ike_suite){.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256,
                             .prf = IKE_PRF_HMAC_SHA2_384};
    k.g_len = 96;
    row("IKE SA, AES-GCM-256 / PRF-SHA384, ECP-384", bench_rate(ks_ike, &k, budget), "", 0);
    k.s = (struct ike_suite){.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                             .prf = IKE_PRF_HMAC_SHA2_256, .integ = IKE_INTEG_HMAC_SHA2_256_128};
    k.g_len = 256;
    row("IKE SA, AES-CBC-256 / SHA2-256 / MODP-2048", bench_rate(ks_ike, &k, budget), "", 0);
    k.child.suite = (struct ike_suite){.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256};
    k.g_len = 0;
    row("CHILD SA, ESP AES-GCM-256, no PFS", bench_rate(ks_child, &k, budget), "", 0);
    k.g_len = 32;
    row("CHILD SA, ESP AES-GCM-256, PFS Curve25519", bench_rate(ks_child, &k, budget), "", 0);
    row("prf+ HMAC-SHA256, 1024 bytes (32 blocks)", bench_rate(ks_prf_plus, &k, budget), "", 0);
    row("IKEv1 SKEYID..Ka, SHA-1 / 3DES / MODP-1024", bench_rate(ks_ikev1, &k, budget), "", 0);
}

/* --- SK payload encryption ----------------------------------------------- */

struct enc {
    struct ike_crypto *cr;
    uint16_t encr, integ;
    uint8_t key[36], akey[32], iv[16], aad[32], buf[1024 + 32], tag[16];
    size_t klen;
};

static int enc_once(void *arg)
{
    struct enc *e = arg;
    int rc = ike_encrypt(e->cr, e->encr, e->key, e->klen, e->iv, e->aad, sizeof(e->aad), e->buf,
                         1024, e->buf, e->tag);
    if (rc == IKE_OK && e->integ) {
        struct ike_iov v[] = {{e->aad, sizeof(e->aad)}, {e->iv, 16}, {e->buf, 1024}};
        rc = ike_integ(e->cr, e->integ, e->akey, v, 3, e->buf + 1024);
    }
    return rc;
}

/* Decrypting the same bytes again and again needs a valid tag: re-encrypt each time. */
static int gcm_roundtrip(void *arg)
{
    struct enc *e = arg;
    int rc = ike_encrypt(e->cr, e->encr, e->key, e->klen, e->iv, e->aad, sizeof(e->aad), e->buf,
                         1024, e->buf, e->tag);
    if (rc == IKE_OK)
        rc = ike_decrypt(e->cr, e->encr, e->key, e->klen, e->iv, e->aad, sizeof(e->aad), e->buf,
                         1024, e->buf, e->tag);
    return rc;
}

static void bench_cipher(struct ike_crypto *cr)
{
    struct enc e = {.cr = cr, .encr = IKE_ENCR_AES_GCM_16, .klen = 36};
    printf("\nSK payload, 1 KB                                  ops/s\n");
    row("AES-GCM-256 encrypt (RFC 5282)", bench_rate(enc_once, &e, budget), "", 1024);
    row("AES-GCM-256 encrypt + decrypt", bench_rate(gcm_roundtrip, &e, budget), "", 1024);
    e = (struct enc){.cr = cr, .encr = IKE_ENCR_AES_CBC, .klen = 32,
                     .integ = IKE_INTEG_HMAC_SHA2_256_128};
    row("AES-CBC-256 encrypt + HMAC-SHA2-256-128", bench_rate(enc_once, &e, budget), "", 1024);
}

/* --- HMAC through EVP_MAC: three strategies ------------------------------- */

struct mac {
    EVP_MAC *hmac;
    EVP_MAC_CTX *tmpl;
    struct ike_crypto *cr;
    uint8_t key[32], msg[64], out[64];
};

static int mac_finish(EVP_MAC_CTX *c, struct mac *m)
{
    size_t n;
    return EVP_MAC_init(c, m->key, sizeof(m->key), NULL) == 1 &&
           EVP_MAC_update(c, m->msg, sizeof(m->msg)) == 1 &&
           EVP_MAC_final(c, m->out, &n, sizeof(m->out)) == 1 ? 0 : -1;
}

static int mac_fresh(void *arg)
{
    struct mac *m = arg;
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(m->hmac);
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA2-256", 0),
                      OSSL_PARAM_construct_end()};
    int rc = c && EVP_MAC_CTX_set_params(c, p) == 1 ? mac_finish(c, m) : -1;
    EVP_MAC_CTX_free(c);
    return rc;
}

static int mac_dup(void *arg)
{
    struct mac *m = arg;
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->tmpl);
    int rc = c ? mac_finish(c, m) : -1;
    EVP_MAC_CTX_free(c);
    return rc;
}

static int mac_ikecore(void *arg)
{
    struct mac *m = arg;
    struct ike_iov v = {m->msg, sizeof(m->msg)};
    return ike_prf(m->cr, IKE_PRF_HMAC_SHA2_256, m->key, sizeof(m->key), &v, 1, m->out);
}

static void bench_mac(struct ike_crypto *cr)
{
    struct mac m = {.cr = cr, .key = {5}, .msg = {6}};
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA2-256", 0),
                      OSSL_PARAM_construct_end()};
    m.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    m.tmpl = m.hmac ? EVP_MAC_CTX_new(m.hmac) : NULL;
    if (!m.tmpl || EVP_MAC_CTX_set_params(m.tmpl, p) != 1) {
        printf("\nHMAC strategies: setup FAILED\n");
        failures++;
    } else {
        printf("\nOne PRF call, HMAC-SHA256 (32-byte key, 64 bytes)  calls/s\n");
        row("new EVP_MAC_CTX + digest parameter", bench_rate(mac_fresh, &m, budget), "", 0);
        row("EVP_MAC_CTX_dup of a template", bench_rate(mac_dup, &m, budget), "", 0);
        row("one context per digest, re-keyed (ike_prf)", bench_rate(mac_ikecore, &m, budget),
            "", 0);
    }
    EVP_MAC_CTX_free(m.tmpl);
    EVP_MAC_free(m.hmac);
}

int main(int argc, char **argv)
{
    struct ike_crypto *cr;
    if (argc > 1 && atof(argv[1]) > 0)
        budget = atof(argv[1]);
    if (ike_crypto_new(&cr) != IKE_OK) {
        printf("bench_crypto: ike_crypto_new failed\n");
        return 1;
    }
    printf("bench_crypto: %s; per CPU second of one thread, best of 3 slices of %.2fs\n",
           OpenSSL_version(OPENSSL_VERSION), budget / 3);
    bench_dh(cr);
    bench_keys(cr);
    bench_cipher(cr);
    bench_mac(cr);
    ike_crypto_free(cr);
    return failures ? 1 : 0;
}
