/* upload.c - see upload.h. The body file never carries the final name until
 * it is complete and on disk: readers of the old file see the old bytes until
 * the rename, then the new ones, never a mix or a prefix. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "serve/http_cond.h"
#include "serve/http_date.h"
#include "serve/upload.h"

void zc_upload_init(struct zc_upload *u)
{
    memset(u, 0, sizeof(*u));
    u->dir_fd = u->fd = -1;
}

static int status_of_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return 404;
    case EACCES:
    case EPERM:
    case EROFS:
    case EXDEV:                         /* RESOLVE_BENEATH: leads out of the root */
    case ELOOP:
        return 403;
    case EISDIR:
        return 409;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return 503;
    case ENOSPC:
    case EDQUOT:
        return 507;
    default:
        return 500;
    }
}

static int open_dir_beneath(int root_fd, const char *rel)
{
    /* O_RDONLY, not O_PATH: the directory is fsync'ed after the rename. */
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    do {
        fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

static int create_body_file(struct zc_upload *u)
{
    static unsigned seq;

    u->fd = openat(u->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (u->fd >= 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
    /* A filesystem without O_TMPFILE: a hidden name, removed on abort. */
    for (int tries = 0; tries < 16; tries++) {
        snprintf(u->tmp_name, sizeof(u->tmp_name), ".zcopy-upload.%d.%u",
                 (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
        u->fd = openat(u->dir_fd, u->tmp_name,
                       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (u->fd >= 0) {
            u->named_tmp = true;
            return 0;
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
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
        return status_of_errno(-ret);
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
        ret = status_of_errno(errno);
        zc_upload_abort(u);
        return ret;
    }

    ret = create_body_file(u);
    if (ret < 0) {
        zc_upload_abort(u);
        return status_of_errno(-ret);
    }
    u->length = length;
    return 0;
}

int zc_upload_preconditions(const struct zc_upload *u, const struct zc_http_req *q)
{
    char etag[ZC_ETAG_MAX];
    struct stat st;
    bool exists;
    time_t t;

    if (!q->if_match.p && !q->if_unmodified_since.p && !q->if_none_match.p)
        return 0;
    exists = fstatat(u->dir_fd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISREG(st.st_mode);
    if (exists)
        zc_etag_make(etag, st.st_ino, (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
    if (q->if_match.p) {
        if (!exists)
            return 412;                 /* nothing to match, not even "*" */
        if (!zc_etag_match_list(q->if_match.p, q->if_match.len, etag, strlen(etag), false))
            return 412;
    } else if (exists && q->if_unmodified_since.p &&
               zc_http_date_parse(q->if_unmodified_since.p, q->if_unmodified_since.len,
                                  &t) == 0 && st.st_mtim.tv_sec > t) {
        return 412;
    }
    if (exists && q->if_none_match.p &&
        zc_etag_match_list(q->if_none_match.p, q->if_none_match.len, etag, strlen(etag),
                           true))
        return 412;                     /* includes "*": create only */
    return 0;
}

ssize_t zc_upload_write(struct zc_upload *u, const void *buf, size_t len)
{
    size_t want = len < u->length - u->received ? len : (size_t)(u->length - u->received);
    size_t done = 0;

    while (done < want) {
        ssize_t n = write(u->fd, (const char *)buf + done, want - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    u->received += done;
    return (ssize_t)done;
}

ssize_t zc_upload_receive(struct zc_upload *u, zc_ctx *ctx, int sock_fd)
{
    ssize_t n;

    if (u->received == u->length)
        return 0;
    /* ZC_AUTO would fstat both fds on every call; ask once which method it
     * would use (splice for socket -> file) and name it from then on. */
    if (!u->method_chosen) {
        if (zc_method_choose(ctx, u->fd, sock_fd, &u->method) < 0)
            u->method = ZC_AUTO;
        u->method_chosen = true;
    }
    n = zc_transfer(ctx, u->fd, sock_fd, NULL, u->length - u->received, u->method);
    if (zc_method_refused(n) && u->method != ZC_AUTO) {
        /* Refused after all (a seccomp policy refuses splice with EPERM
         * only when it is called): let auto fall back. */
        u->method = ZC_AUTO;
        n = zc_transfer(ctx, u->fd, sock_fd, NULL, u->length - u->received, ZC_AUTO);
    }
    if (n > 0)
        u->received += (uint64_t)n;
    return n;
}

int zc_upload_commit(struct zc_upload *u)
{
    char proc_path[64];
    int status = u->existed ? 204 : 201;

    if (fsync(u->fd) < 0)
        goto fail;
    if (!u->named_tmp) {
        /* Give the unnamed file a hidden name first: linkat() cannot replace
         * an existing name, renameat() can, atomically. */
        static unsigned seq;

        snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", u->fd);
        for (int tries = 0;; tries++) {
            snprintf(u->tmp_name, sizeof(u->tmp_name), ".zcopy-upload.%d.%u",
                     (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
            if (linkat(AT_FDCWD, proc_path, u->dir_fd, u->tmp_name,
                       AT_SYMLINK_FOLLOW) == 0)
                break;
            if (errno != EEXIST || tries == 16)
                goto fail;
        }
        u->named_tmp = true;
    }
    if (renameat(u->dir_fd, u->tmp_name, u->dir_fd, u->name) < 0)
        goto fail;
    u->named_tmp = false;               /* the name is the final one now */
    /* The rename itself must survive a crash too. */
    if (fsync(u->dir_fd) < 0)
        status = status_of_errno(errno);
    zc_upload_abort(u);
    return status;

fail:
    status = status_of_errno(errno);
    zc_upload_abort(u);
    return status == 404 ? 500 : status;
}

void zc_upload_abort(struct zc_upload *u)
{
    if (u->named_tmp && u->dir_fd >= 0)
        unlinkat(u->dir_fd, u->tmp_name, 0);
    u->named_tmp = false;
    if (u->fd >= 0)
        close(u->fd);
    if (u->dir_fd >= 0)
        close(u->dir_fd);
    u->fd = u->dir_fd = -1;
}
