/* method_splice.c - splice(2): pages move between fds by reference, through a
 * pipe. When either side is a pipe the bytes go straight across; otherwise
 * they go through the ctx's own pipe (in -> pipe -> out), created on first use,
 * sized once, and reused while it is empty or holds bytes for the same stream.
 *
 * Flags: SPLICE_F_MORE is set on a pipe -> socket step when this call will
 * certainly send more right after (the source is a file and the last fill was
 * full): the socket then coalesces segments as with MSG_MORE. It is never set
 * on the last step, where it would leave a partial segment corked. SPLICE_F_MOVE
 * is not used: since Linux 2.6.21 the kernel ignores it (pages are never
 * stolen from the pipe), so it would only suggest a saving that does not exist.
 * SPLICE_F_NONBLOCK is not used either: blocking follows out_fd's own
 * O_NONBLOCK, as with write(2), and the ctx pipe is never spliced into while
 * it holds bytes or out of while it is empty, so it cannot block us. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "internal.h"

static void pipe_close(zc_ctx *ctx)
{
    struct zc_splice_pipe *p = &ctx->pipe;

    for (int i = 0; i < 2; i++) {
        if (p->fd[i] >= 0)
            zc__close(ctx, p->fd[i]);
        p->fd[i] = -1;
    }
    p->size = 0;
    p->bytes = 0;
    p->owner_in = p->owner_out = -1;
    p->next_off = -1;
}

static int pipe_open(zc_ctx *ctx)
{
    struct zc_splice_pipe *p = &ctx->pipe;

    return zc__pipe_open_sized(ctx, p->fd, &p->size);
}

/* Held bytes are the next bytes of exactly one stream: the same fds, and for
 * a file source the offset the caller resumes from. */
static bool pipe_held_for(const struct zc_splice_pipe *p, int out_fd, int in_fd,
                          const off_t *off)
{
    if (p->owner_in != in_fd || p->owner_out != out_fd)
        return false;
    if (!off)
        return p->next_off == -1;
    return p->next_off - (off_t)p->bytes == *off;
}

/* Either side is a pipe: one splice per step, no ctx pipe. Returns -EINVAL
 * with nothing moved when neither side is a pipe (or a side cannot splice);
 * the kernel checks that before it consumes anything. */
static ssize_t splice_direct(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                             size_t count)
{
    size_t done = 0;

    while (done < count) {
        ssize_t n = zc__splice(ctx, in_fd, off, out_fd, NULL, count - done, 0);

        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == 0)             /* end of file, or a pipe with no writer left */
            break;
        return done ? (ssize_t)done : n;
    }
    return (ssize_t)done;
}

/* A stream source (no offset) is consumed as it is read: before any of it
 * goes into the ctx pipe, out_fd must be known to take splice writes, or
 * bytes would be stuck where no method can deliver them. A socket source may
 * go to a socket or a file opened without O_APPEND; anything else is refused
 * and ZC_AUTO moves it with read/write. */
static ssize_t check_stream_pair(zc_ctx *ctx, int out_fd, int in_fd)
{
    enum zc_kind in_kind = ctx->kind_in, out_kind = ctx->kind_out;
    struct stat st;
    int ret, fl;

    if (!ctx->kinds_known) {
        ret = zc__fstat(ctx, in_fd, &st);
        if (ret < 0)
            return ret;
        in_kind = zc__kind(st.st_mode);
    }
    /* A pipe source failed the direct splice: out_fd refuses splice. */
    if (in_kind != ZC_KIND_SOCKET)
        return -EINVAL;
    if (!ctx->kinds_known) {
        ret = zc__fstat(ctx, out_fd, &st);
        if (ret < 0)
            return ret;
        out_kind = zc__kind(st.st_mode);
    }
    switch (out_kind) {
    case ZC_KIND_SOCKET:
        return 0;
    case ZC_KIND_FILE:
        fl = zc__fcntl(ctx, out_fd, F_GETFL, 0);
        if (fl < 0)
            return fl;
        if ((fl & O_ACCMODE) == O_RDONLY)
            return -EBADF;
        return (fl & O_APPEND) ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

/* in -> ctx pipe -> out. Bytes left in the pipe when out_fd would block stay
 * there, owned by this stream; *off only ever counts bytes out_fd took. */
static ssize_t splice_via_pipe(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                               size_t count)
{
    struct zc_splice_pipe *p = &ctx->pipe;
    size_t done = 0;
    bool full = false;
    ssize_t ret;

    if (p->fd[0] < 0) {
        ret = pipe_open(ctx);
        if (ret < 0)
            return ret;
    }
    while (done < count) {
        unsigned flags = 0;
        size_t len;
        ssize_t n;

        if (p->bytes == 0) {
            size_t want = ZC_MIN(count - done, p->size);
            off_t rd = off ? *off : 0;

            n = zc__splice(ctx, in_fd, off ? &rd : NULL, p->fd[1], NULL,
                           want, 0);
            if (n == 0)
                break;
            if (n < 0)
                return done ? (ssize_t)done : n;
            p->bytes = (size_t)n;
            p->owner_in = in_fd;
            p->owner_out = out_fd;
            p->next_off = off ? rd : -1;
            full = (size_t)n == want;
        }
        /* Held bytes from an earlier call may exceed what this one asks. */
        len = ZC_MIN(p->bytes, count - done);
        if (off && full && done + len < count)
            flags |= SPLICE_F_MORE;
        n = zc__splice(ctx, p->fd[0], NULL, out_fd, NULL, len, flags);
        if (n > 0) {
            p->bytes -= (size_t)n;
            done += (size_t)n;
            if (off)
                *off += (off_t)n;
            continue;
        }
        if (n == -EAGAIN)
            return done ? (ssize_t)done : n;
        /* The held bytes can never reach out_fd now: a file source reads
         * them again from *off; for a stream they are lost with the error.
         * Either way this pipe is never reused with bytes in it. */
        pipe_close(ctx);
        if (n == 0)
            n = -EIO;           /* splice from a non-empty pipe cannot say 0 */
        return done ? (ssize_t)done : n;
    }
    return (ssize_t)done;
}

ssize_t zc__m_splice(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    struct zc_splice_pipe *p = &ctx->pipe;
    ssize_t ret;

    if (p->bytes) {
        if (pipe_held_for(p, out_fd, in_fd, off))
            return splice_via_pipe(ctx, out_fd, in_fd, off, count);
        /* Another stream, or the caller moved the offset: the held bytes are
         * not the next bytes of this one. Closing is cheaper and safer than
         * draining (out_fd may be gone). */
        pipe_close(ctx);
    }

    /* The pipe last served this same pair, so neither side is a pipe: skip
     * the probe. Only for a file source, where a wrong guess (the fd numbers
     * now name other files) is harmless: file -> ctx pipe -> out serves any
     * out_fd a direct splice would, and refuses the same ones. */
    if (off && p->fd[0] >= 0 && p->owner_in == in_fd && p->owner_out == out_fd)
        return splice_via_pipe(ctx, out_fd, in_fd, off, count);

    /* ZC_AUTO knows when neither side is a pipe: the direct splice would
     * only answer EINVAL. */
    if (!ctx->kinds_known || ctx->kind_in == ZC_KIND_PIPE ||
        ctx->kind_out == ZC_KIND_PIPE) {
        ret = splice_direct(ctx, out_fd, in_fd, off, count);
        if (ret != -EINVAL)
            return ret;
    }
    if (!off) {
        ret = check_stream_pair(ctx, out_fd, in_fd);
        if (ret < 0)
            return ret;
    }
    return splice_via_pipe(ctx, out_fd, in_fd, off, count);
}

void zc__splice_release(zc_ctx *ctx)
{
    pipe_close(ctx);
}
