/* test_method_sendfile.c - the sendfile method's traps: exact syscall counts,
 * a file that ends before count (0 is never looped on), non-file sources
 * refused, non-blocking and never-drained pipes, O_APPEND refused. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "zcopy.h"

#define MIB ((size_t)1 << 20)

static zc_ctx *ctx;

static struct zc_stats stats(void)
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

static uint64_t pattern_hash(uint64_t off, size_t len)
{
    static uint8_t buf[1 << 16];
    uint64_t h = T_HASH_INIT;

    while (len) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);

        t_fill_pattern(buf, n, off);
        h = t_hash(h, buf, n);
        off += n;
        len -= n;
    }
    return h;
}

static void test_exact_syscalls(void)
{
    int fd = t_pattern_file(100000, false, NULL);
    int null_fd = open_null();
    off_t off = 0;
    struct zc_stats st;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 100000, ZC_SENDFILE), 100000,
             "whole file to /dev/null");
    t_is_int(off, 100000, "offset advanced by the bytes moved");
    st = stats();
    t_is_int(st.method[ZC_SENDFILE].syscalls, 1, "one sendfile for 100000 bytes");
    t_is_int(st.syscalls, 1, "no other syscall");
    t_is_int(st.method[ZC_SENDFILE].bytes, 100000, "bytes billed to sendfile");

    /* count past the end: one short sendfile, one 0, never a loop on 0 */
    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 250000, ZC_SENDFILE), 100000,
             "count past EOF stops at EOF");
    t_is_int(stats().syscalls, 2, "short sendfile + the 0 that ends it");

    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_SENDFILE), 0,
             "at EOF: 0");
    t_is_int(stats().syscalls, 1, "one sendfile at EOF");

    /* NULL offset: the file position is used and advanced */
    lseek(fd, 1000, SEEK_SET);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, fd, NULL, 5000, ZC_SENDFILE), 5000,
             "NULL offset moves from the file position");
    t_is_int(lseek(fd, 0, SEEK_CUR), 6000, "file position advanced");
    t_is_int(stats().syscalls, 3, "lseek + sendfile + lseek");

    off = INT64_MAX;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_SENDFILE), -EOVERFLOW,
             "offset at the largest file offset: -EOVERFLOW");
    zc_ctx_set_flags(ctx, 0);
    close(fd);
    close(null_fd);
}

/* The source shrank after the caller sized the request (the deterministic
 * half of the truncation trap; test_transfer_faults.c races a truncating
 * thread). */
static void test_shrunk_source(void)
{
    int fd = t_pattern_file(200000, false, NULL);
    int null_fd = open_null();
    off_t off = 0;

    if (ftruncate(fd, 50000) < 0)
        abort();
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 200000, ZC_SENDFILE), 50000,
             "shrunk source: short count");
    t_is_int(off, 50000, "offset at the new end");
    t_is_int(stats().syscalls, 2, "stopped at the first 0");
    zc_ctx_set_flags(ctx, 0);
    close(fd);
    close(null_fd);
}

static void test_stream_sources_refused(void)
{
    int p[2], s[2], null_fd = open_null();
    char buf[8];

    zc_ctx_stats_reset(ctx);
    t_pipe(p);
    if (write(p[0], "abcdefgh", 8) != 8)
        abort();
    t_is_int(zc_transfer(ctx, null_fd, p[1], NULL, 8, ZC_SENDFILE), -EINVAL,
             "pipe source refused");
    t_is_int(stats().method[ZC_SENDFILE].bytes, 0, "nothing billed");
    t_is_int(read(p[1], buf, 8), 8, "the pipe's bytes are still there");
    t_is_mem(buf, 8, "abcdefgh", "untouched");

    t_unix_pair(s);
    if (write(s[1], "12345678", 8) != 8)
        abort();
    t_is_int(zc_transfer(ctx, null_fd, s[0], NULL, 8, ZC_SENDFILE), -EINVAL,
             "socket source refused");
    t_is_int(read(s[0], buf, 8), 8, "the socket's bytes are still there");
    t_is_mem(buf, 8, "12345678", "untouched");
    close(p[0]);
    close(p[1]);
    close(s[0]);
    close(s[1]);
    close(null_fd);
}

static void test_nonblocking_pipe(void)
{
    int fd = t_pattern_file(MIB, false, NULL);
    int p[2];
    off_t off = 0;
    static uint8_t buf[1 << 16], want[1 << 16];
    ssize_t n;

    t_pipe(p);
    if (fcntl(p[0], F_SETPIPE_SZ, 65536) != 65536)
        abort();
    t_set_nonblock(p[0], true);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, p[0], fd, &off, MIB, ZC_SENDFILE), 65536,
             "non-blocking pipe: what fits");
    t_is_int(off, 65536, "offset counts what the pipe took");
    t_is_int(stats().syscalls, 2, "one sendfile that moved, one EAGAIN");
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, p[0], fd, &off, MIB - 65536, ZC_SENDFILE), -EAGAIN,
             "full pipe: -EAGAIN");
    t_is_int(off, 65536, "offset unchanged by -EAGAIN");
    t_is_int(stats().syscalls, 1, "one sendfile, no spinning");

    n = read(p[1], buf, sizeof(buf));
    t_fill_pattern(want, sizeof(want), 0);
    t_ok(n == 65536 && memcmp(buf, want, sizeof(want)) == 0,
         "the pipe holds the first 64 KiB");

    /* Resume to the end, reading as the reader would: bounded in calls. */
    uint64_t h = T_HASH_INIT, got = 0;
    int rounds = 0;

    h = t_hash(h, buf, (size_t)n);
    got = (uint64_t)n;
    while (got < MIB && rounds++ < 1000) {
        n = zc_transfer(ctx, p[0], fd, &off, MIB - (size_t)off, ZC_SENDFILE);
        if (n < 0 && n != -EAGAIN)
            break;
        n = read(p[1], buf, sizeof(buf));
        if (n <= 0)
            break;
        h = t_hash(h, buf, (size_t)n);
        got += (uint64_t)n;
    }
    t_is_int(got, MIB, "resumed to the end");
    t_ok(h == pattern_hash(0, MIB), "byte-exact after resumes");
    zc_ctx_set_flags(ctx, 0);
    close(fd);
    close(p[0]);
    close(p[1]);
}

/* A blocking pipe read slowly: sendfile blocks like write(2) instead of
 * spinning; at most one call per page is possible. */
static void test_blocking_pipe_no_spin(void)
{
    int fd = t_pattern_file(MIB, false, NULL);
    int p[2];
    off_t off = 0;
    struct t_sink sink;

    t_pipe(p);
    if (fcntl(p[0], F_SETPIPE_SZ, 65536) != 65536)
        abort();
    t_sink_start(&sink, p[1], 16384, 200);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, p[0], fd, &off, MIB, ZC_SENDFILE), (long long)MIB,
             "blocking pipe: all of it");
    t_ok(stats().method[ZC_SENDFILE].syscalls <= MIB / 4096,
         "blocked rather than spun (%llu sendfile calls)",
         (unsigned long long)stats().method[ZC_SENDFILE].syscalls);
    close(p[0]);
    t_sink_join(&sink);
    t_is_int(sink.bytes, MIB, "reader got all of it");
    t_ok(sink.hash == pattern_hash(0, MIB), "byte-exact");
    close(p[1]);
    close(fd);
}

static void test_to_file_and_append(void)
{
    size_t size = 3 * MIB + 1;
    int in = t_pattern_file(size, false, NULL);
    int out = t_pattern_file(0, false, NULL);
    char path[4096];
    int app = t_pattern_file(0, false, path);
    off_t off = 0;
    uint64_t got;

    t_is_int(zc_transfer(ctx, out, in, &off, size, ZC_SENDFILE), (long long)size,
             "file -> file");
    t_ok(t_hash_file(out, 0, size + 1, &got) == pattern_hash(0, size) && got == size,
         "file -> file byte-exact");
    t_is_int(lseek(out, 0, SEEK_CUR), (long long)size, "out position advanced");

    close(app);
    app = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    off = 0;
    t_is_int(zc_transfer(ctx, app, in, &off, 100, ZC_SENDFILE), -EINVAL,
             "O_APPEND out_fd refused");
    t_is_int(off, 0, "offset unchanged by the refusal");
    close(app);
    close(in);
    close(out);
}

int main(void)
{
    int fds_before = t_count_fds();

    ctx = zc_ctx_new();
    if (!ctx)
        abort();
    test_exact_syscalls();
    test_shrunk_source();
    test_stream_sources_refused();
    test_nonblocking_pipe();
    test_blocking_pipe_no_spin();
    test_to_file_and_append();
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
