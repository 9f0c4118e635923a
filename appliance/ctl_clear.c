/* The commands that change something: clear crypto sa / isakmp, reload, log-level. */
#include <inttypes.h>

#include "tunnelctl.h"

static const char clear_sa_usage[] = "clear crypto sa [peer ADDR]";
static const char clear_isakmp_usage[] = "clear crypto isakmp [peer ADDR]";
static const char log_level_usage[] = "log-level debug|info|notice|warning|err";

static void clear_print_spis(FILE *out, struct json_object *c)
{
    size_t n = ctl_array_len(c, "spis_in");
    if (n == 0) {
        fputs("none", out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *spi = ctl_array_at(c, "spis_in", i);
        char buf[32];
        fprintf(out, "%s%s", i ? " " : "",
                json_object_is_type(spi, json_type_string)
                    ? ctl_fmt_spi_hex(json_object_get_string(spi), buf, sizeof(buf))
                    : "-");
    }
}

/* One line per peer: what went, by its inbound SPIs. */
static void clear_print(FILE *out, struct json_object *result, const char *what)
{
    size_t n = ctl_array_len(result, "cleared"), ns = ctl_array_len(result, "skipped");
    if (n == 0 && ns == 0)
        fprintf(out, "nothing to clear: no peer has SAs\n");
    for (size_t i = 0; i < ns; i++) {
        struct json_object *c = ctl_array_at(result, "skipped", i);
        fprintf(out, "%s (%s): not cleared: %s\n", ctl_str_or(c, "peer", "-"),
                ctl_str_or(c, "address", "-"), ctl_str_or(c, "reason", "-"));
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = ctl_array_at(result, "cleared", i);
        fprintf(out, "%s (%s): %s, inbound SPIs ", ctl_str_or(c, "peer", "-"),
                ctl_str_or(c, "address", "-"), what);
        clear_print_spis(out, c);
        fputc('\n', out);
    }
}

void print_clear_sa(FILE *out, struct json_object *result)
{
    clear_print(out, result, "ESP SAs cleared, rekeying (IKE SA kept)");
}

void print_clear_isakmp(FILE *out, struct json_object *result)
{
    clear_print(out, result, "IKE SA and its ESP SAs cleared");
}

void print_reload(FILE *out, struct json_object *result)
{
    char kept[24], stopped[24], started[24];
    fprintf(out, "reloaded: %s peers kept, %s stopped, %s started\n",
            ctl_fmt_int(result, "kept", kept, sizeof(kept)),
            ctl_fmt_int(result, "stopped", stopped, sizeof(stopped)),
            ctl_fmt_int(result, "started", started, sizeof(started)));
}

void print_log_level(FILE *out, struct json_object *result)
{
    fprintf(out, "log level: %s\n", ctl_str_or(result, "level", "-"));
}

static int clear_cmd(int argc, char *argv[], const char *usage, const char *cmd, ctl_printer *print)
{
    const char *peer;
    int rc = ctl_parse_peer(argc, argv, usage, &peer);
    if (rc)
        return rc;
    struct json_object *req = ctl_request(cmd);
    if (req && peer)
        json_object_object_add(req, "peer", json_object_new_string(peer));
    return ctl_exec(req, print);
}

int cmd_clear_crypto_sa(int argc, char *argv[])
{
    return clear_cmd(argc, argv, clear_sa_usage, "clear-sa", print_clear_sa);
}

int cmd_clear_crypto_isakmp(int argc, char *argv[])
{
    return clear_cmd(argc, argv, clear_isakmp_usage, "clear-isakmp", print_clear_isakmp);
}

int cmd_reload(int argc, char *argv[])
{
    int rc = ctl_no_args(argc, argv, "reload");
    return rc ? rc : ctl_exec(ctl_request("reload"), print_reload);
}

int cmd_log_level(int argc, char *argv[])
{
    static const char *const levels[] = {"debug", "info", "notice", "warning", "err", NULL};
    if (argc < 2)
        return ctl_usage(log_level_usage, "log-level: missing the level");
    if (argc > 2)
        return ctl_usage(log_level_usage, "unexpected argument '%s'", argv[2]);
    int i = ctl_match_word(argv[1], levels);
    if (i < 0)
        return ctl_usage(log_level_usage, "log-level: %s level '%s'",
                         i == -2 ? "ambiguous" : "unknown", argv[1]);
    struct json_object *req = ctl_request("log-level");
    if (req)
        json_object_object_add(req, "level", json_object_new_string(levels[i]));
    return ctl_exec(req, print_log_level);
}
