/* io.h - small I/O rules the program's parts share. */
#ifndef ZC_COMMON_IO_H
#define ZC_COMMON_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* zc_write_all - write all @len bytes of @buf to (blocking) @fd, going on
 * after short writes and EINTR, unless @stop is given and says true then
 * (a user's interrupt). @calls, when given, is increased by the write(2)
 * calls made. Return: 0, or -errno (-EINTR when stopped, -EIO if write
 * returned 0). */
int zc_write_all(int fd, const void *buf, size_t len, bool (*stop)(void),
                 uint64_t *calls);

#endif /* ZC_COMMON_IO_H */
