/*
 * NAT traversal in IKEv1 (RFC 3947): the NAT-D payloads of Main Mode
 * messages 3 and 4 and Aggressive Mode messages 2 and 3 and what they say
 * about NATs on the path (§3.2), and for Quick Mode the UDP-encapsulated
 * encapsulation mode (§5.1) and the NAT-OA payloads (§5.2). Moving to port
 * 4500, following a peer whose mapping changed and keepalives are the same
 * in both versions (natt.c).
 */
#include "ikev1_int.h"

#include <netinet/in.h>
#include <string.h>

static size_t addr_bytes(const struct sockaddr_storage *a, const uint8_t **ip)
{
    if (a->ss_family == AF_INET) {
        *ip = (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
        return 4;
    }
    *ip = (const uint8_t *)&((const struct sockaddr_in6 *)a)->sin6_addr;
    return 16;
}

/* §3.2: HASH(CKY-I | CKY-R | IP | Port), with the negotiated hash (not its HMAC). */
static int natd_hash(struct ike_ctx *ctx, const struct ike_sa *sa,
                     const struct sockaddr_storage *a, uint8_t *out)
{
    uint8_t ck[16], port[2];
    const uint8_t *ip;
    size_t n = addr_bytes(a, &ip);
    wire_put_be64_at(ck, sa->spi_i);
    wire_put_be64_at(ck + 8, sa->spi_r);
    port[0] = (uint8_t)(ike_addr_port(a) >> 8);
    port[1] = (uint8_t)ike_addr_port(a);
    struct ike_iov v[] = {{ck, 16}, {ip, n}, {port, 2}};
    return ike_hash(ctx->cr, sa->suite.prf, v, 3, out, NULL) == IKE_OK ? IKE_OK : IKE_ERR_CRYPTO;
}

/*
 * §3.2: the NAT-D of where the message goes, then that of where it leaves
 * from (one local address: the SA's). Only when both sides sent the VID.
 */
int ikev1_natd_add(struct ike_ctx *ctx, struct ike_sa *sa, struct ikev1_enc *e)
{
    uint8_t h[IKE_MAX_PRF_LEN];
    size_t n = ikev1_hash_len(sa);
    if (!sa->v1->natt)
        return IKE_OK;
    if (natd_hash(ctx, sa, &sa->remote, h) != IKE_OK)
        return IKE_ERR_CRYPTO;
    ikev1_put_natd(e, h, n);
    if (natd_hash(ctx, sa, &sa->local, h) != IKE_OK)
        return IKE_ERR_CRYPTO;
    ikev1_put_natd(e, h, n);
    return IKE_OK;
}

static bool natd_well_formed(const struct ike_sa *sa, const struct ikev1_msg *m)
{
    if (m->n_natd < 2)
        return false;
    for (unsigned i = 0; i < m->n_natd; i++)
        if (m->natd[i].len != ikev1_hash_len(sa))
            return false;
    return true;
}

/*
 * The peer's NAT-D payloads in a message that came from src to dst (§3.2):
 * the first is our address as the peer sent to it, a mismatch is a NAT in
 * front of us; one of the others is the peer's own, none matching is a NAT
 * in front of it. Without NAT-D the peer did not see our VID: no NAT-T.
 * A failure ends the SA (refused, or reported) and is returned.
 */
int ikev1_natd_take(struct ike_ctx *ctx, struct ike_sa *sa, const struct ikev1_msg *m,
                    const struct sockaddr_storage *src, const struct sockaddr_storage *dst)
{
    uint8_t ours[IKE_MAX_PRF_LEN], theirs[IKE_MAX_PRF_LEN];
    size_t n = ikev1_hash_len(sa);
    if (!sa->v1->natt || m->n_natd == 0) {
        sa->v1->natt = false;
        return IKE_OK;
    }
    if (!natd_well_formed(sa, m))
        return ikev1_auth_refused(ctx, sa, IKEV1_N_PAYLOAD_MALFORMED,
                                  "the peer's NAT-D payloads are malformed");
    if (natd_hash(ctx, sa, dst, ours) != IKE_OK || natd_hash(ctx, sa, src, theirs) != IKE_OK) {
        ikev1_fail(ctx, sa, IKE_R_INTERNAL, "could not compute NAT-D");
        return IKE_ERR_CRYPTO;
    }
    sa->nat_local = memcmp(m->natd[0].data, ours, n) != 0;
    sa->nat_remote = true;
    for (unsigned i = 1; i < m->n_natd; i++)
        if (memcmp(m->natd[i].data, theirs, n) == 0)
            sa->nat_remote = false;
    return IKE_OK;
}

/* ESP in UDP for the SA's IPsec SAs: the same rule as ike_child_addrs, so mode and kernel agree. */
bool ikev1_udp_encap(const struct ike_sa *sa)
{
    return ike_sa_nat(sa) && ike_addr_port(&sa->local) == IKE_NATT_PORT;
}

/* §5.1: UDP-Encapsulated-Transport instead of Transport once on port 4500 behind a NAT. */
uint16_t ikev1_encap_mode(const struct ike_sa *sa)
{
    return ikev1_udp_encap(sa) ? IKEV1_ENCAP_UDP_TRANSPORT : IKEV1_ENCAP_TRANSPORT;
}

static void put_natoa(struct ikev1_enc *e, const struct sockaddr_storage *a)
{
    const uint8_t *ip;
    size_t n = addr_bytes(a, &ip);
    ikev1_put_natoa(e, n == 4 ? IKEV1_ID_IPV4_ADDR : IKEV1_ID_IPV6_ADDR, ip, n);
}

/*
 * §5.2, transport mode with UDP encapsulation: NAT-OAi, the Quick Mode
 * initiator's address, then NAT-OAr, the responder's, each as this side
 * knows it (ours: the local one; the peer's: where we send to).
 */
void ikev1_natoa_add(struct ikev1_enc *e, const struct ike_sa *sa, bool qm_initiator)
{
    if (!ikev1_udp_encap(sa))
        return;
    put_natoa(e, qm_initiator ? &sa->local : &sa->remote);
    put_natoa(e, qm_initiator ? &sa->remote : &sa->local);
}

/* A Quick Mode client ID (GRE, one host) naming the address of a NAT-OA. */
bool ikev1_id_is_natoa(const struct ikev1_id *id, const struct ikev1_natoa *oa)
{
    return id->type == oa->type && id->proto == 47 && id->port == 0 && id->len == oa->len &&
           memcmp(id->data, oa->addr, oa->len) == 0;
}
