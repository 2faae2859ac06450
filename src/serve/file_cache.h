/* file_cache.h - per-thread open-file cache: path -> fd + stat + validators.
 *
 * A hot file costs no open, fstat or close per request. Entries are
 * revalidated when older than the cache's validity (default 1 s, like
 * lighttpd's stat cache; nginx's open_file_cache_valid defaults to 60 s) with
 * one statx() of the path: any change of inode, size, mtime or ctime (file
 * replaced, rewritten, touched) drops the entry, and the next request opens
 * the file again. A transfer that finds the file shorter than its cached size
 * drops it at once.
 *
 * Small files (up to ZC_FILE_BODY_MAX) may also keep their bytes, read once,
 * within a per-cache byte budget: a hit then costs no syscall at all and the
 * response is one writev of headers + cached body. Those bytes are as fresh
 * as the entry's stat (the validity window). Entries are immutable once
 * cached, so a response in flight can keep pointing at them.
 * Not thread-safe: one cache per worker. */
#ifndef ZC_SERVE_FILE_CACHE_H
#define ZC_SERVE_FILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "serve/coding.h"

#define ZC_FILE_KEY_MAX 256

struct zc_file {
    int fd;                         /* O_RDONLY, owned by the entry */
    unsigned refs;                  /* the cache's and each response's */
    bool cached;                    /* still reachable from the cache */
    uint64_t size;
    uint64_t ino, dev;
    struct timespec mtime, ctime;
    const char *mime;               /* static or the mime table's */
    char etag[64];
    size_t etag_len;
    char last_modified[32];         /* IMF-fixdate of mtime */
    int64_t validated_ms;
    char *body;                     /* whole contents, or NULL */
    /* Precompressed variants (file.br, file.zst, file.gz) found fresh when
     * the entry was made, each an entry of its own (not in the table) that
     * this one holds a reference to; @probed: the codings looked for, all
     * re-checked when the entry is revalidated. */
    struct zc_file *variant[ZC_CODING_COUNT];
    unsigned variants, probed;      /* bit (1u << coding) */
    /* cache bookkeeping */
    uint32_t hash;
    struct zc_file *bucket_next, *lru_prev, *lru_next;
    char *relpath;                  /* relative to the root, for statx */
    size_t key_len;
    char key[];                     /* the decoded request path */
};

struct zc_file_cache;

#define ZC_FILE_BODY_MAX (16 * 1024)
#define ZC_FILE_BODY_BUDGET ((size_t)8 << 20)   /* bytes per cache */

/* zc_file_cache_new - a cache of at most @max_entries open files, each
 * trusted for @valid_ms after its last check (0: statx on every hit).
 * @root_fd is borrowed. Return: the cache, or NULL (ENOMEM). */
struct zc_file_cache *zc_file_cache_new(int root_fd, unsigned max_entries,
                                        int64_t valid_ms);
void zc_file_cache_free(struct zc_file_cache *c);

/* zc_file_cache_get - the entry for @key with a reference taken for the
 * caller, or NULL when absent or no longer valid. */
struct zc_file *zc_file_cache_get(struct zc_file_cache *c, const char *key,
                                  size_t key_len, int64_t now_ms);

/* zc_file_make - a new entry (one reference, the caller's) for the open
 * regular file @fd (ownership passes to the entry) described by @st.
 * Return: the entry, or NULL (ENOMEM; @fd is then closed). */
struct zc_file *zc_file_make(int fd, const struct stat *st, const char *key,
                             size_t key_len, const char *relpath,
                             const char *mime, int64_t now_ms);

/* zc_file_cache_put - insert @f (the cache takes its own reference),
 * evicting the least recently used entry when full. */
void zc_file_cache_put(struct zc_file_cache *c, struct zc_file *f);

/* zc_file_cache_drop - remove @f from the cache (it stays alive while
 * references remain): call it when the file proved shorter than cached. */
void zc_file_cache_drop(struct zc_file_cache *c, struct zc_file *f);

/* zc_file_cache_body - the cached contents of @f, read on first use.
 * Return: 0 with *out set; -ENOSPC when @f is not cached, too large or over
 * the budget (read it another way); -ESTALE when the file proved shorter
 * than its stat (the entry was dropped: resolve again). */
int zc_file_cache_body(struct zc_file_cache *c, struct zc_file *f, const char **out);

void zc_file_ref(struct zc_file *f);
void zc_file_unref(struct zc_file *f);

#endif /* ZC_SERVE_FILE_CACHE_H */
