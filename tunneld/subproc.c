/* Running helper programs: the one place tunneld forks. */
#include "subproc.h"

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

extern char **environ;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
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

static int start(const char *const *argv, int *pipe_rd, pid_t *pid)
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

int subproc_run(const char *const *argv, unsigned timeout_ms, char *out, size_t outlen,
              int *status, struct errmsg *e)
{
    int fd;
    pid_t pid;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (start(argv, &fd, &pid) < 0)
        return errmsg_set(e, "%s: %s", argv[0], strerror(errno));
    int rc = collect(fd, now_ms() + (long)timeout_ms, out, outlen);
    close(fd);
    if (rc < 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        return errmsg_set(e, "%s: no answer within %u ms", name, timeout_ms);
    return 0;
}
