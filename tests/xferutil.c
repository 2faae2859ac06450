/* xferutil.c - see xferutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xferutil.h"

/* Small enough that an 8 MiB transfer meets -EAGAIN over a hundred times
 * (the kernel doubles it). Much smaller stalls loopback TCP: segments below
 * the MSS wait for the receiver's delayed ACK, 40 ms per EAGAIN. */
#define SMALL_SNDBUF 65536

static const char *const out_names[T_OUT_COUNT] = {
    [T_OUT_TCP] = "tcp", [T_OUT_UNIX] = "unix", [T_OUT_PIPE] = "pipe",
    [T_OUT_FILE] = "file", [T_OUT_NULL] = "devnull",
};

/* Source: a regular file, for every row. */
static const bool serves[ZC_METHOD_COUNT][T_OUT_COUNT] = {
    /*                      tcp unix pipe file null */
    [ZC_AUTO]            = { 1,  1,   1,   1,   1 },
    [ZC_READWRITE]       = { 1,  1,   1,   1,   1 },
    [ZC_MMAP]            = { 1,  1,   1,   1,   1 },
    [ZC_SENDFILE]        = { 1,  1,   1,   1,   1 },
    [ZC_SPLICE]          = { 1,  1,   1,   1,   1 },
    [ZC_COPY_FILE_RANGE] = { 0,  0,   0,   1,   0 },
    [ZC_MSG_ZEROCOPY]    = { 1,  0,   0,   0,   0 },
    [ZC_URING]           = { 1,  1,   1,   0,   0 },
    [ZC_DIRECT]          = { 1,  1,   1,   1,   1 },
};

bool t_method_serves(enum zc_method m, enum t_out_kind kind)
{
    return (unsigned)m < ZC_METHOD_COUNT && kind < T_OUT_COUNT && serves[m][kind];
}

const char *t_out_name(enum t_out_kind kind)
{
    return kind < T_OUT_COUNT ? out_names[kind] : "?";
}

void t_out_open(struct t_out *o, enum t_out_kind kind, bool nonblock,
                size_t chunk, unsigned delay_us)
{
    int fds[2];

    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->peer = -1;
    switch (kind) {
    case T_OUT_TCP:
    case T_OUT_UNIX:
        if (kind == T_OUT_TCP)
            t_tcp_pair(fds);
        else
            t_unix_pair(fds);
        if (nonblock)
            t_set_sndbuf(fds[0], SMALL_SNDBUF);
        break;
    case T_OUT_PIPE:
        t_pipe(fds);
        break;
    case T_OUT_FILE:
        fds[0] = t_pattern_file(0, false, NULL);
        fds[1] = -1;
        break;
    case T_OUT_NULL:
    default:
        fds[0] = open("/dev/null", O_WRONLY | O_CLOEXEC);
        fds[1] = -1;
        if (fds[0] < 0)
            abort();
        break;
    }
    o->fd = fds[0];
    o->peer = fds[1];
    if (nonblock)
        t_set_nonblock(o->fd, true);
    if (o->peer >= 0) {
        t_sink_start(&o->sink, o->peer, chunk, delay_us);
        o->has_sink = true;
    }
}

void t_out_close(struct t_out *o, uint64_t *bytes, uint64_t *hash)
{
    *bytes = UINT64_MAX;
    *hash = 0;
    if (o->kind == T_OUT_FILE)
        *hash = t_hash_file(o->fd, 0, UINT64_MAX, bytes);
    close(o->fd);
    o->fd = -1;
    if (o->has_sink) {
        t_sink_join(&o->sink);
        *bytes = o->sink.bytes;
        *hash = o->sink.hash;
        o->has_sink = false;
    }
    if (o->peer >= 0)
        close(o->peer);
    o->peer = -1;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ssize_t t_transfer_all(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                       size_t len, enum zc_method m, unsigned *eagains,
                       ssize_t *err_after)
{
    /* Bounds: a hung or spinning transfer fails the test instead of
     * stalling it; neither bound is near in a passing run. */
    const unsigned max_calls = 1u << 20;
    const double deadline = now_s() + 60;
    size_t done = 0;
    unsigned calls = 0;

    if (eagains)
        *eagains = 0;
    if (err_after)
        *err_after = 0;
    while (done < len && calls++ < max_calls && now_s() < deadline) {
        ssize_t n = zc_transfer(ctx, out_fd, in_fd, off, len - done, m);

        if (n == -EAGAIN) {
            struct pollfd p = { .fd = out_fd, .events = POLLOUT };

            if (eagains)
                (*eagains)++;
            if (poll(&p, 1, 5000) <= 0)
                return done ? (ssize_t)done : -ETIMEDOUT;
            continue;
        }
        if (n < 0) {
            if (done && err_after)
                *err_after = n;
            return done ? (ssize_t)done : n;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

uint64_t t_pattern_hash(uint64_t off, uint64_t len)
{
    static uint8_t buf[1 << 16];
    uint64_t h = T_HASH_INIT;

    while (len) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

        t_fill_pattern(buf, n, off);
        h = t_hash(h, buf, n);
        off += n;
        len -= n;
    }
    return h;
}

/* O_DIRECT needs filesystem support; tmpfs, for one, refuses it. */
static bool tmpdir_takes_odirect(void)
{
    char path[4096];
    int fd, dfd;

    fd = t_pattern_file(4096, false, path);
    close(fd);
    dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0)
        return false;
    close(dfd);
    return true;
}

bool t_method_available(zc_ctx *ctx, enum zc_method m, const char **why)
{
    enum t_out_kind home = T_OUT_NULL;
    struct t_out o;
    uint64_t bytes, hash;
    off_t off = 0;
    ssize_t n;
    int in;

    *why = NULL;
    if (m == ZC_COPY_FILE_RANGE)
        home = T_OUT_FILE;
    else if (m == ZC_MSG_ZEROCOPY)
        home = T_OUT_TCP;
    else if (m == ZC_URING)
        home = T_OUT_PIPE;
    if (m == ZC_DIRECT && !tmpdir_takes_odirect()) {
        *why = "the test directory's filesystem refuses O_DIRECT";
        return false;
    }
    in = t_pattern_file(4096, false, NULL);
    t_out_open(&o, home, false, 0, 0);
    n = zc_transfer(ctx, o.fd, in, &off, 4096, m);
    t_out_close(&o, &bytes, &hash);
    close(in);
    /* Only "not here at all" skips: any other answer on the method's own
     * pair is the matrix's to judge. */
    if (n == -EOPNOTSUPP) {
        *why = "refuses its own pair with -EOPNOTSUPP (placeholder, or not built)";
        return false;
    }
    if (n == -ENOSYS) {
        *why = "the kernel lacks the syscall (-ENOSYS)";
        return false;
    }
    return true;
}
