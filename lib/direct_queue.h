/* direct_queue.h - the read side of the direct method: a FIFO of aligned
 * O_DIRECT reads into a pool of buffers owned by the ctx, kept in flight by
 * io_uring (fixed buffers where the kernel lets us register them), or done
 * one at a time with pread where io_uring is refused. Not installed. */
#ifndef ZC_DIRECT_QUEUE_H
#define ZC_DIRECT_QUEUE_H

#include "internal.h"


/* One read: buf[0] holds the byte at file offset base. */
struct zc_dq_slot {
    off_t base;
    size_t len;         /* bytes asked (a multiple of the alignment) */
    ssize_t res;        /* bytes read or -errno, once done */
    bool done;
    unsigned gen;       /* the call that issued it (zc_dq.gen then) */
    char *buf;
};

struct zc_dq;

/* The ctx's queue, (re)built for the ctx's depth and buffer size, buffers
 * aligned to @mem_align and a multiple of @align long. A queue built with
 * other settings is emptied first (waiting for its reads).
 * Return: 0, -EINVAL (alignment above a page), -ENOMEM. */
int zc__dq_get(zc_ctx *ctx, size_t mem_align, size_t align, struct zc_dq **out);

/* Starts a new zc_transfer call: slots issued from now on carry a new gen. */
void zc__dq_begin(struct zc_dq *q);
unsigned zc__dq_gen(const struct zc_dq *q);
/* true when the reads go through io_uring. */
bool zc__dq_async(const struct zc_dq *q);
size_t zc__dq_buf_size(const struct zc_dq *q);
/* Slots that may be queued now: 0..depth (1 at most without io_uring). */
unsigned zc__dq_room(const struct zc_dq *q);
/* The oldest slot, or NULL; the newest, or NULL. */
struct zc_dq_slot *zc__dq_head(struct zc_dq *q);
struct zc_dq_slot *zc__dq_tail(struct zc_dq *q);
/* The identity of the file the held slots belong to. */
void zc__dq_owner(const struct zc_dq *q, uint64_t *dev, uint64_t *ino);
void zc__dq_set_owner(struct zc_dq *q, uint64_t dev, uint64_t ino);

/* Queue a read of @len bytes at @base from @fd (zc__dq_room() > 0). With
 * io_uring it is submitted by the next zc__dq_wait_head() (call it before
 * @fd is closed); without, the pread happens here. Its result, bytes or
 * -errno, lands in the slot's res. */
void zc__dq_push(zc_ctx *ctx, struct zc_dq *q, int fd, off_t base, size_t len);

/* Submit what was queued and wait until the head slot is done: one
 * io_uring_enter per wake-up, none when it is done already and nothing is
 * queued. Return: 0, or -errno of io_uring_enter (the queue is then reset). */
int zc__dq_wait_head(zc_ctx *ctx, struct zc_dq *q);

/* Release the head slot (done). */
void zc__dq_pop(struct zc_dq *q);

/* Drop every slot, after waiting for the reads still in flight (their
 * buffers are the kernel's until they complete). */
void zc__dq_reset(zc_ctx *ctx, struct zc_dq *q);

#endif /* ZC_DIRECT_QUEUE_H */
