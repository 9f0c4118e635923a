/* Running vtysh: argv only (no shell), output captured, bounded in time. */
#include "frr_vtysh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VTYSH_MAX_ARGS 64

extern char **environ;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int build_argv(const struct frr_vtysh *v, const char *const *cmds, size_t n,
                      const char **argv)
{
    size_t i = 0;
    argv[i++] = v->path ? v->path : "/usr/bin/vtysh";
    if (v->pathspace) {
        argv[i++] = "-N";
        argv[i++] = v->pathspace;
    }
    if (i + 2 * n + 1 > VTYSH_MAX_ARGS)
        return -1;
    for (size_t k = 0; k < n; k++) {
        argv[i++] = "-c";
        argv[i++] = cmds[k];
    }
    argv[i] = NULL;
    return 0;
}

/* Reads until EOF or the deadline; keeps the first outlen-1 bytes. */
static int collect(int fd, long deadline, char *out, size_t outlen)
{
    size_t used = 0;
    char sink[512];
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        char *dst = used + 1 < outlen ? out + used : sink;
        size_t room = used + 1 < outlen ? outlen - 1 - used : sizeof(sink);
        ssize_t got = read(fd, dst, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (dst != sink)
            used += (size_t)got;
    }
    out[used] = 0;
    return 0;
}

static int spawn(const char **argv, int *pipe_rd, pid_t *pid)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return -1;
    }
    *pipe_rd = fds[0];
    return 0;
}

int vtysh_run(const struct frr_vtysh *v, const char *const *cmds, size_t n, char *out,
              size_t outlen, struct errmsg *e)
{
    const char *argv[VTYSH_MAX_ARGS];
    int fd, status = 0;
    pid_t pid;
    if (build_argv(v, cmds, n, argv) < 0)
        return errmsg_set(e, "vtysh: too many commands (%zu)", n);
    if (spawn(argv, &fd, &pid) < 0)
        return errmsg_set(e, "vtysh %s: %s", argv[0], strerror(errno));
    unsigned timeout = v->timeout_ms ? v->timeout_ms : 10000;
    int rc = collect(fd, now_ms() + (long)timeout, out, outlen);
    close(fd);
    if (rc < 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        return errmsg_set(e, "vtysh: no answer from FRR within %u ms", timeout);
    /* vtysh exits 0 even for some rejected lines; FRR marks those with "% ". */
    const char *pct = strstr(out, "% ");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pct) {
        const char *why = pct ? pct : out;
        return errmsg_set(e, "vtysh: %.*s", (int)strcspn(why, "\n"), *why ? why : "failed");
    }
    return 0;
}
