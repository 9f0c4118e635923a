/*
 * show crypto isakmp sa: IOS's table (dst, src, state, conn-id, status) with
 * the IKE version and the peer's name beside it, and under each SA what
 * `show crypto ikev2 sa` would add: role, SPIs, suite, NAT-T, times.
 */
#include <string.h>

#include "tunnelctl.h"

static const char isakmp_usage[] = "show crypto isakmp sa";

static bool isakmp_is_v6(struct json_object *sa)
{
    const char *remote = ctl_str(sa, "remote"), *local = ctl_str(sa, "local");
    return (remote && strchr(remote, ':')) || (local && strchr(local, ':'));
}

static const char *isakmp_version(struct json_object *sa)
{
    int64_t v;
    if (!ctl_int(sa, "version", &v))
        return "-";
    return v == 1 ? "IKEv1" : v == 2 ? "IKEv2" : "?";
}

static int isakmp_addr_width(struct json_object *result, bool v6)
{
    size_t w = 15;
    for (size_t i = 0, n = ctl_array_len(result, "sas"); i < n; i++) {
        struct json_object *sa = ctl_array_at(result, "sas", i);
        if (isakmp_is_v6(sa) != v6)
            continue;
        const char *a[] = {ctl_str(sa, "remote"), ctl_str(sa, "local")};
        for (size_t k = 0; k < 2; k++)
            if (a[k] && strlen(a[k]) > w)
                w = strlen(a[k]);
    }
    return (int)w;
}

static void isakmp_print_sa(FILE *out, struct json_object *sa, int w)
{
    char conn[24], est[24], rem[24], lp[24], rp[24];
    fprintf(out, "%-*s %-*s %-14s %7s %-11s %-7s %s\n", w, ctl_str_or(sa, "remote", "-"), w,
            ctl_str_or(sa, "local", "-"), ctl_str_or(sa, "state", "-"),
            ctl_fmt_int(sa, "conn_id", conn, sizeof(conn)), ctl_str_or(sa, "status", "-"),
            isakmp_version(sa), ctl_str_or(sa, "peer", "-"));
    fprintf(out, "      %s, SPI i %s r %s, %s\n", ctl_str_or(sa, "role", "-"),
            ctl_str_or(sa, "spi_i", "-"), ctl_str_or(sa, "spi_r", "-"),
            ctl_str_or(sa, "suite", "-"));
    fprintf(out, "      NAT-T (Y/N): %s, Active/Remaining Time: %s/%s sec\n",
            ctl_bool(sa, "nat") ? "Y" : "N", ctl_fmt_int(sa, "established_s", est, sizeof(est)),
            ctl_fmt_int(sa, "lifetime_remaining_s", rem, sizeof(rem)));
    /* IOS's words: a NAT "inside" is in front of us, "outside" in front of the peer. */
    bool in = ctl_bool(sa, "nat_local"), outside = ctl_bool(sa, "nat_remote");
    fprintf(out, "      Local port %s, remote port %s%s\n",
            ctl_fmt_int(sa, "local_port", lp, sizeof(lp)),
            ctl_fmt_int(sa, "remote_port", rp, sizeof(rp)),
            in && outside ? ", NAT-T is detected inside and outside"
            : in          ? ", NAT-T is detected inside"
            : outside     ? ", NAT-T is detected outside"
                          : "");
}

static void isakmp_print_family(FILE *out, struct json_object *result, bool v6)
{
    int w = isakmp_addr_width(result, v6);
    fprintf(out, "%s Crypto ISAKMP SA\n", v6 ? "IPv6" : "IPv4");
    fprintf(out, "%-*s %-*s %-14s %7s %-11s %-7s %s\n", w, "dst", w, "src", "state", "conn-id",
            "status", "version", "peer");
    for (size_t i = 0, n = ctl_array_len(result, "sas"); i < n; i++) {
        struct json_object *sa = ctl_array_at(result, "sas", i);
        if (isakmp_is_v6(sa) == v6)
            isakmp_print_sa(out, sa, w);
    }
}

void print_isakmp_sa(FILE *out, struct json_object *result)
{
    isakmp_print_family(out, result, false);
    fputc('\n', out);
    isakmp_print_family(out, result, true);
}

int cmd_show_isakmp_sa(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, isakmp_usage);
    return rc ? rc : ctl_exec(ctl_request("isakmp-sa"), print_isakmp_sa);
}
