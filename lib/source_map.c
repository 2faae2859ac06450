/* source_map.c - mapping a source file for the methods that send from a
 * mapping (mmap, msg_zerocopy, uring), with one errno rule (internal.h). */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int translate(int ret)
{
    if (ret == -EACCES)
        return -EBADF;                  /* in_fd not open for reading */
    if (ret == -ENODEV)
        return -EINVAL;                 /* no mmap here: another method can */
    return ret;
}

int zc__map_source(zc_ctx *ctx, void **addr, size_t len, int fd, off_t off)
{
    return translate(zc__mmap(ctx, addr, len, PROT_READ, MAP_SHARED, fd, off));
}

int zc__probe_mappable(zc_ctx *ctx, int fd)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *map;
    int ret = zc__map_source(ctx, &map, page, fd, 0);

    if (ret < 0)
        return ret;
    zc__munmap(ctx, map, page);
    return 0;
}
