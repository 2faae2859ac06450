/* loop_uring.c - the io_uring backend (see loop_backend.h): completion
 * based, so a request costs no recv() and no epoll_wait of its own. One
 * io_uring_enter per wakeup submits what the loop asked for and reaps
 * what completed:
 *  - a connected stream socket with READ interest has a multishot
 *    IORING_OP_RECV into a ring of provided buffers; zc_loop_recv() copies
 *    out of the buffers that completed and gives them back;
 *  - a listener has a multishot IORING_OP_ACCEPT; zc_loop_accept() pops
 *    the fds it produced;
 *  - WRITE interest, and any other fd (eventfd...), is a POLL_ADD:
 *    multishot for ZC_EV_EDGE (reported on each wakeup, as EPOLLET),
 *    one-shot and re-armed after each report otherwise (as level).
 * The ring is set up with DEFER_TASKRUN: the kernel completes requests only
 * inside our io_uring_enter, so between two polls no byte leaves a socket
 * behind the caller's back (an upload that splices from the socket drains
 * what the ring already took first, see zc_loop_queued()).
 *
 * Receive buffers are shared by the worker's connections: a connection
 * whose queue reaches QUEUE_PAUSE buffers has its recv cancelled until the
 * caller drains it, and one that finds the ring empty (-ENOBUFS) is
 * re-armed once buffers come back. Bytes wait; none are lost. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/loop_backend.h"

#if !ZC_HAVE_URING

/* Built without liburing: the backend exists and refuses to start, so the
 * caller falls back to epoll as it would under a seccomp policy. */
static int uring_init(struct zc_loop *loop)
{
    (void)loop;
    return -ENOSYS;
}

static void uring_destroy(struct zc_loop *loop)
{
    (void)loop;
}

static int uring_watch(struct zc_loop *loop, struct zc_io *io, unsigned old,
                       unsigned interest, int op)
{
    (void)loop, (void)io, (void)old, (void)interest, (void)op;
    return -ENOSYS;
}

static int uring_poll(struct zc_loop *loop, int timeout_ms)
{
    (void)loop, (void)timeout_ms;
    return -ENOSYS;
}

#else /* ZC_HAVE_URING */

#include <liburing.h>

#define RING_ENTRIES 512            /* SQ; the CQ is 4x */
#define BUF_COUNT 1024              /* provided buffers (a power of two) */
#define BUF_SIZE 4096
#define BUF_GROUP 0
#define QUEUE_PAUSE 16              /* buffers a connection holds before its recv pauses */
#define ACCEPT_QUEUE 128            /* accepted fds waiting, at most */
#define ACCEPT_PAUSE 64             /* ... before the multishot accept pauses */

enum { TAG_RECV = 1, TAG_POLL = 2, TAG_ACCEPT = 3, TAG_BITS = 3 };
enum io_kind { KIND_POLL, KIND_RECV, KIND_ACCEPT };

struct link {
    struct link *prev, *next;
};

/* The backend's side of one zc_io (io->backend_io). It outlives the zc_io
 * when requests are still in flight at zc_loop_del: their completions
 * carry this pointer, so it is freed only after the last one. */
struct uring_io {
    struct zc_io *io;               /* NULL once deleted */
    int fd;
    enum io_kind kind;
    unsigned interest;              /* ZC_EV_*, as last watched */
    struct link all;                /* every record, for destroy */
    struct link starved;            /* waiting for buffers (-ENOBUFS) */
    struct link fire;               /* to report at the next poll */
    struct link level;              /* READ reported, level-triggered: again
                                     * at the next poll while unread */
    struct link resync;             /* an arm or cancel found no SQE: retry */
    unsigned fire_events;
    uint64_t fired_gen;             /* poll generation of its fired[] slot */
    int fired_slot;
    bool recv_armed, recv_cancelling;
    bool accept_armed, accept_cancelling;
    bool poll_armed, poll_cancelling, poll_multi;
    unsigned poll_mask;             /* of the armed poll */
    /* Received, not yet taken: buffer ids chained through next_bid[]. */
    int head_bid, tail_bid;
    unsigned nqueued;
    uint32_t head_off;
    int end;                        /* after the queue: 1 end of stream, -errno */
    int fds[ACCEPT_QUEUE];          /* accepted, not yet taken (a ring) */
    unsigned fd_head, nfds;
    int accept_err;                 /* reported after the queued fds */
};

struct uring_state {
    struct io_uring ring;
    bool enabled;                   /* rings enabled on the loop's thread */
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    unsigned char *bufs;            /* BUF_COUNT x BUF_SIZE */
    uint32_t buf_len[BUF_COUNT];    /* bytes the kernel put in each */
    int next_bid[BUF_COUNT];
    unsigned free_bufs;
    uint64_t gen;
    int last_accepted;              /* the fd uring_accept handed out last */
    struct link all, starved, fire, level, resync;
};

static void link_init(struct link *l)
{
    l->prev = l->next = l;
}

static bool linked(const struct link *l)
{
    return l->next != l;
}

static void link_add(struct link *head, struct link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

static void link_del(struct link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    link_init(l);
}

#define OWNER(ptr, member) \
    ((struct uring_io *)(void *)((char *)(ptr) - offsetof(struct uring_io, member)))

static void give_back(struct uring_state *s, int bid)
{
    io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(s->br, 1);
    s->free_bufs++;
}

static struct io_uring_sqe *get_sqe(struct uring_state *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

    if (!sqe && s->enabled && io_uring_submit(&s->ring) >= 0)
        sqe = io_uring_get_sqe(&s->ring);
    return sqe;
}

static uint64_t user_data(struct uring_io *u, unsigned tag)
{
    return (uint64_t)(uintptr_t)u | tag;
}

static bool cancel(struct uring_state *s, struct uring_io *u, unsigned tag)
{
    struct io_uring_sqe *sqe = get_sqe(s);

    if (!sqe)
        return false;
    io_uring_prep_cancel64(sqe, user_data(u, tag), 0);
    io_uring_sqe_set_data64(sqe, 0);    /* its own completion is ignored */
    return true;
}

static bool has_input(const struct uring_io *u)
{
    return u->nqueued || u->end || u->nfds || u->accept_err;
}

static unsigned wanted_poll_mask(const struct uring_io *u)
{
    unsigned mask = 0;

    if (!u->io || u->kind == KIND_ACCEPT)
        return 0;
    if (u->interest & ZC_EV_WRITE)
        mask |= POLLOUT;
    if (u->kind == KIND_POLL && (u->interest & ZC_EV_READ))
        mask |= POLLIN;
    if (u->kind == KIND_POLL && (u->interest & ZC_EV_RDHUP))
        mask |= POLLRDHUP;
    /* Not reading, but told when the peer goes (the broker's parked fetch). */
    if (u->kind == KIND_RECV && (u->interest & ZC_EV_RDHUP) && !(u->interest & ZC_EV_READ))
        mask |= POLLRDHUP;
    return mask;
}

/* Bring the requests in flight for @u in line with what it wants: arm what
 * is missing, cancel what is no longer wanted (re-armed, if still wanted,
 * when the cancelled request's last completion arrives). */
static void sync_io(struct uring_state *s, struct uring_io *u)
{
    bool want_recv = u->io && u->kind == KIND_RECV && (u->interest & ZC_EV_READ) &&
                     !u->end && u->nqueued < QUEUE_PAUSE && !linked(&u->starved);
    bool want_accept = u->io && u->kind == KIND_ACCEPT && (u->interest & ZC_EV_READ) &&
                       u->nfds < ACCEPT_PAUSE;
    unsigned mask = wanted_poll_mask(u);
    bool multi = (u->interest & ZC_EV_EDGE) != 0;
    bool no_sqe = false;                /* the SQ was full and could not be submitted */
    struct io_uring_sqe *sqe;

    if (want_recv && !u->recv_armed) {
        if ((sqe = get_sqe(s))) {
            io_uring_prep_recv_multishot(sqe, u->fd, NULL, 0, 0);
            sqe->flags |= IOSQE_BUFFER_SELECT;
            sqe->buf_group = BUF_GROUP;
            io_uring_sqe_set_data64(sqe, user_data(u, TAG_RECV));
            u->recv_armed = true;
        }
        no_sqe |= !sqe;
    } else if (!want_recv && u->recv_armed && !u->recv_cancelling) {
        u->recv_cancelling = cancel(s, u, TAG_RECV);
        no_sqe |= !u->recv_cancelling;
    }

    if (want_accept && !u->accept_armed) {
        if ((sqe = get_sqe(s))) {
            io_uring_prep_multishot_accept(sqe, u->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            io_uring_sqe_set_data64(sqe, user_data(u, TAG_ACCEPT));
            u->accept_armed = true;
        }
        no_sqe |= !sqe;
    } else if (!want_accept && u->accept_armed && !u->accept_cancelling) {
        u->accept_cancelling = cancel(s, u, TAG_ACCEPT);
        no_sqe |= !u->accept_cancelling;
    }

    if (u->poll_armed && !u->poll_cancelling && (mask != u->poll_mask || multi != u->poll_multi)) {
        u->poll_cancelling = cancel(s, u, TAG_POLL);
        no_sqe |= !u->poll_cancelling;
    } else if (!u->poll_armed && mask) {
        if ((sqe = get_sqe(s))) {
            if (multi)
                io_uring_prep_poll_multishot(sqe, u->fd, mask);
            else
                io_uring_prep_poll_add(sqe, u->fd, mask);
            io_uring_sqe_set_data64(sqe, user_data(u, TAG_POLL));
            u->poll_armed = true;
            u->poll_mask = mask;
            u->poll_multi = multi;
        }
        no_sqe |= !sqe;
    }
    if (no_sqe && !linked(&u->resync))
        link_add(&s->resync, &u->resync);   /* tried again at the next poll */
}

static void drop_queue(struct uring_state *s, struct uring_io *u)
{
    while (u->nqueued) {
        int bid = u->head_bid;

        u->head_bid = s->next_bid[bid];
        u->nqueued--;
        give_back(s, bid);
    }
    u->head_off = 0;
    for (; u->nfds; u->nfds--, u->fd_head = (u->fd_head + 1) % ACCEPT_QUEUE)
        close(u->fds[u->fd_head]);
}

static void maybe_free(struct uring_io *u)
{
    if (u->io || u->recv_armed || u->accept_armed || u->poll_armed)
        return;
    link_del(&u->all);
    link_del(&u->resync);
    free(u);
}

static void uring_destroy(struct zc_loop *loop)
{
    struct uring_state *s = loop->backend_data;

    if (!s)
        return;
    /* Requests still in flight die with the ring; no completion reads a
     * record after this. */
    io_uring_queue_exit(&s->ring);
    while (linked(&s->all)) {
        struct uring_io *u = OWNER(s->all.next, all);

        for (; u->nfds; u->nfds--, u->fd_head = (u->fd_head + 1) % ACCEPT_QUEUE)
            close(u->fds[u->fd_head]);
        link_del(&u->all);
        free(u);
    }
    if (s->br)
        munmap(s->br, s->br_bytes);
    free(s->bufs);
    free(s);
    loop->backend_data = NULL;
}

static int uring_init(struct zc_loop *loop)
{
    struct io_uring_params p = {
        /* DEFER_TASKRUN: completions only inside our enter (see the top);
         * R_DISABLED: the ring belongs to the thread that runs the loop,
         * which is not always the one that sets it up (server workers). */
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
        .cq_entries = RING_ENTRIES * 4,
    };
    struct io_uring_buf_reg reg = { .ring_entries = BUF_COUNT, .bgid = BUF_GROUP };
    struct uring_state *s = calloc(1, sizeof(*s));
    int ret;

    if (!s)
        return -ENOMEM;
    link_init(&s->all);
    link_init(&s->starved);
    link_init(&s->fire);
    link_init(&s->level);
    link_init(&s->resync);
    s->last_accepted = -1;
    ret = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    if (ret < 0) {
        free(s);
        return ret;                     /* -EPERM, -ENOSYS, -EINVAL (kernel < 6.1) */
    }
    loop->backend_data = s;
    s->br_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    s->br = mmap(NULL, s->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->br == MAP_FAILED) {
        s->br = NULL;
        ret = -errno;
        goto fail;
    }
    s->bufs = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (!s->bufs) {
        ret = -ENOMEM;
        goto fail;
    }
    io_uring_buf_ring_init(s->br);
    reg.ring_addr = (uint64_t)(uintptr_t)s->br;
    ret = io_uring_register_buf_ring(&s->ring, &reg, 0);
    if (ret < 0)
        goto fail;
    for (int bid = 0; bid < BUF_COUNT; bid++)
        give_back(s, bid);
    return 0;

fail:
    uring_destroy(loop);
    return ret;
}

static enum io_kind kind_of(int fd)
{
    int v;
    socklen_t len = sizeof(v);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM)
        return KIND_POLL;
    len = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v)
        return KIND_ACCEPT;
    return KIND_RECV;
}

static void queue_fire(struct uring_state *s, struct uring_io *u, unsigned events)
{
    u->fire_events |= events;
    if (!linked(&u->fire))
        link_add(&s->fire, &u->fire);
}

static int uring_watch(struct zc_loop *loop, struct zc_io *io, unsigned old,
                       unsigned interest, int op)
{
    struct uring_state *s = loop->backend_data;
    struct uring_io *u = io->backend_io;

    (void)old;
    if (op == ZC_WATCH_ADD) {
        u = calloc(1, sizeof(*u));
        if (!u)
            return -ENOMEM;
        u->io = io;
        u->fd = io->fd;
        /* A connection this backend accepted is a connected stream socket:
         * no getsockopt calls to find out. */
        u->kind = io->fd == s->last_accepted ? KIND_RECV : kind_of(io->fd);
        s->last_accepted = -1;
        u->fired_slot = -1;
        link_init(&u->starved);
        link_init(&u->fire);
        link_init(&u->level);
        link_init(&u->resync);
        link_add(&s->all, &u->all);
        io->backend_io = u;
    }
    if (!u)
        return -EBADF;
    if (op == ZC_WATCH_DEL) {
        io->backend_io = NULL;
        u->io = NULL;
        u->interest = 0;
        link_del(&u->starved);
        link_del(&u->fire);
        link_del(&u->level);
        drop_queue(s, u);
        sync_io(s, u);
        maybe_free(u);
        return 0;
    }
    /* Asking to read what already waits reports it, as EPOLL_CTL_MOD does. */
    if ((interest & ZC_EV_READ) && has_input(u))
        queue_fire(s, u, ZC_EV_READ);
    u->interest = interest;
    sync_io(s, u);
    return 0;
}

static unsigned from_poll(int mask)
{
    return (mask & POLLIN ? ZC_EV_READ : 0) | (mask & POLLOUT ? ZC_EV_WRITE : 0) |
           (mask & POLLRDHUP ? ZC_EV_RDHUP : 0) | (mask & POLLHUP ? ZC_EV_HUP : 0) |
           (mask & POLLERR ? ZC_EV_ERR : 0);
}

/* Report @events for @u in this poll's fired[], one entry per io.
 * Return: false when fired[] is full (the caller stops reaping). */
static bool report(struct uring_state *s, struct zc_loop *loop, int *n, struct uring_io *u,
                   unsigned events)
{
    if (!events || !u->io)
        return true;
    if (u->fired_gen == s->gen) {
        loop->fired[u->fired_slot].events |= events;
        return true;
    }
    if (*n == ZC_LOOP_MAX_FIRED)
        return false;
    u->fired_gen = s->gen;
    u->fired_slot = *n;
    loop->fired[(*n)++] = (struct zc_fired){ .io = u->io, .events = events };
    if ((events & ZC_EV_READ) && !(u->interest & ZC_EV_EDGE) && !linked(&u->level))
        link_add(&s->level, &u->level);
    return true;
}


static unsigned on_recv(struct uring_state *s, struct uring_io *u, const struct io_uring_cqe *cqe)
{
    bool more = cqe->flags & IORING_CQE_F_MORE;

    if (cqe->flags & IORING_CQE_F_BUFFER) {
        int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

        s->free_bufs--;
        if (cqe->res > 0 && u->io) {
            s->buf_len[bid] = (uint32_t)cqe->res;
            s->next_bid[bid] = -1;
            if (u->nqueued++)
                s->next_bid[u->tail_bid] = bid;
            else
                u->head_bid = bid;
            u->tail_bid = bid;
        } else {
            give_back(s, bid);
        }
    }
    if (!more) {
        u->recv_armed = false;
        u->recv_cancelling = false;
    }
    if (!u->io)
        return 0;
    if (cqe->res > 0)
        return ZC_EV_READ;
    if (cqe->res == 0) {
        u->end = 1;
        return ZC_EV_READ | ZC_EV_RDHUP;
    }
    if (cqe->res == -ENOBUFS) {
        if (!linked(&u->starved))
            link_add(&s->starved, &u->starved);
        return 0;
    }
    if (cqe->res == -ECANCELED)
        return 0;                       /* paused by us */
    u->end = cqe->res;                  /* reported by zc_loop_recv after the bytes */
    return ZC_EV_READ;
}

static unsigned on_accept_cqe(struct uring_io *u, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        u->accept_armed = false;
        u->accept_cancelling = false;
    }
    if (cqe->res >= 0) {
        if (!u->io || u->nfds == ACCEPT_QUEUE) {
            close(cqe->res);            /* no one to take it (paused late) */
            return 0;
        }
        u->fds[(u->fd_head + u->nfds++) % ACCEPT_QUEUE] = cqe->res;
        return ZC_EV_READ;
    }
    if (cqe->res == -ECANCELED || !u->io)
        return 0;
    u->accept_err = cqe->res;
    return ZC_EV_READ;
}

static unsigned on_poll(struct uring_io *u, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        u->poll_armed = false;
        u->poll_cancelling = false;
    }
    return cqe->res > 0 ? from_poll(cqe->res) : 0;
}

static int enable(struct uring_state *s)
{
    /* liburing 2.3 declares io_uring_enable_rings() but does not export
     * it: the register call itself. */
    if (syscall(__NR_io_uring_register, s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
        return -errno;
    /* No io_uring_register_ring_fd: registrations belong to the thread,
     * and the ring is torn down by another one (zc_net_worker_destroy). */
    s->enabled = true;
    return 0;
}

static int uring_poll(struct zc_loop *loop, int timeout_ms)
{
    struct uring_state *s = loop->backend_data;
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int n = 0, ret;

    if (!s->enabled && (ret = enable(s)) < 0)
        return ret;
    s->gen++;
    s->last_accepted = -1;              /* the hint holds within one dispatch */
    while (linked(&s->resync)) {
        struct uring_io *u = OWNER(s->resync.next, resync);

        link_del(&u->resync);
        sync_io(s, u);
        if (linked(&u->resync))
            break;                      /* still no room: next time */
    }
    /* Buffers came back: those that found none try again. */
    while (linked(&s->starved) && s->free_bufs >= BUF_COUNT / 4) {
        struct uring_io *u = OWNER(s->starved.next, starved);

        link_del(&u->starved);
        sync_io(s, u);
    }
    /* Level-triggered READ: what the last callbacks left unread is
     * reported again, as epoll would. */
    while (linked(&s->level)) {
        struct uring_io *u = OWNER(s->level.next, level);

        link_del(&u->level);
        if ((u->interest & ZC_EV_READ) && !(u->interest & ZC_EV_EDGE) && has_input(u))
            queue_fire(s, u, ZC_EV_READ);
    }
    while (linked(&s->fire)) {
        struct uring_io *u = OWNER(s->fire.next, fire);

        if (!report(s, loop, &n, u, u->fire_events & (u->interest | ZC_EV_HUP | ZC_EV_ERR)))
            break;
        u->fire_events = 0;
        link_del(&u->fire);
    }
    if (n > 0 || io_uring_cq_ready(&s->ring))
        timeout_ms = 0;
    if (timeout_ms == 0) {
        ret = io_uring_submit_and_get_events(&s->ring);
    } else {
        struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
                                        .tv_nsec = (long long)(timeout_ms % 1000) * 1000000 };

        ret = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts,
                                               NULL);
    }
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
        return ret;

    io_uring_for_each_cqe(&s->ring, head, cqe) {
        struct uring_io *u = (struct uring_io *)(uintptr_t)(cqe->user_data & ~(uint64_t)TAG_BITS);
        unsigned tag = (unsigned)(cqe->user_data & TAG_BITS);
        unsigned events = 0;

        if (!u) {                       /* a cancel's own completion */
            seen++;
            continue;
        }
        /* Reporting needs a slot in fired[]: stop before handling a
         * completion that could not be reported. */
        if (n == ZC_LOOP_MAX_FIRED && u->fired_gen != s->gen)
            break;
        seen++;
        if (tag == TAG_RECV)
            events = on_recv(s, u, cqe);
        else if (tag == TAG_ACCEPT)
            events = on_accept_cqe(u, cqe);
        else
            events = on_poll(u, cqe);
        if (!u->io) {
            maybe_free(u);
            continue;
        }
        /* READ without READ interest is reported when it is asked for
         * again (uring_watch). */
        report(s, loop, &n, u, events & (u->interest | ZC_EV_HUP | ZC_EV_ERR));
        sync_io(s, u);
    }
    io_uring_cq_advance(&s->ring, seen);
    return n;
}

static ssize_t uring_recv(struct zc_loop *loop, struct zc_io *io, void *buf, size_t cap)
{
    struct uring_state *s = loop->backend_data;
    struct uring_io *u = io->backend_io;
    size_t got = 0;
    ssize_t n;

    if (!u || u->kind != KIND_RECV) {
        do {
            n = recv(io->fd, buf, cap, 0);
        } while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
    }
    while (got < cap && u->nqueued) {
        int bid = u->head_bid;
        size_t left = s->buf_len[bid] - u->head_off;
        size_t take = left < cap - got ? left : cap - got;

        memcpy((char *)buf + got, s->bufs + (size_t)bid * BUF_SIZE + u->head_off, take);
        got += take;
        u->head_off += (uint32_t)take;
        if (u->head_off == s->buf_len[bid]) {
            u->head_bid = s->next_bid[bid];
            u->nqueued--;
            u->head_off = 0;
            give_back(s, bid);
        }
    }
    sync_io(s, u);                      /* a paused recv resumes once drained */
    if (got)
        return (ssize_t)got;
    if (u->end)
        return u->end > 0 ? 0 : u->end;
    return -EAGAIN;
}

static int uring_accept(struct zc_loop *loop, struct zc_io *io, struct sockaddr_storage *peer,
                        socklen_t *plen)
{
    struct uring_state *s = loop->backend_data;
    struct uring_io *u = io->backend_io;
    int fd, ret;

    if (!u || u->kind != KIND_ACCEPT) {
        do {
            fd = accept4(io->fd, (struct sockaddr *)peer, plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        return fd < 0 ? -errno : fd;
    }
    if (!u->nfds) {
        ret = u->accept_err ? u->accept_err : -EAGAIN;
        u->accept_err = 0;
        return ret;
    }
    fd = u->fds[u->fd_head];
    s->last_accepted = fd;
    u->fd_head = (u->fd_head + 1) % ACCEPT_QUEUE;
    u->nfds--;
    sync_io(s, u);
    /* A shared multishot accept cannot fill in addresses: ask once. */
    if (getpeername(fd, (struct sockaddr *)peer, plen) < 0) {
        memset(peer, 0, sizeof(*peer));
        peer->ss_family = AF_UNSPEC;
    }
    return fd;
}

static size_t uring_queued(struct zc_loop *loop, struct zc_io *io)
{
    struct uring_state *s = loop->backend_data;
    struct uring_io *u = io->backend_io;
    size_t bytes = 0;

    if (!u || !u->nqueued)
        return 0;
    for (int bid = u->head_bid; bid >= 0; bid = s->next_bid[bid])
        bytes += s->buf_len[bid];
    return bytes - u->head_off;
}

#endif /* ZC_HAVE_URING */

const struct zc_loop_backend zc_loop_backend_uring = {
    .name = "uring",
    .init = uring_init,
    .destroy = uring_destroy,
    .watch = uring_watch,
    .poll = uring_poll,
#if ZC_HAVE_URING
    .recv = uring_recv,
    .accept = uring_accept,
    .queued = uring_queued,
#endif
};
