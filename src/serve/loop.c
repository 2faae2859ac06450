/* loop.c - epoll loop and FIFO timer lists (see loop.h). */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "serve/loop.h"

#define MAX_EVENTS 256

int64_t zc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zc_loop_init(struct zc_loop *loop)
{
    *loop = (struct zc_loop){ .epfd = epoll_create1(EPOLL_CLOEXEC) };
    if (loop->epfd < 0)
        return -errno;
    loop->now_ms = zc_now_ms();
    return 0;
}

void zc_loop_destroy(struct zc_loop *loop)
{
    if (loop->epfd >= 0)
        close(loop->epfd);
    loop->epfd = -1;
}

static int loop_ctl(struct zc_loop *loop, int op, struct zc_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };

    return epoll_ctl(loop->epfd, op, io->fd, &ev) < 0 ? -errno : 0;
}

int zc_loop_add(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    return loop_ctl(loop, EPOLL_CTL_ADD, io, events);
}

int zc_loop_mod(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    return loop_ctl(loop, EPOLL_CTL_MOD, io, events);
}

int zc_loop_del(struct zc_loop *loop, struct zc_io *io)
{
    return loop_ctl(loop, EPOLL_CTL_DEL, io, 0);
}

void zc_loop_add_list(struct zc_loop *loop, struct zc_timer_list *list,
                      int64_t duration_ms, zc_timer_fn *on_expire)
{
    *list = (struct zc_timer_list){ .duration_ms = duration_ms,
                                    .on_expire = on_expire };
    if (loop->nlists < ZC_LOOP_MAX_LISTS)
        loop->lists[loop->nlists++] = list;
}

void zc_timer_disarm(struct zc_timer *t)
{
    struct zc_timer_list *l = t->list;

    if (!l)
        return;
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    t->list = NULL;
}

void zc_timer_arm(struct zc_loop *loop, struct zc_timer_list *list,
                  struct zc_timer *t)
{
    zc_timer_disarm(t);
    if (list->duration_ms <= 0)
        return;
    /* Every timer on the list has the same duration, so the tail is always
     * the latest deadline: the list stays sorted without a search. */
    t->deadline_ms = loop->now_ms + list->duration_ms;
    t->list = list;
    t->prev = list->tail;
    t->next = NULL;
    if (list->tail)
        list->tail->next = t;
    else
        list->head = t;
    list->tail = t;
}

static int next_timeout(const struct zc_loop *loop)
{
    int64_t wait = loop->max_wait_ms > 0 ? loop->max_wait_ms : -1;

    if (loop->poll_only)
        return 0;

    for (unsigned i = 0; i < loop->nlists; i++) {
        const struct zc_timer *t = loop->lists[i]->head;
        int64_t d;

        if (!t)
            continue;
        d = t->deadline_ms - loop->now_ms;
        if (d < 0)
            d = 0;
        if (wait < 0 || d < wait)
            wait = d;
    }
    return wait > 60000 ? 60000 : (int)wait;
}

static void expire_timers(struct zc_loop *loop)
{
    for (unsigned i = 0; i < loop->nlists; i++) {
        struct zc_timer_list *l = loop->lists[i];
        struct zc_timer *t;

        /* A callback may arm or free other timers, so re-read the head. */
        while ((t = l->head) && t->deadline_ms <= loop->now_ms) {
            zc_timer_disarm(t);
            l->on_expire(loop, t);
        }
    }
}

int zc_loop_run(struct zc_loop *loop)
{
    struct epoll_event events[MAX_EVENTS];

    while (!loop->stop) {
        int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout(loop));

        if (n < 0 && errno != EINTR)
            return -errno;
        loop->now_ms = zc_now_ms();
        for (int i = 0; i < n; i++) {
            struct zc_io *io = events[i].data.ptr;

            io->on_event(loop, io, events[i].events);
        }
        expire_timers(loop);
        if (loop->after_poll)
            loop->after_poll(loop, loop->after_arg);
    }
    return 0;
}
