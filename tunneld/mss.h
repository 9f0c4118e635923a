/*
 * TCP MSS clamping on the tunnels, through nft (nftables): a TCP SYN
 * crossing a GRE link gets an MSS that fits its MTU, so TCP between the
 * LANs is never fragmented after encryption (and PMTU black holes do not
 * stall it). One chain per tunnel in table `inet tunneld`, which is ours
 * alone: start-up and shutdown drop the whole table.
 */
#ifndef TUNNELD_MSS_H
#define TUNNELD_MSS_H

#include "errmsg.h"

/* Adds or replaces the clamp on ifname, both directions. */
int mss_clamp_set(const char *ifname, unsigned mss, struct errmsg *e);
int mss_clamp_clear(const char *ifname, struct errmsg *e);
/* Removes table inet tunneld; an absent table is not an error. */
int mss_clamp_flush(struct errmsg *e);

#endif
