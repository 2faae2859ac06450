/* fs.c - request path -> open file, redirect, listing or error status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/beneath.h"
#include "serve/fs.h"
#include "serve/url.h"

int zc_fs_open_beneath(int dir_fd, const char *path)
{
    /* O_NONBLOCK: opening a FIFO placed in the root must not block the
     * worker; it changes nothing for regular files. */
    return zc_open_beneath(dir_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
}

int zc_fs_status_of_errno(int err)
{
    switch (err) {
    case -ENOENT:
    case -ENOTDIR:
    case -ENAMETOOLONG:
        return 404;
    case -EACCES:
    case -EPERM:
    case -EROFS:
    case -EXDEV:        /* RESOLVE_BENEATH: the path leads out of the root */
    case -ELOOP:
    case -ENXIO:        /* a device node without a driver, or a socket */
    case -ENODEV:
        return 403;
    case -EISDIR:       /* a PUT onto a directory in the way */
        return 409;
    case -EMFILE:
    case -ENFILE:
    case -ENOMEM:
        return 503;
    case -ENOSPC:
    case -EDQUOT:
        return 507;
    default:
        return 500;
    }
}

static bool not_older(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* Open the variants of the new entry @f beside it (relpath + ".br" ...). A
 * variant older than the file is stale (the file was edited after it was
 * compressed) and ignored, as nginx's gzip_static does not but should.
 * Failures only mean fewer variants. */
static void attach_variants(struct zc_fs *fs, struct zc_file *f, const char *key,
                            size_t key_len, int64_t now_ms)
{
    const struct zc_coding_list *l = fs->precompressed;

    for (unsigned i = 0; l && i < l->n; i++) {
        enum zc_coding c = l->v[i];
        char path[PATH_MAX + 80], vkey[ZC_FILE_KEY_MAX + 8];
        struct stat st;
        int fd;

        f->probed |= 1u << c;
        snprintf(path, sizeof(path), "%s%s", f->relpath, zc_coding_suffix(c));
        snprintf(vkey, sizeof(vkey), "%.*s%s", (int)(key_len < ZC_FILE_KEY_MAX ? key_len :
                 ZC_FILE_KEY_MAX), key, zc_coding_suffix(c));
        fd = zc_fs_open_beneath(fs->root_fd, path);
        if (fd < 0)
            continue;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !not_older(&st.st_mtim, &f->mtime)) {
            close(fd);
            continue;
        }
        f->variant[c] = zc_file_make(fd, &st, vkey, strlen(vkey), path, f->mime, now_ms);
        if (f->variant[c])
            f->variants |= 1u << c;
    }
}

int zc_fs_lookup(struct zc_fs *fs, const char *path, size_t len, int64_t now_ms,
                 struct zc_fs_result *out)
{
    char relpath[PATH_MAX + 64];
    /* "//x" is "/x": an absolute path would be refused by RESOLVE_BENEATH. */
    size_t skip = strspn(path, "/");
    const char *rel = skip < len ? path + skip : ".";
    struct stat st;
    int fd, ret;

    out->file = NULL;
    out->body = NULL;
    out->body_len = 0;
    if (fs->cache && len < ZC_FILE_KEY_MAX) {
        out->file = zc_file_cache_get(fs->cache, path, len, now_ms);
        if (out->file)
            return 200;
    }

    fd = zc_fs_open_beneath(fs->root_fd, rel);
    if (fd < 0)
        return zc_fs_status_of_errno(fd);
    if (fstat(fd, &st) < 0) {
        ret = zc_fs_status_of_errno(-errno);
        close(fd);
        return ret;
    }
    snprintf(relpath, sizeof(relpath), "%s", rel);
    if (S_ISDIR(st.st_mode)) {
        int ifd = -ENOENT;

        if (path[len - 1] != '/') {
            close(fd);
            return 301;
        }
        if (fs->index && *fs->index)
            ifd = zc_fs_open_beneath(fd, fs->index);
        if (ifd == -ENOENT) {
            if (!fs->listing) {
                close(fd);
                return 403;
            }
            ret = zc_fs_listing(fd, path, len, &out->body, &out->body_len);
            return ret < 0 ? zc_fs_status_of_errno(ret) : 200;
        }
        close(fd);
        if (ifd < 0)
            return zc_fs_status_of_errno(ifd);
        fd = ifd;
        if (fstat(fd, &st) < 0) {
            ret = zc_fs_status_of_errno(-errno);
            close(fd);
            return ret;
        }
        snprintf(relpath, sizeof(relpath), "%s/%s", rel, fs->index);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 403;
    }
    out->file = zc_file_make(fd, &st, path, len, relpath,
                             zc_mime_lookup(fs->mime, relpath, strlen(relpath)), now_ms);
    if (!out->file)
        return 503;
    attach_variants(fs, out->file, path, len, now_ms);
    if (fs->cache && len < ZC_FILE_KEY_MAX)
        zc_file_cache_put(fs->cache, out->file);
    return 200;
}

/* --- listing ----------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static char *sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->len;
}

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    char *dst = sbuf_reserve(b, n);

    if (dst) {
        memcpy(dst, s, n);
        b->len += n;
    }
}

static void sbuf_str(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

static void sbuf_html(struct sbuf *b, const char *s, size_t n)
{
    /* "&quot;" is the longest escape: 6 bytes per input byte at most. */
    char *dst = sbuf_reserve(b, n * 6 + 1);

    if (dst)
        b->len += zc_html_escape(dst, n * 6 + 1, s, n);
}

static void sbuf_href(struct sbuf *b, const char *s, size_t n)
{
    char enc[NAME_MAX * 3 + 8];
    size_t elen = zc_url_encode_path(enc, sizeof(enc), s, n);

    sbuf_html(b, enc, elen);
}

#define LISTING_MAX_ENTRIES 10000

struct dent {
    char *name;
    bool dir;
};

static int cmp_dent(const void *a, const void *b)
{
    const struct dent *x = a, *y = b;

    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

int zc_fs_listing(int dir_fd, const char *path, size_t len, char **body,
                  size_t *body_len)
{
    struct sbuf b = { 0 };
    struct dent *ents = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d = fdopendir(dir_fd);
    bool truncated = false;
    int ret = 0;

    if (!d) {
        ret = -errno;
        close(dir_fd);
        return ret;
    }
    while ((de = readdir(d))) {
        bool dir = de->d_type == DT_DIR;

        /* A listing is built in memory: bound it, as a directory of millions
         * of names would otherwise cost that much per request. */
        if (n == LISTING_MAX_ENTRIES) {
            truncated = true;
            break;
        }

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
            struct stat st;

            dir = fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
        }
        if (n == cap) {
            struct dent *p = realloc(ents, (cap = cap ? cap * 2 : 32) * sizeof(*ents));

            if (!p) {
                ret = -ENOMEM;
                goto out;
            }
            ents = p;
        }
        ents[n].name = strdup(de->d_name);
        if (!ents[n].name) {
            ret = -ENOMEM;
            goto out;
        }
        ents[n++].dir = dir;
    }
    if (n)                              /* an empty directory: ents is NULL */
        qsort(ents, n, sizeof(*ents), cmp_dent);

    sbuf_str(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    sbuf_html(&b, path, len);
    sbuf_str(&b, "</title></head>\n<body>\n<h1>Index of ");
    sbuf_html(&b, path, len);
    sbuf_str(&b, "</h1>\n<ul>\n");
    if (len > 1)
        sbuf_str(&b, "<li><a href=\"../\">../</a></li>\n");
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(ents[i].name);

        sbuf_str(&b, "<li><a href=\"");
        sbuf_href(&b, ents[i].name, nl);
        if (ents[i].dir)
            sbuf_str(&b, "/");
        sbuf_str(&b, "\">");
        sbuf_html(&b, ents[i].name, nl);
        if (ents[i].dir)
            sbuf_str(&b, "/");
        sbuf_str(&b, "</a></li>\n");
    }
    sbuf_str(&b, "</ul>\n");
    if (truncated)
        sbuf_str(&b, "<p>(listing truncated)</p>\n");
    sbuf_str(&b, "</body></html>\n");
    if (b.failed) {
        ret = -ENOMEM;
        goto out;
    }
    *body = b.p;
    *body_len = b.len;
    b.p = NULL;
out:
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
    free(b.p);
    closedir(d);
    return ret;
}
