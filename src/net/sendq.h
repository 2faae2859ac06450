/* sendq.h - a connection's output: a queue of parts sent in order on a
 * non-blocking socket, each part either a memory buffer or a file range
 * {fd, offset, length}. An HTTP response is a header buffer and a file
 * range (multipart ranges: part headers between ranges); a Kafka fetch
 * response is framing buffers interleaved with log-segment ranges. Both
 * are just queues of parts.
 *
 * zc_sendq_flush() sends as much as the socket takes: runs of memory parts
 * with one sendmsg (MSG_MORE while more parts follow, so headers leave in
 * the same segment as the first body bytes), file ranges with zc_transfer
 * through the worker's zc_xmit. On -EAGAIN it returns with the queue
 * positioned at exactly the next unsent byte; call it again when the
 * socket is writable (ZC_EV_WRITE).
 *
 * A part may carry a release callback for its owner (e.g. drop a log
 * segment reference once its bytes left): it is called exactly once, with
 * sent = true when the part's last byte was handed to the socket, or with
 * sent = false when the queue is cleared before that (connection closed,
 * error). Memory parts are borrowed: they must stay valid until released
 * (or until the queue is empty or cleared when they have no callback). File
 * descriptors are borrowed the same way.
 *
 * The first ZC_SENDQ_INLINE parts live inside the queue (an HTTP response
 * needs 2-3: no allocation, and the parts share the connection's cache
 * lines); beyond that the array grows on the heap and is kept across
 * responses. A queue points into itself: embed it, never copy it. Not
 * thread-safe: one loop thread. */
#ifndef ZC_NET_SENDQ_H
#define ZC_NET_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zcopy.h"

/* Called once per part that had one: @sent says whether all its bytes left. */
typedef void zc_part_release_fn(void *arg, bool sent);

struct zc_part {
    const char *p;                  /* memory part; NULL: a file range */
    int fd;                         /* file range: source fd (borrowed) */
    off_t off;                      /* file range: next offset to send */
    uint64_t len;                   /* bytes of this part not yet sent */
    bool started;                   /* file range: had its first turn */
    zc_part_release_fn *release;    /* optional */
    void *release_arg;
};

/* How file ranges are sent, shared by a worker's connections: the worker's
 * zc_ctx and the method policy. With ZC_AUTO the method auto settles on for
 * the first file -> socket transfer is remembered (auto fstat()s both fds on
 * every call; a worker only moves regular files to TCP sockets). A named
 * method that refuses the pair (zc_transfer's "cannot serve") is reported
 * once on stderr, prefixed by @who and the worker's id, and auto is used from
 * then on; when auto itself settles on a method only after the library fell
 * back (a seccomp policy refusing sendfile costs a copy per byte), which
 * method was refused and why is reported too. */
struct zc_xmit {
    zc_ctx *zc;                     /* borrowed, the worker's */
    enum zc_method method;          /* configured */
    enum zc_method resolved;        /* auto's choice, once known */
    bool is_resolved;
    bool warned;                    /* named method refused: said so */
    const char *who;                /* "zcopy serve": message prefix */
    unsigned id;                    /* the worker's, for messages */
    uint64_t chunk;                 /* file bytes per flush; 0: no limit */
};

/* zc_xmit_init - @zc borrowed; @method as configured (ZC_AUTO by default);
 * @who and @id name the worker in messages. */
void zc_xmit_init(struct zc_xmit *x, zc_ctx *zc, enum zc_method method,
                  const char *who, unsigned id);

/* zc_xmit_file - send up to @len bytes of @in_fd at *@off to socket
 * @out_fd with the policy above; *@off advances by what was sent.
 * Return: bytes (> 0), 0 when the file ended early (it shrank under us),
 * -EAGAIN when the socket is full, or -errno. */
ssize_t zc_xmit_file(struct zc_xmit *x, int out_fd, int in_fd, off_t *off,
                     uint64_t len);

#define ZC_SENDQ_INLINE 4

/* A file range's first turn may send this much even when the chunk is
 * smaller: a body that fits goes in one call, the chunk paces long ones. */
#define ZC_SENDQ_FIRST_TURN ((uint64_t)2 << 20)

struct zc_sendq {
    struct zc_part *parts;          /* [head, tail) are queued */
    unsigned head, tail, cap;
    uint64_t sent;                  /* bytes sent since the last reset */
    struct zc_part inline_parts[ZC_SENDQ_INLINE];
};

/* zc_sendq_init - an empty queue (no allocation until more than
 * ZC_SENDQ_INLINE parts are queued at once). */
void zc_sendq_init(struct zc_sendq *q);

/* zc_sendq_push_mem / _push_file - append a part. Zero-length parts are
 * accepted (their release runs as soon as the flush reaches them).
 * Return: 0, or -ENOMEM (the part was not queued and @release was not
 * called: the caller still owns what it references). */
int zc_sendq_push_mem(struct zc_sendq *q, const void *p, size_t len,
                      zc_part_release_fn *release, void *arg);
int zc_sendq_push_file(struct zc_sendq *q, int fd, off_t off, uint64_t len,
                       zc_part_release_fn *release, void *arg);

/* zc_sendq_empty - nothing left to send. */
static inline bool zc_sendq_empty(const struct zc_sendq *q)
{
    return q->head == q->tail;
}

/* zc_sendq_flush - send queued parts in order to socket @fd until the queue
 * is empty, the socket is full, or @x->chunk file bytes went out in this
 * call. Parts are released (sent = true) as they complete. Return: 0 when
 * everything was sent, 1 when the chunk was used up with more to send (the
 * socket may still take more: call again once the worker's other
 * connections had their turn), -EAGAIN when the socket is full (wait for
 * ZC_EV_WRITE, then call again), -ENODATA when a file ended before its
 * range did (it was truncated), or another -errno (the connection is
 * broken; clear the queue). */
int zc_sendq_flush(struct zc_sendq *q, int fd, struct zc_xmit *x);

/* zc_sendq_clear - release the parts not yet sent (sent = false), empty
 * the queue and zero q->sent. Keeps the array for reuse. */
void zc_sendq_clear(struct zc_sendq *q);

/* zc_sendq_free - clear, then free a grown array (the queue is back to
 * its inline parts and may be used again). */
void zc_sendq_free(struct zc_sendq *q);

#endif /* ZC_NET_SENDQ_H */
