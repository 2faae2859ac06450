/* fanout.c - the three ways `zcopy bench --fanout` sends one generated
 * message to N receivers, and one measured run of them.
 *
 *   write     the message generated in a buffer, write(2) to each receiver:
 *             the kernel copies it N times.
 *   pool      generated once into a small buffer, copied into a zc_pool
 *             slice by zc_pool_write, zc_pool_send to each receiver: the
 *             first by copy (write from the mapping), the others by page
 *             reference (sendfile, tee); the slice is released at once, and
 *             its pages replaced before reuse if a send was by reference.
 *   pool-ref  the same with zc_pool_set_copy_sends(0): by reference from
 *             the first receiver, so every message's pages are replaced.
 *   pool-map  the same, but generated straight through the slice's pointer:
 *             no copy, a page fault per fresh page instead.
 *   vmsplice  generated into freshly mapped pages, vmsplice(SPLICE_F_GIFT)
 *             into a pipe, tee(2) into one pipe per receiver and splice(2)
 *             from there to the socket (the last receiver takes the first
 *             pipe itself). The pages are unmapped right after vmsplice:
 *             reusing them would change the bytes in the pipes, the hazard
 *             zc_pool exists to remove.
 *
 * Syscalls are exact: counted here for write and vmsplice, by libzcopy
 * (ctx and pool stats) for the pool. Sender CPU is getrusage(RUSAGE_SELF)
 * around the loop, generation included for all three. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define FINISH_TIMEOUT_S 120
#define DELIVER_PER_RUN ((uint64_t)256 << 20)
/* The pool holds one message at a time; the rest is room for released
 * pages to be punched in batches. Small enough that every run wraps round
 * it many times: steady state, replaced pages included. */
#define POOL_BYTES ((size_t)1 << 20)

static const char *const fanout_names[BENCH_FANOUT_METHOD_COUNT] = {
    [BENCH_FANOUT_WRITE] = "write",
    [BENCH_FANOUT_POOL] = "pool",
    [BENCH_FANOUT_POOL_MAP] = "pool-map",
    [BENCH_FANOUT_POOL_REF] = "pool-ref",
    [BENCH_FANOUT_VMSPLICE] = "vmsplice",
};

const char *bench_fanout_method_name(enum bench_fanout_method m)
{
    return (unsigned)m < BENCH_FANOUT_METHOD_COUNT ? fanout_names[m] : "unknown";
}

int bench_fanout_method_parse(const char *name, enum bench_fanout_method *out)
{
    for (unsigned i = 0; i < BENCH_FANOUT_METHOD_COUNT; i++) {
        if (!strcmp(name, fanout_names[i])) {
            *out = (enum bench_fanout_method)i;
            return 0;
        }
    }
    return -EINVAL;
}

uint64_t bench_fanout_messages_for(uint64_t size, unsigned receivers)
{
    uint64_t n = DELIVER_PER_RUN / (size * receivers);

    return n < 16 ? 16 : n > 200000 ? 200000 : n;
}

/* The state one method keeps across the messages of a run. */
struct sender {
    const struct bench_fanout_job *job;
    int *fd;
    uint64_t syscalls, copied;
    uint8_t *buf;                       /* write */
    zc_ctx *ctx;                        /* pool */
    zc_pool *pool;
    enum zc_method *how;
    int (*pipes)[2];                    /* vmsplice: [0] is the gift pipe */
};

static int write_full(struct sender *s, int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n;

        s->syscalls++;
        n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

static int send_write(struct sender *s, uint64_t k)
{
    const size_t len = (size_t)s->job->size;

    memset(s->buf, bench_fanout_byte(k), len);
    for (unsigned i = 0; i < s->job->receivers; i++) {
        int ret = write_full(s, s->fd[i], s->buf, len);

        if (ret < 0)
            return ret;
        s->copied += len;
    }
    return 0;
}

static int send_pool(struct sender *s, uint64_t k)
{
    const size_t len = (size_t)s->job->size;
    struct zc_slice sl;
    int ret = zc_pool_alloc(s->pool, len, &sl);

    if (ret < 0)
        return ret;
    if (s->job->method == BENCH_FANOUT_POOL_MAP) {
        memset(sl.data, bench_fanout_byte(k), len);
    } else {
        ssize_t w;

        memset(s->buf, bench_fanout_byte(k), len);
        w = zc_pool_write(s->pool, &sl, 0, s->buf, len);
        if (w != (ssize_t)len)
            ret = w < 0 ? (int)w : -EIO;
    }
    for (unsigned i = 0; i < s->job->receivers && ret == 0; i++) {
        size_t pos = 0;

        while (pos < len) {
            ssize_t n = zc_pool_send(s->ctx, s->fd[i], s->pool, &sl, &pos, len - pos,
                                     s->how[i]);

            if (n <= 0) {
                ret = n < 0 ? (int)n : -EIO;
                break;
            }
        }
    }
    /* Released at once: the queued pages are the kernel's now. */
    zc_pool_release(s->pool, &sl);
    return ret;
}

static int splice_full(struct sender *s, int in, int out, size_t len)
{
    while (len > 0) {
        ssize_t n;

        s->syscalls++;
        n = splice(in, NULL, out, NULL, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        len -= (size_t)n;
    }
    return 0;
}

static int send_vmsplice(struct sender *s, uint64_t k)
{
    const size_t len = (size_t)s->job->size;
    const unsigned n = s->job->receivers;
    size_t done = 0;
    void *map;
    int ret = 0;

    s->syscalls++;
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
               -1, 0);
    if (map == MAP_FAILED)
        return -errno;
    memset(map, bench_fanout_byte(k), len);
    while (done < len) {
        struct iovec iov = { .iov_base = (char *)map + done, .iov_len = len - done };
        ssize_t got;

        s->syscalls++;
        got = vmsplice(s->pipes[0][1], &iov, 1, SPLICE_F_GIFT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            ret = got < 0 ? -errno : -EIO;
            break;
        }
        done += (size_t)got;
    }
    /* The pipe holds the pages now; this process lets go of them. */
    s->syscalls++;
    munmap(map, len);
    for (unsigned i = 1; i < n && ret == 0; i++) {
        ssize_t got;

        /* tee duplicates what the gift pipe holds, from its start: the
         * receiver's pipe is empty and as large, so it takes all at once. */
        do {
            s->syscalls++;
            got = tee(s->pipes[0][0], s->pipes[i][1], len, 0);
        } while (got < 0 && errno == EINTR);
        if (got != (ssize_t)len)
            ret = got < 0 ? -errno : -EIO;
        else
            ret = splice_full(s, s->pipes[i][0], s->fd[i], len);
    }
    if (ret == 0)
        ret = splice_full(s, s->pipes[0][0], s->fd[0], len);
    return ret;
}

static void sender_free(struct sender *s)
{
    free(s->buf);
    zc_pool_free(s->pool);
    zc_ctx_free(s->ctx);
    free(s->how);
    if (s->pipes) {
        for (unsigned i = 0; i < s->job->receivers; i++) {
            if (s->pipes[i][0] >= 0)
                close(s->pipes[i][0]);
            if (s->pipes[i][1] >= 0)
                close(s->pipes[i][1]);
        }
        free(s->pipes);
    }
}

static int sender_init(struct sender *s, const struct bench_fanout_job *job, int *fd)
{
    const unsigned n = job->receivers;
    int ret;

    memset(s, 0, sizeof(*s));
    s->job = job;
    s->fd = fd;
    switch (job->method) {
    case BENCH_FANOUT_WRITE:
        s->buf = malloc((size_t)job->size);
        return s->buf ? 0 : -ENOMEM;
    case BENCH_FANOUT_POOL:
    case BENCH_FANOUT_POOL_MAP:
    case BENCH_FANOUT_POOL_REF:
        s->buf = malloc((size_t)job->size);
        s->ctx = zc_ctx_new();
        s->how = calloc(n, sizeof(*s->how));
        if (!s->buf || !s->ctx || !s->how)
            return -ENOMEM;
        /* The process ignores SIGPIPE (bench_main): no guard syscalls. */
        zc_ctx_set_flags(s->ctx, ZC_SIGPIPE_HANDLED);
        ret = zc_pool_new(&s->pool, POOL_BYTES > 4 * job->size ? POOL_BYTES
                                                                : 4 * (size_t)job->size);
        if (ret == 0 && job->method == BENCH_FANOUT_POOL_REF)
            ret = zc_pool_set_copy_sends(s->pool, 0);
        /* What each receiver takes, chosen once, as a server would. */
        for (unsigned i = 0; ret == 0 && i < n; i++)
            ret = zc_method_choose(s->ctx, fd[i], zc_pool_fd(s->pool), &s->how[i]);
        return ret;
    case BENCH_FANOUT_VMSPLICE:
        s->pipes = calloc(n, sizeof(*s->pipes));
        if (!s->pipes)
            return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
            s->pipes[i][0] = s->pipes[i][1] = -1;
        for (unsigned i = 0; i < n; i++) {
            int want = (int)(job->size > 65536 ? job->size : 65536);

            if (pipe2(s->pipes[i], O_CLOEXEC) < 0)
                return -errno;
            if (fcntl(s->pipes[i][1], F_SETPIPE_SZ, want) < want)
                return -ENOBUFS;        /* a message must fit in one pipe */
        }
        return 0;
    default:
        return -EINVAL;
    }
}

int bench_fanout_run_once(const struct bench_fanout_job *job, struct bench_fanout_sample *s)
{
    struct bench_fanout_conn conn;
    struct bench_rcv_report rep;
    struct sender snd;
    struct rusage r0, r1;
    double t0;
    int ret, fin;

    memset(s, 0, sizeof(*s));
    s->rcv_user = s->rcv_sys = NAN;
    ret = bench_fanout_open(job->sink, job->receivers, job->size, &conn);
    if (ret < 0)
        return ret;
    ret = sender_init(&snd, job, conn.out_fd);
    if (snd.ctx)
        zc_ctx_stats_reset(snd.ctx);

    getrusage(RUSAGE_SELF, &r0);
    t0 = bench_now();
    for (uint64_t k = 0; ret == 0 && k < job->messages; k++) {
        switch (job->method) {
        case BENCH_FANOUT_WRITE:
            ret = send_write(&snd, k);
            break;
        case BENCH_FANOUT_POOL:
        case BENCH_FANOUT_POOL_MAP:
        case BENCH_FANOUT_POOL_REF:
            ret = send_pool(&snd, k);
            break;
        default:
            ret = send_vmsplice(&snd, k);
        }
        if (ret == 0) {
            s->messages++;
            s->delivered += job->size * job->receivers;
        }
        if ((k & 15) == 15 && bench_now() - t0 > job->time_budget_s)
            break;
    }
    s->seconds = bench_now() - t0;
    getrusage(RUSAGE_SELF, &r1);

    if (snd.pool) {
        struct zc_stats cs;
        struct zc_pool_stats ps;

        zc_ctx_stats(snd.ctx, &cs);
        zc_pool_stats(snd.pool, &ps);
        snd.syscalls = cs.syscalls + ps.syscalls;
        snd.copied = ps.bytes_copied;
        s->fresh_pages = ps.pages_punched;
    }
    s->syscalls = snd.syscalls;
    s->copied = snd.copied;
    s->user = bench_tv_s(r1.ru_utime) - bench_tv_s(r0.ru_utime);
    s->sys = bench_tv_s(r1.ru_stime) - bench_tv_s(r0.ru_stime);
    s->ctx_switches = (uint64_t)((r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw));
    s->page_faults = (uint64_t)((r1.ru_minflt - r0.ru_minflt) + (r1.ru_majflt - r0.ru_majflt));
    sender_free(&snd);

    fin = bench_fanout_finish(&conn, &rep, FINISH_TIMEOUT_S);
    if (fin < 0 && ret == 0)
        ret = fin;
    if (fin == 0) {
        s->rcv_user = rep.user;
        s->rcv_sys = rep.sys;
        /* Every byte sent arrived, unchanged. */
        if (ret == 0 && (rep.error || rep.bytes != s->delivered))
            ret = rep.error ? rep.error : -EIO;
    }
    return ret;
}
