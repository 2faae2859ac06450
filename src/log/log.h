/* log.h - the log store: topics and partitions in Kafka's on-disk layout,
 * appended with pwrite (Kafka) or through a mapping (RocketMQ), read back as
 * byte ranges of segment files for zc_transfer.
 *
 * This header is the seam between the store and its users (zcopy broker,
 * `zcopy log dump|verify`). It knows nothing of the wire protocol: errors are
 * -errno, and the broker maps them to Kafka error codes:
 *   -EBADMSG    CORRUPT_MESSAGE (2): bad length, magic or CRC-32C
 *   -EMSGSIZE   MESSAGE_TOO_LARGE (10): a batch over max_message_bytes
 *   -EINVAL     INVALID_RECORD (87): counts/offsets inconsistent, control
 *               batch from a client, non-zero base offset
 *   -ERANGE     OFFSET_OUT_OF_RANGE (1) on reads
 *   -ENOENT     UNKNOWN_TOPIC_OR_PARTITION (3)
 *   -EEXIST     TOPIC_ALREADY_EXISTS (36)
 *   -ENOSPC, -EIO, ...   KAFKA_STORAGE_ERROR (56); the log stays consistent
 *
 * Threads: every call is safe from any thread. A partition serialises its
 * appends and reads with its own lock (never held across a transfer); the
 * topic table has its own lock. Nothing here blocks on the network. */
#ifndef ZC_LOG_LOG_H
#define ZC_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum zc_log_append_mode {
    ZC_LOG_APPEND_WRITE,        /* pwrite at the end of the active segment */
    ZC_LOG_APPEND_MMAP,         /* preallocated, mapped active segment */
};

enum zc_log_flush {
    ZC_LOG_FLUSH_NONE,          /* page cache only (Kafka's default) */
    ZC_LOG_FLUSH_ROLL,          /* fsync a segment when it rolls */
    ZC_LOG_FLUSH_EVERY,         /* fsync before an append returns */
    ZC_LOG_FLUSH_INTERVAL,      /* fsync dirty partitions every flush_interval_ms */
};

/* All-zero means Kafka's defaults; per-topic overrides use the same struct
 * (a zero field inherits the store's value). */
struct zc_log_config {
    uint64_t segment_bytes;         /* roll above this; default 1 GiB, at most 2^31 - 1 */
    int64_t  segment_ms;            /* roll when older; default 7 days */
    int64_t  retention_bytes;       /* per partition; <= 0 (default): unlimited */
    int64_t  retention_ms;          /* default 7 days; < 0: forever */
    uint32_t max_message_bytes;     /* per batch; default 1048588 */
    uint32_t index_interval_bytes;  /* default 4096 */
    enum zc_log_append_mode append_mode;
    enum zc_log_flush flush;
    int64_t  flush_interval_ms;     /* for ZC_LOG_FLUSH_INTERVAL */
};

struct zc_log;                  /* a data directory */
struct zc_log_partition;        /* one topic-partition; owned by the log */
struct zc_log_segment;          /* one segment file; reference-counted */

/* zc_log_open - open (creating if missing) the store in @dir, load every
 * topic, and recover partitions not cleanly shut down (re-read batches after
 * the recovery point, cut the first bad one, rebuild indexes).
 * Return: 0 with *out set, or -errno. */
int zc_log_open(const char *dir, const struct zc_log_config *cfg,
                struct zc_log **out);

/* zc_log_close - flush as the policy says, trim mapped files, write the
 * recovery points and the clean-shutdown marker, free everything. NULL-safe.
 * Return: 0 or the first -errno met (everything is released regardless). */
int zc_log_close(struct zc_log *log);

/* Topics. Names follow Kafka's rule: [a-zA-Z0-9._-], 1..249 bytes, not "."
 * or "..". @overrides may be NULL. Return: 0 or -errno (-EEXIST, -EINVAL). */
int zc_log_topic_create(struct zc_log *log, const char *topic,
                        int32_t partitions, const struct zc_log_config *overrides);
/* Deletes the topic's files; fetches in flight keep reading through their
 * open fds (see zc_log_range). Return: 0, -ENOENT or -errno. */
int zc_log_topic_delete(struct zc_log *log, const char *topic);
/* Return: the partition count, or -ENOENT. */
int zc_log_topic_partitions(struct zc_log *log, const char *topic);
/* zc_log_topic_list - call @fn for each topic (under the table lock: @fn must
 * not call back into the log). */
void zc_log_topic_list(struct zc_log *log,
                       void (*fn)(void *arg, const char *topic, int32_t partitions),
                       void *arg);

/* zc_log_partition - the partition, or NULL when the topic or index does not
 * exist. Valid until the topic is deleted or the log closed. */
struct zc_log_partition *zc_log_partition(struct zc_log *log, const char *topic,
                                          int32_t partition);

struct zc_log_append_result {
    int64_t base_offset;            /* offset given to the first record */
    int64_t last_offset;
    int64_t log_start_offset;
};

/* zc_log_append - validate and append @len bytes of RecordBatch v2 batches as a
 * producer sent them. The buffer is patched in place (baseOffset,
 * partitionLeaderEpoch) and stored otherwise unchanged. All or nothing: a bad
 * batch anywhere appends none. Durable per the flush policy when it returns.
 * Return: 0 with *res set, or -errno (see the top of this file). */
int zc_log_append(struct zc_log_partition *p, void *batches, size_t len,
                  int32_t leader_epoch, struct zc_log_append_result *res);

/* Offsets: the first offset still stored, and the next offset to be given
 * (the high watermark: a single node acknowledges what it stored). */
int64_t zc_log_start_offset(struct zc_log_partition *p);
int64_t zc_log_end_offset(struct zc_log_partition *p);

/* A byte range of one segment file, for zc_transfer(sock, fd, &pos, len). The
 * range holds a reference on the segment: its fd stays open (even if
 * retention or a topic delete removes the file) until zc_log_range_release. */
struct zc_log_range {
    int fd;
    off_t pos;
    size_t len;                     /* 0: nothing to send (at the end) */
    struct zc_log_segment *segment; /* the reference; NULL when len == 0 */
};

/* zc_log_read - the bytes from the batch holding @offset, up to @max_bytes,
 * never past the high watermark, within one segment; when @min_one_batch the
 * first batch is returned whole even if larger than @max_bytes. The range
 * may end inside a batch (clients drop a partial tail).
 * Return: 0 with *out set (len 0 at the end of the log), -ERANGE when @offset
 * is below the start or above the end offset, or -errno. */
int zc_log_read(struct zc_log_partition *p, int64_t offset, size_t max_bytes,
                bool min_one_batch, struct zc_log_range *out);
void zc_log_range_release(struct zc_log_range *r);

/* zc_log_offset_for_time - the first offset whose batch max timestamp is >=
 * @ts (through the time index). Return: 0 with *offset and *timestamp set,
 * -ENOENT when no batch is that late, or -errno. */
int zc_log_offset_for_time(struct zc_log_partition *p, int64_t ts,
                           int64_t *offset, int64_t *timestamp);

/* zc_log_tick - time-driven work: roll by age, retention by size and age,
 * interval flush. Call about once a second from one thread.
 * Return: 0 or the first -errno met (the rest of the work is still done). */
int zc_log_tick(struct zc_log *log, int64_t now_ms);

#endif /* ZC_LOG_LOG_H */
