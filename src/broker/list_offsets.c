/* list_offsets.c - ListOffsets (key 2), v1-v3: -2 the earliest offset, -1
 * the latest (the high watermark), any other timestamp the first offset of
 * a batch at least that late, found through the time index. */
#include <errno.h>

#include "broker/broker.h"

#define LATEST (-1)
#define EARLIEST (-2)

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
