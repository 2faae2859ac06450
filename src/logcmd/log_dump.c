/* log_dump.c - `zcopy log dump PATH`: a segment's batches or an index's
 * entries, one line each, for people and for scripts (key=value fields). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/crc32c.h"
#include "log/log_internal.h"
#include "logcmd/logcmd.h"

/* The base offset in a segment file's name, or 0 when it is not one. */
static int64_t base_of(const char *path)
{
    char tmp[PATH_MAX], *name, *end;
    long long v;

    snprintf(tmp, sizeof(tmp), "%s", path);
    name = basename(tmp);
    v = strtoll(name, &end, 10);
    return end == name + 20 && v >= 0 ? v : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && !strcmp(s + a - b, suffix);
}

static int on_batch(void *arg, uint64_t pos, const struct zc_batch *b, const uint8_t *bytes)
{
    (void)arg;
    (void)bytes;
    printf("baseOffset=%" PRId64 " lastOffset=%" PRId64 " position=%" PRIu64 " size=%" PRIu32
           " records=%" PRId32 " codec=%s baseTimestamp=%" PRId64 " maxTimestamp=%" PRId64
           " leaderEpoch=%" PRId32 " producerId=%" PRId64 "%s%s crc=ok\n",
           b->base_offset, zc_batch_last_offset(b), pos, b->size, b->records_count,
           zc_batch_codec_name(b->attributes), b->base_timestamp, b->max_timestamp,
           b->leader_epoch, b->producer_id,
           b->attributes & ZC_BATCH_TRANSACTIONAL ? " transactional" : "",
           b->attributes & ZC_BATCH_CONTROL ? " control" : "");
    return 0;
}

/* What follows the last good batch: say what is wrong with it. */
static void dump_problem(int fd, const struct zc_log_scan *scan)
{
    uint8_t h[ZC_BATCH_HEADER];
    struct zc_batch b;
    ssize_t n = pread(fd, h, sizeof(h), (off_t)scan->valid_bytes);

    printf("position=%" PRIu64 ": %s", scan->valid_bytes, scan->problem);
    if (n == (ssize_t)sizeof(h) && zc_batch_header(h, sizeof(h), &b) > 0)
        printf(" (header: baseOffset=%" PRId64 " size=%" PRIu32 " magic=%d)",
               b.base_offset, b.size, b.magic);
    printf("\n%" PRIu64 " bytes after it not read\n", scan->file_size - scan->valid_bytes);
    if (n == (ssize_t)sizeof(h) && zc_batch_header(h, sizeof(h), &b) > 0 &&
        b.size <= scan->file_size - scan->valid_bytes) {
        uint8_t *all = malloc(b.size);

        if (all && pread(fd, all, b.size, (off_t)scan->valid_bytes) == (ssize_t)b.size)
            printf("crc=%s (stored %08" PRIx32 ", computed %08" PRIx32 ")\n",
                   zc_crc32c(0, all + ZC_BATCH_ATTRIBUTES, b.size - ZC_BATCH_ATTRIBUTES) == b.crc
                       ? "ok" : "bad",
                   b.crc, zc_crc32c(0, all + ZC_BATCH_ATTRIBUTES, b.size - ZC_BATCH_ATTRIBUTES));
        free(all);
    }
}

static int dump_segment(const char *path)
{
    struct zc_log_scan scan;
    int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

    if (fd < 0) {
        fprintf(stderr, "zcopy log dump: %s: %s\n", path, strerror(errno));
        return ZC_LOG_EXIT_ERROR;
    }
    ret = zc__seg_scan(fd, base_of(path), &scan, on_batch, NULL);
    if (ret < 0) {
        fprintf(stderr, "zcopy log dump: %s: %s\n", path, strerror(-ret));
        close(fd);
        return ZC_LOG_EXIT_ERROR;
    }
    if (scan.problem)
        dump_problem(fd, &scan);
    printf("batches=%" PRIu32 " validBytes=%" PRIu64 " fileBytes=%" PRIu64 " nextOffset=%" PRId64 "\n",
           scan.batches, scan.valid_bytes, scan.file_size, scan.next_offset);
    close(fd);
    return scan.problem ? ZC_LOG_EXIT_PROBLEMS : ZC_LOG_EXIT_CLEAN;
}

static int dump_index(const char *path, bool time)
{
    unsigned esz = time ? ZC_INDEX_TIME : ZC_INDEX_OFFSET;
    int64_t base = base_of(path);
    uint8_t e[12];
    uint64_t i = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "zcopy log dump: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return ZC_LOG_EXIT_ERROR;
    }
    for (; pread(fd, e, esz, (off_t)(i * esz)) == (ssize_t)esz; i++) {
        if (time)
            printf("timestamp=%" PRId64 " offset=%" PRId64 "\n", (int64_t)zc_be64(e),
                   base + (int32_t)zc_be32(e + 8));
        else
            printf("offset=%" PRId64 " position=%" PRId32 "\n", base + (int32_t)zc_be32(e),
                   (int32_t)zc_be32(e + 4));
    }
    printf("entries=%" PRIu64 "%s\n", i,
           (uint64_t)st.st_size % esz ? " (a partial entry at the end)" : "");
    close(fd);
    return (uint64_t)st.st_size % esz ? ZC_LOG_EXIT_PROBLEMS : ZC_LOG_EXIT_CLEAN;
}

int zc_logcmd_dump(int argc, char **argv)
{
    const char *path;

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: zcopy log dump PATH (a .log, .index or .timeindex file)\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : ZC_LOG_EXIT_USAGE;
    }
    path = argv[1];
    if (ends_with(path, ".timeindex"))
        return dump_index(path, true);
    if (ends_with(path, ".index"))
        return dump_index(path, false);
    return dump_segment(path);
}
