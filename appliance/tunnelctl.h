/*
 * tunnelctl: the operator's view of a running tunneld (docs/cli.md).
 *
 * The shape of wireguard-tools' wg: tunnelctl.c matches the command words
 * and calls one `int cmd(int argc, char *argv[])` per command (argv[0] is
 * the command's last word); each command builds a request, and ctl_exec()
 * sends it and hands the reply's `result` to a text printer or prints it as
 * JSON. Printers take a json_object and a FILE*, nothing else, so a test
 * can feed them docs/cli.md's examples.
 */
#ifndef APPLIANCE_TUNNELCTL_H
#define APPLIANCE_TUNNELCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#define CTL_DEFAULT_SOCKET    "/run/tunneld/control"
#define CTL_DEFAULT_TIMEOUT_S 10

enum { CTL_OK = 0, CTL_ERROR = 1, CTL_USAGE = 2 };

/* Set once by main() from the command line before any command runs. */
struct ctl_options {
    const char *socket_path;
    bool json;
    int timeout_s;
};
extern struct ctl_options ctl_options;

typedef int ctl_cmd_fn(int argc, char *argv[]);
typedef void ctl_printer(FILE *out, struct json_object *result);

/* ctl_args.c: words and arguments */
/* The index of the word arg is an unambiguous, case-insensitive prefix of (an exact match wins);
 * -1 when none matches, -2 when several do. words ends with NULL. */
int ctl_match_word(const char *arg, const char *const words[]);
/* "[peer ADDR]" after the command word: *peer is NULL when absent. CTL_OK or CTL_USAGE. */
int ctl_parse_peer(int argc, char *argv[], const char *usage, const char **peer);
int ctl_no_args(int argc, char *argv[], const char *usage);
int ctl_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ctl_ipc.c: one request, one reply. 0, or -1 with a sentence in err. */
int ctl_call(const char *socket_path, int timeout_s, struct json_object *request,
             struct json_object **reply, char *err, size_t err_len);

/* ctl_reply.c: sends {"cmd": cmd, ...} (request is consumed), prints the result with print
 * (or as JSON with --json), an ok:false reply's error and "errors" on stderr. An exit code. */
int ctl_exec(struct json_object *request, ctl_printer *print);
struct json_object *ctl_request(const char *cmd);
void ctl_print_json(FILE *out, struct json_object *result);

/* ctl_json.c: reading fields; a null or absent field reads as NULL / false. */
struct json_object *ctl_get(struct json_object *o, const char *key);
const char *ctl_str(struct json_object *o, const char *key);
const char *ctl_str_or(struct json_object *o, const char *key, const char *fallback);
bool ctl_int(struct json_object *o, const char *key, int64_t *v);
int64_t ctl_int_or(struct json_object *o, const char *key, int64_t fallback);
bool ctl_bool(struct json_object *o, const char *key);
size_t ctl_array_len(struct json_object *o, const char *key);
struct json_object *ctl_array_at(struct json_object *o, const char *key, size_t i);

/* ctl_fmt.c: text helpers */
/* "123" or "-" for a null number. buf must hold 24 bytes. */
const char *ctl_fmt_int(struct json_object *o, const char *key, char *buf, size_t len);
/* IOS's "0xCE08225E(3456639582)" from {"hex": ..., "decimal": ...}. */
const char *ctl_fmt_spi(struct json_object *spi, char *buf, size_t len);
/* "0xce08225e" as IOS writes it: "0xCE08225E". */
const char *ctl_fmt_spi_hex(const char *hex, char *buf, size_t len);
/* "1d 2h 3m 4s" */
const char *ctl_fmt_duration(int64_t s, char *buf, size_t len);

/* A table whose columns are as wide as their widest cell. */
#define CTL_TABLE_MAX_COLS 12
struct ctl_table {
    size_t cols, rows, cap;
    char **cells; /* rows * cols, owned */
};
void ctl_table_init(struct ctl_table *t, size_t cols);
/* cols cells, each a string (copied; NULL prints as "-"). */
int ctl_table_row(struct ctl_table *t, const char *const cells[]);
void ctl_table_print(FILE *out, const struct ctl_table *t);
void ctl_table_free(struct ctl_table *t);

/* Commands (tunnelctl.c's table) and their printers. */
int cmd_show_isakmp_sa(int argc, char *argv[]);
int cmd_show_ipsec_sa(int argc, char *argv[]);
int cmd_show_crypto_map(int argc, char *argv[]);
int cmd_show_tunnels(int argc, char *argv[]);
int cmd_show_status(int argc, char *argv[]);
int cmd_clear_crypto_sa(int argc, char *argv[]);
int cmd_clear_crypto_isakmp(int argc, char *argv[]);
int cmd_reload(int argc, char *argv[]);
int cmd_log_level(int argc, char *argv[]);

void print_isakmp_sa(FILE *out, struct json_object *result);
void print_ipsec_sa(FILE *out, struct json_object *result);
void print_crypto_map(FILE *out, struct json_object *result);
void print_tunnels(FILE *out, struct json_object *result);
void print_status(FILE *out, struct json_object *result);
void print_clear_sa(FILE *out, struct json_object *result);
void print_clear_isakmp(FILE *out, struct json_object *result);
void print_reload(FILE *out, struct json_object *result);
void print_log_level(FILE *out, struct json_object *result);

#endif
