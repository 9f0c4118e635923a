#include "frr.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "frr_vtysh.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int run(const struct frr_vtysh *v, const char *const *cmds, size_t n, struct errmsg *e)
{
    char out[1024];
    return vtysh_run(v, cmds, n, out, sizeof(out), e);
}

static int ospf_network(const struct frr_vtysh *v, const char *prefix, const char *area,
                        bool add, struct errmsg *e)
{
    char net[96];
    snprintf(net, sizeof(net), "%snetwork %s area %s", add ? "" : "no ", prefix, area);
    const char *cmds[] = {"configure terminal", "router ospf", net};
    return run(v, cmds, ARRAY_LEN(cmds), e);
}

int frr_ospf_link_add(const struct frr_vtysh *v, const struct frr_ospf_link *l, struct errmsg *e)
{
    char iface[64], hello[48], dead[48];
    snprintf(iface, sizeof(iface), "interface %s", l->ifname);
    snprintf(hello, sizeof(hello), "ip ospf hello-interval %u", l->hello);
    snprintf(dead, sizeof(dead), "ip ospf dead-interval %u", l->dead);
    /* point-to-point: a GRE tunnel has one neighbour, so no DR election and no waiting. */
    const char *cmds[] = {
        "configure terminal", iface, "ip ospf network point-to-point",
        hello, dead, "no ip ospf passive", l->pim ? "ip pim" : "exit",
    };
    if (run(v, cmds, ARRAY_LEN(cmds), e) < 0)
        return -1;
    return ospf_network(v, l->prefix, l->area, true, e);
}

int frr_ospf_link_remove(const struct frr_vtysh *v, const struct frr_ospf_link *l,
                         struct errmsg *e)
{
    char iface[64];
    snprintf(iface, sizeof(iface), "interface %s", l->ifname);
    const char *cmds[] = {
        "configure terminal", iface, "no ip ospf network", "no ip ospf hello-interval",
        "no ip ospf dead-interval", "ip ospf passive", l->pim ? "no ip pim" : "exit",
    };
    /* Withdraw the network first: the adjacency goes down cleanly, then the leftovers. */
    if (ospf_network(v, l->prefix, l->area, false, e) < 0)
        return -1;
    return run(v, cmds, ARRAY_LEN(cmds), e);
}

int frr_ospf_lan(const struct frr_vtysh *v, const char *prefix, const char *area, bool add,
                 struct errmsg *e)
{
    return ospf_network(v, prefix, area, add, e);
}

/* FRR 8 keys neighbours by router id, each an array; ifaceName is "gre-x:169.254.7.0". */
static const char *find_state(json_object *root, const char *ifname)
{
    json_object *nbrs;
    size_t iflen = strlen(ifname);
    if (!json_object_object_get_ex(root, "neighbors", &nbrs))
        return NULL;
    json_object_object_foreach(nbrs, rid, list) {
        (void)rid;
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *nb = json_object_array_get_idx(list, i), *f;
            if (!json_object_object_get_ex(nb, "ifaceName", &f))
                continue;
            const char *name = json_object_get_string(f);
            if (strncmp(name, ifname, iflen) != 0 || (name[iflen] && name[iflen] != ':'))
                continue;
            if (json_object_object_get_ex(nb, "state", &f))
                return json_object_get_string(f);
        }
    }
    return NULL;
}

int frr_ospf_neighbor_states(const struct frr_vtysh *v, const char *const *ifnames, size_t n,
                             char (*states)[FRR_STATE_LEN], struct errmsg *e)
{
    char out[65536];
    const char *cmds[] = {"show ip ospf neighbor json"};
    if (vtysh_run(v, cmds, 1, out, sizeof(out), e) < 0)
        return -1;
    json_object *root = json_tokener_parse(out);
    if (!root)
        return errmsg_set(e, "vtysh: 'show ip ospf neighbor json' did not return JSON");
    for (size_t i = 0; i < n; i++) {
        const char *s = find_state(root, ifnames[i]);
        /* "Full/-" on point-to-point links: the part before '/' is the adjacency state. */
        snprintf(states[i], FRR_STATE_LEN, "%.*s", s ? (int)strcspn(s, "/") : 0, s ? s : "");
    }
    json_object_put(root);
    return 0;
}

int frr_ospf_neighbor_state(const struct frr_vtysh *v, const char *ifname, char *state,
                            size_t len, struct errmsg *e)
{
    char one[1][FRR_STATE_LEN];
    if (frr_ospf_neighbor_states(v, &ifname, 1, one, e) < 0)
        return -1;
    snprintf(state, len, "%s", one[0]);
    return 0;
}
