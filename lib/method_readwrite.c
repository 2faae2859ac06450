/* method_readwrite.c - the traditional path: read into a user buffer, write it
 * out. Two CPU copies and two syscalls per chunk; serves any fd pair, so it
 * ends every ZC_AUTO chain. */
#include <errno.h>

#include "internal.h"

/* Write buf[0, len) to out_fd; *written reports how much went out. Returns 0
 * when all went, or the -errno (-EAGAIN included) that stopped it. */
static ssize_t write_all(zc_ctx *ctx, int out_fd, const char *buf, size_t len,
                         size_t *written)
{
    *written = 0;
    while (*written < len) {
        ssize_t n = zc__write(ctx, out_fd, buf + *written, len - *written);

        if (n < 0)
            return n;
        if (n == 0)
            return -EIO;        /* write(2) of a non-empty buffer cannot say 0 */
        *written += (size_t)n;
    }
    return 0;
}

/* A non-seekable source's bytes that out_fd refused last time are written
 * before anything new is read; they belong to that exact fd pair. */
static ssize_t flush_pending(zc_ctx *ctx, int out_fd, int in_fd, size_t count,
                             size_t *done)
{
    struct zc_rw_pending *p = &ctx->rw_pending;
    size_t len, written;
    ssize_t ret;

    *done = 0;
    if (!p->len)
        return 0;
    if (p->owner_in != in_fd || p->owner_out != out_fd) {
        /* Another stream: the held bytes have no one left to go to. */
        p->len = 0;
        return 0;
    }
    len = ZC_MIN(p->len, count);
    ret = write_all(ctx, out_fd, (char *)ctx->buf + p->start, len, &written);
    p->start += written;
    p->len -= written;
    *done = written;
    return ret;
}

ssize_t zc__m_readwrite(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                        size_t count)
{
    char *buf = zc__buf(ctx);
    size_t done = 0;
    ssize_t ret;

    if (!buf)
        return -ENOMEM;
    if (!off) {
        ret = flush_pending(ctx, out_fd, in_fd, count, &done);
        if (ret < 0)
            return done ? (ssize_t)done : ret;
    }

    while (done < count) {
        size_t want = ZC_MIN(ctx->chunk, count - done), written;
        ssize_t n;

        n = off ? zc__pread(ctx, in_fd, buf, want, *off)
                : zc__read(ctx, in_fd, buf, want);
        if (n == 0)
            break;
        if (n < 0)
            return done ? (ssize_t)done : n;

        ret = write_all(ctx, out_fd, buf, (size_t)n, &written);
        done += written;
        if (off)
            *off += (off_t)written;     /* the rest is read again next time */
        else if (written < (size_t)n)
            ctx->rw_pending = (struct zc_rw_pending){
                .owner_in = in_fd, .owner_out = out_fd,
                .start = written, .len = (size_t)n - written };
        if (ret < 0)
            return done ? (ssize_t)done : ret;
    }
    return (ssize_t)done;
}
