/*
 * tunneld's control socket (control*.c), against the real daemon in a
 * private network namespace: the host has no GRE, so the peer's tunnel
 * fails to come up, but the daemon runs, and every command, malformed
 * request and slow client can be checked end to end.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

extern char **environ;

static const char *tunneld_bin;
static char dir[32], sock[96], site[96], log_path[96];
static pid_t daemon_pid;

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static const char good_site[] = "site: {name: hq, wan: 192.0.2.1, lan: 10.1.0.0/24}\n"
                                "peers:\n"
                                "  b1: {address: 192.0.2.2, psk: \"control-test-psk-0123456789\"}\n";

static int connect_sock(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends raw bytes, reads the reply to EOF (5 s at most). */
static struct json_object *request_raw(const char *req, size_t len)
{
    int fd = connect_sock();
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    static char buf[1 << 16];
    size_t used = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ck_assert_int_eq(poll(&p, 1, 5000), 1);
        ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = 0;
    struct json_object *o = json_tokener_parse(buf);
    ck_assert_msg(o != NULL, "reply is not JSON: %s", buf);
    return o;
}

static struct json_object *request(const char *req)
{
    return request_raw(req, strlen(req));
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        struct json_object *next = NULL;
        if (json_object_is_type(o, json_type_array))
            next = json_object_array_get_idx(o, (size_t)atoi(key));
        else
            json_object_object_get_ex(o, key, &next);
        o = next;
        path += n + (path[n] == '.');
    }
    return o;
}

static const char *str(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);
    return v ? json_object_get_string(v) : "(absent)";
}

static void start_daemon(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        ck_abort_msg("unshare(CLONE_NEWNET) needs root");
    ck_assert_int_eq(system("ip link set lo up && ip addr add 192.0.2.1/24 dev lo"), 0);
    snprintf(dir, sizeof(dir), "/tmp/tunneld-ctl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/control", dir);
    snprintf(site, sizeof(site), "%s/sites.yaml", dir);
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    write_file(site, good_site, 0600);
    const char *argv[] = {tunneld_bin, "-c", site, "--control", sock, "--passive",
                          "--frr-pathspace", "none", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_eq(posix_spawn(&daemon_pid, tunneld_bin, &fa, NULL, (char **)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        int fd = connect_sock();
        if (fd >= 0) {
            close(fd);
            return;
        }
        usleep(50000);
    }
    ck_abort_msg("no control socket at %s", sock);
}

static void stop_daemon(void)
{
    int status;
    kill(daemon_pid, SIGTERM);
    ck_assert_int_eq(waitpid(daemon_pid, &status, 0), daemon_pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tunneld exit %d", status);
    struct stat st;
    ck_assert_msg(stat(sock, &st) < 0, "socket left behind");
}

START_TEST(shows)
{
    start_daemon();
    struct stat st;
    ck_assert_int_eq(stat(sock, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600); /* root only */
    /* PSKs live in that process: no core file. */
    char path[64], limits[4096] = "";
    snprintf(path, sizeof(path), "/proc/%d/limits", (int)daemon_pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    limits[fread(limits, 1, sizeof(limits) - 1, f)] = 0;
    fclose(f);
    ck_assert_msg(strstr(limits, "Max core file size        0                    0"), "%s", limits);
    struct json_object *r = request("{\"cmd\": \"status\"}\n");
    ck_assert_str_eq(str(r, "ok"), "true");
    ck_assert_str_eq(str(r, "result.site.name"), "hq");
    ck_assert_str_eq(str(r, "result.site.wan.address"), "192.0.2.1");
    ck_assert_str_eq(str(r, "result.config.file"), site);
    ck_assert_str_eq(str(r, "result.peers.total"), "1");
    ck_assert_str_eq(str(r, "result.peers.up"), "0");
    json_object_put(r);
    r = request("{\"cmd\": \"crypto-map\"}\n");
    ck_assert_str_eq(str(r, "result.peers.0.peer"), "b1");
    ck_assert_str_eq(str(r, "result.peers.0.address"), "192.0.2.2");
    ck_assert_str_eq(str(r, "result.peers.0.ike_version"), "2");
    ck_assert_str_eq(str(r, "result.peers.0.pfs"), "true");
    ck_assert_str_eq(str(r, "result.peers.0.interface"), "gre-b1");
    /* The profile's proposals, never the PSK. */
    ck_assert_ptr_null(strstr(json_object_to_json_string(r), "control-test-psk"));
    json_object_put(r);
    r = request("{\"cmd\": \"ipsec-sa\", \"peer\": \"192.0.2.2\"}\n");
    ck_assert_str_eq(str(r, "result.peers.0.current_peer"), "192.0.2.2");
    ck_assert_str_eq(str(r, "result.peers.0.local_ident.protocol"), "47");
    ck_assert_str_eq(str(r, "result.peers.0.pkts_encaps"), "0");
    ck_assert_int_eq(json_object_array_length(get(r, "result.peers.0.inbound")), 0);
    json_object_put(r);
    r = request("{\"cmd\": \"isakmp-sa\"}\n");
    ck_assert_int_eq(json_object_array_length(get(r, "result.sas")), 0); /* passive: none */
    json_object_put(r);
    /* Nothing to clear is said, per peer, not hidden. */
    r = request("{\"cmd\": \"clear-sa\", \"peer\": \"192.0.2.2\"}\n");
    ck_assert_str_eq(str(r, "ok"), "true");
    ck_assert_int_eq(json_object_array_length(get(r, "result.cleared")), 0);
    ck_assert_str_eq(str(r, "result.skipped.0.peer"), "b1");
    ck_assert_str_eq(str(r, "result.skipped.0.reason"), "no IKE SA established");
    json_object_put(r);
    stop_daemon();
}
END_TEST

START_TEST(bad_requests_get_errors)
{
    start_daemon();
    static const struct {
        const char *req, *error;
    } cases[] = {
        {"not json\n", "request is not a JSON object"},
        {"[1, 2]\n", "request is not a JSON object"},
        {"{\"what\": 1}\n", "request without a \"cmd\" string"},
        {"{\"cmd\": \"reboot\"}\n", "unknown command 'reboot'"},
        {"{\"cmd\": \"ipsec-sa\", \"peer\": \"hq\"}\n", "peer: expected an IP address"},
        {"{\"cmd\": \"clear-sa\", \"peer\": \"192.0.2.9\"}\n", "no peer with address 192.0.2.9"},
        {"{\"cmd\": \"log-level\", \"level\": \"loud\"}\n", "level: expected one of"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *r = request(cases[i].req);
        ck_assert_str_eq(str(r, "ok"), "false");
        ck_assert_msg(strstr(str(r, "error"), cases[i].error), "%s: %s", cases[i].req,
                      str(r, "error"));
        json_object_put(r);
    }
    static char big[6000];
    memset(big, ' ', sizeof(big));
    struct json_object *r = request_raw(big, sizeof(big));
    ck_assert_str_eq(str(r, "error"), "request longer than 4096 bytes");
    json_object_put(r);
    r = request("{\"cmd\": \"log-level\", \"level\": \"debug\"}\n");
    ck_assert_str_eq(str(r, "result.level"), "debug");
    json_object_put(r);
    stop_daemon();
}
END_TEST

START_TEST(slow_client_does_not_block_others)
{
    start_daemon();
    int idle = connect_sock(); /* says nothing */
    ck_assert_int_ge(idle, 0);
    struct json_object *r = request("{\"cmd\": \"status\"}\n");
    ck_assert_str_eq(str(r, "ok"), "true");
    json_object_put(r);
    /* ... and is cut after its 2 s. */
    struct pollfd p = {.fd = idle, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    char c;
    ck_assert_int_eq(read(idle, &c, 1), 0);
    close(idle);
    stop_daemon();
}
END_TEST

START_TEST(reload_reports_errors_and_keeps_running_config)
{
    start_daemon();
    write_file(site, "site: {name: hq, wan: 192.0.2.1, lann: 10.1.0.0/24}\npeers: {}\n", 0600);
    struct json_object *r = request("{\"cmd\": \"reload\"}\n");
    ck_assert_str_eq(str(r, "ok"), "false");
    ck_assert_msg(strstr(json_object_to_json_string(get(r, "errors")),
                         "sites.yaml:1:34: unknown key 'lann' (did you mean 'lan'?)"),
                  "%s", json_object_to_json_string(r));
    json_object_put(r);
    r = request("{\"cmd\": \"status\"}\n");
    ck_assert_str_eq(str(r, "result.peers.total"), "1"); /* still the old one */
    json_object_put(r);
    write_file(site, good_site, 0600);
    r = request("{\"cmd\": \"reload\"}\n");
    ck_assert_str_eq(str(r, "ok"), "true");
    ck_assert_str_eq(str(r, "result.kept"), "1");
    ck_assert_str_eq(str(r, "result.started"), "0");
    json_object_put(r);
    stop_daemon();
}
END_TEST

int main(void)
{
    tunneld_bin = getenv("TUNNELD") ? getenv("TUNNELD") : "tunneld/tunneld";
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("daemon");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shows);
    tcase_add_test(tc, bad_requests_get_errors);
    tcase_add_test(tc, slow_client_does_not_block_others);
    tcase_add_test(tc, reload_reports_errors_and_keeps_running_config);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
