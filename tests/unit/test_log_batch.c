/* test_log_batch.c - CRC-32C against published vectors (both
 * implementations), and RecordBatch v2 validation: each bad field gives the
 * error a Kafka client understands. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "log/batch.h"
#include "log/crc32c.h"
#include "tap.h"
#include "testutil.h"

static void test_crc_vectors(void)
{
    uint8_t buf[32];

    /* "123456789" is the usual check value; the four 32-byte buffers are
     * RFC 3720 (iSCSI) appendix B.4. */
    t_is_int(zc_crc32c(0, "123456789", 9), 0xE3069283, "crc32c check value");
    t_is_int(zc_crc32c_sw(0, "123456789", 9), 0xE3069283, "crc32c sw check value");
    memset(buf, 0, 32);
    t_is_int(zc_crc32c(0, buf, 32), 0x8A9136AA, "32 zero bytes");
    t_is_int(zc_crc32c_sw(0, buf, 32), 0x8A9136AA, "32 zero bytes (sw)");
    memset(buf, 0xff, 32);
    t_is_int(zc_crc32c(0, buf, 32), 0x62A8AB43, "32 0xff bytes");
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    t_is_int(zc_crc32c(0, buf, 32), 0x46DD794E, "32 incrementing bytes");
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    t_is_int(zc_crc32c(0, buf, 32), 0x113FDB5C, "32 decrementing bytes");
    t_is_int(zc_crc32c(0, "", 0), 0, "empty");
    t_diag("crc32c uses the %s", zc_crc32c_hw() ? "SSE4.2 instruction" : "table");
}

/* Every length and alignment up to a few streams: the instruction path
 * (three-stream joins, unaligned heads, tails) equals the table, and chained
 * calls equal one call. */
static void test_crc_hw_equals_sw(void)
{
    size_t max = 3 * 4096 * 2 + 77;
    uint8_t *buf = malloc(max + 8);
    int bad = 0, bad_chain = 0;

    t_fill_pattern(buf, max + 8, 12345);
    for (size_t len = 0; len <= max; len += (len < 300 ? 1 : 997)) {
        for (size_t al = 0; al < 8; al += (len < 300 ? 1 : 3)) {
            uint32_t a = zc_crc32c(0, buf + al, len), b = zc_crc32c_sw(0, buf + al, len);
            size_t cut = len / 3;

            bad += a != b;
            bad_chain += zc_crc32c(zc_crc32c(0, buf + al, cut), buf + al + cut, len - cut) != a;
        }
    }
    t_is_int(bad, 0, "hw == sw over lengths 0..%zu and 8 alignments", max);
    t_is_int(bad_chain, 0, "crc(a||b) == crc(crc(a), b)");
    free(buf);
}

static uint8_t batch[1 << 16];

static ssize_t fresh(int32_t count, size_t value_len)
{
    static const char value[200] = "v";

    return zc_batch_build(batch, sizeof(batch), count, value, value_len, 1700000000000);
}

static void recrc(size_t size)
{
    zc_put_be32(batch + ZC_BATCH_CRC,
                zc_crc32c(0, batch + ZC_BATCH_ATTRIBUTES, size - ZC_BATCH_ATTRIBUTES));
}

static void test_validate(void)
{
    struct zc_batch b;
    ssize_t size = fresh(3, 10), n;

    t_ok(size > ZC_BATCH_HEADER, "built a 3-record batch (%zd bytes)", size);
    n = zc_batch_validate(batch, (size_t)size, 1048588, &b);
    t_is_int(n, size, "valid batch accepted");
    t_is_int(b.records_count, 3, "records count");
    t_is_int(b.last_offset_delta, 2, "last offset delta");
    t_is_int(b.max_timestamp, 1700000000000, "max timestamp");
    t_is_int(zc_batch_check(batch, (size_t)size, &b), size, "stored check accepts it");
    t_is_int(zc_batch_check(batch, (size_t)size - 1, &b), 0, "one byte short: partial");
    t_is_int(zc_batch_check(batch, 60, &b), 0, "header short: partial");
    t_is_int(zc_batch_validate(batch, (size_t)size - 1, 1048588, &b), -EBADMSG,
             "producer batch one byte short: corrupt");
    t_is_int(zc_batch_validate(batch, (size_t)size, (uint32_t)size - 1, &b), -EMSGSIZE,
             "one byte over max.message.bytes: too large");
    t_is_int(zc_batch_validate(batch, (size_t)size, (uint32_t)size, &b), size,
             "exactly max.message.bytes: accepted");

    batch[size - 1] ^= 1;
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EBADMSG, "bit flip: CRC");
    t_is_int(zc_batch_check(batch, (size_t)size, &b), -EBADMSG, "bit flip: stored check too");
    batch[size - 1] ^= 1;

    /* Fields outside the CRC: the broker patches these. */
    zc_put_be32(batch + ZC_BATCH_LEADER_EPOCH, 7);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), size,
             "leader epoch is outside the CRC");
    batch[ZC_BATCH_MAGIC] = 1;
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EBADMSG, "magic 1");
    batch[ZC_BATCH_MAGIC] = 2;
    zc_put_be64(batch, 5);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL,
             "non-zero base offset from a producer");
    t_is_int(zc_batch_check(batch, (size_t)size, &b), size, "stored batches have offsets");
    zc_put_be64(batch, 0);
    zc_put_be32(batch + ZC_BATCH_LENGTH, 48);
    t_is_int(zc_batch_header(batch, (size_t)size, &b), -EBADMSG, "length under a header");
    zc_put_be32(batch + ZC_BATCH_LENGTH, 0x7fffffff);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EMSGSIZE,
             "huge length: too large before anything else");
    t_is_int(zc_batch_validate(batch, (size_t)size, 0xffffffff, &b), -EBADMSG,
             "huge length under a huge limit: truncated");
    t_is_int(zc_batch_check(batch, (size_t)size, &b), 0, "huge length stored: torn");
    zc_put_be32(batch + ZC_BATCH_LENGTH, (uint32_t)size - 12);

    zc_put_be32(batch + ZC_BATCH_RECORDS_COUNT, 4);
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL,
             "count != last offset delta + 1");
    zc_put_be32(batch + ZC_BATCH_LAST_OFFSET_DELTA, 3);
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL,
             "header says 4 records, the body holds 3");
    zc_put_be32(batch + ZC_BATCH_RECORDS_COUNT, 3);
    zc_put_be32(batch + ZC_BATCH_LAST_OFFSET_DELTA, 2);
    batch[ZC_BATCH_ATTRIBUTES + 1] = ZC_BATCH_CONTROL;
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL, "control batch");
    batch[ZC_BATCH_ATTRIBUTES + 1] = 5;
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL, "codec 5");
    batch[ZC_BATCH_ATTRIBUTES + 1] = 4;
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), size,
             "zstd: stored as received, records not walked");
    t_is_str(zc_batch_codec_name(b.attributes), "zstd", "codec name");
    batch[ZC_BATCH_ATTRIBUTES + 1] = 0;
    zc_put_be64(batch + ZC_BATCH_PRODUCER_ID, 42);
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL,
             "producer id without a base sequence");
    zc_put_be32(batch + ZC_BATCH_BASE_SEQUENCE, 0);
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), size,
             "idempotent producer batch");

    /* Record framing: the first record's length varint made too long. */
    size = fresh(1, 10);
    batch[ZC_BATCH_HEADER] = 0x7e;      /* zigzag 63 > the batch */
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EBADMSG,
             "record length past the batch");
    size = fresh(2, 10);
    batch[ZC_BATCH_HEADER + 3] = 4;     /* first record's offset delta: zigzag 2 */
    recrc((size_t)size);
    t_is_int(zc_batch_validate(batch, (size_t)size, 1048588, &b), -EINVAL,
             "record offset delta out of sequence");
}

int main(void)
{
    test_crc_vectors();
    test_crc_hw_equals_sw();
    test_validate();
    return t_done();
}
