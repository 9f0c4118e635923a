/*
 * The kernel's own word that an ESP state reached a limit (XFRM_MSG_EXPIRE
 * on the XFRMNLGRP_EXPIRE group): byte and packet limits are counted by
 * the kernel alone, so without listening a tunnel would simply stop when
 * its kilobyte lifetime ran out, or its sequence number neared the wrap.
 */
#ifndef TUNNELD_XFRM_EXPIRE_H
#define TUNNELD_XFRM_EXPIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"

struct nl_sock;

typedef void (*xfrm_expire_fn)(void *arg, uint32_t reqid, uint32_t spi, bool hard);

struct xfrm_expire {
    struct nl_sock *sk;
    xfrm_expire_fn fn;
    void *arg;
};

/* A non-blocking socket in the expire group; its fd goes into the loop. */
int xfrm_expire_open(struct xfrm_expire *x, xfrm_expire_fn fn, void *arg, struct errmsg *e);
int xfrm_expire_fd(const struct xfrm_expire *x);
/* Reads what is there, calling fn once per expire message. */
void xfrm_expire_read(struct xfrm_expire *x);
void xfrm_expire_close(struct xfrm_expire *x);

#endif
