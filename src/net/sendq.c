/* sendq.c - a connection's queue of memory and file parts (see sendq.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "net/sendq.h"

#define IOV_MAX_PARTS 16                 /* memory parts per sendmsg */

void zc_xmit_init(struct zc_xmit *x, zc_ctx *zc, enum zc_method method,
                  const char *who, unsigned id)
{
    *x = (struct zc_xmit){ .zc = zc, .method = method, .resolved = ZC_AUTO,
                           .who = who ? who : "zcopy", .id = id };
}

static enum zc_method xmit_method(const struct zc_xmit *x)
{
    if (x->method != ZC_AUTO && !x->warned)
        return x->method;
    return x->is_resolved ? x->resolved : ZC_AUTO;
}

/* Called once auto has settled on a method. When the library fell back on
 * its way there, the operator learns which method was refused and why: a
 * seccomp policy that refuses sendfile or splice costs a copy per byte, and
 * that should not go unnoticed. */
static void note_method(struct zc_xmit *x, enum zc_method chosen)
{
    struct zc_stats st;

    if (chosen == x->resolved)
        return;                         /* said already, or nothing new */
    zc_ctx_stats(x->zc, &st);
    if (st.fallback_log_len > 0) {
        const struct zc_fallback *f = &st.fallback_log[st.fallback_log_len - 1];

        fprintf(stderr, "%s: worker %u: %s refused (%s); bodies now go by %s\n",
                x->who, x->id, zc_method_name((enum zc_method)f->from),
                strerror(-f->error), zc_method_name(chosen));
    }
}

ssize_t zc_xmit_file(struct zc_xmit *x, int out_fd, int in_fd, off_t *off,
                     uint64_t len)
{
    enum zc_method m = xmit_method(x);
    size_t count = len > SIZE_MAX ? SIZE_MAX : (size_t)len;
    ssize_t n = zc_transfer(x->zc, out_fd, in_fd, off, count, m);

    if (n < 0 && m != ZC_AUTO && zc_method_refused(n)) {
        /* The method cannot serve file -> socket here (resolved earlier and
         * refused now, named but unsupported, like copy_file_range, or
         * refused by a seccomp policy): auto keeps the server serving.
         * Nothing was sent, so *off is where it was. */
        if (x->method != ZC_AUTO && !x->warned) {
            /* Said once; from now on this worker uses auto (resolved). */
            fprintf(stderr, "%s: worker %u: method %s refused (%s); using auto\n",
                    x->who, x->id, zc_method_name(m), strerror((int)-n));
            x->warned = true;
        }
        x->is_resolved = false;
        m = ZC_AUTO;
        n = zc_transfer(x->zc, out_fd, in_fd, off, count, m);
    }
    /* ZC_AUTO fstat()s both fds on every call to pick a method; a worker
     * only moves regular files to TCP sockets, so ask once which method
     * auto settled on and name it from then on. */
    if (n > 0 && m == ZC_AUTO && !x->is_resolved) {
        enum zc_method chosen;

        if (zc_method_choose(x->zc, out_fd, in_fd, &chosen) == 0) {
            note_method(x, chosen);
            x->resolved = chosen;
            x->is_resolved = true;
        }
    }
    return n;
}

void zc_sendq_init(struct zc_sendq *q)
{
    q->parts = q->inline_parts;
    q->cap = ZC_SENDQ_INLINE;
    q->head = q->tail = 0;
    q->sent = 0;
}

static int push(struct zc_sendq *q, const struct zc_part *part)
{
    if (q->tail == q->cap) {
        if (q->head > 0) {
            /* Reuse the room of parts already sent. */
            memmove(q->parts, q->parts + q->head,
                    (q->tail - q->head) * sizeof(q->parts[0]));
            q->tail -= q->head;
            q->head = 0;
        } else {
            unsigned cap = q->cap * 2;
            bool inl = q->parts == q->inline_parts;
            struct zc_part *p = realloc(inl ? NULL : q->parts, cap * sizeof(*p));

            if (!p)
                return -ENOMEM;
            if (inl)
                memcpy(p, q->inline_parts, sizeof(q->inline_parts));
            q->parts = p;
            q->cap = cap;
        }
    }
    q->parts[q->tail++] = *part;
    return 0;
}

int zc_sendq_push_mem(struct zc_sendq *q, const void *p, size_t len,
                      zc_part_release_fn *release, void *arg)
{
    /* A memory part is told from a file range by p != NULL. */
    static const char none[1];

    return push(q, &(struct zc_part){ .p = p ? p : none, .fd = -1, .len = len,
                                      .release = release, .release_arg = arg });
}

int zc_sendq_push_file(struct zc_sendq *q, int fd, off_t off, uint64_t len,
                       zc_part_release_fn *release, void *arg)
{
    return push(q, &(struct zc_part){ .fd = fd, .off = off, .len = len,
                                      .release = release, .release_arg = arg });
}

/* The head part is done: drop it, then tell its owner. The callback runs
 * last so it may push (the array may move). */
static void complete_head(struct zc_sendq *q, bool sent)
{
    struct zc_part *pt = &q->parts[q->head++];
    zc_part_release_fn *release = pt->release;
    void *arg = pt->release_arg;

    if (release)
        release(arg, sent);
}

static int send_mem_run(struct zc_sendq *q, int fd)
{
    struct iovec iov[IOV_MAX_PARTS];
    struct msghdr msg = { .msg_iov = iov };
    unsigned i = q->head;
    int flags = MSG_NOSIGNAL;
    ssize_t n;
    size_t left;

    for (; i < q->tail && q->parts[i].p && msg.msg_iovlen < IOV_MAX_PARTS; i++) {
        iov[msg.msg_iovlen].iov_base = (void *)q->parts[i].p;
        iov[msg.msg_iovlen++].iov_len = (size_t)q->parts[i].len;
    }
    /* More parts follow: hold the partial segment so that headers leave in
     * the same packet as the first body bytes. */
    if (i < q->tail)
        flags |= MSG_MORE;
    do {
        n = sendmsg(fd, &msg, flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    q->sent += (uint64_t)n;
    for (left = (size_t)n; q->head < q->tail && q->parts[q->head].p; ) {
        struct zc_part *pt = &q->parts[q->head];
        size_t take = left < pt->len ? left : (size_t)pt->len;

        pt->p += take;
        pt->len -= take;
        left -= take;
        if (pt->len)
            break;                      /* resume inside this part */
        complete_head(q, true);
    }
    return 0;
}

int zc_sendq_flush(struct zc_sendq *q, int fd, struct zc_xmit *x)
{
    uint64_t budget = x->chunk ? x->chunk : UINT64_MAX;

    while (q->head < q->tail) {
        struct zc_part *pt = &q->parts[q->head];
        ssize_t n;
        int ret;

        if (pt->len == 0) {
            complete_head(q, true);
            continue;
        }
        if (pt->p) {
            ret = send_mem_run(q, fd);
            if (ret < 0)
                return ret;
            continue;
        }
        if (budget == 0)
            return 1;
        /* The larger first turn once per flush: a response of many short
         * ranges must not get it for each. */
        if (!pt->started && budget == x->chunk && budget < ZC_SENDQ_FIRST_TURN)
            budget = ZC_SENDQ_FIRST_TURN;
        pt->started = true;
        n = zc_xmit_file(x, fd, pt->fd, &pt->off, pt->len < budget ? pt->len : budget);
        if (n < 0)
            return (int)n;
        /* 0: the file ended before the range did, so it was truncated
         * under us; the peer can only learn it from the connection closing
         * early. */
        if (n == 0)
            return -ENODATA;
        pt->len -= (uint64_t)n;
        q->sent += (uint64_t)n;
        budget -= (uint64_t)n;
        if (pt->len == 0)
            complete_head(q, true);
    }
    q->head = q->tail = 0;
    return 0;
}

void zc_sendq_clear(struct zc_sendq *q)
{
    while (q->head < q->tail)
        complete_head(q, false);
    q->head = q->tail = 0;
    q->sent = 0;
}

void zc_sendq_free(struct zc_sendq *q)
{
    zc_sendq_clear(q);
    if (q->parts != q->inline_parts)
        free(q->parts);
    zc_sendq_init(q);
}
