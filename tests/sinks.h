/* sinks.h - the sinks a method test moves a pattern file into (TCP loopback,
 * AF_UNIX, pipe, regular file, /dev/null), a poll-driven transfer loop that
 * resumes after -EAGAIN, and the byte-exact check of what arrived.
 * Header-only (static functions) so each method test stays one file. */
#ifndef ZC_SINKS_H
#define ZC_SINKS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "zcopy.h"

enum sink_kind { SINK_TCP, SINK_UNIX, SINK_PIPE, SINK_FILE, SINK_NULL, SINK_COUNT };

static const char *const sink_names[SINK_COUNT] = {
    [SINK_TCP] = "tcp", [SINK_UNIX] = "unix", [SINK_PIPE] = "pipe",
    [SINK_FILE] = "file", [SINK_NULL] = "/dev/null",
};

struct sink {
    enum sink_kind kind;
    int out_fd;               /* what the library writes to */
    int peer_fd;              /* read end (stream sinks), -1 otherwise */
    bool reading;
    struct t_sink reader;     /* drains peer_fd in a thread */
};

/* Slow readers and small buffers make a non-blocking out_fd fill often,
 * so the transfer must resume many times with an exact offset. */
struct sink_opts {
    bool nonblock;
    int sndbuf;               /* SO_SNDBUF for socket sinks, 0: default */
    unsigned delay_us;        /* reader's sleep between reads */
    size_t read_chunk;        /* reader's bytes per read, 0: 64 KiB */
};

__attribute__((unused))
static void sink_open(struct sink *s, enum sink_kind kind, const struct sink_opts *o)
{
    int fds[2];

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->peer_fd = -1;
    switch (kind) {
    case SINK_TCP:
    case SINK_UNIX:
    case SINK_PIPE:
        if (kind == SINK_TCP)
            t_tcp_pair(fds);
        else if (kind == SINK_UNIX)
            t_unix_pair(fds);
        else
            t_pipe(fds);
        s->out_fd = fds[0];
        s->peer_fd = fds[1];
        if (o->sndbuf && kind != SINK_PIPE)
            t_set_sndbuf(s->out_fd, o->sndbuf);
        t_sink_start(&s->reader, s->peer_fd, o->read_chunk, o->delay_us);
        s->reading = true;
        break;
    case SINK_FILE: {
        char path[4096];

        snprintf(path, sizeof(path), "%s/sink.%d", t_tmpdir(), getpid());
        s->out_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        unlink(path);
        break;
    }
    case SINK_NULL:
    default:
        s->out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        break;
    }
    if (s->out_fd < 0) {
        perror("sink_open");
        abort();
    }
    if (o->nonblock)
        t_set_nonblock(s->out_fd, true);
}

/* Close the writing end, wait for the reader, and report what arrived:
 * *bytes and *hash (for /dev/null, the hash is left at T_HASH_INIT). */
__attribute__((unused))
static void sink_close(struct sink *s, uint64_t *bytes, uint64_t *hash)
{
    *bytes = 0;
    *hash = T_HASH_INIT;
    if (s->kind == SINK_FILE)
        *hash = t_hash_file(s->out_fd, 0, UINT64_MAX, bytes);
    close(s->out_fd);
    if (s->reading) {
        t_sink_join(&s->reader);
        *bytes = s->reader.bytes;
        *hash = s->reader.hash;
        close(s->peer_fd);
    }
}

static double sinks_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Move in_fd[0, ...) to out_fd until the method reports end of input,
 * resuming after -EAGAIN when poll() says out_fd is writable. Bounded in
 * calls and in time. Returns the total moved, or the first error; the
 * number of -EAGAIN answers goes to *eagains. */
__attribute__((unused))
static ssize_t sink_pump(zc_ctx *ctx, int out_fd, int in_fd, size_t want,
                         enum zc_method m, unsigned *eagains)
{
    double deadline = sinks_now() + 30;
    off_t off = 0;
    unsigned calls = 0;

    *eagains = 0;
    while (calls++ < 1000000 && sinks_now() < deadline) {
        /* Ask past the end: the method must stop at end of file. */
        ssize_t n = zc_transfer(ctx, out_fd, in_fd, &off,
                                want - (size_t)off + 100, m);

        if (n == -EAGAIN) {
            struct pollfd p = { .fd = out_fd, .events = POLLOUT };

            (*eagains)++;
            poll(&p, 1, 1000);
            continue;
        }
        if (n < 0)
            return n;
        if (n == 0)
            return (ssize_t)off;
    }
    return -ETIMEDOUT;
}

/* Hash of the first len bytes a t_pattern_file() holds. */
__attribute__((unused))
static uint64_t pattern_hash(uint64_t len)
{
    static uint8_t buf[1 << 16];
    uint64_t h = T_HASH_INIT, off = 0;

    while (off < len) {
        size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);

        t_fill_pattern(buf, n, off);
        h = t_hash(h, buf, n);
        off += n;
    }
    return h;
}

/* A sparse file a little over 4 GiB (data in its first and last MiB), and
 * a range starting just below 4 GiB at an unaligned offset: offsets past
 * 32 bits must survive every step (mapping offsets, io_uring's 64-bit
 * offsets, aligned direct reads). What arrives must equal pread's view. */
__attribute__((unused))
static void sink_case_over_4g(zc_ctx *ctx, enum zc_method m, enum sink_kind kind)
{
    const uint64_t size = (4ull << 30) + (1u << 20) + 7;
    const off_t start = (off_t)(4ull << 30) - 12345;
    const size_t len = (size_t)(size - (uint64_t)start);
    static const struct sink_opts blocking = { 0 };
    int in_fd = t_pattern_file(size, true, NULL);
    uint64_t want = t_hash_file(in_fd, (uint64_t)start, len, NULL);
    uint64_t bytes, hash;
    off_t off = start;
    struct sink s;
    ssize_t n = 0;
    size_t done = 0;

    sink_open(&s, kind, &blocking);
    for (int calls = 0; calls < 100 && done < len; calls++) {
        n = zc_transfer(ctx, s.out_fd, in_fd, &off, len - done + 10, m);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    sink_close(&s, &bytes, &hash);
    t_is_int(done, (long long)len, "%s -> %s, range across 4 GiB of a sparse file: moved",
             zc_method_name(m), sink_names[kind]);
    t_is_int(off, (long long)size, "%s -> %s, across 4 GiB: offset at the end",
             zc_method_name(m), sink_names[kind]);
    t_ok(bytes == len && hash == want, "%s -> %s, across 4 GiB: byte-exact",
         zc_method_name(m), sink_names[kind]);
    close(in_fd);
}

/* One case: a pattern file of @size bytes through @m into a fresh sink. */
__attribute__((unused))
static void sink_case(zc_ctx *ctx, enum zc_method m, enum sink_kind kind,
                      uint64_t size, const struct sink_opts *o)
{
    int in_fd = t_pattern_file(size, false, NULL);
    struct sink s;
    unsigned eagains;
    uint64_t bytes, hash;
    ssize_t n;

    sink_open(&s, kind, o);
    n = sink_pump(ctx, s.out_fd, in_fd, (size_t)size, m, &eagains);
    /* A blocking call leaves nothing mapped behind (non-blocking zero-copy
     * sends may keep theirs until the completions arrive). */
    if (!o->nonblock)
        t_is_int(t_maps_of(in_fd), 0, "%s -> %s, %llu bytes: nothing left mapped",
                 zc_method_name(m), sink_names[kind], (unsigned long long)size);
    sink_close(&s, &bytes, &hash);
    t_is_int(n, (long long)size, "%s -> %s, %llu bytes%s: moved all",
             zc_method_name(m), sink_names[kind], (unsigned long long)size,
             o->nonblock ? ", non-blocking" : "");
    if (kind != SINK_NULL) {
        t_is_int(bytes, (long long)size, "%s -> %s, %llu bytes%s: arrived",
                 zc_method_name(m), sink_names[kind], (unsigned long long)size,
                 o->nonblock ? ", non-blocking" : "");
        t_ok(hash == pattern_hash(size), "%s -> %s, %llu bytes%s: byte-exact",
             zc_method_name(m), sink_names[kind], (unsigned long long)size,
             o->nonblock ? ", non-blocking" : "");
    }
    if (o->nonblock && eagains)
        t_diag("%s -> %s, %llu bytes: resumed after %u EAGAINs",
               zc_method_name(m), sink_names[kind], (unsigned long long)size,
               eagains);
    close(in_fd);
}

/* A reader that, once it has received @at bytes, truncates @victim_fd to
 * @to bytes: "another process" shrinking the source mid-transfer, at a
 * moment the writer is certainly still busy. */
struct trunc_reader {
    pthread_t thread;
    int fd, victim_fd;
    uint64_t at;
    off_t to;
    unsigned delay_us;
    uint64_t bytes, hash;
    int truncated;            /* 1 once ftruncate succeeded */
};

static void *trunc_reader_main(void *arg)
{
    struct trunc_reader *r = arg;
    static __thread uint8_t buf[1 << 16];

    r->hash = T_HASH_INIT;
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r->hash = t_hash(r->hash, buf, (size_t)n);
        r->bytes += (uint64_t)n;
        if (!r->truncated && r->bytes >= r->at)
            r->truncated = ftruncate(r->victim_fd, r->to) == 0;
        if (r->delay_us)
            usleep(r->delay_us);
    }
    return NULL;
}

__attribute__((unused))
static void trunc_reader_start(struct trunc_reader *r, int fd, int victim_fd,
                               uint64_t at, off_t to, unsigned delay_us)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->victim_fd = victim_fd;
    r->at = at;
    r->to = to;
    r->delay_us = delay_us;
    if (pthread_create(&r->thread, NULL, trunc_reader_main, r) != 0)
        abort();
}

__attribute__((unused))
static void trunc_reader_join(struct trunc_reader *r)
{
    pthread_join(r->thread, NULL);
}

/* A fixed receive buffer: autotuning could let a writer run megabytes
 * ahead of the reader. */
__attribute__((unused))
static void set_rcvbuf(int fd, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
        abort();
}

/* 8 MiB through @m over TCP while the reader truncates the source to
 * 512 KiB after 1 MiB arrived: a short count, no SIGBUS, the offset and the
 * reader agree with the count, what arrived is the file's prefix, nothing
 * stays mapped. */
__attribute__((unused))
static void tcp_truncation_case(zc_ctx *ctx, enum zc_method m)
{
    char path[4096];
    int in_fd = t_pattern_file(8u << 20, false, path);
    int victim = open(path, O_RDWR | O_CLOEXEC);
    struct trunc_reader r;
    int fds[2];
    off_t off = 0;
    ssize_t n;

    t_tcp_pair(fds);
    t_set_sndbuf(fds[0], 65536);
    set_rcvbuf(fds[1], 65536);
    trunc_reader_start(&r, fds[1], victim, 1u << 20, 512 << 10, 100);
    n = zc_transfer(ctx, fds[0], in_fd, &off, 8u << 20, m);
    t_is_int(t_maps_of(in_fd), 0, "%s truncated: nothing left mapped", zc_method_name(m));
    close(fds[0]);
    trunc_reader_join(&r);
    t_ok(r.truncated, "%s truncated: the source shrank mid-transfer", zc_method_name(m));
    t_ok(n >= (1 << 20) && n < (8 << 20), "%s truncated: short count (%zd), no signal",
         zc_method_name(m), n);
    t_is_int(off, n, "%s truncated: offset matches the count", zc_method_name(m));
    t_is_int(r.bytes, n, "%s truncated: the reader got exactly the count", zc_method_name(m));
    t_ok(r.hash == pattern_hash(r.bytes), "%s truncated: what arrived is the file's prefix",
         zc_method_name(m));
    close(fds[1]);
    close(victim);
    close(in_fd);
}

__attribute__((unused))
static const uint64_t sink_sizes[] = { 0, 1, 4095, 4096, 65537, (8u << 20) + 3 };

#endif /* ZC_SINKS_H */
