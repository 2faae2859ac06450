/* method_sendfile.c - sendfile(2): the kernel moves page-cache pages of a file
 * to any fd (socket, pipe, file, /dev/null) without a user-space copy. One
 * syscall moves up to 0x7ffff000 bytes; the source must be a seekable file. */
#include <errno.h>

#include "internal.h"

ssize_t zc__m_sendfile(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                       size_t count)
{
    size_t done = 0;

    /* The dispatcher passes a NULL offset only for a source it cannot seek:
     * a pipe or a socket. Linux would accept a socket source through its
     * internal pipe, but "file -> anything" is this method's contract and
     * splice is the method for streams. */
    if (!off)
        return -EINVAL;

    while (done < count) {
        off_t start = *off;
        ssize_t n = zc__sendfile(ctx, out_fd, in_fd, off, count - done);

        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        /* 0 before count: the file ends here (it may have shrunk since the
         * caller sized the request). Another call would return 0 again. */
        if (n == 0)
            break;
        /* EOVERFLOW is reported after the bytes up to the limit moved, with
         * the offset already advanced: the offset, not the return value,
         * says what reached out_fd. */
        if (*off > start)
            done += (size_t)(*off - start);
        /* -EAGAIN: out_fd is non-blocking and full; *off is exact, the caller
         * polls and resumes. Other errors after progress surface next call. */
        return done ? (ssize_t)done : n;
    }
    return (ssize_t)done;
}
