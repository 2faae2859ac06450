/* config.c - configuration defaults and overrides, a topic's metadata file,
 * and the atomic text-file write every checkpoint uses. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "log/log_internal.h"

#define DAY_MS (24LL * 3600 * 1000)

void zc__log_config_defaults(struct zc_log_config *c)
{
    if (!c->segment_bytes)
        c->segment_bytes = 1ULL << 30;
    if (!c->segment_ms)
        c->segment_ms = 7 * DAY_MS;
    if (!c->retention_ms)
        c->retention_ms = 7 * DAY_MS;
    if (!c->max_message_bytes)
        c->max_message_bytes = 1048588;
    if (!c->index_interval_bytes)
        c->index_interval_bytes = 4096;
    if (!c->flush_interval_ms)
        c->flush_interval_ms = 1000;
}

void zc__log_config_merge(struct zc_log_config *out, const struct zc_log_config *base,
                          const struct zc_log_config *over)
{
    *out = *base;
    if (!over)
        return;
#define TAKE(f) do { if (over->f) out->f = over->f; } while (0)
    TAKE(segment_bytes);
    TAKE(segment_ms);
    TAKE(retention_bytes);
    TAKE(retention_ms);
    TAKE(max_message_bytes);
    TAKE(index_interval_bytes);
    TAKE(append_mode);
    TAKE(flush);
    TAKE(flush_interval_ms);
#undef TAKE
}

int64_t zc__log_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zc__log_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

int zc__log_write_atomic(const char *path, const char *data, size_t len)
{
    char dir[PATH_MAX], name[PATH_MAX];
    struct zc_atomic_file a;
    size_t done = 0;
    int dir_fd, ret;

    snprintf(dir, sizeof(dir), "%s", path);
    snprintf(name, sizeof(name), "%s", path);
    dir_fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return -errno;
    ret = zc_atomic_file_open(&a, dir_fd, "log", 0644);
    while (ret == 0 && done < len) {
        ssize_t n = write(a.fd, data + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            ret = n < 0 ? -errno : -EIO;
        else
            done += (size_t)n;
    }
    if (ret == 0)
        ret = zc_atomic_file_publish(&a, basename(name), ZC_ATOMIC_SYNC);
    else
        zc_atomic_file_abort(&a);
    close(dir_fd);
    return ret;
}

int zc__log_config_write(const char *path, int32_t partitions,
                         const struct zc_log_config *c)
{
    char buf[1024];
    int n;

    n = snprintf(buf, sizeof(buf),
                 "version 1\npartitions %" PRId32 "\nsegment.bytes %" PRIu64
                 "\nsegment.ms %" PRId64 "\nretention.bytes %" PRId64
                 "\nretention.ms %" PRId64 "\nmax.message.bytes %" PRIu32
                 "\nindex.interval.bytes %" PRIu32 "\nappend.mode %d\nflush %d"
                 "\nflush.interval.ms %" PRId64 "\n",
                 partitions, c->segment_bytes, c->segment_ms, c->retention_bytes,
                 c->retention_ms, c->max_message_bytes, c->index_interval_bytes,
                 (int)c->append_mode, (int)c->flush, c->flush_interval_ms);
    return zc__log_write_atomic(path, buf, (size_t)n);
}

int zc__log_config_read(const char *path, int32_t *partitions, struct zc_log_config *c)
{
    char line[256], key[64];
    long long v;
    FILE *f = fopen(path, "re");
    int ret = 0;

    if (!f)
        return -errno;
    memset(c, 0, sizeof(*c));
    *partitions = -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%63s %lld", key, &v) != 2) {
            ret = -EBADMSG;
            break;
        }
        if (!strcmp(key, "version")) {
            if (v != 1)
                ret = -EBADMSG;
        } else if (!strcmp(key, "partitions")) {
            *partitions = v > 0 && v <= 100000 ? (int32_t)v : -1;
        } else if (!strcmp(key, "segment.bytes")) {
            c->segment_bytes = (uint64_t)v;
        } else if (!strcmp(key, "segment.ms")) {
            c->segment_ms = v;
        } else if (!strcmp(key, "retention.bytes")) {
            c->retention_bytes = v;
        } else if (!strcmp(key, "retention.ms")) {
            c->retention_ms = v;
        } else if (!strcmp(key, "max.message.bytes")) {
            c->max_message_bytes = (uint32_t)v;
        } else if (!strcmp(key, "index.interval.bytes")) {
            c->index_interval_bytes = (uint32_t)v;
        } else if (!strcmp(key, "append.mode")) {
            c->append_mode = v == 1 ? ZC_LOG_APPEND_MMAP : ZC_LOG_APPEND_WRITE;
        } else if (!strcmp(key, "flush")) {
            c->flush = v >= 0 && v <= 3 ? (enum zc_log_flush)v : ZC_LOG_FLUSH_NONE;
        } else if (!strcmp(key, "flush.interval.ms")) {
            c->flush_interval_ms = v;
        }                                /* unknown keys: written by a newer version */
        if (ret < 0)
            break;
    }
    fclose(f);
    if (ret == 0 && *partitions < 0)
        ret = -EBADMSG;
    return ret;
}
