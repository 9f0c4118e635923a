/* tunneld/mss.c against the host's nf_tables, in a private network namespace. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "mss.h"
#include "subproc.h"
#include "unit.h"

static void private_netns(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        ck_abort_msg("unshare(CLONE_NEWNET) needs root");
}

/* `nft list ruleset`, as text. */
static void ruleset(char *out, size_t len)
{
    const char *argv[] = {"/usr/sbin/nft", "list ruleset", NULL};
    int status = 0;
    struct errmsg e;
    ck_assert_msg(subproc_run(argv, 10000, out, len, &status, &e) == 0, "%s", e.text);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

START_TEST(clamp_set_replace_clear)
{
    char rs[4096];
    struct errmsg e;
    private_netns();
    ck_assert_msg(mss_clamp_set("gre-hq", 1398, &e) == 0, "%s", e.text);
    ck_assert_msg(mss_clamp_set("gre-b2", 1360, &e) == 0, "%s", e.text);
    /* Again with another value: replaced, not added. */
    ck_assert_msg(mss_clamp_set("gre-hq", 1300, &e) == 0, "%s", e.text);
    ruleset(rs, sizeof(rs));
    ck_assert_msg(strstr(rs, "oifname \"gre-hq\" tcp flags syn / syn,rst tcp option maxseg size "
                             "> 1300 tcp option maxseg size set 1300"), "%s", rs);
    ck_assert_msg(strstr(rs, "iifname \"gre-hq\""), "%s", rs);
    ck_assert_uint_eq(count(rs, "maxseg size set 1300"), 2);
    ck_assert_uint_eq(count(rs, "maxseg size set 1398"), 0);
    ck_assert_uint_eq(count(rs, "maxseg size set 1360"), 2);
    ck_assert_msg(mss_clamp_clear("gre-hq", &e) == 0, "%s", e.text);
    ck_assert_msg(mss_clamp_clear("gre-hq", &e) == 0, "absent is fine: %s", e.text);
    ruleset(rs, sizeof(rs));
    ck_assert_ptr_null(strstr(rs, "gre-hq"));
    ck_assert_ptr_nonnull(strstr(rs, "gre-b2"));
}
END_TEST

START_TEST(flush_removes_the_table_and_is_idempotent)
{
    char rs[4096];
    struct errmsg e;
    private_netns();
    ck_assert_msg(mss_clamp_flush(&e) == 0, "no table yet: %s", e.text);
    ck_assert_msg(mss_clamp_set("gre-x", 1400, &e) == 0, "%s", e.text);
    ck_assert_msg(mss_clamp_flush(&e) == 0, "%s", e.text);
    ruleset(rs, sizeof(rs));
    ck_assert_ptr_null(strstr(rs, "tunneld"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mss");
    TCase *tc = tcase_create("netns");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, clamp_set_replace_clear);
    tcase_add_test(tc, flush_removes_the_table_and_is_idempotent);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
