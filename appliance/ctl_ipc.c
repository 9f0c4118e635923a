/*
 * The control socket, client side (docs/cli.md "The socket"): connect, send
 * one JSON line, read the reply to EOF within a deadline, parse it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tunnelctl.h"

/* tunneld's replies are small; this only bounds a runaway peer. */
#define MAX_REPLY (16u << 20)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 0)
            return n < 0 ? -1 : 1;
    }
}

static int connect_socket(const char *path, char *err, size_t err_len)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, err_len, "socket path too long: %s", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
        return fd;
    int e = errno;
    close(fd);
    if (e == ENOENT || e == ENOTDIR)
        snprintf(err, err_len, "tunneld is not running (no socket at %s)", path);
    else if (e == ECONNREFUSED)
        snprintf(err, err_len, "tunneld is not running (nothing listening at %s)", path);
    else if (e == EACCES || e == EPERM)
        snprintf(err, err_len, "permission denied: %s (root or the control group only)", path);
    else
        snprintf(err, err_len, "cannot connect to %s: %s", path, strerror(e));
    return -1;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline, char *err,
                    size_t err_len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) == 1)
                continue;
            snprintf(err, err_len, "tunneld did not take the request in time");
            return -1;
        }
        if (n < 0) {
            snprintf(err, err_len, "sending to tunneld: %s", strerror(errno));
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

/* The whole reply, NUL-terminated, in *out (caller frees). */
static int read_all(int fd, int64_t deadline, int timeout_s, char **out, char *err, size_t err_len)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *bigger = cap < MAX_REPLY ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                snprintf(err, err_len, "reply from tunneld too long");
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        int ready = wait_fd(fd, POLLIN, deadline);
        if (ready < 0) {
            snprintf(err, err_len, "reading from tunneld: %s", strerror(errno));
            break;
        }
        if (ready == 0) {
            snprintf(err, err_len, "no reply from tunneld within %d s", timeout_s);
            break;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0) {
            snprintf(err, err_len, "reading from tunneld: %s", strerror(errno));
            break;
        }
        if (n == 0) {
            buf[len] = '\0';
            *out = buf;
            return 0;
        }
        len += (size_t)n;
    }
    if (!buf)
        snprintf(err, err_len, "out of memory");
    free(buf);
    return -1;
}

static struct json_object *parse_reply(const char *text, char *err, size_t err_len)
{
    enum json_tokener_error jerr = json_tokener_success;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = NULL;
    size_t len = strlen(text);
    if (!tok) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    o = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    /* One object, then at most white space (tunneld ends its line with \n). */
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (o && jerr == json_tokener_success && strspn(text + used, " \t\r\n") == len - used &&
        json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    if (len == 0)
        snprintf(err, err_len, "tunneld closed the connection without a reply");
    else
        snprintf(err, err_len, "bad reply from tunneld (not a JSON object: %s)",
                 jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "trailing data");
    return NULL;
}

int ctl_call(const char *socket_path, int timeout_s, struct json_object *request,
             struct json_object **reply, char *err, size_t err_len)
{
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    const char *line = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
    char *text = NULL;
    *reply = NULL;
    int fd = connect_socket(socket_path, err, err_len);
    if (fd < 0)
        return -1;
    int rc = -1;
    if (send_all(fd, line, strlen(line), deadline, err, err_len) == 0 &&
        send_all(fd, "\n", 1, deadline, err, err_len) == 0 &&
        read_all(fd, deadline, timeout_s, &text, err, err_len) == 0) {
        *reply = parse_reply(text, err, err_len);
        rc = *reply ? 0 : -1;
    }
    free(text);
    close(fd);
    return rc;
}
