/* tunneld/proposal.c: strongSwan-style proposal strings into struct ike_suite (ikecore.h's ids). */
#include <string.h>

#include "proposal.h"
#include "suggest.h"
#include "unit.h"

static const struct proposal_rules ike2 = {PROPOSAL_IKE, 2, false, false, false};
static const struct proposal_rules ike1 = {PROPOSAL_IKE, 1, false, false, false};
static const struct proposal_rules ike2_legacy = {PROPOSAL_IKE, 2, true, false, false};
static const struct proposal_rules esp_pfs = {PROPOSAL_ESP, 2, false, true, false};
static const struct proposal_rules esp_nopfs = {PROPOSAL_ESP, 2, false, false, false};
static const struct proposal_rules esp_legacy = {PROPOSAL_ESP, 1, true, true, false};
static const struct proposal_rules esp_esn = {PROPOSAL_ESP, 2, false, true, true};

/* Short names keep the table one suite per line. */
enum { CBC = IKE_ENCR_AES_CBC, GCM = IKE_ENCR_AES_GCM_16 };

struct good {
    const char *s;
    const struct proposal_rules *r;
    struct ike_suite want;
};

static const struct good goods[] = {
    {"aes256gcm16-prfsha384-ecp384", &ike2,
     {GCM, 256, IKE_PRF_HMAC_SHA2_384, 0, IKE_DH_ECP_384, false}},
    {"aes128gcm16-prfsha256-x25519", &ike2,
     {GCM, 128, IKE_PRF_HMAC_SHA2_256, 0, IKE_DH_CURVE25519, false}},
    {"aes256-sha256-modp2048", &ike2,
     {CBC, 256, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048, false}},
    {"aes128-sha512-ecp521", &ike2,
     {CBC, 128, IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_521, false}},
    /* An explicit PRF beside an integrity algorithm wins over the derived one. */
    {"aes256-sha256-prfsha384-modp3072", &ike2,
     {CBC, 256, IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_3072, false}},
    /* Order does not matter, nor case. */
    {"ECP384-sha384-AES192", &ike2,
     {CBC, 192, IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192, IKE_DH_ECP_384, false}},
    {"aes128-sha1-modp2048", &ike1,
     {CBC, 128, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_2048, false}},
    {"aes256-sha1-modp2048", &ike2_legacy,
     {CBC, 256, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_2048, false}},
    {"aes256gcm16-ecp384", &esp_pfs, {GCM, 256, 0, 0, IKE_DH_ECP_384, false}},
    {"aes256gcm16-ecp384", &esp_nopfs, {GCM, 256, 0, 0, IKE_DH_NONE, false}},
    {"aes128gcm16", &esp_nopfs, {GCM, 128, 0, 0, IKE_DH_NONE, false}},
    {"aes256-sha1-modp4096", &esp_pfs,
     {CBC, 256, 0, IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_4096, false}},
    {"aes256-sha256-ecp256-esn", &esp_pfs,
     {CBC, 256, 0, IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_ECP_256, true}},
    {"aes256gcm16-ecp256", &esp_esn, {GCM, 256, 0, 0, IKE_DH_ECP_256, true}},
    {"aes256gcm16-ecp256-noesn", &esp_esn, {GCM, 256, 0, 0, IKE_DH_ECP_256, false}},
    {"3des-sha1-modp1024", &esp_legacy,
     {IKE_ENCR_3DES, 0, 0, IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_1024, false}},
};

START_TEST(good_strings)
{
    const struct good *g = &goods[_i];
    struct ike_suite s;
    struct proposal_error e;
    ck_assert_msg(proposal_parse(g->s, g->r, &s, &e) == 0, "%s: %s", g->s, e.msg);
    ck_assert_msg(s.encr == g->want.encr && s.key_bits == g->want.key_bits, "%s: encr", g->s);
    ck_assert_msg(s.prf == g->want.prf, "%s: prf %u", g->s, s.prf);
    ck_assert_msg(s.integ == g->want.integ, "%s: integ %u", g->s, s.integ);
    ck_assert_msg(s.dh == g->want.dh, "%s: dh %u", g->s, s.dh);
    ck_assert_msg(s.esn == g->want.esn, "%s: esn", g->s);
}
END_TEST

struct bad {
    const char *s;
    const struct proposal_rules *r;
    size_t offset;
    const char *msg;
};

static const struct bad bads[] = {
    {"aes265gcm16-prfsha384-ecp384", &ike2, 0,
     "unknown algorithm 'aes265gcm16' (did you mean 'aes256gcm16'?)"},
    {"aes256gcm16-prfsha384-ecp348", &ike2, 22,
     "unknown algorithm 'ecp348' (did you mean 'ecp384'?)"},
    {"aes256-sha256-frobnicate", &ike2, 14,
     "unknown algorithm 'frobnicate' (see the algorithm table in docs/config.md)"},
    {"aes256--sha256-ecp384", &ike2, 7, "empty algorithm name (stray '-')"},
    {"aes256-sha256-ecp384-", &ike2, 21, "empty algorithm name (stray '-')"},
    {"", &ike2, 0, "empty proposal"},
    {"3des-sha256-modp2048", &ike2, 0,
     "'3des' is a legacy algorithm: only a profile with 'legacy: true' may use it"},
    {"aes256-sha256-modp1024", &esp_pfs, 14,
     "'modp1024' is a legacy algorithm: only a profile with 'legacy: true' may use it"},
    {"aes256-sha1-modp2048", &ike2, 7,
     "'sha1' in an IKEv2 IKE proposal needs a profile with 'legacy: true' (use sha256 or "
     "stronger)"},
    {"aes256gcm16-prfsha1-ecp256", &ike2, 12,
     "'prfsha1' in an IKEv2 IKE proposal needs a profile with 'legacy: true' (use sha256 or "
     "stronger)"},
    {"des-sha1-modp2048", &esp_legacy, 0, "'des' is not supported: single DES is broken"},
    {"aes128-md5-modp2048", &esp_legacy, 7, "'md5' is not supported: MD5 is broken"},
    {"aes128-sha256-modp768", &ike2_legacy, 14, "'modp768' is not supported: MODP-768 is broken"},
    {"null-sha256", &esp_nopfs, 0,
     "'null' is not supported: ESP without encryption defeats the purpose"},
    {"aes256gcm16-sha256-ecp384", &ike2, 12,
     "'sha256' with AEAD cipher 'aes256gcm16': AEAD proposals take no integrity algorithm (for "
     "the PRF, write e.g. 'prfsha384')"},
    {"aes256gcm16-sha256-ecp384", &esp_pfs, 12,
     "'sha256' with AEAD cipher 'aes256gcm16': AEAD proposals take no integrity algorithm"},
    {"aes256gcm16-ecp384", &ike2, 0,
     "'aes256gcm16' needs a PRF in IKE proposals (add e.g. '-prfsha384')"},
    {"aes256-ecp384", &ike2, 0, "IKE proposal without an integrity algorithm (add e.g. '-sha256')"},
    {"aes256-sha256", &ike2, 0, "IKE proposal without a DH group (add e.g. '-ecp384')"},
    {"sha256-ecp384", &ike2, 0, "proposal without an encryption algorithm (e.g. aes256gcm16)"},
    {"aes256-ecp384", &esp_pfs, 0,
     "esp proposal without an integrity algorithm (add e.g. '-sha256')"},
    {"aes256-sha256", &esp_pfs, 0,
     "esp proposal without a DH group while pfs is on (add e.g. '-ecp384', or set 'pfs: false')"},
    {"aes256-aes128-sha256", &esp_nopfs, 7,
     "second encryption algorithm 'aes128' (after 'aes256'): one proposal takes one of each; "
     "list another proposal instead"},
    {"aes256-sha256-ecp384-modp2048", &ike2, 21,
     "second DH group 'modp2048' (after 'ecp384'): one proposal takes one of each; list another "
     "proposal instead"},
    {"aes256gcm16-prfsha256-ecp384", &esp_pfs, 12,
     "'prfsha256' is an IKE PRF: esp proposals take none"},
    {"aes256gcm16-prfsha256-ecp384-esn", &ike2, 29, "'esn' applies to esp proposals only"},
    {"aes256-sha256-prfsha256-modp2048", &ike1, 14,
     "'prfsha256': IKEv1 derives its PRF from the hash algorithm; drop it"},
    {"aes256gcm16-modp2048", &ike1, 0,
     "'aes256gcm16': IKEv1 has no AEAD ciphers for the IKE SA (use e.g. aes256-sha256-modp2048)"},
    {"aes256gcm16-esn-noesn", &esp_nopfs, 16,
     "second esn setting 'noesn' (after 'esn'): one proposal takes one of each; list another "
     "proposal instead"},
};

START_TEST(bad_strings)
{
    const struct bad *b = &bads[_i];
    struct ike_suite s;
    struct proposal_error e;
    ck_assert_msg(proposal_parse(b->s, b->r, &s, &e) == -1, "%s: accepted", b->s);
    ck_assert_msg(strcmp(e.msg, b->msg) == 0, "%s:\n  want %s\n  got  %s", b->s, b->msg, e.msg);
    ck_assert_msg(e.offset == b->offset, "%s: offset %zu, want %zu", b->s, e.offset, b->offset);
}
END_TEST

START_TEST(canonical_names)
{
    static const struct {
        const char *in, *out;
        enum proposal_kind kind;
    } cases[] = {
        {"aes256-sha256-prfsha384-modp3072", "aes256-sha256-prfsha384-modp3072", PROPOSAL_IKE},
        {"ecp384-sha2_384-aes", "aes128-sha384-ecp384", PROPOSAL_IKE},
        {"aes256gcm-prfsha256-x25519", "aes256gcm16-prfsha256-curve25519", PROPOSAL_IKE},
        {"aes256gcm16-ecp256-esn", "aes256gcm16-ecp256-esn", PROPOSAL_ESP},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ike_suite s;
        struct proposal_error e;
        char buf[PROPOSAL_MAX_LEN];
        const struct proposal_rules *r = cases[i].kind == PROPOSAL_IKE ? &ike2 : &esp_pfs;
        ck_assert_int_eq(proposal_parse(cases[i].in, r, &s, &e), 0);
        proposal_format(&s, cases[i].kind, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i].out);
    }
}
END_TEST

START_TEST(too_long)
{
    char s[PROPOSAL_MAX_LEN + 8];
    struct ike_suite out;
    struct proposal_error e;
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    ck_assert_int_eq(proposal_parse(s, &ike2, &out, &e), -1);
    ck_assert_str_eq(e.msg, "proposal longer than 128 characters");
}
END_TEST

/* Formatting then parsing gives the suite back: --print shows strings one can paste. */
START_TEST(format_round_trips)
{
    const struct good *g = &goods[_i];
    struct ike_suite s, again;
    struct proposal_error e;
    char buf[PROPOSAL_MAX_LEN];
    ck_assert_int_eq(proposal_parse(g->s, g->r, &s, &e), 0);
    proposal_format(&s, g->r->kind, buf, sizeof(buf));
    struct proposal_rules r = *g->r;
    r.pfs = s.dh != IKE_DH_NONE || r.kind == PROPOSAL_IKE;
    r.esn = false;
    ck_assert_msg(proposal_parse(buf, &r, &again, &e) == 0, "%s -> %s: %s", g->s, buf, e.msg);
    ck_assert_msg(memcmp(&s, &again, sizeof(s)) == 0, "%s -> %s", g->s, buf);
}
END_TEST

START_TEST(suggestions)
{
    static const char *const keys[] = {"name", "wan", "lan", "profile", "ospf", NULL};
    ck_assert_str_eq(suggest("lann", keys), "lan");
    ck_assert_str_eq(suggest("porfile", keys), "profile");   /* a swap is one edit */
    ck_assert_str_eq(suggest("nmae", keys), "name");
    ck_assert_ptr_null(suggest("colour", keys));
    ck_assert_ptr_null(suggest("x", keys));
    char longer[80];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert_ptr_null(suggest(longer, keys)); /* past the distance table: no guess, no overflow */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_proposal");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, good_strings, 0, sizeof(goods) / sizeof(goods[0]));
    tcase_add_loop_test(tc, bad_strings, 0, sizeof(bads) / sizeof(bads[0]));
    tcase_add_loop_test(tc, format_round_trips, 0, sizeof(goods) / sizeof(goods[0]));
    tcase_add_test(tc, too_long);
    tcase_add_test(tc, canonical_names);
    tcase_add_test(tc, suggestions);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
