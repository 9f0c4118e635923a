/*
 * appliance/tunnelctl: the printers and the word matching in-process (the
 * appliance sources are compiled into this suite: the Makefile links no
 * appliance objects into tests), then the binary ($TUNNELCTL) against a fake
 * tunneld: a socket in a temporary directory answering with docs/cli.md's
 * example replies, for exit codes, prefixes, --json and the error sentences.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../appliance/ctl_args.c"
#include "../../appliance/ctl_clear.c"
#include "../../appliance/ctl_fmt.c"
#include "../../appliance/ctl_ipc.c"
#include "../../appliance/ctl_json.c"
#include "../../appliance/ctl_reply.c"
#include "../../appliance/show_ipsec.c"
#include "../../appliance/show_isakmp.c"
#include "../../appliance/show_misc.c"
#include "unit.h"

/* docs/cli.md's examples, the ipsec-sa one with its outbound SA written out. */
static const char status_result[] =
    "{\"daemon\": {\"pid\": 812, \"uptime_s\": 3605, \"log_level\": \"info\"},"
    " \"config\": {\"file\": \"/etc/tunneld/sites.yaml\", \"loaded_unix\": 1764620000,"
    " \"loaded_at\": \"2026-12-01T20:13:20Z\"},"
    " \"site\": {\"name\": \"shop7\", \"wan\": {\"interface\": \"eth0\", \"address\": "
    "\"192.0.2.1\", \"mtu\": 1500}},"
    " \"peers\": {\"total\": 2, \"up\": 1, \"down\": 1}}";

static const char isakmp_result[] =
    "{\"sas\": [{\"peer\": \"hq\", \"local\": \"192.0.2.1\", \"remote\": \"192.0.2.2\","
    " \"state\": \"ESTABLISHED\", \"version\": 2, \"conn_id\": 1041, \"status\": \"ACTIVE\","
    " \"role\": \"initiator\", \"spi_i\": \"8f3c19aa01d2e4f0\", \"spi_r\": \"77aa0c3e19b2f1d4\","
    " \"suite\": \"aes256gcm16-prfsha384-ecp384\", \"nat\": false,"
    " \"nat_local\": false, \"nat_remote\": false, \"local_port\": 500, \"remote_port\": 500,"
    " \"established_s\": 310, \"lifetime_remaining_s\": 85970},"
    " {\"peer\": \"v6hub\", \"local\": \"2001:db8::1\", \"remote\": \"2001:db8:ffff::2\","
    " \"state\": \"CONNECTING\", \"version\": 2, \"conn_id\": 1042, \"status\": \"NEGOTIATING\","
    " \"role\": \"responder\", \"spi_i\": \"0123456789abcdef\", \"spi_r\": null,"
    " \"suite\": null, \"nat\": true, \"nat_local\": false, \"nat_remote\": true,"
    " \"local_port\": 4500, \"remote_port\": 38211,"
    " \"established_s\": null, \"lifetime_remaining_s\": null}]}";

#define ESP_SA(hex, dec, kb, udp, lport, rport, status, pkts, bytes)                               \
    "{\"spi\": {\"hex\": \"" hex "\", \"decimal\": " dec "}, \"transform\": \"aes256gcm16\","      \
    " \"mode\": \"Transport\", \"udp_encap\": " udp ", \"encap_local_port\": " lport ","           \
    " \"encap_remote_port\": " rport ", \"remaining_kb\": " kb ","                                 \
    " \"remaining_s\": 3300, \"replay_detection\": true, \"replay_window\": 32,"                   \
    " \"status\": \"" status "\", \"packets\": " pkts ", \"bytes\": " bytes "}"

static const char ipsec_result[] =
    "{\"peers\": [{\"peer\": \"hq\", \"interface\": \"gre-hq\","
    " \"local_ident\":  {\"address\": \"192.0.2.1\", \"mask\": \"255.255.255.255\", "
    "\"protocol\": 47, \"port\": 0},"
    " \"remote_ident\": {\"address\": \"192.0.2.2\", \"mask\": \"255.255.255.255\", "
    "\"protocol\": 47, \"port\": 0},"
    " \"current_peer\": \"192.0.2.2\", \"port\": 500,"
    " \"pkts_encaps\": 120, \"pkts_encrypt\": 120, \"pkts_digest\": 120,"
    " \"pkts_decaps\": 118, \"pkts_decrypt\": 118, \"pkts_verify\": 118,"
    " \"bytes_out\": 14400, \"bytes_in\": 14160,"
    " \"replay_errors\": 3, \"integrity_failures\": 4, \"decrypt_errors\": 5,"
    " \"local_endpoint\": \"192.0.2.1\", \"remote_endpoint\": \"192.0.2.2\","
    " \"path_mtu\": 1500, \"ip_mtu\": 1438,"
    " \"pfs\": true, \"dh_group\": \"ecp384\","
    " \"current_outbound_spi\": {\"hex\": \"0x4c1aae96\", \"decimal\": 1276816022},"
    " \"inbound\": ["
    ESP_SA("0xce08225e", "3456639582", "4607900", "false", "null", "null", "ACTIVE", "118", "14160")
    "], \"outbound\": ["
    ESP_SA("0x4c1aae96", "1276816022", "4607800", "true", "4500", "38211", "ACTIVE", "120", "14400")
    ", "
    ESP_SA("0x0badf00d", "195948557", "null", "false", "null", "null", "RETIRING", "7", "700")
    "]}]}";

static const char map_result[] =
    "{\"peers\": [{\"peer\": \"hq\", \"address\": \"192.0.2.2\", \"profile\": \"default\", "
    "\"interface\": \"gre-hq\","
    " \"ike_version\": 2, \"ikev1_mode\": null,"
    " \"ike_proposals\": [\"aes256gcm16-prfsha384-ecp384\"], \"esp_proposals\": "
    "[\"aes256gcm16-ecp384\"],"
    " \"ike_lifetime_s\": 86400, \"esp_lifetime_s\": 3600, \"esp_lifetime_kb\": 4608000,"
    " \"pfs\": true, \"dpd_s\": 30}]}";

static const char tunnels_result[] =
    "{\"tunnels\": [{\"interface\": \"gre-hq\", \"peer\": \"hq\", \"local\": \"192.0.2.1\", "
    "\"remote\": \"192.0.2.2\","
    " \"gre_key\": 277771961, \"inner_local\": \"169.254.154.214\", \"inner_remote\": "
    "\"169.254.154.215\","
    " \"mtu\": 1438, \"mss\": 1398, \"esp_up\": true, \"ospf_state\": \"Full\"},"
    " {\"interface\": \"gre-branch2\", \"peer\": \"branch2\", \"local\": \"192.0.2.1\", "
    "\"remote\": \"203.0.113.20\", \"gre_key\": 1234, \"inner_local\": \"169.254.10.0\", "
    "\"inner_remote\": \"169.254.10.1\", \"mtu\": 1400, \"mss\": 1360, \"esp_up\": false, "
    "\"ospf_state\": null}]}";

static const char clear_result[] =
    "{\"cleared\": [{\"peer\": \"hq\", \"address\": \"192.0.2.2\", \"spis_in\": "
    "[\"0xce08225e\", \"0x0badf00d\"]},"
    " {\"peer\": \"branch2\", \"address\": \"203.0.113.20\", \"spis_in\": []}]}";

static const char reload_result[] = "{\"kept\": 1, \"stopped\": 0, \"started\": 1}";

static const char *tunnelctl_bin;

/* ---- in-process: printers over the doc's examples ---- */

static char *render(ctl_printer *print, const char *json)
{
    struct json_object *result = json_tokener_parse(json);
    char *text = NULL;
    size_t len = 0;
    ck_assert_msg(result != NULL, "bad canned JSON: %.60s", json);
    FILE *f = open_memstream(&text, &len);
    ck_assert(f != NULL);
    print(f, result);
    fclose(f);
    json_object_put(result);
    return text;
}

#define ck_has(text, s)                                                                            \
    ck_assert_msg(strstr((text), (s)) != NULL, "missing \"%s\" in:\n%s", (s), (text))

/* Every string and number of the result shows in the text (SPIs in either case): nothing the
 * schema lists is dropped. Booleans and nulls are checked by each test. skip: keys not shown
 * verbatim (a duration printed as 1h 0m 5s), NULL-terminated. */
static void every_leaf_shown(struct json_object *o, const char *key, const char *text,
                             const char *const skip[])
{
    for (size_t i = 0; skip[i]; i++)
        if (strcmp(skip[i], key) == 0)
            return;
    switch (json_object_get_type(o)) {
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); i++)
            every_leaf_shown(json_object_array_get_idx(o, i), key, text, skip);
        break;
    case json_type_object: {
        json_object_object_foreach(o, k, v) every_leaf_shown(v, k, text, skip);
        break;
    }
    case json_type_string:
    case json_type_int:
        ck_assert_msg(strcasestr(text, json_object_get_string(o)) != NULL,
                      "field %s (%s) missing in:\n%s", key, json_object_get_string(o), text);
        break;
    default: break; /* null, booleans: each test checks its own */
    }
}

static void check_every_leaf(ctl_printer *print, const char *json, const char *const skip[])
{
    struct json_object *result = json_tokener_parse(json);
    char *text = render(print, json);
    every_leaf_shown(result, "", text, skip);
    json_object_put(result);
    free(text);
}

static const char *const no_skip[] = {NULL};

START_TEST(match_word_prefixes)
{
    static const char *const w[] = {"isakmp", "ipsec", "map", "sa", "sat", NULL};
    ck_assert_int_eq(ctl_match_word("isakmp", w), 0);
    ck_assert_int_eq(ctl_match_word("isa", w), 0);
    ck_assert_int_eq(ctl_match_word("ips", w), 1);
    ck_assert_int_eq(ctl_match_word("IPSEC", w), 1);
    ck_assert_int_eq(ctl_match_word("m", w), 2);
    ck_assert_int_eq(ctl_match_word("i", w), -2);
    ck_assert_int_eq(ctl_match_word("sa", w), 3); /* exact beats the longer "sat" */
    ck_assert_int_eq(ctl_match_word("s", w), -2);
    ck_assert_int_eq(ctl_match_word("x", w), -1);
    ck_assert_int_eq(ctl_match_word("isakmpx", w), -1);
    ck_assert_int_eq(ctl_match_word("", w), -1);
}
END_TEST

START_TEST(ipsec_sa_layout)
{
    char *t = render(print_ipsec_sa, ipsec_result);
    ck_has(t, "interface: gre-hq\n");
    ck_has(t, "Crypto map tag: hq, local addr 192.0.2.1\n");
    ck_has(t, "protected vrf: (none)\n");
    ck_has(t, "local  ident (addr/mask/prot/port): (192.0.2.1/255.255.255.255/47/0)\n");
    ck_has(t, "remote ident (addr/mask/prot/port): (192.0.2.2/255.255.255.255/47/0)\n");
    ck_has(t, "current_peer 192.0.2.2 port 500\n");
    ck_has(t, "#pkts encaps: 120, #pkts encrypt: 120, #pkts digest: 120\n");
    ck_has(t, "#pkts decaps: 118, #pkts decrypt: 118, #pkts verify: 118\n");
    ck_has(t, "#bytes encaps: 14400, #bytes decaps: 14160\n");
    ck_has(t, "#pkts replay failed: 3, #pkts verify failed: 4, #pkts decrypt failed: 5\n");
    ck_has(t, "local crypto endpt.: 192.0.2.1, remote crypto endpt.: 192.0.2.2\n");
    ck_has(t, "plaintext mtu 1438, path mtu 1500, ip mtu 1438\n");
    ck_has(t, "current outbound spi: 0x4C1AAE96(1276816022)\n");
    ck_has(t, "PFS (Y/N): Y, DH group: ecp384\n");
    ck_has(t, "inbound esp sas:\n      spi: 0xCE08225E(3456639582)\n");
    ck_has(t, "transform: aes256gcm16 ,\n");
    ck_has(t, "in use settings ={Transport, }\n");
    ck_has(t, "in use settings ={Transport UDP-Encaps, }\n        udp encaps: local port 4500, "
              "remote port 38211\n");
    /* Only under the encapsulated SA. */
    ck_assert_ptr_null(strstr(strstr(t, "0x0BADF00D"), "udp encaps"));
    ck_has(t, "sa timing: remaining key lifetime (k/sec): (4607900/3300)\n");
    ck_has(t, "sa timing: remaining key lifetime (k/sec): (4607800/3300)\n");
    ck_has(t, "sa timing: remaining key lifetime (sec): (3300)\n"); /* no byte limit */
    ck_has(t, "replay detection support: Y, replay window size: 32\n");
    ck_has(t, "#pkts: 118, #bytes: 14160\n");
    ck_has(t, "Status: ACTIVE\n");
    ck_has(t, "Status: RETIRING\n");
    ck_has(t, "outbound esp sas:\n      spi: 0x4C1AAE96(1276816022)\n");
    ck_has(t, "      spi: 0x0BADF00D(195948557)\n");
    /* inbound before outbound, both under the peer */
    ck_assert(strstr(t, "inbound esp sas") &&
              strstr(t, "inbound esp sas") < strstr(t, "outbound esp sas"));
    free(t);
    check_every_leaf(print_ipsec_sa, ipsec_result, no_skip);
}
END_TEST

START_TEST(ipsec_sa_nulls)
{
    char *t = render(print_ipsec_sa,
                     "{\"peers\": [{\"peer\": \"hq\", \"interface\": \"gre-hq\", "
                     "\"local_ident\": null, \"remote_ident\": null, \"pfs\": false, "
                     "\"dh_group\": null, \"current_outbound_spi\": null, \"inbound\": [], "
                     "\"outbound\": []}]}");
    ck_has(t, "local  ident (addr/mask/prot/port): (none)\n");
    ck_has(t, "PFS (Y/N): N, DH group: none\n");
    ck_has(t, "current outbound spi: -\n");
    ck_has(t, "#pkts encaps: -, #pkts encrypt: -, #pkts digest: -\n");
    ck_has(t, "inbound esp sas:\n\n     outbound esp sas:\n");
    free(t);
    t = render(print_ipsec_sa, "{\"peers\": []}");
    ck_assert_str_eq(t, "");
    free(t);
}
END_TEST

START_TEST(isakmp_sa_table)
{
    char *t = render(print_isakmp_sa, isakmp_result);
    ck_assert_msg(strncmp(t, "IPv4 Crypto ISAKMP SA\n", 22) == 0, "%s", t);
    ck_has(t, "dst             src             state          conn-id status      version peer\n");
    ck_has(t, "192.0.2.2       192.0.2.1       ESTABLISHED       1041 ACTIVE      IKEv2   hq\n");
    ck_has(t, "      initiator, SPI i 8f3c19aa01d2e4f0 r 77aa0c3e19b2f1d4, "
              "aes256gcm16-prfsha384-ecp384\n");
    ck_has(t, "NAT-T (Y/N): N, Active/Remaining Time: 310/85970 sec\n      Local port 500, "
              "remote port 500\n");
    /* The IPv6 SA in its own section, after the IPv4 one. */
    const char *v6 = strstr(t, "IPv6 Crypto ISAKMP SA\n");
    ck_assert_ptr_nonnull(v6);
    ck_assert(strstr(t, "192.0.2.2 ") && strstr(t, "192.0.2.2 ") < v6);
    ck_assert(strstr(t, "2001:db8:ffff::2 2001:db8::1") > v6);
    ck_has(t, "CONNECTING        1042 NEGOTIATING IKEv2   v6hub\n");
    ck_has(t, "NAT-T (Y/N): Y, Active/Remaining Time: -/- sec\n      Local port 4500, remote "
              "port 38211, NAT-T is detected outside\n");
    free(t);
    check_every_leaf(print_isakmp_sa, isakmp_result, no_skip);
    t = render(print_isakmp_sa, "{\"sas\": []}");
    ck_has(t, "IPv4 Crypto ISAKMP SA\ndst");
    ck_assert_ptr_null(strstr(t, "ACTIVE"));
    free(t);
}
END_TEST

START_TEST(crypto_map_screen)
{
    char *t = render(print_crypto_map, map_result);
    ck_has(t, "Crypto Map \"hq\" ipsec-isakmp\n");
    ck_has(t, "Peer = 192.0.2.2\n");
    ck_has(t, "Profile: default\n");
    ck_has(t, "IKE version: IKEv2\n");
    ck_has(t, "IKE proposals={\n                aes256gcm16-prfsha384-ecp384,\n        }\n");
    ck_has(t, "IKE SA lifetime: 86400 seconds\n");
    ck_has(t, "Security association lifetime: 4608000 kilobytes/3600 seconds\n");
    ck_has(t, "PFS (Y/N): Y\n");
    ck_has(t, "DPD: 30 seconds\n");
    ck_has(t, "Transform sets={\n                aes256gcm16-ecp384,\n        }\n");
    ck_has(t, "Interfaces using crypto map hq:\n                gre-hq\n");
    free(t);
    check_every_leaf(print_crypto_map, map_result, no_skip);
    t = render(print_crypto_map,
               "{\"peers\": [{\"peer\": \"old\", \"ike_version\": 1, \"ikev1_mode\": \"main\", "
               "\"esp_lifetime_s\": 3600, \"esp_lifetime_kb\": 0, \"pfs\": false, \"dpd_s\": 0}]}");
    ck_has(t, "IKE version: IKEv1, main mode\n");
    ck_has(t, "Security association lifetime: 3600 seconds (no kilobyte limit)\n");
    ck_has(t, "PFS (Y/N): N\n");
    ck_has(t, "DPD: off\n");
    free(t);
}
END_TEST

START_TEST(tunnels_table)
{
    char *t = render(print_tunnels, tunnels_result);
    /* The columns line up: every row has the MTU at the same offset as the header's. */
    const char *head = t, *row1 = strchr(t, '\n') + 1, *row2 = strchr(row1, '\n') + 1;
    ck_assert_int_eq(strncmp(head, "Interface    Peer     Local      Remote", 39), 0);
    long col = strstr(head, "MTU") - head;
    ck_assert_int_eq(strncmp(row1 + col, "1438", 4), 0);
    ck_assert_int_eq(strncmp(row2 + col, "1400", 4), 0);
    ck_has(t, "gre-hq ");
    ck_has(t, " 277771961 ");
    ck_has(t, " up    Full\n");
    ck_has(t, " down  -\n"); /* ospf_state null */
    free(t);
    check_every_leaf(print_tunnels, tunnels_result, no_skip);
}
END_TEST

START_TEST(status_screen)
{
    static const char *const skip[] = {"uptime_s", NULL};
    char *t = render(print_status, status_result);
    ck_has(t, "tunneld:  running, pid 812, up 1h 0m 5s, log level info\n");
    ck_has(t, "config:   /etc/tunneld/sites.yaml, loaded 2026-12-01T20:13:20Z (unix 1764620000)\n");
    ck_has(t, "site:     shop7\n");
    ck_has(t, "wan:      eth0, address 192.0.2.1, mtu 1500\n");
    ck_has(t, "peers:    2 total, 1 up, 1 down\n");
    free(t);
    check_every_leaf(print_status, status_result, skip);
    char buf[32];
    ck_assert_str_eq(ctl_fmt_duration(0, buf, sizeof(buf)), "0s");
    ck_assert_str_eq(ctl_fmt_duration(61, buf, sizeof(buf)), "1m 1s");
    ck_assert_str_eq(ctl_fmt_duration(90061, buf, sizeof(buf)), "1d 1h 1m 1s");
}
END_TEST

START_TEST(clear_lines)
{
    char *t = render(print_clear_sa, clear_result);
    ck_assert_str_eq(t, "hq (192.0.2.2): ESP SAs cleared, rekeying (IKE SA kept), inbound SPIs "
                        "0xCE08225E 0x0BADF00D\n"
                        "branch2 (203.0.113.20): ESP SAs cleared, rekeying (IKE SA kept), "
                        "inbound SPIs none\n");
    free(t);
    t = render(print_clear_isakmp, clear_result);
    ck_has(t,
           "hq (192.0.2.2): IKE SA and its ESP SAs cleared, inbound SPIs 0xCE08225E 0x0BADF00D\n");
    free(t);
    t = render(print_clear_sa, "{\"cleared\": []}");
    ck_assert_str_eq(t, "nothing to clear: no peer has SAs\n");
    free(t);
    t = render(print_clear_sa, "{\"cleared\": [], \"skipped\": [{\"peer\": \"hq\", "
                               "\"address\": \"192.0.2.2\", \"reason\": \"an exchange is in "
                               "progress; try again\"}]}");
    ck_assert_str_eq(t, "hq (192.0.2.2): not cleared: an exchange is in progress; try again\n");
    free(t);
    t = render(print_reload, reload_result);
    ck_assert_str_eq(t, "reloaded: 1 peers kept, 0 stopped, 1 started\n");
    free(t);
    t = render(print_log_level, "{\"level\": \"debug\"}");
    ck_assert_str_eq(t, "log level: debug\n");
    free(t);
}
END_TEST

/* ---- the binary against a fake tunneld ---- */

struct run {
    int status;         /* exit code, -1 when killed */
    char request[4200]; /* the line tunnelctl sent, "" when it never connected */
    char out[32768], err[8192];
};

enum serve { SERVE_REPLY, SERVE_SILENT, SERVE_NONE };

struct fake {
    char dir[64], sock[96];
    int fd;
};

static void fake_open(struct fake *f, bool listening)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/tunnelctl-test-XXXXXX");
    ck_assert(mkdtemp(f->dir) != NULL);
    snprintf(f->sock, sizeof(f->sock), "%s/control", f->dir);
    f->fd = -1;
    if (!listening)
        return;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->sock);
    f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ck_assert(f->fd >= 0);
    ck_assert(bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
    ck_assert(listen(f->fd, 4) == 0);
}

static void fake_close(struct fake *f)
{
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->sock);
    rmdir(f->dir);
}

static void slurp_into(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    buf[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    unlink(path);
}

/* One request in, the reply out (or none: SERVE_SILENT holds the line open until tunnelctl
 * gives up). Returns once tunnelctl has exited. */
static void fake_serve(struct fake *f, pid_t pid, enum serve how, const char *reply, struct run *r)
{
    int cfd = -1, status = 0;
    size_t len = 0;
    bool exited = false;
    for (int waited = 0; !exited && waited < 15000; waited += 10) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        if (cfd == -1 && f->fd >= 0)
            cfd = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0 || (len && r->request[len - 1] == '\n')) {
            usleep(10 * 1000);
            continue;
        }
        struct pollfd p = {.fd = cfd, .events = POLLIN};
        if (poll(&p, 1, 10) == 1) {
            ssize_t n = read(cfd, r->request + len, sizeof(r->request) - 1 - len);
            len += n > 0 ? (size_t)n : 0;
            r->request[len] = '\0';
            if (len && r->request[len - 1] == '\n' && how == SERVE_REPLY) {
                ck_assert(write(cfd, reply, strlen(reply)) == (ssize_t)strlen(reply));
                ck_assert(write(cfd, "\n", 1) == 1);
                close(cfd);
                cfd = -2; /* served; never accept again */
            }
        }
    }
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (cfd >= 0)
        close(cfd);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs tunnelctl with args (NULL-terminated) against f. env_socket: set $TUNNELD_SOCKET to
 * f's socket instead of passing --socket. as_nobody: drop to uid 65534 first. */
static void run_ctl(struct run *r, struct fake *f, enum serve how, const char *reply,
                    const char *const *args, bool env_socket, bool as_nobody)
{
    char out[128], err[128];
    const char *argv[40];
    int n = 0;
    snprintf(out, sizeof(out), "%s/out", f->dir);
    snprintf(err, sizeof(err), "%s/err", f->dir);
    memset(r, 0, sizeof(*r));
    argv[n++] = tunnelctl_bin;
    if (!env_socket) {
        argv[n++] = "--socket";
        argv[n++] = f->sock;
    }
    for (; *args && n < 38; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(99);
        if (env_socket)
            setenv("TUNNELD_SOCKET", f->sock, 1);
        else
            unsetenv("TUNNELD_SOCKET");
        if (as_nobody && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
            _exit(98);
        execv(tunnelctl_bin, (char *const *)argv);
        _exit(97);
    }
    fake_serve(f, pid, how, reply, r);
    slurp_into(out, r->out, sizeof(r->out));
    slurp_into(err, r->err, sizeof(r->err));
}

static char *ok_reply(const char *result)
{
    char *s = NULL;
    ck_assert(asprintf(&s, "{\"ok\": true, \"result\": %s}", result) > 0);
    return s;
}

/* tunnelctl ARGS... against a fake tunneld answering ok with result. */
static void ctl_ok(struct run *r, const char *result, const char *const *args)
{
    struct fake f;
    char *reply = ok_reply(result);
    fake_open(&f, true);
    run_ctl(r, &f, SERVE_REPLY, reply, args, false, false);
    fake_close(&f);
    free(reply);
}

static struct json_object *sent(const struct run *r)
{
    struct json_object *o = json_tokener_parse(r->request);
    ck_assert_msg(o && json_object_is_type(o, json_type_object), "request not an object: '%s'",
                  r->request);
    return o;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

struct phrase {
    const char *const *args;
    const char *cmd, *key, *value; /* what the request must hold */
    const char *result, *text;     /* the reply, and a line the text must hold */
};

static const struct phrase phrases[] = {
    {ARGS("show", "crypto", "isakmp", "sa"), "isakmp-sa", NULL, NULL, isakmp_result,
     "IPv4 Crypto ISAKMP SA\n"},
    {ARGS("sh", "cry", "isa", "sa"), "isakmp-sa", NULL, NULL, isakmp_result, "ESTABLISHED"},
    {ARGS("show", "crypto", "ipsec", "sa"), "ipsec-sa", NULL, NULL, ipsec_result,
     "interface: gre-hq\n"},
    {ARGS("sh", "cry", "ips", "sa", "p", "192.0.2.2"), "ipsec-sa", "peer", "192.0.2.2",
     ipsec_result, "current_peer 192.0.2.2 port 500\n"},
    {ARGS("SH", "CRY", "IPS", "SA", "PEER", "2001:db8::2"), "ipsec-sa", "peer", "2001:db8::2",
     ipsec_result, "Status: ACTIVE\n"},
    {ARGS("sh", "cr", "m"), "crypto-map", NULL, NULL, map_result, "Crypto Map \"hq\""},
    {ARGS("sh", "t"), "tunnels", NULL, NULL, tunnels_result, "169.254.154.215"},
    {ARGS("s", "st"), "status", NULL, NULL, status_result, "peers:    2 total, 1 up, 1 down\n"},
    {ARGS("c", "c", "s"), "clear-sa", NULL, NULL, clear_result, "hq (192.0.2.2): ESP SAs"},
    {ARGS("clear", "crypto", "sa", "peer", "192.0.2.2"), "clear-sa", "peer", "192.0.2.2",
     clear_result, "0xCE08225E"},
    {ARGS("cl", "cr", "i", "pe", "192.0.2.2"), "clear-isakmp", "peer", "192.0.2.2", clear_result,
     "IKE SA and its ESP SAs cleared"},
    {ARGS("rel"), "reload", NULL, NULL, reload_result, "reloaded: 1 peers kept"},
    {ARGS("log-level", "debug"), "log-level", "level", "debug", "{\"level\": \"debug\"}",
     "log level: debug\n"},
    {ARGS("l", "w"), "log-level", "level", "warning", "{\"level\": \"warning\"}",
     "log level: warning\n"},
};

START_TEST(phrase_sends_its_request)
{
    const struct phrase *p = &phrases[_i];
    struct run r;
    ctl_ok(&r, p->result, p->args);
    ck_assert_msg(r.status == 0, "%s: exit %d, stderr: %s", p->args[0], r.status, r.err);
    struct json_object *req = sent(&r);
    ck_assert_str_eq(ctl_str(req, "cmd"), p->cmd);
    if (p->key)
        ck_assert_str_eq(ctl_str_or(req, p->key, "(absent)"), p->value);
    else
        ck_assert_int_eq(json_object_object_length(req), 1);
    json_object_put(req);
    ck_has(r.out, p->text);
    ck_assert_str_eq(r.err, "");
}
END_TEST

/* --json, anywhere on the line: the reply's result, pretty, and nothing else. */
START_TEST(json_prints_the_result)
{
    const char *const *lines[] = {
        ARGS("--json", "show", "crypto", "ipsec", "sa"),
        ARGS("show", "--json", "status"),
        ARGS("clear", "crypto", "isakmp", "--json"),
        ARGS("reload", "--json"),
    };
    const char *results[] = {ipsec_result, status_result, clear_result, reload_result};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct run r;
        ctl_ok(&r, results[i], lines[i]);
        ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
        struct json_object *got = json_tokener_parse(r.out), *want = json_tokener_parse(results[i]);
        ck_assert_msg(got && json_object_equal(got, want), "not the result: %s", r.out);
        ck_assert_msg(strchr(r.out, '\n') < r.out + strlen(r.out) - 1, "not pretty: %s", r.out);
        ck_assert_ptr_null(strstr(r.out, "\\/")); /* paths as written */
        json_object_put(got);
        json_object_put(want);
    }
}
END_TEST

static void ctl_usage_error(const char *const *args, const char *message)
{
    struct fake f;
    struct run r;
    fake_open(&f, true);
    run_ctl(&r, &f, SERVE_REPLY, "{\"ok\": true, \"result\": {}}", args, false, false);
    fake_close(&f);
    ck_assert_msg(r.status == 2, "%s...: exit %d, stderr: %s", args[0], r.status, r.err);
    ck_assert_msg(r.request[0] == '\0', "a usage error still asked tunneld: %s", r.request);
    ck_assert_str_eq(r.out, "");
    ck_has(r.err, message);
}

START_TEST(usage_errors_exit_2)
{
    /* `i` under `show crypto` is isakmp or ipsec: ambiguous. */
    ctl_usage_error(ARGS("sh", "cry", "i", "sa"),
                    "ambiguous command 'show crypto i': isakmp, ipsec");
    /* `sh c` is not ambiguous (crypto is show's only c-word) but incomplete. */
    ctl_usage_error(ARGS("sh", "c"), "incomplete command 'show crypto'; one of:");
    ctl_usage_error(ARGS("sh", "c"), "show crypto ipsec sa [peer ADDR]");
    ctl_usage_error(ARGS("show"), "incomplete command 'show'");
    ctl_usage_error(ARGS("frobnicate"), "unknown command 'frobnicate'");
    ctl_usage_error(ARGS("show", "crypto", "nat"), "unknown command 'show crypto nat'");
    ctl_usage_error(ARGS("show", "status", "now"), "unexpected argument 'now'");
    ctl_usage_error(ARGS("show", "crypto", "ipsec", "sa", "peer"), "missing the peer's address");
    ctl_usage_error(ARGS("show", "crypto", "ipsec", "sa", "peer", "hq"),
                    "'hq' is not an IPv4 or IPv6 address");
    ctl_usage_error(ARGS("clear", "crypto", "sa", "192.0.2.2"), "unexpected argument '192.0.2.2'");
    ctl_usage_error(ARGS("log-level"), "missing the level");
    ctl_usage_error(ARGS("log-level", "verbose"), "unknown level 'verbose'");
    ctl_usage_error(ARGS("--frob", "show", "status"), "unknown option '--frob'");
    ctl_usage_error(ARGS("--timeout", "0", "show", "status"), "--timeout needs");
    /* No command at all: the usage text, on stderr. */
    ctl_usage_error(ARGS("--json"), "usage: tunnelctl");
}
END_TEST

START_TEST(help_lists_every_command)
{
    struct fake f;
    struct run r;
    fake_open(&f, false);
    run_ctl(&r, &f, SERVE_NONE, NULL, ARGS("help"), false, false);
    fake_close(&f);
    ck_assert_int_eq(r.status, 0);
    static const char *const want[] = {"show crypto isakmp sa",
                                       "show crypto ipsec sa [peer ADDR]",
                                       "show crypto map",
                                       "show tunnels",
                                       "show status",
                                       "clear crypto sa [peer ADDR]",
                                       "clear crypto isakmp [peer ADDR]",
                                       "reload",
                                       "log-level debug|info|notice|warning|err",
                                       "--json",
                                       "--socket PATH"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_has(r.out, want[i]);
}
END_TEST

START_TEST(daemon_not_running)
{
    struct fake f;
    struct run r;
    char want[160];
    fake_open(&f, false);
    run_ctl(&r, &f, SERVE_NONE, NULL, ARGS("show", "status"), false, false);
    snprintf(want, sizeof(want), "tunnelctl: tunneld is not running (no socket at %s)\n", f.sock);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, want);
    ck_assert_str_eq(r.out, "");
    /* The same through $TUNNELD_SOCKET. */
    run_ctl(&r, &f, SERVE_NONE, NULL, ARGS("show", "status"), true, false);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, want);
    fake_close(&f);
}
END_TEST

START_TEST(socket_from_the_environment)
{
    struct fake f;
    struct run r;
    char *reply = ok_reply(status_result);
    fake_open(&f, true);
    run_ctl(&r, &f, SERVE_REPLY, reply, ARGS("show", "status"), true, false);
    fake_close(&f);
    free(reply);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "site:     shop7\n");
}
END_TEST

START_TEST(permission_denied)
{
    struct fake f;
    struct run r;
    char want[160];
    bool root = geteuid() == 0;
    fake_open(&f, true);
    if (!root)
        ck_assert(chmod(f.sock, 0) == 0);
    else
        ck_assert(chmod(f.dir, 0755) == 0 && chmod(f.sock, 0600) == 0);
    run_ctl(&r, &f, SERVE_REPLY, "{\"ok\": true, \"result\": {}}", ARGS("show", "status"), false,
            root);
    snprintf(want, sizeof(want),
             "tunnelctl: permission denied: %s (root or the control group only)\n", f.sock);
    fake_close(&f);
    ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, want);
}
END_TEST

static void ctl_fails(const char *reply, enum serve how, const char *const *args, const char *err)
{
    struct fake f;
    struct run r;
    fake_open(&f, true);
    run_ctl(&r, &f, how, reply, args, false, false);
    fake_close(&f);
    ck_assert_msg(r.status == 1, "exit %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(strcmp(r.err, err) == 0, "stderr:\n%s\nwanted:\n%s", r.err, err);
}

START_TEST(refusals_exit_1)
{
    ctl_fails("{\"ok\": false, \"error\": \"no peer has address 192.0.2.9\"}", SERVE_REPLY,
              ARGS("clear", "crypto", "sa", "peer", "192.0.2.9"),
              "tunnelctl: no peer has address 192.0.2.9\n");
    ctl_fails("{\"ok\": false, \"error\": \"sites.yaml is invalid; the running configuration "
              "stays\", \"errors\": [\"sites.yaml:7:9: unknown key 'lann' (did you mean "
              "'lan'?)\", \"sites.yaml:9:10: psk: the key is too short\"]}",
              SERVE_REPLY, ARGS("--json", "reload"),
              "tunnelctl: sites.yaml is invalid; the running configuration stays\n"
              "sites.yaml:7:9: unknown key 'lann' (did you mean 'lan'?)\n"
              "sites.yaml:9:10: psk: the key is too short\n");
    ctl_fails("<html>", SERVE_REPLY, ARGS("show", "status"),
              "tunnelctl: bad reply from tunneld (not a JSON object: unexpected character)\n");
    ctl_fails("{\"ok\": true}", SERVE_REPLY, ARGS("show", "status"),
              "tunnelctl: bad reply from tunneld (no \"result\" object)\n");
    ctl_fails(NULL, SERVE_SILENT, ARGS("--timeout", "1", "show", "status"),
              "tunnelctl: no reply from tunneld within 1 s\n");
}
END_TEST

int main(void)
{
    tunnelctl_bin = getenv("TUNNELCTL") ? getenv("TUNNELCTL") : "appliance/tunnelctl";
    Suite *s = suite_create("tunnelctl");
    TCase *print = tcase_create("printers"), *bin = tcase_create("binary");
    tcase_add_test(print, match_word_prefixes);
    tcase_add_test(print, ipsec_sa_layout);
    tcase_add_test(print, ipsec_sa_nulls);
    tcase_add_test(print, isakmp_sa_table);
    tcase_add_test(print, crypto_map_screen);
    tcase_add_test(print, tunnels_table);
    tcase_add_test(print, status_screen);
    tcase_add_test(print, clear_lines);
    tcase_add_loop_test(bin, phrase_sends_its_request, 0,
                        (int)(sizeof(phrases) / sizeof(phrases[0])));
    tcase_add_test(bin, json_prints_the_result);
    tcase_add_test(bin, usage_errors_exit_2);
    tcase_add_test(bin, help_lists_every_command);
    tcase_add_test(bin, daemon_not_running);
    tcase_add_test(bin, socket_from_the_environment);
    tcase_add_test(bin, permission_denied);
    tcase_add_test(bin, refusals_exit_1);
    tcase_set_timeout(bin, 30);
    suite_add_tcase(s, print);
    suite_add_tcase(s, bin);
    return unit_run(s);
}
