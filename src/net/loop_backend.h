/* loop_backend.h - the seam between the loop core (loop.c) and the OS
 * mechanism. A backend is one file implementing this table; the core
 * calls nothing else (no epoll_* or io_uring_* outside the backend file),
 * as redis's ae.c calls only its aeApi* functions.
 *
 * Readiness backend (loop_epoll.c): watch() is epoll_ctl, poll() is
 * epoll_wait translated to ZC_EV_* bits, recv/accept are NULL so the core
 * uses recv() and accept4() directly on ready fds.
 *
 * How the completion backend (loop_uring.c) implements the same table,
 * without any change to the code above the loop (HTTP, Kafka):
 *  - watch(): for a listener with ZC_EV_READ, submit one multishot
 *    IORING_OP_ACCEPT; for a connection with ZC_EV_READ, a multishot
 *    IORING_OP_RECV with IOSQE_BUFFER_SELECT from a provided-buffer ring;
 *    for ZC_EV_WRITE (or fds of other kinds), IORING_OP_POLL_ADD
 *    (multishot, so it is level or edge like epoll). Interest 0 or del
 *    cancels them (IORING_OP_ASYNC_CANCEL by user_data = the zc_io).
 *  - poll(): io_uring_submit_and_wait_timeout, then reap CQEs. An accept
 *    CQE queues its fd on the listener's per-io queue and reports
 *    ZC_EV_READ; a recv CQE queues (buffer id, length) and reports
 *    ZC_EV_READ (res 0: ZC_EV_RDHUP); a poll CQE reports its mask. When a
 *    multishot request ends (no IORING_CQE_F_MORE) it is re-armed.
 *  - accept(): pops the queued fd (or -EAGAIN); recv(): copies from the
 *    oldest queued provided buffer into the caller's buffer and returns the
 *    buffer to the ring once consumed (or -EAGAIN). Callers already treat
 *    -EAGAIN as "wait for the next ZC_EV_READ", so they need no change.
 *  - sending stays in net/sendq.c: zc_transfer already has an io_uring
 *    method (IORING_OP_SPLICE / SEND_ZC), and the queue resumes on -EAGAIN
 *    whatever produced it.
 * A backend that cannot start (io_uring refused by seccomp: EPERM/ENOSYS)
 * fails init() and the caller falls back to zc_loop_backend_epoll.
 *
 * Internal to src/net: programs include net/loop.h, not this file, except
 * to name a backend for zc_loop_init_backend(). */
#ifndef ZC_NET_LOOP_BACKEND_H
#define ZC_NET_LOOP_BACKEND_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net/loop.h"

struct zc_loop_backend {
    const char *name;

    /* Create the backend's state in loop->backend_data. Return: 0 or -errno. */
    int (*init)(struct zc_loop *loop);

    /* Release it (safe when init failed or never ran: backend_data NULL). */
    void (*destroy)(struct zc_loop *loop);

    /* Apply @op (ZC_WATCH_ADD, _MOD, _DEL) to @io->fd: its interest goes
     * from @old to @interest (ZC_EV_*; 0 with ADD/MOD keeps the fd
     * registered but silent; DEL passes 0). The core keeps io->interest.
     * Return: 0 or -errno. */
    int (*watch)(struct zc_loop *loop, struct zc_io *io, unsigned old,
                 unsigned interest, int op);

    /* Wait at most @timeout_ms (-1: no bound) and fill loop->fired[] with
     * at most ZC_LOOP_MAX_FIRED entries. Return: entries filled (>= 0;
     * 0 on timeout or EINTR), or -errno. */
    int (*poll)(struct zc_loop *loop, int timeout_ms);

    /* Optional (NULL: the core calls recv()/accept4() on the fd). Same
     * contract as zc_loop_recv / zc_loop_accept. */
    ssize_t (*recv)(struct zc_loop *loop, struct zc_io *io, void *buf, size_t cap);
    int (*accept)(struct zc_loop *loop, struct zc_io *io,
                  struct sockaddr_storage *peer, socklen_t *plen);

    /* Optional (NULL: 0). Same contract as zc_loop_queued. */
    size_t (*queued)(struct zc_loop *loop, struct zc_io *io);
};

/* watch() operations. */
enum { ZC_WATCH_ADD, ZC_WATCH_MOD, ZC_WATCH_DEL };

/* The backends this build has (uring's init fails with -ENOSYS when built
 * without liburing). */
extern const struct zc_loop_backend zc_loop_backend_epoll;
extern const struct zc_loop_backend zc_loop_backend_uring;

#endif /* ZC_NET_LOOP_BACKEND_H */
