/* loop.h - a tiny per-thread event loop: epoll behind one seam (the shape of
 * redis ae.c), plus FIFO timer lists for fixed-duration deadlines.
 *
 * Every deadline the server keeps has one of a few fixed durations (request
 * head, keep-alive idle, send stall). A timer list holds timers of a single
 * duration, so appending at the tail keeps it sorted: arming, disarming and
 * expiring are O(1), and the loop only looks at each list's head. */
#ifndef ZC_SERVE_LOOP_H
#define ZC_SERVE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct zc_loop;
struct zc_io;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, ...) of io->fd. */
typedef void zc_io_fn(struct zc_loop *loop, struct zc_io *io, uint32_t events);

struct zc_io {
    int fd;
    zc_io_fn *on_event;
};

struct zc_timer;
typedef void zc_timer_fn(struct zc_loop *loop, struct zc_timer *t);

struct zc_timer {
    struct zc_timer *prev, *next;
    struct zc_timer_list *list;     /* NULL when not armed */
    int64_t deadline_ms;
};

struct zc_timer_list {
    struct zc_timer *head, *tail;
    int64_t duration_ms;            /* <= 0: timers on this list never fire */
    zc_timer_fn *on_expire;
};

#define ZC_LOOP_MAX_LISTS 4

struct zc_loop {
    int epfd;
    bool stop;
    int64_t now_ms;                 /* CLOCK_MONOTONIC, refreshed per wakeup */
    struct zc_timer_list *lists[ZC_LOOP_MAX_LISTS];
    unsigned nlists;
    /* Called once per wakeup after the events and timers were handled. */
    void (*after_poll)(struct zc_loop *loop, void *arg);
    void *after_arg;
    int64_t max_wait_ms;            /* upper bound on a sleep; <= 0: none */
    bool poll_only;                 /* work is queued: next epoll_wait must not sleep */
};

/* zc_loop_init - create the epoll instance. Return: 0 or -errno. */
int zc_loop_init(struct zc_loop *loop);
void zc_loop_destroy(struct zc_loop *loop);

/* zc_loop_add / _mod / _del - register io->fd for @events (EPOLLIN, EPOLLOUT,
 * EPOLLET, ...). Return: 0 or -errno. */
int zc_loop_add(struct zc_loop *loop, struct zc_io *io, uint32_t events);
int zc_loop_mod(struct zc_loop *loop, struct zc_io *io, uint32_t events);
int zc_loop_del(struct zc_loop *loop, struct zc_io *io);

/* zc_loop_add_list - let the loop expire the timers of @list. */
void zc_loop_add_list(struct zc_loop *loop, struct zc_timer_list *list,
                      int64_t duration_ms, zc_timer_fn *on_expire);

/* zc_timer_arm - (re)arm @t on @list to fire list->duration_ms from now. */
void zc_timer_arm(struct zc_loop *loop, struct zc_timer_list *list,
                  struct zc_timer *t);
void zc_timer_disarm(struct zc_timer *t);

/* zc_loop_run - dispatch events and timers until loop->stop is set.
 * Return: 0, or -errno from epoll_wait. */
int zc_loop_run(struct zc_loop *loop);

int64_t zc_now_ms(void);

#endif /* ZC_SERVE_LOOP_H */
