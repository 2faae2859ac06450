/* crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. */
#ifndef ZC_LOG_CRC32C_H
#define ZC_LOG_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* zc_crc32c - extend @crc (0 to start) over @len bytes of @buf; chaining
 * calls gives the CRC of the concatenation. Uses the SSE4.2 crc32
 * instruction when the CPU has it, a table otherwise. */
uint32_t zc_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table implementation, always available (tests compare both). */
uint32_t zc_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* True when zc_crc32c runs on the CPU instruction. */
bool zc_crc32c_hw(void);

#endif /* ZC_LOG_CRC32C_H */
