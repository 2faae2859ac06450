/* fuzz_http_date.c - HTTP-date parsing: anything accepted formats back to
 * a date that parses to the same instant; formatting any time_t gives 29
 * characters that parse back. */
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "serve/http_date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[ZC_HTTP_DATE_LEN + 1];
    time_t t, back;
    int64_t raw;

    if (zc_http_date_parse((const char *)data, size, &t) == 0) {
        zc_http_date_format(t, out);
        FUZZ_CHECK(strlen(out) == ZC_HTTP_DATE_LEN);
        FUZZ_CHECK(zc_http_date_parse(out, ZC_HTTP_DATE_LEN, &back) == 0 && back == t);
    }
    if (size >= 8) {
        memcpy(&raw, data, 8);
        zc_http_date_format((time_t)raw, out);
        FUZZ_CHECK(strlen(out) == ZC_HTTP_DATE_LEN);
        FUZZ_CHECK(zc_http_date_parse(out, ZC_HTTP_DATE_LEN, &back) == 0);
        if (raw >= -62167219200LL && raw <= 253402300799LL)
            FUZZ_CHECK(back == (time_t)raw);
    }
    return 0;
}
