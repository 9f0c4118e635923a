/* tunneld/derive.c and tunneld/ipaddr.c: what both ends compute alike (from addresses and from
 * IKE identities), and prefix arithmetic. */
#include <arpa/inet.h>
#include <string.h>

#include "derive.h"
#include "ipaddr.h"
#include "unit.h"

static struct ip_addr addr(const char *s)
{
    struct ip_addr a;
    ck_assert_msg(ip_addr_parse(s, &a) == 0, "%s", s);
    return a;
}

static struct ip_prefix prefix(const char *s)
{
    struct ip_prefix p;
    bool host;
    ck_assert_msg(ip_prefix_parse(s, &p, &host) == 0, "%s", s);
    return p;
}

/* Known answers, worked with Python's hashlib and the rule in derive.h. */
START_TEST(known_answers)
{
    struct ip_addr a = addr("192.0.2.1"), b = addr("198.51.100.1");
    struct derived_pair d;
    ck_assert_int_eq(derive_pair(&a, &b, &d), 0);
    ck_assert_uint_eq(d.key, 966106345u);
    ck_assert_uint_eq(d.inner_net, 0xa9fed63eu); /* 169.254.214.62 */
    a = addr("198.51.100.1"), b = addr("203.0.113.20");
    ck_assert_int_eq(derive_pair(&a, &b, &d), 0);
    ck_assert_uint_eq(d.key, 3938143098u);
    ck_assert_uint_eq(d.inner_net, 0xa9fe0b40u); /* 169.254.11.64 */
    a = addr("2001:db8::1"), b = addr("2001:db8:ffff::1");
    ck_assert_int_eq(derive_pair(&a, &b, &d), 0);
    ck_assert_uint_eq(d.key, 1053692880u);
    ck_assert_uint_eq(d.inner_net, 0xa9fee6a0u); /* 169.254.230.160 */
}
END_TEST

/* A deterministic walk over many pairs (no RNG: failures must reproduce). */
static struct ip_addr nth(uint32_t i, bool v6)
{
    struct ip_addr a;
    uint32_t x = i * 2654435761u + 12345u;
    memset(&a, 0, sizeof(a));
    a.family = v6 ? AF_INET6 : AF_INET;
    for (int k = 0; k < (v6 ? 16 : 4); k++, x = x * 1103515245u + 12345u)
        a.bytes[k] = (uint8_t)(x >> 16);
    return a;
}

START_TEST(symmetric_with_roles_swapped)
{
    for (uint32_t i = 0; i < 2000; i++) {
        struct ip_addr a = nth(i, i & 1), b = nth(i + 7919, i & 1);
        struct derived_pair ab, ba;
        struct ip_addr al, ar, bl, br;
        ck_assert_int_eq(derive_pair(&a, &b, &ab), 0);
        ck_assert_int_eq(derive_pair(&b, &a, &ba), 0);
        ck_assert_uint_eq(ab.key, ba.key);
        ck_assert_uint_eq(ab.inner_net, ba.inner_net);
        /* Within 169.254.1.0 - 169.254.254.255, even. */
        ck_assert_uint_ge(ab.inner_net, 0xa9fe0100u);
        ck_assert_uint_le(ab.inner_net, 0xa9fefefeu);
        ck_assert_uint_eq(ab.inner_net & 1, 0);
        /* Each side's "ours" is the other's "theirs", and the two form the /31. */
        ck_assert_int_eq(derive_inner_ends(ab.inner_net, &a, &b, &al, &ar), 0);
        ck_assert_int_eq(derive_inner_ends(ba.inner_net, &b, &a, &bl, &br), 0);
        ck_assert_int_eq(ip_addr_cmp(&al, &br), 0);
        ck_assert_int_eq(ip_addr_cmp(&ar, &bl), 0);
        ck_assert_int_ne(ip_addr_cmp(&al, &ar), 0);
        ck_assert_uint_eq(ip_addr_v4(&al) & ~1u, ip_addr_v4(&ar) & ~1u);
        /* The lower WAN address takes the even one. */
        bool a_lower = ip_addr_cmp(&a, &b) < 0;
        ck_assert_uint_eq(ip_addr_v4(&al) & 1, a_lower ? 0 : 1);
    }
}
END_TEST

START_TEST(no_tunnel_to_oneself_or_across_families)
{
    struct ip_addr a = addr("192.0.2.1"), b = addr("2001:db8::1"), l, r;
    struct derived_pair d;
    ck_assert_int_eq(derive_pair(&a, &a, &d), -1);
    ck_assert_int_eq(derive_pair(&a, &b, &d), -1);
    ck_assert_int_eq(derive_inner_ends(0xa9fe0100u, &a, &a, &l, &r), -1);
}
END_TEST

static struct ike_id id_fqdn(const char *name)
{
    struct ike_id id = {.type = IKE_ID_FQDN, .len = (uint16_t)strlen(name)};
    memcpy(id.data, name, id.len);
    return id;
}

static struct ike_id id_addr(const char *s)
{
    struct ike_id id;
    struct ip_addr a = addr(s);
    derive_id_of_addr(&a, &id);
    return id;
}

/* Address identities hash exactly as the addresses always did. */
START_TEST(address_ids_are_the_address_derivation)
{
    struct ike_id a = id_addr("192.0.2.1"), b = id_addr("198.51.100.1");
    struct derived_pair d;
    struct ip_addr l, r;
    ck_assert_int_eq(derive_pair_ids(&a, &b, &d), 0);
    ck_assert_uint_eq(d.key, 966106345u);
    ck_assert_uint_eq(d.inner_net, 0xa9fed63eu);
    ck_assert_int_eq(derive_inner_ends_ids(d.inner_net, &a, &b, &l, &r), 0);
    ck_assert_uint_eq(ip_addr_v4(&l), 0xa9fed63eu);
    a = id_addr("2001:db8::1"), b = id_addr("2001:db8:ffff::1");
    ck_assert_int_eq(derive_pair_ids(&b, &a, &d), 0);
    ck_assert_uint_eq(d.key, 1053692880u);
    ck_assert_uint_eq(d.inner_net, 0xa9fee6a0u);
}
END_TEST

/*
 * A spoke behind a NAT: its WAN is 10.0.0.2, the hub sees it as the NAT's
 * 203.0.113.7. With ike.local-id: 203.0.113.7 on the spoke both ends hold
 * the same pair of identities, so the same key and /31, ends opposite.
 */
START_TEST(nat_spoke_with_its_public_id_agrees_with_the_hub)
{
    struct ike_id hub_local = id_addr("198.51.100.1"), hub_remote = id_addr("203.0.113.7");
    struct ike_id spoke_local = id_addr("203.0.113.7"), spoke_remote = id_addr("198.51.100.1");
    struct derived_pair h, s, wrong;
    struct ip_addr hl, hr, sl, sr;
    ck_assert_int_eq(derive_pair_ids(&hub_local, &hub_remote, &h), 0);
    ck_assert_int_eq(derive_pair_ids(&spoke_local, &spoke_remote, &s), 0);
    ck_assert_uint_eq(h.key, s.key);
    ck_assert_uint_eq(h.inner_net, s.inner_net);
    ck_assert_uint_eq(h.key, 1643651703u); /* Python: SHA-256(label 198.51.100.1 203.0.113.7) */
    ck_assert_uint_eq(h.inner_net, 0xa9feb902u);
    ck_assert_int_eq(derive_inner_ends_ids(h.inner_net, &hub_local, &hub_remote, &hl, &hr), 0);
    ck_assert_int_eq(derive_inner_ends_ids(s.inner_net, &spoke_local, &spoke_remote, &sl, &sr), 0);
    ck_assert_int_eq(ip_addr_cmp(&hl, &sr), 0);
    ck_assert_int_eq(ip_addr_cmp(&hr, &sl), 0);
    ck_assert_int_ne(ip_addr_cmp(&hl, &hr), 0);
    /* What the spoke derived before, from its private address: another tunnel. */
    struct ike_id private = id_addr("10.0.0.2");
    ck_assert_int_eq(derive_pair_ids(&private, &spoke_remote, &wrong), 0);
    ck_assert_uint_ne(wrong.key, h.key);
}
END_TEST

START_TEST(fqdn_ids_symmetric_and_apart_from_addresses)
{
    struct ike_id hub = id_fqdn("hub.example.net"), spoke = id_fqdn("branch1.example.net");
    struct ike_id hub_addr = id_addr("198.51.100.1");
    struct derived_pair a, b;
    struct ip_addr al, ar, bl, br;
    ck_assert_int_eq(derive_pair_ids(&hub, &spoke, &a), 0);
    ck_assert_int_eq(derive_pair_ids(&spoke, &hub, &b), 0);
    ck_assert_uint_eq(a.key, b.key);
    ck_assert_uint_eq(a.inner_net, b.inner_net);
    /* Python: SHA-256("tunneld-ids-v1" 02 000f "hub.example.net" 02 0013 "branch1...") */
    ck_assert_uint_eq(a.key, 2501300654u);
    ck_assert_uint_eq(a.inner_net, 0xa9fefa40u);
    /* The shorter encoding is the lower: the hub takes the even end. */
    ck_assert_int_eq(derive_inner_ends_ids(a.inner_net, &hub, &spoke, &al, &ar), 0);
    ck_assert_int_eq(derive_inner_ends_ids(b.inner_net, &spoke, &hub, &bl, &br), 0);
    ck_assert_uint_eq(ip_addr_v4(&al), 0xa9fefa40u);
    ck_assert_int_eq(ip_addr_cmp(&al, &br), 0);
    ck_assert_int_eq(ip_addr_cmp(&ar, &bl), 0);
    /* An address on one side, a name on the other: typed encodings, still symmetric. */
    ck_assert_int_eq(derive_pair_ids(&hub_addr, &spoke, &a), 0);
    ck_assert_int_eq(derive_pair_ids(&spoke, &hub_addr, &b), 0);
    ck_assert_uint_eq(a.key, b.key);
    ck_assert_uint_eq(a.key, 2637397949u);
    ck_assert_uint_eq(a.inner_net, 0xa9fecbe4u);
    /* The same name as an FQDN and as a key id are different identities. */
    struct ike_id kid = spoke;
    kid.type = IKE_ID_KEY_ID;
    ck_assert_int_eq(derive_pair_ids(&hub, &kid, &b), 0);
    ck_assert_int_eq(derive_pair_ids(&hub, &spoke, &a), 0);
    ck_assert_uint_ne(a.key, b.key);
}
END_TEST

/* Type and length first: a 1-byte name is no IPv4 address, whatever its bytes. */
START_TEST(encodings_do_not_collide)
{
    struct ike_id n = {.type = IKE_ID_FQDN, .len = 1, .data = {'a'}};
    struct ike_id v4 = id_addr("2.0.1.97"), other = id_addr("192.0.2.1");
    struct derived_pair a, b;
    ck_assert_int_eq(derive_pair_ids(&n, &other, &a), 0);
    ck_assert_int_eq(derive_pair_ids(&v4, &other, &b), 0);
    ck_assert_uint_ne(a.key, b.key);
    /* The same identity twice is no pair. */
    struct ike_id x = id_fqdn("hub.example.net"), y = id_fqdn("hub.example.net");
    struct ip_addr l, r;
    ck_assert_int_eq(derive_pair_ids(&x, &y, &a), -1);
    ck_assert_int_eq(derive_inner_ends_ids(0xa9fe0100u, &x, &y, &l, &r), -1);
}
END_TEST

START_TEST(interface_names)
{
    char n[IFNAMSIZ];
    derive_ifname("hq", n);
    ck_assert_str_eq(n, "gre-hq");
    derive_ifname("datacenter-east-1", n);
    ck_assert_str_eq(n, "gre-datacenter-");
    ck_assert_uint_eq(strlen(n), 15);
    derive_ifname("abcdefghijk", n);
    ck_assert_str_eq(n, "gre-abcdefghijk");
}
END_TEST

START_TEST(prefixes)
{
    struct ip_prefix p;
    bool host;
    ck_assert_int_eq(ip_prefix_parse("10.1.0.1/24", &p, &host), 0);
    ck_assert(host);
    ip_prefix_mask(&p);
    char buf[IP_PREFIX_STRLEN];
    ip_prefix_str(&p, buf, sizeof(buf));
    ck_assert_str_eq(buf, "10.1.0.0/24");
    ck_assert_int_eq(ip_prefix_parse("10.1.0.0/33", &p, &host), -1);
    ck_assert_int_eq(ip_prefix_parse("10.1.0.0/024", &p, &host), -1);
    ck_assert_int_eq(ip_prefix_parse("10.1.0.0", &p, &host), -1);
    ck_assert_int_eq(ip_prefix_parse("2001:db8::/32", &p, &host), 0);
    ck_assert(!host);
    ck_assert_int_eq(ip_prefix_parse("0.0.0.0/0", &p, &host), 0);
    ck_assert(!host);
    ck_assert_int_eq(ip_prefix_parse("10.0.0.0/0", &p, &host), 0);
    ck_assert(host);
}
END_TEST

START_TEST(overlap_and_contains)
{
    struct ip_prefix a = prefix("10.1.0.0/16"), b = prefix("10.1.2.0/24"),
                     c = prefix("10.2.0.0/16"), d = prefix("10.1.255.254/31"), v6 = prefix("::/0");
    struct ip_addr x = addr("10.1.2.3"), y = addr("10.2.0.0");
    ck_assert(ip_prefix_overlap(&a, &b) && ip_prefix_overlap(&b, &a));
    ck_assert(!ip_prefix_overlap(&a, &c));
    ck_assert(ip_prefix_overlap(&a, &d) && !ip_prefix_overlap(&b, &d));
    ck_assert(!ip_prefix_overlap(&a, &v6));
    ck_assert(ip_prefix_contains(&a, &x) && ip_prefix_contains(&b, &x));
    ck_assert(!ip_prefix_contains(&a, &y));
}
END_TEST

START_TEST(unicast)
{
    const char *yes[] = {"192.0.2.1", "10.0.0.1", "2001:db8::1", "fe80::1"};
    const char *no[] = {"0.0.0.0", "127.0.0.1", "224.0.0.5", "255.255.255.255",
                        "::",      "::1",       "ff02::1"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct ip_addr a = addr(yes[i]);
        ck_assert_msg(ip_addr_is_unicast(&a), "%s", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct ip_addr a = addr(no[i]);
        ck_assert_msg(!ip_addr_is_unicast(&a), "%s", no[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_derive");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, known_answers);
    tcase_add_test(tc, symmetric_with_roles_swapped);
    tcase_add_test(tc, no_tunnel_to_oneself_or_across_families);
    tcase_add_test(tc, address_ids_are_the_address_derivation);
    tcase_add_test(tc, nat_spoke_with_its_public_id_agrees_with_the_hub);
    tcase_add_test(tc, fqdn_ids_symmetric_and_apart_from_addresses);
    tcase_add_test(tc, encodings_do_not_collide);
    tcase_add_test(tc, interface_names);
    tcase_add_test(tc, prefixes);
    tcase_add_test(tc, overlap_and_contains);
    tcase_add_test(tc, unicast);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
