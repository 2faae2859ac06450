/* test_method_cfr.c - the copy_file_range method's traps: exact syscall
 * counts, EOF versus "0 on the first call", refusals for non-file targets,
 * O_APPEND (EBADF from the kernel) refused but a read-only out_fd still
 * -EBADF, non-file sources refused without a syscall, a cross-filesystem
 * pair refused with EXDEV and served by ZC_AUTO's next method.
 *
 * Not tested: a 0 from the first call for bytes that exist (procfs before
 * Linux 5.19, some overlayfs setups). On 6.x a pseudo-filesystem source meets
 * EXDEV first and no writable same-filesystem pair reproduces it without
 * mounting; the method checks st_size against the offset instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "xferutil.h"
#include "zcopy.h"

#define MIB ((size_t)1 << 20)

static zc_ctx *ctx;

static struct zc_stats stats(void)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    return st;
}

static void test_file_to_file(void)
{
    const size_t size = 3 * MIB + 1;
    int in = t_pattern_file(size, false, NULL);
    int out = t_pattern_file(0, false, NULL);
    off_t off = 0;
    uint64_t got;

    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, out, in, &off, size, ZC_COPY_FILE_RANGE),
             (long long)size, "file -> file");
    t_is_int(off, (long long)size, "offset exact");
    t_is_int(stats().method[ZC_COPY_FILE_RANGE].syscalls, 1, "one copy_file_range");
    t_ok(t_hash_file(out, 0, UINT64_MAX, &got) == t_pattern_hash(0, size) &&
         got == size, "byte-exact");
    t_is_int(lseek(out, 0, SEEK_CUR), (long long)size, "out position advanced");

    if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
        abort();
    zc_ctx_stats_reset(ctx);
    off = 0;
    t_is_int(zc_transfer(ctx, out, in, &off, 2 * size, ZC_COPY_FILE_RANGE),
             (long long)size, "count past EOF stops at EOF");
    t_is_int(stats().method[ZC_COPY_FILE_RANGE].syscalls, 2,
             "short copy + the 0 that ends it, no fstat after progress");

    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, out, in, &off, 100, ZC_COPY_FILE_RANGE), 0,
             "at EOF: 0, not a refusal");
    t_is_int(stats().method[ZC_COPY_FILE_RANGE].syscalls, 2,
             "copy_file_range said 0 first: one fstat to tell EOF from refusal");
    t_is_int(stats().method[ZC_COPY_FILE_RANGE].refused, 0, "nothing refused");
    close(in);
    close(out);
}

static void test_non_file_targets(void)
{
    int in = t_pattern_file(4096, false, NULL);
    int s[2], p[2], null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    off_t off = 0;

    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_tcp_pair(s);
    t_is_int(zc_transfer(ctx, s[0], in, &off, 4096, ZC_COPY_FILE_RANGE), -EINVAL,
             "socket target: -EINVAL");
    t_is_int(stats().syscalls, 1, "the kernel's answer, one syscall");
    t_pipe(p);
    t_is_int(zc_transfer(ctx, p[0], in, &off, 4096, ZC_COPY_FILE_RANGE), -EINVAL,
             "pipe target: -EINVAL");
    t_is_int(zc_transfer(ctx, null_fd, in, &off, 4096, ZC_COPY_FILE_RANGE), -EINVAL,
             "/dev/null target: -EINVAL");
    t_is_int(off, 0, "offset unchanged");

    /* a pipe as the source: not seekable, refused before any syscall */
    if (write(p[0], "x", 1) != 1)
        abort();
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, null_fd, p[1], NULL, 1, ZC_COPY_FILE_RANGE), -EINVAL,
             "pipe source: -EINVAL");
    t_is_int(stats().method[ZC_COPY_FILE_RANGE].syscalls, 1,
             "only the dispatcher's lseek probe");
    zc_ctx_set_flags(ctx, 0);
    close(s[0]);
    close(s[1]);
    close(p[0]);
    close(p[1]);
    close(null_fd);
    close(in);
}

static void test_append_and_rdonly(void)
{
    int in = t_pattern_file(4096, false, NULL);
    char path[4096];
    int app, ro;
    off_t off = 0;

    close(t_pattern_file(0, false, path));
    app = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    ro = open(path, O_RDONLY | O_CLOEXEC);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, app, in, &off, 4096, ZC_COPY_FILE_RANGE), -EINVAL,
             "O_APPEND out_fd: EBADF from the kernel becomes a refusal");
    t_is_int(stats().syscalls, 2, "copy_file_range + F_GETFL");
    t_is_int(zc_transfer(ctx, ro, in, &off, 4096, ZC_COPY_FILE_RANGE), -EBADF,
             "read-only out_fd stays -EBADF");
    t_is_int(off, 0, "offset unchanged");
    zc_ctx_set_flags(ctx, 0);
    close(app);
    close(ro);
    close(in);
}

/* /dev/shm is tmpfs and the test directory is usually not: copy_file_range
 * across two filesystems that do not share a driver answers EXDEV. */
static void test_cross_filesystem(void)
{
    char shm_path[] = "/dev/shm/zctest-cfr.XXXXXX";
    int in = t_pattern_file(100000, false, NULL);
    int out = mkstemp(shm_path);
    struct stat a, b;
    struct zc_stats st;
    off_t off = 0;
    uint64_t got;
    ssize_t n;

    if (out >= 0)
        unlink(shm_path);
    if (out < 0 || fstat(in, &a) < 0 || fstat(out, &b) < 0 || a.st_dev == b.st_dev) {
        t_ok(1, "cross-filesystem pair refused with -EXDEV # SKIP no second "
                "filesystem (/dev/shm) here");
        goto out;
    }
    n = zc_transfer(ctx, out, in, &off, 100000, ZC_COPY_FILE_RANGE);
    if (n == 100000) {
        t_ok(1, "cross-filesystem pair refused with -EXDEV # SKIP this kernel "
                "copies across these filesystems");
        goto out;
    }
    t_is_int(n, -EXDEV, "cross-filesystem pair refused with -EXDEV");
    t_is_int(off, 0, "offset unchanged");

    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, out, in, &off, 100000, ZC_AUTO), 100000,
             "ZC_AUTO falls back and moves it");
    st = stats();
    t_ok(st.fallback_log_len >= 1 && st.fallback_log[0].from == ZC_COPY_FILE_RANGE &&
         st.fallback_log[0].error == -EXDEV, "the fallback is logged with -EXDEV");
    t_ok(t_hash_file(out, 0, UINT64_MAX, &got) == t_pattern_hash(0, 100000) &&
         got == 100000, "byte-exact");
out:
    if (out >= 0)
        close(out);
    close(in);
}

int main(void)
{
    int fds_before = t_count_fds();

    ctx = zc_ctx_new();
    if (!ctx)
        abort();
    test_file_to_file();
    test_non_file_targets();
    test_append_and_rdonly();
    test_cross_filesystem();
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
