/* test_transfer_auto.c - ZC_AUTO: the method it picks per fd pair, that it
 * never fails where readwrite succeeds, that a refusal is logged once with
 * its errno and not retried, and ZC_VERIFY_SOURCE's -ESTALE when the source
 * changes under a transfer (and not when it does not). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

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

enum src_kind { SRC_FILE, SRC_PIPE, SRC_SOCKET };

/* A source of @size pattern bytes: a file, or a pipe/socket fed by a thread. */
struct src {
    enum src_kind kind;
    int fd, feed;
    bool fed;
    struct t_source w;
};

static void src_open(struct src *s, enum src_kind kind, size_t size)
{
    int fds[2];

    s->kind = kind;
    s->fed = false;
    s->feed = -1;
    if (kind == SRC_FILE) {
        s->fd = t_pattern_file(size, false, NULL);
        return;
    }
    if (kind == SRC_PIPE) {
        t_pipe(fds);
    } else {
        t_unix_pair(fds);   /* fds[0] fed by the thread, fds[1] read here */
    }
    s->fd = fds[1];
    t_source_start(&s->w, fds[0], size);
    s->fed = true;
}

static void src_close(struct src *s)
{
    if (s->fed)
        t_source_join(&s->w);
    close(s->fd);
}

static const char *const src_names[] = { "file", "pipe", "socket" };

static void test_choice(void)
{
    static const struct {
        enum src_kind src;
        enum t_out_kind out;
        enum zc_method want;
    } cases[] = {
        { SRC_FILE, T_OUT_TCP, ZC_SENDFILE },
        { SRC_FILE, T_OUT_UNIX, ZC_SENDFILE },
        { SRC_FILE, T_OUT_FILE, ZC_COPY_FILE_RANGE },
        { SRC_FILE, T_OUT_PIPE, ZC_SPLICE },
        { SRC_FILE, T_OUT_NULL, ZC_SENDFILE },
        { SRC_PIPE, T_OUT_FILE, ZC_SPLICE },
        { SRC_PIPE, T_OUT_TCP, ZC_SPLICE },
        { SRC_PIPE, T_OUT_PIPE, ZC_SPLICE },
        { SRC_SOCKET, T_OUT_FILE, ZC_SPLICE },
        { SRC_SOCKET, T_OUT_TCP, ZC_SPLICE },
        { SRC_SOCKET, T_OUT_PIPE, ZC_SPLICE },
    };
    const size_t size = MIB + 3;

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        zc_ctx *ctx = zc_ctx_new();
        enum zc_method chosen = ZC_AUTO;
        struct src s;
        struct t_out o;
        uint64_t bytes, hash;
        off_t off = 0;
        ssize_t n;
        struct zc_stats st;

        src_open(&s, cases[i].src, size);
        t_out_open(&o, cases[i].out, false, 0, 0);
        zc_method_choose(ctx, o.fd, s.fd, &chosen);
        n = zc_transfer(ctx, o.fd, s.fd, cases[i].src == SRC_FILE ? &off : NULL,
                        size, ZC_AUTO);
        st = stats(ctx);
        t_out_close(&o, &bytes, &hash);
        src_close(&s);
        t_ok(chosen == cases[i].want && st.method[cases[i].want].bytes == size &&
             st.fallbacks == 0,
             "auto %s -> %s picks %s", src_names[cases[i].src],
             t_out_name(cases[i].out), zc_method_name(cases[i].want));
        t_ok(n == (ssize_t)size &&
             (bytes == UINT64_MAX || (bytes == size && hash == t_pattern_hash(0, size))),
             "auto %s -> %s byte-exact", src_names[cases[i].src],
             t_out_name(cases[i].out));
        if (chosen != cases[i].want)
            t_diag("chose %s", zc_method_name(chosen));
        zc_ctx_free(ctx);
    }
}

/* A raw pty (no output processing, so bytes arrive as sent). */
static bool pty_open(int *master, int *slave)
{
    struct termios tio;

    *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*master < 0)
        return false;
    if (grantpt(*master) < 0 || unlockpt(*master) < 0)
        goto fail;
    *slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0)
        goto fail;
    if (tcgetattr(*slave, &tio) < 0)
        goto fail_slave;
    cfmakeraw(&tio);
    if (tcsetattr(*slave, TCSANOW, &tio) < 0)
        goto fail_slave;
    return true;
fail_slave:
    close(*slave);
fail:
    close(*master);
    return false;
}

/* What read(2) gives for the whole of @path (a small pseudo-file). */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    ssize_t n;

    if (fd < 0)
        return 0;
    while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)n;
    close(fd);
    return got;
}

static void test_pseudo_sources(zc_ctx *ctx, enum zc_method m)
{
    static const char *const stable[] = { "/proc/version",
                                          "/sys/kernel/mm/transparent_hugepage/enabled" };
    static char want[65536], got[65536];
    const char *mn = zc_method_name(m);

    for (size_t i = 0; i < T_ARRAY_SIZE(stable); i++) {
        size_t len = slurp(stable[i], want, sizeof(want));
        int in = open(stable[i], O_RDONLY | O_CLOEXEC);
        int out = t_pattern_file(0, false, NULL);
        ssize_t n;

        if (in < 0 || len == 0) {
            t_ok(1, "%s: %s -> file # SKIP not readable here", mn, stable[i]);
            if (in >= 0)
                close(in);
            close(out);
            continue;
        }
        n = zc_transfer(ctx, out, in, NULL, sizeof(want), m);
        t_ok(n == (ssize_t)len && pread(out, got, sizeof(got), 0) == (ssize_t)len &&
             memcmp(got, want, len) == 0, "%s: %s -> file, as read(2) sees it",
             mn, stable[i]);
        close(in);
        close(out);
    }

    /* Its content changes between reads: only that something whole came. */
    int in = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    int out = t_pattern_file(0, false, NULL);
    ssize_t n = zc_transfer(ctx, out, in, NULL, sizeof(want), m);

    t_ok(n > 0 && pread(out, got, 5, 0) == 5 && memcmp(got, "Name:", 5) == 0,
         "%s: /proc/self/status -> file (%zd)", mn, n);
    close(in);
    close(out);

    static const uint8_t zeros[4096];
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int p[2];

    t_pipe(p);
    n = zc_transfer(ctx, p[0], zero, NULL, sizeof(zeros), m);
    t_ok(n == (ssize_t)sizeof(zeros) && read(p[1], got, sizeof(got)) == n &&
         memcmp(got, zeros, sizeof(zeros)) == 0, "%s: /dev/zero -> pipe", mn);
    close(zero);
    close(p[0]);
    close(p[1]);
}

/* Pairs where the zero-copy methods refuse and readwrite works: AUTO must
 * deliver the same bytes as readwrite. */
static void test_never_worse_than_readwrite(void)
{
    const size_t size = 300000;
    char path[4096];

    for (int method = 0; method < 2; method++) {
        enum zc_method m = method ? ZC_AUTO : ZC_READWRITE;
        const char *mn = zc_method_name(m);
        zc_ctx *ctx = zc_ctx_new();
        struct src s;
        int app, null_fd, master, slave;
        uint64_t got;
        off_t off;
        ssize_t n;

        /* file, pipe and socket -> O_APPEND file */
        for (int k = SRC_FILE; k <= SRC_SOCKET; k++) {
            close(t_pattern_file(0, false, path));
            app = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
            src_open(&s, (enum src_kind)k, size);
            off = 0;
            n = zc_transfer(ctx, app, s.fd, k == SRC_FILE ? &off : NULL,
                            k == SRC_FILE ? size : 2 * size, m);
            src_close(&s);
            t_ok(n == (ssize_t)size &&
                 t_hash_file(app, 0, UINT64_MAX, &got) == t_pattern_hash(0, size) &&
                 got == size, "%s: %s -> O_APPEND file", mn, src_names[k]);
            close(app);
        }

        /* socket -> /dev/null */
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        src_open(&s, SRC_SOCKET, size);
        n = zc_transfer(ctx, null_fd, s.fd, NULL, 2 * size, m);
        src_close(&s);
        t_is_int(n, (long long)size, "%s: socket -> /dev/null", mn);
        close(null_fd);

        /* file -> raw pty: a character device other than /dev/null */
        if (!pty_open(&master, &slave)) {
            t_ok(1, "%s: file -> pty # SKIP no pty here", mn);
        } else {
            struct t_sink sink;

            src_open(&s, SRC_FILE, size);
            t_sink_start(&sink, master, 4096, 0);
            off = 0;
            n = zc_transfer(ctx, slave, s.fd, &off, size, m);
            /* Closing the slave makes the master read EIO: the sink ends. */
            close(slave);
            t_sink_join(&sink);
            src_close(&s);
            t_ok(n == (ssize_t)size && sink.bytes == size &&
                 sink.hash == t_pattern_hash(0, size), "%s: file -> pty", mn);
            close(master);
        }

        /* Pseudo-files: procfs refuses sendfile and splice for some files
         * and copy_file_range across file systems (EXDEV); /dev/zero is a
         * seekable character device. */
        test_pseudo_sources(ctx, m);
        zc_ctx_free(ctx);
    }
}

/* A forced refusal (copy_file_range, sendfile and splice all refuse an
 * O_APPEND out_fd) is logged with its errno, remembered for the pair, and not
 * retried; mmap + write, which appends fine, serves it. */
static void test_refusal_logged_once(void)
{
    zc_ctx *ctx = zc_ctx_new();
    int in = t_pattern_file(100000, false, NULL);
    char path[4096];
    int app;
    off_t off = 0;
    struct zc_stats st;
    enum zc_method chosen;
    uint64_t got;

    close(t_pattern_file(0, false, path));
    app = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    t_is_int(zc_transfer(ctx, app, in, &off, 50000, ZC_AUTO), 50000,
             "auto -> O_APPEND file, first call");
    st = stats(ctx);
    t_is_int(st.fallbacks, 3, "three fallbacks: cfr, sendfile, splice");
    t_ok(st.fallback_log_len == 3 &&
         st.fallback_log[0].from == ZC_COPY_FILE_RANGE &&
         st.fallback_log[0].to == ZC_SENDFILE &&
         st.fallback_log[0].error == -EINVAL &&
         st.fallback_log[1].from == ZC_SENDFILE && st.fallback_log[1].to == ZC_SPLICE &&
         st.fallback_log[1].error == -EINVAL &&
         st.fallback_log[2].from == ZC_SPLICE && st.fallback_log[2].to == ZC_MMAP &&
         st.fallback_log[2].error == -EINVAL,
         "fallback log: cfr -> sendfile -> splice -> mmap, each -EINVAL");
    t_is_int(st.method[ZC_MMAP].bytes, 50000, "mmap moved it");

    t_is_int(zc_transfer(ctx, app, in, &off, 50000, ZC_AUTO), 50000,
             "second call");
    st = stats(ctx);
    t_is_int(st.method[ZC_COPY_FILE_RANGE].refused, 1, "cfr refused once, not retried");
    t_is_int(st.method[ZC_COPY_FILE_RANGE].calls, 1, "cfr called once");
    t_is_int(st.method[ZC_SENDFILE].refused, 1, "sendfile refused once");
    t_is_int(st.method[ZC_SPLICE].refused, 1, "splice refused once");
    t_is_int(st.fallbacks, 3, "no new fallback");
    zc_method_choose(ctx, app, in, &chosen);
    t_is_int(chosen, ZC_MMAP, "the ctx now goes straight to mmap for this pair");
    t_ok(t_hash_file(app, 0, UINT64_MAX, &got) == t_pattern_hash(0, 100000) &&
         got == 100000, "byte-exact");
    close(app);
    close(in);
    zc_ctx_free(ctx);
}

/* A reader that changes the source once it has seen @at bytes (and only then
 * reads on), so the change lands inside the transfer, never after it. */
struct meddling_reader {
    pthread_t thread;
    int fd, src;
    size_t at;
    bool append;            /* else rewrite the first bytes in place */
    uint64_t bytes;
    int meddled;
};

static void *meddling_reader_main(void *arg)
{
    struct meddling_reader *r = arg;
    static uint8_t buf[16 << 10];

    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r->bytes += (uint64_t)n;
        if (!r->meddled && r->at && r->bytes >= r->at) {
            struct stat st;
            ssize_t w = -1;

            if (fstat(r->src, &st) == 0)
                w = r->append ? pwrite(r->src, "tail", 4, st.st_size)
                              : pwrite(r->src, "HEAD", 4, 0);
            r->meddled = w == 4 ? 1 : -1;
        }
    }
    return NULL;
}

static void test_verify_source(void)
{
    static const enum zc_method methods[] = { ZC_AUTO, ZC_SENDFILE, ZC_SPLICE,
                                              ZC_READWRITE };
    static const char *const changes[] = { "untouched", "appended", "rewritten" };
    const size_t size = 4 * MIB;

    for (size_t i = 0; i < T_ARRAY_SIZE(methods); i++) {
        for (int c = 0; c < 3; c++) {
            zc_ctx *ctx = zc_ctx_new();
            int in = t_pattern_file(size, false, NULL);
            struct meddling_reader r = { .src = in, .at = c ? 256 * KIB : 0,
                                         .append = c == 1 };
            int s[2];
            off_t off = 0;
            ssize_t n;
            const char *mn = zc_method_name(methods[i]);

            zc_ctx_set_flags(ctx, ZC_VERIFY_SOURCE);
            t_unix_pair(s);
            r.fd = s[1];
            if (pthread_create(&r.thread, NULL, meddling_reader_main, &r) != 0)
                abort();
            n = zc_transfer(ctx, s[0], in, &off, size, methods[i]);
            close(s[0]);
            pthread_join(r.thread, NULL);
            close(s[1]);
            if (c == 0) {
                t_ok(n == (ssize_t)size && stats(ctx).stale == 0,
                     "%s, verify source, %s: passes (%zd)", mn, changes[c], n);
            } else {
                t_ok(r.meddled == 1 && n == -ESTALE && stats(ctx).stale == 1,
                     "%s, verify source, %s during the transfer: -ESTALE (%zd)",
                     mn, changes[c], n);
            }
            close(in);
            zc_ctx_free(ctx);
        }
    }
}

int main(void)
{
    int fds_before = t_count_fds();

    test_choice();
    test_never_worse_than_readwrite();
    test_refusal_logged_once();
    test_verify_source();
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
