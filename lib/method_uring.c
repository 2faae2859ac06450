/* method_uring.c - io_uring: IORING_OP_SPLICE for file -> pipe, and for
 * file -> socket either IORING_OP_SEND_ZC from a mapped window (TCP) or two
 * linked IORING_OP_SPLICEs through a pipe of our own (other sockets).
 *
 * One ring per ctx, created on first use. Every io_uring_enter is counted as
 * a syscall: submissions go through io_uring_submit_and_wait(), which enters
 * exactly once, and completions are read from the CQ ring without entering
 * unless none is there yet.
 *
 * SEND_ZC posts two CQEs: the result (with IORING_CQE_F_MORE), then a
 * notification (IORING_CQE_F_NOTIF) once the kernel let go of the pages. A
 * mapping is unmapped only after the notifications of all sends from it.
 * A blocking caller waits for them (bounded) before the call returns; for a
 * non-blocking socket they are collected by later calls and zc_ctx_free().
 * Unlike msg_zerocopy, a COPIED notification does not switch the socket to
 * plain sends: SEND_ZC is what this method exists to measure. */
#include <errno.h>

#include "internal.h"

#if !ZC_HAVE_URING

ssize_t zc__m_uring(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    (void)ctx; (void)out_fd; (void)in_fd; (void)off; (void)count;
    return -EOPNOTSUPP;                 /* built without liburing */
}

void zc__uring_release(zc_ctx *ctx)
{
    (void)ctx;
}

#else

#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Kernel ABI (Linux 6.2) that liburing 2.3's headers predate. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#define RING_ENTRIES 16
#define BLOCKING_WAIT_MS 5000
#define RELEASE_WAIT_MS 2000
/* user_data of the splice SQEs; SEND_ZC ones carry a (never small) pointer. */
#define UD_SPLICE_IN 1
#define UD_SPLICE_OUT 2

/* A mapped window and the SEND_ZC notifications it still waits for. */
struct uring_map {
    struct uring_map *next;
    void *addr;
    size_t len;
    int fd;                     /* the socket its sends went to */
    unsigned inflight;
    bool open;                  /* still being sent from */
};

/* One SEND_ZC, its user_data: freed once both of its CQEs were seen. */
struct uring_send {
    struct uring_send *prev, *next;
    struct uring_map *map;
    int32_t res;
    bool result_seen, notif_due, notif_seen, copied;
};

struct zc_uring {
    struct io_uring ring;
    bool ready;
    int refusal;                /* -EPERM/-ENOSYS from the first setup */
    bool no_report;             /* kernel without IORING_SEND_ZC_REPORT_USAGE */
    bool no_send_zc;            /* kernel without IORING_OP_SEND_ZC */
    /* Splice results of the current submission. */
    int32_t res_in, res_out;
    bool in_seen, out_seen;
    /* Result of the SEND_ZC being waited for (its record may be freed by
     * the time the wait ends, if the notification came along). */
    struct uring_send *cur_send;
    int32_t send_res;
    bool send_seen;
    /* Our own pipe for file -> socket splices (the splice method's pipe is
     * not ours). pipe_bytes > 0: it holds in_fd's bytes
     * [next_off - pipe_bytes, next_off) for the pair owner_in -> owner_out. */
    int pipe[2];
    size_t pipe_size, pipe_bytes;
    int owner_in, owner_out;
    off_t next_off;
    struct uring_map *maps;
    struct uring_send *sends;
};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void map_release(zc_ctx *ctx, struct zc_uring *u, struct uring_map *m)
{
    struct uring_map **pp = &u->maps;

    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next;
    zc__munmap(ctx, m->addr, m->len);
    free(m);
}

static void map_done_one(zc_ctx *ctx, struct zc_uring *u, struct uring_map *m)
{
    if (--m->inflight == 0 && !m->open)
        map_release(ctx, u, m);
}

static void send_free(struct zc_uring *u, struct uring_send *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        u->sends = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

/* A SEND_ZC is finished when its result came without IORING_CQE_F_MORE, or
 * when both the result and the notification came (in either order). */
static void send_maybe_finish(zc_ctx *ctx, struct zc_uring *u, struct uring_send *s)
{
    struct zc_method_stats *ms = &ctx->stats.method[ZC_URING];

    if (!s->result_seen || (s->notif_due && !s->notif_seen))
        return;
    if (s->notif_seen) {
        ms->zc_sent++;
        if (s->copied && s->res > 0)
            ms->zc_copied += (uint64_t)s->res;
    }
    map_done_one(ctx, u, s->map);
    send_free(u, s);
}

static void handle_cqe(zc_ctx *ctx, struct zc_uring *u, const struct io_uring_cqe *cqe)
{
    struct uring_send *s;

    if (cqe->user_data == UD_SPLICE_IN) {
        u->res_in = cqe->res;
        u->in_seen = true;
        return;
    }
    if (cqe->user_data == UD_SPLICE_OUT) {
        u->res_out = cqe->res;
        u->out_seen = true;
        return;
    }
    s = (struct uring_send *)(uintptr_t)cqe->user_data;
    if (cqe->flags & IORING_CQE_F_NOTIF) {
        s->notif_seen = true;
        s->copied = !u->no_report && (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED);
    } else {
        s->res = cqe->res;
        s->result_seen = true;
        if (s == u->cur_send) {
            u->send_res = cqe->res;
            u->send_seen = true;
            u->cur_send = NULL;
        }
        s->notif_due = cqe->flags & IORING_CQE_F_MORE;
    }
    send_maybe_finish(ctx, u, s);
}

/* Handle every CQE already in the ring; no syscall. */
static void drain(zc_ctx *ctx, struct zc_uring *u)
{
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0 && cqe) {
        handle_cqe(ctx, u, cqe);
        io_uring_cqe_seen(&u->ring, cqe);
    }
}

/* Submit what is queued and wait for one CQE: exactly one io_uring_enter. */
static int enter(zc_ctx *ctx, struct zc_uring *u)
{
    int ret;

    do {
        zc__count(ctx);
        ret = io_uring_submit_and_wait(&u->ring, 1);
    } while (ret == -EINTR);
    return ret < 0 ? ret : 0;
}

/* Submit, then handle CQEs until *@seen. Returns 0 or -errno of the enter. */
static int submit_until(zc_ctx *ctx, struct zc_uring *u, const bool *seen)
{
    for (;;) {
        int ret = enter(ctx, u);

        if (ret < 0)
            return ret;
        drain(ctx, u);
        if (*seen)
            return 0;
    }
}

/* Mappings still waiting for notifications: those of sends to @fd, or all
 * of them when @fd is -1. A blocking call waits only for its own socket,
 * not for slow peers of other (non-blocking) sockets sharing the ring. */
static bool inflight(const struct zc_uring *u, int fd)
{
    for (const struct uring_map *m = u->maps; m; m = m->next)
        if (fd < 0 || m->fd == fd)
            return true;
    return false;
}

/* Wait for outstanding notifications until @deadline. One io_uring_enter
 * with a timeout per wake-up (IORING_ENTER_EXT_ARG, Linux 5.11). */
static void wait_notifs(zc_ctx *ctx, struct zc_uring *u, int fd, long deadline)
{
    drain(ctx, u);
    while (inflight(u, fd)) {
        long left = deadline - now_ms();
        struct __kernel_timespec ts;
        struct io_uring_getevents_arg arg = { 0 };
        int ret;

        if (left <= 0 || !(u->ring.features & IORING_FEAT_EXT_ARG))
            break;
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000L;
        arg.ts = (uint64_t)(uintptr_t)&ts;
        zc__count(ctx);
        ret = io_uring_enter2((unsigned)u->ring.ring_fd, 0, 1,
                              IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                              (sigset_t *)&arg, sizeof(arg));
        if (ret < 0 && ret != -EINTR && ret != -ETIME)
            break;
        drain(ctx, u);
        if (ret == -ETIME)
            break;
    }
}

static int ring_get(zc_ctx *ctx, struct zc_uring **out)
{
    struct zc_uring *u = ctx->uring;
    int ret;

    if (!u) {
        u = calloc(1, sizeof(*u));
        if (!u)
            return -ENOMEM;
        u->pipe[0] = u->pipe[1] = -1;
        u->owner_in = u->owner_out = -1;
        ctx->uring = u;
    }
    if (u->refusal)
        return u->refusal;
    if (!u->ready) {
        /* io_uring_setup, then liburing maps the rings: 2 or 3 mmaps. */
        zc__count(ctx);
        ret = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
        if (ret < 0) {
            /* Disabled (sysctl kernel.io_uring_disabled, seccomp: EPERM)
             * or absent (ENOSYS) stays so: remember, refuse for good. */
            if (ret == -EPERM || ret == -ENOSYS || ret == -EACCES)
                u->refusal = ret == -EACCES ? -EPERM : ret;
            return ret == -EACCES ? -EPERM : ret;
        }
        ctx->stats.syscalls += (u->ring.features & IORING_FEAT_SINGLE_MMAP) ? 2 : 3;
        ctx->stats.method[ctx->cur].syscalls +=
            (u->ring.features & IORING_FEAT_SINGLE_MMAP) ? 2 : 3;
        u->ready = true;
    }
    *out = u;
    return 0;
}

static void pipe_close(zc_ctx *ctx, struct zc_uring *u)
{
    if (u->pipe[0] >= 0) {
        zc__close(ctx, u->pipe[0]);
        zc__close(ctx, u->pipe[1]);
    }
    u->pipe[0] = u->pipe[1] = -1;
    u->pipe_bytes = 0;
}

static int pipe_open(zc_ctx *ctx, struct zc_uring *u)
{
    if (u->pipe[0] >= 0)
        return 0;
    /* Sized as the splice method sizes its pipe (one rule, lib/pipe.c). */
    return zc__pipe_open_sized(ctx, u->pipe, &u->pipe_size);
}

static void queue_splice(struct zc_uring *u, int in, int64_t in_off, int out,
                         unsigned len, uint64_t tag, bool link)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

    /* The ring is drained before every submission, so an SQE is free. */
    io_uring_prep_splice(sqe, in, in_off, out, -1, len, 0);
    sqe->user_data = tag;
    if (link)
        sqe->flags |= IOSQE_IO_LINK;
}

/* file -> pipe: one IORING_OP_SPLICE per pipe-full. */
static ssize_t splice_to_pipe(zc_ctx *ctx, struct zc_uring *u, int out_fd,
                              int in_fd, off_t *off, size_t count)
{
    size_t done = 0;

    while (done < count) {
        unsigned len = (unsigned)ZC_MIN(count - done, ZC_MAX_RW_COUNT);
        int ret;

        queue_splice(u, in_fd, *off, out_fd, len, UD_SPLICE_IN, false);
        u->in_seen = false;
        ret = submit_until(ctx, u, &u->in_seen);
        if (ret < 0)
            return done ? (ssize_t)done : ret;
        if (u->res_in == 0)
            break;                      /* end of file */
        if (u->res_in < 0)
            return done ? (ssize_t)done : u->res_in;
        *off += u->res_in;
        done += (size_t)u->res_in;
    }
    return (ssize_t)done;
}

/* file -> socket (or anything splice writes) through our pipe: a linked
 * pair, in_fd -> pipe then pipe -> out_fd, per pipe-full. A short first
 * splice cancels the second (-ECANCELED); the pipe's bytes go out first in
 * the next round. */
static ssize_t splice_via_pipe(zc_ctx *ctx, struct zc_uring *u, int out_fd,
                               int in_fd, off_t *off, size_t count)
{
    size_t done = 0;
    int ret;

    if (u->pipe_bytes && (u->owner_in != in_fd || u->owner_out != out_fd ||
                          u->next_off - (off_t)u->pipe_bytes != *off))
        pipe_close(ctx, u);             /* held bytes of another stream */
    if ((ret = pipe_open(ctx, u)) < 0)
        return ret;
    u->owner_in = in_fd;
    u->owner_out = out_fd;

    while (done < count) {
        size_t len;

        if (u->pipe_bytes) {
            len = ZC_MIN(u->pipe_bytes, count - done);
            queue_splice(u, u->pipe[0], -1, out_fd, (unsigned)len, UD_SPLICE_OUT, false);
            u->out_seen = false;
            if ((ret = submit_until(ctx, u, &u->out_seen)) < 0)
                break;
            if (u->res_out <= 0) {
                ret = u->res_out ? u->res_out : -EIO;
                break;
            }
            u->pipe_bytes -= (size_t)u->res_out;
            *off += u->res_out;
            done += (size_t)u->res_out;
            continue;
        }
        len = ZC_MIN(count - done, u->pipe_size);
        queue_splice(u, in_fd, *off, u->pipe[1], (unsigned)len, UD_SPLICE_IN, true);
        queue_splice(u, u->pipe[0], -1, out_fd, (unsigned)len, UD_SPLICE_OUT, false);
        u->in_seen = u->out_seen = false;
        /* Both CQEs come: the second one cancelled if the first fell short. */
        while (!(u->in_seen && u->out_seen))
            if ((ret = submit_until(ctx, u, &u->out_seen)) < 0)
                goto out;
        if (u->res_in <= 0) {
            ret = u->res_in;            /* 0: end of file */
            break;
        }
        u->pipe_bytes = (size_t)u->res_in;
        u->next_off = *off + u->res_in;
        if (u->res_out > 0) {
            u->pipe_bytes -= (size_t)u->res_out;
            *off += u->res_out;
            done += (size_t)u->res_out;
        } else if (u->res_out != -ECANCELED) {
            ret = u->res_out ? u->res_out : -EIO;
            break;
        }
    }
out:
    if (ret < 0 && ret != -EAGAIN && u->pipe_bytes)
        pipe_close(ctx, u);             /* never reuse a pipe after an error */
    if (ret < 0 && !done)
        return ret;
    return (ssize_t)done;
}

/* One SEND_ZC of [p, p + len) from mapping @m; waits for its result CQE. */
static int send_zc_one(zc_ctx *ctx, struct zc_uring *u, struct uring_map *m,
                       int out_fd, const char *p, size_t len, bool nonblock,
                       int32_t *res)
{
    struct uring_send *s = calloc(1, sizeof(*s));
    struct io_uring_sqe *sqe;
    int ret;

    if (!s)
        return -ENOMEM;
    s->map = m;
    s->next = u->sends;
    if (u->sends)
        u->sends->prev = s;
    u->sends = s;
    m->inflight++;
    sqe = io_uring_get_sqe(&u->ring);
    /* io_uring ignores O_NONBLOCK on sockets and would wait for space:
     * MSG_DONTWAIT gives a non-blocking caller its -EAGAIN. */
    io_uring_prep_send_zc(sqe, out_fd, p, len,
                          MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0),
                          u->no_report ? 0 : IORING_SEND_ZC_REPORT_USAGE);
    sqe->user_data = (uint64_t)(uintptr_t)s;
    u->cur_send = s;
    u->send_seen = false;
    ret = submit_until(ctx, u, &u->send_seen);
    if (ret < 0) {
        u->cur_send = NULL;
        return ret;     /* s stays listed; zc__uring_release frees it */
    }
    *res = u->send_res;
    return 0;
}

static ssize_t send_zc(zc_ctx *ctx, struct zc_uring *u, int out_fd, int in_fd,
                       off_t *off, size_t count, off_t size, bool nonblock)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), done = 0;
    ssize_t ret = 0;
    bool stop = false;

    if (*off >= size)
        return 0;
    if (count > (uint64_t)(size - *off))
        count = (size_t)(size - *off);
    while (done < count && !stop) {
        off_t map_off = *off & ~(off_t)(page - 1);
        size_t skip = (size_t)(*off - map_off);
        size_t want = ZC_MIN(ctx->chunk, count - done), sent = 0;
        struct uring_map *m = calloc(1, sizeof(*m));
        int r;

        if (!m) {
            ret = -ENOMEM;
            break;
        }
        m->len = skip + want;
        m->fd = out_fd;
        r = zc__map_source(ctx, &m->addr, m->len, in_fd, map_off);
        if (r < 0) {
            free(m);
            ret = r;
            break;
        }
        m->open = true;
        m->next = u->maps;
        u->maps = m;
        while (sent < want) {
            int32_t res = 0;

            r = send_zc_one(ctx, u, m, out_fd, (char *)m->addr + skip + sent,
                            want - sent, nonblock, &res);
            if (r < 0) {
                ret = r;
                stop = true;
                break;
            }
            if (res > 0) {
                sent += (size_t)res;
                *off += res;
                continue;
            }
            if (res == -EINVAL && !u->no_report && !done && !sent) {
                u->no_report = true;    /* a kernel before 6.2: no usage report */
                continue;
            }
            if (res == -EFAULT) {
                /* A lost mapped page: a truncated source ends the transfer. */
                struct stat st;

                ret = zc__fstat(ctx, in_fd, &st);
                if (ret == 0 && st.st_size > *off)
                    ret = -EIO;
            } else {
                ret = res ? res : -EIO;
            }
            stop = true;
            break;
        }
        done += sent;
        m->open = false;
        if (m->inflight == 0)
            map_release(ctx, u, m);
    }
    if ((ret == -EINVAL || ret == -EOPNOTSUPP) && !done && u->no_report) {
        u->no_send_zc = true;           /* no SEND_ZC here: splice instead */
        return -EOPNOTSUPP;
    }
    if (ret < 0 && !done)
        return ret;
    return (ssize_t)done;
}


ssize_t zc__m_uring(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    struct stat in_st, out_st;
    struct zc_uring *u = NULL;
    bool nonblock;
    ssize_t ret;
    int fl, proto = 0;

    if (!off)
        return -EINVAL;
    if ((ret = zc__fstat(ctx, in_fd, &in_st)) < 0)
        return ret;
    if (!S_ISREG(in_st.st_mode))
        return -EINVAL;
    if ((ret = zc__fstat(ctx, out_fd, &out_st)) < 0)
        return ret;
    if (!S_ISFIFO(out_st.st_mode) && !S_ISSOCK(out_st.st_mode))
        return -EINVAL;
    if (S_ISSOCK(out_st.st_mode)) {
        socklen_t len = sizeof(proto);

        zc__count(ctx);
        if (getsockopt(out_fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
            return -errno;
    }
    if ((fl = zc__fcntl(ctx, out_fd, F_GETFL, 0)) < 0)
        return fl;
    nonblock = fl & O_NONBLOCK;
    if ((ret = ring_get(ctx, &u)) < 0)
        return ret;
    drain(ctx, u);                      /* collect earlier notifications */
    /* A file that reports size 0 is read to its end by splice (procfs files
     * included); otherwise stop at the size it has now. */
    if (in_st.st_size > 0) {
        if (*off >= in_st.st_size)
            return 0;
        if (count > (uint64_t)(in_st.st_size - *off))
            count = (size_t)(in_st.st_size - *off);
    }

    if (S_ISFIFO(out_st.st_mode)) {
        ret = splice_to_pipe(ctx, u, out_fd, in_fd, off, count);
    } else if (proto == IPPROTO_TCP && !u->no_send_zc) {
        if (in_st.st_size == 0) {
            ret = zc__probe_mappable(ctx, in_fd);
            if (ret == -EINVAL)         /* not mappable: splice reads it */
                ret = splice_via_pipe(ctx, u, out_fd, in_fd, off, count);
        } else {
            ret = send_zc(ctx, u, out_fd, in_fd, off, count, in_st.st_size, nonblock);
            if (ret == -EOPNOTSUPP && u->no_send_zc)
                ret = splice_via_pipe(ctx, u, out_fd, in_fd, off, count);
        }
    } else {
        ret = splice_via_pipe(ctx, u, out_fd, in_fd, off, count);
    }
    if (!nonblock && inflight(u, out_fd))
        wait_notifs(ctx, u, out_fd, now_ms() + BLOCKING_WAIT_MS);
    return ret;
}

void zc__uring_release(zc_ctx *ctx)
{
    struct zc_uring *u = ctx->uring;

    if (!u)
        return;
    if (u->ready) {
        if (inflight(u, -1))
            wait_notifs(ctx, u, -1, now_ms() + RELEASE_WAIT_MS);
        /* Closing the ring cancels what is left; the kernel keeps its own
         * references to pages still in flight, so unmapping is safe. */
        io_uring_queue_exit(&u->ring);
    }
    while (u->maps) {
        struct uring_map *m = u->maps;

        u->maps = m->next;
        zc__munmap(ctx, m->addr, m->len);
        free(m);
    }
    while (u->sends)
        send_free(u, u->sends);
    pipe_close(ctx, u);
    free(u);
    ctx->uring = NULL;
}

#endif /* ZC_HAVE_URING */
