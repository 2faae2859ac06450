/* list_offsets.c - ListOffsets (key 2), v1-v3: -2 the earliest offset, -1
 * the latest (the high watermark), any other timestamp the first record at
 * least that late: the store's time index finds the batch, and this file
 * walks an uncompressed batch's records for the record itself, as Kafka does
 * (a producer batches records of different times). A compressed batch
 * answers with its first offset: finding the record would mean
 * decompressing it, which the broker never does. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/broker.h"

#define LATEST (-1)
#define EARLIEST (-2)

#define BATCH_HEADER 61
#define BATCH_ATTRIBUTES 21
#define BATCH_BASE_TIMESTAMP 27
#define BATCH_RECORDS_COUNT 57
#define BATCH_CODEC_MASK 0x07
#define BATCH_LOG_APPEND_TIME 0x08
#define REFINE_MAX_BATCH (16u << 20)

/* A zigzag varint of at most 10 bytes at *p (before @end). */
static bool read_varlong(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;

        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return false;
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)zc_kbe32(p) << 32 | zc_kbe32(p + 4);
}

/* The first record of @batch (@len bytes) at or after @ts: its offset and
 * timestamp. Return: false when the batch cannot be walked (compressed,
 * log-append time, malformed). */
static bool first_record_at(const uint8_t *batch, size_t len, int64_t ts,
                            int64_t *offset, int64_t *found_ts)
{
    const uint8_t *p = batch + BATCH_HEADER, *end = batch + len;
    int64_t base = (int64_t)be64(batch);
    int64_t base_ts = (int64_t)be64(batch + BATCH_BASE_TIMESTAMP);
    uint16_t attributes = (uint16_t)(batch[BATCH_ATTRIBUTES] << 8 | batch[BATCH_ATTRIBUTES + 1]);
    int32_t count = (int32_t)zc_kbe32(batch + BATCH_RECORDS_COUNT);

    if (attributes & (BATCH_CODEC_MASK | BATCH_LOG_APPEND_TIME))
        return false;
    for (int32_t i = 0; i < count; i++) {
        int64_t rec_len, ts_delta, off_delta;
        const uint8_t *rec;

        if (!read_varlong(&p, end, &rec_len) || rec_len < 3 || rec_len > end - p)
            return false;
        rec = p + 1;                            /* after the attributes byte */
        if (!read_varlong(&rec, p + rec_len, &ts_delta) ||
            !read_varlong(&rec, p + rec_len, &off_delta))
            return false;
        if (base_ts + ts_delta >= ts) {
            *offset = base + off_delta;
            *found_ts = base_ts + ts_delta;
            return true;
        }
        p += rec_len;
    }
    return false;
}

/* Narrow the batch the time index found (at *offset) to its record. */
static void refine_to_record(struct zc_log_partition *p, int64_t ts, int64_t *offset,
                             int64_t *found_ts)
{
    struct zc_log_range r;
    uint8_t *buf;

    if (zc_log_read(p, *offset, BATCH_HEADER, true, &r) < 0)
        return;
    if (r.len >= BATCH_HEADER && r.len <= REFINE_MAX_BATCH && (buf = malloc(r.len))) {
        if (pread(r.fd, buf, r.len, r.pos) == (ssize_t)r.len &&
            (int64_t)be64(buf) <= *offset)
            (void)first_record_at(buf, r.len, ts, offset, found_ts);
        free(buf);
    }
    zc_log_range_release(&r);
}

void zc_api_list_offsets(struct zc_broker *b, const struct zc_kreq *req,
                         struct zc_kresp *resp)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    int32_t topics;

    (void)zc_kr_i32(&r);                         /* ReplicaId */
    if (v >= 2) {
        (void)zc_kr_i8(&r);                      /* IsolationLevel: LSO = HWM */
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs */
    }
    topics = zc_kr_array(&r, 6, false);
    zc_kw_i32(&resp->w, topics);
    for (int32_t t = 0; t < topics; t++) {
        struct zc_kstr s = zc_kr_string(&r);
        int32_t parts = zc_kr_array(&r, 12, false);
        char name[256];
        bool valid = zc_broker_topic_name(s, name);

        zc_kw_string(&resp->w, s.p, (size_t)s.len);
        zc_kw_i32(&resp->w, parts);
        for (int32_t i = 0; i < parts; i++) {
            int32_t index = zc_kr_i32(&r);
            int64_t ts = zc_kr_i64(&r), offset = -1, found_ts = -1;
            struct zc_log_partition *p = valid ? zc_log_partition(b->log, name, index) : NULL;
            int16_t err = ZC_KERR_NONE;

            if (!p) {
                err = ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (ts == LATEST) {
                offset = zc_log_end_offset(p);
            } else if (ts == EARLIEST) {
                offset = zc_log_start_offset(p);
            } else {
                int ret = zc_log_offset_for_time(p, ts, &offset, &found_ts);

                if (ret == 0)
                    refine_to_record(p, ts, &offset, &found_ts);
                /* No batch that late: offset -1 without an error, as Kafka. */
                if (ret == -ENOENT) {
                    offset = found_ts = -1;
                } else if (ret < 0) {
                    err = zc_kerr_from_errno(ret);
                    offset = found_ts = -1;
                }
            }
            zc_kw_i32(&resp->w, index);
            zc_kw_i16(&resp->w, err);
            zc_kw_i64(&resp->w, found_ts);
            zc_kw_i64(&resp->w, offset);
        }
    }
}
