/* request.h - the APIs and versions this broker speaks, and a check of a
 * whole request body against its version's field layout before any handler
 * acts on it (so a request truncated in its last partition changes nothing). */
#ifndef ZC_BROKER_REQUEST_H
#define ZC_BROKER_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/codec.h"

enum zc_kapi {
    ZC_KAPI_PRODUCE = 0,
    ZC_KAPI_FETCH = 1,
    ZC_KAPI_LIST_OFFSETS = 2,
    ZC_KAPI_METADATA = 3,
    ZC_KAPI_OFFSET_COMMIT = 8,
    ZC_KAPI_OFFSET_FETCH = 9,
    ZC_KAPI_FIND_COORDINATOR = 10,
    ZC_KAPI_JOIN_GROUP = 11,
    ZC_KAPI_HEARTBEAT = 12,
    ZC_KAPI_LEAVE_GROUP = 13,
    ZC_KAPI_SYNC_GROUP = 14,
    ZC_KAPI_DESCRIBE_GROUPS = 15,
    ZC_KAPI_LIST_GROUPS = 16,
    ZC_KAPI_API_VERSIONS = 18,
    ZC_KAPI_CREATE_TOPICS = 19,
    ZC_KAPI_DELETE_TOPICS = 20,
};

struct zc_kapi_range {
    int16_t key, min, max;
};

/* The advertised APIs, in ApiVersions order; @n set to their count.
 * Non-flexible versions only, except ApiVersions v3 (see KAFKA.md 1.2-1.4):
 * Produce includes v3 and Fetch v4 so librdkafka enables MsgVer2, Produce 7
 * and Fetch 10 enable ZSTD, ListOffsets 1 enables OffsetTime. Produce starts
 * at v0 although v0-v2 (old message formats) are refused: librdkafka up to
 * 2.11 compresses with gzip, snappy or lz4 only when the broker's Produce
 * range reaches down to v0 (rdkafka_msgset_writer.c, compr_req). */
const struct zc_kapi_range *zc_kapi_supported(unsigned *n);

/* zc_kapi_find - the advertised range of @key, or NULL. */
const struct zc_kapi_range *zc_kapi_find(int16_t key);

/* zc_kreq_check_body - whether @r (positioned at the body) holds a complete
 * request of @key/@version, walking its field layout without allocating.
 * Trailing bytes are ignored, as Kafka does. @r is not moved.
 * Return: true when every field is present and every count fits. */
bool zc_kreq_check_body(const struct zc_kr *r, int16_t key, int16_t version);

#endif /* ZC_BROKER_REQUEST_H */
