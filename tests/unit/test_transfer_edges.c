/* test_transfer_edges.c - the review's cases: what ZC_AUTO remembers must
 * not outlive the fds that taught it; sources that lseek accepts but pread
 * refuses; a caller that blocks SIGPIPE itself; ZC_VERIFY_SOURCE on a
 * stream; offsets and counts at the edges for every method; one ctx per
 * thread really shares nothing; the server's hot path is one syscall. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "xferutil.h"
#include "zcopy.h"

#define KIB ((size_t)1 << 10)

static const enum zc_method all_methods[] = {
    ZC_AUTO, ZC_READWRITE, ZC_MMAP, ZC_SENDFILE, ZC_SPLICE,
    ZC_COPY_FILE_RANGE, ZC_MSG_ZEROCOPY, ZC_URING, ZC_DIRECT,
};
static bool available[ZC_METHOD_COUNT];
static const char *why_not[ZC_METHOD_COUNT];

static struct zc_stats stats(const zc_ctx *ctx)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    return st;
}

static enum t_out_kind home_sink(enum zc_method m)
{
    switch (m) {
    case ZC_COPY_FILE_RANGE: return T_OUT_FILE;
    case ZC_MSG_ZEROCOPY:    return T_OUT_TCP;
    case ZC_URING:           return T_OUT_PIPE;
    default:                 return T_OUT_UNIX;
    }
}

/* file -> file of @size in @ctx; true when it arrived byte-exact. */
static bool copy_file_pair(zc_ctx *ctx, size_t size)
{
    int in = t_pattern_file(size, false, NULL);
    int out = t_pattern_file(0, false, NULL);
    off_t off = 0;
    uint64_t got, h;
    ssize_t n;

    n = zc_transfer(ctx, out, in, &off, size, ZC_AUTO);
    h = t_hash_file(out, 0, UINT64_MAX, &got);
    close(in);
    close(out);
    return n == (ssize_t)size && got == size && h == t_pattern_hash(0, size);
}

/* One O_APPEND target makes copy_file_range, sendfile and splice refuse;
 * that says nothing about the next, ordinary file pair of the ctx. */
static void test_append_refusal_not_sticky(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(50000, false, NULL);
    char path[4096];
    off_t off = 0;
    int app;

    close(t_pattern_file(0, false, path));
    app = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    t_is_int(zc_transfer(ctx, app, in, &off, 50000, ZC_AUTO), 50000,
             "auto -> O_APPEND file: readwrite serves it");
    zc_ctx_stats_reset(ctx);
    t_ok(copy_file_pair(ctx, 100000), "next file pair byte-exact");
    t_is_int(stats(ctx).method[ZC_COPY_FILE_RANGE].bytes, 100000,
             "an O_APPEND target does not disable copy_file_range for other files");
    close(app);
    close(in);
    zc_ctx_free(ctx);
}

/* A write-sealed memfd refuses every method with EPERM: that is the target,
 * not a seccomp filter, and must not kill zero-copy for the whole ctx. */
static void test_eperm_target_not_sticky(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(20000, false, NULL);
    int sealed = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    struct t_out o;
    uint64_t bytes, hash;
    off_t off = 0;
    ssize_t n;

    if (sealed < 0 || fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE) < 0) {
        t_ok(1, "write-sealed memfd # SKIP no sealing here");
        goto out;
    }
    t_is_int(zc_transfer(ctx, sealed, in, &off, 20000, ZC_AUTO), -EPERM,
             "auto -> write-sealed memfd: -EPERM");
    t_is_int(off, 0, "nothing moved");
    zc_ctx_stats_reset(ctx);
    t_ok(copy_file_pair(ctx, 30000), "next file pair byte-exact");
    t_is_int(stats(ctx).method[ZC_COPY_FILE_RANGE].bytes, 30000,
             "copy_file_range still serves file -> file");
    t_out_open(&o, T_OUT_TCP, false, 0, 0);
    off = 0;
    n = zc_transfer(ctx, o.fd, in, &off, 20000, ZC_AUTO);
    t_out_close(&o, &bytes, &hash);
    t_ok(n == 20000 && bytes == 20000 && hash == t_pattern_hash(0, 20000),
         "file -> TCP byte-exact");
    t_is_int(stats(ctx).method[ZC_SENDFILE].bytes, 20000,
             "sendfile still serves file -> socket");
out:
    if (sealed >= 0)
        close(sealed);
    close(in);
    zc_ctx_free(ctx);
}

/* EXDEV belongs to one pair of file systems, not to every file pair. */
static void test_exdev_not_sticky(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(40000, false, NULL);
    int other = memfd_create("elsewhere", MFD_CLOEXEC);
    struct stat a, b;
    off_t off = 0;
    struct zc_stats st;

    fstat(in, &a);
    fstat(other, &b);
    if (other < 0 || a.st_dev == b.st_dev) {
        t_ok(1, "cross-filesystem pair # SKIP no second file system");
        goto out;
    }
    t_is_int(zc_transfer(ctx, other, in, &off, 40000, ZC_AUTO), 40000,
             "auto across file systems");
    st = stats(ctx);
    t_ok(st.fallback_log_len >= 1 &&
         st.fallback_log[0].from == ZC_COPY_FILE_RANGE &&
         st.fallback_log[0].error == -EXDEV,
         "copy_file_range refused with -EXDEV (logged)");
    zc_ctx_stats_reset(ctx);
    t_ok(copy_file_pair(ctx, 60000), "same-filesystem pair byte-exact");
    t_is_int(stats(ctx).method[ZC_COPY_FILE_RANGE].bytes, 60000,
             "copy_file_range serves a same-filesystem pair after an EXDEV");
out:
    if (other >= 0)
        close(other);
    close(in);
    zc_ctx_free(ctx);
}

/* In a child under a seccomp filter that answers sendfile with EPERM:
 * ZC_AUTO falls back to splice, learns sendfile is forbidden for every pair
 * (a later method succeeded, so it is the filter, not the fds), and the log
 * names the method each fallback really went to, skipping dead ones.
 * Returns a bit per failed check, or 77 when seccomp is unavailable. */
static int seccomp_sendfile_child(void)
{
    int in = t_pattern_file(10000, false, NULL), a[2], b[2], mfd, rc = 0;
    char buf[10000];
    zc_ctx *ctx;
    struct zc_stats st;
    off_t off = 0;

    if (t_forbid_syscall(__NR_sendfile, EPERM) < 0)
        return 77;
    ctx = zc_ctx_new();
    t_unix_pair(a);
    t_unix_pair(b);
    if (zc_transfer(ctx, a[0], in, &off, 10000, ZC_AUTO) != 10000 ||
        recv(a[1], buf, sizeof(buf), MSG_WAITALL) != 10000)
        rc |= 1;
    st = stats(ctx);
    if (st.fallbacks != 1 || st.fallback_log[0].from != ZC_SENDFILE ||
        st.fallback_log[0].to != ZC_SPLICE || st.fallback_log[0].error != -EPERM)
        rc |= 2;
    /* Another socket: sendfile is not even tried. */
    zc_ctx_stats_reset(ctx);
    off = 0;
    if (zc_transfer(ctx, b[0], in, &off, 10000, ZC_AUTO) != 10000 ||
        recv(b[1], buf, sizeof(buf), MSG_WAITALL) != 10000)
        rc |= 4;
    st = stats(ctx);
    if (st.fallbacks != 0 || st.method[ZC_SENDFILE].calls != 0 ||
        st.method[ZC_SPLICE].bytes != 10000)
        rc |= 8;
    /* file -> memfd: copy_file_range says EXDEV, and the next method tried
     * is splice (sendfile is dead), which is what the log must say. */
    zc_ctx_stats_reset(ctx);
    mfd = memfd_create("other-fs", MFD_CLOEXEC);
    off = 0;
    if (zc_transfer(ctx, mfd, in, &off, 10000, ZC_AUTO) != 10000)
        rc |= 16;
    st = stats(ctx);
    if (st.fallbacks != 1 || st.fallback_log[0].from != ZC_COPY_FILE_RANGE ||
        st.fallback_log[0].to != ZC_SPLICE || st.fallback_log[0].error != -EXDEV)
        rc |= 32;
    zc_ctx_free(ctx);
    return rc;
}

static void test_seccomp_eperm(void)
{
    int status = 0;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(seccomp_sendfile_child());
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        t_ok(1, "seccomp EPERM # SKIP no seccomp filter here");
        return;
    }
    t_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "seccomp forbids sendfile: auto falls back, remembers it for all pairs, "
         "logs the method really tried next (child status %d)",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The memory still works for the pair that taught it (the loop case). */
static void test_refusal_remembered_for_its_pair(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(40000, false, NULL);
    int other = memfd_create("elsewhere", MFD_CLOEXEC);
    off_t off = 0;

    t_is_int(zc_transfer(ctx, other, in, &off, 20000, ZC_AUTO), 20000, "first half");
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, other, in, &off, 20000, ZC_AUTO), 20000, "second half");
    t_is_int(stats(ctx).fallbacks, 0, "the same pair skips what it refused");
    close(other);
    close(in);
    zc_ctx_free(ctx);
}

/* eventfd (likewise signalfd, timerfd, inotify) accepts lseek but refuses
 * pread: it is a stream, and read(2) is how it is read. */
static void test_lseek_but_no_pread_source(void)
{
    static const enum zc_method ms[] = { ZC_AUTO, ZC_READWRITE, ZC_SPLICE };

    for (size_t i = 0; i < T_ARRAY_SIZE(ms); i++) {
        zc_ctx *ctx = zc_ctx_new();
        int efd = eventfd(42, EFD_CLOEXEC | EFD_NONBLOCK);
        int p[2];
        uint64_t v = 0;
        ssize_t n;

        t_pipe(p);
        t_set_nonblock(p[1], true);     /* a failure must not hang the test */
        n = zc_transfer(ctx, p[0], efd, NULL, 8, ms[i]);
        if (ms[i] == ZC_SPLICE) {
            /* splice cannot read an eventfd: a refusal, nothing consumed. */
            t_is_int(n, -EINVAL, "splice: eventfd source refused");
            n = read(efd, &v, 8);
            t_ok(n == 8 && v == 42, "splice: the counter is still there");
        } else {
            t_is_int(n, 8, "%s: eventfd source moves its 8 bytes",
                     zc_method_name(ms[i]));
            t_ok(read(p[1], &v, 8) == 8 && v == 42, "%s: the counter value arrived",
                 zc_method_name(ms[i]));
        }
        close(p[0]);
        close(p[1]);
        close(efd);
        zc_ctx_free(ctx);
    }
}

/* An O_DIRECT source read at an unaligned offset or length: pread, sendfile
 * and splice all answer EINVAL, and so would a plain read(2); the mapping
 * does not care about O_DIRECT, so ZC_AUTO still moves it. */
static void test_odirect_source_unaligned(void)
{
    static const enum t_out_kind sinks[] = { T_OUT_PIPE, T_OUT_FILE, T_OUT_NULL,
                                             T_OUT_UNIX };
    char path[4096];
    int dfd;

    close(t_pattern_file(64 * KIB, false, path));
    dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0) {
        t_ok(1, "O_DIRECT source # SKIP the test directory refuses O_DIRECT");
        return;
    }
    for (size_t i = 0; i < T_ARRAY_SIZE(sinks); i++) {
        zc_ctx *ctx = zc_ctx_new();
        struct t_out o;
        uint64_t bytes, hash;
        off_t off = 1;
        ssize_t n;

        t_out_open(&o, sinks[i], false, 0, 0);
        n = zc_transfer(ctx, o.fd, dfd, &off, 100, ZC_AUTO);
        t_out_close(&o, &bytes, &hash);
        t_ok(n == 100 && off == 101 &&
             (bytes == UINT64_MAX || (bytes == 100 && hash == t_pattern_hash(1, 100))),
             "auto: O_DIRECT source, offset 1, 100 bytes -> %s (%zd)",
             t_out_name(sinks[i]), n);
        zc_ctx_free(ctx);
    }
    close(dfd);
}

/* ZC_AUTO on odd descriptors: where read(2)/write(2) would work, it works;
 * where they would fail, it fails with their errno, not a signal or a hang. */
static void test_auto_odd_fds(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int file = t_pattern_file(5000, false, NULL);
    char path[4096];
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int fd, sp[2], out;
    off_t off;
    char buf[8192];

    close(t_pattern_file(100, false, path));
    fd = open(path, O_PATH | O_CLOEXEC);
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_AUTO), -EBADF,
             "O_PATH source: -EBADF");
    t_is_int(zc_transfer(ctx, null_fd, fd, NULL, 10, ZC_AUTO), -EBADF,
             "O_PATH source, NULL offset: -EBADF");
    off = 0;
    t_is_int(zc_transfer(ctx, fd, file, &off, 10, ZC_AUTO), -EBADF,
             "O_PATH target: -EBADF");
    close(fd);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_AUTO), -EBADF,
             "O_WRONLY source: -EBADF");
    close(fd);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    off = 0;
    t_is_int(zc_transfer(ctx, fd, file, &off, 10, ZC_AUTO), -EBADF,
             "O_RDONLY target: -EBADF");
    close(fd);
    fd = open(t_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    t_is_int(zc_transfer(ctx, null_fd, fd, NULL, 10, ZC_AUTO), -EISDIR,
             "directory source: -EISDIR");
    close(fd);
    close(null_fd);

    fd = memfd_create("src", MFD_CLOEXEC);
    if (write(fd, "memfd bytes", 11) != 11)
        abort();
    t_pipe(sp);
    off = 0;
    t_is_int(zc_transfer(ctx, sp[0], fd, &off, 100, ZC_AUTO), 11, "memfd source -> pipe");
    t_ok(read(sp[1], buf, sizeof(buf)) == 11 && memcmp(buf, "memfd bytes", 11) == 0,
         "memfd bytes arrived");
    close(fd);
    close(sp[0]);
    close(sp[1]);

    fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    out = t_pattern_file(0, false, NULL);
    t_is_int(zc_transfer(ctx, out, fd, NULL, 3000, ZC_AUTO), 3000,
             "/dev/zero, NULL offset -> file");
    {
        uint64_t got;
        static const char zeros[3000];

        t_ok(t_hash_file(out, 0, UINT64_MAX, &got) == t_hash(T_HASH_INIT, zeros, 3000) &&
             got == 3000, "3000 zero bytes arrived");
    }
    close(out);
    close(fd);

    /* Message sockets: one transfer, one message of what read(2) would see. */
    static const int types[] = { SOCK_SEQPACKET, SOCK_DGRAM };
    for (size_t i = 0; i < T_ARRAY_SIZE(types); i++) {
        const char *tn = types[i] == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_SEQPACKET";
        int dst[2];
        ssize_t n;

        if (socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sp) < 0)
            abort();
        off = 0;
        t_is_int(zc_transfer(ctx, sp[0], file, &off, 5000, ZC_AUTO), 5000,
                 "file -> AF_UNIX %s", tn);
        n = recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT);
        t_ok(n == 5000 && t_hash(T_HASH_INIT, buf, 5000) == t_pattern_hash(0, 5000),
             "%s: one message, byte-exact (%zd)", tn, n);
        if (send(sp[1], "message", 7, 0) != 7)
            abort();
        t_pipe(dst);
        /* A blocking source is read until count, as the contract says:
         * ask for the message, not more. */
        t_is_int(zc_transfer(ctx, dst[0], sp[0], NULL, 7, ZC_AUTO), 7,
                 "AF_UNIX %s source -> pipe: the message", tn);
        t_ok(read(dst[1], buf, sizeof(buf)) == 7 && memcmp(buf, "message", 7) == 0,
             "%s: message bytes arrived", tn);
        close(dst[0]);
        close(dst[1]);
        close(sp[0]);
        close(sp[1]);
    }
    close(file);
    zc_ctx_free(ctx);
}

/* A caller that blocks SIGPIPE itself (without ZC_SIGPIPE_HANDLED) must not
 * find one pending that the library raised; one it had pending before the
 * call stays its own. */
static void test_caller_blocked_sigpipe(void)
{
    static const enum zc_method ms[] = {
        ZC_AUTO, ZC_READWRITE, ZC_MMAP, ZC_SENDFILE, ZC_SPLICE, ZC_URING, ZC_DIRECT,
    };
    int in = t_pattern_file(100000, false, NULL);
    sigset_t pipe_set, old, pending;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    for (size_t i = 0; i < T_ARRAY_SIZE(ms); i++) {
        zc_ctx *ctx = zc_ctx_new();
        off_t off = 0;
        int p[2];
        ssize_t n;

        if (!available[ms[i]]) {
            t_ok(1, "%s: blocked SIGPIPE # SKIP %s", zc_method_name(ms[i]),
                 why_not[ms[i]]);
            zc_ctx_free(ctx);
            continue;
        }
        t_pipe(p);
        close(p[1]);
        n = zc_transfer(ctx, p[0], in, &off, 100000, ms[i]);
        sigpending(&pending);
        t_ok(n == -EPIPE && !sigismember(&pending, SIGPIPE),
             "%s: caller blocks SIGPIPE: -EPIPE (%zd), none left pending",
             zc_method_name(ms[i]), n);
        close(p[0]);
        zc_ctx_free(ctx);
    }

    /* The caller's own pending SIGPIPE is not the library's to take. */
    {
        zc_ctx *ctx = zc_ctx_new();
        const struct timespec zero = { 0, 0 };
        off_t off = 0;
        int p[2];

        pthread_kill(pthread_self(), SIGPIPE);
        t_pipe(p);
        close(p[1]);
        t_is_int(zc_transfer(ctx, p[0], in, &off, 100000, ZC_READWRITE), -EPIPE,
                 "with a SIGPIPE already pending: -EPIPE");
        sigpending(&pending);
        t_ok(sigismember(&pending, SIGPIPE), "the caller's pending SIGPIPE stays");
        sigtimedwait(&pipe_set, NULL, &zero);
        close(p[0]);
        zc_ctx_free(ctx);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(in);
}

/* A reader that takes @at bytes, then closes its end mid-transfer. */
struct leaving_reader {
    pthread_t thread;
    int fd;
    size_t at;
};

static void *leaving_reader_main(void *arg)
{
    struct leaving_reader *r = arg;
    char buf[4096];
    size_t got = 0;

    while (got < r->at) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(r->fd);
    return NULL;
}

struct leaving_case {
    pthread_t thread;
    enum zc_method m;
    enum t_out_kind kind;
    int in;
    ssize_t n;
    off_t off;
    bool pending;
    int maps;           /* mappings of the source left after the call */
};

/* Runs in its own thread, with SIGPIPE at its default disposition in every
 * thread of the process: a SIGPIPE that escaped would kill the test. */
static void *leaving_case_main(void *arg)
{
    struct leaving_case *c = arg;
    zc_ctx *ctx = zc_ctx_new();
    struct leaving_reader r = { .at = 16 * KIB };
    sigset_t pending;
    int fds[2];

    if (c->kind == T_OUT_PIPE)
        t_pipe(fds);
    else if (c->kind == T_OUT_UNIX)
        t_unix_pair(fds);
    else
        t_tcp_pair(fds);
    r.fd = fds[1];
    if (pthread_create(&r.thread, NULL, leaving_reader_main, &r) != 0)
        abort();
    c->off = 0;
    c->n = zc_transfer(ctx, fds[0], c->in, &c->off, 4 << 20, c->m);
    pthread_join(r.thread, NULL);
    sigpending(&pending);
    c->pending = sigismember(&pending, SIGPIPE);
    close(fds[0]);
    c->maps = t_maps_of(c->in);
    zc_ctx_free(ctx);
    return NULL;
}

/* The peer leaves after taking some bytes: a short count (bytes moved first)
 * or -EPIPE/-ECONNRESET, *offset exact, and no signal in any thread. */
static void test_reader_leaves_midway(void)
{
    static const enum t_out_kind kinds[] = { T_OUT_PIPE, T_OUT_UNIX, T_OUT_TCP };
    int in = t_pattern_file(4 << 20, false, NULL);

    for (size_t i = 0; i < T_ARRAY_SIZE(all_methods); i++) {
        for (size_t k = 0; k < T_ARRAY_SIZE(kinds); k++) {
            struct leaving_case c = { .m = all_methods[i], .kind = kinds[k], .in = in };

            if (!available[c.m] || !t_method_serves(c.m, c.kind))
                continue;
            if (pthread_create(&c.thread, NULL, leaving_case_main, &c) != 0)
                abort();
            pthread_join(c.thread, NULL);
            t_ok(((c.n > 0 && c.off == c.n && c.n < (4 << 20)) ||
                  ((c.n == -EPIPE || c.n == -ECONNRESET) && c.off == 0)) &&
                 !c.pending && c.maps == 0,
                 "%s -> %s: reader leaves midway: %zd, offset %lld, no SIGPIPE, "
                 "%d mappings left", zc_method_name(c.m), t_out_name(c.kind), c.n,
                 (long long)c.off, c.maps);
        }
    }
    close(in);
}

struct late_writer {
    pthread_t thread;
    int fd;
};

static void *late_writer_main(void *arg)
{
    struct late_writer *w = arg;
    const struct timespec pause = { 0, 20 * 1000 * 1000 };

    nanosleep(&pause, NULL);
    if (write(w->fd, "world", 5) != 5)
        abort();
    return NULL;
}

/* ZC_VERIFY_SOURCE guards page-cache pages sent by reference; a pipe's
 * bytes are consumed once and cannot be mixed, and its mtime changes with
 * every write: a stream source is never "stale". */
static void test_verify_source_stream(void)
{
    zc_ctx *ctx = zc_ctx_new();
    struct late_writer w;
    int src[2], dst[2];
    char got[10];
    ssize_t n;

    char path[4096];

    zc_ctx_set_flags(ctx, ZC_VERIFY_SOURCE);
    /* A named FIFO: unlike an anonymous pipe, its mtime moves with writes. */
    snprintf(path, sizeof(path), "%s/verify.fifo", t_tmpdir());
    if (mkfifo(path, 0600) < 0)
        abort();
    src[1] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    src[0] = open(path, O_WRONLY | O_CLOEXEC);
    if (src[1] < 0 || src[0] < 0)
        abort();
    t_set_nonblock(src[1], false);
    t_pipe(dst);
    if (write(src[0], "hello", 5) != 5)
        abort();
    w.fd = src[0];
    if (pthread_create(&w.thread, NULL, late_writer_main, &w) != 0)
        abort();
    n = zc_transfer(ctx, dst[0], src[1], NULL, 10, ZC_READWRITE);
    pthread_join(w.thread, NULL);
    t_is_int(n, 10, "pipe source written to during the call: not -ESTALE");
    t_ok(read(dst[1], got, sizeof(got)) == 10 && memcmp(got, "helloworld", 10) == 0,
         "both writes arrived");
    t_is_int(stats(ctx).stale, 0, "no stale count");
    unlink(path);
    close(src[0]);
    close(src[1]);
    close(dst[0]);
    close(dst[1]);
    zc_ctx_free(ctx);
}

/* Offsets and counts at the edges, every method on its own sink. */
static void test_edges(zc_ctx *ctx, enum zc_method m)
{
    const char *mn = zc_method_name(m);
    int in = t_pattern_file(10000, false, NULL);
    struct t_out o;
    uint64_t bytes, hash;
    off_t off;
    ssize_t a, b, c, d;

    if (!available[m]) {
        t_ok(1, "%s: edges # SKIP %s", mn, why_not[m]);
        close(in);
        return;
    }
    t_out_open(&o, home_sink(m), false, 0, 0);
    off = 20000;
    a = zc_transfer(ctx, o.fd, in, &off, 100, m);
    t_ok(a == 0 && off == 20000, "%s: offset past EOF -> 0 (%zd)", mn, a);
    off = INT64_MAX - 5;
    b = zc_transfer(ctx, o.fd, in, &off, SIZE_MAX, m);
    /* sendfile checks the offset against the file system's largest file
     * before it looks at the file's end: -EOVERFLOW, as documented. */
    t_ok((b == 0 || b == -EOVERFLOW) && off == INT64_MAX - 5,
         "%s: offset near OFF_MAX, SIZE_MAX count -> 0 or -EOVERFLOW (%zd)", mn, b);
    off = 9000;
    c = zc_transfer(ctx, o.fd, in, &off, 0, m);
    t_ok(c == 0 && off == 9000, "%s: count 0 moves nothing (%zd)", mn, c);
    d = zc_transfer(ctx, o.fd, in, &off, SIZE_MAX, m);
    t_out_close(&o, &bytes, &hash);
    t_ok(d == 1000 && off == 10000 && bytes == 1000 &&
         hash == t_pattern_hash(9000, 1000),
         "%s: SIZE_MAX count stops at EOF, byte-exact (%zd)", mn, d);
    close(in);
}

/* A range across the 4 GiB line of a sparse memfd (tmpfs: the hole costs
 * nothing), every method to its own sink: 32-bit truncation of an offset or
 * a length anywhere would move the wrong bytes. */
static void test_range_across_4g(void)
{
    const off_t four_g = (off_t)1 << 32, data_at = four_g - 32 * (off_t)KIB;
    const size_t data_len = 64 * KIB;
    int src = memfd_create("sparse", MFD_CLOEXEC);
    char *data = malloc(data_len);

    if (src < 0 || ftruncate(src, four_g + (off_t)data_len) < 0) {
        t_ok(1, "range across 4 GiB # SKIP no sparse memfd");
        goto out;
    }
    for (size_t i = 0; i < data_len; i++)
        data[i] = (char)(i * 13 + (i >> 9));
    if (pwrite(src, data, data_len, data_at) != (ssize_t)data_len)
        abort();
    for (size_t i = 0; i < T_ARRAY_SIZE(all_methods); i++) {
        enum zc_method m = all_methods[i];
        zc_ctx *ctx;
        off_t off = four_g - 3000;
        uint64_t want = t_hash(T_HASH_INIT, data + (off - data_at), 6000);
        uint64_t bytes, hash;
        ssize_t n;

        if (!available[m]) {
            t_ok(1, "%s: range across 4 GiB # SKIP %s", zc_method_name(m), why_not[m]);
            continue;
        }
        ctx = zc_ctx_new();
        if (m == ZC_COPY_FILE_RANGE) {
            /* Same file system as the source: another memfd. */
            int out = memfd_create("out", MFD_CLOEXEC);

            n = zc_transfer(ctx, out, src, &off, 6000, m);
            hash = t_hash_file(out, 0, UINT64_MAX, &bytes);
            close(out);
        } else {
            struct t_out o;

            t_out_open(&o, home_sink(m), false, 0, 0);
            n = zc_transfer(ctx, o.fd, src, &off, 6000, m);
            t_out_close(&o, &bytes, &hash);
        }
        if (m == ZC_DIRECT && n == -EINVAL) {
            t_ok(1, "direct: range across 4 GiB # SKIP tmpfs refuses O_DIRECT here");
        } else {
            t_ok(n == 6000 && off == four_g + 3000 && bytes == 6000 && hash == want,
                 "%s: 6000 bytes across 4 GiB, byte-exact (%zd)", zc_method_name(m), n);
        }
        zc_ctx_free(ctx);
    }
out:
    free(data);
    if (src >= 0)
        close(src);
}

/* Two threads, each with its own ctx, run every method at once: the library
 * keeps no mutable state outside the ctx. */
struct worker {
    pthread_t thread;
    enum zc_method m;
    int in[6];
    size_t size[6];
    uint64_t want[6];
    int failures;
    char what[128];
};

/* The test helpers that make files and hashes share static buffers: the
 * sources and their hashes are made before the threads start, and sinks
 * are opened and measured under a lock. The transfers themselves overlap. */
static pthread_mutex_t helpers_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    zc_ctx *ctx = zc_ctx_new();

    if (!ctx) {
        w->failures++;
        return NULL;
    }
    for (int round = 0; round < 6; round++) {
        struct t_out o;
        uint64_t bytes, hash;
        off_t off = 0;
        ssize_t n;

        pthread_mutex_lock(&helpers_lock);
        t_out_open(&o, home_sink(w->m), round & 1, 0, round & 1 ? 50 : 0);
        pthread_mutex_unlock(&helpers_lock);
        n = t_transfer_all(ctx, o.fd, w->in[round], &off, w->size[round], w->m,
                           NULL, NULL);
        pthread_mutex_lock(&helpers_lock);
        t_out_close(&o, &bytes, &hash);
        pthread_mutex_unlock(&helpers_lock);
        if (n != (ssize_t)w->size[round] || bytes != w->size[round] ||
            hash != w->want[round]) {
            snprintf(w->what, sizeof(w->what), "round %d: n=%zd bytes=%llu",
                     round, n, (unsigned long long)bytes);
            w->failures++;
        }
    }
    zc_ctx_free(ctx);
    return NULL;
}

static void test_two_threads(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(all_methods); i++) {
        enum zc_method m = all_methods[i];
        struct worker w[2];

        if (!available[m]) {
            t_ok(1, "%s: two threads # SKIP %s", zc_method_name(m), why_not[m]);
            continue;
        }
        for (int k = 0; k < 2; k++) {
            w[k] = (struct worker){ .m = m };
            for (int r = 0; r < 6; r++) {
                w[k].size[r] = 65537 + (size_t)r * 4099 + (size_t)k * 13;
                w[k].in[r] = t_pattern_file(w[k].size[r], false, NULL);
                w[k].want[r] = t_pattern_hash(0, w[k].size[r]);
            }
        }
        for (int k = 0; k < 2; k++)
            if (pthread_create(&w[k].thread, NULL, worker_main, &w[k]) != 0)
                abort();
        for (int k = 0; k < 2; k++) {
            pthread_join(w[k].thread, NULL);
            for (int r = 0; r < 6; r++)
                close(w[k].in[r]);
        }
        t_ok(w[0].failures == 0 && w[1].failures == 0,
             "%s: two threads, two ctxs, concurrently byte-exact", zc_method_name(m));
        for (int k = 0; k < 2; k++)
            if (w[k].failures)
                t_diag("thread %d: %s", k, w[k].what);
    }
}

/* What the server does per response: 4 KiB by sendfile, SIGPIPE handled,
 * explicit offset, to a TCP socket. One syscall, nothing else. */
static void test_hot_path(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(4096, false, NULL);
    struct t_out o;
    uint64_t bytes, hash;
    off_t off = 0;
    struct zc_stats st;
    ssize_t n;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_out_open(&o, T_OUT_TCP, true, 0, 0);
    n = zc_transfer(ctx, o.fd, in, &off, 4096, ZC_SENDFILE);
    st = stats(ctx);
    t_out_close(&o, &bytes, &hash);
    t_ok(n == 4096 && bytes == 4096 && hash == t_pattern_hash(0, 4096),
         "4 KiB sendfile to a non-blocking TCP socket");
    t_is_int(st.syscalls, 1, "exactly one syscall");
    close(in);
    zc_ctx_free(ctx);
}

/* readwrite keeps the bytes a stream sink refused in the ctx buffer. A call
 * for a file pair in between must not read over them: when the stream
 * resumes, what arrives is the stream's bytes, in order. */
static void test_held_stream_bytes_survive_file_pair(void)
{
    zc_ctx *ctx = zc_ctx_new();
    const size_t total = 48 * KIB;
    int src[2], dst[2], file = t_pattern_file(200 * KIB, false, NULL);
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *in = malloc(total), *got = malloc(total);
    size_t sent = 0, rcvd = 0;
    off_t off = 0;
    ssize_t n;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    for (size_t i = 0; i < total; i++)
        in[i] = (char)(i * 31 + (i >> 8));
    t_pipe(src);
    if (write(src[0], in, total) != (ssize_t)total)
        abort();
    close(src[0]);
    t_unix_pair(dst);
    t_set_sndbuf(dst[0], 4096);
    t_set_nonblock(dst[0], true);
    t_set_nonblock(dst[1], true);

    n = zc_transfer(ctx, dst[0], src[1], NULL, total, ZC_READWRITE);
    t_ok(n > 0 && (size_t)n < total, "stream -> full socket: short count (%zd)", n);
    sent = n > 0 ? (size_t)n : 0;
    /* Another pair, a file, through the same ctx and method. */
    t_is_int(zc_transfer(ctx, null_fd, file, &off, 200 * KIB, ZC_READWRITE),
             200 * KIB, "a file pair in between");
    /* Resume the stream, draining the sink as we go. */
    for (int round = 0; round < 10000 && rcvd < total; round++) {
        ssize_t r = read(dst[1], got + rcvd, total - rcvd);

        if (r > 0)
            rcvd += (size_t)r;
        if (sent < total) {
            n = zc_transfer(ctx, dst[0], src[1], NULL, total - sent, ZC_READWRITE);
            if (n > 0)
                sent += (size_t)n;
            else if (n != -EAGAIN)
                break;
        }
    }
    t_ok(sent == total && rcvd == total && memcmp(in, got, total) == 0,
         "the stream arrives byte-exact after the file pair (sent %zu, got %zu)",
         sent, rcvd);
    free(in);
    free(got);
    close(src[1]);
    close(dst[0]);
    close(dst[1]);
    close(file);
    close(null_fd);
    zc_ctx_free(ctx);
}

/* ZC_AUTO fstats both fds; the method it runs must not ask again, and a
 * stream source needs no lseek. Steady state (ctx pipe made), SIGPIPE
 * handled, 4 KiB per call: 2 fstat + the splices (+ 1 F_GETFL into a file,
 * which must not be O_APPEND before a socket's bytes are consumed). */
static void test_auto_stream_syscalls(void)
{
    static const struct {
        const char *what;
        bool to_file;
        bool from_pipe;
        uint64_t want;
    } cases[] = {
        { "socket -> socket", false, false, 4 },
        { "socket -> file", true, false, 5 },
        { "pipe -> file", true, true, 3 },
    };

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        zc_ctx *ctx = zc_ctx_new();
        int src[2], dst[2] = { -1, -1 }, out;
        uint64_t before, got;
        char buf[4096];
        ssize_t n1, n2;

        zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
        if (cases[i].from_pipe)
            t_pipe(src);
        else
            t_unix_pair(src);
        if (cases[i].to_file) {
            out = t_pattern_file(0, false, NULL);
        } else {
            t_unix_pair(dst);
            out = dst[0];
        }
        t_fill_pattern(buf, sizeof(buf), 0);
        if (write(src[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            abort();
        n1 = zc_transfer(ctx, out, src[1], NULL, sizeof(buf), ZC_AUTO);
        t_fill_pattern(buf, sizeof(buf), 4096);
        if (write(src[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            abort();
        before = stats(ctx).syscalls;
        n2 = zc_transfer(ctx, out, src[1], NULL, sizeof(buf), ZC_AUTO);
        got = stats(ctx).syscalls - before;
        t_ok(n1 == 4096 && n2 == 4096, "auto %s: 2 x 4 KiB", cases[i].what);
        t_is_int(got, cases[i].want, "auto %s: %llu syscalls per call",
                 cases[i].what, (unsigned long long)cases[i].want);
        if (cases[i].to_file) {
            uint64_t len, h = t_hash_file(out, 0, UINT64_MAX, &len);

            t_ok(len == 8192 && h == t_pattern_hash(0, 8192), "auto %s: byte-exact",
                 cases[i].what);
            close(out);
        } else {
            char back[8192];

            t_ok(read(dst[1], back, sizeof(back)) == 8192 &&
                 t_hash(T_HASH_INIT, back, 8192) == t_pattern_hash(0, 8192),
                 "auto %s: byte-exact", cases[i].what);
            close(dst[0]);
            close(dst[1]);
        }
        close(src[0]);
        close(src[1]);
        zc_ctx_free(ctx);
    }
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx = zc_ctx_new();

    if (!ctx)
        abort();
    for (size_t i = 0; i < T_ARRAY_SIZE(all_methods); i++)
        available[all_methods[i]] =
            t_method_available(ctx, all_methods[i], &why_not[all_methods[i]]);

    test_append_refusal_not_sticky();
    test_eperm_target_not_sticky();
    test_exdev_not_sticky();
    test_refusal_remembered_for_its_pair();
    test_seccomp_eperm();
    test_lseek_but_no_pread_source();
    test_odirect_source_unaligned();
    test_auto_odd_fds();
    test_caller_blocked_sigpipe();
    test_verify_source_stream();
    test_reader_leaves_midway();
    for (size_t i = 0; i < T_ARRAY_SIZE(all_methods); i++)
        test_edges(ctx, all_methods[i]);
    test_range_across_4g();
    test_two_threads();
    test_hot_path();
    test_auto_stream_syscalls();
    test_held_stream_bytes_survive_file_pair();

    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
