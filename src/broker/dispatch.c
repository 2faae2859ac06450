/* dispatch.c - route a checked request to its API handler, and what the
 * handlers share: Kafka error codes for log errors, topic-name rules,
 * auto-creation. */
#include <errno.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/groups.h"
#include "broker/request.h"

int16_t zc_kerr_from_errno(int err)
{
    switch (err) {
    case 0: return ZC_KERR_NONE;
    case -EBADMSG: return ZC_KERR_CORRUPT_MESSAGE;
    case -EMSGSIZE: return ZC_KERR_MESSAGE_TOO_LARGE;
    case -EINVAL: return ZC_KERR_INVALID_RECORD;
    case -ERANGE: return ZC_KERR_OFFSET_OUT_OF_RANGE;
    case -ENOENT: return ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case -EEXIST: return ZC_KERR_TOPIC_ALREADY_EXISTS;
    case -ENOMEM: return ZC_KERR_UNKNOWN_SERVER;
    }
    return ZC_KERR_KAFKA_STORAGE_ERROR;
}

bool zc_broker_topic_name(struct zc_kstr s, char out[256])
{
    if (s.len < 1 || s.len > 249)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    if ((s.len == 1 && s.p[0] == '.') || (s.len == 2 && !memcmp(s.p, "..", 2)))
        return false;
    memcpy(out, s.p, (size_t)s.len);
    out[s.len] = '\0';
    return true;
}

int zc_broker_auto_create(struct zc_broker *b, const char *topic)
{
    int ret;

    if (!b->cfg->auto_create)
        return -ENOENT;
    ret = zc_log_topic_create(b->log, topic, b->cfg->partitions, NULL);
    return ret == -EEXIST ? 0 : ret;
}

enum zc_handled zc_broker_handle(struct zc_broker *b, const struct zc_kreq *req,
                                 bool expired, struct zc_kresp *resp,
                                 int32_t *wait_ms)
{
    enum zc_handled ret = ZC_HANDLED;

    zc_kresp_begin(resp, req->h.correlation_id);
    switch (req->h.api_key) {
    case ZC_KAPI_API_VERSIONS:
        zc_api_versions(b, req, resp);
        break;
    case ZC_KAPI_METADATA:
        zc_api_metadata(b, req, resp);
        break;
    case ZC_KAPI_PRODUCE:
        ret = zc_api_produce(b, req, resp);
        break;
    case ZC_KAPI_FETCH:
        ret = zc_api_fetch(b, req, expired, resp, wait_ms);
        break;
    case ZC_KAPI_LIST_OFFSETS:
        zc_api_list_offsets(b, req, resp);
        break;
    case ZC_KAPI_CREATE_TOPICS:
        zc_api_create_topics(b, req, resp);
        break;
    case ZC_KAPI_DELETE_TOPICS:
        zc_api_delete_topics(b, req, resp);
        break;
    case ZC_KAPI_FIND_COORDINATOR:
        zc_api_find_coordinator(b, req, resp);
        break;
    case ZC_KAPI_JOIN_GROUP:
        ret = zc_api_join_group(b, req, expired, resp, wait_ms);
        break;
    case ZC_KAPI_SYNC_GROUP:
        ret = zc_api_sync_group(b, req, expired, resp, wait_ms);
        break;
    case ZC_KAPI_HEARTBEAT:
        zc_api_heartbeat(b, req, resp);
        break;
    case ZC_KAPI_LEAVE_GROUP:
        zc_api_leave_group(b, req, resp);
        break;
    case ZC_KAPI_OFFSET_COMMIT:
        zc_api_offset_commit(b, req, resp);
        break;
    case ZC_KAPI_OFFSET_FETCH:
        zc_api_offset_fetch(b, req, resp);
        break;
    case ZC_KAPI_LIST_GROUPS:
        zc_api_list_groups(b, req, resp);
        break;
    case ZC_KAPI_DESCRIBE_GROUPS:
        zc_api_describe_groups(b, req, resp);
        break;
    default:
        ret = ZC_HANDLED_CLOSE;         /* the caller checked the key already */
    }
    if (ret != ZC_HANDLED)
        zc_kresp_free(resp);
    return ret;
}
