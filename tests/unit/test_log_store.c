/* test_log_store.c - the log store through log.h: topics, append and the
 * offsets it assigns, reads as ranges (batch holding the offset, max bytes,
 * min one batch, high watermark), offset for time, roll by size, age and the
 * 32-bit relative offset, reopen after a clean close, retention with a range
 * still held, both append modes giving the same bytes, bad batches refused
 * with nothing appended. */
#include <dirent.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

static uint8_t buf[1 << 20];

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);

        n += l > s && !strcmp(e->d_name + l - s, suffix);
    }
    closedir(d);
    return n;
}

static void on_topic(void *arg, const char *topic, int32_t partitions)
{
    char *out = arg;

    snprintf(out + strlen(out), 256, "%s/%d ", topic, (int)partitions);
}

static void test_topics(void)
{
    const char *dir = tl_dir("topics");
    struct zc_log *log;
    char path[4200];

    t_is_int(zc_log_open(dir, NULL, &log), 0, "open an empty directory");
    t_is_int(zc_log_topic_create(log, "a.b_c-1", 3, NULL), 0, "create a topic of 3 partitions");
    t_is_int(zc_log_topic_create(log, "a.b_c-1", 1, NULL), -EEXIST, "create twice: -EEXIST");
    t_is_int(zc_log_topic_create(log, "bad/name", 1, NULL), -EINVAL, "slash in a name");
    t_is_int(zc_log_topic_create(log, "..", 1, NULL), -EINVAL, "name ..");
    t_is_int(zc_log_topic_create(log, "x", 0, NULL), -EINVAL, "0 partitions");
    t_is_int(zc_log_topic_partitions(log, "a.b_c-1"), 3, "partition count");
    t_is_int(zc_log_topic_partitions(log, "nope"), -ENOENT, "unknown topic");
    t_ok(zc_log_partition(log, "a.b_c-1", 2) != NULL, "partition 2 exists");
    t_ok(zc_log_partition(log, "a.b_c-1", 3) == NULL, "partition 3 does not");
    snprintf(path, sizeof(path), "%s/a.b_c-1-2/00000000000000000000.log", dir);
    t_ok(access(path, F_OK) == 0, "Kafka layout: DIR/<topic>-<n>/<20 digits>.log");
    t_is_int(zc_log_topic_create(log, "gone", 2, NULL), 0, "create a second topic");
    t_is_int(zc_log_topic_delete(log, "gone"), 0, "delete it");
    t_is_int(zc_log_topic_delete(log, "gone"), -ENOENT, "delete twice");
    snprintf(path, sizeof(path), "%s/gone-0", dir);
    t_ok(access(path, F_OK) != 0, "its directory is gone");
    t_is_int(zc_log_close(log), 0, "clean close");
    t_is_int(zc_log_open(dir, NULL, &log), 0, "reopen");
    t_is_int(zc_log_topic_partitions(log, "a.b_c-1"), 3, "the topic persisted");
    t_is_int(zc_log_topic_partitions(log, "gone"), -ENOENT, "the deleted one did not");
    {
        char listed[512] = "";

        zc_log_topic_list(log, on_topic, listed);
        t_is_str(listed, "a.b_c-1/3 ", "topic list");
    }
    {
        struct zc_log *second;

        t_is_int(zc_log_open(dir, NULL, &second), -EBUSY, "a second opener is refused");
    }
    zc_log_close(log);
}

static void test_append_read(enum zc_log_append_mode mode)
{
    const char *name = mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write";
    struct zc_log_config cfg = { .append_mode = mode, .segment_bytes = 64 << 10 };
    const char *dir = tl_dir(name);
    struct zc_log_append_result res;
    struct zc_log_partition *p;
    struct zc_log_range r;
    struct zc_log *log;
    struct zc_batch b;
    size_t n, first_size;
    int64_t off, ts;

    t_is_int(zc_log_open(dir, &cfg, &log), 0, "%s: open", name);
    t_is_int(zc_log_topic_create(log, "t", 1, NULL), 0, "%s: create", name);
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 0, "%s: empty partition ends at 0", name);
    t_is_int(zc_log_read(p, 0, 1000, true, &r), 0, "%s: read at the end", name);
    t_is_int(r.len, 0, "%s: nothing to send", name);
    t_is_int(zc_log_read(p, 1, 1000, true, &r), -ERANGE, "%s: past the end", name);

    first_size = tl_batch(buf, sizeof(buf), 5, 100, 0, 1000);
    t_is_int(zc_log_append(p, buf, first_size, 3, &res), 0, "%s: append 5 records", name);
    t_is_int(res.base_offset, 0, "%s: base offset 0", name);
    t_is_int(res.last_offset, 4, "%s: last offset 4", name);
    t_is_int((int64_t)zc_be64(buf), 0, "%s: baseOffset patched in the caller's buffer", name);
    t_is_int((int32_t)zc_be32(buf + ZC_BATCH_LEADER_EPOCH), 3, "%s: leader epoch patched", name);
    /* Two batches in one call, then enough to roll the 64 KiB segment. */
    n = tl_batch(buf, sizeof(buf), 2, 50, 1, 2000);
    n += tl_batch(buf + n, sizeof(buf) - n, 3, 50, 2, 3000);
    t_is_int(zc_log_append(p, buf, n, 3, &res), 0, "%s: two batches in one append", name);
    t_is_int(res.base_offset, 5, "%s: they start at 5", name);
    t_is_int(res.last_offset, 9, "%s: and end at 9", name);
    for (int i = 0; i < 100; i++) {
        n = tl_batch(buf, sizeof(buf), 4, 1000, 100 + (unsigned)i, 10000 + i);
        if (zc_log_append(p, buf, n, 0, &res) < 0)
            break;
    }
    t_is_int(zc_log_end_offset(p), 410, "%s: 410 records", name);
    t_ok(count_files(p->dir, ".log") >= 6, "%s: rolled by size into %d segments", name,
         count_files(p->dir, ".log"));

    /* Offset 7 is the first of the second append's second batch (7..9). */
    t_is_int(zc_log_read(p, 7, 1 << 20, false, &r), 0, "%s: read at 7", name);
    t_is_int(pread(r.fd, buf, 61, r.pos), 61, "%s: header readable through the fd", name);
    zc_batch_header(buf, 61, &b);
    t_is_int(b.base_offset, 7, "%s: the range starts at the batch holding 7", name);
    t_ok(r.pos > 0 && r.len > 0, "%s: position %lld, length %zu", name, (long long)r.pos, r.len);
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 3, 10, false, &r), 0, "%s: read 10 bytes at 3", name);
    t_is_int(r.len, 10, "%s: max bytes honoured (a partial batch)", name);
    t_is_int(r.pos, 0, "%s: from the batch holding 3", name);
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 3, 10, true, &r), 0, "%s: min one batch", name);
    t_is_int(r.len, first_size, "%s: the first batch whole", name);
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 409, 1 << 20, true, &r), 0, "%s: the last offset", name);
    pread(r.fd, buf, 61, r.pos);
    zc_batch_header(buf, 61, &b);
    t_is_int(b.base_offset, 406, "%s: its batch", name);
    t_is_int(r.len, b.size, "%s: ends at the high watermark", name);
    zc_log_range_release(&r);
    t_is_int(tl_walk(p, 0, NULL, NULL), 410, "%s: every batch reads back, CRC good", name);

    t_is_int(zc_log_offset_for_time(p, 2500, &off, &ts), 0, "%s: offset for time 2500", name);
    t_is_int(off, 7, "%s: the batch stamped 3000", name);
    t_is_int(ts, 3000, "%s: its timestamp", name);
    t_is_int(zc_log_offset_for_time(p, 10050, &off, &ts), 0, "%s: offset for a later time", name);
    t_is_int(off, 10 + 50 * 4, "%s: found in a later segment through the time index", name);
    t_is_int(zc_log_offset_for_time(p, 99999, &off, &ts), -ENOENT, "%s: none that late", name);

    /* Nothing of a bad append lands: a good batch followed by a corrupt one. */
    n = tl_batch(buf, sizeof(buf), 1, 10, 9, 1);
    memcpy(buf + n, buf, n);
    buf[2 * n - 1] ^= 0x40;
    t_is_int(zc_log_append(p, buf, 2 * n, 0, &res), -EBADMSG, "%s: corrupt second batch", name);
    t_is_int(zc_log_end_offset(p), 410, "%s: nothing appended", name);
    n = tl_batch(buf, sizeof(buf), 1, 60000, 9, 1);
    {
        struct zc_log_config small = { .max_message_bytes = 1000 };

        t_is_int(zc_log_topic_create(log, "small", 1, &small), 0, "%s: topic with a 1000-byte limit", name);
        t_is_int(zc_log_append(zc_log_partition(log, "small", 0), buf, n, 0, &res), -EMSGSIZE,
                 "%s: a 60 KB batch is too large for it", name);
    }
    t_is_int(zc_log_close(log), 0, "%s: close", name);
    {
        char path[4200];

        snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", dir);
        t_ok(access(path, F_OK) == 0, "%s: clean-shutdown marker written", name);
        snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.log", dir);
        {
            struct stat st;

            stat(path, &st);
            t_ok(st.st_size > 0 && st.st_size <= 64 << 10, "%s: first segment trimmed to %lld bytes",
                 name, (long long)st.st_size);
        }
    }
    t_is_int(zc_log_open(dir, &cfg, &log), 0, "%s: reopen", name);
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 410, "%s: end offset after reopen", name);
    t_is_int(tl_walk(p, 0, NULL, NULL), 410, "%s: all batches after reopen", name);
    t_is_int(zc_log_offset_for_time(p, 10050, &off, &ts), 0, "%s: time index after reopen", name);
    t_is_int(off, 210, "%s: same answer", name);
    n = tl_batch(buf, sizeof(buf), 1, 10, 7, 5);
    t_is_int(zc_log_append(p, buf, n, 0, &res), 0, "%s: append after reopen", name);
    t_is_int(res.base_offset, 410, "%s: continues at 410", name);
    zc_log_close(log);
}

/* mmap mode: a batch larger than segment_bytes, at an empty active segment
 * loaded from disk, gets a larger mapping. */
static void test_mmap_big_batch(void)
{
    struct zc_log_config cfg = { .append_mode = ZC_LOG_APPEND_MMAP, .segment_bytes = 4096 };
    const char *dir = tl_dir("bigbatch");
    struct zc_log_append_result res;
    struct zc_log *log;
    size_t n;

    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "t", 1, NULL);
    zc_log_close(log);
    zc_log_open(dir, &cfg, &log);
    n = tl_batch(buf, sizeof(buf), 1, 20000, 1, 1);
    t_is_int(zc_log_append(zc_log_partition(log, "t", 0), buf, n, 0, &res), 0,
             "mmap: a 20 KB batch into a 4 KiB segment");
    n = tl_batch(buf, sizeof(buf), 1, 20000, 2, 2);
    t_is_int(zc_log_append(zc_log_partition(log, "t", 0), buf, n, 0, &res), 0, "and another");
    t_is_int(tl_walk(zc_log_partition(log, "t", 0), 0, NULL, NULL), 2, "both read back");
    zc_log_close(log);
}

/* Both modes write identical files for identical appends. */
static void test_same_bytes(void)
{
    const char *dirs[2];
    uint64_t hash[2][2];

    for (int m = 0; m < 2; m++) {
        struct zc_log_config cfg = { .append_mode = (enum zc_log_append_mode)m,
                                     .segment_bytes = 20000 };
        struct zc_log *log;
        struct zc_log_partition *p;
        char path[4200];
        int fd;

        dirs[m] = tl_dir(m ? "same-mmap" : "same-write");
        zc_log_open(dirs[m], &cfg, &log);
        zc_log_topic_create(log, "t", 1, NULL);
        p = zc_log_partition(log, "t", 0);
        for (int i = 0; i < 30; i++) {
            size_t n = tl_batch(buf, sizeof(buf), 1 + i % 3, 100 + 37 * (size_t)i, (unsigned)i, i);

            zc_log_append(p, buf, n, 1, NULL);
        }
        zc_log_close(log);
        for (int f = 0; f < 2; f++) {
            snprintf(path, sizeof(path), "%s/t-0/%020d.%s", dirs[m], 0, f ? "index" : "log");
            fd = open(path, O_RDONLY);
            hash[m][f] = t_hash_file(fd, 0, 1 << 30, NULL);
            close(fd);
        }
    }
    t_ok(hash[0][0] == hash[1][0], "write and mmap modes: same .log bytes");
    t_ok(hash[0][1] == hash[1][1], "write and mmap modes: same .index bytes");
}

static void test_retention(void)
{
    struct zc_log_config cfg = { .segment_bytes = 4096, .retention_bytes = 10000,
                                 .retention_ms = -1 };
    const char *dir = tl_dir("retention");
    struct zc_log_partition *p;
    struct zc_log_range held;
    struct zc_log *log;
    uint8_t first[200];
    int64_t now = zc__log_now_ms();

    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "r", 1, NULL);
    p = zc_log_partition(log, "r", 0);
    for (int i = 0; i < 40; i++) {
        size_t n = tl_batch(buf, sizeof(buf), 1, 900, (unsigned)i, now - 100000 + i);

        zc_log_append(p, buf, n, 0, NULL);
    }
    t_is_int(zc_log_read(p, 0, 200, false, &held), 0, "hold a range of the first segment");
    t_is_int(zc_log_tick(log, now), 0, "tick");
    t_ok(zc_log_start_offset(p) > 0, "retention by size moved the start to %lld",
         (long long)zc_log_start_offset(p));
    t_ok(count_files(p->dir, ".log") <= 4, "%d segments left for 10000 bytes",
         count_files(p->dir, ".log"));
    t_is_int(pread(held.fd, first, sizeof(first), held.pos), 200,
             "the held range still reads after its file was deleted");
    t_is_int(zc_batch_header(first, sizeof(first), &(struct zc_batch){ 0 }) > 0, 1,
             "and it is the first batch");
    zc_log_range_release(&held);
    t_is_int(zc_log_read(p, 0, 100, false, &held), -ERANGE, "offset 0 is out of range now");

    /* By age: the segments' timestamps are 100 s old; keep 50 s. */
    {
        struct zc_log_config age = { .retention_ms = 50000, .segment_bytes = 4096 };

        zc_log_topic_create(log, "age", 1, &age);
        p = zc_log_partition(log, "age", 0);
        for (int i = 0; i < 10; i++) {
            size_t n = tl_batch(buf, sizeof(buf), 1, 900, (unsigned)i,
                                i < 8 ? now - 100000 : now);

            zc_log_append(p, buf, n, 0, NULL);
        }
        zc_log_tick(log, now);
        t_ok(zc_log_start_offset(p) >= 4, "retention by age: old segments gone (start %lld)",
             (long long)zc_log_start_offset(p));
        t_is_int(zc_log_end_offset(p), 10, "the end stays");
    }
    /* Roll by age: the tick at now + 8 days starts a new (empty) segment
     * at 10, and retention then removes every older one. */
    {
        char path[4200];

        zc_log_tick(log, now + 8LL * 24 * 3600 * 1000);
        snprintf(path, sizeof(path), "%s/%020d.log", p->dir, 10);
        t_ok(access(path, F_OK) == 0, "roll by age: a segment at 10");
        t_is_int(zc_log_start_offset(p), 10, "and the aged ones are gone");
        t_is_int(count_files(p->dir, ".log"), 1, "one segment left");
    }
    zc_log_close(log);
}

/* Offsets past 2^31 from a segment's base force a roll: index entries hold
 * 32-bit relative offsets. */
static void test_relative_offset_roll(void)
{
    const char *dir = tl_dir("rel");
    struct zc_log_append_result res;
    struct zc_log_partition *p;
    struct zc_log *log;
    struct zc_log_range r;
    struct zc_batch b;
    size_t n;

    zc_log_open(dir, NULL, &log);
    zc_log_topic_create(log, "big", 1, NULL);
    p = zc_log_partition(log, "big", 0);
    n = tl_batch(buf, sizeof(buf), 2, 10, 1, 1);
    zc_log_append(p, buf, n, 0, NULL);
    t_is_int(zc__partition_skip_to(p, INT32_MAX - 1), 0, "skip to 2^31 - 2");
    n = tl_batch(buf, sizeof(buf), 1, 10, 2, 1);
    t_is_int(zc_log_append(p, buf, n, 0, &res), 0, "append at 2^31 - 2 (relative 2^31 - 2)");
    t_is_int(count_files(p->dir, ".log"), 1, "still one segment");
    n = tl_batch(buf, sizeof(buf), 3, 10, 3, 1);
    t_is_int(zc_log_append(p, buf, n, 0, &res), 0, "append 3 records across 2^31");
    t_is_int(res.base_offset, (int64_t)INT32_MAX, "at offset 2^31 - 1");
    t_is_int(count_files(p->dir, ".log"), 2, "a new segment was rolled");
    t_is_int(zc_log_read(p, (int64_t)INT32_MAX + 1, 1000, true, &r), 0, "read past 2^31");
    pread(r.fd, buf, 61, r.pos);
    zc_batch_header(buf, 61, &b);
    t_is_int(b.base_offset, (int64_t)INT32_MAX, "the batch holding 2^31");
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 5, 1000, true, &r), 0, "read inside the gap");
    pread(r.fd, buf, 61, r.pos);
    zc_batch_header(buf, 61, &b);
    t_is_int(b.base_offset, (int64_t)INT32_MAX - 1, "gives the next batch");
    zc_log_range_release(&r);
    zc_log_close(log);
    zc_log_open(dir, NULL, &log);
    p = zc_log_partition(log, "big", 0);
    t_is_int(zc_log_end_offset(p), (int64_t)INT32_MAX + 3, "end offset after reopen");
    zc_log_close(log);
}

/* What each flush policy promises, seen through the recovery point (the
 * offset below which everything was fsync'ed). */
static void test_flush_policies(void)
{
    static const char *const names[] = { "none", "roll", "every", "interval" };

    for (int f = 0; f < 4; f++) {
        struct zc_log_config cfg = { .flush = (enum zc_log_flush)f, .segment_bytes = 4096,
                                     .flush_interval_ms = 1000 };
        struct zc_log_partition *p;
        struct zc_log *log;
        int64_t after_one, after_roll, after_tick;
        int64_t now = zc__log_now_ms();
        size_t n;

        zc_log_open(tl_dir(names[f]), &cfg, &log);
        zc_log_topic_create(log, "f", 1, NULL);
        p = zc_log_partition(log, "f", 0);
        n = tl_batch(buf, sizeof(buf), 1, 1000, 1, now);
        zc_log_append(p, buf, n, 0, NULL);
        after_one = p->recovery_point;
        for (int i = 0; i < 4; i++) {   /* past 4096 bytes: one roll */
            n = tl_batch(buf, sizeof(buf), 1, 1000, 1, now);
            zc_log_append(p, buf, n, 0, NULL);
        }
        after_roll = p->recovery_point;
        zc_log_tick(log, now + 2000);
        after_tick = p->recovery_point;
        switch (f) {
        case ZC_LOG_FLUSH_NONE:
            t_ok(after_one == 0 && after_roll == 0 && after_tick == 0,
                 "none: nothing fsync'ed before close");
            break;
        case ZC_LOG_FLUSH_ROLL:
            t_ok(after_one == 0 && after_roll == 3 && after_tick == 3,
                 "roll: fsync'ed up to the new segment (%lld)", (long long)after_roll);
            break;
        case ZC_LOG_FLUSH_EVERY:
            t_ok(after_one == 1 && after_roll == 5, "every: fsync'ed before each append returns");
            break;
        case ZC_LOG_FLUSH_INTERVAL:
            t_ok(after_one == 0 && after_roll == 0 && after_tick == 5,
                 "interval: fsync'ed by the tick once the interval passed");
            break;
        }
        zc_log_close(log);
    }
}

/* Appenders and readers on several threads: offsets unique and contiguous,
 * every batch whole (run under ASan/UBSan by make test). */
struct thread_arg {
    struct zc_log *log;
    int id;
    int64_t sum;
};

/* Set once every appender has returned: readers run until then and one pass
 * after, so "readers got ranges" does not depend on how threads were scheduled. */
static atomic_bool appenders_done;

static void *appender(void *arg)
{
    struct thread_arg *a = arg;
    struct zc_log_partition *p = zc_log_partition(a->log, a->id % 2 ? "t1" : "t0", 0);
    uint8_t b[4096];

    for (int i = 0; i < 300; i++) {
        struct zc_log_append_result res;
        size_t n = tl_batch(b, sizeof(b), 2, 100 + (size_t)(i % 7) * 300, (unsigned)a->id, i);

        if (zc_log_append(p, b, n, 0, &res) == 0)
            a->sum += res.base_offset;
    }
    return NULL;
}

static void *reader(void *arg)
{
    struct thread_arg *a = arg;
    struct zc_log_partition *p = zc_log_partition(a->log, "t0", 0);

    for (int i = 0, last_pass = 0; i < 200 || !last_pass; i++) {
        struct zc_log_range r;
        int64_t end;

        if (i >= 200)
            last_pass = atomic_load(&appenders_done);
        end = zc_log_end_offset(p);

        if (end > 0 && zc_log_read(p, i % end, 10000, true, &r) == 0) {
            a->sum += r.len > 0;
            zc_log_range_release(&r);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    struct zc_log_config cfg = { .segment_bytes = 32 << 10, .append_mode = ZC_LOG_APPEND_MMAP };
    struct thread_arg args[6];
    pthread_t th[6];
    struct zc_log *log;
    int64_t sum0 = 0, want0 = 0;

    zc_log_open(tl_dir("threads"), &cfg, &log);
    zc_log_topic_create(log, "t0", 1, NULL);
    zc_log_topic_create(log, "t1", 1, NULL);
    for (int i = 0; i < 6; i++) {
        args[i] = (struct thread_arg){ log, i, 0 };
        pthread_create(&th[i], NULL, i < 4 ? appender : reader, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    atomic_store(&appenders_done, true);
    for (int i = 4; i < 6; i++)
        pthread_join(th[i], NULL);
    t_is_int(zc_log_end_offset(zc_log_partition(log, "t0", 0)), 1200, "threads: t0 has 2 x 300 x 2 records");
    t_is_int(zc_log_end_offset(zc_log_partition(log, "t1", 0)), 1200, "threads: t1 too");
    sum0 = args[0].sum + args[2].sum;
    for (int64_t o = 0; o < 1200; o += 2)
        want0 += o;
    t_is_int(sum0, want0, "threads: every base offset given once");
    t_is_int(tl_walk(zc_log_partition(log, "t0", 0), 0, NULL, NULL), 1200, "threads: t0 reads back whole");
    t_ok(args[4].sum + args[5].sum > 0, "threads: readers got ranges meanwhile");
    zc_log_close(log);
}

int main(void)
{
    test_flush_policies();
    test_threads();
    test_topics();
    test_append_read(ZC_LOG_APPEND_WRITE);
    test_append_read(ZC_LOG_APPEND_MMAP);
    test_same_bytes();
    test_mmap_big_batch();
    test_retention();
    test_relative_offset_roll();
    return t_done();
}
