#include "proposal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "suggest.h"

enum tok_kind { T_ENCR, T_INTEG, T_PRF, T_DH, T_ESN, T_REFUSED };

#define F_LEGACY 1u /* only with legacy: true */
#define F_SHA1 2u   /* IKEv2 IKE SAs: only with legacy: true (RFC 8247 demotes it) */
#define F_AEAD 4u

struct token {
    const char *name; /* first: suggest_in() reads it */
    enum tok_kind kind;
    uint16_t id;   /* IANA transform id from ikecore.h */
    uint16_t bits; /* key bits for encryption; for integrity: the matching PRF */
    unsigned flags;
    const char *why; /* T_REFUSED: the reason */
};

/* The first entry for an id is its canonical name (proposal_format). */
static const struct token tokens[] = {
    {"aes128", T_ENCR, IKE_ENCR_AES_CBC, 128, 0, NULL},
    {"aes192", T_ENCR, IKE_ENCR_AES_CBC, 192, 0, NULL},
    {"aes256", T_ENCR, IKE_ENCR_AES_CBC, 256, 0, NULL},
    {"aes", T_ENCR, IKE_ENCR_AES_CBC, 128, 0, NULL},
    {"aes128gcm16", T_ENCR, IKE_ENCR_AES_GCM_16, 128, F_AEAD, NULL},
    {"aes192gcm16", T_ENCR, IKE_ENCR_AES_GCM_16, 192, F_AEAD, NULL},
    {"aes256gcm16", T_ENCR, IKE_ENCR_AES_GCM_16, 256, F_AEAD, NULL},
    {"aes128gcm", T_ENCR, IKE_ENCR_AES_GCM_16, 128, F_AEAD, NULL},
    {"aes256gcm", T_ENCR, IKE_ENCR_AES_GCM_16, 256, F_AEAD, NULL},
    /* 3DES keys have one size: no Key Length attribute (RFC 7296 §3.3.5), so key_bits 0. */
    {"3des", T_ENCR, IKE_ENCR_3DES, 0, F_LEGACY, NULL},
    {"sha1", T_INTEG, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1, F_SHA1, NULL},
    {"sha", T_INTEG, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1, F_SHA1, NULL},
    {"sha256", T_INTEG, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, 0, NULL},
    {"sha384", T_INTEG, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384, 0, NULL},
    {"sha512", T_INTEG, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512, 0, NULL},
    {"sha2_256", T_INTEG, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, 0, NULL},
    {"sha2_384", T_INTEG, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384, 0, NULL},
    {"sha2_512", T_INTEG, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512, 0, NULL},
    {"prfsha1", T_PRF, IKE_PRF_HMAC_SHA1, 0, F_SHA1, NULL},
    {"prfsha256", T_PRF, IKE_PRF_HMAC_SHA2_256, 0, 0, NULL},
    {"prfsha384", T_PRF, IKE_PRF_HMAC_SHA2_384, 0, 0, NULL},
    {"prfsha512", T_PRF, IKE_PRF_HMAC_SHA2_512, 0, 0, NULL},
    {"modp1024", T_DH, IKE_DH_MODP_1024, 0, F_LEGACY, NULL},
    {"modp2048", T_DH, IKE_DH_MODP_2048, 0, 0, NULL},
    {"modp3072", T_DH, IKE_DH_MODP_3072, 0, 0, NULL},
    {"modp4096", T_DH, IKE_DH_MODP_4096, 0, 0, NULL},
    {"ecp256", T_DH, IKE_DH_ECP_256, 0, 0, NULL},
    {"ecp384", T_DH, IKE_DH_ECP_384, 0, 0, NULL},
    {"ecp521", T_DH, IKE_DH_ECP_521, 0, 0, NULL},
    {"curve25519", T_DH, IKE_DH_CURVE25519, 0, 0, NULL},
    {"x25519", T_DH, IKE_DH_CURVE25519, 0, 0, NULL},
    {"esn", T_ESN, 1, 0, 0, NULL},
    {"noesn", T_ESN, 0, 0, 0, NULL},
    {"des", T_REFUSED, 0, 0, 0, "single DES is broken"},
    {"md5", T_REFUSED, 0, 0, 0, "MD5 is broken"},
    {"prfmd5", T_REFUSED, 0, 0, 0, "MD5 is broken"},
    {"modp768", T_REFUSED, 0, 0, 0, "MODP-768 is broken"},
    {"null", T_REFUSED, 0, 0, 0, "ESP without encryption defeats the purpose"},
};
#define N_TOKENS (sizeof(tokens) / sizeof(tokens[0]))

static const char *const kind_names[] = {
    "encryption algorithm", "integrity algorithm", "PRF", "DH group", "esn setting", ""};

/* What one proposal says, before the completeness rules. */
struct seen {
    const struct token *t[T_REFUSED];
    size_t off[T_REFUSED];
};

static int fail(struct proposal_error *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct proposal_error *err, size_t off, const char *fmt, ...)
{
    va_list ap;
    err->offset = off;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static const struct token *lookup(const char *name)
{
    for (size_t i = 0; i < N_TOKENS; i++)
        if (strcasecmp(tokens[i].name, name) == 0)
            return &tokens[i];
    return NULL;
}

static int unknown(const char *name, size_t off, struct proposal_error *err)
{
    const char *s = suggest_in(name, tokens, sizeof(tokens[0]), N_TOKENS);
    if (s)
        return fail(err, off, "unknown algorithm '%s' (did you mean '%s'?)", name, s);
    return fail(err, off, "unknown algorithm '%s' (see the algorithm table in docs/config.md)",
                name);
}

/* Rules that one name breaks on its own, wherever it stands. */
static int token_allowed(const struct token *t, const struct proposal_rules *r, size_t off,
                         struct proposal_error *err)
{
    bool ike = r->kind == PROPOSAL_IKE;
    if (t->kind == T_REFUSED)
        return fail(err, off, "'%s' is not supported: %s", t->name, t->why);
    if ((t->flags & F_LEGACY) && !r->legacy)
        return fail(err, off,
                    "'%s' is a legacy algorithm: only a profile with 'legacy: true' may use it",
                    t->name);
    if ((t->flags & F_SHA1) && ike && r->ike_version == 2 && !r->legacy)
        return fail(err, off,
                    "'%s' in an IKEv2 IKE proposal needs a profile with 'legacy: true' "
                    "(use sha256 or stronger)",
                    t->name);
    if (t->kind == T_ESN && ike)
        return fail(err, off, "'%s' applies to esp proposals only", t->name);
    if (t->kind == T_PRF && !ike)
        return fail(err, off, "'%s' is an IKE PRF: esp proposals take none", t->name);
    if (t->kind == T_PRF && r->ike_version == 1)
        return fail(err, off, "'%s': IKEv1 derives its PRF from the hash algorithm; drop it",
                    t->name);
    if ((t->flags & F_AEAD) && ike && r->ike_version == 1)
        return fail(err, off,
                    "'%s': IKEv1 has no AEAD ciphers for the IKE SA "
                    "(use e.g. aes256-sha256-modp2048)",
                    t->name);
    return 0;
}

static int scan(const char *s, const struct proposal_rules *r, struct seen *sn,
                struct proposal_error *err)
{
    size_t len = strlen(s), start = 0;
    if (len == 0)
        return fail(err, 0, "empty proposal");
    if (len > PROPOSAL_MAX_LEN)
        return fail(err, 0, "proposal longer than %d characters", PROPOSAL_MAX_LEN);
    while (start <= len) {
        size_t end = start + strcspn(s + start, "-");
        char name[PROPOSAL_MAX_LEN + 1];
        memcpy(name, s + start, end - start);
        name[end - start] = '\0';
        if (!name[0])
            return fail(err, start, "empty algorithm name (stray '-')");
        const struct token *t = lookup(name);
        if (!t)
            return unknown(name, start, err);
        if (token_allowed(t, r, start, err) < 0)
            return -1;
        if (sn->t[t->kind])
            return fail(err, start,
                        "second %s '%s' (after '%s'): one proposal takes one of each; "
                        "list another proposal instead",
                        kind_names[t->kind], name, sn->t[t->kind]->name);
        sn->t[t->kind] = t;
        sn->off[t->kind] = start;
        start = end + 1;
    }
    return 0;
}

static int complete_ike(const struct seen *sn, struct ike_suite *out, struct proposal_error *err)
{
    const struct token *e = sn->t[T_ENCR];
    if (sn->t[T_INTEG])
        out->integ = sn->t[T_INTEG]->id;
    if (sn->t[T_PRF])
        out->prf = sn->t[T_PRF]->id;
    else if (sn->t[T_INTEG])
        out->prf = sn->t[T_INTEG]->bits;
    if (!sn->t[T_DH])
        return fail(err, 0, "IKE proposal without a DH group (add e.g. '-ecp384')");
    if (e->flags & F_AEAD && !out->prf)
        return fail(err, 0, "'%s' needs a PRF in IKE proposals (add e.g. '-prfsha384')", e->name);
    if (!out->prf)
        return fail(err, 0, "IKE proposal without an integrity algorithm (add e.g. '-sha256')");
    return 0;
}

static int complete_esp(const struct seen *sn, const struct proposal_rules *r,
                        struct ike_suite *out, struct proposal_error *err)
{
    if (sn->t[T_INTEG])
        out->integ = sn->t[T_INTEG]->id;
    if (!(sn->t[T_ENCR]->flags & F_AEAD) && !out->integ)
        return fail(err, 0, "esp proposal without an integrity algorithm (add e.g. '-sha256')");
    if (r->pfs && !sn->t[T_DH])
        return fail(err, 0,
                    "esp proposal without a DH group while pfs is on "
                    "(add e.g. '-ecp384', or set 'pfs: false')");
    /* Without PFS the groups are ignored: a peer can turn PFS off and keep its profile's list. */
    if (!r->pfs)
        out->dh = IKE_DH_NONE;
    out->esn = sn->t[T_ESN] ? sn->t[T_ESN]->id != 0 : r->esn;
    return 0;
}

int proposal_parse(const char *s, const struct proposal_rules *r, struct ike_suite *out,
                   struct proposal_error *err)
{
    struct seen sn;
    memset(&sn, 0, sizeof(sn));
    memset(out, 0, sizeof(*out));
    if (scan(s, r, &sn, err) < 0)
        return -1;
    const struct token *e = sn.t[T_ENCR];
    if (!e)
        return fail(err, 0, "proposal without an encryption algorithm (e.g. aes256gcm16)");
    if ((e->flags & F_AEAD) && sn.t[T_INTEG])
        return fail(err, sn.off[T_INTEG],
                    "'%s' with AEAD cipher '%s': AEAD proposals take no "
                    "integrity algorithm%s",
                    sn.t[T_INTEG]->name, e->name,
                    r->kind == PROPOSAL_IKE ? " (for the PRF, write e.g. 'prfsha384')" : "");
    out->encr = e->id;
    out->key_bits = e->bits;
    if (sn.t[T_DH])
        out->dh = sn.t[T_DH]->id;
    return r->kind == PROPOSAL_IKE ? complete_ike(&sn, out, err) : complete_esp(&sn, r, out, err);
}

static uint16_t integ_prf(uint16_t integ)
{
    for (size_t i = 0; i < N_TOKENS; i++)
        if (tokens[i].kind == T_INTEG && tokens[i].id == integ)
            return tokens[i].bits;
    return 0;
}

static const char *name_of(enum tok_kind kind, uint16_t id, uint16_t bits)
{
    for (size_t i = 0; i < N_TOKENS; i++)
        if (tokens[i].kind == kind && tokens[i].id == id &&
            (kind != T_ENCR || tokens[i].bits == bits))
            return tokens[i].name;
    return "?";
}

const char *proposal_dh_name(uint16_t group)
{
    return group ? name_of(T_DH, group, 0) : "none";
}

void proposal_format(const struct ike_suite *s, enum proposal_kind kind, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", name_of(T_ENCR, s->encr, s->key_bits));
    bool aead = s->encr == IKE_ENCR_AES_GCM_16;
    if (!aead && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "-%s", name_of(T_INTEG, s->integ, 0));
    /* With CBC the PRF goes without saying, unless it differs from the hash's. */
    bool own_prf = aead || s->prf != integ_prf(s->integ);
    if (kind == PROPOSAL_IKE && own_prf && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "-%s", name_of(T_PRF, s->prf, 0));
    if (s->dh && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "-%s", name_of(T_DH, s->dh, 0));
    if (kind == PROPOSAL_ESP && s->esn && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "-esn");
}
