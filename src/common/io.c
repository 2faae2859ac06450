/* io.c - see io.h. */
#include <errno.h>
#include <unistd.h>

#include "common/io.h"

int zc_write_all(int fd, const void *buf, size_t len, bool (*stop)(void),
                 uint64_t *calls)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (calls)
            ++*calls;
        if (n < 0) {
            if (errno == EINTR && !(stop && stop()))
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
