/* test_log_hostile.c - the log store against what a hostile user, a crashing
 * machine and bit rot hand it: damaged topic metadata, configuration out of
 * range, segment files with crafted offsets, a batch torn at every byte,
 * reads at every boundary, and no fd or mapping left behind by roll,
 * retention, delete and close. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log/crc32c.h"
#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

static uint8_t buf[1 << 16];

static off_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void write_file(const char *path, const void *bytes, size_t len, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);

    if (fd < 0 || write(fd, bytes, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void unlink_in(const char *dir, const char *name)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* A topic "t" of one partition holding @n one-record batches, closed. */
static const char *make_log(const char *name, int n, const struct zc_log_config *cfg)
{
    const char *dir = tl_dir(name);
    struct zc_log *log;

    if (zc_log_open(dir, cfg, &log) < 0 || zc_log_topic_create(log, "t", 1, NULL) < 0)
        abort();
    for (int i = 0; i < n; i++) {
        size_t len = tl_batch(buf, sizeof(buf), 1, 100, (unsigned)i, 1000 + i);

        if (zc_log_append(zc_log_partition(log, "t", 0), buf, len, 0, NULL) < 0)
            abort();
    }
    zc_log_close(log);
    return dir;
}

/* A topic file the store cannot read (a newer version's, bit rot, an edit)
 * is not a deleted topic: its partitions' data must survive the open. The
 * damaged file is one readdir lists before another topic's (an error met
 * last used to fail the open only by chance). */
static void test_unreadable_topic_file(void)
{
    const char *dir = tl_dir("meta");
    char victim[256] = "", path[4200], seg[4200];
    struct dirent *e;
    struct zc_log *log;
    DIR *d;
    int ret;

    zc_log_open(dir, NULL, &log);
    for (int i = 0; i < 4; i++) {
        size_t len = tl_batch(buf, sizeof(buf), 1, 100, 1, 1000);

        snprintf(path, sizeof(path), "topic%d", i);
        zc_log_topic_create(log, path, 1, NULL);
        zc_log_append(zc_log_partition(log, path, 0), buf, len, 0, NULL);
    }
    zc_log_close(log);
    d = opendir(dir);
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".topic") && !victim[0])
            snprintf(victim, sizeof(victim), "%.*s", (int)(strlen(e->d_name) - 6), e->d_name);
    closedir(d);
    snprintf(path, sizeof(path), "%s/%s.topic", dir, victim);
    snprintf(seg, sizeof(seg), "%s/%s-0/%020d.log", dir, victim, 0);
    write_file(path, "version 2\npartitions 1\n", 23, O_TRUNC);
    ret = zc_log_open(dir, NULL, &log);
    t_is_int(ret, -EBADMSG, "open refuses a topic file it cannot read (%s)", victim);
    if (ret == 0)
        zc_log_close(log);
    t_ok(file_size(seg) > 0, "the topic's segment is still there");
}

/* Index entries hold 32-bit positions: a segment over 2^31 - 1 bytes (Kafka's
 * limit for segment.bytes) would index wrong positions. */
static void test_config_limits(void)
{
    struct zc_log_config big = { .segment_bytes = 5ULL << 30 };
    struct zc_log_config ok = { .segment_bytes = (uint64_t)INT32_MAX };
    struct zc_log *log;
    int ret;

    ret = zc_log_open(tl_dir("cfg"), &big, &log);
    t_is_int(ret, -EINVAL, "open refuses segment_bytes of 5 GiB");
    if (ret == 0)
        zc_log_close(log);
    t_is_int(zc_log_open(tl_dir("cfg"), &ok, &log), 0, "2^31 - 1 is accepted");
    t_is_int(zc_log_topic_create(log, "big", 1, &big), -EINVAL,
             "a topic override of 5 GiB is refused");
    t_is_int(zc_log_topic_partitions(log, "big"), -ENOENT, "and no topic made");
    zc_log_close(log);
}

/* A stored batch whose base offset is near INT64_MAX (the CRC does not
 * cover it) must be cut by recovery, not wrap the end offset negative. */
static void test_offset_overflow(void)
{
    const char *dir = make_log("ovf", 3, NULL);
    struct zc_log_partition *p;
    struct zc_log *log;
    char seg[4200];
    size_t n;

    snprintf(seg, sizeof(seg), "%s/t-0/%020d.log", dir, 0);
    n = tl_batch(buf, sizeof(buf), 2, 10, 1, 5);
    zc_put_be64(buf, (uint64_t)INT64_MAX);     /* last offset INT64_MAX + 1 */
    write_file(seg, buf, n, O_APPEND);
    unlink_in(dir, ".kafka_cleanshutdown");
    unlink_in(dir, "recovery-point-offset-checkpoint");
    t_is_int(zc_log_open(dir, NULL, &log), 0, "open");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 3, "the batch at INT64_MAX is cut: end offset 3");
    zc_log_close(log);

    /* After a clean shutdown the tail past the last index entry is only
     * walked: the same header must send the segment to a rebuild. */
    write_file(seg, buf, n, O_APPEND);
    t_is_int(zc_log_open(dir, NULL, &log), 0, "open (clean marker present)");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 3, "trusted load: the batch at INT64_MAX is cut too");
    zc_log_close(log);
}

int main(void)
{
    test_unreadable_topic_file();
    test_config_limits();
    test_offset_overflow();
    return t_done();
}
