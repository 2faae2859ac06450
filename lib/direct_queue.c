/* direct_queue.c - the read side of the direct method (see direct_queue.h).
 *
 * The buffers are one anonymous mapping, not malloc memory: a read still in
 * flight when the queue is torn down (zc_ctx_free, a failed io_uring_enter)
 * writes into pages the kernel pinned, and after munmap those pages can never
 * come back to this process as someone else's heap. With io_uring they are
 * also registered as fixed buffers (pinned once, not per read), which the
 * kernel may refuse (RLIMIT_MEMLOCK for a user without CAP_IPC_LOCK): the
 * reads are then plain IORING_OP_READs into the same memory.
 *
 * Every io_uring_enter is counted: liburing's io_uring_submit_and_wait()
 * enters exactly once when asked to wait or when SQEs are queued, and the
 * queue calls it only then. Completions are read from the CQ ring directly. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "direct_queue.h"

#if ZC_HAVE_URING
#include <liburing.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)

struct zc_dq {
    unsigned depth;             /* the ctx's setting it was built for */
    unsigned nslots;            /* depth with io_uring, 1 without */
    size_t buf_size, align;
    char *mem;                  /* the mapping, unmapped as a whole */
    size_t mem_len;
    char *bufs;                 /* slot i's buffer: bufs + i * buf_size */
    struct zc_dq_slot slot[ZC_DIRECT_MAX_DEPTH];
    unsigned head, count;       /* FIFO of slots: slot[(head + i) % nslots] */
    unsigned pending;           /* SQEs queued, not yet submitted */
    unsigned inflight;          /* submitted, completion not seen */
    unsigned gen;
    uint64_t dev, ino;          /* the file the slots hold */
    bool async, fixed;
    bool broken;                /* an enter failed: rebuilt by the next get */
#if ZC_HAVE_URING
    struct io_uring ring;
#endif
};

static void dq_destroy(zc_ctx *ctx, struct zc_dq *q)
{
#if ZC_HAVE_URING
    /* Closing the ring cancels what is left; pages still being read into
     * stay pinned by the kernel, so unmapping them next is safe. */
    if (q->async)
        io_uring_queue_exit(&q->ring);
#endif
    if (q->mem)
        zc__munmap(ctx, q->mem, q->mem_len);
    free(q);
}

#if ZC_HAVE_URING
/* io_uring_setup and liburing's 2 or 3 ring mmaps. Refusals for good
 * (EPERM from seccomp or kernel.io_uring_disabled, ENOSYS) are remembered
 * in the ctx; anything else is tried again by the next queue. */
static bool ring_setup(zc_ctx *ctx, struct zc_dq *q)
{
    unsigned mmaps;
    int ret;

    if (ctx->direct_uring_refusal)
        return false;
    zc__count(ctx);
    ret = io_uring_queue_init(q->depth, &q->ring, 0);
    if (ret < 0) {
        if (ret == -EPERM || ret == -EACCES || ret == -ENOSYS)
            ctx->direct_uring_refusal = ret == -ENOSYS ? -ENOSYS : -EPERM;
        return false;
    }
    mmaps = (q->ring.features & IORING_FEAT_SINGLE_MMAP) ? 2 : 3;
    ctx->stats.syscalls += mmaps;
    ctx->stats.method[ctx->cur].syscalls += mmaps;
    return true;
}

static void ring_register(zc_ctx *ctx, struct zc_dq *q)
{
    struct iovec iov[ZC_DIRECT_MAX_DEPTH];

    for (unsigned i = 0; i < q->nslots; i++) {
        iov[i].iov_base = q->bufs + (size_t)i * q->buf_size;
        iov[i].iov_len = q->buf_size;
    }
    zc__count(ctx);
    q->fixed = io_uring_register_buffers(&q->ring, iov, q->nslots) == 0;
}

/* Record every completion already in the CQ ring; no syscall. */
static void reap(struct zc_dq *q)
{
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&q->ring, &cqe) == 0 && cqe) {
        struct zc_dq_slot *s = &q->slot[cqe->user_data];

        s->res = cqe->res;
        s->done = true;
        q->inflight--;
        io_uring_cqe_seen(&q->ring, cqe);
    }
}

/* One io_uring_enter: submit what is queued, and wait for a completion
 * when @wait. */
static int enter(zc_ctx *ctx, struct zc_dq *q, bool wait)
{
    int ret;

    do {
        zc__count(ctx);
        ret = io_uring_submit_and_wait(&q->ring, wait ? 1 : 0);
    } while (ret == -EINTR);
    if (ret < 0) {
        q->broken = true;
        q->count = 0;
        return ret;
    }
    q->pending -= ZC_MIN((unsigned)ret, q->pending);
    q->inflight += (unsigned)ret;
    return 0;
}
#endif /* ZC_HAVE_URING */

int zc__dq_get(zc_ctx *ctx, size_t mem_align, size_t align, struct zc_dq **out)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t buf = (ctx->direct_buf + align - 1) / align * align;
    struct zc_dq *q = ctx->dq;
    void *mem;
    int ret;

    if (mem_align > page || align > ZC_MAX_CHUNK)
        return -EINVAL;
    if (q && (q->broken || q->depth != ctx->direct_depth || q->buf_size != buf)) {
        zc__dq_reset(ctx, q);
        dq_destroy(ctx, q);
        ctx->dq = q = NULL;
    }
    if (q) {
        *out = q;
        return 0;
    }
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->depth = ctx->direct_depth;
    q->nslots = 1;
    q->buf_size = buf;
    q->align = align;
#if ZC_HAVE_URING
    q->async = ring_setup(ctx, q);
    if (q->async)
        q->nslots = q->depth;
#endif
    /* One huge page more than needed, to start the buffers on a huge-page
     * boundary: a device takes at most max_segments pieces per request
     * (254 on virtio-blk), so 4 KiB pages cut every read into requests of
     * at most 1016 KiB, while huge pages make each buffer a few segments. */
    q->mem_len = q->nslots * buf + HUGE_PAGE;
    ret = zc__mmap(ctx, &mem, q->mem_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ret < 0) {
        q->mem = NULL;
        dq_destroy(ctx, q);
        return ret;
    }
    q->mem = mem;
    q->bufs = (char *)(((uintptr_t)mem + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    /* Best effort: without transparent huge pages the reads are just cut
     * into more requests. */
    zc__count(ctx);
    (void)madvise(q->bufs, q->nslots * buf, MADV_HUGEPAGE);
#if ZC_HAVE_URING
    if (q->async)
        ring_register(ctx, q);
#endif
    ctx->dq = q;
    *out = q;
    return 0;
}

void zc__dq_begin(struct zc_dq *q)
{
    q->gen++;
}

unsigned zc__dq_gen(const struct zc_dq *q)
{
    return q->gen;
}

bool zc__dq_async(const struct zc_dq *q)
{
    return q->async;
}

size_t zc__dq_buf_size(const struct zc_dq *q)
{
    return q->buf_size;
}

unsigned zc__dq_room(const struct zc_dq *q)
{
    return q->nslots - q->count;
}

struct zc_dq_slot *zc__dq_head(struct zc_dq *q)
{
    return q->count ? &q->slot[q->head] : NULL;
}

struct zc_dq_slot *zc__dq_tail(struct zc_dq *q)
{
    return q->count ? &q->slot[(q->head + q->count - 1) % q->nslots] : NULL;
}

void zc__dq_owner(const struct zc_dq *q, uint64_t *dev, uint64_t *ino)
{
    *dev = q->dev;
    *ino = q->ino;
}

void zc__dq_set_owner(struct zc_dq *q, uint64_t dev, uint64_t ino)
{
    q->dev = dev;
    q->ino = ino;
}

void zc__dq_push(zc_ctx *ctx, struct zc_dq *q, int fd, off_t base, size_t len)
{
    unsigned pos = (q->head + q->count) % q->nslots;
    struct zc_dq_slot *s = &q->slot[pos];

    s->base = base;
    s->len = len;
    s->res = 0;
    s->done = false;
    s->gen = q->gen;
    s->buf = q->bufs + (size_t)pos * q->buf_size;
    q->count++;
#if ZC_HAVE_URING
    if (q->async) {
        /* At most nslots reads exist and the SQ ring has at least that many
         * entries, all free after each enter: an SQE is always there. */
        struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

        if (q->fixed)
            io_uring_prep_read_fixed(sqe, fd, s->buf, (unsigned)len, (uint64_t)base,
                                     (int)pos);
        else
            io_uring_prep_read(sqe, fd, s->buf, (unsigned)len, (uint64_t)base);
        sqe->user_data = pos;
        q->pending++;
        return;
    }
#endif
    s->res = zc__pread(ctx, fd, s->buf, len, base);
    s->done = true;
}

int zc__dq_wait_head(zc_ctx *ctx, struct zc_dq *q)
{
#if ZC_HAVE_URING
    if (q->async) {
        for (;;) {
            struct zc_dq_slot *h;
            int ret;

            reap(q);
            h = zc__dq_head(q);
            if (!h || (h->done && !q->pending))
                return 0;
            if (!h->done && !q->pending && !q->inflight)
                return -EIO;            /* nothing could complete it */
            ret = enter(ctx, q, !h->done);
            if (ret < 0)
                return ret;
        }
    }
#else
    (void)ctx;
#endif
    (void)q;
    return 0;
}

void zc__dq_pop(struct zc_dq *q)
{
    q->head = (q->head + 1) % q->nslots;
    q->count--;
}

void zc__dq_reset(zc_ctx *ctx, struct zc_dq *q)
{
#if ZC_HAVE_URING
    if (q->async && !q->broken) {
        /* Queued SQEs name an fd the caller is about to close: submit them
         * before anything else, then wait until every buffer is ours. */
        while (q->pending || q->inflight) {
            reap(q);
            if (!q->pending && !q->inflight)
                break;
            if (enter(ctx, q, true) < 0)
                break;                  /* broken: the next get rebuilds it */
        }
    }
#else
    (void)ctx;
#endif
    q->count = 0;
}

void zc__direct_release(zc_ctx *ctx)
{
    if (!ctx->dq)
        return;
    dq_destroy(ctx, ctx->dq);
    ctx->dq = NULL;
}
