/* file_cache.c - per-thread open-file cache (see file_cache.h): a chained
 * hash table plus an LRU list, both intrusive, so a hit allocates nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "serve/file_cache.h"
#include "serve/http_cond.h"
#include "serve/http_date.h"

struct zc_file_cache {
    int root_fd;
    unsigned max_entries, count, nbuckets;
    int64_t valid_ms;
    size_t body_bytes;                      /* cached contents, all entries */
    struct zc_file *lru_head, *lru_tail;    /* head: most recently used */
    struct zc_file **buckets;
};

static uint32_t hash_key(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

struct zc_file_cache *zc_file_cache_new(int root_fd, unsigned max_entries,
                                        int64_t valid_ms)
{
    struct zc_file_cache *c = calloc(1, sizeof(*c));
    unsigned n = 16;

    if (!c)
        return NULL;
    while (n < max_entries * 2 && n < (1u << 20))
        n <<= 1;
    c->buckets = calloc(n, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->nbuckets = n;
    c->root_fd = root_fd;
    c->max_entries = max_entries;
    c->valid_ms = valid_ms;
    return c;
}

static void set_validators(struct zc_file *f)
{
    zc_etag_make(f->etag, f->ino, f->size, (int64_t)f->mtime.tv_sec,
                 f->mtime.tv_nsec);
    f->etag_len = strlen(f->etag);
    zc_http_date_format(f->mtime.tv_sec, f->last_modified);
}

struct zc_file *zc_file_make(int fd, const struct stat *st, const char *key,
                             size_t key_len, const char *relpath,
                             const char *mime, int64_t now_ms)
{
    struct zc_file *f = malloc(sizeof(*f) + key_len + 1);

    if (!f || !(f->relpath = strdup(relpath))) {
        free(f);
        close(fd);
        return NULL;
    }
    f->fd = fd;
    f->refs = 1;
    f->cached = false;
    f->size = (uint64_t)st->st_size;
    f->ino = st->st_ino;
    f->dev = st->st_dev;
    f->mtime = st->st_mtim;
    f->ctime = st->st_ctim;
    f->mime = mime;
    f->validated_ms = now_ms;
    f->body = NULL;
    memset(f->variant, 0, sizeof(f->variant));
    f->variants = f->probed = 0;
    f->hash = hash_key(key, key_len);
    f->bucket_next = f->lru_prev = f->lru_next = NULL;
    f->key_len = key_len;
    memcpy(f->key, key, key_len);
    f->key[key_len] = '\0';
    set_validators(f);
    return f;
}

void zc_file_ref(struct zc_file *f)
{
    f->refs++;
}

void zc_file_unref(struct zc_file *f)
{
    if (!f || --f->refs > 0)
        return;
    for (unsigned c = 0; c < ZC_CODING_COUNT; c++)
        zc_file_unref(f->variant[c]);
    close(f->fd);
    free(f->body);
    free(f->relpath);
    free(f);
}

static void lru_unlink(struct zc_file_cache *c, struct zc_file *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        c->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        c->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_front(struct zc_file_cache *c, struct zc_file *f)
{
    f->lru_prev = NULL;
    f->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = f;
    else
        c->lru_tail = f;
    c->lru_head = f;
}

void zc_file_cache_drop(struct zc_file_cache *c, struct zc_file *f)
{
    struct zc_file **pp;

    if (!f->cached)
        return;
    for (pp = &c->buckets[f->hash & (c->nbuckets - 1)]; *pp; pp = &(*pp)->bucket_next) {
        if (*pp == f) {
            *pp = f->bucket_next;
            break;
        }
    }
    lru_unlink(c, f);
    f->cached = false;
    c->count--;
    if (f->body)
        c->body_bytes -= f->size;
    zc_file_unref(f);
}

void zc_file_cache_free(struct zc_file_cache *c)
{
    if (!c)
        return;
    while (c->lru_head)
        zc_file_cache_drop(c, c->lru_head);
    free(c->buckets);
    free(c);
}

/* Is what @relpath + suffix names now what @f found when it was made: the
 * same variant, or still none (absent, not a regular file, or stale)? */
static bool variant_unchanged(struct zc_file_cache *c, const struct zc_file *f,
                              enum zc_coding k)
{
    const struct zc_file *v = f->variant[k];
    char path[PATH_MAX + 16];
    struct statx sx;
    bool usable;

    if ((size_t)snprintf(path, sizeof(path), "%s%s", f->relpath, zc_coding_suffix(k)) >=
        sizeof(path))
        return !v;
    usable = statx(c->root_fd, path, AT_STATX_SYNC_AS_STAT,
                   STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME,
                   &sx) == 0 && S_ISREG(sx.stx_mode) &&
             (sx.stx_mtime.tv_sec > f->mtime.tv_sec ||
              (sx.stx_mtime.tv_sec == f->mtime.tv_sec &&
               sx.stx_mtime.tv_nsec >= (uint32_t)f->mtime.tv_nsec));
    if (!usable || !v)
        return !usable && !v;
    return sx.stx_ino == v->ino && makedev(sx.stx_dev_major, sx.stx_dev_minor) == v->dev &&
           sx.stx_size == v->size && sx.stx_mtime.tv_sec == v->mtime.tv_sec &&
           sx.stx_mtime.tv_nsec == (uint32_t)v->mtime.tv_nsec &&
           sx.stx_ctime.tv_sec == v->ctime.tv_sec &&
           sx.stx_ctime.tv_nsec == (uint32_t)v->ctime.tv_nsec;
}

/* One statx of the path: the kernel resolves it again, so a file renamed
 * over or deleted is noticed. statx follows symlinks here; that is safe
 * because a result is only trusted when it names the very inode that
 * openat2(RESOLVE_BENEATH) opened, otherwise the entry is dropped and the
 * path resolved again under the root's confinement. Return: still valid. */
static bool revalidate(struct zc_file_cache *c, struct zc_file *f, int64_t now_ms)
{
    struct statx sx;

    if (statx(c->root_fd, f->relpath, AT_STATX_SYNC_AS_STAT,
              STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME,
              &sx) < 0)
        return false;
    if (sx.stx_ino != f->ino || makedev(sx.stx_dev_major, sx.stx_dev_minor) != f->dev ||
        !S_ISREG(sx.stx_mode))
        return false;
    /* Changed in place: drop rather than update, since responses in flight
     * may point at this entry's body and validators. */
    if (sx.stx_size != f->size || sx.stx_mtime.tv_sec != f->mtime.tv_sec ||
        sx.stx_mtime.tv_nsec != (uint32_t)f->mtime.tv_nsec ||
        sx.stx_ctime.tv_sec != f->ctime.tv_sec ||
        sx.stx_ctime.tv_nsec != (uint32_t)f->ctime.tv_nsec)
        return false;
    /* A variant that appeared, changed, went stale or vanished: the entry
     * is made again, variants and all. */
    for (unsigned k = 0; k < ZC_CODING_COUNT; k++)
        if ((f->probed & (1u << k)) && !variant_unchanged(c, f, (enum zc_coding)k))
            return false;
    f->validated_ms = now_ms;
    return true;
}

struct zc_file *zc_file_cache_get(struct zc_file_cache *c, const char *key,
                                  size_t key_len, int64_t now_ms)
{
    uint32_t h = hash_key(key, key_len);
    struct zc_file *f;

    for (f = c->buckets[h & (c->nbuckets - 1)]; f; f = f->bucket_next)
        if (f->hash == h && f->key_len == key_len && !memcmp(f->key, key, key_len))
            break;
    if (!f)
        return NULL;
    if (now_ms - f->validated_ms >= c->valid_ms && !revalidate(c, f, now_ms)) {
        zc_file_cache_drop(c, f);
        return NULL;
    }
    if (c->lru_head != f) {
        lru_unlink(c, f);
        lru_push_front(c, f);
    }
    zc_file_ref(f);
    return f;
}

void zc_file_cache_put(struct zc_file_cache *c, struct zc_file *f)
{
    struct zc_file **bucket;

    if (c->max_entries == 0 || f->cached)
        return;
    while (c->count >= c->max_entries && c->lru_tail)
        zc_file_cache_drop(c, c->lru_tail);
    bucket = &c->buckets[f->hash & (c->nbuckets - 1)];
    f->bucket_next = *bucket;
    *bucket = f;
    lru_push_front(c, f);
    f->cached = true;
    c->count++;
    zc_file_ref(f);
}

int zc_file_cache_body(struct zc_file_cache *c, struct zc_file *f, const char **out)
{
    size_t got = 0;
    char *buf;

    if (f->body) {
        *out = f->body;
        return 0;
    }
    if (!c || !f->cached || f->size == 0 || f->size > ZC_FILE_BODY_MAX ||
        c->body_bytes + f->size > ZC_FILE_BODY_BUDGET)
        return -ENOSPC;
    buf = malloc(f->size);
    if (!buf)
        return -ENOSPC;
    while (got < f->size) {
        ssize_t n = pread(f->fd, buf + got, f->size - got, (off_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            zc_file_cache_drop(c, f);
            return -ESTALE;
        }
        got += (size_t)n;
    }
    f->body = buf;
    c->body_bytes += f->size;
    *out = buf;
    return 0;
}
