/*
 * Kernel IPsec objects through libnl-3 xfrm: transport-mode ESP for GRE
 * (IP protocol 47) between the two WAN addresses.
 *
 * Policies go in first and stay while a peer is down: with no SA the kernel
 * drops (and queues an ACQUIRE for) GRE instead of sending it in the clear.
 */
#ifndef TUNNELD_XFRM_H
#define TUNNELD_XFRM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "errmsg.h"
#include "ikecore.h"

struct nl_sock;

enum xfrm_dir { XFRM_DIR_IN, XFRM_DIR_OUT };

struct xfrm_gre_policy {
    struct sockaddr_storage local, remote;
    uint32_t reqid;                 /* ties the policy to the peer's SAs */
    uint32_t priority;
};

/* Installs (or replaces) the in and out policies for GRE local <-> remote. */
int xfrm_policy_install(struct nl_sock *x, const struct xfrm_gre_policy *p, struct errmsg *e);
/* Removes both; absent policies are not an error. */
int xfrm_policy_remove(struct nl_sock *x, const struct xfrm_gre_policy *p, struct errmsg *e);

/* One direction of a CHILD SA as ESP state: in = spi_in, remote -> local. */
int xfrm_state_add(struct nl_sock *x, const struct ike_child_sa *sa, enum xfrm_dir dir,
                   struct errmsg *e);
/*
 * The UDP encapsulation ports (RFC 3948) of one direction, host order: out
 * goes from our NAT-T port to the peer's, in comes the other way.
 */
void xfrm_encap_ports(enum xfrm_dir dir, uint16_t ours, uint16_t theirs, uint16_t *sport,
                      uint16_t *dport);
/*
 * Re-aims the UDP encapsulation of the ESP state with this SPI towards dst
 * (XFRM_MSG_UPDSA), for a peer whose NAT mapping moved: the state is read
 * back (keys included: the kernel builds the update as a whole state) and
 * sent again with the new ports; the kernel keeps the SPI, keys, replay
 * window and counters of the installed state and takes the encapsulation.
 * An absent state, or one without encapsulation, is an error.
 */
int xfrm_state_set_encap(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                         uint16_t sport, uint16_t dport, struct errmsg *e);
/* Removes the state with this SPI towards dst; an absent state is not an error. */
int xfrm_state_remove(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                      struct errmsg *e);

/* One ESP state as the kernel counts it: what show crypto ipsec sa prints. */
struct xfrm_state_stats {
    uint64_t bytes, packets;
    uint64_t add_time;              /* wall-clock seconds (the kernel's curlft.add_time) */
    uint64_t replay, integrity_failed;
    unsigned replay_window;
    uint64_t hard_bytes, hard_add_s; /* XFRM_INF: none */
};

/* Reads the state with this SPI towards dst. */
int xfrm_state_stats(struct nl_sock *x, const struct sockaddr_storage *dst, uint32_t spi,
                     struct xfrm_state_stats *out, struct errmsg *e);

/*
 * Removes every ESP state and GRE policy whose reqid lies in [lo, hi]: what
 * a previous run killed with -9 left behind. *removed counts them.
 */
int xfrm_flush_reqids(struct nl_sock *x, uint32_t lo, uint32_t hi, unsigned *removed,
                      struct errmsg *e);

#endif
