/* test_bench_syscalls.c - the syscall counts zcopy bench reports are exact:
 * a known transfer through bench_run_once() costs exactly what the method's
 * mechanism implies. Methods that refuse (not built, or the kernel lacks
 * them) are skipped per check; methods whose count depends on timing
 * (completion reaping: msg_zerocopy, uring) are not asserted. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "tap.h"
#include "testutil.h"

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)

static int src_fd;

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/* Run @transfers transfers of @size bytes; 0 and *syscalls set, or the -errno. */
static int run(enum zc_method m, enum bench_sink sink, size_t chunk, uint64_t size,
               uint64_t transfers, uint64_t *syscalls)
{
    struct bench_job job = {
        .method = m, .sink = sink, .src_fd = src_fd, .size = size,
        .transfers = transfers, .time_budget_s = 1e9, .dir = t_tmpdir(),
    };
    struct bench_sample s;
    zc_ctx *ctx = zc_ctx_new();
    int ret;

    if (!ctx)
        return -ENOMEM;
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    if (chunk)
        zc_ctx_set_chunk(ctx, chunk);
    if (chunk && m == ZC_DIRECT) {
        /* One read in flight: one io_uring_enter (or pread) per buffer, a
         * count that does not depend on when completions arrive. */
        zc_ctx_set_direct_depth(ctx, 1);
        zc_ctx_set_direct_buf(ctx, chunk);
    }
    ret = bench_run_once(ctx, &job, &s);
    zc_ctx_free(ctx);
    if (ret == 0 && (s.bytes != size * transfers || s.transfers != transfers))
        ret = -EIO;
    *syscalls = s.syscalls;
    return ret;
}

static void skip(const char *what, int err)
{
    t_ok(1, "%s # SKIP method refused (%s)", what, bench_errno_name(err));
}

/* Exact total for one run. */
static void expect(enum zc_method m, enum bench_sink sink, size_t chunk, uint64_t size,
                   uint64_t transfers, uint64_t want, const char *why)
{
    char what[200];
    uint64_t got = 0;
    int ret = run(m, sink, chunk, size, transfers, &got);

    snprintf(what, sizeof(what), "%s -> %s, %llu x %llu bytes: %s", zc_method_name(m),
             bench_sink_name(sink), (unsigned long long)transfers,
             (unsigned long long)size, why);
    if (zc_method_refused(ret) && got <= 1) {
        skip(what, ret);
        return;
    }
    t_is_int(ret, 0, "%s: ran", what);
    t_is_int(got, want, "%s", what);
}

/* Exact cost of @size more bytes in one transfer: the difference between a
 * transfer of 2 x @size and one of @size, each on a fresh ctx. Set-up (a pipe,
 * a ring) and per-call work (an fstat, reopening with O_DIRECT) are the same
 * in both and cancel; what remains is the mechanism per chunk. */
static void expect_marginal(enum zc_method m, enum bench_sink sink, size_t chunk,
                            uint64_t size, uint64_t want, const char *why)
{
    char what[200];
    uint64_t one = 0, two = 0;
    int r1, r2;

    snprintf(what, sizeof(what), "%s -> %s, %llu more bytes in one transfer: %s",
             zc_method_name(m), bench_sink_name(sink), (unsigned long long)size, why);
    r1 = run(m, sink, chunk, size, 1, &one);
    if (zc_method_refused(r1)) {
        skip(what, r1);
        return;
    }
    r2 = run(m, sink, chunk, 2 * size, 1, &two);
    t_is_int(r1, 0, "%s: %llu bytes ran", what, (unsigned long long)size);
    t_is_int(r2, 0, "%s: %llu bytes ran", what, (unsigned long long)(2 * size));
    t_is_int(two - one, want, "%s", what);
    t_diag("%s: %llu syscalls for %llu bytes", zc_method_name(m), (unsigned long long)one,
           (unsigned long long)size);
}

static void test_readwrite(void)
{
    /* ceil(N/B) preads + as many writes: every sink here takes a whole
     * blocking write at once. */
    expect(ZC_READWRITE, BENCH_SINK_DEVNULL, 64 * KiB, MiB, 1, 2 * 16, "2 per 64 KiB chunk");
    expect(ZC_READWRITE, BENCH_SINK_DEVNULL, 64 * KiB, MiB + 1, 1, 2 * 17,
           "a last 1-byte chunk");
    expect(ZC_READWRITE, BENCH_SINK_FILE, 256 * KiB, MiB, 3, 3 * 2 * 4, "3 transfers");
    expect(ZC_READWRITE, BENCH_SINK_PIPE, 64 * KiB, MiB, 1, 2 * 16, "drained pipe");
    expect(ZC_READWRITE, BENCH_SINK_TCP, 64 * KiB, MiB, 1, 2 * 16, "loopback TCP");
    expect(ZC_READWRITE, BENCH_SINK_UNIX, 128 * KiB, 4 * KiB, 10, 10 * 2,
           "small transfers: one pread + one write each");
}

/* Through zc_transfer itself: asking for more than the file holds costs the
 * end-of-file read, and a NULL offset costs the two lseeks. */
static void test_readwrite_eof(void)
{
    const uint64_t n = 100000, b = 4096;
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int fd = t_pattern_file(n, false, NULL);
    zc_ctx *ctx = zc_ctx_new();
    struct zc_stats st;
    off_t off = 0;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_set_chunk(ctx, b);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 1 << 30, ZC_READWRITE), n,
             "readwrite to EOF moves the file");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.syscalls, 2 * ceil_div(n, b) + 1,
             "ceil(N/B) reads + ceil(N/B) writes + 1 EOF read");
    zc_ctx_stats_reset(ctx);
    lseek(fd, 0, SEEK_SET);
    t_is_int(zc_transfer(ctx, null_fd, fd, NULL, 1 << 30, ZC_READWRITE), n,
             "readwrite from the file position");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.syscalls, 2 * ceil_div(n, b) + 1 + 2,
             "... + lseek(SEEK_CUR) before and lseek(SEEK_SET) after");
    zc_ctx_free(ctx);
    close(fd);
    close(null_fd);
}

static long pipe_max(void)
{
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
    long v = 0;

    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

static void test_zero_copy_methods(void)
{
    /* One call moves it all where the sink takes everything at once. */
    expect(ZC_SENDFILE, BENCH_SINK_DEVNULL, 0, 8 * MiB, 1, 1, "one sendfile call");
    expect(ZC_SENDFILE, BENCH_SINK_FILE, 0, 8 * MiB, 1, 1, "one sendfile call");
    expect(ZC_COPY_FILE_RANGE, BENCH_SINK_FILE, 0, 8 * MiB, 1, 1,
           "one copy_file_range call");
    /* file -> pipe -> sink: two calls per pipe-full (the ctx pipe is 1 MiB
     * where pipe-max-size allows). */
    if (pipe_max() >= (long)MiB)
        expect_marginal(ZC_SPLICE, BENCH_SINK_DEVNULL, 0, 4 * MiB, 2 * 4,
                        "two splices per 1 MiB pipe-full");
    else
        t_ok(1, "splice # SKIP pipe-max-size below 1 MiB");
    /* mmap: map, write, unmap each window (chunk bytes). */
    expect_marginal(ZC_MMAP, BENCH_SINK_DEVNULL, MiB, 2 * MiB, 3 * 2,
                    "mmap + write + munmap per 1 MiB window");
    /* O_DIRECT at depth 1: one read (io_uring_enter or pread) + one write
     * per buffer. */
    expect_marginal(ZC_DIRECT, BENCH_SINK_DEVNULL, MiB, 2 * MiB, 2 * 2,
                    "read + write per 1 MiB buffer");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    src_fd = t_pattern_file(8 * MiB + 1, false, NULL);
    test_readwrite();
    test_readwrite_eof();
    test_zero_copy_methods();
    close(src_fd);
    return t_done();
}
