/*
 * The GRE interface MTU that keeps an encrypted packet within the WAN MTU:
 * OSPF stalls in ExStart when the two ends disagree about what fits, and TCP
 * suffers when every full-size segment is fragmented after encryption.
 */
#ifndef TUNNELD_MTU_H
#define TUNNELD_MTU_H

#include <stdbool.h>

#include "ikecore.h"

/* 0 when the suite is unknown or the WAN MTU is too small to carry anything. */
unsigned tunnel_mtu(unsigned wan_mtu, const struct ike_suite *esp, bool udp_encap);
/* The TCP MSS to clamp to for that MTU (IPv4: 20 + 20 bytes of headers). */
unsigned tunnel_mss(unsigned mtu);

#endif
