/* fuzz_http_response.c - libFuzzer target: the clients' response-head parser
 * over one input, then the chunked decoder over whatever follows the head. */
#include <stddef.h>
#include <stdint.h>

#include "client/http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct zc_http_resp r;
    struct zc_chunked d = { 0 };
    int head = zc_http_parse_response(buf, size, &r);
    size_t pos = head > 0 ? (size_t)head : 0;

    /* Decode the rest as a chunked body, consuming data as a caller would;
     * every round moves at least one byte or ends. */
    while (pos < size && !zc_chunked_done(&d)) {
        ssize_t n = zc_chunked_parse(&d, buf + pos, size - pos);

        if (n < 0)
            break;
        pos += (size_t)n;
        if (d.data_left && pos < size) {
            size_t m = d.data_left < size - pos ? (size_t)d.data_left : size - pos;

            zc_chunked_consumed_data(&d, m);
            pos += m;
        } else if (n == 0) {
            break;
        }
    }
    return 0;
}
