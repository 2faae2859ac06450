/* api_versions.c - ApiVersions (key 18), v0-v3. Always response header v0
 * (KAFKA.md 1.4). A version above ours is answered in the v0 layout with
 * UNSUPPORTED_VERSION and our ranges, as Kafka does: librdkafka then retries
 * with a version we have. */
#include "broker/broker.h"
#include "broker/request.h"

void zc_api_versions(struct zc_broker *b, const struct zc_kreq *req,
                     struct zc_kresp *resp)
{
    const struct zc_kapi_range *self = zc_kapi_find(ZC_KAPI_API_VERSIONS);
    int16_t v = req->h.api_version;
    const struct zc_kapi_range *apis;
    unsigned n;

    (void)b;
    apis = zc_kapi_supported(&n);
    if (v > self->max) {
        zc_kw_i16(&resp->w, ZC_KERR_UNSUPPORTED_VERSION);
        v = 0;
    } else {
        zc_kw_i16(&resp->w, ZC_KERR_NONE);
    }
    if (v >= 3)
        zc_kw_uvarint(&resp->w, n + 1);
    else
        zc_kw_i32(&resp->w, (int32_t)n);
    for (unsigned i = 0; i < n; i++) {
        zc_kw_i16(&resp->w, apis[i].key);
        zc_kw_i16(&resp->w, apis[i].min);
        zc_kw_i16(&resp->w, apis[i].max);
        if (v >= 3)
            zc_kw_uvarint(&resp->w, 0);          /* no tagged fields */
    }
    if (v >= 1)
        zc_kw_i32(&resp->w, 0);                  /* ThrottleTimeMs */
    if (v >= 3)
        zc_kw_uvarint(&resp->w, 0);
}
