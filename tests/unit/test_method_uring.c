/* test_method_uring.c - io_uring: SPLICE into pipes, SEND_ZC into TCP,
 * linked SPLICEs through the method's own pipe into AF_UNIX; byte-exact,
 * blocking and non-blocking; notifications counted and mappings released;
 * exact io_uring_enter counts where deterministic; -EPIPE without a signal;
 * refusals. Skips when built without liburing or io_uring is disabled. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sinks.h"
#include "xferutil.h"

static void probe_or_skip(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in_fd = t_pattern_file(10, false, NULL), p[2];
    off_t off = 0;
    ssize_t n;

    t_pipe(p);
    n = zc_transfer(ctx, p[0], in_fd, &off, 10, ZC_URING);
    close(p[0]);
    close(p[1]);
    close(in_fd);
    zc_ctx_free(ctx);
    if (n == -EOPNOTSUPP)
        t_skip_all("built without liburing");
    if (n == -EPERM || n == -ENOSYS)
        t_skip_all("io_uring unavailable (%s)", strerror((int)-n));
}

static void report_zc(zc_ctx *ctx, const char *what)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    t_diag("%s: %llu SEND_ZC notifications, %llu bytes the kernel copied anyway",
           what, (unsigned long long)st.method[ZC_URING].zc_sent,
           (unsigned long long)st.method[ZC_URING].zc_copied);
}

static void test_matrix(zc_ctx *ctx)
{
    static const struct sink_opts blocking = { 0 };
    static const enum sink_kind kinds[] = { SINK_TCP, SINK_UNIX, SINK_PIPE };

    for (size_t i = 0; i < T_ARRAY_SIZE(sink_sizes); i++) {
        for (size_t k = 0; k < T_ARRAY_SIZE(kinds); k++) {
            struct zc_stats st;

            zc_ctx_stats_reset(ctx);
            sink_case(ctx, ZC_URING, kinds[k], sink_sizes[i], &blocking);
            zc_ctx_stats(ctx, &st);
            if (kinds[k] == SINK_TCP && sink_sizes[i]) {
                t_ok(st.method[ZC_URING].zc_sent >= 1,
                     "tcp %llu bytes: SEND_ZC notifications counted (%llu)",
                     (unsigned long long)sink_sizes[i],
                     (unsigned long long)st.method[ZC_URING].zc_sent);
                t_ok(st.method[ZC_URING].zc_copied <= sink_sizes[i],
                     "tcp %llu bytes: copied within what was sent",
                     (unsigned long long)sink_sizes[i]);
                report_zc(ctx, "tcp");
            }
        }
    }
}

static void test_nonblocking(void)
{
    static const struct sink_opts nb = {
        .nonblock = true, .sndbuf = 4096, .delay_us = 50, .read_chunk = 4096 };
    static const struct { enum sink_kind kind; uint64_t size; } cases[] = {
        { SINK_TCP, (8u << 20) + 3 }, { SINK_TCP, 65537 },
        { SINK_UNIX, (1u << 20) + 7 }, { SINK_PIPE, (1u << 20) + 7 },
    };

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        zc_ctx *ctx = zc_ctx_new();
        int in_fd = t_pattern_file(cases[i].size, false, NULL);
        struct sink s;
        unsigned eagains;
        uint64_t bytes, hash;
        ssize_t n;

        sink_open(&s, cases[i].kind, &nb);
        n = sink_pump(ctx, s.out_fd, in_fd, (size_t)cases[i].size, ZC_URING, &eagains);
        t_is_int(n, (long long)cases[i].size, "non-blocking %s %llu bytes: moved all",
                 sink_names[cases[i].kind], (unsigned long long)cases[i].size);
        t_diag("non-blocking %s: %u EAGAINs, %d mappings in flight",
               sink_names[cases[i].kind], eagains, t_maps_of(in_fd));
        zc_ctx_free(ctx);
        t_is_int(t_maps_of(in_fd), 0, "non-blocking %s: zc_ctx_free unmapped all",
                 sink_names[cases[i].kind]);
        sink_close(&s, &bytes, &hash);
        t_ok(bytes == cases[i].size && hash == pattern_hash(cases[i].size),
             "non-blocking %s %llu bytes: byte-exact", sink_names[cases[i].kind],
             (unsigned long long)cases[i].size);
        close(in_fd);
    }
}

/* file -> pipe big enough for all of it: fstat x2, fcntl(F_GETFL), one
 * io_uring_enter (one SPLICE); the first call also sets the ring up:
 * io_uring_setup and its 2 mmaps (IORING_FEAT_SINGLE_MMAP). */
static void test_syscall_counts(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in_fd = t_pattern_file(65537, false, NULL), p[2];
    static char buf[70000];
    struct zc_stats st;
    off_t off = 0;

    t_pipe(p);
    if (fcntl(p[0], F_SETPIPE_SZ, 1 << 20) < (1 << 20)) {
        t_diag("cannot grow a pipe to 1 MiB: count test skipped");
        goto out;
    }
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_is_int(zc_transfer(ctx, p[0], in_fd, &off, 65537, ZC_URING), 65537, "first call");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.method[ZC_URING].syscalls, 3 + 3 + 1,
             "first call: fstat x2, fcntl, ring setup (3), one io_uring_enter");
    t_ok(read(p[1], buf, sizeof(buf)) == 65537 && memcmp(buf, buf, 1) == 0, "drained");
    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, p[0], in_fd, &off, 65537, ZC_URING), 65537, "second call");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.method[ZC_URING].syscalls, 4, "second call: fstat x2, fcntl, one enter");
    t_is_int(st.syscalls, 4, "no hidden syscalls");
    t_ok(read(p[1], buf, sizeof(buf)) == 65537, "drained again");
    {
        uint8_t want[65537];

        t_fill_pattern(want, sizeof(want), 0);
        t_ok(memcmp(buf, want, sizeof(want)) == 0, "pipe bytes exact");
    }
out:
    close(p[0]);
    close(p[1]);
    close(in_fd);
    zc_ctx_free(ctx);
}

static void test_peer_gone(zc_ctx *ctx)
{
    int in_fd = t_pattern_file(1u << 20, false, NULL), p[2], s[2], u[2];
    off_t off = 0;
    ssize_t n;

    t_pipe(p);
    close(p[1]);
    n = zc_transfer(ctx, p[0], in_fd, &off, 1u << 20, ZC_URING);
    t_is_int(n, -EPIPE, "pipe without reader: -EPIPE, no SIGPIPE");
    close(p[0]);

    t_tcp_pair(s);
    close(s[1]);
    off = 0;
    n = zc_transfer(ctx, s[0], in_fd, &off, 1u << 20, ZC_URING);
    t_ok(n == -EPIPE || n == -ECONNRESET || (n > 0 && n < (1 << 20)),
         "tcp peer closed: -EPIPE/-ECONNRESET or a short count (%zd)", n);
    if (n > 0) {
        n = zc_transfer(ctx, s[0], in_fd, &off, 1u << 20, ZC_URING);
        t_ok(n == -EPIPE || n == -ECONNRESET, "tcp peer closed, next call: %zd", n);
    }
    close(s[0]);

    t_unix_pair(u);
    close(u[1]);
    off = 0;
    n = zc_transfer(ctx, u[0], in_fd, &off, 1u << 20, ZC_URING);
    t_is_int(n, -EPIPE, "AF_UNIX peer closed: -EPIPE");
    close(u[0]);
    close(in_fd);
}

static void test_refusals(zc_ctx *ctx)
{
    int in_fd = t_pattern_file(100, false, NULL), p[2], t[2];
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int file = t_pattern_file(0, false, NULL);
    off_t off = 0;

    t_pipe(p);
    t_tcp_pair(t);
    t_is_int(zc_transfer(ctx, file, in_fd, &off, 100, ZC_URING), -EINVAL, "file sink");
    t_is_int(zc_transfer(ctx, null_fd, in_fd, &off, 100, ZC_URING), -EINVAL,
             "/dev/null sink");
    t_is_int(zc_transfer(ctx, t[0], p[1], NULL, 100, ZC_URING), -EINVAL, "pipe source");
    t_is_int(off, 0, "refusals leave the offset");
    close(t[0]); close(t[1]);
    close(p[0]); close(p[1]);
    close(file); close(null_fd); close(in_fd);
}

/* A procfs file (size 0, not mappable): splice reads it where procfs
 * supports splice, else the method refuses (-EINVAL) and ZC_AUTO moves it. */
static void test_procfs(zc_ctx *ctx)
{
    int proc = open("/proc/self/status", O_RDONLY | O_CLOEXEC), s[2];
    struct t_sink r;
    off_t off = 0;
    ssize_t n;

    t_tcp_pair(s);
    t_sink_start(&r, s[1], 0, 0);
    n = zc_transfer(ctx, s[0], proc, &off, 1 << 20, ZC_URING);
    close(s[0]);
    t_sink_join(&r);
    t_ok((n > 0 && (uint64_t)n == r.bytes) || (n == -EINVAL && r.bytes == 0),
         "procfs -> tcp: all arrived, or refused (%zd)", n);
    close(s[1]);
    t_pipe(s);
    off = 0;
    t_sink_start(&r, s[1], 0, 0);
    n = zc_transfer(ctx, s[0], proc, &off, 1 << 20, ZC_AUTO);
    close(s[0]);
    t_sink_join(&r);
    t_ok(n > 0 && (uint64_t)n == r.bytes, "procfs -> pipe by ZC_AUTO: %zd bytes", n);
    close(s[1]);
    close(proc);
}

/* Bytes held in the method's pipe (AF_UNIX sink full) belong to one stream
 * and one offset: a call for another sink must not send them, and the first
 * stream resumed at its exact offset must still arrive byte-exact. */
static void test_held_bytes(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in_fd = t_pattern_file(1u << 20, false, NULL), a[2], b[2];
    struct t_sink ra, rb;
    off_t off_a = 0, off_b = 0;
    ssize_t n;

    t_unix_pair(a);
    t_set_nonblock(a[0], true);
    n = zc_transfer(ctx, a[0], in_fd, &off_a, 1u << 20, ZC_URING);
    t_ok(n > 0 && n < (1 << 20), "unix sink filled: %zd bytes, some held", n);
    t_unix_pair(b);
    t_sink_start(&rb, b[1], 0, 0);
    off_b = 4096;
    n = zc_transfer(ctx, b[0], in_fd, &off_b, 100000, ZC_URING);
    close(b[0]);
    t_sink_join(&rb);
    close(b[1]);
    t_is_int(n, 100000, "other stream: moved");
    t_ok(rb.bytes == 100000 && rb.hash == t_pattern_hash(4096, 100000),
         "other stream: exactly its own bytes, none of the held ones");
    t_set_nonblock(a[0], false);
    t_sink_start(&ra, a[1], 0, 0);
    n = zc_transfer(ctx, a[0], in_fd, &off_a, (1u << 20) - (size_t)off_a, ZC_URING);
    close(a[0]);
    t_sink_join(&ra);
    close(a[1]);
    t_is_int(off_a, 1 << 20, "first stream resumed to the end");
    t_ok(ra.bytes == 1u << 20 && ra.hash == pattern_hash(1u << 20),
         "first stream byte-exact across the interruption");
    zc_ctx_free(ctx);
    close(in_fd);
}

/* A seccomp filter that answers io_uring_setup with EPERM, as
 * kernel.io_uring_disabled or a container policy would: the method refuses
 * with -EPERM, remembers it, and ZC_AUTO's other methods are unaffected. */
static int seccomp_child(int in_fd)
{
    zc_ctx *ctx;
    struct zc_stats st;
    int p[2], rc = 0;
    off_t off = 0;

    if (t_forbid_syscall(__NR_io_uring_setup, EPERM) < 0)
        return 77;
    ctx = zc_ctx_new();
    if (pipe2(p, O_CLOEXEC) < 0)
        return 2;
    if (zc_transfer(ctx, p[1], in_fd, &off, 10, ZC_URING) != -EPERM)
        rc |= 4;
    zc_ctx_stats_reset(ctx);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    if (zc_transfer(ctx, p[1], in_fd, &off, 10, ZC_URING) != -EPERM)
        rc |= 8;
    zc_ctx_stats(ctx, &st);
    /* Remembered: fstat x2 and fcntl, no second io_uring_setup. */
    if (st.method[ZC_URING].syscalls != 3)
        rc |= 16;
    if (zc_transfer(ctx, p[1], in_fd, &off, 10, ZC_AUTO) != 10)
        rc |= 32;
    zc_ctx_free(ctx);
    return rc;
}

static void test_disabled(void)
{
    int in_fd = t_pattern_file(10, false, NULL), status = 0;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(seccomp_child(in_fd));
    waitpid(pid, &status, 0);
    close(in_fd);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        t_diag("seccomp unavailable: disabled-io_uring case skipped");
        return;
    }
    t_is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
             "io_uring_setup forbidden: -EPERM, remembered, ZC_AUTO unaffected");
}

static void on_fatal(int sig)
{
    (void)sig;
    _exit(3);
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx;

    probe_or_skip();
    signal(SIGBUS, on_fatal);
    signal(SIGPIPE, on_fatal);
    ctx = zc_ctx_new();
    test_matrix(ctx);
    test_nonblocking();
    test_syscall_counts();
    test_peer_gone(ctx);
    test_refusals(ctx);
    test_procfs(ctx);
    tcp_truncation_case(ctx, ZC_URING);
    test_held_bytes();
    test_disabled();
    sink_case_over_4g(ctx, ZC_URING, SINK_PIPE);
    sink_case_over_4g(ctx, ZC_URING, SINK_TCP);
    sink_case_over_4g(ctx, ZC_URING, SINK_UNIX);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
