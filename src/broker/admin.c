/* admin.c - CreateTopics (key 19) v0-v4 and DeleteTopics (key 20) v0-v3.
 * One node: replication factor 1 (or -1, the default) only; the topic
 * configs the log store has (retention.ms, retention.bytes, segment.bytes,
 * max.message.bytes) are applied, other configs are ignored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/groups.h"

static bool config_value(struct zc_kstr value, int64_t *out)
{
    char buf[32], *end;

    if (value.len <= 0 || value.len >= (int32_t)sizeof(buf))
        return false;
    memcpy(buf, value.p, (size_t)value.len);
    buf[value.len] = '\0';
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return !errno && *end == '\0';
}

/* Return: 0, or the Kafka error code for a value the log cannot take. */
static int16_t apply_config(struct zc_log_config *o, struct zc_kstr key,
                            struct zc_kstr value)
{
    int64_t n;

#define KEY_IS(lit) (key.len == (int32_t)sizeof(lit) - 1 && !memcmp(key.p, lit, sizeof(lit) - 1))
    if (KEY_IS("retention.ms") || KEY_IS("retention.bytes") ||
        KEY_IS("segment.bytes") || KEY_IS("max.message.bytes")) {
        if (!config_value(value, &n))
            return ZC_KERR_INVALID_CONFIG;
        if (KEY_IS("retention.ms"))
            o->retention_ms = n;
        else if (KEY_IS("retention.bytes"))
            o->retention_bytes = n;
        else if (n <= 0 || n > INT32_MAX)
            return ZC_KERR_INVALID_CONFIG;
        else if (KEY_IS("segment.bytes"))
            o->segment_bytes = (uint64_t)n;
        else
            o->max_message_bytes = (uint32_t)n;
    }
#undef KEY_IS
    return ZC_KERR_NONE;
}

void zc_api_create_topics(struct zc_broker *b, const struct zc_kreq *req,
                          struct zc_kresp *resp)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body, tail;
    int32_t topics = zc_kr_array(&r, 16, false);
    bool validate_only = false;

    /* ValidateOnly (v1+) follows every topic: find it first. */
    tail = r;
    for (int32_t t = 0; t < topics; t++) {
        int32_t n;

        (void)zc_kr_string(&tail);
        (void)zc_kr_i32(&tail);
        (void)zc_kr_i16(&tail);
        n = zc_kr_array(&tail, 8, false);
        for (int32_t i = 0; i < n; i++) {
            (void)zc_kr_i32(&tail);
            int32_t m = zc_kr_array(&tail, 4, false);
            for (int32_t j = 0; j < m; j++)
                (void)zc_kr_i32(&tail);
        }
        n = zc_kr_array(&tail, 4, false);
        for (int32_t i = 0; i < n; i++) {
            (void)zc_kr_string(&tail);
            (void)zc_kr_nullable_string(&tail);
        }
    }
    (void)zc_kr_i32(&tail);                      /* TimeoutMs */
    if (v >= 1)
        validate_only = zc_kr_bool(&tail);

    if (v >= 2)
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs */
    zc_kw_i32(&resp->w, topics);
    for (int32_t t = 0; t < topics; t++) {
        struct zc_kstr s = zc_kr_string(&r);
        int32_t partitions = zc_kr_i32(&r), assignments, configs;
        int16_t replication = zc_kr_i16(&r), err = ZC_KERR_NONE;
        struct zc_log_config overrides = { 0 };
        const char *msg = NULL;
        char name[256];

        assignments = zc_kr_array(&r, 8, false);
        for (int32_t i = 0; i < assignments; i++) {
            (void)zc_kr_i32(&r);
            int32_t m = zc_kr_array(&r, 4, false);
            for (int32_t j = 0; j < m; j++)
                if (zc_kr_i32(&r) != ZC_BROKER_NODE_ID)
                    err = ZC_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        configs = zc_kr_array(&r, 4, false);
        for (int32_t i = 0; i < configs; i++) {
            struct zc_kstr key = zc_kr_string(&r);
            struct zc_kstr value = zc_kr_nullable_string(&r);
            int16_t e = apply_config(&overrides, key, value);

            if (e && !err) {
                err = e;
                msg = "invalid value for a topic config";
            }
        }
        if (assignments > 0 && partitions == -1)
            partitions = assignments;
        if (partitions == -1)
            partitions = b->cfg->partitions;

        if (!zc_broker_topic_name(s, name)) {
            err = ZC_KERR_INVALID_TOPIC;
            msg = "topic names are 1-249 bytes of [a-zA-Z0-9._-], not . or ..";
        } else if (err) {
            if (!msg)
                msg = "replicas must be this node (0)";
        } else if (partitions <= 0 || partitions > 100000) {
            err = ZC_KERR_INVALID_PARTITIONS;
            msg = "partition count out of range";
        } else if (replication != -1 && replication != 1) {
            err = ZC_KERR_INVALID_REPLICATION_FACTOR;
            msg = "one node: replication factor 1";
        } else if (validate_only) {
            if (zc_log_topic_partitions(b->log, name) >= 0)
                err = ZC_KERR_TOPIC_ALREADY_EXISTS;
        } else {
            int ret = zc_log_topic_create(b->log, name, partitions, &overrides);

            err = zc_kerr_from_errno(ret);
            if (ret == -EINVAL)
                err = ZC_KERR_INVALID_TOPIC;
        }
        if (err == ZC_KERR_TOPIC_ALREADY_EXISTS)
            msg = "topic already exists";
        zc_kw_string(&resp->w, s.p, (size_t)s.len);
        zc_kw_i16(&resp->w, err);
        if (v >= 1)
            zc_kw_cstring(&resp->w, err ? msg : NULL);
    }
}

void zc_api_delete_topics(struct zc_broker *b, const struct zc_kreq *req,
                          struct zc_kresp *resp)
{
    struct zc_kr r = req->body;
    int32_t topics = zc_kr_array(&r, 2, false);

    if (req->h.api_version >= 1)
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs */
    zc_kw_i32(&resp->w, topics);
    for (int32_t t = 0; t < topics; t++) {
        struct zc_kstr s = zc_kr_string(&r);
        char name[256];
        int16_t err = ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;

        /* The groups' offsets live in the internal topic: not deletable. */
        if (zc_broker_topic_name(s, name))
            err = strcmp(name, ZC_OFFSETS_TOPIC)
                      ? zc_kerr_from_errno(zc_log_topic_delete(b->log, name))
                      : ZC_KERR_INVALID_TOPIC;
        /* Committed offsets go with their topic (a failure leaves them to
         * be dropped at the next start). */
        if (err == ZC_KERR_NONE)
            (void)zc_groups_topic_deleted(b, name);
        zc_kw_string(&resp->w, s.p, (size_t)s.len);
        zc_kw_i16(&resp->w, err);
    }
}
