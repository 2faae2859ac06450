/* test_transfer_sparse.c - a sparse file of 4 GiB + 2 MiB (data in the first
 * and last MiB, a hole between) moved whole by sendfile, splice and
 * copy_file_range, to /dev/null (count, final offset, exact syscalls: the
 * 0x7ffff000 per-call cap) and to a file (byte-exact; see main() for how
 * much), plus short ranges at offsets past 4 GiB.
 *
 * Runs in /dev/shm: tmpfs reads a hole as the shared zero page, while ext4
 * here allocates and zeroes page cache for it (16 s per pass, measured). The
 * files are unlinked as soon as they are open, so nothing outlives a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "xferutil.h"
#include "zcopy.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)
#define SPARSE_SIZE (4 * GIB + 2 * MIB)
#define MAX_RW 0x7ffff000ULL

static zc_ctx *ctx;

static int open_unlinked(uint64_t size, bool sparse)
{
    char path[4096];
    int fd = t_pattern_file(size, sparse, path);

    unlink(path);
    return fd;
}

/* out_fd must hold exactly src's bytes [start, start + len): compared with
 * memcmp, because hashing gigabytes byte by byte is slow in sanitized builds. */
static bool same_as_source(int out, int src, uint64_t start, uint64_t len)
{
    static uint8_t a[1 << 20], b[1 << 20];
    static const uint8_t zeros[1 << 20];
    uint64_t done = 0;

    while (done < len) {
        size_t n = len - done < sizeof(a) ? (size_t)(len - done) : sizeof(a);
        uint64_t at = start + done;
        /* Inside the hole the source is known to read as zeros. */
        bool hole = at >= MIB && at + n <= SPARSE_SIZE - MIB;

        if (pread(out, a, n, (off_t)done) != (ssize_t)n)
            return false;
        if (!hole && pread(src, b, n, (off_t)at) != (ssize_t)n)
            return false;
        if (memcmp(a, hole ? zeros : b, n) != 0)
            return false;
        done += n;
    }
    return pread(out, a, 1, (off_t)len) == 0;
}

static void test_to_devnull(int src, enum zc_method m, long long want_syscalls)
{
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    off_t off = 0;
    ssize_t n;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    n = zc_transfer(ctx, null_fd, src, &off, SPARSE_SIZE, m);
    if (m == ZC_COPY_FILE_RANGE) {
        t_is_int(n, -EINVAL, "%s: 4 GiB + 2 MiB -> /dev/null refused (not a file)",
                 zc_method_name(m));
    } else {
        struct zc_stats st;

        zc_ctx_stats(ctx, &st);
        t_is_int(n, (long long)SPARSE_SIZE, "%s: 4 GiB + 2 MiB -> /dev/null",
                 zc_method_name(m));
        t_is_int(off, (long long)SPARSE_SIZE, "%s: final offset past 4 GiB",
                 zc_method_name(m));
        t_is_int(st.method[m].syscalls, want_syscalls, "%s: %lld syscalls",
                 zc_method_name(m), want_syscalls);
    }
    zc_ctx_set_flags(ctx, 0);
    close(null_fd);
}

static void test_to_file(int src, enum zc_method m, uint64_t start, uint64_t len)
{
    int out = open_unlinked(0, false);
    off_t off = (off_t)start;
    ssize_t n;
    struct zc_stats st;

    zc_ctx_stats_reset(ctx);
    n = zc_transfer(ctx, out, src, &off, len, m);
    zc_ctx_stats(ctx, &st);
    t_is_int(n, (long long)len, "%s: [%llu, +%llu) -> file", zc_method_name(m),
             (unsigned long long)start, (unsigned long long)len);
    t_is_int(off, (long long)(start + len), "%s: final offset", zc_method_name(m));
    if (len > MAX_RW)
        t_ok(st.method[m].syscalls >= (len + MAX_RW - 1) / MAX_RW,
             "%s: the per-call cap was crossed (%llu syscalls)", zc_method_name(m),
             (unsigned long long)st.method[m].syscalls);
    t_ok(same_as_source(out, src, start, len), "%s: the copy is byte-exact",
         zc_method_name(m));
    close(out);
}

/* A few bytes either side of the last data MiB's start, past 4 GiB. */
static void test_short_range_past_4g(int src, enum zc_method m)
{
    const uint64_t at = SPARSE_SIZE - MIB - 5;
    int out = open_unlinked(0, false);
    static const uint8_t zeros[5];
    uint8_t buf[10], want[10];
    off_t off = (off_t)at;

    memcpy(want, zeros, 5);
    t_fill_pattern(want + 5, 5, SPARSE_SIZE - MIB);
    t_is_int(zc_transfer(ctx, out, src, &off, 10, m), 10,
             "%s: 10 bytes at offset 4 GiB + 1 MiB - 5", zc_method_name(m));
    t_ok(pread(out, buf, 10, 0) == 10 && !memcmp(buf, want, 10) &&
         off == (off_t)(at + 10), "%s: the right bytes, offset exact", zc_method_name(m));
    close(out);
}

int main(void)
{
    static const enum zc_method methods[] = { ZC_SENDFILE, ZC_SPLICE,
                                              ZC_COPY_FILE_RANGE };
    /* What each method copies to a file. By default: copy_file_range, which
     * cannot write to /dev/null, copies more than one capped call's worth
     * (2 GiB, ending at the end of file); sendfile and splice, whose cap and
     * 4 GiB offsets the /dev/null pass already covers, copy the 3 MiB
     * around 4 GiB. ZC_TEST_LARGE=1 copies the whole file with all three:
     * 4 GiB of tmpfs written per method, 5-15 s each on this shared box. */
    const char *large_env = getenv("ZC_TEST_LARGE");
    bool large = large_env && *large_env == '1';
    struct statvfs vfs;
    uint64_t biggest = large ? SPARSE_SIZE : MAX_RW + 2 * MIB;
    bool room_for_copy;
    int fds_before, src;

    if (statvfs("/dev/shm", &vfs) < 0)
        t_skip_all("no /dev/shm: a 4 GiB hole would be read from disk");
    setenv("TMPDIR", "/dev/shm", 1);
    room_for_copy = (uint64_t)vfs.f_bavail * vfs.f_frsize > biggest + 2 * GIB;

    fds_before = t_count_fds();
    ctx = zc_ctx_new();
    if (!ctx)
        abort();
    src = open_unlinked(SPARSE_SIZE, true);

    for (size_t i = 0; i < T_ARRAY_SIZE(methods); i++) {
        enum zc_method m = methods[i];
        /* sendfile: ceil(size / 0x7ffff000) calls. splice: the probe, pipe2,
         * F_SETPIPE_SZ, then a fill and a flush per 1 MiB pipeful. */
        long long want = m == ZC_SENDFILE
                             ? (long long)((SPARSE_SIZE + MAX_RW - 1) / MAX_RW)
                             : (long long)(3 + 2 * (SPARSE_SIZE / MIB));
        uint64_t len = large ? SPARSE_SIZE
                       : m == ZC_COPY_FILE_RANGE ? MAX_RW + 2 * MIB : 3 * MIB;

        test_to_devnull(src, m, want);
        test_short_range_past_4g(src, m);
        if (room_for_copy)
            test_to_file(src, m, SPARSE_SIZE - len, len);
        else
            t_ok(1, "%s: copy to a file # SKIP not enough free space in /dev/shm",
                 zc_method_name(m));
    }

    close(src);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
