/* metadata.c - Metadata (key 3), v0-v4: this node as the only broker,
 * leader and replica of every partition. Listed topics that do not exist
 * are created when auto-creation is on and the request allows it (always
 * before v4; v4 has AllowAutoTopicCreation, false from consumers). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/offsets.h"

struct names {
    char (*v)[256];
    size_t n, cap;
    bool oom;
};

static void collect(void *arg, const char *topic, int32_t partitions)
{
    struct names *names = arg;

    (void)partitions;
    if (names->n == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 16;
        char (*v)[256] = realloc(names->v, cap * sizeof(*v));

        if (!v) {
            names->oom = true;
            return;
        }
        names->v = v;
        names->cap = cap;
    }
    strncpy(names->v[names->n], topic, 255);
    names->v[names->n][255] = '\0';
    names->n++;
}

static void write_topic(struct zc_kresp *resp, int16_t v, int16_t err,
                        const char *name, size_t name_len, int32_t partitions)
{
    zc_kw_i16(&resp->w, err);
    zc_kw_string(&resp->w, name, name_len);
    if (v >= 1)                                  /* IsInternal */
        zc_kw_i8(&resp->w, name_len == ZC_OFFSETS_TOPIC_LEN &&
                           !memcmp(name, ZC_OFFSETS_TOPIC, name_len));
    zc_kw_i32(&resp->w, partitions > 0 ? partitions : 0);
    for (int32_t i = 0; i < partitions; i++) {
        zc_kw_i16(&resp->w, ZC_KERR_NONE);
        zc_kw_i32(&resp->w, i);
        zc_kw_i32(&resp->w, ZC_BROKER_NODE_ID);  /* leader */
        zc_kw_i32(&resp->w, 1);                  /* replicas */
        zc_kw_i32(&resp->w, ZC_BROKER_NODE_ID);
        zc_kw_i32(&resp->w, 1);                  /* in-sync replicas */
        zc_kw_i32(&resp->w, ZC_BROKER_NODE_ID);
    }
}

static void write_requested(struct zc_broker *b, struct zc_kresp *resp, int16_t v,
                            struct zc_kr *r, int32_t count, bool allow_create)
{
    zc_kw_i32(&resp->w, count);
    for (int32_t i = 0; i < count; i++) {
        struct zc_kstr s = zc_kr_string(r);
        char name[256];
        int n;

        if (!zc_broker_topic_name(s, name)) {
            write_topic(resp, v, ZC_KERR_INVALID_TOPIC, s.p, (size_t)s.len, 0);
            continue;
        }
        n = zc_log_topic_partitions(b->log, name);
        if (n == -ENOENT && allow_create && zc_broker_auto_create(b, name) == 0)
            n = zc_log_topic_partitions(b->log, name);
        write_topic(resp, v, n < 0 ? zc_kerr_from_errno(n) : ZC_KERR_NONE,
                    name, strlen(name), n);
    }
}

static void write_all(struct zc_broker *b, struct zc_kresp *resp, int16_t v)
{
    struct names names = { 0 };
    size_t count_at = zc_kw_reserve_i32(&resp->w);
    int32_t written = 0;

    zc_log_topic_list(b->log, collect, &names);
    if (names.oom)
        resp->failed = true;
    for (size_t i = 0; i < names.n; i++) {
        int n = zc_log_topic_partitions(b->log, names.v[i]);

        if (n < 0)
            continue;                            /* deleted meanwhile */
        write_topic(resp, v, ZC_KERR_NONE, names.v[i], strlen(names.v[i]), n);
        written++;
    }
    zc_kw_patch_i32(&resp->w, count_at, written);
    free(names.v);
}

void zc_api_metadata(struct zc_broker *b, const struct zc_kreq *req,
                     struct zc_kresp *resp)
{
    const struct zc_broker_config *cfg = b->cfg;
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    int32_t count = zc_kr_array(&r, 2, v >= 1);
    struct zc_kr after = r;
    bool allow_create = true;

    /* AllowAutoTopicCreation follows the topic names in v4. */
    if (v >= 4) {
        for (int32_t i = 0; i < count; i++)
            (void)zc_kr_string(&after);
        allow_create = zc_kr_bool(&after);
    }
    if (v >= 3)
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs */
    zc_kw_i32(&resp->w, 1);                      /* brokers */
    zc_kw_i32(&resp->w, ZC_BROKER_NODE_ID);
    zc_kw_cstring(&resp->w, cfg->advertise_host);
    zc_kw_i32(&resp->w, cfg->advertise_port);
    if (v >= 1)
        zc_kw_string(&resp->w, NULL, 0);         /* Rack */
    if (v >= 2)
        zc_kw_cstring(&resp->w, "zcopy");        /* ClusterId */
    if (v >= 1)
        zc_kw_i32(&resp->w, ZC_BROKER_NODE_ID);  /* ControllerId */
    /* v0: an empty list means every topic; v1+: null does. */
    if (count < 0 || (v == 0 && count == 0))
        write_all(b, resp, v);
    else
        write_requested(b, resp, v, &r, count, allow_create);
}
