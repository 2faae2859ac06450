/* fuzz_url.c - percent-decoding, the path check and both escapers: sizes
 * reported match what is written, and encode then decode is the identity. */
#include <string.h>
#include <sys/types.h>

#include "fuzz.h"
#include "serve/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    static char dec[4096], enc[3 * 4096 + 1], back[4096 + 1];
    ssize_t n;
    size_t need, small;

    if (size > 4096)
        return 0;
    n = zc_url_decode_path(in, size, dec, sizeof(dec));
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= size && dec[n] == '\0');
        FUZZ_CHECK(memchr(dec, '\0', (size_t)n) == NULL);
        if (zc_url_path_check(dec, (size_t)n) == 0) {
            FUZZ_CHECK(dec[0] == '/' && !memchr(dec, '\\', (size_t)n));
            FUZZ_CHECK(!strstr(dec, "/../") && strcmp(dec + n - (n >= 3 ? 3 : n), "/.."));
        }
    }
    (void)zc_url_path_check(in, size);

    need = zc_url_encode_path(enc, sizeof(enc), in, size);
    FUZZ_CHECK(need < sizeof(enc) && strlen(enc) == need);
    if (!memchr(in, '\0', size)) {
        n = zc_url_decode_path(enc, need, back, sizeof(back));
        FUZZ_CHECK(n == (ssize_t)size && !memcmp(back, in, size));
    }
    small = size / 2;
    FUZZ_CHECK(zc_url_encode_path(back, small, in, size) == need);
    FUZZ_CHECK(small == 0 || strlen(back) < small);

    need = zc_html_escape(enc, sizeof(enc), in, size);
    FUZZ_CHECK(need < sizeof(enc));
    FUZZ_CHECK(zc_html_escape(NULL, 0, in, size) == need);
    FUZZ_CHECK(zc_html_escape(back, small, in, size) == need);
    return 0;
}
