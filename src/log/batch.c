/* batch.c - RecordBatch v2 parsing and validation (see batch.h). */
#include <errno.h>
#include <stdbool.h>

#include "log/batch.h"
#include "log/crc32c.h"

ssize_t zc_batch_header(const void *buf, size_t len, struct zc_batch *b)
{
    const uint8_t *p = buf;
    int32_t length;

    if (len < ZC_BATCH_HEADER)
        return 0;
    b->base_offset = (int64_t)zc_be64(p + ZC_BATCH_BASE_OFFSET);
    length = (int32_t)zc_be32(p + ZC_BATCH_LENGTH);
    b->leader_epoch = (int32_t)zc_be32(p + ZC_BATCH_LEADER_EPOCH);
    b->magic = (int8_t)p[ZC_BATCH_MAGIC];
    b->crc = zc_be32(p + ZC_BATCH_CRC);
    b->attributes = (int16_t)((p[ZC_BATCH_ATTRIBUTES] << 8) | p[ZC_BATCH_ATTRIBUTES + 1]);
    b->last_offset_delta = (int32_t)zc_be32(p + ZC_BATCH_LAST_OFFSET_DELTA);
    b->base_timestamp = (int64_t)zc_be64(p + ZC_BATCH_BASE_TIMESTAMP);
    b->max_timestamp = (int64_t)zc_be64(p + ZC_BATCH_MAX_TIMESTAMP);
    b->producer_id = (int64_t)zc_be64(p + ZC_BATCH_PRODUCER_ID);
    b->producer_epoch = (int16_t)((p[ZC_BATCH_PRODUCER_EPOCH] << 8) |
                                  p[ZC_BATCH_PRODUCER_EPOCH + 1]);
    b->base_sequence = (int32_t)zc_be32(p + ZC_BATCH_BASE_SEQUENCE);
    b->records_count = (int32_t)zc_be32(p + ZC_BATCH_RECORDS_COUNT);
    if (length < ZC_BATCH_HEADER - ZC_BATCH_LOG_OVERHEAD)
        return -EBADMSG;
    b->size = (uint32_t)length + ZC_BATCH_LOG_OVERHEAD;
    return b->size;
}

ssize_t zc_batch_check(const void *buf, size_t len, struct zc_batch *b)
{
    const uint8_t *p = buf;
    ssize_t size = zc_batch_header(buf, len, b);

    if (size <= 0)
        return size;
    if (b->magic != 2)
        return -EBADMSG;
    if ((size_t)size > len)
        return 0;
    if (zc_crc32c(0, p + ZC_BATCH_ATTRIBUTES, (size_t)size - ZC_BATCH_ATTRIBUTES) != b->crc)
        return -EBADMSG;
    return size;
}

/* Kafka's zigzag varint (protobuf style), at most @max_bytes bytes.
 * Return: bytes used, or 0 when malformed or past @end. */
static size_t read_varint(const uint8_t *p, const uint8_t *end, int max_bytes,
                          int64_t *out)
{
    uint64_t v = 0;

    for (int i = 0; i < max_bytes && p + i < end; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return (size_t)i + 1;
        }
    }
    return 0;
}

/* Walk an uncompressed batch's records: each is a varint length then that
 * many bytes, starting with attributes, a timestamp delta and an offset delta
 * that must count up from 0. */
static int check_records(const uint8_t *p, const uint8_t *end, int32_t count)
{
    int32_t n = 0;

    while (p < end) {
        const uint8_t *rec, *rec_end;
        int64_t rec_len, ts_delta, off_delta;
        size_t k;

        k = read_varint(p, end, 5, &rec_len);
        if (!k || rec_len <= 0 || rec_len > end - p - (ptrdiff_t)k)
            return -EBADMSG;
        rec = p + k;
        rec_end = rec + rec_len;
        rec++;                          /* attributes: unused in v2 */
        k = read_varint(rec, rec_end, 10, &ts_delta);
        if (!k)
            return -EBADMSG;
        rec += k;
        k = read_varint(rec, rec_end, 5, &off_delta);
        if (!k)
            return -EBADMSG;
        if (off_delta != n)
            return -EINVAL;
        n++;
        p = rec_end;
    }
    return n == count ? 0 : -EINVAL;
}

ssize_t zc_batch_validate(const void *buf, size_t len, uint32_t max_bytes,
                          struct zc_batch *b)
{
    const uint8_t *p = buf;
    ssize_t size = zc_batch_header(buf, len, b);
    int codec;

    if (size == 0)
        return -EBADMSG;                /* a producer's batch is never partial */
    if (size < 0)
        return size;
    if ((uint64_t)size > max_bytes)
        return -EMSGSIZE;
    size = zc_batch_check(buf, len, b);
    if (size <= 0)
        return -EBADMSG;
    if (b->base_offset != 0 || b->records_count <= 0 ||
        (int64_t)b->last_offset_delta + 1 != b->records_count)
        return -EINVAL;
    if (b->attributes & ZC_BATCH_CONTROL)
        return -EINVAL;
    codec = b->attributes & ZC_BATCH_CODEC_MASK;
    if (codec > 4)
        return -EINVAL;
    if (b->producer_id >= 0 && b->base_sequence < 0)
        return -EINVAL;
    if (codec == 0) {
        int ret = check_records(p + ZC_BATCH_HEADER, p + size, b->records_count);

        if (ret < 0)
            return ret;
    }
    return size;
}

const char *zc_batch_codec_name(int16_t attributes)
{
    static const char *const names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
    int codec = attributes & ZC_BATCH_CODEC_MASK;

    return codec < 5 ? names[codec] : "unknown";
}
