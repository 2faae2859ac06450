/* index.c - offset and time indexes (see index.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/batch.h"
#include "log/guard.h"
#include "log/index.h"

static int map_file(struct zc_index *ix, size_t len, bool writable)
{
    void *m;

    ix->map = NULL;
    ix->map_len = 0;
    if (len == 0)
        return 0;
    m = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
             ix->fd, 0);
    if (m == MAP_FAILED)
        return -errno;
    ix->map = m;
    ix->map_len = len;
    return 0;
}

static void unmap(struct zc_index *ix)
{
    if (ix->map)
        munmap(ix->map, ix->map_len);
    ix->map = NULL;
    ix->map_len = 0;
}

int zc_index_open(struct zc_index *ix, const char *path, enum zc_index_kind kind,
                  bool writable, uint32_t capacity, bool fresh)
{
    struct stat st;
    uint64_t have;
    int ret;

    ix->entry_size = kind;
    ix->map = NULL;
    ix->map_len = 0;
    ix->writable = writable;
    ix->damaged = false;
    ix->fd = open(path, O_RDWR | O_CLOEXEC);
    if (ix->fd < 0 && errno == ENOENT) {
        ix->damaged = !fresh;           /* a missing index is rebuilt */
        ix->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    }
    if (ix->fd < 0)
        return -errno;
    if (fstat(ix->fd, &st) < 0)
        goto fail_errno;
    if (!fresh && st.st_size % kind)
        ix->damaged = true;
    have = fresh ? 0 : (uint64_t)st.st_size / kind;
    if (have > UINT32_MAX / kind)
        have = 0;                       /* nonsense length: rebuilt by sanity */
    ix->entries = (uint32_t)have;
    if (writable) {
        if (capacity < ix->entries + 1)
            capacity = ix->entries + 1;
        ix->capacity = capacity;
        if ((uint64_t)st.st_size != (uint64_t)capacity * kind) {
            /* Keep loaded entries: shrinking first drops stale bytes past
             * them, then the file grows to its capacity. */
            if (ftruncate(ix->fd, (off_t)ix->entries * kind) < 0)
                goto fail_errno;
            /* Sparse, as Kafka's: an index of a 1 GiB segment is 2-3 MiB
             * that an idle partition should not hold. A write into a hole on
             * a full disk faults; the guard makes that -EIO and the entry is
             * skipped (a sparser index, never a wrong one). */
            if (ftruncate(ix->fd, (off_t)capacity * kind) < 0)
                goto fail_errno;
        }
        ret = map_file(ix, (size_t)capacity * kind, true);
    } else {
        ix->capacity = ix->entries;
        ret = map_file(ix, (size_t)ix->entries * kind, false);
    }
    if (ret < 0)
        goto fail;
    return 0;

fail_errno:
    ret = -errno;
fail:
    close(ix->fd);
    ix->fd = -1;
    return ret;
}

void zc_index_close(struct zc_index *ix)
{
    unmap(ix);
    if (ix->fd >= 0)
        close(ix->fd);
    ix->fd = -1;
}

struct entry_args {
    struct zc_index *ix;
    uint32_t i;
    int64_t key, value;
};

static void decode(const struct zc_index *ix, uint32_t i, int64_t *key, int64_t *value)
{
    const uint8_t *e = ix->map + (size_t)i * ix->entry_size;

    if (ix->entry_size == ZC_INDEX_OFFSET) {
        *key = (int32_t)zc_be32(e);
        *value = (int32_t)zc_be32(e + 4);
    } else {
        *key = (int64_t)zc_be64(e);
        *value = (int32_t)zc_be32(e + 8);
    }
}

static int read_entry(void *arg)
{
    struct entry_args *a = arg;

    decode(a->ix, a->i, &a->key, &a->value);
    return 0;
}

int zc_index_entry(struct zc_index *ix, uint32_t i, int64_t *key, int64_t *value)
{
    struct entry_args a = { ix, i, 0, 0 };
    int ret;

    if (i >= ix->entries)
        return -ERANGE;
    ret = zc__guard_run(read_entry, &a);
    *key = a.key;
    *value = a.value;
    return ret;
}

struct sane_args {
    struct zc_index *ix;
    uint64_t log_size;
    int64_t next_rel;
};

static int check_sane(void *arg)
{
    struct sane_args *a = arg;
    int64_t prev_key = -1, prev_val = -1, key, val;

    for (uint32_t i = 0; i < a->ix->entries; i++) {
        decode(a->ix, i, &key, &val);
        if (a->ix->entry_size == ZC_INDEX_OFFSET) {
            /* Keys strictly increase; positions too, inside the log. */
            if (key < 0 || key <= prev_key || key >= a->next_rel || val < 0 ||
                val <= prev_val || (uint64_t)val >= a->log_size)
                return 0;
        } else {
            if (val < 0 || val >= a->next_rel || key <= prev_key || val < prev_val)
                return 0;
        }
        prev_key = key;
        prev_val = val;
    }
    return 1;
}

bool zc_index_sane(struct zc_index *ix, uint64_t log_size, int64_t next_rel)
{
    struct sane_args a = { ix, log_size, next_rel };

    if (ix->damaged)
        return false;
    return zc__guard_run(check_sane, &a) == 1;
}

static int append(struct zc_index *ix, const uint8_t *entry)
{
    int ret;

    if (!ix->writable || ix->entries >= ix->capacity)
        return -ENOSPC;
    ret = zc__guard_copy(ix->map + (size_t)ix->entries * ix->entry_size, entry,
                         ix->entry_size);
    if (ret == 0)
        ix->entries++;
    return ret;
}

int zc_index_append_offset(struct zc_index *ix, uint32_t rel, uint32_t pos)
{
    uint8_t e[8];

    zc_put_be32(e, rel);
    zc_put_be32(e + 4, pos);
    return append(ix, e);
}

int zc_index_append_time(struct zc_index *ix, int64_t ts, uint32_t rel)
{
    uint8_t e[12];

    zc_put_be64(e, (uint64_t)ts);
    zc_put_be32(e + 8, rel);
    return append(ix, e);
}

struct search_args {
    struct zc_index *ix;
    int64_t target;
    int64_t found;                      /* value of the entry found, or -1 */
};

/* Binary search for the last entry whose key is <= target (offset index) or
 * < target (time index). */
static int search(void *arg)
{
    struct search_args *a = arg;
    uint32_t lo = 0, hi = a->ix->entries;
    bool strict = a->ix->entry_size == ZC_INDEX_TIME;
    int64_t key, val;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        decode(a->ix, mid, &key, &val);
        if (strict ? key < a->target : key <= a->target)
            lo = mid + 1;
        else
            hi = mid;
    }
    a->found = -1;
    if (lo > 0) {
        decode(a->ix, lo - 1, &key, &val);
        a->found = val;
    }
    return 0;
}

int zc_index_lookup_offset(struct zc_index *ix, uint32_t rel, uint32_t *pos)
{
    struct search_args a = { ix, rel, -1 };
    int ret = zc__guard_run(search, &a);

    *pos = a.found < 0 ? 0 : (uint32_t)a.found;
    return ret;
}

int zc_index_lookup_time(struct zc_index *ix, int64_t ts, uint32_t *rel)
{
    struct search_args a = { ix, ts, -1 };
    int ret = zc__guard_run(search, &a);

    *rel = a.found < 0 ? 0 : (uint32_t)a.found;
    return ret;
}

int zc_index_last_time(struct zc_index *ix, int64_t *ts, uint32_t *rel)
{
    int64_t key, val;
    int ret;

    *ts = -1;
    *rel = 0;
    if (ix->entries == 0)
        return 0;
    ret = zc_index_entry(ix, ix->entries - 1, &key, &val);
    if (ret == 0) {
        *ts = key;
        *rel = (uint32_t)val;
    }
    return ret;
}

int zc_index_trim(struct zc_index *ix)
{
    unmap(ix);
    ix->writable = false;
    ix->capacity = ix->entries;
    if (ftruncate(ix->fd, (off_t)ix->entries * ix->entry_size) < 0)
        return -errno;
    return map_file(ix, (size_t)ix->entries * ix->entry_size, false);
}

int zc_index_sync(struct zc_index *ix)
{
    /* On Linux the page cache is shared: fsync writes pages dirtied through
     * a MAP_SHARED mapping too, so no msync is needed. */
    return fsync(ix->fd) < 0 ? -errno : 0;
}

void zc_index_reset(struct zc_index *ix)
{
    ix->entries = 0;
}
