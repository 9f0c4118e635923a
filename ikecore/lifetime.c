/*
 * Soft lifetimes from hard ones, for both versions: the CHILD SA's seconds
 * and kilobytes (the kernel's soft limits, where the rekey starts) and the
 * IKE SA's rekey time. With a fixed fraction both ends of an SA counting
 * the same bytes (or SAs made at the same moment) reach it together and
 * their rekeys cross. RFC 7296 §2.8: "the timing of rekeying requests SHOULD
 * be jittered"; §2.8.1 still settles the collisions that happen. So the
 * margin is 10 % plus a random 0-5 %, from the caller's randomness (the core
 * has none of its own). And how long a liveness check may go unanswered.
 */
#include "ike_int.h"

uint64_t ike_soft_life(struct ike_ctx *ctx, uint64_t hard)
{
    uint8_t r[8] = {0};
    ike_rand(ctx, r, sizeof(r));    /* jitter only; zero on failure is harmless: 10 % */
    uint64_t margin = hard / 10 + wire_get64(r) % (hard / 20 + 1);
    return hard > margin ? hard - margin : hard;
}

ike_time_t ike_dpd_give_up(const struct ike_sa *sa, ike_time_t sent)
{
    return sent + 2 * (ike_time_t)sa->peer->cfg.dpd_interval_s * 1000;
}
