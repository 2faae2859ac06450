/* method_readwrite.c - the traditional path: read into a user buffer, write it
 * out. Two CPU copies and two syscalls per chunk; serves any fd pair, so it
 * ends every ZC_AUTO chain. */
#include <errno.h>
#include <stdlib.h>

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
static ssize_t flush_pending(zc_ctx *ctx, int out_fd, size_t count, size_t *done)
{
    struct zc_rw_pending *p = &ctx->rw_pending;
    size_t len, written;
    ssize_t ret;

    len = ZC_MIN(p->len, count);
    ret = write_all(ctx, out_fd, (char *)ctx->buf + p->start, len, &written);
    p->start += written;
    p->len -= written;
    *done = written;
    return ret;
}

/* The buffer this call reads into. Another pair's held bytes live in
 * ctx->buf: reading over them would hand that stream someone else's bytes
 * when it resumes, so this call uses the spare buffer instead. */
static char *pick_buf(zc_ctx *ctx, bool *spare)
{
    *spare = ctx->rw_pending.len > 0;
    if (!*spare)
        return zc__buf(ctx);
    if (!ctx->buf_spare)
        ctx->buf_spare = malloc(ctx->chunk);
    return ctx->buf_spare;
}

/* This call leaves bytes of its own stream held: they are in the spare
 * buffer when another stream's were held already. A ctx holds one stream's
 * bytes at a time (docs/METHODS.md): the older stream's are dropped. */
static void hold(zc_ctx *ctx, bool spare, int out_fd, int in_fd, size_t start,
                 size_t len)
{
    if (spare) {
        void *t = ctx->buf;

        ctx->buf = ctx->buf_spare;
        ctx->buf_spare = t;
    }
    ctx->rw_pending = (struct zc_rw_pending){
        .owner_in = in_fd, .owner_out = out_fd, .start = start, .len = len };
}

ssize_t zc__m_readwrite(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                        size_t count)
{
    struct zc_rw_pending *p = &ctx->rw_pending;
    size_t done = 0;
    bool spare;
    ssize_t ret;
    char *buf;

    if (!off && p->len && p->owner_in == in_fd && p->owner_out == out_fd) {
        ret = flush_pending(ctx, out_fd, count, &done);
        if (ret < 0)
            return done ? (ssize_t)done : ret;
        if (done == count)
            return (ssize_t)done;
    }
    buf = pick_buf(ctx, &spare);
    if (!buf)
        return done ? (ssize_t)done : -ENOMEM;

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
            hold(ctx, spare, out_fd, in_fd, written, (size_t)n - written);
        if (ret < 0)
            return done ? (ssize_t)done : ret;
    }
    return (ssize_t)done;
}
