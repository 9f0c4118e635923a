/*
 * IKEv1 identities: phase 1 IDii/IDir (RFC 2409 §5, RFC 2407 §4.6.2: the
 * configured one, else our address; protocol/port 0 or UDP/500) and the
 * Quick Mode client IDs (§5.5): the two WAN addresses, protocol 47, port 0.
 */
#include "ikev1_int.h"

#include <netinet/in.h>
#include <string.h>

#define GRE 47

static void addr_id(const struct sockaddr_storage *a, struct ike_id *id)
{
    memset(id, 0, sizeof(*id));
    if (a->ss_family == AF_INET) {
        id->type = IKE_ID_IPV4_ADDR;
        id->len = 4;
        memcpy(id->data, &((const struct sockaddr_in *)a)->sin_addr, 4);
    } else {
        id->type = IKE_ID_IPV6_ADDR;
        id->len = 16;
        memcpy(id->data, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
    }
}

void ikev1_local_id(const struct ike_sa *sa, struct ike_id *id)
{
    if (sa->peer->cfg.local_id.type)
        *id = sa->peer->cfg.local_id;
    else
        addr_id(&sa->local, id);
}

bool ikev1_remote_id_ok(const struct ike_sa *sa, const struct ikev1_id *got)
{
    struct ike_id want;
    if (sa->peer->cfg.remote_id.type)
        want = sa->peer->cfg.remote_id;
    else
        addr_id(&sa->remote, &want);
    /* RFC 2407 §4.6.2: 0/0 or UDP/500; some send UDP/4500 once on NAT-T's port (RFC 3947 §4). */
    bool port_ok = (got->proto == 0 && got->port == 0) ||
                   (got->proto == 17 && (got->port == 500 || got->port == 4500));
    return port_ok && got->type == want.type && got->len == want.len &&
           memcmp(got->data, want.data, want.len) == 0;
}

void ikev1_put_own_id(struct ikev1_enc *e, const struct ike_sa *sa)
{
    struct ike_id id;
    ikev1_local_id(sa, &id);
    ikev1_put_id(e, id.type, 0, 0, id.data, id.len);
}

void ikev1_put_addr_id(struct ikev1_enc *e, const struct sockaddr_storage *a)
{
    struct ike_id id;
    addr_id(a, &id);
    ikev1_put_id(e, id.type, GRE, 0, id.data, id.len);
}

bool ikev1_addr_id_ok(const struct ikev1_id *got, const struct sockaddr_storage *a)
{
    struct ike_id want;
    addr_id(a, &want);
    return got->type == want.type && got->proto == GRE && got->port == 0 &&
           got->len == want.len && memcmp(got->data, want.data, want.len) == 0;
}
