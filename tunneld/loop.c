#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_FDS 64

struct fd_slot {
    int fd;
    loop_fd_fn fn;
    void *arg;
};

struct loop {
    int epfd, timerfd, sigfd;
    struct fd_slot fds[LOOP_MAX_FDS];
    struct loop_timer *timers;
    loop_signal_fn sig_fn;
    void *sig_arg;
    bool stopped;
    int code;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int watch(struct loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_new(struct loop **out, struct errmsg *e)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l)
        return errmsg_set(e, "loop: out of memory");
    l->sigfd = -1;
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++)
        l->fds[i].fd = -1;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (l->epfd < 0 || l->timerfd < 0 || watch(l, l->timerfd, EPOLLIN) < 0) {
        int err = errno;
        loop_free(l);
        return errmsg_set(e, "loop: %s", strerror(err));
    }
    *out = l;
    return 0;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->timerfd >= 0)
        close(l->timerfd);
    if (l->sigfd >= 0)
        close(l->sigfd);
    free(l);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg,
                struct errmsg *e)
{
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++) {
        if (l->fds[i].fd >= 0)
            continue;
        if (watch(l, fd, events) < 0)
            return errmsg_set(e, "loop: watch fd %d: %s", fd, strerror(errno));
        l->fds[i] = (struct fd_slot){fd, fn, arg};
        return 0;
    }
    return errmsg_set(e, "loop: more than %d descriptors", LOOP_MAX_FDS);
}

void loop_del_fd(struct loop *l, int fd)
{
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++)
        if (l->fds[i].fd == fd) {
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
            l->fds[i].fd = -1;
        }
}

int loop_signals(struct loop *l, const int *signals, unsigned n, loop_signal_fn fn, void *arg,
                 struct errmsg *e)
{
    sigset_t set;
    sigemptyset(&set);
    for (unsigned i = 0; i < n; i++)
        sigaddset(&set, signals[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return errmsg_set(e, "loop: sigprocmask: %s", strerror(errno));
    l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (l->sigfd < 0 || watch(l, l->sigfd, EPOLLIN) < 0)
        return errmsg_set(e, "loop: signalfd: %s", strerror(errno));
    l->sig_fn = fn;
    l->sig_arg = arg;
    return 0;
}

static void timers_unlink(struct loop *l, struct loop_timer *t)
{
    for (struct loop_timer **p = &l->timers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            t->next = NULL;
            return;
        }
}

static void timerfd_rearm(struct loop *l)
{
    uint64_t first = 0;
    for (struct loop_timer *t = l->timers; t; t = t->next)
        if (!first || t->deadline_ms < first)
            first = t->deadline_ms;
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (first) {
        /* An absolute deadline already past would disarm; 1 ns fires at once. */
        uint64_t now = loop_now_ms();
        uint64_t at = first > now ? first : now;
        its.it_value.tv_sec = (time_t)(at / 1000);
        its.it_value.tv_nsec = (long)(at % 1000) * 1000000L + (first > now ? 0 : 1);
    }
    timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t deadline_ms)
{
    timers_unlink(l, t);
    t->deadline_ms = deadline_ms;
    if (deadline_ms) {
        t->next = l->timers;
        l->timers = t;
    }
    timerfd_rearm(l);
}

static void fire_timers(struct loop *l)
{
    uint64_t expirations;
    if (read(l->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        return;
    uint64_t now = loop_now_ms();
    /* Unlink before calling: the callback may re-arm its timer or others. */
    for (;;) {
        /* The earliest first: timers that came due together fire in deadline order. */
        struct loop_timer *due = NULL;
        for (struct loop_timer *t = l->timers; t; t = t->next)
            if (t->deadline_ms <= now && (!due || t->deadline_ms < due->deadline_ms))
                due = t;
        if (!due)
            break;
        timers_unlink(l, due);
        due->deadline_ms = 0;
        due->fn(l, due->arg);
    }
    timerfd_rearm(l);
}

static void read_signals(struct loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        if (l->sig_fn)
            l->sig_fn(l, (int)si.ssi_signo, l->sig_arg);
}

static void dispatch(struct loop *l, int fd, uint32_t events)
{
    if (fd == l->timerfd) {
        fire_timers(l);
        return;
    }
    if (fd == l->sigfd) {
        read_signals(l);
        return;
    }
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++)
        if (l->fds[i].fd == fd) {
            l->fds[i].fn(l, fd, events, l->fds[i].arg);
            return;
        }
}

int loop_run(struct loop *l)
{
    struct epoll_event evs[16];
    l->stopped = false;
    while (!l->stopped) {
        int n = epoll_wait(l->epfd, evs, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        for (int i = 0; i < n && !l->stopped; i++)
            dispatch(l, evs[i].data.fd, evs[i].events);
    }
    return l->code;
}

void loop_stop(struct loop *l, int code)
{
    l->stopped = true;
    l->code = code;
}
