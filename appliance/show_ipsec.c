/*
 * show crypto ipsec sa [peer ADDR]: per peer, IOS's layout, from the
 * kernel's counters (docs/cli.md "ipsec-sa"). IOS's crypto map tag is the
 * peer's name: each peer is its own policy here.
 */
#include "tunnelctl.h"

static const char ipsec_usage[] = "show crypto ipsec sa [peer ADDR]";

static void ipsec_print_ident(FILE *out, const char *label, struct json_object *ident)
{
    char proto[24], port[24];
    if (!ident || !json_object_is_type(ident, json_type_object)) {
        fprintf(out, "   %s (addr/mask/prot/port): (none)\n", label);
        return;
    }
    fprintf(out, "   %s (addr/mask/prot/port): (%s/%s/%s/%s)\n", label,
            ctl_str_or(ident, "address", "-"), ctl_str_or(ident, "mask", "-"),
            ctl_fmt_int(ident, "protocol", proto, sizeof(proto)),
            ctl_fmt_int(ident, "port", port, sizeof(port)));
}

static void ipsec_print_esp(FILE *out, struct json_object *sa)
{
    char spi[64], kb[24], s[24], win[24], pkts[24], bytes[24], lp[24], rp[24];
    fprintf(out, "      spi: %s\n", ctl_fmt_spi(ctl_get(sa, "spi"), spi, sizeof(spi)));
    fprintf(out, "        transform: %s ,\n", ctl_str_or(sa, "transform", "-"));
    fprintf(out, "        in use settings ={%s%s, }\n", ctl_str_or(sa, "mode", "-"),
            ctl_bool(sa, "udp_encap") ? " UDP-Encaps" : "");
    /* IOS shows only the peer's port; behind a NAT both ends of the UDP are worth a line. */
    if (ctl_bool(sa, "udp_encap"))
        fprintf(out, "        udp encaps: local port %s, remote port %s\n",
                ctl_fmt_int(sa, "encap_local_port", lp, sizeof(lp)),
                ctl_fmt_int(sa, "encap_remote_port", rp, sizeof(rp)));
    ctl_fmt_int(sa, "remaining_s", s, sizeof(s));
    if (ctl_int_or(sa, "remaining_kb", -1) < 0)
        fprintf(out, "        sa timing: remaining key lifetime (sec): (%s)\n", s);
    else
        fprintf(out, "        sa timing: remaining key lifetime (k/sec): (%s/%s)\n",
                ctl_fmt_int(sa, "remaining_kb", kb, sizeof(kb)), s);
    fprintf(out, "        replay detection support: %s, replay window size: %s\n",
            ctl_bool(sa, "replay_detection") ? "Y" : "N",
            ctl_fmt_int(sa, "replay_window", win, sizeof(win)));
    fprintf(out, "        #pkts: %s, #bytes: %s\n", ctl_fmt_int(sa, "packets", pkts, sizeof(pkts)),
            ctl_fmt_int(sa, "bytes", bytes, sizeof(bytes)));
    fprintf(out, "        Status: %s\n\n", ctl_str_or(sa, "status", "-"));
}

static void ipsec_print_esp_list(FILE *out, struct json_object *peer, const char *key)
{
    fprintf(out, "     %s esp sas:\n", key);
    size_t n = ctl_array_len(peer, key);
    for (size_t i = 0; i < n; i++)
        ipsec_print_esp(out, ctl_array_at(peer, key, i));
    if (n == 0)
        fputc('\n', out);
}

static void ipsec_print_counters(FILE *out, struct json_object *p)
{
    char a[24], b[24], c[24];
    fprintf(out, "    #pkts encaps: %s, #pkts encrypt: %s, #pkts digest: %s\n",
            ctl_fmt_int(p, "pkts_encaps", a, sizeof(a)),
            ctl_fmt_int(p, "pkts_encrypt", b, sizeof(b)),
            ctl_fmt_int(p, "pkts_digest", c, sizeof(c)));
    fprintf(out, "    #pkts decaps: %s, #pkts decrypt: %s, #pkts verify: %s\n",
            ctl_fmt_int(p, "pkts_decaps", a, sizeof(a)),
            ctl_fmt_int(p, "pkts_decrypt", b, sizeof(b)),
            ctl_fmt_int(p, "pkts_verify", c, sizeof(c)));
    fprintf(out, "    #bytes encaps: %s, #bytes decaps: %s\n",
            ctl_fmt_int(p, "bytes_out", a, sizeof(a)), ctl_fmt_int(p, "bytes_in", b, sizeof(b)));
    fprintf(out, "    #pkts replay failed: %s, #pkts verify failed: %s, #pkts decrypt failed: %s\n",
            ctl_fmt_int(p, "replay_errors", a, sizeof(a)),
            ctl_fmt_int(p, "integrity_failures", b, sizeof(b)),
            ctl_fmt_int(p, "decrypt_errors", c, sizeof(c)));
}

static void ipsec_print_peer(FILE *out, struct json_object *p)
{
    char port[24], ptmu[24], pmtu[24], imtu[24], spi[64];
    const char *local = ctl_str_or(p, "local_endpoint", "-");
    fprintf(out, "interface: %s\n", ctl_str_or(p, "interface", "-"));
    fprintf(out, "    Crypto map tag: %s, local addr %s\n\n", ctl_str_or(p, "peer", "-"), local);
    fprintf(out, "   protected vrf: (none)\n");
    ipsec_print_ident(out, "local  ident", ctl_get(p, "local_ident"));
    ipsec_print_ident(out, "remote ident", ctl_get(p, "remote_ident"));
    fprintf(out, "   current_peer %s port %s\n", ctl_str_or(p, "current_peer", "-"),
            ctl_fmt_int(p, "port", port, sizeof(port)));
    ipsec_print_counters(out, p);
    fprintf(out, "\n     local crypto endpt.: %s, remote crypto endpt.: %s\n", local,
            ctl_str_or(p, "remote_endpoint", "-"));
    /* The GRE interface's MTU is what plaintext may fill: ESP's overhead is already off it. */
    ctl_fmt_int(p, "ip_mtu", imtu, sizeof(imtu));
    fprintf(out, "     plaintext mtu %s, path mtu %s, ip mtu %s\n",
            ctl_get(p, "plaintext_mtu") ? ctl_fmt_int(p, "plaintext_mtu", ptmu, sizeof(ptmu))
                                        : imtu,
            ctl_fmt_int(p, "path_mtu", pmtu, sizeof(pmtu)), imtu);
    fprintf(out, "     current outbound spi: %s\n",
            ctl_fmt_spi(ctl_get(p, "current_outbound_spi"), spi, sizeof(spi)));
    fprintf(out, "     PFS (Y/N): %s, DH group: %s\n\n", ctl_bool(p, "pfs") ? "Y" : "N",
            ctl_str_or(p, "dh_group", "none"));
    ipsec_print_esp_list(out, p, "inbound");
    ipsec_print_esp_list(out, p, "outbound");
}

void print_ipsec_sa(FILE *out, struct json_object *result)
{
    for (size_t i = 0, n = ctl_array_len(result, "peers"); i < n; i++) {
        fputc('\n', out);
        ipsec_print_peer(out, ctl_array_at(result, "peers", i));
    }
}

int cmd_show_ipsec_sa(int argc, char *argv[])
{
    const char *peer;
    int rc = ctl_parse_peer(argc, argv, ipsec_usage, &peer);
    if (rc)
        return rc;
    struct json_object *req = ctl_request("ipsec-sa");
    if (req && peer)
        json_object_object_add(req, "peer", json_object_new_string(peer));
    return ctl_exec(req, print_ipsec_sa);
}
