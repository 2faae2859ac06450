/* beneath.h - open a path confined to a directory by the kernel:
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) refuses "..", absolute
 * symlinks and symlinks leading out of the directory, whatever the path
 * string looks like (Linux 5.6+). */
#ifndef ZC_COMMON_BENEATH_H
#define ZC_COMMON_BENEATH_H

/* zc_open_beneath - open @path relative to @dir_fd with @flags (O_CLOEXEC
 * is always added), never leaving @dir_fd. EINTR is retried.
 * Return: the fd, or -errno (-EXDEV: the path leads out; -ENOSYS: no
 * openat2 in this kernel). */
int zc_open_beneath(int dir_fd, const char *path, int flags);

#endif /* ZC_COMMON_BENEATH_H */
