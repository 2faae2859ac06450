/* method_mmap.c - map a window of the source and write(2) from the mapping:
 * one CPU copy (mapping -> sink) instead of readwrite's two, at the price of
 * an mmap + munmap per window. The library never reads the mapped pages
 * itself: only the kernel does, inside write(2), where a page lost to a
 * concurrent truncation turns into EFAULT instead of SIGBUS. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* The file shrank under us if it now ends before @pos, the first byte the
 * kernel could not read from the mapping. Returns 1 if it did, 0 if not,
 * or the -errno of fstat. */
static int source_shrank(zc_ctx *ctx, int in_fd, off_t pos)
{
    struct stat st;
    int ret = zc__fstat(ctx, in_fd, &st);

    if (ret < 0)
        return ret;
    return st.st_size <= pos;
}

ssize_t zc__m_mmap(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t count)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t done = 0;
    struct stat st;
    ssize_t ret;

    if (!off)
        return -EINVAL;                 /* pipes and sockets cannot be mapped */
    ret = zc__fstat(ctx, in_fd, &st);
    if (ret < 0)
        return ret;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (st.st_size == 0)
        return zc__probe_mappable(ctx, in_fd);   /* empty, or a pseudo-file */
    if (*off >= st.st_size)
        return 0;
    /* Never map past the end of file as it was: those pages cannot be read. */
    if (count > (uint64_t)(st.st_size - *off))
        count = (size_t)(st.st_size - *off);

    while (done < count) {
        off_t map_off = *off & ~(off_t)(page - 1);
        size_t skip = (size_t)(*off - map_off);
        size_t want = ZC_MIN(ctx->chunk, count - done);
        size_t sent = 0;
        void *map;

        ret = zc__map_source(ctx, &map, skip + want, in_fd, map_off);
        if (ret < 0)
            return done ? (ssize_t)done : ret;
        ret = 0;
        while (sent < want) {
            ssize_t n = zc__write(ctx, out_fd, (char *)map + skip + sent,
                                  want - sent);

            if (n > 0) {
                sent += (size_t)n;
                *off += n;
                continue;
            }
            if (n == 0)
                n = -EIO;               /* write(2) of a non-empty buffer */
            if (n == -EFAULT) {
                /* The kernel lost a mapped page: truncation ends the
                 * transfer at what already went out; anything else is an
                 * I/O error, never a signal. */
                int shrank = source_shrank(ctx, in_fd, *off);

                n = shrank < 0 ? shrank : shrank ? 0 : -EIO;
            }
            ret = n;
            break;
        }
        zc__munmap(ctx, map, skip + want);
        done += sent;
        if (ret == 0 && sent < want)
            break;                      /* truncated: a short count */
        if (ret < 0)
            return done ? (ssize_t)done : ret;
    }
    return (ssize_t)done;
}
