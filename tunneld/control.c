#include "control.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_json.h"
#include "daemon.h"

#define MAX_REQUEST 4096
#define MAX_CLIENTS 16
#define READ_DEADLINE_MS 2000
#define WRITE_DEADLINE_MS 5000

struct client {
    struct control *c;
    int fd;
    char in[MAX_REQUEST + 1];
    size_t in_len;
    char *out; /* the reply, being written */
    size_t out_len, out_off;
    struct loop_timer deadline;
    struct client *next;
};

struct control {
    struct daemon *d;
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct client *clients;
    unsigned n_clients;
};

static void client_free(struct client *cl)
{
    struct control *c = cl->c;
    for (struct client **p = &c->clients; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            break;
        }
    c->n_clients--;
    loop_timer_set(c->d->loop, &cl->deadline, 0);
    loop_del_fd(c->d->loop, cl->fd);
    close(cl->fd);
    free(cl->out);
    free(cl);
}

static void on_deadline(struct loop *l, void *arg)
{
    client_free(arg);
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg);

/* Sends what it can now; the rest when the socket is writable again. */
static void flush_reply(struct client *cl)
{
    while (cl->out_off < cl->out_len) {
        ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            break;
        cl->out_off += (size_t)n;
    }
    /* Closing with unread input would reset the connection and lose the reply. */
    char sink[4096];
    for (int i = 0; i < 16 && recv(cl->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
        ;
    shutdown(cl->fd, SHUT_WR);
    client_free(cl);
}

/* Queues the reply and switches the client to writing. Consumes r. */
static void reply(struct client *cl, struct json_object *r)
{
    struct daemon *d = cl->c->d;
    const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(s);
    cl->out = malloc(n + 1);
    if (cl->out) {
        memcpy(cl->out, s, n);
        cl->out[n] = '\n';
        cl->out_len = n + 1;
    }
    json_object_put(r);
    struct errmsg e;
    loop_del_fd(d->loop, cl->fd);
    if (!cl->out || loop_add_fd(d->loop, cl->fd, EPOLLOUT, on_client, cl, &e) < 0) {
        client_free(cl);
        return;
    }
    loop_timer_set(d->loop, &cl->deadline, loop_now_ms() + WRITE_DEADLINE_MS);
    flush_reply(cl);
}

static void answer(struct client *cl)
{
    cl->in[cl->in_len] = 0;
    struct json_object *req = json_tokener_parse(cl->in);
    if (!req || !json_object_is_type(req, json_type_object))
        reply(cl, j_error("request is not a JSON object"));
    else
        reply(cl, control_dispatch(cl->c->d, req));
    json_object_put(req);
}

static void read_request(struct client *cl)
{
    for (;;) {
        size_t room = MAX_REQUEST - cl->in_len;
        ssize_t n = room ? recv(cl->fd, cl->in + cl->in_len, room, MSG_DONTWAIT) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            client_free(cl);
            return;
        }
        if (n == 0 && !room) {
            reply(cl, j_error("request longer than %d bytes", MAX_REQUEST));
            return;
        }
        char *nl = memchr(cl->in + cl->in_len, '\n', (size_t)n);
        cl->in_len += (size_t)n;
        if (nl || n == 0) {
            if (nl)
                cl->in_len = (size_t)(nl - cl->in);
            answer(cl);
            return;
        }
    }
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct client *cl = arg;
    if (cl->out)
        flush_reply(cl);
    else
        read_request(cl);
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct control *c = arg;
    int cfd;
    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        struct client *cl = c->n_clients < MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
        struct errmsg e;
        if (!cl || loop_add_fd(l, cfd, EPOLLIN, on_client, cl, &e) < 0) {
            free(cl);
            close(cfd);
            continue;
        }
        cl->c = c;
        cl->fd = cfd;
        cl->deadline = (struct loop_timer){.fn = on_deadline, .arg = cl};
        cl->next = c->clients;
        c->clients = cl;
        c->n_clients++;
        loop_timer_set(l, &cl->deadline, loop_now_ms() + READ_DEADLINE_MS);
    }
}

static int bind_socket(struct control *c, const char *path, const char *group, struct errmsg *e)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path))
        return errmsg_set(e, "control socket %s: path too long", path);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    snprintf(c->path, sizeof(c->path), "%s", path);
    gid_t gid = 0;
    if (group) {
        struct group *g = getgrnam(group);
        if (!g)
            return errmsg_set(e, "control socket: no group '%s'", group);
        gid = g->gr_gid;
    }
    /* A socket left by a crashed run: nobody listens on it any more. */
    unlink(path);
    /* Created with no access at all, then opened up: never world-reachable, not for an instant. */
    mode_t old = umask(0777);
    int rc = bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0)
        return errmsg_set(e, "control socket %s: %s", path, strerror(errno));
    if ((group && chown(path, 0, gid) < 0) || chmod(path, group ? 0660 : 0600) < 0)
        return errmsg_set(e, "control socket %s: %s", path, strerror(errno));
    if (listen(c->fd, 16) < 0)
        return errmsg_set(e, "control socket %s: listen: %s", path, strerror(errno));
    return 0;
}

int control_open(struct daemon *d, const char *path, const char *group, struct control **out,
                 struct errmsg *e)
{
    struct control *c = calloc(1, sizeof(*c));
    if (!c)
        return errmsg_set(e, "control socket: out of memory");
    c->d = d;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    char dir[sizeof(c->path)];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        mkdir(dir, 0755); /* /run/tunneld; an existing one is fine */
    }
    if (c->fd < 0 || bind_socket(c, path, group, e) < 0 ||
        loop_add_fd(d->loop, c->fd, EPOLLIN, on_accept, c, e) < 0) {
        if (c->fd < 0)
            errmsg_set(e, "control socket: %s", strerror(errno));
        control_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void control_close(struct control *c)
{
    if (!c)
        return;
    while (c->clients)
        client_free(c->clients);
    if (c->fd >= 0) {
        loop_del_fd(c->d->loop, c->fd);
        close(c->fd);
        if (c->path[0])
            unlink(c->path);
    }
    free(c);
}
