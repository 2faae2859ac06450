/* fetch.c - Fetch (key 1), v4-v11. Each partition's records are a byte range
 * of a segment file (zc_log_read), sent by zc_transfer after the framing
 * built here. Limits as Kafka (KIP-74): PartitionMaxBytes per partition,
 * MaxBytes for the response, and the first batch found is returned whole
 * even when larger, so a client never stalls on a big message. Fewer than
 * MinBytes available: the request parks until an append or MaxWaitMs
 * (KAFKA.md 7.6). No transactions: LastStableOffset = HighWatermark, no
 * aborted transactions; PreferredReadReplica -1 (KAFKA.md 7.4-7.5). */
#include "broker/broker.h"

enum zc_handled zc_api_fetch(struct zc_broker *b, const struct zc_kreq *req,
                             bool expired, struct zc_kresp *resp, int32_t *wait_ms)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    int32_t max_wait, min_bytes, max_bytes, topics;
    uint64_t remaining, total = 0;
    bool first = true, errors = false;

    (void)zc_kr_i32(&r);                         /* ReplicaId */
    max_wait = zc_kr_i32(&r);
    min_bytes = zc_kr_i32(&r);
    max_bytes = zc_kr_i32(&r);
    (void)zc_kr_i8(&r);                          /* IsolationLevel */
    if (v >= 7) {
        (void)zc_kr_i32(&r);                     /* SessionId: 0, no session */
        (void)zc_kr_i32(&r);                     /* SessionEpoch */
    }
    remaining = max_bytes > 0 ? (uint64_t)max_bytes : 0;

    zc_kw_i32(&resp->w, 0);                      /* ThrottleTimeMs */
    if (v >= 7) {
        zc_kw_i16(&resp->w, ZC_KERR_NONE);
        zc_kw_i32(&resp->w, 0);                  /* SessionId */
    }
    topics = zc_kr_array(&r, 6, false);
    zc_kw_i32(&resp->w, topics);
    for (int32_t t = 0; t < topics; t++) {
        struct zc_kstr s = zc_kr_string(&r);
        int32_t parts = zc_kr_array(&r, 16, false);
        char name[256];
        bool valid = zc_broker_topic_name(s, name);

        zc_kw_string(&resp->w, s.p, (size_t)s.len);
        zc_kw_i32(&resp->w, parts);
        for (int32_t i = 0; i < parts; i++) {
            struct zc_log_range range = { .fd = -1 };
            struct zc_log_partition *p;
            int32_t index = zc_kr_i32(&r), part_max;
            int64_t offset, hwm = -1, start = -1;
            int16_t err = ZC_KERR_NONE;

            if (v >= 9)
                (void)zc_kr_i32(&r);             /* CurrentLeaderEpoch: -1, no check */
            offset = zc_kr_i64(&r);
            if (v >= 5)
                (void)zc_kr_i64(&r);             /* the follower's LogStartOffset */
            part_max = zc_kr_i32(&r);

            p = valid ? zc_log_partition(b->log, name, index) : NULL;
            if (!p) {
                err = ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                size_t limit = part_max > 0 ? (size_t)part_max : 0;
                int ret;

                if (limit > remaining)
                    limit = (size_t)remaining;
                ret = zc_log_read(p, offset, limit, first, &range);
                if (ret < 0) {
                    err = zc_kerr_from_errno(ret);
                    range.len = 0;
                }
                /* Read after the range, so the watermark covers it. */
                hwm = zc_log_end_offset(p);
                start = zc_log_start_offset(p);
            }
            if (err)
                errors = true;
            zc_kw_i32(&resp->w, index);
            zc_kw_i16(&resp->w, err);
            zc_kw_i64(&resp->w, hwm);
            zc_kw_i64(&resp->w, hwm);            /* LastStableOffset */
            if (v >= 5)
                zc_kw_i64(&resp->w, start);
            zc_kw_i32(&resp->w, 0);              /* AbortedTransactions: none */
            if (v >= 11)
                zc_kw_i32(&resp->w, -1);         /* PreferredReadReplica */
            /* Size 0, never null: librdkafka 2.0.2 fails a whole response
             * on a negative size (KAFKA.md 7.3). */
            zc_kw_i32(&resp->w, (int32_t)range.len);
            if (range.len > 0) {
                first = false;
                total += range.len;
                remaining = range.len < remaining ? remaining - range.len : 0;
                zc_kresp_add_range(resp, &range);
            }
        }
    }
    if (!expired && !errors && max_wait > 0 && min_bytes > 0 &&
        total < (uint64_t)min_bytes) {
        *wait_ms = max_wait;
        return ZC_HANDLED_PARK;
    }
    return ZC_HANDLED;
}
