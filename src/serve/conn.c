/* conn.c - the connection state machine.
 *
 * Sockets are registered once, edge-triggered, for EPOLLIN | EPOLLOUT |
 * EPOLLRDHUP: no epoll_ctl per request. rd_ready remembers an input edge
 * until a read comes back short, so after a response the connection reads
 * again only if bytes may be waiting; otherwise it goes back to the loop
 * without a read that would only say EAGAIN. A request for a small hot file
 * costs one recv and one sendmsg (headers + the body cached in the open-file
 * cache; a statx once a second revalidates it); a large file costs recv,
 * sendmsg(MSG_MORE) for the headers, and zc_transfer for the body. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "serve/conn.h"
#include "serve/worker.h"

#define ACCEPT_BATCH 64                  /* per wakeup: leave room for others */
#define ACCEPT_PAUSE_MS 100              /* after EMFILE, before trying again */
#define FREE_POOL_MAX 64
#define IOV_MAX_SEGS 16
/* Responses one connection may finish per turn before it yields to the
 * others: a client streaming pipelined requests would otherwise keep the
 * worker to itself for as long as it reads fast enough. */
#define PIPELINE_BATCH 32
/* Unsent bytes a socket may hold before it stops taking more (see conn_open).
 * Measured at 1 MiB: 16 and 32 KiB gave the same req/s for more server CPU,
 * 128 KiB and 256 KiB fewer req/s. */
#define NOTSENT_LOWAT (64 << 10)

static void conn_run(struct zc_conn *c);

static struct zc_conn *conn_of_timer(struct zc_timer *t)
{
    return (struct zc_conn *)((char *)t - offsetof(struct zc_conn, timer));
}

static void ready_unlink(struct zc_conn *c)
{
    if (!c->ready)
        return;
    if (c->ready_prev)
        c->ready_prev->ready_next = c->ready_next;
    else
        c->w->ready = c->ready_next;
    if (c->ready_next)
        c->ready_next->ready_prev = c->ready_prev;
    c->ready_prev = c->ready_next = NULL;
    c->ready = false;
}

static void ready_push(struct zc_conn *c)
{
    struct zc_worker *w = c->w;

    if (c->ready)
        return;
    c->ready_prev = NULL;
    c->ready_next = w->ready;
    if (w->ready)
        w->ready->ready_prev = c;
    w->ready = c;
    c->ready = true;
    w->loop.poll_only = true;
}

static void conn_close(struct zc_conn *c)
{
    struct zc_worker *w = c->w;

    ready_unlink(c);
    zc_timer_disarm(&c->timer);
    zc_upload_abort(&c->upload);        /* an unfinished body leaves nothing */
    zc_resp_release(&c->resp);
    zc_loop_del(&w->loop, &c->io);
    close(c->io.fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    if (w->nfree < FREE_POOL_MAX) {
        c->next = w->free_conns;
        w->free_conns = c;
        w->nfree++;
    } else {
        free(c->resp.xbuf);
        free(c);
    }
    /* A closed connection freed an fd: accepting may work again. */
    if (w->accept_paused)
        zc_accept_resume(w);
}

static void log_response(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    const struct zc_http_req *q = &c->req;
    struct zc_access_entry e = { .peer = &c->peer, .status = c->resp.status,
                                 .version_minor = -1 };

    if (w->log.fd < 0)
        return;
    e.body_bytes = c->resp.sent > c->resp.head_len ? c->resp.sent - c->resp.head_len : 0;
    if (c->have_req) {
        e.method = q->method_str.p;
        e.method_len = q->method_str.len;
        e.target = q->target.p;
        e.target_len = q->target.len;
        e.version_minor = q->version_minor;
        e.referer = q->referer.p;
        e.referer_len = q->referer.len;
        e.user_agent = q->user_agent.p;
        e.user_agent_len = q->user_agent.len;
    }
    zc_access_log_write(&w->log, time(NULL), &e);
}

/* --- sending ----------------------------------------------------------- */

enum send_result { SEND_DONE, SEND_AGAIN, SEND_FAILED };

static void advance_mem(struct zc_resp *r, size_t n)
{
    r->sent += n;
    while (n > 0) {
        struct zc_seg *s = &r->seg[r->cur];
        size_t take = n < s->len ? n : (size_t)s->len;

        s->p += take;
        s->len -= take;
        n -= take;
        if (s->len == 0)
            r->cur++;
    }
    while (r->cur < r->nseg && r->seg[r->cur].len == 0)
        r->cur++;
}

static enum zc_method body_method(struct zc_worker *w)
{
    if (w->cfg->method != ZC_AUTO && !w->method_warned)
        return w->cfg->method;
    return w->body_method_resolved ? w->body_method : ZC_AUTO;
}

/* Called once auto has settled on a method (see send_file_seg). When the
 * library fell back on its way there, the operator learns which method was
 * refused and why: a seccomp policy that refuses sendfile or splice costs a
 * copy per byte, and that should not go unnoticed. */
static void note_body_method(struct zc_worker *w, enum zc_method chosen)
{
    struct zc_stats st;

    if (chosen == w->body_method)
        return;                         /* said already, or nothing new */
    zc_ctx_stats(w->zc, &st);
    if (st.fallback_log_len > 0) {
        const struct zc_fallback *f = &st.fallback_log[st.fallback_log_len - 1];

        fprintf(stderr, "zcopy serve: worker %u: %s refused (%s); bodies now go by %s\n",
                w->id, zc_method_name((enum zc_method)f->from), strerror(-f->error),
                zc_method_name(chosen));
    }
}

static ssize_t send_file_seg(struct zc_conn *c, struct zc_seg *s)
{
    struct zc_worker *w = c->w;
    enum zc_method m = body_method(w);
    ssize_t n = zc_transfer(w->zc, c->io.fd, c->resp.file->fd, &s->off, s->len, m);

    if (n < 0 && m != ZC_AUTO && zc_method_refused(n)) {
        /* The method cannot serve file -> TCP socket here (resolved earlier
         * and refused now, named by --method but unsupported, like
         * copy_file_range, or refused by a seccomp policy): auto keeps the
         * server serving. Nothing was sent, so s->off is where it was. */
        if (w->cfg->method != ZC_AUTO && !w->method_warned) {
            /* Said once; from now on this worker uses auto (resolved). */
            fprintf(stderr, "zcopy serve: worker %u: method %s refused (%s); "
                    "using auto\n", w->id, zc_method_name(m), strerror((int)-n));
            w->method_warned = true;
        }
        w->body_method_resolved = false;
        m = ZC_AUTO;
        n = zc_transfer(w->zc, c->io.fd, c->resp.file->fd, &s->off, s->len, m);
    }
    /* ZC_AUTO fstat()s both fds on every call to pick a method; a worker
     * only ever moves regular files to TCP sockets, so it asks once which
     * method auto settled on and names it from then on. */
    if (n > 0 && m == ZC_AUTO && !w->body_method_resolved) {
        enum zc_method chosen;

        if (zc_method_choose(w->zc, c->io.fd, c->resp.file->fd, &chosen) == 0) {
            note_body_method(w, chosen);
            w->body_method = chosen;
            w->body_method_resolved = true;
        }
    }
    return n;
}

static enum send_result conn_send(struct zc_conn *c)
{
    struct zc_resp *r = &c->resp;

    while (r->cur < r->nseg) {
        struct zc_seg *s = &r->seg[r->cur];
        ssize_t n;

        if (s->p) {
            struct iovec iov[IOV_MAX_SEGS];
            struct msghdr msg = { .msg_iov = iov };
            unsigned i = r->cur;
            int flags = MSG_NOSIGNAL;

            for (; i < r->nseg && r->seg[i].p && msg.msg_iovlen < IOV_MAX_SEGS; i++) {
                iov[msg.msg_iovlen].iov_base = (void *)r->seg[i].p;
                iov[msg.msg_iovlen++].iov_len = (size_t)r->seg[i].len;
            }
            /* A file range follows: hold the partial segment so the
             * headers leave in the same packet as the first body bytes. */
            if (i < r->nseg)
                flags |= MSG_MORE;
            do {
                n = sendmsg(c->io.fd, &msg, flags);
            } while (n < 0 && errno == EINTR);
            if (n < 0)
                return errno == EAGAIN ? SEND_AGAIN : SEND_FAILED;
            advance_mem(r, (size_t)n);
            continue;
        }
        n = send_file_seg(c, s);
        if (n == -EAGAIN)
            return SEND_AGAIN;
        if (n <= 0) {
            /* 0: the file ended before the length we announced, so it was
             * truncated under us. The client can only learn it from the
             * connection closing early; the entry must not be reused. */
            if (n == 0)
                zc_file_cache_drop(c->w->fs.cache, r->file);
            return SEND_FAILED;
        }
        s->len -= (uint64_t)n;
        r->sent += (uint64_t)n;
        if (s->len == 0)
            r->cur++;
    }
    return SEND_DONE;
}

/* --- the state machine ------------------------------------------------- */

static void start_response(struct zc_conn *c)
{
    c->state = ZC_CONN_SEND;
    zc_timer_disarm(&c->timer);
}

static void plan_error(struct zc_conn *c, int status)
{
    c->have_req = false;
    zc_resp_error(&c->resp, c->w, status, false, false, c->wbuf);
    start_response(c);
}

/* Return: true to go on with the next request, false when c was closed. */
static bool finish_response(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    bool close_it = c->resp.close || w->stopping;

    log_response(c);
    zc_resp_release(&c->resp);
    c->have_req = false;
    if (close_it) {
        conn_close(c);
        return false;
    }
    c->rpos += c->req_len;
    c->req_len = 0;
    if (c->rpos == c->rlen)
        c->rpos = c->rlen = 0;
    c->state = ZC_CONN_READ;
    /* Idle until the next request's first byte, which starts its head
     * deadline; a pipelined partial head is already under way. */
    zc_timer_arm(&w->loop, c->rlen ? &w->head_timers : &w->idle_timers, &c->timer);
    return true;
}

/* --- uploads (--upload) ------------------------------------------------ */

/* A refused PUT's body was never read, so the connection cannot find the
 * next request: answer and close. */
static void refuse_upload(struct zc_conn *c, int status)
{
    zc_upload_abort(&c->upload);
    zc_resp_upload(&c->resp, c->w, status, &c->req, false, c->wbuf);
    start_response(c);
}

static void start_upload(struct zc_conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct zc_worker *w = c->w;
    const struct zc_http_req *q = &c->req;
    char path[ZC_HTTP_DEFAULT_MAX_TARGET + 1];
    size_t plen, avail, take;
    ssize_t n;
    int status;

    if (q->transfer_encoding.p || q->content_length < 0)
        status = 411;                   /* bodies must say their length */
    else if ((uint64_t)q->content_length > w->cfg->max_upload)
        status = 413;
    else
        status = zc_resp_request_path(q, path, sizeof(path), &plen);
    if (!status)
        status = zc_upload_begin(&c->upload, w->cfg->root_fd, path, plen,
                                 (uint64_t)q->content_length);
    if (!status)
        status = zc_upload_preconditions(&c->upload, q);
    if (status) {
        refuse_upload(c, status);
        return;
    }

    avail = c->rlen - c->rpos - c->req_len;
    if (avail == 0 && q->expect_continue && c->upload.length > 0) {
        /* The client waits for this before sending the body. A fresh
         * connection's send buffer always has room for it. */
        n = send(c->io.fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != (ssize_t)sizeof(cont) - 1) {
            refuse_upload(c, 500);
            return;
        }
    }
    /* Body bytes that arrived with the head are written from the buffer;
     * the rest is spliced from the socket. */
    take = avail < c->upload.length ? avail : (size_t)c->upload.length;
    if (take && zc_upload_write(&c->upload, c->rbuf + c->rpos + c->req_len, take)
                    != (ssize_t)take) {
        refuse_upload(c, 500);
        return;
    }
    c->req_len += take;                 /* consumed with the head */
    c->state = ZC_CONN_BODY;
    zc_timer_arm(&w->loop, &w->send_timers, &c->timer);
}

/* This worker's cached entry for the replaced path must not outlive the
 * upload; other workers notice the new inode at their next revalidation
 * (--cache-valid), as with any file changed on disk. */
static void forget_cached(struct zc_worker *w, const struct zc_http_req *q)
{
    char path[ZC_HTTP_DEFAULT_MAX_TARGET + 1];
    struct zc_file *f;
    size_t len;

    if (!w->fs.cache || zc_resp_request_path(q, path, sizeof(path), &len))
        return;
    f = zc_file_cache_get(w->fs.cache, path, len, w->loop.now_ms);
    if (f) {
        zc_file_cache_drop(w->fs.cache, f);
        zc_file_unref(f);
    }
}

/* Return: true when a response was planned, false when waiting for bytes
 * (or the connection was closed). */
static bool receive_body(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    int status;

    while (!zc_upload_complete(&c->upload)) {
        ssize_t n;

        if (!c->rd_ready)
            return false;
        n = zc_upload_receive(&c->upload, w->zc, c->io.fd);
        if (n == -EAGAIN) {
            c->rd_ready = false;
            return false;
        }
        if (n == 0 || n == -ECONNRESET) {
            /* The client went away mid-body: nothing is kept, no one to
             * answer. */
            conn_close(c);
            return false;
        }
        if (n < 0) {
            refuse_upload(c, n == -ENOSPC || n == -EDQUOT ? 507 : 500);
            return true;
        }
        /* Progress: a stalled uploader is dropped after the send timeout,
         * a slow one is not. */
        zc_timer_arm(&w->loop, &w->send_timers, &c->timer);
    }
    status = zc_upload_commit(&c->upload);
    if (status < 300)
        forget_cached(w, &c->req);
    zc_resp_upload(&c->resp, w, status, &c->req, c->req.keep_alive && !w->stopping,
                   c->wbuf);
    start_response(c);
    return true;
}

/* Return: true when a response was planned, false when more bytes are
 * needed (or the connection was closed). */
static bool read_request(struct zc_conn *c)
{
    struct zc_worker *w = c->w;

    for (;;) {
        size_t space;
        ssize_t n;

        if (c->rlen > c->rpos) {
            int ret = zc_http_parse_request(c->rbuf + c->rpos, c->rlen - c->rpos,
                                            &w->cfg->limits, &c->req);

            if (ret > 0) {
                c->req_len = (size_t)ret;
                c->have_req = true;
                if (c->req.method == ZC_HTTP_PUT && w->cfg->upload) {
                    start_upload(c);
                    return true;
                }
                /* Stopping: say so, rather than close after a keep-alive. */
                zc_resp_build(&c->resp, w, &c->req, c->req.keep_alive && !w->stopping,
                              c->wbuf);
                start_response(c);
                return true;
            }
            if (ret != ZC_HTTP_PARTIAL) {
                plan_error(c, -ret);
                return true;
            }
            if (c->rpos == 0 && c->rlen == sizeof(c->rbuf)) {
                plan_error(c, 431);
                return true;
            }
        }
        if (!c->rd_ready)
            return false;
        if (c->rpos > 0) {
            memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
            c->rlen -= c->rpos;
            c->rpos = 0;
        }
        space = sizeof(c->rbuf) - c->rlen;
        do {
            n = recv(c->io.fd, c->rbuf + c->rlen, space, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN) {
            c->rd_ready = false;
            return false;
        }
        if (n <= 0) {
            conn_close(c);              /* peer closed or reset */
            return false;
        }
        /* The head deadline counts from a request's first byte (from accept
         * for a connection's first request) and is not extended by later
         * ones: a slow drip cannot keep a worker busy. */
        if (c->rlen == 0 && c->timer.list != &w->head_timers)
            zc_timer_arm(&w->loop, &w->head_timers, &c->timer);
        c->rlen += (size_t)n;
        /* A short read drained the socket, unless the FIN came with the
         * data: its edge is spent, so the 0 must still be read after the
         * response, or the connection would idle until its timeout. */
        if ((size_t)n < space && !c->rd_hup)
            c->rd_ready = false;
    }
}

static void conn_run(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    unsigned finished = 0;

    ready_unlink(c);
    for (;;) {
        if (c->state == ZC_CONN_READ) {
            if (finished == PIPELINE_BATCH) {
                ready_push(c);          /* the rest after the others' turn */
                return;
            }
            if (!read_request(c))
                return;                 /* waiting for bytes, or closed */
            continue;
        }
        if (c->state == ZC_CONN_BODY) {
            if (!receive_body(c))
                return;
            continue;
        }
        switch (conn_send(c)) {
        case SEND_AGAIN:
            /* Re-armed on each wakeup with progress: a stalled reader is
             * dropped after the send timeout, a slow one is not. */
            zc_timer_arm(&w->loop, &w->send_timers, &c->timer);
            return;
        case SEND_FAILED:
            log_response(c);
            conn_close(c);
            return;
        case SEND_DONE:
            if (!finish_response(c))
                return;
            finished++;
            break;
        }
    }
}

/* EPOLLERR also signals a MSG_ZEROCOPY completion waiting on the error
 * queue (--method msg_zerocopy), which the library reaps during the next
 * transfer: only a pending socket error means the connection is dead. */
static bool socket_failed(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0;
}

static void on_conn_event(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    struct zc_conn *c = (struct zc_conn *)io;

    (void)loop;
    if ((events & EPOLLERR) && socket_failed(c->io.fd)) {
        if (c->state == ZC_CONN_SEND)
            log_response(c);
        conn_close(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
        c->rd_ready = true;
    if (events & (EPOLLRDHUP | EPOLLHUP))
        c->rd_hup = true;
    if (c->state == ZC_CONN_SEND && !(events & (EPOLLOUT | EPOLLHUP)))
        return;                         /* input edge only: remembered */
    conn_run(c);
}

/* --- timers ------------------------------------------------------------ */

void zc_conn_on_head_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    struct zc_conn *c = conn_of_timer(t);

    (void)loop;
    plan_error(c, 408);
    conn_run(c);
}

void zc_conn_on_idle_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    (void)loop;
    conn_close(conn_of_timer(t));
}

void zc_conn_on_send_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    struct zc_conn *c = conn_of_timer(t);

    (void)loop;
    log_response(c);
    conn_close(c);
}

/* --- accepting --------------------------------------------------------- */

static void refuse_busy(int fd)
{
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";

    /* Best effort: a fresh socket's buffer always takes this much. */
    (void)!send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(fd);
}

static void accept_pause(struct zc_worker *w)
{
    for (unsigned i = 0; i < w->nlisteners; i++)
        zc_loop_mod(&w->loop, &w->listeners[i].io, 0);
    w->accept_paused = true;
    w->accept_resume_ms = w->loop.now_ms + ACCEPT_PAUSE_MS;
}

void zc_accept_resume(struct zc_worker *w)
{
    if (!w->accept_paused || w->stopping)
        return;
    for (unsigned i = 0; i < w->nlisteners; i++)
        zc_loop_mod(&w->loop, &w->listeners[i].io, EPOLLIN);
    w->accept_paused = false;
}

static void conn_open(struct zc_worker *w, int fd, const struct sockaddr_storage *peer)
{
    struct zc_conn *c = w->free_conns;
    int one = 1, lowat = NOTSENT_LOWAT;

    if (c) {
        w->free_conns = c->next;
        w->nfree--;
    } else if ((c = malloc(sizeof(*c)))) {
        c->resp.xbuf = NULL;
    } else {
        close(fd);
        return;
    }
    c->io = (struct zc_io){ .fd = fd, .on_event = on_conn_event };
    c->w = w;
    c->timer = (struct zc_timer){ 0 };
    c->peer = *peer;
    c->state = ZC_CONN_READ;
    /* The request is often already there (the client sends it right after
     * the handshake): try to read before waiting for an edge. */
    c->rd_ready = true;
    c->rd_hup = false;
    c->ready = false;
    c->ready_prev = c->ready_next = NULL;
    c->have_req = false;
    zc_upload_init(&c->upload);
    c->rpos = c->rlen = c->req_len = 0;
    {
        char *xbuf = c->resp.xbuf;      /* a recycled struct keeps its buffer */

        memset(&c->resp, 0, sizeof(c->resp));
        c->resp.xbuf = xbuf;
    }
    /* MSG_MORE already coalesces headers with the body; without Nagle the
     * last partial segment of each response leaves at once. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Queue at most NOTSENT_LOWAT bytes the peer's window cannot take yet,
     * and be woken to send more when they drain. Without it one sendfile
     * parks a whole 1 MiB body in the socket, and it is the reader's window
     * updates that push it out: on loopback the client's thread pays for
     * our transmissions (its softirq runs them). With it the worker sends
     * from its own thread, on the other core: +13-42% req/s at 1 MiB and
     * +42-57% at 256 MiB under wrk, with less CPU per GB for client and
     * server together (docs/BENCHMARKS.md). Also bounds the kernel memory
     * a slow client pins. */
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
    if (zc_loop_add(&w->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        close(fd);
        free(c->resp.xbuf);
        free(c);
        return;
    }
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    zc_timer_arm(&w->loop, &w->head_timers, &c->timer);
    conn_run(c);
}

void zc_listener_on_event(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    struct zc_listener *l = (struct zc_listener *)io;
    struct zc_worker *w = l->w;

    (void)loop;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH && !w->accept_paused && !w->stopping; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* Out of fds: stop watching the listener for a while
                 * instead of spinning on an always-readable socket. */
                accept_pause(w);
                return;
            }
            if (errno == EAGAIN)
                return;
            continue;                   /* ECONNABORTED, EINTR, EPROTO... */
        }
        if (w->nconns >= w->max_conns) {
            refuse_busy(fd);
            continue;
        }
        conn_open(w, fd, &peer);
    }
}

void zc_conns_run_ready(struct zc_worker *w)
{
    struct zc_conn *list = w->ready, *c;

    /* Take the whole list: connections that yield again while it is being
     * served wait for the next turn, after epoll had its say. */
    w->ready = NULL;
    w->loop.poll_only = false;
    for (c = list; c; c = list) {
        list = c->ready_next;
        if (list)
            list->ready_prev = NULL;
        c->ready = false;
        c->ready_prev = c->ready_next = NULL;
        conn_run(c);
    }
}

/* --- stopping ---------------------------------------------------------- */

void zc_conns_begin_stop(struct zc_worker *w)
{
    struct zc_conn *c = w->conns, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->state == ZC_CONN_READ && c->rlen == c->rpos)
            conn_close(c);
    }
}

void zc_conns_close_all(struct zc_worker *w)
{
    while (w->conns) {
        if (w->conns->state == ZC_CONN_SEND)
            log_response(w->conns);
        conn_close(w->conns);
    }
}

void zc_conns_free_pool(struct zc_worker *w)
{
    while (w->free_conns) {
        struct zc_conn *c = w->free_conns;

        w->free_conns = c->next;
        free(c->resp.xbuf);
        free(c);
    }
    w->nfree = 0;
}
