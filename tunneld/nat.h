/*
 * NAT traversal on the daemon side (RFC 3948, RFC 7296 §2.23): what a
 * peer's new NAT mapping means for its kernel states. Decisions only, so
 * they are tested without a kernel; peer_sa.c makes the netlink calls.
 */
#ifndef TUNNELD_NAT_H
#define TUNNELD_NAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon.h"

enum nat_move {
    NAT_MOVE_NONE,    /* the same address and port as before */
    NAT_MOVE_PORT,    /* the configured address, another port: re-aim the states */
    NAT_MOVE_ADDRESS, /* another address: policies and GRE point at the configured one */
};

/* now against the configured address (policies, GRE) and the last one seen. */
enum nat_move nat_move_kind(const struct sockaddr_storage *configured,
                            const struct sockaddr_storage *now,
                            const struct sockaddr_storage *was);

/* One kernel state to re-aim: the SPI's state in dir, to these ports (host order). */
struct nat_encap_update {
    enum xfrm_dir dir;
    uint32_t spi;
    uint16_t sport, dport;
};

/*
 * What a move to port theirs changes among a peer's n SAs (the current one
 * and those in a rekey's grace period alike): both halves of each
 * UDP-encapsulated SA whose ports differ, the outbound one only once it is
 * installed. out has room for 2 * n; returns how many.
 */
unsigned nat_encap_plan(const struct peer_sa *sa, unsigned n, uint16_t ours, uint16_t theirs,
                        struct nat_encap_update *out);

/* "192.0.2.2:4500", "[2001:db8::1]:4500". */
#define NAT_ADDR_PORT_STRLEN 56
void nat_addr_port_str(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
