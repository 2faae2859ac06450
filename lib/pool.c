/* pool.c - zc_pool: a memfd of slices filled once and sent to many fds by
 * reference, whose sent bytes never change.
 *
 * Why a memfd: sendfile and splice take pages of a file by reference, and a
 * memfd is a file whose pages the program writes directly through a shared
 * mapping. Sealed against shrinking and growing, its mapping can never raise
 * SIGBUS, in this process or in one it is passed to.
 *
 * Why punching holes: after sendfile/splice returns, pipe buffers and socket
 * buffers (a TCP write queue not yet transmitted, an AF_UNIX receive queue,
 * a loopback receiver's queue) hold references to the very pages of the
 * memfd. Writing into them changes what a slow receiver gets. The kernel
 * gives no sound proof of when its last reference goes: SIOCOUTQ on
 * loopback TCP counts bytes acknowledged on arrival, not read; an AF_UNIX
 * or TCP receiver may splice the pages on into a pipe of its own, and so
 * may a pipe's reader. So a page that was sent is never written again:
 * FALLOC_FL_PUNCH_HOLE removes it from the memfd (the queues keep it alive,
 * unchanged, until they drop it) and the range becomes a hole, which reads
 * as zeros and gets a fresh page when next written. Punches are batched
 * over runs of released pages, so their syscalls are amortized; freeing the
 * old pages and allocating new ones is the price, measured in
 * docs/METHODS.md.
 *
 * Fresh pages come on first write, not up front: through the mapping (a
 * page fault each) or by zc_pool_write (pwrite into the memfd: no page
 * table entry to install now, and none to tear down when punched, which is
 * where most of the cost lies in a virtual machine). A write fault on a
 * memfd never raises SIGBUS: the file cannot shrink (sealed) and the
 * kernel's internal tmpfs has no size limit (memory exhaustion is the OOM
 * killer's, as for any allocation).
 *
 * Why the first send copies: fresh pages are dear (a punched 64 KiB slice
 * costs 30 to 80 microseconds to refill on a nested VM, a 64 KiB write 6),
 * and a slice sent to one receiver only needs none. So the first send of a
 * slice's content (copy_sends of them, 1 by default) is a write(2) from the
 * mapping: the kernel copies the bytes, keeps no reference to the pages,
 * and the slice stays writable, to be written again or reused in place
 * without a punch. Only a later send goes by reference and freezes it: N
 * receivers cost one copy, N - 1 references and one replacement. A regular
 * file always takes a copy (sendfile into a file copies into its page
 * cache), so sending to one freezes nothing either.
 *
 * Which copy: write(2) from the mapping maps the pages (a fault, and page
 * table entries that a later punch must tear down) and leaves them mapped,
 * so the next zc_pool_write into them is a memcpy; pread into a bounce
 * buffer and write copies once more but maps nothing. Where slices go to
 * one receiver, they are never punched and the mapping pays once; where
 * they fan out, every slice is punched and mapping it would be paid per
 * message. The pool goes by what the last slice released did. Either
 * way the bytes are right: memcpy and pwrite write the same pages.
 *
 * The pool's mapping is marked MADV_NOHUGEPAGE: punching part of a large
 * folio may zero that part in place when the folio cannot be split, which
 * would change bytes in flight. Order-0 pages are always removed whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Stale pages are punched this many at a time at most, so one fallocate
 * serves many slices (1 MiB of 4 KiB pages). */
#define PUNCH_BATCH_PAGES 256u
/* Slices up to this size fan out by tee (pipe-max-size by default). */
#define TEE_MAX ((size_t)1 << 20)
/* A slice's first send goes by copy, unless zc_pool_set_copy_sends says. */
#define COPY_SENDS_DEFAULT 1u
/* A pool's page map is one byte a page: keep it sane. */
#define POOL_MAX_BYTES ((size_t)1 << 40)
#define POOL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

enum page_state {
    PG_FREE,    /* free, referenced by nobody else (present or a hole) */
    PG_USED,    /* in a slice, still writable (never sent) */
    PG_FROZEN,  /* in a slice that was sent or shared */
    PG_STALE,   /* free, but the kernel or another process may still
                 * reference it: punched before reuse, never written */
};

/* A pipe the pool owns. bytes: what it holds now. */
struct pool_pipe {
    int fd[2];
    size_t size, bytes;
};

struct zc_pool {
    int fd;
    bool owner;             /* created here: may allocate and write */
    bool tee_broken;        /* pipes or tee unavailable: sendfile only */
    int devnull;            /* where pipes are emptied without a copy */
    /* Fan-out (see zc_pool_send): src holds the pages of the slice at
     * src_off, src_len, loaded by one splice; tee duplicates them into hop
     * for each further receiver, and hop drains into the receiver. hop's
     * bytes, if any, are the stream of slice hop_off for fd hop_out from
     * slice position hop_pos. last_off/last_len: the slice last sent whole
     * from its start, by plain sendfile/splice. */
    struct pool_pipe src, hop;
    off_t src_off, hop_off, last_off;
    size_t src_len, hop_pos, last_len;
    int hop_out;
    unsigned char *base;
    size_t size, page, npages;
    size_t cursor;          /* next-fit: where the last allocation ended */
    uint8_t *state;         /* enum page_state, one per page (owner only) */
    /* Bytes of each slice's present content sent by copy, at the slice's
     * first page (owner only); it goes by reference from copy_sends times
     * its length on. */
    uint64_t *copied;
    unsigned copy_sends;
    /* Pages a send by copy read through the mapping since they were last
     * punched: present and mapped, so zc_pool_write may memcpy into them
     * without a fault (owner only). */
    uint8_t *mapped;
    /* The last slice released or rewritten had been sent by reference:
     * slices here fan out, and their pages are punched before reuse. */
    bool shared_last;
    struct zc_pool_stats stats;
};

static int pool_punch(zc_pool *p, size_t first, size_t n)
{
    int ret;

    do {
        p->stats.syscalls++;
        ret = fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        (off_t)(first * p->page), (off_t)(n * p->page));
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? -errno : 0;
}

static size_t pages_for(const zc_pool *p, size_t len)
{
    return (len + p->page - 1) / p->page;
}

static void set_state(zc_pool *p, size_t first, size_t n, enum page_state st)
{
    memset(p->state + first, st, n);
}

static bool reusable(uint8_t st)
{
    return st == PG_FREE || st == PG_STALE;
}

/* Make [first, first + n) free of stale pages: punch them out of the memfd
 * (the queues keep the old pages; the range becomes a hole that reads as
 * zeros and gets fresh pages when written). The stale pages that follow are
 * punched in the same call, up to a batch, so the next allocations find
 * them clean. */
static int prepare(zc_pool *p, size_t first, size_t n)
{
    size_t i = first, end = first + n;

    while (i < end) {
        size_t j, limit;
        int ret;

        if (p->state[i] != PG_STALE) {
            i++;
            continue;
        }
        limit = i + (n > PUNCH_BATCH_PAGES ? n : PUNCH_BATCH_PAGES);
        if (limit > p->npages)
            limit = p->npages;
        for (j = i; j < limit && p->state[j] == PG_STALE; j++)
            ;
        ret = pool_punch(p, i, j - i);
        if (ret < 0)
            return ret;
        p->stats.pages_punched += j - i;
        set_state(p, i, j - i, PG_FREE);
        memset(p->mapped + i, 0, j - i);
        i = j;
    }
    return 0;
}

/* First run of @n reusable pages at or after @from and before @to. */
static bool find_run(const zc_pool *p, size_t n, size_t from, size_t to, size_t *out)
{
    size_t run = 0;

    for (size_t i = from; i < to; i++) {
        run = reusable(p->state[i]) ? run + 1 : 0;
        if (run == n) {
            *out = i + 1 - n;
            return true;
        }
    }
    return false;
}

/* The page range of a slice this pool handed out and has not taken back:
 * every page in a slice state, the first one aligned. */
static int slice_pages(const zc_pool *p, const struct zc_slice *s, size_t *first,
                       size_t *n)
{
    if (!p || !s || !p->owner || s->len == 0 || s->off < 0 ||
        (size_t)s->off % p->page || (size_t)s->off >= p->size ||
        s->len > p->size - (size_t)s->off || s->data != p->base + s->off)
        return -EINVAL;
    *first = (size_t)s->off / p->page;
    *n = pages_for(p, s->len);
    for (size_t i = *first; i < *first + *n; i++)
        if (p->state[i] != PG_USED && p->state[i] != PG_FROZEN)
            return -EINVAL;
    return 0;
}

static int pool_map(zc_pool *p, int prot)
{
    void *addr = mmap(NULL, p->size, prot, MAP_SHARED, p->fd, 0);

    if (addr == MAP_FAILED)
        return -errno;
    p->base = addr;
    /* Best effort: a kernel that cannot say "no huge pages" here would not
     * use them for a memfd under the default shmem_enabled=never. */
    madvise(addr, p->size, MADV_NOHUGEPAGE);
    return 0;
}

static zc_pool *pool_alloc_struct(void)
{
    zc_pool *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->fd = -1;
    p->devnull = -1;
    p->src.fd[0] = p->src.fd[1] = p->hop.fd[0] = p->hop.fd[1] = -1;
    p->hop_out = -1;
    p->page = (size_t)sysconf(_SC_PAGESIZE);
    return p;
}

static void pipe_close(struct pool_pipe *pp)
{
    for (int i = 0; i < 2; i++) {
        if (pp->fd[i] >= 0)
            close(pp->fd[i]);
        pp->fd[i] = -1;
    }
    pp->size = pp->bytes = 0;
}

/* Empty @pp by splicing into /dev/null (no copy); closed if that fails. */
static void pipe_empty(zc_pool *p, struct pool_pipe *pp)
{
    while (pp->bytes > 0) {
        ssize_t n;

        p->stats.syscalls++;
        n = splice(pp->fd[0], NULL, p->devnull, NULL, pp->bytes, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            pipe_close(pp);
            return;
        }
        pp->bytes -= (size_t)n;
    }
}

/* A pipe that holds @len bytes at once. */
static int pipe_ready(zc_pool *p, struct pool_pipe *pp, size_t len)
{
    int ret;

    if (pp->fd[0] >= 0 && pp->size >= len)
        return 0;
    pipe_close(pp);
    p->stats.syscalls++;
    if (pipe2(pp->fd, O_CLOEXEC) < 0) {
        pp->fd[0] = pp->fd[1] = -1;
        return -errno;
    }
    p->stats.syscalls++;
    ret = fcntl(pp->fd[1], F_SETPIPE_SZ, (int)ZC_MIN(len, (size_t)INT32_MAX));
    if (ret < 0 || (size_t)ret < len) {
        ret = ret < 0 ? -errno : -ENOBUFS;
        pipe_close(pp);
        return ret;
    }
    pp->size = (size_t)ret;
    return 0;
}

/* src must never hand out pages of a range that was released or rewritten
 * since it was loaded: they are not the slice's bytes any more. */
static void forget_range(zc_pool *p, off_t off, size_t len)
{
    if (p->src_len && p->src_off < off + (off_t)len && off < p->src_off + (off_t)p->src_len) {
        pipe_empty(p, &p->src);
        p->src_len = 0;
    }
    if (p->hop.bytes && p->hop_off < off + (off_t)len && off < p->hop_off + (off_t)p->hop_pos + (off_t)p->hop.bytes)
        pipe_empty(p, &p->hop);
    if (p->last_len && p->last_off < off + (off_t)len && off < p->last_off + (off_t)p->last_len)
        p->last_len = 0;
}

ZC_EXPORT void zc_pool_free(zc_pool *p)
{
    if (!p)
        return;
    pipe_close(&p->src);
    pipe_close(&p->hop);
    if (p->devnull >= 0)
        close(p->devnull);
    if (p->base)
        munmap(p->base, p->size);
    if (p->fd >= 0)
        close(p->fd);
    free(p->state);
    free(p->copied);
    free(p->mapped);
    free(p);
}

ZC_EXPORT int zc_pool_new(zc_pool **out, size_t size)
{
    zc_pool *p;
    int ret;

    if (!out || size == 0 || size > POOL_MAX_BYTES)
        return -EINVAL;
    *out = NULL;
    p = pool_alloc_struct();
    if (!p)
        return -ENOMEM;
    p->owner = true;
    p->size = (size + p->page - 1) / p->page * p->page;
    p->npages = p->size / p->page;
    p->state = calloc(p->npages, 1);    /* all PG_FREE */
    p->copied = calloc(p->npages, sizeof(*p->copied));
    p->mapped = calloc(p->npages, 1);
    p->copy_sends = COPY_SENDS_DEFAULT;
    if (!p->state || !p->copied || !p->mapped) {
        ret = -ENOMEM;
        goto fail;
    }
    p->fd = memfd_create("zc_pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (p->fd < 0 || ftruncate(p->fd, (off_t)p->size) < 0 ||
        fcntl(p->fd, F_ADD_SEALS, POOL_SEALS) < 0) {
        ret = -errno;
        goto fail;
    }
    ret = pool_map(p, PROT_READ | PROT_WRITE);
    if (ret < 0)
        goto fail;
    /* Where the fan-out pipes are emptied; without it, no fan-out by tee. */
    p->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    p->tee_broken = p->devnull < 0;
    *out = p;
    return 0;

fail:
    zc_pool_free(p);
    return ret;
}

ZC_EXPORT int zc_pool_attach(zc_pool **out, int fd)
{
    struct stat st;
    zc_pool *p;
    int seals, ret;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (fd < 0)
        return -EBADF;
    /* Only a memfd that can never shrink is safe to map: a shorter file
     * would raise SIGBUS on the pages past its end. */
    seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        return errno == EBADF ? -EBADF : -EINVAL;
    if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
        return -EINVAL;
    if (fstat(fd, &st) < 0)
        return -errno;
    p = pool_alloc_struct();
    if (!p)
        return -ENOMEM;
    if (st.st_size <= 0 || (size_t)st.st_size % p->page ||
        (uint64_t)st.st_size > POOL_MAX_BYTES) {
        ret = -EINVAL;
        goto fail;
    }
    p->size = (size_t)st.st_size;
    p->npages = p->size / p->page;
    p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (p->fd < 0) {
        ret = -errno;
        goto fail;
    }
    ret = pool_map(p, PROT_READ);
    if (ret < 0)
        goto fail;
    *out = p;
    return 0;

fail:
    zc_pool_free(p);
    return ret;
}

ZC_EXPORT int zc_pool_fd(const zc_pool *p)
{
    return p ? p->fd : -EINVAL;
}

ZC_EXPORT size_t zc_pool_size(const zc_pool *p)
{
    return p ? p->size : 0;
}

ZC_EXPORT int zc_pool_alloc(zc_pool *p, size_t len, struct zc_slice *out)
{
    size_t n, first;
    int ret;

    if (!p || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (!p->owner)
        return -EPERM;
    if (len == 0 || len > p->size)
        return -EINVAL;
    n = pages_for(p, len);
    /* Next fit: released slices behind the cursor age while the pool moves
     * on, so their pages are likelier to have left the queues. */
    if (!find_run(p, n, p->cursor, p->npages, &first) &&
        !find_run(p, n, 0, ZC_MIN(p->cursor + n - 1, p->npages), &first)) {
        p->stats.full++;
        return -ENOMEM;
    }
    ret = prepare(p, first, n);
    if (ret < 0)
        return ret;
    set_state(p, first, n, PG_USED);
    p->copied[first] = 0;
    p->cursor = first + n == p->npages ? 0 : first + n;
    p->stats.allocs++;
    out->off = (off_t)(first * p->page);
    out->len = len;
    out->data = p->base + out->off;
    return 0;
}

ZC_EXPORT int zc_pool_slice_at(const zc_pool *p, off_t off, size_t len,
                               struct zc_slice *out)
{
    if (!p || !out || len == 0 || off < 0 || (size_t)off >= p->size ||
        len > p->size - (size_t)off)
        return -EINVAL;
    out->off = off;
    out->len = len;
    out->data = p->base + off;
    return 0;
}

static bool all_mapped(const zc_pool *p, const struct zc_slice *s, size_t at, size_t len)
{
    size_t from = ((size_t)s->off + at) / p->page, to = ((size_t)s->off + at + len - 1) / p->page;

    for (size_t i = from; i <= to; i++)
        if (!p->mapped[i])
            return false;
    return true;
}

ZC_EXPORT ssize_t zc_pool_write(zc_pool *p, const struct zc_slice *s, size_t at,
                                const void *buf, size_t len)
{
    size_t first, n, done = 0;
    int ret = slice_pages(p, s, &first, &n);

    if (ret < 0)
        return ret;
    if (at > s->len || len > s->len - at)
        return -EINVAL;
    for (size_t i = first; i < first + n; i++)
        if (p->state[i] == PG_FROZEN)
            return -EBUSY;      /* sent: zc_pool_rewrite first */
    if (len > 0 && all_mapped(p, s, at, len)) {
        /* Pages a copy send mapped: a memcpy, no syscall, no fault. */
        memcpy(p->base + s->off + at, buf, len);
        done = len;
    }
    while (done < len) {
        ssize_t w;

        p->stats.syscalls++;
        w = pwrite(p->fd, (const char *)buf + done, len - done,
                   s->off + (off_t)(at + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        done += (size_t)w;
    }
    p->copied[first] = 0;       /* new content: its first send copies again */
    return (ssize_t)done;
}

ZC_EXPORT int zc_pool_freeze(zc_pool *p, const struct zc_slice *s)
{
    size_t first, n;
    int ret = slice_pages(p, s, &first, &n);

    if (ret < 0)
        return ret;
    set_state(p, first, n, PG_FROZEN);
    return 0;
}

ZC_EXPORT int zc_pool_rewrite(zc_pool *p, struct zc_slice *s)
{
    size_t first, n;
    bool frozen = false;
    int ret = slice_pages(p, s, &first, &n);

    if (ret < 0)
        return ret;
    for (size_t i = first; i < first + n; i++)
        frozen |= p->state[i] == PG_FROZEN;
    p->copied[first] = 0;
    if (!frozen)
        return 0;
    forget_range(p, s->off, s->len);
    p->shared_last = true;
    /* The whole slice goes: a page partly sent is as referenced as one
     * fully sent. The hole reads as zeros, as documented. */
    set_state(p, first, n, PG_STALE);
    ret = prepare(p, first, n);
    if (ret < 0) {
        /* The range may be half replaced; it stays with the slice, and a
         * later release or rewrite punches it again. */
        set_state(p, first, n, PG_FROZEN);
        return ret;
    }
    set_state(p, first, n, PG_USED);
    return 0;
}

ZC_EXPORT int zc_pool_release(zc_pool *p, struct zc_slice *s)
{
    size_t first, n;
    int ret = slice_pages(p, s, &first, &n);

    if (ret < 0)
        return ret;
    forget_range(p, s->off, s->len);
    p->shared_last = p->state[first] == PG_FROZEN;
    for (size_t i = first; i < first + n; i++)
        p->state[i] = p->state[i] == PG_FROZEN ? PG_STALE : PG_FREE;
    memset(s, 0, sizeof(*s));
    return 0;
}

/* ZC_AUTO through the pool: one fstat of out_fd picks the method and tells
 * whether the sink takes pages by reference (socket, pipe) or copies them
 * (regular file). zc_transfer's own ZC_AUTO would fstat both fds. */
static enum zc_method method_for(zc_pool *p, int out_fd, bool *copies, int *err)
{
    struct stat st;

    p->stats.syscalls++;
    if (fstat(out_fd, &st) < 0) {
        *err = -errno;
        return ZC_AUTO;
    }
    *err = 0;
    switch (zc__kind(st.st_mode)) {
    case ZC_KIND_PIPE:
        return ZC_SPLICE;
    case ZC_KIND_FILE:
        *copies = true;
        return ZC_SENDFILE;
    case ZC_KIND_SOCKET:
    case ZC_KIND_CHAR:
        return ZC_SENDFILE;
    default:
        return ZC_AUTO;
    }
}

static bool method_copies(enum zc_method m)
{
    return m == ZC_READWRITE || m == ZC_MMAP || m == ZC_DIRECT ||
           m == ZC_COPY_FILE_RANGE;
}

/* Move what hop holds (the slice's bytes from hop_pos) into out_fd. */
static ssize_t hop_drain(zc_ctx *ctx, int out_fd, zc_pool *p, size_t count)
{
    ssize_t n = zc__transfer_stream(ctx, out_fd, p->hop.fd[0],
                                    ZC_MIN(count, p->hop.bytes), ZC_SPLICE);

    if (n > 0) {
        p->hop.bytes -= (size_t)n;
        p->hop_pos += (size_t)n;
    } else if (n != -EAGAIN) {
        pipe_empty(p, &p->hop);     /* they will never reach out_fd */
    }
    return n;
}

/* Put the slice's pages in src: one splice from the memfd, once per slice. */
static int src_load(zc_pool *p, const struct zc_slice *s)
{
    off_t o = s->off;
    int ret;

    if (p->src_len == s->len && p->src_off == s->off)
        return 0;
    pipe_empty(p, &p->src);
    p->src_len = 0;
    ret = pipe_ready(p, &p->src, s->len);
    if (ret < 0)
        return ret;
    while (p->src.bytes < s->len) {
        ssize_t n;

        p->stats.syscalls++;
        n = splice(p->fd, &o, p->src.fd[1], NULL, s->len - p->src.bytes, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ret = n < 0 ? -errno : -EIO;
            pipe_empty(p, &p->src);
            return ret;
        }
        p->src.bytes += (size_t)n;
    }
    p->src_off = s->off;
    p->src_len = s->len;
    return 0;
}

/* A slice sent whole before, sent again from its start: tee the pages src
 * holds into hop (it copies pipe buffer references, where sendfile would
 * look every page up in the memfd again) and splice hop into out_fd.
 * *handled is false when this path cannot serve the call and nothing moved
 * or is held: the caller sends the plain way. */
static ssize_t send_by_tee(zc_ctx *ctx, int out_fd, zc_pool *p, const struct zc_slice *s,
                           size_t count, bool *handled)
{
    ssize_t t, n;

    *handled = false;
    if (src_load(p, s) < 0 || pipe_ready(p, &p->hop, s->len) < 0) {
        p->tee_broken = true;
        return 0;
    }
    do {
        p->stats.syscalls++;
        t = tee(p->src.fd[0], p->hop.fd[1], s->len, 0);
    } while (t < 0 && errno == EINTR);
    if (t > 0)
        p->hop.bytes = (size_t)t;
    if (t != (ssize_t)s->len) {
        pipe_empty(p, &p->hop);
        if (t < 0)
            p->tee_broken = true;
        return 0;
    }
    p->hop_off = s->off;
    p->hop_pos = 0;
    n = hop_drain(ctx, out_fd, p, count);
    /* out_fd takes no splice from a pipe (an O_APPEND file): hop was
     * emptied, nothing moved, the plain way may still serve it. */
    *handled = n != -EINVAL;
    return n;
}

/* This send goes by copy (see the top of the file): the owner's slice,
 * never sent by reference, its content not yet copied copy_sends times,
 * by a method that would otherwise hand over its pages. */
static bool copy_first(const zc_pool *p, size_t first, const struct zc_slice *s,
                       enum zc_method method)
{
    return p->owner && p->state[first] == PG_USED &&
           (method == ZC_AUTO || method == ZC_SENDFILE || method == ZC_SPLICE) &&
           p->copied[first] < (uint64_t)p->copy_sends * s->len;
}

ZC_EXPORT ssize_t zc_pool_send(zc_ctx *ctx, int out_fd, zc_pool *p,
                               const struct zc_slice *s, size_t *pos, size_t count,
                               enum zc_method method)
{
    bool copies = false;
    size_t first = 0, n = 0;
    off_t off;
    ssize_t ret;
    int err;

    if (!ctx || !p || !s || !pos || (unsigned)method >= ZC_METHOD_COUNT)
        return -EINVAL;
    if (p->owner) {
        err = slice_pages(p, s, &first, &n);
        if (err < 0)
            return err;
    } else if (s->len == 0 || s->off < 0 || (size_t)s->off >= p->size ||
               s->len > p->size - (size_t)s->off) {
        return -EINVAL;
    }
    if (*pos > s->len)
        return -EINVAL;
    p->stats.sends++;
    if (*pos == s->len || count == 0)
        return 0;
    if (count > s->len - *pos)
        count = s->len - *pos;
    if (copy_first(p, first, s, method)) {
        /* A copy whatever the sink (no fstat), and no reference to the
         * pages outlives the call. */
        bool map = !p->shared_last || all_mapped(p, s, *pos, count);

        if (map) {
            ret = zc__transfer_from_mem(ctx, out_fd, p->base + s->off + (off_t)*pos, count);
        } else {
            off = s->off + (off_t)*pos;
            ret = zc_transfer(ctx, out_fd, p->fd, &off, count, ZC_READWRITE);
        }
        if (ret > 0 && map) {
            size_t from = ((size_t)s->off + *pos) / p->page;
            size_t to = ((size_t)s->off + *pos + (size_t)ret - 1) / p->page;

            memset(p->mapped + from, 1, to - from + 1);
        }
        if (ret > 0) {
            p->copied[first] += (uint64_t)ret;
            p->stats.sends_by_copy++;
        }
        copies = true;
        goto done;
    }
    if (method == ZC_AUTO) {
        method = method_for(p, out_fd, &copies, &err);
        if (err < 0)
            return err;
    }
    copies |= method_copies(method);
    /* By reference: frozen before the call, as a failed or partial send
     * may still have queued some pages. A copy leaves the slice writable. */
    if (p->owner && !copies)
        set_state(p, first, n, PG_FROZEN);

    /* Bytes tee'd for an earlier call are the slice's bytes from hop_pos,
     * whichever fd asked: they go on if this call resumes there. */
    if (p->hop.bytes) {
        if (p->hop_off == s->off && p->hop_pos == *pos) {
            ret = hop_drain(ctx, out_fd, p, count);
            goto done;
        }
        pipe_empty(p, &p->hop);
    }
    if (p->owner && !p->tee_broken && *pos == 0 && p->last_len == s->len &&
        p->last_off == s->off && s->len <= TEE_MAX &&
        (method == ZC_SENDFILE || method == ZC_SPLICE)) {
        bool handled;

        ret = send_by_tee(ctx, out_fd, p, s, count, &handled);
        if (handled)
            goto done;
    }
    off = s->off + (off_t)*pos;
    ret = zc_transfer(ctx, out_fd, p->fd, &off, count, method);
    if (ret > 0 && *pos == 0) {
        p->last_off = s->off;
        p->last_len = s->len;
    }
done:
    if (ret > 0) {
        *pos += (size_t)ret;
        p->stats.bytes_sent += (uint64_t)ret;
        if (copies)
            p->stats.bytes_copied += (uint64_t)ret;
    }
    return ret;
}

ZC_EXPORT int zc_pool_set_copy_sends(zc_pool *p, unsigned k)
{
    if (!p)
        return -EINVAL;
    if (!p->owner)
        return -EPERM;
    p->copy_sends = k;
    return 0;
}

ZC_EXPORT void zc_pool_stats(const zc_pool *p, struct zc_pool_stats *out)
{
    if (p && out)
        *out = p->stats;
}
