/* ctx.c - the per-thread context: creation, options, statistics, teardown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

ZC_EXPORT zc_ctx *zc_ctx_new(void)
{
    zc_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        return NULL;
    ctx->chunk = ZC_DEFAULT_CHUNK;
    ctx->pipe_want = ZC_DEFAULT_PIPE;
    ctx->direct_depth = ZC_DIRECT_DEFAULT_DEPTH;
    ctx->direct_buf = ZC_DIRECT_DEFAULT_BUF;
    ctx->pipe.fd[0] = ctx->pipe.fd[1] = -1;
    ctx->pipe.owner_in = ctx->pipe.owner_out = -1;
    ctx->rw_pending.owner_in = ctx->rw_pending.owner_out = -1;
    return ctx;
}

ZC_EXPORT void zc_ctx_free(zc_ctx *ctx)
{
    if (!ctx)
        return;
    /* Zero-copy completions first: their mappings must outlive the sends. */
    zc__msgzc_release(ctx);
    zc__uring_release(ctx);
    zc__splice_release(ctx);
    zc__direct_release(ctx);
    free(ctx->buf);
    free(ctx->buf_spare);
    free(ctx);
}

ZC_EXPORT int zc_ctx_set_flags(zc_ctx *ctx, unsigned flags)
{
    if (!ctx || (flags & ~(unsigned)(ZC_VERIFY_SOURCE | ZC_SIGPIPE_HANDLED)))
        return -EINVAL;
    ctx->flags = flags;
    return 0;
}

ZC_EXPORT unsigned zc_ctx_flags(const zc_ctx *ctx)
{
    return ctx ? ctx->flags : 0;
}

ZC_EXPORT int zc_ctx_set_chunk(zc_ctx *ctx, size_t bytes)
{
    if (!ctx || bytes == 0 || bytes > ZC_MAX_CHUNK)
        return -EINVAL;
    /* The held bytes of a non-seekable source live in the old buffer. */
    if (ctx->rw_pending.len)
        return -EBUSY;
    bytes = (bytes + 4095) & ~(size_t)4095;
    if (bytes != ctx->chunk) {
        free(ctx->buf);
        free(ctx->buf_spare);
        ctx->buf = ctx->buf_spare = NULL;
        ctx->chunk = bytes;
    }
    return 0;
}

ZC_EXPORT int zc_ctx_set_pipe_size(zc_ctx *ctx, size_t bytes)
{
    if (!ctx || bytes == 0 || bytes > ((size_t)1 << 31))
        return -EINVAL;
    ctx->pipe_want = bytes;
    return 0;
}

ZC_EXPORT int zc_ctx_set_direct_depth(zc_ctx *ctx, unsigned depth)
{
    if (!ctx || depth == 0 || depth > ZC_DIRECT_MAX_DEPTH)
        return -EINVAL;
    ctx->direct_depth = depth;      /* the queue is rebuilt by the next call */
    return 0;
}

ZC_EXPORT int zc_ctx_set_direct_buf(zc_ctx *ctx, size_t bytes)
{
    if (!ctx || bytes == 0 || bytes > ZC_MAX_CHUNK)
        return -EINVAL;
    ctx->direct_buf = (bytes + 4095) & ~(size_t)4095;
    return 0;
}

ZC_EXPORT void zc_ctx_stats(const zc_ctx *ctx, struct zc_stats *out)
{
    if (!ctx || !out)
        return;
    *out = ctx->stats;
}

ZC_EXPORT void zc_ctx_stats_reset(zc_ctx *ctx)
{
    if (ctx)
        memset(&ctx->stats, 0, sizeof(ctx->stats));
}

ZC_EXPORT const char *zc_version(void)
{
    return ZC_VERSION_STRING;
}

void *zc__buf(zc_ctx *ctx)
{
    if (!ctx->buf)
        ctx->buf = malloc(ctx->chunk);
    return ctx->buf;
}
