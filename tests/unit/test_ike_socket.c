/* tunneld/ike_socket.c on loopback: UDP 500 as is, 4500 with the non-ESP marker, keepalives
 * bare. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike_socket.h"
#include "unit.h"

static struct sockaddr_storage loopback(void)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ss;
}

static int client(struct sockaddr_storage *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    *bound = loopback();
    socklen_t len = sizeof(*bound);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)bound, sizeof(struct sockaddr_in)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)bound, &len), 0);
    return fd;
}

static ssize_t recv_wait(struct ike_sockets *s, int fd, uint8_t *buf, size_t len,
                         struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 2000), 1);
    return ike_socket_recv(s, fd, buf, len, src, dst);
}

static void send_to(int fd, const void *buf, size_t len, const struct sockaddr_storage *to)
{
    ck_assert_int_eq(sendto(fd, buf, len, 0, (const struct sockaddr *)to,
                            sizeof(struct sockaddr_in)), (ssize_t)len);
}

START_TEST(ike_port_passes_messages_unchanged)
{
    struct ike_sockets s;
    struct sockaddr_storage local = loopback(), peer, src, dst;
    struct errmsg e;
    ck_assert_msg(ike_sockets_open(&s, &local, 0, 0, &e) == 0, "%s", e.text);
    int c = client(&peer);
    send_to(c, "IKEMSG", 6, &s.ike_addr);
    uint8_t buf[64];
    ck_assert_int_eq(recv_wait(&s, s.fd_ike, buf, sizeof(buf), &src, &dst), 6);
    ck_assert_mem_eq(buf, "IKEMSG", 6);
    ck_assert_mem_eq(&src, &peer, sizeof(struct sockaddr_in));
    ck_assert_mem_eq(&dst, &s.ike_addr, sizeof(struct sockaddr_in));
    close(c);
    ike_sockets_close(&s);
}
END_TEST

START_TEST(natt_port_strips_and_adds_the_marker)
{
    struct ike_sockets s;
    struct sockaddr_storage local = loopback(), peer, src, dst;
    struct errmsg e;
    ck_assert_msg(ike_sockets_open(&s, &local, 0, 0, &e) == 0, "%s", e.text);
    int c = client(&peer);
    uint8_t buf[64];
    send_to(c, "\0\0\0\0IKEMSG", 10, &s.natt_addr);
    ck_assert_int_eq(recv_wait(&s, s.fd_natt, buf, sizeof(buf), &src, &dst), 6);
    ck_assert_mem_eq(buf, "IKEMSG", 6);
    ck_assert_mem_eq(&dst, &s.natt_addr, sizeof(struct sockaddr_in));
    /* Something short of a marker never reaches IKE. */
    send_to(c, "\0\0", 2, &s.natt_addr);
    ck_assert_int_eq(recv_wait(&s, s.fd_natt, buf, sizeof(buf), &src, &dst), 0);
    /* Replies from 4500 carry the marker again. */
    ck_assert_int_eq(ike_socket_send(&s, (const uint8_t *)"REPLY", 5, &s.natt_addr, &peer, &e), 0);
    ck_assert_int_eq(recv(c, buf, sizeof(buf), 0), 9);
    ck_assert_mem_eq(buf, "\0\0\0\0REPLY", 9);
    /* And from 500 they do not. */
    ck_assert_int_eq(ike_socket_send(&s, (const uint8_t *)"REPLY", 5, &s.ike_addr, &peer, &e), 0);
    ck_assert_int_eq(recv(c, buf, sizeof(buf), 0), 5);
    close(c);
    ike_sockets_close(&s);
}
END_TEST

START_TEST(natt_keepalives_go_out_bare_and_never_reach_ike)
{
    struct ike_sockets s;
    struct sockaddr_storage local = loopback(), peer, src, dst;
    struct errmsg e;
    ck_assert_msg(ike_sockets_open(&s, &local, 0, 0, &e) == 0, "%s", e.text);
    int c = client(&peer);
    uint8_t buf[64];
    /* RFC 3948 §2.3: one byte 0xFF, from 4500, no non-ESP marker. */
    ck_assert_msg(ike_socket_send_keepalive(&s, &peer, &e) == 0, "%s", e.text);
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ck_assert_int_eq(recvfrom(c, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 1);
    ck_assert_uint_eq(buf[0], 0xff);
    ck_assert_mem_eq(&from, &s.natt_addr, sizeof(struct sockaddr_in));
    /* One coming in is eaten by the kernel's UDP_ENCAP handler, or by us: IKE sees the next. */
    send_to(c, "\xff", 1, &s.natt_addr);
    send_to(c, "\0\0\0\0IKEMSG", 10, &s.natt_addr);
    ssize_t n;
    while ((n = recv_wait(&s, s.fd_natt, buf, sizeof(buf), &src, &dst)) == 0)
        ;
    ck_assert_int_eq(n, 6);
    ck_assert_mem_eq(buf, "IKEMSG", 6);
    close(c);
    ike_sockets_close(&s);
}
END_TEST

START_TEST(oversized_datagram_is_dropped_not_truncated)
{
    struct ike_sockets s;
    struct sockaddr_storage local = loopback(), peer, src, dst;
    ck_assert_int_eq(ike_sockets_open(&s, &local, 0, 0, NULL), 0);
    int c = client(&peer);
    uint8_t big[100] = {1}, buf[64];
    send_to(c, big, sizeof(big), &s.ike_addr);
    ck_assert_int_eq(recv_wait(&s, s.fd_ike, buf, sizeof(buf), &src, &dst), 0);
    close(c);
    ike_sockets_close(&s);
}
END_TEST

START_TEST(port_in_use_is_a_clear_error)
{
    struct ike_sockets a, b;
    struct sockaddr_storage local = loopback();
    struct errmsg e;
    ck_assert_int_eq(ike_sockets_open(&a, &local, 0, 0, NULL), 0);
    uint16_t port = ntohs(((struct sockaddr_in *)&a.ike_addr)->sin_port);
    /* A second daemon must fail loudly, not share the port and steal half the packets. */
    ck_assert_int_eq(ike_sockets_open(&b, &local, port, 0, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.text, "Address already in use"));
    ike_sockets_close(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ike_socket");
    TCase *tc = tcase_create("loopback");
    tcase_add_test(tc, ike_port_passes_messages_unchanged);
    tcase_add_test(tc, natt_port_strips_and_adds_the_marker);
    tcase_add_test(tc, natt_keepalives_go_out_bare_and_never_reach_ike);
    tcase_add_test(tc, oversized_datagram_is_dropped_not_truncated);
    tcase_add_test(tc, port_in_use_is_a_clear_error);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
