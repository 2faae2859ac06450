/* loop.h - a tiny per-thread event loop with the OS mechanism behind one
 * seam, in the shape of redis ae.c: this core never calls epoll (or
 * io_uring) itself; exactly one backend (loop_backend.h, today
 * loop_epoll.c) does. Besides I/O callbacks the loop runs FIFO timer lists
 * (timer.h) and deferred tasks (work that yielded and must run again before
 * the next sleep).
 *
 * The loop's event bits are its own (ZC_EV_*): no backend constant leaves
 * the backend file. Callers register interest in an fd (zc_loop_add/mod/
 * del) and get called with what happened, readiness style. Reads and
 * accepts go through zc_loop_recv() and zc_loop_accept() rather than
 * recv()/accept4() so that a completion backend, which receives the bytes
 * or the new fd before it reports anything, can hand them over here (see
 * loop_backend.h for how io_uring fits). The send path is net/sendq.h.
 *
 * One loop per thread; nothing here is thread-safe. */
#ifndef ZC_NET_LOOP_H
#define ZC_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net/timer.h"

struct zc_loop;
struct zc_io;
struct zc_loop_backend;

/* Event bits: interest passed to zc_loop_add/mod, and what a callback is
 * told happened. ZC_EV_HUP and ZC_EV_ERR are always reported, never asked
 * for. */
#define ZC_EV_READ  0x01u           /* bytes (or a connection) to take */
#define ZC_EV_WRITE 0x02u           /* room to send */
#define ZC_EV_RDHUP 0x04u           /* the peer shut its side: reads end in 0 */
#define ZC_EV_HUP   0x08u           /* both directions are gone */
#define ZC_EV_ERR   0x10u           /* an error (or, with MSG_ZEROCOPY, a
                                     * completion) waits on the socket */
#define ZC_EV_EDGE  0x20u           /* interest only: report each change once
                                     * (edge-triggered) instead of the state */

/* Called on the loop's thread with the ZC_EV_* bits that fired for io->fd. */
typedef void zc_io_fn(struct zc_loop *loop, struct zc_io *io, unsigned events);

/* One registered fd. Embed it in the object that owns the fd and recover
 * the owner from the pointer in the callback. */
struct zc_io {
    int fd;
    zc_io_fn *on_event;
    unsigned interest;              /* ZC_EV_* as registered (the core's) */
    void *backend_io;               /* the backend's state for this fd */
};

/* A deferred task: runs once, after the current batch of events and timers
 * and before the loop sleeps again (a connection that yielded its turn). */
struct zc_task;
typedef void zc_task_fn(struct zc_loop *loop, struct zc_task *task);

struct zc_task {
    struct zc_task *prev, *next;
    bool queued;
    zc_task_fn *run;
};

#define ZC_LOOP_MAX_LISTS 8
#define ZC_LOOP_MAX_FIRED 256       /* events dispatched per wakeup, at most */

/* What the backend found ready in one poll: the core dispatches them. */
struct zc_fired {
    struct zc_io *io;
    unsigned events;                /* ZC_EV_* */
};

struct zc_loop {
    const struct zc_loop_backend *backend;
    void *backend_data;             /* the backend's own state */
    bool stop;                      /* set to leave zc_loop_run */
    int64_t now_ms;                 /* CLOCK_MONOTONIC, refreshed per wakeup */
    struct zc_timer_list *lists[ZC_LOOP_MAX_LISTS];
    unsigned nlists;
    struct zc_task *tasks_head, *tasks_tail;   /* deferred, FIFO */
    struct zc_task batch_end;       /* marks the end of a run of tasks */
    /* Called once per wakeup after events, timers and deferred tasks. */
    void (*after_poll)(struct zc_loop *loop, void *arg);
    void *after_arg;
    int64_t max_wait_ms;            /* upper bound on a sleep; <= 0: none */
    struct zc_fired fired[ZC_LOOP_MAX_FIRED];
    /* Dispatch cursor: while fired[next_fired..nfired) waits to be
     * dispatched, zc_loop_del clears entries of the io it removes, so a
     * callback may close another connection of the same wakeup. */
    int next_fired, nfired;
};

/* zc_loop_init - set the loop up with the default backend (epoll).
 * Return: 0 or -errno (the backend could not be created). */
int zc_loop_init(struct zc_loop *loop);

/* zc_loop_init_backend - the same with a given backend (tests, --loop).
 * Return: 0 or -errno (uring: -EPERM or -ENOSYS where io_uring is refused
 * or not built in, -EINVAL on kernels before 6.1). */
int zc_loop_init_backend(struct zc_loop *loop, const struct zc_loop_backend *b);

/* zc_loop_destroy - release the backend. Registered fds are not closed
 * (their owners close them). Safe on a zeroed or destroyed loop. */
void zc_loop_destroy(struct zc_loop *loop);

/* zc_loop_add / _mod / _del - register @io->fd with @interest (ZC_EV_*),
 * change it, or forget the fd (before closing it). @interest 0 keeps the
 * fd registered but silent (a paused listener).
 * Return: 0 or -errno from the backend. */
int zc_loop_add(struct zc_loop *loop, struct zc_io *io, unsigned interest);
int zc_loop_mod(struct zc_loop *loop, struct zc_io *io, unsigned interest);
int zc_loop_del(struct zc_loop *loop, struct zc_io *io);

/* zc_loop_recv - take up to @cap bytes that arrived on @io (recv() for a
 * readiness backend; a completion backend copies from the buffer its recv
 * completed into). Return: bytes (> 0), 0 at end of stream, -EAGAIN when
 * nothing is waiting (wait for ZC_EV_READ), or -errno. EINTR is retried. */
ssize_t zc_loop_recv(struct zc_loop *loop, struct zc_io *io, void *buf, size_t cap);

/* zc_loop_queued - bytes a completion backend already took from @io's
 * socket and zc_loop_recv would return before anything still in the
 * socket (0 for a readiness backend). A caller that reads the socket
 * itself (splice) takes these first, with zc_loop_recv, to keep order. */
size_t zc_loop_queued(struct zc_loop *loop, struct zc_io *io);

/* zc_loop_backend_named - the backend called @name ("epoll", "uring"), or
 * NULL if there is none by that name. */
const struct zc_loop_backend *zc_loop_backend_named(const char *name);

/* zc_loop_backend_name - the name of the backend @loop runs on. */
const char *zc_loop_backend_name(const struct zc_loop *loop);

/* zc_loop_accept - take one pending connection of listener @io as a
 * non-blocking, close-on-exec fd; the peer's address into @peer/@plen.
 * Return: the fd, -EAGAIN when none is pending, or -errno (EMFILE...). */
int zc_loop_accept(struct zc_loop *loop, struct zc_io *io,
                   struct sockaddr_storage *peer, socklen_t *plen);

/* zc_loop_defer - run @task->run once before the loop sleeps again (after
 * the timers of this wakeup). Deferring a queued task does nothing. */
void zc_loop_defer(struct zc_loop *loop, struct zc_task *task);

/* zc_loop_cancel - take @task off the deferred queue, if it is on it. */
void zc_loop_cancel(struct zc_loop *loop, struct zc_task *task);

/* zc_loop_run_once - one wakeup: wait at most @timeout_ms (-1: until an
 * event or the next timer; 0: do not sleep) for events, dispatch them,
 * expire timers, run deferred tasks, then after_poll.
 * Return: events dispatched (>= 0), or -errno from the backend. */
int zc_loop_run_once(struct zc_loop *loop, int timeout_ms);

/* zc_loop_run - zc_loop_run_once until loop->stop is set.
 * Return: 0, or -errno from the backend's poll. */
int zc_loop_run(struct zc_loop *loop);

/* zc_loop_next_timeout - how long the loop may sleep now, in ms (-1: no
 * bound): 0 when tasks are deferred, else the nearest timer deadline
 * capped by max_wait_ms. Exposed for tests. */
int zc_loop_next_timeout(const struct zc_loop *loop);

/* zc_now_ms - CLOCK_MONOTONIC in milliseconds. */
int64_t zc_now_ms(void);

#endif /* ZC_NET_LOOP_H */
