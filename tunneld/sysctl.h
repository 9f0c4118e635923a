/* The few sysctls OSPF over GRE needs; per network namespace. */
#ifndef TUNNELD_SYSCTL_H
#define TUNNELD_SYSCTL_H

#include "errmsg.h"

/* Writes value to /proc/sys/<key>, key with '/' separators ("net/ipv4/ip_forward"). */
int sysctl_write(const char *key, const char *value, struct errmsg *e);
int sysctl_read(const char *key, char *value, unsigned len, struct errmsg *e);

/*
 * Forwarding on, and loose reverse-path filtering on the tunnel: with strict
 * filtering a LAN reached over one tunnel but answering over another (OSPF
 * re-routing) is dropped.
 */
int sysctl_tunnel(const char *ifname, struct errmsg *e);

#endif
