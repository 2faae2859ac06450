/* test_method_direct.c - O_DIRECT read + write: byte-exact into every sink,
 * blocking and non-blocking, unaligned heads and tails, exact syscall counts,
 * and a clear -EINVAL where the file cannot do direct I/O. Skips when the
 * test directory's file system refuses O_DIRECT. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks.h"

static bool direct_supported(size_t *align)
{
    char path[4096];
    int fd = t_pattern_file(8192, false, path);
    int dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    struct statx stx;

    *align = 4096;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN))
        *align = stx.stx_dio_offset_align;
    close(fd);
    if (dfd < 0)
        return false;
    close(dfd);
    return *align != 0;
}

static void test_matrix(zc_ctx *ctx)
{
    static const struct sink_opts blocking = { 0 };
    static const struct sink_opts nonblocking = {
        .nonblock = true, .sndbuf = 4096, .delay_us = 50, .read_chunk = 4096 };

    for (size_t i = 0; i < T_ARRAY_SIZE(sink_sizes); i++)
        for (int k = 0; k < SINK_COUNT; k++)
            sink_case(ctx, ZC_DIRECT, (enum sink_kind)k, sink_sizes[i], &blocking);
    sink_case(ctx, ZC_DIRECT, SINK_TCP, (8u << 20) + 3, &nonblocking);
    sink_case(ctx, ZC_DIRECT, SINK_UNIX, (1u << 20) + 7, &nonblocking);
    sink_case(ctx, ZC_DIRECT, SINK_PIPE, (1u << 20) + 7, &nonblocking);
}

/* statx + fcntl(F_GETFL) + open, then per aligned chunk one pread and one
 * write (/dev/null takes all), then close. */
static void test_syscall_counts(zc_ctx *ctx, size_t align)
{
    static const struct { uint64_t size; size_t chunk; } cases[] = {
        { 0, 256 << 10 }, { 1, 256 << 10 }, { 65537, 256 << 10 }, { (8u << 20) + 3, 256 << 10 },
        { (1u << 20) + 5, 64 << 10 },
    };
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        int fd = t_pattern_file(cases[i].size, false, NULL);
        uint64_t padded = (cases[i].size + align - 1) / align * align;
        /* An empty file is told from a pseudo-file by the reopen alone. */
        uint64_t reads = (padded + cases[i].chunk - 1) / cases[i].chunk;
        struct zc_stats st;
        off_t off = 0;
        ssize_t n;

        zc_ctx_set_chunk(ctx, cases[i].chunk);
        zc_ctx_stats_reset(ctx);
        n = zc_transfer(ctx, null_fd, fd, &off, (size_t)cases[i].size + 1, ZC_DIRECT);
        zc_ctx_stats(ctx, &st);
        t_is_int(n, (long long)cases[i].size, "%llu bytes: moved",
                 (unsigned long long)cases[i].size);
        t_is_int(st.method[ZC_DIRECT].syscalls, (long long)(3 + 2 * reads + 1),
                 "%llu bytes, chunk %zu: statx+fcntl+open, %llu x (pread+write), close",
                 (unsigned long long)cases[i].size, cases[i].chunk,
                 (unsigned long long)reads);
        t_is_int(st.syscalls, (long long)(3 + 2 * reads + 1), "no hidden syscalls");
        close(fd);
    }
    zc_ctx_set_chunk(ctx, 256 << 10);
    zc_ctx_set_flags(ctx, 0);
    close(null_fd);
}

/* Ranges that start and end inside an aligned block: the head is skipped in
 * the buffer, the tail read as a whole block and cut. */
static void test_unaligned(zc_ctx *ctx)
{
    static const struct { off_t start; size_t len; } cases[] = {
        { 1, 1 }, { 511, 2 }, { 4095, 4098 }, { 4097, 30001 }, { 12345, 300000 },
        { 0, 99999 }, { 99998, 2 },
    };
    int fd = t_pattern_file(100000, false, NULL);
    static uint8_t want[300000], got[300000];

    zc_ctx_set_chunk(ctx, 8192);
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        int sink = t_pattern_file(0, false, NULL);
        off_t off = cases[i].start;
        size_t left = (size_t)(100000 - cases[i].start);
        size_t expect = cases[i].len < left ? cases[i].len : left;
        ssize_t n = zc_transfer(ctx, sink, fd, &off, cases[i].len, ZC_DIRECT);

        t_is_int(n, (long long)expect, "[%lld, +%zu): count",
                 (long long)cases[i].start, cases[i].len);
        t_is_int(off, cases[i].start + (off_t)expect, "[%lld, +%zu): offset",
                 (long long)cases[i].start, cases[i].len);
        t_fill_pattern(want, expect, (uint64_t)cases[i].start);
        t_ok(pread(sink, got, sizeof(got), 0) == (ssize_t)expect &&
             memcmp(got, want, expect) == 0, "[%lld, +%zu): bytes exact",
             (long long)cases[i].start, cases[i].len);
        close(sink);
    }
    zc_ctx_set_chunk(ctx, 256 << 10);
    close(fd);
}

static void test_refusals(zc_ctx *ctx)
{
    int p[2], null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int wr = open(t_tmpdir(), O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
    int proc = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    int shm = open("/dev/shm", O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    off_t off = 0;
    ssize_t n;

    t_pipe(p);
    t_is_int(zc_transfer(ctx, null_fd, p[1], NULL, 10, ZC_DIRECT), -EINVAL,
             "pipe source refused");
    if (write(wr, "abc", 3) == 3)
        t_is_int(zc_transfer(ctx, null_fd, wr, &off, 3, ZC_DIRECT), -EBADF,
                 "write-only source: -EBADF, not reopened for reading");
    off = 0;
    n = zc_transfer(ctx, null_fd, proc, &off, 4096, ZC_DIRECT);
    t_is_int(n, -EINVAL, "procfs (no direct I/O, size 0): refused, not EOF");
    off = 0;
    t_ok(zc_transfer(ctx, null_fd, proc, &off, 4096, ZC_AUTO) > 0,
         "ZC_AUTO still moves it");
    if (shm >= 0 && write(shm, "hello", 5) == 5) {
        off = 0;
        n = zc_transfer(ctx, null_fd, shm, &off, 5, ZC_DIRECT);
        t_ok(n == 5 || n == -EINVAL, "tmpfs: moved or refused with -EINVAL (%zd)", n);
        t_diag("tmpfs O_DIRECT: %s", n == 5 ? "supported" : "refused");
    }
    if (shm >= 0)
        close(shm);
    close(proc);
    close(wr);
    close(p[0]);
    close(p[1]);
    close(null_fd);
}

int main(void)
{
    int fds_before;
    size_t align;
    zc_ctx *ctx;

    /* /tmp is often tmpfs; /var/tmp is on disk on Debian. */
    if (!getenv("TMPDIR"))
        setenv("TMPDIR", "/var/tmp", 1);
    fds_before = t_count_fds();
    if (!direct_supported(&align))
        t_skip_all("O_DIRECT refused by the file system of %s", t_tmpdir());
    t_diag("direct I/O offset alignment: %zu", align);
    ctx = zc_ctx_new();
    test_matrix(ctx);
    test_syscall_counts(ctx, align);
    test_unaligned(ctx);
    test_refusals(ctx);
    sink_case_over_4g(ctx, ZC_DIRECT, SINK_TCP);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
