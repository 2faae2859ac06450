/* atomic_file.c - see atomic_file.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/atomic_file.h"

#define NAME_TRIES 32

void zc_atomic_file_init(struct zc_atomic_file *a)
{
    *a = (struct zc_atomic_file){ .dir_fd = -1, .fd = -1 };
}

/* A fresh candidate temp name: pid and a process-wide sequence number, so
 * threads (zcopy serve) and processes in one directory do not collide; a
 * leftover of a killed process is skipped by the EEXIST retries. */
static void next_name(struct zc_atomic_file *a)
{
    static unsigned seq;

    snprintf(a->tmp_name, sizeof(a->tmp_name), ".zcopy-%s.%d.%u", a->tag,
             (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
}

int zc_atomic_file_open(struct zc_atomic_file *a, int dir_fd, const char *tag,
                        mode_t mode)
{
    zc_atomic_file_init(a);
    a->dir_fd = dir_fd;
    a->tag = tag;
    a->fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (a->fd >= 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
    /* No O_TMPFILE here: a hidden name, removed again on every failure. */
    for (int tries = 0; tries < NAME_TRIES; tries++) {
        next_name(a);
        a->fd = openat(dir_fd, a->tmp_name,
                       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (a->fd >= 0) {
            a->named = true;
            return 0;
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

/* Give the unnamed file a temporary name: linkat() cannot replace an existing
 * name, renameat() can, atomically. */
static int link_unnamed(struct zc_atomic_file *a)
{
    char proc_path[64];

    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", a->fd);
    for (int tries = 0; tries < NAME_TRIES; tries++) {
        next_name(a);
        if (linkat(AT_FDCWD, proc_path, a->dir_fd, a->tmp_name, AT_SYMLINK_FOLLOW) == 0 ||
            (errno == ENOENT &&     /* no /proc: a privileged caller can still */
             linkat(a->fd, "", a->dir_fd, a->tmp_name, AT_EMPTY_PATH) == 0)) {
            a->named = true;
            return 0;
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int zc_atomic_file_publish(struct zc_atomic_file *a, const char *name, unsigned flags)
{
    int ret = 0, fd = a->fd;

    if (fd < 0)
        return -EBADF;
    if ((flags & ZC_ATOMIC_SYNC) && fsync(fd) < 0)
        goto fail;
    if (!a->named) {
        ret = link_unnamed(a);
        if (ret < 0)
            goto out;
    }
    /* close() reports late write errors (NFS): before the rename, not after. */
    a->fd = -1;
    if (close(fd) < 0)
        goto fail;
    if (renameat(a->dir_fd, a->tmp_name, a->dir_fd, name) < 0)
        goto fail;
    a->named = false;                   /* the temp name is the final one now */
    a->published = true;
    /* The rename itself must survive a crash too. */
    if ((flags & ZC_ATOMIC_SYNC) && fsync(a->dir_fd) < 0)
        return -errno;
    return 0;

fail:
    ret = -errno;
out:
    zc_atomic_file_abort(a);
    return ret;
}

void zc_atomic_file_abort(struct zc_atomic_file *a)
{
    if (a->named && a->dir_fd >= 0)
        unlinkat(a->dir_fd, a->tmp_name, 0);
    a->named = false;
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}
