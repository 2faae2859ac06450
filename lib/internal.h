/* internal.h - what the method files share with the dispatcher. Not installed. */
#ifndef ZC_INTERNAL_H
#define ZC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>

#include "zcopy.h"

#define ZC_EXPORT __attribute__((visibility("default")))
#define ZC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ZC_MIN(a, b) ((a) < (b) ? (a) : (b))

/* sendfile(2) and splice(2) move at most this much per call (MAX_RW_COUNT). */
#define ZC_MAX_RW_COUNT ((size_t)0x7ffff000)
#define ZC_DEFAULT_CHUNK ((size_t)256 << 10)
#define ZC_MAX_CHUNK ((size_t)64 << 20)
#define ZC_DEFAULT_PIPE ((size_t)1 << 20)
#define ZC_OFF_MAX ((off_t)INT64_MAX)
/* The direct method's reads in flight, and the bytes each one asks for. */
#define ZC_DIRECT_DEFAULT_DEPTH 4u
#define ZC_DIRECT_MAX_DEPTH 64u
#define ZC_DIRECT_DEFAULT_BUF ((size_t)2 << 20)

/* What an fd is, as far as choosing a method goes. */
enum zc_kind {
    ZC_KIND_FILE,       /* regular file (or block device): seekable, mmap-able */
    ZC_KIND_PIPE,       /* pipe or FIFO */
    ZC_KIND_SOCKET,
    ZC_KIND_CHAR,       /* character device, e.g. /dev/null */
    ZC_KIND_OTHER,
    ZC_KIND_COUNT
};

/* The splice method's pipe. bytes > 0 means the pipe holds data read from
 * in_fd at [next_off - bytes, next_off) that has not reached out_fd yet. */
struct zc_splice_pipe {
    int fd[2];          /* -1 when not created */
    size_t size;        /* capacity after F_SETPIPE_SZ */
    size_t bytes;       /* bytes held for the owner below */
    int owner_in, owner_out;
    off_t next_off;     /* in_fd offset just past the held bytes (-1: no offset) */
};

/* Bytes read from a non-seekable source by readwrite/direct that out_fd did
 * not take yet; they live in ctx->buf at [start, start + len). */
struct zc_rw_pending {
    int owner_in, owner_out;
    size_t start, len;
};

/* What ZC_AUTO learned about one (source, sink) pair of open files: the
 * methods that refused it. Keyed by device and inode, which, unlike fd
 * numbers, are not reused while the files are open. dead == 0: empty slot. */
#define ZC_PAIR_MEMO 4
struct zc_pair_memo {
    dev_t in_dev, out_dev;
    ino_t in_ino, out_ino;
    uint32_t dead;
};

struct zc_uring;
struct zc_msgzc;
struct zc_dq;

struct zc_ctx {
    struct zc_stats stats;
    unsigned flags;
    size_t chunk;
    size_t pipe_want;
    enum zc_method cur;             /* syscalls are billed to this method */
    /* Set by ZC_AUTO while it runs a method: the fd kinds it already
     * fstat'ed, so the method need not ask again. Never set otherwise. */
    bool kinds_known;
    enum zc_kind kind_in, kind_out;
    /* A wrapper in sys.c saw EPIPE during this transfer: a SIGPIPE may be
     * pending even when the method returned a count (bytes moved first). */
    bool saw_epipe;
    /* Methods that refused a given pair of files (by inode, never by fd
     * number), and methods the kernel lacks entirely (ENOSYS, seccomp EPERM). */
    struct zc_pair_memo pair_memo[ZC_PAIR_MEMO];
    unsigned pair_memo_next;
    uint32_t dead_all;
    void *buf;                      /* readwrite bounce buffer, chunk bytes */
    void *buf_spare;                /* used while buf holds a stream's bytes */
    /* The direct method: its reads in flight and buffers, its settings,
     * and io_uring's refusal (-EPERM, -ENOSYS) once seen. */
    struct zc_dq *dq;
    unsigned direct_depth;
    size_t direct_buf;
    int direct_uring_refusal;
    struct zc_rw_pending rw_pending;
    struct zc_splice_pipe pipe;
    struct zc_uring *uring;
    struct zc_msgzc *msgzc;
};

static inline void zc__count(zc_ctx *ctx)
{
    ctx->stats.syscalls++;
    ctx->stats.method[ctx->cur].syscalls++;
}

/* A method moves bytes with the contract of zc_transfer(), except:
 * - count > 0, and ctx->cur is already set to the method;
 * - off is NULL only when in_fd is not seekable (the dispatcher turns a NULL
 *   offset on a seekable fd into an explicit one);
 * - it returns -EINVAL (or -EOPNOTSUPP, -EXDEV, -ENOSYS) without moving
 *   anything when it cannot serve the pair, so ZC_AUTO can fall back. */
typedef ssize_t zc__method_fn(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                              size_t count);

zc__method_fn zc__m_readwrite, zc__m_mmap, zc__m_sendfile, zc__m_splice,
    zc__m_copy_file_range, zc__m_msg_zerocopy, zc__m_uring, zc__m_direct;

/* zc_transfer() from a source the caller knows is a pipe or socket: no
 * lseek to find out (pool.c sends through a pipe of its own). */
ssize_t zc__transfer_stream(zc_ctx *ctx, int out_fd, int in_fd, size_t count,
                            enum zc_method method);

/* zc_transfer() of @count bytes (0 < @count <= SSIZE_MAX: a slice) at @buf in
 * this process: write(2) until
 * all went or out_fd stops, with the SIGPIPE guard, billed to ZC_READWRITE
 * (the kernel copies them). pool.c sends a slice's first copies with it. */
ssize_t zc__transfer_from_mem(zc_ctx *ctx, int out_fd, const void *buf, size_t count);

/* Per-method teardown, called by zc_ctx_free(). */
void zc__splice_release(zc_ctx *ctx);
void zc__uring_release(zc_ctx *ctx);
void zc__msgzc_release(zc_ctx *ctx);
void zc__direct_release(zc_ctx *ctx);   /* direct_queue.c */

/* The bounce buffer (ctx->chunk bytes), allocated on first use. NULL: ENOMEM. */
void *zc__buf(zc_ctx *ctx);

enum zc_kind zc__kind(mode_t mode);

/* sys.c: syscalls that retry EINTR, return -errno, and count every attempt. */
ssize_t zc__read(zc_ctx *ctx, int fd, void *buf, size_t len);
ssize_t zc__pread(zc_ctx *ctx, int fd, void *buf, size_t len, off_t off);
ssize_t zc__write(zc_ctx *ctx, int fd, const void *buf, size_t len);
ssize_t zc__send(zc_ctx *ctx, int fd, const void *buf, size_t len, int flags);
ssize_t zc__sendfile(zc_ctx *ctx, int out_fd, int in_fd, off_t *off, size_t len);
ssize_t zc__splice(zc_ctx *ctx, int in_fd, off_t *in_off, int out_fd,
                   off_t *out_off, size_t len, unsigned flags);
ssize_t zc__copy_file_range(zc_ctx *ctx, int in_fd, off_t *in_off, int out_fd,
                            size_t len);
int zc__fstat(zc_ctx *ctx, int fd, struct stat *st);
off_t zc__lseek(zc_ctx *ctx, int fd, off_t off, int whence);
int zc__fcntl(zc_ctx *ctx, int fd, int cmd, int arg);
/* mmap: 0 and *addr set, or -errno. */
int zc__mmap(zc_ctx *ctx, void **addr, size_t len, int prot, int flags, int fd,
             off_t off);
int zc__munmap(zc_ctx *ctx, void *addr, size_t len);
int zc__pipe(zc_ctx *ctx, int fd[2], int flags); /* O_CLOEXEC always added */
int zc__close(zc_ctx *ctx, int fd);

/* source_map.c - mapping a source file, with one errno rule for every method
 * that maps: EACCES (in_fd not open for reading) becomes -EBADF, ENODEV (a
 * file system or pseudo-file without mmap) becomes -EINVAL, the "cannot
 * serve this pair" of zc_method_refused(), so ZC_AUTO falls back.
 * zc__map_source: PROT_READ, MAP_SHARED. Return: 0 with *addr set, or -errno. */
int zc__map_source(zc_ctx *ctx, void **addr, size_t len, int fd, off_t off);
/* zc__probe_mappable: a size-0 file may be empty or a pseudo-file (procfs)
 * whose bytes only read(2) produces; mapping one page tells them apart.
 * Return: 0 (mappable: really empty), or -errno as above. */
int zc__probe_mappable(zc_ctx *ctx, int fd);

/* pipe.c - a pipe for splicing, sized to ctx->pipe_want. F_SETPIPE_SZ above
 * /proc/sys/fs/pipe-max-size (or past the user's pipe page budget) fails
 * with EPERM/ENOMEM: ask for half until it fits, and as a last resort keep
 * the size the pipe was created with. Return: 0 with fd[] open and *size
 * its capacity, or -errno with nothing open. */
int zc__pipe_open_sized(zc_ctx *ctx, int fd[2], size_t *size);

#endif /* ZC_INTERNAL_H */
