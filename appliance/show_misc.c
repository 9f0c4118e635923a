/* show crypto map, show tunnels, show status: the configured policy, the GRE links, one screen. */
#include <inttypes.h>

#include "tunnelctl.h"

static void misc_print_list(FILE *out, const char *title, struct json_object *o, const char *key)
{
    fprintf(out, "        %s={\n", title);
    for (size_t i = 0, n = ctl_array_len(o, key); i < n; i++) {
        struct json_object *e = ctl_array_at(o, key, i);
        fprintf(out, "                %s,\n",
                json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "-");
    }
    fprintf(out, "        }\n");
}

static void misc_print_map(FILE *out, struct json_object *p)
{
    char buf[24], s[24];
    const char *name = ctl_str_or(p, "peer", "-");
    int64_t v, kb;
    fprintf(out, "Crypto Map \"%s\" ipsec-isakmp\n", name);
    fprintf(out, "        Peer = %s\n", ctl_str_or(p, "address", "-"));
    fprintf(out, "        Profile: %s\n", ctl_str_or(p, "profile", "-"));
    if (ctl_int(p, "ike_version", &v))
        fprintf(out, "        IKE version: IKEv%" PRId64, v);
    else
        fprintf(out, "        IKE version: -");
    if (ctl_str(p, "ikev1_mode"))
        fprintf(out, ", %s mode", ctl_str(p, "ikev1_mode"));
    fputc('\n', out);
    misc_print_list(out, "IKE proposals", p, "ike_proposals");
    fprintf(out, "        IKE SA lifetime: %s seconds\n",
            ctl_fmt_int(p, "ike_lifetime_s", buf, sizeof(buf)));
    ctl_fmt_int(p, "esp_lifetime_s", s, sizeof(s));
    if (ctl_int(p, "esp_lifetime_kb", &kb) && kb > 0)
        fprintf(out, "        Security association lifetime: %" PRId64 " kilobytes/%s seconds\n",
                kb, s);
    else
        fprintf(out, "        Security association lifetime: %s seconds (no kilobyte limit)\n", s);
    fprintf(out, "        PFS (Y/N): %s\n", ctl_bool(p, "pfs") ? "Y" : "N");
    if (ctl_int(p, "dpd_s", &v) && v == 0)
        fprintf(out, "        DPD: off\n");
    else
        fprintf(out, "        DPD: %s seconds\n", ctl_fmt_int(p, "dpd_s", buf, sizeof(buf)));
    misc_print_list(out, "Transform sets", p, "esp_proposals");
    fprintf(out, "        Interfaces using crypto map %s:\n", name);
    fprintf(out, "                %s\n", ctl_str_or(p, "interface", "-"));
}

void print_crypto_map(FILE *out, struct json_object *result)
{
    for (size_t i = 0, n = ctl_array_len(result, "peers"); i < n; i++) {
        if (i)
            fputc('\n', out);
        misc_print_map(out, ctl_array_at(result, "peers", i));
    }
}

void print_tunnels(FILE *out, struct json_object *result)
{
    static const char *const head[] = {"Interface", "Peer",        "Local",        "Remote",
                                       "GRE key",   "Inner local", "Inner remote", "MTU",
                                       "MSS",       "ESP",         "OSPF"};
    struct ctl_table t;
    ctl_table_init(&t, sizeof(head) / sizeof(head[0]));
    int rc = ctl_table_row(&t, head);
    for (size_t i = 0, n = ctl_array_len(result, "tunnels"); rc == 0 && i < n; i++) {
        struct json_object *g = ctl_array_at(result, "tunnels", i);
        char key[24], mtu[24], mss[24];
        const char *row[] = {ctl_str(g, "interface"),
                             ctl_str(g, "peer"),
                             ctl_str(g, "local"),
                             ctl_str(g, "remote"),
                             ctl_fmt_int(g, "gre_key", key, sizeof(key)),
                             ctl_str(g, "inner_local"),
                             ctl_str(g, "inner_remote"),
                             ctl_fmt_int(g, "mtu", mtu, sizeof(mtu)),
                             ctl_fmt_int(g, "mss", mss, sizeof(mss)),
                             ctl_bool(g, "esp_up") ? "up" : "down",
                             ctl_str(g, "ospf_state")};
        rc = ctl_table_row(&t, row);
    }
    if (rc == 0)
        ctl_table_print(out, &t);
    else
        ctl_error("out of memory");
    ctl_table_free(&t);
}

void print_status(FILE *out, struct json_object *result)
{
    struct json_object *d = ctl_get(result, "daemon"), *c = ctl_get(result, "config"),
                       *s = ctl_get(result, "site"), *w = ctl_get(s, "wan"),
                       *p = ctl_get(result, "peers");
    char pid[24], up[48], unix_s[24], mtu[24], total[24], nup[24], ndown[24];
    int64_t secs;
    fprintf(out, "tunneld:  running, pid %s, up %s, log level %s\n",
            ctl_fmt_int(d, "pid", pid, sizeof(pid)),
            ctl_int(d, "uptime_s", &secs) ? ctl_fmt_duration(secs, up, sizeof(up)) : "-",
            ctl_str_or(d, "log_level", "-"));
    fprintf(out, "config:   %s, loaded %s (unix %s)\n", ctl_str_or(c, "file", "-"),
            ctl_str_or(c, "loaded_at", "-"), ctl_fmt_int(c, "loaded_unix", unix_s, sizeof(unix_s)));
    fprintf(out, "site:     %s\n", ctl_str_or(s, "name", "-"));
    fprintf(out, "wan:      %s, address %s, mtu %s\n", ctl_str_or(w, "interface", "-"),
            ctl_str_or(w, "address", "-"), ctl_fmt_int(w, "mtu", mtu, sizeof(mtu)));
    fprintf(out, "peers:    %s total, %s up, %s down\n",
            ctl_fmt_int(p, "total", total, sizeof(total)), ctl_fmt_int(p, "up", nup, sizeof(nup)),
            ctl_fmt_int(p, "down", ndown, sizeof(ndown)));
}

int cmd_show_crypto_map(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, "show crypto map");
    return rc ? rc : ctl_exec(ctl_request("crypto-map"), print_crypto_map);
}

int cmd_show_tunnels(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, "show tunnels");
    return rc ? rc : ctl_exec(ctl_request("tunnels"), print_tunnels);
}

int cmd_show_status(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, "show status");
    return rc ? rc : ctl_exec(ctl_request("status"), print_status);
}
