/* pipe.c - the sized pipe splice and uring move bytes through (internal.h). */
#include <errno.h>
#include <fcntl.h>

#include "internal.h"

#define PIPE_MIN ((size_t)4096)

int zc__pipe_open_sized(zc_ctx *ctx, int fd[2], size_t *size)
{
    size_t want = ZC_MIN(ctx->pipe_want, (size_t)1 << 30);
    int ret;

    ret = zc__pipe(ctx, fd, 0);
    if (ret < 0) {
        fd[0] = fd[1] = -1;
        return ret;
    }
    for (;;) {
        ret = zc__fcntl(ctx, fd[1], F_SETPIPE_SZ, (int)want);
        if (ret >= 0 || (ret != -EPERM && ret != -ENOMEM) || want <= PIPE_MIN)
            break;
        want /= 2;
    }
    if (ret < 0)
        ret = zc__fcntl(ctx, fd[1], F_GETPIPE_SZ, 0);
    if (ret <= 0) {
        zc__close(ctx, fd[0]);
        zc__close(ctx, fd[1]);
        fd[0] = fd[1] = -1;
        return ret < 0 ? ret : -EIO;
    }
    *size = (size_t)ret;
    return 0;
}
