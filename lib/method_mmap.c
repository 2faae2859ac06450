/* method_mmap.c - PLACEHOLDER until the method lands: refuses every pair. */
#include <errno.h>

#include "internal.h"

ssize_t zc__m_mmap(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    (void)ctx; (void)out_fd; (void)in_fd; (void)off; (void)count;
    return -EOPNOTSUPP;
}
