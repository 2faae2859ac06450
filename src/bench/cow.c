/* cow.c - copy-on-write, measured for `zcopy bench --fanout`.
 *
 * In memory, per slice of the message size:
 *   - zc_pool_rewrite of a sent (frozen) slice and writing it again: hole
 *     punch, then fresh pages as the bytes are written (by zc_pool_write,
 *     and through the pointer), the pool's way of writing without touching
 *     bytes in flight;
 *   - the kernel's own COW: write faults on a MAP_PRIVATE mapping of the
 *     same memfd pages (each fault copies a page);
 *   - a memcpy of the slice: what copying before every write would cost.
 * In the file system (root only): a file copied by FICLONE (reflink: blocks
 * shared until written), by copy_file_range and by read/write, on an XFS
 * image with reflink=1 mounted on a loop device; FIEMAP then says how much
 * of each copy shares its blocks with the source (FIEMAP_EXTENT_SHARED) and
 * how much has blocks of its own. XFS may serve copy_file_range by reflink
 * too: the shared figure says whether it did. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MEM_ROUNDS 2000
#define MEM_BUDGET_S 0.5
#define FS_FILE ((uint64_t)64 << 20)
#define FS_IMAGE "400M"
#define FIEMAP_BATCH 64
#define FS_ROUNDS 3

static char mount_dir[512];
static char image_path[512];

void bench_cow_cleanup(void)
{
    /* Async-signal-safe: two syscalls. The loop device was set up with
     * autoclear by mount(8), so it goes with the last unmount. */
    if (mount_dir[0]) {
        umount2(mount_dir, MNT_DETACH);
        rmdir(mount_dir);
        mount_dir[0] = '\0';
    }
    if (image_path[0]) {
        unlink(image_path);
        image_path[0] = '\0';
    }
}

static void measure_memory(struct bench_cow *c)
{
    const size_t len = (size_t)c->slice, page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *dst = malloc(len);
    struct zc_slice s;
    zc_pool *p = NULL;
    double t0;
    int i;

    if (!dst || zc_pool_new(&p, len) < 0 || zc_pool_alloc(p, len, &s) < 0)
        goto out;
    memset(dst, 3, len);
    memset(s.data, 1, len);

    t0 = bench_now();
    for (i = 0; i < MEM_ROUNDS && bench_now() - t0 < MEM_BUDGET_S; i++) {
        if (zc_pool_freeze(p, &s) < 0 || zc_pool_rewrite(p, &s) < 0 ||
            zc_pool_write(p, &s, 0, dst, len) != (ssize_t)len)
            goto out;
    }
    c->pool_rewrite_us = (bench_now() - t0) * 1e6 / i;

    t0 = bench_now();
    for (i = 0; i < MEM_ROUNDS && bench_now() - t0 < MEM_BUDGET_S; i++) {
        if (zc_pool_freeze(p, &s) < 0 || zc_pool_rewrite(p, &s) < 0)
            goto out;
        memset(s.data, i, len);
    }
    c->pool_rewrite_map_us = (bench_now() - t0) * 1e6 / i;

    t0 = bench_now();
    for (i = 0; i < MEM_ROUNDS && bench_now() - t0 < MEM_BUDGET_S; i++) {
        uint8_t *priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                             zc_pool_fd(p), s.off);

        if (priv == MAP_FAILED)
            goto out;
        for (size_t o = 0; o < len; o += page)
            priv[o] = 2;                /* one COW fault per page */
        munmap(priv, len);
    }
    c->private_fault_us = (bench_now() - t0) * 1e6 / i;

    t0 = bench_now();
    for (i = 0; i < MEM_ROUNDS && bench_now() - t0 < MEM_BUDGET_S; i++) {
        memcpy(dst, s.data, len);
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    c->memcpy_us = (bench_now() - t0) * 1e6 / i;
out:
    zc_pool_free(p);
    free(dst);
}

/* MiB of @fd's extents that have blocks of their own (not shared with
 * another file by reflink). NaN if FIEMAP fails. */
static double own_mib(int fd)
{
    struct fiemap *fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
    uint64_t start = 0, own = 0;
    bool last = false;

    if (!fm)
        return NAN;
    while (!last) {
        fm->fm_start = start;
        fm->fm_length = FIEMAP_MAX_OFFSET - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = FIEMAP_BATCH;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
            free(fm);
            return NAN;
        }
        if (fm->fm_mapped_extents == 0)
            break;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &fm->fm_extents[i];

            if (!(e->fe_flags & FIEMAP_EXTENT_SHARED))
                own += e->fe_length;
            last |= (e->fe_flags & FIEMAP_EXTENT_LAST) != 0;
            start = e->fe_logical + e->fe_length;
        }
    }
    free(fm);
    return (double)own / (1 << 20);
}

enum fs_copy { COPY_FICLONE, COPY_CFR, COPY_RW };

static int copy_file(enum fs_copy how, int in, int out, uint64_t size)
{
    static char buf[1 << 20];
    uint64_t done = 0;

    if (how == COPY_FICLONE)
        return ioctl(out, FICLONE, in) < 0 ? -errno : 0;
    while (done < size) {
        ssize_t n;

        if (how == COPY_CFR) {
            n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
        } else {
            n = read(in, buf, sizeof(buf));
            if (n > 0 && write(out, buf, (size_t)n) != n)
                n = -1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (uint64_t)n;
    }
    return 0;
}

/* One copy of @src into a new file, timed to fsync (a clone and a copy are
 * both done when they are on disk), with the MiB of blocks of its own. */
static int time_copy(enum fs_copy how, const char *src, int round, double *ms,
                     double *mib)
{
    char dst[600];
    double t0;
    int in, out, ret;

    snprintf(dst, sizeof(dst), "%s/copy.%d.%d", mount_dir, (int)how, round);
    in = open(src, O_RDONLY | O_CLOEXEC);
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in < 0 || out < 0) {
        ret = -errno;
        goto out;
    }
    t0 = bench_now();
    ret = copy_file(how, in, out, FS_FILE);
    if (ret == 0 && fsync(out) < 0)
        ret = -errno;
    *ms = (bench_now() - t0) * 1e3;
    *mib = ret == 0 ? own_mib(out) : NAN;
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    unlink(dst);
    return ret;
}

static int make_source(const char *path)
{
    static char buf[1 << 20];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), ret = 0;

    if (fd < 0)
        return -errno;
    for (uint64_t off = 0; off < FS_FILE && ret == 0; off += sizeof(buf)) {
        memset(buf, (int)(off >> 20), sizeof(buf));
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            ret = -EIO;
    }
    if (ret == 0 && fsync(fd) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

static void measure_fs(struct bench_cow *c, const char *dir)
{
    double ms[3][FS_ROUNDS], mib[3][FS_ROUNDS];
    char src[600];
    int ret;

    c->file_size = FS_FILE;
    if (geteuid() != 0) {
        snprintf(c->fs_skip, sizeof(c->fs_skip),
                 "skipped: mounting an XFS image on a loop device needs root");
        return;
    }
    snprintf(image_path, sizeof(image_path), "%s/zcopy-cow-%d.xfs", dir, (int)getpid());
    snprintf(mount_dir, sizeof(mount_dir), "%s/zcopy-cow-%d.mnt", dir, (int)getpid());
    {
        const char *trunc[] = { "truncate", "-s", FS_IMAGE, image_path, NULL };
        const char *mkfs[] = { "mkfs.xfs", "-q", "-f", "-m", "reflink=1", image_path, NULL };
        const char *mnt[] = { "mount", "-o", "loop", image_path, mount_dir, NULL };

        if (bench_run_quiet(trunc, -1) != 0) {
            snprintf(c->fs_skip, sizeof(c->fs_skip), "skipped: cannot create %.100s", image_path);
            image_path[0] = '\0';
            mount_dir[0] = '\0';
            return;
        }
        ret = bench_run_quiet(mkfs, -1);
        if (ret != 0) {
            snprintf(c->fs_skip, sizeof(c->fs_skip), "skipped: mkfs.xfs -m reflink=1 %s "
                     "(install xfsprogs: scripts/deps.sh bench)",
                     ret == 127 ? "not found" : "failed");
            mount_dir[0] = '\0';
            bench_cow_cleanup();
            return;
        }
        if (mkdir(mount_dir, 0700) < 0 || bench_run_quiet(mnt, -1) != 0) {
            snprintf(c->fs_skip, sizeof(c->fs_skip),
                     "skipped: mount -o loop failed (no loop devices here?)");
            rmdir(mount_dir);
            mount_dir[0] = '\0';
            bench_cow_cleanup();
            return;
        }
    }
    snprintf(src, sizeof(src), "%s/source", mount_dir);
    ret = make_source(src);
    /* Interleaved rounds: clone, cfr, read/write, clone, ... */
    for (int r = 0; ret == 0 && r < FS_ROUNDS; r++)
        for (int how = 0; ret == 0 && how < 3; how++)
            ret = time_copy((enum fs_copy)how, src, r, &ms[how][r], &mib[how][r]);
    if (ret < 0) {
        snprintf(c->fs_skip, sizeof(c->fs_skip), "failed: %s", strerror(-ret));
    } else {
        double *outs_ms[3] = { &c->ficlone_ms, &c->cfr_ms, &c->rw_ms };
        double *outs_mib[3] = { &c->ficlone_mib, &c->cfr_mib, &c->rw_mib };

        for (int how = 0; how < 3; how++) {
            *outs_ms[how] = bench_median(ms[how], FS_ROUNDS);
            *outs_mib[how] = bench_median(mib[how], FS_ROUNDS);
        }
        c->fs_done = true;
    }
    unlink(src);
    bench_cow_cleanup();
}

void bench_cow_measure(struct bench_cow *c, uint64_t slice, const char *dir)
{
    memset(c, 0, sizeof(*c));
    c->slice = slice;
    c->pool_rewrite_us = c->pool_rewrite_map_us = c->private_fault_us = c->memcpy_us = NAN;
    c->ficlone_ms = c->cfr_ms = c->rw_ms = NAN;
    c->ficlone_mib = c->cfr_mib = c->rw_mib = NAN;
    measure_memory(c);
    measure_fs(c, dir);
}
