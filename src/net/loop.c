/* loop.c - the loop core: dispatch what the backend reports, expire
 * timers, run deferred tasks (see loop.h). Calls the OS only through
 * loop->backend, plus recv()/accept4() for readiness backends. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net/loop.h"
#include "net/loop_backend.h"

int64_t zc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zc_loop_init_backend(struct zc_loop *loop, const struct zc_loop_backend *b)
{
    int ret;

    *loop = (struct zc_loop){ .backend = b };
    ret = b->init(loop);
    if (ret < 0) {
        loop->backend = NULL;
        return ret;
    }
    loop->now_ms = zc_now_ms();
    return 0;
}

int zc_loop_init(struct zc_loop *loop)
{
    return zc_loop_init_backend(loop, &zc_loop_backend_epoll);
}

void zc_loop_destroy(struct zc_loop *loop)
{
    if (loop->backend)
        loop->backend->destroy(loop);
    loop->backend = NULL;
    loop->backend_data = NULL;
}

static int loop_watch(struct zc_loop *loop, struct zc_io *io, unsigned interest, int op)
{
    int ret = loop->backend->watch(loop, io, io->interest, interest, op);

    if (ret == 0)
        io->interest = interest;
    return ret;
}

int zc_loop_add(struct zc_loop *loop, struct zc_io *io, unsigned interest)
{
    io->interest = 0;
    return loop_watch(loop, io, interest, ZC_WATCH_ADD);
}

int zc_loop_mod(struct zc_loop *loop, struct zc_io *io, unsigned interest)
{
    return loop_watch(loop, io, interest, ZC_WATCH_MOD);
}

int zc_loop_del(struct zc_loop *loop, struct zc_io *io)
{
    /* The owner frees io after this: drop its events still waiting in this
     * wakeup (redis's ae guards the same way by re-reading the fd's mask). */
    for (int i = loop->next_fired; i < loop->nfired; i++) {
        if (loop->fired[i].io == io)
            loop->fired[i].io = NULL;
    }
    return loop_watch(loop, io, 0, ZC_WATCH_DEL);
}

ssize_t zc_loop_recv(struct zc_loop *loop, struct zc_io *io, void *buf, size_t cap)
{
    ssize_t n;

    if (loop->backend->recv)
        return loop->backend->recv(loop, io, buf, cap);
    do {
        n = recv(io->fd, buf, cap, 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

size_t zc_loop_queued(struct zc_loop *loop, struct zc_io *io)
{
    return loop->backend->queued ? loop->backend->queued(loop, io) : 0;
}

const struct zc_loop_backend *zc_loop_backend_named(const char *name)
{
    if (!strcmp(name, zc_loop_backend_epoll.name))
        return &zc_loop_backend_epoll;
    if (!strcmp(name, zc_loop_backend_uring.name))
        return &zc_loop_backend_uring;
    return NULL;
}

const char *zc_loop_backend_name(const struct zc_loop *loop)
{
    return loop->backend ? loop->backend->name : "none";
}

int zc_loop_accept(struct zc_loop *loop, struct zc_io *io,
                   struct sockaddr_storage *peer, socklen_t *plen)
{
    int fd;

    if (loop->backend->accept)
        return loop->backend->accept(loop, io, peer, plen);
    do {
        fd = accept4(io->fd, (struct sockaddr *)peer, plen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

void zc_loop_defer(struct zc_loop *loop, struct zc_task *task)
{
    if (task->queued)
        return;
    task->next = NULL;
    task->prev = loop->tasks_tail;
    if (loop->tasks_tail)
        loop->tasks_tail->next = task;
    else
        loop->tasks_head = task;
    loop->tasks_tail = task;
    task->queued = true;
}

void zc_loop_cancel(struct zc_loop *loop, struct zc_task *task)
{
    if (!task->queued)
        return;
    if (task->prev)
        task->prev->next = task->next;
    else
        loop->tasks_head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    else
        loop->tasks_tail = task->prev;
    task->prev = task->next = NULL;
    task->queued = false;
}

static void run_tasks(struct zc_loop *loop)
{
    struct zc_task *mark = &loop->batch_end;

    if (!loop->tasks_head)
        return;
    /* Run up to a marker queued behind the current tasks: tasks deferred
     * again while these run wait for the next turn, after the backend had
     * its say (fairness between a client streaming pipelined requests and
     * everyone else). One list, so a task may cancel any other. */
    zc_loop_defer(loop, mark);
    for (;;) {
        struct zc_task *t = loop->tasks_head;

        zc_loop_cancel(loop, t);
        if (t == mark)
            break;
        t->run(loop, t);
    }
}

int zc_loop_next_timeout(const struct zc_loop *loop)
{
    int64_t wait = loop->max_wait_ms > 0 ? loop->max_wait_ms : -1;

    if (loop->tasks_head)
        return 0;                       /* work is queued: do not sleep */
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

int zc_loop_run_once(struct zc_loop *loop, int timeout_ms)
{
    int n = loop->backend->poll(loop, timeout_ms);

    if (n < 0)
        return n;
    loop->now_ms = zc_now_ms();
    loop->nfired = n;
    for (loop->next_fired = 0; loop->next_fired < n;) {
        struct zc_fired f = loop->fired[loop->next_fired++];

        if (f.io)                       /* NULL: removed by an earlier callback */
            f.io->on_event(loop, f.io, f.events);
    }
    loop->nfired = loop->next_fired = 0;
    zc_loop_expire_timers(loop);
    run_tasks(loop);
    if (loop->after_poll)
        loop->after_poll(loop, loop->after_arg);
    return n;
}

int zc_loop_run(struct zc_loop *loop)
{
    while (!loop->stop) {
        int n = zc_loop_run_once(loop, zc_loop_next_timeout(loop));

        if (n < 0)
            return n;
    }
    return 0;
}
