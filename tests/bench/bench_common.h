/*
 * Shared by the benchmarks (bench_crypto.c; bench_ikev2.c may use it for
 * its "DH-only limit"): a clock, cheap deterministic randomness, a rate
 * meter, and the public-key work one IKE_SA_INIT cannot avoid.
 * A header, not a benchmark: only the .c files in tests/bench are built as programs.
 */
#ifndef TESTS_BENCH_COMMON_H
#define TESTS_BENCH_COMMON_H

#include <openssl/evp.h>
#include <string.h>
#include <time.h>

#include "../../ikecore/crypto.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * CPU time of the calling thread: what the work costs, whatever else runs
 * on the machine (everything measured here is single-threaded). Compare
 * rates measured with the same clock.
 */
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ike_random_fn: SHA-256 of a counter; deterministic, and cheap next to any DH. */
struct bench_rng {
    uint64_t ctr;
};

static inline int bench_random(void *arg, uint8_t *buf, size_t len)
{
    struct bench_rng *r = arg;
    while (len) {
        uint8_t out[32];
        unsigned int olen;
        r->ctr++;
        if (!EVP_Digest(&r->ctr, sizeof(r->ctr), out, &olen, EVP_sha256(), NULL))
            return -1;
        size_t n = len < 32 ? len : 32;
        memcpy(buf, out, n);
        buf += n;
        len -= n;
    }
    return 0;
}

/* One unit of work; 0 on success. */
typedef int (*bench_fn)(void *arg);

/*
 * Calls per CPU second of fn, as the best of three slices of budget/3 CPU
 * seconds each (the slice least disturbed by cache and frequency effects of
 * other load). The clock is read between batches that grow up to 1/16 of a
 * slice, so reading it (a system call) does not count in fast operations.
 * -1 when fn fails.
 */
static inline double bench_rate(bench_fn fn, void *arg, double budget)
{
    double best = 0, slice = budget / 3;
    for (int s = 0; s < 3; s++) {
        unsigned long n = 0, batch = 1;
        double t0 = bench_cpu_now(), t;
        do {
            for (unsigned long i = 0; i < batch; i++)
                if (fn(arg) != 0)
                    return -1;
            n += batch;
            t = bench_cpu_now() - t0;
            if (t < slice / 16)
                batch *= 2;
        } while (t < slice);
        if (n / t > best)
            best = n / t;
    }
    return best;
}

struct bench_dh {
    struct ike_crypto *cr;
    uint16_t group;
    struct bench_rng rng;
};

/* What one IKE_SA_INIT costs both ends together: two key pairs, two shared secrets. */
static inline int bench_dh_handshake_once(void *arg)
{
    struct bench_dh *b = arg;
    struct ike_dh *i = NULL, *r = NULL;
    uint8_t s1[IKE_MAX_DH_SHARED], s2[IKE_MAX_DH_SHARED];
    size_t li, lr, l1 = sizeof(s1), l2 = sizeof(s2);
    int rc = ike_dh_new(b->cr, b->group, bench_random, &b->rng, &i);
    if (rc == IKE_OK)
        rc = ike_dh_new(b->cr, b->group, bench_random, &b->rng, &r);
    if (rc == IKE_OK) {
        const uint8_t *pi = ike_dh_public(i, &li), *pr = ike_dh_public(r, &lr);
        rc = ike_dh_shared(i, pr, lr, s1, &l1);
        if (rc == IKE_OK)
            rc = ike_dh_shared(r, pi, li, s2, &l2);
        if (rc == IKE_OK && (l1 != l2 || memcmp(s1, s2, l1) != 0))
            rc = IKE_ERR_CRYPTO;
    }
    ike_dh_free(i);
    ike_dh_free(r);
    ike_wipe(s1, sizeof(s1));
    ike_wipe(s2, sizeof(s2));
    return rc;
}

/*
 * The DH-only limit of a group: handshakes per second if the core cost
 * nothing but its Diffie-Hellman work (what bench_ikev2 compares against).
 */
static inline double bench_dh_handshake_rate(struct ike_crypto *cr, uint16_t group,
                                             double budget)
{
    struct bench_dh b = {cr, group, {0}};
    return bench_rate(bench_dh_handshake_once, &b, budget);
}

#endif
