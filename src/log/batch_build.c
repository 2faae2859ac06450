/* batch_build.c - encode simple RecordBatch v2 batches (see batch.h). */
#include <errno.h>

#include "log/batch.h"
#include "log/crc32c.h"

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;

    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

ssize_t zc_batch_build(void *buf, size_t cap, int32_t count, const void *value,
                       size_t value_len, int64_t timestamp)
{
    uint8_t *b = buf, *p, tmp[32];
    size_t size;

    if (count <= 0 || value_len > INT32_MAX / 2)
        return -EINVAL;
    if (cap < ZC_BATCH_HEADER)
        return -ENOSPC;
    p = b + ZC_BATCH_HEADER;
    for (int32_t i = 0; i < count; i++) {
        size_t body = 0;

        /* The body first into tmp (all but the value) to learn its length. */
        tmp[body++] = 0;                            /* attributes */
        body += put_varint(tmp + body, 0);          /* timestamp delta */
        body += put_varint(tmp + body, i);          /* offset delta */
        body += put_varint(tmp + body, -1);         /* key: null */
        body += put_varint(tmp + body, (int64_t)value_len);
        if ((size_t)(b + cap - p) < 5 + body + value_len + 1)
            return -ENOSPC;
        p += put_varint(p, (int64_t)(body + value_len + 1));
        memcpy(p, tmp, body);
        p += body;
        memcpy(p, value, value_len);
        p += value_len;
        *p++ = 0;                                   /* headers: none */
    }
    size = (size_t)(p - b);
    if (size - ZC_BATCH_LOG_OVERHEAD > INT32_MAX)
        return -ENOSPC;
    zc_put_be64(b + ZC_BATCH_BASE_OFFSET, 0);
    zc_put_be32(b + ZC_BATCH_LENGTH, (uint32_t)(size - ZC_BATCH_LOG_OVERHEAD));
    zc_put_be32(b + ZC_BATCH_LEADER_EPOCH, 0);
    b[ZC_BATCH_MAGIC] = 2;
    b[ZC_BATCH_ATTRIBUTES] = 0;
    b[ZC_BATCH_ATTRIBUTES + 1] = 0;
    zc_put_be32(b + ZC_BATCH_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
    zc_put_be64(b + ZC_BATCH_BASE_TIMESTAMP, (uint64_t)timestamp);
    zc_put_be64(b + ZC_BATCH_MAX_TIMESTAMP, (uint64_t)timestamp);
    zc_put_be64(b + ZC_BATCH_PRODUCER_ID, (uint64_t)-1);
    b[ZC_BATCH_PRODUCER_EPOCH] = 0xff;
    b[ZC_BATCH_PRODUCER_EPOCH + 1] = 0xff;
    zc_put_be32(b + ZC_BATCH_BASE_SEQUENCE, (uint32_t)-1);
    zc_put_be32(b + ZC_BATCH_RECORDS_COUNT, (uint32_t)count);
    zc_put_be32(b + ZC_BATCH_CRC, zc_crc32c(0, b + ZC_BATCH_ATTRIBUTES,
                                            size - ZC_BATCH_ATTRIBUTES));
    return (ssize_t)size;
}
