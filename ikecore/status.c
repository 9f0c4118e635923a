/* Read-only views of the SAs for operators (tunnelctl through tunneld). */
#include <string.h>

#include "ike_int.h"

static enum ike_sa_phase phase_of(const struct ike_sa *sa)
{
    if (sa->state != SA_ESTABLISHED)
        return IKE_PHASE_CONNECTING;
    if (sa->replaced || sa->del_pending || sa->req_kind == REQ_DEL_IKE)
        return IKE_PHASE_DELETING;
    if (sa->req_kind == REQ_REKEY_CHILD || sa->req_kind == REQ_REKEY_IKE)
        return IKE_PHASE_REKEYING;
    return IKE_PHASE_ESTABLISHED;
}

static void fill(const struct ike_sa *sa, struct ike_sa_info *i)
{
    memset(i, 0, sizeof(*i));
    i->spi_i = sa->spi_i;
    i->spi_r = sa->spi_r;
    i->version = sa->v1 ? 1 : 2;
    i->initiator = sa->initiator;
    i->phase = phase_of(sa);
    i->suite = sa->suite;
    i->local = sa->local;
    i->remote = sa->remote;
    i->nat_local = sa->nat_local;
    i->nat_remote = sa->nat_remote;
    i->created = sa->created;
    i->established = sa->state == SA_ESTABLISHED ? sa->up_at : 0;
    i->hard_expiry = sa->ike_hard_at;
    if (sa->child.up) {
        i->child_spi_in = sa->child.spi_in;
        i->child_spi_out = sa->child.spi_out;
    }
}

unsigned ike_peer_sas(const struct ike_ctx *ctx, uint32_t peer_id, struct ike_sa_info *out,
                      unsigned max)
{
    unsigned n = 0;
    for (const struct ike_sa *sa = ctx->sas; sa; sa = sa->next) {
        if (!sa->peer || sa->peer->id != peer_id)
            continue;
        if (n < max)
            fill(sa, &out[n]);
        n++;
    }
    return n;
}

const char *ike_phase_str(enum ike_sa_phase p)
{
    switch (p) {
    case IKE_PHASE_CONNECTING: return "CONNECTING";
    case IKE_PHASE_ESTABLISHED: return "ESTABLISHED";
    case IKE_PHASE_REKEYING: return "REKEYING";
    case IKE_PHASE_DELETING: return "DELETING";
    }
    return "UNKNOWN";
}
