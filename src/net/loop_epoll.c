/* loop_epoll.c - the epoll backend (see loop_backend.h): the only file of
 * the loop that knows epoll. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "net/loop_backend.h"

struct epoll_state {
    int epfd;
    struct epoll_event events[ZC_LOOP_MAX_FIRED];
};

static uint32_t to_epoll(unsigned ev)
{
    return (ev & ZC_EV_READ ? EPOLLIN : 0) | (ev & ZC_EV_WRITE ? EPOLLOUT : 0) |
           (ev & ZC_EV_RDHUP ? EPOLLRDHUP : 0) | (ev & ZC_EV_EDGE ? EPOLLET : 0);
}

static unsigned from_epoll(uint32_t ev)
{
    return (ev & EPOLLIN ? ZC_EV_READ : 0) | (ev & EPOLLOUT ? ZC_EV_WRITE : 0) |
           (ev & EPOLLRDHUP ? ZC_EV_RDHUP : 0) | (ev & EPOLLHUP ? ZC_EV_HUP : 0) |
           (ev & EPOLLERR ? ZC_EV_ERR : 0);
}

static int epoll_init(struct zc_loop *loop)
{
    struct epoll_state *s = malloc(sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int ret = -errno;

        free(s);
        return ret;
    }
    loop->backend_data = s;
    return 0;
}

static void epoll_destroy(struct zc_loop *loop)
{
    struct epoll_state *s = loop->backend_data;

    if (!s)
        return;
    close(s->epfd);
    free(s);
    loop->backend_data = NULL;
}

static int epoll_watch(struct zc_loop *loop, struct zc_io *io, unsigned old,
                       unsigned interest, int op)
{
    static const int ops[] = { [ZC_WATCH_ADD] = EPOLL_CTL_ADD,
                               [ZC_WATCH_MOD] = EPOLL_CTL_MOD,
                               [ZC_WATCH_DEL] = EPOLL_CTL_DEL };
    struct epoll_state *s = loop->backend_data;
    struct epoll_event ev = { .events = to_epoll(interest), .data.ptr = io };

    (void)old;                          /* epoll replaces the whole mask */
    return epoll_ctl(s->epfd, ops[op], io->fd, &ev) < 0 ? -errno : 0;
}

static int epoll_poll(struct zc_loop *loop, int timeout_ms)
{
    struct epoll_state *s = loop->backend_data;
    int n = epoll_wait(s->epfd, s->events, ZC_LOOP_MAX_FIRED, timeout_ms);

    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        loop->fired[i] = (struct zc_fired){ .io = s->events[i].data.ptr,
                                            .events = from_epoll(s->events[i].events) };
    return n;
}

const struct zc_loop_backend zc_loop_backend_epoll = {
    .name = "epoll",
    .init = epoll_init,
    .destroy = epoll_destroy,
    .watch = epoll_watch,
    .poll = epoll_poll,
};
