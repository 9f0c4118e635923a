/*
 * The IKE sockets on the WAN address: UDP 500 and 4500 (NAT-T, RFC 3948).
 * On 4500 the kernel takes ESP-in-UDP for itself (UDP_ENCAP); IKE arrives
 * behind a 4-byte zero non-ESP marker, which we strip and add here so
 * ikecore only ever sees IKE messages.
 */
#ifndef TUNNELD_IKE_SOCKET_H
#define TUNNELD_IKE_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "errmsg.h"

struct ike_sockets {
    int fd_ike;                     /* UDP 500 */
    int fd_natt;                    /* UDP 4500 */
    struct sockaddr_storage ike_addr, natt_addr; /* as bound (ports filled in) */
};

/* Ports 0 pick ephemeral ones (tests). */
int ike_sockets_open(struct ike_sockets *s, const struct sockaddr_storage *local,
                     uint16_t port_ike, uint16_t port_natt, struct errmsg *e);
void ike_sockets_close(struct ike_sockets *s);

/*
 * Reads one IKE message from fd. Returns its length, 0 for something that
 * is not IKE and was consumed (a NAT keepalive the kernel let through), -1
 * when nothing is ready.
 */
ssize_t ike_socket_recv(const struct ike_sockets *s, int fd, uint8_t *buf, size_t len,
                        struct sockaddr_storage *src, struct sockaddr_storage *dst);
/* Sends from whichever socket is bound to src's port (4500: with the marker). */
int ike_socket_send(const struct ike_sockets *s, const uint8_t *msg, size_t len,
                    const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
                    struct errmsg *e);
/* A NAT keepalive (RFC 3948 §2.3): the one byte 0xFF from 4500, without the marker. */
int ike_socket_send_keepalive(const struct ike_sockets *s, const struct sockaddr_storage *dst,
                              struct errmsg *e);

#endif
