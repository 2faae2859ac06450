/* recover.c - loading a partition's segments at start, and recovery: the
 * segments from the recovery point on are re-read batch by batch (length,
 * magic, CRC-32C, offsets), the file is cut at the first bad batch, later
 * segments are deleted and the indexes rebuilt. Trusted segments (below the
 * recovery point, or everything after a clean shutdown) only get their
 * indexes checked; any inconsistency there falls back to the same rebuild. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_internal.h"

#define SCAN_CHUNK (1u << 20)

static int read_at(int fd, uint8_t *buf, size_t len, uint64_t pos, size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t n = pread(fd, buf + *got, len - *got, (off_t)(pos + *got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

int zc__seg_scan(int fd, int64_t base, struct zc_log_scan *scan,
                 int (*fn)(void *arg, uint64_t pos, const struct zc_batch *b,
                           const uint8_t *bytes),
                 void *arg)
{
    size_t cap = SCAN_CHUNK, got;
    uint8_t *buf = malloc(cap);
    uint64_t pos = 0;
    struct stat st;
    int ret = 0;

    memset(scan, 0, sizeof(*scan));
    scan->next_offset = base;
    if (!buf)
        return -ENOMEM;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        goto out;
    }
    scan->file_size = (uint64_t)st.st_size;
    while (pos < scan->file_size && !scan->problem) {
        uint64_t left = scan->file_size - pos;
        size_t at = 0;

        ret = read_at(fd, buf, left < cap ? (size_t)left : cap, pos, &got);
        if (ret < 0)
            goto out;
        while (at < got) {
            struct zc_batch b;
            ssize_t n = zc_batch_check(buf + at, got - at, &b);

            if (n == 0) {
                if (at > 0)
                    break;              /* re-read from this batch */
                if (got < ZC_BATCH_HEADER || b.size > left) {
                    scan->problem = all_zero(buf, got) ? "zero-filled tail (untrimmed preallocation)"
                                                       : "torn batch: runs past the end of the file";
                    break;
                }
                uint8_t *bigger = realloc(buf, b.size);   /* a batch over the chunk */
                if (!bigger) {
                    ret = -ENOMEM;
                    goto out;
                }
                buf = bigger;
                cap = b.size;
                break;
            }
            if (n < 0) {
                scan->problem = got - at >= 12 && all_zero(buf + at, 12)
                                    ? "zero-filled tail (untrimmed preallocation)"
                                    : "bad batch: length, magic or CRC-32C";
                break;
            }
            if (b.base_offset < scan->next_offset || b.last_offset_delta < 0 ||
                b.records_count < 0 || zc_batch_last_offset(&b) - base > INT32_MAX) {
                scan->problem = "offsets out of order or outside the segment";
                break;
            }
            if (fn) {
                ret = fn(arg, pos + at, &b, buf + at);
                if (ret < 0)
                    goto out;
            }
            scan->next_offset = zc_batch_last_offset(&b) + 1;
            scan->batches++;
            at += (size_t)n;
        }
        if (scan->problem)
            scan->problem_offset = scan->next_offset;
        pos += at;
    }
    scan->valid_bytes = pos;
out:
    free(buf);
    return ret;
}

static int cmp_base(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Base offsets of the .log files in @dir, sorted. */
static int list_segments(const char *dir, int64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int64_t *v = NULL;
    size_t cap = 0;
    int ret = 0;

    *n = 0;
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char *end;
        long long base;

        if (len != 24 || strcmp(e->d_name + 20, ".log"))
            continue;
        base = strtoll(e->d_name, &end, 10);
        if (end != e->d_name + 20 || base < 0)
            continue;
        if (*n == cap) {
            int64_t *m = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

            if (!m) {
                ret = -ENOMEM;
                break;
            }
            v = m;
        }
        v[(*n)++] = base;
    }
    closedir(d);
    if (ret < 0) {
        free(v);
        return ret;
    }
    if (*n > 1)
        qsort(v, *n, sizeof(*v), cmp_base);
    *out = v;
    return 0;
}

struct rebuild_args {
    struct zc_log_segment *s;
    uint32_t interval;
};

static int on_rebuild(void *arg, uint64_t pos, const struct zc_batch *b, const uint8_t *bytes)
{
    struct rebuild_args *a = arg;

    (void)bytes;
    zc__seg_index_batch(a->s, b, pos, a->interval);
    return 0;
}

/* Re-read every batch of @s into fresh writable indexes. Return: 1 when
 * bytes had to be cut, 0 when the segment was whole, or -errno. */
static int rebuild(struct zc_log_segment *s, const struct zc_log_config *cfg)
{
    struct rebuild_args a = { s, cfg->index_interval_bytes };
    struct zc_log_scan scan;
    int ret;

    ret = zc__seg_open_indexes(s, cfg, true, true);
    if (ret < 0)
        return ret;
    s->max_timestamp = -1;
    s->bytes_since_index = 0;
    s->next_offset = s->base_offset;
    ret = zc__seg_scan(s->fd, s->base_offset, &scan, on_rebuild, &a);
    if (ret < 0)
        return ret;
    s->size = scan.valid_bytes;
    if (scan.valid_bytes == scan.file_size)
        return 0;
    ret = zc__seg_truncate(s, scan.valid_bytes);
    return ret < 0 ? ret : 1;
}

static int on_walk(void *arg, uint64_t pos, const struct zc_batch *b)
{
    struct zc_log_segment *s = arg;

    (void)pos;
    if (b->max_timestamp > s->max_timestamp) {
        s->max_timestamp = b->max_timestamp;
        s->max_timestamp_offset = zc_batch_last_offset(b);
    }
    s->next_offset = zc_batch_last_offset(b) + 1;
    s->bytes_since_index += b->size;
    return 0;
}

/* A trusted segment: open its indexes as they are, check them, and learn
 * its end offset and largest timestamp from the batches after the last
 * index entry. Return: 0, 1 when it must be rebuilt instead, or -errno. */
static int load_trusted(struct zc_log_segment *s, const struct zc_log_config *cfg,
                        bool active, int64_t next_base)
{
    int64_t key, val, ts;
    uint32_t rel;
    uint64_t from = 0;
    int ret;

    ret = zc__seg_open_indexes(s, cfg, active, false);
    if (ret < 0)
        return ret;
    if (!zc_index_sane(&s->oidx, s->size, next_base - s->base_offset) ||
        !zc_index_sane(&s->tidx, s->size, next_base - s->base_offset))
        return 1;
    if (s->oidx.entries && zc_index_entry(&s->oidx, s->oidx.entries - 1, &key, &val) == 0)
        from = (uint64_t)val;
    if (zc_index_last_time(&s->tidx, &ts, &rel) == 0 && ts >= 0) {
        s->max_timestamp = ts;
        s->max_timestamp_offset = s->base_offset + rel;
    }
    s->bytes_since_index = 0;
    ret = zc__seg_walk(s, from, on_walk, s);
    if (ret < 0 || s->next_offset > next_base)
        return 1;                       /* headers do not add up: rebuild */
    return 0;
}

/* Roll by age counts from the first batch's timestamp, as Kafka does. */
static void date_segment(struct zc_log_segment *s)
{
    uint8_t h[ZC_BATCH_HEADER];
    struct zc_batch b;

    if (s->size >= ZC_BATCH_HEADER && pread(s->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
        zc_batch_header(h, sizeof(h), &b) > 0 && b.max_timestamp >= 0)
        s->created_ms = b.max_timestamp;
}

int zc__partition_load(struct zc_log_partition *p, const struct zc_log_config *cfg,
                       int64_t recover_from)
{
    int64_t *bases = NULL;
    size_t n = 0, first_recover;
    int ret;

    ret = list_segments(p->dir, &bases, &n);
    if (ret < 0)
        return ret;
    if (n == 0) {
        struct zc_log_segment *s;

        free(bases);
        ret = zc__seg_create(p->dir, 0, cfg, 0, &s);
        if (ret < 0)
            return ret;
        ret = zc__partition_add_segment(p, s);
        if (ret < 0) {
            zc__seg_unref(s);
            return ret;
        }
        p->dir_dirty = true;
        p->next_offset = p->recovery_point = p->checkpointed = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct zc_log_segment *s;

        ret = zc__seg_open(p->dir, bases[i], &s);
        if (ret == 0) {
            ret = zc__partition_add_segment(p, s);
            if (ret < 0)
                zc__seg_unref(s);
        }
        if (ret < 0) {
            free(bases);
            return ret;
        }
    }
    free(bases);

    /* Kafka re-reads from the segment holding the recovery point. */
    first_recover = p->nsegs;
    if (recover_from != INT64_MAX) {
        first_recover = 0;
        while (first_recover + 1 < p->nsegs &&
               p->segs[first_recover + 1]->base_offset <= recover_from)
            first_recover++;
    }
    for (size_t i = 0; i < p->nsegs; i++) {
        struct zc_log_segment *s = p->segs[i];
        bool last = i + 1 == p->nsegs;
        int64_t next_base = last ? INT64_MAX : p->segs[i + 1]->base_offset;

        ret = 1;
        if (i < first_recover) {
            ret = load_trusted(s, cfg, last, next_base);
            if (ret < 0)
                return ret;
        }
        if (ret == 1) {
            ret = rebuild(s, cfg);
            if (ret < 0)
                return ret;
            if (ret == 1 || s->next_offset > next_base) {
                /* Cut here: whatever followed is no longer a clean prefix. */
                for (size_t j = i + 1; j < p->nsegs; j++) {
                    zc__seg_unlink(p->segs[j]);
                    zc__seg_unref(p->segs[j]);
                }
                p->nsegs = i + 1;
                p->dir_dirty = true;
                last = true;
            }
            if (!last) {
                ret = zc__seg_deactivate(s);
                if (ret < 0)
                    return ret;
            }
        }
        date_segment(s);
        if (last)
            break;
    }
    ret = zc__seg_activate(p->segs[p->nsegs - 1], cfg, false);
    if (ret < 0)
        return ret;
    p->next_offset = p->segs[p->nsegs - 1]->next_offset;
    p->recovery_point = recover_from < p->next_offset ? recover_from : p->next_offset;
    p->checkpointed = p->recovery_point;
    return 0;
}
