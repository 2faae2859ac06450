/* zcopy.h - move a byte range from one fd to another with as few CPU copies
 * and user/kernel switches as Linux allows.
 *
 * Every fallible call returns a count or 0 on success, and -errno on failure;
 * callers never read errno (except after zc_ctx_new(), which follows malloc).
 * File descriptors passed in are borrowed: the library never closes them.
 * The library never prints, never exits and never raises a signal in the caller.
 */
#ifndef ZCOPY_H
#define ZCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZC_VERSION_MAJOR 0
#define ZC_VERSION_MINOR 1
#define ZC_VERSION_PATCH 0
#define ZC_VERSION_STRING "0.1.0"

/* One per thread: owns the splice pipe, the io_uring ring, the bounce buffers,
 * the memory of which paths failed, and the statistics. Not thread-safe. */
typedef struct zc_ctx zc_ctx;

enum zc_method {
    ZC_AUTO,            /* pick by fd types, fall back on refusal */
    ZC_READWRITE,       /* read + write through a user buffer: any -> any */
    ZC_MMAP,            /* mmap the source + write from the mapping */
    ZC_SENDFILE,        /* sendfile(2): file -> anything */
    ZC_SPLICE,          /* splice(2) through a per-ctx pipe: any -> any */
    ZC_COPY_FILE_RANGE, /* copy_file_range(2): file -> file */
    ZC_MSG_ZEROCOPY,    /* mmap + send(MSG_ZEROCOPY): file -> TCP socket */
    ZC_URING,           /* io_uring SPLICE / SEND_ZC: file -> socket or pipe */
    ZC_DIRECT,          /* O_DIRECT read into an aligned buffer + write */
    ZC_METHOD_COUNT
};

/* zc_ctx_new - allocate a context.
 * Return: the context, or NULL with errno set (ENOMEM). */
zc_ctx *zc_ctx_new(void);

/* zc_ctx_free - release the context and everything it holds (pipes, ring,
 * buffers, mappings still waiting for zero-copy completions). NULL-safe. */
void zc_ctx_free(zc_ctx *ctx);

/* zc_transfer - move up to @count bytes from @in_fd to @out_fd.
 * @offset: where to read in @in_fd; updated by the bytes that reached @out_fd.
 *          NULL means @in_fd's file position, which is then advanced (for a
 *          seekable @in_fd) or simply consumed (pipe, socket).
 * @method: a named technique, or ZC_AUTO.
 *
 * Blocking @out_fd: returns only when @count bytes moved, at end of input, or
 * on error. Non-blocking @out_fd (or @in_fd): returns what moved before the fd
 * would block, or -EAGAIN if nothing did; *offset is always exact, so the
 * caller resumes after poll(). @count == 0 moves nothing and returns 0.
 *
 * A source that shrinks during the transfer ends it at the new end of file: the
 * call returns a short count (or 0), never raises SIGBUS, never spins.
 *
 * Return: bytes moved (> 0); 0 at end of input; or
 *   -EINVAL     the method cannot serve this fd pair (ZC_AUTO never returns it
 *               where ZC_READWRITE would succeed), or a bad argument
 *   -EBADF      a fd is not open, or not open for the needed direction
 *   -EAGAIN     non-blocking fd, nothing moved
 *   -EPIPE, -ECONNRESET   the peer went away (no SIGPIPE is raised)
 *   -ESTALE     ZC_VERIFY_SOURCE is set and the source changed during the call
 *   -EOVERFLOW  the offset would pass the largest file offset
 *   other -errno from the underlying calls */
ssize_t zc_transfer(zc_ctx *ctx, int out_fd, int in_fd, off_t *offset,
                    size_t count, enum zc_method method);

/* zc_method_name - "sendfile" for ZC_SENDFILE; "unknown" for values out of range. */
const char *zc_method_name(enum zc_method m);

/* zc_method_parse - inverse of zc_method_name. Return: 0, or -EINVAL. */
int zc_method_parse(const char *name, enum zc_method *out);

/* zc_method_choose - the method ZC_AUTO would try first for this fd pair in
 * this ctx (after what the ctx learned failed). Lets a caller that moves many
 * ranges between fds of the same kinds decide once.
 * Return: 0 with *out set, or -EBADF. */
int zc_method_choose(zc_ctx *ctx, int out_fd, int in_fd, enum zc_method *out);

/* Context flags, set with zc_ctx_set_flags(). */
enum zc_ctx_flag {
    /* fstat the source before and after each transfer (2 extra syscalls) and
     * fail with -ESTALE when its size, mtime, ctime or inode changed: sendfile
     * and splice send page-cache pages by reference, so the bytes leaving are
     * what the file holds when they leave, not when the call began. Only a
     * regular file source is compared. */
    ZC_VERIFY_SOURCE = 1u << 0,
    /* The caller guarantees SIGPIPE is ignored or blocked in this thread: the
     * library then skips its own SIGPIPE guard (2 rt_sigprocmask calls per
     * transfer that may write to a pipe or socket). Servers set this. */
    ZC_SIGPIPE_HANDLED = 1u << 1,
};

/* zc_ctx_set_flags - replace the ctx's flags. Return: 0, or -EINVAL for an
 * unknown bit. */
int zc_ctx_set_flags(zc_ctx *ctx, unsigned flags);
unsigned zc_ctx_flags(const zc_ctx *ctx);

/* zc_ctx_set_chunk - bytes per read/write (readwrite, mmap window),
 * default 256 KiB; rounded up to a page multiple, at most 64 MiB.
 * Return: 0, or -EINVAL. */
int zc_ctx_set_chunk(zc_ctx *ctx, size_t bytes);

/* zc_ctx_set_pipe_size - requested size of the splice pipe, default 1 MiB
 * (capped by /proc/sys/fs/pipe-max-size: best effort). Return: 0, or -EINVAL. */
int zc_ctx_set_pipe_size(zc_ctx *ctx, size_t bytes);

/* zc_ctx_set_direct_depth - aligned reads ZC_DIRECT keeps in flight through
 * io_uring, 1..64, default 4 (1 without io_uring). Return: 0, or -EINVAL. */
int zc_ctx_set_direct_depth(zc_ctx *ctx, unsigned depth);

/* zc_ctx_set_direct_buf - bytes per ZC_DIRECT read, default 2 MiB; rounded
 * up to a page (and the file's direct-I/O alignment), at most 64 MiB. The
 * ctx holds depth x bytes of buffers once ZC_DIRECT ran. Return: 0, or -EINVAL. */
int zc_ctx_set_direct_buf(zc_ctx *ctx, size_t bytes);

struct zc_method_stats {
    uint64_t calls;         /* zc_transfer calls served (or attempted) by it */
    uint64_t bytes;         /* bytes it moved to out_fd */
    uint64_t syscalls;      /* syscalls it issued, io_uring_enter included */
    uint64_t errors;        /* calls that ended in an error other than -EAGAIN */
    uint64_t refused;       /* times it could not serve a pair (ZC_AUTO fell back) */
    uint64_t zc_sent;       /* zero-copy sends whose completion arrived */
    uint64_t zc_copied;     /* of those, bytes the kernel reported it copied anyway */
};

#define ZC_FALLBACK_LOG 16

struct zc_fallback {
    uint8_t from, to;       /* enum zc_method */
    int32_t error;          /* the -errno that caused it */
};

struct zc_stats {
    uint64_t bytes;         /* all bytes moved */
    uint64_t syscalls;      /* all syscalls issued on behalf of transfers */
    uint64_t calls;         /* zc_transfer calls */
    uint64_t fallbacks;     /* ZC_AUTO fallbacks, total */
    uint64_t stale;         /* transfers failed with -ESTALE */
    struct zc_method_stats method[ZC_METHOD_COUNT];
    /* The last ZC_FALLBACK_LOG fallbacks, oldest first (fallbacks may exceed it). */
    unsigned fallback_log_len;
    struct zc_fallback fallback_log[ZC_FALLBACK_LOG];
};

/* zc_ctx_stats - copy the ctx's counters into *out. */
void zc_ctx_stats(const zc_ctx *ctx, struct zc_stats *out);

/* zc_ctx_stats_reset - zero the counters (what the ctx learned stays). */
void zc_ctx_stats_reset(zc_ctx *ctx);

/* zc_version - ZC_VERSION_STRING of the linked library. */
const char *zc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ZCOPY_H */
