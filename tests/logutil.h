/* logutil.h - helpers for the log store tests: a fresh data directory,
 * batches whose values say which append they came from, and a reader that
 * walks a partition through zc_log_read ranges. */
#ifndef ZC_TEST_LOGUTIL_H
#define ZC_TEST_LOGUTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/batch.h"
#include "log/log.h"
#include "testutil.h"

/* A new empty directory under t_tmpdir() (removed with it at exit). */
__attribute__((unused))
static const char *tl_dir(const char *name)
{
    static char path[4096];
    static unsigned seq;

    snprintf(path, sizeof(path), "%s/%s.%u", t_tmpdir(), name, seq++);
    mkdir(path, 0755);
    return path;
}

/* A batch of @count records whose values are "<tag>:<i>" padded to
 * @value_len bytes, stamped @ts. Returns the size; aborts if @cap is small. */
__attribute__((unused))
static size_t tl_batch(void *buf, size_t cap, int32_t count, size_t value_len,
                       uint64_t tag, int64_t ts)
{
    char value[65536];
    ssize_t n;

    if (value_len > sizeof(value))
        abort();
    memset(value, 'x', value_len);
    snprintf(value, value_len < 24 ? value_len : 24, "%" PRIu64 ":", tag);
    n = zc_batch_build(buf, cap, count, value, value_len, ts);
    if (n < 0) {
        fprintf(stderr, "zc_batch_build: %zd\n", n);
        abort();
    }
    return (size_t)n;
}

/* Read the partition from @from to its end through zc_log_read, checking
 * every batch (CRC, offsets continuing). Calls @fn for each whole batch.
 * Returns the next offset after the last batch, or -errno. */
__attribute__((unused))
static int64_t tl_walk(struct zc_log_partition *p, int64_t from,
                       void (*fn)(void *arg, const struct zc_batch *b, const uint8_t *bytes),
                       void *arg)
{
    static uint8_t buf[1 << 20];
    int64_t next = from;

    for (;;) {
        struct zc_log_range r;
        size_t at = 0, len;
        ssize_t got;
        int ret = zc_log_read(p, next, sizeof(buf), true, &r);

        if (ret < 0)
            return ret;
        if (r.len == 0)
            return next;
        len = r.len;
        got = pread(r.fd, buf, len, r.pos);
        zc_log_range_release(&r);
        if (got != (ssize_t)len)
            return -EIO;
        while (at < (size_t)got) {
            struct zc_batch b;
            ssize_t n = zc_batch_check(buf + at, (size_t)got - at, &b);

            if (n == 0)
                break;                  /* partial tail: read again from there */
            if (n < 0)
                return -EBADMSG;
            if (zc_batch_last_offset(&b) >= next) {
                if (b.base_offset > next && next != from)
                    return -EILSEQ;     /* a hole in the offsets */
                if (fn)
                    fn(arg, &b, buf + at);
                next = zc_batch_last_offset(&b) + 1;
            }
            at += (size_t)n;
        }
        if (at == 0)
            return -EIO;
    }
}

#endif /* ZC_TEST_LOGUTIL_H */
