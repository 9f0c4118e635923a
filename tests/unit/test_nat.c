/* tunneld/nat.c: what a peer's new NAT mapping changes in the kernel, decided without one. */
#include <arpa/inet.h>
#include <string.h>

#include "nat.h"
#include "unit.h"

static struct sockaddr_storage v4(const char *a, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET, a, &s->sin_addr), 1);
    return ss;
}

START_TEST(port_address_or_nothing)
{
    struct sockaddr_storage conf = v4("203.0.113.7", 500);
    struct sockaddr_storage was = v4("203.0.113.7", 41000), port = v4("203.0.113.7", 52011),
                            elsewhere = v4("203.0.113.99", 41000);
    ck_assert_int_eq(nat_move_kind(&conf, &port, &was), NAT_MOVE_PORT);
    ck_assert_int_eq(nat_move_kind(&conf, &was, &was), NAT_MOVE_NONE);
    /* The policies and GRE point at the configured address: any other one is a restart. */
    ck_assert_int_eq(nat_move_kind(&conf, &elsewhere, &was), NAT_MOVE_ADDRESS);
    ck_assert_int_eq(nat_move_kind(&conf, &port, &elsewhere), NAT_MOVE_PORT);
    struct sockaddr_storage v6;
    memset(&v6, 0, sizeof(v6));
    v6.ss_family = AF_INET6;
    ck_assert_int_eq(nat_move_kind(&conf, &v6, &was), NAT_MOVE_ADDRESS);
}
END_TEST

/*
 * The current SA, one in a rekey's grace period, a rekey's new one whose
 * outbound half is not installed yet, and one without encapsulation.
 */
START_TEST(every_encapsulated_state_follows)
{
    struct peer_sa sa[4] = {
        {.spi_in = 0x100, .spi_out = 0x200, .udp_encap = true, .encap_sport = 4500,
         .encap_dport = 41000, .out_installed = true, .retire_at = 12345},
        {.spi_in = 0x101, .spi_out = 0x201, .udp_encap = true, .encap_sport = 4500,
         .encap_dport = 41000, .out_installed = true},
        {.spi_in = 0x102, .spi_out = 0x202, .udp_encap = true, .encap_sport = 4500,
         .encap_dport = 41000, .out_installed = false},
        {.spi_in = 0x103, .spi_out = 0x203, .udp_encap = false, .out_installed = true},
    };
    struct nat_encap_update u[8];
    unsigned n = nat_encap_plan(sa, 4, 4500, 52011, u);
    ck_assert_uint_eq(n, 5);
    uint32_t in = 0, out = 0;
    for (unsigned i = 0; i < n; i++) {
        if (u[i].dir == XFRM_DIR_IN) {
            /* Inbound comes from the peer's new port to ours. */
            ck_assert_uint_eq(u[i].sport, 52011);
            ck_assert_uint_eq(u[i].dport, 4500);
            in |= 1u << (u[i].spi - 0x100);
        } else {
            ck_assert_uint_eq(u[i].sport, 4500);
            ck_assert_uint_eq(u[i].dport, 52011);
            out |= 1u << (u[i].spi - 0x200);
        }
    }
    ck_assert_uint_eq(in, 0x7);  /* 0x100, 0x101, 0x102 */
    ck_assert_uint_eq(out, 0x3); /* 0x200, 0x201: 0x202 is not in the kernel yet */
    /* States already on the new port are left alone. */
    for (unsigned i = 0; i < 4; i++)
        sa[i].encap_dport = 52011;
    ck_assert_uint_eq(nat_encap_plan(sa, 4, 4500, 52011, u), 0);
}
END_TEST

START_TEST(encap_ports_by_direction)
{
    uint16_t s, d;
    xfrm_encap_ports(XFRM_DIR_OUT, 4500, 41000, &s, &d);
    ck_assert_uint_eq(s, 4500);
    ck_assert_uint_eq(d, 41000);
    xfrm_encap_ports(XFRM_DIR_IN, 4500, 41000, &s, &d);
    ck_assert_uint_eq(s, 41000);
    ck_assert_uint_eq(d, 4500);
}
END_TEST

START_TEST(address_and_port_text)
{
    char buf[NAT_ADDR_PORT_STRLEN];
    struct sockaddr_storage a = v4("203.0.113.7", 52011);
    nat_addr_port_str(&a, buf, sizeof(buf));
    ck_assert_str_eq(buf, "203.0.113.7:52011");
    struct sockaddr_storage b;
    memset(&b, 0, sizeof(b));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&b;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(4500);
    inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
    nat_addr_port_str(&b, buf, sizeof(buf));
    ck_assert_str_eq(buf, "[2001:db8::1]:4500");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nat");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, port_address_or_nothing);
    tcase_add_test(tc, every_encapsulated_state_follows);
    tcase_add_test(tc, encap_ports_by_direction);
    tcase_add_test(tc, address_and_port_text);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
