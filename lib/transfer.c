/* transfer.c - zc_transfer(): argument checks, the offset convention, the
 * SIGPIPE guard, the source-integrity check, and ZC_AUTO's choice and
 * fallback chain. The methods themselves live in method_*.c. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const char *const method_names[ZC_METHOD_COUNT] = {
    [ZC_AUTO] = "auto",
    [ZC_READWRITE] = "readwrite",
    [ZC_MMAP] = "mmap",
    [ZC_SENDFILE] = "sendfile",
    [ZC_SPLICE] = "splice",
    [ZC_COPY_FILE_RANGE] = "copy_file_range",
    [ZC_MSG_ZEROCOPY] = "msg_zerocopy",
    [ZC_URING] = "uring",
    [ZC_DIRECT] = "direct",
};

static zc__method_fn *const method_fns[ZC_METHOD_COUNT] = {
    [ZC_READWRITE] = zc__m_readwrite,
    [ZC_MMAP] = zc__m_mmap,
    [ZC_SENDFILE] = zc__m_sendfile,
    [ZC_SPLICE] = zc__m_splice,
    [ZC_COPY_FILE_RANGE] = zc__m_copy_file_range,
    [ZC_MSG_ZEROCOPY] = zc__m_msg_zerocopy,
    [ZC_URING] = zc__m_uring,
    [ZC_DIRECT] = zc__m_direct,
};

ZC_EXPORT const char *zc_method_name(enum zc_method m)
{
    return (unsigned)m < ZC_METHOD_COUNT ? method_names[m] : "unknown";
}

ZC_EXPORT int zc_method_parse(const char *name, enum zc_method *out)
{
    if (!name || !out)
        return -EINVAL;
    for (unsigned i = 0; i < ZC_METHOD_COUNT; i++) {
        if (strcmp(name, method_names[i]) == 0) {
            *out = (enum zc_method)i;
            return 0;
        }
    }
    return -EINVAL;
}

enum zc_kind zc__kind(mode_t mode)
{
    if (S_ISREG(mode) || S_ISBLK(mode))
        return ZC_KIND_FILE;
    if (S_ISFIFO(mode))
        return ZC_KIND_PIPE;
    if (S_ISSOCK(mode))
        return ZC_KIND_SOCKET;
    if (S_ISCHR(mode))
        return ZC_KIND_CHAR;
    return ZC_KIND_OTHER;
}

/* ZC_AUTO's order of preference per (source, sink) kind. readwrite ends every
 * chain because it serves any pair; the rest are tried while they refuse.
 * copy_file_range is only tried file -> file: it answers EINVAL for a socket,
 * and trying it first there would only cost a syscall (libuv's old bug made
 * it shadow sendfile). mmap comes before readwrite for every file source:
 * it saves a copy where the others refuse (an O_APPEND target), and it is
 * the only one that reads an O_DIRECT fd at an unaligned offset or length,
 * where pread, sendfile and splice all answer EINVAL. */
#define CHAIN_MAX 5
static const uint8_t chain_file_file[CHAIN_MAX] = {
    ZC_COPY_FILE_RANGE, ZC_SENDFILE, ZC_SPLICE, ZC_MMAP, ZC_READWRITE };
static const uint8_t chain_file_socket[CHAIN_MAX] = {
    ZC_SENDFILE, ZC_SPLICE, ZC_MMAP, ZC_READWRITE };
static const uint8_t chain_file_pipe[CHAIN_MAX] = {
    ZC_SPLICE, ZC_SENDFILE, ZC_MMAP, ZC_READWRITE };
static const uint8_t chain_file_other[CHAIN_MAX] = {
    ZC_SENDFILE, ZC_SPLICE, ZC_MMAP, ZC_READWRITE };
static const uint8_t chain_splice[CHAIN_MAX] = { ZC_SPLICE, ZC_READWRITE };
static const uint8_t chain_any[CHAIN_MAX] = { ZC_READWRITE };

static const uint8_t *auto_chain(enum zc_kind in, enum zc_kind out)
{
    if (in == ZC_KIND_FILE) {
        switch (out) {
        case ZC_KIND_FILE:   return chain_file_file;
        case ZC_KIND_SOCKET: return chain_file_socket;
        case ZC_KIND_PIPE:   return chain_file_pipe;
        default:             return chain_file_other;
        }
    }
    /* A pipe on either side, or socket -> file/socket: splice moves it
     * without a user-space copy (through the ctx pipe where neither is one). */
    if (in == ZC_KIND_PIPE || out == ZC_KIND_PIPE ||
        (in == ZC_KIND_SOCKET && (out == ZC_KIND_FILE || out == ZC_KIND_SOCKET)))
        return chain_splice;
    return chain_any;
}

/* The two fds as ZC_AUTO sees them: kinds to choose a chain, identities to
 * remember refusals by. */
struct fd_pair {
    enum zc_kind in, out;
    dev_t in_dev, out_dev;
    ino_t in_ino, out_ino;
};

static int fd_pair_get(zc_ctx *ctx, int out_fd, int in_fd, struct fd_pair *fp)
{
    struct stat st;
    int ret;

    ret = zc__fstat(ctx, in_fd, &st);
    if (ret < 0)
        return ret;
    fp->in = zc__kind(st.st_mode);
    fp->in_dev = st.st_dev;
    fp->in_ino = st.st_ino;
    ret = zc__fstat(ctx, out_fd, &st);
    if (ret < 0)
        return ret;
    fp->out = zc__kind(st.st_mode);
    fp->out_dev = st.st_dev;
    fp->out_ino = st.st_ino;
    return 0;
}

static struct zc_pair_memo *memo_find(zc_ctx *ctx, const struct fd_pair *fp)
{
    for (unsigned i = 0; i < ZC_PAIR_MEMO; i++) {
        struct zc_pair_memo *m = &ctx->pair_memo[i];

        if (m->dead && m->in_ino == fp->in_ino && m->out_ino == fp->out_ino &&
            m->in_dev == fp->in_dev && m->out_dev == fp->out_dev)
            return m;
    }
    return NULL;
}

/* Methods ZC_AUTO skips for this pair. */
static uint32_t dead_for(zc_ctx *ctx, const struct fd_pair *fp)
{
    const struct zc_pair_memo *m = memo_find(ctx, fp);

    return ctx->dead_all | (m ? m->dead : 0);
}

/* What a refusal teaches depends on who refused: a kernel without the call
 * (ENOSYS) or a seccomp filter (EPERM) refuses every pair, but EINVAL,
 * EXDEV and EOPNOTSUPP come from these two files (an O_APPEND target, two
 * file systems, a file system without the operation) and say nothing about
 * the next pair of the same kinds. EPERM is also what a write-sealed or
 * immutable target answers every method; it is taken for a filter only
 * when a later method then served the same pair. */
static void memo_learn(zc_ctx *ctx, const struct fd_pair *fp, uint32_t refused,
                       uint32_t eperm)
{
    struct zc_pair_memo *m;

    ctx->dead_all |= eperm;
    refused &= ~eperm;
    if (!refused)
        return;
    m = memo_find(ctx, fp);
    if (!m) {
        m = &ctx->pair_memo[ctx->pair_memo_next];
        ctx->pair_memo_next = (ctx->pair_memo_next + 1) % ZC_PAIR_MEMO;
        *m = (struct zc_pair_memo){ .in_dev = fp->in_dev, .out_dev = fp->out_dev,
                                    .in_ino = fp->in_ino, .out_ino = fp->out_ino };
    }
    m->dead |= refused;
}

/* The one definition of a refusal, for ZC_AUTO's chain and for callers that
 * name a method (the server). */
ZC_EXPORT int zc_method_refused(ssize_t err)
{
    return err == -EINVAL || err == -ENOSYS || err == -EXDEV ||
           err == -EOPNOTSUPP || err == -EPERM;
}

static void note_fallback(zc_ctx *ctx, enum zc_method from, enum zc_method to,
                          ssize_t err)
{
    struct zc_stats *st = &ctx->stats;
    struct zc_fallback *slot;

    /* A kernel without the call will not change its mind. */
    if (err == -ENOSYS)
        ctx->dead_all |= 1u << from;

    st->fallbacks++;
    st->method[from].refused++;
    if (st->fallback_log_len == ZC_FALLBACK_LOG) {
        memmove(st->fallback_log, st->fallback_log + 1,
                sizeof(st->fallback_log) - sizeof(st->fallback_log[0]));
        st->fallback_log_len--;
    }
    slot = &st->fallback_log[st->fallback_log_len++];
    slot->from = (uint8_t)from;
    slot->to = (uint8_t)to;
    slot->error = (int32_t)err;
}

ZC_EXPORT int zc_method_choose(zc_ctx *ctx, int out_fd, int in_fd,
                               enum zc_method *out)
{
    struct fd_pair fp;
    const uint8_t *chain;
    uint32_t dead;
    int ret;

    if (!ctx || !out)
        return -EINVAL;
    ctx->cur = ZC_AUTO;
    ret = fd_pair_get(ctx, out_fd, in_fd, &fp);
    if (ret < 0)
        return ret;
    chain = auto_chain(fp.in, fp.out);
    dead = dead_for(ctx, &fp);
    for (int i = 0; i < CHAIN_MAX && chain[i]; i++) {
        if (!(dead & (1u << chain[i]))) {
            *out = (enum zc_method)chain[i];
            return 0;
        }
    }
    *out = ZC_READWRITE;
    return 0;
}

static ssize_t run_method(zc_ctx *ctx, enum zc_method m, int out_fd, int in_fd,
                          off_t *off, size_t count)
{
    ctx->cur = m;
    ctx->stats.method[m].calls++;
    return method_fns[m](ctx, out_fd, in_fd, off, count);
}

/* The method the chain goes to after chain[i]: the next one not known dead
 * (the last one always runs). What the fallback log names as "to". */
static enum zc_method next_live(const uint8_t *chain, int i, uint32_t dead)
{
    int j = i + 1;

    while (j + 1 < CHAIN_MAX && chain[j + 1] && (dead & (1u << chain[j])))
        j++;
    return (enum zc_method)chain[j];
}

static ssize_t run_auto(zc_ctx *ctx, const struct fd_pair *pair, int out_fd,
                        int in_fd, off_t *off, size_t count, enum zc_method *used)
{
    uint32_t dead, refused = 0, eperm = 0;
    struct fd_pair fp;
    const uint8_t *chain;
    ssize_t ret = -EINVAL;      /* every chain has a method; for the compiler */
    int i;

    if (pair) {
        fp = *pair;
    } else {
        ctx->cur = ZC_AUTO;
        ret = fd_pair_get(ctx, out_fd, in_fd, &fp);
        if (ret < 0)
            return ret;
    }
    chain = auto_chain(fp.in, fp.out);
    ctx->kinds_known = true;
    ctx->kind_in = fp.in;
    ctx->kind_out = fp.out;
    dead = dead_for(ctx, &fp);
    for (i = 0; i < CHAIN_MAX && chain[i]; i++) {
        enum zc_method m = (enum zc_method)chain[i];
        bool last = i + 1 == CHAIN_MAX || !chain[i + 1];

        if (!last && (dead & (1u << m)))
            continue;
        *used = m;
        ret = run_method(ctx, m, out_fd, in_fd, off, count);
        if (last || !zc_method_refused(ret))
            break;
        note_fallback(ctx, m, next_live(chain, i, dead | ctx->dead_all), ret);
        refused |= 1u << m;
        if (ret == -EPERM)
            eperm |= 1u << m;
    }
    ctx->kinds_known = false;
    /* Learn only from refusals another method then overcame: when every
     * method fails, the fault is the fds', not the methods'. */
    if (refused && (ret >= 0 || ret == -EAGAIN))
        memo_learn(ctx, &fp, refused, eperm);
    return ret;
}

static bool same_source(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
           a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* SIGPIPE would kill a caller that did not ask for it: block it around the
 * transfer and swallow the one a broken pipe raised. A caller that blocks
 * SIGPIPE itself would otherwise find ours pending later; one that was
 * already pending before the call is the caller's own and stays. */
struct sigpipe_guard {
    bool armed;
    bool was_pending;
    sigset_t old;
};

static void sigpipe_block(zc_ctx *ctx, struct sigpipe_guard *g)
{
    sigset_t set;

    g->armed = false;
    g->was_pending = false;
    if (ctx->flags & ZC_SIGPIPE_HANDLED)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    ctx->stats.syscalls++;
    if (pthread_sigmask(SIG_BLOCK, &set, &g->old) != 0)
        return;
    g->armed = true;
    if (sigismember(&g->old, SIGPIPE)) {
        ctx->stats.syscalls++;
        g->was_pending = sigpending(&set) == 0 && sigismember(&set, SIGPIPE);
    }
}

static void sigpipe_restore(zc_ctx *ctx, struct sigpipe_guard *g, ssize_t ret)
{
    sigset_t set;

    if (!g->armed)
        return;
    /* A method that moved bytes before out_fd broke returns the count, yet
     * the kernel raised SIGPIPE all the same: look whenever EPIPE was seen. */
    if ((ret == -EPIPE || ctx->saw_epipe) && !g->was_pending) {
        const struct timespec zero = { 0, 0 };

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        ctx->stats.syscalls++;
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ctx->stats.syscalls++;
    }
    if (sigismember(&g->old, SIGPIPE))
        return;                 /* it was blocked already: nothing to restore */
    ctx->stats.syscalls++;
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static ssize_t dispatch(zc_ctx *ctx, const struct fd_pair *pair,
                        enum zc_method method, int out_fd, int in_fd,
                        off_t *off, size_t count, enum zc_method *used)
{
    *used = method;
    if (method == ZC_AUTO)
        return run_auto(ctx, pair, out_fd, in_fd, off, count, used);
    return run_method(ctx, method, out_fd, in_fd, off, count);
}

static ssize_t transfer(zc_ctx *ctx, int out_fd, int in_fd, off_t *offset,
                        size_t count, enum zc_method method, bool in_is_stream);

/* What a transfer moved, or that it failed, in the ctx's stats. */
static void bill(zc_ctx *ctx, enum zc_method used, ssize_t ret)
{
    if (ret > 0) {
        ctx->stats.bytes += (uint64_t)ret;
        ctx->stats.method[used].bytes += (uint64_t)ret;
    } else if (ret < 0 && ret != -EAGAIN) {
        ctx->stats.method[used].errors++;
    }
}

ZC_EXPORT ssize_t zc_transfer(zc_ctx *ctx, int out_fd, int in_fd, off_t *offset,
                              size_t count, enum zc_method method)
{
    return transfer(ctx, out_fd, in_fd, offset, count, method, false);
}

ssize_t zc__transfer_stream(zc_ctx *ctx, int out_fd, int in_fd, size_t count,
                            enum zc_method method)
{
    return transfer(ctx, out_fd, in_fd, NULL, count, method, true);
}

static ssize_t transfer(zc_ctx *ctx, int out_fd, int in_fd, off_t *offset,
                        size_t count, enum zc_method method, bool in_is_stream)
{
    struct sigpipe_guard guard;
    struct stat before, after;
    enum zc_method used = method;
    struct fd_pair pair, *pairp = NULL;
    off_t pos = 0, start = 0, *off = offset;
    bool own_pos = false;
    ssize_t ret;

    if (!ctx || (unsigned)method >= ZC_METHOD_COUNT)
        return -EINVAL;
    if (out_fd < 0 || in_fd < 0)
        return -EBADF;
    ctx->stats.calls++;
    if (count == 0)
        return 0;
    /* The count moved is returned as ssize_t: a stream source asked for
     * "everything" (SIZE_MAX) must not come back negative. */
    if (count > (size_t)SSIZE_MAX)
        count = (size_t)SSIZE_MAX;
    ctx->cur = method;

    if (off && *off < 0)
        return -EINVAL;
    if (method == ZC_AUTO) {
        /* ZC_AUTO fstats both fds anyway: do it first, so a pipe or socket
         * source skips the lseek that could only fail with ESPIPE. */
        ret = fd_pair_get(ctx, out_fd, in_fd, &pair);
        if (ret < 0)
            return ret;
        pairp = &pair;
    }
    if (!off && !in_is_stream &&
        !(pairp && (pair.in == ZC_KIND_PIPE || pair.in == ZC_KIND_SOCKET))) {
        /* A seekable source gets an explicit offset so every method can use
         * pread-style calls; its file position is advanced afterwards. */
        pos = zc__lseek(ctx, in_fd, 0, SEEK_CUR);
        if (pos >= 0) {
            off = &pos;
            start = pos;
            own_pos = true;
        } else if (pos != -ESPIPE) {
            return pos;
        }
    }
    if (off) {
        if (*off == ZC_OFF_MAX)
            return -EOVERFLOW;
        if (count > (uint64_t)(ZC_OFF_MAX - *off))
            count = (size_t)(ZC_OFF_MAX - *off);
    }

    if (ctx->flags & ZC_VERIFY_SOURCE) {
        ret = zc__fstat(ctx, in_fd, &before);
        if (ret < 0)
            return ret;
    }

    ctx->saw_epipe = false;
    sigpipe_block(ctx, &guard);
    ret = dispatch(ctx, pairp, method, out_fd, in_fd, off, count, &used);
    if (ret == -ESPIPE && own_pos && pos == start) {
        /* lseek accepted but pread refused: eventfd, timerfd, signalfd and
         * the like have no file position to speak of. Read it as a stream. */
        own_pos = false;
        off = NULL;
        ret = dispatch(ctx, pairp, method, out_fd, in_fd, off, count, &used);
    }
    sigpipe_restore(ctx, &guard, ret);
    bill(ctx, used, ret);

    if (own_pos) {
        off_t r = zc__lseek(ctx, in_fd, pos, SEEK_SET);

        if (r < 0 && ret >= 0)
            ret = r;
    }

    /* Only a regular file's pages go out by reference and can change under
     * a transfer; a FIFO's times change with every write, and its bytes are
     * consumed once: they cannot arrive mixed. */
    if ((ctx->flags & ZC_VERIFY_SOURCE) && ret >= 0 && S_ISREG(before.st_mode)) {
        int r = zc__fstat(ctx, in_fd, &after);

        if (r < 0)
            return r;
        if (!same_source(&before, &after)) {
            ctx->stats.stale++;
            return -ESTALE;
        }
    }
    return ret;
}

ssize_t zc__transfer_from_mem(zc_ctx *ctx, int out_fd, const void *buf, size_t count)
{
    struct sigpipe_guard guard;
    size_t done = 0;
    ssize_t ret = 0;

    if (out_fd < 0)
        return -EBADF;
    ctx->stats.calls++;
    ctx->cur = ZC_READWRITE;
    ctx->saw_epipe = false;
    sigpipe_block(ctx, &guard);
    /* Until all went or out_fd stops: a short write on a non-blocking fd is
     * followed by one that says -EAGAIN, as the readwrite method does. */
    while (done < count) {
        ssize_t n = zc__write(ctx, out_fd, (const char *)buf + done, count - done);

        if (n <= 0) {
            ret = n == 0 ? -EIO : n;
            break;
        }
        done += (size_t)n;
    }
    if (done > 0)
        ret = (ssize_t)done;
    sigpipe_restore(ctx, &guard, ret);
    bill(ctx, ZC_READWRITE, ret);
    return ret;
}
