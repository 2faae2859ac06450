/* method_direct.c - user-space direct I/O: read the source with O_DIRECT
 * (the device DMAs straight into an aligned user buffer, bypassing and not
 * polluting the page cache), then write the wanted bytes out.
 *
 * O_DIRECT is a property of an open file description, and flipping it on the
 * caller's fd with F_SETFL would change the caller's other I/O. So the source
 * is opened again through /proc/self/fd/N for the duration of one call. The
 * reopened fd is not cached: a cache would keep a file open that the caller
 * believes closed, and would have to notice an fd number reused for another
 * file; an open + close pair per call is cheap next to direct reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

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

/* The aligned buffer, at least ctx->chunk bytes (a multiple of @align). */
static void *direct_buf(zc_ctx *ctx, size_t mem_align, size_t align)
{
    size_t want = (ctx->chunk + align - 1) / align * align;
    void *p;

    if (mem_align < DIRECT_DEFAULT_ALIGN)
        mem_align = DIRECT_DEFAULT_ALIGN;
    if (ctx->dbuf && ctx->dbuf_size == want &&
        ((uintptr_t)ctx->dbuf & (mem_align - 1)) == 0)
        return ctx->dbuf;
    free(ctx->dbuf);
    ctx->dbuf = NULL;
    ctx->dbuf_size = 0;
    if (posix_memalign(&p, mem_align, want) != 0)
        return NULL;
    ctx->dbuf = p;
    ctx->dbuf_size = want;
    return p;
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

ssize_t zc__m_direct(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    size_t align = DIRECT_DEFAULT_ALIGN, mem_align = DIRECT_DEFAULT_ALIGN;
    size_t done = 0;
    struct statx stx;
    off_t end;
    ssize_t ret;
    char *buf;
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

    buf = direct_buf(ctx, mem_align, align);
    if (!buf)
        return -ENOMEM;
    if (fl & O_DIRECT) {
        dfd = in_fd;                    /* already direct: read it as is */
    } else {
        dfd = open_direct(ctx, in_fd);
        if (dfd < 0)
            return dfd;
    }

    ret = 0;
    while (*off < end) {
        off_t base = *off & ~(off_t)(align - 1);
        size_t skip = (size_t)(*off - base);
        size_t want = ZC_MIN(ctx->dbuf_size,
                             ((size_t)(end - base) + align - 1) & ~(align - 1));
        size_t avail, written;
        ssize_t n;

        n = zc__pread(ctx, dfd, buf, want, base);
        if (n < 0) {
            /* EINVAL on the first read: alignment the file system did not
             * announce, or no direct I/O after all. A refusal. */
            ret = n;
            break;
        }
        if ((size_t)n <= skip)
            break;                      /* the file shrank: end of input */
        avail = ZC_MIN((size_t)n - skip, (size_t)(end - *off));
        ret = write_out(ctx, out_fd, buf + skip, avail, &written);
        *off += (off_t)written;
        done += written;
        if (ret < 0)
            break;
    }
    if (dfd != in_fd)
        zc__close(ctx, dfd);
    if (ret < 0 && !done)
        return ret;
    return (ssize_t)done;
}
