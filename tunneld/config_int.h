/*
 * Inside the config parser: values as written (each knows whether it was
 * given and where, which is what overriding and error positions need), the
 * schema tables, and the parse context. Not for the rest of tunneld, which
 * sees only the resolved struct tunneld_config (config.h).
 */
#ifndef TUNNELD_CONFIG_INT_H
#define TUNNELD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "yaml_tree.h"

struct opt_u32 {
    bool set;
    uint32_t v;
    struct cfg_mark at;
};

struct opt_u64 {
    bool set;
    uint64_t v;
    struct cfg_mark at;
};

struct opt_bool {
    bool set;
    bool v;
    struct cfg_mark at;
};

struct opt_name {
    bool set;
    char v[CFG_NAME_MAX + 1];
    struct cfg_mark at;
};

struct opt_ifname {
    bool set;
    char v[IFNAMSIZ];
    struct cfg_mark at;
};

struct opt_addr {
    bool set;
    struct ip_addr v;
    struct cfg_mark at;
};

struct opt_id {
    bool set;
    struct ike_id v;
    struct cfg_mark at;
};

/* A proposal string stays text until the peer's rules (version, legacy, PFS) are known. */
struct prop_str {
    char *s;
    struct cfg_mark at;
    bool exact; /* at + byte offset is the column of a byte (one-line scalar) */
};

struct opt_props {
    bool set;
    struct prop_str v[IKE_MAX_SUITES];
    unsigned n;
    struct cfg_mark at;
};

struct opt_wan {
    bool set, is_addr;
    char ifname[IFNAMSIZ];
    struct ip_addr addr;
    struct cfg_mark at;
};

struct opt_lan {
    bool set;
    struct ip_prefix v[CFG_MAX_LAN];
    struct cfg_mark at[CFG_MAX_LAN];
    unsigned n;
};

struct opt_psk {
    bool set;
    uint8_t v[IKE_MAX_PSK]; /* wiped by peer_src_free */
    size_t len;
    struct cfg_mark at;
};

enum { IKE_MODE_MAIN, IKE_MODE_AGGRESSIVE };

/*
 * What a profile or a peer says about IKE, ESP, DPD and OSPF timers; a peer's
 * values override its profile's.
 */
struct cfg_layer {
    const char *file;       /* where these values were written */
    struct opt_bool legacy; /* profiles only */
    struct opt_u32 ike_version, ike_mode;
    struct opt_bool allow_aggressive;
    struct opt_props ike_props;
    struct opt_u32 ike_lifetime;
    struct opt_id local_id, remote_id; /* peers only */
    struct opt_props esp_props;
    struct opt_bool pfs, esn;
    struct opt_u32 esp_lifetime;
    struct opt_u64 esp_lifetime_kb;
    struct opt_u32 dpd, nat_keepalive;
    struct opt_u32 ospf_hello, ospf_dead;
};

struct site_src {
    struct opt_name name, profile;
    struct opt_wan wan;
    struct opt_lan lan;
    struct opt_u32 area;
};

struct peer_src {
    char name[CFG_NAME_MAX + 1];
    struct cfg_mark at; /* of the name */
    struct opt_addr address;
    struct opt_psk psk;
    struct opt_name profile;
    struct opt_ifname ifname;
    struct opt_u32 inner; /* the /31, host byte order */
    struct opt_u32 key, mtu;
    struct cfg_layer layer;
};

struct site_file_src {
    struct site_src site;
    struct peer_src *peers;
    unsigned n_peers;
};

struct profile_src {
    struct opt_name name;
    struct cfg_layer layer;
};

/* The parse context: where errors go and what kind of file this is. */
struct pctx {
    struct diag *d;
    const struct ytree *t;
    bool profile;        /* a profile: peer-only keys are refused, and the reverse */
    const char *section; /* "ike", "esp", ... while inside one: names keys in messages */
};

struct field;
/* A handler: checks val (the value of key) and stores it at dst, or reports why not. */
typedef int field_fn(struct pctx *pc, const struct field *f, const struct ynode *key,
                     const struct ynode *val, void *dst);

struct field {
    const char *key; /* first: suggest_in() reads it */
    field_fn *fn;
    size_t off;      /* of the destination within the object being filled */
    const void *arg; /* a range, a sub-table, the names of an enum */
    unsigned flags;
};

#define F_REQUIRED 1u    /* everywhere */
#define F_REQ_PROFILE 2u /* in profiles */
#define F_PROFILE_ONLY 4u
#define F_PEER_ONLY 8u

struct table {
    const char *what; /* "site", "ike", ...: for "missing key 'x' in 'what'" */
    const struct field *f;
    size_t n;
};

struct range {
    uint64_t min, max;
    bool zero_off; /* 0 also allowed, meaning "off" / "none" */
    bool duration; /* seconds, with an optional s/m/h/d suffix */
};

/* config_schema.c: the tables, and the walker that applies one to a mapping. */
extern const struct table site_file_table, profile_file_table;
int walk_map(struct pctx *pc, const struct table *t, const char *label, const struct ynode *owner,
             const struct ynode *map, void *obj);
field_fn h_map;

/* config_values.c: one handler per kind of value. */
void pc_error(struct pctx *pc, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *pc_key(const struct pctx *pc, const struct field *f, char *buf, size_t len);
struct cfg_mark mark_of(const struct ynode *n);
int check_name(struct pctx *pc, const struct ynode *val, const char *what, char *out);
field_fn h_u32, h_u64, h_bool, h_enum, h_name, h_ifname, h_addr, h_wan, h_lan, h_inner, h_area,
    h_props, h_id;
field_fn h_psk; /* config_psk.c */

void layer_free(struct cfg_layer *l);
void site_file_src_free(struct site_file_src *s);

/* config_profile.c: profiles by name, loaded once per config_load, and the merge. */
struct profile {
    char name[CFG_NAME_MAX + 1];
    struct ytree tree;
    struct profile_src src;
    bool broken; /* had errors: its peers are not resolved, to avoid noise */
};

struct profile_set {
    const char *search; /* directories separated by ':' */
    struct profile **v;
    unsigned n;
};

void profile_set_free(struct profile_set *ps);
/* The profile called name; NULL after reporting an unknown name at ref (in pc's file). */
struct profile *profile_get(struct profile_set *ps, const char *name, struct pctx *pc,
                            const struct cfg_mark *ref, bool implicit);
/* Reads p->tree (already loaded) as a profile and checks it on its own. */
int profile_from_tree(struct profile *p, struct diag *d);
/* Peer settings = profile, overridden by the peer's own; peer NULL checks the profile alone. */
int resolve_peer(const struct profile *prof, const struct cfg_layer *peer, struct cfg_peer *out,
                 struct diag *d);

/* config_validate.c: checks across fields and peers. */
int validate_site_file(const struct site_file_src *s, struct tunneld_config *c, struct diag *d);

#endif
