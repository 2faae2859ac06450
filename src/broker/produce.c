/* produce.c - Produce (key 0), v3-v7: each partition's RecordBatch goes to
 * the log as the producer sent it (the log patches baseOffset and the leader
 * epoch in place, in the connection's request buffer). acks=0 gets no
 * response at all; an error then closes the connection instead, as Kafka
 * does (KAFKA.md 7.8). v0-v2 carry the old message formats (magic 0 and 1),
 * which the store does not keep: each partition gets
 * UNSUPPORTED_FOR_MESSAGE_FORMAT (those versions are advertised only for
 * librdkafka's compression check, see request.h). */
#include <string.h>

#include "broker/broker.h"
#include "broker/offsets.h"

#define BATCH_LENGTH_AT 8           /* after BaseOffset */

/* v3+ carries exactly one batch per partition (Kafka's ProduceRequest). */
static bool one_batch(struct zc_kstr rec)
{
    if (rec.len < BATCH_LENGTH_AT + 4)
        return false;
    return (uint64_t)zc_kbe32((const uint8_t *)rec.p + BATCH_LENGTH_AT) + 12 ==
           (uint64_t)rec.len;
}

static int16_t append_one(struct zc_broker *b, const char *topic, int32_t index,
                          struct zc_kstr rec, struct zc_log_append_result *res)
{
    struct zc_log_partition *p = zc_log_partition(b->log, topic, index);
    int ret;

    if (!p)
        return ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (rec.len < 0 || !one_batch(rec))
        return rec.len > 0 && rec.len < 61 ? ZC_KERR_CORRUPT_MESSAGE : ZC_KERR_INVALID_RECORD;
    /* The request buffer belongs to the connection and is writable; the
     * reader only hands out const views of it. */
    ret = zc_log_append(p, (void *)rec.p, (size_t)rec.len, 0, res);
    return zc_kerr_from_errno(ret);
}

enum zc_handled zc_api_produce(struct zc_broker *b, const struct zc_kreq *req,
                               struct zc_kresp *resp)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    bool appended = false, failed = false;
    int16_t acks;
    int32_t topics;

    if (v >= 3)
        (void)zc_kr_nullable_string(&r);         /* TransactionalId */
    acks = zc_kr_i16(&r);
    (void)zc_kr_i32(&r);                         /* TimeoutMs */
    topics = zc_kr_array(&r, 6, false);
    zc_kw_i32(&resp->w, topics);
    for (int32_t t = 0; t < topics; t++) {
        struct zc_kstr s = zc_kr_string(&r);
        int32_t parts = zc_kr_array(&r, 8, false);
        char name[256];
        bool valid = zc_broker_topic_name(s, name);

        zc_kw_string(&resp->w, s.p, (size_t)s.len);
        zc_kw_i32(&resp->w, parts);
        for (int32_t i = 0; i < parts; i++) {
            struct zc_log_append_result res = { -1, -1, -1 };
            int32_t index = zc_kr_i32(&r);
            struct zc_kstr rec = zc_kr_nullable_bytes(&r);
            int16_t err;

            if (acks != 0 && acks != 1 && acks != -1)
                err = ZC_KERR_INVALID_REQUIRED_ACKS;
            else if (v < 3)
                err = ZC_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
            else if (!valid)
                err = ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (!strcmp(name, ZC_OFFSETS_TOPIC))
                err = ZC_KERR_INVALID_TOPIC;    /* only the coordinator writes it */
            else
                err = append_one(b, name, index, rec, &res);
            if (err == ZC_KERR_NONE)
                appended = true;
            else
                failed = true;
            zc_kw_i32(&resp->w, index);
            zc_kw_i16(&resp->w, err);
            zc_kw_i64(&resp->w, err ? -1 : res.base_offset);
            if (v >= 2)
                zc_kw_i64(&resp->w, -1);         /* LogAppendTimeMs: CreateTime */
            if (v >= 5)
                zc_kw_i64(&resp->w, err ? -1 : res.log_start_offset);
        }
    }
    if (v >= 1)
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs, last here */
    if (appended) {
        atomic_fetch_add(&b->appends, 1);
        if (b->on_append)
            b->on_append(b);
    }
    if (acks == 0) {
        resp->none = true;
        return failed ? ZC_HANDLED_CLOSE : ZC_HANDLED;
    }
    return ZC_HANDLED;
}
