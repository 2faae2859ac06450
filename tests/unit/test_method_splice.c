/* test_method_splice.c - the splice method's traps: the ctx pipe (lazy,
 * sized best effort, exact syscall counts), a pipe on either side spliced
 * directly, bytes held in the ctx pipe when out_fd would block (flushed
 * first for the same stream, never handed to another one), pipes nobody
 * drains, stream sources (socket -> file, socket -> socket) and refusals that
 * must not consume the source. Reads ctx internals (lib/internal.h) where the
 * public API cannot show them: the pipe's size and what it holds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"
#include "testutil.h"
#include "xferutil.h"
#include "zcopy.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static struct zc_stats stats(zc_ctx *ctx)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    return st;
}

static int open_null(void)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        abort();
    return fd;
}

static void test_ctx_pipe_counts(void)
{
    const size_t size = 3 * MIB + 5;
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(size, false, NULL);
    int null_fd = open_null();
    off_t off = 0;
    size_t fills;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_is_int(ctx->pipe.fd[0], -1, "no pipe before the first use");
    t_is_int(zc_transfer(ctx, null_fd, in, &off, size, ZC_SPLICE), (long long)size,
             "file -> /dev/null through the ctx pipe");
    t_is_int(off, (long long)size, "offset exact");
    t_is_int(ctx->pipe.size, MIB, "pipe sized to the 1 MiB asked for");
    fills = (size + ctx->pipe.size - 1) / ctx->pipe.size;
    /* direct attempt (EINVAL: no pipe on either side), pipe2, F_SETPIPE_SZ,
     * then one fill and one flush per pipeful */
    t_is_int(stats(ctx).method[ZC_SPLICE].syscalls, 3 + 2 * fills,
             "syscalls: 1 probe + 2 set-up + 2 per %zu pipefuls", fills);
    t_is_int(stats(ctx).syscalls, 3 + 2 * fills, "nothing else");

    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, in, &off, size, ZC_SPLICE), (long long)size,
             "again, pipe reused");
    t_is_int(stats(ctx).syscalls, 2 * fills,
             "the same pair again: no set-up, no probe, 2 per pipeful");

    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, in, &off, 100, ZC_SPLICE), 0, "at EOF: 0");
    t_is_int(stats(ctx).syscalls, 1, "only the fill that saw EOF");

    /* Another pair (fd numbers differ): the probe again, then the pipe. */
    int null2 = open_null();

    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, null2, in, &off, size, ZC_SPLICE), (long long)size,
             "another pair");
    t_is_int(stats(ctx).syscalls, 1 + 2 * fills, "probe + 2 per pipeful");
    close(null2);

    /* The fd number the pipe last served now names a pipe: the guess that
     * skips the probe is wrong, and must still deliver. */
    int p[2];
    uint8_t buf[4096], want[4096];

    t_pipe(p);
    if (dup2(p[0], null_fd) < 0)
        abort();
    off = 1000;
    t_is_int(zc_transfer(ctx, null_fd, in, &off, 4096, ZC_SPLICE), 4096,
             "same fd numbers, now a pipe sink");
    t_fill_pattern(want, sizeof(want), 1000);
    t_ok(read(p[1], buf, sizeof(buf)) == 4096 && !memcmp(buf, want, sizeof(buf)),
         "the pipe got the right bytes");
    close(p[0]);
    close(p[1]);

    zc_ctx_free(ctx);
    close(in);
    close(null_fd);
}

static void test_pipe_size_best_effort(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(4096, false, NULL);
    int null_fd = open_null();
    int probe[2];
    off_t off = 0;
    bool capped;

    t_pipe(probe);
    capped = fcntl(probe[0], F_SETPIPE_SZ, 4 << 20) < 0 && errno == EPERM;
    close(probe[0]);
    close(probe[1]);
    if (!capped) {
        t_ok(1, "4 MiB pipe falls back to what fits # SKIP this process may "
                "exceed pipe-max-size");
        goto out;
    }
    zc_ctx_set_pipe_size(ctx, 4 << 20);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_is_int(zc_transfer(ctx, null_fd, in, &off, 4096, ZC_SPLICE), 4096,
             "transfer works with a pipe asked too large");
    t_ok(ctx->pipe.size > 0 && ctx->pipe.size < (4u << 20),
         "pipe got the largest size allowed (%zu)", ctx->pipe.size);
out:
    zc_ctx_free(ctx);
    close(in);
    close(null_fd);
}

/* file -> pipe: spliced directly, at most the pipe's capacity per call. */
static void test_file_to_nonblocking_pipe(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(MIB, false, NULL);
    int p[2];
    off_t off = 0;
    static uint8_t buf[64 << 10], want[64 << 10];

    t_pipe(p);
    if (fcntl(p[0], F_SETPIPE_SZ, 65536) != 65536)
        abort();
    t_set_nonblock(p[0], true);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    t_is_int(zc_transfer(ctx, p[0], in, &off, MIB, ZC_SPLICE), 65536,
             "file -> non-blocking pipe: one pipeful");
    t_is_int(off, 65536, "offset exact");
    t_is_int(stats(ctx).syscalls, 2, "one splice that moved, one EAGAIN");
    t_is_int(ctx->pipe.fd[0], -1, "no ctx pipe for a pipe sink");
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, p[0], in, &off, MIB, ZC_SPLICE), -EAGAIN,
             "nobody drains: -EAGAIN, no spinning");
    t_is_int(stats(ctx).syscalls, 1, "one splice");
    t_is_int(off, 65536, "offset unchanged");
    t_fill_pattern(want, sizeof(want), 0);
    t_ok(read(p[1], buf, sizeof(buf)) == 65536 && !memcmp(buf, want, sizeof(buf)),
         "the pipe holds the first pipeful");
    zc_ctx_free(ctx);
    close(in);
    close(p[0]);
    close(p[1]);
}

static void test_file_to_slow_blocking_pipe(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(MIB, false, NULL);
    struct t_out o;
    uint64_t bytes, hash;
    off_t off = 0;

    t_out_open(&o, T_OUT_PIPE, false, 16384, 200);
    t_is_int(zc_transfer(ctx, o.fd, in, &off, MIB, ZC_SPLICE), (long long)MIB,
             "file -> slowly read blocking pipe: all of it");
    t_ok(stats(ctx).method[ZC_SPLICE].syscalls <= MIB / 4096,
         "blocked rather than spun (%llu splice calls)",
         (unsigned long long)stats(ctx).method[ZC_SPLICE].syscalls);
    t_out_close(&o, &bytes, &hash);
    t_ok(bytes == MIB && hash == t_pattern_hash(0, MIB), "byte-exact");
    zc_ctx_free(ctx);
    close(in);
}

/* Read what the socket holds now, without blocking. */
static size_t drain_now(int fd, uint64_t *h, uint64_t *total)
{
    static uint8_t buf[64 << 10];
    size_t got = 0;
    ssize_t n;

    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        *h = t_hash(*h, buf, (size_t)n);
        *total += (uint64_t)n;
        got += (size_t)n;
    }
    return got;
}

/* out_fd full: bytes stay in the ctx pipe, *off counts only what the socket
 * took, and the next call for the same stream flushes them first. Another
 * stream meanwhile gets a fresh pipe, never the held bytes. */
static void test_held_bytes(void)
{
    const size_t size = 4 * MIB;
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(size, false, NULL);
    int other = t_pattern_file(0, false, NULL);
    int s[2], fds_mid;
    off_t off = 0, off2, off3;
    ssize_t n;
    uint64_t h = T_HASH_INIT, total = 0, got;
    struct t_sink sink;
    static uint8_t buf[8192], want[8192];

    t_unix_pair(s);
    t_set_sndbuf(s[0], 65536);
    t_set_nonblock(s[0], true);
    n = zc_transfer(ctx, s[0], in, &off, size, ZC_SPLICE);
    t_ok(n > 0 && (size_t)n < size, "non-blocking socket: part of it (%zd)", n);
    t_is_int(off, n, "offset counts only what the socket took");
    t_ok(ctx->pipe.bytes > 0, "the rest of the pipeful is held (%zu)",
         ctx->pipe.bytes);
    t_is_int(zc_transfer(ctx, s[0], in, &off, size - (size_t)off, ZC_SPLICE),
             -EAGAIN, "still full: -EAGAIN");
    t_is_int(off, n, "offset unchanged");

    /* Same stream after the reader made room: held bytes go first, and no
     * more of them than asked for. */
    t_is_int(drain_now(s[1], &h, &total), n, "reader got exactly the counted bytes");
    t_is_int(zc_transfer(ctx, s[0], in, &off, 4096, ZC_SPLICE), 4096,
             "a small count is served from the held bytes, no more");
    t_is_int(drain_now(s[1], &h, &total), 4096, "exactly 4096 went out");
    t_is_int(off, (long long)total, "offset exact");
    n = zc_transfer(ctx, s[0], in, &off, size - (size_t)off, ZC_SPLICE);
    t_ok(n > 0, "resumed (%zd)", n);
    t_is_int(off, (long long)total + n, "offset still exact");
    t_ok(ctx->pipe.bytes > 0, "bytes held again");
    drain_now(s[1], &h, &total);
    t_ok(total == (uint64_t)off && h == t_pattern_hash(0, total),
         "stream byte-exact across the held bytes");

    /* Same stream, but the caller skipped 4 KiB: the bytes held for the old
     * offset are not the next ones and must not appear. */
    off += 4096;
    t_is_int(zc_transfer(ctx, s[0], in, &off, sizeof(buf), ZC_SPLICE),
             (long long)sizeof(buf), "moved offset: served from the new offset");
    t_fill_pattern(want, sizeof(want), (uint64_t)off - sizeof(buf));
    t_ok(recv(s[1], buf, sizeof(buf), MSG_WAITALL) == (ssize_t)sizeof(buf) &&
         !memcmp(buf, want, sizeof(buf)), "bytes from the new offset, none held");

    /* Another stream while bytes are held: they must not leak into it. */
    off2 = off;
    n = zc_transfer(ctx, s[0], in, &off, size - (size_t)off, ZC_SPLICE);
    t_ok(n > 0 && ctx->pipe.bytes > 0, "socket full again, bytes held");
    fds_mid = t_count_fds();
    off3 = 0;
    t_is_int(zc_transfer(ctx, other, in, &off3, 100000, ZC_SPLICE), 100000,
             "another stream meanwhile");
    t_ok(t_hash_file(other, 0, UINT64_MAX, &got) == t_pattern_hash(0, 100000) &&
         got == 100000, "the other stream got its own bytes only");
    t_is_int(t_count_fds(), fds_mid, "pipe replaced, not leaked");
    h = T_HASH_INIT;
    total = 0;
    drain_now(s[1], &h, &total);
    t_ok(total == (uint64_t)n && h == t_pattern_hash((uint64_t)off2, total),
         "first stream intact so far");

    /* And to the end, with a reader: the dropped bytes are read again. */
    t_sink_start(&sink, s[1], 65536, 0);
    off2 = off;
    n = t_transfer_all(ctx, s[0], in, &off, size - (size_t)off, ZC_SPLICE, NULL, NULL);
    t_is_int(n, (long long)(size - (size_t)off2), "resumed to the end");
    close(s[0]);
    t_sink_join(&sink);
    t_ok(sink.bytes == size - (size_t)off2 &&
         sink.hash == t_pattern_hash((uint64_t)off2, sink.bytes), "byte-exact to the end");
    close(s[1]);
    zc_ctx_free(ctx);
    close(in);
    close(other);
}

static void test_stream_sources(void)
{
    const size_t size = 3 * MIB + 7;
    zc_ctx *ctx = zc_ctx_new();
    int out = t_pattern_file(0, false, NULL);
    int s[2], t[2], p[2];
    struct t_source w;
    struct t_out o;
    uint64_t got, bytes, hash;

    /* socket -> file through the ctx pipe, to the end of the stream */
    t_tcp_pair(s);
    t_source_start(&w, s[0], size);
    t_is_int(zc_transfer(ctx, out, s[1], NULL, SIZE_MAX, ZC_SPLICE), (long long)size,
             "socket -> file, count SIZE_MAX: to the end of the stream");
    t_source_join(&w);
    t_ok(t_hash_file(out, 0, UINT64_MAX, &got) == t_pattern_hash(0, size) &&
         got == size, "socket -> file byte-exact");
    t_is_int(lseek(out, 0, SEEK_CUR), (long long)size, "out position advanced");
    close(s[1]);

    /* socket -> socket */
    t_unix_pair(t);
    t_source_start(&w, t[1], size);
    t_out_open(&o, T_OUT_TCP, false, 0, 0);
    t_is_int(zc_transfer(ctx, o.fd, t[0], NULL, size, ZC_SPLICE), (long long)size,
             "socket -> socket");
    t_source_join(&w);
    t_out_close(&o, &bytes, &hash);
    t_ok(bytes == size && hash == t_pattern_hash(0, size), "socket -> socket byte-exact");
    close(t[0]);

    /* pipe -> file and pipe -> socket: direct, no ctx pipe involved */
    zc_ctx_free(ctx);
    ctx = zc_ctx_new();
    if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
        abort();
    t_pipe(p);
    t_source_start(&w, p[0], size);
    t_is_int(zc_transfer(ctx, out, p[1], NULL, SIZE_MAX, ZC_SPLICE), (long long)size,
             "pipe -> file");
    t_source_join(&w);
    t_ok(t_hash_file(out, 0, UINT64_MAX, &got) == t_pattern_hash(0, size) &&
         got == size, "pipe -> file byte-exact");
    close(p[1]);
    t_pipe(p);
    t_source_start(&w, p[0], size);
    t_out_open(&o, T_OUT_UNIX, false, 0, 0);
    t_is_int(zc_transfer(ctx, o.fd, p[1], NULL, size, ZC_SPLICE), (long long)size,
             "pipe -> socket");
    t_source_join(&w);
    t_out_close(&o, &bytes, &hash);
    t_ok(bytes == size && hash == t_pattern_hash(0, size), "pipe -> socket byte-exact");
    close(p[1]);
    t_is_int(ctx->pipe.fd[0], -1, "pipe pairs never created the ctx pipe");

    /* non-blocking socket source with nothing to read */
    t_unix_pair(s);
    t_set_nonblock(s[1], true);
    t_is_int(zc_transfer(ctx, out, s[1], NULL, 100, ZC_SPLICE), -EAGAIN,
             "empty non-blocking socket source: -EAGAIN");
    close(s[0]);
    close(s[1]);
    zc_ctx_free(ctx);
    close(out);
}

/* A stream source is consumed as it is read: a sink that cannot take
 * splice writes must be refused before anything is read. */
static void test_refusals_keep_the_source(void)
{
    zc_ctx *ctx = zc_ctx_new();
    char path[4096], buf[16];
    int app, s[2], p[2], null_fd = open_null();

    close(t_pattern_file(0, false, path));
    app = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

    t_unix_pair(s);
    if (write(s[1], "socket-bytes", 12) != 12)
        abort();
    t_is_int(zc_transfer(ctx, app, s[0], NULL, 12, ZC_SPLICE), -EINVAL,
             "socket -> O_APPEND file refused");
    t_is_int(zc_transfer(ctx, null_fd, s[0], NULL, 12, ZC_SPLICE), -EINVAL,
             "socket -> /dev/null refused (not a socket or file sink)");
    t_ok(read(s[0], buf, sizeof(buf)) == 12 && !memcmp(buf, "socket-bytes", 12),
         "the socket's bytes are all still there");

    t_pipe(p);
    if (write(p[0], "pipe-bytes", 10) != 10)
        abort();
    t_is_int(zc_transfer(ctx, app, p[1], NULL, 10, ZC_SPLICE), -EINVAL,
             "pipe -> O_APPEND file refused");
    t_ok(read(p[1], buf, sizeof(buf)) == 10 && !memcmp(buf, "pipe-bytes", 10),
         "the pipe's bytes are all still there");

    int in = t_pattern_file(5000, false, NULL);
    off_t off = 0;

    t_is_int(zc_transfer(ctx, app, in, &off, 5000, ZC_SPLICE), -EINVAL,
             "file -> O_APPEND file refused");
    t_is_int(off, 0, "offset unchanged");
    t_is_int(ctx->pipe.bytes, 0, "nothing left held");
    t_is_int(lseek(app, 0, SEEK_END), 0, "nothing written");

    close(in);
    close(s[0]);
    close(s[1]);
    close(p[0]);
    close(p[1]);
    close(app);
    close(null_fd);
    zc_ctx_free(ctx);
}

int main(void)
{
    int fds_before = t_count_fds();

    test_ctx_pipe_counts();
    test_pipe_size_best_effort();
    test_file_to_nonblocking_pipe();
    test_file_to_slow_blocking_pipe();
    test_held_bytes();
    test_stream_sources();
    test_refusals_keep_the_source();
    t_is_int(t_count_fds(), fds_before, "no fd leaked (ctx pipes closed by zc_ctx_free)");
    return t_done();
}
