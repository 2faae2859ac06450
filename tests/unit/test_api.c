/* test_api.c - the public API's argument handling, names and stats. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "zcopy.h"

static void test_names(void)
{
    for (int m = 0; m < ZC_METHOD_COUNT; m++) {
        enum zc_method back;
        const char *name = zc_method_name((enum zc_method)m);

        t_is_int(zc_method_parse(name, &back), 0, "parse(\"%s\")", name);
        t_is_int(back, m, "\"%s\" round-trips", name);
    }
    t_is_str(zc_method_name(ZC_SENDFILE), "sendfile", "ZC_SENDFILE is sendfile");
    t_is_str(zc_method_name((enum zc_method)99), "unknown", "out of range name");
    enum zc_method m = ZC_SPLICE;
    t_is_int(zc_method_parse("nonsense", &m), -EINVAL, "unknown name -EINVAL");
    t_is_int(m, ZC_SPLICE, "unknown name leaves *out alone");
    t_is_int(zc_method_parse(NULL, &m), -EINVAL, "NULL name -EINVAL");
}

/* The documented refusal set, and nothing else: a count, -EAGAIN or an I/O
 * error must never send a caller to another method. */
static void test_refusals(void)
{
    static const struct {
        ssize_t ret;
        int refused;
    } cases[] = {
        { -EINVAL, 1 }, { -ENOSYS, 1 }, { -EOPNOTSUPP, 1 }, { -EXDEV, 1 },
        { -EPERM, 1 }, { 0, 0 }, { 1, 0 }, { 4096, 0 }, { -EAGAIN, 0 },
        { -EPIPE, 0 }, { -ECONNRESET, 0 }, { -EIO, 0 }, { -ENOSPC, 0 },
        { -EBADF, 0 }, { -ESTALE, 0 }, { -EACCES, 0 }, { -ENOMEM, 0 },
        { EPERM, 0 },                   /* a count of 1, not an error */
    };

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++)
        t_is_int(zc_method_refused(cases[i].ret), cases[i].refused,
                 "zc_method_refused(%zd) is %d", cases[i].ret, cases[i].refused);
}

static void test_bad_arguments(zc_ctx *ctx)
{
    int fd = t_pattern_file(100, false, NULL);
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    off_t off = 0;

    t_is_int(zc_transfer(ctx, -1, fd, &off, 10, ZC_AUTO), -EBADF, "negative out_fd");
    t_is_int(zc_transfer(ctx, null_fd, -1, &off, 10, ZC_AUTO), -EBADF, "negative in_fd");
    t_is_int(zc_transfer(ctx, null_fd, 1000, &off, 10, ZC_AUTO), -EBADF, "closed in_fd");
    t_is_int(zc_transfer(ctx, 1000, fd, &off, 10, ZC_READWRITE), -EBADF,
             "closed out_fd, readwrite");
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, (enum zc_method)42), -EINVAL,
             "unknown method");
    t_is_int(zc_transfer(NULL, null_fd, fd, &off, 10, ZC_AUTO), -EINVAL, "NULL ctx");
    off = -1;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 10, ZC_AUTO), -EINVAL, "negative offset");
    off = 0;
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 0, ZC_AUTO), 0, "count 0 moves nothing");
    t_is_int(off, 0, "count 0 leaves the offset");
    /* in_fd open for writing only */
    int wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    t_is_int(zc_transfer(ctx, null_fd, wfd, NULL, 10, ZC_READWRITE), -EBADF,
             "write-only in_fd");
    close(wfd);
    close(fd);
    close(null_fd);
}

static void test_flags(zc_ctx *ctx)
{
    t_is_int(zc_ctx_set_flags(ctx, 1u << 20), -EINVAL, "unknown flag refused");
    t_is_int(zc_ctx_set_flags(ctx, ZC_VERIFY_SOURCE), 0, "VERIFY_SOURCE accepted");
    t_is_int(zc_ctx_flags(ctx), ZC_VERIFY_SOURCE, "flag read back");
    t_is_int(zc_ctx_set_flags(ctx, 0), 0, "flags cleared");
    t_is_int(zc_ctx_set_chunk(ctx, 0), -EINVAL, "chunk 0 refused");
    t_is_int(zc_ctx_set_chunk(ctx, 1000), 0, "chunk 1000 accepted (rounded)");
    t_is_int(zc_ctx_set_pipe_size(ctx, 0), -EINVAL, "pipe size 0 refused");
}

static void test_stats(zc_ctx *ctx)
{
    struct zc_stats st;
    int fd = t_pattern_file(10000, false, NULL);
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    off_t off = 0;

    zc_ctx_set_chunk(ctx, 4096);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, fd, &off, 20000, ZC_READWRITE), 10000,
             "readwrite to /dev/null stops at EOF");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.calls, 1, "one call");
    t_is_int(st.bytes, 10000, "bytes counted");
    t_is_int(st.method[ZC_READWRITE].bytes, 10000, "bytes billed to readwrite");
    /* ceil(10000/4096) = 3 preads + 3 writes + 1 pread seeing EOF */
    t_is_int(st.method[ZC_READWRITE].syscalls, 7, "readwrite syscalls exact");
    t_is_int(st.syscalls, 7, "no hidden syscalls with SIGPIPE_HANDLED");
    zc_ctx_set_flags(ctx, 0);
    zc_ctx_set_chunk(ctx, 256 << 10);
    close(fd);
    close(null_fd);
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx = zc_ctx_new();

    t_ok(ctx != NULL, "zc_ctx_new");
    test_names();
    test_refusals();
    test_bad_arguments(ctx);
    test_flags(ctx);
    test_stats(ctx);
    zc_ctx_free(ctx);
    zc_ctx_free(NULL);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
