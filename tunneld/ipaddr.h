/* IPv4/IPv6 addresses and prefixes as the config holds them: bytes in network order. */
#ifndef TUNNELD_IPADDR_H
#define TUNNELD_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ip_addr {
    uint8_t family;    /* AF_INET or AF_INET6 */
    uint8_t bytes[16]; /* 4 used for AF_INET */
};

struct ip_prefix {
    struct ip_addr addr;
    uint8_t plen;
};

/* Text sizes, NUL included, with room for "/128". */
#define IP_ADDR_STRLEN 46
#define IP_PREFIX_STRLEN 50

size_t ip_addr_len(const struct ip_addr *a);

/* Literal addresses only (no names): 0 or -1. */
int ip_addr_parse(const char *s, struct ip_addr *out);

/* "a.b.c.d/n" or "x::/n". -1 on bad syntax; *host_bits set when bits beyond plen are set. */
int ip_prefix_parse(const char *s, struct ip_prefix *out, bool *host_bits);

/* The prefix with the host bits cleared. */
void ip_prefix_mask(struct ip_prefix *p);

/* Orders by family, then by bytes: the "lower address" of the derivation rules. */
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
bool ip_prefix_overlap(const struct ip_prefix *a, const struct ip_prefix *b);

/* Usable as a tunnel endpoint: not unspecified, loopback, multicast or broadcast. */
bool ip_addr_is_unicast(const struct ip_addr *a);

void ip_addr_str(const struct ip_addr *a, char *buf, size_t len);
void ip_prefix_str(const struct ip_prefix *p, char *buf, size_t len);

/* IPv4 helpers for the inner /31s, host byte order. */
/* The port of an AF_INET or AF_INET6 socket address, host order. */
uint16_t ip_sockaddr_port(const struct sockaddr_storage *ss);
uint32_t ip_addr_v4(const struct ip_addr *a);
void ip_addr_set_v4(struct ip_addr *a, uint32_t host_order);

#endif
