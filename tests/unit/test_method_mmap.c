/* test_method_mmap.c - mmap + write: byte-exact into every sink, blocking and
 * non-blocking, exact syscall counts, refusals, and a source truncated by
 * another thread mid-transfer (a short count, never SIGBUS). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "sinks.h"

static volatile sig_atomic_t got_sigbus;

static void on_sigbus(int sig)
{
    (void)sig;
    got_sigbus = 1;
    /* Returning would re-run the faulting access forever: leave loudly. */
    _exit(3);
}

static void test_matrix(zc_ctx *ctx)
{
    static const struct sink_opts blocking = { 0 };
    static const struct sink_opts nonblocking = {
        .nonblock = true, .sndbuf = 4096, .delay_us = 50, .read_chunk = 4096 };

    for (size_t i = 0; i < T_ARRAY_SIZE(sink_sizes); i++)
        for (int k = 0; k < SINK_COUNT; k++)
            sink_case(ctx, ZC_MMAP, (enum sink_kind)k, sink_sizes[i], &blocking);
    /* Non-blocking: sockets and pipes fill; files and /dev/null never do. */
    sink_case(ctx, ZC_MMAP, SINK_TCP, (8u << 20) + 3, &nonblocking);
    sink_case(ctx, ZC_MMAP, SINK_UNIX, (1u << 20) + 7, &nonblocking);
    sink_case(ctx, ZC_MMAP, SINK_PIPE, (1u << 20) + 7, &nonblocking);
    sink_case(ctx, ZC_MMAP, SINK_TCP, 65537, &nonblocking);
}

/* mmap of N bytes: one fstat, then per window of ctx->chunk bytes one mmap,
 * one write (/dev/null takes everything) and one munmap. */
static void test_syscall_counts(zc_ctx *ctx)
{
    static const struct { uint64_t size; size_t chunk; uint64_t want; } cases[] = {
        { 1, 256 << 10, 1 + 3 },
        { 65537, 256 << 10, 1 + 3 },
        { (8u << 20) + 3, 256 << 10, 1 + 33 * 3 },
        { (1u << 20), 64 << 10, 1 + 16 * 3 },
        { 0, 256 << 10, 1 + 2 },         /* fstat, mmap probe, munmap */
    };
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        int fd = t_pattern_file(cases[i].size, false, NULL);
        struct zc_stats st;
        off_t off = 0;
        ssize_t n;

        zc_ctx_set_chunk(ctx, cases[i].chunk);
        zc_ctx_stats_reset(ctx);
        n = zc_transfer(ctx, null_fd, fd, &off, (size_t)cases[i].size + 1, ZC_MMAP);
        zc_ctx_stats(ctx, &st);
        t_is_int(n, (long long)cases[i].size, "%llu bytes, chunk %zu: moved",
                 (unsigned long long)cases[i].size, cases[i].chunk);
        t_is_int(st.method[ZC_MMAP].syscalls, (long long)cases[i].want,
                 "%llu bytes, chunk %zu: mmap+write+munmap per window, exact",
                 (unsigned long long)cases[i].size, cases[i].chunk);
        t_is_int(st.syscalls, (long long)cases[i].want, "no hidden syscalls");
        /* At end of file: one fstat, nothing mapped. */
        zc_ctx_stats_reset(ctx);
        if (cases[i].size) {
            t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_MMAP), 0, "at EOF: 0");
            zc_ctx_stats(ctx, &st);
            t_is_int(st.syscalls, 1, "at EOF: one fstat");
        }
        close(fd);
    }
    zc_ctx_set_chunk(ctx, 256 << 10);
    zc_ctx_set_flags(ctx, 0);
    close(null_fd);
}

/* Offsets that are not page-aligned map from the page below. */
static void test_unaligned_offsets(zc_ctx *ctx)
{
    int fd = t_pattern_file(100000, false, NULL);
    int sink = t_pattern_file(0, false, NULL);
    static uint8_t want[40000];
    static uint8_t got[40000];
    off_t off = 4097;
    ssize_t n;

    zc_ctx_set_chunk(ctx, 8192);
    n = zc_transfer(ctx, sink, fd, &off, 30001, ZC_MMAP);
    t_is_int(n, 30001, "unaligned start: all moved");
    t_is_int(off, 4097 + 30001, "unaligned start: offset advanced exactly");
    t_fill_pattern(want, 30001, 4097);
    t_ok(pread(sink, got, sizeof(got), 0) == 30001 && memcmp(got, want, 30001) == 0,
         "unaligned start: bytes exact");
    /* NULL offset: the file position is used and advanced. */
    lseek(fd, 99990, SEEK_SET);
    n = zc_transfer(ctx, sink, fd, NULL, 1000, ZC_MMAP);
    t_is_int(n, 10, "NULL offset: from the file position to EOF");
    t_is_int(lseek(fd, 0, SEEK_CUR), 100000, "NULL offset: position advanced");
    zc_ctx_set_chunk(ctx, 256 << 10);
    close(sink);
    close(fd);
}

static void test_refusals(zc_ctx *ctx)
{
    int p[2], s[2], null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int wr = open(t_tmpdir(), O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
    int proc = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    off_t off = 0;

    t_pipe(p);
    t_unix_pair(s);
    t_is_int(zc_transfer(ctx, null_fd, p[1], NULL, 10, ZC_MMAP), -EINVAL,
             "pipe source refused");
    t_is_int(zc_transfer(ctx, null_fd, s[1], NULL, 10, ZC_MMAP), -EINVAL,
             "socket source refused");
    if (write(wr, "abc", 3) == 3)
        t_is_int(zc_transfer(ctx, null_fd, wr, &off, 3, ZC_MMAP), -EBADF,
                 "write-only source: -EBADF");
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, proc, &off, 4096, ZC_MMAP), -EINVAL,
             "procfs file (size 0, not mappable) refused, not EOF");
    off = 0;
    t_ok(zc_transfer(ctx, null_fd, proc, &off, 4096, ZC_AUTO) > 0,
         "ZC_AUTO still moves the procfs file");
    close(proc);
    close(wr);
    close(p[0]); close(p[1]);
    close(s[0]); close(s[1]);
    close(null_fd);
}

/* The reader truncates the source to 512 KiB after it received 1 MiB of
 * 8 MiB: the rest of the mapping is lost, write(2) says EFAULT, and the
 * transfer must end with a short count and no signal. */
static void test_truncation(zc_ctx *ctx, enum sink_kind kind)
{
    char path[4096];
    int in_fd = t_pattern_file(8u << 20, false, path);
    int victim = open(path, O_RDWR | O_CLOEXEC);
    struct trunc_reader r;
    int fds[2];
    off_t off = 0;
    ssize_t n;

    if (kind == SINK_PIPE)
        t_pipe(fds);
    else
        t_tcp_pair(fds);
    if (kind == SINK_TCP) {
        t_set_sndbuf(fds[0], 65536);
        /* A fixed receive buffer: autotuning could let the writer run
         * megabytes ahead of the reader and finish before the truncation. */
        set_rcvbuf(fds[1], 65536);
    }
    trunc_reader_start(&r, fds[1], victim, 1u << 20, 512 << 10, 100);
    n = zc_transfer(ctx, fds[0], in_fd, &off, 8u << 20, ZC_MMAP);
    close(fds[0]);
    trunc_reader_join(&r);
    t_ok(r.truncated, "%s: the source was truncated mid-transfer", sink_names[kind]);
    t_ok(n >= (1 << 20) && n < (8 << 20), "%s: short count (%zd), no signal",
         sink_names[kind], n);
    t_is_int(off, n, "%s: offset matches the count", sink_names[kind]);
    t_is_int(r.bytes, n, "%s: the reader got exactly the count", sink_names[kind]);
    t_ok(r.hash == pattern_hash(r.bytes), "%s: what arrived is the file's prefix",
         sink_names[kind]);
    /* Past the new end: 0, not an error. */
    t_is_int(zc_transfer(ctx, fds[1], in_fd, &off, 10, ZC_MMAP), 0,
             "%s: next call at the shrunken EOF returns 0", sink_names[kind]);
    t_ok(!got_sigbus, "no SIGBUS");
    close(fds[1]);
    close(victim);
    close(in_fd);
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx = zc_ctx_new();

    signal(SIGBUS, on_sigbus);
    test_matrix(ctx);
    test_syscall_counts(ctx);
    test_unaligned_offsets(ctx);
    test_refusals(ctx);
    test_truncation(ctx, SINK_PIPE);
    test_truncation(ctx, SINK_TCP);
    sink_case_over_4g(ctx, ZC_MMAP, SINK_PIPE);
    sink_case_over_4g(ctx, ZC_MMAP, SINK_FILE);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
