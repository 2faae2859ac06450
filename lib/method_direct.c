/* method_direct.c - user-space direct I/O: read the source with O_DIRECT
 * (the device DMAs straight into an aligned user buffer, bypassing and not
 * polluting the page cache), then write the wanted bytes out.
 *
 * A synchronous direct read leaves the disk idle while the sink is written
 * and the CPU idle while the disk reads. So the reads are queued ahead
 * (direct_queue.c: up to the ctx's depth in flight through io_uring) and
 * each buffer is written out as soon as it is complete and next in file
 * order, while the following reads proceed.
 *
 * O_DIRECT is a property of an open file description, and flipping it on the
 * caller's fd with F_SETFL would change the caller's other I/O. So the source
 * is opened again through /proc/self/fd/N for the duration of one call. The
 * reopened fd is not cached: a cache would keep a file open that the caller
 * believes closed, and would have to notice an fd number reused for another
 * file; an open + close pair per call is cheap next to direct reads. Reads
 * still in flight when the call returns hold their own reference to the file.
 *
 * Reads past the point where a non-blocking sink filled are kept for the
 * call that resumes there (same file, *offset inside the first held read),
 * like the splice method's pipe; any other call, error or end drops them.
 * Nothing is ever written from a held read that does not contain *offset,
 * and nothing past the file's current size: a file that shrank meanwhile is
 * cut where it ends now. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "direct_queue.h"

#define DIRECT_DEFAULT_ALIGN 4096u

static int statx_counted(zc_ctx *ctx, int fd, struct statx *stx)
{
    int ret;

    do {
        zc__count(ctx);
        ret = statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_DIOALIGN,
                    stx);
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? -errno : 0;
}

static int open_direct(zc_ctx *ctx, int fd)
{
    char path[32];
    int ret;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    do {
        zc__count(ctx);
        ret = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
    } while (ret < 0 && errno == EINTR);
    if (ret >= 0)
        return ret;
    /* A file system without direct I/O says EINVAL; without /proc we cannot
     * reopen at all. Both are refusals: ZC_AUTO falls back. */
    return errno == ENOENT ? -EINVAL : -errno;
}

static ssize_t write_out(zc_ctx *ctx, int out_fd, const char *buf, size_t len,
                         size_t *written)
{
    *written = 0;
    while (*written < len) {
        ssize_t n = zc__write(ctx, out_fd, buf + *written, len - *written);

        if (n < 0)
            return n;
        if (n == 0)
            return -EIO;
        *written += (size_t)n;
    }
    return 0;
}

/* Held reads are kept only for the same file and an *offset inside the
 * first of them; anything else is read again. */
static void keep_or_drop(zc_ctx *ctx, struct zc_dq *q, const struct statx *stx,
                         off_t off)
{
    uint64_t dev = ((uint64_t)stx->stx_dev_major << 32) | stx->stx_dev_minor;
    struct zc_dq_slot *h = zc__dq_head(q);
    uint64_t hdev, hino;

    zc__dq_owner(q, &hdev, &hino);
    if (h && (hdev != dev || hino != stx->stx_ino || off < h->base ||
              off >= h->base + (off_t)(h->done ? (h->res > 0 ? (size_t)h->res : 0)
                                               : h->len)))
        zc__dq_reset(ctx, q);
    zc__dq_set_owner(q, dev, stx->stx_ino);
}

/* Queue reads for every free slot, in file order from the last queued one
 * (or @off rounded down) up to @end_al. */
static void fill(zc_ctx *ctx, struct zc_dq *q, int dfd, off_t off, off_t end_al,
                 size_t align)
{
    struct zc_dq_slot *t = zc__dq_tail(q);
    off_t next = t ? t->base + (off_t)t->len : off & ~(off_t)(align - 1);

    while (zc__dq_room(q) && next < end_al) {
        size_t len = ZC_MIN(zc__dq_buf_size(q), (size_t)(end_al - next));

        zc__dq_push(ctx, q, dfd, next, len);
        next += (off_t)len;
    }
}

/* Write the head reads out in order until *off reaches @end. Returns 0, or
 * -errno (-EAGAIN: the sink is full, the reads stay held). */
static ssize_t pump(zc_ctx *ctx, struct zc_dq *q, int out_fd, int dfd, off_t *off,
                    off_t end, size_t align, size_t *done)
{
    off_t end_al = (end + (off_t)align - 1) & ~(off_t)(align - 1);

    while (*off < end) {
        struct zc_dq_slot *s;
        size_t written;
        off_t got_end;
        ssize_t ret;

        fill(ctx, q, dfd, *off, end_al, align);
        ret = zc__dq_wait_head(ctx, q);
        if (ret < 0)
            return ret;
        s = zc__dq_head(q);
        if (s->res < 0)
            return s->res;              /* EINVAL first: a refusal after all */
        got_end = s->base + s->res;
        if (got_end <= *off) {
            /* A read of this call found nothing at *off: the file ended
             * (it shrank). One held from an earlier call says nothing
             * about now: read again. */
            if (s->gen == zc__dq_gen(q))
                return 0;
            zc__dq_reset(ctx, q);
            continue;
        }
        ret = write_out(ctx, out_fd, s->buf + (*off - s->base),
                        (size_t)(ZC_MIN(got_end, end) - *off), &written);
        *off += (off_t)written;
        *done += written;
        if (ret < 0)
            return ret;
        if (*off >= got_end) {
            bool short_read = (size_t)s->res < s->len;

            zc__dq_pop(q);
            /* The file ended there when it was read: the reads queued after
             * it say nothing. Read again from *off (0 bytes: the end). */
            if (short_read && *off < end)
                zc__dq_reset(ctx, q);
        }
    }
    return 0;
}

ssize_t zc__m_direct(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    size_t align = DIRECT_DEFAULT_ALIGN, mem_align = DIRECT_DEFAULT_ALIGN;
    size_t done = 0;
    struct statx stx;
    struct zc_dq *q;
    off_t end;
    ssize_t ret;
    int fl, dfd;

    if (!off)
        return -EINVAL;
    ret = statx_counted(ctx, in_fd, &stx);
    if (ret < 0)
        return ret;
    if (!S_ISREG(stx.stx_mode))
        return -EINVAL;
    if (stx.stx_mask & STATX_DIOALIGN) {
        /* 0 means this file cannot do direct I/O at all. */
        if (!stx.stx_dio_offset_align || !stx.stx_dio_mem_align)
            return -EINVAL;
        align = stx.stx_dio_offset_align;
        mem_align = stx.stx_dio_mem_align;
        if (align & (align - 1) || mem_align & (mem_align - 1))
            return -EINVAL;
    }
    fl = zc__fcntl(ctx, in_fd, F_GETFL, 0);
    if (fl < 0)
        return fl;
    if ((fl & O_ACCMODE) == O_WRONLY)
        return -EBADF;                  /* the reopen would bypass the mode */
    if (stx.stx_size == 0) {
        /* Empty, or a pseudo-file (procfs) whose size says nothing: only
         * the reopen tells, and a refusal lets ZC_AUTO fall back. */
        dfd = (fl & O_DIRECT) ? in_fd : open_direct(ctx, in_fd);
        if (dfd < 0)
            return dfd;
        if (dfd != in_fd)
            zc__close(ctx, dfd);
        return 0;
    }
    if ((off_t)stx.stx_size <= *off)
        return 0;
    end = *off + (off_t)ZC_MIN(count, (uint64_t)((off_t)stx.stx_size - *off));

    ret = zc__dq_get(ctx, mem_align, align, &q);
    if (ret < 0)
        return ret;
    if (fl & O_DIRECT) {
        dfd = in_fd;                    /* already direct: read it as is */
    } else {
        dfd = open_direct(ctx, in_fd);
        if (dfd < 0)
            return dfd;
    }
    zc__dq_begin(q);
    keep_or_drop(ctx, q, &stx, *off);
    ret = pump(ctx, q, out_fd, dfd, off, end, align, &done);
    /* Held reads survive only a full sink, for the call that resumes. */
    if (ret != -EAGAIN)
        zc__dq_reset(ctx, q);
    if (dfd != in_fd)
        zc__close(ctx, dfd);
    if (ret < 0 && !done)
        return ret;
    return (ssize_t)done;
}
