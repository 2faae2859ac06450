/* log_bench.c - `zcopy log bench`: the log store's own figures. Append rate
 * by mode (write = pwrite, mmap = copy into the mapped segment) and batch
 * size, interleaved A B A B so drift on a shared machine hits both; the
 * recovery scan rate (re-reading every batch with its CRC); index lookup and
 * whole-read latency; CRC-32C throughput. Medians of --runs runs. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/crc32c.h"
#include "log/log_internal.h"
#include "logcmd/logcmd.h"

#define MAX_RUNS 15

/* Results folded here so the compiler cannot drop the measured calls. */
static volatile uint64_t sink;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double tmp[MAX_RUNS];

    memcpy(tmp, v, (size_t)n * sizeof(*v));
    qsort(tmp, (size_t)n, sizeof(*tmp), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* One uncompressed single-record batch of exactly @size bytes (or the
 * nearest the varint lengths allow). */
static ssize_t batch_of_size(uint8_t *buf, size_t size)
{
    static uint8_t value[1 << 16];
    size_t v = size > 80 ? size - 70 : 1;
    ssize_t n = 0;

    for (int tries = 0; tries < 8; tries++) {
        n = zc_batch_build(buf, 1 << 17, 1, value, v, 1700000000000LL);
        if (n < 0 || (size_t)n == size)
            break;
        v = (size_t)n > size ? v - ((size_t)n - size) : v + (size - (size_t)n);
    }
    return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Append @total bytes of @size-byte batches to a new topic; MB/s. */
static double append_run(struct zc_log *log, const char *topic, enum zc_log_append_mode mode,
                         size_t size, uint64_t total, int *err)
{
    struct zc_log_config over = { .append_mode = mode };
    static uint8_t buf[1 << 17];
    struct zc_log_partition *p;
    ssize_t n = batch_of_size(buf, size);
    uint64_t count, i;
    double t0, t;
    int ret;

    if (n < 0 || (ret = zc_log_topic_create(log, topic, 1, &over)) < 0) {
        *err = n < 0 ? (int)n : ret;
        return 0;
    }
    p = zc_log_partition(log, topic, 0);
    count = total / (uint64_t)n;
    t0 = now_s();
    for (i = 0; i < count; i++) {
        zc_put_be64(buf, 0);            /* a producer's batch: the store patched it */
        ret = zc_log_append(p, buf, (size_t)n, 0, NULL);
        if (ret < 0) {
            *err = ret;
            break;
        }
    }
    t = now_s() - t0;
    return (double)(i * (uint64_t)n) / t / 1e6;
}

static void bench_crc(int runs)
{
    static uint8_t buf[16384];
    double hw[MAX_RUNS], sw[MAX_RUNS];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31);
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();

        for (int i = 0; i < 16384; i++)   /* 256 MiB */
            sink ^= zc_crc32c(0, buf, sizeof(buf));
        hw[r] = 256.0 * 1048576 / (now_s() - t0) / 1e9;
        t0 = now_s();
        for (int i = 0; i < 2048; i++)    /* 32 MiB */
            sink ^= zc_crc32c_sw(0, buf, sizeof(buf));
        sw[r] = 32.0 * 1048576 / (now_s() - t0) / 1e9;
    }
    printf("CRC-32C over 16 KiB buffers: %s %.2f GB/s, table %.2f GB/s (median of %d)\n",
           zc_crc32c_hw() ? "SSE4.2" : "(no SSE4.2) table", median(hw, runs), median(sw, runs),
           runs);
}

static void bench_append(struct zc_log *log, int runs, uint64_t total)
{
    static const size_t sizes[] = { 100, 1024, 16384 };
    double rate[3][2][MAX_RUNS], ratio[3][MAX_RUNS];
    char topic[64];
    int err = 0;

    printf("\nAppend, page cache, flush=none, one partition, %" PRIu64 " MiB a run,\n"
           "interleaved write/mmap, median of %d runs (MB/s = 10^6 bytes/s):\n",
           total >> 20, runs);
    for (int r = 0; r < runs; r++)
        for (int s = 0; s < 3; s++) {
            for (int m = 0; m < 2; m++) {
                int mode = (r % 2) ? 1 - m : m;   /* alternate who goes first */

                snprintf(topic, sizeof(topic), "bench-%d-%d-%d", r, s, mode);
                rate[s][mode][r] = append_run(log, topic, (enum zc_log_append_mode)mode,
                                              sizes[s], total, &err);
                zc_log_topic_delete(log, topic);
                if (err) {
                    fprintf(stderr, "zcopy log bench: append: %s\n", strerror(-err));
                    return;
                }
            }
            ratio[s][r] = rate[s][1][r] / rate[s][0][r];
        }
    printf("| batch | write MB/s | mmap MB/s | write batches/s | mmap batches/s | mmap/write (median of run ratios) |\n"
           "|---|---|---|---|---|---|\n");
    for (int s = 0; s < 3; s++) {
        double w = median(rate[s][0], runs), m = median(rate[s][1], runs);

        printf("| %zu B | %.0f | %.0f | %.0f | %.0f | %.2f |\n", sizes[s], w, m,
               w * 1e6 / (double)sizes[s], m * 1e6 / (double)sizes[s], median(ratio[s], runs));
    }
}

/* Fill a topic, then time full recoveries (marker and checkpoint removed),
 * and index lookups on it. */
static void bench_recovery_lookup(const char *dir, int runs, uint64_t total, size_t size)
{
    static uint8_t buf[1 << 17];
    double rec[MAX_RUNS], look[MAX_RUNS], rd[MAX_RUNS];
    struct zc_log_partition *p;
    struct zc_log *log;
    char path[PATH_MAX + 64];
    ssize_t n = batch_of_size(buf, size);
    uint64_t count = total / (uint64_t)n;
    int64_t end;
    int ret;

    ret = zc_log_open(dir, NULL, &log);
    if (ret == 0)
        ret = zc_log_topic_create(log, "scan", 1, NULL);
    if (ret < 0) {
        fprintf(stderr, "zcopy log bench: %s\n", strerror(-ret));
        zc_log_close(log);
        return;
    }
    p = zc_log_partition(log, "scan", 0);
    for (uint64_t i = 0; i < count && ret == 0; i++) {
        zc_put_be64(buf, 0);
        ret = zc_log_append(p, buf, (size_t)n, 0, NULL);
    }
    zc_log_close(log);
    if (ret < 0) {
        fprintf(stderr, "zcopy log bench: append: %s\n", strerror(-ret));
        return;
    }
    for (int r = 0; r < runs; r++) {
        double t0;

        snprintf(path, sizeof(path), "%s/%s", dir, ZC_LOG_CLEAN_MARKER);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s", dir, ZC_LOG_RECOVERY_CHECKPOINT);
        unlink(path);
        t0 = now_s();
        ret = zc_log_open(dir, NULL, &log);
        rec[r] = (double)(count * (uint64_t)n) / (now_s() - t0) / 1e6;
        if (ret < 0) {
            fprintf(stderr, "zcopy log bench: recovery: %s\n", strerror(-ret));
            return;
        }
        p = zc_log_partition(log, "scan", 0);
        end = zc_log_end_offset(p);
        {
            struct zc_log_segment *s = p->segs[0];
            unsigned seed = 1;
            uint32_t pos;
            int lookups = 1000000;

            t0 = now_s();
            for (int i = 0; i < lookups; i++) {
                zc_index_lookup_offset(&s->oidx, (uint32_t)(rand_r(&seed) % end), &pos);
                sink += pos;
            }
            look[r] = (now_s() - t0) / lookups * 1e9;
            lookups = 200000;
            t0 = now_s();
            for (int i = 0; i < lookups; i++) {
                struct zc_log_range rg;

                if (zc_log_read(p, rand_r(&seed) % end, 1 << 20, true, &rg) == 0) {
                    sink += rg.len;
                    zc_log_range_release(&rg);
                }
            }
            rd[r] = (now_s() - t0) / lookups * 1e9;
        }
        zc_log_close(log);
    }
    printf("| %zu B | %" PRIu64 " | %.0f | %.0f | %.0f |\n", size, count, median(rec, runs),
           median(look, runs), median(rd, runs));
}

int zc_logcmd_bench(int argc, char **argv)
{
    const char *parent = getenv("TMPDIR");
    char dir[PATH_MAX], sub[PATH_MAX + 16];
    uint64_t mib = 128;
    int runs = 3, ret;
    struct zc_log *log;

    if (!parent || !*parent)
        parent = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            parent = argv[++i];
        } else if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
            mib = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: zcopy log bench [--dir DIR] [--mib N] [--runs N]\n");
            return strcmp(argv[i], "--help") ? ZC_LOG_EXIT_USAGE : 0;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || mib < 1 || mib > 65536) {
        fprintf(stderr, "zcopy log bench: --runs 1..%d, --mib 1..65536\n", MAX_RUNS);
        return ZC_LOG_EXIT_USAGE;
    }
    /* Everything goes in a fresh directory under DIR, removed at the end. */
    if (snprintf(dir, sizeof(dir), "%s/zcopy-logbench.XXXXXX", parent) >= (int)sizeof(dir) ||
        !mkdtemp(dir)) {
        fprintf(stderr, "zcopy log bench: cannot create a directory in %s\n", parent);
        return ZC_LOG_EXIT_ERROR;
    }
    printf("zcopy log bench in %s (%d runs; the machine may be shared: compare ratios)\n", dir, runs);
    bench_crc(runs);
    snprintf(sub, sizeof(sub), "%s/append", dir);
    ret = zc_log_open(sub, NULL, &log);
    if (ret == 0) {
        bench_append(log, runs, mib << 20);
        zc_log_close(log);
    }
    printf("\nRecovery (every batch re-read with its CRC, indexes rebuilt; page cache warm),\n"
           "index lookup (binary search of the mapped offset index) and zc_log_read\n"
           "(lookup + header scan + segment reference), random offsets, median of %d:\n"
           "| batch | batches | recovery MB/s | index lookup ns | zc_log_read ns |\n"
           "|---|---|---|---|---|\n", runs);
    for (int s = 0; s < 2; s++) {
        snprintf(sub, sizeof(sub), "%s/scan%d", dir, s);
        bench_recovery_lookup(sub, runs, mib << 20, s ? 16384 : 100);
    }
    remove_tree(dir);
    return ret < 0 ? ZC_LOG_EXIT_ERROR : 0;
}
