/* fuzz_log_batch.c - RecordBatch v2 parsing: the input is a producer's
 * buffer of batches, validated as zc_log_append does (all of it, batch by
 * batch), and also checked as stored bytes are by recovery. A batch accepted
 * by the strict validator must pass the stored check with the same size and
 * consistent counts; nothing may read outside the input. */
#include <errno.h>

#include "fuzz.h"
#include "log/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t at = 0;

    while (at < size) {
        struct zc_batch v, c;
        ssize_t n = zc_batch_validate(data + at, size - at, 1048588, &v);
        ssize_t m = zc_batch_check(data + at, size - at, &c);

        FUZZ_CHECK(n == -EBADMSG || n == -EMSGSIZE || n == -EINVAL || n >= ZC_BATCH_HEADER);
        FUZZ_CHECK(m == 0 || m == -EBADMSG || m >= ZC_BATCH_HEADER);
        if (m > 0)
            FUZZ_CHECK((size_t)m <= size - at && (uint32_t)m == c.size);
        if (n < 0)
            break;
        FUZZ_CHECK(n == m && (size_t)n <= size - at);
        FUZZ_CHECK(v.records_count > 0 && v.records_count == v.last_offset_delta + 1);
        FUZZ_CHECK(v.base_offset == 0 && v.magic == 2 && v.size <= 1048588);
        at += (size_t)n;
    }
    return 0;
}
