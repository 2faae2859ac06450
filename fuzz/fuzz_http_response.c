/* fuzz_http_response.c - libFuzzer target: the clients' response-head parser
 * over one input, then the chunked decoder over whatever follows the head. */
#include "client/http_resp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct zc_http_resp r;
    struct zc_chunked d = { 0 };
    int head = zc_http_parse_response(buf, size, &r);
    size_t pos = head > 0 ? (size_t)head : 0;

    FUZZ_CHECK(head == ZC_RESP_PARTIAL || head == ZC_RESP_BAD ||
               head == ZC_RESP_TOO_MANY_FIELDS ||
               (head > 0 && (size_t)head <= size));
    if (head > 0) {
        FUZZ_CHECK(r.status >= 100 && r.status <= 999);
        FUZZ_CHECK(!(r.chunked && r.content_length >= 0));
        FUZZ_CHECK(!r.location.p || (r.location.p >= buf && r.location.len > 0 &&
                                     r.location.p + r.location.len <= buf + head));
    }

    /* Decode the rest as a chunked body, consuming data as a caller would;
     * every round moves at least one byte or ends. */
    while (pos < size && !zc_chunked_done(&d)) {
        ssize_t n = zc_chunked_parse(&d, buf + pos, size - pos);

        if (n < 0)
            break;
        pos += (size_t)n;
        FUZZ_CHECK(pos <= size);
        if (d.data_left && pos < size) {
            size_t m = d.data_left < size - pos ? (size_t)d.data_left : size - pos;

            zc_chunked_consumed_data(&d, m);
            pos += m;
        } else if (n == 0) {
            break;
        }
    }
    FUZZ_CHECK(d.body_bytes <= size);
    return 0;
}
