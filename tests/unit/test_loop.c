/* tunneld/loop.c: timers in deadline order, re-arming, fds, signals. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop.h"
#include "unit.h"

struct rec {
    struct loop_timer t;
    int id;
    int *order;
    int *n;
    bool stop;
};

static void record(struct loop *l, void *arg)
{
    struct rec *r = arg;
    r->order[(*r->n)++] = r->id;
    if (r->stop)
        loop_stop(l, 42);
}

START_TEST(timers_fire_in_deadline_order)
{
    struct loop *l;
    int order[8], n = 0;
    ck_assert_int_eq(loop_new(&l, NULL), 0);
    struct rec a = {{0}, 1, order, &n, false}, b = {{0}, 2, order, &n, false},
               c = {{0}, 3, order, &n, true}, off = {{0}, 9, order, &n, false};
    a.t = (struct loop_timer){.fn = record, .arg = &a};
    b.t = (struct loop_timer){.fn = record, .arg = &b};
    c.t = (struct loop_timer){.fn = record, .arg = &c};
    off.t = (struct loop_timer){.fn = record, .arg = &off};
    uint64_t now = loop_now_ms();
    loop_timer_set(l, &c.t, now + 60);
    loop_timer_set(l, &a.t, now + 20);
    loop_timer_set(l, &b.t, now + 40);
    loop_timer_set(l, &off.t, now + 30);
    loop_timer_set(l, &off.t, 0); /* disarmed: must never fire */
    ck_assert_int_eq(loop_run(l), 42);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 3);
    ck_assert_uint_ge(loop_now_ms(), now + 60);
    loop_free(l);
}
END_TEST

struct rearm {
    struct loop_timer t;
    int fired;
};

static void rearm_fn(struct loop *l, void *arg)
{
    struct rearm *r = arg;
    if (++r->fired == 3)
        loop_stop(l, 0);
    else
        loop_timer_set(l, &r->t, loop_now_ms() + 5);
}

START_TEST(timer_rearms_itself_from_its_callback)
{
    struct loop *l;
    ck_assert_int_eq(loop_new(&l, NULL), 0);
    struct rearm r = {{.fn = rearm_fn}, 0};
    r.t.arg = &r;
    loop_timer_set(l, &r.t, loop_now_ms()); /* already due: fires at once */
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(r.fired, 3);
    loop_free(l);
}
END_TEST

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 1);
    *(char *)arg = c;
    loop_stop(l, 7);
}

START_TEST(fd_callback_gets_its_data)
{
    struct loop *l;
    int p[2];
    char got = 0;
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(loop_new(&l, NULL), 0);
    ck_assert_int_eq(loop_add_fd(l, p[0], 1 /* EPOLLIN */, on_readable, &got, NULL), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(loop_run(l), 7);
    ck_assert_int_eq(got, 'x');
    loop_del_fd(l, p[0]);
    loop_free(l);
    close(p[0]);
    close(p[1]);
}
END_TEST

static void on_signal(struct loop *l, int signo, void *arg)
{
    *(int *)arg = signo;
    loop_stop(l, 0);
}

START_TEST(signals_arrive_through_the_loop)
{
    struct loop *l;
    int got = 0;
    const int sigs[] = {SIGHUP, SIGUSR1};
    ck_assert_int_eq(loop_new(&l, NULL), 0);
    ck_assert_int_eq(loop_signals(l, sigs, 2, on_signal, &got, NULL), 0);
    raise(SIGUSR1); /* blocked: queued for the signalfd, not delivered */
    ck_assert_int_eq(loop_run(l), 0);
    ck_assert_int_eq(got, SIGUSR1);
    loop_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, timers_fire_in_deadline_order);
    tcase_add_test(tc, timer_rearms_itself_from_its_callback);
    tcase_add_test(tc, fd_callback_gets_its_data);
    tcase_add_test(tc, signals_arrive_through_the_loop);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
