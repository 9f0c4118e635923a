/*
 * frrctl: drives tunneld/frr.c by hand for the VM tests.
 *   frrctl [-N pathspace] link-add IF PREFIX AREA HELLO DEAD
 *   frrctl [-N pathspace] link-remove IF PREFIX AREA
 *   frrctl [-N pathspace] lan-add PREFIX AREA | lan-remove PREFIX AREA
 *   frrctl [-N pathspace] state IF        prints the neighbour state
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frr.h"

static int dispatch(const struct frr_vtysh *v, int argc, char **argv, struct errmsg *e)
{
    const char *cmd = argv[0];
    if (!strcmp(cmd, "link-add") && argc == 6) {
        struct frr_ospf_link l = {argv[1], argv[2], argv[3], (unsigned)atoi(argv[4]),
                                  (unsigned)atoi(argv[5]), false};
        return frr_ospf_link_add(v, &l, e);
    }
    if (!strcmp(cmd, "link-remove") && argc == 4) {
        struct frr_ospf_link l = {argv[1], argv[2], argv[3], 0, 0, false};
        return frr_ospf_link_remove(v, &l, e);
    }
    if ((!strcmp(cmd, "lan-add") || !strcmp(cmd, "lan-remove")) && argc == 3)
        return frr_ospf_lan(v, argv[1], argv[2], !strcmp(cmd, "lan-add"), e);
    if (!strcmp(cmd, "state") && argc == 2) {
        char state[32];
        if (frr_ospf_neighbor_state(v, argv[1], state, sizeof(state), e) < 0)
            return -1;
        printf("%s\n", state);
        return 0;
    }
    return errmsg_set(e, "usage: frrctl [-N pathspace] link-add|link-remove|lan-add|lan-remove|state ...");
}

int main(int argc, char **argv)
{
    struct frr_vtysh v = {0};
    struct errmsg e = {{0}};
    int i = 1;
    if (argc > 2 && !strcmp(argv[1], "-N")) {
        v.pathspace = argv[2];
        i = 3;
    }
    if (i >= argc || dispatch(&v, argc - i, argv + i, &e) < 0) {
        fprintf(stderr, "frrctl: %s\n", e.text[0] ? e.text : "usage error");
        return 1;
    }
    return 0;
}
