/* upload.c - see upload.h. The body file never carries the final name until
 * it is complete and on disk: readers of the old file see the old bytes until
 * the rename, then the new ones, never a mix or a prefix. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/beneath.h"
#include "common/io.h"
#include "serve/fs.h"
#include "serve/http_cond.h"
#include "serve/upload.h"

void zc_upload_init(struct zc_upload *u)
{
    memset(u, 0, sizeof(*u));
    u->dir_fd = -1;
    zc_atomic_file_init(&u->body);
}

static int open_dir_beneath(int root_fd, const char *rel)
{
    /* O_RDONLY, not O_PATH: the directory is fsync'ed after the rename. */
    return zc_open_beneath(root_fd, rel, O_RDONLY | O_DIRECTORY);
}

int zc_upload_begin(struct zc_upload *u, int root_fd, const char *path,
                    size_t len, uint64_t length)
{
    char dir[4096];
    const char *slash, *name;
    size_t name_len;
    struct stat st;
    int ret;

    zc_upload_init(u);
    /* "//x" is "/x", as for GET (the directory part would be empty). */
    while (len > 1 && path[0] == '/' && path[1] == '/') {
        path++;
        len--;
    }
    if (len == 0 || path[0] != '/' || len >= sizeof(dir))
        return 403;
    if (path[len - 1] == '/')
        return 405;                     /* a directory cannot be PUT */
    slash = memrchr(path, '/', len);
    name = slash + 1;
    name_len = len - (size_t)(name - path);
    if (name_len > ZC_UPLOAD_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
        return 403;
    memcpy(u->name, name, name_len);
    u->name[name_len] = '\0';
    if (slash == path) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path + 1, (size_t)(slash - path) - 1);
        dir[slash - path - 1] = '\0';
    }

    ret = open_dir_beneath(root_fd, dir);
    if (ret < 0)
        return zc_fs_status_of_errno(ret);
    u->dir_fd = ret;

    if (fstatat(u->dir_fd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode)) {
            zc_upload_abort(u);
            return 405;
        }
        /* Replacing the entry never follows it, so a symlink here is
         * replaced, not written through; only regular files are ours to
         * replace. */
        if (!S_ISREG(st.st_mode)) {
            zc_upload_abort(u);
            return 403;
        }
        u->existed = true;
    } else if (errno != ENOENT) {
        ret = zc_fs_status_of_errno(-errno);
        zc_upload_abort(u);
        return ret;
    }

    ret = zc_atomic_file_open(&u->body, u->dir_fd, "upload", 0644);
    if (ret < 0) {
        zc_upload_abort(u);
        return zc_fs_status_of_errno(ret);
    }
    u->length = length;
    return 0;
}

int zc_upload_preconditions(const struct zc_upload *u, const struct zc_http_req *q)
{
    char etag[ZC_ETAG_MAX];
    struct stat st;
    struct zc_cond_target t = { .etag = etag };

    if (!q->if_match.p && !q->if_unmodified_since.p && !q->if_none_match.p)
        return 0;                       /* no stat for the common case */
    t.exists = fstatat(u->dir_fd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISREG(st.st_mode);
    if (t.exists) {
        zc_etag_make(etag, st.st_ino, (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
        t.etag_len = strlen(etag);
        t.mtime = st.st_mtim.tv_sec;
    }
    return zc_http_preconditions(q, &t, false, time(NULL));
}

ssize_t zc_upload_write(struct zc_upload *u, const void *buf, size_t len)
{
    size_t want = len < u->length - u->received ? len : (size_t)(u->length - u->received);
    int ret = zc_write_all(u->body.fd, buf, want, NULL, NULL);

    if (ret < 0)
        return ret;
    u->received += want;
    return (ssize_t)want;
}

ssize_t zc_upload_receive(struct zc_upload *u, zc_ctx *ctx, int sock_fd)
{
    ssize_t n;

    if (u->received == u->length)
        return 0;
    /* ZC_AUTO would fstat both fds on every call; ask once which method it
     * would use (splice for socket -> file) and name it from then on. */
    if (!u->method_chosen) {
        if (zc_method_choose(ctx, u->body.fd, sock_fd, &u->method) < 0)
            u->method = ZC_AUTO;
        u->method_chosen = true;
    }
    n = zc_transfer(ctx, u->body.fd, sock_fd, NULL, u->length - u->received, u->method);
    if (zc_method_refused(n) && u->method != ZC_AUTO) {
        /* Refused after all (a seccomp policy refuses splice with EPERM
         * only when it is called): let auto fall back. */
        u->method = ZC_AUTO;
        n = zc_transfer(ctx, u->body.fd, sock_fd, NULL, u->length - u->received, ZC_AUTO);
    }
    if (n > 0)
        u->received += (uint64_t)n;
    return n;
}

int zc_upload_commit(struct zc_upload *u)
{
    int status = u->existed ? 204 : 201;
    int ret = zc_atomic_file_publish(&u->body, u->name, ZC_ATOMIC_SYNC);

    if (ret < 0) {
        status = zc_fs_status_of_errno(ret);
        if (!u->body.published && status == 404)
            status = 500;
    }
    zc_upload_abort(u);
    return status;
}

void zc_upload_abort(struct zc_upload *u)
{
    zc_atomic_file_abort(&u->body);
    if (u->dir_fd >= 0)
        close(u->dir_fd);
    u->dir_fd = -1;
}
