/* test_upload.c - PUT bodies land atomically under their final name, or not
 * at all; paths stay inside the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/upload.h"
#include "tap.h"
#include "testutil.h"

static int root_fd;
static char root[PATH_MAX];

/* Entries in the root's directory @sub, "." and ".." excluded. */
static int count_entries(const char *sub)
{
    char path[PATH_MAX + 64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "%s/%s", root, sub);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static uint64_t hash_path(const char *rel, uint64_t *size)
{
    char path[PATH_MAX + 64];
    uint64_t h;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *size = UINT64_MAX;
        return 0;
    }
    h = t_hash_file(fd, 0, UINT64_MAX, size);
    close(fd);
    return h;
}

/* Upload @len pattern bytes to @path: the first @head bytes as if read with
 * the request head, the rest spliced from a socket. */
static int upload(zc_ctx *ctx, const char *path, size_t len, size_t head)
{
    static char buf[1 << 16];
    struct zc_upload u;
    int sv[2], status;
    size_t sent;

    if (head > sizeof(buf))
        head = sizeof(buf);
    sent = head;

    status = zc_upload_begin(&u, root_fd, path, strlen(path), len);
    if (status)
        return status;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    t_set_nonblock(sv[1], true);
    t_fill_pattern(buf, head, 0);
    if (zc_upload_write(&u, buf, head) != (ssize_t)head) {
        zc_upload_abort(&u);
        return -1;
    }
    for (int rounds = 0; !zc_upload_complete(&u) && rounds < 100000; rounds++) {
        size_t chunk = len - sent < sizeof(buf) ? len - sent : sizeof(buf);
        ssize_t n;

        if (chunk) {
            t_fill_pattern(buf, chunk, sent);
            n = write(sv[0], buf, chunk);
            if (n > 0)
                sent += (size_t)n;
        }
        n = zc_upload_receive(&u, ctx, sv[1]);
        if (n < 0 && n != -EAGAIN) {
            zc_upload_abort(&u);
            close(sv[0]);
            close(sv[1]);
            return -2;
        }
    }
    close(sv[0]);
    close(sv[1]);
    if (!zc_upload_complete(&u)) {
        zc_upload_abort(&u);
        return -3;
    }
    return zc_upload_commit(&u);
}

static void test_create_and_replace(zc_ctx *ctx)
{
    size_t sizes[] = { 0, 1, 4096, 3u << 20 };
    uint64_t size, want_size;

    for (size_t i = 0; i < T_ARRAY_SIZE(sizes); i++) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/up%zu.bin", i);
        t_is_int(upload(ctx, path, sizes[i], sizes[i] / 3), 201,
                 "PUT %zu bytes to a new name: 201", sizes[i]);
        fd = t_pattern_file(sizes[i], false, NULL);
        uint64_t want = t_hash_file(fd, 0, UINT64_MAX, &want_size);
        close(fd);
        t_ok(hash_path(path + 1, &size) == want && size == want_size,
             "%zu bytes stored byte-exact", sizes[i]);
    }
    t_is_int(upload(ctx, "/up2.bin", 1000, 10), 204, "PUT over an existing file: 204");
    hash_path("up2.bin", &size);
    t_is_int(size, 1000, "replaced file has the new length");
    t_is_int(count_entries("."), 4 + 2, "no temporary files left (4 uploads + sub, link)");
}

static void test_abort_leaves_nothing(void)
{
    struct zc_upload u;
    uint64_t size;

    t_is_int(zc_upload_begin(&u, root_fd, "/half.bin", 9, 100), 0, "begin");
    t_is_int(zc_upload_write(&u, "0123456789", 10), 10, "first bytes taken");
    zc_upload_abort(&u);
    hash_path("half.bin", &size);
    t_ok(size == UINT64_MAX, "aborted upload: no file under the final name");
    t_is_int(count_entries("."), 6, "aborted upload: no temporary file either");

    t_is_int(zc_upload_begin(&u, root_fd, "/up1.bin", 9, 5), 0, "begin over existing");
    t_is_int(zc_upload_write(&u, "abc", 3), 3, "partial body");
    zc_upload_abort(&u);
    hash_path("up1.bin", &size);
    t_is_int(size, 1, "aborted replacement keeps the old file");
    zc_upload_abort(&u);                /* idle: a no-op */
}

/* Bytes past Content-Length belong to the next request: the upload takes
 * exactly its length, whatever the buffer holds. */
static void test_bounds(zc_ctx *ctx)
{
    char stored[16];
    struct zc_upload u;
    int sv[2], fd;
    ssize_t n;

    zc_upload_init(&u);
    t_is_int(zc_upload_begin(&u, root_fd, "/short.bin", 10, 3), 0, "begin 3 bytes");
    t_is_int(zc_upload_write(&u, "xyz", 0), 0, "empty write takes nothing");
    t_is_int(u.received, 0, "empty write: nothing received");
    t_is_int(zc_upload_write(&u, "a", 1), 1, "one byte taken");
    t_ok(!zc_upload_complete(&u), "not complete after 1 of 3 bytes");
    t_is_int(zc_upload_write(&u, "bcdef", 5), 2, "write takes at most what is left");
    t_ok(zc_upload_complete(&u), "complete after the length");
    t_is_int(zc_upload_write(&u, "gh", 2), 0, "a complete upload takes nothing more");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    t_set_nonblock(sv[1], true);
    t_is_int(write(sv[0], "ijk", 3), 3, "more bytes wait on the socket");
    t_is_int(zc_upload_receive(&u, ctx, sv[1]), 0, "a complete upload receives nothing");
    n = recv(sv[1], stored, sizeof(stored), 0);
    t_is_mem(stored, n > 0 ? (size_t)n : 0, "ijk", "the next request's bytes stay in the socket");
    close(sv[0]);
    close(sv[1]);
    t_is_int(zc_upload_commit(&u), 201, "commit: 201");

    snprintf(stored, sizeof(stored), "%s", "");
    fd = openat(root_fd, "short.bin", O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, stored, sizeof(stored)) : -1;
    if (fd >= 0)
        close(fd);
    t_is_mem(stored, n > 0 ? (size_t)n : 0, "abc", "exactly the 3 bytes stored");
    unlinkat(root_fd, "short.bin", 0);
}

static void test_refusals(void)
{
    static const struct {
        const char *path;
        int status;
    } cases[] = {
        { "/missing/x.bin", 404 },
        { "/sub/", 405 },
        { "/sub", 405 },
        { "/link/escape.bin", 403 },   /* symlink to / leads out of the root */
        { "/..", 403 },
        { "/sub/..", 403 },
    };
    struct zc_upload u;

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        int st = zc_upload_begin(&u, root_fd, cases[i].path, strlen(cases[i].path), 1);

        t_is_int(st, cases[i].status, "PUT %s -> %d", cases[i].path, cases[i].status);
        if (st == 0)
            zc_upload_abort(&u);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx = zc_ctx_new();
    char path[PATH_MAX + 16];

    snprintf(root, sizeof(root), "%s/www", t_tmpdir());
    mkdir(root, 0755);
    snprintf(path, sizeof(path), "%s/sub", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/link", root);
    if (symlink("/", path) < 0)
        abort();
    root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    test_create_and_replace(ctx);
    test_abort_leaves_nothing();
    test_bounds(ctx);
    test_refusals();
    close(root_fd);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    /* t_tmpdir()'s cleanup removes plain files only. */
    nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return t_done();
}
