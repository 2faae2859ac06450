/* fuzz_http_cond.c - entity-tag lists and If-Range: the input is split at
 * its first NUL into a field value and the current tag. */
#include <string.h>

#include "fuzz.h"
#include "serve/http_cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *list = (const char *)data, *nul = memchr(data, '\0', size);
    const char *etag = "\"1-2-3.4\"";
    size_t list_len = size, etag_len = strlen(etag);
    bool strong, weak;

    if (nul) {
        list_len = (size_t)(nul - list);
        etag = nul + 1;
        etag_len = size - list_len - 1;
    }
    weak = zc_etag_match_list(list, list_len, etag, etag_len, true);
    strong = zc_etag_match_list(list, list_len, etag, etag_len, false);
    FUZZ_CHECK(!strong || weak);         /* a strong match is also a weak one */
    (void)zc_if_range_match(list, list_len, etag, etag_len, 784111777);
    return 0;
}
