/* test_file_cache.c - the per-worker open-file cache (src/serve/file_cache.c):
 * hits, revalidation after change/replace/delete, LRU eviction with responses
 * still holding entries, small-body caching and its budget. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/file_cache.h"
#include "tap.h"
#include "testutil.h"

static int root_fd;

static void put_file(const char *name, const char *data)
{
    int fd = openat(root_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
        t_ok(0, "write %s", name);
    close(fd);
}

static struct zc_file *make(struct zc_file_cache *c, const char *name, int64_t now)
{
    char key[64];
    struct stat st;
    struct zc_file *f;
    int fd = openat(root_fd, name, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0)
        return NULL;
    snprintf(key, sizeof(key), "/%s", name);
    f = zc_file_make(fd, &st, key, strlen(key), name, "text/plain", now);
    if (f && c)
        zc_file_cache_put(c, f);
    return f;
}

int main(void)
{
    struct zc_file_cache *c;
    struct zc_file *f, *g, *h;
    const char *body;

    root_fd = open(t_tmpdir(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    put_file("a", "alpha");
    put_file("b", "bravo!");
    put_file("c", "charlie");

    c = zc_file_cache_new(root_fd, 2, 1000);
    t_ok(c != NULL, "cache created");
    f = make(c, "a", 0);
    t_ok(f && f->size == 5 && f->refs == 2, "entry: size, refs (caller + cache)");
    t_ok(f->etag[0] == '"' && f->etag_len > 2, "entry has an ETag");
    g = zc_file_cache_get(c, "/a", 2, 10);
    t_ok(g == f && f->refs == 3, "hit returns the same entry with a ref");
    zc_file_unref(g);
    t_ok(zc_file_cache_get(c, "/zz", 3, 10) == NULL, "miss");

    t_is_int(zc_file_cache_body(c, f, &body), 0, "small body cached");
    t_is_mem(body, f->size, "alpha", "cached body bytes");

    /* Rewritten within the validity window: still the old entry (by design),
     * after it: dropped, so the next lookup opens the file again. */
    put_file("a", "ALPHA-2");
    g = zc_file_cache_get(c, "/a", 2, 500);
    t_ok(g == f, "within validity: trusted without a syscall");
    zc_file_unref(g);
    g = zc_file_cache_get(c, "/a", 2, 1500);
    t_ok(g == NULL && !f->cached, "after validity: changed file dropped");
    t_is_mem(body, 5, "alpha", "a response still holding the old entry keeps its bytes");
    zc_file_unref(f);                   /* the caller's ref: entry freed */

    f = make(c, "a", 2000);
    g = zc_file_cache_get(c, "/a", 2, 3500);
    t_ok(g == f, "unchanged file revalidated and kept");
    zc_file_unref(g);

    /* LRU: capacity 2. */
    g = make(c, "b", 3500);
    h = make(c, "c", 3500);
    t_ok(!f->cached && g->cached && h->cached, "least recently used evicted");
    t_ok(f->refs == 1, "evicted entry alive while referenced");
    zc_file_unref(f);

    /* Replaced by rename: new inode, entry dropped at revalidation. */
    put_file("tmp", "replaced");
    renameat(root_fd, "tmp", root_fd, "b");
    t_ok(zc_file_cache_get(c, "/b", 2, 9000) == NULL && !g->cached, "replaced file dropped");
    zc_file_unref(g);
    unlinkat(root_fd, "c", 0);
    t_ok(zc_file_cache_get(c, "/c", 2, 9000) == NULL && !h->cached, "deleted file dropped");
    zc_file_unref(h);

    /* Shrunk before its body was read: -ESTALE and dropped. */
    put_file("d", "delta-delta");
    f = make(c, "d", 9000);
    put_file("d", "");
    t_is_int(zc_file_cache_body(c, f, &body), -ESTALE, "shrunk file: -ESTALE");
    t_ok(!f->cached, "shrunk file dropped");
    t_is_int(zc_file_cache_body(c, f, &body), -ENOSPC, "uncached entry keeps no body");
    zc_file_unref(f);

    zc_file_cache_free(c);

    /* Cache of 0 entries: put is a no-op. */
    c = zc_file_cache_new(root_fd, 0, 1000);
    f = make(c, "a", 0);
    t_ok(f && !f->cached && f->refs == 1, "capacity 0 caches nothing");
    zc_file_unref(f);
    zc_file_cache_free(c);
    close(root_fd);
    return t_done();
}
