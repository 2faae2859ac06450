/* dest.h - what a destination path names before zcopy cp or get writes it:
 * nothing yet, a regular file (replaced by a new file, atomically), a
 * directory, or a device, FIFO or socket (written into, never replaced). A
 * symlink is followed as cp(1) follows it: the file it points to is the
 * destination; a dangling or looping link is an error. */
#ifndef ZC_DEST_H
#define ZC_DEST_H

#include <limits.h>
#include <sys/stat.h>

enum zc_dest_kind {
    ZC_DEST_NEW,                    /* nothing there: created in dir */
    ZC_DEST_REGULAR,                /* a regular file: replaced in dir */
    ZC_DEST_DIR,                    /* a directory */
    ZC_DEST_SPECIAL,                /* device, FIFO, socket: written into */
    ZC_DEST_DANGLING,               /* a symlink to nothing */
};

struct zc_dest {
    enum zc_dest_kind kind;
    struct stat st;                 /* what is there (not for NEW, DANGLING) */
    char path[PATH_MAX];            /* the path, its symlink followed */
    char dir[PATH_MAX];             /* path's directory ("." for a bare name) */
    char name[NAME_MAX + 1];        /* path's last component */
};

/* zc_dest_resolve - classify @path into *d.
 * Return: 0; -ELOOP for a symlink loop; -ENOTDIR for a name ending in '/'
 * that is not a directory; -ENAMETOOLONG; other -errno from lstat/stat. */
int zc_dest_resolve(const char *path, struct zc_dest *d);

/* zc_dest_join - "@dir/@name" into @out (size PATH_MAX) without doubling
 * the slash when @dir ends in one. Return: 0 or -ENAMETOOLONG. */
int zc_dest_join(char *out, const char *dir, const char *name);

#endif /* ZC_DEST_H */
