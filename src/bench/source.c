/* source.c - the file every transfer reads: created in --dir, filled with
 * incompressible bytes, synced (so --cold can evict it and no writeback runs
 * during a measurement), and removed at exit or on a fatal signal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* Static so the signal handler can unlink it without allocating. */
static char source_path[512];

void bench_source_remove(void)
{
    if (source_path[0]) {
        unlink(source_path);
        source_path[0] = '\0';
    }
}

static void fill_block(uint64_t *block, size_t words, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;

    for (size_t i = 0; i < words; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        block[i] = x;
    }
}

int bench_source_create(const char *dir, uint64_t size, char *path, size_t path_len)
{
    const size_t block_len = (size_t)1 << 20;
    uint64_t *block = malloc(block_len), done = 0;
    int fd, ret;

    if (!block)
        return -ENOMEM;
    snprintf(source_path, sizeof(source_path), "%s/zcopy-bench-src.%ld", dir,
             (long)getpid());
    fd = open(source_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        ret = -errno;
        source_path[0] = '\0';
        free(block);
        return ret;
    }
    while (done < size) {
        size_t n = size - done < block_len ? (size_t)(size - done) : block_len;
        ssize_t w;

        fill_block(block, block_len / 8, done / block_len + 1);
        w = pwrite(fd, block, n, (off_t)done);
        if (w <= 0) {
            ret = w < 0 ? -errno : -EIO;
            goto fail;
        }
        done += (uint64_t)w;
    }
    if (fdatasync(fd) < 0) {
        ret = -errno;
        goto fail;
    }
    free(block);
    snprintf(path, path_len, "%s", source_path);
    return fd;

fail:
    close(fd);
    bench_source_remove();
    free(block);
    return ret;
}
