/* fuzz_coding.c - Accept-Encoding negotiation: the first byte is the set
 * of variants present, the rest the field value. The answer is always a
 * present variant, identity, or 406; an empty value gives identity. */
#include "fuzz.h"
#include "serve/coding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zc_coding_list pref = { 3, { ZC_CODING_GZIP, ZC_CODING_BR, ZC_CODING_ZSTD } };
    unsigned avail;
    int c;

    if (size < 1)
        return 0;
    avail = data[0] & 7u;
    c = zc_coding_choose((const char *)data + 1, size - 1, avail, &pref);
    FUZZ_CHECK(c == ZC_CODING_IDENTITY || c == ZC_CODING_NOT_ACCEPTABLE ||
               (c >= 0 && c < ZC_CODING_COUNT && (avail & (1u << c))));
    if (size == 1)
        FUZZ_CHECK(c == ZC_CODING_IDENTITY);
    return 0;
}
