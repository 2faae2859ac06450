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
 *   a refusal   the method cannot serve this fd pair here: see
 *               zc_method_refused(). ZC_AUTO falls back on these and never
 *               returns one where ZC_READWRITE would succeed.
 *   -EINVAL     also a bad argument
 *   -EBADF      a fd is not open, or not open for the needed direction
 *   -EAGAIN     non-blocking fd, nothing moved
 *   -EPIPE, -ECONNRESET   the peer went away (no SIGPIPE is raised)
 *   -ESTALE     ZC_VERIFY_SOURCE is set and the source changed during the call
 *   -EOVERFLOW  the offset would pass the largest file offset
 *   other -errno from the underlying calls */
ssize_t zc_transfer(zc_ctx *ctx, int out_fd, int in_fd, off_t *offset,
                    size_t count, enum zc_method method);

/* zc_method_refused - whether @err, a return of zc_transfer(), means "this
 * method cannot serve this fd pair here" rather than "the transfer failed":
 * a caller that named a method then retries with another one (or ZC_AUTO),
 * which is what ZC_AUTO does along its chain. The refusals, and who answers
 * them:
 *   -EINVAL      the fd kinds do not fit the method (sendfile from a pipe,
 *                splice into an O_APPEND file, copy_file_range to a socket)
 *   -ENOSYS      the kernel lacks the call
 *   -EOPNOTSUPP  the file system lacks the operation, or the library was
 *                built without it (uring without liburing)
 *   -EXDEV       copy_file_range across file systems
 *   -EPERM       a seccomp policy or sysctl refuses the call (Docker's
 *                default profile refuses io_uring this way); also what a
 *                sealed or immutable target answers every method, so a
 *                fallback then fails with -EPERM too
 * Nothing has moved when a method refuses: *offset is unchanged.
 * Return: 1 for a refusal, 0 for anything else (counts, -EAGAIN, I/O errors). */
int zc_method_refused(ssize_t err);

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

/* ---- zc_pool: shared buffers (buffer sharing and copy-on-write) --------
 *
 * A bounded pool of memory in a memfd. A program allocates a slice, fills it
 * through a pointer, and sends it to any number of fds with zc_pool_send():
 * sendfile/splice hand the kernel references to the slice's pages, so N
 * receivers cost one fill, not N copies (the articles' "buffer sharing").
 * The pool fd can be passed to another process (SCM_RIGHTS) and attached
 * there: the same pages, read and sent without a copy.
 *
 * The first send of a slice's content goes by copy (write(2) from the
 * mapping, or pread + write): the kernel keeps no reference, and the slice
 * stays writable, so one receiver costs one write and no fresh pages. A
 * later send goes by reference (zc_pool_set_copy_sends changes how many
 * copies come first). Once sent by reference, a slice is frozen: socket
 * and pipe queues still hold its pages. Rewriting it (zc_pool_rewrite) or
 * reusing its memory after zc_pool_release never touches those pages: the pool punches the range out of the memfd
 * (FALLOC_FL_PUNCH_HOLE) and fills it with fresh pages, while the old ones
 * live until the kernel drops its last reference (copy-on-write). Bytes in
 * flight never change. See zc_pool(3) and docs/METHODS.md.
 *
 * A pool is not thread-safe; one owner allocates, attached processes only
 * read and send. */
typedef struct zc_pool zc_pool;

/* A slice: page-aligned in the memfd, @len bytes usable at @data. */
struct zc_slice {
    off_t off;          /* offset in the pool's memfd (a page multiple) */
    size_t len;         /* bytes asked for */
    void *data;         /* this process's view: writable until sent (owner),
                         * read-only in an attached pool */
};

struct zc_pool_stats {
    uint64_t allocs;        /* slices handed out */
    uint64_t full;          /* zc_pool_alloc answers of -ENOMEM */
    uint64_t sends;         /* zc_pool_send calls */
    uint64_t bytes_sent;    /* bytes that reached an fd */
    uint64_t bytes_copied;  /* of those, bytes known to be copied: the first
                             * sends (sends_by_copy), a copying method, or a
                             * regular file seen by ZC_AUTO */
    uint64_t pages_punched; /* pages given up to whoever still references
                             * them, replaced by fresh ones */
    uint64_t syscalls;      /* issued by the pool itself (fallocate, pwrite,
                             * fstat); the sends are counted in the ctx */
    uint64_t sends_by_copy; /* zc_pool_send calls that wrote from the mapping
                             * to leave the slice writable (billed to
                             * ZC_READWRITE in the ctx) */
};

/* zc_pool_new - create a pool of @size bytes (rounded up to pages) in a
 * sealed memfd (it can never shrink or grow, so no mapping of it raises
 * SIGBUS). Memory is taken as slices are first filled, not up front.
 * Return: 0 and *out set, or -EINVAL (size 0 or too large), -ENOMEM, or the
 * -errno of memfd_create/ftruncate/mmap. */
int zc_pool_new(zc_pool **out, size_t size);

/* zc_pool_attach - attach a pool another process created, from its fd
 * (received with SCM_RIGHTS). The fd is borrowed; the pool keeps a dup.
 * An attached pool maps the pages read-only and can only build slices
 * (zc_pool_slice_at) and send them.
 * Return: 0 and *out set; -EINVAL when @fd is not a sealed pool memfd. */
int zc_pool_attach(zc_pool **out, int fd);

/* zc_pool_free - unmap and close. Slices still queued in sockets or pipes
 * stay intact: the kernel holds their pages. NULL-safe. */
void zc_pool_free(zc_pool *p);

/* zc_pool_fd - the memfd, to pass to another process. Owned by the pool. */
int zc_pool_fd(const zc_pool *p);

/* zc_pool_size - the pool's size in bytes (a page multiple). */
size_t zc_pool_size(const zc_pool *p);

/* zc_pool_alloc - a slice of @len bytes, contiguous and page-aligned. A
 * range never used, or replaced after it was sent, reads as zeros and takes
 * fresh pages as it is written (through s->data, a page fault each, or by
 * zc_pool_write, none); a range released without having been sent by
 * reference keeps its pages and bytes.
 * Return: 0; -EINVAL (len 0 or larger than the pool); -ENOMEM when no free
 * run of pages is large enough (the pool is full: release slices); -EPERM
 * on an attached pool. */
int zc_pool_alloc(zc_pool *p, size_t len, struct zc_slice *out);

/* zc_pool_write - copy @len bytes from @buf into the slice at byte @at,
 * with pwrite(2) into the memfd: no page fault and no page table entry for
 * fresh pages, which makes it cheaper than writing through s->data where
 * page faults are dear (virtual machines), at the price of one copy. A
 * slice only ever sent by copy is written in place, by memcpy (no syscall)
 * into the pages that send mapped; the next send of its new content is by
 * copy again.
 * Return: @len; -EINVAL (outside the slice, or not a slice of this pool);
 * -EBUSY for a slice sent by reference (frozen): zc_pool_rewrite it first;
 * -ENOMEM. */
ssize_t zc_pool_write(zc_pool *p, const struct zc_slice *s, size_t at,
                      const void *buf, size_t len);

/* zc_pool_slice_at - the slice at @off, @len bytes, as another process
 * described it. Only bounds are checked.
 * Return: 0; -EINVAL when the range is not inside the pool. */
int zc_pool_slice_at(const zc_pool *p, off_t off, size_t len,
                     struct zc_slice *out);

/* zc_pool_freeze - declare a slice immutable without sending it, e.g. before
 * passing its description to another process that will send it. Sending
 * freezes implicitly. Return: 0; -EINVAL for a slice not allocated. */
int zc_pool_freeze(zc_pool *p, const struct zc_slice *s);

/* zc_pool_rewrite - make a frozen slice writable again: its range is
 * punched out of the memfd and reads as zeros, taking fresh pages as it is
 * written; the old pages stay with the queues that hold them. A slice never
 * frozen (never sent, or sent only by copy) keeps its pages and bytes; the
 * next send of either goes by copy again. Writing to a frozen slice's s->data without
 * this call changes bytes in flight: the pool cannot stop it.
 * Return: 0; -EINVAL for a slice not allocated; or fallocate's -errno. */
int zc_pool_rewrite(zc_pool *p, struct zc_slice *s);

/* zc_pool_release - give the slice back. Its pages are reused only once
 * replaced by fresh ones if it was ever frozen. *s is cleared.
 * Return: 0; -EINVAL for a slice not allocated (double release). */
int zc_pool_release(zc_pool *p, struct zc_slice *s);

/* zc_pool_send - send bytes [*pos, min(*pos + count, s->len)) of the slice
 * to @out_fd with zc_transfer()'s semantics: blocking or not as @out_fd is,
 * *pos advanced by exactly what reached @out_fd, -EAGAIN when nothing did,
 * no SIGPIPE, syscalls counted in @ctx. @method as for zc_transfer, with
 * the pool's memfd as the source: ZC_SENDFILE for sockets and ZC_SPLICE for
 * pipes pass pages by reference; a regular file always receives a copy.
 * With ZC_AUTO, ZC_SENDFILE or ZC_SPLICE, the owner's first sends of a
 * slice's content, until copy_sends times its length went (partial sends
 * count their bytes), are write(2) from the mapping instead: a copy, the
 * slice stays writable. A send by reference freezes the slice; a copy
 * (this one, a copying method, a file seen by ZC_AUTO) does not.
 * Return: bytes sent; 0 when *pos is at the end of the slice; -EINVAL for
 * a slice not allocated; or zc_transfer()'s errors. */
ssize_t zc_pool_send(zc_ctx *ctx, int out_fd, zc_pool *p,
                     const struct zc_slice *s, size_t *pos, size_t count,
                     enum zc_method method);

/* zc_pool_set_copy_sends - how many times a slice's content is sent by
 * copy before it goes by reference and freezes (1 by default: one receiver
 * never pays for fresh pages, N receivers pay one copy more than N
 * references). 0: by reference from the first send.
 * Return: 0; -EINVAL (NULL); -EPERM on an attached pool. */
int zc_pool_set_copy_sends(zc_pool *p, unsigned k);

/* zc_pool_stats - copy the pool's counters into *out. */
void zc_pool_stats(const zc_pool *p, struct zc_pool_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ZCOPY_H */
