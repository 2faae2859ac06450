/* memrate.c - how fast this machine copies memory, measured now, and the
 * copies-per-byte ESTIMATE built on it. The estimate divides CPU time by the
 * time a memcpy of the same bytes takes: it counts protocol work, page
 * refcounting and wakeups as if they were copies, so it is an upper bound on
 * the copies a technique makes, never a count of them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t bench_memcpy_block(uint64_t size)
{
    /* Match the working set: a 4 KiB transfer copies from cache, a 1 GiB
     * one from DRAM (64 MiB is far past this machine's caches). */
    const uint64_t lo = (uint64_t)64 << 10, hi = (uint64_t)64 << 20;

    return size < lo ? lo : size > hi ? hi : size;
}

double bench_memcpy_rate(uint64_t block)
{
    char *src = NULL, *dst = NULL;
    double best = 0;
    /* About 256 MiB per pass: long enough to time, short enough to share
     * the machine. */
    unsigned reps = (unsigned)(((uint64_t)256 << 20) / block);

    /* Page-aligned like the kernel's page-cache copies: buffers at different
     * page offsets would measure 4 KiB store/load aliasing instead. */
    if (posix_memalign((void **)&src, 4096, block) ||
        posix_memalign((void **)&dst, 4096, block)) {
        free(src);
        free(dst);
        return NAN;
    }
    if (reps == 0)
        reps = 1;
    memset(src, 0x5a, block);
    memset(dst, 0xa5, block);        /* fault every page in before timing */
    for (int pass = 0; pass < 5; pass++) {
        double t0 = now_s(), dt;

        for (unsigned i = 0; i < reps; i++) {
            src[(i * 4096u) % block] = (char)i;
            memcpy(dst, src, block);
        }
        dt = now_s() - t0;
        if (dt > 0 && (double)block * reps / dt / 1e9 > best)
            best = (double)block * reps / dt / 1e9;
    }
    /* Read the destination so the copies cannot be elided. */
    if (dst[block - 1] == 1)
        best += 0;
    free(src);
    free(dst);
    return best > 0 ? best : NAN;
}

double bench_copies_estimate(double cpu_s_per_gb, double memcpy_gbps)
{
    if (!isfinite(cpu_s_per_gb) || !isfinite(memcpy_gbps) || memcpy_gbps <= 0)
        return NAN;
    return cpu_s_per_gb * memcpy_gbps;
}
