/* fs.h - map a decoded request path to what to send, confined to the
 * document root by the kernel: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * from the root fd refuses "..", absolute symlinks and symlinks leading out
 * of the root, whatever the path string looked like. */
#ifndef ZC_SERVE_FS_H
#define ZC_SERVE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/file_cache.h"
#include "serve/mime.h"

struct zc_fs {
    int root_fd;                    /* O_PATH directory, borrowed */
    const char *index;              /* "index.html"; NULL or "" disables */
    bool listing;                   /* HTML listing of index-less directories */
    const struct zc_mime *mime;
    struct zc_file_cache *cache;    /* may be NULL */
    /* --precompressed: variants looked for beside each file (NULL or an
     * empty list: none). */
    const struct zc_coding_list *precompressed;
};

struct zc_fs_result {
    struct zc_file *file;           /* status 200: a reference for the caller */
    char *body;                     /* status 200 listing: malloc'ed HTML */
    size_t body_len;
};

/* zc_fs_lookup - resolve @path (decoded, starting with '/', checked by
 * zc_url_path_check, NUL-terminated at @len).
 * A file's precompressed variants are attached to its entry (see
 * zc_file.variant).
 * Return: 200 with out->file or out->body set; 301 (a directory named
 * without its trailing slash); 403 (unreadable, not a regular file, a
 * symlink leaving the root, a directory without index or listing); 404;
 * 500 or 503 (out of fds). */
int zc_fs_lookup(struct zc_fs *fs, const char *path, size_t len, int64_t now_ms,
                 struct zc_fs_result *out);

/* zc_fs_listing - the HTML listing of the open directory @dir_fd (taken and
 * closed) for the URL path @path. Return: 0 with *body malloc'ed, or -errno. */
int zc_fs_listing(int dir_fd, const char *path, size_t len, char **body,
                  size_t *body_len);

/* zc_fs_open_beneath - zc_open_beneath(@dir_fd, @path, O_RDONLY |
 * O_NONBLOCK | O_NOCTTY): how GET opens. Return: fd or -errno. */
int zc_fs_open_beneath(int dir_fd, const char *path);

/* zc_fs_status_of_errno - the HTTP status for a failed file system call
 * on the request's path, @err being -errno (GET and PUT alike): 404, 403,
 * 409 (EISDIR), 503 (out of fds or memory), 507 (no space), else 500. */
int zc_fs_status_of_errno(int err);

#endif /* ZC_SERVE_FS_H */
