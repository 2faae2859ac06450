/* segment.c - one segment: the .log file and its two indexes. Appends go by
 * pwrite (write mode) or by a copy into a preallocated shared mapping (mmap
 * mode); either way the bytes on disk are the same, and a mapped segment is
 * cut to its real length when it stops being the active one. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/guard.h"
#include "log/log_internal.h"

static int seg_path(char *out, const char *dir, int64_t base)
{
    int n = snprintf(out, PATH_MAX - 16, "%s/%020" PRId64, dir, base);

    /* Room for the longest suffix, ".timeindex". */
    return n < 0 || n >= PATH_MAX - 16 ? -ENAMETOOLONG : 0;
}

static void file_of(char *out, const struct zc_log_segment *s, const char *suffix)
{
    snprintf(out, PATH_MAX, "%s%s", s->path, suffix);
}

uint32_t zc__seg_index_capacity(const struct zc_log_config *cfg, enum zc_index_kind k)
{
    uint64_t n = cfg->segment_bytes / cfg->index_interval_bytes + 2;

    if (n > ZC_LOG_INDEX_MAX_BYTES / k)
        n = ZC_LOG_INDEX_MAX_BYTES / k;
    return n < 16 ? 16 : (uint32_t)n;
}

static struct zc_log_segment *seg_alloc(const char *dir, int64_t base)
{
    struct zc_log_segment *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    if (seg_path(s->path, dir, base) < 0) {
        free(s);
        errno = ENAMETOOLONG;
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->base_offset = base;
    s->next_offset = base;
    s->fd = -1;
    s->oidx.fd = -1;
    s->tidx.fd = -1;
    s->max_timestamp = -1;
    s->max_timestamp_offset = base;
    s->created_ms = zc__log_now_ms();
    return s;
}

/* Map the active segment for mmap appends: @need bytes at least, the
 * segment size normally. The file is extended (sparse) to the mapping's
 * length; blocks are reserved as the writes approach (prepare_ahead), so an
 * idle partition does not hold a whole segment of disk. */
static int map_active(struct zc_log_segment *s, const struct zc_log_config *cfg,
                      size_t need)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
    void *m;
    int ret;

    len = cfg->segment_bytes > need ? cfg->segment_bytes : need;
    len = (len + page - 1) & ~(page - 1);
    if (ftruncate(s->fd, (off_t)len) < 0)
        return -errno;
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (m == MAP_FAILED) {
        ret = -errno;
        /* Best effort: a longer file is cut by the next recovery anyway. */
        if (ftruncate(s->fd, (off_t)s->size) < 0)
            ret = ret == 0 ? -errno : ret;
        return ret;
    }
    s->map = m;
    s->map_len = len;
    s->prepared = (size_t)s->size & ~(page - 1);
    return 0;
}

static void unmap_active(struct zc_log_segment *s)
{
    if (s->map)
        munmap(s->map, s->map_len);
    s->map = NULL;
    s->map_len = 0;
}

int zc__seg_open_indexes(struct zc_log_segment *s, const struct zc_log_config *cfg,
                         bool writable, bool fresh)
{
    char path[PATH_MAX];
    int ret;

    zc_index_close(&s->oidx);
    zc_index_close(&s->tidx);
    file_of(path, s, ".index");
    ret = zc_index_open(&s->oidx, path, ZC_INDEX_OFFSET, writable,
                        zc__seg_index_capacity(cfg, ZC_INDEX_OFFSET), fresh);
    if (ret < 0)
        return ret;
    file_of(path, s, ".timeindex");
    return zc_index_open(&s->tidx, path, ZC_INDEX_TIME, writable,
                         zc__seg_index_capacity(cfg, ZC_INDEX_TIME), fresh);
}

int zc__seg_activate(struct zc_log_segment *s, const struct zc_log_config *cfg,
                     bool rebuild)
{
    int ret;

    if (rebuild || !s->oidx.writable || !s->tidx.writable) {
        ret = zc__seg_open_indexes(s, cfg, true, rebuild);
        if (ret < 0)
            return ret;
    }
    s->active = true;
    if (cfg->append_mode == ZC_LOG_APPEND_MMAP && !s->map)
        return map_active(s, cfg, (size_t)s->size);
    return 0;
}

int zc__seg_create(const char *dir, int64_t base, const struct zc_log_config *cfg,
                   size_t need, struct zc_log_segment **out)
{
    struct zc_log_segment *s = seg_alloc(dir, base);
    char path[PATH_MAX];
    int ret;

    if (!s)
        return -errno;
    file_of(path, s, ".log");
    s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        ret = -errno;
        free(s);
        return ret;
    }
    ret = zc__seg_activate(s, cfg, true);
    if (ret == 0 && cfg->append_mode == ZC_LOG_APPEND_MMAP && s->map_len < need) {
        unmap_active(s);
        ret = map_active(s, cfg, need);
    }
    if (ret < 0) {
        zc__seg_unlink(s);
        zc__seg_unref(s);
        return ret;
    }
    *out = s;
    return 0;
}

int zc__seg_open(const char *dir, int64_t base, struct zc_log_segment **out)
{
    struct zc_log_segment *s = seg_alloc(dir, base);
    char path[PATH_MAX];
    struct stat st;
    int ret;

    if (!s)
        return -errno;
    file_of(path, s, ".log");
    s->fd = open(path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &st) < 0) {
        ret = -errno;
        zc__seg_unref(s);
        return ret;
    }
    s->size = (uint64_t)st.st_size;
    *out = s;
    return 0;
}

int zc__seg_deactivate(struct zc_log_segment *s)
{
    int64_t ts;
    uint32_t rel;
    int ret, ret2;

    if (!s->active && !s->oidx.writable && !s->tidx.writable && !s->map)
        return 0;
    /* The last time entry holds the segment's largest timestamp, which
     * retention and the next load read back. */
    if (zc_index_last_time(&s->tidx, &ts, &rel) == 0 && s->max_timestamp > ts)
        zc_index_append_time(&s->tidx, s->max_timestamp,
                             (uint32_t)(s->max_timestamp_offset - s->base_offset));
    ret = zc_index_trim(&s->oidx);
    ret2 = zc_index_trim(&s->tidx);
    if (ret == 0)
        ret = ret2;
    if (s->map) {
        unmap_active(s);
        if (ftruncate(s->fd, (off_t)s->size) < 0 && ret == 0)
            ret = -errno;
    }
    s->active = false;
    return ret;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int zc__seg_grow_map(struct zc_log_segment *s, const struct zc_log_config *cfg, size_t need)
{
    unmap_active(s);
    return map_active(s, cfg, need);
}

#define PREPARE_STEP ((size_t)1 << 20)

/* Ready the mapping a MiB ahead of the writes: reserve the blocks
 * (fallocate), so a full disk fails an append with ENOSPC here instead of a
 * SIGBUS in the copy, then fault the pages in (MADV_POPULATE_WRITE), as
 * RocketMQ warms its mapped files: one madvise instead of a page fault and
 * the filesystem's page_mkwrite per 4 KiB page on the append path. Where a
 * filesystem lacks fallocate or a kernel (before 5.14) the madvise, that
 * step is skipped and the pages fault in as they are written.
 * Return: 0, or -errno when the bytes up to @end cannot be reserved. */
static int prepare_ahead(struct zc_log_segment *s, size_t end)
{
    while (s->prepared < s->map_len && end + PREPARE_STEP / 2 > s->prepared) {
        size_t len = s->map_len - s->prepared < PREPARE_STEP ? s->map_len - s->prepared
                                                              : PREPARE_STEP;
        int ret = s->no_fallocate ? 0 : posix_fallocate(s->fd, (off_t)s->prepared, (off_t)len);

        if (ret == EOPNOTSUPP || ret == EINVAL) {
            s->no_fallocate = true;
            ret = 0;
        }
        if (ret)
            return end > s->prepared ? -ret : 0;    /* retried by the next append */
        if (!s->no_populate &&
            madvise(s->map + s->prepared, len, MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
            s->no_populate = true;
        s->prepared += len;
    }
    return 0;
}

int zc__seg_write(struct zc_log_segment *s, const void *buf, size_t len)
{
    int ret;

    if (s->map) {
        if (s->size + len > s->map_len)
            return -ENOSPC;             /* the caller rolls before this */
        ret = prepare_ahead(s, s->size + len);
        if (ret == 0)
            ret = zc__guard_copy(s->map + s->size, buf, len);
    } else {
        ret = pwrite_all(s->fd, buf, len, (off_t)s->size);
        /* All or nothing: cut what a failed write (ENOSPC, EIO) left. */
        if (ret < 0 && ftruncate(s->fd, (off_t)s->size) < 0)
            ret = -EIO;
    }
    if (ret == 0)
        s->size += len;
    return ret;
}

void zc__seg_index_batch(struct zc_log_segment *s, const struct zc_batch *b,
                         uint64_t pos, uint32_t interval)
{
    int64_t last = zc_batch_last_offset(b), ts;
    uint32_t rel;

    if (b->max_timestamp > s->max_timestamp) {
        s->max_timestamp = b->max_timestamp;
        s->max_timestamp_offset = last;
    }
    /* As Kafka: an entry once more than @interval bytes went in since the
     * last one, keyed by the batch's last offset. A full or faulting index
     * only makes lookups scan further; recovery rebuilds it. */
    if (s->bytes_since_index > interval) {
        zc_index_append_offset(&s->oidx, (uint32_t)(last - s->base_offset), (uint32_t)pos);
        if (zc_index_last_time(&s->tidx, &ts, &rel) == 0 && s->max_timestamp > ts)
            zc_index_append_time(&s->tidx, s->max_timestamp,
                                 (uint32_t)(s->max_timestamp_offset - s->base_offset));
        s->bytes_since_index = 0;
    }
    s->bytes_since_index += b->size;
    s->next_offset = last + 1;
}

int zc__seg_sync(struct zc_log_segment *s)
{
    int ret = 0, r;

    if (fdatasync(s->fd) < 0)
        ret = -errno;
    /* The active segment's indexes are rebuilt by recovery: only the
     * inactive ones must be durable. */
    if (!s->active) {
        r = zc_index_sync(&s->oidx);
        if (ret == 0)
            ret = r;
        r = zc_index_sync(&s->tidx);
        if (ret == 0)
            ret = r;
    }
    return ret;
}

int zc__seg_truncate(struct zc_log_segment *s, uint64_t size)
{
    if (ftruncate(s->fd, (off_t)size) < 0)
        return -errno;
    s->size = size;
    return 0;
}

int zc__seg_unlink(struct zc_log_segment *s)
{
    static const char *const suffixes[] = { ".log", ".index", ".timeindex" };
    char path[PATH_MAX];
    int ret = 0;

    for (size_t i = 0; i < 3; i++) {
        file_of(path, s, suffixes[i]);
        if (unlink(path) < 0 && errno != ENOENT && ret == 0)
            ret = -errno;
    }
    return ret;
}

void zc__seg_ref(struct zc_log_segment *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void zc__seg_unref(struct zc_log_segment *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    unmap_active(s);
    zc_index_close(&s->oidx);
    zc_index_close(&s->tidx);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

int zc__seg_walk(struct zc_log_segment *s, uint64_t pos,
                 int (*fn)(void *arg, uint64_t pos, const struct zc_batch *b), void *arg)
{
    /* An index entry every 4 KiB: the batch wanted is usually within the
     * first read. */
    uint8_t buf[8192];
    struct zc_batch b;

    while (pos < s->size) {
        size_t want = s->size - pos < sizeof(buf) ? (size_t)(s->size - pos) : sizeof(buf);
        ssize_t got = pread(s->fd, buf, want, (off_t)pos);
        size_t at = 0;

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got < ZC_BATCH_HEADER)
            return -EIO;                /* shorter than we stored: truncated */
        while (at + ZC_BATCH_HEADER <= (size_t)got) {
            ssize_t size = zc_batch_header(buf + at, (size_t)got - at, &b);
            int ret;

            if (size <= 0 || pos + at + (uint64_t)size > s->size)
                return -EIO;
            ret = fn(arg, pos + at, &b);
            if (ret)
                return ret;
            at += (size_t)size;
            if (pos + at >= s->size)
                return 0;
        }
        pos += at;
    }
    return 0;
}

struct find_args {
    int64_t offset, ts;
    uint64_t pos;
    struct zc_batch *b;
};

static int on_find(void *arg, uint64_t pos, const struct zc_batch *b)
{
    struct find_args *a = arg;

    if (a->ts >= 0 ? b->max_timestamp < a->ts : zc_batch_last_offset(b) < a->offset)
        return 0;
    a->pos = pos;
    *a->b = *b;
    return 1;
}

int zc__seg_find_batch(struct zc_log_segment *s, uint64_t pos, int64_t offset,
                       int64_t ts, uint64_t *found_pos, struct zc_batch *b)
{
    struct find_args a = { offset, ts, 0, b };
    int ret = zc__seg_walk(s, pos, on_find, &a);

    if (ret == 1)
        *found_pos = a.pos;
    return ret;
}
