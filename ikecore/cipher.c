/*
 * Encryption of the SK payload body (RFC 7296 §3.14): AES-CBC (RFC 3602),
 * 3DES-CBC (RFC 2451, legacy profiles) and AES-GCM with a 16-byte ICV
 * (RFC 5282). No padding is added or removed here: the caller lays out the
 * Padding and Pad Length fields of §3.14 itself.
 */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <string.h>

#include "crypto_int.h"

#define GCM_SALT_LEN 4      /* RFC 5282 §7.1: the last 4 octets of the keying material */
#define GCM_IV_LEN 8        /* RFC 5282 §3: the IV on the wire */
#define GCM_TAG_LEN 16      /* ENCR_AES_GCM_16 */

/* Which cipher a key of klen bytes selects for this transform. */
static enum ike_cipher_id cipher_for(uint16_t encr, size_t klen)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC:
        return klen == 16 ? IKE_CIPH_AES128_CBC : klen == 24 ? IKE_CIPH_AES192_CBC
             : klen == 32 ? IKE_CIPH_AES256_CBC : IKE_CIPH_NONE;
    case IKE_ENCR_AES_GCM_16:
        return klen == 20 ? IKE_CIPH_AES128_GCM : klen == 28 ? IKE_CIPH_AES192_GCM
             : klen == 36 ? IKE_CIPH_AES256_GCM : IKE_CIPH_NONE;
    case IKE_ENCR_3DES:
        return klen == 24 ? IKE_CIPH_3DES_CBC : IKE_CIPH_NONE;
    default:
        return IKE_CIPH_NONE;
    }
}

/* One SK payload body to encrypt or decrypt. */
struct sk_op {
    EVP_CIPHER_CTX *c;
    const EVP_CIPHER *cipher;
    bool enc;
    const uint8_t *key, *iv, *aad, *in;
    size_t klen, aadlen, len;
    uint8_t *out;
};

/*
 * The cipher to pass to EVP_CipherInit_ex2: NULL once the context holds it,
 * so a new key and IV go to the provider context already there instead of a
 * reset, a fresh provider context and its parameters for every message.
 */
static const EVP_CIPHER *init_cipher(const struct sk_op *op)
{
    return EVP_CIPHER_CTX_get0_cipher(op->c) == op->cipher ? NULL : op->cipher;
}

/*
 * Where EVP_*Final may write: nothing is left over without padding (CBC) or
 * in GCM, but out may be NULL for an empty body, and NULL + 0 is undefined.
 */
static uint8_t *tail(uint8_t *out, int n, uint8_t *spare)
{
    return out ? out + n : spare;
}

/* The body through the initialised context; the whole of it, no padding. */
static int body(const struct sk_op *op)
{
    int n = 0, fin = 0;
    uint8_t spare[32];
    if (op->len && EVP_CipherUpdate(op->c, op->out, &n, op->in, (int)op->len) != 1)
        return IKE_ERR_CRYPTO;
    if (EVP_CipherFinal_ex(op->c, tail(op->out, n, spare), &fin) != 1 ||
        (size_t)n + (size_t)fin != op->len)
        return IKE_ERR_CRYPTO;
    return IKE_OK;
}

/* CBC (RFC 3602 §3, RFC 2451): the key as given; the wire IV is the CBC IV. */
static int cbc(const struct sk_op *op)
{
    if (op->len % (size_t)EVP_CIPHER_get_block_size(op->cipher))
        return IKE_ERR_INVAL;
    if (EVP_CipherInit_ex2(op->c, init_cipher(op), op->key, op->iv, op->enc, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(op->c, 0) != 1)
        return IKE_ERR_CRYPTO;
    return body(op);
}

/* GCM (RFC 5282 §3, §7.1): nonce = salt (the key's last 4 bytes) | 8-byte wire IV, then AAD. */
static int gcm_start(const struct sk_op *op)
{
    uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
    int n = 0;
    memcpy(nonce, op->key + op->klen - GCM_SALT_LEN, GCM_SALT_LEN);
    memcpy(nonce + GCM_SALT_LEN, op->iv, GCM_IV_LEN);
    /* 12 bytes is GCM's default nonce length: no parameter to set. */
    int ok = EVP_CipherInit_ex2(op->c, init_cipher(op), op->key, nonce, op->enc, NULL) == 1;
    if (ok && op->aadlen)
        ok = op->aadlen <= INT_MAX &&
             EVP_CipherUpdate(op->c, NULL, &n, op->aad, (int)op->aadlen) == 1;
    ike_wipe(nonce, sizeof(nonce));
    return ok ? IKE_OK : IKE_ERR_CRYPTO;
}

static int gcm_encrypt(const struct sk_op *op, uint8_t *tag)
{
    int rc = gcm_start(op);
    if (rc == IKE_OK)
        rc = body(op);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, GCM_TAG_LEN),
        OSSL_PARAM_construct_end(),
    };
    if (rc == IKE_OK && EVP_CIPHER_CTX_get_params(op->c, p) != 1)
        rc = IKE_ERR_CRYPTO;
    return rc;
}

/* EVP_CipherFinal_ex checks the tag; on any failure no decrypted byte is left in out. */
static int gcm_decrypt(const struct sk_op *op, const uint8_t *tag)
{
    uint8_t t[GCM_TAG_LEN];
    memcpy(t, tag, sizeof(t));
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, t, sizeof(t)),
        OSSL_PARAM_construct_end(),
    };
    int rc = gcm_start(op);
    if (rc == IKE_OK && EVP_CIPHER_CTX_set_params(op->c, p) != 1)
        rc = IKE_ERR_CRYPTO;
    if (rc == IKE_OK)
        rc = body(op);
    if (rc != IKE_OK)
        ike_wipe(op->out, op->len);
    return rc;
}

static int run_cipher(struct ike_crypto *cr, struct sk_op *op, uint16_t encr,
                      const uint8_t *tag_in, uint8_t *tag_out)
{
    enum ike_cipher_id id = cipher_for(encr, op->klen);
    if (!cr || id == IKE_CIPH_NONE || !op->key || !op->iv || op->len > INT_MAX ||
        (op->len && (!op->in || !op->out)) || (op->aadlen && !op->aad))
        return IKE_ERR_INVAL;
    op->c = cr->cctx[id];
    op->cipher = cr->cipher[id];
    if (!op->cipher || !op->c)
        return IKE_ERR_CRYPTO;                  /* 3DES where the provider lacks it */
    if (!ike_encr_is_aead(encr))
        return cbc(op);
    if (op->enc)
        return tag_out ? gcm_encrypt(op, tag_out) : IKE_ERR_INVAL;
    return tag_in ? gcm_decrypt(op, tag_in) : IKE_ERR_INVAL;
}

int ike_encrypt(struct ike_crypto *cr, uint16_t encr, const uint8_t *key, size_t klen,
                const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    struct sk_op op = {.enc = true, .key = key, .klen = klen, .iv = iv, .aad = aad,
                       .aadlen = aadlen, .in = in, .len = len, .out = out};
    return run_cipher(cr, &op, encr, NULL, tag);
}

int ike_decrypt(struct ike_crypto *cr, uint16_t encr, const uint8_t *key, size_t klen,
                const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
    struct sk_op op = {.enc = false, .key = key, .klen = klen, .iv = iv, .aad = aad,
                       .aadlen = aadlen, .in = in, .len = len, .out = out};
    return run_cipher(cr, &op, encr, tag, NULL);
}
