/* fuzz_kafka_request.c - one Kafka request (the bytes after the size
 * prefix): the header parser, then the body check of its API and version. */
#include "broker/codec.h"
#include "broker/request.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc_kreq_header h;
    struct zc_kr body;

    if (zc_kreq_parse_header(data, size, &h, &body) < 0)
        return 0;
    FUZZ_CHECK(body.p >= data && body.end == data + size && !body.bad);
    FUZZ_CHECK(h.client_id.len == -1 ||
               ((const uint8_t *)h.client_id.p >= data &&
                (const uint8_t *)h.client_id.p + h.client_id.len <= body.p));
    FUZZ_CHECK(!h.flexible || h.api_key == ZC_KAPI_API_VERSIONS || h.api_version > 2);
    (void)zc_kreq_check_body(&body, h.api_key, h.api_version);
    /* The check never moves the caller's reader. */
    FUZZ_CHECK(body.end == data + size && !body.bad);
    return 0;
}
