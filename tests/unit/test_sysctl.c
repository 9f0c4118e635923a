/* tunneld/sysctl.c, in a private network namespace so the host is not touched. */
#include <sched.h>
#include <string.h>

#include "sysctl.h"
#include "unit.h"

static void private_netns(void)
{
    /* Check forks each test, so this namespace dies with the test. */
    if (unshare(CLONE_NEWNET) != 0)
        ck_abort_msg("unshare(CLONE_NEWNET) needs root");
}

START_TEST(tunnel_sysctls_set_forwarding_and_loose_rp_filter)
{
    char v[16];
    struct errmsg e;
    private_netns();
    ck_assert_int_eq(sysctl_write("net/ipv4/conf/all/rp_filter", "1", &e), 0);
    ck_assert_msg(sysctl_tunnel("lo", &e) == 0, "%s", e.text);
    ck_assert_int_eq(sysctl_read("net/ipv4/ip_forward", v, sizeof(v), &e), 0);
    ck_assert_str_eq(v, "1");
    ck_assert_int_eq(sysctl_read("net/ipv4/conf/lo/rp_filter", v, sizeof(v), &e), 0);
    ck_assert_str_eq(v, "2");
    ck_assert_int_eq(sysctl_read("net/ipv4/conf/all/rp_filter", v, sizeof(v), &e), 0);
    ck_assert_str_eq(v, "2");
}
END_TEST

START_TEST(errors_name_the_key)
{
    char v[16];
    struct errmsg e;
    private_netns();
    ck_assert_int_eq(sysctl_tunnel("no-such-if", &e), -1);
    ck_assert_ptr_nonnull(strstr(e.text, "net/ipv4/conf/no-such-if/rp_filter"));
    ck_assert_int_eq(sysctl_read("net/../../etc/passwd", v, sizeof(v), &e), -1);
    ck_assert_ptr_nonnull(strstr(e.text, "bad key"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sysctl");
    TCase *tc = tcase_create("netns");
    tcase_add_test(tc, tunnel_sysctls_set_forwarding_and_loose_rp_filter);
    tcase_add_test(tc, errors_name_the_key);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
