/* partition.c - one topic-partition: its segments, append (validate, assign
 * offsets, write, index), reads as file ranges, lookups by time, roll,
 * retention and flush. Every entry point takes the partition lock; nothing
 * here waits on the network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log_internal.h"

static const struct zc_log_config *cfg_of(const struct zc_log_partition *p)
{
    return &p->topic->cfg;
}

static struct zc_log_segment *active_seg(const struct zc_log_partition *p)
{
    return p->segs[p->nsegs - 1];
}

struct zc_log_partition *zc__partition_new(struct zc_log_topic *t, int32_t index,
                                           const char *dir)
{
    struct zc_log_partition *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->topic = t;
    p->index = index;
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    p->last_flush_ms = zc__log_now_ms();
    return p;
}

void zc__partition_free(struct zc_log_partition *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsegs; i++)
        zc__seg_unref(p->segs[i]);
    free(p->segs);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int zc__partition_add_segment(struct zc_log_partition *p, struct zc_log_segment *s)
{
    if (p->nsegs == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct zc_log_segment **n = realloc(p->segs, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        p->segs = n;
        p->cap = cap;
    }
    p->segs[p->nsegs++] = s;
    return 0;
}

/* The index of the last segment whose base is <= @offset (0 when none). */
static size_t seg_for(const struct zc_log_partition *p, int64_t offset)
{
    size_t lo = 0, hi = p->nsegs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* fsync every segment written since the recovery point (their indexes too,
 * once inactive) and the directory when files came or went; then everything
 * below the end offset survives a power loss. */
int zc__partition_flush(struct zc_log_partition *p)
{
    int ret = 0, r;

    for (size_t i = seg_for(p, p->recovery_point); i < p->nsegs; i++) {
        r = zc__seg_sync(p->segs[i]);
        if (ret == 0)
            ret = r;
    }
    if (p->dir_dirty) {
        r = zc__log_fsync_dir(p->dir);
        if (r == 0)
            p->dir_dirty = false;
        else if (ret == 0)
            ret = r;
    }
    if (ret == 0) {
        p->recovery_point = p->next_offset;
        p->dirty = false;
    }
    p->last_flush_ms = zc__log_now_ms();
    return ret;
}

/* Start a new active segment at the end offset; the old one is trimmed and,
 * under flush=roll, made durable. */
static int roll(struct zc_log_partition *p, size_t need)
{
    const struct zc_log_config *cfg = cfg_of(p);
    struct zc_log_segment *old = active_seg(p), *s;
    int ret;

    ret = zc__seg_create(p->dir, p->next_offset, cfg, need, &s);
    if (ret < 0)
        return ret;
    ret = zc__partition_add_segment(p, s);
    if (ret < 0) {
        zc__seg_unlink(s);
        zc__seg_unref(s);
        return ret;
    }
    p->dir_dirty = true;
    /* From here the roll happened. A failed trim or flush is not this
     * append's failure: the recovery point stays behind, so a later flush
     * retries and a crash re-reads (and cuts) the old segment. */
    zc__seg_deactivate(old);
    if (cfg->flush == ZC_LOG_FLUSH_ROLL)
        zc__partition_flush(p);
    return 0;
}

static bool should_roll(const struct zc_log_partition *p, size_t len, int64_t records)
{
    const struct zc_log_segment *s = active_seg(p);
    const struct zc_log_config *cfg = cfg_of(p);

    /* Relative offsets in the index are 32-bit: a segment never spans more. */
    if (p->next_offset + records - 1 - s->base_offset > INT32_MAX)
        return true;
    if (s->size == 0)
        return false;
    return s->size + len > cfg->segment_bytes || zc_index_full(&s->oidx) ||
           zc_index_full(&s->tidx) || (s->map && s->size + len > s->map_len);
}

int zc_log_append(struct zc_log_partition *p, void *batches, size_t len,
                  int32_t leader_epoch, struct zc_log_append_result *res)
{
    const struct zc_log_config *cfg;
    struct zc_log_segment *s;
    struct zc_batch b;
    uint8_t *buf = batches;
    int64_t records = 0, offset;
    uint64_t pos;
    size_t at;
    ssize_t n;
    int ret;

    if (!p || !batches || len == 0)
        return -EINVAL;
    cfg = cfg_of(p);
    /* All or nothing: every batch is checked before one byte is written. */
    for (at = 0; at < len; at += (size_t)n) {
        n = zc_batch_validate(buf + at, len - at, cfg->max_message_bytes, &b);
        if (n < 0)
            return (int)n;
        records += b.records_count;
    }
    if (records > INT32_MAX)
        return -EINVAL;

    pthread_mutex_lock(&p->lock);
    if (p->deleted) {
        ret = -ENOENT;
        goto out;
    }
    if (should_roll(p, len, records)) {
        ret = roll(p, len);
        if (ret < 0)
            goto out;
    }
    s = active_seg(p);
    if (s->map && s->size + len > s->map_len) {
        ret = zc__seg_grow_map(s, cfg, s->size + len);
        if (ret < 0)
            goto out;
    }
    offset = p->next_offset;
    for (at = 0; at < len; at += b.size) {
        zc_batch_header(buf + at, len - at, &b);
        zc_put_be64(buf + at + ZC_BATCH_BASE_OFFSET, (uint64_t)offset);
        zc_put_be32(buf + at + ZC_BATCH_LEADER_EPOCH, (uint32_t)leader_epoch);
        offset += b.records_count;
    }
    pos = s->size;
    ret = zc__seg_write(s, buf, len);
    if (ret < 0)
        goto out;
    for (at = 0; at < len; at += b.size) {
        zc_batch_header(buf + at, len - at, &b);
        zc__seg_index_batch(s, &b, pos + at, cfg->index_interval_bytes);
    }
    if (res) {
        res->base_offset = p->next_offset;
        res->last_offset = offset - 1;
        res->log_start_offset = p->segs[0]->base_offset;
    }
    p->next_offset = offset;
    p->dirty = true;
    if (cfg->flush == ZC_LOG_FLUSH_EVERY)
        ret = zc__partition_flush(p);
out:
    pthread_mutex_unlock(&p->lock);
    return ret;
}

int64_t zc_log_start_offset(struct zc_log_partition *p)
{
    int64_t v;

    pthread_mutex_lock(&p->lock);
    v = p->deleted ? -ENOENT : p->segs[0]->base_offset;
    pthread_mutex_unlock(&p->lock);
    return v;
}

int64_t zc_log_end_offset(struct zc_log_partition *p)
{
    int64_t v;

    pthread_mutex_lock(&p->lock);
    v = p->deleted ? -ENOENT : p->next_offset;
    pthread_mutex_unlock(&p->lock);
    return v;
}

int zc_log_read(struct zc_log_partition *p, int64_t offset, size_t max_bytes,
                bool min_one_batch, struct zc_log_range *out)
{
    struct zc_batch b;
    int ret = 0;

    memset(out, 0, sizeof(*out));
    out->fd = -1;
    pthread_mutex_lock(&p->lock);
    if (p->deleted) {
        ret = -ENOENT;
        goto out;
    }
    if (offset < p->segs[0]->base_offset || offset > p->next_offset) {
        ret = -ERANGE;
        goto out;
    }
    for (size_t i = seg_for(p, offset); i < p->nsegs && offset < p->next_offset; i++) {
        struct zc_log_segment *s = p->segs[i];
        uint32_t ipos = 0;
        uint64_t pos, len;

        if (offset >= s->base_offset) {
            int64_t rel = offset - s->base_offset;

            ret = zc_index_lookup_offset(&s->oidx, rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel,
                                         &ipos);
            if (ret < 0)
                goto out;
        }
        ret = zc__seg_find_batch(s, ipos, offset, -1, &pos, &b);
        if (ret < 0)
            goto out;
        if (ret == 0)
            continue;                   /* an offset gap: the next segment */
        ret = 0;
        len = s->size - pos;
        if (len > max_bytes)
            len = max_bytes;
        if (min_one_batch && len < b.size)
            len = b.size <= s->size - pos ? b.size : s->size - pos;
        if (len == 0)
            break;
        zc__seg_ref(s);
        out->fd = s->fd;
        out->pos = (off_t)pos;
        out->len = (size_t)len;
        out->segment = s;
        break;
    }
out:
    pthread_mutex_unlock(&p->lock);
    return ret;
}

void zc_log_range_release(struct zc_log_range *r)
{
    if (!r)
        return;
    zc__seg_unref(r->segment);
    r->segment = NULL;
    r->fd = -1;
    r->len = 0;
}

int zc_log_offset_for_time(struct zc_log_partition *p, int64_t ts, int64_t *offset,
                           int64_t *timestamp)
{
    struct zc_batch b;
    int ret = -ENOENT;

    if (ts < 0)
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    if (p->deleted) {
        ret = -ENOENT;
        goto out;
    }
    for (size_t i = 0; i < p->nsegs; i++) {
        struct zc_log_segment *s = p->segs[i];
        uint32_t rel, ipos;
        uint64_t pos;
        int r;

        if (s->max_timestamp < ts)
            continue;
        /* The time index names the last offset whose running maximum is
         * still below @ts: no batch up to it qualifies, so scan from it. */
        r = zc_index_lookup_time(&s->tidx, ts, &rel);
        if (r == 0)
            r = zc_index_lookup_offset(&s->oidx, rel, &ipos);
        if (r == 0)
            r = zc__seg_find_batch(s, ipos, -1, ts, &pos, &b);
        if (r < 0) {
            ret = r;
            goto out;
        }
        if (r == 1) {
            *offset = b.base_offset;
            *timestamp = b.max_timestamp;
            ret = 0;
            goto out;
        }
    }
out:
    pthread_mutex_unlock(&p->lock);
    return ret;
}

/* Drop the oldest segment: out of the list and off the disk now; ranges
 * still holding it keep reading through their fd. */
static int delete_oldest(struct zc_log_partition *p)
{
    struct zc_log_segment *s = p->segs[0];
    int ret = zc__seg_unlink(s);

    memmove(p->segs, p->segs + 1, (p->nsegs - 1) * sizeof(*p->segs));
    p->nsegs--;
    p->dir_dirty = true;
    if (p->recovery_point < p->segs[0]->base_offset)
        p->recovery_point = p->segs[0]->base_offset;
    zc__seg_unref(s);
    return ret;
}

static int retention(struct zc_log_partition *p, int64_t now_ms)
{
    const struct zc_log_config *cfg = cfg_of(p);
    uint64_t total = 0;
    int ret = 0, r;

    /* Whole segments, oldest first, never the active one. */
    while (cfg->retention_ms >= 0 && p->nsegs > 1) {
        struct zc_log_segment *s = p->segs[0];
        int64_t newest = s->max_timestamp >= 0 ? s->max_timestamp : s->created_ms;

        if (now_ms - newest <= cfg->retention_ms)
            break;
        r = delete_oldest(p);
        if (ret == 0)
            ret = r;
    }
    if (cfg->retention_bytes <= 0)
        return ret;
    for (size_t i = 0; i < p->nsegs; i++)
        total += p->segs[i]->size;
    while (p->nsegs > 1 && total - p->segs[0]->size >= (uint64_t)cfg->retention_bytes) {
        total -= p->segs[0]->size;
        r = delete_oldest(p);
        if (ret == 0)
            ret = r;
    }
    return ret;
}

int zc__partition_tick(struct zc_log_partition *p, int64_t now_ms)
{
    const struct zc_log_config *cfg = cfg_of(p);
    struct zc_log_segment *s;
    int ret = 0, r;

    pthread_mutex_lock(&p->lock);
    if (p->deleted)
        goto out;
    s = active_seg(p);
    if (s->size > 0 && now_ms - s->created_ms >= cfg->segment_ms)
        ret = roll(p, 0);
    r = retention(p, now_ms);
    if (ret == 0)
        ret = r;
    if (cfg->flush == ZC_LOG_FLUSH_INTERVAL && p->dirty &&
        now_ms - p->last_flush_ms >= cfg->flush_interval_ms) {
        r = zc__partition_flush(p);
        if (ret == 0)
            ret = r;
    }
out:
    pthread_mutex_unlock(&p->lock);
    return ret;
}

int zc__partition_close(struct zc_log_partition *p)
{
    int ret = 0, r;

    pthread_mutex_lock(&p->lock);
    if (!p->deleted && p->nsegs) {
        /* Whatever the policy, a clean shutdown is durable: the marker
         * written next tells the next start to trust these files. */
        ret = zc__seg_deactivate(active_seg(p));
        r = zc__partition_flush(p);
        if (ret == 0)
            ret = r;
    }
    pthread_mutex_unlock(&p->lock);
    return ret;
}

void zc__partition_delete(struct zc_log_partition *p)
{
    pthread_mutex_lock(&p->lock);
    p->deleted = true;
    for (size_t i = 0; i < p->nsegs; i++) {
        zc__seg_unlink(p->segs[i]);
        zc__seg_unref(p->segs[i]);      /* ranges in flight keep their fd */
    }
    p->nsegs = 0;
    rmdir(p->dir);
    pthread_mutex_unlock(&p->lock);
}

int zc__partition_skip_to(struct zc_log_partition *p, int64_t offset)
{
    int ret = 0;

    pthread_mutex_lock(&p->lock);
    if (offset < p->next_offset)
        ret = -EINVAL;
    else
        p->next_offset = offset;
    pthread_mutex_unlock(&p->lock);
    return ret;
}
