/*
 * IKEv1 proposals: our suites as ISAKMP transforms with their attributes
 * (RFC 2409 Appendix A for phase 1, RFC 2407 §4.5 for ESP, RFC 4106 §8.1
 * for AES-GCM) and the choice among the peer's (RFC 2408 §4.2: the
 * responder takes the first transform of the initiator's it accepts).
 */
#include "ikev1_int.h"

#include <string.h>

#define DEFAULT_LIFE_S 28800        /* RFC 2407 §4.5: without a lifetime, 8 hours */

static uint16_t p1_encr(uint16_t encr)
{
    return encr == IKE_ENCR_AES_CBC ? IKEV1_ENCR_AES : encr == IKE_ENCR_3DES ? IKEV1_ENCR_3DES : 0;
}

static uint16_t p1_hash(uint16_t prf)
{
    switch (prf) {
    case IKE_PRF_HMAC_SHA1: return IKEV1_HASH_SHA1;
    case IKE_PRF_HMAC_SHA2_256: return IKEV1_HASH_SHA2_256;
    case IKE_PRF_HMAC_SHA2_384: return IKEV1_HASH_SHA2_384;
    case IKE_PRF_HMAC_SHA2_512: return IKEV1_HASH_SHA2_512;
    default: return 0;
    }
}

static uint8_t esp_id(uint16_t encr)
{
    switch (encr) {
    case IKE_ENCR_AES_CBC: return IKEV1_ESP_AES;
    case IKE_ENCR_3DES: return IKEV1_ESP_3DES;
    case IKE_ENCR_AES_GCM_16: return IKEV1_ESP_AES_GCM_16;
    default: return 0;
    }
}

static uint16_t esp_auth(uint16_t integ)
{
    switch (integ) {
    case IKE_INTEG_HMAC_SHA1_96: return IKEV1_AUTH_HMAC_SHA1;
    case IKE_INTEG_HMAC_SHA2_256_128: return IKEV1_AUTH_HMAC_SHA2_256;
    case IKE_INTEG_HMAC_SHA2_384_192: return IKEV1_AUTH_HMAC_SHA2_384;
    case IKE_INTEG_HMAC_SHA2_512_256: return IKEV1_AUTH_HMAC_SHA2_512;
    default: return 0;
    }
}

static void add(struct ikev1_xf *xf, uint16_t type, uint32_t val)
{
    if (xf->n_attr < IKEV1_MAX_ATTR)
        xf->a[xf->n_attr++] = (struct ikev1_attr){type, val};
}

static bool keyed(uint16_t encr)
{
    return encr == IKE_ENCR_AES_CBC || encr == IKE_ENCR_AES_GCM_16;
}

/* One proposal, a transform per suite (Aggressive Mode: those of the first suite's group). */
void ikev1_p1_props(const struct ike_peer *p, bool aggressive, struct ikev1_prop *out)
{
    const struct ike_peer_config *pc = &p->cfg;
    memset(out, 0, sizeof(*out));
    out->num = 1;
    out->proto = IKEV1_PROTO_ISAKMP;
    for (unsigned i = 0; i < pc->n_ike && out->n_xf < IKEV1_MAX_XF; i++) {
        const struct ike_suite *s = &pc->ike[i];
        if (aggressive && s->dh != pc->ike[0].dh)
            continue;
        struct ikev1_xf *xf = &out->xf[out->n_xf++];
        xf->num = out->n_xf;
        xf->id = IKEV1_KEY_IKE;
        add(xf, IKEV1_A_ENCR, p1_encr(s->encr));
        if (keyed(s->encr))
            add(xf, IKEV1_A_KEY_LENGTH, s->key_bits);
        add(xf, IKEV1_A_HASH, p1_hash(s->prf));
        add(xf, IKEV1_A_AUTH, IKEV1_AUTH_PSK);
        add(xf, IKEV1_A_GROUP, s->dh);
        if (pc->ike_lifetime_s) {
            add(xf, IKEV1_A_LIFE_TYPE, IKEV1_LIFE_SECONDS);
            add(xf, IKEV1_A_LIFE_DURATION, pc->ike_lifetime_s);
        }
    }
}

/* A phase 1 transform as a suite (encr, key_bits, prf, dh) and its lifetime; false: not PSK, odd. */
static bool p1_parse(const struct ikev1_xf *xf, struct ike_suite *s, uint32_t *life_s)
{
    uint16_t life_type = 0;
    memset(s, 0, sizeof(*s));
    *life_s = DEFAULT_LIFE_S;
    bool psk = false;
    if (xf->id != IKEV1_KEY_IKE || xf->unusable)
        return false;
    for (unsigned i = 0; i < xf->n_attr; i++) {
        uint32_t v = xf->a[i].val;
        switch (xf->a[i].type) {
        case IKEV1_A_ENCR:
            s->encr = v == IKEV1_ENCR_AES ? IKE_ENCR_AES_CBC
                    : v == IKEV1_ENCR_3DES ? IKE_ENCR_3DES : 0xffff;
            break;
        case IKEV1_A_KEY_LENGTH: s->key_bits = (uint16_t)(v > 0xffff ? 0xffff : v); break;
        case IKEV1_A_HASH:
            s->prf = v == IKEV1_HASH_SHA1 ? IKE_PRF_HMAC_SHA1
                   : v == IKEV1_HASH_SHA2_256 ? IKE_PRF_HMAC_SHA2_256
                   : v == IKEV1_HASH_SHA2_384 ? IKE_PRF_HMAC_SHA2_384
                   : v == IKEV1_HASH_SHA2_512 ? IKE_PRF_HMAC_SHA2_512 : 0xffff;
            break;
        case IKEV1_A_AUTH: psk = v == IKEV1_AUTH_PSK; break;
        case IKEV1_A_GROUP: s->dh = (uint16_t)(v > 0xffff ? 0xffff : v); break;
        case IKEV1_A_LIFE_TYPE: life_type = (uint16_t)v; break;
        case IKEV1_A_LIFE_DURATION:
            if (life_type == IKEV1_LIFE_SECONDS)
                *life_s = v;
            break;
        default:
            return false;       /* an attribute that would change what we agree to */
        }
    }
    if (s->encr == IKE_ENCR_AES_CBC && !s->key_bits)
        s->key_bits = 128;      /* RFC 3602 §5.1 and common practice */
    return psk && s->encr && s->prf && s->dh;
}

static bool same_p1(const struct ike_suite *a, const struct ike_suite *ours)
{
    return a->encr == ours->encr && a->prf == ours->prf && a->dh == ours->dh &&
           (a->key_bits == ours->key_bits ||
            (a->encr == IKE_ENCR_3DES && (ours->key_bits == 0 || ours->key_bits == 192)));
}

static uint32_t min_life(uint32_t ours, uint32_t theirs)
{
    return !ours ? theirs : !theirs || ours < theirs ? ours : theirs;
}

static int p1_match(const struct ike_peer *p, const struct ikev1_xf *xf, bool aggressive,
                    struct ike_suite *suite, uint32_t *life_s)
{
    struct ike_suite s;
    uint32_t life;
    if (!p1_parse(xf, &s, &life))
        return -1;
    for (unsigned k = 0; k < p->cfg.n_ike; k++) {
        if (aggressive && p->cfg.ike[k].dh != p->cfg.ike[0].dh)
            continue;
        if (same_p1(&s, &p->cfg.ike[k])) {
            *suite = p->cfg.ike[k];
            *life_s = min_life(p->cfg.ike_lifetime_s, life);
            return (int)k;
        }
    }
    return -1;
}

/* Responder: the first of the initiator's transforms that is one of ours; 0 or -1. */
int ikev1_p1_select(const struct ike_peer *p, const struct ikev1_sa_pld *sa, bool aggressive,
                    struct ike_suite *suite, uint32_t *life_s, struct ikev1_prop *chosen)
{
    for (unsigned i = 0; i < sa->n; i++) {
        const struct ikev1_prop *pr = &sa->p[i];
        if (pr->proto != IKEV1_PROTO_ISAKMP)
            continue;
        for (unsigned j = 0; j < pr->n_xf; j++) {
            if (p1_match(p, &pr->xf[j], aggressive, suite, life_s) < 0)
                continue;
            *chosen = *pr;
            chosen->spi_size = 0;
            chosen->n_xf = 1;
            chosen->xf[0] = pr->xf[j];
            return 0;
        }
    }
    return -1;
}

/* Initiator: the responder's answer is one proposal, one transform, one of ours. */
int ikev1_p1_check(const struct ike_peer *p, const struct ikev1_sa_pld *sa,
                   struct ike_suite *suite, uint32_t *life_s)
{
    if (sa->n != 1 || sa->p[0].n_xf != 1 || sa->p[0].proto != IKEV1_PROTO_ISAKMP)
        return -1;
    return p1_match(p, &sa->p[0].xf[0], false, suite, life_s) < 0 ? -1 : 0;
}

/*
 * One ESP proposal with our SPI, a transform per suite of the first suite's
 * PFS group, each in Encapsulation Mode encap.
 */
void ikev1_p2_props(const struct ike_peer *p, uint32_t spi, uint16_t encap,
                    struct ikev1_prop *out)
{
    const struct ike_peer_config *pc = &p->cfg;
    memset(out, 0, sizeof(*out));
    out->num = 1;
    out->proto = IKEV1_PROTO_ESP;
    out->spi_size = 4;
    wire_put_be32_at(out->spi, spi);
    for (unsigned i = 0; i < pc->n_esp && out->n_xf < IKEV1_MAX_XF; i++) {
        const struct ike_suite *s = &pc->esp[i];
        if (s->dh != pc->esp[0].dh)
            continue;       /* one KE per Quick Mode */
        struct ikev1_xf *xf = &out->xf[out->n_xf++];
        xf->num = out->n_xf;
        xf->id = esp_id(s->encr);
        add(xf, IKEV1_A2_LIFE_TYPE, IKEV1_LIFE_SECONDS);
        add(xf, IKEV1_A2_LIFE_DURATION, pc->child_lifetime_s ? pc->child_lifetime_s : 3600);
        if (pc->child_lifetime_kb && pc->child_lifetime_kb <= UINT32_MAX) {
            add(xf, IKEV1_A2_LIFE_TYPE, IKEV1_LIFE_KILOBYTES);
            add(xf, IKEV1_A2_LIFE_DURATION, (uint32_t)pc->child_lifetime_kb);
        }
        if (s->dh)
            add(xf, IKEV1_A2_GROUP, s->dh);
        add(xf, IKEV1_A2_ENCAP, encap);
        if (s->integ)
            add(xf, IKEV1_A2_AUTH, esp_auth(s->integ));
        if (keyed(s->encr))
            add(xf, IKEV1_A2_KEY_LENGTH, s->key_bits);
        if (s->esn)
            add(xf, 11, 1);     /* RFC 4304 §2 */
    }
}

struct p2_attrs {
    struct ike_suite s;
    uint32_t life_s;
    uint64_t life_kb;
    uint16_t encap;         /* 0: none given */
};

static uint16_t integ_of(uint32_t v)
{
    switch (v) {
    case IKEV1_AUTH_HMAC_SHA1: return IKE_INTEG_HMAC_SHA1_96;
    case IKEV1_AUTH_HMAC_SHA2_256: return IKE_INTEG_HMAC_SHA2_256_128;
    case IKEV1_AUTH_HMAC_SHA2_384: return IKE_INTEG_HMAC_SHA2_384_192;
    case IKEV1_AUTH_HMAC_SHA2_512: return IKE_INTEG_HMAC_SHA2_512_256;
    default: return 0xffff;
    }
}

static bool p2_parse(const struct ikev1_xf *xf, struct p2_attrs *a)
{
    uint16_t life_type = 0;
    memset(a, 0, sizeof(*a));
    a->life_s = DEFAULT_LIFE_S;
    if (xf->unusable)
        return false;
    a->s.encr = xf->id == IKEV1_ESP_AES ? IKE_ENCR_AES_CBC : xf->id == IKEV1_ESP_3DES
              ? IKE_ENCR_3DES : xf->id == IKEV1_ESP_AES_GCM_16 ? IKE_ENCR_AES_GCM_16 : 0;
    for (unsigned i = 0; i < xf->n_attr; i++) {
        uint32_t v = xf->a[i].val;
        switch (xf->a[i].type) {
        case IKEV1_A2_LIFE_TYPE: life_type = (uint16_t)v; break;
        case IKEV1_A2_LIFE_DURATION:
            if (life_type == IKEV1_LIFE_SECONDS)
                a->life_s = v;
            else if (life_type == IKEV1_LIFE_KILOBYTES)
                a->life_kb = v;
            break;
        case IKEV1_A2_GROUP: a->s.dh = (uint16_t)(v > 0xffff ? 0xffff : v); break;
        case IKEV1_A2_ENCAP: a->encap = (uint16_t)(v > 0xffff ? 0 : v); break;
        case IKEV1_A2_AUTH: a->s.integ = integ_of(v); break;
        case IKEV1_A2_KEY_LENGTH: a->s.key_bits = (uint16_t)(v > 0xffff ? 0xffff : v); break;
        case 11: a->s.esn = v == 1; break;
        default: return false;
        }
    }
    if (a->s.encr == IKE_ENCR_AES_CBC && !a->s.key_bits)
        a->s.key_bits = 128;
    return a->s.encr != 0;
}

static bool same_p2(const struct ike_suite *a, const struct ike_suite *ours)
{
    return a->encr == ours->encr && a->integ == ours->integ && a->dh == ours->dh &&
           a->esn == ours->esn &&
           (a->key_bits == ours->key_bits ||
            (a->encr == IKE_ENCR_3DES && (ours->key_bits == 0 || ours->key_bits == 192)));
}

/* encap: the one mode we take (transport, or RFC 3947's UDP-encapsulated one behind a NAT). */
static bool p2_match(const struct ike_peer *p, const struct ikev1_xf *xf, uint16_t encap,
                     struct v1_qm *q)
{
    const struct ike_peer_config *pc = &p->cfg;
    struct p2_attrs a;
    if (!p2_parse(xf, &a) || a.encap != encap)
        return false;
    for (unsigned k = 0; k < pc->n_esp; k++) {
        if (!same_p2(&a.s, &pc->esp[k]))
            continue;
        uint32_t ours_s = pc->child_lifetime_s ? pc->child_lifetime_s : 3600;
        uint64_t ours_kb = pc->child_lifetime_kb <= UINT32_MAX ? pc->child_lifetime_kb : 0;
        q->child.suite = pc->esp[k];
        q->life_s = min_life(ours_s, a.life_s);
        q->life_kb = !ours_kb ? a.life_kb : !a.life_kb || ours_kb < a.life_kb ? ours_kb
                                                                              : a.life_kb;
        q->life_notify = q->life_s < a.life_s || (q->life_kb && q->life_kb != a.life_kb);
        return true;
    }
    return false;
}

/* Responder: the first ESP transform of the initiator's we accept; 0 or -1. */
int ikev1_p2_select(const struct ike_peer *p, const struct ikev1_sa_pld *sa, uint16_t encap,
                    struct v1_qm *q, struct ikev1_prop *chosen)
{
    for (unsigned i = 0; i < sa->n; i++) {
        const struct ikev1_prop *pr = &sa->p[i];
        bool bundle = (i > 0 && sa->p[i - 1].num == pr->num) ||
                      (i + 1 < sa->n && sa->p[i + 1].num == pr->num);
        if (pr->proto != IKEV1_PROTO_ESP || pr->spi_size != 4 || bundle)
            continue;       /* AH, or ESP bundled with something (RFC 2408 §4.2) */
        for (unsigned j = 0; j < pr->n_xf; j++) {
            if (!p2_match(p, &pr->xf[j], encap, q))
                continue;
            q->child.spi_out = wire_get32(pr->spi);
            *chosen = *pr;
            chosen->n_xf = 1;
            chosen->xf[0] = pr->xf[j];
            return 0;
        }
    }
    return -1;
}

/* Initiator: one ESP proposal with one transform, one we offered. */
int ikev1_p2_check(const struct ike_peer *p, const struct ikev1_sa_pld *sa, uint16_t encap,
                   struct v1_qm *q)
{
    if (sa->n != 1 || sa->p[0].n_xf != 1 || sa->p[0].proto != IKEV1_PROTO_ESP ||
        sa->p[0].spi_size != 4 || sa->p[0].xf[0].unusable)
        return -1;
    struct v1_qm tmp = *q;
    if (!p2_match(p, &sa->p[0].xf[0], encap, &tmp) || tmp.child.suite.dh != p->cfg.esp[0].dh)
        return -1;
    q->child.suite = tmp.child.suite;
    q->child.spi_out = wire_get32(sa->p[0].spi);
    q->life_s = tmp.life_s;
    q->life_kb = tmp.life_kb;
    return 0;
}
