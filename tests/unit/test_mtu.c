/* tunneld/mtu.c: worked by hand from the ESP packet layout (RFC 4303 §2). */
#include <stdlib.h>

#include "mtu.h"
#include "unit.h"

static const struct ike_suite gcm = {.encr = IKE_ENCR_AES_GCM_16, .key_bits = 256};
static const struct ike_suite cbc256 = {.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                                        .integ = IKE_INTEG_HMAC_SHA2_256_128};
static const struct ike_suite cbc512 = {.encr = IKE_ENCR_AES_CBC, .key_bits = 256,
                                        .integ = IKE_INTEG_HMAC_SHA2_512_256};

START_TEST(gcm_on_ethernet)
{
    /* 1500 = 20 IP + 8 ESP + 8 IV + 16 ICV + 1448 (GRE 8 + 1438 + trailer 2, 4-aligned) */
    ck_assert_uint_eq(tunnel_mtu(1500, &gcm, false), 1438);
    ck_assert_uint_eq(tunnel_mss(1438), 1398);
    /* NAT-T adds 8 bytes of UDP. */
    ck_assert_uint_eq(tunnel_mtu(1500, &gcm, true), 1430);
}
END_TEST

START_TEST(cbc_pads_to_sixteen)
{
    /* 1500 - 20 - 8 - 16 IV - 16 ICV = 1440 (a multiple of 16) - 8 GRE - 2 trailer */
    ck_assert_uint_eq(tunnel_mtu(1500, &cbc256, false), 1430);
    /* 1500 - 20 - 8 - 16 - 32 = 1424 = 89 * 16 -> 1414 */
    ck_assert_uint_eq(tunnel_mtu(1500, &cbc512, false), 1414);
    /* PPPoE: 1492 - 60 = 1432 = 89.5 * 16 -> 1424 -> 1414 */
    ck_assert_uint_eq(tunnel_mtu(1492, &cbc256, false), 1414);
}
END_TEST

START_TEST(every_result_fits_the_wan)
{
    /* Re-add the overhead of each computed MTU and check it never exceeds the WAN. */
    for (unsigned wan = 576; wan <= 9000; wan++) {
        unsigned m = tunnel_mtu(wan, &cbc256, false);
        unsigned enc = (m + 8 + 2 + 15) / 16 * 16;
        ck_assert_uint_le(20 + 8 + 16 + enc + 16, wan);
        ck_assert_uint_gt(20 + 8 + 16 + enc + 16 + 16, wan); /* and wastes less than a block */
    }
}
END_TEST

START_TEST(unknown_or_tiny_gives_zero)
{
    const struct ike_suite none = {.encr = 99};
    const struct ike_suite cbc_no_integ = {.encr = IKE_ENCR_AES_CBC, .key_bits = 128};
    ck_assert_uint_eq(tunnel_mtu(1500, &none, false), 0);
    ck_assert_uint_eq(tunnel_mtu(1500, &cbc_no_integ, false), 0);
    ck_assert_uint_eq(tunnel_mtu(100, &gcm, false), 0);
    ck_assert_uint_eq(tunnel_mtu(0, &gcm, false), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mtu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gcm_on_ethernet);
    tcase_add_test(tc, cbc_pads_to_sixteen);
    tcase_add_test(tc, every_result_fits_the_wan);
    tcase_add_test(tc, unknown_or_tiny_gives_zero);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
