/*
 * nlkey: drives tunneld's kernel layer (gre.c, xfrm.c) by hand, so a VM test
 * can prove it against a real kernel before the IKE side is wired in.
 *
 *   nlkey up   --if NAME --local A --remote B --gre-key K --inner X.X.X.X/31
 *              --reqid R --spi-in S --spi-out S --key-in HEX --key-out HEX
 *              [--integ sha256 --ikey-in HEX --ikey-out HEX] (default AES-GCM-16)
 *   nlkey down --if NAME --local A --remote B --reqid R --spi-in S --spi-out S
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gre.h"
#include "netlink.h"
#include "xfrm.h"

struct args {
    struct gre_link gre;
    struct xfrm_gre_policy pol;
    struct ike_child_sa sa;
};

static int hex_decode(const char *hex, uint8_t *out, size_t max, uint16_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *len = (uint16_t)(n / 2);
    return 0;
}

static int set_addr(struct sockaddr_storage *ss, struct in_addr *raw, const char *s)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, s, &sin->sin_addr) != 1)
        return -1;
    *raw = sin->sin_addr;
    return 0;
}

static int set_inner(struct gre_link *g, const char *s)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    if (!slash)
        return -1;
    *slash = 0;
    g->inner_plen = (uint8_t)atoi(slash + 1);
    return inet_pton(AF_INET, buf, &g->inner) == 1 ? 0 : -1;
}

static int parse_opt(struct args *a, int c, const char *v)
{
    uint16_t len = 0;
    switch (c) {
    case 'i': snprintf(a->gre.ifname, sizeof(a->gre.ifname), "%s", v); return 0;
    case 'l': return set_addr(&a->sa.local, &a->gre.local, v);
    case 'r': return set_addr(&a->sa.remote, &a->gre.remote, v);
    case 'k': a->gre.key = (uint32_t)strtoul(v, NULL, 0); return 0;
    case 'n': return set_inner(&a->gre, v);
    case 'q': a->sa.reqid = (uint32_t)strtoul(v, NULL, 0); return 0;
    case 's': a->sa.spi_in = (uint32_t)strtoul(v, NULL, 0); return 0;
    case 'S': a->sa.spi_out = (uint32_t)strtoul(v, NULL, 0); return 0;
    case 'e': return hex_decode(v, a->sa.encr_key_in, IKE_MAX_KEY, &a->sa.encr_key_len);
    case 'E': return hex_decode(v, a->sa.encr_key_out, IKE_MAX_KEY, &len);
    case 'a': return hex_decode(v, a->sa.integ_key_in, IKE_MAX_KEY, &a->sa.integ_key_len);
    case 'A': return hex_decode(v, a->sa.integ_key_out, IKE_MAX_KEY, &len);
    case 'I':
        if (strcmp(v, "sha256") != 0)
            return -1;
        a->sa.suite.encr = IKE_ENCR_AES_CBC;
        a->sa.suite.integ = IKE_INTEG_HMAC_SHA2_256_128;
        return 0;
    default: return -1;
    }
}

static int parse_args(struct args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"if", 1, 0, 'i'}, {"local", 1, 0, 'l'}, {"remote", 1, 0, 'r'},
        {"gre-key", 1, 0, 'k'}, {"inner", 1, 0, 'n'}, {"reqid", 1, 0, 'q'},
        {"spi-in", 1, 0, 's'}, {"spi-out", 1, 0, 'S'}, {"key-in", 1, 0, 'e'},
        {"key-out", 1, 0, 'E'}, {"ikey-in", 1, 0, 'a'}, {"ikey-out", 1, 0, 'A'},
        {"integ", 1, 0, 'I'}, {0, 0, 0, 0},
    };
    memset(a, 0, sizeof(*a));
    a->sa.suite.encr = IKE_ENCR_AES_GCM_16;
    a->sa.transport = true;
    a->sa.ip_proto = 47;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (parse_opt(a, c, optarg) < 0) {
            fprintf(stderr, "nlkey: bad value for option -%c\n", c);
            return -1;
        }
    a->pol.local = a->sa.local;
    a->pol.remote = a->sa.remote;
    a->pol.reqid = a->sa.reqid;
    return 0;
}

static int up(struct nl_handles *h, const struct args *a, struct errmsg *e)
{
    /* Policies before states before the link: GRE never finds a gap to leak through. */
    if (xfrm_policy_install(h->xfrm, &a->pol, e) < 0 ||
        xfrm_state_add(h->xfrm, &a->sa, XFRM_DIR_IN, e) < 0 ||
        xfrm_state_add(h->xfrm, &a->sa, XFRM_DIR_OUT, e) < 0)
        return -1;
    return gre_create(h->route, &a->gre, e);
}

static int down(struct nl_handles *h, const struct args *a, struct errmsg *e)
{
    int rc = 0;
    rc |= gre_destroy(h->route, a->gre.ifname, e);
    rc |= xfrm_state_remove(h->xfrm, &a->sa.local, a->sa.spi_in, e);
    rc |= xfrm_state_remove(h->xfrm, &a->sa.remote, a->sa.spi_out, e);
    rc |= xfrm_policy_remove(h->xfrm, &a->pol, e);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a;
    struct nl_handles h;
    struct errmsg e = {{0}};
    if (argc < 2 || (strcmp(argv[1], "up") && strcmp(argv[1], "down"))) {
        fprintf(stderr, "usage: nlkey up|down OPTIONS (see the source)\n");
        return 2;
    }
    if (parse_args(&a, argc - 1, argv + 1) < 0)
        return 2;
    if (nlh_open(&h, &e) < 0) {
        fprintf(stderr, "nlkey: %s\n", e.text);
        return 1;
    }
    int rc = strcmp(argv[1], "up") == 0 ? up(&h, &a, &e) : down(&h, &a, &e);
    nlh_close(&h);
    if (rc < 0)
        fprintf(stderr, "nlkey: %s\n", e.text);
    return rc < 0 ? 1 : 0;
}
