/*
 * SA proposals (RFC 7296 §2.7, §3.3): our suites as proposals, and the
 * responder's choice among the initiator's proposals.
 */
#include "ike_int.h"

#include <string.h>

static void add_xf(struct ikev2_prop *p, uint8_t type, uint16_t id, uint16_t bits)
{
    if (p->n_xf < IKEV2_MAX_XF)
        p->xf[p->n_xf++] = (struct ikev2_xf){.type = type, .id = id, .key_bits = bits};
}

/* One proposal per suite. ESP in IKE_AUTH carries no DH transform (§1.2). */
unsigned ike_props_from_suites(const struct ike_suite *s, unsigned n, uint8_t proto,
                               const uint8_t *spi, uint8_t spi_size, bool with_dh,
                               struct ikev2_prop *out)
{
    for (unsigned i = 0; i < n && i < IKEV2_MAX_PROPS; i++) {
        struct ikev2_prop *p = &out[i];
        memset(p, 0, sizeof(*p));
        p->num = (uint8_t)(i + 1);
        p->proto = proto;
        p->spi_size = spi_size;
        if (spi_size)
            memcpy(p->spi, spi, spi_size);
        add_xf(p, IKEV2_XF_ENCR, s[i].encr, s[i].key_bits);
        if (proto == IKEV2_PROTO_IKE)
            add_xf(p, IKEV2_XF_PRF, s[i].prf, 0);
        if (!ike_encr_is_aead(s[i].encr))
            add_xf(p, IKEV2_XF_INTEG, s[i].integ, 0);
        if (with_dh && (proto == IKEV2_PROTO_IKE || s[i].dh))
            add_xf(p, IKEV2_XF_DH, s[i].dh, 0);
        if (proto == IKEV2_PROTO_ESP)
            add_xf(p, IKEV2_XF_ESN, s[i].esn ? 1 : 0, 0);
    }
    return n < IKEV2_MAX_PROPS ? n : IKEV2_MAX_PROPS;
}

/* Is value among the transforms of this type? Absent type counts as "NONE" (id 0). */
static bool offers(const struct ikev2_prop *p, uint8_t type, uint16_t id, uint16_t bits)
{
    bool any = false;
    for (unsigned i = 0; i < p->n_xf; i++) {
        if (p->xf[i].type != type)
            continue;
        any = true;
        if (p->xf[i].id == id && (type != IKEV2_XF_ENCR || p->xf[i].key_bits == bits))
            return true;
    }
    return !any && id == 0;
}

bool ike_prop_match(const struct ikev2_prop *p, const struct ike_suite *s, uint8_t proto,
                    bool with_dh)
{
    if (p->proto != proto)
        return false;
    if (proto == IKEV2_PROTO_IKE && p->spi_size != 0 && p->spi_size != 8)
        return false;
    if (proto == IKEV2_PROTO_ESP && p->spi_size != 4)
        return false;
    for (unsigned i = 0; i < p->n_xf; i++)  /* §3.3.6: unknown transform types spoil it */
        if (p->xf[i].type < IKEV2_XF_ENCR || p->xf[i].type > IKEV2_XF_ESN)
            return false;
    bool aead = ike_encr_is_aead(s->encr);
    uint16_t dh = proto == IKEV2_PROTO_IKE || with_dh ? s->dh : 0;
    return offers(p, IKEV2_XF_ENCR, s->encr, s->key_bits) &&
           (proto != IKEV2_PROTO_IKE || offers(p, IKEV2_XF_PRF, s->prf, 0)) &&
           offers(p, IKEV2_XF_INTEG, aead ? 0 : s->integ, 0) &&
           (!with_dh && proto == IKEV2_PROTO_ESP ? true : offers(p, IKEV2_XF_DH, dh, 0)) &&
           (proto != IKEV2_PROTO_ESP || offers(p, IKEV2_XF_ESN, s->esn ? 1 : 0, 0));
}

/* §2.7: the responder picks one of the initiator's proposals, in the initiator's order. */
int ike_prop_select(const struct ikev2_sa_pld *sa, const struct ike_suite *ours, unsigned n,
                    uint8_t proto, bool with_dh, struct ike_suite *suite)
{
    for (unsigned i = 0; i < sa->n; i++) {
        for (unsigned j = 0; j < n; j++) {
            if (ike_prop_match(&sa->p[i], &ours[j], proto, with_dh)) {
                *suite = ours[j];
                if (proto == IKEV2_PROTO_ESP && !with_dh)
                    suite->dh = IKE_DH_NONE;
                return (int)i;
            }
        }
    }
    return -1;
}
