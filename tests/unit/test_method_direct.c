/* test_method_direct.c - O_DIRECT reads kept in flight + ordered writes:
 * byte-exact into every sink, blocking and non-blocking, unaligned heads and
 * tails, reads held across -EAGAIN used only by the stream they belong to,
 * a source shrinking mid-transfer, exact syscall counts (checked against
 * ptrace's own count), and a clear -EINVAL where the file cannot do direct
 * I/O. Skips when the test directory's file system refuses O_DIRECT.
 *
 * Run with --no-uring it first installs a seccomp filter that answers
 * io_uring_setup with EPERM, and the same cases test the synchronous
 * fallback (ctest runs it both ways). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sinks.h"

static bool no_uring;           /* --no-uring: io_uring_setup forbidden */

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

/* Every sink at every size, at the default depth, at depth 1 and with
 * small buffers at depth 16 (many reads in flight, many completions out of
 * order of need). */
static void test_matrix(zc_ctx *ctx)
{
    static const struct sink_opts blocking = { 0 };
    static const struct sink_opts nonblocking = {
        .nonblock = true, .sndbuf = 4096, .delay_us = 50, .read_chunk = 4096 };

    static const struct { unsigned depth; size_t buf; } settings[] = {
        { 4, 1 << 20 }, { 1, 256 << 10 }, { 16, 64 << 10 },
    };

    for (size_t c = 0; c < T_ARRAY_SIZE(settings); c++) {
        t_diag("depth %u, %zu KiB buffers", settings[c].depth, settings[c].buf >> 10);
        zc_ctx_set_direct_depth(ctx, settings[c].depth);
        zc_ctx_set_direct_buf(ctx, settings[c].buf);
        for (size_t i = 0; i < T_ARRAY_SIZE(sink_sizes); i++)
            for (int k = 0; k < SINK_COUNT; k++)
                sink_case(ctx, ZC_DIRECT, (enum sink_kind)k, sink_sizes[i], &blocking);
        sink_case(ctx, ZC_DIRECT, SINK_TCP, (8u << 20) + 3, &nonblocking);
        sink_case(ctx, ZC_DIRECT, SINK_UNIX, (1u << 20) + 7, &nonblocking);
        sink_case(ctx, ZC_DIRECT, SINK_PIPE, (1u << 20) + 7, &nonblocking);
    }
    zc_ctx_set_direct_depth(ctx, 4);
    zc_ctx_set_direct_buf(ctx, 1 << 20);
}

/* Queue depth 1 makes the count independent of timing: statx + fcntl(F_GETFL)
 * + open, then per aligned buffer one read (an io_uring_enter that submits
 * it and waits, or a pread without io_uring) and one write (/dev/null takes
 * all), then close. The queue is built by a first call, not counted. */
static void test_syscall_counts(zc_ctx *ctx, size_t align)
{
    static const struct { uint64_t size; size_t buf; } cases[] = {
        { 0, 256 << 10 }, { 1, 256 << 10 }, { 65537, 256 << 10 }, { (8u << 20) + 3, 256 << 10 },
        { (1u << 20) + 5, 64 << 10 },
    };
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_set_direct_depth(ctx, 1);
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        int fd = t_pattern_file(cases[i].size, false, NULL);
        uint64_t padded = (cases[i].size + align - 1) / align * align;
        /* An empty file is told from a pseudo-file by the reopen alone. */
        uint64_t reads = (padded + cases[i].buf - 1) / cases[i].buf;
        struct zc_stats st;
        off_t off = 0;
        ssize_t n;

        zc_ctx_set_direct_buf(ctx, cases[i].buf);
        zc_transfer(ctx, null_fd, fd, &off, 1, ZC_DIRECT);
        off = 0;
        zc_ctx_stats_reset(ctx);
        n = zc_transfer(ctx, null_fd, fd, &off, (size_t)cases[i].size + 1, ZC_DIRECT);
        zc_ctx_stats(ctx, &st);
        t_is_int(n, (long long)cases[i].size, "%llu bytes: moved",
                 (unsigned long long)cases[i].size);
        t_is_int(st.method[ZC_DIRECT].syscalls, (long long)(3 + 2 * reads + 1),
                 "%llu bytes, buffer %zu, depth 1: statx+fcntl+open, %llu x (read+write), close",
                 (unsigned long long)cases[i].size, cases[i].buf,
                 (unsigned long long)reads);
        t_is_int(st.syscalls, (long long)(3 + 2 * reads + 1), "no hidden syscalls");
        close(fd);
    }
    zc_ctx_set_direct_buf(ctx, 1 << 20);
    zc_ctx_set_direct_depth(ctx, 4);
    zc_ctx_set_flags(ctx, 0);
    close(null_fd);
}

/* What the first call of a ctx pays to build the queue, and that a refused
 * io_uring is not asked again. */
static void test_first_call(void)
{
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int fd = t_pattern_file(10, false, NULL);
    zc_ctx *ctx = zc_ctx_new();
    struct zc_stats st;
    off_t off = 0;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_DIRECT), 10, "first call: moved");
    zc_ctx_stats(ctx, &st);
    if (no_uring)
        t_is_int(st.syscalls, 9, "io_uring refused: statx, fcntl, io_uring_setup "
                 "(EPERM), buffer mmap + madvise, open, pread, write, close");
    else
        t_ok(st.syscalls == 12 || st.syscalls == 13,
             "first call: statx, fcntl, io_uring_setup + 2-3 ring mmaps, buffer mmap + "
             "madvise, register buffers, open, enter, write, close (%llu)",
             (unsigned long long)st.syscalls);
    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_DIRECT), 10, "second call: moved");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.syscalls, 6, "second call: statx, fcntl, open, %s, write, close%s",
             no_uring ? "pread" : "enter", no_uring ? " (the refusal remembered)" : "");
    t_is_int(zc_ctx_set_direct_depth(ctx, 0), -EINVAL, "depth 0 refused");
    t_is_int(zc_ctx_set_direct_depth(ctx, 65), -EINVAL, "depth 65 refused");
    t_is_int(zc_ctx_set_direct_buf(ctx, 0), -EINVAL, "buffer 0 refused");
    t_is_int(zc_ctx_set_direct_buf(ctx, (64u << 20) + 1), -EINVAL, "buffer over 64 MiB refused");
    zc_ctx_free(ctx);
    close(fd);
    close(null_fd);
}

/* The count the library reports, checked against the kernel's view: a child
 * traced with PTRACE_SYSCALL counts every syscall entry of its main thread
 * between two getppid() markers around one transfer. At depth > 1 the number
 * of io_uring_enter calls depends on timing, so only such a count can check
 * it. */
static int traced_child(int report_fd, unsigned depth, size_t buf, int in_fd,
                        size_t size, enum sink_kind kind)
{
    static const struct sink_opts blocking = { 0 };
    zc_ctx *ctx = zc_ctx_new();
    struct zc_stats st;
    struct sink s;
    uint64_t bytes, hash, rep[2];
    off_t off = 0;
    ssize_t n;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_set_direct_depth(ctx, depth);
    zc_ctx_set_direct_buf(ctx, buf);
    sink_open(&s, kind, &blocking);
    n = zc_transfer(ctx, s.out_fd, in_fd, &off, 1, ZC_DIRECT);  /* builds the queue */
    zc_ctx_stats_reset(ctx);
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 || raise(SIGSTOP) != 0)
        _exit(77);
    syscall(SYS_getppid);
    n = zc_transfer(ctx, s.out_fd, in_fd, &off, size, ZC_DIRECT);
    syscall(SYS_getppid);
    zc_ctx_stats(ctx, &st);
    sink_close(&s, &bytes, &hash);
    rep[0] = (uint64_t)n;
    rep[1] = st.syscalls;
    if (write(report_fd, rep, sizeof(rep)) != sizeof(rep))
        _exit(2);
    _exit(0);   /* no atexit work (LeakSanitizer would ptrace) */
}

static void test_count_traced(unsigned depth, size_t buf, size_t size, enum sink_kind kind)
{
    int in_fd = t_pattern_file(size, false, NULL), rp[2], status;
    uint64_t rep[2] = { 0, 0 }, counted = 0, restarts = 0;
    int markers = 0;
    pid_t pid;

    t_pipe(rp);                 /* rp[0] writes, rp[1] reads */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(rp[1]);
        _exit(traced_child(rp[0], depth, buf, in_fd, size, kind));
    }
    close(rp[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
        t_ok(1, "traced count # SKIP cannot trace a child here");
        goto out;
    }
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD |
                                                      PTRACE_O_EXITKILL));
    for (int sig = 0;;) {
        struct __ptrace_syscall_info info;

        if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 ||
            waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
            break;
        sig = 0;
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            sig = WSTOPSIG(status);     /* a real signal: deliver it */
            continue;
        }
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
            continue;
        if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
            /* -ERESTARTSYS and kin: the kernel enters the same call again
             * (io_uring's task work interrupts a blocking write this way);
             * the program made one call, and that is what it counts. */
            int64_t rval = info.exit.rval;

            if (markers == 1 && (rval == -512 || rval == -513 || rval == -514 ||
                                 rval == -516)) {
                counted--;
                restarts++;
            }
            continue;
        }
        if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
            continue;
        if (info.entry.nr == SYS_getppid)
            markers++;
        else if (markers == 1)
            counted++;
    }
    waitpid(pid, &status, 0);
    if (read(rp[1], rep, sizeof(rep)) != sizeof(rep))
        rep[0] = rep[1] = 0;
    t_is_int(rep[0], (long long)size - 1, "traced, depth %u, %zu KiB buffers -> %s: moved",
             depth, buf >> 10, sink_names[kind]);
    t_is_int(rep[1], (long long)counted, "depth %u -> %s: the stats count what ptrace "
             "saw (%llu syscalls, %llu restarted by the kernel)", depth, sink_names[kind],
             (unsigned long long)counted, (unsigned long long)restarts);
out:
    close(rp[1]);
    close(in_fd);
}

/* A non-blocking sink that fills holds reads past *offset. They belong to
 * one file and one offset: a call for another file at the same offset, or
 * for this file elsewhere, must read its own bytes; the first stream resumed
 * at its exact offset arrives byte-exact; a file cut meanwhile is sent only
 * up to its new end. */
/* Pump in_fd into the non-blocking @out_fd from *off until *off reaches
 * @stop_at or the end; poll on -EAGAIN. Returns the last result. */
static ssize_t pump_until(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, off_t stop_at)
{
    ssize_t n = 0;

    for (int calls = 0; calls < 100000 && *off < stop_at; calls++) {
        struct pollfd p = { .fd = out_fd, .events = POLLOUT };

        n = zc_transfer(ctx, out_fd, in_fd, off, (size_t)(stop_at - *off), ZC_DIRECT);
        if (n == 0 || (n < 0 && n != -EAGAIN))
            break;
        if (n == -EAGAIN)
            poll(&p, 1, 1000);
    }
    return n;
}

static void test_held_reads(void)
{
    const size_t size = 4u << 20;
    const off_t cut_after = 2u << 20;
    zc_ctx *ctx = zc_ctx_new();
    char path[4096];
    int in_fd = t_pattern_file(size, false, path), other = t_pattern_file(0, false, NULL);
    int victim = open(path, O_RDWR | O_CLOEXEC), a[2], p[2];
    static uint8_t buf[1 << 16], want[1000];
    struct t_sink r;
    off_t off_a = 0, off_o, cut;
    ssize_t n;

    memset(buf, 0xab, sizeof(buf));
    for (int i = 0; i < 16; i++)
        if (write(other, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            abort();
    t_unix_pair(a);
    t_set_nonblock(a[0], true);
    t_sink_start(&r, a[1], 4096, 100);
    n = zc_transfer(ctx, a[0], in_fd, &off_a, size, ZC_DIRECT);
    t_ok(n > 0 && n < (ssize_t)size, "slow unix sink: %zd bytes moved, the rest held", n);

    /* Another file at the same offset: its own bytes, not the held ones. */
    t_pipe(p);
    off_o = off_a;
    n = zc_transfer(ctx, p[0], other, &off_o, sizeof(want), ZC_DIRECT);
    memset(want, 0xab, sizeof(want));
    t_ok(n == (ssize_t)sizeof(want) && read(p[1], buf, sizeof(want)) == (ssize_t)sizeof(want) &&
         !memcmp(buf, want, sizeof(want)), "another file at the same offset: its own bytes");
    close(p[0]);
    close(p[1]);

    /* Resumed, stopped past 2 MiB with reads held, the source cut 1000 bytes
     * past that point: only those 1000 bytes may follow. */
    pump_until(ctx, a[0], in_fd, &off_a, cut_after);
    cut = off_a + 1000;
    t_ok(ftruncate(victim, cut) == 0, "source cut at %lld, below the held reads",
         (long long)cut);
    n = pump_until(ctx, a[0], in_fd, &off_a, (off_t)size);
    t_is_int(n, 0, "then end of file");
    t_is_int(off_a, cut, "offset at the new end");
    close(a[0]);
    t_sink_join(&r);
    close(a[1]);
    t_is_int(r.bytes, cut, "the reader got exactly the bytes up to the cut");
    t_ok(r.hash == pattern_hash((uint64_t)cut), "byte-exact across held reads, "
         "another file and the cut");
    close(victim);
    zc_ctx_free(ctx);
    close(other);
    close(in_fd);
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

/* io_uring_setup answers EPERM from here on, as under kernel.io_uring_disabled
 * or a container's seccomp policy. */
static void forbid_io_uring(void)
{
    if (t_forbid_syscall(__NR_io_uring_setup, EPERM) < 0)
        t_skip_all("no seccomp filter here: io_uring cannot be refused");
    no_uring = true;
}

int main(int argc, char **argv)
{
    int fds_before;
    size_t align;
    zc_ctx *ctx;

    if (argc > 1 && !strcmp(argv[1], "--no-uring"))
        forbid_io_uring();
    /* /tmp is often tmpfs; /var/tmp is on disk on Debian. */
    if (!getenv("TMPDIR"))
        setenv("TMPDIR", "/var/tmp", 1);
    fds_before = t_count_fds();
    if (!direct_supported(&align))
        t_skip_all("O_DIRECT refused by the file system of %s", t_tmpdir());
    t_diag("direct I/O offset alignment: %zu; io_uring %s", align,
           no_uring ? "forbidden (synchronous reads)" : "allowed");
    ctx = zc_ctx_new();
    test_matrix(ctx);
    test_syscall_counts(ctx, align);
    test_first_call();
    test_count_traced(4, 256 << 10, (8u << 20) + 1, SINK_NULL);
    test_count_traced(16, 64 << 10, (8u << 20) + 1, SINK_PIPE);
    test_count_traced(4, 1 << 20, (8u << 20) + 1, SINK_TCP);
    test_unaligned(ctx);
    test_refusals(ctx);
    test_held_reads();
    /* Reads already done before the cut still go out: keep the read-ahead
     * (depth x buffer) well below the 1 MiB at which the reader cuts. */
    zc_ctx_set_direct_depth(ctx, 2);
    zc_ctx_set_direct_buf(ctx, 64 << 10);
    tcp_truncation_case(ctx, ZC_DIRECT);
    sink_case_over_4g(ctx, ZC_DIRECT, SINK_TCP);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
