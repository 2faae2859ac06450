/* log_internal.h - the log store's objects, shared by its files (segment,
 * partition, recover, store) and the offline tools. Not for the broker: it
 * uses log.h only. */
#ifndef ZC_LOG_INTERNAL_H
#define ZC_LOG_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "log/batch.h"
#include "log/index.h"
#include "log/log.h"

#define ZC_LOG_CLEAN_MARKER ".kafka_cleanshutdown"
#define ZC_LOG_RECOVERY_CHECKPOINT "recovery-point-offset-checkpoint"
#define ZC_LOG_LOCK_FILE ".lock"
#define ZC_LOG_TOPIC_SUFFIX ".topic"
#define ZC_LOG_INDEX_MAX_BYTES (10u << 20)   /* Kafka's segment.index.bytes */

struct zc_log_segment {
    atomic_int refs;                    /* the partition's + each range's */
    int64_t base_offset;
    int64_t next_offset;                /* one past the last offset stored */
    uint64_t size;                      /* valid bytes; the file may be longer */
    int fd;                             /* the .log, O_RDWR */
    uint8_t *map;                       /* mmap mode, active segment only */
    size_t map_len;
    size_t prepared;                    /* bytes of the mapping reserved and prefaulted */
    bool no_fallocate, no_populate;     /* unsupported here: skipped */
    struct zc_index oidx, tidx;
    int64_t max_timestamp;              /* -1: no batch yet */
    int64_t max_timestamp_offset;
    int64_t created_ms;                 /* roll by age counts from here */
    uint32_t bytes_since_index;
    bool active;
    char path[PATH_MAX - 16];           /* DIR/<topic>-<n>/<20 digits>, no suffix */
};

struct zc_log_topic;

struct zc_log_partition {
    pthread_mutex_t lock;
    struct zc_log_topic *topic;
    int32_t index;
    char dir[PATH_MAX];
    struct zc_log_segment **segs;       /* by base offset; the last is active */
    size_t nsegs, cap;
    int64_t next_offset;                /* the high watermark */
    int64_t recovery_point;             /* everything below is on disk */
    int64_t checkpointed;               /* recovery point last written out */
    int64_t last_flush_ms;
    bool dirty;                         /* appended since the last flush */
    bool dir_dirty;                     /* a segment was created or deleted */
    bool deleted;                       /* its topic was deleted */
};

struct zc_log_topic {
    char name[256];
    int32_t npart;
    struct zc_log_config overrides;     /* as given (persisted) */
    struct zc_log_config cfg;           /* effective */
    struct zc_log_partition **parts;
    struct zc_log_topic *next_deleted;
};

struct zc_log {
    char dir[PATH_MAX];
    struct zc_log_config cfg;           /* defaults filled in */
    pthread_mutex_t lock;               /* the topic table */
    struct zc_log_topic **topics;
    size_t ntopics, cap;
    struct zc_log_topic *deleted;       /* freed at close: partitions stay valid */
    int lock_fd;
    int64_t last_checkpoint_ms;
    bool checkpoint_due;
};

/* Options of zc__log_open. */
#define ZC_LOG_OPEN_RECOVER_ALL 1       /* ignore the marker and recovery points */

int zc__log_open(const char *dir, const struct zc_log_config *cfg, unsigned flags,
                 struct zc_log **out);

/* config.c */
void zc__log_config_defaults(struct zc_log_config *c);
void zc__log_config_merge(struct zc_log_config *out, const struct zc_log_config *base,
                          const struct zc_log_config *over);
int zc__log_config_write(const char *path, int32_t partitions,
                         const struct zc_log_config *c);
int zc__log_config_read(const char *path, int32_t *partitions, struct zc_log_config *c);
/* Write @len bytes to @path atomically (common/atomic_file: temp file,
 * fsync, rename, fsync of the directory). */
int zc__log_write_atomic(const char *path, const char *data, size_t len);
int zc__log_fsync_dir(const char *dir);
int64_t zc__log_now_ms(void);

/* segment.c */
int zc__seg_create(const char *dir, int64_t base, const struct zc_log_config *cfg,
                   size_t need, struct zc_log_segment **out);
int zc__seg_open(const char *dir, int64_t base, struct zc_log_segment **out);
/* Open both indexes: @writable for the active segment (preallocated,
 * mapped read-write), @fresh to drop their entries for a rebuild. */
int zc__seg_open_indexes(struct zc_log_segment *s, const struct zc_log_config *cfg,
                         bool writable, bool fresh);
/* Make @s the active segment: writable indexes (emptied when @rebuild) and,
 * in mmap mode, the preallocated mapping. */
int zc__seg_activate(struct zc_log_segment *s, const struct zc_log_config *cfg,
                     bool rebuild);
int zc__seg_deactivate(struct zc_log_segment *s);
/* Remap the active mmap-mode segment to hold @need bytes (a batch larger
 * than segment_bytes arriving at an empty segment). */
int zc__seg_grow_map(struct zc_log_segment *s, const struct zc_log_config *cfg, size_t need);
int zc__seg_write(struct zc_log_segment *s, const void *buf, size_t len);
void zc__seg_index_batch(struct zc_log_segment *s, const struct zc_batch *b,
                         uint64_t pos, uint32_t interval);
int zc__seg_sync(struct zc_log_segment *s);
int zc__seg_truncate(struct zc_log_segment *s, uint64_t size);
int zc__seg_unlink(struct zc_log_segment *s);
void zc__seg_ref(struct zc_log_segment *s);
void zc__seg_unref(struct zc_log_segment *s);
uint32_t zc__seg_index_capacity(const struct zc_log_config *cfg, enum zc_index_kind k);
/* zc__seg_walk - call @fn for the header of each batch from @pos to the
 * segment's size (no CRC check: stored bytes were checked when written or
 * recovered). Stops when @fn returns non-zero.
 * Return: what @fn returned, 0 at the end, -EIO when a header does not fit
 * (the file changed behind the store), or -errno. */
int zc__seg_walk(struct zc_log_segment *s, uint64_t pos,
                 int (*fn)(void *arg, uint64_t pos, const struct zc_batch *b), void *arg);
/* zc__seg_find_batch - the position of the first batch at or after @pos whose
 * last offset is >= @offset (or whose max timestamp is >= @ts when @ts >= 0).
 * Return: 1 with *found_pos and *b set, 0 when none, or -errno. */
int zc__seg_find_batch(struct zc_log_segment *s, uint64_t pos, int64_t offset,
                       int64_t ts, uint64_t *found_pos, struct zc_batch *b);

/* recover.c */
struct zc_log_scan {
    uint64_t valid_bytes;               /* where the first bad batch starts */
    uint64_t file_size;
    int64_t next_offset;                /* after the last good batch */
    uint32_t batches;
    const char *problem;                /* NULL when every byte was good */
    int64_t problem_offset;
};
/* zc__seg_scan - read every batch of @fd (a segment with base @base), check
 * length, magic, CRC-32C and increasing offsets; call @fn for each good one.
 * Stops at the first bad one. Return: 0 (see scan->problem) or -errno. */
int zc__seg_scan(int fd, int64_t base, struct zc_log_scan *scan,
                 int (*fn)(void *arg, uint64_t pos, const struct zc_batch *b,
                           const uint8_t *bytes),
                 void *arg);
/* zc__partition_load - open the partition's segments; @recover_from: offset
 * from which segments are re-read (INT64_MAX: none, trust them).
 * Return: 0 or -errno. */
int zc__partition_load(struct zc_log_partition *p, const struct zc_log_config *cfg,
                       int64_t recover_from);

/* partition.c */
struct zc_log_partition *zc__partition_new(struct zc_log_topic *t, int32_t index,
                                           const char *dir);
void zc__partition_free(struct zc_log_partition *p);
int zc__partition_flush(struct zc_log_partition *p);
int zc__partition_close(struct zc_log_partition *p);
/* Mark deleted, remove its files and directory, drop its segments. */
void zc__partition_delete(struct zc_log_partition *p);
int zc__partition_tick(struct zc_log_partition *p, int64_t now_ms);
int zc__partition_add_segment(struct zc_log_partition *p, struct zc_log_segment *s);
/* Give the next append @offset (a follower's gap; tests of the int32
 * relative-offset roll). Return: 0, or -EINVAL when below the end. */
int zc__partition_skip_to(struct zc_log_partition *p, int64_t offset);

#endif /* ZC_LOG_INTERNAL_H */
