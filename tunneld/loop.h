/*
 * tunneld's one event loop: epoll over file descriptors, one timerfd for
 * every timer, signals through signalfd. Single-threaded; callbacks run to
 * completion.
 */
#ifndef TUNNELD_LOOP_H
#define TUNNELD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"

struct loop;
typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, void *arg);
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *arg);

/* A timer lives in its owner's struct; the loop only links to it. */
struct loop_timer {
    uint64_t deadline_ms;       /* CLOCK_MONOTONIC; 0 = not armed */
    loop_timer_fn fn;
    void *arg;
    struct loop_timer *next;
};

int loop_new(struct loop **out, struct errmsg *e);
void loop_free(struct loop *l);

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg,
                struct errmsg *e);
void loop_del_fd(struct loop *l, int fd);

/* Blocks these signals and delivers them to fn instead. */
int loop_signals(struct loop *l, const int *signals, unsigned n, loop_signal_fn fn, void *arg,
                 struct errmsg *e);

/* Arms (or re-arms) t at deadline_ms; deadline 0 disarms. */
void loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t deadline_ms);

uint64_t loop_now_ms(void);

/* Runs until loop_stop; returns the code given to it. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l, int code);

#endif
