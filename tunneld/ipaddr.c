#include "ipaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

size_t ip_addr_len(const struct ip_addr *a)
{
    return a->family == AF_INET6 ? 16 : 4;
}

int ip_addr_parse(const char *s, struct ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Decimal, no sign, no leading zeros beyond "0": "/024" is a typo, not 24. */
static int parse_plen(const char *s, unsigned max, uint8_t *out)
{
    if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
        return -1;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > max)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

static bool bits_beyond(const struct ip_addr *a, unsigned plen)
{
    size_t len = ip_addr_len(a);
    for (size_t i = 0; i < len; i++) {
        unsigned first = (unsigned)i * 8;
        uint8_t mask = first >= plen       ? 0xff
                       : plen - first >= 8 ? 0
                                           : (uint8_t)(0xff >> (plen - first));
        if (a->bytes[i] & mask)
            return true;
    }
    return false;
}

int ip_prefix_parse(const char *s, struct ip_prefix *out, bool *host_bits)
{
    char buf[IP_PREFIX_STRLEN];
    const char *slash = strchr(s, '/');
    memset(out, 0, sizeof(*out));
    if (!slash || (size_t)(slash - s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    if (ip_addr_parse(buf, &out->addr) < 0)
        return -1;
    if (parse_plen(slash + 1, out->addr.family == AF_INET ? 32 : 128, &out->plen) < 0)
        return -1;
    *host_bits = bits_beyond(&out->addr, out->plen);
    return 0;
}

void ip_prefix_mask(struct ip_prefix *p)
{
    size_t len = ip_addr_len(&p->addr);
    for (size_t i = 0; i < len; i++) {
        unsigned first = (unsigned)i * 8;
        if (first >= p->plen)
            p->addr.bytes[i] = 0;
        else if (p->plen - first < 8)
            p->addr.bytes[i] &= (uint8_t)(0xff << (8 - (p->plen - first)));
    }
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, ip_addr_len(a));
}

/* Do a and b agree on their first plen bits? */
static bool same_first_bits(const struct ip_addr *a, const struct ip_addr *b, unsigned plen)
{
    unsigned full = plen / 8, rest = plen % 8;
    if (memcmp(a->bytes, b->bytes, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (b->bytes[full] & mask);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
    return p->addr.family == a->family && same_first_bits(&p->addr, a, p->plen);
}

bool ip_prefix_overlap(const struct ip_prefix *a, const struct ip_prefix *b)
{
    if (a->addr.family != b->addr.family)
        return false;
    return same_first_bits(&a->addr, &b->addr, a->plen < b->plen ? a->plen : b->plen);
}

static bool all_bytes(const struct ip_addr *a, uint8_t v)
{
    for (size_t i = 0; i < ip_addr_len(a); i++)
        if (a->bytes[i] != v)
            return false;
    return true;
}

bool ip_addr_is_unicast(const struct ip_addr *a)
{
    if (all_bytes(a, 0) || all_bytes(a, 0xff))
        return false;
    if (a->family == AF_INET)
        return a->bytes[0] != 127 && a->bytes[0] < 224;
    static const uint8_t loop6[16] = {[15] = 1};
    return memcmp(a->bytes, loop6, 16) != 0 && a->bytes[0] != 0xff;
}

void ip_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
    if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->bytes, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

void ip_prefix_str(const struct ip_prefix *p, char *buf, size_t len)
{
    char a[IP_ADDR_STRLEN];
    ip_addr_str(&p->addr, a, sizeof(a));
    snprintf(buf, len, "%s/%u", a, p->plen);
}

uint32_t ip_addr_v4(const struct ip_addr *a)
{
    return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 | (uint32_t)a->bytes[2] << 8 |
           a->bytes[3];
}

void ip_addr_set_v4(struct ip_addr *a, uint32_t v)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET;
    a->bytes[0] = (uint8_t)(v >> 24);
    a->bytes[1] = (uint8_t)(v >> 16);
    a->bytes[2] = (uint8_t)(v >> 8);
    a->bytes[3] = (uint8_t)v;
}

uint16_t ip_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}
