/* guard.h - run code that touches a file mapping so that a SIGBUS (the file
 * was truncated behind our back, or a hole could not be filled on a full
 * disk) becomes -EIO for that call instead of killing the process. */
#ifndef ZC_LOG_GUARD_H
#define ZC_LOG_GUARD_H

#include <stddef.h>

/* zc__guard_run - call @fn(@arg) with a SIGBUS guard armed in this thread.
 * @fn must not acquire anything (locks, memory) it would leak if cut short.
 * Return: what @fn returns, or -EIO when it faulted. */
int zc__guard_run(int (*fn)(void *arg), void *arg);

/* zc__guard_copy - memcpy under the guard. Return: 0 or -EIO. */
int zc__guard_copy(void *dst, const void *src, size_t len);

#endif /* ZC_LOG_GUARD_H */
