/* fuzz_log_segment.c - recovery's segment scan (zc__seg_scan), the parser
 * that reads whatever a crash, a disk or a hostile user left in a .log file.
 * The first input byte picks the segment's base offset (0 or one near the
 * 2^31 relative limit) and whether the CRC of every frame is fixed up first,
 * so the fuzzer gets past the checksum to the offset checks. Invariants: the
 * scan never fails on content, keeps a prefix of whole batches whose offsets
 * increase within the segment's 32-bit relative range, and names a problem
 * exactly when it stops short of the end. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "log/log_internal.h"
#include "log_fixup.h"

struct seen {
    int64_t base, next;
    uint64_t end;
};

static int on_batch(void *arg, uint64_t pos, const struct zc_batch *b, const uint8_t *bytes)
{
    struct seen *s = arg;

    (void)bytes;
    FUZZ_CHECK(pos == s->end);
    FUZZ_CHECK(b->base_offset >= s->next && b->last_offset_delta >= 0);
    FUZZ_CHECK(b->base_offset - s->base <= INT32_MAX - b->last_offset_delta);
    s->next = b->base_offset + b->last_offset_delta + 1;
    s->end = pos + b->size;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t copy[1 << 20];
    struct zc_log_scan scan;
    struct seen s;
    int fd, ret;

    if (size < 1 || size - 1 > sizeof(copy))
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1)
        fuzz_fix_crcs(copy, size - 1);
    s.base = data[0] & 2 ? INT32_MAX - 16 : 0;
    s.next = s.base;
    s.end = 0;
    fd = memfd_create("segment", MFD_CLOEXEC);
    if (fd < 0 || write(fd, copy, size - 1) != (ssize_t)(size - 1))
        abort();
    ret = zc__seg_scan(fd, s.base, &scan, on_batch, &s);
    close(fd);
    FUZZ_CHECK(ret == 0);
    FUZZ_CHECK(scan.file_size == size - 1 && scan.valid_bytes == s.end);
    FUZZ_CHECK(scan.next_offset == s.next);
    FUZZ_CHECK((scan.problem != NULL) == (scan.valid_bytes < scan.file_size));
    return 0;
}
