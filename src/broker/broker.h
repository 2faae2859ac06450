/* broker.h - zcopy broker's shared state and the API handlers: each turns
 * one checked request into a response (a buffer plus, for Fetch, byte
 * ranges of segment files sent by zc_transfer). Handlers know nothing of
 * sockets; conn.c does the I/O. */
#ifndef ZC_BROKER_BROKER_H
#define ZC_BROKER_BROKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/codec.h"
#include "log/log.h"

#define ZC_BROKER_NODE_ID 0
#define ZC_BROKER_MAX_REQUEST (100u << 20)   /* Kafka's socket.request.max.bytes */

/* Kafka error codes the broker sends. */
enum {
    ZC_KERR_UNKNOWN_SERVER = -1,
    ZC_KERR_NONE = 0,
    ZC_KERR_OFFSET_OUT_OF_RANGE = 1,
    ZC_KERR_CORRUPT_MESSAGE = 2,
    ZC_KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    ZC_KERR_MESSAGE_TOO_LARGE = 10,
    ZC_KERR_INVALID_TOPIC = 17,
    ZC_KERR_INVALID_REQUIRED_ACKS = 21,
    ZC_KERR_UNSUPPORTED_VERSION = 35,
    ZC_KERR_TOPIC_ALREADY_EXISTS = 36,
    ZC_KERR_INVALID_PARTITIONS = 37,
    ZC_KERR_INVALID_REPLICATION_FACTOR = 38,
    ZC_KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    ZC_KERR_INVALID_CONFIG = 40,
    ZC_KERR_INVALID_REQUEST = 42,
    ZC_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    ZC_KERR_KAFKA_STORAGE_ERROR = 56,
    ZC_KERR_INVALID_RECORD = 87,
};

/* zc_kerr_from_errno - the Kafka error code for a log store -errno (the
 * table at the top of log/log.h). */
int16_t zc_kerr_from_errno(int err);

struct zc_broker_config {
    const char *dir;
    char advertise_host[256];
    int32_t advertise_port;
    int32_t partitions;             /* for auto-created topics */
    bool auto_create;
    struct zc_log_config log;
};

/* Shared by every worker thread; the log does its own locking. */
struct zc_broker {
    const struct zc_broker_config *cfg;
    struct zc_log *log;
    /* Bumped after every append: parked fetches re-check when it moved. */
    atomic_uint_fast64_t appends;
    /* Called after an append so workers with parked fetches wake up. */
    void (*on_append)(struct zc_broker *b);
    void *on_append_arg;
    struct zc_broker_groups *groups;    /* consumer groups (broker/groups.h) */
};

/* A response under construction. The buffer starts with the 4-byte size
 * (patched by zc_kresp_finish) and the correlation id. A file range is
 * spliced in after buffer byte @at: the wire order is
 * buf[0, r0.at) range0 buf[r0.at, r1.at) range1 ... buf[rn.at, len). */
struct zc_kresp_range {
    size_t at;
    struct zc_log_range r;
};

struct zc_kresp {
    struct zc_kw w;
    struct zc_kresp_range *ranges;
    unsigned nranges, cap_ranges;
    uint64_t range_bytes;
    bool none;                      /* produce acks=0: nothing is sent */
    bool failed;                    /* out of memory: close the connection */
};

void zc_kresp_begin(struct zc_kresp *resp, int32_t correlation_id);
/* Append a file range (the caller already wrote its int32 size). Takes the
 * range's segment reference, released by zc_kresp_free. */
void zc_kresp_add_range(struct zc_kresp *resp, struct zc_log_range *r);
/* Patch the size prefix. Return: 0, or -ENOMEM / -EMSGSIZE. */
int zc_kresp_finish(struct zc_kresp *resp);
void zc_kresp_free(struct zc_kresp *resp);

/* One request, its header parsed and its body checked by zc_kreq_check_body. */
struct zc_kreq {
    struct zc_kreq_header h;
    struct zc_kr body;
    struct zc_gwait **gwait;        /* the connection's group wait (groups.h) */
};

/* What a handler did with the request. */
enum zc_handled {
    ZC_HANDLED,                     /* resp is ready (or resp.none) */
    ZC_HANDLED_PARK,                /* Fetch: wait for data, then call again */
    ZC_HANDLED_CLOSE,               /* close the connection (acks=0 error) */
};

/* zc_broker_handle - run @req. A parked Fetch is retried by calling again
 * with @expired set once its MaxWaitMs passed (it then answers what it has).
 * @wait_ms is set for ZC_HANDLED_PARK. */
enum zc_handled zc_broker_handle(struct zc_broker *b, const struct zc_kreq *req,
                                 bool expired, struct zc_kresp *resp,
                                 int32_t *wait_ms);

/* Per-API handlers (one file each, called by zc_broker_handle). */
void zc_api_versions(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_metadata(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
enum zc_handled zc_api_produce(struct zc_broker *b, const struct zc_kreq *req,
                               struct zc_kresp *resp);
enum zc_handled zc_api_fetch(struct zc_broker *b, const struct zc_kreq *req, bool expired,
                             struct zc_kresp *resp, int32_t *wait_ms);
void zc_api_list_offsets(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_create_topics(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_delete_topics(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);

/* zc_broker_topic_name - copy a request's topic name into @out (NUL-ended)
 * when it is a valid Kafka name: [a-zA-Z0-9._-], 1..249 bytes, not "." or
 * "..". Return: true when valid. */
bool zc_broker_topic_name(struct zc_kstr s, char out[256]);

/* zc_broker_auto_create - create @topic with the configured partition count
 * when auto-creation is on. Return: 0 (created or already there) or -errno. */
int zc_broker_auto_create(struct zc_broker *b, const char *topic);

#endif /* ZC_BROKER_BROKER_H */
