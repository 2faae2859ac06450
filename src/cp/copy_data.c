/* copy_data.c - see copy_data.h. */
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client/client.h"
#include "cp/copy_data.h"

#define STEP ((size_t)16 << 20)         /* per zc_transfer: progress, interrupts */

static int try_clone(struct zc_copy *c)
{
    zc_client_syscalls++;
    if (ioctl(c->dst, FICLONE, c->src) == 0) {
        c->cloned = true;
        c->data_bytes = c->size;
        return 0;
    }
    c->clone_error = -errno;
    return c->clone_error;
}

/* Copy [start, end) of the source to the same offsets of the destination. */
static int copy_extent(struct zc_copy *c, off_t start, off_t end)
{
    off_t off = start;

    if (!c->stream) {
        zc_client_syscalls++;
        if (lseek(c->dst, start, SEEK_SET) < 0)
            return -errno;
    }
    c->extents++;
    while (off < end) {
        uint64_t left = (uint64_t)(end - off);
        ssize_t n;

        if (zc_interrupted)
            return -EINTR;
        n = zc_transfer(c->ctx, c->dst, c->src, &off, left < STEP ? (size_t)left : STEP,
                        c->method);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -ESTALE;             /* the source ended early: it shrank */
        if (c->method == ZC_AUTO) {
            /* Same two files from here on: keep what AUTO found working and
             * spare its fstat of both fds on every later call. */
            enum zc_method m;

            if (zc_method_choose(c->ctx, c->dst, c->src, &m) == 0)
                c->method = m;
        }
        c->data_bytes += (uint64_t)n;
        if (c->progress)
            zc_progress_update(c->progress, (uint64_t)off);
    }
    return 0;
}

int zc_copy_data(struct zc_copy *c)
{
    off_t off = 0, size = (off_t)c->size;
    int ret;

    if (c->reflink != ZC_REFLINK_NEVER && c->size > 0) {
        ret = try_clone(c);
        if (ret == 0 || c->reflink == ZC_REFLINK_ALWAYS)
            return ret;
    }
    if (c->stream) {
        /* Holes are bytes too for a device or a reader: send them all. */
        ret = size ? copy_extent(c, 0, size) : 0;
        return ret == 0 && zc_interrupted ? -EINTR : ret;
    }
    while (off < size) {
        off_t data, hole;

        zc_client_syscalls++;
        data = lseek(c->src, off, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break;                  /* only a hole is left */
            if (errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;
            data = off;                 /* no hole support: all of it is data */
            hole = size;
        } else {
            zc_client_syscalls++;
            hole = lseek(c->src, data, SEEK_HOLE);
            if (hole < 0 || hole > size)
                hole = size;
        }
        if (data >= size)
            break;
        ret = copy_extent(c, data, hole);
        if (ret < 0)
            return ret;
        off = hole;
    }
    if (zc_interrupted)
        return -EINTR;
    /* The trailing hole (and a file that is all hole) gets its size here. */
    zc_client_syscalls++;
    if (ftruncate(c->dst, size) < 0)
        return -errno;
    return 0;
}
