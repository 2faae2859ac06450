/* copy_data.h - copy a regular file's bytes into another: FICLONE when asked,
 * else the data extents only (SEEK_DATA/SEEK_HOLE) by zc_transfer
 * (copy_file_range under ZC_AUTO), so holes stay holes. */
#ifndef ZC_COPY_DATA_H
#define ZC_COPY_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "client/progress.h"
#include "zcopy.h"

enum zc_reflink { ZC_REFLINK_NEVER, ZC_REFLINK_AUTO, ZC_REFLINK_ALWAYS };

struct zc_copy {
    zc_ctx *ctx;
    enum zc_method method;
    enum zc_reflink reflink;
    int src, dst;                   /* borrowed; dst empty, opened for writing */
    bool stream;                    /* dst is a device, FIFO or socket: every
                                     * byte in order, no seek, no resize */
    uint64_t size;                  /* the source's size */
    struct zc_progress *progress;   /* may be NULL */
    /* Results. */
    bool cloned;                    /* FICLONE shared all extents */
    int clone_error;                /* why FICLONE failed (0: not tried or ok) */
    uint64_t data_bytes;            /* bytes copied from data extents */
    unsigned extents;
};

/* zc_copy_data - fill c->dst with c->src's bytes, then size it to c->size.
 * Checks zc_interrupted between steps.
 * Return: 0; -EINTR when interrupted; -ESTALE when the source shrank during
 * the copy; c->clone_error when reflink is ALWAYS and FICLONE failed; other
 * -errno from the calls. */
int zc_copy_data(struct zc_copy *c);

#endif /* ZC_COPY_DATA_H */
