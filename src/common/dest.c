/* dest.c - see dest.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dest.h"

int zc_dest_join(char *out, const char *dir, const char *name)
{
    size_t len = strlen(dir);
    int n;

    while (len > 1 && dir[len - 1] == '/')
        len--;
    n = snprintf(out, PATH_MAX, "%.*s%s%s", (int)len, dir,
                 len && dir[len - 1] == '/' ? "" : "/", name);
    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Split d->path into d->dir and d->name. */
static int split(struct zc_dest *d)
{
    const char *slash = strrchr(d->path, '/');
    const char *name = slash ? slash + 1 : d->path;
    size_t dir_len;

    if (!*name)
        return -ENOTDIR;                /* "x/" where x is not a directory */
    if (strlen(name) > NAME_MAX)
        return -ENAMETOOLONG;
    strcpy(d->name, name);
    if (!slash) {
        strcpy(d->dir, ".");
        return 0;
    }
    dir_len = slash == d->path ? 1 : (size_t)(slash - d->path);
    memcpy(d->dir, d->path, dir_len);
    d->dir[dir_len] = '\0';
    return 0;
}

static enum zc_dest_kind kind_of(mode_t mode)
{
    if (S_ISREG(mode))
        return ZC_DEST_REGULAR;
    return S_ISDIR(mode) ? ZC_DEST_DIR : ZC_DEST_SPECIAL;
}

int zc_dest_resolve(const char *path, struct zc_dest *d)
{
    char real[PATH_MAX];

    memset(d, 0, sizeof(*d));
    if (strlen(path) >= sizeof(d->path))
        return -ENAMETOOLONG;
    strcpy(d->path, path);
    if (lstat(path, &d->st) < 0) {
        if (errno != ENOENT)
            return -errno;
        d->kind = ZC_DEST_NEW;
        return split(d);
    }
    if (S_ISLNK(d->st.st_mode)) {
        if (stat(path, &d->st) < 0) {
            if (errno != ENOENT)
                return -errno;          /* ELOOP: a loop */
            d->kind = ZC_DEST_DANGLING;
            return split(d);
        }
        /* Follow it: a regular file it leads to is replaced where it is
         * (so its real directory and name are needed), the link itself
         * stays. Anything else is opened through the link as it is: a magic
         * link such as /dev/stdout -> /proc/self/fd/1 -> pipe:[N] has no
         * real path to resolve. */
        if (S_ISREG(d->st.st_mode)) {
            if (!realpath(path, real))
                return -errno;
            strcpy(d->path, real);
        }
    }
    d->kind = kind_of(d->st.st_mode);
    return d->kind == ZC_DEST_DIR ? 0 : split(d);
}
