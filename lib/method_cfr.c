/* method_cfr.c - copy_file_range(2): file -> file inside the kernel, as a
 * reflink or server-side copy where the filesystem can, else through the
 * page cache without a user-space copy. */
#include <errno.h>
#include <fcntl.h>

#include "internal.h"

/* copy_file_range answers EBADF both for a fd not open in the right mode
 * (a real error) and for an O_APPEND out_fd (it cannot honour append): only
 * the second is "this method cannot serve the pair". */
static ssize_t classify_ebadf(zc_ctx *ctx, int out_fd)
{
    int fl = zc__fcntl(ctx, out_fd, F_GETFL, 0);

    if (fl >= 0 && (fl & O_APPEND))
        return -EINVAL;
    return -EBADF;
}

/* A 0 from the first call is end of file only if the file really ends at
 * *off. Filesystems that cannot copy some files (procfs before 5.19,
 * overlayfs lower layers on some kernels) answer 0 for data that read(2)
 * would return: that is a refusal, not an empty file. */
static ssize_t classify_zero(zc_ctx *ctx, int in_fd, off_t at)
{
    struct stat st;
    int ret = zc__fstat(ctx, in_fd, &st);

    if (ret < 0)
        return ret;
    return st.st_size > at ? -EOPNOTSUPP : 0;
}

ssize_t zc__m_copy_file_range(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                              size_t count)
{
    size_t done = 0;

    /* Not seekable: a pipe or socket source, never a file. */
    if (!off)
        return -EINVAL;

    while (done < count) {
        off_t start = *off;
        ssize_t n = zc__copy_file_range(ctx, in_fd, off, out_fd, count - done);

        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == 0) {
            if (done == 0)
                return classify_zero(ctx, in_fd, *off);
            break;              /* end of file, possibly a shrunk one */
        }
        if (*off > start)       /* trust the offset, as with sendfile */
            done += (size_t)(*off - start);
        if (done)
            return (ssize_t)done;
        /* A socket, pipe or device target is EINVAL from the kernel, a
         * cross-filesystem pair EXDEV, a filesystem without support
         * EOPNOTSUPP, an old kernel ENOSYS, a seccomp filter EPERM: all are
         * refusals the dispatcher falls back from as they are. */
        if (n == -EBADF)
            return classify_ebadf(ctx, out_fd);
        return n;
    }
    return (ssize_t)done;
}
