/* sys.c - syscall wrappers: retry EINTR, return -errno, count every attempt.
 * Counting each attempt (EINTR retries included) keeps the stats exact: the
 * benchmark reports them as the syscalls a technique really issued. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define RETRY_EINTR(ctx, expr)                      \
    do {                                            \
        zc__count(ctx);                             \
        ret = (expr);                               \
    } while (ret < 0 && errno == EINTR);            \
    if (ret < 0 && errno == EPIPE)                  \
        (ctx)->saw_epipe = true

ssize_t zc__read(zc_ctx *ctx, int fd, void *buf, size_t len)
{
    ssize_t ret;

    RETRY_EINTR(ctx, read(fd, buf, len));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__pread(zc_ctx *ctx, int fd, void *buf, size_t len, off_t off)
{
    ssize_t ret;

    RETRY_EINTR(ctx, pread(fd, buf, len, off));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__write(zc_ctx *ctx, int fd, const void *buf, size_t len)
{
    ssize_t ret;

    RETRY_EINTR(ctx, write(fd, buf, len));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__send(zc_ctx *ctx, int fd, const void *buf, size_t len, int flags)
{
    ssize_t ret;

    RETRY_EINTR(ctx, send(fd, buf, len, flags | MSG_NOSIGNAL));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__sendfile(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t len)
{
    ssize_t ret;

    RETRY_EINTR(ctx, sendfile(out_fd, in_fd, off, ZC_MIN(len, ZC_MAX_RW_COUNT)));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__splice(zc_ctx *ctx, int in_fd, off_t *in_off, int out_fd,
                   off_t *out_off, size_t len, unsigned flags)
{
    ssize_t ret;

    RETRY_EINTR(ctx, splice(in_fd, in_off, out_fd, out_off,
                            ZC_MIN(len, ZC_MAX_RW_COUNT), flags));
    return ret < 0 ? -errno : ret;
}

ssize_t zc__copy_file_range(zc_ctx *ctx, int in_fd, off_t *in_off, int out_fd,
                            size_t len)
{
    ssize_t ret;

    RETRY_EINTR(ctx, copy_file_range(in_fd, in_off, out_fd, NULL,
                                     ZC_MIN(len, ZC_MAX_RW_COUNT), 0));
    return ret < 0 ? -errno : ret;
}

int zc__fstat(zc_ctx *ctx, int fd, struct stat *st)
{
    int ret;

    RETRY_EINTR(ctx, fstat(fd, st));
    return ret < 0 ? -errno : 0;
}

off_t zc__lseek(zc_ctx *ctx, int fd, off_t off, int whence)
{
    off_t ret;

    RETRY_EINTR(ctx, lseek(fd, off, whence));
    return ret < 0 ? -errno : ret;
}

int zc__fcntl(zc_ctx *ctx, int fd, int cmd, int arg)
{
    int ret;

    RETRY_EINTR(ctx, fcntl(fd, cmd, arg));
    return ret < 0 ? -errno : ret;
}

int zc__mmap(zc_ctx *ctx, void **addr, size_t len, int prot, int flags, int fd,
             off_t off)
{
    void *p;

    zc__count(ctx);
    p = mmap(NULL, len, prot, flags, fd, off);
    if (p == MAP_FAILED)
        return -errno;
    *addr = p;
    return 0;
}

int zc__munmap(zc_ctx *ctx, void *addr, size_t len)
{
    zc__count(ctx);
    return munmap(addr, len) < 0 ? -errno : 0;
}

int zc__pipe(zc_ctx *ctx, int fd[2], int flags)
{
    zc__count(ctx);
    return pipe2(fd, O_CLOEXEC | flags) < 0 ? -errno : 0;
}

/* close() is never retried on EINTR: on Linux the fd is gone either way. */
int zc__close(zc_ctx *ctx, int fd)
{
    zc__count(ctx);
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}
