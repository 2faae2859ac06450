/* batch.h - Kafka's RecordBatch v2 (magic 2): the fixed 61-byte header, the
 * checks a stored batch must pass (recovery, dump, verify) and the stricter
 * ones a producer's batch must pass (append). Never allocates. */
#ifndef ZC_LOG_BATCH_H
#define ZC_LOG_BATCH_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Field positions (big-endian), from the start of the batch. */
enum {
    ZC_BATCH_BASE_OFFSET = 0,
    ZC_BATCH_LENGTH = 8,                /* bytes after this field */
    ZC_BATCH_LEADER_EPOCH = 12,
    ZC_BATCH_MAGIC = 16,
    ZC_BATCH_CRC = 17,                  /* CRC-32C of ATTRIBUTES..end */
    ZC_BATCH_ATTRIBUTES = 21,
    ZC_BATCH_LAST_OFFSET_DELTA = 23,
    ZC_BATCH_BASE_TIMESTAMP = 27,
    ZC_BATCH_MAX_TIMESTAMP = 35,
    ZC_BATCH_PRODUCER_ID = 43,
    ZC_BATCH_PRODUCER_EPOCH = 51,
    ZC_BATCH_BASE_SEQUENCE = 53,
    ZC_BATCH_RECORDS_COUNT = 57,
    ZC_BATCH_HEADER = 61,               /* first record */
    ZC_BATCH_LOG_OVERHEAD = 12,         /* base offset + length */
};

#define ZC_BATCH_CODEC_MASK 0x07
#define ZC_BATCH_TIMESTAMP_LOG_APPEND 0x08
#define ZC_BATCH_TRANSACTIONAL 0x10
#define ZC_BATCH_CONTROL 0x20

struct zc_batch {
    int64_t base_offset;
    uint32_t size;                      /* whole batch: length + 12 */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;                       /* as stored */
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
};

static inline uint32_t zc_be32(const void *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

static inline uint64_t zc_be64(const void *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void zc_put_be32(void *p, uint32_t v)
{
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

static inline void zc_put_be64(void *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static inline int64_t zc_batch_last_offset(const struct zc_batch *b)
{
    return b->base_offset + b->last_offset_delta;
}

/* zc_batch_header - decode the fixed header at @buf (@len bytes available).
 * Checks only what framing needs: the length field is at least a header.
 * Return: the batch size (>= 61), 0 when fewer than 61 bytes are available,
 * or -EBADMSG (length field too small). */
ssize_t zc_batch_header(const void *buf, size_t len, struct zc_batch *b);

/* zc_batch_check - a stored batch: header, magic 2, whole batch within @len,
 * CRC-32C. What recovery, dump and verify accept.
 * Return: the batch size, 0 when the batch runs past @len (a torn tail), or
 * -EBADMSG. @b is filled whenever the header could be read. */
ssize_t zc_batch_check(const void *buf, size_t len, struct zc_batch *b);

/* zc_batch_validate - a producer's batch, before it is appended: everything
 * zc_batch_check does, plus size <= @max_bytes, base offset 0, a record count
 * matching the last offset delta, no control batch, a known codec, a base
 * sequence with a producer id, and for uncompressed batches every record's
 * framing and offset delta.
 * Return: the batch size, or -EBADMSG (corrupt: length, magic, CRC, record
 * framing, truncated), -EMSGSIZE (over @max_bytes) or -EINVAL (inconsistent). */
ssize_t zc_batch_validate(const void *buf, size_t len, uint32_t max_bytes,
                          struct zc_batch *b);

/* Codec name for attributes bits 0-2 ("none", "gzip", "snappy", "lz4",
 * "zstd", "unknown"). */
const char *zc_batch_codec_name(int16_t attributes);

/* zc_batch_build - encode a producer's uncompressed batch (base offset 0,
 * producer id -1) of @count records without key or headers, each value the
 * @value_len bytes at @value, all stamped @timestamp (CreateTime), CRC set:
 * for the tools' benchmarks and the tests.
 * Return: the batch size, or -ENOSPC when @cap is too small, -EINVAL. */
ssize_t zc_batch_build(void *buf, size_t cap, int32_t count, const void *value,
                       size_t value_len, int64_t timestamp);

#endif /* ZC_LOG_BATCH_H */
