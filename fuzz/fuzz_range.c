/* fuzz_range.c - Range parsing: the first 8 bytes choose the body size
 * (small sizes are the interesting ones), the rest is the field value. */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "serve/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc_range out[ZC_RANGE_MAX_PARTS];
    uint64_t body = 0, total = 0;
    char cr[80], ref[80];
    int n;

    if (size < 8)
        return 0;
    memcpy(&body, data, 8);
    if (data[0] & 1)
        body %= 4096;                    /* keep most sizes small */
    n = zc_range_parse((const char *)data + 8, size - 8, body, out, ZC_RANGE_MAX_PARTS);
    FUZZ_CHECK(n == 0 || n == -416 || (n >= 1 && n <= ZC_RANGE_MAX_PARTS));
    FUZZ_CHECK(!(body == 0 && n > 0));
    for (int i = 0; i < n; i++) {
        size_t len;

        FUZZ_CHECK(out[i].first <= out[i].last && out[i].last < body);
        total += out[i].last - out[i].first + 1;
        len = zc_range_content_range(cr, sizeof(cr), &out[i], body);
        snprintf(ref, sizeof(ref), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                 out[i].first, out[i].last, body);
        FUZZ_CHECK(len == strlen(ref) && !strcmp(cr, ref));
    }
    FUZZ_CHECK(total <= body);
    return 0;
}
