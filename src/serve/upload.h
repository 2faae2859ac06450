/* upload.h - a PUT body written into the document root atomically: the bytes
 * go to an unnamed file (O_TMPFILE) in the target's directory, are fsync'ed,
 * then linked under a temporary name and renamed over the final one. A failed
 * or interrupted upload leaves nothing behind under any name. */
#ifndef ZC_SERVE_UPLOAD_H
#define ZC_SERVE_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/atomic_file.h"
#include "serve/http_parse.h"
#include "zcopy.h"

#define ZC_UPLOAD_NAME_MAX 255

struct zc_upload {
    int dir_fd;                     /* the target's directory, -1 when idle */
    struct zc_atomic_file body;     /* the body's file in dir_fd */
    bool existed;                   /* the final name held a file: 204, else 201 */
    bool method_chosen;
    enum zc_method method;          /* socket -> file, chosen once per upload */
    uint64_t length, received;
    char name[ZC_UPLOAD_NAME_MAX + 1];
};

/* zc_upload_init - an idle upload (zc_upload_abort() on it is a no-op). */
void zc_upload_init(struct zc_upload *u);

/* zc_upload_begin - prepare to receive @length bytes for the decoded request
 * path @path (starting with '/', checked by zc_url_path_check) under @root_fd,
 * resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).
 * Return: 0, or the HTTP status to answer: 403 (outside the root, not
 * writable), 404 (the directory does not exist), 405 (the path names a
 * directory), 409 (a directory is in the way), 500, 503 (out of fds),
 * 507 (no space). */
int zc_upload_begin(struct zc_upload *u, int root_fd, const char *path,
                    size_t len, uint64_t length);

/* zc_upload_write - body bytes the server already read with the head.
 * Return: bytes taken (at most what is still expected), or -errno. */
ssize_t zc_upload_write(struct zc_upload *u, const void *buf, size_t len);

/* zc_upload_receive - move body bytes from the (non-blocking) socket into the
 * file with @ctx (splice through the ctx pipe: no user-space copy).
 * Return: bytes moved, -EAGAIN (wait for input), 0 when the peer closed
 * before the whole body arrived, or -errno. */
ssize_t zc_upload_receive(struct zc_upload *u, zc_ctx *ctx, int sock_fd);

static inline bool zc_upload_complete(const struct zc_upload *u)
{
    return u->received == u->length;
}

/* zc_upload_preconditions - RFC 9110 13.2.2 for a PUT, after
 * zc_upload_begin(): If-Match (strong; "*" needs a current file), else
 * If-Unmodified-Since, then If-None-Match ("*" or a weakly matching tag
 * means "do not replace"), all against the file now at the final name.
 * Checked before the body is read; a change between this check and the
 * rename is not detected (there is no compare-and-rename).
 * Return: 0 to go on, or 412. */
int zc_upload_preconditions(const struct zc_upload *u, const struct zc_http_req *q);

/* zc_upload_commit - fsync the body, put it under its final name (replacing
 * a previous file atomically), fsync the directory, release everything.
 * Return: 201 (created) or 204 (replaced), or 500/507 with nothing left
 * behind. */
int zc_upload_commit(struct zc_upload *u);

/* zc_upload_abort - drop the body and release everything. NULL-safe state:
 * calling it on an idle upload does nothing. */
void zc_upload_abort(struct zc_upload *u);

#endif /* ZC_SERVE_UPLOAD_H */
