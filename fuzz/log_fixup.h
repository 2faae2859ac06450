/* log_fixup.h - for the log fuzz targets: give every whole frame of a buffer
 * of RecordBatch v2 batches its right CRC-32C, so inputs get past the
 * checksum (random bytes never match one) to the checks behind it. */
#ifndef ZC_FUZZ_LOG_FIXUP_H
#define ZC_FUZZ_LOG_FIXUP_H

#include "log/batch.h"
#include "log/crc32c.h"

static inline void fuzz_fix_crcs(uint8_t *p, size_t len)
{
    size_t at = 0;

    while (len - at >= ZC_BATCH_HEADER) {
        uint32_t size = zc_be32(p + at + ZC_BATCH_LENGTH) + ZC_BATCH_LOG_OVERHEAD;

        if (size < ZC_BATCH_HEADER || size > len - at)
            return;
        zc_put_be32(p + at + ZC_BATCH_CRC,
                    zc_crc32c(0, p + at + ZC_BATCH_ATTRIBUTES, size - ZC_BATCH_ATTRIBUTES));
        at += size;
    }
}

#endif /* ZC_FUZZ_LOG_FIXUP_H */
