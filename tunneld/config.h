/*
 * A site file, parsed, validated and fully resolved: every peer carries the
 * suites, lifetimes and identities ikecore takes (struct ike_suite,
 * struct ike_id), merged from its profile and its own overrides. See
 * docs/config.md for the schema; config_load() is the only way in.
 */
#ifndef TUNNELD_CONFIG_H
#define TUNNELD_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "ikecore.h"
#include "ipaddr.h"

#define CFG_NAME_MAX 32 /* site, peer and profile names: [a-z0-9-] */
#define CFG_MAX_LAN 64
#define CFG_MAX_PEERS 1024

/* Where a value stood in its file, for errors found after parsing (at run time too). */
struct cfg_mark {
    unsigned line, col;
};

struct cfg_site {
    char name[CFG_NAME_MAX + 1];
    bool wan_is_addr; /* wan: an address; else an interface, addressed at run time */
    char wan_ifname[IFNAMSIZ];
    struct ip_addr wan_addr;
    struct ip_prefix lan[CFG_MAX_LAN];
    unsigned n_lan;
    char profile[CFG_NAME_MAX + 1];
    uint32_t ospf_area;
};

struct cfg_tunnel {
    char ifname[IFNAMSIZ]; /* given, or gre-<peer> cut to 15 bytes */
    bool inner_given, key_given;
    uint32_t inner_net; /* the /31, host byte order: given, or derived */
    uint32_t key;       /* GRE key: given, or derived */
    bool derived;       /* key and inner_net are final (given, or derived from the WANs) */
    struct ip_addr inner_local, inner_remote; /* valid once derived */
    unsigned mtu;                             /* 0: computed from the WAN MTU at run time */
};

struct cfg_peer {
    char name[CFG_NAME_MAX + 1];
    struct ip_addr address;
    uint8_t psk[IKE_MAX_PSK]; /* secret: never logged or printed; wiped by config_free */
    size_t psk_len;
    char profile[CFG_NAME_MAX + 1];
    uint8_t ike_version;
    bool aggressive;                   /* IKEv1 Aggressive Mode, explicitly allowed */
    struct ike_id local_id, remote_id; /* type 0: the WAN address */
    struct ike_suite ike[IKE_MAX_SUITES];
    unsigned n_ike;
    uint32_t ike_lifetime_s;
    struct ike_suite esp[IKE_MAX_SUITES];
    unsigned n_esp;
    bool pfs;
    uint32_t esp_lifetime_s;
    uint64_t esp_lifetime_kb; /* 0: no byte limit */
    uint32_t dpd_s;           /* 0: off */
    uint32_t nat_keepalive_s; /* 0: off; sent only while we are behind a NAT */
    unsigned ospf_hello, ospf_dead;
    struct cfg_tunnel tunnel;
    struct {
        struct cfg_mark name, address, ifname, inner, key, local_id, remote_id;
    } at;
};

struct tunneld_config {
    char *file;
    struct cfg_site site;
    struct cfg_peer *peers;
    unsigned n_peers;
};

/*
 * Loads and checks a site file; profiles are looked up along profile_path
 * (directories separated by ':'). 0 and *out, or -1 with every error found
 * in d (unsorted: call diag_sort before printing).
 */
int config_load(const char *path, const char *profile_path, struct tunneld_config **out,
                struct diag *d);

/* Frees c; PSKs are wiped first. NULL is fine. */
void config_free(struct tunneld_config *c);

/*
 * What `tunneld --check` does with one file: a site file, or a profile when
 * its top level has none of site/peers but one of legacy/ike/esp.
 * 0 when valid. *is_profile tells which it was; a valid site file's config
 * goes to *out when out is not NULL (the caller frees it).
 */
int config_check_file(const char *path, const char *profile_path, struct diag *d, bool *is_profile,
                      struct tunneld_config **out);

/*
 * Fills in every peer's GRE key and inner /31 from the pair of IKE
 * identities (which default to our WAN address and the peer's), where the
 * file did not give them, and checks that no two peers ended up with the
 * same ones. config_load does this when the WAN is
 * an address; the daemon calls it once the WAN interface has one.
 */
int config_derive(struct tunneld_config *c, const struct ip_addr *wan, struct diag *d);

#endif
