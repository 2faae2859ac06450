/* crc32c.c - CRC-32C: the SSE4.2 instruction (three independent streams so
 * its 3-cycle latency overlaps) with a runtime check, and a slicing-by-8
 * table fallback. Both are the reflected polynomial 0x82F63B78, initial value
 * and final xor all ones, as Kafka and iSCSI use it. */
#include <pthread.h>
#include <string.h>

#include "log/crc32c.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xff];
}

static uint32_t sw_update(uint32_t c, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);               /* little-endian: x86, the target */
        w ^= c;
        c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
            table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
            table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
            table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

uint32_t zc_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&table_once, table_init);
    return ~sw_update(~crc, buf, len);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

/* Multiplication in GF(2) modulo the polynomial (reflected): used to move a
 * CRC forward over a run of zero bytes when the three streams are joined. */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, p = 0;

    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

/* x^(8n) mod P: the factor that appends n zero bytes to a CRC. */
static uint32_t x8n_mod(uint64_t n)
{
    uint32_t r = 1u << 31, sq = 1u << 30;   /* x^0 and x^1 */

    n *= 8;
    while (n) {
        if (n & 1)
            r = gf2_mul(sq, r);
        sq = gf2_mul(sq, sq);
        n >>= 1;
    }
    return r;
}

#define STREAM 4096                     /* bytes per stream per round */

/* shift[k][b]: the CRC state b<<(8k) moved over STREAM zero bytes, so a
 * shift is four table lookups instead of a GF(2) product. */
static uint32_t shift[4][256];

static void shift_init(void)
{
    uint32_t f = x8n_mod(STREAM);

    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            shift[k][b] = gf2_mul(f, b << (8 * k));
}

static inline uint32_t shift_stream(uint32_t c)
{
    return shift[0][c & 0xff] ^ shift[1][(c >> 8) & 0xff] ^
           shift[2][(c >> 16) & 0xff] ^ shift[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t hw_update(uint32_t c, const uint8_t *p, size_t len)
{
    uint64_t c0 = c;

    while (len && ((uintptr_t)p & 7)) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        len--;
    }
    /* Three streams of STREAM bytes: the instruction's latency is 3 cycles
     * and its throughput 1 a cycle, so one chain runs at a third of the
     * speed; the joins cost two shifts per 12 KiB. */
    while (len >= 3 * STREAM) {
        uint64_t c1 = 0, c2 = 0, w0, w1, w2;

        for (size_t i = 0; i < STREAM; i += 8) {
            memcpy(&w0, p + i, 8);
            memcpy(&w1, p + STREAM + i, 8);
            memcpy(&w2, p + 2 * STREAM + i, 8);
            c0 = _mm_crc32_u64(c0, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
        }
        c0 = shift_stream((uint32_t)c0) ^ (uint32_t)c1;
        c0 = shift_stream((uint32_t)c0) ^ (uint32_t)c2;
        p += 3 * STREAM;
        len -= 3 * STREAM;
    }
    while (len >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);
        c0 = _mm_crc32_u64(c0, w);
        p += 8;
        len -= 8;
    }
    while (len--)
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return (uint32_t)c0;
}

static bool hw_ok;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void hw_init(void)
{
    __builtin_cpu_init();
    hw_ok = __builtin_cpu_supports("sse4.2");
    if (hw_ok)
        shift_init();
}

bool zc_crc32c_hw(void)
{
    pthread_once(&hw_once, hw_init);
    return hw_ok;
}

uint32_t zc_crc32c(uint32_t crc, const void *buf, size_t len)
{
    if (zc_crc32c_hw())
        return ~hw_update(~crc, buf, len);
    return zc_crc32c_sw(crc, buf, len);
}
#else
bool zc_crc32c_hw(void)
{
    return false;
}

uint32_t zc_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return zc_crc32c_sw(crc, buf, len);
}
#endif
