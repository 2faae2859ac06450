/* fuzz_offset_records.c - the __consumer_offsets decoder over arbitrary log
 * bytes (a client could produce to that topic): it never reads outside the
 * input, walks only whole batches, and every record it reports has its
 * strings inside the input and re-encodes to a batch that decodes to the
 * same record. */
#include <string.h>

#include "broker/offset_records.h"
#include "fuzz.h"
#include "log/batch.h"
#include "log/crc32c.h"

static const uint8_t *in_start, *in_end;

static void check_inside(const char *p, size_t len)
{
    if (len)
        FUZZ_CHECK((const uint8_t *)p >= in_start && (const uint8_t *)p + len <= in_end);
}

static bool same_str(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void on_again(void *arg, const struct zc_offset_rec *r)
{
    const struct zc_offset_rec *o = arg;

    FUZZ_CHECK(same_str(r->group, r->group_len, o->group, o->group_len));
    FUZZ_CHECK(same_str(r->topic, r->topic_len, o->topic, o->topic_len));
    FUZZ_CHECK(r->partition == o->partition && r->tombstone == o->tombstone);
    if (!o->tombstone) {
        FUZZ_CHECK(r->offset == o->offset && r->leader_epoch == o->leader_epoch);
        FUZZ_CHECK(same_str(r->metadata, r->metadata_len, o->metadata, o->metadata_len));
    }
}

static void on_rec(void *arg, const struct zc_offset_rec *r)
{
    uint8_t *buf;
    size_t len;

    (void)arg;
    check_inside(r->group, r->group_len);
    check_inside(r->topic, r->topic_len);
    if (!r->tombstone)
        check_inside(r->metadata, r->metadata_len);
    if (zc_offset_batch_encode(r, 1, 0, &buf, &len) == 0) {
        FUZZ_CHECK(zc_offset_batches_decode(buf, len, on_again, (void *)r, NULL) == len);
        free(buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    int64_t next = -1;
    size_t used, pos = 0;

    if (!copy)
        return 0;
    memcpy(copy, data, size);
    /* Even inputs say whether to fix each batch's CRC, so the fuzzer gets
     * past it to the records; odd ones test the CRC check itself. */
    while (size && !(data[0] & 1)) {
        struct zc_batch b;
        ssize_t n = zc_batch_header(copy + pos, size - pos, &b);

        if (n <= 0 || (size_t)n > size - pos)
            break;
        zc_put_be32(copy + pos + ZC_BATCH_CRC,
                    zc_crc32c(0, copy + pos + ZC_BATCH_ATTRIBUTES,
                              (size_t)n - ZC_BATCH_ATTRIBUTES));
        pos += (size_t)n;
    }
    in_start = copy;
    in_end = copy + size;
    used = zc_offset_batches_decode(copy, size, on_rec, NULL, &next);
    FUZZ_CHECK(used <= size);
    free(copy);
    return 0;
}
